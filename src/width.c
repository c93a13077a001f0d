/*
 * Terminal display width of UTF-8 strings, independent of the locale so
 * that tables line up the same for every user: East Asian wide and
 * fullwidth characters take two cells, combining marks none. Malformed
 * bytes count as one cell each.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "compat.h"
#include "width.h"
#include "xmalloc.h"

static const struct {
	uint32_t	lo, hi;
} width_wide[] = {
	{ 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff },
	{ 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
	{ 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe30, 0xfe4f },
	{ 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f },
	{ 0x1f900, 0x1f9ff }, { 0x20000, 0x3fffd },
};

static const struct {
	uint32_t	lo, hi;
} width_zero[] = {
	{ 0x0300, 0x036f }, { 0x200b, 0x200f }, { 0x20d0, 0x20ff },
	{ 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f },
};

/* Decode one code point; returns bytes used (1 for a malformed byte). */
static size_t
width_decode(const unsigned char *s, uint32_t *cp)
{
	size_t	n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = s[0] & 0x07;
	} else {
		*cp = 0xfffd;
		return (1);
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return (1);
		}
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return (n);
}

static int
width_cp(uint32_t cp)
{
	size_t	i;

	if (cp < 0x20 || cp == 0x7f)
		return (0);
	for (i = 0; i < nitems(width_zero); i++)
		if (cp >= width_zero[i].lo && cp <= width_zero[i].hi)
			return (0);
	for (i = 0; i < nitems(width_wide); i++)
		if (cp >= width_wide[i].lo && cp <= width_wide[i].hi)
			return (2);
	return (1);
}

size_t
width_utf8(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 w = 0;

	while (*p != '\0') {
		p += width_decode(p, &cp);
		w += width_cp(cp);
	}
	return (w);
}

/* A copy that fits in max cells, ending in "…" when cut. */
char *
width_fit(const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 w = 0, n, cw;
	char			*out;

	if (width_utf8(s) <= max)
		return (xstrdup(s));
	if (max == 0)
		return (xstrdup(""));
	while (*p != '\0') {
		n = width_decode(p, &cp);
		cw = width_cp(cp);
		if (w + cw + 1 > max)
			break;
		w += cw;
		p += n;
	}
	n = p - (const unsigned char *)s;
	out = xmalloc(n + sizeof "…");
	memcpy(out, s, n);
	memcpy(out + n, "…", sizeof "…");
	return (out);
}

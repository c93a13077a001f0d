/*
 * The screen: curses set-up, the colour scheme (256 colours, 16, or none
 * under NO_COLOR), line drawing in Unicode or, for terminals that draw
 * box characters badly, ASCII (METAPI_TUI_ASCII=1, or a locale that is
 * not UTF-8), and text put by display width so CJK lines up and never
 * spills past its cell. Everything the TUI draws goes through here.
 */
#include "config.h"

#include <langinfo.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NCURSES_WIDECHAR	1
#include <curses.h>
#include <jansson.h>

#include "compat.h"
#include "tui.h"
#include "width.h"
#include "xmalloc.h"

static int	scr_has_color;
static int	scr_is_ascii;

/* Foreground and background per role, for 256 and for 8/16 colours. */
static const struct {
	short	fg256, bg256;
	short	fg8, bg8;
	int	mono;		/* attributes without colour */
} scr_scheme[SCR_COUNT] = {
	[SCR_NORMAL] = { -1, -1, -1, -1, A_NORMAL },
	[SCR_TITLE] = { 75, -1, COLOR_CYAN, -1, A_BOLD },
	[SCR_SELECTED] = { 231, 25, COLOR_WHITE, COLOR_BLUE, A_REVERSE },
	[SCR_TAB] = { 250, 236, COLOR_WHITE, COLOR_BLACK, A_NORMAL },
	[SCR_TAB_ON] = { 16, 75, COLOR_BLACK, COLOR_CYAN, A_REVERSE | A_BOLD },
	[SCR_DIM] = { 244, -1, COLOR_WHITE, -1, A_DIM },
	[SCR_OK] = { 114, -1, COLOR_GREEN, -1, A_NORMAL },
	[SCR_WARN] = { 214, -1, COLOR_YELLOW, -1, A_BOLD },
	[SCR_ERR] = { 203, -1, COLOR_RED, -1, A_BOLD },
	[SCR_BAR] = { 75, -1, COLOR_CYAN, -1, A_NORMAL },
	[SCR_KEY] = { 16, 250, COLOR_BLACK, COLOR_WHITE, A_REVERSE },
};

void
scr_start(void)
{
	const char	*e = getenv("METAPI_TUI_ASCII");
	int		 i, c256;

	scr_is_ascii = (e != NULL && *e != '\0' && strcmp(e, "0") != 0) ||
	    strcmp(nl_langinfo(CODESET), "UTF-8") != 0;
	/*
	 * The terminal's size, also after a resize: not a COLUMNS or LINES
	 * a shell or script left in the environment, which curses prefers.
	 */
	unsetenv("COLUMNS");
	unsetenv("LINES");
	initscr();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	e = getenv("NO_COLOR");
	scr_has_color = has_colors() && (e == NULL || *e == '\0');
	if (!scr_has_color)
		return;
	start_color();
	use_default_colors();
	c256 = COLORS >= 256;
	for (i = 1; i < SCR_COUNT; i++)
		init_pair(i, c256 ? scr_scheme[i].fg256 : scr_scheme[i].fg8,
		    c256 ? scr_scheme[i].bg256 : scr_scheme[i].bg8);
}

void
scr_stop(void)
{
	endwin();
}

int
scr_ascii(void)
{
	return (scr_is_ascii);
}

int
scr_attr(enum scr_color c)
{
	if ((unsigned)c >= SCR_COUNT)
		c = SCR_NORMAL;
	if (!scr_has_color)
		return (scr_scheme[c].mono);
	return (c == SCR_NORMAL ? A_NORMAL : (int)COLOR_PAIR(c) |
	    (c == SCR_TAB_ON || c == SCR_TITLE ? A_BOLD : 0));
}

/*
 * The column after the last one text may use on line y. The bottom
 * right cell stays empty: writing there makes many terminals (tmux's
 * "screen" among them) scroll the whole screen up a line.
 */
static int
scr_right(int y)
{
	return (y == LINES - 1 ? COLS - 1 : COLS);
}

/*
 * ASCII mode: every character outside ASCII becomes one "?" (a cut's
 * ellipsis a "~"), in place, so that one byte is one cell. Wide
 * characters shrink, so the text still fits where it was fitted.
 */
static void
scr_asciify(char *s)
{
	unsigned char	*r = (unsigned char *)s, *w = r;

	while (*r != '\0') {
		if (*r < 0x80) {
			*w++ = *r++;
			continue;
		}
		*w++ = r[0] == 0xe2 && r[1] == 0x80 && r[2] == 0xa6 ? '~' : '?';
		r++;
		while ((*r & 0xc0) == 0x80)
			r++;
	}
	*w = '\0';
}

/*
 * Put text at y, x in at most w cells; control characters become spaces
 * so that nothing a site sent can move the cursor. Returns the cells
 * used.
 */
int
scr_put(int y, int x, int w, enum scr_color c, const char *text)
{
	char	*s, *p;
	int	 used;

	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return (0);
	if (x + w > scr_right(y))
		w = scr_right(y) - x;
	if (w <= 0)
		return (0);
	s = width_fit(text != NULL ? text : "", (size_t)w);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (scr_is_ascii)
		scr_asciify(s);
	used = (int)width_utf8(s);
	attrset(scr_attr(c));
	mvaddstr(y, x, s);
	attrset(A_NORMAL);
	free(s);
	return (used);
}

int
scr_putf(int y, int x, int w, enum scr_color c, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	n = scr_put(y, x, w, c, s);
	free(s);
	return (n);
}

void
scr_fill(int y, int x, int w, enum scr_color c)
{
	if (y < 0 || y >= LINES || w <= 0)
		return;
	if (x + w > scr_right(y))
		w = scr_right(y) - x;
	if (w <= 0)
		return;
	attrset(scr_attr(c));
	mvhline(y, x, ' ', w);
	attrset(A_NORMAL);
}

/* A horizontal bar of w cells, frac of it filled. */
void
scr_bar(int y, int x, int w, double frac, enum scr_color c)
{
	int	i, n;

	if (w <= 0 || y < 0 || y >= LINES)
		return;
	if (frac < 0 || frac != frac)
		frac = 0;
	if (frac > 1)
		frac = 1;
	n = (int)(frac * w + 0.5);
	if (frac > 0 && n == 0)
		n = 1;
	move(y, x);
	for (i = 0; i < w && x + i < COLS; i++) {
		if (i < n) {
			attrset(scr_attr(c));
			addstr(scr_is_ascii ? "#" : "\u2588");
		} else {
			attrset(scr_attr(SCR_DIM));
			addstr(scr_is_ascii ? "." : "\u00b7");
		}
	}
	attrset(A_NORMAL);
}

void
scr_hline(int y, int x, int w)
{
	int	i;

	if (y < 0 || y >= LINES)
		return;
	attrset(scr_attr(SCR_DIM));
	move(y, x);
	for (i = 0; i < w && x + i < COLS; i++)
		addstr(scr_is_ascii ? "-" : "\u2500");
	attrset(A_NORMAL);
}

/* A frame around h x w cells at y, x with a title in its top line. */
void
scr_box(int y, int x, int h, int w, const char *title)
{
	const char	*tl = "\u250c", *tr = "\u2510", *bl = "\u2514",
			*br = "\u2518", *v = "\u2502";
	int		 i;

	if (h < 2 || w < 2)
		return;
	if (scr_is_ascii)
		tl = tr = bl = br = "+", v = "|";
	for (i = 0; i < h; i++)
		scr_fill(y + i, x, w, SCR_NORMAL);
	attrset(scr_attr(SCR_DIM));
	mvaddstr(y, x, tl);
	mvaddstr(y + h - 1, x, bl);
	for (i = 1; i < h - 1; i++) {
		mvaddstr(y + i, x, v);
		mvaddstr(y + i, x + w - 1, v);
	}
	attrset(A_NORMAL);
	scr_hline(y, x + 1, w - 2);
	scr_hline(y + h - 1, x + 1, w - 2);
	attrset(scr_attr(SCR_DIM));
	mvaddstr(y, x + w - 1, tr);
	mvaddstr(y + h - 1, x + w - 1, br);
	attrset(A_NORMAL);
	if (title != NULL && *title != '\0') {
		scr_put(y, x + 2, 1, SCR_DIM, " ");
		scr_put(y, x + 3, w - 6, SCR_TITLE, title);
		scr_put(y, x + 3 + (int)width_utf8(title) < x + w - 3 ?
		    x + 3 + (int)width_utf8(title) : x + w - 3, 1, SCR_DIM,
		    " ");
	}
}

/*
 * The next key without waiting: 0 when none. Characters come as their
 * code points, curses' function keys as SCR_FKEY(code).
 */
int
scr_getkey(int *key)
{
	wint_t	wc;
	int	rc;

	rc = get_wch(&wc);
	if (rc == ERR)
		return (0);
	*key = rc == KEY_CODE_YES ? SCR_FKEY((int)wc) : (int)wc;
	return (1);
}

/*
 * A unified diff (diff -u style, three lines of context) of two texts, so
 * a command that edits a user's file can show the change before making
 * it. Pure: texts in, text out. The common head and tail are cut first;
 * what is left (small for a config edit) gets a longest-common-subsequence
 * table, and a middle too large for one is shown as removed then added.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "linediff.h"
#include "xmalloc.h"

#define LINEDIFF_CONTEXT	3
#define LINEDIFF_MAX_CELLS	(4 * 1024 * 1024)	/* LCS table entries */
#define LINEDIFF_MAX_OUT	(64 * 1024 * 1024)

struct linediff_line {
	const char	*p;
	size_t		 len;		/* with its newline, if it has one */
};

struct linediff_op {
	char		 op;		/* ' ', '-' or '+' */
	size_t		 a;		/* line index in the old text */
	size_t		 b;		/* line index in the new text */
};

static struct linediff_line *
linediff_split(const char *s, size_t *n)
{
	struct linediff_line	*v = NULL;
	const char		*nl;
	size_t			 cap = 0;

	*n = 0;
	while (*s != '\0') {
		if (*n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof *v);
		}
		nl = strchr(s, '\n');
		v[*n].p = s;
		v[*n].len = nl != NULL ? (size_t)(nl - s) + 1 : strlen(s);
		s += v[*n].len;
		(*n)++;
	}
	return (v);
}

static int
linediff_same(const struct linediff_line *x, const struct linediff_line *y)
{
	return (x->len == y->len && memcmp(x->p, y->p, x->len) == 0);
}

/*
 * The edit script of old[a0..a1) against new[b0..b1), appended to ops:
 * an LCS table from the end, then a walk from the start.
 */
static void
linediff_middle(const struct linediff_line *o, size_t a0, size_t a1,
    const struct linediff_line *w, size_t b0, size_t b1,
    struct linediff_op *ops, size_t *nops)
{
	uint32_t	*t;
	size_t		 n = a1 - a0, m = b1 - b0, i, j, cols = m + 1;

	if (n == 0 || m == 0 || (n + 1) > LINEDIFF_MAX_CELLS / (m + 1)) {
		for (i = a0; i < a1; i++)
			ops[(*nops)++] = (struct linediff_op){ '-', i, b0 };
		for (j = b0; j < b1; j++)
			ops[(*nops)++] = (struct linediff_op){ '+', a1, j };
		return;
	}
	t = xcalloc((n + 1) * cols, sizeof *t);
	for (i = n; i-- > 0;)
		for (j = m; j-- > 0;) {
			if (linediff_same(&o[a0 + i], &w[b0 + j]))
				t[i * cols + j] = t[(i + 1) * cols + j + 1] + 1;
			else if (t[(i + 1) * cols + j] >= t[i * cols + j + 1])
				t[i * cols + j] = t[(i + 1) * cols + j];
			else
				t[i * cols + j] = t[i * cols + j + 1];
		}
	i = j = 0;
	while (i < n || j < m) {
		if (i < n && j < m && linediff_same(&o[a0 + i], &w[b0 + j])) {
			ops[(*nops)++] = (struct linediff_op){ ' ', a0 + i,
			    b0 + j };
			i++;
			j++;
		} else if (i < n && (j == m ||
		    t[(i + 1) * cols + j] >= t[i * cols + j + 1])) {
			ops[(*nops)++] = (struct linediff_op){ '-', a0 + i,
			    b0 + j };
			i++;
		} else {
			ops[(*nops)++] = (struct linediff_op){ '+', a0 + i,
			    b0 + j };
			j++;
		}
	}
	free(t);
}

static void
linediff_put(struct buf *out, char op, const struct linediff_line *l)
{
	buf_add(out, &op, 1);
	buf_add(out, l->p, l->len);
	if (l->len == 0 || l->p[l->len - 1] != '\n')
		buf_addstr(out, "\n\\ No newline at end of file\n");
}

/* "-3,2": where a hunk starts (the line before it when it is empty). */
static void
linediff_range(struct buf *out, char sign, size_t start, size_t count)
{
	if (count == 1)
		buf_printf(out, "%c%zu", sign, start + 1);
	else
		buf_printf(out, "%c%zu,%zu", sign, count == 0 ? start :
		    start + 1, count);
}

/*
 * The diff of old against new labelled with the two names ("--- a",
 * "+++ b"); "" when the texts are the same. NULL texts are empty.
 */
char *
linediff_unified(const char *old, const char *new, const char *alabel,
    const char *blabel)
{
	struct linediff_line	*o, *w;
	struct linediff_op	*ops;
	struct buf		 out;
	size_t			 n, m, pre = 0, suf = 0, nops = 0, i, k;
	size_t			 start, end, last, oa, ob, ca, cb;

	o = linediff_split(old != NULL ? old : "", &n);
	w = linediff_split(new != NULL ? new : "", &m);
	while (pre < n && pre < m && linediff_same(&o[pre], &w[pre]))
		pre++;
	while (suf < n - pre && suf < m - pre &&
	    linediff_same(&o[n - 1 - suf], &w[m - 1 - suf]))
		suf++;
	ops = xreallocarray(NULL, n + m + 1, sizeof *ops);
	for (i = 0; i < pre; i++)
		ops[nops++] = (struct linediff_op){ ' ', i, i };
	linediff_middle(o, pre, n - suf, w, pre, m - suf, ops, &nops);
	for (i = 0; i < suf; i++)
		ops[nops++] = (struct linediff_op){ ' ', n - suf + i,
		    m - suf + i };

	buf_init(&out, LINEDIFF_MAX_OUT);
	for (i = 0; i < nops; i = end) {
		/* A hunk: from the first change, until a longer calm. */
		while (i < nops && ops[i].op == ' ')
			i++;
		if (i == nops)
			break;
		start = i > LINEDIFF_CONTEXT ? i - LINEDIFF_CONTEXT : 0;
		if (out.len == 0)
			buf_printf(&out, "--- %s\n+++ %s\n", alabel, blabel);
		last = i;
		for (k = i; k < nops; k++) {
			if (ops[k].op != ' ')
				last = k;
			else if (k - last > 2 * LINEDIFF_CONTEXT)
				break;
		}
		end = last + 1 + LINEDIFF_CONTEXT < nops ?
		    last + 1 + LINEDIFF_CONTEXT : nops;
		oa = ops[start].a;
		ob = ops[start].b;
		ca = cb = 0;
		for (k = start; k < end; k++) {
			ca += ops[k].op != '+';
			cb += ops[k].op != '-';
		}
		buf_addstr(&out, "@@ ");
		linediff_range(&out, '-', oa, ca);
		buf_addstr(&out, " ");
		linediff_range(&out, '+', ob, cb);
		buf_addstr(&out, " @@\n");
		for (k = start; k < end; k++)
			linediff_put(&out, ops[k].op, ops[k].op == '+' ?
			    &w[ops[k].b] : &o[ops[k].a]);
	}
	free(ops);
	free(o);
	free(w);
	return (buf_cstr(&out));
}

/*
 * Minimal TOML editing for writing a client's config file: set one
 * top-level key, or replace one [table] whole, and keep every other byte
 * of the document as it was (comments, order, spacing, line endings).
 * It is not a TOML parser: it reads lines well enough to know what each
 * one is (blank, comment, [table], [[array]], key = value, or the rest of
 * a value that spans lines: arrays, multi-line strings), and refuses to
 * edit a document it cannot read that far, or one that already defines
 * the same thing another way (dotted keys, inline tables, arrays of
 * tables), rather than guess. Pure: text in, text out.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "i18n.h"
#include "tomledit.h"
#include "xmalloc.h"

#define TOMLEDIT_MAX	(16 * 1024 * 1024)
#define TOMLEDIT_SEP	'\001'	/* between the parts of a key path */

enum tomledit_kind {
	TL_BLANK,
	TL_COMMENT,
	TL_TABLE,	/* [a.b] */
	TL_ARRAY,	/* [[a.b]] */
	TL_KEY,		/* a.b = value */
	TL_CONT		/* more of the value above */
};

struct tomledit_line {
	size_t			 off;	/* start in the document */
	size_t			 len;	/* with the newline */
	enum tomledit_kind	 kind;
	char			*path;	/* TABLE, ARRAY: its name; KEY: table
					   and key, parts split by SEP */
	char			*table;	/* KEY: the table it is in ("") */
	size_t			 last;	/* KEY: the line its value ends on */
};

struct tomledit_doc {
	const char		*text;
	struct tomledit_line	*v;
	size_t			 n;
	const char		*eol;	/* "\n" or "\r\n", as the file has */
};

/* Value-scanning state carried from one line to the next. */
struct tomledit_scan {
	char	 ml;		/* in a ''' or """ string: its quote */
	int	 depth;		/* open [ and { */
};

static void
tomledit_doc_free(struct tomledit_doc *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].path);
		free(d->v[i].table);
	}
	free(d->v);
}

static const char *
tomledit_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return (p);
}

/*
 * One key part at *pp: bare, "basic" or 'literal'. Appended to path
 * (escapes in a basic key are kept as written: a name we compare with
 * never has any).
 */
static int
tomledit_key_part(const char **pp, const char *e, struct buf *path)
{
	const char	*p = *pp, *s;

	if (p < e && (*p == '"' || *p == '\'')) {
		s = ++p;
		while (p < e && *p != s[-1]) {
			if (s[-1] == '"' && *p == '\\' && p + 1 < e)
				p++;
			p++;
		}
		if (p == e)
			return (-1);
		buf_add(path, s, p - s);
		*pp = p + 1;
		return (0);
	}
	s = p;
	while (p < e && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
	    *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
		p++;
	if (p == s)
		return (-1);
	buf_add(path, s, p - s);
	*pp = p;
	return (0);
}

/* A dotted key at *pp, up to what follows it; parts split by SEP. */
static char *
tomledit_key(const char **pp, const char *e, const char *prefix)
{
	struct buf	 path;
	const char	*p = *pp;
	char		 sep = TOMLEDIT_SEP;

	buf_init(&path, TOMLEDIT_MAX);
	if (prefix != NULL && *prefix != '\0') {
		buf_addstr(&path, prefix);
		buf_add(&path, &sep, 1);
	}
	for (;;) {
		p = tomledit_ws(p, e);
		if (tomledit_key_part(&p, e, &path) != 0) {
			buf_free(&path);
			return (NULL);
		}
		p = tomledit_ws(p, e);
		if (p == e || *p != '.')
			break;
		buf_add(&path, &sep, 1);
		p++;
	}
	*pp = p;
	return (buf_cstr(&path));
}

/*
 * Scan value text from p to the end of its line, updating st: strings
 * (which may hide brackets and #), comments, open brackets. -1 for a
 * string left open on its line.
 */
static int
tomledit_value(const char *p, const char *e, struct tomledit_scan *st)
{
	char	q;

	while (p < e) {
		if (st->ml != 0) {
			if (st->ml == '"' && *p == '\\') {
				p += 2;
				continue;
			}
			if (e - p >= 3 && p[0] == st->ml && p[1] == st->ml &&
			    p[2] == st->ml) {
				p += 3;
				/* """a"""" ends with the quotes it may hold. */
				while (p < e && *p == st->ml)
					p++;
				st->ml = 0;
				continue;
			}
			p++;
			continue;
		}
		switch (*p) {
		case '#':
			return (0);
		case '"':
		case '\'':
			q = *p;
			if (e - p >= 3 && p[1] == q && p[2] == q) {
				st->ml = q;
				p += 3;
				continue;
			}
			for (p++; p < e && *p != q; p++)
				if (q == '"' && *p == '\\')
					p++;
			if (p >= e)
				return (-1);
			break;
		case '[':
		case '{':
			st->depth++;
			break;
		case ']':
		case '}':
			st->depth--;
			break;
		}
		p++;
	}
	return (0);
}

/* Read the document's lines; -1 and *cause when one cannot be read. */
static int
tomledit_read(const char *text, struct tomledit_doc *d, char **cause)
{
	struct tomledit_scan	 st = { 0, 0 };
	struct tomledit_line	*l;
	const char		*p, *s, *e, *nl;
	char			*table = xstrdup("");
	size_t			 cap = 0, key = 0;

	memset(d, 0, sizeof *d);
	d->text = text;
	nl = strchr(text, '\n');
	d->eol = nl != NULL && nl > text && nl[-1] == '\r' ? "\r\n" : "\n";
	for (p = text; *p != '\0'; p += l->len) {
		if (d->n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			d->v = xreallocarray(d->v, cap, sizeof *d->v);
		}
		l = &d->v[d->n++];
		memset(l, 0, sizeof *l);
		l->off = p - text;
		nl = strchr(p, '\n');
		l->len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
		e = p + l->len;
		while (e > p && (e[-1] == '\n' || e[-1] == '\r'))
			e--;
		if (st.ml != 0 || st.depth > 0) {
			l->kind = TL_CONT;
			if (tomledit_value(p, e, &st) != 0)
				goto bad;
			if (st.ml == 0 && st.depth <= 0)
				d->v[key].last = d->n - 1;
			continue;
		}
		s = tomledit_ws(p, e);
		if (s == e)
			l->kind = TL_BLANK;
		else if (*s == '#')
			l->kind = TL_COMMENT;
		else if (*s == '[') {
			l->kind = s + 1 < e && s[1] == '[' ? TL_ARRAY :
			    TL_TABLE;
			s += l->kind == TL_ARRAY ? 2 : 1;
			if ((l->path = tomledit_key(&s, e, NULL)) == NULL ||
			    s == e || *s++ != ']' || (l->kind == TL_ARRAY &&
			    (s == e || *s++ != ']')))
				goto bad;
			s = tomledit_ws(s, e);
			if (s != e && *s != '#')
				goto bad;
			free(table);
			table = xstrdup(l->path);
		} else {
			l->kind = TL_KEY;
			l->table = xstrdup(table);
			if ((l->path = tomledit_key(&s, e, table)) == NULL ||
			    s == e || *s++ != '=')
				goto bad;
			key = d->n - 1;
			l->last = key;
			if (tomledit_value(s, e, &st) != 0)
				goto bad;
		}
	}
	if (st.ml != 0 || st.depth > 0) {
		xasprintf(cause, _("line %zu: a value is never closed"),
		    d->v[key].last + 1);
		goto fail;
	}
	free(table);
	return (0);
bad:
	xasprintf(cause, _("line %zu: cannot read this line"), d->n);
fail:
	free(table);
	tomledit_doc_free(d);
	return (-1);
}

/* Is a the same path as b, or a part of it (a table holding it)? */
static int
tomledit_within(const char *a, const char *b)
{
	size_t	n = strlen(a);

	return (strncmp(a, b, n) == 0 && (b[n] == '\0' ||
	    b[n] == TOMLEDIT_SEP));
}

/* "a.b" as a path. */
static char *
tomledit_path(const char *dotted)
{
	char	*s = xstrdup(dotted), *p;

	for (p = s; *p != '\0'; p++)
		if (*p == '.')
			*p = TOMLEDIT_SEP;
	return (s);
}

/* Text with "\n" written as the document's line ending. */
static void
tomledit_put(struct buf *out, const char *eol, const char *s)
{
	const char	*nl;

	while ((nl = strchr(s, '\n')) != NULL) {
		buf_add(out, s, nl - s);
		buf_addstr(out, eol);
		s = nl + 1;
	}
	buf_addstr(out, s);
}

/*
 * The document again: line i is dropped when drop[i], and ins[i] (for i
 * up to n, the end) is written before it. A line without a newline
 * followed by inserted text gets one.
 */
static char *
tomledit_write(const struct tomledit_doc *d, const char *drop,
    char *const *ins)
{
	struct buf		 out;
	const struct tomledit_line *l;
	size_t			 i;

	buf_init(&out, TOMLEDIT_MAX);
	for (i = 0; i <= d->n; i++) {
		if (ins[i] != NULL) {
			if (out.len > 0 && out.data[out.len - 1] != '\n')
				buf_addstr(&out, d->eol);
			tomledit_put(&out, d->eol, ins[i]);
		}
		if (i == d->n)
			break;
		l = &d->v[i];
		if (!drop[i])
			buf_add(&out, d->text + l->off, l->len);
	}
	return (buf_cstr(&out));
}

/*
 * Set the top-level key (a bare name) to a whole line, "key = value\n":
 * the first definition is replaced where it stands and any other one
 * dropped; without one the line goes after the last top-level key, or
 * before the first table. NULL and *cause when the document cannot be
 * read or uses the name for a table.
 */
char *
tomledit_set_key(const char *text, const char *key, const char *line,
    char **cause)
{
	struct tomledit_doc	 d;
	struct tomledit_line	*l;
	char			*path, *drop, **ins, *out = NULL;
	size_t			 i, k, first = (size_t)-1, after = 0, head;
	int			 seen = 0, keys = 0;

	if (tomledit_read(text, &d, cause) != 0)
		return (NULL);
	path = tomledit_path(key);
	drop = xcalloc(d.n + 1, 1);
	ins = xcalloc(d.n + 1, sizeof *ins);
	head = d.n;
	for (i = 0; i < d.n; i++) {
		l = &d.v[i];
		if ((l->kind == TL_TABLE || l->kind == TL_ARRAY) &&
		    tomledit_within(path, l->path)) {
			xasprintf(cause, _("line %zu: %s is a table here"),
			    i + 1, key);
			goto out;
		}
		if (l->kind == TL_TABLE || l->kind == TL_ARRAY) {
			if (head == d.n)
				head = i;
			continue;
		}
		if (l->kind != TL_KEY || *l->table != '\0')
			continue;
		keys = 1;
		after = l->last + 1;
		if (strcmp(l->path, path) == 0) {
			for (k = i; k <= l->last; k++)
				drop[k] = 1;
			if (!seen)
				first = i;
			seen = 1;
		} else if (tomledit_within(path, l->path)) {
			xasprintf(cause, _("line %zu: %s is a table here"),
			    i + 1, key);
			goto out;
		}
	}
	if (seen)
		ins[first] = xstrdup(line);
	else if (keys)
		ins[after] = xstrdup(line);
	else {
		/* Before the first table and the comment right above it. */
		while (head > 0 && head < d.n &&
		    d.v[head - 1].kind == TL_COMMENT)
			head--;
		if (head < d.n)
			xasprintf(&ins[head], "%s\n", line);
		else
			ins[head] = xstrdup(line);
	}
	out = tomledit_write(&d, drop, ins);
out:
	for (i = 0; i <= d.n; i++)
		free(ins[i]);
	free(ins);
	free(drop);
	free(path);
	tomledit_doc_free(&d);
	return (out);
}

/*
 * Replace the table (a dotted name of bare keys) with "[name]\n" and its
 * body, lines of "key = value\n": the header and every key of the old one
 * go and the new one takes its place; comments after its last key stay,
 * and so do its sub-tables ([name.more]). Without one it is appended.
 * NULL and *cause when the document cannot be read or defines the table
 * another way, or twice.
 */
char *
tomledit_set_table(const char *text, const char *name, const char *body,
    char **cause)
{
	struct tomledit_doc	 d;
	struct tomledit_line	*l;
	char			*path, *drop, **ins, *out = NULL, *block;
	size_t			 i, k, at = (size_t)-1;
	int			 in = 0;

	if (tomledit_read(text, &d, cause) != 0)
		return (NULL);
	path = tomledit_path(name);
	drop = xcalloc(d.n + 1, 1);
	ins = xcalloc(d.n + 1, sizeof *ins);
	for (i = 0; i < d.n; i++) {
		l = &d.v[i];
		if (l->kind == TL_TABLE && strcmp(l->path, path) == 0) {
			if (at != (size_t)-1) {
				xasprintf(cause, _("line %zu: [%s] is defined "
				    "twice"), i + 1, name);
				goto out;
			}
			at = i;
			drop[i] = in = 1;
			continue;
		}
		if (l->kind == TL_TABLE || l->kind == TL_ARRAY) {
			in = 0;
			if (l->kind == TL_ARRAY &&
			    tomledit_within(l->path, path)) {
				xasprintf(cause, _("line %zu: %s is an array "
				    "of tables here"), i + 1, name);
				goto out;
			}
			continue;
		}
		if (in && l->kind == TL_KEY) {
			/* Its lines, and the blank and comment ones above. */
			for (k = i; k > at && !drop[k - 1]; k--)
				drop[k - 1] = 1;
			for (k = i; k <= l->last; k++)
				drop[k] = 1;
			i = l->last;
			continue;
		}
		if (l->kind == TL_KEY && !tomledit_within(path, l->table) &&
		    (tomledit_within(l->path, path) ||
		    tomledit_within(path, l->path))) {
			xasprintf(cause, _("line %zu: %s is defined here as a "
			    "key"), i + 1, name);
			goto out;
		}
	}
	xasprintf(&block, "[%s]\n%s", name, body);
	if (at != (size_t)-1)
		ins[at] = block;
	else if (d.n > 0 && d.v[d.n - 1].kind != TL_BLANK) {
		/* A blank line between what is there and the new table. */
		xasprintf(&ins[d.n], "\n%s", block);
		free(block);
	} else
		ins[d.n] = block;
	out = tomledit_write(&d, drop, ins);
out:
	for (i = 0; i <= d.n; i++)
		free(ins[i]);
	free(ins);
	free(drop);
	free(path);
	tomledit_doc_free(&d);
	return (out);
}

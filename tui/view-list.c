/*
 * The list views: one table row per view says which command lists it,
 * which column is the row's id, and which commands add, edit, remove and
 * act on a row. Columns are the CLI's (output_list_columns()), sized by
 * the widest cell. Enter opens the row's fields in a pane. Adding and
 * editing go through forms (form.c) built from the command table.
 * The search view is a list too: search.run's matches, whose Enter goes
 * to the matching row in its own view.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NCURSES_WIDECHAR	1
#include <curses.h>
#include <jansson.h>

#include "cmd.h"
#include "compat.h"
#include "jx.h"
#include "tui.h"
#include "width.h"
#include "xmalloc.h"

#define LIST_MAX_COLS	16
#define LIST_MAX_KEYS	4

/* A key that runs a command on the selected row. */
struct list_key {
	int		 key;
	const char	*cmd;		/* its first argument is the row's id */
	const char	*help;		/* N_() */
	int		 confirm;	/* ask first */
	int		 form;		/* open a form, prefilled with the id */
};

struct list_spec {
	struct tui_view	 view;
	const char	*cmd;		/* the list command */
	json_t		*(*args)(struct tui *);	/* its args; NULL: none */
	const char	*id;		/* the row's id field */
	const char	*add;		/* form command, or NULL */
	const char	*edit;		/* form command, or NULL */
	const char	*rm;		/* remove command, or NULL */
	struct list_key	 keys[LIST_MAX_KEYS];
	int		 replace;	/* edit: add anew, then remove */
	void		 (*enter)(struct tui *, json_t *); /* or: details */
	const char	*empty;		/* N_(): an empty list says */
};

struct list_state {
	const struct list_spec	*spec;
	json_t			*items;
	size_t			 sel;
	size_t			 top;
	int			 detail;	/* the row's pane is up */
	int			 sort;		/* column + 1; 0: as listed */
	int			 desc;		/* sort high to low */
	char			*error;		/* the last load's */
};

static json_t *
list_args_events(__unused struct tui *t)
{
	return (json_pack("{s:i}", "limit", 500));
}

static json_t *
list_args_checkins(__unused struct tui *t)
{
	return (json_pack("{s:i}", "limit", 200));
}

/* The query "/" took; none yet: nothing to ask (list_load). */
static json_t *
list_args_search(struct tui *t)
{
	if (*tui_query(t) == '\0')
		return (NULL);
	return (json_pack("{s:s}", "query", tui_query(t)));
}

/* The view a match of each kind is shown in (by the view's name). */
static const struct {
	const char	*kind;		/* search.run's */
	const char	*view;
} list_search_views[] = {
	{ "site", "sites" }, { "account", "accounts" }, { "key", "keys" },
	{ "model", "models" }, { "route", "routes" }, { "log", "logs" },
};

/* Enter on a match: its own view, with its row selected. */
static void
list_search_enter(struct tui *t, json_t *item)
{
	const char	*kind = jx_str(item, "kind");
	json_t		*ref;
	size_t		 i;

	for (i = 0; kind != NULL && i < nitems(list_search_views); i++) {
		if (strcmp(kind, list_search_views[i].kind) != 0)
			continue;
		ref = json_incref(json_object_get(item, "ref"));
		if (tui_goto(t, list_search_views[i].view, ref) != 0)
			tui_status(t, _("no view shows a %s"), kind);
		json_decref(ref);
		return;
	}
}

static void	*list_open(struct tui *);
static void	 list_select(struct tui *, void *, json_t *);
static void	 list_load(struct tui *, void *);
static void	 list_draw(struct tui *, void *, int, int, int, int);
static int	 list_key(struct tui *, void *, int);
static void	 list_close(void *);

/* The footer and help of every list; a row's own keys are added there. */
static const struct tui_action list_actions[] = {
	{ '\r', "Enter", N_("details") },
	{ 'o', "o O", N_("sort by the next column, reverse") },
	{ 'a', "a", N_("add") },
	{ 'e', "e", N_("edit") },
	{ 'd', "d", N_("delete") },
	{ 0, NULL, NULL }
};
static const struct tui_action list_actions_ro[] = {
	{ '\r', "Enter", N_("details") },
	{ 'o', "o O", N_("sort by the next column, reverse") },
	{ 0, NULL, NULL }
};
static const struct tui_action list_actions_accounts[] = {
	{ '\r', "Enter", N_("details") },
	{ 'o', "o O", N_("sort by the next column, reverse") },
	{ 'R', "R", N_("refresh") },
	{ 'L', "L", N_("log in again") },
	{ 'c', "c", N_("check in") },
	{ 'd', "d", N_("delete") },
	{ 0, NULL, NULL }
};
static const struct tui_action list_actions_keys[] = {
	{ '\r', "Enter", N_("details") },
	{ 'o', "o O", N_("sort by the next column, reverse") },
	{ 'a', "a", N_("add (shows the key once)") },
	{ 'x', "x", N_("disable") },
	{ 'n', "n", N_("enable") },
	{ 'd', "d", N_("delete") },
	{ 0, NULL, NULL }
};
static const struct tui_action list_actions_tokens[] = {
	{ '\r', "Enter", N_("details") },
	{ 'o', "o O", N_("sort by the next column, reverse") },
	{ 'a', "a", N_("create") },
	{ 'D', "D", N_("make default") },
	{ 'd', "d", N_("delete") },
	{ 0, NULL, NULL }
};
static const struct tui_action list_actions_notify[] = {
	{ '\r', "Enter", N_("details") },
	{ 'o', "o O", N_("sort by the next column, reverse") },
	{ 'a', "a", N_("add") },
	{ 'e', "e", N_("edit (secrets typed again)") },
	{ 'x', "x", N_("disable") },
	{ 'n', "n", N_("enable") },
	{ 't', "t", N_("send a test") },
	{ 'd', "d", N_("delete") },
	{ 0, NULL, NULL }
};
static const struct tui_action list_actions_settings[] = {
	{ '\r', "Enter", N_("details") },
	{ 'o', "o O", N_("sort by the next column, reverse") },
	{ 'e', "e", N_("edit the value") },
	{ 0, NULL, NULL }
};
static const struct tui_action list_actions_search[] = {
	{ '\r', "Enter", N_("go to it") },
	{ '/', "/", N_("search again") },
	{ 'o', "o O", N_("sort by the next column, reverse") },
	{ 0, NULL, NULL }
};
static const struct tui_action list_actions_jobs[] = {
	{ '\r', "Enter", N_("details") },
	{ 'o', "o O", N_("sort by the next column, reverse") },
	{ 'x', "x", N_("run now") },
	{ 0, NULL, NULL }
};

#define LIST_VIEW(n, t, a) { n, t, list_open, list_load, list_draw, \
	list_key, NULL, NULL, list_close, a, NULL, list_select }

static const struct list_spec list_specs[] = {
	{ LIST_VIEW("sites", N_("Sites"), list_actions), "site.list", NULL,
	  "id", "site.add", "site.edit", "site.rm", { { 0 } }, 0, NULL, NULL },
	{ LIST_VIEW("accounts", N_("Accounts"), list_actions_accounts),
	  "account.list", NULL, "id", NULL, NULL, "account.rm", {
	    { 'R', "account.refresh", N_("refresh"), 0, 0 },
	    { 'L', "account.login", N_("log in again"), 0, 0 },
	    { 'c', "checkin.run", N_("check in"), 0, 0 } }, 0, NULL, NULL },
	{ LIST_VIEW("tokens", N_("Tokens"), list_actions_tokens),
	  "token.list", NULL, "id", "token.create", NULL, "token.rm", {
	    { 'D', "token.default", N_("make default"), 0, 0 } },
	  0, NULL, NULL },
	{ LIST_VIEW("keys", N_("Keys"), list_actions_keys), "key.list", NULL,
	  "id", "key.add", NULL, "key.rm", {
	    { 'x', "key.disable", N_("disable"), 1, 0 },
	    { 'n', "key.enable", N_("enable"), 0, 0 } }, 0, NULL, NULL },
	{ LIST_VIEW("models", N_("Models"), list_actions_ro), "model.list",
	  NULL, "model", NULL, NULL, NULL, { { 0 } }, 0, NULL, NULL },
	{ LIST_VIEW("checkins", N_("Check-ins"), list_actions_ro),
	  "checkin.log", list_args_checkins, "id", NULL, NULL, NULL,
	  { { 0 } }, 0, NULL, NULL },
	{ LIST_VIEW("events", N_("Events"), list_actions_ro), "event.list",
	  list_args_events, "id", NULL, NULL, NULL, { { 0 } }, 0, NULL, NULL },
	{ LIST_VIEW("notify", N_("Notifications"), list_actions_notify),
	  "notify.list", NULL, "id", "notify.add", "notify.add", "notify.rm", {
	    { 't', "notify.test", N_("send a test"), 0, 0 },
	    { 'x', "notify.disable", N_("disable"), 1, 0 },
	    { 'n', "notify.enable", N_("enable"), 0, 0 } }, 1, NULL, NULL },
	{ LIST_VIEW("settings", N_("Settings"), list_actions_settings),
	  "settings.list", NULL, "key", NULL, NULL, NULL, { { 0 } },
	  0, NULL, NULL },
	{ LIST_VIEW("jobs", N_("Jobs"), list_actions_jobs), "job.list", NULL,
	  "name", NULL, NULL, NULL, {
	    { 'x', "job.run", N_("run now"), 1, 0 } }, 0, NULL, NULL },
	{ LIST_VIEW("search", N_("Search"), list_actions_search),
	  "search.run", list_args_search, "id", NULL, NULL, NULL, { { 0 } },
	  0, list_search_enter, N_("no matches: / searches again") },
};

/* The views in the order tui.c puts them after the dashboard. */
const struct tui_view *const view_lists[] = {
	&list_specs[0].view, &list_specs[1].view, &list_specs[2].view,
	&list_specs[3].view, &list_specs[4].view, &list_specs[5].view,
	&list_specs[6].view, &list_specs[7].view, &list_specs[8].view,
	&list_specs[9].view, &list_specs[10].view,
};
const size_t view_lists_count = nitems(view_lists);

static const struct list_spec *
list_spec_of(const struct tui_view *v)
{
	size_t	i;

	for (i = 0; i < nitems(list_specs); i++)
		if (&list_specs[i].view == v)
			return (&list_specs[i]);
	return (NULL);
}

/*
 * open() is told only the tui; the spec is found by the order views are
 * opened in, which is view_lists' order.
 */
static size_t	list_next_open;

static void *
list_open(__unused struct tui *t)
{
	struct list_state	*st = xcalloc(1, sizeof *st);

	st->spec = list_spec_of(view_lists[list_next_open++ %
	    nitems(view_lists)]);
	return (st);
}

static void
list_close(void *arg)
{
	struct list_state	*st = arg;

	json_decref(st->items);
	free(st->error);
	free(st);
}

static void
list_load(struct tui *t, void *arg)
{
	struct list_state	*st = arg;
	json_t			*data = NULL, *args = NULL;
	char			*err = NULL;

	free(st->error);
	st->error = NULL;
	if (st->spec->args != NULL && (args = st->spec->args(t)) == NULL) {
		json_decref(st->items);
		st->items = json_array();
		return;
	}
	if (tui_request(t, st->spec->cmd, args, &data, &err) != 0) {
		st->error = err;
		return;
	}
	json_decref(st->items);
	st->items = json_incref(json_is_array(data) ? data :
	    json_object_get(data, "items"));
	if (st->items == NULL)
		st->items = json_array();
	json_decref(data);
	if (st->sel >= json_array_size(st->items))
		st->sel = json_array_size(st->items) > 0 ?
		    json_array_size(st->items) - 1 : 0;
}

/* Does any shown cell of item hold the filter text? */
static int
list_matches(const char *const *fields, json_t *item, const char *filter)
{
	char	*cell;
	size_t	 i;
	int	 hit = 0;

	if (filter == NULL || *filter == '\0')
		return (1);
	for (i = 0; fields[i] != NULL && !hit; i++) {
		cell = output_cell(json_object_get(item, fields[i]));
		hit = strcasestr(cell, filter) != NULL;
		free(cell);
	}
	return (hit);
}

/* What list_cmp compares: set before the sort, one sort at a time. */
static struct {
	json_t		*items;
	const char	*field;
	int		 desc;
} list_sorting;

/* Two rows by one column: numbers as numbers, text without case. */
static int
list_cmp(const void *a, const void *b, __unused void *arg)
{
	json_t	*x, *y;
	char	*sx, *sy;
	int	 c;

	x = json_object_get(json_array_get(list_sorting.items,
	    *(const size_t *)a), list_sorting.field);
	y = json_object_get(json_array_get(list_sorting.items,
	    *(const size_t *)b), list_sorting.field);
	if (json_is_number(x) && json_is_number(y))
		c = json_number_value(x) < json_number_value(y) ? -1 :
		    json_number_value(x) > json_number_value(y);
	else if (json_is_number(x) != json_is_number(y))
		c = json_is_number(x) ? -1 : 1;	/* numbers before "-" */
	else {
		sx = output_cell(x);
		sy = output_cell(y);
		c = strcasecmp(sx, sy);
		free(sx);
		free(sy);
	}
	if (c == 0)	/* stable: as the daemon listed them */
		c = *(const size_t *)a < *(const size_t *)b ? -1 : 1;
	else if (list_sorting.desc)
		c = -c;
	return (c);
}

/* The indexes of the rows the filter lets through, sorted; *n of them. */
static size_t *
list_visible(struct tui *t, struct list_state *st, const char *const *fields,
    size_t *n)
{
	size_t	*v, i, total = json_array_size(st->items);

	v = xcalloc(total + 1, sizeof *v);
	*n = 0;
	for (i = 0; i < total; i++)
		if (list_matches(fields, json_array_get(st->items, i),
		    tui_filter(t)))
			v[(*n)++] = i;
	if (st->sort > 0 && *n > 1) {
		list_sorting.items = st->items;
		list_sorting.field = fields[st->sort - 1];
		list_sorting.desc = st->desc;
		qsort_r(v, *n, sizeof *v, list_cmp, NULL);
	}
	return (v);
}

static void
list_draw_detail(json_t *item, int y, int x, int h, int w)
{
	const char	*k;
	json_t		*v;
	char		*cell;
	int		 row = 0, kw = 0;

	json_object_foreach(item, k, v)
		if ((int)width_utf8(k) > kw)
			kw = (int)width_utf8(k);
	if (kw > w / 3)
		kw = w / 3;
	scr_box(y, x, h, w, _("Details"));
	json_object_foreach(item, k, v) {
		if (row >= h - 2)
			break;
		cell = output_cell(v);
		scr_put(y + 1 + row, x + 2, kw, SCR_DIM, k);
		scr_put(y + 1 + row, x + 3 + kw, w - kw - 5, SCR_NORMAL, cell);
		free(cell);
		row++;
	}
}

static void
list_draw(struct tui *t, void *arg, int y, int x, int h, int w)
{
	struct list_state	*st = arg;
	const char *const	*fields, *const *titles;
	int			 cw[LIST_MAX_COLS], i, cx, row, total, nc;
	size_t			*vis, nvis, r;
	char			*cell;
	json_t			*item;

	if (st->error != NULL)
		scr_put(y, x, w, SCR_ERR, st->error);
	if (output_list_columns(st->spec->cmd, &fields, &titles) != 0)
		return;
	vis = list_visible(t, st, fields, &nvis);
	/* Column widths: the widest title or cell, within a share. */
	for (nc = 0; nc < LIST_MAX_COLS && fields[nc] != NULL; nc++)
		cw[nc] = (int)width_utf8(_(titles[nc]));
	for (r = 0; r < nvis; r++) {
		item = json_array_get(st->items, vis[r]);
		for (i = 0; i < nc; i++) {
			cell = output_cell(json_object_get(item, fields[i]));
			if ((int)width_utf8(cell) > cw[i])
				cw[i] = (int)width_utf8(cell);
			free(cell);
		}
	}
	total = 0;
	for (i = 0; i < nc; i++) {
		if (cw[i] > w / 2)
			cw[i] = w / 2;
		total += cw[i] + 2;
	}
	/* Narrow terminals: the last columns give way. */
	while (total > w && nc > 1)
		total -= cw[--nc] + 2;
	row = y + (st->error != NULL);
	for (i = 0, cx = x; i < nc; i++) {
		scr_putf(row, cx, cw[i] + 2, SCR_TITLE, "%s%s", _(titles[i]),
		    st->sort == i + 1 ? (st->desc ? "v" : "^") : "");
		cx += cw[i] + 2;
	}
	row++;
	if (st->sel >= nvis)
		st->sel = nvis > 0 ? nvis - 1 : 0;
	if (st->sel < st->top)
		st->top = st->sel;
	if ((int)(st->sel - st->top) >= y + h - row)
		st->top = st->sel - (y + h - row) + 1;
	for (r = st->top; r < nvis && row < y + h; r++, row++) {
		item = json_array_get(st->items, vis[r]);
		if (r == st->sel)
			scr_fill(row, x, w, SCR_SELECTED);
		for (i = 0, cx = x; i < nc; i++) {
			cell = output_cell(json_object_get(item, fields[i]));
			scr_put(row, cx, cw[i], r == st->sel ? SCR_SELECTED :
			    SCR_NORMAL, cell);
			free(cell);
			cx += cw[i] + 2;
		}
	}
	if (nvis == 0 && st->error == NULL)
		scr_put(row, x, w, SCR_DIM, tui_filter(t)[0] != '\0' ?
		    _("nothing matches the filter") : st->spec->empty != NULL ?
		    _(st->spec->empty) : _("nothing here yet"));
	if (st->detail && st->sel < nvis)
		list_draw_detail(json_array_get(st->items, vis[st->sel]),
		    y + 1, x + w / 4, h - 2, w - w / 4);
	free(vis);
}

/* The selected row, NULL when there is none. */
static json_t *
list_selected(struct tui *t, struct list_state *st)
{
	const char *const	*fields, *const *titles;
	size_t			*vis, n;
	json_t			*item = NULL;

	if (output_list_columns(st->spec->cmd, &fields, &titles) != 0)
		return (NULL);
	vis = list_visible(t, st, fields, &n);
	if (st->sel < n)
		item = json_array_get(st->items, vis[st->sel]);
	free(vis);
	return (item);
}

/* Select the row whose id is ref (tui_goto). */
static void
list_select(struct tui *t, void *arg, json_t *ref)
{
	struct list_state	*st = arg;
	const char *const	*fields, *const *titles;
	size_t			*vis, n, i;

	if (output_list_columns(st->spec->cmd, &fields, &titles) != 0)
		return;
	vis = list_visible(t, st, fields, &n);
	for (i = 0; i < n; i++) {
		if (json_equal(json_object_get(json_array_get(st->items,
		    vis[i]), st->spec->id), ref)) {
			st->sel = i;
			st->top = 0;
			st->detail = 0;
			break;
		}
	}
	free(vis);
	tui_dirty(t);
}

/* Args for cmd whose first argument is the selected row's id. */
static json_t *
list_id_args(const struct list_spec *sp, const char *cmd, json_t *item)
{
	const struct cmd_spec	*c = cmd_find(cmd);
	json_t			*id = json_object_get(item, sp->id);
	char			*s;

	if (c == NULL || c->args[0].key == NULL || id == NULL)
		return (json_object());
	if (c->args[0].type == ARG_INT && json_is_string(id))
		return (json_pack("{s:I}", c->args[0].key,
		    (json_int_t)strtoll(json_string_value(id), NULL, 10)));
	if (c->args[0].type == ARG_STR && json_is_integer(id)) {
		xasprintf(&s, "%lld", (long long)json_integer_value(id));
		id = json_string(s);
		free(s);
		return (json_pack("{s:o}", c->args[0].key, id));
	}
	return (json_pack("{s:O}", c->args[0].key, id));
}

/* Run cmd on the selected row and say how it went. */
static void
list_run(struct tui *t, struct list_state *st, const char *cmd, json_t *item)
{
	json_t	*data = NULL;
	char	*err = NULL;

	tui_status(t, _("%s: working..."), cmd);
	if (tui_request(t, cmd, list_id_args(st->spec, cmd, item), &data,
	    &err) != 0) {
		tui_status(t, _("%s: %s"), cmd, err);
		free(err);
		return;
	}
	tui_status(t, _("%s: done"), cmd);
	json_decref(data);
	list_load(t, st);
}

/* Settings: edit the value in place; the daemon checks its type. */
static void
list_edit_setting(struct tui *t, struct list_state *st, json_t *item)
{
	json_t		*data = NULL;
	char		*value = NULL, *err = NULL, *cur;
	const char	*key = jx_str(item, "key");

	if (key == NULL)
		return;
	cur = output_cell(json_object_get(item, "value"));
	if (tui_prompt(t, key, cur, &value) == 1) {
		if (tui_request(t, "settings.set", json_pack("{s:s, s:s}",
		    "key", key, "value", value), &data, &err) != 0) {
			tui_status(t, "%s: %s", key, err);
			free(err);
		} else {
			tui_status(t, _("%s saved"), key);
			list_load(t, st);
		}
		json_decref(data);
		free(value);
	}
	free(cur);
}

/* A key added (key.add): its secret is shown once, here. */
static void
list_after_add(struct tui *t, struct list_state *st, json_t *data)
{
	const char	*secret = jx_str(data, "key");

	if (strcmp(st->spec->add, "key.add") == 0 && secret != NULL)
		tui_status(t, _("new key (shown once): %s"), secret);
	else
		tui_status(t, "%s", _("added"));
	list_load(t, st);
}

/*
 * Edit by replacing, where the daemon has no edit command (notification
 * channels): the add form filled in with the row's settings (its secret
 * is never sent back, so it is typed again), and only once the new one
 * was added is the old one removed. A refused form changes nothing.
 */
static void
list_replace(struct tui *t, struct list_state *st, json_t *item)
{
	json_t	*prefill, *data = NULL, *gone = NULL;
	char	*err = NULL;

	prefill = json_deep_copy(json_object_get(item, "config"));
	if (!json_is_object(prefill)) {
		json_decref(prefill);
		prefill = json_object();
	}
	json_object_set(prefill, "kind", json_object_get(item, "kind"));
	if (tui_form(t, st->spec->edit, prefill, &data) == 0) {
		if (tui_request(t, st->spec->rm, list_id_args(st->spec,
		    st->spec->rm, item), &gone, &err) != 0) {
			tui_status(t, _("added the new one; the old one stays: "
			    "%s"), err);
			free(err);
		} else
			tui_status(t, "%s", _("saved"));
		list_load(t, st);
	}
	json_decref(prefill);
	json_decref(data);
	json_decref(gone);
}

/* Sort by the next column; after the last, back to the daemon's order. */
static void
list_sort_next(struct list_state *st)
{
	const char *const	*fields, *const *titles;
	int			 nc = 0;

	if (output_list_columns(st->spec->cmd, &fields, &titles) == 0)
		while (fields[nc] != NULL)
			nc++;
	st->sort = nc > 0 ? (st->sort + 1) % (nc + 1) : 0;
	st->sel = st->top = 0;
}

static int
list_key(struct tui *t, void *arg, int key)
{
	struct list_state	*st = arg;
	const struct list_spec	*sp = st->spec;
	const struct list_key	*k;
	json_t			*item = list_selected(t, st), *data = NULL;
	size_t			 i;

	if (st->detail && (key == 27 || key == '\r' || key == 'q')) {
		st->detail = 0;
		tui_dirty(t);
		return (1);
	}
	if (key == 'j' || key == SCR_FKEY(KEY_DOWN)) {
		st->sel++;
	} else if (key == 'k' || key == SCR_FKEY(KEY_UP)) {
		if (st->sel > 0)
			st->sel--;
	} else if (key == 'g' || key == SCR_FKEY(KEY_HOME)) {
		st->sel = 0;
	} else if (key == 'G' || key == SCR_FKEY(KEY_END)) {
		st->sel = json_array_size(st->items);
	} else if (key == SCR_FKEY(KEY_NPAGE)) {
		st->sel += 10;
	} else if (key == SCR_FKEY(KEY_PPAGE)) {
		st->sel = st->sel > 10 ? st->sel - 10 : 0;
	} else if ((key == '\r' || key == SCR_FKEY(KEY_ENTER)) &&
	    sp->enter != NULL) {
		if (item != NULL)
			sp->enter(t, item);
		return (1);
	} else if (key == '\r' || key == SCR_FKEY(KEY_ENTER)) {
		st->detail = item != NULL;
	} else if (key == 'o') {
		list_sort_next(st);
	} else if (key == 'O') {
		st->desc = !st->desc;
	} else if (key == 'a' && sp->add != NULL) {
		if (tui_form(t, sp->add, NULL, &data) == 0)
			list_after_add(t, st, data);
		json_decref(data);
	} else if (key == 'e' && strcmp(sp->cmd, "settings.list") == 0 &&
	    item != NULL) {
		list_edit_setting(t, st, item);
	} else if (key == 'e' && sp->replace && item != NULL) {
		list_replace(t, st, item);
	} else if (key == 'e' && sp->edit != NULL && item != NULL) {
		data = list_id_args(sp, sp->edit, item);
		if (tui_form(t, sp->edit, data, &item) == 0) {
			json_decref(item);
			tui_status(t, "%s", _("saved"));
			list_load(t, st);
		}
		json_decref(data);
	} else if (key == 'd' && sp->rm != NULL && item != NULL) {
		if (tui_confirm(t, _("Delete the selected row?")))
			list_run(t, st, sp->rm, item);
	} else {
		for (i = 0; i < LIST_MAX_KEYS && sp->keys[i].key != 0; i++) {
			k = &sp->keys[i];
			if (k->key != key || item == NULL)
				continue;
			if (!k->confirm || tui_confirm(t, _(k->help)))
				list_run(t, st, k->cmd, item);
			tui_dirty(t);
			return (1);
		}
		return (0);
	}
	tui_dirty(t);
	return (1);
}

/*
 * The request log, live: the newest requests first, new ones arriving by
 * the "logs" subscription as they finish (no asking again), a status
 * filter (s: all, ok, failed) on top of the "\" text filter, pausing
 * (p), and a detail pane with the attempts, timings, tokens and cost.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NCURSES_WIDECHAR	1
#include <curses.h>
#include <jansson.h>

#include "compat.h"
#include "jx.h"
#include "tui.h"
#include "width.h"
#include "xmalloc.h"

#define LOGS_KEEP	1000	/* rows held; the oldest go */

struct logs_state {
	json_t		*items;		/* newest first */
	size_t		 sel;
	size_t		 top;
	int		 status;	/* 0 all, 1 ok, 2 failed */
	int		 paused;
	int		 detail;
	size_t		 missed;	/* arrived while paused */
	json_t		*held;		/* those rows, oldest first */
	char		*error;
};

static const char *const logs_status_names[] = {
	N_("all"), N_("ok"), N_("failed")
};

/* The columns: field, title, width (0: the rest). */
static const struct {
	const char	*field;
	const char	*title;
	int		 width;
} logs_cols[] = {
	{ "time", N_("TIME"), 8 },
	{ "model_requested", N_("MODEL"), 0 },
	{ "site", N_("SITE"), 12 },
	{ "status", N_("STATUS"), 13 },
	{ "http_status", N_("HTTP"), 4 },
	{ "latency_ms", N_("MS"), 7 },
	{ "prompt_tokens", N_("IN"), 7 },
	{ "completion_tokens", N_("OUT"), 7 },
	{ "cost_usd", N_("COST $"), 9 },
};

static void *
logs_open(__unused struct tui *t)
{
	struct logs_state	*st = xcalloc(1, sizeof *st);

	st->items = json_array();
	st->held = json_array();
	return (st);
}

static void
logs_close(void *arg)
{
	struct logs_state	*st = arg;

	json_decref(st->items);
	json_decref(st->held);
	free(st->error);
	free(st);
}

static void
logs_load(struct tui *t, void *arg)
{
	struct logs_state	*st = arg;
	json_t			*data = NULL, *items;
	char			*err = NULL;

	free(st->error);
	st->error = NULL;
	if (tui_request(t, "log.list", json_pack("{s:i}", "limit", 200),
	    &data, &err) != 0) {
		st->error = err;
		return;
	}
	if (json_is_array(items = json_object_get(data, "items"))) {
		json_decref(st->items);
		st->items = json_incref(items);
	}
	json_array_clear(st->held);
	st->missed = 0;
	json_decref(data);
}

/* A row arrives: on top, unless paused; the oldest beyond LOGS_KEEP go. */
static void
logs_event(struct tui *t, void *arg, const char *topic, json_t *data)
{
	struct logs_state	*st = arg;

	if (strcmp(topic, "logs") != 0 || !json_is_object(data))
		return;
	if (st->paused) {
		if (json_array_size(st->held) < LOGS_KEEP)
			json_array_append(st->held, data);
		st->missed++;
		tui_dirty(t);
		return;
	}
	json_array_insert(st->items, 0, data);
	while (json_array_size(st->items) > LOGS_KEEP)
		json_array_remove(st->items, json_array_size(st->items) - 1);
	/* The selection stays on the row it was on. */
	if (st->sel > 0 || st->top > 0)
		st->sel++;
	tui_dirty(t);
}

/* The clock time of an ISO timestamp, "HH:MM:SS". */
static void
logs_clock(const char *iso, char *out, size_t size)
{
	const char	*tp = iso != NULL ? strchr(iso, 'T') : NULL;

	snprintf(out, size, "%.8s", tp != NULL ? tp + 1 : iso != NULL ? iso :
	    "");
}

static char *
logs_cell(json_t *item, const char *field)
{
	json_t	*v = json_object_get(item, field);
	char	 clock[16], *s;

	if (strcmp(field, "time") == 0) {
		logs_clock(json_string_value(v), clock, sizeof clock);
		return (xstrdup(clock));
	}
	if (strcmp(field, "cost_usd") == 0 && json_is_number(v)) {
		xasprintf(&s, "%.6f", json_number_value(v));
		return (s);
	}
	return (output_cell(v));
}

static int
logs_shown(struct tui *t, struct logs_state *st, json_t *item)
{
	const char	*status = jx_str(item, "status"), *f = tui_filter(t);
	char		*cell;
	size_t		 i;
	int		 hit;

	if (st->status == 1 && (status == NULL || strcmp(status, "ok") != 0))
		return (0);
	if (st->status == 2 && status != NULL && strcmp(status, "ok") == 0)
		return (0);
	if (*f == '\0')
		return (1);
	for (i = 0, hit = 0; i < nitems(logs_cols) && !hit; i++) {
		cell = logs_cell(item, logs_cols[i].field);
		hit = strcasestr(cell, f) != NULL;
		free(cell);
	}
	if (!hit) {
		/* A key by its id: "/7" is key 7's requests too. */
		cell = output_cell(json_object_get(item, "key_id"));
		hit = strcmp(cell, f) == 0;
		free(cell);
	}
	return (hit);
}

static size_t *
logs_visible(struct tui *t, struct logs_state *st, size_t *n)
{
	size_t	*v, i, total = json_array_size(st->items);

	v = xcalloc(total + 1, sizeof *v);
	*n = 0;
	for (i = 0; i < total; i++)
		if (logs_shown(t, st, json_array_get(st->items, i)))
			v[(*n)++] = i;
	return (v);
}

static enum scr_color
logs_color(json_t *item)
{
	const char	*s = jx_str(item, "status");

	if (s != NULL && strcmp(s, "ok") == 0)
		return (SCR_NORMAL);
	return (s != NULL && strcmp(s, "client_closed") == 0 ? SCR_WARN :
	    SCR_ERR);
}

/* The pane of one request: what happened, attempt by attempt. */
static void
logs_draw_detail(json_t *item, int y, int x, int h, int w)
{
	static const struct {
		const char	*field;
		const char	*label;
	} rows[] = {
		{ "id", N_("request") }, { "time", N_("time") },
		{ "model_requested", N_("model asked") },
		{ "model", N_("model served") }, { "key_id", N_("key") },
		{ "site", N_("site") }, { "status", N_("status") },
		{ "http_status", N_("HTTP") }, { "stream", N_("stream") },
		{ "ttfb_ms", N_("first byte ms") },
		{ "latency_ms", N_("total ms") },
		{ "prompt_tokens", N_("input tokens") },
		{ "cache_read_tokens", N_("of which cache read") },
		{ "cache_write_tokens", N_("of which cache write") },
		{ "completion_tokens", N_("output tokens") },
		{ "cost_usd", N_("cost USD") },
		{ "usage_source", N_("usage from") }, { "error", N_("error") },
	};
	json_t	*a;
	size_t	 i;
	int	 row = y + 1;
	char	*cell;

	scr_box(y, x, h, w, _("Request"));
	for (i = 0; i < nitems(rows) && row < y + h - 1; i++, row++) {
		scr_put(row, x + 2, 20, SCR_DIM, _(rows[i].label));
		cell = output_cell(json_object_get(item, rows[i].field));
		scr_put(row, x + 23, w - 25, SCR_NORMAL, cell);
		free(cell);
	}
	if (row < y + h - 1)
		scr_put(row++, x + 2, w - 4, SCR_TITLE, _("attempts"));
	json_array_foreach(json_object_get(item, "attempts"), i, a) {
		if (row >= y + h - 1)
			break;
		scr_putf(row++, x + 2, w - 4, jx_str(a, "error") != NULL ?
		    SCR_WARN : SCR_OK, "%zu. %s  HTTP %lld  %lld ms  %s  %s",
		    i + 1, jx_str(a, "site") != NULL ? jx_str(a, "site") : "-",
		    (long long)json_integer_value(json_object_get(a,
		    "http_status")), (long long)json_integer_value(
		    json_object_get(a, "latency_ms")),
		    jx_str(a, "upstream_path") != NULL ?
		    jx_str(a, "upstream_path") : "",
		    jx_str(a, "error") != NULL ? jx_str(a, "error") : "");
	}
}

static void
logs_draw(struct tui *t, void *arg, int y, int x, int h, int w)
{
	struct logs_state	*st = arg;
	size_t			*vis, n, r, i;
	int			 cw[nitems(logs_cols)], flex, cx, row;
	char			*cell;
	json_t			*item;

	scr_putf(y, x, w, SCR_DIM, _("showing %s%s%s"),
	    _(logs_status_names[st->status]), st->paused ? _(", paused") : "",
	    st->missed > 0 ? _(", new rows waiting") : "");
	if (st->error != NULL)
		scr_put(y, x + w / 2, w - w / 2, SCR_ERR, st->error);
	flex = w;
	for (i = 0; i < nitems(logs_cols); i++)
		flex -= logs_cols[i].width + 1;
	for (i = 0; i < nitems(logs_cols); i++)
		cw[i] = logs_cols[i].width > 0 ? logs_cols[i].width :
		    flex > 10 ? flex : 10;
	for (i = 0, cx = x; i < nitems(logs_cols) && cx < x + w; i++) {
		scr_put(y + 1, cx, cw[i], SCR_TITLE, _(logs_cols[i].title));
		cx += cw[i] + 1;
	}
	vis = logs_visible(t, st, &n);
	if (st->sel >= n)
		st->sel = n > 0 ? n - 1 : 0;
	if (st->sel < st->top)
		st->top = st->sel;
	if ((int)(st->sel - st->top) >= h - 2)
		st->top = st->sel - (h - 2) + 1;
	for (r = st->top, row = y + 2; r < n && row < y + h; r++, row++) {
		item = json_array_get(st->items, vis[r]);
		if (r == st->sel)
			scr_fill(row, x, w, SCR_SELECTED);
		for (i = 0, cx = x; i < nitems(logs_cols) && cx < x + w; i++) {
			cell = logs_cell(item, logs_cols[i].field);
			scr_put(row, cx, cw[i], r == st->sel ? SCR_SELECTED :
			    logs_color(item), cell);
			free(cell);
			cx += cw[i] + 1;
		}
	}
	if (n == 0)
		scr_put(y + 2, x, w, SCR_DIM, _("no requests yet"));
	if (st->detail && st->sel < n)
		logs_draw_detail(json_array_get(st->items, vis[st->sel]),
		    y + 1, x + w / 5, h - 1, w - w / 5);
	free(vis);
}

static int
logs_key(struct tui *t, void *arg, int key)
{
	struct logs_state	*st = arg;
	size_t			 i;

	if (st->detail && (key == 27 || key == '\r' || key == 'q')) {
		st->detail = 0;
	} else if (key == 'j' || key == SCR_FKEY(KEY_DOWN)) {
		st->sel++;
	} else if (key == 'k' || key == SCR_FKEY(KEY_UP)) {
		if (st->sel > 0)
			st->sel--;
	} else if (key == 'g' || key == SCR_FKEY(KEY_HOME)) {
		st->sel = 0;
	} else if (key == 'G' || key == SCR_FKEY(KEY_END)) {
		st->sel = json_array_size(st->items);
	} else if (key == '\r' || key == SCR_FKEY(KEY_ENTER)) {
		st->detail = 1;
	} else if (key == 's') {
		st->status = (st->status + 1) % (int)nitems(logs_status_names);
		st->sel = st->top = 0;
	} else if (key == 'p') {
		st->paused = !st->paused;
		if (!st->paused) {
			/* What came meanwhile goes on top, in order. */
			for (i = 0; i < json_array_size(st->held); i++)
				json_array_insert(st->items, 0,
				    json_array_get(st->held, i));
			while (json_array_size(st->items) > LOGS_KEEP)
				json_array_remove(st->items,
				    json_array_size(st->items) - 1);
			json_array_clear(st->held);
			st->missed = 0;
		}
	} else
		return (0);
	tui_dirty(t);
	return (1);
}

/*
 * Select request ref and open its pane (tui_goto). One older than the
 * rows held is read by itself and put in its place among them.
 */
static void
logs_select(struct tui *t, void *arg, json_t *ref)
{
	struct logs_state	*st = arg;
	json_t			*data = NULL, *item;
	char			*err = NULL;
	size_t			*vis, n, i;

	st->status = 0;
	vis = logs_visible(t, st, &n);
	for (i = 0; i < n; i++)
		if (json_equal(json_object_get(json_array_get(st->items,
		    vis[i]), "id"), ref))
			break;
	free(vis);
	if (i == n && json_is_integer(ref)) {
		if (tui_request(t, "log.list", json_pack("{s:i, s:I}", "limit",
		    1, "before", json_integer_value(ref) + 1), &data,
		    &err) != 0) {
			tui_status(t, "log.list: %s", err);
			free(err);
			return;
		}
		item = json_array_get(json_object_get(data, "items"), 0);
		if (item != NULL && json_equal(json_object_get(item, "id"),
		    ref)) {
			json_array_append(st->items, item);
			i = json_array_size(st->items) - 1;
		}
		json_decref(data);
	}
	if (i < json_array_size(st->items)) {
		st->sel = i;
		st->detail = 1;
	}
	tui_dirty(t);
}

static const struct tui_action logs_actions[] = {
	{ '\r', "Enter", N_("details") },
	{ 's', "s", N_("status filter") },
	{ 'p', "p", N_("pause") },
	{ 0, NULL, NULL }
};

const struct tui_view view_logs = {
	"logs", N_("Logs"), logs_open, logs_load, logs_draw, logs_key,
	logs_event, NULL, logs_close, logs_actions, NULL, logs_select
};

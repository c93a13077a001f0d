/*
 * The routes view: the route table (route.list) beside or above the
 * selected route's channels (route.show) with their probability now,
 * priority, weight and cooldown, and under them the router's explanation
 * (route.explain) of the selected channel: the reason and every factor
 * as the reply gives them. Weight and priority are edited in place
 * (channel.set) and the route is read again at once, so the user sees
 * the probabilities move; a cooldown can be ended (after a y/N).
 * Cooldowns count down on the screen from the time route.show was read,
 * without asking the daemon; the route is read again when one ends, or
 * shortly after a request on it finished (a "logs" event), since either
 * changes the probabilities.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define NCURSES_WIDECHAR	1
#include <curses.h>
#include <jansson.h>

#include "compat.h"
#include "jx.h"
#include "tui.h"
#include "width.h"
#include "xmalloc.h"

#define ROUTES_SIDE_MINW	110	/* the route list goes left from here */
#define ROUTES_STALE_SEC	2	/* reread a used route this often */
#define ROUTES_PAGE		10
#define ROUTES_REASON_LINES	6	/* at most, when there is room */
#define ROUTES_FACTOR_ROWS	8	/* more columns rather than more rows */

/* Columns of the channel table; the name and bar take what is left. */
#define ROUTES_COL_ID		6
#define ROUTES_COL_PCT		7
#define ROUTES_COL_PRIO		5
#define ROUTES_COL_WT		7
#define ROUTES_COL_CD		9

enum routes_focus {
	ROUTES_FOCUS_ROUTES,
	ROUTES_FOCUS_CHANNELS
};

struct routes_state {
	json_t		*routes;	/* route.list's items */
	json_t		*route;		/* route.show of the selected route */
	json_t		*explain;	/* route.explain of it, or NULL */
	char		*error;		/* the last load's, or NULL */
	char		*note;		/* why there is no explanation */
	long long	 route_id;	/* what route and explain are of */
	size_t		 sel, top;	/* in the filtered route list */
	size_t		 csel, ctop;	/* in the channels */
	int		 focus;		/* enum routes_focus */
	int		 zoom;		/* the explanation fills the view */
	time_t		 read_at;	/* when route.show was read */
	int		 cooling;	/* channels cooling when read */
	int		 stale;		/* a request used the route since */
};

static void	*routes_open(struct tui *);
static void	 routes_load(struct tui *, void *);
static void	 routes_draw(struct tui *, void *, int, int, int, int);
static int	 routes_key(struct tui *, void *, int);
static void	 routes_event(struct tui *, void *, const char *, json_t *);
static void	 routes_tick(struct tui *, void *);
static void	 routes_close(void *);
static void	 routes_select(struct tui *, void *, json_t *);

static const struct tui_action routes_actions[] = {
	{ '\r', "Enter", N_("switch list") },
	{ 'e', "e w", N_("weight") },
	{ 'p', "p", N_("priority") },
	{ 'c', "c", N_("end cooldown") },
	{ 'x', "x", N_("explain") },
	{ 0, NULL, NULL }
};

const struct tui_view view_routes = {
	"routes", N_("Routes"), routes_open, routes_load, routes_draw,
	routes_key, routes_event, routes_tick, routes_close, routes_actions,
	NULL, routes_select
};

/* The channel fields the user edits, by key; each a channel.set arg. */
struct routes_edit {
	int		 key;
	const char	*field;		/* channel.set's and route.show's */
	const char	*name;		/* N_() */
	const char	*prompt;	/* N_(): channel id, site/account */
};
static const struct routes_edit routes_edits[] = {
	{ 'e', "weight", N_("weight"), N_("Weight of channel %lld (%s):") },
	{ 'w', "weight", N_("weight"), N_("Weight of channel %lld (%s):") },
	{ 'p', "priority", N_("priority"),
	  N_("Priority of channel %lld (%s), lower first:") },
};

/* Data. */

static long long
routes_int(json_t *o, const char *key)
{
	long long	v = 0;

	jx_int(o, key, &v);
	return (v);
}

static double
routes_real(json_t *o, const char *key)
{
	double	v = 0;

	jx_real(o, key, &v);
	return (v);
}

/* An exact model name, which route.explain can be asked about. */
static int
routes_exact(const char *p)
{
	return (p != NULL && *p != '\0' && strncmp(p, "re:", 3) != 0 &&
	    strpbrk(p, "*?[") == NULL);
}

static int
routes_matches(json_t *r, const char *filter)
{
	const char	*p = jx_str(r, "pattern"), *a = jx_str(r, "alias");

	if (filter == NULL || *filter == '\0')
		return (1);
	return ((p != NULL && strcasestr(p, filter) != NULL) ||
	    (a != NULL && strcasestr(a, filter) != NULL));
}

/* The indexes of the routes the filter lets through; *n of them. */
static size_t *
routes_visible(struct tui *t, struct routes_state *st, size_t *n)
{
	size_t	*v, i, total = json_array_size(st->routes);

	v = xcalloc(total + 1, sizeof *v);
	*n = 0;
	for (i = 0; i < total; i++)
		if (routes_matches(json_array_get(st->routes, i),
		    tui_filter(t)))
			v[(*n)++] = i;
	return (v);
}

static json_t *
routes_selected(struct tui *t, struct routes_state *st)
{
	size_t	*v, n;
	json_t	*r = NULL;

	v = routes_visible(t, st, &n);
	if (n > 0 && st->sel >= n)
		st->sel = n - 1;
	if (st->sel < n)
		r = json_array_get(st->routes, v[st->sel]);
	free(v);
	return (r);
}

static json_t *
routes_channels(struct routes_state *st)
{
	return (json_object_get(st->route, "items"));
}

static json_t *
routes_channel(struct routes_state *st)
{
	return (json_array_get(routes_channels(st), st->csel));
}

/* The explanation's candidate for a channel, or NULL. */
static json_t *
routes_candidate(struct routes_state *st, long long id)
{
	json_t	*c;
	size_t	 i;

	json_array_foreach(json_object_get(st->explain, "candidates"), i, c)
		if (routes_int(c, "channel_id") == id)
			return (c);
	return (NULL);
}

/* A channel's cooldown left now, counted down since it was read. */
static long long
routes_cooldown(struct routes_state *st, json_t *ch, time_t now)
{
	long long	left = routes_int(ch, "cooldown_remaining_sec");

	left -= (long long)(now - st->read_at);
	return (left > 0 ? left : 0);
}

static int
routes_count_cooling(struct routes_state *st, time_t now)
{
	json_t	*ch;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(routes_channels(st), i, ch)
		n += routes_cooldown(st, ch, now) > 0;
	return (n);
}

/* "site/account" of a channel. */
static void
routes_who(json_t *ch, char *s, size_t len)
{
	const char	*site = jx_str(ch, "site"), *acct = jx_str(ch,
			    "account");

	snprintf(s, len, "%s/%s", site != NULL ? site : "?", acct != NULL ?
	    acct : "?");
}

/*
 * Read the selected route's channels and, for an exact model name (or
 * an alias), the router's explanation; the selected channel stays
 * selected across the reread.
 */
static void
routes_load_detail(struct tui *t, struct routes_state *st)
{
	json_t		*r = routes_selected(t, st), *data = NULL;
	const char	*model;
	char		*err = NULL, *id;
	long long	 keep = -1, rid;
	size_t		 i;

	if (routes_channel(st) != NULL)
		keep = routes_int(routes_channel(st), "id");
	json_decref(st->route);
	json_decref(st->explain);
	st->route = st->explain = NULL;
	free(st->note);
	st->note = NULL;
	free(st->error);
	st->error = NULL;
	st->stale = 0;
	if (r == NULL) {
		st->route_id = 0;
		return;
	}
	rid = routes_int(r, "id");
	if (rid != st->route_id) {
		keep = -1;
		st->csel = st->ctop = 0;
	}
	st->route_id = rid;
	xasprintf(&id, "%lld", rid);
	if (tui_request(t, "route.show", json_pack("{s:s}", "route", id),
	    &data, &err) != 0) {
		xasprintf(&st->error, "route.show: %s", err);
		free(err);
		free(id);
		return;
	}
	free(id);
	st->route = data;
	st->read_at = time(NULL);
	st->cooling = routes_count_cooling(st, st->read_at);
	json_array_foreach(routes_channels(st), i, data)
		if (routes_int(data, "id") == keep)
			st->csel = i;
	if (st->csel >= json_array_size(routes_channels(st)))
		st->csel = 0;

	model = jx_str(r, "pattern");
	if (!routes_exact(model))
		model = jx_str(r, "alias");
	if (!routes_exact(model)) {
		st->note = xstrdup(_("The pattern matches many models; "
		    "route.explain needs one model name (give the route an "
		    "alias to explain it here)."));
		return;
	}
	if (tui_request(t, "route.explain", json_pack("{s:s}", "model",
	    model), &data, &err) != 0) {
		xasprintf(&st->note, "route.explain %s: %s", model, err);
		free(err);
		return;
	}
	st->explain = data;
}

static void *
routes_open(__unused struct tui *t)
{
	return (xcalloc(1, sizeof (struct routes_state)));
}

static void
routes_close(void *arg)
{
	struct routes_state	*st = arg;

	json_decref(st->routes);
	json_decref(st->route);
	json_decref(st->explain);
	free(st->error);
	free(st->note);
	free(st);
}

static void
routes_load(struct tui *t, void *arg)
{
	struct routes_state	*st = arg;
	json_t			*data = NULL;
	char			*err = NULL;

	free(st->error);
	st->error = NULL;
	if (tui_request(t, "route.list", NULL, &data, &err) != 0) {
		xasprintf(&st->error, "route.list: %s", err);
		free(err);
		return;
	}
	json_decref(st->routes);
	st->routes = json_incref(json_object_get(data, "items"));
	if (st->routes == NULL)
		st->routes = json_array();
	json_decref(data);
	routes_load_detail(t, st);
}

/* Select the route of id ref (tui_goto) and read its channels. */
static void
routes_select(struct tui *t, void *arg, json_t *ref)
{
	struct routes_state	*st = arg;
	size_t			*v, n, i;

	v = routes_visible(t, st, &n);
	for (i = 0; i < n; i++) {
		if (json_equal(json_object_get(json_array_get(st->routes,
		    v[i]), "id"), ref)) {
			st->sel = i;
			st->focus = ROUTES_FOCUS_ROUTES;
			routes_load_detail(t, st);
			break;
		}
	}
	free(v);
	tui_dirty(t);
}

/*
 * A request on the shown route finished: its channels' health and
 * cooldowns may have moved. Read it again on the next tick, not here:
 * events come for every view, shown or not, and in bursts.
 */
static void
routes_event(__unused struct tui *t, void *arg, const char *topic, json_t *data)
{
	struct routes_state	*st = arg;

	if (strcmp(topic, "logs") == 0 && st->route_id != 0 &&
	    routes_int(data, "route_id") == st->route_id)
		st->stale = 1;
}

static void
routes_tick(struct tui *t, void *arg)
{
	struct routes_state	*st = arg;
	json_t			*r = routes_selected(t, st);
	time_t			 now = time(NULL);
	int			 n;

	/* The filter changed which route is selected. */
	if (r != NULL && routes_int(r, "id") != st->route_id) {
		routes_load_detail(t, st);
		tui_dirty(t);
		return;
	}
	if (st->route == NULL)
		return;
	n = routes_count_cooling(st, now);
	if (n < st->cooling ||
	    (st->stale && now - st->read_at >= ROUTES_STALE_SEC)) {
		/* A cooldown ended or a request used the route. */
		routes_load_detail(t, st);
		tui_dirty(t);
		return;
	}
	if (n > 0)
		tui_dirty(t);
}

/* Keys. */

/* Ask for a new value of a channel's field, set it, show the effect. */
static void
routes_edit(struct tui *t, struct routes_state *st,
    const struct routes_edit *ed)
{
	json_t		*ch = routes_channel(st), *data = NULL;
	char		 who[128], label[256], *cur, *text = NULL, *err = NULL;
	const char	*bad = NULL;
	long long	 id, v;
	double		 was;

	if (ch == NULL) {
		tui_status(t, "%s", _("no channel selected"));
		return;
	}
	id = routes_int(ch, "id");
	was = routes_real(ch, "probability");
	routes_who(ch, who, sizeof who);
	snprintf(label, sizeof label, _(ed->prompt), id, who);
	xasprintf(&cur, "%lld", routes_int(ch, ed->field));
	if (tui_prompt(t, label, cur, &text) != 1) {
		free(cur);
		return;
	}
	free(cur);
	v = strtonum(text, LLONG_MIN, LLONG_MAX, &bad);
	if (bad != NULL) {
		tui_status(t, _("%s: not a whole number"), text);
		free(text);
		return;
	}
	free(text);
	if (tui_request(t, "channel.set", json_pack("{s:I, s:I}", "id",
	    (json_int_t)id, ed->field, (json_int_t)v), &data, &err) != 0) {
		tui_status(t, "channel.set: %s", err);
		free(err);
		return;
	}
	json_decref(data);
	routes_load(t, st);
	ch = routes_channel(st);
	if (ch != NULL && routes_int(ch, "id") == id)
		tui_status(t, _("channel %lld: %s %lld, probability %.1f%% "
		    "(was %.1f%%)"), id, _(ed->name), v, routes_real(ch,
		    "probability"), was);
	else
		tui_status(t, _("channel %lld: %s %lld"), id, _(ed->name), v);
}

static void
routes_clear_cooldown(struct tui *t, struct routes_state *st)
{
	json_t		*ch = routes_channel(st), *data = NULL;
	char		 who[128], q[256], *err = NULL;
	long long	 id;

	if (ch == NULL) {
		tui_status(t, "%s", _("no channel selected"));
		return;
	}
	id = routes_int(ch, "id");
	routes_who(ch, who, sizeof who);
	if (routes_cooldown(st, ch, time(NULL)) == 0) {
		tui_status(t, _("channel %lld (%s) is not cooling down"), id,
		    who);
		return;
	}
	snprintf(q, sizeof q, _("End the cooldown of channel %lld (%s) now?"),
	    id, who);
	if (!tui_confirm(t, q))
		return;
	if (tui_request(t, "channel.cooldown-clear", json_pack("{s:I}", "id",
	    (json_int_t)id), &data, &err) != 0) {
		tui_status(t, "channel.cooldown-clear: %s", err);
		free(err);
		return;
	}
	json_decref(data);
	routes_load(t, st);
	tui_status(t, _("channel %lld: cooldown ended"), id);
}

/* Move a selection by delta within n rows (-1/+1, a page, or the ends). */
static size_t
routes_move(size_t cur, size_t n, long delta)
{
	long	v = (long)cur + delta;

	if (n == 0 || v < 0)
		return (0);
	return ((size_t)v >= n ? n - 1 : (size_t)v);
}

/* How far a key moves a selection, or 0 when it is no movement key. */
static const struct {
	int	 key;
	long	 delta;
} routes_moves[] = {
	{ 'j', 1 }, { SCR_FKEY(KEY_DOWN), 1 },
	{ 'k', -1 }, { SCR_FKEY(KEY_UP), -1 },
	{ SCR_FKEY(KEY_NPAGE), ROUTES_PAGE }, { SCR_FKEY(KEY_PPAGE),
	    -ROUTES_PAGE },
	{ 'g', LONG_MIN / 2 }, { SCR_FKEY(KEY_HOME), LONG_MIN / 2 },
	{ 'G', LONG_MAX / 2 }, { SCR_FKEY(KEY_END), LONG_MAX / 2 },
};

static int
routes_key(struct tui *t, void *arg, int key)
{
	struct routes_state	*st = arg;
	size_t			*v, n, i, was;

	for (i = 0; i < nitems(routes_moves); i++) {
		if (routes_moves[i].key != key)
			continue;
		/* Zoomed in, j and k go through the candidates. */
		if (st->focus == ROUTES_FOCUS_CHANNELS || st->zoom) {
			st->csel = routes_move(st->csel, json_array_size(
			    routes_channels(st)), routes_moves[i].delta);
		} else {
			v = routes_visible(t, st, &n);
			free(v);
			was = st->sel;
			st->sel = routes_move(st->sel, n,
			    routes_moves[i].delta);
			if (st->sel != was || st->route == NULL)
				routes_load_detail(t, st);
		}
		tui_dirty(t);
		return (1);
	}
	for (i = 0; i < nitems(routes_edits); i++) {
		if (routes_edits[i].key == key) {
			routes_edit(t, st, &routes_edits[i]);
			tui_dirty(t);
			return (1);
		}
	}
	if (st->zoom && (key == 'x' || key == 27 || key == '\r' ||
	    key == SCR_FKEY(KEY_ENTER)))
		st->zoom = 0;
	else if (key == 'x')
		st->zoom = st->route != NULL;
	else if (key == '\r' || key == SCR_FKEY(KEY_ENTER))
		st->focus = st->focus == ROUTES_FOCUS_ROUTES &&
		    json_array_size(routes_channels(st)) > 0 ?
		    ROUTES_FOCUS_CHANNELS : ROUTES_FOCUS_ROUTES;
	else if ((key == 'l' || key == SCR_FKEY(KEY_RIGHT)) &&
	    json_array_size(routes_channels(st)) > 0)
		st->focus = ROUTES_FOCUS_CHANNELS;
	else if (key == 'h' || key == SCR_FKEY(KEY_LEFT) ||
	    (key == 27 && st->focus == ROUTES_FOCUS_CHANNELS))
		st->focus = ROUTES_FOCUS_ROUTES;
	else if (key == 'c')
		routes_clear_cooldown(t, st);
	else
		return (0);
	tui_dirty(t);
	return (1);
}

/* Drawing. */

/* Keep a selection inside a window of rows lines starting at *top. */
static void
routes_scroll(size_t sel, size_t *top, int rows)
{
	if (rows < 1)
		rows = 1;
	if (sel < *top)
		*top = sel;
	if (sel >= *top + (size_t)rows)
		*top = sel - (size_t)rows + 1;
}

static void
routes_draw_list(struct tui *t, struct routes_state *st, int y, int x,
    int h, int w)
{
	json_t		*r;
	enum scr_color	 c, rc;
	const char	*alias, *state;
	char		 title[128], right[32];
	size_t		*v, n, i;
	int		 row, rows = h - 2, focus, rw;

	v = routes_visible(t, st, &n);
	snprintf(title, sizeof title, _("Routes (%zu)"), n);
	scr_box(y, x, h, w, title);
	if (n == 0)
		scr_put(y + 1, x + 2, w - 4, SCR_DIM, tui_filter(t)[0] !=
		    '\0' ? _("nothing matches the filter") :
		    _("no routes yet: add sites and accounts"));
	if (st->sel >= n)
		st->sel = n > 0 ? n - 1 : 0;
	routes_scroll(st->sel, &st->top, rows);
	focus = st->focus == ROUTES_FOCUS_ROUTES;
	for (i = st->top, row = y + 1; i < n && row < y + h - 1; i++, row++) {
		r = json_array_get(st->routes, v[i]);
		c = i == st->sel && focus ? SCR_SELECTED : SCR_NORMAL;
		if (c == SCR_SELECTED)
			scr_fill(row, x + 1, w - 2, c);
		/* The selected route is marked in monochrome and unfocused. */
		scr_put(row, x + 1, 1, c, i == st->sel ? ">" : " ");
		rc = c;
		if (!jx_bool(r, "enabled")) {
			state = _("off");
			rc = c == SCR_SELECTED ? c : SCR_DIM;
		} else if (!jx_bool(r, "available")) {
			state = _("unavailable");
			rc = c == SCR_SELECTED ? c : SCR_WARN;
		} else {
			snprintf(right, sizeof right, _("%lld ch"),
			    routes_int(r, "channels"));
			state = right;
		}
		rw = (int)width_utf8(state);
		if (rw > (w - 4) / 2)
			rw = (w - 4) / 2;
		scr_put(row, x + w - 2 - rw, rw, rc, state);
		alias = jx_str(r, "alias");
		scr_putf(row, x + 2, w - 5 - rw, c, "%s%s%s%s",
		    jx_str(r, "pattern") != NULL ? jx_str(r, "pattern") : "?",
		    alias != NULL ? " (" : "", alias != NULL ? alias : "",
		    alias != NULL ? ")" : "");
	}
	free(v);
}

static void
routes_draw_channels(struct routes_state *st, int y, int x, int h, int w)
{
	json_t		*chs = routes_channels(st), *ch;
	enum scr_color	 c, bc;
	time_t		 now = time(NULL);
	char		 title[256], who[128], s[32];
	size_t		 i;
	long long	 left;
	int		 in = w - 4, nw, bw, cx, row, focus, off, fixed;

	snprintf(title, sizeof title, _("Channels of %s (%s)"),
	    jx_str(st->route, "pattern") != NULL ? jx_str(st->route,
	    "pattern") : "-", jx_str(st->route, "strategy") != NULL ?
	    jx_str(st->route, "strategy") : "-");
	scr_box(y, x, h, w, st->route != NULL ? title : _("Channels"));
	if (st->route == NULL)
		return;
	if (json_array_size(chs) == 0) {
		scr_put(y + 1, x + 2, in, SCR_DIM, _("no channels"));
		return;
	}
	fixed = ROUTES_COL_ID + ROUTES_COL_PCT + ROUTES_COL_PRIO +
	    ROUTES_COL_WT + ROUTES_COL_CD + 2;
	nw = 0;
	json_array_foreach(chs, i, ch) {
		routes_who(ch, who, sizeof who);
		if ((int)width_utf8(who) > nw)
			nw = (int)width_utf8(who);
	}
	if (nw < (int)width_utf8(_("SITE/ACCOUNT")))
		nw = (int)width_utf8(_("SITE/ACCOUNT"));
	if (nw > (in - fixed) / 2)
		nw = (in - fixed) / 2;
	if (nw < 6)
		nw = 6;
	bw = in - fixed - nw;
	if (bw > 24 && bw > in / 3)
		bw = in / 3 > 24 ? in / 3 : 24;
	/* The header, in the order the rows put their cells. */
	cx = x + 2;
	scr_put(y + 1, cx, ROUTES_COL_ID, SCR_DIM, _("ID"));
	cx += ROUTES_COL_ID;
	scr_put(y + 1, cx, nw, SCR_DIM, _("SITE/ACCOUNT"));
	cx += nw + 1;
	scr_put(y + 1, cx, bw + ROUTES_COL_PCT, SCR_DIM, _("PROBABILITY"));
	cx += bw + ROUTES_COL_PCT + 1;
	scr_put(y + 1, cx, ROUTES_COL_PRIO, SCR_DIM, _("PRIO"));
	cx += ROUTES_COL_PRIO;
	scr_put(y + 1, cx, ROUTES_COL_WT, SCR_DIM, _("WEIGHT"));
	cx += ROUTES_COL_WT;
	scr_put(y + 1, cx, ROUTES_COL_CD, SCR_DIM, _("COOLDOWN"));
	routes_scroll(st->csel, &st->ctop, h - 3);
	focus = st->focus == ROUTES_FOCUS_CHANNELS;
	for (i = st->ctop, row = y + 2; i < json_array_size(chs) &&
	    row < y + h - 1; i++, row++) {
		ch = json_array_get(chs, i);
		off = !jx_bool(ch, "enabled");
		c = i == st->csel && focus ? SCR_SELECTED : off ? SCR_DIM :
		    SCR_NORMAL;
		if (c == SCR_SELECTED)
			scr_fill(row, x + 1, w - 2, c);
		scr_put(row, x + 1, 1, c, i == st->csel ? ">" : " ");
		cx = x + 2;
		scr_putf(row, cx, ROUTES_COL_ID - 1, c, "%lld",
		    routes_int(ch, "id"));
		cx += ROUTES_COL_ID;
		routes_who(ch, who, sizeof who);
		scr_put(row, cx, nw, c, who);
		cx += nw + 1;
		bc = jx_bool(ch, "eligible") ? SCR_BAR : SCR_DIM;
		scr_bar(row, cx, bw, routes_real(ch, "probability") / 100, bc);
		cx += bw;
		snprintf(s, sizeof s, "%.1f%%", routes_real(ch, "probability"));
		scr_put(row, cx + ROUTES_COL_PCT - 1 - (int)strlen(s),
		    (int)strlen(s), c, s);
		cx += ROUTES_COL_PCT + 1;
		scr_putf(row, cx, ROUTES_COL_PRIO - 1, c, "%lld",
		    routes_int(ch, "priority"));
		cx += ROUTES_COL_PRIO;
		scr_putf(row, cx, ROUTES_COL_WT - 1, c, "%lld",
		    routes_int(ch, "weight"));
		cx += ROUTES_COL_WT;
		left = routes_cooldown(st, ch, now);
		if (off)
			scr_put(row, cx, ROUTES_COL_CD, c, _("disabled"));
		else if (left >= 60)
			scr_putf(row, cx, ROUTES_COL_CD, c == SCR_SELECTED ? c :
			    SCR_WARN, _("%lldm %02llds"), left / 60, left % 60);
		else if (left > 0)
			scr_putf(row, cx, ROUTES_COL_CD, c == SCR_SELECTED ? c :
			    SCR_WARN, _("%llds"), left);
		else
			scr_put(row, cx, ROUTES_COL_CD, c == SCR_SELECTED ? c :
			    SCR_DIM, "-");
	}
}

/*
 * Put text on at most lines lines of w cells, broken at spaces; returns
 * the lines used. A word wider than a line is cut.
 */
static int
routes_wrap(int y, int x, int w, int lines, enum scr_color c,
    const char *text)
{
	const char	*p = text, *q, *brk;
	char		*line;
	int		 n = 0, fits;

	while (p != NULL && *p != '\0' && n < lines) {
		/* The most whole words that fit. */
		brk = NULL;
		for (q = p;; q++) {
			if (*q != ' ' && *q != '\0')
				continue;
			line = xstrndup(p, (size_t)(q - p));
			fits = (int)width_utf8(line) <= w;
			free(line);
			if (!fits)
				break;
			brk = q;
			if (*q == '\0')
				break;
		}
		if (brk == NULL && (brk = strchr(p, ' ')) == NULL)
			brk = p + strlen(p);
		line = xstrndup(p, (size_t)(brk - p));
		scr_put(y + n++, x, w, c, line);
		free(line);
		/* cppcheck-suppress nullPointerRedundantCheck ; brk is set */
		for (p = brk; *p == ' '; p++)
			;
	}
	return (n);
}

static int
routes_clamp(int v, int lo, int hi)
{
	if (v > hi)
		v = hi;
	return (v < lo ? lo : v);
}

/*
 * The widths of the columns the first n of factors take in rows lines:
 * each column as wide as its own cells (values cut at 12 cells). Returns
 * the cells they take, gaps included.
 */
static int
routes_factor_widths(json_t *factors, size_t n, int rows, int *kw, int *vw)
{
	const char	*k;
	json_t		*v;
	char		*cell;
	size_t		 i = 0;
	int		 c, total = 0, cols = ((int)n + rows - 1) / rows;

	memset(kw, 0, n * sizeof *kw);
	memset(vw, 0, n * sizeof *vw);
	json_object_foreach(factors, k, v) {
		if (i >= n)
			break;
		c = (int)i++ / rows;
		cell = output_cell(v);
		if ((int)width_utf8(k) > kw[c])
			kw[c] = (int)width_utf8(k);
		if ((int)width_utf8(cell) > vw[c])
			vw[c] = (int)width_utf8(cell) < 12 ?
			    (int)width_utf8(cell) : 12;
		free(cell);
	}
	for (c = 0; c < cols; c++)
		total += kw[c] + 1 + vw[c] + (c > 0 ? 3 : 0);
	return (total);
}

/*
 * The factors of a candidate as the reply gives them, "name value" in
 * columns filled downwards: the fewest columns that hold them all in
 * lines lines and no more than ROUTES_FACTOR_ROWS (a tall list reads
 * badly), else as many as fit in w cells, showing the first ones.
 * Returns the lines used.
 */
static int
routes_draw_factors(json_t *factors, int y, int x, int w, int lines)
{
	const char	*k;
	json_t		*v;
	char		*cell;
	size_t		 n = json_object_size(factors), shown, i = 0;
	int		*kw, *vw, cols, rows, c, cx = x;

	if (n == 0 || lines < 1)
		return (0);
	kw = xcalloc(n, sizeof *kw);
	vw = xcalloc(n, sizeof *vw);
	for (cols = 1, c = 1; c <= (int)n; c++) {
		rows = routes_clamp(((int)n + c - 1) / c, 1, lines);
		shown = (size_t)rows * (size_t)c < n ? (size_t)rows * (size_t)c :
		    n;
		if (c > 1 &&
		    routes_factor_widths(factors, shown, rows, kw, vw) > w)
			break;
		cols = c;
		if (((int)n + c - 1) / c <= (lines < ROUTES_FACTOR_ROWS ?
		    lines : ROUTES_FACTOR_ROWS))
			break;
	}
	rows = routes_clamp(((int)n + cols - 1) / cols, 1, lines);
	shown = (size_t)rows * (size_t)cols < n ? (size_t)rows * (size_t)cols :
	    n;
	routes_factor_widths(factors, shown, rows, kw, vw);
	if (cols == 1 && kw[0] + 1 + vw[0] > w) {
		kw[0] = kw[0] < w / 2 ? kw[0] : w / 2;
		vw[0] = w - kw[0] - 1;
	}
	json_object_foreach(factors, k, v) {
		if (i >= shown)
			break;
		c = (int)i / rows;
		if ((int)i % rows == 0 && c > 0)
			cx += kw[c - 1] + 1 + vw[c - 1] + 3;
		cell = output_cell(v);
		scr_put(y + (int)i % rows, cx, kw[c], SCR_DIM, k);
		scr_put(y + (int)i % rows, cx + kw[c] + 1, vw[c], SCR_NORMAL,
		    cell);
		free(cell);
		i++;
	}
	free(kw);
	free(vw);
	return (rows);
}

/*
 * Every candidate in a line: id, probability, site/account, reason code
 * and reason; the selected channel's marked. Returns the lines used.
 */
static int
routes_draw_candidates(struct routes_state *st, json_t *ch, int y, int x,
    int w, int lines)
{
	json_t		*cands, *cand;
	const char	*code;
	enum scr_color	 c;
	char		 who[128];
	size_t		 i;
	int		 n = 0, nw = 0, cx;

	cands = json_object_get(st->explain, "candidates");
	json_array_foreach(cands, i, cand) {
		routes_who(cand, who, sizeof who);
		if ((int)width_utf8(who) > nw)
			nw = (int)width_utf8(who);
	}
	if (nw > w / 3)
		nw = w / 3;
	json_array_foreach(cands, i, cand) {
		if (n >= lines)
			break;
		c = jx_bool(cand, "eligible") ? SCR_NORMAL : SCR_DIM;
		if (ch != NULL && routes_int(cand, "channel_id") ==
		    routes_int(ch, "id")) {
			c = SCR_TITLE;
			scr_put(y + n, x, 1, c, ">");
		}
		scr_putf(y + n, x + 1, ROUTES_COL_ID - 1, c, "%lld",
		    routes_int(cand, "channel_id"));
		cx = x + ROUTES_COL_ID;
		scr_putf(y + n, cx, ROUTES_COL_PCT, c, "%5.1f%%",
		    routes_real(cand, "probability"));
		cx += ROUTES_COL_PCT + 1;
		routes_who(cand, who, sizeof who);
		scr_put(y + n, cx, nw, c, who);
		cx += nw + 2;
		code = jx_str(cand, "reason_code");
		scr_putf(y + n, cx, x + w - cx, c, "%s: %s", code != NULL ?
		    code : "-", jx_str(cand, "reason") != NULL ?
		    jx_str(cand, "reason") : "");
		n++;
	}
	return (n);
}

/*
 * The explanation: the router's next pick, then the selected channel's
 * candidate: its reason code and probability, the reason in words and
 * every factor. Zoomed in, all candidates come first, one line each.
 */
static void
routes_draw_explain(struct routes_state *st, int y, int x, int h, int w)
{
	json_t		*ch = routes_channel(st), *cand, *sel;
	const char	*code;
	char		 title[256], who[128];
	int		 row = y + 1, last = y + h - 1, in = w - 4, n;

	if (st->explain != NULL)
		snprintf(title, sizeof title, _("Explain %s"),
		    jx_str(st->explain, "model"));
	scr_box(y, x, h, w, st->explain != NULL ? title : _("Explain"));
	if (st->route == NULL)
		return;
	if (st->explain == NULL) {
		/* No explanation: the note, and route.show's reason. */
		row += routes_wrap(row, x + 2, in, last - row, SCR_DIM,
		    st->note);
		if (ch != NULL && row < last)
			routes_wrap(row, x + 2, in, last - row, SCR_NORMAL,
			    jx_str(ch, "reason"));
		return;
	}
	sel = json_object_get(st->explain, "selected");
	if (json_is_object(sel))
		scr_putf(row++, x + 2, in, SCR_TITLE, _("Next pick: channel "
		    "%lld on %s, %.1f%%; %s, priority layer %lld"),
		    routes_int(sel, "channel_id"), jx_str(sel, "site") != NULL ?
		    jx_str(sel, "site") : "?", routes_real(sel, "probability"),
		    jx_str(st->explain, "strategy") != NULL ?
		    jx_str(st->explain, "strategy") : "-",
		    routes_int(st->explain, "layer"));
	else
		scr_put(row++, x + 2, in, SCR_ERR,
		    _("No channel can serve it now"));
	if (st->zoom && row < last) {
		row += routes_draw_candidates(st, ch, row + 1, x + 2, in,
		    last - row - 2) + 2;
	}
	if (ch == NULL || row >= last)
		return;
	routes_who(ch, who, sizeof who);
	if ((cand = routes_candidate(st, routes_int(ch, "id"))) == NULL) {
		scr_putf(row, x + 2, in, SCR_DIM, _("Channel %lld (%s) is no "
		    "candidate for this model"), routes_int(ch, "id"), who);
		return;
	}
	code = jx_str(cand, "reason_code");
	scr_putf(row++, x + 2, in, jx_bool(cand, "eligible") ? SCR_OK :
	    SCR_WARN, _("Channel %lld (%s): %s, %.1f%%"), routes_int(ch, "id"),
	    who, code != NULL ? code : "-", routes_real(cand, "probability"));
	/* The reason in a few lines; the factors say the rest. */
	n = routes_clamp((last - row) / 3, 1, ROUTES_REASON_LINES);
	row += routes_wrap(row, x + 2, in, n < last - row ? n : last - row,
	    SCR_NORMAL, jx_str(cand, "reason"));
	row += routes_draw_factors(json_object_get(cand, "factors"), row,
	    x + 2, in, last - row);
	/* Room to spare below: every candidate, as zoomed in. */
	if (!st->zoom && last - row >= 3)
		routes_draw_candidates(st, ch, row + 1, x + 2, in,
		    last - row - 1);
}


/*
 * Wide terminals: the routes left, channels and explanation right.
 * Narrower: the three stacked, the routes a third at most, the channels
 * as tall as they need up to half of the rest.
 */
static void
routes_draw(struct tui *t, void *arg, int y, int x, int h, int w)
{
	struct routes_state	*st = arg;
	size_t			*v, n;
	int			 nch, lw, lh, ch;

	if (st->error != NULL) {
		scr_put(y++, x, w, SCR_ERR, st->error);
		h--;
	}
	if (st->zoom) {
		routes_draw_explain(st, y, x, h, w);
		return;
	}
	nch = (int)json_array_size(routes_channels(st));
	if (w >= ROUTES_SIDE_MINW) {
		lw = routes_clamp(w * 3 / 10, 28, 44);
		routes_draw_list(t, st, y, x, h, lw);
		ch = routes_clamp(nch + 3, 4, h / 2);
		routes_draw_channels(st, y, x + lw, ch, w - lw);
		routes_draw_explain(st, y + ch, x + lw, h - ch, w - lw);
		return;
	}
	v = routes_visible(t, st, &n);
	free(v);
	lh = routes_clamp((int)n + 2, 4, h / 3);
	ch = routes_clamp(nch + 3, 4, (h - lh) / 2);
	if (h - lh - ch < 4)
		ch = h - lh;
	routes_draw_list(t, st, y, x, lh, w);
	routes_draw_channels(st, y + lh, x, ch, w);
	if (h - lh - ch >= 4)
		routes_draw_explain(st, y + lh + ch, x, h - lh - ch, w);
}

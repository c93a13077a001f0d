/*
 * The dashboard: money (balance, today's spend, income and net), traffic
 * over the last 24 hours and per minute, balance by site, the week's
 * spend per day, each site's availability hour by hour, the jobs and the
 * recent events, in boxed panels that reflow with the terminal's width.
 * It only reads. A load is five requests (dash_fetches[]); the view
 * reloads itself a minute after its last load, or ten seconds after new
 * request logs arrived, so the numbers follow the traffic without asking
 * an idle daemon again and again. The per-minute rates cost no request:
 * they count the "logs" events over a sliding minute.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "compat.h"
#include "jx.h"
#include "tui.h"
#include "width.h"
#include "xmalloc.h"

#define DASH_RATE_SEC	60	/* the per-minute window */
#define DASH_IDLE_SEC	60	/* reload this long after the last load */
#define DASH_BUSY_SEC	10	/* or this long, when logs came meanwhile */
#define DASH_CARD_W	18	/* the least cells of an overview card */
#define DASH_HOURS	24	/* stats.show's "hourly" entries */
#define DASH_MAX_ROWS	5
#define DASH_MAX_COLS	3

/* The replies a load keeps, one request each. */
enum dash_data {
	DASH_D_BALANCE, DASH_D_DAY, DASH_D_WEEK, DASH_D_JOBS, DASH_D_EVENTS,
	DASH_D_COUNT
};

static const struct {
	const char	*cmd;
	const char	*args;		/* JSON, or NULL */
} dash_fetches[DASH_D_COUNT] = {
	[DASH_D_BALANCE] = { "balance.show", NULL },
	[DASH_D_DAY] = { "stats.show", "{\"days\": 1}" },
	[DASH_D_WEEK] = { "stats.show", "{\"days\": 7}" },
	[DASH_D_JOBS] = { "job.list", NULL },
	[DASH_D_EVENTS] = { "event.list", "{\"limit\": 200}" },
};

/* One second of the per-minute window: a ring indexed by the time. */
struct dash_second {
	time_t		 sec;
	long long	 requests;
	long long	 tokens;
};

struct dash_state {
	json_t			*data[DASH_D_COUNT];	/* last good replies */
	char			*error;		/* the last load's, or NULL */
	time_t			 loaded;
	int			 fresh;		/* logs came since the load */
	int			 seeded;	/* the window has the backlog */
	long long		 last_log;	/* the newest log counted */
	struct dash_second	 rate[DASH_RATE_SEC];
	long long		 shown_rpm;	/* what the screen shows, */
	long long		 shown_tpm;	/* to redraw only on change */
	time_t			 shown_min;	/* the minute drawn */
};

/* A site's line in the balance panel. */
struct dash_site {
	const char	*name;
	double		 balance;
};

static void	*dash_open(struct tui *);
static void	 dash_load(struct tui *, void *);
static void	 dash_draw(struct tui *, void *, int, int, int, int);
static void	 dash_event(struct tui *, void *, const char *, json_t *);
static void	 dash_tick(struct tui *, void *);
static void	 dash_close(void *);

/* Nothing to do but look: r (reload) and the rest are the framework's. */
static const struct tui_action dash_actions[] = {
	{ 0, NULL, NULL }
};

const struct tui_view view_dash = {
	"dash", N_("Dashboard"), dash_open, dash_load, dash_draw, NULL,
	dash_event, dash_tick, dash_close, dash_actions, NULL, NULL
};

/* Formatting. */

/* An ISO 8601 UTC time of a reply as a Unix time; 0 when there is none. */
static time_t
dash_time(const char *iso)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	if (iso == NULL || strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return (0);
	return (timegm(&tm));
}

/* Dollars with the digits that matter at that size. */
static void
dash_usd(char *s, size_t len, double v)
{
	const char	*sign = v < 0 ? "-" : "";

	if (v < 0)
		v = -v;
	if (v == 0)
		snprintf(s, len, "$0.00");
	else if (v < 0.0001)
		snprintf(s, len, "%s<$0.0001", sign);
	else if (v < 1)
		snprintf(s, len, "%s$%.4f", sign, v);
	else if (v < 10000)
		snprintf(s, len, "%s$%.2f", sign, v);
	else
		snprintf(s, len, "%s$%.0f", sign, v);
}

/* Dollars in at most five cells, for a chart's columns. */
static void
dash_usd_short(char *s, size_t len, double v)
{
	if (v <= 0)
		snprintf(s, len, "0");
	else if (v < 0.01)
		snprintf(s, len, "<.01");
	else if (v < 10)
		snprintf(s, len, "%.2f", v);
	else if (v < 1000)
		snprintf(s, len, "%.0f", v);
	else
		snprintf(s, len, "%.0fk", v / 1000);
}

/* A count in at most six cells: 950, 12345, 1.2M. */
static void
dash_count(char *s, size_t len, long long n)
{
	if (n < 100000)
		snprintf(s, len, "%lld", n);
	else if (n < 1000000)
		snprintf(s, len, "%.0fk", n / 1e3);
	else if (n < 1000000000)
		snprintf(s, len, "%.1fM", n / 1e6);
	else
		snprintf(s, len, "%.1fG", n / 1e9);
}

/* How long until a time, as the jobs panel says it. */
static void
dash_until(char *s, size_t len, time_t when, time_t now)
{
	long long	d = (long long)(when - now);

	if (when == 0)
		snprintf(s, len, "-");
	else if (d <= 0)
		snprintf(s, len, "%s", _("due now"));
	else if (d < 3600)
		snprintf(s, len, _("in %lldm"), (d + 59) / 60);
	else if (d < 86400)
		snprintf(s, len, _("in %lldh %02lldm"), d / 3600,
		    d / 60 % 60);
	else
		snprintf(s, len, _("in %lldd %lldh"), d / 86400,
		    d / 3600 % 24);
}

/* Text put flush right in w cells at y, x. */
static void
dash_put_right(int y, int x, int w, enum scr_color c, const char *s)
{
	int	n = (int)width_utf8(s);

	if (n > w)
		n = w;
	scr_put(y, x + w - n, n, c, s);
}

/* Text centred in w cells at y, x. */
static void
dash_put_centre(int y, int x, int w, enum scr_color c, const char *s)
{
	int	n = (int)width_utf8(s);

	scr_put(y, n < w ? x + (w - n) / 2 : x, w, c, s);
}

/* n copies of a glyph (one cell each), for bars drawn with scr_put. */
static char *
dash_repeat(const char *glyph, int n)
{
	size_t	 g = strlen(glyph);
	char	*s;
	int	 i;

	/* Zeroed and one longer than what is copied: terminated. */
	s = xcalloc((size_t)(n > 0 ? n : 0) * g + 1, 1);
	for (i = 0; i < n; i++)
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
		memcpy(s + (size_t)i * g, glyph, g);
	return (s);
}

/* Data. */

static double
dash_real(json_t *o, const char *key)
{
	double	v = 0;

	jx_real(o, key, &v);
	return (v);
}

/* The per-minute window: count one request finished at sec. */
static void
dash_count_log(struct dash_state *st, time_t sec, long long tokens)
{
	struct dash_second	*s = &st->rate[sec % DASH_RATE_SEC];

	if (s->sec != sec) {
		s->sec = sec;
		s->requests = s->tokens = 0;
	}
	s->requests++;
	s->tokens += tokens;
}

static void
dash_rates(struct dash_state *st, time_t now, long long *rpm, long long *tpm)
{
	size_t	i;

	*rpm = *tpm = 0;
	for (i = 0; i < DASH_RATE_SEC; i++) {
		if (st->rate[i].sec > now - DASH_RATE_SEC &&
		    st->rate[i].sec <= now) {
			*rpm += st->rate[i].requests;
			*tpm += st->rate[i].tokens;
		}
	}
}

static long long
dash_log_tokens(json_t *item)
{
	long long	in = 0, out = 0;

	jx_int(item, "prompt_tokens", &in);
	jx_int(item, "completion_tokens", &out);
	return (in + out);
}

/*
 * At start the minute so far is in the log, not in events: count the
 * requests that arrived in it, so the rates are right from the first
 * screen. Rows an event counted already are skipped, and events at or
 * below the newest id seen here are the same rows again.
 */
static void
dash_seed(struct tui *t, struct dash_state *st)
{
	json_t		*data = NULL, *item;
	char		*err = NULL;
	time_t		 now = time(NULL), when;
	long long	 id, counted = st->last_log;
	size_t		 i;

	if (tui_request(t, "log.list", json_pack("{s:i}", "limit", 200),
	    &data, &err) != 0) {
		free(err);
		return;
	}
	json_array_foreach(json_object_get(data, "items"), i, item) {
		id = 0;
		jx_int(item, "id", &id);
		if (id <= counted)
			continue;
		if (id > st->last_log)
			st->last_log = id;
		when = dash_time(jx_str(item, "time"));
		if (when > now - DASH_RATE_SEC && when <= now)
			dash_count_log(st, when, dash_log_tokens(item));
	}
	json_decref(data);
	st->seeded = 1;
}

static void *
dash_open(__unused struct tui *t)
{
	return (xcalloc(1, sizeof (struct dash_state)));
}

static void
dash_close(void *arg)
{
	struct dash_state	*st = arg;
	size_t			 i;

	for (i = 0; i < DASH_D_COUNT; i++)
		json_decref(st->data[i]);
	free(st->error);
	free(st);
}

/* A reply that fails keeps the last good one on screen, under the error. */
static void
dash_load(struct tui *t, void *arg)
{
	struct dash_state	*st = arg;
	json_t			*data, *args;
	char			*err;
	size_t			 i;

	free(st->error);
	st->error = NULL;
	for (i = 0; i < DASH_D_COUNT; i++) {
		args = dash_fetches[i].args != NULL ?
		    json_loads(dash_fetches[i].args, 0, NULL) : NULL;
		if (tui_request(t, dash_fetches[i].cmd, args, &data,
		    &err) != 0) {
			if (st->error == NULL)
				xasprintf(&st->error, "%s: %s",
				    dash_fetches[i].cmd, err);
			free(err);
			continue;
		}
		json_decref(st->data[i]);
		st->data[i] = data;
	}
	if (!st->seeded && st->error == NULL)
		dash_seed(t, st);
	st->loaded = time(NULL);
	st->fresh = 0;
}

static void
dash_event(__unused struct tui *t, void *arg, const char *topic, json_t *data)
{
	struct dash_state	*st = arg;
	long long		 id = 0;

	if (strcmp(topic, "logs") != 0)
		return;
	jx_int(data, "id", &id);
	if (id != 0 && id <= st->last_log)
		return;
	if (id > st->last_log)
		st->last_log = id;
	dash_count_log(st, time(NULL), dash_log_tokens(data));
	st->fresh = 1;
}

/*
 * Once a second while shown: reload when due, else redraw only when what
 * the screen shows moved (a rate, or a countdown's minute), which keeps
 * an idle dashboard quiet over SSH.
 */
static void
dash_tick(struct tui *t, void *arg)
{
	struct dash_state	*st = arg;
	time_t			 now = time(NULL);
	long long		 rpm, tpm;

	if (now - st->loaded >= DASH_IDLE_SEC ||
	    (st->fresh && now - st->loaded >= DASH_BUSY_SEC)) {
		dash_load(t, st);
		tui_dirty(t);
		return;
	}
	dash_rates(st, now, &rpm, &tpm);
	if (rpm != st->shown_rpm || tpm != st->shown_tpm ||
	    now / 60 != st->shown_min)
		tui_dirty(t);
}

/* The overview: cards of a label over a value. */

static json_t *
dash_total(struct dash_state *st)
{
	return (json_object_get(st->data[DASH_D_BALANCE], "total"));
}

static json_t *
dash_day_totals(struct dash_state *st)
{
	return (json_object_get(st->data[DASH_D_DAY], "totals"));
}

static enum scr_color
dash_card_balance(struct dash_state *st, char *s, size_t len)
{
	if (dash_total(st) == NULL)
		return (SCR_DIM);
	dash_usd(s, len, dash_real(dash_total(st), "balance_usd"));
	return (SCR_TITLE);
}

static enum scr_color
dash_card_spend(struct dash_state *st, char *s, size_t len)
{
	if (dash_total(st) == NULL)
		return (SCR_DIM);
	dash_usd(s, len, dash_real(dash_total(st), "today_spend_usd"));
	return (SCR_NORMAL);
}

static enum scr_color
dash_card_income(struct dash_state *st, char *s, size_t len)
{
	if (dash_total(st) == NULL)
		return (SCR_DIM);
	dash_usd(s, len, dash_real(dash_total(st), "today_income_usd"));
	return (SCR_NORMAL);
}

static enum scr_color
dash_card_net(struct dash_state *st, char *s, size_t len)
{
	double	net;
	char	v[32];

	if (dash_total(st) == NULL)
		return (SCR_DIM);
	net = dash_real(dash_total(st), "today_income_usd") -
	    dash_real(dash_total(st), "today_spend_usd");
	dash_usd(v, sizeof v, net);
	snprintf(s, len, "%s%s", net > 0 ? "+" : "", v);
	return (net < 0 ? SCR_WARN : SCR_OK);
}

static enum scr_color
dash_card_requests(struct dash_state *st, char *s, size_t len)
{
	long long	n = 0;

	if (dash_day_totals(st) == NULL)
		return (SCR_DIM);
	jx_int(dash_day_totals(st), "requests", &n);
	dash_count(s, len, n);
	return (SCR_NORMAL);
}

static enum scr_color
dash_card_success(struct dash_state *st, char *s, size_t len)
{
	double	rate;

	if (jx_real(dash_day_totals(st), "success_rate", &rate) != 0)
		return (SCR_DIM);
	snprintf(s, len, "%.1f%%", rate);
	return (rate >= 99 ? SCR_OK : rate >= 90 ? SCR_WARN : SCR_ERR);
}

static enum scr_color
dash_card_tokens(struct dash_state *st, char *s, size_t len)
{
	long long	n = 0;

	if (dash_day_totals(st) == NULL)
		return (SCR_DIM);
	jx_int(dash_day_totals(st), "tokens", &n);
	dash_count(s, len, n);
	return (SCR_NORMAL);
}

static enum scr_color
dash_card_rate(struct dash_state *st, char *s, size_t len)
{
	char	r[16], k[16];

	dash_count(r, sizeof r, st->shown_rpm);
	dash_count(k, sizeof k, st->shown_tpm);
	snprintf(s, len, _("%s req, %s tok"), r, k);
	return (st->shown_rpm > 0 ? SCR_NORMAL : SCR_DIM);
}

static const struct {
	const char	*label;		/* N_() */
	enum scr_color	 (*value)(struct dash_state *, char *, size_t);
} dash_cards[] = {
	{ N_("Balance"), dash_card_balance },
	{ N_("Spend today"), dash_card_spend },
	{ N_("Income today"), dash_card_income },
	{ N_("Net today"), dash_card_net },
	{ N_("Requests 24 h"), dash_card_requests },
	{ N_("Success 24 h"), dash_card_success },
	{ N_("Tokens 24 h"), dash_card_tokens },
	{ N_("Per minute"), dash_card_rate },
};

/* As many cards a row as fit, spread evenly over the rows they need. */
static int
dash_cards_per_row(int inner)
{
	int	n = inner / DASH_CARD_W, total = (int)nitems(dash_cards), rows;

	if (n < 1)
		n = 1;
	if (n > total)
		n = total;
	rows = (total + n - 1) / n;
	return ((total + rows - 1) / rows);
}

static int
dash_overview_want(__unused struct dash_state *st, int w)
{
	int	per = dash_cards_per_row(w - 2);

	return (((int)nitems(dash_cards) + per - 1) / per * 2);
}

static void
dash_overview_draw(struct dash_state *st, int y, int x, int h, int w)
{
	enum scr_color	 c;
	char		 v[64];
	size_t		 i;
	int		 per = dash_cards_per_row(w - 2), cw, row, cx;

	scr_box(y, x, h, w, _("Overview"));
	cw = (w - 2) / per;
	for (i = 0; i < nitems(dash_cards); i++) {
		row = y + 1 + (int)i / per * 2;
		cx = x + 2 + (int)i % per * cw;
		if (row + 1 >= y + h - 1)
			break;
		strlcpy(v, "-", sizeof v);
		c = dash_cards[i].value(st, v, sizeof v);
		scr_put(row, cx, cw - 2, SCR_DIM, _(dash_cards[i].label));
		scr_put(row + 1, cx, cw - 2, c, v);
	}
}

/* Balance by site: the accounts' balances summed per site, as bars. */

static int
dash_site_cmp(const void *a, const void *b)
{
	const struct dash_site	*x = a, *y = b;

	if (x->balance != y->balance)
		return (x->balance < y->balance ? 1 : -1);
	return (strcmp(x->name, y->name));
}

/* The sites, biggest balance first; *n of them; free() the array. */
static struct dash_site *
dash_sites(struct dash_state *st, size_t *n)
{
	json_t			*accts, *a;
	struct dash_site	*s;
	const char		*name;
	size_t			 i, j;

	accts = json_object_get(st->data[DASH_D_BALANCE], "accounts");
	s = xcalloc(json_array_size(accts) + 1, sizeof *s);
	*n = 0;
	json_array_foreach(accts, i, a) {
		if ((name = jx_str(a, "site")) == NULL)
			name = "?";
		for (j = 0; j < *n; j++)
			if (strcmp(s[j].name, name) == 0)
				break;
		if (j == *n) {
			s[j].name = name;
			(*n)++;
		}
		s[j].balance += dash_real(a, "balance_usd");
	}
	qsort(s, *n, sizeof *s, dash_site_cmp);
	return (s);
}

static int
dash_sites_want(struct dash_state *st, __unused int w)
{
	size_t	n;

	free(dash_sites(st, &n));
	return (n > 0 ? (int)n : 1);
}

static void
dash_sites_draw(struct dash_state *st, int y, int x, int h, int w)
{
	struct dash_site	*s;
	size_t			 n, i, shown;
	double			 max = 0;
	char			 v[32];
	int			 nw = 0, aw = 9, bw, row;

	scr_box(y, x, h, w, _("Balance by site"));
	s = dash_sites(st, &n);
	if (n == 0)
		scr_put(y + 1, x + 2, w - 4, SCR_DIM, _("no accounts yet"));
	for (i = 0; i < n; i++) {
		if ((int)width_utf8(s[i].name) > nw)
			nw = (int)width_utf8(s[i].name);
		if (s[i].balance > max)
			max = s[i].balance;
	}
	if (nw > (w - 4) / 3)
		nw = (w - 4) / 3;
	bw = w - 4 - nw - aw - 2;
	/* Too many for the box: the last line says how many are left out. */
	shown = n <= (size_t)(h - 2) ? n : (size_t)(h - 3);
	for (i = 0, row = y + 1; i < shown; i++, row++) {
		scr_put(row, x + 2, nw, SCR_NORMAL, s[i].name);
		scr_bar(row, x + 3 + nw, bw, max > 0 ? s[i].balance / max : 0,
		    s[i].balance > 0 ? SCR_BAR : SCR_ERR);
		dash_usd(v, sizeof v, s[i].balance);
		dash_put_right(row, x + w - 2 - aw, aw, s[i].balance > 0 ?
		    SCR_NORMAL : SCR_ERR, v);
	}
	if (shown < n)
		scr_putf(row, x + 2, w - 4, SCR_DIM, _("+%zu more sites"),
		    n - shown);
	free(s);
}

/* The week's spend per day, a column chart; today is the last column. */

static int
dash_trend_want(__unused struct dash_state *st, __unused int w)
{
	return (6);
}

static void
dash_trend_draw(struct dash_state *st, int y, int x, int h, int w)
{
	static const char *const eighths[] = { " ", "\u2581", "\u2582",
	    "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
	json_t		*daily, *d;
	struct tm	 tm;
	double		 max = 0, total = 0, v;
	char		 title[128], s[32], lab[32], *bar;
	size_t		 i, n;
	int		 cw, bw, bars, units, r, left, cx, cx0;
	int		 ascii = scr_ascii();

	daily = json_object_get(st->data[DASH_D_WEEK], "daily");
	n = json_array_size(daily);
	json_array_foreach(daily, i, d) {
		v = dash_real(d, "cost_usd");
		total += v;
		if (v > max)
			max = v;
	}
	dash_usd(s, sizeof s, total);
	snprintf(title, sizeof title, _("Spend, last 7 days: %s"), s);
	scr_box(y, x, h, w, title);
	if (n == 0) {
		scr_put(y + 1, x + 2, w - 4, SCR_DIM, _("no data"));
		return;
	}
	cw = (w - 4) / (int)n;
	if (cw < 1)
		return;
	bw = cw >= 4 ? cw - 2 : cw > 1 ? cw - 1 : 1;
	if (bw > 8)
		bw = 8;
	/* Bars, then a line of amounts when there is room, then the days. */
	bars = h - 2 - 1 - (h - 2 >= 3);
	/* The columns centred in the box. */
	cx0 = x + 2 + (w - 4 - cw * (int)n) / 2;
	json_array_foreach(daily, i, d) {
		cx = cx0 + (int)i * cw;
		v = dash_real(d, "cost_usd");
		units = max > 0 ? (int)(v / max * bars * 8 + 0.5) : 0;
		if (v > 0 && units == 0)
			units = 1;
		for (r = 0; r < bars; r++) {
			left = units - r * 8;
			if (left <= 0)
				break;
			if (ascii)
				bar = dash_repeat("#", bw);
			else
				bar = dash_repeat(eighths[left > 8 ? 8 : left],
				    bw);
			scr_put(y + bars - r, cx + (cw - bw) / 2, bw, SCR_BAR,
			    bar);
			free(bar);
		}
		/* Amounts that would run into each other are left out. */
		dash_usd_short(s, sizeof s, v);
		if (bars < h - 3 && (int)strlen(s) < cw) {
			dash_put_centre(y + h - 3, cx, cw, v > 0 ? SCR_NORMAL :
			    SCR_DIM, s);
		}
		memset(&tm, 0, sizeof tm);
		lab[0] = '\0';
		if (jx_str(d, "day") != NULL &&
		    strptime(jx_str(d, "day"), "%Y-%m-%d", &tm) != NULL) {
			tm.tm_isdst = -1;
			mktime(&tm);
			strftime(lab, sizeof lab, cw >= 10 ? "%a %m-%d" :
			    cw >= 6 ? "%m-%d" : "%d", &tm);
		}
		dash_put_centre(y + h - 2, cx, cw, i + 1 == n ? SCR_TITLE :
		    SCR_DIM, lab);
	}
}

/* Availability: each site's attempts per hour, one cell an hour. */

/* Levels of an hour's success ratio: colour and shape, never colour alone. */
static const struct {
	double		 min;		/* ok / attempts at least */
	enum scr_color	 color;
	const char	*glyph;
	const char	*ascii;
} dash_levels[] = {
	{ 0.99, SCR_OK, "\u2588", "#" },
	{ 0.90, SCR_WARN, "\u2584", "+" },
	{ 0, SCR_ERR, "\u2581", "x" },
};

static size_t
dash_level(double ratio)
{
	size_t	i;

	for (i = 0; i < nitems(dash_levels) - 1; i++)
		if (ratio >= dash_levels[i].min)
			break;
	return (i);
}

static json_t *
dash_hourly_sites(struct dash_state *st)
{
	return (json_object_get(json_object_get(st->data[DASH_D_DAY],
	    "hourly"), "sites"));
}

static int
dash_avail_want(struct dash_state *st, __unused int w)
{
	size_t	n = json_array_size(dash_hourly_sites(st));

	return (n > 0 ? (int)n + 1 : 1);
}

static void
dash_avail_draw(struct dash_state *st, int y, int x, int h, int w)
{
	json_t		*sites = dash_hourly_sites(st), *site, *calls, *ok;
	long long	 a, o, ta, to;
	size_t		 i, lv;
	char		 pct[16], *cell;
	int		 nw = 0, cw, hours, first, hr, row, cx, pw = 5;

	scr_box(y, x, h, w, _("Availability, last 24 h"));
	if (json_array_size(sites) == 0) {
		scr_put(y + 1, x + 2, w - 4, SCR_DIM,
		    _("no upstream attempts in 24 h"));
		return;
	}
	json_array_foreach(sites, i, site)
		if (jx_str(site, "site") != NULL &&
		    (int)width_utf8(jx_str(site, "site")) > nw)
			nw = (int)width_utf8(jx_str(site, "site"));
	if (nw > 16)
		nw = 16;
	if (nw > w - 4 - pw - 2 - DASH_HOURS)
		nw = w - 4 - pw - 2 - DASH_HOURS;
	if (nw < 4)
		nw = 4;
	cw = (w - 4 - nw - pw - 2) / DASH_HOURS;
	if (cw < 1)
		cw = 1;
	/* Narrower than a day: the latest hours. */
	hours = (w - 4 - nw - pw - 2) / cw;
	if (hours > DASH_HOURS)
		hours = DASH_HOURS;
	if (hours < 1)
		return;
	first = DASH_HOURS - hours;
	row = y + 1;
	json_array_foreach(sites, i, site) {
		/* The axis needs the last line; the sites left out give way. */
		if (row >= y + h - 1 - (h > 3))
			break;
		calls = json_object_get(site, "attempts");
		ok = json_object_get(site, "ok");
		scr_put(row, x + 2, nw, SCR_NORMAL, jx_str(site, "site"));
		/* The percentage is the whole day's, shown or not. */
		ta = to = 0;
		for (hr = 0; hr < DASH_HOURS; hr++) {
			a = json_integer_value(json_array_get(calls, hr));
			o = json_integer_value(json_array_get(ok, hr));
			ta += a;
			to += o;
			if (hr < first)
				continue;
			cx = x + 3 + nw + (hr - first) * cw;
			if (a == 0) {
				cell = dash_repeat(scr_ascii() ? "." :
				    "\u00b7", cw > 1 ? cw - 1 : 1);
				scr_put(row, cx, cw, SCR_DIM, cell);
			} else {
				lv = dash_level((double)o / a);
				cell = dash_repeat(scr_ascii() ?
				    dash_levels[lv].ascii :
				    dash_levels[lv].glyph, cw > 1 ? cw - 1 : 1);
				scr_put(row, cx, cw, dash_levels[lv].color,
				    cell);
			}
			free(cell);
		}
		if (ta > 0) {
			snprintf(pct, sizeof pct, "%.0f%%", 100.0 * to / ta);
			dash_put_right(row, x + 4 + nw + hours * cw, pw,
			    dash_levels[dash_level((double)to / ta)].color,
			    pct);
		}
		row++;
	}
	if (h > 3) {
		scr_put(y + h - 2, x + 3 + nw, hours * cw, SCR_DIM,
		    hours == DASH_HOURS ? _("-24h") : _("earlier"));
		dash_put_right(y + h - 2, x + 3 + nw, hours * cw, SCR_DIM,
		    _("now"));
	}
}

/* Jobs and events. */

/* How a job's last run ended, as job.list says it. */
static const struct {
	const char	*outcome;
	const char	*text;		/* N_() */
	enum scr_color	 color;
} dash_outcomes[] = {
	{ "ok", N_("ok"), SCR_OK },
	{ "failed", N_("failed"), SCR_ERR },
	{ "skipped", N_("skipped"), SCR_DIM },
	{ "running", N_("running"), SCR_WARN },
};

static void
dash_outcome(json_t *job, const char **text, enum scr_color *c)
{
	const char	*o = jx_str(job, "last_outcome");
	size_t		 i;

	*text = _("not run yet");
	*c = SCR_DIM;
	if (jx_bool(job, "running"))
		o = "running";
	for (i = 0; o != NULL && i < nitems(dash_outcomes); i++) {
		if (strcmp(dash_outcomes[i].outcome, o) == 0) {
			*text = _(dash_outcomes[i].text);
			*c = dash_outcomes[i].color;
		}
	}
}

static int
dash_jobs_want(struct dash_state *st, __unused int w)
{
	return (3 + (int)json_array_size(json_object_get(
	    st->data[DASH_D_JOBS], "items")));
}

/* The events of the last day: how many, of which level; the latest. */
static void
dash_events_draw(struct dash_state *st, int y, int x, int w, int latest,
    time_t now)
{
	json_t		*items, *ev, *first = NULL;
	const char	*lv;
	size_t		 i, n = 0, warn = 0, errs = 0;
	struct tm	 tm;
	time_t		 when;
	char		 hm[16];
	int		 more;

	items = json_object_get(st->data[DASH_D_EVENTS], "items");
	json_array_foreach(items, i, ev) {
		if (dash_time(jx_str(ev, "time")) < now - 86400)
			break;
		if (first == NULL)
			first = ev;
		n++;
		if ((lv = jx_str(ev, "level")) == NULL)
			continue;
		warn += strcmp(lv, "warning") == 0;
		errs += strcmp(lv, "error") == 0;
	}
	/* A full page of the last day: there are more than it holds. */
	more = n > 0 && n == json_array_size(items) &&
	    json_is_integer(json_object_get(st->data[DASH_D_EVENTS], "next"));
	scr_putf(y, x, w, errs > 0 ? SCR_ERR : warn > 0 ? SCR_WARN : n > 0 ?
	    SCR_NORMAL : SCR_DIM, _("Events 24 h: %zu%s (%zu warn, %zu err)"),
	    n, more ? "+" : "", warn, errs);
	if (!latest || first == NULL)
		return;
	when = dash_time(jx_str(first, "time"));
	hm[0] = '\0';
	if (localtime_r(&when, &tm) != NULL)
		strftime(hm, sizeof hm, "%H:%M", &tm);
	lv = jx_str(first, "level");
	scr_putf(y + 1, x, w, lv != NULL && strcmp(lv, "error") == 0 ?
	    SCR_ERR : lv != NULL && strcmp(lv, "warning") == 0 ? SCR_WARN :
	    SCR_DIM, "%s %s", hm, jx_str(first, "title") != NULL ?
	    jx_str(first, "title") : "");
}

/*
 * The next check-in, every job's last outcome and next run, then the
 * events. Short of lines, the latest event goes first, then the jobs
 * from the last; the check-in and the event count stay.
 */
static void
dash_jobs_draw(struct dash_state *st, int y, int x, int h, int w)
{
	json_t		*jobs, *job, *checkin = NULL;
	const char	*text, *name;
	enum scr_color	 c;
	time_t		 now = time(NULL), next;
	struct tm	 tm;
	char		 s[64], hm[16];
	size_t		 i;
	int		 row = y + 1, lines = h - 2, nw = 0, sw = 0, in = w - 4;
	int		 njobs, latest;

	scr_box(y, x, h, w, _("Jobs and events"));
	jobs = json_object_get(st->data[DASH_D_JOBS], "items");
	json_array_foreach(jobs, i, job) {
		if ((name = jx_str(job, "name")) == NULL)
			continue;
		if (strcmp(name, "checkin") == 0)
			checkin = job;
		if ((int)width_utf8(name) > nw)
			nw = (int)width_utf8(name);
		dash_outcome(job, &text, &c);
		if ((int)width_utf8(text) > sw)
			sw = (int)width_utf8(text);
	}
	njobs = (int)json_array_size(jobs);
	if (njobs > lines - 1 - (checkin != NULL))
		njobs = lines - 1 - (checkin != NULL);
	latest = lines - 1 - (checkin != NULL) - njobs > 0;
	if (checkin != NULL && lines > 1) {
		next = dash_time(jx_str(checkin, "next_run"));
		dash_until(s, sizeof s, next, now);
		hm[0] = '\0';
		if (next != 0 && localtime_r(&next, &tm) != NULL)
			strftime(hm, sizeof hm, " (%H:%M)", &tm);
		scr_putf(row++, x + 2, in, jx_bool(checkin, "running") ?
		    SCR_WARN : SCR_TITLE, "%s %s%s", _("Next check-in"),
		    jx_bool(checkin, "running") ? _("running now") : s, hm);
	}
	json_array_foreach(jobs, i, job) {
		if ((int)i >= njobs)
			break;
		dash_outcome(job, &text, &c);
		dash_until(s, sizeof s, dash_time(jx_str(job, "next_run")),
		    now);
		scr_put(row, x + 2, nw, SCR_NORMAL, jx_str(job, "name"));
		scr_put(row, x + 3 + nw, sw, c, text);
		scr_put(row, x + 4 + nw + sw, in - nw - sw - 2, SCR_DIM, s);
		row++;
	}
	if (lines > 0)
		dash_events_draw(st, row, x + 2, in, latest, now);
}

/* Panels and their layouts. */

enum dash_panel {
	DASH_P_NONE, DASH_P_OVERVIEW, DASH_P_SITES, DASH_P_TREND,
	DASH_P_AVAIL, DASH_P_JOBS, DASH_P_COUNT
};

/* Each panel: the content lines it wants at a width, and its drawing. */
static const struct {
	int	(*want)(struct dash_state *, int);
	void	(*draw)(struct dash_state *, int, int, int, int);
} dash_panels[DASH_P_COUNT] = {
	[DASH_P_OVERVIEW] = { dash_overview_want, dash_overview_draw },
	[DASH_P_SITES] = { dash_sites_want, dash_sites_draw },
	[DASH_P_TREND] = { dash_trend_want, dash_trend_draw },
	[DASH_P_AVAIL] = { dash_avail_want, dash_avail_draw },
	[DASH_P_JOBS] = { dash_jobs_want, dash_jobs_draw },
};

/*
 * Rows of panels side by side, sharing the row's width, for terminals at
 * least minw wide; widest first. 80 columns fit two panels a row; below
 * that they stack. Spare lines go to the grow row: the chart's.
 */
static const struct {
	int		 minw;
	enum dash_panel	 rows[DASH_MAX_ROWS][DASH_MAX_COLS];
	int		 grow;
} dash_layouts[] = {
	{ 150, { { DASH_P_OVERVIEW },
	    { DASH_P_TREND, DASH_P_SITES, DASH_P_JOBS },
	    { DASH_P_AVAIL } }, 1 },
	{ 76, { { DASH_P_OVERVIEW },
	    { DASH_P_TREND, DASH_P_SITES },
	    { DASH_P_AVAIL, DASH_P_JOBS } }, 1 },
	{ 0, { { DASH_P_OVERVIEW }, { DASH_P_SITES }, { DASH_P_TREND },
	    { DASH_P_AVAIL }, { DASH_P_JOBS } }, 2 },
};

static int
dash_row_width(int w, int ncols, int col)
{
	return (col < ncols - 1 ? w / ncols : w - w / ncols * (ncols - 1));
}

static void
dash_draw(__unused struct tui *t, void *arg, int y, int x, int h, int w)
{
	struct dash_state	*st = arg;
	enum dash_panel		 p;
	int			 rh[DASH_MAX_ROWS], nc[DASH_MAX_ROWS];
	int			 nrows, r, c, want, total, big, cx, cw;
	size_t			 l;

	/* What dash_tick compares with, to redraw only on a change. */
	dash_rates(st, time(NULL), &st->shown_rpm, &st->shown_tpm);
	st->shown_min = time(NULL) / 60;
	if (st->error != NULL) {
		scr_put(y++, x, w, SCR_ERR, st->error);
		h--;
	}
	for (l = 0; l < nitems(dash_layouts) - 1; l++)
		if (w >= dash_layouts[l].minw)
			break;
	/* Each row as tall as its tallest panel wants. */
	total = 0;
	for (nrows = 0; nrows < DASH_MAX_ROWS; nrows++) {
		if (dash_layouts[l].rows[nrows][0] == DASH_P_NONE)
			break;
		rh[nrows] = 3;
		for (c = 0; c < DASH_MAX_COLS; c++)
			if (dash_layouts[l].rows[nrows][c] == DASH_P_NONE)
				break;
		nc[nrows] = c;
		for (c = 0; c < nc[nrows]; c++) {
			p = dash_layouts[l].rows[nrows][c];
			want = dash_panels[p].want(st, dash_row_width(w,
			    nc[nrows], c)) + 2;
			if (want > rh[nrows])
				rh[nrows] = want;
		}
		total += rh[nrows];
	}
	/* Too tall: the tallest rows give a line each in turn, then rows go. */
	while (total > h) {
		big = -1;
		for (r = 0; r < nrows; r++)
			if (rh[r] > 3 && (big < 0 || rh[r] > rh[big]))
				big = r;
		if (big >= 0) {
			rh[big]--;
			total--;
		} else
			total -= rh[--nrows];
	}
	if (total < h && dash_layouts[l].grow < nrows)
		rh[dash_layouts[l].grow] += h - total;
	for (r = 0; r < nrows; r++) {
		for (c = 0, cx = x; c < nc[r]; c++, cx += cw) {
			cw = dash_row_width(w, nc[r], c);
			dash_panels[dash_layouts[l].rows[r][c]].draw(st, y, cx,
			    rh[r], cw);
		}
		y += rh[r];
	}
}

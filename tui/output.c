/*
 * Human output of replies: aligned tables for lists (by display width, so
 * CJK names line up) that fit the terminal, and "field: value" blocks for
 * single objects. Which columns a list shows is a table, per command.
 */
#include "config.h"

#include <sys/ioctl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "jx.h"
#include "tui.h"
#include "width.h"
#include "xmalloc.h"

#define OUTPUT_MAX_COLS	16

static const struct {
	const char	*cmd;
	const char	*fields[OUTPUT_MAX_COLS];
	const char	*titles[OUTPUT_MAX_COLS];
} output_lists[] = {
	{ "db.migrate",
	  { "table", "rows", NULL },
	  { N_("TABLE"), N_("ROWS"), NULL } },
	{ "site.list",
	  { "id", "name", "platform", "url", "status", "weight", "accounts",
	    "proxy", NULL },
	  { N_("ID"), N_("NAME"), N_("PLATFORM"), N_("URL"), N_("STATUS"),
	    N_("WEIGHT"), N_("ACCOUNTS"), N_("PROXY"), NULL } },
	{ "site.presets",
	  { "id", "aliases", "name", "platform", "url", "credential", NULL },
	  { N_("PRESET"), N_("ALIASES"), N_("PROVIDER"), N_("PLATFORM"),
	    N_("URL"), N_("CREDENTIAL"), NULL } },
	{ "account.list",
	  { "id", "site", "label", "credential_kind", "credential", "status",
	    "health", "balance_usd", "last_checkin_at", "health_reason",
	    NULL },
	  { N_("ID"), N_("SITE"), N_("LABEL"), N_("KIND"), N_("CREDENTIAL"),
	    N_("STATUS"), N_("HEALTH"), N_("BALANCE"), N_("CHECKED IN"),
	    N_("REASON"), NULL } },
	{ "key.list",
	  { "id", "name", "key_mask", "enabled", "models", "expires",
	    "max_cost_usd", "used_cost_usd", "used_requests", NULL },
	  { N_("ID"), N_("NAME"), N_("KEY"), N_("ENABLED"), N_("MODELS"),
	    N_("EXPIRES"), N_("MAX $"), N_("USED $"), N_("REQUESTS"), NULL } },
	{ "route.list",
	  { "id", "pattern", "alias", "strategy", "channels", "available",
	    "manual", "enabled", "members", NULL },
	  { N_("ID"), N_("PATTERN"), N_("ALIAS"), N_("STRATEGY"),
	    N_("CHANNELS"), N_("AVAILABLE"), N_("MANUAL"), N_("ENABLED"),
	    N_("GROUP OF"), NULL } },
	{ "route.rebuild",
	  { "id", "pattern", "alias", "strategy", "channels", "available",
	    "manual", "enabled", "members", NULL },
	  { N_("ID"), N_("PATTERN"), N_("ALIAS"), N_("STRATEGY"),
	    N_("CHANNELS"), N_("AVAILABLE"), N_("MANUAL"), N_("ENABLED"),
	    N_("GROUP OF"), NULL } },
	{ "route.show",
	  { "id", "site", "account", "token", "source_model", "priority",
	    "weight", "enabled", "manual", "probability",
	    "cooldown_remaining_sec", "reason", NULL },
	  { N_("CHANNEL"), N_("SITE"), N_("ACCOUNT"), N_("TOKEN"), N_("MODEL"),
	    N_("PRIORITY"), N_("WEIGHT"), N_("ENABLED"), N_("MANUAL"),
	    N_("PROB %"), N_("COOLDOWN S"), N_("REASON"), NULL } },
	{ "settings.list",
	  { "key", "value", "default", "help", NULL },
	  { N_("KEY"), N_("VALUE"), N_("DEFAULT"), N_("HELP"), NULL } },
	{ "token.list",
	  { "id", "account_id", "site", "name", "key_mask", "group",
	    "value_status", "default", "enabled", "remain_usd", NULL },
	  { N_("ID"), N_("ACCOUNT"), N_("SITE"), N_("NAME"), N_("KEY"),
	    N_("GROUP"), N_("STATUS"), N_("DEFAULT"), N_("ENABLED"),
	    N_("REMAIN $"), NULL } },
	{ "token.create",
	  { "id", "account_id", "site", "name", "key_mask", "group",
	    "value_status", "default", "enabled", "remain_usd", NULL },
	  { N_("ID"), N_("ACCOUNT"), N_("SITE"), N_("NAME"), N_("KEY"),
	    N_("GROUP"), N_("STATUS"), N_("DEFAULT"), N_("ENABLED"),
	    N_("REMAIN $"), NULL } },
	{ "token.sync",
	  { "account_id", "site", "ok", "tokens", "error", NULL },
	  { N_("ACCOUNT"), N_("SITE"), N_("OK"), N_("TOKENS"), N_("ERROR"),
	    NULL } },
	{ "account.refresh",
	  { "account_id", "site", "ok", "balance_usd", "used_usd", "tokens",
	    "models", "error", "warning", NULL },
	  { N_("ACCOUNT"), N_("SITE"), N_("OK"), N_("BALANCE $"), N_("USED $"),
	    N_("TOKENS"), N_("MODELS"), N_("ERROR"), N_("WARNING"), NULL } },
	{ "checkin.run",
	  { "account_id", "site", "outcome", "reward_usd", "message", NULL },
	  { N_("ACCOUNT"), N_("SITE"), N_("OUTCOME"), N_("REWARD $"),
	    N_("MESSAGE"), NULL } },
	{ "checkin.log",
	  { "id", "time", "account_id", "site", "outcome", "reward_usd",
	    "message", NULL },
	  { N_("ID"), N_("TIME"), N_("ACCOUNT"), N_("SITE"), N_("OUTCOME"),
	    N_("REWARD $"), N_("MESSAGE"), NULL } },
	{ "log.list",
	  { "id", "time", "model_requested", "model", "site", "status",
	    "http_status", "latency_ms", "prompt_tokens", "completion_tokens",
	    "cost_usd", NULL },
	  { N_("ID"), N_("TIME"), N_("MODEL"), N_("SERVED"), N_("SITE"),
	    N_("STATUS"), N_("HTTP"), N_("MS"), N_("IN"), N_("OUT"),
	    N_("COST $"), NULL } },
	{ "job.run",
	  { "account_id", "site", "outcome", "ok", "reward_usd", "balance_usd",
	    "message", "error", NULL },
	  { N_("ACCOUNT"), N_("SITE"), N_("OUTCOME"), N_("OK"), N_("REWARD $"),
	    N_("BALANCE $"), N_("MESSAGE"), N_("ERROR"), NULL } },
	{ "job.list",
	  { "name", "schedule", "running", "last_outcome", "last_started",
	    "next_run", NULL },
	  { N_("JOB"), N_("SCHEDULE"), N_("RUNNING"), N_("LAST"),
	    N_("LAST RUN"), N_("NEXT RUN"), NULL } },
	{ "notify.list",
	  { "id", "kind", "target", "secret_mask", "enabled", "last_sent_at",
	    "last_error", NULL },
	  { N_("ID"), N_("KIND"), N_("TARGET"), N_("SECRET"), N_("ENABLED"),
	    N_("LAST SENT"), N_("LAST ERROR"), NULL } },
	{ "notify.test",
	  { "id", "kind", "target", "ok", "error", NULL },
	  { N_("ID"), N_("KIND"), N_("TARGET"), N_("OK"), N_("ERROR"), NULL } },
	{ "event.list",
	  { "id", "time", "type", "level", "title", "message", NULL },
	  { N_("ID"), N_("TIME"), N_("TYPE"), N_("LEVEL"), N_("TITLE"),
	    N_("MESSAGE"), NULL } },
	{ "search.run",
	  { "kind", "ref", "title", "match", "detail", NULL },
	  { N_("KIND"), N_("ID"), N_("NAME"), N_("MATCHED"), N_("DETAIL"),
	    NULL } },
	{ "model.list",
	  { "model", "brand", "sites", "accounts", "input_per_m",
	    "output_per_m", "per_call", "success_rate", "avg_latency_ms",
	    NULL },
	  { N_("MODEL"), N_("BRAND"), N_("SITES"), N_("ACCOUNTS"),
	    N_("IN $/1M"), N_("OUT $/1M"), N_("PER CALL $"), N_("OK %"),
	    N_("MS"), NULL } },
};

static int
output_term_width(void)
{
	struct winsize	 ws;
	const char	*cols = getenv("COLUMNS");
	int		 n;

	if (cols != NULL && (n = strtol(cols, NULL, 10)) > 20)
		return (n);
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return (ws.ws_col);
	return (isatty(STDOUT_FILENO) ? 80 : 1000);
}

/* A JSON value as table text; owned. */
char *
output_cell(json_t *v)
{
	struct buf	 b;
	char		*s, *item;
	size_t		 i;
	json_t		*e;

	if (v == NULL || json_is_null(v))
		return (xstrdup("-"));
	if (json_is_string(v))
		return (xstrdup(json_string_value(v)));
	if (json_is_true(v))
		return (xstrdup("yes"));
	if (json_is_false(v))
		return (xstrdup("no"));
	if (json_is_integer(v)) {
		xasprintf(&s, "%lld", (long long)json_integer_value(v));
		return (s);
	}
	if (json_is_real(v)) {
		xasprintf(&s, "%.6g", json_real_value(v));
		return (s);
	}
	if (json_is_array(v) && json_array_size(v) == 0)
		return (xstrdup("-"));
	if (json_is_array(v)) {
		buf_init(&b, 64 * 1024);
		json_array_foreach(v, i, e) {
			item = output_cell(e);
			if (i > 0)
				buf_addstr(&b, ",");
			buf_addstr(&b, item);
			free(item);
		}
		s = xstrdup(buf_cstr(&b));
		buf_free(&b);
		return (s);
	}
	return (jx_dump(v));
}

static void
output_pad(const char *s, size_t w, int last)
{
	size_t	n = width_utf8(s);

	fputs(s, stdout);
	if (!last)
		for (; n < w + 2; n++)
			putchar(' ');
}

/*
 * Print items (array of objects) under titles, one column per field.
 * When the table is wider than the terminal, the widest column is cut
 * until it fits (or cannot shrink below 8 cells).
 */
void
output_table(json_t *items, const char *const *fields,
    const char *const *titles)
{
	size_t	 ncol, nrow, r, c, total, widest;
	size_t	 w[OUTPUT_MAX_COLS] = { 0 };
	char	***cells, *cut;
	int	 term = output_term_width();

	for (ncol = 0; ncol < OUTPUT_MAX_COLS && fields[ncol] != NULL; ncol++)
		;
	nrow = json_array_size(items);
	cells = xcalloc(nrow + 1, sizeof *cells);
	for (r = 0; r <= nrow; r++) {
		cells[r] = xcalloc(ncol, sizeof **cells);
		for (c = 0; c < ncol; c++)
			cells[r][c] = r == 0 ? xstrdup(titles[c]) :
			    output_cell(json_object_get(json_array_get(items,
			    r - 1), fields[c]));
	}
	for (c = 0; c < ncol; c++) {
		w[c] = 0;
		for (r = 0; r <= nrow; r++)
			if (width_utf8(cells[r][c]) > w[c])
				w[c] = width_utf8(cells[r][c]);
	}
	for (;;) {
		total = 0;
		widest = 0;
		for (c = 0; c < ncol; c++) {
			total += w[c] + 2;
			if (w[c] > w[widest])
				widest = c;
		}
		if (total <= (size_t)term + 2 || w[widest] <= 8)
			break;
		w[widest] -= total - term - 2 < w[widest] - 8 ?
		    total - term - 2 : w[widest] - 8;
	}
	for (r = 0; r <= nrow; r++) {
		for (c = 0; c < ncol; c++) {
			cut = width_fit(cells[r][c], w[c]);
			output_pad(cut, w[c], c == ncol - 1);
			free(cut);
			free(cells[r][c]);
		}
		putchar('\n');
		free(cells[r]);
	}
	free(cells);
}

/* An object as "field: value" lines, nested objects indented. */
static void
output_object(json_t *o, int indent)
{
	const char	*k;
	json_t		*v;
	char		*s;
	size_t		 kw = 0;

	json_object_foreach(o, k, v)
		if (strlen(k) > kw)
			kw = strlen(k);
	json_object_foreach(o, k, v) {
		if (json_is_object(v)) {
			printf("%*s%s:\n", indent, "", k);
			output_object(v, indent + 2);
			continue;
		}
		s = output_cell(v);
		printf("%*s%-*s  %s\n", indent, "", (int)kw + 1, k, s);
		free(s);
	}
}

/* "label  value", the label padded by display width (translations). */
static void
output_field(const char *label, const char *value)
{
	output_pad(label, 10, 0);
	printf("%s\n", value != NULL ? value : "-");
}

/*
 * The program as the user typed it, for hints they can paste: "./metapi"
 * in a source tree (the README's Quick start), else "metapi".
 */
static const char	*output_prog = "metapi";

void
output_set_prog(const char *argv0)
{
	if (argv0 != NULL && strchr(argv0, '/') != NULL)
		output_prog = argv0;
}

/* One "next steps" line: a command (after the program), what it does. */
static void
output_hint(const char *cmd, const char *what)
{
	char	*line;

	xasprintf(&line, "%s %s", output_prog, cmd);
	printf("  ");
	/* A long path overflows the column: two spaces still part them. */
	if (width_utf8(line) <= 52)
		output_pad(line, 52, 0);
	else
		printf("%s  ", line);
	printf("%s\n", what);
	free(line);
}

/* A database that refuses writes, and request log records lost to it. */
static void
output_storage(json_t *st)
{
	long long	queue = 0, dropped = 0;

	jx_int(st, "log_queue", &queue);
	jx_int(st, "log_dropped", &dropped);
	if (json_is_false(json_object_get(st, "writable")))
		printf(_("NOT WRITABLE since %s: %s; %lld request log records "
		    "waiting\n"), jx_str(st, "since") != NULL ? jx_str(st,
		    "since") : "-", jx_str(st, "error") != NULL ? jx_str(st,
		    "error") : "-", queue);
	if (dropped > 0)
		printf(_("%lld request log records dropped while the database "
		    "refused writes\n"), dropped);
}

static void
output_status(json_t *d)
{
	json_t		*counts = json_object_get(d, "counts"), *job;
	size_t		 i;
	long long	 up = 0, sites = 0, keys = 0, accounts = 0, routes = 0;

	jx_int(d, "uptime_sec", &up);
	jx_int(counts, "sites", &sites);
	jx_int(counts, "accounts", &accounts);
	jx_int(counts, "keys", &keys);
	jx_int(counts, "routes", &routes);
	printf(_("metapi %s, pid %lld, up %lldd %02lld:%02lld:%02lld\n"),
	    jx_str(d, "version"), (long long)json_integer_value(
	    json_object_get(d, "pid")), up / 86400, up / 3600 % 24,
	    up / 60 % 60, up % 60);
	output_field(_("endpoint:"), jx_str(d, "endpoint"));
	output_field(_("data dir:"), jx_str(d, "data_dir"));
	output_field(_("socket:"), jx_str(d, "socket"));
	output_field(_("database:"), jx_str(d, "database"));
	output_storage(json_object_get(d, "storage"));
	printf(_("sites %lld, accounts %lld, routes %lld, keys %lld\n"),
	    sites, accounts, routes, keys);
	json_array_foreach(json_object_get(d, "jobs"), i, job)
		printf(_("next %-12s %s\n"), jx_str(job, "name"),
		    jx_str(job, "next_run") != NULL ? jx_str(job, "next_run") :
		    "-");
	if (sites == 0 || accounts == 0 || keys == 0)
		printf("\n%s\n", _("next steps:"));
	if (sites == 0)
		output_hint("site add NAME URL",
		    _("add a relay site (its platform is detected)"));
	if (accounts == 0)
		output_hint("account add SITE --username U --password -",
		    _("add an account (password read from stdin)"));
	if (keys == 0)
		output_hint("key add NAME",
		    _("make a key for your clients"));
	if (sites == 0 || accounts == 0 || keys == 0)
		output_hint("tui", _("open the full-screen dashboard"));
}

static const char *const output_balance_fields[] = { "id", "site",
    "balance_usd", "balance_state", "used_usd", "today_income_usd",
    "today_spend_usd", "refreshed_at", NULL };
static const char *const output_balance_titles[] = { "ACCOUNT", "SITE",
    "BALANCE $", "STATE", "USED $", "INCOME TODAY $", "SPEND TODAY $",
    "REFRESHED", NULL };

/* The balance report: one row per account, then the totals and errors. */
static void
output_balance(json_t *d)
{
	json_t	*t = json_object_get(d, "total"), *errors, *e;
	size_t	 i;
	double	 v[4] = { 0, 0, 0, 0 };

	output_table(json_object_get(d, "accounts"), output_balance_fields,
	    output_balance_titles);
	jx_real(t, "balance_usd", &v[0]);
	jx_real(t, "used_usd", &v[1]);
	jx_real(t, "today_income_usd", &v[2]);
	jx_real(t, "today_spend_usd", &v[3]);
	printf(_("total: balance $%.4f, used $%.4f, income today $%.4f, "
	    "spend today $%.4f\n"), v[0], v[1], v[2], v[3]);
	errors = json_object_get(d, "errors");
	json_array_foreach(errors, i, e)
		fprintf(stderr, _("metapi: account %lld (%s): %s\n"),
		    (long long)json_integer_value(json_object_get(e,
		    "account_id")), jx_str(e, "site"), jx_str(e, "error"));
}

/* site detect: "platform: NAME" first, then the evidence. */
static void
output_detect(json_t *d)
{
	json_t	*v;
	size_t	 i;

	printf("platform: %s\n", jx_str(d, "platform"));
	json_array_foreach(json_object_get(d, "evidence"), i, v)
		printf("  %s\n", json_string_value(v));
}

static void
output_backup_export(json_t *d)
{
	json_t		*v;
	const char	*k;
	int		 first = 1;

	printf(_("wrote %s (%lld bytes):"), jx_str(d, "file"),
	    (long long)json_integer_value(json_object_get(d, "bytes")));
	json_object_foreach(json_object_get(d, "counts"), k, v) {
		printf("%s %lld %s", first ? "" : ",",
		    (long long)json_integer_value(v), k);
		first = 0;
	}
	printf("\n");
}

static const char *const output_import_fields[] = { "section", "added",
    "updated", "unchanged", "skipped", NULL };
static const char *const output_import_titles[] = { "SECTION", "ADDED",
    "UPDATED", "UNCHANGED", "SKIPPED", NULL };

static void
output_backup_import(json_t *d)
{
	json_t		*rows, *row, *v;
	const char	*k;
	size_t		 i;

	rows = json_array();
	json_object_foreach(json_object_get(d, "sections"), k, v) {
		row = json_deep_copy(v);
		jx_set_str(row, "section", k);
		json_array_append_new(rows, row);
	}
	printf(jx_bool(d, "dry_run") ? _("would import (file format %s):\n") :
	    _("imported (file format %s):\n"), jx_str(d, "format"));
	output_table(rows, output_import_fields, output_import_titles);
	json_decref(rows);
	json_array_foreach(json_object_get(d, "warnings"), i, v)
		fprintf(stderr, _("metapi: warning: %s\n"), json_string_value(v));
	if (json_integer_value(json_object_get(json_object_get(json_object_get(
	    d, "sections"), "accounts"), "added")) > 0 && !jx_bool(d, "dry_run"))
		fprintf(stderr, "%s", _("metapi: new accounts are checked at "
		    "the next balance refresh; `metapi account refresh --all` "
		    "checks them now\n"));
}

static const char *const output_stats_site_fields[] = { "site", "calls",
    "success_rate", "cost_usd", "avg_latency_ms", "tokens", NULL };
static const char *const output_stats_site_titles[] = { "SITE", "CALLS",
    "SUCCESS %", "COST $", "AVG MS", "TOKENS", NULL };
static const char *const output_stats_model_fields[] = { "model", "calls",
    "success_rate", "cost_usd", "avg_latency_ms", "tokens", NULL };
static const char *const output_stats_model_titles[] = { "MODEL", "CALLS",
    "SUCCESS %", "COST $", "AVG MS", "TOKENS", NULL };

/* A number of the stats report, or "-" when it is null. */
static void
output_num(char *s, size_t len, json_t *o, const char *key, const char *fmt)
{
	double	v;

	if (jx_real(o, key, &v) != 0)
		strlcpy(s, "-", len);
	else
		snprintf(s, len, fmt, v);
}

/* stats: the totals in a few lines, then per site and per model. */
static void
output_stats(json_t *d)
{
	json_t		*t = json_object_get(d, "totals"), *a;
	long long	 v[8] = { 0 };
	char		 rate[32], cost[32], p50[32], avg[32];

	jx_int(t, "requests", &v[0]);
	jx_int(t, "ok", &v[1]);
	jx_int(t, "failed", &v[2]);
	jx_int(t, "client_closed", &v[3]);
	jx_int(t, "tokens", &v[4]);
	jx_int(t, "prompt_tokens", &v[5]);
	jx_int(t, "completion_tokens", &v[6]);
	jx_int(t, "cache_read_tokens", &v[7]);
	output_num(rate, sizeof rate, t, "success_rate", "%.1f%%");
	output_num(cost, sizeof cost, t, "cost_usd", "$%.4f");
	output_num(p50, sizeof p50, t, "p50_latency_ms", "%.0f ms");
	output_num(avg, sizeof avg, t, "avg_latency_ms", "%.0f ms");
	printf(_("last %lld days, since %s\n"), (long long)json_integer_value(
	    json_object_get(d, "days")), jx_str(d, "since") != NULL ?
	    jx_str(d, "since") : "-");
	printf(_("requests %lld: ok %lld, failed %lld (client closed %lld), "
	    "success %s\n"), v[0], v[1], v[2], v[3], rate);
	printf(_("tokens %lld (prompt %lld, completion %lld, cache read "
	    "%lld), cost %s\n"), v[4], v[5], v[6], v[7], cost);
	printf(_("latency: median %s, average %s\n"), p50, avg);
	if (json_array_size(a = json_object_get(d, "sites")) > 0) {
		putchar('\n');
		output_table(a, output_stats_site_fields,
		    output_stats_site_titles);
	}
	if (json_array_size(a = json_object_get(d, "models")) > 0) {
		putchar('\n');
		output_table(a, output_stats_model_fields,
		    output_stats_model_titles);
	}
}

/*
 * `logs --follow` prints rows one at a time as they come, so its columns
 * have fixed widths instead of being measured; times are local.
 */
static const struct {
	const char	*field;
	const char	*title;
	int		 width;		/* cells; 0: the rest of the line */
} output_log_cols[] = {
	{ "id", "ID", 6 },
	{ "time", "TIME", 19 },
	{ "model_requested", "MODEL", 22 },
	{ "site", "SITE", 12 },
	{ "status", "STATUS", 13 },
	{ "http_status", "HTTP", 4 },
	{ "latency_ms", "MS", 6 },
	{ "prompt_tokens", "IN", 7 },
	{ "completion_tokens", "OUT", 7 },
	{ "cost_usd", "COST $", 8 },
	{ "error", "ERROR", 0 },
};

void
output_log_header(void)
{
	size_t	i;

	for (i = 0; i < nitems(output_log_cols); i++) {
		if (output_log_cols[i].width == 0)
			printf("%s", output_log_cols[i].title);
		else
			output_pad(output_log_cols[i].title,
			    output_log_cols[i].width, 0);
	}
	putchar('\n');
}

/* An ISO 8601 UTC time as local "YYYY-MM-DD HH:MM:SS"; owned. */
static char *
output_local_time(const char *iso)
{
	struct tm	 tm;
	time_t		 t;
	char		 s[32];

	memset(&tm, 0, sizeof tm);
	if (iso == NULL || strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return (xstrdup(iso != NULL ? iso : "-"));
	t = timegm(&tm);
	if (localtime_r(&t, &tm) == NULL)
		return (xstrdup(iso));
	strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm);
	return (xstrdup(s));
}

void
output_log_line(json_t *item)
{
	size_t	 i;
	char	*cell, *cut;
	int	 w;

	for (i = 0; i < nitems(output_log_cols); i++) {
		w = output_log_cols[i].width;
		if (strcmp(output_log_cols[i].field, "time") == 0)
			cell = output_local_time(jx_str(item, "time"));
		else
			cell = output_cell(json_object_get(item,
			    output_log_cols[i].field));
		if (w == 0) {
			printf("%s", cell);
			free(cell);
			break;
		}
		cut = width_fit(cell, w);
		output_pad(cut, w, 0);
		free(cut);
		free(cell);
	}
	putchar('\n');
}

/* A group route's members, on a line of their own. */
static void
output_group(json_t *route)
{
	char	*s;

	if (!json_is_array(json_object_get(route, "members")))
		return;
	s = output_cell(json_object_get(route, "members"));
	printf(_("group of %s\n"), s);
	free(s);
}

/* route explain: the route, the pick, then every candidate. */
static void
output_explain(json_t *d)
{
	static const char *const fields[] = { "channel_id", "site",
	    "account", "token", "model", "priority", "weight", "eligible",
	    "probability", "reason", NULL };
	static const char *const titles[] = { "CHANNEL", "SITE", "ACCOUNT",
	    "TOKEN", "MODEL", "PRIORITY", "WEIGHT", "ELIGIBLE", "PROB %",
	    "REASON", NULL };
	json_t	*route = json_object_get(d, "route");
	json_t	*sel = json_object_get(d, "selected");
	char	*s;

	printf(_("model %s: route %lld (%s), %s\n"), jx_str(d, "model"),
	    (long long)json_integer_value(json_object_get(route, "id")),
	    jx_str(route, "pattern"), jx_str(d, "strategy"));
	output_group(route);
	if (json_is_object(sel)) {
		s = output_cell(json_object_get(sel, "probability"));
		printf(_("selected: channel %lld on %s (%s%%)\n"), (long long)
		    json_integer_value(json_object_get(sel, "channel_id")),
		    jx_str(sel, "site"), s);
		free(s);
	} else
		printf("%s\n", _("selected: none (no eligible channel)"));
	output_table(json_object_get(d, "candidates"), fields, titles);
}

/* Commands that print one secret alone on stdout, for scripts. */
static const char *const output_secret_cmds[] = {
	"key.add", "key.rotate", "key.reveal"
};

/* The columns a list command shows (the TUI's too); -1 when none. */
int
output_list_columns(const char *cmd, const char *const **fields,
    const char *const **titles)
{
	size_t	i;

	for (i = 0; i < nitems(output_lists); i++) {
		if (strcmp(output_lists[i].cmd, cmd) == 0) {
			*fields = output_lists[i].fields;
			*titles = output_lists[i].titles;
			return (0);
		}
	}
	return (-1);
}

void
output_reply(const char *cmd, json_t *data)
{
	size_t		 i;
	const char	*key;

	if (strcmp(cmd, "route.show") == 0)
		output_group(data);
	for (i = 0; i < nitems(output_lists); i++) {
		if (strcmp(output_lists[i].cmd, cmd) == 0 &&
		    json_object_get(data, "items") != NULL) {
			output_table(json_object_get(data, "items"),
			    output_lists[i].fields, output_lists[i].titles);
			return;
		}
	}
	if (strcmp(cmd, "route.explain") == 0) {
		output_explain(data);
		return;
	}
	if (strcmp(cmd, "daemon.status") == 0) {
		output_status(data);
		return;
	}
	if (strcmp(cmd, "balance.show") == 0) {
		output_balance(data);
		return;
	}
	if (strcmp(cmd, "site.detect") == 0) {
		output_detect(data);
		return;
	}
	if (strcmp(cmd, "stats.show") == 0) {
		output_stats(data);
		return;
	}
	if (strcmp(cmd, "backup.export") == 0) {
		output_backup_export(data);
		return;
	}
	if (strcmp(cmd, "backup.import") == 0) {
		output_backup_import(data);
		return;
	}
	for (i = 0; i < nitems(output_secret_cmds); i++) {
		if (strcmp(output_secret_cmds[i], cmd) == 0 &&
		    (key = jx_str(data, "key")) != NULL) {
			printf("%s\n", key);
			if (strcmp(cmd, "key.reveal") != 0)
				fprintf(stderr, _("metapi: key %lld (%s): "
				    "store it now; `metapi key reveal %lld` "
				    "shows it again\n"), (long long)
				    json_integer_value(json_object_get(data,
				    "id")), jx_str(data, "name"), (long long)
				    json_integer_value(json_object_get(data,
				    "id")));
			return;
		}
	}
	if (json_is_object(data) && json_object_size(data) > 0)
		output_object(data, 0);
}

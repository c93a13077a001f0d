/*
 * The request log (src/proxylog.c) and its writer (daemon/logwriter.c):
 * rows inserted into a temp database, then listed with every filter and
 * paged with the cursor, attempts included; the stats report against
 * numbers worked out by hand; and the writer thread fed 10000 records from
 * four threads through a tiny queue, every one of which must be stored.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include "apikey.h"
#include "buf.h"
#include "compat.h"
#include "daemon.h"
#include "db.h"
#include "journal.h"
#include "jx.h"
#include "proxylog.h"
#include "unit.h"
#include "xmalloc.h"

static int	t_proxylog_journals(const char *);

#define T_PROXYLOG_THREADS	4
#define T_PROXYLOG_PER_THREAD	2500

/*
 * The writer raises alerts through the daemon's notifications, which the
 * runner does not link; its database never fails here, so none come.
 */
void
notify_event_defer(__unused const char *type, __unused const char *level,
    const char *title, __unused const char *message)
{
	CHECK_STR(title, NULL);
}

/* One row of the test data; times are seconds before now. */
static const struct {
	long long	 ago;
	const char	*requested;
	const char	*model;
	long long	 site_id;
	const char	*status;
	int		 http_status;
	long long	 latency_ms;
	long long	 prompt;
	long long	 completion;
	double		 cost;
	long long	 key_id;
} t_proxylog_rows[] = {
	{ 8 * 86400, "gpt-4o", "gpt-4o", 1, "ok", 200, 100, 10, 5, 1.0, 1 },
	{ 3600, "gpt-4o", "gpt-4o-2024", 1, "ok", 200, 200, 100, 50, 0.5, 1 },
	{ 1800, "claude-3", "claude-3", 2, "failed", 500, 300, 0, 0, 0, 2 },
	{ 900, "claude-3", "claude-3", 2, "client_closed", 200, 400, 20, 0,
	  0.25, 1 },
	{ 600, "gpt-4o-mini", "gpt-4o-mini", 1, "ok", 200, 600, 30, 10, 0.25,
	  2 },
	{ 60, "deepseek[x]", NULL, 0, "failed", 0, 0, 0, 0, 0, 0 },
};

static long long
t_proxylog_int(struct db *db, const char *sql)
{
	struct db_stmt	*st;
	long long	 v = -1;

	if ((st = db_prepare(db, sql, NULL)) == NULL)
		return (-1);
	if (db_step(st) == DB_ROW)
		v = db_col_int64(st, 0);
	db_finalize(st);
	return (v);
}

static double
t_proxylog_real(json_t *o, const char *key)
{
	double	v = -1;

	jx_real(o, key, &v);
	return (v);
}

static long long
t_proxylog_get_int(json_t *o, const char *key)
{
	long long	v = -999;

	jx_int(o, key, &v);
	return (v);
}

/* A fresh, migrated database with two sites and two keys. */
static struct db *
t_proxylog_db(const char *dir, const char *name, char **pathp)
{
	struct db	*db;
	char		*cause = NULL;

	xasprintf(pathp, "%s/%s", dir, name);
	if ((db = db_open(*pathp, &cause)) == NULL ||
	    db_migrate(db, &cause) != 0 ||
	    db_exec(db, "INSERT INTO sites (name, url, platform, created_at, "
	    "updated_at) VALUES ('alpha', 'http://a', 'new-api', 0, 0), "
	    "('beta', 'http://b', 'one-api', 0, 0)", &cause) != 0 ||
	    db_exec(db, "INSERT INTO api_keys (name, key_hash, key_mask, "
	    "created_at, updated_at) VALUES ('k1', x'01', 'sk-…0001', 0, 0), "
	    "('k2', x'02', 'sk-…0002', 0, 0)", &cause) != 0) {
		CHECK_STR(cause, NULL);
		free(cause);
		db_close(db);
		return (NULL);
	}
	return (db);
}

static void
t_proxylog_fill(struct db *db)
{
	struct proxylog_rec	*r;
	struct err		 e = { ERR_OK, NULL };
	long long		 now = time(NULL);
	size_t			 i;

	CHECK_INT(db_begin(db, NULL), 0);
	for (i = 0; i < nitems(t_proxylog_rows); i++) {
		r = proxylog_rec_new();
		r->time = now - t_proxylog_rows[i].ago;
		r->key_id = t_proxylog_rows[i].key_id;
		r->model_requested = xstrdup(t_proxylog_rows[i].requested);
		if (t_proxylog_rows[i].model != NULL)
			r->model = xstrdup(t_proxylog_rows[i].model);
		r->site_id = t_proxylog_rows[i].site_id;
		r->status = t_proxylog_rows[i].status;
		r->http_status = t_proxylog_rows[i].http_status;
		r->latency_ms = t_proxylog_rows[i].latency_ms;
		r->prompt_tokens = t_proxylog_rows[i].prompt;
		r->completion_tokens = t_proxylog_rows[i].completion;
		r->cost_usd = t_proxylog_rows[i].cost;
		if (r->site_id != 0) {
			r->channel_id = 10 + i;
			r->nattempts = 1;
			r->attempts[0].channel_id = r->channel_id;
			r->attempts[0].site_id = r->site_id;
			r->attempts[0].http_status = r->http_status;
			r->attempts[0].latency_ms = r->latency_ms;
			r->attempts[0].started_at = r->time;
		}
		if (i == 1) {
			/* A failover: beta said 502, then alpha served it. */
			r->route_id = 7;
			r->channel_id = 4;
			r->stream = 1;
			r->ttfb_ms = 50;
			r->cache_read_tokens = 10;
			r->usage_source = "upstream";
			r->nattempts = 2;
			r->attempts[0].channel_id = 3;
			r->attempts[0].site_id = 2;
			r->attempts[0].http_status = 502;
			r->attempts[0].error = xstrdup("bad gateway");
			r->attempts[0].retryable = 1;
			r->attempts[0].latency_ms = 30;
			r->attempts[1].channel_id = 4;
			r->attempts[1].site_id = 1;
			r->attempts[1].http_status = 200;
			r->attempts[1].latency_ms = 170;
			r->attempts[1].started_at = r->time;
		}
		if (i == 2)
			r->error = xstrdup("upstream 500");
		if (i == 5)
			r->error = xstrdup("no channel");
		CHECK_INT(proxylog_insert(db, r, NULL, &e), 0);
		CHECK_STR(e.msg, NULL);
		err_clear(&e);
		proxylog_rec_free(r);
	}
	CHECK_INT(db_commit(db, NULL), 0);
}

/* The ids of a list reply, "6,5,4", and its next cursor (0: null). */
static char *
t_proxylog_ids(json_t *reply, long long *next)
{
	char	*s = xstrdup(""), *t;
	json_t	*item;
	size_t	 i;

	json_array_foreach(json_object_get(reply, "items"), i, item) {
		xasprintf(&t, "%s%s%lld", s, i > 0 ? "," : "",
		    t_proxylog_get_int(item, "id"));
		free(s);
		s = t;
	}
	*next = 0;
	jx_int(reply, "next", next);
	return (s);
}

/* List with f and compare the ids and the next cursor. */
static void
t_proxylog_expect(struct db *db, const struct proxylog_filter *f,
    const char *ids, long long next)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*reply;
	char		*got;
	long long	 gnext;

	reply = proxylog_list(db, f, &e);
	if (!CHECK(reply != NULL)) {
		CHECK_STR(e.msg, NULL);
		err_clear(&e);
		return;
	}
	got = t_proxylog_ids(reply, &gnext);
	CHECK_STR(got, ids);
	CHECK_INT(gnext, next);
	free(got);
	json_decref(reply);
}

static void
t_proxylog_filters(struct db *db)
{
	struct proxylog_filter	 f;
	struct err		 e = { ERR_OK, NULL };

	memset(&f, 0, sizeof f);
	unit_case("all");
	t_proxylog_expect(db, &f, "6,5,4,3,2,1", 0);
	unit_case("status ok");
	f.status = "ok";
	t_proxylog_expect(db, &f, "5,2,1", 0);
	unit_case("status fail");
	f.status = "fail";
	t_proxylog_expect(db, &f, "6,4,3", 0);
	f.status = NULL;
	unit_case("exact model, requested");
	f.model = "gpt-4o";
	t_proxylog_expect(db, &f, "2,1", 0);
	unit_case("glob");
	f.model = "gpt-4o*";
	t_proxylog_expect(db, &f, "5,2,1", 0);
	unit_case("glob ?");
	f.model = "claude-?";
	t_proxylog_expect(db, &f, "4,3", 0);
	unit_case("served model");
	f.model = "*-2024";
	t_proxylog_expect(db, &f, "2", 0);
	unit_case("bracket is literal");
	f.model = "deepseek[x]";
	t_proxylog_expect(db, &f, "6", 0);
	unit_case("no such model");
	f.model = "nothing";
	t_proxylog_expect(db, &f, "", 0);
	f.model = NULL;
	unit_case("key");
	f.key_id = 2;
	t_proxylog_expect(db, &f, "5,3", 0);
	unit_case("key and status");
	f.key_id = 1;
	f.status = "ok";
	t_proxylog_expect(db, &f, "2,1", 0);
	unit_case("key, status, model");
	f.model = "gpt-4o-2024";
	t_proxylog_expect(db, &f, "2", 0);
	unit_case_end();

	/* Paging: each page's next is the following page's before. */
	memset(&f, 0, sizeof f);
	f.limit = 2;
	unit_case("page 1");
	t_proxylog_expect(db, &f, "6,5", 5);
	unit_case("page 2");
	f.before = 5;
	t_proxylog_expect(db, &f, "4,3", 3);
	unit_case("page 3");
	f.before = 3;
	t_proxylog_expect(db, &f, "2,1", 0);
	unit_case("pages of a filter");
	f.before = 0;
	f.status = "fail";
	t_proxylog_expect(db, &f, "6,4", 4);
	f.before = 4;
	t_proxylog_expect(db, &f, "3", 0);
	unit_case("exact fit has no next page");
	memset(&f, 0, sizeof f);
	f.limit = 6;
	t_proxylog_expect(db, &f, "6,5,4,3,2,1", 0);
	unit_case("forward from a row, oldest first");
	memset(&f, 0, sizeof f);
	f.forward = 1;
	f.after = 3;
	f.limit = 2;
	t_proxylog_expect(db, &f, "4,5", 0);
	f.after = 6;
	t_proxylog_expect(db, &f, "", 0);
	unit_case_end();

	/* Bad filters. */
	memset(&f, 0, sizeof f);
	f.limit = PROXYLOG_LIST_MAX + 1;
	CHECK(proxylog_list(db, &f, &e) == NULL);
	CHECK_INT(e.code, ERR_INVALID);
	CHECK_SUB(e.msg, "--limit");
	err_clear(&e);
	f.limit = -1;
	CHECK(proxylog_list(db, &f, &e) == NULL);
	CHECK_INT(e.code, ERR_INVALID);
	err_clear(&e);
	f.limit = 0;
	f.status = "failed";
	CHECK(proxylog_list(db, &f, &e) == NULL);
	CHECK_INT(e.code, ERR_INVALID);
	CHECK_SUB(e.msg, "ok or fail");
	err_clear(&e);
}

static void
t_proxylog_items(struct db *db)
{
	struct proxylog_filter	 f;
	struct err		 e = { ERR_OK, NULL };
	json_t			*reply, *items, *o, *a;

	memset(&f, 0, sizeof f);
	reply = proxylog_list(db, &f, &e);
	if (!CHECK(reply != NULL))
		return;
	items = json_object_get(reply, "items");

	/* Row 2: the failover, every field. */
	o = json_array_get(items, 4);
	CHECK_INT(t_proxylog_get_int(o, "id"), 2);
	CHECK_SUB(jx_str(o, "time"), "T");
	CHECK(jx_str(o, "time") != NULL &&
	    jx_str(o, "time")[strlen(jx_str(o, "time")) - 1] == 'Z');
	CHECK_INT(t_proxylog_get_int(o, "key_id"), 1);
	CHECK_STR(jx_str(o, "model_requested"), "gpt-4o");
	CHECK_STR(jx_str(o, "model"), "gpt-4o-2024");
	CHECK_INT(t_proxylog_get_int(o, "route_id"), 7);
	CHECK_INT(t_proxylog_get_int(o, "channel_id"), 4);
	CHECK_STR(jx_str(o, "site"), "alpha");
	CHECK_STR(jx_str(o, "status"), "ok");
	CHECK_INT(t_proxylog_get_int(o, "http_status"), 200);
	CHECK(json_is_true(json_object_get(o, "stream")));
	CHECK_INT(t_proxylog_get_int(o, "ttfb_ms"), 50);
	CHECK_INT(t_proxylog_get_int(o, "latency_ms"), 200);
	CHECK_INT(t_proxylog_get_int(o, "prompt_tokens"), 100);
	CHECK_INT(t_proxylog_get_int(o, "completion_tokens"), 50);
	CHECK_INT(t_proxylog_get_int(o, "cache_read_tokens"), 10);
	CHECK_INT(t_proxylog_get_int(o, "cache_write_tokens"), 0);
	CHECK(fabs(t_proxylog_real(o, "cost_usd") - 0.5) < 1e-9);
	CHECK_STR(jx_str(o, "usage_source"), "upstream");
	CHECK(json_is_null(json_object_get(o, "error")));
	a = json_object_get(o, "attempts");
	CHECK_INT(json_array_size(a), 2);
	o = json_array_get(a, 0);
	CHECK_INT(t_proxylog_get_int(o, "n"), 1);
	CHECK_INT(t_proxylog_get_int(o, "channel_id"), 3);
	CHECK_STR(jx_str(o, "site"), "beta");
	CHECK_INT(t_proxylog_get_int(o, "http_status"), 502);
	CHECK_STR(jx_str(o, "error"), "bad gateway");
	CHECK(json_is_true(json_object_get(o, "retryable")));
	CHECK_INT(t_proxylog_get_int(o, "latency_ms"), 30);
	o = json_array_get(a, 1);
	CHECK_INT(t_proxylog_get_int(o, "n"), 2);
	CHECK_STR(jx_str(o, "site"), "alpha");
	CHECK(json_is_null(json_object_get(o, "error")));
	CHECK(json_is_false(json_object_get(o, "retryable")));

	/* Row 6: no channel, so nulls where nothing was known. */
	o = json_array_get(items, 0);
	CHECK_INT(t_proxylog_get_int(o, "id"), 6);
	CHECK(json_is_null(json_object_get(o, "model")));
	CHECK(json_is_null(json_object_get(o, "site")));
	CHECK(json_is_null(json_object_get(o, "key_id")));
	CHECK(json_is_null(json_object_get(o, "channel_id")));
	CHECK(json_is_null(json_object_get(o, "http_status")));
	CHECK(json_is_null(json_object_get(o, "ttfb_ms")));
	CHECK(json_is_false(json_object_get(o, "stream")));
	CHECK_STR(jx_str(o, "usage_source"), "none");
	CHECK_STR(jx_str(o, "error"), "no channel");
	CHECK_INT(json_array_size(json_object_get(o, "attempts")), 0);
	CHECK(json_is_null(json_object_get(reply, "next")));
	json_decref(reply);
}

/* A stats group entry by position: name, calls, ok, cost, avg latency. */
static void
t_proxylog_group(json_t *a, size_t i, const char *key, const char *name,
    long long calls, long long ok, double cost, double avg)
{
	json_t	*o = json_array_get(a, i);

	unit_case("%s %zu", key, i);
	CHECK_STR(jx_str(o, key), name);
	CHECK_INT(t_proxylog_get_int(o, "calls"), calls);
	CHECK_INT(t_proxylog_get_int(o, "ok"), ok);
	CHECK(fabs(t_proxylog_real(o, "success_rate") - 100.0 * ok / calls) <
	    1e-9);
	CHECK(fabs(t_proxylog_real(o, "cost_usd") - cost) < 1e-9);
	CHECK(fabs(t_proxylog_real(o, "avg_latency_ms") - avg) < 1e-9);
	unit_case_end();
}

static void
t_proxylog_stats(struct db *db)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*r, *t, *a;

	/* The last 7 days hold rows 2 to 6 (row 1 is 8 days old). */
	r = proxylog_stats(db, 0, &e);
	if (!CHECK(r != NULL))
		return;
	CHECK_INT(t_proxylog_get_int(r, "days"), 7);
	t = json_object_get(r, "totals");
	CHECK_INT(t_proxylog_get_int(t, "requests"), 5);
	CHECK_INT(t_proxylog_get_int(t, "ok"), 2);
	CHECK_INT(t_proxylog_get_int(t, "failed"), 3);
	CHECK_INT(t_proxylog_get_int(t, "client_closed"), 1);
	CHECK(fabs(t_proxylog_real(t, "success_rate") - 40.0) < 1e-9);
	CHECK_INT(t_proxylog_get_int(t, "prompt_tokens"), 150);
	CHECK_INT(t_proxylog_get_int(t, "completion_tokens"), 60);
	CHECK_INT(t_proxylog_get_int(t, "cache_read_tokens"), 10);
	CHECK_INT(t_proxylog_get_int(t, "tokens"), 210);
	CHECK(fabs(t_proxylog_real(t, "cost_usd") - 1.0) < 1e-9);
	/* Latencies 0, 200, 300, 400, 600. */
	CHECK(fabs(t_proxylog_real(t, "avg_latency_ms") - 300.0) < 1e-9);
	CHECK_INT(t_proxylog_get_int(t, "p50_latency_ms"), 300);

	a = json_object_get(r, "sites");
	CHECK_INT(json_array_size(a), 3);
	t_proxylog_group(a, 0, "site", "alpha", 2, 2, 0.75, 400);
	t_proxylog_group(a, 1, "site", "beta", 2, 0, 0.25, 350);
	t_proxylog_group(a, 2, "site", NULL, 1, 0, 0, 0);
	CHECK_INT(t_proxylog_get_int(json_array_get(a, 0), "site_id"), 1);
	CHECK_INT(t_proxylog_get_int(json_array_get(a, 0), "tokens"), 190);

	a = json_object_get(r, "models");
	CHECK_INT(json_array_size(a), 4);
	t_proxylog_group(a, 0, "model", "gpt-4o-2024", 1, 1, 0.5, 200);
	t_proxylog_group(a, 1, "model", "claude-3", 2, 0, 0.25, 350);
	t_proxylog_group(a, 2, "model", "gpt-4o-mini", 1, 1, 0.25, 600);
	t_proxylog_group(a, 3, "model", "deepseek[x]", 1, 0, 0, 0);

	/* Per day: 7 calendar days, oldest first; every row of the last hour. */
	a = json_object_get(r, "daily");
	CHECK_INT(json_array_size(a), 7);
	{
		json_t		*d, *h;
		long long	 calls = 0;
		double		 cost = 0;
		size_t		 i;

		json_array_foreach(a, i, d) {
			calls += t_proxylog_get_int(d, "calls");
			cost += t_proxylog_real(d, "cost_usd");
			CHECK(json_is_string(json_object_get(d, "day")));
		}
		CHECK_INT(calls, 5);
		CHECK(fabs(cost - 1.0) < 1e-9);
		/* Per site and hour: 24 hours for each site. */
		h = json_object_get(r, "hourly");
		CHECK(json_is_string(json_object_get(h, "since")));
		json_array_foreach(json_object_get(h, "sites"), i, d)
			CHECK_INT(json_array_size(json_object_get(d,
			    "attempts")), 24);
	}
	json_decref(r);

	/* 30 days take row 1 in too: latencies 0 100 200 300 400 600. */
	r = proxylog_stats(db, 30, &e);
	if (!CHECK(r != NULL))
		return;
	t = json_object_get(r, "totals");
	CHECK_INT(t_proxylog_get_int(t, "requests"), 6);
	CHECK_INT(t_proxylog_get_int(t, "ok"), 3);
	CHECK(fabs(t_proxylog_real(t, "success_rate") - 50.0) < 1e-9);
	CHECK(fabs(t_proxylog_real(t, "cost_usd") - 2.0) < 1e-9);
	CHECK_INT(t_proxylog_get_int(t, "p50_latency_ms"), 200);
	json_decref(r);

	CHECK(proxylog_stats(db, PROXYLOG_STATS_MAX_DAYS + 1, &e) == NULL);
	CHECK_INT(e.code, ERR_INVALID);
	CHECK_SUB(e.msg, "--days");
	err_clear(&e);
}

/* An empty log: zero counts, null rates and latencies, empty groups. */
static void
t_proxylog_empty(struct db *db)
{
	struct proxylog_filter	 f;
	struct err		 e = { ERR_OK, NULL };
	json_t			*r, *t;

	memset(&f, 0, sizeof f);
	t_proxylog_expect(db, &f, "", 0);
	r = proxylog_stats(db, 7, &e);
	if (!CHECK(r != NULL))
		return;
	t = json_object_get(r, "totals");
	CHECK_INT(t_proxylog_get_int(t, "requests"), 0);
	CHECK(fabs(t_proxylog_real(t, "cost_usd")) < 1e-12);
	CHECK(json_is_null(json_object_get(t, "success_rate")));
	CHECK(json_is_null(json_object_get(t, "p50_latency_ms")));
	CHECK(json_is_null(json_object_get(t, "avg_latency_ms")));
	CHECK_INT(json_array_size(json_object_get(r, "sites")), 0);
	CHECK_INT(json_array_size(json_object_get(r, "models")), 0);
	json_decref(r);
	CHECK_INT(proxylog_max_id(db), 0);
}

static void *
t_proxylog_producer(void *arg)
{
	struct proxylog_rec	*r;
	long long		 n = (long long)(intptr_t)arg, i;

	for (i = 0; i < T_PROXYLOG_PER_THREAD; i++) {
		r = proxylog_rec_new();
		r->time = time(NULL);
		r->key_id = 1 + n % 2;
		xasprintf(&r->model_requested, "m%lld", n);
		r->status = "ok";
		r->http_status = 200;
		r->cost_usd = 0.001;
		r->latency_ms = i;
		r->nattempts = 1;
		r->attempts[0].site_id = 1;
		r->attempts[0].http_status = 200;
		r->attempts[0].started_at = r->time;
		logwriter_put(r);
	}
	return (NULL);
}

/*
 * The writer under load: four threads put 10000 records through a queue
 * of 8, so puts wait (back-pressure); after stop every record is stored
 * once, with its attempt, and the keys' counters add up.
 */
static void
t_proxylog_writer(const char *dir)
{
	pthread_t	 th[T_PROXYLOG_THREADS];
	struct pollfd	 pfd;
	struct db	*db;
	char		*path = NULL, *cause = NULL;
	long long	 total = T_PROXYLOG_THREADS * T_PROXYLOG_PER_THREAD;
	long long	 before;
	int		 i;

	if ((db = t_proxylog_db(dir, "writer.db", &path)) == NULL)
		goto out;
	t_proxylog_fill(db);
	before = proxylog_max_id(db);
	logwriter_tune(8, 16);
	if (!CHECK_INT(logwriter_start(path, dir, &cause), 0)) {
		CHECK_STR(cause, NULL);
		free(cause);
		goto out;
	}
	CHECK_INT(logwriter_last_id(), before);
	for (i = 0; i < T_PROXYLOG_THREADS; i++)
		CHECK_INT(pthread_create(&th[i], NULL, t_proxylog_producer,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < T_PROXYLOG_THREADS; i++)
		pthread_join(th[i], NULL);

	/* The main loop's side: the pipe wakes, and says how far it got. */
	pfd.fd = logwriter_fd();
	pfd.events = POLLIN;
	CHECK_INT(poll(&pfd, 1, 5000), 1);
	CHECK(logwriter_woken() > before);
	CHECK(logwriter_waits() > 0);
	logwriter_stop();
	CHECK_INT(logwriter_fd(), -1);
	logwriter_tune(0, 0);
	/* Everything committed: the journal is gone. */
	CHECK_INT(t_proxylog_journals(dir), 0);

	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_logs"),
	    before + total);
	CHECK_INT(t_proxylog_int(db, "SELECT MAX(id) FROM request_logs"),
	    before + total);
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_logs "
	    "WHERE model_requested = 'm3'"), T_PROXYLOG_PER_THREAD);
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_attempts a "
	    "JOIN request_logs r ON r.id = a.log_id WHERE r.model_requested "
	    "LIKE 'm%'"), total);
	/* Each thread's records in the order it put them. */
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_logs a "
	    "JOIN request_logs b ON a.model_requested = b.model_requested AND "
	    "b.id > a.id AND b.latency_ms < a.latency_ms WHERE "
	    "a.model_requested = 'm0'"), 0);
	CHECK_INT(t_proxylog_int(db, "SELECT used_requests FROM api_keys "
	    "WHERE id = 1"), total / 2);
	CHECK_INT(t_proxylog_int(db, "SELECT used_requests FROM api_keys "
	    "WHERE id = 2"), total / 2);
	CHECK_INT(t_proxylog_int(db, "SELECT CAST(ROUND(SUM(used_cost_usd) * "
	    "1000) AS INTEGER) FROM api_keys"), total);
	CHECK(t_proxylog_int(db, "SELECT last_used_at FROM api_keys WHERE "
	    "id = 1") > 0);
out:
	db_close(db);
	free(path);
}

/* How many journal files dir holds. */
static int
t_proxylog_journals(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "requests-", 9) == 0)
			n++;
	closedir(d);
	return (n);
}

static long long
t_proxylog_size(const char *dir, unsigned seq)
{
	struct stat	 sb;
	char		*path;
	long long	 n;

	xasprintf(&path, "%s/requests-%u.journal", dir, seq);
	n = stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
	free(path);
	return (n);
}

/* A record survives the trip through JSON whole; bad ones are refused. */

/* r's journal line into line, read back as the replay reads it. */
static struct proxylog_rec *
pl_line_back(const struct proxylog_rec *r, struct buf *line)
{
	struct proxylog_rec	*back;
	struct err		 e = { ERR_OK, NULL };
	json_t			*o;

	proxylog_rec_line(line, "e", r);
	o = json_loadb(line->data, line->len, 0, NULL);
	if (!CHECK(o != NULL)) {
		fprintf(stderr, "    not JSON: %s", buf_cstr(line));
		return (NULL);
	}
	CHECK_STR(jx_str(o, "k"), "e");
	back = proxylog_rec_from_json(json_object_get(o, "r"), &e);
	if (back == NULL)
		fprintf(stderr, "    %s\n", e.msg);
	err_clear(&e);
	json_decref(o);
	return (back);
}

static void
t_proxylog_json(void)
{
	static const char *const bad[] = {
		"{\"status\":\"weird\"}",
		"{\"usage_source\":\"guessed\"}",
		"{\"time\":\"noon\"}",
		"{\"cost_usd\":\"1\"}",
		"{\"model\":7}",
		"{\"rid\":\"0123456789abcdef0123456789abcdef\"}",
		"{\"attempts\":{}}",
		"{\"attempts\":[{},{},{},{},{},{},{},{},{},{},{}]}",
		"{\"attempts\":[{\"http_status\":\"x\"}]}",
		"[]",
	};
	struct proxylog_rec	*r, *back;
	struct err		 e = { ERR_OK, NULL };
	struct buf		 la, lb;
	json_t			*a;
	size_t			 i;

	buf_init(&la, SIZE_MAX);
	buf_init(&lb, SIZE_MAX);
	r = proxylog_rec_new();
	strlcpy(r->rid, "00ff00ff00ff00ff-1a", sizeof r->rid);
	r->time = 1700000000;
	r->key_id = 3;
	r->model_requested = xstrdup("gpt-4o");
	r->model = xstrdup("gpt-4o-2024");
	r->route_id = 4;
	r->channel_id = 5;
	r->site_id = 6;
	r->account_id = 7;
	r->downstream_path = xstrdup("/v1/chat/completions");
	r->client = xstrdup("curl/8 \"quoted\" \xe4\xb8\xad");
	r->status = "client_closed";
	r->http_status = 499;
	r->stream = 1;
	r->ttfb_ms = 12;
	r->latency_ms = 345;
	r->prompt_tokens = 10;
	r->completion_tokens = 20;
	r->cache_read_tokens = 30;
	r->cache_write_tokens = 40;
	r->cost_usd = 0.125;
	r->usage_source = "estimated";
	r->error = xstrdup("client went away");
	r->nattempts = 2;
	r->attempts[0].channel_id = 9;
	r->attempts[0].upstream_path = xstrdup("/v1/chat/completions");
	r->attempts[0].http_status = 500;
	r->attempts[0].error = xstrdup("HTTP 500");
	r->attempts[0].retryable = 1;
	r->attempts[1].channel_id = 5;
	r->attempts[1].latency_ms = 300;
	r->attempts[1].started_at = 1700000001;
	back = pl_line_back(r, &la);
	if (CHECK(back != NULL)) {
		proxylog_rec_line(&lb, "e", back);
		CHECK_STR(buf_cstr(&lb), buf_cstr(&la));
		CHECK_STR(back->rid, r->rid);
		CHECK_STR(back->status, "client_closed");
		CHECK_STR(back->client, r->client);
		CHECK(back->cost_usd == 0.125);
		CHECK_INT(back->nattempts, 2);
		CHECK_STR(back->attempts[0].error, "HTTP 500");
		CHECK_INT(back->attempts[1].latency_ms, 300);
	}
	proxylog_rec_free(back);

	/*
	 * Text the line must escape or mend (a site's error can hold
	 * anything), and figures jansson would leave out: still one line
	 * that jansson reads.
	 */
	free(r->error);
	r->error = xstrdup("a\"b\\c\n\r\t\x01\x1f\x7f/\xff\xc3(\xe4\xb8\xad\xed\xa0\x80"
	    "\xf0\x9f\x98\x80\xe4\xb8");
	r->cost_usd = NAN;
	r->attempts[0].latency_ms = -42;
	r->attempts[1].started_at = 9223372036854775807LL;
	back = pl_line_back(r, &la);
	if (CHECK(back != NULL)) {
		CHECK(memchr(la.data, '\n', la.len) == la.data + la.len - 1);
		CHECK_STR(back->error, "a\"b\\c\n\r\t\x01\x1f\x7f/"
		    "\xef\xbf\xbd\xef\xbf\xbd(\xe4\xb8\xad"
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		    "\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd");
		CHECK(back->cost_usd == 0);
		CHECK_INT(back->attempts[0].latency_ms, -42);
		CHECK(back->attempts[1].started_at == 9223372036854775807LL);
	}
	proxylog_rec_free(back);
	proxylog_rec_free(r);
	buf_free(&la);
	buf_free(&lb);
	for (i = 0; i < nitems(bad); i++) {
		a = json_loads(bad[i], 0, NULL);
		back = proxylog_rec_from_json(a, &e);
		if (!CHECK(back == NULL))
			fprintf(stderr, "    accepted: %s\n", bad[i]);
		CHECK(back != NULL || e.code == ERR_INVALID);
		err_clear(&e);
		proxylog_rec_free(back);
		json_decref(a);
	}
}

/*
 * The journal's files: lines pending until released, the newest emptied
 * and older ones removed when nothing in them is pending, rotation past
 * JOURNAL_ROTATE, and numbering after files an earlier run left.
 */
static void
t_proxylog_journal_files(const char *top)
{
	struct journal	*j;
	char		*dir, *cause = NULL, line[1000];
	unsigned	 seq[1200], first;
	size_t		 i, n = 1200;

	xasprintf(&dir, "%s/jfiles", top);
	CHECK_INT(mkdir(dir, 0700), 0);
	if (!CHECK((j = journal_open(dir, &cause)) != NULL)) {
		free(cause);
		free(dir);
		return;
	}
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	first = journal_append(j, line, sizeof line);
	CHECK_INT(first, 1);
	CHECK_INT(journal_append(j, line, sizeof line), 1);
	CHECK_INT(t_proxylog_size(dir, 1), 2000);
	journal_release(j, 1);
	CHECK_INT(t_proxylog_size(dir, 1), 2000);	/* one still pending */
	journal_release(j, 1);
	CHECK_INT(t_proxylog_size(dir, 1), 0);		/* emptied, kept */
	journal_release(j, 0);				/* a no-op */

	for (i = 0; i < n; i++)
		seq[i] = journal_append(j, line, sizeof line);
	CHECK(seq[0] == 1 && seq[n - 1] == 2);	/* past 1 MB: a new file */
	CHECK_INT(t_proxylog_journals(dir), 2);
	for (i = 0; i < n; i++)
		if (seq[i] == 1)
			journal_release(j, 1);
	CHECK_INT(t_proxylog_size(dir, 1), -1);	/* older, done: removed */
	CHECK_INT(t_proxylog_journals(dir), 1);
	(void)journal_append(j, line, sizeof line);	/* left pending */
	journal_close(j);
	CHECK_INT(t_proxylog_journals(dir), 1);	/* kept for a replay */

	/* A later run numbers its files after those left. */
	if (CHECK((j = journal_open(dir, &cause)) != NULL)) {
		CHECK_INT(journal_append(j, line, sizeof line), 3);
		journal_release(j, 3);
		journal_close(j);
	}
	free(cause);
	CHECK_INT(t_proxylog_journals(dir), 1);	/* 2, still to replay */
	journal_clear(dir, 0);
	CHECK_INT(t_proxylog_journals(dir), 0);

	/* The rid: unique, and of the promised shape. */
	{
		char	a[JOURNAL_RID_LEN], b[JOURNAL_RID_LEN];

		journal_rid(a);
		journal_rid(b);
		CHECK(strcmp(a, b) != 0);
		CHECK_INT(strspn(a, "0123456789abcdef"), 16);
		CHECK_INT(a[16], '-');
	}
	unit_rmtree(dir);
	free(dir);
}

/*
 * What a killed daemon left: the writer stores, before it serves, an
 * ended request as it ended, a started one as failed, skips a request
 * the database has and a damaged line, counts a key's use only for what
 * it added, and removes the old files.
 */
static void
t_proxylog_replay(const char *top)
{
	static const char journal[] =
	    "{\"k\":\"s\",\"r\":{\"rid\":\"aaaa-1\",\"time\":100,\"key_id\":1,"
	    "\"attempts\":[]}}\n"
	    "{\"k\":\"s\",\"r\":{\"rid\":\"aaaa-2\",\"time\":101,\"key_id\":1,"
	    "\"downstream_path\":\"/v1/messages\",\"attempts\":[]}}\n"
	    "{\"k\":\"e\",\"r\":{\"rid\":\"aaaa-1\",\"time\":100,\"key_id\":1,"
	    "\"model_requested\":\"replayed\",\"status\":\"ok\","
	    "\"http_status\":200,\"cost_usd\":0.5,\"attempts\":[{"
	    "\"channel_id\":1,\"http_status\":200,\"started_at\":100}]}}\n"
	    "not json at all\n"
	    "{\"k\":\"e\",\"r\":{\"rid\":\"aaaa-3\",\"time\":102,\"key_id\":1,"
	    "\"status\":\"ok\",\"attempts\":[{\"channel_id\":1}]}}\n"
	    "{\"k\":\"e\",\"r\":{\"rid\":\"aaaa-4\",\"ti";
	struct proxylog_rec	*r;
	struct db		*db;
	struct err		 e = { ERR_OK, NULL };
	char			*dir, *path = NULL, *jpath, *cause = NULL;
	long long		 used;
	int			 fd;

	xasprintf(&dir, "%s/jreplay", top);
	CHECK_INT(mkdir(dir, 0700), 0);
	if ((db = t_proxylog_db(dir, "replay.db", &path)) == NULL)
		goto out;
	t_proxylog_fill(db);
	/* aaaa-3 was committed before the kill. */
	r = proxylog_rec_new();
	strlcpy(r->rid, "aaaa-3", sizeof r->rid);
	r->time = 102;
	r->status = "ok";
	CHECK_INT(db_begin(db, NULL), 0);
	CHECK_INT(proxylog_insert(db, r, NULL, &e), 0);
	CHECK_INT(db_commit(db, NULL), 0);
	proxylog_rec_free(r);
	used = t_proxylog_int(db, "SELECT used_requests FROM api_keys "
	    "WHERE id = 1");
	xasprintf(&jpath, "%s/requests-7.journal", dir);
	fd = open(jpath, O_WRONLY|O_CREAT|O_TRUNC, 0600);
	CHECK(fd != -1 && write(fd, journal, sizeof journal - 1) ==
	    (ssize_t)sizeof journal - 1);
	close(fd);
	free(jpath);

	if (!CHECK_INT(logwriter_start(path, dir, &cause), 0)) {
		CHECK_STR(cause, NULL);
		free(cause);
		goto out;
	}
	/* Stored before anything else; the old file is gone, a new one is. */
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_logs "
	    "WHERE rid LIKE 'aaaa-%'"), 3);
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_logs "
	    "WHERE rid = 'aaaa-1' AND status = 'ok' AND model_requested = "
	    "'replayed' AND attempt_count = 1"), 1);
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_attempts a "
	    "JOIN request_logs r ON r.id = a.log_id WHERE r.rid = 'aaaa-1'"),
	    1);
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_logs "
	    "WHERE rid = 'aaaa-2' AND status = 'failed' AND attempt_count = 0 "
	    "AND error LIKE 'interrupted%' AND downstream_path = "
	    "'/v1/messages'"), 1);
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_logs "
	    "WHERE rid = 'aaaa-3'"), 1);
	CHECK_INT(t_proxylog_int(db, "SELECT used_requests FROM api_keys "
	    "WHERE id = 1"), used + 1);
	CHECK_INT(t_proxylog_size(dir, 7), -1);
	CHECK_INT(t_proxylog_size(dir, 1), 0);	/* numbered anew */
	CHECK_INT(logwriter_last_id(), proxylog_max_id(db));

	/* A request now: its lines, committed, then released. */
	r = proxylog_rec_new();
	r->key_id = 2;
	logwriter_begin(r);
	CHECK(r->rid[0] != '\0' && r->jseq[0] == 1);
	CHECK(t_proxylog_size(dir, 1) > 0);
	logwriter_put(r);
	logwriter_stop();
	CHECK_INT(t_proxylog_journals(dir), 0);
out:
	db_close(db);
	free(path);
	unit_rmtree(dir);
	free(dir);
}

/*
 * Many records in one batch insert: more than fit one statement of
 * records (39) and of attempts (90), records with 0 to 3 attempts, after
 * rows already there. Every attempt must land on its own record, in
 * order.
 */
#define T_PROXYLOG_BATCH	100

static void
t_proxylog_batch(struct db *db)
{
	struct proxylog_rec	*v[T_PROXYLOG_BATCH];
	struct err		 e = { ERR_OK, NULL };
	long long		 ids[T_PROXYLOG_BATCH], before, natt = 0;
	size_t			 i, t;

	unit_case("batch insert");
	before = proxylog_max_id(db);
	for (i = 0; i < T_PROXYLOG_BATCH; i++) {
		v[i] = proxylog_rec_new();
		v[i]->time = 1000 + (long long)i;
		v[i]->latency_ms = (long long)i;
		v[i]->model_requested = xstrdup("batch");
		v[i]->nattempts = i % 4;
		for (t = 0; t < v[i]->nattempts; t++) {
			v[i]->attempts[t].latency_ms = (long long)i * 10 +
			    (long long)t;
			v[i]->attempts[t].started_at = v[i]->time;
		}
		natt += (long long)v[i]->nattempts;
	}
	CHECK_INT(db_begin(db, NULL), 0);
	CHECK_INT(proxylog_insert_batch(db, v, T_PROXYLOG_BATCH, ids, &e), 0);
	CHECK_STR(e.msg, NULL);
	err_clear(&e);
	CHECK_INT(db_commit(db, NULL), 0);
	CHECK_INT(ids[0], before + 1);
	CHECK_INT(ids[T_PROXYLOG_BATCH - 1], before + T_PROXYLOG_BATCH);
	CHECK_INT(proxylog_max_id(db), before + T_PROXYLOG_BATCH);
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_logs l "
	    "WHERE model_requested = 'batch' AND attempt_count = "
	    "latency_ms % 4"), T_PROXYLOG_BATCH);
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_attempts a "
	    "JOIN request_logs l ON l.id = a.log_id WHERE l.model_requested = "
	    "'batch'"), natt);
	/* Attempt n of record i has latency i * 10 + n - 1. */
	CHECK_INT(t_proxylog_int(db, "SELECT COUNT(*) FROM request_attempts a "
	    "JOIN request_logs l ON l.id = a.log_id WHERE l.model_requested = "
	    "'batch' AND a.latency_ms = l.latency_ms * 10 + a.n - 1 AND a.n <= "
	    "l.attempt_count"), natt);
	for (i = 0; i < T_PROXYLOG_BATCH; i++)
		proxylog_rec_free(v[i]);
}

void
t_proxylog(void)
{
	struct db	*db;
	char		*dir, *path = NULL;

	if (!CHECK((dir = unit_tmpdir()) != NULL))
		return;
	if ((db = t_proxylog_db(dir, "empty.db", &path)) != NULL)
		t_proxylog_empty(db);
	db_close(db);
	free(path);
	if ((db = t_proxylog_db(dir, "log.db", &path)) != NULL) {
		t_proxylog_fill(db);
		t_proxylog_filters(db);
		t_proxylog_items(db);
		t_proxylog_stats(db);
		t_proxylog_batch(db);
	}
	db_close(db);
	free(path);
	t_proxylog_writer(dir);
	t_proxylog_json();
	t_proxylog_journal_files(dir);
	t_proxylog_replay(dir);
	unit_rmtree(dir);
	free(dir);
}

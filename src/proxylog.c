/*
 * The request log: one row per downstream request with its attempts, and
 * the queries and sums other views need. This module alone owns
 * request_logs and request_attempts. Rows are written by the log writer
 * (daemon/logwriter.c), never by request threads.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "compat.h"
#include "db.h"
#include "err.h"
#include "jx.h"
#include "proxylog.h"
#include "search.h"
#include "xmalloc.h"

struct proxylog_rec *
proxylog_rec_new(void)
{
	struct proxylog_rec	*r;

	r = xcalloc(1, sizeof *r);
	r->status = "failed";
	r->usage_source = "none";
	r->ttfb_ms = -1;
	return (r);
}

void
proxylog_rec_free(struct proxylog_rec *r)
{
	size_t	i;

	if (r == NULL)
		return;
	free(r->model_requested);
	free(r->model);
	free(r->downstream_path);
	free(r->client);
	free(r->error);
	for (i = 0; i < r->nattempts; i++) {
		free(r->attempts[i].upstream_path);
		free(r->attempts[i].error);
	}
	free(r);
}

#define PROXYLOG_COLS "time, key_id, model_requested, model, route_id, " \
	"channel_id, site_id, account_id, downstream_path, client, status, " \
	"http_status, stream, attempt_count, ttfb_ms, latency_ms, " \
	"prompt_tokens, completion_tokens, cache_read_tokens, " \
	"cache_write_tokens, cost_usd, usage_source, error, rid"
#define PROXYLOG_NCOLS		24
#define PROXYLOG_ATT_COLS "log_id, n, channel_id, site_id, account_id, " \
	"upstream_path, http_status, error, retryable, latency_ms, started_at"
#define PROXYLOG_NATT		11

/* Record r's columns onto parameters at+1 to at+PROXYLOG_NCOLS. */
static void
proxylog_bind_rec(struct db_stmt *st, int at, const struct proxylog_rec *r)
{
	db_bind_int64(st, at + 1, r->time);
	db_bind_int(st, at + 2, r->key_id, r->key_id != 0);
	db_bind_text(st, at + 3, r->model_requested);
	db_bind_text(st, at + 4, r->model);
	db_bind_int(st, at + 5, r->route_id, r->route_id != 0);
	db_bind_int(st, at + 6, r->channel_id, r->channel_id != 0);
	db_bind_int(st, at + 7, r->site_id, r->site_id != 0);
	db_bind_int(st, at + 8, r->account_id, r->account_id != 0);
	db_bind_text(st, at + 9, r->downstream_path);
	db_bind_text(st, at + 10, r->client);
	db_bind_text(st, at + 11, r->status);
	db_bind_int(st, at + 12, r->http_status, r->http_status != 0);
	db_bind_int64(st, at + 13, r->stream);
	db_bind_int64(st, at + 14, (long long)r->nattempts);
	db_bind_int(st, at + 15, r->ttfb_ms, r->ttfb_ms >= 0);
	db_bind_int64(st, at + 16, r->latency_ms);
	db_bind_int64(st, at + 17, r->prompt_tokens);
	db_bind_int64(st, at + 18, r->completion_tokens);
	db_bind_int64(st, at + 19, r->cache_read_tokens);
	db_bind_int64(st, at + 20, r->cache_write_tokens);
	db_bind_double(st, at + 21, r->cost_usd);
	db_bind_text(st, at + 22, r->usage_source);
	db_bind_text(st, at + 23, r->error);
	db_bind_text(st, at + 24, r->rid[0] != '\0' ? r->rid : NULL);
}

/* Attempt n (from 1) of log row id onto parameters at+1 to at+11. */
static void
proxylog_bind_att(struct db_stmt *st, int at, long long id, size_t n,
    const struct proxylog_attempt *a)
{
	db_bind_int64(st, at + 1, id);
	db_bind_int64(st, at + 2, (long long)n);
	db_bind_int(st, at + 3, a->channel_id, a->channel_id != 0);
	db_bind_int(st, at + 4, a->site_id, a->site_id != 0);
	db_bind_int(st, at + 5, a->account_id, a->account_id != 0);
	db_bind_text(st, at + 6, a->upstream_path);
	db_bind_int(st, at + 7, a->http_status, a->http_status != 0);
	db_bind_text(st, at + 8, a->error);
	db_bind_int64(st, at + 9, a->retryable);
	db_bind_int64(st, at + 10, a->latency_ms);
	db_bind_int64(st, at + 11, a->started_at);
}

/*
 * A record as JSON and back, for the request journal (src/journal.c):
 * one table of fields per struct, so that adding a column is one line.
 */
enum proxylog_ftype {
	PL_LL,			/* long long */
	PL_INT,			/* int */
	PL_SIZE,		/* size_t */
	PL_DBL,			/* double */
	PL_STR,			/* char *, or NULL */
	PL_WORD			/* const char *, one of a fixed list */
};

struct proxylog_field {
	const char		 *name;
	enum proxylog_ftype	  type;
	size_t			  off;
	const char *const	 *words;	/* PL_WORD: NULL-terminated */
};

static const char *const proxylog_statuses[] = {
	"ok", "failed", "client_closed", NULL
};
static const char *const proxylog_usage_sources[] = {
	"upstream", "estimated", "none", NULL
};

#define PLR(n, t)	{ #n, t, offsetof(struct proxylog_rec, n), NULL }
#define PLA(n, t)	{ #n, t, offsetof(struct proxylog_attempt, n), NULL }
static const struct proxylog_field proxylog_rec_fields[] = {
	PLR(time, PL_LL), PLR(key_id, PL_LL), PLR(model_requested, PL_STR),
	PLR(model, PL_STR), PLR(route_id, PL_LL), PLR(channel_id, PL_LL),
	PLR(site_id, PL_LL), PLR(account_id, PL_LL),
	PLR(downstream_path, PL_STR), PLR(client, PL_STR),
	{ "status", PL_WORD, offsetof(struct proxylog_rec, status),
	    proxylog_statuses },
	PLR(http_status, PL_INT), PLR(stream, PL_INT), PLR(ttfb_ms, PL_LL),
	PLR(latency_ms, PL_LL), PLR(prompt_tokens, PL_LL),
	PLR(completion_tokens, PL_LL), PLR(cache_read_tokens, PL_LL),
	PLR(cache_write_tokens, PL_LL), PLR(cost_usd, PL_DBL),
	{ "usage_source", PL_WORD, offsetof(struct proxylog_rec,
	    usage_source), proxylog_usage_sources },
	PLR(error, PL_STR)
};
static const struct proxylog_field proxylog_attempt_fields[] = {
	PLA(channel_id, PL_LL), PLA(site_id, PL_LL), PLA(account_id, PL_LL),
	PLA(upstream_path, PL_STR), PLA(http_status, PL_INT),
	PLA(error, PL_STR), PLA(retryable, PL_INT), PLA(latency_ms, PL_LL),
	PLA(started_at, PL_LL)
};
#undef PLR
#undef PLA

/* A double as JSON: jansson's %.17g, whatever LC_NUMERIC says. */
static void
proxylog_line_real(struct buf *b, double v)
{
	char	t[64], *c;
	int	n;

	n = snprintf(t, sizeof t, "%.17g", v);
	if (n <= 0 || (size_t)n >= sizeof t)
		return;
	for (c = t; *c != '\0'; c++)
		if (*c == ',')
			*c = '.';
	buf_add(b, t, (size_t)n);
}

/*
 * The fields of p as a JSON object, written straight into b: what
 * jansson would make of them (absent strings and non-finite numbers left
 * out), without building values first. The object is left open for the
 * caller to add to and close.
 */
static void
proxylog_fields_line(struct buf *b, const struct proxylog_field *f, size_t n,
    const void *p)
{
	const char	*base = p;
	const char	*s;
	size_t		 i;
	int		 first = 1;

	buf_add(b, "{", 1);
	for (i = 0; i < n; i++) {
		const void	*v = base + f[i].off;

		if ((f[i].type == PL_STR || f[i].type == PL_WORD) &&
		    *(const char *const *)v == NULL)
			continue;
		if (f[i].type == PL_DBL && !isfinite(*(const double *)v))
			continue;
		if (!first)
			buf_add(b, ",", 1);
		first = 0;
		jx_buf_str(b, f[i].name);
		buf_add(b, ":", 1);
		switch (f[i].type) {
		case PL_LL:
			jx_buf_int(b, *(const long long *)v);
			break;
		case PL_INT:
			jx_buf_int(b, *(const int *)v);
			break;
		case PL_SIZE:
			jx_buf_int(b, (long long)*(const size_t *)v);
			break;
		case PL_DBL:
			proxylog_line_real(b, *(const double *)v);
			break;
		case PL_STR:
		case PL_WORD:
			s = *(const char *const *)v;
			jx_buf_str(b, s);
			break;
		}
	}
}

/* Fill from o; a wrong type or an unknown word is an error. */
static int
proxylog_fields_from(const struct proxylog_field *f, size_t n, void *p,
    const json_t *o, struct err *e)
{
	char		*base = p;
	const json_t	*v;
	const char	*s;
	size_t		 i, k;

	for (i = 0; i < n; i++) {
		void	*dst = base + f[i].off;

		if ((v = json_object_get(o, f[i].name)) == NULL ||
		    json_is_null(v))
			continue;
		if ((f[i].type == PL_DBL && !json_is_number(v)) ||
		    ((f[i].type == PL_LL || f[i].type == PL_INT ||
		    f[i].type == PL_SIZE) && !json_is_integer(v)) ||
		    ((f[i].type == PL_STR || f[i].type == PL_WORD) &&
		    !json_is_string(v)))
			goto bad;
		switch (f[i].type) {
		case PL_LL:
			*(long long *)dst = json_integer_value(v);
			break;
		case PL_INT:
			*(int *)dst = (int)json_integer_value(v);
			break;
		case PL_SIZE:
			*(size_t *)dst = (size_t)json_integer_value(v);
			break;
		case PL_DBL:
			*(double *)dst = json_number_value(v);
			break;
		case PL_STR:
			free(*(char **)dst);
			*(char **)dst = xstrdup(json_string_value(v));
			break;
		case PL_WORD:
			s = json_string_value(v);
			for (k = 0; f[i].words[k] != NULL; k++)
				if (strcmp(f[i].words[k], s) == 0)
					break;
			if (f[i].words[k] == NULL)
				goto bad;
			*(const char **)dst = f[i].words[k];
			break;
		}
	}
	return (0);
bad:
	err_set(e, ERR_INVALID, "request record: bad \"%s\"", f[i].name);
	return (-1);
}

/*
 * The journal line of a record: {"k":kind,"r":{fields..., "rid",
 * "attempts": [...]}} and a newline, into b (emptied first).
 * proxylog_rec_from_json() reads "r" back.
 */
void
proxylog_rec_line(struct buf *b, const char *kind, const struct proxylog_rec *r)
{
	size_t	i;

	buf_reset(b);
	buf_add(b, "{\"k\":", 5);
	jx_buf_str(b, kind);
	buf_add(b, ",\"r\":", 5);
	proxylog_fields_line(b, proxylog_rec_fields,
	    nitems(proxylog_rec_fields), r);
	if (r->rid[0] != '\0') {
		buf_add(b, ",\"rid\":", 7);
		jx_buf_str(b, r->rid);
	}
	buf_add(b, ",\"attempts\":[", 13);
	for (i = 0; i < r->nattempts; i++) {
		if (i > 0)
			buf_add(b, ",", 1);
		proxylog_fields_line(b, proxylog_attempt_fields,
		    nitems(proxylog_attempt_fields), &r->attempts[i]);
		buf_add(b, "}", 1);
	}
	buf_add(b, "]}}\n", 4);
}

struct proxylog_rec *
proxylog_rec_from_json(const json_t *o, struct err *e)
{
	struct proxylog_rec	*r;
	const json_t		*a, *v;
	const char		*rid;
	size_t			 i;

	if (!json_is_object(o)) {
		err_set(e, ERR_INVALID, "request record: not an object");
		return (NULL);
	}
	r = proxylog_rec_new();
	if (proxylog_fields_from(proxylog_rec_fields,
	    nitems(proxylog_rec_fields), r, o, e) != 0)
		goto fail;
	if ((rid = json_string_value(json_object_get(o, "rid"))) != NULL &&
	    strlcpy(r->rid, rid, sizeof r->rid) >= sizeof r->rid) {
		err_set(e, ERR_INVALID, "request record: bad \"rid\"");
		goto fail;
	}
	a = json_object_get(o, "attempts");
	if (a != NULL && (!json_is_array(a) ||
	    json_array_size(a) > PROXYLOG_MAX_ATTEMPTS)) {
		err_set(e, ERR_INVALID, "request record: bad \"attempts\"");
		goto fail;
	}
	json_array_foreach(a, i, v) {
		r->nattempts = i + 1;
		if (proxylog_fields_from(proxylog_attempt_fields,
		    nitems(proxylog_attempt_fields), &r->attempts[i], v, e) != 0)
			goto fail;
	}
	return (r);
fail:
	proxylog_rec_free(r);
	return (NULL);
}

/* Is there a row for this request id already? */
int
proxylog_has_rid(struct db *db, const char *rid)
{
	struct db_stmt	*st;
	struct err	 e = { ERR_OK, NULL };
	int		 found = 0;

	if ((st = db_cached(db, "SELECT 1 FROM request_logs WHERE rid = ?",
	    &e)) == NULL) {
		err_clear(&e);
		return (0);
	}
	db_bind_text(st, 1, rid);
	found = db_step(st) == DB_ROW;
	db_reset(st);
	return (found);
}

/*
 * Insert one record and its attempts (the caller holds the transaction).
 * The statements stay prepared on the connection.
 */
int
proxylog_insert(struct db *db, const struct proxylog_rec *r, long long *idp,
    struct err *e)
{
	struct db_stmt	*st;
	long long	 id;
	size_t		 i;

	st = db_cached(db, "INSERT INTO request_logs (" PROXYLOG_COLS ") "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?)", e);
	if (st == NULL)
		return (-1);
	proxylog_bind_rec(st, 0, r);
	if (db_cached_step(db, st, e) != 0)
		return (-1);
	id = db_last_id(db);
	if (idp != NULL)
		*idp = id;
	for (i = 0; i < r->nattempts; i++) {
		st = db_cached(db, "INSERT INTO request_attempts ("
		    PROXYLOG_ATT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		    "?)", e);
		if (st == NULL)
			return (-1);
		proxylog_bind_att(st, 0, id, i + 1, &r->attempts[i]);
		if (db_cached_step(db, st, e) != 0)
			return (-1);
	}
	return (0);
}

/*
 * Many rows per INSERT: a batch goes in a few statements rather than two
 * per record, which is what a database server across a socket needs (a
 * round trip each). Each INSERT has one of a few sizes, largest first,
 * so that every one stays prepared (db_cached()): 39 records or 90
 * attempts fill the 999 parameters the oldest SQLite takes; 8 and 1 take
 * the rest.
 */
#define PROXYLOG_PARAMS		999
#define PROXYLOG_SIZES		3

static const size_t proxylog_log_rows[PROXYLOG_SIZES] = {
	PROXYLOG_PARAMS / (1 + PROXYLOG_NCOLS), 8, 1
};
static const size_t proxylog_att_rows[PROXYLOG_SIZES] = {
	PROXYLOG_PARAMS / PROXYLOG_NATT, 8, 1
};

/* The statements, made once: their addresses key db_cached(). */
static char		*proxylog_log_sql[PROXYLOG_SIZES];
static char		*proxylog_att_sql[PROXYLOG_SIZES];
static pthread_once_t	 proxylog_once = PTHREAD_ONCE_INIT;

/* "INSERT INTO table (cols) VALUES (?, ...), ..." with rows rows. */
static char *
proxylog_multi_sql(const char *table, const char *cols, size_t ncols,
    size_t rows)
{
	struct buf	 sql;
	size_t		 r, c;
	char		*s;

	buf_init(&sql, 256 * 1024);
	buf_printf(&sql, "INSERT INTO %s (%s) VALUES ", table, cols);
	for (r = 0; r < rows; r++) {
		buf_addstr(&sql, r > 0 ? ", (" : "(");
		for (c = 0; c < ncols; c++)
			buf_addstr(&sql, c > 0 ? ", ?" : "?");
		buf_addstr(&sql, ")");
	}
	s = xstrdup(buf_cstr(&sql));
	buf_free(&sql);
	return (s);
}

static void
proxylog_once_init(void)
{
	size_t	i;

	for (i = 0; i < PROXYLOG_SIZES; i++) {
		proxylog_log_sql[i] = proxylog_multi_sql("request_logs", "id, "
		    PROXYLOG_COLS, 1 + PROXYLOG_NCOLS, proxylog_log_rows[i]);
		proxylog_att_sql[i] = proxylog_multi_sql("request_attempts",
		    PROXYLOG_ATT_COLS, PROXYLOG_NATT, proxylog_att_rows[i]);
	}
}

/* The largest size that fits left rows. */
static size_t
proxylog_size(const size_t *sizes, size_t left)
{
	size_t	i;

	for (i = 0; i < PROXYLOG_SIZES - 1; i++)
		if (sizes[i] <= left)
			break;
	return (i);
}

/*
 * Insert n records and their attempts (the caller holds the write
 * transaction), their ids drawn first (db_next_ids()) so that no row
 * waits for another's id; ids[] gets them.
 */
int
proxylog_insert_batch(struct db *db, struct proxylog_rec *const *v,
    size_t n, long long *ids, struct err *e)
{
	struct db_stmt	*st;
	size_t		 i, j, t, a, k, rows, total, done;

	pthread_once(&proxylog_once, proxylog_once_init);
	if (n == 0)
		return (0);
	if (db_next_ids(db, "request_logs", n, ids, e) != 0)
		return (-1);
	for (i = 0; i < n; i += rows) {
		k = proxylog_size(proxylog_log_rows, n - i);
		rows = proxylog_log_rows[k];
		if ((st = db_cached(db, proxylog_log_sql[k], e)) == NULL)
			return (-1);
		for (j = 0; j < rows; j++) {
			db_bind_int64(st, (int)(j * (1 + PROXYLOG_NCOLS)) + 1,
			    ids[i + j]);
			proxylog_bind_rec(st, (int)(j * (1 + PROXYLOG_NCOLS)) +
			    1, v[i + j]);
		}
		if (db_cached_step(db, st, e) != 0)
			return (-1);
	}
	/* Every attempt of the batch, as many per statement as fit. */
	for (j = 0, total = 0; j < n; j++)
		total += v[j]->nattempts;
	j = t = 0;
	for (done = 0; done < total; done += rows) {
		k = proxylog_size(proxylog_att_rows, total - done);
		rows = proxylog_att_rows[k];
		if ((st = db_cached(db, proxylog_att_sql[k], e)) == NULL)
			return (-1);
		for (a = 0; a < rows; a++, t++) {
			while (t >= v[j]->nattempts) {
				j++;
				t = 0;
			}
			proxylog_bind_att(st, (int)(a * PROXYLOG_NATT), ids[j],
			    t + 1, &v[j]->attempts[t]);
		}
		if (db_cached_step(db, st, e) != 0)
			return (-1);
	}
	return (0);
}

/* USD spent through account_id (0: all) since a Unix time. */
double
proxylog_spend_since(struct db *db, long long account_id, long long since)
{
	struct db_stmt	*st;
	double		 sum = 0;

	st = db_prepare(db, "SELECT COALESCE(SUM(cost_usd), 0) FROM "
	    "request_logs WHERE time >= ? AND (? = 0 OR account_id = ?)", NULL);
	if (st == NULL)
		return (0);
	db_bind_int64(st, 1, since);
	db_bind_int64(st, 2, account_id);
	db_bind_int64(st, 3, account_id);
	if (db_step(st) == DB_ROW)
		sum = db_col_double(st, 0);
	db_finalize(st);
	return (sum);
}

/* The highest row id; 0 when the table is empty or unreadable. */
long long
proxylog_max_id(struct db *db)
{
	struct db_stmt	*st;
	long long	 id = 0;

	st = db_prepare(db, "SELECT COALESCE(MAX(id), 0) FROM request_logs",
	    NULL);
	if (st == NULL)
		return (0);
	if (db_step(st) == DB_ROW)
		id = db_col_int64(st, 0);
	db_finalize(st);
	return (id);
}

/* An integer column that may be NULL. */
static json_t *
proxylog_col_int(struct db_stmt *st, int i)
{
	return (jx_opt_int(db_col_type(st, i) != DB_NULL,
	    db_col_int64(st, i)));
}

/* A real column that may be NULL. */
static json_t *
proxylog_col_real(struct db_stmt *st, int i)
{
	return (jx_opt_real(db_col_type(st, i) != DB_NULL,
	    db_col_double(st, i)));
}

/* The attempts of log row id, in order; att is reset and reused. */
static int
proxylog_attempts(struct db_stmt *att, long long id, json_t **out)
{
	json_t	*a, *o;
	int	 rc;

	db_reset(att);
	db_bind_int64(att, 1, id);
	a = json_array();
	while ((rc = db_step(att)) == DB_ROW) {
		o = json_object();
		json_object_set_new(o, "n",
		    json_integer(db_col_int64(att, 0)));
		json_object_set_new(o, "channel_id", proxylog_col_int(att, 1));
		jx_set_str_or_null(o, "site", db_col_text(att, 2));
		json_object_set_new(o, "http_status", proxylog_col_int(att, 3));
		jx_set_str_or_null(o, "error", db_col_text(att, 4));
		json_object_set_new(o, "retryable",
		    json_boolean(db_col_int(att, 5)));
		json_object_set_new(o, "latency_ms", proxylog_col_int(att, 6));
		/* The path says which format the attempt spoke. */
		jx_set_str_or_null(o, "upstream_path", db_col_text(att, 7));
		json_array_append_new(a, o);
	}
	if (rc != DB_DONE) {
		json_decref(a);
		return (-1);
	}
	*out = a;
	return (0);
}

/* One request_logs row of the list query as its JSON item (CLI.md). */
static json_t *
proxylog_item(struct db_stmt *st)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "id", json_integer(db_col_int64(st,
	    0)));
	json_object_set_new(o, "time", jx_time(db_col_int64(st, 1)));
	json_object_set_new(o, "key_id", proxylog_col_int(st, 2));
	jx_set_str_or_null(o, "model_requested", db_col_text(st, 3));
	jx_set_str_or_null(o, "model", db_col_text(st, 4));
	json_object_set_new(o, "route_id", proxylog_col_int(st, 5));
	json_object_set_new(o, "channel_id", proxylog_col_int(st, 6));
	jx_set_str_or_null(o, "site", db_col_text(st, 7));
	jx_set_str(o, "status", db_col_text(st, 8));
	json_object_set_new(o, "http_status", proxylog_col_int(st, 9));
	json_object_set_new(o, "stream",
	    json_boolean(db_col_int(st, 10)));
	json_object_set_new(o, "ttfb_ms", proxylog_col_int(st, 11));
	json_object_set_new(o, "latency_ms", proxylog_col_int(st, 12));
	json_object_set_new(o, "prompt_tokens",
	    json_integer(db_col_int64(st, 13)));
	json_object_set_new(o, "completion_tokens",
	    json_integer(db_col_int64(st, 14)));
	json_object_set_new(o, "cache_read_tokens",
	    json_integer(db_col_int64(st, 15)));
	json_object_set_new(o, "cache_write_tokens",
	    json_integer(db_col_int64(st, 16)));
	json_object_set_new(o, "cost_usd",
	    json_real(db_col_double(st, 17)));
	jx_set_str(o, "usage_source", db_col_text(st, 18));
	jx_set_str_or_null(o, "error", db_col_text(st, 19));
	jx_set_str_or_null(o, "request_id", db_col_text(st, 20));
	return (o);
}

/*
 * A model filter as a GLOB pattern: * and ? keep their meaning and [ is
 * taken literally, so the daemon and a following client (which matches
 * events itself) agree. GLOB is the one SQLite-only word in these
 * queries; another backend spells it LIKE with * and ? translated.
 */
static char *
proxylog_glob(const char *model)
{
	struct buf	 b;
	char		*s;
	const char	*p;

	buf_init(&b, 4 * strlen(model) + 1);
	for (p = model; *p != '\0'; p++) {
		if (*p == '[')
			buf_addstr(&b, "[[]");
		else
			buf_add(&b, p, 1);
	}
	s = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return (s);
}

/*
 * Rows as the `logs` command shows them (see struct proxylog_filter),
 * each with its attempts, as {"items": [...], "next": cursor or null}.
 * "next" is the id to pass as before for the following page.
 */
json_t *
proxylog_list(struct db *db, const struct proxylog_filter *f, struct err *e)
{
	struct db_stmt	*st = NULL, *att = NULL;
	json_t		*items = NULL, *o, *a, *next = NULL;
	char		*sql = NULL, *glob = NULL;
	long long	 limit = f->limit, n = 0, last = 0;
	int		 rc, ok = 0, fail = 0;

	if (limit == 0)
		limit = PROXYLOG_LIST_DEFAULT;
	if (limit < 1 || limit > PROXYLOG_LIST_MAX) {
		err_set(e, ERR_INVALID, "--limit must be from 1 to %d",
		    PROXYLOG_LIST_MAX);
		return (NULL);
	}
	if (f->status != NULL && strcmp(f->status, "ok") == 0)
		ok = 1;
	else if (f->status != NULL && strcmp(f->status, "fail") == 0)
		fail = 1;
	else if (f->status != NULL) {
		err_set(e, ERR_INVALID, "--status must be ok or fail, not "
		    "\"%s\"", f->status);
		return (NULL);
	}
	if (f->model != NULL && *f->model == '\0') {
		err_set(e, ERR_INVALID, "--model must not be empty");
		return (NULL);
	}
	xasprintf(&sql, "SELECT r.id, r.time, r.key_id, r.model_requested, "
	    "r.model, r.route_id, r.channel_id, s.name, r.status, "
	    "r.http_status, r.stream, r.ttfb_ms, r.latency_ms, "
	    "r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, "
	    "r.cache_write_tokens, r.cost_usd, r.usage_source, r.error, "
	    "r.rid FROM request_logs r LEFT JOIN sites s ON s.id = r.site_id "
	    "WHERE (?1 = 0 OR r.id < ?1) AND (?2 = 0 OR r.id > ?2) "
	    "AND (?3 IS NULL OR r.model GLOB ?3 OR r.model_requested GLOB ?3) "
	    "AND (?4 = 0 OR r.status = 'ok') AND (?5 = 0 OR r.status <> 'ok') "
	    "AND (?6 = 0 OR r.key_id = ?6) ORDER BY r.id %s LIMIT ?7",
	    f->forward ? "ASC" : "DESC");
	if ((st = db_prepare(db, sql, NULL)) == NULL)
		goto storage;
	att = db_prepare(db, "SELECT a.n, a.channel_id, s.name, "
	    "a.http_status, a.error, a.retryable, a.latency_ms, "
	    "a.upstream_path FROM request_attempts a LEFT JOIN sites s ON s.id = a.site_id "
	    "WHERE a.log_id = ? ORDER BY a.n", NULL);
	if (att == NULL)
		goto storage;
	if (f->model != NULL)
		glob = proxylog_glob(f->model);
	db_bind_int64(st, 1, f->forward ? 0 : f->before);
	db_bind_int64(st, 2, f->forward ? f->after : 0);
	db_bind_text(st, 3, glob);
	db_bind_int64(st, 4, ok);
	db_bind_int64(st, 5, fail);
	db_bind_int64(st, 6, f->key_id);
	/* One row more than asked says whether a next page exists. */
	db_bind_int64(st, 7, limit + 1);
	items = json_array();
	while ((rc = db_step(st)) == DB_ROW) {
		if (n == limit) {
			if (!f->forward)
				next = json_integer(last);
			break;
		}
		o = proxylog_item(st);
		last = db_col_int64(st, 0);
		if (proxylog_attempts(att, last, &a) != 0) {
			json_decref(o);
			goto storage;
		}
		json_object_set_new(o, "attempts", a);
		json_array_append_new(items, o);
		n++;
	}
	if (rc != DB_DONE && rc != DB_ROW)
		goto storage;
	db_finalize(att);
	db_finalize(st);
	free(glob);
	free(sql);
	return (json_pack("{s:o, s:o}", "items", items, "next",
	    next != NULL ? next : json_null()));
storage:
	err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	db_finalize(att);
	db_finalize(st);
	json_decref(items);
	json_decref(next);
	free(glob);
	free(sql);
	return (NULL);
}

/* The hours of the stats report's "hourly" availability strip. */
#define PROXYLOG_STATS_HOURS	24

/* Success rate in percent, or null without calls. */
static json_t *
proxylog_rate(long long ok, long long calls)
{
	return (calls > 0 ? json_real(100.0 * ok / calls) : json_null());
}

/*
 * The groups of the stats report, each one query over the same window:
 * column 0 the group's id (or NULL), column 1 its name, then calls, ok,
 * cost, average latency and tokens. Biggest spenders first.
 */
static const struct {
	const char	*key;		/* reply array */
	const char	*id_key;	/* or NULL: no id */
	const char	*name_key;
	const char	*sql;
} proxylog_stats_groups[] = {
	{ "sites", "site_id", "site",
	  "SELECT r.site_id, s.name, COUNT(*), SUM(CASE WHEN r.status = 'ok' "
	  "THEN 1 ELSE 0 END), SUM(r.cost_usd), AVG(r.latency_ms), "
	  "SUM(r.prompt_tokens + r.completion_tokens) FROM request_logs r "
	  "LEFT JOIN sites s ON s.id = r.site_id WHERE r.time >= ? "
	  "GROUP BY r.site_id, s.name ORDER BY 5 DESC, 3 DESC, 2" },
	{ "models", NULL, "model",
	  "SELECT NULL, COALESCE(r.model, r.model_requested), COUNT(*), "
	  "SUM(CASE WHEN r.status = 'ok' THEN 1 ELSE 0 END), SUM(r.cost_usd), "
	  "AVG(r.latency_ms), SUM(r.prompt_tokens + r.completion_tokens) "
	  "FROM request_logs r WHERE r.time >= ? "
	  "GROUP BY COALESCE(r.model, r.model_requested) "
	  "ORDER BY 5 DESC, 3 DESC, 2" },
};

static json_t *
proxylog_stats_group(struct db *db, size_t g, long long since)
{
	struct db_stmt	*st;
	json_t		*a, *o;
	long long	 calls, ok;
	int		 rc;

	st = db_prepare(db, proxylog_stats_groups[g].sql, NULL);
	if (st == NULL)
		return (NULL);
	db_bind_int64(st, 1, since);
	a = json_array();
	while ((rc = db_step(st)) == DB_ROW) {
		o = json_object();
		if (proxylog_stats_groups[g].id_key != NULL)
			json_object_set_new(o, proxylog_stats_groups[g].id_key,
			    proxylog_col_int(st, 0));
		jx_set_str_or_null(o, proxylog_stats_groups[g].name_key,
		    db_col_text(st, 1));
		calls = db_col_int64(st, 2);
		ok = db_col_int64(st, 3);
		json_object_set_new(o, "calls", json_integer(calls));
		json_object_set_new(o, "ok", json_integer(ok));
		json_object_set_new(o, "success_rate",
		    proxylog_rate(ok, calls));
		json_object_set_new(o, "cost_usd",
		    json_real(db_col_double(st, 4)));
		json_object_set_new(o, "avg_latency_ms",
		    proxylog_col_real(st, 5));
		json_object_set_new(o, "tokens",
		    json_integer(db_col_int64(st, 6)));
		json_array_append_new(a, o);
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		json_decref(a);
		return (NULL);
	}
	return (a);
}

/* The lower median of the window's latencies; -1 when there are none. */
static long long
proxylog_p50(struct db *db, long long since, long long n)
{
	struct db_stmt	*st;
	long long	 v = -1;

	if (n == 0)
		return (-1);
	st = db_prepare(db, "SELECT latency_ms FROM request_logs WHERE "
	    "time >= ? AND latency_ms IS NOT NULL ORDER BY latency_ms "
	    "LIMIT 1 OFFSET ?", NULL);
	if (st == NULL)
		return (-1);
	db_bind_int64(st, 1, since);
	db_bind_int64(st, 2, (n - 1) / 2);
	if (db_step(st) == DB_ROW)
		v = db_col_int64(st, 0);
	db_finalize(st);
	return (v);
}

/*
 * Calls and spend per calendar day in local time (the dashboard's trend
 * chart): the last days up to today, oldest first, and every day there
 * even without calls, so that a chart's axis does not depend on traffic.
 * Local days, because "today's spend" is what a user compares it with.
 */
static json_t *
proxylog_stats_daily(struct db *db, int days, time_t now)
{
	struct db_stmt	*st;
	struct tm	 tm, d;
	json_t		*a, *o;
	time_t		 start;
	char		 day[16];
	const char	*row = NULL;
	int		 i, rc, more = 1;

	if (localtime_r(&now, &tm) == NULL)
		return (NULL);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday -= days - 1;
	tm.tm_isdst = -1;
	if ((start = mktime(&tm)) == (time_t)-1)
		return (NULL);
	st = db_prepare(db, "SELECT date(time, 'unixepoch', 'localtime'), "
	    "COUNT(*), SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END), "
	    "SUM(cost_usd), SUM(prompt_tokens + completion_tokens) "
	    "FROM request_logs WHERE time >= ? GROUP BY 1 ORDER BY 1", NULL);
	if (st == NULL)
		return (NULL);
	db_bind_int64(st, 1, (long long)start);
	a = json_array();
	for (i = 0; i < days; i++) {
		d = tm;
		d.tm_mday += i;
		d.tm_isdst = -1;
		if (mktime(&d) == (time_t)-1 ||
		    strftime(day, sizeof day, "%Y-%m-%d", &d) == 0)
			goto fail;
		/* Rows come in day order; skip any before this day. */
		while (more && (row == NULL || strcmp(row, day) < 0)) {
			if ((rc = db_step(st)) == DB_DONE) {
				more = 0;
				row = NULL;
			} else if (rc != DB_ROW)
				goto fail;
			else if ((row = db_col_text(st, 0)) == NULL)
				row = "";
		}
		o = json_pack("{s:s, s:i, s:i, s:f, s:I}", "day", day, "calls",
		    0, "ok", 0, "cost_usd", 0.0, "tokens", (json_int_t)0);
		if (row != NULL && strcmp(row, day) == 0) {
			json_object_set_new(o, "calls", json_integer(
			    db_col_int64(st, 1)));
			json_object_set_new(o, "ok", json_integer(
			    db_col_int64(st, 2)));
			json_object_set_new(o, "cost_usd", json_real(
			    db_col_double(st, 3)));
			json_object_set_new(o, "tokens", json_integer(
			    db_col_int64(st, 4)));
		}
		json_array_append_new(a, o);
	}
	db_finalize(st);
	return (a);
fail:
	db_finalize(st);
	json_decref(a);
	return (NULL);
}

/*
 * Each site's upstream attempts and their successes per hour over the
 * last 24 clock hours (the dashboard's availability strip), whatever the
 * report's days: entry i of "attempts" and "ok" is the hour starting at
 * since + i h, the last one the current hour. Attempts, not requests,
 * because a failover hides a failing site behind the one that answered;
 * an attempt succeeded when it recorded no error. Requests are found by
 * their time (indexed); one that arrived up to ten minutes before the
 * first hour still counts its attempts inside it.
 */
static json_t *
proxylog_stats_hourly(struct db *db, time_t now)
{
	struct db_stmt	*st;
	json_t		*sites, *o = NULL, *calls = NULL, *ok = NULL;
	long long	 since, id, last = -1;
	int		 rc, h, i;

	since = ((long long)now / 3600 - (PROXYLOG_STATS_HOURS - 1)) * 3600;
	st = db_prepare(db, "SELECT a.site_id, s.name, (a.started_at - ?1) "
	    "/ 3600, COUNT(*), SUM(CASE WHEN a.error IS NULL THEN 1 ELSE 0 "
	    "END) FROM request_logs r JOIN request_attempts a ON "
	    "a.log_id = r.id LEFT JOIN sites s ON s.id = a.site_id WHERE "
	    "r.time >= ?1 - 600 AND a.started_at >= ?1 GROUP BY a.site_id, "
	    "s.name, 3 ORDER BY s.name, a.site_id, 3", NULL);
	if (st == NULL)
		return (NULL);
	db_bind_int64(st, 1, since);
	sites = json_array();
	while ((rc = db_step(st)) == DB_ROW) {
		id = db_col_type(st, 0) == DB_NULL ? 0 :
		    db_col_int64(st, 0);
		if (o == NULL || id != last) {
			o = json_object();
			json_object_set_new(o, "site_id", proxylog_col_int(st,
			    0));
			jx_set_str_or_null(o, "site", db_col_text(st, 1));
			calls = json_array();
			ok = json_array();
			for (i = 0; i < PROXYLOG_STATS_HOURS; i++) {
				json_array_append_new(calls, json_integer(0));
				json_array_append_new(ok, json_integer(0));
			}
			json_object_set_new(o, "attempts", calls);
			json_object_set_new(o, "ok", ok);
			json_array_append_new(sites, o);
			last = id;
		}
		/* A clock stepped back can put an attempt out of range. */
		h = db_col_int(st, 2);
		if (h < 0 || h >= PROXYLOG_STATS_HOURS)
			continue;
		json_array_set_new(calls, h, json_integer(
		    json_integer_value(json_array_get(calls, h)) +
		    db_col_int64(st, 3)));
		json_array_set_new(ok, h, json_integer(
		    json_integer_value(json_array_get(ok, h)) +
		    db_col_int64(st, 4)));
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		json_decref(sites);
		return (NULL);
	}
	return (json_pack("{s:o, s:o}", "since", jx_time(since), "sites",
	    sites));
}

/*
 * The `stats` report over the last days (by request time): totals, then
 * per site and per model, then per local day ("daily") and per site and
 * hour over the last 24 h ("hourly"). "failed" counts every request that
 * did not end ok (client_closed included, as --status fail does); rates
 * are percent.
 */
json_t *
proxylog_stats(struct db *db, int days, struct err *e)
{
	struct db_stmt	*st;
	json_t		*r = NULL, *t, *a;
	long long	 since, n, ok, nlat, p50;
	time_t		 now;
	size_t		 g;

	if (days == 0)
		days = PROXYLOG_STATS_DAYS;
	if (days < 1 || days > PROXYLOG_STATS_MAX_DAYS) {
		err_set(e, ERR_INVALID, "--days must be from 1 to %d",
		    PROXYLOG_STATS_MAX_DAYS);
		return (NULL);
	}
	now = time(NULL);
	since = (long long)now - (long long)days * 86400;
	st = db_prepare(db, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN "
	    "status = 'ok' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN "
	    "status = 'client_closed' THEN 1 ELSE 0 END), 0), "
	    "COALESCE(SUM(prompt_tokens), 0), "
	    "COALESCE(SUM(completion_tokens), 0), "
	    "COALESCE(SUM(cache_read_tokens), 0), "
	    "COALESCE(SUM(cache_write_tokens), 0), "
	    "COALESCE(SUM(cost_usd), 0), AVG(latency_ms), COUNT(latency_ms) "
	    "FROM request_logs WHERE time >= ?", NULL);
	if (st == NULL)
		goto storage;
	db_bind_int64(st, 1, since);
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		goto storage;
	}
	n = db_col_int64(st, 0);
	ok = db_col_int64(st, 1);
	nlat = db_col_int64(st, 9);
	t = json_object();
	json_object_set_new(t, "requests", json_integer(n));
	json_object_set_new(t, "ok", json_integer(ok));
	json_object_set_new(t, "failed", json_integer(n - ok));
	json_object_set_new(t, "client_closed",
	    json_integer(db_col_int64(st, 2)));
	json_object_set_new(t, "success_rate", proxylog_rate(ok, n));
	json_object_set_new(t, "prompt_tokens",
	    json_integer(db_col_int64(st, 3)));
	json_object_set_new(t, "completion_tokens",
	    json_integer(db_col_int64(st, 4)));
	json_object_set_new(t, "cache_read_tokens",
	    json_integer(db_col_int64(st, 5)));
	json_object_set_new(t, "cache_write_tokens",
	    json_integer(db_col_int64(st, 6)));
	json_object_set_new(t, "tokens", json_integer(
	    db_col_int64(st, 3) + db_col_int64(st, 4)));
	json_object_set_new(t, "cost_usd",
	    json_real(db_col_double(st, 7)));
	json_object_set_new(t, "avg_latency_ms", proxylog_col_real(st, 8));
	db_finalize(st);
	p50 = proxylog_p50(db, since, nlat);
	json_object_set_new(t, "p50_latency_ms", jx_opt_int(p50 >= 0, p50));
	r = json_pack("{s:i, s:o, s:o}", "days", days, "since",
	    jx_time(since), "totals", t);
	for (g = 0; g < nitems(proxylog_stats_groups); g++) {
		if ((a = proxylog_stats_group(db, g, since)) == NULL)
			goto storage;
		json_object_set_new(r, proxylog_stats_groups[g].key, a);
	}
	if ((a = proxylog_stats_daily(db, days, now)) == NULL)
		goto storage;
	json_object_set_new(r, "daily", a);
	if ((a = proxylog_stats_hourly(db, now)) == NULL)
		goto storage;
	json_object_set_new(r, "hourly", a);
	return (r);
storage:
	err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	json_decref(r);
	return (NULL);
}

/* Delete the request logs (and their attempts) older than a Unix time. */
int
proxylog_prune(struct db *db, long long before, struct err *e)
{
	struct db_stmt	*st;

	st = db_prepare_err(db, "DELETE FROM request_logs WHERE time < ?", e);
	if (st != NULL)
		db_bind_int64(st, 1, before);
	if (db_step_done(db, st, e) != 0)
		return (-1);
	return (db_changes(db));
}

static int
proxylog_search_row(struct db_stmt *st, void *arg)
{
	struct search_ctx	*c = arg;
	struct search_field	 f[] = {
		{ "model_requested", db_col_text(st, 2) },
		{ "model", db_col_text(st, 3) },
		{ "site", db_col_text(st, 4) },
		{ "error", db_col_text(st, 7) },
	};
	long long		 id = db_col_int64(st, 0);
	time_t			 t = db_col_int64(st, 1);
	struct tm		 tm;
	char			 when[32], *title, *detail;
	const char		*asked = f[0].value, *served = f[1].value;

	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (asked != NULL && served != NULL && strcmp(asked, served) != 0)
		xasprintf(&title, "%s -> %s", asked, served);
	else
		title = xstrdup(asked != NULL ? asked : served != NULL ?
		    served : "-");
	xasprintf(&detail, "%s  %s  %lld  %s%s%s", when, db_col_text(st, 5),
	    (long long)db_col_int64(st, 6), f[2].value != NULL ?
	    f[2].value : "-", f[3].value != NULL ? "  " : "",
	    f[3].value != NULL ? f[3].value : "");
	search_hit(c->hits, c->q, "log", id, json_integer(id), title, detail,
	    f, nitems(f));
	free(title);
	free(detail);
	return (0);
}

#define PROXYLOG_SEARCH_COLUMNS "SELECT r.id, r.time, r.model_requested, " \
	"r.model, s.name, r.status, r.http_status, r.error FROM request_logs " \
	"r LEFT JOIN sites s ON s.id = r.site_id "

/*
 * Requests whose id is the query, or whose model asked for or served,
 * site or error holds it, newest first (search.run). Only the newest
 * SEARCH_LOG_WINDOW rows are looked at, by a range on the row id, and
 * at most limit + 1 are read (one more says there are more): a query
 * that matches nothing in a huge table costs a bounded scan, never the
 * whole table. A request asked for by its id is found at any age.
 */
int
proxylog_search(struct db *db, const struct search_query *q, json_t *hits,
    struct err *e)
{
	struct search_ctx	 c = { q, hits };
	struct db_stmt		*st;

	if (q->id > 0) {
		st = db_prepare_err(db, PROXYLOG_SEARCH_COLUMNS
		    "WHERE r.id = ?1", e);
		if (st != NULL)
			db_bind_int64(st, 1, q->id);
		if (db_each(db, st, proxylog_search_row, &c, e) != 0)
			return (-1);
	}
	st = db_prepare_err(db, PROXYLOG_SEARCH_COLUMNS "WHERE r.id > ?2 AND "
	    "r.id <> ?3 AND (r.model_requested LIKE ?1 ESCAPE '\\' OR "
	    "r.model LIKE ?1 ESCAPE '\\' OR s.name LIKE ?1 ESCAPE '\\' OR "
	    "r.error LIKE ?1 ESCAPE '\\') ORDER BY r.id DESC LIMIT ?4", e);
	if (st != NULL) {
		db_bind_text(st, 1, q->like);
		db_bind_int64(st, 2, proxylog_max_id(db) -
		    SEARCH_LOG_WINDOW);
		db_bind_int64(st, 3, q->id);
		db_bind_int64(st, 4, q->limit + 1);
	}
	return (db_each(db, st, proxylog_search_row, &c, e));
}

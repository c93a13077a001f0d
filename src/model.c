/*
 * The model catalogue: which models each account's site offers
 * (model_availability) and the site's prices (model_prices), as the last
 * refresh found them, and the marketplace view across sites. This module
 * alone owns both tables. Manually added models survive a refresh.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "adapter.h"
#include "compat.h"
#include "db.h"
#include "err.h"
#include "jx.h"
#include "model.h"
#include "search.h"
#include "xmalloc.h"

static int
model_exec_id(struct db *db, const char *sql, long long id, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	if ((st = db_prepare(db, sql, NULL)) == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	return (0);
}

/*
 * Replace the discovered (not manual) models of an account with names:
 * the account's own list when token_id is 0, else the list one of its
 * upstream tokens can use (a relay token's group and model limits).
 */
int
model_set_available(struct db *db, long long account_id, long long token_id,
    json_t *names, struct err *e)
{
	struct db_stmt	*st;
	json_t		*v;
	size_t		 i;
	int		 rc;

	st = db_prepare(db, "DELETE FROM model_availability WHERE account_id "
	    "= ?1 AND is_manual = 0 AND COALESCE(token_id, 0) = ?2", NULL);
	if (st == NULL)
		goto storage;
	db_bind_int64(st, 1, account_id);
	db_bind_int64(st, 2, token_id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE)
		goto storage;
	json_array_foreach(names, i, v) {
		if (!json_is_string(v) || *json_string_value(v) == '\0')
			continue;
		st = db_prepare(db, "INSERT INTO model_availability (account_id, "
		    "token_id, model, available, checked_at) SELECT ?1, "
		    "NULLIF(?2, 0), ?3, 1, ?4 WHERE NOT EXISTS (SELECT 1 FROM "
		    "model_availability WHERE account_id = ?1 AND model = ?3 "
		    "AND COALESCE(token_id, 0) = ?2)", NULL);
		if (st == NULL)
			goto storage;
		db_bind_int64(st, 1, account_id);
		db_bind_int64(st, 2, token_id);
		db_bind_text(st, 3, json_string_value(v));
		db_bind_int64(st, 4, (long long)time(NULL));
		rc = db_step(st);
		db_finalize(st);
		if (rc != DB_DONE)
			goto storage;
	}
	return (0);
storage:
	err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	return (-1);
}

/* Replace a site's price list. */
int
model_set_prices(struct db *db, long long site_id,
    const struct adapter_prices *p, struct err *e)
{
	const struct adapter_price	*pr;
	struct db_stmt			*st;
	size_t				 i;
	int				 rc;

	if (model_exec_id(db, "DELETE FROM model_prices WHERE site_id = ?",
	    site_id, e) != 0)
		return (-1);
	for (i = 0; i < p->n; i++) {
		pr = &p->v[i];
		st = db_prepare(db, "INSERT INTO model_prices (site_id, model, "
		    "price_group, input_per_m, output_per_m, cache_read_per_m, "
		    "cache_write_per_m, per_call, updated_at) VALUES (?, ?, ?, "
		    "?, ?, ?, ?, ?, ?) ON CONFLICT (site_id, model, price_group) "
		    "DO UPDATE SET input_per_m = excluded.input_per_m, "
		    "output_per_m = excluded.output_per_m, cache_read_per_m = "
		    "excluded.cache_read_per_m, cache_write_per_m = "
		    "excluded.cache_write_per_m, per_call = excluded.per_call, "
		    "updated_at = excluded.updated_at", NULL);
		if (st == NULL)
			goto storage;
		db_bind_int64(st, 1, site_id);
		db_bind_text(st, 2, pr->model);
		db_bind_text(st, 3, pr->group != NULL ? pr->group : "");
		db_bind_real(st, 4, pr->input_per_m,
		    pr->has & ADAPTER_PRICE_TOKENS);
		db_bind_real(st, 5, pr->output_per_m,
		    pr->has & ADAPTER_PRICE_TOKENS);
		db_bind_real(st, 6, pr->cache_read_per_m,
		    pr->has & ADAPTER_PRICE_CACHE_R);
		db_bind_real(st, 7, pr->cache_write_per_m,
		    pr->has & ADAPTER_PRICE_CACHE_W);
		db_bind_real(st, 8, pr->per_call, pr->has & ADAPTER_PRICE_CALL);
		db_bind_int64(st, 9, (long long)time(NULL));
		rc = db_step(st);
		db_finalize(st);
		if (rc != DB_DONE)
			goto storage;
	}
	return (0);
storage:
	err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	return (-1);
}

int
model_count(struct db *db, long long account_id)
{
	struct db_stmt	*st;
	int		 n = 0;

	st = db_prepare(db, "SELECT COUNT(*) FROM model_availability WHERE "
	    "account_id = ? AND available = 1", NULL);
	if (st == NULL)
		return (0);
	db_bind_int64(st, 1, account_id);
	if (db_step(st) == DB_ROW)
		n = db_col_int(st, 0);
	db_finalize(st);
	return (n);
}

/* Keep the smaller of o[k] and column col (NULL columns are unknown). */
static void
model_min(json_t *o, const char *k, struct db_stmt *st, int col)
{
	json_t	*cur = json_object_get(o, k);
	double	 v;

	if (db_col_type(st, col) == DB_NULL)
		return;
	v = db_col_double(st, col);
	if (!json_is_number(cur) || v < json_number_value(cur))
		json_object_set_new(o, k, json_real(v));
}

/*
 * Who makes a model, by the start of its name (after any "vendor/"):
 * first match wins, so longer prefixes come before shorter ones.
 */
static const struct {
	const char	*prefix;
	const char	*brand;
} model_brands[] = {
	{ "chatgpt", "OpenAI" }, { "gpt-", "OpenAI" }, { "o1", "OpenAI" },
	{ "o3", "OpenAI" }, { "o4", "OpenAI" }, { "dall-e", "OpenAI" },
	{ "text-embedding", "OpenAI" }, { "whisper", "OpenAI" },
	{ "tts-", "OpenAI" }, { "codex", "OpenAI" },
	{ "claude", "Anthropic" },
	{ "gemini", "Google" }, { "gemma", "Google" },
	{ "deepseek", "DeepSeek" },
	{ "qwen", "Alibaba" }, { "qwq", "Alibaba" },
	{ "chatglm", "Zhipu" }, { "glm", "Zhipu" },
	{ "moonshot", "Moonshot" }, { "kimi", "Moonshot" },
	{ "llama", "Meta" },
	{ "mistral", "Mistral" }, { "mixtral", "Mistral" },
	{ "codestral", "Mistral" },
	{ "grok", "xAI" }, { "doubao", "ByteDance" }, { "ernie", "Baidu" },
	{ "hunyuan", "Tencent" }, { "minimax", "MiniMax" },
	{ "abab", "MiniMax" }, { "step-", "StepFun" }, { "yi-", "01.AI" },
	{ "command", "Cohere" },
};

const char *
model_brand(const char *model)
{
	const char	*p = strrchr(model, '/');
	size_t		 i;

	p = p != NULL ? p + 1 : model;
	for (i = 0; i < nitems(model_brands); i++)
		if (strncasecmp(p, model_brands[i].prefix,
		    strlen(model_brands[i].prefix)) == 0)
			return (model_brands[i].brand);
	return (NULL);
}

/* How each model served in the last 7 days: success rate, latency. */
static int
model_market_stats(struct db *db, json_t *items, struct err *e)
{
	struct db_stmt	*st;
	json_t		*by = json_object(), *o;
	size_t		 i;
	int		 rc;

	json_array_foreach(items, i, o)
		json_object_set(by, jx_str(o, "model"), o);
	st = db_prepare(db, "SELECT model, COUNT(*), SUM(CASE WHEN status = "
	    "'ok' THEN 1 ELSE 0 END), AVG(CASE WHEN status = 'ok' THEN "
	    "latency_ms END) FROM request_logs WHERE time >= ?1 AND model IS "
	    "NOT NULL GROUP BY model", NULL);
	if (st == NULL) {
		json_decref(by);
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_int64(st, 1, (long long)time(NULL) - 7 * 86400);
	while ((rc = db_step(st)) == DB_ROW) {
		if ((o = json_object_get(by, db_col_text(st, 0))) == NULL)
			continue;
		json_object_set_new(o, "success_rate", json_real(100.0 *
		    db_col_int64(st, 2) / db_col_int64(st, 1)));
		if (db_col_type(st, 3) != DB_NULL)
			json_object_set_new(o, "avg_latency_ms", json_integer(
			    (json_int_t)db_col_double(st, 3)));
	}
	db_finalize(st);
	json_decref(by);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	return (0);
}

/*
 * The marketplace: every available model with its maker, the sites and
 * accounts that offer it, the cheapest price any group of those sites
 * lists (the account's own group is not yet taken into account), and how
 * it served in the last 7 days.
 */
json_t *
model_market(struct db *db, struct err *e)
{
	struct db_stmt	*st;
	json_t		*items, *o, *sites;
	const char	*last = NULL;
	int		 rc;

	st = db_prepare(db, "SELECT m.model, s.name, COUNT(DISTINCT "
	    "m.account_id), MIN(p.input_per_m), MIN(p.output_per_m), "
	    "MIN(p.per_call) FROM model_availability m JOIN accounts a ON "
	    "a.id = m.account_id JOIN sites s ON s.id = a.site_id LEFT JOIN "
	    "model_prices p ON p.site_id = s.id AND p.model = m.model WHERE "
	    "m.available = 1 GROUP BY m.model, s.name ORDER BY m.model, s.name",
	    NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	items = json_array();
	o = NULL;
	while ((rc = db_step(st)) == DB_ROW) {
		if (last == NULL || o == NULL ||
		    strcmp(last, db_col_text(st, 0)) != 0) {
			o = json_pack("{s:s, s:s, s:s?, s:[], s:i, s:n, s:n, "
			    "s:n, s:n, s:n}", "id", db_col_text(st, 0),
			    "model", db_col_text(st, 0), "brand",
			    model_brand(db_col_text(st, 0)), "sites",
			    "accounts", 0, "input_per_m", "output_per_m",
			    "per_call", "success_rate", "avg_latency_ms");
			json_array_append_new(items, o);
			last = json_string_value(json_object_get(o, "model"));
		}
		sites = json_object_get(o, "sites");
		json_array_append_new(sites, json_string(db_col_text(st, 1)));
		json_object_set_new(o, "accounts", json_integer(
		    json_integer_value(json_object_get(o, "accounts")) +
		    db_col_int(st, 2)));
		model_min(o, "input_per_m", st, 3);
		model_min(o, "output_per_m", st, 4);
		model_min(o, "per_call", st, 5);
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		json_decref(items);
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	if (model_market_stats(db, items, e) != 0) {
		json_decref(items);
		return (NULL);
	}
	return (jx_items(items));
}

/*
 * The models that can be served now: available on an active account of
 * an enabled site. [{"model", "owned_by" (the site's platform), "created"
 * (first seen)}], sorted by name.
 */
json_t *
model_served(struct db *db, struct err *e)
{
	struct db_stmt	*st;
	json_t		*list;
	int		 rc;

	st = db_prepare(db, "SELECT m.model, MIN(s.platform), "
	    "MIN(m.checked_at) FROM model_availability m JOIN accounts a ON "
	    "a.id = m.account_id JOIN sites s ON s.id = a.site_id WHERE "
	    "m.available = 1 AND a.status = 'active' AND s.enabled = 1 "
	    "GROUP BY m.model ORDER BY m.model", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	list = json_array();
	while ((rc = db_step(st)) == DB_ROW)
		json_array_append_new(list, json_pack("{s:s, s:s, s:I}",
		    "model", db_col_text(st, 0), "owned_by", db_col_text(st, 1),
		    "created", (json_int_t)db_col_int64(st, 2)));
	db_finalize(st);
	if (rc != DB_DONE) {
		json_decref(list);
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	return (list);
}

/* Every (account, model) that is available, for the request path. */
int
model_pairs(struct db *db, model_pair_cb cb, void *arg, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "SELECT DISTINCT account_id, model FROM "
	    "model_availability WHERE available = 1 ORDER BY model, "
	    "account_id", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	while ((rc = db_step(st)) == DB_ROW)
		if (cb(db_col_int64(st, 0), db_col_text(st, 1), arg) != 0)
			break;
	db_finalize(st);
	if (rc != DB_DONE && rc != DB_ROW) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	return (0);
}

/* A caller's callback and its argument, carried through db_each(). */
struct model_each {
	model_price_cb	 cb;
	void		*arg;
};

static int
model_price_each(struct db_stmt *st, void *arg)
{
	struct model_each	*x = arg;
	struct model_price_row	 r;

	memset(&r, 0, sizeof r);
	r.site_id = db_col_int64(st, 0);
	r.model = db_col_text(st, 1);
	r.group = db_col_text(st, 2);
	if (db_col_type(st, 3) != DB_NULL) {
		r.price.input_per_m = db_col_double(st, 3);
		r.price.output_per_m = db_col_double(st, 4);
		r.price.has |= ADAPTER_PRICE_TOKENS;
	}
	if (db_col_type(st, 5) != DB_NULL) {
		r.price.cache_read_per_m = db_col_double(st, 5);
		r.price.has |= ADAPTER_PRICE_CACHE_R;
	}
	if (db_col_type(st, 6) != DB_NULL) {
		r.price.cache_write_per_m = db_col_double(st, 6);
		r.price.has |= ADAPTER_PRICE_CACHE_W;
	}
	if (db_col_type(st, 7) != DB_NULL) {
		r.price.per_call = db_col_double(st, 7);
		r.price.has |= ADAPTER_PRICE_CALL;
	}
	return (x->cb(&r, x->arg));
}

/* Every stored price, for the request path's cost. */
int
model_price_rows(struct db *db, model_price_cb cb, void *arg, struct err *e)
{
	struct model_each	x = { cb, arg };

	return (db_each(db, db_prepare_err(db, "SELECT site_id, model, "
	    "price_group, input_per_m, output_per_m, cache_read_per_m, "
	    "cache_write_per_m, per_call FROM model_prices", e),
	    model_price_each, &x, e));
}

static int
model_search_row(struct db_stmt *st, void *arg)
{
	struct search_ctx	*c = arg;
	struct search_field	 f[] = {
		{ "model", db_col_text(st, 0) },
	};
	long long		 sites = db_col_int64(st, 1);
	long long		 accounts = db_col_int64(st, 2);
	char			*detail;

	xasprintf(&detail, "%lld site%s, %lld account%s", sites,
	    sites == 1 ? "" : "s", accounts, accounts == 1 ? "" : "s");
	search_hit(c->hits, c->q, "model", -1, json_string(f[0].value),
	    f[0].value, detail, f, nitems(f));
	free(detail);
	return (0);
}

/* Available models whose name holds the query (search.run). */
int
model_search(struct db *db, const struct search_query *q, json_t *hits,
    struct err *e)
{
	struct search_ctx	 c = { q, hits };
	struct db_stmt		*st;

	st = db_prepare_err(db, "SELECT m.model, COUNT(DISTINCT a.site_id), "
	    "COUNT(DISTINCT m.account_id) FROM model_availability m JOIN "
	    "accounts a ON a.id = m.account_id WHERE m.available = 1 AND "
	    "m.model LIKE ?1 ESCAPE '\\' GROUP BY m.model ORDER BY m.model "
	    "LIMIT ?2", e);
	if (st != NULL) {
		db_bind_text(st, 1, q->like);
		db_bind_int64(st, 2, SEARCH_CANDIDATES_MAX);
	}
	return (db_each(db, st, model_search_row, &c, e));
}

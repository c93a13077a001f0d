/*
 * Routes and channels: the routes and channels tables' SQL and JSON forms.
 * route_rebuild() derives exact routes and their channels from model
 * availability and keeps manual routes, manual channels and edits. This
 * module does not choose channels (router.c) nor hold runtime state.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "compat.h"
#include "db.h"
#include "err.h"
#include "jx.h"
#include "modelpat.h"
#include "route.h"
#include "router.h"
#include "search.h"
#include "token.h"
#include "xmalloc.h"

#define ROUTE_COLUMNS "r.id, r.pattern, r.alias, r.strategy, r.model_map, " \
	"r.enabled, r.manual, r.created_at, r.updated_at, (SELECT COUNT(*) " \
	"FROM channels c WHERE c.route_id = r.id), EXISTS (SELECT 1 FROM " \
	"model_availability m WHERE m.available = 1 AND (m.model = " \
	"r.pattern OR m.model IN (SELECT value FROM json_each(COALESCE(" \
	"r.members, '[]'))))), r.members"

/*
 * What can serve, as a common table expression for the rebuild's
 * statements (?1 is now): serving(account_id, token_id, model). A token's
 * own models count while the token is usable; an account's own list
 * (token_id NULL: its API key, or its default token's) counts only for
 * an account with no per-token rows at all. Per-token discovery knows
 * exactly what each key serves, so a default-key channel beside it
 * would count the default token twice, or send a model to a key whose
 * group or limits refuse it.
 */
#define ROUTE_SERVING "WITH tok(id) AS (SELECT id FROM upstream_tokens " \
	"WHERE " TOKEN_USABLE_SQL "), serving(account_id, token_id, model) " \
	"AS (SELECT m.account_id, m.token_id, m.model FROM " \
	"model_availability m WHERE m.available = 1 AND m.token_id IN " \
	"(SELECT id FROM tok) UNION SELECT m.account_id, NULL, m.model FROM " \
	"model_availability m WHERE m.available = 1 AND m.token_id IS NULL " \
	"AND NOT EXISTS (SELECT 1 FROM model_availability x WHERE " \
	"x.account_id = m.account_id AND x.token_id IS NOT NULL AND " \
	"x.available = 1)) "

/* Channel c is the one for serving row s. */
#define ROUTE_SAME_CHAN "c.account_id = s.account_id AND COALESCE(" \
	"c.token_id, 0) = COALESCE(s.token_id, 0) AND c.source_model = s.model"

/* An exact model name, not a glob or re: pattern. */
int
route_is_exact(const char *p)
{
	return (strncmp(p, "re:", 3) != 0 && strpbrk(p, "*?[") == NULL);
}

static int
route_exec(struct db *db, const char *sql, long long now, struct err *e)
{
	struct db_stmt	*st;

	if ((st = db_prepare_err(db, sql, e)) == NULL)
		return (-1);
	if (now != 0)
		db_bind_int(st, 1, now, 1);
	return (db_step_done(db, st, e));
}

static int	route_rebuild_tx(struct db *, struct err *);

/* Channels for a manual glob or re: route: every serving pair it matches. */
static int
route_rebuild_glob(struct db *db, long long id, const char *pattern,
    long long now, struct err *e)
{
	struct db_stmt	*st, *ins;
	struct modelpat	*mp;
	json_t		*pats;
	int		 rc;

	pats = json_pack("[s]", pattern);
	mp = modelpat_compile(pats, e);
	json_decref(pats);
	if (mp == NULL)
		return (-1);
	st = db_prepare_err(db, ROUTE_SERVING "SELECT account_id, token_id, "
	    "model FROM serving", e);
	if (st == NULL) {
		modelpat_free(mp);
		return (-1);
	}
	db_bind_int(st, 1, now, 1);
	while ((rc = db_step(st)) == DB_ROW) {
		if (!modelpat_match(mp, db_col_text(st, 2)))
			continue;
		ins = db_prepare_err(db, "INSERT INTO channels (route_id, "
		    "account_id, token_id, source_model, created_at, "
		    "updated_at) SELECT ?1, ?2, NULLIF(?3, 0), ?4, ?5, ?5 "
		    "WHERE NOT EXISTS (SELECT 1 FROM channels WHERE route_id = "
		    "?1 AND account_id = ?2 AND COALESCE(token_id, 0) = ?3 AND "
		    "source_model = ?4)", e);
		if (ins == NULL)
			break;
		db_bind_int(ins, 1, id, 1);
		db_bind_int(ins, 2, db_col_int64(st, 0), 1);
		db_bind_int(ins, 3, db_col_int64(st, 1), 1);
		db_bind_text(ins, 4, db_col_text(st, 2));
		db_bind_int(ins, 5, now, 1);
		if (db_step_done(db, ins, e) != 0)
			break;
	}
	db_finalize(st);
	modelpat_free(mp);
	if (e->code != ERR_OK)
		return (-1);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	return (0);
}

/*
 * Bring the tables in line with model availability: an exact route per
 * served model, a channel per serving (account, token, model) on the
 * routes whose pattern matches the model, or that list it as a group
 * member. Rows that exist keep their edits (priority, weight, enabled):
 * a channel is matched by route, account, token and source model. An
 * automatic channel whose triple no longer serves (a token disabled,
 * expired or gone; a model gone; a member taken out of its group) is
 * deleted; an automatic route whose model is gone is deleted unless a
 * manual channel holds it (it then lists as unavailable). Runs in the caller's transaction, or in its own: the glob
 * pass writes while it reads, and outside a write transaction SQLite
 * refuses that lock upgrade at once ("database is locked") whenever
 * another connection, such as the log writer, has written meanwhile.
 */
int
route_rebuild(struct db *db, struct err *e)
{
	char	*cause;
	int	 own = !db_in_tx(db);

	if (own && db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (-1);
	}
	if (route_rebuild_tx(db, e) != 0) {
		if (own)
			db_rollback(db);
		return (-1);
	}
	if (own && db_commit(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/* Statements of the rebuild, in order; ?1 is now in each. */
static const char *const route_rebuild_sql[] = {
	/* An exact route per served model. */
	ROUTE_SERVING "INSERT INTO routes (pattern, created_at, updated_at) "
	"SELECT DISTINCT model, ?1, ?1 FROM serving WHERE true ON CONFLICT "
	"DO NOTHING",
	/* Its channels (a group route of that name takes its members'). */
	ROUTE_SERVING "INSERT INTO channels (route_id, account_id, token_id, "
	"source_model, created_at, updated_at) SELECT r.id, s.account_id, "
	"s.token_id, s.model, ?1, ?1 FROM serving s JOIN routes r ON "
	"r.pattern = s.model AND r.members IS NULL WHERE NOT EXISTS (SELECT "
	"1 FROM channels c WHERE c.route_id = r.id AND " ROUTE_SAME_CHAN ")",
	/* A group route's channels: those of its members. */
	ROUTE_SERVING "INSERT INTO channels (route_id, account_id, token_id, "
	"source_model, created_at, updated_at) SELECT r.id, s.account_id, "
	"s.token_id, s.model, ?1, ?1 FROM routes r CROSS JOIN json_each("
	"r.members) j JOIN serving s ON s.model = j.value WHERE r.members IS NOT NULL "
	"AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.route_id = r.id "
	"AND " ROUTE_SAME_CHAN ")",
};

/* After the glob pass: what no longer serves goes. */
static const char *const route_prune_sql[] = {
	ROUTE_SERVING "DELETE FROM channels WHERE manual = 0 AND NOT EXISTS "
	"(SELECT 1 FROM serving s WHERE s.account_id = channels.account_id "
	"AND COALESCE(s.token_id, 0) = COALESCE(channels.token_id, 0) AND "
	"s.model = channels.source_model)",
	"DELETE FROM channels WHERE manual = 0 AND route_id IN (SELECT id FROM routes WHERE members IS NOT NULL) AND "
	"source_model NOT IN (SELECT j.value FROM routes r, json_each("
	"r.members) j WHERE r.id = channels.route_id)",
	ROUTE_SERVING "DELETE FROM routes WHERE manual = 0 AND NOT EXISTS "
	"(SELECT 1 FROM serving s WHERE s.model = routes.pattern) AND NOT "
	"EXISTS (SELECT 1 FROM channels c WHERE c.route_id = routes.id AND "
	"c.manual = 1)",
};

static int
route_rebuild_tx(struct db *db, struct err *e)
{
	struct db_stmt	*st;
	long long	 now = (long long)time(NULL), *ids = NULL;
	char		**pats = NULL;
	size_t		 n = 0, i;
	int		 rc, rv = -1;

	for (i = 0; i < nitems(route_rebuild_sql); i++)
		if (route_exec(db, route_rebuild_sql[i], now, e) != 0)
			return (-1);
	st = db_prepare_err(db, "SELECT id, pattern FROM routes WHERE manual = 1",
	    e);
	if (st == NULL)
		return (-1);
	while ((rc = db_step(st)) == DB_ROW) {
		if (route_is_exact(db_col_text(st, 1)))
			continue;
		ids = xreallocarray(ids, n + 1, sizeof *ids);
		pats = xreallocarray(pats, n + 1, sizeof *pats);
		ids[n] = db_col_int64(st, 0);
		pats[n++] = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto out;
	}
	for (i = 0; i < n; i++)
		if (route_rebuild_glob(db, ids[i], pats[i], now, e) != 0)
			goto out;
	for (i = 0; i < nitems(route_prune_sql); i++)
		if (route_exec(db, route_prune_sql[i], now, e) != 0)
			goto out;
	rv = 0;
out:
	for (i = 0; i < n; i++)
		free(pats[i]);
	free(pats);
	free(ids);
	return (rv);
}

/* A caller's callback and its argument, carried through db_each(). */
struct route_each {
	route_row_cb	 row;
	route_chan_cb	 chan;
	void		*arg;
};

static int
route_row_each(struct db_stmt *st, void *arg)
{
	struct route_each	*x = arg;
	struct route_row	 r;

	memset(&r, 0, sizeof r);
	r.id = db_col_int64(st, 0);
	r.pattern = db_col_text(st, 1);
	r.alias = db_col_text(st, 2);
	r.strategy = db_col_text(st, 3);
	r.model_map = db_col_text(st, 4);
	r.enabled = db_col_int(st, 5);
	r.manual = db_col_int(st, 6);
	r.members = db_col_text(st, 7);
	return (x->row(&r, x->arg));
}

int
route_foreach(struct db *db, route_row_cb cb, void *arg, struct err *e)
{
	struct route_each	x = { .row = cb, .arg = arg };

	return (db_each(db, db_prepare_err(db, "SELECT id, pattern, alias, "
	    "strategy, model_map, enabled, manual, members FROM routes ORDER "
	    "BY id", e),
	    route_row_each, &x, e));
}

static int
route_chan_each(struct db_stmt *st, void *arg)
{
	struct route_each	*x = arg;
	struct route_chan_row	 c;

	memset(&c, 0, sizeof c);
	c.id = db_col_int64(st, 0);
	c.route_id = db_col_int64(st, 1);
	c.account_id = db_col_int64(st, 2);
	c.token_id = db_col_int64(st, 3);
	c.source_model = db_col_text(st, 4);
	c.priority = db_col_int(st, 5);
	c.weight = db_col_int(st, 6);
	c.enabled = db_col_int(st, 7);
	return (x->chan(&c, x->arg));
}

int
route_channels(struct db *db, route_chan_cb cb, void *arg, struct err *e)
{
	struct route_each	x = { .chan = cb, .arg = arg };

	return (db_each(db, db_prepare_err(db, "SELECT id, route_id, "
	    "account_id, token_id, source_model, priority, weight, enabled "
	    "FROM channels ORDER BY route_id, id", e), route_chan_each, &x, e));
}

static json_t *
route_row_json(struct db_stmt *st)
{
	json_t		*o, *map, *members;
	const char	*pattern = db_col_text(st, 1);

	map = json_loads(db_col_text(st, 4) != NULL ? db_col_text(st, 4) :
	    "{}", 0, NULL);
	o = json_object();
	json_object_set_new(o, "id", json_integer(db_col_int64(st, 0)));
	json_object_set_new(o, "pattern", json_string(pattern));
	jx_set_str_or_null(o, "alias", db_col_text(st, 2));
	json_object_set_new(o, "strategy", json_string(db_col_text(st, 3)));
	json_object_set_new(o, "model_map", map != NULL ? map : json_object());
	json_object_set_new(o, "enabled",
	    json_boolean(db_col_int(st, 5)));
	json_object_set_new(o, "manual", json_boolean(db_col_int(st, 6)));
	json_object_set_new(o, "created_at",
	    jx_time(db_col_int64(st, 7)));
	json_object_set_new(o, "updated_at",
	    jx_time(db_col_int64(st, 8)));
	json_object_set_new(o, "channels",
	    json_integer(db_col_int64(st, 9)));
	json_object_set_new(o, "available", json_boolean(
	    !route_is_exact(pattern) || db_col_int(st, 10)));
	members = db_col_text(st, 11) != NULL ? json_loads(db_col_text(st,
	    11), 0, NULL) : NULL;
	json_object_set_new(o, "kind", json_string(members != NULL ? "group" :
	    route_is_exact(pattern) ? "exact" : "pattern"));
	json_object_set_new(o, "members", members != NULL ? members :
	    json_null());
	return (o);
}

json_t *
route_list(struct db *db, struct err *e)
{
	json_t	*items;

	items = db_rows(db, db_prepare_err(db, "SELECT " ROUTE_COLUMNS
	    " FROM routes r ORDER BY r.pattern", e), route_row_json, e);
	return (items != NULL ? jx_items(items) : NULL);
}

/* A route id, or its pattern; 0 when none (e says so), -1 on error. */
long long
route_find(struct db *db, const char *ref, struct err *e)
{
	struct db_stmt	*st;
	const char	*errstr = NULL;
	long long	 id;
	int		 rc;

	id = strtonum(ref, 1, LLONG_MAX, &errstr);
	st = db_prepare_err(db, "SELECT id FROM routes WHERE id = ?1 OR "
	    "pattern = ?2 ORDER BY pattern = ?2 DESC LIMIT 1", e);
	if (st == NULL)
		return (-1);
	db_bind_int(st, 1, errstr == NULL ? id : 0, 1);
	db_bind_text(st, 2, ref);
	rc = db_step(st);
	id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	if (id == 0)
		err_set(e, ERR_NOT_FOUND, "no route \"%s\"", ref);
	return (id);
}

static json_t *
route_chan_json(struct db_stmt *st)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "id", json_integer(db_col_int64(st, 0)));
	json_object_set_new(o, "route_id",
	    json_integer(db_col_int64(st, 1)));
	json_object_set_new(o, "account_id",
	    json_integer(db_col_int64(st, 2)));
	json_object_set_new(o, "token_id", jx_opt_int(db_col_type(st,
	    3) != DB_NULL, db_col_int64(st, 3)));
	jx_set_str_or_null(o, "source_model", db_col_text(st, 4));
	json_object_set_new(o, "priority", json_integer(db_col_int(st,
	    5)));
	json_object_set_new(o, "weight", json_integer(db_col_int(st,
	    6)));
	json_object_set_new(o, "enabled",
	    json_boolean(db_col_int(st, 7)));
	json_object_set_new(o, "manual", json_boolean(db_col_int(st, 8)));
	jx_set_str_or_null(o, "site", db_col_text(st, 9));
	json_object_set_new(o, "site_id",
	    json_integer(db_col_int64(st, 10)));
	jx_set_str_or_null(o, "account", db_col_text(st, 11));
	jx_set_str_or_null(o, "token", db_col_text(st, 12));
	return (o);
}

/* A token channel's token by name (its id when it has none). */
#define ROUTE_CHAN_COLUMNS "c.id, c.route_id, c.account_id, c.token_id, " \
	"c.source_model, c.priority, c.weight, c.enabled, c.manual, s.name, " \
	"s.id, COALESCE(a.label, a.username, s.name || ' #' || a.id), " \
	"CASE WHEN t.id IS NULL THEN NULL WHEN t.name <> '' THEN t.name " \
	"ELSE '#' || t.id END"
#define ROUTE_CHAN_FROM " FROM channels c JOIN accounts a ON a.id = " \
	"c.account_id JOIN sites s ON s.id = a.site_id LEFT JOIN " \
	"upstream_tokens t ON t.id = c.token_id"

json_t *
route_get(struct db *db, const char *ref, struct err *e)
{
	struct db_stmt	*st;
	json_t		*o = NULL, *chans;
	long long	 id;

	if ((id = route_find(db, ref, e)) <= 0)
		return (NULL);
	if ((st = db_prepare_err(db, "SELECT " ROUTE_COLUMNS " FROM routes r "
	    "WHERE r.id = ?1", e)) == NULL)
		return (NULL);
	db_bind_int(st, 1, id, 1);
	if (db_row(db, st, route_row_json, &o, e) != 1)
		return (NULL);
	if ((st = db_prepare_err(db, "SELECT " ROUTE_CHAN_COLUMNS
	    ROUTE_CHAN_FROM " WHERE c.route_id = ?1 ORDER BY c.priority, c.id",
	    e)) == NULL) {
		json_decref(o);
		return (NULL);
	}
	db_bind_int(st, 1, id, 1);
	if ((chans = db_rows(db, st, route_chan_json, e)) == NULL) {
		json_decref(o);
		return (NULL);
	}
	json_object_set_new(o, "items", chans);
	return (o);
}

/*
 * A group's member list from "MODEL[,MODEL...]": the JSON array text, in
 * the order given, without repeats; NULL (e says why) when a member is
 * empty, a pattern, or the group's own name.
 */
static char *
route_members(const char *name, const char *list, struct err *e)
{
	json_t		*a, *v;
	char		*dup, *p, *m, *text;
	size_t		 i;

	a = json_array();
	dup = xstrdup(list);
	for (p = dup; (m = strsep(&p, ",")) != NULL;) {
		m += strspn(m, " \t");
		m[strcspn(m, " \t")] = '\0';
		if (*m == '\0' || !route_is_exact(m) ||
		    strcmp(m, name) == 0) {
			err_set(e, ERR_INVALID, *m == '\0' ? "--group: an empty "
			    "model name" : !route_is_exact(m) ? "--group: "
			    "\"%s\" is a pattern; members are model names" :
			    "--group: \"%s\" is the group's own name", m);
			json_decref(a);
			free(dup);
			return (NULL);
		}
		json_array_foreach(a, i, v)
			if (strcmp(json_string_value(v), m) == 0)
				break;
		if (i == json_array_size(a))
			json_array_append_new(a, json_string(m));
	}
	free(dup);
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return (text);
}

/*
 * A manual route for pattern; with members ("MODEL[,MODEL...]") a group
 * route: the name pattern, served by the channels of those models.
 */
json_t *
route_add(struct db *db, const char *pattern, const char *alias,
    const char *strategy, const char *members, struct err *e)
{
	struct db_stmt		*st;
	enum router_strategy	 s;
	struct modelpat		*mp;
	json_t			*pats;
	char			*cause, *group = NULL;
	long long		 now = (long long)time(NULL);

	if (pattern == NULL || *pattern == '\0') {
		err_set(e, ERR_INVALID, "empty pattern");
		return (NULL);
	}
	if (members != NULL && !route_is_exact(pattern)) {
		err_set(e, ERR_INVALID, "a group route's name is what clients "
		    "request: \"%s\" is a pattern", pattern);
		return (NULL);
	}
	if (strategy != NULL && router_strategy_find(strategy, &s) != 0) {
		err_set(e, ERR_INVALID, "unknown strategy \"%s\" (weighted, "
		    "round_robin or stable_first)", strategy);
		return (NULL);
	}
	pats = json_pack("[s]", pattern);
	mp = modelpat_compile(pats, e);
	json_decref(pats);
	if (mp == NULL)
		return (NULL);
	modelpat_free(mp);
	if (members != NULL && (group = route_members(pattern, members,
	    e)) == NULL)
		return (NULL);
	if (db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		free(group);
		return (NULL);
	}
	if ((st = db_prepare_err(db, "SELECT 1 FROM routes WHERE pattern = ?1",
	    e)) == NULL)
		goto fail;
	db_bind_text(st, 1, pattern);
	if (db_step(st) == DB_ROW) {
		db_finalize(st);
		err_set(e, ERR_CONFLICT, "a route for \"%s\" exists", pattern);
		goto fail;
	}
	db_finalize(st);
	if ((st = db_prepare_err(db, "INSERT INTO routes (pattern, alias, "
	    "strategy, manual, created_at, updated_at, members) VALUES (?1, "
	    "?2, COALESCE(?3, 'weighted'), 1, ?4, ?4, ?5)", e)) == NULL)
		goto fail;
	db_bind_text(st, 1, pattern);
	db_bind_text(st, 2, alias);
	db_bind_text(st, 3, strategy);
	db_bind_int(st, 4, now, 1);
	db_bind_text(st, 5, group);
	if (db_step_done(db, st, e) != 0 || route_rebuild(db, e) != 0)
		goto fail;
	free(group);
	if (db_commit(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (NULL);
	}
	return (route_get(db, pattern, e));
fail:
	free(group);
	db_rollback(db);
	return (NULL);
}

/* Is route id a group route? -1 on error. */
static int
route_is_group(struct db *db, long long id, char **pattern, struct err *e)
{
	struct db_stmt	*st;
	int		 rc, group = 0;

	if ((st = db_prepare_err(db, "SELECT members IS NOT NULL, pattern "
	    "FROM routes WHERE id = ?1", e)) == NULL)
		return (-1);
	db_bind_int(st, 1, id, 1);
	if ((rc = db_step(st)) == DB_ROW) {
		group = db_col_int(st, 0);
		*pattern = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
	if (rc != DB_ROW) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	return (group);
}

/*
 * Apply --alias, --strategy, --map FROM=TO (repeatable) and, on a group
 * route, --group MODEL[,MODEL...] (the new member list) to a route.
 */
json_t *
route_edit(struct db *db, const char *ref, const json_t *args, struct err *e)
{
	struct db_stmt		*st;
	enum router_strategy	 s;
	const char		*alias, *strategy, *m;
	json_t			*maps, *map = NULL, *v;
	char			*from, *to, *text = NULL, idbuf[32];
	char			*group = NULL, *pattern = NULL;
	long long		 id;
	size_t			 i;
	int			 isgroup;

	if ((id = route_find(db, ref, e)) <= 0)
		return (NULL);
	if (jx_str(args, "group") != NULL) {
		if ((isgroup = route_is_group(db, id, &pattern, e)) < 0)
			return (NULL);
		if (!isgroup) {
			err_set(e, ERR_INVALID, "route %s is not a group route "
			    "(make one with metapi route add NAME --group "
			    "MODEL[,MODEL...])", ref);
			free(pattern);
			return (NULL);
		}
		group = route_members(pattern, jx_str(args, "group"), e);
		free(pattern);
		if (group == NULL)
			return (NULL);
	}
	alias = jx_str(args, "alias");
	strategy = jx_str(args, "strategy");
	maps = json_object_get(args, "map");
	if (strategy != NULL && router_strategy_find(strategy, &s) != 0) {
		err_set(e, ERR_INVALID, "unknown strategy \"%s\" (weighted, "
		    "round_robin or stable_first)", strategy);
		free(group);
		return (NULL);
	}
	if (json_array_size(maps) > 0) {
		map = json_object();
		json_array_foreach(maps, i, v) {
			m = json_string_value(v);
			if (m == NULL || (to = strchr(m, '=')) == NULL ||
			    to == m || to[1] == '\0') {
				err_set(e, ERR_INVALID, "bad --map \"%s\": want "
				    "FROM=TO", m != NULL ? m : "");
				json_decref(map);
				free(group);
				return (NULL);
			}
			from = xstrndup(m, to - m);
			json_object_set_new(map, from, json_string(to + 1));
			free(from);
		}
		text = json_dumps(map, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(map);
	}
	st = db_prepare_err(db, "UPDATE routes SET alias = CASE WHEN ?2 IS "
	    "NULL THEN alias WHEN ?2 = '' THEN NULL ELSE ?2 END, strategy = "
	    "COALESCE(?3, strategy), model_map = COALESCE(?4, model_map), "
	    "members = COALESCE(?6, members), updated_at = ?5 WHERE id = ?1",
	    e);
	if (st == NULL) {
		free(text);
		free(group);
		return (NULL);
	}
	db_bind_int(st, 1, id, 1);
	db_bind_text(st, 2, alias);
	db_bind_text(st, 3, strategy);
	db_bind_text(st, 4, text);
	db_bind_int(st, 5, (long long)time(NULL), 1);
	db_bind_text(st, 6, group);
	free(text);
	if (db_step_done(db, st, e) != 0) {
		free(group);
		return (NULL);
	}
	/* New members bring their channels, old ones take theirs away. */
	if (group != NULL && route_rebuild(db, e) != 0) {
		free(group);
		return (NULL);
	}
	free(group);
	snprintf(idbuf, sizeof idbuf, "%lld", id);
	return (route_get(db, idbuf, e));
}

int
route_rm(struct db *db, const char *ref, struct err *e)
{
	struct db_stmt	*st;
	long long	 id;
	int		 manual;

	if ((id = route_find(db, ref, e)) <= 0)
		return (-1);
	/* A discovered route would come back at the next rebuild. */
	if ((st = db_prepare_err(db, "SELECT manual FROM routes WHERE id = ?1",
	    e)) == NULL)
		return (-1);
	db_bind_int(st, 1, id, 1);
	manual = db_step(st) == DB_ROW && db_col_int(st, 0);
	db_finalize(st);
	if (!manual) {
		err_set(e, ERR_INVALID, "route %s was made from the discovered "
		    "models and would come back; disable its channels "
		    "(metapi channel set ID --disable) instead", ref);
		return (-1);
	}
	if ((st = db_prepare_err(db, "DELETE FROM routes WHERE id = ?1",
	    e)) == NULL)
		return (-1);
	db_bind_int(st, 1, id, 1);
	return (db_step_done(db, st, e));
}

int
route_channel_exists(struct db *db, long long id)
{
	struct db_stmt	*st;
	int		 found;

	if ((st = db_prepare(db, "SELECT 1 FROM channels WHERE id = ?1",
	    NULL)) == NULL)
		return (0);
	db_bind_int(st, 1, id, 1);
	found = db_step(st) == DB_ROW;
	db_finalize(st);
	return (found);
}

/* priority, weight, enable/disable: an edit rebuilds keep. */
json_t *
route_channel_set(struct db *db, long long id, const json_t *args,
    struct err *e)
{
	struct db_stmt	*st;
	json_t		*o = NULL;
	long long	 priority = 0, weight = 0;
	int		 has_p, has_w, en = -1;

	has_p = jx_int(args, "priority", &priority) == 0;
	has_w = jx_int(args, "weight", &weight) == 0;
	if (jx_bool(args, "enable"))
		en = 1;
	if (jx_bool(args, "disable")) {
		if (en == 1) {
			err_set(e, ERR_INVALID, "--enable and --disable "
			    "together");
			return (NULL);
		}
		en = 0;
	}
	if (has_w && (weight < 0 || weight > 1000000)) {
		err_set(e, ERR_INVALID, "weight must be 0 to 1000000");
		return (NULL);
	}
	if (has_p && (priority < -1000000 || priority > 1000000)) {
		err_set(e, ERR_INVALID, "priority must be -1000000 to 1000000");
		return (NULL);
	}
	if (!route_channel_exists(db, id)) {
		err_set(e, ERR_NOT_FOUND, "no channel %lld", id);
		return (NULL);
	}
	st = db_prepare_err(db, "UPDATE channels SET priority = COALESCE(?2, "
	    "priority), weight = COALESCE(?3, weight), enabled = CASE WHEN ?4 "
	    "< 0 THEN enabled ELSE ?4 END, updated_at = ?5 WHERE id = ?1", e);
	if (st == NULL)
		return (NULL);
	db_bind_int(st, 1, id, 1);
	db_bind_int(st, 2, priority, has_p);
	db_bind_int(st, 3, weight, has_w);
	db_bind_int(st, 4, en, 1);
	db_bind_int(st, 5, (long long)time(NULL), 1);
	if (db_step_done(db, st, e) != 0)
		return (NULL);
	if ((st = db_prepare_err(db, "SELECT " ROUTE_CHAN_COLUMNS
	    ROUTE_CHAN_FROM " WHERE c.id = ?1", e)) == NULL)
		return (NULL);
	db_bind_int(st, 1, id, 1);
	if (db_row(db, st, route_chan_json, &o, e) != 1)
		return (NULL);
	return (o);
}

int
route_count(struct db *db)
{
	struct db_stmt	*st;
	int		 n = 0;

	if ((st = db_prepare(db, "SELECT COUNT(*) FROM routes", NULL)) == NULL)
		return (0);
	if (db_step(st) == DB_ROW)
		n = db_col_int(st, 0);
	db_finalize(st);
	return (n);
}

/*
 * Keep the channels' runtime state (counters, cooldowns) across restarts:
 * written by the main thread now and then and at shutdown, read back at
 * start-up. The columns hold seconds; the router works in milliseconds.
 */
int
route_runtime_save(struct db *db, const struct route_runtime *v, size_t n,
    struct err *e)
{
	struct db_stmt	*st;
	char		*cause;
	size_t		 i;

	if (db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		st = db_prepare_err(db, "UPDATE channels SET success_count = ?, "
		    "fail_count = ?, consecutive_fails = ?, cooldown_level = ?, "
		    "cooldown_until = ?, last_fail_at = ?, last_used_at = ?, "
		    "total_latency_ms = ?, total_cost_usd = ? WHERE id = ?", e);
		if (st == NULL)
			goto fail;
		db_bind_int64(st, 1, v[i].success);
		db_bind_int64(st, 2, v[i].fail);
		db_bind_int64(st, 3, v[i].consecutive);
		db_bind_int64(st, 4, v[i].level);
		db_bind_int(st, 5, v[i].cooldown_until / 1000,
		    v[i].cooldown_until > 0);
		db_bind_int(st, 6, v[i].last_fail_at / 1000,
		    v[i].last_fail_at > 0);
		db_bind_int(st, 7, v[i].last_used_at / 1000,
		    v[i].last_used_at > 0);
		db_bind_int64(st, 8, v[i].total_latency);
		db_bind_double(st, 9, v[i].total_cost);
		db_bind_int64(st, 10, v[i].id);
		if (db_step_done(db, st, e) != 0)
			goto fail;
	}
	if (db_commit(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (-1);
	}
	return (0);
fail:
	db_rollback(db);
	return (-1);
}

int
route_runtime_load(struct db *db, route_runtime_cb cb, void *arg,
    struct err *e)
{
	struct db_stmt		*st;
	struct route_runtime	 r;
	int			 rc;

	st = db_prepare_err(db, "SELECT id, success_count, fail_count, "
	    "consecutive_fails, cooldown_level, COALESCE(cooldown_until, 0), "
	    "COALESCE(last_fail_at, 0), COALESCE(last_used_at, 0), "
	    "total_latency_ms, total_cost_usd FROM channels WHERE "
	    "success_count > 0 OR fail_count > 0", e);
	if (st == NULL)
		return (-1);
	while ((rc = db_step(st)) == DB_ROW) {
		memset(&r, 0, sizeof r);
		r.id = db_col_int64(st, 0);
		r.success = db_col_int64(st, 1);
		r.fail = db_col_int64(st, 2);
		r.consecutive = db_col_int64(st, 3);
		r.level = db_col_int64(st, 4);
		r.cooldown_until = db_col_int64(st, 5) * 1000;
		r.last_fail_at = db_col_int64(st, 6) * 1000;
		r.last_used_at = db_col_int64(st, 7) * 1000;
		r.total_latency = db_col_int64(st, 8);
		r.total_cost = db_col_double(st, 9);
		if (cb(&r, arg) != 0)
			break;
	}
	db_finalize(st);
	if (rc != DB_DONE && rc != DB_ROW) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	return (0);
}

/*
 * Site health across restarts: each entry as a JSON object of the
 * router's fields (times in ms), replacing what was stored.
 */
static json_t *
route_health_json(const struct router_health *h)
{
	return (json_pack("{s:f, s:f, s:f, s:I, s:f, s:b, s:i, s:I, s:i, s:I}",
	    "penalty", h->penalty, "recent_ok", h->recent_ok, "recent_fail",
	    h->recent_fail, "updated_at", (json_int_t)h->updated_at,
	    "latency_ema", h->latency_ema, "has_latency", h->has_latency,
	    "streak", h->streak, "streak_at", (json_int_t)h->streak_at,
	    "breaker_level", h->breaker_level, "breaker_until",
	    (json_int_t)h->breaker_until));
}

int
route_health_save(struct db *db, const struct route_health *v, size_t n,
    struct err *e)
{
	struct db_stmt	*st;
	json_t		*o;
	char		*cause, *text;
	size_t		 i;

	if (db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (-1);
	}
	if (route_exec(db, "DELETE FROM site_health", 0, e) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		/* A site removed meanwhile has no row to point at. */
		st = db_prepare_err(db, "INSERT INTO site_health (site_id, "
		    "model, state, updated_at) SELECT ?1, ?2, ?3, ?4 WHERE "
		    "EXISTS (SELECT 1 FROM sites WHERE id = ?1)", e);
		if (st == NULL)
			goto fail;
		o = route_health_json(&v[i].h);
		text = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		db_bind_int64(st, 1, v[i].site_id);
		db_bind_text(st, 2, v[i].model != NULL ? v[i].model : "");
		db_bind_text(st, 3, text);
		db_bind_int64(st, 4, (long long)time(NULL));
		free(text);
		if (db_step_done(db, st, e) != 0)
			goto fail;
	}
	if (db_commit(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (-1);
	}
	return (0);
fail:
	db_rollback(db);
	return (-1);
}

static double
route_health_real(const json_t *o, const char *k)
{
	return (json_number_value(json_object_get(o, k)));
}

static long long
route_health_int(const json_t *o, const char *k)
{
	return ((long long)json_number_value(json_object_get(o, k)));
}

/* A caller's callback and its argument, carried through db_each(). */
struct route_health_each {
	route_health_cb	 cb;
	void		*arg;
};

/* One site_health row to the caller; one that does not parse is skipped. */
static int
route_health_row(struct db_stmt *st, void *arg)
{
	struct route_health_each	*x = arg;
	struct route_health		 r;
	const char			*model = db_col_text(st, 1);
	json_t				*o;

	if ((o = json_loads(db_col_text(st, 2), 0, NULL)) == NULL)
		return (0);
	memset(&r, 0, sizeof r);
	r.site_id = db_col_int64(st, 0);
	r.model = model != NULL && *model != '\0' ? model : NULL;
	r.h.penalty = route_health_real(o, "penalty");
	r.h.recent_ok = route_health_real(o, "recent_ok");
	r.h.recent_fail = route_health_real(o, "recent_fail");
	r.h.updated_at = route_health_int(o, "updated_at");
	r.h.latency_ema = route_health_real(o, "latency_ema");
	r.h.has_latency = json_is_true(json_object_get(o, "has_latency"));
	r.h.streak = (int)route_health_int(o, "streak");
	r.h.streak_at = route_health_int(o, "streak_at");
	r.h.breaker_level = (int)route_health_int(o, "breaker_level");
	r.h.breaker_until = route_health_int(o, "breaker_until");
	json_decref(o);
	return (x->cb(&r, x->arg));
}

/* Each stored entry to cb. */
int
route_health_load(struct db *db, route_health_cb cb, void *arg,
    struct err *e)
{
	struct route_health_each	x = { cb, arg };

	return (db_each(db, db_prepare_err(db, "SELECT site_id, model, state "
	    "FROM site_health", e), route_health_row, &x, e));
}

static int
route_search_row(struct db_stmt *st, void *arg)
{
	struct search_ctx	*c = arg;
	struct search_field	 f[] = {
		{ "pattern", db_col_text(st, 1) },
		{ "alias", db_col_text(st, 2) },
	};
	long long		 id = db_col_int64(st, 0);
	long long		 n = db_col_int64(st, 4);
	char			*detail;

	xasprintf(&detail, "%s%s%s%s  %lld channel%s%s",
	    f[1].value != NULL ? "alias " : "", f[1].value != NULL ?
	    f[1].value : "", f[1].value != NULL ? "  " : "",
	    db_col_text(st, 3), n, n == 1 ? "" : "s",
	    db_col_int(st, 5) ? "" : "  disabled");
	search_hit(c->hits, c->q, "route", id, json_integer(id), f[0].value,
	    detail, f, nitems(f));
	free(detail);
	return (0);
}

/* Routes whose pattern or alias holds the query (search.run). */
int
route_search(struct db *db, const struct search_query *q, json_t *hits,
    struct err *e)
{
	struct search_ctx	 c = { q, hits };
	struct db_stmt		*st;

	st = db_prepare_err(db, "SELECT r.id, r.pattern, r.alias, r.strategy, "
	    "(SELECT COUNT(*) FROM channels c WHERE c.route_id = r.id), "
	    "r.enabled FROM routes r WHERE r.id = ?2 OR r.pattern LIKE ?1 "
	    "ESCAPE '\\' OR r.alias LIKE ?1 ESCAPE '\\' ORDER BY r.pattern "
	    "LIMIT ?3", e);
	if (st != NULL) {
		db_bind_text(st, 1, q->like);
		db_bind_int64(st, 2, q->id);
		db_bind_int64(st, 3, SEARCH_CANDIDATES_MAX);
	}
	return (db_each(db, st, route_search_row, &c, e));
}

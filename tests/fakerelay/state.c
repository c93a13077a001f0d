/*
 * The fake relay's state and its one lock. It owns users, tokens, models,
 * groups, config switches, login sessions, the usage log and the clock,
 * all kept as one jansson tree so the state file, GET /__fake/state and
 * POST /__fake/state share one format. Every function here expects the
 * caller to hold state_lock() unless it says otherwise; nothing here does
 * HTTP or knows a platform's wire format.
 */
#include "config.h"

#include <sys/random.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fakerelay.h"

#define STATE_MAX_SESSIONS	4096
#define STATE_MAX_LOG		500

static pthread_mutex_t	 state_mutex;
static json_t		*state_tree;		/* live state */
static json_t		*state_seed;		/* what /__fake/reset restores */
static json_t		*state_sessions;	/* cookie/JWT -> session */
static json_t		*state_usage;		/* usage log (/api/log/self) */
static long long	 state_clock_offset;	/* seconds added to time() */
static long long	 state_log_id;

static const char state_alnum[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char state_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
state_lock(void)
{
	pthread_mutex_lock(&state_mutex);
}

void
state_unlock(void)
{
	pthread_mutex_unlock(&state_mutex);
}

/* Typed getters that tolerate missing or mistyped fields. */
long long
state_int(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	if (json_is_integer(v))
		return (json_integer_value(v));
	if (json_is_real(v))
		return ((long long)json_real_value(v));
	if (json_is_true(v))
		return (1);
	if (json_is_string(v))
		return (strtoll(json_string_value(v), NULL, 10));
	return (0);
}

double
state_real(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	if (json_is_number(v))
		return (json_number_value(v));
	if (json_is_string(v))
		return (strtod(json_string_value(v), NULL));
	return (0);
}

const char *
state_str(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	if (json_is_string(v))
		return (json_string_value(v));
	return ("");
}

int
state_bool(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	if (json_is_boolean(v))
		return (json_is_true(v));
	if (json_is_integer(v))
		return (json_integer_value(v) != 0);
	return (0);
}

void
state_set_int(json_t *o, const char *key, long long v)
{
	json_object_set_new(o, key, json_integer(v));
}

void
state_set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, json_string(v != NULL ? v : ""));
}

json_t *
state_root(void)
{
	return (state_tree);
}

json_t *
state_config(void)
{
	return (json_object_get(state_tree, "config"));
}

long long
state_cfg_int(const char *key)
{
	return (state_int(state_config(), key));
}

double
state_cfg_real(const char *key)
{
	return (state_real(state_config(), key));
}

int
state_cfg_bool(const char *key)
{
	return (state_bool(state_config(), key));
}

const char *
state_cfg_str(const char *key)
{
	return (state_str(state_config(), key));
}

json_t *
state_users(void)
{
	return (json_object_get(state_tree, "users"));
}

json_t *
state_tokens(void)
{
	return (json_object_get(state_tree, "tokens"));
}

json_t *
state_models(void)
{
	return (json_object_get(state_tree, "models"));
}

json_t *
state_groups(void)
{
	return (json_object_get(state_tree, "groups"));
}

static json_t *
state_find(json_t *array, const char *key, json_t *want)
{
	size_t	 i;
	json_t	*o;

	json_array_foreach(array, i, o) {
		if (json_equal(json_object_get(o, key), want))
			return (o);
	}
	return (NULL);
}

json_t *
state_user_by_id(long long id)
{
	json_t	*want = json_integer(id), *u;

	u = state_find(state_users(), "id", want);
	json_decref(want);
	return (u);
}

json_t *
state_user_by_name(const char *name)
{
	size_t	 i;
	json_t	*u;

	if (name == NULL || *name == '\0')
		return (NULL);
	json_array_foreach(state_users(), i, u) {
		if (strcmp(state_str(u, "username"), name) == 0 ||
		    strcmp(state_str(u, "email"), name) == 0)
			return (u);
	}
	return (NULL);
}

json_t *
state_user_by_access(const char *token)
{
	size_t	 i;
	json_t	*u;

	if (token == NULL || *token == '\0')
		return (NULL);
	json_array_foreach(state_users(), i, u) {
		if (strcmp(state_str(u, "access_token"), token) == 0)
			return (u);
	}
	return (NULL);
}

json_t *
state_token_by_id(long long id)
{
	json_t	*want = json_integer(id), *t;

	t = state_find(state_tokens(), "id", want);
	json_decref(want);
	return (t);
}

json_t *
state_token_by_key(const char *key)
{
	size_t	 i;
	json_t	*t;

	if (key == NULL || *key == '\0')
		return (NULL);
	json_array_foreach(state_tokens(), i, t) {
		if (strcmp(state_str(t, "key"), key) == 0)
			return (t);
	}
	return (NULL);
}

json_t *
state_model(const char *name)
{
	size_t	 i;
	json_t	*m;

	if (name == NULL)
		return (NULL);
	json_array_foreach(state_models(), i, m) {
		if (strcmp(state_str(m, "id"), name) == 0)
			return (m);
	}
	return (NULL);
}

double
state_group_ratio(const char *group)
{
	json_t	*g = json_object_get(state_groups(), group);

	if (g == NULL || json_object_get(g, "ratio") == NULL)
		return (1);
	return (state_real(g, "ratio"));
}

/* Next free id in "users" or "tokens": one more than the largest. */
long long
state_next_id(const char *section)
{
	size_t		 i;
	json_t		*o;
	long long	 max = 0;

	json_array_foreach(json_object_get(state_tree, section), i, o) {
		if (state_int(o, "id") > max)
			max = state_int(o, "id");
	}
	return (max + 1);
}

/* Fill buf with len-1 random characters from set, NUL-terminated. */
void
state_random(char *buf, size_t len, const char *set)
{
	unsigned char	 rnd[256];
	size_t		 i, n = strlen(set), want;

	if (len == 0)
		return;
	want = len - 1 > sizeof rnd ? sizeof rnd : len - 1;
	if (getrandom(rnd, want, 0) != (ssize_t)want) {
		for (i = 0; i < want; i++)
			rnd[i] = (unsigned char)rand();
	}
	for (i = 0; i < want; i++)
		buf[i] = set[rnd[i] % n];
	buf[want] = '\0';
}

/*
 * Key shapes by platform, indexed by enum key_style. A seeded token's key
 * is the prefix, the stem (owner name filled in), pad characters, then the
 * token id, so tests can predict it; a created key is random.
 */
static const struct state_keyshape {
	const char	*prefix;	/* kept in the stored key */
	const char	*set;		/* alphabet of random keys */
	size_t		 len;		/* characters after the prefix */
	size_t		 underscore;	/* position of a "_", 0 for none */
	const char	*stem;		/* seed key stem before the owner */
	const char	*stem_end;	/* and after it */
	char		 pad;		/* seed key padding */
} state_keyshapes[] = {
	[KEY_ALNUM48] = { "", state_alnum, 48, 0, "fakekey", "", '0' },
	[KEY_HUB] = { "", state_b64url, 52, 8, "Fk", "_", 'Q' },
	[KEY_SUB2API] = { "sk-", "0123456789abcdef", 64, 0, "fa4e", NULL, '0' },
	[KEY_OPENAI] = { "sk-proj-", state_alnum, 48, 0, "fake", "", '0' },
	[KEY_CLAUDE] = { "sk-ant-api03-", state_b64url, 64, 0, "fake", "",
	    '0' },
};

/* A new random key in the given platform's shape. Caller frees. */
char *
state_key_new(enum key_style style)
{
	const struct state_keyshape	*ks = &state_keyshapes[style];
	char				 body[128], *out;

	state_random(body, ks->len + 1, ks->set);
	if (ks->underscore != 0)
		body[ks->underscore] = '_';
	if (asprintf(&out, "%s%s", ks->prefix, body) == -1)
		abort();
	return (out);
}

static char *
state_seed_key(enum key_style style, const char *owner, long long id)
{
	const struct state_keyshape	*ks = &state_keyshapes[style];
	char				 stem[64], num[32], body[128], *out;
	size_t				 len;

	/* Sub2API keys are hex: no owner name in them. */
	snprintf(stem, sizeof stem, "%s%s%s", ks->stem,
	    ks->stem_end != NULL ? owner : "",
	    ks->stem_end != NULL ? ks->stem_end : "");
	snprintf(num, sizeof num, "%lld", id);
	len = strlen(stem);
	memcpy(body, stem, len);
	while (len + strlen(num) < ks->len && len < sizeof body - 32)
		body[len++] = ks->pad;
	snprintf(body + len, sizeof body - len, "%s", num);
	if (asprintf(&out, "%s%s", ks->prefix, body) == -1)
		abort();
	return (out);
}

long long
state_now(void)
{
	return ((long long)time(NULL) + state_clock_offset);
}

/* "Today" is the UTC date of the fake clock, YYYY-MM-DD. */
void
state_today(char *buf, size_t len)
{
	time_t		t = (time_t)state_now();
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

void
state_clock_set(long long now)
{
	state_clock_offset = now - (long long)time(NULL);
}

void
state_clock_advance(long long secs)
{
	state_clock_offset += secs;
}

void
state_clock_real(void)
{
	state_clock_offset = 0;
}

static json_t *
state_default_config(void)
{
	return (json_pack("{s:i, s:b, s:b, s:i, s:i, s:b, s:b, s:b, s:s, "
	    "s:b, s:s, s:s, s:s, s:i, s:b, s:s, s:i, s:i, s:s, s:s}",
	    "quota_per_unit", 500000,
	    "turnstile", 0,
	    "checkin_enabled", 1,
	    "checkin_min", 250000,
	    "checkin_max", 250000,
	    "mask_keys", 0,
	    "paged_tokens", 1,
	    "require_user_header", 1,
	    "user_header", "",
	    "waf", 0,
	    "waf_arg1", "4F2C1B7E9A3D5608C1E2F3A4B5C6D7E8F9A0B1C2",
	    "system_name", "",
	    "notice", "mock notice",
	    "max_tokens_per_user", 0,
	    "responses_done", 0,
	    "variant", "",
	    "jwt_ttl", 86400,
	    "max_body", REQ_MAX_BODY,
	    "sign_in_style", "success",
	    "reply", ""));
}

static json_t *
state_default_user(long long id, const char *name, long long quota,
    long long used, const char *group, const char *twofa)
{
	char	email[128], access[128], aff[16];

	snprintf(email, sizeof email, "%s@example.com", name);
	snprintf(access, sizeof access, "access-%s", name);
	snprintf(aff, sizeof aff, "Aff%lld", id);
	return (json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:I, s:I, "
	    "s:I, s:s, s:s, s:s, s:s, s:[], s:b}",
	    "id", (json_int_t)id, "username", name, "password", "pass-123",
	    "email", email, "display_name", name, "role", 1, "status", 1,
	    "group", group, "quota", (json_int_t)quota,
	    "used_quota", (json_int_t)used, "request_count", (json_int_t)0,
	    "access_token", access, "aff_code", aff, "twofa_code", twofa,
	    "last_checkin", "", "checkins", "need_agree", 0));
}

static json_t *
state_default_token(long long id, long long uid, const char *owner,
    const char *name, int unlimited, long long remain, const char *limits)
{
	char	*key = state_seed_key(persona_get()->key_style, owner, id);
	json_t	*t;

	t = json_pack("{s:I, s:I, s:s, s:s, s:i, s:I, s:I, s:i, s:I, s:I, "
	    "s:b, s:b, s:s, s:s, s:s}",
	    "id", (json_int_t)id, "user_id", (json_int_t)uid, "key", key,
	    "name", name, "status", 1, "created_time", (json_int_t)1716000000,
	    "accessed_time", (json_int_t)1716000000, "expired_time", -1,
	    "remain_quota", (json_int_t)remain, "used_quota", (json_int_t)0,
	    "unlimited_quota", unlimited, "model_limits_enabled", *limits != '\0',
	    "model_limits", limits, "allow_ips", "", "group", "");
	free(key);
	return (t);
}

static json_t *
state_default_model(const char *id, const char *owner, double ratio,
    double cratio, const char *endpoints)
{
	json_t	*m, *eps = json_array();
	char	 buf[128], *p, *save = NULL;

	snprintf(buf, sizeof buf, "%s", endpoints);
	for (p = strtok_r(buf, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save))
		json_array_append_new(eps, json_string(p));
	m = json_pack("{s:s, s:s, s:i, s:f, s:f, s:f, s:f, s:[s,s], s:o}",
	    "id", id, "owned_by", owner, "quota_type", 0, "model_ratio", ratio,
	    "completion_ratio", cratio, "model_price", 0.0, "cache_ratio", 0.5,
	    "enable_groups", "default", "vip", "supported_endpoint_types", eps);
	return (m);
}

/* The built-in state: see README, "Default state". */
static json_t *
state_defaults(void)
{
	json_t	*root, *users, *tokens, *models, *groups, *m;

	users = json_array();
	json_array_append_new(users,
	    state_default_user(1, "alice", 2500000, 500000, "default", ""));
	json_array_append_new(users,
	    state_default_user(2, "bob", 1000000, 0, "vip", "123456"));
	json_array_append_new(users,
	    state_default_user(3, "carol", 0, 100000, "default", ""));

	tokens = json_array();
	json_array_append_new(tokens,
	    state_default_token(1, 1, "alice", "default", 1, 0, ""));
	json_array_append_new(tokens,
	    state_default_token(2, 1, "alice", "limited", 0, 100000,
	    "gpt-4o-mini"));
	json_array_append_new(tokens,
	    state_default_token(3, 2, "bob", "bob-key", 1, 0, ""));
	json_array_append_new(tokens,
	    state_default_token(4, 3, "carol", "carol-key", 1, 0, ""));

	models = json_array();
	json_array_append_new(models, state_default_model("gpt-4o-mini",
	    "openai", 1, 2, "openai"));
	json_array_append_new(models, state_default_model("gpt-4o",
	    "openai", 1.25, 4, "openai"));
	json_array_append_new(models, state_default_model(
	    "claude-3-5-sonnet-20241022", "anthropic", 1.5, 5,
	    "anthropic,openai"));
	json_array_append_new(models, state_default_model(
	    "text-embedding-3-small", "openai", 0.1, 1, "openai"));
	m = state_default_model("dall-e-3", "openai", 0, 0, "image-generation");
	state_set_int(m, "quota_type", 1);
	json_object_set_new(m, "model_price", json_real(0.04));
	json_array_append_new(models, m);

	groups = json_pack("{s:{s:i, s:i, s:s, s:s}, s:{s:i, s:f, s:s, s:s}}",
	    "default", "id", 1, "ratio", 1, "desc", "默认分组",
	    "platform", "anthropic",
	    "vip", "id", 2, "ratio", 0.5, "desc", "VIP", "platform", "openai");

	root = json_object();
	json_object_set_new(root, "config", state_default_config());
	json_object_set_new(root, "users", users);
	json_object_set_new(root, "tokens", tokens);
	json_object_set_new(root, "models", models);
	json_object_set_new(root, "groups", groups);
	return (root);
}

/* Give a user or token every field the handlers read. */
static void
state_fill(json_t *o, json_t *dflt)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(dflt, k, v) {
		if (json_object_get(o, k) == NULL)
			json_object_set(o, k, v);
	}
}

static void
state_normalize(void)
{
	json_t		*du, *dt, *dm, *o;
	size_t		 i;
	char		*key;
	const char	*name;
	long long	 gid;

	du = state_default_user(0, "x", 0, 0, "default", "");
	json_array_foreach(state_users(), i, o) {
		if (json_object_get(o, "id") == NULL)
			state_set_int(o, "id", state_next_id("users"));
		if (json_object_get(o, "access_token") == NULL) {
			char	tok[160];

			snprintf(tok, sizeof tok, "access-%s",
			    state_str(o, "username"));
			state_set_str(o, "access_token", tok);
		}
		if (json_object_get(o, "aff_code") == NULL) {
			char	aff[32];

			snprintf(aff, sizeof aff, "Aff%lld",
			    state_int(o, "id"));
			state_set_str(o, "aff_code", aff);
		}
		if (json_object_get(o, "email") == NULL) {
			char	email[160];

			snprintf(email, sizeof email, "%s@example.com",
			    state_str(o, "username"));
			state_set_str(o, "email", email);
		}
		if (json_object_get(o, "display_name") == NULL)
			state_set_str(o, "display_name",
			    state_str(o, "username"));
		state_fill(o, du);
	}
	json_decref(du);

	dt = state_default_token(0, 0, "x", "x", 1, 0, "");
	json_object_del(dt, "model_limits_enabled");
	json_array_foreach(state_tokens(), i, o) {
		if (json_object_get(o, "id") == NULL)
			state_set_int(o, "id", state_next_id("tokens"));
		if (json_object_get(o, "key") == NULL) {
			key = state_key_new(persona_get()->key_style);
			state_set_str(o, "key", key);
			free(key);
		}
		if (json_object_get(o, "model_limits_enabled") == NULL) {
			json_object_set_new(o, "model_limits_enabled",
			    json_boolean(*state_str(o, "model_limits") != '\0'));
		}
		state_fill(o, dt);
	}
	json_decref(dt);

	dm = json_pack("{s:s, s:i, s:f, s:f, s:f, s:f, s:[], s:[s]}",
	    "owned_by", "openai", "quota_type", 0, "model_ratio", 1.0,
	    "completion_ratio", 1.0, "model_price", 0.0, "cache_ratio", 1.0,
	    "enable_groups", "supported_endpoint_types", "openai");
	json_array_foreach(state_models(), i, o) {
		if (json_is_object(o))
			state_fill(o, dm);
	}
	json_decref(dm);

	gid = 0;
	json_object_foreach(state_groups(), name, o) {
		if (state_int(o, "id") > gid)
			gid = state_int(o, "id");
	}
	json_object_foreach(state_groups(), name, o) {
		if (json_is_object(o) && json_object_get(o, "id") == NULL)
			state_set_int(o, "id", ++gid);
	}
}

static int
state_upsert(json_t *array, json_t *patches, const char *alt, char **cause)
{
	size_t	 i;
	json_t	*p, *o;

	if (!json_is_array(patches)) {
		*cause = strdup("patch must be an array");
		return (-1);
	}
	json_array_foreach(patches, i, p) {
		if (!json_is_object(p)) {
			*cause = strdup("patch items must be objects");
			return (-1);
		}
		o = NULL;
		if (json_object_get(p, "id") != NULL)
			o = state_find(array, "id", json_object_get(p, "id"));
		if (o == NULL && json_object_get(p, alt) != NULL)
			o = state_find(array, alt, json_object_get(p, alt));
		if (o != NULL)
			json_object_update(o, p);
		else
			json_array_append_new(array, json_deep_copy(p));
	}
	return (0);
}

/*
 * Apply a state document: "config" merges key by key; "users", "tokens",
 * "models" and "groups" replace their section; "patch_users" and
 * "patch_tokens" update items matched by id (or username / key) and add
 * the rest; "clear_sessions" logs everyone out.
 */
int
state_patch(json_t *doc, char **cause)
{
	static const char	*sections[] = { "users", "tokens", "models" };
	json_t			*v;
	size_t			 i;

	if (!json_is_object(doc)) {
		*cause = strdup("state must be a JSON object");
		return (-1);
	}
	if ((v = json_object_get(doc, "config")) != NULL) {
		if (!json_is_object(v)) {
			*cause = strdup("config must be an object");
			return (-1);
		}
		json_object_update(state_config(), v);
	}
	for (i = 0; i < nitems(sections); i++) {
		if ((v = json_object_get(doc, sections[i])) == NULL)
			continue;
		if (!json_is_array(v)) {
			if (asprintf(cause, "%s must be an array",
			    sections[i]) == -1)
				*cause = NULL;
			return (-1);
		}
		json_object_set_new(state_tree, sections[i], json_deep_copy(v));
	}
	if ((v = json_object_get(doc, "groups")) != NULL) {
		if (!json_is_object(v)) {
			*cause = strdup("groups must be an object");
			return (-1);
		}
		json_object_set_new(state_tree, "groups", json_deep_copy(v));
	}
	if ((v = json_object_get(doc, "patch_users")) != NULL &&
	    state_upsert(state_users(), v, "username", cause) != 0)
		return (-1);
	if ((v = json_object_get(doc, "patch_tokens")) != NULL &&
	    state_upsert(state_tokens(), v, "key", cause) != 0)
		return (-1);
	if (json_is_true(json_object_get(doc, "clear_sessions")))
		json_object_clear(state_sessions);
	state_normalize();
	return (0);
}

int
state_load(const char *path, char **cause)
{
	json_error_t	 err;
	json_t		*doc;
	int		 rc;

	doc = json_load_file(path, 0, &err);
	if (doc == NULL) {
		if (asprintf(cause, "%s:%d: %s", path, err.line,
		    err.text) == -1)
			*cause = NULL;
		return (-1);
	}
	state_lock();
	rc = state_patch(doc, cause);
	if (rc == 0) {
		json_decref(state_seed);
		state_seed = json_deep_copy(state_tree);
	}
	state_unlock();
	json_decref(doc);
	return (rc);
}

void
state_init(void)
{
	pthread_mutexattr_t	attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&state_mutex, &attr);
	pthread_mutexattr_destroy(&attr);

	state_tree = state_defaults();
	state_sessions = json_object();
	state_usage = json_array();
	state_normalize();
	state_seed = json_deep_copy(state_tree);
}

/* Back to the seed (defaults plus --state), clock and sessions cleared. */
void
state_reset(void)
{
	json_decref(state_tree);
	state_tree = json_deep_copy(state_seed);
	json_object_clear(state_sessions);
	json_array_clear(state_usage);
	state_clock_offset = 0;
}

/* The state as GET /__fake/state shows it, plus runtime facts. */
json_t *
state_dump(void)
{
	json_t	*d = json_deep_copy(state_tree);
	char	 today[16], cookie[64];

	state_today(today, sizeof today);
	waf_solve(state_cfg_str("waf_arg1"), cookie, sizeof cookie);
	json_object_set_new(d, "runtime", json_pack("{s:s, s:I, s:I, s:s, "
	    "s:I, s:s}", "personality", persona_get()->name,
	    "now", (json_int_t)state_now(),
	    "clock_offset", (json_int_t)state_clock_offset, "today", today,
	    "sessions", (json_int_t)json_object_size(state_sessions),
	    "waf_cookie", cookie));
	return (d);
}

void
state_log_add(long long uid, int type, long long quota, const char *content,
    const char *model, long long prompt, long long completion,
    const char *token_name)
{
	json_t	*e;

	while (json_array_size(state_usage) >= STATE_MAX_LOG)
		json_array_remove(state_usage, 0);
	e = json_pack("{s:I, s:I, s:i, s:I, s:s, s:s, s:I, s:I, s:s, s:I}",
	    "id", (json_int_t)++state_log_id, "user_id", (json_int_t)uid,
	    "type", type, "quota", (json_int_t)quota,
	    "content", content != NULL ? content : "",
	    "model_name", model != NULL ? model : "",
	    "prompt_tokens", (json_int_t)prompt,
	    "completion_tokens", (json_int_t)completion,
	    "token_name", token_name != NULL ? token_name : "",
	    "created_at", (json_int_t)state_now());
	json_array_append_new(state_usage, e);
}

/* The usage log of one user, newest first. Caller owns the result. */
json_t *
state_log_user(long long uid)
{
	json_t	*out = json_array(), *e;
	size_t	 i;

	for (i = json_array_size(state_usage); i > 0; i--) {
		e = json_array_get(state_usage, i - 1);
		if (state_int(e, "user_id") == uid)
			json_array_append(out, e);
	}
	return (out);
}

/*
 * Sessions are keyed by the opaque cookie value or bearer token. kind is
 * "session", "pending" (password ok, 2FA code still due), "jwt" or
 * "refresh". The table is bounded; when full it is emptied, which tests
 * see as every client being logged out.
 */
char *
state_session_new(long long uid, int ttl, const char *kind)
{
	char	 rnd[49], *id;
	json_t	*s;

	if (json_object_size(state_sessions) >= STATE_MAX_SESSIONS)
		json_object_clear(state_sessions);
	state_random(rnd, sizeof rnd, state_b64url);
	if (strcmp(kind, "refresh") == 0) {
		if (asprintf(&id, "rt_%s", rnd) == -1)
			abort();
	} else if ((id = strdup(rnd)) == NULL)
		abort();
	s = json_pack("{s:I, s:s, s:I}", "user_id", (json_int_t)uid,
	    "kind", kind, "expires", (json_int_t)(ttl > 0 ?
	    state_now() + ttl : 0));
	json_object_set_new(state_sessions, id, s);
	return (id);
}

/* Register a session under a caller-chosen id (a Sub2API JWT). */
void
state_session_put(const char *id, long long uid, long long ttl,
    const char *kind)
{
	if (json_object_size(state_sessions) >= STATE_MAX_SESSIONS)
		json_object_clear(state_sessions);
	json_object_set_new(state_sessions, id, json_pack("{s:I, s:s, s:I}",
	    "user_id", (json_int_t)uid, "kind", kind, "expires",
	    (json_int_t)(ttl > 0 ? state_now() + ttl : 0)));
}

/* A session, or NULL if unknown. Expired ones are returned: callers decide. */
json_t *
state_session_get(const char *id)
{
	if (id == NULL || *id == '\0')
		return (NULL);
	return (json_object_get(state_sessions, id));
}

void
state_session_del(const char *id)
{
	if (id != NULL)
		json_object_del(state_sessions, id);
}

void
state_sessions_clear(void)
{
	json_object_clear(state_sessions);
}

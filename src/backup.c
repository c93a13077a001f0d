/*
 * Backup documents: collecting one from the database, sealing and opening
 * its secrets with a passphrase, and applying an open one.
 *
 * Every section is described by a table of its columns, so collecting,
 * comparing and writing rows is one loop for all of them; only validation
 * and "which local row is this?" differ per section. Applying merges: a
 * row that matches a local one updates it, anything else is added, and
 * nothing local is deleted. It runs in one transaction, so a file that
 * fails half way changes nothing, and applying it twice changes nothing
 * the second time.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "backup.h"
#include "compat.h"
#include "jx.h"
#include "modelpat.h"
#include "notify.h"
#include "route.h"
#include "setting.h"
#include "site.h"
#include "url.h"
#include "vault.h"
#include "xmalloc.h"

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof ((a)[0]))
#endif

enum bctype {
	BC_TEXT,	/* TEXT column, JSON string or null */
	BC_INT,		/* INTEGER column */
	BC_REAL,	/* REAL column */
	BC_BOOL,	/* INTEGER 0/1 column, JSON true/false */
	BC_JSON,	/* TEXT column holding JSON, any JSON value */
	BC_SECRET,	/* sealed BLOB column, JSON string (open) or null */
	BC_REF		/* INTEGER id of another section's row, JSON ref */
};

struct bcol {
	const char	*field;		/* key in the document */
	const char	*column;	/* column in the table */
	enum bctype	 type;
	const char	*ref;		/* BC_REF: the section referred to */
	int		 flags;
#define BC_REQUIRED	0x1		/* an item must have it */
#define BC_ADD_ONLY	0x2		/* written when added, never updated */
#define BC_NOT_NULL	0x4		/* null is not a value for it */
	const char	*mask;		/* BC_SECRET: column of its masked form */
};

/* A row of a column table: field, column and type, then what else it has. */
#define BCOL(f, c, t, ...) \
	{ .field = f, .column = c, .type = t, __VA_ARGS__ }

struct bsection;
typedef int	 (*bcheck_cb)(json_t *, char **);
/* The local row an item is, 0 for none; claimed: rows already matched. */
typedef long long (*bmatch_cb)(struct db *, const struct bsection *,
		     json_t *, const json_t *, struct err *);

struct bsection {
	const char		*name;		/* key in the document */
	const char		*table;
	const struct bcol	*cols;
	bcheck_cb		 check;
	bmatch_cb		 match;
	const char		*ins_cols;	/* also set when a row is added */
	const char		*ins_vals;
	const char		*stamp;		/* set when a row changes */
};

/* The time of the apply: ?1 in every insert and update. */
#define BACKUP_NOW	"?1"
#define BACKUP_STAMPS	"created_at, updated_at", BACKUP_NOW ", " BACKUP_NOW, \
			"updated_at"

static int	 backup_check_site(json_t *, char **);
static int	 backup_check_account(json_t *, char **);
static int	 backup_check_token(json_t *, char **);
static int	 backup_check_model(json_t *, char **);
static int	 backup_check_route(json_t *, char **);
static int	 backup_check_channel(json_t *, char **);
static int	 backup_check_key(json_t *, char **);
static int	 backup_check_notify(json_t *, char **);
static long long backup_match_site(struct db *, const struct bsection *,
		     json_t *, const json_t *,
		     struct err *);
static long long backup_match_account(struct db *, const struct bsection *,
		     json_t *, const json_t *,
		     struct err *);
static long long backup_match_token(struct db *, const struct bsection *,
		     json_t *, const json_t *,
		     struct err *);
static long long backup_match_model(struct db *, const struct bsection *,
		     json_t *, const json_t *,
		     struct err *);
static long long backup_match_route(struct db *, const struct bsection *,
		     json_t *, const json_t *,
		     struct err *);
static long long backup_match_channel(struct db *, const struct bsection *,
		     json_t *, const json_t *,
		     struct err *);
static long long backup_match_key(struct db *, const struct bsection *,
		     json_t *, const json_t *,
		     struct err *);
static long long backup_match_notify(struct db *, const struct bsection *,
		     json_t *, const json_t *,
		     struct err *);

static const struct bcol backup_site_cols[] = {
	BCOL("name", "name", BC_TEXT, .flags = BC_REQUIRED|BC_NOT_NULL),
	BCOL("url", "url", BC_TEXT, .flags = BC_REQUIRED|BC_NOT_NULL),
	BCOL("platform", "platform", BC_TEXT, .flags = BC_REQUIRED|BC_NOT_NULL),
	BCOL("proxy_url", "proxy_url", BC_TEXT),	/* redacted if sealed */
	BCOL("proxy", "proxy_sealed", BC_SECRET),	/* one with a password */
	BCOL("weight", "weight", BC_REAL, .flags = BC_NOT_NULL),
	BCOL("enabled", "enabled", BC_BOOL, .flags = BC_NOT_NULL),
	BCOL("probe", "probe", BC_BOOL, .flags = BC_NOT_NULL),
	BCOL("header_names", "header_names", BC_JSON, .flags = BC_NOT_NULL),
	BCOL("headers", "headers_sealed", BC_SECRET),
	{ 0 }
};

static const struct bcol backup_account_cols[] = {
	BCOL("site", "site_id", BC_REF, .ref = "sites", .flags = BC_REQUIRED),
	BCOL("label", "label", BC_TEXT),
	BCOL("username", "username", BC_TEXT),
	BCOL("user_id", "user_id", BC_TEXT),
	BCOL("kind", "credential_kind", BC_TEXT,
	    .flags = BC_REQUIRED|BC_NOT_NULL),
	BCOL("credential", "credential_sealed", BC_SECRET, .flags = BC_REQUIRED,
	    .mask = "credential_mask"),
	BCOL("password", "password_sealed", BC_SECRET),
	BCOL("session", "session_sealed", BC_SECRET),
	BCOL("status", "status", BC_TEXT, .flags = BC_NOT_NULL),
	BCOL("status_before_site", "status_before_site", BC_TEXT),
	BCOL("checkin_enabled", "checkin_enabled", BC_BOOL,
	    .flags = BC_NOT_NULL),
	BCOL("extra", "extra", BC_JSON, .flags = BC_NOT_NULL),
	BCOL("balance_usd", "balance_usd", BC_REAL, .flags = BC_ADD_ONLY),
	BCOL("used_usd", "used_usd", BC_REAL, .flags = BC_ADD_ONLY),
	BCOL("group", "user_group", BC_TEXT, .flags = BC_ADD_ONLY),
	BCOL("request_count", "request_count", BC_INT, .flags = BC_ADD_ONLY),
	{ 0 }
};

static const struct bcol backup_token_cols[] = {
	BCOL("account", "account_id", BC_REF, .ref = "accounts",
	    .flags = BC_REQUIRED),
	BCOL("remote_id", "remote_id", BC_TEXT),
	BCOL("name", "name", BC_TEXT, .flags = BC_NOT_NULL),
	BCOL("token", "token_sealed", BC_SECRET, .mask = "token_mask"),
	BCOL("group", "token_group", BC_TEXT),
	BCOL("value_status", "value_status", BC_TEXT, .flags = BC_NOT_NULL),
	BCOL("source", "source", BC_TEXT, .flags = BC_NOT_NULL),
	BCOL("enabled", "enabled", BC_BOOL, .flags = BC_NOT_NULL),
	BCOL("is_default", "is_default", BC_BOOL, .flags = BC_NOT_NULL),
	BCOL("unlimited", "unlimited", BC_BOOL, .flags = BC_NOT_NULL),
	BCOL("expires_at", "expires_at", BC_INT),
	{ 0 }
};

static const struct bcol backup_model_cols[] = {
	BCOL("account", "account_id", BC_REF, .ref = "accounts",
	    .flags = BC_REQUIRED),
	BCOL("token", "token_id", BC_REF, .ref = "tokens"),
	BCOL("model", "model", BC_TEXT, .flags = BC_REQUIRED|BC_NOT_NULL),
	BCOL("manual", "is_manual", BC_BOOL, .flags = BC_NOT_NULL),
	{ 0 }
};

static const struct bcol backup_route_cols[] = {
	BCOL("pattern", "pattern", BC_TEXT, .flags = BC_REQUIRED|BC_NOT_NULL),
	BCOL("alias", "alias", BC_TEXT),
	BCOL("strategy", "strategy", BC_TEXT, .flags = BC_NOT_NULL),
	BCOL("model_map", "model_map", BC_JSON, .flags = BC_NOT_NULL),
	BCOL("enabled", "enabled", BC_BOOL, .flags = BC_NOT_NULL),
	BCOL("manual", "manual", BC_BOOL, .flags = BC_NOT_NULL),
	BCOL("members", "members", BC_JSON),	/* group routes */
	{ 0 }
};

static const struct bcol backup_channel_cols[] = {
	BCOL("route", "route_id", BC_REF, .ref = "routes", .flags = BC_REQUIRED),
	BCOL("account", "account_id", BC_REF, .ref = "accounts",
	    .flags = BC_REQUIRED),
	BCOL("token", "token_id", BC_REF, .ref = "tokens"),
	BCOL("source_model", "source_model", BC_TEXT),
	BCOL("priority", "priority", BC_INT, .flags = BC_NOT_NULL),
	BCOL("weight", "weight", BC_INT, .flags = BC_NOT_NULL),
	BCOL("enabled", "enabled", BC_BOOL, .flags = BC_NOT_NULL),
	BCOL("manual", "manual", BC_BOOL, .flags = BC_NOT_NULL),
	{ 0 }
};

static const struct bcol backup_key_cols[] = {
	BCOL("name", "name", BC_TEXT, .flags = BC_REQUIRED|BC_NOT_NULL),
	BCOL("key", "key_sealed", BC_SECRET, .flags = BC_REQUIRED,
	    .mask = "key_mask"),
	BCOL("models", "models", BC_JSON, .flags = BC_NOT_NULL),
	BCOL("expires_at", "expires_at", BC_INT),
	BCOL("max_cost_usd", "max_cost_usd", BC_REAL),
	BCOL("max_requests", "max_requests", BC_INT),
	BCOL("enabled", "enabled", BC_BOOL, .flags = BC_NOT_NULL),
	BCOL("used_cost_usd", "used_cost_usd", BC_REAL,
	    .flags = BC_ADD_ONLY|BC_NOT_NULL),
	BCOL("used_requests", "used_requests", BC_INT,
	    .flags = BC_ADD_ONLY|BC_NOT_NULL),
	{ 0 }
};

static const struct bcol backup_notify_cols[] = {
	BCOL("kind", "kind", BC_TEXT, .flags = BC_REQUIRED|BC_NOT_NULL),
	BCOL("config", "config", BC_JSON, .flags = BC_NOT_NULL),
	BCOL("secret", "secret_sealed", BC_SECRET, .mask = "secret_mask"),
	BCOL("enabled", "enabled", BC_BOOL, .flags = BC_NOT_NULL),
	{ 0 }
};

/* In the order they are applied: a section refers only to earlier ones. */
static const struct bsection backup_sections[] = {
	{ "sites", "sites", backup_site_cols, backup_check_site,
	  backup_match_site, BACKUP_STAMPS },
	{ "accounts", "accounts", backup_account_cols, backup_check_account,
	  backup_match_account, BACKUP_STAMPS },
	{ "tokens", "upstream_tokens", backup_token_cols, backup_check_token,
	  backup_match_token, BACKUP_STAMPS },
	{ "models", "model_availability", backup_model_cols,
	  backup_check_model, backup_match_model, "checked_at", BACKUP_NOW,
	  "checked_at" },
	{ "routes", "routes", backup_route_cols, backup_check_route,
	  backup_match_route, BACKUP_STAMPS },
	{ "channels", "channels", backup_channel_cols, backup_check_channel,
	  backup_match_channel, BACKUP_STAMPS },
	/* A placeholder hash until the key's own is written. */
	{ "keys", "api_keys", backup_key_cols, backup_check_key,
	  backup_match_key, "key_hash, key_mask, created_at, updated_at",
	  "randomblob(32), '', " BACKUP_NOW ", " BACKUP_NOW, "updated_at" },
	{ "notify", "notify_channels", backup_notify_cols, backup_check_notify,
	  backup_match_notify, BACKUP_STAMPS },
};

/* The column named in a vault AD: "credential_sealed" -> "credential". */
static char *
backup_ad(const struct bsection *s, const struct bcol *c, long long id)
{
	char	*col, *ad;

	col = xstrndup(c->column, strlen(c->column) - strlen("_sealed"));
	ad = vault_ad(s->table, col, id);
	free(col);
	return (ad);
}

static void	backup_wipe_items(const struct bsection *, json_t *);
static void	backup_wipe_settings(json_t *);

/* --- Collecting ----------------------------------------------------- */

static char *
backup_select(const struct bsection *s)
{
	const struct bcol	*c;
	char			*sql, *t;

	sql = xstrdup("SELECT id");
	for (c = s->cols; c->field != NULL; c++) {
		xasprintf(&t, "%s, %s", sql, c->column);
		free(sql);
		sql = t;
	}
	xasprintf(&t, "%s FROM %s", sql, s->table);
	free(sql);
	return (t);
}

/* Row st (id first, then the section's columns) as an open document item. */
static json_t *
backup_row(const struct bsection *s, struct db_stmt *st, struct err *e)
{
	const struct bcol	*c;
	json_t			*o, *v = NULL;
	long long		 id = db_col_int64(st, 0);
	char			*ad, *plain, *cause;
	int			 i;

	o = json_pack("{s:I}", "ref", (json_int_t)id);
	for (c = s->cols, i = 1; c->field != NULL; c++, i++) {
		if (db_col_type(st, i) == DB_NULL) {
			json_object_set_new(o, c->field, json_null());
			continue;
		}
		switch (c->type) {
		case BC_TEXT:
			v = json_string(db_col_text(st, i));
			break;
		case BC_INT:
		case BC_REF:
			v = json_integer(db_col_int64(st, i));
			break;
		case BC_REAL:
			v = json_real(db_col_double(st, i));
			break;
		case BC_BOOL:
			v = json_boolean(db_col_int(st, i));
			break;
		case BC_JSON:
			v = json_loads(db_col_text(st, i), JSON_DECODE_ANY,
			    NULL);
			break;
		case BC_SECRET:
			ad = backup_ad(s, c, id);
			plain = vault_unseal(ad, db_col_blob(st, i),
			    db_col_bytes(st, i), &cause);
			free(ad);
			if (plain == NULL) {
				err_set(e, ERR_STORAGE, "%s %lld: %s: %s",
				    s->name, id, c->field, cause);
				free(cause);
				json_decref(o);
				return (NULL);
			}
			v = json_string(plain);
			vault_secret_free(plain);
			break;
		}
		json_object_set_new(o, c->field, v != NULL ? v : json_null());
	}
	return (o);
}

static json_t *
backup_collect_section(struct db *db, const struct bsection *s,
    long long only, struct err *e)
{
	struct db_stmt	*st;
	json_t		*items, *o;
	char		*sql, *t;
	int		 rc;

	sql = backup_select(s);
	if (only != 0) {
		xasprintf(&t, "%s WHERE id = %lld", sql, only);
		free(sql);
		sql = t;
	}
	xasprintf(&t, "%s ORDER BY id", sql);
	free(sql);
	st = db_prepare_err(db, t, e);
	free(t);
	if (st == NULL)
		return (NULL);
	items = json_array();
	while ((rc = db_step(st)) == DB_ROW) {
		if ((o = backup_row(s, st, e)) == NULL)
			goto fail;
		json_array_append_new(items, o);
	}
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	db_finalize(st);
	return (items);
fail:
	db_finalize(st);
	backup_wipe_items(s, items);
	json_decref(items);
	return (NULL);
}

/* Settings in clear, secret ones too: the open document holds them so. */
static json_t *
backup_collect_settings(struct db *db, struct err *e)
{
	const struct setting_entry	*se;
	struct db_stmt			*st;
	json_t				*o;
	char				*plain, *cause;

	if ((st = db_prepare_err(db, "SELECT key, value FROM settings "
	    "ORDER BY key", e)) == NULL)
		return (NULL);
	o = json_object();
	while (db_step(st) == DB_ROW) {
		if ((se = setting_find(db_col_text(st, 0))) == NULL)
			continue;
		if ((plain = setting_open(se, db_col_text(st, 1), &cause)) ==
		    NULL) {
			err_set(e, ERR_STORAGE, "setting %s: %s", se->name,
			    cause);
			free(cause);
			db_finalize(st);
			backup_wipe_settings(o);
			json_decref(o);
			return (NULL);
		}
		json_object_set_new(o, se->name, json_string(plain));
		vault_plain_free(plain);
	}
	db_finalize(st);
	return (o);
}

/* The whole configuration as an open document. */
json_t *
backup_collect(struct db *db, struct err *e)
{
	json_t		*doc, *items;
	char		 when[32];
	time_t		 now = time(NULL);
	size_t		 i;

	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	doc = json_pack("{s:s, s:i, s:s, s:s}", "format", BACKUP_FORMAT,
	    "version", BACKUP_VERSION, "created_at", when, "metapi",
	    PACKAGE_VERSION);
	for (i = 0; i < nitems(backup_sections); i++) {
		items = backup_collect_section(db, &backup_sections[i], 0, e);
		if (items == NULL)
			goto fail;
		json_object_set_new(doc, backup_sections[i].name, items);
	}
	if ((items = backup_collect_settings(db, e)) == NULL)
		goto fail;
	json_object_set_new(doc, "settings", items);
	return (doc);
fail:
	backup_wipe(doc);
	json_decref(doc);
	return (NULL);
}

/* Zero the secret strings of one section's items before they are freed. */
static void
backup_wipe_items(const struct bsection *s, json_t *items)
{
	const struct bcol	*c;
	json_t			*it, *v;
	size_t			 j;

	json_array_foreach(items, j, it) {
		for (c = s->cols; c->field != NULL; c++) {
			v = json_object_get(it, c->field);
			if (c->type == BC_SECRET && json_is_string(v))
				sodium_memzero((char *)json_string_value(v),
				    json_string_length(v));
		}
	}
}

/* Zero the values of the secret settings. */
static void
backup_wipe_settings(json_t *settings)
{
	const struct setting_entry	*se;
	const char			*k;
	json_t				*v;

	json_object_foreach(settings, k, v) {
		if ((se = setting_find(k)) != NULL && se->secret &&
		    json_is_string(v))
			sodium_memzero((char *)json_string_value(v),
			    json_string_length(v));
	}
}

/* Zero every secret string of an open document before it is freed. */
void
backup_wipe(json_t *doc)
{
	size_t	i;

	for (i = 0; i < nitems(backup_sections); i++)
		backup_wipe_items(&backup_sections[i],
		    json_object_get(doc, backup_sections[i].name));
	backup_wipe_settings(json_object_get(doc, "settings"));
}

/* --- Sealing ------------------------------------------------------------ */

struct backup_key {
	uint8_t	k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
};

static int
backup_derive(const char *pass, const json_t *kdf, struct backup_key *key,
    struct err *e)
{
	const char	*salt64 = jx_str(kdf, "salt"), *alg = jx_str(kdf, "alg");
	uint8_t		 salt[crypto_pwhash_SALTBYTES];
	size_t		 saltlen;
	long long	 ops, mem;

	if (alg == NULL || strcmp(alg, "argon2id13") != 0 || salt64 == NULL ||
	    sodium_base642bin(salt, sizeof salt, salt64, strlen(salt64), NULL,
	    &saltlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    saltlen != sizeof salt || jx_int(kdf, "opslimit", &ops) != 0 ||
	    jx_int(kdf, "memlimit", &mem) != 0) {
		err_set(e, ERR_INVALID, "backup file: bad \"kdf\" block");
		return (-1);
	}
	/* A hostile file must not make the daemon spend minutes or GiBs. */
	if (ops < (long long)crypto_pwhash_OPSLIMIT_MIN ||
	    ops > (long long)crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    mem < (long long)crypto_pwhash_MEMLIMIT_MIN ||
	    mem > (long long)crypto_pwhash_MEMLIMIT_SENSITIVE) {
		err_set(e, ERR_INVALID, "backup file: key derivation limits "
		    "out of range");
		return (-1);
	}
	if (crypto_pwhash(key->k, sizeof key->k, pass, strlen(pass), salt,
	    (unsigned long long)ops, (size_t)mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		err_set(e, ERR_INTERNAL, "out of memory deriving the backup "
		    "key");
		return (-1);
	}
	return (0);
}

static char *
backup_seal_one(const struct backup_key *key, const char *ad,
    const char *plain)
{
	size_t		 len = strlen(plain), blen, b64len;
	uint8_t		*blob;
	char		*b64;

	blen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + len +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES;
	blob = xmalloc(blen);
	randombytes_buf(blob, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob +
	    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL,
	    (const uint8_t *)plain, len, (const uint8_t *)ad, strlen(ad), NULL,
	    blob, key->k);
	b64len = sodium_base64_encoded_len(blen,
	    sodium_base64_VARIANT_ORIGINAL);
	b64 = xmalloc(b64len);
	sodium_bin2base64(b64, b64len, blob, blen,
	    sodium_base64_VARIANT_ORIGINAL);
	free(blob);
	return (b64);
}

/* NULL when the text is not a sealed value under this key and AD. */
static char *
backup_open_one(const struct backup_key *key, const char *ad, const char *b64)
{
	size_t		 n = strlen(b64), blen;
	uint8_t		*blob;
	char		*plain;
	unsigned long long plen;

	blob = xmalloc(n);
	if (sodium_base642bin(blob, n, b64, n, NULL, &blen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    blen < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES) {
		free(blob);
		return (NULL);
	}
	plain = xmalloc(blen + 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)plain, &plen,
	    NULL, blob + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    blen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    (const uint8_t *)ad, strlen(ad), blob, key->k) != 0) {
		free(blob);
		free(plain);
		return (NULL);
	}
	free(blob);
	plain[plen] = '\0';
	if (strlen(plain) != plen) {		/* a NUL inside: not ours */
		sodium_memzero(plain, plen);
		free(plain);
		return (NULL);
	}
	return (plain);
}

#define BACKUP_CHECK	"metapi-backup passphrase check"

/*
 * The secret settings of a document: sealed values start with
 * SETTING_SEALED; on opening, one without it (a file from before they
 * were sealed) is taken as it is.
 */
static int
backup_walk_settings(json_t *settings, const struct backup_key *key,
    int open, struct err *e)
{
	const struct setting_entry	*se;
	const char			*k, *v;
	size_t				 n = strlen(SETTING_SEALED);
	json_t				*jv;
	char				*ad, *out, *t;

	json_object_foreach(settings, k, jv) {
		if ((se = setting_find(k)) == NULL || !se->secret ||
		    (v = json_string_value(jv)) == NULL || *v == '\0')
			continue;
		if (open && strncmp(v, SETTING_SEALED, n) != 0)
			continue;
		xasprintf(&ad, "%s:settings.%s", BACKUP_FORMAT, k);
		out = open ? backup_open_one(key, ad, v + n) :
		    backup_seal_one(key, ad, v);
		free(ad);
		if (out == NULL) {
			err_set(e, ERR_INVALID, "backup file: setting %s does "
			    "not open with this passphrase", k);
			return (-1);
		}
		if (!open) {
			sodium_memzero((char *)v, strlen(v));
			xasprintf(&t, "%s%s", SETTING_SEALED, out);
			free(out);
			out = t;
		}
		json_object_set_new(settings, k, json_string(out));
		sodium_memzero(out, strlen(out));
		free(out);
	}
	return (0);
}

/*
 * Walk every secret of the document: seal (open == 0) or open each in
 * place. The AD names the field, so a value cannot be moved to another.
 */
static int
backup_walk(json_t *doc, const struct backup_key *key, int open,
    struct err *e)
{
	const struct bsection	*s;
	const struct bcol	*c;
	json_t			*items, *it, *v;
	char			*ad, *out;
	size_t			 i, j;

	for (i = 0; i < nitems(backup_sections); i++) {
		s = &backup_sections[i];
		items = json_object_get(doc, s->name);
		json_array_foreach(items, j, it) {
			for (c = s->cols; c->field != NULL; c++) {
				if (c->type != BC_SECRET ||
				    !json_is_string(v = json_object_get(it,
				    c->field)))
					continue;
				xasprintf(&ad, "%s:%s.%s", BACKUP_FORMAT,
				    s->name, c->field);
				out = open ? backup_open_one(key, ad,
				    json_string_value(v)) :
				    backup_seal_one(key, ad,
				    json_string_value(v));
				free(ad);
				if (out == NULL) {
					err_set(e, ERR_INVALID, "backup file: "
					    "%s[%zu].%s does not open with "
					    "this passphrase", s->name, j,
					    c->field);
					return (-1);
				}
				if (!open)
					sodium_memzero((char *)
					    json_string_value(v),
					    json_string_length(v));
				json_object_set_new(it, c->field,
				    json_string(out));
				sodium_memzero(out, strlen(out));
				free(out);
			}
		}
	}
	return (backup_walk_settings(json_object_get(doc, "settings"), key,
	    open, e));
}

/* Seal the secrets of an open document with a key from the passphrase. */
int
backup_seal(json_t *doc, const char *pass, struct err *e)
{
	struct backup_key	 key;
	uint8_t			 salt[crypto_pwhash_SALTBYTES];
	char			 salt64[64], *check;
	json_t			*kdf;
	int			 rc;

	if (strlen(pass) < BACKUP_PASS_MIN) {
		err_set(e, ERR_INVALID, "passphrase too short: at least %d "
		    "characters", BACKUP_PASS_MIN);
		return (-1);
	}
	randombytes_buf(salt, sizeof salt);
	sodium_bin2base64(salt64, sizeof salt64, salt, sizeof salt,
	    sodium_base64_VARIANT_ORIGINAL);
	kdf = json_pack("{s:s, s:s, s:I, s:I}", "alg", "argon2id13", "salt",
	    salt64, "opslimit", (json_int_t)crypto_pwhash_OPSLIMIT_MODERATE,
	    "memlimit", (json_int_t)crypto_pwhash_MEMLIMIT_MODERATE);
	if (backup_derive(pass, kdf, &key, e) != 0) {
		json_decref(kdf);
		return (-1);
	}
	json_object_set_new(doc, "kdf", kdf);
	check = backup_seal_one(&key, BACKUP_FORMAT ":check", BACKUP_CHECK);
	json_object_set_new(doc, "check", json_string(check));
	free(check);
	rc = backup_walk(doc, &key, 0, e);
	sodium_memzero(&key, sizeof key);
	return (rc);
}

int
backup_is_sealed(const json_t *doc)
{
	return (json_is_object(json_object_get(doc, "kdf")));
}

/* Open a sealed document in place; a wrong passphrase changes nothing. */
int
backup_open(json_t *doc, const char *pass, struct err *e)
{
	struct backup_key	 key;
	const char		*check = jx_str(doc, "check");
	char			*plain;
	int			 rc;

	if (check == NULL) {
		err_set(e, ERR_INVALID, "backup file: no \"check\" value");
		return (-1);
	}
	if (backup_derive(pass, json_object_get(doc, "kdf"), &key, e) != 0)
		return (-1);
	plain = backup_open_one(&key, BACKUP_FORMAT ":check", check);
	if (plain == NULL || strcmp(plain, BACKUP_CHECK) != 0) {
		free(plain);
		sodium_memzero(&key, sizeof key);
		err_set(e, ERR_UNAUTHORIZED, "wrong passphrase, or the backup "
		    "file was changed");
		return (-1);
	}
	free(plain);
	rc = backup_walk(doc, &key, 1, e);
	sodium_memzero(&key, sizeof key);
	json_object_del(doc, "kdf");
	json_object_del(doc, "check");
	return (rc);
}

/* --- Applying ------------------------------------------------------------ */

struct backup_apply {
	struct db	*db;
	int		 strict;	/* our own format: a bad item fails all */
	json_t		*refs;		/* section -> {"ref": local id} */
	json_t		*report;	/* section -> {added, updated, ...} */
	json_t		*warnings;
};

static void
backup_count(struct backup_apply *a, const char *section, const char *what)
{
	json_t		*r, *n;

	if ((r = json_object_get(a->report, section)) == NULL) {
		r = json_pack("{s:i, s:i, s:i, s:i}", "added", 0, "updated", 0,
		    "unchanged", 0, "skipped", 0);
		json_object_set_new(a->report, section, r);
	}
	n = json_object_get(r, what);
	json_integer_set(n, json_integer_value(n) + 1);
}

/*
 * Check an item's fields against the column table, converting numbers to
 * the column's type in place, so values compare equal to what the
 * database gives back.
 */
static int
backup_check_types(const struct bsection *s, json_t *it, char **why)
{
	const struct bcol	*c;
	json_t			*v;
	double			 d;

	if (!json_is_object(it)) {
		*why = xstrdup("not an object");
		return (-1);
	}
	for (c = s->cols; c->field != NULL; c++) {
		v = json_object_get(it, c->field);
		if (v == NULL || json_is_null(v)) {
			if ((c->flags & BC_REQUIRED) ||
			    (v != NULL && (c->flags & BC_NOT_NULL))) {
				xasprintf(why, "\"%s\" is missing", c->field);
				return (-1);
			}
			continue;
		}
		switch (c->type) {
		case BC_TEXT:
		case BC_SECRET:
			if (!json_is_string(v))
				goto bad;
			if (strlen(json_string_value(v)) !=
			    json_string_length(v)) {
				xasprintf(why, "\"%s\" holds a NUL byte",
				    c->field);
				return (-1);
			}
			break;
		case BC_INT:
		case BC_REF:
			if (!json_is_number(v))
				goto bad;
			d = json_number_value(v);
			if (d != floor(d) || fabs(d) > 9e15)
				goto bad;
			json_object_set_new(it, c->field,
			    json_integer((json_int_t)d));
			break;
		case BC_REAL:
			if (!json_is_number(v) || !isfinite(json_number_value(v)))
				goto bad;
			json_object_set_new(it, c->field,
			    json_real(json_number_value(v)));
			break;
		case BC_BOOL:
			if (!json_is_boolean(v))
				goto bad;
			break;
		case BC_JSON:
			break;
		}
	}
	return (0);
bad:
	xasprintf(why, "\"%s\" has the wrong type", c->field);
	return (-1);
}

static int
backup_enum(const json_t *it, const char *field, const char *const *ok,
    char **why)
{
	const char	*v = jx_str(it, field);

	if (v == NULL)
		return (0);
	for (; *ok != NULL; ok++)
		if (strcmp(*ok, v) == 0)
			return (0);
	xasprintf(why, "%s \"%s\" is not known", field, v);
	return (-1);
}

static int
backup_name_ok(const char *name, char **why)
{
	const char	*p;

	if (name == NULL)
		return (0);
	if (*name == '\0' || strlen(name) > 64) {
		*why = xstrdup("a name must be 1 to 64 bytes");
		return (-1);
	}
	for (p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = xstrdup("a name has control characters");
			return (-1);
		}
	return (0);
}

static int
backup_check_site(json_t *it, char **why)
{
	const char	*p = jx_str(it, "platform"), *proxy;
	double		 w;
	char		*shown;

	if (backup_name_ok(jx_str(it, "name"), why) != 0)
		return (-1);
	if (strspn(jx_str(it, "name"), "0123456789") ==
	    strlen(jx_str(it, "name"))) {
		*why = xstrdup("a site name is all digits");
		return (-1);
	}
	if (url_check(jx_str(it, "url"), URL_HTTP, why) != 0)
		return (-1);
	if (!site_platform_ok(p)) {
		xasprintf(why, "unknown platform \"%s\"", p);
		return (-1);
	}
	/*
	 * The proxy in full is "proxy" when it has a password, else
	 * "proxy_url". Files from before "proxy" existed (and conversions)
	 * have it in proxy_url either way: move a password to where it is
	 * sealed, and keep proxy_url redacted, as site_store_proxy() does.
	 */
	if (jx_str(it, "proxy") == NULL &&
	    (proxy = jx_str(it, "proxy_url")) != NULL &&
	    url_has_userinfo(proxy))
		json_object_set_new(it, "proxy", json_string(proxy));
	if ((proxy = jx_str(it, "proxy")) == NULL)
		proxy = jx_str(it, "proxy_url");
	if (proxy != NULL) {
		if (url_check(proxy, URL_HTTP|URL_PROXY, why) != 0)
			return (-1);
		shown = url_redact(proxy);
		json_object_set_new(it, "proxy_url", json_string(shown));
		free(shown);
	}
	if (jx_real(it, "weight", &w) == 0 && !(w > 0 && w <= 1000)) {
		*why = xstrdup("weight must be above 0 and at most 1000");
		return (-1);
	}
	return (0);
}

static int
backup_check_account(json_t *it, char **why)
{
	static const char *const kinds[] = { "password", "access_token",
	    "cookie", "api_key", NULL };
	static const char *const states[] = { "active", "disabled", "expired",
	    NULL };

	if (backup_enum(it, "kind", kinds, why) != 0 ||
	    backup_enum(it, "status", states, why) != 0 ||
	    backup_enum(it, "status_before_site", states, why) != 0)
		return (-1);
	if (*jx_str(it, "credential") == '\0') {
		*why = xstrdup("empty credential");
		return (-1);
	}
	if (strcmp(jx_str(it, "kind"), "password") == 0 &&
	    (jx_str(it, "username") == NULL || *jx_str(it, "username") == 0)) {
		*why = xstrdup("a password account without a username");
		return (-1);
	}
	if (json_object_get(it, "extra") != NULL &&
	    !json_is_object(json_object_get(it, "extra"))) {
		*why = xstrdup("\"extra\" is not an object");
		return (-1);
	}
	return (0);
}

static int
backup_check_token(json_t *it, char **why)
{
	static const char *const states[] = { "ready", "masked_pending",
	    NULL };
	const char	*tok = jx_str(it, "token");

	if (backup_enum(it, "value_status", states, why) != 0)
		return (-1);
	if (tok != NULL && (*tok == '\0' || strchr(tok, '*') != NULL)) {
		*why = xstrdup("the token is empty or masked");
		return (-1);
	}
	if (tok == NULL && jx_str(it, "remote_id") == NULL) {
		*why = xstrdup("a token with neither a value nor a remote id");
		return (-1);
	}
	return (0);
}

static int
backup_check_model(json_t *it, char **why)
{
	const char	*m = jx_str(it, "model");

	if (*m == '\0' || strlen(m) > 256 || strpbrk(m, "\r\n\t") != NULL) {
		*why = xstrdup("bad model name");
		return (-1);
	}
	return (0);
}

static int
backup_patterns_ok(const json_t *list, char **why)
{
	struct modelpat	*mp;
	struct err	 e = { ERR_OK, NULL };
	json_t		*v;
	size_t		 i;

	json_array_foreach(list, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0) {
			*why = xstrdup("a model pattern is not a string");
			return (-1);
		}
	}
	if ((mp = modelpat_compile(list, &e)) == NULL) {
		*why = e.msg;
		return (-1);
	}
	modelpat_free(mp);
	return (0);
}

static int
backup_check_route(json_t *it, char **why)
{
	static const char *const strategies[] = { "weighted", "round_robin",
	    "stable_first", NULL };
	json_t		*one, *map;
	int		 rc;

	if (backup_enum(it, "strategy", strategies, why) != 0)
		return (-1);
	one = json_pack("[s]", jx_str(it, "pattern"));
	rc = backup_patterns_ok(one, why);
	json_decref(one);
	if (rc != 0)
		return (-1);
	if ((map = json_object_get(it, "model_map")) != NULL &&
	    !json_is_object(map)) {
		*why = xstrdup("\"model_map\" is not an object");
		return (-1);
	}
	if ((map = json_object_get(it, "members")) != NULL &&
	    !json_is_null(map) && !json_is_array(map)) {
		*why = xstrdup("\"members\" is not a list");
		return (-1);
	}
	return (0);
}

static int
backup_check_channel(json_t *it, char **why)
{
	long long	 w;

	if (jx_int(it, "weight", &w) == 0 && (w < 0 || w > 1000000)) {
		*why = xstrdup("weight out of range");
		return (-1);
	}
	return (0);
}

static int
backup_check_key(json_t *it, char **why)
{
	json_t		*models = json_object_get(it, "models");
	double		 d;
	long long	 n;

	if (backup_name_ok(jx_str(it, "name"), why) != 0)
		return (-1);
	if (strlen(jx_str(it, "key")) < 8 || strpbrk(jx_str(it, "key"),
	    " \t\r\n") != NULL) {
		*why = xstrdup("a key must be at least 8 characters without "
		    "white space");
		return (-1);
	}
	if (models != NULL && (!json_is_array(models) ||
	    json_array_size(models) == 0 || backup_patterns_ok(models,
	    why) != 0)) {
		if (*why == NULL)
			*why = xstrdup("\"models\" is not a list of patterns");
		return (-1);
	}
	if ((jx_real(it, "max_cost_usd", &d) == 0 && d < 0) ||
	    (jx_int(it, "max_requests", &n) == 0 && n < 0)) {
		*why = xstrdup("negative limit");
		return (-1);
	}
	return (0);
}

/*
 * Foreign files carry a channel as the arguments `notify add` takes;
 * the kind's own parser turns them into its config and secret.
 */
static int
backup_check_notify(json_t *it, char **why)
{
	const struct notify_entry	*ne;
	struct err			 e = { ERR_OK, NULL };
	json_t				*args, *config;
	char				*secret = NULL;

	if ((ne = notify_find(jx_str(it, "kind"))) == NULL) {
		xasprintf(why, "unknown channel kind \"%s\"",
		    jx_str(it, "kind"));
		return (-1);
	}
	if ((args = json_object_get(it, "args")) == NULL) {
		if (!json_is_object(json_object_get(it, "config"))) {
			*why = xstrdup("\"config\" is not an object");
			return (-1);
		}
		return (0);
	}
	config = json_object();
	if (ne->config(args, config, &secret, &e) != 0) {
		json_decref(config);
		*why = e.msg;
		return (-1);
	}
	json_object_set_new(it, "config", config);
	if (secret != NULL) {
		json_object_set_new(it, "secret", json_string(secret));
		sodium_memzero(secret, strlen(secret));
		free(secret);
	}
	json_object_del(it, "args");
	return (0);
}

/* --- Which local row is it? -------------------------------------------- */

/*
 * A statement with its parameters bound from the arguments, one per
 * letter of types: 'i' a long long, 's' a string (NULL binds null), 'h' a
 * VAULT_HASH_LEN hash. NULL (with e set) when it does not prepare.
 */
static struct db_stmt *
backup_query(struct db *db, struct err *e, const char *sql,
    const char *types, ...)
{
	struct db_stmt	*st;
	va_list		 ap;
	int		 i;

	if ((st = db_prepare_err(db, sql, e)) == NULL)
		return (NULL);
	va_start(ap, types);
	for (i = 1; types[i - 1] != '\0'; i++) {
		switch (types[i - 1]) {
		case 'i':
			db_bind_int64(st, i, va_arg(ap, long long));
			break;
		case 's':
			db_bind_text(st, i, va_arg(ap, const char *));
			break;
		case 'h':
			db_bind_blob(st, i, va_arg(ap, const uint8_t *),
			    VAULT_HASH_LEN);
			break;
		}
	}
	va_end(ap);
	return (st);
}

/* The first column of st's first row (0: no row, -1: error), finalized. */
static long long
backup_id(struct db *db, struct db_stmt *st, struct err *e)
{
	long long	 id = 0;
	int		 rc;

	if (st == NULL)
		return (-1);
	if ((rc = db_step(st)) == DB_ROW)
		id = db_col_int64(st, 0);
	else if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		id = -1;
	}
	db_finalize(st);
	return (id);
}

/*
 * The first row of st (id, sealed column) whose sealed column opens to
 * `want`. Credentials identify accounts and tokens that
 * have no other name.
 */
static long long
backup_id_by_secret(struct db *db, struct db_stmt *st, const char *table,
    const char *col, const char *want, struct err *e)
{
	long long	 id, found = 0;
	char		*ad, *plain, *cause;
	int		 rc;

	if (st == NULL)
		return (-1);
	while (found == 0 && (rc = db_step(st)) == DB_ROW) {
		if (db_col_type(st, 1) == DB_NULL)
			continue;
		id = db_col_int64(st, 0);
		ad = vault_ad(table, col, id);
		plain = vault_unseal(ad, db_col_blob(st, 1),
		    db_col_bytes(st, 1), &cause);
		free(ad);
		if (plain == NULL) {
			free(cause);
			continue;
		}
		if (strcmp(plain, want) == 0)
			found = id;
		vault_secret_free(plain);
	}
	if (found == 0 && rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		found = -1;
	}
	db_finalize(st);
	return (found);
}

/* Is id one of the local rows earlier items of the file matched? */
static int
backup_claimed(const json_t *claimed, long long id)
{
	const char	*k;
	json_t		*v;

	json_object_foreach((json_t *)claimed, k, v) {
		if (json_integer_value(v) == id)
			return (1);
	}
	return (0);
}

/*
 * By name; else the same URL and platform under another name, unless an
 * earlier site of the file is that one already: two sites of one file
 * that share a URL (another proxy, other headers) stay two.
 */
static long long
backup_match_site(struct db *db, __unused const struct bsection *s, json_t *it,
    const json_t *claimed, struct err *e)
{
	struct db_stmt	*st;
	const char	*u = jx_str(it, "url");
	long long	 id;
	char		*url;
	int		 rc;

	if ((id = backup_id(db, backup_query(db, e, "SELECT id FROM sites "
	    "WHERE name = ?", "s", jx_str(it, "name")), e)) != 0)
		return (id);
	url = url_normalize(u);
	st = backup_query(db, e, "SELECT id FROM sites WHERE (url = ? OR "
	    "url = ?) AND platform = ? ORDER BY id", "sss", u, url != NULL ?
	    url : u, jx_str(it, "platform"));
	free(url);
	if (st == NULL)
		return (-1);
	while ((rc = db_step(st)) == DB_ROW &&
	    backup_claimed(claimed, db_col_int64(st, 0)))
		;
	id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	if (rc != DB_ROW && rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		id = -1;
	}
	db_finalize(st);
	if (id > 0)
		json_object_del(it, "name");	/* keep the local name */
	return (id);
}

/* A password account is its username; any other its credential. */
static long long
backup_match_account(struct db *db, __unused const struct bsection *s,
    json_t *it, __unused const json_t *claimed, struct err *e)
{
	const char	*kind = jx_str(it, "kind");
	long long	 site;

	jx_int(it, "site", &site);
	if (strcmp(kind, "password") == 0)
		return (backup_id(db, backup_query(db, e, "SELECT id FROM "
		    "accounts WHERE site_id = ? AND credential_kind = "
		    "'password' AND username = ?", "is", site,
		    jx_str(it, "username")), e));
	return (backup_id_by_secret(db, backup_query(db, e, "SELECT id, "
	    "credential_sealed FROM accounts WHERE site_id = ? AND "
	    "credential_kind = ? ORDER BY id", "is", site, kind), "accounts",
	    "credential", jx_str(it, "credential"), e));
}

/* By the site's token id; else by value; else by name. */
static long long
backup_match_token(struct db *db, __unused const struct bsection *s, json_t *it,
    __unused const json_t *claimed, struct err *e)
{
	long long	 acct, id;

	jx_int(it, "account", &acct);
	if (jx_str(it, "remote_id") != NULL && (id = backup_id(db,
	    backup_query(db, e, "SELECT id FROM upstream_tokens WHERE "
	    "account_id = ? AND remote_id = ?", "is", acct,
	    jx_str(it, "remote_id")), e)) != 0)
		return (id);
	if (jx_str(it, "token") != NULL)
		return (backup_id_by_secret(db, backup_query(db, e, "SELECT "
		    "id, token_sealed FROM upstream_tokens WHERE account_id = ? "
		    "ORDER BY id", "i", acct), "upstream_tokens", "token",
		    jx_str(it, "token"), e));
	return (backup_id(db, backup_query(db, e, "SELECT id FROM "
	    "upstream_tokens WHERE account_id = ? AND name = ? AND "
	    "token_sealed IS NULL", "is", acct, jx_str(it, "name")), e));
}

static long long
backup_match_model(struct db *db, __unused const struct bsection *s, json_t *it,
    __unused const json_t *claimed, struct err *e)
{
	long long	 acct, tok = 0;

	jx_int(it, "account", &acct);
	jx_int(it, "token", &tok);
	return (backup_id(db, backup_query(db, e, "SELECT id FROM "
	    "model_availability WHERE account_id = ? AND COALESCE(token_id, "
	    "0) = ? AND model = ?", "iis", acct, tok, jx_str(it, "model")), e));
}

static long long
backup_match_route(struct db *db, __unused const struct bsection *s, json_t *it,
    __unused const json_t *claimed, struct err *e)
{
	return (backup_id(db, backup_query(db, e, "SELECT id FROM routes "
	    "WHERE pattern = ?", "s", jx_str(it, "pattern")), e));
}

static long long
backup_match_channel(struct db *db, __unused const struct bsection *s,
    json_t *it, __unused const json_t *claimed, struct err *e)
{
	const char	*m = jx_str(it, "source_model");
	long long	 route, acct, tok = 0;

	jx_int(it, "route", &route);
	jx_int(it, "account", &acct);
	jx_int(it, "token", &tok);
	return (backup_id(db, backup_query(db, e, "SELECT id FROM channels "
	    "WHERE route_id = ? AND account_id = ? AND COALESCE(token_id, 0) "
	    "= ? AND COALESCE(source_model, '') = ?", "iiis", route, acct, tok,
	    m != NULL ? m : ""), e));
}

/*
 * By its secret first: the key clients hold is what makes it the same
 * key. Then by name: in our own backups the name is the key's identity;
 * a foreign file's key that only shares a name is added under a new one
 * rather than replacing a local key's secret.
 */
static long long
backup_match_key(struct db *db, __unused const struct bsection *s, json_t *it,
    __unused const json_t *claimed, struct err *e)
{
	uint8_t		 hash[VAULT_HASH_LEN];
	long long	 id, by_secret;
	char		*name;
	int		 n = 1;

	vault_hash(jx_str(it, "key"), hash);
	if ((by_secret = backup_id(db, backup_query(db, e, "SELECT id FROM "
	    "api_keys WHERE key_hash = ?", "h", hash), e)) < 0 ||
	    (id = backup_id(db, backup_query(db, e, "SELECT id FROM api_keys "
	    "WHERE name = ?", "s", jx_str(it, "name")), e)) < 0)
		return (-1);
	if (by_secret > 0 && (id == by_secret || jx_bool(it, "foreign"))) {
		if (id != by_secret)
			json_object_del(it, "name");	/* the local name */
		json_object_del(it, "foreign");
		return (by_secret);
	}
	if (by_secret > 0) {
		err_set(e, ERR_CONFLICT, "local key %lld has the same secret",
		    by_secret);
		return (-2);
	}
	if (id > 0 && jx_bool(it, "foreign")) {
		name = NULL;
		do {
			free(name);
			xasprintf(&name, "%.56s-%d", jx_str(it, "name"), ++n);
		} while ((id = backup_id(db, backup_query(db, e, "SELECT id "
		    "FROM api_keys WHERE name = ?", "s", name), e)) > 0);
		jx_set_str(it, "name", name);
		free(name);
		if (id < 0)
			return (-1);
	}
	json_object_del(it, "foreign");
	return (id);
}

/* The same kind, configuration and secret. */
static long long
backup_match_notify(struct db *db, __unused const struct bsection *s,
    json_t *it, __unused const json_t *claimed, struct err *e)
{
	struct db_stmt	*st;
	json_t		*cfg;
	const char	*want = jx_str(it, "secret");
	long long	 id, found = 0;
	char		*ad, *plain, *cause;
	int		 same;

	st = db_prepare_err(db, "SELECT id, config, secret_sealed FROM "
	    "notify_channels WHERE kind = ? ORDER BY id", e);
	if (st == NULL)
		return (-1);
	db_bind_text(st, 1, jx_str(it, "kind"));
	while (found == 0 && db_step(st) == DB_ROW) {
		id = db_col_int64(st, 0);
		cfg = json_loads(db_col_text(st, 1), 0, NULL);
		same = cfg != NULL && json_equal(cfg,
		    json_object_get(it, "config"));
		json_decref(cfg);
		if (!same)
			continue;
		if (db_col_type(st, 2) == DB_NULL) {
			if (want == NULL)
				found = id;
			continue;
		}
		if (want == NULL)
			continue;
		ad = vault_ad("notify_channels", "secret", id);
		plain = vault_unseal(ad, db_col_blob(st, 2),
		    db_col_bytes(st, 2), &cause);
		free(ad);
		if (plain == NULL) {
			free(cause);
			continue;
		}
		if (strcmp(plain, want) == 0)
			found = id;
		vault_secret_free(plain);
	}
	db_finalize(st);
	return (found);
}

/* --- Writing rows -------------------------------------------------------- */

static void
backup_bind(struct db_stmt *st, int i, const struct bcol *c, const json_t *v)
{
	char	*s;

	if (v == NULL || json_is_null(v)) {
		db_bind_null(st, i);
		return;
	}
	switch (c->type) {
	case BC_TEXT:
	case BC_SECRET:
		db_bind_text(st, i, json_string_value(v));
		break;
	case BC_INT:
	case BC_REF:
		db_bind_int64(st, i, json_integer_value(v));
		break;
	case BC_REAL:
		db_bind_double(st, i, json_real_value(v));
		break;
	case BC_BOOL:
		db_bind_int64(st, i, json_is_true(v));
		break;
	case BC_JSON:
		s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_ENCODE_ANY);
		db_bind_text(st, i, s);
		free(s);
		break;
	}
}

/* Seal plain (or clear it, when NULL) into row id, with its mask. */
static int
backup_write_secret(struct db *db, const struct bsection *s,
    const struct bcol *c, long long id, const char *plain, struct err *e)
{
	struct db_stmt	*st;
	uint8_t		*blob = NULL, hash[VAULT_HASH_LEN];
	size_t		 len = 0;
	char		*ad, *sql, *mask = NULL;
	int		 keys = strcmp(s->table, "api_keys") == 0, n = 1;

	if (plain != NULL) {
		ad = backup_ad(s, c, id);
		if (vault_seal(ad, plain, strlen(plain), &blob, &len) != 0) {
			free(ad);
			err_set(e, ERR_INTERNAL, "vault is not open");
			return (-1);
		}
		free(ad);
		mask = strncmp(plain, "http", 4) == 0 &&
		    strcmp(s->table, "notify_channels") == 0 ?
		    notify_url_mask(plain) : vault_mask(plain);
	}
	xasprintf(&sql, "UPDATE %s SET %s = ?%s%s%s%s WHERE id = ?",
	    s->table, c->column, c->mask != NULL ? ", " : "",
	    c->mask != NULL ? c->mask : "", c->mask != NULL ? " = ?" : "",
	    keys ? ", key_hash = ?" : "");
	st = db_prepare_err(db, sql, e);
	free(sql);
	if (st != NULL) {
		db_bind_blob(st, n++, blob, len);
		if (c->mask != NULL)
			db_bind_text(st, n++, mask != NULL ? mask : "");
		if (keys) {
			vault_hash(plain, hash);
			db_bind_blob(st, n++, hash, sizeof hash);
		}
		db_bind_int64(st, n, id);
	}
	free(blob);
	free(mask);
	return (db_step_done(db, st, e));
}

static long long
backup_insert(struct db *db, const struct bsection *s, json_t *it,
    struct err *e)
{
	const struct bcol	*c;
	struct db_stmt		*st;
	char			*cols, *vals, *t, *sql;
	long long		 id;
	int			 n = 1;

	cols = xstrdup("");
	vals = xstrdup("");
	for (c = s->cols; c->field != NULL; c++) {
		if (c->type == BC_SECRET || json_object_get(it, c->field) ==
		    NULL)
			continue;
		xasprintf(&t, "%s%s, ", cols, c->column);
		free(cols);
		cols = t;
		xasprintf(&t, "%s?%d, ", vals, ++n);
		free(vals);
		vals = t;
	}
	n = 1;
	xasprintf(&sql, "INSERT INTO %s (%s%s) VALUES (%s%s)", s->table, cols,
	    s->ins_cols, vals, s->ins_vals);
	free(cols);
	free(vals);
	st = db_prepare_err(db, sql, e);
	free(sql);
	if (st == NULL)
		return (-1);
	db_bind_int64(st, 1, (long long)time(NULL));
	for (c = s->cols; c->field != NULL; c++)
		if (c->type != BC_SECRET && json_object_get(it, c->field) !=
		    NULL)
			backup_bind(st, ++n, c, json_object_get(it, c->field));
	if (db_step_done(db, st, e) != 0)
		return (-1);
	id = db_last_id(db);
	for (c = s->cols; c->field != NULL; c++)
		if (c->type == BC_SECRET && jx_str(it, c->field) != NULL &&
		    backup_write_secret(db, s, c, id, jx_str(it, c->field),
		    e) != 0)
			return (-1);
	return (id);
}

/* Update row id where the item differs; *changed says whether it did. */
static int
backup_update(struct db *db, const struct bsection *s, long long id,
    json_t *it, int *changed, struct err *e)
{
	const struct bcol	*c;
	struct db_stmt		*st;
	json_t			*old, *row, *v;
	char			*set, *t, *sql;
	int			 n = 1, rc = -1;

	*changed = 0;
	if ((old = backup_collect_section(db, s, id, e)) == NULL)
		return (-1);
	row = json_array_get(old, 0);
	set = xstrdup("");
	for (c = s->cols; c->field != NULL; c++) {
		v = json_object_get(it, c->field);
		if (v == NULL || (c->flags & BC_ADD_ONLY) ||
		    json_equal(v, json_object_get(row, c->field)))
			continue;
		(*changed)++;
		if (c->type == BC_SECRET) {
			if (backup_write_secret(db, s, c, id,
			    json_string_value(v), e) != 0)
				goto out;
			continue;
		}
		xasprintf(&t, "%s%s = ?%d, ", set, c->column, ++n);
		free(set);
		set = t;
	}
	if (*set != '\0') {
		xasprintf(&sql, "UPDATE %s SET %s%s = %s WHERE id = ?%d",
		    s->table, set, s->stamp, BACKUP_NOW, n + 1);
		st = db_prepare_err(db, sql, e);
		free(sql);
		if (st == NULL)
			goto out;
		n = 1;
		db_bind_int64(st, 1, (long long)time(NULL));
		for (c = s->cols; c->field != NULL; c++) {
			v = json_object_get(it, c->field);
			if (v == NULL || (c->flags & BC_ADD_ONLY) ||
			    c->type == BC_SECRET ||
			    json_equal(v, json_object_get(row, c->field)))
				continue;
			backup_bind(st, ++n, c, v);
		}
		db_bind_int64(st, ++n, id);
		if (db_step_done(db, st, e) != 0)
			goto out;
	}
	rc = 0;
out:
	free(set);
	backup_wipe_items(s, old);
	json_decref(old);
	return (rc);
}

/* Local ids for the item's references to rows applied before it. */
static int
backup_resolve(struct backup_apply *a, const struct bsection *s, json_t *it,
    char **why)
{
	const struct bcol	*c;
	json_t			*v, *id;
	char			 key[32];

	for (c = s->cols; c->field != NULL; c++) {
		if (c->type != BC_REF || (v = json_object_get(it, c->field)) ==
		    NULL || json_is_null(v))
			continue;
		snprintf(key, sizeof key, "%lld",
		    (long long)json_integer_value(v));
		id = json_object_get(json_object_get(a->refs, c->ref), key);
		if (id == NULL) {
			xasprintf(why, "\"%s\" refers to %s %s, which is not "
			    "in the file or was skipped", c->field, c->ref,
			    key);
			return (-1);
		}
		json_object_set(it, c->field, id);
	}
	return (0);
}

static int
backup_apply_item(struct backup_apply *a, const struct bsection *s,
    json_t *it, size_t idx, struct err *e)
{
	json_t		*refs = json_object_get(a->refs, s->name), *ref;
	long long	 id;
	char		*why = NULL, key[32];
	int		 changed, has_ref;

	ref = json_object_get(it, "ref");
	if ((has_ref = json_is_integer(ref)))
		snprintf(key, sizeof key, "%lld",
		    (long long)json_integer_value(ref));
	json_object_del(it, "ref");
	if (!a->strict)
		json_object_set_new(it, "foreign", json_true());
	if (backup_check_types(s, it, &why) != 0 ||
	    backup_resolve(a, s, it, &why) != 0 || s->check(it, &why) != 0)
		goto bad;
	if ((id = s->match(a->db, s, it, refs, e)) == -2) {
		why = e->msg;
		e->msg = NULL;
		err_clear(e);
		goto bad;
	}
	if (id < 0)
		return (-1);
	if (id == 0) {
		if ((id = backup_insert(a->db, s, it, e)) < 0)
			return (-1);
		backup_count(a, s->name, "added");
	} else {
		if (backup_update(a->db, s, id, it, &changed, e) != 0)
			return (-1);
		backup_count(a, s->name, changed ? "updated" : "unchanged");
	}
	if (has_ref)
		json_object_set_new(refs, key, json_integer(id));
	return (0);
bad:
	if (a->strict) {
		err_set(e, ERR_INVALID, "backup file: %s[%zu]: %s", s->name,
		    idx, why != NULL ? why : "invalid");
		free(why);
		return (-1);
	}
	json_array_append_new(a->warnings, json_sprintf("%s[%zu] skipped: %s",
	    s->name, idx, why != NULL ? why : "invalid"));
	free(why);
	backup_count(a, s->name, "skipped");
	return (0);
}

static int
backup_apply_section(struct backup_apply *a, const struct bsection *s,
    const json_t *items, struct err *e)
{
	json_t		*it;
	size_t		 i;
	int		 rc = 0;

	json_object_set_new(a->refs, s->name, json_object());
	if (items == NULL || json_is_null(items))
		return (0);
	if (!json_is_array(items)) {
		err_set(e, ERR_INVALID, "backup file: \"%s\" is not a list",
		    s->name);
		return (-1);
	}
	for (i = 0; rc == 0 && i < json_array_size(items); i++) {
		it = json_deep_copy(json_array_get(items, i));
		if (it == NULL) {
			err_set(e, ERR_INVALID, "backup file: %s[%zu] is not "
			    "an object", s->name, i);
			return (-1);
		}
		rc = backup_apply_item(a, s, it, i, e);
		if (json_is_object(it)) {
			json_t *one = json_pack("[O]", it);

			backup_wipe_items(s, one);
			json_decref(one);
		}
		json_decref(it);
	}
	return (rc);
}

/* Settings are {"key": "value"}; ones this build does not know are skipped. */
static int
backup_apply_settings(struct backup_apply *a, const json_t *set,
    struct err *e)
{
	const struct setting_entry	*se;
	struct db_stmt			*st;
	const char			*key;
	json_t				*v;
	char				*text, *norm = NULL, *why = NULL;
	int				 same;

	if (set == NULL)
		return (0);
	if (!json_is_object(set)) {
		err_set(e, ERR_INVALID, "backup file: \"settings\" is not an "
		    "object");
		return (-1);
	}
	json_object_foreach((json_t *)set, key, v) {
		if ((se = setting_find(key)) == NULL) {
			json_array_append_new(a->warnings, json_sprintf(
			    "setting %s is not known here: skipped", key));
			backup_count(a, "settings", "skipped");
			continue;
		}
		if (json_is_string(v))
			text = xstrdup(json_string_value(v));
		else if (json_is_boolean(v))
			text = xstrdup(json_is_true(v) ? "true" : "false");
		else if (json_is_integer(v))
			xasprintf(&text, "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			xasprintf(&text, "%.17g", json_real_value(v));
		else
			text = NULL;
		if (text == NULL || setting_validate(se, text, &norm,
		    &why) != 0) {
			if (a->strict) {
				err_set(e, ERR_INVALID, "backup file: setting "
				    "%s: %s", key, why != NULL ? why :
				    "not a value");
				free(why);
				free(text);
				return (-1);
			}
			json_array_append_new(a->warnings, json_sprintf(
			    "setting %s skipped: %s", key, why != NULL ? why :
			    "not a value"));
			backup_count(a, "settings", "skipped");
			free(why);
			why = NULL;
			free(text);
			continue;
		}
		free(text);
		st = db_prepare_err(a->db, "SELECT value FROM settings WHERE "
		    "key = ?", e);
		if (st == NULL) {
			free(norm);
			return (-1);
		}
		db_bind_text(st, 1, key);
		same = 0;
		if (db_step(st) == DB_ROW && (text = setting_open(se,
		    db_col_text(st, 0), &why)) != NULL) {
			same = strcmp(text, norm) == 0;
			vault_plain_free(text);
			text = NULL;
		}
		free(why);
		why = NULL;
		db_finalize(st);
		if (!same && setting_store(a->db, se, norm, &why) != 0) {
			err_set(e, ERR_STORAGE, "setting %s: %s", key, why);
			free(why);
			free(norm);
			return (-1);
		}
		free(norm);
		norm = NULL;
		backup_count(a, "settings", same ? "unchanged" : "updated");
	}
	return (0);
}

/*
 * Merge an open document into the database, in one transaction; with
 * dry_run it is rolled back, so the report says what would happen.
 */
json_t *
backup_apply(struct db *db, json_t *doc, int dry_run, struct err *e)
{
	struct backup_apply	 a;
	const char		*from = jx_str(doc, "converted_from");
	json_t			*report = NULL;
	long long		 version;
	char			*cause;
	size_t			 i;

	if (!json_is_object(doc) || jx_str(doc, "format") == NULL ||
	    strcmp(jx_str(doc, "format"), BACKUP_FORMAT) != 0 ||
	    jx_int(doc, "version", &version) != 0 || version < 1) {
		err_set(e, ERR_INVALID, "not a metapi backup");
		return (NULL);
	}
	if (version > BACKUP_VERSION) {
		err_set(e, ERR_INVALID, "the backup was made by a newer metapi "
		    "(format version %lld; this one reads %d): upgrade first",
		    version, BACKUP_VERSION);
		return (NULL);
	}
	memset(&a, 0, sizeof a);
	a.db = db;
	a.strict = from == NULL;
	a.refs = json_object();
	a.report = json_object();
	a.warnings = json_array();
	if (db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		goto out;
	}
	for (i = 0; i < nitems(backup_sections); i++)
		if (backup_apply_section(&a, &backup_sections[i],
		    json_object_get(doc, backup_sections[i].name), e) != 0)
			goto fail;
	if (backup_apply_settings(&a, json_object_get(doc, "settings"), e) != 0)
		goto fail;
	/* Discovered models may have come in: the routes follow them. */
	if (route_rebuild(db, e) != 0)
		goto fail;
	if (dry_run)
		db_rollback(db);
	else if (db_commit(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		goto out;
	}
	report = json_pack("{s:s, s:b, s:O, s:O}", "format", from != NULL ?
	    from : BACKUP_FORMAT, "dry_run", dry_run, "sections", a.report,
	    "warnings", a.warnings);
	goto out;
fail:
	db_rollback(db);
out:
	json_decref(a.refs);
	json_decref(a.report);
	json_decref(a.warnings);
	return (report);
}

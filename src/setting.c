/*
 * The settings store: validation of values against setting_table[], the
 * settings table's SQL, and the loaded copy the daemon reads. Values are
 * kept as normalised text; JSON gives them their type back. A secret
 * setting (a proxy URL, which may carry a password) is stored sealed and
 * shown redacted; the loaded copy holds it in clear.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "compat.h"
#include "cron.h"
#include "db.h"
#include "log.h"
#include "setting.h"
#include "url.h"
#include "vault.h"
#include "xmalloc.h"

static const char *const setting_type_names[] = {
	"bool", "int", "real", "string", "enum", "cron", "url"
};

const char *
setting_type_name(enum setting_type t)
{
	return (setting_type_names[t]);
}

const struct setting_entry *
setting_find(const char *name)
{
	size_t	i;

	for (i = 0; i < setting_table_count; i++)
		if (strcmp(setting_table[i].name, name) == 0)
			return (&setting_table[i]);
	return (NULL);
}

static int
setting_choice_ok(const char *choices, const char *v)
{
	const char	*p = choices;
	size_t		 n = strlen(v), len;

	while (*p != '\0') {
		len = strcspn(p, "|");
		if (len == n && strncmp(p, v, n) == 0)
			return (1);
		p += len;
		if (*p == '|')
			p++;
	}
	return (0);
}

/* Bools accept 1/true/yes/on and 0/false/no/off, as the reference does. */
static int
setting_parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t			 i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return (0);
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return (0);
		}
	}
	return (-1);
}

/*
 * The shortest text that reads back as d, without an exponent when one
 * will do: "0.4" rather than "0.40000000000000002" and "1000000" rather
 * than "1e+06", so that a default normalises to itself. %.17g always
 * reads back, so the second pass ends with an answer.
 */
static char *
setting_real_text(double d)
{
	char	buf[32];
	int	prec, sci;

	for (sci = 0; sci < 2; sci++) {
		for (prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof buf, "%.*g", prec, d);
			if (strtod(buf, NULL) == d &&
			    (sci || strchr(buf, 'e') == NULL))
				return (xstrdup(buf));
		}
	}
	return (xstrdup(buf));
}

/*
 * Check value against the entry; on success *norm is the value to store.
 * Pure: no I/O.
 */
int
setting_validate(const struct setting_entry *e, const char *v, char **norm,
    char **cause)
{
	const char	*errstr;
	long long	 ll;
	double		 d;
	char		*end;
	int		 b;
	struct cron	 c;

	*norm = NULL;
	switch (e->type) {
	case SETTING_BOOL:
		if (setting_parse_bool(v, &b) != 0) {
			xasprintf(cause, "%s: \"%s\" is not a boolean (use true "
			    "or false)", e->name, v);
			return (-1);
		}
		*norm = xstrdup(b ? "true" : "false");
		return (0);
	case SETTING_INT:
		ll = strtonum(v, (long long)e->min, (long long)e->max, &errstr);
		if (errstr != NULL) {
			xasprintf(cause, "%s: \"%s\" is %s (a whole number from "
			    "%.0f to %.0f)", e->name, v, errstr, e->min, e->max);
			return (-1);
		}
		xasprintf(norm, "%lld", ll);
		return (0);
	case SETTING_REAL:
		errno = 0;
		d = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(d) ||
		    d < e->min || d > e->max) {
			xasprintf(cause, "%s: \"%s\" is not a number from %g to "
			    "%g", e->name, v, e->min, e->max);
			return (-1);
		}
		*norm = setting_real_text(d);
		return (0);
	case SETTING_ENUM:
		if (!setting_choice_ok(e->choices, v)) {
			xasprintf(cause, "%s: \"%s\" is not one of %s", e->name,
			    v, e->choices);
			return (-1);
		}
		break;
	case SETTING_CRON:
		if (cron_parse(v, &c, &end) != 0) {
			xasprintf(cause, "%s: %s", e->name, end);
			free(end);
			return (-1);
		}
		break;
	case SETTING_URL:
		if (*v != '\0' && url_check(v, URL_HTTP|URL_PROXY, &end) != 0) {
			xasprintf(cause, "%s: %s", e->name, end);
			free(end);
			return (-1);
		}
		break;
	case SETTING_STRING:
		if (strlen(v) > 4096) {
			xasprintf(cause, "%s: value too long", e->name);
			return (-1);
		}
		break;
	}
	*norm = xstrdup(v);
	return (0);
}

/* A stored (already valid) value as typed JSON. */
json_t *
setting_value_json(const struct setting_entry *e, const char *v)
{
	switch (e->type) {
	case SETTING_BOOL:
		return (json_boolean(strcmp(v, "true") == 0));
	case SETTING_INT:
		return (json_integer(strtoll(v, NULL, 10)));
	case SETTING_REAL:
		return (json_real(strtod(v, NULL)));
	default:
		return (json_string(v));
	}
}

json_t *
setting_entry_json(const struct setting_entry *e, const char *v)
{
	json_t	*o;
	char	*shown;

	o = json_object();
	json_object_set_new(o, "id", json_string(e->name));
	json_object_set_new(o, "key", json_string(e->name));
	if (e->secret) {
		shown = e->type == SETTING_URL ? url_redact(v) : *v == '\0' ?
		    xstrdup("") : vault_mask(v);
		json_object_set_new(o, "value", json_string(shown));
		free(shown);
	} else
		json_object_set_new(o, "value", setting_value_json(e, v));
	json_object_set_new(o, "default", setting_value_json(e, e->def));
	json_object_set_new(o, "is_default", json_boolean(strcmp(v,
	    e->def) == 0));
	json_object_set_new(o, "type", json_string(setting_type_name(e->type)));
	if (e->type == SETTING_INT || e->type == SETTING_REAL) {
		json_object_set_new(o, "min", e->type == SETTING_INT ?
		    json_integer((long long)e->min) : json_real(e->min));
		json_object_set_new(o, "max", e->type == SETTING_INT ?
		    json_integer((long long)e->max) : json_real(e->max));
	}
	if (e->choices != NULL)
		json_object_set_new(o, "choices", json_string(e->choices));
	json_object_set_new(o, "restart", json_boolean(e->restart));
	json_object_set_new(o, "help", json_string(e->help));
	return (o);
}

/*
 * Load every setting: stored values override defaults. A stored value that
 * no longer validates (edited by hand, or from another version) falls back
 * to the default rather than stopping the daemon. Unknown keys are kept in
 * the table and ignored.
 */
struct settings *
settings_load(struct db *db, char **cause)
{
	struct settings			*s;
	const struct setting_entry	*e;
	struct db_stmt			*st;
	char				*norm, *err, *plain;
	int				 rc, rv;
	size_t				 i;

	s = xcalloc(1, sizeof *s);
	s->values = xcalloc(setting_table_count, sizeof *s->values);
	for (i = 0; i < setting_table_count; i++)
		s->values[i] = xstrdup(setting_table[i].def);
	if (db == NULL)
		return (s);
	st = db_prepare(db, "SELECT key, value FROM settings", cause);
	if (st == NULL) {
		settings_free(s);
		return (NULL);
	}
	while ((rc = db_step(st)) == DB_ROW) {
		if ((e = setting_find(db_col_text(st, 0))) == NULL)
			continue;
		if ((plain = setting_open(e, db_col_text(st, 1), &err)) ==
		    NULL) {
			log_warnx("setting %s: %s; using the default", e->name,
			    err);
			free(err);
			continue;
		}
		rv = setting_validate(e, plain, &norm, &err);
		vault_plain_free(plain);
		if (rv != 0) {
			free(err);
			continue;
		}
		i = e - setting_table;
		free(s->values[i]);
		s->values[i] = norm;
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		*cause = xstrdup(db_errmsg(db));
		settings_free(s);
		return (NULL);
	}
	return (s);
}

void
settings_free(struct settings *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < setting_table_count; i++)
		free(s->values[i]);
	free(s->values);
	free(s);
}

/* Looking up a name the table lacks is a programming error. */
const char *
settings_str(const struct settings *s, const char *name)
{
	const struct setting_entry	*e = setting_find(name);

	if (e == NULL)
		abort();
	return (s->values[e - setting_table]);
}

long long
settings_int(const struct settings *s, const char *name)
{
	return (strtoll(settings_str(s, name), NULL, 10));
}

double
settings_real(const struct settings *s, const char *name)
{
	return (strtod(settings_str(s, name), NULL));
}

int
settings_bool(const struct settings *s, const char *name)
{
	return (strcmp(settings_str(s, name), "true") == 0);
}

/*
 * A value as the settings table holds it, in clear: a sealed one opened,
 * anything else (not secret, empty, or stored before it was sealed) as it
 * is. Free it with vault_plain_free(); NULL with *cause when it does not
 * open.
 */
char *
setting_open(const struct setting_entry *e, const char *stored, char **cause)
{
	char	*ad, *plain;
	size_t	 n = strlen(SETTING_SEALED);

	if (!e->secret || strncmp(stored, SETTING_SEALED, n) != 0)
		return (xstrdup(stored));
	ad = vault_ad("settings", e->name, 0);
	plain = vault_unseal_text(ad, stored + n, cause);
	free(ad);
	return (plain);
}

/* Store one validated value; a secret one sealed. */
int
setting_store(struct db *db, const struct setting_entry *e, const char *v,
    char **cause)
{
	struct db_stmt	*st;
	char		*ad, *sealed, *stored = NULL;
	int		 rc;

	if (e->secret && *v != '\0') {
		ad = vault_ad("settings", e->name, 0);
		sealed = vault_seal_text(ad, v);
		free(ad);
		if (sealed == NULL) {
			*cause = xstrdup("vault is not open");
			return (-1);
		}
		xasprintf(&stored, "%s%s", SETTING_SEALED, sealed);
		free(sealed);
	}
	st = db_prepare(db, "INSERT INTO settings (key, value, updated_at) "
	    "VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
	    "value = excluded.value, updated_at = excluded.updated_at", cause);
	if (st == NULL) {
		free(stored);
		return (-1);
	}
	db_bind_text(st, 1, e->name);
	db_bind_text(st, 2, stored != NULL ? stored : v);
	db_bind_int64(st, 3, (long long)time(NULL));
	rc = db_step(st);
	if (rc != DB_DONE)
		*cause = xstrdup(db_errmsg(db));
	db_finalize(st);
	free(stored);
	return (rc == DB_DONE ? 0 : -1);
}

/*
 * Seal the secret settings an older metapi stored in clear. Run once the
 * vault is open (daemon start).
 */
int
settings_seal(struct db *db, char **cause)
{
	const struct setting_entry	*e;
	struct db_stmt			*st;
	char				*v;
	size_t				 i;
	int				 rc;

	for (i = 0; i < setting_table_count; i++) {
		e = &setting_table[i];
		if (!e->secret)
			continue;
		st = db_prepare(db, "SELECT value FROM settings WHERE key = ?",
		    cause);
		if (st == NULL)
			return (-1);
		db_bind_text(st, 1, e->name);
		v = NULL;
		if (db_step(st) == DB_ROW &&
		    *db_col_text(st, 0) != '\0' && strncmp(db_col_text(st, 0),
		    SETTING_SEALED, strlen(SETTING_SEALED)) != 0)
			v = xstrdup(db_col_text(st, 0));
		db_finalize(st);
		if (v == NULL)
			continue;
		rc = setting_store(db, e, v, cause);
		vault_plain_free(v);
		if (rc != 0)
			return (-1);
	}
	return (0);
}

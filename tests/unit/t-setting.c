/*
 * Settings (src/setting.c, src/setting-table.c): the table is sane, every
 * type accepts and rejects what it should and normalises what it keeps,
 * loading falls back to defaults for values that no longer validate, and
 * a secret setting is stored sealed and shown redacted.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "db.h"
#include "jx.h"
#include "setting.h"
#include "unit.h"
#include "vault.h"
#include "xmalloc.h"

/* Every entry: named, helped, unique, and a default that validates as is. */
static void
t_setting_table(void)
{
	const struct setting_entry	*e;
	size_t				 i, j, dups;
	char				*norm, *cause;

	CHECK(setting_table_count > 0);
	for (i = 0; i < setting_table_count; i++) {
		e = &setting_table[i];
		unit_case("entry %zu \"%s\"", i, e->name != NULL ? e->name :
		    "(null)");
		if (!CHECK(e->name != NULL && e->def != NULL))
			continue;
		CHECK(e->help != NULL && e->help[0] != '\0');
		CHECK(setting_find(e->name) == e);
		for (j = 0, dups = 0; j < i; j++)
			if (strcmp(setting_table[j].name, e->name) == 0)
				dups++;
		CHECK_INT(dups, 0);
		if (e->type == SETTING_INT || e->type == SETTING_REAL)
			CHECK(e->min <= e->max);
		if (e->type == SETTING_ENUM)
			CHECK(e->choices != NULL && e->choices[0] != '\0');
		else
			CHECK(e->choices == NULL);
		norm = cause = NULL;
		CHECK_INT(setting_validate(e, e->def, &norm, &cause), 0);
		CHECK_STR(cause, NULL);
		CHECK_STR(norm, e->def);
		free(norm);
		free(cause);
	}
	unit_case_end();
	CHECK(setting_find("no_such_setting") == NULL);
	CHECK(setting_find("") == NULL);
}

static const struct setting_entry t_setting_string = {
	.name = "t_string", .type = SETTING_STRING, .def = "",
	.help = "a string for the test"
};

static void
t_setting_values(void)
{
	static const struct {
		const char	*name;
		const char	*value;
		const char	*norm;	/* NULL: refused */
	} cases[] = {
		/* SETTING_INT, 1..24 */
		{ "checkin_interval_hours", "1", "1" },
		{ "checkin_interval_hours", "24", "24" },
		{ "checkin_interval_hours", "007", "7" },
		{ "checkin_interval_hours", "0", NULL },
		{ "checkin_interval_hours", "25", NULL },
		{ "checkin_interval_hours", "-1", NULL },
		{ "checkin_interval_hours", "", NULL },
		{ "checkin_interval_hours", "six", NULL },
		{ "checkin_interval_hours", "6x", NULL },
		{ "checkin_interval_hours", "1.5", NULL },
		{ "checkin_interval_hours", "0x10", NULL },
		{ "checkin_interval_hours", "99999999999999999999", NULL },
		{ "proxy_max_response_bytes", "65536", "65536" },
		{ "proxy_max_response_bytes", "65535", NULL },
		{ "proxy_max_response_bytes", "1073741825", NULL },
		{ "log_retention_days", "0", "0" },
		/* SETTING_REAL */
		{ "routing_cost_weight", "0", "0" },
		{ "routing_cost_weight", "1", "1" },
		{ "routing_cost_weight", "0.25", "0.25" },
		{ "routing_cost_weight", "0.4", "0.4" },
		{ "routing_cost_weight", "0.1", "0.1" },
		{ "routing_cost_weight", ".5", "0.5" },
		{ "routing_cost_weight", "5e-1", "0.5" },
		{ "routing_cost_weight", "0.0001", "0.0001" },
		{ "routing_cost_weight", "0.00001", "1e-05" },
		{ "routing_cost_weight", "0.30000000000000004",
		  "0.30000000000000004" },
		{ "routing_cost_weight", "1.01", NULL },
		{ "routing_cost_weight", "-0.1", NULL },
		{ "routing_cost_weight", "0.5x", NULL },
		{ "routing_cost_weight", "0.5 ", NULL },
		{ "routing_cost_weight", "1..2", NULL },
		{ "routing_cost_weight", "", NULL },
		{ "routing_cost_weight", "abc", NULL },
		{ "routing_cost_weight", "nan", NULL },
		{ "routing_cost_weight", "inf", NULL },
		{ "low_balance_usd", "1000000", "1000000" },
		{ "low_balance_usd", "12.75", "12.75" },
		{ "low_balance_usd", "1e300", NULL },
		/* SETTING_BOOL */
		{ "sticky_session_enabled", "true", "true" },
		{ "sticky_session_enabled", "yes", "true" },
		{ "sticky_session_enabled", "on", "true" },
		{ "sticky_session_enabled", "1", "true" },
		{ "sticky_session_enabled", "TRUE", "true" },
		{ "sticky_session_enabled", "Yes", "true" },
		{ "sticky_session_enabled", "false", "false" },
		{ "sticky_session_enabled", "no", "false" },
		{ "sticky_session_enabled", "off", "false" },
		{ "sticky_session_enabled", "0", "false" },
		{ "sticky_session_enabled", "OFF", "false" },
		{ "sticky_session_enabled", "", NULL },
		{ "sticky_session_enabled", "2", NULL },
		{ "sticky_session_enabled", "maybe", NULL },
		{ "sticky_session_enabled", "tru", NULL },
		{ "sticky_session_enabled", "true ", NULL },
		/* SETTING_ENUM, cron|interval */
		{ "checkin_schedule_mode", "cron", "cron" },
		{ "checkin_schedule_mode", "interval", "interval" },
		{ "checkin_schedule_mode", "Cron", NULL },
		{ "checkin_schedule_mode", "cro", NULL },
		{ "checkin_schedule_mode", "crons", NULL },
		{ "checkin_schedule_mode", "", NULL },
		{ "checkin_schedule_mode", "cron|interval", NULL },
		{ "checkin_schedule_mode", "|", NULL },
		/* SETTING_CRON */
		{ "checkin_cron", "30 7 * * 1-5", "30 7 * * 1-5" },
		{ "checkin_cron", "*/15 * * * *", "*/15 * * * *" },
		{ "checkin_cron", "* * *", NULL },
		{ "checkin_cron", "61 * * * *", NULL },
		{ "checkin_cron", "0 24 * * *", NULL },
		{ "checkin_cron", "0 8 * * * *", NULL },
		{ "checkin_cron", "", NULL },
		{ "checkin_cron", "daily", NULL },
		/* SETTING_URL */
		{ "system_proxy_url", "", "" },
		{ "system_proxy_url", "http://127.0.0.1:3128",
		  "http://127.0.0.1:3128" },
		{ "system_proxy_url", "socks5://[::1]:1080",
		  "socks5://[::1]:1080" },
		{ "system_proxy_url", "socks5h://proxy.lan:1080",
		  "socks5h://proxy.lan:1080" },
		{ "system_proxy_url", "ftp://proxy:21", NULL },
		{ "system_proxy_url", "proxy:3128", NULL },
		{ "system_proxy_url", "http://", NULL },
		{ "system_proxy_url", "http://pro xy:3128", NULL },
		{ "system_proxy_url", "http://proxy:99999", NULL },
		/* SETTING_STRING */
		{ "t_string", "anything at all", "anything at all" },
	};
	const struct setting_entry	*e;
	size_t				 i;
	char				*norm, *cause, *longv;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("%s = \"%s\"", cases[i].name, cases[i].value);
		if (strcmp(cases[i].name, t_setting_string.name) == 0)
			e = &t_setting_string;
		else
			e = setting_find(cases[i].name);
		if (!CHECK(e != NULL))
			continue;
		norm = cause = NULL;
		if (cases[i].norm != NULL) {
			CHECK_INT(setting_validate(e, cases[i].value, &norm,
			    &cause), 0);
			CHECK_STR(norm, cases[i].norm);
			CHECK_STR(cause, NULL);
		} else {
			CHECK_INT(setting_validate(e, cases[i].value, &norm,
			    &cause), -1);
			CHECK(norm == NULL);
			CHECK_SUB(cause, e->name);
		}
		free(norm);
		free(cause);
	}

	unit_case("a string of 4097 bytes");
	longv = xmalloc(4098);
	memset(longv, 'a', 4097);
	longv[4097] = '\0';
	norm = cause = NULL;
	CHECK_INT(setting_validate(&t_setting_string, longv, &norm, &cause),
	    -1);
	CHECK_SUB(cause, "t_string");
	free(cause);
	longv[4096] = '\0';
	cause = NULL;
	CHECK_INT(setting_validate(&t_setting_string, longv, &norm, &cause),
	    0);
	free(norm);
	free(longv);
	unit_case_end();
}

static void
t_setting_defaults(void)
{
	struct settings	*s;
	char		*cause = NULL;
	size_t		 i;

	s = settings_load(NULL, &cause);
	CHECK_STR(cause, NULL);
	if (!CHECK(s != NULL))
		return;
	for (i = 0; i < setting_table_count; i++) {
		unit_case("%s", setting_table[i].name);
		CHECK_STR(settings_str(s, setting_table[i].name),
		    setting_table[i].def);
	}
	unit_case_end();
	CHECK_INT(settings_int(s, "log_retention_days"), 30);
	CHECK_INT(settings_bool(s, "sticky_session_enabled"), 1);
	CHECK(settings_real(s, "routing_cost_weight") == 0.4);
	CHECK_STR(settings_str(s, "checkin_cron"), "0 8 * * *");
	settings_free(s);
	settings_free(NULL);
}

/* Put a raw row in the settings table, bypassing validation. */
static int
t_setting_raw(struct db *db, const char *key, const char *value)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "INSERT OR REPLACE INTO settings (key, value, "
	    "updated_at) VALUES (?, ?, 0)", NULL);
	if (st == NULL)
		return (-1);
	db_bind_text(st, 1, key);
	db_bind_text(st, 2, value);
	rc = db_step(st);
	db_finalize(st);
	return (rc == DB_DONE ? 0 : -1);
}

static void
t_setting_load(void)
{
	struct db	*db = NULL;
	struct settings	*s = NULL;
	char		*dir, *path = NULL, *cause = NULL;

	if (!CHECK((dir = unit_tmpdir()) != NULL))
		return;
	xasprintf(&path, "%s/settings.db", dir);
	db = db_open(path, &cause);
	if (!CHECK(db != NULL) || !CHECK_INT(db_migrate(db, &cause), 0))
		goto out;

	CHECK_INT(setting_store(db, setting_find("log_retention_days"), "7",
	    &cause), 0);
	CHECK_INT(setting_store(db, setting_find("checkin_cron"),
	    "15 9 * * *", &cause), 0);
	CHECK_INT(setting_store(db, setting_find("checkin_cron"),
	    "30 9 * * *", &cause), 0);
	CHECK_INT(t_setting_raw(db, "checkin_interval_hours", "999"), 0);
	CHECK_INT(t_setting_raw(db, "sticky_session_enabled", "off"), 0);
	CHECK_INT(t_setting_raw(db, "routing_cost_weight", "lots"), 0);
	CHECK_INT(t_setting_raw(db, "system_proxy_url", "ftp://x"), 0);
	CHECK_INT(t_setting_raw(db, "no_longer_a_setting", "42"), 0);

	s = settings_load(db, &cause);
	CHECK_STR(cause, NULL);
	if (!CHECK(s != NULL))
		goto out;
	CHECK_INT(settings_int(s, "log_retention_days"), 7);
	CHECK_STR(settings_str(s, "checkin_cron"), "30 9 * * *");
	CHECK_INT(settings_int(s, "checkin_interval_hours"), 6);
	CHECK_STR(settings_str(s, "sticky_session_enabled"), "false");
	CHECK_INT(settings_bool(s, "sticky_session_enabled"), 0);
	CHECK_STR(settings_str(s, "routing_cost_weight"), "0.4");
	CHECK_STR(settings_str(s, "system_proxy_url"), "");
	CHECK_STR(settings_str(s, "event_retention_days"), "30");
out:
	settings_free(s);
	db_close(db);
	unit_rmtree(dir);
	free(dir);
	free(path);
	free(cause);
}

/* The stored text of one setting (owned), or NULL. */
static char *
t_setting_stored(struct db *db, const char *key)
{
	struct db_stmt	*st;
	char		*v = NULL;

	st = db_prepare(db, "SELECT value FROM settings WHERE key = ?", NULL);
	if (st == NULL)
		return (NULL);
	db_bind_text(st, 1, key);
	if (db_step(st) == DB_ROW)
		v = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	return (v);
}

/*
 * system_proxy_url may hold a password: sealed in the table (and sealed
 * by settings_seal() when an older metapi stored it in clear), in clear
 * in the loaded settings, redacted in its JSON.
 */
static void
t_setting_secret(void)
{
	const struct setting_entry	*e = setting_find("system_proxy_url");
	static const char		*url = "http://u:s3cret@proxy:3128";
	uint8_t				 key[VAULT_KEY_LEN];
	struct db			*db = NULL;
	struct settings			*s = NULL;
	json_t				*o = NULL;
	char				*dir, *path = NULL, *cause = NULL, *v;

	if (!CHECK(e != NULL && e->secret) ||
	    !CHECK((dir = unit_tmpdir()) != NULL))
		return;
	memset(key, 0x5a, sizeof key);
	CHECK_INT(vault_set_key(key), 0);
	xasprintf(&path, "%s/secret.db", dir);
	db = db_open(path, &cause);
	if (!CHECK(db != NULL) || !CHECK_INT(db_migrate(db, &cause), 0))
		goto out;

	unit_case("stored sealed");
	CHECK_INT(setting_store(db, e, url, &cause), 0);
	v = t_setting_stored(db, e->name);
	CHECK(v != NULL && strncmp(v, SETTING_SEALED,
	    strlen(SETTING_SEALED)) == 0 && strstr(v, "s3cret") == NULL);
	free(v);
	s = settings_load(db, &cause);
	if (CHECK(s != NULL))
		CHECK_STR(settings_str(s, e->name), url);
	o = setting_entry_json(e, url);
	CHECK_STR(jx_str(o, "value"), "http://u:…@proxy:3128");
	json_decref(o);
	settings_free(s);
	s = NULL;

	unit_case("an older metapi's clear value");
	CHECK_INT(t_setting_raw(db, e->name, url), 0);
	CHECK_INT(settings_seal(db, &cause), 0);
	v = t_setting_stored(db, e->name);
	CHECK(v != NULL && strstr(v, "s3cret") == NULL);
	free(v);
	s = settings_load(db, &cause);
	if (CHECK(s != NULL))
		CHECK_STR(settings_str(s, e->name), url);
	settings_free(s);
	s = NULL;

	unit_case("sealed under another key: the default");
	memset(key, 0x33, sizeof key);
	CHECK_INT(vault_set_key(key), 0);
	s = settings_load(db, &cause);
	if (CHECK(s != NULL))
		CHECK_STR(settings_str(s, e->name), "");
	unit_case_end();
out:
	settings_free(s);
	vault_forget();
	db_close(db);
	unit_rmtree(dir);
	free(dir);
	free(path);
	free(cause);
}

void
t_setting(void)
{
	t_setting_table();
	t_setting_values();
	t_setting_defaults();
	t_setting_load();
	t_setting_secret();
}

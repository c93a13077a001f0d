/*
 * ctl_cmd_table[]: each control command's handler, by the name it has in
 * cmd_table[] (src/cmd-table.c), which holds its arguments and help.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "revision.h"
#include "route.h"
#include "routestate.h"
#include "snapshot.h"

const struct ctl_entry ctl_cmd_table[] = {
	{ "daemon.status", ctl_daemon_status, CTL_READ },
	{ "daemon.stop", ctl_daemon_stop, 0 },
	{ "doctor.run", ctl_doctor_run, CTL_READ },
	{ "site.add", ctl_site_add, 0 },
	{ "site.list", ctl_site_list, CTL_READ },
	{ "site.show", ctl_site_show, CTL_READ },
	{ "site.edit", ctl_site_edit, 0 },
	{ "site.rm", ctl_site_rm, 0 },
	{ "site.enable", ctl_site_enable, 0 },
	{ "site.disable", ctl_site_disable, 0 },
	{ "site.detect", ctl_site_detect, CTL_READ },
	{ "site.presets", ctl_site_presets, CTL_READ },
	{ "account.add", ctl_account_add, 0 },
	{ "account.list", ctl_account_list, CTL_READ },
	{ "account.show", ctl_account_show, CTL_READ },
	{ "account.rm", ctl_account_rm, 0 },
	{ "account.enable", ctl_account_enable, 0 },
	{ "account.disable", ctl_account_disable, 0 },
	{ "account.refresh", ctl_account_refresh, 0 },
	{ "account.login", ctl_account_login, 0 },
	{ "token.list", ctl_token_list, CTL_READ },
	{ "token.sync", ctl_token_sync, 0 },
	{ "token.create", ctl_token_create, 0 },
	{ "token.rm", ctl_token_rm, 0 },
	{ "token.default", ctl_token_default, 0 },
	{ "checkin.run", ctl_checkin_run, 0 },
	{ "checkin.log", ctl_checkin_log, CTL_READ },
	{ "balance.show", ctl_balance_show, 0 },
	{ "model.list", ctl_model_list, CTL_READ },
	{ "route.list", ctl_route_list, CTL_READ },
	{ "route.show", ctl_route_show, CTL_READ },
	{ "route.explain", ctl_route_explain, CTL_READ },
	{ "route.add", ctl_route_add, 0 },
	{ "route.edit", ctl_route_edit, 0 },
	{ "route.rm", ctl_route_rm, 0 },
	{ "route.rebuild", ctl_route_rebuild, 0 },
	{ "channel.set", ctl_channel_set, 0 },
	{ "channel.cooldown-clear", ctl_channel_cooldown_clear, CTL_READ },
	{ "job.list", ctl_job_list, CTL_READ },
	{ "job.run", ctl_job_run, 0 },
	{ "key.add", ctl_key_add, 0 },
	{ "key.list", ctl_key_list, CTL_READ },
	{ "key.show", ctl_key_show, CTL_READ },
	{ "key.reveal", ctl_key_reveal, CTL_READ },
	{ "key.rm", ctl_key_rm, 0 },
	{ "key.enable", ctl_key_enable, 0 },
	{ "key.disable", ctl_key_disable, 0 },
	{ "key.rotate", ctl_key_rotate, 0 },
	{ "log.list", ctl_log_list, CTL_READ },
	{ "stats.show", ctl_stats_show, CTL_READ },
	{ "notify.add", ctl_notify_add, 0 },
	{ "notify.list", ctl_notify_list, CTL_READ },
	{ "notify.test", ctl_notify_test, CTL_READ },
	{ "notify.send", ctl_notify_send, CTL_READ },
	{ "notify.rm", ctl_notify_rm, 0 },
	{ "notify.enable", ctl_notify_enable, 0 },
	{ "notify.disable", ctl_notify_disable, 0 },
	{ "event.list", ctl_event_list, CTL_READ },
	{ "settings.list", ctl_settings_list, CTL_READ },
	{ "settings.get", ctl_settings_get, CTL_READ },
	{ "settings.set", ctl_settings_set, 0 },
	{ "backup.export", ctl_backup_export, CTL_READ },
	{ "backup.import", ctl_backup_import, 0 },
	{ "db.migrate", ctl_db_migrate, CTL_READ },
	{ "search.run", ctl_search_run, CTL_READ },
};

const size_t ctl_cmd_table_count = sizeof ctl_cmd_table /
    sizeof ctl_cmd_table[0];

const struct ctl_entry *
ctl_find_entry(const char *name)
{
	size_t	i;

	for (i = 0; i < ctl_cmd_table_count; i++)
		if (strcmp(ctl_cmd_table[i].name, name) == 0)
			return (&ctl_cmd_table[i]);
	return (NULL);
}

static struct timespec	ctl_rebuilt;	/* last snapshot rebuild */
static int		ctl_usage_pending;
static long long	ctl_revision = -1;	/* the config_revision seen */
static time_t		ctl_scrub_due;	/* a checkpoint wanted since */

static void		ctl_snapshot(void);
static void		ctl_announce(void);

/*
 * Something a command did may change what the request path sees (keys,
 * models, accounts, routes): bring the route table in line with model
 * availability and rebuild the snapshot. Cheap next to the command.
 */
void
ctl_changed(void)
{
	struct err	e = { ERR_OK, NULL };

	if (route_rebuild(metapid->db, &e) != 0) {
		log_warnx("route rebuild: %s", e.msg);
		err_clear(&e);
	}
	ctl_snapshot();
	ctl_announce();
	if (ctl_scrub_due == 0)
		ctl_scrub_due = time(NULL);
}

/*
 * A command or job may have removed or replaced a secret. secure_delete
 * zeroed it in the new image of its page, but SQLite's WAL still holds
 * the older images until it happens to overwrite them: a truncating
 * checkpoint takes them away (tests/cli/forget.sh). It costs a few
 * fsyncs (16 ms a command here), so it comes in the next second, after
 * the reply, and a burst of commands (a script adding a hundred keys)
 * pays for one a second. When the log writer or a reader holds it back
 * (it waits a quarter of a second at most), or the disk has too little
 * room for it, it is tried again a second later.
 */
static void
ctl_scrub(time_t now)
{
	static int	 failing;
	char		*cause = NULL;

	if (ctl_scrub_due == 0 || now == ctl_scrub_due)
		return;
	if (db_checkpoint(metapid->db, &cause) == 0) {
		ctl_scrub_due = 0;
		failing = 0;
		return;
	}
	if (!failing++)
		log_debug("checkpoint: %s; trying again", cause);
	free(cause);
	ctl_scrub_due = now;
}

/*
 * Daemons sharing the database hear of a change through its revision.
 * When the bump skipped a number, another daemon changed something
 * meanwhile that this one's rebuild may have read too early: the next
 * poll sees the difference and rebuilds again.
 */
static void
ctl_announce(void)
{
	struct err	e = { ERR_OK, NULL };
	long long	rev;

	if (!db_shared(metapid->db))
		return;
	if ((rev = revision_bump(metapid->db, &e)) < 0) {
		log_warnx("config revision: %s", e.msg);
		err_clear(&e);
		return;
	}
	if (rev == ctl_revision + 1)
		ctl_revision = rev;
}

/* At start, once the settings and the snapshot are loaded. */
void
ctl_watch_init(void)
{
	struct err	e = { ERR_OK, NULL };

	if (!db_shared(metapid->db))
		return;
	if ((ctl_revision = revision_get(metapid->db, &e)) < 0)
		err_clear(&e);
}

/*
 * Once a second with a shared database: another daemon changed the
 * configuration, so take its settings and rebuild the snapshot (its
 * route rebuild already wrote the routes).
 */
static void
ctl_watch(void)
{
	static struct timespec	 last;
	struct timespec		 now;
	struct err		 e = { ERR_OK, NULL };
	long long		 rev;
	char			*cause;

	if (!db_shared(metapid->db))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec == last.tv_sec)
		return;
	last = now;
	if ((rev = revision_get(metapid->db, &e)) < 0) {
		log_warnx("config revision: %s", e.msg);
		err_clear(&e);
		return;
	}
	if (rev == ctl_revision)
		return;
	log_info("configuration revision %lld (was %lld): reloading", rev,
	    ctl_revision);
	ctl_revision = rev;
	if (metapid_load_settings(&cause) != 0) {
		log_warnx("settings: %s", cause);
		free(cause);
	}
	ctl_snapshot();
}

/* Rebuild the snapshot only. */
static void
ctl_snapshot(void)
{
	struct err	e = { ERR_OK, NULL };

	clock_gettime(CLOCK_MONOTONIC, &ctl_rebuilt);
	ctl_usage_pending = 0;
	if (snapshot_rebuild(metapid->db, metapid->settings, &e) != 0) {
		log_warnx("snapshot rebuild: %s", e.msg);
		err_clear(&e);
	}
}

/*
 * Logged requests moved keys' usage counters, which key limits are
 * checked against. Under load this comes many times a second, so the
 * rebuild waits until a second has passed since the last one (the
 * benchmark showed rebuilds every 250 ms costing throughput);
 * ctl_tick() catches the last.
 */
void
ctl_usage_changed(void)
{
	struct timespec	now;
	long long	ms;

	/*
	 * The counters matter only to keys with a limit; with none, a
	 * rebuild a second would only take CPU from the requests (under
	 * load it showed in their p99).
	 */
	if (!snapshot_key_limits()) {
		ctl_usage_pending = 0;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - ctl_rebuilt.tv_sec) * 1000 +
	    (now.tv_nsec - ctl_rebuilt.tv_nsec) / 1000000;
	if (ms >= 1000)
		ctl_snapshot();
	else
		ctl_usage_pending = 1;
}

/* Every turn of the main loop (at least once a second). */
void
ctl_tick(void)
{
	static time_t	saved;
	struct err	e = { ERR_OK, NULL };
	time_t		now = time(NULL);

	if (ctl_usage_pending)
		ctl_usage_changed();
	ctl_scrub(now);
	ctl_watch();
	/* Cooldowns and counters reach the database once a minute. */
	if (now - saved >= 60) {
		saved = now;
		if (routestate_save(metapid->db, &e) != 0) {
			log_warnx("routing state: %s", e.msg);
			err_clear(&e);
		}
	}
}

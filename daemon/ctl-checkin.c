/*
 * checkin.* commands: check in now (synchronously, through account jobs)
 * and read the check-in log. The outcome of each account is success,
 * already, skipped or failed; any failure makes the command exit 1.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "account.h"
#include "adapter.h"
#include "checkin.h"
#include "daemon.h"
#include "event.h"
#include "err.h"
#include "jx.h"
#include "xmalloc.h"

static void
ctl_checkin_skip(struct acctjob_item *it, const char *why)
{
	it->checkin.outcome = CHECKIN_SKIPPED;
	it->checkin.message = xstrdup(why);
	it->has_checkin = 1;
}

static void
ctl_checkin_work(__unused struct acctjob *j, struct acctjob_item *it)
{
	const struct adapter_ops	*ops = it->ops;

	if (it->has_checkin)
		return;		/* decided on the main thread (claimed) */
	if (strcmp(it->ctx.status, "disabled") == 0)
		ctl_checkin_skip(it, "account is disabled");
	else if (it->ctx.acct.api_key != NULL)
		ctl_checkin_skip(it, "API-key accounts cannot check in");
	else if (!it->ctx.checkin_enabled)
		ctl_checkin_skip(it, "check-in is off for this account");
	else if (ops->checkin == NULL)
		ctl_checkin_skip(it, "the platform has no check-in");
	else if (acctjob_session(it) == 0) {
		if (ops->checkin(&it->ctx.acct, &it->checkin, &it->err) != 0 &&
		    (acctjob_relogin(it) != 0 || ops->checkin(&it->ctx.acct,
		    &it->checkin, &it->err) != 0)) {
			/* The site could not be asked: that is a failure too. */
			it->checkin.outcome = CHECKIN_FAILED;
			it->checkin.message = xstrdup(it->err.msg);
		}
		it->has_checkin = 1;
	}
	if (!it->has_checkin && it->err.code != ERR_OK) {
		it->checkin.outcome = CHECKIN_FAILED;
		it->checkin.message = xstrdup(it->err.msg);
		it->has_checkin = 1;
	}
}

static json_t *
ctl_checkin_store(struct acctjob *j, struct acctjob_item *it)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*o;
	char		*title;

	/* Only a check-in that happened keeps the day's claim. */
	if (it->claimed && it->checkin.outcome != CHECKIN_SUCCESS &&
	    it->checkin.outcome != CHECKIN_ALREADY)
		checkin_unclaim(metapid->db, it->ctx.id, j->day);
	if (it->ctx.site_name != NULL && !it->preset) {
		if ((it->ctx.acct.changed || it->logged_in) &&
		    it->err.code == ERR_OK)
			account_store_session(metapid->db, it->ctx.id,
			    &it->ctx.acct, &e);
		checkin_log_add(metapid->db, it->ctx.id, &it->checkin, &e);
		if (it->checkin.outcome == CHECKIN_SUCCESS ||
		    it->checkin.outcome == CHECKIN_ALREADY)
			account_mark_checkin(metapid->db, it->ctx.id,
			    (long long)time(NULL));
		if (it->checkin.outcome == CHECKIN_FAILED)
			account_set_health(metapid->db, it->ctx.id,
			    it->err.code == ERR_UNAUTHORIZED ? "expired" :
			    "unhealthy", it->checkin.message, "checkin");
		if (it->checkin.outcome == CHECKIN_FAILED) {
			xasprintf(&title, "check-in failed: account %lld on %s",
			    it->ctx.id, it->ctx.site_name);
			notify_event("checkin", "error", title,
			    it->checkin.message);
			free(title);
		} else if (it->checkin.outcome == CHECKIN_SUCCESS) {
			/* An event, not an alert: nobody needs waking. */
			xasprintf(&title, "checked in: account %lld on %s",
			    it->ctx.id, it->ctx.site_name);
			if (event_add(metapid->db, "checkin", "info", title,
			    it->checkin.message, "account", it->ctx.id,
			    &e) < 0)
				err_clear(&e);
			free(title);
		}
		err_clear(&e);
	}
	o = adapter_checkin_json(&it->checkin);
	json_object_set_new(o, "account_id", json_integer(it->ctx.id));
	jx_set_str_or_null(o, "site", it->ctx.site_name);
	if (it->checkin.outcome == CHECKIN_FAILED)
		json_object_set_new(o, "failed", json_true());
	/* The outcome says it all: the item is not an error of the command. */
	err_clear(&it->err);
	return (o);
}

/*
 * Check in accounts ids: each account's day is claimed in the database
 * first (on this, the main thread), so a manual run racing the scheduled
 * one, or a run after a restart, asks the site at most once a day.
 */
enum ctl_ret
ctl_checkin_start(struct ctl_req *req, const long long *ids, size_t n,
    acctjob_finish_cb finish, void *finish_arg, struct err *e)
{
	struct acctjob		*j;
	struct acctjob_item	*it;
	size_t			 i;

	j = acctjob_new(req, ctl_checkin_work, ctl_checkin_store, 0, n);
	j->finish = finish;
	j->finish_arg = finish_arg;
	checkin_today(j->day, sizeof j->day);
	if (acctjob_load(j, ids, e) != 0) {
		acctjob_discard(j);
		return (CTL_ERROR);
	}
	for (i = 0; i < n; i++) {
		it = &j->v[i];
		if (it->err.code != ERR_OK || it->ctx.acct.api_key != NULL ||
		    !it->ctx.checkin_enabled ||
		    strcmp(it->ctx.status, "disabled") == 0)
			continue;
		switch (checkin_claim(metapid->db, it->ctx.id, j->day,
		    &it->err)) {
		case 1:
			it->claimed = 1;
			break;
		case 0:
			it->checkin.outcome = CHECKIN_ALREADY;
			it->checkin.message = xstrdup("already checked in today "
			    "by metapi");
			it->has_checkin = 1;
			it->preset = 1;
			break;
		}
	}
	return (acctjob_run(req, j));
}

enum ctl_ret
ctl_checkin_run(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	long long	*ids;
	size_t		 n;
	enum ctl_ret	 ret;

	if (acctjob_ids(req, "checkin run", &ids, &n, e) != 0)
		return (CTL_ERROR);
	ret = ctl_checkin_start(req, ids, n, NULL, NULL, e);
	free(ids);
	return (ret);
}

enum ctl_ret
ctl_checkin_log(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	 account_id = 0, limit = 50;
	json_t		*o;

	if (jx_int(req->args, "account", &account_id) == 0) {
		if ((o = account_get(metapid->db, account_id, e)) == NULL)
			return (CTL_ERROR);
		json_decref(o);
	}
	if (jx_int(req->args, "limit", &limit) == 0 && (limit < 1 ||
	    limit > 10000)) {
		err_set(e, ERR_INVALID, "--limit must be from 1 to 10000");
		return (CTL_ERROR);
	}
	*reply = checkin_log_list(metapid->db, account_id, limit, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

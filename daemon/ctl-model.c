/* model list (the marketplace) and balance (with an optional refresh). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "adapter.h"
#include "daemon.h"
#include "err.h"
#include "jx.h"
#include "model.h"

enum ctl_ret
ctl_model_list(__unused struct ctl_req *req, json_t **reply, struct err *e)
{
	*reply = model_market(metapid->db, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

/* balance --refresh: ask each site for the balance first. */
static void
ctl_balance_work(__unused struct acctjob *j, struct acctjob_item *it)
{
	if (strcmp(it->ctx.status, "disabled") == 0 || it->ops->user == NULL ||
	    it->ctx.acct.api_key != NULL)
		return;
	if (acctjob_session(it) != 0)
		return;
	if (it->ops->user(&it->ctx.acct, &it->user, &it->err) != 0 &&
	    (acctjob_relogin(it) != 0 || it->ops->user(&it->ctx.acct,
	    &it->user, &it->err) != 0))
		return;
	it->has_user = 1;
}

static json_t *
ctl_balance_store(__unused struct acctjob *j, struct acctjob_item *it)
{
	struct err	e = { ERR_OK, NULL };

	if (it->has_user) {
		if ((it->ctx.acct.changed || it->logged_in) &&
		    account_store_session(metapid->db, it->ctx.id,
		    &it->ctx.acct, &e) == 0)
			err_clear(&e);
		account_store_user(metapid->db, it->ctx.id, &it->user, &e);
		err_clear(&e);
	} else if (it->err.code != ERR_OK && it->ctx.site_name != NULL)
		account_set_health(metapid->db, it->ctx.id,
		    it->err.code == ERR_UNAUTHORIZED ? "expired" : "unhealthy",
		    it->err.msg, "balance");
	return (acctjob_item_json(it));
}

/* The report, with the refresh's failures listed. */
static json_t *
ctl_balance_finish(__unused struct acctjob *j, json_t *items, int failed)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*o, *errors, *it;
	size_t		 i;

	if ((o = account_balances(metapid->db, &e)) == NULL) {
		o = json_pack("{s:s}", "error", e.msg);
		err_clear(&e);
		return (o);
	}
	errors = json_array();
	json_array_foreach(items, i, it)
		if (!jx_bool(it, "ok"))
			json_array_append(errors, it);
	json_object_set_new(o, "errors", errors);
	json_object_set_new(o, "failed", json_integer(failed));
	return (o);
}

enum ctl_ret
ctl_balance_show(struct ctl_req *req, json_t **reply, struct err *e)
{
	struct acctjob	*j;
	long long	*ids;
	size_t		 n;
	int		 rv;

	if (!jx_bool(req->args, "refresh")) {
		*reply = account_balances(metapid->db, e);
		return (*reply != NULL ? CTL_DONE : CTL_ERROR);
	}
	if (account_ids(metapid->db, &ids, &n, e) != 0)
		return (CTL_ERROR);
	j = acctjob_new(req, ctl_balance_work, ctl_balance_store, 0, n);
	j->finish = ctl_balance_finish;
	rv = acctjob_load(j, ids, e);
	free(ids);
	if (rv != 0) {
		acctjob_discard(j);
		return (CTL_ERROR);
	}
	return (acctjob_run(req, j));
}

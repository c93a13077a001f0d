/*
 * Account jobs: the shape every control command that talks to sites on
 * behalf of accounts shares. On the main thread the accounts are loaded
 * (credentials unsealed); on a worker thread each one's `work` runs
 * against its site; back on the main thread each one's `store` writes
 * what came back and returns its reply item. A failing account does not
 * stop the others; the reply counts the failures so the CLI can exit 1.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "adapter.h"
#include "daemon.h"
#include "err.h"
#include "jx.h"
#include "vault.h"
#include "xmalloc.h"

void
acctjob_item_free(struct acctjob_item *it)
{
	account_ctx_free(&it->ctx);
	err_clear(&it->err);
	adapter_user_free(&it->user);
	adapter_tokens_free(&it->tokens);
	adapter_prices_free(&it->prices);
	adapter_checkin_free(&it->checkin);
	json_decref(it->models);
	json_decref(it->token_models);
	vault_secret_free(it->key);
	free(it->arg);
	memset(it, 0, sizeof *it);
}

static void
acctjob_free(struct acctjob *j)
{
	size_t	i;

	for (i = 0; i < j->n; i++)
		acctjob_item_free(&j->v[i]);
	free(j->v);
	json_decref(j->args);
	free(j);
}

static int
acctjob_has_session(const struct adapter_acct *a)
{
	return (a->cookie != NULL || a->access_token != NULL);
}

/*
 * Worker side: log in when a password account has no session yet. Used
 * by every work function before its first call.
 */
int
acctjob_session(struct acctjob_item *it)
{
	const struct adapter_ops	*ops = it->ops;

	if (it->ctx.acct.password == NULL || acctjob_has_session(&it->ctx.acct))
		return (0);
	if (ops->login == NULL) {
		err_set(&it->err, ERR_INVALID, "%s sites have no password "
		    "login", ops->label);
		return (-1);
	}
	it->logged_in = 1;
	return (ops->login(&it->ctx.acct, &it->err));
}

/*
 * A call was refused as unauthorized: a password account logs in again
 * (once per job) so that the caller can retry. 0 means "retry".
 */
int
acctjob_relogin(struct acctjob_item *it)
{
	if (it->err.code != ERR_UNAUTHORIZED || it->ctx.acct.password == NULL ||
	    it->logged_in || it->ops->login == NULL)
		return (-1);
	it->logged_in = 1;
	vault_secret_free(it->ctx.acct.cookie);
	vault_secret_free(it->ctx.acct.access_token);
	it->ctx.acct.cookie = it->ctx.acct.access_token = NULL;
	err_clear(&it->err);
	return (it->ops->login(&it->ctx.acct, &it->err));
}

static void
acctjob_work(void *arg)
{
	struct acctjob	*j = arg;
	size_t		 i;

	for (i = 0; i < j->n; i++)
		if (j->v[i].err.code == ERR_OK)
			j->work(j, &j->v[i]);
}

/* The item's standard reply fields, and its error when it failed. */
json_t *
acctjob_item_json(struct acctjob_item *it)
{
	json_t	*o = json_object();

	json_object_set_new(o, "account_id", json_integer(it->ctx.id));
	jx_set_str_or_null(o, "site", it->ctx.site_name);
	json_object_set_new(o, "ok", json_boolean(it->err.code == ERR_OK));
	if (it->err.code != ERR_OK) {
		jx_set_str(o, "error", it->err.msg != NULL ? it->err.msg :
		    err_text(it->err.code));
		jx_set_str(o, "error_code", err_name(it->err.code));
	}
	return (o);
}

static enum ctl_ret
acctjob_done(void *arg, int alive, json_t **reply, struct err *e)
{
	struct acctjob	*j = arg;
	json_t		*items, *o;
	size_t		 i;
	int		 failed = 0;

	/*
	 * A client that left does not undo what the sites did: results are
	 * stored (and a job's run recorded) all the same, except where the
	 * command's whole point was its reply (account add).
	 */
	if (!alive && j->need_client) {
		acctjob_free(j);
		err_set(e, ERR_BUSY, "client went away; nothing saved");
		return (CTL_ERROR);
	}
	items = json_array();
	for (i = 0; i < j->n; i++) {
		o = j->store(j, &j->v[i]);
		if (j->v[i].err.code != ERR_OK || jx_bool(o, "failed"))
			failed++;
		json_array_append_new(items, o);
	}
	/* A single-account command fails as a whole, like any command. */
	if (j->single && j->n == 1 && j->v[0].err.code != ERR_OK) {
		err_set(e, j->v[0].err.code, "%s", j->v[0].err.msg);
		json_decref(items);
		acctjob_free(j);
		return (CTL_ERROR);
	}
	if (j->finish != NULL)
		*reply = j->finish(j, items, failed);
	else if (j->single && j->n == 1)
		*reply = json_incref(json_array_get(items, 0));
	else
		*reply = json_pack("{s:o, s:n, s:i}", "items", json_incref(items),
		    "next", "failed", failed);
	json_decref(items);
	acctjob_free(j);
	return (CTL_DONE);
}

/* A job of n accounts, to be filled (acctjob_load) and run. */
struct acctjob *
acctjob_new(struct ctl_req *req, acctjob_work_cb work, acctjob_store_cb store,
    int single, size_t n)
{
	struct acctjob	*j;

	j = xcalloc(1, sizeof *j);
	j->work = work;
	j->store = store;
	j->single = single;
	j->args = json_incref(req->args);
	j->v = xcalloc(n > 0 ? n : 1, sizeof *j->v);
	j->n = n;
	return (j);
}

void
acctjob_discard(struct acctjob *j)
{
	acctjob_free(j);
}

/*
 * Load the accounts ids into the job. One that cannot be loaded fails as
 * an item, except in a job of one, where it fails the command (-1).
 */
int
acctjob_load(struct acctjob *j, const long long *ids, struct err *e)
{
	struct acctjob_item	*it;
	size_t			 i;

	for (i = 0; i < j->n; i++) {
		it = &j->v[i];
		if (account_ctx_load(metapid->db, ids[i], settings_str(
		    metapid->settings, "system_proxy_url"), settings_int(
		    metapid->settings, "site_timeout_sec"), &it->ctx,
		    &it->err) != 0) {
			it->ctx.id = ids[i];
			if (j->n == 1) {
				err_set(e, it->err.code, "%s", it->err.msg);
				return (-1);
			}
			continue;
		}
		it->ctx.acct.connect_timeout_sec = settings_int(
		    metapid->settings, "proxy_connect_timeout_sec");
		if ((it->ops = adapter_find(it->ctx.acct.platform)) == NULL)
			err_set(&it->err, ERR_INVALID, "unknown platform %s",
			    it->ctx.acct.platform);
	}
	return (0);
}

/* Hand the job to a worker thread; the reply comes when it is done. */
enum ctl_ret
acctjob_run(struct ctl_req *req, struct acctjob *j)
{
	async_run(req, acctjob_work, acctjob_done, j);
	return (CTL_WAIT);
}

/* new + load + run, for commands with nothing to add in between. */
enum ctl_ret
acctjob_start(struct ctl_req *req, const long long *ids, size_t n,
    acctjob_work_cb work, acctjob_store_cb store, int single,
    struct err *e)
{
	struct acctjob	*j;

	j = acctjob_new(req, work, store, single, n);
	if (acctjob_load(j, ids, e) != 0) {
		acctjob_free(j);
		return (CTL_ERROR);
	}
	return (acctjob_run(req, j));
}

/*
 * The accounts a command names: "id", or every account with "all". Both
 * or neither is a usage error.
 */
int
acctjob_ids(struct ctl_req *req, const char *what, long long **ids,
    size_t *n, struct err *e)
{
	long long	id;
	int		all = jx_bool(req->args, "all");

	if ((jx_int(req->args, "id", &id) == 0) == all) {
		err_set(e, ERR_USAGE, "%s: give an account id or --all", what);
		return (-1);
	}
	if (all)
		return (account_ids(metapid->db, ids, n, e));
	*ids = xmalloc(sizeof **ids);
	(*ids)[0] = id;
	*n = 1;
	return (0);
}

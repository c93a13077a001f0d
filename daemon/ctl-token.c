/*
 * token.* commands: the API keys accounts hold on their sites. Sync,
 * create and rm talk to the site through account jobs; list and default
 * are local.
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
#include "route.h"
#include "token.h"
#include "xmalloc.h"

enum ctl_ret
ctl_token_list(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	 account_id = 0;
	json_t		*o;

	if (jx_int(req->args, "account", &account_id) == 0) {
		if ((o = account_get(metapid->db, account_id, e)) == NULL)
			return (CTL_ERROR);
		json_decref(o);
	}
	*reply = token_list(metapid->db, account_id, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

/* Fetch the account's tokens (after an optional create or delete). */
static void
ctl_token_fetch(struct acctjob_item *it)
{
	if (it->ops->tokens == NULL) {
		err_set(&it->err, ERR_INVALID, "%s accounts have no token "
		    "list", it->ops->label);
		return;
	}
	if (it->ctx.acct.api_key != NULL) {
		err_set(&it->err, ERR_INVALID, "account %lld was added with an "
		    "API key; it cannot manage tokens", it->ctx.id);
		return;
	}
	if (acctjob_session(it) != 0)
		return;
	if (it->ops->tokens(&it->ctx.acct, &it->tokens, &it->err) != 0 &&
	    (acctjob_relogin(it) != 0 || it->ops->tokens(&it->ctx.acct,
	    &it->tokens, &it->err) != 0))
		return;
	it->has_tokens = 1;
}

static void
ctl_token_sync_work(__unused struct acctjob *j, struct acctjob_item *it)
{
	ctl_token_fetch(it);
}

static json_t *
ctl_token_sync_store(__unused struct acctjob *j, struct acctjob_item *it)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*o;
	char		*cause;

	if (it->err.code == ERR_OK) {
		if (db_begin(metapid->db, &cause) != 0) {
			err_set(&it->err, ERR_STORAGE, "%s", cause);
			free(cause);
		} else if (((it->ctx.acct.changed || it->logged_in) &&
		    account_store_session(metapid->db, it->ctx.id,
		    &it->ctx.acct, &e) != 0) ||
		    token_sync(metapid->db, it->ctx.id, &it->tokens, NULL,
		    &e) != 0 || route_rebuild(metapid->db, &e) != 0) {
			db_rollback(metapid->db);
			err_set(&it->err, e.code, "%s", e.msg);
		} else if (db_commit(metapid->db, &cause) != 0) {
			err_set(&it->err, ERR_STORAGE, "%s", cause);
			free(cause);
		}
		err_clear(&e);
	}
	o = acctjob_item_json(it);
	if (it->err.code == ERR_OK)
		json_object_set_new(o, "tokens", json_integer(it->tokens.n));
	return (o);
}

enum ctl_ret
ctl_token_sync(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	long long	*ids;
	size_t		 n;
	enum ctl_ret	 ret;

	if (acctjob_ids(req, "token sync", &ids, &n, e) != 0)
		return (CTL_ERROR);
	ret = acctjob_start(req, ids, n, ctl_token_sync_work,
	    ctl_token_sync_store, 0, e);
	free(ids);
	return (ret);
}

/* Create a token on the site, then list again: sites return no id. */
static void
ctl_token_create_work(struct acctjob *j, struct acctjob_item *it)
{
	const char	*name = jx_str(j->args, "name");

	if (it->ops->token_create == NULL) {
		err_set(&it->err, ERR_INVALID, "%s accounts cannot create "
		    "tokens", it->ops->label);
		return;
	}
	if (it->ctx.acct.api_key != NULL) {
		err_set(&it->err, ERR_INVALID, "account %lld was added with an "
		    "API key; it cannot manage tokens", it->ctx.id);
		return;
	}
	if (acctjob_session(it) != 0)
		return;
	if (it->ops->token_create(&it->ctx.acct, name != NULL ? name :
	    "metapi", jx_str(j->args, "group"), &it->err) != 0 &&
	    (acctjob_relogin(it) != 0 || it->ops->token_create(&it->ctx.acct,
	    name != NULL ? name : "metapi", jx_str(j->args, "group"),
	    &it->err) != 0))
		return;
	ctl_token_fetch(it);
}

static json_t *
ctl_token_create_store(struct acctjob *j, struct acctjob_item *it)
{
	json_t	*o = ctl_token_sync_store(j, it);

	if (it->err.code == ERR_OK) {
		json_decref(o);
		o = token_list(metapid->db, it->ctx.id, &it->err);
	}
	return (o);
}

enum ctl_ret
ctl_token_create(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	long long	 id = 0;
	const char	*name = jx_str(req->args, "name");

	if (name != NULL && (*name == '\0' || strlen(name) > 50)) {
		err_set(e, ERR_INVALID, "--name must be 1 to 50 characters");
		return (CTL_ERROR);
	}
	jx_int(req->args, "account", &id);
	return (acctjob_start(req, &id, 1, ctl_token_create_work,
	    ctl_token_create_store, 1, e));
}

/* Delete on the site first; the local row goes only when the site agreed. */
static void
ctl_token_rm_work(__unused struct acctjob *j, struct acctjob_item *it)
{
	if (it->ops->token_delete == NULL) {
		err_set(&it->err, ERR_INVALID, "%s accounts cannot delete "
		    "tokens", it->ops->label);
		return;
	}
	if (it->arg == NULL) {
		err_set(&it->err, ERR_INVALID, "the site gave this token no id");
		return;
	}
	if (acctjob_session(it) != 0)
		return;
	if (it->ops->token_delete(&it->ctx.acct, it->arg, &it->err) != 0 &&
	    acctjob_relogin(it) == 0)
		it->ops->token_delete(&it->ctx.acct, it->arg, &it->err);
}

static json_t *
ctl_token_rm_store(struct acctjob *j, struct acctjob_item *it)
{
	json_t		*o;
	long long	 id = 0;

	jx_int(j->args, "id", &id);
	o = acctjob_item_json(it);
	/* Its channels go now, and a route only it served with them. */
	if (it->err.code == ERR_OK && token_rm(metapid->db, id, &it->err) == 0 &&
	    route_rebuild(metapid->db, &it->err) == 0)
		json_object_set_new(o, "removed", json_integer(id));
	return (o);
}

enum ctl_ret
ctl_token_rm(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	struct acctjob	*j;
	long long	 id = 0, account_id;
	char		*remote;

	jx_int(req->args, "id", &id);
	if (token_owner(metapid->db, id, &account_id, &remote, e) != 0)
		return (CTL_ERROR);
	j = acctjob_new(req, ctl_token_rm_work, ctl_token_rm_store, 1, 1);
	if (acctjob_load(j, &account_id, e) != 0) {
		free(remote);
		acctjob_discard(j);
		return (CTL_ERROR);
	}
	j->v[0].arg = remote;
	return (acctjob_run(req, j));
}

enum ctl_ret
ctl_token_default(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	id = 0;

	jx_int(req->args, "id", &id);
	*reply = token_set_default(metapid->db, id, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

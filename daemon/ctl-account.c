/*
 * account.* commands. `account add` verifies the credential against the
 * site before anything is stored: the network call runs on a worker
 * thread (async_run) and the insert happens back on the main thread once
 * the site said yes. A rejected credential stores nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "compat.h"
#include "buf.h"
#include "daemon.h"
#include "err.h"
#include "jx.h"
#include "site.h"
#include "upstream.h"
#include "vault.h"
#include "xmalloc.h"

#define ACCOUNT_VERIFY_TIMEOUT_SEC	30
#define ACCOUNT_VERIFY_MAX_BODY		(8 * 1024 * 1024)

struct account_verify {
	long long		 site_id;
	struct site_conn	*site;
	char			*proxy;		/* effective proxy or NULL */
	char			*secret;	/* sodium memory */
	json_t			*args;
	struct err		 result;	/* set by the worker */
	int			 models;	/* models the site listed */
};

static enum ctl_ret
ctl_account_done(json_t **reply, json_t *o)
{
	*reply = o;
	return (o != NULL ? CTL_DONE : CTL_ERROR);
}

/* GET /v1/models with the key: the cheapest call every platform answers. */
static void
ctl_account_verify_work(void *arg)
{
	struct account_verify	*v = arg;
	struct upstream_req	 req;
	struct upstream_resp	 resp;
	const char		*hdrs[40];
	char			*url, *auth, *cause = NULL;
	size_t			 n = 0, len, i;
	json_t			*body, *data;
	int			 claude;

	claude = strcmp(v->site->platform, "claude") == 0;
	len = strlen(v->site->url);
	if (len >= 3 && strcmp(v->site->url + len - 3, "/v1") == 0)
		xasprintf(&url, "%s/models", v->site->url);
	else
		xasprintf(&url, "%s/v1/models", v->site->url);
	if (claude) {
		xasprintf(&auth, "x-api-key: %s", v->secret);
		hdrs[n++] = auth;
		hdrs[n++] = "anthropic-version: 2023-06-01";
	} else {
		xasprintf(&auth, "Authorization: Bearer %s", v->secret);
		hdrs[n++] = auth;
	}
	hdrs[n++] = "Accept: application/json";
	for (i = 0; v->site->headers[i] != NULL && n < nitems(hdrs) - 1; i++)
		hdrs[n++] = v->site->headers[i];
	hdrs[n] = NULL;

	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.url = url;
	req.headers = hdrs;
	req.proxy = v->proxy;
	req.timeout_sec = ACCOUNT_VERIFY_TIMEOUT_SEC;
	req.max_body = ACCOUNT_VERIFY_MAX_BODY;
	if (upstream_do(&req, &resp, &cause) != 0) {
		err_set(&v->result, ERR_UPSTREAM, "cannot verify the key: %s",
		    cause);
		free(cause);
		goto out;
	}
	if (resp.status == 401 || resp.status == 403) {
		err_set(&v->result, ERR_UNAUTHORIZED, "the site rejected the "
		    "API key (HTTP %ld from %s)", resp.status, url);
		goto out;
	}
	if (resp.status != 200) {
		err_set(&v->result, ERR_UPSTREAM, "cannot verify the key: HTTP "
		    "%ld from %s", resp.status, url);
		goto out;
	}
	body = json_loadb(buf_cstr(&resp.body), resp.body.len, 0, NULL);
	data = json_object_get(body, "data");
	if (!json_is_array(data)) {
		err_set(&v->result, ERR_UPSTREAM, "cannot verify the key: %s "
		    "did not answer with a model list (a WAF or login page?)",
		    url);
		json_decref(body);
		goto out;
	}
	v->models = json_array_size(data);
	json_decref(body);
out:
	upstream_resp_free(&resp);
	memset(auth, 0, strlen(auth));
	free(auth);
	free(url);
}

static enum ctl_ret
ctl_account_verify_done(void *arg, int alive, json_t **reply, struct err *e)
{
	struct account_verify	*v = arg;
	json_t			*o = NULL;

	if (!alive)
		err_set(e, ERR_BUSY, "client went away; nothing saved");
	else if (v->result.code != ERR_OK)
		err_set(e, v->result.code, "%s", v->result.msg);
	else if ((o = account_add(metapid->db, v->site_id, v->args, e)) != NULL)
		json_object_set_new(o, "models_found",
		    json_integer(v->models));
	err_clear(&v->result);
	site_conn_free(v->site);
	vault_secret_free(v->secret);
	free(v->proxy);
	json_decref(v->args);
	free(v);
	*reply = o;
	return (o != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_account_add(struct ctl_req *req, json_t **reply, struct err *e)
{
	struct account_verify	*v;
	struct site_conn	*sc;
	const char		*kind, *proxy;
	long long		 site_id;

	if (site_resolve(metapid->db, jx_str(req->args, "site"), &site_id,
	    e) != 0)
		return (CTL_ERROR);
	if (account_check_credentials(req->args, &kind, e) != 0)
		return (CTL_ERROR);
	if (strcmp(kind, "api_key") != 0) {
		err_set(e, ERR_INVALID, "logging in with %s needs the platform "
		    "adapters, which this version does not have yet; add the "
		    "account with --api-key", strcmp(kind, "password") == 0 ?
		    "--username/--password" : strcmp(kind, "cookie") == 0 ?
		    "--cookie" : "--access-token");
		return (CTL_ERROR);
	}
	if ((sc = site_conn_get(metapid->db, site_id, e)) == NULL)
		return (CTL_ERROR);
	v = xcalloc(1, sizeof *v);
	v->site_id = site_id;
	v->site = sc;
	proxy = sc->proxy != NULL ? sc->proxy :
	    settings_str(metapid->settings, "system_proxy_url");
	if (proxy != NULL && *proxy != '\0')
		v->proxy = xstrdup(proxy);
	v->secret = vault_secret_dup(jx_str(req->args, "api_key"));
	v->args = json_deep_copy(req->args);
	async_run(req, ctl_account_verify_work, ctl_account_verify_done, v);
	return (CTL_WAIT);
}

enum ctl_ret
ctl_account_list(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	 site_id = 0;
	const char	*site = jx_str(req->args, "site");

	if (site != NULL && site_resolve(metapid->db, site, &site_id, e) != 0)
		return (CTL_ERROR);
	return (ctl_account_done(reply, account_list(metapid->db, site_id,
	    e)));
}

static long long
ctl_account_id(struct ctl_req *req)
{
	long long	id = 0;

	jx_int(req->args, "id", &id);
	return (id);
}

enum ctl_ret
ctl_account_show(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_account_done(reply, account_get(metapid->db,
	    ctl_account_id(req), e)));
}

enum ctl_ret
ctl_account_rm(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	 id = ctl_account_id(req);
	json_t		*o;

	if ((o = account_get(metapid->db, id, e)) == NULL)
		return (CTL_ERROR);
	if (account_rm(metapid->db, id, e) != 0) {
		json_decref(o);
		return (CTL_ERROR);
	}
	json_object_set_new(o, "removed", json_true());
	return (ctl_account_done(reply, o));
}

enum ctl_ret
ctl_account_enable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_account_done(reply, account_set_enabled(metapid->db,
	    ctl_account_id(req), 1, e)));
}

enum ctl_ret
ctl_account_disable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_account_done(reply, account_set_enabled(metapid->db,
	    ctl_account_id(req), 0, e)));
}

/*
 * Plain OpenAI- and Anthropic-compatible endpoints: an API key and a
 * model list, nothing to log into, no balance, no check-in.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapter.h"
#include "err.h"
#include "relay.h"
#include "xmalloc.h"

/* The models path relative to the base URL, which may end in /v1 (/v4). */
static const char *
direct_models_path(const char *url)
{
	return (relay_base_versioned(url) ? "/models" : "/v1/models");
}

/*
 * GET /v1/models with the key -> array of model ids. A 401/403 means the
 * key is bad; a reply without a "data" array is not a model list (a WAF
 * or login page, or the wrong URL).
 */
static int
direct_models(struct adapter_acct *a, const char *key, json_t **out,
    struct err *e, int anthropic)
{
	struct adapter_resp	 r;
	const char		*hdrs[3];
	char			*auth;
	json_t			*data, *m, *list;
	size_t			 i;

	if (key == NULL)
		key = a->api_key;
	if (key == NULL) {
		err_set(e, ERR_INVALID, "listing models needs an API key");
		return (-1);
	}
	if (anthropic) {
		xasprintf(&auth, "x-api-key: %s", key);
		hdrs[0] = auth;
		hdrs[1] = "anthropic-version: 2023-06-01";
		hdrs[2] = NULL;
	} else {
		xasprintf(&auth, "Authorization: Bearer %s", key);
		hdrs[0] = auth;
		hdrs[1] = NULL;
	}
	if (adapter_http(a, "GET", direct_models_path(a->url), hdrs, NULL, &r,
	    e) != 0) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
		return (-1);
	}
	explicit_bzero(auth, strlen(auth));
	free(auth);
	if (r.status == 401 || r.status == 403) {
		err_set(e, ERR_UNAUTHORIZED, "the site rejected the API key "
		    "(HTTP %ld)", r.status);
		goto fail;
	}
	if (adapter_json(&r, "model list", e) != 0)
		goto fail;
	if (r.status != 200) {
		err_set(e, ERR_UPSTREAM, "model list: HTTP %ld", r.status);
		goto fail;
	}
	data = json_object_get(r.json, "data");
	if (!json_is_array(data)) {
		err_set(e, ERR_UPSTREAM, "model list: the reply has no \"data\" "
		    "list (a WAF or login page, or the wrong URL?)");
		goto fail;
	}
	list = json_array();
	json_array_foreach(data, i, m) {
		if (json_is_string(json_object_get(m, "id")))
			json_array_append(list, json_object_get(m, "id"));
	}
	*out = list;
	adapter_resp_free(&r);
	return (0);
fail:
	adapter_resp_free(&r);
	return (-1);
}

static int
direct_openai_models(struct adapter_acct *a, const char *key, json_t **out,
    struct err *e)
{
	return (direct_models(a, key, out, e, 0));
}

static int
direct_claude_models(struct adapter_acct *a, const char *key, json_t **out,
    struct err *e)
{
	return (direct_models(a, key, out, e, 1));
}

const struct adapter_ops adapter_openai_ops = {
	.name = "openai",
	.label = "OpenAI-compatible",
	.models = direct_openai_models,
};

const struct adapter_ops adapter_claude_ops = {
	.name = "claude",
	.label = "Anthropic-compatible",
	.flags = ADAPTER_ANTHROPIC,
	.models = direct_claude_models,
};

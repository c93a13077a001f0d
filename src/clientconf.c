/*
 * Client setup: for each client `metapi connect` knows, where its config
 * file lives, how metapi's part is merged into what the file holds, the
 * environment it reads and the instructions a person follows. Pure: the
 * caller gives the listen address, the key, the models and the file's old
 * content, and reads, shows and writes files itself (tui/connect.c).
 *
 * Formats, as each client documents them:
 * - Claude Code: ~/.claude/settings.json, "env" with ANTHROPIC_BASE_URL
 *   (the root: it appends /v1/messages) and ANTHROPIC_AUTH_TOKEN (sent as
 *   "Authorization: Bearer").
 * - Codex CLI: $CODEX_HOME/config.toml (~/.codex), a [model_providers.ID]
 *   table (name, base_url, env_key, wire_api) chosen by the top-level
 *   model_provider; the key stays in the environment variable env_key
 *   names.
 * - OpenCode: $XDG_CONFIG_HOME/opencode/opencode.json (~/.config), a
 *   "provider" entry using the @ai-sdk/openai-compatible package with
 *   options.baseURL, options.apiKey and its models.
 * - Cherry Studio and the OpenAI SDKs have no file to write here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "clientconf.h"
#include "compat.h"
#include "err.h"
#include "i18n.h"
#include "jx.h"
#include "modelpat.h"
#include "tomledit.h"
#include "width.h"
#include "xmalloc.h"

#define CLIENTCONF_MAX		(16 * 1024 * 1024)
#define CLIENTCONF_ID		"metapi"	/* the provider's name */
#define CLIENTCONF_ENV_KEY	"METAPI_API_KEY"
#define CLIENTCONF_MODELS_SHOWN	20
#define CLIENTCONF_OPENCODE_SCHEMA "https://opencode.ai/config.json"

/* 'text' for a POSIX shell. */
char *
clientconf_shell_quote(const char *s)
{
	struct buf	b;

	buf_init(&b, CLIENTCONF_MAX);
	buf_addstr(&b, "'");
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_addstr(&b, "'\\''");
		else
			buf_add(&b, s, 1);
	}
	buf_addstr(&b, "'");
	return (buf_cstr(&b));
}

/* A JSON string literal, which is also a Python and JavaScript one. */
static char *
clientconf_literal(const char *s)
{
	json_t	*v = json_string(s);
	char	*out;

	out = json_dumps(v, JSON_ENCODE_ANY);
	json_decref(v);
	return (out != NULL ? out : xstrdup("\"\""));
}

static void
clientconf_export(struct buf *b, const char *name, const char *value)
{
	char	*q = clientconf_shell_quote(value);

	buf_printf(b, "export %s=%s\n", name, q);
	free(q);
}

/* "a, b, c and 12 more" of the key's models, or a placeholder. */
static void
clientconf_model_names(struct buf *b, json_t *models)
{
	size_t	i, n = json_array_size(models);

	if (n == 0) {
		buf_addstr(b, _("(none yet: add a site and an account)"));
		return;
	}
	for (i = 0; i < n && i < CLIENTCONF_MODELS_SHOWN; i++)
		buf_printf(b, "%s%s", i > 0 ? ", " : "",
		    json_string_value(json_array_get(models, i)));
	if (n > CLIENTCONF_MODELS_SHOWN)
		buf_printf(b, _(" and %zu more"), n - CLIENTCONF_MODELS_SHOWN);
}

/* A model to put in examples: the first one, or a common name. */
static const char *
clientconf_example_model(const struct clientconf_in *in)
{
	const char	*m = json_string_value(json_array_get(in->models, 0));

	return (m != NULL ? m : "gpt-4o-mini");
}

/*
 * A JSON file's old content as an object ({} when empty). Printed back
 * with as few digits as give the same numbers (0.7, not
 * 0.69999999999999996) and a final newline.
 */
static json_t *
clientconf_json_load(const char *old, char **cause)
{
	json_error_t	 je;
	json_t		*root;
	const char	*p;

	for (p = old != NULL ? old : ""; *p == ' ' || *p == '\t' ||
	    *p == '\n' || *p == '\r'; p++)
		;
	if (*p == '\0')
		return (json_object());
	if ((root = json_loads(old, 0, &je)) == NULL) {
		xasprintf(cause, _("not valid JSON (line %d: %s); fix or move "
		    "the file first"), je.line, je.text);
		return (NULL);
	}
	if (!json_is_object(root)) {
		xasprintf(cause, "%s", _("not a JSON object; fix or move the "
		    "file first"));
		json_decref(root);
		return (NULL);
	}
	return (root);
}

static char *
clientconf_json_dump(json_t *root)
{
	json_t	*back;
	char	*s, *out;
	size_t	 flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;

	s = json_dumps(root, flags | JSON_REAL_PRECISION(15));
	back = s != NULL ? json_loads(s, 0, NULL) : NULL;
	if (back == NULL || !json_equal(back, root)) {
		free(s);
		s = json_dumps(root, flags | JSON_REAL_PRECISION(17));
	}
	json_decref(back);
	xasprintf(&out, "%s\n", s != NULL ? s : "{}");
	free(s);
	return (out);
}

/* o[key], made an empty object when absent; NULL when not an object. */
static json_t *
clientconf_json_member(json_t *o, const char *key, char **cause)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL) {
		v = json_object();
		json_object_set_new(o, key, v);
	}
	if (!json_is_object(v)) {
		xasprintf(cause, _("\"%s\" is not an object; fix or move the "
		    "file first"), key);
		return (NULL);
	}
	return (v);
}

/* Claude Code */

static char *
clientconf_claude_path(const struct clientconf_env *env)
{
	char	*s;

	xasprintf(&s, "%s/.claude/settings.json", env->home);
	return (s);
}

static char *
clientconf_claude_merge(const struct clientconf_in *in, const char *old,
    char **cause)
{
	json_t	*root, *env;
	char	*out = NULL;

	if ((root = clientconf_json_load(old, cause)) == NULL)
		return (NULL);
	if ((env = clientconf_json_member(root, "env", cause)) != NULL) {
		json_object_set_new(env, "ANTHROPIC_BASE_URL",
		    json_string(in->root));
		json_object_set_new(env, "ANTHROPIC_AUTH_TOKEN",
		    json_string(in->key));
		out = clientconf_json_dump(root);
	}
	json_decref(root);
	return (out);
}

static json_t *
clientconf_claude_env(const struct clientconf_in *in)
{
	return (json_pack("{s:s, s:s}", "ANTHROPIC_BASE_URL", in->root,
	    "ANTHROPIC_AUTH_TOKEN", in->key));
}

static void
clientconf_claude_text(const struct clientconf_in *in, const char *content,
    struct buf *b)
{
	buf_printf(b, _("# Claude Code reads %s (merge this in, or run with "
	    "--write):\n"), in->path);
	buf_addstr(b, content);
	buf_printf(b, "\n%s\n", _("# Or, for one shell session:"));
	clientconf_export(b, "ANTHROPIC_BASE_URL", in->root);
	clientconf_export(b, "ANTHROPIC_AUTH_TOKEN", in->key);
}

/* Codex CLI */

static char *
clientconf_codex_path(const struct clientconf_env *env)
{
	char	*s;

	if (env->codex_home != NULL && *env->codex_home != '\0')
		xasprintf(&s, "%s/config.toml", env->codex_home);
	else
		xasprintf(&s, "%s/.codex/config.toml", env->home);
	return (s);
}

static char *
clientconf_codex_merge(const struct clientconf_in *in, const char *old,
    char **cause)
{
	char	*url, *body, *mid, *out;

	xasprintf(&body, "%s/v1", in->root);
	url = clientconf_literal(body);
	free(body);
	/* JSON's string escapes are a subset of TOML's. */
	xasprintf(&body, "name = \"%s\"\nbase_url = %s\n"
	    "env_key = \"%s\"\nwire_api = \"responses\"\n", CLIENTCONF_ID,
	    url, CLIENTCONF_ENV_KEY);
	free(url);
	mid = tomledit_set_key(old != NULL ? old : "", "model_provider",
	    "model_provider = \"" CLIENTCONF_ID "\"\n", cause);
	out = mid != NULL ? tomledit_set_table(mid, "model_providers."
	    CLIENTCONF_ID, body, cause) : NULL;
	free(mid);
	free(body);
	return (out);
}

static json_t *
clientconf_codex_env(const struct clientconf_in *in)
{
	return (json_pack("{s:s}", CLIENTCONF_ENV_KEY, in->key));
}

static void
clientconf_codex_text(const struct clientconf_in *in, const char *content,
    struct buf *b)
{
	buf_printf(b, _("# Codex CLI reads %s (merge this in, or run with "
	    "--write):\n"), in->path);
	buf_addstr(b, content);
	buf_printf(b, "\n%s\n", _("# Codex reads the key from the environment; "
	    "put this in your shell profile:"));
	clientconf_export(b, CLIENTCONF_ENV_KEY, in->key);
	buf_printf(b, "\n%s\n", _("# Choose a model with `codex -m MODEL` or "
	    "model = \"MODEL\" in the file."));
	buf_printf(b, "%s ", _("# Models this key can use:"));
	clientconf_model_names(b, in->models);
	buf_addstr(b, "\n");
}

/* OpenCode */

static char *
clientconf_opencode_path(const struct clientconf_env *env)
{
	char	*s;

	if (env->xdg_config_home != NULL && *env->xdg_config_home == '/')
		xasprintf(&s, "%s/opencode/opencode.json",
		    env->xdg_config_home);
	else
		xasprintf(&s, "%s/.config/opencode/opencode.json", env->home);
	return (s);
}

static char *
clientconf_opencode_merge(const struct clientconf_in *in, const char *old,
    char **cause)
{
	json_t		*root, *top, *prov, *models, *v;
	const char	*k, *m;
	char		*out = NULL, *url;
	size_t		 i;

	if ((root = clientconf_json_load(old, cause)) == NULL)
		return (NULL);
	/* "$schema" goes first, as OpenCode writes it. */
	if (json_object_get(root, "$schema") == NULL) {
		top = json_pack("{s:s}", "$schema", CLIENTCONF_OPENCODE_SCHEMA);
		json_object_foreach(root, k, v)
			json_object_set(top, k, v);
		json_decref(root);
		root = top;
	}
	if ((prov = clientconf_json_member(root, "provider", cause)) == NULL)
		goto out;
	models = json_object();
	json_array_foreach(in->models, i, v)
		if ((m = json_string_value(v)) != NULL)
			json_object_set_new(models, m, json_pack("{s:s}",
			    "name", m));
	xasprintf(&url, "%s/v1", in->root);
	json_object_set_new(prov, CLIENTCONF_ID, json_pack("{s:s, s:s, "
	    "s:{s:s, s:s}, s:o}", "npm", "@ai-sdk/openai-compatible", "name",
	    CLIENTCONF_ID, "options", "baseURL", url, "apiKey", in->key,
	    "models", models));
	free(url);
	out = clientconf_json_dump(root);
out:
	json_decref(root);
	return (out);
}

static void
clientconf_opencode_text(const struct clientconf_in *in, const char *content,
    struct buf *b)
{
	buf_printf(b, _("# OpenCode reads %s (merge this in, or run with "
	    "--write):\n"), in->path);
	buf_addstr(b, content);
	buf_printf(b, "\n%s\n", _("# In OpenCode, pick a model as "
	    "metapi/MODEL (/models)."));
}

/* Cherry Studio */

/* "  Label           value": labels padded to one column, CJK or not. */
static void
clientconf_field(struct buf *b, const char *label, const char *value)
{
	size_t	w = width_utf8(label);

	buf_printf(b, "  %s%*s %s", label, w < 16 ? (int)(16 - w) : 0, "",
	    value);
}

static void
clientconf_cherry_text(const struct clientconf_in *in,
    __unused const char *content, struct buf *b)
{
	buf_printf(b, "%s\n", _("Cherry Studio keeps its settings in its own "
	    "database: add a provider by hand\n"
	    "(Settings > Model Provider > Add) with these fields:"));
	clientconf_field(b, _("Provider name"), CLIENTCONF_ID "\n");
	clientconf_field(b, _("Provider type"), "OpenAI\n");
	clientconf_field(b, _("API host"), in->root);
	buf_addstr(b, "\n");
	clientconf_field(b, _("API key"), in->key);
	buf_addstr(b, "\n");
	clientconf_field(b, _("Models"), "");
	clientconf_model_names(b, in->models);
	buf_printf(b, "\n%s\n", _("Manage fetches the model list; Check tests "
	    "the key. Claude models also work\nwith the provider type "
	    "Anthropic and the same API host and key."));
}

/* OpenAI SDKs */

static json_t *
clientconf_sdk_env(const struct clientconf_in *in)
{
	json_t	*o;
	char	*url;

	xasprintf(&url, "%s/v1", in->root);
	o = json_pack("{s:s, s:s}", "OPENAI_BASE_URL", url, "OPENAI_API_KEY",
	    in->key);
	free(url);
	return (o);
}

static void
clientconf_sdk_text(const struct clientconf_in *in,
    __unused const char *content, struct buf *b)
{
	char	*url, *m;

	m = clientconf_literal(clientconf_example_model(in));
	xasprintf(&url, "%s/v1", in->root);
	buf_printf(b, "%s\n", _("# The OpenAI SDKs read these two variables:"));
	clientconf_export(b, "OPENAI_BASE_URL", url);
	clientconf_export(b, "OPENAI_API_KEY", in->key);
	buf_printf(b, "\n%s\n", _("# Python (pip install openai):"));
	buf_printf(b, "from openai import OpenAI\n\n"
	    "client = OpenAI()\n"
	    "r = client.chat.completions.create(model=%s,\n"
	    "    messages=[{\"role\": \"user\", \"content\": \"Hello\"}])\n"
	    "print(r.choices[0].message.content)\n", m);
	buf_printf(b, "\n%s\n", _("# Node.js (npm install openai), as an "
	    "ES module:"));
	buf_printf(b, "import OpenAI from \"openai\";\n\n"
	    "const client = new OpenAI();\n"
	    "const r = await client.chat.completions.create({ model: %s,\n"
	    "    messages: [{ role: \"user\", content: \"Hello\" }] });\n"
	    "console.log(r.choices[0].message.content);\n", m);
	buf_printf(b, "\n%s ", _("# Models this key can use:"));
	clientconf_model_names(b, in->models);
	buf_addstr(b, "\n");
	free(url);
	free(m);
}

static json_t *
clientconf_no_env(__unused const struct clientconf_in *in)
{
	return (json_object());
}

/* The clients, in the order help lists them. */
const struct clientconf_client clientconf_table[] = {
	{ "claude-code", "Claude Code", CLIENTCONF_KEY_IN_FILE,
	  clientconf_claude_path, clientconf_claude_merge,
	  clientconf_claude_env, clientconf_claude_text },
	{ "codex", "Codex CLI", CLIENTCONF_OPENAI | CLIENTCONF_NEEDS_ENV,
	  clientconf_codex_path, clientconf_codex_merge,
	  clientconf_codex_env, clientconf_codex_text },
	{ "opencode", "OpenCode", CLIENTCONF_OPENAI | CLIENTCONF_KEY_IN_FILE,
	  clientconf_opencode_path, clientconf_opencode_merge,
	  clientconf_no_env, clientconf_opencode_text },
	{ "cherry-studio", "Cherry Studio", 0, NULL, NULL,
	  clientconf_no_env, clientconf_cherry_text },
	{ "openai-sdk", "OpenAI SDK", CLIENTCONF_OPENAI, NULL, NULL,
	  clientconf_sdk_env, clientconf_sdk_text },
};
const size_t clientconf_table_count = sizeof clientconf_table /
    sizeof clientconf_table[0];

const struct clientconf_client *
clientconf_find(const char *name)
{
	size_t	i;

	for (i = 0; i < clientconf_table_count; i++)
		if (strcmp(clientconf_table[i].name, name) == 0)
			return (&clientconf_table[i]);
	return (NULL);
}

/* "claude-code, codex, ...", for messages. */
char *
clientconf_names(void)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, CLIENTCONF_MAX);
	for (i = 0; i < clientconf_table_count; i++)
		buf_printf(&b, "%s%s", i > 0 ? ", " : "",
		    clientconf_table[i].name);
	return (buf_cstr(&b));
}

/*
 * "http://HOST:PORT" from the daemon's listen address ("HOST:PORT",
 * "[V6]:PORT"). A wildcard address is reached through loopback: 0.0.0.0
 * as 127.0.0.1, :: as [::1] (a socket bound to :: alone may not take
 * IPv4).
 */
char *
clientconf_root(const char *listen, char **cause)
{
	const char	*colon, *port;
	char		*host, *s;
	size_t		 n;

	if (listen == NULL || (colon = strrchr(listen, ':')) == NULL ||
	    colon == listen || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		xasprintf(cause, _("the daemon gave no usable listen address "
		    "(%s)"), listen != NULL ? listen : "none");
		return (NULL);
	}
	port = colon + 1;
	n = colon - listen;
	host = xstrndup(listen, n);
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0) {
		free(host);
		host = xstrdup("127.0.0.1");
	} else if (strcmp(host, "[::]") == 0 || strcmp(host, "::") == 0) {
		free(host);
		host = xstrdup("[::1]");
	} else if (strchr(host, ':') != NULL && host[0] != '[') {
		s = host;
		xasprintf(&host, "[%s]", s);
		free(s);
	}
	xasprintf(&s, "http://%s:%s", host, port);
	free(host);
	return (s);
}

char *
clientconf_base_url(const struct clientconf_client *c, const char *root)
{
	char	*s;

	if (c->flags & CLIENTCONF_OPENAI)
		xasprintf(&s, "%s/v1", root);
	else
		s = xstrdup(root);
	return (s);
}

static int
clientconf_key_usable(json_t *k)
{
	return (jx_bool(k, "enabled") && !jx_bool(k, "expired"));
}

/*
 * The key to configure, from key.list's items: the one asked for (id >=
 * 0), else the only usable one. NULL and *cause when there is none, it
 * cannot be used, or several could be. Borrowed.
 */
json_t *
clientconf_pick_key(json_t *items, long long want, char **cause)
{
	struct buf	 b;
	json_t		*k, *found = NULL;
	json_int_t	 id;
	size_t		 i, usable = 0;

	json_array_foreach(items, i, k) {
		id = json_integer_value(json_object_get(k, "id"));
		if (want >= 0 && id == want)
			found = k;
		if (want < 0 && clientconf_key_usable(k)) {
			usable++;
			found = k;
		}
	}
	if (want >= 0) {
		if (found == NULL)
			xasprintf(cause, _("no key %lld (`metapi key list` "
			    "shows them)"), want);
		else if (!jx_bool(found, "enabled"))
			xasprintf(cause, _("key %lld is disabled; `metapi key "
			    "enable %lld` first"), want, want);
		else if (jx_bool(found, "expired"))
			xasprintf(cause, _("key %lld has expired; add a new "
			    "one with `metapi key add NAME`"), want);
		else
			return (found);
		return (NULL);
	}
	if (usable == 1)
		return (found);
	if (json_array_size(items) == 0) {
		xasprintf(cause, "%s", _("there is no downstream key yet: run "
		    "`metapi key add NAME` first"));
		return (NULL);
	}
	buf_init(&b, CLIENTCONF_MAX);
	json_array_foreach(items, i, k) {
		if (usable > 0 && !clientconf_key_usable(k))
			continue;
		buf_printf(&b, "%s%lld (%s%s)", b.len > 0 ? ", " : "",
		    (long long)json_integer_value(json_object_get(k, "id")),
		    json_string_value(json_object_get(k, "name")) != NULL ?
		    json_string_value(json_object_get(k, "name")) : "?",
		    !jx_bool(k, "enabled") ? _(", disabled") :
		    jx_bool(k, "expired") ? _(", expired") : "");
	}
	if (usable == 0)
		xasprintf(cause, _("no key can be used (%s): enable one or "
		    "run `metapi key add NAME`"), buf_cstr(&b));
	else
		xasprintf(cause, _("%zu keys could be used: %s; choose one "
		    "with --key ID"), usable, buf_cstr(&b));
	buf_free(&b);
	return (NULL);
}

static int
clientconf_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * The model names in model.list's items that the key's patterns allow,
 * sorted, each once.
 */
json_t *
clientconf_models(json_t *items, json_t *patterns)
{
	struct modelpat	 *mp;
	struct err	  e = { ERR_OK, NULL };
	json_t		 *out = json_array(), *v;
	const char	**names;
	const char	 *m;
	size_t		  i, n = 0;

	if ((mp = modelpat_compile(patterns, &e)) == NULL) {
		err_clear(&e);
		return (out);
	}
	names = xcalloc(json_array_size(items) + 1, sizeof *names);
	json_array_foreach(items, i, v)
		if ((m = json_string_value(json_object_get(v, "model"))) !=
		    NULL && modelpat_match(mp, m))
			names[n++] = m;
	qsort(names, n, sizeof *names, clientconf_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			json_array_append_new(out, json_string(names[i]));
	free(names);
	modelpat_free(mp);
	return (out);
}

/*
 * Everything `metapi connect` says about one client, as its --json reply:
 * {"client", "base_url", "key_id", "files": [{"path", "content"}],
 * "env", "text"}. The file's content is old (NULL: none) with metapi's
 * part merged in; the text shows the part alone.
 */
json_t *
clientconf_build(const struct clientconf_client *c,
    const struct clientconf_in *in, const char *old, char **cause)
{
	struct buf	 text;
	json_t		*o, *files;
	char		*fresh = NULL, *merged = NULL, *url;

	files = json_array();
	if (c->merge != NULL) {
		if ((fresh = c->merge(in, NULL, cause)) == NULL ||
		    (merged = c->merge(in, old, cause)) == NULL) {
			free(fresh);
			json_decref(files);
			return (NULL);
		}
		json_array_append_new(files, json_pack("{s:s, s:s}", "path",
		    in->path, "content", merged));
	}
	buf_init(&text, CLIENTCONF_MAX);
	c->text(in, fresh != NULL ? fresh : "", &text);
	url = clientconf_base_url(c, in->root);
	o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:s}", "client", c->name,
	    "base_url", url, "key_id", (json_int_t)in->key_id, "files", files,
	    "env", c->env(in), "text", buf_cstr(&text));
	buf_free(&text);
	free(url);
	free(fresh);
	free(merged);
	return (o);
}

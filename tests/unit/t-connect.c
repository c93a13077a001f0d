/*
 * Client setup (`metapi connect`): the TOML editor (tables, comments,
 * existing keys, multi-line values, line endings, refusals), the line
 * diff, and each client's configuration checked against the format its
 * documentation gives, merged into files that hold other settings.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clientconf.h"
#include "linediff.h"
#include "tomledit.h"
#include "xmalloc.h"

#include "unit.h"

struct t_connect_toml {
	const char	*name;
	const char	*in;
	const char	*want;		/* NULL: refused */
};

#define T_CONNECT_BODY	"name = \"m\"\nx = 1\n"

/* model_provider = "m" and [p.m] with T_CONNECT_BODY, set on in. */
static const struct t_connect_toml t_connect_tomls[] = {
	{ "empty", "",
	  "model_provider = \"m\"\n\n[p.m]\n" T_CONNECT_BODY },
	{ "keys only, no final newline", "a = 1\nb = \"x\"",
	  "a = 1\nb = \"x\"\nmodel_provider = \"m\"\n\n[p.m]\n"
	  T_CONNECT_BODY },
	{ "existing key and table replaced in place",
	  "# top\nmodel = \"o3\"\nmodel_provider = \"openai\" # old\n"
	  "\n[p.m]\nname = \"old\"\n# gone\nbase = \"y\"\n\n# next\n"
	  "[p.other]\nname = \"keep\"\n",
	  "# top\nmodel = \"o3\"\nmodel_provider = \"m\"\n"
	  "\n[p.m]\n" T_CONNECT_BODY "\n# next\n"
	  "[p.other]\nname = \"keep\"\n" },
	{ "key inserted before the first table and its comment",
	  "# Codex settings\n\n# profiles\n[profiles.a]\nmodel = \"x\"\n",
	  "# Codex settings\n\nmodel_provider = \"m\"\n\n# profiles\n"
	  "[profiles.a]\nmodel = \"x\"\n\n[p.m]\n" T_CONNECT_BODY },
	{ "model_provider inside a table is not the top-level one",
	  "a = 1\n[profiles.x]\nmodel_provider = \"o\"\n",
	  "a = 1\nmodel_provider = \"m\"\n[profiles.x]\nmodel_provider = "
	  "\"o\"\n\n[p.m]\n" T_CONNECT_BODY },
	{ "multi-line values are not headers",
	  "s = \"\"\"\n[p.m]\nmodel_provider = 1\n\"\"\"\n"
	  "arr = [\n  \"[p.m]\", # ]\n  2,\n]\n",
	  "s = \"\"\"\n[p.m]\nmodel_provider = 1\n\"\"\"\n"
	  "arr = [\n  \"[p.m]\", # ]\n  2,\n]\nmodel_provider = \"m\"\n"
	  "\n[p.m]\n" T_CONNECT_BODY },
	{ "a multi-line value in the table goes whole",
	  "[p.m]\nh = [\n 1,\n 2\n]\nname = '''a\nb'''\n[z]\n",
	  "model_provider = \"m\"\n\n[p.m]\n" T_CONNECT_BODY "[z]\n" },
	{ "sub-tables and quoted headers",
	  "[ p . \"m\" ]\nold = 1\n[p.m.headers]\nX = \"y\"\n",
	  "model_provider = \"m\"\n\n[p.m]\n" T_CONNECT_BODY
	  "[p.m.headers]\nX = \"y\"\n" },
	{ "duplicate top-level key dropped",
	  "model_provider = \"a\"\nmodel_provider = \"b\"\n",
	  "model_provider = \"m\"\n\n[p.m]\n" T_CONNECT_BODY },
	{ "CRLF kept",
	  "a = 1\r\n[t]\r\nb = 2\r\n",
	  "a = 1\r\nmodel_provider = \"m\"\r\n[t]\r\nb = 2\r\n\r\n[p.m]\r\n"
	  "name = \"m\"\r\nx = 1\r\n" },
	{ "inline table refused", "p = { m = { name = \"x\" } }\n", NULL },
	{ "dotted key refused", "[p]\nm.name = \"x\"\n", NULL },
	{ "array of tables refused", "[[p.m]]\nname = \"x\"\n", NULL },
	{ "table twice refused", "[p.m]\n[p.m]\n", NULL },
	{ "model_provider as a table refused", "[model_provider]\n", NULL },
	{ "unreadable line refused", "this is not toml\n", NULL },
	{ "open string refused", "a = \"x\n", NULL },
	{ "unclosed array refused", "a = [\n1,\n", NULL },
};

static void
t_connect_toml(void)
{
	const struct t_connect_toml	*t;
	char				*mid, *out, *cause;
	size_t				 i;

	for (i = 0; i < sizeof t_connect_tomls / sizeof *t_connect_tomls;
	    i++) {
		t = &t_connect_tomls[i];
		unit_case("toml: %s", t->name);
		cause = NULL;
		mid = tomledit_set_key(t->in, "model_provider",
		    "model_provider = \"m\"\n", &cause);
		out = mid != NULL ? tomledit_set_table(mid, "p.m",
		    T_CONNECT_BODY, &cause) : NULL;
		CHECK_STR(out, t->want);
		if (t->want == NULL)
			CHECK_SUB(cause, "line ");
		else
			CHECK_STR(cause, NULL);
		/* A second run changes nothing. */
		if (out != NULL) {
			free(mid);
			mid = tomledit_set_key(out, "model_provider",
			    "model_provider = \"m\"\n", &cause);
			free(out);
			out = tomledit_set_table(mid, "p.m", T_CONNECT_BODY,
			    &cause);
			CHECK_STR(out, t->want);
		}
		free(mid);
		free(out);
		free(cause);
	}
	unit_case_end();
}

struct t_connect_diff {
	const char	*old, *new, *want;
};

static const struct t_connect_diff t_connect_diffs[] = {
	{ "a\n", "a\n", "" },
	{ NULL, "x\ny\n", "--- A\n+++ B\n@@ -0,0 +1,2 @@\n+x\n+y\n" },
	{ "x\n", "", "--- A\n+++ B\n@@ -1 +0,0 @@\n-x\n" },
	{ "1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nfive\n6\n7\n8\n",
	  "--- A\n+++ B\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n"
	  " 6\n 7\n 8\n" },
	{ "a\nb", "a\nc\n",
	  "--- A\n+++ B\n@@ -1,2 +1,2 @@\n a\n-b\n"
	  "\\ No newline at end of file\n+c\n" },
	/* Two changes far apart: two hunks. */
	{ "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
	  "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n",
	  "--- A\n+++ B\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n"
	  "@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n" },
	{ "k\na\nb\nc\n", "k\nb\nc\nd\n",
	  "--- A\n+++ B\n@@ -1,4 +1,4 @@\n k\n-a\n b\n c\n+d\n" },
};

static void
t_connect_diff(void)
{
	char	*d;
	size_t	 i;

	for (i = 0; i < sizeof t_connect_diffs / sizeof *t_connect_diffs;
	    i++) {
		unit_case("diff %zu", i);
		d = linediff_unified(t_connect_diffs[i].old,
		    t_connect_diffs[i].new, "A", "B");
		CHECK_STR(d, t_connect_diffs[i].want);
		free(d);
	}
	unit_case_end();
}

static void
t_connect_root(void)
{
	static const char *const cases[][2] = {
		{ "127.0.0.1:4000", "http://127.0.0.1:4000" },
		{ "0.0.0.0:4000", "http://127.0.0.1:4000" },
		{ "[::]:4000", "http://[::1]:4000" },
		{ "[::1]:81", "http://[::1]:81" },
		{ "localhost:9", "http://localhost:9" },
		{ "4000", NULL },
		{ "host:", NULL },
		{ "host:x", NULL },
	};
	char	*s, *cause;
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		unit_case("root %s", cases[i][0]);
		cause = NULL;
		s = clientconf_root(cases[i][0], &cause);
		CHECK_STR(s, cases[i][1]);
		CHECK(s != NULL || cause != NULL);
		free(s);
		free(cause);
	}
	unit_case_end();
}

static void
t_connect_keys(void)
{
	json_t	*keys, *k, *f;
	char	*cause = NULL, *s;

	unit_case("keys");
	keys = json_loads("[{\"id\":1,\"name\":\"a\",\"enabled\":true,"
	    "\"expired\":false},{\"id\":2,\"name\":\"b\",\"enabled\":false,"
	    "\"expired\":false},{\"id\":3,\"name\":\"c\",\"enabled\":true,"
	    "\"expired\":true}]", 0, NULL);
	k = clientconf_pick_key(keys, -1, &cause);
	CHECK(k == json_array_get(keys, 0));
	CHECK(clientconf_pick_key(keys, 1, &cause) == json_array_get(keys, 0));
	CHECK(clientconf_pick_key(keys, 2, &cause) == NULL);
	CHECK_SUB(cause, "disabled");
	free(cause);
	CHECK(clientconf_pick_key(keys, 3, &cause) == NULL);
	CHECK_SUB(cause, "expired");
	free(cause);
	CHECK(clientconf_pick_key(keys, 9, &cause) == NULL);
	CHECK_SUB(cause, "no key 9");
	free(cause);
	json_array_append_new(keys, json_loads("{\"id\":4,\"name\":\"d\","
	    "\"enabled\":true,\"expired\":false}", 0, NULL));
	CHECK(clientconf_pick_key(keys, -1, &cause) == NULL);
	CHECK_SUB(cause, "1 (a), 4 (d)");
	CHECK_SUB(cause, "--key");
	free(cause);
	json_array_clear(keys);
	CHECK(clientconf_pick_key(keys, -1, &cause) == NULL);
	CHECK_SUB(cause, "metapi key add");
	free(cause);
	json_decref(keys);

	unit_case("models");
	keys = json_loads("[{\"model\":\"gpt-4o\"},{\"model\":\"claude-x\"},"
	    "{\"model\":\"gpt-4o-mini\"},{\"model\":\"gpt-4o\"}]", 0, NULL);
	k = json_loads("[\"gpt-*\", \"re:^nothing$\"]", 0, NULL);
	f = clientconf_models(keys, k);
	s = json_dumps(f, JSON_COMPACT);
	CHECK_STR(s, "[\"gpt-4o\",\"gpt-4o-mini\"]");
	free(s);
	json_decref(f);
	json_decref(keys);
	json_decref(k);
	unit_case_end();
}

/* The parts of a client's --json reply. */
static json_t *
t_connect_build(const char *client, const char *old, char **cause)
{
	json_t			*models;
	struct clientconf_in	 in;
	json_t			*o;

	models = json_pack("[s, s]", "claude-x", "gpt-4o");
	memset(&in, 0, sizeof in);
	in.root = "http://127.0.0.1:4000";
	in.key = "sk-test";
	in.key_id = 7;
	in.models = models;
	in.path = "/h/file";
	o = clientconf_build(clientconf_find(client), &in, old, cause);
	json_decref(models);
	return (o);
}

static const char *
t_connect_content(json_t *o)
{
	return (json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "files"), 0), "content")));
}

static void
t_connect_clients(void)
{
	json_t		*o, *f;
	char		*cause = NULL;
	const char	*s;

	unit_case("claude-code");
	o = t_connect_build("claude-code", NULL, &cause);
	if (CHECK(o != NULL)) {
		CHECK_STR(json_string_value(json_object_get(o, "base_url")),
		    "http://127.0.0.1:4000");
		CHECK_STR(t_connect_content(o), "{\n  \"env\": {\n"
		    "    \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:4000\",\n"
		    "    \"ANTHROPIC_AUTH_TOKEN\": \"sk-test\"\n  }\n}\n");
		CHECK_SUB(json_string_value(json_object_get(o, "text")),
		    "export ANTHROPIC_AUTH_TOKEN='sk-test'");
		CHECK_STR(json_string_value(json_object_get(json_object_get(o,
		    "env"), "ANTHROPIC_BASE_URL")), "http://127.0.0.1:4000");
	}
	json_decref(o);
	unit_case("claude-code merged");
	o = t_connect_build("claude-code", "{\"model\": \"opus\", \"env\": "
	    "{\"DEBUG\": \"1\", \"ANTHROPIC_BASE_URL\": \"x\"}, "
	    "\"t\": 0.7, \"n\": [1, 2.5]}", &cause);
	if (CHECK(o != NULL))
		CHECK_STR(t_connect_content(o), "{\n  \"model\": \"opus\",\n"
		    "  \"env\": {\n    \"DEBUG\": \"1\",\n"
		    "    \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:4000\",\n"
		    "    \"ANTHROPIC_AUTH_TOKEN\": \"sk-test\"\n  },\n"
		    "  \"t\": 0.7,\n  \"n\": [\n    1,\n    2.5\n  ]\n}\n");
	json_decref(o);
	unit_case("claude-code refusals");
	CHECK(t_connect_build("claude-code", "{\"env\": [1]}", &cause) ==
	    NULL);
	CHECK_SUB(cause, "\"env\" is not an object");
	free(cause);
	CHECK(t_connect_build("claude-code", "{ // no\n}", &cause) == NULL);
	CHECK_SUB(cause, "not valid JSON");
	free(cause);
	CHECK(t_connect_build("claude-code", "[1]", &cause) == NULL);
	CHECK_SUB(cause, "not a JSON object");
	free(cause);
	cause = NULL;

	unit_case("codex");
	o = t_connect_build("codex", NULL, &cause);
	if (CHECK(o != NULL)) {
		CHECK_STR(json_string_value(json_object_get(o, "base_url")),
		    "http://127.0.0.1:4000/v1");
		CHECK_STR(t_connect_content(o), "model_provider = \"metapi\"\n"
		    "\n[model_providers.metapi]\nname = \"metapi\"\n"
		    "base_url = \"http://127.0.0.1:4000/v1\"\n"
		    "env_key = \"METAPI_API_KEY\"\nwire_api = \"responses\"\n");
		CHECK_STR(json_string_value(json_object_get(json_object_get(o,
		    "env"), "METAPI_API_KEY")), "sk-test");
		s = json_string_value(json_object_get(o, "text"));
		CHECK_SUB(s, "export METAPI_API_KEY='sk-test'");
		CHECK_SUB(s, "claude-x, gpt-4o");
		CHECK(strstr(t_connect_content(o), "sk-test") == NULL);
	}
	json_decref(o);
	unit_case("codex merged");
	o = t_connect_build("codex", "model = \"o3\"\n[mcp_servers.x]\n"
	    "command = \"y\"\n", &cause);
	if (CHECK(o != NULL))
		CHECK_STR(t_connect_content(o), "model = \"o3\"\n"
		    "model_provider = \"metapi\"\n[mcp_servers.x]\n"
		    "command = \"y\"\n\n[model_providers.metapi]\n"
		    "name = \"metapi\"\n"
		    "base_url = \"http://127.0.0.1:4000/v1\"\n"
		    "env_key = \"METAPI_API_KEY\"\nwire_api = \"responses\"\n");
	json_decref(o);

	unit_case("opencode");
	o = t_connect_build("opencode", "{\"theme\": \"tokyonight\", "
	    "\"provider\": {\"other\": {\"npm\": \"x\"}, \"metapi\": "
	    "{\"old\": true}}}", &cause);
	if (CHECK(o != NULL)) {
		f = json_loads(t_connect_content(o), 0, NULL);
		CHECK_STR(json_object_iter_key(json_object_iter(f)),
		    "$schema");
		CHECK_STR(json_string_value(json_object_get(f, "$schema")),
		    "https://opencode.ai/config.json");
		CHECK_STR(json_string_value(json_object_get(f, "theme")),
		    "tokyonight");
		s = json_dumps(json_object_get(json_object_get(f, "provider"),
		    "metapi"), JSON_COMPACT);
		CHECK_STR(s, "{\"npm\":\"@ai-sdk/openai-compatible\","
		    "\"name\":\"metapi\",\"options\":{\"baseURL\":"
		    "\"http://127.0.0.1:4000/v1\",\"apiKey\":\"sk-test\"},"
		    "\"models\":{\"claude-x\":{\"name\":\"claude-x\"},"
		    "\"gpt-4o\":{\"name\":\"gpt-4o\"}}}");
		free((char *)s);
		CHECK(json_object_get(json_object_get(json_object_get(f,
		    "provider"), "other"), "npm") != NULL);
		json_decref(f);
	}
	json_decref(o);

	unit_case("cherry-studio");
	o = t_connect_build("cherry-studio", NULL, &cause);
	if (CHECK(o != NULL)) {
		CHECK_INT(json_array_size(json_object_get(o, "files")), 0);
		s = json_string_value(json_object_get(o, "text"));
		CHECK_SUB(s, "OpenAI");
		CHECK_SUB(s, "http://127.0.0.1:4000\n");
		CHECK_SUB(s, "sk-test");
	}
	json_decref(o);

	unit_case("openai-sdk");
	o = t_connect_build("openai-sdk", NULL, &cause);
	if (CHECK(o != NULL)) {
		CHECK_STR(json_string_value(json_object_get(json_object_get(o,
		    "env"), "OPENAI_BASE_URL")), "http://127.0.0.1:4000/v1");
		s = json_string_value(json_object_get(o, "text"));
		CHECK_SUB(s, "export OPENAI_API_KEY='sk-test'");
		CHECK_SUB(s, "from openai import OpenAI");
		CHECK_SUB(s, "import OpenAI from \"openai\"");
		CHECK_SUB(s, "model=\"claude-x\"");
	}
	json_decref(o);
	CHECK(clientconf_find("vim") == NULL);

	unit_case("paths");
	{
		struct clientconf_env	env = { "/h", NULL, NULL };
		char			*p;

		p = clientconf_find("codex")->path(&env);
		CHECK_STR(p, "/h/.codex/config.toml");
		free(p);
		env.codex_home = "/c";
		p = clientconf_find("codex")->path(&env);
		CHECK_STR(p, "/c/config.toml");
		free(p);
		p = clientconf_find("opencode")->path(&env);
		CHECK_STR(p, "/h/.config/opencode/opencode.json");
		free(p);
		env.xdg_config_home = "/x";
		p = clientconf_find("opencode")->path(&env);
		CHECK_STR(p, "/x/opencode/opencode.json");
		free(p);
		p = clientconf_find("claude-code")->path(&env);
		CHECK_STR(p, "/h/.claude/settings.json");
		free(p);
	}
	unit_case("shell quote");
	{
		char	*q = clientconf_shell_quote("a'b");

		CHECK_STR(q, "'a'\\''b'");
		free(q);
	}
	unit_case_end();
}

void
t_connect(void)
{
	t_connect_toml();
	t_connect_diff();
	t_connect_root();
	t_connect_keys();
	t_connect_clients();
}

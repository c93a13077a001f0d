/*
 * cmd_table[]: the control commands, in the order `metapi --help` lists
 * them. An entry's args are positional (no flag) in order, then options.
 * The daemon's ctl_cmd_table[] gives each name its handler, except for
 * CMD_CLIENT entries, which metapi runs itself (tui/cli.c) over other
 * commands.
 */
#include "config.h"

#include <stddef.h>

#include "cmd.h"
#include "i18n.h"

#define SITE_ARG { "site", NULL, "SITE", ARG_STR, CMD_ARG_REQUIRED, \
	N_("a site's name or numeric id") }
#define ID_ARG { "id", NULL, "ID", ARG_INT, CMD_ARG_REQUIRED, \
	N_("numeric id") }

const struct cmd_spec cmd_table[] = {
	{ "daemon.status", "status", NULL, { { 0 } },
	  N_("version, uptime, listen address, data dir and counts"), 0 },
	{ "daemon.stop", "stop", NULL, { { 0 } },
	  N_("stop the daemon gracefully"), 0 },

	{ "doctor.run", "doctor", NULL, {
	    { "timeout", "--timeout", "SEC", ARG_INT, 0,
	      N_("seconds to wait for each site (default 5, 1 to 60)") },
	    { 0 } },
	  N_("check the data dir, database, socket, HTTP listener, sites, "
	  "credentials and clock; say what to fix"), 0 },

	{ "site.add", "site add", "NAME (URL | --preset PRESET)", {
	    { "name", NULL, "NAME", ARG_STR, CMD_ARG_REQUIRED,
	      N_("a short name for the site") },
	    { "url", NULL, "URL", ARG_STR, CMD_ARG_ONEOF,
	      N_("the site's base URL (optional with --preset)") },
	    { "preset", "--preset", "PRESET", ARG_STR, CMD_ARG_ONEOF,
	      N_("a known provider's URL and platform (see `metapi site "
	      "presets`); an explicit URL or --platform wins") },
	    { "platform", "--platform", "P", ARG_STR, 0,
	      N_("new-api, one-api, one-hub, done-hub, veloera, anyrouter, "
	      "sub2api, openai or claude") },
	    { "proxy", "--proxy", "URL", ARG_STR, 0,
	      N_("http, https or socks5 proxy for this site") },
	    { "weight", "--weight", "W", ARG_REAL, 0,
	      N_("routing weight of the site (default 1)") },
	    { "header", "--header", "'Name: value'", ARG_LIST, 0,
	      N_("extra request header for this site (repeatable)") },
	    { 0 } },
	  N_("add an upstream relay site"), 0 },
	{ "site.list", "site list", NULL, { { 0 } }, N_("list sites"), 0 },
	{ "site.show", "site show", NULL, { SITE_ARG, { 0 } },
	  N_("show one site"), 0 },
	{ "site.edit", "site edit", NULL, {
	    SITE_ARG,
	    { "name", "--name", "N", ARG_STR, 0, N_("new name") },
	    { "url", "--url", "U", ARG_STR, 0, N_("new base URL") },
	    { "platform", "--platform", "P", ARG_STR, 0, N_("new platform") },
	    { "proxy", "--proxy", "URL|none", ARG_STR, 0,
	      N_("new proxy, or none") },
	    { "weight", "--weight", "W", ARG_REAL, 0,
	      N_("new routing weight") },
	    { "probe", "--probe", "on|off", ARG_STR, 0,
	      N_("recovery probes of its cooling channels (default on)") },
	    { "header", "--header", "'Name: value'", ARG_LIST, 0,
	      N_("replace the extra headers (repeatable; --header none "
	      "clears them)") },
	    { 0 } },
	  N_("change a site"), 0 },
	{ "site.rm", "site rm", NULL, { SITE_ARG, { 0 } },
	  N_("remove a site with its accounts and channels"), 0 },
	{ "site.enable", "site enable", NULL, { SITE_ARG, { 0 } },
	  N_("enable a site and its accounts"), 0 },
	{ "site.disable", "site disable", NULL, { SITE_ARG, { 0 } },
	  N_("disable a site and its accounts"), 0 },
	{ "site.detect", "site detect", NULL, {
	    { "url", NULL, "URL", ARG_STR, CMD_ARG_REQUIRED,
	      N_("the site's base URL") },
	    { "proxy", "--proxy", "URL", ARG_STR, 0,
	      N_("proxy to reach the site through") },
	    { "header", "--header", "'Name: value'", ARG_LIST, 0,
	      N_("extra request header (repeatable)") },
	    { 0 } },
	  N_("say which platform a site runs, and why"), 0 },
	{ "site.presets", "site presets", NULL, { { 0 } },
	  N_("known providers for site add --preset: id, aliases, URL, "
	  "platform, credential"), 0 },

	{ "account.add", "account add",
	  "SITE (--username U --password P | --access-token T [--user-id N] "
	  "| --cookie C | --api-key K)", {
	    SITE_ARG,
	    { "username", "--username", "U", ARG_STR, 0, N_("login name") },
	    { "password", "--password", "P", ARG_STR, CMD_ARG_SECRET,
	      N_("password (- reads it from stdin)") },
	    { "access_token", "--access-token", "T", ARG_STR, CMD_ARG_SECRET,
	      N_("session access token (- reads it from stdin)") },
	    { "user_id", "--user-id", "N", ARG_STR, 0,
	      N_("the site's numeric user id (with --access-token or "
	      "--cookie)") },
	    { "cookie", "--cookie", "C", ARG_STR, CMD_ARG_SECRET,
	      N_("session cookie (- reads it from stdin)") },
	    { "api_key", "--api-key", "K", ARG_STR, CMD_ARG_SECRET,
	      N_("API key, proxy only (- reads it from stdin)") },
	    { "twofa", "--2fa", "CODE", ARG_STR, 0,
	      N_("one-time two-factor code for the first login") },
	    { "label", "--label", "L", ARG_STR, 0,
	      N_("a label for the account") },
	    { "no_checkin", "--no-checkin", NULL, ARG_FLAG, 0,
	      N_("never check in daily") },
	    { 0 } },
	  N_("add an account on a site, verified against the site first"), 0 },
	{ "account.list", "account list", NULL, {
	    { "site", "--site", "SITE", ARG_STR, 0, N_("only this site's") },
	    { 0 } },
	  N_("list accounts"), 0 },
	{ "account.show", "account show", NULL,
	  { ID_ARG, { 0 } }, N_("show one account"), 0 },
	{ "account.rm", "account rm", NULL,
	  { ID_ARG, { 0 } },
	  N_("remove an account with its tokens and channels"), 0 },
	{ "account.enable", "account enable", NULL,
	  { ID_ARG, { 0 } }, N_("enable an account"), 0 },
	{ "account.refresh", "account refresh", "(ID | --all)", {
	    { "id", NULL, "ID", ARG_INT, 0, N_("an account id") },
	    { "all", "--all", NULL, ARG_FLAG, 0, N_("every account") },
	    { 0 } },
	  N_("read balance, tokens, models and prices from the site now"), 0 },
	{ "account.login", "account login", NULL, {
	    ID_ARG,
	    { "twofa", "--2fa", "CODE", ARG_STR, 0,
	      N_("one-time two-factor code") },
	    { 0 } },
	  N_("log in again with the stored password"), 0 },
	{ "account.disable", "account disable", NULL,
	  { ID_ARG, { 0 } }, N_("disable an account"), 0 },

	{ "token.list", "token list", NULL, {
	    { "account", "--account", "ID", ARG_INT, 0,
	      N_("only this account's") },
	    { 0 } },
	  N_("list the API keys accounts hold on their sites"), 0 },
	{ "token.sync", "token sync", "(ACCOUNT_ID | --all)", {
	    { "id", NULL, "ACCOUNT_ID", ARG_INT, 0, N_("an account id") },
	    { "all", "--all", NULL, ARG_FLAG, 0, N_("every account") },
	    { 0 } },
	  N_("fetch accounts' tokens from their sites now"), 0 },
	{ "token.create", "token create", NULL, {
	    { "account", NULL, "ACCOUNT_ID", ARG_INT, CMD_ARG_REQUIRED,
	      N_("an account id") },
	    { "name", "--name", "N", ARG_STR, 0,
	      N_("the token's name (default metapi)") },
	    { "group", "--group", "G", ARG_STR, 0,
	      N_("the site's group for the token") },
	    { 0 } },
	  N_("create a token on the account's site"), 0 },
	{ "token.rm", "token rm", NULL,
	  { { "id", NULL, "TOKEN_ID", ARG_INT, CMD_ARG_REQUIRED,
	      N_("a token id") }, { 0 } },
	  N_("delete a token on its site and here"), 0 },
	{ "token.default", "token default", NULL,
	  { { "id", NULL, "TOKEN_ID", ARG_INT, CMD_ARG_REQUIRED,
	      N_("a token id") }, { 0 } },
	  N_("make a token its account's default"), 0 },

	{ "checkin.run", "checkin run", "(ACCOUNT_ID | --all)", {
	    { "id", NULL, "ACCOUNT_ID", ARG_INT, 0, N_("an account id") },
	    { "all", "--all", NULL, ARG_FLAG, 0, N_("every account") },
	    { 0 } },
	  N_("check in now: success, already, skipped or failed per "
	  "account"), 0 },
	{ "checkin.log", "checkin log", NULL, {
	    { "account", "--account", "ID", ARG_INT, 0,
	      N_("only this account's") },
	    { "limit", "--limit", "N", ARG_INT, 0,
	      N_("at most N entries (default 50)") },
	    { 0 } },
	  N_("past check-ins, newest first"), 0 },
	{ "balance.show", "balance", NULL, {
	    { "refresh", "--refresh", NULL, ARG_FLAG, 0,
	      N_("ask every site first") },
	    { 0 } },
	  N_("balance, used, today's income and spend per account (USD)"), 0 },
	{ "job.list", "job list", NULL, { { 0 } },
	  N_("scheduled jobs: schedule, last run and outcome, next run"), 0 },
	{ "job.run", "job run", NULL, {
	    { "name", NULL, "NAME", ARG_STR, CMD_ARG_REQUIRED,
	      N_("checkin, balance, log-cleanup, daily-summary or renew") },
	    { 0 } },
	  N_("run a job now and wait for it"), 0 },
	{ "model.list", "model list", NULL, { { 0 } },
	  N_("the models the accounts offer, with sites and prices"), 0 },

	{ "route.list", "route list", NULL, { { 0 } },
	  N_("list routes: model patterns, aliases, strategies, channels"), 0 },
	{ "route.show", "route show", NULL, {
	    { "route", NULL, "ROUTE", ARG_STR, CMD_ARG_REQUIRED,
	      N_("a route id or its model pattern") },
	    { 0 } },
	  N_("a route's channels with priority, weight, cooldown and current "
	  "probability"), 0 },
	{ "route.explain", "route explain", NULL, {
	    { "model", NULL, "MODEL", ARG_STR, CMD_ARG_REQUIRED,
	      N_("a model name as a client would request it") },
	    { "key", "--key", "KEY_ID", ARG_INT, 0,
	      N_("apply this downstream key's model policy") },
	    { 0 } },
	  N_("which channel would serve MODEL now, every candidate's "
	  "probability and the reasons"), 0 },
	{ "route.add", "route add", NULL, {
	    { "pattern", NULL, "PATTERN", ARG_STR, CMD_ARG_REQUIRED,
	      N_("a model name, glob (*, ?) or re:REGEX") },
	    { "alias", "--alias", "NAME", ARG_STR, 0,
	      N_("a display name clients may request") },
	    { "strategy", "--strategy", "S", ARG_STR, 0,
	      N_("weighted (default), round_robin or stable_first") },
	    { "group", "--group", "MODEL[,MODEL...]", ARG_STR, 0,
	      N_("a group route: PATTERN is a name served by these models' "
	      "channels") },
	    { 0 } },
	  N_("add a manual route"), 0 },
	{ "route.edit", "route edit", NULL, {
	    { "route", NULL, "ROUTE", ARG_STR, CMD_ARG_REQUIRED,
	      N_("a route id or its model pattern") },
	    { "alias", "--alias", "NAME", ARG_STR, 0,
	      N_("a display name clients may request (\"\" removes it)") },
	    { "strategy", "--strategy", "S", ARG_STR, 0,
	      N_("weighted, round_robin or stable_first") },
	    { "map", "--map", "FROM=TO", ARG_LIST, 0,
	      N_("forward requests for FROM as TO (repeatable; replaces the "
	      "map)") },
	    { "group", "--group", "MODEL[,MODEL...]", ARG_STR, 0,
	      N_("a group route's members (replaces the list)") },
	    { 0 } },
	  N_("change a route's alias, strategy, model map or group "
	  "members"), 0 },
	{ "route.rm", "route rm", NULL, {
	    { "route", NULL, "ROUTE", ARG_STR, CMD_ARG_REQUIRED,
	      N_("a route id or its model pattern") },
	    { 0 } },
	  N_("delete a route and its channels"), 0 },
	{ "route.rebuild", "route rebuild", NULL, { { 0 } },
	  N_("rebuild the route table from the discovered models now"), 0 },
	{ "channel.set", "channel set", NULL, {
	    { "id", NULL, "CHANNEL_ID", ARG_INT, CMD_ARG_REQUIRED,
	      N_("a channel id") },
	    { "priority", "--priority", "N", ARG_INT, 0,
	      N_("priority layer: lower is tried first") },
	    { "weight", "--weight", "N", ARG_INT, 0,
	      N_("base weight (default 10)") },
	    { "enable", "--enable", NULL, ARG_FLAG, 0,
	      N_("let it serve requests") },
	    { "disable", "--disable", NULL, ARG_FLAG, 0,
	      N_("keep it from serving requests") },
	    { 0 } },
	  N_("change a channel's priority, weight or state"), 0 },
	{ "channel.cooldown-clear", "channel cooldown-clear", NULL, {
	    { "id", NULL, "CHANNEL_ID", ARG_INT, CMD_ARG_REQUIRED,
	      N_("a channel id") },
	    { 0 } },
	  N_("end a channel's cooldown now"), 0 },

	{ "key.add", "key add", NULL, {
	    { "name", NULL, "NAME", ARG_STR, CMD_ARG_REQUIRED,
	      N_("a name for the key") },
	    { "models", "--models", "PATTERN[,PATTERN...]", ARG_STR, 0,
	      N_("models the key may use: names, globs or re:REGEX "
	      "(default *)") },
	    { "expires", "--expires", "YYYY-MM-DD", ARG_STR, 0,
	      N_("last day the key works (UTC)") },
	    { "max_cost", "--max-cost", "USD", ARG_REAL, 0,
	      N_("spending limit in USD") },
	    { "max_requests", "--max-requests", "N", ARG_INT, 0,
	      N_("request limit") },
	    { 0 } },
	  N_("issue a downstream key; prints it once"), 0 },
	{ "key.list", "key list", NULL, { { 0 } },
	  N_("list downstream keys"), 0 },
	{ "key.show", "key show", NULL,
	  { ID_ARG, { 0 } }, N_("show one key (masked)"), 0 },
	{ "key.reveal", "key reveal", NULL,
	  { ID_ARG, { 0 } }, N_("print a key in full"), 0 },
	{ "key.rm", "key rm", NULL,
	  { ID_ARG, { 0 } }, N_("delete a key"), 0 },
	{ "key.enable", "key enable", NULL,
	  { ID_ARG, { 0 } }, N_("enable a key"), 0 },
	{ "key.disable", "key disable", NULL,
	  { ID_ARG, { 0 } }, N_("disable a key"), 0 },
	{ "key.rotate", "key rotate", NULL,
	  { ID_ARG, { 0 } },
	  N_("replace a key's secret; prints the new one once"), 0 },

	{ "log.list", "logs", NULL, {
	    { "limit", "--limit", "N", ARG_INT, 0,
	      N_("at most N requests (default 50, at most 1000)") },
	    { "model", "--model", "M", ARG_STR, 0,
	      N_("only this model, requested or served; * and ? match any "
	      "text and any one character") },
	    { "status", "--status", "ok|fail", ARG_STR, 0,
	      N_("only successes, or only failures (failed or client "
	      "closed)") },
	    { "key", "--key", "KEY_ID", ARG_INT, 0,
	      N_("only requests made with this downstream key") },
	    { "before", "--before", "ID", ARG_INT, 0,
	      N_("only requests older than this id (a page's \"next\")") },
	    { "follow", "--follow", NULL, ARG_FLAG, 0,
	      N_("then print new requests as they finish, until "
	      "interrupted") },
	    { 0 } },
	  N_("the request log, newest first"), 0 },
	{ "stats.show", "stats", NULL, {
	    { "days", "--days", "N", ARG_INT, 0,
	      N_("over the last N days (default 7)") },
	    { 0 } },
	  N_("totals, and per-site and per-model calls, success rate, "
	  "spend and latency; per day, and per site and hour for 24 h"), 0 },

	{ "notify.add", "notify add",
	  "(webhook URL | bark URL | serverchan SENDKEY | telegram BOT_TOKEN "
	  "CHAT_ID | smtp --host H --from ADDR --to ADDR)", {
	    { "kind", NULL, "KIND", ARG_STR, CMD_ARG_REQUIRED,
	      N_("webhook, bark, serverchan, telegram or smtp") },
	    { "target", NULL, "TARGET", ARG_STR, CMD_ARG_SECRET,
	      N_("webhook or Bark URL, ServerChan SENDKEY or Telegram "
	      "BOT_TOKEN (- reads it from stdin)") },
	    { "chat_id", NULL, "CHAT_ID", ARG_STR, 0,
	      N_("Telegram chat: a number or @channel") },
	    { "thread", "--thread", "ID", ARG_INT, 0,
	      N_("Telegram topic (message_thread_id)") },
	    { "api_base", "--api-base", "URL", ARG_STR, 0,
	      N_("Telegram Bot API or ServerChan base URL") },
	    { "host", "--host", "H", ARG_STR, 0, N_("SMTP server") },
	    { "port", "--port", "P", ARG_INT, 0,
	      N_("SMTP port (default 587, 465 with --tls implicit, 25 with "
	      "--tls none)") },
	    { "from", "--from", "ADDR", ARG_STR, 0, N_("mail sender") },
	    { "to", "--to", "ADDR", ARG_STR, 0,
	      N_("mail recipient (several separated by commas)") },
	    { "user", "--user", "U", ARG_STR, 0, N_("SMTP login") },
	    { "password", "--password", "P", ARG_STR, CMD_ARG_SECRET,
	      N_("SMTP password (- reads it from stdin)") },
	    { "tls", "--tls", "starttls|implicit|none", ARG_STR, 0,
	      N_("SMTP encryption (default starttls)") },
	    { "ca", "--ca-file", "FILE", ARG_STR, CMD_ARG_FILE,
	      N_("SMTP: also trust the CA certificates in this PEM file") },
	    { 0 } },
	  N_("add a notification channel; its secret is stored sealed"), 0 },
	{ "notify.list", "notify list", NULL, { { 0 } },
	  N_("list notification channels (secrets masked)"), 0 },
	{ "notify.test", "notify test", NULL, {
	    { "id", NULL, "ID", ARG_INT, 0,
	      N_("one channel (default: every enabled one)") },
	    { 0 } },
	  N_("send a test notification and wait for the outcome"), 0 },
	{ "notify.send", "notify send", NULL, {
	    { "title", NULL, "TITLE", ARG_STR, CMD_ARG_REQUIRED,
	      N_("the alert's title") },
	    { "message", NULL, "MESSAGE", ARG_STR, 0, N_("the alert's text") },
	    { "level", "--level", "info|warning|error", ARG_STR, 0,
	      N_("default info") },
	    { "type", "--type", "T", ARG_STR, 0,
	      N_("event type (default manual)") },
	    { 0 } },
	  N_("record an event and alert every enabled channel (identical "
	  "alerts within notify_cooldown_sec are merged)"), 0 },
	{ "notify.rm", "notify rm", NULL,
	  { ID_ARG, { 0 } }, N_("remove a notification channel"), 0 },
	{ "notify.enable", "notify enable", NULL,
	  { ID_ARG, { 0 } }, N_("enable a notification channel"), 0 },
	{ "notify.disable", "notify disable", NULL,
	  { ID_ARG, { 0 } }, N_("disable a notification channel"), 0 },
	{ "event.list", "events", NULL, {
	    { "limit", "--limit", "N", ARG_INT, 0,
	      N_("at most N events (default 50, at most 1000)") },
	    { "before", "--before", "ID", ARG_INT, 0,
	      N_("only events older than this id (a page's \"next\")") },
	    { 0 } },
	  N_("the event log, newest first"), 0 },

	{ "settings.list", "settings list", NULL, { { 0 } },
	  N_("every setting with its value, default and help"), 0 },
	{ "settings.get", "settings get", NULL, {
	    { "key", NULL, "KEY", ARG_STR, CMD_ARG_REQUIRED,
	      N_("setting name") },
	    { 0 } },
	  N_("show one setting"), 0 },
	{ "settings.set", "settings set", NULL, {
	    { "key", NULL, "KEY", ARG_STR, CMD_ARG_REQUIRED,
	      N_("setting name") },
	    { "value", NULL, "VALUE", ARG_STR, CMD_ARG_REQUIRED,
	      N_("new value") },
	    { 0 } },
	  N_("change a setting (validated; takes effect at once unless "
	  "noted)"), 0 },

	{ "backup.export", "backup export", NULL, {
	    { "file", NULL, "FILE", ARG_STR, CMD_ARG_REQUIRED,
	      N_("where to write the backup (replaced atomically, mode "
	      "0600)") },
	    { "passphrase_file", "--passphrase-file", "F", ARG_STR, 0,
	      N_("read the passphrase from the first line of F instead of "
	      "asking for it") },
	    { "passphrase", "--passphrase", "P", ARG_STR, CMD_ARG_SECRET,
	      N_("the passphrase (- reads it from standard input)") },
	    { 0 } },
	  N_("write sites, accounts, tokens, routes, keys, notification "
	  "channels and settings to FILE, every secret sealed with a "
	  "passphrase"), 0 },
	{ "backup.import", "backup import", NULL, {
	    { "file", NULL, "FILE", ARG_STR, CMD_ARG_REQUIRED,
	      N_("a metapi backup, a metapi (Node) backup or an "
	      "ALL-API-Hub export") },
	    { "passphrase_file", "--passphrase-file", "F", ARG_STR, 0,
	      N_("read the passphrase from the first line of F instead of "
	      "asking for it") },
	    { "passphrase", "--passphrase", "P", ARG_STR, CMD_ARG_SECRET,
	      N_("the passphrase (- reads it from standard input)") },
	    { "dry_run", "--dry-run", NULL, ARG_FLAG, 0,
	      N_("say what would be added and updated, change nothing") },
	    { 0 } },
	  N_("merge a backup into this metapi: all of it or, on any error, "
	  "nothing"), 0 },
	{ "db.migrate", "db migrate", NULL, {
	    { "to", "--to", "URL", ARG_STR, CMD_ARG_REQUIRED,
	      N_("an empty PostgreSQL database: postgres://user:password@"
	      "host:port/dbname") },
	    { 0 } },
	  N_("copy the daemon's SQLite database into PostgreSQL, all of it "
	  "or, on any error, nothing; every table's rows counted on both "
	  "sides"), 0 },
	{ "client.connect", "connect", NULL, {
	    { "client", NULL, "CLIENT", ARG_STR, CMD_ARG_REQUIRED,
	      N_("claude-code, codex, opencode, cherry-studio or openai-sdk") },
	    { "key", "--key", "KEY_ID", ARG_INT, 0,
	      N_("the downstream key to use (default: the only usable one)") },
	    { "write", "--write", NULL, ARG_FLAG, 0,
	      N_("write the client's config file after showing the change "
	      "(claude-code, codex, opencode)") },
	    { "yes", "--yes", NULL, ARG_FLAG, 0,
	      N_("write without asking (needed when stdin is not a "
	      "terminal)") },
	    { 0 } },
	  N_("configure a client (Claude Code, Codex, OpenCode, Cherry Studio, "
	  "the OpenAI SDKs) to use metapi with a downstream key; prints the "
	  "key's secret, which is what the client needs"), CMD_CLIENT },
	{ "search.run", "search", NULL, {
	    { "query", NULL, "QUERY", ARG_STR, CMD_ARG_REQUIRED,
	      /* xgettext:no-c-format */
	      N_("text to look for, without regard to case; % and _ are "
	      "plain characters") },
	    { "limit", "--limit", "N", ARG_INT, 0,
	      N_("at most N matches of each kind (default 20, at most 100)") },
	    { "kind", "--kind", "KIND[,KIND...]", ARG_STR, 0,
	      N_("only site, account, key, model, route or log") },
	    { 0 } },
	  N_("find sites, accounts, keys, models, routes and recent requests "
	  "by name, URL, model or error text"), 0 },
};

const size_t cmd_table_count = sizeof cmd_table / sizeof cmd_table[0];

/*
 * The one-shot CLI: find the command in cmd_table[] from argv, build its
 * args, send it to the daemon, print the reply as text or --json, and
 * exit with the code CLI.md gives (0 ok, 1 refused, 2 usage, 3 no daemon).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "tui.h"
#include "xmalloc.h"

#define CLI_SECRET_MAX		16384
#define CLI_STOP_WAIT_MS	(120 * 1000)

void
cli_usage(FILE *f)
{
	size_t	i;

	fprintf(f, "%s", _("usage: metapi [-d DIR] [-S SOCKET] [--json] "
	    "[--no-start] COMMAND [ARGS]\n"
	    "       metapi daemon [--listen ADDR:PORT] [--detach] ...\n\n"
	    "commands:\n"));
	for (i = 0; i < cmd_table_count; i++)
		fprintf(f, "  %-18s %s\n", cmd_table[i].words,
		    _(cmd_table[i].help));
	fprintf(f, "  %-18s %s\n", "daemon", _("run the daemon"));
	fprintf(f, "  %-18s %s\n", "tui", _("open the full-screen dashboard"));
	fprintf(f, "%s", _("\n`metapi COMMAND --help` describes a command.\n"));
}

/* The commands whose first word is noun, with their help. */
static void
cli_noun_usage(const char *noun, FILE *f)
{
	size_t	i, n = strlen(noun);

	for (i = 0; i < cmd_table_count; i++) {
		if (strncmp(cmd_table[i].words, noun, n) != 0 ||
		    (cmd_table[i].words[n] != ' ' &&
		    cmd_table[i].words[n] != '\0'))
			continue;
		fprintf(f, "  metapi %-22s %s\n", cmd_table[i].words,
		    _(cmd_table[i].help));
	}
	fprintf(f, "%s", _("\n`metapi COMMAND --help` describes a command.\n"));
}

/* A secret given as "-" is read from the first line of stdin. */
static int
cli_read_secrets(const struct cmd_spec *c, json_t *args, char **cause)
{
	const struct cmd_arg	*a;
	const char		*v;
	char			 line[CLI_SECRET_MAX];
	size_t			 n;

	for (a = c->args; a->key != NULL; a++) {
		if (!(a->flags & CMD_ARG_SECRET) ||
		    (v = jx_str(args, a->key)) == NULL || strcmp(v, "-") != 0)
			continue;
		if (fgets(line, sizeof line, stdin) == NULL) {
			xasprintf(cause, "%s -: nothing on standard input",
			    a->flag);
			return (-1);
		}
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		json_object_set_new(args, a->key, json_string(line));
		memset(line, 0, sizeof line);
	}
	return (0);
}

/*
 * An option marked CMD_ARG_FILE names a file here, on the client's side:
 * send its text instead, since the daemon runs in another directory (or
 * on another user's behalf) and could not open the name, nor should.
 */
int
cli_read_files(const struct cmd_spec *c, json_t *args, char **cause)
{
	const struct cmd_arg	*a;
	const char		*path;
	char			*text;
	FILE			*f;
	size_t			 n;
	json_t			*v;
	int			 e;

	for (a = c->args; a->key != NULL; a++) {
		if (!(a->flags & CMD_ARG_FILE) ||
		    (path = jx_str(args, a->key)) == NULL)
			continue;
		if ((f = fopen(path, "rbe")) == NULL) {
			xasprintf(cause, "%s %s: %s", a->flag, path,
			    strerror(errno));
			return (-1);
		}
		text = xmalloc(CMD_FILE_MAX + 1);
		n = fread(text, 1, CMD_FILE_MAX + 1, f);
		e = ferror(f) ? errno : 0;
		fclose(f);
		if (e != 0 || n > CMD_FILE_MAX) {
			if (e != 0)
				xasprintf(cause, "%s %s: %s", a->flag, path,
				    strerror(e));
			else
				xasprintf(cause, _("%s %s: larger than %d "
				    "KiB"), a->flag, path, CMD_FILE_MAX / 1024);
			free(text);
			return (-1);
		}
		/* JSON carries text: a NUL or bad UTF-8 is not what we want. */
		if (memchr(text, '\0', n) != NULL ||
		    (v = json_stringn(text, n)) == NULL) {
			xasprintf(cause, _("%s %s: not a text file"), a->flag,
			    path);
			free(text);
			return (-1);
		}
		free(text);
		json_object_set_new(args, a->key, v);
	}
	return (0);
}

/* Ask on the terminal without echo; NULL when there is no terminal. */
static char *
cli_ask_secret(const char *prompt)
{
	struct termios	 old, quiet;
	char		 line[CLI_SECRET_MAX], *s = NULL;
	FILE		*tty;

	if ((tty = fopen("/dev/tty", "r+e")) == NULL)
		return (NULL);
	if (tcgetattr(fileno(tty), &old) != 0) {
		fclose(tty);
		return (NULL);
	}
	quiet = old;
	quiet.c_lflag &= ~(ECHO);
	fputs(prompt, tty);
	fflush(tty);
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	if (fgets(line, sizeof line, tty) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		s = xstrdup(line);
	}
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputs("\n", tty);
	fclose(tty);
	explicit_bzero(line, sizeof line);
	return (s);
}

/* Is FILE a metapi backup with sealed secrets? Others need no passphrase. */
static int
cli_backup_sealed(const char *file)
{
	json_t	*doc;
	int	 sealed;

	if ((doc = json_load_file(file, 0, NULL)) == NULL)
		return (0);		/* the daemon says what is wrong */
	sealed = jx_str(doc, "format") != NULL &&
	    json_object_get(doc, "kdf") != NULL;
	json_decref(doc);
	return (sealed);
}

/*
 * backup export/import: the file as an absolute path (the daemon has
 * another working directory), and the passphrase from --passphrase-file,
 * else asked for on the terminal, twice for a new backup.
 */
static int
cli_backup_prepare(const struct cmd_spec *c, json_t *args, char **cause)
{
	const char	*file = jx_str(args, "file"), *pf;
	char		*abs, *cwd, *p1, *p2, line[CLI_SECRET_MAX];
	int		 export = strcmp(c->name, "backup.export") == 0;
	FILE		*f;

	if (file[0] != '/') {
		if ((cwd = getcwd(NULL, 0)) == NULL) {
			xasprintf(cause, "getcwd: %s", strerror(errno));
			return (-1);
		}
		xasprintf(&abs, "%s/%s", cwd, file);
		free(cwd);
		jx_set_str(args, "file", abs);
		free(abs);
		file = jx_str(args, "file");
	}
	if ((pf = jx_str(args, "passphrase_file")) != NULL) {
		if ((f = fopen(pf, "re")) == NULL) {
			xasprintf(cause, "%s: %s", pf, strerror(errno));
			return (-1);
		}
		if (fgets(line, sizeof line, f) == NULL)
			line[0] = '\0';
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0') {
			xasprintf(cause, "%s: no passphrase on its first line",
			    pf);
			return (-1);
		}
		json_object_set_new(args, "passphrase", json_string(line));
		explicit_bzero(line, sizeof line);
		json_object_del(args, "passphrase_file");
		return (0);
	}
	if (jx_str(args, "passphrase") != NULL ||
	    (!export && !cli_backup_sealed(file)))
		return (0);
	if ((p1 = cli_ask_secret(export ? _("New backup passphrase: ") :
	    _("Backup passphrase: "))) == NULL) {
		xasprintf(cause, "%s", _("a passphrase is needed: give "
		    "--passphrase-file FILE, or run on a terminal"));
		return (-1);
	}
	if (export) {
		p2 = cli_ask_secret(_("Same passphrase again: "));
		if (p2 == NULL || strcmp(p1, p2) != 0) {
			xasprintf(cause, "%s", _("the passphrases differ"));
			explicit_bzero(p1, strlen(p1));
			free(p1);
			if (p2 != NULL)
				explicit_bzero(p2, strlen(p2));
			free(p2);
			return (-1);
		}
		explicit_bzero(p2, strlen(p2));
		free(p2);
	}
	json_object_set_new(args, "passphrase", json_string(p1));
	explicit_bzero(p1, strlen(p1));
	free(p1);
	return (0);
}

/*
 * Take the CLI's own words (--json, --help, -h) out of a command's
 * arguments wherever they stand, except as an option's value
 * (`--label --json`) or after "--". Returns CLI_WANT_* flags.
 */
#define CLI_WANT_JSON	0x1
#define CLI_WANT_HELP	0x2
static int
cli_strip_own(const struct cmd_spec *c, int *argc, char **argv)
{
	int	i, j, want = 0;

	for (i = j = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--json") == 0)
			want |= CLI_WANT_JSON;
		else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			want |= CLI_WANT_HELP;
		else {
			argv[j++] = argv[i];
			if (cmd_takes_value(c, argv[i]) && i + 1 < *argc)
				argv[j++] = argv[++i];
		}
	}
	*argc = j;
	return (want);
}

/* A refused request: say why on stderr; returns the exit code. */
static int
cli_refused(const struct cmd_spec *c, const struct globals *g, json_t *reply)
{
	json_t		*err;
	enum err_code	 code;
	char		*s;

	err = json_object_get(reply, "error");
	if (err_from_name(jx_str(err, "code") != NULL ?
	    jx_str(err, "code") : "", &code) != 0)
		code = ERR_INTERNAL;
	if (g->json) {
		s = jx_dump(reply);
		printf("%s\n", s);
		free(s);
	}
	fprintf(stderr, "metapi %s: %s\n", c->words,
	    jx_str(err, "message") != NULL ? jx_str(err, "message") :
	    err_text(code));
	return (err_exit_code(code));
}

static volatile sig_atomic_t cli_interrupted;

static void
cli_on_signal(__unused int sig)
{
	cli_interrupted = 1;
}

/*
 * Does s match pat, with * and ? as the daemon's --model filter has them
 * (? is one UTF-8 character; [ is literal)?
 */
static int
cli_glob(const char *pat, const char *s)
{
	if (s == NULL)
		return (0);
	for (; *pat != '\0'; pat++) {
		if (*pat == '*') {
			for (;; s++) {
				if (cli_glob(pat + 1, s))
					return (1);
				if (*s == '\0')
					return (0);
			}
		}
		if (*s == '\0' || (*pat != '?' && *pat != *s))
			return (0);
		if (*pat == '?')
			while ((s[1] & 0xc0) == 0x80)
				s++;
		s++;
	}
	return (*s == '\0');
}

/* Does a followed row pass the --model, --status and --key given? */
static int
cli_follow_match(json_t *args, json_t *item)
{
	const char	*model = jx_str(args, "model");
	const char	*want = jx_str(args, "status");
	const char	*status = jx_str(item, "status");
	long long	 key, k;

	if (model != NULL && !cli_glob(model, jx_str(item, "model")) &&
	    !cli_glob(model, jx_str(item, "model_requested")))
		return (0);
	if (want != NULL && status != NULL &&
	    (strcmp(want, "ok") == 0) != (strcmp(status, "ok") == 0))
		return (0);
	if (jx_int(args, "key", &key) == 0 &&
	    (jx_int(item, "key_id", &k) != 0 || k != key))
		return (0);
	return (1);
}

static void
cli_follow_print(const struct globals *g, json_t *item)
{
	char	*s;

	if (g->json) {
		s = json_dumps(item, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else
		output_log_line(item);
	fflush(stdout);
}

/*
 * logs --follow: subscribe to "logs" first, then list the recent rows
 * (oldest first), then print each new row the daemon sends, with the same
 * filters, until SIGINT or SIGTERM (exit 0). Subscribing before listing
 * means no row falls between the two; a row in both is printed once.
 * --json prints one compact JSON object per line.
 */
static int
cli_follow(struct client *cl, const struct globals *g,
    const struct cmd_spec *c, json_t *args)
{
	struct sigaction	 sa;
	json_t			*reply = NULL, *items, *ev, *data;
	char			*cause = NULL;
	long long		 last = 0, id, skipped;
	size_t			 i;
	int			 rv = 0;

	json_object_del(args, "follow");
	json_incref(args);
	if (client_subscribe(cl, "logs", &cause) != 0 ||
	    client_request(cl, c->name, args, &reply, &cause) != 0) {
		fprintf(stderr, "metapi: %s\n", cause);
		free(cause);
		json_decref(args);
		return (3);
	}
	if (!jx_bool(reply, "ok")) {
		rv = cli_refused(c, g, reply);
		json_decref(reply);
		json_decref(args);
		return (rv);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cli_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!g->json)
		output_log_header();
	items = json_object_get(json_object_get(reply, "data"), "items");
	for (i = json_array_size(items); i > 0; i--) {
		cli_follow_print(g, json_array_get(items, i - 1));
		if (jx_int(json_array_get(items, i - 1), "id", &id) == 0 &&
		    id > last)
			last = id;
	}
	json_decref(reply);
	while (!cli_interrupted) {
		if (client_event(cl, &ev, &cause) != 0) {
			if (cause == NULL)
				continue;
			fprintf(stderr, "metapi: %s\n", cause);
			free(cause);
			rv = 3;
			break;
		}
		data = json_object_get(ev, "data");
		if (jx_str(ev, "topic") == NULL ||
		    strcmp(jx_str(ev, "topic"), "logs") != 0)
			;
		else if (jx_int(ev, "skipped", &skipped) == 0)
			fprintf(stderr, _("metapi: %lld requests not shown: "
			    "this terminal reads too slowly\n"), skipped);
		else if (jx_int(data, "id", &id) == 0 && id > last &&
		    cli_follow_match(args, data)) {
			cli_follow_print(g, data);
			last = id;
		}
		json_decref(ev);
	}
	json_decref(args);
	return (rv);
}

/*
 * The CMD_CLIENT commands: they run here, asking the daemon through other
 * commands, because what they touch is the user's (files in HOME).
 */
static const struct cli_local_entry {
	const char	*name;
	int		 (*run)(const struct globals *, json_t *);
} cli_local_table[] = {
	{ "client.connect", connect_main },
};

static int
cli_local(const struct cmd_spec *c, const struct globals *g, json_t *args)
{
	size_t	i;

	for (i = 0; i < sizeof cli_local_table / sizeof cli_local_table[0];
	    i++)
		if (strcmp(cli_local_table[i].name, c->name) == 0)
			return (cli_local_table[i].run(g, args));
	fprintf(stderr, "metapi %s: not available in this build\n", c->words);
	return (2);
}

/*
 * search: no match is exit 1 with a word on stderr, as grep has it, so
 * scripts can test for a match; kinds cut at --limit are named there.
 */
static int
cli_search_done(const struct cmd_spec *c, json_t *data)
{
	json_t	*kind;
	size_t	 i;

	json_array_foreach(json_object_get(data, "more"), i, kind)
		fprintf(stderr, _("metapi %s: more matches of kind %s than "
		    "--limit shows\n"), c->words, json_string_value(kind));
	if (json_array_size(json_object_get(data, "items")) > 0)
		return (0);
	fprintf(stderr, _("metapi %s: no matches for \"%s\"\n"), c->words,
	    jx_str(data, "query"));
	return (1);
}

int
cli_main(const struct globals *g0, int argc, char **argv)
{
	struct globals		 g = *g0;
	const struct cmd_spec	*c;
	struct client		 cl;
	json_t			*args = NULL, *reply = NULL;
	char			*cause = NULL, *s;
	int			 used, rv, want;
	long long		 nfailed;

	if ((c = cmd_match_words(argc, argv, &used)) == NULL) {
		/* "metapi notify" or "metapi notify --help": its commands. */
		if (argc > 0 && cmd_is_noun(argv[0]) && (argc == 1 ||
		    strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			cli_noun_usage(argv[0], argc == 1 ? stderr : stdout);
			return (argc == 1 ? 2 : 0);
		}
		if (argc > 0 && cmd_is_noun(argv[0]))
			fprintf(stderr, _("metapi: unknown %s command%s%s\n"),
			    argv[0], argc > 1 ? ": " : "", argc > 1 ?
			    argv[1] : "");
		else
			fprintf(stderr, _("metapi: unknown command: %s\n"),
			    argv[0]);
		fprintf(stderr, "%s", _("run `metapi --help` for the list\n"));
		return (2);
	}
	/* Starting a daemon only to stop it would be silly. */
	if (strcmp(c->name, "daemon.stop") == 0)
		g.no_start = 1;
	argc -= used;
	argv += used;
	want = cli_strip_own(c, &argc, argv);
	if (want & CLI_WANT_JSON)
		g.json = 1;
	if (want & CLI_WANT_HELP) {
		cmd_usage(c, stdout);
		return (0);
	}
	if (cmd_parse_argv(c, argc, argv, &args, &cause) != 0) {
		fprintf(stderr, "metapi %s: %s\n", c->words, cause);
		free(cause);
		cmd_usage(c, stderr);
		return (2);
	}
	if (cli_read_secrets(c, args, &cause) != 0 ||
	    cli_read_files(c, args, &cause) != 0 ||
	    (strncmp(c->name, "backup.", 7) == 0 &&
	    cli_backup_prepare(c, args, &cause) != 0)) {
		fprintf(stderr, "metapi %s: %s\n", c->words, cause);
		free(cause);
		json_decref(args);
		return (2);
	}
	/* doctor works without a daemon, and never starts one. */
	if (strcmp(c->name, "doctor.run") == 0)
		return (doctor_main(&g, args));
	if (c->flags & CMD_CLIENT) {
		rv = cli_local(c, &g, args);
		json_decref(args);
		return (rv);
	}
	if (client_open(&cl, &g, &cause) != 0) {
		fprintf(stderr, "metapi: %s\n", cause);
		free(cause);
		json_decref(args);
		client_close(&cl);
		return (3);
	}
	if (strcmp(c->name, "log.list") == 0 && jx_bool(args, "follow")) {
		rv = cli_follow(&cl, &g, c, args);
		client_close(&cl);
		return (rv);
	}
	if (client_request(&cl, c->name, args, &reply, &cause) != 0) {
		fprintf(stderr, "metapi: %s\n", cause);
		free(cause);
		client_close(&cl);
		return (3);
	}
	client_close(&cl);
	/* `stop` returns once the daemon is gone, so a new one can start. */
	if (jx_bool(reply, "ok") && strcmp(c->name, "daemon.stop") == 0 &&
	    client_wait_exit(cl.daemon_pid, CLI_STOP_WAIT_MS) != 0) {
		fprintf(stderr, _("metapi: daemon (pid %ld) is still draining "
		    "after %d seconds\n"), cl.daemon_pid, CLI_STOP_WAIT_MS / 1000);
		json_decref(reply);
		return (1);
	}
	if (!jx_bool(reply, "ok")) {
		rv = cli_refused(c, &g, reply);
		json_decref(reply);
		return (rv);
	}
	/* Commands over many accounts succeed as a whole but count failures. */
	rv = jx_int(json_object_get(reply, "data"), "failed", &nfailed) == 0 &&
	    nfailed > 0 ? 1 : 0;
	if (strcmp(c->name, "daemon.stop") == 0 && !g.json)
		fprintf(stderr, _("metapi: daemon (pid %ld) stopped\n"),
		    cl.daemon_pid);
	else if (g.json) {
		s = jx_dump(json_object_get(reply, "data"));
		printf("%s\n", s);
		free(s);
	} else if (strcmp(c->name, "search.run") != 0 || json_array_size(
	    json_object_get(json_object_get(reply, "data"), "items")) > 0)
		output_reply(c->name, json_object_get(reply, "data"));
	if (strcmp(c->name, "search.run") == 0)
		rv = cli_search_done(c, json_object_get(reply, "data"));
	json_decref(reply);
	return (rv);
}

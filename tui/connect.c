/*
 * `metapi connect CLIENT`: the I/O around src/clientconf.c. Asks the
 * daemon for its listen address, the key (and its secret) and the models,
 * then prints the client's configuration, or with --write shows the change
 * to the client's file, asks, and writes it: atomically, keeping the
 * file's mode and a .bak of what was there. It runs in metapi, not in the
 * daemon: the files are the user's, in this user's HOME.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "clientconf.h"
#include "jx.h"
#include "linediff.h"
#include "tui.h"
#include "xmalloc.h"

#define CONNECT_FILE_MAX	(1024 * 1024)

static void
connect_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
connect_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "metapi connect: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/*
 * One request; its data (owned), or NULL with the exit code in *rv after
 * saying why.
 */
static json_t *
connect_request(struct client *cl, const char *cmd, json_t *args, int *rv)
{
	json_t		*reply = NULL, *data, *err;
	const char	*msg;
	char		*cause = NULL;

	if (client_request(cl, cmd, args, &reply, &cause) != 0) {
		connect_error("%s", cause);
		free(cause);
		*rv = 3;
		return (NULL);
	}
	if (!jx_bool(reply, "ok")) {
		err = json_object_get(reply, "error");
		msg = jx_str(err, "message");
		connect_error("%s: %s", cmd, msg != NULL ? msg : "refused");
		json_decref(reply);
		*rv = 1;
		return (NULL);
	}
	data = json_incref(json_object_get(reply, "data"));
	json_decref(reply);
	if (data == NULL) {
		connect_error("%s: empty reply", cmd);
		*rv = 1;
	}
	return (data);
}

/*
 * The file's content (NULL and *exists 0 when there is none), or -1 when
 * it cannot be read or is not a small text file.
 */
static int
connect_read(const char *path, char **out, struct stat *sb, int *exists)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	*out = NULL;
	*exists = 0;
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return (0);
		connect_error(_("cannot read %s: %s"), path, strerror(errno));
		return (-1);
	}
	if (fstat(fileno(f), sb) != 0 || !S_ISREG(sb->st_mode) ||
	    sb->st_size > CONNECT_FILE_MAX) {
		connect_error(_("%s is not a regular file of at most 1 MiB"),
		    path);
		fclose(f);
		return (-1);
	}
	buf = xmalloc(sb->st_size + 1);
	n = fread(buf, 1, sb->st_size, f);
	buf[n] = '\0';
	if (ferror(f) || strlen(buf) != n) {
		connect_error(_("cannot read %s: not a text file"), path);
		free(buf);
		fclose(f);
		return (-1);
	}
	fclose(f);
	*out = buf;
	*exists = 1;
	return (0);
}

/* mkdir -p for the directory of path; what it creates is mode 0700. */
static int
connect_mkdirs(const char *path)
{
	char	*dir = xstrdup(path), *p, c;
	int	 rv = 0;

	if ((p = strrchr(dir, '/')) == NULL || p == dir) {
		free(dir);
		return (0);
	}
	*p = '\0';
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			connect_error(_("cannot create %s: %s"), dir,
			    strerror(errno));
			rv = -1;
			break;
		}
		if (c == '\0')
			break;
		*p = '/';
	}
	free(dir);
	return (rv);
}

/*
 * Replace path with content: a temporary file in the same directory,
 * written, flushed to disk and renamed over it, so a crash leaves the
 * old file or the new one, never half of one.
 */
static int
connect_write(const char *path, const char *content, mode_t mode)
{
	char	*tmp, *dir, *slash;
	size_t	 len = strlen(content), off = 0;
	ssize_t	 n;
	int	 fd, dfd;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	xasprintf(&tmp, "%s.metapi.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		connect_error(_("cannot write in %s: %s"), dir,
		    strerror(errno));
		goto fail;
	}
	if (fchmod(fd, mode) != 0)
		goto bad;
	while (off < len) {
		if ((n = write(fd, content + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto bad;
		}
		off += n;
	}
	if (fsync(fd) != 0)
		goto bad;
	if (close(fd) != 0) {
		fd = -1;
		goto bad;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto bad;
	/* The rename itself is on disk once the directory is. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	free(tmp);
	free(dir);
	return (0);
bad:
	connect_error(_("cannot write %s: %s"), path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
fail:
	free(tmp);
	free(dir);
	return (-1);
}

/* "Write PATH? [y/N]" on the terminal; 1 for yes. */
static int
connect_confirm(const char *path)
{
	char	line[64];

	fprintf(stderr, _("Write %s? [y/N] "), path);
	fflush(stderr);
	if (fgets(line, sizeof line, stdin) == NULL)
		return (0);
	line[strcspn(line, "\r\n")] = '\0';
	return (strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0);
}

/* The environment the client reads, as export lines. */
static void
connect_print_env(json_t *env)
{
	const char	*k;
	json_t		*v;
	char		*q;

	json_object_foreach(env, k, v) {
		q = clientconf_shell_quote(json_string_value(v));
		printf("export %s=%s\n", k, q);
		free(q);
	}
}

/*
 * --write: show the change to the file, ask (or take --yes), keep a .bak
 * and write. The file a symlink points to is the one written.
 */
static int
connect_write_file(const struct clientconf_client *c,
    const struct clientconf_in *in, json_t *out, const struct globals *g,
    int yes)
{
	json_t		*o = NULL, *file;
	struct stat	 sb, lsb;
	char		*old = NULL, *real = NULL, *bak = NULL, *diff, *cause;
	const char	*path = in->path, *content;
	mode_t		 mode, mask;
	int		 exists, rv = 1;

	if (lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode)) {
		if ((real = realpath(path, NULL)) == NULL) {
			connect_error(_("%s is a link to nothing: %s"), path,
			    strerror(errno));
			return (1);
		}
		path = real;
	}
	if (connect_read(path, &old, &sb, &exists) != 0)
		goto out;
	cause = NULL;
	if ((o = clientconf_build(c, in, old, &cause)) == NULL) {
		connect_error("%s: %s", path, cause);
		free(cause);
		goto out;
	}
	file = json_array_get(json_object_get(o, "files"), 0);
	content = jx_str(file, "content");
	json_object_set_new(file, "written", json_false());
	json_object_set_new(file, "backup", json_null());
	if (exists && strcmp(old, content) == 0) {
		fprintf(stderr, _("metapi connect: %s already has this "
		    "configuration\n"), path);
		rv = 0;
		goto done;
	}
	diff = linediff_unified(old, content, exists ? path : "/dev/null",
	    path);
	fputs(diff, g->json ? stderr : stdout);
	fflush(stdout);
	free(diff);
	if (!yes && !isatty(STDIN_FILENO)) {
		connect_error(_("standard input is not a terminal: add --yes "
		    "to write %s"), path);
		goto out;
	}
	if (!yes && !connect_confirm(path)) {
		connect_error(_("nothing written"));
		goto out;
	}
	if (exists)
		mode = sb.st_mode & 07777;
	else if (c->flags & CLIENTCONF_KEY_IN_FILE)
		mode = 0600;
	else {
		mask = umask(022);
		umask(mask);
		mode = 0666 & ~mask;
	}
	if (connect_mkdirs(path) != 0)
		goto out;
	if (exists) {
		xasprintf(&bak, "%s.bak", path);
		if (connect_write(bak, old, mode) != 0)
			goto out;
		json_object_set_new(file, "backup", json_string(bak));
	}
	if (connect_write(path, content, mode) != 0)
		goto out;
	json_object_set_new(file, "written", json_true());
	json_object_set_new(file, "path", json_string(path));
	if (bak != NULL)
		fprintf(stderr, _("metapi connect: wrote %s (the old one is "
		    "%s)\n"), path, bak);
	else
		fprintf(stderr, _("metapi connect: wrote %s\n"), path);
	if ((c->flags & CLIENTCONF_NEEDS_ENV) && !g->json) {
		printf("\n");
		printf(_("# %s reads the key from the environment; put "
		    "this in your shell profile:\n"), c->title);
		connect_print_env(json_object_get(o, "env"));
	}
	rv = 0;
done:
	if (g->json) {
		json_object_update(out, o);
		diff = jx_dump(out);
		printf("%s\n", diff);
		free(diff);
	}
out:
	json_decref(o);
	free(old);
	free(bak);
	free(real);
	return (rv);
}

/*
 * The whole command. Exit codes as every command's: 2 for a client it
 * does not know or --write where there is no file, 1 when something is
 * refused (no usable key, a file it cannot merge, no answer "y"), 3 when
 * no daemon answers.
 */
int
connect_main(const struct globals *g, json_t *args)
{
	const struct clientconf_client	*c;
	struct clientconf_in		 in;
	struct clientconf_env		 env;
	struct client			 cl;
	json_t				*status = NULL, *keys = NULL;
	json_t				*secret = NULL, *market = NULL, *key;
	json_t				*o = NULL, *out = NULL;
	char				*cause = NULL, *root = NULL;
	char				*path = NULL, *names, *s;
	long long			 want = -1;
	int				 rv = 1, wr = jx_bool(args, "write");

	memset(&in, 0, sizeof in);
	if ((c = clientconf_find(jx_str(args, "client"))) == NULL) {
		names = clientconf_names();
		connect_error(_("unknown client \"%s\" (known: %s)"),
		    jx_str(args, "client"), names);
		free(names);
		return (2);
	}
	if (wr && c->merge == NULL) {
		connect_error(_("%s has no config file metapi can write: use "
		    "what `metapi connect %s` prints"), c->title, c->name);
		return (2);
	}
	if (c->path != NULL) {
		env.home = getenv("HOME");
		env.xdg_config_home = getenv("XDG_CONFIG_HOME");
		env.codex_home = getenv("CODEX_HOME");
		if (env.home == NULL || *env.home != '/') {
			connect_error("%s",
			    _("HOME is not set to a directory"));
			return (1);
		}
		path = c->path(&env);
	}
	jx_int(args, "key", &want);
	if (want < 0 && jx_has(args, "key")) {
		connect_error(_("no key %lld"), want);
		return (1);
	}

	if (client_open(&cl, g, &cause) != 0) {
		connect_error("%s", cause);
		free(cause);
		client_close(&cl);
		free(path);
		return (3);
	}
	if ((status = connect_request(&cl, "daemon.status", NULL, &rv)) ==
	    NULL || (keys = connect_request(&cl, "key.list", NULL, &rv)) ==
	    NULL)
		goto out;
	rv = 1;
	if ((root = clientconf_root(jx_str(status, "listen"), &cause)) ==
	    NULL || (key = clientconf_pick_key(json_object_get(keys, "items"),
	    want, &cause)) == NULL) {
		connect_error("%s", cause);
		free(cause);
		goto out;
	}
	if ((secret = connect_request(&cl, "key.reveal", json_pack("{s:I}",
	    "id", json_integer_value(json_object_get(key, "id"))), &rv)) ==
	    NULL || (market = connect_request(&cl, "model.list", NULL,
	    &rv)) == NULL)
		goto out;
	rv = 1;
	if (jx_str(secret, "key") == NULL) {
		connect_error("%s", _("the daemon did not reveal the key"));
		goto out;
	}
	in.root = root;
	in.key = jx_str(secret, "key");
	in.key_id = json_integer_value(json_object_get(key, "id"));
	in.models = clientconf_models(json_object_get(market, "items"),
	    json_object_get(key, "models"));
	in.path = path;

	if (wr) {
		out = json_object();
		rv = connect_write_file(c, &in, out, g, jx_bool(args, "yes"));
		goto out;
	}
	if ((o = clientconf_build(c, &in, NULL, &cause)) == NULL) {
		connect_error("%s", cause);
		free(cause);
		goto out;
	}
	if (g->json) {
		s = jx_dump(o);
		printf("%s\n", s);
		free(s);
	} else
		fputs(jx_str(o, "text"), stdout);
	rv = 0;
out:
	client_close(&cl);
	json_decref(in.models);
	json_decref(o);
	json_decref(out);
	json_decref(market);
	json_decref(secret);
	json_decref(keys);
	json_decref(status);
	free(root);
	free(path);
	return (rv);
}

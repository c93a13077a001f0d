/*
 * metapi doctor, the client half. It checks what it can alone: the data
 * dir (exists, ours, mode 0700), the master key file (0600), free disk
 * space there, the control socket and the daemon's version. It then asks
 * the daemon for the rest (doctor.run: database, HTTP listener, sites,
 * credentials, clock) and prints every check as one line, with what to
 * do for each problem.
 *
 * doctor never starts a daemon, unlike the other commands: starting one
 * would change what is being diagnosed (create the data dir, the key, the
 * database) and would hide the very problem of a daemon that does not
 * run. With no daemon the local checks still run and the socket check
 * fails with the command to start one. Exit 0 when nothing failed, 1
 * when something did (warnings do not count).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "doctor.h"
#include "jx.h"
#include "paths.h"
#include "tui.h"
#include "width.h"
#include "xmalloc.h"

#define DOCTOR_DISK_WARN	(512LL * 1024 * 1024)	/* bytes free */
#define DOCTOR_DISK_FAIL	(64LL * 1024 * 1024)
#define DOCTOR_STATUS_W		6	/* "STATUS", wider than "fail" */

/* -1 when the data dir does not exist. */
static int
doctor_data_dir(json_t *items, const char *dir, int daemon_up)
{
	struct stat	 sb;
	char		*fix;

	if (lstat(dir, &sb) != 0) {
		xasprintf(&fix, "start the daemon once (metapi daemon "
		    "--detach), which creates it, or: mkdir -m 700 %s", dir);
		doctor_item(items, "data.dir", "fail", fix, "%s: %s", dir,
		    strerror(errno));
		free(fix);
		return (-1);
	}
	if (!S_ISDIR(sb.st_mode)) {
		doctor_item(items, "data.dir", "fail", "point -d or "
		    "METAPI_DATA_DIR at a directory", "%s is not a directory",
		    dir);
		return (-1);
	}
	if (sb.st_uid != getuid()) {
		xasprintf(&fix, "chown -R %ld %s", (long)getuid(), dir);
		doctor_item(items, "data.dir", "fail", fix, "%s belongs to uid "
		    "%ld, not to you (uid %ld)", dir, (long)sb.st_uid,
		    (long)getuid());
		free(fix);
		return (0);
	}
	if ((sb.st_mode & 077) != 0) {
		xasprintf(&fix, "chmod 700 %s", dir);
		doctor_item(items, "data.dir", "warn", fix, "%s has mode %04o: "
		    "other users may read the database and logs", dir,
		    (unsigned)(sb.st_mode & 07777));
		free(fix);
		return (0);
	}
	doctor_item(items, "data.dir", "ok", NULL, "%s: yours, mode %04o%s",
	    dir, (unsigned)(sb.st_mode & 07777), daemon_up ? "" :
	    " (the daemon's may differ: none answers)");
	return (0);
}

static void
doctor_master_key(json_t *items, const char *dir)
{
	struct stat	 sb;
	char		*path, *fix;

	path = paths_join(dir, "master.key");
	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT && getenv("METAPI_MASTER_KEY") != NULL)
			doctor_item(items, "data.master_key", "ok", NULL,
			    "no %s: METAPI_MASTER_KEY holds the key", path);
		else if (errno == ENOENT)
			doctor_item(items, "data.master_key", "warn", "if the "
			    "daemon gets METAPI_MASTER_KEY, keep that key "
			    "safe; otherwise restore the file from a backup",
			    "%s does not exist", path);
		else
			doctor_item(items, "data.master_key", "fail", NULL,
			    "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(sb.st_mode)) {
		doctor_item(items, "data.master_key", "fail", "restore the key "
		    "file from a backup", "%s is not a regular file", path);
	} else if (sb.st_uid != getuid()) {
		xasprintf(&fix, "chown %ld %s", (long)getuid(), path);
		doctor_item(items, "data.master_key", "fail", fix, "%s belongs "
		    "to uid %ld, not to you", path, (long)sb.st_uid);
		free(fix);
	} else if ((sb.st_mode & 077) != 0) {
		xasprintf(&fix, "chmod 600 %s (the daemon refuses to start "
		    "with it as it is)", path);
		doctor_item(items, "data.master_key", "fail", fix, "%s has "
		    "mode %04o: other users may read the key to every stored "
		    "secret", path, (unsigned)(sb.st_mode & 07777));
		free(fix);
	} else
		doctor_item(items, "data.master_key", "ok", NULL, "%s: mode "
		    "%04o", path, (unsigned)(sb.st_mode & 07777));
	free(path);
}

static void
doctor_disk(json_t *items, const char *dir)
{
	struct statvfs	 vfs;
	long long	 avail, total;
	const char	*status;
	char		*d, *up;

	/* A data dir yet to be made will be on its parent's file system. */
	d = xstrdup(dir);
	while (statvfs(d, &vfs) != 0) {
		if (errno != ENOENT || strcmp(d, "/") == 0 ||
		    strcmp(d, ".") == 0) {
			doctor_item(items, "data.disk", "warn", NULL, "cannot "
			    "read the free space of %s: %s", dir,
			    strerror(errno));
			free(d);
			return;
		}
		up = xstrdup(dirname(d));
		free(d);
		d = up;
	}
	free(d);
	avail = (long long)vfs.f_bavail * (long long)vfs.f_frsize;
	total = (long long)vfs.f_blocks * (long long)vfs.f_frsize;
	status = avail < DOCTOR_DISK_FAIL ? "fail" : avail < DOCTOR_DISK_WARN ?
	    "warn" : "ok";
	doctor_item(items, "data.disk", status, strcmp(status, "ok") == 0 ?
	    NULL : "free space on that file system; shorter "
	    "log_retention_days and files_retention_days help (metapi "
	    "settings set KEY VALUE)", "%lld MiB free of %lld MiB on the "
	    "file system of %s", avail / (1024 * 1024), total / (1024 * 1024),
	    dir);
}

/* The socket's directory must stay private (STYLE: the socket is). */
static void
doctor_socket_dir(json_t *items, const char *sock)
{
	struct stat	 sb;
	char		*tmp, *dir, *fix;

	tmp = xstrdup(sock);
	dir = dirname(tmp);
	if (lstat(dir, &sb) == 0 && ((sb.st_mode & 022) != 0 ||
	    sb.st_uid != getuid())) {
		xasprintf(&fix, "use a private directory for the socket "
		    "(chmod 700 %s, or -S / METAPI_SOCKET)", dir);
		doctor_item(items, "daemon.socket", "warn", fix, "%s: mode %04o, "
		    "uid %ld: others could replace the socket", dir,
		    (unsigned)(sb.st_mode & 07777), (long)sb.st_uid);
		free(fix);
	}
	free(tmp);
}

/* The socket and the daemon's version; *cl is open on success. */
static int
doctor_connect(json_t *items, const struct globals *g, struct client *cl,
    json_t **status)
{
	struct globals	 ng = *g;
	struct stat	 sb;
	char		*cause = NULL, *sock;
	const char	*v;
	int		 exists;

	*status = NULL;
	ng.no_start = 1;
	sock = paths_socket(g->socket);
	exists = stat(sock, &sb) == 0;
	if (client_open(cl, &ng, &cause) != 0) {
		client_close(cl);
		if (!exists)
			doctor_item(items, "daemon.socket", "fail", "start it: "
			    "metapi daemon --detach (doctor never starts one)",
			    "no daemon: %s does not exist; the database, HTTP, "
			    "site, credential and clock checks need one", sock);
		else if (strstr(cause, "protocol") != NULL)
			doctor_item(items, "daemon.version", "fail", "stop "
			    "that daemon and start it with this metapi "
			    "(metapi daemon --detach)", "%s", cause);
		else
			doctor_item(items, "daemon.socket", "fail", "start it: "
			    "metapi daemon --detach (doctor never starts one)",
			    "no daemon answers on %s (a stale socket); the "
			    "database, HTTP, site, credential and clock checks "
			    "need one", sock);
		free(cause);
		free(sock);
		return (-1);
	}
	doctor_socket_dir(items, sock);
	if (client_request(cl, "daemon.status", NULL, status, &cause) != 0 ||
	    !jx_bool(*status, "ok")) {
		doctor_item(items, "daemon.socket", "fail", "see the daemon's "
		    "log; restart it (metapi stop, then metapi daemon "
		    "--detach)", "the daemon on %s does not answer status: %s",
		    sock, cause != NULL ? cause : "refused");
		free(cause);
		free(sock);
		json_decref(*status);
		*status = NULL;
		client_close(cl);
		return (-1);
	}
	doctor_item(items, "daemon.socket", "ok", NULL, "a daemon (pid %ld) "
	    "answers on %s", cl->daemon_pid, sock);
	free(sock);
	v = jx_str(json_object_get(*status, "data"), "version");
	if (v == NULL || strcmp(v, PACKAGE_VERSION) != 0)
		doctor_item(items, "daemon.version", "warn", "restart the "
		    "daemon with this metapi: metapi stop, then metapi daemon "
		    "--detach", "the daemon runs metapi %s, this client is %s",
		    v != NULL ? v : "?", PACKAGE_VERSION);
	else
		doctor_item(items, "daemon.version", "ok", NULL, "metapi %s, "
		    "the same as this client", v);
	return (0);
}

/* s, then spaces to w display cells and two more. */
static void
doctor_cell(const char *s, size_t w)
{
	size_t	n;

	fputs(s, stdout);
	for (n = width_utf8(s); n < w + 2; n++)
		putchar(' ');
}

static void
doctor_print(json_t *items)
{
	json_t		*it;
	size_t		 i, w = strlen("CHECK"), n;
	const char	*check, *fix;

	json_array_foreach(items, i, it)
		if ((n = width_utf8(jx_str(it, "check"))) > w)
			w = n;
	doctor_cell(_("STATUS"), DOCTOR_STATUS_W);
	doctor_cell(_("CHECK"), w);
	printf("%s\n", _("DETAIL"));
	json_array_foreach(items, i, it) {
		check = jx_str(it, "check");
		doctor_cell(jx_str(it, "status"), DOCTOR_STATUS_W);
		doctor_cell(check, w);
		printf("%s\n", jx_str(it, "detail"));
		if ((fix = jx_str(it, "fix")) != NULL)
			printf("%*s%s %s\n", (int)(DOCTOR_STATUS_W + w + 4), "",
			    _("fix:"), fix);
	}
}

int
doctor_main(const struct globals *g, json_t *args)
{
	struct client	 cl;
	json_t		*items, *status = NULL, *reply = NULL, *it, *out;
	char		*dir, *cause = NULL, *s;
	const char	*st;
	size_t		 i;
	long long	 counts[3] = { 0, 0, 0 }, timeout;
	int		 up;

	/* Checked here too, so that a bad value is not a failed check. */
	if (jx_int(args, "timeout", &timeout) == 0 && (timeout < 1 ||
	    timeout > DOCTOR_TIMEOUT_MAX)) {
		fprintf(stderr, "metapi doctor: --timeout must be 1 to %d "
		    "seconds\n", DOCTOR_TIMEOUT_MAX);
		json_decref(args);
		return (2);
	}
	items = json_array();
	/* Connect first: a running daemon says which data dir it uses. */
	up = doctor_connect(items, g, &cl, &status) == 0;
	if (up && jx_str(json_object_get(status, "data"), "data_dir") != NULL)
		dir = xstrdup(jx_str(json_object_get(status, "data"),
		    "data_dir"));
	else
		dir = paths_data_dir(g->data_dir);
	out = json_array();
	/* Without a data dir, a master key is yet to be made: no news. */
	if (doctor_data_dir(out, dir, up) == 0)
		doctor_master_key(out, dir);
	doctor_disk(out, dir);
	json_array_extend(out, items);
	json_decref(items);
	items = out;
	free(dir);
	if (up) {
		if (client_request(&cl, "doctor.run", args, &reply,
		    &cause) != 0) {
			doctor_item(items, "daemon.socket", "fail", "see the "
			    "daemon's log", "doctor.run: %s", cause);
			free(cause);
		} else if (!jx_bool(reply, "ok"))
			doctor_item(items, "daemon.version", "fail", "restart "
			    "the daemon with this metapi", "doctor.run: %s",
			    jx_str(json_object_get(reply, "error"),
			    "message") != NULL ? jx_str(json_object_get(reply,
			    "error"), "message") : "refused");
		else
			json_array_extend(items, json_object_get(
			    json_object_get(reply, "data"), "items"));
		json_decref(reply);
		client_close(&cl);
	} else
		json_decref(args);
	json_decref(status);

	json_array_foreach(items, i, it) {
		st = jx_str(it, "status");
		counts[strcmp(st, "ok") == 0 ? 0 : strcmp(st, "warn") == 0 ?
		    1 : 2]++;
	}
	if (g->json) {
		out = json_pack("{s:o, s:n, s:{s:I, s:I, s:I}}", "items", items,
		    "next", "summary", "ok", (json_int_t)counts[0], "warn",
		    (json_int_t)counts[1], "fail", (json_int_t)counts[2]);
		s = jx_dump(out);
		printf("%s\n", s);
		free(s);
		json_decref(out);
	} else {
		doctor_print(items);
		printf(_("\n%lld ok, %lld warnings, %lld failures\n"),
		    counts[0], counts[1], counts[2]);
		json_decref(items);
	}
	return (counts[2] > 0 ? 1 : 0);
}

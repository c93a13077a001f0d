/*
 * The daemon: parse `metapi daemon` options, take the data dir and the
 * socket for this instance only, open the database and the vault, start
 * HTTP and the control socket, run the main loop, and shut down in order.
 * This file holds the one struct metapid, touched by the main thread only.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "paths.h"
#include "setting.h"
#include "site.h"
#include "routestate.h"
#include "snapshot.h"
#include "upstream.h"
#include "vault.h"
#include "xmalloc.h"

#define METAPID_POLL_MAX	80
#define METAPID_VAULT_CHECK	"metapi-vault-check"

struct metapid	*metapid;

/* A write whose failure changes nothing (a courtesy or a wakeup). */
static void
metapid_write(int fd, const void *p, size_t n)
{
	ssize_t	r;

	r = write(fd, p, n);
	(void)r;
}

static void
metapid_usage(FILE *f)
{
	fprintf(f, "usage: metapi daemon [--listen ADDR:PORT] [--detach] "
	    "[--log-file FILE]\n"
	    "                     [--log-level error|warn|info|debug] "
	    "[--log-format text|json]\n"
	    "                     [--db URL]\n");
}

static void
metapid_signal(int sig)
{
	char	c = (char)sig;
	int	saved = errno;

	if (sig == SIGHUP)
		metapid->reload = 1;
	else
		metapid->stop = 1;
	/* If the pipe is full the flag alone will do. */
	metapid_write(metapid->sig_pipe[1], &c, 1);
	errno = saved;
}

void
metapid_request_stop(void)
{
	metapid->stop = 1;
}

/* Read the settings again and apply them (without a snapshot rebuild). */
int
metapid_load_settings(char **cause)
{
	struct settings	*s;

	if ((s = settings_load(metapid->db, cause)) == NULL)
		return (-1);
	settings_free(metapid->settings);
	metapid->settings = s;
	http_apply_settings(s);
	scheduler_reschedule();
	return (0);
}

/* Reload settings from the database (SIGHUP, settings.set). */
int
metapid_reload(char **cause)
{
	if (metapid_load_settings(cause) != 0)
		return (-1);
	ctl_changed();
	return (0);
}

/*
 * "HOST:PORT" with an IPv4 address, [IPv6] or localhost; port 0 to 65535.
 * A bare port would make civetweb listen on every interface, which must
 * be asked for explicitly (0.0.0.0:PORT).
 */
static int
metapid_check_listen(const char *addr, char **out, char **cause)
{
	const char	*colon = strrchr(addr, ':'), *errstr;
	char		*host, buf[sizeof(struct in6_addr)];
	long long	 port;

	if (colon == NULL || colon == addr)
		goto bad;
	port = strtonum(colon + 1, 0, 65535, &errstr);
	if (errstr != NULL)
		goto bad;
	host = xstrndup(addr, colon - addr);
	if (strcmp(host, "localhost") == 0) {
		xasprintf(out, "127.0.0.1:%lld", port);
		free(host);
		return (0);
	}
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, buf) != 1) {
			free(host);
			goto bad;
		}
	} else if (inet_pton(AF_INET, host, buf) != 1) {
		free(host);
		goto bad;
	}
	free(host);
	*out = xstrdup(addr);
	return (0);
bad:
	xasprintf(cause, "bad --listen \"%s\": use HOST:PORT with an IP "
	    "address, e.g. 127.0.0.1:4000 or [::1]:4000", addr);
	return (-1);
}

/*
 * --db: a path, file:PATH, sqlite://PATH, or a PostgreSQL URL
 * (postgres://...) when built with it.
 */
static int
metapid_db_path(const char *url, const char *data_dir, char **out,
    char **cause)
{
	if (url == NULL || *url == '\0') {
		*out = paths_join(data_dir, "metapi.db");
		return (0);
	}
	if (db_is_url(url)) {
#ifdef HAVE_POSTGRESQL
		*out = xstrdup(url);
		return (0);
#else
		*cause = xstrdup("this metapi was built without PostgreSQL "
		    "support (./configure --with-postgresql); use the SQLite "
		    "default");
		return (-1);
#endif
	}
	if (strncmp(url, "sqlite://", 9) == 0)
		url += 9;
	else if (strncmp(url, "file:", 5) == 0)
		url += 5;
	if (*url == '\0' || strstr(url, "://") != NULL) {
		xasprintf(cause, "bad --db \"%s\": give a file path", url);
		return (-1);
	}
	*out = xstrdup(url);
	return (0);
}

/*
 * One daemon per data dir: a flock held for the daemon's life. The lock
 * file also records the pid, for the message the second daemon prints.
 */
static int
metapid_lock(const char *path, int *fdp, const char *what, char **cause)
{
	char	pid[32] = "";
	ssize_t	n;
	int	fd;

	fd = open(path, O_RDWR|O_CREAT|O_CLOEXEC, 0600);
	if (fd == -1) {
		xasprintf(cause, "cannot open %s: %s", path, strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX|LOCK_NB) != 0) {
		n = read(fd, pid, sizeof pid - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (*pid != '\0')
			xasprintf(cause, "another metapi daemon (pid %s) is "
			    "already running on %s", pid, what);
		else
			xasprintf(cause, "another metapi daemon is already "
			    "running on %s", what);
		close(fd);
		return (-1);
	}
	if (ftruncate(fd, 0) == 0) {
		snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
		metapid_write(fd, pid, strlen(pid));
	}
	*fdp = fd;
	return (0);
}

/* Does a daemon answer on this socket? */
static int
metapid_socket_alive(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, alive;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path)
		return (0);
	if ((fd = socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)) == -1)
		return (0);
	alive = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
	close(fd);
	return (alive);
}

/*
 * Open the vault. The master key may be created only while the database
 * holds no sealed secrets; afterwards a missing or different key is an
 * error that names the fix, never a silent new key.
 */
static int
metapid_open_vault(char **cause)
{
	void	*check = NULL;
	size_t	 len;
	char	*path, *plain, *why = NULL, *ad = "meta.vault_check:0";
	uint8_t	*blob;
	int	 created;

	if (db_meta_get(metapid->db, "vault_check", &check, &len, cause) != 0)
		return (-1);
	path = paths_join(metapid->data_dir, "master.key");
	created = check == NULL;
	if (vault_load(path, &created, cause) != 0) {
		free(path);
		free(check);
		return (-1);
	}
	if (created)
		log_info("vault: created master key %s", path);
	if (check != NULL) {
		plain = vault_unseal(ad, check, len, &why);
		free(check);
		if (plain == NULL) {
			xasprintf(cause, "the master key (%s) does not open this "
			    "database's secrets: %s; restore the right key "
			    "file or METAPI_MASTER_KEY", getenv(
			    "METAPI_MASTER_KEY") != NULL ? "METAPI_MASTER_KEY" :
			    path, why);
			free(why);
			free(path);
			return (-1);
		}
		vault_secret_free(plain);
	} else {
		vault_seal(ad, METAPID_VAULT_CHECK, strlen(METAPID_VAULT_CHECK),
		    &blob, &len);
		if (db_meta_set(metapid->db, "vault_check", blob, len,
		    cause) != 0) {
			free(blob);
			free(path);
			return (-1);
		}
		free(blob);
	}
	free(path);
	return (0);
}

/*
 * --detach: fork before anything starts; the child reports "ok" or its
 * error through a pipe, and the parent exits with that outcome, so the
 * caller knows the daemon answers once we return.
 */
static int
metapid_detach(int *report_fd)
{
	int	p[2], null;
	pid_t	pid;
	char	msg[1024];
	ssize_t	n, got = 0;

	if (pipe2(p, O_CLOEXEC) != 0)
		fatal("pipe");
	switch ((pid = fork())) {
	case -1:
		fatal("fork");
	case 0:
		close(p[0]);
		setsid();
		if ((null = open("/dev/null", O_RDWR)) != -1) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			if (metapid->log_file != NULL)
				dup2(null, STDERR_FILENO);
			if (null > STDERR_FILENO)
				close(null);
		}
		*report_fd = p[1];
		return (0);
	}
	close(p[1]);
	while (got < (ssize_t)sizeof msg - 1 &&
	    (n = read(p[0], msg + got, sizeof msg - 1 - got)) > 0)
		got += n;
	msg[got] = '\0';
	if (strncmp(msg, "ok", 2) == 0)
		exit(0);
	fprintf(stderr, "metapi: %s\n", got > 0 ? msg :
	    "daemon exited during start-up");
	exit(1);
}

static void
metapid_report(int fd, const char *msg)
{
	if (fd == -1)
		return;
	metapid_write(fd, msg, strlen(msg));
	close(fd);
}

static void
metapid_loop(void)
{
	struct pollfd	pfd[METAPID_POLL_MAX];
	char		buf[64], *cause;
	int		n;

	while (!metapid->stop) {
		pfd[0].fd = metapid->sig_pipe[0];
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = async_fd();
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		n = ctl_poll_fill(pfd + 2, METAPID_POLL_MAX - 2);
		if (poll(pfd, n + 2, 1000) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents & POLLIN)
			while (read(metapid->sig_pipe[0], buf, sizeof buf) > 0)
				;
		if (metapid->reload) {
			metapid->reload = 0;
			log_reopen();
			if (metapid_reload(&cause) != 0) {
				log_warnx("reload: %s", cause);
				free(cause);
			} else
				log_info("settings reloaded");
		}
		if (pfd[1].revents & POLLIN)
			async_drain();
		ctl_poll_handle(pfd + 2, n);
		ctl_tick();
		scheduler_tick();
		probe_tick();
		notify_event_tick();
	}
}

int
metapid_main(int argc, char **argv, const char *data_dir_opt,
    const char *socket_opt)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "detach", no_argument, NULL, 'D' },
		{ "log-file", required_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "db", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*listen = getenv("METAPI_LISTEN"), *level = NULL;
	const char	*format = NULL, *dburl = getenv("METAPI_DB");
	char		*cause = NULL, *sockdir, *lockpath, *tmp;
	int		 ch, detach = 0, report = -1, logging = 0;
	struct err	 e = { ERR_OK, NULL };
	struct sigaction sa;

	metapid = xcalloc(1, sizeof *metapid);
	metapid->lock_fd = metapid->sock_lock_fd = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			listen = optarg;
			break;
		case 'D':
			detach = 1;
			break;
		case 'f':
			metapid->log_file = xstrdup(optarg);
			break;
		case 'L':
			level = optarg;
			break;
		case 'F':
			format = optarg;
			break;
		case 'b':
			dburl = optarg;
			break;
		case 'h':
			metapid_usage(stdout);
			return (0);
		default:
			metapid_usage(stderr);
			return (2);
		}
	}
	if (optind != argc) {
		metapid_usage(stderr);
		return (2);
	}
	/* Database, key, logs and locks are the user's alone. */
	umask(077);
	if (listen == NULL || *listen == '\0')
		listen = "127.0.0.1:4000";
	if (metapid_check_listen(listen, &metapid->listen, &cause) != 0)
		goto fail;
	metapid->data_dir = paths_data_dir(data_dir_opt);
	metapid->socket_path = paths_socket(socket_opt);
	if (metapid_db_path(dburl, metapid->data_dir, &metapid->db_path,
	    &cause) != 0)
		goto fail;
	if (paths_mkdir_private(metapid->data_dir, &cause) != 0)
		goto fail;
	/*
	 * The lock, the key and (by default) the database are written there:
	 * say so at once rather than as whichever file fails first.
	 */
	if (access(metapid->data_dir, W_OK) != 0) {
		xasprintf(&cause, "data dir %s is not writable: %s; metapi "
		    "keeps its database, master key and lock there",
		    metapid->data_dir, strerror(errno));
		goto fail;
	}
	/* Detached daemons log to the data dir unless told otherwise. */
	if (detach && metapid->log_file == NULL)
		metapid->log_file = paths_join(metapid->data_dir, "metapi.log");
	if (log_open(metapid->log_file, level, format, &cause) != 0)
		goto fail;
	logging = metapid->log_file != NULL;
	log_set_prog("metapi-daemon");
	if (detach)
		metapid_detach(&report);

	lockpath = paths_join(metapid->data_dir, "daemon.lock");
	xasprintf(&tmp, "data dir %s", metapid->data_dir);
	ch = metapid_lock(lockpath, &metapid->lock_fd, tmp, &cause);
	free(tmp);
	free(lockpath);
	if (ch != 0)
		goto fail;
	tmp = xstrdup(metapid->socket_path);
	sockdir = xstrdup(dirname(tmp));
	free(tmp);
	ch = paths_check_private_dir(sockdir, &cause);
	free(sockdir);
	if (ch != 0)
		goto fail;
	xasprintf(&lockpath, "%s.lock", metapid->socket_path);
	xasprintf(&tmp, "socket %s", metapid->socket_path);
	ch = metapid_lock(lockpath, &metapid->sock_lock_fd, tmp, &cause);
	free(tmp);
	free(lockpath);
	if (ch != 0)
		goto fail;
	if (metapid_socket_alive(metapid->socket_path)) {
		xasprintf(&cause, "a metapi daemon already answers on %s",
		    metapid->socket_path);
		goto fail;
	}

	if ((metapid->db = db_open(metapid->db_path, &cause)) == NULL)
		goto fail;
	if (db_migrate(metapid->db, &cause) != 0)
		goto fail;
	if (metapid_open_vault(&cause) != 0)
		goto fail;
	/* Proxy passwords stored in clear by an older metapi. */
	if (site_seal_proxies(metapid->db, &e) != 0) {
		cause = xstrdup(e.msg);
		err_clear(&e);
		goto fail;
	}
	if (settings_seal(metapid->db, &cause) != 0)
		goto fail;
	/* Nor their clear text in the WAL (another reader may delay it). */
	if (db_checkpoint(metapid->db, &cause) != 0) {
		log_warnx("checkpoint: %s", cause);
		free(cause);
		cause = NULL;
	}
	/* Before loading: a change made meanwhile is seen by the poll. */
	ctl_watch_init();
	if ((metapid->settings = settings_load(metapid->db, &cause)) == NULL)
		goto fail;
	if (snapshot_rebuild(metapid->db, metapid->settings, &e) != 0) {
		cause = xstrdup(e.msg);
		err_clear(&e);
		goto fail;
	}
	/* What the last daemon learnt about its channels (cooldowns...). */
	if (routestate_load(metapid->db, &e) != 0) {
		log_warnx("routing state: %s", e.msg);
		err_clear(&e);
	}
	if (upstream_global_init() != 0) {
		cause = xstrdup("libcurl failed to initialise");
		goto fail;
	}
	if (async_init(&cause) != 0)
		goto fail;
	if (logwriter_start(metapid->db_path, metapid->data_dir, &cause) != 0)
		goto fail;
	if (pipe2(metapid->sig_pipe, O_NONBLOCK|O_CLOEXEC) != 0)
		fatal("pipe");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = metapid_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (http_start(metapid->listen, metapid->settings, &cause) != 0)
		goto fail;
	if (ctl_listen(metapid->socket_path, &cause) != 0) {
		http_stop();
		goto fail;
	}
	metapid->started = time(NULL);
	scheduler_init();
	log_info("metapi %s listening on http://%s, control socket %s, data "
	    "dir %s", PACKAGE_VERSION, http_listen_address(),
	    metapid->socket_path, metapid->data_dir);
	metapid_report(report, "ok");

	metapid_loop();

	log_info("stopping: draining requests");
	ctl_close();
	http_stop();
	logwriter_stop();
	async_wait_all();
	snapshot_clear();
	if (routestate_save(metapid->db, &e) != 0) {
		log_warnx("routing state: %s", e.msg);
		err_clear(&e);
	}
	routestate_clear();
	conversation_clear();
	settings_free(metapid->settings);
	db_close(metapid->db);
	vault_forget();
	log_info("stopped");
	return (0);
fail:
	/* The person who started us reads this; the log file keeps it too. */
	if (logging)
		log_error("%s", cause);
	if (report != -1)
		metapid_report(report, cause);
	else
		fprintf(stderr, "metapi: %s\n", cause);
	free(cause);
	logwriter_stop();
	db_close(metapid->db);
	return (1);
}

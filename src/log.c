/*
 * The logger: one line per message, to stderr or an append-only file, as
 * text ("2026-01-02T03:04:05Z info message") or JSON objects. It is safe
 * from any thread. It never sees secrets: callers log masked values only.
 * The settings here are the logger's own globals (STYLE rule 19).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "compat.h"
#include "log.h"

static pthread_mutex_t	 log_mtx = PTHREAD_MUTEX_INITIALIZER;
static enum log_level	 log_level = LOG_LEVEL_INFO;
static int		 log_json;
static int		 log_fd = STDERR_FILENO;
static char		*log_path;
static const char	*log_prog = "metapi";

static const char *log_level_names[] = { "error", "warn", "info", "debug" };

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < nitems(log_level_names); i++) {
		if (strcmp(s, log_level_names[i]) == 0) {
			*out = i;
			return (0);
		}
	}
	return (-1);
}

void
log_set_prog(const char *prog)
{
	log_prog = prog;
}

/*
 * Configure the logger: path NULL means stderr. Returns -1 with *cause on a
 * bad level or format or an unopenable file.
 */
int
log_open(const char *path, const char *level, const char *format, char **cause)
{
	enum log_level	lvl = LOG_LEVEL_INFO;
	int		fd = STDERR_FILENO, json = 0;

	if (level != NULL && log_level_parse(level, &lvl) != 0) {
		if (asprintf(cause, "unknown log level: %s "
		    "(use error, warn, info or debug)", level) < 0)
			*cause = NULL;
		return (-1);
	}
	if (format != NULL) {
		if (strcmp(format, "json") == 0)
			json = 1;
		else if (strcmp(format, "text") != 0) {
			if (asprintf(cause, "unknown log format: %s "
			    "(use text or json)", format) < 0)
				*cause = NULL;
			return (-1);
		}
	}
	if (path != NULL) {
		fd = open(path, O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0600);
		if (fd == -1) {
			if (asprintf(cause, "%s: %s", path,
			    strerror(errno)) < 0)
				*cause = NULL;
			return (-1);
		}
	}
	pthread_mutex_lock(&log_mtx);
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	log_level = lvl;
	log_json = json;
	free(log_path);
	log_path = path != NULL ? strdup(path) : NULL;
	pthread_mutex_unlock(&log_mtx);
	return (0);
}

/* Reopen the log file (after rotation); SIGHUP calls this. */
void
log_reopen(void)
{
	int	fd;

	pthread_mutex_lock(&log_mtx);
	if (log_path != NULL) {
		fd = open(log_path, O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0600);
		if (fd != -1) {
			close(log_fd);
			log_fd = fd;
		}
	}
	pthread_mutex_unlock(&log_mtx);
}

void
log_close(void)
{
	pthread_mutex_lock(&log_mtx);
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
	free(log_path);
	log_path = NULL;
	pthread_mutex_unlock(&log_mtx);
}

static void
log_vwrite(enum log_level lvl, const char *fmt, va_list ap, int with_errno)
{
	char		 msg[2048], stamp[32], *line = NULL, *o_line;
	struct timespec	 ts;
	struct tm	 tm;
	int		 saved = errno;
	json_t		*o;

	if (lvl > log_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (with_errno) {
		strlcat(msg, ": ", sizeof msg);
		strlcat(msg, strerror(saved), sizeof msg);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);

	if (log_json) {
		o = json_pack("{s:s, s:s, s:s, s:s}", "time", stamp,
		    "level", log_level_names[lvl], "prog", log_prog, "msg", msg);
		line = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (line == NULL)
			return;
	}
	/* One write per line: whole lines even with several writers, and
	 * none of dprintf's fstat and lseek on every call. */
	if (line == NULL) {
		if (asprintf(&line, "%s %s %s\n", stamp, log_level_names[lvl],
		    msg) == -1)
			line = NULL;
	} else {
		if (asprintf(&o_line, "%s\n", line) == -1)
			o_line = NULL;
		free(line);
		line = o_line;
	}
	if (line == NULL) {
		errno = saved;
		return;
	}
	pthread_mutex_lock(&log_mtx);
	if (write(log_fd, line, strlen(line)) == -1) {
		/* Nowhere left to say so. */
	}
	pthread_mutex_unlock(&log_mtx);
	free(line);
	errno = saved;
}

void
log_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_INFO, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_DEBUG, fmt, ap, 0);
	va_end(ap);
}

/* Broken invariant or start-up failure, with errno: log and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

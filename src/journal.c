/*
 * The request journal. A request's record is written to the log by a
 * batching thread some milliseconds after its response; a daemon killed
 * in between would lose the row of a request its client saw answered.
 * So each request appends a line here as it starts and another as it
 * ends (a success: just before its last bytes go), one write(2) each (a killed process loses no completed write; a
 * lost machine is a different promise, and these are not fsync'ed), and
 * the next start replays what the database does not have yet.
 *
 * The journal is a few files, "requests-<seq>.journal" in the data dir.
 * Lines go to the newest; each file counts its lines not yet committed,
 * and one whose count drops to zero is emptied (the newest) or removed
 * (older ones), so the files stay small however long the daemon runs. A
 * request that stays open for long only keeps its own file.
 *
 * This module knows lines, not records: proxylog.c encodes them.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "compat.h"
#include "journal.h"
#include "log.h"
#include "xmalloc.h"

#define JOURNAL_PREFIX		"requests-"
#define JOURNAL_SUFFIX		".journal"
#define JOURNAL_LINE_MAX	(4 * 1024 * 1024)	/* longer is damage */

static pthread_once_t	journal_once = PTHREAD_ONCE_INIT;
static char		journal_boot[17];	/* this process's rid prefix */
static atomic_ullong	journal_counter;

static void
journal_boot_init(void)
{
	unsigned char	r[8];

	randombytes_buf(r, sizeof r);
	sodium_bin2hex(journal_boot, sizeof journal_boot, r, sizeof r);
}

/*
 * A request id unique across restarts: a random prefix per process and a
 * counter. It names the journal lines and the row, and the client sees it
 * as X-Request-Id.
 */
void
journal_rid(char rid[JOURNAL_RID_LEN])
{
	unsigned long long	n;

	pthread_once(&journal_once, journal_boot_init);
	n = atomic_fetch_add(&journal_counter, 1) + 1;
	snprintf(rid, JOURNAL_RID_LEN, "%s-%llx", journal_boot, n);
}

static char *
journal_path(const char *dir, unsigned seq)
{
	char	*path;

	xasprintf(&path, "%s/" JOURNAL_PREFIX "%u" JOURNAL_SUFFIX, dir, seq);
	return (path);
}

/* A new, empty file as the newest. Called with the lock held or alone. */
static int
journal_add_seg(struct journal *j, char **cause)
{
	struct journal_seg	*s;
	char			*path;
	int			 fd;

	path = journal_path(j->dir, j->next_seq);
	fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_APPEND|O_CLOEXEC, 0600);
	if (fd == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return (-1);
	}
	free(path);
	s = &j->segs[j->nsegs++];
	s->seq = j->next_seq++;
	s->fd = fd;
	s->size = 0;
	s->pending = 0;
	return (0);
}

static int	journal_list(const char *, unsigned **, size_t *, char **);

/*
 * Start a journal in dir, in files numbered after any an earlier run left
 * (they stay until a replay has stored what they hold).
 */
struct journal *
journal_open(const char *dir, char **cause)
{
	struct journal	*j;
	unsigned	*v;
	size_t		 n;

	if (journal_list(dir, &v, &n, cause) != 0)
		return (NULL);
	j = xcalloc(1, sizeof *j);
	pthread_mutex_init(&j->mtx, NULL);
	j->dir = xstrdup(dir);
	j->next_seq = n > 0 ? v[n - 1] + 1 : 1;
	free(v);
	if (journal_add_seg(j, cause) != 0) {
		pthread_mutex_destroy(&j->mtx);
		free(j->dir);
		free(j);
		return (NULL);
	}
	return (j);
}

/*
 * Close the files; those with every line committed go, the others stay
 * for the next start to replay (records the writer could not store).
 */
void
journal_close(struct journal *j)
{
	size_t	 i;
	char	*path;

	if (j == NULL)
		return;
	for (i = 0; i < j->nsegs; i++) {
		close(j->segs[i].fd);
		if (j->segs[i].pending == 0) {
			path = journal_path(j->dir, j->segs[i].seq);
			unlink(path);
			free(path);
		}
	}
	pthread_mutex_destroy(&j->mtx);
	free(j->dir);
	free(j);
}

/*
 * Append one line (with its newline) in one write. Returns the file's
 * number, for journal_release() once the record is committed, or 0 when
 * it could not be written (a full disk, say): the request is served all
 * the same, only without this insurance, and that is logged once.
 */
unsigned
journal_append(struct journal *j, const char *line, size_t len)
{
	struct journal_seg	*s;
	char			*cause = NULL;
	unsigned		 seq = 0;
	ssize_t			 n;

	if (j == NULL)
		return (0);
	pthread_mutex_lock(&j->mtx);
	s = &j->segs[j->nsegs - 1];
	if (s->size >= JOURNAL_ROTATE && j->nsegs < JOURNAL_SEGS) {
		if (journal_add_seg(j, &cause) == 0)
			s = &j->segs[j->nsegs - 1];
		else {
			log_warnx("journal: %s", cause);
			free(cause);
		}
	}
	n = write(s->fd, line, len);
	if (n == (ssize_t)len) {
		s->size += len;
		s->pending++;
		seq = s->seq;
		if (j->failing)
			log_info("journal: writing again");
		j->failing = 0;
	} else {
		if (n > 0) {
			/* A part: cut it off so the next line starts clean. */
			if (ftruncate(s->fd, (off_t)s->size) != 0)
				s->size += (size_t)n;	/* replay skips it */
		}
		if (!j->failing)
			log_warnx("journal: cannot write: %s; requests are "
			    "served without it", n < 0 ? strerror(errno) :
			    "short write");
		j->failing = 1;
	}
	pthread_mutex_unlock(&j->mtx);
	return (seq);
}

/* A line in file seq is committed: empty or remove the file when all are. */
void
journal_release(struct journal *j, unsigned seq)
{
	struct journal_seg	*s;
	char			*path;
	size_t			 i;

	if (j == NULL || seq == 0)
		return;
	pthread_mutex_lock(&j->mtx);
	for (i = 0; i < j->nsegs; i++)
		if (j->segs[i].seq == seq)
			break;
	if (i == j->nsegs || --j->segs[i].pending > 0) {
		pthread_mutex_unlock(&j->mtx);
		return;
	}
	s = &j->segs[i];
	if (i == j->nsegs - 1) {
		if (s->size > 0 && ftruncate(s->fd, 0) == 0)
			s->size = 0;
	} else {
		close(s->fd);
		path = journal_path(j->dir, s->seq);
		unlink(path);
		free(path);
		memmove(s, s + 1, (j->nsegs - i - 1) * sizeof *s);
		j->nsegs--;
	}
	pthread_mutex_unlock(&j->mtx);
}

static int
journal_seq_cmp(const void *a, const void *b)
{
	unsigned	x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x < y ? -1 : x > y);
}

/* The sequence numbers of the journal files in dir, sorted; -1 on error. */
static int
journal_list(const char *dir, unsigned **out, size_t *np, char **cause)
{
	DIR		*d;
	struct dirent	*de;
	const char	*errstr;
	char		 num[16];
	unsigned	*v = NULL;
	size_t		 n = 0, plen = strlen(JOURNAL_PREFIX), len;
	size_t		 slen = strlen(JOURNAL_SUFFIX);

	if ((d = opendir(dir)) == NULL) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= plen + slen || len - plen - slen >= sizeof num ||
		    strncmp(de->d_name, JOURNAL_PREFIX, plen) != 0 ||
		    strcmp(de->d_name + len - slen, JOURNAL_SUFFIX) != 0)
			continue;
		memcpy(num, de->d_name + plen, len - plen - slen);
		num[len - plen - slen] = '\0';
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n] = (unsigned)strtonum(num, 1, UINT32_MAX, &errstr);
		if (errstr == NULL)
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof *v, journal_seq_cmp);
	*out = v;
	*np = n;
	return (0);
}

/* Each line of one file; a line cut short by a crash is skipped. */
static int
journal_replay_file(const char *path, journal_line_cb cb, void *arg,
    char **cause)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 rv = 0;

	if ((f = fopen(path, "re")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		if (n < 2 || line[n - 1] != '\n' || n > JOURNAL_LINE_MAX) {
			log_warnx("journal: %s: skipping a damaged line", path);
			continue;
		}
		line[--n] = '\0';
		if (cb(line, (size_t)n, arg) != 0) {
			xasprintf(cause, "%s: a record could not be kept",
			    path);
			rv = -1;
			break;
		}
	}
	if (rv == 0 && ferror(f)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		rv = -1;
	}
	free(line);
	fclose(f);
	return (rv);
}

/*
 * Hand every line an earlier run left in dir to cb, oldest first. The
 * files stay until journal_clear(), once what cb gathered is committed.
 */
int
journal_replay(const char *dir, journal_line_cb cb, void *arg, char **cause)
{
	unsigned	*v;
	size_t		 i, n;
	char		*path;
	int		 rv = 0;

	if (journal_list(dir, &v, &n, cause) != 0)
		return (-1);
	for (i = 0; i < n && rv == 0; i++) {
		path = journal_path(dir, v[i]);
		rv = journal_replay_file(path, cb, arg, cause);
		free(path);
	}
	free(v);
	return (rv);
}

/* Remove the journal files in dir numbered below seq (0: all). */
void
journal_clear(const char *dir, unsigned below)
{
	unsigned	*v;
	size_t		 i, n;
	char		*path, *cause = NULL;

	if (journal_list(dir, &v, &n, &cause) != 0) {
		free(cause);
		return;
	}
	for (i = 0; i < n && (below == 0 || v[i] < below); i++) {
		path = journal_path(dir, v[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("journal: %s", path);
		free(path);
	}
	free(v);
}

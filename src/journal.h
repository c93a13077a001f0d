/*
 * The request journal: an append-only file of request records kept until
 * the log writer has committed them, so that a daemon killed between a
 * response and its row loses no row (issue #10, doc/RELIABILITY.md).
 */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <pthread.h>
#include <stddef.h>

#define JOURNAL_RID_LEN		24	/* "<16 hex>-<counter hex>" and NUL */
#define JOURNAL_SEGS		8	/* files at most, before one grows */
#define JOURNAL_ROTATE		(1024 * 1024)	/* bytes in a file */

struct journal_seg {
	unsigned	 seq;		/* in the file name; 0: unused */
	int		 fd;
	size_t		 size;
	long		 pending;	/* lines not yet committed */
};

struct journal {
	pthread_mutex_t		 mtx;
	char			*dir;
	struct journal_seg	 segs[JOURNAL_SEGS];
	size_t			 nsegs;		/* the last is written */
	unsigned		 next_seq;
	int			 failing;	/* the last write failed */
};

typedef int	(*journal_line_cb)(const char *, size_t, void *);

void		 journal_rid(char [JOURNAL_RID_LEN]);
struct journal	*journal_open(const char *, char **);
void		 journal_close(struct journal *);
unsigned	 journal_append(struct journal *, const char *, size_t);
void		 journal_release(struct journal *, unsigned);
int		 journal_replay(const char *, journal_line_cb, void *,
		     char **);
void		 journal_clear(const char *, unsigned);

#endif

/* Request logs: one row per downstream request, with its attempts. */
#ifndef PROXYLOG_H
#define PROXYLOG_H

#include <stddef.h>

#include <jansson.h>

#include "db.h"
#include "err.h"
#include "journal.h"

struct buf;

#define PROXYLOG_MAX_ATTEMPTS	10

/* One upstream attempt of a request. */
struct proxylog_attempt {
	long long	 channel_id;	/* 0: none */
	long long	 site_id;
	long long	 account_id;
	char		*upstream_path;
	int		 http_status;	/* 0: no reply */
	char		*error;		/* or NULL */
	int		 retryable;
	long long	 latency_ms;
	long long	 started_at;	/* Unix seconds */
};

/*
 * A finished downstream request, filled by the request thread and handed
 * to the log writer, which owns it from then on.
 */
struct proxylog_rec {
	char			 rid[JOURNAL_RID_LEN];	/* or "" */
	unsigned		 jseq[2];	/* journal files: start, end */
	const char		*jstatus;	/* status in the end line */
	int			 open;		/* in logwriter's open count */
	long long		 time;		/* Unix seconds, at arrival */
	long long		 key_id;
	char			*model_requested;
	char			*model;		/* served, or NULL */
	long long		 route_id;
	long long		 channel_id;
	long long		 site_id;
	long long		 account_id;
	char			*downstream_path;
	char			*client;	/* User-Agent family, or NULL */
	const char		*status;	/* "ok", "failed", "client_closed" */
	int			 http_status;
	int			 stream;
	long long		 ttfb_ms;	/* -1: no first byte */
	long long		 latency_ms;
	long long		 prompt_tokens;
	long long		 completion_tokens;
	long long		 cache_read_tokens;
	long long		 cache_write_tokens;
	double			 cost_usd;
	const char		*usage_source;	/* "upstream", "estimated", "none" */
	char			*error;		/* or NULL */
	struct proxylog_attempt	 attempts[PROXYLOG_MAX_ATTEMPTS];
	size_t			 nattempts;
};

/*
 * What proxylog_list() returns: the newest rows first, at most limit,
 * older than before (the cursor a previous page gave as "next"). With
 * forward set it returns the rows above after instead, oldest first: how
 * the event fan-out reads what the log writer has just committed.
 */
struct proxylog_filter {
	long long	 limit;		/* 0: 50; at most PROXYLOG_LIST_MAX */
	const char	*model;		/* name, or a glob with * and ?; NULL */
	const char	*status;	/* "ok", "fail" (failed, client_closed) */
	long long	 key_id;	/* 0: any */
	long long	 before;	/* only ids below; 0: from the newest */
	long long	 after;		/* with forward: only ids above */
	int		 forward;	/* oldest first, from after */
};
#define PROXYLOG_LIST_DEFAULT	50
#define PROXYLOG_LIST_MAX	1000
#define PROXYLOG_STATS_DAYS	7
#define PROXYLOG_STATS_MAX_DAYS	3650

struct proxylog_rec	*proxylog_rec_new(void);
void			 proxylog_rec_free(struct proxylog_rec *);
void			 proxylog_rec_line(struct buf *, const char *,
			     const struct proxylog_rec *);
struct proxylog_rec	*proxylog_rec_from_json(const json_t *, struct err *);
int			 proxylog_has_rid(struct db *, const char *);
int		 proxylog_insert(struct db *, const struct proxylog_rec *,
		     long long *, struct err *);
int		 proxylog_insert_batch(struct db *,
		     struct proxylog_rec *const *, size_t, long long *,
		     struct err *);
double			 proxylog_spend_since(struct db *, long long, long long);
int			 proxylog_prune(struct db *, long long, struct err *);
json_t			*proxylog_list(struct db *,
			     const struct proxylog_filter *, struct err *);
json_t			*proxylog_stats(struct db *, int, struct err *);
long long		 proxylog_max_id(struct db *);
struct search_query;
int			 proxylog_search(struct db *,
			     const struct search_query *, json_t *,
			     struct err *);

#endif

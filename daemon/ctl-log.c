/*
 * The request log commands (log.list, stats.show) and the "logs" event
 * topic: when the log writer has committed rows, the main loop calls
 * ctl_log_fanout(), which reads the new rows on the main thread's
 * connection and hands each to ctl_event() for the subscribed clients.
 * It reads the request log only; the log writer alone writes it.
 */
#include "config.h"

#include <stdlib.h>

#include <jansson.h>

#include "daemon.h"
#include "jx.h"
#include "log.h"
#include "proxylog.h"

#define CTL_LOG_FANOUT_PAGE	256

/* The last row the "logs" topic has seen; valid while anyone listens. */
static long long	ctl_log_last;

enum ctl_ret
ctl_log_list(struct ctl_req *req, json_t **reply, struct err *e)
{
	struct proxylog_filter	f = { 0 };

	jx_int(req->args, "limit", &f.limit);
	if (jx_has(req->args, "limit") && f.limit == 0) {
		err_set(e, ERR_INVALID, "--limit must be from 1 to %d",
		    PROXYLOG_LIST_MAX);
		return (CTL_ERROR);
	}
	f.model = jx_str(req->args, "model");
	f.status = jx_str(req->args, "status");
	jx_int(req->args, "key", &f.key_id);
	if (jx_has(req->args, "key") && f.key_id < 1) {
		err_set(e, ERR_INVALID, "--key must be a key id");
		return (CTL_ERROR);
	}
	jx_int(req->args, "before", &f.before);
	if (jx_has(req->args, "before") && f.before < 1) {
		err_set(e, ERR_INVALID, "--before must be a log id");
		return (CTL_ERROR);
	}
	*reply = proxylog_list(metapid->db, &f, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_stats_show(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	days = PROXYLOG_STATS_DAYS;

	jx_int(req->args, "days", &days);
	if (days < 1 || days > PROXYLOG_STATS_MAX_DAYS) {
		err_set(e, ERR_INVALID, "--days must be from 1 to %d",
		    PROXYLOG_STATS_MAX_DAYS);
		return (CTL_ERROR);
	}
	*reply = proxylog_stats(metapid->db, (int)days, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

/*
 * A first client subscribes to "logs": events start after the rows
 * committed so far. The client lists those itself after subscribing, so
 * nothing falls between its list and its events.
 */
void
ctl_log_subscribe(void)
{
	if (ctl_subscribers(CTL_TOPIC_LOGS) == 0)
		ctl_log_last = logwriter_last_id();
}

/* The log writer committed rows: send each new one to the subscribers. */
void
ctl_log_fanout(void)
{
	struct proxylog_filter	 f = { 0 };
	struct err		 e = { ERR_OK, NULL };
	json_t			*page, *items, *item;
	long long		 top, id;
	size_t			 i, n;

	top = logwriter_woken();
	/* New rows moved keys' usage counters: the snapshot must see them. */
	ctl_usage_changed();
	if (ctl_subscribers(CTL_TOPIC_LOGS) == 0)
		return;
	f.forward = 1;
	f.limit = CTL_LOG_FANOUT_PAGE;
	while (ctl_log_last < top) {
		f.after = ctl_log_last;
		if ((page = proxylog_list(metapid->db, &f, &e)) == NULL) {
			log_warnx("logs: cannot read new rows: %s", e.msg);
			err_clear(&e);
			return;
		}
		items = json_object_get(page, "items");
		n = json_array_size(items);
		json_array_foreach(items, i, item) {
			if (jx_int(item, "id", &id) == 0)
				ctl_log_last = id;
			ctl_event(CTL_TOPIC_LOGS, item);
		}
		json_decref(page);
		if (n == 0)
			break;
	}
}

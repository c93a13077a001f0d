/* daemon.* commands: report on the daemon, stop it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "account.h"
#include "apikey.h"
#include "daemon.h"
#include "route.h"
#include "db.h"
#include "jx.h"
#include "site.h"

/*
 * Whether the database takes the request log's writes, the error while
 * it does not, and the log records waiting or dropped meanwhile.
 */
static json_t *
ctl_daemon_storage(void)
{
	json_t	*o;
	char	*why;
	time_t	 since;
	int	 failing;

	failing = logwriter_failing_why(&why, &since);
	o = json_pack("{s:b, s:I, s:I, s:I}", "writable", !failing,
	    "log_queue", (json_int_t)logwriter_depth(),
	    "log_pending", (json_int_t)logwriter_pending(),
	    "log_dropped", (json_int_t)logwriter_dropped());
	jx_set_str_or_null(o, "error", why);
	json_object_set_new(o, "since", failing ? jx_time(since) :
	    json_null());
	free(why);
	return (o);
}

enum ctl_ret
ctl_daemon_status(__unused struct ctl_req *req, json_t **reply,
    __unused struct err *e)
{
	const char	*listen = http_listen_address();
	char		 url[300];
	int		 version = 0;

	db_user_version(metapid->db, &version, NULL);
	snprintf(url, sizeof url, "http://%s/v1", listen);
	*reply = json_pack("{s:s, s:I, s:I, s:o, s:s, s:s, s:s, s:s, s:s, "
	    "s:i, s:{s:i, s:i, s:i, s:i}}",
	    "version", PACKAGE_VERSION,
	    "pid", (json_int_t)getpid(),
	    "uptime_sec", (json_int_t)(time(NULL) - metapid->started),
	    "started_at", jx_time(metapid->started),
	    "listen", listen,
	    "endpoint", url,
	    "data_dir", metapid->data_dir,
	    "socket", metapid->socket_path,
	    "database", db_name(metapid->db),
	    "schema_version", version,
	    "counts",
	    "sites", site_count(metapid->db),
	    "accounts", account_count(metapid->db),
	    "routes", route_count(metapid->db),
	    "keys", apikey_count(metapid->db));
	if (*reply != NULL) {
		json_object_set_new(*reply, "jobs", scheduler_next_runs());
		json_object_set_new(*reply, "storage", ctl_daemon_storage());
	}
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_daemon_stop(__unused struct ctl_req *req, json_t **reply,
    __unused struct err *e)
{
	metapid_request_stop();
	*reply = json_pack("{s:s}", "status", "stopping");
	return (CTL_DONE);
}

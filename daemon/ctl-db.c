/*
 * db migrate: copy the daemon's SQLite database into an empty PostgreSQL
 * one (src/db-copy.c), on an async worker with connections of its own,
 * so that the daemon goes on serving meanwhile. The daemon keeps its
 * SQLite file; the user restarts it with --db URL when ready.
 */
#include "config.h"

#include <stdlib.h>

#include "daemon.h"
#include "db.h"
#include "jx.h"
#include "xmalloc.h"

struct db_migrate_job {
	char		*to;
	json_t		*reply;
	struct err	 err;
};

static void
ctl_db_migrate_work(void *arg)
{
	struct db_migrate_job	*j = arg;

	j->reply = db_copy(metapid->db_path, j->to, &j->err);
}

static enum ctl_ret
ctl_db_migrate_done(void *arg, __unused int alive, json_t **reply,
    struct err *e)
{
	struct db_migrate_job	*j = arg;
	enum ctl_ret		 ret = CTL_DONE;

	if (j->reply == NULL) {
		err_set(e, j->err.code, "%s", j->err.msg);
		ret = CTL_ERROR;
	} else
		*reply = j->reply;
	err_clear(&j->err);
	free(j->to);
	free(j);
	return (ret);
}

enum ctl_ret
ctl_db_migrate(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	struct db_migrate_job	*j;
	const char		*to = jx_str(req->args, "to");

	if (db_dialect(metapid->db) != DB_SQLITE) {
		err_set(e, ERR_INVALID, "the daemon already stores in %s; db "
		    "migrate copies a SQLite database", db_name(metapid->db));
		return (CTL_ERROR);
	}
	if (to == NULL || !db_is_url(to)) {
		err_set(e, ERR_USAGE, "--to must be a postgres:// URL");
		return (CTL_ERROR);
	}
	j = xcalloc(1, sizeof *j);
	j->to = xstrdup(to);
	async_run(req, ctl_db_migrate_work, ctl_db_migrate_done, j);
	return (CTL_WAIT);
}

/*
 * doctor.run: the checks that need the daemon's database, its HTTP
 * listener or the network. The database's integrity, schema, journal
 * mode and writability; /healthz and /readyz on loopback; each enabled
 * site's reachability through its own proxy; each account's credential
 * state as the database has it; the local clock against the sites' Date
 * headers. The client (tui/doctor.c) adds what it can check alone (data
 * dir, master key, disk, socket, version).
 *
 * Each check is one item {"check", "status": ok|warn|fail, "detail",
 * "fix"}. Database checks run here on the main thread, which owns the
 * connection; the HTTP ones on a worker that fans out to a few threads,
 * each request bounded by the timeout. Nothing is changed: no health is
 * recorded, no session renewed (doctor looks, it does not repair).
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "account.h"
#include "daemon.h"
#include "db.h"
#include "doctor.h"
#include "jx.h"
#include "site.h"
#include "upstream.h"
#include "xmalloc.h"

#define DOCTOR_TIMEOUT_DEF	5	/* seconds per site */
#define DOCTOR_THREADS		8	/* sites probed at once */
#define DOCTOR_SKEW_WARN	300	/* seconds: 5 minutes */
#define DOCTOR_MAX_BODY		(256 * 1024)
#define DOCTOR_CLOCK_MIN	1577836800LL	/* 2020-01-01: clock not set */

struct doctor_site {
	long long		 id;
	char			*name;
	struct site_conn	*conn;		/* URL and headers */
	const char		*proxy;		/* effective, or NULL */
	int			 via_system;	/* proxy is system_proxy_url */
	/* Filled by the worker. */
	long			 status;	/* HTTP status, 0: no reply */
	long			 ms;
	int			 challenge;	/* a WAF or Cloudflare page */
	long long		 date;		/* the reply's Date, 0: none */
	long long		 local;		/* our clock at the reply */
	char			*error;
};

struct doctor_job {
	json_t			*db_items;	/* database checks */
	json_t			*acct_items;	/* credentials */
	struct doctor_site	*sites;
	size_t			 nsites;
	size_t			 next;		/* next site to probe */
	pthread_mutex_t		 mtx;		/* guards next */
	long			 timeout;
	char			*system_proxy;
	char			*self_url;	/* http://127.0.0.1:PORT or NULL */
	char			*listen;	/* as bound */
	long			 health[2];	/* /healthz, /readyz status */
	char			*health_err[2];
};

static const char *const doctor_health_paths[2] = { "/healthz", "/readyz" };

/* A SQLite file: its integrity, and WAL so that readers never wait. */
static void
doctor_db_file(json_t *items, struct db *db)
{
	const char	*path = db_name(db);
	char		*v, *cause = NULL, *fix;

	if ((v = db_pragma_text(db, "quick_check", &cause)) == NULL) {
		xasprintf(&fix, "stop the daemon, keep a copy of %s, and "
		    "restore a backup (metapi backup import FILE)", path);
		doctor_item(items, "db.integrity", "fail", fix,
		    "quick_check failed: %s", cause);
		free(fix);
		free(cause);
		cause = NULL;
	} else if (strcmp(v, "ok") != 0) {
		xasprintf(&fix, "stop the daemon, keep a copy of %s, then "
		    "restore a backup (metapi backup import FILE) or salvage "
		    "it with: sqlite3 %s .recover", path, path);
		doctor_item(items, "db.integrity", "fail", fix,
		    "%s is damaged: %s", path, v);
		free(fix);
	} else
		doctor_item(items, "db.integrity", "ok", NULL,
		    "%s passes quick_check", path);
	free(v);

	if ((v = db_pragma_text(db, "journal_mode", &cause)) == NULL) {
		doctor_item(items, "db.wal", "warn", NULL,
		    "cannot read the journal mode: %s", cause);
		free(cause);
	} else if (strcmp(v, "wal") != 0)
		doctor_item(items, "db.wal", "warn", "keep the data dir on a "
		    "local file system (WAL needs shared memory), then restart "
		    "the daemon", "journal mode is %s, not wal: readers and "
		    "the writer block each other", v);
	else
		doctor_item(items, "db.wal", "ok", NULL, "journal mode wal");
	free(v);
}

/* A database server: it answers this connection. */
static void
doctor_db_server(json_t *items, struct db *db)
{
	char	*v, *cause = NULL;

	if ((v = db_server_version(db, &cause)) == NULL) {
		doctor_item(items, "db.server", "fail", "check that the "
		    "server runs and takes connections from this host",
		    "%s does not answer: %s", db_name(db), cause);
		free(cause);
		return;
	}
	doctor_item(items, "db.server", "ok", NULL, "%s at %s", v,
	    db_name(db));
	free(v);
}

static void
doctor_db(json_t *items)
{
	struct db	*db = metapid->db;
	char		*cause = NULL, *fix;
	int		 have = 0, latest = db_latest_version();

	if (db_dialect(db) == DB_SQLITE)
		doctor_db_file(items, db);
	else
		doctor_db_server(items, db);

	if (db_user_version(db, &have, &cause) != 0) {
		doctor_item(items, "db.schema", "fail", "restart the daemon",
		    "cannot read the schema version: %s", cause);
		free(cause);
		cause = NULL;
	} else if (have < latest)
		doctor_item(items, "db.schema", "fail", "restart the daemon: "
		    "it migrates the database at start", "schema version %d, "
		    "this metapi expects %d", have, latest);
	else if (have > latest)
		doctor_item(items, "db.schema", "fail", "run the newer metapi "
		    "that wrote this database", "schema version %d is newer "
		    "than this metapi knows (%d)", have, latest);
	else
		doctor_item(items, "db.schema", "ok", NULL,
		    "schema version %d, current", have);

	/* A write lock taken and given back: proves the file is writable. */
	if (db_readonly(db) || db_begin(db, &cause) != 0) {
		if (db_dialect(db) == DB_SQLITE)
			xasprintf(&fix, "check the owner, mode and free space "
			    "of %s and its directory", db_name(db));
		else
			xasprintf(&fix, "connect to a primary server, not a "
			    "read-only standby");
		doctor_item(items, "db.writable", "fail", fix,
		    "cannot write the database: %s", cause != NULL ? cause :
		    "opened read-only");
		free(fix);
		free(cause);
		cause = NULL;
	} else {
		db_rollback(db);
		doctor_item(items, "db.writable", "ok", NULL,
		    "the database takes writes");
	}
}

/* What to tell the user for an account whose credential is not well. */
static char *
doctor_account_fix(json_t *a, long long id, int expired)
{
	const char	*kind = jx_str(a, "credential_kind");
	char		*fix;

	if (kind != NULL && strcmp(kind, "password") == 0)
		xasprintf(&fix, "log in again: metapi account login %lld", id);
	else if (expired)
		xasprintf(&fix, "the %s no longer works: metapi account rm "
		    "%lld, then metapi account add %s with a new one",
		    kind != NULL ? kind : "credential", id, jx_str(a, "site"));
	else
		xasprintf(&fix, "metapi account refresh %lld; if it keeps "
		    "failing, replace the credential (account rm, account "
		    "add)", id);
	return (fix);
}

static void
doctor_accounts(json_t *items)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*list, *a, *it;
	const char	*status, *health, *reason, *label;
	char		*fix, who[256];
	long long	 id;
	size_t		 i, n = 0;

	if ((list = account_list(metapid->db, 0, &e)) == NULL) {
		doctor_item(items, "account.credential", "fail", NULL,
		    "cannot list accounts: %s", e.msg);
		err_clear(&e);
		return;
	}
	json_array_foreach(json_object_get(list, "items"), i, a) {
		status = jx_str(a, "status");
		if (status == NULL || strcmp(status, "disabled") == 0)
			continue;
		n++;
		jx_int(a, "id", &id);
		health = jx_str(a, "health") != NULL ? jx_str(a, "health") :
		    "unknown";
		reason = jx_str(a, "health_reason");
		label = jx_str(a, "label") != NULL ? jx_str(a, "label") :
		    jx_str(a, "username");
		snprintf(who, sizeof who, "account %lld on %s%s%s%s", id,
		    jx_str(a, "site") != NULL ? jx_str(a, "site") : "?",
		    label != NULL ? " (" : "", label != NULL ? label : "",
		    label != NULL ? ")" : "");
		if (strcmp(status, "expired") == 0) {
			fix = doctor_account_fix(a, id, 1);
			it = doctor_item(items, "account.credential", "fail",
			    fix, "%s: expired%s%s", who, reason != NULL ?
			    ": " : "", reason != NULL ? reason : "");
			free(fix);
		} else if (strcmp(health, "unhealthy") == 0) {
			fix = doctor_account_fix(a, id, 0);
			it = doctor_item(items, "account.credential", "warn",
			    fix, "%s: unhealthy%s%s", who, reason != NULL ?
			    ": " : "", reason != NULL ? reason : "");
			free(fix);
		} else if (strcmp(health, "healthy") == 0)
			it = doctor_item(items, "account.credential", "ok",
			    NULL, "%s: healthy", who);
		else
			it = doctor_item(items, "account.credential", "ok",
			    NULL, "%s: %s (not checked yet)", who, health);
		json_object_set_new(it, "account_id", json_integer(id));
		json_object_set(it, "site", json_object_get(a, "site"));
		json_object_set(it, "health", json_object_get(a, "health"));
		json_object_set(it, "account_status", json_object_get(a,
		    "status"));
	}
	if (n == 0)
		doctor_item(items, "account.credential", "ok", NULL,
		    "no enabled accounts");
	json_decref(list);
}

/* The enabled sites with what a request to each needs. */
static void
doctor_load_sites(struct doctor_job *j)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*list, *s;
	struct doctor_site *ds;
	long long	 id;
	size_t		 i;

	if ((list = site_list(metapid->db, &e)) == NULL) {
		doctor_item(j->db_items, "site.reachable", "fail", NULL,
		    "cannot list sites: %s", e.msg);
		err_clear(&e);
		return;
	}
	j->sites = xcalloc(json_array_size(json_object_get(list, "items")) + 1,
	    sizeof *j->sites);
	json_array_foreach(json_object_get(list, "items"), i, s) {
		if (!jx_bool(s, "enabled") || jx_int(s, "id", &id) != 0)
			continue;
		ds = &j->sites[j->nsites];
		ds->id = id;
		ds->name = xstrdup(jx_str(s, "name"));
		if ((ds->conn = site_conn_get(metapid->db, id, &e)) == NULL) {
			ds->error = xstrdup(e.msg);
			err_clear(&e);
		} else if (ds->conn->proxy != NULL)
			ds->proxy = ds->conn->proxy;
		else if (j->system_proxy != NULL) {
			ds->proxy = j->system_proxy;
			ds->via_system = 1;
		}
		j->nsites++;
	}
	json_decref(list);
}

/*
 * Our own HTTP listener, probed on loopback only: a wildcard or loopback
 * bind answers there; a bind to another address is reported, not probed.
 */
static void
doctor_self_url(struct doctor_job *j)
{
	const char	*addr = http_listen_address(), *colon;
	char		 host[128];

	j->listen = xstrdup(addr != NULL ? addr : "");
	if ((colon = strrchr(j->listen, ':')) == NULL)
		return;
	snprintf(host, sizeof host, "%.*s", (int)(colon - j->listen),
	    j->listen);
	if (strcmp(host, "[::]") == 0 || strcmp(host, "[::1]") == 0)
		xasprintf(&j->self_url, "http://[::1]%s", colon);
	else if (*host == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0)
		xasprintf(&j->self_url, "http://%s%s", strncmp(host, "127.",
		    4) == 0 ? host : "127.0.0.1", colon);
}

static void
doctor_get(const char *url, const char *proxy, char *const *headers,
    long timeout, long *status, long long *date, int *challenge,
    char **error)
{
	struct upstream_req	 req;
	struct upstream_resp	 resp;
	char			*cause = NULL;

	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.url = url;
	req.headers = (const char *const *)headers;
	req.proxy = proxy;
	req.connect_timeout_sec = timeout;
	req.timeout_sec = timeout;
	req.max_body = DOCTOR_MAX_BODY;
	/* A body too big for us still proves the site answers. */
	if (upstream_do(&req, &resp, &cause) != 0 && resp.status == 0)
		*error = cause;
	else
		free(cause);
	*status = resp.status;
	if (date != NULL)
		*date = resp.date;
	if (challenge != NULL)
		*challenge = resp.cf_mitigated || (resp.server != NULL &&
		    strcasecmp(resp.server, "cloudflare") == 0 &&
		    (resp.status == 403 || resp.status == 503));
	upstream_resp_free(&resp);
}

static void *
doctor_thread(void *arg)
{
	struct doctor_job	*j = arg;
	struct doctor_site	*ds;
	struct timespec		 t0, t1;
	size_t			 i;

	for (;;) {
		pthread_mutex_lock(&j->mtx);
		i = j->next++;
		pthread_mutex_unlock(&j->mtx);
		if (i >= j->nsites)
			break;
		ds = &j->sites[i];
		if (ds->conn == NULL)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		doctor_get(ds->conn->url, ds->proxy, ds->conn->headers,
		    j->timeout, &ds->status, &ds->date, &ds->challenge,
		    &ds->error);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ds->local = time(NULL);
		ds->ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	}
	return (NULL);
}

static void
doctor_work(void *arg)
{
	struct doctor_job	*j = arg;
	pthread_t		 t[DOCTOR_THREADS];
	size_t			 i, n;
	char			*url;

	for (i = 0; i < 2 && j->self_url != NULL; i++) {
		xasprintf(&url, "%s%s", j->self_url, doctor_health_paths[i]);
		doctor_get(url, NULL, NULL, j->timeout, &j->health[i], NULL,
		    NULL, &j->health_err[i]);
		free(url);
	}
	n = j->nsites < DOCTOR_THREADS ? j->nsites : DOCTOR_THREADS;
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, doctor_thread, j) != 0)
			break;
	n = i;
	if (n == 0)
		doctor_thread(j);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

static void
doctor_http_items(struct doctor_job *j, json_t *items)
{
	size_t	i;
	char	*fix;

	if (j->self_url == NULL) {
		doctor_item(items, "http.listen", "warn", NULL, "listening on "
		    "%s, not on loopback: not probed (doctor only probes "
		    "loopback)", j->listen);
		return;
	}
	for (i = 0; i < 2; i++) {
		if (j->health[i] == 200)
			doctor_item(items, "http.listen", "ok", NULL,
			    "%s%s answers 200", j->self_url,
			    doctor_health_paths[i]);
		else {
			xasprintf(&fix, "see the daemon's log; restart it if "
			    "this lasts (metapi stop, then metapi daemon "
			    "--detach --listen %s)", j->listen);
			doctor_item(items, "http.listen", "fail", fix,
			    "%s%s: %s", j->self_url, doctor_health_paths[i],
			    j->health_err[i] != NULL ? j->health_err[i] :
			    j->health[i] == 503 ? "503, draining (the daemon "
			    "is stopping)" : "unexpected reply");
			free(fix);
		}
	}
}

static void
doctor_site_items(struct doctor_job *j, json_t *items)
{
	struct doctor_site	*ds;
	json_t			*it;
	size_t			 i;
	char			*fix, via[64];

	if (j->nsites == 0)
		doctor_item(items, "site.reachable", "ok", NULL,
		    "no enabled sites");
	for (i = 0; i < j->nsites; i++) {
		ds = &j->sites[i];
		snprintf(via, sizeof via, "%s", ds->proxy == NULL ? "" :
		    ds->via_system ? " (through system_proxy_url)" :
		    " (through its proxy)");
		if (ds->status == 0) {
			if (ds->proxy != NULL)
				xasprintf(&fix, "check the proxy (%s%s%s), or "
				    "disable the site: metapi site disable %s",
				    ds->via_system ? "metapi settings set "
				    "system_proxy_url URL" : "metapi site edit ",
				    ds->via_system ? "" : ds->name,
				    ds->via_system ? "" : " --proxy URL|none",
				    ds->name);
			else
				xasprintf(&fix, "check the URL (metapi site "
				    "edit %s --url URL), DNS and the network, "
				    "or disable it: metapi site disable %s",
				    ds->name, ds->name);
			it = doctor_item(items, "site.reachable", "fail", fix,
			    "%s: %s%s", ds->name, ds->error != NULL ?
			    ds->error : "no reply", via);
			free(fix);
		} else if (ds->challenge)
			it = doctor_item(items, "site.reachable", "warn",
			    "open the site in a browser from this machine; "
			    "a proxy in another region may help",
			    "%s: HTTP %ld, a challenge page (WAF) in %ld ms%s",
			    ds->name, ds->status, ds->ms, via);
		else if (ds->status >= 500) {
			xasprintf(&fix, "the site has trouble; if it lasts, "
			    "metapi site disable %s", ds->name);
			it = doctor_item(items, "site.reachable", "warn", fix,
			    "%s: HTTP %ld in %ld ms%s", ds->name, ds->status,
			    ds->ms, via);
			free(fix);
		}
		else
			it = doctor_item(items, "site.reachable", "ok", NULL,
			    "%s: HTTP %ld in %ld ms%s", ds->name, ds->status,
			    ds->ms, via);
		json_object_set_new(it, "site_id", json_integer(ds->id));
		jx_set_str(it, "site", ds->name);
		json_object_set_new(it, "http_status", json_integer(ds->status));
		json_object_set_new(it, "ms", json_integer(ds->ms));
	}
}

static int
doctor_cmp_ll(const void *a, const void *b)
{
	long long	x = *(const long long *)a, y = *(const long long *)b;

	return (x < y ? -1 : x > y);
}

/*
 * The local clock against the sites': the median of (their Date - our
 * time) over the sites that sent one, so that one site with a wrong
 * clock does not blame ours.
 */
static void
doctor_clock_item(struct doctor_job *j, json_t *items)
{
	static const char fix[] = "set the clock right and keep it synced "
	    "(timedatectl set-ntp true, chrony or ntpd): cookie and token "
	    "expiry and check-in days depend on it";
	long long	*skew, med, now = time(NULL);
	size_t		 i, n = 0;
	json_t		*it;

	if (now < DOCTOR_CLOCK_MIN) {
		doctor_item(items, "clock", "fail", fix, "the local clock "
		    "says %lld, before 2020", now);
		return;
	}
	skew = xcalloc(j->nsites + 1, sizeof *skew);
	for (i = 0; i < j->nsites; i++)
		if (j->sites[i].date > 0)
			skew[n++] = j->sites[i].date - j->sites[i].local;
	if (n == 0) {
		doctor_item(items, "clock", "ok", NULL, "no site reply had a "
		    "Date header to compare with");
		free(skew);
		return;
	}
	qsort(skew, n, sizeof *skew, doctor_cmp_ll);
	med = n % 2 ? skew[n / 2] : (skew[n / 2 - 1] + skew[n / 2]) / 2;
	free(skew);
	if (med > DOCTOR_SKEW_WARN || med < -DOCTOR_SKEW_WARN)
		it = doctor_item(items, "clock", "warn", fix, "the local clock "
		    "is %lld s %s the sites' (median of %zu)", med > 0 ? med :
		    -med, med > 0 ? "behind" : "ahead of", n);
	else
		it = doctor_item(items, "clock", "ok", NULL, "within %lld s of "
		    "the sites' (median of %zu)", med > 0 ? med : -med, n);
	json_object_set_new(it, "skew_sec", json_integer(med));
}

static void
doctor_job_free(struct doctor_job *j)
{
	size_t	i;

	for (i = 0; i < j->nsites; i++) {
		free(j->sites[i].name);
		site_conn_free(j->sites[i].conn);
		free(j->sites[i].error);
	}
	free(j->sites);
	for (i = 0; i < 2; i++)
		free(j->health_err[i]);
	json_decref(j->db_items);
	json_decref(j->acct_items);
	free(j->system_proxy);
	free(j->self_url);
	free(j->listen);
	pthread_mutex_destroy(&j->mtx);
	free(j);
}

static enum ctl_ret
doctor_done(void *arg, __unused int alive, json_t **reply,
    __unused struct err *e)
{
	struct doctor_job	*j = arg;
	json_t			*items;

	items = json_array();
	json_array_extend(items, j->db_items);
	doctor_http_items(j, items);
	doctor_site_items(j, items);
	doctor_clock_item(j, items);
	json_array_extend(items, j->acct_items);
	doctor_job_free(j);
	*reply = jx_items(items);
	return (CTL_DONE);
}

enum ctl_ret
ctl_doctor_run(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	struct doctor_job	*j;
	long long		 timeout = DOCTOR_TIMEOUT_DEF;
	const char		*sys;

	if (json_object_get(req->args, "timeout") != NULL &&
	    (jx_int(req->args, "timeout", &timeout) != 0 || timeout < 1 ||
	    timeout > DOCTOR_TIMEOUT_MAX)) {
		err_set(e, ERR_INVALID, "--timeout must be 1 to %d seconds",
		    DOCTOR_TIMEOUT_MAX);
		return (CTL_ERROR);
	}
	j = xcalloc(1, sizeof *j);
	pthread_mutex_init(&j->mtx, NULL);
	j->timeout = timeout;
	sys = settings_str(metapid->settings, "system_proxy_url");
	if (sys != NULL && *sys != '\0')
		j->system_proxy = xstrdup(sys);
	j->db_items = json_array();
	j->acct_items = json_array();
	doctor_db(j->db_items);
	doctor_accounts(j->acct_items);
	doctor_load_sites(j);
	doctor_self_url(j);
	async_run(req, doctor_work, doctor_done, j);
	return (CTL_WAIT);
}

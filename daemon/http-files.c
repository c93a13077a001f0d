/*
 * /v1/files, OpenAI's Files API kept locally: upload (multipart, as the
 * SDKs send it), list, get, delete and content, each key seeing only its
 * own files; and http_files_inline(), which the proxy calls to put the
 * files a request names into it before it is forwarded or converted.
 * The bytes and the rows are src/file.c's; this file speaks HTTP.
 *
 * Unlike the rest of the request path these handlers use the database:
 * each request that needs it opens its own connection (db_open() on the
 * daemon's database, WAL and the busy timeout keep it apart from the main
 * thread's and the log writer's) and closes it before it returns. Files
 * are rare next to proxied requests, and a proxied request opens one only
 * when its body names a file. The paths are copied here at start-up and
 * the limits are atomics set from the settings, so no worker reads the
 * struct metapid or the settings.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>
#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "daemon.h"
#include "file.h"
#include "log.h"
#include "multipart.h"
#include "snapshot.h"
#include "xform.h"
#include "xmalloc.h"

#define HTTP_FILES_CHUNK	(64 * 1024)	/* content read size */

#define HTTP_FILES_FORM_MAX	(1024 * 1024)	/* all but the file's bytes */
#define HTTP_FILES_PURPOSE_MAX	64
#define HTTP_FILES_LIST_MAX	10000

static char		 http_files_db_path[PATH_MAX];
static char		 http_files_dir[PATH_MAX];
static atomic_llong	 http_files_max;		/* files_max_bytes */
static atomic_llong	 http_files_days;	/* files_retention_days */

typedef int (*http_files_cb)(struct mg_connection *, long long,
	    const char *);

/* What a route does with each method. */
struct http_files_method {
	const char	*method;
	http_files_cb	 fn;
};

/* The part of an upload being read. */
enum http_files_field {
	HTTP_FILES_OTHER,
	HTTP_FILES_FILE,
	HTTP_FILES_PURPOSE
};

/* One upload as its body streams in. */
struct http_files_up {
	char			 id[FILE_ID_MAX];
	char			*tmp;		/* the temporary, or NULL */
	int			 fd;		/* it, open; or -1 */
	enum http_files_field	 field;
	int			 nfiles;	/* "file" parts seen */
	long long		 bytes;
	long long		 max;
	struct buf		 purpose;
	struct multipart_part	 file;		/* the file part's headers */
	int			 status;	/* the answer, once it failed */
	char			*why;
};

/* Copy what the handlers need from the daemon, on the main thread. */
int
http_files_init(const char *db_path, const char *data_dir, char **cause)
{
	if (strlcpy(http_files_db_path, db_path, sizeof http_files_db_path) >=
	    sizeof http_files_db_path || (size_t)snprintf(http_files_dir,
	    sizeof http_files_dir, "%s/%s", data_dir, FILE_DIR) >=
	    sizeof http_files_dir) {
		xasprintf(cause, "data dir path too long for files: %s",
		    data_dir);
		return (-1);
	}
	return (0);
}

void
http_files_apply_settings(const struct settings *set)
{
	atomic_store(&http_files_max, settings_int(set, "files_max_bytes"));
	atomic_store(&http_files_days, settings_int(set,
	    "files_retention_days"));
}

/* The largest body an upload may declare: the file and its form. */
long long
http_files_body_max(void)
{
	return (atomic_load(&http_files_max) + HTTP_FILES_FORM_MAX);
}

static void
http_files_storage_error(struct mg_connection *conn, const char *msg)
{
	log_warnx("files: %s", msg);
	http_error(conn, 500, "server_error", "storage_error", "file storage "
	    "failed");
}

static struct db *
http_files_db(struct mg_connection *conn)
{
	struct db	*db;
	char		*cause = NULL;

	if ((db = db_open(http_files_db_path, &cause)) == NULL) {
		http_files_storage_error(conn, cause);
		free(cause);
	}
	return (db);
}

static void
http_files_not_found(struct mg_connection *conn, const char *id)
{
	http_error(conn, 404, "invalid_request_error", "file_not_found",
	    "no such file: %s", id);
}

static int
http_files_part(const struct multipart_part *pt, void *arg)
{
	struct http_files_up	*up = arg;
	struct err		 e = { ERR_OK, NULL };

	if (strcmp(pt->name, "purpose") == 0) {
		up->field = HTTP_FILES_PURPOSE;
		buf_reset(&up->purpose);
		return (0);
	}
	if (strcmp(pt->name, "file") != 0) {
		up->field = HTTP_FILES_OTHER;
		return (0);
	}
	if (up->nfiles++ > 0) {
		up->status = 400;
		up->why = xstrdup("one \"file\" per upload");
		return (-1);
	}
	if ((up->fd = file_store_open(http_files_dir, up->id, &up->tmp,
	    &e)) == -1) {
		up->status = 500;
		up->why = e.msg;
		return (-1);
	}
	up->file = *pt;
	up->field = HTTP_FILES_FILE;
	return (0);
}

static int
http_files_data(const char *p, size_t len, void *arg)
{
	struct http_files_up	*up = arg;
	ssize_t			 n;

	if (up->field == HTTP_FILES_PURPOSE) {
		if (buf_add(&up->purpose, p, len) != 0) {
			up->status = 400;
			up->why = xstrdup("\"purpose\" is too long");
			return (-1);
		}
		return (0);
	}
	if (up->field != HTTP_FILES_FILE)
		return (0);
	if ((long long)len > up->max - up->bytes) {
		up->status = 413;
		xasprintf(&up->why, "the file is larger than files_max_bytes "
		    "(%lld bytes)", up->max);
		return (-1);
	}
	up->bytes += (long long)len;
	while (len > 0) {
		if ((n = write(up->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			up->status = 500;
			xasprintf(&up->why, "%s: %s", up->tmp, strerror(errno));
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Read the form into up; 0, or -1 with up->status and up->why set. */
static int
http_files_read_form(struct mg_connection *conn, struct http_files_up *up)
{
	struct multipart	 mp;
	char			 tmp[16384];
	char			*cause = NULL;
	long long		 total = 0;
	int			 n, rc = -1;

	if (multipart_init(&mp, mg_get_header(conn, "Content-Type"),
	    http_files_part, http_files_data, up, &cause) != 0) {
		up->status = 400;
		up->why = cause;
		return (-1);
	}
	while ((n = mg_read(conn, tmp, sizeof tmp)) > 0) {
		if ((total += n) > up->max + HTTP_FILES_FORM_MAX) {
			up->status = 413;
			xasprintf(&up->why, "the upload is larger than "
			    "files_max_bytes (%lld bytes)", up->max);
			goto out;
		}
		if (multipart_feed(&mp, tmp, (size_t)n, &cause) != 0)
			goto bad;
	}
	if (n < 0) {
		up->status = 400;
		up->why = xstrdup("the upload was cut short");
		goto out;
	}
	if (multipart_finish(&mp, &cause) != 0)
		goto bad;
	rc = 0;
	goto out;
bad:
	/* The callbacks set their own reason; the parser gives its own. */
	if (up->status == 0) {
		up->status = 400;
		up->why = cause;
		cause = NULL;
	}
	free(cause);
out:
	multipart_free(&mp);
	return (rc);
}

/* POST /v1/files: multipart/form-data with "file" and "purpose". */
static int
http_files_upload(struct mg_connection *conn, long long key_id,
    __unused const char *unused)
{
	struct http_files_up	 up;
	struct file		 f;
	struct err		 e = { ERR_OK, NULL };
	struct db		*db = NULL;
	char			 mime[128];
	char			*path = NULL;
	const char		*purpose;
	json_t			*o;
	long long		 days = atomic_load(&http_files_days);
	int			 status = 500;

	memset(&up, 0, sizeof up);
	memset(&f, 0, sizeof f);
	up.fd = -1;
	up.max = atomic_load(&http_files_max);
	buf_init(&up.purpose, HTTP_FILES_PURPOSE_MAX);
	xf_make_id(up.id, sizeof up.id, "file-");
	if (http_files_read_form(conn, &up) != 0) {
		status = up.status;
		goto fail;
	}
	purpose = up.purpose.len > 0 ? buf_cstr(&up.purpose) : "";
	status = 400;
	if (up.nfiles == 0) {
		up.why = xstrdup("\"file\" is required");
		goto fail;
	}
	if (!file_purpose_ok(purpose)) {
		up.why = xstrdup("\"purpose\" is required: a word such as "
		    "user_data, assistants or vision");
		goto fail;
	}
	if (up.bytes == 0) {
		up.why = xstrdup("the file is empty");
		goto fail;
	}
	status = 500;
	strlcpy(f.id, up.id, sizeof f.id);
	f.key_id = key_id;
	f.filename = file_clean_name(up.file.has_filename ? up.file.filename :
	    NULL);
	file_mime(up.file.type, f.filename, mime, sizeof mime);
	f.mime = xstrdup(mime);
	f.purpose = xstrdup(purpose);
	f.bytes = up.bytes;
	f.created_at = (long long)time(NULL);
	f.expires_at = days > 0 ? f.created_at + days * 86400 : 0;
	if (file_store_commit(http_files_dir, up.id, up.tmp, up.fd, &e) != 0) {
		up.fd = -1;
		up.why = e.msg;
		goto fail;
	}
	up.fd = -1;
	path = file_path(http_files_dir, up.id);
	if ((db = http_files_db(conn)) == NULL) {
		unlink(path);
		status = 0;
		goto fail;
	}
	if (file_insert(db, &f, &e) != 0) {
		unlink(path);
		up.why = e.msg;
		goto fail;
	}
	o = file_to_json(&f);
	http_send_json(conn, 200, o);
	json_decref(o);
	status = 200;
	goto out;
fail:
	file_store_abort(up.tmp, up.fd);
	if (status == 500)
		http_files_storage_error(conn, up.why != NULL ? up.why :
		    "upload failed");
	else if (status != 0)
		http_error(conn, status, "invalid_request_error", status == 413 ?
		    "file_too_large" : "invalid_request", "%s", up.why);
	if (status == 0)
		status = 500;
out:
	db_close(db);
	free(path);
	free(up.tmp);
	free(up.why);
	buf_free(&up.purpose);
	file_clear(&f);
	return (status);
}

/* A query variable into out: 1 present, 0 absent, -1 too long. */
static int
http_files_var(struct mg_connection *conn, const char *name, char *out,
    size_t len)
{
	const struct mg_request_info	*ri = mg_get_request_info(conn);
	int				 n;

	if (ri->query_string == NULL)
		return (0);
	n = mg_get_var(ri->query_string, strlen(ri->query_string), name, out,
	    len);
	return (n >= 0 ? 1 : n == -1 ? 0 : -1);
}

/* GET /v1/files[?purpose=&limit=&order=asc|desc&after=]: newest first. */
static int
http_files_list(struct mg_connection *conn, long long key_id,
    __unused const char *unused)
{
	struct err	 e = { ERR_OK, NULL };
	struct db	*db;
	char		 purpose[HTTP_FILES_PURPOSE_MAX + 1], after[FILE_ID_MAX];
	char		 order[8], lim[16];
	const char	*errstr = NULL;
	long long	 limit = HTTP_FILES_LIST_MAX;
	json_t		*items, *o;
	int		 hp, ha, hl, more;

	hp = http_files_var(conn, "purpose", purpose, sizeof purpose);
	ha = http_files_var(conn, "after", after, sizeof after);
	if ((hl = http_files_var(conn, "limit", lim, sizeof lim)) == 1)
		limit = strtonum(lim, 1, HTTP_FILES_LIST_MAX, &errstr);
	if (hp < 0 || ha < 0 || hl < 0 || errstr != NULL) {
		http_error(conn, 400, "invalid_request_error", "invalid_request",
		    "limit must be 1 to %d; purpose and after must be short",
		    HTTP_FILES_LIST_MAX);
		return (400);
	}
	if (http_files_var(conn, "order", order, sizeof order) == 0)
		strlcpy(order, "desc", sizeof order);
	if (strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
		http_error(conn, 400, "invalid_request_error", "invalid_request",
		    "order must be asc or desc");
		return (400);
	}
	if ((db = http_files_db(conn)) == NULL)
		return (500);
	items = file_list(db, key_id, (long long)time(NULL), hp ? purpose :
	    NULL, ha ? after : NULL, limit, strcmp(order, "asc") == 0, &more,
	    &e);
	db_close(db);
	if (items == NULL) {
		http_files_storage_error(conn, e.msg);
		err_clear(&e);
		return (500);
	}
	o = json_pack("{s:s, s:o, s:O?, s:O?, s:b}", "object", "list", "data",
	    items, "first_id", json_object_get(json_array_get(items, 0), "id"),
	    "last_id", json_object_get(json_array_get(items,
	    json_array_size(items) - 1), "id"), "has_more", more);
	http_send_json(conn, 200, o);
	json_decref(o);
	return (200);
}

/* Key key_id's file id into f: 0, or the status of the error sent. */
static int
http_files_find(struct mg_connection *conn, long long key_id,
    const char *id, struct file *f)
{
	struct err	 e = { ERR_OK, NULL };
	struct db	*db;
	int		 rc;

	if ((db = http_files_db(conn)) == NULL)
		return (500);
	rc = file_get(db, id, key_id, (long long)time(NULL), f, &e);
	db_close(db);
	if (rc < 0) {
		http_files_storage_error(conn, e.msg);
		err_clear(&e);
		return (500);
	}
	if (rc == 0) {
		http_files_not_found(conn, id);
		return (404);
	}
	return (0);
}

/* GET /v1/files/ID */
static int
http_files_get(struct mg_connection *conn, long long key_id, const char *id)
{
	struct file	 f;
	json_t		*o;
	int		 status;

	if ((status = http_files_find(conn, key_id, id, &f)) != 0)
		return (status);
	o = file_to_json(&f);
	http_send_json(conn, 200, o);
	json_decref(o);
	file_clear(&f);
	return (200);
}

/* DELETE /v1/files/ID: the row, then the bytes. */
static int
http_files_delete(struct mg_connection *conn, long long key_id,
    const char *id)
{
	struct err	 e = { ERR_OK, NULL };
	struct db	*db;
	char		*path;
	json_t		*o;
	int		 rc;

	if ((db = http_files_db(conn)) == NULL)
		return (500);
	rc = file_delete(db, id, key_id, &e);
	db_close(db);
	if (rc < 0) {
		http_files_storage_error(conn, e.msg);
		err_clear(&e);
		return (500);
	}
	if (rc == 0) {
		http_files_not_found(conn, id);
		return (404);
	}
	/* A failed unlink is left to the log-cleanup job's sweep. */
	path = file_path(http_files_dir, id);
	unlink(path);
	free(path);
	o = json_pack("{s:s, s:s, s:b}", "id", id, "object", "file", "deleted",
	    1);
	http_send_json(conn, 200, o);
	json_decref(o);
	return (200);
}

/* GET /v1/files/ID/content: the bytes as uploaded, streamed from disk. */
static int
http_files_content_get(struct mg_connection *conn, long long key_id,
    const char *id)
{
	struct file	 f;
	struct err	 e = { ERR_OK, NULL };
	char		*tmp;
	long long	 size;
	ssize_t		 n;
	int		 fd, status;

	if ((status = http_files_find(conn, key_id, id, &f)) != 0)
		return (status);
	if ((fd = file_open(http_files_dir, id, &size, &e)) == -1) {
		status = e.code == ERR_NOT_FOUND ? 404 : 500;
		if (status == 404)
			http_files_not_found(conn, id);
		else
			http_files_storage_error(conn, e.msg);
		err_clear(&e);
		file_clear(&f);
		return (status);
	}
	mg_printf(conn, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %lld\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n", f.mime, size);
	/* On the heap: civetweb's worker stacks are small. */
	tmp = xmalloc(HTTP_FILES_CHUNK);
	while (size > 0 && (n = read(fd, tmp, HTTP_FILES_CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || mg_write(conn, tmp, (size_t)n) <= 0)
			break;
		size -= n;
	}
	free(tmp);
	close(fd);
	file_clear(&f);
	return (200);
}

/*
 * The common part of the three routes: the method, the key (exactly as
 * the relay surfaces check it), the file's id from the path.
 */
static int
http_files_dispatch(struct mg_connection *conn,
    const struct http_files_method *t, size_t n, int has_id)
{
	const struct mg_request_info	*ri = mg_get_request_info(conn);
	struct snapshot			*snap;
	const struct snap_key		*k;
	const char			*p;
	char				 id[FILE_ID_MAX];
	long long			 key_id;
	size_t				 i, len;

	for (i = 0; i < n; i++)
		if (strcmp(ri->request_method, t[i].method) == 0)
			break;
	if (i == n) {
		http_error(conn, 405, "invalid_request_error",
		    "method_not_allowed", "method not allowed here");
		return (405);
	}
	snap = snapshot_get();
	if (http_auth(conn, snap, &k) != 0) {
		snapshot_put(snap);
		return (401);
	}
	key_id = k->id;
	snapshot_put(snap);
	id[0] = '\0';
	if (has_id) {
		p = ri->local_uri + strlen("/v1/files/");
		len = strcspn(p, "/");
		if (len < sizeof id) {
			memcpy(id, p, len);
			id[len] = '\0';
		}
		if (!file_id_ok(id)) {
			http_files_not_found(conn, len < sizeof id ? id : "");
			return (404);
		}
	}
	return (t[i].fn(conn, key_id, id));
}

static const struct http_files_method http_files_root[] = {
	{ "GET", http_files_list },
	{ "POST", http_files_upload },
};
static const struct http_files_method http_files_item[] = {
	{ "GET", http_files_get },
	{ "DELETE", http_files_delete },
};
static const struct http_files_method http_files_bytes[] = {
	{ "GET", http_files_content_get },
};

/* /v1/files */
int
http_files(struct mg_connection *conn, __unused void *arg)
{
	return (http_files_dispatch(conn, http_files_root,
	    nitems(http_files_root), 0));
}

/* /v1/files/ID */
int
http_files_one(struct mg_connection *conn, __unused void *arg)
{
	return (http_files_dispatch(conn, http_files_item,
	    nitems(http_files_item), 1));
}

/* /v1/files/ID/content */
int
http_files_content(struct mg_connection *conn, __unused void *arg)
{
	return (http_files_dispatch(conn, http_files_bytes,
	    nitems(http_files_bytes), 1));
}

/* Inlining: the loader file_inline() calls, per referenced id. */
struct http_files_load {
	long long	 key_id;
	long long	 now;
	long long	 max;		/* what may be inlined in all */
	struct db	*db;		/* opened at the first reference */
};

static int
http_files_load(const char *id, struct file_data *fd, void *arg,
    struct err *e)
{
	struct http_files_load	*l = arg;
	struct file		 f;
	char			*cause = NULL;
	int			 rc;

	if (!file_id_ok(id))
		return (0);
	if (l->db == NULL && (l->db = db_open(http_files_db_path,
	    &cause)) == NULL) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (-1);
	}
	if ((rc = file_get(l->db, id, l->key_id, l->now, &f, e)) <= 0)
		return (rc);
	if (file_read(http_files_dir, id, (size_t)l->max, &fd->data, &fd->len,
	    e) != 0) {
		file_clear(&f);
		/* Deleted since the row was read: as if it never was. */
		if (e->code != ERR_NOT_FOUND)
			return (-1);
		err_clear(e);
		return (0);
	}
	fd->mime = xstrdup(f.mime);
	fd->filename = xstrdup(f.filename);
	file_clear(&f);
	return (1);
}

/*
 * Put the files a relay request names into its body (file_inline()), at
 * most max bytes of them, and the body to send into *raw. 0 when done or
 * when there was nothing to do; else the error has been answered in the
 * client's shape and its status is returned: 400 for a file this key
 * does not have, 413 past max.
 */
int
http_files_inline(struct mg_connection *conn, long long key_id,
    enum relay_format fmt, json_t *body, long long max, char **raw,
    size_t *rawlen)
{
	struct http_files_load	 l;
	struct err		 e = { ERR_OK, NULL };
	char			*s;
	int			 n, status;

	memset(&l, 0, sizeof l);
	l.key_id = key_id;
	l.now = (long long)time(NULL);
	l.max = max;
	n = file_inline(body, fmt, (size_t)max, http_files_load, &l, &e);
	db_close(l.db);
	if (n < 0) {
		status = e.code == ERR_NOT_FOUND ? 400 : e.code == ERR_INVALID ?
		    413 : 500;
		if (status == 500)
			http_files_storage_error(conn, e.msg);
		else
			http_error(conn, status, "invalid_request_error",
			    status == 400 ? "file_not_found" : "file_too_large",
			    "%s", e.msg);
		err_clear(&e);
		return (status);
	}
	if (n > 0) {
		s = json_dumps(body, JSON_COMPACT);
		free(*raw);
		*raw = s;
		*rawlen = strlen(s);
	}
	return (0);
}

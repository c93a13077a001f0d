/*
 * Files uploaded through /v1/files. This module alone owns the files
 * table and the layout of DATA_DIR/files/: one file per upload named by
 * its random id, never by anything the client sent, written under a
 * temporary name, synced and renamed so that a reader sees all of it or
 * nothing. It does not speak HTTP (daemon/http-files.c does).
 *
 * file_inline() is the pure part: it walks a request body for parts that
 * name an uploaded file and puts the file's content there, inline, in
 * the request's own format, so that any upstream (or converter) can use
 * it. The content comes from a loader the caller passes in.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "compat.h"
#include "db.h"
#include "err.h"
#include "file.h"
#include "jx.h"
#include "xmalloc.h"

#define FILE_WALK_DEPTH		64	/* JSON nesting walked for parts */
#define FILE_ORPHAN_SEC		3600	/* bytes without a row: kept this long */
#define FILE_TMP_SEC		86400	/* a temporary left by a crash */
#define FILE_TMP_PREFIX		".tmp-"

void
file_clear(struct file *f)
{
	if (f == NULL)
		return;
	free(f->filename);
	free(f->purpose);
	free(f->mime);
	memset(f, 0, sizeof *f);
}

void
file_data_clear(struct file_data *fd)
{
	if (fd == NULL)
		return;
	free(fd->mime);
	free(fd->filename);
	free(fd->data);
	memset(fd, 0, sizeof *fd);
}

/* Ids name files on disk: "file-" and letters and digits only. */
int
file_id_ok(const char *id)
{
	size_t	i, n;

	if (id == NULL || strncmp(id, "file-", 5) != 0)
		return (0);
	n = strlen(id);
	if (n <= 5 || n >= FILE_ID_MAX)
		return (0);
	for (i = 5; i < n; i++) {
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9')))
			return (0);
	}
	return (1);
}

/* The length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
file_utf8_len(const unsigned char *p, size_t n)
{
	size_t	len, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return (0);
	if (len > n)
		return (0);
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return (0);
	return (len);
}

/*
 * A client's file name as stored and shown: its last path component,
 * control characters as "_", broken UTF-8 as "?", never empty.
 */
char *
file_clean_name(const char *raw)
{
	const unsigned char	*p;
	const char		*s = raw != NULL ? raw : "";
	char			*out, *o;
	size_t			 n, k;

	if ((p = (const unsigned char *)strrchr(s, '/')) != NULL)
		s = (const char *)p + 1;
	if ((p = (const unsigned char *)strrchr(s, '\\')) != NULL)
		s = (const char *)p + 1;
	if (*s == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		s = "upload";
	n = strlen(s);
	out = o = xmalloc(n + 1);
	p = (const unsigned char *)s;
	while (n > 0) {
		if (*p < 0x20 || *p == 0x7f) {
			*o++ = '_';
			k = 1;
		} else if ((k = file_utf8_len(p, n)) == 0) {
			*o++ = '?';
			k = 1;
		} else {
			memcpy(o, p, k);
			o += k;
		}
		p += k;
		n -= k;
	}
	*o = '\0';
	return (out);
}

/* OpenAI's purposes and any later ones: a short lowercase word. */
int
file_purpose_ok(const char *s)
{
	size_t	n = s != NULL ? strlen(s) : 0;

	return (n >= 1 && n <= 64 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n);
}

/* What a name's extension says, for uploads that came untyped. */
static const struct {
	const char	*ext;
	const char	*mime;
} file_mime_table[] = {
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "txt", "text/plain" },
	{ "md", "text/markdown" },
	{ "csv", "text/csv" },
	{ "html", "text/html" },
	{ "htm", "text/html" },
	{ "json", "application/json" },
	{ "jsonl", "application/jsonl" },
};

/*
 * A file's MIME type: the one the client gave if it is a well-formed
 * type/subtype other than application/octet-stream, else the one its
 * extension says, else application/octet-stream. Lowercase.
 */
void
file_mime(const char *given, const char *filename, char *out, size_t len)
{
	static const char	 tok[] = "abcdefghijklmnopqrstuvwxyz"
				    "0123456789!#$&^_.+-";
	const char		*ext, *slash;
	size_t			 i, n;

	strlcpy(out, given != NULL ? given : "", len);
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	n = strlen(out);
	if ((slash = strchr(out, '/')) != NULL && slash != out &&
	    slash[1] != '\0' && strspn(out, tok) == (size_t)(slash - out) &&
	    strspn(slash + 1, tok) == n - (size_t)(slash - out) - 1 &&
	    strcmp(out, "application/octet-stream") != 0)
		return;
	strlcpy(out, "application/octet-stream", len);
	if (filename == NULL || (ext = strrchr(filename, '.')) == NULL)
		return;
	for (i = 0; i < nitems(file_mime_table); i++) {
		if (strcasecmp(ext + 1, file_mime_table[i].ext) == 0) {
			strlcpy(out, file_mime_table[i].mime, len);
			return;
		}
	}
}

/* OpenAI's file object. */
json_t *
file_to_json(const struct file *f)
{
	return (json_pack("{s:s, s:s, s:I, s:I, s:o, s:s, s:s, s:s, s:n}",
	    "id", f->id, "object", "file", "bytes", (json_int_t)f->bytes,
	    "created_at", (json_int_t)f->created_at, "expires_at",
	    jx_opt_int(f->expires_at != 0, f->expires_at), "filename",
	    f->filename, "purpose", f->purpose, "status", "processed",
	    "status_details"));
}

#define FILE_COLUMNS \
	"id, key_id, filename, purpose, bytes, mime, created_at, expires_at"

static void
file_from_row(struct db_stmt *st, struct file *f)
{
	memset(f, 0, sizeof *f);
	strlcpy(f->id, db_col_text(st, 0), sizeof f->id);
	f->key_id = db_col_int64(st, 1);
	f->filename = xstrdup(db_col_text(st, 2));
	f->purpose = xstrdup(db_col_text(st, 3));
	f->bytes = db_col_int64(st, 4);
	f->mime = xstrdup(db_col_text(st, 5));
	f->created_at = db_col_int64(st, 6);
	f->expires_at = db_col_int64(st, 7);
}

static json_t *
file_row_json(struct db_stmt *st)
{
	struct file	 f;
	json_t		*o;

	file_from_row(st, &f);
	o = file_to_json(&f);
	file_clear(&f);
	return (o);
}

int
file_insert(struct db *db, const struct file *f, struct err *e)
{
	struct db_stmt	*st;

	st = db_prepare_err(db, "INSERT INTO files (" FILE_COLUMNS ", seq) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
	    "(SELECT COALESCE(MAX(seq), 0) + 1 FROM files))", e);
	if (st != NULL) {
		db_bind_text(st, 1, f->id);
		db_bind_int64(st, 2, f->key_id);
		db_bind_text(st, 3, f->filename);
		db_bind_text(st, 4, f->purpose);
		db_bind_int64(st, 5, f->bytes);
		db_bind_text(st, 6, f->mime);
		db_bind_int64(st, 7, f->created_at);
		db_bind_int(st, 8, f->expires_at, f->expires_at != 0);
	}
	return (db_step_done(db, st, e));
}

/* Key key_id's file id, unless expired at now: 1 found, 0 not, -1. */
int
file_get(struct db *db, const char *id, long long key_id, long long now,
    struct file *f, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	memset(f, 0, sizeof *f);
	st = db_prepare_err(db, "SELECT " FILE_COLUMNS " FROM files WHERE "
	    "id = ? AND key_id = ? AND (expires_at IS NULL OR "
	    "expires_at > ?)", e);
	if (st == NULL)
		return (-1);
	db_bind_text(st, 1, id);
	db_bind_int64(st, 2, key_id);
	db_bind_int64(st, 3, now);
	if ((rc = db_step(st)) == DB_ROW)
		file_from_row(st, f);
	else if (rc != DB_DONE)
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	db_finalize(st);
	return (rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1);
}

/*
 * Key key_id's files that have not expired, as OpenAI file objects:
 * newest first (asc: oldest first), only those of purpose (NULL: any),
 * after the file named after (NULL: from the start), at most limit;
 * *more says whether others follow.
 */
json_t *
file_list(struct db *db, long long key_id, long long now,
    const char *purpose, const char *after, long long limit, int asc,
    int *more, struct err *e)
{
	struct db_stmt	*st;
	json_t		*items;

	*more = 0;
	st = db_prepare_err(db, asc ?
	    "SELECT " FILE_COLUMNS " FROM files WHERE key_id = ?1 AND "
	    "(expires_at IS NULL OR expires_at > ?2) AND "
	    "(?3 IS NULL OR purpose = ?3) AND (?4 IS NULL OR seq > "
	    "(SELECT seq FROM files WHERE id = ?4)) ORDER BY seq LIMIT ?5" :
	    "SELECT " FILE_COLUMNS " FROM files WHERE key_id = ?1 AND "
	    "(expires_at IS NULL OR expires_at > ?2) AND "
	    "(?3 IS NULL OR purpose = ?3) AND (?4 IS NULL OR seq < "
	    "(SELECT seq FROM files WHERE id = ?4)) ORDER BY seq DESC "
	    "LIMIT ?5", e);
	if (st != NULL) {
		db_bind_int64(st, 1, key_id);
		db_bind_int64(st, 2, now);
		db_bind_text(st, 3, purpose);
		db_bind_text(st, 4, after);
		db_bind_int64(st, 5, limit + 1);
	}
	if ((items = db_rows(db, st, file_row_json, e)) == NULL)
		return (NULL);
	if (json_array_size(items) > (size_t)limit) {
		json_array_remove(items, (size_t)limit);
		*more = 1;
	}
	return (items);
}

/* Delete key key_id's file id's row: 1 deleted, 0 no such row, -1. */
int
file_delete(struct db *db, const char *id, long long key_id, struct err *e)
{
	struct db_stmt	*st;

	st = db_prepare_err(db, "DELETE FROM files WHERE id = ? AND "
	    "key_id = ?", e);
	if (st != NULL) {
		db_bind_text(st, 1, id);
		db_bind_int64(st, 2, key_id);
	}
	if (db_step_done(db, st, e) != 0)
		return (-1);
	return (db_changes(db) > 0);
}

char *
file_path(const char *dir, const char *id)
{
	char	*p;

	xasprintf(&p, "%s/%s", dir, id);
	return (p);
}

static int
file_row_exists(struct db *db, const char *id)
{
	struct db_stmt	*st;
	int		 rc;

	if ((st = db_prepare(db, "SELECT 1 FROM files WHERE id = ?",
	    NULL)) == NULL)
		return (1);
	db_bind_text(st, 1, id);
	rc = db_step(st);
	db_finalize(st);
	return (rc != DB_DONE);
}

/*
 * Bytes in dir that no row names: a temporary a crash left, a file whose
 * key was deleted (its rows went with it), one whose unlink failed. Old
 * enough that no upload still in flight can own them.
 */
static void
file_sweep(struct db *db, const char *dir, long long now)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		*p;
	int		 tmp;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		tmp = strncmp(de->d_name, FILE_TMP_PREFIX,
		    strlen(FILE_TMP_PREFIX)) == 0;
		if (!tmp && !file_id_ok(de->d_name))
			continue;
		p = file_path(dir, de->d_name);
		if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    (long long)sb.st_mtime < now - (tmp ? FILE_TMP_SEC :
		    FILE_ORPHAN_SEC) && (tmp || !file_row_exists(db,
		    de->d_name)))
			unlink(p);
		free(p);
	}
	closedir(d);
}

/*
 * Delete the rows of the files expired at now and their bytes, then
 * the bytes no row names. The number of rows deleted, or -1.
 */
int
file_prune(struct db *db, const char *dir, long long now, struct err *e)
{
	struct db_stmt	*st;
	json_t		*ids, *v;
	char		*p;
	size_t		 i;
	int		 n;

	st = db_prepare_err(db, "DELETE FROM files WHERE expires_at IS NOT "
	    "NULL AND expires_at <= ? RETURNING id", e);
	if (st == NULL)
		return (-1);
	db_bind_int64(st, 1, now);
	ids = json_array();
	while (db_step(st) == DB_ROW)
		json_array_append_new(ids, json_string(db_col_text(st, 0)));
	if (db_finalize(st) != 0) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		json_decref(ids);
		return (-1);
	}
	json_array_foreach(ids, i, v) {
		if (!file_id_ok(json_string_value(v)))
			continue;
		p = file_path(dir, json_string_value(v));
		unlink(p);
		free(p);
	}
	n = (int)json_array_size(ids);
	json_decref(ids);
	file_sweep(db, dir, now);
	return (n);
}

/*
 * Start storing file id in dir (made if missing, mode 0700): a new
 * temporary file to write to. Its fd, with *tmp its path; or -1.
 */
int
file_store_open(const char *dir, const char *id, char **tmp, struct err *e)
{
	int	fd;

	*tmp = NULL;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		err_set(e, ERR_STORAGE, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	xasprintf(tmp, "%s/" FILE_TMP_PREFIX "%s", dir, id);
	fd = open(*tmp, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600);
	if (fd == -1) {
		err_set(e, ERR_STORAGE, "%s: %s", *tmp, strerror(errno));
		free(*tmp);
		*tmp = NULL;
	}
	return (fd);
}

/* Give up a store: the temporary goes. */
void
file_store_abort(const char *tmp, int fd)
{
	if (fd != -1)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
}

/*
 * Finish a store: sync the bytes, close, rename the temporary to the
 * file's id and sync the directory, so the name never shows a partial
 * file. On failure the temporary is gone too.
 */
int
file_store_commit(const char *dir, const char *id, const char *tmp, int fd,
    struct err *e)
{
	char	*path;
	int	 dfd, rc = -1;

	path = file_path(dir, id);
	if (fsync(fd) != 0) {
		err_set(e, ERR_STORAGE, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		err_set(e, ERR_STORAGE, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		err_set(e, ERR_STORAGE, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((dfd = open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
	goto out;
fail:
	file_store_abort(tmp, fd);
out:
	free(path);
	return (rc);
}

/*
 * Open file id in dir for reading: its fd and *size, or -1 with e set
 * (ERR_NOT_FOUND when it is not there).
 */
int
file_open(const char *dir, const char *id, long long *size, struct err *e)
{
	struct stat	 sb;
	char		*path;
	int		 fd;

	if (!file_id_ok(id)) {
		err_set(e, ERR_NOT_FOUND, "no such file: %s", id);
		return (-1);
	}
	path = file_path(dir, id);
	if ((fd = open(path, O_RDONLY|O_NOFOLLOW|O_CLOEXEC)) == -1)
		err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_STORAGE,
		    "%s: %s", path, strerror(errno));
	else if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		err_set(e, ERR_STORAGE, "%s: not a regular file", path);
		close(fd);
		fd = -1;
	} else
		*size = (long long)sb.st_size;
	free(path);
	return (fd);
}

/* The bytes of file id in dir, at most max: 0, or -1 with e set. */
int
file_read(const char *dir, const char *id, size_t max, char **data,
    size_t *len, struct err *e)
{
	long long	 size;
	char		*buf = NULL;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd, rc = -1;

	*data = NULL;
	*len = 0;
	if ((fd = file_open(dir, id, &size, e)) == -1)
		return (-1);
	if ((unsigned long long)size > max) {
		err_set(e, ERR_INVALID, "file %s is larger than %zu bytes", id,
		    max);
		goto out;
	}
	buf = xmalloc((size_t)size + 1);
	while (n < (size_t)size) {
		r = read(fd, buf + n, (size_t)size - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			err_set(e, ERR_STORAGE, "file %s: %s", id, r == 0 ?
			    "shorter than it was" : strerror(errno));
			goto out;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	close(fd);
	free(buf);
	return (rc);
}

/* Inlining. */

static int
file_is_image(const struct file_data *fd)
{
	return (strncasecmp(fd->mime, "image/", 6) == 0);
}

static const char *
file_ref_chat(const json_t *part)
{
	return (jx_str(json_object_get(part, "file"), "file_id"));
}

static const char *
file_ref_responses(const json_t *part)
{
	return (jx_str(part, "file_id"));
}

static const char *
file_ref_messages(const json_t *part)
{
	const json_t	*src = json_object_get(part, "source");
	const char	*type = jx_str(src, "type");

	if (type == NULL || strcmp(type, "file") != 0)
		return (NULL);
	return (jx_str(src, "file_id"));
}

/*
 * The puts rewrite a part in place; url is "data:MIME;base64,B64" and
 * b64 the bare base64 (the tail of url).
 */

/* Chat: an image_url part for an image, else file_data and filename. */
static void
file_put_chat(json_t *part, const struct file_data *fd, const char *url,
    __unused const char *b64)
{
	json_object_clear(part);
	if (file_is_image(fd)) {
		json_object_set_new(part, "type", json_string("image_url"));
		json_object_set_new(part, "image_url", json_pack("{s:o}", "url",
		    json_string_nocheck(url)));
	} else {
		json_object_set_new(part, "type", json_string("file"));
		json_object_set_new(part, "file", json_pack("{s:s, s:o}",
		    "filename", fd->filename, "file_data",
		    json_string_nocheck(url)));
	}
}

/* Responses: input_image with image_url, or input_file with file_data. */
static void
file_put_responses(json_t *part, const struct file_data *fd,
    const char *url, __unused const char *b64)
{
	json_object_del(part, "file_id");
	if (file_is_image(fd)) {
		json_object_set_new(part, "type", json_string("input_image"));
		json_object_del(part, "filename");
		json_object_del(part, "file_data");
		json_object_del(part, "file_url");
		json_object_set_new(part, "image_url",
		    json_string_nocheck(url));
		if (jx_str(part, "detail") == NULL)
			json_object_set_new(part, "detail",
			    json_string("auto"));
	} else {
		json_object_set_new(part, "type", json_string("input_file"));
		json_object_del(part, "image_url");
		json_object_del(part, "detail");
		json_object_del(part, "file_url");
		json_object_set_new(part, "file_data",
		    json_string_nocheck(url));
		if (jx_str(part, "filename") == NULL)
			json_object_set_new(part, "filename",
			    json_string(fd->filename));
	}
}

/*
 * Messages: an image block with a base64 source, or a document: plain
 * text as a text source (Claude takes base64 documents only as PDFs),
 * anything else base64.
 */
static void
file_put_messages(json_t *part, const struct file_data *fd,
    __unused const char *url, const char *b64)
{
	json_t	*text = NULL;

	if (file_is_image(fd)) {
		json_object_set_new(part, "type", json_string("image"));
		json_object_del(part, "title");
		json_object_del(part, "context");
		json_object_del(part, "citations");
	} else {
		json_object_set_new(part, "type", json_string("document"));
		if (strncasecmp(fd->mime, "text/", 5) == 0)
			text = json_stringn(fd->data, fd->len);
	}
	if (text != NULL)
		json_object_set_new(part, "source", json_pack("{s:s, s:s, s:o}",
		    "type", "text", "media_type", "text/plain", "data", text));
	else
		json_object_set_new(part, "source", json_pack("{s:s, s:s, s:o}",
		    "type", "base64", "media_type", fd->mime, "data",
		    json_string_nocheck(b64)));
}

/* The parts that name a file, by format and type. */
static const struct file_ref {
	enum relay_format	 fmt;
	const char		*type;
	const char		*(*id)(const json_t *);
	void			 (*put)(json_t *, const struct file_data *,
				     const char *, const char *);
} file_ref_table[] = {
	{ RELAY_CHAT, "file", file_ref_chat, file_put_chat },
	{ RELAY_RESPONSES, "input_file", file_ref_responses,
	  file_put_responses },
	{ RELAY_RESPONSES, "input_image", file_ref_responses,
	  file_put_responses },
	{ RELAY_MESSAGES, "document", file_ref_messages, file_put_messages },
	{ RELAY_MESSAGES, "image", file_ref_messages, file_put_messages },
	{ RELAY_COUNT_TOKENS, "document", file_ref_messages,
	  file_put_messages },
	{ RELAY_COUNT_TOKENS, "image", file_ref_messages, file_put_messages },
};

/* Where each format keeps the parts (others have none). */
static const char *const file_roots[RELAY_FORMAT_COUNT] = {
	[RELAY_CHAT] = "messages",
	[RELAY_RESPONSES] = "input",
	[RELAY_MESSAGES] = "messages",
	[RELAY_COUNT_TOKENS] = "messages",
};

struct file_walk {
	enum relay_format	 fmt;
	file_load_cb		 load;
	void			*arg;
	size_t			 max;
	size_t			 used;		/* bytes put in so far */
	int			 n;		/* parts inlined */
	struct err		*e;
};

static int
file_inline_part(struct file_walk *w, json_t *part, const struct file_ref *r,
    const char *ref)
{
	struct file_data	 fd;
	char			*id, *url = NULL;
	size_t			 need, pre;
	int			 rc = -1, found;

	memset(&fd, 0, sizeof fd);
	id = xstrdup(ref);
	if ((found = w->load(id, &fd, w->arg, w->e)) <= 0) {
		if (found == 0)
			err_set(w->e, ERR_NOT_FOUND, "no such file: %s", id);
		goto out;
	}
	pre = strlen("data:;base64,") + strlen(fd.mime);
	need = pre + sodium_base64_ENCODED_LEN(fd.len,
	    sodium_base64_VARIANT_ORIGINAL);
	if (need > w->max - w->used) {
		err_set(w->e, ERR_INVALID, "the files this request names "
		    "come to more than %zu bytes inline", w->max);
		goto out;
	}
	w->used += need;
	url = xmalloc(need);
	snprintf(url, need, "data:%s;base64,", fd.mime);
	sodium_bin2base64(url + pre, need - pre,
	    (const unsigned char *)fd.data, fd.len,
	    sodium_base64_VARIANT_ORIGINAL);
	r->put(part, &fd, url, url + pre);
	w->n++;
	rc = 0;
out:
	free(url);
	file_data_clear(&fd);
	free(id);
	return (rc);
}

static int
file_walk(struct file_walk *w, json_t *j, int depth)
{
	const struct file_ref	*r;
	const char		*type, *key, *id;
	json_t			*v;
	size_t			 i;

	if (depth > FILE_WALK_DEPTH)
		return (0);
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (file_walk(w, v, depth + 1) != 0)
				return (-1);
		return (0);
	}
	if (!json_is_object(j))
		return (0);
	if ((type = jx_str(j, "type")) != NULL) {
		for (i = 0; i < nitems(file_ref_table); i++) {
			r = &file_ref_table[i];
			if (r->fmt == w->fmt && strcmp(r->type, type) == 0 &&
			    (id = r->id(j)) != NULL)
				return (file_inline_part(w, j, r, id));
		}
	}
	json_object_foreach(j, key, v)
		if (file_walk(w, v, depth + 1) != 0)
			return (-1);
	return (0);
}

/*
 * Put the content of every file body names (Chat: a file part's
 * file.file_id; Responses: an input_file's or input_image's file_id;
 * Messages: a document's or image's source of type "file") in place,
 * inline, loaded through load(id, ..., arg): images as images, other
 * files as files or documents, in fmt's own shape. The content put in
 * may come to at most max bytes. The number of parts replaced, or -1
 * with e set: ERR_NOT_FOUND for an id the loader does not know,
 * ERR_INVALID past max, else the loader's error.
 */
int
file_inline(json_t *body, enum relay_format fmt, size_t max,
    file_load_cb load, void *arg, struct err *e)
{
	struct file_walk	w;

	if ((unsigned)fmt >= RELAY_FORMAT_COUNT || file_roots[fmt] == NULL)
		return (0);
	memset(&w, 0, sizeof w);
	w.fmt = fmt;
	w.load = load;
	w.arg = arg;
	w.max = max;
	w.e = e;
	if (file_walk(&w, json_object_get(body, file_roots[fmt]), 0) != 0)
		return (-1);
	return (w.n);
}

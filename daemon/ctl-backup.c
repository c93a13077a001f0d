/*
 * backup export / import. The key derivation from the passphrase takes a
 * good part of a second on purpose, so it runs on a thread of its own;
 * the database is read (export) and written (import) on the main thread.
 * The client sends an absolute path: the file is the daemon's to write
 * and read, as it runs as the same user.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "backup.h"
#include "daemon.h"
#include "jx.h"
#include "vault.h"
#include "xmalloc.h"

struct backup_job {
	char		*file;
	char		*pass;		/* secure memory, or NULL */
	int		 dry_run;
	json_t		*doc;		/* open, then sealed (export) */
	json_t		*warnings;
	const char	*format;
	size_t		 bytes;
	struct err	 err;
};

static void
backup_job_free(struct backup_job *j)
{
	free(j->file);
	vault_secret_free(j->pass);
	if (j->doc != NULL)
		backup_wipe(j->doc);
	json_decref(j->doc);
	json_decref(j->warnings);
	err_clear(&j->err);
	free(j);
}

/* Take the passphrase out of the request, wiping the request's copy. */
static struct backup_job *
backup_job_new(struct ctl_req *req, struct err *e)
{
	struct backup_job	*j;
	const char		*file = jx_str(req->args, "file");
	json_t			*p = json_object_get(req->args, "passphrase");

	if (file == NULL || file[0] != '/') {
		err_set(e, ERR_USAGE, "FILE must be an absolute path");
		return (NULL);
	}
	j = xcalloc(1, sizeof *j);
	j->file = xstrdup(file);
	j->dry_run = jx_bool(req->args, "dry_run");
	j->warnings = json_array();
	if (json_is_string(p)) {
		j->pass = vault_secret_dup(json_string_value(p));
		sodium_memzero((char *)json_string_value(p),
		    json_string_length(p));
	}
	return (j);
}

/* Write to a temporary file beside the target, then rename over it. */
static int
backup_write_file(const char *file, const char *text, struct err *e)
{
	char	*tmp, *dir, *d;
	size_t	 len = strlen(text), off = 0;
	ssize_t	 n;
	int	 fd, dfd;

	xasprintf(&tmp, "%s.XXXXXX", file);
	if ((fd = mkstemp(tmp)) == -1) {
		err_set(e, ERR_STORAGE, "cannot write %s: %s", file,
		    strerror(errno));
		free(tmp);
		return (-1);
	}
	fchmod(fd, 0600);
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	n = close(fd);
	fd = -1;
	if (n != 0)
		goto fail;
	if (rename(tmp, file) != 0)
		goto fail;
	free(tmp);
	d = xstrdup(file);
	dir = dirname(d);
	if ((dfd = open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	free(d);
	return (0);
fail:
	/* The file there before, if any, is left as it was. */
	err_set(e, ERR_STORAGE, "cannot write %s: %s; the file there, if "
	    "any, is unchanged", file, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return (-1);
}

static void
backup_export_work(void *arg)
{
	struct backup_job	*j = arg;
	char			*text;

	if (backup_seal(j->doc, j->pass, &j->err) != 0)
		return;
	text = json_dumps(j->doc, JSON_INDENT(1));
	j->bytes = strlen(text);
	backup_write_file(j->file, text, &j->err);
	free(text);
}

static enum ctl_ret
backup_export_done(void *arg, __unused int alive, json_t **reply, struct err *e)
{
	struct backup_job	*j = arg;
	json_t			*counts;
	const char		*k;
	json_t			*v;
	enum ctl_ret		 ret = CTL_ERROR;

	if (j->err.code != ERR_OK)
		err_set(e, j->err.code, "%s", j->err.msg);
	else {
		counts = json_object();
		json_object_foreach(j->doc, k, v)
			if (json_is_array(v))
				json_object_set_new(counts, k,
				    json_integer(json_array_size(v)));
			else if (strcmp(k, "settings") == 0)
				json_object_set_new(counts, k,
				    json_integer(json_object_size(v)));
		*reply = json_pack("{s:s, s:I, s:o}", "file", j->file, "bytes",
		    (json_int_t)j->bytes, "counts", counts);
		ret = CTL_DONE;
	}
	backup_job_free(j);
	return (ret);
}

enum ctl_ret
ctl_backup_export(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	struct backup_job	*j;

	if ((j = backup_job_new(req, e)) == NULL)
		return (CTL_ERROR);
	if (j->pass == NULL || strlen(j->pass) < BACKUP_PASS_MIN) {
		err_set(e, ERR_INVALID, "a passphrase of at least %d "
		    "characters is needed", BACKUP_PASS_MIN);
		backup_job_free(j);
		return (CTL_ERROR);
	}
	if ((j->doc = backup_collect(metapid->db, e)) == NULL) {
		backup_job_free(j);
		return (CTL_ERROR);
	}
	async_run(req, backup_export_work, backup_export_done, j);
	return (CTL_WAIT);
}

/* Read, recognise and open the file: everything but the database. */
static void
backup_import_work(void *arg)
{
	struct backup_job	*j = arg;
	json_error_t		 jerr;
	struct stat		 sb;
	json_t			*raw;
	FILE			*f;

	if ((f = fopen(j->file, "re")) == NULL || fstat(fileno(f), &sb) != 0) {
		err_set(&j->err, ERR_NOT_FOUND, "%s: %s", j->file,
		    strerror(errno));
		if (f != NULL)
			fclose(f);
		return;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > BACKUP_FILE_MAX) {
		err_set(&j->err, ERR_INVALID, "%s: not a regular file of at "
		    "most %d MiB", j->file, BACKUP_FILE_MAX / (1024 * 1024));
		fclose(f);
		return;
	}
	raw = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (raw == NULL) {
		err_set(&j->err, ERR_INVALID, "%s: not JSON (line %d: %s)",
		    j->file, jerr.line, jerr.text);
		return;
	}
	if ((j->format = backup_detect(raw)) == NULL) {
		err_set(&j->err, ERR_INVALID, "%s: not a metapi, metapi (Node) "
		    "or ALL-API-Hub backup", j->file);
		json_decref(raw);
		return;
	}
	if (strcmp(j->format, "metapi") != 0) {
		j->doc = backup_convert(raw, j->format, j->warnings, &j->err);
		json_decref(raw);
		return;
	}
	if (backup_is_sealed(raw)) {
		if (j->pass == NULL) {
			err_set(&j->err, ERR_INVALID, "%s is sealed: a "
			    "passphrase is needed", j->file);
			json_decref(raw);
			return;
		}
		if (backup_open(raw, j->pass, &j->err) != 0) {
			json_decref(raw);
			return;
		}
	}
	j->doc = raw;
}

static enum ctl_ret
backup_import_done(void *arg, int alive, json_t **reply, struct err *e)
{
	struct backup_job	*j = arg;
	json_t			*w;
	char			*cause;
	enum ctl_ret		 ret = CTL_ERROR;

	if (!alive)
		err_set(e, ERR_BUSY, "client went away; nothing imported");
	else if (j->err.code != ERR_OK)
		err_set(e, j->err.code, "%s", j->err.msg);
	else if ((*reply = backup_apply(metapid->db, j->doc, j->dry_run,
	    e)) != NULL) {
		/* The conversion's warnings first, then the import's. */
		w = json_object_get(*reply, "warnings");
		json_array_extend(j->warnings, w);
		json_object_set(*reply, "warnings", j->warnings);
		if (!j->dry_run && metapid_reload(&cause) != 0) {
			err_set(e, ERR_STORAGE, "%s", cause);
			free(cause);
			json_decref(*reply);
			*reply = NULL;
		} else
			ret = CTL_DONE;
	}
	backup_job_free(j);
	return (ret);
}

enum ctl_ret
ctl_backup_import(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	struct backup_job	*j;

	if ((j = backup_job_new(req, e)) == NULL)
		return (CTL_ERROR);
	async_run(req, backup_import_work, backup_import_done, j);
	return (CTL_WAIT);
}

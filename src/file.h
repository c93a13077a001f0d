/*
 * Files uploaded through /v1/files: the files table, their bytes under
 * DATA_DIR/files/, and inlining them into requests that name them.
 */
#ifndef FILE_H
#define FILE_H

#include <stddef.h>

#include <jansson.h>

#include "db.h"
#include "err.h"
#include "relay.h"

#define FILE_ID_MAX	40	/* "file-" and 24 letters and digits, NUL */
#define FILE_DIR	"files"	/* under the data dir */

struct file {
	char		 id[FILE_ID_MAX];
	long long	 key_id;	/* the downstream key that uploaded it */
	char		*filename;	/* as the client named it, cleaned */
	char		*purpose;
	long long	 bytes;
	char		*mime;
	long long	 created_at;
	long long	 expires_at;	/* 0: never */
};

/* One file's content, as a loader hands it to file_inline(). */
struct file_data {
	char		*mime;
	char		*filename;
	char		*data;
	size_t		 len;
};

/*
 * Load the file with this id for the request's key into the struct:
 * 1 found, 0 no such file (or another key's), -1 failed with e set.
 */
typedef int	(*file_load_cb)(const char *, struct file_data *, void *,
		    struct err *);

void		 file_clear(struct file *);
void		 file_data_clear(struct file_data *);
int		 file_id_ok(const char *);
char		*file_clean_name(const char *);
int		 file_purpose_ok(const char *);
void		 file_mime(const char *, const char *, char *, size_t);
json_t		*file_to_json(const struct file *);

int		 file_insert(struct db *, const struct file *, struct err *);
int		 file_get(struct db *, const char *, long long, long long,
		     struct file *, struct err *);
json_t		*file_list(struct db *, long long, long long, const char *,
		     const char *, long long, int, int *, struct err *);
int		 file_delete(struct db *, const char *, long long,
		     struct err *);
int		 file_prune(struct db *, const char *, long long, struct err *);

char		*file_path(const char *, const char *);
int		 file_store_open(const char *, const char *, char **,
		     struct err *);
int		 file_store_commit(const char *, const char *, const char *,
		     int, struct err *);
void		 file_store_abort(const char *, int);
int		 file_open(const char *, const char *, long long *,
		     struct err *);
int		 file_read(const char *, const char *, size_t, char **,
		     size_t *, struct err *);

int		 file_inline(json_t *, enum relay_format, size_t, file_load_cb,
		     void *, struct err *);

#endif

/*
 * Backups: one versioned JSON document with everything the user set up
 * (sites, accounts, tokens, discovered models, routes and channels,
 * downstream keys, notification channels, settings). Secrets inside are
 * sealed with a key derived from a passphrase, never written in plaintext.
 *
 * In memory a document is "open": its secrets are plain strings. Files of
 * other products (the Node metapi, ALL-API-Hub) are converted into an open
 * document first, so one importer serves every format.
 */
#ifndef BACKUP_H
#define BACKUP_H

#include <jansson.h>

#include "db.h"
#include "err.h"

#define BACKUP_FORMAT		"metapi-backup"
#define BACKUP_VERSION		1
#define BACKUP_PASS_MIN		8		/* bytes */
#define BACKUP_FILE_MAX		(64 * 1024 * 1024)

/* backup.c */
json_t	*backup_collect(struct db *, struct err *);
int	 backup_seal(json_t *, const char *, struct err *);
int	 backup_open(json_t *, const char *, struct err *);
int	 backup_is_sealed(const json_t *);
json_t	*backup_apply(struct db *, json_t *, int, struct err *);
void	 backup_wipe(json_t *);

/* backup-foreign.c: a file's format, and its conversion to an open doc. */
const char *backup_detect(const json_t *);
json_t	*backup_convert(const json_t *, const char *, json_t *,
	    struct err *);

#endif

/*
 * The PostgreSQL backend (./configure --with-postgresql): several daemons
 * share one database. The modules' SQL is written for both engines; what
 * is left of SQLite's dialect is translated here when a statement is
 * prepared (placeholders ? and ?N become $N, LIKE matches ASCII case as
 * SQLite's does, GLOB becomes a regular expression match) or emulated by
 * functions the PostgreSQL migrations create (json_each over a text
 * column, date(t, 'unixepoch', 'localtime'), randomblob).
 *
 * Parameters travel as text (integers and reals printed, bytea in binary)
 * with the type of their bind, so that the server infers the rest from
 * the SQL; results come back as text and are parsed per column read. A
 * statement runs when it is first stepped and holds its whole result.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "compat.h"
#include "db-backend.h"
#include "log.h"
#include "xmalloc.h"

/* Type OIDs from the server's catalog (pg_type.dat); stable. */
#define PG_BOOLOID	16
#define PG_BYTEAOID	17
#define PG_INT8OID	20
#define PG_INT2OID	21
#define PG_INT4OID	23
#define PG_TEXTOID	25
#define PG_OIDOID	26
#define PG_FLOAT4OID	700
#define PG_FLOAT8OID	701
#define PG_NUMERICOID	1700

/* The migrations' lock: one daemon migrates, the others wait for it. */
#define PG_MIGRATE_LOCK	"metapi migrate"

struct db_pg {
	PGconn		*conn;
	char		*errmsg;	/* the last failure */
	char		 sqlstate[6];
	long long	 changes;	/* rows the last command touched */
	long long	 last_id;	/* of the last INSERT ... RETURNING id */
	int		 have_last_id;
	json_t		*identity;	/* tables with an identity id */
	unsigned int	 gen;		/* connection: moves on reconnect */
	unsigned int	 nkept;		/* server-side statements made */
};

struct db_pg_param {
	char		 num[32];	/* an integer or real, printed */
	char		*heap;		/* text or bytea, owned */
};

struct db_pg_stmt {
	struct db_stmt		 base;
	char			*sql;		/* translated */
	int			 nparams;
	struct db_pg_param	*params;
	const char		**values;
	int			*lengths;
	int			*formats;
	Oid			*types;
	PGresult		*res;		/* NULL: not run since reset */
	int			 returns_id;	/* RETURNING id added here */
	int			 keep;		/* prepare it on the server */
	char			 name[32];	/* its name there, or "" */
	unsigned int		 gen;		/* the connection it was made on */
	int			 row;		/* current row of res */
	int			 nrows;
	int			 ncols;
	unsigned char		**blobs;	/* bytea columns, unescaped */
	size_t			*bloblens;
};

#define PG(db)	((struct db_pg *)(db)->h)
#define ST(s)	((struct db_pg_stmt *)(s))

static void
db_pg_set_error(struct db *db, const char *msg, const char *state)
{
	struct db_pg	*pg = PG(db);
	size_t		 n;

	free(pg->errmsg);
	pg->errmsg = xstrdup(msg != NULL ? msg : "unknown error");
	n = strlen(pg->errmsg);
	while (n > 0 && (pg->errmsg[n - 1] == '\n' || pg->errmsg[n - 1] ==
	    ' '))
		pg->errmsg[--n] = '\0';
	strlcpy(pg->sqlstate, state != NULL ? state : "", sizeof pg->sqlstate);
}

/* Whether a command tag ("UPDATE 3") is of a statement that writes rows. */
static int
db_pg_writes(const char *tag)
{
	static const char *const writes[] = { "INSERT ", "UPDATE ", "DELETE " };
	size_t			 i;

	for (i = 0; i < sizeof writes / sizeof writes[0]; i++)
		if (strncmp(tag, writes[i], strlen(writes[i])) == 0)
			return (1);
	return (0);
}

/* Keep a failed result's message; 0 when res is a success. */
static int
db_pg_check(struct db *db, PGresult *res)
{
	ExecStatusType	st = res != NULL ? PQresultStatus(res) :
			    PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		/* As SQLite counts: rows an INSERT, UPDATE or DELETE wrote. */
		if (db_pg_writes(PQcmdStatus(res)))
			PG(db)->changes = strtoll(PQcmdTuples(res), NULL, 10);
		return (0);
	}
	/* No result: db_pg_run() said why. */
	if (res != NULL)
		db_pg_set_error(db,
		    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) != NULL ?
		    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) :
		    PQresultErrorMessage(res),
		    PQresultErrorField(res, PG_DIAG_SQLSTATE));
	return (-1);
}

static int	db_pg_session(struct db *, char **);
static PGresult	*db_pg_run_kept(struct db *, struct db_pg_stmt *);

/*
 * Run sql (with parameters when n >= 0). A connection the server dropped
 * (a restart, a failover) is opened again, and the statement run again
 * if no transaction was open on it; inside one, the transaction is gone
 * and the caller hears so.
 */
static PGresult *
db_pg_run(struct db *db, const char *sql, int n, const Oid *types,
    const char *const *values, const int *lengths, const int *formats,
    struct db_pg_stmt *s)
{
	struct db_pg	*pg = PG(db);
	PGresult	*res;
	int		 idle, try;

	for (try = 0; try < 2; try++) {
		idle = PQtransactionStatus(pg->conn) == PQTRANS_IDLE;
		if (s != NULL && s->keep)
			res = db_pg_run_kept(db, s);
		else if (n < 0)
			res = PQexec(pg->conn, sql);
		else
			res = PQexecParams(pg->conn, sql, n, types, values,
			    lengths, formats, 0);
		if (PQstatus(pg->conn) != CONNECTION_BAD) {
			if (res == NULL)
				db_pg_set_error(db, PQerrorMessage(pg->conn),
				    NULL);
			return (res);
		}
		PQclear(res);
		log_warnx("database %s: connection lost, connecting again",
		    db->path);
		PQreset(pg->conn);
		pg->gen++;
		if (PQstatus(pg->conn) != CONNECTION_OK ||
		    db_pg_session(db, NULL) != 0)
			break;
		if (!idle) {
			db_pg_set_error(db, "the connection to the database "
			    "was lost: the transaction did not happen", "08006");
			return (NULL);
		}
	}
	db_pg_set_error(db, PQerrorMessage(pg->conn), "08006");
	return (NULL);
}

static int
db_pg_exec(struct db *db, const char *sql, char **cause)
{
	PGresult	*res;
	int		 rc;

	res = db_pg_run(db, sql, -1, NULL, NULL, NULL, NULL, NULL);
	rc = db_pg_check(db, res);
	PQclear(res);
	if (rc != 0 && cause != NULL)
		*cause = xstrdup(PG(db)->errmsg);
	return (rc);
}

/* The first column of the first row of sql, owned; NULL on error. */
static char *
db_pg_value(struct db *db, const char *sql, char **cause)
{
	PGresult	*res;
	char		*v = NULL;

	res = db_pg_run(db, sql, -1, NULL, NULL, NULL, NULL, NULL);
	if (db_pg_check(db, res) == 0)
		v = xstrdup(PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ?
		    PQgetvalue(res, 0, 0) : "");
	else if (cause != NULL)
		*cause = xstrdup(PG(db)->errmsg);
	PQclear(res);
	return (v);
}

/* Server notices (a NOTICE from IF NOT EXISTS) go to the debug log. */
static void
db_pg_notice(__unused void *arg, const char *msg)
{
	log_debug("postgresql: %.*s", (int)strcspn(msg, "\n"), msg);
}

/*
 * The name of this process's time zone: $TZ, else the zoneinfo file
 * /etc/localtime links to; NULL when neither says.
 */
static char *
db_pg_zone(void)
{
	const char	*tz = getenv("TZ"), *p;
	char		 link[PATH_MAX];
	ssize_t		 n;

	if (tz != NULL && *tz == ':')
		tz++;
	if (tz != NULL && *tz != '\0')
		return (xstrdup(tz));
	if ((n = readlink("/etc/localtime", link, sizeof link - 1)) <= 0)
		return (NULL);
	link[n] = '\0';
	if ((p = strstr(link, "zoneinfo/")) == NULL)
		return (NULL);
	return (xstrdup(p + strlen("zoneinfo/")));
}

/*
 * Set a new session up: quiet notices; a commit that does not wait for
 * the server's disk (what SQLite's synchronous=NORMAL in WAL mode gives:
 * a crash of the server, not of the daemon, may lose the last fraction
 * of a second; nothing is ever corrupted); and the local time zone of
 * this process (SQLite's 'localtime'), so that days are counted where
 * the daemon is rather than where the server is.
 */
static int
db_pg_session(struct db *db, char **cause)
{
	struct db_pg	*pg = PG(db);
	char		*zone, *sql, *lit;

	PQsetNoticeProcessor(pg->conn, db_pg_notice, NULL);
	if (db_pg_exec(db, "SET client_min_messages = warning", cause) != 0 ||
	    db_pg_exec(db, "SET synchronous_commit = off", cause) != 0)
		return (-1);
	if ((zone = db_pg_zone()) == NULL)
		return (0);
	if ((lit = PQescapeLiteral(pg->conn, zone, strlen(zone))) != NULL) {
		xasprintf(&sql, "SET TIME ZONE %s", lit);
		PQfreemem(lit);
		if (db_pg_exec(db, sql, NULL) != 0)
			log_warnx("database %s: time zone %s: %s", db->path,
			    zone, pg->errmsg);
		free(sql);
	}
	free(zone);
	return (0);
}

static int
db_pg_open(struct db *db, const char *url, char **cause)
{
	struct db_pg	*pg;

	pg = xcalloc(1, sizeof *pg);
	db->h = pg;
	pg->conn = PQconnectdb(url);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		xasprintf(cause, "cannot connect to %s: %.*s", db->path,
		    (int)strcspn(PQerrorMessage(pg->conn), "\n"),
		    PQerrorMessage(pg->conn));
		return (-1);
	}
	return (db_pg_session(db, cause));
}

static void
db_pg_close(struct db *db)
{
	struct db_pg	*pg = PG(db);

	if (pg == NULL)
		return;
	if (pg->conn != NULL)
		PQfinish(pg->conn);
	free(pg->errmsg);
	json_decref(pg->identity);
	free(pg);
}

static const char *
db_pg_errmsg(struct db *db)
{
	return (PG(db)->errmsg != NULL ? PG(db)->errmsg : "not an error");
}

static char *
db_pg_version(struct db *db, char **cause)
{
	char	*v, *s;

	if ((v = db_pg_value(db, "SHOW server_version", cause)) == NULL)
		return (NULL);
	xasprintf(&s, "PostgreSQL %s", v);
	free(v);
	return (s);
}

/*
 * The id the last INSERT drew from its table's identity sequence: the
 * one its RETURNING id gave back (see db_pg_prepare()), else lastval().
 */
static long long
db_pg_last_id(struct db *db)
{
	PGresult	*res;
	long long	 id = 0;

	if (PG(db)->have_last_id)
		return (PG(db)->last_id);
	res = db_pg_run(db, "SELECT lastval()", -1, NULL, NULL, NULL, NULL,
	    NULL);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return (id);
}

/*
 * n values from table's identity sequence, in one round trip. Other
 * daemons draw from it too, so they need not follow each other.
 */
static int
db_pg_next_ids(struct db *db, const char *table, size_t n, long long *ids,
    struct err *e)
{
	PGresult	*res;
	char		*lit, *sql;
	size_t		 i;

	if ((lit = PQescapeLiteral(PG(db)->conn, table, strlen(table))) ==
	    NULL) {
		err_set(e, ERR_STORAGE, "%s", PQerrorMessage(PG(db)->conn));
		return (-1);
	}
	xasprintf(&sql, "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
	    "FROM generate_series(1, %zu) ORDER BY 1", lit, n);
	PQfreemem(lit);
	res = db_pg_run(db, sql, -1, NULL, NULL, NULL, NULL, NULL);
	free(sql);
	if (db_pg_check(db, res) != 0 || (size_t)PQntuples(res) != n) {
		err_set(e, ERR_STORAGE, "%s: %s", table, PG(db)->errmsg);
		PQclear(res);
		return (-1);
	}
	for (i = 0; i < n; i++)
		ids[i] = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
	PQclear(res);
	return (0);
}

static long long
db_pg_changes(struct db *db)
{
	return (PG(db)->changes);
}

static int
db_pg_in_tx(struct db *db)
{
	return (PQtransactionStatus(PG(db)->conn) != PQTRANS_IDLE);
}

static int
db_pg_readonly(struct db *db)
{
	char	*v;
	int	 ro;

	if ((v = db_pg_value(db, "SHOW transaction_read_only", NULL)) == NULL)
		return (0);
	ro = strcmp(v, "on") == 0;
	free(v);
	return (ro);
}

/* Class 22 (data exception) and 23 (integrity constraint violation). */
static int
db_pg_error_is_data(struct db *db)
{
	const char	*s = PG(db)->sqlstate;

	return (strncmp(s, "22", 2) == 0 || strncmp(s, "23", 2) == 0);
}

/*
 * The schema version lives in a table of its own, made by the first
 * migration's transaction; no table means a fresh database.
 */
static int
db_pg_user_version(struct db *db, int *out, char **cause)
{
	char		*v;
	const char	*errstr;

	v = db_pg_value(db, "SELECT to_regclass('metapi_schema') IS NOT NULL",
	    cause);
	if (v == NULL)
		return (-1);
	if (strcmp(v, "t") != 0) {
		free(v);
		*out = 0;
		return (0);
	}
	free(v);
	if ((v = db_pg_value(db, "SELECT COALESCE(MAX(version), 0) FROM "
	    "metapi_schema", cause)) == NULL)
		return (-1);
	*out = (int)strtonum(v, 0, INT32_MAX, &errstr);
	free(v);
	if (errstr != NULL) {
		if (cause != NULL)
			xasprintf(cause, "schema version is %s", errstr);
		return (-1);
	}
	return (0);
}

static int
db_pg_set_user_version(struct db *db, int version, char **cause)
{
	char	*sql;
	int	 rc;

	xasprintf(&sql, "CREATE TABLE IF NOT EXISTS metapi_schema (version "
	    "INTEGER NOT NULL); DELETE FROM metapi_schema; INSERT INTO "
	    "metapi_schema (version) VALUES (%d)", version);
	rc = db_pg_exec(db, sql, cause);
	free(sql);
	return (rc);
}

/* The advisory lock key of a name: 64 bits of FNV-1a. */
static long long
db_pg_lock_key(const char *name)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return ((long long)h);
}

static int
db_pg_lock(struct db *db, const char *name, int wait, char **cause)
{
	char	*sql, *v;
	int	 got;

	/* pg_advisory_lock() returns void: select true once it returned. */
	if (wait)
		xasprintf(&sql, "SELECT true FROM (SELECT pg_advisory_lock(%lld))"
		    " l", db_pg_lock_key(name));
	else
		xasprintf(&sql, "SELECT pg_try_advisory_lock(%lld)",
		    db_pg_lock_key(name));
	v = db_pg_value(db, sql, cause);
	free(sql);
	if (v == NULL)
		return (-1);
	got = strcmp(v, "t") == 0;
	free(v);
	return (got);
}

static void
db_pg_unlock(struct db *db, const char *name)
{
	char	*sql;

	xasprintf(&sql, "SELECT pg_advisory_unlock(%lld)",
	    db_pg_lock_key(name));
	free(db_pg_value(db, sql, NULL));
	free(sql);
}

/*
 * After rows were copied in with their ids: the table's identity
 * sequence goes on after the largest.
 */
static int
db_pg_reset_ids(struct db *db, const char *table, struct err *e)
{
	char	*lit, *sql, *v;
	int	 identity;

	if ((lit = PQescapeLiteral(PG(db)->conn, table, strlen(table))) ==
	    NULL) {
		err_set(e, ERR_STORAGE, "%s", PQerrorMessage(PG(db)->conn));
		return (-1);
	}
	xasprintf(&sql, "SELECT COUNT(*) FROM information_schema.columns "
	    "WHERE table_schema = current_schema() AND table_name = %s AND "
	    "column_name = 'id' AND is_identity = 'YES'", lit);
	v = db_pg_value(db, sql, NULL);
	free(sql);
	identity = v != NULL && strcmp(v, "1") == 0;
	if (v != NULL && identity) {
		free(v);
		xasprintf(&sql, "SELECT setval(pg_get_serial_sequence(%s, "
		    "'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM %s), false)",
		    lit, table);
		v = db_pg_value(db, sql, NULL);
		free(sql);
	}
	PQfreemem(lit);
	if (v == NULL) {
		err_set(e, ERR_STORAGE, "%s: %s", table, PG(db)->errmsg);
		return (-1);
	}
	free(v);
	return (0);
}

/* --- Statements ------------------------------------------------------ */

/* SQL keyword at s (case-insensitive, whole word). */
static int
db_pg_word(const char *sql, const char *s, const char *word)
{
	size_t	n = strlen(word);

	if (s > sql && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
		return (0);
	if (strncasecmp(s, word, n) != 0)
		return (0);
	return (!isalnum((unsigned char)s[n]) && s[n] != '_');
}

/*
 * SQLite's SQL as PostgreSQL's: ? and ?N placeholders as $N (a bare ?
 * takes the next number after the largest so far, as in SQLite), LIKE as
 * ILIKE (SQLite's LIKE ignores ASCII case), and "x GLOB ?N" as
 * "x ~ glob_regex($N)". Quoted strings, identifiers and comments are
 * copied as they are. *nparams gets the largest placeholder number.
 */
static char *
db_pg_translate(const char *sql, int *nparams)
{
	const char	*p = sql, *q;
	char		*out, *o;
	char		 quote;
	long		 n;
	size_t		 size;
	int		 max = 0, glob = 0;

	/* LIKE grows by one, a ? at most to "glob_regex($2147483647)". */
	for (q = sql, size = 1; *q != '\0'; q++)
		size += *q == '?' ? 24 : 2;
	out = xcalloc(size, 1);
	o = out;
	while (*p != '\0') {
		if (*p == '\'' || *p == '"') {
			quote = *p;
			*o++ = *p++;
			while (*p != '\0') {
				if (*p == quote && p[1] == quote) {
					*o++ = *p++;
					*o++ = *p++;
					continue;
				}
				if (*p == quote)
					break;
				*o++ = *p++;
			}
			if (*p != '\0')
				*o++ = *p++;
			continue;
		}
		if (p[0] == '-' && p[1] == '-') {
			q = p + strcspn(p, "\n");
			memcpy(o, p, q - p);
			o += q - p;
			p = q;
			continue;
		}
		if (*p == '?') {
			p++;
			if (isdigit((unsigned char)*p)) {
				n = strtol(p, (char **)&q, 10);
				p = q;
			} else
				n = max + 1;
			if (n > max)
				max = (int)n;
			o += snprintf(o, size - (o - out), glob ?
			    "glob_regex($%ld)" : "$%ld", n);
			glob = 0;
			continue;
		}
		if (db_pg_word(sql, p, "LIKE")) {
			memcpy(o, "ILIKE", 5);
			o += 5;
			p += 4;
			continue;
		}
		if (db_pg_word(sql, p, "GLOB")) {
			*o++ = '~';
			p += 4;
			glob = 1;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	*nparams = max;
	return (out);
}

/* Whether table has an identity column id (the tables' list read once). */
static int
db_pg_identity(struct db *db, const char *table, size_t len)
{
	struct db_pg	*pg = PG(db);
	PGresult	*res;
	json_t		*v;
	size_t		 i;
	int		 r;

	if (pg->identity == NULL) {
		res = db_pg_run(db, "SELECT table_name FROM "
		    "information_schema.columns WHERE table_schema = "
		    "current_schema() AND column_name = 'id' AND is_identity = "
		    "'YES'", -1, NULL, NULL, NULL, NULL, NULL);
		if (db_pg_check(db, res) != 0) {
			PQclear(res);
			return (0);
		}
		pg->identity = json_array();
		for (r = 0; r < PQntuples(res); r++)
			json_array_append_new(pg->identity,
			    json_string(PQgetvalue(res, r, 0)));
		PQclear(res);
	}
	json_array_foreach(pg->identity, i, v)
		if (json_string_length(v) == len &&
		    strncmp(json_string_value(v), table, len) == 0)
			return (1);
	return (0);
}

/*
 * An INSERT INTO a table with an identity id, and no RETURNING of its
 * own, gets "RETURNING id": its id comes back with it, sparing the round
 * trip of lastval() (SQLite has it for free). db_pg_step() takes the row
 * and says DONE, as for any INSERT.
 */
static char *
db_pg_returning(struct db *db, char *sql, int *returns)
{
	const char	*p = sql, *t;
	char		*out;
	size_t		 len;

	*returns = 0;
	p += strspn(p, " \t\n");
	if (!db_pg_word(sql, p, "INSERT"))
		return (sql);
	p += strlen("INSERT");
	p += strspn(p, " \t\n");
	if (!db_pg_word(sql, p, "INTO"))
		return (sql);
	p += strlen("INTO");
	p += strspn(p, " \t\n");
	t = p;
	len = strspn(t, "abcdefghijklmnopqrstuvwxyz_0123456789");
	if (len == 0 || strcasestr(sql, "RETURNING") != NULL ||
	    !db_pg_identity(db, t, len))
		return (sql);
	xasprintf(&out, "%s RETURNING id", sql);
	free(sql);
	*returns = 1;
	return (out);
}

static struct db_stmt *
db_pg_prepare(struct db *db, const char *sql, __unused char **cause)
{
	struct db_pg_stmt	*s;
	int			 n;

	s = xcalloc(1, sizeof *s);
	s->base.ops = db->ops;
	s->base.db = db;
	s->sql = db_pg_returning(db, db_pg_translate(sql, &n),
	    &s->returns_id);
	s->nparams = n;
	if (n > 0) {
		s->params = xcalloc(n, sizeof *s->params);
		s->values = xcalloc(n, sizeof *s->values);
		s->lengths = xcalloc(n, sizeof *s->lengths);
		s->formats = xcalloc(n, sizeof *s->formats);
		s->types = xcalloc(n, sizeof *s->types);
	}
	s->row = -1;
	return (&s->base);
}

static void
db_pg_free_blobs(struct db_pg_stmt *s)
{
	int	i;

	if (s->blobs == NULL)
		return;
	for (i = 0; i < s->ncols; i++)
		if (s->blobs[i] != NULL)
			PQfreemem(s->blobs[i]);
	free(s->blobs);
	free(s->bloblens);
	s->blobs = NULL;
	s->bloblens = NULL;
}

static void
db_pg_reset(struct db_stmt *st)
{
	struct db_pg_stmt	*s = ST(st);

	db_pg_free_blobs(s);
	PQclear(s->res);
	s->res = NULL;
	s->row = -1;
	s->nrows = 0;
	s->ncols = 0;
}

static int
db_pg_step(struct db_stmt *st)
{
	struct db_pg_stmt	*s = ST(st);
	struct db		*db = st->db;

	/* Stepping a finished statement runs it again, as in SQLite. */
	if (s->res != NULL && s->row >= s->nrows)
		db_pg_reset(st);
	if (s->res == NULL) {
		s->res = db_pg_run(db, s->sql, s->nparams, s->types,
		    s->values, s->lengths, s->formats, s);
		if (db_pg_check(db, s->res) != 0) {
			PQclear(s->res);
			s->res = NULL;
			return (DB_ERROR);
		}
		s->nrows = PQresultStatus(s->res) == PGRES_TUPLES_OK ?
		    PQntuples(s->res) : 0;
		s->ncols = PQnfields(s->res);
		s->row = -1;
		if (s->returns_id) {
			if (s->nrows > 0) {
				PG(db)->last_id = strtoll(PQgetvalue(s->res,
				    s->nrows - 1, 0), NULL, 10);
				PG(db)->have_last_id = 1;
			}
			s->nrows = 0;
		}
	}
	db_pg_free_blobs(s);
	if (++s->row >= s->nrows)
		return (DB_DONE);
	return (DB_ROW);
}

/*
 * A statement run again and again (db_cached()) is prepared on the server
 * once per connection, with the types of its first run's parameters, and
 * then only executed: no parse and plan per run. A failed preparation is
 * the run's failure, tried again next time.
 */
static PGresult *
db_pg_run_kept(struct db *db, struct db_pg_stmt *s)
{
	struct db_pg	*pg = PG(db);
	PGresult	*res;

	if (s->name[0] == '\0' || s->gen != pg->gen) {
		snprintf(s->name, sizeof s->name, "metapi_%u", pg->nkept++);
		res = PQprepare(pg->conn, s->name, s->sql, s->nparams,
		    s->types);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			s->name[0] = '\0';
			return (res);
		}
		PQclear(res);
		s->gen = pg->gen;
	}
	return (PQexecPrepared(pg->conn, s->name, s->nparams, s->values,
	    s->lengths, s->formats, 0));
}

/* db_cached(): this statement runs many times; prepare it on the server. */
static void
db_pg_keep(struct db_stmt *st)
{
	ST(st)->keep = 1;
}

static void
db_pg_clear_param(struct db_pg_stmt *s, int i)
{
	free(s->params[i].heap);
	s->params[i].heap = NULL;
	s->values[i] = NULL;
	s->lengths[i] = 0;
	s->formats[i] = 0;
	s->types[i] = 0;
}

static void
db_pg_clear(struct db_stmt *st)
{
	struct db_pg_stmt	*s = ST(st);
	int			 i;

	for (i = 0; i < s->nparams; i++)
		db_pg_clear_param(s, i);
}

static int
db_pg_finalize(struct db_stmt *st)
{
	struct db_pg_stmt	*s = ST(st);

	db_pg_reset(st);
	db_pg_clear(st);
	free(s->params);
	free(s->values);
	free(s->lengths);
	free(s->formats);
	free(s->types);
	free(s->sql);
	free(s);
	return (0);
}

/* Parameter i (1-based), cleared; NULL when the SQL has no such one. */
static struct db_pg_param *
db_pg_param(struct db_stmt *st, int i)
{
	struct db_pg_stmt	*s = ST(st);

	if (i < 1 || i > s->nparams)
		return (NULL);
	db_pg_clear_param(s, i - 1);
	return (&s->params[i - 1]);
}

/*
 * A NULL keeps the type of the bind that gave it (db_bind_text(NULL) is a
 * text NULL), for SQL such as "? IS NULL OR x = ?" where nothing else
 * says what the parameter is.
 */
static const Oid db_pg_null_types[] = {
	[DB_NULL] = 0,
	[DB_INTEGER] = PG_INT8OID,
	[DB_FLOAT] = PG_FLOAT8OID,
	[DB_TEXT] = PG_TEXTOID,
	[DB_BLOB] = PG_BYTEAOID
};

static void
db_pg_bind_null(struct db_stmt *st, int i, enum db_type type)
{
	if (db_pg_param(st, i) != NULL)
		ST(st)->types[i - 1] = db_pg_null_types[type];
}

static void
db_pg_bind_int64(struct db_stmt *st, int i, long long v)
{
	struct db_pg_param	*p;

	if ((p = db_pg_param(st, i)) == NULL)
		return;
	snprintf(p->num, sizeof p->num, "%lld", v);
	ST(st)->values[i - 1] = p->num;
	ST(st)->types[i - 1] = PG_INT8OID;
}

static void
db_pg_bind_double(struct db_stmt *st, int i, double v)
{
	struct db_pg_param	*p;

	if ((p = db_pg_param(st, i)) == NULL)
		return;
	snprintf(p->num, sizeof p->num, "%.17g", v);
	ST(st)->values[i - 1] = p->num;
	ST(st)->types[i - 1] = PG_FLOAT8OID;
}

static void
db_pg_bind_text(struct db_stmt *st, int i, const char *v)
{
	struct db_pg_param	*p;

	if ((p = db_pg_param(st, i)) == NULL)
		return;
	p->heap = xstrdup(v);
	ST(st)->values[i - 1] = p->heap;
	ST(st)->types[i - 1] = PG_TEXTOID;
}

static void
db_pg_bind_blob(struct db_stmt *st, int i, const void *v, size_t len)
{
	struct db_pg_param	*p;

	if ((p = db_pg_param(st, i)) == NULL)
		return;
	p->heap = xmalloc(len > 0 ? len : 1);
	memcpy(p->heap, v, len);
	ST(st)->values[i - 1] = p->heap;
	ST(st)->lengths[i - 1] = (int)len;
	ST(st)->formats[i - 1] = 1;
	ST(st)->types[i - 1] = PG_BYTEAOID;
}

/* Whether column i of the current row exists and is not NULL. */
static int
db_pg_has(struct db_pg_stmt *s, int i)
{
	return (s->res != NULL && s->row >= 0 && s->row < s->nrows &&
	    i >= 0 && i < s->ncols && !PQgetisnull(s->res, s->row, i));
}

/* Result types by OID; any other is text. */
static const struct {
	Oid		 oid;
	enum db_type	 type;
} db_pg_types[] = {
	{ PG_BOOLOID, DB_INTEGER },
	{ PG_INT2OID, DB_INTEGER },
	{ PG_INT4OID, DB_INTEGER },
	{ PG_INT8OID, DB_INTEGER },
	{ PG_OIDOID, DB_INTEGER },
	{ PG_FLOAT4OID, DB_FLOAT },
	{ PG_FLOAT8OID, DB_FLOAT },
	{ PG_NUMERICOID, DB_FLOAT },
	{ PG_BYTEAOID, DB_BLOB }
};

static enum db_type
db_pg_col_type(struct db_stmt *st, int i)
{
	struct db_pg_stmt	*s = ST(st);
	Oid			 oid;
	size_t			 j;

	if (!db_pg_has(s, i))
		return (DB_NULL);
	oid = PQftype(s->res, i);
	for (j = 0; j < sizeof db_pg_types / sizeof db_pg_types[0]; j++)
		if (db_pg_types[j].oid == oid)
			return (db_pg_types[j].type);
	return (DB_TEXT);
}

/* Integers as SQLite reads them: a boolean is 1 or 0, a real truncated. */
static long long
db_pg_col_int64(struct db_stmt *st, int i)
{
	struct db_pg_stmt	*s = ST(st);
	const char		*v;

	if (!db_pg_has(s, i))
		return (0);
	v = PQgetvalue(s->res, s->row, i);
	if (PQftype(s->res, i) == PG_BOOLOID)
		return (*v == 't');
	if (strpbrk(v, ".eE") != NULL)
		return ((long long)strtod(v, NULL));
	return (strtoll(v, NULL, 10));
}

static double
db_pg_col_double(struct db_stmt *st, int i)
{
	struct db_pg_stmt	*s = ST(st);
	const char		*v;

	if (!db_pg_has(s, i))
		return (0);
	v = PQgetvalue(s->res, s->row, i);
	if (PQftype(s->res, i) == PG_BOOLOID)
		return (*v == 't');
	return (strtod(v, NULL));
}

static const char *
db_pg_col_text(struct db_stmt *st, int i)
{
	struct db_pg_stmt	*s = ST(st);

	if (!db_pg_has(s, i))
		return (NULL);
	if (PQftype(s->res, i) == PG_BOOLOID)
		return (*PQgetvalue(s->res, s->row, i) == 't' ? "1" : "0");
	return (PQgetvalue(s->res, s->row, i));
}

/* A bytea column's bytes, unescaped once per row. */
static const unsigned char *
db_pg_bytea(struct db_pg_stmt *s, int i, size_t *len)
{
	if (s->blobs == NULL) {
		s->blobs = xcalloc(s->ncols, sizeof *s->blobs);
		s->bloblens = xcalloc(s->ncols, sizeof *s->bloblens);
	}
	if (s->blobs[i] == NULL)
		s->blobs[i] = PQunescapeBytea((const unsigned char *)
		    PQgetvalue(s->res, s->row, i), &s->bloblens[i]);
	*len = s->bloblens[i];
	return (s->blobs[i]);
}

static const void *
db_pg_col_blob(struct db_stmt *st, int i)
{
	struct db_pg_stmt	*s = ST(st);
	size_t			 len;

	if (!db_pg_has(s, i))
		return (NULL);
	if (PQftype(s->res, i) == PG_BYTEAOID)
		return (db_pg_bytea(s, i, &len));
	return (PQgetvalue(s->res, s->row, i));
}

static size_t
db_pg_col_bytes(struct db_stmt *st, int i)
{
	struct db_pg_stmt	*s = ST(st);
	size_t			 len;

	if (!db_pg_has(s, i))
		return (0);
	if (PQftype(s->res, i) == PG_BYTEAOID) {
		db_pg_bytea(s, i, &len);
		return (len);
	}
	return ((size_t)PQgetlength(s->res, s->row, i));
}

const struct db_ops db_pg_ops = {
	.name = "postgresql",
	.dialect = DB_POSTGRESQL,
	.shared = 1,
	.open = db_pg_open,
	.close = db_pg_close,
	.exec = db_pg_exec,
	.errmsg = db_pg_errmsg,
	.version = db_pg_version,
	.last_id = db_pg_last_id,
	.next_ids = db_pg_next_ids,
	.changes = db_pg_changes,
	.in_tx = db_pg_in_tx,
	.readonly = db_pg_readonly,
	.error_is_data = db_pg_error_is_data,
	.begin_sql = "BEGIN",
	.begin_read_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	.user_version = db_pg_user_version,
	.set_user_version = db_pg_set_user_version,
	.lock = db_pg_lock,
	.unlock = db_pg_unlock,
	.migrate_lock = PG_MIGRATE_LOCK,
	.reset_ids = db_pg_reset_ids,
	.prepare = db_pg_prepare,
	.step = db_pg_step,
	.reset = db_pg_reset,
	.clear = db_pg_clear,
	.finalize = db_pg_finalize,
	.keep = db_pg_keep,
	.bind_null = db_pg_bind_null,
	.bind_int64 = db_pg_bind_int64,
	.bind_double = db_pg_bind_double,
	.bind_text = db_pg_bind_text,
	.bind_blob = db_pg_bind_blob,
	.col_type = db_pg_col_type,
	.col_int64 = db_pg_col_int64,
	.col_double = db_pg_col_double,
	.col_text = db_pg_col_text,
	.col_blob = db_pg_col_blob,
	.col_bytes = db_pg_col_bytes
};

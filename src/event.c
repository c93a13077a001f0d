/*
 * Events: every notable happening (check-in failures, accounts turning
 * unhealthy, alerts sent, merged or lost, tests) with its type, level,
 * title, message and time. This module alone owns the events table; it
 * sends nothing (daemon/notify-event.c decides what to alert on). Rows
 * older than event_retention_days go through event_prune().
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "db.h"
#include "err.h"
#include "event.h"
#include "jx.h"

/* The levels the table's CHECK allows. */
int
event_level_ok(const char *level)
{
	return (level != NULL && (strcmp(level, "info") == 0 ||
	    strcmp(level, "warning") == 0 || strcmp(level, "error") == 0));
}

/* Store one event; its id, or -1. related_type NULL: about nothing. */
long long
event_add(struct db *db, const char *type, const char *level,
    const char *title, const char *message, const char *related_type,
    long long related_id, struct err *e)
{
	struct db_stmt	*st;

	if (!event_level_ok(level)) {
		err_set(e, ERR_INVALID, "event level must be info, warning or "
		    "error");
		return (-1);
	}
	st = db_prepare_err(db, "INSERT INTO events (time, type, level, title, "
	    "message, related_type, related_id) VALUES (?, ?, ?, "
	    "substr(?, 1, 4096), substr(?, 1, 4096), ?, ?)", e);
	if (st != NULL) {
		db_bind_int64(st, 1, (long long)time(NULL));
		db_bind_text(st, 2, type);
		db_bind_text(st, 3, level);
		db_bind_text(st, 4, title);
		db_bind_text(st, 5, message);
		db_bind_text(st, 6, related_type);
		db_bind_int(st, 7, related_id, related_type != NULL);
	}
	if (db_step_done(db, st, e) != 0)
		return (-1);
	return (db_last_id(db));
}

static json_t *
event_row_json(struct db_stmt *st)
{
	json_t	*o = json_object();

	json_object_set_new(o, "id", json_integer(db_col_int64(st, 0)));
	json_object_set_new(o, "time", jx_time(db_col_int64(st, 1)));
	jx_set_str(o, "type", db_col_text(st, 2));
	jx_set_str(o, "level", db_col_text(st, 3));
	jx_set_str(o, "title", db_col_text(st, 4));
	jx_set_str_or_null(o, "message", db_col_text(st, 5));
	jx_set_str_or_null(o, "related_type", db_col_text(st, 6));
	json_object_set_new(o, "related_id", jx_opt_int(
	    db_col_type(st, 7) != DB_NULL,
	    db_col_int64(st, 7)));
	json_object_set_new(o, "read", json_boolean(db_col_int(st,
	    8)));
	return (o);
}

/*
 * The newest limit events older than id before (0: from the newest), as
 * {"items", "next"}: next is the id to pass as before for the next page,
 * or null at the end.
 */
json_t *
event_list(struct db *db, long long limit, long long before, struct err *e)
{
	struct db_stmt	*st;
	json_t		*items, *o;
	size_t		 n;

	st = db_prepare_err(db, "SELECT id, time, type, level, title, message, "
	    "related_type, related_id, is_read FROM events WHERE id < ? "
	    "ORDER BY id DESC LIMIT ?", e);
	if (st != NULL) {
		db_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
		db_bind_int64(st, 2, limit + 1);
	}
	if ((items = db_rows(db, st, event_row_json, e)) == NULL)
		return (NULL);
	n = json_array_size(items);
	o = jx_items(items);
	if (n > (size_t)limit) {
		json_array_remove(items, n - 1);
		json_object_set_new(o, "next", json_integer(json_integer_value(
		    json_object_get(json_array_get(items, n - 2), "id"))));
	}
	return (o);
}

/* Delete events from before time before; how many, or -1. */
int
event_prune(struct db *db, long long before, struct err *e)
{
	struct db_stmt	*st;

	st = db_prepare_err(db, "DELETE FROM events WHERE time < ?", e);
	if (st != NULL)
		db_bind_int64(st, 1, before);
	if (db_step_done(db, st, e) != 0)
		return (-1);
	return (db_changes(db));
}

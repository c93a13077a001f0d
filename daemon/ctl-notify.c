/*
 * notify.* commands: add, list, enable, disable and remove notification
 * channels (src/notify.c), send a test through one or all of them and
 * wait for the outcome, and send an alert of one's own through the alert
 * path (cooldown included). Sending is notify-event.c's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon.h"
#include "err.h"
#include "event.h"
#include "jx.h"
#include "notify.h"

static enum ctl_ret
ctl_notify_done(json_t **reply, json_t *o)
{
	*reply = o;
	return (o != NULL ? CTL_DONE : CTL_ERROR);
}

static long long
ctl_notify_id(struct ctl_req *req)
{
	long long	id = 0;

	jx_int(req->args, "id", &id);
	return (id);
}

enum ctl_ret
ctl_notify_add(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_notify_done(reply, notify_add(metapid->db, req->args, e)));
}

enum ctl_ret
ctl_notify_list(__unused struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_notify_done(reply, notify_list(metapid->db, e)));
}

enum ctl_ret
ctl_notify_rm(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	id = ctl_notify_id(req);

	if (notify_rm(metapid->db, id, e) != 0)
		return (CTL_ERROR);
	*reply = json_pack("{s:I, s:b}", "id", (json_int_t)id, "removed", 1);
	return (CTL_DONE);
}

enum ctl_ret
ctl_notify_enable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_notify_done(reply, notify_set_enabled(metapid->db,
	    ctl_notify_id(req), 1, e)));
}

enum ctl_ret
ctl_notify_disable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_notify_done(reply, notify_set_enabled(metapid->db,
	    ctl_notify_id(req), 0, e)));
}

/* One channel (enabled or not), or every enabled one. */
enum ctl_ret
ctl_notify_test(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	long long	 id, *ids;
	size_t		 n;
	json_t		*o;
	enum ctl_ret	 ret;

	if (jx_int(req->args, "id", &id) == 0) {
		if ((o = notify_get(metapid->db, id, e)) == NULL)
			return (CTL_ERROR);
		json_decref(o);
		return (notify_event_test(req, &id, 1, e));
	}
	if (notify_ids(metapid->db, 1, &ids, &n, e) != 0)
		return (CTL_ERROR);
	if (n == 0) {
		free(ids);
		err_set(e, ERR_NOT_FOUND, "no enabled notification channel; "
		    "add one with `metapi notify add`");
		return (CTL_ERROR);
	}
	ret = notify_event_test(req, ids, n, e);
	free(ids);
	return (ret);
}

enum ctl_ret
ctl_notify_send(struct ctl_req *req, json_t **reply, struct err *e)
{
	const char	*title = jx_str(req->args, "title");
	const char	*level = jx_str(req->args, "level");
	const char	*type = jx_str(req->args, "type");
	const char	*message = jx_str(req->args, "message");
	int		 n;

	if (level == NULL)
		level = "info";
	if (type == NULL)
		type = "manual";
	if (!event_level_ok(level)) {
		err_set(e, ERR_INVALID, "--level must be info, warning or "
		    "error");
		return (CTL_ERROR);
	}
	if (*title == '\0' || strlen(title) > 256 || strlen(type) > 64 ||
	    *type == '\0') {
		err_set(e, ERR_INVALID, "the title must be 1 to 256 bytes, the "
		    "type 1 to 64");
		return (CTL_ERROR);
	}
	n = notify_event(type, level, title, message != NULL ? message : "");
	*reply = json_pack("{s:s, s:s, s:s, s:i, s:b}", "type", type, "level",
	    level, "title", title, "channels", n < 0 ? 0 : n, "merged", n < 0);
	return (CTL_DONE);
}

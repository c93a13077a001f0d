/*
 * The control API under /__fake/: how tests drive the fake relay. It owns
 * ctl_table[] and the shutdown flag; state, faults, the request log and
 * the clock belong to their own modules and are only called from here.
 * Control requests are never recorded, faulted or WAF-gated.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakerelay.h"

static atomic_int	ctl_shutdown;	/* set by a worker, read by main() */

struct ctl_route {
	const char	*method;
	const char	*path;
	void		(*handler)(struct req *);
	const char	*help;
};

static void
ctl_ok(struct req *r, json_t *extra)
{
	json_t	*j = json_pack("{s:b}", "ok", 1);

	if (extra != NULL) {
		json_object_update(j, extra);
		json_decref(extra);
	}
	req_reply_json(r, 200, j);
}

static void
ctl_bad(struct req *r, int status, const char *msg)
{
	req_reply_json(r, status, json_pack("{s:b, s:s}", "ok", 0, "error",
	    msg != NULL ? msg : "error"));
}

static json_t *
ctl_body(struct req *r)
{
	if (r->json_bad || !json_is_object(r->json)) {
		ctl_bad(r, 400, "body must be a JSON object");
		return (NULL);
	}
	return (r->json);
}

static void
ctl_health(struct req *r)
{
	req_reply_text(r, 200, "text/plain", "ok\n");
}

/*
 * Walk a slash path through the state. Object members by name; array
 * items by "id", "username", "name" or "key" equal to the segment, or
 * by index as "#N".
 */
static json_t *
ctl_pointer(json_t *root, const char *ptr)
{
	char	 buf[512], *seg, *save = NULL;
	json_t	*cur = root, *it, *found;
	size_t	 i;
	static const char *keys[] = { "id", "username", "name", "key" };
	size_t	 k;

	snprintf(buf, sizeof buf, "%s", ptr);
	for (seg = strtok_r(buf, "/", &save); seg != NULL && cur != NULL;
	    seg = strtok_r(NULL, "/", &save)) {
		if (json_is_object(cur)) {
			cur = json_object_get(cur, seg);
			continue;
		}
		if (!json_is_array(cur))
			return (NULL);
		if (*seg == '#') {
			cur = json_array_get(cur, strtoul(seg + 1, NULL, 10));
			continue;
		}
		found = NULL;
		json_array_foreach(cur, i, it) {
			for (k = 0; k < nitems(keys) && found == NULL; k++) {
				json_t	*v = json_object_get(it, keys[k]);
				char	 num[32];

				if (json_is_string(v) &&
				    strcmp(json_string_value(v), seg) == 0)
					found = it;
				if (json_is_integer(v)) {
					snprintf(num, sizeof num, "%lld",
					    (long long)json_integer_value(v));
					if (strcmp(num, seg) == 0)
						found = it;
				}
			}
			if (found != NULL)
				break;
		}
		cur = found;
	}
	return (cur);
}

static void
ctl_state_get(struct req *r)
{
	char	 ptr[512], *s;
	json_t	*d, *v;

	state_lock();
	d = state_dump();
	state_unlock();
	if (req_query(r, "pointer", ptr, sizeof ptr) < 0) {
		req_reply_json(r, 200, d);
		return;
	}
	if ((v = ctl_pointer(d, ptr)) == NULL)
		ctl_bad(r, 404, "no such value");
	else if (json_is_string(v))
		req_reply_text(r, 200, "text/plain; charset=utf-8",
		    json_string_value(v));
	else {
		s = req_dump(v);
		req_reply_text(r, 200, json_is_object(v) || json_is_array(v) ?
		    "application/json" : "text/plain", s);
		free(s);
	}
	json_decref(d);
}

static void
ctl_state_post(struct req *r)
{
	json_t	*b;
	char	*cause = NULL;
	int	 rc;

	if ((b = ctl_body(r)) == NULL)
		return;
	state_lock();
	rc = state_patch(b, &cause);
	state_unlock();
	if (rc != 0)
		ctl_bad(r, 400, cause);
	else
		ctl_ok(r, NULL);
	free(cause);
}

static void
ctl_reset(struct req *r)
{
	int	keep = json_is_true(json_object_get(r->json, "keep_requests"));

	state_lock();
	state_reset();
	state_unlock();
	fault_clear();
	if (!keep)
		reqlog_clear();
	ctl_ok(r, NULL);
}

static void
ctl_requests(struct req *r)
{
	req_reply_json(r, 200, reqlog_query(r));
}

static void
ctl_requests_clear(struct req *r)
{
	reqlog_clear();
	ctl_ok(r, NULL);
}

static void
ctl_fault_add(struct req *r)
{
	json_t	*b;
	char	*cause = NULL;
	int	 id;

	if ((b = ctl_body(r)) == NULL)
		return;
	if ((id = fault_add(b, &cause)) < 0)
		ctl_bad(r, 400, cause);
	else
		ctl_ok(r, json_pack("{s:i}", "id", id));
	free(cause);
}

static void
ctl_faults(struct req *r)
{
	req_reply_json(r, 200, fault_list());
}

static void
ctl_faults_clear(struct req *r)
{
	fault_clear();
	ctl_ok(r, NULL);
}

static json_t *
ctl_clock_json(void)
{
	char	today[16];
	json_t	*j;

	state_lock();
	state_today(today, sizeof today);
	j = json_pack("{s:I, s:s}", "now", (json_int_t)state_now(), "today",
	    today);
	state_unlock();
	return (j);
}

static void
ctl_clock_get(struct req *r)
{
	ctl_ok(r, ctl_clock_json());
}

/* {"now":T} | {"advance":S} | {"advance_days":D} | {"real":true} */
static void
ctl_clock_post(struct req *r)
{
	json_t	*b;

	if ((b = ctl_body(r)) == NULL)
		return;
	state_lock();
	if (json_is_true(json_object_get(b, "real")))
		state_clock_real();
	if (json_object_get(b, "now") != NULL)
		state_clock_set(state_int(b, "now"));
	if (json_object_get(b, "advance") != NULL)
		state_clock_advance(state_int(b, "advance"));
	if (json_object_get(b, "advance_days") != NULL)
		state_clock_advance(state_int(b, "advance_days") * 86400);
	state_unlock();
	ctl_ok(r, ctl_clock_json());
}

static void
ctl_shutdown_post(struct req *r)
{
	atomic_store(&ctl_shutdown, 1);
	ctl_ok(r, NULL);
}

static const struct ctl_route ctl_table[] = {
	{ "GET", "/__fake/health", ctl_health, "liveness: \"ok\"" },
	{ "GET", "/__fake/state", ctl_state_get,
	  "the whole state; ?pointer=/users/alice/quota gives one value" },
	{ "POST", "/__fake/state", ctl_state_post,
	  "patch: config merges; users/tokens/models/groups replace; "
	  "patch_users/patch_tokens upsert; clear_sessions" },
	{ "POST", "/__fake/reset", ctl_reset,
	  "back to the seed state; clears faults, sessions, clock and "
	  "(unless keep_requests) the request log" },
	{ "GET", "/__fake/requests", ctl_requests,
	  "recorded requests; ?path= (\"x*\" prefix) &method= &since= &limit=" },
	{ "DELETE", "/__fake/requests", ctl_requests_clear,
	  "clear the request log" },
	{ "POST", "/__fake/fault", ctl_fault_add, "add a fault rule" },
	{ "GET", "/__fake/faults", ctl_faults, "fault rules and kinds" },
	{ "DELETE", "/__fake/faults", ctl_faults_clear, "clear fault rules" },
	{ "GET", "/__fake/clock", ctl_clock_get, "fake now and today" },
	{ "POST", "/__fake/clock", ctl_clock_post,
	  "{now}|{advance}|{advance_days}|{real:true}" },
	{ "POST", "/__fake/shutdown", ctl_shutdown_post, "exit cleanly" },
};

/* Answer a /__fake/ request. Always handles it (404 if unknown). */
int
ctl_dispatch(struct req *r)
{
	size_t	i;

	for (i = 0; i < nitems(ctl_table); i++) {
		if (strcmp(ctl_table[i].method, r->method) == 0 &&
		    mgmt_match(ctl_table[i].path, r->path, r->param,
		    sizeof r->param)) {
			ctl_table[i].handler(r);
			return (1);
		}
	}
	ctl_bad(r, 404, "unknown control endpoint");
	return (1);
}

int
ctl_shutdown_requested(void)
{
	return (atomic_load(&ctl_shutdown));
}

void
ctl_print_routes(FILE *f)
{
	size_t	i;

	for (i = 0; i < nitems(ctl_table); i++)
		fprintf(f, "  %-6s %-40s %s\n", ctl_table[i].method,
		    ctl_table[i].path, ctl_table[i].help);
}

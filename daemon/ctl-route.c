/*
 * route.* and channel.* commands: the route table (route.c), and the
 * router's view of it now: explanations and probabilities from the
 * current snapshot and the runtime state (routestate.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon.h"
#include "err.h"
#include "jx.h"
#include "route.h"
#include "router.h"
#include "routestate.h"
#include "snapshot.h"
#include "xmalloc.h"

enum ctl_ret
ctl_route_list(__unused struct ctl_req *req, json_t **reply, struct err *e)
{
	*reply = route_list(metapid->db, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

/*
 * The router's plan for model on route r in snapshot s, with every
 * candidate; key (or NULL) excludes everything it does not allow.
 */
static json_t *
ctl_route_plan(struct snapshot *s, const struct snap_route *r,
    enum snap_match how, const char *model, const struct snap_key *key)
{
	struct router_candidate		*cands;
	const struct snap_channel	**chs;
	struct router_request		 req;
	struct router_plan		*plan;
	json_t				*o, *sel = json_null(), *c;
	size_t				 n, i;
	long				 best = -1;

	n = r->nchans > 0 ? r->nchans : 1;
	cands = xcalloc(n, sizeof *cands);
	chs = xcalloc(n, sizeof *chs);
	memset(&req, 0, sizeof req);
	req.strategy = r->strategy;
	req.now = routestate_now();
	n = routestate_candidates(s, r, how, model, -1, req.now, cands, chs);
	for (i = 0; key != NULL && i < n; i++)
		if (!key->enabled || !modelpat_match(key->models, model))
			cands[i].key_excluded = 1;
	plan = router_plan_new(cands, n, &s->rset, &req);
	router_plan_explain(plan, cands);
	o = router_plan_to_json(plan, cands);
	/* The deterministic pick, else the most likely one. */
	if (plan->chosen >= 0)
		best = plan->chosen;
	for (i = 0; plan->chosen < 0 && i < n; i++)
		if (plan->results[i].eligible && plan->results[i].pooled &&
		    plan->results[i].probability > 0 && (best < 0 ||
		    plan->results[i].probability >
		    plan->results[best].probability))
			best = (long)i;
	if (best >= 0) {
		c = json_array_get(json_object_get(o, "candidates"),
		    (size_t)best);
		sel = json_pack("{s:I, s:s?, s:s?, s:s?, s:O, s:s}",
		    "channel_id", (json_int_t)cands[best].channel_id, "site",
		    cands[best].site_name, "account", cands[best].account_name,
		    "token", cands[best].token_name, "probability",
		    json_object_get(c, "probability"), "model",
		    snapshot_forward_model(r, how, model, chs[best]));
	}
	json_object_set_new(o, "selected", sel);
	router_plan_free(plan);
	free(cands);
	free(chs);
	return (o);
}

enum ctl_ret
ctl_route_explain(struct ctl_req *req, json_t **reply, struct err *e)
{
	struct snapshot			*s;
	const struct snap_route		*r;
	const struct snap_key		*key = NULL;
	enum snap_match			 how;
	const char			*model = jx_str(req->args, "model");
	long long			 key_id = 0;
	size_t				 i;
	json_t				*o;

	if ((s = snapshot_get()) == NULL) {
		err_set(e, ERR_BUSY, "no routing snapshot yet");
		return (CTL_ERROR);
	}
	if (jx_int(req->args, "key", &key_id) == 0) {
		for (i = 0; i < s->nkeys; i++)
			if (s->keys[i].id == key_id)
				key = &s->keys[i];
		if (key == NULL) {
			snapshot_put(s);
			err_set(e, ERR_NOT_FOUND, "no key %lld", key_id);
			return (CTL_ERROR);
		}
	}
	if ((r = snapshot_route(s, model, &how)) == NULL) {
		snapshot_put(s);
		err_set(e, ERR_NOT_FOUND, "no route serves \"%s\"", model);
		return (CTL_ERROR);
	}
	o = ctl_route_plan(s, r, how, model, key);
	json_object_set_new(o, "model", json_string(model));
	json_object_set_new(o, "route", json_pack("{s:I, s:s, s:s?, s:O?}",
	    "id", (json_int_t)r->id, "pattern", r->pattern, "alias", r->alias,
	    "members", r->members));
	snapshot_put(s);
	*reply = o;
	return (CTL_DONE);
}

/* The route with its channels, each with cooldown and probability now. */
enum ctl_ret
ctl_route_show(struct ctl_req *req, json_t **reply, struct err *e)
{
	struct snapshot		*s;
	const struct snap_route	*r = NULL;
	json_t			*o, *plan, *c, *p;
	size_t			 i, j;
	long long		 id = 0;

	if ((o = route_get(metapid->db, jx_str(req->args, "route"), e)) ==
	    NULL)
		return (CTL_ERROR);
	jx_int(o, "id", &id);
	if ((s = snapshot_get()) != NULL) {
		for (i = 0; i < s->nroutes; i++)
			if (s->routes[i].id == id)
				r = &s->routes[i];
		plan = r != NULL ? ctl_route_plan(s, r, SNAP_MATCH_ALIAS,
		    r->pattern, NULL) : NULL;
		json_array_foreach(json_object_get(o, "items"), i, c) {
			json_object_set_new(c, "probability", json_null());
			json_object_set_new(c, "cooldown_remaining_sec",
			    json_integer(0));
			json_array_foreach(json_object_get(plan, "candidates"), j,
			    p) {
				if (json_integer_value(json_object_get(p,
				    "channel_id")) != json_integer_value(
				    json_object_get(c, "id")))
					continue;
				json_object_set(c, "probability",
				    json_object_get(p, "probability"));
				json_object_set(c, "eligible",
				    json_object_get(p, "eligible"));
				json_object_set(c, "reason",
				    json_object_get(p, "reason"));
				json_object_set(c, "cooldown_remaining_sec",
				    json_object_get(json_object_get(p,
				    "factors"), "cooldown_remaining_sec"));
			}
		}
		json_decref(plan);
		snapshot_put(s);
	}
	*reply = o;
	return (CTL_DONE);
}

enum ctl_ret
ctl_route_add(struct ctl_req *req, json_t **reply, struct err *e)
{
	*reply = route_add(metapid->db, jx_str(req->args, "pattern"),
	    jx_str(req->args, "alias"), jx_str(req->args, "strategy"),
	    jx_str(req->args, "group"), e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_route_edit(struct ctl_req *req, json_t **reply, struct err *e)
{
	*reply = route_edit(metapid->db, jx_str(req->args, "route"),
	    req->args, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_route_rm(struct ctl_req *req, json_t **reply, struct err *e)
{
	const char	*ref = jx_str(req->args, "route");

	if (route_rm(metapid->db, ref, e) != 0)
		return (CTL_ERROR);
	*reply = json_pack("{s:s, s:b}", "route", ref, "removed", 1);
	return (CTL_DONE);
}

/* From the models stored by the last refresh; refresh accounts to rediscover. */
enum ctl_ret
ctl_route_rebuild(__unused struct ctl_req *req, json_t **reply, struct err *e)
{
	if (route_rebuild(metapid->db, e) != 0)
		return (CTL_ERROR);
	*reply = route_list(metapid->db, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_channel_set(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	id = 0;

	jx_int(req->args, "id", &id);
	*reply = route_channel_set(metapid->db, id, req->args, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_channel_cooldown_clear(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	id = 0;

	jx_int(req->args, "id", &id);
	if (!route_channel_exists(metapid->db, id)) {
		err_set(e, ERR_NOT_FOUND, "no channel %lld", id);
		return (CTL_ERROR);
	}
	routestate_cooldown_clear(id);
	*reply = json_pack("{s:I, s:b}", "id", (json_int_t)id, "cleared", 1);
	return (CTL_DONE);
}

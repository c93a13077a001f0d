/*
 * search.run: one query over sites, accounts, keys, models, routes and
 * request logs. Each kind's own module selects its rows and ranks them
 * (src/search.c); here each kind's hits are put best first, cut at
 * --limit and joined in the table's order. It only reads.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "apikey.h"
#include "compat.h"
#include "daemon.h"
#include "jx.h"
#include "model.h"
#include "proxylog.h"
#include "route.h"
#include "search.h"
#include "site.h"
#include "xmalloc.h"

typedef int (*ctl_search_cb)(struct db *, const struct search_query *,
    json_t *, struct err *);

/* The kinds, in the order a reply lists them. */
static const struct {
	const char	*kind;
	ctl_search_cb	 fn;
	int		 newest;	/* keep the module's order: time */
} ctl_search_kinds[] = {
	{ "site", site_search, 0 },
	{ "account", account_search, 0 },
	{ "key", apikey_search, 0 },
	{ "model", model_search, 0 },
	{ "route", route_search, 0 },
	{ "log", proxylog_search, 1 },
};

/*
 * --kind: one kind or several separated by commas; NULL is all. Sets
 * want[i] for each kind asked for.
 */
static int
ctl_search_kinds_wanted(const char *spec, int *want, struct err *e)
{
	char	*copy, *p, *tok;
	size_t	 i;
	int	 rv = 0;

	for (i = 0; i < nitems(ctl_search_kinds); i++)
		want[i] = spec == NULL;
	if (spec == NULL)
		return (0);
	copy = xstrdup(spec);
	for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
		for (i = 0; i < nitems(ctl_search_kinds); i++)
			if (strcmp(tok, ctl_search_kinds[i].kind) == 0)
				break;
		if (i == nitems(ctl_search_kinds)) {
			err_set(e, ERR_INVALID, "unknown kind \"%s\" (use site, "
			    "account, key, model, route or log, or several "
			    "separated by commas)", tok);
			rv = -1;
			break;
		}
		want[i] = 1;
	}
	free(copy);
	return (rv);
}

enum ctl_ret
ctl_search_run(struct ctl_req *req, json_t **reply, struct err *e)
{
	struct search_query	 q;
	json_t			*items = NULL, *more = NULL, *hits;
	long long		 limit = 0;
	int			 want[nitems(ctl_search_kinds)];
	size_t			 i;

	jx_int(req->args, "limit", &limit);
	if (ctl_search_kinds_wanted(jx_str(req->args, "kind"), want, e) != 0 ||
	    search_query_init(&q, jx_str(req->args, "query"), limit, e) != 0)
		return (CTL_ERROR);
	items = json_array();
	more = json_array();
	for (i = 0; i < nitems(ctl_search_kinds); i++) {
		if (!want[i])
			continue;
		hits = json_array();
		if (ctl_search_kinds[i].fn(metapid->db, &q, hits, e) != 0) {
			json_decref(hits);
			goto fail;
		}
		if (!ctl_search_kinds[i].newest)
			search_sort(hits);
		if ((long long)json_array_size(hits) > q.limit) {
			json_array_append_new(more,
			    json_string(ctl_search_kinds[i].kind));
			while ((long long)json_array_size(hits) > q.limit)
				json_array_remove(hits,
				    json_array_size(hits) - 1);
		}
		json_array_extend(items, hits);
		json_decref(hits);
	}
	*reply = json_pack("{s:s, s:o, s:n, s:o}", "query", q.text, "items",
	    items, "next", "more", more);
	search_query_clear(&q);
	return (CTL_DONE);
fail:
	search_query_clear(&q);
	json_decref(items);
	json_decref(more);
	return (CTL_ERROR);
}

/* site.* commands: thin wrappers over src/site.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapter.h"
#include "url.h"
#include "xmalloc.h"

#include "daemon.h"
#include "jx.h"
#include "preset.h"
#include "site.h"

static int
ctl_site_id(struct ctl_req *req, long long *id, struct err *e)
{
	return (site_resolve(metapid->db, jx_str(req->args, "site"), id, e));
}

static enum ctl_ret ctl_site_detect_start(struct ctl_req *, const char *,
		     json_t *, struct err *);
static enum ctl_ret ctl_site_add_detect(struct ctl_req *, json_t *,
		     struct err *);

/*
 * --preset fills in the URL and platform a known provider has, where the
 * user gave none: an explicit URL or --platform wins. *out is a copy of
 * args to add the site with, without "preset".
 */
static int
ctl_site_preset(json_t *args, json_t **out, struct err *e)
{
	const char	*name = jx_str(args, "preset");
	json_t		*p;
	char		*names;

	*out = json_deep_copy(args);
	if (name == NULL)
		return (0);
	json_object_del(*out, "preset");
	if ((p = preset_find(name)) == NULL) {
		names = preset_names();
		err_set(e, ERR_INVALID, "unknown preset \"%s\" (known: %s; "
		    "`metapi site presets` lists them)", name, names);
		free(names);
		json_decref(*out);
		*out = NULL;
		return (-1);
	}
	if (json_object_get(*out, "url") == NULL)
		json_object_set(*out, "url", json_object_get(p, "url"));
	if (json_object_get(*out, "platform") == NULL)
		json_object_set(*out, "platform", json_object_get(p,
		    "platform"));
	json_decref(p);
	return (0);
}

/*
 * site add: with an explicit platform (or a preset's) the site is added
 * at once; without one (or "auto") the platform is detected first.
 * Everything but the platform is validated before any network call.
 */
enum ctl_ret
ctl_site_add(struct ctl_req *req, json_t **reply, struct err *e)
{
	const char	*p, *preset = jx_str(req->args, "preset");
	json_t		*args;
	enum ctl_ret	 ret;

	if (ctl_site_preset(req->args, &args, e) != 0)
		return (CTL_ERROR);
	p = jx_str(args, "platform");
	if (p != NULL && strcmp(p, "auto") != 0) {
		*reply = site_add(metapid->db, args, e);
		json_decref(args);
		if (*reply != NULL && preset != NULL)
			json_object_set_new(*reply, "preset",
			    json_string(preset));
		return (*reply != NULL ? CTL_DONE : CTL_ERROR);
	}
	ret = ctl_site_add_detect(req, args, e);
	json_decref(args);
	return (ret);
}

/* Site add without a known platform: validate, then detect it. */
static enum ctl_ret
ctl_site_add_detect(struct ctl_req *req, json_t *args, struct err *e)
{
	json_t	*check;

	check = json_deep_copy(args);
	json_object_set_new(check, "platform", json_string("openai"));
	if (site_validate(metapid->db, check, e) != 0) {
		json_decref(check);
		return (CTL_ERROR);
	}
	json_object_del(check, "platform");
	return (ctl_site_detect_start(req, jx_str(args, "url"), check, e));
}

enum ctl_ret
ctl_site_presets(__unused struct ctl_req *req, json_t **reply,
    __unused struct err *e)
{
	*reply = preset_list();
	return (CTL_DONE);
}

enum ctl_ret
ctl_site_list(__unused struct ctl_req *req, json_t **reply, struct err *e)
{
	*reply = site_list(metapid->db, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_site_show(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	id;

	if (ctl_site_id(req, &id, e) != 0)
		return (CTL_ERROR);
	*reply = site_get(metapid->db, id, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_site_edit(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	id;
	json_t		*changes;

	if (ctl_site_id(req, &id, e) != 0)
		return (CTL_ERROR);
	changes = json_deep_copy(req->args);
	json_object_del(changes, "site");
	*reply = site_edit(metapid->db, id, changes, e);
	json_decref(changes);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_site_rm(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	id;

	if (ctl_site_id(req, &id, e) != 0 ||
	    (*reply = site_get(metapid->db, id, e)) == NULL)
		return (CTL_ERROR);
	if (site_rm(metapid->db, id, e) != 0) {
		json_decref(*reply);
		*reply = NULL;
		return (CTL_ERROR);
	}
	json_object_set_new(*reply, "removed", json_true());
	return (CTL_DONE);
}

static enum ctl_ret
ctl_site_switch(struct ctl_req *req, json_t **reply, struct err *e, int on)
{
	long long	id;

	if (ctl_site_id(req, &id, e) != 0)
		return (CTL_ERROR);
	*reply = site_set_enabled(metapid->db, id, on, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_site_enable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_site_switch(req, reply, e, 1));
}

enum ctl_ret
ctl_site_disable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_site_switch(req, reply, e, 0));
}

/*
 * Detection runs on a worker: site detect URL, and site add without a
 * platform (or with "auto"), which adds the site once the platform is
 * known and says how it was decided.
 */
struct site_detect {
	char		*url;
	char		*proxy;
	char		**headers;	/* from --header, NULL-terminated */
	const char	*platform;	/* result */
	json_t		*evidence;
	struct err	 err;
	json_t		*add_args;	/* site add: the args, else NULL */
};

static void
ctl_site_detect_work(void *arg)
{
	struct site_detect	*d = arg;

	if (detect_platform(d->url, d->proxy, d->headers, &d->platform,
	    &d->evidence, &d->err) != 0 && d->err.code == ERR_OK)
		err_set(&d->err, ERR_UPSTREAM, "detection failed");
}

static enum ctl_ret
ctl_site_detect_done(void *arg, int alive, json_t **reply, struct err *e)
{
	struct site_detect	*d = arg;
	enum ctl_ret		 ret = CTL_ERROR;
	char			**h;

	if (!alive)
		err_set(e, ERR_BUSY, "client went away; nothing saved");
	else if (d->err.code != ERR_OK)
		err_set(e, d->err.code, "%s", d->err.msg);
	else if (d->add_args != NULL) {
		json_object_set_new(d->add_args, "platform",
		    json_string(d->platform));
		if ((*reply = site_add(metapid->db, d->add_args, e)) != NULL) {
			json_object_set(*reply, "evidence", d->evidence != NULL ?
			    d->evidence : json_array());
			ret = CTL_DONE;
		}
	} else {
		*reply = json_pack("{s:s, s:O}", "platform", d->platform,
		    "evidence", d->evidence != NULL ? d->evidence :
		    json_array());
		ret = CTL_DONE;
	}
	free(d->url);
	free(d->proxy);
	for (h = d->headers; h != NULL && *h != NULL; h++)
		free(*h);
	free(d->headers);
	json_decref(d->evidence);
	json_decref(d->add_args);
	err_clear(&d->err);
	free(d);
	return (ret);
}

static enum ctl_ret
ctl_site_detect_start(struct ctl_req *req, const char *url, json_t *add_args,
    struct err *e)
{
	struct site_detect	*d;
	const char		*proxy = jx_str(req->args, "proxy"), *sys;
	json_t			*hdrs, *h;
	char			*cause;
	size_t			 i, n;

	if (url_check(url, URL_HTTP, &cause) != 0) {
		err_set(e, ERR_INVALID, "%s", cause);
		free(cause);
		return (CTL_ERROR);
	}
	d = xcalloc(1, sizeof *d);
	d->url = url_normalize(url);
	sys = settings_str(metapid->settings, "system_proxy_url");
	if (proxy != NULL && strcmp(proxy, "none") != 0)
		d->proxy = xstrdup(proxy);
	else if (proxy == NULL && *sys != '\0')
		d->proxy = xstrdup(sys);
	hdrs = json_object_get(req->args, "header");
	d->headers = xcalloc(json_array_size(hdrs) + 1, sizeof *d->headers);
	n = 0;
	json_array_foreach(hdrs, i, h)
		if (strcmp(json_string_value(h), "none") != 0)
			d->headers[n++] = xstrdup(json_string_value(h));
	d->add_args = add_args;
	async_run(req, ctl_site_detect_work, ctl_site_detect_done, d);
	return (CTL_WAIT);
}

enum ctl_ret
ctl_site_detect(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	return (ctl_site_detect_start(req, jx_str(req->args, "url"), NULL, e));
}

/*
 * proxycase: run proxy cases written as data (the JSON files of
 * tests/cases/proxy, format in doc/TESTING.md). For each case: clear the fake relays'
 * request logs and faults, arm the upstream reply the case plays, send
 * the downstream request to metapi, then compare what the relay
 * recorded, what the client got (status, headers, body or the SSE
 * events one by one) and the request's log row against the case.
 *
 *	proxycase -b BASE -m METAPI -r NAME=URL... [-v NAME=VALUE...] CASE...
 *
 * The first relay is the default one. "${NAME}" in a case file is
 * replaced by the value given with -v before it is parsed. Prints one
 * line per failed comparison (case, field path, expected, got) and ends
 * with "N passed, N failed", one count per case; exits 1 if any failed.
 */
#include "config.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define PC_MAX_VARS	32
#define PC_MAX_RELAYS	8
#define PC_LOG_WAIT_MS	3000
#define PC_NO_LOG_WAIT_MS 400

struct pc_pair {
	char	*name;
	char	*value;
};

struct pc_buf {
	char	*data;
	size_t	 len;
};

struct pc_reply {
	long		 status;
	json_t		*headers;	/* lowercased name -> last value */
	struct pc_buf	 body;
	long		 ms;		/* the whole exchange */
	int		 curl_rc;
};

static struct pc_pair	 pc_vars[PC_MAX_VARS], pc_relays[PC_MAX_RELAYS];
static size_t		 pc_nvars, pc_nrelays;
static const char	*pc_base, *pc_metapi, *pc_case;
static int		 pc_bad;	/* mismatches in the current case */

static void
pc_fail(const char *path, const char *fmt, ...)
{
	va_list	ap;

	printf("FAIL [%s] %s: ", pc_case, path);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	pc_bad++;
}

static char *
pc_dump(const json_t *j)
{
	char	*s;

	if (j == NULL)
		return (strdup("(absent)"));
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s != NULL && strlen(s) > 300)
		memcpy(s + 290, "...(cut)", sizeof "...(cut)");
	return (s != NULL ? s : strdup("?"));
}

static void
pc_want_got(const char *path, const json_t *want, const json_t *got)
{
	char	*w = pc_dump(want), *g = pc_dump(got);

	pc_fail(path, "expected %s, got %s", w, g);
	free(w);
	free(g);
}

static long
pc_ms_since(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/*
 * A matcher: an object whose only key starts with "$". {"$gt": n} and
 * {"$ge": n} compare numbers; {"$match": "ERE"} a string; {"$len": n} a
 * string's byte length; {"$present": true} anything; {"$absent": true}
 * nothing may be there. Returns 1 if want is a matcher (and *ok says).
 */
static int
pc_matcher(const json_t *want, const json_t *got, int *ok)
{
	const char	*op;
	json_t		*arg;
	regex_t		 re;
	double		 a, g;

	if (!json_is_object(want) || json_object_size(want) != 1)
		return (0);
	op = json_object_iter_key(json_object_iter((json_t *)want));
	if (op[0] != '$')
		return (0);
	arg = json_object_iter_value(json_object_iter((json_t *)want));
	*ok = 0;
	if (strcmp(op, "$absent") == 0)
		*ok = got == NULL;
	else if (got == NULL)
		*ok = 0;
	else if (strcmp(op, "$present") == 0)
		*ok = 1;
	else if (strcmp(op, "$gt") == 0 || strcmp(op, "$ge") == 0) {
		if (!json_is_number(got) || !json_is_number(arg))
			return (1);
		g = json_number_value(got);
		a = json_number_value(arg);
		*ok = op[2] == 't' ? g > a : g >= a;
	} else if (strcmp(op, "$len") == 0)
		*ok = json_is_string(got) && json_is_integer(arg) &&
		    (json_int_t)json_string_length(got) ==
		    json_integer_value(arg);
	else if (strcmp(op, "$match") == 0 && json_is_string(got) &&
	    json_is_string(arg) && regcomp(&re, json_string_value(arg),
	    REG_EXTENDED | REG_NOSUB) == 0) {
		*ok = regexec(&re, json_string_value(got), 0, NULL, 0) == 0;
		regfree(&re);
	} else
		return (0);
	return (1);
}

/*
 * Subset match: every key of want is in got with an equal value,
 * recursively; arrays must have the same length and match element by
 * element; numbers compare by value (1 equals 1.0).
 */
static void
pc_subset(const char *path, const json_t *want, const json_t *got)
{
	const char	*k;
	json_t		*v;
	size_t		 i;
	char		*sub;
	int		 ok;

	if (pc_matcher(want, got, &ok)) {
		if (!ok)
			pc_want_got(path, want, got);
		return;
	}
	if (got == NULL || json_typeof(want) != json_typeof(got)) {
		if (json_is_number(want) && json_is_number(got) &&
		    json_number_value(want) == json_number_value(got))
			return;
		pc_want_got(path, want, got);
		return;
	}
	if (json_is_object(want)) {
		json_object_foreach((json_t *)want, k, v) {
			if (asprintf(&sub, "%s.%s", path, k) == -1)
				abort();
			pc_subset(sub, v, json_object_get(got, k));
			free(sub);
		}
	} else if (json_is_array(want)) {
		if (json_array_size(want) != json_array_size(got)) {
			if (asprintf(&sub, "%s.length", path) == -1)
				abort();
			pc_fail(sub, "expected %zu items, got %zu",
			    json_array_size(want), json_array_size(got));
			pc_want_got(path, want, got);
			free(sub);
			return;
		}
		json_array_foreach((json_t *)want, i, v) {
			if (asprintf(&sub, "%s.%zu", path, i) == -1)
				abort();
			pc_subset(sub, v, json_array_get(got, i));
			free(sub);
		}
	} else if (!json_equal((json_t *)want, (json_t *)got))
		pc_want_got(path, want, got);
}

static size_t
pc_curl_body(char *p, size_t size, size_t n, void *arg)
{
	struct pc_buf	*b = arg;

	if ((b->data = realloc(b->data, b->len + size * n + 1)) == NULL)
		abort();
	memcpy(b->data + b->len, p, size * n);
	b->len += size * n;
	b->data[b->len] = '\0';
	return (size * n);
}

static size_t
pc_curl_head(char *p, size_t size, size_t n, void *arg)
{
	json_t	*h = arg;
	size_t	 len = size * n, i;
	char	*name, *colon, *v, *end;

	if ((name = strndup(p, len)) == NULL)
		abort();
	if ((colon = strchr(name, ':')) != NULL) {
		*colon = '\0';
		for (i = 0; name[i] != '\0'; i++)
			name[i] = (char)tolower((unsigned char)name[i]);
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		end = v + strlen(v);
		while (end > v && (end[-1] == '\r' || end[-1] == '\n'))
			*--end = '\0';
		json_object_set_new(h, name, json_string(v));
	} else if (strncmp(name, "HTTP/", 5) == 0)
		json_object_clear(h);	/* a new head (after a 100) */
	free(name);
	return (len);
}

/* One HTTP exchange; hdrs a curl_slist, body may be NULL. */
static void
pc_http(const char *method, const char *url, struct curl_slist *hdrs,
    const char *body, size_t len, struct pc_reply *out)
{
	CURL		*c;
	struct timespec	 t0;

	memset(out, 0, sizeof *out);
	out->headers = json_object();
	if ((c = curl_easy_init()) == NULL)
		abort();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, pc_curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, pc_curl_head);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	out->curl_rc = curl_easy_perform(c);
	out->ms = pc_ms_since(&t0);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_cleanup(c);
	if (out->body.data == NULL && (out->body.data = calloc(1, 1)) == NULL)
		abort();
}

static void
pc_reply_free(struct pc_reply *r)
{
	json_decref(r->headers);
	free(r->body.data);
}

/* GET or DELETE on a fake relay's control API; the JSON reply or NULL. */
static json_t *
pc_ctl(const char *relay, const char *method, const char *what,
    const char *body)
{
	struct pc_reply	 r;
	json_t		*j;
	char		*url;

	if (asprintf(&url, "%s/__fake/%s", relay, what) == -1)
		abort();
	pc_http(method, url, NULL, body, body != NULL ? strlen(body) : 0, &r);
	free(url);
	j = json_loads(r.body.data, 0, NULL);
	if (r.status != 200)
		pc_fail(what, "the fake relay said %ld: %s", r.status,
		    r.body.data);
	pc_reply_free(&r);
	return (j);
}

/* The case file with every ${NAME} of -v replaced. */
static json_t *
pc_load(const char *file)
{
	FILE		*f;
	json_t		*j;
	json_error_t	 err;
	struct pc_buf	 in = { NULL, 0 }, out = { NULL, 0 };
	char		 buf[8192], *p, *end, *name;
	const char	*val;
	size_t		 n, i;

	if ((f = fopen(file, "r")) == NULL) {
		pc_fail("file", "cannot open %s", file);
		return (NULL);
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		pc_curl_body(buf, 1, n, &in);
	fclose(f);
	if (in.data == NULL)
		pc_curl_body(buf, 1, 0, &in);
	for (p = in.data; *p != '\0'; p++) {
		if (p[0] != '$' || p[1] != '{' ||
		    (end = strchr(p, '}')) == NULL) {
			pc_curl_body(p, 1, 1, &out);
			continue;
		}
		if ((name = strndup(p + 2, end - p - 2)) == NULL)
			abort();
		val = NULL;
		for (i = 0; i < pc_nvars; i++) {
			if (strcmp(pc_vars[i].name, name) == 0)
				val = pc_vars[i].value;
		}
		if (val == NULL)
			pc_fail("file", "no value for ${%s}", name);
		else
			pc_curl_body((char *)val, 1, strlen(val), &out);
		free(name);
		p = end;
	}
	if (out.data == NULL)
		pc_curl_body(buf, 1, 0, &out);
	j = json_loads(out.data, 0, &err);
	if (j == NULL)
		pc_fail("file", "%s line %d: %s", file, err.line, err.text);
	free(in.data);
	free(out.data);
	return (j);
}

static const char *
pc_relay(const char *name)
{
	size_t	i;

	if (name == NULL)
		return (pc_relays[0].value);
	for (i = 0; i < pc_nrelays; i++) {
		if (strcmp(pc_relays[i].name, name) == 0)
			return (pc_relays[i].value);
	}
	pc_fail("relay", "no relay named %s", name);
	return (pc_relays[0].value);
}

/*
 * The downstream body: "body" (JSON, sent compact), "body_raw" (a
 * string, sent as is) or none. With "body_size" N, the string "@PAD@"
 * in the body grows with x's until the body is exactly N bytes.
 */
static char *
pc_body(json_t *rq, size_t *len)
{
	json_t		*b = json_object_get(rq, "body");
	json_int_t	 size = json_integer_value(json_object_get(rq,
	    "body_size"));
	char		*s, *pad, *out;
	size_t		 slen, fill;

	if (json_is_string(json_object_get(rq, "body_raw")))
		s = strdup(json_string_value(json_object_get(rq, "body_raw")));
	else if (b != NULL)
		s = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
	else {
		*len = 0;
		return (NULL);
	}
	if (s == NULL)
		abort();
	slen = strlen(s);
	if (size <= 0 || (pad = strstr(s, "@PAD@")) == NULL ||
	    (size_t)size < slen - 5) {
		*len = slen;
		return (s);
	}
	fill = (size_t)size - (slen - 5);
	if ((out = malloc((size_t)size + 1)) == NULL)
		abort();
	memcpy(out, s, pad - s);
	memset(out + (pad - s), 'x', fill);
	memcpy(out + (pad - s) + fill, pad + 5, slen - (pad - s) - 5 + 1);
	free(s);
	*len = (size_t)size;
	return (out);
}

/* The SSE events of a body: [{"event": name or absent, "data": text}]. */
static json_t *
pc_events(const char *body)
{
	json_t		*ev = json_array(), *cur = NULL, *d;
	const char	*p = body, *nl;
	char		*line, *data;
	size_t		 len;

	for (; *p != '\0'; p = *nl == '\0' ? nl : nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		len = nl - p;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0) {
			if (cur != NULL)
				json_array_append_new(ev, cur);
			cur = NULL;
			continue;
		}
		if ((line = strndup(p, len)) == NULL)
			abort();
		if (line[0] != ':') {
			if (cur == NULL)
				cur = json_object();
			if (strncmp(line, "event:", 6) == 0)
				json_object_set_new(cur, "event", json_string(
				    line + 6 + (line[6] == ' ')));
			else if (strncmp(line, "data:", 5) == 0) {
				d = json_object_get(cur, "data");
				if (asprintf(&data, "%s%s%s", d != NULL ?
				    json_string_value(d) : "", d != NULL ?
				    "\n" : "", line + 5 + (line[5] == ' ')) ==
				    -1)
					abort();
				json_object_set_new(cur, "data",
				    json_string(data));
				free(data);
			}
		}
		free(line);
	}
	if (cur != NULL) {
		/* An event the stream never finished. */
		json_object_set_new(cur, "unterminated", json_true());
		json_array_append_new(ev, cur);
	}
	return (ev);
}

/*
 * The events against the expected ones: the same number, each "event"
 * equal, each "data" equal as text when the expected one is a string,
 * else parsed as JSON and matched as a subset.
 */
static void
pc_check_events(json_t *want, const char *body)
{
	json_t	*got = pc_events(body), *w, *g, *gd;
	size_t	 i;
	char	 path[64];

	if (json_array_size(want) != json_array_size(got)) {
		pc_fail("response.events.length", "expected %zu events, got "
		    "%zu:\n%s", json_array_size(want), json_array_size(got),
		    body);
		json_decref(got);
		return;
	}
	json_array_foreach(want, i, w) {
		g = json_array_get(got, i);
		snprintf(path, sizeof path, "response.events.%zu", i);
		if (json_object_get(g, "unterminated") != NULL)
			pc_fail(path, "the stream ended inside this event");
		snprintf(path, sizeof path, "response.events.%zu.event", i);
		if (json_object_get(w, "event") != NULL)
			pc_subset(path, json_object_get(w, "event"),
			    json_object_get(g, "event"));
		else if (json_object_get(g, "event") != NULL)
			pc_want_got(path, NULL, json_object_get(g, "event"));
		snprintf(path, sizeof path, "response.events.%zu.data", i);
		if (json_object_get(w, "data") == NULL)
			continue;
		if (json_is_string(json_object_get(w, "data")) ||
		    pc_matcher(json_object_get(w, "data"), NULL, &(int){0})) {
			pc_subset(path, json_object_get(w, "data"),
			    json_object_get(g, "data"));
			continue;
		}
		gd = json_loads(json_string_value(json_object_get(g, "data")),
		    0, NULL);
		pc_subset(path, json_object_get(w, "data"), gd);
		json_decref(gd);
	}
	json_decref(got);
}

/* What the client got against "response". */
static void
pc_check_response(json_t *want, struct pc_reply *r)
{
	json_t		*exp, *j;
	json_error_t	 err;

	if (r->curl_rc != CURLE_OK)
		pc_fail("response", "the exchange failed: %s",
		    curl_easy_strerror(r->curl_rc));
	if ((exp = json_object_get(want, "status")) != NULL &&
	    json_integer_value(exp) != r->status)
		pc_fail("response.status", "expected %lld, got %ld: %.300s",
		    (long long)json_integer_value(exp), r->status,
		    r->body.data);
	if ((exp = json_object_get(want, "headers")) != NULL)
		pc_subset("response.headers", exp, r->headers);
	if ((exp = json_object_get(want, "within_ms")) != NULL &&
	    r->ms > json_integer_value(exp))
		pc_fail("response.within_ms", "expected at most %lld ms, "
		    "took %ld", (long long)json_integer_value(exp), r->ms);
	if ((exp = json_object_get(want, "body")) != NULL &&
	    (json_string_length(exp) != r->body.len || memcmp(
	    json_string_value(exp), r->body.data, r->body.len) != 0))
		pc_fail("response.body", "expected \"%s\", got \"%.300s\" "
		    "(%zu bytes)", json_string_value(exp), r->body.data,
		    r->body.len);
	if ((exp = json_object_get(want, "json")) != NULL) {
		if ((j = json_loadb(r->body.data, r->body.len, 0, &err)) ==
		    NULL)
			pc_fail("response.json", "not JSON (%s): %.300s",
			    err.text, r->body.data);
		else
			pc_subset("response.json", exp, j);
		json_decref(j);
	}
	if ((exp = json_object_get(want, "events")) != NULL)
		pc_check_events(exp, r->body.data);
}

/*
 * The requests that went upstream: the POSTs the relays recorded on
 * their relay paths (metapi's own background calls, logins, balances,
 * model lists, are GETs or under /api/). "none": not one on any relay.
 */
static void
pc_check_upstream(json_t *want, const char *relay)
{
	json_t	*got = json_array(), *all, *rec;
	size_t	 i, r, n = 0;

	for (r = 0; r < pc_nrelays; r++) {
		if ((all = pc_ctl(pc_relays[r].value, "GET", "requests",
		    NULL)) == NULL)
			continue;
		json_array_foreach(json_object_get(all, "requests"), i, rec) {
			if (strcmp(json_string_value(json_object_get(rec,
			    "method")), "POST") != 0 || strncmp(
			    json_string_value(json_object_get(rec, "path")),
			    "/api/", 5) == 0)
				continue;
			n++;
			if (strcmp(pc_relays[r].value, relay) == 0)
				json_array_append(got, rec);
		}
		json_decref(all);
	}
	if (json_is_string(want) && strcmp(json_string_value(want),
	    "none") == 0) {
		if (n != 0)
			pc_want_got("upstream", want, got);
	} else if (json_array_size(got) != n)
		pc_fail("upstream", "requests went to another relay");
	else
		pc_subset("upstream", want, got);
	json_decref(got);
}

/* The log row of request rid, waited for (the writer batches). */
static json_t *
pc_log_row(const char *rid, long wait_ms)
{
	struct timespec	 t0;
	struct pc_buf	 out;
	json_t		*j, *row = NULL, *it;
	FILE		*p;
	char		*cmd, buf[4096];
	size_t		 n, i;

	if (asprintf(&cmd, "'%s' --json --no-start logs --limit 20",
	    pc_metapi) == -1)
		abort();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (row == NULL && pc_ms_since(&t0) < wait_ms) {
		memset(&out, 0, sizeof out);
		if ((p = popen(cmd, "r")) == NULL)
			abort();
		while ((n = fread(buf, 1, sizeof buf, p)) > 0)
			pc_curl_body(buf, 1, n, &out);
		pclose(p);
		j = out.data != NULL ? json_loads(out.data, 0, NULL) : NULL;
		json_array_foreach(json_object_get(j, "items"), i, it) {
			if (json_is_string(json_object_get(it, "request_id")) &&
			    strcmp(json_string_value(json_object_get(it,
			    "request_id")), rid) == 0)
				row = json_incref(it);
		}
		json_decref(j);
		free(out.data);
		if (row == NULL)
			usleep(100 * 1000);
	}
	free(cmd);
	return (row);
}

static void
pc_check_log(json_t *want, struct pc_reply *r)
{
	const char	*rid;
	json_t		*row;

	rid = json_string_value(json_object_get(r->headers, "x-request-id"));
	if (rid == NULL) {
		pc_fail("log", "the reply has no X-Request-Id to find the "
		    "row by");
		return;
	}
	/* "none": no row comes, given more than the writer's batch time. */
	if (json_is_string(want) && strcmp(json_string_value(want), "none") ==
	    0) {
		if ((row = pc_log_row(rid, PC_NO_LOG_WAIT_MS)) != NULL)
			pc_want_got("log", want, row);
		json_decref(row);
		return;
	}
	if ((row = pc_log_row(rid, PC_LOG_WAIT_MS)) == NULL) {
		pc_fail("log", "no row for request %s", rid);
		return;
	}
	pc_subset("log", want, row);
	json_decref(row);
}

/* The fault rule that plays the upstream, on the case's relay. */
static void
pc_arm(json_t *c, const char *relay)
{
	json_t	*rule = json_object_get(c, "upstream_reply"), *ok;
	char	*s;

	if (rule == NULL)
		return;
	rule = json_deep_copy(rule);
	if (json_object_get(rule, "kind") == NULL)
		json_object_set_new(rule, "kind", json_string("reply"));
	s = json_dumps(rule, JSON_COMPACT);
	ok = pc_ctl(relay, "POST", "fault", s);
	json_decref(ok);
	free(s);
	json_decref(rule);
}

static int
pc_run(const char *file)
{
	json_t			*c, *rq, *v;
	struct curl_slist	*hdrs = NULL;
	struct pc_reply		 r;
	const char		*relay, *key, *how, *name;
	char			*url, *body, *line;
	size_t			 len, i;

	pc_case = file;
	pc_bad = 0;
	if ((c = pc_load(file)) == NULL)
		return (-1);
	if (json_is_string(json_object_get(c, "name")))
		pc_case = json_string_value(json_object_get(c, "name"));
	relay = pc_relay(json_string_value(json_object_get(c, "relay")));
	for (i = 0; i < pc_nrelays; i++) {
		json_decref(pc_ctl(pc_relays[i].value, "DELETE", "requests",
		    NULL));
		json_decref(pc_ctl(pc_relays[i].value, "DELETE", "faults",
		    NULL));
	}
	pc_arm(c, relay);

	rq = json_object_get(c, "request");
	key = json_string_value(json_object_get(rq, "key"));
	how = json_string_value(json_object_get(rq, "key_header"));
	line = NULL;
	if (key != NULL && asprintf(&line, how != NULL && strcmp(how,
	    "x-api-key") == 0 ? "x-api-key: %s" : "Authorization: Bearer %s",
	    key) == -1)
		abort();
	if (line != NULL) {
		hdrs = curl_slist_append(hdrs, line);
		free(line);
	}
	json_object_foreach(json_object_get(rq, "headers"), name, v) {
		if (asprintf(&line, "%s: %s", name, json_string_value(v)) ==
		    -1)
			abort();
		hdrs = curl_slist_append(hdrs, line);
		free(line);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	body = pc_body(rq, &len);
	if (body != NULL && json_object_get(json_object_get(rq, "headers"),
	    "Content-Type") == NULL)
		hdrs = curl_slist_append(hdrs,
		    "Content-Type: application/json");
	if (asprintf(&url, "%s%s", pc_base, json_string_value(
	    json_object_get(rq, "path"))) == -1)
		abort();
	pc_http(json_is_string(json_object_get(rq, "method")) ?
	    json_string_value(json_object_get(rq, "method")) : "POST", url,
	    hdrs, body != NULL ? body : "", len, &r);
	free(url);
	free(body);
	curl_slist_free_all(hdrs);

	if ((v = json_object_get(c, "response")) != NULL)
		pc_check_response(v, &r);
	if ((v = json_object_get(c, "upstream")) != NULL)
		pc_check_upstream(v, relay);
	if ((v = json_object_get(c, "log")) != NULL)
		pc_check_log(v, &r);
	pc_reply_free(&r);
	json_decref(c);
	return (pc_bad == 0 ? 0 : -1);
}

static void
pc_pair_add(struct pc_pair *t, size_t *n, size_t max, char *arg)
{
	char	*eq;

	if (*n == max || (eq = strchr(arg, '=')) == NULL) {
		fprintf(stderr, "proxycase: bad NAME=VALUE: %s\n", arg);
		exit(2);
	}
	*eq = '\0';
	t[*n].name = arg;
	t[*n].value = eq + 1;
	(*n)++;
}

int
main(int argc, char **argv)
{
	int	ch, i, pass = 0, fail = 0;

	while ((ch = getopt(argc, argv, "b:m:r:v:")) != -1) {
		switch (ch) {
		case 'b':
			pc_base = optarg;
			break;
		case 'm':
			pc_metapi = optarg;
			break;
		case 'r':
			pc_pair_add(pc_relays, &pc_nrelays, PC_MAX_RELAYS,
			    optarg);
			break;
		case 'v':
			pc_pair_add(pc_vars, &pc_nvars, PC_MAX_VARS, optarg);
			break;
		default:
			goto usage;
		}
	}
	if (pc_base == NULL || pc_metapi == NULL || pc_nrelays == 0 ||
	    optind == argc)
		goto usage;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = optind; i < argc; i++) {
		if (pc_run(argv[i]) == 0)
			pass++;
		else
			fail++;
	}
	curl_global_cleanup();
	printf("%d passed, %d failed\n", pass, fail);
	return (fail == 0 ? 0 : 1);
usage:
	fprintf(stderr, "usage: proxycase -b BASE -m METAPI -r NAME=URL... "
	    "[-v NAME=VALUE...] CASE...\n");
	return (2);
}

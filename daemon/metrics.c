/*
 * GET /metrics: what the daemon has done since it started, in the
 * Prometheus text format. Request threads add each finished request
 * (metrics_request()), the scheduler each job run (metrics_job()); a
 * scrape reads it all under one lock and asks the runtime state and the
 * log writer for the gauges. Label sets are bounded per family: past
 * METRICS_MAX_SERIES a new one is counted under "other", so a client
 * inventing model names cannot grow the daemon's memory.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "daemon.h"
#include "proxylog.h"
#include "routestate.h"
#include "snapshot.h"
#include "xmalloc.h"

#define METRICS_MAX_SERIES	512
#define METRICS_LABELS		256
#define METRICS_MAX_COOLING	100000

struct metrics_series {
	char	labels[METRICS_LABELS];	/* k="v",... already escaped */
	double	value;
};

struct metrics_family {
	const char		*name;
	const char		*help;
	struct metrics_series	 v[METRICS_MAX_SERIES];
	size_t			 n;
};

/* Upper bounds, in seconds, of the latency histograms' buckets. */
static const double metrics_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
	300,
};

struct metrics_hist {
	const char		*name;
	const char		*help;
	unsigned long long	 le[nitems(metrics_bounds)];
	unsigned long long	 count;
	double			 sum;
};

static pthread_mutex_t		metrics_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_family	metrics_requests = {
	.name = "metapi_requests_total",
	.help = "Requests answered, by model asked for, outcome and HTTP "
	    "status." };
static struct metrics_family	metrics_attempts = {
	.name = "metapi_upstream_attempts_total",
	.help = "Upstream attempts, by site and outcome." };
static struct metrics_family	metrics_tokens = {
	.name = "metapi_tokens_total",
	.help = "Tokens reported or estimated, by kind." };
static struct metrics_family	metrics_jobs = {
	.name = "metapi_job_runs_total",
	.help = "Scheduled or manual job runs, by job and outcome." };
static double			metrics_cost;
static struct metrics_hist	metrics_latency = {
	.name = "metapi_request_duration_seconds",
	.help = "Time from a request's arrival to its last byte." };
static struct metrics_hist	metrics_ttfb = {
	.name = "metapi_first_byte_seconds",
	.help = "Time from a request's arrival to its first byte to the "
	    "client." };

/* s as a label value: backslash, quote and newline escaped. */
static void
metrics_escape(char *out, size_t size, const char *s)
{
	size_t	n = 0;

	for (; s != NULL && *s != '\0' && n + 3 < size; s++) {
		if (*s == '\\' || *s == '"') {
			out[n++] = '\\';
			out[n++] = *s;
		} else if (*s == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else
			out[n++] = *s;
	}
	out[n] = '\0';
}

/* Add d to the series of family f with these labels; under the lock. */
static void
metrics_add(struct metrics_family *f, const char *labels, double d)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].labels, labels) == 0) {
			f->v[i].value += d;
			return;
		}
	}
	if (f->n == METRICS_MAX_SERIES - 1) {
		/* The last series is "other" for every label set past it. */
		labels = "other=\"true\"";
		for (i = 0; i < f->n; i++)
			if (strcmp(f->v[i].labels, labels) == 0)
				break;
		if (i < f->n) {
			f->v[i].value += d;
			return;
		}
	}
	strlcpy(f->v[f->n].labels, labels, sizeof f->v[f->n].labels);
	f->v[f->n++].value = d;
}

static void
metrics_observe(struct metrics_hist *h, double sec)
{
	size_t	i;

	for (i = 0; i < nitems(metrics_bounds); i++)
		if (sec <= metrics_bounds[i])
			h->le[i]++;
	h->count++;
	h->sum += sec;
}

/* The site of channel id in snapshot s, or "-". */
static const char *
metrics_site(const struct snapshot *s, long long id)
{
	size_t	i;

	for (i = 0; s != NULL && i < s->nchannels; i++)
		if (s->channels[i].id == id)
			return (s->channels[i].site_name);
	return ("-");
}

/* A request finished (any thread): count it, its attempts and usage. */
void
metrics_request(const struct proxylog_rec *r, const struct snapshot *s)
{
	char	model[128], site[128], labels[METRICS_LABELS];
	size_t	i;

	metrics_escape(model, sizeof model, r->model_requested != NULL ?
	    r->model_requested : "-");
	pthread_mutex_lock(&metrics_mtx);
	snprintf(labels, sizeof labels, "model=\"%s\",status=\"%s\","
	    "code=\"%d\"", model, r->status != NULL ? r->status : "-",
	    r->http_status);
	metrics_add(&metrics_requests, labels, 1);
	for (i = 0; i < r->nattempts; i++) {
		metrics_escape(site, sizeof site, metrics_site(s,
		    r->attempts[i].channel_id));
		snprintf(labels, sizeof labels, "site=\"%s\",outcome=\"%s\"",
		    site, r->attempts[i].error == NULL ? "ok" : "failed");
		metrics_add(&metrics_attempts, labels, 1);
	}
	metrics_add(&metrics_tokens, "kind=\"prompt\"", r->prompt_tokens);
	metrics_add(&metrics_tokens, "kind=\"completion\"",
	    r->completion_tokens);
	metrics_add(&metrics_tokens, "kind=\"cache_read\"",
	    r->cache_read_tokens);
	metrics_add(&metrics_tokens, "kind=\"cache_write\"",
	    r->cache_write_tokens);
	metrics_cost += r->cost_usd;
	metrics_observe(&metrics_latency, r->latency_ms / 1000.0);
	if (r->ttfb_ms > 0)
		metrics_observe(&metrics_ttfb, r->ttfb_ms / 1000.0);
	pthread_mutex_unlock(&metrics_mtx);
}

/* A job run ended (main thread). */
void
metrics_job(const char *job, const char *outcome)
{
	char	labels[METRICS_LABELS];

	snprintf(labels, sizeof labels, "job=\"%s\",outcome=\"%s\"", job,
	    outcome);
	pthread_mutex_lock(&metrics_mtx);
	metrics_add(&metrics_jobs, labels, 1);
	pthread_mutex_unlock(&metrics_mtx);
}

static void
metrics_print_family(struct buf *b, const struct metrics_family *f)
{
	size_t	i;

	buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", f->name, f->help,
	    f->name);
	for (i = 0; i < f->n; i++)
		buf_printf(b, "%s{%s} %.17g\n", f->name, f->v[i].labels,
		    f->v[i].value);
}

static void
metrics_print_hist(struct buf *b, const struct metrics_hist *h)
{
	size_t	i;

	buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", h->name, h->help,
	    h->name);
	for (i = 0; i < nitems(metrics_bounds); i++)
		buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", h->name,
		    metrics_bounds[i], h->le[i]);
	buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n"
	    "%s_count %llu\n", h->name, h->count, h->name, h->sum, h->name,
	    h->count);
}

/* The civetweb handler of GET /metrics. */
int
http_metrics(struct mg_connection *conn, __unused void *arg)
{
	struct buf	 b;
	long long	*ids;
	size_t		 cooling;

	/* On the heap: civetweb's worker stacks are small. */
	ids = xcalloc(METRICS_MAX_COOLING, sizeof *ids);
	cooling = routestate_cooling(routestate_now(), ids,
	    METRICS_MAX_COOLING);
	free(ids);
	buf_init(&b, 16 * 1024 * 1024);
	pthread_mutex_lock(&metrics_mtx);
	metrics_print_family(&b, &metrics_requests);
	metrics_print_family(&b, &metrics_attempts);
	metrics_print_family(&b, &metrics_tokens);
	buf_printf(&b, "# HELP metapi_cost_usd_total Cost of the requests "
	    "at the sites' prices, in USD.\n# TYPE metapi_cost_usd_total "
	    "counter\nmetapi_cost_usd_total %.17g\n", metrics_cost);
	metrics_print_hist(&b, &metrics_latency);
	metrics_print_hist(&b, &metrics_ttfb);
	metrics_print_family(&b, &metrics_jobs);
	pthread_mutex_unlock(&metrics_mtx);
	buf_printf(&b, "# HELP metapi_channels_cooling Channels cooling down "
	    "now.\n# TYPE metapi_channels_cooling gauge\n"
	    "metapi_channels_cooling %zu\n", cooling);
	buf_printf(&b, "# HELP metapi_log_queue_depth Request log records "
	    "waiting for the writer.\n# TYPE metapi_log_queue_depth gauge\n"
	    "metapi_log_queue_depth %zu\n", logwriter_depth());
	buf_printf(&b, "# HELP metapi_log_dropped_total Request log records "
	    "never stored: the queue was full while the database refused "
	    "writes, or was given up at shutdown.\n# TYPE "
	    "metapi_log_dropped_total counter\nmetapi_log_dropped_total "
	    "%llu\n", logwriter_dropped());
	buf_printf(&b, "# HELP metapi_database_writable 1 while the database "
	    "takes the request log's writes, 0 while it refuses them (disk "
	    "full, read-only, I/O errors).\n# TYPE metapi_database_writable "
	    "gauge\nmetapi_database_writable %d\n", !logwriter_failing());
	buf_printf(&b, "# HELP metapi_log_queue_waits_total Requests that "
	    "found the log queue full and waited for the writer.\n# TYPE "
	    "metapi_log_queue_waits_total counter\n"
	    "metapi_log_queue_waits_total %llu\n", logwriter_waits());
	mg_printf(conn, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n", b.len);
	mg_write(conn, b.data, b.len);
	buf_free(&b);
	return (200);
}

/*
 * streamclient: time SSE streams for the benchmark (bench/run.sh).
 *
 *   streamclient URL KEY BODY N [GAPFILE]
 *
 * Sends N sequential POST requests of BODY (JSON) to URL with
 * "Authorization: Bearer KEY" over one reused libcurl handle (so a
 * keep-alive server keeps the connection), and records the arrival time of
 * each complete SSE event (a blank line ends it) relative to the moment the
 * request was started. It prints one line of key=value pairs:
 *
 *   ok, bad        requests that ended with "data: [DONE]" and HTTP 200 / not
 *   events         events per good request (min and max)
 *   bytes          body bytes received in all
 *   ttfb_*_us      time to the first complete SSE event (p50, p99, max)
 *   fbyte_*_us     time to the first body byte (p50, p99)
 *   gap_*_us       gaps between consecutive events of one stream (p50, p99,
 *                  max), pooled over all good requests
 *   lat_*_us       delivery delay of each event that carries "x_sent_us"
 *                  (the fake relay's CLOCK_MONOTONIC when it wrote the
 *                  event; see its slow_stream "stamp"): arrival minus that
 *                  (n, p50, p99, max), pooled; the pacing jitter of the
 *                  source, which gaps carry, is not in it
 *   total_*_us     time to the last event (p50, p99)
 *
 * With GAPFILE every gap is written there in microseconds, one a line.
 * Build: cc -O2 -o streamclient streamclient.c -lcurl
 */
#include <curl/curl.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENT_KEEP	1024	/* bytes of an event kept to look into */

struct vec {
	double	*v;
	size_t	 n, cap;
};

struct stream {
	double		 t0;		/* request start, µs */
	double		 first_byte;	/* -1 until seen */
	double		 last_event;
	size_t		 events;
	size_t		 bytes;
	int		 done;		/* saw data: [DONE] */
	char		 tail[4];	/* last bytes, to find "\n\n" across writes */
	size_t		 ntail;
	char		*ev;		/* the current event's first bytes */
	size_t		 evlen, evcap;
	struct vec	*gaps;
	struct vec	*lats;
	double		 first_event;
};

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3);
}

static void
vec_add(struct vec *v, double x)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 1024;
		if ((v->v = realloc(v->v, v->cap * sizeof *v->v)) == NULL)
			abort();
	}
	v->v[v->n++] = x;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* Nearest-rank percentile of a sorted vector. */
static double
pct(const struct vec *v, double p)
{
	size_t	rank;

	if (v->n == 0)
		return (-1);
	rank = (size_t)(p / 100.0 * (double)v->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > v->n)
		rank = v->n;
	return (v->v[rank - 1]);
}

/* The event's "x_sent_us", if its first bytes have one: t minus it. */
static void
event_stamp(struct stream *s, const char *p, size_t len, double t)
{
	static const char	 key[] = "\"x_sent_us\":";
	char			 buf[EVENT_KEEP + 1], *k, *end;
	long long		 sent;

	if (len > EVENT_KEEP)
		len = EVENT_KEEP;
	memcpy(buf, p, len);
	buf[len] = '\0';
	if ((k = strstr(buf, key)) == NULL)
		return;
	sent = strtoll(k + sizeof key - 1, &end, 10);
	if (end == k + sizeof key - 1)
		return;
	vec_add(s->lats, t - (double)sent);
}

static void
event_end(struct stream *s, double t)
{
	const char	*p = s->ev;

	while (s->evlen > 0 && (*p == '\r' || *p == '\n')) {
		p++;
		s->evlen--;
	}
	if (s->evlen == 0)
		return;
	if (s->events == 0)
		s->first_event = t - s->t0;
	else
		vec_add(s->gaps, t - s->last_event);
	s->last_event = t;
	s->events++;
	if (s->evlen >= 12 && strncmp(p, "data: [DONE]", 12) == 0)
		s->done = 1;
	event_stamp(s, p, s->evlen, t);
	s->evlen = 0;
}

/*
 * Keep the first EVENT_KEEP bytes of each event: enough to spot [DONE]
 * and the "x_sent_us" of a small event, wherever a proxy that rewrote
 * the event put it.
 */
static void
event_byte(struct stream *s, char c)
{
	if (s->evlen < EVENT_KEEP) {
		if (s->evlen == s->evcap) {
			s->evcap = EVENT_KEEP;
			if ((s->ev = realloc(s->ev, s->evcap)) == NULL)
				abort();
		}
		s->ev[s->evlen] = c;
	}
	s->evlen++;
	if (s->evlen > EVENT_KEEP)
		s->evlen = EVENT_KEEP;
}

static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct stream	*s = arg;
	size_t		 len = size * nmemb, i;
	double		 t = now_us();
	char		 c;

	if (s->first_byte < 0)
		s->first_byte = t - s->t0;
	s->bytes += len;
	for (i = 0; i < len; i++) {
		c = data[i];
		if (c == '\r')
			continue;
		if (c == '\n' && s->ntail > 0 && s->tail[0] == '\n') {
			event_end(s, t);
			s->ntail = 0;
			continue;
		}
		s->tail[0] = c;
		s->ntail = 1;
		event_byte(s, c);
	}
	return (len);
}

int
main(int argc, char *argv[])
{
	struct vec		 ttfb = { 0 }, fbyte = { 0 }, gaps = { 0 };
	struct vec		 total = { 0 }, req_gaps = { 0 };
	struct vec		 lats = { 0 }, req_lats = { 0 };
	struct curl_slist	*hdr = NULL;
	struct stream		 s;
	char			 auth[1024];
	FILE			*gf = NULL;
	CURL			*h;
	CURLcode		 rc;
	long			 n, i, code, ok = 0, bad = 0;
	size_t			 j, emin = SIZE_MAX, emax = 0, bytes = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: streamclient URL KEY BODY N [GAPFILE]\n");
		return (2);
	}
	n = strtol(argv[4], NULL, 10);
	if (argc > 5 && (gf = fopen(argv[5], "w")) == NULL) {
		perror(argv[5]);
		return (2);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((h = curl_easy_init()) == NULL)
		return (2);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", argv[2]);
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Accept: text/event-stream");
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, argv[1]);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, argv[3]);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);

	for (i = 0; i < n; i++) {
		memset(&s, 0, sizeof s);
		req_gaps.n = 0;
		req_lats.n = 0;
		s.gaps = &req_gaps;
		s.lats = &req_lats;
		s.first_byte = -1;
		s.t0 = now_us();
		rc = curl_easy_perform(h);
		code = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (s.evlen > 0)	/* an event without its blank line */
			event_end(&s, now_us());
		bytes += s.bytes;
		if (rc != CURLE_OK || code != 200 || !s.done) {
			bad++;
			fprintf(stderr, "streamclient: request %ld: %s, HTTP %ld, "
			    "%zu events, %s\n", i, curl_easy_strerror(rc), code,
			    s.events, s.done ? "[DONE]" : "no [DONE]");
			free(s.ev);
			continue;
		}
		ok++;
		vec_add(&ttfb, s.first_event);
		vec_add(&fbyte, s.first_byte);
		vec_add(&total, s.last_event - s.t0);
		for (j = 0; j < req_gaps.n; j++) {
			vec_add(&gaps, req_gaps.v[j]);
			if (gf != NULL)
				fprintf(gf, "%.1f\n", req_gaps.v[j]);
		}
		for (j = 0; j < req_lats.n; j++)
			vec_add(&lats, req_lats.v[j]);
		if (s.events < emin)
			emin = s.events;
		if (s.events > emax)
			emax = s.events;
		free(s.ev);
	}
	qsort(ttfb.v, ttfb.n, sizeof *ttfb.v, cmp_double);
	qsort(fbyte.v, fbyte.n, sizeof *fbyte.v, cmp_double);
	qsort(gaps.v, gaps.n, sizeof *gaps.v, cmp_double);
	qsort(total.v, total.n, sizeof *total.v, cmp_double);
	qsort(lats.v, lats.n, sizeof *lats.v, cmp_double);
	printf("ok=%ld bad=%ld events_min=%zu events_max=%zu bytes=%zu "
	    "ttfb_p50_us=%.0f ttfb_p99_us=%.0f ttfb_max_us=%.0f "
	    "fbyte_p50_us=%.0f fbyte_p99_us=%.0f "
	    "gap_n=%zu gap_p50_us=%.1f gap_p99_us=%.1f gap_max_us=%.1f "
	    "total_p50_us=%.0f total_p99_us=%.0f "
	    "lat_n=%zu lat_p50_us=%.1f lat_p99_us=%.1f lat_max_us=%.1f\n",
	    ok, bad, ok ? emin : 0, emax, bytes,
	    pct(&ttfb, 50), pct(&ttfb, 99), pct(&ttfb, 100),
	    pct(&fbyte, 50), pct(&fbyte, 99),
	    gaps.n, pct(&gaps, 50), pct(&gaps, 99), pct(&gaps, 100),
	    pct(&total, 50), pct(&total, 99),
	    lats.n, pct(&lats, 50), pct(&lats, 99), pct(&lats, 100));
	if (gf != NULL)
		fclose(gf);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return (bad > 0 ? 1 : 0);
}

/*
 * Fuzz harness for what the proxy does with a client's request body
 * before it forwards it (src/request.c, file_inline() of src/file.c, the
 * key's model patterns), for libFuzzer (fuzz-request) or the corpus
 * replay of make check (replay-request).
 *
 * Input layout: byte 0 is the selector, the rest is the body.
 *
 *   bits 0-2  the surface, a relay_format (7 is taken as 0): 0 chat,
 *             1 completions, 2 embeddings, 3 images, 4 responses,
 *             5 messages, 6 messages/count_tokens
 *   bits 3-4  the byte budget for inlined files: 16, 256, 4096, 1 MiB
 *   bits 5-6  the platform of the channel, which sets the formats the
 *             body is converted to: new-api, claude, openai, anyrouter
 *   bit 7     the request continues a Responses conversation kept here:
 *             two earlier turns go into the hub
 *
 * So 0x00 is a Chat body with a 16-byte budget on a New API channel,
 * 0x3d a Messages body with a 1 MiB budget on a Claude channel.
 *
 * The steps are the proxy's, in its order: request_parse(), the model
 * against a key's patterns, the session, file_inline() with a loader
 * that knows a few files, request_ask_usage(), request_set_model(), the
 * local token count, then for the conversational surfaces the hub
 * (request_hub()) and the body for every format the channel would be
 * tried in (request_convert()). Besides what ASan, UBSan and
 * LeakSanitizer catch, these abort: a refusal without an error or with
 * another reply code, or with a message that is not UTF-8 (it goes into
 * a JSON error body); a body read with a key twice in an object; a read body whose model, stream flag or previous
 * response id is not what the body says; a body that after any step is
 * not an object that json_dumps writes and that parses back the same; a
 * step that changes what it must not (the model, the stream options of
 * other surfaces); a stream that was not asked for its usage; a count
 * below 1 or beyond what the body's text can give; a converted body that
 * is not an object with the forwarded model and the stream flag.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "compat.h"
#include "err.h"
#include "file.h"
#include "modelpat.h"
#include "relay.h"
#include "request.h"
#include "xmalloc.h"

#include "fuzz.h"

#define FR_FWD_MODEL	"fuzz-forwarded"

static const size_t fr_budgets[4] = { 16, 256, 4096, 1024 * 1024 };
static const char *const fr_platforms[4] = {
	"new-api", "claude", "openai", "anyrouter"
};

/* The files the loader knows; "file-broken" fails as storage would. */
static const struct fr_file {
	const char	*id;
	const char	*mime;
	const char	*filename;
	const char	*data;
	size_t		 len;
} fr_files[] = {
	{ "file-text", "text/plain", "notes.txt", "hello\n", 6 },
	{ "file-image", "image/png", "dot.png", "\x89PNG\r\n\x1a\n\0\0", 10 },
	{ "file-pdf", "application/pdf", "doc.pdf", "%PDF-1.4\n%\xe2\xe3", 12 },
	{ "file-latin1", "text/plain", "latin1.txt", "caf\xe9", 4 },
};

/* A key's model patterns, as an operator writes them. */
static struct modelpat	*fr_pats;
static json_t		*fr_history;

static int
fr_load(const char *id, struct file_data *fd, __unused void *arg, struct err *e)
{
	size_t	i;

	FUZZ_CHECK(id != NULL);
	if (!file_id_ok(id))
		return (0);
	if (strcmp(id, "file-broken") == 0) {
		err_set(e, ERR_STORAGE, "the disk is gone");
		return (-1);
	}
	for (i = 0; i < sizeof fr_files / sizeof fr_files[0]; i++) {
		if (strcmp(fr_files[i].id, id) != 0)
			continue;
		fd->mime = xstrdup(fr_files[i].mime);
		fd->filename = xstrdup(fr_files[i].filename);
		fd->data = xmalloc(fr_files[i].len);
		memcpy(fd->data, fr_files[i].data, fr_files[i].len);
		fd->len = fr_files[i].len;
		return (1);
	}
	return (0);
}

/* A message goes into a JSON error body: it must be UTF-8. */
static void
fr_check_msg(const char *msg)
{
	json_t	*j;

	j = json_string(msg);
	FUZZ_CHECK(j != NULL);
	json_decref(j);
}

/* The body as text: it must dump, and parse back to the same. */
static char *
fr_dump(const json_t *body)
{
	json_t	*back;
	char	*s;

	FUZZ_CHECK(json_is_object(body));
	s = json_dumps(body, JSON_COMPACT);
	FUZZ_CHECK(s != NULL);
	back = json_loads(s, 0, NULL);
	FUZZ_CHECK(back != NULL && json_equal(back, body));
	json_decref(back);
	return (s);
}

/* The read body says what the body says. */
static void
fr_check_read(const struct request *rq, enum relay_format fmt)
{
	const char	*model, *prev;

	model = json_string_value(json_object_get(rq->body, "model"));
	FUZZ_CHECK(rq->fmt == fmt);
	FUZZ_CHECK(model != NULL && *model != '\0');
	FUZZ_CHECK(rq->model != NULL && strcmp(rq->model, model) == 0);
	FUZZ_CHECK(rq->stream == (request_streams(fmt) &&
	    json_is_true(json_object_get(rq->body, "stream"))));
	FUZZ_CHECK(rq->strip_usage == 0);
	prev = json_string_value(json_object_get(rq->body,
	    "previous_response_id"));
	if (fmt == RELAY_RESPONSES)
		FUZZ_CHECK(rq->prev == prev);
	else
		FUZZ_CHECK(rq->prev == NULL);
}

/* The model against the patterns: an exact name matches only itself. */
static void
fr_check_model(const char *model)
{
	int	m;

	m = modelpat_match(fr_pats, model);
	if (strcmp(model, "gpt-4o") == 0 ||
	    strncmp(model, "claude-", 7) == 0)
		FUZZ_CHECK(m);
}

static void
fr_check_inline(struct request *rq, size_t budget)
{
	struct err	 e = { ERR_OK, NULL };
	char		*before, *after;
	int		 n;

	before = fr_dump(rq->body);
	n = file_inline(rq->body, rq->fmt, budget, fr_load, NULL, &e);
	after = fr_dump(rq->body);
	if (n < 0) {
		/* The request is refused: the body is not used again. */
		FUZZ_CHECK(e.msg != NULL);
		FUZZ_CHECK(e.code == ERR_NOT_FOUND || e.code == ERR_INVALID ||
		    e.code == ERR_STORAGE);
		fr_check_msg(e.msg);
		err_clear(&e);
	} else {
		FUZZ_CHECK(e.code == ERR_OK);
		if (n == 0)
			FUZZ_CHECK(strcmp(before, after) == 0);
	}
	/* Parts only: the model the request was read for stays. */
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(rq->body,
	    "model")), rq->model) == 0);
	free(before);
	free(after);
}

static void
fr_check_usage(struct request *rq)
{
	json_t	*opts;
	char	*before, *after;
	int	 had, changed;

	opts = json_object_get(rq->body, "stream_options");
	had = json_is_true(json_object_get(opts, "include_usage"));
	before = fr_dump(rq->body);
	changed = request_ask_usage(rq);
	after = fr_dump(rq->body);
	FUZZ_CHECK(changed == rq->strip_usage);
	if (rq->fmt == RELAY_CHAT && rq->stream) {
		FUZZ_CHECK(changed == !had);
		opts = json_object_get(rq->body, "stream_options");
		FUZZ_CHECK(json_is_object(opts));
		FUZZ_CHECK(json_is_true(json_object_get(opts,
		    "include_usage")));
	} else
		FUZZ_CHECK(!changed);
	if (!changed)
		FUZZ_CHECK(strcmp(before, after) == 0);
	/* Once asked, asking again changes nothing. */
	FUZZ_CHECK(request_ask_usage(rq) == 0);
	FUZZ_CHECK(rq->strip_usage == changed);
	free(before);
	free(after);
}

static void
fr_check_model_set(struct request *rq)
{
	const char	*cur;
	char		*model;
	int		 differs;

	model = xstrdup(rq->model);
	cur = json_string_value(json_object_get(rq->body, "model"));
	differs = strcmp(cur, FR_FWD_MODEL) != 0;
	FUZZ_CHECK(request_set_model(rq, FR_FWD_MODEL) == differs);
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(rq->body,
	    "model")), FR_FWD_MODEL) == 0);
	FUZZ_CHECK(request_set_model(rq, FR_FWD_MODEL) == 0);
	/* What was asked for is kept: logs and routing use it. */
	FUZZ_CHECK(strcmp(rq->model, model) == 0);
	free(fr_dump(rq->body));
	free(model);
}

/* Every byte of every string can give at most one token. */
static size_t
fr_text_bytes(const json_t *j)
{
	const char	*k;
	json_t		*v;
	size_t		 i, n = 0;

	if (json_is_string(j))
		return (json_string_length(j));
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			n += fr_text_bytes(v);
		return (n);
	}
	json_object_foreach((json_t *)j, k, v)
		n += fr_text_bytes(v) + 1;
	return (n);
}

static void
fr_check_count(const struct request *rq)
{
	long long	n;
	size_t		text;

	n = request_count_tokens(rq->body);
	text = fr_text_bytes(rq->body);
	FUZZ_CHECK(n >= 1);
	/* Text, plus 1600 for each "type" key at most. */
	FUZZ_CHECK((unsigned long long)n <= 1 + text * 1601ULL);
}

/* A converted body: an object with the forwarded model and stream flag. */
static void
fr_check_converted(const struct request *rq, enum relay_format up,
    const char *s)
{
	json_t	*b, *opts;

	b = json_loads(s, 0, NULL);
	FUZZ_CHECK(json_is_object(b));
	FUZZ_CHECK(json_is_string(json_object_get(b, "model")) &&
	    strcmp(json_string_value(json_object_get(b, "model")),
	    FR_FWD_MODEL) == 0);
	FUZZ_CHECK(json_is_true(json_object_get(b, "stream")) == rq->stream);
	if (up == RELAY_CHAT && rq->stream) {
		opts = json_object_get(b, "stream_options");
		FUZZ_CHECK(json_is_true(json_object_get(opts,
		    "include_usage")));
	}
	json_decref(b);
}

static void
fr_check_convert(const struct request *rq, const char *platform,
    int history)
{
	struct err		 e = { ERR_OK, NULL };
	enum relay_format	 ups[RELAY_MAX_UPSTREAM];
	json_t			*hub, *plain;
	char			*s, *before;
	size_t			 n, k, nplain;

	n = relay_upstream_formats(platform, rq->fmt, FR_FWD_MODEL, ups);
	FUZZ_CHECK(n <= RELAY_MAX_UPSTREAM);
	if (rq->fmt != RELAY_CHAT && rq->fmt != RELAY_MESSAGES &&
	    rq->fmt != RELAY_RESPONSES) {
		/* Never converted: the body goes as it is, or nowhere. */
		FUZZ_CHECK(n == 0 || (n == 1 && ups[0] == rq->fmt));
		return;
	}
	before = fr_dump(rq->body);
	if ((hub = request_hub(rq, history ? fr_history : NULL, &e)) == NULL) {
		FUZZ_CHECK(e.code != ERR_OK && e.msg != NULL);
		fr_check_msg(e.msg);
		err_clear(&e);
		free(before);
		return;
	}
	FUZZ_CHECK(e.code == ERR_OK);
	FUZZ_CHECK(json_is_object(hub));
	if (history) {
		/* The kept turns are in, the request's own ones all stay. */
		plain = request_hub(rq, NULL, &e);
		FUZZ_CHECK(plain != NULL);
		nplain = json_array_size(json_object_get(plain, "messages"));
		FUZZ_CHECK(json_array_size(json_object_get(hub, "messages")) ==
		    nplain + json_array_size(fr_history));
		json_decref(plain);
	}
	for (k = 0; k < n; k++) {
		if (ups[k] == rq->fmt && !history)
			continue;
		if ((s = request_convert(rq, hub, ups[k], FR_FWD_MODEL,
		    &e)) == NULL) {
			FUZZ_CHECK(e.code != ERR_OK && e.msg != NULL);
			fr_check_msg(e.msg);
			err_clear(&e);
			continue;
		}
		fr_check_converted(rq, ups[k], s);
		free(s);
	}
	/* Converting reads the body; it changes only the hub. */
	s = fr_dump(rq->body);
	FUZZ_CHECK(strcmp(s, before) == 0);
	free(s);
	free(before);
	json_decref(hub);
}

static void
fr_setup(void)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*pats;

	FUZZ_CHECK(sodium_init() >= 0);
	pats = json_pack("[s, s, s, s]", "gpt-4o", "claude-*", "*-mini",
	    "re:^(gpt|o[0-9])-[a-z0-9.-]+$");
	fr_pats = modelpat_compile(pats, &e);
	FUZZ_CHECK(fr_pats != NULL);
	json_decref(pats);
	fr_history = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "user",
	    "content", "an earlier question", "role", "assistant", "content",
	    "an earlier answer");
	FUZZ_CHECK(fr_history != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 ready;
	struct request		 rq;
	struct err		 e = { ERR_OK, NULL };
	enum relay_format	 fmt;
	json_t			*dup;
	const char		*why = NULL, *sid;
	int			 sel;

	if (!ready) {
		fr_setup();
		ready = 1;
	}
	if (size < 1)
		return (0);
	sel = data[0];
	data++;
	size--;
	fmt = (enum relay_format)((sel & 7) % RELAY_FORMAT_COUNT);

	if (request_parse(&rq, fmt, (const char *)data, size, &why,
	    &e) != 0) {
		FUZZ_CHECK(e.code == ERR_INVALID && e.msg != NULL);
		fr_check_msg(e.msg);
		FUZZ_CHECK(why != NULL && (strcmp(why, "invalid_json") == 0 ||
		    strcmp(why, "missing_model") == 0));
		FUZZ_CHECK(rq.body == NULL && rq.model == NULL);
		err_clear(&e);
		return (0);
	}
	FUZZ_CHECK(e.code == ERR_OK);
	/* No key twice: what goes upstream as it came reads one way. */
	dup = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    NULL);
	FUZZ_CHECK(dup != NULL);
	json_decref(dup);
	fr_check_read(&rq, fmt);
	fr_check_model(rq.model);
	if ((sid = request_session(&rq)) != NULL)
		FUZZ_CHECK(strstr(sid, "session") != NULL);
	fr_check_inline(&rq, fr_budgets[(sel >> 3) & 3]);
	fr_check_usage(&rq);
	fr_check_model_set(&rq);
	fr_check_count(&rq);
	fr_check_convert(&rq, fr_platforms[(sel >> 5) & 3], (sel & 0x80) != 0);
	request_free(&rq);
	return (0);
}

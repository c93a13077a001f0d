/*
 * Uploaded files: the multipart parser (fed whole, at every split and a
 * byte at a time, each way the same parts and bytes), the id, name,
 * purpose and type rules, and file_inline() over each format with an
 * in-memory loader.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "file.h"
#include "multipart.h"
#include "xmalloc.h"

#include "unit.h"

/* What the callbacks saw: "[name|filename|type]" then the bytes. */
struct t_file_seen {
	struct buf	 out;
	int		 stop_at;	/* fail the Nth part (from 1), or 0 */
	int		 parts;
};

static int
t_file_part(const struct multipart_part *pt, void *arg)
{
	struct t_file_seen	*s = arg;

	if (++s->parts == s->stop_at)
		return (-1);
	buf_printf(&s->out, "[%s|%s%s|%s]", pt->name, pt->has_filename ?
	    "" : "-", pt->filename, pt->type);
	return (0);
}

static int
t_file_data(const char *p, size_t len, void *arg)
{
	struct t_file_seen	*s = arg;

	CHECK(len > 0);
	buf_add(&s->out, p, len);
	return (0);
}

struct t_file_mp_case {
	const char	*name;
	const char	*ctype;
	const char	*body;
	const char	*want;		/* NULL: the feed or finish fails */
};

static const struct t_file_mp_case t_file_mp_cases[] = {
	{ "two fields", "multipart/form-data; boundary=XyZ",
	  "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
	  "user_data\r\n--XyZ\r\nContent-Disposition: form-data; "
	  "name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n"
	  "\r\nhello\r\n--Xy\r\n--XyZ--\r\n",
	  "[purpose|-|]user_data[file|a.txt|text/plain]hello\r\n--Xy" },
	{ "preamble, padding, epilogue", "multipart/form-data; "
	  "boundary=\"b c\"",
	  "junk\r\n--b c  \r\nContent-Disposition: form-data; name=x\r\n\r\n"
	  "1\r\n--b c--\r\nmore junk",
	  "[x|-|]1" },
	{ "empty part, no headers", "multipart/form-data; boundary=q",
	  "--q\r\n\r\n\r\n--q--", "[|-|]" },
	{ "filename* wins, quotes escaped", "multipart/form-data; boundary=q",
	  "--q\r\ncontent-disposition: form-data; name=\"f\"; "
	  "filename=\"a\\\"b\"; filename*=UTF-8''%E2%82%AC.txt\r\n"
	  "content-type: Text/Plain; charset=utf-8\r\n\r\nx\r\n--q--\r\n",
	  "[f|\xe2\x82\xac.txt|Text/Plain]x" },
	{ "no closing boundary", "multipart/form-data; boundary=q",
	  "--q\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx", NULL },
	{ "garbage after a boundary", "multipart/form-data; boundary=q",
	  "--q\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n"
	  "--qz\r\n", NULL },
};

/* Feed body in pieces of step bytes (0: whole); the rendering or NULL. */
static char *
t_file_mp_run(const struct t_file_mp_case *c, size_t step, int stop_at)
{
	struct t_file_seen	 s;
	struct multipart	 mp;
	char			*cause = NULL, *out = NULL;
	size_t			 len = strlen(c->body), off, n;

	memset(&s, 0, sizeof s);
	buf_init(&s.out, 1 << 20);
	buf_addstr(&s.out, "");
	s.stop_at = stop_at;
	if (multipart_init(&mp, c->ctype, t_file_part, t_file_data, &s,
	    &cause) != 0) {
		free(cause);
		buf_free(&s.out);
		return (NULL);
	}
	for (off = 0; off < len; off += n) {
		n = step == 0 || step > len - off ? len - off : step;
		if (multipart_feed(&mp, c->body + off, n, &cause) != 0)
			goto out;
	}
	if (multipart_finish(&mp, &cause) != 0)
		goto out;
	out = xstrdup(buf_cstr(&s.out));
out:
	free(cause);
	multipart_free(&mp);
	buf_free(&s.out);
	return (out);
}

static void
t_file_multipart(void)
{
	const struct t_file_mp_case	*c;
	struct multipart		 mp;
	char				 b[80], *got, *cause = NULL;
	size_t				 i, step;

	for (i = 0; i < nitems(t_file_mp_cases); i++) {
		c = &t_file_mp_cases[i];
		for (step = 0; step <= 9; step++) {
			unit_case("%s, pieces of %zu", c->name, step);
			got = t_file_mp_run(c, step, 0);
			CHECK_STR(got, c->want);
			free(got);
		}
	}
	unit_case("a callback stops the feed");
	got = t_file_mp_run(&t_file_mp_cases[0], 0, 2);
	CHECK_STR(got, NULL);
	free(got);
	unit_case("boundaries");
	CHECK_INT(multipart_boundary("multipart/form-data; boundary=abc", b,
	    sizeof b), 0);
	CHECK_STR(b, "abc");
	CHECK_INT(multipart_boundary("Multipart/Form-Data;charset=x; "
	    "boundary=\"a;b\"", b, sizeof b), 0);
	CHECK_STR(b, "a;b");
	CHECK_INT(multipart_boundary("application/json", b, sizeof b), -1);
	CHECK_INT(multipart_boundary("multipart/form-data", b, sizeof b), -1);
	CHECK_INT(multipart_boundary(NULL, b, sizeof b), -1);
	CHECK_INT(multipart_init(&mp, "text/plain", t_file_part, t_file_data,
	    NULL, &cause), -1);
	CHECK(cause != NULL);
	free(cause);
	unit_case_end();
}

static void
t_file_rules(void)
{
	char	 m[64], *s;

	unit_case("ids");
	CHECK(file_id_ok("file-abcXYZ019"));
	CHECK(!file_id_ok("file-"));
	CHECK(!file_id_ok("file-../x"));
	CHECK(!file_id_ok("file-a.b"));
	CHECK(!file_id_ok("files-abc"));
	CHECK(!file_id_ok(NULL));
	unit_case("names");
	s = file_clean_name("../../etc/passwd");
	CHECK_STR(s, "passwd");
	free(s);
	s = file_clean_name("C:\\docs\\r\xe9sum\xc3\xa9\n.pdf");
	CHECK_STR(s, "r?sum\xc3\xa9_.pdf");
	free(s);
	s = file_clean_name("dir/");
	CHECK_STR(s, "upload");
	free(s);
	s = file_clean_name(NULL);
	CHECK_STR(s, "upload");
	free(s);
	unit_case("purposes");
	CHECK(file_purpose_ok("user_data"));
	CHECK(file_purpose_ok("fine-tune"));
	CHECK(!file_purpose_ok(""));
	CHECK(!file_purpose_ok("User Data"));
	unit_case("types");
	file_mime("Image/PNG", "x.bin", m, sizeof m);
	CHECK_STR(m, "image/png");
	file_mime("application/octet-stream", "a.PDF", m, sizeof m);
	CHECK_STR(m, "application/pdf");
	file_mime("", "notes.txt", m, sizeof m);
	CHECK_STR(m, "text/plain");
	file_mime("text/plain\r\nX-Evil: 1", "a", m, sizeof m);
	CHECK_STR(m, "application/octet-stream");
	file_mime(NULL, "noext", m, sizeof m);
	CHECK_STR(m, "application/octet-stream");
	unit_case_end();
}

/* The loader's files: id, type, name, bytes. */
static const struct {
	const char	*id;
	const char	*mime;
	const char	*name;
	const char	*data;
} t_file_store[] = {
	{ "file-pdf", "application/pdf", "a.pdf", "%PDF-1" },
	{ "file-png", "image/png", "p.png", "\x89PNG" },
	{ "file-txt", "text/plain", "n.txt", "hi there" },
	{ "file-err", "text/plain", "e.txt", NULL },
};

static int
t_file_load(const char *id, struct file_data *fd, __unused void *arg,
    struct err *e)
{
	size_t	i;

	for (i = 0; i < nitems(t_file_store); i++) {
		if (strcmp(id, t_file_store[i].id) != 0)
			continue;
		if (t_file_store[i].data == NULL) {
			err_set(e, ERR_STORAGE, "disk on fire");
			return (-1);
		}
		fd->mime = xstrdup(t_file_store[i].mime);
		fd->filename = xstrdup(t_file_store[i].name);
		fd->data = xstrdup(t_file_store[i].data);
		fd->len = strlen(fd->data);
		return (1);
	}
	return (0);
}

struct t_file_inline_case {
	const char		*name;
	enum relay_format	 fmt;
	const char		*in;
	size_t			 max;	/* 0: 1 MiB */
	int			 n;	/* parts replaced, or -1 */
	enum err_code		 code;	/* when -1 */
	const char		*want;	/* the body after, when n >= 0 */
};

static const struct t_file_inline_case t_file_inline_cases[] = {
	{ "chat: a pdf", RELAY_CHAT,
	  "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":["
	  "{\"type\":\"text\",\"text\":\"read\"},{\"type\":\"file\","
	  "\"file\":{\"file_id\":\"file-pdf\"}}]}]}", 0, 1, ERR_OK,
	  "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":["
	  "{\"type\":\"text\",\"text\":\"read\"},{\"type\":\"file\","
	  "\"file\":{\"filename\":\"a.pdf\",\"file_data\":"
	  "\"data:application/pdf;base64,JVBERi0x\"}}]}]}" },
	{ "chat: an image", RELAY_CHAT,
	  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"file\","
	  "\"file\":{\"file_id\":\"file-png\"}}]}]}", 0, 1, ERR_OK,
	  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	  "\"image_url\",\"image_url\":{\"url\":"
	  "\"data:image/png;base64,iVBORw==\"}}]}]}" },
	{ "chat: nothing named", RELAY_CHAT,
	  "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":"
	  "\"user\",\"content\":[{\"type\":\"file\",\"file\":{\"file_data\":"
	  "\"x\"}}]}]}", 0, 0, ERR_OK,
	  "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":"
	  "\"user\",\"content\":[{\"type\":\"file\",\"file\":{\"file_data\":"
	  "\"x\"}}]}]}" },
	{ "chat: an unknown id", RELAY_CHAT,
	  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"file\","
	  "\"file\":{\"file_id\":\"file-nope\"}}]}]}", 0, -1, ERR_NOT_FOUND,
	  NULL },
	{ "chat: the loader fails", RELAY_CHAT,
	  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"file\","
	  "\"file\":{\"file_id\":\"file-err\"}}]}]}", 0, -1, ERR_STORAGE,
	  NULL },
	{ "chat: over the limit", RELAY_CHAT,
	  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"file\","
	  "\"file\":{\"file_id\":\"file-txt\"}},{\"type\":\"file\","
	  "\"file\":{\"file_id\":\"file-txt\"}}]}]}", 60, -1, ERR_INVALID,
	  NULL },
	{ "responses: a file and an image", RELAY_RESPONSES,
	  "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
	  "\"input_file\",\"file_id\":\"file-pdf\"},{\"type\":\"input_image\","
	  "\"file_id\":\"file-png\",\"detail\":\"low\"},{\"type\":"
	  "\"input_file\",\"file_id\":\"file-png\"}]}]}", 0, 3, ERR_OK,
	  "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
	  "\"input_file\",\"file_data\":\"data:application/pdf;base64,"
	  "JVBERi0x\",\"filename\":\"a.pdf\"},{\"type\":\"input_image\","
	  "\"detail\":\"low\",\"image_url\":\"data:image/png;base64,"
	  "iVBORw==\"},{\"type\":\"input_image\",\"image_url\":"
	  "\"data:image/png;base64,iVBORw==\",\"detail\":\"auto\"}]}]}" },
	{ "responses: a string input", RELAY_RESPONSES,
	  "{\"input\":\"file-pdf\"}", 0, 0, ERR_OK, "{\"input\":\"file-pdf\"}" },
	{ "messages: text, pdf, image", RELAY_MESSAGES,
	  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	  "\"document\",\"source\":{\"type\":\"file\",\"file_id\":"
	  "\"file-txt\"}},{\"type\":\"document\",\"source\":{\"type\":"
	  "\"file\",\"file_id\":\"file-pdf\"},\"title\":\"T\"},{\"type\":"
	  "\"image\",\"source\":{\"type\":\"file\",\"file_id\":"
	  "\"file-png\"}},{\"type\":\"document\",\"source\":{\"type\":"
	  "\"url\",\"url\":\"u\"}}]}]}", 0, 3, ERR_OK,
	  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	  "\"document\",\"source\":{\"type\":\"text\",\"media_type\":"
	  "\"text/plain\",\"data\":\"hi there\"}},{\"type\":\"document\","
	  "\"source\":{\"type\":\"base64\",\"media_type\":"
	  "\"application/pdf\",\"data\":\"JVBERi0x\"},\"title\":\"T\"},"
	  "{\"type\":\"image\",\"source\":{\"type\":\"base64\","
	  "\"media_type\":\"image/png\",\"data\":\"iVBORw==\"}},{\"type\":"
	  "\"document\",\"source\":{\"type\":\"url\",\"url\":\"u\"}}]}]}" },
	{ "messages: inside a tool result", RELAY_MESSAGES,
	  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	  "\"tool_result\",\"tool_use_id\":\"t\",\"content\":[{\"type\":"
	  "\"image\",\"source\":{\"type\":\"file\",\"file_id\":"
	  "\"file-png\"}}]}]}]}", 0, 1, ERR_OK,
	  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	  "\"tool_result\",\"tool_use_id\":\"t\",\"content\":[{\"type\":"
	  "\"image\",\"source\":{\"type\":\"base64\",\"media_type\":"
	  "\"image/png\",\"data\":\"iVBORw==\"}}]}]}]}" },
	{ "embeddings are left alone", RELAY_EMBEDDINGS,
	  "{\"input\":[{\"type\":\"input_file\",\"file_id\":\"file-nope\"}]}",
	  0, 0, ERR_OK,
	  "{\"input\":[{\"type\":\"input_file\",\"file_id\":\"file-nope\"}]}" },
};

static void
t_file_inline(void)
{
	const struct t_file_inline_case	*c;
	struct err			 e = { ERR_OK, NULL };
	json_t				*body;
	char				*got;
	size_t				 i;
	int				 n;

	for (i = 0; i < nitems(t_file_inline_cases); i++) {
		c = &t_file_inline_cases[i];
		unit_case("%s", c->name);
		body = json_loads(c->in, 0, NULL);
		if (!CHECK(body != NULL))
			continue;
		n = file_inline(body, c->fmt, c->max != 0 ? c->max : 1 << 20,
		    t_file_load, NULL, &e);
		CHECK_INT(n, c->n);
		if (n < 0) {
			CHECK_INT(e.code, c->code);
			CHECK(e.msg != NULL);
		} else {
			got = json_dumps(body, JSON_COMPACT);
			CHECK_STR(got, c->want);
			free(got);
		}
		err_clear(&e);
		json_decref(body);
	}
	unit_case_end();
}

void
t_file(void)
{
	t_file_multipart();
	t_file_rules();
	t_file_inline();
}

/*
 * The small pure modules: cron expressions (src/cron.c), URL checks
 * (src/url.c), display width (src/width.c), command-line and request
 * argument handling (src/cmd.c), the key option parsers (src/apikey.c),
 * the built-in site presets (src/preset.c) and where the data dir and the
 * socket are (src/paths.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "apikey.h"
#include "cmd.h"
#include "compat.h"
#include "cron.h"
#include "err.h"
#include "notify.h"
#include "paths.h"
#include "preset.h"
#include "relay.h"
#include "site.h"
#include "unit.h"
#include "url.h"
#include "width.h"
#include "xmalloc.h"

#define T_MISC_MAX_ARGV	16

/*
 * Split s on '|' into argv (so that arguments may hold spaces); the words
 * point into *copy, which the caller frees. "" gives no words.
 */
static int
t_misc_split(const char *s, char **argv, char **copy)
{
	char	*p;
	int	 argc = 0;

	*copy = xstrdup(s);
	if (**copy == '\0')
		return (0);
	for (p = *copy; argc < T_MISC_MAX_ARGV - 1; p++) {
		argv[argc++] = p;
		if ((p = strchr(p, '|')) == NULL)
			break;
		*p = '\0';
	}
	argv[argc] = NULL;
	return (argc);
}

/* A UTC time from its parts. */
static time_t
t_misc_utc(int y, int mon, int d, int h, int min, int sec)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = min;
	tm.tm_sec = sec;
	return (timegm(&tm));
}

static void
t_misc_cron_parse(void)
{
	static const struct {
		const char	*expr;
		int		 ok;
	} cases[] = {
		{ "0 8 * * *", 1 },
		{ "* * * * *", 1 },
		{ "*/5 * * * *", 1 },
		{ "0,30 * * * *", 1 },
		{ "0 9-17 * * mon-fri", 1 },
		{ "0 0 1 1 *", 1 },
		{ "0 0 * jan,jul sun", 1 },
		{ "0 0 * * 7", 1 },
		{ "1-59/2 * * * *", 1 },
		{ "5/15 * * * *", 1 },
		{ "59 23 31 12 6", 1 },
		{ "  0\t8  * * *  ", 1 },
		{ "0 0 * DEC Sat", 1 },
		{ "", 0 },
		{ "   ", 0 },
		{ "* * *", 0 },
		{ "* * * *", 0 },
		{ "* * * * * *", 0 },
		{ "61 * * * *", 0 },
		{ "60 * * * *", 0 },
		{ "* 24 * * *", 0 },
		{ "* * 0 * *", 0 },
		{ "* * 32 * *", 0 },
		{ "* * * 0 *", 0 },
		{ "* * * 13 *", 0 },
		{ "* * * * 8", 0 },
		{ "-1 * * * *", 0 },
		{ "5-1 * * * *", 0 },
		{ "1- * * * *", 0 },
		{ "*/0 * * * *", 0 },
		{ "*/61 * * * *", 0 },
		{ "*/ * * * *", 0 },
		{ "1,,2 * * * *", 0 },
		{ "1, * * * *", 0 },
		{ "a * * * *", 0 },
		{ "jan * * * *", 0 },
		{ "* * * foo *", 0 },
		{ "* * * * monday", 0 },
		{ "0000 * * * *", 0 },
		{ "**/2 * * * *", 0 },
	};
	struct cron	 c;
	char		*cause;
	size_t		 i;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("cron \"%s\"", cases[i].expr);
		cause = NULL;
		CHECK_INT(cron_parse(cases[i].expr, &c, &cause),
		    cases[i].ok ? 0 : -1);
		if (cases[i].ok)
			CHECK_STR(cause, NULL);
		else
			CHECK(cause != NULL);
		free(cause);
	}

	unit_case("cron bits");
	if (CHECK_INT(cron_parse("0 8 * * *", &c, NULL), 0)) {
		CHECK(c.minute == 1);
		CHECK(c.hour == 1U << 8);
		CHECK(c.mday_any && c.wday_any);
		CHECK(c.wday == 0x7f);
	}
	if (CHECK_INT(cron_parse("*/15 * * * 7", &c, NULL), 0)) {
		CHECK(c.minute == (1ULL | 1ULL << 15 | 1ULL << 30 |
		    1ULL << 45));
		CHECK(c.wday == 1);
		CHECK(!c.wday_any);
	}
	if (CHECK_INT(cron_parse("0 0 * jan,jul mon-fri", &c, NULL), 0)) {
		CHECK(c.month == (1U << 1 | 1U << 7));
		CHECK(c.wday == 0x3e);
	}
	unit_case_end();
}

static void
t_misc_cron_next(void)
{
	static const struct {
		const char	*expr;
		int		 from[6];	/* y m d h m s, UTC */
		int		 want[5];	/* y m d h m; 0 year: none */
	} cases[] = {
		{ "0 8 * * *", { 2024, 3, 10, 12, 34, 56 },
		  { 2024, 3, 11, 8, 0 } },
		{ "0 8 * * *", { 2024, 3, 10, 7, 59, 59 },
		  { 2024, 3, 10, 8, 0 } },
		{ "0 8 * * *", { 2024, 3, 10, 8, 0, 0 },
		  { 2024, 3, 11, 8, 0 } },
		{ "0 8 * * *", { 2024, 12, 31, 9, 0, 0 },
		  { 2025, 1, 1, 8, 0 } },
		{ "* * * * *", { 2024, 3, 10, 12, 34, 56 },
		  { 2024, 3, 10, 12, 35 } },
		{ "*/15 * * * *", { 2024, 3, 10, 12, 34, 56 },
		  { 2024, 3, 10, 12, 45 } },
		{ "*/15 * * * *", { 2024, 3, 10, 23, 50, 0 },
		  { 2024, 3, 11, 0, 0 } },
		{ "0 0 1 * *", { 2024, 12, 15, 0, 0, 0 },
		  { 2025, 1, 1, 0, 0 } },
		{ "0 0 29 2 *", { 2024, 3, 1, 0, 0, 0 },
		  { 2028, 2, 29, 0, 0 } },
		{ "0 9 * * mon", { 2024, 3, 10, 10, 0, 0 },
		  { 2024, 3, 11, 9, 0 } },
		{ "0 0 13 * 5", { 2024, 3, 10, 0, 0, 0 },
		  { 2024, 3, 13, 0, 0 } },
		{ "0 0 13 * 5", { 2024, 3, 13, 0, 0, 0 },
		  { 2024, 3, 15, 0, 0 } },
		{ "59 23 31 12 *", { 2024, 12, 31, 23, 59, 0 },
		  { 2025, 12, 31, 23, 59 } },
		{ "0 0 31 2 *", { 2024, 1, 1, 0, 0, 0 }, { 0 } },
	}, dst[] = {
		/* 02:30 does not exist on the spring-forward day. */
		{ "30 2 * * *", { 2024, 3, 31, 0, 59, 59 },
		  { 2024, 4, 1, 0, 30 } },
		/* In the repeated hour, after its first 02:30: the second
		 * one, not the first (mktime's pick, in the past). */
		{ "30 2 * * *", { 2024, 10, 27, 1, 0, 0 },
		  { 2024, 10, 27, 1, 30 } },
		/* Right after the first 02:30 ran: not again that night. */
		{ "30 2 * * *", { 2024, 10, 27, 0, 30, 0 },
		  { 2024, 10, 28, 1, 30 } },
	};
	struct cron	 c;
	char		*tz;
	const char	*old;
	time_t		 from, want, got;
	size_t		 i;

	tz = (old = getenv("TZ")) != NULL ? xstrdup(old) : NULL;
	setenv("TZ", "UTC", 1);
	tzset();
	for (i = 0; i < nitems(cases); i++) {
		unit_case("next \"%s\" after %04d-%02d-%02d %02d:%02d:%02d",
		    cases[i].expr, cases[i].from[0], cases[i].from[1],
		    cases[i].from[2], cases[i].from[3], cases[i].from[4],
		    cases[i].from[5]);
		if (!CHECK_INT(cron_parse(cases[i].expr, &c, NULL), 0))
			continue;
		from = t_misc_utc(cases[i].from[0], cases[i].from[1],
		    cases[i].from[2], cases[i].from[3], cases[i].from[4],
		    cases[i].from[5]);
		if (cases[i].want[0] == 0)
			want = -1;
		else
			want = t_misc_utc(cases[i].want[0], cases[i].want[1],
			    cases[i].want[2], cases[i].want[3],
			    cases[i].want[4], 0);
		got = cron_next(&c, from);
		CHECK_INT(got, want);
	}
	unit_case_end();
	/* Daylight saving, in a zone that has it (times given in UTC). */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	for (i = 0; i < nitems(dst); i++) {
		unit_case("next \"%s\" in Berlin after %04d-%02d-%02d "
		    "%02d:%02d:%02d UTC", dst[i].expr, dst[i].from[0],
		    dst[i].from[1], dst[i].from[2], dst[i].from[3],
		    dst[i].from[4], dst[i].from[5]);
		if (!CHECK_INT(cron_parse(dst[i].expr, &c, NULL), 0))
			continue;
		from = t_misc_utc(dst[i].from[0], dst[i].from[1],
		    dst[i].from[2], dst[i].from[3], dst[i].from[4],
		    dst[i].from[5]);
		want = t_misc_utc(dst[i].want[0], dst[i].want[1],
		    dst[i].want[2], dst[i].want[3], dst[i].want[4], 0);
		got = cron_next(&c, from);
		CHECK_INT(got, want);
		CHECK(got > from);
	}
	unit_case_end();
	if (tz != NULL)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(tz);
}

static void
t_misc_url(void)
{
	static const struct {
		const char	*url;
		int		 kinds;
		int		 ok;
	} cases[] = {
		{ "http://example.com", URL_HTTP, 1 },
		{ "https://example.com/v1", URL_HTTP, 1 },
		{ "HTTPS://EXAMPLE.COM", URL_HTTP, 1 },
		{ "http://example.com/", URL_HTTP, 1 },
		{ "http://127.0.0.1:1", URL_HTTP, 1 },
		{ "http://h:65535", URL_HTTP, 1 },
		{ "http://[::1]:8080", URL_HTTP, 1 },
		{ "http://[::1]", URL_HTTP, 1 },
		{ "https://[2001:db8::1]/x", URL_HTTP, 1 },
		{ "https://user:pw@host:443/x", URL_HTTP, 1 },
		{ "http://h/p?q=1#f", URL_HTTP, 1 },
		{ "http://h?q", URL_HTTP, 1 },
		{ "ftp://example.com", URL_HTTP, 0 },
		{ "ftp://example.com", URL_HTTP|URL_PROXY, 0 },
		{ "http://", URL_HTTP, 0 },
		{ "https://", URL_HTTP, 0 },
		{ "http:///path", URL_HTTP, 0 },
		{ "http://:80", URL_HTTP, 0 },
		{ "http://user@", URL_HTTP, 0 },
		{ "http://exa mple.com", URL_HTTP, 0 },
		{ " http://example.com", URL_HTTP, 0 },
		{ "http://example.com ", URL_HTTP, 0 },
		{ "http://ex\tample.com", URL_HTTP, 0 },
		{ "http://example.com\n", URL_HTTP, 0 },
		{ "http://example.com:99999", URL_HTTP, 0 },
		{ "http://example.com:65536", URL_HTTP, 0 },
		{ "http://example.com:0", URL_HTTP, 0 },
		{ "http://example.com:", URL_HTTP, 0 },
		{ "http://example.com:80a", URL_HTTP, 0 },
		{ "http://example.com:-1", URL_HTTP, 0 },
		{ "http://example.com:99999999999999999999", URL_HTTP, 0 },
		{ "http://[::1", URL_HTTP, 0 },
		{ "http://[]", URL_HTTP, 0 },
		{ "http://[::1]x", URL_HTTP, 0 },
		{ "example.com", URL_HTTP, 0 },
		{ "", URL_HTTP, 0 },
		{ "http:/example.com", URL_HTTP, 0 },
		{ "socks5://127.0.0.1:1080", URL_HTTP, 0 },
		{ "socks5://127.0.0.1:1080", URL_HTTP|URL_PROXY, 1 },
		{ "socks5h://proxy.lan:1080", URL_HTTP|URL_PROXY, 1 },
		{ "socks4://p:1", URL_HTTP|URL_PROXY, 1 },
		{ "SOCKS5://p:1080", URL_HTTP|URL_PROXY, 1 },
		{ "http://proxy:3128", URL_HTTP|URL_PROXY, 1 },
		{ "socks5://", URL_HTTP|URL_PROXY, 0 },
		{ "socks5://p:0", URL_HTTP|URL_PROXY, 0 },
		{ "socks6://p:1080", URL_HTTP|URL_PROXY, 0 },
	};
	static const struct {
		const char	*in;
		const char	*want;
	} norms[] = {
		{ "https://x", "https://x" },
		{ "https://x/", "https://x" },
		{ "https://x///", "https://x" },
		{ "https://x/v1/", "https://x/v1" },
		{ "", "" },
	};
	static const struct {
		const char	*in;
		const char	*want;
	} redacts[] = {
		{ "http://proxy:3128", "http://proxy:3128" },
		{ "http://u:s3cret@proxy:3128", "http://u:…@proxy:3128" },
		{ "socks5h://TOKEN@p:1080", "socks5h://…@p:1080" },
		{ "http://u:p@ss/w@rd@h:1/x", "http://u:…@h:1/x" },
		{ "u:s3cret@h:1", "u:…@h:1" },
		{ "s3cret@h", "…@h" },
		{ "", "" },
	};
	char	*cause, *n;
	size_t	 i;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("url \"%s\" kinds %d", cases[i].url, cases[i].kinds);
		cause = NULL;
		CHECK_INT(url_check(cases[i].url, cases[i].kinds, &cause),
		    cases[i].ok ? 0 : -1);
		if (cases[i].ok)
			CHECK_STR(cause, NULL);
		else
			CHECK_SUB(cause, "bad URL");
		free(cause);
	}
	for (i = 0; i < nitems(norms); i++) {
		unit_case("normalize \"%s\"", norms[i].in);
		n = url_normalize(norms[i].in);
		CHECK_STR(n, norms[i].want);
		free(n);
	}
	for (i = 0; i < nitems(redacts); i++) {
		unit_case("redact \"%s\"", redacts[i].in);
		n = url_redact(redacts[i].in);
		CHECK_STR(n, redacts[i].want);
		free(n);
		CHECK_INT(url_has_userinfo(redacts[i].in),
		    strchr(redacts[i].in, '@') != NULL);
	}
	/* An error about a URL never repeats its password. */
	unit_case("no password in errors");
	cause = NULL;
	CHECK_INT(url_check("ftp://u:s3cret@h", URL_HTTP, &cause), -1);
	CHECK_SUB(cause, "ftp://u:…@h");
	CHECK_INT(strstr(cause, "s3cret") == NULL, 1);
	free(cause);
	cause = NULL;
	CHECK_INT(url_check("http://u:s3cret@h:99999", URL_HTTP, &cause), -1);
	CHECK_INT(strstr(cause, "s3cret") == NULL, 1);
	free(cause);
	unit_case_end();
}

static void
t_misc_width(void)
{
	static const struct {
		const char	*s;
		size_t		 width;
	} widths[] = {
		{ "", 0 },
		{ "abc", 3 },
		{ "\xe6\xb5\x8b\xe8\xaf\x95", 4 },		/* 测试 */
		{ "a\xe6\xb5\x8b" "b", 4 },			/* a测b */
		{ "ab\xe6\xb5\x8b\xe8\xaf\x95" "cd", 8 },
		{ "h\xc3\xa9llo", 5 },				/* héllo */
		{ "e\xcc\x81", 1 },				/* e + U+0301 */
		{ "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", 6 },	/* テスト */
		{ "\xed\x95\x9c", 2 },				/* 한 */
		{ "\xef\xbc\xa1", 2 },				/* fullwidth */
		{ "\xf0\x9f\x98\x80", 2 },			/* emoji */
		{ "\xff", 1 },					/* bad byte */
		{ "\xe6\xb5", 2 },				/* cut short */
		{ "a\tb", 2 },					/* control */
	};
	static const struct {
		const char	*s;
		size_t		 max;
		const char	*want;
	} fits[] = {
		{ "abc", 3, "abc" },
		{ "abc", 10, "abc" },
		{ "abcdef", 4, "abc\xe2\x80\xa6" },
		{ "abc", 2, "a\xe2\x80\xa6" },
		{ "abc", 1, "\xe2\x80\xa6" },
		{ "abc", 0, "" },
		{ "", 0, "" },
		{ "\xe6\xb5\x8b\xe8\xaf\x95\xe6\xb5\x8b\xe8\xaf\x95", 5,
		  "\xe6\xb5\x8b\xe8\xaf\x95\xe2\x80\xa6" },
		{ "\xe6\xb5\x8b\xe8\xaf\x95\xe6\xb5\x8b\xe8\xaf\x95", 4,
		  "\xe6\xb5\x8b\xe2\x80\xa6" },
		{ "\xe6\xb5\x8b\xe8\xaf\x95", 2, "\xe2\x80\xa6" },
	};
	static const char *const props[] = {
		"abcdefghij",
		"\xe6\xb5\x8b\xe8\xaf\x95 mixed \xe6\xb5\x8b\xe8\xaf\x95 text",
		"e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "xyz",
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80" "a" "\xff\xfe" "bc",
	};
	char	*f;
	size_t	 i, max, w, n;

	for (i = 0; i < nitems(widths); i++) {
		unit_case("width of entry %zu", i);
		CHECK_INT(width_utf8(widths[i].s), widths[i].width);
	}
	for (i = 0; i < nitems(fits); i++) {
		unit_case("fit entry %zu into %zu", i, fits[i].max);
		f = width_fit(fits[i].s, fits[i].max);
		CHECK_STR(f, fits[i].want);
		free(f);
	}

	/* Any width: never wider, and a cut keeps a prefix plus "…". */
	for (i = 0; i < nitems(props); i++) {
		w = width_utf8(props[i]);
		for (max = 0; max <= w + 1; max++) {
			unit_case("fit property %zu into %zu", i, max);
			f = width_fit(props[i], max);
			CHECK(width_utf8(f) <= max);
			if (max >= w)
				CHECK_STR(f, props[i]);
			else if (max > 0) {
				n = strlen(f) - strlen("\xe2\x80\xa6");
				CHECK(strcmp(f + n, "\xe2\x80\xa6") == 0);
				CHECK(strncmp(f, props[i], n) == 0);
				/* A wide character may leave one cell. */
				CHECK(width_utf8(f) + 1 >= max);
			}
			free(f);
		}
	}
	unit_case_end();
}

/* Every command in the table is well formed and found by its words. */
static void
t_misc_cmd_table(void)
{
	const struct cmd_spec	*c, *m;
	const struct cmd_arg	*a, *b;
	char			*argv[T_MISC_MAX_ARGV], *copy, *p;
	size_t			 i, dups;
	int			 argc, used, options;

	for (i = 0; i < cmd_table_count; i++) {
		c = &cmd_table[i];
		unit_case("command %s", c->name);
		CHECK(strchr(c->name, '.') != NULL);
		CHECK(c->help != NULL);
		CHECK(cmd_find(c->name) == c);
		copy = xstrdup(c->words);
		for (p = copy; *p != '\0'; p++)
			if (*p == ' ')
				*p = '|';
		argc = t_misc_split(copy, argv, &p);
		if (CHECK(argc > 0)) {
			m = cmd_match_words(argc, argv, &used);
			CHECK(m == c);
			CHECK_INT(used, argc);
			CHECK(cmd_is_noun(argv[0]));
		}
		free(p);
		free(copy);
		options = 0;
		for (a = c->args; a->key != NULL; a++) {
			unit_case("command %s arg %s", c->name, a->key);
			if (a->flag != NULL) {
				options = 1;
				CHECK(strncmp(a->flag, "--", 2) == 0);
			} else {
				CHECK(!options);
				CHECK(a->type != ARG_FLAG &&
				    a->type != ARG_LIST);
			}
			/* The CLI names the option when a file fails. */
			if (a->flags & CMD_ARG_FILE)
				CHECK(a->type == ARG_STR && a->flag != NULL);
			for (b = c->args, dups = 0; b != a; b++)
				if (strcmp(a->key, b->key) == 0)
					dups++;
			CHECK_INT(dups, 0);
		}
	}
	unit_case_end();
	CHECK(cmd_find("no.such") == NULL);
	CHECK(!cmd_is_noun("nope"));
	CHECK(!cmd_is_noun("sit"));
}

static void
t_misc_cmd_words(void)
{
	static const struct {
		const char	*argv;
		const char	*want;	/* NULL: no command */
		int		 used;
	} cases[] = {
		{ "site|add|x|y", "site.add", 2 },
		{ "site|list", "site.list", 2 },
		{ "site|list|--json", "site.list", 2 },
		{ "status", "daemon.status", 1 },
		{ "status|extra", "daemon.status", 1 },
		{ "key|rotate|3", "key.rotate", 2 },
		{ "settings|set|a|b", "settings.set", 2 },
		{ "site", NULL, 0 },
		{ "site|frobnicate", NULL, 0 },
		{ "sit|add", NULL, 0 },
		{ "site|ad", NULL, 0 },
		{ "site|addx", NULL, 0 },
		{ "sitex|add", NULL, 0 },
		{ "add|site", NULL, 0 },
		{ "", NULL, 0 },
	};
	const struct cmd_spec	*c;
	char			*argv[T_MISC_MAX_ARGV], *copy;
	size_t			 i;
	int			 argc, used;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("words \"%s\"", cases[i].argv);
		argc = t_misc_split(cases[i].argv, argv, &copy);
		used = -1;
		c = cmd_match_words(argc, argv, &used);
		CHECK_STR(c != NULL ? c->name : NULL, cases[i].want);
		CHECK_INT(used, cases[i].used);
		free(copy);
	}
	unit_case_end();
}

static void
t_misc_cmd_argv(void)
{
	static const struct {
		const char	*cmd;
		const char	*argv;
		const char	*want;	/* JSON, or NULL: fails */
		const char	*cause;	/* part of the message */
	} cases[] = {
		{ "site.add", "x|https://x.example",
		  "{\"name\":\"x\",\"url\":\"https://x.example\"}", NULL },
		{ "site.add", "x|https://x|--platform|new-api|--weight|2.5|"
		  "--header|A: 1|--header=B: 2",
		  "{\"name\":\"x\",\"url\":\"https://x\",\"platform\":"
		  "\"new-api\",\"weight\":2.5,\"header\":[\"A: 1\",\"B: 2\"]}",
		  NULL },
		{ "site.add", "--platform=one-api|x|--weight=3|https://x",
		  "{\"name\":\"x\",\"url\":\"https://x\",\"platform\":"
		  "\"one-api\",\"weight\":3.0}", NULL },
		{ "site.add", "x|u|--platform|a|--platform|b",
		  "{\"name\":\"x\",\"url\":\"u\",\"platform\":\"b\"}", NULL },
		{ "site.add", "x|u|--header=a=b",
		  "{\"name\":\"x\",\"url\":\"u\",\"header\":[\"a=b\"]}", NULL },
		{ "site.add", "x|--|--odd",
		  "{\"name\":\"x\",\"url\":\"--odd\"}", NULL },
		{ "site.add", "-|u", "{\"name\":\"-\",\"url\":\"u\"}", NULL },
		{ "site.add", "x|u|--weight|-1.5",
		  "{\"name\":\"x\",\"url\":\"u\",\"weight\":-1.5}", NULL },
		{ "site.add", "x|u|--nope", NULL, "unknown option --nope" },
		{ "site.add", "x|u|--nope=1", NULL, "unknown option" },
		{ "site.add", "x|u|-p", NULL, "unknown option -p" },
		{ "site.add", "x|u|--plat|a", NULL, "unknown option" },
		{ "site.add", "x", NULL, "give URL or --preset" },
		{ "site.add", "x|--preset|deepseek",
		  "{\"name\":\"x\",\"preset\":\"deepseek\"}", NULL },
		{ "site.add", "", NULL, "missing NAME" },
		{ "site.add", "--platform|a", NULL, "missing" },
		{ "site.add", "x|u|--weight|abc", NULL, "not a number" },
		{ "site.add", "x|u|--weight=", NULL, "not a number" },
		{ "site.add", "x|u|--weight=2x", NULL, "not a number" },
		{ "site.add", "x|u|--weight|1e999", NULL, "not a number" },
		{ "site.add", "x|u|--weight|nan", NULL, "not a number" },
		{ "site.add", "x|u|--weight", NULL, "needs a value" },
		{ "site.add", "x|u|extra", NULL, "unexpected argument" },
		{ "key.add", "k|--max-requests|10",
		  "{\"name\":\"k\",\"max_requests\":10}", NULL },
		{ "key.add", "k|--max-requests|1.5", NULL, "not a whole" },
		{ "key.add", "k|--max-requests|ten", NULL, "not a whole" },
		{ "key.add", "k|--max-cost|0.5",
		  "{\"name\":\"k\",\"max_cost\":0.5}", NULL },
		{ "key.show", "12", "{\"id\":12}", NULL },
		{ "key.show", "-3", "{\"id\":-3}", NULL },
		{ "key.show", "abc", NULL, "not a whole number" },
		{ "key.show", "", NULL, "missing ID" },
		{ "account.add", "s|--no-checkin|--api-key|-",
		  "{\"site\":\"s\",\"no_checkin\":true,\"api_key\":\"-\"}",
		  NULL },
		{ "account.add", "s|--no-checkin=yes", NULL, "takes no value" },
	};
	const struct cmd_spec	*c;
	json_t			*got, *want;
	char			*argv[T_MISC_MAX_ARGV], *copy, *cause, *s;
	size_t			 i;
	int			 argc, ok;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("%s \"%s\"", cases[i].cmd, cases[i].argv);
		if (!CHECK((c = cmd_find(cases[i].cmd)) != NULL))
			continue;
		argc = t_misc_split(cases[i].argv, argv, &copy);
		got = NULL;
		cause = NULL;
		if (cases[i].want != NULL) {
			want = json_loads(cases[i].want, 0, NULL);
			CHECK(want != NULL);
			CHECK_INT(cmd_parse_argv(c, argc, argv, &got, &cause),
			    0);
			CHECK_STR(cause, NULL);
			/* Compared as JSON; on a mismatch, shown as text. */
			s = got != NULL ? json_dumps(got, JSON_COMPACT) : NULL;
			ok = got != NULL && json_equal(got, want);
			CHECK_STR(ok ? cases[i].want : s, cases[i].want);
			if (ok)
				CHECK_INT(cmd_check_args(c, got, &cause), 0);
			free(s);
			json_decref(want);
		} else {
			CHECK_INT(cmd_parse_argv(c, argc, argv, &got, &cause),
			    -1);
			CHECK_SUB(cause, cases[i].cause);
		}
		json_decref(got);
		free(cause);
		free(copy);
	}
	unit_case_end();
}

static void
t_misc_cmd_check(void)
{
	static const struct {
		const char	*args;
		const char	*cause;	/* NULL: accepted */
	} cases[] = {
		{ "{\"name\":\"x\",\"url\":\"u\"}", NULL },
		{ "{\"name\":\"x\",\"url\":\"u\",\"weight\":2}", NULL },
		{ "{\"name\":\"x\",\"url\":\"u\",\"weight\":2.5}", NULL },
		{ "{\"name\":\"x\",\"url\":\"u\",\"header\":[]}", NULL },
		{ "{\"name\":\"x\",\"url\":\"u\",\"header\":[\"a\",\"b\"]}",
		  NULL },
		{ "{\"name\":\"x\",\"url\":\"u\",\"bogus\":1}", "bogus" },
		{ "{\"name\":\"x\",\"url\":\"u\",\"Name\":\"y\"}", "unknown" },
		{ "{\"name\":1,\"url\":\"u\"}", "wrong type" },
		{ "{\"name\":null,\"url\":\"u\"}", "wrong type" },
		{ "{\"name\":\"x\",\"url\":\"u\",\"weight\":\"2\"}",
		  "wrong type" },
		{ "{\"name\":\"x\",\"url\":\"u\",\"weight\":true}",
		  "wrong type" },
		{ "{\"name\":\"x\",\"url\":\"u\",\"header\":\"a\"}",
		  "wrong type" },
		{ "{\"name\":\"x\",\"url\":\"u\",\"header\":[\"a\",1]}",
		  "wrong type" },
		{ "{\"name\":\"x\"}", "give URL or --preset" },
		{ "{\"name\":\"x\",\"preset\":\"kimi\"}", NULL },
		{ "{}", "missing" },
		{ "[]", "JSON object" },
		{ "\"x\"", "JSON object" },
	};
	const struct cmd_spec	*c;
	json_t			*args;
	char			*cause;
	size_t			 i;

	if (!CHECK((c = cmd_find("site.add")) != NULL))
		return;
	for (i = 0; i < nitems(cases); i++) {
		unit_case("site.add args %s", cases[i].args);
		args = json_loads(cases[i].args, JSON_DECODE_ANY, NULL);
		if (!CHECK(args != NULL))
			continue;
		cause = NULL;
		if (cases[i].cause == NULL) {
			CHECK_INT(cmd_check_args(c, args, &cause), 0);
			CHECK_STR(cause, NULL);
		} else {
			CHECK_INT(cmd_check_args(c, args, &cause), -1);
			CHECK_SUB(cause, cases[i].cause);
		}
		free(cause);
		json_decref(args);
	}
	unit_case_end();
}

static void
t_misc_apikey(void)
{
	static const struct {
		const char	*date;
		int		 ok;
		int		 ymd[3];
	} dates[] = {
		{ "2030-01-31", 1, { 2030, 1, 31 } },
		{ "2028-02-29", 1, { 2028, 2, 29 } },
		{ "2030-12-31", 1, { 2030, 12, 31 } },
		{ "2030-02-30", 0, { 0 } },
		{ "2030-02-29", 0, { 0 } },
		{ "2030-04-31", 0, { 0 } },
		{ "2030-13-01", 0, { 0 } },
		{ "2030-00-10", 0, { 0 } },
		{ "2030-01-00", 0, { 0 } },
		{ "2030-1-1", 0, { 0 } },
		{ "2030-01-1", 0, { 0 } },
		{ "2030/01/31", 0, { 0 } },
		{ "2030-01-31x", 0, { 0 } },
		{ "2030-01-31 ", 0, { 0 } },
		{ "junk", 0, { 0 } },
		{ "junkjunkju", 0, { 0 } },
		{ "", 0, { 0 } },
	};
	static const struct {
		const char	*spec;
		const char	*want;	/* JSON array, or NULL: refused */
	} models[] = {
		{ "a,b*,re:^x", "[\"a\",\"b*\",\"re:^x\"]" },
		{ "*", "[\"*\"]" },
		{ "gpt-4o", "[\"gpt-4o\"]" },
		{ "re:^claude-(3|4)", "[\"re:^claude-(3|4)\"]" },
		{ "re:(", NULL },
		{ "a,re:[", NULL },
		{ "a,,b", NULL },
		{ "", NULL },
		{ ",", NULL },
		{ "a,", NULL },
		{ ",a", NULL },
		{ "a b", NULL },
		{ "a,\tb", NULL },
	};
	struct err	 e = { ERR_OK, NULL };
	json_t		*got, *want;
	long long	 t;
	size_t		 i;
	char		*many;

	for (i = 0; i < nitems(dates); i++) {
		unit_case("date \"%s\"", dates[i].date);
		t = 0;
		CHECK_INT(apikey_parse_date(dates[i].date, &t),
		    dates[i].ok ? 0 : -1);
		if (dates[i].ok)
			CHECK_INT(t, t_misc_utc(dates[i].ymd[0],
			    dates[i].ymd[1], dates[i].ymd[2], 23, 59, 59));
	}
	for (i = 0; i < nitems(models); i++) {
		unit_case("models \"%s\"", models[i].spec);
		got = NULL;
		err_clear(&e);
		if (models[i].want != NULL) {
			want = json_loads(models[i].want, JSON_DECODE_ANY,
			    NULL);
			CHECK_INT(apikey_check_models(models[i].spec, &got,
			    &e), 0);
			CHECK(got != NULL && json_equal(got, want));
			CHECK_STR(e.msg, NULL);
			json_decref(want);
		} else {
			CHECK_INT(apikey_check_models(models[i].spec, &got,
			    &e), -1);
			CHECK(got == NULL);
			CHECK_INT(e.code, ERR_INVALID);
			CHECK_SUB(e.msg, "--models");
		}
		json_decref(got);
	}

	unit_case("too many model patterns");
	many = xmalloc(2 * 100);
	for (i = 0; i < 100; i++) {
		many[2 * i] = 'm';
		many[2 * i + 1] = ',';
	}
	many[2 * 100 - 1] = '\0';
	got = NULL;
	err_clear(&e);
	CHECK_INT(apikey_check_models(many, &got, &e), -1);
	CHECK_SUB(e.msg, "at most");
	json_decref(got);
	free(many);
	err_clear(&e);
	unit_case_end();
}

/*
 * data/presets.json as built in: every preset names a known platform and
 * a URL site add accepts, no id or alias is taken twice, and lookups go
 * by id or alias in any case.
 */
static void
t_misc_presets(void)
{
	json_t		*list, *p, *a, *seen;
	const char	*id, *name;
	char		*cause, *names;
	size_t		 i, j;

	list = preset_list();
	seen = json_object();
	CHECK(json_array_size(json_object_get(list, "items")) >= 8);
	json_array_foreach(json_object_get(list, "items"), i, p) {
		id = json_string_value(json_object_get(p, "id"));
		unit_case("preset %zu (%s)", i, id != NULL ? id : "?");
		if (!CHECK(id != NULL))
			continue;
		CHECK(json_is_string(json_object_get(p, "name")));
		CHECK(json_is_string(json_object_get(p, "docs")));
		CHECK(json_is_string(json_object_get(p, "credential")));
		CHECK(json_is_array(json_object_get(p, "aliases")));
		CHECK(site_platform_ok(json_string_value(json_object_get(p,
		    "platform"))));
		cause = NULL;
		CHECK_INT(url_check(json_string_value(json_object_get(p,
		    "url")), URL_HTTP, &cause), 0);
		CHECK_STR(cause, NULL);
		free(cause);
		CHECK(json_object_get(seen, id) == NULL);
		json_object_set_new(seen, id, json_true());
		json_array_foreach(json_object_get(p, "aliases"), j, a) {
			name = json_string_value(a);
			if (!CHECK(name != NULL))
				continue;
			CHECK(json_object_get(seen, name) == NULL);
			json_object_set_new(seen, name, json_true());
		}
	}
	json_decref(seen);
	json_decref(list);

	unit_case("preset lookups");
	p = preset_find("DeepSeek");
	CHECK_STR(json_string_value(json_object_get(p, "url")),
	    "https://api.deepseek.com");
	json_decref(p);
	p = preset_find("kimi");
	CHECK_STR(json_string_value(json_object_get(p, "id")), "moonshot");
	json_decref(p);
	CHECK(preset_find("nope") == NULL);
	names = preset_names();
	CHECK_SUB(names, "deepseek, moonshot");
	free(names);

	/* A base with its own version takes the paths without /v1. */
	unit_case("relay_url with versioned bases");
	names = relay_url("https://open.bigmodel.cn/api/paas/v4",
	    "/v1/chat/completions");
	CHECK_STR(names, "https://open.bigmodel.cn/api/paas/v4/chat/completions");
	free(names);
	names = relay_url("https://api.moonshot.cn/v1", "/v1/chat/completions");
	CHECK_STR(names, "https://api.moonshot.cn/v1/chat/completions");
	free(names);
	names = relay_url("https://api.deepseek.com", "/v1/chat/completions");
	CHECK_STR(names, "https://api.deepseek.com/v1/chat/completions");
	free(names);
	CHECK(!relay_base_versioned("https://x.example.com/dev"));
	CHECK(!relay_base_versioned("https://x.example.com/v"));
	CHECK(!relay_base_versioned("https://x.example.com/api/dv1"));
	CHECK(relay_base_versioned("https://ark.cn-beijing.volces.com/api/v3"));
	unit_case_end();
}

/* notify_pem_ok(): what --ca-file takes, and the reason it refuses. */
static void
t_misc_pem(void)
{
#define PEM_B	"-----BEGIN CERTIFICATE-----\n"
#define PEM_E	"-----END CERTIFICATE-----\n"
	static const struct {
		const char	*pem;
		int		 n;		/* certificates; 0 refused */
		const char	*why;		/* in the message when refused */
	} cases[] = {
		{ PEM_B "MIIBkTCB+wIJAK\nAbCd/+=\n" PEM_E, 1, NULL },
		{ PEM_B "MIIB\r\n" "-----END CERTIFICATE-----\r\n", 1, NULL },
		{ "# bundle\n" PEM_B "MIIB\n" PEM_E "subject=CN = x\n" PEM_B
		  "MIIC\n" PEM_E "trailing words\n", 2, NULL },
		{ "", 0, "not a PEM certificate" },
		{ "hello\n", 0, "not a PEM certificate" },
		{ "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
		  0, "never a private key" },
		{ PEM_B "MIIB\n" PEM_E "-----BEGIN EC PRIVATE KEY-----\nMHc\n"
		  "-----END EC PRIVATE KEY-----\n", 0, "never a private key" },
		{ "-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n", 0,
		  "\"X509 CRL\" block" },
		{ PEM_B "MIIB\n", 0, "without its END line" },
		{ PEM_B "MIIB\n-----END PRIVATE KEY-----\n", 0,
		  "without its END line" },
		{ PEM_B "\n" PEM_E, 0, "not base64 DER" },
		{ PEM_B "AIIB\n" PEM_E, 0, "not base64 DER" },
		{ PEM_B "MII!B\n" PEM_E, 0, "not base64 DER" },
		{ "-----BEGIN CERTIFICATE\nMIIB\n" PEM_E, 0, "broken PEM header" },
		{ "-----BEGIN -----\nMIIB\n" PEM_E, 0, "broken PEM header" },
	};
	struct err	 e = { ERR_OK, NULL };
	char		*big;
	size_t		 i;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("pem %zu", i);
		err_clear(&e);
		CHECK_INT(notify_pem_ok(cases[i].pem, &e), cases[i].n);
		if (cases[i].n == 0) {
			CHECK_INT(e.code, ERR_INVALID);
			CHECK_SUB(e.msg, "--ca-file");
			CHECK_SUB(e.msg, cases[i].why);
		} else
			CHECK_STR(e.msg, NULL);
	}
	unit_case("pem over 64 KiB");
	big = xmalloc(64 * 1024 + 2);
	memset(big, 'A', 64 * 1024 + 1);
	big[64 * 1024 + 1] = '\0';
	memcpy(big, PEM_B "MIIB\n" PEM_E, strlen(PEM_B "MIIB\n" PEM_E));
	err_clear(&e);
	CHECK_INT(notify_pem_ok(big, &e), 0);
	CHECK_SUB(e.msg, "larger than 64 KiB");
	err_clear(&e);
	free(big);
	unit_case_end();
#undef PEM_B
#undef PEM_E
}

/*
 * The data dir and socket by precedence (CLI.md): the option, then
 * METAPI_*, then XDG, then ~/.local/share and /tmp/metapi-UID; an empty
 * variable counts as unset. Names only: nothing is created.
 */
static void
t_misc_paths(void)
{
	static const char *const vars[] = { "METAPI_DATA_DIR",
	    "METAPI_SOCKET", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "HOME" };
	static const struct {
		const char	*what;
		const char	*env[5];	/* as vars[]; NULL unset */
		const char	*opt;
		const char	*data;
		const char	*sock;		/* "" for /tmp/metapi-UID/... */
	} cases[] = {
		{ "defaults", { NULL, NULL, NULL, NULL, "/h" }, NULL,
		  "/h/.local/share/metapi", "" },
		{ "XDG", { NULL, NULL, "/x/data", "/x/run", "/h" }, NULL,
		  "/x/data/metapi", "/x/run/metapi/metapi.sock" },
		{ "METAPI_* over XDG", { "/m/d", "/m/s.sock", "/x/data",
		  "/x/run", "/h" }, NULL, "/m/d", "/m/s.sock" },
		{ "options over all", { "/m/d", "/m/s.sock", "/x/data",
		  "/x/run", "/h" }, "/o", "/o", "/o" },
		{ "empty is unset", { "", "", "", "", "/h" }, "",
		  "/h/.local/share/metapi", "" },
	};
	char	*saved[nitems(vars)], *p, tmp[64];
	size_t	 i, j;

	for (j = 0; j < nitems(vars); j++)
		saved[j] = getenv(vars[j]) != NULL ?
		    xstrdup(getenv(vars[j])) : NULL;
	snprintf(tmp, sizeof tmp, "/tmp/metapi-%ld/metapi.sock",
	    (long)getuid());
	for (i = 0; i < nitems(cases); i++) {
		unit_case("paths: %s", cases[i].what);
		for (j = 0; j < nitems(vars); j++) {
			if (cases[i].env[j] != NULL)
				setenv(vars[j], cases[i].env[j], 1);
			else
				unsetenv(vars[j]);
		}
		p = paths_data_dir(cases[i].opt);
		CHECK_STR(p, cases[i].data);
		free(p);
		p = paths_socket(cases[i].opt);
		CHECK_STR(p, *cases[i].sock != '\0' ? cases[i].sock : tmp);
		free(p);
	}
	unit_case_end();
	for (j = 0; j < nitems(vars); j++) {
		if (saved[j] != NULL)
			setenv(vars[j], saved[j], 1);
		else
			unsetenv(vars[j]);
		free(saved[j]);
	}
}

void
t_misc(void)
{
	t_misc_cron_parse();
	t_misc_cron_next();
	t_misc_url();
	t_misc_width();
	t_misc_cmd_table();
	t_misc_cmd_words();
	t_misc_cmd_argv();
	t_misc_cmd_check();
	t_misc_apikey();
	t_misc_presets();
	t_misc_pem();
	t_misc_paths();
}

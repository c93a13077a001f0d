/*
 * The unit test runner: a table of suites, the check helpers they share and
 * the counts. Every check is one pass or one failure; each failure prints
 * one line. The last line is always "N passed, N failed", which CI reads.
 * With an argument only the suite of that name runs.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "unit.h"
#include "vault.h"
#include "xmalloc.h"

static const struct unit_suite unit_suites[] = {
	{ "proto", t_proto },
	{ "vault", t_vault },
	{ "migrate", t_migrate },
	{ "setting", t_setting },
	{ "misc", t_misc },
	{ "adapter", t_adapter },
	{ "proxylog", t_proxylog },
	{ "sse", t_sse },
	{ "usage", t_usage },
	{ "router", t_router },
	{ "xform", t_xform },
	{ "file", t_file },
	{ "connect", t_connect },
	{ "search", t_search },
};

/* The runner's own state: counts and the case being run. */
static struct {
	int		 passed;
	int		 failed;
	const char	*suite;
	char		 label[256];	/* set by unit_case, "" when none */
} unit;

static void
unit_fail_start(const char *file, int line)
{
	printf("%s:%d: %s:", file, line, unit.suite);
	if (unit.label[0] != '\0')
		printf(" [%s]", unit.label);
	putchar(' ');
}

/* Print a string in quotes with control and non-ASCII bytes escaped. */
static void
unit_print_str(const char *s)
{
	const unsigned char	*p;

	if (s == NULL) {
		printf("NULL");
		return;
	}
	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static int
unit_count(int ok)
{
	if (ok)
		unit.passed++;
	else
		unit.failed++;
	return (ok);
}

int
unit_ok(const char *file, int line, int ok, const char *what)
{
	if (!ok) {
		unit_fail_start(file, line);
		printf("%s: expected true, got false\n", what);
	}
	return (unit_count(ok));
}

int
unit_int(const char *file, int line, const char *what, long long got,
    long long want)
{
	if (got != want) {
		unit_fail_start(file, line);
		printf("%s: expected %lld, got %lld\n", what, want, got);
	}
	return (unit_count(got == want));
}

/* Equal strings; two NULLs are equal. */
int
unit_str(const char *file, int line, const char *what, const char *got,
    const char *want)
{
	int	ok;

	if (got == NULL || want == NULL)
		ok = got == want;
	else
		ok = strcmp(got, want) == 0;
	if (!ok) {
		unit_fail_start(file, line);
		printf("%s: expected ", what);
		unit_print_str(want);
		printf(", got ");
		unit_print_str(got);
		putchar('\n');
	}
	return (unit_count(ok));
}

/* got is not NULL and contains want. */
int
unit_sub(const char *file, int line, const char *what, const char *got,
    const char *want)
{
	int	ok;

	ok = got != NULL && strstr(got, want) != NULL;
	if (!ok) {
		unit_fail_start(file, line);
		printf("%s: expected text containing ", what);
		unit_print_str(want);
		printf(", got ");
		unit_print_str(got);
		putchar('\n');
	}
	return (unit_count(ok));
}

/* Name the case being run; failures print it until the next call. */
void
unit_case(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(unit.label, sizeof unit.label, fmt, ap);
	va_end(ap);
}

void
unit_case_end(void)
{
	unit.label[0] = '\0';
}

/* A fresh private directory under /tmp; free it after unit_rmtree. */
char *
unit_tmpdir(void)
{
	char	tmpl[] = "/tmp/metapi-unit.XXXXXX";

	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return (NULL);
	}
	return (xstrdup(tmpl));
}

/* Remove a directory made by unit_tmpdir with everything in it. */
void
unit_rmtree(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		 sub[PATH_MAX];

	if (path == NULL || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
			unit_rmtree(sub);
		else
			unlink(sub);
	}
	closedir(d);
	rmdir(path);
}

int
main(int argc, char **argv)
{
	const char	*only = NULL;
	char		*cause = NULL;
	size_t		 i;
	int		 ran = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [suite]\n", argv[0]);
		return (2);
	}
	if (argc == 2)
		only = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Migrations and the like log at info; only errors are of interest. */
	if (log_open(NULL, "error", NULL, &cause) != 0) {
		fprintf(stderr, "log_open: %s\n", cause);
		free(cause);
	}
	if (vault_init() != 0) {
		fprintf(stderr, "libsodium failed to initialise\n");
		return (1);
	}
	for (i = 0; i < nitems(unit_suites); i++) {
		if (only != NULL && strcmp(only, unit_suites[i].name) != 0)
			continue;
		unit.suite = unit_suites[i].name;
		unit_case_end();
		unit_suites[i].fn();
		ran++;
	}
	if (ran == 0) {
		fprintf(stderr, "unknown suite: %s (one of:", only);
		for (i = 0; i < nitems(unit_suites); i++)
			fprintf(stderr, " %s", unit_suites[i].name);
		fprintf(stderr, ")\n");
		return (2);
	}
	printf("%d passed, %d failed\n", unit.passed, unit.failed);
	return (unit.failed != 0 ? 1 : 0);
}

static int
unit_name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * Run fn on every NAME.json in $SRCDIR/tests/cases/sub, in name order.
 * A missing or empty directory is a failure: data-driven tests that
 * find no data must not pass.
 */
void
unit_case_files(const char *sub, void (*fn)(const char *, const char *))
{
	const char	*srcdir = getenv("SRCDIR");
	char		*dir, *path, **names = NULL;
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0, i, len;

	xasprintf(&dir, "%s/tests/cases/%s", srcdir != NULL ? srcdir : ".",
	    sub);
	if ((d = opendir(dir)) == NULL) {
		unit_ok(__FILE__, __LINE__, 0, "the case directory exists "
		    "(set SRCDIR)");
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0) {
			names = xreallocarray(names, n + 1, sizeof *names);
			names[n++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	unit_ok(__FILE__, __LINE__, n > 0, "the case directory has cases");
	if (n > 0)
		qsort(names, n, sizeof *names, unit_name_cmp);
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/%s", dir, names[i]);
		fn(path, names[i]);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
}

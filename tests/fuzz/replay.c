/*
 * A main() for a fuzz harness built without libFuzzer: every file of
 * every directory named on the command line (and every file named
 * itself) is handed to LLVMFuzzerTestOneInput once, in name order, so
 * that the seed corpus and any saved crash inputs run in make check
 * under the normal compiler. -v names each input before running it, so
 * that the log of a crash says which one it was.
 *
 * Usage: replay-NAME [-v] DIR|FILE...
 * Prints "fuzz-NAME: N inputs replayed" and exits 0; 1 when a directory
 * or file cannot be read. A broken invariant aborts.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int	verbose;

/* Run one input file; -1 when it cannot be read. */
static int
replay_file(const char *path)
{
	FILE		*f;
	struct stat	 st;
	uint8_t		*data;
	size_t		 len;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return (-1);
	}
	if (fstat(fileno(f), &st) == -1 || st.st_size < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		fclose(f);
		return (-1);
	}
	/* One byte more, so that an empty file is not malloc(0). */
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		fclose(f);
		return (-1);
	}
	len = fread(data, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		free(data);
		fclose(f);
		return (-1);
	}
	fclose(f);
	if (verbose) {
		printf("  %s\n", path);
		fflush(stdout);
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return (0);
}

static int
replay_name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Run every regular file of a directory, dot files left out. */
static int
replay_dir(const char *dir, size_t *count)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		**names = NULL, **nn, *path;
	size_t		 n = 0, i, size;
	int		 rv = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		size = strlen(dir) + strlen(de->d_name) + 2;
		if ((path = malloc(size)) == NULL ||
		    (nn = realloc(names, (n + 1) * sizeof *names)) == NULL) {
			fprintf(stderr, "%s: out of memory\n", dir);
			free(path);
			rv = -1;
			break;
		}
		names = nn;
		snprintf(path, size, "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			names[n++] = path;
		else
			free(path);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, replay_name_cmp);
	for (i = 0; i < n; i++) {
		if (rv == 0) {
			if (replay_file(names[i]) != 0)
				rv = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return (rv);
}

int
main(int argc, char **argv)
{
	struct stat	 st;
	const char	*base;
	size_t		 count = 0;
	int		 i, rv = 0;

	base = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	if (strncmp(base, "replay-", 7) == 0)
		base += 7;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			rv = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &count) != 0)
				rv = 1;
		} else if (replay_file(argv[i]) != 0)
			rv = 1;
		else
			count++;
	}
	printf("fuzz-%s: %zu inputs replayed\n", base, count);
	return (rv);
}

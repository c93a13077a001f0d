/*
 * Path resolution: the data dir and the socket path from options, the
 * environment and XDG defaults, and creation of private (0700) directories.
 * It decides names only; opening files is the caller's business.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "paths.h"
#include "xmalloc.h"

static const char *
paths_env(const char *name)
{
	const char	*v = getenv(name);

	return (v != NULL && *v != '\0' ? v : NULL);
}

static const char *
paths_home(void)
{
	const char	*home = paths_env("HOME");
	struct passwd	*pw;

	if (home == NULL && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	return (home != NULL ? home : "/");
}

char *
paths_join(const char *dir, const char *name)
{
	char	*p;

	xasprintf(&p, "%s/%s", dir, name);
	return (p);
}

/* -d, then $METAPI_DATA_DIR, then $XDG_DATA_HOME/metapi, then ~/.local/share. */
char *
paths_data_dir(const char *opt)
{
	const char	*v;
	char		*p;

	if (opt != NULL && *opt != '\0')
		return (xstrdup(opt));
	if ((v = paths_env("METAPI_DATA_DIR")) != NULL)
		return (xstrdup(v));
	if ((v = paths_env("XDG_DATA_HOME")) != NULL)
		return (paths_join(v, "metapi"));
	xasprintf(&p, "%s/.local/share/metapi", paths_home());
	return (p);
}

/* -S, then $METAPI_SOCKET, then $XDG_RUNTIME_DIR/metapi, then /tmp/metapi-UID. */
char *
paths_socket(const char *opt)
{
	const char	*v;
	char		*p;

	if (opt != NULL && *opt != '\0')
		return (xstrdup(opt));
	if ((v = paths_env("METAPI_SOCKET")) != NULL)
		return (xstrdup(v));
	if ((v = paths_env("XDG_RUNTIME_DIR")) != NULL)
		xasprintf(&p, "%s/metapi/metapi.sock", v);
	else
		xasprintf(&p, "/tmp/metapi-%ld/metapi.sock", (long)getuid());
	return (p);
}

/* Create dir and its missing parents; the last component gets mode 0700. */
int
paths_mkdir_private(const char *dir, char **cause)
{
	char		*copy, *p;
	struct stat	 sb;

	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode)) {
			xasprintf(cause, "%s: not a directory", dir);
			return (-1);
		}
		return (0);
	}
	copy = xstrdup(dir);
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) == -1 && errno != EEXIST) {
			xasprintf(cause, "%s: %s", copy, strerror(errno));
			free(copy);
			return (-1);
		}
		*p = '/';
	}
	free(copy);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * The socket's directory must be ours and not writable by others, or
 * another user could swap the socket (/tmp is shared). A directory we
 * create gets 0700; an existing one is checked, never chmod'ed, since -S
 * may point into any directory of the user's.
 */
int
paths_check_private_dir(const char *dir, char **cause)
{
	struct stat	sb;

	if (paths_mkdir_private(dir, cause) != 0)
		return (-1);
	if (lstat(dir, &sb) != 0) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != getuid()) {
		xasprintf(cause, "%s: not a directory owned by uid %ld", dir,
		    (long)getuid());
		return (-1);
	}
	if ((sb.st_mode & 022) != 0) {
		xasprintf(cause, "%s: writable by other users, who could "
		    "replace the socket; use a private directory", dir);
		return (-1);
	}
	return (0);
}

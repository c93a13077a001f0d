/*
 * main() of the one metapi executable: global options, then `daemon` runs
 * the server half and every other command is a client of it.
 */
#include "config.h"

#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "compat.h"
#include "daemon.h"
#include "doc.h"
#include "log.h"
#include "tui.h"

static void
metapi_version(void)
{
	printf("metapi %s\n", PACKAGE_VERSION);
}

/*
 * Options that print something generated from the tables and exit: the
 * docs and completions the build checks in (see Makefile.am).
 */
static const struct {
	const char	*option;
	void		(*print)(FILE *);
} metapi_print_table[] = {
	{ "--list-commands", cmd_print_markdown },	/* doc/PROTOCOL.md */
	{ "--list-words", cmd_print_words },		/* bash completion */
	{ "--man-commands", doc_man_commands },		/* doc/metapi.1 */
	{ "--man-settings", doc_man_settings },		/* doc/metapi.1 */
	{ "--zsh-completion", doc_zsh_completion },	/* _metapi */
};

/*
 * GnuTLS comes in with libcurl (through libldap and librtmp, for
 * protocols metapi never uses) and sets itself up when it is loaded,
 * unless GNUTLS_NO_IMPLICIT_INIT is set: 0.7 MB of the daemon's resident
 * memory for nothing (those libraries call gnutls_global_init() when
 * they need it). The variable has to be there before the program starts,
 * so the daemon starts itself again with it, once; should that fail it
 * runs as it is.
 */
static void
metapi_daemon_reexec(char **argv)
{
	char	path[PATH_MAX];
	ssize_t	n;

	if (getenv("GNUTLS_NO_IMPLICIT_INIT") != NULL)
		return;
	/* Its own file by name, so that ps still says "metapi", not "exe". */
	if ((n = readlink("/proc/self/exe", path, sizeof path - 1)) <= 0 ||
	    (size_t)n >= sizeof path - 1)
		return;
	path[n] = '\0';
	if (setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 1) != 0)
		return;
	execv(path, argv);
	unsetenv("GNUTLS_NO_IMPLICIT_INIT");
}

int
main(int argc, char **argv)
{
	struct globals	 g;
	size_t		 j;
	int		 i;

	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	/* METAPI_LOCALEDIR: catalogues not yet installed (the tests'). */
	bindtextdomain(PACKAGE, getenv("METAPI_LOCALEDIR") != NULL &&
	    *getenv("METAPI_LOCALEDIR") != '\0' ? getenv("METAPI_LOCALEDIR") :
	    LOCALEDIR);
	textdomain(PACKAGE);
#endif
	memset(&g, 0, sizeof g);
	log_set_prog("metapi");
	output_set_prog(argv[0]);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 ||
		    strcmp(argv[i], "--data-dir") == 0 ||
		    strcmp(argv[i], "-S") == 0 ||
		    strcmp(argv[i], "--socket") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, _("metapi: %s needs a value\n"),
				    argv[i]);
				return (2);
			}
			if (argv[i][1] == 'd' || argv[i][2] == 'd')
				g.data_dir = argv[++i];
			else
				g.socket = argv[++i];
		} else if (strncmp(argv[i], "--data-dir=", 11) == 0)
			g.data_dir = argv[i] + 11;
		else if (strncmp(argv[i], "--socket=", 9) == 0)
			g.socket = argv[i] + 9;
		else if (strcmp(argv[i], "--json") == 0)
			g.json = 1;
		else if (strcmp(argv[i], "--no-start") == 0)
			g.no_start = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			cli_usage(stdout);
			return (0);
		} else if (strcmp(argv[i], "-V") == 0 ||
		    strcmp(argv[i], "--version") == 0) {
			metapi_version();
			return (0);
		} else if (argv[i][0] == '-') {
			for (j = 0; j < nitems(metapi_print_table); j++) {
				if (strcmp(argv[i],
				    metapi_print_table[j].option) == 0) {
					metapi_print_table[j].print(stdout);
					return (0);
				}
			}
			fprintf(stderr, _("metapi: unknown option %s\n"),
			    argv[i]);
			cli_usage(stderr);
			return (2);
		} else
			break;
	}
	if (i == argc) {
		cli_usage(stderr);
		return (2);
	}
	if (strcmp(argv[i], "daemon") == 0) {
		metapi_daemon_reexec(argv);
		return (metapid_main(argc - i, argv + i, g.data_dir, g.socket));
	}
	if (strcmp(argv[i], "tui") == 0 && argc == i + 1)
		return (tui_main(&g));
	return (cli_main(&g, argc - i, argv + i));
}

/*
 * The command table: every control command's name, CLI words, arguments
 * and help. The CLI parses argv with it, the daemon checks requests with
 * it, and doc/PROTOCOL.md and the bash completion are printed from it.
 */
#ifndef CMD_H
#define CMD_H

#include <stdio.h>

#include <jansson.h>

enum cmd_arg_type {
	ARG_STR,	/* a string */
	ARG_INT,	/* a whole number */
	ARG_REAL,	/* a number */
	ARG_FLAG,	/* an option without a value: true when given */
	ARG_LIST	/* a repeatable option: an array of strings */
};

struct cmd_arg {
	const char		*key;	/* JSON key in the request's args */
	const char		*flag;	/* "--platform"; NULL: positional */
	const char		*meta;	/* "P", shown in usage */
	enum cmd_arg_type	 type;
	int			 flags;
#define CMD_ARG_REQUIRED	0x1	/* must be given */
#define CMD_ARG_SECRET		0x2	/* "-" reads it from stdin */
#define CMD_ARG_ONEOF		0x4	/* one of these args at least */
#define CMD_ARG_FILE		0x8	/* the client sends the named file's text */
#define CMD_FILE_MAX		(64 * 1024)	/* for CMD_ARG_FILE */
	const char		*help;
};

#define CMD_MAX_ARGS	16

struct cmd_spec {
	const char	*name;		/* "site.add" on the wire */
	const char	*words;		/* "site add" on the command line */
	const char	*usage;		/* extra usage text, or NULL */
	struct cmd_arg	 args[CMD_MAX_ARGS];
	const char	*help;
	int		 flags;
#define CMD_CLIENT	0x1	/* runs in metapi: the daemon has no handler */
};

extern const struct cmd_spec cmd_table[];
extern const size_t cmd_table_count;

const struct cmd_spec	*cmd_find(const char *);
const struct cmd_spec	*cmd_match_words(int, char **, int *);
int			 cmd_parse_argv(const struct cmd_spec *, int, char **,
			     json_t **, char **);
int			 cmd_check_args(const struct cmd_spec *, json_t *,
			     char **);
void			 cmd_synopsis(const struct cmd_spec *, FILE *);
void			 cmd_usage(const struct cmd_spec *, FILE *);
void			 cmd_print_markdown(FILE *);
void			 cmd_print_words(FILE *);
int			 cmd_is_noun(const char *);
int			 cmd_takes_value(const struct cmd_spec *, const char *);

#endif

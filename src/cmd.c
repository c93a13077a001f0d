/*
 * Command-table lookups and argument handling shared by both halves: the
 * CLI turns argv into a request's args, the daemon checks args from the
 * wire against the same spec, so the two can never disagree on a command's
 * shape.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "compat.h"
#include "i18n.h"
#include "xmalloc.h"

const struct cmd_spec *
cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; i < cmd_table_count; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return (&cmd_table[i]);
	return (NULL);
}

/* Is word the first word of some command ("site")? */
int
cmd_is_noun(const char *word)
{
	size_t	i, n = strlen(word);

	for (i = 0; i < cmd_table_count; i++) {
		if (strncmp(cmd_table[i].words, word, n) == 0 &&
		    (cmd_table[i].words[n] == ' ' ||
		    cmd_table[i].words[n] == '\0'))
			return (1);
	}
	return (0);
}

/* Match the longest command whose words start argv; *used says how many. */
const struct cmd_spec *
cmd_match_words(int argc, char **argv, int *used)
{
	const struct cmd_spec	*best = NULL;
	const char		*w;
	size_t			 i, len;
	int			 j, n, bestn = 0;

	for (i = 0; i < cmd_table_count; i++) {
		w = cmd_table[i].words;
		for (j = 0, n = 0; j < argc; j++) {
			len = strlen(argv[j]);
			if (strncmp(w, argv[j], len) != 0 ||
			    (w[len] != ' ' && w[len] != '\0'))
				break;
			n++;
			w += len;
			if (*w == '\0')
				break;
			w++;
		}
		if (*w == '\0' && n > bestn) {
			best = &cmd_table[i];
			bestn = n;
		}
	}
	*used = bestn;
	return (best);
}

static const struct cmd_arg *
cmd_arg_by_flag(const struct cmd_spec *c, const char *flag, size_t len)
{
	const struct cmd_arg	*a;

	for (a = c->args; a->key != NULL; a++)
		if (a->flag != NULL && strlen(a->flag) == len &&
		    strncmp(a->flag, flag, len) == 0)
			return (a);
	return (NULL);
}

/* Is word an option of c that consumes the next word as its value? */
int
cmd_takes_value(const struct cmd_spec *c, const char *word)
{
	const struct cmd_arg	*a;

	if (strncmp(word, "--", 2) != 0 || strchr(word, '=') != NULL)
		return (0);
	a = cmd_arg_by_flag(c, word, strlen(word));
	return (a != NULL && a->type != ARG_FLAG);
}

/* Convert one textual value to JSON per the argument's type. */
static json_t *
cmd_value(const struct cmd_arg *a, const char *v, char **cause)
{
	const char	*errstr;
	long long	 ll;
	double		 d;
	char		*end;

	switch (a->type) {
	case ARG_INT:
		ll = strtonum(v, -1000000000000LL, 1000000000000LL, &errstr);
		if (errstr != NULL) {
			xasprintf(cause, "%s: \"%s\" is not a whole number",
			    a->flag != NULL ? a->flag : a->meta, v);
			return (NULL);
		}
		return (json_integer(ll));
	case ARG_REAL:
		errno = 0;
		d = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(d)) {
			xasprintf(cause, "%s: \"%s\" is not a number",
			    a->flag != NULL ? a->flag : a->meta, v);
			return (NULL);
		}
		return (json_real(d));
	default:
		return (json_string(v));
	}
}

/*
 * Of the args marked CMD_ARG_ONEOF ("URL or --preset"), at least one
 * must be present. Both halves check it, the CLI before it connects.
 */
static int
cmd_check_oneof(const struct cmd_spec *c, json_t *args, char **cause)
{
	const struct cmd_arg	*a;
	char			*list = NULL, *old;
	int			 any = 0;

	for (a = c->args; a->key != NULL; a++) {
		if (!(a->flags & CMD_ARG_ONEOF))
			continue;
		if (json_object_get(args, a->key) != NULL) {
			free(list);
			return (0);
		}
		old = list;
		xasprintf(&list, "%s%s%s", old != NULL ? old : "",
		    old != NULL ? " or " : "", a->flag != NULL ? a->flag :
		    a->meta);
		free(old);
		any = 1;
	}
	if (!any)
		return (0);
	xasprintf(cause, "give %s", list);
	free(list);
	return (-1);
}

/*
 * Parse the arguments after the command words. Options may come in any
 * order, as "--opt value" or "--opt=value"; "--" ends options.
 */
int
cmd_parse_argv(const struct cmd_spec *c, int argc, char **argv, json_t **out,
    char **cause)
{
	const struct cmd_arg	*a, *pos = c->args;
	json_t			*args, *v, *list;
	const char		*val, *eq;
	int			 i, options = 1;

	args = json_object();
	for (i = 0; i < argc; i++) {
		if (options && strcmp(argv[i], "--") == 0) {
			options = 0;
			continue;
		}
		if (options && argv[i][0] == '-' && argv[i][1] == '-') {
			eq = strchr(argv[i], '=');
			a = cmd_arg_by_flag(c, argv[i], eq != NULL ?
			    (size_t)(eq - argv[i]) : strlen(argv[i]));
			if (a == NULL) {
				xasprintf(cause, "unknown option %s", argv[i]);
				goto fail;
			}
			if (a->type == ARG_FLAG) {
				if (eq != NULL) {
					xasprintf(cause, "%s takes no value",
					    a->flag);
					goto fail;
				}
				json_object_set_new(args, a->key, json_true());
				continue;
			}
			if (eq != NULL)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				xasprintf(cause, "%s needs a value (%s)",
				    a->flag, a->meta);
				goto fail;
			}
		} else if (options && argv[i][0] == '-' && argv[i][1] != '\0' &&
		    (argv[i][1] < '0' || argv[i][1] > '9')) {
			xasprintf(cause, "unknown option %s", argv[i]);
			goto fail;
		} else {
			while (pos->key != NULL && pos->flag != NULL)
				pos++;
			if (pos->key == NULL) {
				xasprintf(cause, "unexpected argument \"%s\"",
				    argv[i]);
				goto fail;
			}
			a = pos++;
			val = argv[i];
		}
		if ((v = cmd_value(a, val, cause)) == NULL)
			goto fail;
		if (a->type == ARG_LIST) {
			if ((list = json_object_get(args, a->key)) == NULL) {
				list = json_array();
				json_object_set_new(args, a->key, list);
			}
			json_array_append_new(list, v);
		} else
			json_object_set_new(args, a->key, v);
	}
	for (a = c->args; a->key != NULL; a++) {
		if ((a->flags & CMD_ARG_REQUIRED) &&
		    json_object_get(args, a->key) == NULL) {
			xasprintf(cause, "missing %s", a->flag != NULL ?
			    a->flag : a->meta);
			goto fail;
		}
	}
	if (cmd_check_oneof(c, args, cause) != 0)
		goto fail;
	*out = args;
	return (0);
fail:
	json_decref(args);
	return (-1);
}

static int
cmd_type_ok(enum cmd_arg_type t, json_t *v)
{
	size_t	 i;
	json_t	*e;

	switch (t) {
	case ARG_STR:
		return (json_is_string(v));
	case ARG_INT:
		return (json_is_integer(v));
	case ARG_REAL:
		return (json_is_number(v));
	case ARG_FLAG:
		return (json_is_boolean(v));
	case ARG_LIST:
		if (!json_is_array(v))
			return (0);
		json_array_foreach(v, i, e)
			if (!json_is_string(e))
				return (0);
		return (1);
	}
	return (0);
}

/* Daemon side: args must be an object of known keys of the right types. */
int
cmd_check_args(const struct cmd_spec *c, json_t *args, char **cause)
{
	const struct cmd_arg	*a;
	const char		*key;
	json_t			*v;

	if (!json_is_object(args)) {
		*cause = xstrdup("args must be a JSON object");
		return (-1);
	}
	json_object_foreach(args, key, v) {
		for (a = c->args; a->key != NULL; a++)
			if (strcmp(a->key, key) == 0)
				break;
		if (a->key == NULL) {
			xasprintf(cause, "%s: unknown argument \"%s\"", c->name,
			    key);
			return (-1);
		}
		if (!cmd_type_ok(a->type, v)) {
			xasprintf(cause, "%s: argument \"%s\" has the wrong "
			    "type", c->name, key);
			return (-1);
		}
	}
	for (a = c->args; a->key != NULL; a++) {
		if ((a->flags & CMD_ARG_REQUIRED) &&
		    json_object_get(args, a->key) == NULL) {
			xasprintf(cause, "%s: missing argument \"%s\"", c->name,
			    a->key);
			return (-1);
		}
	}
	return (cmd_check_oneof(c, args, cause));
}

/* "metapi site add NAME URL [--platform P] ...", plain text. */
void
cmd_synopsis(const struct cmd_spec *c, FILE *f)
{
	const struct cmd_arg	*a;

	fprintf(f, "metapi %s", c->words);
	if (c->usage != NULL) {
		fprintf(f, " %s", c->usage);
		for (a = c->args; a->key != NULL; a++)
			if (a->flag != NULL && strstr(c->usage, a->flag) == NULL)
				fprintf(f, a->type == ARG_FLAG ? " [%s]" :
				    " [%s %s]", a->flag, a->meta);
		return;
	}
	for (a = c->args; a->key != NULL; a++) {
		if (a->flag == NULL)
			fprintf(f, (a->flags & CMD_ARG_REQUIRED) ? " %s" :
			    " [%s]", a->meta);
		else if (a->type == ARG_FLAG)
			fprintf(f, " [%s]", a->flag);
		else
			fprintf(f, " [%s %s]%s", a->flag, a->meta,
			    a->type == ARG_LIST ? "..." : "");
	}
}

void
cmd_usage(const struct cmd_spec *c, FILE *f)
{
	const struct cmd_arg	*a;

	fprintf(f, "%s", _("usage: "));
	cmd_synopsis(c, f);
	fprintf(f, "\n%s\n", _(c->help));
	for (a = c->args; a->key != NULL; a++) {
		fprintf(f, "  %-28s %s\n", a->flag != NULL ? a->flag : a->meta,
		    _(a->help));
	}
}

static const char *const cmd_type_names[] = {
	"string", "integer", "number", "boolean", "array of strings"
};

/* The command reference in doc/PROTOCOL.md, printed from the table. */
void
cmd_print_markdown(FILE *f)
{
	const struct cmd_spec	*c;
	const struct cmd_arg	*a;
	size_t			 i;

	for (i = 0; i < cmd_table_count; i++) {
		c = &cmd_table[i];
		fprintf(f, "### `%s`\n\n%s.\n\n", c->name, c->help);
		if (c->flags & CMD_CLIENT)
			fprintf(f, "Runs in `metapi` itself, over the other "
			    "commands; the daemon has no handler for it.\n\n");
		fprintf(f, "CLI: `");
		cmd_synopsis(c, f);
		fprintf(f, "`\n\n");
		if (c->args[0].key == NULL) {
			fprintf(f, "No arguments.\n\n");
			continue;
		}
		fprintf(f, "| arg | type | required | meaning |\n");
		fprintf(f, "| --- | --- | --- | --- |\n");
		for (a = c->args; a->key != NULL; a++)
			fprintf(f, "| `%s` | %s | %s | %s%s |\n", a->key,
			    cmd_type_names[a->type],
			    (a->flags & CMD_ARG_REQUIRED) ? "yes" : "no",
			    a->help, (a->flags & CMD_ARG_FILE) ? "; the CLI "
			    "sends the text of the file named, at most 64 KiB" :
			    "");
		fprintf(f, "\n");
	}
}

/*
 * One line per command for shell completion: its words, then its options.
 * "site add --platform --proxy --weight --header"
 */
void
cmd_print_words(FILE *f)
{
	const struct cmd_arg	*a;
	size_t			 i;

	for (i = 0; i < cmd_table_count; i++) {
		fprintf(f, "%s", cmd_table[i].words);
		for (a = cmd_table[i].args; a->key != NULL; a++)
			if (a->flag != NULL)
				fprintf(f, " %s", a->flag);
		fprintf(f, "\n");
	}
}

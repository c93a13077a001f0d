/*
 * The parts of the docs that are printed from the tables, so that they
 * cannot drift from the code: the man page's command and setting
 * reference (roff, spliced into doc/metapi.1 by `make man-doc` together
 * with the hand-written notes of doc/metapi-notes.roff) and the zsh
 * completion (data/completion/_metapi, `make zsh-completion`).
 *
 * The roff carries marker comments for doc/gen-man.awk:
 *   .\" @section NAME	start of the commands or the settings
 *   .\" @help KEY	the next lines are replaced by KEY's note, if any
 *   .\" @item KEY	a command's or setting's heading, always printed
 *   .\" @opt FLAG	an option, dropped when the note already has it
 *   .\" @end		the end of a command
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "cmd.h"
#include "doc.h"
#include "log.h"
#include "setting.h"
#include "xmalloc.h"

/*
 * Escape text for a roff text line: backslashes, hyphens (as \- so that
 * they are not hyphenation points) and a leading dot or quote, which
 * would make the line a request.
 */
static void
doc_roff(FILE *f, const char *s, int bol)
{
	for (; *s != '\0'; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		bol = 0;
		switch (*s) {
		case '\\':
			fputs("\\e", f);
			break;
		case '-':
			fputs("\\-", f);
			break;
		case '\n':
			fputc('\n', f);
			bol = 1;
			break;
		default:
			fputc(*s, f);
			break;
		}
	}
}

/* Help as a sentence: a capital first letter and a full stop. */
static void
doc_roff_sentence(FILE *f, const char *help)
{
	size_t	len = strlen(help);

	if (len == 0)
		return;
	if (islower((unsigned char)help[0])) {
		fputc(toupper((unsigned char)help[0]), f);
		doc_roff(f, help + 1, 0);
	} else
		doc_roff(f, help, 1);
	if (strchr(".!?", help[len - 1]) == NULL)
		fputc('.', f);
	fputc('\n', f);
}

static void
doc_font(FILE *f, char *cur, char want)
{
	if (*cur != want)
		fprintf(f, "\\f%c", want);
	*cur = want;
}

/*
 * A plain synopsis as a roff line without requests: words and options
 * bold, metavariables (all capitals: NAME, ACCOUNT_ID) italic, the
 * brackets, bars and ellipses roman.
 */
static void
doc_roff_synopsis(FILE *f, const char *s)
{
	const char	*e;
	char		 cur = 'R';
	int		 caps, lower;

	while (*s != '\0') {
		if (isalnum((unsigned char)*s) || *s == '_') {
			caps = lower = 0;
			for (e = s; isalnum((unsigned char)*e) || *e == '_';
			    e++) {
				if (isupper((unsigned char)*e))
					caps = 1;
				if (islower((unsigned char)*e))
					lower = 1;
			}
			doc_font(f, &cur, caps && !lower ? 'I' : 'B');
			fwrite(s, 1, e - s, f);
			s = e;
			continue;
		}
		if (strchr("[]()|.,", *s) != NULL)
			doc_font(f, &cur, 'R');
		else if (*s != ' ')
			doc_font(f, &cur, 'B');
		switch (*s) {
		case '-':
			fputs("\\-", f);
			break;
		case '\'':
			fputs("\\(aq", f);
			break;
		case '\\':
			fputs("\\e", f);
			break;
		case '"':
			fputs("\\(dq", f);
			break;
		default:
			fputc(*s, f);
			break;
		}
		s++;
	}
	if (cur != 'R')
		fputs("\\fR", f);
	fputc('\n', f);
}

static char *
doc_synopsis(const struct cmd_spec *c)
{
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&s, &len)) == NULL)
		fatal("open_memstream");
	cmd_synopsis(c, f);
	if (fclose(f) != 0)
		fatal("open_memstream");
	return (s);
}

/* Do a and b start with the same noun ("site" of "site.add")? */
static int
doc_same_noun(const struct cmd_spec *a, const struct cmd_spec *b)
{
	size_t	n = strcspn(a->name, ".");

	return (strcspn(b->name, ".") == n &&
	    strncmp(a->name, b->name, n) == 0);
}

static void
doc_man_command(FILE *f, const struct cmd_spec *c)
{
	const struct cmd_arg	*a;
	char			*syn;

	fprintf(f, ".\\\" @item %s\n.TP\n", c->name);
	syn = doc_synopsis(c);
	doc_roff_synopsis(f, syn);
	free(syn);
	fprintf(f, ".\\\" @help %s\n", c->name);
	doc_roff_sentence(f, c->help);
	for (a = c->args; a->key != NULL; a++) {
		if (a->flag == NULL)
			continue;
		fputs(".\\\" @opt ", f);
		doc_roff(f, a->flag, 0);
		fputs("\n.TP\n\\fB", f);
		doc_roff(f, a->flag, 0);
		fputs("\\fR", f);
		if (a->type != ARG_FLAG) {
			fputs(" \\fI", f);
			doc_roff(f, a->meta, 0);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		doc_roff(f, a->help, 1);
		fputc('\n', f);
	}
	fputs(".\\\" @end\n", f);
}

/*
 * The COMMANDS reference: one .SS per noun, in the order of the nouns'
 * first commands in the table, then one .TP per command.
 */
void
doc_man_commands(FILE *f)
{
	const struct cmd_spec	*c;
	size_t			 i, j;

	fputs(".\\\" @section commands\n", f);
	for (i = 0; i < cmd_table_count; i++) {
		c = &cmd_table[i];
		for (j = 0; j < i; j++)
			if (doc_same_noun(&cmd_table[j], c))
				break;
		if (j < i)
			continue;	/* done with its noun */
		j = strcspn(c->name, ".");
		fprintf(f, ".\\\" @help %.*s\n.SS %.*s\n", (int)j, c->name,
		    (int)j, c->name);
		for (j = i; j < cmd_table_count; j++)
			if (doc_same_noun(&cmd_table[j], c))
				doc_man_command(f, &cmd_table[j]);
	}
}

/* A range bound: whole numbers without a fraction or an exponent. */
static void
doc_number(FILE *f, double d)
{
	if (d == floor(d) && fabs(d) < 1e15)
		fprintf(f, "%.0f", d);
	else
		fprintf(f, "%g", d);
}

/* The SETTINGS reference: key (type range, default, restart), help. */
void
doc_man_settings(FILE *f)
{
	const struct setting_entry	*e;
	size_t				 i;

	fputs(".\\\" @section settings\n", f);
	for (i = 0; i < setting_table_count; i++) {
		e = &setting_table[i];
		fprintf(f, ".\\\" @item %s\n.TP\n\\fB", e->name);
		doc_roff(f, e->name, 0);
		fprintf(f, "\\fR (%s", setting_type_name(e->type));
		if (e->type == SETTING_INT || e->type == SETTING_REAL) {
			fputc(' ', f);
			doc_number(f, e->min);
			fputs(" to ", f);
			doc_number(f, e->max);
		} else if (e->type == SETTING_ENUM) {
			fputc(' ', f);
			doc_roff(f, e->choices, 0);
		}
		if (*e->def == '\0')
			fputs(", default empty", f);
		else if (e->type == SETTING_INT || e->type == SETTING_REAL) {
			fputs(", default ", f);
			doc_roff(f, e->def, 0);
		} else {
			fputs(", default \\fB", f);
			doc_roff(f, e->def, 0);
			fputs("\\fR", f);
		}
		fprintf(f, "%s)\n", e->restart ? ", restart" : "");
		fprintf(f, ".\\\" @help %s\n", e->name);
		doc_roff_sentence(f, e->help);
	}
}

/*
 * Write s for a zsh single-quoted word, with a backslash before each
 * character of special (the _arguments metacharacters of that field).
 */
static void
doc_zsh_quote(FILE *f, const char *s, const char *special)
{
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else {
			if (strchr(special, *s) != NULL)
				fputc('\\', f);
			fputc(*s, f);
		}
	}
}

/* A zsh function name for a command: "_metapi_cmd_channel_cooldown_clear". */
static void
doc_zsh_fn(FILE *f, const struct cmd_spec *c)
{
	const char	*s;

	fputs("_metapi_cmd_", f);
	for (s = c->words; *s != '\0'; s++)
		fputc(isalnum((unsigned char)*s) ? *s : '_', f);
}

/* How the value of a is completed: a zsh _arguments action. */
static void
doc_zsh_action(FILE *f, const struct cmd_arg *a)
{
	const struct adapter_ops *const	*ap;
	const char			*s;

	if (strcmp(a->key, "platform") == 0) {
		fputs("(", f);
		for (ap = adapter_table; *ap != NULL; ap++)
			fprintf(f, "%s%s", ap == adapter_table ? "" : " ",
			    (*ap)->name);
		fputs(")", f);
	} else if (strcmp(a->meta, "FILE") == 0 ||
	    strcmp(a->meta, "PATH") == 0 || (a->flag != NULL &&
	    strlen(a->flag) > 5 &&
	    strcmp(a->flag + strlen(a->flag) - 5, "-file") == 0))
		fputs("_files", f);
	else if (strcmp(a->meta, "DIR") == 0)
		fputs("_files -/", f);
	else if (strcmp(a->meta, "SITE") == 0)
		fputs("_metapi_sites", f);
	else if (strchr(a->meta, '|') != NULL &&
	    strspn(a->meta, "abcdefghijklmnopqrstuvwxyz0123456789-|") ==
	    strlen(a->meta)) {
		/* "on|off": the values themselves. */
		fputs("(", f);
		for (s = a->meta; *s != '\0'; s++)
			fputc(*s == '|' ? ' ' : *s, f);
		fputs(")", f);
	}
}

static const char doc_zsh_head[] =
"#compdef metapi\n"
"# zsh completion for metapi(1), printed from the command table by\n"
"# `metapi --zsh-completion`. Do not edit: run `make zsh-completion` after\n"
"# changing src/cmd-table.c (tests/cli/completion.sh checks it).\n"
"\n"
"# _metapi_sites: the names of the daemon's sites, when one is running\n"
"# (never starting one), picked out of `metapi --json site list`.\n"
"(( $+functions[_metapi_sites] )) ||\n"
"_metapi_sites()\n"
"{\n"
"\tsetopt localoptions extendedglob\n"
"\tlocal l expl\n"
"\tlocal -a names\n"
"\n"
"\tfor l in ${(f)\"$(_call_program sites $_metapi_prog $_metapi_globals \\\n"
"\t    --no-start --json site list 2>/dev/null)\"}; do\n"
"\t\t[[ $l == (#b)'      \"name\": \"'(*)'\",' ]] && names+=(\"$match[1]\")\n"
"\tdone\n"
"\t_wanted sites expl site compadd -a names\n"
"}\n"
"\n"
"(( $+functions[_metapi_daemon] )) ||\n"
"_metapi_daemon()\n"
"{\n"
"\t_arguments -S : \\\n"
"\t    '--listen=[HTTP address]:address\\:port:' \\\n"
"\t    '--detach[fork into the background]' \\\n"
"\t    '--log-file=[append the log to a file]:file:_files' \\\n"
"\t    '--log-level=[least important messages logged]:level:(error warn info debug)' \\\n"
"\t    '--log-format=[log line format]:format:(text json)' \\\n"
"\t    '--db=[the database]:url:_files' \\\n"
"\t    '(- *)--help[print the usage]'\n"
"}\n";

static const char doc_zsh_tail[] =
"\n"
"# The command's words pick the function that completes its arguments;\n"
"# while they are being typed, the next words are offered.\n"
"(( $+functions[_metapi_command] )) ||\n"
"_metapi_command()\n"
"{\n"
"\tlocal prefix= best= k w\n"
"\tlocal -a next more ws\n"
"\tinteger i n bestn=0\n"
"\n"
"\tif [[ ${words[1]} == daemon ]]; then\n"
"\t\t_metapi_daemon\n"
"\t\treturn\n"
"\tfi\n"
"\tfor (( i = 1; i < CURRENT; i++ )); do\n"
"\t\t[[ ${words[i]} == -* ]] && break\n"
"\t\tprefix+=${prefix:+ }${words[i]}\n"
"\t\t(( ${+_metapi_cmds[$prefix]} )) && { best=$prefix; bestn=i }\n"
"\t\tmore=(${(M)${(k)_metapi_cmds}:#${prefix} *})\n"
"\t\t(( $#more )) || break\n"
"\tdone\n"
"\tif [[ -n $best ]]; then\n"
"\t\twords=(\"$best\" \"${(@)words[bestn+1,-1]}\")\n"
"\t\t(( CURRENT -= bestn - 1 ))\n"
"\t\t_metapi_cmd_${best//[^a-zA-Z0-9]/_}\n"
"\t\treturn\n"
"\tfi\n"
"\t(( i == CURRENT )) || return 1\n"
"\tn=CURRENT-1\n"
"\tprefix=${(j: :)words[1,n]}\n"
"\tfor k in ${(k)_metapi_cmds}; do\n"
"\t\t(( n == 0 )) || [[ $k == \"$prefix \"* ]] || continue\n"
"\t\tws=(${(s: :)k})\n"
"\t\tw=$ws[n+1]\n"
"\t\tif [[ $k == ${w:+${prefix:+$prefix }}$w ]]; then\n"
"\t\t\tnext+=(\"$w:${_metapi_cmds[$k]}\")\n"
"\t\telif (( ! ${next[(I)$w(|:*)]} )); then\n"
"\t\t\tnext+=(\"$w\")\n"
"\t\tfi\n"
"\tdone\n"
"\t(( n == 0 )) && next+=('daemon:run the daemon'\n"
"\t    'tui:open the full-screen dashboard')\n"
"\t_describe -t commands 'metapi command' next\n"
"}\n"
"\n"
"_metapi()\n"
"{\n"
"\tlocal _metapi_prog=${words[1]}\n"
"\tlocal -a _metapi_globals\n"
"\tinteger i\n"
"\n"
"\t# -d and -S also reach the daemon asked for site names.\n"
"\tfor (( i = 2; i < CURRENT; i++ )); do\n"
"\t\tcase ${words[i]} in\n"
"\t\t-d|--data-dir|-S|--socket)\n"
"\t\t\t_metapi_globals+=(${words[i]} ${words[i+1]}); (( i++ )) ;;\n"
"\t\t--data-dir=*|--socket=*)\n"
"\t\t\t_metapi_globals+=(${words[i]}) ;;\n"
"\t\t-*) ;;\n"
"\t\t*) break ;;\n"
"\t\tesac\n"
"\tdone\n"
"\t_arguments -S : \\\n"
"\t    '(-d --data-dir)'{-d+,--data-dir=}'[the state directory]:directory:_files -/' \\\n"
"\t    '(-S --socket)'{-S+,--socket=}'[the control socket]:socket:_files' \\\n"
"\t    '--json[print the reply as one JSON document]' \\\n"
"\t    '--no-start[fail instead of starting a daemon]' \\\n"
"\t    '(- *)'{-h,--help}'[print the usage]' \\\n"
"\t    '(- *)'{-V,--version}'[print the version]' \\\n"
"\t    '*::command:_metapi_command'\n"
"}\n"
"\n"
"_metapi \"$@\"\n";

/* The zsh completion: one function per command, then the dispatcher. */
void
doc_zsh_completion(FILE *f)
{
	const struct cmd_spec	*c;
	const struct cmd_arg	*a;
	size_t			 i;

	fputs(doc_zsh_head, f);
	for (i = 0; i < cmd_table_count; i++) {
		c = &cmd_table[i];
		fputs("\n(( $+functions[", f);
		doc_zsh_fn(f, c);
		fputs("] )) ||\n", f);
		doc_zsh_fn(f, c);
		fputs("()\n{\n\t_arguments -S : \\\n", f);
		for (a = c->args; a->key != NULL; a++) {
			fputs("\t    '", f);
			if (a->flag == NULL)
				fputs((a->flags & CMD_ARG_REQUIRED) ? ":" : "::",
				    f);
			else {
				if (a->type == ARG_LIST)
					fputc('*', f);
				fputs(a->flag, f);
				if (a->type != ARG_FLAG)
					fputc('=', f);
				fputc('[', f);
				doc_zsh_quote(f, a->help, "[]\\");
				fputc(']', f);
				if (a->type == ARG_FLAG) {
					fputs("' \\\n", f);
					continue;
				}
				fputc(':', f);
			}
			doc_zsh_quote(f, a->meta, ":\\");
			fputc(':', f);
			doc_zsh_action(f, a);
			fputs("' \\\n", f);
		}
		fputs("\t    '--json[print the reply as one JSON document]' \\\n"
		    "\t    '(- *)--help[describe the command]'\n}\n", f);
	}
	fputs("\n# Each command's words and help.\ntypeset -gA _metapi_cmds\n"
	    "_metapi_cmds=(\n", f);
	for (i = 0; i < cmd_table_count; i++) {
		c = &cmd_table[i];
		fprintf(f, "\t'%s' '", c->words);
		doc_zsh_quote(f, c->help, "");
		fputs("'\n", f);
	}
	fputs(")\n", f);
	fputs(doc_zsh_tail, f);
}

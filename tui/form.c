/*
 * Forms: a control command's arguments, from the command table, as fields
 * to fill in. Each field is checked as it is left (required, a number
 * where a number is wanted) and again before anything is sent; the
 * daemon's own refusal comes back inline, under the field it names, and
 * the form stays open. The daemon checks everything again and changes
 * nothing on a refusal, so nothing is ever saved half-way.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NCURSES_WIDECHAR	1
#include <curses.h>
#include <jansson.h>

#include "cmd.h"
#include "compat.h"
#include "tui.h"
#include "width.h"
#include "xmalloc.h"

#define FORM_MAX	CMD_MAX_ARGS
#define FORM_TEXT	512
/* A file field that still holds what the edited record had. */
#define FORM_KEPT	_("(unchanged)")

struct form_field {
	const struct cmd_arg	*arg;
	char			 text[FORM_TEXT];
	char			*error;		/* owned, NULL when fine */
	char			*kept;		/* CMD_ARG_FILE: the text the
						   record had, or NULL */
};

struct form {
	const struct cmd_spec	*cmd;
	struct form_field	 f[FORM_MAX];
	size_t			 n;
	size_t			 cur;
	char			*error;		/* the form's, not a field's */
};

static void
form_set_error(char **dst, const char *msg)
{
	free(*dst);
	*dst = msg != NULL ? xstrdup(msg) : NULL;
}

/* Check one field by its type; sets or clears its error. */
static int
form_check(struct form_field *ff)
{
	const char	*s = ff->text;
	char		*end;

	form_set_error(&ff->error, NULL);
	if (*s == '\0') {
		if (ff->arg->flags & CMD_ARG_REQUIRED) {
			form_set_error(&ff->error, _("required"));
			return (-1);
		}
		return (0);
	}
	if (ff->arg->type == ARG_INT) {
		(void)strtoll(s, &end, 10);
		if (*end != '\0') {
			form_set_error(&ff->error, _("a whole number"));
			return (-1);
		}
	} else if (ff->arg->type == ARG_REAL) {
		(void)strtod(s, &end);
		if (*end != '\0') {
			form_set_error(&ff->error, _("a number"));
			return (-1);
		}
	} else if (ff->arg->type == ARG_FLAG && strcmp(s, "yes") != 0 &&
	    strcmp(s, "no") != 0) {
		form_set_error(&ff->error, _("yes or no"));
		return (-1);
	}
	return (0);
}

static int
form_is_kept(const struct form_field *ff)
{
	return (ff->kept != NULL && strcmp(ff->text, FORM_KEPT) == 0);
}

/*
 * The request's args from the fields; empty optional fields are left out,
 * and so are kept file texts, which form_submit() adds after reading the
 * files named.
 */
static json_t *
form_args(struct form *fm)
{
	struct form_field	*ff;
	json_t			*args = json_object(), *list;
	char			*copy, *p, *save = NULL;
	size_t			 i;

	for (i = 0; i < fm->n; i++) {
		ff = &fm->f[i];
		if (ff->text[0] == '\0' || form_is_kept(ff))
			continue;
		switch (ff->arg->type) {
		case ARG_INT:
			json_object_set_new(args, ff->arg->key,
			    json_integer(strtoll(ff->text, NULL, 10)));
			break;
		case ARG_REAL:
			json_object_set_new(args, ff->arg->key,
			    json_real(strtod(ff->text, NULL)));
			break;
		case ARG_FLAG:
			if (strcmp(ff->text, "yes") == 0)
				json_object_set_new(args, ff->arg->key,
				    json_true());
			break;
		case ARG_LIST:
			/* Repeatable: one value per ";". */
			list = json_array();
			copy = xstrdup(ff->text);
			for (p = strtok_r(copy, ";", &save); p != NULL;
			    p = strtok_r(NULL, ";", &save)) {
				p += strspn(p, " ");
				if (*p != '\0')
					json_array_append_new(list,
					    json_string(p));
			}
			free(copy);
			json_object_set_new(args, ff->arg->key, list);
			break;
		default:
			json_object_set_new(args, ff->arg->key,
			    json_string(ff->text));
			break;
		}
	}
	return (args);
}

/*
 * Put the daemon's refusal under the field it is about: the first whose
 * option the message names ("--ca-file"), else the first whose name it
 * mentions (short names like "to" hide in other words, so options first).
 */
static void
form_place_error(struct form *fm, const char *msg)
{
	const char	*name;
	size_t		 i;

	for (i = 0; i < fm->n; i++) {
		if ((name = fm->f[i].arg->flag) != NULL &&
		    strstr(msg, name) != NULL) {
			form_set_error(&fm->f[i].error, msg);
			fm->cur = i;
			return;
		}
	}
	for (i = 0; i < fm->n; i++) {
		name = fm->f[i].arg->key;
		if (strcasestr(msg, name) != NULL) {
			form_set_error(&fm->f[i].error, msg);
			fm->cur = i;
			return;
		}
	}
	form_set_error(&fm->error, msg);
}

static void
form_draw(struct form *fm)
{
	struct form_field	*ff;
	int			 w = COLS - 4 < 76 ? COLS - 4 : 76;
	int			 h, x, y, top, rows, i, lx;
	char			*title, *shown;
	size_t			 k;

	h = (int)fm->n * 2 + 4 + (fm->error != NULL);
	if (h > LINES - 2)
		h = LINES - 2;
	x = (COLS - w) / 2;
	y = (LINES - h) / 2;
	xasprintf(&title, "%s: %s", fm->cmd->words, _(fm->cmd->help));
	scr_box(y, x, h, w, title);
	free(title);
	rows = (h - 4 - (fm->error != NULL)) / 2;
	top = (int)fm->cur >= rows ? (int)fm->cur - rows + 1 : 0;
	for (i = 0; i < rows && top + i < (int)fm->n; i++) {
		ff = &fm->f[top + i];
		lx = x + 2;
		lx += scr_putf(y + 1 + i * 2, lx, w - 4, (size_t)top + (size_t)i ==
		    fm->cur ? SCR_TITLE : SCR_NORMAL, "%s%s ", ff->arg->key,
		    ff->arg->flags & CMD_ARG_REQUIRED ? "*" : "");
		if (ff->error != NULL)
			scr_put(y + 1 + i * 2, lx, x + w - 2 - lx, SCR_ERR,
			    ff->error);
		else
			scr_put(y + 1 + i * 2, lx, x + w - 2 - lx, SCR_DIM,
			    _(ff->arg->help));
		if (ff->arg->flags & CMD_ARG_SECRET) {
			shown = xstrdup(ff->text);
			for (k = 0; shown[k] != '\0'; k++)
				shown[k] = '*';
		} else
			shown = xstrdup(ff->text);
		scr_fill(y + 2 + i * 2, x + 4, w - 6, (size_t)top + (size_t)i ==
		    fm->cur ? SCR_SELECTED : SCR_TAB);
		scr_put(y + 2 + i * 2, x + 4, w - 6, (size_t)top + (size_t)i ==
		    fm->cur ? SCR_SELECTED : SCR_TAB, shown);
		if ((size_t)top + (size_t)i == fm->cur)
			move(y + 2 + i * 2, x + 4 + ((int)width_utf8(shown) <
			    w - 7 ? (int)width_utf8(shown) : w - 7));
		free(shown);
	}
	if (fm->error != NULL)
		scr_put(y + h - 3, x + 2, w - 4, SCR_ERR, fm->error);
	scr_put(y + h - 2, x + 2, w - 4, SCR_DIM, _("Enter: next field, "
	    "save on the last; Tab/arrows: move; F2: save; Esc: cancel"));
}

/* Send the form; 0 when the daemon took it. */
static int
form_submit(struct tui *t, struct form *fm, json_t **data)
{
	json_t	*args;
	char	*err = NULL;
	size_t	 i;
	int	 bad = 0;

	form_set_error(&fm->error, NULL);
	for (i = 0; i < fm->n; i++) {
		if (form_check(&fm->f[i]) != 0 && !bad) {
			bad = 1;
			fm->cur = i;
		}
	}
	if (bad)
		return (-1);
	args = form_args(fm);
	/* A --ca-file names a file here; the daemon gets its text. */
	if (cli_read_files(fm->cmd, args, &err) != 0) {
		json_decref(args);
		form_place_error(fm, err);
		free(err);
		return (-1);
	}
	for (i = 0; i < fm->n; i++)
		if (form_is_kept(&fm->f[i]))
			json_object_set_new(args, fm->f[i].arg->key,
			    json_string(fm->f[i].kept));
	if (tui_request(t, fm->cmd->name, args, data, &err) != 0) {
		form_place_error(fm, err);
		free(err);
		return (-1);
	}
	return (0);
}

/*
 * Run the form for command cmd (prefill: values to start with, may be
 * NULL). 0 with *data (owned) when the daemon took it; -1 cancelled.
 */
int
form_run(struct tui *t, const char *cmd, json_t *prefill, json_t **data)
{
	struct form		 fm;
	const struct cmd_arg	*a;
	json_t			*v;
	size_t			 i;
	int			 key, rc = -1, done = 0;

	memset(&fm, 0, sizeof fm);
	*data = NULL;
	if ((fm.cmd = cmd_find(cmd)) == NULL)
		return (-1);
	for (a = fm.cmd->args; a->key != NULL && fm.n < FORM_MAX; a++) {
		fm.f[fm.n].arg = a;
		v = json_object_get(prefill, a->key);
		/*
		 * An edited record holds a file's text (a channel's CA), too
		 * long for a field: keep it, and send it unless replaced.
		 */
		if ((a->flags & CMD_ARG_FILE) && json_is_string(v)) {
			fm.f[fm.n].kept = xstrdup(json_string_value(v));
			strlcpy(fm.f[fm.n].text, FORM_KEPT, FORM_TEXT);
		} else if (json_is_string(v))
			strlcpy(fm.f[fm.n].text, json_string_value(v),
			    FORM_TEXT);
		else if (json_is_integer(v))
			snprintf(fm.f[fm.n].text, FORM_TEXT, "%lld",
			    (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(fm.f[fm.n].text, FORM_TEXT, "%g",
			    json_real_value(v));
		else if (a->type == ARG_FLAG)
			strlcpy(fm.f[fm.n].text, json_is_true(v) ? "yes" :
			    "no", FORM_TEXT);
		fm.n++;
	}
	curs_set(1);
	while (!done) {
		form_draw(&fm);
		refresh();
		key = tui_wait_key(t);
		if (key == 27) {
			done = 1;
		} else if (key == SCR_FKEY(KEY_F(2)) || key == SCR_CTRL('s')) {
			if (form_submit(t, &fm, data) == 0)
				rc = 0, done = 1;
		} else if (key == '\t' || key == SCR_FKEY(KEY_DOWN)) {
			form_check(&fm.f[fm.cur]);
			fm.cur = (fm.cur + 1) % fm.n;
		} else if (key == SCR_FKEY(KEY_BTAB) ||
		    key == SCR_FKEY(KEY_UP)) {
			form_check(&fm.f[fm.cur]);
			fm.cur = (fm.cur + fm.n - 1) % fm.n;
		} else if (fm.f[fm.cur].arg->type == ARG_FLAG && key == ' ') {
			strlcpy(fm.f[fm.cur].text, strcmp(fm.f[fm.cur].text,
			    "yes") == 0 ? "no" : "yes", FORM_TEXT);
		} else if (tui_edit_key(fm.f[fm.cur].text, FORM_TEXT,
		    key) == 1) {
			form_check(&fm.f[fm.cur]);
			if (fm.cur + 1 < fm.n)
				fm.cur++;
			else if (form_submit(t, &fm, data) == 0)
				rc = 0, done = 1;
		}
	}
	curs_set(0);
	for (i = 0; i < fm.n; i++) {
		free(fm.f[i].error);
		free(fm.f[i].kept);
	}
	free(fm.error);
	return (rc);
}

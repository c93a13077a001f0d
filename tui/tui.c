/*
 * `metapi tui`: the full-screen dashboard. Two connections to the daemon:
 * one for requests, answered in turn, and one subscribed to live events
 * (new request logs), read when poll() says they are there, so the
 * screen follows the daemon without asking it again and again. Views
 * are tables of callbacks (view-*.c); this file has the tab bar, the
 * footer, the keys every view shares, modal prompts, the help screen
 * built from the action tables, and reconnecting when the daemon goes
 * away and comes back. The screen is redrawn only when something
 * changed, at most ten times a second.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NCURSES_WIDECHAR	1
#include <curses.h>
#include <jansson.h>

#include "compat.h"
#include "jx.h"
#include "search.h"
#include "tui.h"
#include "width.h"
#include "xmalloc.h"

#define TUI_MAX_VIEWS		16
#define TUI_STATUS_SEC		5
#define TUI_RETRY_SEC		2
#define TUI_FRAME_MS		100

struct tui {
	struct globals		 g;
	struct client		 req;		/* requests and replies */
	struct client		 ev;		/* subscribed events */
	int			 online;
	time_t			 retry_at;
	const struct tui_view	*views[TUI_MAX_VIEWS];
	void			*state[TUI_MAX_VIEWS];
	size_t			 nviews;
	size_t			 cur;
	char			 status[256];
	int			 status_err;
	time_t			 status_at;
	char			 filter[128];
	char			 query[SEARCH_QUERY_MAX + 1];	/* searched */
	int			 dirty;
	int			 help;		/* the help screen is up */
	int			 quit;
	int			 wake[2];	/* tui_wake's pipe */
};

static volatile sig_atomic_t	tui_sig_quit;

static void
tui_on_signal(__unused int sig)
{
	tui_sig_quit = 1;
}

void
tui_dirty(struct tui *t)
{
	t->dirty = 1;
}

/*
 * Wake the main loop from any thread (the playground's streams): one
 * byte down a non-blocking pipe the loop polls, which then redraws. A
 * full pipe already holds a wake-up, so a failed write loses nothing.
 */
void
tui_wake(struct tui *t)
{
	ssize_t	n;

	if (t->wake[1] == -1)
		return;
	n = write(t->wake[1], "", 1);
	(void)n;
}

static void
tui_drain_wake(struct tui *t)
{
	char	b[256];

	while (read(t->wake[0], b, sizeof b) > 0)
		;
	t->dirty = 1;
}

static void
tui_open_wake(struct tui *t)
{
	int	i;

	if (pipe(t->wake) == -1) {
		t->wake[0] = t->wake[1] = -1;
		return;
	}
	for (i = 0; i < 2; i++) {
		fcntl(t->wake[i], F_SETFL, fcntl(t->wake[i], F_GETFL) |
		    O_NONBLOCK);
		fcntl(t->wake[i], F_SETFD, FD_CLOEXEC);
	}
}

const char *
tui_filter(struct tui *t)
{
	return (t->filter);
}

const char *
tui_query(struct tui *t)
{
	return (t->query);
}

static void
tui_vstatus(struct tui *t, int err, const char *fmt, va_list ap)
{
	vsnprintf(t->status, sizeof t->status, fmt, ap);
	t->status_err = err;
	t->status_at = time(NULL);
	t->dirty = 1;
}

void
tui_status(struct tui *t, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	tui_vstatus(t, 0, fmt, ap);
	va_end(ap);
}

static void
tui_error(struct tui *t, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	tui_vstatus(t, 1, fmt, ap);
	va_end(ap);
}

/* Connections. */

static void
tui_disconnect(struct tui *t)
{
	client_close(&t->req);
	client_close(&t->ev);
	t->online = 0;
	t->retry_at = time(NULL) + TUI_RETRY_SEC;
	t->dirty = 1;
}

/*
 * Connect both channels. Only the first connect may start a daemon (as
 * every command does); a daemon that went away later was stopped on
 * purpose or died, and the TUI waits for it rather than racing a start.
 */
static int
tui_connect(struct tui *t, int may_start, char **cause)
{
	struct globals	g = t->g;

	memset(&t->req, 0, sizeof t->req);
	memset(&t->ev, 0, sizeof t->ev);
	t->req.fd = t->ev.fd = -1;
	if (!may_start)
		g.no_start = 1;
	if (client_open(&t->req, &g, cause) != 0)
		goto fail;
	g.no_start = 1;
	if (client_open(&t->ev, &g, cause) != 0 ||
	    client_subscribe(&t->ev, "logs", cause) != 0)
		goto fail;
	t->online = 1;
	return (0);
fail:
	client_close(&t->req);
	client_close(&t->ev);
	return (-1);
}

/*
 * Ask the daemon. 0 with *data (the reply's data, owned, may be NULL);
 * -1 with *err (owned): the daemon's refusal, or that it is not there.
 */
int
tui_request(struct tui *t, const char *cmd, json_t *args, json_t **data,
    char **err)
{
	json_t		*reply = NULL, *e;
	char		*cause = NULL;
	const char	*msg;

	*data = NULL;
	*err = NULL;
	if (!t->online) {
		json_decref(args);
		*err = xstrdup(_("not connected to the daemon"));
		return (-1);
	}
	if (client_request(&t->req, cmd, args, &reply, &cause) != 0) {
		xasprintf(err, _("the daemon went away: %s"), cause != NULL ?
		    cause : "?");
		free(cause);
		tui_disconnect(t);
		return (-1);
	}
	if (!jx_bool(reply, "ok")) {
		e = json_object_get(reply, "error");
		msg = jx_str(e, "message");
		*err = xstrdup(msg != NULL ? msg : _("refused"));
		json_decref(reply);
		return (-1);
	}
	*data = json_incref(json_object_get(reply, "data"));
	json_decref(reply);
	return (0);
}

/* Read the events that arrived and hand them to every view. */
static void
tui_read_events(struct tui *t)
{
	struct pollfd	 pfd;
	json_t		*ev;
	char		*cause = NULL;
	const char	*topic;
	size_t		 i;

	pfd.fd = t->ev.fd;
	pfd.events = POLLIN;
	while (t->online && poll(&pfd, 1, 0) == 1) {
		if (client_event(&t->ev, &ev, &cause) != 0) {
			free(cause);
			tui_disconnect(t);
			tui_error(t, "%s", _("the daemon went away; "
			    "reconnecting when it is back"));
			return;
		}
		topic = jx_str(ev, "topic");
		for (i = 0; topic != NULL && i < t->nviews; i++)
			if (t->views[i]->event != NULL)
				t->views[i]->event(t, t->state[i], topic,
				    json_object_get(ev, "data"));
		json_decref(ev);
	}
}

static void
tui_load(struct tui *t)
{
	const struct tui_view	*v = t->views[t->cur];

	if (v->load != NULL)
		v->load(t, t->state[t->cur]);
	t->dirty = 1;
}

static void
tui_retry(struct tui *t)
{
	char	*cause = NULL;

	if (t->online || time(NULL) < t->retry_at)
		return;
	if (tui_connect(t, 0, &cause) != 0) {
		free(cause);
		t->retry_at = time(NULL) + TUI_RETRY_SEC;
		return;
	}
	tui_status(t, "%s", _("connected to the daemon again"));
	tui_load(t);
}

/* Modal input on the footer line. */

/* Remove the last UTF-8 character of s. */
static void
tui_backspace(char *s)
{
	size_t	n = strlen(s);

	while (n > 0 && ((unsigned char)s[n - 1] & 0xc0) == 0x80)
		n--;
	if (n > 0)
		n--;
	s[n] = '\0';
}

/* Append code point c to s (size bytes) as UTF-8. */
static void
tui_append(char *s, size_t size, int c)
{
	char	u[5];
	size_t	n = strlen(s), k;

	if (c < 0x80) {
		u[0] = (char)c;
		k = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		k = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		k = 3;
	} else {
		u[0] = (char)(0xf0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		k = 4;
	}
	if (n + k < size) {
		memcpy(s + n, u, k);
		s[n + k] = '\0';
	}
}

/*
 * Edit text in buf (size bytes, UTF-8) as the user types: Enter 1,
 * Escape 0. Other keys edit. Shared by the prompt and the forms.
 */
int
tui_edit_key(char *buf, size_t size, int key)
{
	if (key == '\r' || key == '\n' || key == SCR_FKEY(KEY_ENTER))
		return (1);
	if (key == 27)
		return (0);
	if (key == SCR_FKEY(KEY_BACKSPACE) || key == 127 || key == 8)
		tui_backspace(buf);
	else if (key == SCR_CTRL('u'))
		buf[0] = '\0';
	else if (key >= 0x20 && key < 0x110000 && key != 127)
		tui_append(buf, size, key);
	return (-1);
}

/* Wait for one key, keeping events flowing meanwhile. */
int
tui_wait_key(struct tui *t)
{
	struct pollfd	pfd[2];
	int		key, n;

	for (;;) {
		if (scr_getkey(&key))
			return (key);
		if (tui_sig_quit)
			return (27);
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = t->online ? t->ev.fd : -1;
		pfd[1].events = POLLIN;
		n = poll(pfd, 2, 1000);
		if (n > 0 && (pfd[1].revents & POLLIN))
			tui_read_events(t);
	}
}

int
tui_prompt(struct tui *t, const char *label, const char *initial, char **out)
{
	char	buf[8192];	/* a playground message fits */
	int	rc, key, w;

	strlcpy(buf, initial != NULL ? initial : "", sizeof buf);
	curs_set(1);
	for (;;) {
		scr_fill(LINES - 1, 0, COLS, SCR_NORMAL);
		w = scr_put(LINES - 1, 0, COLS / 2, SCR_TITLE, label);
		w += scr_put(LINES - 1, w, 1, SCR_NORMAL, " ");
		scr_put(LINES - 1, w, COLS - w - 1, SCR_NORMAL, buf);
		move(LINES - 1, w + (int)width_utf8(buf) < COLS - 1 ? w +
		    (int)width_utf8(buf) : COLS - 1);
		refresh();
		key = tui_wait_key(t);
		if ((rc = tui_edit_key(buf, sizeof buf, key)) >= 0)
			break;
	}
	curs_set(0);
	t->dirty = 1;
	if (rc == 1)
		*out = xstrdup(buf);
	return (rc);
}

int
tui_confirm(struct tui *t, const char *question)
{
	int	key;

	scr_fill(LINES - 1, 0, COLS, SCR_NORMAL);
	scr_putf(LINES - 1, 0, COLS, SCR_WARN, "%s %s", question,
	    _("[y/N]"));
	refresh();
	key = tui_wait_key(t);
	t->dirty = 1;
	return (key == 'y' || key == 'Y');
}

int
tui_form(struct tui *t, const char *cmd, json_t *prefill, json_t **data)
{
	int	rv;

	rv = form_run(t, cmd, prefill, data);
	t->dirty = 1;
	return (rv);
}

/* Drawing. */

static int
tui_tab_label(struct tui *t, size_t i, char *label, size_t size)
{
	const char	*title = _(t->views[i]->title);

	if (i < 10)
		snprintf(label, size, " %zu %s ", (i + 1) % 10, title);
	else
		snprintf(label, size, " %s ", title);
	return ((int)width_utf8(label));
}

/*
 * The tab bar. When the tabs do not fit, it starts late enough that the
 * current one shows, with "<" and ">" saying there is more.
 */
static void
tui_draw_tabs(struct tui *t)
{
	size_t	i, first = 0;
	int	x, w, total;
	char	label[64];

	scr_fill(0, 0, COLS, SCR_TAB);
	for (;;) {
		for (i = first, total = first > 0 ? 1 : 0; i <= t->cur; i++)
			total += tui_tab_label(t, i, label, sizeof label);
		if (total <= COLS - 1 || first == t->cur)
			break;
		first++;
	}
	x = 0;
	if (first > 0)
		x += scr_put(0, x, 1, SCR_TAB, "<");
	for (i = first; i < t->nviews && x < COLS; i++) {
		w = tui_tab_label(t, i, label, sizeof label);
		if (x + w > COLS - 1 && i > t->cur) {
			scr_put(0, COLS - 1, 1, SCR_TAB, ">");
			break;
		}
		x += scr_put(0, x, COLS - x, i == t->cur ? SCR_TAB_ON :
		    SCR_TAB, label);
	}
}

/* " KEY help " in the footer; the cells used. */
static int
tui_footer_key(int y, int x, const char *key, const char *help)
{
	int	n;

	if (x >= COLS)
		return (0);
	n = scr_putf(y, x, COLS - x, SCR_KEY, " %s ", key);
	n += scr_putf(y, x + n, COLS - x - n, SCR_DIM, " %s ", help);
	return (n);
}

static void
tui_draw_footer(struct tui *t)
{
	const struct tui_action	*a;
	int			 x = 0, y = LINES - 1;

	scr_fill(y, 0, COLS, SCR_NORMAL);
	if (!t->online) {
		scr_put(y, 0, COLS, SCR_ERR, _("daemon not answering: "
		    "reconnecting..."));
		return;
	}
	if (t->status[0] != '\0' &&
	    time(NULL) - t->status_at < TUI_STATUS_SEC) {
		scr_put(y, 0, COLS, t->status_err ? SCR_ERR : SCR_OK,
		    t->status);
		return;
	}
	if (t->filter[0] != '\0') {
		x += scr_putf(y, x, COLS - x, SCR_WARN, "\\%s ", t->filter);
	}
	x += tui_footer_key(y, x, "?", _("help"));
	for (a = t->views[t->cur]->actions; a != NULL && a->key != 0 &&
	    x < COLS; a++)
		x += tui_footer_key(y, x, a->name, _(a->help));
	tui_footer_key(y, x, "q", _("quit"));
}

/* The keys every view shares, for the help screen. */
static const struct tui_action tui_global_actions[] = {
	{ 1, "1-9 0", N_("switch to a view by number") },
	{ 1, "Tab", N_("next view (Shift-Tab: previous)") },
	{ 1, "j k", N_("move down and up (arrows too)") },
	{ 1, "/ F3", N_("search sites, accounts, keys, models, routes and "
	  "logs; Enter on a match goes there") },
	{ 1, "\\ F4", N_("filter the list (empty: no filter)") },
	{ 1, ":", N_("command: a view's name, help or quit") },
	{ 1, "r F5", N_("reload from the daemon") },
	{ 1, "? F1", N_("this help") },
	{ 1, "q F10", N_("quit") },
	{ 0, NULL, NULL }
};

static int
tui_help_lines(const struct tui_action *a, int y, int x, int w, int last)
{
	for (; a != NULL && a->key != 0 && y < last; a++, y++) {
		scr_put(y, x, 12, SCR_KEY, a->name);
		scr_put(y, x + 13, w - 13, SCR_NORMAL, _(a->help));
	}
	return (y);
}

static int
tui_count_actions(const struct tui_action *a)
{
	int	n = 0;

	for (; a != NULL && a->key != 0; a++)
		n++;
	return (n);
}

static void
tui_draw_help(struct tui *t)
{
	int	h, w = COLS - 4 < 76 ? COLS - 4 : 76, y;
	char	title[128];

	h = tui_count_actions(tui_global_actions) +
	    tui_count_actions(t->views[t->cur]->actions) + 3;
	if (h > LINES - 4)
		h = LINES - 4;
	snprintf(title, sizeof title, "%s: %s", _("Help"),
	    _(t->views[t->cur]->title));
	scr_box(2, 2, h, w, title);
	y = tui_help_lines(tui_global_actions, 3, 4, w - 4, 2 + h - 1);
	y++;
	tui_help_lines(t->views[t->cur]->actions, y, 4, w - 4, 2 + h - 1);
}

static void
tui_draw(struct tui *t)
{
	erase();
	if (COLS < 40 || LINES < 10) {
		scr_put(0, 0, COLS, SCR_ERR, _("terminal too small"));
		refresh();
		return;
	}
	tui_draw_tabs(t);
	if (t->views[t->cur]->draw != NULL)
		t->views[t->cur]->draw(t, t->state[t->cur], 1, 0, LINES - 2,
		    COLS);
	if (t->help)
		tui_draw_help(t);
	tui_draw_footer(t);
	refresh();
	t->dirty = 0;
}

/* Keys. */

static void
tui_switch(struct tui *t, size_t i)
{
	if (i >= t->nviews)
		return;
	if (i != t->cur && t->views[t->cur]->leave != NULL)
		t->views[t->cur]->leave(t, t->state[t->cur]);
	t->cur = i;
	t->filter[0] = '\0';
	t->help = 0;
	tui_load(t);
}

static size_t
tui_find_view(struct tui *t, const char *name)
{
	size_t	i;

	for (i = 0; i < t->nviews; i++)
		if (strcmp(name, t->views[i]->name) == 0)
			break;
	return (i);
}

/*
 * Show the view of this name with the row of id ref (NULL: none)
 * selected, where the view can select one; -1 when there is no such
 * view. The search view's Enter comes here.
 */
int
tui_goto(struct tui *t, const char *name, json_t *ref)
{
	size_t	i;

	if ((i = tui_find_view(t, name)) == t->nviews)
		return (-1);
	tui_switch(t, i);
	if (ref != NULL && t->views[i]->select != NULL)
		t->views[i]->select(t, t->state[i], ref);
	return (0);
}

/*
 * "/": search.run over every kind, in the search view. The text filter
 * that "/" was before is "\" now (htop has the same pair): a search
 * finds things anywhere, a filter narrows the list on the screen, and
 * the search view's rows can be filtered like any list.
 */
static void
tui_search(struct tui *t)
{
	char	*s = NULL;
	size_t	 i;

	if (tui_prompt(t, _("Search:"), t->query, &s) != 1)
		return;
	if (*s != '\0' && (i = tui_find_view(t, "search")) < t->nviews) {
		strlcpy(t->query, s, sizeof t->query);
		tui_switch(t, i);
	}
	free(s);
}

/* ":" commands: a view's name, help, quit. */
static void
tui_command(struct tui *t)
{
	char	*line = NULL;
	size_t	 i;

	if (tui_prompt(t, ":", "", &line) != 1)
		return;
	if (strcmp(line, "q") == 0 || strcmp(line, "quit") == 0)
		t->quit = 1;
	else if (strcmp(line, "help") == 0)
		t->help = 1;
	else {
		if ((i = tui_find_view(t, line)) < t->nviews)
			tui_switch(t, i);
		else if (*line != '\0')
			tui_error(t, _("unknown command: %s"), line);
	}
	free(line);
}

static void
tui_key(struct tui *t, int key)
{
	const struct tui_view	*v = t->views[t->cur];
	char			*s = NULL;

	/* A key read the status line: it makes way for the key hints. */
	if (t->status[0] != '\0' && key != SCR_FKEY(KEY_RESIZE)) {
		t->status[0] = '\0';
		t->dirty = 1;
	}
	if (t->help) {
		t->help = 0;
		t->dirty = 1;
		if (key != 'q')
			return;
	}
	if (v->key != NULL && v->key(t, t->state[t->cur], key))
		return;
	if (key == 'q' || key == SCR_FKEY(KEY_F(10)))
		t->quit = 1;
	else if (key == '?' || key == SCR_FKEY(KEY_F(1))) {
		t->help = 1;
		t->dirty = 1;
	} else if (key == '\t')
		tui_switch(t, (t->cur + 1) % t->nviews);
	else if (key == SCR_FKEY(KEY_BTAB))
		tui_switch(t, (t->cur + t->nviews - 1) % t->nviews);
	else if (key >= '0' && key <= '9')
		tui_switch(t, key == '0' ? 9 : (size_t)(key - '1'));
	else if (key == 'r' || key == SCR_FKEY(KEY_F(5))) {
		tui_load(t);
		tui_status(t, "%s", _("reloaded"));
	} else if (key == '/' || key == SCR_FKEY(KEY_F(3)))
		tui_search(t);
	else if (key == '\\' || key == SCR_FKEY(KEY_F(4))) {
		if (tui_prompt(t, _("Filter:"), t->filter, &s) == 1) {
			strlcpy(t->filter, s, sizeof t->filter);
			free(s);
		}
	} else if (key == ':')
		tui_command(t);
	else if (key == SCR_FKEY(KEY_RESIZE)) {
		/* The terminal moved its text about: paint it all again. */
		clearok(curscr, TRUE);
		t->dirty = 1;
	}
}

static void
tui_add_view(struct tui *t, const struct tui_view *v)
{
	if (t->nviews == TUI_MAX_VIEWS)
		return;
	t->views[t->nviews] = v;
	t->state[t->nviews] = v->open != NULL ? v->open(t) : NULL;
	t->nviews++;
}

/*
 * The views in tab order: the dashboard, then the lists (sites, accounts,
 * tokens, keys), routes, the rest of the lists, logs.
 */
static void
tui_add_views(struct tui *t)
{
	size_t	i;

	tui_add_view(t, &view_dash);
	for (i = 0; i < view_lists_count && i < 4; i++)
		tui_add_view(t, view_lists[i]);
	tui_add_view(t, &view_routes);
	for (; i < view_lists_count && i < 5; i++)
		tui_add_view(t, view_lists[i]);
	tui_add_view(t, &view_logs);
	tui_add_view(t, &view_play);
	for (; i < view_lists_count; i++)
		tui_add_view(t, view_lists[i]);
}

int
tui_main(const struct globals *g)
{
	struct tui		 t;
	struct pollfd		 pfd[3];
	struct sigaction	 sa;
	struct timespec		 last, now;
	time_t			 sec = 0;
	char			*cause = NULL;
	size_t			 i;
	int			 key;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "%s", _("metapi tui: needs a terminal\n"));
		return (2);
	}
	memset(&t, 0, sizeof t);
	t.g = *g;
	if (tui_connect(&t, 1, &cause) != 0) {
		fprintf(stderr, "metapi: %s\n", cause);
		free(cause);
		return (3);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tui_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	scr_start();
	tui_open_wake(&t);
	tui_add_views(&t);
	tui_load(&t);
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (!t.quit && !tui_sig_quit) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (t.dirty && (now.tv_sec - last.tv_sec) * 1000 +
		    (now.tv_nsec - last.tv_nsec) / 1000000 >= TUI_FRAME_MS) {
			tui_draw(&t);
			last = now;
		}
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = t.online ? t.ev.fd : -1;
		pfd[1].events = POLLIN;
		pfd[2].fd = t.wake[0];
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, t.dirty ? TUI_FRAME_MS : 1000) == -1 &&
		    errno != EINTR)
			break;
		while (!t.quit && scr_getkey(&key))
			tui_key(&t, key);
		if (pfd[1].fd != -1 && (pfd[1].revents & (POLLIN | POLLHUP)))
			tui_read_events(&t);
		if (pfd[2].fd != -1 && (pfd[2].revents & POLLIN))
			tui_drain_wake(&t);
		if (time(NULL) != sec) {
			sec = time(NULL);
			tui_retry(&t);
			if (t.views[t.cur]->tick != NULL)
				t.views[t.cur]->tick(&t, t.state[t.cur]);
			if (t.status[0] != '\0' &&
			    sec - t.status_at == TUI_STATUS_SEC)
				t.dirty = 1;
		}
	}
	scr_stop();
	for (i = 0; i < t.nviews; i++)
		if (t.views[i]->close != NULL)
			t.views[i]->close(t.state[i]);
	client_close(&t.req);
	client_close(&t.ev);
	for (i = 0; i < 2; i++)
		if (t.wake[i] != -1)
			close(t.wake[i]);
	return (0);
}

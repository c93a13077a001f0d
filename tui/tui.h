/*
 * The client half's internal header: the one-shot CLI, the daemon
 * connection and the output formatting, in sections by file.
 */
#ifndef TUI_H
#define TUI_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "i18n.h"

/* metapi.c */
struct globals {
	const char	*data_dir;	/* -d, or NULL */
	const char	*socket;	/* -S, or NULL */
	int		 json;		/* --json */
	int		 no_start;	/* --no-start */
};

/* client.c */
struct client {
	int		 fd;
	uint32_t	 next_id;
	char		*socket_path;
	long		 daemon_pid;
};
int	 client_open(struct client *, const struct globals *, char **);
void	 client_close(struct client *);
int	 client_request(struct client *, const char *, json_t *, json_t **,
	     char **);
int	 client_wait_exit(long, int);
int	 client_subscribe(struct client *, const char *, char **);
int	 client_event(struct client *, json_t **, char **);

/* cli.c */
struct cmd_spec;
int	 cli_main(const struct globals *, int, char **);
void	 cli_usage(FILE *);
int	 cli_read_files(const struct cmd_spec *, json_t *, char **);

/* doctor.c */
int	 doctor_main(const struct globals *, json_t *);
/* connect.c */
int	 connect_main(const struct globals *, json_t *);

/* output.c */
void	 output_set_prog(const char *);
char	*output_cell(json_t *);
int	 output_list_columns(const char *, const char *const **,
	     const char *const **);
void	 output_reply(const char *, json_t *);
void	 output_table(json_t *, const char *const *, const char *const *);
void	 output_log_header(void);
void	 output_log_line(json_t *);

/*
 * The full-screen dashboard (tui-*.c, screen.c, form.c, view-*.c). One
 * struct tui holds the two daemon connections (requests; subscribed
 * events), the views and what the screen shows. A view is a table of
 * callbacks with its own state; all drawing goes through screen.c.
 */
struct tui;

/* A key a view answers to, for the footer and the help screen. */
struct tui_action {
	int		 key;		/* a curses key code, 0: end */
	const char	*name;		/* "a", "Enter", "F5" */
	const char	*help;		/* N_() */
};

struct tui_view {
	const char		*name;		/* for :name */
	const char		*title;		/* N_(): the tab */
	void			*(*open)(struct tui *);
	void			 (*load)(struct tui *, void *);
	void			 (*draw)(struct tui *, void *, int, int, int,
				     int);
	int			 (*key)(struct tui *, void *, int);
	void			 (*event)(struct tui *, void *, const char *,
				     json_t *);
	void			 (*tick)(struct tui *, void *);
	void			 (*close)(void *);
	const struct tui_action	*actions;
	/* Another view is shown instead (may be NULL). */
	void			 (*leave)(struct tui *, void *);
	/* Select the row of this id or name, after load (may be NULL). */
	void			 (*select)(struct tui *, void *, json_t *);
};

/* tui.c */
int	 tui_main(const struct globals *);
int	 tui_request(struct tui *, const char *, json_t *, json_t **,
	     char **);
void	 tui_status(struct tui *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 tui_dirty(struct tui *);
int	 tui_confirm(struct tui *, const char *);
int	 tui_prompt(struct tui *, const char *, const char *, char **);
const char *tui_filter(struct tui *);
const char *tui_query(struct tui *);
int	 tui_goto(struct tui *, const char *, json_t *);
int	 tui_form(struct tui *, const char *, json_t *, json_t **);
int	 tui_edit_key(char *, size_t, int);
int	 tui_wait_key(struct tui *);
void	 tui_wake(struct tui *);

/* screen.c */
#define SCR_FKEY(k)	(0x110000 + (k))	/* curses KEY_* codes */
#define SCR_CTRL(c)	((c) & 0x1f)
enum scr_color {
	SCR_NORMAL, SCR_TITLE, SCR_SELECTED, SCR_TAB, SCR_TAB_ON, SCR_DIM,
	SCR_OK, SCR_WARN, SCR_ERR, SCR_BAR, SCR_KEY, SCR_COUNT
};
void	 scr_start(void);
void	 scr_stop(void);
int	 scr_ascii(void);
int	 scr_attr(enum scr_color);
int	 scr_put(int, int, int, enum scr_color, const char *);
int	 scr_putf(int, int, int, enum scr_color, const char *, ...)
	    __attribute__((format(printf, 5, 6)));
void	 scr_fill(int, int, int, enum scr_color);
void	 scr_bar(int, int, int, double, enum scr_color);
void	 scr_hline(int, int, int);
void	 scr_box(int, int, int, int, const char *);
int	 scr_getkey(int *);

/* form.c */
int	 form_run(struct tui *, const char *, json_t *, json_t **);

/* view-*.c */
extern const struct tui_view	 view_dash, view_routes, view_logs, view_play;
extern const struct tui_view	*const view_lists[];
extern const size_t		 view_lists_count;

#endif

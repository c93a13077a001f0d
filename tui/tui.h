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
int	 cli_main(const struct globals *, int, char **);
void	 cli_usage(FILE *);

/* output.c */
void	 output_reply(const char *, json_t *);
void	 output_table(json_t *, const char *const *, const char *const *);
void	 output_log_header(void);
void	 output_log_line(json_t *);

#endif

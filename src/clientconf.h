/*
 * Client setup (`metapi connect`): the configuration that points a coding
 * tool or SDK at metapi with a downstream key, as text and as the content
 * of the tool's own config file merged with what the file already holds.
 */
#ifndef CLIENTCONF_H
#define CLIENTCONF_H

#include <jansson.h>

struct buf;

/* What a client's configuration is made of. */
struct clientconf_in {
	const char	*root;		/* "http://127.0.0.1:4000" */
	const char	*key;		/* the downstream key's secret */
	long long	 key_id;
	json_t		*models;	/* names the key may use */
	const char	*path;		/* the client's file, or NULL */
};

/* Where files live: the environment's say, or NULL. */
struct clientconf_env {
	const char	*home;		/* $HOME */
	const char	*xdg_config_home;
	const char	*codex_home;	/* $CODEX_HOME */
};

struct clientconf_client {
	const char	*name;		/* "claude-code" on the command line */
	const char	*title;		/* "Claude Code" */
	int		 flags;
#define CLIENTCONF_OPENAI	0x1	/* speaks OpenAI's API: .../v1 */
#define CLIENTCONF_KEY_IN_FILE	0x2	/* its file holds the key */
#define CLIENTCONF_NEEDS_ENV	0x4	/* reads the key from env even so */
	char		*(*path)(const struct clientconf_env *);
	char		*(*merge)(const struct clientconf_in *, const char *,
			    char **);
	json_t		*(*env)(const struct clientconf_in *);
	void		 (*text)(const struct clientconf_in *, const char *,
			    struct buf *);
};

extern const struct clientconf_client	clientconf_table[];
extern const size_t			clientconf_table_count;

const struct clientconf_client *clientconf_find(const char *);
char	*clientconf_names(void);
char	*clientconf_root(const char *, char **);
char	*clientconf_base_url(const struct clientconf_client *, const char *);
json_t	*clientconf_pick_key(json_t *, long long, char **);
json_t	*clientconf_models(json_t *, json_t *);
char	*clientconf_shell_quote(const char *);
json_t	*clientconf_build(const struct clientconf_client *,
	     const struct clientconf_in *, const char *, char **);

#endif

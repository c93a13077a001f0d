/*
 * Notification channels: their records (notify.c), the table of kinds
 * that validates a channel and builds the request it sends
 * (notify-table.c), and the one function that sends it (notify-deliver.c).
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "db.h"
#include "err.h"

/* What an alert says; the kinds turn it into their own shapes. */
struct notify_text {
	const char	*type;		/* "checkin", "account", "test", ... */
	const char	*level;		/* info, warning or error */
	const char	*title;
	const char	*message;
	time_t		 time;
};

/* Judges a 2xx reply's body: 0 accepted, -1 refused with *cause. */
typedef int	(*notify_check_cb)(const char *, size_t, char **);

/*
 * One request, ready to send. url and password may hold a channel's
 * secret (a webhook token, a bot token, a SENDKEY): they are wiped when
 * freed and never appear in a message; errors name host only.
 */
struct notify_msg {
	char		*url;		/* http(s)://... or smtp(s)://host:port */
	const char	*method;	/* "GET", "POST" or "SMTP" */
	char		*content_type;	/* or NULL */
	char		*body;		/* request body, or the whole mail */
	char		*host;		/* for messages */
	notify_check_cb	 check;		/* or NULL: any 2xx will do */
	char		*mail_from;	/* SMTP envelope sender */
	char		*rcpt;		/* SMTP recipients, comma-separated */
	char		*user;		/* SMTP login, or NULL */
	char		*password;	/* SMTP password, or NULL */
	int		 starttls;	/* SMTP: insist on STARTTLS */
	char		*ca_pem;	/* SMTP: CA certificates to trust too */
	char		*proxy;		/* or NULL: direct */
};

typedef int	(*notify_config_cb)(const json_t *, json_t *, char **,
		    struct err *);
typedef int	(*notify_build_cb)(const json_t *, const char *,
		    const struct notify_text *, struct notify_msg *, char **);
typedef char	*(*notify_summary_cb)(const json_t *);

struct notify_entry {
	const char		*kind;
	const char		*args;		/* the args it takes, besides kind */
	notify_config_cb	 config;	/* args -> config and secret */
	notify_build_cb		 build;		/* pure: the request to send */
	notify_summary_cb	 summary;	/* one line for `notify list` */
	int			 flags;
#define NOTIFY_PROXY	0x1			/* goes through system_proxy_url */
	const char		*help;
};

extern const struct notify_entry notify_table[];
extern const size_t notify_table_count;

/* notify-table.c */
const struct notify_entry *notify_find(const char *);
int		 notify_build(const char *, const json_t *, const char *,
		     const struct notify_text *, struct notify_msg *, char **);
void		 notify_msg_free(struct notify_msg *);
char		*notify_b64(const char *, size_t);
char		*notify_subject(const char *);
const char	*notify_webhook_shape(const char *);
int		 notify_pem_ok(const char *, struct err *);

/* notify-deliver.c */
int		 notify_deliver(const struct notify_msg *, char **);

/* notify.c */
struct notify_chan {
	long long	 id;
	char		*kind;
	json_t		*config;
	char		*secret;	/* vault memory, or NULL */
	int		 enabled;
	char		*target;	/* summary, no secret */
};
json_t		*notify_add(struct db *, const json_t *, struct err *);
json_t		*notify_list(struct db *, struct err *);
json_t		*notify_get(struct db *, long long, struct err *);
int		 notify_rm(struct db *, long long, struct err *);
json_t		*notify_set_enabled(struct db *, long long, int, struct err *);
int		 notify_ids(struct db *, int, long long **, size_t *,
		     struct err *);
int		 notify_load(struct db *, long long, struct notify_chan *,
		     struct err *);
void		 notify_chan_free(struct notify_chan *);
int		 notify_record(struct db *, long long, time_t, const char *);
char		*notify_url_mask(const char *);

#endif

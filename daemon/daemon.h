/*
 * The daemon half's internal header, in sections by file (tmux style).
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "account.h"
#include "adapter.h"
#include "cmd.h"
#include "compat.h"
#include "db.h"
#include "err.h"
#include "relay.h"
#include "setting.h"

struct acctjob;
struct acctjob_item;

/* metapid.c */
struct metapid {
	char		*data_dir;
	char		*socket_path;
	char		*db_path;
	char		*listen;	/* as asked: "127.0.0.1:4000" */
	char		*log_file;	/* or NULL: stderr */
	struct db	*db;		/* main thread's connection */
	struct settings	*settings;	/* replaced on SIGHUP */
	time_t		 started;
	int		 lock_fd;	/* flock on DATA_DIR/daemon.lock */
	int		 sock_lock_fd;	/* flock on SOCKET.lock */
	int		 sig_pipe[2];	/* signal handler -> main loop */
	volatile sig_atomic_t stop;
	volatile sig_atomic_t reload;
};
extern struct metapid	*metapid;
int	 metapid_main(int, char **, const char *, const char *);
void	 metapid_request_stop(void);
int	 metapid_reload(char **);
int	 metapid_load_settings(char **);

/* ctl.c */
struct ctl_req {
	uint64_t		 client;	/* ctl client serial */
	uint32_t		 id;		/* request id to echo */
	const struct cmd_spec	*spec;
	json_t			*args;
};
enum ctl_ret {
	CTL_DONE,	/* *reply holds the data */
	CTL_ERROR,	/* the err says what went wrong */
	CTL_WAIT	/* the handler replies later, through async_run() */
};
typedef enum ctl_ret (*ctl_handler_cb)(struct ctl_req *, json_t **,
	    struct err *);
int	 ctl_listen(const char *, char **);
void	 ctl_close(void);
int	 ctl_client_count(void);
int	 ctl_poll_fill(struct pollfd *, int);
void	 ctl_poll_handle(struct pollfd *, int);
void	 ctl_reply(uint64_t, uint32_t, json_t *, struct err *);
int	 ctl_client_alive(uint64_t);
#define CTL_TOPIC_LOGS	0x1		/* "logs": new request log rows */
int	 ctl_subscribers(int);
void	 ctl_event(int, json_t *);

/* ctl-table.c */
struct ctl_entry {
	const char	*name;		/* cmd_table name */
	ctl_handler_cb	 handler;
	int		 flags;
#define CTL_READ	0x1		/* changes nothing: no snapshot rebuild */
};
extern const struct ctl_entry ctl_cmd_table[];
extern const size_t ctl_cmd_table_count;
const struct ctl_entry *ctl_find_entry(const char *);
void		 ctl_changed(void);
void		 ctl_watch_init(void);
void		 ctl_usage_changed(void);
void		 ctl_tick(void);

/* ctl-daemon.c */
enum ctl_ret	 ctl_daemon_status(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_daemon_stop(struct ctl_req *, json_t **, struct err *);

/* ctl-site.c */
enum ctl_ret	 ctl_site_add(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_site_list(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_site_show(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_site_edit(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_site_rm(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_site_enable(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_site_disable(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_site_detect(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_site_presets(struct ctl_req *, json_t **, struct err *);

/* ctl-doctor.c */
enum ctl_ret	 ctl_doctor_run(struct ctl_req *, json_t **, struct err *);

/* ctl-account.c */
enum ctl_ret	 ctl_account_add(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_account_list(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_account_show(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_account_rm(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_account_enable(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_account_disable(struct ctl_req *, json_t **,
		     struct err *);
enum ctl_ret	 ctl_account_refresh(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_account_login(struct ctl_req *, json_t **, struct err *);
void		 ctl_account_refresh_work(struct acctjob *,
		     struct acctjob_item *);
json_t		*ctl_account_refresh_store(struct acctjob *,
		     struct acctjob_item *);

/* ctl-route.c */
enum ctl_ret	 ctl_route_list(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_route_show(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_route_explain(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_route_add(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_route_edit(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_route_rm(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_route_rebuild(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_channel_set(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_channel_cooldown_clear(struct ctl_req *, json_t **,
		     struct err *);

/* ctl-token.c */
enum ctl_ret	 ctl_token_list(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_token_sync(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_token_create(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_token_rm(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_token_default(struct ctl_req *, json_t **, struct err *);

/* ctl-checkin.c */
enum ctl_ret	 ctl_checkin_run(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_checkin_log(struct ctl_req *, json_t **, struct err *);


/* ctl-model.c */
enum ctl_ret	 ctl_model_list(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_balance_show(struct ctl_req *, json_t **, struct err *);

/* ctl-search.c */
enum ctl_ret	 ctl_search_run(struct ctl_req *, json_t **, struct err *);

/* ctl-key.c */
enum ctl_ret	 ctl_key_add(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_key_list(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_key_show(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_key_reveal(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_key_rm(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_key_enable(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_key_disable(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_key_rotate(struct ctl_req *, json_t **, struct err *);

/* ctl-log.c */
enum ctl_ret	 ctl_log_list(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_stats_show(struct ctl_req *, json_t **, struct err *);
void		 ctl_log_subscribe(void);
void		 ctl_log_fanout(void);

/* ctl-setting.c */
enum ctl_ret	 ctl_settings_list(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_settings_get(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_settings_set(struct ctl_req *, json_t **, struct err *);

/* ctl-db.c */
enum ctl_ret	 ctl_db_migrate(struct ctl_req *, json_t **, struct err *);

/* ctl-backup.c */
enum ctl_ret	 ctl_backup_export(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_backup_import(struct ctl_req *, json_t **, struct err *);

/* ctl-notify.c */
enum ctl_ret	 ctl_notify_add(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_notify_list(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_notify_test(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_notify_send(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_notify_rm(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_notify_enable(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_notify_disable(struct ctl_req *, json_t **, struct err *);

/* ctl-event.c */
enum ctl_ret	 ctl_event_list(struct ctl_req *, json_t **, struct err *);

/* notify-event.c */
int		 notify_event(const char *, const char *, const char *,
		     const char *);
void		 notify_event_tick(void);
void		 notify_event_defer(const char *, const char *, const char *,
		     const char *);
enum ctl_ret	 notify_event_test(struct ctl_req *, const long long *, size_t,
		     struct err *);

/* http.c */
struct buf;
struct mg_connection;
struct snapshot;
struct snap_key;
int		 http_start(const char *, const struct settings *, char **);
void		 http_id_header(const struct mg_connection *, char *, size_t);
void		 http_head_start(struct buf *, const struct mg_connection *, int);
void		 http_head_add(struct buf *, const char *, const char *);
void		 http_head_end(struct buf *, struct mg_connection *);
int		 http_write(struct mg_connection *, const struct buf *);
int		 http_chunk(struct mg_connection *, struct buf *, const void *,
		    size_t);
void		 http_send_json(struct mg_connection *, int, const json_t *);

/* http-auth.c */
int		 http_is_claude(struct mg_connection *);
int		 http_client_fd(struct mg_connection *);
int		 http_client_gone(int);
void		 http_error(struct mg_connection *, int, const char *,
		     const char *, const char *, ...)
		     __attribute__((format(printf, 5, 6)));
int		 http_auth(struct mg_connection *, const struct snapshot *,
		     const struct snap_key **);
int		 http_model_allowed(struct mg_connection *,
		     const struct snap_key *, const char *);

/* http-models.c */
int		 http_models(struct mg_connection *, void *);

/* http-files.c */
int		 http_files_init(const char *, const char *, char **);
void		 http_files_apply_settings(const struct settings *);
long long	 http_files_body_max(void);
int		 http_files(struct mg_connection *, void *);
int		 http_files_one(struct mg_connection *, void *);
int		 http_files_content(struct mg_connection *, void *);
int		 http_files_inline(struct mg_connection *, long long,
		     enum relay_format, json_t *, long long, char **, size_t *);

/* http-proxy.c */
int		 http_proxy(struct mg_connection *, void *);
void		 http_proxy_thread_done(void);
void		 http_stop(void);
void		 http_apply_settings(const struct settings *);
const char	*http_listen_address(void);

/* probe.c */
void		 probe_tick(void);

/* conversation.c */
void		 conversation_put(const char *, json_t *);
json_t		*conversation_get(const char *);
void		 conversation_clear(void);

/* acctjob.c */
struct acctjob_item {
	struct account_ctx		 ctx;
	const struct adapter_ops	*ops;
	struct err			 err;		/* set when it failed */
	int				 logged_in;	/* logged in this job */
	struct adapter_user		 user;
	int				 has_user;
	struct adapter_tokens		 tokens;
	int				 has_tokens;
	json_t				*models;	/* names, or NULL */
	json_t				*token_models;	/* per token, or NULL */
	struct adapter_prices		 prices;
	int				 has_prices;
	struct adapter_checkin		 checkin;
	int				 has_checkin;
	char				*key;		/* discovery key (secret) */
	char				*arg;		/* per-command argument */
	char				*warn;		/* a step that failed */
	int				 claimed;	/* holds today's check-in */
	int				 preset;	/* outcome known up front */
};
struct acctjob;
typedef void	(*acctjob_work_cb)(struct acctjob *, struct acctjob_item *);
typedef json_t	*(*acctjob_store_cb)(struct acctjob *, struct acctjob_item *);
typedef json_t	*(*acctjob_finish_cb)(struct acctjob *, json_t *, int);
struct acctjob {
	acctjob_work_cb		 work;		/* worker thread, per account */
	acctjob_store_cb	 store;		/* main thread, per account */
	acctjob_finish_cb	 finish;	/* the reply from the items */
	void			*finish_arg;	/* for finish */
	char			 day[16];	/* check-in: the local day */
	struct acctjob_item	*v;
	size_t			 n;
	int			 single;	/* reply with the one item */
	int			 need_client;	/* store nothing if it left */
	json_t			*args;
};
struct acctjob	*acctjob_new(struct ctl_req *, acctjob_work_cb,
		     acctjob_store_cb, int, size_t);
int		 acctjob_load(struct acctjob *, const long long *,
		     struct err *);
enum ctl_ret	 acctjob_run(struct ctl_req *, struct acctjob *);
void		 acctjob_discard(struct acctjob *);
enum ctl_ret	 acctjob_start(struct ctl_req *, const long long *, size_t,
		     acctjob_work_cb, acctjob_store_cb, int, struct err *);
int		 acctjob_ids(struct ctl_req *, const char *, long long **,
		     size_t *, struct err *);
int		 acctjob_session(struct acctjob_item *);
int		 acctjob_relogin(struct acctjob_item *);
json_t		*acctjob_item_json(struct acctjob_item *);
enum ctl_ret	 ctl_checkin_start(struct ctl_req *, const long long *, size_t,
		     acctjob_finish_cb, void *, struct err *);
void		 ctl_account_low_total(void);
enum ctl_ret	 ctl_account_renew_start(struct ctl_req *, const long long *,
		     size_t, acctjob_finish_cb, void *, struct err *);
enum ctl_ret	 ctl_account_refresh_start(struct ctl_req *, const long long *,
		     size_t, acctjob_finish_cb, void *, struct err *);

/* scheduler.c */
void		 scheduler_init(void);
void		 scheduler_reschedule(void);
void		 scheduler_tick(void);
json_t		*scheduler_next_runs(void);
enum ctl_ret	 ctl_job_list(struct ctl_req *, json_t **, struct err *);
enum ctl_ret	 ctl_job_run(struct ctl_req *, json_t **, struct err *);
void		 acctjob_item_free(struct acctjob_item *);

/* logwriter.c */
struct proxylog_rec;
int		 logwriter_start(const char *, const char *, char **);
void		 logwriter_begin(struct proxylog_rec *);
void		 logwriter_end(struct proxylog_rec *);
void		 logwriter_put(struct proxylog_rec *);
size_t		 logwriter_depth(void);
size_t		 logwriter_pending(void);
int		 logwriter_failing(void);
int		 logwriter_failing_why(char **, time_t *);
unsigned long long logwriter_dropped(void);

/* metrics.c */
void		 metrics_request(const struct proxylog_rec *,
		     const struct snapshot *);
void		 metrics_job(const char *, const char *);
int		 http_metrics(struct mg_connection *, void *);
void		 logwriter_stop(void);
void		 logwriter_tune(size_t, size_t);
int		 logwriter_fd(void);
long long	 logwriter_woken(void);
long long	 logwriter_last_id(void);
unsigned long long logwriter_waits(void);

/* async.c */
typedef void	(*async_work_cb)(void *);
typedef enum ctl_ret (*async_done_cb)(void *, int, json_t **, struct err *);
int	 async_init(char **);
int	 async_fd(void);
void	 async_run(struct ctl_req *, async_work_cb, async_done_cb, void *);
void	 async_drain(void);
void	 async_wait_all(void);

#endif

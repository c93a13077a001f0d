/*
 * Internal header of the fake relay, the test double for every upstream
 * platform metapi talks to. One section per file, tmux style.
 *
 * Threading: civetweb serves each connection on its own thread. All state
 * (users, tokens, models, sessions, faults, the request log, the clock)
 * lives in state.c behind one mutex; see state_lock().
 */
#ifndef FAKERELAY_H
#define FAKERELAY_H

#include <stddef.h>
#include <stdio.h>

#include <civetweb.h>
#include <jansson.h>

#ifndef nitems
#define nitems(_a) (sizeof((_a)) / sizeof((_a)[0]))
#endif

/* As src/compat.h: a parameter the callback's signature requires. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif

/* Personalities are bits so a route names every platform it serves. */
#define P_NEWAPI	0x001
#define P_ANYROUTER	0x002
#define P_VELOERA	0x004
#define P_ONEAPI	0x008
#define P_ONEHUB	0x010
#define P_DONEHUB	0x020
#define P_SUB2API	0x040
#define P_OPENAI	0x080
#define P_CLAUDE	0x100
#define P_NEWFAM	(P_NEWAPI|P_ANYROUTER|P_VELOERA)
#define P_HUB		(P_ONEHUB|P_DONEHUB)
#define P_ONEFAM	(P_NEWFAM|P_ONEAPI|P_HUB)
#define P_ALL		0x1ff

/* How a platform pages its token list. */
enum token_list {
	TL_ITEMS,		/* New API: {page,page_size,total,items}, 1-based */
	TL_ARRAY,		/* Veloera: plain array, 0-based p, size */
	TL_FIXED10,		/* One API: plain array, 0-based p, 10 a page */
	TL_HUB,			/* One/Done Hub: {data,page,size,total_count} */
	TL_SUB2API		/* {items,total,page,page_size,pages} */
};

/* How a platform's keys look. */
enum key_style {
	KEY_ALNUM48,		/* 48 [0-9A-Za-z], stored without sk- */
	KEY_HUB,		/* hashids-like + "_" + base64url, >= 48 */
	KEY_SUB2API,		/* sk- + 64 hex, compared verbatim */
	KEY_OPENAI,		/* sk-proj-..., verbatim */
	KEY_CLAUDE		/* sk-ant-api03-..., verbatim */
};

struct persona {
	const char	*name;
	int		 bit;		/* P_* */
	const char	*system_name;	/* /api/status system_name */
	const char	*version;
	const char	*user_header;	/* required user-id header or NULL */
	const char	*error_type;	/* relay error "type" */
	const char	*checkin_done;	/* "already checked in" text */
	enum token_list	 token_list;
	enum key_style	 key_style;
	int		 quota_status;	/* HTTP status: user out of quota */
	void		(*status_add)(json_t *);	/* extra /api/status keys */
	const char	*help;
};

/* fakerelay.c */
int			 fakerelay_port(void);
extern int		 fakerelay_keep_alive;

/* persona.c */
extern const struct persona persona_table[];
const struct persona	*persona_find(const char *);
const struct persona	*persona_get(void);
void			 persona_set(const struct persona *);
size_t			 persona_count(void);

/* req.c: one HTTP request and its reply. */
struct req {
	struct mg_connection	*conn;
	const struct mg_request_info *ri;
	const struct persona	*p;
	char			 method[16];
	char			 path[1024];	/* decoded, no query */
	const char		*query;		/* raw query string or "" */
	char			*body;		/* NUL-terminated copy */
	size_t			 bodylen;
	json_t			*json;		/* parsed body, NULL if none */
	int			 json_bad;	/* body present but not JSON */
	char			 param[128];	/* ":id" segment of the route */
	long long		 seq;		/* request log sequence */
	json_t			*fault;		/* fault applied, owned copy */
	long long		 billed;	/* quota billed by this call */
	int			 auth_session;	/* authenticated by cookie */
	char			 model[128];	/* relay: requested model */
	char			 group[64];	/* relay: billing group */

	int			 status;	/* buffered reply */
	char			*ctype;
	char			*hdrs;		/* extra "Name: value\r\n" lines */
	char			*out;
	size_t			 outlen;
	size_t			 sendlen;	/* bytes to write; < outlen cuts */
	long long		 trickle_ms;	/* > 0: a few bytes, then a pause */
	int			 replied;	/* a reply is buffered */
	int			 streaming;	/* headers already on the wire */
	int			 chunks;	/* SSE frames written */
	int			 sse_kind;	/* SSE_* for in-band errors */
#define SSE_OPENAI	0
#define SSE_ANTHROPIC	1
#define SSE_RESPONSES	2
	int			 cut;		/* stream cut by a fault */
};

#define REQ_MAX_BODY	(1024 * 1024)

int		 req_init(struct req *, struct mg_connection *, size_t);
void		 req_free(struct req *);
const char	*req_header(struct req *, const char *);
int		 req_query(struct req *, const char *, char *, size_t);
long long	 req_query_int(struct req *, const char *, long long);
int		 req_cookie(struct req *, const char *, char *, size_t);
const char	*req_body_str(struct req *, const char *);
void		 req_add_header(struct req *, const char *, const char *);
void		 req_reply(struct req *, int, const char *, const char *,
		     size_t);
void		 req_reply_json(struct req *, int, json_t *);
void		 req_reply_text(struct req *, int, const char *, const char *);
void		 req_flush(struct req *);
int		 req_stream_start(struct req *, const char *);
int		 req_sse(struct req *, const char *, json_t *);
int		 req_sse_raw(struct req *, const char *);
void		 req_send_pieces(struct req *, int, const char *, size_t,
		     const size_t *, size_t, long long);
void		 req_sleep_ms(long long);
char		*req_dump(const json_t *);

/* state.c: the owner of everything mutable. */
void		 state_init(void);
int		 state_load(const char *, char **);
void		 state_reset(void);
void		 state_lock(void);
void		 state_unlock(void);
json_t		*state_root(void);
json_t		*state_config(void);
long long	 state_cfg_int(const char *);
double		 state_cfg_real(const char *);
int		 state_cfg_bool(const char *);
const char	*state_cfg_str(const char *);
json_t		*state_users(void);
json_t		*state_tokens(void);
json_t		*state_models(void);
json_t		*state_groups(void);
json_t		*state_user_by_id(long long);
json_t		*state_user_by_name(const char *);
json_t		*state_user_by_access(const char *);
json_t		*state_token_by_id(long long);
json_t		*state_token_by_key(const char *);
json_t		*state_model(const char *);
double		 state_group_ratio(const char *);
long long	 state_next_id(const char *);
long long	 state_int(const json_t *, const char *);
double		 state_real(const json_t *, const char *);
const char	*state_str(const json_t *, const char *);
int		 state_bool(const json_t *, const char *);
void		 state_set_int(json_t *, const char *, long long);
void		 state_set_str(json_t *, const char *, const char *);
char		*state_key_new(enum key_style);
void		 state_random(char *, size_t, const char *);
long long	 state_now(void);
void		 state_today(char *, size_t);
void		 state_clock_set(long long);
void		 state_clock_advance(long long);
void		 state_clock_real(void);
int		 state_patch(json_t *, char **);
json_t		*state_dump(void);
void		 state_log_add(long long, int, long long, const char *,
		     const char *, long long, long long, const char *);
json_t		*state_log_user(long long);
char		*state_session_new(long long, int, const char *);
json_t		*state_session_get(const char *);
void		 state_session_put(const char *, long long, long long,
		     const char *);
void		 state_session_del(const char *);
void		 state_sessions_clear(void);

/* reqlog.c: the record of what clients sent. */
long long	 reqlog_add(struct req *);
void		 reqlog_finish(long long, int, long long);
json_t		*reqlog_query(struct req *);
void		 reqlog_clear(void);

/* fault.c: injected failures. */
int		 fault_add(json_t *, char **);
json_t		*fault_list(void);
void		 fault_clear(void);
json_t		*fault_take(struct req *);
int		 fault_before(struct req *);
void		 fault_after(struct req *);

/* waf.c: challenge pages. */
int		 waf_gate(struct req *);
void		 waf_aliyun_page(struct req *);
void		 waf_cloudflare_page(struct req *);
void		 waf_solve(const char *, char *, size_t);

/* ctl.c: the /__fake/ control API. */
int		 ctl_dispatch(struct req *);
int		 ctl_shutdown_requested(void);
void		 ctl_print_routes(FILE *);

/* mgmt.c, mgmt-token.c, mgmt-sub2api.c, mgmt-table.c */
struct mgmt_route {
	int		 personas;	/* P_* mask */
	const char	*method;
	const char	*pattern;	/* ":id" matches one segment */
	int		 flags;
#define MGMT_AUTH	0x1		/* One-API family user auth first */
#define MGMT_JWT	0x2		/* Sub2API JWT auth first */
	void		(*handler)(struct req *, json_t *);
	const char	*help;
};
extern const struct mgmt_route mgmt_table[];
size_t		 mgmt_table_size(void);
int		 mgmt_dispatch(struct req *);
int		 mgmt_match(const char *, const char *, char *, size_t);
void		 mgmt_reply(struct req *, int, const char *, json_t *);
void		 mgmt_fail(struct req *, const char *);
void		 mgmt_invalid_url(struct req *);
json_t		*mgmt_page(struct req *, json_t *, enum token_list);
void		 mgmt_status(struct req *, json_t *);
void		 mgmt_notice(struct req *, json_t *);
void		 mgmt_login(struct req *, json_t *);
void		 mgmt_login_2fa(struct req *, json_t *);
void		 mgmt_logout(struct req *, json_t *);
void		 mgmt_self(struct req *, json_t *);
void		 mgmt_access_token(struct req *, json_t *);
void		 mgmt_self_groups(struct req *, json_t *);
void		 mgmt_user_models(struct req *, json_t *);
void		 mgmt_pricing(struct req *, json_t *);
void		 mgmt_checkin_status(struct req *, json_t *);
void		 mgmt_checkin(struct req *, json_t *);
void		 mgmt_check_in_status(struct req *, json_t *);
void		 mgmt_check_in(struct req *, json_t *);
void		 mgmt_sign_in(struct req *, json_t *);
void		 mgmt_log_self(struct req *, json_t *);
void		 mgmt_available_model(struct req *, json_t *);
void		 mgmt_user_group_map(struct req *, json_t *);
void		 mgmt_agree_terms(struct req *, json_t *);
void		 mgmt_token_list(struct req *, json_t *);
void		 mgmt_token_search(struct req *, json_t *);
void		 mgmt_token_get(struct req *, json_t *);
void		 mgmt_token_key(struct req *, json_t *);
void		 mgmt_token_create(struct req *, json_t *);
void		 mgmt_token_update(struct req *, json_t *);
void		 mgmt_token_delete(struct req *, json_t *);
json_t		*mgmt_token_json(const json_t *, int);
json_t		*mgmt_auth(struct req *);
long long	 mgmt_checkin_do(struct req *, json_t *);
void		 mgmt_sub2api_login(struct req *, json_t *);
void		 mgmt_sub2api_refresh(struct req *, json_t *);
void		 mgmt_sub2api_logout(struct req *, json_t *);
void		 mgmt_sub2api_me(struct req *, json_t *);
void		 mgmt_sub2api_keys(struct req *, json_t *);
void		 mgmt_sub2api_key_get(struct req *, json_t *);
void		 mgmt_sub2api_key_create(struct req *, json_t *);
void		 mgmt_sub2api_key_update(struct req *, json_t *);
void		 mgmt_sub2api_key_delete(struct req *, json_t *);
void		 mgmt_sub2api_groups(struct req *, json_t *);
void		 mgmt_sub2api_subs(struct req *, json_t *);
void		 mgmt_sub2api_settings(struct req *, json_t *);
void		 mgmt_sub2api_health(struct req *, json_t *);
void		 mgmt_sub2api_setup(struct req *, json_t *);
void		 mgmt_sub2api_fail(struct req *, int, const char *,
		     const char *);
json_t		*mgmt_sub2api_auth(struct req *);

/* relay.c, relay-gen.c */
int		 relay_dispatch(struct req *);
void		 relay_error(struct req *, int, const char *, const char *);
void		 relay_error_kind(struct req *, const char *);
void		 relay_print_routes(FILE *, int);

/* What a relay call produced; relay-gen.c turns it into wire formats. */
struct gen {
	const char	*model;
	char		*text;		/* reply text, owned */
	long long	 prompt;	/* prompt tokens */
	long long	 completion;	/* completion tokens */
	int		 stream;
	int		 include_usage;	/* stream_options.include_usage */
	int		 truncated;	/* max_tokens hit */
	char		 variant[128];	/* comma list: reasoning,tool_calls… */
	long long	 created;
	long long	 seq;
	json_t		*input;		/* embeddings input */
	int		 dims;
};
int		 gen_has(const struct gen *, const char *);
int		 gen_chat(struct req *, struct gen *);
int		 gen_completion(struct req *, struct gen *);
int		 gen_messages(struct req *, struct gen *);
int		 gen_responses(struct req *, struct gen *);
int		 gen_embeddings(struct req *, struct gen *);
long long	 gen_words(const char *);

#endif

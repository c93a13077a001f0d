/*
 * Platform adapters: how metapi talks to each relay platform's management
 * API (login, user info and balance, check-in, API tokens, models,
 * pricing). One adapter_ops per platform in adapter_table[]; every
 * operation is optional (NULL: the platform has no such thing). An
 * adapter runs on a worker thread with the account's credentials unsealed
 * into struct adapter_acct; it never touches the database.
 */
#ifndef ADAPTER_H
#define ADAPTER_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"

/* The account as an adapter sees it. Secrets live in vault (sodium) memory
 * and are owned by the caller, except where an adapter replaces one: it
 * then frees the old value with vault_secret_free() and sets changed. */
struct adapter_acct {
	const char	 *url;		/* site base URL, no trailing slash */
	const char	 *platform;	/* adapter_table name */
	const char	 *proxy;	/* or NULL */
	char *const	 *site_headers;	/* "Name: value", NULL-terminated */
	long		  timeout_sec;	/* per HTTP call */
	long		  connect_timeout_sec; /* 0: the default, 15 */

	char		 *username;	/* login name, or NULL */
	char		 *password;	/* secret, or NULL */
	char		 *access_token;	/* secret: system token or JWT */
	char		 *cookie;	/* secret: a Cookie header value */
	char		 *api_key;	/* secret: a relay key */
	char		 *refresh_token; /* secret: Sub2API refresh token */
	char		 *user_id;	/* the site's user id, as text */
	char		 *twofa;	/* one-time code for a login, or NULL */
	char		 *waf_cookie;	/* solved WAF cookie (acw_sc__v2=...) */
	double		  quota_per_unit; /* from /api/status; 0: unknown */
	int		  changed;	/* ADAPTER_CHANGED_* flags */
#define ADAPTER_CHANGED_SESSION	0x1	/* access_token/cookie/refresh_token */
#define ADAPTER_CHANGED_USER_ID	0x2
};

struct adapter_user {
	char		*username;
	char		*user_id;
	char		*group;
	double		 balance_usd;	/* remaining */
	double		 used_usd;	/* spent, lifetime */
	double		 today_income_usd;
	long long	 request_count;
	int		 has;		/* ADAPTER_HAS_* flags */
#define ADAPTER_HAS_BALANCE	0x1
#define ADAPTER_HAS_USED	0x2
#define ADAPTER_HAS_INCOME	0x4
#define ADAPTER_HAS_REQUESTS	0x8
};

enum adapter_checkin_outcome {
	CHECKIN_SUCCESS,
	CHECKIN_ALREADY,
	CHECKIN_SKIPPED,	/* unsupported, Turnstile, WAF */
	CHECKIN_FAILED
};

struct adapter_checkin {
	enum adapter_checkin_outcome	 outcome;
	double				 reward_usd;
	int				 has_reward;
	char				*message;	/* the site's words */
};

struct adapter_token {
	char		*remote_id;	/* the site's token id */
	char		*name;
	char		*key;		/* secret (sodium), full key, or NULL */
	char		*mask;		/* for display */
	char		*group;
	int		 masked;	/* the site only gave a masked key */
	int		 enabled;
	int		 unlimited;
	double		 remain_usd;
	long long	 expires_at;	/* unix seconds, 0: never */
};

struct adapter_tokens {
	struct adapter_token	*v;
	size_t			 n;
};

/* Prices in USD per 1M tokens, or per call. */
struct adapter_price {
	char	*model;
	char	*group;		/* "" for the account's own group */
	double	 input_per_m;
	double	 output_per_m;
	double	 cache_read_per_m;
	double	 cache_write_per_m;
	double	 per_call;
	int	 has;		/* ADAPTER_PRICE_* flags */
#define ADAPTER_PRICE_TOKENS	0x1
#define ADAPTER_PRICE_CACHE_R	0x2
#define ADAPTER_PRICE_CACHE_W	0x4
#define ADAPTER_PRICE_CALL	0x8
};

struct adapter_prices {
	struct adapter_price	*v;
	size_t			 n;
};

struct adapter_ops {
	const char	*name;		/* "new-api" */
	const char	*label;		/* "New API" */
	int		 flags;
#define ADAPTER_MANAGED		0x1	/* has a management API (logins) */
#define ADAPTER_ANTHROPIC	0x2	/* relay speaks Anthropic Messages */
#define ADAPTER_NOCOOKIE	0x4	/* sessions are not cookies (JWTs) */

	/* Log in with username/password (and twofa): sets a session. */
	int	(*login)(struct adapter_acct *, struct err *);
	/* Who the credential belongs to, and the balance. */
	int	(*user)(struct adapter_acct *, struct adapter_user *,
		    struct err *);
	int	(*checkin)(struct adapter_acct *, struct adapter_checkin *,
		    struct err *);
	/* Every token, masked keys revealed where the site allows it. */
	int	(*tokens)(struct adapter_acct *, struct adapter_tokens *,
		    struct err *);
	int	(*token_create)(struct adapter_acct *, const char *,
		    const char *, struct err *);
	int	(*token_delete)(struct adapter_acct *, const char *,
		    struct err *);
	/* Model names usable with key (NULL: with the session). */
	int	(*models)(struct adapter_acct *, const char *, json_t **,
		    struct err *);
	int	(*pricing)(struct adapter_acct *, struct adapter_prices *,
		    struct err *);
};

extern const struct adapter_ops *const adapter_table[];

const struct adapter_ops *adapter_find(const char *);

/* adapter.c: HTTP for adapters. The transport is upstream_do() except in
 * the unit tests, which replay recorded replies through it. */
struct upstream_req;
struct upstream_resp;
typedef int (*adapter_transport_cb)(const struct upstream_req *,
	    struct upstream_resp *, char **);
void	 adapter_set_transport(adapter_transport_cb);
struct adapter_resp {
	long		 status;
	struct buf	 body;
	char		*content_type;
	char		*set_cookie;	/* "name=value; name2=value2" */
	char		*retry_after;
	int		 cloudflare;	/* a Cloudflare challenge */
	json_t		*json;		/* parsed body, or NULL */
};

int	 adapter_http(struct adapter_acct *, const char *, const char *,
	     const char *const *, const char *, struct adapter_resp *,
	     struct err *);
void	 adapter_resp_free(struct adapter_resp *);
int	 adapter_json(struct adapter_resp *, const char *, struct err *);
int	 adapter_envelope(struct adapter_resp *, const char *, json_t **,
	     struct err *);
int	 adapter_is_waf(const struct adapter_resp *);
double	 adapter_usd(double, double);
enum adapter_checkin_outcome adapter_checkin_classify(long, int,
	     const char *);
const char *adapter_checkin_name(enum adapter_checkin_outcome);
int	 adapter_set_secret(char **, const char *);
int	 adapter_word_ok(const char *);
char	*adapter_join_cookies(const char *, const char *);
void	 adapter_user_free(struct adapter_user *);
void	 adapter_checkin_free(struct adapter_checkin *);
void	 adapter_tokens_free(struct adapter_tokens *);
struct adapter_token *adapter_tokens_add(struct adapter_tokens *);
void	 adapter_prices_free(struct adapter_prices *);
struct adapter_price *adapter_prices_add(struct adapter_prices *);
void	 adapter_user_finite(struct adapter_user *);
void	 adapter_checkin_finite(struct adapter_checkin *);
void	 adapter_tokens_finite(struct adapter_tokens *);
void	 adapter_prices_finite(struct adapter_prices *);
json_t	*adapter_user_json(const struct adapter_user *);
json_t	*adapter_checkin_json(const struct adapter_checkin *);
json_t	*adapter_token_json(const struct adapter_token *, int);
json_t	*adapter_price_json(const struct adapter_price *);

/* Adapters (adapter-*.c). */
extern const struct adapter_ops adapter_newapi_ops;
extern const struct adapter_ops adapter_anyrouter_ops;
extern const struct adapter_ops adapter_veloera_ops;
extern const struct adapter_ops adapter_oneapi_ops;
extern const struct adapter_ops adapter_onehub_ops;
extern const struct adapter_ops adapter_donehub_ops;
extern const struct adapter_ops adapter_sub2api_ops;
extern const struct adapter_ops adapter_openai_ops;
extern const struct adapter_ops adapter_claude_ops;

/* adapter-newapi.c: solve an Aliyun acw_sc__v2 page into a->waf_cookie. */
int	 adapter_waf_solve(struct adapter_acct *, const struct adapter_resp *,
	     struct err *);

/* detect.c: which platform a URL runs. */
int	 detect_platform(const char *, const char *, char *const *,
	     const char **, json_t **, struct err *);

#endif

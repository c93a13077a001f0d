/*
 * Wire error codes: one X-macro list yields the enum, the stable code sent
 * on the wire and the default English text. Clients translate by code.
 * The last column is the CLI exit code for that error (CLI.md).
 */
#ifndef ERR_H
#define ERR_H

#define ERR_INFO(_) \
	_(OK,		"ok",			"success", 0) \
	_(BAD_REQUEST,	"bad_request",		"malformed request", 2) \
	_(USAGE,	"usage",		"invalid arguments", 2) \
	_(UNKNOWN_CMD,	"unknown_command",	"unknown command", 2) \
	_(INVALID,	"invalid",		"invalid value", 1) \
	_(NOT_FOUND,	"not_found",		"not found", 1) \
	_(CONFLICT,	"conflict",		"already exists", 1) \
	_(UPSTREAM,	"upstream",		"upstream failure", 1) \
	_(UNAUTHORIZED,	"unauthorized",		"credential rejected", 1) \
	_(NEEDS_LOGIN,	"needs_login",		"needs manual login", 1) \
	_(BLOCKED,	"blocked",		"blocked by a WAF or challenge", 1) \
	_(BUSY,		"busy",			"busy, try again", 1) \
	_(STORAGE,	"storage",		"storage error", 1) \
	_(INTERNAL,	"internal",		"internal error", 1)

enum err_code {
#define ERR_ENUM(e, s, t, x) ERR_##e,
	ERR_INFO(ERR_ENUM)
#undef ERR_ENUM
	ERR__COUNT
};

const char	*err_name(enum err_code);
const char	*err_text(enum err_code);
int		 err_exit_code(enum err_code);
int		 err_from_name(const char *, enum err_code *);

/* An error on its way to a reply: a code and an owned message. */
struct err {
	enum err_code	 code;
	char		*msg;
};

void	err_set(struct err *, enum err_code, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	err_clear(struct err *);

#endif

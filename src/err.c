/* The error code table: names, default texts and exit codes, nothing else. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xmalloc.h"

static const struct {
	const char	*name;
	const char	*text;
	int		 exit_code;
} err_table[] = {
#define ERR_ROW(e, s, t, x) { s, t, x },
	ERR_INFO(ERR_ROW)
#undef ERR_ROW
};

const char *
err_name(enum err_code e)
{
	return (e < ERR__COUNT ? err_table[e].name : "internal");
}

const char *
err_text(enum err_code e)
{
	return (e < ERR__COUNT ? err_table[e].text : "internal error");
}

int
err_exit_code(enum err_code e)
{
	return (e < ERR__COUNT ? err_table[e].exit_code : 1);
}

int
err_from_name(const char *name, enum err_code *out)
{
	int	i;

	for (i = 0; i < ERR__COUNT; i++) {
		if (strcmp(err_table[i].name, name) == 0) {
			*out = i;
			return (0);
		}
	}
	return (-1);
}

/* Set an error; the message replaces any earlier one. */
void
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list	ap;

	free(e->msg);
	e->code = code;
	va_start(ap, fmt);
	xvasprintf(&e->msg, fmt, ap);
	va_end(ap);
}

void
err_clear(struct err *e)
{
	free(e->msg);
	e->msg = NULL;
	e->code = ERR_OK;
}

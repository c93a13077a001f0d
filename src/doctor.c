/* The item every doctor check appends: {check, status, detail, fix}. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>

#include "doctor.h"
#include "xmalloc.h"

/* Append one item (fix may be NULL); returns it, borrowed, for extras. */
json_t *
doctor_item(json_t *items, const char *check, const char *status,
    const char *fix, const char *fmt, ...)
{
	va_list	 ap;
	char	*detail;
	json_t	*it;

	va_start(ap, fmt);
	xvasprintf(&detail, fmt, ap);
	va_end(ap);
	it = json_pack("{s:s, s:s, s:s, s:s?}", "check", check, "status",
	    status, "detail", detail, "fix", fix);
	free(detail);
	json_array_append_new(items, it);
	return (it);
}

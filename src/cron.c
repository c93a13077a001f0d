/*
 * Cron expressions: parse the five classic fields (numbers, "*", lists,
 * ranges, steps, month and weekday names) and find the next matching
 * minute in local time. Pure: time comes in as an argument.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "cron.h"
#include "xmalloc.h"

struct cron_field {
	const char	*name;
	int		 min, max;
	const char	*const *names;	/* names for min.., or NULL */
};

static const char *const cron_months[] = { "jan", "feb", "mar", "apr",
    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const cron_days[] = { "sun", "mon", "tue", "wed", "thu",
    "fri", "sat", NULL };

static const struct cron_field cron_fields[] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, cron_months },
	{ "day of week", 0, 7, cron_days },
};

static int
cron_value(const struct cron_field *f, const char **sp, int *out)
{
	const char	*s = *sp;
	int		 i, v = 0, digits = 0;

	if (f->names != NULL && isalpha((unsigned char)*s)) {
		for (i = 0; f->names[i] != NULL; i++) {
			if (strncasecmp(s, f->names[i], 3) == 0) {
				*out = f->min + i;
				*sp = s + 3;
				return (0);
			}
		}
		return (-1);
	}
	while (isdigit((unsigned char)*s) && digits < 3) {
		v = v * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || v < f->min || v > f->max)
		return (-1);
	*out = v;
	*sp = s;
	return (0);
}

/* One field: comma list of "*", "N", "N-M", each with an optional "/S". */
static int
cron_field_parse(const struct cron_field *f, const char *s, uint64_t *bits)
{
	int	lo, hi, step, v;

	*bits = 0;
	for (;;) {
		if (*s == '*') {
			lo = f->min;
			hi = f->max;
			s++;
		} else {
			if (cron_value(f, &s, &lo) != 0)
				return (-1);
			hi = lo;
			if (*s == '-') {
				s++;
				if (cron_value(f, &s, &hi) != 0 || hi < lo)
					return (-1);
			}
		}
		step = 1;
		if (*s == '/') {
			s++;
			step = 0;
			if (!isdigit((unsigned char)*s))
				return (-1);
			while (isdigit((unsigned char)*s) && step < 1000)
				step = step * 10 + (*s++ - '0');
			if (step == 0 || step > f->max)
				return (-1);
			if (hi == lo && s[-1] != '*')
				hi = f->max;
		}
		for (v = lo; v <= hi; v += step)
			*bits |= 1ULL << v;
		if (*s == '\0')
			return (0);
		if (*s++ != ',')
			return (-1);
	}
}

int
cron_parse(const char *expr, struct cron *c, char **cause)
{
	char		*copy, *p, *save;
	uint64_t	 bits[5];
	int		 n = 0, i;

	copy = xstrdup(expr);
	for (p = strtok_r(copy, " \t", &save); p != NULL;
	    p = strtok_r(NULL, " \t", &save)) {
		if (n == 5) {
			n++;
			break;
		}
		bits[n] = 0;
		if (cron_field_parse(&cron_fields[n], p, &bits[n]) != 0) {
			if (cause != NULL)
				xasprintf(cause, "bad %s field \"%s\" in cron "
				    "expression", cron_fields[n].name, p);
			free(copy);
			return (-1);
		}
		if (n == 2)
			c->mday_any = strcmp(p, "*") == 0;
		if (n == 4)
			c->wday_any = strcmp(p, "*") == 0;
		n++;
	}
	free(copy);
	if (n != 5) {
		if (cause != NULL)
			*cause = xstrdup("a cron expression has five fields: "
			    "minute hour day-of-month month day-of-week");
		return (-1);
	}
	c->minute = bits[0];
	c->hour = bits[1];
	c->mday = bits[2];
	c->month = bits[3];
	c->wday = (bits[4] | (bits[4] >> 7)) & 0x7f;
	for (i = 0; i < 5; i++)
		if (bits[i] == 0)
			return (-1);
	return (0);
}

static int
cron_day_matches(const struct cron *c, const struct tm *tm)
{
	int	md = (c->mday >> tm->tm_mday) & 1;
	int	wd = (c->wday >> tm->tm_wday) & 1;

	/* Classic cron: when both are restricted, either one matching will do. */
	if (!c->mday_any && !c->wday_any)
		return (md || wd);
	return (md && wd);
}

#define CRON_HORIZON	(5LL * 366 * 24 * 3600)	/* seconds looked ahead */

/* The first matching minute strictly after `after`, local time; -1 if none. */
time_t
cron_next(const struct cron *c, time_t after)
{
	struct tm	tm, cand;
	time_t		t, r;
	int		i;

	t = after - (after % 60) + 60;
	localtime_r(&t, &tm);
	/*
	 * Five years, walked by skipping whole days and hours. The bound is
	 * on time, not steps: counted in steps, an expression that never
	 * matches ("0 0 30 2 *") walked thousands of years of days, seconds
	 * of CPU on the main thread (found by fuzz-cron).
	 */
	for (i = 0; i < 5 * 366 * 24 * 60 && t - after <= CRON_HORIZON;
	    i++) {
		if (!((c->month >> (tm.tm_mon + 1)) & 1) ||
		    !cron_day_matches(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = 0;
			tm.tm_min = 0;
		} else if (!((c->hour >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = 0;
		} else if (!((c->minute >> tm.tm_min) & 1)) {
			tm.tm_min++;
		} else {
			cand = tm;
			cand.tm_isdst = -1;
			if ((r = mktime(&cand)) > after)
				return (r);
			/*
			 * A time the clocks go back over exists twice, and
			 * mktime() may give the first, already past: the
			 * second is standard time. Found by fuzz-cron.
			 */
			cand = tm;
			cand.tm_isdst = 0;
			if ((r = mktime(&cand)) > after)
				return (r);
			tm.tm_min++;
		}
		tm.tm_isdst = -1;
		t = mktime(&tm);
		localtime_r(&t, &tm);
	}
	return (-1);
}

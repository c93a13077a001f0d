/* Five-field cron expressions (minute hour day-of-month month day-of-week). */
#ifndef CRON_H
#define CRON_H

#include <stdint.h>
#include <time.h>

struct cron {
	uint64_t	minute;		/* bit n: minute n (0-59) */
	uint32_t	hour;		/* 0-23 */
	uint32_t	mday;		/* 1-31 */
	uint16_t	month;		/* 1-12 */
	uint8_t		wday;		/* 0-6, Sunday 0 (7 accepted as 0) */
	int		mday_any;	/* day-of-month was "*" */
	int		wday_any;	/* day-of-week was "*" */
};

int	cron_parse(const char *, struct cron *, char **);
time_t	cron_next(const struct cron *, time_t);

#endif

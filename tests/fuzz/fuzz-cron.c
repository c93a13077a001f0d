/*
 * Fuzz the cron parser (settings and `job` schedules come from users):
 * the input, cut at 256 bytes and at its first NUL, is parsed; an
 * accepted expression's next runs are computed from a few start times,
 * in a time zone with daylight saving. Invariants: a refusal says why;
 * a next run is after its start, on a whole minute, and the run after it
 * comes later still.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"

#include "fuzz.h"

static const time_t fc_starts[] = {
	0,		/* 1970 */
	1711846799,	/* just before a spring-forward in Europe/Berlin */
	1729990799,	/* just before a fall-back */
	1798761599,	/* a new year's eve */
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int	 tz;
	struct cron	 c;
	char		 text[257], *cause = NULL;
	time_t		 t, n1, n2;
	size_t		 i;

	if (!tz) {
		setenv("TZ", "Europe/Berlin", 1);
		tzset();
		tz = 1;
	}
	if (len > sizeof text - 1)
		len = sizeof text - 1;
	memcpy(text, data, len);
	text[len] = '\0';
	if (cron_parse(text, &c, &cause) != 0) {
		FUZZ_CHECK(cause != NULL);
		free(cause);
		return (0);
	}
	for (i = 0; i < sizeof fc_starts / sizeof fc_starts[0]; i++) {
		t = fc_starts[i];
		if ((n1 = cron_next(&c, t)) == (time_t)-1)
			continue;
		FUZZ_CHECK(n1 > t);
		FUZZ_CHECK(n1 % 60 == 0);
		if ((n2 = cron_next(&c, n1)) != (time_t)-1)
			FUZZ_CHECK(n2 > n1);
	}
	return (0);
}

/*
 * What both halves of `metapi doctor` share: the client's local checks
 * (tui/doctor.c) and the daemon's doctor.run (daemon/ctl-doctor.c) give
 * their results in one item shape.
 */
#ifndef DOCTOR_H
#define DOCTOR_H

#include <jansson.h>

#define DOCTOR_TIMEOUT_MAX	60	/* --timeout, seconds */

json_t	*doctor_item(json_t *, const char *, const char *, const char *,
	    const char *, ...) __attribute__((format(printf, 5, 6)));

#endif

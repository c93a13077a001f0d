/*
 * Responses conversations kept here for upstreams that do not keep them.
 * A Responses client continues a conversation by naming the previous
 * response (previous_response_id); a Chat or Messages upstream has no
 * such thing, so when a Responses request was converted the whole
 * conversation (its hub messages, the reply included) is kept under the
 * id the client saw, for a while. Bounded in entries and bytes; the
 * oldest go first. In memory only: a restart forgets, as a TTL would.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "compat.h"
#include "daemon.h"
#include "xmalloc.h"

#define CONV_MAX		2048
#define CONV_MAX_BYTES		(128 * 1024 * 1024)
#define CONV_TTL		(6 * 3600)	/* seconds */

struct conv {
	char		*id;
	json_t		*messages;
	size_t		 bytes;
	time_t		 until;
};

static pthread_mutex_t	 conv_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct conv	 conv_v[CONV_MAX];
static size_t		 conv_n;
static size_t		 conv_bytes;

static void
conv_drop(size_t i)
{
	conv_bytes -= conv_v[i].bytes;
	free(conv_v[i].id);
	json_decref(conv_v[i].messages);
	conv_v[i] = conv_v[--conv_n];
}

/* Expired entries, then the oldest until there is room for bytes more. */
static void
conv_make_room(size_t bytes, time_t now)
{
	size_t	i, old;

	for (i = 0; i < conv_n; ) {
		if (conv_v[i].until <= now)
			conv_drop(i);
		else
			i++;
	}
	while (conv_n > 0 && (conv_n == CONV_MAX ||
	    conv_bytes + bytes > CONV_MAX_BYTES)) {
		for (old = 0, i = 1; i < conv_n; i++)
			if (conv_v[i].until < conv_v[old].until)
				old = i;
		conv_drop(old);
	}
}

/* Keep messages (a hub messages array; a reference is taken) under id. */
void
conversation_put(const char *id, json_t *messages)
{
	time_t	now = time(NULL);
	char	*s;
	size_t	 bytes;

	if ((s = json_dumps(messages, JSON_COMPACT)) == NULL)
		return;
	bytes = strlen(s) + strlen(id);
	free(s);
	if (bytes > CONV_MAX_BYTES)
		return;
	pthread_mutex_lock(&conv_mtx);
	conv_make_room(bytes, now);
	conv_v[conv_n].id = xstrdup(id);
	conv_v[conv_n].messages = json_incref(messages);
	conv_v[conv_n].bytes = bytes;
	conv_v[conv_n].until = now + CONV_TTL;
	conv_n++;
	conv_bytes += bytes;
	pthread_mutex_unlock(&conv_mtx);
}

/* A copy of the messages kept under id, NULL when none (or expired). */
json_t *
conversation_get(const char *id)
{
	json_t	*m = NULL;
	time_t	 now = time(NULL);
	size_t	 i;

	pthread_mutex_lock(&conv_mtx);
	for (i = 0; i < conv_n; i++) {
		if (strcmp(conv_v[i].id, id) == 0 && conv_v[i].until > now) {
			m = json_deep_copy(conv_v[i].messages);
			break;
		}
	}
	pthread_mutex_unlock(&conv_mtx);
	return (m);
}

/* At shutdown, so that leak checkers see a clean exit. */
void
conversation_clear(void)
{
	pthread_mutex_lock(&conv_mtx);
	while (conv_n > 0)
		conv_drop(0);
	pthread_mutex_unlock(&conv_mtx);
}

/*
 * Deferred replies: a control command that must wait on the network runs
 * its work on a thread of its own, then finishes on the main thread (where
 * the database connection lives) and replies. The finishing step is told
 * whether its client is still connected: a change nobody will hear about
 * (the client quit, or the daemon is stopping) is not made. Completed jobs queue here
 * and a byte on a pipe wakes the main loop. This module owns that queue
 * and its lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "xmalloc.h"

struct async_job {
	uint64_t		 client;
	uint32_t		 id;
	async_work_cb		 work;
	async_done_cb		 done;
	void			*arg;
	struct async_job	*next;
};

static pthread_mutex_t	 async_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 async_cv = PTHREAD_COND_INITIALIZER;
static struct async_job	*async_done_head;
static int		 async_running;
static int		 async_pipe[2] = { -1, -1 };

int
async_init(char **cause)
{
	if (pipe2(async_pipe, O_NONBLOCK|O_CLOEXEC) != 0) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

int
async_fd(void)
{
	return (async_pipe[0]);
}

static void *
async_thread(void *arg)
{
	struct async_job	*j = arg;
	char			 c = 1;

	j->work(j->arg);
	pthread_mutex_lock(&async_mtx);
	j->next = async_done_head;
	async_done_head = j;
	pthread_cond_broadcast(&async_cv);
	pthread_mutex_unlock(&async_mtx);
	if (write(async_pipe[1], &c, 1) == -1 && errno != EAGAIN)
		log_warn("async: wakeup");
	return (NULL);
}

void
async_run(struct ctl_req *req, async_work_cb work, async_done_cb done,
    void *arg)
{
	struct async_job	*j;
	pthread_t		 t;
	pthread_attr_t		 attr;

	j = xcalloc(1, sizeof *j);
	j->client = req->client;
	j->id = req->id;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&async_mtx);
	async_running++;
	pthread_mutex_unlock(&async_mtx);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, async_thread, j) != 0) {
		/* No thread to be had: do the work here, late but right. */
		log_warnx("async: cannot start a thread; working inline");
		async_thread(j);
	}
	pthread_attr_destroy(&attr);
}

/* Main thread: finish every completed job and send its reply. */
void
async_drain(void)
{
	struct async_job	*j, *next;
	struct err		 e = { ERR_OK, NULL };
	json_t			*reply;
	char			 buf[64];
	enum ctl_ret		 ret;

	while (read(async_pipe[0], buf, sizeof buf) > 0)
		;
	pthread_mutex_lock(&async_mtx);
	j = async_done_head;
	async_done_head = NULL;
	pthread_mutex_unlock(&async_mtx);
	for (; j != NULL; j = next) {
		next = j->next;
		reply = NULL;
		/* Client 0 is the daemon itself: a scheduled job. */
		ret = j->done(j->arg, j->client == 0 ||
		    ctl_client_alive(j->client), &reply, &e);
		if (ret == CTL_ERROR && e.code == ERR_OK)
			err_set(&e, ERR_INTERNAL, "request failed");
		if (ret == CTL_DONE)
			ctl_changed();
		ctl_reply(j->client, j->id, reply, &e);
		err_clear(&e);
		free(j);
		pthread_mutex_lock(&async_mtx);
		async_running--;
		pthread_cond_broadcast(&async_cv);
		pthread_mutex_unlock(&async_mtx);
	}
}

/* At shutdown: let running jobs finish so none is cut off half-way. */
void
async_wait_all(void)
{
	for (;;) {
		async_drain();
		pthread_mutex_lock(&async_mtx);
		if (async_running == 0) {
			pthread_mutex_unlock(&async_mtx);
			return;
		}
		if (async_done_head == NULL)
			pthread_cond_wait(&async_cv, &async_mtx);
		pthread_mutex_unlock(&async_mtx);
	}
}

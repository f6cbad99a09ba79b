/* offload_pool.c - lib/offload.h's backend in posternd (offload_pool.h).
 * Used by XTND XMIT: a submission's body fsync and its queue commit would
 * otherwise hold up every session of the process. */
#include "build-config.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/offload_pool.h"
#include "lib/offload.h"
#include "lib/xalloc.h"

struct job {
	struct job *next;
	offload_fn *work, *done;
	void *ctx;
};

struct queue {
	struct job *head, **tail;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct queue waiting = { NULL, &waiting.head }, finished = { NULL, &finished.head };
static bool quitting, started;
static pthread_t thread;
static struct ev_loop *pool_loop;
static ev_async report_async;

static void push(struct queue *q, struct job *j)
{
	j->next = NULL;
	*q->tail = j;
	q->tail = &j->next;
}

static struct job *pop(struct queue *q)
{
	struct job *j = q->head;

	if (j != NULL && (q->head = j->next) == NULL)
		q->tail = &q->head;
	return j;
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct job *j;

		while (waiting.head == NULL && !quitting)
			pthread_cond_wait(&wake, &lock);
		if ((j = pop(&waiting)) == NULL)
			break;		/* quitting, nothing left */
		pthread_mutex_unlock(&lock);
		j->work(j->ctx);
		pthread_mutex_lock(&lock);
		push(&finished, j);
		/* ev_async_send is the one libev call made off the loop */
		ev_async_send(pool_loop, &report_async);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void on_report(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&lock);
		j = pop(&finished);
		pthread_mutex_unlock(&lock);
		if (j == NULL)
			break;
		j->done(j->ctx);
		free(j);
	}
}

static void pool_run(offload_fn *work, offload_fn *done, void *ctx)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->work = work;
	j->done = done;
	j->ctx = ctx;
	pthread_mutex_lock(&lock);
	push(&waiting, j);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

static const struct offload_backend pool_backend = { .run = pool_run };

int offload_pool_start(struct ev_loop *loop, const char **error_r)
{
	static char err[128];
	sigset_t all, old;
	int rc;

	pool_loop = loop;
	quitting = false;
	ev_async_init(&report_async, on_report);
	ev_async_start(loop, &report_async);
	/* the loop thread handles every signal (libev's ev_signal) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&thread, NULL, worker, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, sizeof(err), "cannot start the offload thread: %s",
			 strerror(rc));
		*error_r = err;
		ev_async_stop(loop, &report_async);
		return -1;
	}
	started = true;
	offload_set_backend(&pool_backend);
	return 0;
}

void offload_pool_stop(void)
{
	if (!started)
		return;
	offload_set_backend(NULL);
	pthread_mutex_lock(&lock);
	quitting = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	started = false;
	/* report on the loop thread, which is this one */
	on_report(pool_loop, &report_async, 0);
	ev_async_stop(pool_loop, &report_async);
}

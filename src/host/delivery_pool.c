/* delivery_pool.c - files on N threads, commits on one, reports on the loop
 * (delivery_pool.h).
 *
 * Three queues under one mutex: `files` (the file threads take from it),
 * `commit` (the commit thread takes all of it at once) and `report` (the
 * loop takes it, woken by an ev_async).  While the commit thread commits one
 * batch, the next one gathers: under load, batches grow by themselves. */
#include "build-config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/delivery_pool.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/delivery_backend.h"

#define DELIVERY_THREADS_MAX 64
/* Deliveries in one commit: bounds the transaction and the array. */
#define COMMIT_BATCH_MAX 256

struct queue {
	struct delivery *head, *tail;
	unsigned int len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t files_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t commit_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle_wake = PTHREAD_COND_INITIALIZER;
static struct queue files_q, commit_q, report_q;
static unsigned int in_flight;		/* submitted, not yet in report_q */
static bool quitting;
static pthread_t file_threads[DELIVERY_THREADS_MAX], commit_thread;
static unsigned int nthreads;
static bool commit_started;
static struct ev_loop *pool_loop;
static ev_async report_async;

static void push(struct queue *q, struct delivery *d)
{
	delivery_set_next(d, NULL);
	if (q->tail != NULL)
		delivery_set_next(q->tail, d);
	else
		q->head = d;
	q->tail = d;
	q->len++;
}

static struct delivery *pop(struct queue *q)
{
	struct delivery *d = q->head;

	if (d != NULL) {
		q->head = delivery_next(d);
		if (q->head == NULL)
			q->tail = NULL;
		q->len--;
	}
	return d;
}

/* Under lock: d is done with the threads. */
static void to_report(struct delivery *d)
{
	push(&report_q, d);
	in_flight--;
	if (in_flight == 0)
		pthread_cond_broadcast(&idle_wake);
	/* ev_async_send is the one libev call made off the loop */
	ev_async_send(pool_loop, &report_async);
}

static void *files_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct delivery *d;
		bool ok;

		while (!quitting && files_q.head == NULL)
			pthread_cond_wait(&files_wake, &lock);
		if ((d = pop(&files_q)) == NULL)
			break;	/* quitting, and nothing left */
		pthread_mutex_unlock(&lock);

		ok = delivery_run_files(d);

		pthread_mutex_lock(&lock);
		if (ok) {
			push(&commit_q, d);
			pthread_cond_signal(&commit_wake);
		} else {
			to_report(d);
		}
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *commit_main(void *arg)
{
	struct delivery *batch[COMMIT_BATCH_MAX];

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		size_t n = 0;
		struct delivery *d;

		while (commit_q.head == NULL && !(quitting && in_flight == 0))
			pthread_cond_wait(&commit_wake, &lock);
		if (commit_q.head == NULL)
			break;	/* quitting, and every delivery reported */
		while (n < COMMIT_BATCH_MAX && (d = pop(&commit_q)) != NULL)
			batch[n++] = d;
		pthread_mutex_unlock(&lock);

		delivery_run_commit(batch, n);

		pthread_mutex_lock(&lock);
		for (size_t i = 0; i < n; i++)
			to_report(batch[i]);
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
		struct delivery *d;

		pthread_mutex_lock(&lock);
		d = pop(&report_q);
		pthread_mutex_unlock(&lock);
		if (d == NULL)
			break;
		delivery_run_report(d);
	}
}

static void pool_submit(struct delivery *d)
{
	pthread_mutex_lock(&lock);
	in_flight++;
	push(&files_q, d);
	pthread_cond_signal(&files_wake);
	pthread_mutex_unlock(&lock);
}

/* Stop and join every thread started (none may hold a delivery). */
static void join_all(void)
{
	pthread_mutex_lock(&lock);
	quitting = true;
	pthread_cond_broadcast(&files_wake);
	pthread_cond_broadcast(&commit_wake);
	pthread_mutex_unlock(&lock);
	for (unsigned int i = 0; i < nthreads; i++)
		pthread_join(file_threads[i], NULL);
	if (commit_started)
		pthread_join(commit_thread, NULL);
	nthreads = 0;
	commit_started = false;
}

static const struct delivery_backend pool_backend = { .submit = pool_submit };

int delivery_pool_start(struct ev_loop *loop, unsigned int count,
			const char **error_r)
{
	static char err[128];
	sigset_t all, old;
	int rc = 0;

	if (count > DELIVERY_THREADS_MAX)
		count = DELIVERY_THREADS_MAX;
	pool_loop = loop;
	quitting = false;
	if (count == 0)
		return 0;
	ev_async_init(&report_async, on_report);
	ev_async_start(loop, &report_async);
	/* the loop thread handles every signal (libev's ev_signal) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	nthreads = 0;
	rc = pthread_create(&commit_thread, NULL, commit_main, NULL);
	commit_started = rc == 0;
	while (rc == 0 && nthreads < count) {
		rc = pthread_create(&file_threads[nthreads], NULL, files_thread, NULL);
		if (rc == 0)
			nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, sizeof(err), "cannot start delivery thread %u: %s",
			 nthreads + 1, strerror(rc));
		*error_r = err;
		join_all();
		ev_async_stop(loop, &report_async);
		return -1;
	}
	delivery_set_backend(&pool_backend);
	return 0;
}

void delivery_pool_stop(void)
{
	if (nthreads == 0 && !commit_started)
		return;
	delivery_set_backend(NULL);
	pthread_mutex_lock(&lock);
	/* what is under way is a message a client waits for: finish it */
	while (in_flight > 0)
		pthread_cond_wait(&idle_wake, &lock);
	pthread_mutex_unlock(&lock);
	join_all();
	/* report on the loop thread, which is this one */
	on_report(pool_loop, &report_async, 0);
	ev_async_stop(pool_loop, &report_async);
}

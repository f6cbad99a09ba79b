/* delivery_pool.c - files on N threads, commits by whichever of them
 * finds none running, reports on the loop (delivery_pool.h).
 *
 * Queues under one mutex: `files` (deliveries to make durable), `commit`
 * (their files done, waiting for a transaction), `report` (for the loop,
 * woken by an ev_async) and `side` (a second fsync a thread hands off so
 * that a body file and its directory sync at the same time).  A thread
 * whose files are done commits the whole `commit` queue itself unless
 * another thread is committing; that one takes what arrived meanwhile in
 * its next round.  So under load one transaction carries many deliveries,
 * and alone a delivery needs no further thread switch. */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/delivery_pool.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/delivery_backend.h"
#include "store/body.h"

#define DELIVERY_THREADS_MAX 64
/* Deliveries in one commit: bounds the transaction and the array. */
#define COMMIT_BATCH_MAX 256

struct queue {
	struct delivery *head, *tail;
	unsigned int len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t files_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t side_done = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle_wake = PTHREAD_COND_INITIALIZER;
static struct queue files_q, commit_q, report_q;
static unsigned int in_flight;		/* submitted, not yet in report_q */
static bool quitting, committing;
static pthread_t file_threads[DELIVERY_THREADS_MAX];
static unsigned int nthreads;

/* A second fsync handed to an idle thread (pool_sync_pair). */
struct side_sync {
	struct side_sync *next;
	int fd, err;
	bool taken, done;
};
static struct side_sync *side_head;
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

/* Under lock: commit everything waiting, round after round, unless
 * another thread does it already. */
static void commit_waiting(void)
{
	struct delivery *batch[COMMIT_BATCH_MAX];

	if (committing)
		return;
	committing = true;
	while (commit_q.head != NULL) {
		size_t n = 0;
		struct delivery *d;

		while (n < COMMIT_BATCH_MAX && (d = pop(&commit_q)) != NULL)
			batch[n++] = d;
		pthread_mutex_unlock(&lock);
		delivery_run_commit(batch, n);
		pthread_mutex_lock(&lock);
		for (size_t i = 0; i < n; i++)
			to_report(batch[i]);
	}
	committing = false;
}

/* Under lock: run one side fsync. */
static void run_side(void)
{
	struct side_sync *t = side_head;

	side_head = t->next;
	t->taken = true;
	pthread_mutex_unlock(&lock);
	t->err = fsync(t->fd) < 0 ? errno : 0;
	pthread_mutex_lock(&lock);
	t->done = true;
	pthread_cond_broadcast(&side_done);
}

static void *files_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct delivery *d;
		bool ok;

		while (!quitting && files_q.head == NULL && side_head == NULL)
			pthread_cond_wait(&files_wake, &lock);
		if (side_head != NULL) {
			run_side();
			continue;
		}
		if ((d = pop(&files_q)) == NULL)
			break;	/* quitting, and nothing left */
		pthread_mutex_unlock(&lock);

		ok = delivery_run_files(d);

		pthread_mutex_lock(&lock);
		if (ok) {
			push(&commit_q, d);
			commit_waiting();
		} else {
			to_report(d);
		}
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* body.h's sync pair: fd_b goes to an idle thread while this one syncs
 * fd_a; with none idle, this thread does both. */
static void pool_sync_pair(int fd_a, int fd_b, int *err_a, int *err_b)
{
	struct side_sync t = { .fd = fd_b };
	struct side_sync **pp;

	pthread_mutex_lock(&lock);
	t.next = side_head;
	side_head = &t;
	pthread_cond_signal(&files_wake);
	pthread_mutex_unlock(&lock);

	*err_a = fsync(fd_a) < 0 ? errno : 0;

	pthread_mutex_lock(&lock);
	if (!t.taken) {
		for (pp = &side_head; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == &t) {
				*pp = t.next;
				break;
			}
		}
		pthread_mutex_unlock(&lock);
		*err_b = fsync(fd_b) < 0 ? errno : 0;
		return;
	}
	while (!t.done)
		pthread_cond_wait(&side_done, &lock);
	pthread_mutex_unlock(&lock);
	*err_b = t.err;
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
	body_set_sync_pair(NULL);
	pthread_mutex_lock(&lock);
	quitting = true;
	pthread_cond_broadcast(&files_wake);
	pthread_mutex_unlock(&lock);
	for (unsigned int i = 0; i < nthreads; i++)
		pthread_join(file_threads[i], NULL);
	nthreads = 0;
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
	body_set_sync_pair(pool_sync_pair);
	return 0;
}

void delivery_pool_stop(void)
{
	if (nthreads == 0)
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

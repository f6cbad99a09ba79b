/* verify_pool.c - password checks on threads beside the event loop.
 *
 * Two queues under one mutex: `waiting` (the threads take from it, woken by a
 * condition variable) and `finished` (the loop takes from it, woken by an
 * ev_async).  A job belongs to the loop except while it sits in `waiting` or a
 * thread runs it; the thread touches only password, hash and ok.  A
 * cancelled job is still run (a thread may hold it) and freed when it comes
 * back, without calling anyone. */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/verify_pool.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/password.h"
#include "store/store_ops.h"

#define VERIFY_THREADS_MAX 64
#define VERIFY_PASSWORD_MAX 1024

struct verify_job {
	struct verify_job *next;
	verify_done_fn *done;	/* NULL once cancelled */
	void *ctx;
	bool ok;
	bool never;		/* the dummy hash, or an over-long password */
	char password[VERIFY_PASSWORD_MAX + 1];
	char hash[PASSWORD_HASH_MAX];
};

struct job_queue {
	struct verify_job *head, *tail;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct job_queue waiting, finished;
static bool quitting;
static pthread_t threads[VERIFY_THREADS_MAX];
static unsigned int nthreads, busy;
static struct ev_loop *pool_loop;
static ev_async finished_async;

static void queue_push(struct job_queue *q, struct verify_job *job)
{
	job->next = NULL;
	if (q->tail != NULL)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
}

static struct verify_job *queue_pop(struct job_queue *q)
{
	struct verify_job *job = q->head;

	if (job != NULL) {
		q->head = job->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return job;
}

static void job_free(struct verify_job *job)
{
	explicit_bzero(job->password, sizeof(job->password));
	free(job);
}

static void *verify_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct verify_job *job;

		while (!quitting && waiting.head == NULL)
			pthread_cond_wait(&wake, &lock);
		if (quitting)
			break;
		job = queue_pop(&waiting);
		pthread_mutex_unlock(&lock);

		job->ok = password_verify(job->password, job->hash) && !job->never;

		pthread_mutex_lock(&lock);
		queue_push(&finished, job);
		/* ev_async_send is the one libev call made off the loop */
		ev_async_send(pool_loop, &finished_async);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void finish(struct verify_job *job)
{
	busy--;
	if (job->done != NULL)
		job->done(job->ctx, job->ok, job->password);
	job_free(job);
}

static void on_finished(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	for (;;) {
		struct verify_job *job;

		pthread_mutex_lock(&lock);
		job = queue_pop(&finished);
		pthread_mutex_unlock(&lock);
		if (job == NULL)
			break;
		finish(job);
	}
}

int verify_pool_start(struct ev_loop *loop, unsigned int count,
		      const char **error_r)
{
	static char err[128];
	sigset_t all, old;

	if (count > VERIFY_THREADS_MAX)
		count = VERIFY_THREADS_MAX;
	pool_loop = loop;
	quitting = false;
	if (count == 0)
		return 0;
	ev_async_init(&finished_async, on_finished);
	ev_async_start(loop, &finished_async);
	/* the loop thread handles every signal (libev's ev_signal) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (nthreads = 0; nthreads < count; nthreads++) {
		int rc = pthread_create(&threads[nthreads], NULL, verify_thread, NULL);

		if (rc != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			snprintf(err, sizeof(err),
				 "cannot start password check thread %u: %s",
				 nthreads + 1, strerror(rc));
			*error_r = err;
			verify_pool_stop();
			return -1;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

void verify_pool_stop(void)
{
	struct verify_job *job;

	if (nthreads == 0)
		return;
	pthread_mutex_lock(&lock);
	quitting = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	for (unsigned int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	nthreads = 0;
	ev_async_stop(pool_loop, &finished_async);
	while ((job = queue_pop(&waiting)) != NULL || (job = queue_pop(&finished)) != NULL) {
		busy--;
		job_free(job);
	}
}

struct verify_job *verify_submit(const char *password, const char *hash,
				 verify_done_fn *done, void *ctx)
{
	struct verify_job *job = xcalloc(1, sizeof(*job));
	size_t plen = strlen(password);

	job->done = done;
	job->ctx = ctx;
	/* a password longer than anything we store cannot match; it is still
	 * checked (truncated), so it takes the time a real check takes */
	if (plen > VERIFY_PASSWORD_MAX)
		plen = VERIFY_PASSWORD_MAX;
	memcpy(job->password, password, plen);
	snprintf(job->hash, sizeof(job->hash), "%s",
		 hash != NULL ? hash : password_dummy_hash());
	job->never = hash == NULL || strlen(password) > VERIFY_PASSWORD_MAX;
	busy++;
	if (nthreads == 0) {
		job->ok = password_verify(job->password, job->hash) && !job->never;
		finish(job);
		return NULL;
	}
	pthread_mutex_lock(&lock);
	queue_push(&waiting, job);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	return job;
}

void verify_cancel(struct verify_job *job)
{
	if (job != NULL)
		job->done = NULL;
}

unsigned int verify_pool_busy(void)
{
	return busy;
}

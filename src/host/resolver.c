/* resolver.c - getaddrinfo on a thread of its own (resolver.h). */
#include "build-config.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "host/resolver.h"
#include "lib/xalloc.h"

struct resolve_job {
	struct resolve_job *next;
	char *host, *port;
	resolve_done_fn *done;	/* NULL once cancelled */
	void *ctx;
	struct addrinfo *ai;
	char error[256];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct resolve_job *waiting, *finished;
static bool running, quitting;
static pthread_t thread;
static struct ev_loop *res_loop;
static ev_async finished_async;

static void lookup(struct resolve_job *job)
{
	struct addrinfo hints;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = getaddrinfo(job->host, job->port, &hints, &job->ai);
	if (rc != 0) {
		job->ai = NULL;
		snprintf(job->error, sizeof(job->error), "cannot resolve %s: %s",
			 job->host, gai_strerror(rc));
	}
}

static void *resolver_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct resolve_job *job;

		while (!quitting && waiting == NULL)
			pthread_cond_wait(&wake, &lock);
		if (quitting)
			break;
		job = waiting;
		waiting = job->next;
		pthread_mutex_unlock(&lock);
		lookup(job);
		pthread_mutex_lock(&lock);
		job->next = finished;
		finished = job;
		ev_async_send(res_loop, &finished_async);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void job_free(struct resolve_job *job)
{
	if (job->ai != NULL)
		freeaddrinfo(job->ai);
	free(job->host);
	free(job->port);
	free(job);
}

static void report(struct resolve_job *job)
{
	if (job->done != NULL)
		job->done(job->ctx, job->ai, job->ai != NULL ? NULL : job->error);
	job_free(job);
}

static void on_finished(struct ev_loop *loop, ev_async *w, int revents)
{
	struct resolve_job *list;

	(void)loop;
	(void)w;
	(void)revents;
	pthread_mutex_lock(&lock);
	list = finished;
	finished = NULL;
	pthread_mutex_unlock(&lock);
	while (list != NULL) {
		struct resolve_job *next = list->next;

		report(list);
		list = next;
	}
}

int resolver_start(struct ev_loop *loop, const char **error_r)
{
	static char err[128];
	sigset_t all, old;
	int rc;

	if (running)
		return 0;
	res_loop = loop;
	quitting = false;
	ev_async_init(&finished_async, on_finished);
	ev_async_start(loop, &finished_async);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&thread, NULL, resolver_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		ev_async_stop(loop, &finished_async);
		snprintf(err, sizeof(err), "cannot start the resolver thread: %s",
			 strerror(rc));
		*error_r = err;
		return -1;
	}
	running = true;
	return 0;
}

void resolver_stop(void)
{
	struct resolve_job *job;

	if (!running)
		return;
	pthread_mutex_lock(&lock);
	quitting = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	running = false;
	ev_async_stop(res_loop, &finished_async);
	/* nobody waits for these any more: drop them unanswered */
	while ((job = waiting) != NULL) {
		waiting = job->next;
		job_free(job);
	}
	while ((job = finished) != NULL) {
		finished = job->next;
		job_free(job);
	}
}

/* A numeric address needs no DNS: answered without the thread. */
static bool numeric(struct resolve_job *job)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	return getaddrinfo(job->host, job->port, &hints, &job->ai) == 0;
}

struct resolve_job *resolver_lookup(const char *host, const char *port,
				    resolve_done_fn *done, void *ctx)
{
	struct resolve_job *job, **tail;

	if (!running)
		return NULL;
	job = xcalloc(1, sizeof(*job));
	job->host = xstrdup(host);
	job->port = xstrdup(port);
	job->done = done;
	job->ctx = ctx;
	pthread_mutex_lock(&lock);
	if (numeric(job)) {
		/* answered now, reported from the loop like any other */
		job->next = finished;
		finished = job;
		ev_async_send(res_loop, &finished_async);
		pthread_mutex_unlock(&lock);
		return job;
	}
	/* first come, first looked up */
	for (tail = &waiting; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = job;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	return job;
}

void resolver_cancel(struct resolve_job *job)
{
	if (job != NULL)
		job->done = NULL;
}

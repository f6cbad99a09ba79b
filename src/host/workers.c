/* workers.c - the master of worker processes. */
#include "build-config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/host.h"
#include "host/stats.h"
#include "host/workers.h"
#include "lib/log.h"
#include "lib/strnum.h"
#include "lib/xalloc.h"

#define WORKERS_MAX 64
#define RESPAWN_DELAY 1.0	/* a crashing worker is not restarted in a loop */

struct worker {
	unsigned int number;	/* 1..count */
	pid_t pid;		/* 0: not running */
	ev_child child;
};

static struct worker *workers;
static unsigned int count, alive;
static bool stopping;
static worker_main_fn *worker_main;
static ev_signal sig_hup, sig_term, sig_int;
static ev_timer respawn;

int workers_parse(const char *value, unsigned int *count_r, const char **error_r)
{
	uint32_t n;

	if (strcmp(value, "auto") == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		*count_r = cpus < 1 ? 1 : cpus > WORKERS_MAX ? WORKERS_MAX : (unsigned int)cpus;
		return 0;
	}
	if (str_to_uint32(value, &n) < 0 || n < 1 || n > WORKERS_MAX) {
		*error_r = "workers: use auto or a number from 1 to 64";
		return -1;
	}
	*count_r = n;
	return 0;
}

/* In a new worker: the master's watchers are not its business. */
static void forget_master(struct ev_loop *loop)
{
	ev_signal_stop(loop, &sig_hup);
	ev_signal_stop(loop, &sig_term);
	ev_signal_stop(loop, &sig_int);
	ev_timer_stop(loop, &respawn);
	for (unsigned int i = 0; i < count; i++) {
		if (workers[i].pid != 0)
			ev_child_stop(loop, &workers[i].child);
	}
	free(workers);
	workers = NULL;
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents);

static void spawn(struct ev_loop *loop, struct worker *w)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_msg(LOG_ERROR, "HOST", "cannot start worker %u: %s", w->number,
			strerror(errno));
		ev_timer_again(loop, &respawn);
		return;
	}
	if (pid == 0) {
		unsigned int number = w->number;

		forget_master(loop);
		ev_loop_fork(loop);
		exit(worker_main(number));
	}
	w->pid = pid;
	alive++;
	ev_child_init(&w->child, on_child, pid, 0);
	w->child.data = w;
	ev_child_start(loop, &w->child);
	log_msg(LOG_INFO, "HOST", "worker %u started (pid %ld)", w->number, (long)pid);
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	struct worker *wk = w->data;
	int status = w->rstatus;

	(void)revents;
	ev_child_stop(loop, w);
	wk->pid = 0;
	stats_worker_gone(wk->number);
	alive--;
	if (stopping) {
		if (alive == 0)
			ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (WIFSIGNALED(status))
		log_msg(LOG_ERROR, "HOST", "worker %u (pid %d) was ended by signal %d; starting a new one",
			wk->number, w->rpid, WTERMSIG(status));
	else
		log_msg(LOG_ERROR, "HOST", "worker %u (pid %d) exited with status %d; starting a new one",
			wk->number, w->rpid, WEXITSTATUS(status));
	ev_timer_again(loop, &respawn);
}

static void on_respawn(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	ev_timer_stop(loop, w);
	for (unsigned int i = 0; i < count && !stopping; i++) {
		if (workers[i].pid == 0)
			spawn(loop, &workers[i]);
	}
}

static void signal_all(int sig)
{
	for (unsigned int i = 0; i < count; i++) {
		if (workers[i].pid != 0)
			kill(workers[i].pid, sig);
	}
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	log_reopen();
	log_msg(LOG_NOTICE, "HOST", "SIGHUP: passing it to %u workers", alive);
	signal_all(SIGHUP);
}

static void on_term(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	/* a second signal reaches the workers too: they stop at once */
	log_msg(LOG_NOTICE, "HOST", "signal %d: stopping %u workers", w->signum, alive);
	stopping = true;
	signal_all(w->signum);
	if (alive == 0)
		ev_break(loop, EVBREAK_ALL);
}

int workers_run(struct ev_loop *loop, unsigned int n, worker_main_fn *fn)
{
	count = n;
	worker_main = fn;
	workers = xcalloc(n, sizeof(*workers));
	ev_init(&respawn, on_respawn);
	respawn.repeat = RESPAWN_DELAY;
	for (unsigned int i = 0; i < n; i++) {
		workers[i].number = i + 1;
		spawn(loop, &workers[i]);
	}
	ev_signal_init(&sig_hup, on_hup, SIGHUP);
	ev_signal_init(&sig_term, on_term, SIGTERM);
	ev_signal_init(&sig_int, on_term, SIGINT);
	ev_signal_start(loop, &sig_hup);
	ev_signal_start(loop, &sig_term);
	ev_signal_start(loop, &sig_int);
	ev_run(loop, 0);
	ev_signal_stop(loop, &sig_hup);
	ev_signal_stop(loop, &sig_term);
	ev_signal_stop(loop, &sig_int);
	ev_timer_stop(loop, &respawn);
	free(workers);
	workers = NULL;
	return 0;
}

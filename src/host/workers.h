/* workers.h - worker processes (workers = auto | N).  The master binds the
 * listeners and keeps them open without accepting; every worker inherits
 * them, opens the store after the fork and runs the ordinary event loop.
 * The master forwards SIGHUP and SIGTERM, and starts a new worker (which
 * inherits the same sockets) when one dies. */
#ifndef PN_WORKERS_H
#define PN_WORKERS_H

#include <ev.h>

/* Runs in each new worker process; returns its exit status. */
typedef int worker_main_fn(unsigned int number);

/* "auto" (one per online CPU) or 1-64. */
int workers_parse(const char *value, unsigned int *count_r, const char **error_r);

/* The master's life: start `count` workers, supervise until SIGTERM and
 * every worker has ended.  Returns the master's exit status. */
int workers_run(struct ev_loop *loop, unsigned int count, worker_main_fn *fn);

#endif

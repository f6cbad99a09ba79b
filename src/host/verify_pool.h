/* verify_pool.h - password checks on a few threads beside the event loop.
 *
 * yescrypt is slow on purpose: about 1 ms at cost 1 and 18 ms at
 * libxcrypt's default.  Run on the loop, one check would stall every other
 * session of the process for that long.  The pool runs crypt on
 * auth.verify_threads threads; the loop hands a job over and carries on, and
 * the result comes back through an ev_async, on the loop.
 *
 * The threads see only the job's password and hash: no connection, no
 * store, no libev.  Everything else (looking the account up, the
 * verified-password cache, the reply) stays on the loop thread.
 * With 0 threads a check runs inline, before verify_submit() returns. */
#ifndef PN_VERIFY_POOL_H
#define PN_VERIFY_POOL_H

#include <stdbool.h>

#include <ev.h>

struct verify_job;

/* Called on the loop.  `password` is the job's copy (wiped after). */
typedef void verify_done_fn(void *ctx, bool ok, const char *password);

/* Start the threads of this process (after fork and privilege drop).
 * Signals stay with the loop thread. */
int verify_pool_start(struct ev_loop *loop, unsigned int threads,
		      const char **error_r);
/* Join the threads; jobs not finished are dropped unanswered. */
void verify_pool_stop(void);

/* Check `password` against `hash` (NULL: the dummy hash of the current
 * cost, for unknown users).  `done` is called exactly once, on the loop,
 * unless the job is cancelled first.  Returns NULL when done has already
 * run (no threads). */
struct verify_job *verify_submit(const char *password, const char *hash,
				 verify_done_fn *done, void *ctx);
/* The caller is going away: done will not be called. */
void verify_cancel(struct verify_job *job);

/* Jobs waiting or running (for tests and the log). */
unsigned int verify_pool_busy(void);

#endif

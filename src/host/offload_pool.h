/* offload_pool.h - the thread behind lib/offload.h in a serving posternd
 * process: jobs in order on one thread (what they do ends in one LMDB
 * commit each, and LMDB takes one writer at a time anyway), their `done`
 * back on the loop through an ev_async. */
#ifndef PN_OFFLOAD_POOL_H
#define PN_OFFLOAD_POOL_H

#include <ev.h>

int offload_pool_start(struct ev_loop *loop, const char **error_r);
/* Finish every job queued (a client waits for each), report them, join. */
void offload_pool_stop(void);

#endif

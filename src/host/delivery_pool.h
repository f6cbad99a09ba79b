/* delivery_pool.h - making deliveries durable beside the event loop.
 *
 * A delivery's fsyncs (its body files and their directories) take a
 * fraction of a millisecond each and, on the loop, would stall every
 * session of the process.  The pool runs them on delivery_threads threads
 * at once - a disk takes many syncs in parallel far faster than one after
 * another - and one more thread commits the metadata of every delivery
 * whose files are done, in one transaction (group commit: one LMDB sync
 * for all of them).  The outcome comes back to the loop through an
 * ev_async, where the module's `done` runs.
 *
 * The threads touch a delivery only between submit and report; the loop
 * does not touch it meanwhile (delivery_free marks it, the report frees).
 * With 0 threads everything runs inline, before delivery_data_finish()
 * returns. */
#ifndef PN_DELIVERY_POOL_H
#define PN_DELIVERY_POOL_H

#include <ev.h>

/* Start the threads of this process (after fork and privilege drop) and
 * register the pool as the delivery backend. */
int delivery_pool_start(struct ev_loop *loop, unsigned int threads,
			const char **error_r);
/* Let every delivery under way finish (they are short), report them, and
 * join the threads. */
void delivery_pool_stop(void);

#endif

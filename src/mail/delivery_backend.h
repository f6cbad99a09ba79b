/* delivery_backend.h - how a finished delivery becomes durable.
 *
 * delivery_data_finish() (module API) runs three steps:
 *   files   finish the first copy, write the others, fsync each file and
 *           its directory - slow, independent per delivery: any thread;
 *   commit  one store transaction for the copies of one or many deliveries
 *           (group commit: one sync for all) - one thread at a time;
 *   report  the recipients' outcomes, the log, `done` - on the loop.
 * posternd registers a backend (host/delivery_pool.c) that runs files on
 * threads and commit on one thread for whatever has finished meanwhile;
 * without one (posternctl, unit tests) the three run in a row before
 * delivery_data_finish() returns. */
#ifndef PN_DELIVERY_BACKEND_H
#define PN_DELIVERY_BACKEND_H

#include <stddef.h>

#include "postern/module.h"

struct delivery_backend {
	/* Take a delivery whose message is complete; call the steps below
	 * for it.  Called on the loop. */
	void (*submit)(struct delivery *d);
};

/* NULL: no backend, every step inline. */
void delivery_set_backend(const struct delivery_backend *backend);

/* Any thread; touches only d's own files and buffers.  false: d failed
 * (its outcome is set) and has no part in a commit. */
bool delivery_run_files(struct delivery *d);
/* Any thread, one at a time: one transaction for every delivery given. */
void delivery_run_commit(struct delivery **list, size_t count);
/* The loop: outcomes, log records, `done` (or freeing, when the delivery
 * was freed meanwhile). */
void delivery_run_report(struct delivery *d);

/* Queue link for the backend's own lists. */
struct delivery *delivery_next(const struct delivery *d);
void delivery_set_next(struct delivery *d, struct delivery *next);

#endif

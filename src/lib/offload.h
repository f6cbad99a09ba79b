/* offload.h - a short blocking job (fsyncs and a store commit) run beside
 * the event loop: `work` on a thread of posternd's, then `done` back on
 * the loop.  posternd registers the backend (host/offload_pool.c); without
 * one (posternctl, unit tests) both run in a row before offload_run()
 * returns.  The caller must not touch ctx between the two. */
#ifndef PN_OFFLOAD_H
#define PN_OFFLOAD_H

typedef void offload_fn(void *ctx);

struct offload_backend {
	void (*run)(offload_fn *work, offload_fn *done, void *ctx);
};

/* NULL: no backend, every job inline. */
void offload_set_backend(const struct offload_backend *backend);
void offload_run(offload_fn *work, offload_fn *done, void *ctx);

#endif

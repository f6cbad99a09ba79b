/* offload.c - the job runner's front (offload.h). */
#include "build-config.h"

#include <stddef.h>

#include "lib/offload.h"

static const struct offload_backend *backend;

void offload_set_backend(const struct offload_backend *b)
{
	backend = b;
}

void offload_run(offload_fn *work, offload_fn *done, void *ctx)
{
	if (backend != NULL) {
		backend->run(work, done, ctx);
		return;
	}
	work(ctx);
	done(ctx);
}

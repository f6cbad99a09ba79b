/* io_watch.c - a file descriptor a module watches on the loop (module API
 * pn_io_*): for modules that run a protocol library of their own (the web
 * admin's libmicrohttpd) beside the host's connections. */
#include "build-config.h"

#include <stdlib.h>

#include <ev.h>

#include "host/host.h"
#include "lib/xalloc.h"
#include "postern/module.h"

struct pn_io {
	ev_io w;
	pn_io_fn *fn;
	void *ctx;
};

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pn_io *io = w->data;

	(void)loop;
	io->fn(io->ctx, (revents & EV_READ) != 0, (revents & EV_WRITE) != 0);
}

struct pn_io *pn_io_new(int fd, bool want_read, bool want_write, pn_io_fn *fn,
			void *ctx)
{
	struct pn_io *io = xcalloc(1, sizeof(*io));

	io->fn = fn;
	io->ctx = ctx;
	ev_io_init(&io->w, on_io, fd, (want_read ? EV_READ : 0) |
		   (want_write ? EV_WRITE : 0));
	io->w.data = io;
	ev_io_start(host_loop(), &io->w);
	return io;
}

void pn_io_free(struct pn_io **iop)
{
	struct pn_io *io = *iop;

	if (io == NULL)
		return;
	ev_io_stop(host_loop(), &io->w);
	free(io);
	*iop = NULL;
}

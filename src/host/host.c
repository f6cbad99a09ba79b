/* host.c - the event loop shared by the host's files. */
#include "build-config.h"

#include <stddef.h>

#include "host/host.h"

static struct ev_loop *host_ev_loop;
static void (*closed_hook)(void);

void host_init(struct ev_loop *loop, void (*conn_closed_hook)(void))
{
	host_ev_loop = loop;
	closed_hook = conn_closed_hook;
}

struct ev_loop *host_loop(void)
{
	return host_ev_loop;
}

void host_conn_closed(void)
{
	if (closed_hook != NULL)
		closed_hook();
}

static unsigned int worker_number, worker_count = 1;

void host_set_worker(unsigned int number, unsigned int count)
{
	worker_number = number;
	worker_count = count ? count : 1;
}

unsigned int host_worker(void)
{
	return worker_number;
}

unsigned int host_workers(void)
{
	return worker_count;
}

/* host.c - the event loop shared by the host's files. */
#include "config.h"

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

/* host.h - process-wide state of posternd: the event loop and shutdown. */
#ifndef PN_HOST_H
#define PN_HOST_H

#include <ev.h>

/* Set once by posternd's main before any connection exists. */
void host_init(struct ev_loop *loop, void (*conn_closed_hook)(void));
struct ev_loop *host_loop(void);
/* A connection went away: during shutdown the last one ends the loop. */
void host_conn_closed(void);

#endif

/* host.h - process-wide state of posternd: the event loop and shutdown. */
#ifndef PN_HOST_H
#define PN_HOST_H

#include <ev.h>

/* Set once by posternd's main before any connection exists. */
void host_init(struct ev_loop *loop, void (*conn_closed_hook)(void));
struct ev_loop *host_loop(void);
/* Worker processes: this process's number (0: the only process, or the
 * master) and how many workers share the listeners. */
void host_set_worker(unsigned int number, unsigned int count);
unsigned int host_worker(void);
unsigned int host_workers(void);
/* A connection went away: during shutdown the last one ends the loop. */
void host_conn_closed(void);

#endif

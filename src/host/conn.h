/* conn.h - the connection object (host side): one socket, bounded input,
 * an output queue of memory and file segments, an idle timer and one
 * protocol session.  The module side is in postern/module.h. */
#ifndef PN_CONN_H
#define PN_CONN_H

#include <stdbool.h>
#include <sys/socket.h>

struct service;

/* Take over an accepted socket; opens the module's session. */
void conn_new(struct service *svc, int fd, const struct sockaddr *peer,
	      socklen_t peerlen, bool implicit_tls);

/* Close every connection of a service now (end of shutdown grace). */
void conn_close_all(struct service *svc);

unsigned int conn_total(void);

#endif

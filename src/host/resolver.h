/* resolver.h - host name lookups off the event loop.
 *
 * getaddrinfo() may wait seconds for a DNS server; on the loop that would
 * stall every session.  One thread does the lookups in turn (they are
 * rare: one per outgoing connection) and the answer comes back to the loop
 * through an ev_async.  Numeric addresses are answered at once. */
#ifndef PN_RESOLVER_H
#define PN_RESOLVER_H

#include <netdb.h>

#include <ev.h>

struct resolve_job;

/* Called on the loop: ai (freed by the resolver after the call) or error. */
typedef void resolve_done_fn(void *ctx, const struct addrinfo *ai,
			     const char *error);

int resolver_start(struct ev_loop *loop, const char **error_r);
void resolver_stop(void);

/* Look up host:port for a TCP connection.  `done` is called exactly once,
 * on the loop after this returns, unless cancelled first.  NULL when the
 * resolver is not running. */
struct resolve_job *resolver_lookup(const char *host, const char *port,
				    resolve_done_fn *done, void *ctx);
void resolver_cancel(struct resolve_job *job);

#endif

/* service.h - a protocol module's running instance: its listeners, the
 * channel counts (total and per client address) and its connections. */
#ifndef PN_SERVICE_H
#define PN_SERVICE_H

#include <stdbool.h>
#include <netinet/in.h>
#include <sys/types.h>
#include <ev.h>

#include "postern/module.h"

struct conn;
struct ip_count;

#define IP_BUCKETS 1024

struct listener {
	struct listener *next;
	struct service *svc;
	int fd;
	bool tls;		/* implicit TLS: handshake first */
	ev_io io;
	char addr[128];		/* as configured */
	pid_t owner;		/* UNIX socket: the process that made (and
				 * removes) the path; 0 for TCP */
};

struct service {
	struct service *next;
	const struct pn_module *mod;
	void *settings;
	unsigned int index;		/* its place in `modules` (stats.h) */
	unsigned int active;		/* open connections */
	struct ip_count *ips[IP_BUCKETS];
	struct listener *listeners;
	struct conn *conns;		/* doubly linked through conn */
};

/* What start-up would refuse about the listeners (for -t too). */
int service_check(const struct service *svc, const char **error_r);
/* Open the listeners a protocol module's settings name.  channels = 0:
 * none.  Errors name the address and what to do. */
int service_start(struct service *svc, const char **error_r);
/* Open listeners without accepting on them (the master of workers), and
 * start accepting on the ones a worker inherited. */
void service_set_passive(bool passive);
void service_activate(struct service *svc);
/* Bring listeners in line with changed settings (SIGHUP). */
void service_reconfigure(struct service *svc);
/* Stop accepting (shutdown). */
void service_stop_listening(struct service *svc);

const struct listener_settings *service_listener_settings(const struct service *svc);

/* The key under which per-address limits count a client: the address for
 * IPv4, its /64 for IPv6 (a subscriber gets a whole /64).  out holds
 * INET6_ADDRSTRLEN + 4 octets. */
void service_limit_key(const char *ip, char *out, size_t size);

/* Per-address counts (by limit key), kept by conn_new/conn_destroy. */
unsigned int service_ip_get(struct service *svc, const char *ip);
void service_ip_add(struct service *svc, const char *ip, int delta);

#endif

/* conn_client.c - outgoing connections (module API conn_connect): resolve
 * the host off the loop, try its addresses in turn with non-blocking
 * connects, then hand over to the ordinary connection machinery (line
 * input, output queue, TLS) of conn.c.
 *
 * The whole attempt - lookup and every address - has one deadline, the
 * connection's idle timer: a smarthost that does not answer costs the
 * relay `timeout` seconds, never a stalled loop. */
#include "build-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/conn_internal.h"
#include "host/host.h"
#include "host/modules.h"
#include "host/resolver.h"
#include "host/service.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define CONNECT_ADDRS_MAX 16	/* addresses of one name tried */

struct conn_client {
	conn_connected_fn *connected;
	struct resolve_job *resolving;
	struct sockaddr_storage addrs[CONNECT_ADDRS_MAX];
	socklen_t addrlens[CONNECT_ADDRS_MAX];
	unsigned int naddrs, next;
	char host[256], port[16];
	char name[256 + INET6_ADDRSTRLEN + 24];	/* "host[ip]:port" */
	char last_error[256 + INET6_ADDRSTRLEN + 24 + 128];
	conn_tls_done_fn *tls_done;
};

void conn_client_free(struct conn *c)
{
	if (c->client == NULL)
		return;
	resolver_cancel(c->client->resolving);
	free(c->client);
	c->client = NULL;
}

const char *conn_peer_name(const struct conn *c)
{
	if (c->client != NULL)
		return c->client->name;
	return c->peer_ip;
}

/* Tell the module the attempt failed, then go: no close callback. */
static void connect_failed(struct conn *c, const char *why)
{
	struct conn_client *cl = c->client;
	void *session = c->session;

	conn_log(c, LOG_INFO, "cannot connect to %s:%s: %s", cl->host, cl->port,
		 why);
	c->session = NULL;
	c->dead = true;
	cl->connected(session, why);
	if (!c->in_run)
		conn_destroy(c);
}

static void set_name(struct conn *c, const struct sockaddr *sa)
{
	struct conn_client *cl = c->client;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  ip, sizeof(ip));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  ip, sizeof(ip));
	snprintf(cl->name, sizeof(cl->name), "%s[%s]:%s", cl->host, ip, cl->port);
}

/* The connect succeeded: from here on an ordinary connection. */
static void established(struct conn *c)
{
	struct conn_client *cl = c->client;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);

	c->connecting = false;
	if (getpeername(c->fd, (struct sockaddr *)&peer, &len) == 0)
		conn_set_peer(c, (struct sockaddr *)&peer);
	c->last_activity = ev_now(host_loop());
	conn_log(c, LOG_DEBUG, "connected to %s", cl->name);
	/* the module may abort from its callback: destroy only after it */
	c->in_run = true;
	cl->connected(c->session, NULL);
	c->in_run = false;
	if (c->dead) {
		conn_destroy(c);
		return;
	}
	conn_run(c);
}

/* Start a connect to the next address; on none left, fail. */
static void try_next(struct conn *c)
{
	struct conn_client *cl = c->client;
	struct ev_loop *loop = host_loop();

	while (cl->next < cl->naddrs) {
		const struct sockaddr *sa = (const struct sockaddr *)&cl->addrs[cl->next];
		socklen_t salen = cl->addrlens[cl->next];
		int fd;

		cl->next++;
		set_name(c, sa);
		fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(cl->last_error, sizeof(cl->last_error), "%s", strerror(errno));
			continue;
		}
		c->fd = fd;
		ev_io_set(&c->rio, fd, EV_READ);
		ev_io_set(&c->wio, fd, EV_WRITE);
		if (connect(fd, sa, salen) == 0) {
			established(c);
			return;
		}
		if (errno == EINPROGRESS) {
			ev_io_start(loop, &c->wio);
			return;
		}
		snprintf(cl->last_error, sizeof(cl->last_error), "%s: %s", cl->name,
			 strerror(errno));
		close(fd);
		c->fd = -1;
	}
	connect_failed(c, cl->last_error[0] ? cl->last_error : "no address to connect to");
}

void conn_client_connect_done(struct conn *c)
{
	struct conn_client *cl = c->client;
	int err = 0;
	socklen_t len = sizeof(err);

	ev_io_stop(host_loop(), &c->wio);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		established(c);
		return;
	}
	snprintf(cl->last_error, sizeof(cl->last_error), "%s: %s", cl->name,
		 strerror(err));
	close(c->fd);
	c->fd = -1;
	try_next(c);
}

void conn_client_connect_timeout(struct conn *c)
{
	struct conn_client *cl = c->client;
	char why[sizeof(cl->last_error) + 64];

	if (c->fd >= 0) {
		ev_io_stop(host_loop(), &c->wio);
		close(c->fd);
		c->fd = -1;
	}
	snprintf(why, sizeof(why), "no connection within %u s%s%s",
		 c->client_timeout, cl->last_error[0] ? "; " : "", cl->last_error);
	connect_failed(c, why);
}

static void on_resolved(void *ctx, const struct addrinfo *ai, const char *error)
{
	struct conn *c = ctx;
	struct conn_client *cl = c->client;

	cl->resolving = NULL;
	if (ai == NULL) {
		connect_failed(c, error);
		return;
	}
	for (; ai != NULL && cl->naddrs < CONNECT_ADDRS_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(cl->addrs[0]))
			continue;
		memcpy(&cl->addrs[cl->naddrs], ai->ai_addr, ai->ai_addrlen);
		cl->addrlens[cl->naddrs++] = ai->ai_addrlen;
	}
	try_next(c);
}

struct conn *conn_connect(const struct pn_module *mod, const char *host,
			  const char *port, const struct pn_protocol *proto,
			  void *session, unsigned int timeout,
			  conn_connected_fn *connected, const char **error_r)
{
	struct service *svc = modules_service(mod);
	struct conn_client *cl;
	struct conn *c;

	if (svc == NULL) {
		*error_r = "conn_connect: not a loaded module";
		return NULL;
	}
	if (host[0] == '\0' || strlen(host) >= sizeof(cl->host) ||
	    port[0] == '\0' || strlen(port) >= sizeof(cl->port)) {
		*error_r = "conn_connect: a host name and a port are needed";
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	cl = xcalloc(1, sizeof(*cl));
	c->client = cl;
	c->client_timeout = timeout > 0 ? timeout : 60;
	c->connecting = true;
	c->session = session;
	cl->connected = connected;
	snprintf(cl->host, sizeof(cl->host), "%s", host);
	snprintf(cl->port, sizeof(cl->port), "%s", port);
	snprintf(cl->name, sizeof(cl->name), "%s:%s", host, port);
	/* until it is connected, the log names it by the host asked for */
	snprintf(c->peer_ip, sizeof(c->peer_ip), "%.*s", (int)sizeof(c->peer_ip) - 1,
		 host);
	conn_setup(c, svc, proto, -1);
	cl->resolving = resolver_lookup(host, port, on_resolved, c);
	if (cl->resolving == NULL) {
		c->session = NULL;
		conn_destroy(c);
		*error_r = "conn_connect: the resolver is not running";
		return NULL;
	}
	return c;
}

void conn_set_timeout(struct conn *c, unsigned int seconds)
{
	ev_tstamp left;

	if (c->client == NULL || c->connecting || c->dead)
		return;
	c->client_timeout = seconds > 0 ? seconds : 60;
	/* on_idle reads the timeout when it fires; re-arm it for a
	 * shorter one, so that it does not fire late */
	left = c->last_activity + c->client_timeout - ev_now(host_loop());
	c->idle.repeat = left > 0.001 ? left : 0.001;
	ev_timer_again(host_loop(), &c->idle);
}

void conn_client_set_tls_done(struct conn *c, conn_tls_done_fn *done)
{
	c->client->tls_done = done;
}

void conn_client_tls_done(struct conn *c, const char *error)
{
	conn_tls_done_fn *done = c->client->tls_done;
	void *session = c->session;

	c->client->tls_done = NULL;
	if (error != NULL)
		c->session = NULL;	/* the connection is going: no close */
	if (done != NULL)
		done(session, error);
}

void conn_abort(struct conn *c)
{
	/* the module is done with it: no close callback */
	c->session = NULL;
	conn_kill(c, NULL);
	if (!c->in_run)
		conn_destroy(c);
}

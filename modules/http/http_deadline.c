/* http_deadline.c - http.request_timeout: a request's line and headers
 * must be complete within that long of the connection opening or the
 * previous answer.  libmicrohttpd's own timeout (http.idle_timeout) counts
 * from the last octet, so a client that sends one header line now and then
 * (slowloris) would hold a channel for ever; at http.channels of them the
 * web admin would serve no one.
 *
 * MHD tells us when a connection opens and closes (the socket context
 * holds our record) and we learn when its headers are complete (the first
 * call of the access handler) and its answer is done; a one-second timer
 * shuts down the sockets that are late, which MHD then closes as any
 * connection the client dropped. */
#include "http.h"

#include <stdlib.h>
#include <sys/socket.h>

struct http_conn {
	struct http_conn *next, **prevp;
	int fd;
	double since;		/* waiting for a request since */
	bool in_request;	/* headers complete, answer not done */
	bool cut;
};

static struct http_conn *conns;
static struct pn_timer *timer;
static bool stopped;

static void check(void *ctx)
{
	double now = pn_now();
	bool any = false;

	(void)ctx;
	for (struct http_conn *c = conns; c != NULL; c = c->next) {
		if (c->in_request || c->cut)
			continue;
		if (now - c->since >= http_set->request_timeout) {
			log_msg(LOG_NOTICE, HTTP_TAG,
				"closing a connection whose request did not come whole within %u s",
				http_set->request_timeout);
			shutdown(c->fd, SHUT_RDWR);
			c->cut = true;
			any = true;
		}
	}
	if (any)
		http_kick_all();
	if (conns != NULL && !stopped)
		pn_timer_start(timer, 1);
}

void http_conn_notify(void *cls, struct MHD_Connection *con,
		      void **socket_context, enum MHD_ConnectionNotificationCode code)
{
	struct http_conn *c = *socket_context;
	const union MHD_ConnectionInfo *info;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (c == NULL)
			return;
		*c->prevp = c->next;
		if (c->next != NULL)
			c->next->prevp = c->prevp;
		free(c);
		*socket_context = NULL;
		return;
	}
	info = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (info == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return;		/* no deadline for it; idle_timeout still holds */
	c->fd = info->connect_fd;
	c->since = pn_now();
	c->next = conns;
	c->prevp = &conns;
	if (conns != NULL)
		conns->prevp = &c->next;
	conns = c;
	*socket_context = c;
	if (timer == NULL)
		timer = pn_timer_new(check, NULL);
	if (!stopped && c->next == NULL)
		pn_timer_start(timer, 1);
}

static struct http_conn *of(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info != NULL ? info->socket_context : NULL;
}

void http_conn_request_begun(struct MHD_Connection *con)
{
	struct http_conn *c = of(con);

	if (c != NULL)
		c->in_request = true;
}

void http_conn_request_done(struct MHD_Connection *con)
{
	struct http_conn *c = of(con);

	if (c != NULL) {
		c->in_request = false;
		c->since = pn_now();
	}
}

void http_deadline_stop(void)
{
	stopped = true;
	pn_timer_free(&timer);
}

/* conn.c - the connection object: socket, bounded line input, queued
 * output (memory and file segments), idle timer, backpressure.
 *
 * Life of an input line: read() into a fixed buffer -> split at LF in
 * place -> protocol line callback.  Lines are not copied.  While output is
 * backed up (OUT_HIGH), a file is being sent, a continuation is pending or
 * a failure delay runs, no line is passed on and the socket is not read:
 * a client that never reads cannot make us buffer without bound.
 *
 * A connection is destroyed only from the host's own callbacks (conn_run
 * and the timers), never while a module callback is on the stack. */
#include "build-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "host/conn.h"
#include "host/conn_internal.h"
#include "host/host.h"
#include "host/login.h"
#include "host/sasl.h"
#include "host/service.h"
#include "host/stats.h"
#include "lib/buf.h"
#include "lib/dotstuff.h"
#include "lib/linereader.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define OUT_HIGH (64 * 1024)	/* stop taking commands above this */
#define OUT_LOW (16 * 1024)	/* call a continuation below this */
#define OUT_MAX (32u * 1024 * 1024) /* a module bug or abuse: close */
#define INLINE_FILE_MAX (64 * 1024) /* copy smaller files into memory */
#define FILE_CHUNK (32 * 1024)
#define RUN_ROUNDS 64		/* continuation steps per event */
#define DATA_BUFFER (64 * 1024)	/* input buffer while a message streams in */

static unsigned long next_id = 1;
static unsigned int total_conns;

unsigned int conn_total(void)
{
	return total_conns;
}



/* ---- logging ---- */

static void set_prefix(struct conn *c, const char *user)
{
	char id[32];

	/* POP-7, or POP-2.7 for connection 7 of worker 2 */
	if (host_worker() > 0)
		snprintf(id, sizeof(id), "%u.%lu", host_worker(), c->id);
	else
		snprintf(id, sizeof(id), "%lu", c->id);
	free(c->log_prefix);
	c->log_prefix = xasprintf("%s-%s [%s]%s%s", c->svc->mod->log_tag, id,
				  c->peer_ip, user ? " " : "", user ? user : "");
}

void conn_log(struct conn *c, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	/* the tag field carries "POP-7 [ip] user" so records correlate */
	log_vmsg(level, c->log_prefix, NULL, fmt, ap);
	va_end(ap);
}

void conn_set_log_user(struct conn *c, const char *user)
{
	set_prefix(c, user);
}

const char *conn_peer_ip(const struct conn *c)
{
	return c->peer_ip;
}

const char *conn_local_ip(const struct conn *c)
{
	return c->local_ip;
}

bool conn_peer_is_loopback(const struct conn *c)
{
	return c->loopback;
}

/* ---- output ---- */

void conn_kill(struct conn *c, const char *why)
{
	if (!c->dead && why != NULL)
		conn_log(c, LOG_INFO, "disconnected: %s", why);
	c->dead = true;
}

static struct oseg *seg_new(struct conn *c, bool is_file)
{
	struct oseg *s = xcalloc(1, sizeof(*s));

	s->is_file = is_file;
	s->fd = -1;
	buf_init(&s->mem, is_file ? 2 * FILE_CHUNK + 16 : OUT_MAX);
	if (c->tail != NULL)
		c->tail->next = s;
	else
		c->head = s;
	c->tail = s;
	if (is_file)
		c->out_files++;
	return s;
}

static void seg_pop(struct conn *c)
{
	struct oseg *s = c->head;

	c->head = s->next;
	if (c->head == NULL)
		c->tail = NULL;
	if (s->is_file) {
		c->out_files--;
		close(s->fd);
	} else {
		c->out_bytes -= s->mem.len - s->pos;
	}
	buf_free(&s->mem);
	free(s);
}

static struct buf *tail_mem(struct conn *c)
{
	/* never append behind bytes already sent: a segment being written
	 * would keep everything ever queued while the client reads slowly */
	if (c->tail == NULL || c->tail->is_file || c->tail->pos > 0)
		seg_new(c, false);
	return &c->tail->mem;
}

void conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->dead)
		return;
	if (c->out_bytes + len > OUT_MAX || buf_append(tail_mem(c), data, len) < 0) {
		conn_kill(c, "output limit exceeded");
		return;
	}
	c->out_bytes += len;
}

void conn_puts(struct conn *c, const char *s)
{
	conn_write(c, s, strlen(s));
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	struct buf *b;
	size_t before;
	va_list ap;
	int ret;

	if (c->dead)
		return;
	b = tail_mem(c);
	before = b->len;
	va_start(ap, fmt);
	ret = buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (ret < 0 || c->out_bytes + (b->len - before) > OUT_MAX) {
		conn_kill(c, "output limit exceeded");
		return;
	}
	c->out_bytes += b->len - before;
}

/* Read the next chunk of [off, end) of fd through ds into staging area b.
 * -1 on a read error or a file shorter than its record. */
static int pump_file(int fd, uint64_t *off, uint64_t end, struct dotstuff *ds,
		     struct buf *b)
{
	char chunk[FILE_CHUNK];
	size_t want = end - *off < FILE_CHUNK ? (size_t)(end - *off) : FILE_CHUNK;
	ssize_t n;

	do {
		n = pread(fd, chunk, want, (off_t)*off);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	/* the staging area holds twice a chunk: stuffing always fits */
	*off += dotstuff_run(ds, chunk, (size_t)n, b);
	if (ds->done)
		*off = end;
	return 0;
}

void conn_send_file(struct conn *c, int fd, uint64_t offset, uint64_t len,
		    unsigned int flags, uint64_t hdr_len, long max_lines)
{
	bool stuff = (flags & CONN_SEND_DOTSTUFF) != 0;
	struct oseg *s;

	if (c->dead) {
		close(fd);
		return;
	}
	if (len <= INLINE_FILE_MAX) {
		/* small: straight into the memory queue, one write with the
		 * status line before it and the terminator after it */
		struct buf *b = tail_mem(c);
		size_t before = b->len;
		uint64_t off = offset;
		struct dotstuff ds;

		dotstuff_init(&ds, stuff, hdr_len, max_lines);
		while (off < offset + len && !ds.done) {
			char chunk[FILE_CHUNK];
			size_t want = offset + len - off < FILE_CHUNK ?
				      (size_t)(offset + len - off) : FILE_CHUNK;
			ssize_t n = pread(fd, chunk, want, (off_t)off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				conn_log(c, LOG_ERROR, "cannot read a message body: %s",
					 n < 0 ? strerror(errno) : "file shorter than its record");
				close(fd);
				conn_kill(c, NULL);
				return;
			}
			if (dotstuff_run(&ds, chunk, (size_t)n, b) != (size_t)n && !ds.done) {
				close(fd);
				conn_kill(c, "output limit exceeded");
				return;
			}
			off += (uint64_t)n;
		}
		c->out_bytes += b->len - before;
		close(fd);
		return;
	}
	s = seg_new(c, true);
	s->fd = fd;
	s->off = offset;
	s->end = offset + len;
	s->plain = !stuff && max_lines < 0 && c->tls == TLS_OFF;
	dotstuff_init(&s->ds, stuff, hdr_len, max_lines);
}

void conn_set_continue(struct conn *c, conn_continue_fn *fn)
{
	c->cont = fn;
}

void conn_close_after_flush(struct conn *c)
{
	c->closing = true;
}

/* Write what can be written now.  Returns when the socket would block or
 * the queue is empty. */
static void flush(struct conn *c)
{
	if (c->tls == TLS_HANDSHAKE)
		return;	/* queued output (an implicit-TLS greeting) waits */
	/* a failure delay holds back the answer too, not only what follows */
	while (c->head != NULL && !c->dead && !c->delayed) {
		struct oseg *s = c->head;
		ssize_t n;

		if (s->is_file && s->plain) {
			if (s->off >= s->end) {
				seg_pop(c);
				continue;
			}
			off_t off = (off_t)s->off;
			size_t want = s->end - s->off > (1u << 30) ? (1u << 30) :
				      (size_t)(s->end - s->off);

			n = sendfile(c->fd, s->fd, &off, want);
			if (n == 0) {
				conn_log(c, LOG_ERROR, "message body shorter than its record");
				conn_kill(c, NULL);
				return;
			}
			if (n > 0)
				s->off = (uint64_t)off;
		} else {
			if (s->is_file && s->pos == s->mem.len) {
				buf_reset(&s->mem);
				s->pos = 0;
				if (s->off >= s->end) {
					seg_pop(c);
					continue;
				}
				if (pump_file(s->fd, &s->off, s->end, &s->ds, &s->mem) < 0) {
					conn_log(c, LOG_ERROR, "cannot read a message body");
					conn_kill(c, NULL);
					return;
				}
				continue;
			}
			if (s->pos == s->mem.len) {
				seg_pop(c);
				continue;
			}
			n = conn_io_write(c, s->mem.data + s->pos, s->mem.len - s->pos);
			if (n > 0) {
				s->pos += (size_t)n;
				if (!s->is_file)
					c->out_bytes -= (size_t)n;
			}
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_kill(c, errno == EPIPE || errno == ECONNRESET ?
				  "connection reset by client" :
				  errno == EPROTO ? "TLS error" : strerror(errno));
			return;
		}
		c->last_activity = ev_now(host_loop());
	}
	if (c->head == NULL && c->closing && !c->delayed)
		c->dead = true;
}

/* ---- input ---- */

static bool can_dispatch(const struct conn *c)
{
	return !c->dead && !c->closing && !c->delayed && c->cont == NULL &&
	       c->holds == 0 &&
	       (c->login == NULL || c->login->done == NULL) &&
	       c->out_bytes < OUT_HIGH && c->out_files == 0 &&
	       c->tls != TLS_HANDSHAKE && !c->starttls_pending;
}

void conn_set_max_line(struct conn *c, size_t max_line)
{
	linereader_set_max(&c->in, max_line);
}

void conn_hold(struct conn *c)
{
	c->holds++;
}

void conn_release(struct conn *c)
{
	if (c->holds == 0 || --c->holds > 0)
		return;
	/* resume from the loop, never inside the module's own call: the
	 * write watcher's callback runs input and output as usual */
	ev_feed_event(host_loop(), &c->wio, EV_WRITE);
}

void conn_read_dotted(struct conn *c, conn_data_fn *data, conn_data_end_fn *end)
{
	c->data_fn = data;
	c->data_end = end;
	c->data_held = 0;
	dotread_init(&c->dr);
	/* a message comes in large reads, not line-sized ones */
	linereader_reserve(&c->in, DATA_BUFFER);
}

/* Is there input to act on: a whole line, or message octets that the
 * decoder did not hold back last time? */
static bool input_ready(const struct conn *c)
{
	size_t avail;

	if (c->data_end == NULL)
		return linereader_ready(&c->in);
	(void)linereader_peek((struct linereader *)&c->in, &avail);
	return avail > c->data_held;
}

/* Message octets to the module, up to the terminator.  false: nothing
 * more can be done until more input arrives. */
static bool process_data(struct conn *c)
{
	size_t avail, n;
	char *p = linereader_peek(&c->in, &avail);

	if (avail <= c->data_held)
		return false;
	n = dotread_run(&c->dr, p, avail, c->data_fn, c->session);
	linereader_consume(&c->in, n);
	c->data_held = avail - n;
	if (c->dr.done) {
		conn_data_end_fn *end = c->data_end;

		c->data_fn = NULL;
		c->data_end = NULL;
		c->data_held = 0;
		end(c->session);
	}
	return true;
}

static void process_input(struct conn *c)
{
	char *line;
	size_t len;

	for (;;) {
		enum line_result r;

		/* a login's answer comes before the next line */
		if (!c->dead && login_deliver(c))
			continue;
		if (!can_dispatch(c))
			break;
		if (c->data_end != NULL) {
			if (!process_data(c))
				break;
			continue;
		}
		r = linereader_next(&c->in, &line, &len);
		if (r == LINE_NONE)
			break;
		if (r == LINE_TOO_LONG) {
			if (c->proto->line_too_long != NULL)
				c->proto->line_too_long(c->session);
			continue;
		}
		c->proto->line(c->session, line, len);
	}
}

static void update_watchers(struct conn *c)
{
	struct ev_loop *loop = host_loop();
	size_t avail = 0;
	bool want_read = can_dispatch(c) && !c->peer_eof;
	/* writable wakes us to write, for a continuation, or for buffered
	 * lines left when the round budget ran out */
	bool want_write = !c->delayed &&
		(c->head != NULL || c->cont != NULL ||
		 (can_dispatch(c) && input_ready(c)));

	if (c->connecting || c->fd < 0)
		return;	/* conn_client.c watches the connect itself */
	if (want_read)
		(void)linereader_space(&c->in, &avail);
	want_read = want_read && avail > 0;
	if (c->tls == TLS_HANDSHAKE) {
		want_read = c->tls_wants == EV_READ;
		want_write = c->tls_wants == EV_WRITE;
	} else if (c->ssl != NULL && c->tls_wants == EV_READ && c->head != NULL) {
		want_read = true;	/* an SSL_write waits for input */
	} else if (c->ssl != NULL && c->tls_wants == EV_WRITE && want_read) {
		want_write = true;	/* an SSL_read waits for output room */
	}
	if (want_read && !ev_is_active(&c->rio))
		ev_io_start(loop, &c->rio);
	else if (!want_read && ev_is_active(&c->rio))
		ev_io_stop(loop, &c->rio);
	if (want_write && !ev_is_active(&c->wio))
		ev_io_start(loop, &c->wio);
	else if (!want_write && ev_is_active(&c->wio))
		ev_io_stop(loop, &c->wio);
	/* input OpenSSL already decrypted makes no socket event */
	if (want_read && conn_io_pending(c))
		ev_feed_event(loop, &c->rio, EV_READ);
}

void conn_destroy(struct conn *c)
{
	struct ev_loop *loop = host_loop();
	struct service *svc = c->svc;

	if (c->session != NULL && c->proto->close != NULL)
		c->proto->close(c->session);
	ev_io_stop(loop, &c->rio);
	ev_io_stop(loop, &c->wio);
	ev_timer_stop(loop, &c->idle);
	ev_timer_stop(loop, &c->delay);
	while (c->head != NULL)
		seg_pop(c);
	conn_sasl_free(c);
	login_free(c);
	conn_io_free(c);
	conn_client_free(c);
	if (c->fd >= 0)
		close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		svc->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	svc->active--;
	stats_conn(svc->index, -1);
	total_conns--;
	if (c->limit_key[0] != '\0')
		service_ip_add(svc, c->limit_key, -1);
	linereader_free(&c->in);
	free(c->log_prefix);
	free(c);
	host_conn_closed();
}

void conn_run(struct conn *c)
{
	c->in_run = true;
	for (int round = 0; round < RUN_ROUNDS && !c->dead; round++) {
		process_input(c);
		/* after EOF, once every complete line is answered, close */
		if (c->peer_eof && can_dispatch(c) && !input_ready(c))
			c->closing = true;
		flush(c);
		if (c->dead)
			break;
		if (c->starttls_pending && c->head == NULL) {
			/* the go-ahead is out in the clear: whatever the client
			 * sent after its STARTTLS command is thrown away, never
			 * read as a command (command injection defence) */
			linereader_clear(&c->in);
			conn_sasl_free(c);
			c->starttls_pending = false;
			if (conn_io_tls_begin(c) < 0)
				conn_kill(c, "cannot start TLS");
			break;
		}
		if (c->cont != NULL && c->out_bytes < OUT_LOW && c->out_files == 0) {
			if (!c->cont(c->session))
				c->cont = NULL;
			continue;
		}
		/* output drained: pipelined lines that waited behind it go now,
		 * without waiting for the client to send anything more */
		if (!can_dispatch(c) || !input_ready(c))
			break;
	}
	c->in_run = false;
	if (c->dead) {
		conn_destroy(c);
		return;
	}
	update_watchers(c);
}

void conn_resume(struct conn *c)
{
	conn_run(c);
}

/* Read what the socket (or OpenSSL) has into the line reader. */
static void read_input(struct conn *c)
{
	for (;;) {
		size_t avail;
		char *space = linereader_space(&c->in, &avail);
		ssize_t n;

		if (avail == 0)
			return;
		n = conn_io_read(c, space, avail);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				conn_kill(c, errno == EPROTO ? "TLS error" : strerror(errno));
			return;
		}
		if (n == 0) {
			/* the client is done sending: answer what it sent, then close */
			conn_log(c, LOG_DEBUG, "connection closed by client");
			c->peer_eof = true;
			return;
		}
		linereader_filled(&c->in, (size_t)n);
		c->last_activity = ev_now(host_loop());
		if (!conn_io_pending(c))
			return;
	}
}

static void on_io(struct conn *c, bool readable)
{
	if (c->connecting) {
		/* an outgoing connection: the socket became writable */
		conn_client_connect_done(c);
		return;
	}
	if (c->tls == TLS_HANDSHAKE) {
		/* a handshake does not count as activity: the idle timeout
		 * bounds how long it may take.  A client connection's module
		 * hears of its end inside: it may abort, conn_run destroys */
		c->in_run = true;
		(void)conn_io_handshake(c);
		c->in_run = false;
	} else if (readable || (c->ssl != NULL && c->tls_wants == EV_WRITE)) {
		if (!c->peer_eof && !c->dead)
			read_input(c);
	}
	conn_run(c);
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	on_io(w->data, true);
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	on_io(w->data, false);
}

static void on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;
	ev_tstamp timeout = conn_idle_timeout(c), left;

	(void)revents;
	if (c->connecting) {
		conn_client_connect_timeout(c);
		return;
	}
	left = c->last_activity + timeout - ev_now(loop);
	if (left > 0.001) {
		w->repeat = left;
		ev_timer_again(loop, w);
		return;
	}
	if (c->proto->timeout_reply != NULL && c->head == NULL) {
		/* best effort: the client may well not be reading */
		conn_printf(c, "%s\r\n", c->proto->timeout_reply);
		flush(c);
	}
	conn_kill(c, c->tls == TLS_HANDSHAKE ? "TLS handshake timed out" :
		  "idle timeout");
	conn_destroy(c);
}

static void on_delay(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	c->delayed = false;
	conn_run(c);
}

void conn_delay_input(struct conn *c, unsigned int msec)
{
	if (msec == 0)
		return;
	c->delayed = true;
	ev_timer_set(&c->delay, msec / 1000.0, 0.);
	ev_timer_start(host_loop(), &c->delay);
}

static void sockaddr_ip(const struct sockaddr *sa, char *buf, size_t size,
			bool *loopback_r)
{
	buf[0] = '\0';
	if (sa->sa_family == AF_UNIX) {
		/* a UNIX socket: a process of this machine */
		if (loopback_r) {
			snprintf(buf, size, "local");
			*loopback_r = true;
		}
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)size);
		if (loopback_r)
			*loopback_r = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf,
				  (socklen_t)size);
			if (loopback_r)
				*loopback_r = sin6->sin6_addr.s6_addr[12] == 127;
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)size);
			if (loopback_r)
				*loopback_r = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
		}
	}
}

unsigned int conn_idle_timeout(const struct conn *c)
{
	unsigned int t;

	/* an accepted connection follows its listener's setting, which a
	 * reload may change; an outgoing one keeps what it was made with */
	if (c->client != NULL)
		t = c->client_timeout;
	else
		t = service_listener_settings(c->svc)->idle_timeout;
	return t > 0 ? t : 1;
}

void conn_setup(struct conn *c, struct service *svc,
		const struct pn_protocol *proto, int fd)
{
	struct ev_loop *loop = host_loop();

	c->svc = svc;
	c->proto = proto;
	c->id = next_id++;
	c->fd = fd;
	set_prefix(c, NULL);
	linereader_init(&c->in, c->proto->max_line);
	c->last_activity = ev_now(loop);

	ev_io_init(&c->rio, on_read, fd, EV_READ);
	ev_io_init(&c->wio, on_write, fd, EV_WRITE);
	ev_init(&c->idle, on_idle);
	c->idle.repeat = conn_idle_timeout(c);
	ev_init(&c->delay, on_delay);
	c->rio.data = c->wio.data = c->idle.data = c->delay.data = c;

	c->next = svc->conns;
	if (svc->conns != NULL)
		svc->conns->prev = c;
	svc->conns = c;
	svc->active++;
	stats_conn(svc->index, 1);
	total_conns++;
	ev_timer_again(loop, &c->idle);
}

void conn_set_peer(struct conn *c, const struct sockaddr *peer)
{
	struct sockaddr_storage local;
	socklen_t locallen = sizeof(local);
	int one = 1;

	sockaddr_ip(peer, c->peer_ip, sizeof(c->peer_ip), &c->loopback);
	if (getsockname(c->fd, (struct sockaddr *)&local, &locallen) == 0)
		sockaddr_ip((struct sockaddr *)&local, c->local_ip,
			    sizeof(c->local_ip), NULL);
	if (peer->sa_family != AF_UNIX)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_prefix(c, NULL);
}

void conn_new(struct service *svc, int fd, const struct sockaddr *peer,
	      socklen_t peerlen, bool implicit_tls)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	(void)peerlen;
	conn_setup(c, svc, svc->mod->protocol, fd);
	conn_set_peer(c, peer);
	service_limit_key(c->peer_ip, c->limit_key, sizeof(c->limit_key));
	service_ip_add(svc, c->limit_key, 1);

	conn_log(c, LOG_DEBUG, "connected to %s%s",
		 c->local_ip[0] != '\0' ? c->local_ip : "a UNIX socket",
		 implicit_tls ? " (TLS)" : "");
	c->implicit_tls = implicit_tls;
	if (implicit_tls && conn_io_tls_begin(c) < 0)
		c->dead = true;
	if (!c->dead)
		c->session = c->proto->open(c, svc->settings);
	if (c->session == NULL)
		c->dead = true;
	conn_run(c);
}

void conn_close_all(struct service *svc)
{
	while (svc->conns != NULL) {
		conn_kill(svc->conns, "server shutting down");
		conn_destroy(svc->conns);
	}
}

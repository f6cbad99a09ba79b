/* popbench.c - a closed-loop POP3 load generator.
 *
 * N connections, each running sessions back to back: connect, greeting,
 * optional STLS or implicit TLS, login, a script of commands, QUIT, wait
 * for the server to close, and again.  One thread, one epoll loop,
 * non-blocking sockets; replies are parsed as a stream (multi-line
 * replies are un-dot-stuffed on the fly and never buffered whole).
 *
 * Idle mode (-I N) opens N connections, reads the greeting (and does the
 * TLS handshake when -t asks for it) and holds them, for measuring the
 * server's memory per idle connection.
 *
 * Build:
 *   gcc -O2 -Wall -Wextra -o popbench popbench.c -lssl -lcrypto -lm
 * Usage: popbench -h
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define LINE_MAX_LEN 512	/* RFC 2449: replies fit in 512 octets with CRLF */
#define RBUF_SIZE (64 * 1024)	/* one shared read buffer */
#define MAX_SCRIPT 64
#define MAX_CRED 255
#define HIST_BUCKETS 6000000u	/* 10 us buckets up to 60 s; the last one overflows */
#define IDLE_OPENING_MAX 256	/* connections in set-up at once in idle mode */
#define BACKOFF_NS 100000000LL	/* after a connect error */
#define SCAN_NS 100000000LL	/* timeout scan period */
#define MAX_ERROR_DETAILS 20

#define NS_PER_S 1000000000LL

enum err_kind { E_CONNECT, E_GREETING, E_LOGIN, E_PROTOCOL, E_CONTENT,
		E_TIMEOUT, E_TLS, E_KINDS };
static const char *const err_names[E_KINDS] = {
	"connect", "greeting", "login", "protocol", "content", "timeout", "tls"
};

enum auth_mode { AUTH_USER, AUTH_PLAIN };
enum tls_mode { TLS_NONE, TLS_STLS, TLS_IMPLICIT };
enum op_kind { OP_STAT, OP_LIST, OP_UIDL, OP_RETR_ALL, OP_RETR, OP_TOP_ALL,
	       OP_NOOP, OP_QUIT };

struct op {
	enum op_kind kind;
	uint32_t arg;		/* RETR number or TOP lines */
};

enum phase { PH_FREE, PH_DONE, PH_BACKOFF, PH_CONNECTING, PH_HANDSHAKE,
	     PH_GREETING, PH_STLS, PH_USER, PH_PASS, PH_AUTH, PH_SCRIPT,
	     PH_QUIT, PH_CLOSING, PH_HOLD };
static const char *const phase_names[] = {
	"free", "done", "backoff", "connect", "TLS handshake", "greeting",
	"STLS", "USER", "PASS", "AUTH", "command", "QUIT",
	"waiting for close after QUIT", "idle"
};

/* what the next status line answers */
enum reply { RP_NONE, RP_GREETING, RP_STLS, RP_USER, RP_PASS, RP_AUTH,
	     RP_STAT, RP_LIST, RP_UIDL, RP_RETR, RP_TOP, RP_NOOP, RP_QUIT };

enum rstate { R_LINE, R_BODY };
enum bstate { B_LS, B_MID, B_DOT, B_DOTCR };

struct conn {
	int fd;
	uint32_t gen;		/* bumped at every close; tags epoll events */
	uint32_t idx;
	uint32_t evmask;	/* registered epoll events, 0 = not registered */
	uint8_t phase, reply, rstate, bstate;
	bool hs_want_out;	/* TLS handshake wants the socket writable */
	bool rd_want_out;	/* SSL_read wants the socket writable */
	bool wr_blocked;	/* output pending, waiting for writable */
	bool body_bad;		/* -e content differs */
	bool stuff_bad;		/* a line began with a lone dot */
	bool sess_err;		/* an error was counted in this session */
	uint16_t linelen;
	uint16_t step;		/* script index */
	int64_t nmsgs;		/* from STAT; -1 unknown */
	uint32_t next_send, next_recv; /* retr-all / top-all progress, 1-based */
	int64_t announced;	/* "+OK n octets"; -1 none */
	uint64_t body_len;	/* un-stuffed octets of the current reply */
	uint64_t body_lines;
	int64_t deadline;	/* ns, monotonic */
	int64_t t_start;
	SSL *ssl;
	char *obuf;
	uint32_t ocap, olen, ooff;
	char line[LINE_MAX_LEN + 1];
};

/* ---- options ---- */

static struct {
	const char *host;
	const char *port;
	unsigned conc;
	double duration;
	bool duration_set;
	unsigned long long total;
	const char *user;
	const char *pass;
	unsigned ucount;
	enum auth_mode auth;
	enum tls_mode tls;
	const char *sni;
	struct op script[MAX_SCRIPT];
	unsigned nscript;
	const char *script_text;
	const char *expect_file;
	bool pipeline;
	unsigned idle;
	double timeout;
	bool quiet;
	bool verbose;
} opt = {
	.host = "127.0.0.1", .port = "110", .conc = 16, .duration = 10.0,
	.user = "bench", .pass = "bench", .auth = AUTH_USER, .tls = TLS_NONE,
	.script_text = "stat,retr-all,quit", .timeout = 10.0,
};

/* ---- global state ---- */

static struct conn *conns;
static unsigned nconns;
static int ep = -1;
static SSL_CTX *g_ctx;
static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static char *g_expect;
static size_t g_explen;
static bool g_have_expect;
static unsigned g_umod;
static int64_t g_now, g_timeout_ns;
static char g_rbuf[RBUF_SIZE];
static volatile sig_atomic_t g_signalled;
static bool g_stopping;

static uint32_t *restart_stack, *restart_tmp;
static unsigned restart_n;

static unsigned g_active;	/* connections with a socket */
static unsigned g_held, g_held_peak; /* idle mode */
static unsigned g_next_open;	/* idle mode */

static unsigned long long g_started, g_ok, g_messages, g_payload;
static unsigned long long g_errors[E_KINDS], g_errtotal, g_details;
static unsigned long long g_no_close_notify, g_tls_sessions;
static uint32_t *g_hist;
static double g_lat_max_ms;
static uint32_t *g_ivl;		/* latencies (us) of the current -v interval */
static size_t g_ivl_n, g_ivl_cap;

static void on_line(struct conn *c, char *line);
static void run_step(struct conn *c);
static void do_read(struct conn *c);

/* ---- small helpers ---- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void touch(struct conn *c)
{
	c->deadline = g_now + g_timeout_ns;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("popbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* A reply line for a message: printable, at most 200 characters. */
static const char *show(const char *line)
{
	static char buf[204];
	size_t i;

	for (i = 0; line[i] != '\0' && i < 200; i++)
		buf[i] = (line[i] >= 32 && line[i] < 127) ? line[i] : '?';
	buf[i] = '\0';
	return buf;
}

static const char *ssl_errstr(int e)
{
	static char buf[256];
	unsigned long code = ERR_get_error();

	if (code != 0) {
		ERR_error_string_n(code, buf, sizeof(buf));
		ERR_clear_error();
		return buf;
	}
	if (e == SSL_ERROR_SYSCALL)
		return errno != 0 ? strerror(errno) : "unexpected EOF";
	snprintf(buf, sizeof(buf), "SSL error %d", e);
	return buf;
}

static void b64_encode(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = tab[in[i] >> 2];
		*out++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*out++ = tab[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*out++ = tab[in[i + 2] & 63];
	}
	if (i < n) {
		*out++ = tab[in[i] >> 2];
		if (i + 1 < n) {
			*out++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*out++ = tab[(in[i + 1] & 15) << 2];
		} else {
			*out++ = tab[(in[i] & 3) << 4];
			*out++ = '=';
		}
		*out++ = '=';
	}
	*out = '\0';
}

/* Copy tmpl to dst with every "%d" replaced by v; returns the length. */
static size_t expand(const char *tmpl, unsigned v, char *dst, size_t cap)
{
	size_t n = 0;
	char num[16];

	snprintf(num, sizeof(num), "%u", v);
	for (const char *p = tmpl; *p != '\0' && n + 1 < cap; p++) {
		if (p[0] == '%' && p[1] == 'd') {
			for (const char *q = num; *q != '\0' && n + 1 < cap; q++)
				dst[n++] = *q;
			p++;
		} else {
			dst[n++] = *p;
		}
	}
	dst[n] = '\0';
	return n;
}

static bool is_ok(const char *line)
{
	return strncmp(line, "+OK", 3) == 0 && (line[3] == '\0' || line[3] == ' ');
}

static bool is_err(const char *line)
{
	return strncmp(line, "-ERR", 4) == 0 && (line[4] == '\0' || line[4] == ' ');
}

/* ---- errors ---- */

static enum err_kind phase_kind(const struct conn *c)
{
	switch (c->phase) {
	case PH_CONNECTING:
		return E_CONNECT;
	case PH_HANDSHAKE:
	case PH_STLS:
		return E_TLS;
	case PH_GREETING:
		return E_GREETING;
	case PH_USER:
	case PH_PASS:
	case PH_AUTH:
		return E_LOGIN;
	default:
		return E_PROTOCOL;
	}
}

static void count_error(struct conn *c, enum err_kind k, const char *fmt, va_list ap)
{
	g_errors[k]++;
	g_errtotal++;
	c->sess_err = true;
	if (opt.quiet)
		return;
	if (g_details < MAX_ERROR_DETAILS) {
		fprintf(stderr, "popbench: conn %u: %s error: ", c->idx, err_names[k]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else if (g_details == MAX_ERROR_DETAILS) {
		fputs("popbench: (further error details suppressed)\n", stderr);
	}
	g_details++;
}

/* Count an error and go on with the session. */
static void note_error(struct conn *c, enum err_kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note_error(struct conn *c, enum err_kind k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	count_error(c, k, fmt, ap);
	va_end(ap);
}

static void close_conn(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);	/* also leaves the epoll set */
		c->fd = -1;
		g_active--;
		if (c->phase == PH_HOLD)
			g_held--;
	}
	c->gen++;
	c->phase = PH_FREE;
	c->reply = RP_NONE;
	c->rstate = R_LINE;
	c->evmask = 0;
	c->olen = c->ooff = 0;
	c->linelen = 0;
	c->hs_want_out = c->rd_want_out = c->wr_blocked = false;
}

static void push_restart(struct conn *c)
{
	restart_stack[restart_n++] = c->idx;
}

/* Count an error, end the session; the slot starts a new one later. */
static void fail(struct conn *c, enum err_kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct conn *c, enum err_kind k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	count_error(c, k, fmt, ap);
	va_end(ap);
	close_conn(c);
	if (opt.idle > 0) {
		c->phase = PH_DONE;
	} else if (k == E_CONNECT) {
		c->phase = PH_BACKOFF;	/* do not spin on a dead server */
		c->deadline = g_now + BACKOFF_NS;
	} else {
		push_restart(c);
	}
}

/* ---- latency ---- */

static void record_latency(int64_t ns)
{
	uint64_t us = ns > 0 ? (uint64_t)ns / 1000 : 0;
	uint64_t b = us / 10;
	double ms = (double)ns / 1e6;

	g_hist[b < HIST_BUCKETS ? b : HIST_BUCKETS - 1]++;
	if (ms > g_lat_max_ms)
		g_lat_max_ms = ms;
	if (opt.verbose) {
		if (g_ivl_n == g_ivl_cap) {
			size_t cap = g_ivl_cap ? g_ivl_cap * 2 : 4096;
			uint32_t *p = realloc(g_ivl, cap * sizeof(*p));

			if (p == NULL)
				return;
			g_ivl = p;
			g_ivl_cap = cap;
		}
		g_ivl[g_ivl_n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	}
}

static void hist_percentiles(double *p50, double *p99)
{
	uint64_t r50, r99, cum = 0;
	bool got50 = false;

	*p50 = *p99 = 0.0;
	if (g_ok == 0)
		return;
	r50 = (uint64_t)ceil(0.50 * (double)g_ok);
	r99 = (uint64_t)ceil(0.99 * (double)g_ok);
	if (r50 < 1)
		r50 = 1;
	if (r99 < 1)
		r99 = 1;
	for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
		if (g_hist[i] == 0)
			continue;
		cum += g_hist[i];
		double ms = (double)(i + 1) * 0.01;	/* bucket's upper bound */

		if (ms > g_lat_max_ms)
			ms = g_lat_max_ms;
		if (!got50 && cum >= r50) {
			*p50 = ms;
			got50 = true;
		}
		if (cum >= r99) {
			*p99 = ms;
			return;
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static double ivl_pct(double p)
{
	size_t rank;

	if (g_ivl_n == 0)
		return 0.0;
	rank = (size_t)ceil(p * (double)g_ivl_n);
	if (rank < 1)
		rank = 1;
	return (double)g_ivl[rank - 1] / 1000.0;
}

/* ---- output ---- */

static int out_reserve(struct conn *c, size_t more)
{
	size_t need;

	if (c->ooff == c->olen)
		c->ooff = c->olen = 0;
	need = (size_t)c->olen + more;
	if (need <= c->ocap)
		return 0;
	if (need > UINT32_MAX / 2)
		return -1;
	size_t cap = c->ocap ? c->ocap : 128;

	while (cap < need)
		cap *= 2;
	char *p = realloc(c->obuf, cap);

	if (p == NULL)
		return -1;
	c->obuf = p;
	c->ocap = (uint32_t)cap;
	return 0;
}

static int out_append(struct conn *c, const char *s, size_t n)
{
	if (out_reserve(c, n) < 0)
		return -1;
	memcpy(c->obuf + c->olen, s, n);
	c->olen += (uint32_t)n;
	return 0;
}

/* Write what is queued; 0 when sent or waiting, -1 when the session failed. */
static int flush(struct conn *c)
{
	while (c->ooff < c->olen) {
		size_t n = c->olen - c->ooff;

		if (c->ssl != NULL) {
			ERR_clear_error();
			int r = SSL_write(c->ssl, c->obuf + c->ooff, (int)(n > INT_MAX ? INT_MAX : n));

			if (r > 0) {
				c->ooff += (uint32_t)r;
				continue;
			}
			int e = SSL_get_error(c->ssl, r);

			if (e == SSL_ERROR_WANT_WRITE) {
				c->wr_blocked = true;
				return 0;
			}
			if (e == SSL_ERROR_WANT_READ) {
				c->wr_blocked = false;
				return 0;
			}
			if (e == SSL_ERROR_SYSCALL) {
				fail(c, phase_kind(c), "write in %s: %s",
				     phase_names[c->phase], ssl_errstr(e));
				return -1;
			}
			fail(c, E_TLS, "TLS write in %s: %s", phase_names[c->phase],
			     ssl_errstr(e));
			return -1;
		}
		ssize_t r = send(c->fd, c->obuf + c->ooff, n, MSG_NOSIGNAL);

		if (r >= 0) {
			c->ooff += (uint32_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->wr_blocked = true;
			return 0;
		}
		fail(c, phase_kind(c), "write in %s: %s", phase_names[c->phase],
		     strerror(errno));
		return -1;
	}
	c->wr_blocked = false;
	c->ooff = c->olen = 0;
	return 0;
}

static void send_str(struct conn *c, enum reply rp, const char *s)
{
	c->reply = (uint8_t)rp;
	touch(c);
	if (out_append(c, s, strlen(s)) < 0) {
		fail(c, E_PROTOCOL, "out of memory");
		return;
	}
	flush(c);
}

static void send_fmt(struct conn *c, enum reply rp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void send_fmt(struct conn *c, enum reply rp, const char *fmt, ...)
{
	va_list ap;
	int n;

	c->reply = (uint8_t)rp;
	touch(c);
	if (out_reserve(c, 64) < 0)
		goto oom;
	va_start(ap, fmt);
	n = vsnprintf(c->obuf + c->olen, c->ocap - c->olen, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto oom;
	if ((size_t)n >= c->ocap - c->olen) {
		if (out_reserve(c, (size_t)n + 1) < 0)
			goto oom;
		va_start(ap, fmt);
		vsnprintf(c->obuf + c->olen, c->ocap - c->olen, fmt, ap);
		va_end(ap);
	}
	c->olen += (uint32_t)n;
	flush(c);
	return;
oom:
	fail(c, E_PROTOCOL, "out of memory");
}

static void sync_mask(struct conn *c)
{
	uint32_t want;
	struct epoll_event ev;

	if (c->fd < 0)
		return;
	switch (c->phase) {
	case PH_CONNECTING:
		want = EPOLLOUT;
		break;
	case PH_HANDSHAKE:
		want = c->hs_want_out ? EPOLLOUT : EPOLLIN;
		break;
	default:
		want = EPOLLIN;
		if ((c->ooff < c->olen && c->wr_blocked) || c->rd_want_out)
			want |= EPOLLOUT;
		break;
	}
	if (want == c->evmask)
		return;
	ev.events = want;
	ev.data.u64 = (uint64_t)c->idx | ((uint64_t)c->gen << 32);
	if (epoll_ctl(ep, c->evmask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	c->evmask = want;
}

/* ---- session flow ---- */

static bool can_start(void)
{
	return !g_stopping && (opt.total == 0 || g_started < opt.total);
}

static void start_session(struct conn *c)
{
	int fd, one = 1;

	c->phase = PH_FREE;
	fd = socket(g_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	g_started++;
	if (fd < 0) {
		c->fd = -1;
		fail(c, E_CONNECT, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	g_active++;
	c->t_start = now_ns();
	c->sess_err = false;
	c->nmsgs = -1;
	c->step = 0;
	c->phase = PH_CONNECTING;
	touch(c);
	sync_mask(c);
	if (connect(fd, (struct sockaddr *)&g_addr, g_addrlen) < 0 && errno != EINPROGRESS)
		fail(c, E_CONNECT, "connect: %s", strerror(errno));
	/* success or not, EPOLLOUT reports it */
}

static void session_ok(struct conn *c)
{
	if (!c->sess_err) {
		g_ok++;
		record_latency(now_ns() - c->t_start);
	}
	close_conn(c);
	push_restart(c);
}

static void hold(struct conn *c)
{
	c->phase = PH_HOLD;
	c->reply = RP_NONE;
	g_held++;
	if (g_held > g_held_peak)
		g_held_peak = g_held;
}

static void begin_login(struct conn *c)
{
	char user[2 * MAX_CRED + 32], pass[2 * MAX_CRED + 32];
	size_t ul, pl;
	unsigned v = c->idx % g_umod;

	if (opt.idle > 0) {
		hold(c);
		return;
	}
	ul = expand(opt.user, v, user, sizeof(user));
	pl = expand(opt.pass, v, pass, sizeof(pass));
	if (opt.auth == AUTH_USER) {
		c->phase = PH_USER;
		send_fmt(c, RP_USER, "USER %s\r\n", user);
		return;
	}
	/* AUTH PLAIN with an initial response: base64("\0user\0pass") */
	unsigned char raw[sizeof(user) + sizeof(pass) + 2];
	char b64[(sizeof(raw) + 2) / 3 * 4 + 1];

	raw[0] = '\0';
	memcpy(raw + 1, user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, pass, pl);
	b64_encode(raw, ul + pl + 2, b64);
	c->phase = PH_AUTH;
	send_fmt(c, RP_AUTH, "AUTH PLAIN %s\r\n", b64);
}

static void handshake_done(struct conn *c)
{
	uint32_t gen = c->gen;

	g_tls_sessions++;
	if (opt.tls == TLS_IMPLICIT) {
		c->phase = PH_GREETING;
		c->reply = RP_GREETING;
		touch(c);
	} else {
		begin_login(c);
	}
	if (c->gen == gen)
		do_read(c);	/* records OpenSSL may hold already */
}

static void do_handshake(struct conn *c)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->hs_want_out = false;
		handshake_done(c);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		c->hs_want_out = false;
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		c->hs_want_out = true;
		return;
	}
	fail(c, E_TLS, "TLS handshake: %s", ssl_errstr(e));
}

static void start_tls(struct conn *c)
{
	c->ssl = SSL_new(g_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		fail(c, E_TLS, "SSL_new: %s", ssl_errstr(0));
		return;
	}
	if (opt.sni != NULL)
		SSL_set_tlsext_host_name(c->ssl, opt.sni);
	SSL_set_connect_state(c->ssl);
	c->phase = PH_HANDSHAKE;
	c->reply = RP_NONE;
	touch(c);
	do_handshake(c);
}

static void connected(struct conn *c)
{
	if (opt.tls == TLS_IMPLICIT) {
		start_tls(c);
		return;
	}
	c->phase = PH_GREETING;
	c->reply = RP_GREETING;
	touch(c);
}

static void run_step(struct conn *c)
{
	for (;;) {
		const struct op *op = &opt.script[c->step];

		switch (op->kind) {
		case OP_STAT:
			send_str(c, RP_STAT, "STAT\r\n");
			return;
		case OP_LIST:
			send_str(c, RP_LIST, "LIST\r\n");
			return;
		case OP_UIDL:
			send_str(c, RP_UIDL, "UIDL\r\n");
			return;
		case OP_NOOP:
			send_str(c, RP_NOOP, "NOOP\r\n");
			return;
		case OP_RETR:
			send_fmt(c, RP_RETR, "RETR %u\r\n", op->arg);
			return;
		case OP_RETR_ALL:
		case OP_TOP_ALL: {
			bool top = op->kind == OP_TOP_ALL;
			enum reply rp = top ? RP_TOP : RP_RETR;

			if (c->nmsgs < 0) {	/* no STAT yet: ask */
				send_str(c, RP_STAT, "STAT\r\n");
				return;
			}
			if (c->nmsgs == 0) {
				c->step++;
				continue;
			}
			c->next_recv = 1;
			if (!opt.pipeline) {
				c->next_send = 2;
				if (top)
					send_fmt(c, rp, "TOP 1 %u\r\n", op->arg);
				else
					send_str(c, rp, "RETR 1\r\n");
				return;
			}
			/* RFC 2449 PIPELINING: every command in one write */
			c->reply = (uint8_t)rp;
			touch(c);
			if (out_reserve(c, (size_t)c->nmsgs * 24) < 0) {
				fail(c, E_PROTOCOL, "out of memory");
				return;
			}
			for (int64_t i = 1; i <= c->nmsgs; i++) {
				int n = top ? snprintf(c->obuf + c->olen, 24, "TOP %lld %u\r\n",
						       (long long)i, op->arg)
					    : snprintf(c->obuf + c->olen, 24, "RETR %lld\r\n",
						       (long long)i);

				c->olen += (uint32_t)n;
			}
			c->next_send = (uint32_t)c->nmsgs + 1;
			flush(c);
			return;
		}
		case OP_QUIT:
			c->phase = PH_QUIT;
			send_str(c, RP_QUIT, "QUIT\r\n");
			return;
		}
	}
}

static void next_step(struct conn *c)
{
	c->step++;
	run_step(c);
}

/* After a complete RETR or TOP reply of retr-all / top-all / retr:N. */
static void message_reply_done(struct conn *c)
{
	const struct op *op = &opt.script[c->step];

	if (op->kind != OP_RETR_ALL && op->kind != OP_TOP_ALL) {
		next_step(c);
		return;
	}
	c->next_recv++;
	if (c->next_recv > c->nmsgs) {
		next_step(c);
		return;
	}
	if (!opt.pipeline && c->next_send == c->next_recv) {
		if (op->kind == OP_TOP_ALL)
			send_fmt(c, RP_TOP, "TOP %u %u\r\n", c->next_send, op->arg);
		else
			send_fmt(c, RP_RETR, "RETR %u\r\n", c->next_send);
		c->next_send++;
	}
}

static void body_emit(struct conn *c, const char *p, size_t n)
{
	if (g_have_expect && !c->body_bad &&
	    (c->reply == RP_RETR || c->reply == RP_TOP)) {
		if (c->body_len + n > g_explen ||
		    memcmp(g_expect + c->body_len, p, n) != 0)
			c->body_bad = true;
	}
	c->body_len += n;
}

/* Feed multi-line reply data; true once the terminating "." line is in.
 * *used gets the octets consumed. */
static bool body_feed(struct conn *c, const char *p, size_t n, size_t *used)
{
	size_t i = 0;

	while (i < n) {
		switch (c->bstate) {
		case B_LS:
			if (p[i] == '.') {
				c->bstate = B_DOT;
				i++;
			} else {
				c->bstate = B_MID;
			}
			break;
		case B_DOT:
			if (p[i] == '\r') {
				c->bstate = B_DOTCR;
				i++;
			} else {
				/* ".." is a stuffed dot; anything else is a
				 * dot the server should have doubled */
				if (p[i] != '.')
					c->stuff_bad = true;
				c->bstate = B_MID;
			}
			break;
		case B_DOTCR:
			if (p[i] == '\n') {
				*used = i + 1;
				return true;
			}
			c->stuff_bad = true;
			body_emit(c, "\r", 1);
			c->bstate = B_MID;
			break;
		case B_MID: {
			const char *nl = memchr(p + i, '\n', n - i);
			size_t end = nl != NULL ? (size_t)(nl - p) + 1 : n;

			body_emit(c, p + i, end - i);
			i = end;
			if (nl != NULL) {
				c->bstate = B_LS;
				c->body_lines++;
			}
			break;
		}
		}
	}
	*used = n;
	return false;
}

static void body_done(struct conn *c)
{
	c->rstate = R_LINE;
	if (c->stuff_bad)
		note_error(c, E_PROTOCOL, "%s reply has a line starting with a single dot",
			   c->reply == RP_RETR ? "RETR" : c->reply == RP_TOP ? "TOP" : "LIST/UIDL");
	switch (c->reply) {
	case RP_RETR:
		g_messages++;
		g_payload += c->body_len;
		if (g_have_expect && (c->body_bad || c->body_len != g_explen))
			note_error(c, E_CONTENT, "RETR %u: %llu octets differ from the -e file (%zu octets)",
				   opt.script[c->step].kind == OP_RETR ? opt.script[c->step].arg : c->next_recv,
				   (unsigned long long)c->body_len, g_explen);
		else if (c->announced >= 0 && (uint64_t)c->announced != c->body_len)
			note_error(c, E_CONTENT, "RETR %u: announced %lld octets, got %llu",
				   opt.script[c->step].kind == OP_RETR ? opt.script[c->step].arg : c->next_recv,
				   (long long)c->announced, (unsigned long long)c->body_len);
		message_reply_done(c);
		return;
	case RP_TOP:
		if (g_have_expect && c->body_bad)
			note_error(c, E_CONTENT, "TOP %u: not a prefix of the -e file", c->next_recv);
		message_reply_done(c);
		return;
	case RP_LIST:
	case RP_UIDL:
		if (c->nmsgs >= 0 && c->body_lines != (uint64_t)c->nmsgs)
			note_error(c, E_PROTOCOL, "%s listed %llu messages, STAT said %lld",
				   c->reply == RP_LIST ? "LIST" : "UIDL",
				   (unsigned long long)c->body_lines, (long long)c->nmsgs);
		next_step(c);
		return;
	default:
		return;
	}
}

static void begin_body(struct conn *c)
{
	c->rstate = R_BODY;
	c->bstate = B_LS;
	c->body_len = 0;
	c->body_lines = 0;
	c->body_bad = false;
	c->stuff_bad = false;
}

/* "+OK 1200 octets": the number, or -1 when the first token is not one. */
static int64_t parse_size(const char *line)
{
	const char *p = line + 3;
	int64_t v = 0;

	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return (*p == '\0' || *p == ' ') ? v : -1;
}

static void on_line(struct conn *c, char *line)
{
	bool ok = is_ok(line);
	const char *what = is_err(line) ? "" : "unexpected reply: ";

	switch ((enum reply)c->reply) {
	case RP_NONE:		/* idle: keep the text for the report */
		return;
	case RP_GREETING:
		if (!ok) {
			fail(c, E_GREETING, "%s%s", what, show(line));
			return;
		}
		if (opt.tls == TLS_STLS) {
			c->phase = PH_STLS;
			send_str(c, RP_STLS, "STLS\r\n");
			return;
		}
		begin_login(c);
		return;
	case RP_STLS:
		if (!ok) {
			fail(c, E_TLS, "STLS: %s%s", what, show(line));
			return;
		}
		start_tls(c);
		return;
	case RP_USER:
		if (!ok) {
			fail(c, E_LOGIN, "USER: %s%s", what, show(line));
			return;
		}
		{
			char pass[2 * MAX_CRED + 32];

			expand(opt.pass, c->idx % g_umod, pass, sizeof(pass));
			c->phase = PH_PASS;
			send_fmt(c, RP_PASS, "PASS %s\r\n", pass);
		}
		return;
	case RP_PASS:
	case RP_AUTH:
		if (!ok) {
			fail(c, E_LOGIN, "%s: %s%s", c->reply == RP_PASS ? "PASS" : "AUTH PLAIN",
			     what, show(line));
			return;
		}
		c->phase = PH_SCRIPT;
		c->step = 0;
		run_step(c);
		return;
	case RP_STAT: {
		char *end;
		unsigned long long n;

		if (!ok) {
			fail(c, E_PROTOCOL, "STAT: %s%s", what, show(line));
			return;
		}
		errno = 0;
		n = strtoull(line + 3, &end, 10);
		if (line[3] != ' ' || end == line + 4 || errno != 0 || n > UINT32_MAX) {
			fail(c, E_PROTOCOL, "STAT: cannot parse: %s", show(line));
			return;
		}
		c->nmsgs = (int64_t)n;
		if (opt.script[c->step].kind == OP_STAT)
			c->step++;
		run_step(c);	/* retr-all's own STAT leaves the step alone */
		return;
	}
	case RP_LIST:
	case RP_UIDL:
	case RP_RETR:
	case RP_TOP:
		if (!ok) {
			const char *cmd = c->reply == RP_LIST ? "LIST" : c->reply == RP_UIDL ? "UIDL"
					  : c->reply == RP_RETR ? "RETR" : "TOP";
			unsigned num = opt.script[c->step].kind == OP_RETR
				       ? opt.script[c->step].arg : c->next_recv;

			if (c->reply == RP_LIST || c->reply == RP_UIDL)
				fail(c, E_PROTOCOL, "%s: %s%s", cmd, what, show(line));
			else
				fail(c, E_PROTOCOL, "%s %u: %s%s", cmd, num, what, show(line));
			return;
		}
		c->announced = c->reply == RP_RETR ? parse_size(line) : -1;
		begin_body(c);
		return;
	case RP_NOOP:
		if (!ok) {
			fail(c, E_PROTOCOL, "NOOP: %s%s", what, show(line));
			return;
		}
		next_step(c);
		return;
	case RP_QUIT:
		if (!ok) {
			fail(c, E_PROTOCOL, "QUIT: %s%s", what, show(line));
			return;
		}
		c->phase = PH_CLOSING;	/* the server closes first */
		c->reply = RP_NONE;
		touch(c);
		return;
	}
}

static void feed(struct conn *c, const char *p, size_t n)
{
	uint32_t gen = c->gen;

	while (n > 0) {
		if (c->rstate == R_BODY) {
			size_t used;

			if (body_feed(c, p, n, &used)) {
				p += used;
				n -= used;
				body_done(c);
				if (c->gen != gen)
					return;
			} else {
				return;
			}
			continue;
		}
		if (c->reply == RP_NONE && c->phase != PH_HOLD) {
			if (c->phase == PH_CLOSING)
				fail(c, E_PROTOCOL, "data after the QUIT reply: %.*s",
				     (int)(n < 60 ? n : 60), p);
			else
				fail(c, E_PROTOCOL, "unexpected data in %s", phase_names[c->phase]);
			return;
		}
		const char *nl = memchr(p, '\n', n);
		size_t take = nl != NULL ? (size_t)(nl - p) + 1 : n;

		if (c->linelen + take > LINE_MAX_LEN) {
			fail(c, phase_kind(c), "reply line longer than %d octets in %s",
			     LINE_MAX_LEN, phase_names[c->phase]);
			return;
		}
		memcpy(c->line + c->linelen, p, take);
		c->linelen += (uint16_t)take;
		p += take;
		n -= take;
		if (nl == NULL)
			return;
		size_t len = c->linelen;

		c->line[--len] = '\0';
		if (len > 0 && c->line[len - 1] == '\r')
			c->line[--len] = '\0';
		c->linelen = 0;
		on_line(c, c->line);
		if (c->gen != gen)
			return;
		if (c->phase == PH_HANDSHAKE) {
			/* RFC 2595: nothing may follow +OK to STLS in the clear */
			if (n > 0)
				fail(c, E_TLS, "%zu octets after the STLS reply, before TLS", n);
			return;
		}
	}
}

static void on_eof(struct conn *c, bool close_notify)
{
	if (c->phase == PH_CLOSING) {
		if (c->ssl != NULL && !close_notify)
			g_no_close_notify++;
		session_ok(c);
		return;
	}
	if (c->phase == PH_HOLD) {
		fail(c, E_PROTOCOL, "server closed an idle connection%s%s",
		     c->line[0] ? ", last line: " : "", show(c->line));
		return;
	}
	if (c->rstate == R_BODY) {
		fail(c, phase_kind(c), "server closed the connection %llu octets into "
		     "the multi-line reply to: %s", (unsigned long long)c->body_len,
		     show(c->line));
		return;
	}
	fail(c, phase_kind(c), "server closed the connection in %s%s%s",
	     phase_names[c->phase], c->linelen == 0 && c->line[0] ? ", last reply: " : "",
	     c->linelen == 0 ? show(c->line) : "");
}

static void do_read(struct conn *c)
{
	uint32_t gen = c->gen;

	for (;;) {
		ssize_t r;

		if (c->fd < 0 || c->phase == PH_HANDSHAKE || c->phase == PH_CONNECTING)
			return;
		if (c->ssl != NULL) {
			ERR_clear_error();
			int k = SSL_read(c->ssl, g_rbuf, sizeof(g_rbuf));

			if (k <= 0) {
				int e = SSL_get_error(c->ssl, k);

				c->rd_want_out = false;
				if (e == SSL_ERROR_WANT_READ)
					return;
				if (e == SSL_ERROR_WANT_WRITE) {
					c->rd_want_out = true;
					return;
				}
				if (e == SSL_ERROR_ZERO_RETURN) {
					on_eof(c, true);
					return;
				}
				if (e == SSL_ERROR_SSL &&
				    ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
					ERR_clear_error();
					on_eof(c, false);
					return;
				}
				if (e == SSL_ERROR_SYSCALL)
					fail(c, phase_kind(c), "read in %s: %s",
					     phase_names[c->phase], ssl_errstr(e));
				else
					fail(c, E_TLS, "TLS read in %s: %s",
					     phase_names[c->phase], ssl_errstr(e));
				return;
			}
			r = k;
		} else {
			r = recv(c->fd, g_rbuf, sizeof(g_rbuf), 0);
			if (r == 0) {
				on_eof(c, false);
				return;
			}
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return;
				fail(c, phase_kind(c), "read in %s: %s",
				     phase_names[c->phase], strerror(errno));
				return;
			}
		}
		if (c->phase != PH_HOLD)
			touch(c);
		feed(c, g_rbuf, (size_t)r);
		if (c->gen != gen)
			return;
	}
}

static void on_event(struct conn *c, uint32_t ev)
{
	uint32_t gen = c->gen;

	switch (c->phase) {
	case PH_CONNECTING: {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			fail(c, E_CONNECT, "connect: %s", strerror(err));
			return;
		}
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		connected(c);
		break;
	}
	case PH_HANDSHAKE:
		do_handshake(c);
		break;
	default:
		if (c->ooff < c->olen && flush(c) < 0)
			return;
		if (c->gen != gen)
			return;
		do_read(c);
		break;
	}
	if (c->gen == gen)
		sync_mask(c);
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fputs(
"usage: popbench [options]\n"
"  -H host      server (default 127.0.0.1)\n"
"  -p port      port (default 110)\n"
"  -c N         concurrent connections (default 16)\n"
"  -d seconds   run duration (default 10 when -n is not given)\n"
"  -n N         stop after N sessions (with -d: whichever comes first)\n"
"  -u user      login name (default bench); \"%d\" becomes the connection\n"
"               index modulo -U\n"
"  -U count     number of distinct users for %d (default: one per connection)\n"
"  -w password  password (default bench); \"%d\" is replaced as in -u\n"
"  -a auth      user (USER/PASS, default) | plain (AUTH PLAIN, initial response)\n"
"  -t tls       none (default) | stls | implicit\n"
"  -k           do not verify the certificate (never verified anyway)\n"
"  -S name      TLS SNI name (default: -H unless it is an IP address)\n"
"  -s script    comma-separated session script (default stat,retr-all,quit):\n"
"               stat list uidl retr-all retr:N top-all:L noop quit; login is\n"
"               implicit at the start, quit is added at the end if missing\n"
"  -e file      every retrieved message must equal this file's octets\n"
"  -P           pipeline the RETR (TOP) commands of retr-all (top-all)\n"
"  -I N         idle mode: open N connections, read the greeting (and do the\n"
"               TLS of -t), hold them for -d seconds, report every second\n"
"  -T seconds   timeout of one operation (default 10)\n"
"  -q           quiet: only the summary line\n"
"  -v           a report line every second\n"
"  -h           this help\n"
"Exit status: 0 when there were no errors and at least one session completed\n"
"(idle mode: no errors and all N connections open at the end), 1 otherwise,\n"
"2 for usage errors.\n", f);
}

static unsigned long long parse_num(const char *s, unsigned long long min,
				    unsigned long long max, int optc)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '-' || end == s || *end != '\0' || errno != 0 || v < min || v > max)
		die("-%c: expected a number from %llu to %llu, not \"%s\"", optc, min, max, s);
	return v;
}

static double parse_secs(const char *s, int optc)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(v > 0.0) || v > 1e7)
		die("-%c: expected a positive number of seconds, not \"%s\"", optc, s);
	return v;
}

static void parse_script(const char *text)
{
	char *copy = strdup(text), *save = NULL;
	bool quit = false;

	if (copy == NULL)
		die("out of memory");
	opt.nscript = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		struct op op = { .kind = OP_NOOP, .arg = 0 };

		while (*tok == ' ')
			tok++;
		if (quit)
			die("-s: nothing may follow quit (\"%s\")", tok);
		if (strcmp(tok, "login") == 0) {
			if (opt.nscript != 0)
				die("-s: login can only come first (it is implicit)");
			continue;
		}
		if (strcmp(tok, "stat") == 0) {
			op.kind = OP_STAT;
		} else if (strcmp(tok, "list") == 0) {
			op.kind = OP_LIST;
		} else if (strcmp(tok, "uidl") == 0) {
			op.kind = OP_UIDL;
		} else if (strcmp(tok, "retr-all") == 0) {
			op.kind = OP_RETR_ALL;
		} else if (strncmp(tok, "retr:", 5) == 0) {
			op.kind = OP_RETR;
			op.arg = (uint32_t)parse_num(tok + 5, 1, UINT32_MAX, 's');
		} else if (strncmp(tok, "top-all:", 8) == 0) {
			op.kind = OP_TOP_ALL;
			op.arg = (uint32_t)parse_num(tok + 8, 0, UINT32_MAX, 's');
		} else if (strcmp(tok, "noop") == 0) {
			op.kind = OP_NOOP;
		} else if (strcmp(tok, "quit") == 0) {
			op.kind = OP_QUIT;
			quit = true;
		} else {
			die("-s: unknown script item \"%s\"", tok);
		}
		if (opt.nscript >= MAX_SCRIPT - 1)
			die("-s: at most %d items", MAX_SCRIPT - 1);
		opt.script[opt.nscript++] = op;
	}
	if (!quit)
		opt.script[opt.nscript++] = (struct op){ .kind = OP_QUIT, .arg = 0 };
	free(copy);
}

static void load_expect(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	if (f == NULL || fstat(fileno(f), &st) < 0)
		die("%s: %s", path, strerror(errno));
	g_explen = (size_t)st.st_size;
	g_expect = malloc(g_explen ? g_explen : 1);
	if (g_expect == NULL)
		die("out of memory");
	if (g_explen > 0 && fread(g_expect, 1, g_explen, f) != g_explen)
		die("%s: short read", path);
	fclose(f);
	g_have_expect = true;
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void on_signal(int sig)
{
	(void)sig;
	g_signalled = 1;
}

/* ---- reports ---- */

static void print_breakdown(FILE *f)
{
	fprintf(f, "errors:");
	for (int k = 0; k < E_KINDS; k++)
		fprintf(f, " %s=%llu", err_names[k], g_errors[k]);
	fputc('\n', f);
}

struct snap {
	int64_t t;
	unsigned long long ok, messages, payload, errors;
};

static void interval_report(struct snap *prev, int64_t start)
{
	struct snap cur = { g_now, g_ok, g_messages, g_payload, g_errtotal };
	double dt = (double)(cur.t - prev->t) / 1e9;

	if (dt <= 0)
		return;
	qsort(g_ivl, g_ivl_n, sizeof(*g_ivl), cmp_u32);
	printf("[%5.1fs] sessions=%llu sessions_s=%.1f messages_s=%.1f mb_s=%.2f "
	       "p50_ms=%.2f p99_ms=%.2f errors=%llu open=%u\n",
	       (double)(cur.t - start) / 1e9, cur.ok,
	       (double)(cur.ok - prev->ok) / dt,
	       (double)(cur.messages - prev->messages) / dt,
	       (double)(cur.payload - prev->payload) / dt / 1e6,
	       ivl_pct(0.50), ivl_pct(0.99), cur.errors, g_active);
	fflush(stdout);
	g_ivl_n = 0;
	*prev = cur;
}

/* ---- main loop ---- */

static void scan(void)
{
	for (unsigned i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];

		if (c->phase == PH_BACKOFF) {
			if (g_now >= c->deadline) {
				if (can_start())
					start_session(c);
				else
					c->phase = PH_DONE;
			}
		} else if (c->fd >= 0 && c->phase != PH_HOLD && g_now > c->deadline) {
			fail(c, E_TIMEOUT, "no progress for %g s in %s", opt.timeout,
			     phase_names[c->phase]);
		}
	}
}

static void run_restarts(void)
{
	unsigned n = restart_n;

	/* slots that fail at once go back on the stack for the next round */
	memcpy(restart_tmp, restart_stack, n * sizeof(*restart_tmp));
	restart_n = 0;
	for (unsigned j = 0; j < n; j++) {
		struct conn *c = &conns[restart_tmp[j]];

		if (c->phase != PH_FREE)
			continue;
		if (can_start())
			start_session(c);
		else
			c->phase = PH_DONE;
	}
}

static void event_round(int timeout_ms)
{
	struct epoll_event evs[512];
	int n = epoll_wait(ep, evs, 512, timeout_ms);

	g_now = now_ns();
	if (n < 0) {
		if (errno == EINTR)
			return;
		die("epoll_wait: %s", strerror(errno));
	}
	for (int i = 0; i < n; i++) {
		uint32_t idx = (uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		struct conn *c = &conns[idx];

		if (c->gen != gen || c->fd < 0)
			continue;	/* an event of a socket closed in this round */
		on_event(c, evs[i].events);
	}
}

static int ms_until(int64_t t)
{
	int64_t d = t - g_now;

	if (d <= 0)
		return 0;
	return (int)((d + 999999) / 1000000);
}

static int run_sessions(void)
{
	int64_t start = now_ns(), end, next_scan, next_tick;
	struct snap prev;
	double elapsed, p50, p99;

	g_now = start;
	end = opt.duration_set ? start + (int64_t)(opt.duration * 1e9) : INT64_MAX;
	next_scan = start + SCAN_NS;
	next_tick = start + NS_PER_S;
	prev = (struct snap){ start, 0, 0, 0, 0 };
	for (unsigned i = 0; i < nconns && can_start(); i++)
		start_session(&conns[i]);
	for (;;) {
		int to = ms_until(next_scan);

		if (opt.verbose && ms_until(next_tick) < to)
			to = ms_until(next_tick);
		if (ms_until(end) < to)
			to = ms_until(end);
		if (restart_n > 0)
			to = 0;
		event_round(to);
		if (g_signalled || g_now >= end) {
			g_stopping = true;
			break;
		}
		if (g_now >= next_scan) {
			scan();
			next_scan = g_now + SCAN_NS;
		}
		run_restarts();
		if (opt.verbose && g_now >= next_tick) {
			interval_report(&prev, start);
			next_tick += NS_PER_S;
		}
		if (!can_start() && g_active == 0 && restart_n == 0)
			break;
	}
	elapsed = (double)(g_now - start) / 1e9;
	/* sessions still running at the end are dropped, neither counted nor errors */
	for (unsigned i = 0; i < nconns; i++)
		close_conn(&conns[i]);
	hist_percentiles(&p50, &p99);
	if (elapsed <= 0)
		elapsed = 1e-9;
	printf("sessions=%llu sessions_s=%.1f messages=%llu messages_s=%.1f mb_s=%.2f "
	       "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%llu\n",
	       g_ok, (double)g_ok / elapsed, g_messages, (double)g_messages / elapsed,
	       (double)g_payload / elapsed / 1e6, p50, p99, g_lat_max_ms, g_errtotal);
	if (g_errtotal > 0)
		print_breakdown(stdout);
	if (!opt.quiet && g_no_close_notify > 0)
		fprintf(stderr, "popbench: note: %llu of %llu TLS connections closed after QUIT "
			"without a TLS close_notify\n", g_no_close_notify, g_tls_sessions);
	fflush(stdout);
	return (g_errtotal == 0 && g_ok > 0) ? 0 : 1;
}

static int run_idle(void)
{
	int64_t start = now_ns(), hold_end = INT64_MAX, next_scan, next_tick;
	bool holding = false;

	g_now = start;
	next_scan = start + SCAN_NS;
	next_tick = start + NS_PER_S;
	for (;;) {
		while (g_next_open < nconns && g_active - g_held < IDLE_OPENING_MAX && !g_signalled)
			start_session(&conns[g_next_open++]);
		if (!holding && g_next_open == nconns && g_active == g_held) {
			holding = true;
			hold_end = g_now + (int64_t)(opt.duration * 1e9);
			if (!opt.quiet) {
				printf("[%5.1fs] idle: %u of %u connections open, holding for %g s\n",
				       (double)(g_now - start) / 1e9, g_held, nconns, opt.duration);
				fflush(stdout);
			}
		}
		int to = ms_until(next_scan);

		if (ms_until(next_tick) < to)
			to = ms_until(next_tick);
		if (holding && ms_until(hold_end) < to)
			to = ms_until(hold_end);
		event_round(to);
		if (g_signalled || g_now >= hold_end)
			break;
		if (g_now >= next_scan) {
			scan();
			next_scan = g_now + SCAN_NS;
		}
		if (g_now >= next_tick) {
			if (!opt.quiet) {
				printf("[%5.1fs] open=%u opening=%u target=%u errors=%llu\n",
				       (double)(g_now - start) / 1e9, g_held, g_active - g_held,
				       nconns, g_errtotal);
				fflush(stdout);
			}
			next_tick += NS_PER_S;
		}
	}
	unsigned open = g_held;

	for (unsigned i = 0; i < nconns; i++)
		close_conn(&conns[i]);
	printf("idle connections=%u open=%u peak=%u errors=%llu\n", nconns, open,
	       g_held_peak, g_errtotal);
	if (g_errtotal > 0)
		print_breakdown(stdout);
	fflush(stdout);
	return (g_errtotal == 0 && open == nconns) ? 0 : 1;
}

int main(int argc, char **argv)
{
	int ch;
	bool ucount_set = false;
	struct rlimit rl;
	struct addrinfo hints, *res;
	const char *tls_name = "none";
	int rc;

	while ((ch = getopt(argc, argv, "H:p:c:d:n:u:U:w:a:t:kS:s:e:PI:T:qvh")) != -1) {
		switch (ch) {
		case 'H':
			opt.host = optarg;
			break;
		case 'p':
			parse_num(optarg, 1, 65535, ch);
			opt.port = optarg;
			break;
		case 'c':
			opt.conc = (unsigned)parse_num(optarg, 1, 1000000, ch);
			break;
		case 'd':
			opt.duration = parse_secs(optarg, ch);
			opt.duration_set = true;
			break;
		case 'n':
			opt.total = parse_num(optarg, 1, ULLONG_MAX / 2, ch);
			break;
		case 'u':
			opt.user = optarg;
			break;
		case 'U':
			opt.ucount = (unsigned)parse_num(optarg, 1, UINT32_MAX, ch);
			ucount_set = true;
			break;
		case 'w':
			opt.pass = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "user") == 0)
				opt.auth = AUTH_USER;
			else if (strcmp(optarg, "plain") == 0)
				opt.auth = AUTH_PLAIN;
			else
				die("-a: user or plain, not \"%s\"", optarg);
			break;
		case 't':
			if (strcmp(optarg, "none") == 0)
				opt.tls = TLS_NONE;
			else if (strcmp(optarg, "stls") == 0)
				opt.tls = TLS_STLS;
			else if (strcmp(optarg, "implicit") == 0)
				opt.tls = TLS_IMPLICIT;
			else
				die("-t: none, stls or implicit, not \"%s\"", optarg);
			tls_name = optarg;
			break;
		case 'k':
			break;	/* the certificate is never verified */
		case 'S':
			opt.sni = optarg;
			break;
		case 's':
			opt.script_text = optarg;
			break;
		case 'e':
			opt.expect_file = optarg;
			break;
		case 'P':
			opt.pipeline = true;
			break;
		case 'I':
			opt.idle = (unsigned)parse_num(optarg, 1, 10000000, ch);
			break;
		case 'T':
			opt.timeout = parse_secs(optarg, ch);
			break;
		case 'q':
			opt.quiet = true;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (opt.quiet)
		opt.verbose = false;
	if (!opt.duration_set && opt.total == 0)
		opt.duration_set = true;	/* default: 10 s */
	if (strlen(opt.user) > MAX_CRED || strlen(opt.pass) > MAX_CRED)
		die("-u and -w: at most %d octets", MAX_CRED);
	if (strpbrk(opt.user, "\r\n") != NULL || strpbrk(opt.pass, "\r\n") != NULL)
		die("-u and -w must not contain CR or LF");
	parse_script(opt.script_text);
	if (opt.expect_file != NULL)
		load_expect(opt.expect_file);
	if (opt.sni == NULL && !is_ip_literal(opt.host))
		opt.sni = opt.host;	/* RFC 6066: no IP addresses in SNI */

	nconns = opt.idle > 0 ? opt.idle : opt.conc;
	if (opt.total > 0 && opt.idle == 0 && opt.total < nconns)
		nconns = (unsigned)opt.total;
	g_umod = ucount_set ? opt.ucount : nconns;
	g_timeout_ns = (int64_t)(opt.timeout * 1e9);

	/* descriptors: raise the soft limit to the hard one */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)nconns + 16 > rl.rlim_cur)
		die("%u connections need more descriptors than the limit of %llu (ulimit -n)",
		    nconns, (unsigned long long)rl.rlim_cur);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(opt.host, opt.port, &hints, &res)) != 0)
		die("%s port %s: %s", opt.host, opt.port, gai_strerror(rc));
	memcpy(&g_addr, res->ai_addr, res->ai_addrlen);
	g_addrlen = res->ai_addrlen;
	freeaddrinfo(res);

	if (opt.tls != TLS_NONE) {
		g_ctx = SSL_CTX_new(TLS_client_method());
		if (g_ctx == NULL)
			die("SSL_CTX_new: %s", ssl_errstr(0));
		SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_mode(g_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				 SSL_MODE_RELEASE_BUFFERS);
		SSL_CTX_set_session_cache_mode(g_ctx, SSL_SESS_CACHE_OFF);
	}

	conns = calloc(nconns, sizeof(*conns));
	restart_stack = calloc(nconns, sizeof(*restart_stack));
	restart_tmp = calloc(nconns, sizeof(*restart_tmp));
	if (conns == NULL || restart_stack == NULL || restart_tmp == NULL)
		die("out of memory");
	for (unsigned i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		conns[i].idx = i;
	}
	if (opt.idle == 0) {
		g_hist = calloc(HIST_BUCKETS, sizeof(*g_hist));	/* pages come lazily */
		if (g_hist == NULL)
			die("out of memory");
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));

	if (!opt.quiet) {
		if (opt.idle > 0)
			fprintf(stderr, "popbench: %s port %s, idle mode: %u connections, tls=%s, "
				"hold %g s\n", opt.host, opt.port, opt.idle, tls_name, opt.duration);
		else {
			char limit[80];

			if (opt.duration_set && opt.total > 0)
				snprintf(limit, sizeof(limit), "%g s or %llu sessions",
					 opt.duration, opt.total);
			else if (opt.total > 0)
				snprintf(limit, sizeof(limit), "%llu sessions", opt.total);
			else
				snprintf(limit, sizeof(limit), "%g s", opt.duration);
			fprintf(stderr, "popbench: %s port %s, %u connections, %s, tls=%s, "
				"auth=%s, script=%s%s%s\n", opt.host, opt.port, nconns, limit,
				tls_name, opt.auth == AUTH_USER ? "user" : "plain",
				opt.script_text, opt.pipeline ? ", pipelined" : "",
				g_have_expect ? ", content checked" : "");
		}
	}
	rc = opt.idle > 0 ? run_idle() : run_sessions();
	if (g_ctx != NULL)
		SSL_CTX_free(g_ctx);
	return rc;
}

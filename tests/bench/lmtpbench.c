/* lmtpbench.c - a closed-loop LMTP load generator.
 *
 * N connections, each running LMTP sessions (RFC 2033): connect over TCP
 * or a UNIX socket, greeting, LHLO, then mail transactions back to back
 * (MAIL FROM, one RCPT TO per recipient, DATA, the dot-stuffed message,
 * one reply per accepted recipient) with no RSET between them, and QUIT
 * after -m transactions or at the end of the run.  With -P the MAIL,
 * RCPT and DATA commands of a transaction go out in one write (RFC 2920);
 * the message itself always waits for the 354.  One thread, one epoll
 * loop, non-blocking sockets; the message is stuffed once at start and
 * shared by every connection.
 *
 * When the run ends (-d, -n or a signal), no new transaction starts, the
 * ones in flight finish and are counted, and every connection says QUIT,
 * so that the number of 250 replies after DATA ("deliveries") is exactly
 * the number of messages the server stored.  A second signal stops at
 * once.
 *
 * Build:
 *   gcc -O2 -Wall -Wextra -o lmtpbench lmtpbench.c -lm
 * Usage: lmtpbench -h
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 512	/* RFC 5321 4.5.3.1.5: a reply line with its CRLF */
#define REPLY_LINES_MAX 100	/* lines of one multi-line reply; more is a loop */
#define RBUF_SIZE (64 * 1024)	/* one shared read buffer */
#define ADDR_MAX 320		/* RFC 5321: 64 local part + @ + 255 domain */
#define MAX_RCPT 1000		/* RFC 5321 4.5.3.1.8 asks servers for at least 100 */
#define HIST_BUCKETS 6000000u	/* 10 us buckets up to 60 s; the last one overflows */
#define BACKOFF_NS 100000000LL	/* after a connect error */
#define SCAN_NS 100000000LL	/* timeout scan period */
#define MAX_ERROR_DETAILS 20

#define NS_PER_S 1000000000LL

enum err_kind { E_CONNECT, E_GREETING, E_LHLO, E_MAIL, E_RCPT, E_DATA,
		E_DELIVER, E_PROTOCOL, E_TIMEOUT, E_KINDS };
static const char *const err_names[E_KINDS] = {
	"connect", "greeting", "lhlo", "mail", "rcpt", "data", "deliver",
	"protocol", "timeout"
};

enum phase { PH_FREE, PH_DONE, PH_BACKOFF, PH_CONNECTING, PH_GREETING,
	     PH_LHLO, PH_TXN, PH_RSET, PH_QUIT, PH_CLOSING };
static const char *const phase_names[] = {
	"free", "done", "backoff", "connect", "greeting", "LHLO",
	"transaction", "RSET", "QUIT", "waiting for close after QUIT"
};

/* what the next reply answers */
enum reply { RP_NONE, RP_GREETING, RP_LHLO, RP_MAIL, RP_RCPT, RP_DATA,
	     RP_DELIVERY, RP_RSET, RP_QUIT };
static const char *const reply_names[] = {
	"nothing", "the greeting", "LHLO", "MAIL", "RCPT", "DATA",
	"the end of data", "RSET", "QUIT"
};

/* LHLO keywords we look for */
#define CAP_PIPELINING 1u
#define CAP_SIZE 2u

struct conn {
	int fd;
	uint32_t gen;		/* bumped at every close; tags epoll events */
	uint32_t idx;
	uint32_t evmask;	/* registered epoll events, 0 = not registered */
	uint8_t phase, reply;
	uint8_t caps;		/* CAP_* from the LHLO reply */
	bool wr_blocked;	/* output pending, waiting for writable */
	bool body_pending;	/* the message is (partly) still to send */
	bool txn_bad;		/* an error was counted in this transaction */
	bool mail_failed;	/* MAIL was refused: later refusals follow from it */
	uint16_t linelen;
	uint16_t reply_lines;	/* lines of the current reply so far */
	int reply_code;		/* of the current multi-line reply, 0 = none yet */
	uint32_t rcpt_done;	/* RCPT replies received in this transaction */
	uint32_t accepted;	/* RCPTs accepted in this transaction */
	uint32_t dlv_done;	/* replies after the end of data */
	uint32_t rcpt_base;	/* first user index of this transaction */
	uint64_t txns;		/* transactions begun in this session */
	size_t body_off;
	int64_t deadline;	/* ns, monotonic */
	int64_t t_txn;		/* when the transaction's MAIL went out */
	char *obuf;
	uint32_t ocap, olen, ooff;
	char line[LINE_MAX_LEN + 1];
};

/* ---- options ---- */

static struct {
	const char *host;
	const char *port;
	const char *unix_path;
	unsigned conc;
	double duration;
	bool duration_set;
	unsigned long long total;
	unsigned rcpts;
	const char *rcpt_pattern;
	unsigned ucount;
	const char *sender;
	const char *msg_file;
	unsigned long long per_conn;	/* 0 = no limit */
	bool pipeline;
	double timeout;
	bool quiet;
	bool verbose;
} opt = {
	.host = "127.0.0.1", .port = "24", .conc = 16, .duration = 10.0,
	.rcpts = 1, .rcpt_pattern = "bench%d@example.test", .ucount = 1,
	.sender = "lmtpbench@example.test", .timeout = 30.0,
};

/* ---- global state ---- */

static struct conn *conns;
static unsigned nconns;
static int ep = -1;
static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static char *g_body;		/* stuffed message with the final ".\r\n" */
static size_t g_body_len;
static size_t g_msg_octets;	/* the message as stored: CRLF, not stuffed */
static int64_t g_now, g_timeout_ns;
static char g_rbuf[RBUF_SIZE];
static volatile sig_atomic_t g_signalled;
static bool g_stopping;
static uint32_t g_rcpt_next;	/* round-robin over the -U users */

static uint32_t *restart_stack, *restart_tmp;
static unsigned restart_n;

static unsigned g_active;	/* connections with a socket */
static unsigned g_in_txn;	/* connections inside a transaction */

static unsigned long long g_txn_started, g_messages, g_deliveries, g_sessions;
static unsigned long long g_errors[E_KINDS], g_errtotal, g_details;
static uint32_t *g_hist;
static double g_lat_max_ms, g_lat_sum_ms;
static uint32_t *g_ivl;		/* latencies (us) of the current -v interval */
static size_t g_ivl_n, g_ivl_cap;

static void next_txn(struct conn *c);

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

	fputs("lmtpbench: ", stderr);
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

/* ---- errors ---- */

static enum err_kind phase_kind(const struct conn *c)
{
	switch (c->phase) {
	case PH_CONNECTING:
		return E_CONNECT;
	case PH_GREETING:
		return E_GREETING;
	case PH_LHLO:
		return E_LHLO;
	default:
		return E_PROTOCOL;
	}
}

static void count_error(struct conn *c, enum err_kind k, const char *fmt, va_list ap)
{
	g_errors[k]++;
	g_errtotal++;
	c->txn_bad = true;
	if (opt.quiet)
		return;
	if (g_details < MAX_ERROR_DETAILS) {
		fprintf(stderr, "lmtpbench: conn %u: %s error: ", c->idx, err_names[k]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else if (g_details == MAX_ERROR_DETAILS) {
		fputs("lmtpbench: (further error details suppressed)\n", stderr);
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
	if (c->fd >= 0) {
		close(c->fd);	/* also leaves the epoll set */
		c->fd = -1;
		g_active--;
	}
	if (c->phase == PH_TXN || c->phase == PH_RSET)
		g_in_txn--;
	c->gen++;
	c->phase = PH_FREE;
	c->reply = RP_NONE;
	c->evmask = 0;
	c->olen = c->ooff = 0;
	c->linelen = 0;
	c->reply_code = 0;
	c->reply_lines = 0;
	c->wr_blocked = c->body_pending = false;
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
	if (k == E_CONNECT) {
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
	g_lat_sum_ms += ms;
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
	if (g_messages == 0)
		return;
	r50 = (uint64_t)ceil(0.50 * (double)g_messages);
	r99 = (uint64_t)ceil(0.99 * (double)g_messages);
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
	size_t cap = c->ocap ? c->ocap : 256;

	while (cap < need)
		cap *= 2;
	char *p = realloc(c->obuf, cap);

	if (p == NULL)
		return -1;
	c->obuf = p;
	c->ocap = (uint32_t)cap;
	return 0;
}

/* Queue a formatted command; -1 when out of memory. */
static int out_vprintf(struct conn *c, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static int out_vprintf(struct conn *c, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	if (out_reserve(c, 128) < 0)
		return -1;
	va_copy(again, ap);
	n = vsnprintf(c->obuf + c->olen, c->ocap - c->olen, fmt, ap);
	if (n >= 0 && (size_t)n >= c->ocap - c->olen) {
		if (out_reserve(c, (size_t)n + 1) < 0)
			n = -1;
		else
			vsnprintf(c->obuf + c->olen, c->ocap - c->olen, fmt, again);
	}
	va_end(again);
	if (n < 0)
		return -1;
	c->olen += (uint32_t)n;
	return 0;
}

static int out_printf(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int out_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = out_vprintf(c, fmt, ap);
	va_end(ap);
	return r;
}

/* Write the queued commands, then the message when it is due; 0 when sent
 * or waiting for the socket, -1 when the session failed. */
static int flush(struct conn *c)
{
	for (;;) {
		struct iovec iov[2];
		int n = 0;

		if (c->ooff < c->olen) {
			iov[n].iov_base = c->obuf + c->ooff;
			iov[n].iov_len = c->olen - c->ooff;
			n++;
		}
		if (c->body_pending) {
			iov[n].iov_base = g_body + c->body_off;
			iov[n].iov_len = g_body_len - c->body_off;
			n++;
		}
		if (n == 0)
			break;

		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t r = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		if (r < 0) {
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
		size_t left = (size_t)r, cmd = c->olen - c->ooff;

		if (left >= cmd) {
			c->ooff = c->olen = 0;
			left -= cmd;
		} else {
			c->ooff += (uint32_t)left;
			left = 0;
		}
		if (c->body_pending) {
			c->body_off += left;
			if (c->body_off == g_body_len)
				c->body_pending = false;
		}
	}
	c->wr_blocked = false;
	return 0;
}

static void sync_mask(struct conn *c)
{
	uint32_t want;
	struct epoll_event ev;

	if (c->fd < 0)
		return;
	if (c->phase == PH_CONNECTING)
		want = EPOLLOUT;
	else if (c->wr_blocked && (c->ooff < c->olen || c->body_pending))
		want = EPOLLIN | EPOLLOUT;
	else
		want = EPOLLIN;
	if (want == c->evmask)
		return;
	ev.events = want;
	ev.data.u64 = (uint64_t)c->idx | ((uint64_t)c->gen << 32);
	if (epoll_ctl(ep, c->evmask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	c->evmask = want;
}

/* Send one command and wait for its reply. */
static void send_cmd(struct conn *c, enum reply rp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void send_cmd(struct conn *c, enum reply rp, const char *fmt, ...)
{
	va_list ap;
	int r;

	c->reply = (uint8_t)rp;
	touch(c);
	va_start(ap, fmt);
	r = out_vprintf(c, fmt, ap);
	va_end(ap);
	if (r < 0) {
		fail(c, E_PROTOCOL, "out of memory");
		return;
	}
	flush(c);
}

/* ---- session flow ---- */

static bool can_start_txn(void)
{
	return !g_stopping && (opt.total == 0 || g_txn_started < opt.total);
}

static void start_session(struct conn *c)
{
	int fd, one = 1;

	c->phase = PH_FREE;
	fd = socket(g_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		c->fd = -1;
		fail(c, E_CONNECT, "socket: %s", strerror(errno));
		return;
	}
	if (g_addr.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	g_active++;
	c->txns = 0;
	c->caps = 0;
	c->phase = PH_CONNECTING;
	touch(c);
	sync_mask(c);
	if (connect(fd, (struct sockaddr *)&g_addr, g_addrlen) < 0 && errno != EINPROGRESS &&
	    errno != EAGAIN)
		fail(c, E_CONNECT, "connect: %s", strerror(errno));
	/* success or not, EPOLLOUT reports it */
}

static void session_ok(struct conn *c)
{
	g_sessions++;
	close_conn(c);
	push_restart(c);
}

static void rcpt_address(const struct conn *c, uint32_t i, char *dst, size_t cap)
{
	expand(opt.rcpt_pattern, (c->rcpt_base + i) % opt.ucount, dst, cap);
}

static void begin_txn(struct conn *c)
{
	char addr[ADDR_MAX + 1];
	char size[32] = "";

	if (c->phase != PH_TXN && c->phase != PH_RSET)
		g_in_txn++;
	c->phase = PH_TXN;
	c->txns++;
	g_txn_started++;
	c->txn_bad = c->mail_failed = false;
	c->rcpt_done = c->accepted = c->dlv_done = 0;
	/* recipients of one message are distinct users (opt.rcpts <= opt.ucount) */
	c->rcpt_base = g_rcpt_next;
	g_rcpt_next = (uint32_t)(((uint64_t)g_rcpt_next + opt.rcpts) % opt.ucount);
	if (c->caps & CAP_SIZE)
		snprintf(size, sizeof(size), " SIZE=%zu", g_msg_octets);
	c->t_txn = now_ns();
	if (!opt.pipeline) {
		send_cmd(c, RP_MAIL, "MAIL FROM:<%s>%s\r\n", opt.sender, size);
		return;
	}
	/* RFC 2920: MAIL, the RCPTs and DATA in one write */
	c->reply = RP_MAIL;
	touch(c);
	if (out_printf(c, "MAIL FROM:<%s>%s\r\n", opt.sender, size) < 0)
		goto oom;
	for (uint32_t i = 0; i < opt.rcpts; i++) {
		rcpt_address(c, i, addr, sizeof(addr));
		if (out_printf(c, "RCPT TO:<%s>\r\n", addr) < 0)
			goto oom;
	}
	if (out_printf(c, "DATA\r\n") < 0)
		goto oom;
	flush(c);
	return;
oom:
	fail(c, E_PROTOCOL, "out of memory");
}

static void send_rcpt(struct conn *c)
{
	char addr[ADDR_MAX + 1];

	rcpt_address(c, c->rcpt_done, addr, sizeof(addr));
	send_cmd(c, RP_RCPT, "RCPT TO:<%s>\r\n", addr);
}

/* A transaction that went wrong: RSET, then the next one. */
static void abort_txn(struct conn *c)
{
	c->phase = PH_RSET;
	send_cmd(c, RP_RSET, "RSET\r\n");
}

static void txn_done(struct conn *c)
{
	if (!c->txn_bad) {
		g_messages++;
		record_latency(now_ns() - c->t_txn);
	}
	next_txn(c);
}

/* Another transaction on this connection, or QUIT. */
static void next_txn(struct conn *c)
{
	if (can_start_txn() && (opt.per_conn == 0 || c->txns < opt.per_conn)) {
		begin_txn(c);
		return;
	}
	if (c->phase == PH_TXN || c->phase == PH_RSET)
		g_in_txn--;
	c->phase = PH_QUIT;
	send_cmd(c, RP_QUIT, "QUIT\r\n");
}

/* The LHLO keyword on one line of its reply ("250-PIPELINING"). */
static void lhlo_keyword(struct conn *c, const char *text)
{
	size_t n = strcspn(text, " ");

	if (n == 10 && strncasecmp(text, "PIPELINING", 10) == 0)
		c->caps |= CAP_PIPELINING;
	else if (n == 4 && strncasecmp(text, "SIZE", 4) == 0)
		c->caps |= CAP_SIZE;
}

static void on_mail(struct conn *c, int code, const char *line)
{
	if (code != 250) {
		note_error(c, E_MAIL, "MAIL: %s", show(line));
		c->mail_failed = true;
		if (!opt.pipeline) {
			abort_txn(c);
			return;
		}
	} else if (!opt.pipeline) {
		send_rcpt(c);
		return;
	}
	c->reply = RP_RCPT;	/* pipelined: the RCPT replies come next */
}

static void on_rcpt(struct conn *c, int code, const char *line)
{
	if (code == 250 || code == 251) {
		if (c->mail_failed) {
			fail(c, E_PROTOCOL, "RCPT accepted after MAIL was refused: %s",
			     show(line));
			return;
		}
		c->accepted++;
	} else if (!c->mail_failed) {
		char addr[ADDR_MAX + 1];

		rcpt_address(c, c->rcpt_done, addr, sizeof(addr));
		note_error(c, E_RCPT, "RCPT TO:<%s>: %s", addr, show(line));
	}
	c->rcpt_done++;
	if (c->rcpt_done < opt.rcpts) {
		if (!opt.pipeline)
			send_rcpt(c);
		return;
	}
	if (opt.pipeline) {
		c->reply = RP_DATA;
		return;
	}
	if (c->accepted == 0) {
		abort_txn(c);
		return;
	}
	send_cmd(c, RP_DATA, "DATA\r\n");
}

static void on_data(struct conn *c, int code, const char *line)
{
	if (code == 354) {
		if (c->accepted == 0) {
			/* RFC 2033 4.2: DATA must fail when no RCPT succeeded */
			fail(c, E_PROTOCOL, "354 to DATA without an accepted recipient: %s",
			     show(line));
			return;
		}
		c->reply = RP_DELIVERY;
		c->body_off = 0;
		c->body_pending = true;
		touch(c);
		flush(c);
		return;
	}
	if (c->accepted > 0)
		note_error(c, E_DATA, "DATA: %s", show(line));
	abort_txn(c);
}

static void on_delivery(struct conn *c, int code, const char *line)
{
	if (c->body_pending) {
		fail(c, E_PROTOCOL, "a reply before the whole message was sent: %s",
		     show(line));
		return;
	}
	if (code == 250) {
		g_deliveries++;
	} else {
		note_error(c, E_DELIVER, "reply %u of %u after the message: %s",
			   c->dlv_done + 1, c->accepted, show(line));
	}
	c->dlv_done++;
	if (c->dlv_done == c->accepted)
		txn_done(c);
}

/* A complete reply: code and its last line. */
static void on_reply(struct conn *c, int code, const char *line)
{
	switch ((enum reply)c->reply) {
	case RP_NONE:
		return;
	case RP_GREETING:
		if (code != 220) {
			fail(c, E_GREETING, "%s", show(line));
			return;
		}
		c->phase = PH_LHLO;
		send_cmd(c, RP_LHLO, "LHLO lmtpbench.invalid\r\n");
		return;
	case RP_LHLO:
		if (code != 250) {
			fail(c, E_LHLO, "LHLO: %s", show(line));
			return;
		}
		if (opt.pipeline && !(c->caps & CAP_PIPELINING)) {
			fail(c, E_LHLO, "the server does not offer PIPELINING, which -P needs");
			return;
		}
		next_txn(c);
		return;
	case RP_MAIL:
		on_mail(c, code, line);
		return;
	case RP_RCPT:
		on_rcpt(c, code, line);
		return;
	case RP_DATA:
		on_data(c, code, line);
		return;
	case RP_DELIVERY:
		on_delivery(c, code, line);
		return;
	case RP_RSET:
		if (code != 250) {
			fail(c, E_PROTOCOL, "RSET: %s", show(line));
			return;
		}
		next_txn(c);
		return;
	case RP_QUIT:
		if (code != 221) {
			fail(c, E_PROTOCOL, "QUIT: %s", show(line));
			return;
		}
		c->phase = PH_CLOSING;	/* the server closes first */
		c->reply = RP_NONE;
		touch(c);
		return;
	}
}

/* One reply line: "ddd-text" continues a reply, "ddd text" or "ddd" ends it. */
static void on_line(struct conn *c, char *line)
{
	int code;

	if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
	    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
		fail(c, E_PROTOCOL, "not a reply line, waiting for %s: %s",
		     reply_names[c->reply], show(line));
		return;
	}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (c->reply_code != 0 && code != c->reply_code) {
		fail(c, E_PROTOCOL, "reply code changes within a multi-line reply: %s",
		     show(line));
		return;
	}
	if (c->reply == RP_LHLO && code == 250 && line[3] != '\0')
		lhlo_keyword(c, line + 4);
	if (line[3] == '-') {
		c->reply_code = code;
		if (++c->reply_lines > REPLY_LINES_MAX)
			fail(c, E_PROTOCOL, "a reply of more than %d lines", REPLY_LINES_MAX);
		return;
	}
	c->reply_code = 0;
	c->reply_lines = 0;
	on_reply(c, code, line);
}

static void feed(struct conn *c, const char *p, size_t n)
{
	uint32_t gen = c->gen;

	while (n > 0) {
		if (c->reply == RP_NONE) {
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
	}
}

static void on_eof(struct conn *c)
{
	if (c->phase == PH_CLOSING) {
		session_ok(c);
		return;
	}
	fail(c, phase_kind(c), "server closed the connection in %s, waiting for %s%s%s",
	     phase_names[c->phase], reply_names[c->reply],
	     c->linelen == 0 && c->line[0] ? ", last reply: " : "",
	     c->linelen == 0 ? show(c->line) : "");
}

static void do_read(struct conn *c)
{
	uint32_t gen = c->gen;

	for (;;) {
		ssize_t r;

		if (c->fd < 0 || c->phase == PH_CONNECTING)
			return;
		r = recv(c->fd, g_rbuf, sizeof(g_rbuf), 0);
		if (r == 0) {
			on_eof(c);
			return;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			fail(c, phase_kind(c), "read in %s: %s", phase_names[c->phase],
			     strerror(errno));
			return;
		}
		touch(c);
		feed(c, g_rbuf, (size_t)r);
		if (c->gen != gen)
			return;
	}
}

static void on_event(struct conn *c, uint32_t ev)
{
	uint32_t gen = c->gen;

	if (c->phase == PH_CONNECTING) {
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
		c->phase = PH_GREETING;
		c->reply = RP_GREETING;
		touch(c);
	} else {
		if ((c->ooff < c->olen || c->body_pending) && flush(c) < 0)
			return;
		if (c->gen != gen)
			return;
		do_read(c);
	}
	if (c->gen == gen)
		sync_mask(c);
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fputs(
"usage: lmtpbench [options]\n"
"  -H host      server (default 127.0.0.1)\n"
"  -p port      port (default 24)\n"
"  -x path      connect to this UNIX socket instead of -H/-p\n"
"  -c N         concurrent connections (default 16)\n"
"  -d seconds   run duration (default 10 when -n is not given)\n"
"  -n N         stop after N messages (with -d: whichever comes first)\n"
"  -r N         recipients per message (default 1)\n"
"  -R pattern   recipient address; \"%d\" becomes a user number from 0 to\n"
"               -U - 1, round-robin (default bench%d@example.test)\n"
"  -U count     number of distinct users for %d (default 1; at least -r)\n"
"  -F sender    MAIL FROM address (default lmtpbench@example.test)\n"
"  -f file      the message (default: a small built-in one); sent with CRLF\n"
"               line ends and dot-stuffed\n"
"  -m N         messages per connection, then QUIT and reconnect (default:\n"
"               no limit, one session per connection for the whole run)\n"
"  -P           pipelining (RFC 2920): MAIL, RCPT... and DATA in one write\n"
"  -T seconds   timeout of one operation (default 30)\n"
"  -q           quiet: only the summary line\n"
"  -v           a report line every second\n"
"  -h           this help\n"
"Exit status: 0 when there were no errors and at least one message was\n"
"delivered, 1 otherwise, 2 for usage errors.\n", f);
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

static const char builtin_message[] =
	"From: lmtpbench <lmtpbench@example.test>\r\n"
	"To: bench <bench@example.test>\r\n"
	"Subject: lmtpbench\r\n"
	"Message-ID: <lmtpbench@example.test>\r\n"
	"\r\n"
	"A message from the LMTP load generator.\r\n"
	".A line that starts with a dot, stuffed on the wire.\r\n"
	"..\r\n"
	"The end.\r\n";

/* The message as sent after 354: CRLF line ends (a bare LF becomes CRLF, a
 * missing last line end is added), a dot doubled at the start of a line,
 * then ".\r\n".  g_msg_octets is the size without the stuffing. */
static void prepare_message(const char *data, size_t n)
{
	size_t cap = 2 * n + 8, len = 0, octets = 0;
	bool bol = true;
	char *out = malloc(cap);

	if (out == NULL)
		die("out of memory");
	for (size_t i = 0; i < n; i++) {
		char ch = data[i];

		if (bol && ch == '.')
			out[len++] = '.';
		bol = false;
		if (ch == '\n' && (i == 0 || data[i - 1] != '\r')) {
			out[len++] = '\r';
			octets++;
		}
		out[len++] = ch;
		octets++;
		if (ch == '\n')
			bol = true;
	}
	if (!bol) {
		out[len++] = '\r';
		out[len++] = '\n';
		octets += 2;
	}
	memcpy(out + len, ".\r\n", 3);
	len += 3;
	g_body = out;
	g_body_len = len;
	g_msg_octets = octets;
}

static void load_message(const char *path)
{
	FILE *f;
	struct stat st;
	char *data;
	size_t n;

	if (path == NULL) {
		prepare_message(builtin_message, sizeof(builtin_message) - 1);
		return;
	}
	f = fopen(path, "rb");
	if (f == NULL || fstat(fileno(f), &st) < 0)
		die("-f %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die("-f %s: not a regular file", path);
	n = (size_t)st.st_size;
	if (n == 0)
		die("-f %s: the file is empty", path);
	if (n > ((size_t)1 << 30))
		die("-f %s: larger than 1 GiB", path);
	data = malloc(n);
	if (data == NULL)
		die("out of memory");
	if (fread(data, 1, n, f) != n)
		die("-f %s: short read", path);
	fclose(f);
	prepare_message(data, n);
	free(data);
}

static void check_address(const char *what, const char *addr)
{
	if (strlen(addr) > ADDR_MAX - 16)
		die("%s: longer than %d octets", what, ADDR_MAX - 16);
	if (strpbrk(addr, "<> \r\n") != NULL)
		die("%s: no '<', '>', spaces, CR or LF in \"%s\"", what, addr);
}

static void on_signal(int sig)
{
	(void)sig;
	if (g_signalled < 2)
		g_signalled++;
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
	unsigned long long messages, deliveries, errors;
};

static void interval_report(struct snap *prev, int64_t start)
{
	struct snap cur = { g_now, g_messages, g_deliveries, g_errtotal };
	double dt = (double)(cur.t - prev->t) / 1e9;

	if (dt <= 0)
		return;
	qsort(g_ivl, g_ivl_n, sizeof(*g_ivl), cmp_u32);
	printf("[%5.1fs] messages=%llu messages_s=%.1f deliveries_s=%.1f "
	       "p50_ms=%.2f p99_ms=%.2f errors=%llu open=%u\n",
	       (double)(cur.t - start) / 1e9, cur.messages,
	       (double)(cur.messages - prev->messages) / dt,
	       (double)(cur.deliveries - prev->deliveries) / dt,
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
				if (can_start_txn())
					start_session(c);
				else
					c->phase = PH_DONE;
			}
		} else if (c->fd >= 0 && g_now > c->deadline) {
			fail(c, E_TIMEOUT, "no progress for %g s in %s, waiting for %s",
			     opt.timeout, phase_names[c->phase], reply_names[c->reply]);
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
		if (can_start_txn())
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

static int run(void)
{
	int64_t start = now_ns(), end, next_scan, next_tick;
	struct snap prev;
	double elapsed, p50, p99;
	unsigned dropped = 0;

	g_now = start;
	end = opt.duration_set ? start + (int64_t)(opt.duration * 1e9) : INT64_MAX;
	next_scan = start + SCAN_NS;
	next_tick = start + NS_PER_S;
	prev = (struct snap){ start, 0, 0, 0 };
	for (unsigned i = 0; i < nconns; i++)
		start_session(&conns[i]);
	for (;;) {
		int to = ms_until(next_scan);

		if (opt.verbose && ms_until(next_tick) < to)
			to = ms_until(next_tick);
		if (!g_stopping && ms_until(end) < to)
			to = ms_until(end);
		if (restart_n > 0)
			to = 0;
		event_round(to);
		if (g_signalled >= 2)
			break;	/* a second signal: stop at once */
		if (!g_stopping && (g_signalled || g_now >= end))
			g_stopping = true;	/* drain: transactions in flight finish */
		if (g_now >= next_scan) {
			scan();
			next_scan = g_now + SCAN_NS;
		}
		run_restarts();
		if (opt.verbose && g_now >= next_tick) {
			interval_report(&prev, start);
			next_tick += NS_PER_S;
		}
		if (!can_start_txn() && g_active == 0 && restart_n == 0)
			break;
	}
	elapsed = (double)(g_now - start) / 1e9;
	dropped = g_in_txn;
	for (unsigned i = 0; i < nconns; i++)
		close_conn(&conns[i]);
	hist_percentiles(&p50, &p99);
	if (elapsed <= 0)
		elapsed = 1e-9;
	printf("messages=%llu messages_s=%.1f deliveries=%llu deliveries_s=%.1f mb_s=%.2f "
	       "mean_ms=%.2f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f sessions=%llu errors=%llu\n",
	       g_messages, (double)g_messages / elapsed, g_deliveries,
	       (double)g_deliveries / elapsed,
	       (double)g_messages * (double)g_msg_octets / elapsed / 1e6,
	       g_messages ? g_lat_sum_ms / (double)g_messages : 0.0, p50, p99,
	       g_lat_max_ms, g_sessions, g_errtotal);
	if (g_errtotal > 0)
		print_breakdown(stdout);
	if (dropped > 0)
		fprintf(stderr, "lmtpbench: %u transactions were cut off by the second signal; "
			"the server may have stored messages not counted in deliveries=\n",
			dropped);
	fflush(stdout);
	return (g_errtotal == 0 && g_deliveries > 0 && dropped == 0) ? 0 : 1;
}

static void resolve(void)
{
	struct addrinfo hints, *res;
	int rc;

	if (opt.unix_path != NULL) {
		struct sockaddr_un *su = (struct sockaddr_un *)&g_addr;
		size_t len = strlen(opt.unix_path);

		if (len == 0 || len >= sizeof(su->sun_path))
			die("-x: a socket path of 1 to %zu octets", sizeof(su->sun_path) - 1);
		memset(su, 0, sizeof(*su));
		su->sun_family = AF_UNIX;
		memcpy(su->sun_path, opt.unix_path, len);
		g_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(opt.host, opt.port, &hints, &res)) != 0)
		die("%s port %s: %s", opt.host, opt.port, gai_strerror(rc));
	memcpy(&g_addr, res->ai_addr, res->ai_addrlen);
	g_addrlen = res->ai_addrlen;
	freeaddrinfo(res);
}

int main(int argc, char **argv)
{
	int ch;
	struct rlimit rl;
	char sample[ADDR_MAX + 1];

	while ((ch = getopt(argc, argv, "H:p:x:c:d:n:r:R:U:F:f:m:PT:qvh")) != -1) {
		switch (ch) {
		case 'H':
			opt.host = optarg;
			break;
		case 'p':
			parse_num(optarg, 1, 65535, ch);
			opt.port = optarg;
			break;
		case 'x':
			opt.unix_path = optarg;
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
		case 'r':
			opt.rcpts = (unsigned)parse_num(optarg, 1, MAX_RCPT, ch);
			break;
		case 'R':
			opt.rcpt_pattern = optarg;
			break;
		case 'U':
			opt.ucount = (unsigned)parse_num(optarg, 1, UINT32_MAX / 2, ch);
			break;
		case 'F':
			opt.sender = optarg;
			break;
		case 'f':
			opt.msg_file = optarg;
			break;
		case 'm':
			opt.per_conn = parse_num(optarg, 1, ULLONG_MAX / 2, ch);
			break;
		case 'P':
			opt.pipeline = true;
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
	if (opt.rcpts > opt.ucount)
		die("-r %u needs -U %u or more: the recipients of one message are distinct users",
		    opt.rcpts, opt.rcpts);
	if (opt.ucount > 1 && strstr(opt.rcpt_pattern, "%d") == NULL)
		die("-U %u needs a \"%%d\" in -R (\"%s\")", opt.ucount, opt.rcpt_pattern);
	check_address("-F", opt.sender);
	check_address("-R", opt.rcpt_pattern);
	expand(opt.rcpt_pattern, opt.ucount - 1, sample, sizeof(sample));
	check_address("-R", sample);
	load_message(opt.msg_file);
	resolve();

	nconns = opt.conc;
	if (opt.total > 0 && opt.total < nconns)
		nconns = (unsigned)opt.total;
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

	conns = calloc(nconns, sizeof(*conns));
	restart_stack = calloc(nconns, sizeof(*restart_stack));
	restart_tmp = calloc(nconns, sizeof(*restart_tmp));
	g_hist = calloc(HIST_BUCKETS, sizeof(*g_hist));	/* pages come lazily */
	if (conns == NULL || restart_stack == NULL || restart_tmp == NULL || g_hist == NULL)
		die("out of memory");
	for (unsigned i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		conns[i].idx = i;
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));

	if (!opt.quiet) {
		char limit[80], where[256];

		if (opt.duration_set && opt.total > 0)
			snprintf(limit, sizeof(limit), "%g s or %llu messages",
				 opt.duration, opt.total);
		else if (opt.total > 0)
			snprintf(limit, sizeof(limit), "%llu messages", opt.total);
		else
			snprintf(limit, sizeof(limit), "%g s", opt.duration);
		if (opt.unix_path != NULL)
			snprintf(where, sizeof(where), "%s", opt.unix_path);
		else
			snprintf(where, sizeof(where), "%s port %s", opt.host, opt.port);
		fprintf(stderr, "lmtpbench: %s, %u connections, %s, %u recipient%s per "
			"message from %s over %u user%s, %zu-octet message%s%s\n",
			where, nconns, limit, opt.rcpts, opt.rcpts == 1 ? "" : "s",
			opt.rcpt_pattern, opt.ucount, opt.ucount == 1 ? "" : "s",
			g_msg_octets, opt.pipeline ? ", pipelined" : "",
			opt.per_conn ? ", reconnecting" : "");
	}
	return run();
}

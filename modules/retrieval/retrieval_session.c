/* retrieval_session.c - one run of a retrieval source: a POP3 client
 * (RFC 1939, 2449, 2595, 5034) that logs in to the remote, lists its
 * messages and fetches each into the local mailbox.
 *
 * No loss, no duplicates (SPEC.md 6): a message is stored - fsynced and
 * committed, with its UIDL (or digest) noted in the same transaction -
 * before its DELE is sent, and QUIT comes only after the last one.  A run
 * cut short anywhere leaves the remote's copy (DELE counts only at QUIT),
 * and the note stops the next run from storing it again: it is deleted
 * without being fetched (or, with UIDLs, skipped for `keep`).
 *
 *   connect [TLS] greeting [STLS TLS] login  UIDL  LIST
 *   per message:  RETR -> store -> DELE      (or skip / DELE alone)
 *   QUIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "retrieval.h"

enum state {
	ST_CONNECTING,
	ST_TLS,			/* implicit TLS handshake */
	ST_GREETING,
	ST_STLS,		/* STLS sent */
	ST_STLS_TLS,		/* its handshake */
	ST_USER,
	ST_PASS,
	ST_APOP,
	ST_AUTH,		/* AUTH PLAIN sent, "+ " awaited */
	ST_AUTH_DATA,		/* the credentials sent */
	ST_UIDL,		/* the reply's first line */
	ST_UIDL_LIST,		/* its lines */
	ST_LIST,
	ST_LIST_LIST,
	ST_RETR,		/* RETR sent */
	ST_RETR_DATA,		/* the message's octets */
	ST_STORING,		/* delivery_data_finish running */
	ST_DELE,
	ST_QUIT,
};

struct rmsg {
	uint32_t num;
	uint64_t size;
	char *uidl;		/* NULL without UIDL */
	bool seen;
	bool listed;		/* in LIST's answer */
};

struct session {
	struct session *next;
	struct retrieval_source src;
	struct conn *conn;
	enum state state;
	char timestamp[256];	/* the greeting's <...> for APOP */
	bool have_uidl;
	struct rmsg *msgs;
	size_t count, alloc, cur;
	unsigned int fetched;
	struct delivery *d;
	char **forget;		/* digests of messages DELEted this run */
	size_t nforget;
	char soft_error[RETRIEVAL_ERROR_MAX + 1];	/* a message left behind */
	char close_error[RETRIEVAL_ERROR_MAX + 1];	/* lost while storing */
	bool gone;		/* the connection closed while storing */
	char auth_b64[1400];	/* AUTH PLAIN's credentials, until sent */
	char stop_error[RETRIEVAL_ERROR_MAX + 1];	/* why QUIT came early */
};

static struct session *sessions;

static void s_line(void *session, char *line, size_t len);
static void s_too_long(void *session);
static void s_closed(void *session);

static const struct pn_protocol client_proto = {
	.max_line = RETRIEVAL_MAX_LINE,
	.line = s_line,
	.line_too_long = s_too_long,
	.close = s_closed,
};

static const char *tls_label(const struct session *s)
{
	switch (s->src.tls) {
	case RETRIEVAL_TLS_IMPLICIT:
		return "pop3s";
	case RETRIEVAL_TLS_STLS:
		return "pop3+stls";
	case RETRIEVAL_TLS_NONE:
		break;
	}
	return "pop3";
}

static void session_free(struct session *s)
{
	for (struct session **pp = &sessions; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	for (size_t i = 0; i < s->count; i++)
		free(s->msgs[i].uidl);
	free(s->msgs);
	for (size_t i = 0; i < s->nforget; i++)
		free(s->forget[i]);
	free(s->forget);
	if (s->d != NULL)
		delivery_free(&s->d);
	explicit_bzero(&s->src, sizeof(s->src));
	explicit_bzero(s->auth_b64, sizeof(s->auth_b64));
	free(s);
}

/* The run is over: tell the scheduler, drop the connection. */
static void end(struct session *s, const char *error)
{
	if (s->conn != NULL) {
		conn_abort(s->conn);
		s->conn = NULL;
	}
	if (s->d != NULL && (s->state == ST_RETR || s->state == ST_RETR_DATA))
		delivery_data_abort(s->d);
	if (error == NULL && s->soft_error[0] != '\0')
		error = s->soft_error;
	retrieval_run_done(&s->src, error, s->fetched);
	session_free(s);
}

static void fail(struct session *s, const char *fmt, ...) PN_PRINTF(2, 3);
static void fail(struct session *s, const char *fmt, ...)
{
	char why[RETRIEVAL_ERROR_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	end(s, why);
}

static void send_cmd(struct session *s, enum state next, const char *fmt, ...)
	PN_PRINTF(3, 4);
static void send_cmd(struct session *s, enum state next, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	conn_printf(s->conn, "%s\r\n", buf);
	explicit_bzero(buf, sizeof(buf));
	s->state = next;
}

/* The text of a reply, cleaned for the log and `retrieval show`. */
static const char *reply_text(const char *line)
{
	static char text[200];
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)line;
	     *p != '\0' && n < sizeof(text) - 1; p++)
		text[n++] = *p >= 0x20 && *p < 0x7f ? (char)*p : '?';
	text[n] = '\0';
	return text;
}

static bool is_ok(const char *line)
{
	return strncmp(line, "+OK", 3) == 0 && (line[3] == '\0' || line[3] == ' ');
}

static void send_quit(struct session *s)
{
	send_cmd(s, ST_QUIT, "QUIT");
}

/* End the run with a failure of ours, politely: QUIT, so that the
 * deletions of the messages already stored happen. */
static void stop(struct session *s, const char *fmt, ...) PN_PRINTF(2, 3);
static void stop(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->stop_error, sizeof(s->stop_error), fmt, ap);
	va_end(ap);
	send_quit(s);
}

static void next_message(struct session *s);

/* ---- login ---- */

static void login(struct session *s)
{
	const char *error;
	char *out = NULL;
	size_t outlen = 0;
	int len;

	switch (s->src.auth) {
	case RETRIEVAL_AUTH_USER:
		send_cmd(s, ST_USER, "USER %s", s->src.user);
		return;
	case RETRIEVAL_AUTH_APOP: {
		char hex[33];

		if (s->timestamp[0] == '\0') {
			fail(s, "the server offers no APOP (no <timestamp> in its greeting)");
			return;
		}
		apop_digest(s->timestamp, s->src.password, hex);
		send_cmd(s, ST_APOP, "APOP %s %s", s->src.user, hex);
		return;
	}
	case RETRIEVAL_AUTH_PLAIN:
		if (sasl_client_initial("pop", s->src.host, "PLAIN", s->src.user,
					s->src.password, &out, &outlen,
					&error) < 0) {
			fail(s, "%s", error);
			return;
		}
		/* sent after the server's "+ ": RFC 5034 servers all take
		 * that, an initial response only some */
		len = base64_encode(out, outlen, s->auth_b64, sizeof(s->auth_b64));
		explicit_bzero(out, outlen);
		free(out);
		if (len < 0) {
			fail(s, "the credentials are too long for AUTH PLAIN");
			return;
		}
		send_cmd(s, ST_AUTH, "AUTH PLAIN");
		return;
	}
}

static void after_tls(void *session, const char *error)
{
	struct session *s = session;

	if (error != NULL) {
		/* the connection is gone with it (no close callback) */
		s->conn = NULL;
		fail(s, "TLS with %s:%u failed: %s", s->src.host, s->src.port,
		     error);
		return;
	}
	if (s->state == ST_TLS) {
		s->state = ST_GREETING;
		return;
	}
	login(s);	/* after STLS */
}

static void start_tls(struct session *s, enum state st)
{
	const char *error;
	const char *ca = retrieval.set->ca_file;

	s->state = st;
	if (conn_starttls_client(s->conn, s->src.host, s->src.verify,
				 ca[0] != '\0' ? ca : NULL, after_tls,
				 &error) < 0)
		fail(s, "TLS with %s:%u: %s", s->src.host, s->src.port, error);
}

static void greeting(struct session *s, const char *line)
{
	const char *lt, *gt;

	if (!is_ok(line)) {
		fail(s, "the server refused us: %s", reply_text(line));
		return;
	}
	s->timestamp[0] = '\0';
	if ((lt = strchr(line, '<')) != NULL && (gt = strchr(lt, '>')) != NULL &&
	    (size_t)(gt - lt + 1) < sizeof(s->timestamp))
		snprintf(s->timestamp, sizeof(s->timestamp), "%.*s",
			 (int)(gt - lt + 1), lt);
	if (s->src.tls == RETRIEVAL_TLS_STLS) {
		send_cmd(s, ST_STLS, "STLS");
		return;
	}
	login(s);
}

/* ---- the listing ---- */

static struct rmsg *find_msg(struct session *s, uint32_t num)
{
	/* LIST and UIDL answer in message order: the last one is the
	 * usual match, else a binary search */
	size_t lo = 0, hi = s->count;

	if (s->count > 0 && s->msgs[s->count - 1].num == num)
		return &s->msgs[s->count - 1];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->msgs[mid].num == num)
			return &s->msgs[mid];
		if (s->msgs[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct rmsg *add_msg(struct session *s, uint32_t num)
{
	struct rmsg *m;

	if (s->count > 0 && s->msgs[s->count - 1].num >= num)
		return NULL;	/* out of order or twice */
	if (s->count == s->alloc) {
		size_t n = s->alloc ? s->alloc * 2 : 64;
		struct rmsg *p = realloc(s->msgs, n * sizeof(*p));

		if (p == NULL)
			return NULL;
		s->msgs = p;
		s->alloc = n;
	}
	m = &s->msgs[s->count++];
	memset(m, 0, sizeof(*m));
	m->num = num;
	return m;
}

/* "N rest": N into *num, the rest after one space. */
static const char *split_num(const char *line, uint32_t *num)
{
	char buf[16];
	const char *sp = strchr(line, ' ');
	size_t n = sp != NULL ? (size_t)(sp - line) : 0;

	if (n == 0 || n >= sizeof(buf))
		return NULL;
	memcpy(buf, line, n);
	buf[n] = '\0';
	if (str_to_uint32(buf, num) < 0 || *num == 0)
		return NULL;
	while (*sp == ' ')
		sp++;
	return sp;
}

static bool uidl_ok(const char *u)
{
	size_t len = strlen(u);

	/* (one starting with '#' is taken too: the notes of digests start
	 * so, and a UIDL that happens to look like one is only never
	 * tidied away) */
	if (len == 0 || len > UIDL_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return false;
	return true;
}

static void uidl_line(struct session *s, const char *line)
{
	const char *rest;
	struct rmsg *m;
	uint32_t num;

	if ((rest = split_num(line, &num)) == NULL || !uidl_ok(rest) ||
	    (m = add_msg(s, num)) == NULL) {
		fail(s, "a bad UIDL line from the server: %s", reply_text(line));
		return;
	}
	if ((m->uidl = strdup(rest)) == NULL)
		fail(s, "out of memory");
}

static void list_line(struct session *s, const char *line)
{
	const char *rest;
	char buf[24];
	struct rmsg *m;
	uint32_t num;
	size_t n;

	if ((rest = split_num(line, &num)) == NULL) {
		fail(s, "a bad LIST line from the server: %s", reply_text(line));
		return;
	}
	n = strcspn(rest, " ");
	if (n == 0 || n >= sizeof(buf)) {
		fail(s, "a bad LIST line from the server: %s", reply_text(line));
		return;
	}
	memcpy(buf, rest, n);
	buf[n] = '\0';
	if (s->have_uidl)
		m = find_msg(s, num);
	else
		m = add_msg(s, num);
	if (m == NULL || str_to_uint64(buf, &m->size) < 0) {
		fail(s, "a bad LIST line from the server: %s", reply_text(line));
		return;
	}
	m->listed = true;
}

/* The listing is complete: which messages this source stored already. */
static void listed(struct session *s)
{
	char **keys;
	bool *seen;
	const char *error;
	size_t n = 0;

	if (!s->have_uidl || s->count == 0) {
		s->cur = 0;
		next_message(s);
		return;
	}
	keys = calloc(s->count, sizeof(*keys));
	seen = calloc(s->count, sizeof(*seen));
	if (keys == NULL || seen == NULL) {
		free(keys);
		free(seen);
		fail(s, "out of memory");
		return;
	}
	for (size_t i = 0; i < s->count; i++)
		keys[n++] = s->msgs[i].uidl;
	if (retrieval_seen_lookup(s->src.id, keys, n, seen, &error) < 0) {
		free(keys);
		free(seen);
		fail(s, "cannot read what was fetched before: %s", error);
		return;
	}
	for (size_t i = 0; i < s->count; i++)
		s->msgs[i].seen = seen[i];
	/* the remote's full listing: notes of messages gone from it go */
	if (retrieval_seen_prune(s->src.id, keys, n, &error) < 0)
		log_msg(LOG_WARNING, "RETRIEVAL", "%llu: cannot tidy its notes: %s",
			(unsigned long long)s->src.id, error);
	free(keys);
	free(seen);
	s->cur = 0;
	next_message(s);
}

/* ---- fetching ---- */

static void on_data(void *session, const void *data, size_t len)
{
	struct session *s = session;

	if (s->d != NULL)
		delivery_data_write(s->d, data, len);
}

static void stored(void *ctx, unsigned int delivered)
{
	struct session *s = ctx;
	struct rmsg *m = &s->msgs[s->cur];
	enum delivery_status st;
	const char *why;
	char reason[300];
	bool dup;

	(void)delivered;
	st = delivery_result(s->d, 0, &why);
	dup = delivery_was_duplicate(s->d);
	if (st == DELIVERY_OK && !s->have_uidl && !s->src.keep) {
		char *k = strdup(delivery_retrieval_key(s->d));
		char **p = realloc(s->forget, (s->nforget + 1) * sizeof(*p));

		if (p != NULL)
			s->forget = p;
		if (k != NULL && p != NULL)
			s->forget[s->nforget++] = k;
		else
			free(k);
	}
	/* the reason lives in the delivery: copied before it goes */
	snprintf(reason, sizeof(reason), "%s", why);
	delivery_free(&s->d);
	if (s->gone) {
		if (st == DELIVERY_OK && !dup)
			s->fetched++;
		end(s, s->close_error);
		return;
	}
	switch (st) {
	case DELIVERY_OK:
		if (dup)
			log_msg(LOG_INFO, "RETRIEVAL", "%llu: message %u stored before",
				(unsigned long long)s->src.id, m->num);
		else
			s->fetched++;
		if (s->src.keep) {
			s->cur++;
			next_message(s);
		} else {
			send_cmd(s, ST_DELE, "DELE %u", m->num);
		}
		break;
	case DELIVERY_TOO_BIG:
	case DELIVERY_BAD_MESSAGE:
		/* this one stays on the server; the others come */
		snprintf(s->soft_error, sizeof(s->soft_error),
			 "message %u left on the server: %s", m->num, reason);
		s->cur++;
		next_message(s);
		break;
	default:
		/* a full mailbox, a disk fault: stop, the rest waits; QUIT
		 * makes the deletions of what was stored happen */
		stop(s, "cannot store message %u: %s", m->num, reason);
		break;
	}
	/* what was just queued goes out, and the reply comes in */
	conn_release(s->conn);
}

static void on_data_end(void *session)
{
	struct session *s = session;

	s->state = ST_STORING;
	/* until it is stored: the reply to what follows is written from
	 * the delivery's callback, and conn_release sends it */
	conn_hold(s->conn);
	delivery_data_finish(s->d, stored, s);
}

/* Before RETR: the message's delivery, so that a full mailbox is known
 * before a single octet comes.  false: the run has ended. */
static bool fetch_begin(struct session *s)
{
	struct rmsg *m = &s->msgs[s->cur];
	enum delivery_status st;
	const char *why;
	char trace[RETRIEVAL_USER_MAX + RETRIEVAL_HOST_MAX + UIDL_MAX + 160];
	char date[64];
	time_t now = (time_t)pn_now();
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(trace, sizeof(trace),
		 "X-Retrieved-From: %s://%s@%s:%u (retrieval %llu%s%s); %s\r\n",
		 tls_label(s), s->src.user, s->src.host, s->src.port,
		 (unsigned long long)s->src.id, m->uidl ? ", UIDL " : "",
		 m->uidl ? m->uidl : "", date);
	s->d = delivery_new("", NULL, retrieval.set->max_message_size);
	st = delivery_add_mailbox(s->d, &s->src.account, s->src.mailbox, trace,
				  m->size, &why);
	if (st == DELIVERY_OK) {
		delivery_set_retrieval_key(s->d, s->src.id, m->uidl);
		st = delivery_data_begin(s->d, &why);
	}
	if (st != DELIVERY_OK) {
		char reason[300];

		snprintf(reason, sizeof(reason), "%s", why);
		delivery_free(&s->d);
		stop(s, "cannot store message %u: %s", m->num, reason);
		return false;
	}
	send_cmd(s, ST_RETR, "RETR %u", m->num);
	return true;
}

static void next_message(struct session *s)
{
	while (s->cur < s->count) {
		struct rmsg *m = &s->msgs[s->cur];

		if (!m->listed) {
			/* in UIDL's answer but not LIST's: gone meanwhile */
			s->cur++;
			continue;
		}
		if (m->seen) {
			if (s->src.keep) {
				s->cur++;
				continue;
			}
			/* stored by a run that ended before its DELE */
			send_cmd(s, ST_DELE, "DELE %u", m->num);
			return;
		}
		if (m->size > retrieval.set->max_message_size) {
			snprintf(s->soft_error, sizeof(s->soft_error),
				 "message %u left on the server: %llu octets, more than retrieval.max_message_size",
				 m->num, (unsigned long long)m->size);
			s->cur++;
			continue;
		}
		(void)fetch_begin(s);
		return;
	}
	send_quit(s);
}

/* ---- replies ---- */

static void s_line(void *session, char *line, size_t len)
{
	struct session *s = session;
	const char *error;

	(void)len;
	switch (s->state) {
	case ST_CONNECTING:
	case ST_TLS:
	case ST_STLS_TLS:
	case ST_RETR_DATA:
	case ST_STORING:
		/* nothing is expected now */
		fail(s, "the server sent something unasked: %s", reply_text(line));
		return;
	case ST_GREETING:
		greeting(s, line);
		return;
	case ST_STLS:
		if (!is_ok(line)) {
			fail(s, "the server refused STLS: %s", reply_text(line));
			return;
		}
		start_tls(s, ST_STLS_TLS);
		return;
	case ST_USER:
		if (!is_ok(line)) {
			fail(s, "authentication failed: %s", reply_text(line));
			return;
		}
		send_cmd(s, ST_PASS, "PASS %s", s->src.password);
		return;
	case ST_AUTH:
		if (line[0] != '+' || (line[1] != ' ' && line[1] != '\0') ||
		    is_ok(line)) {
			fail(s, "authentication failed: %s", reply_text(line));
			return;
		}
		conn_printf(s->conn, "%s\r\n", s->auth_b64);
		explicit_bzero(s->auth_b64, sizeof(s->auth_b64));
		s->state = ST_AUTH_DATA;
		return;
	case ST_PASS:
	case ST_APOP:
	case ST_AUTH_DATA:
		if (!is_ok(line)) {
			/* RFC 2449 8.1, RFC 3206: a refusal for now is no wrong
			 * password (the next run tries again) */
			if (strstr(line, "[IN-USE]") != NULL ||
			    strstr(line, "[LOGIN-DELAY]") != NULL ||
			    strstr(line, "[SYS/TEMP]") != NULL)
				fail(s, "the server refused the login for now: %s",
				     reply_text(line));
			else
				fail(s, "authentication failed: %s", reply_text(line));
			return;
		}
		explicit_bzero(s->src.password, sizeof(s->src.password));
		send_cmd(s, ST_UIDL, "UIDL");
		return;
	case ST_UIDL:
		if (is_ok(line)) {
			s->have_uidl = true;
			s->state = ST_UIDL_LIST;
			return;
		}
		if (s->src.keep) {
			fail(s, "the server does not support UIDL, which keeping mail on it needs: %s",
			     reply_text(line));
			return;
		}
		/* fetch and delete; digests keep a message from being
		 * stored twice */
		s->have_uidl = false;
		send_cmd(s, ST_LIST, "LIST");
		return;
	case ST_UIDL_LIST:
		if (strcmp(line, ".") == 0) {
			send_cmd(s, ST_LIST, "LIST");
			return;
		}
		uidl_line(s, line[0] == '.' ? line + 1 : line);
		return;
	case ST_LIST:
		if (!is_ok(line)) {
			fail(s, "the server refused LIST: %s", reply_text(line));
			return;
		}
		s->state = ST_LIST_LIST;
		return;
	case ST_LIST_LIST:
		if (strcmp(line, ".") == 0) {
			listed(s);
			return;
		}
		list_line(s, line[0] == '.' ? line + 1 : line);
		return;
	case ST_RETR:
		if (!is_ok(line)) {
			delivery_data_abort(s->d);
			delivery_free(&s->d);
			fail(s, "the server refused RETR %u: %s",
			     s->msgs[s->cur].num, reply_text(line));
			return;
		}
		s->state = ST_RETR_DATA;
		conn_read_dotted(s->conn, on_data, on_data_end);
		return;
	case ST_DELE:
		if (!is_ok(line)) {
			fail(s, "the server refused DELE %u: %s",
			     s->msgs[s->cur].num, reply_text(line));
			return;
		}
		s->cur++;
		next_message(s);
		return;
	case ST_QUIT:
		if (!is_ok(line)) {
			/* RFC 1939 6: the deletions did not happen */
			fail(s, "the server did not remove the fetched messages at QUIT: %s",
			     reply_text(line));
			return;
		}
		/* deleted for good: their digests are no use any more */
		if (s->nforget > 0 &&
		    retrieval_seen_forget(s->src.id, s->forget, s->nforget,
					  &error) < 0)
			log_msg(LOG_WARNING, "RETRIEVAL", "%llu: cannot tidy its notes: %s",
				(unsigned long long)s->src.id, error);
		end(s, s->stop_error[0] != '\0' ? s->stop_error : NULL);
		return;
	}
}

static void s_too_long(void *session)
{
	struct session *s = session;

	fail(s, "the server sent a line longer than %u octets",
	     RETRIEVAL_MAX_LINE);
}

static const char *state_name(enum state st)
{
	switch (st) {
	case ST_CONNECTING:
	case ST_TLS:
	case ST_GREETING:
		return "before its greeting";
	case ST_STLS:
	case ST_STLS_TLS:
		return "during STLS";
	case ST_USER:
	case ST_PASS:
	case ST_APOP:
	case ST_AUTH:
	case ST_AUTH_DATA:
		return "during the login";
	case ST_UIDL:
	case ST_UIDL_LIST:
	case ST_LIST:
	case ST_LIST_LIST:
		return "while listing the messages";
	case ST_RETR:
	case ST_RETR_DATA:
		return "during RETR";
	case ST_STORING:
		return "while the message was being stored";
	case ST_DELE:
		return "after DELE";
	case ST_QUIT:
		return "after QUIT";
	}
	return "";
}

static void s_closed(void *session)
{
	struct session *s = session;

	s->conn = NULL;
	if (s->state == ST_STORING) {
		/* the message is being made durable: wait for it */
		snprintf(s->close_error, sizeof(s->close_error),
			 "the server closed the connection %s", state_name(s->state));
		s->gone = true;
		return;
	}
	if ((s->state == ST_RETR || s->state == ST_RETR_DATA) && s->d != NULL) {
		delivery_data_abort(s->d);
		delivery_free(&s->d);
	}
	fail(s, "the server closed the connection %s (or it timed out after %u s)",
	     state_name(s->state), retrieval.set->timeout);
}

static void connected(void *session, const char *error)
{
	struct session *s = session;

	if (error != NULL) {
		s->conn = NULL;
		fail(s, "cannot connect to %s:%u: %s", s->src.host, s->src.port,
		     error);
		return;
	}
	conn_set_timeout(s->conn, retrieval.set->timeout);
	if (s->src.tls == RETRIEVAL_TLS_IMPLICIT) {
		start_tls(s, ST_TLS);
		return;
	}
	s->state = ST_GREETING;
}

void retrieval_session_start(const struct retrieval_source *src)
{
	struct session *s = calloc(1, sizeof(*s));
	const char *error;
	char port[8];
	bool allowed;

	retrieval.running++;
	if (s == NULL) {
		retrieval_run_done(src, "out of memory", 0);
		return;
	}
	s->src = *src;
	s->next = sessions;
	sessions = s;
	s->state = ST_CONNECTING;
	if (account_service_allowed(&src->account, "retrieval", &allowed,
				    &error) < 0) {
		fail(s, "cannot read the account's policies: %s", error);
		return;
	}
	if (!allowed) {
		fail(s, "retrieval is switched off for %s@%s (policy retrieval = no)",
		     src->account.name, src->account.domain);
		return;
	}
	log_msg(LOG_INFO, "RETRIEVAL", "%llu %s@%s: fetching from %s@%s:%u (%s)",
		(unsigned long long)src->id, src->account.name,
		src->account.domain, src->user, src->host, src->port,
		tls_label(s));
	snprintf(port, sizeof(port), "%u", src->port);
	s->conn = conn_connect(&postern_module, src->host, port, &client_proto,
			       s, retrieval.set->timeout, connected, &error);
	if (s->conn == NULL)
		fail(s, "cannot connect to %s:%u: %s", src->host, src->port, error);
}

void retrieval_session_stop_all(void)
{
	while (sessions != NULL) {
		struct session *s = sessions;

		if (s->state == ST_STORING) {
			/* not aborted: stored all the same (delivery_free while
			 * finishing), and noted, so the next run deletes it */
			s->state = ST_QUIT;
		}
		end(s, "the server is shutting down");
	}
}

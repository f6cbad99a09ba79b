/* submit.c - a message submitted by a logged-in user (module API
 * submission_*, SPEC.md 5): the header is gathered until its empty line
 * and turned into the envelope and the header to relay
 * (mail/submission.c), then the message is written, with a Received field
 * on top, as a body file; at the end the file is fsynced and the queue
 * entry committed, and only then is the user told it was sent.
 *
 * Whatever is wrong (no recipients, a broken header, too big) is found as
 * the data comes but told only after the final ".", so the client's
 * message is read to its end and the session goes on. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/offload.h"
#include "lib/xalloc.h"
#include "mail/header_gen.h"
#include "mail/policy.h"
#include "mail/submission.h"
#include "store/body.h"
#include "store/store_queue.h"
#include "store/store_settings.h"

struct submission {
	struct account user;
	char sender[QUEUE_ADDRESS_MAX + 1];
	char client_ip[IP_TEXT_MAX];
	uint64_t max_size;
	unsigned int max_rcpts;
	struct buf header;		/* gathered until its empty line */
	bool header_done;
	struct submission_header sh;
	struct body_writer *w;
	uint64_t received;		/* octets the client sent */
	enum submission_status status;	/* SUBMIT_OK until something failed */
	char error[256];
	time_t started;
	/* submission_finish: queued beside the loop (lib/offload.h) */
	submission_done_fn *done;
	void *done_ctx;
	uint64_t id;
	bool in_flight;		/* between offload_run and its done */
	bool orphaned;		/* freed meanwhile: free at its done */
};

static const struct submission_limits *limits;

void submission_configure(const struct submission_limits *l)
{
	limits = l;
}

const struct submission_limits *submission_current_limits(void)
{
	return limits;
}

static void fail(struct submission *s, enum submission_status st,
		 const char *fmt, ...) PN_PRINTF(3, 4);
static void fail(struct submission *s, enum submission_status st,
		 const char *fmt, ...)
{
	va_list ap;

	if (s->status != SUBMIT_OK)
		return;		/* the first reason is the one told */
	s->status = st;
	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	if (s->w != NULL) {
		body_writer_abort(s->w);
		free(s->w);
		s->w = NULL;
	}
}

static const char *hostname(void)
{
	static char name[256];

	if (name[0] == '\0' && (gethostname(name, sizeof(name) - 1) < 0 ||
				name[0] == '\0'))
		snprintf(name, sizeof(name), "localhost");
	return name;
}

/* relay.max_messages_per_hour counts per account, across sessions and
 * worker processes: the settings database keeps "START COUNT", the
 * submissions queued in the hour from START. */
#define XMIT_WINDOW_KEY "_xmit_window"
#define XMIT_WINDOW 3600

struct xmit_window {
	uint64_t start;
	unsigned int count;
};

static void window_cb(enum setting_level level, const char *key,
		      const char *value, void *ctx)
{
	struct xmit_window *w = ctx;
	unsigned long long start;
	unsigned int count;

	if (level == SETTING_ACCOUNT && strcmp(key, XMIT_WINDOW_KEY) == 0 &&
	    sscanf(value, "%llu %u", &start, &count) == 2) {
		w->start = start;
		w->count = count;
	}
}

/* The account's window as of now (a past one reads as empty). */
static int window_get(const struct account *user, struct xmit_window *w,
		      const char **error_r)
{
	uint64_t now = (uint64_t)time(NULL);

	memset(w, 0, sizeof(*w));
	if (store_settings_for(user->domain, user->name, window_cb, w, error_r) < 0)
		return -1;
	if (w->start > now || now - w->start >= XMIT_WINDOW) {
		w->start = now;
		w->count = 0;
	}
	return 0;
}

/* On the offload thread, after the entry is queued: one more. */
static void window_count(const struct submission *s)
{
	struct xmit_window w;
	const char *error;
	char v[48];

	if (limits == NULL || limits->max_per_hour == 0)
		return;
	if (window_get(&s->user, &w, &error) == 0) {
		snprintf(v, sizeof(v), "%llu %u", (unsigned long long)w.start, w.count + 1);
		if (store_setting_set(s->user.domain, s->user.name, XMIT_WINDOW_KEY, v,
				      &error) == 0)
			return;
	}
	log_msg(LOG_WARNING, "SMTP", "cannot count a submission of %s: %s", s->sender,
		error);
}

struct submission *submission_new(const struct account *user,
				  const char *client_ip, const char **error_r)
{
	struct submission *s;
	struct policy p;

	if (limits == NULL || !limits->enabled) {
		*error_r = "sending mail is not enabled on this server";
		return NULL;
	}
	if (policy_load(user->domain, user->name, &p, error_r) < 0)
		return NULL;
	if (!policy_allows(&p, POLICY_XMIT)) {
		*error_r = p.from[POLICY_XMIT] == POLICY_FROM_SERVER ?
			   "sending mail is not enabled on this server" :
			   "sending mail is not enabled for this account";
		return NULL;
	}
	if (limits->max_per_hour > 0) {
		static _Thread_local char err[96];
		struct xmit_window w;

		if (window_get(user, &w, error_r) < 0)
			return NULL;
		if (w.count >= limits->max_per_hour) {
			snprintf(err, sizeof(err),
				 "[SYS/TEMP] At most %u message%s an hour: try again later",
				 limits->max_per_hour, limits->max_per_hour == 1 ? "" : "s");
			*error_r = err;
			return NULL;
		}
	}
	if (strlen(user->name) + 1 + strlen(user->domain) > QUEUE_ADDRESS_MAX) {
		/* RFC 5321 4.5.3.1.3: no path is longer */
		*error_r = "this account's address is too long to send mail from";
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->user = *user;
	snprintf(s->sender, sizeof(s->sender), "%.*s@%s",
		 (int)(QUEUE_ADDRESS_MAX - 1 - strlen(user->domain)), user->name,
		 user->domain);
	snprintf(s->client_ip, sizeof(s->client_ip), "%s", client_ip);
	s->max_size = limits->max_message_size;
	s->max_rcpts = limits->max_recipients;
	s->started = time(NULL);
	/* the header, its empty line, and what may follow it in one write */
	buf_init(&s->header, SUBMISSION_HEADER_MAX + 65536);
	return s;
}

void submission_free(struct submission **sp)
{
	struct submission *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	if (s->in_flight) {
		/* the thread has it: freed when its job is done */
		s->orphaned = true;
		return;
	}
	if (s->w != NULL) {
		body_writer_abort(s->w);
		free(s->w);
	}
	submission_header_free(&s->sh);
	buf_free(&s->header);
	free(s);
}

/* Where the header ends in what was gathered: after its empty line. */
static size_t header_end(const struct buf *b)
{
	for (size_t i = 0; i + 1 < b->len; i++) {
		if (b->data[i] != '\n')
			continue;
		if (b->data[i + 1] == '\n')
			return i + 2;
		if (b->data[i + 1] == '\r' && i + 2 < b->len && b->data[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static void write_out(struct submission *s, const void *data, size_t len)
{
	const char *error;

	if (s->w == NULL || len == 0 ||
	    body_writer_write(s->w, data, len, &error) == 0)
		return;
	if (s->w->too_big)
		fail(s, SUBMIT_REFUSED, "message larger than the limit of %llu octets",
		     (unsigned long long)s->max_size);
	else
		fail(s, SUBMIT_TEMPFAIL, "%s", error);
}

/* The whole header is here (hdr_len octets of s->header): the envelope,
 * then the file begins with Received and the rewritten header. */
static void header_complete(struct submission *s, size_t hdr_len)
{
	char date[HEADER_DATE_SIZE];
	const char *error;

	s->header_done = true;
	if (submission_header_process(s->header.data, hdr_len, s->sender,
				      hostname(), s->started, &s->sh, &error) < 0) {
		fail(s, SUBMIT_REFUSED, "%s", error);
		return;
	}
	if (s->sh.rcpt_count > s->max_rcpts) {
		fail(s, SUBMIT_REFUSED, "too many recipients (%zu, at most %u)",
		     s->sh.rcpt_count, s->max_rcpts);
		return;
	}
	s->w = xmalloc(sizeof(*s->w));
	/* the limit counts what the client sent; our Received comes on top */
	if (body_writer_open(s->w, s->max_size + 1024, &error) < 0) {
		free(s->w);
		s->w = NULL;
		fail(s, SUBMIT_TEMPFAIL, "%s", error);
		return;
	}
	if (header_gen_date(s->started, date) < 0)
		snprintf(date, sizeof(date), "Thu, 01 Jan 1970 00:00:00 +0000");
	/* RFC 5321 4.4: the trace field of the server that took it; the
	 * client as an address literal, "[IPv6:...]" for IPv6 (4.1.3) */
	char received[ADDRESS_MAX + IP_TEXT_MAX + 400];
	int n = snprintf(received, sizeof(received),
			 "Received: from [%s%s] (authenticated as %s)\r\n"
			 "\tby %s (Postern) with XTND-XMIT;\r\n\t%s\r\n",
			 strchr(s->client_ip, ':') != NULL ? "IPv6:" : "",
			 s->client_ip, s->sender, hostname(), date);

	write_out(s, received, (size_t)n);
	write_out(s, s->sh.header.data, s->sh.header.len);
	write_out(s, s->header.data + hdr_len, s->header.len - hdr_len);
	buf_free(&s->header);
}

void submission_write(struct submission *s, const void *data, size_t len)
{
	size_t end;

	s->received += len;
	if (s->status != SUBMIT_OK)
		return;		/* read to the end, told after it */
	if (s->received > s->max_size) {
		fail(s, SUBMIT_REFUSED, "message larger than the limit of %llu octets",
		     (unsigned long long)s->max_size);
		return;
	}
	if (s->header_done) {
		write_out(s, data, len);
		return;
	}
	if (buf_append(&s->header, data, len) < 0) {
		fail(s, SUBMIT_REFUSED, "the header is longer than %d octets",
		     SUBMISSION_HEADER_MAX);
		return;
	}
	if ((end = header_end(&s->header)) > 0)
		header_complete(s, end);
	else if (s->header.len > SUBMISSION_HEADER_MAX)
		fail(s, SUBMIT_REFUSED, "the header is longer than %d octets",
		     SUBMISSION_HEADER_MAX);
}

static int queue_it(struct submission *s, uint64_t *id_r, const char **error_r)
{
	struct queue_entry e;
	struct body_info info;
	int ret;

	if (body_writer_finish(s->w, &info, error_r) < 0) {
		free(s->w);
		s->w = NULL;
		return -1;
	}
	free(s->w);
	s->w = NULL;
	store_queue_entry_init(&e, s->sh.rcpt_count);
	e.created = (uint64_t)s->started;
	e.next_attempt = 0;
	snprintf(e.sender, sizeof(e.sender), "%s", s->sender);
	snprintf(e.account, sizeof(e.account), "%s", s->sender);
	snprintf(e.client_ip, sizeof(e.client_ip), "%s", s->client_ip);
	memcpy(e.body_id, info.id, BODY_ID_LEN);
	e.body_size = info.size;
	for (size_t i = 0; i < s->sh.rcpt_count; i++)
		snprintf(e.rcpts[i].address, sizeof(e.rcpts[i].address), "%s",
			 s->sh.rcpts[i]);
	ret = store_queue_add(&e, id_r, error_r);
	store_queue_entry_free(&e);
	if (ret < 0)
		body_unlink(info.id);
	return ret;
}

/* On the offload thread: the body fsynced, the queue entry committed. */
static void queue_work(void *ctx)
{
	struct submission *s = ctx;
	const char *error;

	if (queue_it(s, &s->id, &error) < 0)
		fail(s, SUBMIT_TEMPFAIL, "%s", error);
	else
		window_count(s);
}

/* Back on the loop: the log and the answer. */
static void queue_done(void *ctx)
{
	struct submission *s = ctx;
	char text[300];

	s->in_flight = false;
	if (s->orphaned) {
		/* the client went; the message is queued all the same */
		if (s->status == SUBMIT_OK)
			log_msg(LOG_INFO, "SMTP",
				"queue %llu: submitted by %s from [%s] (the client left before the answer)",
				(unsigned long long)s->id, s->sender, s->client_ip);
		submission_free(&s);
		return;
	}
	if (s->status != SUBMIT_OK) {
		log_msg(s->status == SUBMIT_TEMPFAIL ? LOG_ERROR : LOG_NOTICE, "SMTP",
			"submission by %s from [%s] not queued: %s", s->sender,
			s->client_ip, s->error);
		s->done(s->done_ctx, s->status, s->error);
		return;
	}
	log_msg(LOG_INFO, "SMTP",
		"queue %llu: submitted by %s from [%s], %zu recipient%s, %llu octets",
		(unsigned long long)s->id, s->sender, s->client_ip, s->sh.rcpt_count,
		s->sh.rcpt_count == 1 ? "" : "s", (unsigned long long)s->received);
	snprintf(text, sizeof(text), "queued as %llu", (unsigned long long)s->id);
	s->done(s->done_ctx, SUBMIT_OK, text);
}

void submission_finish(struct submission *s, submission_done_fn *done, void *ctx)
{
	/* a message that is all header (no empty line) */
	if (s->status == SUBMIT_OK && !s->header_done)
		header_complete(s, s->header.len);
	if (s->status == SUBMIT_OK && s->w == NULL)
		fail(s, SUBMIT_TEMPFAIL, "nothing to queue");
	s->done = done;
	s->done_ctx = ctx;
	if (s->status != SUBMIT_OK) {
		queue_done(s);
		return;
	}
	s->in_flight = true;
	offload_run(queue_work, queue_done, s);
}

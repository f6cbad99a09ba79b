/* dsn.c - the bounce: RFC 3464 delivery status in an RFC 6522 report. */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mail/dsn.h"
#include "mail/dsn_text.h"
#include "mail/header_gen.h"

#define ADDRESS_MAX 254		/* RFC 5321 4.5.3.1.3 */
#define HOSTNAME_MAX 253	/* RFC 1035, without the final dot */
#define RANDOM_OCTETS 16	/* 128 bits: Message-ID and boundary */
#define BOUNDARY_SIZE (2 + 2 * RANDOM_OCTETS + 1)
/* A boundary found in a part is drawn again; with 128 random bits the
 * second draw is already for an attacker who can read our random bytes. */
#define BOUNDARY_TRIES 8
#define TEXT_WIDTH 76		/* the explanation's lines, CRLF not counted */
#define TEXT_INDENT "    "

static _Thread_local char errbuf[256];

/* What part 3 returns of the original. */
enum returned {
	RETURN_HEADER,		/* the default */
	RETURN_MESSAGE,		/* include_body, cut or whole */
	RETURN_HEADER_ONLY,	/* include_body, but the body cannot be carried */
};

struct dsn_ctx {
	const struct dsn_message *m;
	const struct dsn_recipient *rcpts;
	size_t count;
	struct buf text;	/* part 1 */
	struct buf report;	/* part 2 */
	struct buf original;	/* part 3, encoded */
	struct buf tmp;		/* one cleaned string at a time */
	enum returned returned;
	const char *original_cte;
	bool body_cut;
	size_t body_returned;	/* octets of body in part 3 */
	char boundary[BOUNDARY_SIZE];
};

static int too_long(const char **error_r)
{
	*error_r = "the bounce would be longer than its buffer's maximum";
	return -1;
}

static bool is_hostname(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= HOSTNAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == len;
}

/* The To of the bounce, written as it is: it must be one address. */
static bool is_sender(const char *s)
{
	size_t len = strlen(s);

	if (len > ADDRESS_MAX || strchr(s, '@') == NULL)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 32 || c > 126 || c == '<' || c == '>')
			return false;
	}
	return true;
}

/* RFC 3463 2: class "." subject "." detail, 1-3 digits each; a failure
 * is class 5, or class 4 that lasted too long. */
static bool is_failure_status(const char *s)
{
	size_t n;

	if ((s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	s += 2;
	for (int part = 0; part < 2; part++) {
		n = strspn(s, "0123456789");
		if (n < 1 || n > 3)
			return false;
		s += n;
		if (part == 0 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

static int check_args(const struct dsn_ctx *c, const char **error_r)
{
	const struct dsn_message *m = c->m;

	if (m->sender != NULL && m->sender[0] == '\0') {
		/* RFC 5321 4.5.5: a bounce of a bounce could loop forever */
		*error_r = "no bounce for the null sender";
		return -1;
	}
	if (m->sender == NULL || !is_sender(m->sender)) {
		*error_r = "the sender is not an address (an internal error)";
		return -1;
	}
	if (m->reporting_mta == NULL || !is_hostname(m->reporting_mta)) {
		*error_r = "the reporting host name is not a domain name (an internal error)";
		return -1;
	}
	if (c->count == 0) {
		*error_r = "no recipients to report";
		return -1;
	}
	if (m->original == NULL) {
		*error_r = "the original message is missing (an internal error)";
		return -1;
	}
	for (size_t i = 0; i < c->count; i++) {
		const struct dsn_recipient *r = &c->rcpts[i];
		size_t len = r->address != NULL ? strlen(r->address) : 0;

		if (len == 0 || len > ADDRESS_MAX) {
			snprintf(errbuf, sizeof(errbuf),
				 "recipient %zu has no address of 1 to %d octets (an internal error)",
				 i + 1, ADDRESS_MAX);
			*error_r = errbuf;
			return -1;
		}
		if (r->status == NULL || !is_failure_status(r->status)) {
			snprintf(errbuf, sizeof(errbuf),
				 "recipient %zu has no RFC 3463 failure status 4.x.x or 5.x.x (an internal error)",
				 i + 1);
			*error_r = errbuf;
			return -1;
		}
	}
	return 0;
}

/* Where the original's header ends: just after the line end of its last
 * field (*header_len_r), and where its body starts. */
static void original_split(const char *data, size_t len, size_t *header_len_r,
			   size_t *body_r)
{
	size_t pos = 0;

	while (pos < len) {
		const char *lf;

		if (data[pos] == '\n' ||
		    (data[pos] == '\r' && pos + 1 < len && data[pos + 1] == '\n')) {
			*header_len_r = pos;
			*body_r = pos + (data[pos] == '\n' ? 1 : 2);
			return;
		}
		lf = memchr(data + pos, '\n', len - pos);
		if (lf == NULL)
			break;
		pos = (size_t)(lf - data) + 1;
	}
	*header_len_r = len;
	*body_r = len;
}

static bool ends_in_crlf(const struct buf *b)
{
	return b->len >= 2 && b->data[b->len - 2] == '\r' &&
	       b->data[b->len - 1] == '\n';
}

/* The last line of the original may lack its line end; a bare LF is one
 * (not CRLF, so the text is no longer 7bit, but no line is added). */
static int end_last_line(struct buf *b)
{
	if (b->len == 0 || b->data[b->len - 1] == '\n')
		return 0;
	return buf_append(b, "\r\n", 2);
}

/* The header as text/rfc822-headers: 7bit when it is, else QP, which
 * carries any octet. */
static int return_header(struct dsn_ctx *c, size_t header_len,
			 const char **error_r)
{
	struct buf *h = &c->tmp;

	buf_reset(h);
	if (buf_append(h, c->m->original, header_len) < 0 || end_last_line(h) < 0)
		return too_long(error_r);
	if (dsn_text_kind(h->data, h->len) == DSN_TEXT_7BIT) {
		c->original_cte = "7bit";
		if (buf_append(&c->original, h->data, h->len) < 0)
			return too_long(error_r);
	} else {
		c->original_cte = "quoted-printable";
		if (dsn_text_qp(&c->original, h->data, h->len) < 0)
			return too_long(error_r);
	}
	return 0;
}

/* With include_body: the message up to body_limit octets of body, cut
 * after the last whole line that fits. */
static int return_message(struct dsn_ctx *c, size_t header_len, size_t body,
			  const char **error_r)
{
	const struct dsn_message *m = c->m;
	size_t end = m->original_len;
	enum dsn_text_kind kind;
	struct buf *msg = &c->tmp;

	if (end - body > m->body_limit) {
		end = body + m->body_limit;
		while (end > body && !(m->original[end - 1] == '\n' &&
				       end - body >= 2 &&
				       m->original[end - 2] == '\r'))
			end--;
		c->body_cut = true;
	}
	c->body_returned = end - body;
	buf_reset(msg);
	if (buf_append(msg, m->original, end) < 0 || end_last_line(msg) < 0)
		return too_long(error_r);
	kind = dsn_text_kind(msg->data, msg->len);
	if (kind == DSN_TEXT_BINARY) {
		/* message/rfc822 may only be 7bit, 8bit or binary (RFC 2046
		 * 5.2.1), and binary would not come through a POP download
		 * or a client's line handling unchanged */
		c->returned = RETURN_HEADER_ONLY;
		c->body_cut = false;
		c->body_returned = 0;
		return return_header(c, header_len, error_r);
	}
	c->returned = RETURN_MESSAGE;
	c->original_cte = kind == DSN_TEXT_7BIT ? "7bit" : "8bit";
	if (buf_append(&c->original, msg->data, msg->len) < 0)
		return too_long(error_r);
	return 0;
}

static int build_original(struct dsn_ctx *c, const char **error_r)
{
	size_t header_len, body;

	original_split(c->m->original, c->m->original_len, &header_len, &body);
	if (c->m->include_body)
		return return_message(c, header_len, body, error_r);
	c->returned = RETURN_HEADER;
	return return_header(c, header_len, error_r);
}

/* s made printable and cut at max, in c->tmp. */
static const char *clean(struct dsn_ctx *c, const char *s, size_t max)
{
	buf_reset(&c->tmp);
	if (dsn_text_clean(&c->tmp, s, max) < 0)
		return NULL;
	return buf_cstr(&c->tmp);
}

/* A paragraph of the explanation: text wrapped, then an empty line. */
static int text_para(struct dsn_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int text_para(struct dsn_ctx *c, const char *fmt, ...)
{
	struct buf para;
	va_list ap;
	int ret;

	buf_init(&para, c->text.max);
	va_start(ap, fmt);
	ret = buf_vprintf(&para, fmt, ap);
	va_end(ap);
	if (ret == 0)
		ret = dsn_text_wrap(&c->text, 0, buf_cstr(&para), TEXT_WIDTH,
				    TEXT_WIDTH, "");
	if (ret == 0)
		ret = buf_append(&c->text, "\r\n\r\n", 4);
	buf_free(&para);
	return ret;
}

/* "<address>:" then why, indented: the remote reply as it was said, or
 * our own reason. */
static int text_recipient(struct dsn_ctx *c, const struct dsn_recipient *r)
{
	struct buf why;
	const char *s;
	int ret = -1;

	if ((s = clean(c, r->address, ADDRESS_MAX)) == NULL ||
	    buf_append(&c->text, "<", 1) < 0 ||
	    dsn_text_wrap(&c->text, 1, s, TEXT_WIDTH, TEXT_WIDTH, TEXT_INDENT) < 0 ||
	    buf_append(&c->text, ">:\r\n" TEXT_INDENT, 4 + strlen(TEXT_INDENT)) < 0)
		return -1;

	buf_init(&why, c->text.max);
	/* a temporary failure is final only because time ran out */
	if (r->status[0] == '4' &&
	    buf_printf(&why, "Not delivered before the maximum time in the queue ran out%s",
		       r->diagnostic != NULL ? "; the last attempt: " : "") < 0)
		goto out;
	if (r->diagnostic == NULL) {
		/* the status is all there is to tell */
		if (buf_printf(&why, "%s (status %s).", r->status[0] == '5' ?
			       "Delivery failed permanently" : "", r->status) < 0)
			goto out;
	} else {
		if (r->diagnostic_type == DSN_DIAG_SMTP && r->remote_mta != NULL) {
			if ((s = clean(c, r->remote_mta, DSN_REMOTE_MTA_MAX)) == NULL ||
			    buf_printf(&why, "host %s said: ", s) < 0)
				goto out;
		} else if (r->diagnostic_type == DSN_DIAG_SMTP &&
			   buf_printf(&why, "the remote server said: ") < 0) {
			goto out;
		}
		if (dsn_text_clean(&why, r->diagnostic, DSN_DIAGNOSTIC_MAX) < 0)
			goto out;
	}
	ret = dsn_text_wrap(&c->text, strlen(TEXT_INDENT), buf_cstr(&why),
			    TEXT_WIDTH, TEXT_WIDTH, TEXT_INDENT);
	if (ret == 0)
		ret = buf_append(&c->text, "\r\n\r\n", 4);
out:
	buf_free(&why);
	return ret;
}

static int text_returned(struct dsn_ctx *c)
{
	switch (c->returned) {
	case RETURN_HEADER:
		return text_para(c, "The header of your message is attached below.");
	case RETURN_MESSAGE:
		if (!c->body_cut)
			return text_para(c, "Your message is attached below.");
		return text_para(c, "Your message is attached below, cut short: only "
				 "the first %zu octets of its body are included.",
				 c->body_returned);
	case RETURN_HEADER_ONLY:
		break;
	}
	return text_para(c, "Only the header of your message is attached below: "
			 "its body cannot be attached as it is (it holds a NUL "
			 "octet, a CR or LF outside a line end, or a line longer "
			 "than 998 octets).");
}

static int build_text(struct dsn_ctx *c, const char **error_r)
{
	const struct dsn_message *m = c->m;
	char date[HEADER_DATE_SIZE];
	const char *id = NULL;
	int ret;

	if (text_para(c, "This is the mail system at %s.", m->reporting_mta) < 0 ||
	    text_para(c, "Your message could not be delivered to the %s below. "
		      "The mail system has given up and will not try again.",
		      c->count == 1 ? "recipient" : "recipients") < 0)
		return too_long(error_r);
	for (size_t i = 0; i < c->count; i++) {
		if (text_recipient(c, &c->rcpts[i]) < 0)
			return too_long(error_r);
	}
	if (m->arrival != 0 && header_gen_date(m->arrival, date) < 0) {
		*error_r = "the arrival time cannot be written as a date (an internal error)";
		return -1;
	}
	if (m->queue_id != NULL && (id = clean(c, m->queue_id, DSN_QUEUE_ID_MAX)) == NULL)
		return too_long(error_r);
	if (id != NULL && m->arrival != 0)
		ret = text_para(c, "Your message was queued as %s on %s.", id, date);
	else if (id != NULL)
		ret = text_para(c, "Your message was queued as %s.", id);
	else if (m->arrival != 0)
		ret = text_para(c, "Your message arrived on %s.", date);
	else
		ret = 0;
	if (ret < 0 || text_returned(c) < 0)
		return too_long(error_r);
	/* one empty line at the end is enough */
	c->text.len -= 2;
	return 0;
}

/* "Name: value" with an untrusted value, folded. */
static int report_field(struct dsn_ctx *c, const char *name, const char *value,
			size_t max)
{
	const char *s = clean(c, value, max);

	if (s == NULL || buf_printf(&c->report, "%s ", name) < 0 ||
	    dsn_text_wrap(&c->report, strlen(name) + 1, s, DSN_FIELD_WIDTH,
			  DSN_LINE_MAX, " ") < 0)
		return -1;
	return buf_append(&c->report, "\r\n", 2);
}

static int report_date(struct dsn_ctx *c, const char *name, time_t t,
		       const char **error_r)
{
	char date[HEADER_DATE_SIZE];

	if (header_gen_date(t, date) < 0) {
		snprintf(errbuf, sizeof(errbuf),
			 "the %s cannot be written as a date (an internal error)", name);
		*error_r = errbuf;
		return -1;
	}
	if (buf_printf(&c->report, "%s: %s\r\n", name, date) < 0)
		return too_long(error_r);
	return 0;
}

static int report_recipient(struct dsn_ctx *c, const struct dsn_recipient *r,
			    const char **error_r)
{
	/* RFC 3464 2.1: each recipient's fields follow an empty line */
	if (buf_append(&c->report, "\r\n", 2) < 0 ||
	    report_field(c, "Final-Recipient: rfc822;", r->address, ADDRESS_MAX) < 0 ||
	    buf_printf(&c->report, "Action: failed\r\nStatus: %s\r\n", r->status) < 0)
		return too_long(error_r);
	if (r->remote_mta != NULL &&
	    report_field(c, "Remote-MTA: dns;", r->remote_mta, DSN_REMOTE_MTA_MAX) < 0)
		return too_long(error_r);
	if (r->diagnostic != NULL &&
	    report_field(c, r->diagnostic_type == DSN_DIAG_SMTP ?
			 "Diagnostic-Code: smtp;" : "Diagnostic-Code: X-Postern;",
			 r->diagnostic, DSN_DIAGNOSTIC_MAX) < 0)
		return too_long(error_r);
	if (r->last_attempt != 0 &&
	    report_date(c, "Last-Attempt-Date", r->last_attempt, error_r) < 0)
		return -1;
	return 0;
}

/* RFC 3464 2.2, in the order of its grammar: extension fields last. */
static int build_report(struct dsn_ctx *c, const char **error_r)
{
	const struct dsn_message *m = c->m;

	if (buf_printf(&c->report, "Reporting-MTA: dns; %s\r\n", m->reporting_mta) < 0)
		return too_long(error_r);
	if (m->arrival != 0 && report_date(c, "Arrival-Date", m->arrival, error_r) < 0)
		return -1;
	if (m->queue_id != NULL &&
	    report_field(c, "X-Postern-Queue-ID:", m->queue_id, DSN_QUEUE_ID_MAX) < 0)
		return too_long(error_r);
	for (size_t i = 0; i < c->count; i++) {
		if (report_recipient(c, &c->rcpts[i], error_r) < 0)
			return -1;
	}
	return 0;
}

static bool holds(const struct buf *b, const char *s)
{
	return b->len > 0 && memmem(b->data, b->len, s, strlen(s)) != NULL;
}

/* "=_" and random hex: "=_" cannot occur in quoted-printable text, and
 * the rest is checked against every part, so no line of a part can be
 * taken for a delimiter. */
static int pick_boundary(struct dsn_ctx *c, const char **error_r)
{
	for (int i = 0; i < BOUNDARY_TRIES; i++) {
		c->boundary[0] = '=';
		c->boundary[1] = '_';
		if (header_gen_random_hex(c->boundary + 2, RANDOM_OCTETS) < 0) {
			snprintf(errbuf, sizeof(errbuf),
				 "no random bytes for a MIME boundary: %s", strerror(errno));
			*error_r = errbuf;
			return -1;
		}
		if (!holds(&c->text, c->boundary) && !holds(&c->report, c->boundary) &&
		    !holds(&c->original, c->boundary))
			return 0;
	}
	*error_r = "every MIME boundary drawn occurs in the bounce (an internal error)";
	return -1;
}

static int write_header(struct dsn_ctx *c, struct buf *out, const char **error_r)
{
	const struct dsn_message *m = c->m;
	char date[HEADER_DATE_SIZE], id[2 * RANDOM_OCTETS + 1];

	if (header_gen_date(m->now, date) < 0) {
		*error_r = "the bounce's time cannot be written as a date (an internal error)";
		return -1;
	}
	if (header_gen_random_hex(id, RANDOM_OCTETS) < 0) {
		snprintf(errbuf, sizeof(errbuf),
			 "no random bytes for a Message-ID: %s", strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	if (buf_printf(out,
		       "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
		       "To: <%s>\r\n"
		       "Subject: Undelivered Mail Returned to Sender\r\n"
		       "Date: %s\r\n"
		       "Message-ID: <%s@%s>\r\n"
		       "Auto-Submitted: auto-replied\r\n"
		       "MIME-Version: 1.0\r\n"
		       "Content-Type: multipart/report; report-type=delivery-status;\r\n"
		       "\tboundary=\"%s\"\r\n"
		       "Content-Transfer-Encoding: %s\r\n"
		       "\r\n"
		       "This is a MIME-encapsulated message.\r\n",
		       m->reporting_mta, m->sender, date, id, m->reporting_mta,
		       c->boundary,
		       strcmp(c->original_cte, "8bit") == 0 ? "8bit" : "7bit") < 0)
		return too_long(error_r);
	return 0;
}

/* A body part: the delimiter, its header, its content (which ends with
 * CRLF, so the delimiter's own CRLF leaves it whole). */
static int write_part(struct dsn_ctx *c, struct buf *out, const char *type,
		      const char *description, const char *cte,
		      const struct buf *content)
{
	if (buf_printf(out, "\r\n--%s\r\nContent-Description: %s\r\n"
		       "Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n",
		       c->boundary, description, type, cte) < 0 ||
	    buf_append(out, content->data, content->len) < 0)
		return -1;
	if (content->len > 0 && !ends_in_crlf(content))
		return buf_append(out, "\r\n", 2);
	return 0;
}

static int write_message(struct dsn_ctx *c, struct buf *out,
			 const char **error_r)
{
	bool message = c->returned == RETURN_MESSAGE;

	if (write_header(c, out, error_r) < 0)
		return -1;
	if (write_part(c, out, "text/plain; charset=us-ascii", "Notification",
		       "7bit", &c->text) < 0 ||
	    write_part(c, out, "message/delivery-status", "Delivery report",
		       "7bit", &c->report) < 0 ||
	    write_part(c, out, message ? "message/rfc822" : "text/rfc822-headers",
		       message ? "Undelivered Message" : "Undelivered Message Headers",
		       c->original_cte, &c->original) < 0 ||
	    buf_printf(out, "\r\n--%s--\r\n", c->boundary) < 0)
		return too_long(error_r);
	return 0;
}

int dsn_build(const struct dsn_message *m, const struct dsn_recipient *rcpts,
	      size_t count, struct buf *out, const char **error_r)
{
	struct dsn_ctx c;
	size_t start = out->len;
	int ret;

	memset(&c, 0, sizeof(c));
	c.m = m;
	c.rcpts = rcpts;
	c.count = count;
	if (check_args(&c, error_r) < 0)
		return -1;
	/* no part can be longer than the whole */
	buf_init(&c.text, out->max);
	buf_init(&c.report, out->max);
	buf_init(&c.original, out->max);
	buf_init(&c.tmp, out->max);

	ret = build_original(&c, error_r);
	if (ret == 0)
		ret = build_text(&c, error_r);
	if (ret == 0)
		ret = build_report(&c, error_r);
	if (ret == 0)
		ret = pick_boundary(&c, error_r);
	if (ret == 0)
		ret = write_message(&c, out, error_r);
	if (ret < 0)
		out->len = start;
	buf_free(&c.text);
	buf_free(&c.report);
	buf_free(&c.original);
	buf_free(&c.tmp);
	return ret;
}

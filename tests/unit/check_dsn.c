/* check_dsn.c - unit tests for mail/dsn: the bounce, parsed back with
 * GMime 3 as a mail client would, and its raw lines as a relay would see
 * them. */
#include "build-config.h"

#include <check.h>
#include <gmime/gmime.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "mail/dsn.h"
#include "mail/header.h"
#include "unit.h"

#define HOST "mail.example.org"
#define SENDER "me@example.org"
#define QUEUE_ID "4F2A9C0B1D"
#define ARRIVAL ((time_t)1796159008)	/* Tue, 01 Dec 2026 21:03:28 UTC */
#define ARRIVAL_DATE "Tue, 01 Dec 2026 21:03:28 +0000"
#define NOW ((time_t)1796590008)	/* Sun, 06 Dec 2026 20:46:48 UTC */
#define NOW_DATE "Sun, 06 Dec 2026 20:46:48 +0000"
#define ATTEMPT ((time_t)1796159200)	/* Tue, 01 Dec 2026 21:06:40 UTC */
#define ATTEMPT_DATE "Tue, 01 Dec 2026 21:06:40 +0000"
#define OUT_MAX (4 * 1024 * 1024)

#define ORIG_HEADER "From: Me <me@example.org>\r\n" \
	"To: bob@example.net, carol@example.com\r\n" \
	"Subject: lunch\r\n" \
	"Date: Tue, 01 Dec 2026 20:59:00 +0100\r\n" \
	"Message-ID: <1@example.org>\r\n"
#define ORIG_BODY "See you at noon?\r\n-- \r\nMe\r\n"
#define ORIG ORIG_HEADER "\r\n" ORIG_BODY

#define BOB_REPLY "550 5.1.1 <bob@example.net>: Recipient address rejected: " \
	"User unknown in virtual mailbox table"

/* The first fake_random_calls calls of getrandom() give octets of 0xab:
 * how a test makes the boundary drawn predictable, to plant it in the
 * original.  libpostern's calls reach this definition before the C
 * library's (the executable comes first in symbol lookup). */
static int fake_random_calls;
#define FAKE_BOUNDARY "=_abababababababababababababababab"

ssize_t getrandom(void *buffer, size_t length, unsigned int flags)
{
	if (fake_random_calls > 0) {
		fake_random_calls--;
		memset(buffer, 0xab, length);
		return (ssize_t)length;
	}
	return syscall(SYS_getrandom, buffer, length, flags);
}

static struct dsn_message message(const char *original, size_t len)
{
	struct dsn_message m = {
		.reporting_mta = HOST,
		.sender = SENDER,
		.queue_id = QUEUE_ID,
		.arrival = ARRIVAL,
		.now = NOW,
		.original = original,
		.original_len = len,
	};
	return m;
}

static const struct dsn_recipient bob = {
	.address = "bob@example.net",
	.status = "5.1.1",
	.remote_mta = "mx.example.net",
	.diagnostic = BOB_REPLY,
	.diagnostic_type = DSN_DIAG_SMTP,
	.last_attempt = ATTEMPT,
};

/* Every line of the bounce ends in CRLF and holds at most 998 octets and
 * no NUL; with seven_bit, no octet is over 127 either. */
static void check_lines(const struct buf *b, bool seven_bit)
{
	size_t line = 0, n = 1;

	ck_assert_uint_ge(b->len, 2);
	ck_assert_msg(b->data[b->len - 2] == '\r' && b->data[b->len - 1] == '\n',
		      "the bounce does not end with CRLF");
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if (c == '\r') {
			ck_assert_msg(i + 1 < b->len && b->data[i + 1] == '\n',
				      "line %zu: a CR without LF", n);
			i++;
			line = 0;
			n++;
			continue;
		}
		ck_assert_msg(c != '\n', "line %zu: an LF without CR", n);
		ck_assert_msg(c != '\0', "line %zu: a NUL", n);
		ck_assert_msg(!seven_bit || c < 128, "line %zu: octet %#x", n, c);
		ck_assert_msg(++line <= 998, "line %zu is longer than 998 octets", n);
	}
}

static GMimeMessage *parse(const struct buf *b)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(b->data, b->len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

	g_object_unref(parser);
	g_object_unref(stream);
	ck_assert_ptr_nonnull(msg);
	return msg;
}

static void check_type(GMimeObject *obj, const char *want)
{
	char *type = g_mime_content_type_get_mime_type(
		g_mime_object_get_content_type(obj));

	ck_assert_msg(strcmp(type, want) == 0, "content type %s, want %s", type, want);
	g_free(type);
}

/* The parsed bounce: a multipart/report of delivery-status with three
 * parts, of these types; *parts_r gets them. */
static GMimeMessage *parse_report(const struct buf *b, const char *third,
				  GMimeObject *parts_r[3])
{
	GMimeMessage *msg = parse(b);
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	GMimeContentType *ct;

	ck_assert_ptr_nonnull(top);
	check_type(top, "multipart/report");
	ct = g_mime_object_get_content_type(top);
	ck_assert_str_eq(g_mime_content_type_get_parameter(ct, "report-type"),
			 "delivery-status");
	ck_assert(GMIME_IS_MULTIPART(top));
	ck_assert_int_eq(g_mime_multipart_get_count(GMIME_MULTIPART(top)), 3);
	for (int i = 0; i < 3; i++)
		parts_r[i] = g_mime_multipart_get_part(GMIME_MULTIPART(top), i);
	check_type(parts_r[0], "text/plain");
	ck_assert_str_eq(g_mime_content_type_get_parameter(
		g_mime_object_get_content_type(parts_r[0]), "charset"), "us-ascii");
	check_type(parts_r[1], "message/delivery-status");
	check_type(parts_r[2], third);
	return msg;
}

/* A leaf part's content, its transfer encoding undone. */
static void content(GMimeObject *obj, struct buf *out)
{
	GMimeDataWrapper *w;
	GMimeStream *s;
	GByteArray *a;

	ck_assert(GMIME_IS_PART(obj));
	w = g_mime_part_get_content(GMIME_PART(obj));
	ck_assert_ptr_nonnull(w);
	s = g_mime_stream_mem_new();
	ck_assert_int_ge(g_mime_data_wrapper_write_to_stream(w, s), 0);
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	buf_init(out, OUT_MAX);
	ck_assert_int_eq(buf_append(out, a->data, a->len), 0);
	g_object_unref(s);
}

static const char *top_header(GMimeMessage *msg, const char *name)
{
	return g_mime_object_get_header(GMIME_OBJECT(msg), name);
}

/* GMime keeps the Content- fields with the message's MIME part. */
static const char *top_cte(GMimeMessage *msg)
{
	return g_mime_object_get_header(g_mime_message_get_mime_part(msg),
					"Content-Transfer-Encoding");
}

/* The report's groups of fields, each field "Name: value" unfolded, as
 * mail/header.c frames them: a line that is no field fails the test. */
#define GROUPS_MAX 8
#define FIELDS_MAX 12
struct group {
	char *fields[FIELDS_MAX];
	size_t count;
};

static size_t report_groups(GMimeObject *part, struct group *g)
{
	struct buf data, value;
	size_t pos = 0, n = 0;

	content(part, &data);
	buf_init(&value, OUT_MAX);
	while (pos < data.len) {
		struct header_reader r;
		struct header_field f;
		const char *error = NULL;
		int ret;

		ck_assert_uint_lt(n, GROUPS_MAX);
		g[n].count = 0;
		header_reader_init(&r, data.data + pos, data.len - pos, data.len);
		while ((ret = header_reader_next(&r, &f, &error)) > 0) {
			ck_assert_uint_lt(g[n].count, FIELDS_MAX);
			buf_reset(&value);
			ck_assert_int_eq(buf_append(&value, f.name, f.name_len), 0);
			ck_assert_int_eq(buf_append(&value, ":", 1), 0);
			ck_assert_int_eq(header_field_unfold(&f, &value), 0);
			g[n].fields[g[n].count++] = strdup(buf_cstr(&value));
		}
		ck_assert_msg(ret == 0, "report group %zu: %s", n + 1, error);
		ck_assert_msg(g[n].count > 0, "report group %zu is empty", n + 1);
		pos += r.body_offset;
		n++;
	}
	buf_free(&value);
	buf_free(&data);
	return n;
}

static void groups_free(struct group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < g[i].count; j++)
			free(g[i].fields[j]);
}

/* The report is exactly these groups (NULL ends a group's fields and a
 * group of no fields ends the list). */
static void check_report(GMimeObject *part, const char *const want[][FIELDS_MAX])
{
	struct group g[GROUPS_MAX];
	size_t n = report_groups(part, g), w;

	for (w = 0; want[w][0] != NULL; w++) {
		size_t f;

		ck_assert_msg(w < n, "the report has %zu groups, want more", n);
		for (f = 0; want[w][f] != NULL; f++) {
			ck_assert_msg(f < g[w].count, "group %zu has %zu fields, want more",
				      w + 1, g[w].count);
			ck_assert_msg(strcmp(g[w].fields[f], want[w][f]) == 0,
				      "group %zu field %zu:\n'%s'\nwant\n'%s'", w + 1,
				      f + 1, g[w].fields[f], want[w][f]);
		}
		ck_assert_msg(f == g[w].count, "group %zu has %zu fields, want %zu",
			      w + 1, g[w].count, f);
	}
	ck_assert_msg(w == n, "the report has %zu groups, want %zu", n, w);
	groups_free(g, n);
}

/* The explanation: 7-bit lines under 78 octets (76 at most). */
static void explanation(GMimeObject *part, struct buf *text)
{
	size_t line = 0;

	content(part, text);
	for (size_t i = 0; i < text->len; i++) {
		if (text->data[i] == '\r' || text->data[i] == '\n') {
			line = 0;
			continue;
		}
		ck_assert_msg(++line <= 76, "an explanation line is longer than 76 octets:\n%s",
			      buf_cstr(text));
	}
}

static bool has(struct buf *b, const char *s)
{
	return strstr(buf_cstr(b), s) != NULL;
}

static void build(const struct dsn_message *m, const struct dsn_recipient *r,
		  size_t n, struct buf *out)
{
	const char *error = NULL;

	buf_init(out, OUT_MAX);
	ck_assert_msg(dsn_build(m, r, n, out, &error) == 0, "dsn_build: %s",
		      error != NULL ? error : "(null)");
}

START_TEST(test_one_recipient)
{
	static const char *const want[][FIELDS_MAX] = {
		{ "Reporting-MTA: dns; " HOST, "Arrival-Date: " ARRIVAL_DATE,
		  "X-Postern-Queue-ID: " QUEUE_ID },
		{ "Final-Recipient: rfc822; bob@example.net", "Action: failed",
		  "Status: 5.1.1", "Remote-MTA: dns; mx.example.net",
		  "Diagnostic-Code: smtp; " BOB_REPLY,
		  "Last-Attempt-Date: " ATTEMPT_DATE },
		{ NULL },
	};
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct buf out, text, hdr;
	const char *id;

	build(&m, &bob, 1, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "text/rfc822-headers", parts);

	ck_assert_str_eq(top_header(msg, "From"),
			 "Mail Delivery System <MAILER-DAEMON@" HOST ">");
	ck_assert_str_eq(top_header(msg, "To"), "<" SENDER ">");
	ck_assert_str_eq(top_header(msg, "Subject"), "Undelivered Mail Returned to Sender");
	ck_assert_str_eq(top_header(msg, "Date"), NOW_DATE);
	ck_assert_str_eq(top_header(msg, "Auto-Submitted"), "auto-replied");
	ck_assert_str_eq(top_header(msg, "MIME-Version"), "1.0");
	ck_assert_str_eq(top_cte(msg), "7bit");
	id = g_mime_message_get_message_id(msg);
	ck_assert_ptr_nonnull(id);
	ck_assert_uint_eq(strlen(id), 32 + 1 + strlen(HOST));
	ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 32);
	ck_assert_str_eq(id + 32, "@" HOST);

	explanation(parts[0], &text);
	ck_assert_msg(has(&text, "<bob@example.net>:\r\n"
			  "    host mx.example.net said: 550 5.1.1 <bob@example.net>: Recipient address\r\n"
			  "    rejected: User unknown in virtual mailbox table\r\n"),
		      "explanation:\n%s", buf_cstr(&text));
	ck_assert(has(&text, "queued as " QUEUE_ID " on " ARRIVAL_DATE "."));
	ck_assert(has(&text, "The header of your message is attached below."));

	check_report(parts[1], want);

	content(parts[2], &hdr);
	ck_assert_str_eq(buf_cstr(&hdr), ORIG_HEADER);
	ck_assert(!has(&out, "See you at noon"));

	buf_free(&hdr);
	buf_free(&text);
	g_object_unref(msg);
	buf_free(&out);
}
END_TEST

START_TEST(test_several_recipients)
{
	static const struct dsn_recipient rcpts[] = {
		{ "bob@example.net", "5.1.1", "mx.example.net", BOB_REPLY,
		  DSN_DIAG_SMTP, ATTEMPT },
		/* a queue timeout after connection failures */
		{ "carol@example.com", "4.4.7", NULL,
		  "connect to mx.example.com[192.0.2.7]:25: Connection timed out",
		  DSN_DIAG_LOCAL, NOW - 8 },
		/* no server ever answered, nothing to say but the status */
		{ "dave@example.com", "4.4.7", NULL, NULL, DSN_DIAG_SMTP, 0 },
		/* a reply with no host to name */
		{ "\"eve smith\"@example.com", "5.7.1", NULL,
		  "554 5.7.1 Relay access denied", DSN_DIAG_SMTP, 0 },
		{ "frank@example.com", "5.0.0", NULL, NULL, DSN_DIAG_LOCAL, 0 },
	};
	static const char *const want[][FIELDS_MAX] = {
		{ "Reporting-MTA: dns; " HOST, "Arrival-Date: " ARRIVAL_DATE,
		  "X-Postern-Queue-ID: " QUEUE_ID },
		{ "Final-Recipient: rfc822; bob@example.net", "Action: failed",
		  "Status: 5.1.1", "Remote-MTA: dns; mx.example.net",
		  "Diagnostic-Code: smtp; " BOB_REPLY,
		  "Last-Attempt-Date: " ATTEMPT_DATE },
		{ "Final-Recipient: rfc822; carol@example.com", "Action: failed",
		  "Status: 4.4.7",
		  "Diagnostic-Code: X-Postern; connect to mx.example.com[192.0.2.7]:25: Connection timed out",
		  "Last-Attempt-Date: Sun, 06 Dec 2026 20:46:40 +0000" },
		{ "Final-Recipient: rfc822; dave@example.com", "Action: failed",
		  "Status: 4.4.7" },
		{ "Final-Recipient: rfc822; \"eve smith\"@example.com", "Action: failed",
		  "Status: 5.7.1", "Diagnostic-Code: smtp; 554 5.7.1 Relay access denied" },
		{ "Final-Recipient: rfc822; frank@example.com", "Action: failed",
		  "Status: 5.0.0" },
		{ NULL },
	};
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct buf out, text;

	build(&m, rcpts, sizeof(rcpts) / sizeof(rcpts[0]), &out);
	check_lines(&out, true);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	check_report(parts[1], want);

	explanation(parts[0], &text);
	ck_assert_msg(has(&text, "<carol@example.com>:\r\n"
			  "    Not delivered before the maximum time in the queue ran out; the last\r\n"
			  "    attempt: connect to mx.example.com[192.0.2.7]:25: Connection timed out\r\n"),
		      "explanation:\n%s", buf_cstr(&text));
	ck_assert(has(&text, "<dave@example.com>:\r\n"
		      "    Not delivered before the maximum time in the queue ran out (status\r\n"
		      "    4.4.7).\r\n"));
	ck_assert(has(&text, "<\"eve smith\"@example.com>:\r\n"
		      "    the remote server said: 554 5.7.1 Relay access denied\r\n"));
	ck_assert(has(&text, "<frank@example.com>:\r\n"
		      "    Delivery failed permanently (status 5.0.0).\r\n"));
	buf_free(&text);
	g_object_unref(msg);
	buf_free(&out);
}
END_TEST

/* What remote servers and users give cannot start a field, a group or a
 * part of its own, nor bring control characters or 8-bit octets in. */
START_TEST(test_hostile_text)
{
	static const struct dsn_recipient evil = {
		.address = "b\xc3\xb6" "b@example.net\r\nX-Injected-Address: 1",
		.status = "5.1.1",
		.remote_mta = "mx.example.net\r\nX-Injected-MTA: 1",
		.diagnostic = "550 5.1.1 no such user\r\nX-Injected: yes\r\n\r\n"
			"Final-Recipient: rfc822; evil@example.net\n\rAction: failed\r"
			"\x01\x1b[31m\x7f caf\xc3\xa9" " \t  end\r\n",
		.diagnostic_type = DSN_DIAG_SMTP,
	};
	/* a NUL ends a C string: what follows it is never seen */
	static const struct dsn_recipient nul = {
		.address = "nul@example.net",
		.status = "5.1.1",
		.diagnostic = "550 a\0\r\nX-Injected: b",
		.diagnostic_type = DSN_DIAG_LOCAL,
	};
	/* well-formed line ends only, as a relay that joins a multi-line
	 * reply with CRLF would hand it over */
	static const struct dsn_recipient crlf = {
		.address = "crlf@example.net",
		.status = "5.1.1",
		.diagnostic = "550 5.1.1 unknown\r\nX-Injected: yes\r\n\r\n"
			"Final-Recipient: rfc822; evil@example.net\r\n",
		.diagnostic_type = DSN_DIAG_SMTP,
	};
	static const char *const want[][FIELDS_MAX] = {
		{ "Reporting-MTA: dns; " HOST, "Arrival-Date: " ARRIVAL_DATE,
		  "X-Postern-Queue-ID: ??? queue" },
		{ "Final-Recipient: rfc822; b??b@example.net X-Injected-Address: 1",
		  "Action: failed", "Status: 5.1.1",
		  "Remote-MTA: dns; mx.example.net X-Injected-MTA: 1",
		  "Diagnostic-Code: smtp; 550 5.1.1 no such user X-Injected: yes "
		  "Final-Recipient: rfc822; evil@example.net Action: failed "
		  "??[31m? caf?? end" },
		{ "Final-Recipient: rfc822; nul@example.net", "Action: failed",
		  "Status: 5.1.1", "Diagnostic-Code: X-Postern; 550 a" },
		{ "Final-Recipient: rfc822; crlf@example.net", "Action: failed",
		  "Status: 5.1.1", "Diagnostic-Code: smtp; 550 5.1.1 unknown X-Injected: yes "
		  "Final-Recipient: rfc822; evil@example.net" },
		{ NULL },
	};
	struct dsn_recipient rcpts[3] = { evil, nul, crlf };
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct buf out, text;

	m.queue_id = "\r\n\xff\x01\x02 queue\n";
	build(&m, rcpts, 3, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	check_report(parts[1], want);
	ck_assert_ptr_null(top_header(msg, "X-Injected"));

	explanation(parts[0], &text);
	ck_assert_msg(has(&text, "<b??b@example.net X-Injected-Address: 1>:\r\n"
			  "    host mx.example.net X-Injected-MTA: 1 said: 550 5.1.1 no such user\r\n"
			  "    X-Injected: yes Final-Recipient: rfc822; evil@example.net Action: failed\r\n"
			  "    ??[31m? caf?? end\r\n"),
		      "explanation:\n%s", buf_cstr(&text));
	ck_assert(!has(&text, "\r\nX-Injected"));
	buf_free(&text);
	g_object_unref(msg);
	buf_free(&out);
}
END_TEST

START_TEST(test_long_diagnostic)
{
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	struct dsn_recipient r = bob;
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct group g[GROUPS_MAX];
	struct buf diag, out, text;
	const char *code;
	size_t n;

	/* 100 KiB: words, a 5000-octet token (a URL, base64), more words */
	buf_init(&diag, OUT_MAX);
	ck_assert_int_eq(buf_printf(&diag, "550-5.7.1 "), 0);
	while (diag.len < 600)
		ck_assert_int_eq(buf_printf(&diag, "word%zu ", diag.len), 0);
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(buf_append(&diag, "x", 1), 0);
	while (diag.len < 100 * 1024)
		ck_assert_int_eq(buf_printf(&diag, " more%zu", diag.len), 0);
	r.diagnostic = buf_cstr(&diag);

	build(&m, &r, 1, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	n = report_groups(parts[1], g);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(g[1].count, 6);
	code = g[1].fields[4];
	ck_assert_msg(strncmp(code, "Diagnostic-Code: smtp; 550-5.7.1 word10 ", 40) == 0,
		      "%s", code);
	/* cut at DSN_DIAGNOSTIC_MAX, the cut shown; the token was split
	 * (a space where a fold was needed) but nothing else added */
	ck_assert_uint_le(strlen(code), strlen("Diagnostic-Code: smtp; ") +
			  DSN_DIAGNOSTIC_MAX + 2);
	ck_assert_str_eq(code + strlen(code) - 6, "xxx...");
	groups_free(g, n);

	explanation(parts[0], &text);
	ck_assert(has(&text, "said: 550-5.7.1 word10 "));
	ck_assert(has(&text, "xxx...\r\n"));
	ck_assert_uint_lt(text.len, 4 * DSN_DIAGNOSTIC_MAX);
	buf_free(&text);
	g_object_unref(msg);
	buf_free(&out);
	buf_free(&diag);
}
END_TEST

/* The raw content of the bounce's last part, its header skipped. */
static void raw_last_part(struct buf *out, const char *boundary, struct buf *raw)
{
	const char *data = buf_cstr(out), *start, *end;
	char delim[128];

	snprintf(delim, sizeof(delim), "\r\n--%s\r\n", boundary);
	start = data;
	for (const char *p; (p = strstr(start, delim)) != NULL; start = p + 1)
		;
	start = strstr(start, "\r\n\r\n");
	ck_assert_ptr_nonnull(start);
	start += 4;
	snprintf(delim, sizeof(delim), "\r\n--%s--\r\n", boundary);
	end = strstr(start, delim);
	ck_assert_ptr_nonnull(end);
	buf_init(raw, OUT_MAX);
	ck_assert_int_eq(buf_append(raw, start, (size_t)(end - start)), 0);
}

static const char *boundary_of(GMimeMessage *msg)
{
	return g_mime_multipart_get_boundary(
		GMIME_MULTIPART(g_mime_message_get_mime_part(msg)));
}

START_TEST(test_header_only_original)
{
	/* the queue may keep only the header; its last line may lack CRLF */
	static const char hdr_only[] = "From: me@example.org\r\nSubject: s";
	struct dsn_message m = message(hdr_only, sizeof(hdr_only) - 1);
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct buf out, got;

	build(&m, &bob, 1, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	content(parts[2], &got);
	ck_assert_str_eq(buf_cstr(&got), "From: me@example.org\r\nSubject: s\r\n");
	buf_free(&got);
	g_object_unref(msg);
	buf_free(&out);

	/* include_body with no body: the header as a message */
	m.include_body = true;
	m.body_limit = 100;
	build(&m, &bob, 1, &out);
	msg = parse_report(&out, "message/rfc822", parts);
	raw_last_part(&out, boundary_of(msg), &got);
	ck_assert_str_eq(buf_cstr(&got), "From: me@example.org\r\nSubject: s\r\n");
	buf_free(&got);
	g_object_unref(msg);
	buf_free(&out);
}
END_TEST

START_TEST(test_include_body)
{
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	GMimeObject *parts[3];
	GMimeMessage *msg, *inner;
	struct buf out, raw, text;

	m.include_body = true;
	m.body_limit = sizeof(ORIG_BODY) - 1;	/* just fits */
	build(&m, &bob, 1, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "message/rfc822", parts);
	ck_assert(GMIME_IS_MESSAGE_PART(parts[2]));
	inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(parts[2]));
	ck_assert_ptr_nonnull(inner);
	ck_assert_str_eq(g_mime_message_get_subject(inner), "lunch");
	raw_last_part(&out, boundary_of(msg), &raw);
	ck_assert_str_eq(buf_cstr(&raw), ORIG);
	explanation(parts[0], &text);
	ck_assert(has(&text, "Your message is attached below.\r\n"));
	buf_free(&text);
	buf_free(&raw);
	g_object_unref(msg);
	buf_free(&out);
}
END_TEST

START_TEST(test_include_body_cut)
{
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct buf out, raw, text;

	/* the limit falls inside "-- \r\n": only the first line goes */
	m.include_body = true;
	m.body_limit = strlen("See you at noon?\r\n-- ");
	build(&m, &bob, 1, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "message/rfc822", parts);
	raw_last_part(&out, boundary_of(msg), &raw);
	ck_assert_str_eq(buf_cstr(&raw), ORIG_HEADER "\r\nSee you at noon?\r\n");
	explanation(parts[0], &text);
	ck_assert_msg(has(&text, "Your message is attached below, cut short: only the first 18 octets of its\r\n"
			  "body are included.\r\n"), "%s", buf_cstr(&text));
	buf_free(&text);
	buf_free(&raw);
	g_object_unref(msg);
	buf_free(&out);

	/* no whole line fits: the header and the empty line */
	m.body_limit = 3;
	build(&m, &bob, 1, &out);
	msg = parse_report(&out, "message/rfc822", parts);
	raw_last_part(&out, boundary_of(msg), &raw);
	ck_assert_str_eq(buf_cstr(&raw), ORIG_HEADER "\r\n");
	buf_free(&raw);
	g_object_unref(msg);
	buf_free(&out);
}
END_TEST

#define HEADER_8BIT "From: J\xc3\xbcrgen <j@example.org>\r\nSubject: gr\xc3\xbc\xc3\x9f" \
	"e \r\nX-Tab:\tend\t\r\nX-Eq: a=b\r\n"
#define BODY_8BIT "Sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9f" "e\r\n"

START_TEST(test_8bit_original)
{
	static const char orig[] = HEADER_8BIT "\r\n" BODY_8BIT;
	struct dsn_message m = message(orig, sizeof(orig) - 1);
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct buf out, got;

	/* the header returned quoted-printable: the bounce stays 7-bit and
	 * the header comes back octet for octet */
	build(&m, &bob, 1, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	ck_assert_str_eq(g_mime_object_get_header(parts[2], "Content-Transfer-Encoding"),
			 "quoted-printable");
	content(parts[2], &got);
	ck_assert_str_eq(buf_cstr(&got), HEADER_8BIT);
	buf_free(&got);
	g_object_unref(msg);
	buf_free(&out);

	/* message/rfc822 has no 7-bit encoding for it: 8bit, said so */
	m.include_body = true;
	m.body_limit = 1000;
	build(&m, &bob, 1, &out);
	check_lines(&out, false);
	msg = parse_report(&out, "message/rfc822", parts);
	ck_assert_str_eq(g_mime_object_get_header(parts[2], "Content-Transfer-Encoding"),
			 "8bit");
	ck_assert_str_eq(top_cte(msg), "8bit");
	raw_last_part(&out, boundary_of(msg), &got);
	ck_assert_str_eq(buf_cstr(&got), orig);
	buf_free(&got);
	g_object_unref(msg);
	buf_free(&out);
}
END_TEST

/* A NUL, a bare CR or LF, an over-long line: no 8bit text, so only the
 * header goes back (quoted-printable when it has them itself). */
START_TEST(test_binary_original)
{
	static const char nul_body[] = ORIG_HEADER "\r\nline\r\na\0b\r\n";
	static const char nul_header[] = "Subject: a\0b\rc\r\nX: y\n\r\nbody\r\n";
	struct dsn_message m = message(nul_body, sizeof(nul_body) - 1);
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct buf out, got, text, long_line;

	m.include_body = true;
	m.body_limit = 1000;
	build(&m, &bob, 1, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	content(parts[2], &got);
	ck_assert_str_eq(buf_cstr(&got), ORIG_HEADER);
	explanation(parts[0], &text);
	ck_assert_msg(has(&text, "Only the header of your message is attached below"),
		      "%s", buf_cstr(&text));
	buf_free(&text);
	buf_free(&got);
	g_object_unref(msg);
	buf_free(&out);

	/* the limit cuts before the NUL: then the message goes */
	m.body_limit = 6;
	build(&m, &bob, 1, &out);
	msg = parse_report(&out, "message/rfc822", parts);
	g_object_unref(msg);
	buf_free(&out);

	m = message(nul_header, sizeof(nul_header) - 1);
	build(&m, &bob, 1, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	content(parts[2], &got);
	ck_assert_uint_eq(got.len, strlen("Subject: a") + 1 + strlen("b\rc\r\nX: y\n"));
	ck_assert_int_eq(memcmp(got.data, "Subject: a\0b\rc\r\nX: y\n", got.len), 0);
	buf_free(&got);
	g_object_unref(msg);
	buf_free(&out);

	/* a 2000-octet body line */
	buf_init(&long_line, OUT_MAX);
	ck_assert_int_eq(buf_printf(&long_line, "%s", ORIG_HEADER "\r\n"), 0);
	for (int i = 0; i < 2000; i++)
		ck_assert_int_eq(buf_append(&long_line, "z", 1), 0);
	ck_assert_int_eq(buf_append(&long_line, "\r\n", 2), 0);
	m = message(long_line.data, long_line.len);
	m.include_body = true;
	m.body_limit = 10000;
	build(&m, &bob, 1, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	g_object_unref(msg);
	buf_free(&out);
	buf_free(&long_line);
}
END_TEST

/* A boundary drawn that occurs in the content is drawn again. */
START_TEST(test_boundary_collision)
{
	static const char orig[] = ORIG_HEADER
		"Content-Type: multipart/mixed; boundary=\"" FAKE_BOUNDARY "\"\r\n\r\n"
		"--" FAKE_BOUNDARY "\r\n\r\nhello\r\n--" FAKE_BOUNDARY "--\r\n";
	struct dsn_message m = message(orig, sizeof(orig) - 1);
	GMimeObject *parts[3];
	GMimeMessage *msg, *inner;
	struct buf out, raw;
	const char *error = NULL;

	m.include_body = true;
	m.body_limit = 1000;
	/* the first two boundaries drawn are the original's own */
	fake_random_calls = 2;
	build(&m, &bob, 1, &out);
	ck_assert_int_eq(fake_random_calls, 0);
	check_lines(&out, true);
	msg = parse_report(&out, "message/rfc822", parts);
	ck_assert_str_ne(boundary_of(msg), FAKE_BOUNDARY);
	ck_assert_uint_eq(strlen(boundary_of(msg)), strlen(FAKE_BOUNDARY));
	raw_last_part(&out, boundary_of(msg), &raw);
	ck_assert_str_eq(buf_cstr(&raw), orig);
	/* the original's own multipart is intact inside */
	inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(parts[2]));
	ck_assert(GMIME_IS_MULTIPART(g_mime_message_get_mime_part(inner)));
	ck_assert_int_eq(g_mime_multipart_get_count(
		GMIME_MULTIPART(g_mime_message_get_mime_part(inner))), 1);
	buf_free(&raw);
	g_object_unref(msg);
	buf_free(&out);

	/* the same through the diagnostic, in the other parts */
	{
		struct dsn_recipient r = bob;

		r.diagnostic = "550 --" FAKE_BOUNDARY "--";
		m = message(ORIG, sizeof(ORIG) - 1);
		fake_random_calls = 1;
		build(&m, &r, 1, &out);
		msg = parse_report(&out, "text/rfc822-headers", parts);
		ck_assert_str_ne(boundary_of(msg), FAKE_BOUNDARY);
		g_object_unref(msg);
		buf_free(&out);
	}

	/* never a free one: an error, not a broken message */
	m = message(orig, sizeof(orig) - 1);
	fake_random_calls = 1000;
	buf_init(&out, OUT_MAX);
	ck_assert_int_eq(dsn_build(&m, &bob, 1, &out, &error), -1);
	ck_assert_str_eq(error, "every MIME boundary drawn occurs in the bounce (an internal error)");
	ck_assert_uint_eq(out.len, 0);
	fake_random_calls = 0;
	buf_free(&out);
}
END_TEST

/* A bounce of a bounce (the original is one): its boundary and its
 * report stay inside the new one. */
START_TEST(test_bounce_of_bounce)
{
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct buf first, second;

	build(&m, &bob, 1, &first);
	m = message(first.data, first.len);
	m.include_body = true;
	m.body_limit = first.len;
	build(&m, &bob, 1, &second);
	check_lines(&second, true);
	msg = parse_report(&second, "message/rfc822", parts);
	ck_assert_ptr_null(strstr(buf_cstr(&first), boundary_of(msg)));
	g_object_unref(msg);
	buf_free(&second);
	buf_free(&first);
}
END_TEST

START_TEST(test_null_sender)
{
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	const char *error = NULL;
	struct buf out;

	m.sender = "";
	buf_init(&out, OUT_MAX);
	ck_assert_int_eq(buf_printf(&out, "kept"), 0);
	ck_assert_int_eq(dsn_build(&m, &bob, 1, &out, &error), -1);
	ck_assert_str_eq(error, "no bounce for the null sender");
	ck_assert_str_eq(buf_cstr(&out), "kept");
	buf_free(&out);
}
END_TEST

struct bad_case {
	const char *name;
	const char *sender;
	const char *host;
	const char *address;
	const char *status;
	size_t count;
	const char *error;
};

static const struct bad_case bad_cases[] = {
	{ "no recipients", SENDER, HOST, "a@x.org", "5.1.1", 0,
	  "no recipients to report" },
	{ "no sender", NULL, HOST, "a@x.org", "5.1.1", 1,
	  "the sender is not an address (an internal error)" },
	{ "a sender that would inject a field", SENDER ">\r\nBcc: x@y", HOST,
	  "a@x.org", "5.1.1", 1,
	  "the sender is not an address (an internal error)" },
	{ "a sender without a domain", "postmaster", HOST, "a@x.org", "5.1.1", 1,
	  "the sender is not an address (an internal error)" },
	{ "an 8-bit sender", "j\xc3\xbc@x.org", HOST, "a@x.org", "5.1.1", 1,
	  "the sender is not an address (an internal error)" },
	{ "a host name with a space", SENDER, "mail example", "a@x.org", "5.1.1", 1,
	  "the reporting host name is not a domain name (an internal error)" },
	{ "no host name", SENDER, "", "a@x.org", "5.1.1", 1,
	  "the reporting host name is not a domain name (an internal error)" },
	{ "no address", SENDER, HOST, NULL, "5.1.1", 1,
	  "recipient 1 has no address of 1 to 254 octets (an internal error)" },
	{ "an empty address", SENDER, HOST, "", "5.1.1", 1,
	  "recipient 1 has no address of 1 to 254 octets (an internal error)" },
	{ "no status", SENDER, HOST, "a@x.org", NULL, 1,
	  "recipient 1 has no RFC 3463 failure status 4.x.x or 5.x.x (an internal error)" },
	{ "a success status", SENDER, HOST, "a@x.org", "2.0.0", 1,
	  "recipient 1 has no RFC 3463 failure status 4.x.x or 5.x.x (an internal error)" },
	{ "a status of two parts", SENDER, HOST, "a@x.org", "5.1", 1,
	  "recipient 1 has no RFC 3463 failure status 4.x.x or 5.x.x (an internal error)" },
	{ "a status with four digits", SENDER, HOST, "a@x.org", "5.1.1000", 1,
	  "recipient 1 has no RFC 3463 failure status 4.x.x or 5.x.x (an internal error)" },
	{ "a status with text after it", SENDER, HOST, "a@x.org", "5.1.1\r\nX: y", 1,
	  "recipient 1 has no RFC 3463 failure status 4.x.x or 5.x.x (an internal error)" },
	{ "a status that is a reply code", SENDER, HOST, "a@x.org", "550", 1,
	  "recipient 1 has no RFC 3463 failure status 4.x.x or 5.x.x (an internal error)" },
};

START_TEST(test_bad)
{
	const struct bad_case *t = &bad_cases[_i];
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	struct dsn_recipient r = bob;
	const char *error = NULL;
	struct buf out;

	m.sender = t->sender;
	m.reporting_mta = t->host;
	r.address = t->address;
	r.status = t->status;
	buf_init(&out, OUT_MAX);
	ck_assert_msg(dsn_build(&m, &r, t->count, &out, &error) == -1,
		      "%s: accepted", t->name);
	ck_assert_msg(error != NULL && strcmp(error, t->error) == 0,
		      "%s: error '%s', want '%s'", t->name, error ? error : "(null)",
		      t->error);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
}
END_TEST

START_TEST(test_long_address)
{
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	struct dsn_recipient r = bob;
	char addr[256];
	const char *error = NULL;
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct buf out, text;

	/* 254 octets are written (wrapped in the explanation), 255 refused */
	memset(addr, 'a', sizeof(addr));
	memcpy(addr + 254 - 12, "@example.org", 13);
	r.address = addr;
	build(&m, &r, 1, &out);
	check_lines(&out, true);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	explanation(parts[0], &text);
	buf_free(&text);
	g_object_unref(msg);
	buf_free(&out);

	memset(addr, 'a', sizeof(addr));
	memcpy(addr + 255 - 12, "@example.org", 13);
	buf_init(&out, OUT_MAX);
	ck_assert_int_eq(dsn_build(&m, &r, 1, &out, &error), -1);
	ck_assert_str_eq(error, "recipient 1 has no address of 1 to 254 octets (an internal error)");
	buf_free(&out);
}
END_TEST

/* English names and UTC whatever the locale and time zone; no date
 * field when the time is not known. */
START_TEST(test_dates)
{
	static const char *const want[][FIELDS_MAX] = {
		{ "Reporting-MTA: dns; " HOST, "Arrival-Date: Sat, 29 Feb 2020 23:59:59 +0000",
		  "X-Postern-Queue-ID: " QUEUE_ID },
		{ "Final-Recipient: rfc822; bob@example.net", "Action: failed",
		  "Status: 5.1.1", "Remote-MTA: dns; mx.example.net",
		  "Diagnostic-Code: smtp; " BOB_REPLY,
		  "Last-Attempt-Date: Thu, 01 Jan 1970 00:00:01 +0000" },
		{ NULL },
	};
	static const char *const no_dates[][FIELDS_MAX] = {
		{ "Reporting-MTA: dns; " HOST },
		{ "Final-Recipient: rfc822; bob@example.net", "Action: failed",
		  "Status: 5.1.1", "Remote-MTA: dns; mx.example.net",
		  "Diagnostic-Code: smtp; " BOB_REPLY },
		{ NULL },
	};
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	struct dsn_recipient r = bob;
	GMimeObject *parts[3];
	GMimeMessage *msg;
	struct buf out, text;

	ck_assert_ptr_nonnull(setlocale(LC_ALL, "C"));
	/* ten hours east of UTC, no tzdata needed */
	ck_assert_int_eq(setenv("TZ", "XST-10", 1), 0);
	tzset();
	m.arrival = 1583020799;		/* the leap day, a second before midnight */
	m.now = 1583020800;
	r.last_attempt = 1;
	build(&m, &r, 1, &out);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	ck_assert_str_eq(top_header(msg, "Date"), "Sun, 01 Mar 2020 00:00:00 +0000");
	check_report(parts[1], want);
	explanation(parts[0], &text);
	ck_assert(has(&text, "queued as " QUEUE_ID " on Sat, 29 Feb 2020 23:59:59 +0000."));
	buf_free(&text);
	g_object_unref(msg);
	buf_free(&out);

	m.arrival = 0;
	m.queue_id = NULL;
	r.last_attempt = 0;
	build(&m, &r, 1, &out);
	msg = parse_report(&out, "text/rfc822-headers", parts);
	check_report(parts[1], no_dates);
	explanation(parts[0], &text);
	ck_assert(!has(&text, "queued"));
	ck_assert(!has(&text, "arrived"));
	buf_free(&text);
	g_object_unref(msg);
	buf_free(&out);
}
END_TEST

START_TEST(test_appends_within_max)
{
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	const char *error = NULL;
	struct buf out;
	size_t len;

	/* appended after what out holds */
	buf_init(&out, OUT_MAX);
	ck_assert_int_eq(buf_printf(&out, "X-Before: 1\r\n"), 0);
	ck_assert_int_eq(dsn_build(&m, &bob, 1, &out, &error), 0);
	ck_assert_int_eq(strncmp(out.data, "X-Before: 1\r\nFrom: Mail Delivery System",
				 strlen("X-Before: 1\r\nFrom: Mail Delivery System")), 0);
	len = out.len - strlen("X-Before: 1\r\n");
	buf_free(&out);

	/* exactly the size fits; one octet less is an error and out is
	 * left as it was */
	buf_init(&out, len);
	ck_assert_int_eq(dsn_build(&m, &bob, 1, &out, &error), 0);
	ck_assert_uint_eq(out.len, len);
	buf_free(&out);
	buf_init(&out, len - 1);
	ck_assert_int_eq(dsn_build(&m, &bob, 1, &out, &error), -1);
	ck_assert_str_eq(error, "the bounce would be longer than its buffer's maximum");
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
}
END_TEST

START_TEST(test_ids_differ)
{
	struct dsn_message m = message(ORIG, sizeof(ORIG) - 1);
	GMimeMessage *a, *b;
	struct buf out1, out2;

	build(&m, &bob, 1, &out1);
	build(&m, &bob, 1, &out2);
	a = parse(&out1);
	b = parse(&out2);
	ck_assert_str_ne(g_mime_message_get_message_id(a), g_mime_message_get_message_id(b));
	ck_assert_str_ne(boundary_of(a), boundary_of(b));
	g_object_unref(a);
	g_object_unref(b);
	buf_free(&out1);
	buf_free(&out2);
}
END_TEST

static void setup(void)
{
	g_mime_init();
}

static void teardown(void)
{
	g_mime_shutdown();
}

static Suite *dsn_suite(void)
{
	Suite *s = suite_create("dsn");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_one_recipient);
	tcase_add_test(tc, test_several_recipients);
	tcase_add_test(tc, test_hostile_text);
	tcase_add_test(tc, test_long_diagnostic);
	tcase_add_test(tc, test_header_only_original);
	tcase_add_test(tc, test_include_body);
	tcase_add_test(tc, test_include_body_cut);
	tcase_add_test(tc, test_8bit_original);
	tcase_add_test(tc, test_binary_original);
	tcase_add_test(tc, test_boundary_collision);
	tcase_add_test(tc, test_bounce_of_bounce);
	tcase_add_test(tc, test_null_sender);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_long_address);
	tcase_add_test(tc, test_dates);
	tcase_add_test(tc, test_appends_within_max);
	tcase_add_test(tc, test_ids_differ);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(dsn_suite());
}

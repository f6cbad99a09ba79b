/* check_submission.c - unit tests for mail/submission: the envelope
 * recipients a submitted header gives, and the header that is stored and
 * relayed, byte for byte. */
#include "build-config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "mail/submission.h"
#include "unit.h"

#define SENDER "me@example.org"
#define HOST "mail.example.net"
#define NOW ((time_t)1796159008)	/* Tue, 01 Dec 2026 21:03:28 UTC */

/* what the server adds */
#define ADD_FROM "From: <" SENDER ">\r\n"
#define ADD_DATE "Date: Tue, 01 Dec 2026 21:03:28 +0000\r\n"
/* "%ID%" stands for "<32 lower-case hex digits@" HOST ">" */
#define ADD_MSGID "Message-ID: %ID%\r\n"

/* a message that needs nothing added */
#define STD "From: Me <me@example.org>\r\n" \
	"Date: Mon, 30 Nov 2026 10:00:00 +0100\r\n" \
	"Message-ID: <1@example.org>\r\n"
#define STD_LF "From: Me <me@example.org>\n" \
	"Date: Mon, 30 Nov 2026 10:00:00 +0100\n" \
	"Message-ID: <1@example.org>\n"

struct ok_case {
	const char *name;
	const char *in;
	const char *rcpts[8];	/* NULL-terminated */
	bool resent;
	const char *out;	/* the header written, "%ID%" as above */
};

static const struct ok_case ok_cases[] = {
	{ "To only",
	  STD "To: a@example.com\r\n\r\n",
	  { "a@example.com" }, false,
	  STD "To: a@example.com\r\n\r\n" },
	{ "To, Cc and Bcc: Bcc gone, its address in the envelope",
	  STD "To: a@x.org\r\nCc: b@x.org\r\nBcc: c@x.org\r\nSubject: hi\r\n\r\n",
	  { "a@x.org", "b@x.org", "c@x.org" }, false,
	  STD "To: a@x.org\r\nCc: b@x.org\r\nSubject: hi\r\n\r\n" },
	{ "a folded Bcc goes with all its lines",
	  STD "Bcc: c@x.org,\r\n d@x.org\r\nTo: a@x.org\r\n\r\n",
	  { "c@x.org", "d@x.org", "a@x.org" }, false,
	  STD "To: a@x.org\r\n\r\n" },
	{ "several To and Cc fields, in header order",
	  STD "To: a@x.org\r\nTo: b@x.org\r\nCc: c@x.org\r\nSubject: s\r\nTo: d@x.org\r\n\r\n",
	  { "a@x.org", "b@x.org", "c@x.org", "d@x.org" }, false,
	  STD "To: a@x.org\r\nTo: b@x.org\r\nCc: c@x.org\r\nSubject: s\r\nTo: d@x.org\r\n\r\n" },
	{ "folded fields are read whole and kept as folded",
	  STD "To: Ann <a@x.org>,\r\n\tBob\r\n  <b@x.org>\r\nCc:\r\n c@x.org\r\n\r\n",
	  { "a@x.org", "b@x.org", "c@x.org" }, false,
	  STD "To: Ann <a@x.org>,\r\n\tBob\r\n  <b@x.org>\r\nCc:\r\n c@x.org\r\n\r\n" },
	{ "an empty group gives nobody",
	  STD "To: undisclosed-recipients:;\r\nBcc: a@x.org\r\n\r\n",
	  { "a@x.org" }, false,
	  STD "To: undisclosed-recipients:;\r\n\r\n" },
	{ "a group gives its members",
	  STD "To: Team: a@x.org, \"B\" <b@x.org>;, c@x.org\r\n\r\n",
	  { "a@x.org", "b@x.org", "c@x.org" }, false,
	  STD "To: Team: a@x.org, \"B\" <b@x.org>;, c@x.org\r\n\r\n" },
	{ "quoted local parts stay quoted",
	  STD "To: \"john doe\"@example.com, <\"j@d\"@example.com>\r\n\r\n",
	  { "\"john doe\"@example.com", "\"j@d\"@example.com" }, false,
	  STD "To: \"john doe\"@example.com, <\"j@d\"@example.com>\r\n\r\n" },
	{ "display names with commas, quotes, encoded words, comments",
	  STD "To: \"Doe, John\" <j@x.org>, \"Say \\\"hi\\\", ok\" <h@x.org>,\r\n"
	  " =?UTF-8?B?SsO8cmdlbiwgSi4=?= <jj@x.org>, k@x.org (Kay, K.),\r\n"
	  " (c) Lee (the <boss>) <l@x.org>, =?UTF-8?Q?M=2C_N?= <m@x.org>\r\n\r\n",
	  { "j@x.org", "h@x.org", "jj@x.org", "k@x.org", "l@x.org", "m@x.org" }, false,
	  STD "To: \"Doe, John\" <j@x.org>, \"Say \\\"hi\\\", ok\" <h@x.org>,\r\n"
	  " =?UTF-8?B?SsO8cmdlbiwgSi4=?= <jj@x.org>, k@x.org (Kay, K.),\r\n"
	  " (c) Lee (the <boss>) <l@x.org>, =?UTF-8?Q?M=2C_N?= <m@x.org>\r\n\r\n" },
	{ "duplicates once: domain case-insensitive, local part exact",
	  STD "To: a@X.org, A@x.org, Ann <a@x.ORG>\r\nCc: a@x.org, b@x.org\r\nBcc: B@x.org, b@X.ORG\r\n\r\n",
	  { "a@X.org", "A@x.org", "b@x.org", "B@x.org" }, false,
	  STD "To: a@X.org, A@x.org, Ann <a@x.ORG>\r\nCc: a@x.org, b@x.org\r\n\r\n" },
	{ "an international domain in its ASCII form",
	  STD "To: J\xc3\xbcrgen <j@b\xc3\xbc" "cher.de>\r\n\r\n",
	  { "j@xn--bcher-kva.de" }, false,
	  STD "To: J\xc3\xbcrgen <j@b\xc3\xbc" "cher.de>\r\n\r\n" },
	{ "field names in any case, white space before the colon",
	  STD "tO: a@x.org\r\nCC : b@x.org\r\nbcc:c@x.org\r\n\r\n",
	  { "a@x.org", "b@x.org", "c@x.org" }, false,
	  STD "tO: a@x.org\r\nCC : b@x.org\r\n\r\n" },
	{ "empty Cc fields give nobody",
	  STD "To: a@x.org\r\nCc:\r\nCc: \t\r\n\r\n",
	  { "a@x.org" }, false,
	  STD "To: a@x.org\r\nCc:\r\nCc: \t\r\n\r\n" },
	{ "Date, From and Message-ID missing: added at the end",
	  "To: a@x.org\r\nSubject: s\r\n\r\n",
	  { "a@x.org" }, false,
	  "To: a@x.org\r\nSubject: s\r\n" ADD_FROM ADD_DATE ADD_MSGID "\r\n" },
	{ "only Message-ID missing",
	  "From: a@x.org\r\nDATE: Mon, 30 Nov 2026 10:00:00 +0100\r\nTo: b@x.org\r\n\r\n",
	  { "b@x.org" }, false,
	  "From: a@x.org\r\nDATE: Mon, 30 Nov 2026 10:00:00 +0100\r\nTo: b@x.org\r\n" ADD_MSGID "\r\n" },
	{ "Date and Message-ID present in any case: kept as they are",
	  "message-id:<x@y>\r\nfrom: a@x.org\r\nTo: b@x.org\r\ndate: whenever\r\n\r\n",
	  { "b@x.org" }, false,
	  "message-id:<x@y>\r\nfrom: a@x.org\r\nTo: b@x.org\r\ndate: whenever\r\n\r\n" },
	{ "LF line ends become CRLF",
	  STD_LF "To: a@x.org,\n b@x.org\nBcc: c@x.org\nSubject: s\n\n",
	  { "a@x.org", "b@x.org", "c@x.org" }, false,
	  STD "To: a@x.org,\r\n b@x.org\r\nSubject: s\r\n\r\n" },
	{ "a header without a body, no line end at the end",
	  STD "To: a@x.org",
	  { "a@x.org" }, false,
	  STD "To: a@x.org\r\n\r\n" },
	{ "a header without a body, ending with its line end",
	  STD_LF "To: a@x.org\n",
	  { "a@x.org" }, false,
	  STD "To: a@x.org\r\n\r\n" },
	{ "the body is not read",
	  STD "To: a@x.org\r\n\r\nBcc: b@x.org\r\nnot a header\r\n\x01\r\n",
	  { "a@x.org" }, false,
	  STD "To: a@x.org\r\n\r\n" },
	{ "Resent- block on top: only its recipients, its Resent-Bcc gone",
	  "Resent-From: me@example.org\r\n"
	  "Resent-Date: Tue, 01 Dec 2026 20:00:00 +0000\r\n"
	  "Resent-Message-ID: <r1@example.org>\r\n"
	  "Resent-To: r@x.org\r\nResent-Cc: s@x.org\r\nResent-Bcc: t@x.org\r\n"
	  STD "To: orig@x.org\r\nCc: origc@x.org\r\nSubject: s\r\n\r\n",
	  { "r@x.org", "s@x.org", "t@x.org" }, true,
	  "Resent-From: me@example.org\r\n"
	  "Resent-Date: Tue, 01 Dec 2026 20:00:00 +0000\r\n"
	  "Resent-Message-ID: <r1@example.org>\r\n"
	  "Resent-To: r@x.org\r\nResent-Cc: s@x.org\r\n"
	  STD "To: orig@x.org\r\nCc: origc@x.org\r\nSubject: s\r\n\r\n" },
	{ "resending a message that kept its Bcc: that Bcc goes too",
	  "Resent-To: r@x.org\r\nResent-From: me@example.org\r\n"
	  "Resent-Date: x\r\nResent-Message-ID: <r@y>\r\n"
	  STD "To: orig@x.org\r\nBcc: secret@x.org\r\n\r\n",
	  { "r@x.org" }, true,
	  "Resent-To: r@x.org\r\nResent-From: me@example.org\r\n"
	  "Resent-Date: x\r\nResent-Message-ID: <r@y>\r\n"
	  STD "To: orig@x.org\r\n\r\n" },
	{ "two Resent- blocks: only the top one",
	  "Resent-To: new@x.org\r\nResent-Bcc: newb@x.org\r\n"
	  "Resent-From: me@example.org\r\nResent-Date: d2\r\nResent-Message-ID: <r2@y>\r\n"
	  "Received: from a by b; Mon, 30 Nov 2026 12:00:00 +0000\r\n"
	  "Resent-To: old@x.org\r\nResent-Bcc: oldb@x.org\r\n"
	  "Resent-From: o@x.org\r\nResent-Date: d1\r\nResent-Message-ID: <r1@y>\r\n"
	  STD "To: orig@x.org\r\n\r\n",
	  { "new@x.org", "newb@x.org" }, true,
	  "Resent-To: new@x.org\r\n"
	  "Resent-From: me@example.org\r\nResent-Date: d2\r\nResent-Message-ID: <r2@y>\r\n"
	  "Received: from a by b; Mon, 30 Nov 2026 12:00:00 +0000\r\n"
	  "Resent-To: old@x.org\r\n"
	  "Resent-From: o@x.org\r\nResent-Date: d1\r\nResent-Message-ID: <r1@y>\r\n"
	  STD "To: orig@x.org\r\n\r\n" },
	{ "a Resent- block lacking From, Date, Message-ID: added at its end",
	  "resent-to: r@x.org\r\nReceived: from a by b; x\r\nTo: orig@x.org\r\nSubject: s\r\n\r\n",
	  { "r@x.org" }, true,
	  "resent-to: r@x.org\r\n"
	  "Resent-" ADD_FROM "Resent-" ADD_DATE "Resent-" ADD_MSGID
	  "Received: from a by b; x\r\nTo: orig@x.org\r\nSubject: s\r\n\r\n" },
	{ "a header that is all one Resent- block",
	  "Resent-To: r@x.org\r\nResent-Date: d\r\n",
	  { "r@x.org" }, true,
	  "Resent-To: r@x.org\r\nResent-Date: d\r\n"
	  "Resent-" ADD_FROM "Resent-" ADD_MSGID "\r\n" },
	{ "a Resent- block below the top is not the envelope; its Bcc goes",
	  "Received: from a by b; x\r\nResent-To: r@x.org\r\nResent-Bcc: rb@x.org\r\n"
	  STD "To: a@x.org\r\n\r\n",
	  { "a@x.org" }, false,
	  "Received: from a by b; x\r\nResent-To: r@x.org\r\n"
	  STD "To: a@x.org\r\n\r\n" },
	{ "an obsolete route is dropped",
	  STD "To: <@relay.x.org:a@x.org>\r\n\r\n",
	  { "a@x.org" }, false,
	  STD "To: <@relay.x.org:a@x.org>\r\n\r\n" },
	{ "a group inside a group still gives its members",
	  STD "To: A: B: b@x.org;, a@x.org;\r\n\r\n",
	  { "b@x.org", "a@x.org" }, false,
	  STD "To: A: B: b@x.org;, a@x.org;\r\n\r\n" },
};

/* got matches want, where "%ID%" in want matches an added Message-ID. */
static bool header_matches(const char *want, const char *got, size_t got_len)
{
	const char *g = got, *end = got + got_len;

	while (*want != '\0') {
		if (strncmp(want, "%ID%", 4) == 0) {
			if (end - g < 1 + 32 + 1 + (long)strlen(HOST) + 1 || *g++ != '<')
				return false;
			for (int i = 0; i < 32; i++, g++) {
				if (!((*g >= '0' && *g <= '9') || (*g >= 'a' && *g <= 'f')))
					return false;
			}
			if (*g++ != '@' || strncmp(g, HOST, strlen(HOST)) != 0)
				return false;
			g += strlen(HOST);
			if (*g++ != '>')
				return false;
			want += 4;
			continue;
		}
		if (g == end || *g != *want)
			return false;
		g++;
		want++;
	}
	return g == end;
}

START_TEST(test_ok)
{
	const struct ok_case *t = &ok_cases[_i];
	struct submission_header h;
	const char *error = NULL;
	size_t n = 0;

	ck_assert_msg(submission_header_process(t->in, strlen(t->in), SENDER,
						HOST, NOW, &h, &error) == 0,
		      "%s: refused: %s", t->name, error ? error : "(null)");
	while (t->rcpts[n] != NULL)
		n++;
	ck_assert_msg(h.rcpt_count == n, "%s: %zu recipients, want %zu",
		      t->name, h.rcpt_count, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(strcmp(h.rcpts[i], t->rcpts[i]) == 0,
			      "%s: recipient %zu is '%s', want '%s'", t->name, i,
			      h.rcpts[i], t->rcpts[i]);
	ck_assert_msg(h.resent == t->resent, "%s: resent %d", t->name, h.resent);
	ck_assert_msg(header_matches(t->out, h.header.data, h.header.len),
		      "%s: header\n---\n%.*s---\nwant\n---\n%s---", t->name,
		      (int)h.header.len, h.header.data, t->out);
	submission_header_free(&h);
	ck_assert_ptr_null(h.rcpts);
	ck_assert_uint_eq(h.header.len, 0);
	submission_header_free(&h);
}
END_TEST

struct bad_case {
	const char *name;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *error;
};

static const struct bad_case bad_cases[] = {
	{ "no recipient field", STD "Subject: s\r\n\r\n", 0, "no recipients" },
	{ "only undisclosed-recipients", STD "To: undisclosed-recipients:;\r\n\r\n", 0,
	  "no recipients" },
	{ "only empty groups and fields",
	  STD "To: a:;\r\nCc: \r\nBcc: b: ;\r\n\r\n", 0, "no recipients" },
	{ "an empty message", "", 0, "no recipients" },
	{ "a message with an empty header", "\r\nTo: a@x.org\r\n", 0, "no recipients" },
	{ "a Resent- block without recipients; the original To does not count",
	  "Resent-From: me@example.org\r\n" STD "To: a@x.org\r\n\r\n", 0,
	  "no recipients" },
	{ "two addresses without a comma",
	  STD "To: a@x.org\r\nCc: b@x.org c@x.org\r\n\r\n", 0,
	  "the Cc field is not a valid address list: 'b@x.org c@x.org'" },
	{ "an empty angle address", STD "To: <>\r\n\r\n", 0,
	  "the To field is not a valid address list: '<>'" },
	{ "an unclosed angle bracket", STD "Bcc: Ann <a@x.org\r\n\r\n", 0,
	  "the Bcc field is not a valid address list: 'Ann <a@x.org'" },
	{ "an unterminated quoted display name", STD "To: \"Ann <a@x.org>\r\n\r\n", 0,
	  "the To field is not a valid address list: '\"Ann <a@x.org>'" },
	{ "a local part with two dots", STD "To: a..b@x.org\r\n\r\n", 0,
	  "the To field is not a valid address list: 'a..b@x.org'" },
	{ "a broken Resent-To is named", "Resent-To: r@x.org, @y\r\n" STD "\r\n", 0,
	  "the Resent-To field is not a valid address list: 'r@x.org, @y'" },
	{ "an address without a domain", STD "To: a@x.org, postmaster\r\n\r\n", 0,
	  "the To field holds an address without a domain: 'postmaster'" },
	{ "an address without a domain in a group", STD "Cc: G: a@x.org, bob;\r\n\r\n", 0,
	  "the Cc field holds an address without a domain: 'bob'" },
	{ "a line that is not a field", STD "To: a@x.org\r\nthis is not a field\r\n\r\n", 0,
	  "header line 5 is not a field (\"Name: value\"): 'this is not a field'" },
	{ "an mbox From_ line", "From me@example.org Tue Dec  1 21:03:28 2026\r\n"
	  "To: a@x.org\r\n\r\n", 0,
	  "header line 1 is not a field (\"Name: value\"): 'From me@example.org Tue Dec  1 21:03:28 2026'" },
	{ "a field with no name", STD ": a@x.org\r\n\r\n", 0,
	  "header line 4 is not a field (\"Name: value\"): ': a@x.org'" },
	{ "a field name with 8-bit octets", STD "T\xc3\xb6: a@x.org\r\n\r\n", 0,
	  "header line 4 is not a field (\"Name: value\"): 'T??: a@x.org'" },
	{ "a continuation with no field before it", " To: a@x.org\r\n\r\n", 0,
	  "header line 1 is a continuation line with no field before it" },
	{ "a line of only white space", STD "To: a@x.org\r\n \t\r\nSubject: s\r\n\r\n", 0,
	  "header line 5 holds only white space" },
	{ "a NUL octet", STD "To: a@x.org\r\nSubject: a\0b\r\n\r\n",
	  sizeof(STD "To: a@x.org\r\nSubject: a\0b\r\n\r\n") - 1,
	  "header line 5 holds a NUL octet" },
	{ "a bare CR", STD "To: a@x.org\r\nSubject: a\rb\r\n\r\n", 0,
	  "header line 5 holds a CR that does not end the line" },
	{ "too many ':' for GMime's recursion",
	  STD "To: a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r:s:t:u:v:w:x:y:z:a:b:c:d:e:f:g:h:"
	  "i:j:k:l:m:n:o:p:q:r:s:t:u:v:w:x:y:z:a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r:s:"
	  "t:u:v:w:x:y:z:a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r:s:t:u:v:w:x:y:z:a:b:c:d:"
	  "e:f:g:h:i:j:k:l:m:n:o:p:q:r:s:t:u:v:w:x:y:z:a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:"
	  "p:q:r:s:t:u:v:w:x:y:z:a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r:s:t:u:v:w:x:y:z:"
	  "a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r:s:t:u:v:w:x:y:z:a:b:c:d:e:f:g:h:i:j:k:"
	  "l:m:n:o:p:q:r:s:t:u:v:w:x:y:z:a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r:s:t:u:v:"
	  "w:x:y:z:a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r:s:t:u:v:w:x:y:z:a@x.org\r\n\r\n", 0,
	  "the To field holds more than 256 ':' (groups)" },
};

START_TEST(test_bad)
{
	const struct bad_case *t = &bad_cases[_i];
	struct submission_header h;
	const char *error = NULL;
	size_t len = t->len != 0 ? t->len : strlen(t->in);

	ck_assert_msg(submission_header_process(t->in, len, SENDER, HOST, NOW,
						&h, &error) == -1,
		      "%s: accepted", t->name);
	ck_assert_msg(error != NULL && strcmp(error, t->error) == 0,
		      "%s: error '%s', want '%s'", t->name,
		      error ? error : "(null)", t->error);
	/* nothing left to free, and freeing is harmless */
	ck_assert_ptr_null(h.rcpts);
	ck_assert_uint_eq(h.rcpt_count, 0);
	ck_assert_uint_eq(h.header.len, 0);
	submission_header_free(&h);
}
END_TEST

static int process(struct buf *in, struct submission_header *h,
		   const char **error_r)
{
	return submission_header_process(in->data, in->len, SENDER, HOST, NOW, h,
					 error_r);
}

START_TEST(test_body_offset)
{
	static const char msg[] = STD "To: a@x.org\r\n\r\nbody\r\n";
	static const char msg_lf[] = STD_LF "To: a@x.org\n\nbody\n";
	static const char no_body[] = STD "To: a@x.org\r\n";
	struct submission_header h;
	const char *error = NULL;

	ck_assert_int_eq(submission_header_process(msg, sizeof(msg) - 1, SENDER,
						   HOST, NOW, &h, &error), 0);
	ck_assert_str_eq(msg + h.body_offset, "body\r\n");
	submission_header_free(&h);
	ck_assert_int_eq(submission_header_process(msg_lf, sizeof(msg_lf) - 1,
						   SENDER, HOST, NOW, &h, &error), 0);
	ck_assert_str_eq(msg_lf + h.body_offset, "body\n");
	submission_header_free(&h);
	ck_assert_int_eq(submission_header_process(no_body, sizeof(no_body) - 1,
						   SENDER, HOST, NOW, &h, &error), 0);
	ck_assert_uint_eq(h.body_offset, sizeof(no_body) - 1);
	submission_header_free(&h);
}
END_TEST

START_TEST(test_message_ids_differ)
{
	static const char msg[] = "To: a@x.org\r\n\r\n";
	struct submission_header h1, h2;
	const char *error = NULL;

	ck_assert_int_eq(submission_header_process(msg, sizeof(msg) - 1, SENDER,
						   HOST, NOW, &h1, &error), 0);
	ck_assert_int_eq(submission_header_process(msg, sizeof(msg) - 1, SENDER,
						   HOST, NOW, &h2, &error), 0);
	ck_assert_uint_eq(h1.header.len, h2.header.len);
	ck_assert_int_ne(memcmp(h1.header.data, h2.header.data, h1.header.len), 0);
	submission_header_free(&h1);
	submission_header_free(&h2);
}
END_TEST

/* "To: " and n addresses u0@x.org, u1@x.org, ... on folded lines,
 * `distinct` of them different (the rest repeat them). */
static void rcpt_list(struct buf *in, size_t n, size_t distinct)
{
	buf_init(in, 2 * SUBMISSION_HEADER_MAX);
	ck_assert_int_eq(buf_printf(in, "%s", STD "To: "), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(buf_printf(in, "%su%zu@x.org", i ? ",\r\n " : "",
					    i % distinct), 0);
	ck_assert_int_eq(buf_printf(in, "\r\n\r\n"), 0);
}

START_TEST(test_rcpt_limit)
{
	struct submission_header h;
	const char *error = NULL;
	struct buf in;

	rcpt_list(&in, SUBMISSION_RCPT_MAX, SUBMISSION_RCPT_MAX);
	ck_assert_int_eq(process(&in, &h, &error), 0);
	ck_assert_uint_eq(h.rcpt_count, 1000);
	ck_assert_str_eq(h.rcpts[999], "u999@x.org");
	submission_header_free(&h);
	buf_free(&in);

	rcpt_list(&in, SUBMISSION_RCPT_MAX + 1, SUBMISSION_RCPT_MAX + 1);
	ck_assert_int_eq(process(&in, &h, &error), -1);
	ck_assert_str_eq(error, "too many recipients (at most 1000)");
	buf_free(&in);

	/* duplicates are not counted: 5000 addresses, 1000 people */
	rcpt_list(&in, 5 * SUBMISSION_RCPT_MAX, SUBMISSION_RCPT_MAX);
	ck_assert_int_eq(process(&in, &h, &error), 0);
	ck_assert_uint_eq(h.rcpt_count, 1000);
	submission_header_free(&h);
	buf_free(&in);
}
END_TEST

START_TEST(test_rcpt_field_limit)
{
	struct submission_header h;
	const char *error = NULL;
	struct buf in;

	/* 100 To, Cc and Bcc fields are read, one more is refused; the
	 * Resent- forms count in a resent message */
	for (int fields = 100; fields <= 101; fields++) {
		for (int resent = 0; resent <= 1; resent++) {
			buf_init(&in, 65536);
			for (int i = 0; i < fields; i++)
				ck_assert_int_eq(buf_printf(&in, "%s%s: u%d@x.org\r\n",
					resent ? "Resent-" : "",
					i % 3 == 0 ? "To" : i % 3 == 1 ? "Cc" : "Bcc", i), 0);
			ck_assert_int_eq(buf_printf(&in, "%s", STD "\r\n"), 0);
			if (fields == 100) {
				ck_assert_int_eq(process(&in, &h, &error), 0);
				ck_assert_uint_eq(h.rcpt_count, 100);
				submission_header_free(&h);
			} else {
				ck_assert_int_eq(process(&in, &h, &error), -1);
				ck_assert_str_eq(error, resent ?
					"more than 100 Resent-To, Resent-Cc and Resent-Bcc fields" :
					"more than 100 To, Cc and Bcc fields");
			}
			buf_free(&in);
		}
	}
}
END_TEST

/* A header of exactly `size` octets, the empty line included: a To field,
 * then one Subject folded over as many lines as it takes. */
static void header_of_size(struct buf *in, size_t size)
{
	size_t line = 80;

	buf_init(in, 2 * SUBMISSION_HEADER_MAX);
	ck_assert_int_eq(buf_printf(in, "To: a@x.org\r\nSubject: s\r\n"), 0);
	while (in->len + 2 < size) {
		size_t left = size - 2 - in->len;
		size_t n = left < line ? left : line;

		/* " x...x\r\n": no line shorter than " x\r\n" */
		if (left - n > 0 && left - n < 4)
			n -= 4;
		ck_assert_uint_ge(n, 4);
		ck_assert_ptr_nonnull(buf_reserve(in, n));
		in->data[in->len] = ' ';
		memset(in->data + in->len + 1, 'x', n - 3);
		memcpy(in->data + in->len + n - 2, "\r\n", 2);
		in->len += n;
	}
	ck_assert_int_eq(buf_append(in, "\r\n", 2), 0);
	ck_assert_uint_eq(in->len, size);
}

START_TEST(test_header_size_limit)
{
	struct submission_header h;
	const char *error = NULL;
	struct buf in;

	header_of_size(&in, SUBMISSION_HEADER_MAX);
	ck_assert_int_eq(process(&in, &h, &error), 0);
	ck_assert_uint_eq(h.body_offset, SUBMISSION_HEADER_MAX);
	submission_header_free(&h);
	buf_free(&in);

	header_of_size(&in, SUBMISSION_HEADER_MAX + 1);
	ck_assert_int_eq(process(&in, &h, &error), -1);
	ck_assert_str_eq(error, "the header is longer than 1048576 octets");
	buf_free(&in);

	/* a "header" that never ends and has no line end either */
	buf_init(&in, 2 * SUBMISSION_HEADER_MAX);
	ck_assert_int_eq(buf_printf(&in, "To: a@x.org\r\nX: "), 0);
	while (in.len < SUBMISSION_HEADER_MAX + 10)
		ck_assert_int_eq(buf_append(&in, "y", 1), 0);
	ck_assert_int_eq(process(&in, &h, &error), -1);
	ck_assert_str_eq(error, "the header is longer than 1048576 octets");
	buf_free(&in);
}
END_TEST

START_TEST(test_line_length)
{
	struct submission_header h;
	const char *error = NULL;
	struct buf in;

	/* 998 octets before the CRLF are allowed, 999 are not */
	for (size_t len = 998; len <= 999; len++) {
		buf_init(&in, 4096);
		ck_assert_int_eq(buf_printf(&in, "To: a@x.org\r\nSubject: "), 0);
		while (in.len < 13 + len)
			ck_assert_int_eq(buf_append(&in, "s", 1), 0);
		ck_assert_int_eq(buf_printf(&in, "\r\n\r\n"), 0);
		if (len == 998) {
			ck_assert_int_eq(process(&in, &h, &error), 0);
			submission_header_free(&h);
		} else {
			ck_assert_int_eq(process(&in, &h, &error), -1);
			ck_assert_str_eq(error,
				"header line 2 is longer than 998 octets (RFC 5322 2.1.1): fold it");
		}
		buf_free(&in);
	}
}
END_TEST

START_TEST(test_deep_groups_refused)
{
	struct submission_header h;
	const char *error = NULL;
	struct buf in;

	/* deep enough to overflow GMime's stack if it ever saw it */
	buf_init(&in, 2 * SUBMISSION_HEADER_MAX);
	ck_assert_int_eq(buf_printf(&in, "To: "), 0);
	for (int i = 0; i < 100000; i++)
		ck_assert_int_eq(buf_append(&in, i % 400 == 399 ? "a:\r\n " : "a:",
					    i % 400 == 399 ? 5 : 2), 0);
	ck_assert_int_eq(buf_printf(&in, "b@x.org\r\n\r\n"), 0);
	ck_assert_int_eq(process(&in, &h, &error), -1);
	ck_assert_str_eq(error, "the To field holds more than 256 ':' (groups)");
	buf_free(&in);
}
END_TEST

START_TEST(test_long_address)
{
	struct submission_header h;
	const char *error = NULL;
	struct buf in;

	/* 64 + 1 + 189 = 254 octets pass, one more does not */
	for (size_t extra = 0; extra <= 1; extra++) {
		buf_init(&in, 4096);
		ck_assert_int_eq(buf_printf(&in, "To: %.*s@", 64,
			"llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll"), 0);
		for (size_t i = 0; i < 188 + extra; i += 1)
			ck_assert_int_eq(buf_append(&in, i % 60 == 59 ? "." : "d", 1), 0);
		ck_assert_int_eq(buf_printf(&in, "d\r\n\r\n"), 0);
		if (extra == 0) {
			ck_assert_int_eq(process(&in, &h, &error), 0);
			ck_assert_uint_eq(strlen(h.rcpts[0]), 254);
			submission_header_free(&h);
		} else {
			ck_assert_int_eq(process(&in, &h, &error), -1);
			ck_assert_msg(strncmp(error,
				"the To field holds an address longer than 254 octets: 'llll", 59) == 0,
				"error: %s", error);
		}
		buf_free(&in);
	}
}
END_TEST

START_TEST(test_caller_values_checked)
{
	static const char msg[] = "To: a@x.org\r\n\r\n";
	struct submission_header h;
	const char *error = NULL;

	ck_assert_int_eq(submission_header_process(msg, sizeof(msg) - 1,
		"me@example.org>\r\nBcc: x@y", HOST, NOW, &h, &error), -1);
	ck_assert_str_eq(error, "the sender is not an address (an internal error)");
	ck_assert_int_eq(submission_header_process(msg, sizeof(msg) - 1,
		"", HOST, NOW, &h, &error), -1);
	ck_assert_int_eq(submission_header_process(msg, sizeof(msg) - 1,
		SENDER, "mail example", NOW, &h, &error), -1);
	ck_assert_str_eq(error,
		"the server's hostname is not a domain name (letters, digits, '.', '-')");
	ck_assert_int_eq(submission_header_process(msg, sizeof(msg) - 1,
		SENDER, "", NOW, &h, &error), -1);
}
END_TEST

/* In a child of its own: GMime's state is the process's, and after fini
 * it is gone for good (also with CK_FORK=no). */
static int init_fini_child(void)
{
	static const char msg[] = "To: a@x.org\r\n\r\n";
	struct submission_header h;
	const char *error = NULL;

	/* twice is harmless */
	submission_init();
	submission_init();
	if (submission_header_process(msg, sizeof(msg) - 1, SENDER, HOST, NOW,
				      &h, &error) != 0)
		return 1;
	submission_header_free(&h);
	submission_fini();
	submission_fini();
	/* GMime cannot start again: refused, not a crash */
	submission_init();
	if (submission_header_process(msg, sizeof(msg) - 1, SENDER, HOST, NOW,
				      &h, &error) != -1 ||
	    strcmp(error, "submission_header_process() after submission_fini() (an internal error)") != 0 ||
	    h.header.len != 0)
		return 2;
	return 0;
}

START_TEST(test_init_fini)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0)
		exit(init_fini_child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "init/fini child: status %#x", (unsigned int)status);
}
END_TEST

static void setup(void)
{
	submission_init();
}

static void teardown(void)
{
	submission_fini();
}

static Suite *submission_suite(void)
{
	Suite *s = suite_create("submission");
	TCase *tc = tcase_create("core");
	TCase *life = tcase_create("lifecycle");

	/* first, while this process has not started GMime */
	tcase_add_test(life, test_init_fini);
	suite_add_tcase(s, life);
	/* once, in the process the tests fork from (GMime starts only once) */
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_ok, 0, sizeof(ok_cases) / sizeof(ok_cases[0]));
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_body_offset);
	tcase_add_test(tc, test_message_ids_differ);
	tcase_add_test(tc, test_rcpt_limit);
	tcase_add_test(tc, test_rcpt_field_limit);
	tcase_add_test(tc, test_header_size_limit);
	tcase_add_test(tc, test_line_length);
	tcase_add_test(tc, test_deep_groups_refused);
	tcase_add_test(tc, test_long_address);
	tcase_add_test(tc, test_caller_values_checked);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(submission_suite());
}

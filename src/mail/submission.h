/* submission.h - the header side of a mail submission (SPEC.md 5, XTND
 * XMIT): the envelope recipients taken from the header, and the header to
 * store and relay.  Pure functions: no store, no I/O but the random bytes
 * of a Message-ID.
 *
 * Address lists are parsed by GMime 3 (groups, quoted local parts, RFC 2047
 * display names, comments); the header's framing by mail/header.h, so the
 * fields that are kept go out byte for byte, only their line ends CRLF. */
#ifndef PN_SUBMISSION_H
#define PN_SUBMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

/* Far beyond any header a mail client writes (Outlook and Thunderbird stay
 * under 64 KiB even with long recipient lists); it bounds what one
 * submission makes GMime parse and us copy. */
#define SUBMISSION_HEADER_MAX (1024 * 1024)
/* RFC 5321 4.5.3.1.8 asks a server to take at least 100.  More than 1000
 * from one person's client is a mass mailing, which this path is not for,
 * and it bounds the relay queue entry and the bounces one message can
 * cause. */
#define SUBMISSION_RCPT_MAX 1000
/* RFC 5321 4.5.3.1.3: a path is at most 256 octets, "<" and ">" included. */
#define SUBMISSION_ADDRESS_MAX 254
/* A mail client writes a few To, Cc and Bcc fields; each is a GMime parse,
 * and a 1 MiB header of 100000 tiny ones costs half a second of a worker
 * that serves other sessions. */
#define SUBMISSION_RCPT_FIELDS_MAX 100
/* GMime 3.2 parses a group inside a group by recursion, a few stack frames
 * per level: some 30000 levels ("To: a:a:a:...") overflow the stack.  RFC
 * 5322 has no nested groups and a display name rarely holds a ':', so a
 * field with more ':' than this is refused before GMime sees it. */
#define SUBMISSION_FIELD_COLONS_MAX 256

struct submission_header {
	/* Envelope recipients, addr-specs ("local@domain", a quoted local
	 * part stays quoted, an international domain in its ASCII form), in
	 * header order, each once: the domain compared case-insensitively,
	 * the local part exactly.  1..SUBMISSION_RCPT_MAX of them. */
	char **rcpts;
	size_t rcpt_count;
	/* The recipients came from a leading Resent- block. */
	bool resent;
	/* The header to store and relay, CRLF line ends, ending with the
	 * empty line: every Bcc and Resent-Bcc field removed; From, Date and
	 * Message-ID added when missing (for a resent message: Resent-From,
	 * Resent-Date and Resent-Message-ID, at the end of its block). */
	struct buf header;
	/* Where the body starts in the input: after the empty line, or the
	 * input's length when the message has no body. */
	size_t body_offset;
};

/* GMime's one-time set-up and tear-down.  Call from the main thread only
 * (GMime counts its users without a lock); a forked worker inherits the
 * set-up.  submission_header_process() calls submission_init() itself when
 * nobody has; a second init does nothing.  fini is for the end of the
 * process: GMime 3.2 cannot be set up again after it, so processing fails
 * from then on (an internal error), and a second fini does nothing. */
void submission_init(void);
void submission_fini(void);

/* Take the envelope and the header to relay from a submitted message.
 *
 * hdr[0..len): the message as received, or only its header: lines end in
 * CRLF or LF; the header ends at the first empty line, or at the end of
 * the data when there is no body.  Nothing after the empty line is read.
 *
 * Recipients: when the topmost field is a Resent- field (RFC 5322 3.6.6:
 * each resend prepends its block, the newest on top), the Resent-To,
 * Resent-Cc and Resent-Bcc of that block only; otherwise every To, Cc and
 * Bcc field.  Groups give their members ("undisclosed-recipients:;" none).
 * An empty field gives none; an address without a domain is an error.
 *
 * sender: the authenticated account's address, written as "From: <sender>"
 * (or Resent-From) when the message has none; the envelope sender is that
 * account in any case, so this names nobody else.
 * hostname: the right side of an added Message-ID, "<32 hex digits@hostname>"
 * from 128 random bits.
 * now: the submission time, written as an RFC 5322 date in UTC when Date
 * (Resent-Date) is missing.
 *
 * Returns 0 with *out filled (release with submission_header_free), or -1
 * with *error_r (fit for a "-ERR" line: printable ASCII only) and *out
 * empty: "no recipients", "too many recipients (at most 1000)", a field
 * whose address list cannot be parsed (named), what is not a header
 * (mail/header.h), a header longer than SUBMISSION_HEADER_MAX, more
 * recipient fields than SUBMISSION_RCPT_FIELDS_MAX. */
int submission_header_process(const char *hdr, size_t len, const char *sender,
			      const char *hostname, time_t now,
			      struct submission_header *out,
			      const char **error_r);

/* Release what submission_header_process() filled; safe to call twice. */
void submission_header_free(struct submission_header *h);

#endif

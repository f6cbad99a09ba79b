/* dsn.h - the delivery status notification (bounce) the relay sends back
 * to the sender of a message it gave up on: an RFC 3464 report inside an
 * RFC 6522 multipart/report, built whole in memory.  A pure function: no
 * store, no I/O but the random bytes of the Message-ID and the boundary.
 *
 * The bounce is what a mail client shows well: a text/plain explanation,
 * the message/delivery-status report, then the original's header
 * (text/rfc822-headers) or the original itself (message/rfc822).  What
 * comes from remote servers and users (diagnostics, addresses, host
 * names) is made printable US-ASCII on one logical line before it is
 * written, so no CR or LF of theirs can start a field of its own. */
#ifndef PN_DSN_H
#define PN_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

/* A remote reply is a few hundred octets, a multi-line one from a large
 * provider under 1 KiB; beyond that it is noise, and it is written twice
 * (the explanation and the report) for each recipient. */
#define DSN_DIAGNOSTIC_MAX 1024
/* A remote MTA is a host name (RFC 1035: 255) or an address literal. */
#define DSN_REMOTE_MTA_MAX 255
/* Our queue id; anything longer is cut. */
#define DSN_QUEUE_ID_MAX 64

enum dsn_diagnostic_type {
	/* the remote server's reply, "550 5.1.1 <bob@x.net> user unknown":
	 * "Diagnostic-Code: smtp; ..." */
	DSN_DIAG_SMTP = 0,
	/* our own reason, "connect to smtp.x.net: Connection refused":
	 * "Diagnostic-Code: X-Postern; ..." */
	DSN_DIAG_LOCAL,
};

struct dsn_recipient {
	/* the recipient as given to us, an addr-spec: at most 254 octets
	 * (RFC 5321 4.5.3.1.3); required */
	const char *address;
	/* RFC 3463 enhanced code of the failure, class 5 ("5.1.1"), or
	 * class 4 when a temporary failure lasted beyond the maximum queue
	 * time ("4.4.7"); required */
	const char *status;
	/* the host that gave the diagnostic, "smtp.example.net"; NULL when
	 * no server answered (or for a local failure) */
	const char *remote_mta;
	/* the remote reply (a multi-line one may keep its CRLFs: they are
	 * joined with spaces) or our own reason; NULL when there is none */
	const char *diagnostic;
	enum dsn_diagnostic_type diagnostic_type;
	/* the last delivery attempt; 0 when there was none */
	time_t last_attempt;
};

struct dsn_message {
	/* our host name: From MAILER-DAEMON@it, the Message-ID, Reporting-MTA;
	 * letters, digits, '.' and '-' */
	const char *reporting_mta;
	/* the original envelope sender, the bounce's To; "" (the null
	 * sender, RFC 5321 4.5.5) is refused */
	const char *sender;
	/* our queue id, for the explanation and X-Postern-Queue-ID; NULL
	 * for none */
	const char *queue_id;
	/* when we took the message (Arrival-Date); 0 for unknown */
	time_t arrival;
	/* the bounce's Date */
	time_t now;
	/* the original message, or at least its header: CRLF line ends,
	 * the header ending at the first empty line (or with the data) */
	const char *original;
	size_t original_len;
	/* return the whole message (message/rfc822) rather than its header
	 * (text/rfc822-headers, the default) */
	bool include_body;
	/* with include_body: at most this many octets of the body, cut
	 * after a whole line; the explanation says that it was cut */
	size_t body_limit;
};

/* Append the bounce for the failed recipients rcpts[0..count) of message
 * m to out: the whole message, header and body, CRLF line ends.
 *
 * The message (RFC 3464, RFC 6522):
 *   From: Mail Delivery System <MAILER-DAEMON@reporting_mta>
 *   To: <sender>
 *   Subject: Undelivered Mail Returned to Sender
 *   Date (now, UTC), Message-ID: <32 hex digits@reporting_mta>,
 *   Auto-Submitted: auto-replied (RFC 3834: never answered by
 *   autoresponders), MIME-Version: 1.0,
 *   Content-Type: multipart/report; report-type=delivery-status;
 *     boundary="=_" and 32 random hex digits, none of the parts holding it.
 * Part 1, text/plain; charset=us-ascii: each recipient and why, the
 *   queue id and the arrival time, lines of at most 76 octets.
 * Part 2, message/delivery-status: Reporting-MTA, then Arrival-Date and
 *   X-Postern-Queue-ID when given; then for each recipient, after an empty
 *   line: Final-Recipient, Action: failed, Status, and Remote-MTA,
 *   Diagnostic-Code and Last-Attempt-Date when known.
 * Part 3: the original's header as text/rfc822-headers (7bit, or
 *   quoted-printable when it holds 8-bit octets, a NUL, a bare CR or LF
 *   or a line over 998 octets); with include_body the message as
 *   message/rfc822, cut after the last whole line within body_limit
 *   octets of body (7bit, or 8bit when it holds 8-bit octets, the only
 *   case where the bounce is not 7-bit: RFC 2046 5.2.1 allows
 *   message/rfc822 no other encoding).  A message that is not even valid
 *   8bit text (NUL, bare CR or LF, a line over 998 octets) is returned
 *   as its header, and the explanation says why.
 * Untrusted text (address, remote_mta, diagnostic, queue_id): runs of
 * white space, CR and LF become one space, other control characters and
 * 8-bit octets '?', then it is cut at its maximum with "..."; fields are
 * folded at the text's spaces to stay within 78 octets where they allow;
 * no line exceeds 998 (a longer word is split, the fold a space).
 *
 * Returns 0, or -1 with *error_r and out as it was: "no bounce for the
 * null sender", "no recipients to report", a recipient without an
 * address or with a status that is not 4.x.x or 5.x.x, a sender or host
 * name that cannot be written ("(an internal error)": the caller's
 * values), no random bytes, a bounce longer than out's maximum.  An
 * error text stays valid until the thread's next call. */
int dsn_build(const struct dsn_message *m, const struct dsn_recipient *rcpts,
	      size_t count, struct buf *out, const char **error_r);

#endif

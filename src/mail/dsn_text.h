/* dsn_text.h - the 7-bit text a bounce is written in: untrusted strings
 * made printable, lines wrapped and header fields folded, and the
 * quoted-printable encoding of a returned header.  For mail/dsn.c. */
#ifndef PN_DSN_TEXT_H
#define PN_DSN_TEXT_H

#include <stddef.h>

#include "lib/buf.h"

/* RFC 5322 2.1.1: the limit every line obeys, and the length a field's
 * lines should keep to. */
#define DSN_LINE_MAX 998
#define DSN_FIELD_WIDTH 78

enum dsn_text_kind {
	DSN_TEXT_7BIT,		/* RFC 2045 2.7: US-ASCII, no NUL, CRLF lines of
				   at most 998 octets */
	DSN_TEXT_8BIT,		/* the same with octets over 127 (2.8) */
	DSN_TEXT_BINARY,	/* a NUL, a CR or LF not in a CRLF, a longer
				   line: no encoding but base64 or QP carries it */
};

/* Append s on one printable line: each run of spaces, tabs, CRs and LFs
 * is one space (none at either end), every other octet under 32, DEL and
 * every octet over 127 is '?'.  More than max octets are cut, ending
 * with "..." within max (max >= 3).  -1 when out is full. */
int dsn_text_clean(struct buf *out, const char *s, size_t max);

/* Append the words of text (one line, single spaces, as dsn_text_clean
 * gives) to a line that already holds col octets: the first word right
 * there (the caller writes any space before it), each later word after a
 * space, or, when it would pass `width`, on a new line after "\r\n" and
 * indent.  A word too long for the rest of its line (hard octets at most)
 * is split, which in a folded field adds a space when it is unfolded.
 * Lines never exceed hard; they exceed width only for the first word or
 * a word longer than width.  The last line gets no line end.
 * A header field is folded with indent " ": its line breaks are FWS.
 * -1 when out is full. */
int dsn_text_wrap(struct buf *out, size_t col, const char *text, size_t width,
		  size_t hard, const char *indent);

/* What data[0..len) is as MIME content (RFC 2045 2.7-2.9). */
enum dsn_text_kind dsn_text_kind(const char *data, size_t len);

/* Append data[0..len) quoted-printable (RFC 2045 6.7): CRLFs are line
 * breaks, any other CR or LF is encoded; lines of at most 76 octets.  It
 * always ends with CRLF, a soft line break ("=") before it when data does
 * not, so it decodes to data exactly.  -1 when out is full. */
int dsn_text_qp(struct buf *out, const char *data, size_t len);

#endif

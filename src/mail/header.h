/* header.h - a raw RFC 5322 header block, field by field, as received.
 *
 * Only the framing is read here: field names, continuation lines, the
 * empty line that ends the header.  Field bodies are not interpreted
 * (addresses are GMime's job, in mail/submission.c), so a field that is
 * kept can be written out byte for byte, only its line ends made CRLF. */
#ifndef PN_HEADER_H
#define PN_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* RFC 5322 2.1.1: a line MUST be no more than 998 characters, without its
 * CRLF.  A longer one would be broken or refused further along the relay
 * path, so it is refused here, where the user still sees the error. */
#define HEADER_LINE_MAX 998

struct header_reader {
	const char *data;
	size_t len;
	size_t max;		/* the header (its line ends and the empty
				   line included) may not be longer */
	size_t pos;
	unsigned int line;	/* lines read so far */
	bool done;
	size_t body_offset;	/* once done: where the body starts */
};

struct header_field {
	const char *name;	/* not NUL-terminated; white space before
				   the ':' (RFC 5322 4.5.3 obs-optional) is
				   not part of it */
	size_t name_len;
	const char *raw;	/* the field's lines as received, line ends
				   included (the last one may have none at
				   the end of the data) */
	size_t raw_len;
	size_t value_offset;	/* into raw: just after the ':' */
	unsigned int line;	/* first line of the field, from 1 */
};

/* Read the header at the start of data[0..len); it ends with the first
 * empty line, or with the data when there is no body.  Lines end in CRLF
 * or a lone LF.  max: the longest header accepted. */
void header_reader_init(struct header_reader *r, const char *data, size_t len,
			size_t max);

/* The next field: 1 and *field_r filled; 0 at the end of the header (then
 * r->body_offset says where the body starts: after the empty line, or len);
 * -1 with *error_r for what is not a header: a line that is neither a field
 * ("name:") nor a continuation of one, a continuation with no field before
 * it, a continuation holding only white space (obsolete syntax other
 * software may read as the end of the header), a NUL or a CR that does not
 * end a line, a line longer than HEADER_LINE_MAX, a header longer than max.
 * The error names the line; it stays valid until the next call. */
int header_reader_next(struct header_reader *r, struct header_field *field_r,
		       const char **error_r);

/* Is this the field `name` (field names are case-insensitive)? */
bool header_field_is(const struct header_field *f, const char *name);

/* Append the field's body unfolded (RFC 5322 2.2.3: the line ends
 * removed, the white space that follows them kept) to `out`. */
int header_field_unfold(const struct header_field *f, struct buf *out);

/* Append the field as received, each line ending in CRLF. */
int header_field_append_crlf(const struct header_field *f, struct buf *out);

#endif

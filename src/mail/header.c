/* header.c - RFC 5322 header framing (fields, continuation lines). */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/header.h"

static char errbuf[160];

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 3.6.8 ftext: printable US-ASCII but ':' */
static bool is_ftext(char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* The line may be anything a client sent: show a short printable prefix. */
static const char *shown(const char *line, size_t len)
{
	static char out[64];
	size_t n = 0, i;

	for (i = 0; i < len && n < 56; i++) {
		unsigned char c = (unsigned char)line[i];

		out[n++] = c >= 32 && c < 127 ? (char)c : '?';
	}
	if (i < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static int line_error(struct header_reader *r, const char *why,
		      const char **error_r)
{
	snprintf(errbuf, sizeof(errbuf), "header line %u %s", r->line, why);
	*error_r = errbuf;
	return -1;
}

void header_reader_init(struct header_reader *r, const char *data, size_t len,
			size_t max)
{
	r->data = data;
	r->len = len;
	r->max = max;
	r->pos = 0;
	r->line = 0;
	r->done = false;
	r->body_offset = 0;
}

/* The line at r->pos: its text without the line end, and where the next
 * line starts.  Never looks past r->max, so a body or a hostile "header"
 * with no line end costs no more than the limit. */
static int read_line(struct header_reader *r, const char **line_r,
		     size_t *len_r, size_t *next_r, const char **error_r)
{
	const char *p = r->data + r->pos;
	size_t avail = r->len - r->pos;
	size_t scan = r->max > r->pos ? r->max - r->pos : 0;
	const char *lf;
	size_t len, next;

	if (scan > avail)
		scan = avail;
	r->line++;
	lf = memchr(p, '\n', scan);
	if (lf == NULL && scan < avail) {
		snprintf(errbuf, sizeof(errbuf),
			 "the header is longer than %zu octets", r->max);
		*error_r = errbuf;
		return -1;
	}
	len = lf != NULL ? (size_t)(lf - p) : avail;
	next = r->pos + len + (lf != NULL ? 1 : 0);
	/* CRLF, or a CR the data ends on (the LF lost with the end) */
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > HEADER_LINE_MAX) {
		snprintf(errbuf, sizeof(errbuf),
			 "header line %u is longer than %d octets (RFC 5322 2.1.1): fold it",
			 r->line, HEADER_LINE_MAX);
		*error_r = errbuf;
		return -1;
	}
	/* A CR inside a line is a line end to some software and not to
	 * other: the same header would mean two things. */
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0')
			return line_error(r, "holds a NUL octet", error_r);
		if (p[i] == '\r')
			return line_error(r, "holds a CR that does not end the line",
					  error_r);
	}
	*line_r = p;
	*len_r = len;
	*next_r = next;
	return 0;
}

int header_reader_next(struct header_reader *r, struct header_field *field_r,
		       const char **error_r)
{
	const char *line;
	size_t len, next, n, start = r->pos;

	if (r->done)
		return 0;
	if (r->pos >= r->len) {
		r->done = true;
		r->body_offset = r->len;
		return 0;
	}
	if (read_line(r, &line, &len, &next, error_r) < 0)
		return -1;
	if (len == 0) {
		r->done = true;
		r->pos = next;
		r->body_offset = next;
		return 0;
	}
	if (is_wsp(line[0]))
		return line_error(r, "is a continuation line with no field before it",
				  error_r);
	for (n = 0; n < len && is_ftext(line[n]); n++)
		;
	field_r->name_len = n;
	while (n < len && is_wsp(line[n]))
		n++;
	if (field_r->name_len == 0 || n == len || line[n] != ':') {
		snprintf(errbuf, sizeof(errbuf),
			 "header line %u is not a field (\"Name: value\"): '%s'",
			 r->line, shown(line, len));
		*error_r = errbuf;
		return -1;
	}
	field_r->name = line;
	field_r->value_offset = n + 1;
	field_r->line = r->line;
	r->pos = next;

	while (r->pos < r->len && is_wsp(r->data[r->pos])) {
		if (read_line(r, &line, &len, &next, error_r) < 0)
			return -1;
		for (n = 0; n < len && is_wsp(line[n]); n++)
			;
		if (n == len)
			return line_error(r, "holds only white space", error_r);
		r->pos = next;
	}
	field_r->raw = r->data + start;
	field_r->raw_len = r->pos - start;
	return 1;
}

bool header_field_is(const struct header_field *f, const char *name)
{
	return strlen(name) == f->name_len &&
		strncasecmp(f->name, name, f->name_len) == 0;
}

int header_field_unfold(const struct header_field *f, struct buf *out)
{
	const char *p = f->raw + f->value_offset;
	const char *end = f->raw + f->raw_len;

	/* read_line() let no CR or LF through but as line ends */
	while (p < end) {
		size_t n = 0;

		while (p + n < end && p[n] != '\r' && p[n] != '\n')
			n++;
		if (buf_append(out, p, n) < 0)
			return -1;
		p += n;
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
	}
	return 0;
}

int header_field_append_crlf(const struct header_field *f, struct buf *out)
{
	const char *p = f->raw, *end = f->raw + f->raw_len;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = lf != NULL ? (size_t)(lf - p) : (size_t)(end - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (buf_append(out, p, len) < 0 || buf_append(out, "\r\n", 2) < 0)
			return -1;
		p = lf != NULL ? lf + 1 : end;
	}
	return 0;
}

/* linereader.h - splits a byte stream into lines in place, with a bound.
 *
 * Input is read straight into the reader's buffer (linereader_space /
 * linereader_filled); complete lines are handed out without copying, with
 * CRLF or a bare LF removed and a NUL written after them.  A line longer
 * than max_line is reported once (LINE_TOO_LONG) and everything up to its
 * LF is dropped, so its tail is never read as a new command. */
#ifndef PN_LINEREADER_H
#define PN_LINEREADER_H

#include <stdbool.h>
#include <stddef.h>

struct linereader {
	char *buf;
	size_t cap;		/* allocated, without the NUL spare */
	size_t start, len;	/* unread octets are buf[start..len) */
	size_t max_line;
	bool discarding;	/* inside an overlong line */
};

enum line_result {
	LINE_NONE,		/* no complete line yet */
	LINE_OK,
	LINE_TOO_LONG,		/* reported once per overlong line */
};

void linereader_init(struct linereader *lr, size_t max_line);
void linereader_free(struct linereader *lr);
/* Change the bound (for example for AUTH continuation lines). */
void linereader_set_max(struct linereader *lr, size_t max_line);

/* Where new input can go and how much fits (compacts first). */
char *linereader_space(struct linereader *lr, size_t *avail_r);
void linereader_filled(struct linereader *lr, size_t n);

enum line_result linereader_next(struct linereader *lr, char **line_r,
				 size_t *len_r);
/* Anything unread buffered (a partial line counts)? */
bool linereader_pending(const struct linereader *lr);
/* Would linereader_next return something other than LINE_NONE now? */
bool linereader_ready(const struct linereader *lr);
/* Raw access for data that is not lines (a dot-stuffed message): the
 * unread octets, and how many of them were used.  Not while discarding. */
char *linereader_peek(struct linereader *lr, size_t *len_r);
void linereader_consume(struct linereader *lr, size_t n);
/* Grow the buffer to hold at least `size` octets (reads of bulk data);
 * the line bound stays. */
void linereader_reserve(struct linereader *lr, size_t size);
/* Forget everything buffered (STARTTLS injection defence). */
void linereader_clear(struct linereader *lr);

#endif

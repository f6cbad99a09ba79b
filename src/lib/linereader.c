/* linereader.c - bounded in-place line splitting. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/linereader.h"
#include "lib/xalloc.h"

/* The buffer holds at least a whole line plus CRLF, and some pipelining. */
#define LINEREADER_MIN 1024

void linereader_init(struct linereader *lr, size_t max_line)
{
	memset(lr, 0, sizeof(*lr));
	linereader_set_max(lr, max_line);
}

void linereader_free(struct linereader *lr)
{
	free(lr->buf);
	memset(lr, 0, sizeof(*lr));
}

void linereader_set_max(struct linereader *lr, size_t max_line)
{
	size_t need = max_line + 2 < LINEREADER_MIN ? LINEREADER_MIN : max_line + 2;

	lr->max_line = max_line;
	if (need > lr->cap) {
		lr->buf = xrealloc(lr->buf, need + 1);
		lr->cap = need;
	}
}

char *linereader_space(struct linereader *lr, size_t *avail_r)
{
	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->len - lr->start);
		lr->len -= lr->start;
		lr->start = 0;
	}
	*avail_r = lr->cap - lr->len;
	return lr->buf + lr->len;
}

void linereader_filled(struct linereader *lr, size_t n)
{
	lr->len += n;
}

enum line_result linereader_next(struct linereader *lr, char **line_r,
				 size_t *len_r)
{
	while (lr->start < lr->len) {
		char *start = lr->buf + lr->start;
		size_t avail = lr->len - lr->start, len;
		char *lf = memchr(start, '\n', avail);

		if (lf == NULL) {
			if (lr->discarding) {
				lr->start = lr->len = 0;
			} else if (avail > lr->max_line + 1) {
				/* +1: the CR of a line of exactly max_line may
				 * be here without its LF yet */
				lr->discarding = true;
				lr->start = lr->len = 0;
				return LINE_TOO_LONG;
			}
			return LINE_NONE;
		}
		len = (size_t)(lf - start);
		lr->start += len + 1;
		if (lr->discarding) {
			lr->discarding = false;
			continue;
		}
		if (len > 0 && start[len - 1] == '\r')
			len--;
		if (len > lr->max_line)
			return LINE_TOO_LONG;
		start[len] = '\0';
		*line_r = start;
		*len_r = len;
		return LINE_OK;
	}
	lr->start = lr->len = 0;
	return LINE_NONE;
}

bool linereader_pending(const struct linereader *lr)
{
	return lr->start < lr->len;
}

bool linereader_ready(const struct linereader *lr)
{
	size_t avail = lr->len - lr->start;

	if (avail == 0)
		return false;
	return memchr(lr->buf + lr->start, '\n', avail) != NULL ||
	       (!lr->discarding && avail > lr->max_line + 1);
}

char *linereader_peek(struct linereader *lr, size_t *len_r)
{
	*len_r = lr->len - lr->start;
	return lr->buf + lr->start;
}

void linereader_consume(struct linereader *lr, size_t n)
{
	lr->start += n;
	if (lr->start == lr->len)
		lr->start = lr->len = 0;
}

void linereader_reserve(struct linereader *lr, size_t size)
{
	if (size > lr->cap) {
		lr->buf = xrealloc(lr->buf, size + 1);
		lr->cap = size;
	}
}

void linereader_clear(struct linereader *lr)
{
	lr->start = lr->len = 0;
	lr->discarding = false;
}

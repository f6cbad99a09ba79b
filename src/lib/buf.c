/* buf.c - bounded growable byte string. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

char *buf_reserve(struct buf *b, size_t len)
{
	/* one spare octet for buf_cstr()'s NUL */
	if (len > b->max || b->len > b->max - len)
		return NULL;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + len + 1)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	return b->data + b->len;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	char *p = buf_reserve(b, len);

	if (p == NULL)
		return -1;
	if (len > 0)
		memcpy(p, data, len);
	b->len += len;
	return 0;
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	char *p;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (p = buf_reserve(b, (size_t)n)) == NULL)
		return -1;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ret;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
}

const char *buf_cstr(struct buf *b)
{
	if (b->data == NULL || b->len + 1 > b->cap) {
		if (buf_reserve(b, 0) == NULL)
			return "";
	}
	b->data[b->len] = '\0';
	return b->data;
}

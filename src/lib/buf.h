/* buf.h - the one growable byte string, with a hard maximum (Postfix's
 * VSTRING habit).  Appending past the maximum fails instead of growing. */
#ifndef PN_BUF_H
#define PN_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* An empty buffer that will never hold more than `max` octets. */
void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);

/* Append; -1 (and nothing appended) when the result would exceed max. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Make room for `len` more octets; returns where they go, or NULL. */
char *buf_reserve(struct buf *b, size_t len);

void buf_reset(struct buf *b);

/* The contents as a NUL-terminated string (the NUL is not counted). */
const char *buf_cstr(struct buf *b);

#endif

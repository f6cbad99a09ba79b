/* xalloc.h - allocation that cannot fail: running out of memory is a broken
 * invariant for a server of fixed limits, so it is fatal (logged, exit). */
#ifndef PN_XALLOC_H
#define PN_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

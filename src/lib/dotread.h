/* dotread.h - the receiving side of dot-stuffing (RFC 5321 4.5.2, RFC 1939
 * 3): removes the '.' a sender put before a line that starts with one, and
 * finds the line holding only "." that ends the message.  Input comes in
 * chunks of any size; nothing is copied: runs of message octets are passed
 * to a callback as they are.  Line ends are kept as sent (CRLF or a bare
 * LF), so the body writer normalises them once. */
#ifndef PN_DOTREAD_H
#define PN_DOTREAD_H

#include <stdbool.h>
#include <stddef.h>

struct dotread {
	bool line_start;	/* the next octet begins a line */
	bool done;		/* the terminating "." line was read */
};

typedef void dotread_emit_fn(void *ctx, const void *data, size_t len);

void dotread_init(struct dotread *dr);

/* Decode in[0..len).  Returns the octets consumed: all of them, or fewer
 * when the terminator was found (dr->done; the rest is what the client
 * sent after it, pipelined commands), or when the input ends where a
 * terminator may be starting ("." or ".\r" at a line start: call again
 * with those octets and what follows them). */
size_t dotread_run(struct dotread *dr, const char *in, size_t len,
		   dotread_emit_fn *emit, void *ctx);

#endif

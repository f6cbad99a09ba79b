/* dotstuff.h - turn stored message octets into a POP multi-line body:
 * double a '.' that starts a line and, for TOP, stop after N body lines.
 * Works on chunks, keeping state between them, copying into a buf. */
#ifndef PN_DOTSTUFF_H
#define PN_DOTSTUFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct dotstuff {
	bool stuff;		/* double leading dots */
	bool at_line_start;
	uint64_t pos;		/* octets consumed so far */
	uint64_t hdr_len;	/* body lines are counted after this */
	long max_lines;		/* -1: no limit */
	long lines;
	bool done;		/* the line limit was reached */
};

void dotstuff_init(struct dotstuff *ds, bool stuff, uint64_t hdr_len,
		   long max_lines);
/* Consume input into out.  Returns octets consumed: all of them unless the
 * line limit was reached (ds->done) or out is full (then fewer). */
size_t dotstuff_run(struct dotstuff *ds, const char *in, size_t len,
		    struct buf *out);

#endif

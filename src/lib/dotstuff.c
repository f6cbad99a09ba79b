/* dotstuff.c - dot-stuffing and TOP line limits, chunk by chunk. */
#include "build-config.h"

#include <string.h>

#include "lib/dotstuff.h"

void dotstuff_init(struct dotstuff *ds, bool stuff, uint64_t hdr_len,
		   long max_lines)
{
	memset(ds, 0, sizeof(*ds));
	ds->stuff = stuff;
	ds->at_line_start = true;
	ds->hdr_len = hdr_len;
	ds->max_lines = max_lines;
	ds->done = max_lines == 0 && hdr_len == 0;
}

size_t dotstuff_run(struct dotstuff *ds, const char *in, size_t len,
		    struct buf *out)
{
	size_t i = 0;

	while (i < len && !ds->done) {
		size_t avail = out->max - out->len, run;
		bool dot = ds->stuff && ds->at_line_start && in[i] == '.';
		const char *lf;

		if (avail < (dot ? 2u : 1u))
			break;
		if (dot) {
			(void)buf_append(out, ".", 1);
			avail--;
		}
		/* copy a run up to the next LF (or what fits) in one go */
		lf = memchr(in + i, '\n', len - i);
		run = lf ? (size_t)(lf - (in + i)) + 1 : len - i;
		if (run > avail) {
			run = avail;
			lf = NULL;
		}
		(void)buf_append(out, in + i, run);
		i += run;
		ds->pos += run;
		ds->at_line_start = lf != NULL;
		if (lf != NULL && ds->max_lines >= 0) {
			if (ds->pos > ds->hdr_len)
				ds->lines++;
			if ((ds->pos == ds->hdr_len && ds->max_lines == 0) ||
			    (ds->pos > ds->hdr_len && ds->lines >= ds->max_lines))
				ds->done = true;
		}
	}
	return i;
}

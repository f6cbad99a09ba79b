/* dotread.c - un-stuffing dot-terminated input (dotread.h). */
#include "build-config.h"

#include <string.h>

#include "lib/dotread.h"

void dotread_init(struct dotread *dr)
{
	dr->line_start = true;
	dr->done = false;
}

size_t dotread_run(struct dotread *dr, const char *in, size_t len,
		   dotread_emit_fn *emit, void *ctx)
{
	size_t pos = 0, run = 0;	/* run: first octet not yet emitted */

	while (pos < len && !dr->done) {
		if (dr->line_start && in[pos] == '.') {
			size_t end;	/* just past ".\n" or ".\r\n" */

			if (pos + 1 == len)
				break;	/* "." or the terminator: wait */
			if (in[pos + 1] == '\n') {
				end = pos + 2;
			} else if (in[pos + 1] == '\r') {
				if (pos + 2 == len)
					break;
				end = in[pos + 2] == '\n' ? pos + 3 : 0;
			} else {
				end = 0;
			}
			if (pos > run)
				emit(ctx, in + run, pos - run);
			if (end != 0) {
				dr->done = true;
				return end;
			}
			/* a stuffed dot: drop it, the line goes on after it */
			run = ++pos;
		}
		dr->line_start = false;
		const char *lf = memchr(in + pos, '\n', len - pos);

		if (lf == NULL) {
			pos = len;
			break;
		}
		pos = (size_t)(lf - in) + 1;
		dr->line_start = true;
	}
	if (pos > run)
		emit(ctx, in + run, pos - run);
	return pos;
}

/* import.c - an admin's import of a message from a stream. */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mail/import.h"
#include "store/body.h"
#include "store/store_ops.h"

enum import_result import_from_fd(const struct account *account,
				    const char *mailbox, int fd,
				    uint64_t max_size, uint32_t *uid_r,
				    const char **error_r)
{
	return import_from_fd_dated(account, mailbox, fd, max_size, 0, uid_r,
				    error_r);
}

enum import_result import_from_fd_dated(const struct account *account,
					const char *mailbox, int fd,
					uint64_t max_size, uint64_t date,
					uint32_t *uid_r, const char **error_r)
{
	static char err[256];
	/* 64 KiB of buffer: static, not on the stack */
	static struct body_writer writer;
	struct body_writer *w = &writer;
	struct body_info info;
	char buf[16384];
	const char *werr = NULL;

	if (body_writer_open(w, max_size, error_r) < 0)
		return IMPORT_TEMPORARY;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, sizeof(err), "cannot read the message: %s",
				 strerror(errno));
			*error_r = err;
			body_writer_abort(w);
			return IMPORT_TEMPORARY;
		}
		if (n == 0)
			break;
		/* past the size limit keep reading, so the sender is not cut
		 * off mid-stream; finish() reports it */
		if (body_writer_write(w, buf, (size_t)n, &werr) < 0 && !w->too_big) {
			*error_r = werr;
			body_writer_abort(w);
			return IMPORT_TEMPORARY;
		}
	}
	if (body_writer_finish(w, &info, error_r) < 0) {
		/* the message itself (empty, or too big, perhaps only once the
		 * missing final CRLF is added) is permanent; the rest is I/O */
		return w->too_big || w->size == 0 ? IMPORT_PERMANENT
						  : IMPORT_TEMPORARY;
	}
	if (store_message_add_dated(account, mailbox, &info, NULL, date, uid_r,
				    error_r) < 0) {
		body_unlink(info.id);
		return IMPORT_TEMPORARY;
	}
	return IMPORT_OK;
}

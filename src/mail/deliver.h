/* deliver.h - local delivery: a message from a file descriptor into a
 * mailbox, acknowledged only once the body is fsynced and the metadata
 * committed. */
#ifndef PN_DELIVER_H
#define PN_DELIVER_H

#include <stdint.h>

#include "postern/module.h"

enum deliver_result {
	DELIVER_OK = 0,
	DELIVER_PERMANENT = -1,	/* the message itself: empty, too big */
	DELIVER_TEMPORARY = -2,	/* disk full, store fault: try again */
};

/* Read fd to its end and store the message in `mailbox` of `account`.
 * Fails without storing anything on an empty message, one over max_size,
 * an unknown mailbox, or a store/disk fault. */
enum deliver_result deliver_from_fd(const struct account *account, const char *mailbox,
		    int fd, uint64_t max_size, uint32_t *uid_r,
		    const char **error_r);

#endif

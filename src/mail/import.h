/* import.h - an admin's import: a message from a file descriptor into a
 * mailbox as it is (no Return-Path or X-Real-To added, no quota), stored
 * only once the body is fsynced and the metadata committed.  Mail from an
 * MTA goes through local delivery instead (postern/module.h). */
#ifndef PN_IMPORT_H
#define PN_IMPORT_H

#include <stdint.h>

#include "postern/module.h"

enum import_result {
	IMPORT_OK = 0,
	IMPORT_PERMANENT = -1,	/* the message itself: empty, too big */
	IMPORT_TEMPORARY = -2,	/* disk full, store fault: try again */
};

/* Read fd to its end and store the message in `mailbox` of `account`.
 * Fails without storing anything on an empty message, one over max_size,
 * an unknown mailbox, or a store/disk fault. */
enum import_result import_from_fd(const struct account *account, const char *mailbox,
		    int fd, uint64_t max_size, uint32_t *uid_r,
		    const char **error_r);
/* The same, stored as arrived at `date` (unix time; 0 = now). */
enum import_result import_from_fd_dated(const struct account *account,
					const char *mailbox, int fd,
					uint64_t max_size, uint64_t date,
					uint32_t *uid_r, const char **error_r);

#endif

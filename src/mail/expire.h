/* expire.h - pop_expire (SPEC.md 3, RFC 2449 EXPIRE): what an account's
 * policy says may go - retrieved mail older than its days - goes, from
 * every mailbox but the archive of pop_delete=archive:NAME.  posternctl
 * expire (a cron job) and the web admin run it; logins do it for the
 * mailbox they open. */
#ifndef PN_EXPIRE_H
#define PN_EXPIRE_H

#include <stddef.h>
#include <stdint.h>

#include "postern/module.h"

/* *removed_r how many messages went; *days_r the account's pop_expire
 * (-1: never, nothing done).  -1 with *error_r on a store fault (what was
 * removed before it stays removed). */
int account_expire(const struct account *a, uint64_t now, size_t *removed_r,
		   int *days_r, const char **error_r);

#endif

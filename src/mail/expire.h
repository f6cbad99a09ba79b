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

/* The same for every account of `domain` (lower case; NULL: of the
 * server).  `each` (may be NULL) hears of every account that lost mail,
 * or (error non-NULL) could not be expired: the others go on.  In
 * *accounts_r and *messages_r what went.  -1 only when the accounts
 * cannot be listed. */
typedef void expire_each_fn(const struct account *a, size_t removed, int days,
			    const char *error, void *ctx);
int expire_accounts(const char *domain, uint64_t now, expire_each_fn *each,
		    void *ctx, size_t *accounts_r, size_t *messages_r,
		    const char **error_r);

#endif

/* store_alerts.h - the admin's alerts (SPEC.md 3, CommuniGate's): a text
 * a user gets once, as the answer to a login, before the login works.
 *
 * An alert is for the whole server, a domain or one account.  At login
 * the oldest alert not yet shown to the account refuses the login with
 * its text and is marked shown, so every further attempt gets the next
 * one until none is left.  An account's own alerts go once shown; server
 * and domain alerts stay until an admin removes them, and are shown to
 * each account once - not to accounts made after the alert was posted. */
#ifndef PN_STORE_ALERTS_H
#define PN_STORE_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "postern/module.h"

/* A POP reply line is at most 512 octets: "-ERR [SYS/TEMP] " and the
 * text must fit. */
#define ALERT_TEXT_MAX 400

enum alert_scope { ALERT_SERVER, ALERT_DOMAIN, ALERT_ACCOUNT };

struct alert {
	uint64_t id;		/* store-wide, in the order alerts were posted */
	uint64_t created;	/* unix time */
	enum alert_scope scope;
	char domain[ACCOUNT_NAME_MAX + 1];	/* "" for the server */
	char account[ACCOUNT_NAME_MAX + 1];	/* "" unless ALERT_ACCOUNT */
	char text[ALERT_TEXT_MAX + 1];
};

/* Post an alert (domain and account lower case, existing; the text one
 * line of printable characters, checked).  *id_r its id. */
int store_alert_post(enum alert_scope scope, const char *domain,
		     const char *account, const char *text, uint64_t *id_r,
		     const char **error_r);
/* Remove an alert and the marks of whom it was shown to. */
int store_alert_del(uint64_t id, bool *found_r, const char **error_r);
/* Every alert in posting order; with scope_filter >= 0 only that scope
 * (and for a domain or account, only that one). */
typedef void store_alert_cb(const struct alert *a, void *ctx);
int store_alert_list(int scope_filter, const char *domain, const char *account,
		     store_alert_cb *cb, void *ctx, const char **error_r);

/* At login: the oldest alert `account` has not been shown, marked shown
 * (or, its own, removed) in the same transaction, so two logins at once
 * never get the same one.  *found_r false when none is left. */
int store_alert_take(const struct account *account, struct alert *alert_r,
		     bool *found_r, const char **error_r);

/* Inside account/domain removal: their alerts go with them. */
int store_alerts_remove_txn(MDB_txn *txn, const char *domain,
			    const char *account);

#endif

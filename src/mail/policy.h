/* policy.h - what a provider's admin switches per server, domain and
 * account (SPEC.md 6, CommuniGate's "Enabled Services"), on top of the
 * settings store (store/store_settings.h).
 *
 * Every policy has a built-in default.  Services (pop, xmit, lmtp,
 * retrieval) work only where no level forbids them: the server, the
 * domain and the account must all allow it, so an admin can switch a whole
 * domain off and one account cannot switch itself back on.  Other policies
 * take the most specific level that sets them: account, else domain, else
 * server, else the default. */
#ifndef PN_POLICY_H
#define PN_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store_settings.h"

enum policy_id {
	POLICY_POP,		/* POP logins */
	POLICY_XMIT,		/* XTND XMIT submission */
	POLICY_LMTP,		/* delivery over LMTP */
	POLICY_RETRIEVAL,	/* fetching from remote POP servers */
	POLICY_POP_FROM,	/* all | enable-time: which mail POP shows */
	POLICY_POP_DELETE,	/* delete | hide | mark-read | archive:MAILBOX */
	POLICY_POP_LOGIN_DELAY,	/* seconds between POP logins, 0 = any */
	POLICY_POP_EXPIRE,	/* days a retrieved message is kept, never */
	POLICY_COUNT
};

enum policy_source {
	POLICY_FROM_DEFAULT,	/* nobody set it */
	POLICY_FROM_SERVER,
	POLICY_FROM_DOMAIN,
	POLICY_FROM_ACCOUNT,
};

struct policy {
	char value[POLICY_COUNT][SETTING_VALUE_MAX + 1];
	enum policy_source from[POLICY_COUNT];
	/* what the server recorded for the account (0: nothing): when POP
	 * was last enabled for it (unix seconds), when it last logged in over
	 * POP (unix milliseconds: LOGIN-DELAY counts whole seconds from the
	 * login itself, not from the start of its second) */
	uint64_t pop_enabled_at, pop_last_login_ms;
};

/* The names of the policies, for messages: "pop, xmit, ...". */
const char *policy_names(void);

/* The server's own records among the settings (not policies). */
#define POLICY_KEY_POP_ENABLED_AT "_pop_enabled_at"
#define POLICY_KEY_POP_LAST_LOGIN_MS "_pop_last_login_ms"
/* Record a time for an account. */
int policy_record_time(const char *domain, const char *account,
		       const char *key, uint64_t t, const char **error_r);

/* The name a policy is set by ("xmit"), or NULL. */
const char *policy_name(enum policy_id id);
const char *policy_source_name(enum policy_source from);
/* By name; -1 for an unknown one (*error_r lists the known ones). */
int policy_find(const char *name, enum policy_id *id_r, const char **error_r);
/* Is `value` right for this policy?  "" is never (it means inherit). */
int policy_check(enum policy_id id, const char *value, const char **error_r);

/* The effective policies of an account (account "" : of a domain; domain
 * "" too: of the server), in one read transaction. */
int policy_load(const char *domain, const char *account, struct policy *p_r,
		const char **error_r);
/* A service's verdict (POLICY_POP...). */
bool policy_allows(const struct policy *p, enum policy_id id);

/* Set a policy at one level (value "" removes it: inherit again). */
int policy_set(const char *domain, const char *account, const char *name,
	       const char *value, const char **error_r);

#endif

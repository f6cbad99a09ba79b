/* router.h - who an address is (SPEC.md 1 and 4).  One function, used by
 * LMTP, posternctl deliver, POP logins and the relay queue, so a name means
 * the same thing everywhere.
 *
 * "local@domain" resolves in this order:
 *   1. the domain: a domain, or a domain alias standing for one;
 *   2. an account alias: local names another account of the domain;
 *   3. "account+detail": the account (or alias) before the first '+';
 *   4. "account#mailbox": Direct Mailbox Addressing into that mailbox;
 *   5. an existing account;
 *   6. the domain's unified account, keeping `local` as the local part;
 *   7. otherwise unknown.
 * Account and alias names cannot hold '+' or '#', so steps 2-5 never
 * compete for one address. */
#ifndef PN_ROUTER_H
#define PN_ROUTER_H

#include "mail/names.h"
#include "postern/module.h"

enum route_rule {
	ROUTE_ACCOUNT,		/* the account itself */
	ROUTE_ALIAS,		/* an account alias */
	ROUTE_DETAIL,		/* account+detail */
	ROUTE_MAILBOX,		/* account#mailbox (Direct Mailbox Addressing) */
	ROUTE_UNIFIED,		/* unknown local part, the unified account */
};

struct route {
	struct account account;
	enum route_rule rule;
	/* ROUTE_UNIFIED: the local part it was addressed to, lower case
	 * ("abcdef"); otherwise "" */
	char local[LOCAL_PART_MAX + 1];
	/* ROUTE_MAILBOX: the mailbox named (case kept); otherwise "" */
	char mailbox[MAILBOX_NAME_MAX + 1];
	/* lower-case local part @ the domain (not the alias): what the
	 * message's X-Real-To metadata records and a view matches */
	char address[LOCAL_PART_MAX + 1 + ACCOUNT_NAME_MAX + 1];
};

enum route_result {
	ROUTE_OK,
	ROUTE_UNKNOWN,		/* no such domain or user: 550 5.1.1 */
	ROUTE_BAD_ADDRESS,	/* not a valid address: 553 5.1.3 */
	ROUTE_TEMPFAIL,		/* store fault: 451 4.3.0 */
};

/* Resolve `address` ("local@domain", or "local%domain", or a bare local
 * part: then the domain bound to local_ip, else the main domain).
 * *error_r says why for ROUTE_UNKNOWN, BAD_ADDRESS and TEMPFAIL. */
enum route_result router_resolve(const char *address, const char *local_ip,
				 struct route *route_r, const char **error_r);

/* The domain a name without one belongs to: the domain bound to local_ip
 * (may be NULL), else the main domain.  domain_r: ACCOUNT_NAME_MAX + 1. */
enum route_result router_default_domain(const char *local_ip, char *domain_r,
					const char **error_r);

const char *route_rule_name(enum route_rule rule);

#endif

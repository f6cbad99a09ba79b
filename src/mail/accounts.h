/* accounts.h - the admin operations on domains, accounts and mailboxes.
 * One implementation, called by posternctl (and later the web admin API):
 * names are checked here, then the store is changed. */
#ifndef PN_ACCOUNTS_H
#define PN_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "postern/module.h"
#include "store/store_ops.h"

/* Resolve "name", "name@domain" or "name%domain" to checked, lower-case
 * parts; a missing domain becomes the main domain. */
int account_resolve(const char *address, const char *local_ip,
		    char *name_r, char *domain_r, const char **error_r);

int domain_add(const char *name, const char **error_r);
int domain_del(const char *name, const char **error_r);

int account_add(const char *address, const char *password,
		struct account *account_r, const char **error_r);
int account_del(const char *address, const char **error_r);
int account_passwd(const char *address, const char *password,
		   const char **error_r);
/* Grant or take away the admin right (acting as other users). */
int account_set_admin(const char *address, bool admin, const char **error_r);
/* An existing account, or -1 with "no such account: ..." */
int account_find(const char *address, struct account *account_r,
		 const char **error_r);

/* Domain aliases, the unified account, bound local addresses. */
int domain_alias_add(const char *alias, const char *domain,
		     const char **error_r);
int domain_alias_del(const char *alias, const char **error_r);
/* account "" clears it. */
int domain_set_unified(const char *domain, const char *account,
		       const char **error_r);
/* address: a numeric IPv4/IPv6 address; canonical_r (IP_TEXT_MAX) gets
 * the form stored. */
int domain_bind(const char *domain, const char *address, char *canonical_r,
		const char **error_r);
int domain_unbind(const char *address, char *canonical_r, const char **error_r);

/* Account aliases: "alias@domain" (or an alias of the main domain) for an
 * account of the same domain (account given as "name" or "name@domain"). */
int alias_add(const char *alias, const char *account, const char **error_r);
int alias_del(const char *alias, const char **error_r);

/* The storage quota in octets; 0 removes it. */
int account_set_quota(const char *address, uint64_t quota,
		      const char **error_r);

#endif

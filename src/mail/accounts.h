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

#endif

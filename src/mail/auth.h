/* auth.h - the account behind a login name, and what to check its
 * password against.  The check itself runs in the host's verification
 * pool (host/verify_pool.h), never here. */
#ifndef PN_AUTH_H
#define PN_AUTH_H

#include <stddef.h>

#include "postern/module.h"

enum auth_lookup {
	AUTH_LOOKUP_FOUND,	/* *account_r and hash_r are filled */
	AUTH_LOOKUP_UNKNOWN,	/* a name that is invalid or names nobody */
	AUTH_LOOKUP_TEMPFAIL,	/* store fault */
};

/* Resolve `login` ("jsmith", "jsmith@example.com", "jsmith%example.com")
 * through the Router (mail/router.h), relative to local_ip, so aliases,
 * domain aliases and unified accounts work at login.  user_r
 * (ADDRESS_MAX + 1 octets) gets the account's canonical "name@domain", or
 * "" when the name is invalid; view_r (ADDRESS_MAX + 1) the address a
 * unified account's login stands for ("abcdef@client1.com"), else "".
 * *error_r says why for the log, never for the client. */
enum auth_lookup auth_lookup(const char *login, const char *local_ip,
			     struct account *account_r, char *hash_r,
			     size_t hash_size, char *user_r, char *view_r,
			     const char **error_r);

/* The account a login name stands for (no password involved): what SASL's
 * user canonicalisation needs.  Same results as auth_lookup. */
enum auth_lookup auth_route(const char *login, const char *local_ip,
			    struct account *account_r, char *view_r,
			    const char **error_r);

#endif

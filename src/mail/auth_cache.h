/* auth_cache.h - recently verified passwords, so that a mail client's login
 * every few minutes does not pay for yescrypt (18 ms at libxcrypt's
 * default cost) each time.  Dovecot's auth cache does the same.
 *
 * An entry holds the user, a SHA-256 of the stored hash (a password change
 * makes the entry useless at once) and HMAC-SHA256 of the password under a
 * random key made at start-up; never the password.  Only successes are
 * remembered: a guess always costs a full verification.  auth.cache_ttl
 * bounds an entry's life; 0 turns the cache off. */
#ifndef PN_AUTH_CACHE_H
#define PN_AUTH_CACHE_H

#include <stdbool.h>

void auth_cache_set_ttl(unsigned int seconds);
/* Was this password verified against this stored hash recently? */
bool auth_cache_check(const char *user, const char *stored_hash,
		      const char *password);
void auth_cache_store(const char *user, const char *stored_hash,
		      const char *password);
void auth_cache_clear(void);

#endif

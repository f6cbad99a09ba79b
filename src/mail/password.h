/* password.h - password hashes through libxcrypt.  New hashes are yescrypt;
 * $6$ (SHA-512 crypt) and $2b$ (bcrypt) hashes of imported users verify. */
#ifndef PN_PASSWORD_H
#define PN_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

int password_hash(const char *password, char *hash_r, size_t size,
		  const char **error_r);
bool password_verify(const char *password, const char *hash);
/* The same, answered from the verified-password cache when it can be
 * (mail/auth_cache.h); user is "name@domain". */
bool password_verify_cached(const char *user, const char *password,
			    const char *hash);
/* yescrypt cost for new hashes: 0 = libxcrypt's default, 1-11. */
void password_set_cost(unsigned int cost);
/* Spend the time a real verification takes (unknown users). */
void password_verify_dummy(const char *password);
/* The hash it uses (copy it: password_set_cost replaces it). */
const char *password_dummy_hash(void);

#endif

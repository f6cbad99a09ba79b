/* scram.h - SCRAM secrets (RFC 5802) in RFC 5803 authPassword form:
 *   SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
 * computed once when a password is set, so SCRAM logins never need the
 * plaintext (and the store never keeps it). */
#ifndef PN_SCRAM_H
#define PN_SCRAM_H

#include <stddef.h>

#define SCRAM_ITERATIONS 4096	/* RFC 7677's minimum recommendation */
/* Both secrets, SHA-256 and SHA-1, one per line. */
#define SCRAM_SECRETS_MAX 400

int scram_secrets(const char *password, char *out, size_t outsize,
		  const char **error_r);
/* Secrets that look real for a user that does not exist: the salt is
 * stable per name (from a random per-process key), the keys match no
 * password.  SCRAM then fails at the proof, as for a wrong password,
 * instead of telling at the first step that there is no such user. */
int scram_fake_secrets(const char *user, char *out, size_t outsize);

#endif

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

#endif

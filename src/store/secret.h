/* secret.h - secrets the server must be able to read back (a retrieval
 * source's password for a remote POP3 server), sealed before they go into
 * the store.
 *
 * The store (data_dir 0750, store.mdb 0640) may be read by the server's
 * group - backups, monitoring.  A sealed secret needs the key in
 * data_dir/secret.key as well, which is made once with 32 random octets and
 * mode 0600, so only the server's own user (posternd, and posternctl,
 * which runs as that user) can open it.  AES-256-GCM with a random nonce
 * per secret; the text form is "v1:" and the base64 of nonce, ciphertext
 * and tag.  A backup of the store needs secret.key beside it, or the
 * sources' passwords must be set again. */
#ifndef PN_SECRET_H
#define PN_SECRET_H

#include <stddef.h>

/* The sealed text of a secret of up to 255 octets fits in this. */
#define SECRET_SEALED_MAX 400

/* Seal plain (NUL-terminated, at most 255 octets) into out. */
int secret_seal(const char *plain, char *out, size_t outsize,
		const char **error_r);
/* Open a sealed text into out (NUL-terminated).  A text without the
 * "v1:" mark is taken as it is (a record written before sealing). */
int secret_open(const char *sealed, char *out, size_t outsize,
		const char **error_r);
/* Forget the key read (tests change data_dir). */
void secret_forget_key(void);

#endif

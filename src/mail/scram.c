/* scram.c - SCRAM-SHA-1 and SCRAM-SHA-256 secrets with OpenSSL. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "mail/scram.h"

#define SCRAM_SALT_LEN 16

static int one_secret(const char *mech, const EVP_MD *md, const char *password,
		      char *out, size_t outsize)
{
	unsigned char salt[SCRAM_SALT_LEN], salted[EVP_MAX_MD_SIZE];
	unsigned char client_key[EVP_MAX_MD_SIZE], stored_key[EVP_MAX_MD_SIZE];
	unsigned char server_key[EVP_MAX_MD_SIZE];
	char b64_salt[64], b64_stored[96], b64_server[96];
	unsigned int len = 0, klen;
	int n, mdlen = EVP_MD_get_size(md);

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt),
			      SCRAM_ITERATIONS, md, mdlen, salted) != 1 ||
	    HMAC(md, salted, mdlen, (const unsigned char *)"Client Key", 10,
		 client_key, &klen) == NULL ||
	    EVP_Digest(client_key, klen, stored_key, &len, md, NULL) != 1 ||
	    HMAC(md, salted, mdlen, (const unsigned char *)"Server Key", 10,
		 server_key, &klen) == NULL)
		return -1;
	EVP_EncodeBlock((unsigned char *)b64_salt, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)b64_stored, stored_key, (int)len);
	EVP_EncodeBlock((unsigned char *)b64_server, server_key, (int)klen);
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client_key, sizeof(client_key));
	n = snprintf(out, outsize, "%s$%d:%s$%s:%s", mech, SCRAM_ITERATIONS,
		     b64_salt, b64_stored, b64_server);
	return n < 0 || (size_t)n >= outsize ? -1 : n;
}

int scram_secrets(const char *password, char *out, size_t outsize,
		  const char **error_r)
{
	int n = one_secret("SCRAM-SHA-256", EVP_sha256(), password, out, outsize);
	int m;

	if (n < 0 || (size_t)n + 2 >= outsize) {
		*error_r = "cannot compute SCRAM secrets (OpenSSL)";
		return -1;
	}
	out[n++] = '\n';
	m = one_secret("SCRAM-SHA-1", EVP_sha1(), password, out + n, outsize - (size_t)n);
	if (m < 0) {
		*error_r = "cannot compute SCRAM secrets (OpenSSL)";
		return -1;
	}
	return 0;
}

/* scram.c - SCRAM-SHA-1 and SCRAM-SHA-256 secrets with OpenSSL. */
#include "build-config.h"

#include <stdbool.h>
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

static int fake_part(const EVP_MD *md, const char *label, const char *mech,
		     const char *user, unsigned char *out, unsigned int *len)
{
	static unsigned char key[32];
	static bool have_key;
	char msg[512];
	int n;

	if (!have_key) {
		if (RAND_bytes(key, sizeof(key)) != 1)
			return -1;
		have_key = true;
	}
	n = snprintf(msg, sizeof(msg), "%s:%s:%s", label, mech, user);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	return HMAC(md, key, sizeof(key), (unsigned char *)msg, (size_t)n, out,
		    len) == NULL ? -1 : 0;
}

int scram_fake_secrets(const char *user, char *out, size_t outsize)
{
	static const struct { const char *mech; const EVP_MD *(*md)(void); } mechs[] = {
		{ "SCRAM-SHA-256", EVP_sha256 }, { "SCRAM-SHA-1", EVP_sha1 },
	};
	size_t off = 0;

	for (size_t i = 0; i < 2; i++) {
		unsigned char salt[EVP_MAX_MD_SIZE], stored[EVP_MAX_MD_SIZE];
		unsigned char server[EVP_MAX_MD_SIZE];
		char b64_salt[64], b64_stored[96], b64_server[96];
		unsigned int l1, l2, l3;
		const EVP_MD *md = mechs[i].md();
		int n;

		if (fake_part(md, "salt", mechs[i].mech, user, salt, &l1) < 0 ||
		    fake_part(md, "stored", mechs[i].mech, user, stored, &l2) < 0 ||
		    fake_part(md, "server", mechs[i].mech, user, server, &l3) < 0)
			return -1;
		EVP_EncodeBlock((unsigned char *)b64_salt, salt, SCRAM_SALT_LEN);
		EVP_EncodeBlock((unsigned char *)b64_stored, stored, (int)l2);
		EVP_EncodeBlock((unsigned char *)b64_server, server, (int)l3);
		n = snprintf(out + off, outsize - off, "%s%s$%d:%s$%s:%s", i ? "\n" : "",
			     mechs[i].mech, SCRAM_ITERATIONS, b64_salt, b64_stored,
			     b64_server);
		if (n < 0 || (size_t)n >= outsize - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

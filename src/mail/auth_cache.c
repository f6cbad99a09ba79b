/* auth_cache.c - verified-password cache. */
#include "build-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "lib/xalloc.h"
#include "mail/auth_cache.h"
#include "postern/module.h"

#define CACHE_BUCKETS 8192
#define CACHE_MAX 100000	/* entries; past it, new successes are not kept */

struct cache_entry {
	struct cache_entry *next;
	time_t expires;
	unsigned char stored_fp[32];
	unsigned char pw_mac[32];
	char user[ADDRESS_MAX + 1];
};

static struct cache_entry *buckets[CACHE_BUCKETS];
static unsigned int entries;
static unsigned int ttl;
static unsigned char key[32];
static bool have_key;

void auth_cache_set_ttl(unsigned int seconds)
{
	ttl = seconds;
	if (ttl == 0)
		auth_cache_clear();
}

static unsigned int bucket_of(const char *user)
{
	uint32_t h = 2166136261u;

	for (; *user; user++)
		h = (h ^ (unsigned char)*user) * 16777619u;
	return h % CACHE_BUCKETS;
}

static bool digests(const char *stored_hash, const char *password,
		    unsigned char fp[32], unsigned char mac[32])
{
	unsigned int len = 0;

	if (!have_key) {
		if (RAND_bytes(key, sizeof(key)) != 1)
			return false;
		have_key = true;
	}
	return EVP_Digest(stored_hash, strlen(stored_hash), fp, &len,
			  EVP_sha256(), NULL) == 1 &&
	       HMAC(EVP_sha256(), key, sizeof(key),
		    (const unsigned char *)password, strlen(password), mac,
		    &len) != NULL;
}

static struct cache_entry **find(const char *user)
{
	struct cache_entry **pp = &buckets[bucket_of(user)];
	time_t now = time(NULL);

	while (*pp != NULL) {
		struct cache_entry *e = *pp;

		if (e->expires <= now) {	/* expired: drop as we pass */
			*pp = e->next;
			explicit_bzero(e, sizeof(*e));
			free(e);
			entries--;
			continue;
		}
		if (strcmp(e->user, user) == 0)
			return pp;
		pp = &e->next;
	}
	return pp;
}

bool auth_cache_check(const char *user, const char *stored_hash,
		      const char *password)
{
	unsigned char fp[32], mac[32];
	struct cache_entry **pp;
	bool hit;

	if (ttl == 0 || (pp = find(user)) == NULL || *pp == NULL ||
	    !digests(stored_hash, password, fp, mac))
		return false;
	hit = CRYPTO_memcmp((*pp)->stored_fp, fp, sizeof(fp)) == 0 &&
	      CRYPTO_memcmp((*pp)->pw_mac, mac, sizeof(mac)) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return hit;
}

void auth_cache_store(const char *user, const char *stored_hash,
		      const char *password)
{
	struct cache_entry **pp, *e;

	if (ttl == 0 || strlen(user) > ADDRESS_MAX)
		return;
	pp = find(user);
	if (*pp == NULL) {
		if (entries >= CACHE_MAX)
			return;
		e = xcalloc(1, sizeof(*e));
		memcpy(e->user, user, strlen(user) + 1);
		*pp = e;
		entries++;
	}
	e = *pp;
	if (!digests(stored_hash, password, e->stored_fp, e->pw_mac)) {
		e->expires = 0;
		return;
	}
	e->expires = time(NULL) + (time_t)ttl;
}

void auth_cache_clear(void)
{
	for (unsigned int b = 0; b < CACHE_BUCKETS; b++) {
		while (buckets[b] != NULL) {
			struct cache_entry *e = buckets[b];

			buckets[b] = e->next;
			explicit_bzero(e, sizeof(*e));
			free(e);
		}
	}
	entries = 0;
}

/* password.c - hashing and verification with libxcrypt. */
#include "build-config.h"

#include <crypt.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "mail/auth_cache.h"
#include "mail/password.h"
#include "store/store_ops.h"

static unsigned int hash_cost;
/* What an unknown user's password is checked against: a hash of the
 * current cost, so the time taken does not tell who exists. */
static char dummy_hash[PASSWORD_HASH_MAX] =
	"$y$j9T$TVp8ONVlBhIfYEzwSO4Fm1$m6Gk/n1cc6LuFeVe8Xk8mXUCX6XrsJYnnSyfNfeWQd7";

void password_set_cost(unsigned int cost)
{
	char fresh[PASSWORD_HASH_MAX], random[24];
	const char *error;

	if (cost == hash_cost)
		return;
	hash_cost = cost;
	if (getrandom(random, sizeof(random) - 1, 0) != (ssize_t)sizeof(random) - 1)
		return;
	for (size_t i = 0; i + 1 < sizeof(random); i++)
		random[i] = (char)('a' + ((unsigned char)random[i] % 26));
	random[sizeof(random) - 1] = '\0';
	if (password_hash(random, fresh, sizeof(fresh), &error) == 0)
		memcpy(dummy_hash, fresh, sizeof(fresh));
	explicit_bzero(random, sizeof(random));
}

int password_hash(const char *password, char *hash_r, size_t size,
		  const char **error_r)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data;

	if (crypt_gensalt_rn("$y$", hash_cost, NULL, 0, salt, sizeof(salt)) == NULL) {
		*error_r = "cannot make a yescrypt salt (libxcrypt)";
		return -1;
	}
	memset(&data, 0, sizeof(data));
	if (crypt_rn(password, salt, &data, sizeof(data)) == NULL ||
	    data.output[0] == '*') {
		*error_r = "cannot hash the password (libxcrypt)";
		return -1;
	}
	if (strlen(data.output) >= size) {
		*error_r = "password hash too long";
		return -1;
	}
	memcpy(hash_r, data.output, strlen(data.output) + 1);
	explicit_bzero(&data, sizeof(data));
	return 0;
}

static bool consttime_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

bool password_verify(const char *password, const char *hash)
{
	struct crypt_data data;
	bool ok;

	if (hash[0] == '\0' || hash[0] == '*' || hash[0] == '!')
		return false;	/* no password or locked */
	memset(&data, 0, sizeof(data));
	if (crypt_rn(password, hash, &data, sizeof(data)) == NULL ||
	    data.output[0] == '*')
		return false;
	ok = consttime_equal(data.output, hash);
	explicit_bzero(&data, sizeof(data));
	return ok;
}

bool password_verify_cached(const char *user, const char *password,
			    const char *hash)
{
	if (auth_cache_check(user, hash, password))
		return true;
	if (!password_verify(password, hash))
		return false;
	auth_cache_store(user, hash, password);
	return true;
}

void password_verify_dummy(const char *password)
{
	(void)password_verify(password, dummy_hash);
}

const char *password_dummy_hash(void)
{
	return dummy_hash;
}


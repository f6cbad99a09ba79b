/* secret.c - sealing secrets with the key in data_dir/secret.key
 * (secret.h): OpenSSL's AES-256-GCM. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "postern/module.h"
#include "store/secret.h"
#include "store/store.h"

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define PLAIN_MAX 255
#define MARK "v1:"

static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char key[KEY_LEN];
static bool have_key;
static _Thread_local char errbuf[4096 + 256];

void secret_forget_key(void)
{
	pthread_mutex_lock(&key_lock);
	explicit_bzero(key, sizeof(key));
	have_key = false;
	pthread_mutex_unlock(&key_lock);
}

static int key_path(char *buf, size_t size)
{
	const char *dir = store_data_dir();

	if (dir == NULL)
		return -1;
	snprintf(buf, size, "%s/secret.key", dir);
	return 0;
}

/* Read the key, or (create) make it: 32 random octets, 0600, synced. */
static int load_key(const char **error_r)
{
	char path[4096];
	unsigned char fresh[KEY_LEN];
	ssize_t n;
	int fd, ret = -1;

	pthread_mutex_lock(&key_lock);
	if (have_key) {
		pthread_mutex_unlock(&key_lock);
		return 0;
	}
	if (key_path(path, sizeof(path)) < 0) {
		*error_r = "the store is not open";
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
			*error_r = "no random numbers for the secret key";
			goto out;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			bool ok = write(fd, fresh, sizeof(fresh)) == (ssize_t)sizeof(fresh) &&
				  fsync(fd) == 0;

			close(fd);
			explicit_bzero(fresh, sizeof(fresh));
			if (!ok) {
				snprintf(errbuf, sizeof(errbuf), "cannot write %s: %s", path,
					 strerror(errno));
				unlink(path);
				*error_r = errbuf;
				goto out;
			}
		} else if (errno != EEXIST) {
			snprintf(errbuf, sizeof(errbuf), "cannot make %s: %s", path,
				 strerror(errno));
			*error_r = errbuf;
			goto out;
		}
		/* ours, or another process's made meanwhile: read it */
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(errbuf, sizeof(errbuf), "cannot read %s: %s", path, strerror(errno));
		*error_r = errbuf;
		goto out;
	}
	n = read(fd, key, sizeof(key));
	close(fd);
	if (n != KEY_LEN) {
		snprintf(errbuf, sizeof(errbuf), "%s is not a key of %d octets", path, KEY_LEN);
		*error_r = errbuf;
		explicit_bzero(key, sizeof(key));
		goto out;
	}
	have_key = true;
	ret = 0;
out:
	pthread_mutex_unlock(&key_lock);
	return ret;
}

int secret_seal(const char *plain, char *out, size_t outsize,
		const char **error_r)
{
	unsigned char buf[NONCE_LEN + PLAIN_MAX + TAG_LEN];
	size_t len = strlen(plain);
	EVP_CIPHER_CTX *ctx;
	int n = 0, m = 0, ok;

	if (len > PLAIN_MAX) {
		*error_r = "a secret of more than 255 octets";
		return -1;
	}
	if (load_key(error_r) < 0)
		return -1;
	if (RAND_bytes(buf, NONCE_LEN) != 1) {
		*error_r = "no random numbers for a nonce";
		return -1;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) == 1 &&
	     EVP_EncryptUpdate(ctx, buf + NONCE_LEN, &n, (const unsigned char *)plain,
			       (int)len) == 1 &&
	     EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + n, &m) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
				 buf + NONCE_LEN + n + m) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok || outsize < sizeof(MARK)) {
		explicit_bzero(buf, sizeof(buf));
		*error_r = "cannot seal the secret";
		return -1;
	}
	memcpy(out, MARK, sizeof(MARK) - 1);
	ok = base64_encode(buf, NONCE_LEN + (size_t)(n + m) + TAG_LEN,
			   out + sizeof(MARK) - 1, outsize - sizeof(MARK) + 1) >= 0;
	explicit_bzero(buf, sizeof(buf));
	if (!ok) {
		*error_r = "no room for the sealed secret";
		return -1;
	}
	return 0;
}

int secret_open(const char *sealed, char *out, size_t outsize,
		const char **error_r)
{
	unsigned char buf[NONCE_LEN + PLAIN_MAX + TAG_LEN + 4];
	size_t len = 0, clen;
	EVP_CIPHER_CTX *ctx;
	int n = 0, m = 0, ok;

	if (strncmp(sealed, MARK, sizeof(MARK) - 1) != 0) {
		if (strlen(sealed) >= outsize) {
			*error_r = "a secret too long";
			return -1;
		}
		memcpy(out, sealed, strlen(sealed) + 1);
		return 0;
	}
	sealed += sizeof(MARK) - 1;
	if (base64_decode(sealed, strlen(sealed), buf, sizeof(buf), &len) < 0 ||
	    len < NONCE_LEN + TAG_LEN || len - NONCE_LEN - TAG_LEN >= outsize) {
		*error_r = "a damaged sealed secret";
		return -1;
	}
	if (load_key(error_r) < 0)
		return -1;
	clen = len - NONCE_LEN - TAG_LEN;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) == 1 &&
	     EVP_DecryptUpdate(ctx, (unsigned char *)out, &n, buf + NONCE_LEN,
			       (int)clen) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
				 buf + NONCE_LEN + clen) == 1 &&
	     EVP_DecryptFinal_ex(ctx, (unsigned char *)out + n, &m) == 1;
	EVP_CIPHER_CTX_free(ctx);
	explicit_bzero(buf, sizeof(buf));
	if (!ok) {
		explicit_bzero(out, outsize);
		*error_r = "a sealed secret that secret.key does not open (another key, or damaged)";
		return -1;
	}
	out[n + m] = '\0';
	return 0;
}

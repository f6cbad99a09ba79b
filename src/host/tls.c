/* tls.c - server TLS contexts, SNI, reload. */
#include "build-config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "host/tls.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/names.h"

/* Mozilla's "intermediate" TLS 1.2 list: forward secrecy, AEAD only. */
#define TLS_DEFAULT_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"
#define TLS_DEFAULT_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS_MAX_DOMAINS 10000

struct sni_entry {
	char name[ACCOUNT_NAME_MAX + 1];
	SSL_CTX *ctx;
};

/* One generation of contexts; replaced whole on reload. */
struct tls_contexts {
	SSL_CTX *def;
	struct sni_entry *sni;
	size_t n_sni;
	char *cert_file, *key_file;	/* tls.cert and the key's file */
};

static struct tls_contexts *current;
static char errbuf[1024];

#define S(field) offsetof(struct tls_settings, field)

static const struct setting_def tls_defs[] = {
	{ "cert", SETTING_STRING, S(cert), "", 0, 0 },
	{ "key", SETTING_STRING, S(key), "", 0, 0 },
	{ "cert_dir", SETTING_STRING, S(cert_dir), "", 0, 0 },
	{ "min_version", SETTING_STRING, S(min_version), "TLSv1.2", 0, 0 },
	{ "ciphers", SETTING_STRING, S(ciphers), TLS_DEFAULT_CIPHERS, 0, 0 },
	{ "ciphersuites", SETTING_STRING, S(ciphersuites), TLS_DEFAULT_SUITES, 0, 0 },
	SETTING_DEFS_END
};

const char *tls_setting_default(const char *key)
{
	return setting_default(tls_defs, key);
}

int tls_settings_load(struct config *cfg, struct tls_settings *set,
		      const char **error_r)
{
	if (config_apply(cfg, "tls", tls_defs, set, error_r) < 0)
		return -1;
	if (strcmp(set->min_version, "TLSv1.2") != 0 &&
	    strcmp(set->min_version, "TLSv1.3") != 0) {
		snprintf(errbuf, sizeof(errbuf),
			 "tls.min_version = %s: use TLSv1.2 or TLSv1.3",
			 set->min_version);
		*error_r = errbuf;
		return -1;
	}
	if (set->key[0] != '\0' && set->cert[0] == '\0') {
		*error_r = "tls.key is set but tls.cert is not";
		return -1;
	}
	return 0;
}

void tls_settings_free(struct tls_settings *set)
{
	settings_free(tls_defs, set);
}

const char *tls_error_text(void)
{
	static char text[256];	/* not errbuf: callers format into that */
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown TLS error";
	ERR_error_string_n(e, text, sizeof(text));
	ERR_clear_error();
	return text;
}

static void contexts_free(struct tls_contexts *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->def);
	for (size_t i = 0; i < t->n_sni; i++)
		SSL_CTX_free(t->sni[i].ctx);
	free(t->sni);
	free(t->cert_file);
	free(t->key_file);
	free(t);
}

static SSL_CTX *find_sni(const struct tls_contexts *t, const char *name)
{
	/* exact name first, then each parent: pop.example.com -> example.com */
	for (const char *p = name; p != NULL; p = strchr(p, '.')) {
		if (*p == '.')
			p++;
		for (size_t i = 0; i < t->n_sni; i++) {
			if (strcmp(t->sni[i].name, p) == 0)
				return t->sni[i].ctx;
		}
	}
	return NULL;
}

/* SNI: pick the domain's certificate from the current generation (a
 * handshake begun before a reload then gets the new certificate, and never
 * touches a freed generation). */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
	const struct tls_contexts *t = current;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char lower[ACCOUNT_NAME_MAX + 1];
	SSL_CTX *ctx;
	size_t i;

	(void)alert;
	(void)arg;
	if (t == NULL || name == NULL || strlen(name) > ACCOUNT_NAME_MAX)
		return SSL_TLSEXT_ERR_OK;	/* default certificate */
	for (i = 0; name[i] != '\0'; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	ctx = find_sni(t, lower);
	if (ctx != NULL)
		SSL_set_SSL_CTX(ssl, ctx);
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *context_new(const struct tls_settings *set, const char *cert,
			    const char *key, const char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	static const unsigned char sid_ctx[] = "postern";

	if (ctx == NULL) {
		*error_r = tls_error_text();
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, strcmp(set->min_version, "TLSv1.3") == 0 ?
				      TLS1_3_VERSION : TLS1_2_VERSION);
	/* many mail clients drop the connection without close_notify after
	 * QUIT: that is an ordinary end, not a TLS error worth logging */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_CIPHER_SERVER_PREFERENCE |
			    SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* partial writes and a buffer that may move between retries suit an
	 * output queue; released buffers keep idle connections small */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	/* resumption by stateless tickets only: worker processes could not
	 * share a server-side session cache, and it would hold up to 20,000
	 * sessions per process for nothing */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* one TLS 1.3 ticket per handshake is enough for a POP client (the
	 * default is two, each an encryption and a record more) */
	SSL_CTX_set_num_tickets(ctx, 1);
	if (SSL_CTX_set_cipher_list(ctx, set->ciphers) != 1) {
		snprintf(errbuf, sizeof(errbuf), "tls.ciphers: no usable cipher in '%s'",
			 set->ciphers);
		goto fail_msg;
	}
	if (SSL_CTX_set_ciphersuites(ctx, set->ciphersuites) != 1) {
		snprintf(errbuf, sizeof(errbuf),
			 "tls.ciphersuites: no usable suite in '%s'", set->ciphersuites);
		goto fail_msg;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(errbuf, sizeof(errbuf), "cannot load certificate %s: %s",
			 cert, tls_error_text());
		goto fail_msg;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(errbuf, sizeof(errbuf), "cannot load private key %s: %s",
			 key, tls_error_text());
		goto fail_msg;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(errbuf, sizeof(errbuf),
			 "private key %s does not match certificate %s", key, cert);
		goto fail_msg;
	}
	return ctx;
fail_msg:
	ERR_clear_error();
	*error_r = errbuf;
	SSL_CTX_free(ctx);
	return NULL;
}

/* cert_dir: DOMAIN.pem (chain and key) or DOMAIN.crt with DOMAIN.key. */
static int load_cert_dir(struct tls_contexts *t, const struct tls_settings *set,
			 const char **error_r)
{
	DIR *dir = opendir(set->cert_dir);
	struct dirent *de;

	if (dir == NULL) {
		snprintf(errbuf, sizeof(errbuf), "tls.cert_dir %s: %s", set->cert_dir,
			 strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		char domain[ACCOUNT_NAME_MAX + 1], lower[ACCOUNT_NAME_MAX + 1];
		char cert[4096], key[4096];
		const char *dot = strrchr(de->d_name, '.'), *err;
		size_t len;
		SSL_CTX *ctx;

		if (dot == NULL || (strcmp(dot, ".pem") != 0 && strcmp(dot, ".crt") != 0))
			continue;
		len = (size_t)(dot - de->d_name);
		if (len == 0 || len > ACCOUNT_NAME_MAX)
			continue;
		memcpy(domain, de->d_name, len);
		domain[len] = '\0';
		if (name_object_check(domain, lower, &err) < 0) {
			log_msg(LOG_WARNING, "TLS", "%s/%s: skipped: %s", set->cert_dir,
				de->d_name, err);
			continue;
		}
		snprintf(cert, sizeof(cert), "%s/%s", set->cert_dir, de->d_name);
		if (strcmp(dot, ".crt") == 0)
			snprintf(key, sizeof(key), "%s/%s.key", set->cert_dir, domain);
		else
			snprintf(key, sizeof(key), "%s", cert);
		if (t->n_sni == TLS_MAX_DOMAINS || find_sni(t, lower) != NULL)
			continue;
		if ((ctx = context_new(set, cert, key, error_r)) == NULL) {
			closedir(dir);
			return -1;
		}
		t->sni = xrealloc(t->sni, (t->n_sni + 1) * sizeof(*t->sni));
		memcpy(t->sni[t->n_sni].name, lower, strlen(lower) + 1);
		t->sni[t->n_sni++].ctx = ctx;
	}
	closedir(dir);
	return 0;
}

int tls_prepare(const struct tls_settings *set, struct tls_contexts **ctx_r,
		const char **error_r)
{
	struct tls_contexts *t;

	*ctx_r = NULL;
	if (set->cert[0] == '\0') {
		if (set->cert_dir[0] != '\0') {
			*error_r = "tls.cert_dir needs a default certificate in tls.cert";
			return -1;
		}
		return 0;	/* no TLS: committing NULL turns it off */
	}
	t = xcalloc(1, sizeof(*t));
	t->def = context_new(set, set->cert, set->key[0] ? set->key : set->cert,
			     error_r);
	if (t->def == NULL ||
	    (set->cert_dir[0] != '\0' && load_cert_dir(t, set, error_r) < 0)) {
		contexts_free(t);
		return -1;
	}
	SSL_CTX_set_tlsext_servername_callback(t->def, on_servername);
	t->cert_file = xstrdup(set->cert);
	t->key_file = xstrdup(set->key[0] ? set->key : set->cert);
	log_msg(LOG_INFO, "TLS", "certificate %s loaded, %zu per-domain from %s",
		set->cert, t->n_sni, set->cert_dir[0] ? set->cert_dir : "(no cert_dir)");
	*ctx_r = t;
	return 0;
}

void tls_commit(struct tls_contexts *t)
{
	/* connections in progress hold their own references: the old
	 * generation's memory goes when its last connection does */
	contexts_free(current);
	current = t;
}

void tls_discard(struct tls_contexts *t)
{
	contexts_free(t);
}

int tls_configure(const struct tls_settings *set, const char **error_r)
{
	struct tls_contexts *t;

	if (tls_prepare(set, &t, error_r) < 0)
		return -1;
	tls_commit(t);
	return 0;
}

void tls_deconfigure(void)
{
	contexts_free(current);
	current = NULL;
}

bool tls_available(void)
{
	return current != NULL;
}

bool pn_tls_files(const char **cert_r, const char **key_r)
{
	if (current == NULL)
		return false;
	*cert_r = current->cert_file;
	*key_r = current->key_file;
	return true;
}

SSL *tls_session_new(void)
{
	SSL *ssl;

	if (current == NULL)
		return NULL;
	ssl = SSL_new(current->def);
	if (ssl != NULL)
		SSL_set_accept_state(ssl);
	return ssl;
}

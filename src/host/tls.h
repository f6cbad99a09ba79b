/* tls.h - server TLS contexts (OpenSSL 3): the default certificate, one
 * per domain chosen by SNI, modern protocol defaults, and reload that keeps
 * the old contexts when the new ones are broken.  Only the host includes
 * this; modules see conn_starttls() and friends in postern/module.h. */
#ifndef PN_TLS_H
#define PN_TLS_H

#include <stdbool.h>

#include <openssl/ssl.h>

struct config;

struct tls_settings {
	char *cert;		/* PEM, chain allowed */
	char *key;		/* PEM; empty: the key is in the cert file */
	char *cert_dir;		/* DOMAIN.pem or DOMAIN.crt + DOMAIN.key */
	char *min_version;	/* TLSv1.2 or TLSv1.3 */
	char *ciphers;		/* TLS 1.2 cipher list */
	char *ciphersuites;	/* TLS 1.3 suites */
};

/* The default of a [tls] setting, or NULL. */
const char *tls_setting_default(const char *key);
int tls_settings_load(struct config *cfg, struct tls_settings *set,
		      const char **error_r);
void tls_settings_free(struct tls_settings *set);

/* Build every context from the settings and, only if all of them load,
 * make them current.  Open connections keep the contexts they started
 * with (OpenSSL counts references). */
int tls_configure(const struct tls_settings *set, const char **error_r);
/* The same in two steps, for a reload that must be all or nothing:
 * prepare builds (nothing changes), then commit or discard. */
struct tls_contexts;
int tls_prepare(const struct tls_settings *set, struct tls_contexts **ctx_r,
		const char **error_r);
void tls_commit(struct tls_contexts *ctx);
void tls_discard(struct tls_contexts *ctx);
/* Drop the current contexts (shutdown). */
void tls_deconfigure(void);
/* Is a certificate configured? */
bool tls_available(void);
/* A new server-side session on the default context (SNI may switch it). */
SSL *tls_session_new(void);
/* The last OpenSSL error as text, for logs. */
const char *tls_error_text(void);

#endif

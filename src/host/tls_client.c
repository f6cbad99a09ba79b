/* tls_client.c - client TLS contexts (tls_client.h).  One context per CA
 * file in use (usually one: the system's), made when first needed and kept:
 * loading a trust store is slow, sessions are cheap. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "host/tls.h"
#include "host/tls_client.h"
#include "lib/xalloc.h"

#define CLIENT_CTX_MAX 4

struct client_ctx {
	char *ca_file;		/* "" for the system's */
	SSL_CTX *ctx;
};

static struct client_ctx ctxs[CLIENT_CTX_MAX];
static char errbuf[512];

static SSL_CTX *context_for(const char *ca_file, const char **error_r)
{
	SSL_CTX *ctx;
	int i;

	for (i = 0; i < CLIENT_CTX_MAX && ctxs[i].ctx != NULL; i++) {
		if (strcmp(ctxs[i].ca_file, ca_file) == 0)
			return ctxs[i].ctx;
	}
	if (i == CLIENT_CTX_MAX) {
		*error_r = "too many different TLS CA files";
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		*error_r = "cannot make a TLS client context";
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if ((ca_file[0] != '\0' ?
	     SSL_CTX_load_verify_locations(ctx, ca_file, NULL) :
	     SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		snprintf(errbuf, sizeof(errbuf), "cannot load the CA certificates%s%s: %s",
			 ca_file[0] ? " of " : "", ca_file, tls_error_text());
		*error_r = errbuf;
		SSL_CTX_free(ctx);
		return NULL;
	}
	ctxs[i].ca_file = xstrdup(ca_file);
	ctxs[i].ctx = ctx;
	return ctx;
}

SSL *tls_client_session(const char *servername, bool verify,
			const char *ca_file, const char **error_r)
{
	SSL_CTX *ctx = context_for(ca_file != NULL ? ca_file : "", error_r);
	SSL *ssl;

	if (ctx == NULL)
		return NULL;
	if ((ssl = SSL_new(ctx)) == NULL) {
		*error_r = "cannot make a TLS session";
		return NULL;
	}
	SSL_set_connect_state(ssl);
	/* RFC 6066: no SNI for an address literal */
	if (servername[0] != '\0' && strspn(servername, "0123456789.:") != strlen(servername))
		SSL_set_tlsext_host_name(ssl, servername);
	if (verify) {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(ssl, servername) != 1) {
			SSL_free(ssl);
			*error_r = "cannot set the name to verify";
			return NULL;
		}
	} else {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	}
	return ssl;
}

const char *tls_client_verify_error(SSL *ssl)
{
	long rc = SSL_get_verify_result(ssl);

	if (rc == X509_V_OK)
		return NULL;
	return X509_verify_cert_error_string(rc);
}

void tls_client_free_all(void)
{
	for (int i = 0; i < CLIENT_CTX_MAX; i++) {
		SSL_CTX_free(ctxs[i].ctx);
		free(ctxs[i].ca_file);
		ctxs[i].ctx = NULL;
		ctxs[i].ca_file = NULL;
	}
}

/* tls_client.h - OpenSSL contexts for connections Postern makes (the
 * relay to its smarthost): the system's trust store, or one CA file. */
#ifndef PN_TLS_CLIENT_H
#define PN_TLS_CLIENT_H

#include <stdbool.h>

#include <openssl/ssl.h>

/* A client session for `servername` (SNI; with `verify`, also the name the
 * certificate must carry).  ca_file NULL or "": the system's CAs.  NULL
 * with *error_r when the context cannot be made (a CA file that does not
 * load). */
SSL *tls_client_session(const char *servername, bool verify,
			const char *ca_file, const char **error_r);
/* Why the peer's certificate was refused, or NULL when it was not. */
const char *tls_client_verify_error(SSL *ssl);
void tls_client_free_all(void);

#endif

/* conn_tls.c - TLS below the connection's line reader: socket I/O through
 * OpenSSL when TLS is on, the non-blocking handshake, and STARTTLS.
 *
 * The modules never see TLS: they call conn_starttls() after queuing their
 * "go ahead" reply; conn.c flushes that reply in the clear, throws away
 * every byte that arrived after the command (the STARTTLS command injection
 * defence), and begins the handshake here. */
#include "build-config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "host/conn_internal.h"
#include "host/tls.h"
#include "host/tls_client.h"
#include "lib/log.h"

bool conn_tls_available(const struct conn *c)
{
	(void)c;
	return tls_available();
}

bool conn_tls_active(const struct conn *c)
{
	return c->tls != TLS_OFF || c->starttls_pending;
}

int conn_starttls(struct conn *c, const char **error_r)
{
	if (conn_tls_active(c)) {
		*error_r = "TLS is already active";
		return -1;
	}
	if (!tls_available()) {
		*error_r = "no certificate is configured";
		return -1;
	}
	c->starttls_pending = true;
	return 0;
}

int conn_starttls_client(struct conn *c, const char *servername, bool verify,
			 const char *ca_file, conn_tls_done_fn *done,
			 const char **error_r)
{
	if (c->client == NULL || c->connecting) {
		*error_r = "not a connected outgoing connection";
		return -1;
	}
	if (c->tls != TLS_OFF) {
		*error_r = "TLS is already active";
		return -1;
	}
	c->ssl = tls_client_session(servername, verify, ca_file, error_r);
	if (c->ssl == NULL)
		return -1;
	if (SSL_set_fd(c->ssl, c->fd) != 1) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		*error_r = "cannot start TLS";
		return -1;
	}
	/* whatever the server sent before the handshake is not to be
	 * trusted as coming from it (the injection defence, client side) */
	linereader_clear(&c->in);
	conn_client_set_tls_done(c, done);
	c->tls = TLS_HANDSHAKE;
	c->tls_wants = EV_WRITE;	/* the client speaks first */
	return 0;
}

int conn_io_tls_begin(struct conn *c)
{
	c->ssl = tls_session_new();
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		conn_log(c, LOG_ERROR, "cannot start TLS: %s", tls_error_text());
		return -1;
	}
	c->tls = TLS_HANDSHAKE;
	c->tls_wants = EV_READ;
	return 0;
}

/* Map an SSL_* result: 0 -> EOF, -1 with errno (EAGAIN: retry when
 * c->tls_wants is ready). */
static ssize_t ssl_result(struct conn *c, int ret, const char *what)
{
	int err = SSL_get_error(c->ssl, ret);

	switch (err) {
	case SSL_ERROR_WANT_READ:
		c->tls_wants = EV_READ;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		c->tls_wants = EV_WRITE;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;	/* close_notify */
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			/* an EOF without close_notify, or a socket error */
			if (ret == 0 || errno == 0)
				return 0;
			return -1;
		}
		/* fall through */
	default:
		conn_log(c, LOG_INFO, "TLS %s failed: %s", what, tls_error_text());
		errno = EPROTO;
		return -1;
	}
}

ssize_t conn_io_read(struct conn *c, void *buf, size_t len)
{
	int n;

	if (c->tls != TLS_ON)
		return read(c->fd, buf, len);
	ERR_clear_error();
	n = SSL_read(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0) {
		c->tls_wants = 0;
		return n;
	}
	return ssl_result(c, n, "read");
}

ssize_t conn_io_write(struct conn *c, const void *buf, size_t len)
{
	int n;

	if (c->tls != TLS_ON)
		return send(c->fd, buf, len, MSG_NOSIGNAL);
	ERR_clear_error();
	n = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0) {
		c->tls_wants = 0;
		return n;
	}
	return ssl_result(c, n, "write");
}

int conn_io_handshake(struct conn *c)
{
	int ret;

	ERR_clear_error();
	ret = SSL_do_handshake(c->ssl);
	if (ret == 1 && c->client != NULL) {
		c->tls = TLS_ON;
		c->tls_wants = 0;
		conn_log(c, LOG_INFO, "TLS established with %s: %s %s",
			 conn_peer_name(c), SSL_get_version(c->ssl),
			 SSL_get_cipher_name(c->ssl));
		conn_client_tls_done(c, NULL);
		return 1;
	}
	if (ret == 1) {
		c->tls = TLS_ON;
		c->tls_wants = 0;
		conn_log(c, LOG_INFO, "TLS established: %s %s%s%s",
			 SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl),
			 SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) ?
			 ", SNI " : "",
			 SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) ?
			 SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) : "");
		return 1;
	}
	if (ssl_result(c, ret, "handshake") < 0 && errno == EAGAIN)
		return 0;
	if (c->client != NULL) {
		const char *verr = tls_client_verify_error(c->ssl);
		char why[300];

		snprintf(why, sizeof(why), "TLS handshake with %s failed: %s%s",
			 conn_peer_name(c), verr ? "certificate not trusted: " : "",
			 verr ? verr : tls_error_text());
		conn_kill(c, why);
		conn_client_tls_done(c, why);
		return -1;
	}
	/* the reason was logged by ssl_result when OpenSSL gave one */
	conn_kill(c, "TLS handshake failed");
	return -1;
}

bool conn_io_pending(const struct conn *c)
{
	return c->tls == TLS_ON && SSL_pending(c->ssl) > 0;
}

void conn_io_free(struct conn *c)
{
	if (c->ssl == NULL)
		return;
	if (c->tls == TLS_ON) {
		/* best effort close_notify; the socket is non-blocking */
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);
	}
	SSL_free(c->ssl);
	c->ssl = NULL;
	ERR_clear_error();
}

/* sasl.h - authentication through Cyrus SASL, behind the connection API
 * (conn_sasl_* in postern/module.h).
 *
 * PLAIN and LOGIN reach Cyrus' checkpass callback, which verifies against
 * the stored crypt hash (libxcrypt).  SCRAM-SHA-256 and SCRAM-SHA-1 get the
 * RFC 5803 secrets computed when the password was set from "postern", an
 * auxprop plugin in this process.  No plaintext password is stored. */
#ifndef PN_SASL_H
#define PN_SASL_H

#include <stdbool.h>

#include "postern/module.h"

struct config;

struct auth_settings {
	bool allow_plaintext;		/* PLAIN/LOGIN/USER before TLS */
	struct setting_list mechanisms;	/* offered when usable */
	unsigned int failure_delay_ms;	/* first failure's delay; doubles */
	unsigned int failure_window;	/* seconds an address's count lasts */
	unsigned int verify_threads;	/* verification pool, per process */
};

/* cleartext_secrets: may CRAM-MD5 and DIGEST-MD5 be listed? */
int auth_settings_load(struct config *cfg, struct auth_settings *set,
		       bool cleartext_secrets, const char **error_r);
void auth_settings_free(struct auth_settings *set);

/* Once per process; `set` stays in force until the next call (reload). */
int sasl_global_init(const struct auth_settings *set, const char **error_r);
void sasl_global_set(const struct auth_settings *set);
void sasl_global_done(void);

/* A failed login from client address ip (text) outside a connection (the
 * web admin's): counted with POP's under the same key, with the same
 * auth.failure_delay_ms and failure_window; the delay in ms it has earned.
 * A success clears the count. */
unsigned int auth_failure_penalty(const char *ip);
void auth_failure_clear(const char *ip);

struct conn;
/* Drop a connection's SASL state (STARTTLS, close). */
void conn_sasl_free(struct conn *conn);

#endif

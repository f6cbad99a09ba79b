/* retrieval_source.h - a POP3 retrieval source as the admin writes it:
 * the names of its settings and their checks, one implementation for
 * posternctl and the web admin (SPEC.md 6, doc/retrieval.md). */
#ifndef PN_RETRIEVAL_SOURCE_H
#define PN_RETRIEVAL_SOURCE_H

#include <stdbool.h>

#include "postern/module.h"

/* The defaults: port 0 (the TLS mode's), stls, verify, USER/PASS, INBOX,
 * delete after fetching, every 10 minutes, enabled. */
#define RETRIEVAL_INTERVAL_DEFAULT 600
#define RETRIEVAL_INTERVAL_MIN 10
#define RETRIEVAL_INTERVAL_MAX (7 * 86400)
void retrieval_source_defaults(struct retrieval_source *s);

/* Set one setting from its text: host, port, tls (implicit|stls|none),
 * verify, user, password, auth (user|apop|plain), mailbox, keep,
 * interval (seconds, or "10m"), enabled.  -1 with *error_r naming the
 * setting and what it takes. */
int retrieval_source_set(struct retrieval_source *s, const char *key,
			 const char *value, const char **error_r);
/* What a source needs before it is stored: a host, a user and a password;
 * port 0 becomes the TLS mode's (995 implicit, else 110). */
int retrieval_source_complete(struct retrieval_source *s,
			      const char **error_r);

const char *retrieval_tls_name(enum retrieval_tls tls);
const char *retrieval_auth_name(enum retrieval_auth auth);
const char *retrieval_result_name(enum retrieval_result r);

#endif

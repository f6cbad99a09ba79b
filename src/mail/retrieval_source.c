/* retrieval_source.c - the settings of a retrieval source and their checks
 * (retrieval_source.h). */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "lib/config.h"
#include "lib/strnum.h"
#include "mail/names.h"
#include "mail/retrieval_source.h"

void retrieval_source_defaults(struct retrieval_source *s)
{
	memset(s, 0, sizeof(*s));
	s->tls = RETRIEVAL_TLS_STLS;
	s->verify = true;
	s->auth = RETRIEVAL_AUTH_USER;
	snprintf(s->mailbox, sizeof(s->mailbox), "INBOX");
	s->interval = RETRIEVAL_INTERVAL_DEFAULT;
	s->enabled = true;
}

static const char *const tls_names[] = { "implicit", "stls", "none" };
static const char *const auth_names[] = { "user", "apop", "plain" };
static const char *const result_names[] = { "never", "ok", "failed" };

const char *retrieval_tls_name(enum retrieval_tls tls)
{
	return (unsigned int)tls <= RETRIEVAL_TLS_NONE ? tls_names[tls] : "?";
}

const char *retrieval_auth_name(enum retrieval_auth auth)
{
	return (unsigned int)auth <= RETRIEVAL_AUTH_PLAIN ? auth_names[auth] : "?";
}

const char *retrieval_result_name(enum retrieval_result r)
{
	return (unsigned int)r <= RETRIEVAL_FAILED ? result_names[r] : "?";
}

/* A host name or an IP address: letters, digits, '-', '.', ':' (IPv6). */
static bool host_ok(const char *h)
{
	size_t len = strlen(h);

	if (len == 0 || len > RETRIEVAL_HOST_MAX || h[0] == '-' || h[0] == '.')
		return false;
	for (const char *p = h; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		      *p == ':'))
			return false;
	}
	return true;
}

/* Printable, at most max octets; spaces only where `spaces`. */
static bool text_ok(const char *t, size_t max, bool spaces)
{
	size_t len = strlen(t);

	if (len == 0 || len > max)
		return false;
	for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p == ' ' && !spaces))
			return false;
	}
	return true;
}

int retrieval_source_set(struct retrieval_source *s, const char *key,
			 const char *value, const char **error_r)
{
	uint64_t n;
	bool b;

	if (strcmp(key, "host") == 0) {
		if (!host_ok(value)) {
			*error_r = "host: a host name or an IP address (letters, digits, '-', '.', ':')";
			return -1;
		}
		snprintf(s->host, sizeof(s->host), "%s", value);
	} else if (strcmp(key, "port") == 0) {
		if (str_to_uint64(value, &n) < 0 || n == 0 || n > 65535) {
			*error_r = "port: a number from 1 to 65535";
			return -1;
		}
		s->port = (uint16_t)n;
	} else if (strcmp(key, "tls") == 0) {
		for (unsigned int i = 0; i <= RETRIEVAL_TLS_NONE; i++) {
			if (strcmp(value, tls_names[i]) == 0) {
				s->tls = (enum retrieval_tls)i;
				return 0;
			}
		}
		*error_r = "tls: implicit, stls or none";
		return -1;
	} else if (strcmp(key, "auth") == 0) {
		for (unsigned int i = 0; i <= RETRIEVAL_AUTH_PLAIN; i++) {
			if (strcmp(value, auth_names[i]) == 0) {
				s->auth = (enum retrieval_auth)i;
				return 0;
			}
		}
		*error_r = "auth: user, apop or plain";
		return -1;
	} else if (strcmp(key, "user") == 0) {
		if (!text_ok(value, RETRIEVAL_USER_MAX, false)) {
			*error_r = "user: 1-255 printable characters, no spaces";
			return -1;
		}
		snprintf(s->user, sizeof(s->user), "%s", value);
	} else if (strcmp(key, "password") == 0) {
		if (!text_ok(value, RETRIEVAL_PASSWORD_MAX, true)) {
			*error_r = "password: 1-255 printable characters";
			return -1;
		}
		snprintf(s->password, sizeof(s->password), "%s", value);
	} else if (strcmp(key, "mailbox") == 0) {
		if (name_mailbox_check(value, error_r) < 0)
			return -1;
		snprintf(s->mailbox, sizeof(s->mailbox), "%s", value);
	} else if (strcmp(key, "interval") == 0) {
		if (str_parse_seconds(value, &n) < 0 ||
		    n < RETRIEVAL_INTERVAL_MIN || n > RETRIEVAL_INTERVAL_MAX) {
			*error_r = "interval: seconds (\"600\", \"10m\", \"1h\"), from 10 s to 7 days";
			return -1;
		}
		s->interval = (uint32_t)n;
	} else if (strcmp(key, "verify") == 0 || strcmp(key, "keep") == 0 ||
		   strcmp(key, "enabled") == 0) {
		if (config_parse_bool(value, &b) < 0) {
			static char err[64];

			snprintf(err, sizeof(err), "%s: yes or no", key);
			*error_r = err;
			return -1;
		}
		if (key[0] == 'v')
			s->verify = b;
		else if (key[0] == 'k')
			s->keep = b;
		else
			s->enabled = b;
	} else {
		*error_r = "unknown setting (host, port, tls, verify, user, password, auth, mailbox, keep, interval, enabled)";
		return -1;
	}
	return 0;
}

int retrieval_source_complete(struct retrieval_source *s,
			      const char **error_r)
{
	if (s->host[0] == '\0') {
		*error_r = "host: needed";
		return -1;
	}
	if (s->user[0] == '\0') {
		*error_r = "user: needed";
		return -1;
	}
	if (s->password[0] == '\0') {
		*error_r = "password: needed";
		return -1;
	}
	if (s->port == 0)
		s->port = s->tls == RETRIEVAL_TLS_IMPLICIT ? 995 : 110;
	return 0;
}

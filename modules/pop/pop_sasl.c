/* pop_sasl.c - AUTH (RFC 5034): SASL exchanges through the host's Cyrus
 * SASL, plus the "empty AUTH" mechanism listing older clients use. */
#include <stdio.h>
#include <string.h>

#include "pop.h"

/* base64 of a challenge: 4/3 of POP_MAX_AUTH_LINE fits any Cyrus sends */
#define CHALLENGE_MAX (POP_MAX_AUTH_LINE + 16)

static void sasl_done(struct pop_session *s)
{
	s->sasl_active = false;
	conn_set_max_line(s->conn, POP_MAX_LINE);
}

void pop_sasl_abort(struct pop_session *s, const char *why)
{
	conn_sasl_abort(s->conn);
	sasl_done(s);
	pop_err(s, "%s", why);
}

/* Act on one step's outcome (it may have waited for a password check). */
static void sasl_result(void *session, const struct auth_reply *reply)
{
	struct pop_session *s = session;
	char b64[CHALLENGE_MAX];

	switch (reply->step) {
	case AUTH_STEP_CONTINUE:
		if (base64_encode(reply->out, reply->outlen, b64, sizeof(b64)) < 0) {
			pop_sasl_abort(s, "[SYS/TEMP] Authentication failed, try again later");
			return;
		}
		s->sasl_active = true;
		conn_set_max_line(s->conn, POP_MAX_AUTH_LINE);
		conn_printf(s->conn, "+ %s\r\n", b64);
		return;
	case AUTH_STEP_OK:
		sasl_done(s);
		pop_login(s, &reply->account, reply->mailbox, reply->view,
			  s->sasl_mech);
		return;
	case AUTH_STEP_FAILED: {
		char why[300];

		sasl_done(s);
		snprintf(why, sizeof(why), "%s: %s", s->sasl_mech, reply->error);
		pop_auth_failed(s, why);
		return;
	}
	case AUTH_STEP_TEMPFAIL:
		sasl_done(s);
		conn_log(s->conn, LOG_ERROR, "%s authentication: %s", s->sasl_mech,
			 reply->error);
		pop_err(s, "[SYS/TEMP] Temporary problem, try again later");
		return;
	case AUTH_STEP_NOMECH:
		sasl_done(s);
		pop_err(s, "Mechanism %s is not available%s", s->sasl_mech,
			conn_plaintext_allowed(s->conn) ? "" : " (try STLS first)");
		pop_count_bad(s);
		return;
	}
}

static void list_mechanisms(struct pop_session *s)
{
	char list[256], *save = NULL;

	snprintf(list, sizeof(list), "%s", conn_sasl_mechs(s->conn, POP_SASL_SERVICE));
	pop_ok(s, "Supported mechanisms follow");
	for (char *m = strtok_r(list, " ", &save); m; m = strtok_r(NULL, " ", &save))
		conn_printf(s->conn, "%s\r\n", m);
	conn_puts(s->conn, ".\r\n");
}

enum pop_result pop_cmd_auth(struct pop_session *s, char *args)
{
	char *mech = args, *initial, decoded[POP_MAX_LINE + 1] = "";
	size_t inlen = 0;

	/* "AUTH" and "AUTH " alone: list what works here (empty AUTH) */
	if (*args == '\0') {
		list_mechanisms(s);
		return POP_DONE;
	}
	initial = strchr(args, ' ');
	if (initial != NULL) {
		*initial++ = '\0';
		if (*initial == '\0' || strchr(initial, ' ') != NULL) {
			pop_err(s, "AUTH takes a mechanism and one initial response");
			return POP_BAD;
		}
	}
	if (strlen(mech) >= sizeof(s->sasl_mech)) {
		pop_err(s, "Unknown authentication mechanism");
		return POP_BAD;
	}
	memcpy(s->sasl_mech, mech, strlen(mech) + 1);
	/* an initial response: "=" is an empty one (RFC 5034) */
	if (initial != NULL && strcmp(initial, "=") != 0 &&
	    base64_decode(initial, strlen(initial), decoded, sizeof(decoded),
			  &inlen) < 0) {
		pop_err(s, "Invalid base64 data in the initial response");
		return POP_BAD;
	}
	conn_sasl_start(s->conn, POP_SASL_SERVICE, mech, decoded, inlen,
			initial != NULL, sasl_result);
	explicit_bzero(decoded, sizeof(decoded));
	explicit_bzero(args, strlen(args));
	if (initial != NULL)
		explicit_bzero(initial, strlen(initial));
	return POP_DONE;
}

void pop_sasl_line(struct pop_session *s, char *line, size_t len)
{
	static char decoded[POP_MAX_AUTH_LINE];
	size_t inlen = 0;

	if (len == 1 && line[0] == '*') {
		pop_sasl_abort(s, "Authentication cancelled");
		return;
	}
	if (memchr(line, '\0', len) != NULL ||
	    base64_decode(line, len, decoded, sizeof(decoded), &inlen) < 0) {
		pop_sasl_abort(s, "Invalid base64 data, authentication cancelled");
		return;
	}
	conn_sasl_step(s->conn, decoded, inlen, sasl_result);
	explicit_bzero(decoded, inlen);
	explicit_bzero(line, len);
}

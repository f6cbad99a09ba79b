/* pop_auth.c - AUTHORIZATION state: USER, PASS, CAPA, QUIT, and login. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop.h"

/* LOGIN-DELAY and EXPIRE (RFC 2449 6.5, 6.8), when a policy sets them:
 * before login the server's, marked USER since a domain or account may
 * differ; after it the account's own. */
static void pop_capa_policy(struct pop_session *s, const struct pop_policy *mine)
{
	struct pop_policy server;
	const struct pop_policy *p = mine;
	const char *error, *user = mine == NULL ? " USER" : "";

	if (p == NULL) {
		if (pop_policy_for("", "", &server, &error) < 0)
			return;
		p = &server;
	}
	if (p->login_delay_set && p->login_delay > 0)
		conn_printf(s->conn, "LOGIN-DELAY %u%s\r\n", p->login_delay, user);
	if (p->expire_set) {
		if (p->expire_days < 0)
			conn_printf(s->conn, "EXPIRE NEVER%s\r\n", user);
		else
			conn_printf(s->conn, "EXPIRE %d%s\r\n", p->expire_days, user);
	}
}

enum pop_result pop_cmd_capa(struct pop_session *s, char *args)
{
	if (*args != '\0') {
		pop_err(s, "CAPA takes no arguments");
		return POP_BAD;
	}
	pop_ok(s, "Capability list follows");
	conn_puts(s->conn, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
		  "PIPELINING\r\n");
	if (s->state == POP_AUTHORIZATION) {
		/* offered only where they can work right now (RFC 2449) */
		const char *mechs = conn_sasl_mechs(s->conn, POP_SASL_SERVICE);

		if (conn_tls_available(s->conn) && !conn_tls_active(s->conn))
			conn_puts(s->conn, "STLS\r\n");
		if (*mechs != '\0')
			conn_printf(s->conn, "SASL %s\r\n", mechs);
		if (conn_plaintext_allowed(s->conn))
			conn_puts(s->conn, "USER\r\n");
		pop_capa_policy(s, NULL);
	} else {
		pop_capa_policy(s, &s->policy);
		conn_puts(s->conn, "IMPLEMENTATION Postern\r\n");
	}
	conn_puts(s->conn, ".\r\n");
	return POP_DONE;
}

enum pop_result pop_cmd_stls(struct pop_session *s, char *args)
{
	const char *error;

	if (*args != '\0') {
		pop_err(s, "STLS takes no arguments");
		return POP_BAD;
	}
	if (conn_tls_active(s->conn)) {
		pop_err(s, "TLS is already active");
		return POP_BAD;
	}
	if (!conn_tls_available(s->conn)) {
		pop_err(s, "STLS is not available here");
		return POP_BAD;
	}
	pop_ok(s, "Begin TLS negotiation now");
	if (conn_starttls(s->conn, &error) < 0) {
		conn_log(s->conn, LOG_ERROR, "STLS: %s", error);
		conn_close_after_flush(s->conn);
		return POP_DONE;
	}
	/* RFC 2595: forget everything learnt before TLS */
	s->have_user = false;
	explicit_bzero(s->user, sizeof(s->user));
	return POP_DONE;
}

enum pop_result pop_cmd_user(struct pop_session *s, char *args)
{
	size_t len = strlen(args);

	if (!conn_plaintext_allowed(s->conn)) {
		pop_err(s, "[AUTH] Plaintext login is not allowed before STLS");
		return POP_BAD;
	}
	if (len == 0) {
		pop_err(s, "USER needs a user name");
		return POP_BAD;
	}
	if (len > ADDRESS_MAX) {
		pop_err(s, "User name too long");
		return POP_BAD;
	}
	memcpy(s->user, args, len + 1);
	s->have_user = true;
	pop_ok(s, "Send your password");
	return POP_DONE;
}

enum pop_result pop_cmd_quit_auth(struct pop_session *s, char *args)
{
	(void)args;
	pop_ok(s, "Bye");
	conn_close_after_flush(s->conn);
	return POP_DONE;
}

void pop_auth_failed(struct pop_session *s, const char *why)
{
	s->auth_failures++;
	conn_log(s->conn, LOG_NOTICE, "authentication failed: %s", why);
	/* the answer waits out the address's penalty, which grows with
	 * every failure from it (across connections) */
	conn_auth_failed(s->conn);
	pop_err(s, "[AUTH] Invalid user name or password");
	if (s->auth_failures >= s->set->max_auth_failures) {
		conn_log(s->conn, LOG_NOTICE,
			 "%u failed logins, disconnecting", s->auth_failures);
		conn_close_after_flush(s->conn);
	}
}

/* The password check is done (it ran off the event loop). */
static void pass_done(void *session, const struct auth_reply *reply)
{
	struct pop_session *s = session;

	switch (reply->step) {
	case AUTH_STEP_OK:
		pop_login(s, &reply->account, reply->mailbox, reply->view, "USER");
		break;
	case AUTH_STEP_TEMPFAIL:
		conn_log(s->conn, LOG_ERROR, "login of %s failed: %s", s->user,
			 reply->error);
		pop_err(s, "[SYS/TEMP] Temporary problem, try again later");
		break;
	default:
		pop_auth_failed(s, reply->error);
		break;
	}
}

enum pop_result pop_cmd_pass(struct pop_session *s, char *args)
{
	if (!s->have_user) {
		pop_err(s, "Send USER first");
		return POP_BAD;
	}
	s->have_user = false;
	conn_login_plain(s->conn, s->user, args, pass_done);
	/* the password may still be in the line buffer: wipe it */
	explicit_bzero(args, strlen(args));
	return POP_DONE;
}

/* Open what the login names, after EXPIRE has removed what it may: 0, or
 * -1 with the answer written. */
static int pop_open_mailbox(struct pop_session *s, const struct account *account,
			    const char *mailbox, const char *view, const char *who)
{
	const char *error = "";
	size_t removed = 0;

	for (int pass = 0; pass < 2; pass++) {
		switch (mailbox_open(account, mailbox, view, s->policy.visible_since,
				     &s->mbox, &error)) {
		case MAILBOX_OPEN_OK:
			break;
		case MAILBOX_OPEN_NONE:
			/* the same answer for no such mailbox and no right to it */
			conn_log(s->conn, LOG_NOTICE, "%s cannot open %s: %s", who,
				 mailbox, error);
			pop_err(s, "[SYS/PERM] No such mailbox or no permission to open it");
			return -1;
		case MAILBOX_OPEN_TEMPFAIL:
			conn_log(s->conn, LOG_ERROR, "cannot open %s of %s: %s",
				 mailbox[0] != '\0' ? mailbox : "INBOX", who, error);
			pop_err(s, "[SYS/TEMP] Cannot open the mailbox, try again later");
			return -1;
		}
		/* EXPIRE: retrieved mail older than the policy's days goes
		 * before the session sees it (only in the user's own mailboxes,
		 * and never in the pop_delete archive, kept on purpose) */
		if (pass > 0 || s->policy.expire_days < 0 ||
		    s->mbox.owner.id != account->id ||
		    (s->policy.delete_mode == POP_DELETE_ARCHIVE &&
		     strcmp(s->mbox.name, s->policy.archive) == 0))
			return 0;
		if (mailbox_expire(s->mbox.snap->mailbox_id,
				   (uint64_t)pn_now() - (uint64_t)s->policy.expire_days * 86400,
				   &removed, &error) < 0) {
			conn_log(s->conn, LOG_ERROR, "EXPIRE in %s of %s: %s",
				 s->mbox.name, who, error);
			return 0;
		}
		if (removed == 0)
			return 0;
		conn_log(s->conn, LOG_INFO, "EXPIRE: removed %zu retrieved messages older than %d days from %s",
			 removed, s->policy.expire_days, s->mbox.name);
		mailbox_snapshot_free(&s->mbox.snap);
	}
	return 0;
}

void pop_login(struct pop_session *s, const struct account *account,
	       const char *mailbox, const char *view, const char *method)
{
	char who[ADDRESS_MAX * 2 + MAILBOX_NAME_MAX + 16], text[POP_MAX_REPLY];
	const char *error = "";
	struct mailbox_snapshot *snap;

	/* a unified account's login is named by the address it stands for */
	if (view != NULL && view[0] != '\0')
		snprintf(who, sizeof(who), "%s (%s@%s)", view, account->name,
			 account->domain);
	else
		snprintf(who, sizeof(who), "%s@%s", account->name, account->domain);
	/* the credentials are right: now what the provider says */
	switch (pop_login_gate(account, &s->policy, text, sizeof(text) - 20, &error)) {
	case POP_GATE_OK:
		break;
	case POP_GATE_DISABLED:
		conn_log(s->conn, LOG_NOTICE, "%s refused: %s", who, text);
		conn_auth_succeeded(s->conn);
		pop_err(s, "[SYS/PERM] %s", text);
		return;
	case POP_GATE_TOO_SOON:
		conn_log(s->conn, LOG_NOTICE, "%s refused: %s", who, text);
		conn_auth_succeeded(s->conn);
		pop_err(s, "[LOGIN-DELAY] %s", text);
		return;
	case POP_GATE_ALERT:
		/* CommuniGate's alerts: the client shows the text; never
		 * [AUTH], which would make it ask for a new password */
		conn_log(s->conn, LOG_INFO, "%s: login refused with an alert", who);
		conn_auth_succeeded(s->conn);
		pop_err(s, "[SYS/TEMP] %s", text);
		return;
	case POP_GATE_TEMPFAIL:
		conn_log(s->conn, LOG_ERROR, "login of %s: %s", who, error);
		pop_err(s, "[SYS/TEMP] Temporary problem, try again later");
		return;
	}
	if (pop_open_mailbox(s, account, mailbox, view, who) < 0)
		return;
	/* only a login that worked starts the LOGIN-DELAY wait */
	if (pop_login_record(account, &s->policy, &error) < 0) {
		conn_log(s->conn, LOG_ERROR, "login of %s: %s", who, error);
		mailbox_snapshot_free(&s->mbox.snap);
		pop_err(s, "[SYS/TEMP] Temporary problem, try again later");
		return;
	}
	snap = s->mbox.snap;
	s->deleted = calloc(snap->count ? snap->count : 1, 1);
	if (s->deleted == NULL) {
		mailbox_snapshot_free(&s->mbox.snap);
		pop_err(s, "[SYS/TEMP] Out of memory, try again later");
		return;
	}
	conn_auth_succeeded(s->conn);
	s->account = *account;
	s->state = POP_TRANSACTION;
	/* later records name who logged in and, when it is not their own
	 * INBOX, what they opened */
	if (s->mbox.owner.id != account->id)
		snprintf(who + strlen(who), sizeof(who) - strlen(who), " ~%s@%s/%s",
			 s->mbox.owner.name, s->mbox.owner.domain, s->mbox.name);
	else if (strcmp(s->mbox.name, "INBOX") != 0)
		snprintf(who + strlen(who), sizeof(who) - strlen(who), " %s",
			 s->mbox.name);
	conn_set_log_user(s->conn, who);
	conn_log(s->conn, LOG_INFO, "logged in (%s%s), %s: %u messages, %llu octets",
		 method, conn_tls_active(s->conn) ? ", TLS" : "", s->mbox.name,
		 snap->count, (unsigned long long)snap->total_size);
	pop_ok(s, "Logged in, %u messages (%llu octets)", snap->count,
	       (unsigned long long)snap->total_size);
	/* the account's remote POP3 sources, off this reply's path */
	account_logged_in(account);
}

enum pop_result pop_cmd_apop(struct pop_session *s, char *args)
{
	char *digest = strrchr(args, ' ');
	struct account account;
	enum auth_result res;
	const char *error = "", *mailbox = "", *view = "";

	if (s->apop_stamp[0] == '\0') {
		pop_err(s, "APOP is not available here");
		return POP_BAD;
	}
	if (digest == NULL || digest == args) {
		pop_err(s, "APOP needs a user name and a digest");
		return POP_BAD;
	}
	*digest++ = '\0';
	res = auth_login_apop(args, s->apop_stamp, digest, conn_local_ip(s->conn),
			      &account, &mailbox, &view, &error);
	if (res == AUTH_FAILED) {
		char why[400];

		snprintf(why, sizeof(why), "APOP: %s", error);
		pop_auth_failed(s, why);
		return POP_DONE;
	}
	if (res == AUTH_TEMPFAIL) {
		conn_log(s->conn, LOG_ERROR, "APOP login of %s failed: %s", args, error);
		pop_err(s, "[SYS/TEMP] Temporary problem, try again later");
		return POP_DONE;
	}
	pop_login(s, &account, mailbox, view, "APOP");
	return POP_DONE;
}

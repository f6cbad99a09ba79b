/* lmtp_cmds.c - the LMTP commands but DATA: LHLO, MAIL, RCPT, RSET, NOOP,
 * QUIT, VRFY, HELP, STARTTLS, and a clear answer to SMTP's HELO/EHLO. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lmtp.h"

void lmtp_cmd_lhlo(struct lmtp_session *s, char *args)
{
	if (*args == '\0') {
		lmtp_bad(s, 501, "5.5.4", "LHLO needs the client's host name");
		return;
	}
	/* RFC 5321 4.1.4: a greeting in the middle resets the transaction */
	lmtp_reset(s);
	s->greeted = true;
	conn_printf(s->conn, "250-%s\r\n", s->hostname);
	conn_puts(s->conn, "250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
		  "250-8BITMIME\r\n");
	if (conn_tls_available(s->conn) && !conn_tls_active(s->conn))
		conn_puts(s->conn, "250-STARTTLS\r\n");
	conn_printf(s->conn, "250 SIZE %llu\r\n",
		    (unsigned long long)s->set->max_message_size);
}

void lmtp_cmd_helo(struct lmtp_session *s, char *args)
{
	(void)args;
	/* RFC 2033 4.1: an LMTP server must not accept HELO or EHLO, so a
	 * client pointed at the wrong port learns so at once */
	lmtp_bad(s, 500, "5.5.1", "This is LMTP: say LHLO");
}

/* MAIL parameters: SIZE and BODY, the extensions LHLO announces. */
static bool mail_params(struct lmtp_session *s, char *params, uint64_t *size_r)
{
	char *key, *value;
	const char *error;

	*size_r = 0;
	while (lmtp_param_next(&params, &key, &value, &error)) {
		if (strcasecmp(key, "SIZE") == 0) {
			if (value == NULL || str_to_uint64(value, size_r) < 0) {
				lmtp_bad(s, 501, "5.5.4", "SIZE needs a number of octets");
				return false;
			}
		} else if (strcasecmp(key, "BODY") == 0) {
			if (value == NULL || (strcasecmp(value, "7BIT") != 0 &&
					      strcasecmp(value, "8BITMIME") != 0)) {
				lmtp_bad(s, 501, "5.5.4", "BODY is 7BIT or 8BITMIME");
				return false;
			}
		} else {
			char text[128];

			snprintf(text, sizeof(text), "Parameter %.40s is not supported",
				 key);
			lmtp_bad(s, 555, "5.5.4", text);
			return false;
		}
	}
	if (error != NULL) {
		lmtp_bad(s, 501, "5.5.4", error);
		return false;
	}
	return true;
}

void lmtp_cmd_mail(struct lmtp_session *s, char *args)
{
	char addr[LMTP_PATH_MAX + 1], *params;
	const char *error;
	uint64_t size;

	if (!s->greeted) {
		lmtp_bad(s, 503, "5.5.1", "Say LHLO first");
		return;
	}
	if (s->delivery != NULL) {
		lmtp_bad(s, 503, "5.5.1", "A sender is given already (RSET to start over)");
		return;
	}
	switch (lmtp_path_parse(args, "FROM:", addr, &params, &error)) {
	case LMTP_PATH_OK:
		break;
	case LMTP_PATH_SYNTAX:
		lmtp_bad(s, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
		return;
	case LMTP_PATH_BAD_ADDRESS: {
		char text[160];

		snprintf(text, sizeof(text), "Bad sender address: %s", error);
		lmtp_bad(s, 501, "5.1.7", text);
		return;
	}
	}
	if (!mail_params(s, params, &size))
		return;
	if (size > s->set->max_message_size) {
		lmtp_reply(s, 552, "5.3.4",
			   "Message size exceeds the limit of %llu octets",
			   (unsigned long long)s->set->max_message_size);
		return;
	}
	snprintf(s->sender, sizeof(s->sender), "%s", addr);
	s->delivery = delivery_new(addr, conn_local_ip(s->conn),
				   s->set->max_message_size);
	/* an account may have LMTP delivery switched off (posternctl ...
	 * lmtp=no) */
	delivery_require_service(s->delivery, "lmtp");
	s->size_announced = size;
	lmtp_reply(s, 250, "2.1.0", "Sender <%s> OK", addr);
}

/* Recipient parameters: none are announced (no DSN), so any is refused. */
static bool rcpt_params(struct lmtp_session *s, char *params)
{
	char *key, *value;
	const char *error;

	if (lmtp_param_next(&params, &key, &value, &error)) {
		char text[128];

		snprintf(text, sizeof(text), "Parameter %.40s is not supported", key);
		lmtp_bad(s, 555, "5.5.4", text);
		return false;
	}
	if (error != NULL) {
		lmtp_bad(s, 501, "5.5.4", error);
		return false;
	}
	return true;
}

void lmtp_cmd_rcpt(struct lmtp_session *s, char *args)
{
	char addr[LMTP_PATH_MAX + 1], *params;
	const char *error;
	enum delivery_status st;

	if (s->delivery == NULL) {
		lmtp_bad(s, 503, "5.5.1", "MAIL comes first");
		return;
	}
	switch (lmtp_path_parse(args, "TO:", addr, &params, &error)) {
	case LMTP_PATH_OK:
		break;
	case LMTP_PATH_SYNTAX:
		lmtp_bad(s, 501, "5.5.4", "Syntax: RCPT TO:<address>");
		return;
	case LMTP_PATH_BAD_ADDRESS: {
		char text[160];

		snprintf(text, sizeof(text), "Bad recipient address: %s", error);
		lmtp_bad(s, 501, "5.1.3", text);
		return;
	}
	}
	if (addr[0] == '\0') {
		lmtp_bad(s, 501, "5.1.3", "The null address <> cannot receive mail");
		return;
	}
	if (!rcpt_params(s, params))
		return;
	if (s->rcpt_count >= s->set->max_recipients) {
		/* RFC 5321 4.5.3.1.10: the client sends the rest later */
		lmtp_reply(s, 452, "4.5.3", "Too many recipients (at most %u)",
			   s->set->max_recipients);
		return;
	}
	st = delivery_add_recipient(s->delivery, addr, s->size_announced,
				    &error);
	switch (st) {
	case DELIVERY_OK:
		break;
	case DELIVERY_UNKNOWN:
		lmtp_reply(s, 550, "5.1.1", "<%s> %s", addr, error);
		return;
	case DELIVERY_BAD_ADDRESS:
		lmtp_reply(s, 553, "5.1.3", "<%s> %s", addr, error);
		return;
	case DELIVERY_OVER_QUOTA:
		if (delivery_quota_temporary())
			lmtp_reply(s, 452, "4.2.2", "<%s> %s", addr, error);
		else
			lmtp_reply(s, 552, "5.2.2", "<%s> %s", addr, error);
		return;
	case DELIVERY_TOO_BIG:
		lmtp_reply(s, 552, "5.3.4", "<%s> %s", addr, error);
		return;
	case DELIVERY_DISABLED:
		lmtp_reply(s, 550, "5.2.1", "<%s> %s", addr, error);
		return;
	case DELIVERY_BAD_MESSAGE:
	case DELIVERY_TEMPFAIL:
		conn_log(s->conn, LOG_ERROR, "RCPT <%s>: %s", addr, error);
		lmtp_reply(s, 451, "4.3.0", "<%s> Temporary failure, try again later",
			   addr);
		return;
	}
	if (s->rcpt_count == s->rcpt_alloc) {
		s->rcpt_alloc = s->rcpt_alloc ? s->rcpt_alloc * 2 : 4;
		s->rcpts = realloc(s->rcpts, s->rcpt_alloc * sizeof(*s->rcpts));
		if (s->rcpts == NULL) {
			conn_log(s->conn, LOG_ERROR, "out of memory");
			conn_close_after_flush(s->conn);
			return;
		}
	}
	s->rcpts[s->rcpt_count] = strdup(addr);
	if (s->rcpts[s->rcpt_count] == NULL) {
		conn_log(s->conn, LOG_ERROR, "out of memory");
		conn_close_after_flush(s->conn);
		return;
	}
	s->rcpt_count++;
	lmtp_reply(s, 250, "2.1.5", "Recipient <%s> OK", addr);
}

void lmtp_cmd_rset(struct lmtp_session *s, char *args)
{
	(void)args;
	lmtp_reset(s);
	lmtp_reply(s, 250, "2.0.0", "OK");
}

void lmtp_cmd_noop(struct lmtp_session *s, char *args)
{
	(void)args;
	lmtp_reply(s, 250, "2.0.0", "OK");
}

void lmtp_cmd_quit(struct lmtp_session *s, char *args)
{
	(void)args;
	lmtp_reply(s, 221, "2.0.0", "%s closing connection", s->hostname);
	conn_close_after_flush(s->conn);
}

void lmtp_cmd_vrfy(struct lmtp_session *s, char *args)
{
	(void)args;
	/* RFC 5321 3.5.3: no list of users for whoever asks */
	lmtp_reply(s, 252, "2.5.0", "Cannot VRFY, but will take the message");
}

void lmtp_cmd_help(struct lmtp_session *s, char *args)
{
	(void)args;
	lmtp_reply(s, 214, "2.0.0",
		   "Commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS");
}

void lmtp_cmd_starttls(struct lmtp_session *s, char *args)
{
	const char *error;

	if (*args != '\0') {
		lmtp_bad(s, 501, "5.5.4", "STARTTLS takes no arguments");
		return;
	}
	if (conn_tls_active(s->conn)) {
		lmtp_bad(s, 503, "5.5.1", "TLS is already active");
		return;
	}
	if (!conn_tls_available(s->conn)) {
		lmtp_bad(s, 502, "5.5.1", "STARTTLS is not available here");
		return;
	}
	lmtp_reply(s, 220, "2.0.0", "Ready to start TLS");
	if (conn_starttls(s->conn, &error) < 0) {
		conn_log(s->conn, LOG_ERROR, "STARTTLS: %s", error);
		conn_close_after_flush(s->conn);
		return;
	}
	/* RFC 3207 4.2: everything learnt before TLS is forgotten */
	lmtp_reset(s);
	s->greeted = false;
}

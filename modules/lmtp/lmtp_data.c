/* lmtp_data.c - DATA: the message streams into the delivery, and after
 * its "." every accepted recipient gets its own reply, in RCPT order
 * (RFC 2033 4.2), each sent only once the copy it names is on disk and
 * committed. */
#include <stdio.h>
#include <string.h>

#include "lmtp.h"

static void data_chunk(void *session, const void *data, size_t len)
{
	struct lmtp_session *s = session;

	s->data_octets += len;
	/* past the size limit the delivery keeps nothing but goes on
	 * reading, so the reply comes after the client's "." */
	delivery_data_write(s->delivery, data, len);
}

static void reply_for(struct lmtp_session *s, const char *addr,
		      enum delivery_status st, const char *error)
{
	switch (st) {
	case DELIVERY_OK:
		lmtp_reply(s, 250, "2.0.0", "<%s> delivered", addr);
		break;
	case DELIVERY_UNKNOWN:
		lmtp_reply(s, 550, "5.1.1", "<%s> %s", addr, error);
		break;
	case DELIVERY_BAD_ADDRESS:
		lmtp_reply(s, 553, "5.1.3", "<%s> %s", addr, error);
		break;
	case DELIVERY_OVER_QUOTA:
		if (delivery_quota_temporary())
			lmtp_reply(s, 452, "4.2.2", "<%s> %s", addr, error);
		else
			lmtp_reply(s, 552, "5.2.2", "<%s> %s", addr, error);
		break;
	case DELIVERY_TOO_BIG:
		lmtp_reply(s, 552, "5.3.4", "<%s> %s", addr, error);
		break;
	case DELIVERY_DISABLED:
		lmtp_reply(s, 550, "5.2.1", "<%s> %s", addr, error);
		break;
	case DELIVERY_BAD_MESSAGE:
		lmtp_reply(s, 554, "5.6.0", "<%s> %s", addr, error);
		break;
	case DELIVERY_TEMPFAIL:
		/* the reason (a full disk, a store fault) is for the log */
		lmtp_reply(s, 451, "4.3.0", "<%s> Temporary failure, try again later",
			   addr);
		break;
	}
}

/* Every copy is on disk and committed (or refused): the replies. */
static void data_stored(void *session, unsigned int delivered)
{
	struct lmtp_session *s = session;
	const char *error, *first_error = NULL;

	for (unsigned int i = 0; i < s->rcpt_count; i++) {
		enum delivery_status st = delivery_result(s->delivery, i, &error);

		if (st != DELIVERY_OK && first_error == NULL)
			first_error = error;
		reply_for(s, s->rcpts[i], st, error);
	}
	s->messages++;
	if (delivered == s->rcpt_count)
		conn_log(s->conn, LOG_INFO,
			 "message %u from <%s>, %llu octets: delivered to %u recipient%s",
			 s->messages, s->sender, (unsigned long long)s->data_octets,
			 delivered, delivered == 1 ? "" : "s");
	else
		conn_log(s->conn, delivered == 0 ? LOG_NOTICE : LOG_INFO,
			 "message %u from <%s>, %llu octets: delivered to %u of %u recipients: %s",
			 s->messages, s->sender, (unsigned long long)s->data_octets,
			 delivered, s->rcpt_count, first_error);
	lmtp_reset(s);
	/* the next command (often pipelined right after the ".") now */
	conn_release(s->conn);
}

static void data_end(void *session)
{
	struct lmtp_session *s = session;

	s->in_data = false;
	/* the files are synced off the loop and committed with whatever
	 * else finishes now; nothing more is read until the replies are out */
	conn_hold(s->conn);
	delivery_data_finish(s->delivery, data_stored, s);
}

void lmtp_cmd_data(struct lmtp_session *s, char *args)
{
	const char *error;

	if (*args != '\0') {
		lmtp_bad(s, 501, "5.5.4", "DATA takes no arguments");
		return;
	}
	if (s->delivery == NULL) {
		lmtp_bad(s, 503, "5.5.1", "MAIL comes first");
		return;
	}
	/* RFC 2033 4.2: without an accepted recipient DATA fails with 503 */
	if (s->rcpt_count == 0) {
		lmtp_bad(s, 503, "5.5.1", "No valid recipients");
		return;
	}
	if (delivery_data_begin(s->delivery, &error) != DELIVERY_OK) {
		conn_log(s->conn, LOG_ERROR, "cannot take a message: %s", error);
		lmtp_reply(s, 451, "4.3.0", "Temporary failure, try again later");
		return;
	}
	/* RFC 2034: 354 carries no enhanced status code */
	conn_puts(s->conn, "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
	s->in_data = true;
	s->data_octets = 0;
	conn_read_dotted(s->conn, data_chunk, data_end);
}

/* pop_xmit.c - XTND XMIT (SPEC.md 5): a logged-in user sends a message
 * through the POP connection, as Eudora does where SMTP is blocked.  The
 * message comes dot-stuffed up to a line holding ".", is read to its end
 * whatever is wrong with it, and is answered only once it is durably in
 * the relay queue (or refused).  The session stays in TRANSACTION. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pop.h"

static void xmit_data(void *session, const void *data, size_t len)
{
	struct pop_session *s = session;

	submission_write(s->xmit, data, len);
}

static void xmit_done(void *ctx, enum submission_status st, const char *text)
{
	struct pop_session *s = ctx;

	if (st == SUBMIT_OK) {
		conn_log(s->conn, LOG_INFO, "XTND XMIT: %s", text);
		pop_ok(s, "Message sent");
	} else if (st == SUBMIT_TEMPFAIL) {
		/* a fault of ours (the disk, the store): the reason names
		 * files and is the admin's; the user learns to try again */
		conn_log(s->conn, LOG_NOTICE, "XTND XMIT refused: %s", text);
		pop_err(s, "[SYS/TEMP] Temporary failure, the message was not "
			"sent: try again later");
	} else {
		conn_log(s->conn, LOG_NOTICE, "XTND XMIT refused: %s", text);
		pop_err(s, "%s", text);
	}
	submission_free(&s->xmit);
	conn_release(s->conn);
}

static void xmit_end(void *session)
{
	struct pop_session *s = session;

	/* nothing more is read until the message is queued and answered */
	conn_hold(s->conn);
	submission_finish(s->xmit, xmit_done, s);
}

enum pop_result pop_cmd_xtnd(struct pop_session *s, char *args)
{
	const char *error;

	if (strcasecmp(args, "XMIT") != 0) {
		pop_err(s, "Unknown XTND command (only XTND XMIT)");
		return POP_BAD;
	}
	s->xmit = submission_new(&s->account, conn_peer_ip(s->conn), &error);
	if (s->xmit == NULL) {
		pop_err(s, "%s", error);
		return POP_DONE;
	}
	pop_ok(s, "Start sending message.");
	conn_read_dotted(s->conn, xmit_data, xmit_end);
	return POP_DONE;
}

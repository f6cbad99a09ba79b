/* lmtp.h - the LMTP module (RFC 2033): an MTA hands mail over, and every
 * accepted recipient gets its own answer after the message.  Delivery
 * itself (Router, stamping, durable storage) is the host's; this module is
 * the protocol.  Only postern/module.h is included. */
#ifndef LMTP_H
#define LMTP_H

#include <postern/module.h>

#include "lmtp_path.h"

/* RFC 5321 4.5.3.1.4 bounds a command line at 512 octets; parameters and
 * quoted local parts make real ones longer, so we take a text line's 1000
 * (4.5.3.1.6).  Message lines are not bounded: only the message size is. */
#define LMTP_MAX_LINE 1000
/* One reply line, with its code and CRLF. */
#define LMTP_MAX_REPLY 512

struct lmtp_settings {
	struct listener_settings listener;
	uint64_t max_message_size;
	unsigned int max_recipients;
	unsigned int max_bad_commands;
	char *hostname;			/* "" = the machine's name */
};

struct lmtp_session {
	struct conn *conn;
	const struct lmtp_settings *set;
	char hostname[256];
	bool greeted;			/* LHLO was accepted */
	/* the transaction: MAIL, RCPT..., DATA */
	struct delivery *delivery;	/* made by MAIL */
	char sender[LMTP_PATH_MAX + 1];
	char **rcpts;			/* accepted recipients, in order */
	unsigned int rcpt_count, rcpt_alloc;
	uint64_t size_announced;	/* MAIL ... SIZE=, 0 when not given */
	bool in_data;			/* the message is streaming in */
	uint64_t data_octets;		/* as received, for the log */
	unsigned int bad_commands;
	unsigned int messages;		/* transactions in this session */
};

typedef void lmtp_cmd_fn(struct lmtp_session *s, char *args);

/* One reply line: "250 2.1.0 Sender OK".  code and enhanced status
 * (RFC 3463) separate, so a reply always carries both. */
void lmtp_reply(struct lmtp_session *s, unsigned int code, const char *status,
		const char *fmt, ...) PN_PRINTF(4, 5);
/* A syntax or sequence error: reply and count it toward the limit. */
void lmtp_bad(struct lmtp_session *s, unsigned int code, const char *status,
	      const char *text);
/* Forget the transaction (RSET, after DATA, a new LHLO, STARTTLS). */
void lmtp_reset(struct lmtp_session *s);

/* Commands (lmtp_cmds.c, lmtp_data.c). */
lmtp_cmd_fn lmtp_cmd_lhlo, lmtp_cmd_mail, lmtp_cmd_rcpt, lmtp_cmd_data,
	lmtp_cmd_rset, lmtp_cmd_noop, lmtp_cmd_quit, lmtp_cmd_vrfy,
	lmtp_cmd_help, lmtp_cmd_starttls, lmtp_cmd_helo;

#endif

/* pop.h - the POP3 module's session and command handlers (RFC 1939, 2449,
 * 3206).  Only postern/module.h is included: the module sees lines in and
 * bytes out, and the store through the module API. */
#ifndef POP_H
#define POP_H

#include <postern/module.h>

/* RFC 2449: a command line, without CRLF, is at most 255 octets. */
#define POP_MAX_LINE 255
/* RFC 2449: the first line of a reply is at most 512 octets with CRLF. */
#define POP_MAX_REPLY 510
/* AUTH continuation lines carry base64 SASL data: their own, larger bound. */
#define POP_MAX_AUTH_LINE 16384
/* Cyrus SASL service name (RFC 5034). */
#define POP_SASL_SERVICE "pop"
/* Lines of LIST/UIDL written per step, so huge mailboxes stream. */
#define POP_LIST_STEP 512

struct pop_settings {
	struct listener_settings listener;
	unsigned int max_bad_commands;
	unsigned int max_auth_failures;
	char *greeting;
};

enum pop_state { POP_AUTHORIZATION, POP_TRANSACTION };

struct pop_session {
	struct conn *conn;
	const struct pop_settings *set;
	enum pop_state state;
	char user[ADDRESS_MAX + 1];	/* from USER */
	bool have_user;
	bool sasl_active;		/* AUTH continuation lines expected */
	char apop_stamp[128];		/* <...> of the greeting, or "" */
	char sasl_mech[32];
	unsigned int bad_commands;
	unsigned int auth_failures;
	struct account account;		/* who logged in */
	struct mailbox_open mbox;	/* what they opened, with its snapshot */
	struct pop_policy policy;	/* the logged-in account's (after login) */
	uint8_t *deleted;		/* one per snapshot message */
	uint32_t deleted_count;
	uint64_t deleted_size;
	/* XTND XMIT (pop_xmit.c) */
	struct submission *xmit;	/* a message being submitted */
	/* LIST/UIDL continuation */
	uint32_t list_next;
	bool list_uidl;
};

/* What a handler did; the dispatcher counts POP_BAD toward the limit. */
enum pop_result { POP_DONE, POP_BAD };

typedef enum pop_result pop_cmd_fn(struct pop_session *s, char *args);

/* Replies: one line, "+OK text" / "-ERR text", capped at POP_MAX_REPLY. */
void pop_ok(struct pop_session *s, const char *fmt, ...) PN_PRINTF(2, 3);
void pop_err(struct pop_session *s, const char *fmt, ...) PN_PRINTF(2, 3);

/* AUTHORIZATION state (pop_auth.c). */
pop_cmd_fn pop_cmd_user, pop_cmd_pass, pop_cmd_capa, pop_cmd_quit_auth,
	pop_cmd_stls, pop_cmd_auth, pop_cmd_apop;
/* An AUTH continuation line (pop_sasl.c). */
void pop_sasl_line(struct pop_session *s, char *line, size_t len);
void pop_sasl_abort(struct pop_session *s, const char *why);
/* Count a bad command; close after too many. */
void pop_count_bad(struct pop_session *s);
/* Count a failed login, delay the answer, close after too many. */
void pop_auth_failed(struct pop_session *s, const char *why);
/* TRANSACTION state (pop_trans.c). */
pop_cmd_fn pop_cmd_stat, pop_cmd_list, pop_cmd_retr, pop_cmd_dele,
	pop_cmd_noop, pop_cmd_rset, pop_cmd_top, pop_cmd_uidl, pop_cmd_quit;
/* XTND XMIT (pop_xmit.c). */
pop_cmd_fn pop_cmd_xtnd;

/* Open `mailbox` (the part of the login name before '#'; "" for INBOX)
 * for `account` and enter TRANSACTION with its snapshot; `method` (USER,
 * APOP or the SASL mechanism) goes into the log. */
void pop_login(struct pop_session *s, const struct account *account,
	       const char *mailbox, const char *view, const char *method);

#endif

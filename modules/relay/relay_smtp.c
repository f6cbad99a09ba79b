/* relay_smtp.c - the SMTP client that takes the queue's remote recipients
 * to relay.smarthost (RFC 5321, STARTTLS RFC 3207, AUTH RFC 4954).
 *
 * One connection at a time, kept for as many messages as are waiting:
 * EHLO, STARTTLS and EHLO again when offered or required, AUTH when
 * relay.auth_file names credentials, then per message MAIL, one RCPT per
 * recipient, DATA and the dot-stuffed file.  Every reply goes to the
 * recipients it is about; whatever was not answered when the connection
 * ends (it dropped, timed out, or the server refused us) is deferred with
 * the reason and retried later. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "relay.h"

enum smtp_state {
	SMTP_IDLE,		/* no connection */
	SMTP_CONNECTING,
	SMTP_GREETING,		/* waiting for 220 */
	SMTP_EHLO,
	SMTP_HELO,
	SMTP_STARTTLS,		/* waiting for 220 to STARTTLS */
	SMTP_TLS,		/* handshake */
	SMTP_AUTH,		/* AUTH PLAIN sent, or LOGIN's password */
	SMTP_AUTH_USER,		/* AUTH LOGIN sent: the user name next */
	SMTP_AUTH_PASS,		/* user name sent: the password next */
	SMTP_READY,		/* between messages */
	SMTP_MAIL,
	SMTP_RCPT,
	SMTP_DATA,
	SMTP_DOT,		/* the message sent, waiting for its reply */
	SMTP_RSET,
	SMTP_QUIT,
};

struct smtp_work {
	struct smtp_work *next;
	struct relay_job *job;
};

struct smtp {
	struct conn *conn;
	enum smtp_state state;
	struct relay_reply reply;
	char host[256], port[8];
	bool tls;
	/* what EHLO announced */
	bool ext_starttls, ext_size, ext_8bitmime, ext_smtputf8, auth_plain, auth_login;
	uint64_t max_size;
	/* what is waiting for this connection, the first one being sent */
	struct smtp_work *work, *work_tail;
	size_t rcpt_next;		/* next recipient to send RCPT for */
	size_t accepted;		/* RCPTs accepted in this message */
	bool *accepted_flag, *answered;	/* per recipient of the current job */
	char user[256], pass[256];
};

static struct smtp smtp;

static void smtp_line(void *session, char *line, size_t len);
static void smtp_line_too_long(void *session);
static void smtp_closed(void *session);

static const struct pn_protocol smtp_proto = {
	.max_line = RELAY_MAX_LINE,
	.line = smtp_line,
	.line_too_long = smtp_line_too_long,
	.close = smtp_closed,
};

static void send_line(const char *fmt, ...) PN_PRINTF(1, 2);
static void send_line(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	conn_printf(smtp.conn, "%s\r\n", buf);
}

/* relay.helo_name, else this machine's name. */
static const char *helo_name(void)
{
	static char name[256];

	if (relay.set->helo_name[0] != '\0')
		return relay.set->helo_name;
	if (gethostname(name, sizeof(name) - 1) < 0 || name[0] == '\0')
		snprintf(name, sizeof(name), "localhost");
	return name;
}

static struct relay_job *current(void)
{
	return smtp.work != NULL ? smtp.work->job : NULL;
}

/* The current message's remote part is over: every recipient it was
 * about has its outcome.  On to the next. */
static void work_done(void)
{
	struct smtp_work *w = smtp.work;

	if (w == NULL)
		return;
	smtp.work = w->next;
	if (smtp.work == NULL)
		smtp.work_tail = NULL;
	free(smtp.accepted_flag);
	free(smtp.answered);
	smtp.accepted_flag = smtp.answered = NULL;
	relay_job_part_done(w->job);
	free(w);
}

/* Give recipient i of the current job its outcome, once: the server's
 * reply (from_server), or a reason of our own. */
static void answer(size_t i, bool from_server, unsigned int code,
		   const char *enhanced, const char *text)
{
	if (smtp.answered[i])
		return;
	smtp.answered[i] = true;
	relay_rcpt_outcome(current(), i, from_server ? smtp.host : NULL, code,
			   false, enhanced, text);
}

/* Every remote recipient of the current job not answered yet. */
static void answer_rest(bool from_server, unsigned int code,
			const char *enhanced, const char *text)
{
	struct relay_job *job = current();

	for (size_t i = 0; job != NULL && i < job->e.rcpt_count; i++) {
		if (job->route[i] == RCPT_REMOTE)
			answer(i, from_server, code, enhanced, text);
	}
}

/* The connection is unusable (or was never there): what waits is
 * deferred with `why`, to be retried. */
static void defer_all(const char *enhanced, const char *why)
{
	while (smtp.work != NULL) {
		struct relay_job *job = current();

		if (smtp.answered == NULL) {
			smtp.answered = calloc(job->e.rcpt_count, sizeof(bool));
			smtp.accepted_flag = calloc(job->e.rcpt_count, sizeof(bool));
		}
		if (smtp.answered != NULL)
			answer_rest(false, 451, enhanced, why);
		work_done();
	}
}

static void hang_up(const char *enhanced, const char *why)
{
	if (smtp.conn != NULL) {
		conn_log(smtp.conn, LOG_NOTICE, "giving up on %s: %s",
			 conn_peer_name(smtp.conn), why);
		conn_abort(smtp.conn);
		smtp.conn = NULL;
	}
	smtp.state = SMTP_IDLE;
	defer_all(enhanced, why);
}

static void quit(void)
{
	send_line("QUIT");
	smtp.state = SMTP_QUIT;
}

/* The reply, for the log and the queue: "550 5.1.1 user unknown". */
static const char *reply_text(void)
{
	return smtp.reply.text;
}

static bool ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return false;
	}
	return true;
}

/* Does the current message need SMTPUTF8: a sender or a recipient still
 * to be sent that is not ASCII? */
static bool needs_utf8(const struct relay_job *job)
{
	if (!ascii(job->e.sender))
		return true;
	for (size_t i = 0; i < job->e.rcpt_count; i++) {
		if (job->route[i] == RCPT_REMOTE && !smtp.answered[i] &&
		    !ascii(job->e.rcpts[i].address))
			return true;
	}
	return false;
}

/* Remote recipients of the current message not answered yet. */
static size_t remote_pending(void)
{
	const struct relay_job *job = current();
	size_t n = 0;

	for (size_t i = 0; i < job->e.rcpt_count; i++)
		n += job->route[i] == RCPT_REMOTE && !smtp.answered[i];
	return n;
}

/* Begin the current message: MAIL FROM. */
static void start_message(void)
{
	struct relay_job *job;
	char size[32] = "";

	for (;;) {
		job = current();
		if (job == NULL) {
			quit();
			return;
		}
		smtp.accepted_flag = calloc(job->e.rcpt_count, sizeof(bool));
		smtp.answered = calloc(job->e.rcpt_count, sizeof(bool));
		if (smtp.accepted_flag == NULL || smtp.answered == NULL) {
			hang_up("4.3.0", "out of memory");
			return;
		}
		/* RFC 6531 3.4: an address beyond ASCII goes only with
		 * SMTPUTF8; without it the smarthost cannot take it */
		if (!smtp.ext_smtputf8) {
			for (size_t i = 0; i < job->e.rcpt_count; i++) {
				if (job->route[i] == RCPT_REMOTE &&
				    !ascii(job->e.rcpts[i].address))
					answer(i, false, 553, "5.6.7",
					       "the address is not ASCII and the smarthost does not offer SMTPUTF8");
			}
			if (remote_pending() == 0) {
				work_done();
				continue;
			}
		}
		if (smtp.ext_size && smtp.max_size > 0 &&
		    job->e.body_size > smtp.max_size) {
			char text[160];

			snprintf(text, sizeof(text),
				 "the smarthost takes at most %llu octets, the message has %llu",
				 (unsigned long long)smtp.max_size,
				 (unsigned long long)job->e.body_size);
			answer_rest(false, 552, "5.3.4", text);
			work_done();
			continue;
		}
		break;
	}
	smtp.rcpt_next = 0;
	smtp.accepted = 0;
	/* a submitted message may hold 8-bit octets, which RFC 6152 lets
	 * us send only declared (BODY=8BITMIME says "may", so a 7-bit one
	 * loses nothing by it) */
	if (smtp.ext_size)
		snprintf(size, sizeof(size), " SIZE=%llu",
			 (unsigned long long)job->e.body_size);
	send_line("MAIL FROM:<%s>%s%s%s", job->e.sender, size,
		  smtp.ext_8bitmime ? " BODY=8BITMIME" : "",
		  smtp.ext_smtputf8 && needs_utf8(job) ? " SMTPUTF8" : "");
	smtp.state = SMTP_MAIL;
}

/* The next RCPT of the current message, or DATA (or RSET: nobody was
 * accepted) once all are sent. */
static void next_rcpt(void)
{
	struct relay_job *job = current();

	/* those answered already (an address the smarthost cannot take) are
	 * not sent */
	while (smtp.rcpt_next < job->e.rcpt_count &&
	       (job->route[smtp.rcpt_next] != RCPT_REMOTE ||
		smtp.answered[smtp.rcpt_next]))
		smtp.rcpt_next++;
	if (smtp.rcpt_next < job->e.rcpt_count) {
		send_line("RCPT TO:<%s>", job->e.rcpts[smtp.rcpt_next].address);
		smtp.state = SMTP_RCPT;
		return;
	}
	if (smtp.accepted == 0) {
		work_done();
		send_line("RSET");
		smtp.state = SMTP_RSET;
		return;
	}
	send_line("DATA");
	smtp.state = SMTP_DATA;
}

static void send_body(void)
{
	struct relay_job *job = current();
	int fd;

	if (queue_body_open(&job->e, &fd) < 0) {
		/* the smarthost waits for data we cannot send: drop the
		 * connection so it never takes half a message */
		hang_up("4.3.0", "the queued message cannot be read");
		return;
	}
	/* the file ends with CRLF (the body writer sees to it) */
	conn_send_file(smtp.conn, fd, 0, job->e.body_size, CONN_SEND_DOTSTUFF, 0, -1);
	conn_puts(smtp.conn, ".\r\n");
	smtp.state = SMTP_DOT;
}

/* Credentials from relay.auth_file: one line "user password". */
static bool load_credentials(void)
{
	FILE *fp;
	char line[600], *sp;

	smtp.user[0] = smtp.pass[0] = '\0';
	if (relay.set->auth_file[0] == '\0')
		return true;
	fp = fopen(relay.set->auth_file, "r");
	if (fp == NULL) {
		log_msg(LOG_ERROR, "SMTP", "cannot read relay.auth_file %s: %s",
			relay.set->auth_file, strerror(errno));
		return false;
	}
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	sp = strchr(line, ' ');
	if (sp == NULL || sp == line || sp[1] == '\0' ||
	    (size_t)(sp - line) >= sizeof(smtp.user) || strlen(sp + 1) >= sizeof(smtp.pass)) {
		log_msg(LOG_ERROR, "SMTP",
			"relay.auth_file %s: the first line must be 'user password'",
			relay.set->auth_file);
		explicit_bzero(line, sizeof(line));
		return false;
	}
	snprintf(smtp.user, sizeof(smtp.user), "%.*s", (int)(sp - line), line);
	snprintf(smtp.pass, sizeof(smtp.pass), "%s", sp + 1);
	explicit_bzero(line, sizeof(line));
	return true;
}

static void forget_credentials(void)
{
	explicit_bzero(smtp.user, sizeof(smtp.user));
	explicit_bzero(smtp.pass, sizeof(smtp.pass));
}

static void send_base64(const void *data, size_t len)
{
	char b64[1200];

	if (base64_encode(data, len, b64, sizeof(b64)) < 0) {
		hang_up("4.3.0", "credentials too long");
		return;
	}
	conn_printf(smtp.conn, "%s\r\n", b64);
	explicit_bzero(b64, sizeof(b64));
}

/* After EHLO (and TLS): AUTH when credentials are given, else ready. */
static void auth_or_ready(void)
{
	if (!load_credentials()) {
		hang_up("4.3.5", "relay.auth_file cannot be used (see the log)");
		return;
	}
	if (smtp.user[0] == '\0') {
		smtp.state = SMTP_READY;
		start_message();
		return;
	}
	if (!smtp.tls && strcmp(relay.set->starttls, "off") != 0) {
		/* a password goes only over TLS, unless the admin said off */
		hang_up("4.7.0", "no TLS to send the AUTH credentials over");
		return;
	}
	if (smtp.auth_plain) {
		char msg[520];
		size_t ulen = strlen(smtp.user), plen = strlen(smtp.pass);

		/* RFC 4616: authzid NUL authcid NUL password */
		msg[0] = '\0';
		memcpy(msg + 1, smtp.user, ulen);
		msg[1 + ulen] = '\0';
		memcpy(msg + 2 + ulen, smtp.pass, plen);
		conn_puts(smtp.conn, "AUTH PLAIN ");
		send_base64(msg, 2 + ulen + plen);
		explicit_bzero(msg, sizeof(msg));
		smtp.state = SMTP_AUTH;
	} else if (smtp.auth_login) {
		send_line("AUTH LOGIN");
		smtp.state = SMTP_AUTH_USER;
	} else {
		hang_up("4.7.0", "the smarthost offers neither AUTH PLAIN nor AUTH LOGIN");
	}
}

/* One line of the EHLO reply: what the server can do. */
static void ehlo_keyword(const char *text)
{
	if (strcasecmp(text, "STARTTLS") == 0) {
		smtp.ext_starttls = true;
	} else if (strcasecmp(text, "8BITMIME") == 0) {
		smtp.ext_8bitmime = true;
	} else if (strcasecmp(text, "SMTPUTF8") == 0) {
		smtp.ext_smtputf8 = true;
	} else if (strncasecmp(text, "SIZE", 4) == 0 &&
		   (text[4] == '\0' || text[4] == ' ')) {
		uint64_t n = 0;

		smtp.ext_size = true;
		if (text[4] == ' ' && str_to_uint64(text + 5, &n) == 0)
			smtp.max_size = n;
	} else if (strncasecmp(text, "AUTH", 4) == 0 &&
		   (text[4] == ' ' || text[4] == '=')) {
		char mechs[256], *tok, *save;

		snprintf(mechs, sizeof(mechs), "%s", text + 5);
		for (tok = strtok_r(mechs, " ", &save); tok != NULL;
		     tok = strtok_r(NULL, " ", &save)) {
			if (strcasecmp(tok, "PLAIN") == 0)
				smtp.auth_plain = true;
			else if (strcasecmp(tok, "LOGIN") == 0)
				smtp.auth_login = true;
		}
	}
}

static void on_tls(void *session, const char *error)
{
	(void)session;
	if (error != NULL) {
		/* the connection is gone with it (no close callback) */
		smtp.conn = NULL;
		smtp.state = SMTP_IDLE;
		log_msg(LOG_NOTICE, "SMTP", "%s", error);
		defer_all("4.7.5", error);
		return;
	}
	smtp.tls = true;
	smtp.ext_starttls = smtp.ext_size = smtp.ext_8bitmime = smtp.ext_smtputf8 = false;
	smtp.auth_plain = smtp.auth_login = false;
	smtp.max_size = 0;
	/* RFC 3207 4.2: everything learnt before TLS is forgotten */
	send_line("EHLO %s", helo_name());
	smtp.state = SMTP_EHLO;
}

static void after_ehlo(void)
{
	bool required = strcmp(relay.set->starttls, "required") == 0;
	bool wanted = required || strcmp(relay.set->starttls, "opportunistic") == 0;

	if (!smtp.tls && wanted && smtp.ext_starttls) {
		send_line("STARTTLS");
		smtp.state = SMTP_STARTTLS;
		return;
	}
	if (!smtp.tls && required) {
		hang_up("4.7.10", "the smarthost does not offer STARTTLS (relay.starttls = required)");
		return;
	}
	auth_or_ready();
}

static void on_reply(void)
{
	unsigned int code = smtp.reply.code;
	const char *enhanced = smtp.reply.enhanced[0] ? smtp.reply.enhanced : NULL;
	const char *error;
	char why[RELAY_REPLY_TEXT_MAX + 64];
	struct relay_job *job;

	snprintf(why, sizeof(why), "%u %s%s%s", code, enhanced ? enhanced : "",
		 enhanced ? " " : "", reply_text());
	switch (smtp.state) {
	case SMTP_GREETING:
		if (code != 220) {
			hang_up("4.4.2", why);
			return;
		}
		send_line("EHLO %s", helo_name());
		smtp.state = SMTP_EHLO;
		return;
	case SMTP_EHLO:
		if (code == 250) {
			after_ehlo();
			return;
		}
		if (smtp.tls || strcmp(relay.set->starttls, "required") == 0) {
			hang_up("4.5.0", why);
			return;
		}
		send_line("HELO %s", helo_name());
		smtp.state = SMTP_HELO;
		return;
	case SMTP_HELO:
		if (code != 250) {
			hang_up("4.5.0", why);
			return;
		}
		auth_or_ready();
		return;
	case SMTP_STARTTLS:
		if (code != 220) {
			if (strcmp(relay.set->starttls, "required") == 0) {
				hang_up("4.7.10", why);
				return;
			}
			auth_or_ready();
			return;
		}
		smtp.state = SMTP_TLS;
		if (conn_starttls_client(smtp.conn, smtp.host, relay.set->tls_verify,
					 relay.set->tls_ca_file, on_tls, &error) < 0)
			hang_up("4.7.5", error);
		return;
	case SMTP_AUTH_USER:
		if (code != 334) {
			forget_credentials();
			hang_up("4.7.8", why);
			return;
		}
		send_base64(smtp.user, strlen(smtp.user));
		smtp.state = SMTP_AUTH_PASS;
		return;
	case SMTP_AUTH_PASS:
		if (code != 334) {
			forget_credentials();
			hang_up("4.7.8", why);
			return;
		}
		send_base64(smtp.pass, strlen(smtp.pass));
		smtp.state = SMTP_AUTH;
		return;
	case SMTP_AUTH:
		forget_credentials();
		if (code != 235) {
			/* wrong credentials are the admin's to fix: the mail
			 * waits for it rather than bouncing */
			char text[sizeof(why) + 64];

			snprintf(text, sizeof(text), "the smarthost refused our credentials: %s", why);
			log_msg(LOG_ERROR, "SMTP", "%s (relay.auth_file %s)", text,
				relay.set->auth_file);
			hang_up("4.7.8", text);
			return;
		}
		smtp.state = SMTP_READY;
		start_message();
		return;
	case SMTP_MAIL:
		if (code == 530) {
			/* RFC 4954: the smarthost wants AUTH we did not give -
			 * the admin's to fix, so the mail waits, it does not
			 * bounce */
			log_msg(LOG_ERROR, "SMTP",
				"the smarthost requires AUTH: set relay.auth_file (%s)", why);
			answer_rest(false, 451, "4.7.0", why);
			work_done();
			send_line("RSET");
			smtp.state = SMTP_RSET;
			return;
		}
		if (code != 250) {
			/* the sender refused: every recipient hears it */
			answer_rest(true, code, enhanced, reply_text());
			work_done();
			send_line("RSET");
			smtp.state = SMTP_RSET;
			return;
		}
		next_rcpt();
		return;
	case SMTP_RCPT:
		job = current();
		if (code == 250 || code == 251) {
			smtp.accepted_flag[smtp.rcpt_next] = true;
			smtp.accepted++;
			relay_rcpt_reply(job, smtp.rcpt_next, smtp.host, code, enhanced,
					 reply_text());
		} else {
			answer(smtp.rcpt_next, true, code, enhanced, reply_text());
		}
		smtp.rcpt_next++;
		next_rcpt();
		return;
	case SMTP_DATA:
		if (code != 354) {
			answer_rest(true, code, enhanced, reply_text());
			work_done();
			send_line("RSET");
			smtp.state = SMTP_RSET;
			return;
		}
		send_body();
		return;
	case SMTP_DOT:
		/* one reply for every accepted recipient (SMTP, not LMTP) */
		answer_rest(true, code, enhanced, reply_text());
		conn_log(smtp.conn, code == 250 ? LOG_INFO : LOG_NOTICE,
			 "queue %llu sent: %s", (unsigned long long)current()->e.id, why);
		work_done();
		smtp.state = SMTP_READY;
		start_message();
		return;
	case SMTP_RSET:
		smtp.state = SMTP_READY;
		start_message();
		return;
	case SMTP_QUIT:
		conn_close_after_flush(smtp.conn);
		return;
	case SMTP_IDLE:
	case SMTP_CONNECTING:
	case SMTP_TLS:
	case SMTP_READY:
		/* a reply nobody asked for */
		hang_up("4.5.0", "the smarthost spoke out of turn");
		return;
	}
}

static void smtp_line(void *session, char *line, size_t len)
{
	(void)session;
	switch (relay_reply_line(&smtp.reply, line, len)) {
	case RELAY_REPLY_MORE:
		if (smtp.state == SMTP_EHLO && smtp.reply.lines > 1)
			ehlo_keyword(line + 4);
		return;
	case RELAY_REPLY_BAD:
		hang_up("4.5.0", "the smarthost sent something that is not an SMTP reply");
		return;
	case RELAY_REPLY_DONE:
		if (smtp.state == SMTP_EHLO && smtp.reply.lines > 1 && len > 4)
			ehlo_keyword(line + 4);
		on_reply();
		relay_reply_init(&smtp.reply);
		return;
	}
}

static void smtp_line_too_long(void *session)
{
	(void)session;
	hang_up("4.5.0", "the smarthost sent a reply line that is too long");
}

static void connect_now(void);

static void smtp_closed(void *session)
{
	bool quitting = smtp.state == SMTP_QUIT;

	(void)session;
	smtp.conn = NULL;
	smtp.state = SMTP_IDLE;
	if (!quitting) {
		defer_all("4.4.2", "the connection to the smarthost was lost");
		return;
	}
	/* messages that came while we said goodbye: a new connection */
	if (smtp.work != NULL)
		connect_now();
}

static void on_connected(void *session, const char *error)
{
	(void)session;
	if (error != NULL) {
		char why[600];

		smtp.conn = NULL;
		smtp.state = SMTP_IDLE;
		snprintf(why, sizeof(why), "cannot connect to the smarthost: %s", error);
		log_msg(LOG_NOTICE, "SMTP", "%s", why);
		defer_all("4.4.1", why);
		return;
	}
	/* connect_timeout was for the connect; each reply from here on may
	 * take relay.command_timeout (RFC 5321 4.5.3.2: minutes, 10 of
	 * them after the data) */
	conn_set_timeout(smtp.conn, relay.set->command_timeout);
	smtp.state = SMTP_GREETING;
}

/* "host:port" or "[v6]:port" of relay.smarthost. */
static bool split_smarthost(void)
{
	const char *hp = relay.set->smarthost, *colon = strrchr(hp, ':');

	if (colon == NULL)
		return false;
	if (hp[0] == '[' && colon > hp && colon[-1] == ']')
		snprintf(smtp.host, sizeof(smtp.host), "%.*s", (int)(colon - hp - 2), hp + 1);
	else
		snprintf(smtp.host, sizeof(smtp.host), "%.*s", (int)(colon - hp), hp);
	snprintf(smtp.port, sizeof(smtp.port), "%s", colon + 1);
	return smtp.host[0] != '\0';
}

static void connect_now(void)
{
	const char *error;

	if (!split_smarthost()) {
		defer_all("4.3.5", "relay.smarthost is not host:port");
		return;
	}
	smtp.tls = false;
	smtp.ext_starttls = smtp.ext_size = smtp.ext_8bitmime = smtp.ext_smtputf8 = false;
	smtp.auth_plain = smtp.auth_login = false;
	smtp.max_size = 0;
	relay_reply_init(&smtp.reply);
	smtp.state = SMTP_CONNECTING;
	smtp.conn = conn_connect(&postern_module, smtp.host, smtp.port, &smtp_proto,
				 &smtp, relay.set->connect_timeout, on_connected,
				 &error);
	if (smtp.conn == NULL) {
		smtp.state = SMTP_IDLE;
		defer_all("4.3.0", error);
	}
}

void relay_smtp_enqueue(struct relay_job *job)
{
	struct smtp_work *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		relay_job_part_done(job);
		return;
	}
	w->job = job;
	if (smtp.work_tail != NULL)
		smtp.work_tail->next = w;
	else
		smtp.work = w;
	smtp.work_tail = w;
	if (smtp.state == SMTP_IDLE)
		connect_now();
}

void relay_smtp_stop(void)
{
	if (smtp.conn != NULL) {
		conn_abort(smtp.conn);
		smtp.conn = NULL;
	}
	smtp.state = SMTP_IDLE;
	forget_credentials();
	defer_all("4.3.2", "the server is shutting down");
}

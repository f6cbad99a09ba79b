/* pop.c - POP3 module descriptor, session life and the command loop.
 * Every command line comes through pop_line(): it rejects NULs, finds the
 * handler in the table for the current state, and counts bad commands. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "pop.h"

struct pop_command {
	const char *name;
	pop_cmd_fn *auth;	/* handler in AUTHORIZATION, or NULL */
	pop_cmd_fn *trans;	/* handler in TRANSACTION, or NULL */
};

static const struct pop_command commands[] = {
	{ "USER", pop_cmd_user, NULL },
	{ "PASS", pop_cmd_pass, NULL },
	{ "CAPA", pop_cmd_capa, pop_cmd_capa },
	{ "STLS", pop_cmd_stls, NULL },
	{ "AUTH", pop_cmd_auth, NULL },
	{ "APOP", pop_cmd_apop, NULL },
	{ "QUIT", pop_cmd_quit_auth, pop_cmd_quit },
	{ "STAT", NULL, pop_cmd_stat },
	{ "LIST", NULL, pop_cmd_list },
	{ "RETR", NULL, pop_cmd_retr },
	{ "DELE", NULL, pop_cmd_dele },
	{ "NOOP", NULL, pop_cmd_noop },
	{ "RSET", NULL, pop_cmd_rset },
	{ "TOP", NULL, pop_cmd_top },
	{ "UIDL", NULL, pop_cmd_uidl },
	{ "XTND", NULL, pop_cmd_xtnd },
	{ NULL, NULL, NULL }
};

static void reply(struct pop_session *s, const char *status, const char *fmt,
		  va_list ap) PN_PRINTF(3, 0);
static void reply(struct pop_session *s, const char *status, const char *fmt,
		  va_list ap)
{
	char text[POP_MAX_REPLY + 1];
	int n = snprintf(text, sizeof(text), "%s ", status);

	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	conn_printf(s->conn, "%s\r\n", text);
}

void pop_ok(struct pop_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply(s, "+OK", fmt, ap);
	va_end(ap);
}

void pop_err(struct pop_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply(s, "-ERR", fmt, ap);
	va_end(ap);
}

void pop_count_bad(struct pop_session *s)
{
	if (++s->bad_commands < s->set->max_bad_commands)
		return;
	conn_log(s->conn, LOG_NOTICE, "too many bad commands, disconnecting");
	pop_err(s, "Too many bad commands, closing connection");
	conn_close_after_flush(s->conn);
}

static void pop_line(void *session, char *line, size_t len)
{
	struct pop_session *s = session;
	const struct pop_command *cmd;
	char *args;
	pop_cmd_fn *fn;

	if (s->sasl_active) {
		pop_sasl_line(s, line, len);
		return;
	}
	if (memchr(line, '\0', len) != NULL) {
		pop_err(s, "NUL character in command");
		pop_count_bad(s);
		return;
	}
	args = strchr(line, ' ');
	if (args != NULL)
		*args++ = '\0';
	else
		args = line + len;
	for (cmd = commands; cmd->name != NULL; cmd++) {
		if (strcasecmp(cmd->name, line) == 0)
			break;
	}
	if (cmd->name == NULL) {
		pop_err(s, "Unknown command");
		pop_count_bad(s);
		return;
	}
	fn = s->state == POP_AUTHORIZATION ? cmd->auth : cmd->trans;
	if (fn == NULL) {
		pop_err(s, "%s is not valid in this state", cmd->name);
		pop_count_bad(s);
		return;
	}
	if (fn(s, args) == POP_BAD)
		pop_count_bad(s);
}

static void pop_line_too_long(void *session)
{
	struct pop_session *s = session;

	if (s->sasl_active) {
		pop_sasl_abort(s, "AUTH response too long");
		pop_count_bad(s);
		return;
	}
	pop_err(s, "Command line too long (at most %d octets)", POP_MAX_LINE);
	pop_count_bad(s);
}

static void *pop_open(struct conn *conn, void *settings)
{
	struct pop_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->conn = conn;
	s->set = settings;
	s->state = POP_AUTHORIZATION;
	if (auth_apop_available()) {
		/* RFC 1939: a timestamp unique to this greeting for APOP */
		char host[64] = "localhost";
		unsigned long long nonce = 0;
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (read(fd, &nonce, sizeof(nonce)) != (ssize_t)sizeof(nonce))
				nonce = 0;
			close(fd);
		}
		gethostname(host, sizeof(host) - 1);
		snprintf(s->apop_stamp, sizeof(s->apop_stamp), "<%ld.%ld.%llx@%s>",
			 (long)getpid(), (long)time(NULL), nonce, host);
		pop_ok(s, "%s %s", s->set->greeting, s->apop_stamp);
	} else {
		pop_ok(s, "%s", s->set->greeting);
	}
	return s;
}

static void pop_close(void *session)
{
	struct pop_session *s = session;

	/* a session that ends without QUIT removes nothing (RFC 1939) */
	if (s->state == POP_TRANSACTION && s->deleted_count > 0)
		conn_log(s->conn, LOG_INFO,
			 "connection ended without QUIT: %u messages marked for deletion kept",
			 s->deleted_count);
	/* a client gone in the middle of XTND XMIT sent nothing */
	if (s->xmit != NULL)
		conn_log(s->conn, LOG_NOTICE, "connection ended during XTND XMIT: nothing queued");
	submission_free(&s->xmit);
	mailbox_snapshot_free(&s->mbox.snap);
	free(s->deleted);
	free(s);
}

static int pop_check(const void *settings, const char **error_r)
{
	const struct pop_settings *set = settings;

	if (strlen(set->greeting) > 200 || strpbrk(set->greeting, "\r\n")) {
		*error_r = "greeting must be one line of at most 200 octets";
		return -1;
	}
	return 0;
}

#define S(field) offsetof(struct pop_settings, field)

static const struct setting_def pop_setting_defs[] = {
	{ "listen", SETTING_LIST, S(listener.listen), "127.0.0.1:110", 0, 0 },
	{ "tls_listen", SETTING_LIST, S(listener.tls_listen), "", 0, 0 },
	{ "channels", SETTING_UINT, S(listener.channels), "1000", 0, 1000000 },
	{ "channels_per_ip", SETTING_UINT, S(listener.channels_per_ip), "20", 0, 1000000 },
	/* RFC 1939: the autologout timer is at least 10 minutes */
	{ "idle_timeout", SETTING_SECONDS, S(listener.idle_timeout), "10m", 1, 86400 },
	{ "max_bad_commands", SETTING_UINT, S(max_bad_commands), "10", 1, 1000 },
	{ "max_auth_failures", SETTING_UINT, S(max_auth_failures), "3", 1, 100 },
	{ "greeting", SETTING_STRING, S(greeting), "Postern POP3 server ready", 0, 0 },
	SETTING_DEFS_END
};

static const struct pn_protocol pop_protocol = {
	.listener_offset = S(listener),
	.max_line = POP_MAX_LINE,
	.busy_reply = "-ERR [SYS/TEMP] too many connections, try later",
	.timeout_reply = "-ERR Disconnected for inactivity",
	.open = pop_open,
	.line = pop_line,
	.line_too_long = pop_line_too_long,
	.close = pop_close,
};

const struct pn_module postern_module = {
	.abi = POSTERN_MODULE_ABI,
	.name = "pop",
	.log_tag = "POP",
	.settings = pop_setting_defs,
	.settings_size = sizeof(struct pop_settings),
	.check = pop_check,
	.protocol = &pop_protocol,
};

/* lmtp.c - LMTP module descriptor, session life and the command loop.
 * Every command line comes through lmtp_line(): it rejects NULs, finds the
 * handler and counts bad commands; handlers write their own replies
 * through lmtp_reply(), so each carries a code and an enhanced status. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lmtp.h"

struct lmtp_command {
	const char *name;
	lmtp_cmd_fn *fn;
};

static const struct lmtp_command commands[] = {
	{ "LHLO", lmtp_cmd_lhlo },
	{ "MAIL", lmtp_cmd_mail },
	{ "RCPT", lmtp_cmd_rcpt },
	{ "DATA", lmtp_cmd_data },
	{ "RSET", lmtp_cmd_rset },
	{ "NOOP", lmtp_cmd_noop },
	{ "QUIT", lmtp_cmd_quit },
	{ "VRFY", lmtp_cmd_vrfy },
	{ "HELP", lmtp_cmd_help },
	{ "STARTTLS", lmtp_cmd_starttls },
	{ "HELO", lmtp_cmd_helo },
	{ "EHLO", lmtp_cmd_helo },
	{ NULL, NULL }
};

void lmtp_reply(struct lmtp_session *s, unsigned int code, const char *status,
		const char *fmt, ...)
{
	char text[LMTP_MAX_REPLY - 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* reply text may quote what the client sent: one line, printable */
	for (char *p = text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	conn_printf(s->conn, "%u %s %s\r\n", code, status, text);
}

void lmtp_bad(struct lmtp_session *s, unsigned int code, const char *status,
	      const char *text)
{
	if (++s->bad_commands >= s->set->max_bad_commands) {
		conn_log(s->conn, LOG_NOTICE, "too many bad commands, disconnecting");
		lmtp_reply(s, 421, "4.7.0", "%s; too many errors, closing connection",
			   text);
		conn_close_after_flush(s->conn);
		return;
	}
	lmtp_reply(s, code, status, "%s", text);
}

void lmtp_reset(struct lmtp_session *s)
{
	delivery_free(&s->delivery);
	for (unsigned int i = 0; i < s->rcpt_count; i++)
		free(s->rcpts[i]);
	s->rcpt_count = 0;
	s->sender[0] = '\0';
	s->size_announced = 0;
	s->in_data = false;
	s->data_octets = 0;
}

static void lmtp_line(void *session, char *line, size_t len)
{
	struct lmtp_session *s = session;
	const struct lmtp_command *cmd;
	char *args;

	if (memchr(line, '\0', len) != NULL) {
		lmtp_bad(s, 500, "5.5.2", "NUL character in command");
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
		lmtp_bad(s, 500, "5.5.2", "Unknown command");
		return;
	}
	cmd->fn(s, args);
}

static void lmtp_line_too_long(void *session)
{
	struct lmtp_session *s = session;
	char text[80];

	snprintf(text, sizeof(text), "Line too long (at most %d octets)",
		 LMTP_MAX_LINE);
	lmtp_bad(s, 500, "5.5.2", text);
}

static void *lmtp_open(struct conn *conn, void *settings)
{
	struct lmtp_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->conn = conn;
	s->set = settings;
	if (s->set->hostname[0] != '\0')
		snprintf(s->hostname, sizeof(s->hostname), "%s", s->set->hostname);
	else if (gethostname(s->hostname, sizeof(s->hostname) - 1) < 0 ||
		 s->hostname[0] == '\0')
		snprintf(s->hostname, sizeof(s->hostname), "localhost");
	lmtp_reply(s, 220, "2.0.0", "%s Postern LMTP ready", s->hostname);
	return s;
}

static void lmtp_close(void *session)
{
	struct lmtp_session *s = session;

	/* a client gone before its "." delivered nothing: the delivery
	 * removes what it had written */
	if (s->in_data)
		conn_log(s->conn, LOG_NOTICE,
			 "connection lost during DATA after %llu octets from <%s>: nothing delivered",
			 (unsigned long long)s->data_octets, s->sender);
	lmtp_reset(s);
	free(s->rcpts);
	free(s);
}

static int lmtp_check(const void *settings, const char **error_r)
{
	const struct lmtp_settings *set = settings;

	for (const char *p = set->hostname; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-') {
			*error_r = "hostname: only letters, digits, '.' and '-'";
			return -1;
		}
	}
	if (strlen(set->hostname) > 253) {
		*error_r = "hostname: at most 253 octets";
		return -1;
	}
	return 0;
}

#define S(field) offsetof(struct lmtp_settings, field)

static const struct setting_def lmtp_setting_defs[] = {
	{ "listen", SETTING_LIST, S(listener.listen), "127.0.0.1:24", 0, 0 },
	{ "tls_listen", SETTING_LIST, S(listener.tls_listen), "", 0, 0 },
	{ "channels", SETTING_UINT, S(listener.channels), "100", 0, 100000 },
	{ "channels_per_ip", SETTING_UINT, S(listener.channels_per_ip), "0", 0, 100000 },
	/* RFC 5321 4.5.3.2.7: a server waits at least 5 minutes */
	{ "idle_timeout", SETTING_SECONDS, S(listener.idle_timeout), "5m", 1, 86400 },
	{ "max_message_size", SETTING_SIZE, S(max_message_size), "50M", 1024,
	  2147483647ull },
	/* RFC 5321 4.5.3.1.8: at least 100 recipients are accepted */
	{ "max_recipients", SETTING_UINT, S(max_recipients), "1000", 100, 100000 },
	{ "max_bad_commands", SETTING_UINT, S(max_bad_commands), "20", 1, 1000 },
	{ "hostname", SETTING_STRING, S(hostname), "", 0, 0 },
	SETTING_DEFS_END
};

static const struct pn_protocol lmtp_protocol = {
	.listener_offset = S(listener),
	.max_line = LMTP_MAX_LINE,
	.busy_reply = "421 4.3.2 Too many connections, try again later",
	.timeout_reply = "421 4.4.2 Idle timeout, closing connection",
	.open = lmtp_open,
	.line = lmtp_line,
	.line_too_long = lmtp_line_too_long,
	.close = lmtp_close,
};

const struct pn_module postern_module = {
	.abi = POSTERN_MODULE_ABI,
	.name = "lmtp",
	.log_tag = "LMTP",
	.settings = lmtp_setting_defs,
	.settings_size = sizeof(struct lmtp_settings),
	.check = lmtp_check,
	.protocol = &lmtp_protocol,
};

/* posternctl.c - the admin's command line tool: option parsing, the
 * configuration, and dispatch to NOUN VERB handlers.  Works beside a
 * running posternd: LMDB lets both write the same store. */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/config.h"
#include "lib/core_settings.h"
#include "lib/log.h"
#include "lib/privileges.h"
#include "lib/xalloc.h"
#include "store/store.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/postern.conf"
#define CTL_MAX_OVERRIDES 64

struct ctl_command {
	const char *noun, *verb, *args;
	ctl_fn *fn;
	const char *help;
};

static const struct ctl_command commands[] = {
	{ "domain", "add", "NAME", ctl_domain_add, "create a domain" },
	{ "domain", "list", "", ctl_domain_list, "list domains" },
	{ "domain", "del", "NAME", ctl_domain_del, "remove a domain without accounts" },
	{ "domain", "show", "NAME", ctl_domain_show,
	  "a domain's unified account, aliases and bound addresses" },
	{ "domain", "set", "NAME unified_account=ACCOUNT", ctl_domain_set,
	  "set (or with an empty value clear) the unified account" },
	{ "domain", "set", "NAME POLICY=VALUE", ctl_domain_set,
	  "a policy for the domain's accounts (empty: inherit the server's)" },
	{ "domain", "alias", "add ALIAS DOMAIN | del ALIAS | list [DOMAIN]",
	  ctl_domain_alias, "other names for a domain" },
	{ "domain", "bind", "NAME ADDRESS", ctl_domain_bind,
	  "names without a domain on local ADDRESS belong to NAME" },
	{ "domain", "unbind", "ADDRESS", ctl_domain_unbind,
	  "remove a bound address" },
	{ "account", "add", "ADDRESS [--password-file FILE]", ctl_account_add,
	  "create an account (password from FILE or stdin)" },
	{ "account", "list", "[DOMAIN]", ctl_account_list, "list accounts" },
	{ "account", "del", "ADDRESS", ctl_account_del,
	  "remove an account with all its mail" },
	{ "account", "passwd", "ADDRESS [--password-file FILE]", ctl_account_passwd,
	  "set a new password" },
	{ "account", "set", "ADDRESS admin=yes|no quota=SIZE|none", ctl_account_set,
	  "the right to act as other users (SASL authzid); the storage quota" },
	{ "account", "set", "ADDRESS webadmin=none|domain|server", ctl_account_set,
	  "who may log in to the web admin: of its own domain, or of everything" },
	{ "account", "set", "ADDRESS real_name=TEXT", ctl_account_set,
	  "the account's real name, shown beside its address (empty: none)" },
	{ "account", "set", "ADDRESS POLICY=VALUE", ctl_account_set,
	  "a policy for the account (empty: inherit the domain's)" },
	{ "account", "show", "ADDRESS", ctl_account_show,
	  "an account's settings, quota and usage" },
	{ "alias", "add", "ALIAS@DOMAIN ACCOUNT", ctl_alias_add,
	  "another name for an account (in addresses and logins)" },
	{ "alias", "list", "[DOMAIN]", ctl_alias_list, "list account aliases" },
	{ "alias", "del", "ALIAS@DOMAIN", ctl_alias_del, "remove an account alias" },
	{ "server", "set", "POLICY=VALUE...", ctl_server_set,
	  "a policy for every domain and account (empty: the default)" },
	{ "server", "show", "", ctl_server_show, "the server's policies" },
	{ "alert", "post", "[--domain DOMAIN | --account ADDRESS] TEXT...", ctl_alert_post,
	  "refuse each account's next login with TEXT, once (the server's, a domain's, one account's)" },
	{ "alert", "list", "[--domain DOMAIN | --account ADDRESS]", ctl_alert_list,
	  "alerts waiting to be shown" },
	{ "alert", "del", "ID", ctl_alert_del, "remove an alert" },
	{ "route", NULL, "ADDRESS [LOCAL-IP]", ctl_route,
	  "show what the Router makes of an address or login name" },
	{ "mailbox", "add", "ADDRESS NAME", ctl_mailbox_add,
	  "create a mailbox (lists/info needs no lists)" },
	{ "mailbox", "list", "ADDRESS", ctl_mailbox_list,
	  "list an account's mailboxes with message counts" },
	{ "mailbox", "rename", "ADDRESS NAME NEWNAME", ctl_mailbox_rename,
	  "rename a mailbox with its sub-mailboxes (not INBOX)" },
	{ "mailbox", "del", "ADDRESS NAME", ctl_mailbox_del,
	  "remove a mailbox with its messages (not INBOX; sub-mailboxes stay)" },
	{ "acl", "set", "ADDRESS MAILBOX IDENTIFIER [+|-]RIGHTS", ctl_acl_set,
	  "set IDENTIFIER's rights (letters of lrswipcda), +RIGHTS adds,\n"
	  "                                               "
	  "-RIGHTS removes; IDENTIFIER: user@domain, anyone@domain, anyone" },
	{ "acl", "get", "ADDRESS MAILBOX [IDENTIFIER]", ctl_acl_get,
	  "show a mailbox's ACL entries (or one)" },
	{ "acl", "del", "ADDRESS MAILBOX IDENTIFIER", ctl_acl_del,
	  "remove an ACL entry" },
	{ "message", "list", "ADDRESS [MAILBOX]", ctl_message_list,
	  "list messages: uid, size, flags (S = seen), UIDL" },
	{ "message", "import", "[--mailbox NAME] [--date DATE] ADDRESS [FILE...] (< message)",
	  ctl_message_import,
	  "store messages as they are (stdin, or one per file) into the INBOX or NAME" },
	{ "expire", NULL, "[DOMAIN | ADDRESS]", ctl_expire,
	  "remove retrieved mail older than pop_expire allows (a cron job)" },
	{ "deliver", NULL, "[--from SENDER] RECIPIENT... (< message)",
	  ctl_deliver,
	  "local delivery of a message (stdin) through the Router, as LMTP does" },
	{ "queue", "list", "", ctl_queue_list,
	  "the relay queue: one line per submitted message" },
	{ "queue", "show", "ID", ctl_queue_show,
	  "a queue entry with every recipient and its last reply" },
	{ "queue", "flush", "[ID]", ctl_queue_flush,
	  "retry every entry (or ID) now" },
	{ "queue", "del", "ID", ctl_queue_del,
	  "remove an entry and its message, without a bounce" },
	{ "retrieval", "add", "ADDRESS --host H --user U --password-file F [OPTION...]",
	  ctl_retrieval_add,
	  "fetch a remote POP3 account's mail into ADDRESS; options: --port P\n"
	  "                                               "
	  "--tls implicit|stls|none --no-verify --auth user|apop|plain\n"
	  "                                               "
	  "--mailbox M --keep --interval SECONDS --disabled" },
	{ "retrieval", "list", "ADDRESS", ctl_retrieval_list,
	  "an account's remote POP3 sources with their last result" },
	{ "retrieval", "show", "ADDRESS ID", ctl_retrieval_show,
	  "a source's settings, last run, result and error" },
	{ "retrieval", "set", "ADDRESS ID KEY=VALUE...", ctl_retrieval_set,
	  "change a source: host port tls verify user password_file auth mailbox keep interval enabled" },
	{ "retrieval", "del", "ADDRESS ID", ctl_retrieval_del,
	  "remove a source (what it fetched stays)" },
	{ "retrieval", "run", "ADDRESS [ID] [--no-wait] [--timeout SECONDS]", ctl_retrieval_run,
	  "fetch now (posternd does it) and wait for the outcome" },
	{ NULL, NULL, NULL, NULL, NULL }
};

void ctl_utc_text(uint64_t t, const char *zero, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%s", zero);
}

int ctl_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("posternctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: posternctl [-c FILE] [-o key=value]... NOUN VERB ARGS\n\n");
	for (const struct ctl_command *c = commands; c->noun != NULL; c++) {
		char left[80];

		snprintf(left, sizeof(left), "%s%s%s %s", c->noun, c->verb ? " " : "",
			 c->verb ? c->verb : "", c->args);
		if (strlen(left) > 44)	/* the help on a line of its own */
			fprintf(out, "  %s\n  %-44s %s\n", left, "", c->help);
		else
			fprintf(out, "  %-44s %s\n", left, c->help);
	}
	fprintf(out, "\nPOLICY: the services pop, xmit, lmtp and retrieval (yes|no): each works\n"
		"only where the server, the domain and the account all allow it.  POP:\n"
		"pop_from=all|enable-time, pop_delete=delete|hide|mark-read|archive:MAILBOX,\n"
		"pop_login_delay=SECONDS, pop_expire=DAYS|never (the most specific level wins).\n");
	fprintf(out, "\nThe configuration is read from %s unless -c names another.\n",
		DEFAULT_CONFIG);
}

static int strip_newline(char *buf)
{
	size_t len = strcspn(buf, "\r\n");

	buf[len] = '\0';
	return (int)len;
}

int ctl_read_password(const char *file, char *buf, size_t size)
{
	FILE *fp = stdin;
	struct termios old, quiet;
	bool tty = false;

	if (file != NULL && (fp = fopen(file, "r")) == NULL)
		return ctl_error(EX_NOINPUT, "cannot read password file %s: %s",
				 file, strerror(errno));
	if (file == NULL && isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &old) == 0) {
		tty = true;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fputs("Password: ", stderr);
	}
	if (fgets(buf, (int)size, fp) == NULL)
		buf[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (fp != stdin)
		fclose(fp);
	if (strip_newline(buf) == 0)
		return ctl_error(EX_DATAERR, "no password given (empty %s)",
				 file ? file : "input");
	return 0;
}

int main(int argc, char **argv)
{
	const char *config_path = DEFAULT_CONFIG, *error;
	bool explicit_config = false;
	struct core_settings settings;
	struct config *cfg;
	const struct ctl_command *cmd;
	char *overrides[CTL_MAX_OVERRIDES];
	int opt, ret, first, n_overrides = 0;

	memset(&settings, 0, sizeof(settings));
	while ((opt = getopt(argc, argv, "+c:o:h")) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			explicit_config = true;
			break;
		case 'o':
			if (n_overrides == CTL_MAX_OVERRIDES)
				return ctl_error(EX_USAGE, "more than %d -o options",
						 CTL_MAX_OVERRIDES);
			overrides[n_overrides++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	for (cmd = commands; cmd->noun != NULL; cmd++) {
		if (strcmp(cmd->noun, argv[optind]) != 0)
			continue;
		if (cmd->verb == NULL ||
		    (optind + 1 < argc && strcmp(cmd->verb, argv[optind + 1]) == 0))
			break;
	}
	if (cmd->noun == NULL) {
		ctl_error(EX_USAGE, "unknown command '%s%s%s'", argv[optind],
			  optind + 1 < argc ? " " : "",
			  optind + 1 < argc ? argv[optind + 1] : "");
		usage(stderr);
		return EX_USAGE;
	}
	first = optind + (cmd->verb ? 2 : 1);

	/* the default file may be missing (all defaults); a named one not */
	cfg = config_new();
	ret = 0;
	if (config_read_file(cfg, config_path, !explicit_config, &error) < 0)
		ret = ctl_error(EX_CONFIG, "%s", error);
	for (int i = 0; ret == 0 && i < n_overrides; i++) {
		if (config_add_override(cfg, overrides[i], &error) < 0)
			ret = ctl_error(EX_USAGE, "%s", error);
	}
	if (ret == 0 && core_settings_load(cfg, &settings, &error) < 0)
		ret = ctl_error(EX_CONFIG, "%s", error);
	config_free(&cfg);
	if (ret == 0) {
		core_settings_set_current(&settings);
		log_set_level(LOG_WARNING);
		/* as root, become the server's user first: files it creates in
		 * data_dir must be the server's to read */
		if (privileges_drop(settings.user, settings.data_dir, &error) < 0)
			ret = ctl_error(EX_NOPERM, "%s", error);
		else if (store_open(settings.data_dir, &error) < 0)
			ret = ctl_error(EX_TEMPFAIL, "%s", error);
		else
			ret = cmd->fn(argc - first, argv + first);
		store_close();
	}
	core_settings_free(&settings);
	return ret;
}

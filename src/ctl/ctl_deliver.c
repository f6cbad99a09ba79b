/* ctl_deliver.c - posternctl deliver [--mailbox NAME] ADDRESS < message.
 * Exit codes follow
 * sysexits.h so an MTA's pipe transport can tell a bounce (65, 67) from a
 * deferral (75). */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/deliver.h"
#include "store/store_ops.h"

static int deliver_one(const struct account *account, const char *mailbox,
		       int fd, const char *what)
{
	const char *error;
	uint32_t uid;
	int ret;

	ret = deliver_from_fd(account, mailbox, fd,
			      core_settings()->max_message_size, &uid, &error);
	if (ret == DELIVER_PERMANENT)
		return ctl_error(EX_DATAERR, "%s not delivered: %s", what, error);
	if (ret == DELIVER_TEMPORARY)
		return ctl_error(EX_TEMPFAIL, "%s not delivered, try again: %s", what,
				 error);
	printf("delivered to %s@%s %s as uid %u\n", account->name,
	       account->domain, mailbox, uid);
	return 0;
}

#define DELIVER_USAGE "usage: deliver [--mailbox NAME] ADDRESS [FILE...] (< message)"

/* deliver [--mailbox NAME] ADDRESS [FILE...]: standard input, or each file
 * in turn (one message per file, as in a Maildir).  Stops at the first
 * failure. */
int ctl_deliver(int argc, char **argv)
{
	const char *mailbox = "INBOX";
	struct account account;
	struct mailbox_rec rec;
	int i = 0, ret;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--mailbox") == 0 && i + 1 < argc)
			mailbox = argv[++i];
		else if (strncmp(argv[i], "--mailbox=", 10) == 0)
			mailbox = argv[i] + 10;
		else
			return ctl_error(EX_USAGE, DELIVER_USAGE);
	}
	argc -= i;
	argv += i;
	if (argc < 1)
		return ctl_error(EX_USAGE, DELIVER_USAGE);
	if (argc == 1 && isatty(STDIN_FILENO))
		return ctl_error(EX_USAGE, "deliver reads the message from standard input, not a terminal");
	/* an unknown mailbox is a bounce (EX_NOUSER), not a deferral */
	if ((ret = ctl_find_account_mailbox(argv[0], mailbox, &account,
					    &rec)) != 0)
		return ret;
	if (argc == 1)
		return deliver_one(&account, mailbox, STDIN_FILENO, "message");
	for (i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return ctl_error(EX_NOINPUT, "cannot read %s: %s", argv[i],
					 strerror(errno));
		ret = deliver_one(&account, mailbox, fd, argv[i]);
		close(fd);
		if (ret != 0)
			return ret;
	}
	return 0;
}

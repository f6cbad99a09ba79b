/* ctl_deliver.c - posternctl deliver ADDRESS < message.  Exit codes follow
 * sysexits.h so an MTA's pipe transport can tell a bounce (65, 67) from a
 * deferral (75). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/deliver.h"

static int deliver_one(const struct account *account, int fd, const char *what)
{
	const char *error;
	uint32_t uid;
	int ret;

	ret = deliver_from_fd(account, "INBOX", fd,
			      core_settings()->max_message_size, &uid, &error);
	if (ret == DELIVER_PERMANENT)
		return ctl_error(EX_DATAERR, "%s not delivered: %s", what, error);
	if (ret == DELIVER_TEMPORARY)
		return ctl_error(EX_TEMPFAIL, "%s not delivered, try again: %s", what,
				 error);
	printf("delivered to %s@%s INBOX as uid %u\n", account->name,
	       account->domain, uid);
	return 0;
}

/* deliver ADDRESS [FILE...]: standard input, or each file in turn (one
 * message per file, as in a Maildir).  Stops at the first failure. */
int ctl_deliver(int argc, char **argv)
{
	struct account account;
	const char *error;

	if (argc < 1)
		return ctl_error(EX_USAGE, "usage: deliver ADDRESS [FILE...] (< message)");
	if (argc == 1 && isatty(STDIN_FILENO))
		return ctl_error(EX_USAGE, "deliver reads the message from standard input, not a terminal");
	if (account_find(argv[0], &account, &error) < 0)
		return ctl_error(EX_NOUSER, "%s", error);
	if (argc == 1)
		return deliver_one(&account, STDIN_FILENO, "message");
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC), ret;

		if (fd < 0)
			return ctl_error(EX_NOINPUT, "cannot read %s: %s", argv[i],
					 strerror(errno));
		ret = deliver_one(&account, fd, argv[i]);
		close(fd);
		if (ret != 0)
			return ret;
	}
	return 0;
}

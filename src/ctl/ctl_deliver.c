/* ctl_deliver.c - posternctl deliver ADDRESS < message.  Exit codes follow
 * sysexits.h so an MTA's pipe transport can tell a bounce (65, 67) from a
 * deferral (75). */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/deliver.h"

int ctl_deliver(int argc, char **argv)
{
	struct account account;
	const char *error;
	uint32_t uid;
	int ret;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: deliver ADDRESS < message");
	if (isatty(STDIN_FILENO))
		return ctl_error(EX_USAGE, "deliver reads the message from standard input, not a terminal");
	if (account_find(argv[0], &account, &error) < 0)
		return ctl_error(EX_NOUSER, "%s", error);
	ret = deliver_from_fd(&account, "INBOX", STDIN_FILENO,
			      core_settings()->max_message_size, &uid, &error);
	if (ret == DELIVER_PERMANENT)
		return ctl_error(EX_DATAERR, "not delivered: %s", error);
	if (ret == DELIVER_TEMPORARY)
		return ctl_error(EX_TEMPFAIL, "not delivered, try again: %s", error);
	printf("delivered to %s@%s INBOX as uid %u\n", account.name,
	       account.domain, uid);
	return 0;
}

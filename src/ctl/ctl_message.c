/* ctl_message.c - posternctl message list ADDRESS [MAILBOX]: what a mailbox
 * holds, one line per message: uid, size, flags, UIDL. */
#include "build-config.h"

#include <stdio.h>

#include "ctl/ctl.h"
#include "mail/accounts.h"
#include "mail/names.h"

int ctl_message_list(int argc, char **argv)
{
	struct mailbox_snapshot *snap;
	struct account account;
	const char *mailbox = argc == 2 ? argv[1] : "INBOX", *error;
	char uidl[UIDL_MAX + 1];

	if (argc < 1 || argc > 2)
		return ctl_error(EX_USAGE, "usage: message list ADDRESS [MAILBOX]");
	if (name_mailbox_check(mailbox, &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	if (account_find(argv[0], &account, &error) < 0)
		return ctl_error(EX_NOUSER, "%s", error);
	if (mailbox_snapshot_take(&account, mailbox, NULL, &snap, &error) < 0)
		return ctl_error(1, "%s: %s", mailbox, error);
	printf("%-10s %10s %-5s %s\n", "UID", "SIZE", "FLAGS", "UIDL");
	for (uint32_t i = 0; i < snap->count; i++) {
		const struct msg_info *m = &snap->msgs[i];

		mailbox_snapshot_uidl(snap, m, uidl);
		printf("%-10u %10u %-5s %s\n", m->uid, m->size,
		       m->flags & MSG_SEEN ? "S" : "-", uidl);
	}
	mailbox_snapshot_free(&snap);
	return 0;
}

/* ctl_mailbox.c - posternctl mailbox add|list|rename|del, and the lookup
 * of ADDRESS MAILBOX the other commands share. */
#include "build-config.h"

#include <stdio.h>

#include "ctl/ctl.h"
#include "mail/accounts.h"
#include "mail/names.h"
#include "store/store_ops.h"

int ctl_find_account_mailbox(const char *address, const char *mailbox,
			     struct account *account_r,
			     struct mailbox_rec *rec_r)
{
	const char *error;
	bool found;

	if (name_mailbox_check(mailbox, &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	if (account_find(address, account_r, &error) < 0)
		return ctl_error(EX_NOUSER, "%s", error);
	if (store_mailbox_find(account_r, mailbox, rec_r, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(EX_NOUSER, "no mailbox %s in account %s@%s",
				 mailbox, account_r->name, account_r->domain);
	return 0;
}

static void print_mailbox(const struct mailbox_stat *st, void *ctx)
{
	(void)ctx;
	printf("%-30s %8u messages %12llu octets\n", st->name, st->messages,
	       (unsigned long long)st->size);
}

int ctl_mailbox_list(int argc, char **argv)
{
	struct account account;
	const char *error;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: mailbox list ADDRESS");
	if (account_find(argv[0], &account, &error) < 0)
		return ctl_error(EX_NOUSER, "%s", error);
	if (store_mailbox_list(&account, print_mailbox, NULL, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	return 0;
}

int ctl_mailbox_add(int argc, char **argv)
{
	struct account account;
	const char *error;

	if (argc != 2)
		return ctl_error(EX_USAGE, "usage: mailbox add ADDRESS NAME");
	if (name_mailbox_check(argv[1], &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	if (account_find(argv[0], &account, &error) < 0)
		return ctl_error(EX_NOUSER, "%s", error);
	if (store_mailbox_add(&account, argv[1], &error) < 0)
		return ctl_error(1, "%s", error);
	printf("mailbox %s added to %s@%s\n", argv[1], account.name,
	       account.domain);
	return 0;
}

int ctl_mailbox_rename(int argc, char **argv)
{
	struct account account;
	struct mailbox_rec rec;
	const char *error;
	unsigned int count;
	int ret;

	if (argc != 3)
		return ctl_error(EX_USAGE, "usage: mailbox rename ADDRESS NAME NEWNAME");
	if (name_mailbox_check(argv[2], &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	if ((ret = ctl_find_account_mailbox(argv[0], argv[1], &account,
					    &rec)) != 0)
		return ret;
	if (store_mailbox_rename(&account, argv[1], argv[2], &count, &error) < 0)
		return ctl_error(1, "%s", error);
	printf("mailbox %s of %s@%s renamed to %s", argv[1], account.name,
	       account.domain, argv[2]);
	if (count > 1)
		printf(" with %u sub-mailbox%s", count - 1, count > 2 ? "es" : "");
	printf("\n");
	return 0;
}

int ctl_mailbox_del(int argc, char **argv)
{
	struct account account;
	struct mailbox_rec rec;
	const char *error;
	uint32_t messages;
	int ret;

	if (argc != 2)
		return ctl_error(EX_USAGE, "usage: mailbox del ADDRESS NAME");
	if ((ret = ctl_find_account_mailbox(argv[0], argv[1], &account,
					    &rec)) != 0)
		return ret;
	if (store_mailbox_del(&account, argv[1], &messages, &error) < 0)
		return ctl_error(1, "%s", error);
	printf("mailbox %s of %s@%s removed with %u message%s\n", argv[1],
	       account.name, account.domain, messages, messages == 1 ? "" : "s");
	return 0;
}

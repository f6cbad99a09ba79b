/* ctl_message.c - posternctl message list ADDRESS [MAILBOX]: what a mailbox
 * holds, one line per message: uid, size, flags, UIDL - and posternctl
 * expire, the store job behind the pop_expire policy. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "mail/accounts.h"
#include "mail/expire.h"
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
		char flags[4];
		size_t n = 0;

		/* S seen, H hidden from POP (pop_delete = hide) */
		if (m->flags & MSG_SEEN)
			flags[n++] = 'S';
		if (m->flags & MSG_POP_HIDDEN)
			flags[n++] = 'H';
		if (n == 0)
			flags[n++] = '-';
		flags[n] = '\0';
		mailbox_snapshot_uidl(snap, m, uidl);
		printf("%-10u %10u %-5s %s\n", m->uid, m->size, flags, uidl);
	}
	mailbox_snapshot_free(&snap);
	return 0;
}

/* One account that lost mail, or could not be expired (*failed, an int,
 * becomes EX_TEMPFAIL). */
static void told(const struct account *a, size_t removed, int days,
		 const char *error, void *ctx)
{
	if (error != NULL)
		*(int *)ctx = ctl_error(EX_TEMPFAIL, "%s@%s: %s", a->name, a->domain,
					error);
	if (removed > 0)
		printf("%s@%s: %zu retrieved message%s older than %d days removed\n",
		       a->name, a->domain, removed, removed == 1 ? "" : "s", days);
}

/* A word without '@': a domain (or domain alias) when there is one of
 * that name, else an account of main_domain, as ADDRESS is elsewhere. */
static bool names_a_domain(const char *word)
{
	char lower[ACCOUNT_NAME_MAX + 1];
	struct domain_info info;
	const char *error;
	bool found = false;

	if (name_object_check(word, lower, &error) < 0 ||
	    store_domain_get(lower, &info, &found, &error) < 0)
		return true;	/* the domain path says what is wrong */
	return found;
}

/* expire [DOMAIN | ADDRESS]: what pop_expire says may go, goes.  For a
 * cron job; logins run it for the mailbox they open too. */
int ctl_expire(int argc, char **argv)
{
	uint64_t now = (uint64_t)time(NULL);
	char domain[ACCOUNT_NAME_MAX + 1];
	size_t accounts = 0, messages = 0;
	const char *error;
	int ret = 0;

	if (argc > 1)
		return ctl_error(EX_USAGE, "usage: expire [DOMAIN | ADDRESS]");
	if (argc == 1 && (strchr(argv[0], '@') != NULL || !names_a_domain(argv[0]))) {
		struct account a;
		bool failed;
		int days;

		if (account_find(argv[0], &a, &error) < 0)
			return strchr(argv[0], '@') != NULL ? ctl_error(EX_NOUSER, "%s", error) :
				ctl_error(EX_NOUSER, "no such domain or account: %s", argv[0]);
		failed = account_expire(&a, now, &messages, &days, &error) < 0;
		told(&a, messages, days, failed ? error : NULL, &ret);
		accounts = messages > 0;
	} else {
		if (argc == 1 && (ret = ctl_find_domain(argv[0], domain)) != 0)
			return ret;
		if (expire_accounts(argc == 1 ? domain : NULL, now, told, &ret,
				    &accounts, &messages, &error) < 0)
			return ctl_error(EX_TEMPFAIL, "%s", error);
	}
	printf("%zu message%s removed from %zu account%s\n", messages,
	       messages == 1 ? "" : "s", accounts, accounts == 1 ? "" : "s");
	return ret;
}

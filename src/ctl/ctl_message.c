/* ctl_message.c - posternctl message list ADDRESS [MAILBOX]: what a mailbox
 * holds, one line per message: uid, size, flags, UIDL - and posternctl
 * expire, the store job behind the pop_expire policy. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "lib/xalloc.h"
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

struct expire_run {
	uint64_t now;
	size_t messages, accounts;
	int ret;
};

/* One account: what its pop_expire says may go. */
static void expire_account(const struct account *a, void *ctx)
{
	struct expire_run *r = ctx;
	const char *error;
	size_t removed;
	int days;

	if (account_expire(a, r->now, &removed, &days, &error) < 0)
		r->ret = ctl_error(EX_TEMPFAIL, "%s@%s: %s", a->name, a->domain, error);
	if (removed > 0) {
		printf("%s@%s: %zu retrieved message%s older than %d days removed\n",
		       a->name, a->domain, removed, removed == 1 ? "" : "s", days);
		r->messages += removed;
		r->accounts++;
	}
}

struct account_set {
	struct account *list;
	size_t count, alloc;
};

static void gather(const struct account *a, void *ctx)
{
	struct account_set *s = ctx;

	if (s->count == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 64;
		s->list = xrealloc(s->list, s->alloc * sizeof(*s->list));
	}
	s->list[s->count++] = *a;
}

/* expire [DOMAIN | ADDRESS]: what pop_expire says may go, goes.  For a
 * cron job; logins run it for the mailbox they open too. */
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

int ctl_expire(int argc, char **argv)
{
	struct expire_run r = { (uint64_t)time(NULL), 0, 0, 0 };
	char domain[ACCOUNT_NAME_MAX + 1];
	const char *error;

	if (argc > 1)
		return ctl_error(EX_USAGE, "usage: expire [DOMAIN | ADDRESS]");
	if (argc == 1 && (strchr(argv[0], '@') != NULL || !names_a_domain(argv[0]))) {
		struct account a;

		if (account_find(argv[0], &a, &error) < 0)
			return strchr(argv[0], '@') != NULL ? ctl_error(EX_NOUSER, "%s", error) :
				ctl_error(EX_NOUSER, "no such domain or account: %s", argv[0]);
		expire_account(&a, &r);
	} else {
		int ret;

		struct account_set all = { NULL, 0, 0 };

		if (argc == 1 && (ret = ctl_find_domain(argv[0], domain)) != 0)
			return ret;
		/* gathered first: the list runs inside a read transaction, and
		 * expiring writes */
		if (store_account_list(argc == 1 ? domain : NULL, gather, &all,
				       &error) < 0) {
			free(all.list);
			return ctl_error(EX_TEMPFAIL, "%s", error);
		}
		for (size_t i = 0; i < all.count; i++)
			expire_account(&all.list[i], &r);
		free(all.list);
	}
	printf("%zu message%s removed from %zu account%s\n", r.messages,
	       r.messages == 1 ? "" : "s", r.accounts, r.accounts == 1 ? "" : "s");
	return r.ret;
}

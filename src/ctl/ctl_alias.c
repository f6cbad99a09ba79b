/* ctl_alias.c - posternctl's other names: alias add|list|del (account
 * aliases), domain alias add|list|del, domain bind|unbind, and route (what
 * the Router makes of an address). */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "mail/accounts.h"
#include "mail/names.h"
#include "mail/router.h"
#include "store/store_ops.h"

static void print_pair(const char *a, const char *b, void *ctx)
{
	printf("%-40s %s\n", a, b);
	(*(unsigned int *)ctx)++;
}

/* alias add ALIAS[@DOMAIN] ACCOUNT */
int ctl_alias_add(int argc, char **argv)
{
	const char *error;

	if (argc != 2)
		return ctl_error(EX_USAGE, "usage: alias add ALIAS@DOMAIN ACCOUNT");
	if (alias_add(argv[0], argv[1], &error) < 0)
		return ctl_error(1, "%s", error);
	printf("alias %s -> %s added\n", argv[0], argv[1]);
	return 0;
}

int ctl_alias_del(int argc, char **argv)
{
	const char *error;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: alias del ALIAS@DOMAIN");
	if (alias_del(argv[0], &error) < 0)
		return ctl_error(1, "%s", error);
	printf("alias %s removed\n", argv[0]);
	return 0;
}

int ctl_alias_list(int argc, char **argv)
{
	char domain[ACCOUNT_NAME_MAX + 1];
	unsigned int n = 0;
	const char *error;

	int ret;

	if (argc > 1)
		return ctl_error(EX_USAGE, "usage: alias list [DOMAIN]");
	if (argc == 1 && (ret = ctl_find_domain(argv[0], domain)) != 0)
		return ret;
	if (store_alias_list(argc == 1 ? domain : NULL, print_pair, &n,
			     &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	return 0;
}

/* domain alias add ALIAS DOMAIN | del ALIAS | list [DOMAIN] */
int ctl_domain_alias(int argc, char **argv)
{
	char domain[ACCOUNT_NAME_MAX + 1];
	const char *error;
	unsigned int n = 0;

	if (argc == 3 && strcmp(argv[0], "add") == 0) {
		if (domain_alias_add(argv[1], argv[2], &error) < 0)
			return ctl_error(1, "%s", error);
		printf("domain alias %s -> %s added\n", argv[1], argv[2]);
		return 0;
	}
	if (argc == 2 && strcmp(argv[0], "del") == 0) {
		if (domain_alias_del(argv[1], &error) < 0)
			return ctl_error(1, "%s", error);
		printf("domain alias %s removed\n", argv[1]);
		return 0;
	}
	if ((argc == 1 || argc == 2) && strcmp(argv[0], "list") == 0) {
		int ret;

		if (argc == 2 && (ret = ctl_find_domain(argv[1], domain)) != 0)
			return ret;
		if (store_domain_alias_list(argc == 2 ? domain : NULL, print_pair,
					    &n, &error) < 0)
			return ctl_error(EX_TEMPFAIL, "%s", error);
		return 0;
	}
	return ctl_error(EX_USAGE, "usage: domain alias add ALIAS DOMAIN | del ALIAS | list [DOMAIN]");
}

/* domain bind DOMAIN ADDRESS */
int ctl_domain_bind(int argc, char **argv)
{
	char ip[IP_TEXT_MAX];
	const char *error;

	if (argc != 2)
		return ctl_error(EX_USAGE, "usage: domain bind DOMAIN ADDRESS");
	if (domain_bind(argv[0], argv[1], ip, &error) < 0)
		return ctl_error(1, "%s", error);
	printf("connections to %s belong to domain %s\n", ip, argv[0]);
	return 0;
}

int ctl_domain_unbind(int argc, char **argv)
{
	char ip[IP_TEXT_MAX];
	const char *error;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: domain unbind ADDRESS");
	if (domain_unbind(argv[0], ip, &error) < 0)
		return ctl_error(1, "%s", error);
	printf("%s is no longer bound\n", ip);
	return 0;
}

/* route ADDRESS [LOCAL-IP]: what mail to ADDRESS (or a login as it, on
 * LOCAL-IP) reaches. */
int ctl_route(int argc, char **argv)
{
	struct route r;
	const char *error;

	if (argc < 1 || argc > 2)
		return ctl_error(EX_USAGE, "usage: route ADDRESS [LOCAL-IP]");
	switch (router_resolve(argv[0], argc == 2 ? argv[1] : NULL, &r, &error)) {
	case ROUTE_OK:
		break;
	case ROUTE_UNKNOWN:
		return ctl_error(EX_NOUSER, "%s", error);
	case ROUTE_BAD_ADDRESS:
		return ctl_error(EX_DATAERR, "%s", error);
	case ROUTE_TEMPFAIL:
		return ctl_error(EX_TEMPFAIL, "%s", error);
	}
	printf("account %s@%s\nrule %s\naddress %s\n", r.account.name,
	       r.account.domain, route_rule_name(r.rule), r.address);
	if (r.rule == ROUTE_UNIFIED)
		printf("view %s\n", r.address);
	if (r.rule == ROUTE_MAILBOX)
		printf("mailbox %s\n", r.mailbox);
	return 0;
}

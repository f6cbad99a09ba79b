/* ctl_domain.c - posternctl domain add|list|del. */
#include "build-config.h"

#include <stdio.h>

#include "ctl/ctl.h"
#include "mail/accounts.h"
#include "store/store_ops.h"

int ctl_domain_add(int argc, char **argv)
{
	const char *error;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: domain add NAME");
	if (domain_add(argv[0], &error) < 0)
		return ctl_error(1, "%s", error);
	printf("domain %s added\n", argv[0]);
	return 0;
}

int ctl_domain_del(int argc, char **argv)
{
	const char *error;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: domain del NAME");
	if (domain_del(argv[0], &error) < 0)
		return ctl_error(1, "%s", error);
	printf("domain %s removed\n", argv[0]);
	return 0;
}

static void print_name(const char *name, void *ctx)
{
	(void)ctx;
	printf("%s\n", name);
}

int ctl_domain_list(int argc, char **argv)
{
	const char *error;

	(void)argv;
	if (argc != 0)
		return ctl_error(EX_USAGE, "usage: domain list");
	if (store_domain_list(print_name, NULL, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	return 0;
}

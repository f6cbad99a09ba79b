/* ctl_domain.c - posternctl domain add|list|del. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "mail/policy.h"
#include "mail/accounts.h"
#include "mail/names.h"
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

int ctl_find_domain(const char *name, char *domain_r)
{
	char lower[ACCOUNT_NAME_MAX + 1];
	struct domain_info info;
	const char *error;
	bool found;

	if (name_object_check(name, lower, &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	if (store_domain_get(lower, &info, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(1, "no such domain: %s", lower);
	/* a domain alias stands for its domain */
	memcpy(domain_r, info.name, sizeof(info.name));
	return 0;
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

/* domain set NAME unified_account=ACCOUNT (empty clears) */
int ctl_domain_set(int argc, char **argv)
{
	const char *error;

	if (argc < 2)
		return ctl_error(EX_USAGE, "usage: domain set NAME unified_account=ACCOUNT POLICY=VALUE...");
	for (int i = 1; i < argc; i++) {
		const char *v;

		if (strncmp(argv[i], "unified_account=", 16) != 0) {
			char lower[ACCOUNT_NAME_MAX + 1];
			int ret;

			if (name_object_check(argv[0], lower, &error) < 0)
				return ctl_error(EX_DATAERR, "%s", error);
			ret = ctl_policy_assign(lower, "", argv[i], lower);
			if (ret == CTL_NOT_A_POLICY)
				return ctl_error(EX_USAGE,
						 "domain set: unknown setting '%s' (known: unified_account=ACCOUNT, %s)",
						 argv[i], policy_names());
			if (ret != 0)
				return ret;
			continue;
		}
		char lower[ACCOUNT_NAME_MAX + 1];
		struct domain_info info;
		bool found = false;

		v = argv[i] + 16;
		if (domain_set_unified(argv[0], v, &error) < 0)
			return ctl_error(1, "%s", error);
		/* what is stored now, in its canonical form */
		if (name_object_check(argv[0], lower, &error) < 0 ||
		    store_domain_get(lower, &info, &found, &error) < 0)
			return ctl_error(EX_TEMPFAIL, "%s", error);
		if (!found)
			return ctl_error(EX_TEMPFAIL, "domain %s went away", lower);
		printf("%s: unified_account=%s\n", info.name, info.unified);
	}
	return 0;
}

struct show_ctx {
	const char *domain;
	unsigned int n;
};

static void print_alias(const char *alias, const char *domain, void *vctx)
{
	(void)domain;
	(void)vctx;
	printf("alias %s\n", alias);
}

static void print_binding(const char *ip, const char *domain, void *vctx)
{
	struct show_ctx *c = vctx;

	if (strcmp(domain, c->domain) == 0)
		printf("bound %s\n", ip);
}

/* domain show NAME: settings, aliases, bound addresses */
int ctl_domain_show(int argc, char **argv)
{
	char lower[ACCOUNT_NAME_MAX + 1];
	struct domain_info info;
	struct show_ctx c;
	const char *error;
	bool found;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: domain show NAME");
	if (name_object_check(argv[0], lower, &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	if (store_domain_get(lower, &info, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(EX_NOUSER, "no such domain: %s", lower);
	printf("domain %s\n", info.name);
	if (strcmp(info.name, lower) != 0)
		printf("(%s is an alias of it)\n", lower);
	printf("unified_account %s\n", info.unified[0] ? info.unified : "-");
	c.domain = info.name;
	c.n = 0;
	if (store_domain_alias_list(info.name, print_alias, &c, &error) < 0 ||
	    store_binding_list(print_binding, &c, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	return ctl_policy_print(info.name, "");
}

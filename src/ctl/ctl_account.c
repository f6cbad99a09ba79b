/* ctl_account.c - posternctl account add|list|del|passwd|set. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "admin/admin_role.h"
#include "ctl/ctl.h"
#include "mail/policy.h"
#include "lib/strnum.h"
#include "mail/accounts.h"
#include "mail/real_name.h"
#include "mail/names.h"
#include "store/store_ops.h"

#define PASSWORD_BUF 1100

/* ADDRESS [--password-file FILE], in either order. */
static int parse_address_password(int argc, char **argv, const char *usage,
				  const char **address_r, char *password)
{
	const char *file = NULL;

	*address_r = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--password-file") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (argv[i][0] != '-' && *address_r == NULL)
			*address_r = argv[i];
		else
			return ctl_error(EX_USAGE, "usage: %s", usage);
	}
	if (*address_r == NULL)
		return ctl_error(EX_USAGE, "usage: %s", usage);
	return ctl_read_password(file, password, PASSWORD_BUF);
}

int ctl_account_add(int argc, char **argv)
{
	char password[PASSWORD_BUF];
	struct account account;
	const char *address, *error;
	int ret;

	ret = parse_address_password(argc, argv,
				     "account add ADDRESS [--password-file FILE]",
				     &address, password);
	if (ret != 0)
		return ret;
	ret = account_add(address, password, &account, &error);
	explicit_bzero(password, sizeof(password));
	if (ret < 0)
		return ctl_error(1, "%s", error);
	printf("account %s@%s added\n", account.name, account.domain);
	return 0;
}

int ctl_account_passwd(int argc, char **argv)
{
	char password[PASSWORD_BUF];
	const char *address, *error;
	int ret;

	ret = parse_address_password(argc, argv,
				     "account passwd ADDRESS [--password-file FILE]",
				     &address, password);
	if (ret != 0)
		return ret;
	ret = account_passwd(address, password, &error);
	explicit_bzero(password, sizeof(password));
	if (ret < 0)
		return ctl_error(1, "%s", error);
	printf("password of %s changed\n", address);
	return 0;
}

int ctl_account_del(int argc, char **argv)
{
	const char *error;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: account del ADDRESS");
	if (account_del(argv[0], &error) < 0)
		return ctl_error(1, "%s", error);
	printf("account %s removed\n", argv[0]);
	return 0;
}

static void print_account(const struct account *a, void *ctx)
{
	(void)ctx;
	printf("%s@%s\n", a->name, a->domain);
}

int ctl_account_list(int argc, char **argv)
{
	char domain[ACCOUNT_NAME_MAX + 1];
	const char *error;
	int ret;

	if (argc > 1)
		return ctl_error(EX_USAGE, "usage: account list [DOMAIN]");
	if (argc == 1 && (ret = ctl_find_domain(argv[0], domain)) != 0)
		return ret;
	if (store_account_list(argc == 1 ? domain : NULL, print_account, NULL,
			       &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	return 0;
}

#define ACCOUNT_SET_USAGE "usage: account set ADDRESS admin=yes|no quota=SIZE|none webadmin=none|domain|server real_name=TEXT POLICY=VALUE..."

/* account set ADDRESS key=value...: the admin right, the quota, the web
 * admin right, policies. */
int ctl_account_set(int argc, char **argv)
{
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	const char *error;

	if (argc < 2)
		return ctl_error(EX_USAGE, ACCOUNT_SET_USAGE);
	if (account_resolve(argv[0], NULL, name, domain, &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	for (int i = 1; i < argc; i++) {
		uint64_t quota = 0;
		bool admin;

		if (strncmp(argv[i], "quota=", 6) == 0) {
			const char *v = argv[i] + 6;

			if (strcmp(v, "none") != 0 && strcmp(v, "0") != 0 &&
			    (str_parse_size(v, &quota) < 0 || quota == 0))
				return ctl_error(EX_USAGE,
						 "account set: quota=%s: a size like 500M, 2G or 1048576, or none",
						 v);
			if (account_set_quota(argv[0], quota, &error) < 0)
				return ctl_error(1, "%s", error);
			printf("%s: quota=%s\n", argv[0], quota ? v : "none");
			continue;
		}
		if (strncmp(argv[i], "real_name=", 10) == 0) {
			struct account a;

			if (real_name_check(argv[i] + 10, &error) < 0)
				return ctl_error(EX_DATAERR, "account set: %s", error);
			if (account_find(argv[0], &a, &error) < 0)
				return ctl_error(EX_NOUSER, "%s", error);
			if (real_name_set(a.domain, a.name, argv[i] + 10, &error) < 0)
				return ctl_error(1, "%s", error);
			printf("%s: real_name=%s\n", argv[0], argv[i] + 10);
			continue;
		}
		if (strncmp(argv[i], "webadmin=", 9) == 0) {
			enum admin_role role;
			struct account a;

			if (admin_role_parse(argv[i] + 9, &role, &error) < 0)
				return ctl_error(EX_USAGE, "account set: %s", error);
			if (account_find(argv[0], &a, &error) < 0)
				return ctl_error(EX_NOUSER, "%s", error);
			if (admin_role_set(a.domain, a.name, role, &error) < 0)
				return ctl_error(1, "%s", error);
			printf("%s: webadmin=%s\n", argv[0], admin_role_name(role));
			continue;
		}
		if (strcmp(argv[i], "admin=yes") == 0) {
			admin = true;
		} else if (strcmp(argv[i], "admin=no") == 0) {
			admin = false;
		} else {
			int ret = ctl_policy_assign(domain, name, argv[i], argv[0]);

			if (ret == CTL_NOT_A_POLICY)
				return ctl_error(EX_USAGE,
						 "account set: unknown setting '%s' (known: admin=yes|no, quota=SIZE|none, webadmin=none|domain|server, real_name=TEXT, %s)",
						 argv[i], policy_names());
			if (ret != 0)
				return ret;
			continue;
		}
		if (account_set_admin(argv[0], admin, &error) < 0)
			return ctl_error(1, "%s", error);
		printf("%s: admin=%s\n", argv[0], admin ? "yes" : "no");
	}
	return 0;
}

/* account show ADDRESS: settings and what it holds. */
int ctl_account_show(int argc, char **argv)
{
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	struct account_info info;
	struct account account;
	enum admin_role role;
	char real[REAL_NAME_MAX + 1];
	const char *error;
	bool found;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: account show ADDRESS");
	if (account_resolve(argv[0], NULL, name, domain, &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	if (store_account_info(name, domain, &account, &info, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(EX_NOUSER, "no such account: %s@%s", name, domain);
	printf("account %s@%s\n", account.name, account.domain);
	printf("admin %s\n", info.flags & ACCOUNT_ADMIN ? "yes" : "no");
	if (admin_role_get(account.domain, account.name, &role, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	printf("webadmin %s\n", admin_role_name(role));
	if (real_name_get(account.domain, account.name, real, sizeof(real), &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	printf("real_name %s\n", real[0] ? real : "-");
	if (info.quota)
		printf("quota %llu\n", (unsigned long long)info.quota);
	else
		printf("quota none\n");
	printf("used %llu\n", (unsigned long long)info.used);
	printf("messages %llu\n", (unsigned long long)info.messages);
	return ctl_policy_print(account.domain, account.name);
}

/* ctl_policy.c - posternctl's policies: `server set|show`, and the policy
 * keys that `domain set|show` and `account set|show` take beside their own
 * (mail/policy.h: enabled services, ...). */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "mail/policy.h"

int ctl_policy_assign(const char *domain, const char *account,
		      const char *assignment, const char *shown)
{
	char name[SETTING_KEY_MAX + 1];
	const char *eq = strchr(assignment, '='), *error;
	enum policy_id id;

	if (eq == NULL || (size_t)(eq - assignment) > SETTING_KEY_MAX)
		return ctl_error(EX_USAGE, "'%s' is not KEY=VALUE", assignment);
	snprintf(name, sizeof(name), "%.*s", (int)(eq - assignment), assignment);
	if (policy_find(name, &id, &error) < 0)
		return CTL_NOT_A_POLICY;
	if (eq[1] != '\0' && policy_check(id, eq + 1, &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	if (policy_set(domain, account, name, eq + 1, &error) < 0)
		return ctl_error(1, "%s", error);
	if (eq[1] == '\0')
		printf("%s: %s inherited again\n", shown, name);
	else
		printf("%s: %s=%s\n", shown, name, eq + 1);
	return 0;
}

int ctl_policy_print(const char *domain, const char *account)
{
	struct policy p;
	const char *error;

	if (policy_load(domain, account, &p, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	for (int i = 0; i < POLICY_COUNT; i++)
		printf("%s %s (%s)\n", policy_name((enum policy_id)i), p.value[i],
		       policy_source_name(p.from[i]));
	return 0;
}

/* server set KEY=VALUE...: the defaults every domain and account inherit */
int ctl_server_set(int argc, char **argv)
{
	if (argc < 1)
		return ctl_error(EX_USAGE, "usage: server set KEY=VALUE...");
	for (int i = 0; i < argc; i++) {
		int ret = ctl_policy_assign("", "", argv[i], "server");

		if (ret == CTL_NOT_A_POLICY)
			return ctl_error(EX_USAGE,
					 "server set: unknown setting '%s' (known: %s)",
					 argv[i], policy_names());
		if (ret != 0)
			return ret;
	}
	return 0;
}

int ctl_server_show(int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_error(EX_USAGE, "usage: server show");
	return ctl_policy_print("", "");
}

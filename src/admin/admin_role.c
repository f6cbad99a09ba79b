/* admin_role.c - the webadmin right (admin_role.h). */
#include "build-config.h"

#include <string.h>

#include "admin/admin_role.h"
#include "store/store_settings.h"

const char *admin_role_name(enum admin_role role)
{
	switch (role) {
	case ADMIN_ROLE_NONE:
		return "none";
	case ADMIN_ROLE_DOMAIN:
		return "domain";
	case ADMIN_ROLE_SERVER:
		return "server";
	}
	return "none";
}

int admin_role_parse(const char *text, enum admin_role *role_r,
		     const char **error_r)
{
	if (strcmp(text, "none") == 0 || text[0] == '\0')
		*role_r = ADMIN_ROLE_NONE;
	else if (strcmp(text, "domain") == 0)
		*role_r = ADMIN_ROLE_DOMAIN;
	else if (strcmp(text, "server") == 0)
		*role_r = ADMIN_ROLE_SERVER;
	else {
		*error_r = "webadmin: none, domain (its own domain) or server (everything)";
		return -1;
	}
	return 0;
}

struct find {
	enum admin_role role;
};

static void take(enum setting_level level, const char *key, const char *value,
		 void *ctx)
{
	struct find *f = ctx;
	const char *ignored;

	/* only an account's own setting gives the right */
	if (level == SETTING_ACCOUNT && strcmp(key, ADMIN_ROLE_KEY) == 0)
		(void)admin_role_parse(value, &f->role, &ignored);
}

int admin_role_get(const char *domain, const char *account,
		   enum admin_role *role_r, const char **error_r)
{
	struct find f = { ADMIN_ROLE_NONE };

	if (store_settings_for(domain, account, take, &f, error_r) < 0)
		return -1;
	*role_r = f.role;
	return 0;
}

int admin_role_set(const char *domain, const char *account,
		   enum admin_role role, const char **error_r)
{
	return store_setting_set(domain, account, ADMIN_ROLE_KEY,
				 role == ADMIN_ROLE_NONE ? NULL : admin_role_name(role),
				 error_r);
}

/* auth.c - login names and password checks (module API auth_login_plain). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/names.h"
#include "mail/password.h"
#include "store/store_ops.h"

int account_resolve(const char *address, const char *local_ip,
		    char *name_r, char *domain_r, const char **error_r)
{
	const struct core_settings *set = core_settings();

	(void)local_ip;	/* per-address domain binding: the Router's job */
	if (name_address_split(address, name_r, domain_r, error_r) < 0)
		return -1;
	if (domain_r[0] != '\0')
		return 0;
	if (set == NULL || set->main_domain[0] == '\0') {
		*error_r = "no domain in the name and no main_domain is configured";
		return -1;
	}
	return name_object_check(set->main_domain, domain_r, error_r);
}

enum auth_result auth_login_plain(const char *login, const char *password,
				  const char *local_ip, struct account *account_r,
				  const char **error_r)
{
	static char err[ADDRESS_MAX + 64];
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	char hash[PASSWORD_HASH_MAX];
	bool found;

	if (account_resolve(login, local_ip, name, domain, error_r) < 0) {
		password_verify_dummy(password);
		return AUTH_FAILED;
	}
	if (store_account_get(name, domain, account_r, hash, sizeof(hash),
			      &found, error_r) < 0)
		return AUTH_TEMPFAIL;
	if (!found) {
		/* same cost as a wrong password: no user probing by timing */
		password_verify_dummy(password);
		snprintf(err, sizeof(err), "unknown account %s@%s", name, domain);
		*error_r = err;
		return AUTH_FAILED;
	}
	if (!password_verify(password, hash)) {
		snprintf(err, sizeof(err), "wrong password for %s@%s", name, domain);
		*error_r = err;
		return AUTH_FAILED;
	}
	return AUTH_OK;
}

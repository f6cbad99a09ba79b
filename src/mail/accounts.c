/* accounts.c - admin operations with name checks. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/names.h"
#include "mail/password.h"
#include "mail/scram.h"
#include "store/store_ops.h"

/* Longest password accepted: bounded so hashing cost stays bounded. */
#define PASSWORD_MAX ACCOUNT_CLEARTEXT_MAX

int domain_add(const char *name, const char **error_r)
{
	char lower[ACCOUNT_NAME_MAX + 1];

	if (name_domain_check(name, lower, error_r) < 0)
		return -1;
	return store_domain_add(lower, error_r);
}

int domain_del(const char *name, const char **error_r)
{
	char lower[ACCOUNT_NAME_MAX + 1];

	if (name_object_check(name, lower, error_r) < 0)
		return -1;
	return store_domain_del(lower, error_r);
}

static int check_password(const char *password, const char **error_r)
{
	size_t len = strlen(password);

	if (len == 0) {
		*error_r = "empty password";
		return -1;
	}
	if (len > PASSWORD_MAX) {
		*error_r = "password longer than 1024 octets";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f) {
			*error_r = "control characters are not allowed in passwords";
			return -1;
		}
	}
	return 0;
}

/* Resolve the address and compute what is stored for the password: what
 * add and passwd share. */
static int resolve_and_hash(const char *address, const char *password,
			    char *name, char *domain,
			    struct account_secrets *sec, const char **error_r)
{
	const struct core_settings *set = core_settings();

	memset(sec, 0, sizeof(*sec));
	/* the crypt hash for USER/PASS, PLAIN and LOGIN; SCRAM secrets for
	 * SCRAM; a plaintext-equivalent copy only when the admin allowed it
	 * (CRAM-MD5, APOP) */
	if (account_resolve(address, NULL, name, domain, error_r) < 0 ||
	    check_password(password, error_r) < 0 ||
	    password_hash(password, sec->hash, sizeof(sec->hash), error_r) < 0 ||
	    scram_secrets(password, sec->scram, sizeof(sec->scram), error_r) < 0)
		return -1;
	if (set != NULL && set->cleartext_secrets)
		snprintf(sec->cleartext, sizeof(sec->cleartext), "%s", password);
	return 0;
}

int account_add(const char *address, const char *password,
		struct account *account_r, const char **error_r)
{
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	static struct account_secrets sec;
	int ret = -1;

	if (resolve_and_hash(address, password, name, domain, &sec, error_r) < 0)
		goto out;
	if (strcmp(name, "anyone") == 0) {
		/* an ACL identifier (SPEC.md 2): such an account could never be
		 * granted rights of its own */
		*error_r = "'anyone' is reserved for mailbox rights (anyone, anyone@DOMAIN) and cannot be an account name";
		goto out;
	}
	ret = store_account_add(name, domain, &sec, account_r, error_r);
out:
	explicit_bzero(&sec, sizeof(sec));
	return ret;
}

int account_del(const char *address, const char **error_r)
{
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];

	if (account_resolve(address, NULL, name, domain, error_r) < 0)
		return -1;
	return store_account_del(name, domain, error_r);
}

int account_passwd(const char *address, const char *password,
		   const char **error_r)
{
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	static struct account_secrets sec;
	int ret = -1;

	if (resolve_and_hash(address, password, name, domain, &sec, error_r) == 0)
		ret = store_account_set_secrets(name, domain, &sec, error_r);
	explicit_bzero(&sec, sizeof(sec));
	return ret;
}

int account_set_admin(const char *address, bool admin, const char **error_r)
{
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];

	if (account_resolve(address, NULL, name, domain, error_r) < 0)
		return -1;
	return store_account_set_flags(name, domain, admin ? ACCOUNT_ADMIN : 0,
				       admin ? 0 : ACCOUNT_ADMIN, error_r);
}

int account_find(const char *address, struct account *account_r,
		 const char **error_r)
{
	static char err[ADDRESS_MAX + 32];
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	bool found;

	if (account_resolve(address, NULL, name, domain, error_r) < 0 ||
	    store_account_get(name, domain, account_r, NULL, 0, &found,
			      error_r) < 0)
		return -1;
	if (!found) {
		snprintf(err, sizeof(err), "no such account: %s@%s", name, domain);
		*error_r = err;
		return -1;
	}
	return 0;
}

int domain_alias_add(const char *alias, const char *domain,
		     const char **error_r)
{
	char a[ACCOUNT_NAME_MAX + 1], d[ACCOUNT_NAME_MAX + 1];

	if (name_domain_check(alias, a, error_r) < 0 ||
	    name_object_check(domain, d, error_r) < 0)
		return -1;
	return store_domain_alias_add(a, d, error_r);
}

int domain_alias_del(const char *alias, const char **error_r)
{
	char a[ACCOUNT_NAME_MAX + 1];

	if (name_object_check(alias, a, error_r) < 0)
		return -1;
	return store_domain_alias_del(a, error_r);
}

int domain_set_unified(const char *domain, const char *account,
		       const char **error_r)
{
	char d[ACCOUNT_NAME_MAX + 1], a[ACCOUNT_NAME_MAX + 1] = "";

	if (name_object_check(domain, d, error_r) < 0 ||
	    (account[0] != '\0' && name_object_check(account, a, error_r) < 0))
		return -1;
	return store_domain_set_unified(d, a, error_r);
}

int domain_bind(const char *domain, const char *address, char *canonical_r,
		const char **error_r)
{
	char d[ACCOUNT_NAME_MAX + 1];

	if (name_object_check(domain, d, error_r) < 0 ||
	    name_ip_canonical(address, canonical_r, error_r) < 0)
		return -1;
	return store_binding_set(canonical_r, d, error_r);
}

int domain_unbind(const char *address, char *canonical_r, const char **error_r)
{
	if (name_ip_canonical(address, canonical_r, error_r) < 0)
		return -1;
	return store_binding_del(canonical_r, error_r);
}

int alias_add(const char *alias, const char *account, const char **error_r)
{
	static char err[ADDRESS_MAX * 2 + 64];
	char an[ACCOUNT_NAME_MAX + 1], ad[ACCOUNT_NAME_MAX + 1];
	char n[ACCOUNT_NAME_MAX + 1], d[ACCOUNT_NAME_MAX + 1];

	if (account_resolve(alias, NULL, an, ad, error_r) < 0 ||
	    name_address_split(account, n, d, error_r) < 0)
		return -1;
	if (d[0] != '\0' && strcmp(d, ad) != 0) {
		snprintf(err, sizeof(err),
			 "an alias names an account of its own domain: %s@%s is not in %s",
			 n, d, ad);
		*error_r = err;
		return -1;
	}
	if (strcmp(an, "anyone") == 0) {
		*error_r = "'anyone' is reserved for mailbox rights and cannot be an alias";
		return -1;
	}
	return store_alias_add(an, ad, n, error_r);
}

int alias_del(const char *alias, const char **error_r)
{
	char an[ACCOUNT_NAME_MAX + 1], ad[ACCOUNT_NAME_MAX + 1];

	if (account_resolve(alias, NULL, an, ad, error_r) < 0)
		return -1;
	return store_alias_del(an, ad, error_r);
}

int account_set_quota(const char *address, uint64_t quota,
		      const char **error_r)
{
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];

	if (account_resolve(address, NULL, name, domain, error_r) < 0)
		return -1;
	return store_account_set_quota(name, domain, quota, error_r);
}

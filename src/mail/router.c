/* router.c - address resolution (router.h). */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/core_settings.h"
#include "mail/router.h"
#include "store/store_ops.h"

static char errbuf[ADDRESS_MAX + LOCAL_PART_MAX + 128];

const char *route_rule_name(enum route_rule rule)
{
	switch (rule) {
	case ROUTE_ACCOUNT:
		return "account";
	case ROUTE_ALIAS:
		return "alias";
	case ROUTE_DETAIL:
		return "detail";
	case ROUTE_MAILBOX:
		return "mailbox";
	case ROUTE_UNIFIED:
		return "unified";
	}
	return "?";
}

enum route_result router_default_domain(const char *local_ip, char *domain_r,
					const char **error_r)
{
	const struct core_settings *set = core_settings();
	char ip[IP_TEXT_MAX];
	bool found;

	if (local_ip != NULL && local_ip[0] != '\0' &&
	    name_ip_canonical(local_ip, ip, error_r) == 0) {
		if (store_binding_get(ip, domain_r, &found, error_r) < 0)
			return ROUTE_TEMPFAIL;
		if (found)
			return ROUTE_OK;
	}
	if (set == NULL || set->main_domain[0] == '\0') {
		*error_r = "no domain in the name and no main_domain is configured";
		return ROUTE_UNKNOWN;
	}
	if (name_object_check(set->main_domain, domain_r, error_r) < 0)
		return ROUTE_BAD_ADDRESS;
	return ROUTE_OK;
}

/* An account, directly or through an alias.  name is lower case.
 * 1 found, 0 not, -1 store fault. */
static int find_account(const char *name, const char *domain,
			struct account *account_r, bool *via_alias_r,
			const char **error_r)
{
	char lower[ACCOUNT_NAME_MAX + 1], target[ACCOUNT_NAME_MAX + 1];
	const char *ignored;
	bool found;

	*via_alias_r = false;
	/* only a valid object name can be an account or an alias */
	if (name_object_check(name, lower, &ignored) < 0)
		return 0;
	if (store_alias_get(lower, domain, target, &found, error_r) < 0)
		return -1;
	if (found) {
		*via_alias_r = true;
		snprintf(lower, sizeof(lower), "%s", target);
	}
	if (store_account_get(lower, domain, account_r, NULL, 0, &found,
			      error_r) < 0)
		return -1;
	return found ? 1 : 0;
}

static enum route_result resolve_local(const char *local, const char *domain,
				       struct route *r, const char **error_r)
{
	char lower[LOCAL_PART_MAX + 1], base[LOCAL_PART_MAX + 1];
	struct domain_info info;
	const char *sep;
	bool alias, found;
	int ret;

	for (size_t i = 0; i <= strlen(local); i++)
		lower[i] = (char)tolower((unsigned char)local[i]);
	snprintf(r->address, sizeof(r->address), "%s@%s", lower, domain);

	/* aliases and accounts (2, 5) */
	if ((ret = find_account(lower, domain, &r->account, &alias, error_r)) < 0)
		return ROUTE_TEMPFAIL;
	if (ret > 0) {
		r->rule = alias ? ROUTE_ALIAS : ROUTE_ACCOUNT;
		return ROUTE_OK;
	}
	/* account+detail (3) */
	if ((sep = strchr(lower, '+')) != NULL && sep > lower) {
		snprintf(base, sizeof(base), "%.*s", (int)(sep - lower), lower);
		if ((ret = find_account(base, domain, &r->account, &alias,
					error_r)) < 0)
			return ROUTE_TEMPFAIL;
		if (ret > 0) {
			r->rule = ROUTE_DETAIL;
			return ROUTE_OK;
		}
	}
	/* account#mailbox (4): the mailbox keeps its case */
	if ((sep = strchr(local, '#')) != NULL && sep > local && sep[1] != '\0') {
		snprintf(base, sizeof(base), "%.*s", (int)(sep - local), lower);
		if ((ret = find_account(base, domain, &r->account, &alias,
					error_r)) < 0)
			return ROUTE_TEMPFAIL;
		if (ret > 0) {
			r->rule = ROUTE_MAILBOX;
			snprintf(r->mailbox, sizeof(r->mailbox), "%s", sep + 1);
			return ROUTE_OK;
		}
	}
	/* the unified account (6) */
	if (store_domain_get(domain, &info, &found, error_r) < 0)
		return ROUTE_TEMPFAIL;
	if (found && info.unified[0] != '\0') {
		if (store_account_get(info.unified, domain, &r->account, NULL, 0,
				      &found, error_r) < 0)
			return ROUTE_TEMPFAIL;
		if (found) {
			r->rule = ROUTE_UNIFIED;
			memcpy(r->local, lower, sizeof(r->local));
			return ROUTE_OK;
		}
	}
	snprintf(errbuf, sizeof(errbuf), "no such user: %s", r->address);
	*error_r = errbuf;
	return ROUTE_UNKNOWN;
}

enum route_result router_resolve(const char *address, const char *local_ip,
				 struct route *route_r, const char **error_r)
{
	char local[LOCAL_PART_MAX + 1], dname[ACCOUNT_NAME_MAX + 1];
	const char *sep = strrchr(address, '@');
	struct domain_info info;
	enum route_result res;
	size_t llen;
	bool found;

	memset(route_r, 0, sizeof(*route_r));
	if (sep == NULL)	/* "name%domain", a login form */
		sep = strrchr(address, '%');
	llen = sep != NULL ? (size_t)(sep - address) : strlen(address);
	if (llen > LOCAL_PART_MAX) {
		*error_r = "local part longer than 64 octets";
		return ROUTE_BAD_ADDRESS;
	}
	memcpy(local, address, llen);
	local[llen] = '\0';
	if (name_local_part_check(local, error_r) < 0)
		return ROUTE_BAD_ADDRESS;

	/* the domain (1) */
	if (sep == NULL) {
		if ((res = router_default_domain(local_ip, dname, error_r)) != ROUTE_OK)
			return res;
	} else if (name_object_check(sep + 1, dname, error_r) < 0) {
		return ROUTE_BAD_ADDRESS;
	}
	/* a domain alias stands for its domain, also when main_domain names
	 * one; and a main_domain naming no domain is said so, not blamed on
	 * the user */
	if (store_domain_get(dname, &info, &found, error_r) < 0)
		return ROUTE_TEMPFAIL;
	if (!found) {
		snprintf(errbuf, sizeof(errbuf), "no such domain: %s", dname);
		*error_r = errbuf;
		return ROUTE_UNKNOWN;
	}
	return resolve_local(local, info.name, route_r, error_r);
}

enum address_kind address_route_kind(const char *address, const char **error_r)
{
	const char *at = strrchr(address, '@');
	char dname[ACCOUNT_NAME_MAX + 1];
	struct domain_info info;
	struct route r;
	bool found;

	/* another server's address follows its rules, not ours: only the
	 * domain decides whether it is ours to look into */
	if (at != NULL) {
		const char *ignored;

		if (name_object_check(at + 1, dname, &ignored) < 0)
			return ADDRESS_REMOTE;	/* not a name we could own */
		if (store_domain_get(dname, &info, &found, error_r) < 0)
			return ADDRESS_TEMPFAIL;
		if (!found)
			return ADDRESS_REMOTE;
	}
	switch (router_resolve(address, NULL, &r, error_r)) {
	case ROUTE_OK:
		return ADDRESS_LOCAL;
	case ROUTE_UNKNOWN:
		return ADDRESS_UNKNOWN;
	case ROUTE_BAD_ADDRESS:
		return ADDRESS_BAD;
	case ROUTE_TEMPFAIL:
		break;
	}
	return ADDRESS_TEMPFAIL;
}

/* admin_accounts.c - /api/domains/D/accounts and /api/accounts/A:
 * accounts, their passwords, quotas, policies, web admin rights and
 * aliases (doc/api.md). */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "admin/admin_role.h"
#include "lib/strnum.h"
#include "mail/accounts.h"
#include "mail/expire.h"
#include "mail/router.h"
#include "mail/names.h"
#include "mail/real_name.h"
#include "store/store_ops.h"

struct page {
	struct account list[500];
	size_t count;
};

static void take(const struct account *a, void *ctx)
{
	struct page *p = ctx;

	if (p->count < sizeof(p->list) / sizeof(p->list[0]))
		p->list[p->count++] = *a;
}

void admin_accounts_list(struct admin_req *r)
{
	static struct page page;	/* 130 KiB: not on the stack */
	char d[ACCOUNT_NAME_MAX + 1], q[ACCOUNT_NAME_MAX + 1] = "",
	     lower[ACCOUNT_NAME_MAX + 1] = "";
	size_t offset, limit, total;
	const char *error;
	json_t *items;

	if (!admin_domain_arg(r, 1, d))
		return;
	if (!admin_paging(r, &offset, &limit) || admin_query(r, "q", q, sizeof(q)) < 0)
		return;
	if (q[0] != '\0') {
		/* a search is a name prefix: lower case, as names are */
		for (size_t i = 0; q[i] != '\0'; i++)
			lower[i] = (char)((q[i] >= 'A' && q[i] <= 'Z') ? q[i] + 32 : q[i]);
		lower[strlen(q)] = '\0';
		if (strchr(lower, '/') != NULL) {
			admin_fail(r, 400, "q", "a search is the start of a name");
			return;
		}
	}
	page.count = 0;
	if (store_account_page(d, lower, offset, limit, take, &page, &total, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < page.count; i++) {
		struct account_info info;
		struct account a;
		bool found;
		char addr[ADDRESS_MAX + 1], real[REAL_NAME_MAX + 1];

		snprintf(addr, sizeof(addr), "%s@%s", page.list[i].name, page.list[i].domain);
		if (store_account_info(page.list[i].name, d, &a, &info, &found, &error) < 0 ||
		    !found)
			continue;
		if (real_name_get(page.list[i].domain, page.list[i].name, real, sizeof(real),
				  &error) < 0)
			real[0] = '\0';
		json_array_append_new(items, json_pack("{s:s,s:s,s:I,s:I,s:I}", "address", addr,
						       "real_name", real,
						       "quota", (json_int_t)info.quota,
						       "used", (json_int_t)info.used,
						       "messages", (json_int_t)info.messages));
	}
	admin_list(r, items, total, offset);
}

/* "500M", "1G", "1048576" or "none"/"0". */
static bool parse_quota(struct admin_req *r, const char *v, uint64_t *q_r)
{
	*q_r = 0;
	if (strcmp(v, "none") == 0 || strcmp(v, "0") == 0)
		return true;
	if (str_parse_size(v, q_r) < 0 || *q_r == 0) {
		admin_fail(r, 400, "quota", "quota: a size like 500M, 2G or 1048576, or none");
		return false;
	}
	return true;
}

void admin_accounts_add(struct admin_req *r)
{
	static const char *const fields[] = { "name", "password", "quota", "real_name", NULL };
	char d[ACCOUNT_NAME_MAX + 1], addr[ADDRESS_MAX + 2];
	const char *name, *password, *quota, *real, *error;
	struct account a;
	uint64_t q = 0;

	if (!admin_domain_arg(r, 1, d) || !admin_fields_only(r, fields) ||
	    !admin_get_str(r, "name", &name, true) ||
	    !admin_get_str(r, "password", &password, true) ||
	    !admin_get_str(r, "quota", &quota, false) ||
	    !admin_get_str(r, "real_name", &real, false))
		return;
	if (real != NULL && real_name_check(real, &error) < 0) {
		admin_fail(r, 400, "real_name", "%s", error);
		return;
	}
	if (strchr(name, '@') != NULL || strchr(name, '%') != NULL) {
		admin_fail(r, 400, "name", "the name only: the domain is %s", d);
		return;
	}
	if (quota != NULL && !parse_quota(r, quota, &q))
		return;
	snprintf(addr, sizeof(addr), "%s@%s", name, d);
	if (account_add(addr, password, &a, &error) < 0) {
		admin_fail_op(r, strstr(error, "password") ? "password" : "name", error);
		return;
	}
	if (q > 0 && account_set_quota(addr, q, &error) < 0) {
		admin_fail_op(r, "quota", error);
		return;
	}
	if (real != NULL && real_name_set(a.domain, a.name, real, &error) < 0) {
		admin_fail_op(r, "real_name", error);
		return;
	}
	snprintf(addr, sizeof(addr), "%s@%s", a.name, a.domain);
	admin_ok(r, 201, json_pack("{s:s}", "address", addr));
}

static json_t *account_json(struct admin_req *r, const struct account *acc)
{
	char addr[ADDRESS_MAX + 1], real[REAL_NAME_MAX + 1];
	struct admin_names_of aliases = { addr, true, NULL };
	struct account_info info;
	struct account a;
	enum admin_role role;
	const char *error;
	json_t *policies;
	bool found;

	snprintf(addr, sizeof(addr), "%s@%s", acc->name, acc->domain);
	if (store_account_info(acc->name, acc->domain, &a, &info, &found, &error) < 0 ||
	    !found || admin_role_get(acc->domain, acc->name, &role, &error) < 0 ||
	    real_name_get(acc->domain, acc->name, real, sizeof(real), &error) < 0) {
		admin_fail(r, found ? 503 : 404, NULL, "%s", found ? error : "no such account");
		return NULL;
	}
	aliases.list = json_array();
	if (store_alias_list(acc->domain, admin_names_of, &aliases, &error) < 0 ||
	    (policies = admin_policies_json(acc->domain, acc->name, &error)) == NULL) {
		json_decref(aliases.list);
		admin_fail(r, 503, NULL, "%s", error);
		return NULL;
	}
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:b,s:s,s:o,s:o}", "address", addr,
			 "real_name", real,
			 "quota", (json_int_t)info.quota, "used", (json_int_t)info.used,
			 "messages", (json_int_t)info.messages,
			 "admin", (info.flags & ACCOUNT_ADMIN) != 0,
			 "webadmin", admin_role_name(role), "aliases", aliases.list,
			 "policies", policies);
}

void admin_account_get(struct admin_req *r)
{
	struct account a;
	json_t *o;

	if (!admin_account_arg(r, 1, &a))
		return;
	if ((o = account_json(r, &a)) != NULL)
		admin_ok(r, 200, o);
}

void admin_account_patch(struct admin_req *r)
{
	static const char *const fields[] = { "quota", "policies", "webadmin", "admin",
					      "real_name", NULL };
	char addr[ADDRESS_MAX + 1];
	const char *quota, *webadmin, *real, *error;
	struct account a;
	enum admin_role role;
	json_t *policies, *admin, *o;
	uint64_t q = 0;

	if (!admin_account_arg(r, 1, &a) || !admin_fields_only(r, fields) ||
	    !admin_get_str(r, "quota", &quota, false) ||
	    !admin_get_str(r, "webadmin", &webadmin, false) ||
	    !admin_get_str(r, "real_name", &real, false))
		return;
	if (real != NULL && real_name_check(real, &error) < 0) {
		admin_fail(r, 400, "real_name", "%s", error);
		return;
	}
	snprintf(addr, sizeof(addr), "%s@%s", a.name, a.domain);
	if (quota != NULL && !parse_quota(r, quota, &q))
		return;
	if (webadmin != NULL) {
		if (!admin_server_only(r))
			return;
		if (admin_role_parse(webadmin, &role, &error) < 0) {
			admin_fail(r, 400, "webadmin", "%s", error);
			return;
		}
	}
	admin = r->body != NULL ? json_object_get(r->body, "admin") : NULL;
	if (admin != NULL) {
		/* acting as any user is a server admin's to give */
		if (!admin_server_only(r))
			return;
		if (!json_is_boolean(admin)) {
			admin_fail(r, 400, "admin", "'admin' must be true or false");
			return;
		}
	}
	policies = r->body != NULL ? json_object_get(r->body, "policies") : NULL;
	if (policies != NULL && !admin_policies_apply(r, policies, a.domain, a.name))
		return;
	if (admin != NULL && account_set_admin(addr, json_is_true(admin), &error) < 0) {
		admin_fail_op(r, "admin", error);
		return;
	}
	if (real != NULL && real_name_set(a.domain, a.name, real, &error) < 0) {
		admin_fail_op(r, "real_name", error);
		return;
	}
	if (quota != NULL && account_set_quota(addr, q, &error) < 0) {
		admin_fail_op(r, "quota", error);
		return;
	}
	if (webadmin != NULL && admin_role_set(a.domain, a.name, role, &error) < 0) {
		admin_fail_op(r, "webadmin", error);
		return;
	}
	if ((o = account_json(r, &a)) != NULL)
		admin_ok(r, 200, o);
}

void admin_account_del(struct admin_req *r)
{
	char addr[ADDRESS_MAX + 1];
	struct account a;
	const char *error;

	if (!admin_account_arg(r, 1, &a))
		return;
	snprintf(addr, sizeof(addr), "%s@%s", a.name, a.domain);
	if (strcmp(addr, r->who->user) == 0) {
		admin_fail(r, 409, NULL, "you cannot remove the account you are logged in as");
		return;
	}
	if (account_del(addr, &error) < 0) {
		admin_fail_op(r, NULL, error);
		return;
	}
	admin_ok(r, 204, NULL);
}

void admin_account_password(struct admin_req *r)
{
	static const char *const fields[] = { "password", NULL };
	char addr[ADDRESS_MAX + 1];
	const char *password, *error;
	struct account a;

	if (!admin_account_arg(r, 1, &a) || !admin_fields_only(r, fields) ||
	    !admin_get_str(r, "password", &password, true))
		return;
	snprintf(addr, sizeof(addr), "%s@%s", a.name, a.domain);
	if (account_passwd(addr, password, &error) < 0) {
		admin_fail_op(r, "password", error);
		return;
	}
	admin_ok(r, 204, NULL);
}

void admin_account_alias_add(struct admin_req *r)
{
	static const char *const fields[] = { "alias", NULL };
	char alias[ADDRESS_MAX + 2];
	const char *name, *error;
	struct account a;

	if (!admin_account_arg(r, 1, &a) || !admin_fields_only(r, fields) ||
	    !admin_get_str(r, "alias", &name, true))
		return;
	if (strchr(name, '@') != NULL) {
		admin_fail(r, 400, "alias", "the alias's name only: it is in %s", a.domain);
		return;
	}
	snprintf(alias, sizeof(alias), "%s@%s", name, a.domain);
	if (alias_add(alias, a.name, &error) < 0) {
		admin_fail_op(r, "alias", error);
		return;
	}
	admin_lower(alias);	/* the name as stored */
	admin_ok(r, 201, json_pack("{s:s}", "alias", alias));
}

void admin_account_alias_del(struct admin_req *r)
{
	char alias[ADDRESS_MAX + 2], addr[ADDRESS_MAX + 1], target[ACCOUNT_NAME_MAX + 1];
	char lower[ACCOUNT_NAME_MAX + 1];
	struct account a;
	const char *error;
	bool found;

	if (!admin_account_arg(r, 1, &a))
		return;
	if (name_object_check(r->seg[3], lower, &error) < 0) {
		admin_fail(r, 400, NULL, "%s", error);
		return;
	}
	/* only an alias of this account */
	if (store_alias_get(lower, a.domain, target, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	snprintf(addr, sizeof(addr), "%s@%s", a.name, a.domain);
	if (!found || strcmp(target, a.name) != 0) {
		admin_fail(r, 404, NULL, "no such alias of %s: %s", addr, lower);
		return;
	}
	snprintf(alias, sizeof(alias), "%s@%s", lower, a.domain);
	if (alias_del(alias, &error) < 0) {
		admin_fail_op(r, NULL, error);
		return;
	}
	admin_ok(r, 204, NULL);
}

/* What pop_expire lets go, now, as posternctl expire ADDRESS does. */
void admin_account_expire(struct admin_req *r)
{
	struct account a;
	const char *error;
	size_t removed;
	int days;

	if (!admin_account_arg(r, 1, &a))
		return;
	if (account_expire(&a, (uint64_t)time(NULL), &removed, &days, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	admin_ok(r, 200, days < 0 ? json_pack("{s:I,s:n}", "removed", (json_int_t)removed, "days") :
		 json_pack("{s:I,s:i}", "removed", (json_int_t)removed, "days", days));
}

struct expire_tally {
	size_t failed;
	char first_error[ADDRESS_MAX + 400];
};

static void expire_told(const struct account *a, size_t removed, int days,
			const char *error, void *ctx)
{
	struct expire_tally *t = ctx;

	(void)removed;
	(void)days;
	if (error != NULL && t->failed++ == 0)
		snprintf(t->first_error, sizeof(t->first_error), "%s@%s: %s",
			 a->name, a->domain, error);
}

/* posternctl expire [DOMAIN]: every account of the server (POST
 * /api/expire, a server admin's) or of one domain. */
static void expire_many(struct admin_req *r, const char *domain)
{
	struct expire_tally t = { 0, "" };
	size_t accounts, messages;
	const char *error;

	if (expire_accounts(domain, (uint64_t)time(NULL), expire_told, &t,
			    &accounts, &messages, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	if (t.failed > 0) {
		admin_fail(r, 503, NULL, "%zu account%s could not be expired (%s); %zu messages removed from the others",
			   t.failed, t.failed == 1 ? "" : "s", t.first_error, messages);
		return;
	}
	admin_ok(r, 200, json_pack("{s:I,s:I}", "removed", (json_int_t)messages,
				   "accounts", (json_int_t)accounts));
}

void admin_expire_all(struct admin_req *r)
{
	if (admin_server_only(r))
		expire_many(r, NULL);
}

void admin_domain_expire(struct admin_req *r)
{
	char domain[ACCOUNT_NAME_MAX + 1];

	if (admin_domain_arg(r, 1, domain))
		expire_many(r, domain);
}

/* What the Router makes of an address or login name (posternctl route). */
void admin_route_get(struct admin_req *r)
{
	char address[ADDRESS_MAX + 1], local_ip[64], account[ADDRESS_MAX + 1];
	struct route rt;
	const char *error;
	int got;

	if ((got = admin_query(r, "address", address, sizeof(address))) < 0 ||
	    admin_query(r, "local_ip", local_ip, sizeof(local_ip)) < 0)
		return;
	if (got == 0 || address[0] == '\0') {
		admin_fail(r, 400, "address", "give ?address=name@domain");
		return;
	}
	switch (router_resolve(address, local_ip[0] ? local_ip : NULL, &rt, &error)) {
	case ROUTE_OK:
		break;
	case ROUTE_UNKNOWN:
		admin_fail(r, 404, NULL, "%s", error);
		return;
	case ROUTE_BAD_ADDRESS:
		admin_fail(r, 400, "address", "%s", error);
		return;
	case ROUTE_TEMPFAIL:
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	/* a domain admin learns only of their own domain's accounts */
	if (!admin_may_domain(r, rt.account.domain))
		return;
	snprintf(account, sizeof(account), "%s@%s", rt.account.name, rt.account.domain);
	admin_ok(r, 200, json_pack("{s:s,s:s,s:s,s:s}", "account", account, "rule",
				   route_rule_name(rt.rule), "address", rt.address, "mailbox",
				   rt.mailbox));
}

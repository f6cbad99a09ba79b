/* admin_domains.c - /api/domains: domains, their aliases, bound addresses,
 * unified account and policies (doc/api.md). */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "mail/accounts.h"
#include "mail/names.h"
#include "store/store_ops.h"

struct names {
	char (*list)[ACCOUNT_NAME_MAX + 1];
	size_t count, alloc;
};

static void add_name(const char *name, void *ctx)
{
	struct names *n = ctx;

	if (n->count == n->alloc) {
		n->alloc = n->alloc ? n->alloc * 2 : 16;
		n->list = realloc(n->list, n->alloc * sizeof(*n->list));
		if (n->list == NULL) {
			n->count = n->alloc = 0;
			return;
		}
	}
	snprintf(n->list[n->count++], sizeof(n->list[0]), "%s", name);
}

/* ?q=: a name prefix, lower case into buf; false (400 written) when bad. */
static bool prefix_arg(struct admin_req *r, char *buf, size_t size)
{
	if (admin_query(r, "q", buf, size) < 0)
		return false;
	for (char *p = buf; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
		else if (*p == '/') {
			admin_fail(r, 400, "q", "a search is the start of a name");
			return false;
		}
	}
	return true;
}

void admin_domains_list(struct admin_req *r)
{
	char q[ACCOUNT_NAME_MAX + 1];
	struct names n = { NULL, 0, 0 };
	size_t offset, limit, total = 0;
	const char *error;
	json_t *items;

	if (!admin_paging(r, &offset, &limit) || !prefix_arg(r, q, sizeof(q)))
		return;
	if (store_domain_list(add_name, &n, &error) < 0) {
		free(n.list);
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < n.count; i++) {
		size_t accounts = 0;

		if ((r->who->role != ADMIN_ROLE_SERVER &&
		     strcmp(n.list[i], r->who->domain) != 0) ||
		    strncmp(n.list[i], q, strlen(q)) != 0)
			continue;
		/* the accounts are counted for the page shown only */
		if (total++ < offset || json_array_size(items) >= limit)
			continue;
		(void)store_account_page(n.list[i], "", 0, 0, NULL, NULL, &accounts, &error);
		json_array_append_new(items, json_pack("{s:s,s:I}", "name", n.list[i],
						       "accounts", (json_int_t)accounts));
	}
	free(n.list);
	admin_list(r, items, total, offset);
}

void admin_domains_add(struct admin_req *r)
{
	static const char *const fields[] = { "name", NULL };
	char lower[ACCOUNT_NAME_MAX + 1];
	const char *name, *error;

	if (!admin_server_only(r) || !admin_fields_only(r, fields) ||
	    !admin_get_str(r, "name", &name, true))
		return;
	if (name_domain_check(name, lower, &error) < 0) {
		admin_fail(r, 400, "name", "%s", error);
		return;
	}
	if (domain_add(lower, &error) < 0) {
		admin_fail_op(r, "name", error);
		return;
	}
	admin_ok(r, 201, json_pack("{s:s}", "name", lower));
}

static json_t *domain_json(struct admin_req *r, const char *name)
{
	struct admin_names_of aliases = { name, false, json_array() };
	struct admin_names_of bound = { name, false, json_array() };
	struct domain_info info;
	const char *error;
	json_t *policies;
	bool found;

	if (store_domain_get(name, &info, &found, &error) < 0 || !found ||
	    store_domain_alias_list(name, admin_names_of, &aliases, &error) < 0 ||
	    store_binding_list(admin_names_of, &bound, &error) < 0 ||
	    (policies = admin_policies_json(name, "", &error)) == NULL) {
		json_decref(aliases.list);
		json_decref(bound.list);
		admin_fail(r, found ? 503 : 404, NULL, "%s", found ? error : "the domain went away");
		return NULL;
	}
	return json_pack("{s:s,s:s,s:o,s:o,s:o}", "name", info.name,
			 "unified_account", info.unified, "aliases", aliases.list,
			 "bound", bound.list, "policies", policies);
}

void admin_domain_get(struct admin_req *r)
{
	char d[ACCOUNT_NAME_MAX + 1];
	json_t *o;

	if (!admin_domain_arg(r, 1, d))
		return;
	if ((o = domain_json(r, d)) != NULL)
		admin_ok(r, 200, o);
}

void admin_domain_patch(struct admin_req *r)
{
	static const char *const fields[] = { "unified_account", "policies", NULL };
	char d[ACCOUNT_NAME_MAX + 1];
	const char *unified, *error;
	json_t *policies, *o;

	if (!admin_domain_arg(r, 1, d) || !admin_fields_only(r, fields) ||
	    !admin_get_str(r, "unified_account", &unified, false))
		return;
	policies = r->body != NULL ? json_object_get(r->body, "policies") : NULL;
	if (policies != NULL && !admin_policies_apply(r, policies, d, ""))
		return;
	if (unified != NULL && domain_set_unified(d, unified, &error) < 0) {
		admin_fail_op(r, "unified_account", error);
		return;
	}
	if ((o = domain_json(r, d)) != NULL)
		admin_ok(r, 200, o);
}

void admin_domain_del(struct admin_req *r)
{
	char d[ACCOUNT_NAME_MAX + 1];
	const char *error;

	if (!admin_server_only(r) || !admin_domain_arg(r, 1, d))
		return;
	if (domain_del(d, &error) < 0) {
		admin_fail_op(r, NULL, error);
		return;
	}
	admin_ok(r, 204, NULL);
}

void admin_domain_alias_add(struct admin_req *r)
{
	static const char *const fields[] = { "alias", NULL };
	char d[ACCOUNT_NAME_MAX + 1], lower[ACCOUNT_NAME_MAX + 1];
	const char *alias, *error;

	if (!admin_domain_arg(r, 1, d) || !admin_fields_only(r, fields) ||
	    !admin_get_str(r, "alias", &alias, true))
		return;
	if (domain_alias_add(alias, d, &error) < 0) {
		admin_fail_op(r, "alias", error);
		return;
	}
	snprintf(lower, sizeof(lower), "%s", alias);
	admin_lower(lower);	/* the name as stored */
	admin_ok(r, 201, json_pack("{s:s}", "alias", lower));
}

void admin_domain_alias_del(struct admin_req *r)
{
	char d[ACCOUNT_NAME_MAX + 1], lower[ACCOUNT_NAME_MAX + 1];
	struct domain_info info;
	const char *error;
	bool found;

	if (!admin_domain_arg(r, 1, d))
		return;
	if (name_object_check(r->seg[3], lower, &error) < 0) {
		admin_fail(r, 400, NULL, "%s", error);
		return;
	}
	/* only an alias of this domain */
	if (store_domain_get(lower, &info, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	if (!found || strcmp(info.name, d) != 0 || strcmp(lower, d) == 0) {
		admin_fail(r, 404, NULL, "no such domain alias of %s: %s", d, lower);
		return;
	}
	if (domain_alias_del(lower, &error) < 0) {
		admin_fail_op(r, NULL, error);
		return;
	}
	admin_ok(r, 204, NULL);
}

void admin_domain_bind(struct admin_req *r)
{
	static const char *const fields[] = { "address", NULL };
	char d[ACCOUNT_NAME_MAX + 1], canonical[IP_TEXT_MAX];
	const char *address, *error;

	if (!admin_server_only(r) || !admin_domain_arg(r, 1, d) ||
	    !admin_fields_only(r, fields) || !admin_get_str(r, "address", &address, true))
		return;
	if (domain_bind(d, address, canonical, &error) < 0) {
		admin_fail_op(r, "address", error);
		return;
	}
	admin_ok(r, 201, json_pack("{s:s}", "address", canonical));
}

void admin_domain_unbind(struct admin_req *r)
{
	char d[ACCOUNT_NAME_MAX + 1], canonical[IP_TEXT_MAX], bound[ACCOUNT_NAME_MAX + 1];
	const char *error;
	bool found;

	if (!admin_server_only(r) || !admin_domain_arg(r, 1, d))
		return;
	if (name_ip_canonical(r->seg[3], canonical, &error) < 0) {
		admin_fail(r, 400, NULL, "%s", error);
		return;
	}
	if (store_binding_get(canonical, bound, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	if (!found || strcmp(bound, d) != 0) {
		admin_fail(r, 404, NULL, "%s is not bound to %s", canonical, d);
		return;
	}
	if (domain_unbind(canonical, canonical, &error) < 0) {
		admin_fail_op(r, NULL, error);
		return;
	}
	admin_ok(r, 204, NULL);
}

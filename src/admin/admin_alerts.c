/* admin_alerts.c - /api/alerts: what users are told at their next login
 * (store/store_alerts.h), as posternctl alert does.  A domain admin sees,
 * posts and removes the alerts of their domain and its accounts only. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "lib/strnum.h"
#include "mail/accounts.h"
#include "mail/names.h"
#include "store/store_alerts.h"
#include "store/store_ops.h"

static const char *scope_name(enum alert_scope scope)
{
	return scope == ALERT_SERVER ? "server" : scope == ALERT_DOMAIN ? "domain" :
	       "account";
}

struct filter {
	const char *domain;	/* "" for any */
	const char *account;	/* "" for any */
	json_t *items;
};

static void add_alert(const struct alert *a, void *ctx)
{
	struct filter *f = ctx;
	char addr[ADDRESS_MAX + 1] = "";

	if ((f->domain[0] != '\0' && strcmp(a->domain, f->domain) != 0) ||
	    (f->account[0] != '\0' && strcmp(a->account, f->account) != 0))
		return;
	if (a->scope == ALERT_ACCOUNT)
		snprintf(addr, sizeof(addr), "%s@%s", a->account, a->domain);
	json_array_append_new(f->items, json_pack("{s:I,s:I,s:s,s:s,s:s,s:s}",
						  "id", (json_int_t)a->id,
						  "posted", (json_int_t)a->created,
						  "scope", scope_name(a->scope),
						  "domain", a->domain, "account", addr,
						  "text", a->text));
}

/* ?domain= and ?account= (or the body's fields): checked, lower case,
 * existing, and within the caller's domain. */
static bool target(struct admin_req *r, const char *domain_in,
		   const char *account_in, char *domain, char *account)
{
	const char *error;
	bool found;

	domain[0] = account[0] = '\0';
	if (account_in != NULL && account_in[0] != '\0') {
		struct account a;

		if (account_resolve(account_in, NULL, account, domain, &error) < 0) {
			admin_fail(r, 400, "account", "%s", error);
			return false;
		}
		if (domain_in != NULL && domain_in[0] != '\0' &&
		    strcmp(domain_in, domain) != 0) {
			admin_fail(r, 400, "domain", "the account is of %s: give one or the other",
				   domain);
			return false;
		}
		if (store_account_get(account, domain, &a, NULL, 0, &found, &error) < 0) {
			admin_fail(r, 503, NULL, "%s", error);
			return false;
		}
		if (!found) {
			admin_fail(r, 404, "account", "no such account: %s@%s", account, domain);
			return false;
		}
	} else if (domain_in != NULL && domain_in[0] != '\0') {
		if (name_object_check(domain_in, domain, &error) < 0) {
			admin_fail(r, 400, "domain", "%s", error);
			return false;
		}
		if (store_domain_exists(domain, &found, &error) < 0) {
			admin_fail(r, 503, NULL, "%s", error);
			return false;
		}
		if (!found) {
			admin_fail(r, 404, "domain", "no such domain: %s", domain);
			return false;
		}
	} else if (r->who->role == ADMIN_ROLE_DOMAIN) {
		/* a domain admin's alerts are their domain's */
		snprintf(domain, ACCOUNT_NAME_MAX + 1, "%s", r->who->domain);
	}
	return domain[0] == '\0' ? admin_server_only(r) : admin_may_domain(r, domain);
}

void admin_alerts_list(struct admin_req *r)
{
	char qd[ACCOUNT_NAME_MAX + 1] = "", qa[ADDRESS_MAX + 1] = "",
	     domain[ACCOUNT_NAME_MAX + 1], account[ACCOUNT_NAME_MAX + 1];
	struct filter f;
	const char *error;

	if (admin_query(r, "domain", qd, sizeof(qd)) < 0 ||
	    admin_query(r, "account", qa, sizeof(qa)) < 0 ||
	    !target(r, qd, qa, domain, account))
		return;
	f.domain = domain;
	f.account = account;
	f.items = json_array();
	if (store_alert_list(-1, "", "", add_alert, &f, &error) < 0) {
		json_decref(f.items);
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	admin_list(r, f.items, json_array_size(f.items), 0);
}

void admin_alerts_add(struct admin_req *r)
{
	static const char *const fields[] = { "text", "domain", "account", NULL };
	char domain[ACCOUNT_NAME_MAX + 1], account[ACCOUNT_NAME_MAX + 1];
	const char *text, *d, *a, *error;
	enum alert_scope scope;
	uint64_t id;

	if (!admin_fields_only(r, fields) || !admin_get_str(r, "text", &text, true) ||
	    !admin_get_str(r, "domain", &d, false) ||
	    !admin_get_str(r, "account", &a, false) || !target(r, d, a, domain, account))
		return;
	scope = account[0] != '\0' ? ALERT_ACCOUNT :
		domain[0] != '\0' ? ALERT_DOMAIN : ALERT_SERVER;
	if (store_alert_post(scope, domain, account, text, &id, &error) < 0) {
		admin_fail_op(r, "text", error);
		return;
	}
	admin_ok(r, 201, json_pack("{s:I}", "id", (json_int_t)id));
}

struct find {
	uint64_t id;
	bool found;
	struct alert alert;
};

static void find_alert(const struct alert *a, void *ctx)
{
	struct find *f = ctx;

	if (a->id == f->id) {
		f->alert = *a;
		f->found = true;
	}
}

void admin_alert_del(struct admin_req *r)
{
	struct find f = { .found = false };
	const char *error;
	bool found;

	if (str_to_uint64(r->seg[1], &f.id) < 0 || f.id == 0) {
		admin_fail(r, 400, NULL, "'%.40s' is not an alert id (a number from the list)",
			   r->seg[1]);
		return;
	}
	if (store_alert_list(-1, "", "", find_alert, &f, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	if (!f.found) {
		admin_fail(r, 404, NULL, "no such alert: %llu", (unsigned long long)f.id);
		return;
	}
	if (f.alert.scope == ALERT_SERVER ? !admin_server_only(r) :
	    !admin_may_domain(r, f.alert.domain))
		return;
	if (store_alert_del(f.id, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	if (!found)
		admin_fail(r, 404, NULL, "no such alert: %llu", (unsigned long long)f.id);
	else
		admin_ok(r, 204, NULL);
}

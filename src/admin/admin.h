/* admin.h - the web admin's operations inside the host (module API
 * admin_request): one JSON request in, one JSON answer out, on the same
 * functions posternctl calls (mail/accounts.c, the store, mail/policy.c),
 * so the two always agree.  doc/api.md is the contract. */
#ifndef PN_ADMIN_H
#define PN_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "postern/module.h"

#define ADMIN_SEGMENTS_MAX 8
#define ADMIN_SEGMENT_MAX 512

struct admin_req {
	const struct admin_who *who;
	const char *method;
	/* the path after "/api/", split at '/' and URL-decoded */
	char seg[ADMIN_SEGMENTS_MAX][ADMIN_SEGMENT_MAX + 1];
	size_t nseg;
	const char *query;	/* "a=1&b=2" or "" */
	json_t *body;		/* the request body, an object, or NULL */
	/* the answer */
	int status;
	json_t *answer;
	bool changed;		/* a change: logged with who made it */
};

typedef void admin_handler(struct admin_req *r);

/* Answers. */
void admin_ok(struct admin_req *r, int status, json_t *answer);
void admin_fail(struct admin_req *r, int status, const char *field,
		const char *fmt, ...) PN_PRINTF(4, 5);
/* The reason an operation gave, with the status its kind calls for: 404
 * "no such ...", 409 "already exists" and the like, 503 store and disk
 * faults, 400 everything else (names, values). */
void admin_fail_op(struct admin_req *r, const char *field, const char *error);

/* May the caller administer this domain (a domain admin only their own)?
 * Writes 403 and returns false when not. */
bool admin_may_domain(struct admin_req *r, const char *domain);
bool admin_server_only(struct admin_req *r);
/* Path segment i as an existing domain (lower case into buf,
 * ACCOUNT_NAME_MAX + 1) or account ("name@domain") the caller may
 * administer; 400, 404 or 403 written and false when not. */
bool admin_domain_arg(struct admin_req *r, size_t i, char *buf);
bool admin_account_arg(struct admin_req *r, size_t i, struct account *a);

/* The body's fields: each known one of `fields` (NULL-terminated), and
 * no other (400 naming the first unknown one).  get_str: the string
 * field, or NULL when absent (400 when it is not a string). */
bool admin_fields_only(struct admin_req *r, const char *const *fields);
bool admin_get_str(struct admin_req *r, const char *field, const char **value_r,
		   bool required);
/* A query parameter, decoded, into buf: 1, 0 when absent, -1 (400 written,
 * naming it) when it is too long for buf or badly encoded. */
int admin_query(struct admin_req *r, const char *name, char *buf, size_t size);
/* ?offset=&limit= (limit 1 to 500, default 100); false (400 written) when
 * they are not numbers. */
bool admin_paging(struct admin_req *r, size_t *offset_r, size_t *limit_r);

/* ASCII letters of s to lower case, as names are stored. */
void admin_lower(char *s);

/* A list's answer, 200 {"items", "total", "offset"} (items taken). */
void admin_list(struct admin_req *r, json_t *items, size_t total, size_t offset);

/* A store pair callback (name, owner) that collects the names of one
 * owner: aliases of a domain or an account, a domain's bound addresses.
 * local_part: "info@example.com" is collected as "info". */
struct admin_names_of {
	const char *owner;
	bool local_part;
	json_t *list;
};
void admin_names_of(const char *name, const char *owner, void *ctx);

/* The policies of a level as {"name": {"value", "from"}}. */
json_t *admin_policies_json(const char *domain, const char *account,
			    const char **error_r);
/* {"policies": {"name": "value"}} of a PATCH, set at one level. */
bool admin_policies_apply(struct admin_req *r, json_t *policies,
			  const char *domain, const char *account);

/* The handlers (one file each area). */
admin_handler admin_domains_list, admin_domains_add, admin_domain_get,
	admin_domain_patch, admin_domain_del, admin_domain_alias_add,
	admin_domain_alias_del, admin_domain_bind, admin_domain_unbind;
admin_handler admin_accounts_list, admin_accounts_add, admin_account_get,
	admin_account_patch, admin_account_del, admin_account_password,
	admin_account_alias_add, admin_account_alias_del, admin_account_expire,
	admin_domain_expire, admin_expire_all,
	admin_route_get;
admin_handler admin_mailboxes_list, admin_mailboxes_add, admin_mailbox_patch,
	admin_mailbox_del, admin_messages_list, admin_acl_list, admin_acl_put,
	admin_acl_del;
admin_handler admin_alerts_list, admin_alerts_add, admin_alert_del;
admin_handler admin_status_get, admin_log_get, admin_server_get,
	admin_server_patch, admin_settings_get, admin_settings_patch;
admin_handler admin_retrievals_list, admin_retrievals_add, admin_retrieval_get,
	admin_retrieval_patch, admin_retrieval_del, admin_retrieval_run;
admin_handler admin_queue_list, admin_queue_get, admin_queue_retry,
	admin_queue_flush, admin_queue_del;

#endif

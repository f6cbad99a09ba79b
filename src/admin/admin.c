/* admin.c - the web admin's request router and its shared helpers
 * (admin.h).  Every request: the path split and decoded, the body parsed,
 * the route found by method and path shape, the caller's rights checked by
 * the handler, the answer serialised; changes logged with their author. */
#include "build-config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "lib/log.h"
#include "lib/strnum.h"
#include "mail/accounts.h"
#include "mail/names.h"
#include "mail/policy.h"
#include "store/store_ops.h"
#include "store/store_settings.h"

struct route {
	const char *method;
	const char *pattern;	/* segments; "*" matches one */
	admin_handler *fn;
};

static const struct route routes[] = {
	{ "GET", "status", admin_status_get },
	{ "GET", "log", admin_log_get },
	{ "GET", "server", admin_server_get },
	{ "PATCH", "server", admin_server_patch },
	{ "GET", "settings", admin_settings_get },
	{ "PATCH", "settings", admin_settings_patch },
	{ "GET", "domains", admin_domains_list },
	{ "POST", "domains", admin_domains_add },
	{ "GET", "domains/*", admin_domain_get },
	{ "PATCH", "domains/*", admin_domain_patch },
	{ "DELETE", "domains/*", admin_domain_del },
	{ "POST", "domains/*/aliases", admin_domain_alias_add },
	{ "DELETE", "domains/*/aliases/*", admin_domain_alias_del },
	{ "POST", "domains/*/bound", admin_domain_bind },
	{ "DELETE", "domains/*/bound/*", admin_domain_unbind },
	{ "GET", "domains/*/accounts", admin_accounts_list },
	{ "POST", "domains/*/accounts", admin_accounts_add },
	{ "GET", "accounts/*", admin_account_get },
	{ "PATCH", "accounts/*", admin_account_patch },
	{ "DELETE", "accounts/*", admin_account_del },
	{ "POST", "accounts/*/password", admin_account_password },
	{ "POST", "accounts/*/aliases", admin_account_alias_add },
	{ "DELETE", "accounts/*/aliases/*", admin_account_alias_del },
	{ "GET", "accounts/*/mailboxes", admin_mailboxes_list },
	{ "POST", "accounts/*/mailboxes", admin_mailboxes_add },
	{ "PATCH", "accounts/*/mailboxes/*", admin_mailbox_patch },
	{ "DELETE", "accounts/*/mailboxes/*", admin_mailbox_del },
	{ "GET", "accounts/*/mailboxes/*/messages", admin_messages_list },
	{ "POST", "accounts/*/expire", admin_account_expire },
	{ "POST", "domains/*/expire", admin_domain_expire },
	{ "POST", "expire", admin_expire_all },
	{ "GET", "accounts/*/retrievals", admin_retrievals_list },
	{ "POST", "accounts/*/retrievals", admin_retrievals_add },
	{ "GET", "accounts/*/retrievals/*", admin_retrieval_get },
	{ "PATCH", "accounts/*/retrievals/*", admin_retrieval_patch },
	{ "DELETE", "accounts/*/retrievals/*", admin_retrieval_del },
	{ "POST", "accounts/*/retrievals/*/run", admin_retrieval_run },
	{ "GET", "route", admin_route_get },
	{ "GET", "accounts/*/mailboxes/*/acl", admin_acl_list },
	{ "PUT", "accounts/*/mailboxes/*/acl/*", admin_acl_put },
	{ "DELETE", "accounts/*/mailboxes/*/acl/*", admin_acl_del },
	{ "GET", "alerts", admin_alerts_list },
	{ "POST", "alerts", admin_alerts_add },
	{ "DELETE", "alerts/*", admin_alert_del },
	{ "GET", "queue", admin_queue_list },
	{ "POST", "queue/flush", admin_queue_flush },
	{ "GET", "queue/*", admin_queue_get },
	{ "POST", "queue/*/retry", admin_queue_retry },
	{ "DELETE", "queue/*", admin_queue_del },
	{ NULL, NULL, NULL }
};

void admin_ok(struct admin_req *r, int status, json_t *answer)
{
	r->status = status;
	json_decref(r->answer);
	r->answer = answer;
}

void admin_fail(struct admin_req *r, int status, const char *field,
		const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	o = json_pack("{s:s}", "error", text);
	if (field != NULL)
		json_object_set_new(o, "field", json_string(field));
	admin_ok(r, status, o);
}

void admin_fail_op(struct admin_req *r, const char *field, const char *error)
{
	static const char *const conflict[] = {
		"already exists", "still has", "is an account", "is a domain",
		"is an alias", "cannot be removed", "cannot be renamed", NULL
	};
	int status = 400;

	if (strncmp(error, "no such", 7) == 0 || strncmp(error, "no mailbox", 10) == 0 ||
	    strncmp(error, "no ACL entry", 12) == 0)
		status = 404;
	for (int i = 0; status == 400 && conflict[i] != NULL; i++) {
		if (strstr(error, conflict[i]) != NULL)
			status = 409;
	}
	/* after the conflicts: "cannot rename a to b: mailbox b already
	 * exists" is no store fault, nor is a rename the names forbid */
	if (status == 400 && (strncmp(error, "store:", 6) == 0 ||
			      strncmp(error, "cannot ", 7) == 0) &&
	    strstr(error, "would get a name longer") == NULL &&
	    strstr(error, "into its own sub-mailbox") == NULL)
		status = 503;
	admin_fail(r, status, status == 400 ? field : NULL, "%s", error);
}

bool admin_server_only(struct admin_req *r)
{
	if (r->who->role == ADMIN_ROLE_SERVER)
		return true;
	admin_fail(r, 403, NULL, "only a server admin may do this");
	return false;
}

bool admin_may_domain(struct admin_req *r, const char *domain)
{
	if (r->who->role == ADMIN_ROLE_SERVER ||
	    (r->who->role == ADMIN_ROLE_DOMAIN && strcmp(r->who->domain, domain) == 0))
		return true;
	admin_fail(r, 403, NULL, "you administer %s only", r->who->domain);
	return false;
}

bool admin_domain_arg(struct admin_req *r, size_t i, char *buf)
{
	struct domain_info info;
	const char *error;
	bool found;

	if (name_object_check(r->seg[i], buf, &error) < 0) {
		admin_fail(r, 400, NULL, "%s", error);
		return false;
	}
	if (store_domain_get(buf, &info, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return false;
	}
	/* an alias's name is not the domain's: the API names domains */
	if (!found || strcmp(info.name, buf) != 0) {
		admin_fail(r, 404, NULL, "no such domain: %s", buf);
		return false;
	}
	return admin_may_domain(r, buf);
}

bool admin_account_arg(struct admin_req *r, size_t i, struct account *a)
{
	const char *error;

	if (strchr(r->seg[i], '@') == NULL) {
		admin_fail(r, 400, NULL, "name the account with its domain: name@domain");
		return false;
	}
	if (account_find(r->seg[i], a, &error) < 0) {
		admin_fail_op(r, NULL, error);
		return false;
	}
	return admin_may_domain(r, a->domain);
}

bool admin_fields_only(struct admin_req *r, const char *const *fields)
{
	const char *key;
	json_t *value;

	if (r->body == NULL)
		return true;
	json_object_foreach(r->body, key, value) {
		bool known = false;

		for (const char *const *f = fields; *f != NULL && !known; f++)
			known = strcmp(*f, key) == 0;
		if (!known) {
			admin_fail(r, 400, key, "unknown field '%.60s'", key);
			return false;
		}
	}
	return true;
}

bool admin_get_str(struct admin_req *r, const char *field, const char **value_r,
		   bool required)
{
	json_t *v = r->body != NULL ? json_object_get(r->body, field) : NULL;

	*value_r = NULL;
	if (v == NULL) {
		if (required)
			admin_fail(r, 400, field, "'%s' is missing", field);
		return !required;
	}
	if (!json_is_string(v)) {
		admin_fail(r, 400, field, "'%s' must be a string", field);
		return false;
	}
	*value_r = json_string_value(v);
	return true;
}

void admin_lower(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* URL-decode in[0..len) into out (size); -1 on a bad escape, a NUL or
 * no room. */
static int url_decode(const char *in, size_t len, char *out, size_t size,
		      bool plus_is_space)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int ch = (unsigned char)in[i];

		if (ch == '%') {
			int hi, lo;

			if (i + 2 >= len || (hi = hexval(in[i + 1])) < 0 ||
			    (lo = hexval(in[i + 2])) < 0)
				return -1;
			ch = hi * 16 + lo;
			i += 2;
		} else if (ch == '+' && plus_is_space) {
			ch = ' ';
		}
		if (ch == 0 || o + 1 >= size)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return 0;
}

int admin_query(struct admin_req *r, const char *name, char *buf, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = r->query;

	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			if (url_decode(p + nlen + 1, len - nlen - 1, buf, size, true) == 0)
				return 1;
			admin_fail(r, 400, name, "%s: badly encoded or longer than %zu octets",
				   name, size - 1);
			return -1;
		}
		p = amp ? amp + 1 : NULL;
	}
	buf[0] = '\0';
	return 0;
}

bool admin_paging(struct admin_req *r, size_t *offset_r, size_t *limit_r)
{
	char buf[32];
	uint64_t n;
	int got;

	*offset_r = 0;
	*limit_r = 100;
	if ((got = admin_query(r, "offset", buf, sizeof(buf))) < 0)
		return false;
	if (got > 0) {
		if (str_to_uint64(buf, &n) < 0 || n > 100000000) {
			admin_fail(r, 400, "offset", "offset: a number, where the page starts");
			return false;
		}
		*offset_r = (size_t)n;
	}
	if ((got = admin_query(r, "limit", buf, sizeof(buf))) < 0)
		return false;
	if (got > 0) {
		if (str_to_uint64(buf, &n) < 0 || n == 0 || n > 500) {
			admin_fail(r, 400, "limit", "limit: a number from 1 to 500");
			return false;
		}
		*limit_r = (size_t)n;
	}
	return true;
}

void admin_list(struct admin_req *r, json_t *items, size_t total, size_t offset)
{
	admin_ok(r, 200, json_pack("{s:o,s:I,s:I}", "items", items, "total",
				   (json_int_t)total, "offset", (json_int_t)offset));
}

void admin_names_of(const char *name, const char *owner, void *ctx)
{
	struct admin_names_of *c = ctx;
	const char *at = c->local_part ? strchr(name, '@') : NULL;

	if (strcmp(owner, c->owner) != 0)
		return;
	json_array_append_new(c->list, at != NULL ? json_stringn(name, (size_t)(at - name)) :
			      json_string(name));
}

struct own_ctx {
	enum setting_level level;
	json_t *o;
};

/* What this level itself sets (the rest is inherited or refused above). */
static void own_setting(enum setting_level level, const char *key,
			const char *value, void *vctx)
{
	struct own_ctx *c = vctx;
	json_t *entry = json_object_get(c->o, key);

	if (level == c->level && entry != NULL)
		json_object_set_new(entry, "set", json_string(value));
}

json_t *admin_policies_json(const char *domain, const char *account,
			    const char **error_r)
{
	struct own_ctx c;
	struct policy p;

	if (policy_load(domain, account, &p, error_r) < 0)
		return NULL;
	c.level = domain[0] == '\0' ? SETTING_SERVER :
		  account[0] == '\0' ? SETTING_DOMAIN : SETTING_ACCOUNT;
	c.o = json_object();
	for (int i = 0; i < POLICY_COUNT; i++)
		json_object_set_new(c.o, policy_name((enum policy_id)i),
				    json_pack("{s:s,s:s,s:n}", "value", p.value[i], "from",
					      policy_source_name(p.from[i]), "set"));
	if (store_settings_for(domain, account, own_setting, &c, error_r) < 0) {
		json_decref(c.o);
		return NULL;
	}
	return c.o;
}

bool admin_policies_apply(struct admin_req *r, json_t *policies,
			  const char *domain, const char *account)
{
	const char *key, *error;
	json_t *value;
	enum policy_id id;

	if (!json_is_object(policies)) {
		admin_fail(r, 400, "policies", "'policies' must be an object of name: value");
		return false;
	}
	/* every value checked before any is set: all or nothing */
	json_object_foreach(policies, key, value) {
		if (!json_is_string(value)) {
			admin_fail(r, 400, key, "policy %.60s: the value must be a string", key);
			return false;
		}
		if (policy_find(key, &id, &error) < 0) {
			admin_fail(r, 400, key, "%s", error);
			return false;
		}
		if (json_string_value(value)[0] != '\0' &&
		    policy_check(id, json_string_value(value), &error) < 0) {
			admin_fail(r, 400, key, "%s", error);
			return false;
		}
	}
	json_object_foreach(policies, key, value) {
		if (policy_set(domain, account, key, json_string_value(value), &error) < 0) {
			admin_fail_op(r, key, error);
			return false;
		}
	}
	return true;
}

/* Split "a/b%2Fc" into decoded segments. */
static bool split_path(struct admin_req *r, const char *path)
{
	const char *p = path;

	r->nseg = 0;
	while (*p == '/')
		p++;
	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (r->nseg == ADMIN_SEGMENTS_MAX || len == 0 ||
		    url_decode(p, len, r->seg[r->nseg], sizeof(r->seg[0]), false) < 0)
			return false;
		r->nseg++;
		p += len;
		if (*p == '/')
			p++;
	}
	return true;
}

/* -1 when pattern does not match the path, else how many of its
 * segments are words rather than "*": the path's own routes are those
 * of the most words (queue/flush is not a queue entry's id). */
static int matches(const char *pattern, const struct admin_req *r)
{
	char buf[128];
	size_t n = 0;
	int words = 0;

	snprintf(buf, sizeof(buf), "%s", pattern);
	for (char *tok = strtok(buf, "/"); tok != NULL; tok = strtok(NULL, "/"), n++) {
		if (n >= r->nseg)
			return -1;
		if (strcmp(tok, "*") != 0) {
			if (strcmp(tok, r->seg[n]) != 0)
				return -1;
			words++;
		}
	}
	return n == r->nseg ? words : -1;
}

void admin_request(const struct admin_who *who, const char *method,
		   const char *path, const char *query, const void *body,
		   size_t len, struct admin_answer *answer_r)
{
	static struct admin_req r;	/* 4 KiB of segments: not on the stack */
	const struct route *route, *shape = NULL;
	char allow[64] = "";
	int best = -1;

	memset(answer_r, 0, sizeof(*answer_r));
	memset(&r, 0, sizeof(r));
	r.who = who;
	r.method = method;
	r.query = query != NULL ? query : "";
	r.status = 500;
	if (!split_path(&r, path)) {
		admin_fail(&r, 404, NULL, "no such API path");
		goto out;
	}
	for (route = routes; route->method != NULL; route++) {
		int words = matches(route->pattern, &r);

		if (words > best)
			best = words;
	}
	for (route = routes; route->method != NULL; route++) {
		if (best < 0 || matches(route->pattern, &r) != best)
			continue;
		shape = route;
		if (strcmp(route->method, method) == 0)
			break;
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
			 allow[0] ? ", " : "", route->method);
	}
	if (route->method == NULL) {
		if (shape != NULL) {
			admin_fail(&r, 405, NULL, "%s is not taken here (only %s)", method,
				   allow);
			snprintf(answer_r->allow, sizeof(answer_r->allow), "%s", allow);
		} else
			admin_fail(&r, 404, NULL, "no such API path");
		goto out;
	}
	if (len > 0) {
		json_error_t jerr;

		r.body = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
		if (r.body == NULL || !json_is_object(r.body)) {
			admin_fail(&r, 400, NULL, "the body is not a JSON object%s%s",
				   r.body == NULL ? ": " : "", r.body == NULL ? jerr.text : "");
			goto out;
		}
	}
	r.changed = strcmp(method, "GET") != 0;
	route->fn(&r);
	if (r.changed)
		log_msg(r.status < 400 ? LOG_NOTICE : LOG_INFO, "HTTP",
			"admin %s: %s /api/%s -> %d", who->user, method, path, r.status);
out:
	answer_r->status = r.status;
	answer_r->json = r.answer != NULL ? json_dumps(r.answer, JSON_COMPACT) : NULL;
	json_decref(r.answer);
	json_decref(r.body);
}

void admin_answer_free(struct admin_answer *answer)
{
	free(answer->json);
	answer->json = NULL;
}

char *admin_error_json(const char *text)
{
	json_t *o = json_pack("{s:s}", "error", text);
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}

int admin_login_parse(const void *body, size_t len, char *user, size_t usize,
		      char *password, size_t psize, char **error_r)
{
	json_error_t jerr;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *u, *p;
	const char *why = NULL;

	user[0] = password[0] = '\0';
	if (o == NULL || !json_is_object(o))
		why = "send {\"user\": \"name@domain\", \"password\": \"...\"} as JSON";
	else if (!json_is_string(u = json_object_get(o, "user")) ||
		 !json_is_string(p = json_object_get(o, "password")))
		why = "'user' and 'password' are needed, as strings";
	else if (json_object_size(o) != 2)
		why = "only 'user' and 'password' are taken";
	else if (json_string_length(u) == 0 || json_string_length(u) >= usize ||
		 json_string_length(p) >= psize ||
		 strlen(json_string_value(u)) != json_string_length(u) ||
		 strlen(json_string_value(p)) != json_string_length(p))
		why = "wrong user name or password";
	if (why == NULL) {
		snprintf(user, usize, "%s", json_string_value(u));
		snprintf(password, psize, "%s", json_string_value(p));
	}
	json_decref(o);	/* jansson does not clear what it frees */
	if (why != NULL) {
		*error_r = admin_error_json(why);
		return -1;
	}
	return 0;
}

char *admin_session_json(const struct admin_who *who, const char *csrf)
{
	json_t *domains = json_array(), *o;
	char *s;

	if (who->role == ADMIN_ROLE_DOMAIN)
		json_array_append_new(domains, json_string(who->domain));
	o = json_pack("{s:s,s:s,s:o,s:s}", "user", who->user, "role",
		      who->role == ADMIN_ROLE_SERVER ? "server" : "domain", "domains",
		      domains, "csrf", csrf);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

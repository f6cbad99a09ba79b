/* admin_retrievals.c - /api/accounts/A/retrievals: an account's remote POP3
 * sources (SPEC.md 6), as posternctl retrieval does them (doc/api.md).
 * The settings go through mail/retrieval_source.c, which posternctl uses
 * too; the password is taken, never given back. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "lib/strnum.h"
#include "mail/retrieval_source.h"
#include "store/store_retrieval.h"

static const char *const fields[] = {
	"host", "port", "tls", "verify", "user", "password", "auth", "mailbox",
	"keep", "interval", "enabled", NULL
};

static json_t *time_json(uint64_t t)
{
	return t == 0 ? json_null() : json_integer((json_int_t)t);
}

static json_t *source_json(const struct retrieval_source *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer((json_int_t)s->id));
	json_object_set_new(o, "host", json_string(s->host));
	json_object_set_new(o, "port", json_integer(s->port));
	json_object_set_new(o, "tls", json_string(retrieval_tls_name(s->tls)));
	json_object_set_new(o, "verify", json_boolean(s->verify));
	json_object_set_new(o, "user", json_string(s->user));
	json_object_set_new(o, "password_set", json_boolean(s->password[0] != '\0'));
	json_object_set_new(o, "auth", json_string(retrieval_auth_name(s->auth)));
	json_object_set_new(o, "mailbox", json_string(s->mailbox));
	json_object_set_new(o, "keep", json_boolean(s->keep));
	json_object_set_new(o, "interval", json_integer(s->interval));
	json_object_set_new(o, "enabled", json_boolean(s->enabled));
	json_object_set_new(o, "created", time_json(s->created));
	json_object_set_new(o, "last_run", time_json(s->last_run));
	json_object_set_new(o, "last_result", json_string(
		s->running ? "running" : retrieval_result_name(s->last_result)));
	json_object_set_new(o, "last_error", json_string(s->last_error));
	json_object_set_new(o, "last_fetched", json_integer(s->last_fetched));
	json_object_set_new(o, "failures", json_integer(s->failures));
	json_object_set_new(o, "next_run", !s->enabled ? json_null()
			    : json_integer((json_int_t)s->next_run));
	json_object_set_new(o, "requested", json_boolean(s->requested));
	return o;
}

/* The body's fields onto s: strings as they are, numbers and booleans
 * written out, all checked by retrieval_source_set. */
static bool apply(struct admin_req *r, struct retrieval_source *s)
{
	for (size_t i = 0; fields[i] != NULL; i++) {
		json_t *v = json_object_get(r->body, fields[i]);
		char text[RETRIEVAL_PASSWORD_MAX + 2];
		const char *error;
		int ret;

		if (v == NULL)
			continue;
		if (json_is_string(v)) {
			if (strlen(json_string_value(v)) >= sizeof(text)) {
				admin_fail(r, 400, fields[i], "'%s' is too long", fields[i]);
				return false;
			}
			snprintf(text, sizeof(text), "%s", json_string_value(v));
		} else if (json_is_integer(v) && json_integer_value(v) >= 0) {
			snprintf(text, sizeof(text), "%lld",
				 (long long)json_integer_value(v));
		} else if (json_is_boolean(v)) {
			snprintf(text, sizeof(text), "%s", json_is_true(v) ? "yes" : "no");
		} else {
			admin_fail(r, 400, fields[i], "'%s' must be a string, a whole number of 0 or more, or true/false",
				   fields[i]);
			return false;
		}
		ret = retrieval_source_set(s, fields[i], text, &error);
		explicit_bzero(text, sizeof(text));
		if (ret < 0) {
			admin_fail(r, 400, fields[i], "%s", error);
			return false;
		}
	}
	return true;
}

/* Segment 3 as a source of the account in segment 1. */
static bool source_arg(struct admin_req *r, struct account *a,
		       struct retrieval_source *s)
{
	const char *error;
	uint64_t id;
	bool found;

	if (!admin_account_arg(r, 1, a))
		return false;
	if (str_to_uint64(r->seg[3], &id) < 0 || id == 0) {
		admin_fail(r, 400, NULL, "not a retrieval id: %s", r->seg[3]);
		return false;
	}
	if (store_retrieval_get(a, id, s, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return false;
	}
	if (!found) {
		admin_fail(r, 404, NULL, "no retrieval %llu for %s@%s",
			   (unsigned long long)id, a->name, a->domain);
		return false;
	}
	return true;
}

static void add_item(const struct retrieval_source *s, void *ctx)
{
	json_array_append_new(ctx, source_json(s));
}

void admin_retrievals_list(struct admin_req *r)
{
	struct account a;
	const char *error;
	json_t *items;

	if (!admin_account_arg(r, 1, &a))
		return;
	items = json_array();
	if (store_retrieval_list(&a, add_item, items, &error) < 0) {
		json_decref(items);
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	admin_list(r, items, json_array_size(items), 0);
}

void admin_retrievals_add(struct admin_req *r)
{
	struct retrieval_source s;
	struct account a;
	const char *error;
	uint64_t id;
	bool found;

	if (!admin_account_arg(r, 1, &a) || !admin_fields_only(r, fields))
		return;
	retrieval_source_defaults(&s);
	if (!apply(r, &s)) {
		explicit_bzero(&s, sizeof(s));
		return;
	}
	if (retrieval_source_complete(&s, &error) < 0) {
		explicit_bzero(&s, sizeof(s));
		/* "host: needed": the field is the text's first word */
		admin_fail(r, 400, strncmp(error, "host", 4) == 0 ? "host" :
			   strncmp(error, "user", 4) == 0 ? "user" : "password",
			   "%s", error);
		return;
	}
	s.account = a;
	if (store_retrieval_add(&s, &id, &error) < 0) {
		explicit_bzero(&s, sizeof(s));
		admin_fail_op(r, "mailbox", error);
		return;
	}
	explicit_bzero(&s, sizeof(s));
	if (store_retrieval_get(&a, id, &s, &found, &error) < 0 || !found) {
		admin_fail(r, 503, NULL, "%s", found ? error : "the new retrieval went");
		return;
	}
	admin_ok(r, 201, source_json(&s));
	explicit_bzero(&s, sizeof(s));
}

void admin_retrieval_get(struct admin_req *r)
{
	struct retrieval_source s;
	struct account a;

	if (!source_arg(r, &a, &s))
		return;
	admin_ok(r, 200, source_json(&s));
	explicit_bzero(&s, sizeof(s));
}

void admin_retrieval_patch(struct admin_req *r)
{
	struct retrieval_source s;
	struct account a;
	const char *error;
	bool found;

	if (!source_arg(r, &a, &s))
		return;
	if (!admin_fields_only(r, fields) || !apply(r, &s)) {
		explicit_bzero(&s, sizeof(s));
		return;
	}
	if (store_retrieval_update(&s, &found, &error) < 0 ||
	    (found && store_retrieval_get(&a, s.id, &s, &found, &error) < 0)) {
		explicit_bzero(&s, sizeof(s));
		admin_fail_op(r, "mailbox", error);
		return;
	}
	if (!found) {
		explicit_bzero(&s, sizeof(s));
		admin_fail(r, 404, NULL, "the retrieval was removed meanwhile");
		return;
	}
	admin_ok(r, 200, source_json(&s));
	explicit_bzero(&s, sizeof(s));
}

void admin_retrieval_del(struct admin_req *r)
{
	struct retrieval_source s;
	struct account a;
	const char *error;
	bool found;

	uint64_t id;

	if (!source_arg(r, &a, &s))
		return;
	id = s.id;
	explicit_bzero(&s, sizeof(s));
	if (store_retrieval_del(&a, id, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	if (!found) {
		admin_fail(r, 404, NULL, "no retrieval %llu for %s@%s",
			   (unsigned long long)id, a.name, a.domain);
		return;
	}
	admin_ok(r, 204, NULL);
}

/* The button: due now; the page follows the run with GET. */
void admin_retrieval_run(struct admin_req *r)
{
	struct retrieval_source s;
	struct account a;
	const char *error;
	size_t count;
	bool found, enabled;
	uint64_t id;

	if (!source_arg(r, &a, &s))
		return;
	id = s.id;
	enabled = s.enabled;
	explicit_bzero(&s, sizeof(s));
	if (!enabled) {
		admin_fail(r, 409, NULL, "retrieval %llu is disabled: enable it first",
			   (unsigned long long)id);
		return;
	}
	if (store_retrieval_request(&a, id, 0, &count, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	admin_ok(r, 202, json_pack("{s:I,s:b}", "id", (json_int_t)id,
				   "requested", 1));
}

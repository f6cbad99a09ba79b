/* admin_mailboxes.c - /api/accounts/A/mailboxes: an account's mailboxes and
 * who else may use them (their ACLs, SPEC.md 2), as posternctl mailbox and
 * acl do (doc/api.md). */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "mail/acl.h"
#include "mail/names.h"
#include "store/store_ops.h"

/* The account of segment 1 and, in segment 3, one of its mailboxes. */
static bool mailbox_arg(struct admin_req *r, struct account *a,
			struct mailbox_rec *rec)
{
	const char *error;
	bool found;

	if (!admin_account_arg(r, 1, a))
		return false;
	if (name_mailbox_check(r->seg[3], &error) < 0) {
		admin_fail(r, 400, NULL, "%s", error);
		return false;
	}
	if (store_mailbox_find(a, r->seg[3], rec, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return false;
	}
	if (!found) {
		admin_fail(r, 404, NULL, "no mailbox %s in account %s@%s", r->seg[3],
			   a->name, a->domain);
		return false;
	}
	return true;
}

static void add_mailbox(const struct mailbox_stat *st, void *ctx)
{
	json_array_append_new(ctx, json_pack("{s:s,s:I,s:I}", "name", st->name,
					     "messages", (json_int_t)st->messages,
					     "size", (json_int_t)st->size));
}

void admin_mailboxes_list(struct admin_req *r)
{
	struct account a;
	const char *error;
	json_t *items;

	if (!admin_account_arg(r, 1, &a))
		return;
	items = json_array();
	if (store_mailbox_list(&a, add_mailbox, items, &error) < 0) {
		json_decref(items);
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	admin_list(r, items, json_array_size(items), 0);
}

void admin_mailboxes_add(struct admin_req *r)
{
	static const char *const fields[] = { "name", NULL };
	const char *name, *error;
	struct account a;

	if (!admin_account_arg(r, 1, &a) || !admin_fields_only(r, fields) ||
	    !admin_get_str(r, "name", &name, true))
		return;
	if (name_mailbox_check(name, &error) < 0) {
		admin_fail(r, 400, "name", "%s", error);
		return;
	}
	if (store_mailbox_add(&a, name, &error) < 0) {
		admin_fail_op(r, "name", error);
		return;
	}
	admin_ok(r, 201, json_pack("{s:s}", "name", name));
}

void admin_mailbox_patch(struct admin_req *r)
{
	static const char *const fields[] = { "name", NULL };
	const char *name, *error;
	struct mailbox_rec rec;
	struct account a;
	unsigned int count;

	if (!mailbox_arg(r, &a, &rec) || !admin_fields_only(r, fields) ||
	    !admin_get_str(r, "name", &name, true))
		return;
	if (name_mailbox_check(name, &error) < 0) {
		admin_fail(r, 400, "name", "%s", error);
		return;
	}
	if (store_mailbox_rename(&a, r->seg[3], name, &count, &error) < 0) {
		admin_fail_op(r, "name", error);
		return;
	}
	admin_ok(r, 200, json_pack("{s:s,s:I}", "name", name, "renamed",
				   (json_int_t)count));
}

void admin_mailbox_del(struct admin_req *r)
{
	struct mailbox_rec rec;
	struct account a;
	const char *error;
	uint32_t messages;

	if (!mailbox_arg(r, &a, &rec))
		return;
	if (store_mailbox_del(&a, r->seg[3], &messages, &error) < 0) {
		admin_fail_op(r, NULL, error);
		return;
	}
	admin_ok(r, 204, NULL);
}

/* What POP and posternctl message list show: uid, size, Seen, hidden by
 * pop_delete=hide, the UIDL. */
void admin_messages_list(struct admin_req *r)
{
	struct mailbox_snapshot *snap;
	struct mailbox_rec rec;
	struct account a;
	size_t offset, limit;
	const char *error;
	char uidl[UIDL_MAX + 1];
	json_t *items;

	if (!mailbox_arg(r, &a, &rec) || !admin_paging(r, &offset, &limit))
		return;
	if (mailbox_snapshot_take(&a, r->seg[3], NULL, &snap, &error) < 0) {
		admin_fail_op(r, NULL, error);
		return;
	}
	items = json_array();
	for (size_t i = offset; i < snap->count && i - offset < limit; i++) {
		const struct msg_info *m = &snap->msgs[i];

		mailbox_snapshot_uidl(snap, m, uidl);
		json_array_append_new(items, json_pack("{s:I,s:I,s:b,s:b,s:s}",
						       "uid", (json_int_t)m->uid,
						       "size", (json_int_t)m->size,
						       "seen", (m->flags & MSG_SEEN) != 0,
						       "hidden", (m->flags & MSG_POP_HIDDEN) != 0,
						       "uidl", uidl));
	}
	admin_list(r, items, snap->count, offset);
	mailbox_snapshot_free(&snap);
}

static json_t *acl_entry(const char *identifier, unsigned int rights)
{
	char letters[ACL_RIGHTS_STR_MAX];

	acl_rights_format(rights, letters);
	return json_pack("{s:s,s:s,s:b}", "identifier", identifier, "rights", letters,
			 "owner", 0);
}

static void add_entry(const char *identifier, unsigned int rights, void *ctx)
{
	json_array_append_new(ctx, acl_entry(identifier, rights));
}

void admin_acl_list(struct admin_req *r)
{
	char owner[ADDRESS_MAX + 1];
	struct mailbox_rec rec;
	struct account a;
	const char *error;
	json_t *items;

	if (!mailbox_arg(r, &a, &rec))
		return;
	snprintf(owner, sizeof(owner), "%s@%s", a.name, a.domain);
	items = json_array();
	/* the owner first: every right, always */
	json_array_append_new(items, json_pack("{s:s,s:s,s:b}", "identifier", owner,
					       "rights", ACL_RIGHTS_LETTERS, "owner", 1));
	if (store_acl_list(&a, r->seg[3], add_entry, items, &error) < 0) {
		json_decref(items);
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	admin_list(r, items, json_array_size(items), 0);
}

/* Segment 5 as an ACL identifier; 400 and false when it is none. */
static bool identifier_arg(struct admin_req *r, struct acl_identifier *id)
{
	const char *error;

	if (acl_identifier_parse(r->seg[5], id, &error) < 0) {
		admin_fail(r, 400, NULL, "%s", error);
		return false;
	}
	return true;
}

void admin_acl_put(struct admin_req *r)
{
	static const char *const fields[] = { "rights", NULL };
	struct acl_identifier id;
	struct mailbox_rec rec;
	struct account a;
	enum acl_mode mode;
	unsigned int rights, result;
	const char *text, *error;

	if (!mailbox_arg(r, &a, &rec) || !identifier_arg(r, &id) ||
	    !admin_fields_only(r, fields) || !admin_get_str(r, "rights", &text, true))
		return;
	if (acl_rights_parse(text, &mode, &rights, &error) < 0) {
		admin_fail(r, 400, "rights", "%s", error);
		return;
	}
	if (store_acl_set(&a, r->seg[3], &id, mode, rights, &result, &error) < 0) {
		admin_fail_op(r, "identifier", error);
		return;
	}
	admin_ok(r, 200, acl_entry(id.text, result));
}

void admin_acl_del(struct admin_req *r)
{
	struct acl_identifier id;
	struct mailbox_rec rec;
	struct account a;
	const char *error;

	if (!mailbox_arg(r, &a, &rec) || !identifier_arg(r, &id))
		return;
	if (store_acl_del(&a, r->seg[3], &id, &error) < 0) {
		admin_fail_op(r, NULL, error);
		return;
	}
	admin_ok(r, 204, NULL);
}

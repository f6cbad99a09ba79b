/* check_store_acl.c - unit tests for mailboxes (create, rename with
 * sub-mailboxes, remove) and their ACLs in the store: entries, the union
 * of rights, and the cleanup when mailboxes, accounts and domains go. */
#include "build-config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/acl.h"
#include "mail/import.h"
#include "mail/names.h"
#include "postern/module.h"
#include "store/store.h"
#include "store/store_ops.h"
#include "unit.h"

#define MAX_SIZE (1024u * 1024)

static struct unit_store fx;
static char root_dir[] = "/tmp/check_store_acl.XXXXXX";

/* Per test: a fresh store with example.com (the main domain), other.org,
 * and the accounts jsmith@example.com, bob@example.com, eve@other.org. */
static struct account jsmith, bob, eve;

static void setup(void)
{
	const char *error = NULL;

	unit_store_open(&fx, root_dir, MAX_SIZE);
	ck_assert_int_eq(domain_add("example.com", &error), 0);
	ck_assert_int_eq(domain_add("other.org", &error), 0);
	ck_assert_int_eq(account_add("jsmith", "pw", &jsmith, &error), 0);
	ck_assert_int_eq(account_add("bob", "pw", &bob, &error), 0);
	ck_assert_int_eq(account_add("eve@other.org", "pw", &eve, &error), 0);
}

static void teardown(void)
{
	unit_store_close(&fx);
}

/* ---- helpers ---- */

static void mailbox_add_ok(const struct account *a, const char *name)
{
	const char *error = NULL;

	ck_assert_msg(store_mailbox_add(a, name, &error) == 0,
		      "store_mailbox_add %s: %s", name, error ? error : "(null)");
}

static const char *mailbox_add_bad(const struct account *a, const char *name)
{
	const char *error = NULL;

	ck_assert_msg(store_mailbox_add(a, name, &error) < 0,
		      "mailbox '%s' created", name);
	ck_assert_ptr_nonnull(error);
	return error;
}

static struct mailbox_rec find_ok(const struct account *a, const char *name)
{
	struct mailbox_rec rec;
	const char *error = NULL;
	bool found = false;

	ck_assert_msg(store_mailbox_find(a, name, &rec, &found, &error) == 0,
		      "find %s: %s", name, error ? error : "(null)");
	ck_assert_msg(found, "mailbox %s not found", name);
	return rec;
}

static bool exists(const struct account *a, const char *name)
{
	struct mailbox_rec rec;
	const char *error = NULL;
	bool found = true;

	ck_assert_int_eq(store_mailbox_find(a, name, &rec, &found, &error), 0);
	return found;
}

static void name_cb(const struct mailbox_stat *st, void *ctx)
{
	char *out = ctx;
	size_t len = strlen(out);

	snprintf(out + len, 4096 - len, "%s%s", len ? " " : "", st->name);
}

static const char *list_names(const struct account *a)
{
	static char out[4096];
	const char *error = NULL;

	out[0] = '\0';
	ck_assert_int_eq(store_mailbox_list(a, name_cb, out, &error), 0);
	return out;
}

static uint32_t deliver_to(const struct account *a, const char *mailbox,
			   const char *text)
{
	const char *error = NULL;
	uint32_t uid = 0;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	ck_assert_msg(import_from_fd(a, mailbox, p[0], MAX_SIZE, &uid,
				      &error) == IMPORT_OK,
		      "deliver to %s: %s", mailbox, error ? error : "(null)");
	close(p[0]);
	return uid;
}

static struct acl_identifier ident(const char *s)
{
	struct acl_identifier id;
	const char *error = NULL;

	ck_assert_msg(acl_identifier_parse(s, &id, &error) == 0, "%s: %s", s,
		      error ? error : "(null)");
	return id;
}

/* Set rights from a string such as "lr", "+s", "-d"; the result. */
static const char *acl_set_ok(const struct account *owner, const char *mailbox,
			      const char *who, const char *rights_str)
{
	static char out[ACL_RIGHTS_STR_MAX];
	struct acl_identifier id = ident(who);
	enum acl_mode mode;
	unsigned int rights, result = 0xdead;
	const char *error = NULL;

	ck_assert_int_eq(acl_rights_parse(rights_str, &mode, &rights, &error), 0);
	ck_assert_msg(store_acl_set(owner, mailbox, &id, mode, rights, &result,
				    &error) == 0,
		      "acl set %s %s %s: %s", mailbox, who, rights_str,
		      error ? error : "(null)");
	acl_rights_format(result, out);
	return out;
}

static const char *acl_set_bad(const struct account *owner,
			       const char *mailbox, const char *who)
{
	struct acl_identifier id = ident(who);
	unsigned int result;
	const char *error = NULL;

	ck_assert_msg(store_acl_set(owner, mailbox, &id, ACL_MODE_REPLACE,
				    ACL_READ, &result, &error) < 0,
		      "acl set %s %s accepted", mailbox, who);
	ck_assert_ptr_nonnull(error);
	return error;
}

/* The entry's rights as letters, or "(none)". */
static const char *acl_get(const struct account *owner, const char *mailbox,
			   const char *who)
{
	static char out[ACL_RIGHTS_STR_MAX];
	struct acl_identifier id = ident(who);
	unsigned int rights = 0xdead;
	const char *error = NULL;
	bool found = true;

	ck_assert_msg(store_acl_get(owner, mailbox, &id, &rights, &found,
				    &error) == 0,
		      "acl get: %s", error ? error : "(null)");
	if (!found)
		return "(none)";
	acl_rights_format(rights, out);
	return out;
}

static void acl_cb(const char *identifier, unsigned int rights, void *ctx)
{
	char letters[ACL_RIGHTS_STR_MAX], *out = ctx;
	size_t len = strlen(out);

	acl_rights_format(rights, letters);
	snprintf(out + len, 4096 - len, "%s%s=%s", len ? " " : "", identifier,
		 letters);
}

/* "id=rights id=rights", in the store's order. */
static const char *acl_list(const struct account *owner, const char *mailbox)
{
	static char out[4096];
	const char *error = NULL;

	out[0] = '\0';
	ck_assert_msg(store_acl_list(owner, mailbox, acl_cb, out, &error) == 0,
		      "acl list: %s", error ? error : "(null)");
	return out;
}

static const char *rights_of(const struct account *owner, const char *mailbox,
			     const struct account *user)
{
	static char out[ACL_RIGHTS_STR_MAX];
	struct mailbox_rec rec = find_ok(owner, mailbox);
	unsigned int rights = 0xdead;
	const char *error = NULL;

	ck_assert_msg(store_acl_rights(owner, rec.id, user, &rights,
				       &error) == 0,
		      "rights: %s", error ? error : "(null)");
	acl_rights_format(rights, out);
	return out;
}

static int entries_txn(MDB_txn *txn, void *ctx)
{
	size_t *counts = ctx;
	MDB_stat st;
	int rc;

	if ((rc = mdb_stat(txn, store_dbi(DB_ACL), &st)) != 0)
		return rc;
	counts[0] = st.ms_entries;
	if ((rc = mdb_stat(txn, store_dbi(DB_ACL_IDS), &st)) != 0)
		return rc;
	counts[1] = st.ms_entries;
	return 0;
}

/* Entries in the acl database; its index by identifier must agree. */
static size_t acl_entries(void)
{
	size_t counts[2] = { 0, 0 };
	const char *error = NULL;

	ck_assert_int_eq(store_read(entries_txn, counts, &error), 0);
	ck_assert_uint_eq(counts[0], counts[1]);
	return counts[0];
}

/* ---- mailboxes ---- */

START_TEST(test_mailbox_add)
{
	struct mailbox_rec a, b;

	/* no parent needed */
	mailbox_add_ok(&jsmith, "lists/info");
	ck_assert(!exists(&jsmith, "lists"));
	mailbox_add_ok(&jsmith, "lists");
	mailbox_add_ok(&jsmith, "Lists");	/* case-sensitive */
	ck_assert_str_eq(list_names(&jsmith), "INBOX Lists lists lists/info");
	/* another account's namespace is its own */
	ck_assert_str_eq(list_names(&bob), "INBOX");
	mailbox_add_ok(&bob, "lists");

	a = find_ok(&jsmith, "lists");
	b = find_ok(&bob, "lists");
	ck_assert_uint_ne(a.id, b.id);
	ck_assert_uint_ne(a.uidvalidity, b.uidvalidity);
	ck_assert_uint_eq(a.uidnext, 1);
	ck_assert(!exists(&jsmith, "nope"));

	ck_assert_str_eq(mailbox_add_bad(&jsmith, "lists"),
			 "mailbox lists already exists");
	ck_assert_str_eq(mailbox_add_bad(&jsmith, "INBOX"),
			 "mailbox INBOX already exists");
}
END_TEST

START_TEST(test_mailbox_add_bad_names)
{
	static const char *const bad[] = {
		"", "..", "a/../b", "/x", "x/", "x//y", "~x", "a\tb", "a\x7f",
		".", "a/./b",
	};
	char longer[300];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_ptr_nonnull(strstr(mailbox_add_bad(&jsmith, bad[i]),
					     "mailbox name"));
	memset(longer, 'x', 256);
	longer[256] = '\0';
	ck_assert_ptr_nonnull(strstr(mailbox_add_bad(&jsmith, longer),
				     "longer than 255 octets"));
	longer[255] = '\0';
	mailbox_add_ok(&jsmith, longer);
	ck_assert_str_eq(list_names(&bob), "INBOX");
}
END_TEST

START_TEST(test_mailbox_add_for_removed_account)
{
	struct account ghost = jsmith;
	const char *error = NULL;

	ck_assert_int_eq(account_del("jsmith", &error), 0);
	ck_assert_str_eq(mailbox_add_bad(&ghost, "x"),
			 "no such account: jsmith@example.com");
	/* the same name made again is another account */
	ck_assert_int_eq(account_add("jsmith", "pw", &jsmith, &error), 0);
	ck_assert_ptr_nonnull(strstr(mailbox_add_bad(&ghost, "x"),
				     "no such account"));
}
END_TEST

START_TEST(test_rename_with_children_keeps_ids)
{
	struct mailbox_rec a_before, ab_before, abc_before, after;
	struct mailbox_snapshot *snap;
	const char *error = NULL;
	unsigned int count = 0;
	uint32_t uid;
	char uidl[UIDL_MAX + 1], uidl_after[UIDL_MAX + 1];

	mailbox_add_ok(&jsmith, "a");
	mailbox_add_ok(&jsmith, "a/b");
	mailbox_add_ok(&jsmith, "a/b/c");
	/* names sharing the prefix "a" but not the level */
	mailbox_add_ok(&jsmith, "a-x");
	mailbox_add_ok(&jsmith, "a.y");
	mailbox_add_ok(&jsmith, "ab");
	a_before = find_ok(&jsmith, "a");
	ab_before = find_ok(&jsmith, "a/b");
	abc_before = find_ok(&jsmith, "a/b/c");
	uid = deliver_to(&jsmith, "a/b", "Subject: x\n\nhello\n");
	ck_assert_int_eq(message_set_seen(ab_before.id, uid, &error), 0);
	ck_assert_str_eq(acl_set_ok(&jsmith, "a/b", "bob@example.com", "lr"),
			 "lr");
	ck_assert_int_eq(mailbox_snapshot_take(&jsmith, "a/b", NULL, &snap, &error), 0);
	mailbox_snapshot_uidl(snap, &snap->msgs[0], uidl);
	mailbox_snapshot_free(&snap);

	ck_assert_msg(store_mailbox_rename(&jsmith, "a", "z/new", &count,
					   &error) == 0, "rename: %s", error);
	ck_assert_uint_eq(count, 3);
	ck_assert_str_eq(list_names(&jsmith),
			 "INBOX a-x a.y ab z/new z/new/b z/new/b/c");
	after = find_ok(&jsmith, "z/new");
	ck_assert_uint_eq(after.id, a_before.id);
	ck_assert_uint_eq(after.uidvalidity, a_before.uidvalidity);
	after = find_ok(&jsmith, "z/new/b/c");
	ck_assert_uint_eq(after.id, abc_before.id);
	after = find_ok(&jsmith, "z/new/b");
	ck_assert_uint_eq(after.id, ab_before.id);
	ck_assert_uint_eq(after.uidvalidity, ab_before.uidvalidity);
	ck_assert_uint_eq(after.uidnext, ab_before.uidnext + 1);

	/* messages, their UIDLs, Seen flags and the ACL went along */
	ck_assert_int_eq(mailbox_snapshot_take(&jsmith, "z/new/b", NULL, &snap,
					       &error), 0);
	ck_assert_uint_eq(snap->count, 1);
	ck_assert_uint_eq(snap->msgs[0].uid, uid);
	ck_assert(snap->msgs[0].flags & MSG_SEEN);
	mailbox_snapshot_uidl(snap, &snap->msgs[0], uidl_after);
	ck_assert_str_eq(uidl_after, uidl);
	mailbox_snapshot_free(&snap);
	ck_assert_str_eq(acl_list(&jsmith, "z/new/b"), "bob@example.com=lr");
	ck_assert_str_eq(rights_of(&jsmith, "z/new/b", &bob), "lr");
	ck_assert_int_lt(mailbox_snapshot_take(&jsmith, "a/b", NULL, &snap, &error), 0);

	/* the next delivery continues the UIDs */
	ck_assert_uint_eq(deliver_to(&jsmith, "z/new/b", "S: y\n\n2\n"), uid + 1);

	/* a single mailbox: count 1; an old name can be used again */
	ck_assert_int_eq(store_mailbox_rename(&jsmith, "ab", "a", &count,
					      &error), 0);
	ck_assert_uint_eq(count, 1);
	mailbox_add_ok(&jsmith, "ab");
}
END_TEST

START_TEST(test_rename_to_parent_level)
{
	struct mailbox_rec ab, abb;
	const char *error = NULL;
	unsigned int count = 0;

	/* "a/b" to "a" moves "a/b/b" to "a/b": a new name that was an old
	 * one, freed in the same transaction */
	mailbox_add_ok(&jsmith, "a/b");
	mailbox_add_ok(&jsmith, "a/b/b");
	ab = find_ok(&jsmith, "a/b");
	abb = find_ok(&jsmith, "a/b/b");
	ck_assert_msg(store_mailbox_rename(&jsmith, "a/b", "a", &count,
					   &error) == 0, "rename: %s", error);
	ck_assert_uint_eq(count, 2);
	ck_assert_str_eq(list_names(&jsmith), "INBOX a a/b");
	ck_assert_uint_eq(find_ok(&jsmith, "a").id, ab.id);
	ck_assert_uint_eq(find_ok(&jsmith, "a/b").id, abb.id);
}
END_TEST

static const char *rename_bad(const char *old_name, const char *new_name)
{
	const char *error = NULL;
	unsigned int count = 99;

	ck_assert_msg(store_mailbox_rename(&jsmith, old_name, new_name, &count,
					   &error) < 0,
		      "rename %s %s accepted", old_name, new_name);
	ck_assert_uint_eq(count, 99);
	ck_assert_ptr_nonnull(error);
	return error;
}

START_TEST(test_rename_refusals)
{
	char longer[300];
	const char *names;

	mailbox_add_ok(&jsmith, "a");
	mailbox_add_ok(&jsmith, "a/b");
	mailbox_add_ok(&jsmith, "x/b");
	mailbox_add_ok(&jsmith, "y");
	deliver_to(&jsmith, "a/b", "S: 1\n\n1\n");
	names = "INBOX a a/b x/b y";
	ck_assert_str_eq(list_names(&jsmith), names);

	ck_assert_str_eq(rename_bad("INBOX", "old"), "INBOX cannot be renamed");
	ck_assert_str_eq(rename_bad("a", "a/sub"),
			 "cannot rename a to a/sub: a mailbox cannot move into its own sub-mailbox");
	ck_assert_str_eq(rename_bad("a", "a"), "mailbox a is already called that");
	ck_assert_str_eq(rename_bad("a", "y"),
			 "cannot rename a to y: mailbox y already exists");
	ck_assert_str_eq(rename_bad("y", "INBOX"),
			 "cannot rename y to INBOX: mailbox INBOX already exists");
	/* "x" is free, but "a/b" would become "x/b", which exists: nothing
	 * is renamed */
	ck_assert_str_eq(rename_bad("a", "x"),
			 "cannot rename a to x: mailbox x/b already exists");
	ck_assert_str_eq(rename_bad("nope", "q"),
			 "no mailbox nope in account jsmith@example.com");
	ck_assert_ptr_nonnull(strstr(rename_bad("a", "q//r"),
				     "invalid mailbox name"));
	ck_assert_ptr_nonnull(strstr(rename_bad("a", "../q"),
				     "invalid mailbox name"));
	/* "a" fits in 255 octets, "a/b" would not */
	memset(longer, 'n', 254);
	longer[254] = '\0';
	ck_assert_ptr_nonnull(strstr(rename_bad("a", longer),
				     "sub-mailbox a/b would get a name longer than 255 octets"));
	/* an old name no mailbox can have */
	memset(longer, 'o', 299);
	longer[299] = '\0';
	ck_assert_ptr_nonnull(strstr(rename_bad(longer, "q"), "no mailbox ooo"));
	ck_assert_str_eq(list_names(&jsmith), names);
	ck_assert_uint_eq(find_ok(&jsmith, "a/b").uidnext, 2);
	/* "a-b" is not under "a": renaming "a" leaves it */
	mailbox_add_ok(&jsmith, "a-b");
	ck_assert_ptr_nonnull(strstr(rename_bad("a", "x"), "x/b already exists"));
}
END_TEST

START_TEST(test_mailbox_del)
{
	struct mailbox_snapshot *snap;
	struct mailbox_rec rec;
	const char *error = NULL;
	uint32_t messages = 99;
	int fd;

	mailbox_add_ok(&jsmith, "a");
	mailbox_add_ok(&jsmith, "a/b");
	deliver_to(&jsmith, "a", "S: 1\n\n1\n");
	deliver_to(&jsmith, "a", "S: 2\n\n2\n");
	deliver_to(&jsmith, "a/b", "S: 3\n\n3\n");
	deliver_to(&jsmith, "INBOX", "S: 4\n\n4\n");
	acl_set_ok(&jsmith, "a", "bob@example.com", "lrs");
	acl_set_ok(&jsmith, "a", "anyone", "l");
	acl_set_ok(&jsmith, "a/b", "anyone", "lr");
	ck_assert_uint_eq(acl_entries(), 3);
	rec = find_ok(&jsmith, "a");
	ck_assert_int_eq(mailbox_snapshot_take(&jsmith, "a", NULL, &snap, &error), 0);

	ck_assert_int_lt(store_mailbox_del(&jsmith, "INBOX", &messages, &error), 0);
	ck_assert_str_eq(error, "INBOX cannot be removed");
	ck_assert_int_lt(store_mailbox_del(&jsmith, "nope", &messages, &error), 0);
	ck_assert_str_eq(error, "no mailbox nope in account jsmith@example.com");
	ck_assert_uint_eq(messages, 99);

	ck_assert_int_eq(store_mailbox_del(&jsmith, "a", &messages, &error), 0);
	ck_assert_uint_eq(messages, 2);
	/* the sub-mailbox stays, with its message and ACL */
	ck_assert_str_eq(list_names(&jsmith), "INBOX a/b");
	ck_assert_uint_eq(acl_entries(), 1);
	ck_assert_str_eq(acl_list(&jsmith, "a/b"), "anyone=lr");
	/* the bodies are gone from disk */
	errno = 0;
	ck_assert_int_lt(message_body_open(&snap->msgs[0], &fd), 0);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_lt(message_body_open(&snap->msgs[1], &fd), 0);
	mailbox_snapshot_free(&snap);
	ck_assert_int_eq(mailbox_snapshot_take(&jsmith, "INBOX", NULL, &snap, &error), 0);
	ck_assert_uint_eq(snap->count, 1);
	mailbox_snapshot_free(&snap);

	/* a new mailbox of that name is a new one: new id, no ACL */
	mailbox_add_ok(&jsmith, "a");
	ck_assert_uint_ne(find_ok(&jsmith, "a").id, rec.id);
	ck_assert_uint_gt(find_ok(&jsmith, "a").uidvalidity, rec.uidvalidity);
	ck_assert_str_eq(acl_list(&jsmith, "a"), "");
	ck_assert_str_eq(rights_of(&jsmith, "a", &bob), "");
}
END_TEST

/* ---- ACLs ---- */

START_TEST(test_acl_set_get_del)
{
	struct acl_identifier id;
	const char *error = NULL;

	mailbox_add_ok(&jsmith, "shared");
	ck_assert_str_eq(acl_get(&jsmith, "shared", "bob@example.com"), "(none)");
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "Bob@Example.COM", "rl"),
			 "lr");
	ck_assert_str_eq(acl_get(&jsmith, "shared", "bob@example.com"), "lr");
	/* + adds, - removes, plain replaces */
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "bob@example.com", "+sd"),
			 "lrsd");
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "bob@example.com", "-l"),
			 "rsd");
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "bob@example.com", "a"),
			 "a");
	/* + on a missing entry starts from nothing */
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "anyone", "+l"), "l");
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "anyone@other.org", "lr"),
			 "lr");
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "eve@other.org", "lrswipcda"),
			 "lrswipcda");
	ck_assert_str_eq(acl_list(&jsmith, "shared"),
			 "anyone=l anyone@other.org=lr bob@example.com=a eve@other.org=lrswipcda");
	ck_assert_uint_eq(acl_entries(), 4);

	/* an entry left with no rights is removed */
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "anyone", "-l"), "");
	ck_assert_str_eq(acl_get(&jsmith, "shared", "anyone"), "(none)");
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "eve@other.org", ""), "");
	ck_assert_uint_eq(acl_entries(), 2);

	id = ident("bob@example.com");
	ck_assert_int_eq(store_acl_del(&jsmith, "shared", &id, &error), 0);
	ck_assert_int_lt(store_acl_del(&jsmith, "shared", &id, &error), 0);
	ck_assert_str_eq(error,
			 "no ACL entry for bob@example.com on mailbox shared of jsmith@example.com");
	ck_assert_str_eq(acl_list(&jsmith, "shared"), "anyone@other.org=lr");
	ck_assert_uint_eq(acl_entries(), 1);

	/* other mailboxes are apart */
	ck_assert_str_eq(acl_list(&jsmith, "INBOX"), "");
	ck_assert_int_lt(store_acl_list(&jsmith, "nope", acl_cb, NULL, &error), 0);
	ck_assert_str_eq(error, "no mailbox nope in account jsmith@example.com");
}
END_TEST

START_TEST(test_acl_set_refusals)
{
	const char *error = NULL;
	struct acl_identifier id;
	struct account other;
	bool found;
	unsigned int rights;

	mailbox_add_ok(&jsmith, "shared");
	ck_assert_str_eq(acl_set_bad(&jsmith, "shared", "ghost@example.com"),
			 "no such account: ghost@example.com");
	ck_assert_str_eq(acl_set_bad(&jsmith, "shared", "anyone@nowhere.net"),
			 "no such domain: nowhere.net");
	ck_assert_str_eq(acl_set_bad(&jsmith, "shared", "jsmith@example.com"),
			 "jsmith@example.com owns shared and has every right there; an ACL entry cannot change that");
	ck_assert_str_eq(acl_set_bad(&jsmith, "nope", "bob@example.com"),
			 "no mailbox nope in account jsmith@example.com");
	id = ident("bob@example.com");
	ck_assert_int_lt(store_acl_get(&jsmith, "nope", &id, &rights, &found,
				       &error), 0);
	ck_assert_int_lt(store_acl_del(&jsmith, "nope", &id, &error), 0);
	ck_assert_uint_eq(acl_entries(), 0);
	/* the name is the owner's; the same name in another domain is not */
	ck_assert_int_eq(account_add("jsmith@other.org", "pw", &other, &error), 0);
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "jsmith@other.org", "r"),
			 "r");
}
END_TEST

START_TEST(test_acl_rights_union)
{
	struct account carol;
	const char *error = NULL;

	mailbox_add_ok(&jsmith, "shared");
	ck_assert_int_eq(account_add("carol", "pw", &carol, &error), 0);
	/* the owner has every right, with or without entries */
	ck_assert_str_eq(rights_of(&jsmith, "shared", &jsmith), "lrswipcda");
	ck_assert_str_eq(rights_of(&jsmith, "INBOX", &jsmith), "lrswipcda");
	ck_assert_str_eq(rights_of(&jsmith, "shared", &bob), "");

	acl_set_ok(&jsmith, "shared", "bob@example.com", "r");
	acl_set_ok(&jsmith, "shared", "anyone@example.com", "l");
	acl_set_ok(&jsmith, "shared", "anyone", "s");
	acl_set_ok(&jsmith, "shared", "anyone@other.org", "d");
	/* bob: his own, his domain's, everyone's */
	ck_assert_str_eq(rights_of(&jsmith, "shared", &bob), "lrs");
	/* carol: her domain's and everyone's */
	ck_assert_str_eq(rights_of(&jsmith, "shared", &carol), "ls");
	/* eve of other.org: everyone's and her domain's */
	ck_assert_str_eq(rights_of(&jsmith, "shared", &eve), "sd");
	/* per mailbox: none of it applies to another one */
	ck_assert_str_eq(rights_of(&jsmith, "INBOX", &bob), "");
	/* a right taken from one identifier stays if another gives it */
	acl_set_ok(&jsmith, "shared", "bob@example.com", "+l");
	acl_set_ok(&jsmith, "shared", "anyone@example.com", "-l");
	ck_assert_str_eq(rights_of(&jsmith, "shared", &bob), "lrs");
	ck_assert_str_eq(rights_of(&jsmith, "shared", &carol), "s");
	/* an owner's rights in another account's mailbox are only granted */
	mailbox_add_ok(&bob, "box");
	ck_assert_str_eq(rights_of(&bob, "box", &jsmith), "");
	ck_assert_str_eq(rights_of(&bob, "box", &bob), "lrswipcda");
}
END_TEST

START_TEST(test_account_del_cleans_acl)
{
	struct account bob2;
	const char *error = NULL;

	mailbox_add_ok(&jsmith, "shared");
	mailbox_add_ok(&jsmith, "other");
	mailbox_add_ok(&bob, "bobs");
	acl_set_ok(&jsmith, "shared", "bob@example.com", "lr");
	acl_set_ok(&jsmith, "other", "bob@example.com", "lrs");
	acl_set_ok(&jsmith, "shared", "eve@other.org", "l");
	acl_set_ok(&bob, "bobs", "jsmith@example.com", "lr");
	acl_set_ok(&bob, "INBOX", "anyone", "l");
	ck_assert_uint_eq(acl_entries(), 5);

	/* bob goes: his mailboxes' entries and the entries naming him */
	ck_assert_int_eq(account_del("bob", &error), 0);
	ck_assert_uint_eq(acl_entries(), 1);
	ck_assert_str_eq(acl_list(&jsmith, "shared"), "eve@other.org=l");
	ck_assert_str_eq(acl_list(&jsmith, "other"), "");

	/* a new bob inherits nothing */
	ck_assert_int_eq(account_add("bob", "pw", &bob2, &error), 0);
	ck_assert_str_eq(rights_of(&jsmith, "shared", &bob2), "");
	ck_assert_str_eq(rights_of(&jsmith, "other", &bob2), "");

	/* the owner goes: its mailboxes' entries too */
	ck_assert_int_eq(account_del("jsmith", &error), 0);
	ck_assert_uint_eq(acl_entries(), 0);
}
END_TEST

START_TEST(test_domain_del_cleans_anyone_entries)
{
	struct account again;
	const char *error = NULL;

	mailbox_add_ok(&jsmith, "shared");
	acl_set_ok(&jsmith, "shared", "anyone@other.org", "lr");
	acl_set_ok(&jsmith, "shared", "anyone", "l");
	ck_assert_int_eq(domain_add("other.org.uk", &error), 0);
	acl_set_ok(&jsmith, "shared", "anyone@other.org.uk", "d");
	ck_assert_int_lt(domain_del("other.org", &error), 0);	/* eve is there */
	ck_assert_uint_eq(acl_entries(), 3);
	ck_assert_int_eq(account_del("eve@other.org", &error), 0);
	ck_assert_int_eq(domain_del("other.org", &error), 0);
	/* only that domain's entry: not "anyone", not a longer name */
	ck_assert_str_eq(acl_list(&jsmith, "shared"),
			 "anyone=l anyone@other.org.uk=d");
	ck_assert_int_eq(domain_add("other.org", &error), 0);
	ck_assert_int_eq(account_add("eve@other.org", "pw", &again, &error), 0);
	ck_assert_str_eq(rights_of(&jsmith, "shared", &again), "l");
}
END_TEST

/* A store made before the acl databases existed opens and gains them. */
static int drop_acl_txn(MDB_txn *txn, void *ctx)
{
	int rc;

	(void)ctx;
	if ((rc = mdb_drop(txn, store_dbi(DB_ACL), 1)) != 0)
		return rc;
	return mdb_drop(txn, store_dbi(DB_ACL_IDS), 1);
}

static int has_acl_dbs_txn(MDB_txn *txn, void *ctx)
{
	MDB_dbi dbi;
	bool *has = ctx;

	has[0] = mdb_dbi_open(txn, "acl", 0, &dbi) == 0;
	has[1] = mdb_dbi_open(txn, "acl_identifiers", 0, &dbi) == 0;
	return 0;
}

START_TEST(test_old_store_gains_acl_databases)
{
	const char *error = NULL;
	bool has[2] = { true, true };

	mailbox_add_ok(&jsmith, "shared");
	ck_assert_int_eq(store_write(drop_acl_txn, NULL, false, &error), 0);
	store_close();
	ck_assert_int_eq(store_open(fx.data_dir, &error), 0);
	/* (store_open has made them again; check through a fresh handle) */
	ck_assert_int_eq(store_read(has_acl_dbs_txn, has, &error), 0);
	ck_assert(has[0] && has[1]);
	ck_assert_str_eq(list_names(&jsmith), "INBOX shared");
	ck_assert_str_eq(acl_set_ok(&jsmith, "shared", "bob@example.com", "lr"),
			 "lr");
	ck_assert_str_eq(rights_of(&jsmith, "shared", &bob), "lr");
}
END_TEST

static Suite *store_acl_suite(void)
{
	Suite *s = suite_create("store_acl");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mailbox_add);
	tcase_add_test(tc, test_mailbox_add_bad_names);
	tcase_add_test(tc, test_mailbox_add_for_removed_account);
	tcase_add_test(tc, test_rename_with_children_keeps_ids);
	tcase_add_test(tc, test_rename_to_parent_level);
	tcase_add_test(tc, test_rename_refusals);
	tcase_add_test(tc, test_mailbox_del);
	tcase_add_test(tc, test_acl_set_get_del);
	tcase_add_test(tc, test_acl_set_refusals);
	tcase_add_test(tc, test_acl_rights_union);
	tcase_add_test(tc, test_account_del_cleans_acl);
	tcase_add_test(tc, test_domain_del_cleans_anyone_entries);
	tcase_add_test(tc, test_old_store_gains_acl_databases);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(store_acl_suite(), root_dir);
}

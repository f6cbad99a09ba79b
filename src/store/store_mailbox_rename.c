/* store_mailbox_rename.c - renaming a mailbox with its sub-mailboxes. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "mail/names.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"

/* One mailbox being renamed: its old name's tail after old_name ("" for
 * the mailbox itself, "/x" for a sub-mailbox) and its record. */
struct rename_item {
	char tail[MAILBOX_NAME_MAX + 1];
	struct mailbox_rec rec;
};

struct rename_ctx {
	const struct account *account;
	const char *old_name, *new_name;
	struct rename_item *items;
	size_t count, alloc;
};

static void join(char *out, const char *base, const char *tail)
{
	size_t blen = strlen(base), tlen = strlen(tail);

	memcpy(out, base, blen);
	memcpy(out + blen, tail, tlen + 1);
}

static void add_item(struct rename_ctx *c, const char *tail, size_t tlen,
		     const struct mailbox_rec *rec)
{
	struct rename_item *it;

	if (c->count == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 16;
		c->items = xrealloc(c->items, c->alloc * sizeof(*c->items));
	}
	it = &c->items[c->count++];
	memcpy(it->tail, tail, tlen);
	it->tail[tlen] = '\0';
	it->rec = *rec;
}

/* The sub-mailboxes: every key with the prefix be64(account) "old/".  '/'
 * sorts after '-' and '.', so "old-x" and "old.x" lie before the range. */
static int collect_children(MDB_txn *txn, struct rename_ctx *c)
{
	uint8_t kbuf[MAILBOX_KEY_MAX + 1];
	size_t olen = strlen(c->old_name), plen;
	MDB_val key = { 0, kbuf }, val;
	MDB_cursor *cur;
	int rc;

	plen = store_mailbox_key(kbuf, c->account->id, c->old_name);
	kbuf[plen++] = '/';
	key.mv_size = plen;
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_MAILBOXES), &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		char name[MAILBOX_NAME_MAX + 1];
		struct mailbox_rec rec;
		size_t nlen = key.mv_size - 8;

		if (key.mv_size < plen || memcmp(key.mv_data, kbuf, plen) != 0)
			break;
		if (nlen > MAILBOX_NAME_MAX) {
			rc = store_fail("corrupt mailbox key under %s", c->old_name);
			break;
		}
		memcpy(name, (const char *)key.mv_data + 8, nlen);
		name[nlen] = '\0';
		if ((rc = store_mailbox_get_txn(txn, c->account->id, name,
						&rec)) != 0)
			break;
		add_item(c, name + olen, nlen - olen, &rec);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int rename_txn(MDB_txn *txn, void *vctx)
{
	struct rename_ctx *c = vctx;
	size_t nlen = strlen(c->new_name);
	struct mailbox_rec rec;
	int rc;

	c->count = 0;	/* the transaction may be retried */
	if ((rc = store_account_check_txn(txn, c->account)) != 0)
		return rc;
	rc = store_mailbox_get_txn(txn, c->account->id, c->old_name, &rec);
	if (rc == MDB_NOTFOUND)
		return store_fail("no mailbox %s in account %s@%s", c->old_name,
				  c->account->name, c->account->domain);
	if (rc != 0)
		return rc;
	add_item(c, "", 0, &rec);
	if ((rc = collect_children(txn, c)) != 0)
		return rc;
	for (size_t i = 0; i < c->count; i++) {
		if (nlen + strlen(c->items[i].tail) > MAILBOX_NAME_MAX)
			return store_fail("cannot rename %s to %s: sub-mailbox %s%s would get a name longer than %d octets",
					  c->old_name, c->new_name, c->old_name,
					  c->items[i].tail, MAILBOX_NAME_MAX);
	}
	/* remove every old key first: a new name may be an old one ("a/b"
	 * to "a" moves "a/b/b" to "a/b") */
	for (size_t i = 0; i < c->count; i++) {
		char name[MAILBOX_NAME_MAX + 1];
		uint8_t kbuf[MAILBOX_KEY_MAX];
		MDB_val key = { 0, kbuf };

		join(name, c->old_name, c->items[i].tail);
		key.mv_size = store_mailbox_key(kbuf, c->account->id, name);
		if ((rc = mdb_del(txn, store_dbi(DB_MAILBOXES), &key, NULL)) != 0)
			return rc;
	}
	for (size_t i = 0; i < c->count; i++) {
		char name[MAILBOX_NAME_MAX + 1];

		join(name, c->new_name, c->items[i].tail);
		rc = store_mailbox_get_txn(txn, c->account->id, name, &rec);
		if (rc == 0)
			return store_fail("cannot rename %s to %s: mailbox %s already exists",
					  c->old_name, c->new_name, name);
		if (rc != MDB_NOTFOUND)
			return rc;
		/* the same record: id, UIDVALIDITY and UIDNEXT are kept */
		if ((rc = store_mailbox_put_txn(txn, c->account->id, name,
						&c->items[i].rec)) != 0)
			return rc;
	}
	return 0;
}

int store_mailbox_rename(const struct account *account, const char *old_name,
			 const char *new_name, unsigned int *count_r,
			 const char **error_r)
{
	static char err[2 * MAILBOX_NAME_MAX + ADDRESS_MAX + 64];
	struct rename_ctx c = { .account = account, .old_name = old_name,
				.new_name = new_name };
	size_t olen = strlen(old_name);
	int ret;

	if (name_mailbox_check(new_name, error_r) < 0)
		return -1;
	if (olen > MAILBOX_NAME_MAX) {	/* no such mailbox can exist */
		snprintf(err, sizeof(err), "no mailbox %.40s... in account %s@%s",
			 old_name, account->name, account->domain);
		*error_r = err;
		return -1;
	}
	if (strcmp(old_name, MAILBOX_INBOX) == 0) {
		*error_r = "INBOX cannot be renamed";
		return -1;
	}
	if (strcmp(old_name, new_name) == 0) {
		snprintf(err, sizeof(err), "mailbox %s is already called that",
			 old_name);
		*error_r = err;
		return -1;
	}
	if (strncmp(new_name, old_name, olen) == 0 && new_name[olen] == '/') {
		snprintf(err, sizeof(err),
			 "cannot rename %s to %s: a mailbox cannot move into its own sub-mailbox",
			 old_name, new_name);
		*error_r = err;
		return -1;
	}
	ret = store_write(rename_txn, &c, false, error_r);
	if (ret == 0)
		*count_r = (unsigned int)c.count;
	free(c.items);
	return ret;
}

/* store_mailbox.c - the mailboxes database: records, lookup, create,
 * remove, list.  Renaming is in store_mailbox_rename.c. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mail/names.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"

#define MAILBOX_REC_V1 1

size_t store_mailbox_key(uint8_t *key, uint64_t account_id, const char *name)
{
	size_t len = strlen(name);

	store_be64(key, account_id);
	memcpy(key + 8, name, len);
	return 8 + len;
}

int store_mailbox_get_txn(MDB_txn *txn, uint64_t account_id, const char *name,
			  struct mailbox_rec *rec)
{
	uint8_t kbuf[MAILBOX_KEY_MAX];
	MDB_val key = { 0, kbuf }, val;
	struct rec_reader r;
	int rc;

	if (strlen(name) > MAILBOX_KEY_MAX - 8)
		return MDB_NOTFOUND;
	key.mv_size = store_mailbox_key(kbuf, account_id, name);
	if ((rc = mdb_get(txn, store_dbi(DB_MAILBOXES), &key, &val)) != 0)
		return rc;
	rec_read_init(&r, val.mv_data, val.mv_size);
	if (rec_get_u8(&r) != MAILBOX_REC_V1)
		return store_fail("corrupt mailbox record for %s", name);
	rec->id = rec_get_u64(&r);
	rec->uidvalidity = rec_get_u32(&r);
	rec->uidnext = rec_get_u32(&r);
	rec->created = rec_get_u64(&r);
	return r.bad ? store_fail("corrupt mailbox record for %s", name) : 0;
}

int store_mailbox_put_txn(MDB_txn *txn, uint64_t account_id, const char *name,
			  const struct mailbox_rec *rec)
{
	uint8_t kbuf[MAILBOX_KEY_MAX];
	MDB_val key = { 0, kbuf }, val;
	struct rec_writer w;

	key.mv_size = store_mailbox_key(kbuf, account_id, name);
	rec_init(&w, MAILBOX_REC_V1);
	rec_put_u64(&w, rec->id);
	rec_put_u32(&w, rec->uidvalidity);
	rec_put_u32(&w, rec->uidnext);
	rec_put_u64(&w, rec->created);
	val.mv_size = w.len;
	val.mv_data = w.data;
	return mdb_put(txn, store_dbi(DB_MAILBOXES), &key, &val, 0);
}

int store_mailbox_create_txn(MDB_txn *txn, uint64_t account_id,
			     const char *name)
{
	struct mailbox_rec rec;
	int rc = store_mailbox_get_txn(txn, account_id, name, &rec);

	if (rc == 0)
		return store_fail("mailbox %s already exists", name);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = store_next_id(txn, &rec.id)) != 0 ||
	    (rc = store_next_uidvalidity(txn, &rec.uidvalidity)) != 0)
		return rc;
	rec.uidnext = 1;
	rec.created = (uint64_t)time(NULL);
	return store_mailbox_put_txn(txn, account_id, name, &rec);
}

/* Walk the messages of one mailbox (keys: mailbox id, uid). */
static int walk_messages(MDB_txn *txn, uint64_t mailbox_id, store_walk_fn *fn,
			 void *ctx)
{
	uint8_t prefix[8];

	store_be64(prefix, mailbox_id);
	return store_walk_prefix(txn, store_dbi(DB_MESSAGES), prefix,
				 sizeof(prefix), fn, ctx);
}

/* A message goes; its body is unlinked after the commit. */
static int remove_one(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		      const MDB_val *val, void *ctx)
{
	struct message_rec m;

	(void)txn;
	(void)key;
	if (store_message_decode(val, &m) == 0)
		store_body_list_add(ctx, m.body_id);
	return mdb_cursor_del(cur, 0);
}

/* A mailbox of a removed account goes with its messages and ACL entries. */
static int remove_mailbox(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
			  const MDB_val *val, void *ctx)
{
	struct rec_reader r;
	uint64_t mailbox_id;
	int rc;

	(void)key;
	rec_read_init(&r, val->mv_data, val->mv_size);
	(void)rec_get_u8(&r);
	mailbox_id = rec_get_u64(&r);
	if (!r.bad && ((rc = walk_messages(txn, mailbox_id, remove_one, ctx)) != 0 ||
		       (rc = store_acl_remove_mailbox_txn(txn, mailbox_id)) != 0 ||
		       (rc = store_usage_del_txn(txn, mailbox_id)) != 0))
		return rc;
	return mdb_cursor_del(cur, 0);
}

int store_mailboxes_remove_txn(MDB_txn *txn, uint64_t account_id,
			       struct body_list *bodies)
{
	uint8_t prefix[8];

	store_be64(prefix, account_id);
	return store_walk_prefix(txn, store_dbi(DB_MAILBOXES), prefix,
				 sizeof(prefix), remove_mailbox, bodies);
}

struct mailbox_list_ctx {
	const struct account *account;
	store_mailbox_cb *cb;
	void *ctx;
};

static int mailbox_list_txn(MDB_txn *txn, void *vctx)
{
	struct mailbox_list_ctx *c = vctx;
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	MDB_cursor *cur;
	int rc;

	store_be64(kbuf, c->account->id);
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_MAILBOXES), &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		char name[MAILBOX_KEY_MAX];
		struct mailbox_rec rec;
		struct mailbox_stat st;
		struct mailbox_usage u;

		if (key.mv_size < 8 || store_get_be64(key.mv_data) != c->account->id)
			break;
		snprintf(name, sizeof(name), "%.*s", (int)(key.mv_size - 8),
			 (const char *)key.mv_data + 8);
		if ((rc = store_mailbox_get_txn(txn, c->account->id, name, &rec)) != 0)
			break;
		memset(&st, 0, sizeof(st));
		st.name = name;
		st.id = rec.id;
		st.uidvalidity = rec.uidvalidity;
		st.uidnext = rec.uidnext;
		if ((rc = store_usage_get_txn(txn, rec.id, &u)) != 0)
			break;
		st.messages = (uint32_t)u.messages;
		st.size = u.octets;
		c->cb(&st, c->ctx);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_mailbox_list(const struct account *account, store_mailbox_cb *cb,
		       void *ctx, const char **error_r)
{
	struct mailbox_list_ctx c = { account, cb, ctx };

	return store_read(mailbox_list_txn, &c, error_r);
}

struct mailbox_op_ctx {
	const struct account *account;
	const char *name;
	struct mailbox_rec rec;
	bool found;
	uint32_t messages;
	struct body_list bodies;
};

static int mailbox_find_txn(MDB_txn *txn, void *vctx)
{
	struct mailbox_op_ctx *c = vctx;
	int rc = store_mailbox_get_txn(txn, c->account->id, c->name, &c->rec);

	c->found = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_mailbox_find(const struct account *owner, const char *name,
		       struct mailbox_rec *rec_r, bool *found_r,
		       const char **error_r)
{
	struct mailbox_op_ctx c = { .account = owner, .name = name };

	if (store_read(mailbox_find_txn, &c, error_r) < 0)
		return -1;
	*found_r = c.found;
	if (c.found)
		*rec_r = c.rec;
	return 0;
}

static int mailbox_add_txn(MDB_txn *txn, void *vctx)
{
	struct mailbox_op_ctx *c = vctx;
	int rc;

	if ((rc = store_account_check_txn(txn, c->account)) != 0)
		return rc;
	/* no parent is needed: levels are name prefixes, as in IMAP */
	return store_mailbox_create_txn(txn, c->account->id, c->name);
}

int store_mailbox_add(const struct account *account, const char *name,
		      const char **error_r)
{
	struct mailbox_op_ctx c = { .account = account, .name = name };

	if (name_mailbox_check(name, error_r) < 0)
		return -1;
	return store_write(mailbox_add_txn, &c, false, error_r);
}

static int remove_counted(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
			  const MDB_val *val, void *ctx)
{
	struct mailbox_op_ctx *c = ctx;

	c->messages++;
	return remove_one(txn, cur, key, val, &c->bodies);
}

static int mailbox_del_txn(MDB_txn *txn, void *vctx)
{
	struct mailbox_op_ctx *c = vctx;
	uint8_t kbuf[MAILBOX_KEY_MAX];
	MDB_val key = { 0, kbuf };
	int rc;

	c->bodies.count = 0;	/* the transaction may be retried */
	c->messages = 0;
	if ((rc = store_account_check_txn(txn, c->account)) != 0)
		return rc;
	rc = store_mailbox_get_txn(txn, c->account->id, c->name, &c->rec);
	if (rc == MDB_NOTFOUND)
		return store_fail("no mailbox %s in account %s@%s", c->name,
				  c->account->name, c->account->domain);
	if (rc != 0)
		return rc;
	/* only this one: sub-mailboxes stay, as with IMAP DELETE */
	if ((rc = walk_messages(txn, c->rec.id, remove_counted, c)) != 0 ||
	    (rc = store_acl_remove_mailbox_txn(txn, c->rec.id)) != 0 ||
	    (rc = store_usage_del_txn(txn, c->rec.id)) != 0)
		return rc;
	key.mv_size = store_mailbox_key(kbuf, c->account->id, c->name);
	return mdb_del(txn, store_dbi(DB_MAILBOXES), &key, NULL);
}

int store_mailbox_del(const struct account *account, const char *name,
		      uint32_t *messages_r, const char **error_r)
{
	struct mailbox_op_ctx c = { .account = account, .name = name };
	int ret;

	if (strcmp(name, MAILBOX_INBOX) == 0) {
		*error_r = "INBOX cannot be removed";
		return -1;
	}
	ret = store_write(mailbox_del_txn, &c, false, error_r);
	if (ret < 0)
		c.bodies.count = 0;	/* nothing was removed */
	/* bodies go only after the metadata commit */
	store_body_list_unlink_free(&c.bodies);
	if (ret == 0)
		*messages_r = c.messages;
	return ret;
}

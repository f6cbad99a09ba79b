/* store_mailbox.c - the mailboxes database. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"

#define MAILBOX_REC_V1 1
#define MAILBOX_KEY_MAX (8 + 256)

static size_t mailbox_key(uint8_t *key, uint64_t account_id, const char *name)
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
	key.mv_size = mailbox_key(kbuf, account_id, name);
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

	key.mv_size = mailbox_key(kbuf, account_id, name);
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

/* Walk the messages of one mailbox: fn(key, val) for each. */
typedef int message_walk_fn(MDB_cursor *cur, MDB_val *key, MDB_val *val,
			    void *ctx);

static int walk_messages(MDB_txn *txn, uint64_t mailbox_id,
			 message_walk_fn *fn, void *ctx)
{
	uint8_t kbuf[12];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	MDB_cursor *cur;
	int rc;

	store_message_key(kbuf, mailbox_id, 0);
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_MESSAGES), &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	while (rc == 0) {
		if (key.mv_size != 12 ||
		    store_get_be64(key.mv_data) != mailbox_id)
			break;
		if ((rc = fn(cur, &key, &val, ctx)) != 0)
			break;
		rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int remove_one(MDB_cursor *cur, MDB_val *key, MDB_val *val, void *ctx)
{
	struct message_rec m;
	int rc;

	(void)key;
	if (store_message_decode(val, &m) == 0)
		store_body_list_add(ctx, m.body_id);
	if ((rc = mdb_cursor_del(cur, 0)) != 0)
		return rc;
	return 0;
}

int store_mailboxes_remove_txn(MDB_txn *txn, uint64_t account_id,
			       struct body_list *bodies)
{
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	MDB_cursor *cur;
	int rc;

	store_be64(kbuf, account_id);
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_MAILBOXES), &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	while (rc == 0 && key.mv_size >= 8 &&
	       store_get_be64(key.mv_data) == account_id) {
		struct rec_reader r;
		uint64_t mailbox_id;

		rec_read_init(&r, val.mv_data, val.mv_size);
		(void)rec_get_u8(&r);
		mailbox_id = rec_get_u64(&r);
		if (!r.bad && (rc = walk_messages(txn, mailbox_id, remove_one,
						  bodies)) != 0)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		/* after a delete LMDB's MDB_NEXT yields the following record */
		rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct mailbox_list_ctx {
	const struct account *account;
	store_mailbox_cb *cb;
	void *ctx;
};

static int count_one(MDB_cursor *cur, MDB_val *key, MDB_val *val, void *ctx)
{
	struct mailbox_stat *st = ctx;
	struct message_rec m;

	(void)cur;
	(void)key;
	if (store_message_decode(val, &m) == 0) {
		st->messages++;
		st->size += m.size;
	}
	return 0;
}

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
		if ((rc = walk_messages(txn, rec.id, count_one, &st)) != 0)
			break;
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

/* store_usage.c - messages and octets per mailbox, kept up to date by every
 * add and removal so that a quota check is a few point lookups, not a walk
 * over an account's messages. */
#include "build-config.h"

#include <string.h>

#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"

#define USAGE_REC_V1 1

static int count_one(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		     const MDB_val *val, void *ctx)
{
	struct mailbox_usage *u = ctx;
	struct message_rec m;
	int rc;

	(void)txn;
	(void)cur;
	(void)key;
	if ((rc = store_message_decode(val, &m)) != 0)
		return rc;
	u->messages++;
	u->octets += m.size;
	return 0;
}

int store_usage_get_txn(MDB_txn *txn, uint64_t mailbox_id,
			struct mailbox_usage *u_r)
{
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	struct rec_reader r;
	int rc;

	store_be64(kbuf, mailbox_id);
	memset(u_r, 0, sizeof(*u_r));
	rc = mdb_get(txn, store_dbi(DB_USAGE), &key, &val);
	if (rc == MDB_NOTFOUND) {
		/* a store from before the counters: count once; the next
		 * change writes the counter */
		return store_walk_prefix(txn, store_dbi(DB_MESSAGES), kbuf,
					 sizeof(kbuf), count_one, u_r);
	}
	if (rc != 0)
		return rc;
	rec_read_init(&r, val.mv_data, val.mv_size);
	if (rec_get_u8(&r) != USAGE_REC_V1)
		return store_fail("corrupt usage record");
	u_r->messages = rec_get_u64(&r);
	u_r->octets = rec_get_u64(&r);
	return r.bad ? store_fail("corrupt usage record") : 0;
}

static uint64_t add_clamped(uint64_t v, int64_t delta)
{
	if (delta < 0 && (uint64_t)-delta > v)
		return 0;
	return v + (uint64_t)delta;
}

int store_usage_add_txn(MDB_txn *txn, uint64_t mailbox_id, int64_t messages,
			int64_t octets)
{
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	struct mailbox_usage u;
	struct rec_writer w;
	int rc;

	if ((rc = store_usage_get_txn(txn, mailbox_id, &u)) != 0)
		return rc;
	store_be64(kbuf, mailbox_id);
	rec_init(&w, USAGE_REC_V1);
	rec_put_u64(&w, add_clamped(u.messages, messages));
	rec_put_u64(&w, add_clamped(u.octets, octets));
	val.mv_size = w.len;
	val.mv_data = w.data;
	return mdb_put(txn, store_dbi(DB_USAGE), &key, &val, 0);
}

int store_usage_del_txn(MDB_txn *txn, uint64_t mailbox_id)
{
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf };
	int rc;

	store_be64(kbuf, mailbox_id);
	rc = mdb_del(txn, store_dbi(DB_USAGE), &key, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int add_mailbox(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		       const MDB_val *val, void *ctx)
{
	struct mailbox_usage *sum = ctx, u;
	struct rec_reader r;
	uint64_t mailbox_id;
	int rc;

	(void)cur;
	(void)key;
	rec_read_init(&r, val->mv_data, val->mv_size);
	(void)rec_get_u8(&r);
	mailbox_id = rec_get_u64(&r);
	if (r.bad)
		return store_fail("corrupt mailbox record");
	if ((rc = store_usage_get_txn(txn, mailbox_id, &u)) != 0)
		return rc;
	sum->messages += u.messages;
	sum->octets += u.octets;
	return 0;
}

int store_account_usage_txn(MDB_txn *txn, uint64_t account_id,
			    struct mailbox_usage *u_r)
{
	uint8_t prefix[8];

	memset(u_r, 0, sizeof(*u_r));
	store_be64(prefix, account_id);
	return store_walk_prefix(txn, store_dbi(DB_MAILBOXES), prefix,
				 sizeof(prefix), add_mailbox, u_r);
}

/* store_queue_due.c - what the relay polls: the entries due now with the
 * earliest of the rest, the optional lease, and an admin's flush, all
 * from the start of `queue_due` (store_queue.h). */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_queue.h"

struct due_op {
	uint64_t id;
	bool found, pending;
	size_t count;
	uint64_t now, lease_until, next;
	uint64_t *ids;
	size_t max;
};

/* Set next_attempt of the entry that `key` indexes to `next`, moving its
 * key.  An index key whose entry is gone is dropped: *found_r false. */
static int reschedule_txn(MDB_txn *txn, uint64_t old_next, uint64_t id,
			  uint64_t next, bool *found_r)
{
	struct queue_entry e;
	int rc;

	rc = queue_entry_get_txn(txn, id, &e);
	*found_r = rc == 0;
	if (rc == MDB_NOTFOUND)
		return queue_due_del(txn, old_next, id);
	if (rc != 0)
		return rc;
	if ((rc = queue_entry_unindex_txn(txn, &e)) == 0 &&
	    (rc = queue_due_del(txn, old_next, id)) == 0) {
		e.next_attempt = next;
		rc = queue_entry_put_txn(txn, &e);
	}
	store_queue_entry_free(&e);
	return rc;
}

static int bad_due_key(void)
{
	return store_fail("corrupt queue_due key (not 16 octets)");
}

static int due_txn(MDB_txn *txn, void *vctx)
{
	struct due_op *op = vctx;
	uint64_t *nexts = NULL, id;
	uint8_t ikey[8];
	MDB_val entry_key = { sizeof(ikey), ikey };
	MDB_cursor *cur;
	MDB_val key, val;
	size_t kept = 0;
	int rc;

	op->count = 0;
	op->next = QUEUE_NEVER;
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_QUEUE_DUE), &cur)) != 0)
		return rc;
	if (op->lease_until != 0 && op->max > 0)
		nexts = xcalloc(op->max, sizeof(*nexts));
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		uint64_t next;

		if (key.mv_size != QUEUE_DUE_KEY_LEN) {
			rc = bad_due_key();
			break;
		}
		next = store_get_be64(key.mv_data);
		id = store_get_be64((uint8_t *)key.mv_data + 8);
		/* a key whose entry is gone (only damage makes one) is
		 * skipped, and dropped when this is a write */
		queue_id_key(ikey, id);
		rc = mdb_get(txn, store_dbi(DB_QUEUE), &entry_key, &val);
		if (rc == MDB_NOTFOUND) {
			if (op->lease_until != 0 &&
			    (rc = mdb_cursor_del(cur, 0)) != 0)
				break;
			continue;
		}
		if (rc != 0)
			break;
		if (next > op->now || op->count == op->max) {
			op->next = next;	/* the earliest of the rest */
			break;
		}
		if (nexts != NULL)
			nexts[op->count] = next;
		op->ids[op->count++] = id;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	/* the lease: keys move behind the ones just read, after the cursor
	 * is closed */
	for (size_t i = 0; rc == 0 && nexts != NULL && i < op->count; i++) {
		bool found;

		rc = reschedule_txn(txn, nexts[i], op->ids[i], op->lease_until,
				    &found);
		if (found)
			op->ids[kept++] = op->ids[i];
	}
	if (nexts != NULL)
		op->count = kept;
	free(nexts);
	return rc;
}

int store_queue_due(uint64_t now, uint64_t lease_until, uint64_t *ids,
		    size_t max, size_t *count_r, uint64_t *next_r,
		    const char **error_r)
{
	struct due_op op = { .now = now, .lease_until = lease_until,
			       .ids = ids, .max = max };
	int ret;

	if (lease_until != 0)
		ret = store_write(due_txn, &op, false, error_r);
	else
		ret = store_read(due_txn, &op, error_r);
	if (ret < 0)
		return -1;
	*count_r = op.count;
	*next_r = op.next;
	return 0;
}

static int flush_txn(MDB_txn *txn, void *vctx)
{
	struct due_op *op = vctx;
	struct queue_entry e;
	int rc;

	rc = queue_entry_get_txn(txn, op->id, &e);
	op->found = rc == 0;
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	op->pending = queue_has_pending(&e);
	if (op->pending && e.next_attempt != 0) {
		if ((rc = queue_entry_unindex_txn(txn, &e)) == 0) {
			e.next_attempt = 0;
			rc = queue_entry_put_txn(txn, &e);
		}
	}
	store_queue_entry_free(&e);
	return rc;
}

int store_queue_flush(uint64_t id, bool *found_r, bool *pending_r,
		      const char **error_r)
{
	struct due_op op = { .id = id };

	if (store_write(flush_txn, &op, false, error_r) < 0)
		return -1;
	*found_r = op.found;
	*pending_r = op.pending;
	return 0;
}

struct due_key_list {
	uint64_t *next, *id;
	size_t count, alloc;
};

static void due_key_list_add(struct due_key_list *l, uint64_t next,
			     uint64_t id)
{
	if (l->count == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 64;
		l->next = xrealloc(l->next, l->alloc * sizeof(*l->next));
		l->id = xrealloc(l->id, l->alloc * sizeof(*l->id));
	}
	l->next[l->count] = next;
	l->id[l->count++] = id;
}

static int flush_all_txn(MDB_txn *txn, void *vctx)
{
	struct due_op *op = vctx;
	struct due_key_list later = { 0 };
	MDB_cursor *cur;
	MDB_val key, val;
	int rc;

	op->count = 0;
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_QUEUE_DUE), &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		uint64_t next;

		if (key.mv_size != QUEUE_DUE_KEY_LEN) {
			rc = bad_due_key();
			break;
		}
		next = store_get_be64(key.mv_data);
		if (next == 0)
			op->count++;	/* due already */
		else
			due_key_list_add(&later, next, store_get_be64(
						 (uint8_t *)key.mv_data + 8));
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < later.count; i++) {
		bool found;

		rc = reschedule_txn(txn, later.next[i], later.id[i], 0, &found);
		if (found)
			op->count++;
	}
	free(later.next);
	free(later.id);
	return rc;
}

int store_queue_flush_all(size_t *count_r, const char **error_r)
{
	struct due_op op = { 0 };

	if (store_write(flush_all_txn, &op, false, error_r) < 0)
		return -1;
	*count_r = op.count;
	return 0;
}

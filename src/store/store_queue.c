/* store_queue.c - relay queue entries in `queue` with their key in
 * `queue_due`: add, get, update, remove, list (store_queue.h).  What is
 * due and flushing are store_queue_due.c; the record store_queue_record.c. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_queue.h"

void queue_id_key(uint8_t key[8], uint64_t id)
{
	store_be64(key, id);
}

static void due_key(uint8_t key[QUEUE_DUE_KEY_LEN], uint64_t next, uint64_t id)
{
	store_be64(key, next);
	store_be64(key + 8, id);
}

static int due_put(MDB_txn *txn, uint64_t next, uint64_t id)
{
	uint8_t kbuf[QUEUE_DUE_KEY_LEN];
	MDB_val key = { sizeof(kbuf), kbuf }, val = { 0, NULL };

	due_key(kbuf, next, id);
	return mdb_put(txn, store_dbi(DB_QUEUE_DUE), &key, &val, 0);
}

int queue_due_del(MDB_txn *txn, uint64_t next, uint64_t id)
{
	uint8_t kbuf[QUEUE_DUE_KEY_LEN];
	MDB_val key = { sizeof(kbuf), kbuf };
	int rc;

	due_key(kbuf, next, id);
	rc = mdb_del(txn, store_dbi(DB_QUEUE_DUE), &key, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;	/* an index gap is harmless */
}

int queue_entry_get_txn(MDB_txn *txn, uint64_t id, struct queue_entry *e_r)
{
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	int rc;

	queue_id_key(kbuf, id);
	if ((rc = mdb_get(txn, store_dbi(DB_QUEUE), &key, &val)) != 0)
		return rc;
	return queue_entry_decode(id, &val, e_r);
}

int queue_entry_put_txn(MDB_txn *txn, const struct queue_entry *e)
{
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	struct rec_buf w;
	int rc;

	if ((rc = queue_entry_encode(&w, e)) != 0)
		return rc;
	queue_id_key(kbuf, e->id);
	val.mv_size = w.buf.len;
	val.mv_data = w.buf.data;
	rc = mdb_put(txn, store_dbi(DB_QUEUE), &key, &val, 0);
	rec_buf_free(&w);
	if (rc == 0 && queue_has_pending(e))
		rc = due_put(txn, e->next_attempt, e->id);
	return rc;
}

int queue_entry_unindex_txn(MDB_txn *txn, const struct queue_entry *old)
{
	if (!queue_has_pending(old))
		return 0;
	return queue_due_del(txn, old->next_attempt, old->id);
}

/* ---- operations ---- */

struct queue_op {
	struct queue_entry *entry;
	const struct queue_entry *in;
	uint64_t id;
	bool found;
	struct queue_summary summary;
	store_queue_cb *cb;
	void *ctx;
};

static int add_txn(MDB_txn *txn, void *vctx)
{
	struct queue_op *op = vctx;
	char why[QUEUE_WHY_MAX];
	const char *problem;
	int rc;

	problem = queue_entry_problem(op->entry, false, why, sizeof(why));
	if (problem != NULL)
		return store_fail("queue entry refused: %s", problem);
	if ((rc = store_next_id(txn, &op->id)) != 0)
		return rc;
	op->entry->id = op->id;
	return queue_entry_put_txn(txn, op->entry);
}

int store_queue_add(struct queue_entry *e, uint64_t *id_r,
		    const char **error_r)
{
	struct queue_op op = { .entry = e };

	if (store_write(add_txn, &op, false, error_r) < 0) {
		e->id = 0;	/* that id was never committed */
		return -1;
	}
	/* a retried transaction set it again: the committed one counts */
	e->id = op.id;
	*id_r = op.id;
	return 0;
}

static int get_txn(MDB_txn *txn, void *vctx)
{
	struct queue_op *op = vctx;
	int rc = queue_entry_get_txn(txn, op->id, op->entry);

	op->found = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_queue_get(uint64_t id, struct queue_entry *e_r, bool *found_r,
		    const char **error_r)
{
	struct queue_op op = { .entry = e_r, .id = id };

	memset(e_r, 0, sizeof(*e_r));
	if (store_read(get_txn, &op, error_r) < 0)
		return -1;
	*found_r = op.found;
	return 0;
}

static bool same_recipients(const struct queue_entry *a,
			   const struct queue_entry *b)
{
	if (a->rcpt_count != b->rcpt_count)
		return false;
	for (size_t i = 0; i < a->rcpt_count; i++) {
		if (strcmp(a->rcpts[i].address, b->rcpts[i].address) != 0)
			return false;
	}
	return true;
}

static int update_txn(MDB_txn *txn, void *vctx)
{
	struct queue_op *op = vctx;
	struct queue_entry old, merged;
	const char *problem;
	char why[QUEUE_WHY_MAX];
	int rc;

	problem = queue_entry_problem(op->in, false, why, sizeof(why));
	if (problem != NULL)
		return store_fail("queue entry %llu: update refused: %s",
				  (unsigned long long)op->in->id, problem);
	rc = queue_entry_get_txn(txn, op->in->id, &old);
	op->found = rc == 0;
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (!same_recipients(&old, op->in)) {
		store_queue_entry_free(&old);
		return store_fail("queue entry %llu: update refused: its recipients differ from the stored ones",
				  (unsigned long long)old.id);
	}
	/* what the relay may change, on what was submitted */
	merged = old;
	merged.next_attempt = op->in->next_attempt;
	merged.attempts = op->in->attempts;
	merged.rcpts = op->in->rcpts;
	if ((rc = queue_entry_unindex_txn(txn, &old)) == 0)
		rc = queue_entry_put_txn(txn, &merged);
	store_queue_entry_free(&old);
	return rc;
}

int store_queue_update(const struct queue_entry *e, bool *found_r,
		       const char **error_r)
{
	struct queue_op op = { .in = e };

	if (store_write(update_txn, &op, false, error_r) < 0)
		return -1;
	*found_r = op.found;
	return 0;
}

static int drop_due_of(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		       const MDB_val *val, void *ctx)
{
	const uint64_t *id = ctx;

	(void)txn;
	(void)val;
	if (key->mv_size == QUEUE_DUE_KEY_LEN &&
	    store_get_be64((const uint8_t *)key->mv_data + 8) == *id)
		return mdb_cursor_del(cur, 0);
	return 0;
}

static int remove_txn(MDB_txn *txn, void *vctx)
{
	struct queue_op *op = vctx;
	struct queue_entry old;
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf };
	int rc;

	queue_id_key(kbuf, op->id);
	rc = queue_entry_get_txn(txn, op->id, &old);
	op->found = rc != MDB_NOTFOUND;
	if (rc == STORE_EFAIL) {
		/* a damaged record can still be removed (that is what its
		 * error message suggests); its index key is found by a walk,
		 * its body file is left behind, unknown */
		op->summary.id = op->id;
		op->summary.damaged = true;
		rc = store_walk_prefix(txn, store_dbi(DB_QUEUE_DUE), "", 0,
				       drop_due_of, &op->id);
		if (rc != 0)
			return rc;
		return mdb_del(txn, store_dbi(DB_QUEUE), &key, NULL);
	}
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	store_queue_summarize(&old, &op->summary);
	if ((rc = queue_entry_unindex_txn(txn, &old)) == 0)
		rc = mdb_del(txn, store_dbi(DB_QUEUE), &key, NULL);
	store_queue_entry_free(&old);
	return rc;
}

int store_queue_remove(uint64_t id, struct queue_summary *removed_r,
		       bool *found_r, const char **error_r)
{
	struct queue_op op = { .id = id };

	if (store_write(remove_txn, &op, false, error_r) < 0)
		return -1;
	*found_r = op.found;
	if (removed_r != NULL)
		*removed_r = op.summary;
	return 0;
}

static int list_txn(MDB_txn *txn, void *vctx)
{
	struct queue_op *op = vctx;
	MDB_cursor *cur;
	MDB_val key, val;
	int rc;

	if ((rc = mdb_cursor_open(txn, store_dbi(DB_QUEUE), &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		struct queue_summary s;
		struct queue_entry e;

		if (key.mv_size != 8) {
			rc = store_fail("corrupt queue key (not 8 octets)");
			break;
		}
		rc = queue_entry_decode(store_get_be64(key.mv_data), &val, &e);
		if (rc != 0)
			break;
		store_queue_summarize(&e, &s);
		op->cb(&e, &s, op->ctx);
		store_queue_entry_free(&e);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_queue_list(store_queue_cb *cb, void *ctx, const char **error_r)
{
	struct queue_op op = { .cb = cb, .ctx = ctx };

	return store_read(list_txn, &op, error_r);
}

int queue_body_open(const struct queue_entry *e, int *fd_r)
{
	*fd_r = body_open(e->body_id);
	return *fd_r < 0 ? -1 : 0;
}

void queue_body_unlink(const struct queue_entry *e)
{
	body_unlink(e->body_id);
}

void queue_rcpt_reply_text(const struct queue_rcpt *r, char *buf, size_t size)
{
	if (r->reply_code == 0)
		snprintf(buf, size, "%s", r->reply);
	else
		snprintf(buf, size, "%u%s%s%s%s", r->reply_code,
			 r->enhanced[0] ? " " : "", r->enhanced,
			 r->reply[0] ? " " : "", r->reply);
}

const struct queue_rcpt *queue_entry_last_problem(const struct queue_entry *e)
{
	const struct queue_rcpt *last = NULL;

	for (size_t i = 0; i < e->rcpt_count; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		if (r->state == QUEUE_RCPT_PENDING &&
		    (r->reply_code != 0 || r->reply[0] != '\0') &&
		    (last == NULL || r->last_attempt >= last->last_attempt))
			last = r;
	}
	return last;
}

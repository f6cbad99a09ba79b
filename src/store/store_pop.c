/* store_pop.c - what a POP session's end does to its mailbox under the
 * provider's policies (module API mailbox_pop_quit, mailbox_expire):
 * messages marked with DELE are removed, hidden from POP, marked read or
 * moved into an archive mailbox, all in one transaction; retrieved mail
 * older than EXPIRE goes. */
#include "build-config.h"

#include <string.h>

#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"

struct quit_ctx {
	uint64_t mailbox_id;
	uint64_t owner_id;
	const uint32_t *uids;
	size_t count;
	enum pop_delete_mode mode;
	const char *archive;
	size_t done;
	struct body_list bodies;	/* removed: unlinked after the commit */
};

/* Remove one message record (its body file goes after the commit). */
static int remove_one(MDB_txn *txn, struct quit_ctx *c, MDB_val *key,
		      const struct message_rec *m)
{
	int rc;

	store_body_list_add(&c->bodies, m->body_id);
	if ((rc = store_usage_add_txn(txn, c->mailbox_id, -1, -(int64_t)m->size)) != 0)
		return rc;
	return mdb_del(txn, store_dbi(DB_MESSAGES), key, NULL);
}

static int rewrite(MDB_txn *txn, MDB_val *key, const struct message_rec *m)
{
	struct rec_writer w;
	MDB_val val;

	store_message_encode(&w, m);
	if (w.overflow)
		return store_fail("message record too large");
	val.mv_size = w.len;
	val.mv_data = w.data;
	return mdb_put(txn, store_dbi(DB_MESSAGES), key, &val, 0);
}

/* Move a message into the archive mailbox `mb` under a new UID; the body
 * file stays where it is. */
static int move_one(MDB_txn *txn, struct quit_ctx *c, MDB_val *key,
		    const struct message_rec *m, struct mailbox_rec *mb)
{
	uint8_t nkbuf[12];
	MDB_val nkey = { sizeof(nkbuf), nkbuf };
	int rc;

	if (mb->uidnext == UINT32_MAX)
		return store_fail("archive mailbox %s has used up its UIDs", c->archive);
	if ((rc = store_usage_add_txn(txn, c->mailbox_id, -1, -(int64_t)m->size)) != 0 ||
	    (rc = mdb_del(txn, store_dbi(DB_MESSAGES), key, NULL)) != 0)
		return rc;
	store_message_key(nkbuf, mb->id, mb->uidnext++);
	if ((rc = store_usage_add_txn(txn, mb->id, 1, (int64_t)m->size)) != 0)
		return rc;
	return rewrite(txn, &nkey, m);
}

static int quit_txn(MDB_txn *txn, void *vctx)
{
	struct quit_ctx *c = vctx;
	struct mailbox_rec mb;
	int rc;

	c->done = 0;
	c->bodies.count = 0;	/* the transaction may be retried */
	if (c->mode == POP_DELETE_ARCHIVE && c->count > 0) {
		rc = store_mailbox_get_txn(txn, c->owner_id, c->archive, &mb);
		if (rc == MDB_NOTFOUND) {
			if ((rc = store_mailbox_create_txn(txn, c->owner_id, c->archive)) != 0)
				return rc;
			rc = store_mailbox_get_txn(txn, c->owner_id, c->archive, &mb);
		}
		if (rc != 0)
			return rc;
		if (mb.id == c->mailbox_id)
			return store_fail("archive mailbox %s is the mailbox itself",
					  c->archive);
	}
	for (size_t i = 0; i < c->count; i++) {
		uint8_t kbuf[12];
		MDB_val key = { sizeof(kbuf), kbuf }, val;
		struct message_rec m;

		store_message_key(kbuf, c->mailbox_id, c->uids[i]);
		rc = mdb_get(txn, store_dbi(DB_MESSAGES), &key, &val);
		if (rc == MDB_NOTFOUND)
			continue;	/* another session removed it */
		if (rc != 0 || (rc = store_message_decode(&val, &m)) != 0)
			return rc;
		switch (c->mode) {
		case POP_DELETE_REMOVE:
			rc = remove_one(txn, c, &key, &m);
			break;
		case POP_DELETE_HIDE:
			m.flags |= MSG_POP_HIDDEN;
			rc = rewrite(txn, &key, &m);
			break;
		case POP_DELETE_MARK_READ:
			m.flags |= MSG_SEEN;
			rc = rewrite(txn, &key, &m);
			break;
		case POP_DELETE_ARCHIVE:
			rc = move_one(txn, c, &key, &m, &mb);
			break;
		}
		if (rc != 0)
			return rc;
		c->done++;
	}
	if (c->mode == POP_DELETE_ARCHIVE && c->count > 0)
		return store_mailbox_put_txn(txn, c->owner_id, c->archive, &mb);
	return 0;
}

int mailbox_pop_quit(const struct mailbox_open *open, const uint32_t *uids,
		     size_t count, const struct pop_policy *p, size_t *done_r,
		     const char **error_r)
{
	struct quit_ctx c = {
		.mailbox_id = open->snap->mailbox_id, .owner_id = open->owner.id,
		.uids = uids, .count = count,
		.mode = p != NULL ? p->delete_mode : POP_DELETE_REMOVE,
		.archive = p != NULL ? p->archive : "",
	};
	int ret = 0;

	if (count > 0)
		ret = store_write(quit_txn, &c, false, error_r);
	if (ret < 0)
		c.bodies.count = 0;	/* nothing was removed */
	/* bodies go only after the metadata commit: a crash in between
	 * leaves an orphan file, never a record without its body */
	store_body_list_unlink_free(&c.bodies);
	*done_r = ret < 0 ? 0 : c.done;
	return ret;
}

struct expire_ctx {
	uint64_t mailbox_id, cutoff;
	size_t removed;
	struct body_list bodies;
};

static int expire_one(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		      const MDB_val *val, void *vctx)
{
	struct expire_ctx *c = vctx;
	struct message_rec m;
	int rc;

	(void)key;
	if (key->mv_size != 12)
		return 0;
	if ((rc = store_message_decode(val, &m)) != 0)
		return rc;
	if (!(m.flags & MSG_SEEN) || m.internal_date >= c->cutoff)
		return 0;
	store_body_list_add(&c->bodies, m.body_id);
	if ((rc = store_usage_add_txn(txn, c->mailbox_id, -1, -(int64_t)m.size)) != 0)
		return rc;
	c->removed++;
	return mdb_cursor_del(cur, 0);
}

static int expire_txn(MDB_txn *txn, void *vctx)
{
	struct expire_ctx *c = vctx;
	uint8_t prefix[8];

	c->removed = 0;
	c->bodies.count = 0;
	store_be64(prefix, c->mailbox_id);
	return store_walk_prefix(txn, store_dbi(DB_MESSAGES), prefix, sizeof(prefix),
				 expire_one, c);
}

int mailbox_expire(uint64_t mailbox_id, uint64_t cutoff, size_t *removed_r,
		   const char **error_r)
{
	struct expire_ctx c = { mailbox_id, cutoff, 0, { 0 } };
	int ret = store_write(expire_txn, &c, false, error_r);

	if (ret < 0)
		c.bodies.count = 0;
	store_body_list_unlink_free(&c.bodies);
	*removed_r = ret < 0 ? 0 : c.removed;
	return ret;
}

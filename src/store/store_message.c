/* store_message.c - message metadata: add, snapshot, Seen, expunge. */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"
#include "store/store_retrieval.h"

#define MESSAGE_REC_V1 1
#define MESSAGE_REC_V2 2	/* + X-Real-To addresses */

void store_message_key(uint8_t key[12], uint64_t mailbox_id, uint32_t uid)
{
	store_be64(key, mailbox_id);
	store_be32(key + 8, uid);
}

void store_message_encode(struct rec_writer *w, const struct message_rec *m)
{
	rec_init(w, MESSAGE_REC_V2);
	rec_put_u32(w, m->size);
	rec_put_u32(w, m->hdr_len);
	rec_put_u32(w, m->flags);
	rec_put_u64(w, m->internal_date);
	rec_put_bytes(w, m->body_id, BODY_ID_LEN);
	if (m->flags & MSG_CUSTOM_UIDL)
		rec_put_str(w, m->uidl);
	rec_put_u32(w, m->realto_len);
	rec_put_bytes(w, m->realto, m->realto_len);
}

int store_message_decode(const MDB_val *val, struct message_rec *m)
{
	struct rec_reader r;
	uint8_t version;

	rec_read_init(&r, val->mv_data, val->mv_size);
	version = rec_get_u8(&r);
	if (version != MESSAGE_REC_V1 && version != MESSAGE_REC_V2)
		return store_fail("corrupt message record");
	m->size = rec_get_u32(&r);
	m->hdr_len = rec_get_u32(&r);
	m->flags = rec_get_u32(&r);
	m->internal_date = rec_get_u64(&r);
	rec_get_bytes(&r, m->body_id, BODY_ID_LEN);
	m->uidl[0] = '\0';
	if (m->flags & MSG_CUSTOM_UIDL)
		rec_get_str(&r, m->uidl, sizeof(m->uidl));
	m->realto = "";
	m->realto_len = 0;
	if (version >= MESSAGE_REC_V2) {
		uint32_t len = rec_get_u32(&r);

		/* no copy: the addresses are read where LMDB keeps them */
		if (!r.bad && len <= r.len - r.off) {
			m->realto = (const char *)r.data + r.off;
			m->realto_len = len;
			r.off += len;
		} else {
			r.bad = true;
		}
	}
	return r.bad ? store_fail("corrupt message record") : 0;
}

bool uidl_valid(const char *uidl)
{
	size_t len = strlen(uidl);

	if (len < 1 || len > UIDL_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)uidl[i] < 0x21 || (unsigned char)uidl[i] > 0x7e)
			return false;
	}
	return true;
}

struct deliver_ctx {
	struct store_target *targets;
	size_t count;
	bool quota;		/* false: an admin import, no quota */
	const char *custom_uidl;
	uint64_t internal_date;	/* 0: now */
};

/* Would `size` more octets exceed the account's quota?  The usage is the
 * committed one plus what this transaction has added (it reads its own
 * writes). */
static int over_quota(MDB_txn *txn, const struct account *account,
		      uint64_t size, bool *over_r)
{
	struct account_info info;
	struct mailbox_usage u;
	int rc;

	*over_r = false;
	if ((rc = store_account_info_txn(txn, account, &info)) != 0)
		return rc;
	if (info.quota == 0)
		return 0;
	if ((rc = store_account_usage_txn(txn, account->id, &u)) != 0)
		return rc;
	*over_r = u.octets + size > info.quota;
	return 0;
}

static int add_one(MDB_txn *txn, struct store_target *t, bool quota,
		   const char *custom_uidl, uint64_t internal_date)
{
	struct mailbox_rec mb;
	struct message_rec m;
	struct rec_writer w;
	uint8_t kbuf[12];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	bool over;
	int rc;

	rc = store_account_check_txn(txn, t->account);
	if (rc == STORE_EFAIL) {
		t->result = STORE_TARGET_NO_ACCOUNT;
		return 0;
	}
	if (rc != 0)
		return rc;
	rc = store_mailbox_get_txn(txn, t->account->id, t->mailbox, &mb);
	if (rc == MDB_NOTFOUND) {
		t->result = STORE_TARGET_NO_MAILBOX;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (mb.uidnext == UINT32_MAX) {
		t->result = STORE_TARGET_FULL;
		return 0;
	}
	if (quota) {
		if ((rc = over_quota(txn, t->account, t->body->size, &over)) != 0)
			return rc;
		if (over) {
			t->result = STORE_TARGET_OVER_QUOTA;
			return 0;
		}
	}
	if (t->retrieval_source != 0) {
		bool dup;

		if ((rc = store_retrieval_seen_add_txn(txn, t->retrieval_source,
						       t->retrieval_key, &dup)) != 0)
			return rc;
		if (dup) {
			t->result = STORE_TARGET_DUPLICATE;
			return 0;
		}
	}
	memset(&m, 0, sizeof(m));
	m.size = t->body->size;
	m.hdr_len = t->body->hdr_len;
	m.flags = t->body->has_dot_line ? MSG_HAS_DOT_LINE : 0;
	m.internal_date = internal_date ? internal_date : (uint64_t)time(NULL);
	memcpy(m.body_id, t->body->id, BODY_ID_LEN);
	if (custom_uidl != NULL) {
		m.flags |= MSG_CUSTOM_UIDL;
		snprintf(m.uidl, sizeof(m.uidl), "%s", custom_uidl);
	}
	m.realto = t->realto != NULL ? t->realto : "";
	m.realto_len = (uint32_t)strlen(m.realto);
	t->uid = mb.uidnext++;
	store_message_key(kbuf, mb.id, t->uid);
	store_message_encode(&w, &m);
	if (w.overflow)
		return store_fail("message record too large (%u octets of X-Real-To addresses)",
				  m.realto_len);
	val.mv_size = w.len;
	val.mv_data = w.data;
	/* the counter first: a missing one is counted from the messages,
	 * which must not include this one yet */
	if ((rc = store_usage_add_txn(txn, mb.id, 1, m.size)) != 0 ||
	    (rc = mdb_put(txn, store_dbi(DB_MESSAGES), &key, &val,
			  MDB_NOOVERWRITE)) != 0)
		return rc;
	t->result = STORE_TARGET_OK;
	return store_mailbox_put_txn(txn, t->account->id, t->mailbox, &mb);
}

static int deliver_txn(MDB_txn *txn, void *vctx)
{
	struct deliver_ctx *c = vctx;
	int rc;

	for (size_t i = 0; i < c->count; i++) {
		c->targets[i].uid = 0;
		if ((rc = add_one(txn, &c->targets[i], c->quota,
				  c->custom_uidl, c->internal_date)) != 0)
			return rc;
	}
	return 0;
}

int store_deliver(struct store_target *targets, size_t count,
		  const char **error_r)
{
	struct deliver_ctx c = { targets, count, true, NULL, 0 };

	return store_write(deliver_txn, &c, false, error_r);
}

int store_message_add(const struct account *account, const char *mailbox,
		      const struct body_info *body, const char *custom_uidl,
		      uint32_t *uid_r, const char **error_r)
{
	return store_message_add_dated(account, mailbox, body, custom_uidl, 0,
				       uid_r, error_r);
}

int store_message_add_dated(const struct account *account, const char *mailbox,
			    const struct body_info *body, const char *custom_uidl,
			    uint64_t internal_date, uint32_t *uid_r,
			    const char **error_r)
{
	struct store_target t = {
		.account = account, .mailbox = mailbox, .body = body,
	};
	struct deliver_ctx c = { &t, 1, false, custom_uidl, internal_date };
	static _Thread_local char err[ADDRESS_MAX + MAILBOX_NAME_MAX + 64];

	if (custom_uidl != NULL && !uidl_valid(custom_uidl)) {
		*error_r = "invalid UIDL: 1-70 characters from 0x21 to 0x7e";
		return -1;
	}
	if (store_write(deliver_txn, &c, false, error_r) < 0)
		return -1;
	switch (t.result) {
	case STORE_TARGET_OK:
		*uid_r = t.uid;
		return 0;
	case STORE_TARGET_NO_ACCOUNT:
		snprintf(err, sizeof(err), "no such account: %s@%s",
			 account->name, account->domain);
		break;
	case STORE_TARGET_NO_MAILBOX:
		snprintf(err, sizeof(err), "no mailbox %s in account %s@%s",
			 mailbox, account->name, account->domain);
		break;
	case STORE_TARGET_DUPLICATE:
	case STORE_TARGET_FULL:
	case STORE_TARGET_OVER_QUOTA:
		snprintf(err, sizeof(err), "mailbox %s has used up its UIDs",
			 mailbox);
		break;
	}
	*error_r = err;
	return -1;
}

/* ---- snapshot (module API) ---- */

struct snap_ctx {
	const struct account *account;
	const char *mailbox;
	const char *view;	/* NULL: every message */
	size_t view_len;
	uint64_t since;		/* 0: every message */
	bool skip_hidden;
	struct mailbox_snapshot *snap;
	size_t alloc, arena_len, arena_alloc;
	bool found;
};

/* Was the message delivered for this address (one of its X-Real-To)? */
static bool realto_has(const struct message_rec *m, const char *addr,
		       size_t len)
{
	const char *p = m->realto, *end = m->realto + m->realto_len;

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = sp != NULL ? (size_t)(sp - p) : (size_t)(end - p);

		if (n == len && memcmp(p, addr, len) == 0)
			return true;
		p += n + 1;
	}
	return false;
}

static void snap_reset(struct snap_ctx *c)
{
	c->snap->count = 0;
	c->snap->total_size = 0;
	c->arena_len = 0;
}

static int snapshot_txn(MDB_txn *txn, void *vctx)
{
	struct snap_ctx *c = vctx;
	struct mailbox_snapshot *snap = c->snap;
	struct mailbox_rec mb;
	uint8_t kbuf[12];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	MDB_cursor *cur;
	int rc;

	snap_reset(c);
	rc = store_mailbox_get_txn(txn, c->account->id, c->mailbox, &mb);
	c->found = rc == 0;
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	snap->mailbox_id = mb.id;
	snap->uidvalidity = mb.uidvalidity;
	store_message_key(kbuf, mb.id, 0);
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_MESSAGES), &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		struct message_rec m;
		struct msg_info *mi;

		if (key.mv_size != 12 || store_get_be64(key.mv_data) != mb.id)
			break;
		if ((rc = store_message_decode(&val, &m)) != 0)
			break;
		if (c->view != NULL && !realto_has(&m, c->view, c->view_len))
			continue;
		if ((c->skip_hidden && (m.flags & MSG_POP_HIDDEN)) ||
		    m.internal_date < c->since)
			continue;
		if (snap->count == c->alloc) {
			c->alloc = c->alloc ? c->alloc * 2 : 64;
			snap->msgs = xrealloc(snap->msgs, c->alloc * sizeof(*mi));
		}
		mi = &snap->msgs[snap->count++];
		mi->uid = store_get_be32((const uint8_t *)key.mv_data + 8);
		mi->size = m.size;
		mi->hdr_len = m.hdr_len;
		mi->flags = m.flags;
		mi->uidl_off = 0;
		memcpy(mi->body_id, m.body_id, BODY_ID_LEN);
		snap->total_size += m.size;
		if (m.flags & MSG_CUSTOM_UIDL) {
			size_t len = strlen(m.uidl) + 1;

			if (c->arena_len + len > c->arena_alloc) {
				c->arena_alloc = (c->arena_alloc + len) * 2;
				snap->uidl_arena = xrealloc(snap->uidl_arena,
							    c->arena_alloc);
			}
			memcpy(snap->uidl_arena + c->arena_len, m.uidl, len);
			mi->uidl_off = (uint32_t)c->arena_len;
			c->arena_len += len;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int mailbox_snapshot_take(const struct account *account, const char *mailbox,
			  const char *view, struct mailbox_snapshot **snap_r,
			  const char **error_r)
{
	struct snapshot_filter f = { .view = view };

	return mailbox_snapshot_take_filtered(account, mailbox, &f, snap_r,
					      error_r);
}

int mailbox_snapshot_take_filtered(const struct account *account,
				   const char *mailbox,
				   const struct snapshot_filter *f,
				   struct mailbox_snapshot **snap_r,
				   const char **error_r)
{
	struct snap_ctx c = { .account = account, .mailbox = mailbox,
			      .since = f->since, .skip_hidden = f->skip_hidden };

	if (f->view != NULL && f->view[0] != '\0') {
		c.view = f->view;
		c.view_len = strlen(f->view);
	}

	c.snap = xcalloc(1, sizeof(*c.snap));
	if (store_read(snapshot_txn, &c, error_r) < 0) {
		mailbox_snapshot_free(&c.snap);
		return -1;
	}
	if (!c.found) {
		*error_r = "no such mailbox";
		mailbox_snapshot_free(&c.snap);
		return -1;
	}
	*snap_r = c.snap;
	return 0;
}

void mailbox_snapshot_free(struct mailbox_snapshot **snapp)
{
	struct mailbox_snapshot *snap = *snapp;

	if (snap == NULL)
		return;
	free(snap->msgs);
	free(snap->uidl_arena);
	free(snap);
	*snapp = NULL;
}

void mailbox_snapshot_uidl(const struct mailbox_snapshot *snap,
			   const struct msg_info *msg, char *buf)
{
	if (msg->flags & MSG_CUSTOM_UIDL)
		snprintf(buf, UIDL_MAX + 1, "%s", snap->uidl_arena + msg->uidl_off);
	else
		snprintf(buf, UIDL_MAX + 1, "%08x%08x", snap->uidvalidity,
			 msg->uid);
}

int message_body_open(const struct msg_info *msg, int *fd_r)
{
	int fd = body_open(msg->body_id);

	if (fd < 0)
		return -1;
	*fd_r = fd;
	return 0;
}

/* ---- Seen ---- */

struct seen_mark {
	uint64_t mailbox_id;
	uint32_t uid;
};

static struct seen_mark *seen_queue;
static size_t seen_count, seen_alloc;
static bool seen_deferred;

static int seen_txn(MDB_txn *txn, void *vctx)
{
	(void)vctx;
	for (size_t i = 0; i < seen_count; i++) {
		struct message_rec m;
		struct rec_writer w;
		uint8_t kbuf[12];
		MDB_val key = { sizeof(kbuf), kbuf }, val;
		int rc;

		store_message_key(kbuf, seen_queue[i].mailbox_id, seen_queue[i].uid);
		rc = mdb_get(txn, store_dbi(DB_MESSAGES), &key, &val);
		if (rc == MDB_NOTFOUND)
			continue;	/* removed meanwhile */
		if (rc != 0)
			return rc;
		if ((rc = store_message_decode(&val, &m)) != 0)
			return rc;
		if (m.flags & MSG_SEEN)
			continue;
		m.flags |= MSG_SEEN;
		store_message_encode(&w, &m);
		val.mv_size = w.len;
		val.mv_data = w.data;
		if ((rc = mdb_put(txn, store_dbi(DB_MESSAGES), &key, &val, 0)) != 0)
			return rc;
	}
	return 0;
}

void store_seen_defer(bool on)
{
	seen_deferred = on;
}

int store_seen_flush(const char **error_r)
{
	int ret;

	if (seen_count == 0)
		return 0;
	/* A lost Seen flag after a power cut is acceptable; an fsync of the
	 * meta page per RETR is not.  One commit serves every RETR of this
	 * loop turn, across sessions. */
	ret = store_write(seen_txn, NULL, true, error_r);
	seen_count = 0;
	return ret;
}

int message_set_seen(uint64_t mailbox_id, uint32_t uid, const char **error_r)
{
	if (seen_count == seen_alloc) {
		seen_alloc = seen_alloc ? seen_alloc * 2 : 64;
		seen_queue = xrealloc(seen_queue, seen_alloc * sizeof(*seen_queue));
	}
	seen_queue[seen_count].mailbox_id = mailbox_id;
	seen_queue[seen_count].uid = uid;
	seen_count++;
	return seen_deferred ? 0 : store_seen_flush(error_r);
}

/* ---- expunge ---- */

struct expunge_ctx {
	uint64_t mailbox_id;
	const uint32_t *uids;
	size_t count;
	size_t removed;
	struct body_list bodies;
};

static int expunge_txn(MDB_txn *txn, void *vctx)
{
	struct expunge_ctx *c = vctx;

	c->removed = 0;
	c->bodies.count = 0;
	for (size_t i = 0; i < c->count; i++) {
		uint8_t kbuf[12];
		MDB_val key = { sizeof(kbuf), kbuf }, val;
		struct message_rec m;
		int rc;

		store_message_key(kbuf, c->mailbox_id, c->uids[i]);
		rc = mdb_get(txn, store_dbi(DB_MESSAGES), &key, &val);
		if (rc == MDB_NOTFOUND)
			continue;	/* another session removed it */
		if (rc != 0)
			return rc;
		if ((rc = store_message_decode(&val, &m)) != 0)
			return rc;
		store_body_list_add(&c->bodies, m.body_id);
		if ((rc = store_usage_add_txn(txn, c->mailbox_id, -1,
					      -(int64_t)m.size)) != 0 ||
		    (rc = mdb_del(txn, store_dbi(DB_MESSAGES), &key, NULL)) != 0)
			return rc;
		c->removed++;
	}
	return 0;
}

int mailbox_expunge(uint64_t mailbox_id, const uint32_t *uids, size_t count,
		    size_t *removed_r, const char **error_r)
{
	struct expunge_ctx c = { mailbox_id, uids, count, 0, { 0 } };
	int ret = 0;

	if (count > 0)
		ret = store_write(expunge_txn, &c, false, error_r);
	if (ret < 0)
		c.bodies.count = 0;	/* nothing was removed */
	/* bodies go only after the metadata commit: a crash in between
	 * leaves an orphan file, never a record without its body */
	store_body_list_unlink_free(&c.bodies);
	*removed_r = ret < 0 ? 0 : c.removed;
	return ret;
}

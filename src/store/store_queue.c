/* store_queue.c - the relay queue's entries and their due index
 * (store_queue.h). */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "mail/submission.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_queue.h"

/* Whatever a submission may carry, an entry can hold. */
_Static_assert(QUEUE_RCPT_MAX >= SUBMISSION_RCPT_MAX,
	       "a submission's recipients must fit in a queue entry");
_Static_assert(QUEUE_ADDRESS_MAX >= SUBMISSION_ADDRESS_MAX,
	       "a submission's addresses must fit in a queue entry");

/* Record version 1, in this order (integers in host order, as record.h
 * writes them; strings u32 length + octets):
 *   u8 version, u64 created, u64 next_attempt, u32 attempts,
 *   str sender, str account, str client_ip, 16 octets body id,
 *   u64 body size, u32 recipient count, then per recipient:
 *   str address, u8 state, u32 reply code, str enhanced, str reply,
 *   u64 last attempt.
 * The id is the key only. */
#define QUEUE_REC_V1 1

#define REC_STR(n) (4 + (n))
#define QUEUE_REC_HEAD_MAX (1 + 8 + 8 + 4 + REC_STR(QUEUE_ADDRESS_MAX) + \
			    REC_STR(ADDRESS_MAX) + REC_STR(IP_TEXT_MAX) + \
			    BODY_ID_LEN + 8 + 4)
#define QUEUE_REC_RCPT_MAX (REC_STR(QUEUE_ADDRESS_MAX) + 1 + 4 + \
			    REC_STR(QUEUE_ENHANCED_MAX) + \
			    REC_STR(QUEUE_REPLY_MAX) + 8)
/* The largest record an entry within the limits makes, some 780 KiB:
 * LMDB keeps it in overflow pages, and only an entry near every limit
 * makes the rewrite of each update costly.  Nothing valid exceeds it. */
#define QUEUE_REC_MAX (QUEUE_REC_HEAD_MAX + \
		       (size_t)QUEUE_RCPT_MAX * QUEUE_REC_RCPT_MAX)
/* A recipient's smallest encoding: three empty strings and the numbers. */
#define QUEUE_REC_RCPT_MIN (3 * 4 + 1 + 4 + 8)

#define DUE_KEY_LEN 16
/* What is wrong with an entry: a recipient's address and a few words. */
#define WHY_MAX (QUEUE_ADDRESS_MAX + 100)

/* ---- entries in memory ---- */

void store_queue_entry_init(struct queue_entry *e, size_t rcpt_count)
{
	memset(e, 0, sizeof(*e));
	e->rcpt_count = rcpt_count;
	if (rcpt_count > 0)
		e->rcpts = xcalloc(rcpt_count, sizeof(*e->rcpts));
}

void store_queue_entry_free(struct queue_entry *e)
{
	free(e->rcpts);
	e->rcpts = NULL;
	e->rcpt_count = 0;
}

void store_queue_summarize(const struct queue_entry *e,
			   struct queue_summary *s_r)
{
	memset(s_r, 0, sizeof(*s_r));
	s_r->id = e->id;
	memcpy(s_r->body_id, e->body_id, BODY_ID_LEN);
	s_r->total = e->rcpt_count;
	for (size_t i = 0; i < e->rcpt_count; i++) {
		switch (e->rcpts[i].state) {
		case QUEUE_RCPT_PENDING:
			s_r->pending++;
			break;
		case QUEUE_RCPT_DONE:
			s_r->done++;
			break;
		case QUEUE_RCPT_FAILED:
			s_r->failed++;
			break;
		}
	}
}

static bool has_pending(const struct queue_entry *e)
{
	for (size_t i = 0; i < e->rcpt_count; i++) {
		if (e->rcpts[i].state == QUEUE_RCPT_PENDING)
			return true;
	}
	return false;
}

/* Reply text as it is stored: what a remote server says goes into bounces,
 * logs and an admin's terminal, so only printable ASCII is kept. */
static size_t clean_text(char *out, size_t size, const char *text, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c > 0x7e)
			c = '?';
		out[i] = (char)c;
	}
	out[n] = '\0';
	return n;
}

/* RFC 3463: class "." subject "." detail; class 2, 4 or 5, the others 1-3
 * digits. */
static bool enhanced_valid(const char *s)
{
	size_t n;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	s += 2;
	for (int part = 0; part < 2; part++) {
		n = strspn(s, "0123456789");
		if (n < 1 || n > 3)
			return false;
		s += n;
		if (part == 0 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

void queue_rcpt_set_reply(struct queue_rcpt *rcpt, uint16_t code,
			  const char *enhanced, const char *text, size_t len)
{
	rcpt->reply_code = code >= 200 && code <= 599 ? code : 0;
	rcpt->enhanced[0] = '\0';
	if (enhanced != NULL && strlen(enhanced) <= QUEUE_ENHANCED_MAX &&
	    enhanced_valid(enhanced))
		memcpy(rcpt->enhanced, enhanced, strlen(enhanced) + 1);
	clean_text(rcpt->reply, sizeof(rcpt->reply), text != NULL ? text : "",
		   text != NULL ? len : 0);
}

/* ---- checking ---- */

/* A string field: NUL-terminated within its array, without control
 * characters (a CR or LF in an address would reach the SMTP dialogue). */
static bool field_ok(const char *s, size_t size, bool printable_only)
{
	size_t len = strnlen(s, size);

	if (len == size)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (printable_only && c > 0x7e))
			return false;
	}
	return true;
}

/* What is wrong with an entry, into why (NULL: nothing).  `stored`: it
 * was read from the store, where the reply text is already clean. */
static const char *entry_problem(const struct queue_entry *e, bool stored,
				 char *why, size_t size)
{
	if (e->rcpt_count == 0)
		return "no recipients";
	if (e->rcpt_count > QUEUE_RCPT_MAX) {
		snprintf(why, size, "%zu recipients (at most %d)",
			 e->rcpt_count, QUEUE_RCPT_MAX);
		return why;
	}
	if (!field_ok(e->sender, sizeof(e->sender), false))
		return "invalid sender address";
	if (!field_ok(e->account, sizeof(e->account), false))
		return "invalid account name";
	if (!field_ok(e->client_ip, sizeof(e->client_ip), true))
		return "invalid client IP";
	for (size_t i = 0; i < e->rcpt_count; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		if (r->address[0] == '\0' ||
		    !field_ok(r->address, sizeof(r->address), false))
			snprintf(why, size, "recipient %zu: invalid address", i + 1);
		else if (r->state != QUEUE_RCPT_PENDING &&
			 r->state != QUEUE_RCPT_DONE &&
			 r->state != QUEUE_RCPT_FAILED)
			snprintf(why, size, "recipient %s: unknown state %d",
				 r->address, (int)r->state);
		else if (r->reply_code != 0 &&
			 (r->reply_code < 200 || r->reply_code > 599))
			snprintf(why, size, "recipient %s: reply code %u is not 200..599",
				 r->address, r->reply_code);
		else if (!field_ok(r->enhanced, sizeof(r->enhanced), true) ||
			 (r->enhanced[0] != '\0' && !enhanced_valid(r->enhanced)))
			snprintf(why, size, "recipient %s: enhanced status is not of the form 4.4.1",
				 r->address);
		else if (strnlen(r->reply, sizeof(r->reply)) == sizeof(r->reply) ||
			 (stored && !field_ok(r->reply, sizeof(r->reply), true)))
			snprintf(why, size, "recipient %s: invalid reply text",
				 r->address);
		else
			continue;
		return why;
	}
	return NULL;
}

/* ---- records ---- */

static void encode_entry(struct rec_buf *w, const struct queue_entry *e)
{
	char text[QUEUE_REPLY_MAX + 1];

	rec_buf_init(w, QUEUE_REC_V1, QUEUE_REC_MAX);
	rec_buf_put_u64(w, e->created);
	rec_buf_put_u64(w, e->next_attempt);
	rec_buf_put_u32(w, e->attempts);
	rec_buf_put_str(w, e->sender);
	rec_buf_put_str(w, e->account);
	rec_buf_put_str(w, e->client_ip);
	rec_buf_put_bytes(w, e->body_id, BODY_ID_LEN);
	rec_buf_put_u64(w, e->body_size);
	rec_buf_put_u32(w, (uint32_t)e->rcpt_count);
	for (size_t i = 0; i < e->rcpt_count; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		rec_buf_put_str(w, r->address);
		rec_buf_put_u8(w, (uint8_t)r->state);
		rec_buf_put_u32(w, r->reply_code);
		rec_buf_put_str(w, r->enhanced);
		clean_text(text, sizeof(text), r->reply, strlen(r->reply));
		rec_buf_put_str(w, text);
		rec_buf_put_u64(w, r->last_attempt);
	}
}

static int corrupt(uint64_t id, const char *why)
{
	return store_fail("corrupt queue record %llu: %s - remove it with posternctl queue del %llu",
			  (unsigned long long)id, why, (unsigned long long)id);
}

/* Decode into e (recipients allocated; freed again on failure). */
static int decode_entry(uint64_t id, const MDB_val *val, struct queue_entry *e)
{
	struct rec_reader r;
	char why[WHY_MAX];
	const char *problem;
	uint32_t count;

	memset(e, 0, sizeof(*e));
	e->id = id;
	rec_read_init(&r, val->mv_data, val->mv_size);
	if (rec_get_u8(&r) != QUEUE_REC_V1)
		return corrupt(id, "unknown version");
	e->created = rec_get_u64(&r);
	e->next_attempt = rec_get_u64(&r);
	e->attempts = rec_get_u32(&r);
	rec_get_str(&r, e->sender, sizeof(e->sender));
	rec_get_str(&r, e->account, sizeof(e->account));
	rec_get_str(&r, e->client_ip, sizeof(e->client_ip));
	rec_get_bytes(&r, e->body_id, BODY_ID_LEN);
	e->body_size = rec_get_u64(&r);
	count = rec_get_u32(&r);
	if (r.bad)
		return corrupt(id, "truncated");
	/* a damaged count must not make us allocate what the record cannot
	 * hold */
	if (count == 0 || count > QUEUE_RCPT_MAX ||
	    count > (r.len - r.off) / QUEUE_REC_RCPT_MIN)
		return corrupt(id, "bad recipient count");
	e->rcpts = xcalloc(count, sizeof(*e->rcpts));
	e->rcpt_count = count;
	problem = NULL;
	for (uint32_t i = 0; i < count && !r.bad && problem == NULL; i++) {
		struct queue_rcpt *rc = &e->rcpts[i];
		uint8_t state;
		uint32_t code;

		rec_get_str(&r, rc->address, sizeof(rc->address));
		/* checked before they become an enum and a uint16_t */
		state = rec_get_u8(&r);
		code = rec_get_u32(&r);
		if (state > QUEUE_RCPT_FAILED)
			problem = "unknown recipient state";
		else if (code > 599)
			problem = "bad reply code";
		rc->state = (enum queue_rcpt_state)state;
		rc->reply_code = (uint16_t)code;
		rec_get_str(&r, rc->enhanced, sizeof(rc->enhanced));
		rec_get_str(&r, rc->reply, sizeof(rc->reply));
		rc->last_attempt = rec_get_u64(&r);
	}
	if (problem == NULL && r.bad)
		problem = "truncated";
	if (problem == NULL && r.off != r.len)
		problem = "trailing data";
	/* what was read goes through the checks of a new entry */
	if (problem == NULL)
		problem = entry_problem(e, true, why, sizeof(why));
	if (problem != NULL) {
		int rc = corrupt(id, problem);

		store_queue_entry_free(e);
		return rc;
	}
	return 0;
}

static void id_key(uint8_t key[8], uint64_t id)
{
	store_be64(key, id);
}

static void due_key(uint8_t key[DUE_KEY_LEN], uint64_t next, uint64_t id)
{
	store_be64(key, next);
	store_be64(key + 8, id);
}

static int due_put(MDB_txn *txn, uint64_t next, uint64_t id)
{
	uint8_t kbuf[DUE_KEY_LEN];
	MDB_val key = { sizeof(kbuf), kbuf }, val = { 0, NULL };

	due_key(kbuf, next, id);
	return mdb_put(txn, store_dbi(DB_QUEUE_DUE), &key, &val, 0);
}

static int due_del(MDB_txn *txn, uint64_t next, uint64_t id)
{
	uint8_t kbuf[DUE_KEY_LEN];
	MDB_val key = { sizeof(kbuf), kbuf };
	int rc;

	due_key(kbuf, next, id);
	rc = mdb_del(txn, store_dbi(DB_QUEUE_DUE), &key, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;	/* an index gap is harmless */
}

/* The entry with this id, or MDB_NOTFOUND. */
static int entry_get_txn(MDB_txn *txn, uint64_t id, struct queue_entry *e_r)
{
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	int rc;

	id_key(kbuf, id);
	if ((rc = mdb_get(txn, store_dbi(DB_QUEUE), &key, &val)) != 0)
		return rc;
	return decode_entry(id, &val, e_r);
}

/* Write the record and, while something is pending, its index key (the
 * caller has removed the old one: entry_unindex_txn). */
static int entry_put_txn(MDB_txn *txn, const struct queue_entry *e)
{
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	struct rec_buf w;
	int rc;

	encode_entry(&w, e);
	if (w.overflow) {
		/* the checks bound every field, so this is a bug of ours */
		rec_buf_free(&w);
		return store_fail("queue entry %llu does not fit in %zu octets",
				  (unsigned long long)e->id, (size_t)QUEUE_REC_MAX);
	}
	id_key(kbuf, e->id);
	val.mv_size = w.buf.len;
	val.mv_data = w.buf.data;
	rc = mdb_put(txn, store_dbi(DB_QUEUE), &key, &val, 0);
	rec_buf_free(&w);
	if (rc == 0 && has_pending(e))
		rc = due_put(txn, e->next_attempt, e->id);
	return rc;
}

/* Remove the index key of a stored entry, if it has one. */
static int entry_unindex_txn(MDB_txn *txn, const struct queue_entry *old)
{
	return has_pending(old) ? due_del(txn, old->next_attempt, old->id) : 0;
}

/* ---- operations ---- */

struct queue_op {
	struct queue_entry *entry;
	const struct queue_entry *in;
	uint64_t id;
	bool found, pending;
	struct queue_summary summary;
	size_t count;
	/* store_queue_due */
	uint64_t now, lease_until, next;
	uint64_t *ids;
	size_t max;
	store_queue_cb *cb;
	void *ctx;
};

static int add_txn(MDB_txn *txn, void *vctx)
{
	struct queue_op *op = vctx;
	char why[WHY_MAX];
	const char *problem;
	int rc;

	problem = entry_problem(op->entry, false, why, sizeof(why));
	if (problem != NULL)
		return store_fail("queue entry refused: %s", problem);
	if ((rc = store_next_id(txn, &op->id)) != 0)
		return rc;
	op->entry->id = op->id;
	return entry_put_txn(txn, op->entry);
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
	int rc = entry_get_txn(txn, op->id, op->entry);

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
	char why[WHY_MAX];
	int rc;

	problem = entry_problem(op->in, false, why, sizeof(why));
	if (problem != NULL)
		return store_fail("queue entry %llu: update refused: %s",
				  (unsigned long long)op->in->id, problem);
	rc = entry_get_txn(txn, op->in->id, &old);
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
	if ((rc = entry_unindex_txn(txn, &old)) == 0)
		rc = entry_put_txn(txn, &merged);
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
	if (key->mv_size == DUE_KEY_LEN &&
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

	id_key(kbuf, op->id);
	rc = entry_get_txn(txn, op->id, &old);
	op->found = rc != MDB_NOTFOUND;
	if (rc == STORE_EFAIL) {
		/* a damaged record can still be removed (that is what its
		 * error message suggests); its index key is found by a walk,
		 * its body file is left behind, unknown */
		op->summary.id = op->id;
		op->summary.damaged = true;
		rc = store_walk_prefix(txn, store_dbi(DB_QUEUE_DUE), "", 0,
				       drop_due_of, &op->id);
		return rc != 0 ? rc : mdb_del(txn, store_dbi(DB_QUEUE), &key, NULL);
	}
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	store_queue_summarize(&old, &op->summary);
	if ((rc = entry_unindex_txn(txn, &old)) == 0)
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

/* Set next_attempt of the entry that `key` indexes to `next`, moving its
 * key.  An index key whose entry is gone is dropped: *found_r false. */
static int reschedule_txn(MDB_txn *txn, uint64_t old_next, uint64_t id,
			  uint64_t next, bool *found_r)
{
	struct queue_entry e;
	int rc;

	rc = entry_get_txn(txn, id, &e);
	*found_r = rc == 0;
	if (rc == MDB_NOTFOUND)
		return due_del(txn, old_next, id);
	if (rc != 0)
		return rc;
	if ((rc = entry_unindex_txn(txn, &e)) == 0 &&
	    (rc = due_del(txn, old_next, id)) == 0) {
		e.next_attempt = next;
		rc = entry_put_txn(txn, &e);
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
	struct queue_op *op = vctx;
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

		if (key.mv_size != DUE_KEY_LEN) {
			rc = bad_due_key();
			break;
		}
		next = store_get_be64(key.mv_data);
		id = store_get_be64((uint8_t *)key.mv_data + 8);
		/* a key whose entry is gone (only damage makes one) is
		 * skipped, and dropped when this is a write */
		id_key(ikey, id);
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
	struct queue_op op = { .now = now, .lease_until = lease_until,
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
	struct queue_op *op = vctx;
	struct queue_entry e;
	int rc;

	rc = entry_get_txn(txn, op->id, &e);
	op->found = rc == 0;
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	op->pending = has_pending(&e);
	if (op->pending && e.next_attempt != 0) {
		if ((rc = entry_unindex_txn(txn, &e)) == 0) {
			e.next_attempt = 0;
			rc = entry_put_txn(txn, &e);
		}
	}
	store_queue_entry_free(&e);
	return rc;
}

int store_queue_flush(uint64_t id, bool *found_r, bool *pending_r,
		      const char **error_r)
{
	struct queue_op op = { .id = id };

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
	struct queue_op *op = vctx;
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

		if (key.mv_size != DUE_KEY_LEN) {
			rc = bad_due_key();
			break;
		}
		next = store_get_be64(key.mv_data);
		if (next == 0)
			op->count++;	/* due already */
		else
			due_key_list_add(&later, next,
					 store_get_be64((uint8_t *)key.mv_data + 8));
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
	struct queue_op op = { 0 };

	if (store_write(flush_all_txn, &op, false, error_r) < 0)
		return -1;
	*count_r = op.count;
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
		if ((rc = decode_entry(store_get_be64(key.mv_data), &val, &e)) != 0)
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

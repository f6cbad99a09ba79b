/* check_store_queue.c - unit tests for the relay queue in the store
 * (store_queue.h): entries round trip with every field, the due index
 * follows every change, flush, removal, the limits, and damaged records
 * are errors, not crashes. */
#include "build-config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_queue.h"
#include "unit.h"

#define NOW 1700000000ull

static struct unit_store fx;
static char root_dir[] = "/tmp/check_store_queue.XXXXXX";

static void setup(void)
{
	unit_store_open(&fx, root_dir, 1024 * 1024);
}

static void teardown(void)
{
	unit_store_close(&fx);
}

/* ---- helpers ---- */

/* An entry of n recipients rcpt1@example.org..., due at next. */
static void make_entry(struct queue_entry *e, size_t n, uint64_t next)
{
	store_queue_entry_init(e, n);
	e->created = NOW - 60;
	e->next_attempt = next;
	snprintf(e->sender, sizeof(e->sender), "jsmith@example.com");
	snprintf(e->account, sizeof(e->account), "jsmith@example.com");
	snprintf(e->client_ip, sizeof(e->client_ip), "192.0.2.7");
	for (int i = 0; i < BODY_ID_LEN; i++)
		e->body_id[i] = (uint8_t)(0xa0 + i);
	e->body_size = 1234;
	for (size_t i = 0; i < n; i++)
		snprintf(e->rcpts[i].address, sizeof(e->rcpts[i].address),
			 "rcpt%zu@example.org", i + 1);
}

static uint64_t add_ok(struct queue_entry *e)
{
	const char *error = NULL;
	uint64_t id = 0;

	ck_assert_msg(store_queue_add(e, &id, &error) == 0, "add: %s",
		      error ? error : "(null)");
	ck_assert_uint_ne(id, 0);
	ck_assert_uint_eq(e->id, id);
	return id;
}

/* Add an entry of n recipients due at next; its id. */
static uint64_t add_new(size_t n, uint64_t next)
{
	struct queue_entry e;
	uint64_t id;

	make_entry(&e, n, next);
	id = add_ok(&e);
	store_queue_entry_free(&e);
	return id;
}

static const char *add_bad(struct queue_entry *e)
{
	const char *error = NULL;
	uint64_t id = 0;

	ck_assert_msg(store_queue_add(e, &id, &error) < 0, "entry accepted");
	ck_assert_ptr_nonnull(error);
	return error;
}

static void get_ok(uint64_t id, struct queue_entry *e)
{
	const char *error = NULL;
	bool found = false;

	ck_assert_msg(store_queue_get(id, e, &found, &error) == 0, "get %llu: %s",
		      (unsigned long long)id, error ? error : "(null)");
	ck_assert_msg(found, "queue entry %llu not found", (unsigned long long)id);
}

static bool exists(uint64_t id)
{
	struct queue_entry e;
	const char *error = NULL;
	bool found = true;

	ck_assert_int_eq(store_queue_get(id, &e, &found, &error), 0);
	store_queue_entry_free(&e);
	return found;
}

static void update_ok(const struct queue_entry *e)
{
	const char *error = NULL;
	bool found = false;

	ck_assert_msg(store_queue_update(e, &found, &error) == 0, "update: %s",
		      error ? error : "(null)");
	ck_assert(found);
}

/* The ids due at now (max 16) as "id id id", and *next_r. */
static const char *due(uint64_t now, size_t max, uint64_t lease,
		       uint64_t *next_r)
{
	static char out[512];
	uint64_t ids[16], next = 0;
	const char *error = NULL;
	size_t count = 99;

	ck_assert_uint_le(max, 16);
	ck_assert_msg(store_queue_due(now, lease, ids, max, &count, &next,
				      &error) == 0,
		      "due: %s", error ? error : "(null)");
	ck_assert_uint_le(count, max);
	out[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(out);

		snprintf(out + len, sizeof(out) - len, "%s%llu", i ? " " : "",
			 (unsigned long long)ids[i]);
	}
	if (next_r != NULL)
		*next_r = next;
	return out;
}

static const char *ids_str(int n, const uint64_t *ids)
{
	static char out[512];

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t len = strlen(out);

		snprintf(out + len, sizeof(out) - len, "%s%llu", i ? " " : "",
			 (unsigned long long)ids[i]);
	}
	return out;
}

static void rcpts_eq(const struct queue_rcpt *a, const struct queue_rcpt *b)
{
	ck_assert_str_eq(a->address, b->address);
	ck_assert_int_eq(a->state, b->state);
	ck_assert_uint_eq(a->reply_code, b->reply_code);
	ck_assert_str_eq(a->enhanced, b->enhanced);
	ck_assert_str_eq(a->reply, b->reply);
	ck_assert_str_eq(a->remote_mta, b->remote_mta);
	ck_assert_uint_eq(a->last_attempt, b->last_attempt);
}

static void entries_eq(const struct queue_entry *a, const struct queue_entry *b)
{
	ck_assert_uint_eq(a->id, b->id);
	ck_assert_uint_eq(a->created, b->created);
	ck_assert_uint_eq(a->next_attempt, b->next_attempt);
	ck_assert_uint_eq(a->attempts, b->attempts);
	ck_assert_str_eq(a->sender, b->sender);
	ck_assert_str_eq(a->account, b->account);
	ck_assert_str_eq(a->client_ip, b->client_ip);
	ck_assert_mem_eq(a->body_id, b->body_id, BODY_ID_LEN);
	ck_assert_uint_eq(a->body_size, b->body_size);
	ck_assert_uint_eq(a->rcpt_count, b->rcpt_count);
	for (size_t i = 0; i < a->rcpt_count; i++)
		rcpts_eq(&a->rcpts[i], &b->rcpts[i]);
}

/* Raw access to the queue databases, as damage would leave them. */
struct raw_op {
	enum store_db db;
	uint8_t key[16];
	size_t key_len;
	const void *data;
	size_t len;
	uint8_t *copy;		/* raw_get: malloc'd */
};

static int raw_put_txn(MDB_txn *txn, void *vctx)
{
	struct raw_op *op = vctx;
	MDB_val key = { op->key_len, op->key }, val = { op->len, (void *)op->data };

	return mdb_put(txn, store_dbi(op->db), &key, &val, 0);
}

static void raw_put(enum store_db db, const uint8_t *key, size_t key_len,
		    const void *data, size_t len)
{
	struct raw_op op = { .db = db, .key_len = key_len, .data = data,
			     .len = len };
	const char *error = NULL;

	memcpy(op.key, key, key_len);
	ck_assert_msg(store_write(raw_put_txn, &op, false, &error) == 0,
		      "raw put: %s", error ? error : "(null)");
}

static int raw_get_txn(MDB_txn *txn, void *vctx)
{
	struct raw_op *op = vctx;
	MDB_val key = { op->key_len, op->key }, val;
	int rc = mdb_get(txn, store_dbi(op->db), &key, &val);

	if (rc != 0)
		return rc;
	op->len = val.mv_size;
	op->copy = malloc(val.mv_size);
	memcpy(op->copy, val.mv_data, val.mv_size);
	return 0;
}

/* The stored record of entry id (malloc'd), its length in *len_r. */
static uint8_t *raw_record(uint64_t id, size_t *len_r)
{
	struct raw_op op = { .db = DB_QUEUE, .key_len = 8 };
	const char *error = NULL;

	store_be64(op.key, id);
	ck_assert_msg(store_read(raw_get_txn, &op, &error) == 0, "raw get: %s",
		      error ? error : "(null)");
	*len_r = op.len;
	return op.copy;
}

static void raw_put_record(uint64_t id, const void *data, size_t len)
{
	uint8_t key[8];

	store_be64(key, id);
	raw_put(DB_QUEUE, key, sizeof(key), data, len);
}

static int count_entries_txn(MDB_txn *txn, void *vctx)
{
	struct raw_op *op = vctx;
	MDB_stat st;
	int rc = mdb_stat(txn, store_dbi(op->db), &st);

	op->len = st.ms_entries;
	return rc;
}

static size_t raw_count(enum store_db db)
{
	struct raw_op op = { .db = db };
	const char *error = NULL;

	ck_assert_int_eq(store_read(count_entries_txn, &op, &error), 0);
	return op.len;
}

/* ---- tests ---- */

START_TEST(test_add_get_round_trip)
{
	struct queue_entry e, got;
	const char *error = NULL;
	bool found = true;
	uint64_t id;

	make_entry(&e, 4, NOW);
	e.attempts = 2;
	e.sender[0] = '\0';		/* the null sender of a bounce */
	snprintf(e.client_ip, sizeof(e.client_ip), "2001:db8::1");
	e.rcpts[0].state = QUEUE_RCPT_DONE;
	queue_rcpt_set_reply(&e.rcpts[0], "mx.example.org", 250, "2.0.0",
			     "Ok: queued as 4Xz", 17);
	e.rcpts[0].last_attempt = NOW - 30;
	e.rcpts[1].state = QUEUE_RCPT_FAILED;
	queue_rcpt_set_reply(&e.rcpts[1], "mx2.example.org", 550, "5.1.1",
			     "No such user", 12);
	e.rcpts[1].last_attempt = NOW - 20;
	queue_rcpt_set_reply(&e.rcpts[2], "[192.0.2.25]", 451, "4.4.1",
			     "Connection timed out", 20);
	e.rcpts[2].last_attempt = NOW - 10;
	/* a reason of our own: no server answered */
	queue_rcpt_set_reply(&e.rcpts[3], NULL, 0, NULL,
			     "connect to smtp.example.net: Connection refused", 47);
	e.rcpts[3].last_attempt = NOW - 5;
	id = add_ok(&e);

	get_ok(id, &got);
	entries_eq(&got, &e);
	ck_assert_str_eq(got.sender, "");
	ck_assert_str_eq(got.rcpts[2].enhanced, "4.4.1");
	ck_assert_uint_eq(got.rcpts[2].reply_code, 451);
	ck_assert_str_eq(got.rcpts[2].remote_mta, "[192.0.2.25]");
	ck_assert_uint_eq(got.rcpts[3].reply_code, 0);
	ck_assert_str_eq(got.rcpts[3].remote_mta, "");
	ck_assert_str_eq(got.rcpts[3].reply,
			 "connect to smtp.example.net: Connection refused");
	store_queue_entry_free(&got);
	store_queue_entry_free(&got);	/* safe twice */
	store_queue_entry_free(&e);

	/* an unknown id: found false, nothing allocated */
	ck_assert_int_eq(store_queue_get(id + 1000, &got, &found, &error), 0);
	ck_assert(!found);
	ck_assert_ptr_null(got.rcpts);

	/* the smallest recipients there can be */
	make_entry(&e, 5, NOW);
	for (size_t i = 0; i < e.rcpt_count; i++)
		snprintf(e.rcpts[i].address, sizeof(e.rcpts[i].address), "%c",
			 (char)('a' + i));
	e.sender[0] = e.account[0] = e.client_ip[0] = '\0';
	id = add_ok(&e);
	get_ok(id, &got);
	entries_eq(&got, &e);
	store_queue_entry_free(&got);
	store_queue_entry_free(&e);

	/* the entry survives reopening the store */
	store_close();
	ck_assert_int_eq(store_open(fx.data_dir, &error), 0);
	ck_assert(exists(id));
}
END_TEST

START_TEST(test_update_moves_the_due_index)
{
	struct queue_entry e;
	const char *error = NULL;
	uint64_t id, next = 0;
	bool found, pending;

	id = add_new(2, NOW + 100);
	/* due later: not now; the relay may sleep until then */
	ck_assert_str_eq(due(NOW, 16, 0, &next), "");
	ck_assert_uint_eq(next, NOW + 100);
	ck_assert_str_eq(due(NOW + 99, 16, 0, &next), "");
	ck_assert_str_eq(due(NOW + 100, 16, 0, &next), ids_str(1, &id));
	ck_assert_uint_eq(next, QUEUE_NEVER);

	/* an attempt: one recipient done, the other deferred by 400 s */
	get_ok(id, &e);
	e.attempts = 1;
	e.next_attempt = NOW + 500;
	e.rcpts[0].state = QUEUE_RCPT_DONE;
	queue_rcpt_set_reply(&e.rcpts[0], "mx.example.org", 250, "2.0.0", "Ok",
			     2);
	e.rcpts[0].last_attempt = NOW + 100;
	queue_rcpt_set_reply(&e.rcpts[1], "mx.example.org", 451, "4.3.0",
			     "Try later", 9);
	e.rcpts[1].last_attempt = NOW + 100;
	update_ok(&e);
	store_queue_entry_free(&e);
	ck_assert_str_eq(due(NOW + 100, 16, 0, &next), "");
	ck_assert_uint_eq(next, NOW + 500);
	ck_assert_str_eq(due(NOW + 500, 16, 0, &next), ids_str(1, &id));
	ck_assert_uint_eq(raw_count(DB_QUEUE_DUE), 1);	/* the old key went */
	get_ok(id, &e);
	ck_assert_uint_eq(e.attempts, 1);
	ck_assert_int_eq(e.rcpts[0].state, QUEUE_RCPT_DONE);
	ck_assert_str_eq(e.rcpts[1].reply, "Try later");

	/* every recipient done or failed: never due again, whatever
	 * next_attempt says, and a flush changes nothing */
	e.rcpts[1].state = QUEUE_RCPT_FAILED;
	e.next_attempt = NOW + 600;
	update_ok(&e);
	store_queue_entry_free(&e);
	ck_assert_str_eq(due(UINT64_MAX - 1, 16, 0, &next), "");
	ck_assert_uint_eq(next, QUEUE_NEVER);
	ck_assert_uint_eq(raw_count(DB_QUEUE_DUE), 0);
	ck_assert_int_eq(store_queue_flush(id, &found, &pending, &error), 0);
	ck_assert(found && !pending);
	ck_assert_str_eq(due(UINT64_MAX - 1, 16, 0, NULL), "");
	ck_assert(exists(id));		/* kept until the relay removes it */

	/* back to pending (an admin's requeue, say): indexed again */
	get_ok(id, &e);
	e.rcpts[1].state = QUEUE_RCPT_PENDING;
	update_ok(&e);
	store_queue_entry_free(&e);
	ck_assert_str_eq(due(NOW + 600, 16, 0, NULL), ids_str(1, &id));
}
END_TEST

START_TEST(test_update_refusals)
{
	struct queue_entry e, other;
	const char *error = NULL;
	bool found = true;
	uint64_t id;

	id = add_new(2, NOW);
	get_ok(id, &e);

	/* the envelope and the body stay as submitted */
	snprintf(e.sender, sizeof(e.sender), "mallory@example.net");
	e.body_id[0] ^= 0xff;
	e.body_size = 1;
	e.attempts = 5;
	update_ok(&e);
	get_ok(id, &other);
	ck_assert_str_eq(other.sender, "jsmith@example.com");
	ck_assert_uint_eq(other.body_id[0], 0xa0);
	ck_assert_uint_eq(other.body_size, 1234);
	ck_assert_uint_eq(other.attempts, 5);
	store_queue_entry_free(&other);

	/* other recipients: refused, nothing written */
	snprintf(e.rcpts[1].address, sizeof(e.rcpts[1].address), "x@example.org");
	e.attempts = 6;
	ck_assert_int_lt(store_queue_update(&e, &found, &error), 0);
	ck_assert_msg(strstr(error, "recipients differ") != NULL, "%s", error);
	e.rcpt_count = 1;
	ck_assert_int_lt(store_queue_update(&e, &found, &error), 0);
	e.rcpt_count = 2;
	snprintf(e.rcpts[1].address, sizeof(e.rcpts[1].address), "rcpt2@example.org");
	e.rcpts[0].reply_code = 600;
	ck_assert_int_lt(store_queue_update(&e, &found, &error), 0);
	ck_assert_msg(strstr(error, "reply code 600") != NULL, "%s", error);
	e.rcpts[0].reply_code = 0;
	get_ok(id, &other);
	ck_assert_uint_eq(other.attempts, 5);
	store_queue_entry_free(&other);

	/* gone meanwhile (posternctl queue del): found false, no error */
	ck_assert_int_eq(store_queue_remove(id, NULL, &found, &error), 0);
	ck_assert(found);
	found = true;
	ck_assert_int_eq(store_queue_update(&e, &found, &error), 0);
	ck_assert(!found);
	ck_assert(!exists(id));
	ck_assert_uint_eq(raw_count(DB_QUEUE_DUE), 0);
	store_queue_entry_free(&e);
}
END_TEST

START_TEST(test_due_order_bound_and_earliest)
{
	uint64_t a, b, c, d, f, next = 0, ids[5];

	a = add_new(1, NOW + 50);
	b = add_new(1, NOW + 10);
	c = add_new(1, NOW + 30);
	d = add_new(1, NOW + 10);
	f = add_new(1, NOW + 70);

	/* the earliest first; the same time in id order */
	ids[0] = b, ids[1] = d, ids[2] = c;
	ck_assert_str_eq(due(NOW + 40, 16, 0, &next), ids_str(3, ids));
	ck_assert_uint_eq(next, NOW + 50);
	/* bounded: the rest's earliest is due already, so no sleep */
	ck_assert_str_eq(due(NOW + 40, 2, 0, &next), ids_str(2, ids));
	ck_assert_uint_eq(next, NOW + 30);
	ck_assert_str_eq(due(NOW + 40, 0, 0, &next), "");
	ck_assert_uint_eq(next, NOW + 10);
	ck_assert_str_eq(due(NOW, 16, 0, &next), "");
	ck_assert_uint_eq(next, NOW + 10);
	ids[3] = a, ids[4] = f;
	ck_assert_str_eq(due(NOW + 1000, 16, 0, &next), ids_str(5, ids));
	ck_assert_uint_eq(next, QUEUE_NEVER);
}
END_TEST

START_TEST(test_due_with_a_lease)
{
	struct queue_entry e;
	uint64_t a, b, c, next = 0, ids[3];

	a = add_new(1, NOW - 5);
	b = add_new(1, NOW);
	c = add_new(1, NOW + 100);
	/* taken: moved to the lease's end in the same transaction */
	ids[0] = a, ids[1] = b;
	ck_assert_str_eq(due(NOW, 16, NOW + 300, &next), ids_str(2, ids));
	ck_assert_uint_eq(next, NOW + 100);
	/* a second poller (another worker) gets nothing of them */
	ck_assert_str_eq(due(NOW + 1, 16, NOW + 301, &next), "");
	ck_assert_uint_eq(next, NOW + 100);
	get_ok(a, &e);
	ck_assert_uint_eq(e.next_attempt, NOW + 300);
	store_queue_entry_free(&e);
	/* an attempt that never reported is due again after the lease */
	ids[0] = c;
	ck_assert_str_eq(due(NOW + 100, 16, 0, NULL), ids_str(1, ids));
	ids[0] = c, ids[1] = a, ids[2] = b;
	ck_assert_str_eq(due(NOW + 300, 16, 0, &next), ids_str(3, ids));
	ck_assert_uint_eq(next, QUEUE_NEVER);
	ck_assert_uint_eq(raw_count(DB_QUEUE_DUE), 3);
}
END_TEST

START_TEST(test_flush_one_and_all)
{
	struct queue_entry e;
	const char *error = NULL;
	uint64_t a, b, c, done_id, next, ids[3];
	bool found, pending;
	size_t count = 0;

	a = add_new(1, NOW + 3600);
	b = add_new(2, NOW + 7200);
	c = add_new(1, 0);		/* due already */
	make_entry(&e, 1, NOW + 60);
	e.rcpts[0].state = QUEUE_RCPT_DONE;
	done_id = add_ok(&e);
	store_queue_entry_free(&e);

	ck_assert_int_eq(store_queue_flush(b, &found, &pending, &error), 0);
	ck_assert(found && pending);
	/* both at 0 now: in id order */
	ids[0] = b, ids[1] = c;
	ck_assert_str_eq(due(NOW, 16, 0, &next), ids_str(2, ids));
	ck_assert_uint_eq(next, NOW + 3600);
	get_ok(b, &e);
	ck_assert_uint_eq(e.next_attempt, 0);
	store_queue_entry_free(&e);

	ck_assert_int_eq(store_queue_flush(a + 1000, &found, &pending, &error), 0);
	ck_assert(!found);
	ck_assert_int_eq(store_queue_flush(done_id, &found, &pending, &error), 0);
	ck_assert(found && !pending);

	/* all: every entry with pending recipients, the due ones included */
	ck_assert_int_eq(store_queue_flush_all(&count, &error), 0);
	ck_assert_uint_eq(count, 3);
	ids[0] = a, ids[1] = b, ids[2] = c;
	ck_assert_str_eq(due(0, 16, 0, &next), ids_str(3, ids));
	ck_assert_uint_eq(next, QUEUE_NEVER);
	ck_assert_uint_eq(raw_count(DB_QUEUE_DUE), 3);
	ck_assert_int_eq(store_queue_flush_all(&count, &error), 0);
	ck_assert_uint_eq(count, 3);
}
END_TEST

START_TEST(test_remove)
{
	struct queue_summary s;
	struct queue_entry e;
	const char *error = NULL;
	uint64_t id, other;
	bool found = false;

	make_entry(&e, 3, NOW);
	e.rcpts[0].state = QUEUE_RCPT_DONE;
	e.rcpts[2].state = QUEUE_RCPT_FAILED;
	id = add_ok(&e);
	other = add_new(1, NOW);
	ck_assert_int_eq(store_queue_remove(id, &s, &found, &error), 0);
	ck_assert(found);
	ck_assert(!s.damaged);
	ck_assert_uint_eq(s.id, id);
	ck_assert_mem_eq(s.body_id, e.body_id, BODY_ID_LEN);
	ck_assert_uint_eq(s.total, 3);
	ck_assert_uint_eq(s.pending, 1);
	ck_assert_uint_eq(s.done, 1);
	ck_assert_uint_eq(s.failed, 1);
	store_queue_entry_free(&e);
	ck_assert(!exists(id));
	ck_assert_str_eq(due(NOW, 16, 0, NULL), ids_str(1, &other));
	/* twice: found false, not an error */
	found = true;
	ck_assert_int_eq(store_queue_remove(id, &s, &found, &error), 0);
	ck_assert(!found);
	ck_assert(exists(other));
}
END_TEST

struct listed {
	char text[1024];
	size_t n;
};

static void list_cb(const struct queue_entry *e, const struct queue_summary *s,
		    void *ctx)
{
	struct listed *l = ctx;
	size_t len = strlen(l->text);

	ck_assert_uint_eq(e->id, s->id);
	snprintf(l->text + len, sizeof(l->text) - len, "%s%llu:%zu/%zu/%zu/%zu",
		 l->n++ ? " " : "", (unsigned long long)e->id, s->pending,
		 s->done, s->failed, s->total);
}

START_TEST(test_list_in_id_order)
{
	struct listed l = { "", 0 };
	struct queue_entry e;
	const char *error = NULL;
	uint64_t a, b;
	char want[256];

	ck_assert_int_eq(store_queue_list(list_cb, &l, &error), 0);
	ck_assert_uint_eq(l.n, 0);
	make_entry(&e, 4, NOW + 99);
	e.rcpts[1].state = QUEUE_RCPT_DONE;
	e.rcpts[2].state = QUEUE_RCPT_FAILED;
	e.rcpts[3].state = QUEUE_RCPT_DONE;
	a = add_ok(&e);
	store_queue_entry_free(&e);
	b = add_new(1, 0);
	ck_assert_int_eq(store_queue_list(list_cb, &l, &error), 0);
	snprintf(want, sizeof(want), "%llu:1/2/1/4 %llu:1/0/0/1",
		 (unsigned long long)a, (unsigned long long)b);
	ck_assert_str_eq(l.text, want);
}
END_TEST

START_TEST(test_largest_entry_fits)
{
	struct queue_entry e, got;
	char text[2000], mta[400];
	uint64_t id;

	make_entry(&e, QUEUE_RCPT_MAX, NOW);
	memset(e.sender, 's', QUEUE_ADDRESS_MAX);
	e.sender[QUEUE_ADDRESS_MAX] = '\0';
	memset(e.account, 'a', ADDRESS_MAX);
	e.account[ADDRESS_MAX] = '\0';
	snprintf(e.client_ip, sizeof(e.client_ip),
		 "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	memset(text, 'x', sizeof(text));
	memset(mta, 'm', sizeof(mta));
	mta[sizeof(mta) - 1] = '\0';
	for (size_t i = 0; i < e.rcpt_count; i++) {
		struct queue_rcpt *r = &e.rcpts[i];
		int n = snprintf(r->address, sizeof(r->address), "%04zu", i);

		memset(r->address + n, 'r', QUEUE_ADDRESS_MAX - (size_t)n);
		r->address[QUEUE_ADDRESS_MAX] = '\0';
		/* a remote server's essay is cut to the limit */
		queue_rcpt_set_reply(r, mta, 451, "4.999.999", text,
				     sizeof(text));
		ck_assert_uint_eq(strlen(r->reply), QUEUE_REPLY_MAX);
		ck_assert_uint_eq(strlen(r->remote_mta), QUEUE_REMOTE_MTA_MAX);
		r->last_attempt = NOW;
	}
	id = add_ok(&e);
	get_ok(id, &got);
	entries_eq(&got, &e);
	store_queue_entry_free(&got);
	/* and it can be rewritten */
	e.rcpts[999].state = QUEUE_RCPT_DONE;
	update_ok(&e);
	get_ok(id, &got);
	ck_assert_int_eq(got.rcpts[999].state, QUEUE_RCPT_DONE);
	store_queue_entry_free(&got);
	store_queue_entry_free(&e);

	/* one more recipient, or none, is refused, naming why */
	make_entry(&e, QUEUE_RCPT_MAX + 1, NOW);
	ck_assert_str_eq(add_bad(&e),
			 "queue entry refused: 1001 recipients (at most 1000)");
	store_queue_entry_free(&e);
	make_entry(&e, 0, NOW);
	ck_assert_str_eq(add_bad(&e), "queue entry refused: no recipients");
	store_queue_entry_free(&e);
}
END_TEST

START_TEST(test_refusals_and_clean_replies)
{
	struct queue_entry e, got;
	uint64_t id;

	make_entry(&e, 2, NOW);
	snprintf(e.rcpts[1].address, sizeof(e.rcpts[1].address),
		 "x@example.org\r\nRCPT TO:<y@example.org>");
	ck_assert_str_eq(add_bad(&e),
			 "queue entry refused: recipient 2: invalid address");
	e.rcpts[1].address[0] = '\0';
	ck_assert_str_eq(add_bad(&e),
			 "queue entry refused: recipient 2: invalid address");
	snprintf(e.rcpts[1].address, sizeof(e.rcpts[1].address), "ok@example.org");
	snprintf(e.sender, sizeof(e.sender), "a\nb@example.com");
	ck_assert_str_eq(add_bad(&e), "queue entry refused: invalid sender address");
	snprintf(e.sender, sizeof(e.sender), "jsmith@example.com");
	e.rcpts[0].state = (enum queue_rcpt_state)7;
	ck_assert_str_eq(add_bad(&e),
			 "queue entry refused: recipient rcpt1@example.org: unknown state 7");
	e.rcpts[0].state = QUEUE_RCPT_PENDING;
	e.rcpts[0].reply_code = 199;
	ck_assert_str_eq(add_bad(&e),
			 "queue entry refused: recipient rcpt1@example.org: reply code 199 is not 200..599");
	e.rcpts[0].reply_code = 451;
	snprintf(e.rcpts[0].enhanced, sizeof(e.rcpts[0].enhanced), "4.4");
	ck_assert_str_eq(add_bad(&e),
			 "queue entry refused: recipient rcpt1@example.org: enhanced status is not of the form 4.4.1");

	/* the reply helper: line ends become spaces, other octets '?', a
	 * malformed enhanced status and a code out of range are dropped */
	queue_rcpt_set_reply(&e.rcpts[0], "mx\r\n.example.org", 421, "4.4.x",
			     "a\r\nb\x01\xc3\xa9", 7);
	ck_assert_uint_eq(e.rcpts[0].reply_code, 421);
	ck_assert_str_eq(e.rcpts[0].enhanced, "");
	ck_assert_str_eq(e.rcpts[0].reply, "a  b???");
	ck_assert_str_eq(e.rcpts[0].remote_mta, "mx  .example.org");
	queue_rcpt_set_reply(&e.rcpts[1], "mx.example.org", 999, "5.1.1", NULL,
			     0);
	ck_assert_uint_eq(e.rcpts[1].reply_code, 0);
	ck_assert_str_eq(e.rcpts[1].enhanced, "5.1.1");
	ck_assert_str_eq(e.rcpts[1].reply, "");
	/* text put in by hand is cleaned when stored */
	snprintf(e.rcpts[1].reply, sizeof(e.rcpts[1].reply), "bad\x1b[2Jtext");
	snprintf(e.rcpts[1].remote_mta, sizeof(e.rcpts[1].remote_mta),
		 "mx\x7f.example.org");
	id = add_ok(&e);
	get_ok(id, &got);
	ck_assert_str_eq(got.rcpts[0].reply, "a  b???");
	ck_assert_str_eq(got.rcpts[1].reply, "bad?[2Jtext");
	ck_assert_str_eq(got.rcpts[1].remote_mta, "mx?.example.org");
	store_queue_entry_free(&got);
	store_queue_entry_free(&e);
}
END_TEST

START_TEST(test_damaged_records_are_errors)
{
	static const uint8_t garbage[] = "\x63garbage";
	struct listed l = { "", 0 };
	struct queue_summary s;
	struct queue_entry e, got;
	const char *error = NULL;
	uint8_t *rec, *copy;
	uint64_t id, bad_id, next, ids[1];
	size_t len;
	bool found;

	make_entry(&e, 3, NOW);
	queue_rcpt_set_reply(&e.rcpts[1], "mx.example.org", 451, "4.4.1",
			     "timeout", 7);
	id = add_ok(&e);
	store_queue_entry_free(&e);
	rec = raw_record(id, &len);

	/* every truncation of a good record, and every single octet set to
	 * 0xff, is refused or read as it is - never read past the record
	 * (ASan watches) */
	copy = malloc(len);
	for (size_t cut = 0; cut < len; cut++) {
		raw_put_record(id, rec, cut);
		ck_assert_int_lt(store_queue_get(id, &got, &found, &error), 0);
		ck_assert_msg(strstr(error, "corrupt queue record") != NULL,
			      "%s", error);
		ck_assert_ptr_null(got.rcpts);
	}
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, rec, len);
		copy[i] = 0xff;
		raw_put_record(id, copy, len);
		if (store_queue_get(id, &got, &found, &error) == 0)
			store_queue_entry_free(&got);
		else
			ck_assert_ptr_null(got.rcpts);
	}
	/* the recipient count (after a header of 102 octets with these
	 * fields) beyond what the record holds, and below it */
	for (uint32_t n = 0; n < 6; n++) {
		static const uint32_t counts[] = { 0, 2, 4, 1000, 1001,
						   UINT32_MAX };
		uint32_t count;

		memcpy(copy, rec, len);
		memcpy(&count, copy + 102, sizeof(count));
		ck_assert_uint_eq(count, 3);
		memcpy(copy + 102, &counts[n], sizeof(counts[n]));
		raw_put_record(id, copy, len);
		ck_assert_int_lt(store_queue_get(id, &got, &found, &error), 0);
		ck_assert_msg(strstr(error, "corrupt queue record") != NULL,
			      "%s", error);
	}
	raw_put_record(id, rec, len);
	ck_assert(exists(id));
	free(copy);
	free(rec);

	/* garbage under an id of its own, indexed as due */
	bad_id = add_new(1, NOW);
	raw_put_record(bad_id, garbage, sizeof(garbage) - 1);
	ck_assert_int_lt(store_queue_get(bad_id, &got, &found, &error), 0);
	ck_assert_msg(strstr(error, "corrupt queue record") != NULL, "%s", error);
	ck_assert_int_lt(store_queue_list(list_cb, &l, &error), 0);
	ck_assert_msg(strstr(error, "posternctl queue del") != NULL, "%s", error);
	ck_assert_int_lt(store_queue_flush(bad_id, &found, &found, &error), 0);

	/* and removable, index key included */
	ck_assert_int_eq(store_queue_remove(bad_id, &s, &found, &error), 0);
	ck_assert(found && s.damaged);
	ck_assert_uint_eq(raw_count(DB_QUEUE_DUE), 1);
	ck_assert_int_eq(store_queue_list(list_cb, &l, &error), 0);

	/* an index key of the wrong size, and one without its entry */
	raw_put(DB_QUEUE_DUE, (const uint8_t *)"short", 5, "", 0);
	ck_assert_int_lt(store_queue_due(NOW, 0, ids, 1, &len, &next, &error), 0);
	ck_assert_msg(strstr(error, "corrupt queue_due key") != NULL, "%s", error);
}
END_TEST

START_TEST(test_stale_index_keys_are_skipped)
{
	uint8_t k[16];
	uint64_t id, next;

	id = add_new(1, NOW + 10);
	store_be64(k, NOW - 10);
	store_be64(k + 8, id + 500);	/* no such entry */
	raw_put(DB_QUEUE_DUE, k, sizeof(k), "", 0);
	ck_assert_str_eq(due(NOW, 16, 0, &next), "");
	ck_assert_uint_eq(next, NOW + 10);
	/* a write (a lease) drops it */
	ck_assert_str_eq(due(NOW, 16, NOW + 60, &next), "");
	ck_assert_uint_eq(raw_count(DB_QUEUE_DUE), 1);
	ck_assert_str_eq(due(NOW + 10, 16, NOW + 60, &next), ids_str(1, &id));
}
END_TEST

START_TEST(test_ids_are_never_reused)
{
	const char *error = NULL;
	uint64_t a, b, c;
	bool found;

	a = add_new(1, NOW);
	ck_assert_int_eq(store_queue_remove(a, NULL, &found, &error), 0);
	b = add_new(1, NOW);
	ck_assert_uint_gt(b, a);
	ck_assert_int_eq(store_queue_remove(b, NULL, &found, &error), 0);
	store_close();
	ck_assert_int_eq(store_open(fx.data_dir, &error), 0);
	c = add_new(1, NOW);
	ck_assert_uint_gt(c, b);
}
END_TEST

static Suite *store_queue_suite(void)
{
	Suite *s = suite_create("store_queue");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_add_get_round_trip);
	tcase_add_test(tc, test_update_moves_the_due_index);
	tcase_add_test(tc, test_update_refusals);
	tcase_add_test(tc, test_due_order_bound_and_earliest);
	tcase_add_test(tc, test_due_with_a_lease);
	tcase_add_test(tc, test_flush_one_and_all);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_list_in_id_order);
	tcase_add_test(tc, test_largest_entry_fits);
	tcase_add_test(tc, test_refusals_and_clean_replies);
	tcase_add_test(tc, test_damaged_records_are_errors);
	tcase_add_test(tc, test_stale_index_keys_are_skipped);
	tcase_add_test(tc, test_ids_are_never_reused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(store_queue_suite(), root_dir);
}

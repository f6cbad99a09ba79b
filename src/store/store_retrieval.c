/* store_retrieval.c - the retrieval databases (store_retrieval.h) and the
 * module's side of them (postern/module.h): what is due, a run's end, and
 * the record of what each source has stored.
 *
 * The index `retrieval_due` always holds one key per enabled source, at
 * its record's next_run; every change here moves both together. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/record.h"
#include "store/store.h"
#include "store/secret.h"
#include "store/store_internal.h"
#include "store/store_retrieval.h"

#define SOURCE_REC_V1 1
#define SOURCE_KEY_LEN 16
#define DUE_KEY_LEN 24
#define SEEN_KEY_MAX (8 + RETRIEVAL_KEY_MAX)

static void source_key(uint8_t *k, uint64_t account_id, uint64_t id)
{
	store_be64(k, account_id);
	store_be64(k + 8, id);
}

/* The password goes in sealed (secret.h), as `sealed`. */
static void encode(struct rec_writer *w, const struct retrieval_source *s,
		   const char *sealed)
{
	rec_init(w, SOURCE_REC_V1);
	rec_put_str(w, s->account.name);
	rec_put_str(w, s->account.domain);
	rec_put_str(w, s->host);
	rec_put_u32(w, s->port);
	rec_put_u32(w, (uint32_t)s->tls);
	rec_put_u32(w, s->verify);
	rec_put_str(w, s->user);
	rec_put_str(w, sealed);
	rec_put_u32(w, (uint32_t)s->auth);
	rec_put_str(w, s->mailbox);
	rec_put_u32(w, s->keep);
	rec_put_u32(w, s->interval);
	rec_put_u32(w, s->enabled);
	rec_put_u64(w, s->created);
	rec_put_u64(w, s->next_run);
	rec_put_u64(w, s->last_start);
	rec_put_u64(w, s->last_run);
	rec_put_u32(w, (uint32_t)s->last_result);
	rec_put_u32(w, s->last_fetched);
	rec_put_u32(w, s->failures);
	rec_put_str(w, s->last_error);
	rec_put_u32(w, (uint32_t)s->running | (uint32_t)s->requested << 1);
	rec_put_u64(w, s->run_seq);
	rec_put_u64(w, s->done_seq);
}

static int decode(const MDB_val *key, const MDB_val *val,
		  struct retrieval_source *s)
{
	struct rec_reader r;
	char sealed[SECRET_SEALED_MAX];
	const char *error;
	uint32_t v, bits;

	memset(s, 0, sizeof(*s));
	if (key->mv_size != SOURCE_KEY_LEN)
		return store_fail("corrupt retrieval key");
	s->account.id = store_get_be64(key->mv_data);
	s->id = store_get_be64((const uint8_t *)key->mv_data + 8);
	rec_read_init(&r, val->mv_data, val->mv_size);
	if (rec_get_u8(&r) != SOURCE_REC_V1)
		return store_fail("corrupt retrieval record %llu",
				  (unsigned long long)s->id);
	rec_get_str(&r, s->account.name, sizeof(s->account.name));
	rec_get_str(&r, s->account.domain, sizeof(s->account.domain));
	rec_get_str(&r, s->host, sizeof(s->host));
	v = rec_get_u32(&r);
	s->port = (uint16_t)v;
	if (v > 65535)
		r.bad = true;
	v = rec_get_u32(&r);
	s->tls = (enum retrieval_tls)v;
	if (v > RETRIEVAL_TLS_NONE)
		r.bad = true;
	s->verify = rec_get_u32(&r) != 0;
	rec_get_str(&r, s->user, sizeof(s->user));
	rec_get_str(&r, sealed, sizeof(sealed));
	v = rec_get_u32(&r);
	s->auth = (enum retrieval_auth)v;
	if (v > RETRIEVAL_AUTH_PLAIN)
		r.bad = true;
	rec_get_str(&r, s->mailbox, sizeof(s->mailbox));
	s->keep = rec_get_u32(&r) != 0;
	s->interval = rec_get_u32(&r);
	s->enabled = rec_get_u32(&r) != 0;
	s->created = rec_get_u64(&r);
	s->next_run = rec_get_u64(&r);
	s->last_start = rec_get_u64(&r);
	s->last_run = rec_get_u64(&r);
	v = rec_get_u32(&r);
	s->last_result = (enum retrieval_result)v;
	if (v > RETRIEVAL_FAILED)
		r.bad = true;
	s->last_fetched = rec_get_u32(&r);
	s->failures = rec_get_u32(&r);
	rec_get_str(&r, s->last_error, sizeof(s->last_error));
	bits = rec_get_u32(&r);
	s->running = bits & 1;
	s->requested = (bits & 2) != 0;
	s->run_seq = rec_get_u64(&r);
	s->done_seq = rec_get_u64(&r);
	if (r.bad)
		return store_fail("corrupt retrieval record %llu",
				  (unsigned long long)s->id);
	if (secret_open(sealed, s->password, sizeof(s->password), &error) < 0)
		return store_fail("retrieval %llu: its password: %s",
				  (unsigned long long)s->id, error);
	return 0;
}

static int due_put(MDB_txn *txn, const struct retrieval_source *s, bool add)
{
	uint8_t k[DUE_KEY_LEN];
	MDB_val key = { sizeof(k), k }, val = { 0, NULL };
	int rc;

	if (!s->enabled)
		return 0;
	store_be64(k, s->next_run);
	source_key(k + 8, s->account.id, s->id);
	if (add)
		return mdb_put(txn, store_dbi(DB_RETRIEVAL_DUE), &key, &val, 0);
	rc = mdb_del(txn, store_dbi(DB_RETRIEVAL_DUE), &key, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Write s, keeping the index in step with old (NULL: a new source). */
static int put_source(MDB_txn *txn, const struct retrieval_source *old,
		      const struct retrieval_source *s)
{
	uint8_t k[SOURCE_KEY_LEN];
	MDB_val key = { sizeof(k), k }, val;
	char sealed[SECRET_SEALED_MAX];
	struct rec_writer w;
	const char *error;
	int rc;

	if (secret_seal(s->password, sealed, sizeof(sealed), &error) < 0)
		return store_fail("cannot keep the password: %s", error);
	encode(&w, s, sealed);
	if (w.overflow)
		return store_fail("retrieval record too large");
	if (old != NULL && (rc = due_put(txn, old, false)) != 0)
		return rc;
	source_key(k, s->account.id, s->id);
	val.mv_size = w.len;
	val.mv_data = w.data;
	if ((rc = mdb_put(txn, store_dbi(DB_RETRIEVAL), &key, &val, 0)) != 0)
		return rc;
	return due_put(txn, s, true);
}

static int get_source(MDB_txn *txn, uint64_t account_id, uint64_t id,
		      struct retrieval_source *s)
{
	uint8_t k[SOURCE_KEY_LEN];
	MDB_val key = { sizeof(k), k }, val;
	int rc;

	source_key(k, account_id, id);
	if ((rc = mdb_get(txn, store_dbi(DB_RETRIEVAL), &key, &val)) != 0)
		return rc;
	return decode(&key, &val, s);
}

static int check_target(MDB_txn *txn, const struct retrieval_source *s)
{
	struct mailbox_rec mb;
	int rc;

	if ((rc = store_account_check_txn(txn, &s->account)) != 0)
		return rc;
	rc = store_mailbox_get_txn(txn, s->account.id, s->mailbox, &mb);
	if (rc == MDB_NOTFOUND)
		return store_fail("no mailbox %s in account %s@%s", s->mailbox,
				  s->account.name, s->account.domain);
	return rc;
}

/* ---- the admin's side ---- */

struct op {
	struct retrieval_source *src;
	const struct retrieval_source *csrc;
	const struct account *account;
	uint64_t id, min_gap, now;
	bool found;
	size_t count;
	store_retrieval_cb *cb;
	void *ctx;
};

static int add_txn(MDB_txn *txn, void *vctx)
{
	struct op *op = vctx;
	struct retrieval_source *s = op->src;
	int rc;

	if ((rc = check_target(txn, s)) != 0 ||
	    (rc = store_next_id(txn, &s->id)) != 0)
		return rc;
	s->created = (uint64_t)time(NULL);
	s->next_run = 0;	/* due at once */
	s->last_start = s->last_run = 0;
	s->last_result = RETRIEVAL_NEVER;
	s->last_fetched = s->failures = 0;
	s->last_error[0] = '\0';
	s->running = s->requested = false;
	s->run_seq = s->done_seq = 0;
	return put_source(txn, NULL, s);
}

int store_retrieval_add(struct retrieval_source *src, uint64_t *id_r,
			const char **error_r)
{
	struct op op = { .src = src };

	if (store_write(add_txn, &op, false, error_r) < 0)
		return -1;
	*id_r = src->id;
	return 0;
}

static int get_txn(MDB_txn *txn, void *vctx)
{
	struct op *op = vctx;
	int rc = get_source(txn, op->account->id, op->id, op->src);

	op->found = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_retrieval_get(const struct account *account, uint64_t id,
			struct retrieval_source *src_r, bool *found_r,
			const char **error_r)
{
	struct op op = { .src = src_r, .account = account, .id = id };

	if (store_read(get_txn, &op, error_r) < 0)
		return -1;
	*found_r = op.found;
	return 0;
}

static int list_one(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		    const MDB_val *val, void *vctx)
{
	struct op *op = vctx;
	struct retrieval_source s;
	int rc;

	(void)txn;
	(void)cur;
	if ((rc = decode(key, val, &s)) != 0)
		return rc;
	op->cb(&s, op->ctx);
	explicit_bzero(s.password, sizeof(s.password));
	return 0;
}

static int list_txn(MDB_txn *txn, void *vctx)
{
	struct op *op = vctx;
	uint8_t prefix[8];

	store_be64(prefix, op->account->id);
	return store_walk_prefix(txn, store_dbi(DB_RETRIEVAL), prefix,
				 sizeof(prefix), list_one, op);
}

int store_retrieval_list(const struct account *account,
			 store_retrieval_cb *cb, void *ctx,
			 const char **error_r)
{
	struct op op = { .account = account, .cb = cb, .ctx = ctx };

	return store_read(list_txn, &op, error_r);
}

static int update_txn(MDB_txn *txn, void *vctx)
{
	struct op *op = vctx;
	const struct retrieval_source *n = op->csrc;
	struct retrieval_source old, s;
	int rc;

	rc = get_source(txn, n->account.id, n->id, &old);
	op->found = rc == 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = check_target(txn, n)) != 0)
		return rc;
	s = old;
	memcpy(s.host, n->host, sizeof(s.host));
	s.port = n->port;
	s.tls = n->tls;
	s.verify = n->verify;
	memcpy(s.user, n->user, sizeof(s.user));
	memcpy(s.password, n->password, sizeof(s.password));
	s.auth = n->auth;
	memcpy(s.mailbox, n->mailbox, sizeof(s.mailbox));
	s.keep = n->keep;
	s.interval = n->interval;
	s.enabled = n->enabled;
	if (s.enabled && !old.enabled && !s.running) {
		s.next_run = 0;
		s.failures = 0;
	}
	rc = put_source(txn, &old, &s);
	explicit_bzero(&old, sizeof(old));
	explicit_bzero(&s, sizeof(s));
	return rc;
}

int store_retrieval_update(const struct retrieval_source *src, bool *found_r,
			   const char **error_r)
{
	struct op op = { .csrc = src };

	if (store_write(update_txn, &op, false, error_r) < 0)
		return -1;
	*found_r = op.found;
	return 0;
}

static int drop_source(MDB_txn *txn, const struct retrieval_source *s)
{
	uint8_t k[SOURCE_KEY_LEN];
	MDB_val key = { sizeof(k), k };
	int rc;

	if ((rc = due_put(txn, s, false)) != 0)
		return rc;
	source_key(k, s->account.id, s->id);
	if ((rc = mdb_del(txn, store_dbi(DB_RETRIEVAL), &key, NULL)) != 0)
		return rc;
	store_be64(k, s->id);
	return store_walk_prefix(txn, store_dbi(DB_RETRIEVAL_SEEN), k, 8,
				 store_walk_drop, NULL);
}

static int del_txn(MDB_txn *txn, void *vctx)
{
	struct op *op = vctx;
	struct retrieval_source s;
	int rc = get_source(txn, op->account->id, op->id, &s);

	op->found = rc == 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0)
		rc = drop_source(txn, &s);
	explicit_bzero(&s, sizeof(s));
	return rc;
}

int store_retrieval_del(const struct account *account, uint64_t id,
			bool *found_r, const char **error_r)
{
	struct op op = { .account = account, .id = id };

	if (store_write(del_txn, &op, false, error_r) < 0)
		return -1;
	*found_r = op.found;
	return 0;
}

/* A trigger: due now, or (running) again as soon as this run ends. */
static int request_one(MDB_txn *txn, struct retrieval_source *s)
{
	struct retrieval_source old = *s;

	s->requested = true;
	if (!s->running)
		s->next_run = 0;
	return put_source(txn, &old, s);
}

/* Sources collected by a walk (changing records under it is safe in
 * LMDB, but a copy keeps it simple): those `want` takes (NULL: all).  A
 * record that cannot be decoded is an error, or with `keys_only` kept by
 * its key alone (its removal must not be stopped by it). */
struct collect {
	bool (*want)(const struct retrieval_source *s, const void *arg);
	const void *arg;
	bool keys_only;
	struct retrieval_source *list;
	size_t count;
};

static int collect_one(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		       const MDB_val *val, void *vctx)
{
	struct collect *c = vctx;
	struct retrieval_source *s;
	int rc;

	(void)txn;
	(void)cur;
	c->list = xrealloc(c->list, (c->count + 1) * sizeof(*c->list));
	s = &c->list[c->count];
	if ((rc = decode(key, val, s)) != 0) {
		if (!c->keys_only || key->mv_size != SOURCE_KEY_LEN)
			return rc;
		memset(s, 0, sizeof(*s));
		s->account.id = store_get_be64(key->mv_data);
		s->id = store_get_be64((const uint8_t *)key->mv_data + 8);
	}
	if (c->want == NULL || c->want(s, c->arg))
		c->count++;
	else
		explicit_bzero(s, sizeof(*s));
	return 0;
}

/* Collect from every source (account_id 0) or one account's. */
static int collect(MDB_txn *txn, uint64_t account_id, struct collect *c)
{
	uint8_t prefix[8];

	c->count = 0;
	store_be64(prefix, account_id);
	return store_walk_prefix(txn, store_dbi(DB_RETRIEVAL), prefix,
				 account_id != 0 ? sizeof(prefix) : 0,
				 collect_one, c);
}

static void collect_free(struct collect *c)
{
	if (c->list != NULL) {
		explicit_bzero(c->list, c->count * sizeof(*c->list));
		free(c->list);
	}
	c->list = NULL;
	c->count = 0;
}

/* A login's trigger takes the enabled sources not asked for already and
 * not started within the gap. */
static bool login_wants(const struct retrieval_source *s, const void *arg)
{
	const struct op *op = arg;

	return s->enabled && !s->requested &&
	       s->last_start + op->min_gap <= op->now;
}

static int request_txn(MDB_txn *txn, void *vctx)
{
	struct op *op = vctx;
	int rc;

	op->count = 0;
	if (op->id != 0) {
		struct retrieval_source s;

		rc = get_source(txn, op->account->id, op->id, &s);
		op->found = rc == 0;
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc == 0 && (rc = request_one(txn, &s)) == 0)
			op->count = 1;
		explicit_bzero(&s, sizeof(s));
		return rc;
	}
	op->found = true;
	{
		struct collect c = { .want = login_wants, .arg = op };

		rc = collect(txn, op->account->id, &c);
		for (size_t i = 0; rc == 0 && i < c.count; i++)
			rc = request_one(txn, &c.list[i]);
		op->count = rc == 0 ? c.count : 0;
		collect_free(&c);
	}
	return rc;
}

static int login_peek_txn(MDB_txn *txn, void *vctx)
{
	struct op *op = vctx;
	struct collect c = { .want = login_wants, .arg = op };
	int rc = collect(txn, op->account->id, &c);

	op->count = c.count;
	collect_free(&c);
	return rc;
}

int store_retrieval_request(const struct account *account, uint64_t id,
			    uint64_t min_gap, size_t *count_r, bool *found_r,
			    const char **error_r)
{
	struct op op = { .account = account, .id = id, .min_gap = min_gap,
			 .now = (uint64_t)time(NULL) };
	int ret;

	/* a login's trigger: most accounts have no source, and a read
	 * transaction says so without the write every login would cost */
	if (id == 0) {
		if (store_read(login_peek_txn, &op, error_r) < 0)
			return -1;
		if (op.count == 0) {
			*count_r = 0;
			*found_r = true;
			return 0;
		}
	}
	/* lazy: a trigger lost to a power cut is the next poll's */
	ret = store_write(request_txn, &op, true, error_r);
	if (ret < 0)
		return -1;
	*count_r = op.count;
	*found_r = op.found;
	return 0;
}

int store_retrieval_remove_account_txn(MDB_txn *txn, uint64_t account_id)
{
	struct collect c = { .keys_only = true };
	int rc = collect(txn, account_id, &c);

	for (size_t i = 0; rc == 0 && i < c.count; i++)
		rc = drop_source(txn, &c.list[i]);
	collect_free(&c);
	return rc;
}

/* ---- the module's side ---- */

static size_t seen_key(uint8_t *k, uint64_t source, const char *key)
{
	size_t len = strlen(key);

	store_be64(k, source);
	memcpy(k + 8, key, len);
	return 8 + len;
}

int store_retrieval_seen_add_txn(MDB_txn *txn, uint64_t source,
				 const char *key, bool *dup_r)
{
	uint8_t k[SEEN_KEY_MAX], v[8];
	MDB_val mk = { 0, k }, mv = { sizeof(v), v };
	int rc;

	*dup_r = false;
	if (key[0] == '\0' || strlen(key) > RETRIEVAL_KEY_MAX)
		return store_fail("bad retrieval key");
	mk.mv_size = seen_key(k, source, key);
	store_be64(v, (uint64_t)time(NULL));
	rc = mdb_put(txn, store_dbi(DB_RETRIEVAL_SEEN), &mk, &mv,
		     MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		*dup_r = true;
		return 0;
	}
	return rc;
}

struct due_op {
	uint64_t now, lease_until, next;
	struct retrieval_source *out;
	size_t max, count;
	char *const *keys;
	size_t n;
	bool *seen;
	uint64_t id;
};

static int due_txn(MDB_txn *txn, void *vctx)
{
	struct due_op *op = vctx;
	MDB_cursor *cur;
	MDB_val key, val;
	int rc;

	op->count = 0;
	op->next = UINT64_MAX;
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_RETRIEVAL_DUE), &cur)) != 0)
		return rc;
	/* take from the front; each taken key moves past `now`, so the
	 * front is always the next candidate */
	while ((rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST)) == 0) {
		struct retrieval_source *s, old;
		uint64_t when;

		if (key.mv_size != DUE_KEY_LEN) {
			rc = store_fail("corrupt retrieval_due key");
			break;
		}
		when = store_get_be64(key.mv_data);
		if (when > op->now || op->count == op->max) {
			op->next = when;
			break;
		}
		s = &op->out[op->count];
		rc = get_source(txn, store_get_be64((uint8_t *)key.mv_data + 8),
				store_get_be64((uint8_t *)key.mv_data + 16), s);
		if (rc == MDB_NOTFOUND) {
			/* a stale index key: drop it */
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
			continue;
		}
		if (rc != 0)
			break;
		old = *s;
		s->running = true;
		s->requested = false;
		s->run_seq++;
		s->last_start = op->now;
		s->next_run = op->lease_until;
		if ((rc = put_source(txn, &old, s)) != 0)
			break;
		op->count++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int peek_txn(MDB_txn *txn, void *vctx)
{
	struct due_op *op = vctx;
	MDB_cursor *cur;
	MDB_val key, val;
	int rc;

	op->next = UINT64_MAX;
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_RETRIEVAL_DUE), &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
	if (rc == 0 && key.mv_size == DUE_KEY_LEN)
		op->next = store_get_be64(key.mv_data);
	else if (rc == 0)
		op->next = 0;	/* corrupt: let the write report it */
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int retrieval_take_due(uint64_t now, uint64_t lease_until,
		       struct retrieval_source *out, size_t max,
		       size_t *count_r, uint64_t *next_r,
		       const char **error_r)
{
	struct due_op op = { .now = now, .lease_until = lease_until,
			     .out = out, .max = max };

	if (lease_until <= now) {
		*error_r = "the lease must end after now";
		return -1;
	}
	/* a peek first: nothing due is the common case, and needs no write */
	if (store_read(peek_txn, &op, error_r) < 0)
		return -1;
	if (op.next > now) {
		*count_r = 0;
		*next_r = op.next;
		return 0;
	}
	if (store_write(due_txn, &op, true, error_r) < 0)
		return -1;
	*count_r = op.count;
	*next_r = op.next;
	return 0;
}

struct finish_op {
	const struct retrieval_source *src;
	const char *error;
	unsigned int fetched;
	uint64_t now, backoff_max;
	bool found;
};

static int finish_txn(MDB_txn *txn, void *vctx)
{
	struct finish_op *op = vctx;
	struct retrieval_source s, old;
	uint64_t delay;
	int rc;

	rc = get_source(txn, op->src->account.id, op->src->id, &s);
	op->found = rc == 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	old = s;
	s.running = false;
	s.done_seq = op->src->run_seq;
	s.last_run = op->now;
	s.last_fetched = op->fetched;
	if (op->error == NULL) {
		s.last_result = RETRIEVAL_OK;
		s.last_error[0] = '\0';
		s.failures = 0;
		delay = s.interval;
	} else {
		uint64_t cap = op->backoff_max > s.interval ? op->backoff_max
							    : s.interval;
		unsigned int shift;

		s.last_result = RETRIEVAL_FAILED;
		snprintf(s.last_error, sizeof(s.last_error), "%s", op->error);
		if (s.failures < UINT32_MAX)
			s.failures++;
		shift = s.failures - 1 > 16 ? 16 : s.failures - 1;
		delay = (uint64_t)s.interval << shift;
		if (delay > cap)
			delay = cap;
	}
	s.next_run = s.requested ? 0 : op->now + delay;
	rc = put_source(txn, &old, &s);
	explicit_bzero(&s, sizeof(s));
	explicit_bzero(&old, sizeof(old));
	return rc;
}

int retrieval_finish(const struct retrieval_source *src, const char *error,
		     unsigned int fetched, uint64_t now, uint64_t backoff_max,
		     bool *found_r, const char **error_r)
{
	struct finish_op op = { src, error, fetched, now, backoff_max, false };

	if (store_write(finish_txn, &op, false, error_r) < 0)
		return -1;
	*found_r = op.found;
	return 0;
}

static bool is_running(const struct retrieval_source *s, const void *arg)
{
	(void)arg;
	return s->running;
}

static int release_txn(MDB_txn *txn, void *vctx)
{
	struct collect c = { .want = is_running };
	int rc = collect(txn, 0, &c);

	(void)vctx;
	for (size_t i = 0; rc == 0 && i < c.count; i++) {
		struct retrieval_source old = c.list[i], *s = &c.list[i];

		s->running = false;
		s->next_run = 0;
		rc = put_source(txn, &old, s);
	}
	collect_free(&c);
	return rc;
}

int retrieval_release_all(const char **error_r)
{
	return store_write(release_txn, NULL, false, error_r);
}

static int seen_lookup_txn(MDB_txn *txn, void *vctx)
{
	struct due_op *op = vctx;
	uint8_t k[SEEN_KEY_MAX];
	MDB_val mk = { 0, k }, mv;
	int rc;

	for (size_t i = 0; i < op->n; i++) {
		op->seen[i] = false;
		if (strlen(op->keys[i]) > RETRIEVAL_KEY_MAX)
			continue;
		mk.mv_size = seen_key(k, op->id, op->keys[i]);
		rc = mdb_get(txn, store_dbi(DB_RETRIEVAL_SEEN), &mk, &mv);
		if (rc == 0)
			op->seen[i] = true;
		else if (rc != MDB_NOTFOUND)
			return rc;
	}
	return 0;
}

int retrieval_seen_lookup(uint64_t id, char *const *keys, size_t n,
			  bool *seen_r, const char **error_r)
{
	struct due_op op = { .keys = keys, .n = n, .seen = seen_r, .id = id };

	return store_read(seen_lookup_txn, &op, error_r);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct prune_op {
	char **sorted;
	size_t n;
};

static int prune_one(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		     const MDB_val *val, void *vctx)
{
	struct prune_op *op = vctx;
	char k[RETRIEVAL_KEY_MAX + 1], *kp = k;
	size_t len = key->mv_size - 8;

	(void)txn;
	(void)val;
	if (len > RETRIEVAL_KEY_MAX)
		return mdb_cursor_del(cur, 0);
	memcpy(k, (const char *)key->mv_data + 8, len);
	k[len] = '\0';
	if (k[0] == '#')
		return 0;
	if (bsearch(&kp, op->sorted, op->n, sizeof(*op->sorted), cmp_str) != NULL)
		return 0;
	return mdb_cursor_del(cur, 0);
}

static int prune_txn(MDB_txn *txn, void *vctx)
{
	struct due_op *op = vctx;
	struct prune_op p = { (char **)op->keys, op->n };
	uint8_t prefix[8];

	store_be64(prefix, op->id);
	return store_walk_prefix(txn, store_dbi(DB_RETRIEVAL_SEEN), prefix,
				 sizeof(prefix), prune_one, &p);
}

int retrieval_seen_prune(uint64_t id, char *const *keys, size_t n,
			 const char **error_r)
{
	char **sorted = xmalloc((n ? n : 1) * sizeof(*sorted));
	struct due_op op = { .keys = sorted, .n = n, .id = id };
	int ret;

	memcpy(sorted, keys, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	ret = store_write(prune_txn, &op, true, error_r);
	free(sorted);
	return ret;
}

static int forget_txn(MDB_txn *txn, void *vctx)
{
	struct due_op *op = vctx;
	uint8_t k[SEEN_KEY_MAX];
	MDB_val mk = { 0, k };
	int rc;

	for (size_t i = 0; i < op->n; i++) {
		if (strlen(op->keys[i]) > RETRIEVAL_KEY_MAX)
			continue;
		mk.mv_size = seen_key(k, op->id, op->keys[i]);
		rc = mdb_del(txn, store_dbi(DB_RETRIEVAL_SEEN), &mk, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	return 0;
}

int retrieval_seen_forget(uint64_t id, char *const *keys, size_t n,
			  const char **error_r)
{
	struct due_op op = { .keys = keys, .n = n, .id = id };

	return store_write(forget_txn, &op, true, error_r);
}

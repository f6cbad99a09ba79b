/* store_account.c - the accounts database and account removal. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"

#define ACCOUNT_REC_V1 1
#define ACCOUNT_REC_V2 2	/* + SCRAM secrets */

struct account_ctx {
	const char *name, *domain, *hash, *scram;
	struct account account;
	char *hash_out, *scram_out;
	size_t hash_size, scram_size;
	bool found;
	/* bodies to unlink after a removal commits */
	uint8_t (*bodies)[BODY_ID_LEN];
	size_t nbodies, bodies_alloc;
};

static size_t account_key(char *buf, const char *name, const char *domain)
{
	return (size_t)snprintf(buf, ADDRESS_MAX + 1, "%s/%s", domain, name);
}

static void encode_account(struct rec_writer *w, uint64_t id, uint64_t created,
			   const char *hash, const char *scram)
{
	rec_init(w, ACCOUNT_REC_V2);
	rec_put_u64(w, id);
	rec_put_u64(w, created);
	rec_put_str(w, hash);
	rec_put_str(w, scram != NULL ? scram : "");
}

static int account_add_txn(MDB_txn *txn, void *vctx)
{
	struct account_ctx *c = vctx;
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, dkey = { strlen(c->domain), (void *)c->domain };
	MDB_val val;
	struct rec_writer w;
	uint64_t id;
	int rc;

	rc = mdb_get(txn, store_dbi(DB_DOMAINS), &dkey, &val);
	if (rc == MDB_NOTFOUND)
		return store_fail("no such domain: %s", c->domain);
	if (rc != 0)
		return rc;
	key.mv_size = account_key(kbuf, c->name, c->domain);
	rc = mdb_get(txn, store_dbi(DB_ACCOUNTS), &key, &val);
	if (rc == 0)
		return store_fail("account %s@%s already exists", c->name, c->domain);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = store_next_id(txn, &id)) != 0)
		return rc;
	encode_account(&w, id, (uint64_t)time(NULL), c->hash, c->scram);
	if (w.overflow)
		return store_fail("password hash too long");
	val.mv_size = w.len;
	val.mv_data = w.data;
	if ((rc = mdb_put(txn, store_dbi(DB_ACCOUNTS), &key, &val, 0)) != 0)
		return rc;
	c->account.id = id;
	snprintf(c->account.name, sizeof(c->account.name), "%s", c->name);
	snprintf(c->account.domain, sizeof(c->account.domain), "%s", c->domain);
	return store_mailbox_create_txn(txn, id, "INBOX");
}

int store_account_add(const char *name, const char *domain, const char *hash,
		      const char *scram, struct account *account_r,
		      const char **error_r)
{
	struct account_ctx c = { .name = name, .domain = domain, .hash = hash,
				 .scram = scram };

	if (store_write(account_add_txn, &c, false, error_r) < 0)
		return -1;
	*account_r = c.account;
	return 0;
}

/* hash and scram may be NULL when not wanted. */
static int decode_account(const MDB_val *val, uint64_t *id_r, char *hash,
			  size_t hash_size, char *scram, size_t scram_size)
{
	struct rec_reader r;
	char dummy[PASSWORD_HASH_MAX];
	uint8_t version;

	rec_read_init(&r, val->mv_data, val->mv_size);
	version = rec_get_u8(&r);
	if (version != ACCOUNT_REC_V1 && version != ACCOUNT_REC_V2)
		return store_fail("corrupt account record");
	*id_r = rec_get_u64(&r);
	(void)rec_get_u64(&r);
	if (hash != NULL)
		rec_get_str(&r, hash, hash_size);
	else
		rec_get_str(&r, dummy, sizeof(dummy));
	if (scram != NULL && scram_size > 0) {
		scram[0] = '\0';
		if (version >= ACCOUNT_REC_V2)
			rec_get_str(&r, scram, scram_size);
	}
	return r.bad ? store_fail("corrupt account record") : 0;
}

static int account_get_txn(MDB_txn *txn, void *vctx)
{
	struct account_ctx *c = vctx;
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, val;
	int rc;

	key.mv_size = account_key(kbuf, c->name, c->domain);
	rc = mdb_get(txn, store_dbi(DB_ACCOUNTS), &key, &val);
	c->found = rc == 0;
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if ((rc = decode_account(&val, &c->account.id, c->hash_out,
				 c->hash_size, c->scram_out, c->scram_size)) != 0)
		return rc;
	snprintf(c->account.name, sizeof(c->account.name), "%s", c->name);
	snprintf(c->account.domain, sizeof(c->account.domain), "%s", c->domain);
	return 0;
}

int store_account_get(const char *name, const char *domain,
		      struct account *account_r, char *hash_r, size_t hash_size,
		      bool *found_r, const char **error_r)
{
	return store_account_get_secrets(name, domain, account_r, hash_r,
					 hash_size, NULL, 0, found_r, error_r);
}

int store_account_get_secrets(const char *name, const char *domain,
			      struct account *account_r, char *hash_r,
			      size_t hash_size, char *scram_r, size_t scram_size,
			      bool *found_r, const char **error_r)
{
	struct account_ctx c = { .name = name, .domain = domain,
				 .hash_out = hash_r, .hash_size = hash_size,
				 .scram_out = scram_r, .scram_size = scram_size };

	if (store_read(account_get_txn, &c, error_r) < 0)
		return -1;
	*found_r = c.found;
	if (c.found)
		*account_r = c.account;
	return 0;
}

static int account_set_hash_txn(MDB_txn *txn, void *vctx)
{
	struct account_ctx *c = vctx;
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, val;
	struct rec_reader r;
	struct rec_writer w;
	uint64_t id, created;
	int rc;

	key.mv_size = account_key(kbuf, c->name, c->domain);
	rc = mdb_get(txn, store_dbi(DB_ACCOUNTS), &key, &val);
	if (rc == MDB_NOTFOUND)
		return store_fail("no such account: %s@%s", c->name, c->domain);
	if (rc != 0)
		return rc;
	rec_read_init(&r, val.mv_data, val.mv_size);
	(void)rec_get_u8(&r);
	id = rec_get_u64(&r);
	created = rec_get_u64(&r);
	if (r.bad)
		return store_fail("corrupt account record");
	encode_account(&w, id, created, c->hash, c->scram);
	val.mv_size = w.len;
	val.mv_data = w.data;
	return mdb_put(txn, store_dbi(DB_ACCOUNTS), &key, &val, 0);
}

int store_account_set_hash(const char *name, const char *domain,
			   const char *hash, const char *scram,
			   const char **error_r)
{
	struct account_ctx c = { .name = name, .domain = domain, .hash = hash,
				 .scram = scram };

	return store_write(account_set_hash_txn, &c, false, error_r);
}

void store_body_list_add(struct body_list *l, const uint8_t id[BODY_ID_LEN])
{
	if (l->count == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 64;
		l->ids = xrealloc(l->ids, l->alloc * BODY_ID_LEN);
	}
	memcpy(l->ids + l->count * BODY_ID_LEN, id, BODY_ID_LEN);
	l->count++;
}

void store_body_list_unlink_free(struct body_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		body_unlink(l->ids + i * BODY_ID_LEN);
	free(l->ids);
	memset(l, 0, sizeof(*l));
}

struct account_del_ctx {
	const char *name, *domain;
	struct body_list bodies;
};

static int account_del_txn(MDB_txn *txn, void *vctx)
{
	struct account_del_ctx *c = vctx;
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, val;
	uint64_t id;
	int rc;

	c->bodies.count = 0;	/* the transaction may be retried */
	key.mv_size = account_key(kbuf, c->name, c->domain);
	rc = mdb_get(txn, store_dbi(DB_ACCOUNTS), &key, &val);
	if (rc == MDB_NOTFOUND)
		return store_fail("no such account: %s@%s", c->name, c->domain);
	if (rc != 0 || (rc = decode_account(&val, &id, NULL, 0, NULL, 0)) != 0)
		return rc;
	if ((rc = mdb_del(txn, store_dbi(DB_ACCOUNTS), &key, NULL)) != 0)
		return rc;
	return store_mailboxes_remove_txn(txn, id, &c->bodies);
}

int store_account_del(const char *name, const char *domain,
		      const char **error_r)
{
	struct account_del_ctx c = { .name = name, .domain = domain };
	int ret = store_write(account_del_txn, &c, false, error_r);

	if (ret < 0)
		c.bodies.count = 0;	/* nothing was removed */
	store_body_list_unlink_free(&c.bodies);
	return ret;
}

struct account_list_ctx {
	const char *domain;
	store_account_cb *cb;
	void *ctx;
};

static int account_list_txn(MDB_txn *txn, void *vctx)
{
	struct account_list_ctx *c = vctx;
	char prefix[ACCOUNT_NAME_MAX + 2] = "";
	MDB_cursor *cur;
	MDB_val key, val;
	size_t plen;
	int rc;

	if (c->domain != NULL)
		snprintf(prefix, sizeof(prefix), "%s/", c->domain);
	plen = strlen(prefix);
	key.mv_size = plen;
	key.mv_data = prefix;
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_ACCOUNTS), &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &key, &val, plen ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		struct account a;
		const char *k = key.mv_data, *slash;

		if (key.mv_size < plen || memcmp(k, prefix, plen) != 0)
			break;
		slash = memchr(k, '/', key.mv_size);
		if (slash == NULL || decode_account(&val, &a.id, NULL, 0, NULL, 0) != 0)
			continue;
		snprintf(a.domain, sizeof(a.domain), "%.*s", (int)(slash - k), k);
		snprintf(a.name, sizeof(a.name), "%.*s",
			 (int)(key.mv_size - (size_t)(slash - k) - 1), slash + 1);
		c->cb(&a, c->ctx);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_account_list(const char *domain, store_account_cb *cb, void *ctx,
		       const char **error_r)
{
	struct account_list_ctx c = { domain, cb, ctx };

	return store_read(account_list_txn, &c, error_r);
}

/* store_domain.c - the domains database. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"

#define DOMAIN_REC_V1 1

static MDB_val str_val(const char *s)
{
	MDB_val v = { strlen(s), (void *)s };
	return v;
}

static int domain_add_txn(MDB_txn *txn, void *ctx)
{
	const char *domain = ctx;
	MDB_val key = str_val(domain), val;
	struct rec_writer w;
	int rc;

	rec_init(&w, DOMAIN_REC_V1);
	rec_put_u64(&w, (uint64_t)time(NULL));
	val.mv_size = w.len;
	val.mv_data = w.data;
	rc = mdb_put(txn, store_dbi(DB_DOMAINS), &key, &val, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return store_fail("domain %s already exists", domain);
	return rc;
}

int store_domain_add(const char *domain, const char **error_r)
{
	return store_write(domain_add_txn, (void *)domain, false, error_r);
}

/* Accounts are keyed "domain/name": one prefix walk finds a domain's. */
static int domain_has_accounts(MDB_txn *txn, const char *domain, bool *has_r)
{
	char prefix[ACCOUNT_NAME_MAX + 2];
	MDB_cursor *cur;
	MDB_val key, val;
	int rc;

	snprintf(prefix, sizeof(prefix), "%s/", domain);
	key = str_val(prefix);
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_ACCOUNTS), &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	*has_r = rc == 0 && key.mv_size > strlen(prefix) &&
		 memcmp(key.mv_data, prefix, strlen(prefix)) == 0;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int domain_del_txn(MDB_txn *txn, void *ctx)
{
	const char *domain = ctx;
	MDB_val key = str_val(domain);
	char id[ACCOUNT_NAME_MAX + sizeof("anyone@")];
	bool has;
	int rc;

	if ((rc = domain_has_accounts(txn, domain, &has)) != 0)
		return rc;
	if (has)
		return store_fail("domain %s still has accounts: delete them first",
				  domain);
	rc = mdb_del(txn, store_dbi(DB_DOMAINS), &key, NULL);
	if (rc == MDB_NOTFOUND)
		return store_fail("no such domain: %s", domain);
	if (rc != 0)
		return rc;
	/* rights given to "anyone@domain": a domain made again later under
	 * this name must not inherit them */
	snprintf(id, sizeof(id), "anyone@%s", domain);
	return store_acl_remove_identifier_txn(txn, id);
}

int store_domain_del(const char *domain, const char **error_r)
{
	return store_write(domain_del_txn, (void *)domain, false, error_r);
}

struct exists_ctx {
	const char *domain;
	bool exists;
};

static int domain_exists_txn(MDB_txn *txn, void *ctx)
{
	struct exists_ctx *c = ctx;
	MDB_val key = str_val(c->domain), val;
	int rc = mdb_get(txn, store_dbi(DB_DOMAINS), &key, &val);

	c->exists = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_domain_exists(const char *domain, bool *exists_r, const char **error_r)
{
	struct exists_ctx c = { domain, false };

	if (store_read(domain_exists_txn, &c, error_r) < 0)
		return -1;
	*exists_r = c.exists;
	return 0;
}

struct list_ctx {
	store_name_cb *cb;
	void *ctx;
};

static int domain_list_txn(MDB_txn *txn, void *ctx)
{
	struct list_ctx *c = ctx;
	MDB_cursor *cur;
	MDB_val key, val;
	int rc;

	if ((rc = mdb_cursor_open(txn, store_dbi(DB_DOMAINS), &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		char name[ACCOUNT_NAME_MAX + 1];

		snprintf(name, sizeof(name), "%.*s", (int)key.mv_size,
			 (const char *)key.mv_data);
		c->cb(name, c->ctx);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_domain_list(store_name_cb *cb, void *ctx, const char **error_r)
{
	struct list_ctx c = { cb, ctx };

	return store_read(domain_list_txn, &c, error_r);
}

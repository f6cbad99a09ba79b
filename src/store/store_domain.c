/* store_domain.c - the domains database. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"
#include "store/store_alerts.h"
#include "store/store_settings.h"

#define DOMAIN_REC_V1 1
#define DOMAIN_REC_V2 2		/* + unified account */

static MDB_val str_val(const char *s)
{
	MDB_val v = { strlen(s), (void *)s };
	return v;
}

static int put_domain(MDB_txn *txn, const struct domain_info *d,
		      unsigned int flags)
{
	MDB_val key = str_val(d->name), val;
	struct rec_writer w;

	rec_init(&w, DOMAIN_REC_V2);
	rec_put_u64(&w, d->created);
	rec_put_str(&w, d->unified);
	val.mv_size = w.len;
	val.mv_data = w.data;
	return mdb_put(txn, store_dbi(DB_DOMAINS), &key, &val, flags);
}

int store_domain_get_txn(MDB_txn *txn, const char *domain,
			 struct domain_info *info_r, bool *found_r)
{
	MDB_val key = str_val(domain), val;
	struct rec_reader r;
	uint8_t version;
	int rc;

	memset(info_r, 0, sizeof(*info_r));
	rc = mdb_get(txn, store_dbi(DB_DOMAINS), &key, &val);
	*found_r = rc == 0;
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	snprintf(info_r->name, sizeof(info_r->name), "%s", domain);
	rec_read_init(&r, val.mv_data, val.mv_size);
	version = rec_get_u8(&r);
	if (version != DOMAIN_REC_V1 && version != DOMAIN_REC_V2)
		return store_fail("corrupt domain record for %s", domain);
	info_r->created = rec_get_u64(&r);
	if (version >= DOMAIN_REC_V2)
		rec_get_str(&r, info_r->unified, sizeof(info_r->unified));
	return r.bad ? store_fail("corrupt domain record for %s", domain) : 0;
}

static int domain_add_txn(MDB_txn *txn, void *ctx)
{
	const char *domain = ctx;
	struct domain_info d = { .created = (uint64_t)time(NULL) };
	char target[ACCOUNT_NAME_MAX + 1];
	bool alias;
	int rc;

	snprintf(d.name, sizeof(d.name), "%s", domain);
	if ((rc = store_domain_resolve_txn(txn, domain, target, &alias)) != 0)
		return rc;
	if (alias && strcmp(target, domain) != 0)
		return store_fail("%s is an alias of domain %s: remove the alias first",
				  domain, target);
	rc = put_domain(txn, &d, MDB_NOOVERWRITE);
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
	/* rights given to "anyone@domain", its aliases and bound addresses:
	 * a domain made again later under this name must not inherit them */
	if ((rc = store_domain_names_remove_txn(txn, domain)) != 0 ||
	    (rc = store_settings_remove_txn(txn, domain, "")) != 0 ||
	    (rc = store_alerts_remove_txn(txn, domain, "")) != 0)
		return rc;
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

struct domain_op {
	const char *name, *account;
	struct domain_info info;
	bool found;
};

static int domain_get_txn(MDB_txn *txn, void *vctx)
{
	struct domain_op *op = vctx;
	char domain[ACCOUNT_NAME_MAX + 1];
	int rc;

	if ((rc = store_domain_resolve_txn(txn, op->name, domain,
					   &op->found)) != 0 || !op->found)
		return rc;
	return store_domain_get_txn(txn, domain, &op->info, &op->found);
}

int store_domain_get(const char *name, struct domain_info *info_r,
		     bool *found_r, const char **error_r)
{
	struct domain_op op = { .name = name };

	if (store_read(domain_get_txn, &op, error_r) < 0)
		return -1;
	*found_r = op.found;
	*info_r = op.info;
	return 0;
}

static int set_unified_txn(MDB_txn *txn, void *vctx)
{
	struct domain_op *op = vctx;
	struct account account;
	bool found;
	int rc;

	if ((rc = store_domain_get_txn(txn, op->name, &op->info, &found)) != 0)
		return rc;
	if (!found)
		return store_fail("no such domain: %s", op->name);
	if (op->account[0] != '\0') {
		if ((rc = store_account_lookup_txn(txn, op->account, op->name,
						   &account, &found)) != 0)
			return rc;
		if (!found)
			return store_fail("no such account: %s@%s", op->account,
					  op->name);
	}
	snprintf(op->info.unified, sizeof(op->info.unified), "%s", op->account);
	return put_domain(txn, &op->info, 0);
}

int store_domain_set_unified(const char *domain, const char *account,
			     const char **error_r)
{
	struct domain_op op = { .name = domain, .account = account };

	return store_write(set_unified_txn, &op, false, error_r);
}

int store_domain_unified_clear_txn(MDB_txn *txn, const char *domain,
				   const char *account)
{
	struct domain_info info;
	bool found;
	int rc;

	if ((rc = store_domain_get_txn(txn, domain, &info, &found)) != 0)
		return rc;
	if (!found || strcmp(info.unified, account) != 0)
		return 0;
	info.unified[0] = '\0';
	return put_domain(txn, &info, 0);
}

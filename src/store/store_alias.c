/* store_alias.c - other names: domain aliases, account aliases, and local
 * addresses bound to domains.  Every value is a plain lower-case name. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"

static MDB_val str_val(const char *s)
{
	MDB_val v = { strlen(s), (void *)s };
	return v;
}

/* Copy a name value out of the map (values are at most a name long). */
static void copy_name(const MDB_val *val, char *out)
{
	size_t len = val->mv_size > ACCOUNT_NAME_MAX ? ACCOUNT_NAME_MAX
						     : val->mv_size;

	memcpy(out, val->mv_data, len);
	out[len] = '\0';
}

static int get_name(MDB_txn *txn, enum store_db db, const char *key_str,
		    char *out, bool *found_r)
{
	MDB_val key = str_val(key_str), val;
	int rc = mdb_get(txn, store_dbi(db), &key, &val);

	*found_r = rc == 0;
	out[0] = '\0';
	if (rc == 0)
		copy_name(&val, out);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int exists(MDB_txn *txn, enum store_db db, const char *key_str,
		  bool *found_r)
{
	char dummy[ACCOUNT_NAME_MAX + 1];

	return get_name(txn, db, key_str, dummy, found_r);
}

struct name_op {
	const char *a, *b, *c;	/* meaning depends on the operation */
	char out[ACCOUNT_NAME_MAX + 1];
	bool found;
	store_pair_cb *cb;
	void *ctx;
};

/* ---- domain aliases ---- */

static int domain_alias_add_txn(MDB_txn *txn, void *vctx)
{
	struct name_op *op = vctx;
	MDB_val key = str_val(op->a), val = str_val(op->b);
	bool found;
	int rc;

	if ((rc = exists(txn, DB_DOMAINS, op->a, &found)) != 0)
		return rc;
	if (found)
		return store_fail("%s is a domain, it cannot be an alias too", op->a);
	if ((rc = exists(txn, DB_DOMAINS, op->b, &found)) != 0)
		return rc;
	if (!found)
		return store_fail("no such domain: %s", op->b);
	rc = mdb_put(txn, store_dbi(DB_DOMAIN_ALIASES), &key, &val,
		     MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return store_fail("domain alias %s already exists", op->a);
	return rc;
}

int store_domain_alias_add(const char *alias, const char *domain,
			   const char **error_r)
{
	struct name_op op = { .a = alias, .b = domain };

	return store_write(domain_alias_add_txn, &op, false, error_r);
}

static int del_key_txn(MDB_txn *txn, enum store_db db, const char *key_str,
		       const char *what)
{
	MDB_val key = str_val(key_str);
	int rc = mdb_del(txn, store_dbi(db), &key, NULL);

	if (rc == MDB_NOTFOUND)
		return store_fail("no such %s: %s", what, key_str);
	return rc;
}

static int domain_alias_del_txn(MDB_txn *txn, void *vctx)
{
	struct name_op *op = vctx;

	return del_key_txn(txn, DB_DOMAIN_ALIASES, op->a, "domain alias");
}

int store_domain_alias_del(const char *alias, const char **error_r)
{
	struct name_op op = { .a = alias };

	return store_write(domain_alias_del_txn, &op, false, error_r);
}

/* Visit a whole database; op->a, when set, keeps only values equal to it. */
static int list_by_value(MDB_txn *txn, enum store_db db, struct name_op *op)
{
	MDB_cursor *cur;
	MDB_val key, val;
	int rc;

	if ((rc = mdb_cursor_open(txn, store_dbi(db), &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		char k[ADDRESS_MAX + 1], v[ACCOUNT_NAME_MAX + 1];

		copy_name(&val, v);
		if (op->a != NULL && strcmp(op->a, v) != 0)
			continue;
		snprintf(k, sizeof(k), "%.*s", (int)key.mv_size,
			 (const char *)key.mv_data);
		op->cb(k, v, op->ctx);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int domain_alias_list_txn(MDB_txn *txn, void *vctx)
{
	return list_by_value(txn, DB_DOMAIN_ALIASES, vctx);
}

int store_domain_alias_list(const char *domain, store_pair_cb *cb, void *ctx,
			    const char **error_r)
{
	struct name_op op = { .a = domain, .cb = cb, .ctx = ctx };

	return store_read(domain_alias_list_txn, &op, error_r);
}

/* Remove every record of db whose value is `value` (a removed domain's
 * aliases and bindings). */
static int drop_value(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		      const MDB_val *val, void *ctx)
{
	const char *value = ctx;

	(void)txn;
	(void)key;
	if (val->mv_size == strlen(value) &&
	    memcmp(val->mv_data, value, val->mv_size) == 0)
		return mdb_cursor_del(cur, 0);
	return 0;
}

int store_domain_names_remove_txn(MDB_txn *txn, const char *domain)
{
	int rc;

	if ((rc = store_walk_prefix(txn, store_dbi(DB_DOMAIN_ALIASES), "", 0,
				    drop_value, (void *)domain)) != 0)
		return rc;
	return store_walk_prefix(txn, store_dbi(DB_BINDINGS), "", 0, drop_value,
				 (void *)domain);
}

int store_domain_resolve_txn(MDB_txn *txn, const char *name, char *domain_r,
			     bool *found_r)
{
	int rc;

	if ((rc = exists(txn, DB_DOMAINS, name, found_r)) != 0)
		return rc;
	if (*found_r) {
		snprintf(domain_r, ACCOUNT_NAME_MAX + 1, "%s", name);
		return 0;
	}
	return get_name(txn, DB_DOMAIN_ALIASES, name, domain_r, found_r);
}

/* ---- bindings ---- */

static int binding_set_txn(MDB_txn *txn, void *vctx)
{
	struct name_op *op = vctx;
	MDB_val key = str_val(op->a), val = str_val(op->b);
	bool found;
	int rc;

	if ((rc = exists(txn, DB_DOMAINS, op->b, &found)) != 0)
		return rc;
	if (!found)
		return store_fail("no such domain: %s", op->b);
	/* rebinding an address moves it: one address, one domain */
	return mdb_put(txn, store_dbi(DB_BINDINGS), &key, &val, 0);
}

int store_binding_set(const char *address, const char *domain,
		      const char **error_r)
{
	struct name_op op = { .a = address, .b = domain };

	return store_write(binding_set_txn, &op, false, error_r);
}

static int binding_del_txn(MDB_txn *txn, void *vctx)
{
	struct name_op *op = vctx;

	return del_key_txn(txn, DB_BINDINGS, op->a, "bound address");
}

int store_binding_del(const char *address, const char **error_r)
{
	struct name_op op = { .a = address };

	return store_write(binding_del_txn, &op, false, error_r);
}

static int binding_get_txn(MDB_txn *txn, void *vctx)
{
	struct name_op *op = vctx;

	return get_name(txn, DB_BINDINGS, op->a, op->out, &op->found);
}

int store_binding_get(const char *address, char *domain_r, bool *found_r,
		      const char **error_r)
{
	struct name_op op = { .a = address };

	if (store_read(binding_get_txn, &op, error_r) < 0)
		return -1;
	memcpy(domain_r, op.out, sizeof(op.out));
	*found_r = op.found;
	return 0;
}

static int binding_list_txn(MDB_txn *txn, void *vctx)
{
	return list_by_value(txn, DB_BINDINGS, vctx);
}

int store_binding_list(store_pair_cb *cb, void *ctx, const char **error_r)
{
	struct name_op op = { .cb = cb, .ctx = ctx };

	return store_read(binding_list_txn, &op, error_r);
}

/* ---- account aliases: key "domain/alias", value the account name ---- */

static size_t alias_key(char *buf, const char *alias, const char *domain)
{
	return (size_t)snprintf(buf, ADDRESS_MAX + 1, "%s/%s", domain, alias);
}

static int alias_add_txn(MDB_txn *txn, void *vctx)
{
	struct name_op *op = vctx;	/* a alias, b domain, c account */
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, val = str_val(op->c);
	bool found;
	int rc;

	key.mv_size = alias_key(kbuf, op->a, op->b);
	if ((rc = exists(txn, DB_ACCOUNTS, kbuf, &found)) != 0)
		return rc;
	if (found)
		return store_fail("%s@%s is an account, it cannot be an alias too",
				  op->a, op->b);
	snprintf(kbuf, sizeof(kbuf), "%s/%s", op->b, op->c);
	if ((rc = exists(txn, DB_ACCOUNTS, kbuf, &found)) != 0)
		return rc;
	if (!found)
		return store_fail("no such account: %s@%s", op->c, op->b);
	key.mv_size = alias_key(kbuf, op->a, op->b);
	rc = mdb_put(txn, store_dbi(DB_ALIASES), &key, &val, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return store_fail("alias %s@%s already exists", op->a, op->b);
	return rc;
}

int store_alias_add(const char *alias, const char *domain, const char *account,
		    const char **error_r)
{
	struct name_op op = { .a = alias, .b = domain, .c = account };

	return store_write(alias_add_txn, &op, false, error_r);
}

static int alias_del_txn(MDB_txn *txn, void *vctx)
{
	struct name_op *op = vctx;
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf };
	int rc;

	key.mv_size = alias_key(kbuf, op->a, op->b);
	rc = mdb_del(txn, store_dbi(DB_ALIASES), &key, NULL);
	if (rc == MDB_NOTFOUND)
		return store_fail("no such alias: %s@%s", op->a, op->b);
	return rc;
}

int store_alias_del(const char *alias, const char *domain,
		    const char **error_r)
{
	struct name_op op = { .a = alias, .b = domain };

	return store_write(alias_del_txn, &op, false, error_r);
}

int store_alias_get_txn(MDB_txn *txn, const char *alias, const char *domain,
			char *account_r, bool *found_r)
{
	char kbuf[ADDRESS_MAX + 1];

	alias_key(kbuf, alias, domain);
	return get_name(txn, DB_ALIASES, kbuf, account_r, found_r);
}

static int alias_get_txn(MDB_txn *txn, void *vctx)
{
	struct name_op *op = vctx;

	return store_alias_get_txn(txn, op->a, op->b, op->out, &op->found);
}

int store_alias_get(const char *alias, const char *domain, char *account_r,
		    bool *found_r, const char **error_r)
{
	struct name_op op = { .a = alias, .b = domain };

	if (store_read(alias_get_txn, &op, error_r) < 0)
		return -1;
	memcpy(account_r, op.out, sizeof(op.out));
	*found_r = op.found;
	return 0;
}

static int alias_visit(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		       const MDB_val *val, void *ctx)
{
	struct name_op *op = ctx;
	char alias[ADDRESS_MAX + 1], account[ADDRESS_MAX + 1];
	const char *k = key->mv_data;
	const char *slash = memchr(k, '/', key->mv_size);
	int dlen;

	(void)txn;
	(void)cur;
	if (slash == NULL)
		return 0;
	dlen = (int)(slash - k);
	snprintf(alias, sizeof(alias), "%.*s@%.*s",
		 (int)(key->mv_size - (size_t)dlen - 1), slash + 1, dlen, k);
	snprintf(account, sizeof(account), "%.*s@%.*s", (int)val->mv_size,
		 (const char *)val->mv_data, dlen, k);
	op->cb(alias, account, op->ctx);
	return 0;
}

static int alias_list_txn(MDB_txn *txn, void *vctx)
{
	struct name_op *op = vctx;
	char prefix[ACCOUNT_NAME_MAX + 2] = "";

	if (op->a != NULL)
		snprintf(prefix, sizeof(prefix), "%s/", op->a);
	return store_walk_prefix(txn, store_dbi(DB_ALIASES), prefix,
				 strlen(prefix), alias_visit, op);
}

int store_alias_list(const char *domain, store_pair_cb *cb, void *ctx,
		     const char **error_r)
{
	struct name_op op = { .a = domain, .cb = cb, .ctx = ctx };

	return store_read(alias_list_txn, &op, error_r);
}

int store_account_aliases_remove_txn(MDB_txn *txn, const char *name,
				     const char *domain)
{
	char prefix[ACCOUNT_NAME_MAX + 2];

	snprintf(prefix, sizeof(prefix), "%s/", domain);
	return store_walk_prefix(txn, store_dbi(DB_ALIASES), prefix,
				 strlen(prefix), drop_value, (void *)name);
}

/* store_settings.c - the settings database (store_settings.h).
 *
 * Key "domain/account/key": "//key" for the server, "domain//key" for a
 * domain, "domain/name/key" for an account.  Names hold no '/', so one
 * prefix holds exactly one level's keys and removing an account or a domain
 * is one prefix walk.  Value: the text as given. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_settings.h"

#define SETTING_PREFIX_MAX (2 * ACCOUNT_NAME_MAX + 3)

static size_t level_prefix(char *buf, const char *domain, const char *account)
{
	return (size_t)snprintf(buf, SETTING_PREFIX_MAX + 1, "%s/%s/", domain,
				account != NULL ? account : "");
}

struct set_ctx {
	const char *domain, *account, *key, *value;
};

static int set_txn(MDB_txn *txn, void *vctx)
{
	struct set_ctx *c = vctx;
	char kbuf[SETTING_PREFIX_MAX + SETTING_KEY_MAX + 2];
	MDB_val key = { 0, kbuf }, val;
	int rc;

	if (c->domain[0] != '\0') {
		struct domain_info info;
		bool found;

		if ((rc = store_domain_get_txn(txn, c->domain, &info, &found)) != 0)
			return rc;
		if (!found || strcmp(info.name, c->domain) != 0)
			return store_fail("no such domain: %s", c->domain);
	}
	if (c->account[0] != '\0') {
		struct account a;
		bool found;

		if ((rc = store_account_lookup_txn(txn, c->account, c->domain, &a,
						   &found)) != 0)
			return rc;
		if (!found)
			return store_fail("no such account: %s@%s", c->account,
					  c->domain);
	}
	key.mv_size = level_prefix(kbuf, c->domain, c->account);
	key.mv_size += (size_t)snprintf(kbuf + key.mv_size,
					sizeof(kbuf) - key.mv_size, "%s", c->key);
	if (c->value == NULL) {
		rc = mdb_del(txn, store_dbi(DB_SETTINGS), &key, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	val.mv_size = strlen(c->value);
	val.mv_data = (void *)c->value;
	return mdb_put(txn, store_dbi(DB_SETTINGS), &key, &val, 0);
}

int store_setting_set(const char *domain, const char *account, const char *key,
		      const char *value, const char **error_r)
{
	struct set_ctx c = { domain, account != NULL ? account : "", key, value };

	if (strlen(key) == 0 || strlen(key) > SETTING_KEY_MAX ||
	    strchr(key, '/') != NULL) {
		*error_r = "invalid setting name";
		return -1;
	}
	if (value != NULL && strlen(value) > SETTING_VALUE_MAX) {
		*error_r = "setting value longer than 255 octets";
		return -1;
	}
	if (domain[0] == '\0' && c.account[0] != '\0') {
		*error_r = "an account setting needs the account's domain";
		return -1;
	}
	return store_write(set_txn, &c, false, error_r);
}

struct list_ctx {
	enum setting_level level;
	size_t plen;
	store_setting_cb *cb;
	void *ctx;
};

static int list_one(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		    const MDB_val *val, void *vctx)
{
	struct list_ctx *c = vctx;
	char k[SETTING_KEY_MAX + 1], v[SETTING_VALUE_MAX + 1];
	size_t klen = key->mv_size - c->plen;

	(void)txn;
	(void)cur;
	/* "domain//" is also a prefix of nothing else; a key holding '/'
	 * belongs to a deeper level (only for the server's "//" prefix,
	 * which cannot be that: skip anything odd) */
	if (klen == 0 || klen > SETTING_KEY_MAX || val->mv_size > SETTING_VALUE_MAX ||
	    memchr((const char *)key->mv_data + c->plen, '/', klen) != NULL)
		return 0;
	memcpy(k, (const char *)key->mv_data + c->plen, klen);
	k[klen] = '\0';
	memcpy(v, val->mv_data, val->mv_size);
	v[val->mv_size] = '\0';
	c->cb(c->level, k, v, c->ctx);
	return 0;
}

struct for_ctx {
	const char *domain, *account;
	store_setting_cb *cb;
	void *ctx;
};

static int for_txn(MDB_txn *txn, void *vctx)
{
	struct for_ctx *f = vctx;
	const char *levels[3][2] = {
		{ "", "" }, { f->domain, "" }, { f->domain, f->account },
	};
	int rc;

	for (int l = SETTING_SERVER; l <= SETTING_ACCOUNT; l++) {
		char prefix[SETTING_PREFIX_MAX + 1];
		struct list_ctx c = { (enum setting_level)l, 0, f->cb, f->ctx };

		if ((l >= SETTING_DOMAIN && f->domain[0] == '\0') ||
		    (l == SETTING_ACCOUNT && f->account[0] == '\0'))
			break;
		c.plen = level_prefix(prefix, levels[l][0], levels[l][1]);
		if ((rc = store_walk_prefix(txn, store_dbi(DB_SETTINGS), prefix,
					    c.plen, list_one, &c)) != 0)
			return rc;
	}
	return 0;
}

int store_settings_for(const char *domain, const char *account,
		       store_setting_cb *cb, void *ctx, const char **error_r)
{
	struct for_ctx f = { domain != NULL ? domain : "",
			     account != NULL ? account : "", cb, ctx };

	return store_read(for_txn, &f, error_r);
}

int store_settings_remove_txn(MDB_txn *txn, const char *domain,
			      const char *account)
{
	char prefix[SETTING_PREFIX_MAX + 1];
	size_t plen = level_prefix(prefix, domain, account);

	return store_walk_prefix(txn, store_dbi(DB_SETTINGS), prefix, plen, store_walk_drop,
				 NULL);
}

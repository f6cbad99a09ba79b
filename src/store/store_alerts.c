/* store_alerts.c - the alerts databases (store_alerts.h).
 *
 * `alerts`: key "scope\0" + be64(id), scope "" for the server,
 * "d:domain" for a domain, "a:domain/name" for an account, so each
 * scope's alerts are one prefix in posting order; value: created, text.
 * `alerts_shown`: key be64(alert id) + "domain/name", no value: a server or
 * domain alert shown to that account.  Removing an alert walks its id's
 * prefix; the marks of a removed account stay behind harmlessly - an
 * account made later under the name is newer than every alert it marks. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_alerts.h"
#include "store/store_internal.h"

#define ALERT_REC_V1 1
#define SCOPE_MAX (2 * ACCOUNT_NAME_MAX + 3)
#define ALERT_KEY_MAX (SCOPE_MAX + 1 + 8)

static size_t scope_key(char *buf, enum alert_scope scope, const char *domain,
			const char *account)
{
	int n = 0;

	switch (scope) {
	case ALERT_SERVER:
		n = 0;
		break;
	case ALERT_DOMAIN:
		n = snprintf(buf, SCOPE_MAX + 1, "d:%s", domain);
		break;
	case ALERT_ACCOUNT:
		n = snprintf(buf, SCOPE_MAX + 1, "a:%s/%s", domain, account);
		break;
	}
	buf[n] = '\0';	/* the separator: part of the prefix */
	return (size_t)n + 1;
}

static int decode(const MDB_val *key, const MDB_val *val, struct alert *a)
{
	const char *k = key->mv_data;
	const char *nul = memchr(k, '\0', key->mv_size);
	struct rec_reader r;
	size_t slen;

	memset(a, 0, sizeof(*a));
	if (nul == NULL || (size_t)(nul - k) + 9 != key->mv_size)
		return store_fail("corrupt alert key");
	slen = (size_t)(nul - k);
	if (slen == 0) {
		a->scope = ALERT_SERVER;
	} else if (slen > 2 && k[0] == 'd' && k[1] == ':' && slen - 2 <= ACCOUNT_NAME_MAX) {
		a->scope = ALERT_DOMAIN;
		memcpy(a->domain, k + 2, slen - 2);
	} else if (slen > 2 && k[0] == 'a' && k[1] == ':') {
		const char *slash = memchr(k + 2, '/', slen - 2);

		if (slash == NULL || (size_t)(slash - k - 2) > ACCOUNT_NAME_MAX ||
		    (size_t)(k + slen - slash - 1) > ACCOUNT_NAME_MAX)
			return store_fail("corrupt alert key");
		a->scope = ALERT_ACCOUNT;
		memcpy(a->domain, k + 2, (size_t)(slash - k - 2));
		memcpy(a->account, slash + 1, (size_t)(k + slen - slash - 1));
	} else {
		return store_fail("corrupt alert key");
	}
	for (int i = 0; i < 8; i++)
		a->id = a->id << 8 | (uint8_t)nul[1 + i];
	rec_read_init(&r, val->mv_data, val->mv_size);
	if (rec_get_u8(&r) != ALERT_REC_V1)
		return store_fail("corrupt alert record %llu", (unsigned long long)a->id);
	a->created = rec_get_u64(&r);
	rec_get_str(&r, a->text, sizeof(a->text));
	return r.bad ? store_fail("corrupt alert record %llu", (unsigned long long)a->id) : 0;
}

struct post_ctx {
	enum alert_scope scope;
	const char *domain, *account, *text;
	uint64_t id;
};

static int post_txn(MDB_txn *txn, void *vctx)
{
	struct post_ctx *c = vctx;
	char kbuf[ALERT_KEY_MAX];
	MDB_val key = { 0, kbuf }, val;
	struct rec_writer w;
	size_t klen;
	int rc;

	if (c->scope != ALERT_SERVER) {
		struct domain_info info;
		bool found;

		if ((rc = store_domain_get_txn(txn, c->domain, &info, &found)) != 0)
			return rc;
		if (!found || strcmp(info.name, c->domain) != 0)
			return store_fail("no such domain: %s", c->domain);
	}
	if (c->scope == ALERT_ACCOUNT) {
		struct account a;
		bool found;

		if ((rc = store_account_lookup_txn(txn, c->account, c->domain, &a,
						   &found)) != 0)
			return rc;
		if (!found)
			return store_fail("no such account: %s@%s", c->account, c->domain);
	}
	if ((rc = store_next_id(txn, &c->id)) != 0)
		return rc;
	klen = scope_key(kbuf, c->scope, c->domain, c->account);
	store_be64((uint8_t *)kbuf + klen, c->id);
	key.mv_size = klen + 8;
	rec_init(&w, ALERT_REC_V1);
	rec_put_u64(&w, (uint64_t)time(NULL));
	rec_put_str(&w, c->text);
	val.mv_size = w.len;
	val.mv_data = w.data;
	return mdb_put(txn, store_dbi(DB_ALERTS), &key, &val, MDB_NOOVERWRITE);
}

int store_alert_post(enum alert_scope scope, const char *domain,
		     const char *account, const char *text, uint64_t *id_r,
		     const char **error_r)
{
	struct post_ctx c = { scope, domain ? domain : "", account ? account : "",
			      text, 0 };
	size_t len = strlen(text);

	if (len == 0 || len > ALERT_TEXT_MAX) {
		*error_r = "an alert is 1 to 400 octets of text";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) {
			*error_r = "an alert is one line of text: no control characters";
			return -1;
		}
	}
	if (store_write(post_txn, &c, false, error_r) < 0)
		return -1;
	*id_r = c.id;
	return 0;
}

/* Find an alert by id: a walk of `alerts` (few; admins post them). */
static int find_id(MDB_txn *txn, uint64_t id, MDB_val *key_r, uint8_t *kbuf)
{
	MDB_cursor *cur;
	MDB_val key, val;
	int rc;

	if ((rc = mdb_cursor_open(txn, store_dbi(DB_ALERTS), &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		const uint8_t *k = key.mv_data;
		uint64_t kid = 0;

		if (key.mv_size < 9 || key.mv_size > ALERT_KEY_MAX)
			continue;
		for (int i = 0; i < 8; i++)
			kid = kid << 8 | k[key.mv_size - 8 + (size_t)i];
		if (kid == id && k[key.mv_size - 9] == '\0') {
			memcpy(kbuf, k, key.mv_size);
			key_r->mv_size = key.mv_size;
			key_r->mv_data = kbuf;
			break;
		}
	}
	mdb_cursor_close(cur);
	return rc;
}

struct del_ctx {
	uint64_t id;
	bool found;
};

static int del_txn(MDB_txn *txn, void *vctx)
{
	struct del_ctx *c = vctx;
	uint8_t kbuf[ALERT_KEY_MAX], prefix[8];
	MDB_val key;
	int rc;

	c->found = false;
	rc = find_id(txn, c->id, &key, kbuf);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = mdb_del(txn, store_dbi(DB_ALERTS), &key, NULL)) != 0)
		return rc;
	c->found = true;
	store_be64(prefix, c->id);
	return store_walk_prefix(txn, store_dbi(DB_ALERTS_SHOWN), prefix,
				 sizeof(prefix), store_walk_drop, NULL);
}

int store_alert_del(uint64_t id, bool *found_r, const char **error_r)
{
	struct del_ctx c = { id, false };

	if (store_write(del_txn, &c, false, error_r) < 0)
		return -1;
	*found_r = c.found;
	return 0;
}

struct list_ctx {
	int filter;
	const char *domain, *account;
	struct alert *list;	/* gathered in the transaction, sorted after */
	size_t count, alloc;
};

static int list_one(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		    const MDB_val *val, void *vctx)
{
	struct list_ctx *c = vctx;
	int rc;

	(void)txn;
	(void)cur;
	if (c->count == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 16;
		c->list = xrealloc(c->list, c->alloc * sizeof(*c->list));
	}
	if ((rc = decode(key, val, &c->list[c->count])) != 0)
		return rc;
	c->count++;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct alert *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Every alert of the filter, gathered (the caller sorts them). */
static int list_txn(MDB_txn *txn, void *vctx)
{
	struct list_ctx *c = vctx;

	c->count = 0;	/* the transaction may be retried */
	char prefix[SCOPE_MAX + 1] = "";
	size_t plen = 0;
	if (c->filter >= 0)
		plen = scope_key(prefix, (enum alert_scope)c->filter, c->domain,
				 c->account);
	return store_walk_prefix(txn, store_dbi(DB_ALERTS), prefix, plen,
				 list_one, c);
}

int store_alert_list(int scope_filter, const char *domain, const char *account,
		     store_alert_cb *cb, void *ctx, const char **error_r)
{
	struct list_ctx c = { scope_filter, domain ? domain : "",
			      account ? account : "", NULL, 0, 0 };
	int ret = store_read(list_txn, &c, error_r);

	if (ret == 0) {
		/* in posting order, whatever the scope (no alert: no list,
		 * and qsort must not be given NULL) */
		if (c.count > 1)
			qsort(c.list, c.count, sizeof(*c.list), by_id);
		for (size_t i = 0; i < c.count; i++)
			cb(&c.list[i], ctx);
	}
	free(c.list);
	return ret;
}

struct take_ctx {
	const struct account *account;
	struct alert best;
	bool have;
	MDB_val best_key;
	uint8_t best_kbuf[ALERT_KEY_MAX];
	MDB_txn *txn;
	char who[ADDRESS_MAX + 1];	/* "domain/name" */
};

static int shown(MDB_txn *txn, uint64_t id, const char *who, bool *shown_r)
{
	uint8_t kbuf[8 + ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, val;
	size_t wlen = strlen(who);
	int rc;

	store_be64(kbuf, id);
	memcpy(kbuf + 8, who, wlen);
	key.mv_size = 8 + wlen;
	rc = mdb_get(txn, store_dbi(DB_ALERTS_SHOWN), &key, &val);
	*shown_r = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int consider(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
		    const MDB_val *val, void *vctx)
{
	struct take_ctx *c = vctx;
	struct alert a;
	bool seen = false;
	int rc;

	(void)cur;
	if ((rc = decode(key, val, &a)) != 0)
		return rc;
	if (c->have && a.id >= c->best.id)
		return 0;
	if (a.scope != ALERT_ACCOUNT) {
		/* posted before the account existed: not for it (ids come from
		 * one counter, so this holds within the same second too) */
		if (a.id < c->account->id)
			return 0;
		if ((rc = shown(txn, a.id, c->who, &seen)) != 0)
			return rc;
		if (seen)
			return 0;
	}
	c->best = a;
	c->have = true;
	memcpy(c->best_kbuf, key->mv_data, key->mv_size);
	c->best_key.mv_size = key->mv_size;
	c->best_key.mv_data = c->best_kbuf;
	return 0;
}

static int take_txn(MDB_txn *txn, void *vctx)
{
	struct take_ctx *c = vctx;
	const struct account *a = c->account;
	struct account_info info;
	char prefix[SCOPE_MAX + 1];
	size_t plen;
	int rc;

	c->have = false;
	/* the account must still be the one that logged in */
	if ((rc = store_account_info_txn(txn, a, &info)) != 0)
		return rc;
	snprintf(c->who, sizeof(c->who), "%s/%s", a->domain, a->name);
	for (int s = ALERT_SERVER; s <= ALERT_ACCOUNT; s++) {
		plen = scope_key(prefix, (enum alert_scope)s, a->domain, a->name);
		if ((rc = store_walk_prefix(txn, store_dbi(DB_ALERTS), prefix, plen,
					    consider, c)) != 0)
			return rc;
	}
	if (!c->have)
		return 0;
	if (c->best.scope == ALERT_ACCOUNT)
		return mdb_del(txn, store_dbi(DB_ALERTS), &c->best_key, NULL);
	uint8_t kbuf[8 + ADDRESS_MAX + 1];
	MDB_val key = { 8 + strlen(c->who), kbuf }, val = { 0, NULL };

	store_be64(kbuf, c->best.id);
	memcpy(kbuf + 8, c->who, strlen(c->who));
	return mdb_put(txn, store_dbi(DB_ALERTS_SHOWN), &key, &val, 0);
}

int store_alert_take(const struct account *account, struct alert *alert_r,
		     bool *found_r, const char **error_r)
{
	static _Thread_local struct take_ctx c;

	memset(&c, 0, sizeof(c));
	c.account = account;
	if (store_write(take_txn, &c, false, error_r) < 0)
		return -1;
	*found_r = c.have;
	if (c.have)
		*alert_r = c.best;
	return 0;
}

int store_alerts_remove_txn(MDB_txn *txn, const char *domain, const char *account)
{
	char prefix[SCOPE_MAX + 1];
	size_t plen = scope_key(prefix, account != NULL && account[0] ? ALERT_ACCOUNT :
				ALERT_DOMAIN, domain, account);

	return store_walk_prefix(txn, store_dbi(DB_ALERTS), prefix, plen, store_walk_drop, NULL);
}

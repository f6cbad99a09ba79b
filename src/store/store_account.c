/* store_account.c - the accounts database and account removal. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"
#include "store/store_alerts.h"
#include "store/store_retrieval.h"
#include "store/store_settings.h"

#define ACCOUNT_REC_V1 1
#define ACCOUNT_REC_V2 2	/* + SCRAM secrets */
#define ACCOUNT_REC_V3 3	/* + flags, cleartext secret */
#define ACCOUNT_REC_V4 4	/* + quota */

/* An account record, decoded.  Older versions read with the new fields
 * empty; every write is the newest version. */
struct account_rec {
	uint64_t id;
	uint64_t created;
	uint32_t flags;
	uint64_t quota;
	struct account_secrets secrets;
};

struct account_ctx {
	const char *name, *domain;
	const struct account_secrets *secrets_in;
	uint32_t set_flags, clear_flags;
	bool set_quota;
	uint64_t quota;
	struct account account;
	struct account_rec rec;		/* what a lookup found */
	bool found;
};

static size_t account_key(char *buf, const char *name, const char *domain)
{
	return (size_t)snprintf(buf, ADDRESS_MAX + 1, "%s/%s", domain, name);
}

static void encode_account(struct rec_writer *w, const struct account_rec *r)
{
	rec_init(w, ACCOUNT_REC_V4);
	rec_put_u64(w, r->id);
	rec_put_u64(w, r->created);
	rec_put_str(w, r->secrets.hash);
	rec_put_str(w, r->secrets.scram);
	rec_put_u32(w, r->flags);
	rec_put_str(w, r->secrets.cleartext);
	rec_put_u64(w, r->quota);
}

static int decode_account(const MDB_val *val, struct account_rec *r)
{
	struct rec_reader rd;
	uint8_t version;

	memset(r, 0, sizeof(*r));
	rec_read_init(&rd, val->mv_data, val->mv_size);
	version = rec_get_u8(&rd);
	if (version < ACCOUNT_REC_V1 || version > ACCOUNT_REC_V4)
		return store_fail("corrupt account record");
	r->id = rec_get_u64(&rd);
	r->created = rec_get_u64(&rd);
	rec_get_str(&rd, r->secrets.hash, sizeof(r->secrets.hash));
	if (version >= ACCOUNT_REC_V2)
		rec_get_str(&rd, r->secrets.scram, sizeof(r->secrets.scram));
	if (version >= ACCOUNT_REC_V3) {
		r->flags = rec_get_u32(&rd);
		rec_get_str(&rd, r->secrets.cleartext, sizeof(r->secrets.cleartext));
	}
	if (version >= ACCOUNT_REC_V4)
		r->quota = rec_get_u64(&rd);
	return rd.bad ? store_fail("corrupt account record") : 0;
}

static int put_account(MDB_txn *txn, MDB_val *key, const struct account_rec *r)
{
	static _Thread_local struct rec_writer w;	/* 4 KiB: not on the stack */
	MDB_val val;

	encode_account(&w, r);
	if (w.overflow)
		return store_fail("account record too large");
	val.mv_size = w.len;
	val.mv_data = w.data;
	return mdb_put(txn, store_dbi(DB_ACCOUNTS), key, &val, 0);
}

static int account_add_txn(MDB_txn *txn, void *vctx)
{
	struct account_ctx *c = vctx;
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, dkey = { strlen(c->domain), (void *)c->domain };
	MDB_val val;
	struct account_rec r;
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
	{
		char target[ACCOUNT_NAME_MAX + 1];
		bool alias;

		if ((rc = store_alias_get_txn(txn, c->name, c->domain, target,
					      &alias)) != 0)
			return rc;
		if (alias)
			return store_fail("%s@%s is an alias of %s@%s: remove the alias first",
					  c->name, c->domain, target, c->domain);
	}
	memset(&r, 0, sizeof(r));
	if ((rc = store_next_id(txn, &r.id)) != 0)
		return rc;
	r.created = (uint64_t)time(NULL);
	r.secrets = *c->secrets_in;
	if ((rc = put_account(txn, &key, &r)) != 0)
		return rc;
	c->account.id = r.id;
	snprintf(c->account.name, sizeof(c->account.name), "%s", c->name);
	snprintf(c->account.domain, sizeof(c->account.domain), "%s", c->domain);
	explicit_bzero(&r, sizeof(r));
	return store_mailbox_create_txn(txn, c->account.id, MAILBOX_INBOX);
}

int store_account_add(const char *name, const char *domain,
		      const struct account_secrets *secrets,
		      struct account *account_r, const char **error_r)
{
	struct account_ctx c = { .name = name, .domain = domain,
				 .secrets_in = secrets };

	if (store_write(account_add_txn, &c, false, error_r) < 0)
		return -1;
	*account_r = c.account;
	return 0;
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
	if ((rc = decode_account(&val, &c->rec)) != 0)
		return rc;
	c->account.id = c->rec.id;
	snprintf(c->account.name, sizeof(c->account.name), "%s", c->name);
	snprintf(c->account.domain, sizeof(c->account.domain), "%s", c->domain);
	return 0;
}

int store_account_get_secrets(const char *name, const char *domain,
			      struct account *account_r,
			      struct account_secrets *secrets_r,
			      uint32_t *flags_r, bool *found_r,
			      const char **error_r)
{
	struct account_ctx *c = calloc(1, sizeof(*c));
	int ret;

	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->name = name;
	c->domain = domain;
	ret = store_read(account_get_txn, c, error_r);
	if (ret == 0) {
		*found_r = c->found;
		if (c->found) {
			*account_r = c->account;
			if (secrets_r != NULL)
				*secrets_r = c->rec.secrets;
			if (flags_r != NULL)
				*flags_r = c->rec.flags;
		}
	}
	explicit_bzero(c, sizeof(*c));
	free(c);
	return ret;
}

int store_account_get(const char *name, const char *domain,
		      struct account *account_r, char *hash_r, size_t hash_size,
		      bool *found_r, const char **error_r)
{
	struct account_secrets *sec = NULL;
	int ret;

	if (hash_r != NULL && (sec = malloc(sizeof(*sec))) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	ret = store_account_get_secrets(name, domain, account_r, sec, NULL,
					found_r, error_r);
	if (ret == 0 && *found_r && sec != NULL)
		snprintf(hash_r, hash_size, "%s", sec->hash);
	if (sec != NULL) {
		explicit_bzero(sec, sizeof(*sec));
		free(sec);
	}
	return ret;
}

/* Read-modify-write of an account record. */
static int account_update_txn(MDB_txn *txn, void *vctx)
{
	struct account_ctx *c = vctx;
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, val;
	int rc;

	key.mv_size = account_key(kbuf, c->name, c->domain);
	rc = mdb_get(txn, store_dbi(DB_ACCOUNTS), &key, &val);
	if (rc == MDB_NOTFOUND)
		return store_fail("no such account: %s@%s", c->name, c->domain);
	if (rc != 0 || (rc = decode_account(&val, &c->rec)) != 0)
		return rc;
	if (c->secrets_in != NULL)
		c->rec.secrets = *c->secrets_in;
	c->rec.flags = (c->rec.flags | c->set_flags) & ~c->clear_flags;
	if (c->set_quota)
		c->rec.quota = c->quota;
	rc = put_account(txn, &key, &c->rec);
	explicit_bzero(&c->rec, sizeof(c->rec));
	return rc;
}

/* Change secrets, flags and/or the quota of an existing account in one
 * transaction. */
static int account_update(const char *name, const char *domain,
			  const struct account_secrets *secrets, uint32_t set,
			  uint32_t clear, const uint64_t *quota,
			  const char **error_r)
{
	struct account_ctx *c = calloc(1, sizeof(*c));	/* secrets: 2.5 KiB */
	int ret;

	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->name = name;
	c->domain = domain;
	c->secrets_in = secrets;
	c->set_flags = set;
	c->clear_flags = clear;
	c->set_quota = quota != NULL;
	c->quota = quota != NULL ? *quota : 0;
	ret = store_write(account_update_txn, c, false, error_r);
	free(c);
	return ret;
}

int store_account_check_txn(MDB_txn *txn, const struct account *account)
{
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, val;
	struct account_rec *r;
	int rc;

	key.mv_size = account_key(kbuf, account->name, account->domain);
	rc = mdb_get(txn, store_dbi(DB_ACCOUNTS), &key, &val);
	if (rc == MDB_NOTFOUND)
		return store_fail("no such account: %s@%s", account->name,
				  account->domain);
	if (rc != 0)
		return rc;
	/* 2.5 KiB of secrets: not on the stack, and wiped after */
	if ((r = malloc(sizeof(*r))) == NULL)
		return store_fail("out of memory");
	rc = decode_account(&val, r);
	if (rc == 0 && r->id != account->id)
		rc = store_fail("no such account: %s@%s (it was removed and made again)",
				account->name, account->domain);
	explicit_bzero(r, sizeof(*r));
	free(r);
	return rc;
}

int store_account_set_secrets(const char *name, const char *domain,
			      const struct account_secrets *secrets,
			      const char **error_r)
{
	return account_update(name, domain, secrets, 0, 0, NULL, error_r);
}

int store_account_set_flags(const char *name, const char *domain,
			    uint32_t set, uint32_t clear, const char **error_r)
{
	return account_update(name, domain, NULL, set, clear, NULL, error_r);
}

int store_account_set_quota(const char *name, const char *domain,
			    uint64_t quota, const char **error_r)
{
	return account_update(name, domain, NULL, 0, 0, &quota, error_r);
}

int store_account_lookup_txn(MDB_txn *txn, const char *name,
			     const char *domain, struct account *account_r,
			     bool *found_r)
{
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, val;
	struct rec_reader rd;
	uint8_t version;
	int rc;

	key.mv_size = account_key(kbuf, name, domain);
	rc = mdb_get(txn, store_dbi(DB_ACCOUNTS), &key, &val);
	*found_r = rc == 0;
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	/* every version starts with the id: no need to decode the secrets */
	rec_read_init(&rd, val.mv_data, val.mv_size);
	version = rec_get_u8(&rd);
	account_r->id = rec_get_u64(&rd);
	if (rd.bad || version < ACCOUNT_REC_V1 || version > ACCOUNT_REC_V4)
		return store_fail("corrupt account record");
	snprintf(account_r->name, sizeof(account_r->name), "%s", name);
	snprintf(account_r->domain, sizeof(account_r->domain), "%s", domain);
	return 0;
}

int store_account_info_txn(MDB_txn *txn, const struct account *account,
			   struct account_info *info_r)
{
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, val;
	struct account_rec *r;
	int rc;

	memset(info_r, 0, sizeof(*info_r));
	key.mv_size = account_key(kbuf, account->name, account->domain);
	rc = mdb_get(txn, store_dbi(DB_ACCOUNTS), &key, &val);
	if (rc == MDB_NOTFOUND)
		return store_fail("no such account: %s@%s", account->name,
				  account->domain);
	if (rc != 0)
		return rc;
	if ((r = malloc(sizeof(*r))) == NULL)
		return store_fail("out of memory");
	rc = decode_account(&val, r);
	if (rc == 0 && r->id != account->id)
		rc = store_fail("no such account: %s@%s (it was removed and made again)",
				account->name, account->domain);
	info_r->flags = r->flags;
	info_r->created = r->created;
	info_r->quota = r->quota;
	explicit_bzero(r, sizeof(*r));
	free(r);
	return rc;
}

struct info_ctx {
	const char *name, *domain;
	struct account account;
	struct account_info info;
	bool found;
};

static int account_info_txn(MDB_txn *txn, void *vctx)
{
	struct info_ctx *c = vctx;
	struct mailbox_usage u;
	bool found;
	int rc;

	if ((rc = store_account_lookup_txn(txn, c->name, c->domain, &c->account,
					   &found)) != 0)
		return rc;
	c->found = found;
	if (!found)
		return 0;
	if ((rc = store_account_info_txn(txn, &c->account, &c->info)) != 0 ||
	    (rc = store_account_usage_txn(txn, c->account.id, &u)) != 0)
		return rc;
	c->info.used = u.octets;
	c->info.messages = u.messages;
	return 0;
}

int store_account_info(const char *name, const char *domain,
		       struct account *account_r, struct account_info *info_r,
		       bool *found_r, const char **error_r)
{
	struct info_ctx c = { .name = name, .domain = domain };

	if (store_read(account_info_txn, &c, error_r) < 0)
		return -1;
	*found_r = c.found;
	if (c.found) {
		*account_r = c.account;
		*info_r = c.info;
	}
	return 0;
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
	struct account_rec r;
	int rc;

	c->bodies.count = 0;	/* the transaction may be retried */
	key.mv_size = account_key(kbuf, c->name, c->domain);
	rc = mdb_get(txn, store_dbi(DB_ACCOUNTS), &key, &val);
	if (rc == MDB_NOTFOUND)
		return store_fail("no such account: %s@%s", c->name, c->domain);
	if (rc != 0 || (rc = decode_account(&val, &r)) != 0)
		return rc;
	if ((rc = mdb_del(txn, store_dbi(DB_ACCOUNTS), &key, NULL)) != 0)
		return rc;
	if ((rc = store_mailboxes_remove_txn(txn, r.id, &c->bodies)) != 0 ||
	    (rc = store_account_aliases_remove_txn(txn, c->name, c->domain)) != 0 ||
	    (rc = store_settings_remove_txn(txn, c->domain, c->name)) != 0 ||
	    (rc = store_alerts_remove_txn(txn, c->domain, c->name)) != 0 ||
	    (rc = store_retrieval_remove_account_txn(txn, r.id)) != 0 ||
	    (rc = store_domain_unified_clear_txn(txn, c->domain, c->name)) != 0)
		return rc;
	/* rights given to it elsewhere go too: an account created later
	 * under this name is someone else */
	snprintf(kbuf, sizeof(kbuf), "%s@%s", c->name, c->domain);
	return store_acl_remove_identifier_txn(txn, kbuf);
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
		static _Thread_local struct account_rec r;
		struct account a;
		const char *k = key.mv_data, *slash;

		if (key.mv_size < plen || memcmp(k, prefix, plen) != 0)
			break;
		slash = memchr(k, '/', key.mv_size);
		if (slash == NULL || decode_account(&val, &r) != 0)
			continue;
		a.id = r.id;
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

struct account_page_ctx {
	const char *domain, *prefix;
	size_t offset, limit;
	store_account_cb *cb;
	void *ctx;
	size_t total;
};

/* Keys are "domain/name": the accounts of a domain whose names start with
 * a prefix are one cursor range, counted without decoding and decoded
 * only for the page shown. */
static int account_page_txn(MDB_txn *txn, void *vctx)
{
	struct account_page_ctx *c = vctx;
	char start[ADDRESS_MAX + 2];
	size_t dlen = strlen(c->domain) + 1, slen;
	MDB_cursor *cur;
	MDB_val key, val;
	int rc;

	c->total = 0;
	slen = (size_t)snprintf(start, sizeof(start), "%s/%s", c->domain, c->prefix);
	key.mv_size = slen;
	key.mv_data = start;
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_ACCOUNTS), &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		static _Thread_local struct account_rec r;
		const char *k = key.mv_data;
		struct account a;

		if (key.mv_size < slen || memcmp(k, start, slen) != 0)
			break;
		if (c->total++ < c->offset || c->total > c->offset + c->limit)
			continue;
		if (decode_account(&val, &r) != 0 || key.mv_size - dlen > ACCOUNT_NAME_MAX)
			continue;
		a.id = r.id;
		snprintf(a.domain, sizeof(a.domain), "%s", c->domain);
		snprintf(a.name, sizeof(a.name), "%.*s", (int)(key.mv_size - dlen),
			 k + dlen);
		c->cb(&a, c->ctx);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_account_page(const char *domain, const char *prefix, size_t offset,
		       size_t limit, store_account_cb *cb, void *ctx,
		       size_t *total_r, const char **error_r)
{
	struct account_page_ctx c = { domain, prefix, offset, limit, cb, ctx, 0 };

	if (store_read(account_page_txn, &c, error_r) < 0)
		return -1;
	*total_r = c.total;
	return 0;
}

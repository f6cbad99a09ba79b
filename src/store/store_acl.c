/* store_acl.c - mailbox ACLs: the acl database and its index by
 * identifier (acl_identifiers), always changed together. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "mail/acl.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_ops.h"

#define ACL_REC_V1 1
#define ACL_ID_MAX ADDRESS_MAX
#define ACL_KEY_MAX (8 + ACL_ID_MAX)
#define ACL_IDX_KEY_MAX (ACL_ID_MAX + 1 + 8)

/* acl: be64(mailbox id) identifier */
static size_t acl_key(uint8_t *key, uint64_t mailbox_id, const char *id)
{
	size_t len = strlen(id);

	store_be64(key, mailbox_id);
	memcpy(key + 8, id, len);
	return 8 + len;
}

/* acl_identifiers: identifier NUL be64(mailbox id).  The NUL ends the
 * identifier, so the prefix "anyone@a.b\0" never matches "anyone@a.bc". */
static size_t idx_key(uint8_t *key, const char *id, uint64_t mailbox_id)
{
	size_t len = strlen(id);

	memcpy(key, id, len);
	key[len] = '\0';
	store_be64(key + len + 1, mailbox_id);
	return len + 1 + 8;
}

static int acl_decode(const MDB_val *val, unsigned int *rights_r)
{
	struct rec_reader r;

	rec_read_init(&r, val->mv_data, val->mv_size);
	if (rec_get_u8(&r) != ACL_REC_V1)
		return store_fail("corrupt ACL record");
	*rights_r = rec_get_u32(&r) & ACL_ALL;
	return r.bad ? store_fail("corrupt ACL record") : 0;
}

/* Entry rights, or MDB_NOTFOUND. */
static int acl_get_txn(MDB_txn *txn, uint64_t mailbox_id, const char *id,
		       unsigned int *rights_r)
{
	uint8_t kbuf[ACL_KEY_MAX];
	MDB_val key = { 0, kbuf }, val;
	int rc;

	key.mv_size = acl_key(kbuf, mailbox_id, id);
	if ((rc = mdb_get(txn, store_dbi(DB_ACL), &key, &val)) != 0)
		return rc;
	return acl_decode(&val, rights_r);
}

static int acl_put_txn(MDB_txn *txn, uint64_t mailbox_id, const char *id,
		       unsigned int rights)
{
	uint8_t kbuf[ACL_KEY_MAX], ibuf[ACL_IDX_KEY_MAX], empty = ACL_REC_V1;
	MDB_val key = { 0, kbuf }, ikey = { 0, ibuf }, val;
	struct rec_writer w;
	int rc;

	key.mv_size = acl_key(kbuf, mailbox_id, id);
	rec_init(&w, ACL_REC_V1);
	rec_put_u32(&w, rights);
	val.mv_size = w.len;
	val.mv_data = w.data;
	if ((rc = mdb_put(txn, store_dbi(DB_ACL), &key, &val, 0)) != 0)
		return rc;
	ikey.mv_size = idx_key(ibuf, id, mailbox_id);
	val.mv_size = 1;
	val.mv_data = &empty;
	return mdb_put(txn, store_dbi(DB_ACL_IDS), &ikey, &val, 0);
}

/* Remove one entry from both databases; MDB_NOTFOUND when absent. */
static int acl_remove_txn(MDB_txn *txn, uint64_t mailbox_id, const char *id)
{
	uint8_t kbuf[ACL_KEY_MAX], ibuf[ACL_IDX_KEY_MAX];
	MDB_val key = { 0, kbuf }, ikey = { 0, ibuf };
	int rc;

	key.mv_size = acl_key(kbuf, mailbox_id, id);
	if ((rc = mdb_del(txn, store_dbi(DB_ACL), &key, NULL)) != 0)
		return rc;
	ikey.mv_size = idx_key(ibuf, id, mailbox_id);
	rc = mdb_del(txn, store_dbi(DB_ACL_IDS), &ikey, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;	/* an index gap is harmless */
}

/* An entry (key: mailbox id, identifier) goes with its index record. */
static int remove_by_mailbox(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
			     const MDB_val *val, void *ctx)
{
	uint8_t ibuf[ACL_IDX_KEY_MAX];
	MDB_val ikey = { 0, ibuf };
	char id[ACL_ID_MAX + 1];
	int rc;

	(void)val;
	(void)ctx;
	if (key->mv_size <= 8 || key->mv_size > ACL_KEY_MAX)
		return 0;
	snprintf(id, sizeof(id), "%.*s", (int)(key->mv_size - 8),
		 (const char *)key->mv_data + 8);
	ikey.mv_size = idx_key(ibuf, id, store_get_be64(key->mv_data));
	rc = mdb_del(txn, store_dbi(DB_ACL_IDS), &ikey, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	return mdb_cursor_del(cur, 0);
}

int store_acl_remove_mailbox_txn(MDB_txn *txn, uint64_t mailbox_id)
{
	uint8_t prefix[8];

	store_be64(prefix, mailbox_id);
	return store_walk_prefix(txn, store_dbi(DB_ACL), prefix, sizeof(prefix),
				 remove_by_mailbox, NULL);
}

/* An index record (key: identifier, NUL, mailbox id) goes with its entry. */
static int remove_by_identifier(MDB_txn *txn, MDB_cursor *cur,
				const MDB_val *key, const MDB_val *val,
				void *ctx)
{
	const char *identifier = ctx;
	size_t plen = strlen(identifier) + 1;
	uint8_t kbuf[ACL_KEY_MAX];
	MDB_val akey = { 0, kbuf };
	int rc;

	(void)val;
	if (key->mv_size != plen + 8)
		return 0;
	akey.mv_size = acl_key(kbuf, store_get_be64((const uint8_t *)key->mv_data +
						    plen), identifier);
	rc = mdb_del(txn, store_dbi(DB_ACL), &akey, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	return mdb_cursor_del(cur, 0);
}

int store_acl_remove_identifier_txn(MDB_txn *txn, const char *identifier)
{
	size_t plen = strlen(identifier) + 1;	/* the NUL ends the prefix */

	if (plen > ACL_ID_MAX + 1)
		return 0;
	return store_walk_prefix(txn, store_dbi(DB_ACL_IDS), identifier, plen,
				 remove_by_identifier, (void *)identifier);
}

/* ---- entries of one mailbox, named by owner and name ---- */

struct acl_ctx {
	const struct account *owner;
	const char *mailbox;
	const struct acl_identifier *id;
	enum acl_mode mode;
	unsigned int rights;		/* the change to make, or found */
	unsigned int result;		/* store_acl_set: the entry after */
	bool found;
	store_acl_cb *cb;
	void *cb_ctx;
	const struct account *user;	/* store_acl_rights */
	uint64_t mailbox_id;
};

static int find_mailbox_txn(MDB_txn *txn, const struct acl_ctx *c,
			    struct mailbox_rec *rec_r)
{
	int rc = store_mailbox_get_txn(txn, c->owner->id, c->mailbox, rec_r);

	if (rc == MDB_NOTFOUND)
		return store_fail("no mailbox %s in account %s@%s", c->mailbox,
				  c->owner->name, c->owner->domain);
	return rc;
}

/* The account or domain an identifier names must exist when rights are
 * given to it (removing them needs no such check). */
static int identifier_check_txn(MDB_txn *txn, const struct acl_ctx *c)
{
	const struct acl_identifier *id = c->id;
	char kbuf[ADDRESS_MAX + 1];
	MDB_val key = { 0, kbuf }, val;
	int rc;

	if (id->kind == ACL_ID_ANYONE)
		return 0;
	if (id->kind == ACL_ID_ANYONE_DOMAIN) {
		key.mv_size = strlen(id->domain);
		key.mv_data = (void *)id->domain;
		rc = mdb_get(txn, store_dbi(DB_DOMAINS), &key, &val);
		if (rc == MDB_NOTFOUND)
			return store_fail("no such domain: %s", id->domain);
		return rc;
	}
	if (strcmp(id->name, c->owner->name) == 0 &&
	    strcmp(id->domain, c->owner->domain) == 0)
		return store_fail("%s owns %s and has every right there; an ACL entry cannot change that",
				  id->text, c->mailbox);
	key.mv_size = (size_t)snprintf(kbuf, sizeof(kbuf), "%s/%s", id->domain,
				       id->name);
	rc = mdb_get(txn, store_dbi(DB_ACCOUNTS), &key, &val);
	if (rc == MDB_NOTFOUND)
		return store_fail("no such account: %s", id->text);
	return rc;
}

static int acl_set_txn(MDB_txn *txn, void *vctx)
{
	struct acl_ctx *c = vctx;
	struct mailbox_rec mb;
	unsigned int current = 0;
	int rc;

	if ((rc = store_account_check_txn(txn, c->owner)) != 0 ||
	    (rc = find_mailbox_txn(txn, c, &mb)) != 0 ||
	    (rc = identifier_check_txn(txn, c)) != 0)
		return rc;
	rc = acl_get_txn(txn, mb.id, c->id->text, &current);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	c->found = rc == 0;
	c->result = acl_rights_apply(c->mode, current, c->rights);
	if (c->result == 0)
		return c->found ? acl_remove_txn(txn, mb.id, c->id->text) : 0;
	return acl_put_txn(txn, mb.id, c->id->text, c->result);
}

int store_acl_set(const struct account *owner, const char *mailbox,
		  const struct acl_identifier *id, enum acl_mode mode,
		  unsigned int rights, unsigned int *rights_r,
		  const char **error_r)
{
	struct acl_ctx c = { .owner = owner, .mailbox = mailbox, .id = id,
			     .mode = mode, .rights = rights };

	if (store_write(acl_set_txn, &c, false, error_r) < 0)
		return -1;
	*rights_r = c.result;
	return 0;
}

static int acl_get_entry_txn(MDB_txn *txn, void *vctx)
{
	struct acl_ctx *c = vctx;
	struct mailbox_rec mb;
	int rc;

	if ((rc = find_mailbox_txn(txn, c, &mb)) != 0)
		return rc;
	rc = acl_get_txn(txn, mb.id, c->id->text, &c->rights);
	c->found = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_acl_get(const struct account *owner, const char *mailbox,
		  const struct acl_identifier *id, unsigned int *rights_r,
		  bool *found_r, const char **error_r)
{
	struct acl_ctx c = { .owner = owner, .mailbox = mailbox, .id = id };

	if (store_read(acl_get_entry_txn, &c, error_r) < 0)
		return -1;
	*found_r = c.found;
	*rights_r = c.found ? c.rights : 0;
	return 0;
}

static int acl_list_txn(MDB_txn *txn, void *vctx)
{
	struct acl_ctx *c = vctx;
	struct mailbox_rec mb;
	uint8_t kbuf[8];
	MDB_val key = { sizeof(kbuf), kbuf }, val;
	MDB_cursor *cur;
	int rc;

	if ((rc = find_mailbox_txn(txn, c, &mb)) != 0)
		return rc;
	store_be64(kbuf, mb.id);
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_ACL), &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		char id[ACL_ID_MAX + 1];
		unsigned int rights;

		if (key.mv_size <= 8 || store_get_be64(key.mv_data) != mb.id)
			break;
		if (key.mv_size > ACL_KEY_MAX) {
			rc = store_fail("corrupt ACL key in mailbox %s", c->mailbox);
			break;
		}
		if ((rc = acl_decode(&val, &rights)) != 0)
			break;
		snprintf(id, sizeof(id), "%.*s", (int)(key.mv_size - 8),
			 (const char *)key.mv_data + 8);
		c->cb(id, rights, c->cb_ctx);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_acl_list(const struct account *owner, const char *mailbox,
		   store_acl_cb *cb, void *ctx, const char **error_r)
{
	struct acl_ctx c = { .owner = owner, .mailbox = mailbox, .cb = cb,
			     .cb_ctx = ctx };

	return store_read(acl_list_txn, &c, error_r);
}

static int acl_del_txn(MDB_txn *txn, void *vctx)
{
	struct acl_ctx *c = vctx;
	struct mailbox_rec mb;
	int rc;

	if ((rc = find_mailbox_txn(txn, c, &mb)) != 0)
		return rc;
	rc = acl_remove_txn(txn, mb.id, c->id->text);
	if (rc == MDB_NOTFOUND)
		return store_fail("no ACL entry for %s on mailbox %s of %s@%s",
				  c->id->text, c->mailbox, c->owner->name,
				  c->owner->domain);
	return rc;
}

int store_acl_del(const struct account *owner, const char *mailbox,
		  const struct acl_identifier *id, const char **error_r)
{
	struct acl_ctx c = { .owner = owner, .mailbox = mailbox, .id = id };

	return store_write(acl_del_txn, &c, false, error_r);
}

/* ---- effective rights ---- */

static int acl_rights_txn(MDB_txn *txn, void *vctx)
{
	struct acl_ctx *c = vctx;
	char ids[3][ADDRESS_MAX + 1];

	/* RFC 4314: the union of every entry that applies; no negative
	 * rights, so the order does not matter */
	snprintf(ids[0], sizeof(ids[0]), "%s@%s", c->user->name,
		 c->user->domain);
	snprintf(ids[1], sizeof(ids[1]), "%s@%s", ACL_ANYONE, c->user->domain);
	snprintf(ids[2], sizeof(ids[2]), "%s", ACL_ANYONE);
	c->rights = 0;
	for (size_t i = 0; i < 3; i++) {
		unsigned int rights;
		int rc = acl_get_txn(txn, c->mailbox_id, ids[i], &rights);

		if (rc == 0)
			c->rights |= rights;
		else if (rc != MDB_NOTFOUND)
			return rc;
	}
	return 0;
}

int store_acl_rights(const struct account *owner, uint64_t mailbox_id,
		     const struct account *user, unsigned int *rights_r,
		     const char **error_r)
{
	struct acl_ctx c = { .owner = owner, .user = user,
			     .mailbox_id = mailbox_id };

	if (owner->id == user->id) {
		*rights_r = ACL_ALL;
		return 0;
	}
	if (store_read(acl_rights_txn, &c, error_r) < 0)
		return -1;
	*rights_r = c.rights;
	return 0;
}

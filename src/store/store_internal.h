/* store_internal.h - helpers shared by the store's own files. */
#ifndef PN_STORE_INTERNAL_H
#define PN_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store/body.h"
#include "store/store_ops.h"
#include "store/store_queue.h"

/* Body ids collected inside a transaction, unlinked after it commits. */
struct body_list {
	uint8_t *ids;
	size_t count, alloc;
};
void store_body_list_add(struct body_list *l, const uint8_t id[BODY_ID_LEN]);
void store_body_list_unlink_free(struct body_list *l);

#define MAILBOX_INBOX "INBOX"
/* Mailbox keys: be64(account id) name; a name has at most 255 octets. */
#define MAILBOX_KEY_MAX (8 + 256)
size_t store_mailbox_key(uint8_t *key, uint64_t account_id, const char *name);

/* Visit every record of `db` whose key starts with the `plen` octets of
 * `prefix`, in key order.  fn may delete the record it is given with
 * mdb_cursor_del(cur); the walk goes on with the one that followed.  A
 * non-zero return from fn ends the walk and is returned. */
typedef int store_walk_fn(MDB_txn *txn, MDB_cursor *cur, const MDB_val *key,
			  const MDB_val *val, void *ctx);
int store_walk_prefix(MDB_txn *txn, MDB_dbi dbi, const void *prefix,
		      size_t plen, store_walk_fn *fn, void *ctx);
/* A walk's fn that removes every record it is given. */
store_walk_fn store_walk_drop;

int store_mailbox_create_txn(MDB_txn *txn, uint64_t account_id,
			     const char *name);
/* Remove every mailbox of an account with its messages and ACL entries. */
int store_mailboxes_remove_txn(MDB_txn *txn, uint64_t account_id,
			       struct body_list *bodies);
/* Find a mailbox record; MDB_NOTFOUND when absent. */
int store_mailbox_get_txn(MDB_txn *txn, uint64_t account_id, const char *name,
			  struct mailbox_rec *rec_r);
int store_mailbox_put_txn(MDB_txn *txn, uint64_t account_id, const char *name,
			  const struct mailbox_rec *rec);

/* STORE_EFAIL "no such account" unless the account is still there with
 * this id (writers check it: posternctl may have removed it meanwhile). */
int store_account_check_txn(MDB_txn *txn, const struct account *account);

/* An account by name without decoding its secrets; *found_r false when
 * there is none. */
int store_account_lookup_txn(MDB_txn *txn, const char *name,
			     const char *domain, struct account *account_r,
			     bool *found_r);
/* Flags, creation time and quota (info_r->used and messages are not set). */
int store_account_info_txn(MDB_txn *txn, const struct account *account,
			   struct account_info *info_r);
/* A domain whose unified account is `account` loses it. */
int store_domain_unified_clear_txn(MDB_txn *txn, const char *domain,
				   const char *account);
int store_domain_get_txn(MDB_txn *txn, const char *domain,
			 struct domain_info *info_r, bool *found_r);

/* ACL entries: remove those of one mailbox, or those naming identifier
 * ("name@domain", "anyone@domain"), in every mailbox. */
int store_acl_remove_mailbox_txn(MDB_txn *txn, uint64_t mailbox_id);
int store_acl_remove_identifier_txn(MDB_txn *txn, const char *identifier);

/* Other names (store_alias.c).  A domain name or alias to its domain. */
int store_domain_resolve_txn(MDB_txn *txn, const char *name, char *domain_r,
			     bool *found_r);
int store_alias_get_txn(MDB_txn *txn, const char *alias, const char *domain,
			char *account_r, bool *found_r);
/* A removed domain's aliases and bound addresses; a removed account's
 * aliases. */
int store_domain_names_remove_txn(MDB_txn *txn, const char *domain);
int store_account_aliases_remove_txn(MDB_txn *txn, const char *name,
				     const char *domain);

/* Usage counters (store_usage.c), per mailbox.  A missing counter (a store
 * made before they existed) is counted from the messages once. */
struct mailbox_usage {
	uint64_t messages;
	uint64_t octets;
};
int store_usage_get_txn(MDB_txn *txn, uint64_t mailbox_id,
			struct mailbox_usage *u_r);
int store_usage_add_txn(MDB_txn *txn, uint64_t mailbox_id, int64_t messages,
			int64_t octets);
int store_usage_del_txn(MDB_txn *txn, uint64_t mailbox_id);
/* The sum over every mailbox of an account. */
int store_account_usage_txn(MDB_txn *txn, uint64_t account_id,
			    struct mailbox_usage *u_r);

/* Message records. */
struct message_rec {
	uint32_t size;
	uint32_t hdr_len;
	uint32_t flags;
	uint64_t internal_date;
	uint8_t body_id[BODY_ID_LEN];
	char uidl[71];		/* only with MSG_CUSTOM_UIDL */
	/* X-Real-To addresses, space-separated, pointing into the record
	 * (valid while its transaction lasts); realto_len 0: none */
	const char *realto;
	uint32_t realto_len;
};
int store_message_decode(const MDB_val *val, struct message_rec *m);
struct rec_writer;
void store_message_encode(struct rec_writer *w, const struct message_rec *m);
void store_message_key(uint8_t key[12], uint64_t mailbox_id, uint32_t uid);

/* The relay queue (store_queue*.c, store_queue.h). */
struct rec_buf;
/* queue_due keys: be64(next attempt) be64(id). */
#define QUEUE_DUE_KEY_LEN 16
/* What is wrong with an entry: a recipient's address and a few words. */
#define QUEUE_WHY_MAX (QUEUE_ADDRESS_MAX + 100)
bool queue_has_pending(const struct queue_entry *e);
/* NULL when e is fit to store, else why not (in why, or a constant).
 * `stored`: e was read from the store, where the reply text is clean
 * already, so anything else in it is damage. */
const char *queue_entry_problem(const struct queue_entry *e, bool stored,
				char *why, size_t size);
/* Record version 1 of e into w (rec_buf_init'ed here): 0, and the
 * caller frees w; or STORE_EFAIL, w freed already, when it does not fit
 * (which the checks of queue_entry_problem rule out). */
int queue_entry_encode(struct rec_buf *w, const struct queue_entry *e);
/* The record of entry id into e, recipients allocated; STORE_EFAIL
 * "corrupt queue record ID: why" with nothing allocated when it is not a
 * valid entry. */
int queue_entry_decode(uint64_t id, const MDB_val *val, struct queue_entry *e);
void queue_id_key(uint8_t key[8], uint64_t id);
/* The entry with this id, or MDB_NOTFOUND. */
int queue_entry_get_txn(MDB_txn *txn, uint64_t id, struct queue_entry *e_r);
/* Write the record and, while something is pending, its queue_due key; the
 * old key is the caller's to remove first (queue_entry_unindex_txn). */
int queue_entry_put_txn(MDB_txn *txn, const struct queue_entry *e);
/* Remove a stored entry's queue_due key, if it has one. */
int queue_entry_unindex_txn(MDB_txn *txn, const struct queue_entry *old);
/* Remove one queue_due key; a missing one is no error. */
int queue_due_del(MDB_txn *txn, uint64_t next, uint64_t id);

#endif

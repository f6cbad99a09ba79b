/* store_internal.h - helpers shared by the store's own files. */
#ifndef PN_STORE_INTERNAL_H
#define PN_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store/body.h"

/* Body ids collected inside a transaction, unlinked after it commits. */
struct body_list {
	uint8_t *ids;
	size_t count, alloc;
};
void store_body_list_add(struct body_list *l, const uint8_t id[BODY_ID_LEN]);
void store_body_list_unlink_free(struct body_list *l);

int store_mailbox_create_txn(MDB_txn *txn, uint64_t account_id,
			     const char *name);
/* Remove every mailbox of an account with its messages. */
int store_mailboxes_remove_txn(MDB_txn *txn, uint64_t account_id,
			       struct body_list *bodies);
/* Find a mailbox record; MDB_NOTFOUND when absent. */
struct mailbox_rec {
	uint64_t id;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t created;
};
int store_mailbox_get_txn(MDB_txn *txn, uint64_t account_id, const char *name,
			  struct mailbox_rec *rec_r);
int store_mailbox_put_txn(MDB_txn *txn, uint64_t account_id, const char *name,
			  const struct mailbox_rec *rec);

/* Message records. */
struct message_rec {
	uint32_t size;
	uint32_t hdr_len;
	uint32_t flags;
	uint64_t internal_date;
	uint8_t body_id[BODY_ID_LEN];
	char uidl[71];		/* only with MSG_CUSTOM_UIDL */
};
int store_message_decode(const MDB_val *val, struct message_rec *m);
void store_message_key(uint8_t key[12], uint64_t mailbox_id, uint32_t uid);

#endif

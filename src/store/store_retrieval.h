/* store_retrieval.h - POP3 retrieval sources (SPEC.md 6): the remote POP3
 * accounts whose mail the retrieval module fetches into a local mailbox.
 *
 * Three databases:
 *   retrieval       be64(account id) be64(source id) -> the source: what the
 *                   admin set (host, TLS, credentials, target mailbox,
 *                   keep, interval, enabled) and what the module noted
 *                   (last run, result, error, failures, next run)
 *   retrieval_due   be64(next run) be64(account id) be64(source id) -> ():
 *                   the enabled sources by the time they are due, so the
 *                   module finds what to run with one cursor step
 *   retrieval_seen  be64(source id) key -> be64(time stored): the messages
 *                   a source has stored, by the remote's UIDL (or "#" and a
 *                   SHA-256 of the message, for a remote without UIDL).
 *                   Written in the transaction that stores the message
 *                   (store_deliver), so a message is never stored twice.
 *
 * The password is kept sealed with the server user's own key (secret.h);
 * it is never logged or shown.  Every call
 * is one short transaction; the module's side is in postern/module.h. */
#ifndef PN_STORE_RETRIEVAL_H
#define PN_STORE_RETRIEVAL_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "postern/module.h"

/* Add a source for src->account (checked to exist, with the mailbox
 * src->mailbox); *id_r its id.  An enabled source is due at once. */
int store_retrieval_add(struct retrieval_source *src, uint64_t *id_r,
			const char **error_r);
/* Source `id` of the account; *found_r false when it has none such. */
int store_retrieval_get(const struct account *account, uint64_t id,
			struct retrieval_source *src_r, bool *found_r,
			const char **error_r);
/* Every source of the account, in the order they were added.  cb runs
 * inside the read transaction and must not call the store. */
typedef void store_retrieval_cb(const struct retrieval_source *src, void *ctx);
int store_retrieval_list(const struct account *account,
			 store_retrieval_cb *cb, void *ctx,
			 const char **error_r);
/* Write what the admin set (host .. enabled) of src; the module's notes
 * stay.  A source enabled again is due at once.  The mailbox is checked
 * as for add. */
int store_retrieval_update(const struct retrieval_source *src, bool *found_r,
			   const char **error_r);
/* Remove a source with its record of what it stored. */
int store_retrieval_del(const struct account *account, uint64_t id,
			bool *found_r, const char **error_r);
/* Ask for a run now: source `id` of the account, or (id 0) every enabled
 * one that has not started within `min_gap` seconds.  *count_r how many
 * were asked. */
int store_retrieval_request(const struct account *account, uint64_t id,
			    uint64_t min_gap, size_t *count_r, bool *found_r,
			    const char **error_r);

/* Inside account removal: its sources and their records go too. */
int store_retrieval_remove_account_txn(MDB_txn *txn, uint64_t account_id);
/* Inside store_deliver: note `key` for `source`; *dup_r true (nothing
 * written) when it is noted already. */
int store_retrieval_seen_add_txn(MDB_txn *txn, uint64_t source,
				 const char *key, bool *dup_r);

#endif

/* store.h - the one place that touches LMDB (internal API for the host,
 * posternctl and the mail services; modules use postern/module.h).
 *
 * Named databases (keys; values are versioned records, see record.h):
 *   domains    lower(name)                       -> created, unified account
 *   domain_aliases lower(alias)                  -> lower(domain)
 *   aliases    lower(domain/alias)               -> lower(account name)
 *   bindings   local address ("192.0.2.1", "::1") -> lower(domain)
 *   accounts   lower(domain/name)                -> id, created, secrets, flags,
 *                                                   quota
 *   mailboxes  be64(account id) name             -> id, uidvalidity, uidnext
 *   messages   be64(mailbox id) be32(uid)        -> size, hdr_len, flags, date,
 *                                                   body id, custom UIDL,
 *                                                   X-Real-To addresses
 *   usage      be64(mailbox id)                  -> messages, octets (kept by
 *                                                   every add and removal)
 *   acl        be64(mailbox id) identifier       -> rights
 *   acl_identifiers identifier NUL be64(mailbox id) -> (nothing): the same
 *              entries by identifier, so removing an account or a domain
 *              finds the entries naming it without a scan
 *   queue      be64(queue id)                    -> a relay queue entry:
 *                                                   envelope, body id,
 *                                                   recipients with their
 *                                                   states and last replies
 *   queue_due  be64(next attempt) be64(queue id) -> (nothing): the entries
 *              with pending recipients by the time of their next attempt,
 *              so the relay finds what is due with one cursor step
 *              (store_queue.h)
 *   retrieval, retrieval_due, retrieval_seen: POP3 retrieval sources, the
 *              enabled ones by their next run, and what each has stored
 *              (store_retrieval.h)
 *   meta       "next_id", "last_uidvalidity"     -> counters
 * Bodies are write-once files under data_dir/bodies (body.h).
 *
 * Every transaction is short: read transactions copy what they need and
 * end; nothing holds one across an event-loop turn. */
#ifndef PN_STORE_H
#define PN_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "postern/module.h"

/* Logical failure inside a transaction callback: the reason is in the
 * store's error buffer (store_fail()). Not an LMDB code. */
#define STORE_EFAIL (-30000)

enum store_db { DB_META, DB_DOMAINS, DB_ACCOUNTS, DB_MAILBOXES, DB_MESSAGES,
		DB_ACL, DB_ACL_IDS, DB_DOMAIN_ALIASES, DB_ALIASES, DB_BINDINGS,
		DB_USAGE, DB_SETTINGS, DB_QUEUE, DB_QUEUE_DUE, DB_ALERTS, DB_ALERTS_SHOWN,
		DB_RETRIEVAL, DB_RETRIEVAL_DUE, DB_RETRIEVAL_SEEN, DB_COUNT };

/* Open (creating if needed) the store under data_dir.  Call after fork, in
 * every process that uses it. */
int store_open(const char *data_dir, const char **error_r);
void store_close(void);
/* The map size a later store_open starts with (tests of growth use a tiny
 * one); 0 restores the default. */
void store_set_initial_map_size(size_t size);
bool store_is_open(void);
const char *store_data_dir(void);
MDB_dbi store_dbi(enum store_db db);

/* Run fn inside a write transaction, retrying when the map had to grow or
 * another process grew it.  fn returns 0, an LMDB code, or STORE_EFAIL.
 * `lazy` commits without syncing the meta page (MDB_NOMETASYNC): the store
 * stays intact, but a power cut may undo this commit (Seen flags). */
typedef int store_txn_fn(MDB_txn *txn, void *ctx);
int store_write(store_txn_fn *fn, void *ctx, bool lazy, const char **error_r);

/* Seen flags in groups: with deferral on (posternd), message_set_seen()
 * only queues, and store_seen_flush() - called before the event loop waits
 * - commits everything queued in one lazy transaction.  Off (posternctl),
 * each call commits at once. */
void store_seen_defer(bool on);
int store_seen_flush(const char **error_r);
int store_read(store_txn_fn *fn, void *ctx, const char **error_r);
/* How many records databases dbs[0..n) hold, into counts (one read
 * transaction, no scan: LMDB keeps the counts). */
int store_count(const enum store_db *dbs, uint64_t *counts, size_t n,
		const char **error_r);

/* Set the reason for a STORE_EFAIL and return STORE_EFAIL. */
int store_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocate a store-wide unique id (within a write transaction). */
int store_next_id(MDB_txn *txn, uint64_t *id_r);
/* A new UIDVALIDITY, larger than every earlier one. */
int store_next_uidvalidity(MDB_txn *txn, uint32_t *uv_r);

/* Big-endian helpers for keys, so cursors walk in numeric order. */
void store_be64(uint8_t *p, uint64_t v);
void store_be32(uint8_t *p, uint32_t v);
uint64_t store_get_be64(const uint8_t *p);
uint32_t store_get_be32(const uint8_t *p);

#endif

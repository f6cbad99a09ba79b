/* store_queue.h - the relay queue: messages submitted over POP (XTND XMIT,
 * SPEC.md 5) that wait to be sent to the smarthost or delivered locally.
 *
 * One entry per submitted message: its envelope, the body file it points
 * to, and every recipient with its state and the last reply about it.
 * Entries live in the store's `queue` database (key be64(id)); those with
 * pending recipients are also in `queue_due` (key be64(next_attempt)
 * be64(id), no value), an index in time order that every change here
 * keeps in step, so "what is due now" is one cursor step, not a scan.
 *
 * Every store_queue_* call that reads or writes the store is one short
 * transaction and copies what it returns, so the relay can call them from
 * the event loop.  Ids come from the store-wide counter (store_next_id),
 * so an id is never used twice, even after its entry is gone.  Times are
 * unix seconds.
 *
 * Kept apart from store_ops.h: only the relay and `posternctl queue` use
 * the queue, and it brings its own limits and types that the mailbox side
 * has no use for. */
#ifndef PN_STORE_QUEUE_H
#define PN_STORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail/names.h"
#include "postern/module.h"
#include "store/body.h"

/* The types and functions of the queue are in postern/module.h, since
 * the relay module uses them; this header is what the host includes. */

_Static_assert(QUEUE_BODY_ID_LEN == BODY_ID_LEN, "queue body ids are body ids");
_Static_assert(sizeof(((struct queue_entry *)0)->client_ip) == IP_TEXT_MAX,
	       "a queue entry holds a client address as conn_peer_ip gives it");

/* The last word about a recipient as one line: "451 4.4.1 Connection
 * timed out", our own reason as it is, "" when there is none yet. */
void queue_rcpt_reply_text(const struct queue_rcpt *r, char *buf, size_t size);
/* The pending recipient with a reply that was tried last, or NULL: what
 * holds the entry up. */
const struct queue_rcpt *queue_entry_last_problem(const struct queue_entry *e);

#endif

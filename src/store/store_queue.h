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

/* The limits of one entry.  They are what mail/submission.h lets a
 * submission have (store_queue_record.c checks that at compile time): a
 * path is at most 256 octets with "<" and ">" (RFC 5321 4.5.3.1.3), and
 * more than 1000 recipients from one person's client is a mass mailing. */
#define QUEUE_RCPT_MAX 1000
#define QUEUE_ADDRESS_MAX 254
/* RFC 3463: class.subject.detail, at most "5.999.999". */
#define QUEUE_ENHANCED_MAX 9
/* Enough for the useful first lines of a reply; a remote server's essay is
 * cut (queue_rcpt_set_reply), so the bounce and `queue show` stay short. */
#define QUEUE_REPLY_MAX 500
/* A host name (RFC 1035: 255) or an address literal, as mail/dsn.h takes
 * it for Remote-MTA. */
#define QUEUE_REMOTE_MTA_MAX 255
/* next_r of store_queue_due when no entry has pending recipients. */
#define QUEUE_NEVER UINT64_MAX

enum queue_rcpt_state {
	QUEUE_RCPT_PENDING,	/* to be tried (again) */
	QUEUE_RCPT_DONE,	/* delivered, or accepted by the smarthost */
	QUEUE_RCPT_FAILED,	/* for good: a 5xx, or retried too long */
};

struct queue_rcpt {
	/* 1..QUEUE_ADDRESS_MAX octets, no control characters */
	char address[QUEUE_ADDRESS_MAX + 1];
	enum queue_rcpt_state state;
	/* the last word about this recipient, for the log, `queue show` and
	 * the bounce (mail/dsn.h): a server's reply has reply_code 200..599,
	 * the enhanced status ("4.4.1", "" = none) and its text; our own
	 * reason when no server answered ("connect to smtp.example.net:
	 * Connection refused") has reply_code 0 and only the text; nothing
	 * yet is code 0 and text "".  Text is printable ASCII (the store
	 * turns anything else into '?') */
	uint16_t reply_code;
	char enhanced[QUEUE_ENHANCED_MAX + 1];
	char reply[QUEUE_REPLY_MAX + 1];
	/* the host that replied, "smtp.example.net"; "" for none (our own
	 * reason, or a local delivery); printable ASCII like the text */
	char remote_mta[QUEUE_REMOTE_MTA_MAX + 1];
	uint64_t last_attempt;	/* 0 = never tried */
};

struct queue_entry {
	uint64_t id;		/* set by store_queue_add */
	uint64_t created;
	/* when the relay tries the pending recipients again; 0 = now
	 * (store_queue_flush) */
	uint64_t next_attempt;
	uint32_t attempts;
	/* the envelope sender (the authenticated account's address, SPEC.md
	 * 5), "" for the null sender of a bounce: at most QUEUE_ADDRESS_MAX
	 * octets, no control characters */
	char sender[QUEUE_ADDRESS_MAX + 1];
	/* who submitted it and from where, for the log and bounces: account
	 * "name@domain" ("" = none), client_ip as conn_peer_ip() gives it */
	char account[ADDRESS_MAX + 1];
	char client_ip[IP_TEXT_MAX];
	/* the body file (body.h), fsynced before store_queue_add */
	uint8_t body_id[BODY_ID_LEN];
	uint64_t body_size;
	struct queue_rcpt *rcpts;	/* 1..QUEUE_RCPT_MAX */
	size_t rcpt_count;
};

/* Counts over an entry's recipients. */
struct queue_summary {
	uint64_t id;
	uint8_t body_id[BODY_ID_LEN];
	size_t total, pending, done, failed;
	/* store_queue_remove only: the record could not be read, so nothing
	 * is known of its body or recipients (all zero) */
	bool damaged;
};

/* An empty entry with rcpt_count zeroed (pending, never tried) recipients,
 * for the caller to fill; store_queue_entry_free releases it. */
void store_queue_entry_init(struct queue_entry *e, size_t rcpt_count);
/* Release the recipients (from init or store_queue_get); safe twice. */
void store_queue_entry_free(struct queue_entry *e);
void store_queue_summarize(const struct queue_entry *e,
			   struct queue_summary *s_r);

/* Record the last word about a recipient: text[0..len) is cut to
 * QUEUE_REPLY_MAX octets, CR, LF and TAB become spaces (so the lines of a
 * multi-line reply can be passed as they came) and any other octet outside
 * printable ASCII '?'.  remote_mta (NULL or "" for none) is cleaned and
 * cut the same way.  enhanced: NULL or "" for none; one that is not of
 * the RFC 3463 form is dropped.  code: 0 for a reason of our own, and a
 * code outside 200..599 is taken as 0 too. */
void queue_rcpt_set_reply(struct queue_rcpt *rcpt, const char *remote_mta,
			  uint16_t code, const char *enhanced,
			  const char *text, size_t len);

/* Add an entry; *id_r (and e->id) its new id.  The body must be durable
 * first (body_writer_finish): once this returns the message is queued and
 * the submission may be acknowledged.  The entry is checked (the limits
 * above, reply codes, states) and refused with a message naming what is
 * wrong.  An entry with no pending recipient is stored but never due. */
int store_queue_add(struct queue_entry *e, uint64_t *id_r,
		    const char **error_r);

/* The entry with this id into *e_r (recipients allocated: free with
 * store_queue_entry_free); *found_r false (0 returned, nothing allocated)
 * when there is none.  A damaged record is an error (-1) that names the
 * id, not a crash: the relay logs it and leaves that id alone (`posternctl
 * queue del ID` removes it). */
int store_queue_get(uint64_t id, struct queue_entry *e_r, bool *found_r,
		    const char **error_r);

/* Write what the relay learnt: attempts, next_attempt, and each
 * recipient's state, reply and last_attempt.  e is the entry as
 * store_queue_get gave it, changed in those fields only: the envelope, the
 * body and the recipients' addresses stay as stored (the recipients must
 * be the same, in the same order, or nothing is written).  queue_due
 * follows: the entry is indexed at next_attempt while it has a pending
 * recipient and not at all once every one is done or failed.
 * *found_r false when the entry is gone (`posternctl queue del` while it
 * was being tried): not an error, the relay just forgets it.
 * An admin's flush that came in meanwhile is overwritten by the relay's
 * next_attempt, which is what the relay was doing anyway. */
int store_queue_update(const struct queue_entry *e, bool *found_r,
		       const char **error_r);

/* Remove an entry.  *found_r false when there was none; otherwise
 * removed_r (may be NULL) tells what went: its body id and recipient
 * counts.  The body file is the caller's to unlink (body_unlink) after
 * this returns, as with store_mailbox_del: committed first, so a crash in
 * between leaves an orphan file, never an entry without its body.  A
 * damaged record is removed too (removed_r->damaged; its body, unknown,
 * stays), since that is the admin's way out of it. */
int store_queue_remove(uint64_t id, struct queue_summary *removed_r,
		       bool *found_r, const char **error_r);

/* The ids of up to `max` entries due at `now` (next_attempt <= now), the
 * earliest first, into ids[0..*count_r), and in *next_r the earliest
 * next_attempt of the entries with pending recipients that were not
 * returned: <= now when more are due than `max`, QUEUE_NEVER when there
 * are none (the relay may sleep until then, or until a flush).
 *
 * An id whose entry is gone by the time the relay asks for it gets
 * found_r false from store_queue_get.
 *
 * lease_until 0 only looks (a read transaction).  Otherwise (> now) the
 * returned entries' next_attempt becomes lease_until in the same (write)
 * transaction: another process polling the queue meanwhile (posternd with
 * workers = N) does not take them too, and an entry whose attempt never
 * ended (a crash) is due again at lease_until.  The relay's
 * store_queue_update sets the real next attempt. */
int store_queue_due(uint64_t now, uint64_t lease_until, uint64_t *ids,
		    size_t max, size_t *count_r, uint64_t *next_r,
		    const char **error_r);

/* Make an entry due now (next_attempt 0): *found_r false when there is no
 * such entry, *pending_r false (nothing changed) when it has no pending
 * recipient.  An entry under a lease becomes due too, so another poller
 * may take it while the first attempt still runs: at worst a recipient
 * gets the message twice, which is what an admin's "retry now" risks. */
int store_queue_flush(uint64_t id, bool *found_r, bool *pending_r,
		      const char **error_r);
/* The same for every entry with pending recipients; *count_r how many. */
int store_queue_flush_all(size_t *count_r, const char **error_r);

/* Every entry in id order (the oldest first), with its summary.  cb runs
 * inside the read transaction, so it must not call the store; the entry
 * is valid during the call only.  A damaged record ends the walk with -1. */
typedef void store_queue_cb(const struct queue_entry *e,
			    const struct queue_summary *s, void *ctx);
int store_queue_list(store_queue_cb *cb, void *ctx, const char **error_r);

#endif

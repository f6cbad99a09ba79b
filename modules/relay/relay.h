/* relay.h - the relay module (SPEC.md 5): runs the queue that XTND XMIT
 * submissions go into.  Local recipients are delivered through the
 * Router as LMTP mail is; the others go to relay.smarthost over SMTP, one
 * connection for as many messages as are due.  4xx replies are retried on
 * relay.retry_schedule until relay.max_queue_time, 5xx replies and expiry
 * bounce to the sender (a DSN in their INBOX).  Log tag SMTP. */
#ifndef RELAY_H
#define RELAY_H

#include <postern/module.h>

#include "relay_reply.h"

/* How long a taken entry stays leased to us if we die while trying it. */
#define RELAY_LEASE 600
/* Entries taken from the queue per look. */
#define RELAY_BATCH 64
/* How often the queue is looked at when nothing is known to be due: a
 * submission in another process, or `posternctl queue flush`. */
#define RELAY_POLL 1.0
/* A smarthost's reply line; RFC 5321 4.5.3.1.5 says 512 octets. */
#define RELAY_MAX_LINE 4096

struct relay_settings {
	char *smarthost;		/* host:port, "" = none */
	char *starttls;			/* required, opportunistic, off */
	bool tls_verify;
	char *tls_ca_file;
	char *auth_file;		/* "user password", "" = no AUTH */
	char *helo_name;
	struct setting_list retry_schedule;
	unsigned int max_queue_time;
	unsigned int connect_timeout;
	unsigned int command_timeout;
	/* what XTND XMIT may take (the host's submission reads these) */
	struct submission_limits limits;
};

/* A queue entry being tried: its recipients are handed to local delivery
 * and to the SMTP client, and when both are done the outcome is written
 * back (relay_job_done). */
enum rcpt_route { RCPT_SKIP, RCPT_LOCAL, RCPT_REMOTE };

struct relay_job {
	struct relay_job *next;
	struct queue_entry e;
	enum rcpt_route *route;		/* per recipient, this attempt */
	bool *newly_failed;		/* failed in this attempt: bounce */
	unsigned int waiting;		/* parts not done yet */
};

struct relay {
	const struct relay_settings *set;
	struct pn_timer *tick;
	struct relay_job *jobs;
	bool serving;
};

extern struct relay relay;
extern const struct pn_module postern_module;

/* relay.c */
void relay_job_part_done(struct relay_job *job);
/* Record the last word about recipient i: a server's reply (remote_mta
 * names it) or, with remote_mta NULL, a reason of our own. */
void relay_rcpt_reply(struct relay_job *job, size_t i, const char *remote_mta,
		      unsigned int code, const char *enhanced, const char *text);
/* A recipient's outcome: done (2xx), retried (4xx), failed (5xx, or
 * `permanent` for a reason of our own that cannot get better). */
void relay_rcpt_outcome(struct relay_job *job, size_t i, const char *remote_mta,
			unsigned int code, bool permanent, const char *enhanced,
			const char *text);

/* relay_local.c: deliver the job's RCPT_LOCAL recipients. */
void relay_local_start(struct relay_job *job);

/* relay_smtp.c: the job's RCPT_REMOTE recipients go to the smarthost. */
void relay_smtp_enqueue(struct relay_job *job);
/* Close the connection (shutdown); jobs waiting are told so. */
void relay_smtp_stop(void);

#endif

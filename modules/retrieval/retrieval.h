/* retrieval.h - the retrieval module (SPEC.md 6): fetches mail from
 * remote POP3 accounts into local mailboxes.
 *
 * retrieval.c is the scheduler: every `poll` it takes the sources that are
 * due (their interval is up, or a trigger asked: a login, `posternctl
 * retrieval run`, the web admin's button) from the store, up to
 * `max_parallel` at once, and writes each run's outcome back.
 * retrieval_session.c is the POP3 client of one run.  Log tag RETRIEVAL. */
#ifndef RETRIEVAL_H
#define RETRIEVAL_H

#include <postern/module.h>

/* A run that never ends (a crash) is due again after this long; the
 * module's start makes such runs due at once anyway. */
#define RETRIEVAL_LEASE (6 * 3600)
/* The longest line of a remote's reply (RFC 1939: 512; UIDL lines are
 * shorter still); a longer one ends the run. */
#define RETRIEVAL_MAX_LINE 8192

struct retrieval_settings {
	unsigned int max_parallel;
	unsigned int timeout;		/* connect, and each reply */
	char *ca_file;			/* "" = the system's CAs */
	uint64_t max_message_size;
	unsigned int poll;
	unsigned int backoff_max;
	struct retrieval_triggers triggers;
};

struct retrieval {
	const struct retrieval_settings *set;
	struct pn_timer *tick;
	bool serving;
	unsigned int running;
};

extern struct retrieval retrieval;
extern const struct pn_module postern_module;

/* Start a run of `src` (copied); retrieval_run_done when it has ended. */
void retrieval_session_start(const struct retrieval_source *src);
/* Shutdown: end every run now (what was stored stays; the rest is fetched
 * at the next start). */
void retrieval_session_stop_all(void);
/* From a session: the run is over (error NULL: it worked). */
void retrieval_run_done(const struct retrieval_source *src, const char *error,
			unsigned int fetched);

#endif

/* relay.c - the relay module's descriptor and the queue runner: take what
 * is due, route each pending recipient, start the local and the SMTP part,
 * and when both are done write the outcome, bounce what failed and remove
 * what is finished. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

struct relay relay;

static void tick(void *ctx);

/* The wait after the n-th attempt (1-based): the schedule's n-th entry,
 * its last one repeating. */
static unsigned int retry_delay(unsigned int attempts)
{
	const struct setting_list *l = &relay.set->retry_schedule;
	size_t i = attempts > 0 ? attempts - 1 : 0;
	uint64_t secs = 300;

	if (l->count == 0)
		return 300;
	if (i >= l->count)
		i = l->count - 1;
	(void)str_parse_seconds(l->items[i], &secs);
	return (unsigned int)secs;
}

void relay_rcpt_reply(struct relay_job *job, size_t i, const char *remote_mta,
		      unsigned int code, const char *enhanced, const char *text)
{
	queue_rcpt_set_reply(&job->e.rcpts[i], remote_mta, (uint16_t)code,
			     enhanced, text, strlen(text));
	job->e.rcpts[i].last_attempt = (uint64_t)pn_now();
}

void relay_rcpt_outcome(struct relay_job *job, size_t i, const char *remote_mta,
			unsigned int code, bool permanent, const char *enhanced,
			const char *text)
{
	struct queue_rcpt *r = &job->e.rcpts[i];

	/* our own reasons carry no reply code (the store's convention): the
	 * class says whether it is final */
	relay_rcpt_reply(job, i, remote_mta, remote_mta != NULL ? code : 0,
			 enhanced, text);
	if (code >= 200 && code < 300) {
		r->state = QUEUE_RCPT_DONE;
		log_msg(LOG_INFO, "SMTP", "queue %llu: <%s> done: %u %s %s",
			(unsigned long long)job->e.id, r->address, code,
			enhanced ? enhanced : "", text);
	} else if (code >= 500 || permanent) {
		r->state = QUEUE_RCPT_FAILED;
		job->newly_failed[i] = true;
		log_msg(LOG_NOTICE, "SMTP", "queue %llu: <%s> failed: %u %s %s",
			(unsigned long long)job->e.id, r->address, code,
			enhanced ? enhanced : "", text);
	} else {
		log_msg(LOG_INFO, "SMTP", "queue %llu: <%s> deferred: %u %s %s",
			(unsigned long long)job->e.id, r->address, code,
			enhanced ? enhanced : "", text);
	}
}

static void job_free(struct relay_job *job)
{
	struct relay_job **pp;

	for (pp = &relay.jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	}
	store_queue_entry_free(&job->e);
	free(job->route);
	free(job->newly_failed);
	free(job);
}

/* Everything about the entry is settled: remove it and its body. */
static void job_remove(struct relay_job *job)
{
	const char *error;
	bool found;

	if (store_queue_remove(job->e.id, NULL, &found, &error) < 0)
		log_msg(LOG_ERROR, "SMTP", "queue %llu: cannot remove the entry: %s",
			(unsigned long long)job->e.id, error);
	else if (found)
		queue_body_unlink(&job->e);
}

static void bounced(void *ctx, const char *error)
{
	struct relay_job *job = ctx;
	struct queue_summary s;

	if (error != NULL)
		log_msg(LOG_ERROR, "SMTP", "queue %llu: cannot bounce to <%s>: %s",
			(unsigned long long)job->e.id, job->e.sender, error);
	else
		log_msg(LOG_INFO, "SMTP", "queue %llu: bounce sent to <%s>",
			(unsigned long long)job->e.id, job->e.sender);
	store_queue_summarize(&job->e, &s);
	if (s.pending == 0) {
		log_msg(LOG_INFO, "SMTP", "queue %llu: finished: %zu delivered, %zu failed",
			(unsigned long long)job->e.id, s.done, s.failed);
		job_remove(job);
	}
	job_free(job);
}

void relay_job_part_done(struct relay_job *job)
{
	uint64_t now = (uint64_t)pn_now();
	struct queue_summary s;
	bool any_failed = false, found;
	const char *error;

	if (--job->waiting > 0)
		return;
	job->e.attempts++;
	for (size_t i = 0; i < job->e.rcpt_count; i++) {
		struct queue_rcpt *r = &job->e.rcpts[i];

		if (r->state != QUEUE_RCPT_PENDING)
			continue;
		if (now >= job->e.created + relay.set->max_queue_time) {
			/* retried long enough.  The last reply stays as it
			 * was given, which is what the bounce quotes; its
			 * status says the time ran out (RFC 3463 4.4.7,
			 * bounce.c) */
			char last[QUEUE_REPLY_MAX + 64] = "";

			if (r->reply_code != 0)
				snprintf(last, sizeof(last), "%u %s%s%s", r->reply_code,
					 r->enhanced, r->enhanced[0] ? " " : "", r->reply);
			else
				snprintf(last, sizeof(last), "%s", r->reply);
			r->state = QUEUE_RCPT_FAILED;
			job->newly_failed[i] = true;
			log_msg(LOG_NOTICE, "SMTP",
				"queue %llu: <%s> failed: not delivered for %u s, giving up%s%s",
				(unsigned long long)job->e.id, r->address,
				relay.set->max_queue_time, last[0] ? "; last reply: " : "",
				last);
		}
	}
	for (size_t i = 0; i < job->e.rcpt_count; i++)
		any_failed = any_failed || job->newly_failed[i];
	store_queue_summarize(&job->e, &s);
	job->e.next_attempt = s.pending > 0 ? now + retry_delay(job->e.attempts) : 0;
	if (store_queue_update(&job->e, &found, &error) < 0) {
		log_msg(LOG_ERROR, "SMTP", "queue %llu: cannot record the attempt: %s",
			(unsigned long long)job->e.id, error);
		job_free(job);
		return;
	}
	if (!found) {
		/* removed by an admin while we tried it */
		job_free(job);
		return;
	}
	if (s.pending > 0)
		log_msg(LOG_INFO, "SMTP", "queue %llu: %zu of %zu recipients pending, next attempt in %llu s",
			(unsigned long long)job->e.id, s.pending, s.total,
			(unsigned long long)(job->e.next_attempt - now));
	if (any_failed && job->e.sender[0] != '\0') {
		/* 5xx bounces at once, also while others are still retried */
		queue_bounce(&job->e, job->newly_failed, bounced, job);
		return;
	}
	if (s.pending == 0) {
		log_msg(LOG_INFO, "SMTP", "queue %llu: finished: %zu delivered, %zu failed",
			(unsigned long long)job->e.id, s.done, s.failed);
		job_remove(job);
	}
	job_free(job);
}

static bool in_progress(uint64_t id)
{
	for (struct relay_job *j = relay.jobs; j != NULL; j = j->next) {
		if (j->e.id == id)
			return true;
	}
	return false;
}

/* Route every pending recipient and start the parts. */
static void job_start(uint64_t id)
{
	struct relay_job *job;
	const char *error;
	bool found, local = false, remote = false;

	if (in_progress(id))
		return;
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return;
	if (store_queue_get(id, &job->e, &found, &error) < 0) {
		log_msg(LOG_ERROR, "SMTP", "queue %llu: %s", (unsigned long long)id,
			error);
		free(job);
		return;
	}
	if (!found) {		/* removed since it was due */
		free(job);
		return;
	}
	job->route = calloc(job->e.rcpt_count, sizeof(*job->route));
	job->newly_failed = calloc(job->e.rcpt_count, sizeof(*job->newly_failed));
	if (job->route == NULL || job->newly_failed == NULL) {
		store_queue_entry_free(&job->e);
		free(job->route);
		free(job->newly_failed);
		free(job);
		return;
	}
	job->next = relay.jobs;
	relay.jobs = job;
	job->waiting = 1;	/* this function's own part */
	for (size_t i = 0; i < job->e.rcpt_count; i++) {
		const char *why;

		if (job->e.rcpts[i].state != QUEUE_RCPT_PENDING)
			continue;
		switch (address_route_kind(job->e.rcpts[i].address, &why)) {
		case ADDRESS_LOCAL:
			job->route[i] = RCPT_LOCAL;
			local = true;
			break;
		case ADDRESS_REMOTE:
			if (relay.set->smarthost[0] == '\0') {
				relay_rcpt_outcome(job, i, NULL, 451, false, "4.3.5",
						   "relay.smarthost is not set: mail for other domains waits");
				break;
			}
			job->route[i] = RCPT_REMOTE;
			remote = true;
			break;
		case ADDRESS_UNKNOWN:
			relay_rcpt_outcome(job, i, NULL, 550, true, "5.1.1", why);
			break;
		case ADDRESS_BAD:
			relay_rcpt_outcome(job, i, NULL, 553, true, "5.1.3", why);
			break;
		case ADDRESS_TEMPFAIL:
			relay_rcpt_outcome(job, i, NULL, 451, false, "4.3.0", why);
			break;
		}
	}
	log_msg(LOG_INFO, "SMTP", "queue %llu: attempt %u from <%s>%s%s",
		(unsigned long long)job->e.id, job->e.attempts + 1, job->e.sender,
		local ? ", local recipients" : "", remote ? ", to the smarthost" : "");
	if (local) {
		job->waiting++;
		relay_local_start(job);
	}
	if (remote) {
		job->waiting++;
		relay_smtp_enqueue(job);
	}
	relay_job_part_done(job);
}

static void tick(void *ctx)
{
	uint64_t ids[RELAY_BATCH], now = (uint64_t)pn_now(), next;
	size_t count = 0;
	const char *error;
	double wait = RELAY_POLL;

	(void)ctx;
	if (!relay.serving)
		return;
	if (store_queue_due(now, now + RELAY_LEASE, ids, RELAY_BATCH, &count,
			    &next, &error) < 0) {
		log_msg(LOG_ERROR, "SMTP", "cannot read the queue: %s", error);
	} else {
		for (size_t i = 0; i < count && relay.serving; i++)
			job_start(ids[i]);
		if (next <= now)
			wait = 0;	/* more are due than one batch took */
	}
	pn_timer_start(relay.tick, wait);
}

static void relay_serve(void *settings)
{
	const char *error;
	size_t n;

	relay.set = settings;
	relay.serving = true;
	relay.tick = pn_timer_new(tick, NULL);
	/* what a process that died left leased is ours to try now */
	if (store_queue_flush_all(&n, &error) < 0)
		log_msg(LOG_ERROR, "SMTP", "cannot read the queue: %s", error);
	else if (n > 0)
		log_msg(LOG_INFO, "SMTP", "%zu queue entries waiting: trying them now", n);
	pn_timer_start(relay.tick, 0);
}

static void relay_stop(void)
{
	relay.serving = false;
	pn_timer_free(&relay.tick);
	relay_smtp_stop();
}

static int relay_check(const void *settings, const char **error_r)
{
	static char err[160];
	const struct relay_settings *set = settings;
	uint64_t secs;

	if (strcmp(set->starttls, "required") != 0 &&
	    strcmp(set->starttls, "opportunistic") != 0 &&
	    strcmp(set->starttls, "off") != 0) {
		*error_r = "starttls: required, opportunistic or off";
		return -1;
	}
	if (set->smarthost[0] != '\0') {
		const char *colon = strrchr(set->smarthost, ':');
		uint32_t port;

		if (colon == NULL || colon == set->smarthost ||
		    str_to_uint32(colon + 1, &port) < 0 || port == 0 || port > 65535) {
			*error_r = "smarthost: host:port, like smtp.example.net:587 or [2001:db8::1]:25";
			return -1;
		}
	}
	for (size_t i = 0; i < set->retry_schedule.count; i++) {
		if (str_parse_seconds(set->retry_schedule.items[i], &secs) < 0 ||
		    secs == 0) {
			snprintf(err, sizeof(err),
				 "retry_schedule: '%.40s' is not a duration like 30s, 5m or 1h",
				 set->retry_schedule.items[i]);
			*error_r = err;
			return -1;
		}
	}
	if (set->retry_schedule.count == 0) {
		*error_r = "retry_schedule: at least one duration";
		return -1;
	}
	return 0;
}

static int relay_init(void *settings, const char **error_r)
{
	struct relay_settings *set = settings;

	(void)error_r;
	relay.set = set;
	/* the settings struct stays where it is across reloads, so the host
	 * reads the limits as they are now */
	submission_configure(&set->limits);
	return 0;
}

static void relay_fini(void)
{
	submission_configure(NULL);
}

#define S(field) offsetof(struct relay_settings, field)

static const struct setting_def relay_setting_defs[] = {
	{ "smarthost", SETTING_STRING, S(smarthost), "", 0, 0 },
	{ "starttls", SETTING_STRING, S(starttls), "opportunistic", 0, 0 },
	{ "tls_verify", SETTING_BOOL, S(tls_verify), "yes", 0, 0 },
	{ "tls_ca_file", SETTING_STRING, S(tls_ca_file), "", 0, 0 },
	{ "auth_file", SETTING_STRING, S(auth_file), "", 0, 0 },
	{ "helo_name", SETTING_STRING, S(helo_name), "", 0, 0 },
	{ "retry_schedule", SETTING_LIST, S(retry_schedule),
	  "5m, 15m, 30m, 1h, 2h, 4h", 0, 0 },
	{ "max_queue_time", SETTING_SECONDS, S(max_queue_time), "5d", 1, 60u * 86400 },
	{ "connect_timeout", SETTING_SECONDS, S(connect_timeout), "30s", 1, 600 },
	/* RFC 5321 4.5.3.2: 5 minutes for most replies, 10 after the data */
	{ "command_timeout", SETTING_SECONDS, S(command_timeout), "10m", 1, 3600 },
	{ "xmit", SETTING_BOOL, S(limits.enabled), "yes", 0, 0 },
	{ "max_message_size", SETTING_SIZE, S(limits.max_message_size), "50M", 1024,
	  2147483647ull },
	{ "max_recipients", SETTING_UINT, S(limits.max_recipients), "100", 1, 1000 },
	{ "max_messages_per_hour", SETTING_UINT, S(limits.max_per_hour), "100", 0, 100000 },
	SETTING_DEFS_END
};

const struct pn_module postern_module = {
	.abi = POSTERN_MODULE_ABI,
	.name = "relay",
	.log_tag = "SMTP",
	.settings = relay_setting_defs,
	.settings_size = sizeof(struct relay_settings),
	.check = relay_check,
	.init = relay_init,
	.fini = relay_fini,
	.serve = relay_serve,
	.stop = relay_stop,
};

/* retrieval.c - the retrieval module's descriptor and scheduler
 * (retrieval.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retrieval.h"

struct retrieval retrieval;

static void tick(void *ctx)
{
	const struct retrieval_settings *set = retrieval.set;
	uint64_t now = (uint64_t)pn_now(), next = UINT64_MAX;
	struct retrieval_source *due;
	size_t room, count = 0;
	const char *error;

	(void)ctx;
	if (!retrieval.serving)
		return;
	room = set->max_parallel > retrieval.running
		? set->max_parallel - retrieval.running : 0;
	if (room > 0) {
		due = calloc(room, sizeof(*due));
		if (due == NULL) {
			pn_timer_start(retrieval.tick, set->poll);
			return;
		}
		if (retrieval_take_due(now, now + RETRIEVAL_LEASE, due, room,
				       &count, &next, &error) < 0)
			log_msg(LOG_ERROR, "RETRIEVAL", "cannot read the sources: %s",
				error);
		for (size_t i = 0; i < count; i++) {
			retrieval_session_start(&due[i]);
			explicit_bzero(due[i].password, sizeof(due[i].password));
		}
		free(due);
	}
	/* more due than there was room for: as soon as one ends (run_done) */
	pn_timer_start(retrieval.tick, set->poll);
}

void retrieval_run_done(const struct retrieval_source *src, const char *error,
			unsigned int fetched)
{
	const char *serror;
	bool found;

	if (retrieval.running > 0)
		retrieval.running--;
	if (error == NULL)
		log_msg(LOG_INFO, "RETRIEVAL", "%llu %s@%s from %s@%s: done, %u stored",
			(unsigned long long)src->id, src->account.name,
			src->account.domain, src->user, src->host, fetched);
	else
		log_msg(LOG_NOTICE, "RETRIEVAL", "%llu %s@%s from %s@%s: failed after %u stored: %s",
			(unsigned long long)src->id, src->account.name,
			src->account.domain, src->user, src->host, fetched, error);
	if (!retrieval.serving)
		return;		/* shutting down: the next start runs it again */
	if (retrieval_finish(src, error, fetched, (uint64_t)pn_now(),
			     retrieval.set->backoff_max, &found, &serror) < 0)
		log_msg(LOG_ERROR, "RETRIEVAL", "%llu: cannot record the run: %s",
			(unsigned long long)src->id, serror);
	/* room for the next due one now */
	pn_timer_start(retrieval.tick, 0);
}

static void retrieval_serve(void *settings)
{
	const char *error;

	retrieval.set = settings;
	retrieval.serving = true;
	retrieval.running = 0;
	retrieval.tick = pn_timer_new(tick, NULL);
	/* runs a process that ended left marked running are due now */
	if (retrieval_release_all(&error) < 0)
		log_msg(LOG_ERROR, "RETRIEVAL", "cannot read the sources: %s", error);
	pn_timer_start(retrieval.tick, 0);
}

static void retrieval_stop(void)
{
	retrieval.serving = false;
	pn_timer_free(&retrieval.tick);
	retrieval_session_stop_all();
}

static int retrieval_check(const void *settings, const char **error_r)
{
	const struct retrieval_settings *set = settings;

	if (set->ca_file[0] != '\0' && set->ca_file[0] != '/') {
		*error_r = "ca_file: an absolute path to a PEM file of CA certificates";
		return -1;
	}
	return 0;
}

static int retrieval_init(void *settings, const char **error_r)
{
	struct retrieval_settings *set = settings;

	(void)error_r;
	retrieval.set = set;
	/* the struct stays where it is across reloads */
	retrieval_configure(&set->triggers);
	return 0;
}

static void retrieval_fini(void)
{
	retrieval_configure(NULL);
}

#define S(field) offsetof(struct retrieval_settings, field)

static const struct setting_def retrieval_setting_defs[] = {
	{ "max_parallel", SETTING_UINT, S(max_parallel), "4", 1, 256 },
	{ "timeout", SETTING_SECONDS, S(timeout), "60s", 1, 3600 },
	{ "ca_file", SETTING_STRING, S(ca_file), "", 0, 0 },
	{ "max_message_size", SETTING_SIZE, S(max_message_size), "50M", 1024,
	  2147483647ull },
	{ "poll", SETTING_SECONDS, S(poll), "1s", 1, 3600 },
	{ "backoff_max", SETTING_SECONDS, S(backoff_max), "6h", 1, 7u * 86400 },
	{ "login_trigger", SETTING_BOOL, S(triggers.on_login), "yes", 0, 0 },
	{ "login_trigger_gap", SETTING_SECONDS, S(triggers.login_gap), "60s", 0,
	  86400 },
	SETTING_DEFS_END
};

const struct pn_module postern_module = {
	.abi = POSTERN_MODULE_ABI,
	.name = "retrieval",
	.log_tag = "RETRIEVAL",
	.settings = retrieval_setting_defs,
	.settings_size = sizeof(struct retrieval_settings),
	.check = retrieval_check,
	.init = retrieval_init,
	.fini = retrieval_fini,
	.serve = retrieval_serve,
	.stop = retrieval_stop,
};

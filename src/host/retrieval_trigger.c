/* retrieval_trigger.c - a login asks for the account's retrievals
 * (module API account_logged_in, SPEC.md 6).
 *
 * The login's reply must not wait: the account is queued and the store
 * write (one lazy transaction) runs from a timer on a later loop turn,
 * after the reply has gone out.  The retrieval module, which may run in
 * another worker process, finds the sources due at its next poll. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "postern/module.h"
#include "store/store_retrieval.h"

/* Logins waiting for the timer; more than this in one turn are dropped
 * (each account's sources still run at their interval). */
#define PENDING_MAX 256

static const struct retrieval_triggers *triggers;
static struct account pending[PENDING_MAX];
static size_t npending;
static struct pn_timer *timer;

void retrieval_configure(const struct retrieval_triggers *t)
{
	triggers = t;
	if (t == NULL) {
		pn_timer_free(&timer);
		npending = 0;
	}
}

static void run_pending(void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < npending; i++) {
		const char *error;
		size_t count;
		bool found;

		if (store_retrieval_request(&pending[i], 0, triggers->login_gap,
					    &count, &found, &error) < 0)
			log_msg(LOG_ERROR, "RETRIEVAL",
				"login of %s@%s: cannot start its retrievals: %s",
				pending[i].name, pending[i].domain, error);
		else if (count > 0)
			log_msg(LOG_INFO, "RETRIEVAL",
				"login of %s@%s: %zu retrieval%s started",
				pending[i].name, pending[i].domain, count,
				count == 1 ? "" : "s");
	}
	npending = 0;
}

void account_logged_in(const struct account *account)
{
	if (triggers == NULL || !triggers->on_login)
		return;
	for (size_t i = 0; i < npending; i++)
		if (pending[i].id == account->id)
			return;
	if (npending == PENDING_MAX)
		return;
	pending[npending++] = *account;
	if (timer == NULL)
		timer = pn_timer_new(run_pending, NULL);
	if (npending == 1)
		pn_timer_start(timer, 0.005);
}

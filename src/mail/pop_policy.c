/* pop_policy.c - the provider's POP policies as a POP session needs them
 * (module API pop_policy_for, pop_login_gate, pop_login_record): SPEC.md 3
 * and 6. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/strnum.h"
#include "mail/policy.h"
#include "store/store_alerts.h"
#include "store/store_ops.h"

static void fill(const struct policy *p, struct pop_policy *pp)
{
	const char *del = p->value[POLICY_POP_DELETE];
	uint64_t n = 0;

	memset(pp, 0, sizeof(*pp));
	(void)str_parse_seconds(p->value[POLICY_POP_LOGIN_DELAY], &n);
	pp->login_delay = (unsigned int)n;
	pp->login_delay_set = p->from[POLICY_POP_LOGIN_DELAY] != POLICY_FROM_DEFAULT;
	pp->expire_days = -1;
	if (strcmp(p->value[POLICY_POP_EXPIRE], "never") != 0 &&
	    str_to_uint64(p->value[POLICY_POP_EXPIRE], &n) == 0)
		pp->expire_days = (int)n;
	pp->expire_set = p->from[POLICY_POP_EXPIRE] != POLICY_FROM_DEFAULT;
	if (strcmp(del, "hide") == 0) {
		pp->delete_mode = POP_DELETE_HIDE;
	} else if (strcmp(del, "mark-read") == 0) {
		pp->delete_mode = POP_DELETE_MARK_READ;
	} else if (strncmp(del, "archive:", 8) == 0) {
		pp->delete_mode = POP_DELETE_ARCHIVE;
		snprintf(pp->archive, sizeof(pp->archive), "%s", del + 8);
	} else {
		pp->delete_mode = POP_DELETE_REMOVE;
	}
}

int pop_policy_for(const char *domain, const char *account,
		   struct pop_policy *p_r, const char **error_r)
{
	struct policy p;

	if (policy_load(domain, account, &p, error_r) < 0)
		return -1;
	fill(&p, p_r);
	return 0;
}

/* Since when an account's mail is shown with pop_from = enable-time: when
 * POP was last switched on for it, or when it was made. */
static int enabled_since(const struct account *a, const struct policy *p,
			 uint64_t *since_r, const char **error_r)
{
	struct account_info info;
	struct account found;
	bool ok;

	if (p->pop_enabled_at != 0) {
		*since_r = p->pop_enabled_at;
		return 0;
	}
	if (store_account_info(a->name, a->domain, &found, &info, &ok, error_r) < 0)
		return -1;
	*since_r = ok ? info.created : 0;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

enum pop_gate pop_login_gate(const struct account *a, struct pop_policy *p_r,
			     char *text_r, size_t size, const char **error_r)
{
	uint64_t now = now_ms(), last, delay;
	struct policy p;
	struct alert alert;
	bool found;

	text_r[0] = '\0';
	if (policy_load(a->domain, a->name, &p, error_r) < 0)
		return POP_GATE_TEMPFAIL;
	fill(&p, p_r);
	if (!policy_allows(&p, POLICY_POP)) {
		snprintf(text_r, size, "POP access is disabled for this %s",
			 p.from[POLICY_POP] == POLICY_FROM_ACCOUNT ? "account" :
			 p.from[POLICY_POP] == POLICY_FROM_DOMAIN ? "domain" : "server");
		return POP_GATE_DISABLED;
	}
	if (strcmp(p.value[POLICY_POP_FROM], "enable-time") == 0 &&
	    enabled_since(a, &p, &p_r->visible_since, error_r) < 0)
		return POP_GATE_TEMPFAIL;
	/* in milliseconds: with whole seconds a login late in its second
	 * made the next one wait only a little over login_delay - 1 s.  A
	 * clock that went back (now < last) locks nobody out. */
	last = p.pop_last_login_ms;
	delay = (uint64_t)p_r->login_delay * 1000;
	if (delay > 0 && last != 0 && now >= last && now - last < delay) {
		snprintf(text_r, size, "Logged in %llu s ago; wait %llu s more (LOGIN-DELAY %u)",
			 (unsigned long long)((now - last) / 1000),
			 (unsigned long long)((last + delay - now + 999) / 1000),
			 p_r->login_delay);
		return POP_GATE_TOO_SOON;
	}
	/* an alert takes this login, the next attempt gets the next one */
	if (store_alert_take(a, &alert, &found, error_r) < 0)
		return POP_GATE_TEMPFAIL;
	if (found) {
		log_msg(LOG_NOTICE, "POP", "alert %llu shown to %s@%s: %s",
			(unsigned long long)alert.id, a->name, a->domain, alert.text);
		snprintf(text_r, size, "%s", alert.text);
		return POP_GATE_ALERT;
	}
	return POP_GATE_OK;
}

int pop_login_record(const struct account *a, const struct pop_policy *p,
		     const char **error_r)
{
	if (p->login_delay == 0)
		return 0;
	return policy_record_time(a->domain, a->name, POLICY_KEY_POP_LAST_LOGIN_MS,
				  now_ms(), error_r);
}

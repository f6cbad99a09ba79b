/* policy.c - policies and how the levels combine (policy.h). */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/strnum.h"
#include "mail/names.h"
#include "mail/policy.h"

enum policy_kind {
	KIND_SERVICE,	/* yes/no, every level must allow */
	KIND_CHOICE,	/* one of a list, the most specific level's */
	KIND_SECONDS,	/* a duration: 90, 90s, 15m, 1h */
	KIND_DAYS,	/* a number of days, or never */
	KIND_DELETE,	/* delete, hide, mark-read or archive:MAILBOX */
};

struct policy_def {
	const char *name;
	enum policy_kind kind;
	const char *def;
	const char *choices;	/* KIND_CHOICE: "a|b" */
};

static const struct policy_def defs[POLICY_COUNT] = {
	[POLICY_POP] = { "pop", KIND_SERVICE, "yes" },
	[POLICY_XMIT] = { "xmit", KIND_SERVICE, "yes" },
	[POLICY_LMTP] = { "lmtp", KIND_SERVICE, "yes" },
	[POLICY_RETRIEVAL] = { "retrieval", KIND_SERVICE, "yes" },
	[POLICY_POP_FROM] = { "pop_from", KIND_CHOICE, "all", "all|enable-time" },
	[POLICY_POP_DELETE] = { "pop_delete", KIND_DELETE, "delete" },
	[POLICY_POP_LOGIN_DELAY] = { "pop_login_delay", KIND_SECONDS, "0" },
	[POLICY_POP_EXPIRE] = { "pop_expire", KIND_DAYS, "never" },
};

const char *policy_names(void)
{
	static char names[256];
	size_t n = 0;

	if (names[0] != '\0')
		return names;
	for (int i = 0; i < POLICY_COUNT && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
				      i ? ", " : "", defs[i].name);
	return names;
}

const char *policy_name(enum policy_id id)
{
	return id < POLICY_COUNT ? defs[id].name : NULL;
}

const char *policy_source_name(enum policy_source from)
{
	switch (from) {
	case POLICY_FROM_DEFAULT:
		return "default";
	case POLICY_FROM_SERVER:
		return "server";
	case POLICY_FROM_DOMAIN:
		return "domain";
	case POLICY_FROM_ACCOUNT:
		return "account";
	}
	return "?";
}

int policy_find(const char *name, enum policy_id *id_r, const char **error_r)
{
	static char err[320];

	for (int i = 0; i < POLICY_COUNT; i++) {
		if (strcmp(defs[i].name, name) == 0) {
			*id_r = (enum policy_id)i;
			return 0;
		}
	}
	snprintf(err, sizeof(err), "unknown setting '%.40s' (known: %s)", name,
		 policy_names());
	*error_r = err;
	return -1;
}

static int parse_bool(const char *value, bool *b_r)
{
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "on") == 0 ||
	    strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
		*b_r = true;
	else if (strcasecmp(value, "no") == 0 || strcasecmp(value, "off") == 0 ||
		 strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
		*b_r = false;
	else
		return -1;
	return 0;
}

int policy_check(enum policy_id id, const char *value, const char **error_r)
{
	static char err[128];
	bool b;

	uint64_t n;

	switch (defs[id].kind) {
	case KIND_SERVICE:
		if (parse_bool(value, &b) < 0) {
			snprintf(err, sizeof(err), "%s: yes or no, not '%.40s'",
				 defs[id].name, value);
			*error_r = err;
			return -1;
		}
		return 0;
	case KIND_CHOICE: {
		const char *c = defs[id].choices;
		size_t len = strlen(value);

		while (c != NULL) {
			const char *bar = strchr(c, '|');
			size_t clen = bar ? (size_t)(bar - c) : strlen(c);

			if (clen == len && strncmp(c, value, len) == 0)
				return 0;
			c = bar ? bar + 1 : NULL;
		}
		snprintf(err, sizeof(err), "%s: one of %s, not '%.40s'",
			 defs[id].name, defs[id].choices, value);
		*error_r = err;
		return -1;
	}
	case KIND_SECONDS:
		if (str_parse_seconds(value, &n) < 0 || n > 30u * 86400) {
			snprintf(err, sizeof(err),
				 "%s: a duration like 900, 15m or 1h (at most 30d), not '%.40s'",
				 defs[id].name, value);
			*error_r = err;
			return -1;
		}
		return 0;
	case KIND_DAYS:
		if (strcmp(value, "never") != 0 &&
		    (str_to_uint64(value, &n) < 0 || n == 0 || n > 36500)) {
			snprintf(err, sizeof(err), "%s: a number of days (1-36500) or never, not '%.40s'",
				 defs[id].name, value);
			*error_r = err;
			return -1;
		}
		return 0;
	case KIND_DELETE:
		if (strcmp(value, "delete") == 0 || strcmp(value, "hide") == 0 ||
		    strcmp(value, "mark-read") == 0)
			return 0;
		if (strncmp(value, "archive:", 8) == 0) {
			const char *why;

			if (name_mailbox_check(value + 8, &why) == 0 &&
			    strcmp(value + 8, "INBOX") != 0)
				return 0;
			snprintf(err, sizeof(err), "%s: archive:%.60s: %s", defs[id].name,
				 value + 8, strcmp(value + 8, "INBOX") == 0 ?
				 "not into the INBOX itself" : why);
			*error_r = err;
			return -1;
		}
		snprintf(err, sizeof(err),
			 "%s: delete, hide, mark-read or archive:MAILBOX, not '%.40s'",
			 defs[id].name, value);
		*error_r = err;
		return -1;
	}
	return 0;
}

struct load_ctx {
	struct policy *p;
	/* a service refused at any level stays refused */
	bool refused[POLICY_COUNT];
};

static void take(enum setting_level level, const char *key, const char *value,
		 void *vctx)
{
	struct load_ctx *c = vctx;
	enum policy_source from = level == SETTING_SERVER ? POLICY_FROM_SERVER :
				  level == SETTING_DOMAIN ? POLICY_FROM_DOMAIN :
				  POLICY_FROM_ACCOUNT;
	enum policy_id id;
	const char *error;
	bool b;

	/* the server's own records, at the account level */
	if (level == SETTING_ACCOUNT && key[0] == '_') {
		uint64_t t = 0;

		(void)str_to_uint64(value, &t);
		if (strcmp(key, POLICY_KEY_POP_ENABLED_AT) == 0)
			c->p->pop_enabled_at = t;
		else if (strcmp(key, POLICY_KEY_POP_LAST_LOGIN_MS) == 0)
			c->p->pop_last_login_ms = t;
		return;
	}
	/* a key this version does not know, or a value it cannot read (an
	 * older or newer posternctl wrote it): ignored, the default holds */
	if (policy_find(key, &id, &error) < 0 || policy_check(id, value, &error) < 0)
		return;
	if (defs[id].kind == KIND_SERVICE) {
		(void)parse_bool(value, &b);
		if (c->refused[id])
			return;
		if (!b)
			c->refused[id] = true;
	}
	snprintf(c->p->value[id], sizeof(c->p->value[id]), "%s", value);
	c->p->from[id] = from;
}

int policy_load(const char *domain, const char *account, struct policy *p_r,
		const char **error_r)
{
	struct load_ctx c = { .p = p_r };

	for (int i = 0; i < POLICY_COUNT; i++) {
		snprintf(p_r->value[i], sizeof(p_r->value[i]), "%s", defs[i].def);
		p_r->from[i] = POLICY_FROM_DEFAULT;
	}
	p_r->pop_enabled_at = p_r->pop_last_login_ms = 0;
	return store_settings_for(domain, account, take, &c, error_r);
}

bool policy_allows(const struct policy *p, enum policy_id id)
{
	bool b = true;

	(void)parse_bool(p->value[id], &b);
	return b;
}

int policy_set(const char *domain, const char *account, const char *name,
	       const char *value, const char **error_r)
{
	enum policy_id id;

	bool account_level = account != NULL && account[0] != '\0';
	bool was_allowed = true;
	struct policy before, after;

	if (policy_find(name, &id, error_r) < 0)
		return -1;
	if (value[0] != '\0' && policy_check(id, value, error_r) < 0)
		return -1;
	if (id == POLICY_POP && account_level) {
		if (policy_load(domain, account, &before, error_r) < 0)
			return -1;
		was_allowed = policy_allows(&before, POLICY_POP);
	}
	if (store_setting_set(domain, account, name,
			      value[0] != '\0' ? value : NULL, error_r) < 0)
		return -1;
	/* pop_from = enable-time counts from when POP was switched on for
	 * the account (never switched: from its creation) */
	if (id == POLICY_POP && account_level && !was_allowed) {
		if (policy_load(domain, account, &after, error_r) < 0)
			return -1;
		if (policy_allows(&after, POLICY_POP))
			return policy_record_time(domain, account,
						  POLICY_KEY_POP_ENABLED_AT,
						  (uint64_t)time(NULL), error_r);
	}
	return 0;
}

int policy_record_time(const char *domain, const char *account,
		       const char *key, uint64_t t, const char **error_r)
{
	char v[24];

	snprintf(v, sizeof(v), "%llu", (unsigned long long)t);
	return store_setting_set(domain, account, key, v, error_r);
}

/* Module API: the service switch alone (the retrieval module asks before
 * it connects). */
int account_service_allowed(const struct account *a, const char *service,
			    bool *allowed_r, const char **error_r)
{
	enum policy_id id;
	struct policy p;

	if (policy_find(service, &id, error_r) < 0 ||
	    policy_load(a->domain, a->name, &p, error_r) < 0)
		return -1;
	*allowed_r = policy_allows(&p, id);
	return 0;
}

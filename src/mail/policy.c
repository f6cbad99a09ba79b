/* policy.c - policies and how the levels combine (policy.h). */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/policy.h"

enum policy_kind {
	KIND_SERVICE,	/* yes/no, every level must allow */
};

struct policy_def {
	const char *name;
	enum policy_kind kind;
	const char *def;
};

static const struct policy_def defs[POLICY_COUNT] = {
	[POLICY_POP] = { "pop", KIND_SERVICE, "yes" },
	[POLICY_XMIT] = { "xmit", KIND_SERVICE, "yes" },
	[POLICY_LMTP] = { "lmtp", KIND_SERVICE, "yes" },
	[POLICY_RETRIEVAL] = { "retrieval", KIND_SERVICE, "yes" },
};

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
	static char err[256];
	size_t n = 0;

	for (int i = 0; i < POLICY_COUNT; i++) {
		if (strcmp(defs[i].name, name) == 0) {
			*id_r = (enum policy_id)i;
			return 0;
		}
	}
	n = (size_t)snprintf(err, sizeof(err), "unknown setting '%.40s' (known:", name);
	for (int i = 0; i < POLICY_COUNT && n < sizeof(err); i++)
		n += (size_t)snprintf(err + n, sizeof(err) - n, " %s", defs[i].name);
	if (n < sizeof(err))
		snprintf(err + n, sizeof(err) - n, ")");
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

	switch (defs[id].kind) {
	case KIND_SERVICE:
		if (parse_bool(value, &b) < 0) {
			snprintf(err, sizeof(err), "%s: yes or no, not '%.40s'",
				 defs[id].name, value);
			*error_r = err;
			return -1;
		}
		return 0;
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

	/* a key this version does not know, or a value it cannot read (an
	 * older or newer posternctl wrote it): ignored, the default holds */
	if (policy_find(key, &id, &error) < 0 || policy_check(id, value, &error) < 0)
		return;
	switch (defs[id].kind) {
	case KIND_SERVICE:
		(void)parse_bool(value, &b);
		if (c->refused[id])
			return;
		if (!b)
			c->refused[id] = true;
		break;
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

	if (policy_find(name, &id, error_r) < 0)
		return -1;
	if (value[0] != '\0' && policy_check(id, value, error_r) < 0)
		return -1;
	return store_setting_set(domain, account, name,
				 value[0] != '\0' ? value : NULL, error_r);
}

/* ctl_alert.c - posternctl alert post|list|del: what users are told at
 * their next login (store/store_alerts.h). */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "lib/strnum.h"
#include "mail/accounts.h"
#include "mail/names.h"
#include "store/store_alerts.h"

#define ALERT_POST_USAGE "usage: alert post [--domain DOMAIN | --account ADDRESS] TEXT..."
#define ALERT_LIST_USAGE "usage: alert list [--domain DOMAIN | --account ADDRESS]"

struct target {
	enum alert_scope scope;
	char domain[ACCOUNT_NAME_MAX + 1];
	char account[ACCOUNT_NAME_MAX + 1];
};

/* --domain D / --account A at argv[*i]: *i moves past it and *given_r is
 * set; no option there: nothing changes.  0, or an exit code with the
 * message printed (an exit code is never 0, so a failed look-up cannot be
 * taken for "no option" and the words posted as the text). */
static int parse_target(int argc, char **argv, int *i, struct target *t,
			bool *given_r, const char *usage)
{
	const char *error;

	*given_r = false;
	if (*i >= argc ||
	    (strcmp(argv[*i], "--domain") != 0 && strcmp(argv[*i], "--account") != 0))
		return 0;
	if (*i + 1 >= argc)
		return ctl_error(EX_USAGE, "%s", usage);
	if (strcmp(argv[*i], "--domain") == 0) {
		int ret = ctl_find_domain(argv[*i + 1], t->domain);

		if (ret != 0)
			return ret;
		t->scope = ALERT_DOMAIN;
	} else {
		struct account a;
		bool found;

		if (account_resolve(argv[*i + 1], NULL, t->account, t->domain, &error) < 0)
			return ctl_error(EX_DATAERR, "%s", error);
		if (store_account_get(t->account, t->domain, &a, NULL, 0, &found,
				      &error) < 0)
			return ctl_error(EX_TEMPFAIL, "%s", error);
		if (!found)
			return ctl_error(EX_NOUSER, "no such account: %s@%s", t->account,
					 t->domain);
		t->scope = ALERT_ACCOUNT;
	}
	*i += 2;
	*given_r = true;
	return 0;
}

static void describe(const struct target *t, char *buf, size_t size)
{
	switch (t->scope) {
	case ALERT_SERVER:
		snprintf(buf, size, "every account");
		break;
	case ALERT_DOMAIN:
		snprintf(buf, size, "every account of %s", t->domain);
		break;
	case ALERT_ACCOUNT:
		snprintf(buf, size, "%s@%s", t->account, t->domain);
		break;
	}
}

int ctl_alert_post(int argc, char **argv)
{
	struct target t = { ALERT_SERVER, "", "" };
	char text[ALERT_TEXT_MAX + 2] = "", who[2 * ACCOUNT_NAME_MAX + 32];
	const char *error;
	uint64_t id;
	int i = 0, ret;
	size_t len = 0;
	bool given;

	if ((ret = parse_target(argc, argv, &i, &t, &given, ALERT_POST_USAGE)) != 0)
		return ret;
	if (i >= argc)
		return ctl_error(EX_USAGE, ALERT_POST_USAGE);
	for (; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (len + (len ? 1 : 0) + n > ALERT_TEXT_MAX)
			return ctl_error(EX_DATAERR, "an alert is at most %d octets",
					 ALERT_TEXT_MAX);
		if (len)
			text[len++] = ' ';
		memcpy(text + len, argv[i], n + 1);
		len += n;
	}
	if (store_alert_post(t.scope, t.domain, t.account, text, &id, &error) < 0)
		return ctl_error(strncmp(error, "no such", 7) == 0 ? EX_NOUSER : EX_DATAERR,
				 "%s", error);
	describe(&t, who, sizeof(who));
	printf("alert %llu posted for %s\n", (unsigned long long)id, who);
	return 0;
}

static void print_alert(const struct alert *a, void *ctx)
{
	char when[32], who[2 * ACCOUNT_NAME_MAX + 8];
	time_t t = (time_t)a->created;
	struct tm tm;

	(void)ctx;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	if (a->scope == ALERT_SERVER)
		snprintf(who, sizeof(who), "server");
	else if (a->scope == ALERT_DOMAIN)
		snprintf(who, sizeof(who), "%s", a->domain);
	else
		snprintf(who, sizeof(who), "%s@%s", a->account, a->domain);
	printf("%-6llu %s UTC  %-30s %s\n", (unsigned long long)a->id, when, who,
	       a->text);
}

int ctl_alert_list(int argc, char **argv)
{
	struct target t = { ALERT_SERVER, "", "" };
	const char *error;
	int i = 0, ret;
	bool given;

	if ((ret = parse_target(argc, argv, &i, &t, &given, ALERT_LIST_USAGE)) != 0)
		return ret;
	if (i != argc)
		return ctl_error(EX_USAGE, ALERT_LIST_USAGE);
	if (store_alert_list(given ? (int)t.scope : -1, t.domain, t.account,
			     print_alert, NULL, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	return 0;
}

int ctl_alert_del(int argc, char **argv)
{
	const char *error;
	uint64_t id;
	bool found;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: alert del ID");
	if (str_to_uint64(argv[0], &id) < 0 || id == 0)
		return ctl_error(EX_DATAERR, "'%s' is not an alert id (a number from alert list)",
				 argv[0]);
	if (store_alert_del(id, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(1, "no such alert: %llu", (unsigned long long)id);
	printf("alert %llu removed\n", (unsigned long long)id);
	return 0;
}

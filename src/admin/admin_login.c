/* admin_login.c - the web admin's login (module API admin_login_check):
 * the account looked up, the password checked off the loop on the
 * verification threads (with the verified-password cache), the webadmin
 * right required, failures delayed by the client address's penalty and
 * logged as POP's are. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_role.h"
#include "host/sasl.h"
#include "host/host.h"
#include "host/verify_pool.h"
#include "lib/core_settings.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/accounts.h"
#include "mail/auth.h"
#include "mail/auth_cache.h"
#include "store/store_ops.h"

struct admin_login {
	admin_login_fn *done;
	void *ctx;
	struct admin_who who;
	struct account account;
	char user[ADDRESS_MAX + 1];
	char hash[PASSWORD_HASH_MAX];
	char ip[64];
	bool known;
};

static void finish(struct admin_login *l, enum admin_login_result res,
		   const char *why)
{
	unsigned int delay = 0;

	if (res == ADMIN_LOGIN_FAILED) {
		log_msg(LOG_NOTICE, "HTTP", "[%s] admin login failed: %s", l->ip, why);
		delay = auth_failure_penalty(l->ip);
	} else if (res == ADMIN_LOGIN_OK) {
		log_msg(LOG_NOTICE, "HTTP", "[%s] admin %s logged in (%s)", l->ip,
			l->who.user, admin_role_name(l->who.role));
		auth_failure_clear(l->ip);
		account_logged_in(&l->account);
	} else {
		log_msg(LOG_ERROR, "HTTP", "[%s] admin login of %s: %s", l->ip, l->user, why);
	}
	l->done(l->ctx, res, res == ADMIN_LOGIN_OK ? &l->who : NULL, delay);
	explicit_bzero(l, sizeof(*l));
	free(l);
}

/* The password is right: is the account an admin? */
static void authorised(struct admin_login *l)
{
	const char *error;
	char why[ADDRESS_MAX + 64];

	if (admin_role_get(l->account.domain, l->account.name, &l->who.role,
			   &error) < 0) {
		finish(l, ADMIN_LOGIN_TEMPFAIL, error);
		return;
	}
	if (l->who.role == ADMIN_ROLE_NONE) {
		snprintf(why, sizeof(why), "%s has no webadmin right", l->user);
		finish(l, ADMIN_LOGIN_FAILED, why);
		return;
	}
	snprintf(l->who.user, sizeof(l->who.user), "%s", l->user);
	snprintf(l->who.domain, sizeof(l->who.domain), "%s", l->account.domain);
	finish(l, ADMIN_LOGIN_OK, NULL);
}

static void verified(void *ctx, bool ok, const char *password)
{
	struct admin_login *l = ctx;
	char why[ADDRESS_MAX + 64];

	if (!ok) {
		snprintf(why, sizeof(why), l->known ? "wrong password for %s" :
			 "unknown account %s", l->user);
		finish(l, ADMIN_LOGIN_FAILED, why);
		return;
	}
	auth_cache_store(l->user, l->hash, password);
	authorised(l);
}

/* Run `done` from the loop, never inside admin_login_check. */
static void later(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct admin_login *l = w->data;

	(void)revents;
	ev_timer_stop(loop, w);
	free(w);
	if (l->known)
		authorised(l);
	else
		finish(l, ADMIN_LOGIN_TEMPFAIL, "the store cannot be read");
}

void admin_login_check(const char *user, const char *password,
		       const char *client_ip, admin_login_fn *done, void *ctx)
{
	struct admin_login *l = xcalloc(1, sizeof(*l));
	char view[ADDRESS_MAX + 1];
	const char *error = "";
	enum auth_lookup res;
	ev_timer *t;

	l->done = done;
	l->ctx = ctx;
	snprintf(l->ip, sizeof(l->ip), "%s", client_ip);
	snprintf(l->user, sizeof(l->user), "%.*s", (int)sizeof(l->user) - 1, user);
	res = auth_lookup(user, NULL, &l->account, l->hash, sizeof(l->hash), l->user,
			  view, &error);
	/* no one found: the lookup left no name, the log gets the one typed */
	if (l->user[0] == '\0')
		snprintf(l->user, sizeof(l->user), "%.*s", (int)sizeof(l->user) - 1, user);
	switch (res) {
	case AUTH_LOOKUP_FOUND:
		/* a unified account's addresses are no admin logins */
		l->known = view[0] == '\0';
		break;
	case AUTH_LOOKUP_UNKNOWN:
		break;
	case AUTH_LOOKUP_TEMPFAIL:
		l->known = false;
		t = xcalloc(1, sizeof(*t));
		t->data = l;
		ev_timer_init(t, later, 0., 0.);
		ev_timer_start(host_loop(), t);
		return;
	}
	if (l->known && auth_cache_check(l->user, l->hash, password)) {
		/* answered from the cache: still from the loop, after return */
		t = xcalloc(1, sizeof(*t));
		t->data = l;
		ev_timer_init(t, later, 0., 0.);
		ev_timer_start(host_loop(), t);
		return;
	}
	/* unknown names are checked against the dummy hash: as slow */
	if (verify_submit(password, l->known ? l->hash : NULL, verified, l) == NULL) {
		/* no threads: verified has run already (inside: acceptable
		 * for a configuration without verification threads) */
	}
}

int admin_who_refresh(struct admin_who *who, const char **error_r)
{
	struct account a;

	if (account_find(who->user, &a, error_r) < 0)
		return -1;
	if (admin_role_get(a.domain, a.name, &who->role, error_r) < 0)
		return -1;
	if (who->role == ADMIN_ROLE_NONE) {
		*error_r = "the webadmin right was taken away";
		return -1;
	}
	snprintf(who->domain, sizeof(who->domain), "%s", a.domain);
	return 0;
}

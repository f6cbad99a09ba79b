/* login.c - USER/PASS logins and the password check behind SASL PLAIN and
 * LOGIN, with yescrypt in the verification pool.
 *
 * A check: look the account up (LMDB, microseconds, on the loop); answer
 * at once from the verified-password cache when it can; otherwise hand the
 * password and hash to the pool and wait.  An unknown or invalid name is
 * checked against the dummy hash, so it takes as long as a wrong password.
 * While a reply is owed, conn.c passes no command line to the module. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/conn_internal.h"
#include "host/login.h"
#include "host/verify_pool.h"
#include "lib/xalloc.h"
#include "mail/auth.h"
#include "mail/auth_cache.h"
#include "mail/names.h"
#include "store/store_ops.h"

struct login_check {
	struct verify_job *job;
	login_checked_fn *then;
	bool known;			/* the account exists: hash is its own */
	struct account account;
	char user[ADDRESS_MAX + 1];
	char hash[PASSWORD_HASH_MAX];
	char error[ADDRESS_MAX + 64];
};

/* verify_submit() is running: a check that finishes inside it (no pool
 * threads) must not re-enter the connection. */
static bool submitting;

static void check_free(struct login_check *chk)
{
	explicit_bzero(chk, sizeof(*chk));
	free(chk);
}

static void on_verified(void *ctx, bool ok, const char *password)
{
	struct conn *c = ctx;
	struct login_check *chk = c->login->check;
	struct login_verdict v = {
		.step = ok ? AUTH_STEP_OK : AUTH_STEP_FAILED,
		.account = &chk->account,
		.user = chk->user,
		.password = password,
		.error = chk->error,
	};

	c->login->check = NULL;
	if (ok)
		auth_cache_store(chk->user, chk->hash, password);
	else if (chk->known)
		snprintf(chk->error, sizeof(chk->error), "wrong password for %s",
			 chk->user);
	chk->then(c, &v);
	check_free(chk);
	if (!submitting)
		conn_resume(c);
}

/* Split "mailbox#account" (the mailbox is kept for the reply), then find
 * the account. */
static enum auth_lookup login_lookup(struct conn *c, const char *login,
				     struct login_check *chk,
				     const char **error_r)
{
	char account[ADDRESS_MAX + 1];

	if (name_login_split(login, c->login->mailbox, account, error_r) < 0) {
		c->login->mailbox[0] = '\0';
		return AUTH_LOOKUP_UNKNOWN;
	}
	return auth_lookup(account, c->local_ip, &chk->account, chk->hash,
			   sizeof(chk->hash), chk->user, c->login->view, error_r);
}

void login_check(struct conn *c, const char *login, const char *password,
		 login_checked_fn *then)
{
	struct login_check *chk = xcalloc(1, sizeof(*chk));
	struct login_verdict v = { .user = chk->user, .password = password };
	struct verify_job *job;
	const char *error = "";

	chk->then = then;
	conn_login_state(c);
	switch (login_lookup(c, login, chk, &error)) {
	case AUTH_LOOKUP_TEMPFAIL:
		v.step = AUTH_STEP_TEMPFAIL;
		v.error = error;
		then(c, &v);
		check_free(chk);
		return;
	case AUTH_LOOKUP_UNKNOWN:
		snprintf(chk->error, sizeof(chk->error), "%s", error);
		break;
	case AUTH_LOOKUP_FOUND:
		chk->known = true;
		if (auth_cache_check(chk->user, chk->hash, password)) {
			v.step = AUTH_STEP_OK;
			v.account = &chk->account;
			then(c, &v);
			check_free(chk);
			return;
		}
		break;
	}
	c->login->check = chk;
	submitting = true;
	job = verify_submit(password, chk->known ? chk->hash : NULL,
			    on_verified, c);
	submitting = false;
	if (job != NULL)	/* NULL: it has run, and chk is gone */
		chk->job = job;
}

struct conn_login *conn_login_state(struct conn *c)
{
	if (c->login == NULL)
		c->login = xcalloc(1, sizeof(*c->login));
	return c->login;
}

void login_owe(struct conn *c, auth_done_fn *done)
{
	struct conn_login *l = conn_login_state(c);

	l->done = done;
	l->ready = false;
}

void login_answer(struct conn *c, const struct auth_reply *reply)
{
	struct conn_login *l = c->login;

	l->reply = *reply;
	l->reply.mailbox = l->mailbox;
	l->reply.view = l->view;
	snprintf(l->error, sizeof(l->error), "%s",
		 reply->error != NULL ? reply->error : "");
	l->reply.error = l->error;
	l->ready = true;
}

bool login_deliver(struct conn *c)
{
	struct conn_login *l = c->login;
	auth_done_fn *done;

	if (l == NULL || !l->ready || l->done == NULL)
		return false;
	done = l->done;
	l->done = NULL;
	l->ready = false;
	done(c->session, &l->reply);
	return true;
}

void login_free(struct conn *c)
{
	struct conn_login *l = c->login;

	if (l == NULL)
		return;
	if (l->check != NULL) {
		verify_cancel(l->check->job);
		check_free(l->check);
	}
	explicit_bzero(l, sizeof(*l));
	free(l);
	c->login = NULL;
}

/* ---- USER/PASS ---- */

static void plain_checked(struct conn *c, const struct login_verdict *v)
{
	struct auth_reply reply = { .step = v->step, .error = v->error };

	if (v->step == AUTH_STEP_OK)
		reply.account = *v->account;
	login_answer(c, &reply);
}

void conn_login_plain(struct conn *c, const char *login, const char *password,
		      auth_done_fn *done)
{
	login_owe(c, done);
	login_check(c, login, password, plain_checked);
}

/* login.h - logins without blocking the event loop: the reply a module is
 * owed (auth_done_fn, postern/module.h) and the password check behind
 * USER/PASS and SASL PLAIN/LOGIN, run in the verification pool. */
#ifndef PN_LOGIN_H
#define PN_LOGIN_H

#include "postern/module.h"

struct conn;

/* What a password check found.  Every pointer lives until `then` returns. */
struct login_verdict {
	enum auth_step step;		/* OK, FAILED or TEMPFAIL */
	const struct account *account;	/* OK */
	const char *user;		/* canonical "name@domain", or "" */
	const char *password;		/* what was checked */
	const char *error;		/* FAILED, TEMPFAIL: for the log */
};
typedef void login_checked_fn(struct conn *c, const struct login_verdict *v);

/* Look `login` up and check `password` in the pool (from the verified-
 * password cache when it can be).  `then` runs exactly once, possibly
 * before this returns; not at all if the connection closes first. */
void login_check(struct conn *c, const char *login, const char *password,
		 login_checked_fn *then);

/* The module is owed a reply through `done`... */
void login_owe(struct conn *c, auth_done_fn *done);
/* ...and this is it (copied; `out` must live until it is delivered). */
void login_answer(struct conn *c, const struct auth_reply *reply);
/* conn.c: hand a ready reply to the module.  False when none is ready. */
bool login_deliver(struct conn *c);
/* The connection is going away: cancel a check, forget the reply. */
void login_free(struct conn *c);

#endif

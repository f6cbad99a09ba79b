/* sasl.c - Cyrus SASL server glue: callbacks, the "postern" auxprop
 * plugin, and the per-connection exchange behind conn_sasl_*(). */
#include "build-config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl/saslutil.h>

#include "host/auth_penalty.h"
#include "host/conn_internal.h"
#include "host/host.h"
#include "host/login.h"
#include "host/sasl.h"
#include "host/service.h"
#include "lib/config.h"
#include "lib/core_settings.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/accounts.h"
#include "mail/auth.h"
#include "mail/password.h"
#include "mail/scram.h"
#include "store/store_ops.h"

/* Mechanisms Postern can verify with what it stores... */
static const char *const known_mechs[] = {
	"PLAIN", "LOGIN", "SCRAM-SHA-256", "SCRAM-SHA-1", NULL
};
/* ...and those that need a plaintext-equivalent secret. */
static const char *const cleartext_mechs[] = { "CRAM-MD5", "DIGEST-MD5", NULL };

static bool in_list(const char *const *list, const char *mech)
{
	for (; *list != NULL; list++) {
		if (strcasecmp(*list, mech) == 0)
			return true;
	}
	return false;
}

static const struct auth_settings *cur;
static char mech_list[256];
static bool initialised;

#define S(field) offsetof(struct auth_settings, field)

static const struct setting_def auth_defs[] = {
	/* RFC 2595: no cleartext passwords without TLS, except on loopback */
	{ "allow_plaintext", SETTING_BOOL, S(allow_plaintext), "no", 0, 0 },
	{ "mechanisms", SETTING_LIST, S(mechanisms),
	  "PLAIN, LOGIN, SCRAM-SHA-256, SCRAM-SHA-1", 0, 0 },
	/* Dovecot's auth_failure_delay: 2 s, then 4, 8, 15 per address */
	{ "failure_delay_ms", SETTING_UINT, S(failure_delay_ms), "2000", 0, 15000 },
	{ "failure_window", SETTING_SECONDS, S(failure_window), "10m", 1, 86400 },
	/* password checks beside the loop, per process; 0 = on the loop */
	{ "verify_threads", SETTING_UINT, S(verify_threads), "2", 0, 64 },
	SETTING_DEFS_END
};

int auth_settings_load(struct config *cfg, struct auth_settings *set,
		       bool cleartext_secrets, const char **error_r)
{
	static char err[400];

	if (config_apply(cfg, "auth", auth_defs, set, error_r) < 0)
		return -1;
	for (size_t i = 0; i < set->mechanisms.count; i++) {
		const char *m = set->mechanisms.items[i];

		if (in_list(known_mechs, m) ||
		    (cleartext_secrets && in_list(cleartext_mechs, m)))
			continue;
		if (in_list(cleartext_mechs, m))
			snprintf(err, sizeof(err),
				 "auth.mechanisms: %s needs a plaintext-equivalent secret: set auth.cleartext_secrets = yes (and reset passwords) to allow it",
				 m);
		else
			snprintf(err, sizeof(err),
				 "auth.mechanisms: %s is not one of PLAIN, LOGIN, SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, DIGEST-MD5",
				 m);
		*error_r = err;
		return -1;
	}
	return 0;
}

void auth_settings_free(struct auth_settings *set)
{
	settings_free(auth_defs, set);
}

void conn_auth_failed(struct conn *c)
{
	unsigned int base = cur != NULL ? cur->failure_delay_ms : 2000;
	unsigned int window = cur != NULL ? cur->failure_window : 600;

	conn_delay_input(c, auth_penalty_fail(c->limit_key, base, window,
					      ev_now(host_loop())));
}

unsigned int auth_failure_penalty(const char *ip)
{
	unsigned int base = cur != NULL ? cur->failure_delay_ms : 2000;
	unsigned int window = cur != NULL ? cur->failure_window : 600;
	char key[64];

	service_limit_key(ip, key, sizeof(key));
	return auth_penalty_fail(key, base, window, ev_now(host_loop()));
}

void auth_failure_clear(const char *ip)
{
	char key[64];

	service_limit_key(ip, key, sizeof(key));
	auth_penalty_clear(key);
}

void conn_auth_succeeded(struct conn *c)
{
	auth_penalty_clear(c->limit_key);
}

bool conn_plaintext_allowed(const struct conn *c)
{
	return (cur != NULL && cur->allow_plaintext) || c->tls == TLS_ON ||
	       c->starttls_pending || c->loopback;
}

/* ---- callbacks ---- */

static int cb_getopt(void *context, const char *plugin_name, const char *option,
		     const char **result, unsigned *len)
{
	(void)context;
	(void)plugin_name;
	if (strcmp(option, "mech_list") == 0)
		*result = mech_list;
	else if (strcmp(option, "auxprop_plugin") == 0)
		*result = "postern";
	else if (strcmp(option, "pwcheck_method") == 0)
		*result = "auxprop";
	else
		return SASL_FAIL;
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int cb_log(void *context, int level, const char *message)
{
	(void)context;
	/* Cyrus' own notes on failures are detail for the admin */
	log_msg(level <= SASL_LOG_ERR ? LOG_WARNING : LOG_DEBUG, "SASL", "%s",
		message);
	return SASL_OK;
}

/* Split a canonical "name@domain". */
static bool split_user(const char *user, char *name, char *domain)
{
	const char *at = strrchr(user, '@');

	if (at == NULL || at == user || (size_t)(at - user) > ACCOUNT_NAME_MAX ||
	    strlen(at + 1) > ACCOUNT_NAME_MAX)
		return false;
	memcpy(name, user, (size_t)(at - user));
	name[at - user] = '\0';
	memcpy(domain, at + 1, strlen(at + 1) + 1);
	return true;
}

/* The connection whose exchange is running (one at a time: the loop is
 * single-threaded and every exchange step is synchronous), and our own
 * reason for a failure, clearer than what Cyrus says after its fallbacks. */
static struct conn *active_conn;
static char fail_reason[ADDRESS_MAX + 32];

/* The verdict of the password check that ran in the pool for the step now
 * running (login.c): checkpass answers from it when user and password are
 * exactly those checked. */
static struct {
	const char *user;
	const char *password;
	enum auth_step verdict;
	const char *error;
} note;

static bool note_matches(const char *user, const char *pass, unsigned passlen)
{
	return note.user != NULL && strcmp(note.user, user) == 0 &&
	       strlen(note.password) == passlen &&
	       memcmp(note.password, pass, passlen) == 0;
}

static int cb_checkpass(sasl_conn_t *sconn, void *context, const char *user,
			const char *pass, unsigned passlen, struct propctx *propctx)
{
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	char hash[PASSWORD_HASH_MAX], pw[1025];
	struct account account;
	const char *error;
	bool found, ok;

	(void)sconn;
	(void)context;
	(void)propctx;
	if (passlen >= sizeof(pw) || memchr(pass, '\0', passlen) != NULL)
		return SASL_BADAUTH;
	if (note_matches(user, pass, passlen)) {
		if (note.verdict == AUTH_STEP_OK)
			return SASL_OK;
		snprintf(fail_reason, sizeof(fail_reason), "%s", note.error);
		return SASL_BADAUTH;
	}
	if (!split_user(user, name, domain))
		return SASL_NOUSER;
	if (store_account_get(name, domain, &account, hash, sizeof(hash), &found,
			      &error) < 0) {
		if (active_conn != NULL) {
			active_conn->sasl_tempfail = true;
			conn_log(active_conn, LOG_ERROR, "authentication: %s", error);
		}
		return SASL_UNAVAIL;
	}
	memcpy(pw, pass, passlen);
	pw[passlen] = '\0';
	/* login.c checks PLAIN and LOGIN passwords in the pool first; this is
	 * the fallback when the exchange was not what it expected */
	log_msg(LOG_DEBUG, "SASL", "%s: password checked on the event loop", user);
	if (!found) {
		password_verify_dummy(pw);
		explicit_bzero(pw, sizeof(pw));
		snprintf(fail_reason, sizeof(fail_reason), "unknown account %s", user);
		return SASL_NOUSER;
	}
	ok = password_verify_cached(user, pw, hash);
	explicit_bzero(pw, sizeof(pw));
	if (!ok)
		snprintf(fail_reason, sizeof(fail_reason), "wrong password for %s", user);
	return ok ? SASL_OK : SASL_BADAUTH;
}

/* "jsmith", "jsmith@example.com", "jsmith%example.com" -> name@domain, the
 * form the auxprop plugin, checkpass and the session all use. */
static int cb_canon_user(sasl_conn_t *sconn, void *context, const char *in,
			 unsigned inlen, unsigned flags, const char *user_realm,
			 char *out, unsigned out_max, unsigned *out_len)
{
	char raw[LOGIN_STRING_MAX + 1], account[ADDRESS_MAX + 1];
	char mailbox[LOGIN_MAILBOX_MAX + 1], view[ADDRESS_MAX + 1];
	struct account who;
	struct conn *c = context;
	const char *error;
	int n;

	(void)sconn;
	(void)flags;
	(void)user_realm;
	if (inlen == 0 || inlen >= sizeof(raw) || memchr(in, '\0', inlen) != NULL)
		return SASL_BADPROT;
	memcpy(raw, in, inlen);
	raw[inlen] = '\0';
	/* "mailbox#account": the account authenticates, the session opens
	 * the mailbox (an authzid's mailbox wins: it comes second) */
	if (name_login_split(raw, mailbox, account, &error) < 0)
		return SASL_NOUSER;
	if (c != NULL && mailbox[0] != '\0')
		memcpy(conn_login_state(c)->mailbox, mailbox, sizeof(mailbox));
	/* through the Router: aliases, domain aliases and unified accounts
	 * work as with USER/PASS.  Unknown names are left for the password
	 * check to fail (as a valid-looking name), so they cannot be told
	 * from a wrong password. */
	switch (auth_route(account, c ? conn_local_ip(c) : NULL, &who, view,
			   &error)) {
	case AUTH_LOOKUP_FOUND:
		if (c != NULL)
			memcpy(conn_login_state(c)->view, view, sizeof(view));
		n = snprintf(out, out_max, "%s@%s", who.name, who.domain);
		break;
	case AUTH_LOOKUP_TEMPFAIL:
		return SASL_TRYAGAIN;
	default:
		if (c != NULL)
			conn_login_state(c)->view[0] = '\0';
		if (account_resolve(account, c ? conn_local_ip(c) : NULL,
				    who.name, who.domain, &error) < 0)
			return SASL_NOUSER;
		n = snprintf(out, out_max, "%s@%s", who.name, who.domain);
		break;
	}
	if (n < 0 || (unsigned)n >= out_max)
		return SASL_BUFOVER;
	*out_len = (unsigned)n;
	return SASL_OK;
}

/* authzid: acting as another user needs the admin right. */
static int cb_proxy_policy(sasl_conn_t *sconn, void *context,
			   const char *requested_user, unsigned rlen,
			   const char *auth_identity, unsigned alen,
			   const char *def_realm, unsigned urlen,
			   struct propctx *propctx)
{
	char who[ADDRESS_MAX + 1], name[ACCOUNT_NAME_MAX + 1];
	char domain[ACCOUNT_NAME_MAX + 1];
	struct account account;
	const char *error;
	uint32_t flags = 0;
	bool found;

	(void)context;
	(void)def_realm;
	(void)urlen;
	(void)propctx;
	if (rlen == 0 || (rlen == alen && memcmp(requested_user, auth_identity, alen) == 0))
		return SASL_OK;
	if (alen > ADDRESS_MAX)
		return SASL_NOAUTHZ;
	memcpy(who, auth_identity, alen);
	who[alen] = '\0';
	if (!split_user(who, name, domain) ||
	    store_account_get_secrets(name, domain, &account, NULL, &flags,
				      &found, &error) < 0 || !found ||
	    !(flags & ACCOUNT_ADMIN)) {
		snprintf(fail_reason, sizeof(fail_reason),
			 "%s may not act as another user", who);
		/* Cyrus' formatter knows no precision: hand it a finished text */
		sasl_seterror(sconn, SASL_NOLOG, "%s", fail_reason);
		return SASL_NOAUTHZ;
	}
	if (active_conn != NULL)
		conn_log(active_conn, LOG_NOTICE, "admin %s acts as %.*s", who,
			 (int)rlen, requested_user);
	return SASL_OK;
}

/* ---- the "postern" auxprop plugin: authPassword for SCRAM ---- */

static int auxprop_lookup(void *glob_context, sasl_server_params_t *sparams,
			  unsigned flags, const char *user, unsigned ulen)
{
	char who[ADDRESS_MAX + 1], name[ACCOUNT_NAME_MAX + 1];
	char domain[ACCOUNT_NAME_MAX + 1];
	static struct account_secrets sec;
	const struct propval *to_fetch, *cur_prop;
	const struct core_settings *core = core_settings();
	struct account account;
	const char *error;
	bool found;

	(void)glob_context;
	if (ulen > ADDRESS_MAX)
		return SASL_NOUSER;
	memcpy(who, user, ulen);
	who[ulen] = '\0';
	if (!split_user(who, name, domain))
		return SASL_NOUSER;
	to_fetch = sparams->utils->prop_get(sparams->propctx);
	if (to_fetch == NULL)
		return SASL_NOMEM;
	if (store_account_get_secrets(name, domain, &account, &sec, NULL, &found,
				      &error) < 0) {
		if (active_conn != NULL) {
			active_conn->sasl_tempfail = true;
			conn_log(active_conn, LOG_ERROR, "authentication: %s", error);
		}
		return SASL_UNAVAIL;
	}
	if (!found) {
		/* answer as for an existing user; fail at the proof */
		memset(&sec, 0, sizeof(sec));
		if (scram_fake_secrets(who, sec.scram, sizeof(sec.scram)) < 0)
			return SASL_NOUSER;
		if (active_conn != NULL) {
			/* the failure comes steps later: keep the reason */
			free(active_conn->sasl_reason);
			active_conn->sasl_reason = xstrdup(who);
		}
	}
	/* the cleartext copy is used only while the admin allows it */
	if (core == NULL || !core->cleartext_secrets)
		sec.cleartext[0] = '\0';
	for (cur_prop = to_fetch; cur_prop->name != NULL; cur_prop++) {
		const char *realname = cur_prop->name;
		char *value;

		/* "*name" properties belong to the authentication identity */
		if (flags & SASL_AUXPROP_AUTHZID) {
			if (realname[0] == '*')
				continue;
		} else {
			if (realname[0] != '*')
				continue;
			realname++;
		}
		if (strcmp(realname, "authPassword") == 0)
			value = sec.scram;
		else if (strcmp(realname, SASL_AUX_PASSWORD_PROP) == 0)
			value = sec.cleartext;	/* CRAM-MD5, when allowed */
		else
			continue;
		if (value[0] == '\0')
			continue;
		if (cur_prop->values != NULL) {
			if (!(flags & SASL_AUXPROP_OVERRIDE))
				continue;
			sparams->utils->prop_erase(sparams->propctx, cur_prop->name);
		}
		for (char *line = value, *next; line != NULL && *line; line = next) {
			next = value == sec.scram ? strchr(line, '\n') : NULL;
			if (next != NULL)
				*next++ = '\0';
			sparams->utils->prop_set(sparams->propctx, cur_prop->name,
						 line, (int)strlen(line));
		}
	}
	explicit_bzero(&sec, sizeof(sec));
	return SASL_OK;
}

static sasl_auxprop_plug_t auxprop_plugin = {
	.features = 0,
	.auxprop_lookup = auxprop_lookup,
	.name = "postern",
};

static int auxprop_init(const sasl_utils_t *utils, int max_version,
			int *out_version, sasl_auxprop_plug_t **plug,
			const char *plugname)
{
	(void)utils;
	(void)plugname;
	if (max_version < SASL_AUXPROP_PLUG_VERSION)
		return SASL_BADVERS;
	*out_version = SASL_AUXPROP_PLUG_VERSION;
	*plug = &auxprop_plugin;
	return SASL_OK;
}

static sasl_callback_t global_callbacks[] = {
	{ SASL_CB_GETOPT, (int (*)(void))(void *)cb_getopt, NULL },
	{ SASL_CB_LOG, (int (*)(void))(void *)cb_log, NULL },
	{ SASL_CB_SERVER_USERDB_CHECKPASS, (int (*)(void))(void *)cb_checkpass, NULL },
	{ SASL_CB_PROXY_POLICY, (int (*)(void))(void *)cb_proxy_policy, NULL },
	{ SASL_CB_LIST_END, NULL, NULL }
};

void sasl_global_set(const struct auth_settings *set)
{
	size_t off = 0;

	cur = set;
	mech_list[0] = '\0';
	for (size_t i = 0; i < set->mechanisms.count; i++) {
		int n = snprintf(mech_list + off, sizeof(mech_list) - off, "%s%s",
				 off ? " " : "", set->mechanisms.items[i]);

		if (n < 0 || (size_t)n >= sizeof(mech_list) - off)
			break;
		off += (size_t)n;
	}
}

int sasl_global_init(const struct auth_settings *set, const char **error_r)
{
	static char err[256];
	int rc;

	sasl_global_set(set);
	if (initialised)
		return 0;
	if ((rc = sasl_auxprop_add_plugin("postern", auxprop_init)) != SASL_OK ||
	    (rc = sasl_server_init(global_callbacks, "postern")) != SASL_OK) {
		snprintf(err, sizeof(err), "cannot start Cyrus SASL: %s - is libsasl2-modules installed?",
			 sasl_errstring(rc, NULL, NULL));
		*error_r = err;
		return -1;
	}
	initialised = true;
	return 0;
}

void sasl_global_done(void)
{
	if (initialised)
		sasl_server_done();
	initialised = false;
}

/* ---- per connection ---- */

/* Input held back while its password is checked in the pool. */
struct sasl_wait {
	bool start;		/* sasl_server_start, else _step */
	bool has_initial;
	size_t inlen;
	unsigned char in[];
};

static void wait_free(struct conn *c)
{
	struct sasl_wait *w = c->login != NULL ? c->login->sasl_wait : NULL;

	if (w != NULL) {
		explicit_bzero(w->in, w->inlen);
		free(w);
		c->login->sasl_wait = NULL;
	}
}

void conn_sasl_free(struct conn *c)
{
	if (c->sasl != NULL)
		sasl_dispose((sasl_conn_t **)&c->sasl);
	c->sasl = NULL;
	free(c->sasl_callbacks);
	c->sasl_callbacks = NULL;
	free(c->sasl_reason);
	c->sasl_reason = NULL;
	wait_free(c);
	if (c->login != NULL)
		explicit_bzero(c->login->sasl_user, sizeof(c->login->sasl_user));
}

static int sasl_new(struct conn *c, const char *service)
{
	sasl_security_properties_t props;
	sasl_callback_t *cbs;
	sasl_conn_t *sconn;
	int rc;

	conn_sasl_free(c);
	cbs = calloc(2, sizeof(*cbs));
	if (cbs == NULL)
		return SASL_NOMEM;
	cbs[0].id = SASL_CB_CANON_USER;
	cbs[0].proc = (int (*)(void))(void *)cb_canon_user;
	cbs[0].context = c;
	cbs[1].id = SASL_CB_LIST_END;
	rc = sasl_server_new(service, NULL, NULL, NULL, NULL, cbs, 0, &sconn);
	if (rc != SASL_OK) {
		free(cbs);
		return rc;
	}
	memset(&props, 0, sizeof(props));
	/* no SASL security layers: TLS protects the channel */
	props.max_ssf = 0;
	props.security_flags = SASL_SEC_NOANONYMOUS;
	if (!conn_plaintext_allowed(c))
		props.security_flags |= SASL_SEC_NOPLAINTEXT;
	sasl_setprop(sconn, SASL_SEC_PROPS, &props);
	c->sasl = sconn;
	c->sasl_callbacks = cbs;
	return SASL_OK;
}

const char *conn_sasl_mechs(struct conn *c, const char *service)
{
	static char list[256];
	const char *result;
	unsigned len;
	int count;

	if (!initialised || sasl_new(c, service) != SASL_OK ||
	    sasl_listmech(c->sasl, NULL, "", " ", "", &result, &len, &count) != SASL_OK) {
		conn_sasl_free(c);
		return "";
	}
	snprintf(list, sizeof(list), "%.*s", (int)len, result);
	conn_sasl_free(c);
	return list;
}

/* Answer the module with an exchange step's result. */
static void finish_step(struct conn *c, int rc, const char *out,
			unsigned outlen)
{
	static char err[ADDRESS_MAX + 64];
	struct auth_reply reply = { .step = AUTH_STEP_FAILED };
	const void *username;
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	const char *serror;
	bool found;

	active_conn = NULL;
	if (rc == SASL_CONTINUE) {
		/* Cyrus keeps `out` until the next call on this sasl_conn */
		reply.step = AUTH_STEP_CONTINUE;
		reply.out = out;
		reply.outlen = outlen;
		login_answer(c, &reply);
		return;
	}
	if (rc == SASL_OK) {
		if (sasl_getprop(c->sasl, SASL_USERNAME, &username) != SASL_OK ||
		    !split_user(username, name, domain) ||
		    store_account_get(name, domain, &reply.account, NULL, 0,
				      &found, &serror) < 0 || !found) {
			reply.step = AUTH_STEP_TEMPFAIL;
			reply.error = "authenticated user vanished";
		} else {
			reply.step = AUTH_STEP_OK;
		}
		conn_sasl_free(c);
		login_answer(c, &reply);
		return;
	}
	if (c->sasl_reason != NULL)
		snprintf(err, sizeof(err), "unknown account %s", c->sasl_reason);
	else if (fail_reason[0] != '\0')
		snprintf(err, sizeof(err), "%s", fail_reason);
	else
		snprintf(err, sizeof(err), "%s", sasl_errdetail(c->sasl));
	reply.error = err;
	bool temp = c->sasl_tempfail || rc == SASL_UNAVAIL || rc == SASL_NOMEM ||
		    rc == SASL_FAIL;
	conn_sasl_free(c);
	if (rc == SASL_NOMECH || rc == SASL_TOOWEAK || rc == SASL_ENCRYPT)
		reply.step = AUTH_STEP_NOMECH;
	else if (temp)
		reply.step = AUTH_STEP_TEMPFAIL;
	login_answer(c, &reply);
}

static void run_exchange(struct conn *c, bool start, const void *in,
			 size_t inlen, bool has_initial)
{
	const char *out = NULL;
	unsigned outlen = 0;
	int rc;

	active_conn = c;
	fail_reason[0] = '\0';
	if (start)
		rc = sasl_server_start(c->sasl, c->login->sasl_mech,
				       has_initial ? in : NULL, (unsigned)inlen,
				       &out, &outlen);
	else
		rc = sasl_server_step(c->sasl, in, (unsigned)inlen, &out, &outlen);
	finish_step(c, rc, out, outlen);
}

/* The password is checked: run the held step.  Its checkpass finds the
 * verdict in `note` instead of hashing again. */
static void on_checked(struct conn *c, const struct login_verdict *v)
{
	struct sasl_wait *w = c->login->sasl_wait;

	c->login->sasl_wait = NULL;
	if (v->step == AUTH_STEP_TEMPFAIL || c->sasl == NULL) {
		struct auth_reply reply = { .step = AUTH_STEP_TEMPFAIL,
					    .error = v->error };

		login_answer(c, &reply);
	} else {
		note.user = v->user;
		note.password = v->password;
		note.verdict = v->step;
		note.error = v->error;
		run_exchange(c, w->start, w->in, w->inlen, w->has_initial);
		memset(&note, 0, sizeof(note));
	}
	explicit_bzero(w->in, w->inlen);
	free(w);
}

/* Does this input carry a password (PLAIN's message, LOGIN's second
 * answer)?  Then *login_r and *password_r point into the buffers given.
 * Guessing wrong costs nothing but speed: checkpass hashes on the loop when
 * the note does not match exactly. */
static bool find_password(struct conn *c, bool start, const unsigned char *in,
			  size_t inlen, bool has_initial, char login[LOGIN_STRING_MAX + 1],
			  char *password, size_t size)
{
	if (strcasecmp(c->login->sasl_mech, "PLAIN") == 0) {
		/* RFC 4616: [authzid] NUL authcid NUL passwd */
		const unsigned char *nul1, *nul2;

		if ((start && !has_initial) || inlen == 0)
			return false;
		nul1 = memchr(in, '\0', inlen);
		if (nul1 == NULL)
			return false;
		nul2 = memchr(nul1 + 1, '\0', inlen - (size_t)(nul1 + 1 - in));
		if (nul2 == NULL || nul2 == nul1 + 1 ||
		    (size_t)(nul2 - nul1 - 1) > LOGIN_STRING_MAX ||
		    inlen - (size_t)(nul2 + 1 - in) >= size ||
		    memchr(nul2 + 1, '\0', inlen - (size_t)(nul2 + 1 - in)) != NULL)
			return false;
		memcpy(login, nul1 + 1, (size_t)(nul2 - nul1 - 1));
		login[nul2 - nul1 - 1] = '\0';
		memcpy(password, nul2 + 1, inlen - (size_t)(nul2 + 1 - in));
		password[inlen - (size_t)(nul2 + 1 - in)] = '\0';
		return password[0] != '\0';
	}
	if (strcasecmp(c->login->sasl_mech, "LOGIN") == 0) {
		/* Cyrus' LOGIN: user name (initial response or the answer to
		 * "Username:"), then the password */
		bool gives_user = start ? has_initial && inlen > 0 : c->login->sasl_stage == 1;

		if (start)
			c->login->sasl_stage = 1;
		if (gives_user) {
			if (inlen >= sizeof(c->login->sasl_user) ||
			    memchr(in, '\0', inlen) != NULL)
				return false;
			memcpy(c->login->sasl_user, in, inlen);
			c->login->sasl_user[inlen] = '\0';
			c->login->sasl_stage = 2;
			return false;
		}
		if (start || c->login->sasl_stage != 2 || inlen == 0 || inlen >= size ||
		    memchr(in, '\0', inlen) != NULL)
			return false;
		c->login->sasl_stage = 3;
		memcpy(login, c->login->sasl_user, sizeof(c->login->sasl_user));
		memcpy(password, in, inlen);
		password[inlen] = '\0';
		return true;
	}
	return false;
}

/* One step: held for a password check, or run now. */
static void exchange(struct conn *c, bool start, const void *in, size_t inlen,
		     bool has_initial)
{
	char login[LOGIN_STRING_MAX + 1], password[1025];

	if (find_password(c, start, in, inlen, has_initial, login, password,
			  sizeof(password))) {
		struct sasl_wait *w = xmalloc(sizeof(*w) + inlen + 1);

		w->start = start;
		w->has_initial = has_initial;
		w->inlen = inlen;
		memcpy(w->in, in, inlen);
		wait_free(c);
		c->login->sasl_wait = w;
		login_check(c, login, password, on_checked);
		explicit_bzero(password, sizeof(password));
		return;
	}
	run_exchange(c, start, in, inlen, has_initial);
}

void conn_sasl_start(struct conn *c, const char *service, const char *mech,
		     const void *in, size_t inlen, bool has_initial,
		     auth_done_fn *done)
{
	login_owe(c, done);
	if (!initialised || sasl_new(c, service) != SASL_OK) {
		struct auth_reply reply = { .step = AUTH_STEP_TEMPFAIL,
					    .error = "SASL is not available" };

		login_answer(c, &reply);
		return;
	}
	c->sasl_tempfail = false;
	c->login->mailbox[0] = '\0';
	snprintf(c->login->sasl_mech, sizeof(c->login->sasl_mech), "%s", mech);
	c->login->sasl_stage = 0;
	exchange(c, true, in, inlen, has_initial);
}

void conn_sasl_step(struct conn *c, const void *in, size_t inlen,
		    auth_done_fn *done)
{
	login_owe(c, done);
	if (c->sasl == NULL) {
		struct auth_reply reply = { .step = AUTH_STEP_FAILED,
					    .error = "no authentication in progress" };

		login_answer(c, &reply);
		return;
	}
	exchange(c, false, in, inlen, true);
}

void conn_sasl_abort(struct conn *c)
{
	conn_sasl_free(c);
}

int base64_decode(const char *in, size_t inlen, void *out, size_t outsize,
		  size_t *outlen_r)
{
	unsigned len = 0;

	if (inlen > UINT32_MAX || outsize > UINT32_MAX ||
	    sasl_decode64(in, (unsigned)inlen, out, (unsigned)outsize, &len) != SASL_OK)
		return -1;
	*outlen_r = len;
	return 0;
}

int base64_encode(const void *in, size_t inlen, char *out, size_t outsize)
{
	unsigned len = 0;

	if (inlen > UINT32_MAX || outsize > UINT32_MAX ||
	    sasl_encode64(in, (unsigned)inlen, out, (unsigned)outsize, &len) != SASL_OK)
		return -1;
	return (int)len;
}

/* sasl_client.c - the client side of authentication, for the retrieval
 * module's logins to remote POP3 servers (module API): Cyrus SASL's client
 * for AUTH PLAIN.  (APOP's digest is mail/auth.c's.) */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "lib/xalloc.h"
#include "postern/module.h"

struct client_secrets {
	const char *user;
	sasl_secret_t *secret;
};

static int cb_user(void *context, int id, const char **result, unsigned *len)
{
	struct client_secrets *cs = context;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	*result = cs->user;
	if (len != NULL)
		*len = (unsigned)strlen(cs->user);
	return SASL_OK;
}

static int cb_pass(sasl_conn_t *conn, void *context, int id,
		   sasl_secret_t **psecret)
{
	struct client_secrets *cs = context;

	(void)conn;
	if (id != SASL_CB_PASS)
		return SASL_BADPARAM;
	*psecret = cs->secret;
	return SASL_OK;
}

int sasl_client_initial(const char *service, const char *host,
			const char *mech, const char *user,
			const char *password, char **out, size_t *outlen,
			const char **error_r)
{
	static bool initialised;
	static char err[256];
	struct client_secrets cs = { user, NULL };
	size_t plen = strlen(password);
	sasl_callback_t callbacks[] = {
		{ SASL_CB_USER, (int (*)(void))(void *)cb_user, &cs },
		{ SASL_CB_AUTHNAME, (int (*)(void))(void *)cb_user, &cs },
		{ SASL_CB_PASS, (int (*)(void))(void *)cb_pass, &cs },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	sasl_conn_t *conn = NULL;
	const char *data = NULL, *chosen = NULL;
	unsigned int len = 0;
	int rc;

	if (!initialised) {
		if ((rc = sasl_client_init(NULL)) != SASL_OK) {
			snprintf(err, sizeof(err), "cannot start Cyrus SASL's client: %s",
				 sasl_errstring(rc, NULL, NULL));
			*error_r = err;
			return -1;
		}
		initialised = true;
	}
	cs.secret = xmalloc(sizeof(*cs.secret) + plen + 1);
	cs.secret->len = plen;
	memcpy(cs.secret->data, password, plen + 1);
	rc = sasl_client_new(service, host, NULL, NULL, callbacks, 0, &conn);
	if (rc == SASL_OK)
		rc = sasl_client_start(conn, mech, NULL, &data, &len, &chosen);
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		snprintf(err, sizeof(err), "SASL %s: %s", mech,
			 conn != NULL ? sasl_errdetail(conn)
				      : sasl_errstring(rc, NULL, NULL));
		*error_r = err;
		rc = -1;
	} else {
		*out = xmalloc(len + 1);
		memcpy(*out, data != NULL ? data : "", len);
		(*out)[len] = '\0';
		*outlen = len;
		rc = 0;
	}
	if (conn != NULL)
		sasl_dispose(&conn);
	explicit_bzero(cs.secret, sizeof(*cs.secret) + plen + 1);
	free(cs.secret);
	return rc;
}

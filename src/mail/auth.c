/* auth.c - who a login name is, and APOP (module API auth_login_apop). */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/auth.h"
#include "mail/names.h"
#include "mail/password.h"
#include "mail/router.h"
#include "store/store_ops.h"

int account_resolve(const char *address, const char *local_ip,
		    char *name_r, char *domain_r, const char **error_r)
{
	if (name_address_split(address, name_r, domain_r, error_r) < 0)
		return -1;
	if (domain_r[0] != '\0')
		return 0;
	return router_default_domain(local_ip, domain_r, error_r) == ROUTE_OK ? 0 : -1;
}

enum auth_lookup auth_route(const char *login, const char *local_ip,
			    struct account *account_r, char *view_r,
			    const char **error_r)
{
	static char err[ADDRESS_MAX + 64];
	struct route r;

	view_r[0] = '\0';
	switch (router_resolve(login, local_ip, &r, error_r)) {
	case ROUTE_OK:
		break;
	case ROUTE_TEMPFAIL:
		return AUTH_LOOKUP_TEMPFAIL;
	case ROUTE_UNKNOWN:
	case ROUTE_BAD_ADDRESS:
		/* the same words as SASL's: "unknown account x@d" once the
		 * domain is known, else the Router's reason */
		if (r.address[0] != '\0')
			snprintf(err, sizeof(err), "unknown account %s", r.address);
		else
			snprintf(err, sizeof(err), "unknown account: %s", *error_r);
		*error_r = err;
		return AUTH_LOOKUP_UNKNOWN;
	}
	/* "mailbox#" was split off the login before: a '#' left is no
	 * Direct Mailbox Addressing here */
	if (r.rule == ROUTE_MAILBOX) {
		snprintf(err, sizeof(err), "unknown account: %s", r.address);
		*error_r = err;
		return AUTH_LOOKUP_UNKNOWN;
	}
	*account_r = r.account;
	if (r.rule == ROUTE_UNIFIED)
		snprintf(view_r, ADDRESS_MAX + 1, "%s", r.address);
	return AUTH_LOOKUP_FOUND;
}

enum auth_lookup auth_lookup(const char *login, const char *local_ip,
			     struct account *account_r, char *hash_r,
			     size_t hash_size, char *user_r, char *view_r,
			     const char **error_r)
{
	enum auth_lookup res;
	bool found;

	user_r[0] = '\0';
	res = auth_route(login, local_ip, account_r, view_r, error_r);
	if (res != AUTH_LOOKUP_FOUND)
		return res;
	snprintf(user_r, ADDRESS_MAX + 1, "%s@%s", account_r->name,
		 account_r->domain);
	if (store_account_get(account_r->name, account_r->domain, account_r,
			      hash_r, hash_size, &found, error_r) < 0)
		return AUTH_LOOKUP_TEMPFAIL;
	if (!found) {
		*error_r = "the account was removed during the login";
		return AUTH_LOOKUP_UNKNOWN;
	}
	return AUTH_LOOKUP_FOUND;
}

bool auth_apop_available(void)
{
	const struct core_settings *set = core_settings();

	return set != NULL && set->cleartext_secrets;
}

/* MD5(timestamp password) as 32 lower-case hex digits (RFC 1939 APOP):
 * the server's check here, the retrieval module's login (module API). */
void apop_digest(const char *timestamp, const char *password, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	hex[0] = '\0';
	if (ctx == NULL)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, timestamp, strlen(timestamp)) == 1 &&
	    EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == 16) {
		for (unsigned int i = 0; i < 16; i++) {
			hex[i * 2] = digits[md[i] >> 4];
			hex[i * 2 + 1] = digits[md[i] & 15];
		}
		hex[32] = '\0';
	}
	EVP_MD_CTX_free(ctx);
}

enum auth_result auth_login_apop(const char *login, const char *timestamp,
				 const char *digest, const char *local_ip,
				 struct account *account_r, const char **mailbox_r,
				 const char **view_r, const char **error_r)
{
	static char err[ADDRESS_MAX + 64];
	static struct account_secrets sec;
	static char mailbox[LOGIN_MAILBOX_MAX + 1], view[ADDRESS_MAX + 1];
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	char expect[33], given[33], account[ADDRESS_MAX + 1];
	size_t len = strlen(digest);
	bool found, ok;

	*mailbox_r = mailbox;
	*view_r = view;
	view[0] = '\0';
	if (name_login_split(login, mailbox, account, error_r) < 0)
		return AUTH_FAILED;
	login = account;

	if (!auth_apop_available()) {
		*error_r = "APOP is not enabled (auth.cleartext_secrets)";
		return AUTH_FAILED;
	}
	if (len != 32) {
		*error_r = "APOP digest is not 32 hex digits";
		return AUTH_FAILED;
	}
	switch (auth_route(login, local_ip, account_r, view, error_r)) {
	case AUTH_LOOKUP_FOUND:
		break;
	case AUTH_LOOKUP_UNKNOWN:
		return AUTH_FAILED;
	case AUTH_LOOKUP_TEMPFAIL:
		return AUTH_TEMPFAIL;
	}
	snprintf(name, sizeof(name), "%s", account_r->name);
	snprintf(domain, sizeof(domain), "%s", account_r->domain);
	for (size_t i = 0; i <= len; i++)
		given[i] = (char)tolower((unsigned char)digest[i]);
	if (store_account_get_secrets(name, domain, account_r, &sec, NULL, &found,
				      error_r) < 0)
		return AUTH_TEMPFAIL;
	if (!found || sec.cleartext[0] == '\0') {
		snprintf(err, sizeof(err), found ?
			 "no APOP secret stored for %s@%s (reset the password)" :
			 "unknown account %s@%s", name, domain);
		*error_r = err;
		explicit_bzero(&sec, sizeof(sec));
		return AUTH_FAILED;
	}
	apop_digest(timestamp, sec.cleartext, expect);
	explicit_bzero(&sec, sizeof(sec));
	ok = expect[0] != '\0' && CRYPTO_memcmp(expect, given, 32) == 0;
	if (!ok) {
		snprintf(err, sizeof(err), "wrong APOP digest for %s@%s", name, domain);
		*error_r = err;
		return AUTH_FAILED;
	}
	return AUTH_OK;
}

/* store_settings.h - settings an admin gives the server, a domain or an
 * account (enabled services, POP policies), kept as text under their key.
 * What the keys mean, their values and how levels combine is
 * mail/policy.c's; the store only keeps them and removes them with their
 * domain or account. */
#ifndef PN_STORE_SETTINGS_H
#define PN_STORE_SETTINGS_H

#include <stdbool.h>

#include <lmdb.h>

#define SETTING_KEY_MAX 32
#define SETTING_VALUE_MAX 255

enum setting_level { SETTING_SERVER, SETTING_DOMAIN, SETTING_ACCOUNT };

/* Set (value) or remove (value NULL: inherit again) one key.  domain ""
 * is the server level; account "" the domain level.  The domain or
 * account must exist.  Names are lower case (mail/names.h). */
int store_setting_set(const char *domain, const char *account, const char *key,
		      const char *value, const char **error_r);

/* Every key set for the server, for `domain` and for `account` (account
 * "" or NULL: domain and server only; domain "" too: server only), in one
 * read transaction: cb(level, key, value), server first. */
typedef void store_setting_cb(enum setting_level level, const char *key,
			      const char *value, void *ctx);
int store_settings_for(const char *domain, const char *account,
		       store_setting_cb *cb, void *ctx, const char **error_r);

/* Inside account/domain removal: their keys go with them. */
int store_settings_remove_txn(MDB_txn *txn, const char *domain,
			      const char *account);

#endif

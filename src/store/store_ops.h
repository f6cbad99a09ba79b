/* store_ops.h - domains, accounts, mailboxes and messages in the store.
 * Names reaching these functions are already checked and lower-cased
 * (mail/names.h); the store enforces existence and uniqueness. */
#ifndef PN_STORE_OPS_H
#define PN_STORE_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "postern/module.h"
#include "store/body.h"

#define PASSWORD_HASH_MAX 512

/* Domains. */
int store_domain_add(const char *domain, const char **error_r);
int store_domain_del(const char *domain, const char **error_r);
int store_domain_exists(const char *domain, bool *exists_r, const char **error_r);
typedef void store_name_cb(const char *name, void *ctx);
int store_domain_list(store_name_cb *cb, void *ctx, const char **error_r);

/* Accounts (INBOX is created with the account). */
#define ACCOUNT_ADMIN 0x0001u		/* may act as other users (authzid) */
#define ACCOUNT_SCRAM_MAX 400
#define ACCOUNT_CLEARTEXT_MAX 1024

/* What is stored to check a password: a crypt hash always, SCRAM secrets
 * (RFC 5803, one per line), and only where auth.cleartext_secrets allows
 * it, a plaintext-equivalent copy for CRAM-MD5 and APOP. */
struct account_secrets {
	char hash[PASSWORD_HASH_MAX];
	char scram[ACCOUNT_SCRAM_MAX];
	char cleartext[ACCOUNT_CLEARTEXT_MAX + 1];
};

int store_account_add(const char *name, const char *domain,
		      const struct account_secrets *secrets,
		      struct account *account_r, const char **error_r);
/* *found_r false (and 0 returned) when there is no such account. */
int store_account_get(const char *name, const char *domain,
		      struct account *account_r, char *hash_r, size_t hash_size,
		      bool *found_r, const char **error_r);
/* Everything: secrets_r and flags_r may be NULL. */
int store_account_get_secrets(const char *name, const char *domain,
			      struct account *account_r,
			      struct account_secrets *secrets_r,
			      uint32_t *flags_r, bool *found_r,
			      const char **error_r);
int store_account_set_secrets(const char *name, const char *domain,
			      const struct account_secrets *secrets,
			      const char **error_r);
/* Set and clear flag bits (ACCOUNT_*). */
int store_account_set_flags(const char *name, const char *domain,
			    uint32_t set, uint32_t clear, const char **error_r);
/* Removes the account with all its mailboxes and messages. */
int store_account_del(const char *name, const char *domain,
		      const char **error_r);
typedef void store_account_cb(const struct account *account, void *ctx);
/* domain NULL: every account. */
int store_account_list(const char *domain, store_account_cb *cb, void *ctx,
		       const char **error_r);

/* Mailboxes. */
struct mailbox_stat {
	const char *name;
	uint64_t id;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint32_t messages;
	uint64_t size;
};
typedef void store_mailbox_cb(const struct mailbox_stat *st, void *ctx);
int store_mailbox_list(const struct account *account, store_mailbox_cb *cb,
		       void *ctx, const char **error_r);

/* Messages: add a finished body to a mailbox; the UIDL is generated unless
 * custom_uidl (1-70 octets 0x21-0x7e) is given. */
int store_message_add(const struct account *account, const char *mailbox,
		      const struct body_info *body, const char *custom_uidl,
		      uint32_t *uid_r, const char **error_r);

/* A UIDL the store would accept. */
bool uidl_valid(const char *uidl);

#endif

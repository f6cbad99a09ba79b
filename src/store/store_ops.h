/* store_ops.h - domains, accounts, mailboxes, ACLs and messages in the store.
 * Names reaching these functions are already checked and lower-cased
 * (mail/names.h); the store enforces existence and uniqueness. */
#ifndef PN_STORE_OPS_H
#define PN_STORE_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "mail/acl.h"
#include "postern/module.h"
#include "store/body.h"

#define PASSWORD_HASH_MAX 512

/* Domains. */
int store_domain_add(const char *domain, const char **error_r);
/* Refused while the domain has accounts; removes "anyone@domain" entries. */
int store_domain_del(const char *domain, const char **error_r);
int store_domain_exists(const char *domain, bool *exists_r, const char **error_r);
typedef void store_name_cb(const char *name, void *ctx);
int store_domain_list(store_name_cb *cb, void *ctx, const char **error_r);

/* A domain's settings. */
struct domain_info {
	char name[ACCOUNT_NAME_MAX + 1];
	uint64_t created;
	/* the unified (catch-all) account: takes mail for every unknown local
	 * part (SPEC.md 4); "" = none */
	char unified[ACCOUNT_NAME_MAX + 1];
};
/* `name` may be a domain or a domain alias: *found_r false when neither;
 * info_r describes the domain it stands for. */
int store_domain_get(const char *name, struct domain_info *info_r,
		     bool *found_r, const char **error_r);
/* account "" clears; otherwise the account must exist in the domain. */
int store_domain_set_unified(const char *domain, const char *account,
			     const char **error_r);

/* Domain aliases: another name for a domain, in mail addresses and logins.
 * The alias must not be a domain or an alias already. */
int store_domain_alias_add(const char *alias, const char *domain,
			   const char **error_r);
int store_domain_alias_del(const char *alias, const char **error_r);
/* domain NULL: every alias.  cb(alias, domain). */
typedef void store_pair_cb(const char *a, const char *b, void *ctx);
int store_domain_alias_list(const char *domain, store_pair_cb *cb, void *ctx,
			    const char **error_r);

/* Local addresses bound to domains: a login or recipient without a domain
 * that came in on `address` belongs to the bound domain.  `address` is a
 * numeric IPv4 or IPv6 address in its canonical text form. */
int store_binding_set(const char *address, const char *domain,
		      const char **error_r);
int store_binding_del(const char *address, const char **error_r);
/* *found_r false (domain_r "") when the address is not bound. */
int store_binding_get(const char *address, char *domain_r, bool *found_r,
		      const char **error_r);
/* cb(address, domain). */
int store_binding_list(store_pair_cb *cb, void *ctx, const char **error_r);

/* Account aliases: alias@domain stands for account@domain.  An alias
 * cannot have an account's name and an account cannot be made under an
 * alias's name; removing the account removes its aliases. */
int store_alias_add(const char *alias, const char *domain, const char *account,
		    const char **error_r);
int store_alias_del(const char *alias, const char *domain,
		    const char **error_r);
/* account_r: ACCOUNT_NAME_MAX + 1 octets. */
int store_alias_get(const char *alias, const char *domain, char *account_r,
		    bool *found_r, const char **error_r);
/* domain NULL: every domain.  cb("alias@domain", "account@domain"). */
int store_alias_list(const char *domain, store_pair_cb *cb, void *ctx,
		     const char **error_r);

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
/* The storage quota in octets over all mailboxes; 0 = none. */
int store_account_set_quota(const char *name, const char *domain,
			    uint64_t quota, const char **error_r);

/* What an account holds and may hold. */
struct account_info {
	uint32_t flags;
	uint64_t created;
	uint64_t quota;		/* 0: none */
	uint64_t used;		/* octets in all its mailboxes */
	uint64_t messages;	/* messages in all its mailboxes */
};
int store_account_info(const char *name, const char *domain,
		       struct account *account_r, struct account_info *info_r,
		       bool *found_r, const char **error_r);
/* Removes the account with all its mailboxes, their messages and ACLs, and
 * every ACL entry naming the account, so that an account made later under
 * the same name inherits no rights. */
int store_account_del(const char *name, const char *domain,
		      const char **error_r);
typedef void store_account_cb(const struct account *account, void *ctx);
/* domain NULL: every account. */
int store_account_list(const char *domain, store_account_cb *cb, void *ctx,
		       const char **error_r);
/* One page of a domain's accounts whose names start with `prefix` (lower
 * case; "" for all), in name order: entries offset .. offset+limit-1 to
 * cb (inside the read transaction: cb must not call the store), and in
 * *total_r how many match in all.  limit 0 (cb NULL) only counts. */
int store_account_page(const char *domain, const char *prefix, size_t offset,
		       size_t limit, store_account_cb *cb, void *ctx,
		       size_t *total_r, const char **error_r);

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

/* A mailbox's record.  Its id never changes, also across renames:
 * messages, UIDs, Seen flags and ACL entries are keyed by it. */
struct mailbox_rec {
	uint64_t id;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t created;
};

/* Look a mailbox of owner up by name (one point lookup, no message count).
 * *found_r false (and 0 returned) when there is no such mailbox. */
int store_mailbox_find(const struct account *owner, const char *name,
		       struct mailbox_rec *rec_r, bool *found_r,
		       const char **error_r);

/* Create a mailbox (name_mailbox_check rules).  Its parent levels need not
 * exist: "lists/info" can be made without "lists", as in CommuniGate and
 * IMAP, where intermediate levels are only name prefixes. */
int store_mailbox_add(const struct account *account, const char *name,
		      const char **error_r);

/* Rename a mailbox and every sub-mailbox ("old/..." becomes "new/...") in
 * one transaction, keeping their ids, so messages, UIDVALIDITY, UIDs, Seen
 * flags and ACLs go along.  Refused for INBOX, when new_name or a renamed
 * sub-mailbox's new name exists, and into old_name's own subtree.
 * *count_r: how many mailboxes were renamed (1 + sub-mailboxes). */
int store_mailbox_rename(const struct account *account, const char *old_name,
			 const char *new_name, unsigned int *count_r,
			 const char **error_r);

/* Remove one mailbox with its messages and ACL entries; its sub-mailboxes
 * stay (as IMAP DELETE).  INBOX cannot be removed.  Bodies are unlinked
 * after the commit.  *messages_r: how many messages went with it. */
int store_mailbox_del(const struct account *account, const char *name,
		      uint32_t *messages_r, const char **error_r);

/* ACLs (store_acl.c): entries (mailbox, identifier) -> rights, see
 * mail/acl.h.  The mailbox is named by owner and name; "no mailbox X in
 * account Y" when absent. */
/* Set identifier's entry (mode ACL_MODE_REPLACE), or add rights to it or
 * remove rights from it (ACL_MODE_ADD, ACL_MODE_REMOVE; a missing entry
 * counts as no rights).  The account or domain the identifier names must
 * exist, and it must not be the owner (who has every right anyway).  An
 * entry left with no rights is removed: rights are a union, so an empty
 * entry would change nothing.  *rights_r: the entry's rights now. */
int store_acl_set(const struct account *owner, const char *mailbox,
		  const struct acl_identifier *id, enum acl_mode mode,
		  unsigned int rights, unsigned int *rights_r,
		  const char **error_r);
/* The entry for exactly this identifier; *found_r false when none. */
int store_acl_get(const struct account *owner, const char *mailbox,
		  const struct acl_identifier *id, unsigned int *rights_r,
		  bool *found_r, const char **error_r);
/* Every entry of a mailbox, in identifier order (the owner not included). */
typedef void store_acl_cb(const char *identifier, unsigned int rights,
			  void *ctx);
int store_acl_list(const struct account *owner, const char *mailbox,
		   store_acl_cb *cb, void *ctx, const char **error_r);
/* Remove an entry; an error when there is none. */
int store_acl_del(const struct account *owner, const char *mailbox,
		  const struct acl_identifier *id, const char **error_r);
/* What `user` may do in mailbox `mailbox_id` of `owner`: every right
 * (ACL_ALL) for the owner, otherwise the union (RFC 4314) of the entries
 * for "name@domain", "anyone@domain" and "anyone": three point lookups in
 * one read transaction, cheap enough for every login. */
int store_acl_rights(const struct account *owner, uint64_t mailbox_id,
		     const struct account *user, unsigned int *rights_r,
		     const char **error_r);

/* Messages: add a finished body to a mailbox; the UIDL is generated unless
 * custom_uidl (1-70 octets 0x21-0x7e) is given.  No quota applies (admin
 * imports). */
int store_message_add(const struct account *account, const char *mailbox,
		      const struct body_info *body, const char *custom_uidl,
		      uint32_t *uid_r, const char **error_r);
/* The same, with the date the message arrived (an import of old mail
 * keeps its date; 0 = now): what pop_from and EXPIRE compare against. */
int store_message_add_dated(const struct account *account, const char *mailbox,
			    const struct body_info *body, const char *custom_uidl,
			    uint64_t internal_date, uint32_t *uid_r,
			    const char **error_r);

/* Local delivery: several finished bodies, each into one mailbox, in one
 * transaction (one commit, one fsync for a message to many accounts).
 * Each target succeeds or fails on its own; -1 only for a store fault,
 * when nothing was stored. */
enum store_target_result {
	STORE_TARGET_OK,
	STORE_TARGET_NO_ACCOUNT,	/* removed since it was routed */
	STORE_TARGET_NO_MAILBOX,
	STORE_TARGET_OVER_QUOTA,
	STORE_TARGET_FULL,		/* the mailbox has used up its UIDs */
	STORE_TARGET_DUPLICATE,		/* retrieval_key is stored already */
};
struct store_target {
	const struct account *account;
	const char *mailbox;
	const struct body_info *body;
	/* lower-case addresses this copy was delivered for, separated by
	 * spaces ("abcdef@client1.com xyz@client1.com"), kept for X-Real-To
	 * views; "" for none */
	const char *realto;
	/* a fetched message (store_retrieval.h): its source and key, noted
	 * with it - or, noted already, the message is not stored again;
	 * retrieval_source 0 for none */
	uint64_t retrieval_source;
	const char *retrieval_key;
	enum store_target_result result;	/* out */
	uint32_t uid;				/* out, with OK */
};
int store_deliver(struct store_target *targets, size_t count,
		  const char **error_r);

/* A UIDL the store would accept. */
bool uidl_valid(const char *uidl);

#endif

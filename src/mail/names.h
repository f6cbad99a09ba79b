/* names.h - what a domain, account and mailbox name may be (SPEC.md 1). */
#ifndef PN_NAMES_H
#define PN_NAMES_H

#include <stddef.h>

#include "postern/module.h"


/* Domains and accounts: 1-128 octets of letters, digits, '_', '-', '.',
 * not starting or ending with a dot, no "..".  Case-insensitive: the
 * lower-case form is written to out (ACCOUNT_NAME_MAX + 1 octets). */
int name_object_check(const char *name, char *lower_out, const char **error_r);

/* A new domain or domain alias: as above, and (RFC 1123) no part between
 * dots starts or ends with '-'. */
int name_domain_check(const char *name, char *lower_out, const char **error_r);

/* Mailboxes: case-sensitive, '/' separates levels; at most 255 octets, no
 * empty level, no "." or ".." level, no control characters, not starting
 * with '~'. */
int name_mailbox_check(const char *name, const char **error_r);

/* Split "account@domain" or "account%domain" (last separator wins).  With
 * no domain part, *domain_r is "" .  Both checked and lowered. */
int name_address_split(const char *address, char *account_r, char *domain_r,
		       const char **error_r);

/* A POP login string (SPEC 1): "[~owner[@domain]/]mailbox#account[@domain]".
 * Split at the LAST '#': account_r (ADDRESS_MAX + 1 octets) gets the right
 * side, the one who authenticates; mailbox_r (LOGIN_MAILBOX_MAX + 1 octets)
 * the left side, "" when there is no '#' (the INBOX).  Only the split is
 * checked here; the parts are checked where they are used. */
#define LOGIN_MAILBOX_MAX (ACCOUNT_NAME_MAX * 2 + 3 + MAILBOX_NAME_MAX)
/* A whole login name: mailbox, '#', account. */
#define LOGIN_STRING_MAX (LOGIN_MAILBOX_MAX + 1 + ADDRESS_MAX)
int name_login_split(const char *login, char *mailbox_r, char *account_r,
		     const char **error_r);

/* A mailbox reference: "name" (the user's own) or "~owner[@domain]/name".
 * owner_r (ADDRESS_MAX + 1 octets) gets "owner[@domain]", or "" for the
 * user's own; name_r (MAILBOX_NAME_MAX + 1 octets) the mailbox name,
 * checked with name_mailbox_check (so never ""). */
int name_mailbox_ref_split(const char *ref, char *owner_r, char *name_r,
			   const char **error_r);

/* The local part of a mail address (RFC 5321 dot-atom): 1-64 octets of
 * letters, digits and !#$%&'*+-/=?^_`{|}~ with single dots between them.
 * Quoted local parts are refused. */
#define LOCAL_PART_MAX 64
int name_local_part_check(const char *local, const char **error_r);

/* A numeric IPv4 or IPv6 address in canonical text form (out: at least
 * INET6_ADDRSTRLEN octets); an IPv4-mapped IPv6 address becomes IPv4. */
#define IP_TEXT_MAX 46
int name_ip_canonical(const char *in, char *out, const char **error_r);

#endif

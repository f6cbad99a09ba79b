/* names.h - what a domain, account and mailbox name may be (SPEC.md 1). */
#ifndef PN_NAMES_H
#define PN_NAMES_H

#include <stddef.h>

#define MAILBOX_NAME_MAX 255

/* Domains and accounts: 1-128 octets of letters, digits, '_', '-', '.',
 * not starting or ending with a dot, no "..".  Case-insensitive: the
 * lower-case form is written to out (ACCOUNT_NAME_MAX + 1 octets). */
int name_object_check(const char *name, char *lower_out, const char **error_r);

/* Mailboxes: case-sensitive, '/' separates levels; at most 255 octets, no
 * empty level, no "." or ".." level, no control characters, not starting
 * with '~'. */
int name_mailbox_check(const char *name, const char **error_r);

/* Split "account@domain" or "account%domain" (last separator wins).  With
 * no domain part, *domain_r is "" .  Both checked and lowered. */
int name_address_split(const char *address, char *account_r, char *domain_r,
		       const char **error_r);

#endif

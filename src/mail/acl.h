/* acl.h - mailbox access rights (SPEC.md 2, RFC 4314): the right letters
 * as a bitmask, and the identifiers an ACL entry may name.  Pure functions;
 * the store (store_ops.h) checks that the accounts and domains exist. */
#ifndef PN_ACL_H
#define PN_ACL_H

#include "postern/module.h"

/* The rights bits ACL_LOOKUP ... ACL_ADMIN, ACL_ALL are in postern/module.h
 * (modules check them); one bit per letter, in this order: */
#define ACL_RIGHTS_LETTERS "lrswipcda"
/* A formatted rights string with its NUL. */
#define ACL_RIGHTS_STR_MAX (sizeof(ACL_RIGHTS_LETTERS))

/* How a rights string applies to an entry (RFC 4314 SETACL): "lr" sets
 * exactly these, "+lr" adds them, "-lr" removes them. */
enum acl_mode {
	ACL_MODE_REPLACE,
	ACL_MODE_ADD,
	ACL_MODE_REMOVE,
};

/* Parse a rights string: an optional leading '+' or '-', then letters of
 * "lrswipcda" in any order (repeats are harmless).  An empty string (or a
 * bare '+'/'-') means no rights.  An unknown letter is an error naming it. */
int acl_rights_parse(const char *str, enum acl_mode *mode_r,
		     unsigned int *rights_r, const char **error_r);

/* The rights an entry has after applying `change` in `mode` to `current`. */
unsigned int acl_rights_apply(enum acl_mode mode, unsigned int current,
			      unsigned int change);

/* The rights as letters in canonical order ("" for none) into buf, which
 * holds ACL_RIGHTS_STR_MAX octets. */
void acl_rights_format(unsigned int rights, char *buf);

/* Who an ACL entry is for. */
enum acl_id_kind {
	ACL_ID_USER,		/* one account, name@domain */
	ACL_ID_ANYONE,		/* every authenticated account */
	ACL_ID_ANYONE_DOMAIN,	/* every account of one domain */
};

#define ACL_ANYONE "anyone"

struct acl_identifier {
	enum acl_id_kind kind;
	char name[ACCOUNT_NAME_MAX + 1];	/* ACL_ID_USER: lower case */
	char domain[ACCOUNT_NAME_MAX + 1];	/* USER, ANYONE_DOMAIN */
	char text[ADDRESS_MAX + 1];	/* canonical: "name@domain", "anyone",
					   "anyone@domain" */
};

/* Parse "name@domain" (or "name%domain"), "anyone@domain" or "anyone",
 * case-insensitively, into its canonical lower-case form.  A name without a
 * domain is refused: an ACL names its users in full, so it reads the same
 * whatever main_domain is.  "anyone" is always the RFC 4314 identifier, so
 * an account named "anyone" cannot be given rights of its own. */
int acl_identifier_parse(const char *str, struct acl_identifier *id_r,
			 const char **error_r);

#endif

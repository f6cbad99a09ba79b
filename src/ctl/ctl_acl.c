/* ctl_acl.c - posternctl acl set|get|del: who may use a mailbox that is
 * not their own (SPEC.md 2). */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "mail/acl.h"
#include "store/store_ops.h"

static int parse_identifier(const char *str, struct acl_identifier *id_r)
{
	const char *error;

	if (acl_identifier_parse(str, id_r, &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	return 0;
}

/* Rights are only given to someone: the account or domain an identifier
 * names must exist (the store checks again, in its transaction). */
static int identifier_exists(const struct acl_identifier *id)
{
	struct account account;
	const char *error;
	bool found = true;

	if (id->kind == ACL_ID_ANYONE_DOMAIN) {
		if (store_domain_exists(id->domain, &found, &error) < 0)
			return ctl_error(EX_TEMPFAIL, "%s", error);
		if (!found)
			return ctl_error(EX_NOUSER, "no such domain: %s",
					 id->domain);
	} else if (id->kind == ACL_ID_USER) {
		if (store_account_get(id->name, id->domain, &account, NULL, 0,
				      &found, &error) < 0)
			return ctl_error(EX_TEMPFAIL, "%s", error);
		if (!found)
			return ctl_error(EX_NOUSER, "no such account: %s",
					 id->text);
	}
	return 0;
}

static bool is_owner(const struct acl_identifier *id,
		     const struct account *owner)
{
	return id->kind == ACL_ID_USER && strcmp(id->name, owner->name) == 0 &&
	       strcmp(id->domain, owner->domain) == 0;
}

static void print_owner(const struct account *owner)
{
	printf("%s@%s %s (owner)\n", owner->name, owner->domain,
	       ACL_RIGHTS_LETTERS);
}

static void print_entry(const char *identifier, unsigned int rights,
			void *ctx)
{
	char letters[ACL_RIGHTS_STR_MAX];

	(void)ctx;
	acl_rights_format(rights, letters);
	printf("%s %s\n", identifier, letters);
}

/* acl set ADDRESS MAILBOX IDENTIFIER RIGHTS */
int ctl_acl_set(int argc, char **argv)
{
	char letters[ACL_RIGHTS_STR_MAX];
	struct acl_identifier id;
	struct account owner;
	struct mailbox_rec rec;
	enum acl_mode mode;
	unsigned int rights, result;
	const char *error;
	int ret;

	if (argc != 4)
		return ctl_error(EX_USAGE,
				 "usage: acl set ADDRESS MAILBOX IDENTIFIER RIGHTS");
	if (acl_rights_parse(argv[3], &mode, &rights, &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	if ((ret = parse_identifier(argv[2], &id)) != 0 ||
	    (ret = ctl_find_account_mailbox(argv[0], argv[1], &owner,
					    &rec)) != 0 ||
	    (ret = identifier_exists(&id)) != 0)
		return ret;
	if (store_acl_set(&owner, argv[1], &id, mode, rights, &result,
			  &error) < 0)
		return ctl_error(1, "%s", error);
	acl_rights_format(result, letters);
	if (result == 0)
		printf("%s on %s of %s@%s: no rights, no entry\n", id.text,
		       argv[1], owner.name, owner.domain);
	else
		printf("%s on %s of %s@%s: %s\n", id.text, argv[1], owner.name,
		       owner.domain, letters);
	return 0;
}

/* acl get ADDRESS MAILBOX [IDENTIFIER] */
int ctl_acl_get(int argc, char **argv)
{
	struct acl_identifier id;
	struct account owner;
	struct mailbox_rec rec;
	unsigned int rights;
	const char *error;
	bool found;
	int ret;

	if (argc != 2 && argc != 3)
		return ctl_error(EX_USAGE,
				 "usage: acl get ADDRESS MAILBOX [IDENTIFIER]");
	if ((argc == 3 && (ret = parse_identifier(argv[2], &id)) != 0) ||
	    (ret = ctl_find_account_mailbox(argv[0], argv[1], &owner,
					    &rec)) != 0)
		return ret;
	if (argc == 2) {
		print_owner(&owner);
		if (store_acl_list(&owner, argv[1], print_entry, NULL,
				   &error) < 0)
			return ctl_error(EX_TEMPFAIL, "%s", error);
		return 0;
	}
	if (is_owner(&id, &owner)) {
		print_owner(&owner);
		return 0;
	}
	if (store_acl_get(&owner, argv[1], &id, &rights, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(1, "no ACL entry for %s on mailbox %s of %s@%s",
				 id.text, argv[1], owner.name, owner.domain);
	print_entry(id.text, rights, NULL);
	return 0;
}

/* acl del ADDRESS MAILBOX IDENTIFIER */
int ctl_acl_del(int argc, char **argv)
{
	struct acl_identifier id;
	struct account owner;
	struct mailbox_rec rec;
	const char *error;
	int ret;

	if (argc != 3)
		return ctl_error(EX_USAGE,
				 "usage: acl del ADDRESS MAILBOX IDENTIFIER");
	if ((ret = parse_identifier(argv[2], &id)) != 0 ||
	    (ret = ctl_find_account_mailbox(argv[0], argv[1], &owner,
					    &rec)) != 0)
		return ret;
	if (store_acl_del(&owner, argv[1], &id, &error) < 0)
		return ctl_error(1, "%s", error);
	printf("ACL entry for %s on %s of %s@%s removed\n", id.text, argv[1],
	       owner.name, owner.domain);
	return 0;
}

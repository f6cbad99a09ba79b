/* acl.c - rights strings and ACL identifiers. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "mail/acl.h"
#include "mail/names.h"

static char errbuf[512];

int acl_rights_parse(const char *str, enum acl_mode *mode_r,
		     unsigned int *rights_r, const char **error_r)
{
	enum acl_mode mode = ACL_MODE_REPLACE;
	unsigned int rights = 0;
	const char *p = str;

	if (*p == '+' || *p == '-')
		mode = *p++ == '+' ? ACL_MODE_ADD : ACL_MODE_REMOVE;
	for (; *p != '\0'; p++) {
		const char *letter = strchr(ACL_RIGHTS_LETTERS, *p);
		unsigned char c = (unsigned char)*p;

		if (letter == NULL) {
			/* the string may be hostile: name the letter, escaped */
			if (c > 0x20 && c < 0x7f)
				snprintf(errbuf, sizeof(errbuf),
					 "unknown right '%c': rights are letters of %s, optionally after '+' or '-'",
					 c, ACL_RIGHTS_LETTERS);
			else
				snprintf(errbuf, sizeof(errbuf),
					 "unknown right \\x%02x: rights are letters of %s, optionally after '+' or '-'",
					 c, ACL_RIGHTS_LETTERS);
			*error_r = errbuf;
			return -1;
		}
		rights |= 1u << (letter - ACL_RIGHTS_LETTERS);
	}
	*mode_r = mode;
	*rights_r = rights;
	return 0;
}

unsigned int acl_rights_apply(enum acl_mode mode, unsigned int current,
			      unsigned int change)
{
	switch (mode) {
	case ACL_MODE_ADD:
		return (current | change) & ACL_ALL;
	case ACL_MODE_REMOVE:
		return current & ~change & ACL_ALL;
	case ACL_MODE_REPLACE:
		break;
	}
	return change & ACL_ALL;
}

void acl_rights_format(unsigned int rights, char *buf)
{
	size_t n = 0;

	for (size_t i = 0; ACL_RIGHTS_LETTERS[i] != '\0'; i++) {
		if (rights & (1u << i))
			buf[n++] = ACL_RIGHTS_LETTERS[i];
	}
	buf[n] = '\0';
}

int acl_identifier_parse(const char *str, struct acl_identifier *id_r,
			 const char **error_r)
{
	const char *error;

	memset(id_r, 0, sizeof(*id_r));
	if (name_address_split(str, id_r->name, id_r->domain, &error) < 0) {
		snprintf(errbuf, sizeof(errbuf), "invalid ACL identifier: %s",
			 error);
		*error_r = errbuf;
		return -1;
	}
	if (strcmp(id_r->name, ACL_ANYONE) == 0) {
		id_r->kind = id_r->domain[0] == '\0' ? ACL_ID_ANYONE
						     : ACL_ID_ANYONE_DOMAIN;
		id_r->name[0] = '\0';
	} else if (id_r->domain[0] == '\0') {
		/* name_address_split checked it: printable, at most 128 */
		snprintf(errbuf, sizeof(errbuf),
			 "invalid ACL identifier '%s': name the domain too (%s@DOMAIN), or use anyone@DOMAIN or anyone",
			 id_r->name, id_r->name);
		*error_r = errbuf;
		return -1;
	} else {
		id_r->kind = ACL_ID_USER;
	}
	if (id_r->kind == ACL_ID_ANYONE)
		snprintf(id_r->text, sizeof(id_r->text), "%s", ACL_ANYONE);
	else
		snprintf(id_r->text, sizeof(id_r->text), "%s@%s",
			 id_r->kind == ACL_ID_USER ? id_r->name : ACL_ANYONE,
			 id_r->domain);
	return 0;
}

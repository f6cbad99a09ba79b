/* names.c - name rules. */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "mail/names.h"
#include "postern/module.h"

static char errbuf[512];

static const char *name_error(const char *what, const char *name,
			      const char *why)
{
	char shown[80];

	/* the name may be hostile: show a bounded, printable prefix */
	size_t n = 0;
	for (const char *p = name; *p && n + 4 < sizeof(shown); p++)
		shown[n++] = isprint((unsigned char)*p) ? *p : '?';
	memcpy(shown + n, strlen(name) > n ? "..." : "", strlen(name) > n ? 4 : 1);
	snprintf(errbuf, sizeof(errbuf), "invalid %s name '%s': %s", what, shown, why);
	return errbuf;
}

int name_object_check(const char *name, char *lower_out, const char **error_r)
{
	size_t len = strlen(name);

	if (len == 0) {
		*error_r = "empty name";
		return -1;
	}
	if (len > ACCOUNT_NAME_MAX) {
		*error_r = name_error("object", name, "longer than 128 octets");
		return -1;
	}
	if (name[0] == '.' || name[len - 1] == '.' || strstr(name, "..") != NULL) {
		*error_r = name_error("object", name,
				      "must not start or end with a dot or contain '..'");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '_' && c != '-' && c != '.') {
			*error_r = name_error("object", name,
					      "only letters, digits, '_', '-' and '.' are allowed");
			return -1;
		}
		lower_out[i] = (char)tolower(c);
	}
	lower_out[len] = '\0';
	return 0;
}

int name_domain_check(const char *name, char *lower_out, const char **error_r)
{
	if (name_object_check(name, lower_out, error_r) < 0)
		return -1;
	/* RFC 1123 2.1: a label neither starts nor ends with a hyphen */
	for (const char *p = lower_out; *p != '\0'; p++) {
		if (*p == '-' && (p == lower_out || p[-1] == '.' || p[1] == '.' ||
				  p[1] == '\0')) {
			*error_r = name_error("domain", name,
					      "a part between dots must not start or end with '-'");
			return -1;
		}
	}
	return 0;
}

int name_mailbox_check(const char *name, const char **error_r)
{
	size_t len = strlen(name);
	const char *level = name;

	if (len == 0) {
		*error_r = "empty mailbox name";
		return -1;
	}
	if (len > MAILBOX_NAME_MAX) {
		*error_r = name_error("mailbox", name, "longer than 255 octets");
		return -1;
	}
	if (name[0] == '~') {
		*error_r = name_error("mailbox", name, "must not start with '~'");
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c != '\0' && (c < 0x20 || c == 0x7f)) {
			*error_r = name_error("mailbox", name,
					      "control characters are not allowed");
			return -1;
		}
		if (c == '/' || c == '\0') {
			size_t llen = (size_t)(name + i - level);

			if (llen == 0 || (llen == 1 && level[0] == '.') ||
			    (llen == 2 && level[0] == '.' && level[1] == '.')) {
				*error_r = name_error("mailbox", name,
						      "empty, '.' and '..' levels are not allowed");
				return -1;
			}
			level = name + i + 1;
		}
	}
	return 0;
}

int name_address_split(const char *address, char *account_r, char *domain_r,
		       const char **error_r)
{
	const char *at = strrchr(address, '@');
	const char *pct = strrchr(address, '%');
	const char *sep = at > pct ? at : pct;
	char local[ACCOUNT_NAME_MAX + 2];
	size_t llen;

	if (sep == NULL) {
		domain_r[0] = '\0';
		return name_object_check(address, account_r, error_r);
	}
	llen = (size_t)(sep - address);
	if (llen > ACCOUNT_NAME_MAX) {
		*error_r = name_error("account", address, "longer than 128 octets");
		return -1;
	}
	memcpy(local, address, llen);
	local[llen] = '\0';
	if (name_object_check(local, account_r, error_r) < 0 ||
	    name_object_check(sep + 1, domain_r, error_r) < 0)
		return -1;
	return 0;
}

int name_login_split(const char *login, char *mailbox_r, char *account_r,
		     const char **error_r)
{
	const char *hash = strrchr(login, '#');
	size_t mlen;

	if (hash == NULL) {
		mailbox_r[0] = '\0';
		if (strlen(login) > ADDRESS_MAX) {
			*error_r = "login name longer than 258 octets";
			return -1;
		}
		memcpy(account_r, login, strlen(login) + 1);
		return 0;
	}
	mlen = (size_t)(hash - login);
	if (mlen == 0) {
		*error_r = "no mailbox before '#' in the login name";
		return -1;
	}
	if (mlen > LOGIN_MAILBOX_MAX || strlen(hash + 1) > ADDRESS_MAX) {
		*error_r = "login name too long";
		return -1;
	}
	memcpy(mailbox_r, login, mlen);
	mailbox_r[mlen] = '\0';
	memcpy(account_r, hash + 1, strlen(hash + 1) + 1);
	return 0;
}

int name_mailbox_ref_split(const char *ref, char *owner_r, char *name_r,
			   const char **error_r)
{
	const char *name = ref, *slash;

	owner_r[0] = '\0';
	if (ref[0] == '~') {
		slash = strchr(ref, '/');
		if (slash == NULL || slash == ref + 1) {
			*error_r = "a mailbox of another account is written ~owner/mailbox";
			return -1;
		}
		if ((size_t)(slash - ref - 1) > ADDRESS_MAX) {
			*error_r = "owner name longer than 258 octets";
			return -1;
		}
		memcpy(owner_r, ref + 1, (size_t)(slash - ref - 1));
		owner_r[slash - ref - 1] = '\0';
		name = slash + 1;
	}
	if (name_mailbox_check(name, error_r) < 0)
		return -1;
	memcpy(name_r, name, strlen(name) + 1);
	return 0;
}

int name_local_part_check(const char *local, const char **error_r)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~";
	size_t len = strlen(local);

	if (len == 0) {
		*error_r = "empty local part";
		return -1;
	}
	if (len > LOCAL_PART_MAX) {
		*error_r = name_error("local part", local, "longer than 64 octets");
		return -1;
	}
	if (local[0] == '.' || local[len - 1] == '.' || strstr(local, "..") != NULL) {
		*error_r = name_error("local part", local,
				      "must not start or end with a dot or contain '..'");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)local[i];

		if (!isalnum(c) && c != '.' && (c == '\0' || strchr(specials, c) == NULL)) {
			*error_r = name_error("local part", local,
					      "only letters, digits, dots and !#$%&'*+-/=?^_`{|}~ are allowed");
			return -1;
		}
	}
	return 0;
}

int name_ip_canonical(const char *in, char *out, const char **error_r)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, in, &a4) == 1) {
		inet_ntop(AF_INET, &a4, out, IP_TEXT_MAX);
		return 0;
	}
	if (inet_pton(AF_INET6, in, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], 4);
			inet_ntop(AF_INET, &a4, out, IP_TEXT_MAX);
		} else {
			inet_ntop(AF_INET6, &a6, out, IP_TEXT_MAX);
		}
		return 0;
	}
	*error_r = name_error("address", in,
			      "not a numeric IPv4 or IPv6 address");
	return -1;
}

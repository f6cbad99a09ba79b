/* lmtp_path.c - parsing reverse and forward paths (lmtp_path.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <postern/module.h>

#include "lmtp_path.h"

/* RFC 5322 atext: what a local part may hold without quotes. */
static bool is_atext(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

static bool is_dot_string(const char *s, size_t len)
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* A domain, or an address literal "[...]". */
static bool is_domain(const char *s, size_t len)
{
	if (len == 0)
		return false;
	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']')
			return false;
		for (size_t i = 1; i < len - 1; i++) {
			unsigned char ch = (unsigned char)s[i];

			if (ch < 0x21 || ch > 0x7e || ch == '[' || ch == ']' || ch == '\\')
				return false;
		}
		return true;
	}
	if (s[0] == '.' || s[0] == '-' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
			return false;
		if (ch == '.' && s[i + 1] == '.')
			return false;
	}
	return true;
}

/* The mailbox part of a path: local-part "@" domain, or a bare local part
 * (RFC 5321 allows <Postmaster> as a recipient).  Written to out. */
static enum lmtp_path_result parse_mailbox(const char *s, size_t len, char *out,
					   const char **error_r)
{
	char local[LMTP_PATH_MAX + 1];
	size_t llen = 0, i = 0;

	if (len > 0 && s[0] == '"') {
		/* quoted string: qtext and quoted pairs, printable ASCII */
		bool closed = false;

		for (i = 1; i < len; i++) {
			unsigned char ch = (unsigned char)s[i];

			if (ch == '"') {
				closed = true;
				i++;
				break;
			}
			if (ch == '\\') {
				if (++i == len)
					break;
				ch = (unsigned char)s[i];
			}
			if (ch < 0x20 || ch > 0x7e) {
				*error_r = "a control character in the quoted local part";
				return LMTP_PATH_BAD_ADDRESS;
			}
			local[llen++] = (char)ch;
		}
		if (!closed) {
			*error_r = "the quoted local part is not closed";
			return LMTP_PATH_BAD_ADDRESS;
		}
		if (i < len && s[i] != '@') {
			*error_r = "text after the quoted local part";
			return LMTP_PATH_BAD_ADDRESS;
		}
		local[llen] = '\0';
		if (is_dot_string(local, llen)) {
			/* "jsmith" is jsmith: keep it unquoted */
		} else {
			/* keep it as written, quotes and all */
			llen = i;
			memcpy(local, s, llen);
			local[llen] = '\0';
		}
	} else {
		const char *at = memchr(s, '@', len);

		i = at != NULL ? (size_t)(at - s) : len;
		if (!is_dot_string(s, i)) {
			*error_r = i == 0 ? "the local part is empty" :
				   "the local part holds characters that need quotes";
			return LMTP_PATH_BAD_ADDRESS;
		}
		llen = i;
		memcpy(local, s, llen);
		local[llen] = '\0';
	}
	if (i == len) {
		snprintf(out, LMTP_PATH_MAX + 1, "%s", local);
		return LMTP_PATH_OK;
	}
	/* s[i] is '@' */
	if (!is_domain(s + i + 1, len - i - 1)) {
		*error_r = "the domain is not valid";
		return LMTP_PATH_BAD_ADDRESS;
	}
	/* llen <= i < len <= LMTP_PATH_MAX: it fits */
	memcpy(out, local, llen);
	out[llen] = '@';
	memcpy(out + llen + 1, s + i + 1, len - i - 1);
	out[llen + len - i] = '\0';
	return LMTP_PATH_OK;
}

enum lmtp_path_result lmtp_path_parse(char *arg, const char *keyword,
				      char *addr_r, char **params_r,
				      const char **error_r)
{
	size_t klen = strlen(keyword);
	char *p = arg, *start, *end;
	bool quoted = false;

	addr_r[0] = '\0';
	*params_r = arg + strlen(arg);
	if (strncasecmp(p, keyword, klen) != 0) {
		*error_r = "the keyword is missing";
		return LMTP_PATH_SYNTAX;
	}
	p += klen;
	while (*p == ' ')
		p++;
	if (*p != '<') {
		*error_r = "the address must be in angle brackets";
		return LMTP_PATH_SYNTAX;
	}
	start = ++p;
	/* the closing bracket, skipping quoted strings */
	for (end = start; *end != '\0'; end++) {
		if (quoted && *end == '\\' && end[1] != '\0')
			end++;
		else if (*end == '"')
			quoted = !quoted;
		else if (!quoted && *end == '>')
			break;
		else if ((unsigned char)*end < 0x20 || *end == 0x7f) {
			*error_r = "a control character in the address";
			return LMTP_PATH_BAD_ADDRESS;
		}
	}
	if (*end != '>') {
		*error_r = "the closing '>' is missing";
		return LMTP_PATH_SYNTAX;
	}
	if (end[1] != '\0' && end[1] != ' ') {
		*error_r = "text right after the '>'";
		return LMTP_PATH_SYNTAX;
	}
	*params_r = end[1] == ' ' ? end + 2 : end + 1;
	*end = '\0';
	if ((size_t)(end - start) > LMTP_PATH_MAX) {
		*error_r = "the address is longer than 254 octets";
		return LMTP_PATH_BAD_ADDRESS;
	}
	/* an obsolete source route "@a,@b:" is ignored (RFC 5321 4.1.2) */
	if (*start == '@') {
		char *colon = strchr(start, ':');

		if (colon == NULL) {
			*error_r = "a source route without ':'";
			return LMTP_PATH_BAD_ADDRESS;
		}
		start = colon + 1;
	}
	if (start == end)
		return LMTP_PATH_OK;	/* <>: the null path */
	return parse_mailbox(start, (size_t)(end - start), addr_r, error_r);
}

bool lmtp_param_next(char **params, char **key_r, char **value_r,
		     const char **error_r)
{
	char *p = *params, *eq;

	*error_r = NULL;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return false;
	*key_r = p;
	p += strcspn(p, " ");
	if (*p != '\0')
		*p++ = '\0';
	*params = p;
	eq = strchr(*key_r, '=');
	*value_r = NULL;
	if (eq != NULL) {
		*eq = '\0';
		*value_r = eq + 1;
	}
	if (**key_r == '\0') {
		*error_r = "a parameter without a keyword";
		return false;
	}
	return true;
}

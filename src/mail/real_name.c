/* real_name.c - an account's real name (real_name.h). */
#include "build-config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mail/real_name.h"
#include "store/store_settings.h"

/* Well-formed UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF) without C0/C1 controls or DEL. */
static bool printable_utf8(const unsigned char *s)
{
	while (*s != '\0') {
		unsigned int c = *s, need, cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (unsigned int i = 1; i <= need; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return false;
		s += need + 1;
	}
	return true;
}

int real_name_check(const char *text, const char **error_r)
{
	static char err[96];

	if (strlen(text) > REAL_NAME_MAX) {
		snprintf(err, sizeof(err), "real_name: at most %d octets", REAL_NAME_MAX);
		*error_r = err;
		return -1;
	}
	if (!printable_utf8((const unsigned char *)text)) {
		*error_r = "real_name: one line of UTF-8 text, without control characters";
		return -1;
	}
	return 0;
}

struct find {
	char *buf;
	size_t size;
};

static void take(enum setting_level level, const char *key, const char *value,
		 void *ctx)
{
	struct find *f = ctx;

	if (level == SETTING_ACCOUNT && strcmp(key, REAL_NAME_KEY) == 0)
		snprintf(f->buf, f->size, "%s", value);
}

int real_name_get(const char *domain, const char *account, char *buf,
		  size_t size, const char **error_r)
{
	struct find f = { buf, size };

	buf[0] = '\0';
	return store_settings_for(domain, account, take, &f, error_r);
}

int real_name_set(const char *domain, const char *account, const char *text,
		  const char **error_r)
{
	if (real_name_check(text, error_r) < 0)
		return -1;
	return store_setting_set(domain, account, REAL_NAME_KEY,
				 text[0] != '\0' ? text : NULL, error_r);
}

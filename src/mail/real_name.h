/* real_name.h - an account's real name ("Jane Smith"), as CommuniGate's
 * RealName: what the web admin and posternctl account show beside the
 * address.  Kept with the account's settings (store_settings.h), so it
 * goes with the account. */
#ifndef PN_REAL_NAME_H
#define PN_REAL_NAME_H

#include <stddef.h>

#define REAL_NAME_KEY "real_name"
#define REAL_NAME_MAX 200	/* octets of UTF-8 */

/* One line of UTF-8 text without control characters, at most
 * REAL_NAME_MAX octets ("" is none). */
int real_name_check(const char *text, const char **error_r);
/* The name into buf ("" when none). */
int real_name_get(const char *domain, const char *account, char *buf,
		  size_t size, const char **error_r);
/* Set it, checked; "" removes it. */
int real_name_set(const char *domain, const char *account, const char *text,
		  const char **error_r);

#endif

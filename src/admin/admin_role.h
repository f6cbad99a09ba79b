/* admin_role.h - who may use the web admin: an account's `webadmin`
 * right (none, domain, server), kept with its settings.  posternctl
 * account set ADDRESS webadmin=... and the API's PATCH use these. */
#ifndef PN_ADMIN_ROLE_H
#define PN_ADMIN_ROLE_H

#include "postern/module.h"

#define ADMIN_ROLE_KEY "webadmin"

const char *admin_role_name(enum admin_role role);
int admin_role_parse(const char *text, enum admin_role *role_r,
		     const char **error_r);
int admin_role_get(const char *domain, const char *account,
		   enum admin_role *role_r, const char **error_r);
int admin_role_set(const char *domain, const char *account,
		   enum admin_role role, const char **error_r);

#endif

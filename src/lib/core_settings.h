/* core_settings.h - the top-level settings both posternd and posternctl
 * read (data_dir, limits, log), with their table. */
#ifndef PN_CORE_SETTINGS_H
#define PN_CORE_SETTINGS_H

#include <stdint.h>

#include "postern/module.h"

struct config;

struct core_settings {
	char *data_dir;
	char *module_dir;
	struct setting_list modules;
	char *main_domain;
	char *pid_file;
	char *workers;		/* "auto" or 1-64 */
	char *user;		/* run as this user (from root); "" = as started */
	unsigned int shutdown_timeout;
	uint64_t max_message_size;
	/* a delivery over an account's quota: "tempfail" (452 4.2.2, the
	 * sender retries) or "reject" (552 5.2.2, it bounces) */
	char *quota_full;
	bool quota_full_tempfail;
	/* threads per serving process that fsync deliveries (0: on the loop) */
	unsigned int delivery_threads;
	/* [auth] cleartext_secrets: keep a plaintext-equivalent copy of new
	 * passwords for CRAM-MD5 and APOP (posternctl writes it) */
	bool cleartext_secrets;
	unsigned int auth_cache_ttl;	/* seconds; 0: no cache */
	unsigned int password_cost;	/* yescrypt cost of new hashes */
	/* [log] */
	char *log_level;
	char *log_target;
};

/* Fill from the configuration ("" and [log] sections) and check. */
int core_settings_load(struct config *cfg, struct core_settings *set,
		       const char **error_r);
void core_settings_free(struct core_settings *set);

/* The default of a top-level ("") or [log] setting, or NULL. */
const char *core_setting_default(const char *section, const char *key);

/* The settings in force in this process (set by the program's main). */
const struct core_settings *core_settings(void);
void core_settings_set_current(const struct core_settings *set);

#endif

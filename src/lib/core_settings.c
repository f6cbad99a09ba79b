/* core_settings.c - top-level settings. */
#include "build-config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/config.h"
#include "lib/core_settings.h"
#include "lib/log.h"
#include "mail/auth_cache.h"
#include "mail/password.h"

#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/postern"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

#define S(field) offsetof(struct core_settings, field)

static const struct setting_def core_defs[] = {
	{ "data_dir", SETTING_STRING, S(data_dir), LOCALSTATEDIR "/lib/postern", 0, 0 },
	{ "module_dir", SETTING_STRING, S(module_dir), PKGLIBDIR, 0, 0 },
	{ "modules", SETTING_LIST, S(modules), "pop", 0, 0 },
	{ "main_domain", SETTING_STRING, S(main_domain), "", 0, 0 },
	{ "pid_file", SETTING_STRING, S(pid_file), "", 0, 0 },
	{ "workers", SETTING_STRING, S(workers), "1", 0, 0 },
	{ "user", SETTING_STRING, S(user), "", 0, 0 },
	{ "shutdown_timeout", SETTING_SECONDS, S(shutdown_timeout), "10s", 0, 3600 },
	/* body sizes are 32-bit in the store; 2 GiB keeps well clear */
	{ "max_message_size", SETTING_SIZE, S(max_message_size), "50M", 1024,
	  2ull * 1024 * 1024 * 1024 },
	{ "quota_full", SETTING_STRING, S(quota_full), "tempfail", 0, 0 },
	/* parallel fsyncs: a disk takes many at once far faster than in a row */
	{ "delivery_threads", SETTING_UINT, S(delivery_threads), "8", 0, 64 },
	SETTING_DEFS_END
};

static const struct setting_def log_defs[] = {
	{ "level", SETTING_STRING, S(log_level), "info", 0, 0 },
	{ "target", SETTING_STRING, S(log_target), "stderr", 0, 0 },
	SETTING_DEFS_END
};

/* The part of [auth] posternctl needs too (the rest is posternd's). */
static const struct setting_def auth_core_defs[] = {
	{ "cleartext_secrets", SETTING_BOOL, S(cleartext_secrets), "no", 0, 0 },
	{ "cache_ttl", SETTING_SECONDS, S(auth_cache_ttl), "1h", 0, 86400 },
	/* 0: libxcrypt's default yescrypt cost (about 18 ms here); 1-8.
	 * Checks run on the event loop: cost 8 (about 150 ms) is the most
	 * it bears until they move to a pool of their own */
	{ "password_cost", SETTING_UINT, S(password_cost), "0", 0, 8 },
	SETTING_DEFS_END
};

static const struct core_settings *current;

const char *core_setting_default(const char *section, const char *key)
{
	if (strcmp(section, "") == 0)
		return setting_default(core_defs, key);
	if (strcmp(section, "log") == 0)
		return setting_default(log_defs, key);
	if (strcmp(section, "auth") == 0)
		return setting_default(auth_core_defs, key);
	return NULL;
}

int core_settings_load(struct config *cfg, struct core_settings *set,
		       const char **error_r)
{
	static char err[300];
	enum log_level level;

	if (config_apply(cfg, "", core_defs, set, error_r) < 0 ||
	    config_apply(cfg, "log", log_defs, set, error_r) < 0 ||
	    config_apply(cfg, "auth", auth_core_defs, set, error_r) < 0)
		return -1;
	if (set->data_dir[0] != '/') {
		snprintf(err, sizeof(err),
			 "data_dir = %s: must be an absolute path", set->data_dir);
		*error_r = err;
		return -1;
	}
	if (strcmp(set->quota_full, "tempfail") != 0 &&
	    strcmp(set->quota_full, "reject") != 0) {
		snprintf(err, sizeof(err),
			 "quota_full = %s: use tempfail (452 4.2.2, the sender retries) or reject (552 5.2.2, it bounces)",
			 set->quota_full);
		*error_r = err;
		return -1;
	}
	set->quota_full_tempfail = strcmp(set->quota_full, "tempfail") == 0;
	if (log_parse_level(set->log_level, &level) < 0) {
		snprintf(err, sizeof(err),
			 "log.level = %s: use error, warning, notice, info or debug",
			 set->log_level);
		*error_r = err;
		return -1;
	}
	if (strcmp(set->log_target, "stderr") != 0 &&
	    strcmp(set->log_target, "syslog") != 0 && set->log_target[0] != '/') {
		snprintf(err, sizeof(err),
			 "log.target = %s: use stderr, syslog or an absolute file path",
			 set->log_target);
		*error_r = err;
		return -1;
	}
	return 0;
}

void core_settings_free(struct core_settings *set)
{
	settings_free(core_defs, set);
	settings_free(log_defs, set);
	settings_free(auth_core_defs, set);
}

const struct core_settings *core_settings(void)
{
	return current;
}

void core_settings_set_current(const struct core_settings *set)
{
	current = set;
	if (set != NULL) {
		auth_cache_set_ttl(set->auth_cache_ttl);
		password_set_cost(set->password_cost);
	}
}

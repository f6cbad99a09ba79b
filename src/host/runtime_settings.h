/* runtime_settings.h - settings the web admin changes while posternd runs.
 *
 * They are kept in data_dir/settings.conf, one "section.key = value" per
 * line, written by the server only.  posternd reads it after postern.conf
 * and before the -o options, so a value set here replaces the file's and
 * an admin's -o still wins.  A change is checked as a whole configuration
 * (as SIGHUP would check it) before the file is replaced, then the server
 * reloads. */
#ifndef PN_RUNTIME_SETTINGS_H
#define PN_RUNTIME_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"

#define RUNTIME_SETTINGS_FILE "settings.conf"

/* The keys that may be changed here (NULL-terminated). */
extern const char *const runtime_setting_keys[];
bool runtime_setting_allowed(const char *key);

/* Add data_dir/settings.conf (missing: nothing) to cfg as overrides. */
int runtime_settings_read(struct config *cfg, const char *data_dir,
			  const char **error_r);

/* Hooks posternd gives: build the configuration as it would be read now,
 * with `extra` ("section.key=value") on top and everything checked; and
 * ask the server (all its workers) to reload. */
typedef struct config *runtime_build_fn(const char *const *extra, size_t n,
					const char **error_r);
typedef void runtime_reload_fn(void);
void runtime_settings_hooks(runtime_build_fn *build, runtime_reload_fn *reload);

/* The origin a change being checked is given (config_add_override_from):
 * errors read "new value: pop.channels = 'lots' is not a whole number". */
#define RUNTIME_CHANGE_ORIGIN "new value"

/* Where the value in force comes from. */
enum runtime_source {
	RUNTIME_DEFAULT,	/* nothing sets it */
	RUNTIME_CONF,		/* postern.conf */
	RUNTIME_WEBADMIN,	/* data_dir/settings.conf */
	RUNTIME_CMDLINE,	/* posternd -o: the web admin cannot change it */
};
const char *runtime_source_name(enum runtime_source source);

/* Every key that may be changed here and applies to this server (of the
 * modules loaded, log and tls) with the value it runs with now: what a
 * file or -o sets, else the default.  One configuration read for all. */
typedef void runtime_setting_cb(const char *key, const char *value,
				enum runtime_source source, void *ctx);
int runtime_settings_list(runtime_setting_cb *cb, void *ctx,
			  const char **error_r);
/* Does key apply to this server (its module is loaded)? */
bool runtime_setting_applies(const char *key);
/* Set keys[i] = values[i] (value "" removes the key: back to postern.conf
 * or the default): checked, written, reloaded.  -1 with *error_r (naming
 * the key at fault) and nothing changed. */
int runtime_settings_set(const char *data_dir, const char *const *keys,
			 const char *const *values, size_t n,
			 const char **error_r);

#endif

/* config.h - the configuration file (INI syntax, read with inih) plus
 * `-o section.key=value` overrides, applied to settings tables.
 *
 * Reading collects every key with where it came from; applying a table
 * fills a settings struct and reports "file:line: what is wrong". */
#ifndef PN_CONFIG_H
#define PN_CONFIG_H

#include <stdbool.h>

#include "postern/module.h"

struct config;

struct config *config_new(void);
void config_free(struct config **cfg);

/* yes/true/on/1 and no/false/off/0, any case: 0, or -1 for anything
 * else (SETTING_BOOL's words, for other settings parsers too). */
int config_parse_bool(const char *v, bool *b_r);

/* Read a file; a missing file is an error unless `optional`. */
int config_read_file(struct config *cfg, const char *path, bool optional,
		     const char **error_r);
/* "key=value" (top level) or "section.key=value"; replaces file values. */
int config_add_override(struct config *cfg, const char *assignment,
			const char **error_r);
/* The same, with where it comes from for messages ("settings.conf:3");
 * NULL: "-o key". */
int config_add_override_from(struct config *cfg, const char *assignment,
			     const char *origin, const char **error_r);
/* The value in force for section.key (section "" for the top level), or
 * NULL when neither file nor override sets it; *origin_r (may be NULL)
 * where it was set ("postern.conf:12", "-o pop.listen"). */
const char *config_get(const struct config *cfg, const char *section,
		       const char *key, const char **origin_r);
/* The default a table gives key, or NULL when it has no such key. */
const char *setting_default(const struct setting_def *defs, const char *key);

/* Fill `settings` from section `section` ("" = top level) using `defs`:
 * defaults first, then what the file and overrides say. */
int config_apply(struct config *cfg, const char *section,
		 const struct setting_def *defs, void *settings,
		 const char **error_r);

/* The first key no table has claimed, as an error ("file:line: unknown
 * setting pop.lisen"); 0 when every key was used.  Sections listed in
 * `ignore` (NULL-terminated) are skipped. */
int config_check_unused(struct config *cfg, const char *const *ignore,
			const char **error_r);

/* Free what config_apply allocated in a settings struct. */
void settings_free(const struct setting_def *defs, void *settings);

#endif

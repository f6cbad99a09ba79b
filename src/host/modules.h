/* modules.h - loading protocol/background modules with dlopen and giving
 * each its settings from the configuration. */
#ifndef PN_MODULES_H
#define PN_MODULES_H

#include "lib/config.h"
#include "lib/core_settings.h"

struct service;

/* dlopen every module in set->modules from set->module_dir, check its ABI,
 * fill and check its settings from cfg. */
int modules_load(const struct core_settings *set, struct config *cfg,
		 const char **error_r);
/* Every section the loaded modules claim (NULL-terminated, for -t). */
int modules_check_unused(struct config *cfg, const char **error_r);
/* Check what modules_start would refuse, without starting (for -t). */
int modules_check(const char **error_r);
/* init() each module and open the listeners of protocol modules. */
int modules_start(const char **error_r);
/* Would modules_reload accept this configuration?  Changes nothing. */
int modules_reload_check(struct config *cfg, const char **error_r);
/* Re-read settings from a new configuration; all or nothing. */
int modules_reload(struct config *cfg, const char **error_r);
/* The service (connections, log tag) of a loaded module, or NULL. */
struct pn_module;
struct service *modules_service(const struct pn_module *mod);
/* The default of a loaded module's setting ([section] is its name), or
 * NULL. */
const char *modules_setting_default(const char *section, const char *key);
/* Every loaded module with its service, in the order of `modules`. */
typedef void modules_each_fn(const struct pn_module *mod,
			     const struct service *svc, void *ctx);
void modules_each(modules_each_fn *fn, void *ctx);
/* Background work: serve() of every module that has it (in the one
 * process that does it), and stop() at shutdown. */
void modules_serve(void);
void modules_stop_serving(void);
void modules_stop_listening(void);
/* A worker starts accepting on the listeners it inherited. */
void modules_activate_listeners(void);
void modules_close_connections(void);
void modules_unload(void);

#endif

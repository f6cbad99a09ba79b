/* modules.c - module loading, settings, start, reload. */
#include "build-config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/conn.h"
#include "host/modules.h"
#include "host/service.h"
#include "host/stats.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct loaded {
	struct loaded *next;
	void *handle;
	const struct pn_module *mod;
	struct service svc;	/* svc.settings is the module's settings */
	bool started;
	bool serving;		/* its serve() ran in this process */
};

static struct loaded *loaded;
static char errbuf[1024];

static const char *fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return errbuf;
}

static bool valid_module_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	}
	return true;
}

/* <dir>/<name>.so installed; <dir>/<name>/.libs/<name>.so in a build tree */
static void *open_module(const char *dir, const char *name, const char **error_r)
{
	char path[4096], alt[4096];
	void *h;

	snprintf(path, sizeof(path), "%s/%s.so", dir, name);
	snprintf(alt, sizeof(alt), "%s/%s/.libs/%s.so", dir, name, name);
	if (access(path, F_OK) != 0 && access(alt, F_OK) == 0)
		snprintf(path, sizeof(path), "%s", alt);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		*error_r = fail("cannot load module %s: %s (module_dir = %s)",
				name, dlerror(), dir);
	return h;
}

static int fill_settings(const struct pn_module *mod, struct config *cfg,
			 void *settings, const char **error_r)
{
	if (config_apply(cfg, mod->name, mod->settings, settings, error_r) < 0)
		return -1;
	if (mod->check != NULL && mod->check(settings, error_r) < 0) {
		*error_r = fail("[%s] %s", mod->name, *error_r);
		return -1;
	}
	return 0;
}

int modules_load(const struct core_settings *set, struct config *cfg,
		 const char **error_r)
{
	for (size_t i = 0; i < set->modules.count; i++) {
		const char *name = set->modules.items[i];
		const struct pn_module *mod;
		struct loaded *l;
		void *h;

		if (i >= STATS_SERVICES_MAX) {
			*error_r = fail("modules: at most %d modules", STATS_SERVICES_MAX);
			return -1;
		}
		if (!valid_module_name(name)) {
			*error_r = fail("modules: '%s' is not a module name", name);
			return -1;
		}
		for (l = loaded; l != NULL; l = l->next) {
			if (strcmp(l->mod->name, name) == 0) {
				*error_r = fail("modules: %s is named twice", name);
				return -1;
			}
		}
		if ((h = open_module(set->module_dir, name, error_r)) == NULL)
			return -1;
		mod = dlsym(h, POSTERN_MODULE_SYMBOL);
		if (mod == NULL) {
			dlclose(h);
			*error_r = fail("module %s exports no %s: not a Postern module",
					name, POSTERN_MODULE_SYMBOL);
			return -1;
		}
		if (mod->abi != POSTERN_MODULE_ABI) {
			unsigned int abi = mod->abi;

			dlclose(h);
			*error_r = fail("module %s was built for module ABI %u, this posternd has ABI %u: rebuild the module",
					name, abi, POSTERN_MODULE_ABI);
			return -1;
		}
		l = xcalloc(1, sizeof(*l));
		l->handle = h;
		l->mod = mod;
		l->svc.mod = mod;
		l->svc.settings = xcalloc(1, mod->settings_size);
		l->svc.index = (unsigned int)i;
		l->next = loaded;
		loaded = l;
		if (fill_settings(mod, cfg, l->svc.settings, error_r) < 0)
			return -1;
	}
	return 0;
}

int modules_check_unused(struct config *cfg, const char **error_r)
{
	return config_check_unused(cfg, NULL, error_r);
}

int modules_check(const char **error_r)
{
	for (struct loaded *l = loaded; l != NULL; l = l->next) {
		if (l->mod->protocol != NULL && service_check(&l->svc, error_r) < 0)
			return -1;
	}
	return 0;
}

int modules_start(const char **error_r)
{
	for (struct loaded *l = loaded; l != NULL; l = l->next) {
		if (l->mod->init != NULL && l->mod->init(l->svc.settings, error_r) < 0) {
			*error_r = fail("module %s: %s", l->mod->name, *error_r);
			return -1;
		}
		l->started = true;
		if (l->mod->protocol != NULL && service_start(&l->svc, error_r) < 0)
			return -1;
	}
	return 0;
}

int modules_reload_check(struct config *cfg, const char **error_r)
{
	for (struct loaded *l = loaded; l != NULL; l = l->next) {
		void *probe = xcalloc(1, l->mod->settings_size);
		int ret = fill_settings(l->mod, cfg, probe, error_r);

		settings_free(l->mod->settings, probe);
		free(probe);
		if (ret < 0)
			return -1;
	}
	return 0;
}

int modules_reload(struct config *cfg, const char **error_r)
{
	struct loaded *l;
	void **fresh;
	size_t n = 0, i;
	int ret = 0;

	for (l = loaded; l != NULL; l = l->next)
		n++;
	fresh = xcalloc(n + 1, sizeof(void *));
	for (l = loaded, i = 0; l != NULL; l = l->next, i++) {
		fresh[i] = xcalloc(1, l->mod->settings_size);
		if (ret == 0 && fill_settings(l->mod, cfg, fresh[i], error_r) < 0)
			ret = -1;
	}
	for (l = loaded, i = 0; l != NULL; l = l->next, i++) {
		/* all or nothing: the old settings stay on any error */
		void *victim = ret == 0 ? l->svc.settings : fresh[i];

		settings_free(l->mod->settings, victim);
		if (ret == 0) {
			memcpy(l->svc.settings, fresh[i], l->mod->settings_size);
			if (l->mod->protocol != NULL)
				service_reconfigure(&l->svc);
		}
		free(fresh[i]);
	}
	free(fresh);
	return ret;
}

void modules_activate_listeners(void)
{
	for (struct loaded *l = loaded; l != NULL; l = l->next) {
		if (l->mod->protocol != NULL)
			service_activate(&l->svc);
	}
}

struct service *modules_service(const struct pn_module *mod)
{
	for (struct loaded *l = loaded; l != NULL; l = l->next) {
		if (l->mod == mod)
			return &l->svc;
	}
	return NULL;
}

const char *modules_setting_default(const char *section, const char *key)
{
	for (struct loaded *l = loaded; l != NULL; l = l->next) {
		if (strcmp(l->mod->name, section) == 0)
			return setting_default(l->mod->settings, key);
	}
	return NULL;
}

void modules_each(modules_each_fn *fn, void *ctx)
{
	size_t n = 0;

	for (struct loaded *l = loaded; l != NULL; l = l->next)
		n++;
	/* in the order of `modules` (the list is built backwards) */
	for (size_t i = 0; i < n; i++) {
		for (struct loaded *l = loaded; l != NULL; l = l->next) {
			if (l->svc.index == i)
				fn(l->mod, &l->svc, ctx);
		}
	}
}

void modules_serve(void)
{
	for (struct loaded *l = loaded; l != NULL; l = l->next) {
		if (l->started && l->mod->serve != NULL) {
			l->serving = true;
			l->mod->serve(l->svc.settings);
		}
	}
}

void modules_stop_serving(void)
{
	for (struct loaded *l = loaded; l != NULL; l = l->next) {
		if (l->serving && l->mod->stop != NULL)
			l->mod->stop();
		l->serving = false;
	}
}

void modules_stop_listening(void)
{
	for (struct loaded *l = loaded; l != NULL; l = l->next)
		service_stop_listening(&l->svc);
}

void modules_close_connections(void)
{
	for (struct loaded *l = loaded; l != NULL; l = l->next)
		conn_close_all(&l->svc);
}

void modules_unload(void)
{
	while (loaded != NULL) {
		struct loaded *l = loaded;

		loaded = l->next;
		service_stop_listening(&l->svc);
		if (l->serving && l->mod->stop != NULL)
			l->mod->stop();
		conn_close_all(&l->svc);
		if (l->started && l->mod->fini != NULL)
			l->mod->fini();
		settings_free(l->mod->settings, l->svc.settings);
		free(l->svc.settings);
		/* per-address counts went to zero with the connections;
		 * the code stays mapped: static strings may still be in use */
		free(l);
	}
}

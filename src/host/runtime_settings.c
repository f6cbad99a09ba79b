/* runtime_settings.c - data_dir/settings.conf (runtime_settings.h). */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/modules.h"
#include "host/runtime_settings.h"
#include "host/tls.h"
#include "lib/core_settings.h"
#include "lib/xalloc.h"

#define LINE_MAX_SETTING 4096
#define RUNTIME_MAX_KEYS 64

const char *const runtime_setting_keys[] = {
	"pop.listen", "pop.tls_listen", "pop.channels", "pop.channels_per_ip",
	"pop.idle_timeout", "pop.max_bad_commands", "pop.max_auth_failures",
	"lmtp.listen", "lmtp.channels", "lmtp.idle_timeout",
	"lmtp.max_message_size", "lmtp.max_recipients",
	"relay.smarthost", "relay.starttls", "relay.retry_schedule",
	"relay.max_queue_time", "relay.xmit", "relay.max_message_size",
	"relay.max_recipients", "relay.max_messages_per_hour",
	"retrieval.max_parallel", "retrieval.timeout", "retrieval.ca_file",
	"retrieval.max_message_size", "retrieval.backoff_max",
	"retrieval.login_trigger", "retrieval.login_trigger_gap",
	"log.level", "tls.cert", "tls.key",
	NULL
};

static runtime_build_fn *build_hook;
static runtime_reload_fn *reload_hook;
static char errbuf[4096 + 4200 + 256];

void runtime_settings_hooks(runtime_build_fn *build, runtime_reload_fn *reload)
{
	build_hook = build;
	reload_hook = reload;
}

bool runtime_setting_allowed(const char *key)
{
	for (const char *const *k = runtime_setting_keys; *k != NULL; k++) {
		if (strcmp(*k, key) == 0)
			return true;
	}
	return false;
}

static void file_path(const char *data_dir, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", data_dir, RUNTIME_SETTINGS_FILE);
}

/* One "section.key = value" line into key and value (trimmed). */
static bool split_line(char *line, char **key_r, char **value_r)
{
	char *eq = strchr(line, '='), *end;

	if (eq == NULL)
		return false;
	*eq = '\0';
	*key_r = line;
	*value_r = eq + 1;
	while (**key_r == ' ')
		(*key_r)++;
	for (end = eq; end > *key_r && end[-1] == ' '; end--)
		end[-1] = '\0';
	while (**value_r == ' ')
		(*value_r)++;
	(*value_r)[strcspn(*value_r, "\r\n")] = '\0';
	return **key_r != '\0';
}

int runtime_settings_read(struct config *cfg, const char *data_dir,
			  const char **error_r)
{
	char path[4096], line[LINE_MAX_SETTING], origin[4200];
	unsigned int lineno = 0;
	FILE *fp;

	file_path(data_dir, path, sizeof(path));
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(errbuf, sizeof(errbuf), "cannot read %s: %s", path,
			 strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *key, *value, assignment[LINE_MAX_SETTING + 2];

		lineno++;
		if (line[0] == '#' || line[strspn(line, " \r\n")] == '\0')
			continue;
		if (!split_line(line, &key, &value) || !runtime_setting_allowed(key)) {
			snprintf(errbuf, sizeof(errbuf),
				 "%s:%u: not a setting the web admin sets (remove the line)",
				 path, lineno);
			*error_r = errbuf;
			fclose(fp);
			return -1;
		}
		snprintf(assignment, sizeof(assignment), "%s=%s", key, value);
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		if (config_add_override_from(cfg, assignment, origin, error_r) < 0) {
			fclose(fp);
			return -1;
		}
	}
	fclose(fp);
	return 0;
}

/* What the file holds now, as keys and values (strings owned by the
 * arrays). */
struct pairs {
	char *keys[RUNTIME_MAX_KEYS];
	char *values[RUNTIME_MAX_KEYS];
	size_t n;
};

static void pairs_free(struct pairs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->keys[i]);
		free(p->values[i]);
	}
	p->n = 0;
}

static void pairs_put(struct pairs *p, const char *key, const char *value)
{
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->keys[i], key) == 0) {
			free(p->values[i]);
			p->values[i] = xstrdup(value);
			return;
		}
	}
	if (p->n < RUNTIME_MAX_KEYS) {
		p->keys[p->n] = xstrdup(key);
		p->values[p->n++] = xstrdup(value);
	}
}

static void pairs_load(struct pairs *p, const char *data_dir)
{
	char path[4096], line[LINE_MAX_SETTING];
	FILE *fp;

	file_path(data_dir, path, sizeof(path));
	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *key, *value;

		if (line[0] != '#' && split_line(line, &key, &value) &&
		    runtime_setting_allowed(key))
			pairs_put(p, key, value);
	}
	fclose(fp);
}

static int pairs_write(const struct pairs *p, const char *data_dir,
		       const char **error_r)
{
	char path[4096], tmp[4200];
	FILE *fp;
	int fd;

	file_path(data_dir, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(errbuf, sizeof(errbuf), "cannot write %s: %s", tmp,
			 strerror(errno));
		*error_r = errbuf;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(fp, "# Written by posternd for the web admin: these replace what\n"
		"# postern.conf says.  Change them in the web admin, or remove a line\n"
		"# and send posternd SIGHUP.\n");
	for (size_t i = 0; i < p->n; i++) {
		if (p->values[i][0] != '\0')
			fprintf(fp, "%s = %s\n", p->keys[i], p->values[i]);
	}
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0 || fclose(fp) != 0 ||
	    rename(tmp, path) != 0) {
		snprintf(errbuf, sizeof(errbuf), "cannot write %s: %s", path,
			 strerror(errno));
		*error_r = errbuf;
		unlink(tmp);
		return -1;
	}
	return 0;
}

const char *runtime_source_name(enum runtime_source source)
{
	switch (source) {
	case RUNTIME_DEFAULT:
		return "default";
	case RUNTIME_CONF:
		return "postern.conf";
	case RUNTIME_WEBADMIN:
		return "web admin";
	case RUNTIME_CMDLINE:
		return "command line";
	}
	return "default";
}

static enum runtime_source source_of(const char *origin)
{
	if (strncmp(origin, "-o ", 3) == 0)
		return RUNTIME_CMDLINE;
	if (strstr(origin, "/" RUNTIME_SETTINGS_FILE ":") != NULL ||
	    strcmp(origin, RUNTIME_CHANGE_ORIGIN) == 0)
		return RUNTIME_WEBADMIN;
	return RUNTIME_CONF;
}

static const char *default_of(const char *section, const char *key)
{
	const char *d = modules_setting_default(section, key);

	if (d == NULL && strcmp(section, "tls") == 0)
		d = tls_setting_default(key);
	if (d == NULL)
		d = core_setting_default(section, key);
	return d != NULL ? d : "";
}

/* key "section.key" into its parts. */
static void split_key(const char *key, char *section, size_t size,
		      const char **name_r)
{
	const char *dot = strchr(key, '.');

	snprintf(section, size, "%.*s", (int)(dot - key), key);
	*name_r = dot + 1;
}

/* In cfg: value and source of key. */
static void lookup(const struct config *cfg, const char *key, char *value_r,
		   size_t size, enum runtime_source *source_r)
{
	char section[64];
	const char *name, *v, *origin = "";

	split_key(key, section, sizeof(section), &name);
	if ((v = config_get(cfg, section, name, &origin)) != NULL) {
		snprintf(value_r, size, "%s", v);
		*source_r = source_of(origin);
	} else {
		snprintf(value_r, size, "%s", default_of(section, name));
		*source_r = RUNTIME_DEFAULT;
	}
}

bool runtime_setting_applies(const char *key)
{
	char section[64];
	const char *name;

	if (!runtime_setting_allowed(key))
		return false;
	split_key(key, section, sizeof(section), &name);
	return strcmp(section, "log") == 0 || strcmp(section, "tls") == 0 ||
	       modules_setting_default(section, name) != NULL;
}

int runtime_settings_list(runtime_setting_cb *cb, void *ctx,
			  const char **error_r)
{
	char value[LINE_MAX_SETTING];
	enum runtime_source source;
	struct config *cfg;

	if (build_hook == NULL) {
		*error_r = "settings can be read in posternd only";
		return -1;
	}
	if ((cfg = build_hook(NULL, 0, error_r)) == NULL)
		return -1;
	for (const char *const *k = runtime_setting_keys; *k != NULL; k++) {
		if (!runtime_setting_applies(*k))
			continue;
		lookup(cfg, *k, value, sizeof(value), &source);
		cb(*k, value, source, ctx);
	}
	config_free(&cfg);
	return 0;
}

int runtime_settings_set(const char *data_dir, const char *const *keys,
			 const char *const *values, size_t n,
			 const char **error_r)
{
	struct pairs p = { .n = 0 };
	const char *extra[RUNTIME_MAX_KEYS];
	char *owned[RUNTIME_MAX_KEYS];
	struct config *cfg;
	size_t m = 0;
	int ret = -1;

	if (build_hook == NULL || reload_hook == NULL) {
		*error_r = "settings can be changed in posternd only";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!runtime_setting_allowed(keys[i])) {
			snprintf(errbuf, sizeof(errbuf),
				 "%s cannot be changed here (only in postern.conf)", keys[i]);
			*error_r = errbuf;
			return -1;
		}
		if (!runtime_setting_applies(keys[i])) {
			snprintf(errbuf, sizeof(errbuf),
				 "%s: its module is not in `modules` of this server", keys[i]);
			*error_r = errbuf;
			return -1;
		}
		if (strpbrk(values[i], "\r\n") != NULL) {
			snprintf(errbuf, sizeof(errbuf), "%s: one line only", keys[i]);
			*error_r = errbuf;
			return -1;
		}
	}
	pairs_load(&p, data_dir);
	for (size_t i = 0; i < n; i++)
		pairs_put(&p, keys[i], values[i]);
	/* the whole new file, checked as posternd would load it; a key set
	 * back to "" is left out, so postern.conf or the default applies */
	for (size_t i = 0; i < p.n && m < RUNTIME_MAX_KEYS; i++) {
		if (p.values[i][0] == '\0')
			continue;
		owned[m] = xasprintf("%s=%s", p.keys[i], p.values[i]);
		extra[m] = owned[m];
		m++;
	}
	cfg = build_hook(extra, m, error_r);
	/* -o wins over the file: a change under it would never apply */
	for (size_t i = 0; cfg != NULL && i < n; i++) {
		enum runtime_source source;
		char value[8];

		lookup(cfg, keys[i], value, sizeof(value), &source);
		if (source == RUNTIME_CMDLINE) {
			snprintf(errbuf, sizeof(errbuf),
				 "%s is set on posternd's command line (-o), which wins over the web admin: change it there",
				 keys[i]);
			*error_r = errbuf;
			config_free(&cfg);
		}
	}
	if (cfg != NULL && pairs_write(&p, data_dir, error_r) == 0) {
		reload_hook();
		ret = 0;
	}
	config_free(&cfg);
	for (size_t i = 0; i < m; i++)
		free(owned[i]);
	pairs_free(&p);
	return ret;
}

/* config.c - configuration file and overrides. */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "lib/buf.h"
#include "lib/config.h"
#include "lib/strnum.h"
#include "lib/xalloc.h"

/* inih passes lines of at most this many octets (see ini_max_line). */
#define CONFIG_LINE_MAX 4000

struct config_entry {
	char *section;
	char *key;
	char *value;
	char *origin;		/* "postern.conf:12" or "-o pop.listen" */
	bool used;
	bool replaced;		/* superseded by an override */
};

struct config {
	struct config_entry *entries;
	size_t count, alloc;
	/* state while reading a file */
	const char *path;
	unsigned int lineno;
	FILE *fp;
	bool failed;
};

/* Error texts outlive the config they describe (callers free it first). */
static char errbuf[600];

struct config *config_new(void)
{
	return xcalloc(1, sizeof(struct config));
}

void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->count; i++) {
		free(cfg->entries[i].section);
		free(cfg->entries[i].key);
		free(cfg->entries[i].value);
		free(cfg->entries[i].origin);
	}
	free(cfg->entries);
	free(cfg);
	*cfgp = NULL;
}

static void add_entry(struct config *cfg, const char *section, const char *key,
		      const char *value, const char *origin)
{
	struct config_entry *e;

	if (cfg->count == cfg->alloc) {
		cfg->alloc = cfg->alloc ? cfg->alloc * 2 : 32;
		cfg->entries = xrealloc(cfg->entries,
					cfg->alloc * sizeof(*cfg->entries));
	}
	e = &cfg->entries[cfg->count++];
	memset(e, 0, sizeof(*e));
	e->section = xstrdup(section);
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->origin = xstrdup(origin);
	for (char *p = e->section; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (char *p = e->key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* inih reader: like fgets, but counts lines so the handler knows where it
 * is, and refuses lines inih would silently split. */
static char *config_reader(char *str, int num, void *stream)
{
	struct config *cfg = stream;
	size_t len;

	if (fgets(str, num, cfg->fp) == NULL)
		return NULL;
	cfg->lineno++;
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(cfg->fp)) {
		if (!cfg->failed)
			snprintf(errbuf, sizeof(errbuf),
				 "%s:%u: line longer than %d octets",
				 cfg->path, cfg->lineno, num - 2);
		cfg->failed = true;
		/* skip the rest of the overlong line */
		int c;
		while ((c = fgetc(cfg->fp)) != EOF && c != '\n')
			;
		str[0] = '\0';
	}
	return str;
}

static int config_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	struct config *cfg = user;
	char origin[512];

	snprintf(origin, sizeof(origin), "%s:%u", cfg->path, cfg->lineno);
	if (name == NULL)	/* a section header alone */
		return 1;
	add_entry(cfg, section, name, value, origin);
	return 1;
}

int config_read_file(struct config *cfg, const char *path, bool optional,
		     const char **error_r)
{
	int ret;

	cfg->fp = fopen(path, "r");
	if (cfg->fp == NULL) {
		if (optional && errno == ENOENT)
			return 0;
		snprintf(errbuf, sizeof(errbuf),
			 "cannot read configuration %s: %s", path, strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	struct stat st;
	if (fstat(fileno(cfg->fp), &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(errbuf, sizeof(errbuf),
			 "cannot read configuration %s: not a regular file", path);
		fclose(cfg->fp);
		cfg->fp = NULL;
		*error_r = errbuf;
		return -1;
	}
	cfg->path = path;
	cfg->lineno = 0;
	cfg->failed = false;
	ini_max_line = CONFIG_LINE_MAX;
	ret = ini_parse_stream(config_reader, cfg, config_handler, cfg);
	if (ferror(cfg->fp) && !cfg->failed) {
		/* a read error must not pass for the end of the file */
		snprintf(errbuf, sizeof(errbuf), "cannot read configuration %s: %s",
			 path, strerror(errno));
		cfg->failed = true;
	}
	fclose(cfg->fp);
	cfg->fp = NULL;
	if (cfg->failed) {
		*error_r = errbuf;
		return -1;
	}
	if (ret != 0) {
		snprintf(errbuf, sizeof(errbuf),
			 ret > 0 ? "%s:%d: not a [section] or key = value line"
				 : "%s: cannot parse (error %d)", path, ret);
		*error_r = errbuf;
		return -1;
	}
	return 0;
}

int config_add_override(struct config *cfg, const char *assignment,
			const char **error_r)
{
	return config_add_override_from(cfg, assignment, NULL, error_r);
}

const char *config_get(const struct config *cfg, const char *section,
		       const char *key, const char **origin_r)
{
	for (size_t i = cfg->count; i-- > 0;) {
		const struct config_entry *e = &cfg->entries[i];

		if (!e->replaced && strcmp(e->section, section) == 0 &&
		    strcmp(e->key, key) == 0) {
			if (origin_r != NULL)
				*origin_r = e->origin;
			return e->value;
		}
	}
	return NULL;
}

const char *setting_default(const struct setting_def *defs, const char *key)
{
	for (const struct setting_def *d = defs; d->key != NULL; d++) {
		if (strcmp(d->key, key) == 0)
			return d->def;
	}
	return NULL;
}

int config_add_override_from(struct config *cfg, const char *assignment,
			     const char *origin_name, const char **error_r)
{
	const char *eq = strchr(assignment, '=');
	const char *dot;
	char section[128], key[128], origin[300];
	size_t klen;

	if (eq == NULL || eq == assignment) {
		snprintf(errbuf, sizeof(errbuf),
			 "-o %s: expected key=value or section.key=value",
			 assignment);
		*error_r = errbuf;
		return -1;
	}
	klen = (size_t)(eq - assignment);
	dot = memchr(assignment, '.', klen);
	if (klen >= sizeof(key) ||
	    (dot != NULL && (dot == assignment || dot + 1 == eq))) {
		snprintf(errbuf, sizeof(errbuf),
			 "-o %.*s: not a setting name", (int)klen, assignment);
		*error_r = errbuf;
		return -1;
	}
	if (dot != NULL) {
		snprintf(section, sizeof(section), "%.*s",
			 (int)(dot - assignment), assignment);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - dot - 1), dot + 1);
	} else {
		section[0] = '\0';
		snprintf(key, sizeof(key), "%.*s", (int)klen, assignment);
	}
	if (origin_name != NULL)
		snprintf(origin, sizeof(origin), "%s", origin_name);
	else
		snprintf(origin, sizeof(origin), "-o %.*s", (int)klen, assignment);
	add_entry(cfg, section, key, eq + 1, origin);
	/* an override replaces whatever the file (or an earlier -o) said */
	struct config_entry *ne = &cfg->entries[cfg->count - 1];
	for (size_t i = 0; i + 1 < cfg->count; i++) {
		struct config_entry *e = &cfg->entries[i];

		if (strcmp(e->section, ne->section) == 0 &&
		    strcmp(e->key, ne->key) == 0)
			e->replaced = true;
	}
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void list_free(struct setting_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static void list_add_items(struct setting_list *l, const char *value)
{
	char *copy = xstrdup(value), *save = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		tok = trim(tok);
		if (*tok == '\0')
			continue;
		l->items = xrealloc(l->items, (l->count + 1) * sizeof(char *));
		l->items[l->count++] = xstrdup(tok);
	}
	free(copy);
}

int config_parse_bool(const char *v, bool *b_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*b_r = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*b_r = false;
			return 0;
		}
	}
	return -1;
}

/* Store one scalar value; on error fill errbuf. */
static int set_value(struct config *cfg, const struct setting_def *d,
		     void *settings, const char *value, const char *origin,
		     const char *section)
{
	char *field = (char *)settings + d->offset;
	const char *what = NULL;
	uint64_t n = 0;
	int ret = 0;

	switch (d->type) {
	case SETTING_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case SETTING_BOOL:
		if (config_parse_bool(value, (bool *)field) < 0)
			what = "is not yes or no";
		break;
	case SETTING_LIST:
		list_add_items((struct setting_list *)field, value);
		return 0;
	case SETTING_UINT:
		ret = str_to_uint64(value, &n);
		what = "is not a whole number";
		break;
	case SETTING_SECONDS:
		ret = str_parse_seconds(value, &n);
		what = "is not a duration (like 30, 30s, 10m, 1h)";
		break;
	case SETTING_SIZE:
		ret = str_parse_size(value, &n);
		what = "is not a size (like 512, 64k, 10M, 1G)";
		break;
	}
	if (d->type == SETTING_UINT || d->type == SETTING_SECONDS ||
	    d->type == SETTING_SIZE) {
		uint64_t max = d->max ? d->max :
			(d->type == SETTING_SIZE ? UINT64_MAX : UINT32_MAX);

		if (ret == 0 && (n < d->min || n > max)) {
			snprintf(errbuf, sizeof(errbuf),
				 "%s: %s%s%s = %s: out of range, use %llu to %llu",
				 origin, section, *section ? "." : "", d->key,
				 value, (unsigned long long)d->min,
				 (unsigned long long)max);
			return -1;
		}
		if (ret == 0) {
			if (d->type == SETTING_SIZE)
				*(uint64_t *)field = n;
			else
				*(unsigned int *)field = (unsigned int)n;
			what = NULL;
		}
	}
	if (what != NULL) {
		snprintf(errbuf, sizeof(errbuf), "%s: %s%s%s = '%s' %s",
			 origin, section, *section ? "." : "", d->key, value, what);
		return -1;
	}
	return 0;
}

int config_apply(struct config *cfg, const char *section,
		 const struct setting_def *defs, void *settings,
		 const char **error_r)
{
	for (const struct setting_def *d = defs; d->key != NULL; d++) {
		const struct config_entry *first = NULL;
		char origin[64];

		if (d->type == SETTING_LIST)
			list_free((struct setting_list *)((char *)settings + d->offset));
		snprintf(origin, sizeof(origin), "default of");
		if (d->def != NULL &&
		    set_value(cfg, d, settings, d->def, origin, section) < 0) {
			*error_r = errbuf;
			return -1;
		}
		bool list_reset = false;
		for (size_t i = 0; i < cfg->count; i++) {
			struct config_entry *e = &cfg->entries[i];

			if (e->replaced || strcmp(e->section, section) != 0 ||
			    strcmp(e->key, d->key) != 0)
				continue;
			e->used = true;
			if (d->type != SETTING_LIST && first != NULL) {
				snprintf(errbuf, sizeof(errbuf),
					 "%s: %s%s%s is set twice (first at %s)",
					 e->origin, section, *section ? "." : "",
					 d->key, first->origin);
				*error_r = errbuf;
				return -1;
			}
			if (d->type == SETTING_LIST && !list_reset) {
				/* the file's list replaces the default */
				list_free((struct setting_list *)
					  ((char *)settings + d->offset));
				list_reset = true;
			}
			first = e;
			if (set_value(cfg, d, settings, e->value, e->origin,
				      section) < 0) {
				*error_r = errbuf;
				return -1;
			}
		}
	}
	return 0;
}

int config_check_unused(struct config *cfg, const char *const *ignore,
			const char **error_r)
{
	for (size_t i = 0; i < cfg->count; i++) {
		const struct config_entry *e = &cfg->entries[i];
		bool skip = false;

		if (e->used || e->replaced)
			continue;
		for (size_t j = 0; ignore != NULL && ignore[j] != NULL; j++)
			skip = skip || strcmp(ignore[j], e->section) == 0;
		if (skip)
			continue;
		/* a section none of whose keys anything claimed is probably
		 * a module that is not loaded */
		bool section_known = *e->section == '\0';
		for (size_t j = 0; j < cfg->count && !section_known; j++)
			section_known = cfg->entries[j].used &&
				strcmp(cfg->entries[j].section, e->section) == 0;
		snprintf(errbuf, sizeof(errbuf),
			 "%s: unknown setting %s%s%s%s", e->origin, e->section,
			 *e->section ? "." : "", e->key,
			 section_known ? "" : " (is its module loaded?)");
		*error_r = errbuf;
		return -1;
	}
	return 0;
}

void settings_free(const struct setting_def *defs, void *settings)
{
	for (const struct setting_def *d = defs; d->key != NULL; d++) {
		char *field = (char *)settings + d->offset;

		if (d->type == SETTING_STRING) {
			free(*(char **)field);
			*(char **)field = NULL;
		} else if (d->type == SETTING_LIST) {
			list_free((struct setting_list *)field);
		}
	}
}

/* admin_system.c - the server as a whole, for server admins: its status,
 * the server-wide policies, and the settings the web admin may change
 * while posternd runs (host/runtime_settings.h), doc/api.md. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "host/host.h"
#include "host/modules.h"
#include "host/runtime_settings.h"
#include "host/service.h"
#include "host/stats.h"
#include "store/store.h"

struct conn_counts {
	json_t *open, *since_start;
};

static void add_service(const struct pn_module *mod, const struct service *svc,
			void *ctx)
{
	struct conn_counts *c = ctx;

	if (mod->protocol == NULL)
		return;
	json_object_set_new(c->open, mod->name,
			    json_integer((json_int_t)stats_active(svc->index)));
	json_object_set_new(c->since_start, mod->name,
			    json_integer((json_int_t)stats_accepted(svc->index)));
}

void admin_status_get(struct admin_req *r)
{
	static const enum store_db dbs[] = { DB_DOMAINS, DB_ACCOUNTS, DB_MAILBOXES,
					     DB_MESSAGES, DB_QUEUE, DB_QUEUE_DUE };
	uint64_t counts[sizeof(dbs) / sizeof(dbs[0])];
	double started = stats_started(), now = (double)time(NULL);
	const char *error;
	struct conn_counts conns;

	if (!admin_server_only(r))
		return;
	if (store_count(dbs, counts, sizeof(dbs) / sizeof(dbs[0]), &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	conns.open = json_object();
	conns.since_start = json_object();
	modules_each(add_service, &conns);
	admin_ok(r, 200, json_pack("{s:s,s:I,s:I,s:I,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I}",
				   "version", PACKAGE_VERSION,
				   "started", (json_int_t)started,
				   "uptime", (json_int_t)(now > started ? now - started : 0),
				   "workers", (json_int_t)(host_workers() > 1 ? host_workers() : 1),
				   "connections", conns.open,
				   "connections_since_start", conns.since_start,
				   "domains", (json_int_t)counts[0],
				   "accounts", (json_int_t)counts[1],
				   "mailboxes", (json_int_t)counts[2],
				   "messages", (json_int_t)counts[3],
				   "queue", (json_int_t)counts[4],
				   "queue_pending", (json_int_t)counts[5]));
}

void admin_server_get(struct admin_req *r)
{
	const char *error;
	json_t *policies;

	if (!admin_server_only(r))
		return;
	if ((policies = admin_policies_json("", "", &error)) == NULL) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	admin_ok(r, 200, json_pack("{s:o}", "policies", policies));
}

void admin_server_patch(struct admin_req *r)
{
	static const char *const fields[] = { "policies", NULL };
	json_t *policies;

	if (!admin_server_only(r) || !admin_fields_only(r, fields))
		return;
	policies = r->body != NULL ? json_object_get(r->body, "policies") : NULL;
	if (policies == NULL) {
		admin_fail(r, 400, "policies", "'policies' is missing");
		return;
	}
	if (admin_policies_apply(r, policies, "", ""))
		admin_server_get(r);
}

static void add_setting(const char *key, const char *value,
			enum runtime_source source, void *ctx)
{
	json_object_set_new(ctx, key, json_pack("{s:s,s:s,s:b}", "value", value,
						"source", runtime_source_name(source),
						"changeable", source != RUNTIME_CMDLINE));
}

void admin_settings_get(struct admin_req *r)
{
	const char *error;
	json_t *settings;

	if (!admin_server_only(r))
		return;
	settings = json_object();
	if (runtime_settings_list(add_setting, settings, &error) < 0) {
		json_decref(settings);
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	admin_ok(r, 200, json_pack("{s:o}", "settings", settings));
}

#define SETTINGS_PATCH_MAX 32

void admin_settings_patch(struct admin_req *r)
{
	const char *keys[SETTINGS_PATCH_MAX], *values[SETTINGS_PATCH_MAX], *key, *error;
	json_t *value;
	size_t n = 0;

	if (!admin_server_only(r))
		return;
	if (r->body == NULL || json_object_size(r->body) == 0) {
		admin_fail(r, 400, NULL, "send the settings to change: {\"pop.channels\": \"500\"}");
		return;
	}
	json_object_foreach(r->body, key, value) {
		if (n == SETTINGS_PATCH_MAX) {
			admin_fail(r, 400, NULL, "at most %d settings at once", SETTINGS_PATCH_MAX);
			return;
		}
		if (!runtime_setting_allowed(key)) {
			admin_fail(r, 400, key, "%.60s cannot be changed here (only in postern.conf)",
				   key);
			return;
		}
		if (!json_is_string(value)) {
			admin_fail(r, 400, key, "%.60s: the value must be a string (\"\" for the default)",
				   key);
			return;
		}
		keys[n] = key;
		values[n++] = json_string_value(value);
	}
	if (runtime_settings_set(store_data_dir(), keys, values, n, &error) < 0) {
		const char *field = NULL;

		/* the message names the key at fault: so does the answer */
		for (size_t i = 0; i < n && field == NULL; i++) {
			const char *dot = strchr(keys[i], '.');

			if (strstr(error, keys[i]) != NULL ||
			    (dot != NULL && strstr(error, dot + 1) != NULL))
				field = keys[i];
		}
		admin_fail(r, strncmp(error, "cannot write", 12) == 0 ? 503 : 400, field, "%s",
			   error);
		return;
	}
	admin_settings_get(r);
}

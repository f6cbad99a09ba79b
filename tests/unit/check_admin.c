/* check_admin.c - unit tests for the web admin's API in the host
 * (src/admin/, doc/api.md): routing, the answers an admin's page gets for
 * bad requests, what a domain admin may and may not do, paging, policies
 * set all or nothing, the log's filters, and the login body. */
#include "build-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin/admin_log.h"
#include "admin/admin_role.h"
#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/import.h"
#include "mail/policy.h"
#include "postern/module.h"
#include "store/store.h"
#include "store/store_ops.h"
#include "unit.h"

static struct unit_store fx;
static char root_dir[] = "/tmp/check_admin.XXXXXX";
static char log_path[512];

static const struct admin_who server_admin = {
	"admin@example.com", ADMIN_ROLE_SERVER, "example.com"
};
static const struct admin_who client_admin = {
	"boss@client1.com", ADMIN_ROLE_DOMAIN, "client1.com"
};

static void setup(void)
{
	const char *error = NULL;

	unit_store_open(&fx, root_dir, 1024 * 1024);
	snprintf(log_path, sizeof(log_path), "%s/postern.log", root_dir);
	ck_assert_int_eq(domain_add("example.com", &error), 0);
	ck_assert_int_eq(domain_add("client1.com", &error), 0);
	ck_assert_int_eq(domain_add("other.org", &error), 0);
	unit_account_add("admin", "example.com");
	unit_account_add("boss", "client1.com");
	unit_account_add("abc", "client1.com");
	unit_account_add("eve", "other.org");
	ck_assert_int_eq(admin_role_set("example.com", "admin", ADMIN_ROLE_SERVER, &error), 0);
	ck_assert_int_eq(admin_role_set("client1.com", "boss", ADMIN_ROLE_DOMAIN, &error), 0);
}

static void teardown(void)
{
	unit_store_close(&fx);
}

/* One request; the answer parsed (NULL for none) and its status. */
static int call(const struct admin_who *who, const char *method, const char *path,
		const char *query, const char *body, json_t **answer_r)
{
	struct admin_answer ans;
	json_error_t jerr;
	int status;

	admin_request(who, method, path, query, body, body ? strlen(body) : 0, &ans);
	status = ans.status;
	*answer_r = NULL;
	if (ans.json != NULL) {
		*answer_r = json_loads(ans.json, 0, &jerr);
		ck_assert_msg(*answer_r != NULL, "%s %s: not JSON: %s", method, path, ans.json);
	} else {
		ck_assert_msg(status == 204, "%s %s: %d without an answer", method, path,
			      status);
	}
	admin_answer_free(&ans);
	return status;
}

/* The status only, the answer dropped. */
static int status_of(const struct admin_who *who, const char *method,
		     const char *path, const char *body)
{
	json_t *a;
	int status = call(who, method, path, "", body, &a);

	json_decref(a);
	return status;
}

static const char *error_of(json_t *a)
{
	return json_string_value(json_object_get(a, "error"));
}

START_TEST(test_routing)
{
	struct admin_answer ans;
	json_t *a;

	/* a path that is no endpoint, and a method the path does not take */
	ck_assert_int_eq(call(&server_admin, "GET", "nothing/here", "", NULL, &a), 404);
	ck_assert_str_eq(error_of(a), "no such API path");
	json_decref(a);
	admin_request(&server_admin, "PUT", "domains", "", NULL, 0, &ans);
	ck_assert_int_eq(ans.status, 405);
	ck_assert_str_eq(ans.allow, "GET, POST");
	admin_answer_free(&ans);
	/* escapes: a bad one and a NUL are no name at all */
	ck_assert_int_eq(status_of(&server_admin, "GET", "accounts/a%zz", NULL), 404);
	ck_assert_int_eq(status_of(&server_admin, "GET", "accounts/a%00b", NULL), 404);
	ck_assert_int_eq(status_of(&server_admin, "GET", "domains//x", NULL), 404);
	/* an encoded @ and / are part of the segment */
	ck_assert_int_eq(status_of(&server_admin, "GET", "accounts/abc%40client1.com", NULL),
			 200);
}
END_TEST

START_TEST(test_bad_bodies)
{
	json_t *a;

	ck_assert_int_eq(call(&server_admin, "POST", "domains", "", "{\"name\":", &a), 400);
	ck_assert_ptr_nonnull(strstr(error_of(a), "not a JSON object"));
	json_decref(a);
	ck_assert_int_eq(status_of(&server_admin, "POST", "domains", "[1,2]"), 400);
	ck_assert_int_eq(status_of(&server_admin, "POST", "domains",
				   "{\"name\":\"a.com\",\"name\":\"b.com\"}"), 400);
	ck_assert_int_eq(call(&server_admin, "POST", "domains", "", "{\"name\":7}", &a), 400);
	ck_assert_str_eq(json_string_value(json_object_get(a, "field")), "name");
	json_decref(a);
	ck_assert_int_eq(call(&server_admin, "POST", "domains", "",
			      "{\"name\":\"new.com\",\"colour\":\"red\"}", &a), 400);
	ck_assert_str_eq(json_string_value(json_object_get(a, "field")), "colour");
	json_decref(a);
	ck_assert_int_eq(status_of(&server_admin, "POST", "domains", "{}"), 400);
	ck_assert_int_eq(status_of(&server_admin, "POST", "domains",
				   "{\"name\":\"Bad Name!\"}"), 400);
	/* nothing of it was made */
	ck_assert_int_eq(status_of(&server_admin, "GET", "domains/new.com", NULL), 404);
	ck_assert_int_eq(status_of(&server_admin, "POST", "domains", "{\"name\":\"new.com\"}"),
			 201);
	ck_assert_int_eq(status_of(&server_admin, "POST", "domains", "{\"name\":\"new.com\"}"),
			 409);
}
END_TEST

START_TEST(test_domain_admin)
{
	json_t *a;
	enum admin_role role;
	const char *error;

	/* their own domain and its accounts */
	ck_assert_int_eq(status_of(&client_admin, "GET", "domains/client1.com", NULL), 200);
	ck_assert_int_eq(status_of(&client_admin, "GET", "accounts/abc%40client1.com", NULL),
			 200);
	ck_assert_int_eq(status_of(&client_admin, "POST", "domains/client1.com/accounts",
				   "{\"name\":\"new\",\"password\":\"New-pass-1\"}"), 201);
	/* nothing else */
	ck_assert_int_eq(call(&client_admin, "GET", "domains/other.org", "", NULL, &a), 403);
	ck_assert_str_eq(error_of(a), "you administer client1.com only");
	json_decref(a);
	ck_assert_int_eq(status_of(&client_admin, "GET", "accounts/eve%40other.org", NULL),
			 403);
	ck_assert_int_eq(status_of(&client_admin, "DELETE", "accounts/eve%40other.org", NULL),
			 403);
	ck_assert_int_eq(status_of(&client_admin, "POST", "domains", "{\"name\":\"mine.com\"}"),
			 403);
	ck_assert_int_eq(status_of(&client_admin, "DELETE", "domains/client1.com", NULL), 403);
	ck_assert_int_eq(status_of(&client_admin, "GET", "status", NULL), 403);
	ck_assert_int_eq(status_of(&client_admin, "GET", "queue", NULL), 403);
	ck_assert_int_eq(status_of(&client_admin, "GET", "settings", NULL), 403);
	ck_assert_int_eq(status_of(&client_admin, "PATCH", "server",
				   "{\"policies\":{\"pop\":\"no\"}}"), 403);
	ck_assert_int_eq(status_of(&client_admin, "POST", "domains/client1.com/bound",
				   "{\"address\":\"192.0.2.1\"}"), 403);
	/* and no more rights for anyone: the right is a server admin's to give */
	ck_assert_int_eq(status_of(&client_admin, "PATCH", "accounts/abc%40client1.com",
				   "{\"webadmin\":\"server\"}"), 403);
	ck_assert_int_eq(status_of(&client_admin, "PATCH", "accounts/abc%40client1.com",
				   "{\"admin\":true}"), 403);
	ck_assert_int_eq(admin_role_get("client1.com", "abc", &role, &error), 0);
	ck_assert_int_eq(role, ADMIN_ROLE_NONE);
	/* alerts: their domain's, not the server's */
	ck_assert_int_eq(status_of(&client_admin, "POST", "alerts", "{\"text\":\"hello\"}"), 201);
	ck_assert_int_eq(status_of(&client_admin, "POST", "alerts",
				   "{\"text\":\"hi\",\"domain\":\"other.org\"}"), 403);
	ck_assert_int_eq(call(&client_admin, "GET", "alerts", "", NULL, &a), 200);
	ck_assert_int_eq(json_array_size(json_object_get(a, "items")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
		json_array_get(json_object_get(a, "items"), 0), "scope")), "domain");
	json_decref(a);
	/* the list of domains is theirs only */
	ck_assert_int_eq(call(&client_admin, "GET", "domains", "", NULL, &a), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "total")), 1);
	json_decref(a);
}
END_TEST

START_TEST(test_paging)
{
	char name[32];
	json_t *a, *items;

	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "user%02d", i);
		unit_account_add(name, "other.org");
	}
	ck_assert_int_eq(call(&server_admin, "GET", "domains/other.org/accounts",
			      "offset=20&limit=7", NULL, &a), 200);
	items = json_object_get(a, "items");
	ck_assert_int_eq(json_integer_value(json_object_get(a, "total")), 31);
	ck_assert_int_eq(json_array_size(items), 7);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "address")),
			 "user19@other.org");
	json_decref(a);
	/* a search is a name prefix, in any case */
	ck_assert_int_eq(call(&server_admin, "GET", "domains/other.org/accounts", "q=USER1",
			      NULL, &a), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "total")), 10);
	json_decref(a);
	ck_assert_int_eq(call(&server_admin, "GET", "domains/other.org/accounts", "limit=0",
			      NULL, &a), 400);
	ck_assert_str_eq(json_string_value(json_object_get(a, "field")), "limit");
	json_decref(a);
	ck_assert_int_eq(status_of(&server_admin, "GET", "domains/other.org/accounts?x", NULL),
			 404);
	ck_assert_int_eq(call(&server_admin, "GET", "domains/other.org/accounts",
			      "offset=-1", NULL, &a), 400);
	json_decref(a);
	ck_assert_int_eq(call(&server_admin, "GET", "domains/other.org/accounts", "limit=501",
			      NULL, &a), 400);
	json_decref(a);
	/* domains page the same way, in name order, with their counts */
	ck_assert_int_eq(call(&server_admin, "GET", "domains", "offset=1&limit=1", NULL, &a),
			 200);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "total")), 3);
	items = json_object_get(a, "items");
	ck_assert_int_eq(json_array_size(items), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "name")),
			 "example.com");
	json_decref(a);
	ck_assert_int_eq(call(&server_admin, "GET", "domains", "q=OTH", NULL, &a), 200);
	items = json_object_get(a, "items");
	ck_assert_int_eq(json_integer_value(json_object_get(a, "total")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(items, 0), "accounts")),
			 31);
	json_decref(a);
}
END_TEST

START_TEST(test_policies_all_or_nothing)
{
	struct policy p;
	const char *error;
	json_t *a, *pol;

	ck_assert_int_eq(call(&server_admin, "PATCH", "domains/client1.com", "",
			      "{\"policies\":{\"xmit\":\"no\",\"pop_delete\":\"shred\"}}", &a),
			 400);
	ck_assert_str_eq(json_string_value(json_object_get(a, "field")), "pop_delete");
	json_decref(a);
	ck_assert_int_eq(policy_load("client1.com", "", &p, &error), 0);
	ck_assert_str_eq(p.value[POLICY_XMIT], "yes");
	/* a good one: set at this level, seen as such */
	ck_assert_int_eq(call(&server_admin, "PATCH", "domains/client1.com", "",
			      "{\"policies\":{\"xmit\":\"no\"}}", &a), 200);
	pol = json_object_get(json_object_get(a, "policies"), "xmit");
	ck_assert_str_eq(json_string_value(json_object_get(pol, "value")), "no");
	ck_assert_str_eq(json_string_value(json_object_get(pol, "from")), "domain");
	ck_assert_str_eq(json_string_value(json_object_get(pol, "set")), "no");
	json_decref(a);
	/* an account below sees it inherited, with nothing set of its own */
	ck_assert_int_eq(call(&server_admin, "GET", "accounts/abc%40client1.com", "", NULL, &a),
			 200);
	pol = json_object_get(json_object_get(a, "policies"), "xmit");
	ck_assert_str_eq(json_string_value(json_object_get(pol, "from")), "domain");
	ck_assert(json_is_null(json_object_get(pol, "set")));
	json_decref(a);
}
END_TEST

START_TEST(test_aliases)
{
	json_t *a, *aliases;

	/* an account's aliases are names in its domain, as the path takes them */
	ck_assert_int_eq(status_of(&client_admin, "POST", "accounts/abc%40client1.com/aliases",
				   "{\"alias\":\"Info\"}"), 201);
	ck_assert_int_eq(call(&client_admin, "GET", "accounts/abc%40client1.com", "", NULL, &a),
			 200);
	aliases = json_object_get(a, "aliases");
	ck_assert_int_eq(json_array_size(aliases), 1);
	ck_assert_str_eq(json_string_value(json_array_get(aliases, 0)), "info");
	json_decref(a);
	/* not boss's alias, so not removable as his */
	ck_assert_int_eq(status_of(&client_admin, "DELETE", "accounts/boss%40client1.com/aliases/info",
				   NULL), 404);
	ck_assert_int_eq(status_of(&client_admin, "DELETE", "accounts/abc%40client1.com/aliases/info",
				   NULL), 204);
	/* a domain's aliases and bound addresses */
	ck_assert_int_eq(status_of(&server_admin, "POST", "domains/client1.com/aliases",
				   "{\"alias\":\"client1.net\"}"), 201);
	ck_assert_int_eq(status_of(&server_admin, "POST", "domains/client1.com/bound",
				   "{\"address\":\"192.0.2.9\"}"), 201);
	ck_assert_int_eq(call(&client_admin, "GET", "domains/client1.com", "", NULL, &a), 200);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(a, "aliases"), 0)),
			 "client1.net");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(a, "bound"), 0)),
			 "192.0.2.9");
	json_decref(a);
}
END_TEST

/* A message of `size` octets into abc's INBOX, arrived `age` seconds ago. */
static void import_old(unsigned int age)
{
	static const char msg[] = "Subject: x\r\n\r\nbody\r\n";
	struct account a;
	const char *error = NULL;
	uint32_t uid;
	int fds[2];

	ck_assert_int_eq(account_find("abc@client1.com", &a, &error), 0);
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], msg, sizeof(msg) - 1), (ssize_t)sizeof(msg) - 1);
	close(fds[1]);
	ck_assert_int_eq(import_from_fd_dated(&a, "INBOX", fds[0], 1024 * 1024,
					      (uint64_t)time(NULL) - age, &uid, &error), IMPORT_OK);
	close(fds[0]);
}

START_TEST(test_route_messages_expire)
{
	json_t *a, *items;

	ck_assert_int_eq(call(&client_admin, "GET", "route", "address=ABC%2Bnews%40client1.com",
			      NULL, &a), 200);
	ck_assert_str_eq(json_string_value(json_object_get(a, "account")), "abc@client1.com");
	ck_assert_str_eq(json_string_value(json_object_get(a, "rule")), "detail");
	json_decref(a);
	ck_assert_int_eq(status_of(&client_admin, "GET", "route?address=eve@other.org", NULL), 404);
	ck_assert_int_eq(call(&client_admin, "GET", "route", "address=eve%40other.org", NULL, &a),
			 403);
	json_decref(a);
	ck_assert_int_eq(call(&client_admin, "GET", "route", "address=nobody%40client1.com",
			      NULL, &a), 404);
	json_decref(a);
	ck_assert_int_eq(call(&client_admin, "GET", "route", "", NULL, &a), 400);
	json_decref(a);

	/* two messages, one of them ten days old */
	import_old(10 * 86400);
	import_old(60);
	ck_assert_int_eq(call(&client_admin, "GET", "accounts/abc%40client1.com/mailboxes/INBOX/messages",
			      "limit=1&offset=1", NULL, &a), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "total")), 2);
	items = json_object_get(a, "items");
	ck_assert_int_eq(json_array_size(items), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(items, 0), "uid")), 2);
	ck_assert(json_is_false(json_object_get(json_array_get(items, 0), "seen")));
	json_decref(a);
	/* pop_expire never: nothing goes */
	ck_assert_int_eq(call(&client_admin, "POST", "accounts/abc%40client1.com/expire", "", NULL,
			      &a), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "removed")), 0);
	ck_assert(json_is_null(json_object_get(a, "days")));
	json_decref(a);
	/* 5 days: only retrieved (Seen) mail older than that goes - none is Seen */
	ck_assert_int_eq(status_of(&client_admin, "PATCH", "accounts/abc%40client1.com",
				   "{\"policies\":{\"pop_expire\":\"5\"}}"), 200);
	ck_assert_int_eq(call(&client_admin, "POST", "accounts/abc%40client1.com/expire", "", NULL,
			      &a), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "days")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "removed")), 0);
	json_decref(a);
	/* both retrieved: the old one goes, the new one stays */
	{
		struct mailbox_snapshot *snap;
		struct account acc;
		const char *error = NULL;

		ck_assert_int_eq(account_find("abc@client1.com", &acc, &error), 0);
		ck_assert_int_eq(mailbox_snapshot_take(&acc, "INBOX", NULL, &snap, &error), 0);
		for (uint32_t i = 0; i < snap->count; i++)
			ck_assert_int_eq(message_set_seen(snap->mailbox_id, snap->msgs[i].uid,
							  &error), 0);
		mailbox_snapshot_free(&snap);
	}
	ck_assert_int_eq(call(&client_admin, "POST", "accounts/abc%40client1.com/expire", "", NULL,
			      &a), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "removed")), 1);
	json_decref(a);
	ck_assert_int_eq(call(&client_admin, "GET", "accounts/abc%40client1.com/mailboxes/INBOX/messages",
			      "", NULL, &a), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "total")), 1);
	ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(a, "items"), 0),
					       "seen")));
	json_decref(a);
	ck_assert_int_eq(status_of(&client_admin, "POST", "accounts/eve%40other.org/expire", NULL),
			 403);
}
END_TEST

START_TEST(test_real_name)
{
	json_t *a;

	/* kept as given (the pages show it as text), UTF-8 and markup alike */
	ck_assert_int_eq(status_of(&client_admin, "PATCH", "accounts/abc%40client1.com",
				   "{\"real_name\":\"J\u00f6rg <script>x()</script>\"}"), 200);
	ck_assert_int_eq(call(&client_admin, "GET", "domains/client1.com/accounts", "q=abc", NULL,
			      &a), 200);
	ck_assert_str_eq(json_string_value(json_object_get(
		json_array_get(json_object_get(a, "items"), 0), "real_name")),
		"J\xc3\xb6rg <script>x()</script>");
	json_decref(a);
	/* a control character or an overlong name changes nothing */
	ck_assert_int_eq(call(&client_admin, "PATCH", "accounts/abc%40client1.com", "",
			      "{\"real_name\":\"a\\nb\"}", &a), 400);
	ck_assert_str_eq(json_string_value(json_object_get(a, "field")), "real_name");
	json_decref(a);
	ck_assert_int_eq(status_of(&client_admin, "PATCH", "accounts/abc%40client1.com",
				   "{\"real_name\":\"\\u0085\"}"), 400);
	ck_assert_int_eq(call(&client_admin, "GET", "accounts/abc%40client1.com", "", NULL, &a),
			 200);
	ck_assert_str_eq(json_string_value(json_object_get(a, "real_name")),
			 "J\xc3\xb6rg <script>x()</script>");
	json_decref(a);
	/* "" removes it */
	ck_assert_int_eq(call(&client_admin, "PATCH", "accounts/abc%40client1.com", "",
			      "{\"real_name\":\"\"}", &a), 200);
	ck_assert_str_eq(json_string_value(json_object_get(a, "real_name")), "");
	json_decref(a);
}
END_TEST

START_TEST(test_log_lines)
{
	static const char line_notice[] = "2026-12-01 10:00:00.000 notice POP-3 [192.0.2.1] jsmith logged in";
	static const char line_debug[] = "2026-12-01 10:00:00.000 debug LMTP-1 [::1] RCPT TO";
	static const char line_error[] = "2026-12-01 10:00:00.000 error HOST cannot open";

	ck_assert(admin_log_line_matches(line_notice, strlen(line_notice), LOG_DEBUG, ""));
	ck_assert(admin_log_line_matches(line_notice, strlen(line_notice), LOG_NOTICE, "pop"));
	ck_assert(!admin_log_line_matches(line_notice, strlen(line_notice), LOG_WARNING, ""));
	ck_assert(!admin_log_line_matches(line_debug, strlen(line_debug), LOG_INFO, ""));
	ck_assert(!admin_log_line_matches(line_debug, strlen(line_debug), LOG_DEBUG, "POP"));
	ck_assert(admin_log_line_matches(line_error, strlen(line_error), LOG_ERROR, "HOST"));
	ck_assert(!admin_log_line_matches("garbage", 7, LOG_DEBUG, ""));
	ck_assert(!admin_log_line_matches("a b nolevel TAG x", 17, LOG_DEBUG, ""));
}
END_TEST

START_TEST(test_log_endpoint)
{
	static char target[] = "stderr";
	json_t *a, *lines;
	FILE *fp;
	uint64_t offset;
	char query[64];

	fx.set.log_target = target;
	ck_assert_int_eq(call(&server_admin, "GET", "log", "", NULL, &a), 409);
	ck_assert_ptr_nonnull(strstr(error_of(a), "[log] target"));
	json_decref(a);
	fp = fopen(log_path, "w");
	ck_assert_ptr_nonnull(fp);
	for (int i = 0; i < 50; i++)
		fprintf(fp, "2026-12-01 10:00:%02d.000 %s %s line %d\n", i,
			i % 10 == 0 ? "warning" : "info", i % 2 ? "POP-1" : "LMTP-2", i);
	fprintf(fp, "2026-12-01 10:01:00.000 info POP-1 unfinished");	/* no newline */
	fclose(fp);
	fx.set.log_target = log_path;
	ck_assert_int_eq(call(&server_admin, "GET", "log", "lines=3", NULL, &a), 200);
	lines = json_object_get(a, "lines");
	ck_assert_int_eq(json_array_size(lines), 3);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(lines, 2)), "line 49"));
	offset = (uint64_t)json_integer_value(json_object_get(a, "offset"));
	json_decref(a);
	ck_assert_int_eq(call(&server_admin, "GET", "log", "level=warning", NULL, &a), 200);
	ck_assert_int_eq(json_array_size(json_object_get(a, "lines")), 5);
	json_decref(a);
	ck_assert_int_eq(call(&server_admin, "GET", "log", "tag=lmtp&level=warning", NULL, &a),
			 200);
	ck_assert_int_eq(json_array_size(json_object_get(a, "lines")), 5);
	json_decref(a);
	/* following: the line finished since, and nothing before it */
	fp = fopen(log_path, "a");
	fprintf(fp, " now\n");
	fclose(fp);
	snprintf(query, sizeof(query), "after=%llu", (unsigned long long)offset);
	ck_assert_int_eq(call(&server_admin, "GET", "log", query, NULL, &a), 200);
	lines = json_object_get(a, "lines");
	ck_assert_int_eq(json_array_size(lines), 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(lines, 0)),
				     "unfinished now"));
	json_decref(a);
	/* a file cut shorter (rotated) is read from its start */
	ck_assert_int_eq(call(&server_admin, "GET", "log", "after=99999999&lines=1", NULL, &a),
			 200);
	ck_assert_int_eq(json_array_size(json_object_get(a, "lines")), 1);
	json_decref(a);
	ck_assert_int_eq(status_of(&server_admin, "GET", "log?lines=0", NULL), 404);
	ck_assert_int_eq(call(&server_admin, "GET", "log", "lines=0", NULL, &a), 400);
	json_decref(a);
	ck_assert_int_eq(call(&server_admin, "GET", "log", "level=loud", NULL, &a), 400);
	json_decref(a);
	ck_assert_int_eq(call(&client_admin, "GET", "log", "", NULL, &a), 403);
	json_decref(a);
}
END_TEST

START_TEST(test_login_body)
{
	char user[ADDRESS_MAX + 1], password[64], *error = NULL;
	static const char good[] = "{\"user\":\"admin@example.com\",\"password\":\"S3cret\"}";

	ck_assert_int_eq(admin_login_parse(good, strlen(good), user, sizeof(user), password,
					   sizeof(password), &error), 0);
	ck_assert_str_eq(user, "admin@example.com");
	ck_assert_str_eq(password, "S3cret");
	static const char *const bad[] = {
		"", "null", "{\"user\":\"a\"}", "{\"user\":1,\"password\":\"p\"}",
		"{\"user\":\"a\",\"password\":\"p\",\"x\":1}",
		"{\"user\":\"a\",\"password\":\"p\\u0000q\"}",
		"{\"user\":\"\",\"password\":\"p\"}", NULL
	};
	for (int i = 0; bad[i] != NULL; i++) {
		error = NULL;
		ck_assert_msg(admin_login_parse(bad[i], strlen(bad[i]), user, sizeof(user),
						password, sizeof(password), &error) < 0,
			      "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(strstr(error, "\"error\""));
		free(error);
	}
}
END_TEST

START_TEST(test_session_json)
{
	char *s = admin_session_json(&client_admin, "abc");
	json_error_t jerr;
	json_t *o = json_loads(s, 0, &jerr);

	ck_assert_str_eq(json_string_value(json_object_get(o, "role")), "domain");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "domains"), 0)),
			 "client1.com");
	ck_assert_str_eq(json_string_value(json_object_get(o, "csrf")), "abc");
	json_decref(o);
	free(s);
}
END_TEST

static Suite *admin_suite(void)
{
	Suite *s = suite_create("admin");
	TCase *tc = tcase_create("api");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_routing);
	tcase_add_test(tc, test_bad_bodies);
	tcase_add_test(tc, test_domain_admin);
	tcase_add_test(tc, test_paging);
	tcase_add_test(tc, test_policies_all_or_nothing);
	tcase_add_test(tc, test_aliases);
	tcase_add_test(tc, test_real_name);
	tcase_add_test(tc, test_route_messages_expire);
	tcase_add_test(tc, test_log_lines);
	tcase_add_test(tc, test_log_endpoint);
	tcase_add_test(tc, test_login_body);
	tcase_add_test(tc, test_session_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int ret;

	ret = unit_run_in_tmpdir(admin_suite(), root_dir);
	return ret;
}

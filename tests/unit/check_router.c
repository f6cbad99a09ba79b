/* check_router.c - unit tests for the Router (mail/router.h, SPEC.md 1
 * and 4): which account, rule, local part and mailbox an address reaches,
 * in the order of the rules, and the error a sender or an admin sees when
 * it reaches none. */
#include "build-config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/names.h"
#include "mail/router.h"
#include "postern/module.h"
#include "store/store.h"
#include "store/store_ops.h"
#include "unit.h"

#define MAX_SIZE (1024u * 1024)

/* The longest local part RFC 5321 allows, and one octet more. */
#define L64 "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" \
	    "abcdefghij" "abcdefghij" "abcd"
#define L65 L64 "e"

static struct unit_store fx;
static char root_dir[] = "/tmp/check_router.XXXXXX";

/* ---- the fixture ----
 *
 * example.com, the main domain: jsmith, bob and a 64-octet account;
 *   aliases sales -> bob, info -> jsmith; no unified account.
 * example.net: a domain alias of example.com.
 * client1.com: cl1, its unified account, and abc; alias support -> abc;
 *   its domain alias client1.net; bound to 192.0.2.9.
 * other.org: eve; bound to 192.0.2.7 and 2001:db8::7. */

static void admin_ok(int ret, const char *what, const char *error)
{
	ck_assert_msg(ret == 0, "%s: %s", what, error ? error : "(null)");
}

static void setup(void)
{
	char canonical[IP_TEXT_MAX];
	const char *error = NULL;

	unit_store_open(&fx, root_dir, MAX_SIZE);
	admin_ok(domain_add("example.com", &error), "domain example.com", error);
	admin_ok(domain_add("Client1.com", &error), "domain client1.com", error);
	admin_ok(domain_add("other.org", &error), "domain other.org", error);
	unit_account_add("jsmith", "example.com");
	unit_account_add("bob", "example.com");
	unit_account_add(L64, "example.com");
	unit_account_add("cl1", "client1.com");
	unit_account_add("abc", "client1.com");
	unit_account_add("eve", "other.org");
	admin_ok(alias_add("Sales@example.com", "bob", &error), "alias sales",
		 error);
	admin_ok(alias_add("info", "jsmith@example.com", &error), "alias info",
		 error);
	admin_ok(alias_add("support@client1.com", "abc", &error),
		 "alias support", error);
	admin_ok(domain_alias_add("example.net", "example.com", &error),
		 "domain alias example.net", error);
	admin_ok(domain_alias_add("Client1.NET", "client1.com", &error),
		 "domain alias client1.net", error);
	admin_ok(domain_set_unified("client1.com", "CL1", &error),
		 "unified cl1", error);
	admin_ok(domain_bind("client1.com", "192.0.2.9", canonical, &error),
		 "bind 192.0.2.9", error);
	admin_ok(domain_bind("other.org", "192.0.2.7", canonical, &error),
		 "bind 192.0.2.7", error);
	admin_ok(domain_bind("other.org", "2001:DB8:0:0::7", canonical, &error),
		 "bind 2001:db8::7", error);
}

static void teardown(void)
{
	unit_store_close(&fx);
}

/* ---- the table ---- */

struct row {
	const char *address;
	const char *local_ip;		/* where the client connected; NULL */
	enum route_result result;
	/* ROUTE_OK: */
	const char *account;		/* "name@domain" */
	enum route_rule rule;
	const char *local;		/* route.local, "" unless unified */
	const char *mailbox;		/* route.mailbox, "" unless DMA */
	const char *route_address;	/* what X-Real-To views match */
	/* otherwise: the error text, whole or (with error_part) a part */
	const char *error;
	bool error_part;
	const char *why;		/* what a user would notice */
};

#define OK(addr, ip, acct, r, loc, mbox, raddr, text) \
	{ addr, ip, ROUTE_OK, acct, r, loc, mbox, raddr, NULL, false, text }
#define UNKNOWN(addr, ip, err, text) \
	{ addr, ip, ROUTE_UNKNOWN, NULL, ROUTE_ACCOUNT, NULL, NULL, NULL, \
	  err, false, text }
#define BAD(addr, err_part, text) \
	{ addr, NULL, ROUTE_BAD_ADDRESS, NULL, ROUTE_ACCOUNT, NULL, NULL, \
	  NULL, err_part, true, text }

static const struct row rows[] = {
	/* an existing account */
	OK("jsmith@example.com", NULL, "jsmith@example.com", ROUTE_ACCOUNT,
	   "", "", "jsmith@example.com",
	   "mail to an account reaches it"),
	OK("JSmith@EXAMPLE.Com", NULL, "jsmith@example.com", ROUTE_ACCOUNT,
	   "", "", "jsmith@example.com",
	   "local parts and domains are case-insensitive"),
	OK(L64 "@example.com", NULL, L64 "@example.com", ROUTE_ACCOUNT,
	   "", "", L64 "@example.com",
	   "a 64-octet local part is a valid address"),

	/* account aliases */
	OK("sales@example.com", NULL, "bob@example.com", ROUTE_ALIAS,
	   "", "", "sales@example.com",
	   "mail to an alias reaches the account it names"),
	OK("SALES@Example.COM", NULL, "bob@example.com", ROUTE_ALIAS,
	   "", "", "sales@example.com",
	   "aliases are case-insensitive"),
	OK("info@example.com", NULL, "jsmith@example.com", ROUTE_ALIAS,
	   "", "", "info@example.com",
	   "each alias reaches its own account"),

	/* account+detail */
	OK("jsmith+news@example.com", NULL, "jsmith@example.com", ROUTE_DETAIL,
	   "", "", "jsmith+news@example.com",
	   "account+detail reaches the account"),
	OK("JSmith+News@example.com", NULL, "jsmith@example.com", ROUTE_DETAIL,
	   "", "", "jsmith+news@example.com",
	   "account+detail is case-insensitive"),
	OK("jsmith+a+b@example.com", NULL, "jsmith@example.com", ROUTE_DETAIL,
	   "", "", "jsmith+a+b@example.com",
	   "the detail starts at the first '+'"),
	OK("sales+x@example.com", NULL, "bob@example.com", ROUTE_DETAIL,
	   "", "", "sales+x@example.com",
	   "alias+detail reaches the alias's account"),
	OK("jsmith+tag#box@example.com", NULL, "jsmith@example.com",
	   ROUTE_DETAIL, "", "", "jsmith+tag#box@example.com",
	   "+detail comes before #mailbox: the detail takes the rest"),

	/* account#mailbox: Direct Mailbox Addressing */
	OK("jsmith#Lists@example.com", NULL, "jsmith@example.com",
	   ROUTE_MAILBOX, "", "Lists", "jsmith#lists@example.com",
	   "account#mailbox names the mailbox, in its own case"),
	OK("JSMITH#lists/Info@example.com", NULL, "jsmith@example.com",
	   ROUTE_MAILBOX, "", "lists/Info", "jsmith#lists/info@example.com",
	   "the account part of account#mailbox is case-insensitive"),
	OK("sales#Box@example.com", NULL, "bob@example.com", ROUTE_MAILBOX,
	   "", "Box", "sales#box@example.com",
	   "alias#mailbox names a mailbox of the alias's account"),
	OK("jsmith#box+tag@example.com", NULL, "jsmith@example.com",
	   ROUTE_MAILBOX, "", "box+tag", "jsmith#box+tag@example.com",
	   "a '+' after the '#' is part of the mailbox name"),

	/* the unified account */
	OK("abcdef@client1.com", NULL, "cl1@client1.com", ROUTE_UNIFIED,
	   "abcdef", "", "abcdef@client1.com",
	   "an unknown local part goes to the unified account, keeping it"),
	OK("ABCdef@Client1.COM", NULL, "cl1@client1.com", ROUTE_UNIFIED,
	   "abcdef", "", "abcdef@client1.com",
	   "the unified account's local part is kept in lower case"),
	OK("nobody+x@client1.com", NULL, "cl1@client1.com", ROUTE_UNIFIED,
	   "nobody+x", "", "nobody+x@client1.com",
	   "+detail of an unknown name goes to the unified account whole"),
	OK("cl1@client1.com", NULL, "cl1@client1.com", ROUTE_ACCOUNT,
	   "", "", "cl1@client1.com",
	   "the unified account's own name is the account, no local part"),
	OK("abc@client1.com", NULL, "abc@client1.com", ROUTE_ACCOUNT,
	   "", "", "abc@client1.com",
	   "an existing account wins over the unified account"),
	OK("abc+x@client1.com", NULL, "abc@client1.com", ROUTE_DETAIL,
	   "", "", "abc+x@client1.com",
	   "account+detail wins over the unified account"),
	OK("support@client1.com", NULL, "abc@client1.com", ROUTE_ALIAS,
	   "", "", "support@client1.com",
	   "an alias wins over the unified account"),
	OK("abc#Box@client1.com", NULL, "abc@client1.com", ROUTE_MAILBOX,
	   "", "Box", "abc#box@client1.com",
	   "account#mailbox wins over the unified account"),

	/* domain aliases */
	OK("jsmith@example.net", NULL, "jsmith@example.com", ROUTE_ACCOUNT,
	   "", "", "jsmith@example.com",
	   "a domain alias stands for its domain"),
	OK("sales+x@EXAMPLE.NET", NULL, "bob@example.com", ROUTE_DETAIL,
	   "", "", "sales+x@example.com",
	   "account aliases and details work under a domain alias"),
	OK("abcdef@client1.net", NULL, "cl1@client1.com", ROUTE_UNIFIED,
	   "abcdef", "", "abcdef@client1.com",
	   "a domain alias of a domain with a unified account reaches it, "
	   "recorded under the real domain so the view matches"),
	OK("abc@Client1.Net", NULL, "abc@client1.com", ROUTE_ACCOUNT,
	   "", "", "abc@client1.com",
	   "domain aliases are case-insensitive"),

	/* name%domain, the login form */
	OK("jsmith%example.com", NULL, "jsmith@example.com", ROUTE_ACCOUNT,
	   "", "", "jsmith@example.com",
	   "name%domain is name@domain"),
	OK("abcdef%CLIENT1.net", NULL, "cl1@client1.com", ROUTE_UNIFIED,
	   "abcdef", "", "abcdef@client1.com",
	   "name%domain goes through the domain alias and unified account"),
	UNKNOWN("jsmith%other.org@example.com", NULL,
		"no such user: jsmith%other.org@example.com",
		"with an '@' the '%' is part of the local part"),

	/* a bare local part: the bound domain, else the main domain */
	OK("jsmith", NULL, "jsmith@example.com", ROUTE_ACCOUNT,
	   "", "", "jsmith@example.com",
	   "a bare name belongs to the main domain"),
	OK("Sales", NULL, "bob@example.com", ROUTE_ALIAS,
	   "", "", "sales@example.com",
	   "a bare alias belongs to the main domain"),
	OK("eve", "192.0.2.7", "eve@other.org", ROUTE_ACCOUNT,
	   "", "", "eve@other.org",
	   "a bare name belongs to the domain bound to the local address"),
	OK("eve", "::ffff:192.0.2.7", "eve@other.org", ROUTE_ACCOUNT,
	   "", "", "eve@other.org",
	   "an IPv4-mapped local address is its IPv4 address"),
	OK("eve", "2001:db8::7", "eve@other.org", ROUTE_ACCOUNT,
	   "", "", "eve@other.org",
	   "a bound IPv6 address works in its canonical form"),
	OK("eve", "2001:0DB8:0000::0007", "eve@other.org", ROUTE_ACCOUNT,
	   "", "", "eve@other.org",
	   "a bound IPv6 address works written any way"),
	OK("abcdef", "192.0.2.9", "cl1@client1.com", ROUTE_UNIFIED,
	   "abcdef", "", "abcdef@client1.com",
	   "a bare name on a bound address reaches that domain's unified "
	   "account"),
	OK("jsmith@example.com", "192.0.2.7", "jsmith@example.com",
	   ROUTE_ACCOUNT, "", "", "jsmith@example.com",
	   "an explicit domain wins over the bound one"),
	OK("jsmith", "192.0.2.8", "jsmith@example.com", ROUTE_ACCOUNT,
	   "", "", "jsmith@example.com",
	   "an unbound local address means the main domain"),
	OK("jsmith", "not an address", "jsmith@example.com", ROUTE_ACCOUNT,
	   "", "", "jsmith@example.com",
	   "an unusable local address means the main domain"),
	UNKNOWN("jsmith", "192.0.2.7", "no such user: jsmith@other.org",
		"the bound domain wins over the main domain"),
	UNKNOWN("eve", NULL, "no such user: eve@example.com",
		"without a binding a bare name is not looked up elsewhere"),

	/* unknown */
	UNKNOWN("nobody@example.com", NULL, "no such user: nobody@example.com",
		"an unknown user in a domain without a unified account"),
	UNKNOWN("NoBody@Example.COM", NULL, "no such user: nobody@example.com",
		"the error names the address in lower case"),
	UNKNOWN("nobody+x@example.com", NULL,
		"no such user: nobody+x@example.com",
		"+detail of an unknown name is unknown"),
	UNKNOWN("nobody#box@example.com", NULL,
		"no such user: nobody#box@example.com",
		"#mailbox of an unknown name is unknown"),
	UNKNOWN("+x@example.com", NULL, "no such user: +x@example.com",
		"a detail with no account before it is unknown"),
	UNKNOWN("#box@example.com", NULL, "no such user: #box@example.com",
		"a mailbox with no account before it is unknown"),
	UNKNOWN("abc@example.com", NULL, "no such user: abc@example.com",
		"an account of one domain is not one of another"),
	UNKNOWN("x@nowhere.org", NULL, "no such domain: nowhere.org",
		"an unknown domain"),
	UNKNOWN("X@NoWhere.ORG", NULL, "no such domain: nowhere.org",
		"the unknown domain is named in lower case"),
	UNKNOWN("x%nowhere.org", NULL, "no such domain: nowhere.org",
		"an unknown domain in name%domain"),
	UNKNOWN("jsmith@example.org", NULL, "no such domain: example.org",
		"a domain is not its neighbour"),

	/* bad addresses */
	BAD("@example.com", "empty local part", "an empty local part"),
	BAD("", "empty local part", "an empty address"),
	BAD("%example.com", "empty local part", "an empty name in name%domain"),
	BAD("john..smith@example.com", "'..'", "two dots in a row"),
	BAD(".jsmith@example.com", "dot", "a leading dot"),
	BAD("jsmith.@example.com", "dot", "a trailing dot"),
	BAD(L65 "@example.com", "longer than 64 octets",
	    "a local part over 64 octets"),
	BAD(L65, "longer than 64 octets", "a bare name over 64 octets"),
	BAD("js\tmith@example.com", "allowed", "a control character"),
	BAD("js\x01mith@example.com", "allowed", "a control character"),
	BAD("js\x7fmith@example.com", "allowed", "DEL"),
	BAD("js\r\nmith@example.com", "allowed", "a line break"),
	BAD("john smith@example.com", "allowed", "a space"),
	BAD("\"john\"@example.com", "allowed", "a quoted local part"),
	BAD("a@b@example.com", "allowed", "two '@'"),
	BAD("caf\xc3\xa9@example.com", "allowed", "8-bit octets"),
	BAD("jsmith@", "empty", "no domain after the '@'"),
	BAD("jsmith@bad..example.com", "'..'", "two dots in the domain"),
	BAD("jsmith@.example.com", "dot", "a leading dot in the domain"),
	BAD("jsmith@example.com.", "dot", "a trailing dot in the domain"),
	BAD("jsmith@exa mple.com", "allowed", "a space in the domain"),
	BAD("jsmith@exa\tmple.com", "allowed", "a control character in the "
	    "domain"),
	BAD("jsmith@[192.0.2.1]", "allowed", "an address literal"),
	BAD("jsmith@a" L64 L64, "longer than 128 octets",
	    "a domain over 128 octets"),
};

#define ROWS (sizeof(rows) / sizeof(rows[0]))

static const char *result_name(enum route_result r)
{
	switch (r) {
	case ROUTE_OK:
		return "OK";
	case ROUTE_UNKNOWN:
		return "UNKNOWN";
	case ROUTE_BAD_ADDRESS:
		return "BAD_ADDRESS";
	case ROUTE_TEMPFAIL:
		return "TEMPFAIL";
	}
	return "?";
}

START_TEST(test_resolve_table)
{
	const struct row *w = &rows[_i];
	char account[ADDRESS_MAX + 1];
	enum route_result res;
	struct route r;
	const char *error = NULL;

	res = router_resolve(w->address, w->local_ip, &r, &error);
	ck_assert_msg(res == w->result, "%s: '%s' (local %s) was %s (%s), not %s",
		      w->why, w->address, w->local_ip ? w->local_ip : "-",
		      result_name(res), res == ROUTE_OK ? "" :
		      error ? error : "(no reason)", result_name(w->result));
	if (w->result != ROUTE_OK) {
		ck_assert_msg(error != NULL && error[0] != '\0',
			      "%s: '%s' refused without a reason", w->why,
			      w->address);
		if (w->error_part)
			ck_assert_msg(strstr(error, w->error) != NULL,
				      "%s: '%s' refused with '%s', which does not say '%s'",
				      w->why, w->address, error, w->error);
		else
			ck_assert_msg(strcmp(error, w->error) == 0,
				      "%s: '%s' refused with '%s', not '%s'",
				      w->why, w->address, error, w->error);
		return;
	}
	snprintf(account, sizeof(account), "%s@%s", r.account.name,
		 r.account.domain);
	ck_assert_msg(strcmp(account, w->account) == 0,
		      "%s: '%s' reached %s, not %s", w->why, w->address,
		      account, w->account);
	ck_assert_msg(r.account.id != 0, "%s: '%s' reached an account without "
		      "an id", w->why, w->address);
	ck_assert_msg(r.rule == w->rule, "%s: '%s' matched rule '%s', not '%s'",
		      w->why, w->address, route_rule_name(r.rule),
		      route_rule_name(w->rule));
	ck_assert_msg(strcmp(r.local, w->local) == 0,
		      "%s: '%s' kept local part '%s', not '%s'", w->why,
		      w->address, r.local, w->local);
	ck_assert_msg(strcmp(r.mailbox, w->mailbox) == 0,
		      "%s: '%s' named mailbox '%s', not '%s'", w->why,
		      w->address, r.mailbox, w->mailbox);
	ck_assert_msg(strcmp(r.address, w->route_address) == 0,
		      "%s: '%s' recorded as '%s' for X-Real-To views, not '%s'",
		      w->why, w->address, r.address, w->route_address);
}
END_TEST

/* ---- what changes with the admin's settings ---- */

static void assert_route(const char *address, const char *local_ip,
			 const char *account, enum route_rule rule,
			 const char *why)
{
	char got[ADDRESS_MAX + 1];
	struct route r;
	const char *error = NULL;
	enum route_result res = router_resolve(address, local_ip, &r, &error);

	ck_assert_msg(res == ROUTE_OK, "%s: '%s' was %s: %s", why, address,
		      result_name(res), error ? error : "(null)");
	snprintf(got, sizeof(got), "%s@%s", r.account.name, r.account.domain);
	ck_assert_msg(strcmp(got, account) == 0 && r.rule == rule,
		      "%s: '%s' reached %s by rule %s, not %s by %s", why,
		      address, got, route_rule_name(r.rule), account,
		      route_rule_name(rule));
}

static void assert_refused(const char *address, const char *local_ip,
			   enum route_result want, const char *want_error,
			   const char *why)
{
	struct route r;
	const char *error = NULL;
	enum route_result res = router_resolve(address, local_ip, &r, &error);

	ck_assert_msg(res == want, "%s: '%s' was %s, not %s", why, address,
		      result_name(res), result_name(want));
	ck_assert_msg(error != NULL && strcmp(error, want_error) == 0,
		      "%s: '%s' refused with '%s', not '%s'", why, address,
		      error ? error : "(null)", want_error);
}

START_TEST(test_unified_account_removed)
{
	const char *error = NULL;

	assert_route("abcdef@client1.com", NULL, "cl1@client1.com",
		     ROUTE_UNIFIED, "before the removal");
	admin_ok(account_del("cl1@client1.com", &error), "account_del cl1",
		 error);
	assert_refused("abcdef@client1.com", NULL, ROUTE_UNKNOWN,
		       "no such user: abcdef@client1.com",
		       "with its unified account removed, a domain bounces "
		       "unknown names");
	assert_refused("abcdef@client1.net", NULL, ROUTE_UNKNOWN,
		       "no such user: abcdef@client1.com",
		       "also through its domain alias");
	assert_route("abc@client1.com", NULL, "abc@client1.com", ROUTE_ACCOUNT,
		     "the domain's other accounts still get their mail");

	/* an account made later under the old name is not silently the
	 * catch-all again: that takes the admin's word */
	unit_account_add("cl1", "client1.com");
	assert_refused("abcdef@client1.com", NULL, ROUTE_UNKNOWN,
		       "no such user: abcdef@client1.com",
		       "a new account with the old name is not the unified "
		       "account");
	admin_ok(domain_set_unified("client1.com", "cl1", &error),
		 "unified again", error);
	assert_route("abcdef@client1.com", NULL, "cl1@client1.com",
		     ROUTE_UNIFIED, "set again, it takes the mail again");
}
END_TEST

START_TEST(test_unified_account_cleared_and_moved)
{
	const char *error = NULL;

	admin_ok(domain_set_unified("client1.com", "abc", &error),
		 "unified abc", error);
	assert_route("abcdef@client1.com", NULL, "abc@client1.com",
		     ROUTE_UNIFIED, "a moved unified account takes the mail");
	assert_route("cl1@client1.com", NULL, "cl1@client1.com", ROUTE_ACCOUNT,
		     "the former unified account is an ordinary account");
	admin_ok(domain_set_unified("client1.com", "", &error),
		 "unified cleared", error);
	assert_refused("abcdef@client1.com", NULL, ROUTE_UNKNOWN,
		       "no such user: abcdef@client1.com",
		       "a cleared unified account takes nothing");
}
END_TEST

START_TEST(test_alias_removed)
{
	const char *error = NULL;

	admin_ok(alias_del("sales@example.com", &error), "alias_del", error);
	assert_refused("sales@example.com", NULL, ROUTE_UNKNOWN,
		       "no such user: sales@example.com",
		       "a removed alias takes no mail");
	assert_refused("sales+x@example.com", NULL, ROUTE_UNKNOWN,
		       "no such user: sales+x@example.com",
		       "nor does its +detail form");
	admin_ok(alias_del("support@client1.com", &error), "alias_del support",
		 error);
	assert_route("support@client1.com", NULL, "cl1@client1.com",
		     ROUTE_UNIFIED,
		     "a removed alias in a domain with a unified account goes "
		     "there");
}
END_TEST

START_TEST(test_domain_alias_removed)
{
	const char *error = NULL;

	admin_ok(domain_alias_del("example.net", &error), "domain_alias_del",
		 error);
	assert_refused("jsmith@example.net", NULL, ROUTE_UNKNOWN,
		       "no such domain: example.net",
		       "a removed domain alias takes no mail");
	assert_route("jsmith@example.com", NULL, "jsmith@example.com",
		     ROUTE_ACCOUNT, "the domain itself is untouched");
}
END_TEST

START_TEST(test_binding_moved_and_removed)
{
	char canonical[IP_TEXT_MAX];
	const char *error = NULL;

	admin_ok(domain_bind("client1.com", "192.0.2.7", canonical, &error),
		 "rebind", error);
	assert_route("abc", "192.0.2.7", "abc@client1.com", ROUTE_ACCOUNT,
		     "a rebound address belongs to its new domain");
	admin_ok(domain_unbind("192.0.2.7", canonical, &error), "unbind",
		 error);
	assert_route("jsmith", "192.0.2.7", "jsmith@example.com",
		     ROUTE_ACCOUNT,
		     "an unbound address falls back to the main domain");
}
END_TEST

START_TEST(test_main_domain)
{
	snprintf(fx.main_domain, sizeof(fx.main_domain), "Other.ORG");
	assert_route("eve", NULL, "eve@other.org", ROUTE_ACCOUNT,
		     "main_domain is case-insensitive");
	assert_route("jsmith", "192.0.2.9", "cl1@client1.com", ROUTE_UNIFIED,
		     "a binding still wins over main_domain");

	fx.main_domain[0] = '\0';
	assert_refused("jsmith", NULL, ROUTE_UNKNOWN,
		       "no domain in the name and no main_domain is configured",
		       "without main_domain a bare name has no domain");
	assert_route("jsmith@example.com", NULL, "jsmith@example.com",
		     ROUTE_ACCOUNT, "full addresses need no main_domain");
	assert_route("eve", "192.0.2.7", "eve@other.org", ROUTE_ACCOUNT,
		     "bound addresses need no main_domain");
}
END_TEST

START_TEST(test_main_domain_is_a_domain_alias)
{
	/* an admin who calls the domain by its other name in the
	 * configuration: bare names must still find their accounts */
	snprintf(fx.main_domain, sizeof(fx.main_domain), "example.net");
	assert_route("jsmith", NULL, "jsmith@example.com", ROUTE_ACCOUNT,
		     "main_domain naming a domain alias stands for its domain");
	assert_route("sales", NULL, "bob@example.com", ROUTE_ALIAS,
		     "with main_domain a domain alias, account aliases work");
	snprintf(fx.main_domain, sizeof(fx.main_domain), "client1.net");
	assert_route("abcdef", NULL, "cl1@client1.com", ROUTE_UNIFIED,
		     "and so does the unified account");
}
END_TEST

START_TEST(test_main_domain_missing)
{
	snprintf(fx.main_domain, sizeof(fx.main_domain), "gone.example");
	assert_refused("jsmith", NULL, ROUTE_UNKNOWN,
		       "no such domain: gone.example",
		       "main_domain naming no domain says so");
}
END_TEST

START_TEST(test_store_fault_is_temporary)
{
	struct route r;
	const char *error = NULL;
	enum route_result res;

	store_close();
	res = router_resolve("jsmith@example.com", NULL, &r, &error);
	ck_assert_msg(res == ROUTE_TEMPFAIL,
		      "a store fault must defer the mail (451), not bounce it: "
		      "was %s", result_name(res));
	ck_assert_msg(error != NULL && error[0] != '\0',
		      "a store fault needs a reason for the log");
	res = router_resolve("jsmith", "192.0.2.7", &r, &error);
	ck_assert_msg(res == ROUTE_TEMPFAIL,
		      "a store fault looking up a binding defers too: was %s",
		      result_name(res));
	ck_assert_msg(store_open(fx.data_dir, &error) == 0, "store_open: %s",
		      error);
}
END_TEST

START_TEST(test_rule_names)
{
	/* the words in the delivery log */
	ck_assert_str_eq(route_rule_name(ROUTE_ACCOUNT), "account");
	ck_assert_str_eq(route_rule_name(ROUTE_ALIAS), "alias");
	ck_assert_str_eq(route_rule_name(ROUTE_DETAIL), "detail");
	ck_assert_str_eq(route_rule_name(ROUTE_MAILBOX), "mailbox");
	ck_assert_str_eq(route_rule_name(ROUTE_UNIFIED), "unified");
}
END_TEST

static Suite *router_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("resolve");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_resolve_table, 0, (int)ROWS);
	tcase_add_test(tc, test_unified_account_removed);
	tcase_add_test(tc, test_unified_account_cleared_and_moved);
	tcase_add_test(tc, test_alias_removed);
	tcase_add_test(tc, test_domain_alias_removed);
	tcase_add_test(tc, test_binding_moved_and_removed);
	tcase_add_test(tc, test_main_domain);
	tcase_add_test(tc, test_main_domain_is_a_domain_alias);
	tcase_add_test(tc, test_main_domain_missing);
	tcase_add_test(tc, test_store_fault_is_temporary);
	tcase_add_test(tc, test_rule_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(router_suite(), root_dir);
}

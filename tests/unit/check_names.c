/* check_names.c - unit tests for mail/names: domain, account and mailbox
 * name rules. */
#include "build-config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/names.h"
#include "postern/module.h"
#include "unit.h"

/* A string of `len` copies of c (static storage, len < 1024). */
static const char *repeat(char c, size_t len)
{
	static char s[1024];

	ck_assert_uint_lt(len, sizeof(s));
	memset(s, c, len);
	s[len] = '\0';
	return s;
}

static void assert_object_ok(const char *name, const char *want_lower)
{
	char lower[ACCOUNT_NAME_MAX + 1];
	const char *error = NULL;

	memset(lower, 'Z', sizeof(lower));
	ck_assert_msg(name_object_check(name, lower, &error) == 0,
		      "'%s' refused: %s", name, error ? error : "(null)");
	ck_assert_str_eq(lower, want_lower);
}

static void assert_object_bad(const char *name)
{
	char lower[ACCOUNT_NAME_MAX + 1];
	const char *error = NULL;

	ck_assert_msg(name_object_check(name, lower, &error) < 0,
		      "'%s' accepted", name);
	ck_assert_ptr_nonnull(error);
	ck_assert_uint_gt(strlen(error), 0);
}

START_TEST(test_object_accepts_and_lowers)
{
	assert_object_ok("jsmith", "jsmith");
	assert_object_ok("JSmith", "jsmith");
	assert_object_ok("Example.COM", "example.com");
	assert_object_ok("a_b-c.d9", "a_b-c.d9");
	assert_object_ok("0", "0");
	assert_object_ok("-", "-");
	assert_object_ok("_x_", "_x_");
	assert_object_ok("MAIL.Example-1.ORG", "mail.example-1.org");
}
END_TEST

START_TEST(test_object_length)
{
	char want[ACCOUNT_NAME_MAX + 1];

	/* exactly 128 octets is allowed, 129 is not */
	memset(want, 'a', 128);
	want[128] = '\0';
	assert_object_ok(repeat('A', 128), want);
	assert_object_bad(repeat('a', 129));
	assert_object_bad(repeat('a', 500));
	assert_object_bad("");
}
END_TEST

START_TEST(test_object_rejects)
{
	static const char *const bad[] = {
		".lead", "trail.", ".", "..", "a..b", "a...b", "a b", " a",
		"a ", "a@b", "a%b", "a/b", "a\\b", "a\tb", "a\nb", "a\rb",
		"a\x01" "b", "a\x7f" "b", "a:b", "a+b", "a'b", "a\"b", "a*b",
		"\xc3\xa9t\xc3\xa9", "a\xff",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_object_bad(bad[i]);
}
END_TEST

START_TEST(test_domain_hyphens)
{
	static const char *const bad[] = {
		"-lead.test", "trail-.test", "a.-b.test", "a.b-.test", "a.test-", "-",
	};
	static const char *const good[] = {
		"a-b.test", "x--y.test", "xn--bcher-kva.example", "a.b-c.test", "a_b.test",
	};
	char lower[ACCOUNT_NAME_MAX + 1];
	const char *error = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(name_domain_check(bad[i], lower, &error) < 0,
			      "domain '%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(error, "must not start or end with '-'"));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(name_domain_check(good[i], lower, &error) == 0,
			      "domain '%s' refused: %s", good[i], error);
	/* and what any name may not be */
	ck_assert_int_lt(name_domain_check("a..b", lower, &error), 0);
	/* an account may start with one: RFC 5322 allows it */
	ck_assert_int_eq(name_object_check("-lead", lower, &error), 0);
}
END_TEST

static void assert_mailbox(const char *name, bool ok)
{
	const char *error = NULL;
	int ret = name_mailbox_check(name, &error);

	if (ok) {
		ck_assert_msg(ret == 0, "mailbox '%s' refused: %s", name,
			      error ? error : "(null)");
	} else {
		ck_assert_msg(ret < 0, "mailbox '%s' accepted", name);
		ck_assert_ptr_nonnull(error);
	}
}

START_TEST(test_mailbox_ok)
{
	static const char *const good[] = {
		"INBOX", "inbox", "lists/info", "a/b/c", "Sent Items", "a.b",
		"a/.b", "a/..b/c", ".hidden", "x~", "a/~b", "caf\xc3\xa9/x",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_mailbox(good[i], true);
}
END_TEST

START_TEST(test_mailbox_rejects)
{
	static const char *const bad[] = {
		"", "/", "/x", "x/", "a//b", "..", ".", "a/../b", "a/./b",
		"a/..", "./a", "../a", "a/.", "~x", "~", "~/x",
		"a\tb", "a\nb", "a\rb", "\x01", "x\x1f", "x\x7f", "a/b\x1b[0m",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_mailbox(bad[i], false);
}
END_TEST

START_TEST(test_mailbox_length)
{
	assert_mailbox(repeat('m', 255), true);
	assert_mailbox(repeat('m', 256), false);
	assert_mailbox(repeat('m', 1000), false);
}
END_TEST

static void assert_split(const char *address, const char *want_account,
			 const char *want_domain)
{
	char account[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	const char *error = NULL;

	memset(domain, 'Z', sizeof(domain));
	ck_assert_msg(name_address_split(address, account, domain, &error) == 0,
		      "'%s' refused: %s", address, error ? error : "(null)");
	ck_assert_str_eq(account, want_account);
	ck_assert_str_eq(domain, want_domain);
}

static const char *split_bad(const char *address)
{
	char account[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	const char *error = NULL;

	ck_assert_msg(name_address_split(address, account, domain, &error) < 0,
		      "'%s' accepted", address);
	ck_assert_ptr_nonnull(error);
	return error;
}

START_TEST(test_split_ok)
{
	assert_split("a@b", "a", "b");
	assert_split("a%b", "a", "b");
	assert_split("a", "a", "");
	assert_split("JSmith@Example.COM", "jsmith", "example.com");
	assert_split("jsmith%example.com", "jsmith", "example.com");
	assert_split("first.last@mail.example.org", "first.last",
		     "mail.example.org");
}
END_TEST

START_TEST(test_split_lengths)
{
	char addr[1100], want[ACCOUNT_NAME_MAX + 1];

	/* 128-octet account and domain parts */
	memset(want, 'a', 128);
	want[128] = '\0';
	snprintf(addr, sizeof(addr), "%s@%s", want, want);
	assert_split(addr, want, want);
	/* 129 on either side */
	snprintf(addr, sizeof(addr), "%s@b", repeat('a', 129));
	split_bad(addr);
	snprintf(addr, sizeof(addr), "a@%s", repeat('b', 129));
	split_bad(addr);
}
END_TEST

START_TEST(test_split_last_separator_wins)
{
	const char *error;

	/* split at the last separator: the account part keeps the first one
	 * and is refused for it (not the domain part) */
	error = split_bad("a@b%c");
	ck_assert_msg(strstr(error, "a@b") != NULL, "error: %s", error);
	error = split_bad("x%y@z");
	ck_assert_msg(strstr(error, "x%y") != NULL, "error: %s", error);
	error = split_bad("p@q@r");
	ck_assert_msg(strstr(error, "p@q") != NULL, "error: %s", error);
}
END_TEST

START_TEST(test_split_rejects)
{
	static const char *const bad[] = {
		"", "@", "%", "@b", "a@", "%b", "a%", ".a@b", "a.@b", "a@.b",
		"a@b.", "a@b..c", "a b@c", "a@b c", "a\n@b", "a@b\r",
		"a/b@c", "a@b/c",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		split_bad(bad[i]);
}
END_TEST

/* POP login strings (SPEC.md 1): split at the last '#'. */
START_TEST(test_login_split)
{
	static const struct { const char *in, *mailbox, *account; } ok[] = {
		{ "jsmith", "", "jsmith" },
		{ "jsmith@client1.com", "", "jsmith@client1.com" },
		{ "private#jsmith", "private", "jsmith" },
		{ "lists/info#jsmith@client1.com", "lists/info", "jsmith@client1.com" },
		{ "~public/announces#jsmith", "~public/announces", "jsmith" },
		{ "~boss@other/INBOX#jsmith%x.org", "~boss@other/INBOX", "jsmith%x.org" },
		{ "a#b#jsmith", "a#b", "jsmith" },	/* the last '#' */
		{ "box#", "box", "" },			/* the account check refuses "" */
	};
	char mailbox[LOGIN_MAILBOX_MAX + 1], account[ADDRESS_MAX + 1];
	char longbox[LOGIN_MAILBOX_MAX + 16];
	const char *error;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(name_login_split(ok[i].in, mailbox, account, &error), 0);
		ck_assert_str_eq(mailbox, ok[i].mailbox);
		ck_assert_str_eq(account, ok[i].account);
	}
	ck_assert_int_eq(name_login_split("#jsmith", mailbox, account, &error), -1);
	ck_assert_str_eq(error, "no mailbox before '#' in the login name");
	memset(longbox, 'x', sizeof(longbox) - 1);
	longbox[sizeof(longbox) - 1] = '\0';
	longbox[sizeof(longbox) - 8] = '#';
	ck_assert_int_eq(name_login_split(longbox, mailbox, account, &error), -1);
	ck_assert_str_eq(error, "login name too long");
}
END_TEST

START_TEST(test_mailbox_ref_split)
{
	char owner[ADDRESS_MAX + 1], name[MAILBOX_NAME_MAX + 1];
	const char *error;

	ck_assert_int_eq(name_mailbox_ref_split("lists/info", owner, name, &error), 0);
	ck_assert_str_eq(owner, "");
	ck_assert_str_eq(name, "lists/info");
	ck_assert_int_eq(name_mailbox_ref_split("~public/announces", owner, name, &error), 0);
	ck_assert_str_eq(owner, "public");
	ck_assert_str_eq(name, "announces");
	ck_assert_int_eq(name_mailbox_ref_split("~boss@x.org/a/b", owner, name, &error), 0);
	ck_assert_str_eq(owner, "boss@x.org");
	ck_assert_str_eq(name, "a/b");
	/* no '/', no owner, no mailbox, bad mailbox names */
	ck_assert_int_eq(name_mailbox_ref_split("~public", owner, name, &error), -1);
	ck_assert_str_eq(error, "a mailbox of another account is written ~owner/mailbox");
	ck_assert_int_eq(name_mailbox_ref_split("~/x", owner, name, &error), -1);
	ck_assert_int_eq(name_mailbox_ref_split("~public/", owner, name, &error), -1);
	ck_assert_int_eq(name_mailbox_ref_split("~public/../x", owner, name, &error), -1);
	ck_assert_int_eq(name_mailbox_ref_split("a//b", owner, name, &error), -1);
	ck_assert_int_eq(name_mailbox_ref_split("/x", owner, name, &error), -1);
}
END_TEST

static Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_object_accepts_and_lowers);
	tcase_add_test(tc, test_object_length);
	tcase_add_test(tc, test_object_rejects);
	tcase_add_test(tc, test_domain_hyphens);
	tcase_add_test(tc, test_mailbox_ok);
	tcase_add_test(tc, test_mailbox_rejects);
	tcase_add_test(tc, test_mailbox_length);
	tcase_add_test(tc, test_split_ok);
	tcase_add_test(tc, test_split_lengths);
	tcase_add_test(tc, test_split_last_separator_wins);
	tcase_add_test(tc, test_split_rejects);
	tcase_add_test(tc, test_login_split);
	tcase_add_test(tc, test_mailbox_ref_split);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(names_suite());
}

/* check_acl.c - unit tests for mail/acl: rights strings and ACL
 * identifiers. */
#include "build-config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "mail/acl.h"
#include "unit.h"

static unsigned int parse_ok(const char *str, enum acl_mode want_mode)
{
	enum acl_mode mode = (enum acl_mode)-1;
	unsigned int rights = 0xdead;
	const char *error = NULL;

	ck_assert_msg(acl_rights_parse(str, &mode, &rights, &error) == 0,
		      "'%s' refused: %s", str, error ? error : "(null)");
	ck_assert_int_eq(mode, want_mode);
	ck_assert_uint_eq(rights & ~ACL_ALL, 0);
	return rights;
}

static const char *parse_bad(const char *str)
{
	enum acl_mode mode;
	unsigned int rights;
	const char *error = NULL;

	ck_assert_msg(acl_rights_parse(str, &mode, &rights, &error) < 0,
		      "'%s' accepted", str);
	ck_assert_ptr_nonnull(error);
	return error;
}

static const char *fmt(unsigned int rights)
{
	static char buf[ACL_RIGHTS_STR_MAX];

	acl_rights_format(rights, buf);
	return buf;
}

START_TEST(test_letters_are_rfc4314_bits)
{
	static const struct { char letter; unsigned int bit; } map[] = {
		{ 'l', ACL_LOOKUP }, { 'r', ACL_READ }, { 's', ACL_SEEN },
		{ 'w', ACL_WRITE }, { 'i', ACL_INSERT }, { 'p', ACL_POST },
		{ 'c', ACL_CREATE }, { 'd', ACL_DELETE }, { 'a', ACL_ADMIN },
	};
	unsigned int all = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		char s[2] = { map[i].letter, '\0' };

		ck_assert_uint_eq(parse_ok(s, ACL_MODE_REPLACE), map[i].bit);
		ck_assert_str_eq(fmt(map[i].bit), s);
		ck_assert_uint_eq(all & map[i].bit, 0);	/* distinct bits */
		all |= map[i].bit;
	}
	ck_assert_uint_eq(all, ACL_ALL);
	ck_assert_str_eq(fmt(ACL_ALL), "lrswipcda");
	ck_assert_uint_eq(ACL_RIGHTS_STR_MAX, 10);
}
END_TEST

START_TEST(test_parse_any_order_canonical_format)
{
	ck_assert_str_eq(fmt(parse_ok("adcpiwsrl", ACL_MODE_REPLACE)),
			 "lrswipcda");
	ck_assert_str_eq(fmt(parse_ok("rl", ACL_MODE_REPLACE)), "lr");
	ck_assert_str_eq(fmt(parse_ok("drsd", ACL_MODE_REPLACE)), "rsd");
	ck_assert_str_eq(fmt(parse_ok("rrrr", ACL_MODE_REPLACE)), "r");
	ck_assert_str_eq(fmt(0), "");
}
END_TEST

START_TEST(test_parse_empty_and_signs)
{
	ck_assert_uint_eq(parse_ok("", ACL_MODE_REPLACE), 0);
	ck_assert_uint_eq(parse_ok("+", ACL_MODE_ADD), 0);
	ck_assert_uint_eq(parse_ok("-", ACL_MODE_REMOVE), 0);
	ck_assert_uint_eq(parse_ok("+lr", ACL_MODE_ADD), ACL_LOOKUP | ACL_READ);
	ck_assert_uint_eq(parse_ok("-d", ACL_MODE_REMOVE), ACL_DELETE);
}
END_TEST

START_TEST(test_apply)
{
	unsigned int lr = ACL_LOOKUP | ACL_READ;

	ck_assert_uint_eq(acl_rights_apply(ACL_MODE_REPLACE, lr, ACL_DELETE),
			  ACL_DELETE);
	ck_assert_uint_eq(acl_rights_apply(ACL_MODE_ADD, lr, ACL_SEEN),
			  lr | ACL_SEEN);
	ck_assert_uint_eq(acl_rights_apply(ACL_MODE_ADD, lr, ACL_READ), lr);
	ck_assert_uint_eq(acl_rights_apply(ACL_MODE_REMOVE, lr, ACL_READ),
			  ACL_LOOKUP);
	ck_assert_uint_eq(acl_rights_apply(ACL_MODE_REMOVE, lr, ACL_DELETE), lr);
	ck_assert_uint_eq(acl_rights_apply(ACL_MODE_REMOVE, lr, lr), 0);
	ck_assert_uint_eq(acl_rights_apply(ACL_MODE_REPLACE, lr, 0), 0);
	/* bits beyond the nine rights never survive */
	ck_assert_uint_eq(acl_rights_apply(ACL_MODE_ADD, 0, 0xffffu), ACL_ALL);
}
END_TEST

START_TEST(test_parse_rejects_naming_the_letter)
{
	ck_assert_ptr_nonnull(strstr(parse_bad("lrx"), "unknown right 'x'"));
	ck_assert_ptr_nonnull(strstr(parse_bad("R"), "unknown right 'R'"));
	ck_assert_ptr_nonnull(strstr(parse_bad("+-r"), "unknown right '-'"));
	ck_assert_ptr_nonnull(strstr(parse_bad("r+"), "unknown right '+'"));
	ck_assert_ptr_nonnull(strstr(parse_bad("l r"), "unknown right \\x20"));
	ck_assert_ptr_nonnull(strstr(parse_bad("r\n"), "unknown right \\x0a"));
	ck_assert_ptr_nonnull(strstr(parse_bad("\xff"), "unknown right \\xff"));
	/* RFC 2086's obsolete letters are not ours */
	parse_bad("x");
	parse_bad("t");
	parse_bad("e");
	parse_bad("k");
	ck_assert_ptr_nonnull(strstr(parse_bad("q"), "letters of lrswipcda"));
}
END_TEST

static void id_ok(const char *in, enum acl_id_kind kind, const char *text)
{
	struct acl_identifier id;
	const char *error = NULL;

	ck_assert_msg(acl_identifier_parse(in, &id, &error) == 0,
		      "'%s' refused: %s", in, error ? error : "(null)");
	ck_assert_int_eq(id.kind, kind);
	ck_assert_str_eq(id.text, text);
}

static const char *id_bad(const char *in)
{
	struct acl_identifier id;
	const char *error = NULL;

	ck_assert_msg(acl_identifier_parse(in, &id, &error) < 0,
		      "'%s' accepted", in);
	ck_assert_ptr_nonnull(error);
	return error;
}

START_TEST(test_identifiers)
{
	struct acl_identifier id;
	const char *error;

	id_ok("jsmith@example.com", ACL_ID_USER, "jsmith@example.com");
	id_ok("JSmith@Example.COM", ACL_ID_USER, "jsmith@example.com");
	id_ok("jsmith%example.com", ACL_ID_USER, "jsmith@example.com");
	id_ok("anyone", ACL_ID_ANYONE, "anyone");
	id_ok("ANYONE", ACL_ID_ANYONE, "anyone");
	id_ok("anyone@Example.com", ACL_ID_ANYONE_DOMAIN, "anyone@example.com");
	id_ok("anyone%example.com", ACL_ID_ANYONE_DOMAIN, "anyone@example.com");

	ck_assert_int_eq(acl_identifier_parse("Bob@Ex.ORG", &id, &error), 0);
	ck_assert_str_eq(id.name, "bob");
	ck_assert_str_eq(id.domain, "ex.org");
	ck_assert_int_eq(acl_identifier_parse("anyone@ex.org", &id, &error), 0);
	ck_assert_str_eq(id.name, "");
	ck_assert_str_eq(id.domain, "ex.org");
}
END_TEST

START_TEST(test_identifier_rejects)
{
	char longer[300];

	ck_assert_str_eq(id_bad("jsmith"),
			 "invalid ACL identifier 'jsmith': name the domain too (jsmith@DOMAIN), or use anyone@DOMAIN or anyone");
	ck_assert_ptr_nonnull(strstr(id_bad(""), "invalid ACL identifier"));
	ck_assert_ptr_nonnull(strstr(id_bad("a b@example.com"),
				     "invalid ACL identifier"));
	id_bad("@example.com");
	id_bad("jsmith@");
	id_bad("jsmith@bad..domain");
	id_bad("anyone@");
	id_bad("x\n@example.com");
	memset(longer, 'a', 129);
	snprintf(longer + 129, sizeof(longer) - 129, "@example.com");
	ck_assert_ptr_nonnull(strstr(id_bad(longer), "longer than 128"));
}
END_TEST

static Suite *acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_letters_are_rfc4314_bits);
	tcase_add_test(tc, test_parse_any_order_canonical_format);
	tcase_add_test(tc, test_parse_empty_and_signs);
	tcase_add_test(tc, test_apply);
	tcase_add_test(tc, test_parse_rejects_naming_the_letter);
	tcase_add_test(tc, test_identifiers);
	tcase_add_test(tc, test_identifier_rejects);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(acl_suite());
}

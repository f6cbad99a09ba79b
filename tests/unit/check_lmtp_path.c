/* check_lmtp_path.c - unit tests for the LMTP module's path parser
 * (modules/lmtp/lmtp_path.c): MAIL FROM:/RCPT TO: arguments as real MTAs
 * write them, and the malformed ones a server must refuse. */
#include "build-config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../modules/lmtp/lmtp_path.h"
#include "unit.h"

struct path_case {
	const char *arg;
	const char *keyword;
	enum lmtp_path_result result;
	const char *addr;	/* OK: the address; otherwise the error */
	const char *params;	/* OK: what follows the path */
};

static const struct path_case cases[] = {
	/* the forms Postfix, Exim and sendmail send */
	{ "FROM:<bob@example.org>", "FROM:", LMTP_PATH_OK, "bob@example.org", "" },
	{ "FROM:<bob@example.org> SIZE=1234 BODY=8BITMIME", "FROM:", LMTP_PATH_OK,
	  "bob@example.org", "SIZE=1234 BODY=8BITMIME" },
	{ "from:<>", "FROM:", LMTP_PATH_OK, "", "" },
	{ "FROM: <bob@example.org>", "FROM:", LMTP_PATH_OK, "bob@example.org", "" },
	{ "TO:<jsmith@example.test>", "TO:", LMTP_PATH_OK, "jsmith@example.test", "" },
	{ "TO:<Postmaster>", "TO:", LMTP_PATH_OK, "Postmaster", "" },
	{ "TO:<jsmith+news@example.test>", "TO:", LMTP_PATH_OK, "jsmith+news@example.test", "" },
	{ "TO:<jsmith#lists/info@example.test>", "TO:", LMTP_PATH_OK,
	  "jsmith#lists/info@example.test", "" },
	{ "TO:<a@[192.0.2.1]>", "TO:", LMTP_PATH_OK, "a@[192.0.2.1]", "" },
	/* a source route is dropped (RFC 5321 4.1.2) */
	{ "TO:<@relay.test,@b.test:jsmith@example.test>", "TO:", LMTP_PATH_OK,
	  "jsmith@example.test", "" },
	/* quoted local parts: unquoted when they need no quotes */
	{ "TO:<\"jsmith\"@example.test>", "TO:", LMTP_PATH_OK, "jsmith@example.test", "" },
	{ "FROM:<\"john doe\"@example.org>", "FROM:", LMTP_PATH_OK,
	  "\"john doe\"@example.org", "" },
	{ "FROM:<\"a>b\"@example.org> SIZE=1", "FROM:", LMTP_PATH_OK,
	  "\"a>b\"@example.org", "SIZE=1" },
	{ "FROM:<\"a\\\"b\"@example.org>", "FROM:", LMTP_PATH_OK,
	  "\"a\\\"b\"@example.org", "" },
	/* no shape at all */
	{ "FROM:bob@example.org", "FROM:", LMTP_PATH_SYNTAX, NULL, NULL },
	{ "TO:<bob@example.org>", "FROM:", LMTP_PATH_SYNTAX, NULL, NULL },
	{ "FROM:<bob@example.org", "FROM:", LMTP_PATH_SYNTAX, NULL, NULL },
	{ "FROM:<bob@example.org>SIZE=1", "FROM:", LMTP_PATH_SYNTAX, NULL, NULL },
	{ "", "FROM:", LMTP_PATH_SYNTAX, NULL, NULL },
	/* a path, but no address */
	{ "TO:<a b@example.test>", "TO:", LMTP_PATH_BAD_ADDRESS,
	  "the local part holds characters that need quotes", NULL },
	{ "TO:<.a@example.test>", "TO:", LMTP_PATH_BAD_ADDRESS,
	  "the local part holds characters that need quotes", NULL },
	{ "TO:<a..b@example.test>", "TO:", LMTP_PATH_BAD_ADDRESS,
	  "the local part holds characters that need quotes", NULL },
	{ "TO:<@example.test>", "TO:", LMTP_PATH_BAD_ADDRESS,
	  "a source route without ':'", NULL },
	{ "TO:<x@>", "TO:", LMTP_PATH_BAD_ADDRESS, "the domain is not valid", NULL },
	{ "TO:<x@a..b>", "TO:", LMTP_PATH_BAD_ADDRESS, "the domain is not valid", NULL },
	{ "TO:<x@-a.b>", "TO:", LMTP_PATH_BAD_ADDRESS, "the domain is not valid", NULL },
	{ "TO:<x@[1.2]]>", "TO:", LMTP_PATH_BAD_ADDRESS, "the domain is not valid", NULL },
	{ "TO:<x@exa mple>", "TO:", LMTP_PATH_BAD_ADDRESS, "the domain is not valid", NULL },
	{ "TO:<\"open@example.test>", "TO:", LMTP_PATH_SYNTAX, NULL, NULL },
	{ "TO:<\"a\"b@example.test>", "TO:", LMTP_PATH_BAD_ADDRESS,
	  "text after the quoted local part", NULL },
	{ "TO:<a\tb@example.test>", "TO:", LMTP_PATH_BAD_ADDRESS,
	  "a control character in the address", NULL },
	{ "TO:<a@example.test\x7f>", "TO:", LMTP_PATH_BAD_ADDRESS,
	  "a control character in the address", NULL },
};

START_TEST(test_path_cases)
{
	const struct path_case *c = &cases[_i];
	char arg[512], addr[LMTP_PATH_MAX + 1], *params;
	const char *error = "(none)";
	enum lmtp_path_result res;

	snprintf(arg, sizeof(arg), "%s", c->arg);
	res = lmtp_path_parse(arg, c->keyword, addr, &params, &error);
	ck_assert_msg(res == c->result, "[%s]: result %d, want %d (%s)", c->arg,
		      res, c->result, error);
	if (res == LMTP_PATH_OK) {
		ck_assert_str_eq(addr, c->addr);
		ck_assert_str_eq(params, c->params);
	} else if (c->addr != NULL) {
		ck_assert_str_eq(error, c->addr);
	}
}
END_TEST

START_TEST(test_path_length_bound)
{
	/* RFC 5321: 256 octets with the brackets; one more is refused */
	char arg[600], addr[LMTP_PATH_MAX + 1], *params;
	const char *error;
	char local[65], domain[200];

	memset(local, 'a', 64);
	local[64] = '\0';
	memset(domain, 'd', 189);
	domain[189] = '\0';
	snprintf(arg, sizeof(arg), "TO:<%s@%s>", local, domain);	/* 254 */
	ck_assert_int_eq(lmtp_path_parse(arg, "TO:", addr, &params, &error),
			 LMTP_PATH_OK);
	ck_assert_uint_eq(strlen(addr), 254);
	snprintf(arg, sizeof(arg), "TO:<%s@%sd>", local, domain);	/* 255 */
	ck_assert_int_eq(lmtp_path_parse(arg, "TO:", addr, &params, &error),
			 LMTP_PATH_BAD_ADDRESS);
	ck_assert_str_eq(error, "the address is longer than 254 octets");
}
END_TEST

START_TEST(test_params)
{
	char list[] = "SIZE=10  BODY=8BITMIME SMTPUTF8", *p = list, *key, *value;
	const char *error;

	ck_assert(lmtp_param_next(&p, &key, &value, &error));
	ck_assert_str_eq(key, "SIZE");
	ck_assert_str_eq(value, "10");
	ck_assert(lmtp_param_next(&p, &key, &value, &error));
	ck_assert_str_eq(key, "BODY");
	ck_assert_str_eq(value, "8BITMIME");
	ck_assert(lmtp_param_next(&p, &key, &value, &error));
	ck_assert_str_eq(key, "SMTPUTF8");
	ck_assert_ptr_null(value);
	ck_assert(!lmtp_param_next(&p, &key, &value, &error));
	ck_assert_ptr_null(error);

	char bad[] = "=1", *q = bad;

	ck_assert(!lmtp_param_next(&q, &key, &value, &error));
	ck_assert_str_eq(error, "a parameter without a keyword");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lmtp_path");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_path_cases, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_path_length_bound);
	tcase_add_test(tc, test_params);
	suite_add_tcase(s, tc);
	return unit_run(s);
}

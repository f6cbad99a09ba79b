/* check_limit_key.c - per-address limits count IPv4 addresses one by one
 * and IPv6 clients by their /64. */
#include "build-config.h"

#include <check.h>
#include <netinet/in.h>

#include "host/service.h"
#include "unit.h"

/* Two buffers in turn, so two keys can be compared in one assertion. */
static const char *key(const char *ip)
{
	static char out[2][INET6_ADDRSTRLEN + 4];
	static int turn;

	turn ^= 1;
	service_limit_key(ip, out[turn], sizeof(out[turn]));
	return out[turn];
}

START_TEST(ipv4_is_itself)
{
	ck_assert_str_eq(key("192.0.2.7"), "192.0.2.7");
	ck_assert_str_eq(key("127.0.0.1"), "127.0.0.1");
}
END_TEST

START_TEST(ipv6_by_its_64)
{
	ck_assert_str_eq(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
	/* two addresses of one subscriber's /64 share a key... */
	ck_assert_str_eq(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
	/* ...the neighbouring /64 does not */
	ck_assert_str_ne(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
	ck_assert_str_eq(key("::1"), "::/64");
}
END_TEST

START_TEST(garbage_is_kept_as_is)
{
	ck_assert_str_eq(key("not:an:address::zz"), "not:an:address::zz");
	ck_assert_str_eq(key(""), "");
}
END_TEST

static Suite *limit_key_suite(void)
{
	Suite *s = suite_create("limit_key");
	TCase *tc = tcase_create("keys");

	tcase_add_test(tc, ipv4_is_itself);
	tcase_add_test(tc, ipv6_by_its_64);
	tcase_add_test(tc, garbage_is_kept_as_is);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(limit_key_suite());
}

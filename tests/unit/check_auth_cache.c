/* check_auth_cache.c - the verified-password cache answers only for the
 * same user, password and stored hash, and only while its TTL runs. */
#include "build-config.h"

#include <check.h>
#include <stdlib.h>
#include <unistd.h>

#include "mail/auth_cache.h"
#include "unit.h"

static void setup(void)
{
	auth_cache_set_ttl(60);
}

static void teardown(void)
{
	auth_cache_clear();
}

START_TEST(hit_after_store)
{
	ck_assert(!auth_cache_check("a@x", "$y$hash1", "pw"));
	auth_cache_store("a@x", "$y$hash1", "pw");
	ck_assert(auth_cache_check("a@x", "$y$hash1", "pw"));
}
END_TEST

START_TEST(wrong_password_or_user_misses)
{
	auth_cache_store("a@x", "$y$hash1", "pw");
	ck_assert(!auth_cache_check("a@x", "$y$hash1", "pW"));
	ck_assert(!auth_cache_check("a@x", "$y$hash1", ""));
	ck_assert(!auth_cache_check("b@x", "$y$hash1", "pw"));
}
END_TEST

START_TEST(password_change_invalidates)
{
	auth_cache_store("a@x", "$y$hash1", "pw");
	/* the stored hash changed: the old password must not pass */
	ck_assert(!auth_cache_check("a@x", "$y$hash2", "pw"));
	auth_cache_store("a@x", "$y$hash2", "new");
	ck_assert(auth_cache_check("a@x", "$y$hash2", "new"));
	ck_assert(!auth_cache_check("a@x", "$y$hash2", "pw"));
}
END_TEST

START_TEST(ttl_zero_is_off)
{
	auth_cache_set_ttl(0);
	auth_cache_store("a@x", "$y$hash1", "pw");
	ck_assert(!auth_cache_check("a@x", "$y$hash1", "pw"));
}
END_TEST

START_TEST(entries_expire)
{
	auth_cache_set_ttl(1);
	auth_cache_store("a@x", "$y$hash1", "pw");
	ck_assert(auth_cache_check("a@x", "$y$hash1", "pw"));
	sleep(2);
	ck_assert(!auth_cache_check("a@x", "$y$hash1", "pw"));
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *s = suite_create("auth_cache");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hit_after_store);
	tcase_add_test(tc, wrong_password_or_user_misses);
	tcase_add_test(tc, password_change_invalidates);
	tcase_add_test(tc, ttl_zero_is_off);
	tcase_add_test(tc, entries_expire);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(cache_suite());
}

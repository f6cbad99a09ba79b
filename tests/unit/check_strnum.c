/* check_strnum.c - unit tests for lib/strnum: strict number parsing. */
#include "build-config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/strnum.h"
#include "unit.h"

/* Strings no parser may accept: only plain decimal digits are numbers. */
static const char *const not_numbers[] = {
	"", "+1", "-1", " 1", "1 ", "0x10", "1a", "a1", "1.0", "1,000",
	"\t1", "1\n", "--1", "\xd9\xa1",
};
#define N_NOT_NUMBERS (sizeof(not_numbers) / sizeof(not_numbers[0]))

START_TEST(test_uint32_digits)
{
	uint32_t n = 12345;

	ck_assert_int_eq(str_to_uint32("0", &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(str_to_uint32("42", &n), 0);
	ck_assert_uint_eq(n, 42);
	ck_assert_int_eq(str_to_uint32("007", &n), 0);
	ck_assert_uint_eq(n, 7);
	ck_assert_int_eq(str_to_uint32("4294967295", &n), 0);
	ck_assert_uint_eq(n, UINT32_MAX);
}
END_TEST

START_TEST(test_uint32_rejects)
{
	uint32_t n;

	for (size_t i = 0; i < N_NOT_NUMBERS; i++) {
		ck_assert_msg(str_to_uint32(not_numbers[i], &n) < 0,
			      "'%s' accepted", not_numbers[i]);
	}
	ck_assert_int_lt(str_to_uint32("4294967296", &n), 0);
	ck_assert_int_lt(str_to_uint32("10000000000", &n), 0);
	ck_assert_int_lt(str_to_uint32("18446744073709551616", &n), 0);
}
END_TEST

START_TEST(test_uint64_limits)
{
	uint64_t n = 1;

	ck_assert_int_eq(str_to_uint64("0", &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(str_to_uint64("4294967296", &n), 0);
	ck_assert_uint_eq(n, 4294967296ull);
	ck_assert_int_eq(str_to_uint64("18446744073709551615", &n), 0);
	ck_assert_uint_eq(n, UINT64_MAX);
	ck_assert_int_lt(str_to_uint64("18446744073709551616", &n), 0);
	ck_assert_int_lt(str_to_uint64("18446744073709551620", &n), 0);
	ck_assert_int_lt(str_to_uint64("99999999999999999999", &n), 0);
	ck_assert_int_lt(str_to_uint64("184467440737095516150", &n), 0);
}
END_TEST

START_TEST(test_uint64_rejects)
{
	uint64_t n;

	for (size_t i = 0; i < N_NOT_NUMBERS; i++) {
		ck_assert_msg(str_to_uint64(not_numbers[i], &n) < 0,
			      "'%s' accepted", not_numbers[i]);
	}
}
END_TEST

START_TEST(test_size_units)
{
	static const struct {
		const char *s;
		uint64_t want;
	} ok[] = {
		{ "0", 0 },
		{ "512", 512 },
		{ "1k", 1024 },
		{ "10K", 10240 },
		{ "20M", 20ull * 1024 * 1024 },
		{ "3m", 3ull * 1024 * 1024 },
		{ "1G", 1024ull * 1024 * 1024 },
		{ "2g", 2ull * 1024 * 1024 * 1024 },
		{ "18446744073709551615", UINT64_MAX },
		{ "17179869183G", 17179869183ull * 1024 * 1024 * 1024 },
	};
	uint64_t n;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = 1;
		ck_assert_msg(str_parse_size(ok[i].s, &n) == 0, "'%s' refused",
			      ok[i].s);
		ck_assert_msg(n == ok[i].want, "'%s' gave %llu", ok[i].s,
			      (unsigned long long)n);
	}
}
END_TEST

START_TEST(test_size_rejects)
{
	static const char *const bad[] = {
		"k", "1kb", "1KB", "1T", "1 k", "1s", "1.5M", "M1", "-1k",
		"+1k", "1kk",
		/* overflow, with and without a unit */
		"18446744073709551616", "17179869184G", "18014398509481984k",
		"99999999999999999999M",
	};
	uint64_t n;

	for (size_t i = 0; i < N_NOT_NUMBERS; i++) {
		ck_assert_msg(str_parse_size(not_numbers[i], &n) < 0,
			      "'%s' accepted", not_numbers[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(str_parse_size(bad[i], &n) < 0, "'%s' accepted",
			      bad[i]);
	}
}
END_TEST

START_TEST(test_seconds_units)
{
	static const struct {
		const char *s;
		uint64_t want;
	} ok[] = {
		{ "0", 0 }, { "30", 30 }, { "30s", 30 }, { "5m", 300 },
		{ "2h", 7200 }, { "1d", 86400 }, { "0d", 0 },
	};
	uint64_t n;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = 1;
		ck_assert_msg(str_parse_seconds(ok[i].s, &n) == 0,
			      "'%s' refused", ok[i].s);
		ck_assert_msg(n == ok[i].want, "'%s' gave %llu", ok[i].s,
			      (unsigned long long)n);
	}
}
END_TEST

START_TEST(test_seconds_rejects)
{
	static const char *const bad[] = {
		"s", "5x", "5 m", "5min", "1w", "1y", "5ms", "1k", "1.5h",
		"-5s", "5s ", "213503982334602d",
		"18446744073709551616s",
	};
	uint64_t n;

	for (size_t i = 0; i < N_NOT_NUMBERS; i++) {
		ck_assert_msg(str_parse_seconds(not_numbers[i], &n) < 0,
			      "'%s' accepted", not_numbers[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(str_parse_seconds(bad[i], &n) < 0,
			      "'%s' accepted", bad[i]);
	}
}
END_TEST

static Suite *strnum_suite(void)
{
	Suite *s = suite_create("strnum");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_uint32_digits);
	tcase_add_test(tc, test_uint32_rejects);
	tcase_add_test(tc, test_uint64_limits);
	tcase_add_test(tc, test_uint64_rejects);
	tcase_add_test(tc, test_size_units);
	tcase_add_test(tc, test_size_rejects);
	tcase_add_test(tc, test_seconds_units);
	tcase_add_test(tc, test_seconds_rejects);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(strnum_suite());
}

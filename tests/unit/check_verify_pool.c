/* check_verify_pool.c - the password verification pool answers every job
 * exactly once with the right verdict, on the loop; a cancelled job is
 * never answered; with no threads a job is answered before submit returns. */
#include "build-config.h"

#include <check.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/verify_pool.h"
#include "mail/password.h"
#include "store/store_ops.h"
#include "unit.h"

#define JOBS 24

struct answer {
	int calls;
	bool ok;
	char password[64];
};

static struct ev_loop *loop;
static char hash_a[PASSWORD_HASH_MAX], hash_b[PASSWORD_HASH_MAX];
static unsigned int answered;

static void on_done(void *ctx, bool ok, const char *password)
{
	struct answer *a = ctx;

	a->calls++;
	a->ok = ok;
	snprintf(a->password, sizeof(a->password), "%s", password);
	answered++;
}

static void setup(void)
{
	const char *error;

	loop = ev_loop_new(EVFLAG_AUTO);
	password_set_cost(1);
	ck_assert_int_eq(password_hash("alpha", hash_a, sizeof(hash_a), &error), 0);
	ck_assert_int_eq(password_hash("beta", hash_b, sizeof(hash_b), &error), 0);
	answered = 0;
}

static void teardown(void)
{
	verify_pool_stop();
	ev_loop_destroy(loop);
}

/* Run the loop until `want` answers came (or give up after 30 s). */
static void run_until(unsigned int want)
{
	ev_tstamp deadline = ev_time() + 30;

	while (answered < want && ev_time() < deadline)
		ev_run(loop, EVRUN_ONCE);
}

START_TEST(every_job_answered_once_with_its_verdict)
{
	static struct answer answers[JOBS];
	const char *error;

	memset(answers, 0, sizeof(answers));
	ck_assert_int_eq(verify_pool_start(loop, 3, &error), 0);
	for (int i = 0; i < JOBS; i++) {
		const char *pw = i % 3 == 0 ? "alpha" : i % 3 == 1 ? "beta" : "gamma";

		ck_assert_ptr_nonnull(verify_submit(pw, i % 2 ? hash_b : hash_a,
						    on_done, &answers[i]));
	}
	run_until(JOBS);
	ck_assert_uint_eq(answered, JOBS);
	ck_assert_uint_eq(verify_pool_busy(), 0);
	for (int i = 0; i < JOBS; i++) {
		bool expect = (i % 3 == 0 && i % 2 == 0) || (i % 3 == 1 && i % 2 == 1);

		ck_assert_int_eq(answers[i].calls, 1);
		ck_assert_int_eq(answers[i].ok, expect);
	}
}
END_TEST

START_TEST(dummy_hash_never_matches)
{
	struct answer a = { 0 };
	const char *error;

	ck_assert_int_eq(verify_pool_start(loop, 1, &error), 0);
	verify_submit("alpha", NULL, on_done, &a);
	run_until(1);
	ck_assert_int_eq(a.calls, 1);
	ck_assert(!a.ok);
}
END_TEST

START_TEST(cancelled_job_is_not_answered)
{
	struct answer a = { 0 }, b = { 0 };
	struct verify_job *job;
	const char *error;

	ck_assert_int_eq(verify_pool_start(loop, 1, &error), 0);
	job = verify_submit("alpha", hash_a, on_done, &a);
	verify_submit("beta", hash_b, on_done, &b);
	verify_cancel(job);
	run_until(1);
	/* b comes after a on the one thread: a has been run and dropped */
	ck_assert_int_eq(b.calls, 1);
	ck_assert(b.ok);
	ck_assert_int_eq(a.calls, 0);
	ck_assert_uint_eq(verify_pool_busy(), 0);
}
END_TEST

START_TEST(no_threads_answers_inline)
{
	struct answer a = { 0 };
	const char *error;

	ck_assert_int_eq(verify_pool_start(loop, 0, &error), 0);
	ck_assert_ptr_null(verify_submit("alpha", hash_a, on_done, &a));
	ck_assert_int_eq(a.calls, 1);
	ck_assert(a.ok);
	ck_assert_str_eq(a.password, "alpha");
}
END_TEST

START_TEST(stop_with_jobs_queued)
{
	struct answer a[8];
	const char *error;

	memset(a, 0, sizeof(a));
	ck_assert_int_eq(verify_pool_start(loop, 1, &error), 0);
	for (int i = 0; i < 8; i++)
		verify_submit("alpha", hash_a, on_done, &a[i]);
	/* teardown's stop drops what is left; the leak checker watches */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("verify_pool");
	TCase *tc = tcase_create("pool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_job_answered_once_with_its_verdict);
	tcase_add_test(tc, dummy_hash_never_matches);
	tcase_add_test(tc, cancelled_job_is_not_answered);
	tcase_add_test(tc, no_threads_answers_inline);
	tcase_add_test(tc, stop_with_jobs_queued);
	suite_add_tcase(s, tc);
	return unit_run(s);
}

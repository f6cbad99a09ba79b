/* check_delivery_pool.c - deliveries made durable on the pool's threads:
 * every one is stored exactly once and reported once, on the loop, after
 * delivery_data_finish has returned; many at once are all stored with
 * distinct UIDs; a delivery freed while the threads hold it is stored all
 * the same and reported to nobody; stopping the pool finishes what is
 * under way. */
#include "build-config.h"

#include <check.h>
#include <ev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/delivery_pool.h"
#include "mail/accounts.h"
#include "postern/module.h"
#include "store/store.h"
#include "store/store_ops.h"
#include "unit.h"

#define MAX_SIZE (1024u * 1024)
#define USERS 8
#define MESSAGES 120

static struct unit_store fx;
static char root_dir[] = "/tmp/check_delivery_pool.XXXXXX";
static struct ev_loop *loop;
static struct account users[USERS];
static unsigned int reported;

struct outcome {
	int calls;
	unsigned int delivered;
	bool returned;		/* delivery_data_finish had returned */
};

static void on_done(void *ctx, unsigned int delivered)
{
	struct outcome *o = ctx;

	ck_assert_msg(o->returned, "done ran inside delivery_data_finish");
	o->calls++;
	o->delivered = delivered;
	reported++;
}

static void setup(void)
{
	struct account_secrets secrets;
	const char *error = NULL;

	unit_store_open(&fx, root_dir, MAX_SIZE);
	ck_assert_int_eq(domain_add("example.com", &error), 0);
	memset(&secrets, 0, sizeof(secrets));
	for (int i = 0; i < USERS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "u%d", i);
		ck_assert_int_eq(store_account_add(name, "example.com", &secrets,
						   &users[i], &error), 0);
	}
	loop = ev_loop_new(EVFLAG_AUTO);
	reported = 0;
}

static void teardown(void)
{
	delivery_pool_stop();
	ev_loop_destroy(loop);
	unit_store_close(&fx);
}

/* A delivery of a small message to user i, its data written. */
static struct delivery *prepared(int i, int n)
{
	struct delivery *d = delivery_new("sender@example.org", NULL, MAX_SIZE);
	char rcpt[64], text[128];
	const char *error = NULL;

	snprintf(rcpt, sizeof(rcpt), "u%d@example.com", i % USERS);
	ck_assert_int_eq(delivery_add_recipient(d, rcpt, 0, &error), DELIVERY_OK);
	ck_assert_int_eq(delivery_data_begin(d, &error), DELIVERY_OK);
	snprintf(text, sizeof(text), "Subject: message %d\n\nbody of %d\n", n, n);
	delivery_data_write(d, text, strlen(text));
	return d;
}

static uint32_t stored_for(int i)
{
	struct mailbox_snapshot *snap = NULL;
	const char *error = NULL;
	uint32_t n;

	ck_assert_int_eq(mailbox_snapshot_take(&users[i], "INBOX", NULL, &snap,
					       &error), 0);
	n = snap->count;
	/* UIDs strictly increase: none given twice */
	for (uint32_t k = 1; k < n; k++)
		ck_assert_uint_gt(snap->msgs[k].uid, snap->msgs[k - 1].uid);
	mailbox_snapshot_free(&snap);
	return n;
}

static uint32_t stored_total(void)
{
	uint32_t n = 0;

	for (int i = 0; i < USERS; i++)
		n += stored_for(i);
	return n;
}

static void run_until_reported(unsigned int want)
{
	ev_tstamp deadline = ev_time() + 30;

	while (reported < want && ev_time() < deadline)
		ev_run(loop, EVRUN_ONCE);
}

START_TEST(many_deliveries_stored_once_each_and_reported_on_the_loop)
{
	static struct outcome out[MESSAGES];
	static struct delivery *ds[MESSAGES];
	const char *error = NULL;

	memset(out, 0, sizeof(out));
	ck_assert_int_eq(delivery_pool_start(loop, 4, &error), 0);
	for (int n = 0; n < MESSAGES; n++) {
		ds[n] = prepared(n, n);
		delivery_data_finish(ds[n], on_done, &out[n]);
		out[n].returned = true;
	}
	ck_assert_msg(reported == 0, "reports come from the loop, not before it runs");
	run_until_reported(MESSAGES);
	ck_assert_uint_eq(reported, MESSAGES);
	for (int n = 0; n < MESSAGES; n++) {
		const char *why;

		ck_assert_int_eq(out[n].calls, 1);
		ck_assert_uint_eq(out[n].delivered, 1);
		ck_assert_int_eq(delivery_result(ds[n], 0, &why), DELIVERY_OK);
		delivery_free(&ds[n]);
	}
	ck_assert_uint_eq(stored_total(), MESSAGES);
	for (int i = 0; i < USERS; i++)
		ck_assert_uint_eq(stored_for(i), MESSAGES / USERS);
}
END_TEST

START_TEST(freed_while_stored_is_kept_and_reported_to_nobody)
{
	static struct outcome seen;
	struct outcome watch = { 0, 0, true };
	struct delivery *d, *w;
	const char *error = NULL;
	ev_tstamp deadline;

	ck_assert_int_eq(delivery_pool_start(loop, 2, &error), 0);
	memset(&seen, 0, sizeof(seen));
	d = prepared(0, 1);
	delivery_data_finish(d, on_done, &seen);
	/* the client went away: the session frees its delivery at once */
	delivery_free(&d);
	ck_assert_ptr_null(d);
	/* a second delivery, reported, tells when the pool has moved on */
	w = prepared(1, 2);
	delivery_data_finish(w, on_done, &watch);
	run_until_reported(1);
	deadline = ev_time() + 30;
	while (stored_for(0) < 1 && ev_time() < deadline)
		ev_run(loop, EVRUN_NOWAIT);
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_int_eq(watch.calls, 1);
	/* the MTA never heard 250 and will send it again: a duplicate, which
	 * SMTP accepts (RFC 1047), rather than a message lost */
	ck_assert_uint_eq(stored_for(0), 1);
	delivery_free(&w);
}
END_TEST

START_TEST(stop_finishes_what_is_under_way)
{
	static struct outcome out[20];
	static struct delivery *ds[20];
	const char *error = NULL;

	memset(out, 0, sizeof(out));
	ck_assert_int_eq(delivery_pool_start(loop, 3, &error), 0);
	for (int n = 0; n < 20; n++) {
		ds[n] = prepared(n, n);
		out[n].returned = true;
		delivery_data_finish(ds[n], on_done, &out[n]);
	}
	delivery_pool_stop();
	/* everything was stored and reported during the stop */
	ck_assert_uint_eq(reported, 20);
	ck_assert_uint_eq(stored_total(), 20);
	for (int n = 0; n < 20; n++)
		delivery_free(&ds[n]);
	/* stopped: the next delivery is stored inline again */
	struct outcome inline_out = { 0, 0, true };
	struct delivery *d = prepared(3, 99);

	delivery_data_finish(d, on_done, &inline_out);
	ck_assert_int_eq(inline_out.calls, 1);
	delivery_free(&d);
}
END_TEST

START_TEST(without_threads_finish_is_inline)
{
	struct outcome out = { 0, 0, true };
	struct delivery *d;
	const char *error = NULL;

	ck_assert_int_eq(delivery_pool_start(loop, 0, &error), 0);
	d = prepared(2, 1);
	delivery_data_finish(d, on_done, &out);
	ck_assert_int_eq(out.calls, 1);
	ck_assert_uint_eq(out.delivered, 1);
	delivery_free(&d);
	ck_assert_uint_eq(stored_for(2), 1);
}
END_TEST

START_TEST(failures_are_reported_through_the_pool_too)
{
	struct outcome out = { 0, 0, true };
	struct delivery *d = delivery_new("", NULL, 64);
	const char *error = NULL, *why;
	char big[200];

	ck_assert_int_eq(delivery_pool_start(loop, 2, &error), 0);
	ck_assert_int_eq(delivery_add_recipient(d, "u1@example.com", 0, &error),
			 DELIVERY_OK);
	ck_assert_int_eq(delivery_data_begin(d, &error), DELIVERY_OK);
	memset(big, 'x', sizeof(big));
	delivery_data_write(d, big, sizeof(big));
	delivery_data_finish(d, on_done, &out);
	run_until_reported(1);
	ck_assert_int_eq(out.calls, 1);
	ck_assert_uint_eq(out.delivered, 0);
	ck_assert_int_eq(delivery_result(d, 0, &why), DELIVERY_TOO_BIG);
	ck_assert_str_eq(why, "message larger than the limit of 64 octets");
	delivery_free(&d);
	ck_assert_uint_eq(stored_for(1), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("delivery_pool");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, many_deliveries_stored_once_each_and_reported_on_the_loop);
	tcase_add_test(tc, freed_while_stored_is_kept_and_reported_to_nobody);
	tcase_add_test(tc, stop_finishes_what_is_under_way);
	tcase_add_test(tc, without_threads_finish_is_inline);
	tcase_add_test(tc, failures_are_reported_through_the_pool_too);
	suite_add_tcase(s, tc);
	return unit_run_in_tmpdir(s, root_dir);
}

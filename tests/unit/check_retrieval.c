/* check_retrieval.c - unit tests for POP3 retrieval sources: the settings
 * parser (mail/retrieval_source.c), the store (store_retrieval.c: round
 * trips, the due index through take, finish, backoff, triggers and
 * release, removal with the account) and the notes that keep a fetched
 * message from being stored twice, written by local delivery in the
 * transaction that stores it. */
#include "build-config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/accounts.h"
#include "mail/retrieval_source.h"
#include "store/store.h"
#include "store/store_ops.h"
#include "store/secret.h"
#include "store/store_retrieval.h"
#include "unit.h"

static struct unit_store fx;
static char root_dir[] = "/tmp/check_retrieval.XXXXXX";
static struct account jsmith;

static void setup(void)
{
	const char *error = NULL;

	unit_store_open(&fx, root_dir, 1024 * 1024);
	ck_assert_int_eq(store_domain_add("example.com", &error), 0);
	unit_account_add("jsmith", "example.com");
	ck_assert_msg(account_find("jsmith@example.com", &jsmith, &error) == 0,
		      "%s", error);
}

static void teardown(void)
{
	unit_store_close(&fx);
}

static void make_source(struct retrieval_source *s)
{
	const char *error = NULL;

	retrieval_source_defaults(s);
	ck_assert_int_eq(retrieval_source_set(s, "host", "pop.example.net", &error), 0);
	ck_assert_int_eq(retrieval_source_set(s, "user", "js", &error), 0);
	ck_assert_int_eq(retrieval_source_set(s, "password", "pass word", &error), 0);
	ck_assert_int_eq(retrieval_source_complete(s, &error), 0);
	s->account = jsmith;
}

static uint64_t add_source(void)
{
	struct retrieval_source s;
	const char *error = NULL;
	uint64_t id = 0;

	make_source(&s);
	ck_assert_msg(store_retrieval_add(&s, &id, &error) == 0, "add: %s", error);
	ck_assert_uint_ne(id, 0);
	return id;
}

static struct retrieval_source get_source(uint64_t id)
{
	struct retrieval_source s;
	const char *error = NULL;
	bool found = false;

	ck_assert_int_eq(store_retrieval_get(&jsmith, id, &s, &found, &error), 0);
	ck_assert_msg(found, "source %llu is gone", (unsigned long long)id);
	return s;
}

/* Take what is due at now: how many. */
static size_t take(uint64_t now, struct retrieval_source *out, size_t max,
		   uint64_t *next_r)
{
	const char *error = NULL;
	uint64_t next;
	size_t n = 99;

	ck_assert_msg(retrieval_take_due(now, now + 3600, out, max, &n, &next,
					 &error) == 0, "take: %s", error);
	if (next_r != NULL)
		*next_r = next;
	return n;
}

static void finish(const struct retrieval_source *s, const char *err,
		   uint64_t now)
{
	const char *error = NULL;
	bool found = false;

	ck_assert_int_eq(retrieval_finish(s, err, 2, now, 6 * 3600, &found, &error), 0);
	ck_assert(found);
}

START_TEST(test_settings_parser)
{
	struct retrieval_source s;
	const char *error = NULL;

	retrieval_source_defaults(&s);
	ck_assert_int_eq(s.tls, RETRIEVAL_TLS_STLS);
	ck_assert(s.verify && s.enabled && !s.keep);
	ck_assert_str_eq(s.mailbox, "INBOX");
	/* each setting refuses what it cannot take, naming itself */
	ck_assert_int_eq(retrieval_source_set(&s, "port", "0", &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "port"));
	ck_assert_int_eq(retrieval_source_set(&s, "port", "65536", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "port", "x", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "port", "995", &error), 0);
	ck_assert_uint_eq(s.port, 995);
	ck_assert_int_eq(retrieval_source_set(&s, "tls", "ssl", &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "implicit, stls or none"));
	ck_assert_int_eq(retrieval_source_set(&s, "tls", "implicit", &error), 0);
	ck_assert_int_eq(retrieval_source_set(&s, "auth", "cram", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "auth", "apop", &error), 0);
	ck_assert_int_eq(s.auth, RETRIEVAL_AUTH_APOP);
	ck_assert_int_eq(retrieval_source_set(&s, "host", "", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "host", "pop example", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "host", "pop\r\nQUIT", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "host", "::1", &error), 0);
	ck_assert_int_eq(retrieval_source_set(&s, "user", "a b", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "user", "a\001", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "password", "x\ny", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "mailbox", "../x", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "mailbox", "lists/remote", &error), 0);
	ck_assert_int_eq(retrieval_source_set(&s, "interval", "5", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "interval", "10m", &error), 0);
	ck_assert_uint_eq(s.interval, 600);
	ck_assert_int_eq(retrieval_source_set(&s, "interval", "8d", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "keep", "maybe", &error), -1);
	ck_assert_int_eq(retrieval_source_set(&s, "keep", "yes", &error), 0);
	ck_assert(s.keep);
	ck_assert_int_eq(retrieval_source_set(&s, "verify", "off", &error), 0);
	ck_assert(!s.verify);
	ck_assert_int_eq(retrieval_source_set(&s, "colour", "red", &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "unknown setting"));
	/* what a source needs, and the TLS mode's port */
	retrieval_source_defaults(&s);
	ck_assert_int_eq(retrieval_source_complete(&s, &error), -1);
	ck_assert_str_eq(error, "host: needed");
	ck_assert_int_eq(retrieval_source_set(&s, "host", "h", &error), 0);
	ck_assert_int_eq(retrieval_source_set(&s, "user", "u", &error), 0);
	ck_assert_int_eq(retrieval_source_complete(&s, &error), -1);
	ck_assert_str_eq(error, "password: needed");
	ck_assert_int_eq(retrieval_source_set(&s, "password", "p", &error), 0);
	ck_assert_int_eq(retrieval_source_complete(&s, &error), 0);
	ck_assert_uint_eq(s.port, 110);
	s.port = 0;
	s.tls = RETRIEVAL_TLS_IMPLICIT;
	ck_assert_int_eq(retrieval_source_complete(&s, &error), 0);
	ck_assert_uint_eq(s.port, 995);
}
END_TEST

static void count_cb(const struct retrieval_source *s, void *ctx)
{
	(void)s;
	(*(size_t *)ctx)++;
}

START_TEST(test_round_trip_update_delete)
{
	struct retrieval_source s, t;
	const char *error = NULL;
	bool found;
	size_t n = 0;
	uint64_t id, id2;

	id = add_source();
	s = get_source(id);
	ck_assert_str_eq(s.host, "pop.example.net");
	ck_assert_str_eq(s.user, "js");
	ck_assert_str_eq(s.password, "pass word");
	ck_assert_str_eq(s.account.name, "jsmith");
	ck_assert_uint_eq(s.port, 110);
	ck_assert_int_eq(s.last_result, RETRIEVAL_NEVER);
	ck_assert_uint_eq(s.next_run, 0);	/* due at once */
	id2 = add_source();
	ck_assert_uint_gt(id2, id);
	ck_assert_int_eq(store_retrieval_list(&jsmith, count_cb, &n, &error), 0);
	ck_assert_uint_eq(n, 2);

	/* the target mailbox must exist */
	make_source(&t);
	snprintf(t.mailbox, sizeof(t.mailbox), "remote");
	ck_assert_int_eq(store_retrieval_add(&t, &id2, &error), -1);
	ck_assert_str_eq(error, "no mailbox remote in account jsmith@example.com");
	ck_assert_int_eq(store_mailbox_add(&jsmith, "remote", &error), 0);
	ck_assert_int_eq(store_retrieval_add(&t, &id2, &error), 0);

	/* an update changes what the admin set, nothing else */
	s.keep = true;
	s.interval = 3600;
	snprintf(s.host, sizeof(s.host), "pop2.example.net");
	s.last_result = RETRIEVAL_FAILED;	/* ignored */
	ck_assert_int_eq(store_retrieval_update(&s, &found, &error), 0);
	ck_assert(found);
	t = get_source(id);
	ck_assert_str_eq(t.host, "pop2.example.net");
	ck_assert(t.keep);
	ck_assert_uint_eq(t.interval, 3600);
	ck_assert_int_eq(t.last_result, RETRIEVAL_NEVER);

	ck_assert_int_eq(store_retrieval_del(&jsmith, id, &found, &error), 0);
	ck_assert(found);
	ck_assert_int_eq(store_retrieval_del(&jsmith, id, &found, &error), 0);
	ck_assert(!found);
	ck_assert_int_eq(store_retrieval_get(&jsmith, id, &t, &found, &error), 0);
	ck_assert(!found);
}
END_TEST

START_TEST(test_due_finish_backoff)
{
	struct retrieval_source got[4], s;
	const char *error = NULL;
	uint64_t now = (uint64_t)time(NULL), next, id;
	bool found;

	id = add_source();
	/* due now: taken once, leased */
	ck_assert_uint_eq(take(now, got, 4, &next), 1);
	ck_assert_uint_eq(got[0].id, id);
	ck_assert_str_eq(got[0].password, "pass word");
	ck_assert_uint_eq(next, now + 3600);	/* its lease */
	s = get_source(id);
	ck_assert(s.running);
	ck_assert_uint_eq(s.run_seq, 1);
	ck_assert_uint_eq(s.next_run, now + 3600);
	ck_assert_uint_eq(take(now, got, 4, NULL), 0);

	/* a good run: due again after the interval */
	finish(&got[0], NULL, now);
	s = get_source(id);
	ck_assert(!s.running);
	ck_assert_int_eq(s.last_result, RETRIEVAL_OK);
	ck_assert_uint_eq(s.last_fetched, 2);
	ck_assert_uint_eq(s.done_seq, 1);
	ck_assert_uint_eq(s.next_run, now + 600);
	ck_assert_uint_eq(take(now + 599, got, 4, &next), 0);
	ck_assert_uint_eq(next, now + 600);

	/* failures back off: 600, 1200, 2400 ... at most 6 h */
	for (unsigned int i = 0; i < 8; i++) {
		uint64_t expect = 600ull << i;

		if (expect > 6 * 3600)
			expect = 6 * 3600;
		ck_assert_uint_eq(take(now + 10 * 86400 * (i + 1), got, 4, NULL), 1);
		finish(&got[0], "connection refused", now);
		s = get_source(id);
		ck_assert_uint_eq(s.failures, i + 1);
		ck_assert_str_eq(s.last_error, "connection refused");
		ck_assert_uint_eq(s.next_run, now + expect);
	}
	/* a trigger during a run: due again as soon as it ends */
	ck_assert_uint_eq(take(now + 100 * 86400, got, 4, NULL), 1);
	{
		size_t count;

		ck_assert_int_eq(store_retrieval_request(&jsmith, id, 0, &count,
							 &found, &error), 0);
		ck_assert(found);
	}
	finish(&got[0], NULL, now);
	s = get_source(id);
	ck_assert(s.requested);
	ck_assert_uint_eq(s.next_run, 0);
	ck_assert_uint_eq(s.failures, 0);
	ck_assert_uint_eq(take(now, got, 4, NULL), 1);

	/* a process that ended mid-run: its runs are due at its next start */
	ck_assert_uint_eq(take(now, got, 4, NULL), 0);
	ck_assert_int_eq(retrieval_release_all(&error), 0);
	s = get_source(id);
	ck_assert(!s.running);
	ck_assert_uint_eq(take(now, got, 4, NULL), 1);
}
END_TEST

START_TEST(test_disabled_and_login_gap)
{
	struct retrieval_source got[4], s;
	const char *error = NULL;
	uint64_t now = (uint64_t)time(NULL), id;
	size_t count;
	bool found;

	id = add_source();
	s = get_source(id);
	s.enabled = false;
	ck_assert_int_eq(store_retrieval_update(&s, &found, &error), 0);
	ck_assert_uint_eq(take(now, got, 4, NULL), 0);
	/* a login does not wake a disabled source */
	ck_assert_int_eq(store_retrieval_request(&jsmith, 0, 0, &count, &found, &error), 0);
	ck_assert_uint_eq(count, 0);
	s.enabled = true;
	ck_assert_int_eq(store_retrieval_update(&s, &found, &error), 0);
	ck_assert_uint_eq(take(now, got, 4, NULL), 1);
	finish(&got[0], NULL, now);
	/* a login within the gap of the last start asks for nothing */
	ck_assert_int_eq(store_retrieval_request(&jsmith, 0, 60, &count, &found, &error), 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_int_eq(store_retrieval_request(&jsmith, 0, 0, &count, &found, &error), 0);
	ck_assert_uint_eq(count, 1);
	ck_assert_uint_eq(take(now, got, 4, NULL), 1);
	/* more due than asked for: the bound holds */
	finish(&got[0], NULL, now);
	add_source();
	add_source();
	ck_assert_int_eq(store_retrieval_request(&jsmith, 0, 0, &count, &found, &error), 0);
	ck_assert_uint_eq(count, 3);
	ck_assert_uint_eq(take(now, got, 2, NULL), 2);
	ck_assert_uint_eq(take(now, got, 2, NULL), 1);
}
END_TEST

/* Deliver `text` as a fetched message of source `id` with key (NULL: a
 * digest); the outcome, and whether it was a duplicate. */
static enum delivery_status fetch(uint64_t id, const char *key, const char *text,
				  bool *dup_r)
{
	struct delivery *d = delivery_new("", NULL, 1024 * 1024);
	enum delivery_status st;
	const char *error = NULL;

	st = delivery_add_mailbox(d, &jsmith, "INBOX",
				  "X-Retrieved-From: pop3://js@pop.example.net:110\r\n",
				  strlen(text), &error);
	ck_assert_msg(st == DELIVERY_OK, "add: %s", error);
	delivery_set_retrieval_key(d, id, key);
	ck_assert_int_eq(delivery_data_begin(d, &error), DELIVERY_OK);
	delivery_data_write(d, text, strlen(text));
	delivery_data_finish(d, NULL, NULL);
	st = delivery_result(d, 0, &error);
	*dup_r = delivery_was_duplicate(d);
	if (key == NULL)
		ck_assert_int_eq(delivery_retrieval_key(d)[0], '#');
	delivery_free(&d);
	return st;
}

static uint32_t inbox_count(void)
{
	struct mailbox_snapshot *snap;
	const char *error = NULL;
	uint32_t n;

	ck_assert_int_eq(mailbox_snapshot_take(&jsmith, "INBOX", NULL, &snap, &error), 0);
	n = snap->count;
	mailbox_snapshot_free(&snap);
	return n;
}

START_TEST(test_fetched_once)
{
	char *keys[3] = { "uidl-1", "uidl-2", "uidl-3" };
	bool seen[3], dup;
	const char *error = NULL;
	uint64_t id = add_source(), other = add_source();

	ck_assert_int_eq(fetch(id, "uidl-1", "Subject: a\r\n\r\none\r\n", &dup), DELIVERY_OK);
	ck_assert(!dup);
	/* the same UIDL again (a run cut short before DELE): not stored */
	ck_assert_int_eq(fetch(id, "uidl-1", "Subject: a\r\n\r\none\r\n", &dup), DELIVERY_OK);
	ck_assert(dup);
	ck_assert_uint_eq(inbox_count(), 1);
	/* another source's notes are its own */
	ck_assert_int_eq(fetch(other, "uidl-1", "Subject: a\r\n\r\none\r\n", &dup), DELIVERY_OK);
	ck_assert(!dup);
	ck_assert_uint_eq(inbox_count(), 2);
	ck_assert_int_eq(fetch(id, "uidl-2", "Subject: b\r\n\r\ntwo\r\n", &dup), DELIVERY_OK);
	ck_assert_int_eq(retrieval_seen_lookup(id, keys, 3, seen, &error), 0);
	ck_assert(seen[0] && seen[1] && !seen[2]);
	/* the remote lists only uidl-2 now: uidl-1's note goes */
	ck_assert_int_eq(retrieval_seen_prune(id, keys + 1, 2, &error), 0);
	ck_assert_int_eq(retrieval_seen_lookup(id, keys, 3, seen, &error), 0);
	ck_assert(!seen[0] && seen[1] && !seen[2]);

	/* without UIDL: the digest of the message stops the second copy */
	ck_assert_int_eq(fetch(id, NULL, "Subject: c\r\n\r\nthree\r\n", &dup), DELIVERY_OK);
	ck_assert(!dup);
	ck_assert_int_eq(fetch(id, NULL, "Subject: c\r\n\r\nthree\r\n", &dup), DELIVERY_OK);
	ck_assert(dup);
	ck_assert_int_eq(fetch(id, NULL, "Subject: c\r\n\r\nfour\r\n", &dup), DELIVERY_OK);
	ck_assert(!dup);
	ck_assert_uint_eq(inbox_count(), 5);
	/* pruning by a UIDL listing leaves digests alone */
	ck_assert_int_eq(retrieval_seen_prune(id, keys, 0, &error), 0);
	ck_assert_int_eq(fetch(id, NULL, "Subject: c\r\n\r\nthree\r\n", &dup), DELIVERY_OK);
	ck_assert(dup);
}
END_TEST

START_TEST(test_stored_copy_has_the_trace_first)
{
	struct mailbox_snapshot *snap;
	const char *error = NULL, *text = "Subject: x\r\n\r\n.dot\r\nbody\r\n";
	char buf[256];
	bool dup;
	int fd;
	ssize_t n;

	ck_assert_int_eq(fetch(add_source(), "u", text, &dup), DELIVERY_OK);
	ck_assert_int_eq(mailbox_snapshot_take(&jsmith, "INBOX", NULL, &snap, &error), 0);
	ck_assert_uint_eq(snap->count, 1);
	ck_assert_int_eq(message_body_open(&snap->msgs[0], &fd), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "X-Retrieved-From: pop3://js@pop.example.net:110\r\n"
			 "Subject: x\r\n\r\n.dot\r\nbody\r\n");
	ck_assert(snap->msgs[0].flags & MSG_HAS_DOT_LINE);
	mailbox_snapshot_free(&snap);
}
END_TEST

START_TEST(test_quota_refuses)
{
	const char *error = NULL;
	struct delivery *d = delivery_new("", NULL, 1024 * 1024);

	ck_assert_int_eq(account_set_quota("jsmith@example.com", 10, &error), 0);
	ck_assert_int_eq(delivery_add_mailbox(d, &jsmith, "INBOX", "X: y\r\n", 100,
					      &error), DELIVERY_OVER_QUOTA);
	delivery_free(&d);
	d = delivery_new("", NULL, 50);
	ck_assert_int_eq(delivery_add_mailbox(d, &jsmith, "INBOX", "X: y\r\n", 100,
					      &error), DELIVERY_TOO_BIG);
	delivery_free(&d);
}
END_TEST

START_TEST(test_account_removal_takes_its_sources)
{
	struct retrieval_source got[2];
	const char *error = NULL;
	bool dup, found;
	uint64_t id = add_source();

	ck_assert_int_eq(fetch(id, "u1", "Subject: a\r\n\r\nx\r\n", &dup), DELIVERY_OK);
	ck_assert_int_eq(store_account_del("jsmith", "example.com", &error), 0);
	unit_account_add("jsmith", "example.com");
	{
		struct retrieval_source s;
		struct account old = jsmith;

		ck_assert_int_eq(account_find("jsmith@example.com", &jsmith, &error), 0);
		ck_assert_uint_ne(old.id, jsmith.id);
		ck_assert_int_eq(store_retrieval_get(&old, id, &s, &found, &error), 0);
		ck_assert(!found);
	}
	/* nothing is due, and its index key went with it */
	ck_assert_uint_eq(take((uint64_t)time(NULL), got, 2, NULL), 0);
	{
		enum store_db dbs[3] = { DB_RETRIEVAL, DB_RETRIEVAL_DUE, DB_RETRIEVAL_SEEN };
		uint64_t counts[3];

		ck_assert_int_eq(store_count(dbs, counts, 3, &error), 0);
		ck_assert_uint_eq(counts[0], 0);
		ck_assert_uint_eq(counts[1], 0);
		ck_assert_uint_eq(counts[2], 0);
	}
}
END_TEST

static int raw_has_password(MDB_txn *txn, void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*(bool *)ctx = false;
	if ((rc = mdb_cursor_open(txn, store_dbi(DB_RETRIEVAL), &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
		if (memmem(v.mv_data, v.mv_size, "pass word", 9) != NULL)
			*(bool *)ctx = true;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

START_TEST(test_password_is_sealed)
{
	struct retrieval_source s;
	const char *error = NULL;
	char path[512], out[64];
	struct stat st;
	bool has = true, found;
	uint64_t id = add_source();
	FILE *f;

	/* the store holds no password in the clear ... */
	ck_assert_int_eq(store_read(raw_has_password, &has, &error), 0);
	ck_assert(!has);
	/* ... its key is the server user's alone */
	snprintf(path, sizeof(path), "%s/secret.key", fx.data_dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, 32);
	ck_assert_str_eq(get_source(id).password, "pass word");
	/* a text without the mark is taken as it is */
	ck_assert_int_eq(secret_open("plain", out, sizeof(out), &error), 0);
	ck_assert_str_eq(out, "plain");
	ck_assert_int_eq(secret_open("v1:!!!", out, sizeof(out), &error), -1);
	ck_assert_str_eq(error, "a damaged sealed secret");
	/* another key opens nothing, and says so */
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("0123456789abcdef0123456789abcdef", f);
	fclose(f);
	secret_forget_key();
	ck_assert_int_eq(store_retrieval_get(&jsmith, id, &s, &found, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "secret.key does not open"));
}
END_TEST

static Suite *retrieval_suite(void)
{
	Suite *s = suite_create("retrieval");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_settings_parser);
	tcase_add_test(tc, test_round_trip_update_delete);
	tcase_add_test(tc, test_due_finish_backoff);
	tcase_add_test(tc, test_disabled_and_login_gap);
	tcase_add_test(tc, test_fetched_once);
	tcase_add_test(tc, test_stored_copy_has_the_trace_first);
	tcase_add_test(tc, test_quota_refuses);
	tcase_add_test(tc, test_account_removal_takes_its_sources);
	tcase_add_test(tc, test_password_is_sealed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(retrieval_suite(), root_dir);
}

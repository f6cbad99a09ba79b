/* check_store_growth.c - the store grows its LMDB map instead of failing
 * when it fills, and follows a map another process grew. */
#include "build-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/import.h"
#include "store/store.h"
#include "unit.h"

static char dir[] = "/tmp/postern-growth-XXXXXX";
static struct core_settings set;

static void setup(void)
{
	const char *error;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&set, 0, sizeof(set));
	set.main_domain = (char *)"example.test";
	core_settings_set_current(&set);
	/* 64 KiB: a few dozen messages' metadata fill it */
	store_set_initial_map_size(64 * 1024);
	ck_assert_msg(store_open(dir, &error) == 0, "%s", error);
	ck_assert_int_eq(domain_add("example.test", &error), 0);
}

static void teardown(void)
{
	char cmd[256];

	store_close();
	store_set_initial_map_size(0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

static void deliver_n(const char *who, int n)
{
	struct account a;
	const char *error;

	ck_assert_msg(account_find(who, &a, &error) == 0, "%s", error);
	for (int i = 0; i < n; i++) {
		int fds[2];
		char msg[128];
		uint32_t uid;
		int len = snprintf(msg, sizeof(msg), "Subject: %d\n\nbody %d\n", i, i);

		ck_assert_int_eq(pipe(fds), 0);
		ck_assert_int_eq(write(fds[1], msg, (size_t)len), len);
		close(fds[1]);
		ck_assert_msg(import_from_fd(&a, "INBOX", fds[0], 1 << 20, &uid,
					      &error) == IMPORT_OK, "%s", error);
		close(fds[0]);
	}
}

static uint32_t count(const char *who)
{
	struct mailbox_snapshot *snap;
	struct account a;
	const char *error;
	uint32_t n;

	ck_assert_msg(account_find(who, &a, &error) == 0, "%s", error);
	ck_assert_msg(mailbox_snapshot_take(&a, "INBOX", NULL, &snap, &error) == 0,
		      "%s", error);
	n = snap->count;
	mailbox_snapshot_free(&snap);
	return n;
}

START_TEST(map_full_grows)
{
	struct account a;
	const char *error;

	ck_assert_int_eq(account_add("jsmith", "pw", &a, &error), 0);
	/* far more than 64 KiB of metadata: every commit must still work */
	deliver_n("jsmith", 800);
	ck_assert_uint_eq(count("jsmith"), 800);
	/* and the grown map is reopened without trouble */
	store_close();
	store_set_initial_map_size(64 * 1024);
	ck_assert_msg(store_open(dir, &error) == 0, "%s", error);
	ck_assert_uint_eq(count("jsmith"), 800);
}
END_TEST

START_TEST(follows_map_grown_by_another_process)
{
	struct account a;
	const char *error;
	pid_t pid;
	int status;

	ck_assert_int_eq(account_add("jsmith", "pw", &a, &error), 0);
	deliver_n("jsmith", 5);
	/* a second process (like posternctl beside posternd) grows the map
	 * while this one keeps the environment open */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* LMDB: a child must not use the parent's environment */
		store_set_initial_map_size(64 * 1024);
		if (store_open(dir, &error) < 0)
			_exit(2);
		deliver_n("jsmith", 700);
		store_close();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* this process reads and writes on, adopting the larger map */
	ck_assert_uint_eq(count("jsmith"), 705);
	deliver_n("jsmith", 10);
	ck_assert_uint_eq(count("jsmith"), 715);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_growth");
	TCase *tc = tcase_create("growth");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, map_full_grows);
	tcase_add_test(tc, follows_map_grown_by_another_process);
	suite_add_tcase(s, tc);
	return unit_run(s);
}

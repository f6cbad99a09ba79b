/* unit.c - helpers shared by the Check test programs. */
#include "build-config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_ops.h"
#include "unit.h"

int unit_run(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int unit_run_in_tmpdir(Suite *suite, char *dir)
{
	int status;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	status = unit_run(suite);
	unit_rm_tree(dir);
	return status;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void unit_rm_tree(const char *path)
{
	(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void unit_store_open(struct unit_store *u, const char *root,
		     uint64_t max_message_size)
{
	static char empty[] = "", log_level[] = "info", log_target[] = "stderr";
	const char *error = NULL;

	snprintf(u->data_dir, sizeof(u->data_dir), "%s/data.XXXXXX", root);
	ck_assert_ptr_nonnull(mkdtemp(u->data_dir));
	snprintf(u->main_domain, sizeof(u->main_domain), "example.com");
	memset(&u->set, 0, sizeof(u->set));
	u->set.data_dir = u->data_dir;
	u->set.module_dir = empty;
	u->set.main_domain = u->main_domain;
	u->set.pid_file = empty;
	u->set.max_message_size = max_message_size;
	u->set.log_level = log_level;
	u->set.log_target = log_target;
	core_settings_set_current(&u->set);
	ck_assert_msg(store_open(u->data_dir, &error) == 0, "store_open: %s",
		      error ? error : "(null)");
}

void unit_store_close(struct unit_store *u)
{
	store_close();
	unit_rm_tree(u->data_dir);
}

void unit_account_add(const char *name, const char *domain)
{
	struct account_secrets secrets;
	struct account a;
	const char *error = NULL;

	memset(&secrets, 0, sizeof(secrets));
	ck_assert_msg(store_account_add(name, domain, &secrets, &a, &error) == 0,
		      "account %s@%s: %s", name, domain, error ? error : "(null)");
}

/* unit.c - helpers shared by the Check test programs. */
#include "build-config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

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

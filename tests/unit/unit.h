/* unit.h - what every Check test program shares. */
#ifndef PN_UNIT_H
#define PN_UNIT_H

#include <check.h>
#include <stdint.h>

#include "lib/core_settings.h"
#include "postern/module.h"

/* Run a suite; the exit status for main(): success only with no failure. */
int unit_run(Suite *suite);
/* The same, with a fresh directory from the mkdtemp() template `dir`
 * (rewritten in place) that is removed afterwards. */
int unit_run_in_tmpdir(Suite *suite, char *dir);
/* Remove a directory tree (test data); errors are ignored. */
void unit_rm_tree(const char *path);

/* A store for one test: a fresh data directory under `root`, core settings
 * naming it (main domain example.com, which a test may change), the store
 * open on it. */
struct unit_store {
	char data_dir[256];
	char main_domain[ACCOUNT_NAME_MAX + 1];
	struct core_settings set;
};
void unit_store_open(struct unit_store *u, const char *root,
		     uint64_t max_message_size);
/* An account straight through the store, with no password: the tests
 * that need accounts by the dozen but never a login (a yescrypt hash
 * each would make them take minutes).  Fails the test on an error. */
void unit_account_add(const char *name, const char *domain);
/* Close the store and remove its directory. */
void unit_store_close(struct unit_store *u);

#endif

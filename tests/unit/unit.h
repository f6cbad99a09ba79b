/* unit.h - what every Check test program shares. */
#ifndef PN_UNIT_H
#define PN_UNIT_H

#include <check.h>

/* Run a suite; the exit status for main(): success only with no failure. */
int unit_run(Suite *suite);
/* The same, with a fresh directory from the mkdtemp() template `dir`
 * (rewritten in place) that is removed afterwards. */
int unit_run_in_tmpdir(Suite *suite, char *dir);
/* Remove a directory tree (test data); errors are ignored. */
void unit_rm_tree(const char *path);

#endif

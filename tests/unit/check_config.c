/* check_config.c - unit tests for lib/config: INI files, -o overrides and
 * settings tables. */
#include "build-config.h"

#include <check.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "postern/module.h"
#include "unit.h"

/* Everything this program writes lives under here; main() removes it. */
static char root_dir[] = "/tmp/check_config.XXXXXX";

struct test_settings {
	char *name;
	unsigned int port;
	bool verbose;
	unsigned int timeout;
	uint64_t max_size;
	struct setting_list listen;
};

#define S(field) offsetof(struct test_settings, field)

static const struct setting_def test_defs[] = {
	{ "name", SETTING_STRING, S(name), "anon", 0, 0 },
	{ "port", SETTING_UINT, S(port), "110", 1, 65535 },
	{ "verbose", SETTING_BOOL, S(verbose), "no", 0, 0 },
	{ "timeout", SETTING_SECONDS, S(timeout), "10m", 1, 3600 },
	{ "max_size", SETTING_SIZE, S(max_size), "1M", 1024,
	  1024ull * 1024 * 1024 },
	{ "listen", SETTING_LIST, S(listen), "127.0.0.1:110", 0, 0 },
	SETTING_DEFS_END
};

/* Write `content` to a new file; the path is malloc'd. */
static char *write_conf(const char *content)
{
	char *path;
	size_t len = strlen(content);
	int fd;

	ck_assert_int_gt(asprintf(&path, "%s/conf.XXXXXX", root_dir), 0);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

/* Read one file, which must parse. */
static struct config *read_conf(const char *content, char **path_r)
{
	struct config *cfg = config_new();
	const char *error = NULL;
	char *path = write_conf(content);

	ck_assert_msg(config_read_file(cfg, path, false, &error) == 0,
		      "read failed: %s", error ? error : "(null)");
	if (path_r != NULL)
		*path_r = path;
	else
		free(path);
	return cfg;
}

/* Apply test_defs from [test]; returns config_apply's result. */
static int apply(struct config *cfg, struct test_settings *set,
		 const char **error_r)
{
	return config_apply(cfg, "test", test_defs, set, error_r);
}

static void apply_ok(struct config *cfg, struct test_settings *set)
{
	const char *error = NULL;

	ck_assert_msg(apply(cfg, set, &error) == 0, "apply failed: %s",
		      error ? error : "(null)");
}

static void assert_list(const struct setting_list *l, const char *const *want,
			size_t n)
{
	ck_assert_uint_eq(l->count, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(l->items[i], want[i]);
}

/* error must start with "<path>:<line>:" */
static void assert_at(const char *error, const char *path, unsigned int line)
{
	char prefix[600];

	ck_assert_ptr_nonnull(error);
	snprintf(prefix, sizeof(prefix), "%s:%u:", path, line);
	ck_assert_msg(strncmp(error, prefix, strlen(prefix)) == 0,
		      "error '%s' does not start with '%s'", error, prefix);
}

/* Apply must fail with an error at path:line. */
static void assert_apply_fails_at(const char *content, unsigned int line)
{
	struct test_settings set;
	const char *error = NULL;
	char *path;
	struct config *cfg = read_conf(content, &path);

	memset(&set, 0, sizeof(set));
	ck_assert_msg(apply(cfg, &set, &error) < 0, "accepted:\n%s", content);
	assert_at(error, path, line);
	settings_free(test_defs, &set);
	config_free(&cfg);
	free(path);
}

START_TEST(test_defaults)
{
	static const char *const def_listen[] = { "127.0.0.1:110" };
	struct test_settings set;
	struct config *cfg = read_conf("; nothing for us\n[other]\nport = 1\n",
				       NULL);

	memset(&set, 0, sizeof(set));
	set.verbose = true;
	apply_ok(cfg, &set);
	ck_assert_str_eq(set.name, "anon");
	ck_assert_uint_eq(set.port, 110);
	ck_assert(!set.verbose);
	ck_assert_uint_eq(set.timeout, 600);
	ck_assert_uint_eq(set.max_size, 1024 * 1024);
	assert_list(&set.listen, def_listen, 1);
	/* applying again (a reload) gives the same: one default, not two */
	apply_ok(cfg, &set);
	ck_assert_str_eq(set.name, "anon");
	assert_list(&set.listen, def_listen, 1);
	settings_free(test_defs, &set);
	config_free(&cfg);
	ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(test_values_parse)
{
	static const char *const want_listen[] = { "a:1", "b:2", "[::1]:3" };
	struct test_settings set;
	struct config *cfg = read_conf(
		"# comment\n"
		"[test]\n"
		"name = Bob Smith\n"
		"port = 995\n"
		"verbose = yes\n"
		"timeout = 5m\n"
		"max_size = 20M\n"
		"listen = a:1, b:2 ,[::1]:3\n", NULL);

	memset(&set, 0, sizeof(set));
	apply_ok(cfg, &set);
	ck_assert_str_eq(set.name, "Bob Smith");
	ck_assert_uint_eq(set.port, 995);
	ck_assert(set.verbose);
	ck_assert_uint_eq(set.timeout, 300);
	ck_assert_uint_eq(set.max_size, 20 * 1024 * 1024);
	assert_list(&set.listen, want_listen, 3);
	settings_free(test_defs, &set);
	ck_assert_ptr_null(set.name);
	ck_assert_uint_eq(set.listen.count, 0);
	config_free(&cfg);
}
END_TEST

START_TEST(test_bool_words)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		for (int v = 0; v <= 1; v++) {
			struct test_settings set;
			char content[100];
			struct config *cfg;

			snprintf(content, sizeof(content),
				 "[test]\nverbose = %s\n", v ? yes[i] : no[i]);
			cfg = read_conf(content, NULL);
			memset(&set, 0, sizeof(set));
			set.verbose = !v;
			apply_ok(cfg, &set);
			ck_assert_msg(set.verbose == (bool)v, "%s", content);
			settings_free(test_defs, &set);
			config_free(&cfg);
		}
	}
}
END_TEST

START_TEST(test_numbers_at_limits)
{
	struct test_settings set;
	struct config *cfg = read_conf("[test]\nport = 65535\ntimeout = 1h\n"
				       "max_size = 1G\n", NULL);

	memset(&set, 0, sizeof(set));
	apply_ok(cfg, &set);
	ck_assert_uint_eq(set.port, 65535);
	ck_assert_uint_eq(set.timeout, 3600);
	ck_assert_uint_eq(set.max_size, 1024ull * 1024 * 1024);
	settings_free(test_defs, &set);
	config_free(&cfg);

	cfg = read_conf("[test]\nport = 1\ntimeout = 1s\nmax_size = 1k\n",
			NULL);
	memset(&set, 0, sizeof(set));
	apply_ok(cfg, &set);
	ck_assert_uint_eq(set.port, 1);
	ck_assert_uint_eq(set.timeout, 1);
	ck_assert_uint_eq(set.max_size, 1024);
	settings_free(test_defs, &set);
	config_free(&cfg);
}
END_TEST

START_TEST(test_bad_values_file_line)
{
	/* out of range */
	assert_apply_fails_at("[test]\nport = 0\n", 2);
	assert_apply_fails_at("[test]\nname = x\nport = 65536\n", 3);
	assert_apply_fails_at("[test]\nport = 4294967296\n", 2);
	assert_apply_fails_at("[test]\n\n\ntimeout = 2h\n", 4);
	assert_apply_fails_at("[test]\ntimeout = 0\n", 2);
	assert_apply_fails_at("[test]\nmax_size = 2G\n", 2);
	assert_apply_fails_at("[test]\nmax_size = 1023\n", 2);
	/* not numbers, not words we know */
	assert_apply_fails_at("[test]\nport = abc\n", 2);
	assert_apply_fails_at("; c\n[test]\nport = -1\n", 3);
	assert_apply_fails_at("[test]\nport = 0x10\n", 2);
	assert_apply_fails_at("[test]\nport = 1.5\n", 2);
	assert_apply_fails_at("[test]\ntimeout = 5 minutes\n", 2);
	assert_apply_fails_at("[test]\nmax_size = 10x\n", 2);
	assert_apply_fails_at("[test]\nverbose = maybe\n", 2);
	assert_apply_fails_at("[test]\nverbose =\n", 2);
}
END_TEST

START_TEST(test_set_twice)
{
	struct test_settings set;
	const char *error = NULL;
	char *path, *path2, want[600];
	struct config *cfg = read_conf("[test]\nport = 1\nname = x\nport = 2\n",
				       &path);

	memset(&set, 0, sizeof(set));
	ck_assert_int_lt(apply(cfg, &set, &error), 0);
	ck_assert_ptr_nonnull(error);
	snprintf(want, sizeof(want), "%s:2", path);
	ck_assert_msg(strstr(error, want) != NULL, "error: %s", error);
	snprintf(want, sizeof(want), "%s:4", path);
	ck_assert_msg(strstr(error, want) != NULL, "error: %s", error);
	settings_free(test_defs, &set);
	config_free(&cfg);
	free(path);

	/* across two files */
	cfg = read_conf("[test]\nname = a\n", &path);
	path2 = write_conf("[other]\nx = 1\n[test]\nname = b\n");
	ck_assert_int_eq(config_read_file(cfg, path2, false, &error), 0);
	memset(&set, 0, sizeof(set));
	ck_assert_int_lt(apply(cfg, &set, &error), 0);
	snprintf(want, sizeof(want), "%s:2", path);
	ck_assert_msg(strstr(error, want) != NULL, "error: %s", error);
	snprintf(want, sizeof(want), "%s:4", path2);
	ck_assert_msg(strstr(error, want) != NULL, "error: %s", error);
	settings_free(test_defs, &set);
	config_free(&cfg);
	free(path);
	free(path2);
}
END_TEST

START_TEST(test_set_twice_same_value)
{
	struct test_settings set;
	const char *error = NULL;
	struct config *cfg = read_conf("[test]\nverbose = yes\n[test]\n"
				       "verbose = yes\n", NULL);

	memset(&set, 0, sizeof(set));
	ck_assert_int_lt(apply(cfg, &set, &error), 0);
	ck_assert_ptr_nonnull(strstr(error, "verbose"));
	settings_free(test_defs, &set);
	config_free(&cfg);
}
END_TEST

START_TEST(test_list_appends)
{
	static const char *const want[] = { "a:1", "b:2", "c:3", "d:4" };
	struct test_settings set;
	struct config *cfg = read_conf("[test]\nlisten = a:1\nport = 5\n"
				       "listen = b:2, c:3\n[test]\n"
				       "listen = d:4\n", NULL);

	memset(&set, 0, sizeof(set));
	apply_ok(cfg, &set);
	/* the file's values replace the default and add up */
	assert_list(&set.listen, want, 4);
	/* applying again (a reload) gives the same, not twice as much */
	apply_ok(cfg, &set);
	assert_list(&set.listen, want, 4);
	settings_free(test_defs, &set);
	config_free(&cfg);
}
END_TEST

START_TEST(test_override_replaces)
{
	static const char *const want_listen[] = { "x:1", "y:2" };
	static const char *const file_listen[] = { "a:1", "b:2" };
	struct test_settings set;
	const char *error = NULL;
	struct config *cfg = read_conf("[test]\nport = 995\nlisten = a:1\n"
				       "listen = b:2\nname = file\n", NULL);

	ck_assert_int_eq(config_add_override(cfg, "test.port=1234", &error), 0);
	ck_assert_int_eq(config_add_override(cfg, "test.listen=x:1,y:2",
					     &error), 0);
	ck_assert_int_eq(config_add_override(cfg, "test.timeout=30", &error),
			 0);
	memset(&set, 0, sizeof(set));
	apply_ok(cfg, &set);
	ck_assert_uint_eq(set.port, 1234);
	assert_list(&set.listen, want_listen, 2);
	ck_assert_uint_eq(set.timeout, 30);
	/* untouched keys keep the file's value */
	ck_assert_str_eq(set.name, "file");
	ck_assert_uint_eq(set.max_size, 1024 * 1024);
	/* the replaced file values are not "unknown" either */
	ck_assert_int_eq(config_check_unused(cfg, NULL, &error), 0);
	settings_free(test_defs, &set);
	config_free(&cfg);

	/* without the override, the same file gives its own values */
	cfg = read_conf("[test]\nlisten = a:1\nlisten = b:2\n", NULL);
	memset(&set, 0, sizeof(set));
	apply_ok(cfg, &set);
	assert_list(&set.listen, file_listen, 2);
	settings_free(test_defs, &set);
	config_free(&cfg);
}
END_TEST

START_TEST(test_override_twice_last_wins)
{
	struct test_settings set;
	const char *error = NULL;
	struct config *cfg = read_conf("[test]\nport = 1\n", NULL);

	ck_assert_int_eq(config_add_override(cfg, "test.port=2", &error), 0);
	ck_assert_int_eq(config_add_override(cfg, "test.port=3", &error), 0);
	memset(&set, 0, sizeof(set));
	apply_ok(cfg, &set);
	ck_assert_uint_eq(set.port, 3);
	settings_free(test_defs, &set);
	config_free(&cfg);
}
END_TEST

START_TEST(test_override_errors)
{
	static const char *const bad[] = {
		"noequals", "=value", ".port=1", "test.=1",
	};
	struct test_settings set;
	const char *error = NULL;
	struct config *cfg = config_new();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		ck_assert_msg(config_add_override(cfg, bad[i], &error) < 0,
			      "-o %s accepted", bad[i]);
		ck_assert_ptr_nonnull(error);
	}
	/* a bad value from -o names the -o, not a file */
	ck_assert_int_eq(config_add_override(cfg, "test.port=99999", &error),
			 0);
	memset(&set, 0, sizeof(set));
	ck_assert_int_lt(apply(cfg, &set, &error), 0);
	ck_assert_msg(strstr(error, "-o test.port") != NULL, "error: %s",
		      error);
	settings_free(test_defs, &set);
	config_free(&cfg);
}
END_TEST

START_TEST(test_unused_key)
{
	struct test_settings set;
	const char *error = NULL;
	const char *const ignore[] = { "other", NULL };
	char *path;
	struct config *cfg = read_conf("[test]\nport = 1\n\nlisen = x:1\n"
				       "[other]\nfoo = 1\n", &path);

	memset(&set, 0, sizeof(set));
	apply_ok(cfg, &set);
	ck_assert_int_lt(config_check_unused(cfg, ignore, &error), 0);
	assert_at(error, path, 4);
	ck_assert_msg(strstr(error, "test.lisen") != NULL, "error: %s", error);
	/* without ignoring [other], something is reported too */
	ck_assert_int_lt(config_check_unused(cfg, NULL, &error), 0);
	settings_free(test_defs, &set);
	config_free(&cfg);
	free(path);

	/* every key claimed (and [other] ignored): no error */
	cfg = read_conf("[test]\nport = 1\n[other]\nfoo = 1\n", &path);
	memset(&set, 0, sizeof(set));
	apply_ok(cfg, &set);
	ck_assert_int_eq(config_check_unused(cfg, ignore, &error), 0);
	/* before [other] is ignored, its key is unknown, with its place */
	ck_assert_int_lt(config_check_unused(cfg, NULL, &error), 0);
	assert_at(error, path, 4);
	ck_assert_msg(strstr(error, "other.foo") != NULL, "error: %s", error);
	settings_free(test_defs, &set);
	config_free(&cfg);
	free(path);

	/* an unknown -o is reported as such */
	cfg = config_new();
	ck_assert_int_eq(config_add_override(cfg, "test.bogus=1", &error), 0);
	memset(&set, 0, sizeof(set));
	apply_ok(cfg, &set);
	ck_assert_int_lt(config_check_unused(cfg, NULL, &error), 0);
	ck_assert_msg(strstr(error, "-o test.bogus") != NULL, "error: %s",
		      error);
	settings_free(test_defs, &set);
	config_free(&cfg);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config *cfg = config_new();
	const char *error = NULL;
	char *path;

	ck_assert_int_gt(asprintf(&path, "%s/does-not-exist.conf", root_dir),
			 0);
	ck_assert_int_lt(config_read_file(cfg, path, false, &error), 0);
	ck_assert_ptr_nonnull(error);
	ck_assert_msg(strstr(error, path) != NULL, "error: %s", error);
	error = NULL;
	ck_assert_int_eq(config_read_file(cfg, path, true, &error), 0);
	ck_assert_ptr_null(error);
	config_free(&cfg);
	free(path);
}
END_TEST

/* A directory is not a configuration file: reading it must fail, not
 * give an empty configuration that runs on defaults. */
START_TEST(test_directory_is_error)
{
	struct config *cfg = config_new();
	const char *error = NULL;

	ck_assert_int_lt(config_read_file(cfg, root_dir, false, &error), 0);
	ck_assert_ptr_nonnull(error);
	config_free(&cfg);
	cfg = config_new();
	ck_assert_int_lt(config_read_file(cfg, root_dir, true, &error), 0);
	config_free(&cfg);
}
END_TEST

START_TEST(test_malformed_line)
{
	static const struct {
		const char *content;
		unsigned int line;
	} bad[] = {
		{ "[test]\nport = 1\njust words\n", 3 },
		{ "just words\n", 1 },
		{ "; comment\n\n[test\nport = 1\n", 3 },
		{ "[test]\nport = 1\n\n\n\nwhat is this\nname = x\n", 6 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config *cfg = config_new();
		const char *error = NULL;
		char *path = write_conf(bad[i].content);

		ck_assert_msg(config_read_file(cfg, path, false, &error) < 0,
			      "accepted:\n%s", bad[i].content);
		assert_at(error, path, bad[i].line);
		config_free(&cfg);
		free(path);
	}
}
END_TEST

START_TEST(test_overlong_line)
{
	struct config *cfg = config_new();
	const char *error = NULL;
	size_t vlen = 5000;
	char *content = malloc(vlen + 64), *path;

	ck_assert_ptr_nonnull(content);
	strcpy(content, "[test]\nname = ");
	memset(content + strlen(content), 'v', vlen);
	strcpy(content + strlen("[test]\nname = ") + vlen, "\nport = 1\n");
	path = write_conf(content);
	/* refused, not cut into a value and a junk line */
	ck_assert_int_lt(config_read_file(cfg, path, false, &error), 0);
	assert_at(error, path, 2);
	config_free(&cfg);
	free(path);
	free(content);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_values_parse);
	tcase_add_test(tc, test_bool_words);
	tcase_add_test(tc, test_numbers_at_limits);
	tcase_add_test(tc, test_bad_values_file_line);
	tcase_add_test(tc, test_set_twice);
	tcase_add_test(tc, test_set_twice_same_value);
	tcase_add_test(tc, test_list_appends);
	tcase_add_test(tc, test_override_replaces);
	tcase_add_test(tc, test_override_twice_last_wins);
	tcase_add_test(tc, test_override_errors);
	tcase_add_test(tc, test_unused_key);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_directory_is_error);
	tcase_add_test(tc, test_malformed_line);
	tcase_add_test(tc, test_overlong_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(config_suite(), root_dir);
}

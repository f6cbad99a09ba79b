/* check_store.c - unit tests for the LMDB store, bodies, accounts and
 * local delivery, through the functions posternctl and the modules use. */
#include "build-config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/import.h"
#include "mail/names.h"
#include "postern/module.h"
#include "store/body.h"
#include "store/store.h"
#include "store/store_ops.h"
#include "unit.h"

#define MAX_SIZE (50u * 1024 * 1024)

/* Everything this program writes lives under here; main() removes it. */
static struct unit_store fx;
static char root_dir[] = "/tmp/check_store.XXXXXX";

/* Per test: a fresh fx.data_dir, the store open on it, domain example.com
 * (the main domain) and the account jsmith in it. */
static struct account jsmith;


static void open_store(void)
{
	const char *error = NULL;

	ck_assert_msg(store_open(fx.data_dir, &error) == 0, "store_open: %s",
		      error ? error : "(null)");
}

static void setup(void)
{
	const char *error = NULL;

	unit_store_open(&fx, root_dir, MAX_SIZE);
	ck_assert_msg(domain_add("example.com", &error) == 0, "domain_add: %s",
		      error);
	ck_assert_msg(account_add("jsmith", "secret", &jsmith, &error) == 0,
		      "account_add: %s", error);
}

static void teardown(void)
{
	unit_store_close(&fx);
}

/* ---- helpers ---- */

/* Deliver len octets from a temporary file. */
static enum import_result deliver_buf(const struct account *account,
				       const char *mailbox, const void *data,
				       size_t len, uint64_t max_size,
				       uint32_t *uid_r, const char **error_r)
{
	char path[PATH_MAX];
	enum import_result ret;
	int fd;

	snprintf(path, sizeof(path), "%s/msg.XXXXXX", root_dir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ret = import_from_fd(account, mailbox, fd, max_size, uid_r, error_r);
	close(fd);
	return ret;
}

/* Deliver a small message through a pipe, as an MTA would. */
static enum import_result deliver_pipe(const struct account *account,
					const char *text, uint32_t *uid_r,
					const char **error_r)
{
	size_t len = strlen(text);
	enum import_result ret;
	int p[2];

	ck_assert_uint_lt(len, 4096);	/* fits the pipe buffer */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], text, len), (ssize_t)len);
	close(p[1]);
	ret = import_from_fd(account, "INBOX", p[0], MAX_SIZE, uid_r, error_r);
	close(p[0]);
	return ret;
}

static uint32_t deliver_ok(const struct account *account, const char *text)
{
	const char *error = NULL;
	uint32_t uid = 0;

	ck_assert_msg(deliver_buf(account, "INBOX", text, strlen(text),
				  MAX_SIZE, &uid, &error) == IMPORT_OK,
		      "deliver: %s", error ? error : "(null)");
	ck_assert_uint_gt(uid, 0);
	return uid;
}

static struct mailbox_snapshot *snap_take(const struct account *account)
{
	struct mailbox_snapshot *snap = NULL;
	const char *error = NULL;

	ck_assert_msg(mailbox_snapshot_take(account, "INBOX", NULL, &snap,
					    &error) == 0,
		      "snapshot: %s", error ? error : "(null)");
	ck_assert_ptr_nonnull(snap);
	return snap;
}

static const struct msg_info *snap_find(const struct mailbox_snapshot *snap,
					uint32_t uid)
{
	for (uint32_t i = 0; i < snap->count; i++) {
		if (snap->msgs[i].uid == uid)
			return &snap->msgs[i];
	}
	return NULL;
}

/* The whole body of a message; *len_r its length. */
static char *body_read(const struct msg_info *msg, size_t *len_r)
{
	size_t len = 0, alloc = 1024;
	char *data = malloc(alloc + 1);
	ssize_t n;
	int fd = -1;

	ck_assert_ptr_nonnull(data);
	ck_assert_msg(message_body_open(msg, &fd) == 0,
		      "message_body_open uid %u: %s", msg->uid,
		      strerror(errno));
	for (;;) {
		if (len == alloc) {
			alloc *= 2;
			data = realloc(data, alloc + 1);
			ck_assert_ptr_nonnull(data);
		}
		n = read(fd, data + len, alloc - len);
		ck_assert_int_ge(n, 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	data[len] = '\0';
	*len_r = len;
	return data;
}

static void assert_body_gone(const struct msg_info *msg)
{
	int fd = -1;

	errno = 0;
	ck_assert_msg(message_body_open(msg, &fd) < 0,
		      "body of uid %u still there", msg->uid);
	ck_assert_int_eq(errno, ENOENT);
}

/* LF line ends to CRLF, as the store keeps them. */
static char *crlf(const char *lf)
{
	size_t n = 0;
	char *out, *p;

	for (const char *s = lf; *s; s++)
		n += *s == '\n' ? 2 : 1;
	out = p = malloc(n + 1);
	ck_assert_ptr_nonnull(out);
	for (const char *s = lf; *s; s++) {
		if (*s == '\n')
			*p++ = '\r';
		*p++ = *s;
	}
	*p = '\0';
	return out;
}

static size_t file_count;

static int count_cb(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)path;
	(void)st;
	(void)ftw;
	if (flag == FTW_F)
		file_count++;
	return 0;
}

/* Regular files under fx.data_dir/<sub>. */
static size_t files_in(const char *sub)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", fx.data_dir, sub);
	file_count = 0;
	ck_assert_int_eq(nftw(path, count_cb, 16, FTW_PHYS), 0);
	return file_count;
}

struct mailbox_seen {
	size_t count;
	char names[8][MAILBOX_NAME_MAX + 1];
	uint32_t messages[8];
	uint64_t size[8];
	uint32_t uidnext[8];
};

static void mailbox_cb(const struct mailbox_stat *st, void *ctx)
{
	struct mailbox_seen *ms = ctx;

	if (ms->count < 8) {
		snprintf(ms->names[ms->count], sizeof(ms->names[0]), "%s",
			 st->name);
		ms->messages[ms->count] = st->messages;
		ms->size[ms->count] = st->size;
		ms->uidnext[ms->count] = st->uidnext;
	}
	ms->count++;
}

static void domain_cb(const char *name, void *ctx)
{
	struct mailbox_seen *ms = ctx;

	if (ms->count < 8)
		snprintf(ms->names[ms->count], sizeof(ms->names[0]), "%s",
			 name);
	ms->count++;
}

/* ---- domains and accounts ---- */

START_TEST(test_domain_add)
{
	struct mailbox_seen seen = { .count = 0 };
	const char *error = NULL;
	bool exists = false;

	ck_assert_int_eq(domain_add("Other.ORG", &error), 0);
	ck_assert_int_eq(store_domain_exists("other.org", &exists, &error), 0);
	ck_assert(exists);

	/* duplicates, also in another case */
	error = NULL;
	ck_assert_int_lt(domain_add("other.org", &error), 0);
	ck_assert_ptr_nonnull(error);
	ck_assert_int_lt(domain_add("EXAMPLE.com", &error), 0);

	/* invalid names */
	ck_assert_int_lt(domain_add("", &error), 0);
	ck_assert_int_lt(domain_add("bad..name", &error), 0);
	ck_assert_int_lt(domain_add(".lead", &error), 0);
	ck_assert_int_lt(domain_add("a b", &error), 0);
	ck_assert_int_lt(domain_add("a/b", &error), 0);
	ck_assert_int_eq(store_domain_exists("a/b", &exists, &error), 0);
	ck_assert(!exists);

	ck_assert_int_eq(store_domain_list(domain_cb, &seen, &error), 0);
	ck_assert_uint_eq(seen.count, 2);
	ck_assert_str_eq(seen.names[0], "example.com");
	ck_assert_str_eq(seen.names[1], "other.org");
}
END_TEST

START_TEST(test_account_add_creates_inbox)
{
	struct mailbox_seen seen = { .count = 0 };
	struct account a, found;
	const char *error = NULL;

	/* the fixture's account: no domain given, so the main domain */
	ck_assert_str_eq(jsmith.name, "jsmith");
	ck_assert_str_eq(jsmith.domain, "example.com");
	ck_assert_int_eq(store_mailbox_list(&jsmith, mailbox_cb, &seen, &error),
			 0);
	ck_assert_uint_eq(seen.count, 1);
	ck_assert_str_eq(seen.names[0], "INBOX");
	ck_assert_uint_eq(seen.messages[0], 0);
	ck_assert_uint_eq(seen.size[0], 0);

	/* an explicit domain, in another case */
	ck_assert_int_eq(account_add("Bob@Example.COM", "pw", &a, &error), 0);
	ck_assert_str_eq(a.name, "bob");
	ck_assert_str_eq(a.domain, "example.com");
	ck_assert_uint_ne(a.id, jsmith.id);
	seen.count = 0;
	ck_assert_int_eq(store_mailbox_list(&a, mailbox_cb, &seen, &error), 0);
	ck_assert_uint_eq(seen.count, 1);
	ck_assert_str_eq(seen.names[0], "INBOX");

	ck_assert_int_eq(account_find("bob%example.com", &found, &error), 0);
	ck_assert_uint_eq(found.id, a.id);

	/* duplicates, unknown domain, bad names, bad password */
	ck_assert_int_lt(account_add("jsmith", "x", &a, &error), 0);
	ck_assert_int_lt(account_add("JSMITH@example.com", "x", &a, &error), 0);
	ck_assert_int_lt(account_add("x@nowhere.org", "x", &a, &error), 0);
	ck_assert_int_lt(account_add("bad name", "x", &a, &error), 0);
	ck_assert_int_lt(account_add("..", "x", &a, &error), 0);
	ck_assert_int_lt(account_add("carol", "", &a, &error), 0);
	ck_assert_int_lt(account_find("carol", &found, &error), 0);
	ck_assert_int_lt(account_find("x@nowhere.org", &found, &error), 0);

	/* without a main domain, a bare name has no domain */
	fx.main_domain[0] = '\0';
	ck_assert_int_lt(account_add("dave", "x", &a, &error), 0);
	ck_assert_int_eq(account_add("dave@example.com", "x", &a, &error), 0);
	snprintf(fx.main_domain, sizeof(fx.main_domain), "example.com");
}
END_TEST

/* ---- delivery ---- */

START_TEST(test_deliver_lf_becomes_crlf)
{
	static const char lf[] = "From: a@example.org\nSubject: hi\n\nline 1\n"
				 "\nline 3\n";
	char *want = crlf(lf), *body;
	struct mailbox_seen seen = { .count = 0 };
	struct mailbox_snapshot *snap;
	const struct msg_info *m;
	const char *error = NULL;
	uint32_t uid = 0;
	size_t len;

	ck_assert_int_eq(deliver_pipe(&jsmith, lf, &uid, &error), IMPORT_OK);
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, 1);
	m = snap_find(snap, uid);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->size, strlen(want));
	ck_assert_uint_eq(snap->total_size, strlen(want));
	body = body_read(m, &len);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(body, want);
	/* the header ends after its blank line */
	ck_assert_uint_eq(m->hdr_len, strstr(want, "\r\n\r\n") - want + 4);

	ck_assert_int_eq(store_mailbox_list(&jsmith, mailbox_cb, &seen, &error),
			 0);
	ck_assert_uint_eq(seen.messages[0], 1);
	ck_assert_uint_eq(seen.size[0], strlen(want));
	mailbox_snapshot_free(&snap);
	ck_assert_ptr_null(snap);
	free(body);
	free(want);
}
END_TEST

START_TEST(test_deliver_crlf_and_mixed)
{
	static const char in[] = "A: 1\r\nB: 2\n\r\nbody\r\nbare\rcr\n\r\n";
	static const char want[] =
		"A: 1\r\nB: 2\r\n\r\nbody\r\nbare\rcr\r\n\r\n";
	struct mailbox_snapshot *snap;
	uint32_t uid = deliver_ok(&jsmith, in);
	char *body;
	size_t len;

	snap = snap_take(&jsmith);
	body = body_read(snap_find(snap, uid), &len);
	/* CRLF stays CRLF (no CR doubled), bare LF gains its CR */
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(body, want);
	ck_assert_uint_eq(snap->msgs[0].size, strlen(want));
	ck_assert_uint_eq(snap->msgs[0].hdr_len, 14);
	free(body);
	mailbox_snapshot_free(&snap);
}
END_TEST

START_TEST(test_deliver_no_final_newline)
{
	static const char *const in[] = {
		"Subject: x\n\nno newline at the end",
		"Subject: x\r\n\r\nends in CR\r",
		"just one line",
	};
	static const char *const want[] = {
		"Subject: x\r\n\r\nno newline at the end\r\n",
		"Subject: x\r\n\r\nends in CR\r\n",
		"just one line\r\n",
	};

	for (size_t i = 0; i < 3; i++) {
		struct mailbox_snapshot *snap;
		uint32_t uid = deliver_ok(&jsmith, in[i]);
		const struct msg_info *m;
		char *body;
		size_t len;

		snap = snap_take(&jsmith);
		m = snap_find(snap, uid);
		ck_assert_ptr_nonnull(m);
		body = body_read(m, &len);
		ck_assert_uint_eq(len, strlen(want[i]));
		ck_assert_str_eq(body, want[i]);
		ck_assert_uint_eq(m->size, len);
		free(body);
		mailbox_snapshot_free(&snap);
	}
}
END_TEST

START_TEST(test_deliver_empty)
{
	struct mailbox_snapshot *snap;
	const char *error = NULL;
	uint32_t uid = 0;

	ck_assert_int_eq(deliver_pipe(&jsmith, "", &uid, &error),
			 IMPORT_PERMANENT);
	ck_assert_ptr_nonnull(error);
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, 0);
	mailbox_snapshot_free(&snap);
	/* no body left behind, finished or not */
	ck_assert_uint_eq(files_in("bodies"), 0);
	ck_assert_uint_eq(files_in("tmp"), 0);
}
END_TEST

START_TEST(test_deliver_too_big)
{
	char big[3000];
	struct mailbox_snapshot *snap;
	const char *error = NULL;
	uint32_t uid = 0;

	/* 30 lines of 99 octets + LF: 3000 octets, 3030 stored */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = i % 100 == 99 ? '\n' : 'x';

	ck_assert_int_eq(deliver_buf(&jsmith, "INBOX", big, sizeof(big), 1024,
				     &uid, &error), IMPORT_PERMANENT);
	ck_assert_ptr_nonnull(error);
	/* the limit applies to the stored (CRLF) size */
	ck_assert_int_eq(deliver_buf(&jsmith, "INBOX", big, sizeof(big), 3029,
				     &uid, &error), IMPORT_PERMANENT);
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, 0);
	mailbox_snapshot_free(&snap);
	ck_assert_uint_eq(files_in("bodies"), 0);
	ck_assert_uint_eq(files_in("tmp"), 0);

	/* exactly the limit is fine */
	ck_assert_int_eq(deliver_buf(&jsmith, "INBOX", big, sizeof(big), 3030,
				     &uid, &error), IMPORT_OK);
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, 1);
	ck_assert_uint_eq(snap->msgs[0].size, 3030);
	mailbox_snapshot_free(&snap);
}
END_TEST

/* Over the limit only because of the CRLF added at the end: still the
 * message's fault, so permanent, and nothing stored. */
START_TEST(test_deliver_too_big_by_final_crlf)
{
	struct mailbox_snapshot *snap;
	const char *error = NULL;
	uint32_t uid = 0;
	enum import_result r;

	/* "abcd" is stored as "abcd\r\n": 6 octets */
	r = deliver_buf(&jsmith, "INBOX", "abcd", 4, 5, &uid, &error);
	ck_assert_msg(r == IMPORT_PERMANENT, "result %d (%s)", r,
		      error ? error : "(null)");
	r = deliver_buf(&jsmith, "INBOX", "abcd", 4, 4, &uid, &error);
	ck_assert_msg(r == IMPORT_PERMANENT, "result %d (%s)", r,
		      error ? error : "(null)");
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, 0);
	mailbox_snapshot_free(&snap);
	ck_assert_uint_eq(files_in("bodies"), 0);
	ck_assert_uint_eq(files_in("tmp"), 0);

	ck_assert_int_eq(deliver_buf(&jsmith, "INBOX", "abcd", 4, 6, &uid,
				     &error), IMPORT_OK);
}
END_TEST

START_TEST(test_deliver_unknown_mailbox)
{
	const char *error = NULL;
	uint32_t uid = 0;

	ck_assert_int_ne(deliver_buf(&jsmith, "NoSuchBox", "S: x\n\nb\n", 9,
				     MAX_SIZE, &uid, &error), IMPORT_OK);
	ck_assert_ptr_nonnull(error);
	ck_assert_uint_eq(files_in("bodies"), 0);
	ck_assert_uint_eq(files_in("tmp"), 0);
}
END_TEST

START_TEST(test_dot_line_flag)
{
	static const struct {
		const char *text;
		bool dot;
	} cases[] = {
		{ "S: x\n\nno dots here\n", false },
		{ "S: x\n\na.b\nend.\n", false },
		{ "S: x\n\n .indented\n", false },
		{ "S: x\n\n.starts\n", true },
		{ "S: x\r\n\r\nfirst\r\n.\r\n", true },
		{ "S: x\n\nx\n..\n", true },
		{ ".hdr: x\n\nbody\n", true },
		{ "S: x\n\nlast line.\n.", true },
	};
	uint32_t uids[sizeof(cases) / sizeof(cases[0])];
	struct mailbox_snapshot *snap;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		uids[i] = deliver_ok(&jsmith, cases[i].text);
	snap = snap_take(&jsmith);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct msg_info *m = snap_find(snap, uids[i]);

		ck_assert_ptr_nonnull(m);
		ck_assert_msg(((m->flags & MSG_HAS_DOT_LINE) != 0) ==
			      cases[i].dot, "case %zu: flags %#x", i, m->flags);
		ck_assert(!(m->flags & MSG_SEEN));
	}
	mailbox_snapshot_free(&snap);
}
END_TEST

START_TEST(test_hdr_len)
{
	static const struct {
		const char *text;
		uint32_t hdr_len;
	} cases[] = {
		{ "A: 1\nB: 2\n\nbody\n", 14 },
		{ "A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore\r\n", 14 },
		{ "\nbody only\n", 2 },
		{ "A: 1\n\n", 8 },
		/* no blank line: all of it is header */
		{ "A: 1\nB: 2\n", 12 },
		{ "A: 1", 6 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mailbox_snapshot *snap;
		uint32_t uid = deliver_ok(&jsmith, cases[i].text);
		const struct msg_info *m;

		snap = snap_take(&jsmith);
		m = snap_find(snap, uid);
		ck_assert_ptr_nonnull(m);
		ck_assert_msg(m->hdr_len == cases[i].hdr_len,
			      "case %zu: hdr_len %u, want %u", i, m->hdr_len,
			      cases[i].hdr_len);
		ck_assert_uint_le(m->hdr_len, m->size);
		mailbox_snapshot_free(&snap);
	}
}
END_TEST

/* A message larger than every internal buffer comes back octet for octet. */
START_TEST(test_body_exact_large)
{
	const size_t lines = 20000;
	struct mailbox_snapshot *snap;
	const struct msg_info *m;
	char *in, *want, *p, *q, *body;
	const char *error = NULL;
	uint32_t uid = 0;
	size_t len, in_len;

	in = p = malloc(lines * 80);
	want = q = malloc(lines * 82);
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(want);
	p += sprintf(p, "Subject: big\n\n");
	q += sprintf(q, "Subject: big\r\n\r\n");
	for (size_t i = 0; i < lines; i++) {
		/* every octet but CR and LF, dot lines, varying lengths */
		size_t n = i % 61;

		for (size_t j = 0; j < n; j++) {
			char c = (char)((i * 7 + j * 13) % 256);

			if (c == '\r' || c == '\n')
				c = '.';
			*p++ = *q++ = c;
		}
		*p++ = '\n';
		*q++ = '\r';
		*q++ = '\n';
	}
	in_len = (size_t)(p - in);
	ck_assert_int_eq(deliver_buf(&jsmith, "INBOX", in, in_len, MAX_SIZE,
				     &uid, &error), IMPORT_OK);
	snap = snap_take(&jsmith);
	m = snap_find(snap, uid);
	ck_assert_ptr_nonnull(m);
	body = body_read(m, &len);
	ck_assert_uint_eq(len, (size_t)(q - want));
	ck_assert_uint_eq(m->size, len);
	ck_assert_int_eq(memcmp(body, want, len), 0);
	ck_assert_uint_eq(m->hdr_len, 16);
	ck_assert(m->flags & MSG_HAS_DOT_LINE);
	mailbox_snapshot_free(&snap);
	free(body);
	free(in);
	free(want);
}
END_TEST

/* ---- UIDs and UIDLs ---- */

static void snap_uidls(const struct mailbox_snapshot *snap,
		       char (*uidls)[UIDL_MAX + 1])
{
	for (uint32_t i = 0; i < snap->count; i++) {
		size_t len;

		memset(uidls[i], 0, UIDL_MAX + 1);
		mailbox_snapshot_uidl(snap, &snap->msgs[i], uidls[i]);
		len = strlen(uidls[i]);
		ck_assert_uint_ge(len, 1);
		ck_assert_uint_le(len, UIDL_MAX);
		for (size_t j = 0; j < len; j++) {
			ck_assert_int_ge((unsigned char)uidls[i][j], 0x21);
			ck_assert_int_le((unsigned char)uidls[i][j], 0x7e);
		}
		for (uint32_t k = 0; k < i; k++)
			ck_assert_str_ne(uidls[k], uidls[i]);
	}
}

START_TEST(test_uidl_unique_and_stable)
{
	char before[10][UIDL_MAX + 1], after[10][UIDL_MAX + 1];
	uint32_t uids[10];
	struct mailbox_snapshot *snap;

	for (int i = 0; i < 10; i++)
		uids[i] = deliver_ok(&jsmith, "Subject: same\n\nsame body\n");
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, 10);
	for (uint32_t i = 0; i < 10; i++)
		ck_assert_uint_eq(snap->msgs[i].uid, uids[i]);
	snap_uidls(snap, before);
	mailbox_snapshot_free(&snap);

	store_close();
	ck_assert(!store_is_open());
	open_store();
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, 10);
	snap_uidls(snap, after);
	for (uint32_t i = 0; i < 10; i++) {
		ck_assert_uint_eq(snap->msgs[i].uid, uids[i]);
		ck_assert_str_eq(after[i], before[i]);
	}
	mailbox_snapshot_free(&snap);
}
END_TEST

START_TEST(test_uids_never_reused)
{
	char old_uidl[UIDL_MAX + 1], new_uidl[UIDL_MAX + 1];
	struct mailbox_snapshot *snap;
	const char *error = NULL;
	uint32_t u1, u2, u3, u4, u5;
	size_t removed = 0;

	u1 = deliver_ok(&jsmith, "S: 1\n\n1\n");
	u2 = deliver_ok(&jsmith, "S: 2\n\n2\n");
	u3 = deliver_ok(&jsmith, "S: 3\n\n3\n");
	ck_assert_uint_lt(u1, u2);
	ck_assert_uint_lt(u2, u3);

	/* remove the newest: its uid is not handed out again */
	snap = snap_take(&jsmith);
	mailbox_snapshot_uidl(snap, snap_find(snap, u3), old_uidl);
	ck_assert_int_eq(mailbox_expunge(snap->mailbox_id, &u3, 1, &removed,
					 &error), 0);
	ck_assert_uint_eq(removed, 1);
	mailbox_snapshot_free(&snap);
	u4 = deliver_ok(&jsmith, "S: 4\n\n4\n");
	ck_assert_uint_gt(u4, u3);
	snap = snap_take(&jsmith);
	mailbox_snapshot_uidl(snap, snap_find(snap, u4), new_uidl);
	ck_assert_str_ne(new_uidl, old_uidl);

	/* empty the mailbox, reopen the store: still increasing */
	{
		uint32_t all[3] = { u1, u2, u4 };

		ck_assert_int_eq(mailbox_expunge(snap->mailbox_id, all, 3,
						 &removed, &error), 0);
		ck_assert_uint_eq(removed, 3);
	}
	mailbox_snapshot_free(&snap);
	store_close();
	open_store();
	u5 = deliver_ok(&jsmith, "S: 5\n\n5\n");
	ck_assert_uint_gt(u5, u4);
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, 1);
	ck_assert_uint_eq(snap->msgs[0].uid, u5);
	mailbox_snapshot_free(&snap);
}
END_TEST

/* A finished body, as an import would make it. */
static void make_body(const char *text, struct body_info *info)
{
	static struct body_writer w;
	const char *error = NULL;

	ck_assert_msg(body_writer_open(&w, MAX_SIZE, &error) == 0, "%s", error);
	ck_assert_int_eq(body_writer_write(&w, text, strlen(text), &error), 0);
	ck_assert_msg(body_writer_finish(&w, info, &error) == 0, "%s", error);
}

START_TEST(test_custom_uidl)
{
	char uidl70[UIDL_MAX + 2], got[UIDL_MAX + 1], gen[UIDL_MAX + 1];
	struct mailbox_snapshot *snap;
	struct body_info b1, b2, b3;
	const char *error = NULL;
	uint32_t u1, u2, u3, bad_uid = 0;

	memset(uidl70, '~', UIDL_MAX);
	uidl70[UIDL_MAX] = '\0';
	ck_assert(uidl_valid("imported.1"));
	ck_assert(uidl_valid(uidl70));
	ck_assert(uidl_valid("!"));
	ck_assert(!uidl_valid(""));
	ck_assert(!uidl_valid("a b"));
	ck_assert(!uidl_valid("a\x7f"));
	ck_assert(!uidl_valid("caf\xc3\xa9"));
	uidl70[UIDL_MAX] = 'x';
	uidl70[UIDL_MAX + 1] = '\0';
	ck_assert(!uidl_valid(uidl70));

	make_body("S: 1\n\n1\n", &b1);
	make_body("S: 2\n\n2\n", &b2);
	ck_assert_int_lt(store_message_add(&jsmith, "INBOX", &b2, "a b",
					   &bad_uid, &error), 0);
	ck_assert_int_lt(store_message_add(&jsmith, "INBOX", &b2, uidl70,
					   &bad_uid, &error), 0);
	uidl70[UIDL_MAX] = '\0';
	ck_assert_int_eq(store_message_add(&jsmith, "INBOX", &b1, "imported.1",
					   &u1, &error), 0);
	ck_assert_int_eq(store_message_add(&jsmith, "INBOX", &b2, uidl70, &u2,
					   &error), 0);
	make_body("S: 3\n\n3\n", &b3);
	ck_assert_int_eq(store_message_add(&jsmith, "INBOX", &b3, NULL, &u3,
					   &error), 0);

	store_close();
	open_store();
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, 3);
	mailbox_snapshot_uidl(snap, snap_find(snap, u1), got);
	ck_assert_str_eq(got, "imported.1");
	ck_assert(snap_find(snap, u1)->flags & MSG_CUSTOM_UIDL);
	mailbox_snapshot_uidl(snap, snap_find(snap, u2), got);
	ck_assert_str_eq(got, uidl70);
	mailbox_snapshot_uidl(snap, snap_find(snap, u3), gen);
	ck_assert(!(snap_find(snap, u3)->flags & MSG_CUSTOM_UIDL));
	ck_assert_str_ne(gen, "imported.1");
	ck_assert_uint_eq(snap_find(snap, u1)->size,
			  strlen("S: 1\r\n\r\n1\r\n"));
	mailbox_snapshot_free(&snap);
}
END_TEST

/* ---- snapshots, Seen, expunge ---- */

START_TEST(test_snapshot_isolation)
{
	struct mailbox_snapshot *old, *cur;
	const char *error = NULL;
	uint32_t u1, u2, u3;
	size_t removed, len;

	u1 = deliver_ok(&jsmith, "S: 1\n\n1\n");
	u2 = deliver_ok(&jsmith, "S: 2\n\n2\n");
	old = snap_take(&jsmith);
	ck_assert_uint_eq(old->count, 2);
	u3 = deliver_ok(&jsmith, "S: 3\n\n3\n");

	/* the earlier snapshot does not see the new message */
	ck_assert_uint_eq(old->count, 2);
	ck_assert_ptr_null(snap_find(old, u3));
	ck_assert_uint_eq(old->total_size, 2 * strlen("S: 1\r\n\r\n1\r\n"));
	cur = snap_take(&jsmith);
	ck_assert_uint_eq(cur->count, 3);
	ck_assert_ptr_nonnull(snap_find(cur, u3));

	/* nor a removal: it keeps the entry, whose body is gone */
	ck_assert_int_eq(mailbox_expunge(cur->mailbox_id, &u1, 1, &removed,
					 &error), 0);
	ck_assert_uint_eq(removed, 1);
	ck_assert_ptr_nonnull(snap_find(old, u1));
	assert_body_gone(snap_find(old, u1));
	free(body_read(snap_find(old, u2), &len));
	mailbox_snapshot_free(&old);
	mailbox_snapshot_free(&cur);
}
END_TEST

START_TEST(test_expunge)
{
	struct mailbox_snapshot *snap, *after;
	const char *error = NULL;
	uint32_t uids[4], gone[2], again[3];
	size_t removed = 99, len;

	for (int i = 0; i < 4; i++)
		uids[i] = deliver_ok(&jsmith, "S: x\n\nbody\n");
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(files_in("bodies"), 4);

	gone[0] = uids[0];
	gone[1] = uids[2];
	ck_assert_int_eq(mailbox_expunge(snap->mailbox_id, gone, 2, &removed,
					 &error), 0);
	ck_assert_uint_eq(removed, 2);

	/* exactly those are gone, with their bodies */
	after = snap_take(&jsmith);
	ck_assert_uint_eq(after->count, 2);
	ck_assert_uint_eq(after->msgs[0].uid, uids[1]);
	ck_assert_uint_eq(after->msgs[1].uid, uids[3]);
	assert_body_gone(snap_find(snap, uids[0]));
	assert_body_gone(snap_find(snap, uids[2]));
	free(body_read(snap_find(snap, uids[1]), &len));
	free(body_read(snap_find(snap, uids[3]), &len));
	ck_assert_uint_eq(files_in("bodies"), 2);
	mailbox_snapshot_free(&after);

	/* removing them again removes nothing */
	removed = 99;
	ck_assert_int_eq(mailbox_expunge(snap->mailbox_id, &uids[2], 1,
					 &removed, &error), 0);
	ck_assert_uint_eq(removed, 0);

	/* a uid listed twice, one already gone, one never there: one removal */
	again[0] = uids[1];
	again[1] = uids[0];
	again[2] = uids[1];
	ck_assert_int_eq(mailbox_expunge(snap->mailbox_id, again, 3, &removed,
					 &error), 0);
	ck_assert_uint_eq(removed, 1);
	again[0] = 999999;
	ck_assert_int_eq(mailbox_expunge(snap->mailbox_id, again, 1, &removed,
					 &error), 0);
	ck_assert_uint_eq(removed, 0);
	ck_assert_int_eq(mailbox_expunge(snap->mailbox_id, again, 0, &removed,
					 &error), 0);
	ck_assert_uint_eq(removed, 0);

	after = snap_take(&jsmith);
	ck_assert_uint_eq(after->count, 1);
	ck_assert_uint_eq(after->msgs[0].uid, uids[3]);
	ck_assert_uint_eq(files_in("bodies"), 1);
	mailbox_snapshot_free(&after);
	mailbox_snapshot_free(&snap);
}
END_TEST

/* Expunge in one mailbox leaves another account's messages alone, even
 * with the same uid. */
START_TEST(test_expunge_other_mailbox_untouched)
{
	struct mailbox_snapshot *a, *b;
	struct account bob;
	const char *error = NULL;
	uint32_t ua, ub;
	size_t removed, len;

	ck_assert_int_eq(account_add("bob", "pw", &bob, &error), 0);
	ua = deliver_ok(&jsmith, "S: a\n\na\n");
	ub = deliver_ok(&bob, "S: b\n\nb\n");
	ck_assert_uint_eq(ua, ub);
	a = snap_take(&jsmith);
	b = snap_take(&bob);
	ck_assert_uint_ne(a->mailbox_id, b->mailbox_id);
	ck_assert_int_eq(mailbox_expunge(a->mailbox_id, &ua, 1, &removed,
					 &error), 0);
	ck_assert_uint_eq(removed, 1);
	mailbox_snapshot_free(&b);
	b = snap_take(&bob);
	ck_assert_uint_eq(b->count, 1);
	free(body_read(&b->msgs[0], &len));
	mailbox_snapshot_free(&a);
	mailbox_snapshot_free(&b);
}
END_TEST

START_TEST(test_seen)
{
	struct mailbox_snapshot *old, *cur;
	const char *error = NULL;
	uint32_t u1, u2;
	size_t removed;

	u1 = deliver_ok(&jsmith, "S: 1\n\n.dot\n");
	u2 = deliver_ok(&jsmith, "S: 2\n\n2\n");
	old = snap_take(&jsmith);
	ck_assert(!(snap_find(old, u1)->flags & MSG_SEEN));

	ck_assert_int_eq(message_set_seen(old->mailbox_id, u1, &error), 0);
	/* twice is harmless */
	ck_assert_int_eq(message_set_seen(old->mailbox_id, u1, &error), 0);
	cur = snap_take(&jsmith);
	ck_assert(snap_find(cur, u1)->flags & MSG_SEEN);
	/* other flags kept, other messages untouched */
	ck_assert(snap_find(cur, u1)->flags & MSG_HAS_DOT_LINE);
	ck_assert(!(snap_find(cur, u2)->flags & MSG_SEEN));
	ck_assert_uint_eq(snap_find(cur, u1)->size, snap_find(old, u1)->size);
	/* the older snapshot is a copy */
	ck_assert(!(snap_find(old, u1)->flags & MSG_SEEN));
	mailbox_snapshot_free(&cur);

	/* a removed message: no error, and it does not come back */
	ck_assert_int_eq(mailbox_expunge(old->mailbox_id, &u2, 1, &removed,
					 &error), 0);
	ck_assert_int_eq(message_set_seen(old->mailbox_id, u2, &error), 0);
	ck_assert_int_eq(message_set_seen(old->mailbox_id, 424242, &error), 0);
	cur = snap_take(&jsmith);
	ck_assert_uint_eq(cur->count, 1);
	ck_assert_ptr_null(snap_find(cur, u2));
	/* the flag survives a reopen */
	mailbox_snapshot_free(&cur);
	store_close();
	open_store();
	cur = snap_take(&jsmith);
	ck_assert(snap_find(cur, u1)->flags & MSG_SEEN);
	mailbox_snapshot_free(&cur);
	mailbox_snapshot_free(&old);
}
END_TEST

/* ---- several processes ---- */

#define WRITERS 4
#define PER_WRITER 15

START_TEST(test_concurrent_writers)
{
	static bool seen[WRITERS][PER_WRITER];
	struct mailbox_snapshot *snap;
	pid_t pids[WRITERS];
	int go[2];

	/* LMDB must not be carried across fork: each process opens it */
	store_close();
	/* the writers start together when go is closed */
	ck_assert_int_eq(pipe(go), 0);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] == 0) {
			const char *error = NULL;
			char c;
			int bad = 0;

			close(go[1]);
			if (store_open(fx.data_dir, &error) < 0 ||
			    read(go[0], &c, 1) != 0)
				_exit(2);
			for (int i = 0; i < PER_WRITER && !bad; i++) {
				char text[100];
				uint32_t uid;
				int p[2], n;

				n = snprintf(text, sizeof(text),
					     "Subject: w%d\n\n"
					     "writer %d msg %d\n", w, w, i);
				if (pipe(p) < 0 ||
				    write(p[1], text, (size_t)n) != n)
					_exit(3);
				close(p[1]);
				if (import_from_fd(&jsmith, "INBOX", p[0],
						    MAX_SIZE, &uid, &error) !=
				    IMPORT_OK) {
					fprintf(stderr, "writer %d: %s\n", w,
						error);
					bad = 1;
				}
				close(p[0]);
			}
			store_close();
			_exit(bad);
		}
	}
	close(go[0]);
	close(go[1]);
	for (int w = 0; w < WRITERS; w++) {
		int status;

		ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	open_store();

	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, WRITERS * PER_WRITER);
	for (uint32_t i = 0; i < snap->count; i++) {
		int w, n;
		char *body;
		size_t len;

		/* uid order, so distinct means strictly increasing */
		if (i > 0)
			ck_assert_uint_gt(snap->msgs[i].uid,
					  snap->msgs[i - 1].uid);
		body = body_read(&snap->msgs[i], &len);
		ck_assert_uint_eq(len, snap->msgs[i].size);
		ck_assert_msg(sscanf(body, "Subject: w%*d\r\n\r\n"
				     "writer %d msg %d", &w, &n) == 2,
			      "body: %s", body);
		ck_assert(w >= 0 && w < WRITERS && n >= 0 && n < PER_WRITER);
		ck_assert_msg(!seen[w][n], "writer %d msg %d twice", w, n);
		seen[w][n] = true;
		free(body);
	}
	mailbox_snapshot_free(&snap);
	ck_assert_uint_eq(files_in("bodies"), WRITERS * PER_WRITER);
	ck_assert_uint_eq(files_in("tmp"), 0);
}
END_TEST

/* ---- removal ---- */

START_TEST(test_account_del)
{
	struct mailbox_snapshot *snap, *bsnap;
	struct account bob, again, found;
	const char *error = NULL;
	size_t len;

	ck_assert_int_eq(account_add("bob", "pw", &bob, &error), 0);
	for (int i = 0; i < 3; i++)
		deliver_ok(&jsmith, "S: j\n\nj\n");
	deliver_ok(&bob, "S: b\n\nb\n");
	snap = snap_take(&jsmith);
	ck_assert_uint_eq(snap->count, 3);
	ck_assert_uint_eq(files_in("bodies"), 4);

	ck_assert_msg(account_del("jsmith", &error) == 0, "account_del: %s",
		      error);
	ck_assert_int_lt(account_find("jsmith", &found, &error), 0);
	for (uint32_t i = 0; i < snap->count; i++)
		assert_body_gone(&snap->msgs[i]);
	ck_assert_uint_eq(files_in("bodies"), 1);
	mailbox_snapshot_free(&snap);
	{
		struct mailbox_snapshot *none = NULL;

		ck_assert_int_lt(mailbox_snapshot_take(&jsmith, "INBOX", NULL, &none,
						       &error), 0);
		ck_assert_ptr_null(none);
	}

	/* the other account is untouched */
	bsnap = snap_take(&bob);
	ck_assert_uint_eq(bsnap->count, 1);
	free(body_read(&bsnap->msgs[0], &len));
	mailbox_snapshot_free(&bsnap);

	/* gone is gone: a second delete fails */
	ck_assert_int_lt(account_del("jsmith", &error), 0);

	/* the same name again is a new, empty account */
	ck_assert_int_eq(account_add("jsmith", "new", &again, &error), 0);
	ck_assert_uint_ne(again.id, jsmith.id);
	snap = snap_take(&again);
	ck_assert_uint_eq(snap->count, 0);
	mailbox_snapshot_free(&snap);
}
END_TEST

START_TEST(test_domain_del)
{
	struct account a;
	const char *error = NULL;
	bool exists = false;

	/* refused while it has accounts */
	ck_assert_int_lt(domain_del("example.com", &error), 0);
	ck_assert_ptr_nonnull(error);
	ck_assert_int_eq(store_domain_exists("example.com", &exists, &error),
			 0);
	ck_assert(exists);
	ck_assert_int_eq(account_find("jsmith", &a, &error), 0);

	/* a domain whose name is a prefix of one with accounts is empty */
	ck_assert_int_eq(domain_add("example.co", &error), 0);
	ck_assert_int_eq(domain_del("example.co", &error), 0);
	ck_assert_int_eq(store_domain_exists("example.co", &exists, &error), 0);
	ck_assert(!exists);

	ck_assert_int_eq(account_del("jsmith@example.com", &error), 0);
	ck_assert_int_eq(domain_del("Example.COM", &error), 0);
	ck_assert_int_eq(store_domain_exists("example.com", &exists, &error),
			 0);
	ck_assert(!exists);
	ck_assert_int_lt(domain_del("example.com", &error), 0);
	ck_assert_int_lt(domain_del("never.seen", &error), 0);
	/* no accounts in a domain that does not exist */
	ck_assert_int_lt(account_add("x@example.com", "pw", &a, &error), 0);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_domain_add);
	tcase_add_test(tc, test_account_add_creates_inbox);
	tcase_add_test(tc, test_deliver_lf_becomes_crlf);
	tcase_add_test(tc, test_deliver_crlf_and_mixed);
	tcase_add_test(tc, test_deliver_no_final_newline);
	tcase_add_test(tc, test_deliver_empty);
	tcase_add_test(tc, test_deliver_too_big);
	tcase_add_test(tc, test_deliver_too_big_by_final_crlf);
	tcase_add_test(tc, test_deliver_unknown_mailbox);
	tcase_add_test(tc, test_dot_line_flag);
	tcase_add_test(tc, test_hdr_len);
	tcase_add_test(tc, test_body_exact_large);
	tcase_add_test(tc, test_uidl_unique_and_stable);
	tcase_add_test(tc, test_uids_never_reused);
	tcase_add_test(tc, test_custom_uidl);
	tcase_add_test(tc, test_snapshot_isolation);
	tcase_add_test(tc, test_expunge);
	tcase_add_test(tc, test_expunge_other_mailbox_untouched);
	tcase_add_test(tc, test_seen);
	tcase_add_test(tc, test_concurrent_writers);
	tcase_add_test(tc, test_account_del);
	tcase_add_test(tc, test_domain_del);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(store_suite(), root_dir);
}

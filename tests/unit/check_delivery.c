/* check_delivery.c - unit tests for local delivery (the delivery_* API in
 * postern/module.h, SPEC.md 4) end to end through the store: what lands in
 * which mailbox, how it is stamped, what X-Real-To views show, and what a
 * sender is told when it does not fit. */
#include "build-config.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core_settings.h"
#include "mail/accounts.h"
#include "mail/acl.h"
#include "mail/names.h"
#include "postern/module.h"
#include "store/body.h"
#include "store/store.h"
#include "store/store_ops.h"
#include "unit.h"

#define MAX_SIZE (1024u * 1024)


/* Without delivery threads (no backend registered, as in posternctl) the
 * delivery is stored and `done` has run when delivery_data_finish
 * returns. */
struct finish_result {
	bool called;
	unsigned int delivered;
};

static void finish_done(void *ctx, unsigned int delivered)
{
	struct finish_result *r = ctx;

	r->called = true;
	r->delivered = delivered;
}

static unsigned int finish_now(struct delivery *d)
{
	struct finish_result r = { false, 0 };

	delivery_data_finish(d, finish_done, &r);
	ck_assert_msg(r.called, "done was not called before delivery_data_finish returned");
	return r.delivered;
}

static struct unit_store fx;
static char root_dir[] = "/tmp/check_delivery.XXXXXX";

/* Per test: example.com (the main domain) with jsmith and bob, alias
 * sales -> bob; client1.com with its unified account cl1, and its domain
 * alias client1.net; other.org with eve.  jsmith has a mailbox "lists". */
static struct account jsmith, bob, cl1, eve;

static struct account account_ok(const char *name, const char *domain)
{
	struct account_secrets secrets;
	struct account a;
	const char *error = NULL;

	/* straight through the store: delivery never looks at passwords,
	 * and hashing them would only slow every test down */
	memset(&secrets, 0, sizeof(secrets));
	ck_assert_msg(store_account_add(name, domain, &secrets, &a, &error) == 0,
		      "account %s@%s: %s", name, domain, error ? error : "(null)");
	return a;
}

static void admin_ok(int ret, const char *what, const char *error)
{
	ck_assert_msg(ret == 0, "%s: %s", what, error ? error : "(null)");
}

static void setup(void)
{
	const char *error = NULL;

	unit_store_open(&fx, root_dir, MAX_SIZE);
	admin_ok(domain_add("example.com", &error), "domain example.com", error);
	admin_ok(domain_add("client1.com", &error), "domain client1.com", error);
	admin_ok(domain_add("other.org", &error), "domain other.org", error);
	jsmith = account_ok("jsmith", "example.com");
	bob = account_ok("bob", "example.com");
	cl1 = account_ok("cl1", "client1.com");
	eve = account_ok("eve", "other.org");
	admin_ok(alias_add("sales@example.com", "bob", &error), "alias sales",
		 error);
	admin_ok(domain_set_unified("client1.com", "cl1", &error), "unified cl1",
		 error);
	admin_ok(domain_alias_add("client1.net", "client1.com", &error),
		 "domain alias client1.net", error);
	admin_ok(store_mailbox_add(&jsmith, "lists", &error), "mailbox lists",
		 error);
}

static void teardown(void)
{
	unit_store_close(&fx);
}

/* ---- helpers ---- */

static const char *status_name(enum delivery_status st)
{
	switch (st) {
	case DELIVERY_OK:
		return "OK";
	case DELIVERY_UNKNOWN:
		return "UNKNOWN";
	case DELIVERY_BAD_ADDRESS:
		return "BAD_ADDRESS";
	case DELIVERY_OVER_QUOTA:
		return "OVER_QUOTA";
	case DELIVERY_TOO_BIG:
		return "TOO_BIG";
	case DELIVERY_BAD_MESSAGE:
		return "BAD_MESSAGE";
	case DELIVERY_TEMPFAIL:
		return "TEMPFAIL";
	case DELIVERY_DISABLED:
		return "DISABLED";
	}
	return "?";
}

static void add_ok(struct delivery *d, const char *rcpt, uint64_t size)
{
	const char *error = NULL;
	enum delivery_status st = delivery_add_recipient(d, rcpt, size, &error);

	ck_assert_msg(st == DELIVERY_OK, "recipient %s refused (%s): %s", rcpt,
		      status_name(st), error ? error : "(null)");
}

/* Start a delivery from `sender` to the recipients (NULL-terminated),
 * every one of which must be accepted, and begin the message. */
static struct delivery *start(const char *sender, const char *const *rcpts)
{
	struct delivery *d = delivery_new(sender, NULL, MAX_SIZE);
	const char *error = NULL;
	enum delivery_status st;

	for (; *rcpts != NULL; rcpts++)
		add_ok(d, *rcpts, 0);
	st = delivery_data_begin(d, &error);
	ck_assert_msg(st == DELIVERY_OK, "data_begin: %s: %s", status_name(st),
		      error ? error : "(null)");
	return d;
}

/* The message in pieces of `chunk` octets, as a protocol hands it over. */
static void feed(struct delivery *d, const char *text, size_t chunk)
{
	size_t len = strlen(text);

	for (size_t off = 0; off < len; off += chunk)
		delivery_data_write(d, text + off,
				    len - off < chunk ? len - off : chunk);
}

static void assert_result(const struct delivery *d, unsigned int i,
			  enum delivery_status want, const char *want_error,
			  const char *why)
{
	const char *error = NULL;
	enum delivery_status st = delivery_result(d, i, &error);

	ck_assert_msg(st == want, "%s: recipient %u was told %s (%s), not %s",
		      why, i, status_name(st), error ? error : "(null)",
		      status_name(want));
	ck_assert_msg(error != NULL, "%s: recipient %u has no reason", why, i);
	if (want_error != NULL)
		ck_assert_msg(strstr(error, want_error) != NULL,
			      "%s: recipient %u was told '%s', which does not say '%s'",
			      why, i, error, want_error);
}

/* The whole delivery; every recipient must get the message. */
static void deliver_ok(const char *sender, const char *const *rcpts,
		       const char *text)
{
	struct delivery *d = start(sender, rcpts);
	unsigned int n = delivery_recipient_count(d), got;

	feed(d, text, 7);
	got = finish_now(d);
	for (unsigned int i = 0; i < n; i++)
		assert_result(d, i, DELIVERY_OK, "", "a deliverable message");
	ck_assert_uint_eq(got, n);
	delivery_free(&d);
	ck_assert_ptr_null(d);
}

static struct mailbox_snapshot *snap_take(const struct account *a,
					  const char *mailbox, const char *view)
{
	struct mailbox_snapshot *snap = NULL;
	const char *error = NULL;

	ck_assert_msg(mailbox_snapshot_take(a, mailbox, view, &snap, &error) == 0,
		      "snapshot %s of %s@%s: %s", mailbox, a->name, a->domain,
		      error ? error : "(null)");
	return snap;
}

/* How many messages a mailbox (or a view of it) shows. */
static uint32_t count_in(const struct account *a, const char *mailbox,
			 const char *view)
{
	struct mailbox_snapshot *snap = snap_take(a, mailbox, view);
	uint32_t n = snap->count;

	mailbox_snapshot_free(&snap);
	return n;
}

/* The stored octets of a message, read through body_open. */
static char *body_text(const struct msg_info *m)
{
	size_t len = 0, alloc = 4096;
	char *data = malloc(alloc + 1);
	int fd = body_open(m->body_id);

	ck_assert_ptr_nonnull(data);
	ck_assert_msg(fd >= 0, "body of uid %u: %s", m->uid, strerror(errno));
	for (;;) {
		ssize_t n;

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
	ck_assert_msg(len == m->size, "uid %u: %zu octets on disk, %u listed",
		      m->uid, len, m->size);
	return data;
}

/* The only message of a mailbox, as stored. */
static char *only_message(const struct account *a, const char *mailbox)
{
	struct mailbox_snapshot *snap = snap_take(a, mailbox, NULL);
	char *text;

	ck_assert_msg(snap->count == 1, "%s of %s@%s holds %u messages, not 1",
		      mailbox, a->name, a->domain, snap->count);
	text = body_text(&snap->msgs[0]);
	mailbox_snapshot_free(&snap);
	return text;
}

static void assert_text(const char *got, const char *want, const char *why)
{
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n--- stored:\n%s\n--- "
		      "expected:\n%s", why, got, want);
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

/* Nothing was kept: no message in the store, no file left on disk. */
static void assert_nothing_stored(const char *why)
{
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 0 &&
		      count_in(&jsmith, "lists", NULL) == 0 &&
		      count_in(&bob, "INBOX", NULL) == 0 &&
		      count_in(&cl1, "INBOX", NULL) == 0,
		      "%s: a message was stored", why);
	ck_assert_msg(files_in("bodies") == 0, "%s: a body file was left in "
		      "bodies/", why);
	ck_assert_msg(files_in("tmp") == 0, "%s: a file was left in tmp/", why);
}

static void grant(const struct account *owner, const char *mailbox,
		  const char *who, unsigned int rights)
{
	struct acl_identifier id;
	unsigned int now;
	const char *error = NULL;

	admin_ok(acl_identifier_parse(who, &id, &error), who, error);
	admin_ok(store_acl_set(owner, mailbox, &id, ACL_MODE_REPLACE, rights,
			       &now, &error), "acl set", error);
}

#define RCPTS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- the stamp ---- */

START_TEST(test_one_recipient_stamped)
{
	/* bare LF, CRLF and a CR split from its LF across two writes */
	static const char msg[] = "Subject: hi\nFrom: <a@remote.example>\r\n\n"
				  "line 1\r\nline 2\n";
	static const char want[] =
		"Return-Path: <a@remote.example>\r\n"
		"X-Real-To: <jsmith@example.com>\r\n"
		"Subject: hi\r\nFrom: <a@remote.example>\r\n\r\n"
		"line 1\r\nline 2\r\n";
	struct mailbox_snapshot *snap;
	struct delivery *d;
	const char *cr = strchr(msg, '\r');
	char *text;

	/* in two writes, the first ending between a CR and its LF */
	d = start("a@remote.example", RCPTS("jsmith@example.com"));
	delivery_data_write(d, msg, (size_t)(cr - msg + 1));
	delivery_data_write(d, cr + 1, strlen(cr + 1));
	ck_assert_uint_eq(finish_now(d), 1);
	assert_result(d, 0, DELIVERY_OK, "", "one recipient");
	delivery_free(&d);
	text = only_message(&jsmith, "INBOX");
	assert_text(text, want, "the copy is headed by Return-Path and "
		    "X-Real-To, and keeps CRLF line ends");
	snap = snap_take(&jsmith, "INBOX", NULL);
	/* POP TOP sends the header, the stamp included */
	ck_assert_msg(snap->msgs[0].hdr_len ==
		      (uint32_t)(strstr(want, "\r\n\r\n") - want + 4),
		      "header length %u does not end at the blank line",
		      snap->msgs[0].hdr_len);
	ck_assert_msg(!(snap->msgs[0].flags & MSG_SEEN), "new mail is unread");
	mailbox_snapshot_free(&snap);
	ck_assert_msg(count_in(&bob, "INBOX", NULL) == 0,
		      "nobody else gets a copy");
	ck_assert_msg(files_in("tmp") == 0, "nothing is left in tmp/");
	free(text);
}
END_TEST

START_TEST(test_recipient_as_written)
{
	char *text;

	/* the stamp names the address the sender used; the store records
	 * it in lower case for views */
	deliver_ok("a@remote.example", RCPTS("JSmith@Example.COM"),
		   "S: x\n\nbody\n");
	text = only_message(&jsmith, "INBOX");
	assert_text(text, "Return-Path: <a@remote.example>\r\n"
		    "X-Real-To: <JSmith@Example.COM>\r\nS: x\r\n\r\nbody\r\n",
		    "X-Real-To is the original recipient address");
	free(text);
}
END_TEST

START_TEST(test_null_sender)
{
	char *text;

	deliver_ok("", RCPTS("jsmith@example.com"), "Subject: bounce\n\nx\n");
	text = only_message(&jsmith, "INBOX");
	assert_text(text, "Return-Path: <>\r\nX-Real-To: <jsmith@example.com>\r\n"
		    "Subject: bounce\r\n\r\nx\r\n",
		    "a bounce (null sender) is stamped Return-Path: <>");
	free(text);
}
END_TEST

START_TEST(test_bare_recipient_gets_its_domain)
{
	char *text;

	/* posternctl deliver jsmith: the stamp needs a whole address */
	deliver_ok("a@remote.example", RCPTS("jsmith"), "S: x\n\nbody\n");
	text = only_message(&jsmith, "INBOX");
	assert_text(text, "Return-Path: <a@remote.example>\r\n"
		    "X-Real-To: <jsmith@example.com>\r\nS: x\r\n\r\nbody\r\n",
		    "a recipient without a domain is stamped with it");
	free(text);
}
END_TEST

START_TEST(test_percent_recipient_stamped_as_address)
{
	char *text;

	/* the Router's name%domain form is name@domain: the stamp must not
	 * become "jsmith%example.com@example.com", an address nobody wrote */
	deliver_ok("a@remote.example", RCPTS("jsmith%example.com"),
		   "S: x\n\nbody\n");
	text = only_message(&jsmith, "INBOX");
	assert_text(text, "Return-Path: <a@remote.example>\r\n"
		    "X-Real-To: <jsmith@example.com>\r\nS: x\r\n\r\nbody\r\n",
		    "name%domain is stamped as name@domain");
	free(text);
}
END_TEST

/* ---- copies ---- */

START_TEST(test_unified_two_addresses_one_copy)
{
	char *text;

	deliver_ok("a@remote.example",
		   RCPTS("abcdef@client1.com", "xyz@client1.com"),
		   "S: x\n\nbody\n");
	text = only_message(&cl1, "INBOX");
	assert_text(text, "Return-Path: <a@remote.example>\r\n"
		    "X-Real-To: <abcdef@client1.com>\r\n"
		    "X-Real-To: <xyz@client1.com>\r\n"
		    "S: x\r\n\r\nbody\r\n",
		    "two addresses of one mailbox get one copy naming both");
	ck_assert_msg(files_in("bodies") == 1, "one copy means one body file");
	free(text);
}
END_TEST

START_TEST(test_alias_and_account_one_copy)
{
	char *text;

	deliver_ok("a@remote.example", RCPTS("sales@example.com", "bob@example.com"),
		   "S: x\n\nbody\n");
	text = only_message(&bob, "INBOX");
	assert_text(text, "Return-Path: <a@remote.example>\r\n"
		    "X-Real-To: <sales@example.com>\r\n"
		    "X-Real-To: <bob@example.com>\r\n"
		    "S: x\r\n\r\nbody\r\n",
		    "an alias and its account get one copy naming both");
	ck_assert_msg(files_in("bodies") == 1, "one copy means one body file");
	free(text);
}
END_TEST

START_TEST(test_different_accounts_one_copy_each)
{
	static const char msg[] = "S: x\n\nbody\n";
	char *j, *b, *e;

	deliver_ok("a@remote.example",
		   RCPTS("jsmith@example.com", "bob@example.com", "eve@other.org"),
		   msg);
	j = only_message(&jsmith, "INBOX");
	b = only_message(&bob, "INBOX");
	e = only_message(&eve, "INBOX");
	assert_text(j, "Return-Path: <a@remote.example>\r\n"
		    "X-Real-To: <jsmith@example.com>\r\nS: x\r\n\r\nbody\r\n",
		    "each account's copy names only its own recipient");
	assert_text(b, "Return-Path: <a@remote.example>\r\n"
		    "X-Real-To: <bob@example.com>\r\nS: x\r\n\r\nbody\r\n",
		    "each account's copy names only its own recipient");
	assert_text(e, "Return-Path: <a@remote.example>\r\n"
		    "X-Real-To: <eve@other.org>\r\nS: x\r\n\r\nbody\r\n",
		    "also in another domain");
	ck_assert_msg(files_in("bodies") == 3, "three accounts, three copies");
	ck_assert_msg(files_in("tmp") == 0, "nothing is left in tmp/");
	free(j);
	free(b);
	free(e);
}
END_TEST

START_TEST(test_large_message_copied_exactly)
{
	/* larger than the copy buffer, so the second copy is made in pieces */
	const size_t lines = 10000;
	char *msg = malloc(lines * 80 + 32), *want = malloc(lines * 82 + 32);
	char *p = msg, *q = want, *j, *b;
	const char *body_j, *body_b;

	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(want);
	p += snprintf(p, 32, "Subject: big\n\n");
	q += snprintf(q, 32, "Subject: big\r\n\r\n");
	for (size_t i = 0; i < lines; i++) {
		p += snprintf(p, 80, "line %06zu %s\n", i, i % 7 ? "x" : ".dot");
		q += snprintf(q, 82, "line %06zu %s\r\n", i, i % 7 ? "x" : ".dot");
	}
	deliver_ok("a@remote.example", RCPTS("jsmith@example.com", "bob@example.com"),
		   msg);
	j = only_message(&jsmith, "INBOX");
	b = only_message(&bob, "INBOX");
	body_j = strstr(j, "Subject: big");
	body_b = strstr(b, "Subject: big");
	ck_assert_ptr_nonnull(body_j);
	ck_assert_ptr_nonnull(body_b);
	ck_assert_msg(strcmp(body_j, want) == 0,
		      "the first copy is the message, octet for octet");
	ck_assert_msg(strcmp(body_b, want) == 0,
		      "the second copy is the message, octet for octet");
	free(msg);
	free(want);
	free(j);
	free(b);
}
END_TEST

/* ---- X-Real-To views (the CommuniGate example) ---- */

START_TEST(test_views_show_only_their_recipient)
{
	struct mailbox_snapshot *snap;
	char *text;

	deliver_ok("a@remote.example", RCPTS("abcdef@client1.com"),
		   "Subject: for abcdef\n\n1\n");
	deliver_ok("a@remote.example", RCPTS("xyz@client1.com"),
		   "Subject: for xyz\n\n2\n");

	ck_assert_msg(count_in(&cl1, "INBOX", NULL) == 2,
		      "a login as cl1 itself sees every message");
	ck_assert_msg(count_in(&cl1, "INBOX", "") == 2,
		      "an empty view is no view");
	snap = snap_take(&cl1, "INBOX", "abcdef@client1.com");
	ck_assert_msg(snap->count == 1, "abcdef@client1.com sees %u messages, "
		      "not only its own", snap->count);
	text = body_text(&snap->msgs[0]);
	ck_assert_msg(strstr(text, "Subject: for abcdef") != NULL,
		      "abcdef@client1.com sees xyz's message instead of its own");
	free(text);
	mailbox_snapshot_free(&snap);
	snap = snap_take(&cl1, "INBOX", "xyz@client1.com");
	ck_assert_msg(snap->count == 1, "xyz@client1.com sees %u messages",
		      snap->count);
	text = body_text(&snap->msgs[0]);
	ck_assert_msg(strstr(text, "Subject: for xyz") != NULL,
		      "xyz@client1.com sees abcdef's message instead of its own");
	free(text);
	mailbox_snapshot_free(&snap);
	ck_assert_msg(count_in(&cl1, "INBOX", "nobody@client1.com") == 0,
		      "an address nothing was sent to sees nothing");
	ck_assert_msg(count_in(&cl1, "INBOX", "abcdef@client1") == 0,
		      "a view matches whole addresses, not prefixes");
	ck_assert_msg(count_in(&cl1, "INBOX", "bcdef@client1.com") == 0,
		      "a view matches whole addresses, not suffixes");
}
END_TEST

START_TEST(test_views_of_a_shared_copy)
{
	/* one copy for both: each view shows it */
	deliver_ok("a@remote.example",
		   RCPTS("abcdef@client1.com", "XYZ@Client1.NET"),
		   "Subject: both\n\n1\n");
	ck_assert_msg(count_in(&cl1, "INBOX", "abcdef@client1.com") == 1,
		      "a copy for two addresses is in the first one's view");
	ck_assert_msg(count_in(&cl1, "INBOX", "xyz@client1.com") == 1,
		      "and in the second one's, though it came through the "
		      "domain alias and in upper case");
	ck_assert_msg(count_in(&cl1, "INBOX", NULL) == 1,
		      "and it is one message");
}
END_TEST

/* ---- Direct Mailbox Addressing ---- */

START_TEST(test_dma_anyone_may_post)
{
	char *text;

	grant(&jsmith, "lists", "anyone", ACL_POST);
	deliver_ok("a@remote.example", RCPTS("jsmith#lists@example.com"),
		   "S: x\n\nbody\n");
	text = only_message(&jsmith, "lists");
	assert_text(text, "Return-Path: <a@remote.example>\r\n"
		    "X-Real-To: <jsmith#lists@example.com>\r\n"
		    "S: x\r\n\r\nbody\r\n",
		    "jsmith#lists lands in lists when anyone may post there");
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 0,
		      "and not in the INBOX too");
	free(text);
}
END_TEST

START_TEST(test_dma_sender_may_post)
{
	grant(&jsmith, "lists", "bob@example.com", ACL_POST);

	deliver_ok("bob@example.com", RCPTS("jsmith#lists@example.com"),
		   "S: 1\n\n1\n");
	ck_assert_msg(count_in(&jsmith, "lists", NULL) == 1,
		      "a sender granted p posts into the mailbox");
	deliver_ok("Sales@Example.com", RCPTS("jsmith#lists@example.com"),
		   "S: 2\n\n2\n");
	ck_assert_msg(count_in(&jsmith, "lists", NULL) == 2,
		      "also writing his address through an alias");
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 0,
		      "posts that may go into lists do not go to the INBOX");

	deliver_ok("eve@other.org", RCPTS("jsmith#lists@example.com"),
		   "S: 3\n\n3\n");
	deliver_ok("", RCPTS("jsmith#lists@example.com"), "S: 4\n\n4\n");
	deliver_ok("stranger@remote.example", RCPTS("jsmith#lists@example.com"),
		   "S: 5\n\n5\n");
	ck_assert_msg(count_in(&jsmith, "lists", NULL) == 2,
		      "other senders cannot post into lists");
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 3,
		      "their mail goes to the INBOX instead");
}
END_TEST

START_TEST(test_dma_domain_may_post)
{
	grant(&jsmith, "lists", "anyone@example.com", ACL_POST);
	deliver_ok("bob@example.com", RCPTS("jsmith#lists@example.com"),
		   "S: 1\n\n1\n");
	deliver_ok("eve@other.org", RCPTS("jsmith#lists@example.com"),
		   "S: 2\n\n2\n");
	ck_assert_msg(count_in(&jsmith, "lists", NULL) == 1,
		      "p for anyone@example.com lets bob@example.com post");
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 1,
		      "but not eve@other.org");
}
END_TEST

START_TEST(test_dma_unified_sender_has_no_rights)
{
	/* any unknown address of client1.com routes to cl1; it must not
	 * borrow cl1's rights */
	grant(&jsmith, "lists", "cl1@client1.com", ACL_POST);
	deliver_ok("forged@client1.com", RCPTS("jsmith#lists@example.com"),
		   "S: 1\n\n1\n");
	ck_assert_msg(count_in(&jsmith, "lists", NULL) == 0 &&
		      count_in(&jsmith, "INBOX", NULL) == 1,
		      "a sender that is only the unified account's catch-all "
		      "posts into the INBOX");
	deliver_ok("cl1@client1.com", RCPTS("jsmith#lists@example.com"),
		   "S: 2\n\n2\n");
	ck_assert_msg(count_in(&jsmith, "lists", NULL) == 1,
		      "cl1 itself holds its p right");
}
END_TEST

START_TEST(test_dma_without_post_right_goes_to_inbox)
{
	char *text;

	grant(&jsmith, "lists", "anyone", ACL_LOOKUP | ACL_READ | ACL_INSERT);
	deliver_ok("bob@example.com", RCPTS("jsmith#lists@example.com"),
		   "S: x\n\nbody\n");
	ck_assert_msg(count_in(&jsmith, "lists", NULL) == 0,
		      "without p nobody posts into lists (not even with i)");
	text = only_message(&jsmith, "INBOX");
	ck_assert_msg(strstr(text, "X-Real-To: <jsmith#lists@example.com>\r\n")
		      != NULL, "the INBOX copy still names the address used");
	free(text);
}
END_TEST

START_TEST(test_dma_missing_mailbox_goes_to_inbox)
{
	grant(&jsmith, "lists", "anyone", ACL_POST);
	deliver_ok("bob@example.com", RCPTS("jsmith#nosuch@example.com"),
		   "S: 1\n\n1\n");
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 1,
		      "mail for a mailbox that does not exist goes to the INBOX");
	deliver_ok("bob@example.com", RCPTS("jsmith#LISTS@example.com"),
		   "S: 2\n\n2\n");
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 2 &&
		      count_in(&jsmith, "lists", NULL) == 0,
		      "mailbox names are case-sensitive: LISTS is not lists");
	deliver_ok("bob@example.com", RCPTS("jsmith#~x@example.com"),
		   "S: 3\n\n3\n");
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 3,
		      "a name no mailbox can have goes to the INBOX");
}
END_TEST

START_TEST(test_dma_and_inbox_of_one_account)
{
	char *text;

	grant(&jsmith, "lists", "anyone", ACL_POST);
	deliver_ok("bob@example.com",
		   RCPTS("jsmith#lists@example.com", "jsmith@example.com"),
		   "S: x\n\nbody\n");
	ck_assert_msg(count_in(&jsmith, "lists", NULL) == 1 &&
		      count_in(&jsmith, "INBOX", NULL) == 1,
		      "two mailboxes of one account get a copy each");

	/* a mailbox that does not exist means the INBOX: one copy there */
	deliver_ok("bob@example.com",
		   RCPTS("jsmith#nosuch@example.com", "jsmith@example.com"),
		   "S: y\n\nbody\n");
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 2,
		      "two addresses ending up in the INBOX get one copy");
	{
		struct mailbox_snapshot *snap = snap_take(&jsmith, "INBOX", NULL);

		text = body_text(&snap->msgs[1]);
		mailbox_snapshot_free(&snap);
	}
	assert_text(text, "Return-Path: <bob@example.com>\r\n"
		    "X-Real-To: <jsmith#nosuch@example.com>\r\n"
		    "X-Real-To: <jsmith@example.com>\r\n"
		    "S: y\r\n\r\nbody\r\n",
		    "the INBOX copy names both addresses");
	free(text);
}
END_TEST

/* ---- recipients refused ---- */

START_TEST(test_unknown_and_bad_recipients)
{
	struct delivery *d = delivery_new("a@remote.example", NULL, MAX_SIZE);
	const char *error = NULL;
	enum delivery_status st;

	st = delivery_add_recipient(d, "ghost@example.com", 0, &error);
	ck_assert_msg(st == DELIVERY_UNKNOWN, "an unknown user: %s",
		      status_name(st));
	ck_assert_str_eq(error, "no such user: ghost@example.com");
	st = delivery_add_recipient(d, "x@nowhere.example", 0, &error);
	ck_assert_msg(st == DELIVERY_UNKNOWN, "an unknown domain: %s",
		      status_name(st));
	ck_assert_str_eq(error, "no such domain: nowhere.example");
	st = delivery_add_recipient(d, "a..b@example.com", 0, &error);
	ck_assert_msg(st == DELIVERY_BAD_ADDRESS, "a bad address: %s",
		      status_name(st));
	ck_assert_ptr_nonnull(strstr(error, "'..'"));
	ck_assert_msg(delivery_recipient_count(d) == 0,
		      "refused recipients are not counted");

	st = delivery_data_begin(d, &error);
	ck_assert_msg(st == DELIVERY_BAD_MESSAGE,
		      "no message without a recipient: %s", status_name(st));
	ck_assert_str_eq(error, "no valid recipients");

	/* the others still get it */
	add_ok(d, "jsmith@example.com", 0);
	ck_assert_uint_eq(delivery_recipient_count(d), 1);
	ck_assert_int_eq(delivery_data_begin(d, &error), DELIVERY_OK);
	st = delivery_add_recipient(d, "bob@example.com", 0, &error);
	ck_assert_msg(st == DELIVERY_TEMPFAIL,
		      "a recipient after the message began is refused: %s",
		      status_name(st));
	feed(d, "S: x\n\nbody\n", 100);
	ck_assert_uint_eq(finish_now(d), 1);
	assert_result(d, 0, DELIVERY_OK, "", "the valid recipient");
	ck_assert_msg(delivery_result(d, 1, &error) != DELIVERY_OK,
		      "there is no second recipient");
	delivery_free(&d);
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 1 &&
		      count_in(&bob, "INBOX", NULL) == 0,
		      "only the accepted recipient got the message");
}
END_TEST

START_TEST(test_store_fault_defers)
{
	struct delivery *d = delivery_new("a@remote.example", NULL, MAX_SIZE);
	const char *error = NULL;
	enum delivery_status st;

	store_close();
	st = delivery_add_recipient(d, "jsmith@example.com", 0, &error);
	ck_assert_msg(st == DELIVERY_TEMPFAIL,
		      "a store fault must defer the recipient (451), not "
		      "bounce it: %s", status_name(st));
	ck_assert_msg(error != NULL && error[0] != '\0',
		      "a store fault needs a reason for the log");
	delivery_free(&d);
	admin_ok(store_open(fx.data_dir, &error), "store_open", error);
}
END_TEST

START_TEST(test_target_gone_before_the_end)
{
	struct delivery *d;
	const char *error = NULL;
	uint32_t messages;

	/* routed at RCPT, gone by the end of DATA */
	grant(&jsmith, "lists", "anyone", ACL_POST);
	d = start("a@remote.example",
		  RCPTS("jsmith#lists@example.com", "eve@other.org",
			"bob@example.com"));
	feed(d, "S: x\n\nbody\n", 4);
	admin_ok(store_mailbox_del(&jsmith, "lists", &messages, &error),
		 "mailbox del", error);
	admin_ok(account_del("eve@other.org", &error), "account del", error);
	ck_assert_uint_eq(finish_now(d), 1);
	assert_result(d, 0, DELIVERY_TEMPFAIL,
		      "mailbox lists of jsmith@example.com was removed",
		      "a mailbox removed meanwhile defers: the next attempt "
		      "chooses the INBOX");
	assert_result(d, 1, DELIVERY_UNKNOWN,
		      "account eve@other.org was removed",
		      "an account removed meanwhile bounces");
	assert_result(d, 2, DELIVERY_OK, "", "the others get theirs");
	delivery_free(&d);
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 0,
		      "jsmith's copy did not go elsewhere on its own");
	ck_assert_msg(files_in("bodies") == 1, "the copies nobody took were "
		      "left on disk");
	ck_assert_msg(files_in("tmp") == 0, "a file was left in tmp/");
}
END_TEST

/* ---- quota ---- */

START_TEST(test_quota_announced_size)
{
	struct delivery *d = delivery_new("a@remote.example", NULL, MAX_SIZE);
	const char *error = NULL;
	enum delivery_status st;

	admin_ok(store_account_set_quota("jsmith", "example.com", 1000, &error),
		 "quota", error);
	st = delivery_add_recipient(d, "jsmith@example.com", 2000, &error);
	ck_assert_msg(st == DELIVERY_OVER_QUOTA,
		      "a message announced larger than the quota is refused at "
		      "RCPT: %s", status_name(st));
	ck_assert_str_eq(error, "mailbox of jsmith@example.com is full");
	st = delivery_add_recipient(d, "jsmith+x@example.com", 1001, &error);
	ck_assert_msg(st == DELIVERY_OVER_QUOTA,
		      "one octet over is over: %s", status_name(st));
	add_ok(d, "bob@example.com", 2000);
	add_ok(d, "jsmith#lists@example.com", 1000);
	ck_assert_msg(delivery_recipient_count(d) == 2,
		      "an account without quota and a size that fits pass");
	delivery_free(&d);
	assert_nothing_stored("recipients only");

	/* whether the sender retries or bounces is the admin's choice */
	fx.set.quota_full_tempfail = true;
	ck_assert_msg(delivery_quota_temporary(),
		      "quota_full = tempfail makes a full mailbox temporary");
	fx.set.quota_full_tempfail = false;
	ck_assert_msg(!delivery_quota_temporary(),
		      "quota_full = reject makes a full mailbox permanent");
}
END_TEST

START_TEST(test_quota_used_counts)
{
	struct delivery *d;
	const char *error = NULL;
	enum delivery_status st;

	deliver_ok("a@remote.example", RCPTS("jsmith@example.com"),
		   "S: x\n\n0123456789012345678901234567890123456789\n");
	/* 1 KiB minus what is stored: the next one must fit what is left */
	admin_ok(store_account_set_quota("jsmith", "example.com", 1024, &error),
		 "quota", error);
	d = delivery_new("a@remote.example", NULL, MAX_SIZE);
	st = delivery_add_recipient(d, "jsmith@example.com", 1000, &error);
	ck_assert_msg(st == DELIVERY_OVER_QUOTA,
		      "the mail already stored counts against the quota: %s",
		      status_name(st));
	add_ok(d, "jsmith@example.com", 100);
	delivery_free(&d);

	/* full to the octet: even a message of unknown size is refused */
	{
		struct mailbox_snapshot *snap = snap_take(&jsmith, "INBOX", NULL);
		uint64_t used = snap->total_size;

		mailbox_snapshot_free(&snap);
		admin_ok(store_account_set_quota("jsmith", "example.com", used,
						 &error), "quota", error);
	}
	d = delivery_new("a@remote.example", NULL, MAX_SIZE);
	st = delivery_add_recipient(d, "jsmith@example.com", 0, &error);
	ck_assert_msg(st == DELIVERY_OVER_QUOTA,
		      "a full mailbox refuses a message of unknown size: %s",
		      status_name(st));
	delivery_free(&d);
}
END_TEST

START_TEST(test_quota_at_finish)
{
	char msg[1600];
	struct delivery *d;
	const char *error = NULL;
	unsigned int n;

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	admin_ok(store_account_set_quota("jsmith", "example.com", 1000, &error),
		 "quota", error);
	/* the size was not announced: only the real one can tell */
	d = start("a@remote.example", RCPTS("jsmith@example.com"));
	feed(d, msg, 512);
	n = finish_now(d);
	ck_assert_msg(n == 0, "a message over the quota was delivered");
	assert_result(d, 0, DELIVERY_OVER_QUOTA,
		      "mailbox of jsmith@example.com is full",
		      "the real size is checked at the end");
	delivery_free(&d);
	assert_nothing_stored("over quota");

	/* the others get theirs */
	d = start("a@remote.example", RCPTS("jsmith@example.com", "bob@example.com"));
	feed(d, msg, 512);
	n = finish_now(d);
	ck_assert_msg(n == 1, "%u recipients got a message only bob has room "
		      "for", n);
	assert_result(d, 0, DELIVERY_OVER_QUOTA, "is full", "jsmith is full");
	assert_result(d, 1, DELIVERY_OK, "", "bob has no quota");
	delivery_free(&d);
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 0 &&
		      count_in(&bob, "INBOX", NULL) == 1,
		      "only bob has the message");
	ck_assert_msg(files_in("bodies") == 1, "jsmith's refused copy was "
		      "left on disk");
	ck_assert_msg(files_in("tmp") == 0, "a file was left in tmp/");
}
END_TEST

START_TEST(test_quota_two_mailboxes_of_one_account)
{
	struct delivery *d;
	const char *error = NULL;
	unsigned int n;
	char msg[600];

	/* each copy fits alone, both do not: the account's total counts */
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	grant(&jsmith, "lists", "anyone", ACL_POST);
	admin_ok(store_account_set_quota("jsmith", "example.com", 1000, &error),
		 "quota", error);
	d = start("a@remote.example",
		  RCPTS("jsmith@example.com", "jsmith#lists@example.com"));
	feed(d, msg, 100);
	n = finish_now(d);
	ck_assert_msg(n == 1, "%u copies stored in an account with room for "
		      "one", n);
	assert_result(d, 0, DELIVERY_OK, "", "the first copy fits");
	assert_result(d, 1, DELIVERY_OVER_QUOTA, "is full",
		      "the second copy does not");
	delivery_free(&d);
	ck_assert_msg(files_in("bodies") == 1, "the refused copy was left on "
		      "disk");
}
END_TEST

/* ---- size limit, empty messages, aborts ---- */

START_TEST(test_too_big)
{
	char msg[2000];
	struct delivery *d;
	const char *error = NULL;
	enum delivery_status st;

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	d = delivery_new("a@remote.example", NULL, 1000);
	st = delivery_add_recipient(d, "jsmith@example.com", 1001, &error);
	ck_assert_msg(st == DELIVERY_TOO_BIG,
		      "an announced size over the limit is refused at RCPT: %s",
		      status_name(st));
	add_ok(d, "jsmith@example.com", 0);
	add_ok(d, "bob@example.com", 1000);
	ck_assert_int_eq(delivery_data_begin(d, &error), DELIVERY_OK);
	feed(d, msg, 300);
	ck_assert_msg(finish_now(d) == 0,
		      "a message over the limit was delivered");
	assert_result(d, 0, DELIVERY_TOO_BIG, "limit of 1000 octets",
		      "the sender is told the limit");
	assert_result(d, 1, DELIVERY_TOO_BIG, "limit of 1000 octets",
		      "every recipient is told");
	delivery_free(&d);
	assert_nothing_stored("too big");
}
END_TEST

START_TEST(test_size_limit_is_the_message)
{
	/* the limit is the message's stored (CRLF) size; the stamp the
	 * server adds does not count against the sender */
	char msg[1000];
	struct delivery *d;
	const char *error = NULL;

	memset(msg, 'x', sizeof(msg));
	msg[998] = '\n';	/* 998 + CRLF: 1000 octets stored */
	msg[999] = '\0';
	d = delivery_new("a@remote.example", NULL, 1000);
	add_ok(d, "jsmith@example.com", 1000);
	ck_assert_int_eq(delivery_data_begin(d, &error), DELIVERY_OK);
	feed(d, msg, 250);
	ck_assert_msg(finish_now(d) == 1,
		      "a message of exactly the limit is accepted");
	delivery_free(&d);

	/* one more: the final line without its LF gains CRLF: 1001 */
	msg[998] = 'x';
	d = delivery_new("a@remote.example", NULL, 1000);
	add_ok(d, "bob@example.com", 0);
	ck_assert_int_eq(delivery_data_begin(d, &error), DELIVERY_OK);
	feed(d, msg, 250);
	ck_assert_msg(finish_now(d) == 0,
		      "one octet over the limit is refused");
	assert_result(d, 0, DELIVERY_TOO_BIG, NULL, "one octet over");
	delivery_free(&d);
	ck_assert_msg(count_in(&bob, "INBOX", NULL) == 0, "nothing for bob");
	ck_assert_msg(files_in("tmp") == 0, "a file was left in tmp/");
}
END_TEST

START_TEST(test_empty_message)
{
	struct delivery *d;

	d = start("a@remote.example", RCPTS("jsmith@example.com", "bob@example.com"));
	ck_assert_msg(finish_now(d) == 0,
		      "an empty message was delivered");
	assert_result(d, 0, DELIVERY_BAD_MESSAGE, "empty",
		      "an empty message is refused");
	assert_result(d, 1, DELIVERY_BAD_MESSAGE, "empty",
		      "for every recipient");
	delivery_free(&d);

	d = start("a@remote.example", RCPTS("jsmith@example.com"));
	delivery_data_write(d, "", 0);
	ck_assert_msg(finish_now(d) == 0,
		      "a message of zero-length writes was delivered");
	delivery_free(&d);
	assert_nothing_stored("empty message");
}
END_TEST

START_TEST(test_abort_mid_data)
{
	struct delivery *d;
	const char *error = NULL;

	d = start("a@remote.example", RCPTS("jsmith@example.com", "bob@example.com"));
	feed(d, "Subject: cut off\n\nhalf a mess", 5);
	ck_assert_msg(files_in("tmp") == 1, "the message is written as it "
		      "comes, into tmp/");
	delivery_data_abort(d);
	ck_assert_msg(files_in("tmp") == 0, "an aborted message leaves no "
		      "file in tmp/");
	assert_nothing_stored("aborted");

	/* an abort leaves the recipients as they were: the message can
	 * still come, and is then stored once */
	ck_assert_int_eq(delivery_data_begin(d, &error), DELIVERY_OK);
	feed(d, "S: again\n\nwhole\n", 3);
	ck_assert_uint_eq(finish_now(d), 2);
	delivery_free(&d);
	ck_assert_msg(count_in(&jsmith, "INBOX", NULL) == 1 &&
		      count_in(&bob, "INBOX", NULL) == 1,
		      "after an abort the message can still be delivered once");
}
END_TEST

START_TEST(test_free_mid_data)
{
	struct delivery *d;

	d = start("a@remote.example", RCPTS("jsmith@example.com", "bob@example.com"));
	feed(d, "Subject: client gone\n\nhalf", 4);
	delivery_free(&d);
	ck_assert_ptr_null(d);
	assert_nothing_stored("freed mid-data (client gone)");
	delivery_free(&d);	/* twice is harmless */
}
END_TEST

START_TEST(test_finish_without_begin)
{
	struct delivery *d = delivery_new("a@remote.example", NULL, MAX_SIZE);

	/* a protocol module that reaches the end of DATA after every
	 * recipient was refused: nothing happens, nothing breaks */
	ck_assert_msg(finish_now(d) == 0,
		      "a delivery with no recipient delivered something");
	delivery_data_write(d, "x", 1);
	delivery_data_abort(d);
	delivery_free(&d);

	d = delivery_new("a@remote.example", NULL, MAX_SIZE);
	add_ok(d, "jsmith@example.com", 0);
	ck_assert_msg(finish_now(d) == 0,
		      "a message that never began was delivered");
	assert_result(d, 0, DELIVERY_BAD_MESSAGE, NULL, "no message begun");
	delivery_free(&d);
	assert_nothing_stored("never begun");
}
END_TEST

static Suite *delivery_suite(void)
{
	Suite *s = suite_create("delivery");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_one_recipient_stamped);
	tcase_add_test(tc, test_recipient_as_written);
	tcase_add_test(tc, test_null_sender);
	tcase_add_test(tc, test_bare_recipient_gets_its_domain);
	tcase_add_test(tc, test_percent_recipient_stamped_as_address);
	tcase_add_test(tc, test_unified_two_addresses_one_copy);
	tcase_add_test(tc, test_alias_and_account_one_copy);
	tcase_add_test(tc, test_different_accounts_one_copy_each);
	tcase_add_test(tc, test_large_message_copied_exactly);
	tcase_add_test(tc, test_views_show_only_their_recipient);
	tcase_add_test(tc, test_views_of_a_shared_copy);
	tcase_add_test(tc, test_dma_anyone_may_post);
	tcase_add_test(tc, test_dma_sender_may_post);
	tcase_add_test(tc, test_dma_domain_may_post);
	tcase_add_test(tc, test_dma_unified_sender_has_no_rights);
	tcase_add_test(tc, test_dma_without_post_right_goes_to_inbox);
	tcase_add_test(tc, test_dma_missing_mailbox_goes_to_inbox);
	tcase_add_test(tc, test_dma_and_inbox_of_one_account);
	tcase_add_test(tc, test_unknown_and_bad_recipients);
	tcase_add_test(tc, test_store_fault_defers);
	tcase_add_test(tc, test_target_gone_before_the_end);
	tcase_add_test(tc, test_quota_announced_size);
	tcase_add_test(tc, test_quota_used_counts);
	tcase_add_test(tc, test_quota_at_finish);
	tcase_add_test(tc, test_quota_two_mailboxes_of_one_account);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_size_limit_is_the_message);
	tcase_add_test(tc, test_empty_message);
	tcase_add_test(tc, test_abort_mid_data);
	tcase_add_test(tc, test_free_mid_data);
	tcase_add_test(tc, test_finish_without_begin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(delivery_suite(), root_dir);
}

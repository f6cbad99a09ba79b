/* check_dotread.c - unit tests for lib/dotread: un-stuffing dot-terminated
 * input (LMTP DATA, XTND XMIT) in chunks cut anywhere. */
#include "build-config.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/dotread.h"
#include "unit.h"

#define OUT_MAX (64 * 1024)

static void collect(void *ctx, const void *data, size_t len)
{
	ck_assert_uint_gt(len, 0);	/* no empty runs */
	ck_assert_int_eq(buf_append(ctx, data, len), 0);
}

/* Feed `in` as a client would send it, in chunks of `chunk` octets (0: one
 * chunk), keeping unconsumed octets in front of the next chunk as the
 * connection's buffer does.  Returns the octets consumed in all; *done_r
 * tells whether the terminator was seen. */
static size_t feed(const char *in, size_t len, size_t chunk, struct buf *out,
		   bool *done_r)
{
	struct dotread dr;
	size_t consumed = 0, have = 0;

	dotread_init(&dr);
	while (!dr.done) {
		size_t step = chunk == 0 ? len : chunk;

		have = have + step > len - consumed ? len - consumed : have + step;
		size_t n = dotread_run(&dr, in + consumed, have, collect, out);

		ck_assert_uint_le(n, have);
		consumed += n;
		have -= n;
		/* what is held back is a possible terminator, at most ".\r" */
		ck_assert_msg(dr.done || have <= 2, "%zu octets held back", have);
		if (consumed + have == len && !dr.done && n == 0)
			break;	/* the input ends without a terminator */
	}
	*done_r = dr.done;
	return consumed;
}

static void assert_decodes(const char *in, const char *want, size_t rest)
{
	size_t len = strlen(in), wlen = strlen(want);

	for (size_t chunk = 0; chunk <= len; chunk++) {
		struct buf out;
		bool done;
		size_t n;

		buf_init(&out, OUT_MAX);
		n = feed(in, len, chunk, &out, &done);
		ck_assert_msg(done, "chunk %zu: no terminator found in [%s]",
			      chunk, in);
		ck_assert_msg(n == len - rest,
			      "chunk %zu: consumed %zu, the %zu octets after the terminator must stay",
			      chunk, n, rest);
		ck_assert_msg(out.len == wlen &&
			      (wlen == 0 || memcmp(out.data, want, wlen) == 0),
			      "chunk %zu: got [%s], want [%s]", chunk,
			      buf_cstr(&out), want);
		buf_free(&out);
	}
}

START_TEST(test_plain_message)
{
	assert_decodes("Subject: x\r\n\r\nhello\r\n.\r\n",
		       "Subject: x\r\n\r\nhello\r\n", 0);
}
END_TEST

START_TEST(test_stuffed_dots_removed)
{
	/* the sender doubled every leading dot; one goes */
	assert_decodes("S: x\r\n\r\n..first\r\nmid.dle\r\n...two\r\n..\r\n.\r\n",
		       "S: x\r\n\r\n.first\r\nmid.dle\r\n..two\r\n.\r\n", 0);
}
END_TEST

START_TEST(test_bare_lf_kept_and_ends_data)
{
	/* LF-only clients: line ends pass as they are, ".\n" ends it */
	assert_decodes("S: x\n\nbody\n..dot\n.\n", "S: x\n\nbody\n.dot\n", 0);
	assert_decodes("S: x\r\n\r\nmixed\nend\r\n.\n", "S: x\r\n\r\nmixed\nend\r\n", 0);
}
END_TEST

START_TEST(test_pipelined_commands_stay)
{
	/* what follows the terminator is the next command: not consumed */
	assert_decodes("b\r\n.\r\nQUIT\r\n", "b\r\n", strlen("QUIT\r\n"));
	assert_decodes("b\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<x>\r\n", "b\r\n",
		       strlen("MAIL FROM:<>\r\nRCPT TO:<x>\r\n"));
}
END_TEST

START_TEST(test_empty_message)
{
	assert_decodes(".\r\n", "", 0);
	assert_decodes(".\n", "", 0);
}
END_TEST

START_TEST(test_lookalikes_are_not_terminators)
{
	/* a dot not alone on its line, a dot after a bare CR, " ." */
	assert_decodes("a\r\n.x.\r\n \r\n.\r\n", "a\r\nx.\r\n \r\n", 0);
	assert_decodes("a\r.\r\nb\r\n.\r\n", "a\r.\r\nb\r\n", 0);
	assert_decodes("a\r\n .\r\n.\r\n", "a\r\n .\r\n", 0);
	/* ".\rX": a stuffed dot before a bare CR */
	assert_decodes("a\r\n.\rX\r\n.\r\n", "a\r\n\rX\r\n", 0);
}
END_TEST

START_TEST(test_nul_and_8bit_pass)
{
	static const char in[] = "a\0b\r\n\xff\xfe\r\n.\r\n";
	static const char want[] = "a\0b\r\n\xff\xfe\r\n";
	struct buf out;
	bool done;

	buf_init(&out, OUT_MAX);
	ck_assert_uint_eq(feed(in, sizeof(in) - 1, 3, &out, &done), sizeof(in) - 1);
	ck_assert(done);
	ck_assert_uint_eq(out.len, sizeof(want) - 1);
	ck_assert(memcmp(out.data, want, out.len) == 0);
	buf_free(&out);
}
END_TEST

START_TEST(test_unterminated_input_holds_the_dot)
{
	struct dotread dr;
	struct buf out;

	/* a client that stops after "." (or ".\r") has not ended its
	 * message yet: those octets wait for more */
	buf_init(&out, OUT_MAX);
	dotread_init(&dr);
	ck_assert_uint_eq(dotread_run(&dr, "a\r\n.", 4, collect, &out), 3);
	ck_assert(!dr.done);
	ck_assert_uint_eq(dotread_run(&dr, ".\r", 2, collect, &out), 0);
	ck_assert_uint_eq(dotread_run(&dr, ".\r\n", 3, collect, &out), 3);
	ck_assert(dr.done);
	ck_assert_uint_eq(out.len, 3);
	buf_free(&out);
}
END_TEST

START_TEST(test_long_lines_stream)
{
	/* lines longer than any buffer: passed on in pieces, nothing lost */
	size_t big = 200000;
	char *in = malloc(big + 16);
	struct buf out;
	bool done;

	ck_assert_ptr_nonnull(in);
	memset(in, 'x', big);
	memcpy(in + big, "\r\n.\r\n", 5);
	buf_init(&out, big + 16);
	ck_assert_uint_eq(feed(in, big + 5, 4096, &out, &done), big + 5);
	ck_assert(done);
	ck_assert_uint_eq(out.len, big + 2);
	buf_free(&out);
	free(in);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dotread");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plain_message);
	tcase_add_test(tc, test_stuffed_dots_removed);
	tcase_add_test(tc, test_bare_lf_kept_and_ends_data);
	tcase_add_test(tc, test_pipelined_commands_stay);
	tcase_add_test(tc, test_empty_message);
	tcase_add_test(tc, test_lookalikes_are_not_terminators);
	tcase_add_test(tc, test_nul_and_8bit_pass);
	tcase_add_test(tc, test_unterminated_input_holds_the_dot);
	tcase_add_test(tc, test_long_lines_stream);
	suite_add_tcase(s, tc);
	return unit_run(s);
}

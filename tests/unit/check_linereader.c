/* check_linereader.c - unit tests for lib/linereader: bounded in-place line
 * splitting of a command stream. */
#include "build-config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/linereader.h"
#include "unit.h"

#define MAX_EVENTS 64

/* What the reader handed out, in order: a line (copied, may hold NULs) or
 * LINE_TOO_LONG. */
struct event {
	enum line_result r;
	size_t len;
	char *data;
};

struct events {
	struct event ev[MAX_EVENTS];
	size_t n;
};

static void events_free(struct events *evs)
{
	for (size_t i = 0; i < evs->n; i++)
		free(evs->ev[i].data);
	evs->n = 0;
}

/* Take every complete result the reader has now. */
static void drain(struct linereader *lr, struct events *evs)
{
	enum line_result r;
	char *line;
	size_t len;

	while ((r = linereader_next(lr, &line, &len)) != LINE_NONE) {
		struct event *e;

		ck_assert_uint_lt(evs->n, MAX_EVENTS);
		e = &evs->ev[evs->n++];
		e->r = r;
		e->len = 0;
		e->data = NULL;
		if (r == LINE_OK) {
			/* the reader promises a NUL after the line */
			ck_assert_int_eq(line[len], '\0');
			e->len = len;
			e->data = malloc(len + 1);
			ck_assert_ptr_nonnull(e->data);
			memcpy(e->data, line, len + 1);
		}
	}
}

/* Feed len octets in reads of at most `step`, as a socket would deliver
 * them, draining after every read. */
static void feed(struct linereader *lr, const char *data, size_t len,
		 size_t step, struct events *evs)
{
	size_t off = 0;

	while (off < len) {
		size_t avail, n = len - off < step ? len - off : step;
		char *space = linereader_space(lr, &avail);

		/* the reader must always make room for more input */
		ck_assert_uint_gt(avail, 0);
		if (n > avail)
			n = avail;
		memcpy(space, data + off, n);
		linereader_filled(lr, n);
		off += n;
		drain(lr, evs);
	}
}

static void feed_str(struct linereader *lr, const char *s, size_t step,
		     struct events *evs)
{
	feed(lr, s, strlen(s), step, evs);
}

static void assert_line(const struct events *evs, size_t i, const char *want)
{
	ck_assert_uint_lt(i, evs->n);
	ck_assert_int_eq(evs->ev[i].r, LINE_OK);
	ck_assert_uint_eq(evs->ev[i].len, strlen(want));
	ck_assert_str_eq(evs->ev[i].data, want);
}

static void assert_too_long(const struct events *evs, size_t i)
{
	ck_assert_uint_lt(i, evs->n);
	ck_assert_int_eq(evs->ev[i].r, LINE_TOO_LONG);
}

/* A line of `len` copies of c followed by `tail` (e.g. "\r\n"). */
static char *make_line(char c, size_t len, const char *tail)
{
	size_t tlen = strlen(tail);
	char *s = malloc(len + tlen + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, c, len);
	memcpy(s + len, tail, tlen + 1);
	return s;
}

START_TEST(test_split_across_reads)
{
	static const char cmd[] = "USER jsmith\r\n";

	/* every read size, down to one byte at a time */
	for (size_t step = 1; step <= sizeof(cmd); step++) {
		struct linereader lr;
		struct events evs = { .n = 0 };

		linereader_init(&lr, 255);
		feed_str(&lr, cmd, step, &evs);
		ck_assert_uint_eq(evs.n, 1);
		assert_line(&evs, 0, "USER jsmith");
		ck_assert(!linereader_pending(&lr));
		events_free(&evs);
		linereader_free(&lr);
	}
}
END_TEST

START_TEST(test_partial_line_not_returned)
{
	struct linereader lr;
	struct events evs = { .n = 0 };

	linereader_init(&lr, 255);
	feed_str(&lr, "STA", 100, &evs);
	ck_assert_uint_eq(evs.n, 0);
	ck_assert(linereader_pending(&lr));
	feed_str(&lr, "T\r", 100, &evs);
	/* a CR alone does not end a line */
	ck_assert_uint_eq(evs.n, 0);
	feed_str(&lr, "\n", 100, &evs);
	ck_assert_uint_eq(evs.n, 1);
	assert_line(&evs, 0, "STAT");
	events_free(&evs);
	linereader_free(&lr);
}
END_TEST

START_TEST(test_crlf_and_lf)
{
	for (size_t step = 1; step <= 4; step++) {
		struct linereader lr;
		struct events evs = { .n = 0 };

		linereader_init(&lr, 255);
		feed_str(&lr, "CRLF\r\nLF\n\r\n\nA\rB\r\nlast\n", step, &evs);
		ck_assert_uint_eq(evs.n, 6);
		assert_line(&evs, 0, "CRLF");
		assert_line(&evs, 1, "LF");
		assert_line(&evs, 2, "");
		assert_line(&evs, 3, "");
		/* only a CR right before the LF is part of the line end */
		assert_line(&evs, 4, "A\rB");
		assert_line(&evs, 5, "last");
		events_free(&evs);
		linereader_free(&lr);
	}
}
END_TEST

START_TEST(test_pipelined)
{
	static const char in[] = "USER a\r\nPASS b\r\nSTAT\r\nLIST 1\r\nQU";
	struct linereader lr;
	struct events evs = { .n = 0 };
	char *line;
	size_t len, avail;
	char *space;

	linereader_init(&lr, 255);
	space = linereader_space(&lr, &avail);
	ck_assert_uint_ge(avail, sizeof(in));
	memcpy(space, in, sizeof(in) - 1);
	linereader_filled(&lr, sizeof(in) - 1);

	/* one at a time, each call hands out the next line */
	ck_assert_int_eq(linereader_next(&lr, &line, &len), LINE_OK);
	ck_assert_str_eq(line, "USER a");
	ck_assert(linereader_pending(&lr));
	drain(&lr, &evs);
	ck_assert_uint_eq(evs.n, 3);
	assert_line(&evs, 0, "PASS b");
	assert_line(&evs, 1, "STAT");
	assert_line(&evs, 2, "LIST 1");
	/* the partial "QU" stays buffered */
	ck_assert(linereader_pending(&lr));
	ck_assert_int_eq(linereader_next(&lr, &line, &len), LINE_NONE);
	feed_str(&lr, "IT\r\n", 100, &evs);
	ck_assert_uint_eq(evs.n, 4);
	assert_line(&evs, 3, "QUIT");
	ck_assert(!linereader_pending(&lr));
	events_free(&evs);
	linereader_free(&lr);
}
END_TEST

/* max_line octets pass, with CRLF or LF, whatever the read size */
START_TEST(test_exact_max_passes)
{
	const size_t max = 40;
	char *crlf = make_line('x', max, "\r\n");
	char *lf = make_line('y', max, "\n");

	for (size_t step = 1; step <= max + 3; step++) {
		struct linereader lr;
		struct events evs = { .n = 0 };

		linereader_init(&lr, max);
		feed_str(&lr, crlf, step, &evs);
		feed_str(&lr, lf, step, &evs);
		feed_str(&lr, "NOOP\r\n", step, &evs);
		ck_assert_uint_eq(evs.n, 3);
		ck_assert_int_eq(evs.ev[0].r, LINE_OK);
		ck_assert_uint_eq(evs.ev[0].len, max);
		ck_assert_int_eq(memcmp(evs.ev[0].data, crlf, max), 0);
		ck_assert_int_eq(evs.ev[1].r, LINE_OK);
		ck_assert_uint_eq(evs.ev[1].len, max);
		ck_assert_int_eq(memcmp(evs.ev[1].data, lf, max), 0);
		assert_line(&evs, 2, "NOOP");
		events_free(&evs);
		linereader_free(&lr);
	}
	free(crlf);
	free(lf);
}
END_TEST

/* max_line + 1 octets: reported once, the next line intact */
START_TEST(test_max_plus_one_too_long)
{
	const size_t max = 40;
	const char *const ends[] = { "\r\n", "\n" };

	for (size_t e = 0; e < 2; e++) {
		char *line = make_line('z', max + 1, ends[e]);

		for (size_t step = 1; step <= max + 4; step++) {
			struct linereader lr;
			struct events evs = { .n = 0 };

			linereader_init(&lr, max);
			feed_str(&lr, line, step, &evs);
			feed_str(&lr, "NOOP\r\n", step, &evs);
			ck_assert_msg(evs.n == 2,
				      "end %zu step %zu: %zu results", e, step,
				      evs.n);
			assert_too_long(&evs, 0);
			assert_line(&evs, 1, "NOOP");
			events_free(&evs);
			linereader_free(&lr);
		}
		free(line);
	}
}
END_TEST

/* A long line in one read together with the following commands: its tail
 * must never come out as a command of its own. */
START_TEST(test_too_long_in_one_read)
{
	const size_t max = 64;
	char *line = make_line('A', 300, "DELE 1\r\n");
	struct linereader lr;
	struct events evs = { .n = 0 };

	linereader_init(&lr, max);
	feed_str(&lr, line, 10000, &evs);
	feed_str(&lr, "STAT\r\n", 10000, &evs);
	ck_assert_uint_eq(evs.n, 2);
	assert_too_long(&evs, 0);
	assert_line(&evs, 1, "STAT");
	events_free(&evs);
	linereader_free(&lr);
	free(line);
}
END_TEST

/* A line much longer than the buffer, arriving in pieces of many sizes,
 * ending in a command-looking tail. */
START_TEST(test_too_long_over_many_reads)
{
	const size_t maxes[] = { 16, 255, 1100 };
	const size_t steps[] = { 1, 2, 3, 7, 13, 100, 511, 1024, 1500, 4096 };

	for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		char *line = make_line('B', 5000, "QUIT\r\n");

		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct linereader lr;
			struct events evs = { .n = 0 };

			linereader_init(&lr, maxes[m]);
			feed_str(&lr, "USER a\r\n", steps[s], &evs);
			feed_str(&lr, line, steps[s], &evs);
			feed_str(&lr, "NOOP\r\n", steps[s], &evs);
			ck_assert_msg(evs.n == 3,
				      "max %zu step %zu: %zu results",
				      maxes[m], steps[s], evs.n);
			assert_line(&evs, 0, "USER a");
			assert_too_long(&evs, 1);
			assert_line(&evs, 2, "NOOP");
			events_free(&evs);
			linereader_free(&lr);
		}
		free(line);
	}
}
END_TEST

/* Two overlong lines in a row are two reports, each dropped to its LF. */
START_TEST(test_two_long_lines)
{
	char *a = make_line('a', 3000, "\r\n");
	char *b = make_line('b', 50, "\n");

	for (size_t step = 1; step <= 4096; step *= 4) {
		struct linereader lr;
		struct events evs = { .n = 0 };

		linereader_init(&lr, 20);
		feed_str(&lr, a, step, &evs);
		feed_str(&lr, b, step, &evs);
		feed_str(&lr, "ok\r\n", step, &evs);
		ck_assert_uint_eq(evs.n, 3);
		assert_too_long(&evs, 0);
		assert_too_long(&evs, 1);
		assert_line(&evs, 2, "ok");
		events_free(&evs);
		linereader_free(&lr);
	}
	free(a);
	free(b);
}
END_TEST

START_TEST(test_nul_passed_through)
{
	static const char in[] = "US\0ER\0\r\nNOOP\r\n";
	struct linereader lr;
	struct events evs = { .n = 0 };

	linereader_init(&lr, 255);
	feed(&lr, in, sizeof(in) - 1, 3, &evs);
	ck_assert_uint_eq(evs.n, 2);
	ck_assert_int_eq(evs.ev[0].r, LINE_OK);
	ck_assert_uint_eq(evs.ev[0].len, 6);
	ck_assert_int_eq(memcmp(evs.ev[0].data, "US\0ER\0", 6), 0);
	assert_line(&evs, 1, "NOOP");
	events_free(&evs);
	linereader_free(&lr);
}
END_TEST

START_TEST(test_clear)
{
	struct linereader lr;
	struct events evs = { .n = 0 };
	char *line;
	size_t len;

	linereader_init(&lr, 255);

	/* a partial line is forgotten */
	feed_str(&lr, "INJECTED", 100, &evs);
	ck_assert(linereader_pending(&lr));
	linereader_clear(&lr);
	ck_assert(!linereader_pending(&lr));
	ck_assert_int_eq(linereader_next(&lr, &line, &len), LINE_NONE);
	feed_str(&lr, "CAPA\r\n", 100, &evs);
	ck_assert_uint_eq(evs.n, 1);
	assert_line(&evs, 0, "CAPA");

	/* complete but unread lines are forgotten too */
	feed_str(&lr, "STLS\r\nUSER evil\r\nPASS x\r\n", 1000, &evs);
	events_free(&evs);
	linereader_clear(&lr);
	ck_assert(!linereader_pending(&lr));
	ck_assert_int_eq(linereader_next(&lr, &line, &len), LINE_NONE);
	feed_str(&lr, "NOOP\r\n", 100, &evs);
	ck_assert_uint_eq(evs.n, 1);
	assert_line(&evs, 0, "NOOP");
	events_free(&evs);
	linereader_free(&lr);
}
END_TEST

START_TEST(test_clear_while_discarding)
{
	struct linereader lr;
	struct events evs = { .n = 0 };
	char *junk = make_line('j', 2000, "");

	linereader_init(&lr, 20);
	feed_str(&lr, junk, 100, &evs);
	ck_assert_uint_eq(evs.n, 1);
	assert_too_long(&evs, 0);
	events_free(&evs);
	/* after a clear the next line is a fresh one, not the tail of the
	 * long line */
	linereader_clear(&lr);
	feed_str(&lr, "NOOP\r\n", 100, &evs);
	ck_assert_uint_eq(evs.n, 1);
	assert_line(&evs, 0, "NOOP");
	events_free(&evs);
	linereader_free(&lr);
	free(junk);
}
END_TEST

START_TEST(test_set_max_raise)
{
	struct linereader lr;
	struct events evs = { .n = 0 };
	char *mid = make_line('m', 100, "\r\n");
	char *big = make_line('g', 5000, "\r\n");
	char *bigger = make_line('h', 5001, "\r\n");

	linereader_init(&lr, 64);
	feed_str(&lr, mid, 1000, &evs);
	ck_assert_uint_eq(evs.n, 1);
	assert_too_long(&evs, 0);
	events_free(&evs);

	linereader_set_max(&lr, 5000);
	for (size_t step = 1; step <= 8192; step *= 8) {
		feed_str(&lr, mid, step, &evs);
		feed_str(&lr, big, step, &evs);
		feed_str(&lr, bigger, step, &evs);
		feed_str(&lr, "NOOP\r\n", step, &evs);
		ck_assert_uint_eq(evs.n, 4);
		ck_assert_int_eq(evs.ev[0].r, LINE_OK);
		ck_assert_uint_eq(evs.ev[0].len, 100);
		ck_assert_int_eq(evs.ev[1].r, LINE_OK);
		ck_assert_uint_eq(evs.ev[1].len, 5000);
		ck_assert_int_eq(memcmp(evs.ev[1].data, big, 5000), 0);
		assert_too_long(&evs, 2);
		assert_line(&evs, 3, "NOOP");
		events_free(&evs);
	}
	linereader_free(&lr);
	free(mid);
	free(big);
	free(bigger);
}
END_TEST

static Suite *linereader_suite(void)
{
	Suite *s = suite_create("linereader");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_split_across_reads);
	tcase_add_test(tc, test_partial_line_not_returned);
	tcase_add_test(tc, test_crlf_and_lf);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_exact_max_passes);
	tcase_add_test(tc, test_max_plus_one_too_long);
	tcase_add_test(tc, test_too_long_in_one_read);
	tcase_add_test(tc, test_too_long_over_many_reads);
	tcase_add_test(tc, test_two_long_lines);
	tcase_add_test(tc, test_nul_passed_through);
	tcase_add_test(tc, test_clear);
	tcase_add_test(tc, test_clear_while_discarding);
	tcase_add_test(tc, test_set_max_raise);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(linereader_suite());
}

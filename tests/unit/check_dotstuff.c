/* check_dotstuff.c - unit tests for lib/dotstuff: POP dot-stuffing and TOP
 * line limits, chunk by chunk. */
#include "build-config.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/dotstuff.h"
#include "unit.h"

#define OUT_MAX (64 * 1024)

/* A stored message (CRLF) with dots where they matter: at the start of the
 * body, doubled already, alone on a line (the terminator look-alike), in
 * the middle of a line, and as the last line. */
static const char sample[] =
	"From: a@example.com\r\n"
	"Subject: dots\r\n"
	"\r\n"
	".first\r\n"
	"middle.dot\r\n"
	"..two\r\n"
	".\r\n"
	"\r\n"
	"x\r\n"
	".last\r\n";

static size_t header_len(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");

	ck_assert_ptr_nonnull(end);
	return (size_t)(end - msg) + 4;
}

/* Run a whole message through dotstuff, in chunks given by the split
 * points cuts[0..ncuts) (ascending), with an output buf of out_max octets
 * that is emptied into `total` whenever dotstuff_run stops short.
 * Returns the number of input octets consumed. */
static size_t run_cuts(bool stuff, uint64_t hdr_len, long max_lines,
		       const char *in, size_t len, const size_t *cuts,
		       size_t ncuts, size_t out_max, struct buf *total)
{
	struct dotstuff ds;
	struct buf out;
	size_t start = 0, consumed = 0;

	dotstuff_init(&ds, stuff, hdr_len, max_lines);
	buf_init(&out, out_max);
	for (size_t c = 0; c <= ncuts && !ds.done; c++) {
		size_t end = c < ncuts ? cuts[c] : len;

		while (start < end && !ds.done) {
			size_t n = dotstuff_run(&ds, in + start, end - start,
						&out);

			ck_assert_uint_le(n, end - start);
			ck_assert_uint_le(out.len, out_max);
			if (n < end - start && !ds.done) {
				/* stopped short: only because out is full */
				ck_assert_msg(out.len > 0,
					      "no progress, out buf empty");
			}
			start += n;
			consumed += n;
			ck_assert_int_eq(buf_append(total, out.data, out.len),
					 0);
			buf_reset(&out);
		}
		start = end;
	}
	buf_free(&out);
	return consumed;
}

static size_t run_chunk(bool stuff, uint64_t hdr_len, long max_lines,
			const char *in, size_t len, size_t chunk,
			size_t out_max, struct buf *total)
{
	size_t ncuts = len / (chunk ? chunk : 1) + 1, n = 0;
	size_t *cuts = calloc(ncuts, sizeof(*cuts)), ret;

	ck_assert_ptr_nonnull(cuts);
	for (size_t off = chunk; chunk > 0 && off < len; off += chunk)
		cuts[n++] = off;
	ret = run_cuts(stuff, hdr_len, max_lines, in, len, cuts, n, out_max,
		       total);
	free(cuts);
	return ret;
}

static void assert_buf_eq(struct buf *b, const char *want)
{
	size_t wlen = strlen(want);

	ck_assert_msg(b->len == wlen && memcmp(b->data, want, wlen) == 0,
		      "got [%s] (%zu), want [%s] (%zu)", buf_cstr(b), b->len,
		      want, wlen);
}

static void assert_bufs_eq(struct buf *a, struct buf *b, const char *what)
{
	ck_assert_msg(a->len == b->len &&
		      (a->len == 0 || memcmp(a->data, b->data, a->len) == 0),
		      "%s: got [%s] (%zu), want [%s] (%zu)", what,
		      buf_cstr(a), a->len, buf_cstr(b), b->len);
}

/* One chunk, unlimited: the full stuffed message. */
static void stuff_once(const char *in, bool stuff, struct buf *total)
{
	size_t n;

	buf_init(total, OUT_MAX);
	n = run_chunk(stuff, header_len(in), -1, in, strlen(in), 0, OUT_MAX,
		      total);
	ck_assert_uint_eq(n, strlen(in));
}

START_TEST(test_leading_dots_doubled)
{
	struct buf out;

	stuff_once(sample, true, &out);
	assert_buf_eq(&out,
		      "From: a@example.com\r\n"
		      "Subject: dots\r\n"
		      "\r\n"
		      "..first\r\n"
		      "middle.dot\r\n"
		      "...two\r\n"
		      "..\r\n"
		      "\r\n"
		      "x\r\n"
		      "..last\r\n");
	buf_free(&out);
}
END_TEST

START_TEST(test_dot_first_octet)
{
	struct buf out;

	/* the very first octet of the message starts a line */
	stuff_once(".hdr: x\r\n\r\nb\r\n", true, &out);
	assert_buf_eq(&out, "..hdr: x\r\n\r\nb\r\n");
	buf_free(&out);
}
END_TEST

/* The dot is the first octet of a later chunk; chunks ending right after
 * the CR or right after the LF. */
START_TEST(test_dot_at_chunk_boundaries)
{
	static const char msg[] = "H: v\r\n\r\nab\r\n.c\r\n.\r\n";
	const size_t at_cr = 11, at_lf = 12;	/* after "ab\r" / "ab\r\n" */
	const size_t hdr = header_len(msg);
	struct buf out;
	size_t cuts[2];

	ck_assert_int_eq(msg[at_cr - 1], '\r');
	ck_assert_int_eq(msg[at_lf], '.');

	buf_init(&out, OUT_MAX);
	cuts[0] = at_lf;
	run_cuts(true, hdr, -1, msg, strlen(msg), cuts, 1, OUT_MAX, &out);
	assert_buf_eq(&out, "H: v\r\n\r\nab\r\n..c\r\n..\r\n");
	buf_free(&out);

	buf_init(&out, OUT_MAX);
	cuts[0] = at_cr;
	run_cuts(true, hdr, -1, msg, strlen(msg), cuts, 1, OUT_MAX, &out);
	assert_buf_eq(&out, "H: v\r\n\r\nab\r\n..c\r\n..\r\n");
	buf_free(&out);

	/* the dot alone in its own chunk */
	buf_init(&out, OUT_MAX);
	cuts[0] = at_lf;
	cuts[1] = at_lf + 1;
	run_cuts(true, hdr, -1, msg, strlen(msg), cuts, 2, OUT_MAX, &out);
	assert_buf_eq(&out, "H: v\r\n\r\nab\r\n..c\r\n..\r\n");
	buf_free(&out);
}
END_TEST

START_TEST(test_no_dot_lines_unchanged)
{
	static const char msg[] =
		"From: x\r\nSubject: a.b\r\n\r\nbody. with dots.\r\n"
		"1.5\r\n \t.indented\r\n\r\n";
	struct buf out;

	stuff_once(msg, true, &out);
	assert_buf_eq(&out, msg);
	buf_free(&out);
}
END_TEST

START_TEST(test_stuffing_off)
{
	struct buf out;

	stuff_once(sample, false, &out);
	assert_buf_eq(&out, sample);
	buf_free(&out);
}
END_TEST

START_TEST(test_top_zero_lines)
{
	const size_t hdr = header_len(sample);
	struct dotstuff ds;
	struct buf out;
	size_t n;

	/* the header with its blank line, nothing of the body */
	dotstuff_init(&ds, true, hdr, 0);
	buf_init(&out, OUT_MAX);
	n = dotstuff_run(&ds, sample, strlen(sample), &out);
	ck_assert(ds.done);
	ck_assert_uint_eq(n, hdr);
	ck_assert_uint_eq(out.len, hdr);
	ck_assert_int_eq(memcmp(out.data, sample, hdr), 0);
	ck_assert_int_eq(memcmp(out.data + hdr - 4, "\r\n\r\n", 4), 0);
	/* once done, nothing more is taken */
	ck_assert_uint_eq(dotstuff_run(&ds, sample + n, strlen(sample) - n,
				       &out), 0);
	ck_assert_uint_eq(out.len, hdr);
	buf_free(&out);
}
END_TEST

START_TEST(test_top_n_lines)
{
	const size_t hdr = header_len(sample);
	static const char *const raw[] = {
		".first\r\n", "middle.dot\r\n", "..two\r\n", ".\r\n",
		"\r\n", "x\r\n", ".last\r\n",
	};
	static const char *const sent[] = {
		"..first\r\n", "middle.dot\r\n", "...two\r\n", "..\r\n",
		"\r\n", "x\r\n", "..last\r\n",
	};
	const long nbody = 7;

	for (long top = 1; top <= nbody; top++) {
		char want[1024];
		size_t want_consumed = hdr;
		struct buf out;
		size_t n;

		memcpy(want, sample, hdr);
		want[hdr] = '\0';
		for (long i = 0; i < top; i++) {
			strcat(want, sent[i]);
			want_consumed += strlen(raw[i]);
		}
		buf_init(&out, OUT_MAX);
		n = run_chunk(true, hdr, top, sample, strlen(sample), 0,
			      OUT_MAX, &out);
		assert_buf_eq(&out, want);
		/* the input taken is exactly the header and those lines */
		ck_assert_uint_eq(n, want_consumed);
		buf_free(&out);
	}
}
END_TEST

START_TEST(test_top_more_than_body)
{
	const size_t hdr = header_len(sample);
	const long tops[] = { 8, 100, 1000000 };
	struct buf all;

	stuff_once(sample, true, &all);
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		struct buf out;
		size_t n;

		buf_init(&out, OUT_MAX);
		n = run_chunk(true, hdr, tops[i], sample, strlen(sample), 0,
			      OUT_MAX, &out);
		ck_assert_uint_eq(n, strlen(sample));
		assert_bufs_eq(&out, &all, "TOP beyond the body");
		buf_free(&out);
	}
	buf_free(&all);
}
END_TEST

/* TOP on a message with no body lines at all. */
START_TEST(test_top_empty_body)
{
	static const char msg[] = "A: 1\r\nB: 2\r\n\r\n";
	const size_t hdr = header_len(msg);
	const long tops[] = { 0, 1, 5 };

	ck_assert_uint_eq(hdr, strlen(msg));
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		struct buf out;

		buf_init(&out, OUT_MAX);
		run_chunk(true, hdr, tops[i], msg, strlen(msg), 0, OUT_MAX,
			  &out);
		assert_buf_eq(&out, msg);
		buf_free(&out);
	}
}
END_TEST

static const long limits[] = { -1, 0, 1, 2, 3, 4, 6, 7, 50 };
#define N_LIMITS (sizeof(limits) / sizeof(limits[0]))

/* Byte by byte, and every single split point, give what one chunk gives. */
START_TEST(test_every_split_point)
{
	const size_t len = strlen(sample), hdr = header_len(sample);

	for (int stuff = 0; stuff <= 1; stuff++) {
		for (size_t l = 0; l < N_LIMITS; l++) {
			struct buf ref, out;

			buf_init(&ref, OUT_MAX);
			run_chunk(stuff, hdr, limits[l], sample, len, 0,
				  OUT_MAX, &ref);

			buf_init(&out, OUT_MAX);
			run_chunk(stuff, hdr, limits[l], sample, len, 1,
				  OUT_MAX, &out);
			assert_bufs_eq(&out, &ref, "byte by byte");
			buf_free(&out);

			for (size_t cut = 0; cut <= len; cut++) {
				buf_init(&out, OUT_MAX);
				run_cuts(stuff, hdr, limits[l], sample, len,
					 &cut, 1, OUT_MAX, &out);
				assert_bufs_eq(&out, &ref, "one split");
				buf_free(&out);
			}
			buf_free(&ref);
		}
	}
}
END_TEST

/* Every pair of split points (three chunks). */
START_TEST(test_every_two_split_points)
{
	const size_t len = strlen(sample), hdr = header_len(sample);

	for (size_t l = 0; l < N_LIMITS; l++) {
		struct buf ref;

		buf_init(&ref, OUT_MAX);
		run_chunk(true, hdr, limits[l], sample, len, 0, OUT_MAX, &ref);
		for (size_t a = 0; a <= len; a++) {
			for (size_t b = a; b <= len; b++) {
				size_t cuts[2] = { a, b };
				struct buf out;

				buf_init(&out, OUT_MAX);
				run_cuts(true, hdr, limits[l], sample, len,
					 cuts, 2, OUT_MAX, &out);
				assert_bufs_eq(&out, &ref, "two splits");
				buf_free(&out);
			}
		}
		buf_free(&ref);
	}
}
END_TEST

/* An out buf too small: dotstuff_run takes less, and going on after the
 * buf was emptied gives the same octets - no dot lost, none doubled
 * twice. */
START_TEST(test_small_out_buf)
{
	const size_t len = strlen(sample), hdr = header_len(sample);

	for (int stuff = 0; stuff <= 1; stuff++) {
		for (size_t l = 0; l < N_LIMITS; l++) {
			struct buf ref;

			buf_init(&ref, OUT_MAX);
			run_chunk(stuff, hdr, limits[l], sample, len, 0,
				  OUT_MAX, &ref);
			for (size_t out_max = 2; out_max <= 24; out_max++) {
				for (size_t chunk = 0; chunk <= 9; chunk += 3) {
					struct buf out;

					buf_init(&out, OUT_MAX);
					run_chunk(stuff, hdr, limits[l], sample,
						  len, chunk, out_max, &out);
					assert_bufs_eq(&out, &ref, "small out");
					buf_free(&out);
				}
			}
			buf_free(&ref);
		}
	}
}
END_TEST

START_TEST(test_small_out_buf_consumes_less)
{
	const size_t hdr = header_len(sample);
	struct dotstuff ds;
	struct buf out;
	size_t n, first;

	/* 10 octets of room: at most 10 octets taken, all of them output */
	dotstuff_init(&ds, true, hdr, -1);
	buf_init(&out, 10);
	n = dotstuff_run(&ds, sample, strlen(sample), &out);
	ck_assert_uint_eq(n, 10);
	ck_assert(!ds.done);
	ck_assert_uint_eq(out.len, 10);
	ck_assert_int_eq(memcmp(out.data, sample, 10), 0);
	/* a full buf takes nothing */
	ck_assert_uint_eq(dotstuff_run(&ds, sample + n, strlen(sample) - n,
				       &out), 0);
	ck_assert_uint_eq(out.len, 10);
	buf_free(&out);

	/* room for one octet when the next line starts with a dot: the dot
	 * is not half sent */
	dotstuff_init(&ds, true, hdr, -1);
	buf_init(&out, hdr + 1);
	n = dotstuff_run(&ds, sample, strlen(sample), &out);
	ck_assert_uint_eq(n, hdr);
	ck_assert_uint_eq(out.len, hdr);
	buf_reset(&out);
	first = n;
	n = dotstuff_run(&ds, sample + first, strlen(sample) - first, &out);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_ge(out.len, 3);
	ck_assert_int_eq(memcmp(out.data, "..f", 3), 0);
	buf_free(&out);
}
END_TEST

static Suite *dotstuff_suite(void)
{
	Suite *s = suite_create("dotstuff");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_leading_dots_doubled);
	tcase_add_test(tc, test_dot_first_octet);
	tcase_add_test(tc, test_dot_at_chunk_boundaries);
	tcase_add_test(tc, test_no_dot_lines_unchanged);
	tcase_add_test(tc, test_stuffing_off);
	tcase_add_test(tc, test_top_zero_lines);
	tcase_add_test(tc, test_top_n_lines);
	tcase_add_test(tc, test_top_more_than_body);
	tcase_add_test(tc, test_top_empty_body);
	tcase_add_test(tc, test_every_split_point);
	tcase_add_test(tc, test_every_two_split_points);
	tcase_add_test(tc, test_small_out_buf);
	tcase_add_test(tc, test_small_out_buf_consumes_less);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(dotstuff_suite());
}

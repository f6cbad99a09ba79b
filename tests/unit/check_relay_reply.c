/* check_relay_reply.c - the relay's SMTP reply reader
 * (modules/relay/relay_reply.c): single and multi-line replies, enhanced
 * status codes, and what is not a reply. */
#include "build-config.h"

#include <check.h>
#include <string.h>

#include "../../modules/relay/relay_reply.h"
#include "unit.h"

static enum relay_reply_result feed(struct relay_reply *r, const char *line)
{
	return relay_reply_line(r, line, strlen(line));
}

START_TEST(test_single_line)
{
	struct relay_reply r;

	relay_reply_init(&r);
	ck_assert_int_eq(feed(&r, "250 2.1.0 Sender OK"), RELAY_REPLY_DONE);
	ck_assert_uint_eq(r.code, 250);
	ck_assert_str_eq(r.enhanced, "2.1.0");
	ck_assert_str_eq(r.text, "Sender OK");
	ck_assert(r.complete);
}
END_TEST

START_TEST(test_multi_line_ehlo)
{
	struct relay_reply r;

	relay_reply_init(&r);
	ck_assert_int_eq(feed(&r, "250-smtp.example.net"), RELAY_REPLY_MORE);
	ck_assert_int_eq(feed(&r, "250-SIZE 1000"), RELAY_REPLY_MORE);
	ck_assert_int_eq(feed(&r, "250 STARTTLS"), RELAY_REPLY_DONE);
	ck_assert_uint_eq(r.lines, 3);
	ck_assert_str_eq(r.enhanced, "");
	ck_assert_str_eq(r.text, "smtp.example.net SIZE 1000 STARTTLS");
}
END_TEST

START_TEST(test_enhanced_on_every_line)
{
	struct relay_reply r;

	/* Postfix repeats the code on each line: it is kept once */
	relay_reply_init(&r);
	ck_assert_int_eq(feed(&r, "550-5.1.1 The user does not exist."), RELAY_REPLY_MORE);
	ck_assert_int_eq(feed(&r, "550 5.1.1 Try again with a valid address."), RELAY_REPLY_DONE);
	ck_assert_str_eq(r.enhanced, "5.1.1");
	ck_assert_str_eq(r.text, "The user does not exist. Try again with a valid address.");
}
END_TEST

START_TEST(test_code_alone_and_no_enhanced)
{
	struct relay_reply r;

	relay_reply_init(&r);
	ck_assert_int_eq(feed(&r, "354"), RELAY_REPLY_DONE);
	ck_assert_uint_eq(r.code, 354);
	ck_assert_str_eq(r.text, "");
	relay_reply_init(&r);
	/* "4.4" is no enhanced code; a class that does not match the reply
	 * is not one either */
	ck_assert_int_eq(feed(&r, "451 4.4 try later"), RELAY_REPLY_DONE);
	ck_assert_str_eq(r.enhanced, "");
	relay_reply_init(&r);
	ck_assert_int_eq(feed(&r, "451 5.1.1 odd"), RELAY_REPLY_DONE);
	ck_assert_str_eq(r.enhanced, "");
	ck_assert_str_eq(r.text, "5.1.1 odd");
}
END_TEST

START_TEST(test_not_replies)
{
	static const char *const bad[] = {
		"", "25", "2500 x", "abc def", "199 too low", "600 too high",
		"250x nope", "250_nope",
	};
	struct relay_reply r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		relay_reply_init(&r);
		ck_assert_msg(feed(&r, bad[i]) == RELAY_REPLY_BAD, "[%s] taken", bad[i]);
	}
	/* a code that changes inside one reply */
	relay_reply_init(&r);
	ck_assert_int_eq(feed(&r, "250-first"), RELAY_REPLY_MORE);
	ck_assert_int_eq(feed(&r, "251 second"), RELAY_REPLY_BAD);
}
END_TEST

START_TEST(test_untrusted_text_is_made_printable_and_bounded)
{
	struct relay_reply r;
	char line[3000];

	relay_reply_init(&r);
	ck_assert_int_eq(relay_reply_line(&r, "550 bad\x01\x7f\xff", 10), RELAY_REPLY_DONE);
	ck_assert_str_eq(r.text, "bad???");
	relay_reply_init(&r);
	memset(line, 'x', sizeof(line));
	memcpy(line, "250-", 4);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(relay_reply_line(&r, line, sizeof(line)), RELAY_REPLY_MORE);
	ck_assert_uint_eq(strlen(r.text), RELAY_REPLY_TEXT_MAX);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("relay_reply");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_single_line);
	tcase_add_test(tc, test_multi_line_ehlo);
	tcase_add_test(tc, test_enhanced_on_every_line);
	tcase_add_test(tc, test_code_alone_and_no_enhanced);
	tcase_add_test(tc, test_not_replies);
	tcase_add_test(tc, test_untrusted_text_is_made_printable_and_bounded);
	suite_add_tcase(s, tc);
	return unit_run(s);
}

/* relay_reply.c - SMTP reply lines (relay_reply.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "relay_reply.h"

void relay_reply_init(struct relay_reply *r)
{
	memset(r, 0, sizeof(*r));
}

/* "5.1.1" at the start of s: class 2, 4 or 5, then 1-3 and 1-3 digits. */
static size_t enhanced_len(const char *s, size_t len, unsigned int code)
{
	size_t i = 0, n;

	if (len < 5 || s[0] != (char)('0' + code / 100) || s[1] != '.')
		return 0;
	i = 2;
	for (n = 0; i < len && isdigit((unsigned char)s[i]) && n < 3; i++, n++)
		;
	if (n == 0 || i >= len || s[i] != '.')
		return 0;
	i++;
	for (n = 0; i < len && isdigit((unsigned char)s[i]) && n < 3; i++, n++)
		;
	if (n == 0 || (i < len && s[i] != ' '))
		return 0;
	return i;
}

static void append(struct relay_reply *r, const char *s, size_t len)
{
	size_t have = strlen(r->text);

	if (have > 0 && have < RELAY_REPLY_TEXT_MAX)
		r->text[have++] = ' ';
	for (size_t i = 0; i < len && have < RELAY_REPLY_TEXT_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* a remote server's text goes into logs and bounces */
		r->text[have++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	r->text[have] = '\0';
}

enum relay_reply_result relay_reply_line(struct relay_reply *r,
					 const char *line, size_t len)
{
	unsigned int code;
	size_t off = 4, elen;

	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]) ||
	    (len > 3 && line[3] != ' ' && line[3] != '-'))
		return RELAY_REPLY_BAD;
	code = (unsigned int)((line[0] - '0') * 100 + (line[1] - '0') * 10 +
			      (line[2] - '0'));
	if (code < 200 || code > 599)
		return RELAY_REPLY_BAD;
	if (r->lines > 0 && code != r->code)
		return RELAY_REPLY_BAD;
	r->code = code;
	if (len <= 3)
		off = len;
	elen = enhanced_len(line + off, len - off, code);
	if (elen > 0 && r->lines == 0) {
		snprintf(r->enhanced, sizeof(r->enhanced), "%.*s", (int)elen,
			 line + off);
	}
	if (elen > 0) {
		/* the text after the code (every line may repeat it) */
		off += elen;
		while (off < len && line[off] == ' ')
			off++;
	}
	append(r, line + off, len - off);
	r->lines++;
	if (len > 3 && line[3] == '-')
		return RELAY_REPLY_MORE;
	r->complete = true;
	return RELAY_REPLY_DONE;
}

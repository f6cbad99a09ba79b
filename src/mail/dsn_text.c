/* dsn_text.c - printable lines, wrapping, folding and quoted-printable. */
#include "build-config.h"

#include <stdbool.h>
#include <string.h>

#include "mail/dsn_text.h"

#define QP_LINE_MAX 76	/* RFC 2045 6.7 (5): the soft break's '=' included */

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int dsn_text_clean(struct buf *out, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = out->len, n = 0;

	while (is_space(*p))
		p++;
	while (*p != '\0') {
		char c;

		if (is_space(*p)) {
			while (is_space(*p))
				p++;
			/* trailing white space is not kept */
			if (*p == '\0')
				break;
			c = ' ';
		} else {
			c = *p >= 32 && *p < 127 ? (char)*p : '?';
			p++;
		}
		if (n == max) {
			/* one octet too many: take back room for "..." */
			out->len = start + max - 3;
			return buf_append(out, "...", 3);
		}
		if (buf_append(out, &c, 1) < 0)
			return -1;
		n++;
	}
	return 0;
}

static int line_break(struct buf *out, const char *indent, size_t *col)
{
	size_t len = strlen(indent);

	if (buf_append(out, "\r\n", 2) < 0 || buf_append(out, indent, len) < 0)
		return -1;
	*col = len;
	return 0;
}

int dsn_text_wrap(struct buf *out, size_t col, const char *text, size_t width,
		  size_t hard, const char *indent)
{
	/* the first word goes where the caller left off, as does a word
	 * at the start of a line (or of a field's value after a fold) */
	bool line_start = true;

	while (*text != '\0') {
		const char *word = text;
		size_t n = strcspn(word, " ");

		text = word + n;
		while (*text == ' ')
			text++;
		/* a word goes on the next line rather than past the width */
		if (!line_start && col + 1 + n > width) {
			if (line_break(out, indent, &col) < 0)
				return -1;
			line_start = true;
		}
		if (!line_start) {
			if (buf_append(out, " ", 1) < 0)
				return -1;
			col++;
		}
		/* only a word longer than any line is split; width <= hard,
		 * so it starts a line of its own */
		while (col + n > hard) {
			size_t take = hard > col ? hard - col : 0;

			if (buf_append(out, word, take) < 0 ||
			    line_break(out, indent, &col) < 0)
				return -1;
			word += take;
			n -= take;
		}
		if (buf_append(out, word, n) < 0)
			return -1;
		col += n;
		line_start = false;
	}
	return 0;
}

enum dsn_text_kind dsn_text_kind(const char *data, size_t len)
{
	enum dsn_text_kind kind = DSN_TEXT_7BIT;
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\r' && i + 1 < len && data[i + 1] == '\n') {
			i++;
			line = 0;
			continue;
		}
		if (c == '\0' || c == '\r' || c == '\n' || ++line > DSN_LINE_MAX)
			return DSN_TEXT_BINARY;
		if (c > 127)
			kind = DSN_TEXT_8BIT;
	}
	return kind;
}

/* RFC 2045 6.7 (2): printable US-ASCII but '=' stands for itself. */
static bool qp_literal(unsigned char c)
{
	return c >= 33 && c <= 126 && c != '=';
}

int dsn_text_qp(struct buf *out, const char *data, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		bool crlf_next = i + 2 < len && data[i + 1] == '\r' &&
				 data[i + 2] == '\n';
		char enc[3];
		size_t n;

		if (c == '\r' && i + 1 < len && data[i + 1] == '\n') {
			if (buf_append(out, "\r\n", 2) < 0)
				return -1;
			i++;
			col = 0;
			continue;
		}
		/* (3): white space at the end of a line would be lost on the
		 * way, so there it is encoded */
		if (qp_literal(c) ||
		    ((c == ' ' || c == '\t') && i + 1 < len && !crlf_next)) {
			enc[0] = (char)c;
			n = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			n = 3;
		}
		if (col + n > QP_LINE_MAX - 1) {
			if (buf_append(out, "=\r\n", 3) < 0)
				return -1;
			col = 0;
		}
		if (buf_append(out, enc, n) < 0)
			return -1;
		col += n;
	}
	/* the delimiter after a part takes its last CRLF: a soft break
	 * keeps the content as it was */
	if (col > 0 && buf_append(out, "=\r\n", 3) < 0)
		return -1;
	return 0;
}

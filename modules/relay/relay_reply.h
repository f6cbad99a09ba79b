/* relay_reply.h - reading SMTP replies (RFC 5321 4.2): "250-first",
 * "250 last", a code and text per line, the enhanced status code (RFC
 * 3463) at the start of the text when the server gives one.  Kept apart
 * so the unit tests can take it on its own. */
#ifndef RELAY_REPLY_H
#define RELAY_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* What of a reply we keep: the lines' text joined by " ", cut here. */
#define RELAY_REPLY_TEXT_MAX 1000

struct relay_reply {
	unsigned int code;		/* 200..599 */
	char enhanced[12];		/* "5.1.1", or "" */
	char text[RELAY_REPLY_TEXT_MAX + 1];	/* every line's text */
	unsigned int lines;
	bool complete;			/* the last line was read */
};

enum relay_reply_result {
	RELAY_REPLY_MORE,	/* a "ddd-" line: more follow */
	RELAY_REPLY_DONE,	/* the reply is complete in *r */
	RELAY_REPLY_BAD,	/* not a reply line, or a code that changed */
};

/* Start a new reply. */
void relay_reply_init(struct relay_reply *r);
/* Take one line (without CRLF). */
enum relay_reply_result relay_reply_line(struct relay_reply *r,
					 const char *line, size_t len);
#endif

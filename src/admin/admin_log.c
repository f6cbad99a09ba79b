/* admin_log.c - GET /api/log: the end of the System Log file, filtered by
 * level and module tag, and followed by asking again from the offset the
 * last answer gave (doc/api.md).  Server admins only: the log names every
 * domain's users and addresses. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/admin.h"
#include "admin/admin_log.h"
#include "lib/core_settings.h"
#include "lib/log.h"
#include "lib/strnum.h"

/* How much of the file one answer reads at most: the last 256 KiB. */
#define LOG_READ_MAX (256 * 1024)
#define LOG_LINES_DEFAULT 200
#define LOG_LINES_MAX 2000
#define LOG_TAG_MAX 32

bool admin_log_line_matches(const char *line, size_t len,
			    enum log_level min_level, const char *tag)
{
	const char *p = line, *end = line + len, *field[4];
	size_t flen[4];
	enum log_level level;
	char name[16];

	/* "2026-12-01 23:10:28.123 notice POP-7 [ip] text" */
	for (int i = 0; i < 4; i++) {
		while (p < end && *p == ' ')
			p++;
		field[i] = p;
		while (p < end && *p != ' ')
			p++;
		flen[i] = (size_t)(p - field[i]);
		if (flen[i] == 0)
			return false;
	}
	if (flen[2] >= sizeof(name))
		return false;
	memcpy(name, field[2], flen[2]);
	name[flen[2]] = '\0';
	if (log_parse_level(name, &level) < 0 || level > min_level)
		return false;
	return tag[0] == '\0' ||
	       (flen[3] >= strlen(tag) && strncasecmp(field[3], tag, strlen(tag)) == 0);
}

/* A line as a JSON string: the log escapes control characters but passes
 * other octets as they came, which need not be UTF-8. */
static json_t *line_json(const char *line, size_t len)
{
	json_t *s = json_stringn(line, len);
	char *copy;

	if (s != NULL)
		return s;
	copy = malloc(len + 1);
	if (copy == NULL)
		return json_string("");
	for (size_t i = 0; i < len; i++)
		copy[i] = (unsigned char)line[i] < 0x80 ? line[i] : '?';
	s = json_stringn(copy, len);
	free(copy);
	return s;
}

struct log_query {
	size_t lines;
	enum log_level level;
	char tag[LOG_TAG_MAX + 1];
	bool follow;
	uint64_t after;
};

static bool parse_query(struct admin_req *r, struct log_query *q)
{
	char buf[64];
	uint64_t n;
	int got;

	q->lines = LOG_LINES_DEFAULT;
	q->level = LOG_DEBUG;
	q->tag[0] = '\0';
	q->follow = false;
	if ((got = admin_query(r, "lines", buf, sizeof(buf))) < 0)
		return false;
	if (got > 0) {
		if (str_to_uint64(buf, &n) < 0 || n == 0 || n > LOG_LINES_MAX) {
			admin_fail(r, 400, "lines", "lines: a number from 1 to %d", LOG_LINES_MAX);
			return false;
		}
		q->lines = (size_t)n;
	}
	if ((got = admin_query(r, "level", buf, sizeof(buf))) < 0)
		return false;
	if (got > 0 && buf[0] != '\0' && log_parse_level(buf, &q->level) < 0) {
		admin_fail(r, 400, "level", "level: error, warning, notice, info or debug");
		return false;
	}
	if (admin_query(r, "tag", q->tag, sizeof(q->tag)) < 0 ||
	    (got = admin_query(r, "after", buf, sizeof(buf))) < 0)
		return false;
	if (got > 0) {
		if (str_to_uint64(buf, &q->after) < 0) {
			admin_fail(r, 400, "after", "after: the offset a previous answer gave");
			return false;
		}
		q->follow = true;
	}
	return true;
}

void admin_log_get(struct admin_req *r)
{
	const char *target = core_settings()->log_target;
	struct log_query q;
	struct stat st;
	json_t *lines = NULL;
	char *buf;
	off_t start;
	ssize_t got;
	size_t len, from, keep;
	int fd;

	if (!admin_server_only(r) || !parse_query(r, &q))
		return;
	if (target == NULL || target[0] != '/') {
		admin_fail(r, 409, NULL,
			   "the log goes to %s, not a file: set [log] target = /path/to/postern.log to read it here",
			   target != NULL ? target : "stderr");
		return;
	}
	if ((fd = open(target, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		admin_fail(r, 503, NULL, "cannot read %s: %s", target, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	/* following: from where the last answer ended, unless the file was
	 * rotated or cut since (then from its start) */
	start = q.follow && (off_t)q.after <= st.st_size ? (off_t)q.after : 0;
	if (!q.follow || st.st_size - start > LOG_READ_MAX)
		start = st.st_size > LOG_READ_MAX ? st.st_size - LOG_READ_MAX :
			(q.follow ? start : 0);
	len = (size_t)(st.st_size - start);
	buf = malloc(len + 1);
	got = buf != NULL ? pread(fd, buf, len, start) : -1;
	close(fd);
	if (got < 0) {
		admin_fail(r, 503, NULL, "cannot read %s: %s", target,
			   buf == NULL ? "out of memory" : strerror(errno));
		free(buf);
		return;
	}
	len = (size_t)got;
	/* whole lines only: a cut first line is skipped, an unfinished last
	 * one is left for the next request */
	from = 0;
	if (start > 0 && !(q.follow && start == (off_t)q.after)) {
		char *nl = memchr(buf, '\n', len);

		from = nl != NULL ? (size_t)(nl - buf) + 1 : len;
	}
	while (len > from && buf[len - 1] != '\n')
		len--;
	/* the last `lines` that match: counted first, then taken */
	keep = 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t seen = 0;

		for (size_t p = from; p < len;) {
			char *nl = memchr(buf + p, '\n', len - p);
			size_t n = (size_t)(nl - (buf + p));

			if (admin_log_line_matches(buf + p, n, q.level, q.tag)) {
				if (pass == 1 && seen + q.lines >= keep)
					json_array_append_new(lines, line_json(buf + p, n));
				seen++;
			}
			p += n + 1;
		}
		keep = seen;
		if (pass == 0)
			lines = json_array();
	}
	free(buf);
	admin_ok(r, 200, json_pack("{s:o,s:I}", "lines", lines, "offset",
				   (json_int_t)(start + (off_t)len)));
}

/* log.c - System Log records to stderr, syslog or a file. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/log_syslog.h"
#include "lib/xalloc.h"

#define LOG_RECORD_MAX 2048

enum log_target { TARGET_STDERR, TARGET_SYSLOG, TARGET_FILE };

static enum log_level cur_level = LOG_INFO;
static enum log_target target = TARGET_STDERR;
static int log_fd = STDERR_FILENO;
static char *log_path;

static const char *const level_names[] = {
	"error", "warning", "notice", "info", "debug"
};

int log_parse_level(const char *name, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_set_level(enum log_level level)
{
	cur_level = level;
}

bool log_enabled(enum log_level level)
{
	return level <= cur_level;
}

static int open_file(const char *path, int *fd_r, const char **error_r)
{
	static char err[512];
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0) {
		snprintf(err, sizeof(err), "cannot open log file %s: %s",
			 path, strerror(errno));
		*error_r = err;
		return -1;
	}
	*fd_r = fd;
	return 0;
}

int log_open(const char *spec, const char **error_r)
{
	int fd;

	if (strcmp(spec, "stderr") == 0) {
		log_close();
		target = TARGET_STDERR;
		log_fd = STDERR_FILENO;
		return 0;
	}
	if (strcmp(spec, "syslog") == 0) {
		log_close();
		log_syslog_open();
		target = TARGET_SYSLOG;
		return 0;
	}
	if (spec[0] != '/') {
		*error_r = "log target must be stderr, syslog or an absolute file path";
		return -1;
	}
	if (open_file(spec, &fd, error_r) < 0)
		return -1;
	log_close();
	target = TARGET_FILE;
	log_fd = fd;
	log_path = xstrdup(spec);
	return 0;
}

void log_reopen(void)
{
	const char *error;
	int fd;

	if (target != TARGET_FILE)
		return;
	if (open_file(log_path, &fd, &error) < 0) {
		log_msg(LOG_ERROR, "HOST", "%s (still writing to the old file)", error);
		return;
	}
	dup2(fd, log_fd);
	close(fd);
}

void log_close(void)
{
	if (target == TARGET_FILE && log_fd >= 0)
		close(log_fd);
	if (target == TARGET_SYSLOG)
		log_syslog_close();
	free(log_path);
	log_path = NULL;
	target = TARGET_STDERR;
	log_fd = STDERR_FILENO;
}

void log_escape(char *out, size_t outsize, const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (outsize == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c == 0x7f) {
			if (o + 4 >= outsize)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			if (o + 1 >= outsize)
				break;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

void log_vmsg(enum log_level level, const char *tag, const char *prefix,
	      const char *fmt, va_list ap)
{
	char raw[LOG_RECORD_MAX], text[LOG_RECORD_MAX], line[LOG_RECORD_MAX + 96];
	int n;

	if (!log_enabled(level))
		return;
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		return;
	/* Escaping the whole record means no argument, however it got in,
	 * can forge a second record or hide in a terminal escape. */
	log_escape(text, sizeof(text), raw, strlen(raw));

	if (target == TARGET_SYSLOG) {
		log_syslog_write((unsigned int)level, tag, prefix, text);
		return;
	}

	struct timespec ts;
	struct tm tm;
	char stamp[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ld %s %s %s%s%s\n", stamp,
		     ts.tv_nsec / 1000000, level_names[level], tag,
		     prefix ? prefix : "", prefix ? " " : "", text);
	if (n > (int)sizeof(line) - 1) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)!write(log_fd, line, (size_t)n);
}

void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, tag, NULL, fmt, ap);
	va_end(ap);
}

void fatal(const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, tag, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

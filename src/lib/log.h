/* log.h - the System Log: one record per line, tagged with the module.
 * The public part (log_msg, log_enabled) is in postern/module.h. */
#ifndef PN_LOG_H
#define PN_LOG_H

#include <stddef.h>

#include "postern/module.h"

/* Where records go: "stderr", "syslog" or an absolute file path. */
int log_open(const char *target, const char **error_r);
/* Reopen the same file target (after logrotate); no-op for others. */
void log_reopen(void);
void log_close(void);

int log_parse_level(const char *name, enum log_level *level_r);
void log_set_level(enum log_level level);

/* Copy `len` octets of untrusted text into out (size outsize), escaping
 * control characters as \xNN; always NUL-terminates. */
void log_escape(char *out, size_t outsize, const char *in, size_t len);

void log_vmsg(enum log_level level, const char *tag, const char *prefix,
	      const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* Broken invariant or unusable start-up: log and exit(1). */
void fatal(const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif

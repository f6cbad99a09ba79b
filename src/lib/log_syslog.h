/* log_syslog.h - syslog(3) for log.c, without <syslog.h>'s macros. */
#ifndef PN_LOG_SYSLOG_H
#define PN_LOG_SYSLOG_H

void log_syslog_open(void);
void log_syslog_close(void);
/* level: 0 error .. 4 debug (enum log_level) */
void log_syslog_write(unsigned int level, const char *tag, const char *prefix,
		      const char *text);

#endif

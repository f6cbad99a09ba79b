/* log_syslog.c - the syslog(3) target of log.c.  Kept apart because
 * <syslog.h> defines LOG_WARNING, LOG_INFO... as macros, which would
 * replace the names of our own log levels (postern/module.h). */
#include "build-config.h"

#include <syslog.h>

#include "lib/log_syslog.h"

void log_syslog_open(void)
{
	openlog("posternd", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_syslog_close(void)
{
	closelog();
}

void log_syslog_write(unsigned int level, const char *tag, const char *prefix,
		      const char *text)
{
	/* our levels in order: error, warning, notice, info, debug */
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
				    LOG_DEBUG };

	syslog(prio[level < 5 ? level : 4], "%s %s%s%s", tag,
	       prefix ? prefix : "", prefix ? " " : "", text);
}

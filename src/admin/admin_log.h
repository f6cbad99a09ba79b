/* admin_log.h - reading the System Log for GET /api/log. */
#ifndef PN_ADMIN_LOG_H
#define PN_ADMIN_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "postern/module.h"

/* Is a log line (without its newline) at min_level or more severe, and of
 * a module whose tag starts with `tag` (any case; "" for every module)?
 * Lines not of the log's form do not match. */
bool admin_log_line_matches(const char *line, size_t len,
			    enum log_level min_level, const char *tag);

#endif

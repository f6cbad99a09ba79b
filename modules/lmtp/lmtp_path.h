/* lmtp_path.h - the arguments of MAIL FROM: and RCPT TO: (RFC 5321 4.1.2,
 * RFC 2033).  Kept apart from the session code so the unit tests can take
 * it on its own. */
#ifndef LMTP_PATH_H
#define LMTP_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.5.3.1: a path is at most 256 octets with its brackets. */
#define LMTP_PATH_MAX 254

enum lmtp_path_result {
	LMTP_PATH_OK,
	LMTP_PATH_SYNTAX,	/* no "FROM:<...>" shape at all: 501 5.5.4 */
	LMTP_PATH_BAD_ADDRESS,	/* a path, but not a valid address: 501 5.1.x */
};

/* Parse `arg` ("FROM:<a@b> SIZE=10", the text after "MAIL ") given the
 * keyword ("FROM:" or "TO:", matched without regard to case; spaces after
 * the colon are tolerated, as many clients send them).  addr_r
 * (LMTP_PATH_MAX + 1 octets) gets the address without brackets and
 * without a source route, a quoted local part unquoted when it needs no
 * quotes ("\"jsmith\"@x" is jsmith@x); "" for the null path <>.
 * *params_r points at the parameters after the path ("" when none).
 * *error_r says what is wrong. */
enum lmtp_path_result lmtp_path_parse(char *arg, const char *keyword,
				      char *addr_r, char **params_r,
				      const char **error_r);

/* The next "KEYWORD[=value]" of a parameter list, split in place: *key_r
 * and *value_r (NULL when there is no '=').  false at the end of the list. 
 * *error_r is set (and false returned) for an empty keyword. */
bool lmtp_param_next(char **params, char **key_r, char **value_r,
		     const char **error_r);

#endif

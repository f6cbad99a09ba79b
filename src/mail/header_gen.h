/* header_gen.h - the values of header fields a server writes itself: an
 * RFC 5322 date and the random part of a Message-ID or MIME boundary.
 * Shared by the submission path and the bounces, so that every date we
 * write reads the same and none depends on the locale or time zone. */
#ifndef PN_HEADER_GEN_H
#define PN_HEADER_GEN_H

#include <stddef.h>
#include <time.h>

/* "Tue, 01 Dec 2026 21:03:28 +0000" and its NUL */
#define HEADER_DATE_SIZE 32

/* t as an RFC 5322 3.3 date-time in UTC, with the English day and month
 * names of the RFC whatever the locale.  -1 when the year is outside
 * 1900..9999 (four digits, and no date before the epoch of mail). */
int header_gen_date(time_t t, char out[HEADER_DATE_SIZE]);

/* `octets` random octets from getrandom() as 2 * octets lower-case hex
 * digits and a NUL in out (which holds 2 * octets + 1).  -1 with errno
 * when the kernel gives none; octets is at most 128. */
int header_gen_random_hex(char *out, size_t octets);

#endif

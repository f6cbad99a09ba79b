/* header_gen.c - dates and random tokens for the fields we write. */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "mail/header_gen.h"

#define RANDOM_MAX 128

int header_gen_date(time_t t, char out[HEADER_DATE_SIZE])
{
	/* RFC 5322 3.3 names, never the locale's (no strftime) */
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 1900)
		return -1;
	snprintf(out, HEADER_DATE_SIZE, "%s, %02d %s %04d %02d:%02d:%02d +0000",
		 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

int header_gen_random_hex(char *out, size_t octets)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char random[RANDOM_MAX];
	ssize_t n;

	if (octets > RANDOM_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* up to 256 octets, getrandom() is never cut short once the kernel
	 * pool is ready; it blocks until then */
	n = getrandom(random, octets, 0);
	if (n != (ssize_t)octets) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	for (size_t i = 0; i < octets; i++) {
		out[2 * i] = hex[random[i] >> 4];
		out[2 * i + 1] = hex[random[i] & 15];
	}
	out[2 * octets] = '\0';
	return 0;
}

/* strnum.c - strict number parsing. */
#include "build-config.h"

#include <string.h>

#include "lib/strnum.h"

/* Parse leading digits of s; *end_r points past them.  -1 on no digits or
 * overflow. */
static int parse_digits(const char *s, uint64_t *num_r, const char **end_r)
{
	uint64_t n = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*num_r = n;
	*end_r = p;
	return 0;
}

int str_to_uint64(const char *s, uint64_t *num_r)
{
	const char *end;

	if (parse_digits(s, num_r, &end) < 0 || *end != '\0')
		return -1;
	return 0;
}

int str_to_uint32(const char *s, uint32_t *num_r)
{
	uint64_t n;

	if (str_to_uint64(s, &n) < 0 || n > UINT32_MAX)
		return -1;
	*num_r = (uint32_t)n;
	return 0;
}

static int parse_with_unit(const char *s, const char *units,
			   const uint64_t *mults, uint64_t *num_r)
{
	const char *end, *u;
	uint64_t n;

	if (parse_digits(s, &n, &end) < 0)
		return -1;
	if (*end == '\0') {
		*num_r = n;
		return 0;
	}
	if (end[1] != '\0' || (u = strchr(units, *end)) == NULL)
		return -1;
	if (n > UINT64_MAX / mults[u - units])
		return -1;
	*num_r = n * mults[u - units];
	return 0;
}

int str_parse_size(const char *s, uint64_t *size_r)
{
	static const uint64_t mults[] = {
		1024, 1024, 1024 * 1024, 1024 * 1024,
		1024ull * 1024 * 1024, 1024ull * 1024 * 1024
	};

	return parse_with_unit(s, "kKmMgG", mults, size_r);
}

int str_parse_seconds(const char *s, uint64_t *secs_r)
{
	static const uint64_t mults[] = { 1, 60, 3600, 86400 };

	return parse_with_unit(s, "smhd", mults, secs_r);
}

/* strnum.h - strict number parsing (popa3d/Dovecot habit): the whole string
 * must be decimal digits, no sign, no spaces, no overflow. */
#ifndef PN_STRNUM_H
#define PN_STRNUM_H

#include <stdint.h>

int str_to_uint64(const char *s, uint64_t *num_r);
int str_to_uint32(const char *s, uint32_t *num_r);

/* "512", "10k", "20M", "1G" (binary multiples). */
int str_parse_size(const char *s, uint64_t *size_r);
/* "30", "30s", "5m", "2h", "1d". */
int str_parse_seconds(const char *s, uint64_t *secs_r);

#endif

/* record.h - values in the store: a version octet, then fields in a fixed
 * order.  Readers check lengths; a short or unknown record is corrupt, not
 * a crash. */
#ifndef PN_RECORD_H
#define PN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define RECORD_MAX 4096	/* an account with all its secrets fits */

struct rec_writer {
	uint8_t data[RECORD_MAX];
	size_t len;
	bool overflow;
};

struct rec_reader {
	const uint8_t *data;
	size_t len, off;
	bool bad;
};

void rec_init(struct rec_writer *w, uint8_t version);
void rec_put_u32(struct rec_writer *w, uint32_t v);
void rec_put_u64(struct rec_writer *w, uint64_t v);
void rec_put_bytes(struct rec_writer *w, const void *p, size_t len);
/* A string as u32 length + octets (no NUL). */
void rec_put_str(struct rec_writer *w, const char *s);

/* Records that outgrow RECORD_MAX (a relay queue entry: up to 1000
 * recipients with their last replies, some 1 MiB) are written the same
 * way into a struct buf bounded by `max`: past it, overflow is set and
 * nothing more is added.  rec_buf_free() releases it. */
struct rec_buf {
	struct buf buf;
	bool overflow;
};

void rec_buf_init(struct rec_buf *w, uint8_t version, size_t max);
void rec_buf_free(struct rec_buf *w);
void rec_buf_put_bytes(struct rec_buf *w, const void *p, size_t len);
void rec_buf_put_u8(struct rec_buf *w, uint8_t v);
void rec_buf_put_u32(struct rec_buf *w, uint32_t v);
void rec_buf_put_u64(struct rec_buf *w, uint64_t v);
void rec_buf_put_str(struct rec_buf *w, const char *s);

void rec_read_init(struct rec_reader *r, const void *data, size_t len);
uint8_t rec_get_u8(struct rec_reader *r);
uint32_t rec_get_u32(struct rec_reader *r);
uint64_t rec_get_u64(struct rec_reader *r);
void rec_get_bytes(struct rec_reader *r, void *p, size_t len);
/* Copy a string into buf (size bufsize, NUL-terminated); too long = bad. */
void rec_get_str(struct rec_reader *r, char *buf, size_t bufsize);

#endif

/* record.c - versioned store records. */
#include "build-config.h"

#include <string.h>

#include "store/record.h"

void rec_init(struct rec_writer *w, uint8_t version)
{
	w->len = 1;
	w->data[0] = version;
	w->overflow = false;
}

void rec_put_bytes(struct rec_writer *w, const void *p, size_t len)
{
	if (len > RECORD_MAX - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->data + w->len, p, len);
	w->len += len;
}

void rec_put_u32(struct rec_writer *w, uint32_t v)
{
	rec_put_bytes(w, &v, sizeof(v));
}

void rec_put_u64(struct rec_writer *w, uint64_t v)
{
	rec_put_bytes(w, &v, sizeof(v));
}

void rec_put_str(struct rec_writer *w, const char *s)
{
	uint32_t len = (uint32_t)strlen(s);

	rec_put_u32(w, len);
	rec_put_bytes(w, s, len);
}

void rec_buf_init(struct rec_buf *w, uint8_t version, size_t max)
{
	buf_init(&w->buf, max);
	w->overflow = false;
	rec_buf_put_u8(w, version);
}

void rec_buf_free(struct rec_buf *w)
{
	buf_free(&w->buf);
}

void rec_buf_put_bytes(struct rec_buf *w, const void *p, size_t len)
{
	/* one failed append ends the record: a later small field must not
	 * slip in after a field that was left out */
	if (w->overflow || buf_append(&w->buf, p, len) < 0)
		w->overflow = true;
}

void rec_buf_put_u8(struct rec_buf *w, uint8_t v)
{
	rec_buf_put_bytes(w, &v, 1);
}

void rec_buf_put_u32(struct rec_buf *w, uint32_t v)
{
	rec_buf_put_bytes(w, &v, sizeof(v));
}

void rec_buf_put_u64(struct rec_buf *w, uint64_t v)
{
	rec_buf_put_bytes(w, &v, sizeof(v));
}

void rec_buf_put_str(struct rec_buf *w, const char *s)
{
	size_t len = strlen(s);

	if (len > UINT32_MAX) {
		w->overflow = true;
		return;
	}
	rec_buf_put_u32(w, (uint32_t)len);
	rec_buf_put_bytes(w, s, len);
}

void rec_read_init(struct rec_reader *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->off = 0;
	r->bad = false;
}

void rec_get_bytes(struct rec_reader *r, void *p, size_t len)
{
	if (r->bad || len > r->len - r->off) {
		r->bad = true;
		memset(p, 0, len);
		return;
	}
	memcpy(p, r->data + r->off, len);
	r->off += len;
}

uint8_t rec_get_u8(struct rec_reader *r)
{
	uint8_t v;

	rec_get_bytes(r, &v, 1);
	return v;
}

uint32_t rec_get_u32(struct rec_reader *r)
{
	uint32_t v;

	rec_get_bytes(r, &v, sizeof(v));
	return v;
}

uint64_t rec_get_u64(struct rec_reader *r)
{
	uint64_t v;

	rec_get_bytes(r, &v, sizeof(v));
	return v;
}

void rec_get_str(struct rec_reader *r, char *buf, size_t bufsize)
{
	uint32_t len = rec_get_u32(r);

	if (r->bad || len >= bufsize || len > r->len - r->off) {
		r->bad = true;
		if (bufsize > 0)
			buf[0] = '\0';
		return;
	}
	memcpy(buf, r->data + r->off, len);
	buf[len] = '\0';
	r->off += len;
}

/* body.h - message bodies: write-once files in CRLF form under
 * data_dir/bodies/XX/<32 hex>, named by a random 128-bit id.
 *
 * The writer normalises line ends as it goes (bare LF becomes CRLF, a
 * final CRLF is added when missing), counts the exact size, finds the end
 * of the header and notes whether any line starts with '.', then fsyncs
 * the file and its directory before the caller commits the metadata. */
#ifndef PN_BODY_H
#define PN_BODY_H

#include <stdbool.h>
#include <stdint.h>

#define BODY_ID_LEN 16
#define BODY_PATH_MAX 4096

struct body_info {
	uint8_t id[BODY_ID_LEN];
	uint32_t size;
	uint32_t hdr_len;
	bool has_dot_line;
};

struct body_writer {
	int fd;
	char tmp_path[BODY_PATH_MAX];
	uint64_t max_size;
	uint64_t size;		/* octets after normalisation */
	uint64_t hdr_len;
	bool hdr_done;
	bool has_dot_line;
	bool at_line_start;
	bool pending_cr;
	bool too_big;
	uint64_t line_len;
	uint8_t last;		/* last octet emitted */
	size_t out_len;
	uint8_t out[65536];
};

/* Start a body in data_dir/tmp.  max_size bounds the normalised size. */
int body_writer_open(struct body_writer *w, uint64_t max_size,
		     const char **error_r);
/* Add input.  Past max_size it returns -1 with *error_r saying so and
 * w->too_big set; the caller may keep feeding (to drain its input) and
 * must then abort. */
int body_writer_write(struct body_writer *w, const void *data, size_t len,
		      const char **error_r);
/* Finish: final CRLF, move into bodies/, fsync the file and the
 * directory (both before this returns; in parallel where a runner for
 * that is set), so the caller may commit the metadata. */
int body_writer_finish(struct body_writer *w, struct body_info *info_r,
		       const char **error_r);
void body_writer_abort(struct body_writer *w);

/* Sync two descriptors, both before returning: *err_a and *err_b get 0 or
 * the errno of each fsync.  posternd's delivery threads run the two at
 * once (a disk takes parallel syncs nearly as fast as one); the default
 * runs them in a row. */
typedef void body_sync_pair_fn(int fd_a, int fd_b, int *err_a, int *err_b);
void body_set_sync_pair(body_sync_pair_fn *fn);

void body_path(const uint8_t id[BODY_ID_LEN], char *path, size_t size);
/* Open read-only; -1 with errno set (ENOENT: removed). */
int body_open(const uint8_t id[BODY_ID_LEN]);
void body_unlink(const uint8_t id[BODY_ID_LEN]);

#endif

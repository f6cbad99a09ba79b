/* body.c - write-once message body files. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "store/body.h"
#include "store/store.h"

/* per thread: bodies are finished on posternd's delivery threads */
static _Thread_local char errbuf[BODY_PATH_MAX + 200];

static const char *io_error(const char *what, const char *path, int err)
{
	snprintf(errbuf, sizeof(errbuf), "cannot %s %s: %s%s", what, path,
		 strerror(err),
		 err == ENOSPC || err == EDQUOT ? " (disk full)" : "");
	return errbuf;
}

void body_path(const uint8_t id[BODY_ID_LEN], char *path, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char name[BODY_ID_LEN * 2 + 1];

	for (int i = 0; i < BODY_ID_LEN; i++) {
		name[i * 2] = hex[id[i] >> 4];
		name[i * 2 + 1] = hex[id[i] & 15];
	}
	name[BODY_ID_LEN * 2] = '\0';
	snprintf(path, size, "%s/bodies/%.2s/%s", store_data_dir(), name, name);
}

int body_open(const uint8_t id[BODY_ID_LEN])
{
	char path[BODY_PATH_MAX];

	body_path(id, path, sizeof(path));
	return open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
}

void body_unlink(const uint8_t id[BODY_ID_LEN])
{
	char path[BODY_PATH_MAX];

	body_path(id, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_msg(LOG_WARNING, "STORE", "%s", io_error("remove", path, errno));
}

int body_writer_open(struct body_writer *w, uint64_t max_size,
		     const char **error_r)
{
	memset(w, 0, offsetof(struct body_writer, out));
	w->max_size = max_size;
	w->at_line_start = true;
	snprintf(w->tmp_path, sizeof(w->tmp_path), "%s/tmp/body.XXXXXX",
		 store_data_dir());
	w->fd = mkostemp(w->tmp_path, O_CLOEXEC);
	if (w->fd < 0) {
		*error_r = io_error("create a file in", w->tmp_path, errno);
		return -1;
	}
	return 0;
}

static int flush_out(struct body_writer *w, const char **error_r)
{
	size_t off = 0;

	while (off < w->out_len) {
		ssize_t n = write(w->fd, w->out + off, w->out_len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error_r = io_error("write", w->tmp_path, errno);
			return -1;
		}
		off += (size_t)n;
	}
	w->out_len = 0;
	return 0;
}

static int emit(struct body_writer *w, uint8_t c, const char **error_r)
{
	if (w->too_big)
		return 0;
	if (w->size + 1 > w->max_size) {
		w->too_big = true;
		return 0;
	}
	if (w->out_len == sizeof(w->out) && flush_out(w, error_r) < 0)
		return -1;
	w->out[w->out_len++] = c;
	w->size++;
	w->last = c;
	return 0;
}

static int end_line(struct body_writer *w, const char **error_r)
{
	if (emit(w, '\r', error_r) < 0 || emit(w, '\n', error_r) < 0)
		return -1;
	if (!w->hdr_done && w->line_len == 0) {
		w->hdr_done = true;
		w->hdr_len = w->size;
	}
	w->at_line_start = true;
	w->line_len = 0;
	return 0;
}

static int content(struct body_writer *w, uint8_t c, const char **error_r)
{
	if (w->at_line_start && c == '.')
		w->has_dot_line = true;
	w->at_line_start = false;
	w->line_len++;
	return emit(w, c, error_r);
}

int body_writer_write(struct body_writer *w, const void *data, size_t len,
		      const char **error_r)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		int ret;

		if (w->pending_cr) {
			w->pending_cr = false;
			if (c == '\n') {
				if (end_line(w, error_r) < 0)
					return -1;
				continue;
			}
			/* a bare CR is content */
			if (content(w, '\r', error_r) < 0)
				return -1;
		}
		if (c == '\r') {
			w->pending_cr = true;
			continue;
		}
		ret = c == '\n' ? end_line(w, error_r) : content(w, c, error_r);
		if (ret < 0)
			return -1;
	}
	if (w->too_big) {
		snprintf(errbuf, sizeof(errbuf),
			 "message exceeds the size limit of %llu octets",
			 (unsigned long long)w->max_size);
		*error_r = errbuf;
		return -1;
	}
	return 0;
}

static void sync_in_a_row(int fd_a, int fd_b, int *err_a, int *err_b)
{
	*err_a = fsync(fd_a) < 0 ? errno : 0;
	*err_b = fsync(fd_b) < 0 ? errno : 0;
}

static body_sync_pair_fn *sync_pair = sync_in_a_row;

void body_set_sync_pair(body_sync_pair_fn *fn)
{
	sync_pair = fn != NULL ? fn : sync_in_a_row;
}

int body_writer_finish(struct body_writer *w, struct body_info *info_r,
		       const char **error_r)
{
	char path[BODY_PATH_MAX], dir[BODY_PATH_MAX];
	int dirfd, err_file = 0, err_dir = 0;

	if (w->pending_cr) {
		w->pending_cr = false;
		if (end_line(w, error_r) < 0)
			goto fail;
	}
	if (w->size == 0) {
		*error_r = "empty message";
		goto fail;
	}
	if (w->last != '\n' && end_line(w, error_r) < 0)
		goto fail;
	if (w->too_big) {
		snprintf(errbuf, sizeof(errbuf),
			 "message exceeds the size limit of %llu octets",
			 (unsigned long long)w->max_size);
		*error_r = errbuf;
		goto fail;
	}
	if (flush_out(w, error_r) < 0)
		goto fail;
	if (getrandom(info_r->id, BODY_ID_LEN, 0) != BODY_ID_LEN) {
		*error_r = io_error("get random bytes for", "a body id", errno);
		goto fail;
	}
	body_path(info_r->id, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		*error_r = io_error("create", dir, errno);
		goto fail;
	}
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		*error_r = io_error("open directory", dir, errno);
		goto fail;
	}
	/* moved before it is synced: until the metadata commits (after
	 * both syncs) nothing refers to it, and a crash leaves an orphan
	 * file, as it would in tmp/ */
	if (rename(w->tmp_path, path) < 0) {
		*error_r = io_error("move a body into", dir, errno);
		close(dirfd);
		goto fail;
	}
	sync_pair(w->fd, dirfd, &err_file, &err_dir);
	close(dirfd);
	close(w->fd);
	w->fd = -1;
	if (err_file != 0 || err_dir != 0) {
		*error_r = err_file != 0 ? io_error("sync", path, err_file) :
			   io_error("sync directory", dir, err_dir);
		unlink(path);
		return -1;
	}
	info_r->size = (uint32_t)w->size;
	info_r->hdr_len = (uint32_t)(w->hdr_done ? w->hdr_len : w->size);
	info_r->has_dot_line = w->has_dot_line;
	return 0;
fail:
	body_writer_abort(w);
	return -1;
}

void body_writer_abort(struct body_writer *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp_path);
		w->fd = -1;
	}
}

/* http_static.c - the web admin's pages: files under http.root, GET and
 * HEAD only.  A path is letters, digits and ._- in segments that do not
 * start with a dot, so nothing outside root can be named; only regular
 * files are served.  Answers carry an ETag (size and mtime) and
 * Cache-Control: no-cache, so a browser asks again cheaply (304) and an
 * upgrade shows at once. */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct type {
	const char *ext;
	const char *mime;
};

static const struct type types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".woff2", "font/woff2" },
	{ NULL, NULL }
};

static const char *mime_of(const char *path)
{
	size_t len = strlen(path);

	for (const struct type *t = types; t->ext != NULL; t++) {
		size_t el = strlen(t->ext);

		if (len > el && strcmp(path + len - el, t->ext) == 0)
			return t->mime;
	}
	return "application/octet-stream";
}

/* "/", "/app.js", "/img/logo.svg": true and the file's name under root. */
static bool safe_path(const char *path, char *out, size_t size)
{
	bool start = true;

	if (path[0] != '/' || strlen(path) >= size || strlen(path) > 200)
		return false;
	if (path[1] == '\0') {
		snprintf(out, size, "index.html");
		return true;
	}
	for (const char *p = path + 1; *p != '\0'; p++) {
		char c = *p;

		if (c == '/') {
			if (start)
				return false;	/* "//" or a trailing "/" */
			start = true;
			continue;
		}
		if (start && c == '.')
			return false;	/* ".." and hidden files */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
		start = false;
	}
	if (start)
		return false;
	snprintf(out, size, "%s", path + 1);
	return true;
}

/* The file, with every symbolic link on its way resolved, is under
 * http.root (its resolved name into real, PATH_MAX octets): a link in the
 * pages' directory must not serve what lies outside it. */
static bool inside_root(const char *full, char *real)
{
	char root[PATH_MAX];
	size_t len;

	if (realpath(full, real) == NULL || realpath(http_set->root, root) == NULL)
		return false;
	len = strlen(root);
	if (strncmp(real, root, len) == 0 && real[len] == '/')
		return true;
	log_msg(LOG_NOTICE, HTTP_TAG, "not served: %s leads outside http.root", full);
	return false;
}

static enum MHD_Result not_found(struct http_req *req)
{
	return http_answer_error(req, MHD_HTTP_NOT_FOUND, "no such page");
}

enum MHD_Result http_static(struct http_req *req, const char *method)
{
	char rel[256], full[4096 + 256], real[PATH_MAX], etag[64];
	struct MHD_Response *resp;
	const char *inm;
	struct stat st;
	enum MHD_Result ret;
	int fd;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return http_answer_not_allowed(req, "GET, HEAD",
					       admin_error_json("the pages take GET and HEAD only"));
	if (!safe_path(req->path, rel, sizeof(rel)))
		return not_found(req);
	snprintf(full, sizeof(full), "%s/%s", http_set->root, rel);
	if (!inside_root(full, real))
		return not_found(req);
	/* the resolved name, so a link swapped in meanwhile is not followed */
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_msg(LOG_WARNING, HTTP_TAG, "cannot read %s: %s", full,
				strerror(errno));
		return not_found(req);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return not_found(req);
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
		 (unsigned long long)st.st_mtim.tv_nsec);
	inm = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND, "If-None-Match");
	if (inm != NULL && strcmp(inm, etag) == 0) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		http_secure_headers(resp);
		MHD_add_response_header(resp, "ETag", etag);
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
		ret = MHD_queue_response(req->con, MHD_HTTP_NOT_MODIFIED, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	/* MHD closes fd with the response */
	resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (resp == NULL) {
		close(fd);
		return MHD_NO;
	}
	http_secure_headers(resp);
	MHD_add_response_header(resp, "Content-Type", mime_of(rel));
	MHD_add_response_header(resp, "ETag", etag);
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	ret = MHD_queue_response(req->con, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	log_msg(LOG_DEBUG, HTTP_TAG, "[%s] %s %s -> 200", req->ip, method, req->path);
	return ret;
}

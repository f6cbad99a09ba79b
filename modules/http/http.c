/* http.c - the http module: its settings, its listening sockets (bound at
 * start, as root may be needed and errors still reach the terminal), and
 * libmicrohttpd daemons driven by posternd's loop - MHD's epoll descriptor
 * watched with pn_io, its timeouts with a pn_timer - in the process that
 * serves background work. */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/postern"
#endif

/* A certificate and key file larger than this is no PEM we want. */
#define PEM_MAX (1024 * 1024)


static struct {
	struct http_listener listeners[HTTP_LISTENERS_MAX];
	size_t count;
	char *cert_pem, *key_pem;
} http;

const struct http_settings *http_set;

#define S(field) offsetof(struct http_settings, field)

static const struct setting_def http_setting_defs[] = {
	/* CommuniGate's WebAdmin port; loopback: put a proxy or tls_listen
	 * in front before opening it wider */
	{ "listen", SETTING_LIST, S(listen), "127.0.0.1:8010", 0, 0 },
	{ "tls_listen", SETTING_LIST, S(tls_listen), "", 0, 0 },
	{ "root", SETTING_STRING, S(root), PKGDATADIR "/webadmin", 0, 0 },
	{ "channels", SETTING_UINT, S(channels), "64", 1, 10000 },
	{ "channels_per_ip", SETTING_UINT, S(channels_per_ip), "16", 1, 10000 },
	{ "idle_timeout", SETTING_SECONDS, S(idle_timeout), "60s", 1, 3600 },
	{ "request_timeout", SETTING_SECONDS, S(request_timeout), "30s", 1, 3600 },
	{ "session_idle", SETTING_SECONDS, S(session_idle), "30m", 1, 86400 },
	{ "session_max", SETTING_SECONDS, S(session_max), "12h", 1, 7 * 86400 },
	{ "max_request_size", SETTING_SIZE, S(max_request_size), "64K", 1024,
	  16 * 1024 * 1024 },
	SETTING_DEFS_END
};

static void run(struct http_listener *l);

static void on_ready(void *ctx, bool readable, bool writable)
{
	(void)readable;
	(void)writable;
	run(ctx);
}

static void on_timer(void *ctx)
{
	run(ctx);
}

static unsigned int connections(struct http_listener *l)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info != NULL ? info->num_connections : 0;
}

/* Let MHD do what is due, then wait for its descriptor or its next
 * timeout. */
static void run(struct http_listener *l)
{
	MHD_UNSIGNED_LONG_LONG ms;
	unsigned int before;

	if (l->daemon == NULL)
		return;
	before = connections(l);
	MHD_run(l->daemon);
	/* at http.channels MHD takes its listening socket out of its epoll
	 * set, and puts it back only at the start of a run: when connections
	 * ended in this one, run again, or the clients waiting to be
	 * accepted wait for ever (nothing else would wake it) */
	if (connections(l) < before) {
		pn_timer_start(l->timer, 0);
		return;
	}
	if (MHD_get_timeout(l->daemon, &ms) == MHD_YES)
		pn_timer_start(l->timer, ms / 1000.0);
	else
		pn_timer_stop(l->timer);
}

void http_kick_all(void)
{
	for (size_t i = 0; i < http.count; i++)
		http_kick(&http.listeners[i]);
}

void http_kick(struct http_listener *l)
{
	/* MHD's own wake-up does not reach an outside loop (microhttpd.h,
	 * MHD_resume_connection): run it from the loop's next turn */
	if (l->daemon != NULL)
		pn_timer_start(l->timer, 0);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char text[512];
	size_t n;

	(void)cls;
	vsnprintf(text, sizeof(text), fmt, ap);
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	log_msg(LOG_INFO, HTTP_TAG, "%s", text);
}

/* Leave the path as it came: /api/ names carry %2F that decoding would
 * turn into separators; the host decodes each segment. */
static size_t no_unescape(void *cls, struct MHD_Connection *con, char *s)
{
	(void)cls;
	(void)con;
	return strlen(s);
}

#define OPT(o, v, p) (struct MHD_OptionItem){ (o), (intptr_t)(v), (void *)(p) }

static bool start_daemon(struct http_listener *l, const char **error_r)
{
	static char err[256];
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[16];
	size_t n = 0;

	/* first, so that MHD logs nothing of its own to stderr */
	opts[n++] = OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL);
	opts[n++] = OPT(MHD_OPTION_LISTEN_SOCKET, l->fd, NULL);
	opts[n++] = OPT(MHD_OPTION_CONNECTION_LIMIT, http_set->channels, NULL);
	opts[n++] = OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, http_set->channels_per_ip, NULL);
	opts[n++] = OPT(MHD_OPTION_CONNECTION_TIMEOUT, http_set->idle_timeout, NULL);
	/* the headers of one request and MHD's buffers: a header block
	 * larger than this is refused (431) */
	opts[n++] = OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL);
	opts[n++] = OPT(MHD_OPTION_URI_LOG_CALLBACK, http_req_new, l);
	opts[n++] = OPT(MHD_OPTION_NOTIFY_COMPLETED, http_req_done, NULL);
	opts[n++] = OPT(MHD_OPTION_NOTIFY_CONNECTION, http_conn_notify, NULL);
	opts[n++] = OPT(MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL);
	opts[n++] = OPT(MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, NULL);
	if (l->tls) {
		flags |= MHD_USE_TLS;
		opts[n++] = OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, http.cert_pem);
		opts[n++] = OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, http.key_pem);
		opts[n++] = OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
				"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	}
	opts[n++] = OPT(MHD_OPTION_END, 0, NULL);
	l->daemon = MHD_start_daemon(flags, 0, NULL, NULL, http_handle, NULL,
				     MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (l->daemon == NULL) {
		snprintf(err, sizeof(err), "the web admin cannot serve %s%s (libmicrohttpd refused)",
			 l->address, l->tls ? " with TLS" : "");
		*error_r = err;
		return false;
	}
	info = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL) {
		MHD_stop_daemon(l->daemon);
		l->daemon = NULL;
		*error_r = "libmicrohttpd has no epoll descriptor to give";
		return false;
	}
	l->io = pn_io_new(info->epoll_fd, true, false, on_ready, l);
	l->timer = pn_timer_new(on_timer, l);
	/* MHD owns the socket now */
	l->fd = -1;
	return true;
}

static void http_serve(void *settings)
{
	const char *error;

	http_set = settings;
	for (size_t i = 0; i < http.count; i++) {
		struct http_listener *l = &http.listeners[i];

		if (!start_daemon(l, &error)) {
			log_msg(LOG_ERROR, HTTP_TAG, "%s", error);
			continue;
		}
		log_msg(LOG_NOTICE, HTTP_TAG, "web admin on %s://%s%s/", l->tls ? "https" : "http",
			l->address[0] == '*' ? "localhost" : l->address,
			l->address[0] == '*' ? strrchr(l->address, ':') : "");
	}
}

static void http_stop(void)
{
	http_stopping = true;
	http_deadline_stop();
	http_resume_all();
	for (size_t i = 0; i < http.count; i++) {
		struct http_listener *l = &http.listeners[i];

		if (l->daemon == NULL)
			continue;
		MHD_run(l->daemon);	/* the resumed get their 503 */
		pn_io_free(&l->io);
		pn_timer_free(&l->timer);
		MHD_stop_daemon(l->daemon);
		l->daemon = NULL;
	}
	http_sessions_clear();
}

/* A whole PEM file into memory (read as root, before the privileges go). */
static char *read_pem(const char *path, const char **error_r)
{
	static char err[4200];
	const char *why = NULL;
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (st.st_size <= 0 || st.st_size > PEM_MAX)
		why = "not a PEM file of a sensible size";
	else if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		why = "out of memory";
	else if (read(fd, buf, (size_t)st.st_size) != st.st_size)
		why = "a short read";
	if (fd >= 0)
		close(fd);
	if (why != NULL) {
		snprintf(err, sizeof(err), "http.tls_listen: cannot read %s: %s", path, why);
		*error_r = err;
		free(buf);
		return NULL;
	}
	buf[st.st_size] = '\0';
	return buf;
}

static void close_listeners(void)
{
	for (size_t i = 0; i < http.count; i++) {
		if (http.listeners[i].fd >= 0)
			close(http.listeners[i].fd);
		http.listeners[i].fd = -1;
	}
	http.count = 0;
	if (http.key_pem != NULL)
		explicit_bzero(http.key_pem, strlen(http.key_pem));
	free(http.key_pem);
	free(http.cert_pem);
	http.key_pem = http.cert_pem = NULL;
}

static int add_listeners(const struct setting_list *list, bool tls,
			 const char **error_r)
{
	static char err[160];

	for (size_t i = 0; i < list->count; i++) {
		struct http_listener *l = &http.listeners[http.count];
		int fd;

		if (http.count == HTTP_LISTENERS_MAX) {
			snprintf(err, sizeof(err), "http: at most %d listen and tls_listen addresses",
				 HTTP_LISTENERS_MAX);
			*error_r = err;
			return -1;
		}
		if ((fd = pn_listen_tcp(tls ? "http.tls_listen" : "http.listen",
					list->items[i], error_r)) < 0)
			return -1;
		memset(l, 0, sizeof(*l));
		snprintf(l->address, sizeof(l->address), "%s", list->items[i]);
		l->fd = fd;
		l->tls = tls;
		http.count++;
	}
	return 0;
}

static int http_init(void *settings, const char **error_r)
{
	struct http_settings *set = settings;
	const char *cert, *key;

	http_set = set;
	if (set->tls_listen.count > 0) {
		if (!pn_tls_files(&cert, &key)) {
			*error_r = "http.tls_listen needs a certificate: set tls.cert (and tls.key)";
			return -1;
		}
		if ((http.cert_pem = read_pem(cert, error_r)) == NULL ||
		    (http.key_pem = read_pem(key, error_r)) == NULL) {
			close_listeners();
			return -1;
		}
	}
	if (add_listeners(&set->listen, false, error_r) < 0 ||
	    add_listeners(&set->tls_listen, true, error_r) < 0) {
		close_listeners();
		return -1;
	}
	if (!MHD_is_feature_supported(MHD_FEATURE_EPOLL)) {
		close_listeners();
		*error_r = "this libmicrohttpd has no epoll support";
		return -1;
	}
	if (set->tls_listen.count > 0 && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		close_listeners();
		*error_r = "http.tls_listen: this libmicrohttpd was built without TLS";
		return -1;
	}
	return 0;
}

static void http_fini(void)
{
	close_listeners();
}

static int http_check(const void *settings, const char **error_r)
{
	static char err[4200];
	const struct http_settings *set = settings;
	struct stat st;

	if (set->listen.count + set->tls_listen.count > HTTP_LISTENERS_MAX) {
		snprintf(err, sizeof(err), "http: at most %d listen and tls_listen addresses",
			 HTTP_LISTENERS_MAX);
		*error_r = err;
		return -1;
	}
	if (set->root[0] != '/' || stat(set->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, sizeof(err),
			 "http.root: '%s' is not a directory (the web admin's pages, webadmin/ of the source)",
			 set->root);
		*error_r = err;
		return -1;
	}
	return 0;
}

const struct pn_module postern_module = {
	.abi = POSTERN_MODULE_ABI,
	.name = "http",
	.log_tag = HTTP_TAG,
	.settings = http_setting_defs,
	.settings_size = sizeof(struct http_settings),
	.check = http_check,
	.init = http_init,
	.fini = http_fini,
	.serve = http_serve,
	.stop = http_stop,
};

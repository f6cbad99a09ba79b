/* service.c - listeners and channel limits of a protocol module. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/conn.h"
#include "host/host.h"
#include "host/service.h"
#include "host/tls.h"
#include "lib/log.h"
#include "lib/strnum.h"
#include "lib/xalloc.h"

#define LISTEN_BACKLOG 1024
#define ACCEPTS_PER_EVENT 64
/* Out of descriptors: stop accepting this long instead of spinning on a
 * listener that stays readable. */
#define ACCEPT_PAUSE 1.0

struct ip_count {
	struct ip_count *next;
	unsigned int count;
	char ip[INET6_ADDRSTRLEN + 4];	/* a limit key */
};

const struct listener_settings *service_listener_settings(const struct service *svc)
{
	return (const struct listener_settings *)
		((const char *)svc->settings + svc->mod->protocol->listener_offset);
}

void service_limit_key(const char *ip, char *out, size_t size)
{
	struct in6_addr a;
	char text[INET6_ADDRSTRLEN];

	if (strchr(ip, ':') == NULL || inet_pton(AF_INET6, ip, &a) != 1) {
		snprintf(out, size, "%s", ip);
		return;
	}
	memset(a.s6_addr + 8, 0, 8);
	inet_ntop(AF_INET6, &a, text, sizeof(text));
	snprintf(out, size, "%s/64", text);
}

static unsigned int ip_hash(const char *ip)
{
	uint32_t h = 2166136261u;

	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h % IP_BUCKETS;
}

unsigned int service_ip_get(struct service *svc, const char *ip)
{
	for (struct ip_count *e = svc->ips[ip_hash(ip)]; e; e = e->next) {
		if (strcmp(e->ip, ip) == 0)
			return e->count;
	}
	return 0;
}

void service_ip_add(struct service *svc, const char *ip, int delta)
{
	struct ip_count **pp = &svc->ips[ip_hash(ip)], *e;

	for (; (e = *pp) != NULL; pp = &e->next) {
		if (strcmp(e->ip, ip) == 0)
			break;
	}
	if (e == NULL) {
		if (delta <= 0)
			return;
		e = xcalloc(1, sizeof(*e));
		snprintf(e->ip, sizeof(e->ip), "%s", ip);
		*pp = e;
	}
	e->count = (unsigned int)((int)e->count + delta);
	if (e->count == 0) {
		*pp = e->next;
		free(e);
	}
}

/* The master of worker processes opens listeners but never accepts. */
static bool listeners_passive;

void service_set_passive(bool passive)
{
	listeners_passive = passive;
}

void service_activate(struct service *svc)
{
	for (struct listener *l = svc->listeners; l != NULL; l = l->next)
		ev_io_start(host_loop(), &l->io);
}

static ev_timer accept_pause;
static struct service *paused_svc;

static void listeners_set(struct service *svc, bool on)
{
	for (struct listener *l = svc->listeners; l != NULL; l = l->next) {
		if (on)
			ev_io_start(host_loop(), &l->io);
		else
			ev_io_stop(host_loop(), &l->io);
	}
}

static void on_accept_resume(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (paused_svc != NULL)
		listeners_set(paused_svc, true);
	paused_svc = NULL;
}

/* Out of file descriptors: pause this service's listeners for a moment
 * (one log line per pause), so the loop does not spin on them. */
static void pause_accepting(struct service *svc, const struct listener *l, int err)
{
	if (paused_svc != NULL)
		return;
	log_msg(LOG_ERROR, svc->mod->log_tag,
		"cannot accept on %s: %s - not accepting for %.0f s; raise the open files limit (ulimit -n) or lower %s.channels",
		l->addr, strerror(err), ACCEPT_PAUSE, svc->mod->name);
	listeners_set(svc, false);
	paused_svc = svc;
	ev_timer_init(&accept_pause, on_accept_resume, ACCEPT_PAUSE, 0.);
	ev_timer_start(host_loop(), &accept_pause);
}

static void refuse(struct service *svc, int fd, const char *why)
{
	const char *reply = svc->mod->protocol->busy_reply;
	char line[256];
	int n = snprintf(line, sizeof(line), "%s\r\n", reply);

	/* best effort on a fresh socket: its buffer has room */
	(void)!send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	log_msg(LOG_NOTICE, svc->mod->log_tag, "connection refused: %s", why);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener *l = w->data;
	struct service *svc = l->svc;
	const struct listener_settings *ls = service_listener_settings(svc);

	(void)loop;
	(void)revents;
	for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		char ip[INET6_ADDRSTRLEN] = "";
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				pause_accepting(svc, l, errno);
			else if (errno != EAGAIN && errno != EINTR &&
				 errno != ECONNABORTED)
				log_msg(LOG_ERROR, svc->mod->log_tag,
					"accept on %s: %s", l->addr, strerror(errno));
			return;
		}
		if (peer.ss_family == AF_UNIX) {
			snprintf(ip, sizeof(ip), "local");	/* as conn.c names it */
		} else if (peer.ss_family == AF_INET || peer.ss_family == AF_INET6) {
			getnameinfo((struct sockaddr *)&peer, len, ip, sizeof(ip),
				    NULL, 0, NI_NUMERICHOST);
			/* conn.c prints v4-mapped addresses as plain v4 */
			if (strncmp(ip, "::ffff:", 7) == 0 && strchr(ip, '.'))
				memmove(ip, ip + 7, strlen(ip + 7) + 1);
		}
		/* with worker processes each takes its share of the limits */
		unsigned int n = host_workers();
		unsigned int channels = (ls->channels + n - 1) / n;
		unsigned int per_ip = (ls->channels_per_ip + n - 1) / n;
		char key[INET6_ADDRSTRLEN + 4];

		if (svc->active >= channels) {
			refuse(svc, fd, "all channels are busy");
			continue;
		}
		service_limit_key(ip, key, sizeof(key));
		if (per_ip > 0 && service_ip_get(svc, key) >= per_ip) {
			char why[128];

			snprintf(why, sizeof(why), "too many connections from %s", key);
			refuse(svc, fd, why);
			continue;
		}
		conn_new(svc, fd, (struct sockaddr *)&peer, len, l->tls);
	}
}

/* "127.0.0.1:110", "[::1]:110", "*:110" (every address). */
static int parse_address(const char *text, char *host, size_t hsize,
			 char *port, size_t psize)
{
	const char *colon;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (end == NULL || end[1] != ':')
			return -1;
		snprintf(host, hsize, "%.*s", (int)(end - text - 1), text + 1);
		colon = end + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL || memchr(text, ':', (size_t)(colon - text)))
			return -1;
		snprintf(host, hsize, "%.*s", (int)(colon - text), text);
	}
	uint32_t num;

	snprintf(port, psize, "%s", colon + 1);
	if (str_to_uint32(port, &num) < 0 || num > 65535 || host[0] == '\0')
		return -1;
	return 0;
}

static struct listener *add_listener(struct service *svc, int fd,
				     const char *text, bool tls)
{
	struct listener *l = xcalloc(1, sizeof(*l));

	l->svc = svc;
	l->fd = fd;
	l->tls = tls;
	snprintf(l->addr, sizeof(l->addr), "%s", text);
	ev_io_init(&l->io, on_accept, fd, EV_READ);
	l->io.data = l;
	if (!listeners_passive)
		ev_io_start(host_loop(), &l->io);
	l->next = svc->listeners;
	svc->listeners = l;
	log_msg(LOG_INFO, svc->mod->log_tag, "listening on %s%s", text,
		tls ? " (TLS)" : "");
	return l;
}

/* A socket file left by a server that is gone can be replaced; one that
 * a running server answers on, or any other file, cannot. */
static int clear_stale_socket(const char *path, const struct sockaddr_un *sun,
			      const char **error_r)
{
	static char err[320];
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, sizeof(err),
			 "cannot listen on %s: a file that is not a socket is in the way",
			 path);
		*error_r = err;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	rc = fd < 0 ? -1 : connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (fd >= 0)
		close(fd);
	if (rc == 0) {
		snprintf(err, sizeof(err),
			 "cannot listen on %s: another server is listening there - is posternd running already?",
			 path);
		*error_r = err;
		return -1;
	}
	(void)unlink(path);
	return 0;
}

/* "/run/postern/lmtp": a UNIX socket, mode 0666 - who may connect is
 * decided by the permissions of the directory it is in. */
static int open_unix_listener(struct service *svc, const char *path, bool tls,
			      const char **error_r)
{
	static char err[512];
	struct sockaddr_un sun;
	struct listener *l;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, sizeof(err),
			 "%s.listen: the socket path '%s' is longer than %zu octets",
			 svc->mod->name, path, sizeof(sun.sun_path) - 1);
		*error_r = err;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (clear_stale_socket(path, &sun, error_r) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int e = errno;

		snprintf(err, sizeof(err), "cannot listen on %s: %s%s", path,
			 strerror(e),
			 e == ENOENT ? " - create its directory first" :
			 e == EACCES ? " - the directory is not writable for posternd" : "");
		*error_r = err;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	l = add_listener(svc, fd, path, tls);
	l->owner = getpid();
	return 0;
}

int pn_listen_tcp(const char *setting, const char *text, const char **error_r)
{
	static char err[512];
	struct addrinfo hints, *ai = NULL;
	char host[128], port[16];
	int fd = -1, one = 1, rc;

	if (parse_address(text, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(err, sizeof(err),
			 "%s: '%s' is not address:port (like 127.0.0.1:110 or [::1]:110)%s",
			 setting, text, strstr(setting, ".listen") ? " or a socket path" : "");
		*error_r = err;
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_family = strcmp(host, "*") == 0 ? AF_INET6 : AF_UNSPEC;
	rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, sizeof(err), "%s: '%s': %s", setting, text, gai_strerror(rc));
		*error_r = err;
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		int v6only = strcmp(host, "*") != 0;

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
				   sizeof(v6only));
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		int e = errno;

		snprintf(err, sizeof(err), "cannot listen on %s: %s%s", text,
			 strerror(e),
			 e == EACCES ? " - ports below 1024 need root or CAP_NET_BIND_SERVICE" :
			 e == EADDRINUSE ? " - is another server (or posternd) using it?" :
			 e == EADDRNOTAVAIL ? " - that address is not on this machine" : "");
		*error_r = err;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int open_listener(struct service *svc, const char *text, bool tls,
			 const char **error_r)
{
	char setting[96];
	int fd;

	if (text[0] == '/')
		return open_unix_listener(svc, text, tls, error_r);
	snprintf(setting, sizeof(setting), "%s.%s", svc->mod->name,
		 tls ? "tls_listen" : "listen");
	if ((fd = pn_listen_tcp(setting, text, error_r)) < 0)
		return -1;
	add_listener(svc, fd, text, tls);
	return 0;
}

static void close_listener(struct listener *l)
{
	ev_io_stop(host_loop(), &l->io);
	close(l->fd);
	/* workers inherit the socket; only its maker removes the path */
	if (l->owner != 0 && l->owner == getpid())
		(void)unlink(l->addr);
	log_msg(LOG_INFO, l->svc->mod->log_tag, "stopped listening on %s", l->addr);
	free(l);
}

int service_check(const struct service *svc, const char **error_r)
{
	const struct listener_settings *ls = service_listener_settings(svc);
	static char err[160];

	if (ls->channels > 0 && ls->tls_listen.count > 0 && !tls_available()) {
		snprintf(err, sizeof(err),
			 "%s.tls_listen needs a certificate: set tls.cert (and tls.key)",
			 svc->mod->name);
		*error_r = err;
		return -1;
	}
	return 0;
}

/* Each session needs a descriptor, two while a large message streams. */
static void check_fd_limit(const struct service *svc,
			   const struct listener_settings *ls)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)ls->channels * 2 + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want)
		log_msg(LOG_WARNING, svc->mod->log_tag,
			"open files limit %llu is below what %s.channels = %u may need (%llu): raise it (ulimit -n, LimitNOFILE=) or lower channels",
			(unsigned long long)rl.rlim_cur, svc->mod->name, ls->channels,
			(unsigned long long)want);
}

int service_start(struct service *svc, const char **error_r)
{
	const struct listener_settings *ls = service_listener_settings(svc);

	if (ls->channels == 0) {
		log_msg(LOG_NOTICE, svc->mod->log_tag,
			"%s.channels = 0: not listening", svc->mod->name);
		return 0;
	}
	if (service_check(svc, error_r) < 0)
		return -1;
	check_fd_limit(svc, ls);
	for (size_t i = 0; i < ls->listen.count; i++) {
		if (open_listener(svc, ls->listen.items[i], false, error_r) < 0)
			return -1;
	}
	for (size_t i = 0; i < ls->tls_listen.count; i++) {
		if (open_listener(svc, ls->tls_listen.items[i], true, error_r) < 0)
			return -1;
	}
	return 0;
}

void service_stop_listening(struct service *svc)
{
	if (paused_svc == svc) {
		ev_timer_stop(host_loop(), &accept_pause);
		paused_svc = NULL;
	}
	while (svc->listeners != NULL) {
		struct listener *l = svc->listeners;

		svc->listeners = l->next;
		close_listener(l);
	}
}

static bool named_in(const struct setting_list *list, const char *addr)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->items[i], addr) == 0)
			return true;
	}
	return false;
}

void service_reconfigure(struct service *svc)
{
	const struct listener_settings *ls = service_listener_settings(svc);
	const struct setting_list *lists[2] = { &ls->listen, &ls->tls_listen };
	struct listener **pp = &svc->listeners;
	const char *error;

	if (host_workers() > 1) {
		/* the master holds the sockets: a worker alone must not
		 * close or add one (a closed copy would leave a port that
		 * nobody serves) */
		bool same = ls->channels > 0;
		size_t n = 0;

		for (struct listener *l = svc->listeners; l; l = l->next, n++)
			same = same && named_in(lists[l->tls], l->addr);
		if (!same || n != ls->listen.count + ls->tls_listen.count)
			log_msg(LOG_WARNING, svc->mod->log_tag,
				"listen addresses or channels = 0 changed: restart posternd to apply them (workers > 1)");
		return;
	}

	/* drop listeners no longer named (or all, with channels = 0) */
	while (*pp != NULL) {
		struct listener *l = *pp;

		if (ls->channels > 0 && named_in(lists[l->tls], l->addr)) {
			pp = &l->next;
		} else {
			*pp = l->next;
			close_listener(l);
		}
	}
	for (int tls = 0; tls < 2 && ls->channels > 0; tls++) {
		for (size_t i = 0; i < lists[tls]->count; i++) {
			const char *addr = lists[tls]->items[i];
			bool have = false;

			for (struct listener *l = svc->listeners; l; l = l->next)
				have = have || (l->tls == tls && strcmp(addr, l->addr) == 0);
			if (have)
				continue;
			if (tls && !tls_available())
				log_msg(LOG_ERROR, svc->mod->log_tag,
					"%s.tls_listen %s: no certificate (tls.cert)",
					svc->mod->name, addr);
			else if (open_listener(svc, addr, tls, &error) < 0)
				log_msg(LOG_ERROR, svc->mod->log_tag, "%s", error);
		}
	}
}

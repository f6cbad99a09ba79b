/* http.h - the web admin's HTTP server: libmicrohttpd run on posternd's
 * event loop, serving the pages in `root` and the JSON API (doc/api.md)
 * through the host's admin_request.  Background module: it serves in the
 * one process that runs background work (the only one, or worker 1), so
 * its sessions live in one process's memory. */
#ifndef PN_HTTP_H
#define PN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "postern/module.h"

#define HTTP_TAG "HTTP"
#define HTTP_LISTENERS_MAX 8

struct http_settings {
	struct setting_list listen;
	struct setting_list tls_listen;
	char *root;			/* the pages (webadmin/) */
	unsigned int channels;		/* connections at once */
	unsigned int channels_per_ip;
	unsigned int idle_timeout;	/* seconds a connection may be silent */
	unsigned int request_timeout;	/* seconds for a request's headers */
	unsigned int session_idle;	/* seconds without a request */
	unsigned int session_max;	/* seconds from login, whatever */
	uint64_t max_request_size;	/* a request body, octets */
};

extern const struct http_settings *http_set;

/* One listening address and the MHD daemon that serves it. */
struct http_listener {
	char address[128];
	int fd;
	bool tls;
	struct MHD_Daemon *daemon;
	struct pn_io *io;
	struct pn_timer *timer;
};

/* Run the daemon from the loop's next turn (after a resume). */
void http_kick(struct http_listener *l);
void http_kick_all(void);

/* http_deadline.c: http.request_timeout.  MHD's NOTIFY_CONNECTION; the
 * access handler's first call and the request's end. */
void http_conn_notify(void *cls, struct MHD_Connection *con,
		      void **socket_context, enum MHD_ConnectionNotificationCode code);
void http_conn_request_begun(struct MHD_Connection *con);
void http_conn_request_done(struct MHD_Connection *con);
void http_deadline_stop(void);

/* One request, from its first line to its end (MHD's con_cls). */
struct http_login;
struct http_req {
	struct MHD_Connection *con;
	struct http_listener *listener;
	bool tls;
	char ip[64];
	char *path;		/* the URI's path, as sent (not decoded) */
	char *query;		/* after '?', as sent; "" when none */
	char *body;
	size_t body_len;
	bool started;		/* the headers were seen */
	bool too_large;
	bool suspended;
	struct http_login *login;	/* a login being checked */
	struct http_req *next_suspended;
};

/* http_request.c: MHD's callbacks. */
void *http_req_new(void *cls, const char *uri, struct MHD_Connection *con);
enum MHD_Result http_handle(void *cls, struct MHD_Connection *con,
			    const char *url, const char *method,
			    const char *version, const char *upload_data,
			    size_t *upload_data_size, void **con_cls);
void http_req_done(void *cls, struct MHD_Connection *con, void **con_cls,
		   enum MHD_RequestTerminationCode toe);
/* At shutdown: let every suspended request end (with 503). */
void http_resume_all(void);
extern bool http_stopping;

/* Answers (http_request.c): JSON with the headers every answer gets. */
enum MHD_Result http_answer_json(struct http_req *req, unsigned int status,
				 char *json, const char *set_cookie);
enum MHD_Result http_answer_error(struct http_req *req, unsigned int status,
				  const char *text);
/* 405 with Allow: allow and the JSON error json (freed). */
enum MHD_Result http_answer_not_allowed(struct http_req *req, const char *allow,
					char *json);
void http_secure_headers(struct MHD_Response *resp);

/* http_session.c: logged-in admins. */
#define HTTP_TOKEN_LEN 64	/* hex of 32 random octets */
#define HTTP_COOKIE "postern_session"

struct http_session {
	char id[HTTP_TOKEN_LEN + 1];
	char csrf[HTTP_TOKEN_LEN + 1];
	struct admin_who who;
	double created, used;
};

/* A new session for who; NULL when no random numbers can be had. */
struct http_session *http_session_new(const struct admin_who *who);
/* The live session of this cookie value (its use time renewed), or NULL
 * with *expired_r true when it existed but timed out. */
struct http_session *http_session_find(const char *id, bool *expired_r);
void http_session_end(struct http_session *s);
/* Is token this session's CSRF token (compared in constant time)? */
bool http_session_csrf_ok(const struct http_session *s, const char *token);
void http_sessions_clear(void);

/* http_static.c: the pages. */
enum MHD_Result http_static(struct http_req *req, const char *method);

#endif

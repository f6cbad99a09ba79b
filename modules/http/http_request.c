/* http_request.c - one HTTP request: the body gathered (at most
 * http.max_request_size), then a page (http_static.c), a login, logout or
 * session question, or an API call for the host's admin_request with the
 * session's admin.  A login is checked off the loop: the request is
 * suspended until the answer - held back by the client's failure penalty
 * when it is wrong - comes. */
#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* what a login waits for; outlives its request when the server stops
 * while the password is being checked */
struct http_login {
	struct http_req *req;	/* NULL: the request is gone */
	bool done;
	enum admin_login_result result;
	struct admin_who who;
	struct pn_timer *delay;
};

static struct http_req *suspended;
bool http_stopping;

static const char json_type[] = "application/json; charset=utf-8";

void http_secure_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; object-src 'none'; "
				"frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

/* An answer with the secure headers, no-store and one more header when
 * name is not NULL. */
static enum MHD_Result answer(struct http_req *req, unsigned int status, char *json,
			      const char *name, const char *value)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (json != NULL)
		resp = MHD_create_response_from_buffer(strlen(json), json,
						       MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		free(json);
		return MHD_NO;
	}
	http_secure_headers(resp);
	if (json != NULL)
		MHD_add_response_header(resp, "Content-Type", json_type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (name != NULL)
		MHD_add_response_header(resp, name, value);
	ret = MHD_queue_response(req->con, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result http_answer_json(struct http_req *req, unsigned int status,
				 char *json, const char *set_cookie)
{
	return answer(req, status, json, set_cookie != NULL ? "Set-Cookie" : NULL, set_cookie);
}

enum MHD_Result http_answer_not_allowed(struct http_req *req, const char *allow,
					char *json)
{
	return answer(req, MHD_HTTP_METHOD_NOT_ALLOWED, json, "Allow", allow);
}

enum MHD_Result http_answer_error(struct http_req *req, unsigned int status,
				  const char *text)
{
	return http_answer_json(req, status, admin_error_json(text), NULL);
}

/* The client's address as text, an IPv4-mapped one as IPv4. */
static void client_ip(struct MHD_Connection *con, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info != NULL ? info->client_addr : NULL;

	snprintf(buf, size, "unknown");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  buf, (socklen_t)size);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6))
			inet_ntop(AF_INET, &a6->s6_addr[12], buf, (socklen_t)size);
		else
			inet_ntop(AF_INET6, a6, buf, (socklen_t)size);
	}
}

void *http_req_new(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct http_req *req = calloc(1, sizeof(*req));
	const char *q;

	if (req == NULL)
		return NULL;
	req->con = con;
	req->listener = cls;
	req->tls = req->listener->tls;
	client_ip(con, req->ip, sizeof(req->ip));
	q = strchr(uri, '?');
	req->path = q != NULL ? strndup(uri, (size_t)(q - uri)) : strdup(uri);
	req->query = strdup(q != NULL ? q + 1 : "");
	return req;
}

static void login_free(struct http_login *l)
{
	pn_timer_free(&l->delay);
	explicit_bzero(l, sizeof(*l));
	free(l);
}

void http_req_done(void *cls, struct MHD_Connection *con, void **con_cls,
		   enum MHD_RequestTerminationCode toe)
{
	struct http_req *req = *con_cls;

	(void)cls;
	(void)toe;
	http_conn_request_done(con);
	if (req == NULL)
		return;
	for (struct http_req **p = &suspended; *p != NULL; p = &(*p)->next_suspended) {
		if (*p == req) {
			*p = req->next_suspended;
			break;
		}
	}
	if (req->login != NULL) {
		if (req->login->done)
			login_free(req->login);
		else
			req->login->req = NULL;	/* the check's answer frees it */
	}
	free(req->path);
	free(req->query);
	if (req->body != NULL) {
		explicit_bzero(req->body, req->body_len);	/* a password, maybe */
		free(req->body);
	}
	free(req);
	*con_cls = NULL;
}

static void suspend(struct http_req *req)
{
	MHD_suspend_connection(req->con);
	req->suspended = true;
	req->next_suspended = suspended;
	suspended = req;
}

static void resume(struct http_req *req)
{
	for (struct http_req **p = &suspended; *p != NULL; p = &(*p)->next_suspended) {
		if (*p == req) {
			*p = req->next_suspended;
			break;
		}
	}
	req->suspended = false;
	MHD_resume_connection(req->con);
	http_kick(req->listener);
}

void http_resume_all(void)
{
	while (suspended != NULL)
		resume(suspended);
}

static void login_delay_over(void *ctx)
{
	struct http_login *l = ctx;

	if (l->req == NULL)
		login_free(l);
	else if (l->req->suspended)
		resume(l->req);
}

static void login_checked(void *ctx, enum admin_login_result res,
			  const struct admin_who *who, unsigned int delay_ms)
{
	struct http_login *l = ctx;

	if (l->req == NULL) {
		login_free(l);
		return;
	}
	l->done = true;
	l->result = res;
	if (who != NULL)
		l->who = *who;
	if (delay_ms > 0 && !http_stopping) {
		l->delay = pn_timer_new(login_delay_over, l);
		pn_timer_start(l->delay, delay_ms / 1000.0);
		return;
	}
	if (l->req->suspended)
		resume(l->req);
}

static void cookie(char *buf, size_t size, const struct http_req *req,
		   const char *value, bool end)
{
	snprintf(buf, size, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", HTTP_COOKIE,
		 value, req->tls ? "; Secure" : "", end ? "; Max-Age=0" : "");
}

/* The login's answer, once it is known. */
static enum MHD_Result login_answer(struct http_req *req)
{
	struct http_login *l = req->login;
	struct http_session *s;
	char set[256];

	if (!l->done)	/* resumed before its answer: cannot happen */
		return http_answer_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
					 "the login was not checked: try again");
	if (l->result == ADMIN_LOGIN_TEMPFAIL)
		return http_answer_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
					 "the server cannot check logins now: try again soon");
	if (l->result != ADMIN_LOGIN_OK)
		return http_answer_error(req, MHD_HTTP_UNAUTHORIZED, "wrong user name or password");
	if ((s = http_session_new(&l->who)) == NULL)
		return http_answer_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
					 "no random numbers for a session: try again");
	cookie(set, sizeof(set), req, s->id, false);
	return http_answer_json(req, MHD_HTTP_OK, admin_session_json(&s->who, s->csrf), set);
}

static enum MHD_Result login_start(struct http_req *req)
{
	char user[ADDRESS_MAX + 1], password[1024], *error;
	struct http_login *l;

	if (admin_login_parse(req->body, req->body_len, user, sizeof(user), password,
			      sizeof(password), &error) < 0)
		return http_answer_json(req, MHD_HTTP_BAD_REQUEST, error, NULL);
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		explicit_bzero(password, sizeof(password));
		return MHD_NO;
	}
	l->req = req;
	req->login = l;
	/* the answer may come at once (a store fault, no verification
	 * threads): suspended only when it has not */
	admin_login_check(user, password, req->ip, login_checked, l);
	explicit_bzero(password, sizeof(password));
	if (l->done && l->delay == NULL)
		return login_answer(req);
	suspend(req);
	return MHD_YES;
}

/* The session the request's cookie names, or NULL with the answer (401)
 * queued in *ret. */
static struct http_session *session_of(struct http_req *req, enum MHD_Result *ret)
{
	const char *id = MHD_lookup_connection_value(req->con, MHD_COOKIE_KIND, HTTP_COOKIE);
	struct http_session *s;
	const char *error;
	bool expired;

	if ((s = http_session_find(id, &expired)) == NULL) {
		*ret = http_answer_error(req, MHD_HTTP_UNAUTHORIZED,
					 expired ? "your session has expired: log in again" :
					 "log in first");
		return NULL;
	}
	/* rights are read again on every request: one taken away counts now */
	if (admin_who_refresh(&s->who, &error) < 0) {
		log_msg(LOG_NOTICE, HTTP_TAG, "[%s] session of %s ended: %s", req->ip,
			s->who.user, error);
		http_session_end(s);
		*ret = http_answer_error(req, MHD_HTTP_UNAUTHORIZED,
					 "your admin right is gone: log in again");
		return NULL;
	}
	return s;
}

static bool is_change(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static enum MHD_Result api(struct http_req *req, const char *method)
{
	const char *path = req->path + strlen("/api/"), *token;
	struct admin_answer ans;
	struct http_session *s;
	enum MHD_Result ret;
	char set[256];

	if (strcmp(path, "login") == 0) {
		if (strcmp(method, "POST") != 0)
			return http_answer_not_allowed(req, "POST",
						       admin_error_json("log in with POST"));
		return req->login != NULL ? login_answer(req) : login_start(req);
	}
	if ((s = session_of(req, &ret)) == NULL)
		return ret;
	if (strcmp(path, "session") == 0) {
		if (strcmp(method, "GET") != 0)
			return http_answer_not_allowed(req, "GET",
						       admin_error_json("ask for the session with GET"));
		return http_answer_json(req, MHD_HTTP_OK, admin_session_json(&s->who, s->csrf),
					NULL);
	}
	token = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND, "X-CSRF-Token");
	if (is_change(method) && !http_session_csrf_ok(s, token)) {
		log_msg(LOG_NOTICE, HTTP_TAG, "[%s] %s %s by %s refused: no or a wrong CSRF token",
			req->ip, method, req->path, s->who.user);
		return http_answer_error(req, MHD_HTTP_FORBIDDEN,
					 "a change needs the session's token in X-CSRF-Token");
	}
	if (strcmp(path, "logout") == 0) {
		if (strcmp(method, "POST") != 0)
			return http_answer_not_allowed(req, "POST",
						       admin_error_json("log out with POST"));
		log_msg(LOG_INFO, HTTP_TAG, "[%s] admin %s logged out", req->ip, s->who.user);
		http_session_end(s);
		cookie(set, sizeof(set), req, "", true);
		return http_answer_json(req, MHD_HTTP_NO_CONTENT, NULL, set);
	}
	admin_request(&s->who, method, path, req->query, req->body, req->body_len, &ans);
	log_msg(LOG_DEBUG, HTTP_TAG, "[%s] %s %s %s -> %d", req->ip, s->who.user, method,
		req->path, ans.status);
	if (ans.status == MHD_HTTP_METHOD_NOT_ALLOWED && ans.allow[0] != '\0')
		return http_answer_not_allowed(req, ans.allow, ans.json);
	return http_answer_json(req, (unsigned int)ans.status, ans.json, NULL);
}

/* Bodies are JSON: a form or text/plain (what a page of another site can
 * send without asking) is refused before anything reads it. */
static bool json_body(struct http_req *req)
{
	const char *type = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/json");

	return type != NULL && strncasecmp(type, "application/json", n) == 0 &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

enum MHD_Result http_handle(void *cls, struct MHD_Connection *con,
			    const char *url, const char *method,
			    const char *version, const char *upload_data,
			    size_t *upload_data_size, void **con_cls)
{
	struct http_req *req = *con_cls;

	(void)cls;
	(void)url;
	(void)version;
	if (req == NULL)
		return MHD_NO;	/* no memory for it at its start */
	if (http_stopping)
		return http_answer_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
					 "the server is shutting down");
	(void)con;
	if (!req->started) {
		/* the headers: a body announced too large is refused unread */
		const char *len = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_CONTENT_LENGTH);
		uint64_t n;

		req->started = true;
		http_conn_request_begun(con);
		if (len != NULL && (str_to_uint64(len, &n) < 0 ||
				    n > http_set->max_request_size))
			req->too_large = true;
		else
			return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (req->too_large || req->body_len + n > http_set->max_request_size) {
			req->too_large = true;
			return MHD_YES;	/* read to the end, then refused */
		}
		char *grown = realloc(req->body, req->body_len + n + 1);

		if (grown == NULL)
			return MHD_NO;
		req->body = grown;
		memcpy(req->body + req->body_len, upload_data, n);
		req->body_len += n;
		req->body[req->body_len] = '\0';
		return MHD_YES;
	}
	if (req->login != NULL)
		return login_answer(req);
	if (req->too_large) {
		char text[128];

		snprintf(text, sizeof(text), "the request is larger than %llu octets",
			 (unsigned long long)http_set->max_request_size);
		return http_answer_error(req, MHD_HTTP_CONTENT_TOO_LARGE, text);
	}
	if (strncmp(req->path, "/api/", 5) != 0)
		return http_static(req, method);
	if (req->body_len > 0 && !json_body(req))
		return http_answer_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
					 "send the body as Content-Type: application/json");
	return api(req, method);
}

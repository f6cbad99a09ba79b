/* http_session.c - the web admin's sessions: a random id in an HttpOnly
 * cookie, a second random token the pages send back in X-CSRF-Token with
 * every change, an idle and an absolute lifetime.  Kept in memory (the one
 * serving process's): a restart logs everyone out.  At most SESSIONS_MAX;
 * the one used longest ago makes room for a new login. */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define SESSIONS_MAX 256

static struct http_session sessions[SESSIONS_MAX];

static bool random_hex(char *out, size_t hexlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[HTTP_TOKEN_LEN / 2];
	size_t n = hexlen / 2;

	if (n > sizeof(raw) || getrandom(raw, n, 0) != (ssize_t)n)
		return false;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[hexlen] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return true;
}

static bool live(const struct http_session *s, double now)
{
	return s->id[0] != '\0' && now - s->used <= http_set->session_idle &&
	       now - s->created <= http_set->session_max;
}

struct http_session *http_session_new(const struct admin_who *who)
{
	struct http_session *s = NULL;
	double now = pn_now();

	/* a free or expired slot, else the one idle longest */
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		if (!live(&sessions[i], now)) {
			s = &sessions[i];
			break;
		}
		if (s == NULL || sessions[i].used < s->used)
			s = &sessions[i];
	}
	if (live(s, now))
		log_msg(LOG_NOTICE, HTTP_TAG, "%d sessions at once: %s's, idle longest, ends",
			SESSIONS_MAX, s->who.user);
	memset(s, 0, sizeof(*s));
	if (!random_hex(s->id, HTTP_TOKEN_LEN) || !random_hex(s->csrf, HTTP_TOKEN_LEN)) {
		memset(s, 0, sizeof(*s));
		return NULL;
	}
	s->who = *who;
	s->created = s->used = now;
	return s;
}

/* Equal strings of HTTP_TOKEN_LEN, in time that does not depend on where
 * they differ. */
static bool token_equal(const char *a, const char *b)
{
	unsigned char diff = 0;

	if (b == NULL || strlen(b) != HTTP_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < HTTP_TOKEN_LEN; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

struct http_session *http_session_find(const char *id, bool *expired_r)
{
	double now = pn_now();

	*expired_r = false;
	if (id == NULL || strlen(id) != HTTP_TOKEN_LEN)
		return NULL;
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		struct http_session *s = &sessions[i];

		if (s->id[0] == '\0' || !token_equal(s->id, id))
			continue;
		if (!live(s, now)) {
			*expired_r = true;
			memset(s, 0, sizeof(*s));
			return NULL;
		}
		s->used = now;
		return s;
	}
	return NULL;
}

bool http_session_csrf_ok(const struct http_session *s, const char *token)
{
	return token_equal(s->csrf, token);
}

void http_session_end(struct http_session *s)
{
	explicit_bzero(s, sizeof(*s));
}

void http_sessions_clear(void)
{
	explicit_bzero(sessions, sizeof(sessions));
}

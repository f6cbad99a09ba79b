/* store_queue_record.c - a relay queue entry in memory and as a record:
 * the checks every entry passes, stored or new, and the record's layout
 * with its bounds. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "mail/submission.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_queue.h"

/* Whatever a submission may carry, an entry can hold. */
_Static_assert(QUEUE_RCPT_MAX >= SUBMISSION_RCPT_MAX,
	       "a submission's recipients must fit in a queue entry");
_Static_assert(QUEUE_ADDRESS_MAX >= SUBMISSION_ADDRESS_MAX,
	       "a submission's addresses must fit in a queue entry");

/* Record version 1, in this order (integers in host order, as record.h
 * writes them; strings u32 length + octets):
 *   u8 version, u64 created, u64 next_attempt, u32 attempts,
 *   str sender, str account, str client_ip, 16 octets body id,
 *   u64 body size, u32 recipient count, then per recipient:
 *   str address, u8 state, u32 reply code, str enhanced, str reply,
 *   str remote MTA, u64 last attempt.
 * The id is the key only. */
#define QUEUE_REC_V1 1

#define REC_STR(n) (4 + (n))
#define QUEUE_REC_HEAD_MAX (1 + 8 + 8 + 4 + REC_STR(QUEUE_ADDRESS_MAX) + \
			    REC_STR(ADDRESS_MAX) + REC_STR(IP_TEXT_MAX) + \
			    BODY_ID_LEN + 8 + 4)
#define QUEUE_REC_RCPT_MAX (REC_STR(QUEUE_ADDRESS_MAX) + 1 + 4 + \
			    REC_STR(QUEUE_ENHANCED_MAX) + \
			    REC_STR(QUEUE_REPLY_MAX) + \
			    REC_STR(QUEUE_REMOTE_MTA_MAX) + 8)
/* The largest record an entry within the limits makes, some 1 MiB:
 * LMDB keeps it in overflow pages, and only an entry near every limit
 * makes the rewrite of each update costly.  Nothing valid exceeds it. */
#define QUEUE_REC_MAX (QUEUE_REC_HEAD_MAX + \
		       (size_t)QUEUE_RCPT_MAX * QUEUE_REC_RCPT_MAX)
/* A recipient's smallest encoding: four empty strings and the numbers. */
#define QUEUE_REC_RCPT_MIN (4 * 4 + 1 + 4 + 8)

/* ---- entries in memory ---- */

void store_queue_entry_init(struct queue_entry *e, size_t rcpt_count)
{
	memset(e, 0, sizeof(*e));
	e->rcpt_count = rcpt_count;
	if (rcpt_count > 0)
		e->rcpts = xcalloc(rcpt_count, sizeof(*e->rcpts));
}

void store_queue_entry_free(struct queue_entry *e)
{
	free(e->rcpts);
	e->rcpts = NULL;
	e->rcpt_count = 0;
}

void store_queue_summarize(const struct queue_entry *e,
			   struct queue_summary *s_r)
{
	memset(s_r, 0, sizeof(*s_r));
	s_r->id = e->id;
	memcpy(s_r->body_id, e->body_id, BODY_ID_LEN);
	s_r->total = e->rcpt_count;
	for (size_t i = 0; i < e->rcpt_count; i++) {
		switch (e->rcpts[i].state) {
		case QUEUE_RCPT_PENDING:
			s_r->pending++;
			break;
		case QUEUE_RCPT_DONE:
			s_r->done++;
			break;
		case QUEUE_RCPT_FAILED:
			s_r->failed++;
			break;
		}
	}
}

bool queue_has_pending(const struct queue_entry *e)
{
	for (size_t i = 0; i < e->rcpt_count; i++) {
		if (e->rcpts[i].state == QUEUE_RCPT_PENDING)
			return true;
	}
	return false;
}

/* Reply text as it is stored: what a remote server says goes into bounces,
 * logs and an admin's terminal, so only printable ASCII is kept. */
static size_t clean_text(char *out, size_t size, const char *text, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c > 0x7e)
			c = '?';
		out[i] = (char)c;
	}
	out[n] = '\0';
	return n;
}

/* RFC 3463: class "." subject "." detail; class 2, 4 or 5, the others 1-3
 * digits. */
static bool enhanced_valid(const char *s)
{
	size_t n;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	s += 2;
	for (int part = 0; part < 2; part++) {
		n = strspn(s, "0123456789");
		if (n < 1 || n > 3)
			return false;
		s += n;
		if (part == 0 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

void queue_rcpt_set_reply(struct queue_rcpt *rcpt, const char *remote_mta,
			  uint16_t code, const char *enhanced,
			  const char *text, size_t len)
{
	if (remote_mta == NULL)
		remote_mta = "";
	clean_text(rcpt->remote_mta, sizeof(rcpt->remote_mta), remote_mta,
		   strlen(remote_mta));
	rcpt->reply_code = code >= 200 && code <= 599 ? code : 0;
	rcpt->enhanced[0] = '\0';
	if (enhanced != NULL && strlen(enhanced) <= QUEUE_ENHANCED_MAX &&
	    enhanced_valid(enhanced))
		memcpy(rcpt->enhanced, enhanced, strlen(enhanced) + 1);
	clean_text(rcpt->reply, sizeof(rcpt->reply), text != NULL ? text : "",
		   text != NULL ? len : 0);
}

/* ---- checking ---- */

/* A string field: NUL-terminated within its array, without control
 * characters (a CR or LF in an address would reach the SMTP dialogue). */
static bool field_ok(const char *s, size_t size, bool printable_only)
{
	size_t len = strnlen(s, size);

	if (len == size)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (printable_only && c > 0x7e))
			return false;
	}
	return true;
}

/* Reply text and remote MTA: anything is cleaned on the way in
 * (clean_text), but stored text that is not clean is damage. */
static bool reply_ok(const char *s, size_t size, bool stored)
{
	if (stored)
		return field_ok(s, size, true);
	return strnlen(s, size) < size;
}

/* What is wrong with an entry, into why (NULL: nothing).  `stored`: it
 * was read from the store, where the reply text is already clean. */
const char *queue_entry_problem(const struct queue_entry *e, bool stored,
				 char *why, size_t size)
{
	if (e->rcpt_count == 0)
		return "no recipients";
	if (e->rcpt_count > QUEUE_RCPT_MAX) {
		snprintf(why, size, "%zu recipients (at most %d)",
			 e->rcpt_count, QUEUE_RCPT_MAX);
		return why;
	}
	if (!field_ok(e->sender, sizeof(e->sender), false))
		return "invalid sender address";
	if (!field_ok(e->account, sizeof(e->account), false))
		return "invalid account name";
	if (!field_ok(e->client_ip, sizeof(e->client_ip), true))
		return "invalid client IP";
	for (size_t i = 0; i < e->rcpt_count; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		if (r->address[0] == '\0' ||
		    !field_ok(r->address, sizeof(r->address), false))
			snprintf(why, size, "recipient %zu: invalid address",
				 i + 1);
		else if (r->state != QUEUE_RCPT_PENDING &&
			 r->state != QUEUE_RCPT_DONE &&
			 r->state != QUEUE_RCPT_FAILED)
			snprintf(why, size, "recipient %s: unknown state %d",
				 r->address, (int)r->state);
		else if (r->reply_code != 0 &&
			 (r->reply_code < 200 || r->reply_code > 599))
			snprintf(why, size, "recipient %s: reply code %u is not 200..599",
				 r->address, r->reply_code);
		else if (!field_ok(r->enhanced, sizeof(r->enhanced), true) ||
			 (r->enhanced[0] != '\0' &&
			  !enhanced_valid(r->enhanced)))
			snprintf(why, size, "recipient %s: enhanced status is not of the form 4.4.1",
				 r->address);
		else if (!reply_ok(r->reply, sizeof(r->reply), stored))
			snprintf(why, size, "recipient %s: invalid reply text",
				 r->address);
		else if (!reply_ok(r->remote_mta, sizeof(r->remote_mta),
				   stored))
			snprintf(why, size, "recipient %s: invalid remote MTA",
				 r->address);
		else
			continue;
		return why;
	}
	return NULL;
}

/* ---- records ---- */

int queue_entry_encode(struct rec_buf *w, const struct queue_entry *e)
{
	char text[QUEUE_REPLY_MAX + 1], mta[QUEUE_REMOTE_MTA_MAX + 1];

	rec_buf_init(w, QUEUE_REC_V1, QUEUE_REC_MAX);
	rec_buf_put_u64(w, e->created);
	rec_buf_put_u64(w, e->next_attempt);
	rec_buf_put_u32(w, e->attempts);
	rec_buf_put_str(w, e->sender);
	rec_buf_put_str(w, e->account);
	rec_buf_put_str(w, e->client_ip);
	rec_buf_put_bytes(w, e->body_id, BODY_ID_LEN);
	rec_buf_put_u64(w, e->body_size);
	rec_buf_put_u32(w, (uint32_t)e->rcpt_count);
	for (size_t i = 0; i < e->rcpt_count; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		rec_buf_put_str(w, r->address);
		rec_buf_put_u8(w, (uint8_t)r->state);
		rec_buf_put_u32(w, r->reply_code);
		rec_buf_put_str(w, r->enhanced);
		clean_text(text, sizeof(text), r->reply, strlen(r->reply));
		rec_buf_put_str(w, text);
		clean_text(mta, sizeof(mta), r->remote_mta,
			   strlen(r->remote_mta));
		rec_buf_put_str(w, mta);
		rec_buf_put_u64(w, r->last_attempt);
	}
	if (w->overflow) {
		/* the checks bound every field, so this is a bug of ours */
		rec_buf_free(w);
		return store_fail("queue entry %llu does not fit in %zu octets",
				  (unsigned long long)e->id,
				  (size_t)QUEUE_REC_MAX);
	}
	return 0;
}

static int corrupt(uint64_t id, const char *why)
{
	return store_fail("corrupt queue record %llu: %s - remove it with posternctl queue del %llu",
			  (unsigned long long)id, why, (unsigned long long)id);
}

int queue_entry_decode(uint64_t id, const MDB_val *val, struct queue_entry *e)
{
	struct rec_reader r;
	char why[QUEUE_WHY_MAX];
	const char *problem;
	uint32_t count;

	memset(e, 0, sizeof(*e));
	e->id = id;
	rec_read_init(&r, val->mv_data, val->mv_size);
	if (rec_get_u8(&r) != QUEUE_REC_V1)
		return corrupt(id, "unknown version");
	e->created = rec_get_u64(&r);
	e->next_attempt = rec_get_u64(&r);
	e->attempts = rec_get_u32(&r);
	rec_get_str(&r, e->sender, sizeof(e->sender));
	rec_get_str(&r, e->account, sizeof(e->account));
	rec_get_str(&r, e->client_ip, sizeof(e->client_ip));
	rec_get_bytes(&r, e->body_id, BODY_ID_LEN);
	e->body_size = rec_get_u64(&r);
	count = rec_get_u32(&r);
	if (r.bad)
		return corrupt(id, "truncated");
	/* a damaged count must not make us allocate what the record cannot
	 * hold */
	if (count == 0 || count > QUEUE_RCPT_MAX ||
	    count > (r.len - r.off) / QUEUE_REC_RCPT_MIN)
		return corrupt(id, "bad recipient count");
	e->rcpts = xcalloc(count, sizeof(*e->rcpts));
	e->rcpt_count = count;
	problem = NULL;
	for (uint32_t i = 0; i < count && !r.bad && problem == NULL; i++) {
		struct queue_rcpt *rc = &e->rcpts[i];
		uint8_t state;
		uint32_t code;

		rec_get_str(&r, rc->address, sizeof(rc->address));
		/* checked before they become an enum and a uint16_t */
		state = rec_get_u8(&r);
		code = rec_get_u32(&r);
		if (state > QUEUE_RCPT_FAILED)
			problem = "unknown recipient state";
		else if (code > 599)
			problem = "bad reply code";
		rc->state = (enum queue_rcpt_state)state;
		rc->reply_code = (uint16_t)code;
		rec_get_str(&r, rc->enhanced, sizeof(rc->enhanced));
		rec_get_str(&r, rc->reply, sizeof(rc->reply));
		rec_get_str(&r, rc->remote_mta, sizeof(rc->remote_mta));
		rc->last_attempt = rec_get_u64(&r);
	}
	if (problem == NULL && r.bad)
		problem = "truncated";
	if (problem == NULL && r.off != r.len)
		problem = "trailing data";
	/* what was read goes through the checks of a new entry */
	if (problem == NULL)
		problem = queue_entry_problem(e, true, why, sizeof(why));
	if (problem != NULL) {
		int rc = corrupt(id, problem);

		store_queue_entry_free(e);
		return rc;
	}
	return 0;
}

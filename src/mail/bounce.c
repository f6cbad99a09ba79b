/* bounce.c - telling a sender that the relay gave up (module API
 * queue_bounce): the DSN of mail/dsn.c, delivered into the sender's INBOX
 * through local delivery with the null return path (RFC 5321 4.5.5: a
 * bounce is never bounced). */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mail/dsn.h"
#include "mail/submission.h"
#include "store/body.h"
#include "store/store_queue.h"

/* The original's header and a little more: what the bounce quotes. */
#define BOUNCE_ORIGINAL_MAX (SUBMISSION_HEADER_MAX + 4096)
/* The bounce: the quoted header, and a few KiB per recipient. */
#define BOUNCE_MAX (BOUNCE_ORIGINAL_MAX + QUEUE_RCPT_MAX * 4096)

struct bounce {
	struct delivery *d;
	bounce_done_fn *done;
	void *ctx;
};

static const char *hostname(void)
{
	static char name[256];

	if (name[0] == '\0' && (gethostname(name, sizeof(name) - 1) < 0 ||
				name[0] == '\0'))
		snprintf(name, sizeof(name), "localhost");
	return name;
}

/* Where the header ends (after its empty line) in b, or 0. */
static size_t header_end(const struct buf *b)
{
	const char *p = b->len > 0 ? memmem(b->data, b->len, "\r\n\r\n", 4) : NULL;

	return p != NULL ? (size_t)(p - b->data) + 4 : 0;
}

static void stored(void *ctx, unsigned int delivered)
{
	struct bounce *b = ctx;
	const char *error = NULL;

	if (delivered == 0)
		(void)delivery_result(b->d, 0, &error);
	b->done(b->ctx, delivered > 0 ? NULL : (error && *error ? error : "not delivered"));
	delivery_free(&b->d);
	free(b);
}

/* The original header (up to its empty line), read from the queue file. */
static int read_original(const struct queue_entry *e, struct buf *out,
			 const char **error_r)
{
	char chunk[16384];
	off_t off = 0;
	int fd;

	if (queue_body_open(e, &fd) < 0) {
		*error_r = "the queued message cannot be read";
		return -1;
	}
	while (out->len < BOUNCE_ORIGINAL_MAX) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
		if (buf_append(out, chunk, (size_t)n) < 0)
			break;
		if (header_end(out) > 0)
			break;
	}
	close(fd);
	return 0;
}

void queue_bounce(const struct queue_entry *e, const bool *failed,
		  bounce_done_fn *done, void *ctx)
{
	struct dsn_recipient *rcpts = xcalloc(e->rcpt_count, sizeof(*rcpts));
	char (*diag)[QUEUE_REPLY_MAX + 32] = xcalloc(e->rcpt_count, sizeof(*diag));
	char (*status)[QUEUE_ENHANCED_MAX + 1] = xcalloc(e->rcpt_count, sizeof(*status));
	char id[32];
	struct dsn_message m;
	struct buf original, report;
	struct bounce *b;
	const char *error;
	size_t n = 0, end;

	buf_init(&original, BOUNCE_ORIGINAL_MAX + 16384);
	buf_init(&report, BOUNCE_MAX);
	for (size_t i = 0; i < e->rcpt_count; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		if (!failed[i])
			continue;
		/* a DSN needs a status.  A temporary failure (class 4) fails
		 * only when it outlasted the queue time: 4.4.7, delivery time
		 * expired (RFC 3463), its last reply the diagnostic.  A reply
		 * without a status gives its class (a failure without a code
		 * is a permanent one of ours) */
		if (r->enhanced[0] != '\0' ? r->enhanced[0] == '4' :
		    r->reply_code >= 400 && r->reply_code < 500)
			snprintf(status[n], sizeof(status[n]), "4.4.7");
		else if (r->enhanced[0] != '\0')
			snprintf(status[n], sizeof(status[n]), "%s", r->enhanced);
		else
			snprintf(status[n], sizeof(status[n]), "5.0.0");
		snprintf(diag[n], sizeof(diag[n]), "%u %s%s%s", r->reply_code,
			 r->enhanced, r->enhanced[0] ? " " : "", r->reply);
		rcpts[n].address = r->address;
		rcpts[n].status = status[n];
		rcpts[n].remote_mta = r->remote_mta[0] ? r->remote_mta : NULL;
		/* a server's reply as it gave it; otherwise our own reason */
		rcpts[n].diagnostic = r->reply_code != 0 ? diag[n] :
				      r->reply[0] ? r->reply : NULL;
		rcpts[n].diagnostic_type = r->reply_code != 0 ? DSN_DIAG_SMTP :
					   DSN_DIAG_LOCAL;
		rcpts[n].last_attempt = (time_t)r->last_attempt;
		n++;
	}
	if (n == 0 || read_original(e, &original, &error) < 0) {
		if (n == 0)
			error = "nobody to bounce for";
		goto fail;
	}
	if ((end = header_end(&original)) > 0)
		original.len = end;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)e->id);
	memset(&m, 0, sizeof(m));
	m.reporting_mta = hostname();
	m.sender = e->sender;
	m.queue_id = id;
	m.arrival = (time_t)e->created;
	m.now = time(NULL);
	m.original = original.data;
	m.original_len = original.len;
	if (dsn_build(&m, rcpts, n, &report, &error) < 0)
		goto fail;

	b = xcalloc(1, sizeof(*b));
	b->done = done;
	b->ctx = ctx;
	b->d = delivery_new("", NULL, report.len + 1024);
	if (delivery_add_recipient(b->d, e->sender, report.len, &error) != DELIVERY_OK ||
	    delivery_data_begin(b->d, &error) != DELIVERY_OK) {
		delivery_free(&b->d);
		free(b);
		goto fail;
	}
	delivery_data_write(b->d, report.data, report.len);
	free(rcpts);
	free(diag);
	free(status);
	buf_free(&original);
	buf_free(&report);
	delivery_data_finish(b->d, stored, b);
	return;
fail:
	free(rcpts);
	free(diag);
	free(status);
	buf_free(&original);
	buf_free(&report);
	done(ctx, error);
}

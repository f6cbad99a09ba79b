/* relay_local.c - a queue entry's local recipients (this server's
 * accounts) get the message through the host's local delivery, as LMTP
 * mail does: the Router, Return-Path and X-Real-To, the quota. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

struct local_part {
	struct relay_job *job;
	struct delivery *d;
	size_t *index;		/* delivery recipient -> queue recipient */
	unsigned int count;
};

static void part_free(struct local_part *p)
{
	delivery_free(&p->d);
	free(p->index);
	free(p);
}

static void outcome(struct relay_job *job, size_t i, enum delivery_status st,
		    const char *error)
{
	switch (st) {
	case DELIVERY_OK:
		relay_rcpt_outcome(job, i, NULL, 250, false, "2.0.0", "delivered to this server's mailbox");
		break;
	case DELIVERY_UNKNOWN:
		relay_rcpt_outcome(job, i, NULL, 550, false, "5.1.1", error);
		break;
	case DELIVERY_BAD_ADDRESS:
		relay_rcpt_outcome(job, i, NULL, 553, false, "5.1.3", error);
		break;
	case DELIVERY_OVER_QUOTA:
		if (delivery_quota_temporary())
			relay_rcpt_outcome(job, i, NULL, 452, false, "4.2.2", error);
		else
			relay_rcpt_outcome(job, i, NULL, 552, false, "5.2.2", error);
		break;
	case DELIVERY_TOO_BIG:
		relay_rcpt_outcome(job, i, NULL, 552, false, "5.3.4", error);
		break;
	case DELIVERY_DISABLED:
		relay_rcpt_outcome(job, i, NULL, 550, false, "5.2.1", error);
		break;
	case DELIVERY_BAD_MESSAGE:
		relay_rcpt_outcome(job, i, NULL, 554, false, "5.6.0", error);
		break;
	case DELIVERY_TEMPFAIL:
		relay_rcpt_outcome(job, i, NULL, 451, false, "4.3.0", error);
		break;
	}
}

static void stored(void *ctx, unsigned int delivered)
{
	struct local_part *p = ctx;
	const char *error;

	(void)delivered;
	for (unsigned int k = 0; k < p->count; k++) {
		enum delivery_status st = delivery_result(p->d, k, &error);

		outcome(p->job, p->index[k], st, error);
	}
	relay_job_part_done(p->job);
	part_free(p);
}

/* The recipients the delivery took get one temporary failure; the part
 * is over. */
static void all_deferred(struct local_part *p, const char *why)
{
	struct relay_job *job = p->job;

	for (unsigned int k = 0; k < p->count; k++)
		relay_rcpt_outcome(job, p->index[k], NULL, 451, false, "4.3.0", why);
	part_free(p);
	relay_job_part_done(job);
}

void relay_local_start(struct relay_job *job)
{
	struct local_part *p = calloc(1, sizeof(*p));
	char buf[65536];
	const char *error;
	off_t off = 0;
	int fd;

	if (p == NULL || (p->index = calloc(job->e.rcpt_count, sizeof(*p->index))) == NULL) {
		/* nothing routed yet: they stay pending, retried later */
		free(p);
		relay_job_part_done(job);
		return;
	}
	p->job = job;
	p->d = delivery_new(job->e.sender, NULL, job->e.body_size + 1);
	for (size_t i = 0; i < job->e.rcpt_count; i++) {
		enum delivery_status st;

		if (job->route[i] != RCPT_LOCAL)
			continue;
		st = delivery_add_recipient(p->d, job->e.rcpts[i].address,
					    job->e.body_size, &error);
		if (st == DELIVERY_OK)
			p->index[p->count++] = i;
		else
			outcome(job, i, st, error);
	}
	if (p->count == 0) {
		part_free(p);
		relay_job_part_done(job);
		return;
	}
	if (queue_body_open(&job->e, &fd) < 0) {
		all_deferred(p, "the queued message cannot be read");
		return;
	}
	if (delivery_data_begin(p->d, &error) != DELIVERY_OK) {
		close(fd);
		all_deferred(p, error);
		return;
	}
	/* the file is on this disk, most likely in the page cache */
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		delivery_data_write(p->d, buf, (size_t)n);
		off += n;
	}
	close(fd);
	if ((uint64_t)off != job->e.body_size) {
		delivery_data_abort(p->d);
		all_deferred(p, "the queued message is shorter than its record");
		return;
	}
	delivery_data_finish(p->d, stored, p);
}

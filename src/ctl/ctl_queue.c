/* ctl_queue.c - posternctl queue list|show|flush|del: the relay queue as an
 * admin sees it (store_queue.h).  The relay in posternd polls the queue
 * every second, so a flush here is how an admin makes it try at once. */
#include "build-config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "lib/strnum.h"
#include "store/body.h"
#include "store/store.h"
#include "store/store_queue.h"

/* The last error as `queue list` shows it: enough to tell a timeout from
 * a refusal; `queue show` has the whole text. */
#define LIST_ERROR_MAX 60

/* "45s", "4m", "3h", "2d": the largest unit, rounded down. */
static void span(uint64_t secs, char *buf, size_t size)
{
	if (secs < 60)
		snprintf(buf, size, "%llus", (unsigned long long)secs);
	else if (secs < 3600)
		snprintf(buf, size, "%llum", (unsigned long long)(secs / 60));
	else if (secs < 86400)
		snprintf(buf, size, "%lluh", (unsigned long long)(secs / 3600));
	else
		snprintf(buf, size, "%llud",
			 (unsigned long long)(secs / 86400));
}

/* When the relay tries the entry next, from now: "now", "in 4m", or "-"
 * when nothing is pending. */
static void next_text(const struct queue_entry *e,
		      const struct queue_summary *s, uint64_t now, char *buf,
		      size_t size)
{
	char t[32];

	if (s->pending == 0)
		snprintf(buf, size, "-");
	else if (e->next_attempt <= now)
		snprintf(buf, size, "now");
	else {
		span(e->next_attempt - now, t, sizeof(t));
		snprintf(buf, size, "in %s", t);
	}
}

/* The last reply, or "-" when there is none yet. */
static void reply_text(const struct queue_rcpt *r, char *buf, size_t size)
{
	queue_rcpt_reply_text(r, buf, size);
	if (buf[0] == '\0')
		snprintf(buf, size, "-");
}

/* The reply about the pending recipient tried last, cut to fit a line. */
static void last_error(const struct queue_entry *e, char *buf, size_t size)
{
	const struct queue_rcpt *last = queue_entry_last_problem(e);
	char text[QUEUE_REPLY_MAX + 32];

	if (last == NULL) {
		snprintf(buf, size, "-");
		return;
	}
	reply_text(last, text, sizeof(text));
	if (strlen(text) > LIST_ERROR_MAX)
		snprintf(buf, size, "%.*s...", LIST_ERROR_MAX - 3, text);
	else
		snprintf(buf, size, "%s", text);
}

static const char *sender_text(const char *sender)
{
	return sender[0] != '\0' ? sender : "<>";
}

/* ID: a queue id as `queue list` shows it, or an exit code with the
 * message printed. */
static int parse_id(const char *arg, uint64_t *id_r)
{
	if (str_to_uint64(arg, id_r) < 0 || *id_r == 0)
		return ctl_error(EX_DATAERR,
				 "invalid queue id '%s': a number, as queue list shows it",
				 arg);
	return 0;
}

struct list_ctx {
	uint64_t now;
	unsigned int count;
};

static void print_entry(const struct queue_entry *e,
			const struct queue_summary *s, void *vctx)
{
	struct list_ctx *ctx = vctx;
	char age[32], next[48], rcpts[32], err[LIST_ERROR_MAX + 1];

	/* the header only above entries: an empty queue prints nothing, as
	 * the other list commands do */
	if (ctx->count++ == 0)
		printf("%-8s %5s %10s %-30s %-9s %-7s %s\n", "ID", "AGE",
		       "SIZE", "SENDER", "RCPTS", "NEXT", "LAST ERROR");
	span(e->created < ctx->now ? ctx->now - e->created : 0, age,
	     sizeof(age));
	next_text(e, s, ctx->now, next, sizeof(next));
	snprintf(rcpts, sizeof(rcpts), "%zu/%zu", s->pending, s->total);
	last_error(e, err, sizeof(err));
	printf("%-8llu %5s %10llu %-30s %-9s %-7s %s\n",
	       (unsigned long long)e->id, age, (unsigned long long)e->body_size,
	       sender_text(e->sender), rcpts, next, err);
}

int ctl_queue_list(int argc, char **argv)
{
	struct list_ctx ctx = { .now = (uint64_t)time(NULL) };
	const char *error;

	(void)argv;
	if (argc != 0)
		return ctl_error(EX_USAGE, "usage: queue list");
	if (store_queue_list(print_entry, &ctx, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	return 0;
}

static void print_rcpt(const struct queue_rcpt *r)
{
	static const char *const states[] = {
		[QUEUE_RCPT_PENDING] = "pending",
		[QUEUE_RCPT_DONE] = "done",
		[QUEUE_RCPT_FAILED] = "failed",
	};
	char when[32], reply[QUEUE_REPLY_MAX + 32];

	ctl_utc_text(r->last_attempt, "-", when, sizeof(when));
	reply_text(r, reply, sizeof(reply));
	printf("rcpt %s %s %s %s %s\n", r->address, states[r->state], when,
	       r->remote_mta[0] ? r->remote_mta : "-", reply);
}

int ctl_queue_show(int argc, char **argv)
{
	uint64_t id, now = (uint64_t)time(NULL);
	char when[32], rel[48], path[BODY_PATH_MAX];
	struct queue_summary s;
	struct queue_entry e;
	const char *error;
	bool found;
	int ret;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: queue show ID");
	if ((ret = parse_id(argv[0], &id)) != 0)
		return ret;
	if (store_queue_get(id, &e, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(1, "no such queue entry: %s", argv[0]);
	store_queue_summarize(&e, &s);
	printf("id %llu\n", (unsigned long long)e.id);
	ctl_utc_text(e.created, "-", when, sizeof(when));
	span(e.created < now ? now - e.created : 0, rel, sizeof(rel));
	printf("created %s (%s ago)\n", when, rel);
	printf("sender %s\n", sender_text(e.sender));
	printf("account %s\n", e.account[0] ? e.account : "-");
	printf("client %s\n", e.client_ip[0] ? e.client_ip : "-");
	body_path(e.body_id, path, sizeof(path));
	printf("body %s\n", path);
	printf("size %llu\n", (unsigned long long)e.body_size);
	printf("attempts %u\n", e.attempts);
	next_text(&e, &s, now, rel, sizeof(rel));
	if (s.pending == 0 || e.next_attempt <= now) {
		printf("next_attempt %s\n", rel);
	} else {
		ctl_utc_text(e.next_attempt, "-", when, sizeof(when));
		printf("next_attempt %s (%s)\n", when, rel);
	}
	printf("recipients %zu: %zu pending, %zu done, %zu failed\n", s.total,
	       s.pending, s.done, s.failed);
	for (size_t i = 0; i < e.rcpt_count; i++)
		print_rcpt(&e.rcpts[i]);
	store_queue_entry_free(&e);
	return 0;
}

int ctl_queue_flush(int argc, char **argv)
{
	const char *error;
	bool found, pending;
	size_t count;
	uint64_t id;
	int ret;

	if (argc > 1)
		return ctl_error(EX_USAGE, "usage: queue flush [ID]");
	if (argc == 0) {
		if (store_queue_flush_all(&count, &error) < 0)
			return ctl_error(EX_TEMPFAIL, "%s", error);
		printf("%zu queue %s will be retried now\n", count,
		       count == 1 ? "entry" : "entries");
		return 0;
	}
	if ((ret = parse_id(argv[0], &id)) != 0)
		return ret;
	if (store_queue_flush(id, &found, &pending, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(1, "no such queue entry: %s", argv[0]);
	if (!pending)
		return ctl_error(1, "queue entry %llu has no pending recipient: nothing to retry",
				 (unsigned long long)id);
	printf("queue entry %llu will be retried now\n",
	       (unsigned long long)id);
	return 0;
}

/* del ID: no bounce goes to the sender; that is the point of removing an
 * entry by hand (spam submitted through a stolen password, say). */
int ctl_queue_del(int argc, char **argv)
{
	struct queue_summary s;
	const char *error;
	size_t undelivered;
	bool found;
	uint64_t id;
	int ret;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: queue del ID");
	if ((ret = parse_id(argv[0], &id)) != 0)
		return ret;
	if (store_queue_remove(id, &s, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(1, "no such queue entry: %s", argv[0]);
	if (s.damaged) {
		printf("queue entry %llu removed (its record was damaged: its body file, if any, stays in %s/bodies)\n",
		       (unsigned long long)id, store_data_dir());
		return 0;
	}
	/* committed first: a crash here leaves an orphan file, never an
	 * entry without its body */
	body_unlink(s.body_id);
	undelivered = s.pending + s.failed;
	printf("queue entry %llu removed: %zu recipient%s not delivered\n",
	       (unsigned long long)id, undelivered,
	       undelivered == 1 ? "" : "s");
	return 0;
}

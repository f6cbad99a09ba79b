/* admin_queue.c - /api/queue: the relay queue as posternctl queue shows and
 * changes it (store_queue.h), for server admins only: an entry names
 * senders and recipients of every domain. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "lib/strnum.h"
#include "store/body.h"
#include "store/store_queue.h"

static const char *const state_names[] = {
	[QUEUE_RCPT_PENDING] = "pending",
	[QUEUE_RCPT_DONE] = "done",
	[QUEUE_RCPT_FAILED] = "failed",
};

static json_t *entry_json(const struct queue_entry *e,
			  const struct queue_summary *s)
{
	const struct queue_rcpt *last = queue_entry_last_problem(e);
	char error[QUEUE_REPLY_MAX + 32] = "";

	if (last != NULL)
		queue_rcpt_reply_text(last, error, sizeof(error));
	return json_pack("{s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:s}",
			 "id", (json_int_t)e->id, "created", (json_int_t)e->created,
			 "sender", e->sender, "account", e->account,
			 "size", (json_int_t)e->body_size,
			 "total", (json_int_t)s->total, "pending", (json_int_t)s->pending,
			 "done", (json_int_t)s->done, "failed", (json_int_t)s->failed,
			 /* 0: nothing pending, nothing to wait for */
			 "next_attempt", (json_int_t)(s->pending > 0 ? e->next_attempt : 0),
			 "last_error", error);
}

struct list_ctx {
	json_t *items;
	size_t offset, limit, total;
};

static void add_entry(const struct queue_entry *e, const struct queue_summary *s,
		      void *vctx)
{
	struct list_ctx *ctx = vctx;

	if (ctx->total >= ctx->offset && ctx->total - ctx->offset < ctx->limit)
		json_array_append_new(ctx->items, entry_json(e, s));
	ctx->total++;
}

void admin_queue_list(struct admin_req *r)
{
	struct list_ctx ctx = { .total = 0 };
	const char *error;

	if (!admin_server_only(r))
		return;
	if (!admin_paging(r, &ctx.offset, &ctx.limit))
		return;
	ctx.items = json_array();
	if (store_queue_list(add_entry, &ctx, &error) < 0) {
		json_decref(ctx.items);
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	admin_list(r, ctx.items, ctx.total, ctx.offset);
}

/* Segment 1 as a queue id. */
static bool id_arg(struct admin_req *r, uint64_t *id_r)
{
	if (str_to_uint64(r->seg[1], id_r) < 0 || *id_r == 0) {
		admin_fail(r, 400, NULL, "'%.40s' is not a queue id (a number, as the list shows)",
			   r->seg[1]);
		return false;
	}
	return true;
}

void admin_queue_get(struct admin_req *r)
{
	struct queue_summary s;
	struct queue_entry e;
	const char *error;
	json_t *o, *rcpts;
	bool found;
	uint64_t id;

	if (!admin_server_only(r) || !id_arg(r, &id))
		return;
	if (store_queue_get(id, &e, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	if (!found) {
		admin_fail(r, 404, NULL, "no such queue entry: %llu", (unsigned long long)id);
		return;
	}
	store_queue_summarize(&e, &s);
	o = entry_json(&e, &s);
	rcpts = json_array();
	for (size_t i = 0; i < e.rcpt_count; i++) {
		const struct queue_rcpt *q = &e.rcpts[i];
		char reply[QUEUE_REPLY_MAX + 32];

		queue_rcpt_reply_text(q, reply, sizeof(reply));
		json_array_append_new(rcpts, json_pack("{s:s,s:s,s:I,s:s,s:s}",
						       "address", q->address,
						       "state", state_names[q->state],
						       "last_attempt", (json_int_t)q->last_attempt,
						       "remote_mta", q->remote_mta,
						       "reply", reply));
	}
	json_object_set_new(o, "recipients", rcpts);
	json_object_set_new(o, "attempts", json_integer(e.attempts));
	json_object_set_new(o, "client_ip", json_string(e.client_ip));
	store_queue_entry_free(&e);
	admin_ok(r, 200, o);
}

void admin_queue_retry(struct admin_req *r)
{
	const char *error;
	bool found, pending;
	uint64_t id;

	if (!admin_server_only(r) || !id_arg(r, &id))
		return;
	if (store_queue_flush(id, &found, &pending, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	if (!found)
		admin_fail(r, 404, NULL, "no such queue entry: %llu", (unsigned long long)id);
	else if (!pending)
		admin_fail(r, 409, NULL, "queue entry %llu has no pending recipient: nothing to retry",
			   (unsigned long long)id);
	else
		admin_ok(r, 204, NULL);
}

void admin_queue_flush(struct admin_req *r)
{
	const char *error;
	size_t count;

	if (!admin_server_only(r))
		return;
	if (store_queue_flush_all(&count, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	admin_ok(r, 200, json_pack("{s:I}", "retried", (json_int_t)count));
}

/* No bounce: removing an entry by hand is for what must not go out. */
void admin_queue_del(struct admin_req *r)
{
	struct queue_summary s;
	const char *error;
	bool found;
	uint64_t id;

	if (!admin_server_only(r) || !id_arg(r, &id))
		return;
	if (store_queue_remove(id, &s, &found, &error) < 0) {
		admin_fail(r, 503, NULL, "%s", error);
		return;
	}
	if (!found) {
		admin_fail(r, 404, NULL, "no such queue entry: %llu", (unsigned long long)id);
		return;
	}
	/* committed first: a crash here leaves an orphan file, never an
	 * entry without its body */
	if (!s.damaged)
		body_unlink(s.body_id);
	admin_ok(r, 204, NULL);
}

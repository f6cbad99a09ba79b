/* delivery.c - local delivery (module API, SPEC.md 4).
 *
 * Recipients are routed as they are added and grouped by the mailbox they
 * land in: one stored copy per mailbox, headed by Return-Path and one
 * X-Real-To field per recipient it is for.  The first copy is written as
 * the message streams in; the others are copied from it at the end.  Every
 * copy is fsynced before one store transaction commits them all, and only
 * then is any recipient told OK. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/buf.h"
#include "lib/core_settings.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/delivery_backend.h"
#include "mail/policy.h"
#include "mail/router.h"
#include "store/body.h"
#include "store/store_ops.h"

/* Room for the stamped header of one copy and its X-Real-To list. */
#define PREFIX_MAX (1024 * 1024)

struct rcpt {
	char *address;			/* as the sender wrote it */
	unsigned int target;
	enum delivery_status status;
	char *error;
};

struct target {
	struct account account;
	char mailbox[MAILBOX_NAME_MAX + 1];
	struct buf prefix;		/* Return-Path, X-Real-To lines */
	struct buf realto;		/* "a@d b@d" for the metadata */
	struct body_info body;
	bool have_body;
};

struct delivery {
	char *return_path;
	char *local_ip;
	uint64_t max_size;
	struct rcpt *rcpts;
	unsigned int count, alloc;
	struct target *targets;
	unsigned int tcount, talloc;
	struct body_writer *writer;	/* the first copy, while data comes */
	bool data_started, too_big;
	char *data_error;		/* an I/O failure while writing */
	int service;			/* a policy the account must allow, -1 */
	/* delivery_data_finish to report (delivery_backend.h) */
	delivery_done_fn *done;
	void *done_ctx;
	bool finishing;			/* handed to the backend */
	bool orphaned;			/* freed meanwhile: free at report */
	bool failed;			/* outcome set by files or commit */
	struct store_target *st;	/* the commit's targets and results */
	struct delivery *next;		/* the backend's queues */
	/* a fetched message (delivery_set_retrieval_key) */
	uint64_t retrieval_source;
	char retrieval_key[RETRIEVAL_KEY_MAX + 1];
	EVP_MD_CTX *digest;		/* no UIDL: the key is a SHA-256 */
	bool duplicate;
	bool direct;			/* delivery_add_mailbox: no Return-Path */
};

static const struct delivery_backend *backend;

void delivery_set_backend(const struct delivery_backend *b)
{
	backend = b;
}

struct delivery *delivery_next(const struct delivery *d)
{
	return d->next;
}

void delivery_set_next(struct delivery *d, struct delivery *next)
{
	d->next = next;
}

bool delivery_quota_temporary(void)
{
	const struct core_settings *set = core_settings();

	return set == NULL || set->quota_full_tempfail;
}

struct delivery *delivery_new(const char *return_path, const char *local_ip,
			      uint64_t max_size)
{
	struct delivery *d = xcalloc(1, sizeof(*d));

	d->return_path = xstrdup(return_path);
	d->local_ip = local_ip != NULL ? xstrdup(local_ip) : NULL;
	d->max_size = max_size;
	d->service = -1;
	return d;
}

void delivery_require_service(struct delivery *d, const char *service)
{
	enum policy_id id;
	const char *error;

	d->service = policy_find(service, &id, &error) == 0 ? (int)id : -1;
}

void delivery_data_abort(struct delivery *d)
{
	if (d->writer != NULL) {
		body_writer_abort(d->writer);
		free(d->writer);
		d->writer = NULL;
	}
	for (unsigned int i = 0; i < d->tcount; i++) {
		if (d->targets[i].have_body)
			body_unlink(d->targets[i].body.id);
		d->targets[i].have_body = false;
	}
	d->data_started = false;
}

static void delivery_destroy(struct delivery *d);

void delivery_free(struct delivery **dp)
{
	struct delivery *d = *dp;

	if (d == NULL)
		return;
	*dp = NULL;
	if (d->finishing) {
		/* the backend's threads hold it: the message is stored all
		 * the same, and the report frees it instead of calling done */
		d->orphaned = true;
		return;
	}
	delivery_destroy(d);
}

static void delivery_destroy(struct delivery *d)
{
	delivery_data_abort(d);
	for (unsigned int i = 0; i < d->count; i++) {
		free(d->rcpts[i].address);
		free(d->rcpts[i].error);
	}
	for (unsigned int i = 0; i < d->tcount; i++) {
		buf_free(&d->targets[i].prefix);
		buf_free(&d->targets[i].realto);
	}
	free(d->rcpts);
	free(d->targets);
	free(d->return_path);
	free(d->local_ip);
	free(d->data_error);
	free(d->st);
	EVP_MD_CTX_free(d->digest);
	free(d);
}

unsigned int delivery_recipient_count(const struct delivery *d)
{
	return d->count;
}

/* Direct Mailbox Addressing: the named mailbox when it exists and grants
 * `p` to the sender (or to anyone); otherwise the INBOX. */
static void dma_mailbox(const struct delivery *d, const struct route *r,
			char *mailbox_r)
{
	struct account sender = { 0 };
	struct mailbox_rec mb;
	struct route sr;
	unsigned int rights = 0;
	const char *error;
	bool found;

	snprintf(mailbox_r, MAILBOX_NAME_MAX + 1, "%s", "INBOX");
	if (name_mailbox_check(r->mailbox, &error) < 0 ||
	    store_mailbox_find(&r->account, r->mailbox, &mb, &found, &error) < 0 ||
	    !found)
		return;
	/* a sender that is one of our accounts may hold rights of its own
	 * (or through anyone@domain); any other sender only those of anyone */
	if (d->return_path[0] != '\0' &&
	    router_resolve(d->return_path, NULL, &sr, &error) == ROUTE_OK &&
	    sr.rule != ROUTE_UNIFIED)
		sender = sr.account;
	if (store_acl_rights(&r->account, mb.id, &sender, &rights, &error) < 0)
		return;
	if (rights & ACL_POST)
		snprintf(mailbox_r, MAILBOX_NAME_MAX + 1, "%s", r->mailbox);
}

static unsigned int target_for(struct delivery *d, const struct account *account,
			       const char *mailbox)
{
	struct target *t;

	for (unsigned int i = 0; i < d->tcount; i++) {
		if (d->targets[i].account.id == account->id &&
		    strcmp(d->targets[i].mailbox, mailbox) == 0)
			return i;
	}
	if (d->tcount == d->talloc) {
		d->talloc = d->talloc ? d->talloc * 2 : 4;
		d->targets = xrealloc(d->targets, d->talloc * sizeof(*d->targets));
	}
	t = &d->targets[d->tcount];
	memset(t, 0, sizeof(*t));
	t->account = *account;
	snprintf(t->mailbox, sizeof(t->mailbox), "%s", mailbox);
	buf_init(&t->prefix, PREFIX_MAX);
	buf_init(&t->realto, PREFIX_MAX);
	if (!d->direct)
		buf_printf(&t->prefix, "Return-Path: <%s>\r\n", d->return_path);
	return d->tcount++;
}

/* Is `address` one of the space-separated addresses in list? */
static bool realto_has(const struct buf *list, const char *address)
{
	size_t len = strlen(address);
	const char *p = list->data, *end = list->data + list->len;

	while (p != NULL && p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = sp != NULL ? (size_t)(sp - p) : (size_t)(end - p);

		if (n == len && memcmp(p, address, len) == 0)
			return true;
		p = sp != NULL ? sp + 1 : NULL;
	}
	return false;
}

static enum delivery_status check_quota(const struct account *account,
					uint64_t size, const char **error_r)
{
	static char err[ADDRESS_MAX + 64];
	struct account_info info;
	struct account a;
	bool found;

	if (store_account_info(account->name, account->domain, &a, &info,
			       &found, error_r) < 0)
		return DELIVERY_TEMPFAIL;
	if (!found || info.quota == 0)
		return DELIVERY_OK;
	if (info.used + (size ? size : 1) > info.quota) {
		snprintf(err, sizeof(err), "mailbox of %s@%s is full",
			 account->name, account->domain);
		*error_r = err;
		return DELIVERY_OVER_QUOTA;
	}
	return DELIVERY_OK;
}

enum delivery_status delivery_add_recipient(struct delivery *d,
					    const char *address,
					    uint64_t size,
					    const char **error_r)
{
	char mailbox[MAILBOX_NAME_MAX + 1] = "INBOX";
	enum delivery_status st;
	const char *pct;
	struct target *t;
	struct rcpt *r;
	struct route route;

	if (d->data_started) {
		*error_r = "recipients come before the message";
		return DELIVERY_TEMPFAIL;
	}
	switch (router_resolve(address, d->local_ip, &route, error_r)) {
	case ROUTE_OK:
		break;
	case ROUTE_UNKNOWN:
		return DELIVERY_UNKNOWN;
	case ROUTE_BAD_ADDRESS:
		return DELIVERY_BAD_ADDRESS;
	case ROUTE_TEMPFAIL:
		return DELIVERY_TEMPFAIL;
	}
	if (size > d->max_size) {
		*error_r = "message larger than the size limit";
		return DELIVERY_TOO_BIG;
	}
	if (d->service >= 0) {
		static _Thread_local char err[ADDRESS_MAX + 64];
		struct policy p;

		if (policy_load(route.account.domain, route.account.name, &p,
				error_r) < 0)
			return DELIVERY_TEMPFAIL;
		if (!policy_allows(&p, (enum policy_id)d->service)) {
			snprintf(err, sizeof(err), "mail delivery is disabled for %s@%s",
				 route.account.name, route.account.domain);
			*error_r = err;
			return DELIVERY_DISABLED;
		}
	}
	if ((st = check_quota(&route.account, size, error_r)) != DELIVERY_OK)
		return st;
	if (route.rule == ROUTE_MAILBOX)
		dma_mailbox(d, &route, mailbox);

	if (d->count == d->alloc) {
		d->alloc = d->alloc ? d->alloc * 2 : 4;
		d->rcpts = xrealloc(d->rcpts, d->alloc * sizeof(*d->rcpts));
	}
	r = &d->rcpts[d->count++];
	memset(r, 0, sizeof(*r));
	r->address = xstrdup(address);
	r->target = target_for(d, &route.account, mailbox);
	t = &d->targets[r->target];
	/* the same address twice (an MTA that did not collapse them, or
	 * JSmith and jsmith): one stamp, one copy */
	if (realto_has(&t->realto, route.address))
		return DELIVERY_OK;
	/* the address as it was written; the Router's "name%domain" form
	 * as the name@domain it stands for; with the domain it was taken in
	 * when it had none (posternctl deliver jsmith) */
	if (strchr(address, '@') != NULL)
		buf_printf(&t->prefix, "X-Real-To: <%s>\r\n", address);
	else if ((pct = strrchr(address, '%')) != NULL)
		buf_printf(&t->prefix, "X-Real-To: <%.*s@%s>\r\n",
			   (int)(pct - address), address, pct + 1);
	else
		buf_printf(&t->prefix, "X-Real-To: <%s@%s>\r\n", address,
			   route.account.domain);
	buf_printf(&t->realto, "%s%s", t->realto.len ? " " : "", route.address);
	return DELIVERY_OK;
}

enum delivery_status delivery_add_mailbox(struct delivery *d,
					  const struct account *account,
					  const char *mailbox,
					  const char *trace, uint64_t size,
					  const char **error_r)
{
	enum delivery_status st;
	struct rcpt *r;
	struct target *t;

	if (d->data_started || d->count > 0) {
		*error_r = "a fetched message has one mailbox, added first";
		return DELIVERY_TEMPFAIL;
	}
	if (size > d->max_size) {
		*error_r = "message larger than the size limit";
		return DELIVERY_TOO_BIG;
	}
	if ((st = check_quota(account, size, error_r)) != DELIVERY_OK)
		return st;
	d->direct = true;
	d->alloc = 1;
	d->rcpts = xcalloc(1, sizeof(*d->rcpts));
	r = &d->rcpts[d->count++];
	r->address = xmalloc(ADDRESS_MAX + 1);
	snprintf(r->address, ADDRESS_MAX + 1, "%s@%s", account->name,
		 account->domain);
	r->target = target_for(d, account, mailbox);
	t = &d->targets[r->target];
	buf_append(&t->prefix, trace, strlen(trace));
	return DELIVERY_OK;
}

void delivery_set_retrieval_key(struct delivery *d, uint64_t source_id,
				const char *key)
{
	d->retrieval_source = source_id;
	d->retrieval_key[0] = '\0';
	d->duplicate = false;
	if (key != NULL) {
		snprintf(d->retrieval_key, sizeof(d->retrieval_key), "%s", key);
		return;
	}
	if (d->digest == NULL)
		d->digest = EVP_MD_CTX_new();
	if (d->digest == NULL ||
	    EVP_DigestInit_ex(d->digest, EVP_sha256(), NULL) != 1)
		log_msg(LOG_ERROR, "DELIVER", "cannot start a SHA-256 digest");
}

bool delivery_was_duplicate(const struct delivery *d)
{
	return d->duplicate;
}

const char *delivery_retrieval_key(const struct delivery *d)
{
	return d->retrieval_key;
}

static struct body_writer *writer_start(struct delivery *d, struct target *t,
					const char **error_r)
{
	struct body_writer *w = xmalloc(sizeof(*w));

	if (body_writer_open(w, d->max_size + t->prefix.len, error_r) < 0) {
		free(w);
		return NULL;
	}
	if (body_writer_write(w, t->prefix.data, t->prefix.len, error_r) < 0) {
		body_writer_abort(w);
		free(w);
		return NULL;
	}
	return w;
}

enum delivery_status delivery_data_begin(struct delivery *d,
					 const char **error_r)
{
	if (d->count == 0) {
		*error_r = "no valid recipients";
		return DELIVERY_BAD_MESSAGE;
	}
	if (d->data_started) {
		*error_r = "the message has begun already";
		return DELIVERY_BAD_MESSAGE;
	}
	d->too_big = false;
	free(d->data_error);
	d->data_error = NULL;
	if ((d->writer = writer_start(d, &d->targets[0], error_r)) == NULL)
		return DELIVERY_TEMPFAIL;
	d->data_started = true;
	return DELIVERY_OK;
}

void delivery_data_write(struct delivery *d, const void *data, size_t len)
{
	const char *error;

	if (d->writer == NULL || d->data_error != NULL)
		return;
	if (d->digest != NULL && d->retrieval_key[0] == '\0')
		EVP_DigestUpdate(d->digest, data, len);
	/* past the limit the writer stores nothing more; the input is still
	 * consumed, and finish reports it */
	if (body_writer_write(d->writer, data, len, &error) < 0) {
		if (d->writer->too_big)
			d->too_big = true;
		else
			d->data_error = xstrdup(error);
	}
}

static void set_all(struct delivery *d, enum delivery_status st,
		    const char *error)
{
	for (unsigned int i = 0; i < d->count; i++) {
		d->rcpts[i].status = st;
		free(d->rcpts[i].error);
		d->rcpts[i].error = xstrdup(error);
	}
}

/* Copy the message (what follows the first copy's prefix) into target t. */
static int copy_body(struct delivery *d, struct target *t, uint64_t skip,
		     const char **error_r)
{
	static _Thread_local char err[BODY_PATH_MAX + 64];
	struct body_writer *w;
	char buf[65536];
	int fd = body_open(d->targets[0].body.id);
	off_t off = (off_t)skip;
	int ret = -1;

	if (fd < 0) {
		snprintf(err, sizeof(err), "cannot reread the message: %s",
			 strerror(errno));
		*error_r = err;
		return -1;
	}
	if ((w = writer_start(d, t, error_r)) == NULL) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, sizeof(err), "cannot reread the message: %s",
				 strerror(errno));
			*error_r = err;
			body_writer_abort(w);
			goto out;
		}
		if (n == 0)
			break;
		off += n;
		if (body_writer_write(w, buf, (size_t)n, error_r) < 0) {
			body_writer_abort(w);
			goto out;
		}
	}
	if (body_writer_finish(w, &t->body, error_r) == 0) {
		t->have_body = true;
		ret = 0;
	}
out:
	close(fd);
	free(w);
	return ret;
}

static enum delivery_status target_status(enum store_target_result res,
					  const struct target *t,
					  const char **error_r)
{
	static char err[ADDRESS_MAX + MAILBOX_NAME_MAX + 64];

	switch (res) {
	case STORE_TARGET_OK:
		return DELIVERY_OK;
	case STORE_TARGET_OVER_QUOTA:
		snprintf(err, sizeof(err), "mailbox of %s@%s is full",
			 t->account.name, t->account.domain);
		*error_r = err;
		return DELIVERY_OVER_QUOTA;
	case STORE_TARGET_NO_ACCOUNT:
		snprintf(err, sizeof(err), "account %s@%s was removed",
			 t->account.name, t->account.domain);
		*error_r = err;
		return DELIVERY_UNKNOWN;
	case STORE_TARGET_NO_MAILBOX:
		/* removed since it was chosen: the next attempt picks again */
		snprintf(err, sizeof(err), "mailbox %s of %s@%s was removed",
			 t->mailbox, t->account.name, t->account.domain);
		*error_r = err;
		return DELIVERY_TEMPFAIL;
	case STORE_TARGET_DUPLICATE:
		return DELIVERY_OK;
	case STORE_TARGET_FULL:
		snprintf(err, sizeof(err), "mailbox %s of %s@%s has used up its UIDs",
			 t->mailbox, t->account.name, t->account.domain);
		*error_r = err;
		return DELIVERY_TEMPFAIL;
	}
	return DELIVERY_TEMPFAIL;
}

/* Every recipient gets the same outcome (a failure before the commit). */
static void fail_all(struct delivery *d, enum delivery_status st,
		     const char *error)
{
	set_all(d, st, error);
	delivery_data_abort(d);
	d->failed = true;
}

bool delivery_run_files(struct delivery *d)
{
	const char *error = NULL;
	uint64_t skip;
	bool too_big;
	int ret;

	/* also with no recipient, when there is no first copy to look at */
	if (d->writer == NULL) {
		fail_all(d, DELIVERY_BAD_MESSAGE, "no message was started");
		return false;
	}
	skip = d->targets[0].prefix.len;
	if (d->retrieval_source != 0 && d->retrieval_key[0] == '\0') {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;

		if (d->digest == NULL ||
		    EVP_DigestFinal_ex(d->digest, md, &mdlen) != 1 || mdlen != 32) {
			fail_all(d, DELIVERY_TEMPFAIL, "cannot compute the message digest");
			return false;
		}
		d->retrieval_key[0] = '#';
		for (unsigned int i = 0; i < mdlen; i++)
			snprintf(d->retrieval_key + 1 + 2 * i, 3, "%02x", md[i]);
	}
	if (d->too_big || d->data_error != NULL) {
		char err[128];

		if (d->too_big)
			snprintf(err, sizeof(err),
				 "message larger than the limit of %llu octets",
				 (unsigned long long)d->max_size);
		fail_all(d, d->too_big ? DELIVERY_TOO_BIG : DELIVERY_TEMPFAIL,
			 d->too_big ? err : d->data_error);
		return false;
	}
	ret = body_writer_finish(d->writer, &d->targets[0].body, &error);
	too_big = d->writer->too_big;
	free(d->writer);
	d->writer = NULL;
	if (ret < 0) {
		fail_all(d, too_big ? DELIVERY_TOO_BIG : DELIVERY_TEMPFAIL, error);
		return false;
	}
	d->targets[0].have_body = true;
	if (d->targets[0].body.size <= skip) {
		fail_all(d, DELIVERY_BAD_MESSAGE, "empty message");
		return false;
	}
	for (unsigned int i = 1; i < d->tcount; i++) {
		if (copy_body(d, &d->targets[i], skip, &error) < 0) {
			fail_all(d, DELIVERY_TEMPFAIL, error);
			return false;
		}
	}
	d->st = xcalloc(d->tcount, sizeof(*d->st));
	for (unsigned int i = 0; i < d->tcount; i++) {
		d->st[i].account = &d->targets[i].account;
		d->st[i].mailbox = d->targets[i].mailbox;
		d->st[i].body = &d->targets[i].body;
		d->st[i].realto = buf_cstr(&d->targets[i].realto);
		d->st[i].retrieval_source = d->retrieval_source;
		d->st[i].retrieval_key = d->retrieval_key;
	}
	return true;
}

/* How many store targets, in all, may one commit take: a bound on the
 * transaction (and on its array), far above what arrives at once. */
#define COMMIT_TARGETS_MAX 4096

void delivery_run_commit(struct delivery **list, size_t count)
{
	struct store_target *all;
	size_t n = 0, at = 0;
	const char *error;

	for (size_t i = 0; i < count; i++)
		n += list[i]->tcount;
	if (n > COMMIT_TARGETS_MAX && count > 1) {
		/* split: half, then the rest */
		delivery_run_commit(list, count / 2);
		delivery_run_commit(list + count / 2, count - count / 2);
		return;
	}
	all = xcalloc(n, sizeof(*all));
	for (size_t i = 0; i < count; i++) {
		memcpy(all + at, list[i]->st, list[i]->tcount * sizeof(*all));
		at += list[i]->tcount;
	}
	if (store_deliver(all, n, &error) < 0) {
		for (size_t i = 0; i < count; i++)
			fail_all(list[i], DELIVERY_TEMPFAIL, error);
		free(all);
		return;
	}
	at = 0;
	for (size_t i = 0; i < count; i++) {
		memcpy(list[i]->st, all + at, list[i]->tcount * sizeof(*all));
		at += list[i]->tcount;
	}
	free(all);
}

void delivery_run_report(struct delivery *d)
{
	unsigned int delivered = 0;

	d->finishing = false;
	if (d->failed) {
		/* the first recipient's reason says what went wrong for all */
		if (d->count > 0 && d->rcpts[0].status == DELIVERY_TEMPFAIL)
			log_msg(LOG_ERROR, "DELIVER", "cannot store a message from <%s>: %s",
				d->return_path, d->rcpts[0].error);
	} else {
		for (unsigned int i = 0; i < d->count; i++) {
			struct rcpt *r = &d->rcpts[i];
			struct target *t = &d->targets[r->target];
			const char *why = "";

			r->status = target_status(d->st[r->target].result, t, &why);
			free(r->error);
			r->error = r->status == DELIVERY_OK ? NULL : xstrdup(why);
			if (d->st[r->target].result == STORE_TARGET_DUPLICATE) {
				d->duplicate = true;
				log_msg(LOG_INFO, "DELIVER",
					"to %s@%s %s: already stored (retrieval %llu, %s)",
					t->account.name, t->account.domain,
					t->mailbox,
					(unsigned long long)d->retrieval_source,
					d->retrieval_key);
			} else if (r->status == DELIVERY_OK) {
				delivered++;
				log_msg(LOG_INFO, "DELIVER",
					"from <%s> to <%s>: %s@%s %s uid %u, %u octets",
					d->return_path, r->address, t->account.name,
					t->account.domain, t->mailbox,
					d->st[r->target].uid, t->body.size);
			} else {
				log_msg(LOG_NOTICE, "DELIVER",
					"from <%s> to <%s>: not delivered: %s",
					d->return_path, r->address, why);
			}
		}
		/* copies nobody took stay out of the store: remove their files */
		for (unsigned int i = 0; i < d->tcount; i++) {
			if (d->st[i].result != STORE_TARGET_OK)
				body_unlink(d->targets[i].body.id);
			d->targets[i].have_body = false;
		}
	}
	free(d->st);
	d->st = NULL;
	d->data_started = false;
	d->failed = false;
	if (d->orphaned) {
		delivery_destroy(d);
		return;
	}
	if (d->done != NULL)
		d->done(d->done_ctx, delivered);
}

void delivery_data_finish(struct delivery *d, delivery_done_fn *done, void *ctx)
{
	d->done = done;
	d->done_ctx = ctx;
	d->failed = false;
	d->finishing = true;
	if (backend != NULL && d->writer != NULL) {
		backend->submit(d);
		return;
	}
	if (delivery_run_files(d))
		delivery_run_commit(&d, 1);
	delivery_run_report(d);
}

enum delivery_status delivery_result(const struct delivery *d, unsigned int i,
				     const char **error_r)
{
	if (i >= d->count) {
		*error_r = "no such recipient";
		return DELIVERY_TEMPFAIL;
	}
	*error_r = d->rcpts[i].error != NULL ? d->rcpts[i].error : "";
	return d->rcpts[i].status;
}

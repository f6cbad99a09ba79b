/* expire.c - pop_expire over an account's mailboxes (expire.h). */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "mail/expire.h"
#include "store/store_ops.h"

struct mailbox_ids {
	uint64_t *ids;
	size_t count, alloc;
	const char *archive;	/* pop_delete=archive:NAME, or NULL */
};

/* Inside the listing's read transaction: only note the ids.  The
 * archive is kept: it holds what the user deleted over POP, Seen and old
 * as it is, on purpose - EXPIRE is about mail left where POP reads it. */
static void note_mailbox(const struct mailbox_stat *st, void *ctx)
{
	struct mailbox_ids *m = ctx;

	if (m->archive != NULL && strcmp(st->name, m->archive) == 0)
		return;
	if (m->count == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 16;
		m->ids = xrealloc(m->ids, m->alloc * sizeof(*m->ids));
	}
	m->ids[m->count++] = st->id;
}

int account_expire(const struct account *a, uint64_t now, size_t *removed_r,
		   int *days_r, const char **error_r)
{
	struct mailbox_ids m = { NULL, 0, 0, NULL };
	struct pop_policy p;
	uint64_t cutoff;
	int ret = 0;

	*removed_r = 0;
	*days_r = -1;
	if (pop_policy_for(a->domain, a->name, &p, error_r) < 0)
		return -1;
	*days_r = p.expire_days;
	if (p.expire_days < 0)
		return 0;
	cutoff = now - (uint64_t)p.expire_days * 86400;
	if (p.delete_mode == POP_DELETE_ARCHIVE)
		m.archive = p.archive;
	if (store_mailbox_list(a, note_mailbox, &m, error_r) < 0) {
		free(m.ids);
		return -1;
	}
	for (size_t i = 0; i < m.count; i++) {
		size_t n = 0;

		if (mailbox_expire(m.ids[i], cutoff, &n, error_r) < 0)
			ret = -1;
		*removed_r += n;
	}
	free(m.ids);
	return ret;
}

struct account_set {
	struct account *list;
	size_t count, alloc;
};

static void gather(const struct account *a, void *ctx)
{
	struct account_set *s = ctx;

	if (s->count == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 64;
		s->list = xrealloc(s->list, s->alloc * sizeof(*s->list));
	}
	s->list[s->count++] = *a;
}

int expire_accounts(const char *domain, uint64_t now, expire_each_fn *each,
		    void *ctx, size_t *accounts_r, size_t *messages_r,
		    const char **error_r)
{
	struct account_set all = { NULL, 0, 0 };

	*accounts_r = *messages_r = 0;
	/* gathered first: the list runs inside a read transaction, and
	 * expiring writes */
	if (store_account_list(domain, gather, &all, error_r) < 0) {
		free(all.list);
		return -1;
	}
	for (size_t i = 0; i < all.count; i++) {
		const char *error = NULL;
		size_t removed;
		int days;

		if (account_expire(&all.list[i], now, &removed, &days, &error) == 0)
			error = NULL;
		if (removed > 0) {
			(*accounts_r)++;
			*messages_r += removed;
		}
		if (each != NULL && (removed > 0 || error != NULL))
			each(&all.list[i], removed, days, error, ctx);
	}
	free(all.list);
	return 0;
}

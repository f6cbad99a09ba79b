/* mailbox_access.c - opening a mailbox for a user: whose it is, whether
 * the user may, and the snapshot (module API mailbox_open, SPEC.md 1-3). */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "mail/names.h"
#include "store/store_ops.h"

/* "owner" or "owner@domain" (no domain: the user's own) -> the account. */
static enum mailbox_open_result find_owner(const struct account *user,
					   const char *owner,
					   struct account *owner_r,
					   const char **error_r)
{
	static char err[ADDRESS_MAX + 64];
	char name[ACCOUNT_NAME_MAX + 1], domain[ACCOUNT_NAME_MAX + 1];
	bool found;

	if (name_address_split(owner, name, domain, error_r) < 0)
		return MAILBOX_OPEN_NONE;
	if (domain[0] == '\0')
		memcpy(domain, user->domain, sizeof(user->domain));
	if (store_account_get(name, domain, owner_r, NULL, 0, &found, error_r) < 0)
		return MAILBOX_OPEN_TEMPFAIL;
	if (!found) {
		snprintf(err, sizeof(err), "no account %s@%s", name, domain);
		*error_r = err;
		return MAILBOX_OPEN_NONE;
	}
	return MAILBOX_OPEN_OK;
}

enum mailbox_open_result mailbox_open(const struct account *user,
				      const char *ref, const char *view,
				      uint64_t since,
				      struct mailbox_open *open_r,
				      const char **error_r)
{
	struct snapshot_filter filter = { .since = since, .skip_hidden = true };
	static char err[ADDRESS_MAX + MAILBOX_NAME_MAX + 64];
	char owner[ADDRESS_MAX + 1];
	struct mailbox_rec rec;
	enum mailbox_open_result res;
	bool found;

	memset(open_r, 0, sizeof(*open_r));
	if (ref[0] == '\0') {
		owner[0] = '\0';
		memcpy(open_r->name, "INBOX", sizeof("INBOX"));
	} else if (name_mailbox_ref_split(ref, owner, open_r->name, error_r) < 0) {
		return MAILBOX_OPEN_NONE;
	}
	if (owner[0] == '\0')
		open_r->owner = *user;
	else if ((res = find_owner(user, owner, &open_r->owner, error_r)) != MAILBOX_OPEN_OK)
		return res;

	if (store_mailbox_find(&open_r->owner, open_r->name, &rec, &found,
			       error_r) < 0)
		return MAILBOX_OPEN_TEMPFAIL;
	if (!found) {
		snprintf(err, sizeof(err), "no mailbox %s of %s@%s", open_r->name,
			 open_r->owner.name, open_r->owner.domain);
		*error_r = err;
		return MAILBOX_OPEN_NONE;
	}
	/* rights before the snapshot: no one walks a mailbox they may not open */
	if (store_acl_rights(&open_r->owner, rec.id, user, &open_r->rights,
			     error_r) < 0)
		return MAILBOX_OPEN_TEMPFAIL;
	if (!(open_r->rights & ACL_READ)) {
		snprintf(err, sizeof(err), "no right to open %s of %s@%s",
			 open_r->name, open_r->owner.name, open_r->owner.domain);
		*error_r = err;
		return MAILBOX_OPEN_NONE;
	}
	/* a fault, or removed in the instant since it was found: either way
	 * the next attempt gives the true answer */
	snprintf(open_r->view, sizeof(open_r->view), "%s", view ? view : "");
	filter.view = open_r->view;
	if (mailbox_snapshot_take_filtered(&open_r->owner, open_r->name, &filter,
					   &open_r->snap, error_r) < 0)
		return MAILBOX_OPEN_TEMPFAIL;
	if (open_r->snap->mailbox_id != rec.id) {
		/* renamed and replaced in between: the rights were for another */
		mailbox_snapshot_free(&open_r->snap);
		*error_r = "the mailbox changed while it was opened, try again";
		return MAILBOX_OPEN_TEMPFAIL;
	}
	return MAILBOX_OPEN_OK;
}

int mailbox_rights(const struct account *user, const struct mailbox_open *open,
		   unsigned int *rights_r, const char **error_r)
{
	return store_acl_rights(&open->owner, open->snap->mailbox_id, user,
				rights_r, error_r);
}

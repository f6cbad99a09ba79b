/* pop_trans.c - TRANSACTION state: STAT LIST RETR DELE NOOP RSET TOP UIDL
 * QUIT.  Message numbers index the login snapshot and never change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop.h"

/* Strict message number: digits only, 1..count.  On failure the reply is
 * written and NULL returned. */
static struct msg_info *parse_msg(struct pop_session *s, const char *arg,
				  uint32_t *num_r)
{
	uint64_t n = 0;
	size_t len = strlen(arg);

	if (len == 0 || strspn(arg, "0123456789") != len) {
		pop_err(s, "Invalid message number");
		return NULL;
	}
	/* too many digits is a number out of range, not a syntax error */
	for (size_t i = 0; i < len && n <= UINT32_MAX; i++)
		n = n * 10 + (uint64_t)(arg[i] - '0');
	if (n == 0 || n > s->mbox.snap->count) {
		pop_err(s, "No such message");
		return NULL;
	}
	if (s->deleted[n - 1]) {
		pop_err(s, "Message %llu is deleted", (unsigned long long)n);
		return NULL;
	}
	*num_r = (uint32_t)n;
	return &s->mbox.snap->msgs[n - 1];
}

/* Split "a b" into exactly `want` arguments; -1 when the count differs. */
static int split_args(char *args, char **argv, int want)
{
	int n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(args, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		if (n == want)
			return -1;
		argv[n++] = tok;
	}
	return n == want ? 0 : -1;
}

enum pop_result pop_cmd_stat(struct pop_session *s, char *args)
{
	if (*args != '\0') {
		pop_err(s, "STAT takes no arguments");
		return POP_BAD;
	}
	pop_ok(s, "%u %llu", s->mbox.snap->count - s->deleted_count,
	       (unsigned long long)(s->mbox.snap->total_size - s->deleted_size));
	return POP_DONE;
}

static bool list_step(void *session)
{
	struct pop_session *s = session;
	char uidl[UIDL_MAX + 1];
	uint32_t end = s->list_next + POP_LIST_STEP;

	if (end > s->mbox.snap->count)
		end = s->mbox.snap->count;
	for (; s->list_next < end; s->list_next++) {
		const struct msg_info *m = &s->mbox.snap->msgs[s->list_next];

		if (s->deleted[s->list_next])
			continue;
		if (s->list_uidl) {
			mailbox_snapshot_uidl(s->mbox.snap, m, uidl);
			conn_printf(s->conn, "%u %s\r\n", s->list_next + 1, uidl);
		} else {
			conn_printf(s->conn, "%u %u\r\n", s->list_next + 1, m->size);
		}
	}
	if (s->list_next < s->mbox.snap->count)
		return true;
	conn_puts(s->conn, ".\r\n");
	return false;
}

static enum pop_result list_or_uidl(struct pop_session *s, char *args, bool uidl)
{
	char *argv[1];
	struct msg_info *m;
	uint32_t n;

	if (*args == '\0') {
		pop_ok(s, "%u messages (%llu octets)", s->mbox.snap->count - s->deleted_count,
		       (unsigned long long)(s->mbox.snap->total_size - s->deleted_size));
		s->list_next = 0;
		s->list_uidl = uidl;
		if (list_step(s))
			conn_set_continue(s->conn, list_step);
		return POP_DONE;
	}
	if (split_args(args, argv, 1) < 0) {
		pop_err(s, "%s takes at most one message number", uidl ? "UIDL" : "LIST");
		return POP_BAD;
	}
	if ((m = parse_msg(s, argv[0], &n)) == NULL)
		return POP_DONE;
	if (uidl) {
		char text[UIDL_MAX + 1];

		mailbox_snapshot_uidl(s->mbox.snap, m, text);
		pop_ok(s, "%u %s", n, text);
	} else {
		pop_ok(s, "%u %u", n, m->size);
	}
	return POP_DONE;
}

enum pop_result pop_cmd_list(struct pop_session *s, char *args)
{
	return list_or_uidl(s, args, false);
}

enum pop_result pop_cmd_uidl(struct pop_session *s, char *args)
{
	return list_or_uidl(s, args, true);
}

/* Queue "+OK", the message (or its top) and the terminating dot. */
static enum pop_result send_message(struct pop_session *s, char *args, bool top)
{
	char *argv[2];
	const char *error;
	struct msg_info *m;
	uint32_t n, lines = 0;
	int fd;

	if (split_args(args, argv, top ? 2 : 1) < 0) {
		pop_err(s, top ? "TOP needs a message number and a line count"
			       : "RETR needs one message number");
		return POP_BAD;
	}
	if (top && str_to_uint32(argv[1], &lines) < 0) {
		pop_err(s, "Invalid line count");
		return POP_BAD;
	}
	if ((m = parse_msg(s, argv[0], &n)) == NULL)
		return POP_DONE;
	if (message_body_open(m, &fd) < 0) {
		if (errno == ENOENT) {
			pop_err(s, "[SYS/TEMP] Message no longer available");
		} else {
			conn_log(s->conn, LOG_ERROR, "cannot open message %u (uid %u): %s",
				 n, m->uid, strerror(errno));
			pop_err(s, "[SYS/TEMP] Cannot read the message, try again later");
		}
		return POP_DONE;
	}
	if (top)
		pop_ok(s, "Top of message %u follows", n);
	else
		pop_ok(s, "%u octets", m->size);
	conn_send_file(s->conn, fd, 0, m->size,
		       (m->flags & MSG_HAS_DOT_LINE) ? CONN_SEND_DOTSTUFF : 0,
		       m->hdr_len, top ? (long)lines : -1);
	conn_puts(s->conn, ".\r\n");
	/* RETR marks Seen, visible to every session at once, for users with
	 * the `s` right (without it RETR still works); TOP never does */
	if (!top && !(m->flags & MSG_SEEN) && (s->mbox.rights & ACL_SEEN)) {
		if (message_set_seen(s->mbox.snap->mailbox_id, m->uid, &error) < 0)
			conn_log(s->conn, LOG_WARNING, "cannot mark message %u seen: %s",
				 n, error);
		else
			m->flags |= MSG_SEEN;
	}
	return POP_DONE;
}

enum pop_result pop_cmd_retr(struct pop_session *s, char *args)
{
	return send_message(s, args, false);
}

enum pop_result pop_cmd_top(struct pop_session *s, char *args)
{
	return send_message(s, args, true);
}

/* DELE needs the `d` right, asked at DELE time (SPEC.md 2): a right taken
 * away during the session counts at once.  The owner has every right. */
static bool may_delete(struct pop_session *s)
{
	unsigned int rights;
	const char *error;

	if (s->mbox.owner.id == s->account.id)
		return true;
	if (mailbox_rights(&s->account, &s->mbox, &rights, &error) < 0) {
		conn_log(s->conn, LOG_ERROR, "cannot read the rights to %s: %s",
			 s->mbox.name, error);
		pop_err(s, "[SYS/TEMP] Temporary problem, try again later");
		return false;
	}
	if (!(rights & ACL_DELETE)) {
		pop_err(s, "[SYS/PERM] no permission to delete");
		return false;
	}
	return true;
}

enum pop_result pop_cmd_dele(struct pop_session *s, char *args)
{
	char *argv[1];
	struct msg_info *m;
	uint32_t n;

	if (split_args(args, argv, 1) < 0) {
		pop_err(s, "DELE needs one message number");
		return POP_BAD;
	}
	if ((m = parse_msg(s, argv[0], &n)) == NULL)
		return POP_DONE;
	if (!may_delete(s))
		return POP_DONE;
	s->deleted[n - 1] = 1;
	s->deleted_count++;
	s->deleted_size += m->size;
	pop_ok(s, "Message %u deleted", n);
	return POP_DONE;
}

enum pop_result pop_cmd_noop(struct pop_session *s, char *args)
{
	if (*args != '\0') {
		pop_err(s, "NOOP takes no arguments");
		return POP_BAD;
	}
	pop_ok(s, "Nothing to do");
	return POP_DONE;
}

enum pop_result pop_cmd_rset(struct pop_session *s, char *args)
{
	if (*args != '\0') {
		pop_err(s, "RSET takes no arguments");
		return POP_BAD;
	}
	memset(s->deleted, 0, s->mbox.snap->count);
	s->deleted_count = 0;
	s->deleted_size = 0;
	pop_ok(s, "%u messages (%llu octets)", s->mbox.snap->count,
	       (unsigned long long)s->mbox.snap->total_size);
	return POP_DONE;
}

enum pop_result pop_cmd_quit(struct pop_session *s, char *args)
{
	struct pop_policy policy = s->policy;
	uint32_t *uids;
	size_t removed = 0, k = 0;
	const char *error;

	(void)args;
	/* another account's mailbox (~owner/name, opened with the d right):
	 * what becomes of its messages is its owner's pop_delete, not the
	 * visitor's - a visitor's archive or hide must not create mailboxes
	 * in, or hide mail from, an account that is not theirs */
	if (s->mbox.owner.id != s->account.id && s->deleted_count > 0) {
		struct pop_policy owner;

		if (pop_policy_for(s->mbox.owner.domain, s->mbox.owner.name, &owner,
				   &error) < 0) {
			conn_close_after_flush(s->conn);
			conn_log(s->conn, LOG_ERROR, "QUIT: cannot read the owner's policies: %s",
				 error);
			pop_err(s, "[SYS/TEMP] Cannot remove messages, none were removed");
			return POP_DONE;
		}
		policy.delete_mode = owner.delete_mode;
		memcpy(policy.archive, owner.archive, sizeof(policy.archive));
	}
	/* DELE in the archive mailbox itself (opened as "Archive#user"): there
	 * is nowhere further to move the message, so it goes; moving it into
	 * itself could never succeed and QUIT would fail at every attempt.
	 * The archive is always the opened mailbox's owner's. */
	if (policy.delete_mode == POP_DELETE_ARCHIVE &&
	    strcmp(s->mbox.name, policy.archive) == 0)
		policy.delete_mode = POP_DELETE_REMOVE;
	conn_close_after_flush(s->conn);
	if (s->deleted_count == 0) {
		pop_ok(s, "Bye");
		return POP_DONE;
	}
	uids = malloc(s->deleted_count * sizeof(*uids));
	if (uids == NULL) {
		pop_err(s, "[SYS/TEMP] Out of memory, no message was removed");
		return POP_DONE;
	}
	for (uint32_t i = 0; i < s->mbox.snap->count; i++) {
		if (s->deleted[i])
			uids[k++] = s->mbox.snap->msgs[i].uid;
	}
	/* UPDATE state: one atomic transaction, what pop_delete says for
	 * every marked message; ones already gone are skipped */
	if (mailbox_pop_quit(&s->mbox, uids, k, &policy, &removed, &error) < 0) {
		conn_log(s->conn, LOG_ERROR, "QUIT: cannot remove messages: %s", error);
		pop_err(s, "[SYS/TEMP] Cannot remove messages, none were removed");
	} else {
		static const char *const done[] = {
			[POP_DELETE_REMOVE] = "removed",
			[POP_DELETE_HIDE] = "hidden from POP",
			[POP_DELETE_MARK_READ] = "marked read",
			[POP_DELETE_ARCHIVE] = "archived",
		};
		const char *what = done[policy.delete_mode];

		if (policy.delete_mode == POP_DELETE_ARCHIVE)
			conn_log(s->conn, LOG_INFO, "QUIT: %s %zu of %zu marked messages into %s",
				 what, removed, k, policy.archive);
		else
			conn_log(s->conn, LOG_INFO, "QUIT: %s %zu of %zu marked messages",
				 what, removed, k);
		/* the client asked for removal: that is what it is told */
		pop_ok(s, "Bye, %zu message%s removed", k, k == 1 ? "" : "s");
	}
	s->deleted_count = 0;
	free(uids);
	return POP_DONE;
}

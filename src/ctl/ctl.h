/* ctl.h - posternctl's commands: one function per NOUN VERB. */
#ifndef PN_CTL_H
#define PN_CTL_H

#include <sysexits.h>

#include "postern/module.h"
#include "store/store_ops.h"

/* Exit codes: 0 done; EX_USAGE bad command line; EX_DATAERR bad input
 * (a mailbox name, rights, an ACL identifier, a message, a queue id);
 * EX_NOUSER no such account, mailbox, or account/domain an identifier
 * names; EX_TEMPFAIL store or disk fault (try again); 1 anything else the
 * message explains (already exists, INBOX cannot be removed, no such queue
 * entry...). */
typedef int ctl_fn(int argc, char **argv);

ctl_fn ctl_domain_add, ctl_domain_del, ctl_domain_list, ctl_domain_set,
	ctl_domain_show, ctl_domain_alias, ctl_domain_bind, ctl_domain_unbind;
ctl_fn ctl_alias_add, ctl_alias_del, ctl_alias_list, ctl_route;
ctl_fn ctl_account_add, ctl_account_del, ctl_account_list, ctl_account_passwd,
	ctl_account_set, ctl_account_show;
ctl_fn ctl_mailbox_add, ctl_mailbox_del, ctl_mailbox_list, ctl_mailbox_rename;
ctl_fn ctl_acl_set, ctl_acl_get, ctl_acl_del;
ctl_fn ctl_message_list, ctl_message_import, ctl_expire;
ctl_fn ctl_deliver;
ctl_fn ctl_server_set, ctl_server_show;
ctl_fn ctl_alert_post, ctl_alert_list, ctl_alert_del;
ctl_fn ctl_queue_list, ctl_queue_show, ctl_queue_flush, ctl_queue_del;
ctl_fn ctl_retrieval_add, ctl_retrieval_list, ctl_retrieval_show, ctl_retrieval_set,
	ctl_retrieval_del, ctl_retrieval_run;

/* A time as "2026-12-02T01:02:03Z" into buf, or `zero` for 0 (never). */
void ctl_utc_text(uint64_t t, const char *zero, char *buf, size_t size);

/* Print "posternctl: msg" to stderr and return code. */
int ctl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ADDRESS's account and its mailbox, or an exit code with the message
 * printed: EX_DATAERR for a bad mailbox name, EX_NOUSER for no such account
 * or mailbox, EX_TEMPFAIL for a store fault. */
int ctl_find_account_mailbox(const char *address, const char *mailbox,
			     struct account *account_r,
			     struct mailbox_rec *rec_r);

/* The domain NAME names (lower case, into domain_r of ACCOUNT_NAME_MAX + 1
 * octets), or an exit code with the message printed: EX_DATAERR for a bad
 * name, 1 for no such domain, EX_TEMPFAIL for a store fault. */
int ctl_find_domain(const char *name, char *domain_r);

/* Policies (ctl_policy.c).  assign: "KEY=VALUE" at the level domain /
 * account name ("" for the server / domain level), with `shown` naming it
 * in the answer; CTL_NOT_A_POLICY when KEY is no policy (the caller may
 * know it), else 0 or an exit code with the message printed.  print: the
 * effective policies, each with the level it comes from. */
#define CTL_NOT_A_POLICY (-1)
int ctl_policy_assign(const char *domain, const char *account,
		      const char *assignment, const char *shown);
int ctl_policy_print(const char *domain, const char *account);

/* Read a password: --password-file FILE (first line) when given, else one
 * line from stdin (prompting without echo on a terminal). */
int ctl_read_password(const char *file, char *buf, size_t size);

#endif

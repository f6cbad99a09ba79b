/* ctl.h - posternctl's commands: one function per NOUN VERB. */
#ifndef PN_CTL_H
#define PN_CTL_H

#include <sysexits.h>

/* Exit codes: 0 done; EX_USAGE bad command line; EX_DATAERR bad input;
 * EX_NOUSER no such account; EX_TEMPFAIL store or disk fault (try again);
 * 1 anything else the message explains. */
typedef int ctl_fn(int argc, char **argv);

ctl_fn ctl_domain_add, ctl_domain_del, ctl_domain_list;
ctl_fn ctl_account_add, ctl_account_del, ctl_account_list, ctl_account_passwd,
	ctl_account_set;
ctl_fn ctl_mailbox_list, ctl_message_list;
ctl_fn ctl_deliver;

/* Print "posternctl: msg" to stderr and return code. */
int ctl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Read a password: --password-file FILE (first line) when given, else one
 * line from stdin (prompting without echo on a terminal). */
int ctl_read_password(const char *file, char *buf, size_t size);

#endif

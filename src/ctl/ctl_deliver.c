/* ctl_deliver.c - posternctl deliver (local delivery, as an MTA's pipe
 * transport uses it) and message import (an admin's verbatim import).
 * Exit codes follow sysexits.h so an MTA can tell a bounce (65, 67, 73)
 * from a deferral (75). */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/core_settings.h"
#include "lib/strnum.h"
#include "lib/xalloc.h"
#include "mail/import.h"
#include "store/store_ops.h"

#define DELIVER_USAGE "usage: deliver [--from SENDER] RECIPIENT... (< message)"

/* The exit code for one recipient's outcome. */
static int status_exit(enum delivery_status st)
{
	switch (st) {
	case DELIVERY_OK:
		return 0;
	case DELIVERY_UNKNOWN:
	case DELIVERY_DISABLED:
		return EX_NOUSER;
	case DELIVERY_BAD_ADDRESS:
	case DELIVERY_TOO_BIG:
	case DELIVERY_BAD_MESSAGE:
		return EX_DATAERR;
	case DELIVERY_OVER_QUOTA:
		return delivery_quota_temporary() ? EX_TEMPFAIL : EX_CANTCREAT;
	case DELIVERY_TEMPFAIL:
		return EX_TEMPFAIL;
	}
	return EX_SOFTWARE;
}

/* Several failures: a deferral wins, so the MTA tries again (the
 * recipients already delivered would get a second copy: pipe transports
 * pass one recipient per call for that reason). */
static int worse(int a, int b)
{
	if (a == EX_TEMPFAIL || b == EX_TEMPFAIL)
		return EX_TEMPFAIL;
	return a != 0 ? a : b;
}

/* deliver [--from SENDER] RECIPIENT...: the message from standard input,
 * through the Router into each recipient's mailbox, with Return-Path and
 * X-Real-To, exactly as LMTP delivers it. */
int ctl_deliver(int argc, char **argv)
{
	const char *from = "", *error;
	const char **accepted;
	struct delivery *d;
	char buf[65536];
	int i = 0, ret = 0;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			from = argv[++i];
		else if (strncmp(argv[i], "--from=", 7) == 0)
			from = argv[i] + 7;
		else
			return ctl_error(EX_USAGE, DELIVER_USAGE);
	}
	argc -= i;
	argv += i;
	if (argc < 1)
		return ctl_error(EX_USAGE, DELIVER_USAGE);
	if (strlen(from) > ADDRESS_MAX || strpbrk(from, "<> \t\r\n") != NULL)
		return ctl_error(EX_USAGE, "--from: not a plain address: %s", from);
	if (isatty(STDIN_FILENO))
		return ctl_error(EX_USAGE, "deliver reads the message from standard input, not a terminal");

	d = delivery_new(from, NULL, core_settings()->max_message_size);
	accepted = xcalloc((size_t)argc, sizeof(*accepted));
	for (i = 0; i < argc; i++) {
		enum delivery_status st = delivery_add_recipient(d, argv[i], 0, &error);

		if (st == DELIVERY_OK) {
			accepted[delivery_recipient_count(d) - 1] = argv[i];
		} else {
			ret = worse(ret, status_exit(st));
			fprintf(stderr, "posternctl: %s not delivered%s: %s\n",
				argv[i], status_exit(st) == EX_TEMPFAIL ?
				", try again" : "", error);
		}
	}
	if (delivery_recipient_count(d) == 0)
		goto out;
	if (delivery_data_begin(d, &error) != DELIVERY_OK) {
		ret = ctl_error(EX_TEMPFAIL, "message not delivered, try again: %s",
				error);
		goto out;
	}
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = ctl_error(EX_TEMPFAIL, "cannot read the message: %s",
					strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		delivery_data_write(d, buf, (size_t)n);
	}
	/* posternctl has no delivery threads: stored before this returns */
	delivery_data_finish(d, NULL, NULL);
	for (unsigned int r = 0; r < delivery_recipient_count(d); r++) {
		enum delivery_status st = delivery_result(d, r, &error);

		if (st == DELIVERY_OK) {
			printf("delivered to %s\n", accepted[r]);
			continue;
		}
		ret = worse(ret, status_exit(st));
		fprintf(stderr, "posternctl: %s not delivered%s: %s\n", accepted[r],
			status_exit(st) == EX_TEMPFAIL ? ", try again" : "", error);
	}
out:
	free(accepted);
	delivery_free(&d);
	return ret;
}

static int import_one(const struct account *account, const char *mailbox,
		      uint64_t date, int fd, const char *what)
{
	const char *error;
	uint32_t uid;
	int ret;

	ret = import_from_fd_dated(account, mailbox, fd,
				   core_settings()->max_message_size, date, &uid,
				   &error);
	if (ret == IMPORT_PERMANENT)
		return ctl_error(EX_DATAERR, "%s not imported: %s", what, error);
	if (ret == IMPORT_TEMPORARY)
		return ctl_error(EX_TEMPFAIL, "%s not imported, try again: %s", what,
				 error);
	printf("imported into %s@%s %s as uid %u\n", account->name,
	       account->domain, mailbox, uid);
	return 0;
}

#define IMPORT_USAGE "usage: message import [--mailbox NAME] [--date DATE] ADDRESS [FILE...] (< message)"

/* "2026-11-30" (midnight UTC) or seconds since the epoch. */
static int parse_date(const char *s, uint64_t *t_r)
{
	struct tm tm;
	const char *end;

	if (str_to_uint64(s, t_r) == 0)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0' || tm.tm_year < 70)
		return -1;
	*t_r = (uint64_t)timegm(&tm);
	return 0;
}

/* message import [--mailbox NAME] [--date DATE] ADDRESS [FILE...]:
 * standard input, or each file in turn (one message per file, as in a
 * Maildir), stored as it is, as arrived at DATE (old mail kept its date:
 * what pop_from and pop_expire look at).  Stops at the first failure. */
int ctl_message_import(int argc, char **argv)
{
	const char *mailbox = "INBOX";
	uint64_t date = 0;
	struct account account;
	struct mailbox_rec rec;
	int i = 0, ret;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--mailbox") == 0 && i + 1 < argc)
			mailbox = argv[++i];
		else if (strncmp(argv[i], "--mailbox=", 10) == 0)
			mailbox = argv[i] + 10;
		else if (strcmp(argv[i], "--date") == 0 && i + 1 < argc) {
			if (parse_date(argv[++i], &date) < 0)
				return ctl_error(EX_USAGE,
						 "--date: '%s' is not YYYY-MM-DD or seconds since 1970",
						 argv[i]);
		} else
			return ctl_error(EX_USAGE, IMPORT_USAGE);
	}
	argc -= i;
	argv += i;
	if (argc < 1)
		return ctl_error(EX_USAGE, IMPORT_USAGE);
	if (argc == 1 && isatty(STDIN_FILENO))
		return ctl_error(EX_USAGE, "message import reads the message from standard input, not a terminal");
	/* an unknown mailbox is a bounce (EX_NOUSER), not a deferral */
	if ((ret = ctl_find_account_mailbox(argv[0], mailbox, &account,
					    &rec)) != 0)
		return ret;
	if (argc == 1)
		return import_one(&account, mailbox, date, STDIN_FILENO, "message");
	for (i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return ctl_error(EX_NOINPUT, "cannot read %s: %s", argv[i],
					 strerror(errno));
		ret = import_one(&account, mailbox, date, fd, argv[i]);
		close(fd);
		if (ret != 0)
			return ret;
	}
	return 0;
}

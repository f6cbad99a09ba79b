/* ctl_retrieval.c - posternctl retrieval add|list|show|set|del|run: the
 * remote POP3 accounts whose mail posternd's retrieval module fetches
 * (SPEC.md 6, doc/retrieval.md).  The module polls the store every
 * retrieval.poll, so `run` marks sources due and waits for their run. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/strnum.h"
#include "mail/accounts.h"
#include "mail/retrieval_source.h"
#include "store/store_retrieval.h"

/* How long `run` waits for posternd by default. */
#define RUN_WAIT_DEFAULT 120

static int parse_id(const char *s, uint64_t *id_r)
{
	if (str_to_uint64(s, id_r) < 0 || *id_r == 0)
		return ctl_error(EX_DATAERR, "not a retrieval id: %s", s);
	return 0;
}

static int find_account(const char *address, struct account *account_r)
{
	const char *error;

	if (account_find(address, account_r, &error) < 0)
		return ctl_error(EX_NOUSER, "%s", error);
	return 0;
}

static int get_source(const struct account *a, uint64_t id,
		      struct retrieval_source *s)
{
	const char *error;
	bool found;

	if (store_retrieval_get(a, id, s, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(1, "no retrieval %llu for %s@%s",
				 (unsigned long long)id, a->name, a->domain);
	return 0;
}

/* --password-file FILE: its first line. */
static int read_password_file(const char *file, struct retrieval_source *s)
{
	char buf[RETRIEVAL_PASSWORD_MAX + 2];
	const char *error;
	int ret;

	if (access(file, R_OK) != 0)
		return ctl_error(EX_NOINPUT, "cannot read the password file %s",
				 file);
	ret = ctl_read_password(file, buf, sizeof(buf));
	if (ret != 0) {
		explicit_bzero(buf, sizeof(buf));
		return ret;
	}
	ret = retrieval_source_set(s, "password", buf, &error);
	explicit_bzero(buf, sizeof(buf));
	if (ret < 0)
		return ctl_error(EX_DATAERR, "%s (in %s)", error, file);
	return 0;
}

static int set_one(struct retrieval_source *s, const char *key,
		   const char *value)
{
	const char *error;

	if (strcmp(key, "password_file") == 0)
		return read_password_file(value, s);
	if (strcmp(key, "password") == 0)
		return ctl_error(EX_USAGE, "a password is read from a file: password_file=FILE");
	if (retrieval_source_set(s, key, value, &error) < 0)
		return ctl_error(EX_DATAERR, "%s", error);
	return 0;
}

static const char *const add_usage =
	"usage: retrieval add ADDRESS --host H [--port P] [--tls implicit|stls|none] "
	"[--no-verify] --user U --password-file F [--auth user|apop|plain] "
	"[--mailbox M] [--keep] [--interval SECONDS] [--disabled]";

int ctl_retrieval_add(int argc, char **argv)
{
	static const char *const valued[] = { "host", "port", "tls", "user",
					      "password-file", "auth", "mailbox",
					      "interval", NULL };
	struct retrieval_source s;
	struct account account;
	const char *error;
	bool have_password = false;
	uint64_t id;
	int ret;

	if (argc < 1 || argv[0][0] == '-')
		return ctl_error(EX_USAGE, "%s", add_usage);
	retrieval_source_defaults(&s);
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		bool known = false;

		if (strncmp(opt, "--", 2) != 0)
			return ctl_error(EX_USAGE, "%s", add_usage);
		opt += 2;
		if (strcmp(opt, "no-verify") == 0 || strcmp(opt, "keep") == 0 ||
		    strcmp(opt, "disabled") == 0) {
			if (opt[0] == 'n')
				s.verify = false;
			else if (opt[0] == 'k')
				s.keep = true;
			else
				s.enabled = false;
			continue;
		}
		for (size_t k = 0; valued[k] != NULL; k++)
			known = known || strcmp(opt, valued[k]) == 0;
		if (!known)
			return ctl_error(EX_USAGE, "unknown option --%s\n%s", opt,
					 add_usage);
		if (i + 1 >= argc)
			return ctl_error(EX_USAGE, "--%s needs a value", opt);
		if (strcmp(opt, "password-file") == 0) {
			ret = read_password_file(argv[++i], &s);
			have_password = ret == 0;
		} else {
			ret = set_one(&s, opt, argv[++i]);
		}
		if (ret != 0) {
			explicit_bzero(&s, sizeof(s));
			return ret;
		}
	}
	if (!have_password) {
		explicit_bzero(&s, sizeof(s));
		return ctl_error(EX_USAGE, "--password-file FILE is needed\n%s",
				 add_usage);
	}
	if (retrieval_source_complete(&s, &error) < 0) {
		explicit_bzero(&s, sizeof(s));
		return ctl_error(EX_USAGE, "--%s\n%s", error, add_usage);
	}
	if ((ret = find_account(argv[0], &account)) != 0) {
		explicit_bzero(&s, sizeof(s));
		return ret;
	}
	s.account = account;
	ret = store_retrieval_add(&s, &id, &error);
	explicit_bzero(&s, sizeof(s));
	if (ret < 0)
		return ctl_error(1, "%s", error);
	printf("retrieval %llu added for %s@%s\n", (unsigned long long)id,
	       account.name, account.domain);
	return 0;
}

static const char *result_text(const struct retrieval_source *s)
{
	return s->running ? "running" : retrieval_result_name(s->last_result);
}

static void print_line(const struct retrieval_source *s, void *ctx)
{
	char last[32];

	(void)ctx;
	ctl_utc_text(s->last_run, "never", last, sizeof(last));
	printf("%-6llu %s@%s:%u %-8s -> %-16s every %us%s%s  last %s %s\n",
	       (unsigned long long)s->id, s->user, s->host, s->port,
	       retrieval_tls_name(s->tls), s->mailbox, s->interval,
	       s->keep ? " keep" : "", s->enabled ? "" : " (disabled)", last,
	       result_text(s));
}

int ctl_retrieval_list(int argc, char **argv)
{
	struct account account;
	const char *error;
	int ret;

	if (argc != 1)
		return ctl_error(EX_USAGE, "usage: retrieval list ADDRESS");
	if ((ret = find_account(argv[0], &account)) != 0)
		return ret;
	if (store_retrieval_list(&account, print_line, NULL, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	return 0;
}

static void print_source(const struct retrieval_source *s)
{
	char last[32], next[32];

	ctl_utc_text(s->last_run, "never", last, sizeof(last));
	if (!s->enabled)
		snprintf(next, sizeof(next), "never (disabled)");
	else if (s->running)
		snprintf(next, sizeof(next), "running now");
	else if (s->next_run <= (uint64_t)time(NULL))
		snprintf(next, sizeof(next), "now");
	else
		ctl_utc_text(s->next_run, "never", next, sizeof(next));
	printf("id: %llu\n", (unsigned long long)s->id);
	printf("account: %s@%s\n", s->account.name, s->account.domain);
	printf("host: %s\nport: %u\ntls: %s\nverify: %s\n", s->host, s->port,
	       retrieval_tls_name(s->tls), s->verify ? "yes" : "no");
	printf("user: %s\npassword: (set)\nauth: %s\n", s->user,
	       retrieval_auth_name(s->auth));
	printf("mailbox: %s\nkeep: %s\ninterval: %u\nenabled: %s\n", s->mailbox,
	       s->keep ? "yes" : "no", s->interval, s->enabled ? "yes" : "no");
	printf("last_run: %s\nlast_result: %s\nlast_error: %s\n", last,
	       result_text(s), s->last_error);
	printf("last_fetched: %u\nfailures: %u\nnext_run: %s\n", s->last_fetched,
	       s->failures, next);
}

int ctl_retrieval_show(int argc, char **argv)
{
	struct retrieval_source s;
	struct account account;
	uint64_t id;
	int ret;

	if (argc != 2)
		return ctl_error(EX_USAGE, "usage: retrieval show ADDRESS ID");
	if ((ret = find_account(argv[0], &account)) != 0 ||
	    (ret = parse_id(argv[1], &id)) != 0 ||
	    (ret = get_source(&account, id, &s)) != 0)
		return ret;
	print_source(&s);
	explicit_bzero(&s, sizeof(s));
	return 0;
}

int ctl_retrieval_set(int argc, char **argv)
{
	struct retrieval_source s;
	struct account account;
	const char *error;
	bool found;
	uint64_t id;
	int ret;

	if (argc < 3)
		return ctl_error(EX_USAGE, "usage: retrieval set ADDRESS ID KEY=VALUE...");
	if ((ret = find_account(argv[0], &account)) != 0 ||
	    (ret = parse_id(argv[1], &id)) != 0 ||
	    (ret = get_source(&account, id, &s)) != 0)
		return ret;
	for (int i = 2; i < argc; i++) {
		char key[32];
		const char *eq = strchr(argv[i], '=');

		if (eq == NULL || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof(key)) {
			explicit_bzero(&s, sizeof(s));
			return ctl_error(EX_USAGE, "not KEY=VALUE: %s", argv[i]);
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
		if ((ret = set_one(&s, key, eq + 1)) != 0) {
			explicit_bzero(&s, sizeof(s));
			return ret;
		}
	}
	ret = store_retrieval_update(&s, &found, &error);
	explicit_bzero(&s, sizeof(s));
	if (ret < 0)
		return ctl_error(1, "%s", error);
	if (!found)
		return ctl_error(1, "no retrieval %llu for %s@%s",
				 (unsigned long long)id, account.name, account.domain);
	printf("retrieval %llu changed\n", (unsigned long long)id);
	return 0;
}

int ctl_retrieval_del(int argc, char **argv)
{
	struct account account;
	const char *error;
	bool found;
	uint64_t id;
	int ret;

	if (argc != 2)
		return ctl_error(EX_USAGE, "usage: retrieval del ADDRESS ID");
	if ((ret = find_account(argv[0], &account)) != 0 ||
	    (ret = parse_id(argv[1], &id)) != 0)
		return ret;
	if (store_retrieval_del(&account, id, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found)
		return ctl_error(1, "no retrieval %llu for %s@%s",
				 (unsigned long long)id, account.name, account.domain);
	printf("retrieval %llu removed\n", (unsigned long long)id);
	return 0;
}

struct wanted {
	uint64_t id, seq;	/* run_seq before the request */
	bool done;
};

struct run_ctx {
	struct wanted *w;
	size_t n, max;
	bool more;		/* enabled sources past max */
};

static void collect(const struct retrieval_source *s, void *vctx)
{
	struct run_ctx *c = vctx;

	if (s->enabled && c->n == c->max)
		c->more = true;
	else if (s->enabled) {
		c->w[c->n].id = s->id;
		c->w[c->n].seq = s->run_seq;
		c->n++;
	}
}

/* Has the run asked for ended?  Prints its outcome when it has. */
static int check_done(const struct account *a, struct wanted *w, int *status)
{
	struct retrieval_source s;
	const char *error;
	bool found;

	if (store_retrieval_get(a, w->id, &s, &found, &error) < 0)
		return ctl_error(EX_TEMPFAIL, "%s", error);
	if (!found) {
		printf("retrieval %llu: removed meanwhile\n",
		       (unsigned long long)w->id);
		w->done = true;
		*status = 1;
		return 0;
	}
	if (!s.requested && !s.running && s.run_seq > w->seq &&
	    s.done_seq == s.run_seq) {
		w->done = true;
		if (s.last_result == RETRIEVAL_OK) {
			printf("retrieval %llu: ok, %u fetched\n",
			       (unsigned long long)w->id, s.last_fetched);
		} else {
			printf("retrieval %llu: failed: %s\n",
			       (unsigned long long)w->id, s.last_error);
			*status = 1;
		}
	}
	explicit_bzero(&s, sizeof(s));
	return 0;
}

int ctl_retrieval_run(int argc, char **argv)
{
	struct wanted w[64];
	struct run_ctx c = { w, 0, 64, false };
	struct account account;
	const char *error, *address = NULL, *idtext = NULL;
	bool wait = true, found;
	uint64_t id = 0, waitsecs = RUN_WAIT_DEFAULT;
	time_t deadline;
	size_t count;
	int ret, status = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--no-wait") == 0)
			wait = false;
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (str_parse_seconds(argv[++i], &waitsecs) < 0 || waitsecs == 0)
				return ctl_error(EX_USAGE, "--timeout: seconds, like 120 or 5m");
		} else if (argv[i][0] == '-')
			return ctl_error(EX_USAGE, "usage: retrieval run ADDRESS [ID] [--no-wait] [--timeout SECONDS]");
		else if (address == NULL)
			address = argv[i];
		else if (idtext == NULL)
			idtext = argv[i];
		else
			return ctl_error(EX_USAGE, "usage: retrieval run ADDRESS [ID] [--no-wait] [--timeout SECONDS]");
	}
	if (address == NULL)
		return ctl_error(EX_USAGE, "usage: retrieval run ADDRESS [ID] [--no-wait] [--timeout SECONDS]");
	if ((ret = find_account(address, &account)) != 0 ||
	    (idtext != NULL && (ret = parse_id(idtext, &id)) != 0))
		return ret;
	if (id != 0) {
		struct retrieval_source s;

		if ((ret = get_source(&account, id, &s)) != 0)
			return ret;
		w[0].id = id;
		w[0].seq = s.run_seq;
		c.n = 1;
		found = s.enabled;
		explicit_bzero(&s, sizeof(s));
		if (!found)
			return ctl_error(1, "retrieval %llu is disabled: retrieval set %s %llu enabled=yes",
					 (unsigned long long)id, address,
					 (unsigned long long)id);
	} else if (store_retrieval_list(&account, collect, &c, &error) < 0) {
		return ctl_error(EX_TEMPFAIL, "%s", error);
	}
	if (c.n == 0)
		return ctl_error(1, "%s@%s has no enabled retrieval", account.name,
				 account.domain);
	if (c.more)
		return ctl_error(EX_USAGE, "%s@%s has more than %zu enabled retrievals: run them by ID",
				 account.name, account.domain, c.max);
	for (size_t i = 0; i < c.n; i++) {
		if (store_retrieval_request(&account, w[i].id, 0, &count, &found,
					    &error) < 0)
			return ctl_error(EX_TEMPFAIL, "%s", error);
		w[i].done = false;
	}
	if (!wait) {
		for (size_t i = 0; i < c.n; i++)
			printf("retrieval %llu: asked to run\n",
			       (unsigned long long)w[i].id);
		return 0;
	}
	deadline = time(NULL) + (time_t)waitsecs;
	for (;;) {
		size_t left = 0;

		for (size_t i = 0; i < c.n; i++) {
			if (!w[i].done &&
			    (ret = check_done(&account, &w[i], &status)) != 0)
				return ret;
			left += !w[i].done;
		}
		if (left == 0)
			return status;
		if (time(NULL) >= deadline)
			break;
		usleep(100 * 1000);
	}
	for (size_t i = 0; i < c.n; i++)
		if (!w[i].done)
			printf("retrieval %llu: not run within %llu s - is posternd running with the retrieval module?\n",
			       (unsigned long long)w[i].id,
			       (unsigned long long)waitsecs);
	return EX_TEMPFAIL;
}

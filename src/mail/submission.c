/* submission.c - envelope and header of a submitted message (SPEC.md 5). */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "lib/xalloc.h"
#include "mail/header.h"
#include "mail/header_gen.h"
#include "mail/submission.h"

/* LF-only input at most doubles with CRLF; then the fields we add. */
#define OUT_HEADER_MAX (2 * SUBMISSION_HEADER_MAX + 1024)
#define HOSTNAME_MAX 253
#define MESSAGE_ID_RANDOM 16	/* octets: 128 bits, no collision to fear */

enum field_role {
	ROLE_OTHER,
	ROLE_RCPT,
	ROLE_FROM,
	ROLE_DATE,
	ROLE_MSGID,
};

/* A field and its counterpart in a Resent- block (RFC 5322 3.6.6). */
static const struct {
	const char *name;
	const char *resent_name;
	enum field_role role;
} fields[] = {
	{ "To", "Resent-To", ROLE_RCPT },
	{ "Cc", "Resent-Cc", ROLE_RCPT },
	{ "Bcc", "Resent-Bcc", ROLE_RCPT },
	{ "From", "Resent-From", ROLE_FROM },
	{ "Date", "Resent-Date", ROLE_DATE },
	{ "Message-ID", "Resent-Message-ID", ROLE_MSGID },
};

struct submit_ctx {
	struct submission_header *out;
	const char *sender;
	const char *hostname;
	time_t now;
	GHashTable *seen;	/* "local@lower-case domain" of each rcpt */
	struct buf value;	/* the unfolded field body GMime reads */
	GMimeParserOptions *options;
	unsigned int rcpt_fields;
	size_t rcpt_cap;
	bool has_from, has_date, has_msgid;
	bool list_invalid;	/* GMime's warning for the current field */
};

/* GMime 3.2 cannot start again after g_mime_shutdown() (its charset
 * tables stay freed), so fini is for the end of the process only. */
static enum { GMIME_NEW, GMIME_READY, GMIME_SHUT } gmime_state;
static char errbuf[256];

void submission_init(void)
{
	if (gmime_state != GMIME_NEW)
		return;
	g_mime_init();
	gmime_state = GMIME_READY;
}

void submission_fini(void)
{
	if (gmime_state != GMIME_READY)
		return;
	g_mime_shutdown();
	gmime_state = GMIME_SHUT;
}

/* Addresses and field bodies come from the client: a printable prefix. */
static const char *shown(const char *s)
{
	static char out[64];
	size_t n = 0, i;

	while (*s == ' ' || *s == '\t')
		s++;
	for (i = 0; s[i] != '\0' && n < 56; i++) {
		unsigned char c = (unsigned char)s[i];

		out[n++] = c >= 32 && c < 127 ? (char)c : '?';
	}
	if (s[i] != '\0') {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static int field_error(const char *field, const char *why, const char *what,
		       const char **error_r)
{
	snprintf(errbuf, sizeof(errbuf), "the %s field %s: '%s'", field, why,
		 shown(what));
	*error_r = errbuf;
	return -1;
}

static bool is_resent(const struct header_field *f)
{
	return f->name_len > 7 && strncasecmp(f->name, "Resent-", 7) == 0;
}

static bool is_bcc(const struct header_field *f)
{
	return header_field_is(f, "Bcc") || header_field_is(f, "Resent-Bcc");
}

/* The role of f where recipients are taken from; *name_r its name as
 * written in errors. */
static enum field_role field_role(const struct header_field *f, bool resent,
				  const char **name_r)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *name = resent ? fields[i].resent_name : fields[i].name;

		if (header_field_is(f, name)) {
			*name_r = name;
			return fields[i].role;
		}
	}
	*name_r = NULL;
	return ROLE_OTHER;
}

/* The '@' between local part and domain: a quoted local part may hold
 * one of its own. */
static const char *addr_at(const char *addr)
{
	const char *p = addr;

	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
		}
		if (*p == '"')
			p++;
	}
	return strchr(p, '@');
}

static int rcpt_add(struct submit_ctx *c, const char *field, const char *addr,
		    const char **error_r)
{
	struct submission_header *out = c->out;
	const char *at = addr_at(addr);
	size_t len = strlen(addr);
	char *key;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)addr[i];

		/* it will stand in an SMTP command line */
		if (ch < 32 || ch == 127)
			return field_error(field, "holds an address with control characters",
					   addr, error_r);
	}
	if (at == NULL || at == addr || at[1] == '\0')
		return field_error(field, "holds an address without a domain",
				   addr, error_r);
	if (len > SUBMISSION_ADDRESS_MAX) {
		snprintf(errbuf, sizeof(errbuf),
			 "the %s field holds an address longer than %d octets: '%s'",
			 field, SUBMISSION_ADDRESS_MAX, shown(addr));
		*error_r = errbuf;
		return -1;
	}

	key = g_strdup(addr);
	for (char *p = key + (at - addr) + 1; *p != '\0'; p++)
		*p = g_ascii_tolower(*p);
	if (g_hash_table_contains(c->seen, key)) {
		g_free(key);
		return 0;
	}
	if (out->rcpt_count >= SUBMISSION_RCPT_MAX) {
		g_free(key);
		snprintf(errbuf, sizeof(errbuf),
			 "too many recipients (at most %d)", SUBMISSION_RCPT_MAX);
		*error_r = errbuf;
		return -1;
	}
	g_hash_table_add(c->seen, key);
	if (out->rcpt_count == c->rcpt_cap) {
		c->rcpt_cap = c->rcpt_cap ? c->rcpt_cap * 2 : 8;
		out->rcpts = xrealloc(out->rcpts, c->rcpt_cap * sizeof(*out->rcpts));
	}
	out->rcpts[out->rcpt_count++] = xstrdup(addr);
	return 0;
}

/* Mailboxes, and the members of groups, in order.  The depth is bounded by
 * SUBMISSION_FIELD_COLONS_MAX. */
static int rcpt_add_list(struct submit_ctx *c, const char *field,
			 InternetAddressList *list, const char **error_r)
{
	int n = internet_address_list_length(list);

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressGroup *group = INTERNET_ADDRESS_GROUP(ia);
			InternetAddressList *members =
				internet_address_group_get_members(group);

			if (members != NULL &&
			    rcpt_add_list(c, field, members, error_r) < 0)
				return -1;
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			InternetAddressMailbox *mb = INTERNET_ADDRESS_MAILBOX(ia);
			/* the domain in its ASCII (IDNA) form: the relay looks
			 * it up in the DNS, the Router compares it with ours */
			const char *addr = internet_address_mailbox_get_idn_addr(mb);

			if (addr == NULL)
				addr = internet_address_mailbox_get_addr(mb);
			if (addr == NULL || *addr == '\0')
				return field_error(field, "holds an empty address", "",
						   error_r);
			if (rcpt_add(c, field, addr, error_r) < 0)
				return -1;
		}
	}
	return 0;
}

static void gmime_warning(gint64 offset, GMimeParserWarning code,
			  const gchar *item, gpointer user_data)
{
	struct submit_ctx *c = user_data;

	(void)offset;
	(void)item;
	/* GMime skips what it cannot read and says so only here; a badly
	 * encoded display name (other warnings) still has a good address */
	if (code == GMIME_WARN_INVALID_ADDRESS_LIST)
		c->list_invalid = true;
}

static int rcpt_parse_field(struct submit_ctx *c, const struct header_field *f,
			    const char *field, const char **error_r)
{
	InternetAddressList *list;
	const char *value;
	size_t colons = 0;
	bool blank = true;
	int ret;

	if (++c->rcpt_fields > SUBMISSION_RCPT_FIELDS_MAX) {
		snprintf(errbuf, sizeof(errbuf),
			 "more than %d %s fields", SUBMISSION_RCPT_FIELDS_MAX,
			 c->out->resent ? "Resent-To, Resent-Cc and Resent-Bcc" :
			 "To, Cc and Bcc");
		*error_r = errbuf;
		return -1;
	}
	buf_reset(&c->value);
	if (header_field_unfold(f, &c->value) < 0)
		return field_error(field, "is too long", "", error_r);
	value = buf_cstr(&c->value);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == ':')
			colons++;
		if (*p != ' ' && *p != '\t')
			blank = false;
	}
	/* an empty Cc is what some clients write for "none" */
	if (blank)
		return 0;
	if (colons > SUBMISSION_FIELD_COLONS_MAX) {
		snprintf(errbuf, sizeof(errbuf),
			 "the %s field holds more than %d ':' (groups)", field,
			 SUBMISSION_FIELD_COLONS_MAX);
		*error_r = errbuf;
		return -1;
	}

	c->list_invalid = false;
	list = internet_address_list_parse(c->options, value);

	/* NULL: not one address could be read ("<>", "junk <<<") */
	if (list == NULL || c->list_invalid) {
		if (list != NULL)
			g_object_unref(list);
		return field_error(field, "is not a valid address list", value,
				   error_r);
	}
	ret = rcpt_add_list(c, field, list, error_r);
	g_object_unref(list);
	return ret;
}

static int add_date(struct submit_ctx *c, const char *prefix,
		    const char **error_r)
{
	char date[HEADER_DATE_SIZE];

	if (header_gen_date(c->now, date) < 0) {
		*error_r = "the submission time cannot be written as a date";
		return -1;
	}
	if (buf_printf(&c->out->header, "%sDate: %s\r\n", prefix, date) < 0) {
		*error_r = "the header is too long";
		return -1;
	}
	return 0;
}

static int add_message_id(struct submit_ctx *c, const char *prefix,
			  const char **error_r)
{
	char text[MESSAGE_ID_RANDOM * 2 + 1];

	if (header_gen_random_hex(text, MESSAGE_ID_RANDOM) < 0) {
		snprintf(errbuf, sizeof(errbuf),
			 "no random bytes for a Message-ID: %s", strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	if (buf_printf(&c->out->header, "%sMessage-ID: <%s@%s>\r\n", prefix,
		       text, c->hostname) < 0) {
		*error_r = "the header is too long";
		return -1;
	}
	return 0;
}

/* prefix: "" for the message's own fields, "Resent-" for its top block. */
static int add_missing(struct submit_ctx *c, const char *prefix,
		       const char **error_r)
{
	if (!c->has_from &&
	    buf_printf(&c->out->header, "%sFrom: <%s>\r\n", prefix, c->sender) < 0) {
		*error_r = "the header is too long";
		return -1;
	}
	if (!c->has_date && add_date(c, prefix, error_r) < 0)
		return -1;
	if (!c->has_msgid && add_message_id(c, prefix, error_r) < 0)
		return -1;
	return 0;
}

/* The caller's own values: checked, since they are written into the
 * header as they are. */
static int check_args(const char *sender, const char *hostname,
		      const char **error_r)
{
	size_t len = sender != NULL ? strlen(sender) : 0;

	if (len == 0 || len > SUBMISSION_ADDRESS_MAX ||
	    strchr(sender, '@') == NULL) {
		*error_r = "the sender is not an address (an internal error)";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)sender[i];

		if (ch < 32 || ch == 127 || ch == '<' || ch == '>') {
			*error_r = "the sender is not an address (an internal error)";
			return -1;
		}
	}
	len = hostname != NULL ? strlen(hostname) : 0;
	if (len == 0 || len > HOSTNAME_MAX ||
	    strspn(hostname, "abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != len) {
		*error_r = "the server's hostname is not a domain name (letters, digits, '.', '-')";
		return -1;
	}
	return 0;
}

/* One field: recipients and presence taken where they count, then kept
 * or dropped. */
static int process_field(struct submit_ctx *c, const struct header_field *f,
			 bool in_scope, const char **error_r)
{
	const char *name;

	if (in_scope) {
		switch (field_role(f, c->out->resent, &name)) {
		case ROLE_RCPT:
			if (rcpt_parse_field(c, f, name, error_r) < 0)
				return -1;
			break;
		case ROLE_FROM:
			c->has_from = true;
			break;
		case ROLE_DATE:
			c->has_date = true;
			break;
		case ROLE_MSGID:
			c->has_msgid = true;
			break;
		case ROLE_OTHER:
			break;
		}
	}
	/* Blind copies stay blind: every Bcc and Resent-Bcc goes, also those
	 * outside the block the recipients come from (a message resent from
	 * the Sent folder still has the first sending's Bcc). */
	if (is_bcc(f))
		return 0;
	if (header_field_append_crlf(f, &c->out->header) < 0) {
		*error_r = "the header is too long";
		return -1;
	}
	return 0;
}

static int process_header(struct submit_ctx *c, const char *hdr, size_t len,
			  const char **error_r)
{
	struct submission_header *out = c->out;
	struct header_reader r;
	struct header_field f;
	bool first = true, in_block = false;
	int ret;

	header_reader_init(&r, hdr, len, SUBMISSION_HEADER_MAX);
	while ((ret = header_reader_next(&r, &f, error_r)) > 0) {
		if (first) {
			out->resent = in_block = is_resent(&f);
			first = false;
		} else if (in_block && !is_resent(&f)) {
			/* the end of the newest Resent- block: what it lacks
			 * goes at its end, keeping the block whole */
			in_block = false;
			if (add_missing(c, "Resent-", error_r) < 0)
				return -1;
		}
		if (process_field(c, &f, !out->resent || in_block, error_r) < 0)
			return -1;
	}
	if (ret < 0)
		return -1;
	if (in_block && add_missing(c, "Resent-", error_r) < 0)
		return -1;
	if (!out->resent && add_missing(c, "", error_r) < 0)
		return -1;
	if (buf_append(&out->header, "\r\n", 2) < 0) {
		*error_r = "the header is too long";
		return -1;
	}
	if (out->rcpt_count == 0) {
		*error_r = "no recipients";
		return -1;
	}
	out->body_offset = r.body_offset;
	return 0;
}

int submission_header_process(const char *hdr, size_t len, const char *sender,
			      const char *hostname, time_t now,
			      struct submission_header *out,
			      const char **error_r)
{
	struct submit_ctx c;
	int ret;

	memset(out, 0, sizeof(*out));
	buf_init(&out->header, OUT_HEADER_MAX);
	if (check_args(sender, hostname, error_r) < 0)
		return -1;
	submission_init();
	if (gmime_state != GMIME_READY) {
		*error_r = "submission_header_process() after submission_fini() (an internal error)";
		return -1;
	}

	memset(&c, 0, sizeof(c));
	c.out = out;
	c.sender = sender;
	c.hostname = hostname;
	c.now = now;
	c.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	buf_init(&c.value, SUBMISSION_HEADER_MAX);
	c.options = g_mime_parser_options_new();
	g_mime_parser_options_set_address_compliance_mode(c.options,
		GMIME_RFC_COMPLIANCE_STRICT);
	g_mime_parser_options_set_warning_callback(c.options, gmime_warning, &c);

	ret = process_header(&c, hdr, len, error_r);
	g_mime_parser_options_free(c.options);
	g_hash_table_destroy(c.seen);
	buf_free(&c.value);
	if (ret < 0)
		submission_header_free(out);
	return ret;
}

void submission_header_free(struct submission_header *h)
{
	for (size_t i = 0; i < h->rcpt_count; i++)
		free(h->rcpts[i]);
	free(h->rcpts);
	h->rcpts = NULL;
	h->rcpt_count = 0;
	h->resent = false;
	h->body_offset = 0;
	buf_free(&h->header);
}

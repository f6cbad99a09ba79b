/*
 * postern/module.h - the only header a Postern module includes.
 *
 * A module is a shared object that exports one `const struct pn_module
 * postern_module`.  The host (posternd) refuses a module whose `abi` differs
 * from POSTERN_MODULE_ABI.  Everything a module may call is declared here:
 * logging, its settings, the connection API and the store/account services.
 * Modules never see libev, OpenSSL or LMDB.
 *
 * Conventions (Dovecot's): functions that can fail return 0 on success and
 * -1 on failure with a person-readable reason in *error_r; out-parameters
 * end in _r.  Strings returned through error_r are static or live until the
 * next call into the same subsystem.
 */
#ifndef POSTERN_MODULE_H
#define POSTERN_MODULE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bump whenever a structure or function below changes incompatibly. */
#define POSTERN_MODULE_ABI 14

#define PN_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* ------------------------------------------------------------------ */
/* Logging: records carry a tag naming the module ("POP", "HOST"...).  */
/* Control characters in a record are escaped before it is written.   */

enum log_level { LOG_ERROR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
	PN_PRINTF(3, 4);
bool log_enabled(enum log_level level);

/* ------------------------------------------------------------------ */
/* Settings: a module declares a table; the host fills the module's    */
/* settings struct from section [name] of the configuration.           */

enum setting_type {
	SETTING_STRING,  /* char *                                   */
	SETTING_UINT,    /* unsigned int, checked against min..max   */
	SETTING_BOOL,    /* bool: yes/no/true/false/on/off/1/0        */
	SETTING_SECONDS, /* unsigned int; "30", "30s", "5m", "1h"     */
	SETTING_SIZE,    /* uint64_t; "512", "10k", "20M", "1G"       */
	SETTING_LIST,    /* struct setting_list, comma separated      */
};

struct setting_list {
	size_t count;
	char **items;
};

struct setting_def {
	const char *key;
	enum setting_type type;
	size_t offset;		/* offsetof() into the settings struct */
	const char *def;	/* default, written as in the file */
	uint64_t min, max;	/* for numbers; max 0 = no limit */
};
#define SETTING_DEFS_END { NULL, SETTING_STRING, 0, NULL, 0, 0 }

/* The settings every protocol module has; the module embeds this struct
 * in its own settings and names its offset in struct pn_protocol. */
struct listener_settings {
	struct setting_list listen;	/* address:port, [v6]:port */
	struct setting_list tls_listen;	/* the same, TLS from the first byte */
	unsigned int channels;		/* max sessions; 0 = do not listen */
	unsigned int channels_per_ip;	/* 0 = no per-address limit */
	unsigned int idle_timeout;	/* seconds */
};

/* ------------------------------------------------------------------ */
/* Connections.  The host owns the socket, bounded buffers, the idle    */
/* timer and (later) TLS; the module sees lines in and bytes out.       */

struct conn;

/* Queue bytes for the client.  Never blocks; the host pauses reading
 * commands while output is backed up. */
void conn_write(struct conn *conn, const void *data, size_t len);
void conn_printf(struct conn *conn, const char *fmt, ...) PN_PRINTF(2, 3);
/* A NUL-terminated string (fixed reply text). */
void conn_puts(struct conn *conn, const char *s);

#define CONN_SEND_DOTSTUFF 0x01	/* double a '.' that starts a line */

/* Queue `len` octets of file `fd` starting at `offset`, after what is
 * already queued.  With `max_lines` >= 0, stop after that many lines that
 * follow the first `hdr_len` octets (POP TOP); -1 sends everything.
 * The connection takes ownership of fd and closes it. */
void conn_send_file(struct conn *conn, int fd, uint64_t offset, uint64_t len,
		    unsigned int flags, uint64_t hdr_len, long max_lines);

/* Longest line (without CRLF) passed to the line callback; a longer one
 * goes to line_too_long and is discarded up to its LF. */
void conn_set_max_line(struct conn *conn, size_t max_line);

/* Long output in steps: `fn` is called when the queued output has drained
 * below the low-water mark; until it returns false no further command line
 * is passed to the module.  Keeps LIST/UIDL of huge mailboxes bounded. */
typedef bool conn_continue_fn(void *session);
void conn_set_continue(struct conn *conn, conn_continue_fn *fn);

/* Dot-terminated data (LMTP DATA, POP XTND XMIT).  Called from the line
 * callback of the command that starts it: what the client sends after
 * that line is read as a dot-stuffed message (RFC 5321 4.5.2) - the
 * stuffing removed, line ends kept as sent, lines of any length - and
 * passed to `data` in chunks, up to the line holding only "."; then `end`
 * is called and command lines resume, pipelined ones included.  The module
 * bounds the size (and keeps draining past it).  A client that goes away
 * first gets neither `end` nor more data: only the protocol's close. */
typedef void conn_data_fn(void *session, const void *data, size_t len);
typedef void conn_data_end_fn(void *session);
void conn_read_dotted(struct conn *conn, conn_data_fn *data,
		      conn_data_end_fn *end);

/* Hold the connection: no further line or message data reaches the module
 * until conn_release (a delivery being made durable off the loop).  Output
 * still flows.  Holds nest.  conn_release never calls back into the module
 * before it returns: processing resumes from the loop. */
void conn_hold(struct conn *conn);
void conn_release(struct conn *conn);

/* Close once everything queued has been written (or the timeout hits). */
void conn_close_after_flush(struct conn *conn);

/* Hold everything for `msec` milliseconds (failure delay): output already
 * queued (the error reply) is sent, and further lines are passed on, only
 * when the delay is over. */
void conn_delay_input(struct conn *conn, unsigned int msec);

/* TLS.  The module offers STARTTLS (STLS) only when conn_tls_available()
 * and not conn_tls_active().  After queuing its go-ahead reply it calls
 * conn_starttls(): the reply goes out in the clear, everything the client
 * sent after the command is discarded, and no further line reaches the
 * module until the handshake is done (then it arrives encrypted). */
bool conn_tls_available(const struct conn *conn);	/* a certificate exists */
/* The files of the host's default certificate and its key ([tls] cert and
 * key, the same file when the key is in it), for a module that runs a TLS
 * library of its own (the web admin's HTTPS); false when there is none. */
bool pn_tls_files(const char **cert_r, const char **key_r);
/* A listening TCP socket for `address` ("127.0.0.1:8010", "[::1]:8010",
 * "*:8010"), non-blocking, made as the host makes its own (errors name
 * `setting`, the address and what to do).  The fd, or -1. */
int pn_listen_tcp(const char *setting, const char *address,
		  const char **error_r);
bool conn_tls_active(const struct conn *conn);		/* on, or starting */
int conn_starttls(struct conn *conn, const char **error_r);

/* "192.0.2.1"; "local" for a UNIX socket (then conn_local_ip is "") */
const char *conn_peer_ip(const struct conn *conn);
const char *conn_local_ip(const struct conn *conn);
bool conn_peer_is_loopback(const struct conn *conn);

/* Name the authenticated user (and what it opened) in later log records. */
void conn_set_log_user(struct conn *conn, const char *user);

void conn_log(struct conn *conn, enum log_level level, const char *fmt, ...)
	PN_PRINTF(3, 4);

/* ------------------------------------------------------------------ */
/* Timers and outgoing connections, for background modules (the relay's  */
/* queue runner and SMTP client).                                       */

struct pn_timer;
typedef void pn_timer_fn(void *ctx);

/* A one-shot timer on the loop; start again to repeat. */
struct pn_timer *pn_timer_new(pn_timer_fn *fn, void *ctx);
void pn_timer_start(struct pn_timer *t, double seconds);
void pn_timer_stop(struct pn_timer *t);
void pn_timer_free(struct pn_timer **t);
/* The loop's clock: seconds since the epoch, as of this loop turn. */
double pn_now(void);

/* A file descriptor watched on the loop, for a module that runs its own
 * protocol library (the web admin's HTTP server): fn is called when it is
 * readable or writable as asked. */
struct pn_io;
typedef void pn_io_fn(void *ctx, bool readable, bool writable);
struct pn_io *pn_io_new(int fd, bool want_read, bool want_write, pn_io_fn *fn,
			void *ctx);
void pn_io_free(struct pn_io **io);

/* A client connection: the same object as an accepted one (bounded line
 * input, output queue, files, TLS), made by connecting.  `proto` gives
 * the line, line_too_long and close callbacks (open is not used) and the
 * longest line.  The host name is resolved off the loop; each address is
 * tried in turn within `timeout` seconds (also the idle timeout after).
 * `connected` is called once: error NULL when connected (then lines flow
 * and close ends it as for any connection), or a reason (then the
 * connection is gone and close is not called).  `mod` names the module
 * for the log tag and for closing at shutdown.  NULL with *error_r for
 * bad arguments. */
typedef void conn_connected_fn(void *session, const char *error);
struct pn_module;
struct pn_protocol;
struct conn *conn_connect(const struct pn_module *mod, const char *host,
			  const char *port, const struct pn_protocol *proto,
			  void *session, unsigned int timeout,
			  conn_connected_fn *connected, const char **error_r);
/* A connected client connection's idle timeout from now on, in seconds
 * (0: 60): how long the other end may take to answer, where the connect
 * timeout was too short for that (SMTP allows minutes per reply).  It
 * counts from the last activity.  Nothing for an accepted connection,
 * which follows its listener's setting. */
void conn_set_timeout(struct conn *conn, unsigned int seconds);
/* The other end, for the log ("smtp.example.net[192.0.2.7]:587"). */
const char *conn_peer_name(const struct conn *conn);

/* TLS as a client (after the server's go-ahead to STARTTLS, or at once
 * for implicit TLS): `servername` goes out as SNI and, with `verify`, the
 * certificate must chain to a trusted CA (the system's, or `ca_file`) and
 * name that host.  Input the server sent before the handshake is thrown
 * away.  `done` is called when the handshake is over: error NULL, or why it
 * failed (then the connection is closing). */
typedef void conn_tls_done_fn(void *session, const char *error);
int conn_starttls_client(struct conn *conn, const char *servername,
			 bool verify, const char *ca_file,
			 conn_tls_done_fn *done, const char **error_r);

/* Close now, without flushing: the module ends a client connection.  close
 * is not called for it. */
void conn_abort(struct conn *conn);

/* ------------------------------------------------------------------ */
/* Accounts and authentication.                                         */

#define ACCOUNT_NAME_MAX 128	/* octets, also for domain names */
#define ADDRESS_MAX (ACCOUNT_NAME_MAX * 2 + 2)

struct account {
	uint64_t id;
	char name[ACCOUNT_NAME_MAX + 1];	/* lower case */
	char domain[ACCOUNT_NAME_MAX + 1];	/* lower case */
};

enum auth_result {
	AUTH_OK,
	AUTH_FAILED,		/* unknown user or wrong password */
	AUTH_TEMPFAIL,		/* store fault: try again later */
};

/* APOP (RFC 1939): only where a plaintext-equivalent secret is kept
 * (auth.cleartext_secrets).  digest: hex MD5 of timestamp and password. */
bool auth_apop_available(void);
enum auth_result auth_login_apop(const char *login, const char *timestamp,
				 const char *digest, const char *local_ip,
				 struct account *account_r, const char **mailbox_r,
				 const char **view_r, const char **error_r);

/* Logins.  Password checks (yescrypt: milliseconds each) run on the
 * host's verification threads, not on the event loop, so a login answers
 * through a callback: `done` is called exactly once, on the loop, after the
 * call has returned (at the earliest when the module's line callback
 * returns), and not at all if the connection closes first.  Until then no
 * further command line reaches the module. */
enum auth_step {
	AUTH_STEP_CONTINUE,	/* send reply->out as a challenge, await a reply */
	AUTH_STEP_OK,		/* reply->account is authenticated */
	AUTH_STEP_FAILED,	/* wrong credentials or protocol: [AUTH] */
	AUTH_STEP_TEMPFAIL,	/* store fault: [SYS/TEMP] */
	AUTH_STEP_NOMECH,	/* unknown, or not allowed now */
};

struct auth_reply {
	enum auth_step step;
	const void *out;	/* CONTINUE: raw challenge (module does base64) */
	size_t outlen;
	struct account account;	/* OK */
	/* OK: what the login name asks to open, the part before its last
	 * '#' ("lists/info", "~public/announces"); "" means INBOX */
	const char *mailbox;
	/* OK: "" normally; an address when the login name was routed to a
	 * unified account ("abcdef@client1.com" to cl1): the session shows
	 * only the messages delivered for it (pass it to mailbox_open) */
	const char *view;
	const char *error;	/* FAILED, TEMPFAIL: why, for the log only (it
				 * must not tell the client who exists) */
};
typedef void auth_done_fn(void *session, const struct auth_reply *reply);

/* USER/PASS: resolve `login` ("jsmith", "jsmith@example.com",
 * "jsmith%example.com", with "mailbox#" before it: SPEC.md 1) relative to
 * the local address and check the password.  The password is copied; the caller may wipe its buffer. */
void conn_login_plain(struct conn *conn, const char *login,
		      const char *password, auth_done_fn *done);

/* SASL through Cyrus SASL (the host's [auth] settings).  The mechanisms a
 * connection may use depend on TLS, the client address and
 * auth.allow_plaintext; data in and out is raw (the module does base64). */
/* Space-separated mechanisms usable on this connection now ("" if none). */
const char *conn_sasl_mechs(struct conn *conn, const char *service);
/* has_initial false: no initial response; true with inlen 0: empty one. */
void conn_sasl_start(struct conn *conn, const char *service, const char *mech,
		     const void *in, size_t inlen, bool has_initial,
		     auth_done_fn *done);
void conn_sasl_step(struct conn *conn, const void *in, size_t inlen,
		    auth_done_fn *done);
void conn_sasl_abort(struct conn *conn);
/* After a failed login: hold the answer back by the client address's
 * growing penalty (auth.failure_delay_ms, doubling, at most 15 s).  After a
 * successful one: clear the address's penalty. */
void conn_auth_failed(struct conn *conn);
void conn_auth_succeeded(struct conn *conn);
/* May cleartext passwords (USER/PASS, PLAIN, LOGIN) be used here now? */
bool conn_plaintext_allowed(const struct conn *conn);

/* Base64 (RFC 4648).  decode: -1 on bad input or no room. encode: the
 * length written (NUL-terminated), or -1. */
int base64_decode(const char *in, size_t inlen, void *out, size_t outsize,
		  size_t *outlen_r);
int base64_encode(const void *in, size_t inlen, char *out, size_t outsize);

/* ------------------------------------------------------------------ */
/* Mailboxes and messages.                                              */

#define MSG_SEEN		0x0001u
#define MSG_HAS_DOT_LINE	0x0100u	/* some line starts with '.' */
#define MSG_CUSTOM_UIDL		0x0200u	/* UIDL kept from an import */
#define MSG_POP_HIDDEN		0x0400u	/* pop_delete = hide: never shown to POP */

#define UIDL_MAX 70

struct msg_info {
	uint32_t uid;
	uint32_t size;		/* exact octets, CRLF line ends */
	uint32_t hdr_len;	/* octets up to and including the blank line */
	uint32_t flags;
	uint32_t uidl_off;	/* offset of a custom UIDL in the arena */
	uint8_t body_id[16];
};

/* A copy of a mailbox's message list, taken in one short read transaction.
 * It never changes; later deliveries and removals are not reflected. */
struct mailbox_snapshot {
	uint64_t mailbox_id;
	uint32_t uidvalidity;
	uint32_t count;
	uint64_t total_size;
	struct msg_info *msgs;	/* in uid order */
	char *uidl_arena;
};

/* view: NULL or "" for every message; an address ("abcdef@client1.com")
 * for only the messages delivered for it (their X-Real-To, SPEC.md 4). */
int mailbox_snapshot_take(const struct account *account, const char *mailbox,
			  const char *view, struct mailbox_snapshot **snap_r,
			  const char **error_r);
/* What a POP session sees of a mailbox: the view, no message that arrived
 * before `since` (0: all; pop_from = enable-time), none hidden. */
struct snapshot_filter {
	const char *view;
	uint64_t since;
	bool skip_hidden;
};
int mailbox_snapshot_take_filtered(const struct account *account,
				   const char *mailbox,
				   const struct snapshot_filter *filter,
				   struct mailbox_snapshot **snap_r,
				   const char **error_r);

/* Mailbox access rights (SPEC.md 2; the letters of RFC 4314). */
#define ACL_LOOKUP	0x001u	/* l: see the mailbox in listings */
#define ACL_READ	0x002u	/* r: open it, read messages */
#define ACL_SEEN	0x004u	/* s: keep the Seen flag (RETR marks it) */
#define ACL_WRITE	0x008u	/* w: other flags */
#define ACL_INSERT	0x010u	/* i: append, copy into it */
#define ACL_POST	0x020u	/* p: Direct Mailbox Addressing delivery */
#define ACL_CREATE	0x040u	/* c: create sub-mailboxes */
#define ACL_DELETE	0x080u	/* d: delete messages (POP DELE) */
#define ACL_ADMIN	0x100u	/* a: administer the ACL */
#define ACL_ALL		0x1ffu	/* what the owner has */

#define MAILBOX_NAME_MAX 255

/* A mailbox a session has opened. */
struct mailbox_open {
	struct account owner;		/* whose mailbox it is */
	char name[MAILBOX_NAME_MAX + 1];
	char view[ADDRESS_MAX + 1];	/* "" or the X-Real-To address shown */
	unsigned int rights;		/* ACL_* the user held at opening */
	struct mailbox_snapshot *snap;
};

enum mailbox_open_result {
	MAILBOX_OPEN_OK,
	MAILBOX_OPEN_NONE,	/* no such mailbox, no right to it, a bad name:
				 * one answer for all (names cannot be probed);
				 * *error_r tells the log which */
	MAILBOX_OPEN_TEMPFAIL,	/* store fault */
};

/* Open `ref` for `user`: "" is the user's INBOX, "name" a mailbox of the
 * user's own, "~owner[@domain]/name" one of another account (no domain:
 * the user's).  Needs the `r` right; takes the snapshot, of only the
 * messages delivered for `view` when that is not NULL or "" (the login's
 * auth_reply.view), none hidden from POP, and none older than `since`
 * (0: all).  Free with mailbox_snapshot_free(&open->snap). */
enum mailbox_open_result mailbox_open(const struct account *user,
				      const char *ref, const char *view,
				      uint64_t since,
				      struct mailbox_open *open_r,
				      const char **error_r);

/* The rights `user` holds in an opened mailbox now (DELE asks when it
 * happens, so a right taken away counts at once). */
int mailbox_rights(const struct account *user, const struct mailbox_open *open,
		   unsigned int *rights_r, const char **error_r);
void mailbox_snapshot_free(struct mailbox_snapshot **snap);

/* The UIDL of message `msg` of `snap` into buf (UIDL_MAX + 1 octets). */
void mailbox_snapshot_uidl(const struct mailbox_snapshot *snap,
			   const struct msg_info *msg, char *buf);

/* Open a message body read-only.  Returns 0, or -1 with errno ENOENT when
 * another session has removed it, other errno for faults. */
int message_body_open(const struct msg_info *msg, int *fd_r);

/* Set the Seen flag of a message, visible at once to every session.  A
 * message that has gone meanwhile is not an error. */
int message_set_seen(uint64_t mailbox_id, uint32_t uid, const char **error_r);

/* Remove these messages in one atomic transaction.  Messages already
 * removed by someone else are skipped; *removed_r counts what this call
 * removed. */
int mailbox_expunge(uint64_t mailbox_id, const uint32_t *uids, size_t count,
		    size_t *removed_r, const char **error_r);

/* ------------------------------------------------------------------ */
/* A provider's POP policies (SPEC.md 3 and 6), per server, domain and    */
/* account (posternctl ... set pop_delete=hide).                         */

enum pop_delete_mode {
	POP_DELETE_REMOVE,	/* pop_delete = delete */
	POP_DELETE_HIDE,	/* kept, never shown to POP again */
	POP_DELETE_MARK_READ,	/* marked Seen, kept and shown */
	POP_DELETE_ARCHIVE,	/* moved into `archive` (made when missing) */
};

struct pop_policy {
	unsigned int login_delay;	/* seconds between logins; 0 = any */
	int expire_days;		/* retrieved mail kept; -1 = never */
	bool login_delay_set, expire_set;	/* a level sets them: CAPA */
	enum pop_delete_mode delete_mode;
	char archive[MAILBOX_NAME_MAX + 1];
	uint64_t visible_since;		/* pop_from = enable-time; 0 = all */
};

/* The policies of an account (domain "" and account "": the server's). */
int pop_policy_for(const char *domain, const char *account,
		   struct pop_policy *p_r, const char **error_r);

enum pop_gate {
	POP_GATE_OK,		/* the login goes on (pop_login_record) */
	POP_GATE_DISABLED,	/* pop = no for the server, domain or account */
	POP_GATE_TOO_SOON,	/* LOGIN-DELAY: text_r says how long */
	POP_GATE_ALERT,		/* an alert: text_r is its text, now shown */
	POP_GATE_TEMPFAIL,	/* a store fault */
};

/* After the credentials of a POP login were accepted: the service switch,
 * LOGIN-DELAY, then the admin's alerts, oldest first (SPEC.md 3).
 * text_r (size octets) gets what to tell the client on a refusal; with OK
 * *p_r holds the account's policies. */
enum pop_gate pop_login_gate(const struct account *account,
			     struct pop_policy *p_r, char *text_r, size_t size,
			     const char **error_r);
/* The login went through (its mailbox is open): note the time for
 * LOGIN-DELAY.  Only then - a login refused later, say for a mailbox
 * that does not exist, is no login and must not restart the wait. */
int pop_login_record(const struct account *account, const struct pop_policy *p,
		     const char **error_r);

/* QUIT: the messages marked with DELE go as pop_delete says, in one
 * transaction; ones another session removed meanwhile are skipped.
 * *done_r counts what this call changed. */
int mailbox_pop_quit(const struct mailbox_open *open, const uint32_t *uids,
		     size_t count, const struct pop_policy *p, size_t *done_r,
		     const char **error_r);
/* EXPIRE: remove the messages of a mailbox that were retrieved (Seen) and
 * arrived before `cutoff`; *removed_r how many. */
int mailbox_expire(uint64_t mailbox_id, uint64_t cutoff, size_t *removed_r,
		   const char **error_r);

/* ------------------------------------------------------------------ */
/* Local delivery (SPEC.md 4): recipients through the Router, the message  */
/* stamped with Return-Path and X-Real-To, stored durably.  Used by LMTP,  */
/* posternctl deliver and the relay queue; every call runs on the loop.    */

struct delivery;

enum delivery_status {
	DELIVERY_OK,
	DELIVERY_UNKNOWN,	/* no such user or domain (550 5.1.1) */
	DELIVERY_BAD_ADDRESS,	/* not a valid address (553 5.1.3) */
	DELIVERY_OVER_QUOTA,	/* the account's quota (452 4.2.2 or 552 5.2.2,
				 * as delivery_quota_temporary() says) */
	DELIVERY_TOO_BIG,	/* over the size limit (552 5.3.4) */
	DELIVERY_BAD_MESSAGE,	/* empty, or unusable (554 5.6.0) */
	DELIVERY_TEMPFAIL,	/* store or disk fault (451 4.3.0) */
	DELIVERY_DISABLED,	/* the service is switched off for the account
				 * (550 5.2.1) */
};

/* A full mailbox: temporary (the sender retries) or permanent (bounce),
 * from the core setting quota_full. */
bool delivery_quota_temporary(void);

/* A new delivery.  return_path: the envelope sender without brackets, ""
 * for the null sender.  local_ip: where the MTA connected (for addresses
 * without a domain), may be NULL.  max_size: the largest message accepted
 * (its stored size). */
struct delivery *delivery_new(const char *return_path, const char *local_ip,
			      uint64_t max_size);
void delivery_free(struct delivery **d);
/* Take only recipients whose account allows this service ("lmtp": the
 * policy of SPEC.md 6); others get DELIVERY_DISABLED. */
void delivery_require_service(struct delivery *d, const char *service);

/* Route one recipient and, when it is deliverable, add it.  size: the
 * announced message size for an early quota check (0: unknown).
 * *error_r says why, for the reply and the log. */
enum delivery_status delivery_add_recipient(struct delivery *d,
					    const char *address,
					    uint64_t size,
					    const char **error_r);
unsigned int delivery_recipient_count(const struct delivery *d);

/* The message itself: start (after at least one recipient was added),
 * then the octets as they come (already un-dot-stuffed; LF or CRLF line
 * ends), then finish.  Past max_size, write keeps accepting (the input is
 * drained) and finish reports DELIVERY_TOO_BIG for everyone. */
enum delivery_status delivery_data_begin(struct delivery *d,
					 const char **error_r);
void delivery_data_write(struct delivery *d, const void *data, size_t len);
/* Store one copy per mailbox, fsync it, commit the metadata; then `done`
 * is called with the number of recipients delivered, and delivery_result()
 * tells each recipient's outcome.  In posternd the files are synced on the
 * host's delivery threads and the metadata is committed together with the
 * other deliveries finishing at the same time (one transaction), so `done`
 * runs on the loop after this call has returned (hold the connection until
 * then: conn_hold).  Without delivery threads (posternctl,
 * delivery_threads = 0) `done` runs before this call returns.  A delivery
 * freed while it is being stored is stored all the same, and `done` is not
 * called. */
typedef void delivery_done_fn(void *ctx, unsigned int delivered);
void delivery_data_finish(struct delivery *d, delivery_done_fn *done,
			  void *ctx);
/* Recipient i (in the order added): its status and, when not OK, why. */
enum delivery_status delivery_result(const struct delivery *d, unsigned int i,
				     const char **error_r);
/* Give up before finish (client gone): nothing is stored. */
void delivery_data_abort(struct delivery *d);

/* A message fetched from a remote POP3 server (SPEC.md 6): the copy goes
 * straight into `mailbox` of `account` - no routing, no X-Real-To - headed
 * by `trace` (one complete header field with its CRLF, the
 * X-Retrieved-From line) instead of Return-Path.  The quota counts as for
 * any delivery (size: the size the remote announced, 0 = unknown). */
enum delivery_status delivery_add_mailbox(struct delivery *d,
					  const struct account *account,
					  const char *mailbox,
					  const char *trace, uint64_t size,
					  const char **error_r);
/* Record `key` (the remote's UIDL; NULL: a digest of the message as it
 * came, for a server without UIDL) for retrieval source `source_id` in the
 * same transaction that stores the message.  When the key is recorded
 * already, the message is not stored again: the recipient's outcome is
 * DELIVERY_OK and delivery_was_duplicate() true. */
void delivery_set_retrieval_key(struct delivery *d, uint64_t source_id,
				const char *key);
bool delivery_was_duplicate(const struct delivery *d);
/* The key recorded (the UIDL, or "#" and the digest's hex), after
 * delivery_data_finish; "" before. */
const char *delivery_retrieval_key(const struct delivery *d);

/* ------------------------------------------------------------------ */
/* Submission (SPEC.md 5): a message a logged-in user sends through POP  */
/* (XTND XMIT) into the relay queue.  The relay module configures it.   */

struct submission_limits {
	bool enabled;			/* relay.xmit */
	uint64_t max_message_size;	/* octets the client may send */
	unsigned int max_recipients;
	unsigned int max_per_hour;	/* per session; 0 = no limit */
};

/* The relay module, at init: where its limits are (they stay there across
 * reloads, which update them in place).  NULL: no submission. */
void submission_configure(const struct submission_limits *limits);
/* What is configured now, or NULL when no relay module is loaded. */
const struct submission_limits *submission_current_limits(void);

enum submission_status {
	SUBMIT_OK,
	SUBMIT_REFUSED,		/* the message: no recipients, too big... */
	SUBMIT_TEMPFAIL,	/* a disk or store fault: try again later */
};

struct submission;

/* A new submission by `user` from `client_ip`; NULL with *error_r (for
 * the client) when it may not send: no relay, or xmit switched off for the
 * server, its domain or the account. */
struct submission *submission_new(const struct account *user,
				  const char *client_ip, const char **error_r);
/* The message as it comes (un-dot-stuffed; LF or CRLF).  Problems are
 * noted and the data still consumed; finish tells them. */
void submission_write(struct submission *s, const void *data, size_t len);
/* Envelope from the header, a Received field on top, the file fsynced and
 * the queue entry committed; then `done` with SUBMIT_OK and "queued as N",
 * or the reason.  `done` may run before this returns. */
typedef void submission_done_fn(void *ctx, enum submission_status st,
				const char *text);
void submission_finish(struct submission *s, submission_done_fn *done,
		       void *ctx);
void submission_free(struct submission **s);

/* ------------------------------------------------------------------ */
/* The relay queue, for the relay module (the store's queue database).  */

/* The relay queue: messages submitted over POP (XTND XMIT, SPEC.md 5)
 * waiting to be sent to the smarthost or delivered locally; the store's
 * `queue` database with the `queue_due` index (src/store/store_queue*.c).
 * Every function is one short transaction and copies what it returns;
 * times are unix seconds. */

/* The limits of one entry.  They are what mail/submission.h lets a
 * submission have (store_queue_record.c checks that at compile time): a
 * path is at most 256 octets with "<" and ">" (RFC 5321 4.5.3.1.3), and
 * more than 1000 recipients from one person's client is a mass mailing. */
#define QUEUE_RCPT_MAX 1000
#define QUEUE_ADDRESS_MAX 254
/* RFC 3463: class.subject.detail, at most "5.999.999". */
#define QUEUE_ENHANCED_MAX 9
/* Enough for the useful first lines of a reply; a remote server's essay is
 * cut (queue_rcpt_set_reply), so the bounce and `queue show` stay short. */
#define QUEUE_REPLY_MAX 500
/* A host name (RFC 1035: 255) or an address literal, as mail/dsn.h takes
 * it for Remote-MTA. */
#define QUEUE_REMOTE_MTA_MAX 255
/* next_r of store_queue_due when no entry has pending recipients. */
#define QUEUE_NEVER UINT64_MAX
/* BODY_ID_LEN of the store's body files */
#define QUEUE_BODY_ID_LEN 16

enum queue_rcpt_state {
	QUEUE_RCPT_PENDING,	/* to be tried (again) */
	QUEUE_RCPT_DONE,	/* delivered, or accepted by the smarthost */
	QUEUE_RCPT_FAILED,	/* for good: a 5xx, or retried too long */
};

struct queue_rcpt {
	/* 1..QUEUE_ADDRESS_MAX octets, no control characters */
	char address[QUEUE_ADDRESS_MAX + 1];
	enum queue_rcpt_state state;
	/* the last word about this recipient, for the log, `queue show` and
	 * the bounce (mail/dsn.h): a server's reply has reply_code 200..599,
	 * the enhanced status ("4.4.1", "" = none) and its text; our own
	 * reason when no server answered ("connect to smtp.example.net:
	 * Connection refused") has reply_code 0 and only the text; nothing
	 * yet is code 0 and text "".  Text is printable ASCII (the store
	 * turns anything else into '?') */
	uint16_t reply_code;
	char enhanced[QUEUE_ENHANCED_MAX + 1];
	char reply[QUEUE_REPLY_MAX + 1];
	/* the host that replied, "smtp.example.net"; "" for none (our own
	 * reason, or a local delivery); printable ASCII like the text */
	char remote_mta[QUEUE_REMOTE_MTA_MAX + 1];
	uint64_t last_attempt;	/* 0 = never tried */
};

struct queue_entry {
	uint64_t id;		/* set by store_queue_add */
	uint64_t created;
	/* when the relay tries the pending recipients again; 0 = now
	 * (store_queue_flush) */
	uint64_t next_attempt;
	uint32_t attempts;
	/* the envelope sender (the authenticated account's address, SPEC.md
	 * 5), "" for the null sender of a bounce: at most QUEUE_ADDRESS_MAX
	 * octets, no control characters */
	char sender[QUEUE_ADDRESS_MAX + 1];
	/* who submitted it and from where, for the log and bounces: account
	 * "name@domain" ("" = none), client_ip as conn_peer_ip() gives it */
	char account[ADDRESS_MAX + 1];
	char client_ip[46];		/* IP_TEXT_MAX */
	/* the body file (body.h), fsynced before store_queue_add */
	uint8_t body_id[QUEUE_BODY_ID_LEN];
	uint64_t body_size;
	struct queue_rcpt *rcpts;	/* 1..QUEUE_RCPT_MAX */
	size_t rcpt_count;
};

/* Counts over an entry's recipients. */
struct queue_summary {
	uint64_t id;
	uint8_t body_id[QUEUE_BODY_ID_LEN];
	size_t total, pending, done, failed;
	/* store_queue_remove only: the record could not be read, so nothing
	 * is known of its body or recipients (all zero) */
	bool damaged;
};

/* An empty entry with rcpt_count zeroed (pending, never tried) recipients,
 * for the caller to fill; store_queue_entry_free releases it. */
void store_queue_entry_init(struct queue_entry *e, size_t rcpt_count);
/* Release the recipients (from init or store_queue_get); safe twice. */
void store_queue_entry_free(struct queue_entry *e);
void store_queue_summarize(const struct queue_entry *e,
			   struct queue_summary *s_r);

/* Record the last word about a recipient: text[0..len) is cut to
 * QUEUE_REPLY_MAX octets, CR, LF and TAB become spaces (so the lines of a
 * multi-line reply can be passed as they came) and any other octet outside
 * printable ASCII '?'.  remote_mta (NULL or "" for none) is cleaned and
 * cut the same way.  enhanced: NULL or "" for none; one that is not of
 * the RFC 3463 form is dropped.  code: 0 for a reason of our own, and a
 * code outside 200..599 is taken as 0 too. */
void queue_rcpt_set_reply(struct queue_rcpt *rcpt, const char *remote_mta,
			  uint16_t code, const char *enhanced,
			  const char *text, size_t len);

/* Add an entry; *id_r (and e->id) its new id.  The body must be durable
 * first (body_writer_finish): once this returns the message is queued and
 * the submission may be acknowledged.  The entry is checked (the limits
 * above, reply codes, states) and refused with a message naming what is
 * wrong.  An entry with no pending recipient is stored but never due. */
int store_queue_add(struct queue_entry *e, uint64_t *id_r,
		    const char **error_r);

/* The entry with this id into *e_r (recipients allocated: free with
 * store_queue_entry_free); *found_r false (0 returned, nothing allocated)
 * when there is none.  A damaged record is an error (-1) that names the
 * id, not a crash: the relay logs it and leaves that id alone (`posternctl
 * queue del ID` removes it). */
int store_queue_get(uint64_t id, struct queue_entry *e_r, bool *found_r,
		    const char **error_r);

/* Write what the relay learnt: attempts, next_attempt, and each
 * recipient's state, reply and last_attempt.  e is the entry as
 * store_queue_get gave it, changed in those fields only: the envelope, the
 * body and the recipients' addresses stay as stored (the recipients must
 * be the same, in the same order, or nothing is written).  queue_due
 * follows: the entry is indexed at next_attempt while it has a pending
 * recipient and not at all once every one is done or failed.
 * *found_r false when the entry is gone (`posternctl queue del` while it
 * was being tried): not an error, the relay just forgets it.
 * An admin's flush that came in meanwhile is overwritten by the relay's
 * next_attempt, which is what the relay was doing anyway. */
int store_queue_update(const struct queue_entry *e, bool *found_r,
		       const char **error_r);

/* Remove an entry.  *found_r false when there was none; otherwise
 * removed_r (may be NULL) tells what went: its body id and recipient
 * counts.  The body file is the caller's to unlink (body_unlink) after
 * this returns, as with store_mailbox_del: committed first, so a crash in
 * between leaves an orphan file, never an entry without its body.  A
 * damaged record is removed too (removed_r->damaged; its body, unknown,
 * stays), since that is the admin's way out of it. */
int store_queue_remove(uint64_t id, struct queue_summary *removed_r,
		       bool *found_r, const char **error_r);

/* The ids of up to `max` entries due at `now` (next_attempt <= now), the
 * earliest first, into ids[0..*count_r), and in *next_r the earliest
 * next_attempt of the entries with pending recipients that were not
 * returned: <= now when more are due than `max`, QUEUE_NEVER when there
 * are none (the relay may sleep until then, or until a flush).
 *
 * An id whose entry is gone by the time the relay asks for it gets
 * found_r false from store_queue_get.
 *
 * lease_until 0 only looks (a read transaction).  Otherwise (> now) the
 * returned entries' next_attempt becomes lease_until in the same (write)
 * transaction: another process polling the queue meanwhile (posternd with
 * workers = N) does not take them too, and an entry whose attempt never
 * ended (a crash) is due again at lease_until.  The relay's
 * store_queue_update sets the real next attempt. */
int store_queue_due(uint64_t now, uint64_t lease_until, uint64_t *ids,
		    size_t max, size_t *count_r, uint64_t *next_r,
		    const char **error_r);

/* Make an entry due now (next_attempt 0): *found_r false when there is no
 * such entry, *pending_r false (nothing changed) when it has no pending
 * recipient.  An entry under a lease becomes due too, so another poller
 * may take it while the first attempt still runs: at worst a recipient
 * gets the message twice, which is what an admin's "retry now" risks. */
int store_queue_flush(uint64_t id, bool *found_r, bool *pending_r,
		      const char **error_r);
/* The same for every entry with pending recipients; *count_r how many. */
int store_queue_flush_all(size_t *count_r, const char **error_r);

/* Every entry in id order (the oldest first), with its summary.  cb runs
 * inside the read transaction, so it must not call the store; the entry
 * is valid during the call only.  A damaged record ends the walk with -1. */
typedef void store_queue_cb(const struct queue_entry *e,
			    const struct queue_summary *s, void *ctx);
int store_queue_list(store_queue_cb *cb, void *ctx, const char **error_r);

/* The entry's body file, read-only; -1 with errno. */
int queue_body_open(const struct queue_entry *e, int *fd_r);
/* After store_queue_remove: the file goes. */
void queue_body_unlink(const struct queue_entry *e);

/* Where an address goes: one of our accounts, another server, or nowhere. */
enum address_kind {
	ADDRESS_LOCAL,		/* deliverable here */
	ADDRESS_REMOTE,		/* a domain that is not ours */
	ADDRESS_UNKNOWN,	/* our domain, no such user: 550 5.1.1 */
	ADDRESS_BAD,		/* not a valid address: 553 5.1.3 */
	ADDRESS_TEMPFAIL,	/* a store fault */
};
enum address_kind address_route_kind(const char *address, const char **error_r);

/* Bounce (an RFC 3464 DSN into the sender's INBOX, null return path) for
 * the recipients i with failed[i].  `done` is called on the loop with NULL
 * or why it could not be delivered; the entry must stay until then. */
typedef void bounce_done_fn(void *ctx, const char *error);
void queue_bounce(const struct queue_entry *e, const bool *failed,
		  bounce_done_fn *done, void *ctx);

/* ------------------------------------------------------------------ */
/* POP3 retrievals (SPEC.md 6): remote POP3 accounts whose mail the       */
/* retrieval module fetches into a local mailbox (store_retrieval.c).      */

#define RETRIEVAL_HOST_MAX 255
#define RETRIEVAL_USER_MAX 255
#define RETRIEVAL_PASSWORD_MAX 255
#define RETRIEVAL_ERROR_MAX 400
#define RETRIEVAL_KEY_MAX 70		/* a UIDL, or "#" + 64 hex */

enum retrieval_tls {
	RETRIEVAL_TLS_IMPLICIT,		/* TLS from the first byte (POP3S) */
	RETRIEVAL_TLS_STLS,		/* STLS (RFC 2595) before the login */
	RETRIEVAL_TLS_NONE,		/* in the clear */
};
enum retrieval_auth {
	RETRIEVAL_AUTH_USER,		/* USER/PASS */
	RETRIEVAL_AUTH_APOP,		/* APOP (RFC 1939 7) */
	RETRIEVAL_AUTH_PLAIN,		/* AUTH PLAIN (RFC 5034) via Cyrus SASL */
};
enum retrieval_result {
	RETRIEVAL_NEVER,		/* not run yet */
	RETRIEVAL_OK,
	RETRIEVAL_FAILED,
};

struct retrieval_source {
	uint64_t id;			/* store-wide */
	struct account account;		/* whose it is */
	/* what the admin set */
	char host[RETRIEVAL_HOST_MAX + 1];
	uint16_t port;
	enum retrieval_tls tls;
	bool verify;			/* the certificate must verify */
	char user[RETRIEVAL_USER_MAX + 1];
	char password[RETRIEVAL_PASSWORD_MAX + 1];
	enum retrieval_auth auth;
	char mailbox[MAILBOX_NAME_MAX + 1];
	bool keep;			/* leave_on_server, with UIDL tracking */
	uint32_t interval;		/* seconds between polls */
	bool enabled;
	uint64_t created;
	/* what the module noted (unix seconds) */
	uint64_t next_run;		/* due then (with enabled) */
	uint64_t last_start, last_run;	/* 0 = never */
	enum retrieval_result last_result;
	uint32_t last_fetched;		/* messages stored by the last run */
	uint32_t failures;		/* in a row, for the backoff */
	char last_error[RETRIEVAL_ERROR_MAX + 1];
	bool running;			/* taken by the module, not finished */
	bool requested;			/* a trigger asks for a run */
	uint64_t run_seq, done_seq;	/* runs taken / finished (triggers wait) */
};

/* Up to `max` enabled sources due at `now` (requested, or next_run <=
 * now), into out[0..*count_r): each is marked running, its trigger taken
 * and its next_run set to lease_until in the same transaction, so a run
 * that never ends (a crash) is due again then; *next_r the earliest
 * next_run of the rest (UINT64_MAX: none). */
int retrieval_take_due(uint64_t now, uint64_t lease_until,
		       struct retrieval_source *out, size_t max,
		       size_t *count_r, uint64_t *next_r,
		       const char **error_r);
/* A run ended: the result (error NULL for OK), how many messages it
 * stored; next_run becomes now + the interval, or a backoff after
 * failures (doubling from the interval, at most backoff_max), or now when
 * a trigger came during the run.  *found_r false when the source went
 * meanwhile. */
int retrieval_finish(const struct retrieval_source *src, const char *error,
		     unsigned int fetched, uint64_t now, uint64_t backoff_max,
		     bool *found_r, const char **error_r);
/* At the module's start: sources marked running (a process that ended
 * mid-run) are due now. */
int retrieval_release_all(const char **error_r);
/* Which of keys[0..n) source `id` has stored already (seen_r[i]). */
int retrieval_seen_lookup(uint64_t id, char *const *keys, size_t n,
			  bool *seen_r, const char **error_r);
/* After a complete UIDL listing: forget the keys of source `id` that are
 * not in keys[0..n) (the messages are gone from the remote), digests
 * ("#...") left alone. */
int retrieval_seen_prune(uint64_t id, char *const *keys, size_t n,
			 const char **error_r);
/* Forget these keys (digests of messages the remote deleted at QUIT). */
int retrieval_seen_forget(uint64_t id, char *const *keys, size_t n,
			  const char **error_r);

/* Do the server, the account's domain and the account all allow this
 * service ("retrieval", SPEC.md 6 policies)?  -1 for a store fault or an
 * unknown service. */
int account_service_allowed(const struct account *a, const char *service,
			    bool *allowed_r, const char **error_r);

/* The module's triggers, given at init (updated in place on reload):
 * a login of an account asks for a run of its enabled sources that have
 * not run within `login_gap` seconds.  NULL: no retrieval module. */
struct retrieval_triggers {
	bool on_login;
	unsigned int login_gap;
};
void retrieval_configure(const struct retrieval_triggers *t);
/* An account logged in (POP, the web admin): asks, off the reply's
 * path, for its sources to run. */
void account_logged_in(const struct account *account);

/* APOP's digest: hex MD5 of timestamp and password into hex (33 octets). */
void apop_digest(const char *timestamp, const char *password, char *hex);

/* SASL as a client (Cyrus SASL), for AUTH PLAIN to a remote: the first
 * message for `mech` ("PLAIN"), raw (the module does base64), into out
 * (malloc'd), or -1 with *error_r.  PLAIN needs no further step. */
int sasl_client_initial(const char *service, const char *host,
			const char *mech, const char *user,
			const char *password, char **out, size_t *outlen,
			const char **error_r);

/* ------------------------------------------------------------------ */
/* The web admin (src/admin/, doc/api.md): the operations posternctl     */
/* runs, as JSON requests, for the http module.                          */

enum admin_role {
	ADMIN_ROLE_NONE,	/* not an admin */
	ADMIN_ROLE_DOMAIN,	/* the accounts and settings of its domain */
	ADMIN_ROLE_SERVER,	/* everything */
};

struct admin_who {
	char user[ADDRESS_MAX + 1];		/* name@domain */
	enum admin_role role;
	char domain[ACCOUNT_NAME_MAX + 1];	/* a domain admin's domain */
};

enum admin_login_result {
	ADMIN_LOGIN_OK,
	ADMIN_LOGIN_FAILED,	/* unknown, wrong password, or no admin right */
	ADMIN_LOGIN_TEMPFAIL,	/* a store fault */
};

/* Check a web admin login (the password off the loop, as POP's are).
 * `done` runs on the loop, after this returns, with the admin's identity
 * and, for a failure, how long to hold the answer back (the address's
 * growing penalty, as for POP).  Failures are logged. */
typedef void admin_login_fn(void *ctx, enum admin_login_result res,
			    const struct admin_who *who, unsigned int delay_ms);
void admin_login_check(const char *user, const char *password,
		       const char *client_ip, admin_login_fn *done, void *ctx);
/* A session's identity read again (a right taken away counts at once):
 * -1 when the account is gone or no admin any more. */
int admin_who_refresh(struct admin_who *who, const char **error_r);

/* One API request: `path` after "/api/" ("domains/example.com/accounts",
 * segments URL-encoded), `query` without '?' ("" when none), the body as
 * sent.  Changes are logged with who made them. */
struct admin_answer {
	int status;		/* the HTTP status */
	char *json;		/* the answer (malloc'd); NULL for 204 */
	char allow[64];		/* a 405's methods ("GET, PATCH"), else "" */
};
void admin_request(const struct admin_who *who, const char *method,
		   const char *path, const char *query, const void *body,
		   size_t len, struct admin_answer *answer_r);
void admin_answer_free(struct admin_answer *answer);

/* The login request's body {"user": ..., "password": ...} into user and
 * password (NUL-terminated; password zeroed by the caller after use);
 * -1 with *error_r a JSON error answer (malloc'd) when it is not one. */
int admin_login_parse(const void *body, size_t len, char *user, size_t usize,
		      char *password, size_t psize, char **error_r);
/* The session's JSON ({"user", "role", "domains", "csrf"}), malloc'd. */
char *admin_session_json(const struct admin_who *who, const char *csrf);
/* {"error": text} as a JSON answer, malloc'd. */
char *admin_error_json(const char *text);

/* ------------------------------------------------------------------ */
/* Strict number parsing: the whole string is decimal digits, no sign,  */
/* no spaces, no overflow.  0 or -1.                                    */

int str_to_uint32(const char *s, uint32_t *num_r);
int str_to_uint64(const char *s, uint64_t *num_r);
/* "30", "30s", "5m", "2h", "1d": seconds.  0 or -1. */
int str_parse_seconds(const char *s, uint64_t *secs_r);

/* ------------------------------------------------------------------ */
/* Module descriptor.                                                   */

struct pn_protocol {
	size_t listener_offset;	/* of struct listener_settings in settings */
	size_t max_line;	/* initial longest command line */
	const char *busy_reply;	/* sent (with CRLF) when limits refuse */
	const char *timeout_reply; /* sent (with CRLF) before an idle close */
	/* A new client: return the session (NULL refuses the connection). */
	void *(*open)(struct conn *conn, void *settings);
	/* One line without its line end, NUL-terminated at line[len]. */
	void (*line)(void *session, char *line, size_t len);
	void (*line_too_long)(void *session);
	/* The connection is gone (client closed, timeout, shutdown). */
	void (*close)(void *session);
};

struct pn_module {
	unsigned int abi;		/* POSTERN_MODULE_ABI */
	const char *name;		/* config section, e.g. "pop" */
	const char *log_tag;		/* e.g. "POP" */
	const struct setting_def *settings;
	size_t settings_size;
	/* Validate a filled settings struct; called on start, -t and reload. */
	int (*check)(const void *settings, const char **error_r);
	int (*init)(void *settings, const char **error_r);
	void (*fini)(void);
	const struct pn_protocol *protocol;	/* NULL for background modules */
	/* Background work (queue runners): `serve` is called in exactly one
	 * serving process - the only one, or worker 1 - after its fork and
	 * the privilege drop, before its loop runs; `stop` when that process
	 * begins to shut down (close client connections, stop timers: the
	 * process ends once no connection is left). */
	void (*serve)(void *settings);
	void (*stop)(void);
};

#define POSTERN_MODULE_SYMBOL "postern_module"

#endif

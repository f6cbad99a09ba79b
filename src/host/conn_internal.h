/* conn_internal.h - the connection object's insides, shared by conn.c
 * (buffers, queue, events) and conn_tls.c (TLS below the line reader). */
#ifndef PN_CONN_INTERNAL_H
#define PN_CONN_INTERNAL_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <sys/types.h>

#include <ev.h>
#include <openssl/ssl.h>

#include "lib/buf.h"
#include "lib/dotread.h"
#include "lib/dotstuff.h"
#include "lib/linereader.h"
#include "mail/names.h"
#include "postern/module.h"

struct login_check;

/* What a login needs while it runs (login.c, sasl.c).  Made on the first
 * login command, so connections that never log in do not carry it. */
struct conn_login {
	auth_done_fn *done;		/* a reply is owed to the module */
	bool ready;			/* ... and waits in reply */
	struct auth_reply reply;
	char error[ADDRESS_MAX + 128];
	struct login_check *check;	/* a password check under way */
	char mailbox[LOGIN_MAILBOX_MAX + 1];	/* "mailbox#" of the login */
	char view[ADDRESS_MAX + 1];	/* a unified account's view, or "" */
	/* SASL (sasl.c) */
	void *sasl_wait;		/* input held while its password is checked */
	char sasl_mech[32];		/* the mechanism of the exchange */
	unsigned int sasl_stage;	/* how far a LOGIN exchange is */
	char sasl_user[LOGIN_STRING_MAX + 1];	/* LOGIN's user name */
};

struct oseg {
	struct oseg *next;
	bool is_file;
	bool plain;		/* file: sendfile, no transformation */
	struct buf mem;		/* memory, or a file's staging area */
	size_t pos;		/* sent from mem */
	int fd;
	uint64_t off, end;
	struct dotstuff ds;
};

struct conn {
	struct conn *prev, *next;
	struct service *svc;
	const struct pn_protocol *proto;
	void *session;
	unsigned long id;
	int fd;
	ev_io rio, wio;
	ev_timer idle, delay;
	ev_tstamp last_activity;
	char peer_ip[INET6_ADDRSTRLEN];
	char local_ip[INET6_ADDRSTRLEN];
	char limit_key[INET6_ADDRSTRLEN + 4];	/* per-address limits */
	bool loopback;
	char *log_prefix;	/* "POP-7 [ip] user", exactly as long as it is */
	struct linereader in;
	/* dot-terminated data (conn_read_dotted) */
	conn_data_fn *data_fn;
	conn_data_end_fn *data_end;
	struct dotread dr;
	size_t data_held;	/* octets dotread held back: wait for more */
	unsigned int holds;	/* conn_hold: nothing reaches the module */
	bool in_run;		/* conn_run is on the stack */
	/* an outgoing connection (conn_client.c); NULL for accepted ones */
	struct conn_client *client;
	bool connecting;	/* resolving or connecting: no I/O yet */
	unsigned int client_timeout;
	/* output */
	struct oseg *head, *tail;
	size_t out_bytes;
	unsigned int out_files;
	conn_continue_fn *cont;
	bool closing, dead, delayed, peer_eof;
	/* TLS (conn_tls.c) */
	SSL *ssl;
	enum { TLS_OFF, TLS_HANDSHAKE, TLS_ON } tls;
	bool implicit_tls;	/* accepted on a TLS port */
	bool starttls_pending;	/* STLS answered, handshake after the flush */
	int tls_wants;		/* EV_READ/EV_WRITE an SSL call waits for */
	/* SASL (sasl.c) */
	void *sasl;		/* sasl_conn_t of the exchange in progress */
	void *sasl_callbacks;
	bool sasl_tempfail;	/* a store fault happened during it */
	char *sasl_reason;	/* our reason for a failure to come */
	struct conn_login *login;	/* made by the first login command */
};

/* Socket I/O through TLS when it is on: like read(2)/send(2), -1 with
 * errno EAGAIN when it would block (c->tls_wants says on what). */
ssize_t conn_io_read(struct conn *c, void *buf, size_t len);
ssize_t conn_io_write(struct conn *c, const void *buf, size_t len);
/* Begin the server side of a handshake now (implicit TLS, after STLS). */
int conn_io_tls_begin(struct conn *c);
/* Step the handshake: 1 done, 0 waiting for the socket, -1 failed. */
int conn_io_handshake(struct conn *c);
/* Decrypted input held inside OpenSSL (no socket event will announce it). */
bool conn_io_pending(const struct conn *c);
void conn_io_free(struct conn *c);

/* conn.c helpers the other conn_*.c files and login.c use */
/* Common set-up: ids, log prefix, line reader, watchers (fd may be -1 for
 * an outgoing connection not yet connected), the service's list. */
void conn_setup(struct conn *c, struct service *svc,
		const struct pn_protocol *proto, int fd);
/* The socket is connected: addresses for the log and the limits. */
void conn_set_peer(struct conn *c, const struct sockaddr *peer);
unsigned int conn_idle_timeout(const struct conn *c);
/* Handle input and output until nothing more can be done now; destroys
 * a dead connection.  Not while a module callback is on the stack. */
void conn_run(struct conn *c);
/* Close the socket, call the module's close (if a session is set), free. */
void conn_destroy(struct conn *c);
/* conn_client.c: a connect finished or timed out; the client part freed */
void conn_client_connect_done(struct conn *c);
void conn_client_connect_timeout(struct conn *c);
void conn_client_free(struct conn *c);
/* The client handshake is over (error NULL: it worked): tell the module;
 * after a failure the session is detached (no close callback). */
void conn_client_set_tls_done(struct conn *c, conn_tls_done_fn *done);
void conn_client_tls_done(struct conn *c, const char *error);

void conn_kill(struct conn *c, const char *why);
/* The connection's login state, made when first needed. */
struct conn_login *conn_login_state(struct conn *c);
/* Something the connection waited for has happened outside its own
 * events (a password check came back): run it now.  It may be destroyed. */
void conn_resume(struct conn *c);

#endif

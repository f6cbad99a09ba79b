"""A scriptable fake POP3 server for the retrieval tests: threads on a free
loopback port, a mailbox of given messages (bytes) that lives across
sessions, and switches for the faults a remote can have.

Real POP semantics (RFC 1939, 2449, 5034): AUTHORIZATION, TRANSACTION and
UPDATE states, DELE only marks and QUIT removes in one step, a dropped
connection removes nothing, RSET clears marks, multi-line LIST/UIDL/TOP/RETR
dot-stuffed and ended by CRLF.CRLF, sizes the octets before stuffing.
Optional: UIDL, APOP (a timestamp in the greeting), AUTH PLAIN (initial
response or the "+ " continuation), STLS or implicit TLS with a given
certificate.

Fault switches (attributes, changeable between sessions):
    greeting_delay      seconds before the greeting
    drop_retr_after     close the connection mid-RETR after this many octets
                        of the (stuffed) message, after the +OK line
    drop_retr_msg       ... only on RETR of this message number (None: any)
    stall_retr          seconds to stall mid-RETR (after half the message),
                        with retr_started set just before the stall
    stall_retr_msg      ... only on RETR of this message number (None: any)
    drop_on_dele        close, without a reply, when DELE arrives
    drop_on_quit        close, without a reply and removing nothing, on QUIT
    password            the password it accepts (a wrong one: -ERR [AUTH])
    fail_auth_text      the -ERR text for bad credentials
    size_lie            STAT and LIST say every message has this many octets

Everything seen is recorded: `commands` (every command line, in order, with
the session number), `sessions` (one Session each, with its commands and
whether it used TLS) and `max_active`, the most sessions open at once.
"""
import base64
import dataclasses
import hashlib
import os
import re
import socket
import socketserver
import ssl
import threading
import time


def dotstuff(data: bytes) -> bytes:
    return re.sub(rb"(?m)^\.", b"..", data)


@dataclasses.dataclass
class Message:
    data: bytes
    uidl: str


@dataclasses.dataclass
class Session:
    number: int
    commands: list = dataclasses.field(default_factory=list)
    tls: bool = False
    user: str = None            # who logged in, None when nobody did
    quit: bool = False          # reached UPDATE by QUIT
    removed: list = dataclasses.field(default_factory=list)  # uidls removed at QUIT
    timestamp: str = None       # the APOP timestamp of its greeting


class Drop(Exception):
    """Close the connection now, without a reply."""


class FakePop:
    def __init__(self, messages=(), *, user="remote", password="remote-pw",
                 uidl=True, apop=False, sasl_plain=True, user_cmd=True, capa=True,
                 tls=None, cert=None, key=None, uidls=None,
                 greeting_delay=0.0, drop_retr_after=None, drop_retr_msg=None,
                 stall_retr=0.0, stall_retr_msg=None, drop_on_dele=False, drop_on_quit=False,
                 fail_auth_text="[AUTH] invalid user name or password", size_lie=None):
        assert tls in (None, "stls", "implicit")
        self.lock = threading.Lock()
        self.user, self.password = user, password
        self.uidl, self.apop, self.sasl_plain = uidl, apop, sasl_plain
        self.user_cmd, self.capa = user_cmd, capa
        self.tls = tls
        self.greeting_delay = greeting_delay
        self.drop_retr_after, self.drop_retr_msg = drop_retr_after, drop_retr_msg
        self.stall_retr, self.stall_retr_msg = stall_retr, stall_retr_msg
        self.drop_on_dele, self.drop_on_quit = drop_on_dele, drop_on_quit
        self.fail_auth_text = fail_auth_text
        self.size_lie = size_lie
        self.retr_started = threading.Event()
        self.commands = []          # (session number, line) in order
        self.sessions = []
        self._uid = 0
        self.mailbox = []
        for i, data in enumerate(messages):
            self.add(data, uidls[i] if uidls else None)
        self.context = None
        if tls:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(str(cert), str(key))
        self._conns = set()
        self.active = self.max_active = 0   # sessions open at once
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                fake._serve(self.request)

        class TCPServer(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = TCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    # -- the mailbox -----------------------------------------------------
    def add(self, data: bytes, uidl=None):
        with self.lock:
            self._uid += 1
            self.mailbox.append(Message(data, uidl or f"fake-{self._uid:04d}"))

    def messages(self):
        """The messages the remote holds now (removed at a QUIT are gone)."""
        with self.lock:
            return [m.data for m in self.mailbox]

    def commands_named(self, verb):
        return [line for _, line in self.commands if line.split(" ")[0].upper() == verb]

    # -- lifecycle -------------------------------------------------------
    def close(self):
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- one session -----------------------------------------------------
    def _serve(self, sock):
        sock.settimeout(120)
        with self.lock:
            session = Session(len(self.sessions) + 1)
            self.sessions.append(session)
            self._conns.add(sock)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        conn = _Conn(sock)
        try:
            if self.tls == "implicit":
                conn.starttls(self.context)
                session.tls = True
            self._dialogue(conn, session)
        except (Drop, EOFError, OSError, ssl.SSLError):
            pass
        finally:
            with self.lock:
                self._conns.discard(sock)
                self.active -= 1
            conn.close()

    def _greeting(self, session):
        if self.apop:
            session.timestamp = f"<{os.getpid()}.{time.time_ns()}@fakepop.test>"
            self.timestamp = session.timestamp      # the latest, for tests
            return f"+OK fakepop ready {session.timestamp}"
        return "+OK fakepop ready"

    def _capa(self, conn, authorized):
        lines = ["CAPA", "TOP", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE"]
        if self.uidl:
            lines.append("UIDL")
        if not authorized:
            if self.user_cmd:
                lines.append("USER")
            if self.sasl_plain:
                lines.append("SASL PLAIN")
            if self.tls == "stls" and not conn.tls:
                lines.append("STLS")
        return lines[1:]

    def _dialogue(self, conn, session):
        if self.greeting_delay:
            time.sleep(self.greeting_delay)
        conn.send_line(self._greeting(session))
        state, pending_user, snapshot, marked = "auth", None, None, set()

        def login(name):
            nonlocal state, snapshot
            session.user = name
            state = "trans"
            with self.lock:
                snapshot = list(self.mailbox)
            conn.send_line(f"+OK {name} has {len(snapshot)} messages")

        def msg_arg(args):
            """The Message numbered by args[0], or None after a -ERR."""
            try:
                n = int(args[0])
            except (IndexError, ValueError):
                conn.send_line("-ERR bad message number")
                return None, None
            if not 1 <= n <= len(snapshot):
                conn.send_line("-ERR no such message")
                return None, None
            if n in marked:
                conn.send_line("-ERR message deleted")
                return None, None
            return n, snapshot[n - 1]

        while True:
            line = conn.line()
            with self.lock:
                self.commands.append((session.number, line))
                session.commands.append(line)
            verb, _, rest = line.partition(" ")
            verb = verb.upper()
            args = rest.split()
            if verb == "CAPA" and self.capa:
                conn.send_multi(["+OK capability list"] + self._capa(conn, state == "trans"))
            elif verb == "QUIT":
                if self.drop_on_quit:
                    raise Drop()
                if state == "trans":
                    with self.lock:
                        for n in sorted(marked):
                            m = snapshot[n - 1]
                            if m in self.mailbox:
                                self.mailbox.remove(m)
                                session.removed.append(m.uidl)
                session.quit = True
                conn.send_line("+OK fakepop signing off")
                return
            elif verb == "NOOP" and state == "trans":
                conn.send_line("+OK")
            elif state == "auth":
                if verb == "STLS" and self.tls == "stls" and not conn.tls:
                    conn.send_line("+OK begin TLS negotiation")
                    conn.starttls(self.context)
                    session.tls = True
                    pending_user = None
                elif verb == "USER" and self.user_cmd and args:
                    pending_user = rest
                    conn.send_line("+OK send PASS")
                elif verb == "PASS" and pending_user is not None:
                    name, pending_user = pending_user, None
                    if name == self.user and rest == self.password:
                        login(name)
                    else:
                        conn.send_line("-ERR " + self.fail_auth_text)
                elif verb == "APOP" and self.apop and len(args) == 2:
                    want = hashlib.md5((session.timestamp + self.password).encode()).hexdigest()
                    if args[0] == self.user and args[1].lower() == want:
                        login(args[0])
                    else:
                        conn.send_line("-ERR " + self.fail_auth_text)
                elif verb == "AUTH" and self.sasl_plain and args and args[0].upper() == "PLAIN":
                    if len(args) > 1:
                        answer = args[1]
                    else:
                        conn.send_line("+ ")
                        answer = conn.line()
                        with self.lock:
                            self.commands.append((session.number, answer))
                            session.commands.append(answer)
                    if answer == "*":
                        conn.send_line("-ERR AUTH cancelled")
                        continue
                    try:
                        raw = b"" if answer == "=" else base64.b64decode(answer, validate=True)
                        authz, authc, pw = raw.decode().split("\0")
                    except ValueError:
                        conn.send_line("-ERR bad base64 or PLAIN message")
                        continue
                    if authc == self.user and pw == self.password and authz in ("", authc):
                        login(authc)
                    else:
                        conn.send_line("-ERR " + self.fail_auth_text)
                else:
                    conn.send_line("-ERR unknown command or wrong state")
            else:  # TRANSACTION
                live = [(n, m) for n, m in enumerate(snapshot, 1) if n not in marked]
                size = (lambda m: len(m.data)) if self.size_lie is None else \
                    (lambda m: self.size_lie)
                if verb == "STAT":
                    conn.send_line(f"+OK {len(live)} {sum(size(m) for _, m in live)}")
                elif verb == "LIST" and not args:
                    conn.send_multi([f"+OK {len(live)} messages"] +
                                    [f"{n} {size(m)}" for n, m in live])
                elif verb == "LIST":
                    n, m = msg_arg(args)
                    if m:
                        conn.send_line(f"+OK {n} {size(m)}")
                elif verb == "UIDL" and self.uidl and not args:
                    conn.send_multi(["+OK"] + [f"{n} {m.uidl}" for n, m in live])
                elif verb == "UIDL" and self.uidl:
                    n, m = msg_arg(args)
                    if m:
                        conn.send_line(f"+OK {n} {m.uidl}")
                elif verb == "RETR":
                    n, m = msg_arg(args)
                    if m:
                        self._retr(conn, n, m)
                elif verb == "TOP" and len(args) == 2:
                    n, m = msg_arg(args)
                    if m:
                        try:
                            k = int(args[1])
                        except ValueError:
                            conn.send_line("-ERR bad line count")
                            continue
                        head, sep, body = m.data.partition(b"\r\n\r\n")
                        lines = re.findall(rb"[^\n]*\n|[^\n]+$", body)
                        conn.send_data(b"+OK top follows\r\n", head + sep + b"".join(lines[:k]))
                elif verb == "DELE":
                    if self.drop_on_dele:
                        raise Drop()
                    n, m = msg_arg(args)
                    if m:
                        marked.add(n)
                        conn.send_line(f"+OK message {n} deleted")
                elif verb == "RSET":
                    marked.clear()
                    conn.send_line("+OK")
                else:
                    conn.send_line("-ERR unknown command or wrong state")

    def _retr(self, conn, n, m):
        body = dotstuff(m.data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        head = f"+OK {len(m.data)} octets\r\n".encode()
        if self.drop_retr_after is not None and self.drop_retr_msg in (None, n):
            conn.send(head + body[:self.drop_retr_after])
            raise Drop()
        if self.stall_retr and self.stall_retr_msg in (None, n):
            half = len(body) // 2
            conn.send(head + body[:half])
            self.retr_started.set()
            time.sleep(self.stall_retr)
            conn.send(body[half:] + b".\r\n")
            return
        conn.send(head + body + b".\r\n")


class _Conn:
    """A line reader and writer over a socket that may become TLS."""

    def __init__(self, sock):
        self.sock, self.buf, self.tls = sock, b"", False

    def starttls(self, context):
        self.buf = b""          # nothing sent before the handshake is kept
        self.sock = context.wrap_socket(self.sock, server_side=True)
        self.tls = True

    def line(self) -> str:
        while b"\r\n" not in self.buf:
            if len(self.buf) > 4096:
                raise Drop()
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError()
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def send(self, data: bytes):
        self.sock.sendall(data)

    def send_line(self, text: str):
        self.send(text.encode() + b"\r\n")

    def send_multi(self, lines):
        self.send(b"".join(dotstuff(line.encode()) + b"\r\n" if i else line.encode() + b"\r\n"
                           for i, line in enumerate(lines)) + b".\r\n")

    def send_data(self, head: bytes, data: bytes):
        body = dotstuff(data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(head + body + b".\r\n")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

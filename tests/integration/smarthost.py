"""A real SMTP peer for the relay's tests: aiosmtpd (Debian's
python3-aiosmtpd) in a thread on a loopback port, recording what it was
sent and answering as a test tells it to.  Also the helpers that drive
XTND XMIT over a raw POP socket."""
import asyncio
import dataclasses
import email
import email.policy
import re
import socket
import ssl
import threading
import time

import pytest

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from conftest import DOMAIN, USER, free_port  # noqa: E402
from messages import dotstuff  # noqa: E402

ME = f"{USER}@{DOMAIN}"
HOSTNAME = socket.gethostname()


@dataclasses.dataclass
class Received:
    """One message as the smarthost took it."""
    mail_from: str
    rcpts: list
    data: bytes                 # un-stuffed, CRLF line ends, as sent
    mail_options: list
    tls: bool
    login: bytes                # the AUTH user, None without AUTH
    session: object


class Peer:
    """The aiosmtpd handler.  Replies are scripted per command: a list is
    used up from the front, its last entry then stays; None means accept."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        self.sessions = []          # each SMTP session that said EHLO/HELO
        self.rcpts_tried = []       # every RCPT address, in order
        # (mechanism, accepted) of each AUTH; no attribute of a handler may
        # start with auth_ (aiosmtpd takes those for SASL mechanisms)
        self.logins = []
        self.rcpt_replies = {}      # address -> [reply or None, ...]
        self.data_replies = []      # [reply or None, ...]
        self.queued = 0
        self.data_delay = 0.0       # seconds before the reply to the data

    @staticmethod
    def _next(script):
        if not script:
            return None
        return script.pop(0) if len(script) > 1 else script[0]

    def _session(self, session):
        with self.lock:
            if all(s is not session for s in self.sessions):
                self.sessions.append(session)

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        self._session(session)
        return "250 {}".format(server.hostname)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self._session(session)
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpts_tried.append(address)
            reply = self._next(self.rcpt_replies.get(address))
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        with self.lock:
            reply = self._next(self.data_replies)
            if reply is not None:
                return reply
            self.messages.append(Received(
                envelope.mail_from, list(envelope.rcpt_tos),
                bytes(envelope.original_content), list(envelope.mail_options),
                session.ssl is not None, getattr(session.auth_data, "login", None), session))
            self.queued += 1
            return f"250 2.0.0 Ok: queued as PEER{self.queued}"

    def wait_messages(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"the smarthost got {len(self.messages)} messages, not {n}")


class Smarthost:
    """aiosmtpd on 127.0.0.1:port.  tls=(cert, key) offers STARTTLS;
    auth={user: password} offers AUTH (after TLS unless auth_require_tls
    is False) and requires it."""

    def __init__(self, port=None, tls=None, auth=None, **smtp_kwargs):
        self.port = port or free_port()
        self.peer = Peer()
        self.tls = tls
        self.auth = auth
        self.smtp_kwargs = smtp_kwargs
        self.controller = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and
              self.auth.get(auth_data.login.decode()) == auth_data.password.decode())
        with self.peer.lock:
            self.peer.logins.append((mechanism, ok))
        # handled=False: aiosmtpd itself answers 535 to a failure
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def start(self):
        kwargs = dict(self.smtp_kwargs)
        if self.tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
            kwargs["tls_context"] = ctx
        if self.auth is not None:
            kwargs["authenticator"] = self._authenticator
            kwargs["auth_required"] = True
        self.controller = Controller(self.peer, hostname="127.0.0.1", port=self.port,
                                     server_hostname="smarthost.test", **kwargs)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smarthost():
    """smarthost(**kw): a started Smarthost; smarthost(start=False, ...)
    one that is not listening yet.  All are stopped at the end."""
    made = []

    def factory(start=True, **kw):
        sh = Smarthost(**kw)
        made.append(sh)
        return sh.start() if start else sh

    yield factory
    for sh in made:
        sh.stop()


def relay_settings(sh=None, **extra):
    """Settings for a posternd with POP and the relay (smarthost sh, or
    none), STARTTLS off unless extra says otherwise."""
    out = {"modules": "pop, relay", "relay.starttls": "off"}
    if sh is not None:
        out["relay.smarthost"] = sh.address
    out.update({f"relay.{k}": v for k, v in extra.items()})
    return out


# -- XTND XMIT over a raw socket ---------------------------------------------

def xmit(r, data: bytes):
    """XTND XMIT on a logged-in RawClient: the go-ahead, the message
    dot-stuffed (a final line end added where it lacks one) and ".", and
    the final reply."""
    assert r.cmd("XTND XMIT") == b"+OK Start sending message."
    body = dotstuff(data)
    if not body.endswith(b"\n"):
        body += b"\r\n"
    r.send(body + b".\r\n")
    return r.line()


def send(srv, data: bytes):
    """One XTND XMIT by jsmith in a session of its own; the final reply."""
    r = srv.raw()
    r.login()
    reply = xmit(r, data)
    assert r.cmd("QUIT").startswith(b"+OK")
    r.close()
    return reply


def received_field(data: bytes):
    """The Received field our server put on top, and the rest."""
    m = re.match(rb"Received: from \[127\.0\.0\.1\] \(authenticated as "
                 + re.escape(ME.encode()) + rb"\)\r\n\tby "
                 + re.escape(HOSTNAME.encode()) + rb" \(Postern\) with XTND-XMIT;\r\n"
                 rb"\t(\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000)\r\n", data)
    assert m, f"no Received field of ours on top: {data[:300]!r}"
    return m.group(1), data[m.end():]


def parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def wait_for(pred, what, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")

"""Fixtures: a real posternd in a temporary directory on a free loopback
port, with a domain and an account, driven over real sockets.

Every server is started by its own test and stopped by its pid.  Whatever
the sanitizers print on stderr fails the test that started the server.
"""
import os
import pathlib
import poplib
import signal
import smtplib
import socket
import subprocess
import time

import pytest

BUILD = pathlib.Path(os.environ.get(
    "POSTERN_BUILDDIR", pathlib.Path(__file__).resolve().parents[2]))
POSTERND = BUILD / "posternd"
POSTERNCTL = BUILD / "posternctl"
MODULES = BUILD / "modules"

USER = "jsmith"
PASSWORD = "secret-1"
DOMAIN = "example.test"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"posternd exited with {proc.returncode}")
        try:
            # a whole session, ended by QUIT: once EOF arrives the server
            # has released the channel, so tests of limits start at zero
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"QUIT\r\n")
                while s.recv(4096):
                    pass
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"posternd did not listen on {port}")


class Server:
    """One posternd with its own data_dir, config and log."""

    def __init__(self, root: pathlib.Path, settings: dict):
        self.root = root
        self.port = free_port()
        self.tls_port = free_port()  # used when pop.tls_listen names it
        self.lmtp_port = free_port()  # used when lmtp.listen names it
        self.lmtp_socket = root / "lmtp.sock"
        self.conf = root / "postern.conf"
        self.logfile = root / "postern.log"
        self.errfile = root / "stderr.log"
        self.proc = None
        base = {
            "data_dir": str(root / "data"),
            "module_dir": str(MODULES),
            "main_domain": DOMAIN,
            "log.level": "debug",
            "log.target": str(self.logfile),
            "pop.listen": f"127.0.0.1:{self.port}",
            "auth.failure_delay_ms": "0",
        }
        base.update(settings)
        self.write_conf(base)

    def write_conf(self, settings):
        """Write settings; values may say {port}, {tls_port}, {lmtp_port}
        and {lmtp_socket}."""
        top, sections = [], {}
        for key, value in settings.items():
            value = str(value).format(port=self.port, tls_port=self.tls_port,
                                      lmtp_port=self.lmtp_port,
                                      lmtp_socket=self.lmtp_socket)
            if "." in key:
                sec, k = key.split(".", 1)
                sections.setdefault(sec, []).append(f"{k} = {value}")
            else:
                top.append(f"{key} = {value}")
        text = "\n".join(top) + "\n"
        for sec, lines in sections.items():
            text += f"[{sec}]\n" + "\n".join(lines) + "\n"
        self.conf.write_text(text)

    # -- admin -----------------------------------------------------------
    def ctl(self, *args, input=None, check=True):
        res = subprocess.run([str(POSTERNCTL), "-c", str(self.conf), *args],
                             input=input, capture_output=True, timeout=60)
        self.check_sanitizers(res.stderr.decode(errors="replace"))
        if check and res.returncode != 0:
            raise AssertionError(
                f"posternctl {' '.join(args)} failed ({res.returncode}): "
                f"{res.stderr.decode(errors='replace')}")
        return res

    def add_account(self, address, password):
        self.ctl("account", "add", address, input=(password + "\n").encode())

    def deliver(self, data: bytes, address=USER):
        res = self.ctl("message", "import", address, input=data)
        return int(res.stdout.split()[-1])

    # -- process ---------------------------------------------------------
    def start(self, *extra):
        self.err = open(self.errfile, "ab")
        self.proc = subprocess.Popen(
            [str(POSTERND), "-f", "-c", str(self.conf), *extra],
            stdout=self.err, stderr=self.err)
        wait_port(self.port, self.proc)
        return self

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("posternd did not stop after SIGTERM")
        finally:
            self.err.close()
        self.proc = None
        self.check_sanitizers(self.errfile.read_text(errors="replace"))
        return rc

    def restart(self):
        assert self.stop() == 0
        return self.start()

    @staticmethod
    def check_sanitizers(text):
        for mark in SANITIZER_MARKS:
            assert mark not in text, f"sanitizer report:\n{text}"

    def log(self):
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def wait_log(self, needle, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log():
                return True
            time.sleep(0.05)
        raise AssertionError(f"log never said {needle!r}:\n{self.log()}")

    # -- clients ---------------------------------------------------------
    def connect(self, timeout=10):
        return poplib.POP3("127.0.0.1", self.port, timeout=timeout)

    def pop(self, user=USER, password=PASSWORD):
        p = self.connect()
        p.user(user)
        p.pass_(password)
        return p

    def raw(self, timeout=10):
        return RawClient(socket.create_connection(("127.0.0.1", self.port),
                                                  timeout=timeout))

    def lmtp(self, timeout=10):
        """smtplib's LMTP client on lmtp_port, after LHLO."""
        client = smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=timeout)
        client.ehlo_or_helo_if_needed()
        return client

    def lmtp_raw(self, timeout=10):
        """A socket speaking LMTP by hand, the greeting read."""
        r = RawClient(socket.create_connection(("127.0.0.1", self.lmtp_port),
                                               timeout=timeout))
        assert r.line().startswith(b"220 "), "no LMTP greeting"
        return r

    def pop_ssl(self, context, user=USER, password=PASSWORD, login=True):
        """POP3 over implicit TLS on self.tls_port."""
        p = poplib.POP3_SSL("127.0.0.1", self.tls_port, context=context, timeout=10)
        if login:
            p.user(user)
            p.pass_(password)
        return p


class RawClient:
    """A socket speaking POP by hand: exact bytes in and out."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; buffered {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, text) -> bytes:
        self.send(text.encode() + b"\r\n" if isinstance(text, str) else text + b"\r\n")
        return self.line()

    def multiline(self) -> list:
        lines = []
        while True:
            line = self.line()
            if line == b".":
                return lines
            lines.append(line)

    def login(self, user=USER, password=PASSWORD):
        assert self.line().startswith(b"+OK")
        assert self.cmd(f"USER {user}").startswith(b"+OK")
        reply = self.cmd(f"PASS {password}")
        assert reply.startswith(b"+OK"), reply
        return reply

    def closed(self, timeout=5.0) -> bool:
        """True when the server has closed the connection (EOF)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def ctl_out(srv, *args, input=None):
    """What a posternctl command that must work prints."""
    return srv.ctl(*args, input=input).stdout.decode()


def ctl_fails(srv, *args, input=None, partial=False):
    """A posternctl command that must fail, printing nothing on stdout
    (partial: what it printed before the failure is allowed): (exit
    status, its message without the final newline)."""
    res = srv.ctl(*args, input=input, check=False)
    assert res.returncode != 0, f"{args} succeeded: {res.stdout!r}"
    assert partial or res.stdout == b"", res.stdout
    return res.returncode, res.stderr.decode().rstrip("\n")


def pass_reply(srv, user=USER, password=PASSWORD):
    """One USER/PASS login on a connection of its own: the PASS reply."""
    r = srv.raw()
    r.line()
    assert r.cmd(f"USER {user}") == b"+OK Send your password"
    reply = r.cmd(f"PASS {password}")
    r.cmd("QUIT")
    r.close()
    return reply


def make_server(tmp_path, **settings):
    srv = Server(tmp_path, settings)
    srv.ctl("domain", "add", DOMAIN)
    srv.add_account(USER, PASSWORD)
    return srv


@pytest.fixture
def server(tmp_path):
    """A running posternd with example.test and jsmith (empty INBOX)."""
    srv = make_server(tmp_path).start()
    yield srv
    assert srv.stop() == 0


@pytest.fixture
def server_factory(tmp_path):
    """Build a server with extra settings: server_factory(**{'pop.channels': 2})."""
    made = []

    def factory(start=True, **settings):
        root = tmp_path / f"srv{len(made)}"
        root.mkdir()
        srv = make_server(root, **settings)
        made.append(srv)
        return srv.start() if start else srv

    yield factory
    for srv in made:
        assert srv.stop() in (0, None)


class Certs:
    """A throwaway CA and server certificates made with the openssl CLI:
    default (example.test, localhost, 127.0.0.1) and other.test for SNI."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.ca_key, self.ca = root / "ca.key", root / "ca.pem"
        self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                      "-subj", "/CN=Postern Test CA", "-keyout", self.ca_key,
                      "-out", self.ca)
        self.cert, self.key = self.issue("example.test",
                                         "DNS:example.test,DNS:localhost,IP:127.0.0.1")
        self.certdir = root / "certdir"
        self.certdir.mkdir()
        crt, key = self.issue("other.test", "DNS:other.test,DNS:pop.other.test")
        (self.certdir / "other.test.pem").write_bytes(crt.read_bytes() + key.read_bytes())

    def _openssl(self, *args):
        subprocess.run(["openssl", *map(str, args)], check=True,
                       capture_output=True, timeout=60)

    def issue(self, name, san):
        key, csr, crt = (self.root / f"{name}.key", self.root / f"{name}.csr",
                         self.root / f"{name}.crt")
        self._openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                      "-keyout", key, "-out", csr)
        ext = self.root / f"{name}.ext"
        ext.write_text(f"subjectAltName={san}\n")
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                      "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt)
        return crt, key

    def context(self):
        """A client context that trusts the test CA and checks names."""
        import ssl
        return ssl.create_default_context(cafile=str(self.ca))

    def settings(self, sni=False):
        out = {"tls.cert": str(self.cert), "tls.key": str(self.key)}
        if sni:
            out["tls.cert_dir"] = str(self.certdir)
        return out


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("certs"))


TLS_LISTEN = {"pop.tls_listen": "127.0.0.1:{tls_port}"}
# LMTP on a TCP port and a UNIX socket, beside POP
LMTP = {"modules": "pop, lmtp",
        "lmtp.listen": "127.0.0.1:{lmtp_port}, {lmtp_socket}"}


@pytest.fixture
def lmtp_server(tmp_path):
    """A running posternd with POP and LMTP (TCP lmtp_port, UNIX
    lmtp_socket), example.test and jsmith."""
    srv = make_server(tmp_path, **LMTP).start()
    yield srv
    assert srv.stop() == 0


@pytest.fixture
def tls_server(tmp_path, certs):
    """A running posternd with STLS on .port and implicit TLS on .tls_port,
    the test CA's certificates, other.test's chosen by SNI."""
    srv = make_server(tmp_path, **certs.settings(sni=True), **TLS_LISTEN).start()
    yield srv
    assert srv.stop() == 0


def message(n=1, body_lines=3, extra_headers=b""):
    """A small RFC 5322 message with CRLF line ends."""
    head = (b"From: sender@example.org\r\nTo: jsmith@example.test\r\n"
            b"Subject: test message %d\r\n" % n) + extra_headers + b"\r\n"
    body = b"".join(b"line %d of message %d\r\n" % (i, n) for i in range(body_lines))
    return head + body

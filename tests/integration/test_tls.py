"""TLS: STLS (RFC 2595) on pop.listen, implicit TLS ("POP3S") on
pop.tls_listen, SNI certificates, the plaintext-login policy, handshake
failures, certificate reload and `posternd -t`, driven with real clients
(poplib/ssl, openssl s_client, curl) against a real posternd.

What every byte comparison starts from (see stored()): posternctl deliver
stores line ends as CRLF and ends a message lacking a final line end with
CRLF; RETR/TOP dot-stuff lines that start with "." and end with ".\\r\\n".
"""
import collections
import hashlib
import json
import os
import pathlib
import random
import re
import signal
import shutil
import socket
import ssl
import subprocess
import threading
import time
import warnings

import pytest

from conftest import (PASSWORD, POSTERND, TLS_LISTEN, USER, RawClient,
                      message)
from clients import need, run
from messages import big_message, dotstuff, stored

INLINE_FILE_MAX = 64 * 1024     # above this the server streams from the file
CAPA_BASE = {b"TOP", b"UIDL", b"RESP-CODES", b"AUTH-RESP-CODE", b"PIPELINING"}
STLS_GO = b"+OK Begin TLS negotiation now"


# ---- what the server stores and sends --------------------------------------


SMALL = [
    message(1, 3),
    b"From: dots@example.org\r\nSubject: dot lines\r\n\r\n"
    b".leading dot\r\n..two dots\r\n.\r\n..\r\n. space\r\nmiddle\r\n.\r\n",
    b"From: b@example.org\r\nSubject: 8bit\r\n\r\n"
    b"caf\xc3\xa9 \xe9\xff\x80\xfe\x7f\r\nbare\rCR inside a line\r\n"
    b"no final line end",
]
BIG_PLAIN = big_message(b"big-plain", 200_000, dots=False)
BIG_DOTS = big_message(b"big-dots", 200_000, dots=True)


def test_big_messages_take_the_streaming_path():
    # Fails if the big messages are too small or lack dot lines: the TLS
    # tests below would then not exercise the file-streaming path at all.
    for msg in (BIG_PLAIN, BIG_DOTS):
        assert len(stored(msg)) > INLINE_FILE_MAX
    assert not re.search(rb"(?m)^\.", BIG_PLAIN)
    assert BIG_DOTS[32768:32769] == b"." and BIG_DOTS[65536:65537] == b"."


# ---- clients -----------------------------------------------------------------

def der_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def file_fingerprint(path) -> str:
    pem = pathlib.Path(path).read_text()
    first = pem[:pem.index("-----END CERTIFICATE-----") + 25]
    return der_fingerprint(ssl.PEM_cert_to_DER_cert(first))


def sock_fingerprint(sock) -> str:
    return der_fingerprint(sock.getpeercert(binary_form=True))


def no_sni_context(certs):
    """Verifies the chain against the test CA but sends no server name."""
    ctx = certs.context()
    ctx.check_hostname = False      # verify_mode stays CERT_REQUIRED
    return ctx


def tls_client(server, context, mode, server_hostname="127.0.0.1"):
    """A RawClient over TLS with the greeting read: implicit TLS on
    server.tls_port, or STLS on server.port (greeting, STLS, handshake)."""
    if mode == "implicit":
        sock = socket.create_connection(("127.0.0.1", server.tls_port), timeout=10)
        try:
            c = RawClient(context.wrap_socket(sock, server_hostname=server_hostname))
        except BaseException:
            sock.close()
            raise
        greeting = c.line()
        assert greeting.startswith(b"+OK"), greeting
        return c
    c = server.raw()
    assert c.line().startswith(b"+OK")
    assert c.cmd("STLS") == STLS_GO
    # nothing else may arrive in the clear after the go-ahead
    assert c.buf == b""
    try:
        return RawClient(context.wrap_socket(c.sock, server_hostname=server_hostname))
    except BaseException:
        c.close()
        raise


def poplib_client(server, certs, mode, login=True):
    """poplib over TLS, verifying the test CA: POP3.stls() or POP3_SSL."""
    if mode == "implicit":
        p = server.pop_ssl(certs.context(), login=False)
    else:
        p = server.connect()
        p.stls(context=certs.context())
    # a user's client would otherwise send its password in the clear
    assert isinstance(p.sock, ssl.SSLSocket)
    assert p.sock.version() in ("TLSv1.2", "TLSv1.3")
    if login:
        p.user(USER)
        p.pass_(PASSWORD)
    return p


def read_exact(c: RawClient, n: int) -> bytes:
    while len(c.buf) < n:
        chunk = c.sock.recv(1 << 20)
        if not chunk:
            raise EOFError(f"closed after {len(c.buf)} of {n} octets")
        c.buf += chunk
    data, c.buf = c.buf[:n], c.buf[n:]
    return data


def capa_names(lines) -> set:
    """The capability names (first words) of CAPA lines, as bytes."""
    return {(x.encode() if isinstance(x, str) else x).split(b" ")[0] for x in lines}


def capa(c: RawClient) -> set:
    reply = c.cmd("CAPA")
    assert reply == b"+OK Capability list follows", reply
    return capa_names(c.multiline())


def offers(names, stls, user):
    """CAPA names as they must be: the base set (other capabilities such as
    SASL may come and go), STLS and USER exactly when wanted."""
    return (CAPA_BASE <= names and (b"STLS" in names) == stls
            and (b"USER" in names) == user)


def tls_count(server):
    return server.log().count("TLS established: ")


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A CA that signed nothing the server has."""
    root = tmp_path_factory.mktemp("other-ca")
    ca = root / "ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=Some Other CA", "-keyout", str(root / "ca.key"),
                    "-out", str(ca)], check=True, capture_output=True, timeout=60)
    return ca


# ---- 1. poplib: full sessions and large messages over TLS --------------------

@pytest.mark.parametrize("mode", ["stls", "implicit"])
def test_poplib_full_session(tls_server, certs, mode):
    # Fails if a user's client (poplib, verifying the certificate) cannot
    # read, list and delete mail over STLS or POP3S exactly as delivered:
    # damaged, missing or undeletable mail over an encrypted connection.
    for msg in SMALL:
        tls_server.deliver(msg)
    sizes = [len(stored(m)) for m in SMALL]
    p = poplib_client(tls_server, certs, mode)
    assert p.stat() == (3, sum(sizes))
    assert p.list()[1] == [b"%d %d" % (i + 1, s) for i, s in enumerate(sizes)]
    for i, msg in enumerate(SMALL, 1):
        resp, lines, _ = p.retr(i)
        assert resp == b"+OK %d octets" % sizes[i - 1]
        assert b"".join(line + b"\r\n" for line in lines) == stored(msg), i
    assert p.dele(2).startswith(b"+OK")
    assert p.quit().startswith(b"+OK")

    # the deletion happened at QUIT, seen over TLS again
    p = poplib_client(tls_server, certs, mode)
    assert p.stat() == (2, sizes[0] + sizes[2])
    resp, lines, _ = p.retr(2)
    assert b"".join(line + b"\r\n" for line in lines) == stored(SMALL[2])
    p.quit()
    assert tls_count(tls_server) == 2


@pytest.mark.parametrize("mode", ["stls", "implicit"])
def test_large_messages_exact_bytes_over_tls(tls_server, certs, mode):
    # Fails if a message larger than 64 KiB (streamed from its file in
    # chunks through TLS) arrives with a single octet changed, missing or
    # doubled, with or without dot lines, on the wire and as poplib sees
    # it: users would get truncated or corrupted large mail over TLS.
    tls_server.deliver(BIG_PLAIN)
    tls_server.deliver(BIG_DOTS)
    c = tls_client(tls_server, certs.context(), mode)
    assert c.cmd(f"USER {USER}").startswith(b"+OK")
    assert c.cmd(f"PASS {PASSWORD}").startswith(b"+OK")
    for n, msg in ((1, BIG_PLAIN), (2, BIG_DOTS)):
        want = stored(msg)
        c.send(b"RETR %d\r\n" % n)
        assert c.line() == b"+OK %d octets" % len(want)
        wire = dotstuff(want) + b".\r\n"
        assert read_exact(c, len(wire)) == wire, f"RETR {n} differs on the wire"
        # TOP: the line-limited streaming path, 2000 body lines (> 64 KiB)
        c.send(b"TOP %d 2000\r\n" % n)
        assert c.line().startswith(b"+OK")
        head, body = want.split(b"\r\n\r\n", 1)
        top = head + b"\r\n\r\n" + b"".join(body.split(b"\r\n")[i] + b"\r\n"
                                            for i in range(2000))
        wire = dotstuff(top) + b".\r\n"
        assert read_exact(c, len(wire)) == wire, f"TOP {n} differs on the wire"
    assert c.cmd("QUIT").startswith(b"+OK")
    assert c.buf == b""
    c.close()

    p = poplib_client(tls_server, certs, mode)
    for n, msg in ((1, BIG_PLAIN), (2, BIG_DOTS)):
        _, lines, _ = p.retr(n)
        assert b"".join(line + b"\r\n" for line in lines) == stored(msg)
    p.quit()


# ---- 2. openssl s_client -----------------------------------------------------

def s_client_lines(res):
    assert res.returncode == 0, (res.returncode, res.stdout[-2000:], res.stderr[-2000:])
    return res.stdout.split(b"\r\n")


def test_openssl_s_client_starttls(tls_server, certs, tmp_path):
    # Fails if `openssl s_client -starttls pop3` (STLS, verifying the chain
    # and the IP) cannot log in and see the mailbox, or if CAPA after STLS
    # still offers STLS or lacks USER: clients would loop or give up.
    for msg in SMALL[:2]:
        tls_server.deliver(msg)
    size = sum(len(stored(m)) for m in SMALL[:2])
    script = (f"CAPA\r\nUSER {USER}\r\nPASS {PASSWORD}\r\nSTAT\r\nQUIT\r\n").encode()
    res = run(["openssl", "s_client", "-starttls", "pop3", "-connect",
               f"127.0.0.1:{tls_server.port}", "-CAfile", str(certs.ca),
               "-verify_return_error", "-verify_ip", "127.0.0.1", "-quiet"],
              tmp_path, input=script)
    lines = s_client_lines(res)
    # s_client consumed the greeting and the STLS reply itself
    assert lines[0] == b"+OK Capability list follows", lines
    end = lines.index(b".")
    assert offers(capa_names(lines[1:end]), stls=False, user=True), lines
    assert lines[end + 1] == b"+OK Send your password"
    assert lines[end + 2] == b"+OK Logged in, 2 messages (%d octets)" % size
    assert lines[end + 3] == b"+OK 2 %d" % size                  # STAT
    assert lines[end + 4].startswith(b"+OK")            # QUIT
    assert lines[end + 5:] == [b""]
    assert tls_count(tls_server) == 1


def test_openssl_s_client_implicit(tls_server, certs, tmp_path):
    # Fails if `openssl s_client -connect` to the POP3S port does not get
    # the greeting inside TLS and a working session: POP3S clients fail.
    tls_server.deliver(SMALL[0])
    size = len(stored(SMALL[0]))
    script = (f"CAPA\r\nSTLS\r\nUSER {USER}\r\nPASS {PASSWORD}\r\nSTAT\r\n"
              "QUIT\r\n").encode()
    res = run(["openssl", "s_client", "-connect", f"127.0.0.1:{tls_server.tls_port}",
               "-CAfile", str(certs.ca), "-verify_return_error",
               "-verify_ip", "127.0.0.1", "-quiet"], tmp_path, input=script)
    lines = s_client_lines(res)
    assert lines[0] == b"+OK Postern POP3 server ready", lines
    assert lines[1] == b"+OK Capability list follows"
    end = lines.index(b".")
    assert offers(capa_names(lines[2:end]), stls=False, user=True), lines
    assert lines[end + 1] == b"-ERR TLS is already active"
    assert lines[end + 2] == b"+OK Send your password"
    assert lines[end + 3] == b"+OK Logged in, 1 messages (%d octets)" % size
    assert lines[end + 4] == b"+OK 1 %d" % size                  # STAT
    assert lines[end + 5].startswith(b"+OK")
    assert lines[end + 6:] == [b""]


# ---- 3. curl -----------------------------------------------------------------

def curl(url, tmp_path, *args, user=USER, password=PASSWORD):
    cmd = [need("curl"), "-q", "-sS", "--max-time", "15", *args, url,
           "-u", f"{user}:{password}"]
    return run(cmd, tmp_path)


@pytest.mark.parametrize("mode", ["pop3s", "stls"])
def test_curl_list_and_retr_exact(tls_server, certs, tmp_path, mode):
    # Fails if curl over POP3S (--cacert) or over STLS (--ssl-reqd) shows a
    # wrong listing or anything but the stored octets of each message, big
    # ones included: users of curl-based tools get damaged mail.
    msgs = [SMALL[0], SMALL[1], BIG_DOTS]
    for msg in msgs:
        tls_server.deliver(msg)
    if mode == "pop3s":
        base, extra = f"pop3s://127.0.0.1:{tls_server.tls_port}/", []
    else:
        base, extra = f"pop3://127.0.0.1:{tls_server.port}/", ["--ssl-reqd"]
    extra += ["--cacert", str(certs.ca)]
    res = curl(base, tmp_path, *extra)
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"".join(b"%d %d\r\n" % (i + 1, len(stored(m)))
                                  for i, m in enumerate(msgs))
    for i, msg in enumerate(msgs, 1):
        res = curl(f"{base}{i}", tmp_path, *extra)
        assert res.returncode == 0, (i, res.stderr)
        assert res.stdout == stored(msg), f"message {i} differs"
    # every run really was TLS (curl would otherwise have failed: --ssl-reqd)
    assert tls_count(tls_server) == 1 + len(msgs)


def test_curl_without_the_ca_refuses(tls_server, tmp_path):
    # Fails if curl accepts the server without the test CA: then the
    # passing runs above would not prove that the certificate verifies.
    res = curl(f"pop3s://127.0.0.1:{tls_server.tls_port}/", tmp_path,
               "--cacert", os.devnull)
    assert res.returncode in (60, 77), (res.returncode, res.stderr)
    assert res.stdout == b""


# ---- 4. STARTTLS command injection, state forgotten ---------------------------

def test_stls_discards_commands_sent_before_handshake(tls_server, certs):
    # Fails if a command pipelined behind STLS in the clear (where an
    # attacker could have injected it) is executed once TLS is up: the
    # classic STARTTLS injection (CVE-2011-0411 class).
    c = tls_server.raw()
    assert c.line().startswith(b"+OK")
    c.send(b"STLS\r\nCAPA\r\n")         # one segment
    assert c.line() == STLS_GO
    assert c.buf == b""                 # no CAPA answer in the clear
    t = RawClient(certs.context().wrap_socket(c.sock, server_hostname="127.0.0.1"))
    # the first thing over TLS is the answer to a command sent over TLS
    first = t.cmd("NOOP")
    assert first == b"-ERR NOOP is not valid in this state", first
    assert offers(capa(t), stls=False, user=True)
    assert t.cmd("QUIT").startswith(b"+OK")
    assert t.closed()
    assert t.buf == b""                 # nothing else was queued


def test_stls_discards_injected_login(tls_server, certs):
    # Fails if USER/PASS pipelined behind STLS in the clear log the
    # session in: an injected login would run inside the user's TLS session.
    c = tls_server.raw()
    assert c.line().startswith(b"+OK")
    c.send(f"STLS\r\nUSER {USER}\r\nPASS {PASSWORD}\r\n".encode())
    assert c.line() == STLS_GO
    t = RawClient(certs.context().wrap_socket(c.sock, server_hostname="127.0.0.1"))
    assert t.cmd("STAT") == b"-ERR STAT is not valid in this state"
    assert t.cmd(f"PASS {PASSWORD}") == b"-ERR Send USER first"
    assert "logged in" not in tls_server.log()
    t.cmd("QUIT")


def test_user_before_stls_is_forgotten(tls_server, certs):
    # Fails if a USER given in the clear still counts after STLS (RFC 2595
    # 4: the client must forget, the server must discard what it learnt):
    # PASS over TLS would log in a name chosen before encryption.
    c = tls_server.raw()
    assert c.line().startswith(b"+OK")
    assert c.cmd(f"USER {USER}") == b"+OK Send your password"   # loopback
    assert c.cmd("STLS") == STLS_GO
    t = RawClient(certs.context().wrap_socket(c.sock, server_hostname="127.0.0.1"))
    assert t.cmd(f"PASS {PASSWORD}") == b"-ERR Send USER first"
    assert t.cmd(f"USER {USER}") == b"+OK Send your password"
    assert t.cmd(f"PASS {PASSWORD}").startswith(b"+OK Logged in")
    assert t.cmd("QUIT").startswith(b"+OK")


# ---- 5. CAPA and STLS in every state ------------------------------------------

def test_capa_before_and_after_stls(tls_server, certs):
    # Fails if STLS is not offered before TLS, is still offered after it,
    # or USER is missing: clients decide from CAPA whether to STLS and how
    # to log in, and would skip encryption or loop on STLS.
    c = tls_server.raw()
    assert c.line().startswith(b"+OK")
    assert offers(capa(c), stls=True, user=True)
    assert c.cmd("STLS") == STLS_GO
    t = RawClient(certs.context().wrap_socket(c.sock, server_hostname="127.0.0.1"))
    assert offers(capa(t), stls=False, user=True)
    # STLS twice: refused, the TLS session goes on
    assert t.cmd("STLS") == b"-ERR TLS is already active"
    assert t.cmd(f"USER {USER}").startswith(b"+OK")
    assert t.cmd(f"PASS {PASSWORD}").startswith(b"+OK Logged in")
    after = capa(t)
    assert b"STLS" not in after and b"USER" not in after
    # in TRANSACTION: not a valid command, session goes on
    assert t.cmd("STLS") == b"-ERR STLS is not valid in this state"
    assert t.cmd("STAT") == b"+OK 0 0"
    assert t.cmd("QUIT").startswith(b"+OK")


def test_stls_on_implicit_port(tls_server, certs):
    # Fails if the POP3S port offers or accepts STLS (a second handshake
    # inside TLS would hang or break the client) or the session dies.
    t = tls_client(tls_server, certs.context(), "implicit")
    assert offers(capa(t), stls=False, user=True)
    assert t.cmd("STLS") == b"-ERR TLS is already active"
    assert t.cmd(f"USER {USER}").startswith(b"+OK")
    assert t.cmd(f"PASS {PASSWORD}").startswith(b"+OK Logged in")
    assert t.cmd("QUIT").startswith(b"+OK")


def test_stls_without_certificate(server_factory):
    # Fails if a server without a certificate offers STLS or answers it
    # with anything but -ERR (a client would start a handshake that can
    # never work), or if the plaintext session breaks afterwards.
    srv = server_factory()
    c = srv.raw()
    assert c.line().startswith(b"+OK")
    assert offers(capa(c), stls=False, user=True)
    assert c.cmd("STLS") == b"-ERR STLS is not available here"
    assert c.cmd(f"USER {USER}").startswith(b"+OK")
    assert c.cmd(f"PASS {PASSWORD}").startswith(b"+OK Logged in")
    assert c.cmd("QUIT").startswith(b"+OK")


def test_stls_with_arguments(tls_server, certs):
    # Fails if "STLS something" starts TLS or kills the session: the client
    # then speaks plaintext to a server waiting for a handshake.
    c = tls_server.raw()
    assert c.line().startswith(b"+OK")
    assert c.cmd("STLS now") == b"-ERR STLS takes no arguments"
    # still plaintext, STLS still offered and still works
    assert offers(capa(c), stls=True, user=True)
    assert c.cmd("STLS") == STLS_GO
    t = RawClient(certs.context().wrap_socket(c.sock, server_hostname="127.0.0.1"))
    assert t.cmd("QUIT").startswith(b"+OK")


def test_stls_after_plaintext_login(tls_server):
    # Fails if STLS is accepted in TRANSACTION (RFC 2595: only in
    # AUTHORIZATION) or the session is broken by trying.
    tls_server.deliver(SMALL[0])
    c = tls_server.raw()
    c.login()
    assert c.cmd("STLS") == b"-ERR STLS is not valid in this state"
    assert c.cmd("STAT") == b"+OK 1 %d" % len(stored(SMALL[0]))
    assert c.cmd("QUIT").startswith(b"+OK")


# ---- 6. SNI ------------------------------------------------------------------

SNI_CASES = [
    # (server_hostname, verify the name?, certificate CN, SAN names)
    ("other.test", True, "other.test", {"other.test", "pop.other.test"}),
    ("pop.other.test", True, "other.test", {"other.test", "pop.other.test"}),
    ("example.test", True, "example.test", {"example.test", "localhost"}),
    (None, False, "example.test", {"example.test", "localhost"}),
    ("unknown.test", False, "example.test", {"example.test", "localhost"}),
]


@pytest.mark.parametrize("mode", ["implicit", "stls"])
def test_sni_picks_certificate(tls_server, certs, mode):
    # Fails if the certificate for the name a client asks for (SNI) is not
    # the one served, exact or by parent domain (pop.other.test ->
    # other.test), or if an unknown or missing name does not get the
    # default: users of other.test would see a name mismatch warning.
    for name, verify, cn, sans in SNI_CASES:
        ctx = certs.context() if verify else no_sni_context(certs)
        t = tls_client(tls_server, ctx, mode, server_hostname=name)
        cert = t.sock.getpeercert()
        assert dict(x[0] for x in cert["subject"])["commonName"] == cn, name
        assert {v for k, v in cert["subjectAltName"] if k == "DNS"} == sans, name
        assert t.cmd(f"USER {USER}").startswith(b"+OK")
        assert t.cmd(f"PASS {PASSWORD}").startswith(b"+OK Logged in")
        assert t.cmd("QUIT").startswith(b"+OK")
        t.close()
    log = tls_server.log()
    established = re.findall(r"TLS established: (TLSv1\.[23]) \S+?(?:, SNI (\S+))?$",
                             log, re.M)
    assert [sni for _, sni in established] == [
        "other.test", "pop.other.test", "example.test", "", "unknown.test"], log


# ---- 7. handshake failures ----------------------------------------------------

def test_plaintext_on_tls_port(tls_server, certs):
    # Fails if a plaintext client on the POP3S port gets a POP reply in the
    # clear, is kept open, or is not logged with the OpenSSL reason: the
    # admin could not tell why a misconfigured client fails.
    c = RawClient(socket.create_connection(("127.0.0.1", tls_server.tls_port),
                                           timeout=10))
    c.send(b"USER x\r\n")
    assert c.closed(timeout=5), "server kept the connection open"
    assert b"+OK" not in c.buf and b"-ERR" not in c.buf, c.buf
    c.close()
    tls_server.wait_log("disconnected: TLS handshake failed")
    assert re.search(r"TLS handshake failed: error:[0-9A-F]+:SSL routines::\S",
                     tls_server.log()), tls_server.log()
    # others are still served
    p = poplib_client(tls_server, certs, "implicit")
    assert p.stat() == (0, 0)
    p.quit()


def test_stalled_handshakes_time_out(server_factory, certs):
    # Fails if a client that never completes its handshake (silent on the
    # POP3S port, a partial ClientHello, or silent after STLS) holds its
    # channel past pop.idle_timeout, or gets a plaintext "-ERR" inside what
    # should be TLS: idle half-open connections would exhaust channels.
    srv = server_factory(**certs.settings(), **TLS_LISTEN, **{"pop.idle_timeout": "1s"})
    start = time.monotonic()
    silent = RawClient(socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10))
    partial = RawClient(socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10))
    partial.send(b"\x16\x03\x01\x02\x00\x01")  # record header, ClientHello type
    after_stls = srv.raw()
    assert after_stls.line().startswith(b"+OK")
    assert after_stls.cmd("STLS") == STLS_GO
    for name, c in (("silent", silent), ("partial", partial), ("stls", after_stls)):
        assert c.closed(timeout=6), f"{name}: still open after {time.monotonic() - start:.1f}s"
        assert c.buf == b"", (name, c.buf)    # no plaintext timeout reply
        c.close()
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 5, elapsed
    srv.wait_log("disconnected: TLS handshake timed out")
    assert srv.log().count("disconnected: TLS handshake timed out") == 3, srv.log()
    # a completed handshake is not cut at the same time
    p = poplib_client(srv, certs, "implicit")
    assert p.noop().startswith(b"+OK")
    p.quit()


@pytest.mark.parametrize("mode", ["implicit", "stls"])
def test_client_with_other_ca_fails_server_keeps_serving(tls_server, certs,
                                                         other_ca, mode):
    # Fails if a client that trusts another CA gets through the handshake
    # (then the verifying clients in this file would prove nothing), if
    # the server does not log the client's "unknown ca" alert, or if these
    # failures disturb sessions already open or started after them.
    tls_server.deliver(SMALL[0])
    good = poplib_client(tls_server, certs, mode)
    for _ in range(3):
        with pytest.raises(ssl.SSLCertVerificationError):
            tls_client(tls_server, ssl.create_default_context(cafile=str(other_ca)),
                       mode)
    tls_server.wait_log("alert unknown ca")
    assert good.stat() == (1, len(stored(SMALL[0])))
    good.quit()
    p = poplib_client(tls_server, certs, mode)
    assert p.stat()[0] == 1
    p.quit()


def legacy_context(certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(certs.ca))
    ctx.check_hostname = False
    return ctx


def test_tls11_client_refused(tls_server, certs):
    # Fails if a client offering at most TLS 1.1 gets a session: the
    # server would speak a deprecated protocol (RFC 8996).
    ctx = legacy_context(certs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        except (ValueError, ssl.SSLError) as e:
            pytest.skip(f"this OpenSSL cannot make a TLS 1.1 client: {e}")
    before = tls_server.log().count("TLS handshake failed")
    with pytest.raises(ssl.SSLError):
        tls_client(tls_server, ctx, "implicit")
    if tls_server.log().count("TLS handshake failed") == before:
        # let the server finish logging, then decide who refused
        time.sleep(0.3)
        if tls_server.log().count("TLS handshake failed") == before:
            pytest.skip("the local OpenSSL refused TLS 1.1 before sending it "
                        "(test_min_version_tls13 covers version refusal)")
    tls_server.wait_log("unsupported protocol")
    assert tls_count(tls_server) == 0


def test_min_version_tls13(server_factory, certs):
    # Fails if tls.min_version = TLSv1.3 still lets a TLS 1.2 client in,
    # or if the default (TLSv1.2) refuses one: admins could not enforce
    # TLS 1.3, or TLS 1.2 clients would be locked out by default.
    ctx12 = certs.context()
    ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
    default = server_factory(**certs.settings(), **TLS_LISTEN)
    t = tls_client(default, ctx12, "implicit")
    assert t.sock.version() == "TLSv1.2"
    t.cmd("QUIT")
    assert re.search(r"TLS established: TLSv1\.2 \S+", default.log())

    srv = server_factory(**certs.settings(), **TLS_LISTEN, **{"tls.min_version": "TLSv1.3"})
    for mode in ("implicit", "stls"):
        with pytest.raises(ssl.SSLError):
            tls_client(srv, ctx12, mode)
        t = tls_client(srv, certs.context(), mode)
        assert t.sock.version() == "TLSv1.3"
        assert t.cmd("QUIT").startswith(b"+OK")
    srv.wait_log("unsupported protocol")
    assert srv.log().count("disconnected: TLS handshake failed") == 2
    assert "TLS established: TLSv1.2" not in srv.log()


# ---- 8. certificate reload ---------------------------------------------------

SAN = "DNS:example.test,DNS:localhost,IP:127.0.0.1"


@pytest.fixture(scope="module")
def new_certs(certs):
    """Two more certificates for example.test from the test CA."""
    return [certs.issue(f"reload-{i}.example.test", SAN) for i in (1, 2)]


def set_cert(server, cert, key):
    text = server.conf.read_text()
    text, n = re.subn(r"(?m)^cert = .*$", f"cert = {cert}", text)
    text, m = re.subn(r"(?m)^key = .*$", f"key = {key}", text)
    assert n == 1 and m == 1, text
    server.conf.write_text(text)


def reload(server, ok=True, timeout=10.0):
    """SIGHUP and wait for its outcome; the new log text of this reload."""
    before = server.log()
    good, bad = before.count("configuration reloaded"), before.count("reload failed")
    server.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log()
        if log.count("configuration reloaded") > good or log.count("reload failed") > bad:
            new = log[len(before):]
            assert ("configuration reloaded" in new) == ok, new
            return new
        time.sleep(0.02)
    raise AssertionError(f"no reload outcome logged:\n{server.log()}")


def served_fingerprint(server, certs, mode):
    t = tls_client(server, certs.context(), mode)
    try:
        return sock_fingerprint(t.sock)
    finally:
        t.cmd("QUIT")
        t.close()


def test_reload_swaps_certificate_and_keeps_sessions(server_factory, certs,
                                                     new_certs, tmp_path):
    # Fails if SIGHUP does not put a renewed certificate in service for new
    # connections (users would keep seeing an expiring one), cuts sessions
    # opened before, or if a broken certificate or mismatched key replaces
    # the working one (every new connection would fail after a bad renewal).
    (crt1, key1), (crt2, key2) = new_certs
    fp0, fp1 = file_fingerprint(certs.cert), file_fingerprint(crt1)
    assert fp0 != fp1
    msg = SMALL[1]
    srv = server_factory(**certs.settings(sni=True), **TLS_LISTEN)
    srv.deliver(msg)
    old = {mode: poplib_client(srv, certs, mode) for mode in ("implicit", "stls")}
    for mode in old:
        assert served_fingerprint(srv, certs, mode) == fp0

    set_cert(srv, crt1, key1)
    new = reload(srv)
    assert f"certificate {crt1} loaded, 1 per-domain from {certs.certdir}" in new
    for mode in ("implicit", "stls"):
        assert served_fingerprint(srv, certs, mode) == fp1, mode
    for mode, p in old.items():
        assert sock_fingerprint(p.sock) == fp0
        assert p.noop().startswith(b"+OK"), mode
        assert p.stat() == (1, len(stored(msg))), mode
        _, lines, _ = p.retr(1)
        assert b"".join(line + b"\r\n" for line in lines) == stored(msg)

    # a certificate file that is not there
    missing = tmp_path / "missing.pem"
    set_cert(srv, missing, key1)
    new = reload(srv, ok=False)
    assert f"reload failed, old settings stay: cannot load certificate {missing}: " in new
    # a key that belongs to another certificate
    set_cert(srv, crt2, key1)
    new = reload(srv, ok=False)
    assert re.search(r"reload failed, old settings stay: .*(private key "
                     + re.escape(str(key1)) + r" does not match certificate "
                     + re.escape(str(crt2)) + r"|" + re.escape(str(key1))
                     + r".*key values mismatch)", new), new
    for mode in ("implicit", "stls"):
        assert served_fingerprint(srv, certs, mode) == fp1, mode
    # SNI certificates were not lost either
    t = tls_client(srv, certs.context(), "implicit", server_hostname="other.test")
    assert file_fingerprint(certs.certdir / "other.test.pem") == sock_fingerprint(t.sock)
    t.cmd("QUIT")

    # fixed: the next reload works again
    set_cert(srv, crt2, key2)
    reload(srv)
    assert served_fingerprint(srv, certs, "implicit") == file_fingerprint(crt2)
    for p in old.values():
        assert p.stat()[0] == 1
        assert p.quit().startswith(b"+OK")


def test_reload_under_load(server_factory, certs, new_certs, tmp_path):
    # Fails if TLS sessions (POP3S, STLS, SNI) running while certificates
    # are reloaded again and again see any error, or a certificate that
    # was never configured: users would see random failures at each renewal.
    (crt1, key1), (crt2, key2) = new_certs
    fps = {"default": {file_fingerprint(certs.cert), file_fingerprint(crt1),
                       file_fingerprint(crt2)},
           "sni": {file_fingerprint(certs.certdir / "other.test.pem")}}
    srv = server_factory(**certs.settings(sni=True), **TLS_LISTEN,
                         **{"pop.channels_per_ip": "0"})
    srv.deliver(SMALL[0])
    want_stat = (1, len(stored(SMALL[0])))
    stop = threading.Event()
    errors, seen = [], collections.Counter()

    def worker(n):
        i = 0
        while not stop.is_set():
            kind = ("implicit", "stls", "sni")[(i + n) % 3]
            try:
                if kind == "sni":
                    t = tls_client(srv, certs.context(), "implicit",
                                   server_hostname="other.test")
                    assert t.cmd(f"USER {USER}").startswith(b"+OK")
                    assert t.cmd(f"PASS {PASSWORD}").startswith(b"+OK")
                    assert t.cmd("STAT") == b"+OK %d %d" % want_stat
                    fp = sock_fingerprint(t.sock)
                    assert t.cmd("QUIT").startswith(b"+OK")
                    t.close()
                    assert fp in fps["sni"], "unexpected SNI certificate"
                else:
                    p = poplib_client(srv, certs, kind)
                    assert p.stat() == want_stat
                    fp = sock_fingerprint(p.sock)
                    assert p.noop().startswith(b"+OK")
                    assert p.quit().startswith(b"+OK")
                    assert fp in fps["default"], "unexpected certificate"
                seen[fp] += 1
            except Exception as e:      # noqa: BLE001 - every error counts
                errors.append(f"worker {n} session {i} ({kind}): {e!r}")
            i += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        # good reloads alternate the two certificates; one broken reload
        # (missing file) in the middle must not disturb anyone either
        plan = [(crt1, key1, True), (crt2, key2, True), (tmp_path / "missing.pem", key1, False),
                (crt1, key1, True), (crt2, key2, True), (crt1, key1, True), (crt2, key2, True)]
        for crt, key, ok in plan:
            time.sleep(0.25)
            set_cert(srv, crt, key)
            reload(srv, ok=ok)
        time.sleep(0.25)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, "\n".join(errors[:10])
    assert sum(seen.values()) >= 30, seen
    # both renewed certificates were served while the reloads went on
    assert file_fingerprint(crt1) in seen and file_fingerprint(crt2) in seen, seen
    assert srv.log().count("configuration reloaded") == 6
    assert srv.log().count("reload failed, old settings stay") == 1


# ---- 9. posternd -t ----------------------------------------------------------

def check_config(server, *overrides):
    args = [str(POSTERND), "-t", "-c", str(server.conf)]
    for o in overrides:
        args += ["-o", o]
    return subprocess.run(args, capture_output=True, timeout=30)


def test_config_check_accepts_good_tls(server_factory, certs):
    # Fails if `posternd -t` rejects a correct TLS configuration (the
    # refusals below would then prove nothing).
    srv = server_factory(start=False)
    res = check_config(srv, f"tls.cert={certs.cert}", f"tls.key={certs.key}",
                       f"tls.cert_dir={certs.certdir}",
                       f"pop.tls_listen=127.0.0.1:{srv.tls_port}")
    assert res.returncode == 0, res.stderr
    assert b"configuration OK" in res.stdout


@pytest.mark.parametrize("case", ["missing-cert", "key-mismatch", "bad-min-version",
                                  "cert-dir-without-cert", "tls-listen-without-cert"])
def test_config_check_refuses_bad_tls(server_factory, certs, new_certs, tmp_path, case):
    # Fails if `posternd -t` passes a configuration whose certificate is
    # missing, whose key belongs to another certificate, whose min_version
    # is unknown, which has per-domain certificates but no default, or
    # which opens a POP3S port without a certificate: the admin would learn
    # only when the server fails to (re)start.
    srv = server_factory(start=False)
    missing = tmp_path / "missing.pem"
    (_, key1), _ = new_certs
    tls = [f"tls.cert={certs.cert}", f"tls.key={certs.key}"]
    overrides, error = {
        "missing-cert": ([f"tls.cert={missing}", f"tls.key={certs.key}"],
                         rf"cannot load certificate {re.escape(str(missing))}: "),
        # OpenSSL notices the mismatch while loading the key already
        "key-mismatch": ([f"tls.cert={certs.cert}", f"tls.key={key1}"],
                         rf"(private key {re.escape(str(key1))} does not match "
                         rf"certificate {re.escape(str(certs.cert))}|cannot load "
                         rf"private key {re.escape(str(key1))}: .*key values mismatch)"),
        "bad-min-version": ([*tls, "tls.min_version=TLSv1.1"],
                            r"tls\.min_version = TLSv1\.1: use TLSv1\.2 or TLSv1\.3"),
        "cert-dir-without-cert": ([f"tls.cert_dir={certs.certdir}"],
                                  r"tls\.cert_dir needs a default certificate in tls\.cert"),
        "tls-listen-without-cert": (
            [f"pop.tls_listen=127.0.0.1:{srv.tls_port}"],
            re.escape("pop.tls_listen needs a certificate: set tls.cert (and tls.key)")),
    }[case]
    res = check_config(srv, *overrides)
    err = res.stderr.decode(errors="replace")
    assert res.returncode == 1, (res.returncode, res.stdout, err)
    assert re.search(error, err), err


def test_tls_listen_without_certificate_refuses_to_start(server_factory):
    # Fails if posternd starts with a POP3S port but no certificate: every
    # POP3S client would fail its handshake instead of the admin seeing
    # the mistake at start.
    srv = server_factory(start=False, **TLS_LISTEN)
    proc = subprocess.Popen([str(POSTERND), "-f", "-c", str(srv.conf)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.decode(errors="replace") + srv.log()
    assert proc.returncode == 1, (proc.returncode, text)
    assert "pop.tls_listen needs a certificate: set tls.cert (and tls.key)" in text


# ---- 10. plaintext policy from a non-loopback address ----------------------------

NETNS_CLIENT = r'''
import json, socket, ssl, sys
host, port, cafile, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
sock = socket.create_connection((host, port), timeout=10)
buf, out = b"", []

def line():
    global buf
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            out.append(["EOF", [buf.decode("latin-1")]])
            print(json.dumps(out))
            sys.exit(0)
        buf += chunk
    text, buf = buf.split(b"\r\n", 1)
    return text.decode("latin-1")

out.append(["greeting", [line()]])
for step in steps:
    sock.sendall(step.encode() + b"\r\n")
    reply = [line()]
    if step == "CAPA" and reply[0].startswith("+OK"):
        while reply[-1] != ".":
            reply.append(line())
    out.append([step, reply])
    if step == "STLS" and reply[0].startswith("+OK"):
        assert buf == b"", buf
        ctx = ssl.create_default_context(cafile=cafile)
        sock = ctx.wrap_socket(sock, server_hostname="example.test")
        out.append(["TLS", [sock.version()]])
print(json.dumps(out))
'''


def sh(*cmd, check=True):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=30, check=check)


@pytest.fixture(scope="module")
def netns(tmp_path_factory):
    """A network namespace joined to the host by a veth pair:
    10.213.R.1/30 on the host end, 10.213.R.2/30 inside."""
    used = sh("ip", "-4", "addr", check=False).stdout + sh("ip", "-4", "route",
                                                            check=False).stdout
    free = [r for r in range(1, 255) if f"10.213.{r}." not in used]
    if not free:
        pytest.skip("no free 10.213.x.0/30 network")
    r = random.choice(free)
    tag = "%06x" % random.randrange(1 << 24)
    ns, host_if, ns_if = f"pn-{tag}", f"pnh-{tag}", f"pnc-{tag}"
    res = sh("ip", "netns", "add", ns, check=False) if shutil.which("ip") else None
    if res is None or res.returncode != 0:
        pytest.skip("cannot create a network namespace: "
                    + ("no ip command" if res is None else res.stderr.strip()))
    try:
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        sh("ip", "link", "set", ns_if, "netns", ns)
        sh("ip", "addr", "add", f"10.213.{r}.1/30", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"10.213.{r}.2/30", "dev", ns_if)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", ns_if, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        script = tmp_path_factory.mktemp("netns") / "client.py"
        script.write_text(NETNS_CLIENT)
        yield {"ns": ns, "host": f"10.213.{r}.1", "client": f"10.213.{r}.2",
               "script": script}
    finally:
        sh("ip", "link", "del", host_if, check=False)
        sh("ip", "netns", "del", ns, check=False)


def netns_session(netns, server, certs, *steps):
    res = subprocess.run(["ip", "netns", "exec", netns["ns"], "/usr/bin/python3",
                          str(netns["script"]), netns["host"], str(server.port),
                          str(certs.ca), *steps],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, (res.stdout, res.stderr, server.log())
    return [(step, reply) for step, reply in json.loads(res.stdout)]


def netns_server(server_factory, certs, netns, **extra):
    return server_factory(**certs.settings(), **{
        "pop.listen": f"127.0.0.1:{{port}}, {netns['host']}:{{port}}"}, **extra)


def test_plaintext_login_refused_from_network(netns, server_factory, certs):
    # Fails if a client on another host can send its password in the clear
    # (USER offered or accepted before STLS), or cannot log in once it has
    # done STLS: passwords on the wire, or users locked out.
    srv = netns_server(server_factory, certs, netns)
    talk = netns_session(netns, srv, certs, "CAPA", f"USER {USER}",
                         f"PASS {PASSWORD}", "STLS", "CAPA", f"USER {USER}",
                         f"PASS {PASSWORD}", "STAT", "QUIT")
    steps = [s for s, _ in talk]
    assert steps[:5] == ["greeting", "CAPA", f"USER {USER}", f"PASS {PASSWORD}", "STLS"], talk
    replies = [r for _, r in talk]
    assert offers(capa_names(replies[1][1:-1]), stls=True, user=False), talk
    assert replies[2] == ["-ERR [AUTH] Plaintext login is not allowed before STLS"]
    assert replies[3] == ["-ERR Send USER first"]
    assert replies[4] == [STLS_GO.decode()]
    assert steps[5] == "TLS" and replies[5][0] in ("TLSv1.2", "TLSv1.3")
    assert offers(capa_names(replies[6][1:-1]), stls=False, user=True), talk
    assert replies[7] == ["+OK Send your password"]
    assert replies[8][0].startswith("+OK Logged in"), talk
    assert replies[9] == ["+OK 0 0"]
    assert replies[10][0].startswith("+OK")
    # the server really saw a non-loopback peer
    assert re.search(rf"\[{re.escape(netns['client'])}\] {USER}@example.test logged in",
                     srv.log()), srv.log()


def test_allow_plaintext_from_network(netns, server_factory, certs):
    # Fails if auth.allow_plaintext = yes (pop.allow_plaintext in the
    # original brief; the setting moved to [auth] with SASL) does not let a network client log
    # in without TLS: sites that chose to allow it would lock users out.
    srv = netns_server(server_factory, certs, netns, **{"auth.allow_plaintext": "yes"})
    srv.deliver(SMALL[0])
    talk = netns_session(netns, srv, certs, "CAPA", f"USER {USER}",
                         f"PASS {PASSWORD}", "STAT", "QUIT")
    replies = dict(talk)
    assert offers(capa_names(replies["CAPA"][1:-1]), stls=True, user=True), talk
    assert replies[f"USER {USER}"] == ["+OK Send your password"]
    assert replies[f"PASS {PASSWORD}"][0].startswith("+OK Logged in"), talk
    assert replies["STAT"] == ["+OK 1 %d" % len(stored(SMALL[0]))]
    assert "TLS established" not in srv.log()
    assert re.search(rf"\[{re.escape(netns['client'])}\] {USER}@example.test logged in",
                     srv.log()), srv.log()


def test_failed_reload_keeps_the_old_certificate_too(tls_server, certs):
    """A reload is all or nothing: a new certificate together with a bad
    module setting leaves the old certificate in service."""
    def fingerprint():
        ctx = certs.context()
        with socket.create_connection(("127.0.0.1", tls_server.tls_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="example.test") as s:
                return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()

    before = fingerprint()
    crt, key = certs.issue("atomic.example.test", "DNS:example.test,IP:127.0.0.1")
    text = tls_server.conf.read_text()
    text = text.replace(str(certs.cert), str(crt)).replace(str(certs.key), str(key))
    tls_server.conf.write_text(text + "[pop]\nchannels = lots\n")
    tls_server.send_signal(signal.SIGHUP)
    tls_server.wait_log("reload failed, old settings stay")
    assert fingerprint() == before


def test_session_resumption_with_a_ticket(tls_server, certs):
    # Fails if a client cannot resume its TLS session with the ticket the
    # server gave it (stateless tickets, no server-side cache): every
    # reconnect of a mail client would pay for a full handshake.
    ctx = certs.context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3

    def session(prev=None):
        sock = socket.create_connection(("127.0.0.1", tls_server.tls_port), timeout=10)
        tls = ctx.wrap_socket(sock, server_hostname="localhost", session=prev)
        c = RawClient(tls)
        c.login()                            # the ticket arrives with data
        assert c.cmd("QUIT").startswith(b"+OK")
        reused, sess = tls.session_reused, tls.session
        tls.close()
        return reused, sess

    reused, first = session()
    assert not reused
    assert first is not None and first.has_ticket
    reused, _ = session(first)
    assert reused

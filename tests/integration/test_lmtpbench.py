"""lmtpbench, the LMTP load generator, against a small LMTP server in this
file: what it sends (un-stuffed message, SIZE, pipelined groups) and what it
counts (250 replies after DATA, errors by kind).  The property compare.py
relies on is pinned here: after a run, messages stored by the server ==
deliveries= in the summary, also when the run ends on -d in mid-flight.
No timing is asserted (figures live in doc/performance.md)."""
import socket
import subprocess
import threading

import pytest

from conftest import BUILD

LMTPBENCH = BUILD / "tests" / "bench" / "lmtpbench"
# a dot line, a line of only a dot, and a line of two dots
MESSAGE = (b"From: bench@example.test\r\nSubject: lmtpbench test\r\n\r\n"
           b".a dot line\r\n.\r\n..\r\n" + b"payload " * 300 + b"\r\nend\r\n")


class FakeLMTP:
    """RFC 2033 as far as lmtpbench needs it, one thread per connection.

    refuse_rcpt: addresses refused at RCPT with 550; tempfail: addresses
    accepted at RCPT but answered 451 after the message."""

    def __init__(self, path=None, pipelining=True, refuse_rcpt=(), tempfail=()):
        self.pipelining = pipelining
        self.refuse_rcpt, self.tempfail = set(refuse_rcpt), set(tempfail)
        self.lock = threading.Lock()
        self.stored = []            # (recipient, message) per 250 after DATA
        self.sizes = []             # SIZE= of every MAIL
        self.txns = []              # the accepted recipients of each DATA
        self.sessions = 0
        self.per_session = []       # transactions of each session that QUIT
        self.problems = []          # protocol faults of the client
        if path is None:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        else:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(str(path))
            self.port = None
        self.sock.listen(128)
        self.closing = False
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def close(self):
        self.closing = True
        self.sock.close()

    def session(self, conn):
        f = conn.makefile("rb")
        out = conn.makefile("wb")

        def reply(text):
            out.write(text.encode() + b"\r\n")
            out.flush()

        sender, rcpts, txns = None, [], 0
        reply("220 fake LMTP ready")
        with conn:
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.rstrip(b"\r\n").decode()
                verb = cmd.split(" ", 1)[0].upper()
                if verb == "LHLO":
                    caps = ["PIPELINING"] if self.pipelining else []
                    caps += ["ENHANCEDSTATUSCODES", "8BITMIME", "SIZE 100000000"]
                    reply("250-fake.test")
                    for i, cap in enumerate(caps):
                        reply(("250 " if i == len(caps) - 1 else "250-") + cap)
                elif verb == "MAIL":
                    if sender is not None:
                        self.problems.append("MAIL inside a transaction")
                    sender, rcpts = cmd, []
                    if " SIZE=" in cmd:
                        self.sizes.append(int(cmd.split(" SIZE=")[1].split()[0]))
                    reply("250 2.1.0 OK")
                elif verb == "RCPT":
                    addr = cmd.split("<", 1)[1].split(">", 1)[0]
                    if sender is None:
                        reply("503 5.5.1 MAIL first")
                    elif addr in self.refuse_rcpt:
                        reply(f"550 5.1.1 <{addr}> no such user")
                    else:
                        rcpts.append(addr)
                        reply("250 2.1.5 OK")
                elif verb == "DATA":
                    if not rcpts:
                        reply("503 5.5.1 no valid recipients")
                        continue
                    reply("354 go ahead")
                    txns += 1
                    with self.lock:
                        self.txns.append(list(rcpts))
                    body = b""
                    while True:
                        dl = f.readline()
                        if not dl:
                            return
                        if dl == b".\r\n":
                            break
                        if not dl.endswith(b"\r\n"):
                            self.problems.append(f"bare line end: {dl!r}")
                        body += dl[1:] if dl.startswith(b".") else dl
                    for addr in rcpts:
                        if addr in self.tempfail:
                            reply(f"451 4.3.0 <{addr}> try later")
                        else:
                            with self.lock:
                                self.stored.append((addr, body))
                            reply(f"250 2.0.0 <{addr}> saved")
                    sender, rcpts = None, []
                elif verb == "RSET":
                    sender, rcpts = None, []
                    reply("250 2.0.0 OK")
                elif verb == "QUIT":
                    with self.lock:
                        self.sessions += 1
                        self.per_session.append(txns)
                    reply("221 2.0.0 bye")
                    return
                else:
                    reply("500 5.5.2 what?")


@pytest.fixture
def fake():
    servers = []

    def make(**kw):
        srv = FakeLMTP(**kw)
        servers.append(srv)
        return srv
    yield make
    for srv in servers:
        srv.close()


def lmtpbench(srv, *args, timeout=60):
    where = ["-p", str(srv.port)] if srv.port else []
    res = subprocess.run([str(LMTPBENCH), "-q", "-H", "127.0.0.1", *where, *args],
                         capture_output=True, text=True, timeout=timeout)
    lines = res.stdout.strip().splitlines()
    summary = dict(kv.split("=") for kv in lines[0].split())
    errors = dict(kv.split("=") for kv in lines[1].split()[1:]) if len(lines) > 1 else {}
    return res.returncode, summary, errors


@pytest.mark.parametrize("extra", [[], ["-P"], ["-m", "7"]],
                         ids=["serial", "pipelined", "reconnect"])
def test_every_message_arrives_unstuffed(fake, tmp_path, extra):
    msg = tmp_path / "msg.eml"
    msg.write_bytes(MESSAGE)
    srv = fake()
    rc, s, _ = lmtpbench(srv, "-c", "4", "-n", "70", "-R", "u%d@example.test", "-U", "10",
                         "-f", str(msg), *extra)
    assert rc == 0
    assert s["messages"] == s["deliveries"] == "70" and s["errors"] == "0"
    assert len(srv.stored) == 70
    assert all(body == MESSAGE for _, body in srv.stored)
    assert srv.sizes == [len(MESSAGE)] * 70
    # round-robin over the 10 users: 7 messages each
    assert sorted({a for a, _ in srv.stored}) == sorted(f"u{i}@example.test" for i in range(10))
    assert all(sum(1 for a, _ in srv.stored if a == f"u{i}@example.test") == 7
               for i in range(10))
    assert srv.problems == []
    assert int(s["sessions"]) == srv.sessions
    if "-m" in extra:
        # at most 7 transactions per session, then QUIT and a new connection
        assert max(srv.per_session) == 7 and srv.sessions >= 10
    else:
        assert srv.sessions == 4


@pytest.mark.parametrize("extra", [[], ["-P"]], ids=["serial", "pipelined"])
def test_several_recipients_one_reply_each(fake, extra):
    srv = fake()
    rc, s, _ = lmtpbench(srv, "-c", "3", "-n", "30", "-r", "5", "-U", "7", *extra)
    assert rc == 0
    assert s["messages"] == "30" and s["deliveries"] == "150"
    assert len(srv.stored) == 150
    # the recipients of one message are distinct users
    assert len(srv.txns) == 30 and all(len(set(t)) == 5 for t in srv.txns)
    assert srv.problems == []


def test_lf_only_file_goes_out_as_crlf(fake, tmp_path):
    msg = tmp_path / "lf.eml"
    msg.write_bytes(b"Subject: lf\n\n.dot\nlast line without end")
    srv = fake()
    rc, s, _ = lmtpbench(srv, "-c", "1", "-n", "3", "-f", str(msg))
    assert rc == 0
    assert srv.stored[0][1] == b"Subject: lf\r\n\r\n.dot\r\nlast line without end\r\n"
    assert srv.problems == []


@pytest.mark.parametrize("extra", [[], ["-P"]], ids=["serial", "pipelined"])
def test_refused_recipients_are_counted_not_delivered(fake, extra):
    srv = fake(refuse_rcpt={"bench2@example.test"}, tempfail={"bench3@example.test"})
    rc, s, e = lmtpbench(srv, "-c", "2", "-n", "40", "-U", "4", *extra)
    assert rc == 1
    # 10 messages each to bench0..bench3: bench2 refused at RCPT (no DATA),
    # bench3 answered 451 after the message
    assert e["rcpt"] == "10" and e["deliver"] == "10" and e["data"] == "0"
    assert s["messages"] == "20" and s["deliveries"] == "20"
    assert len(srv.stored) == 20
    assert srv.problems == []


def test_pipelining_needs_the_capability(fake):
    srv = fake(pipelining=False)
    rc, s, e = lmtpbench(srv, "-c", "1", "-n", "5", "-P", "-d", "1")
    assert rc == 1
    assert int(e["lhlo"]) > 0 and s["deliveries"] == "0"
    assert srv.stored == []


def test_timed_run_drains_so_stored_equals_replies(fake):
    srv = fake()
    rc, s, _ = lmtpbench(srv, "-c", "8", "-d", "1", "-r", "2", "-U", "10", "-P")
    assert rc == 0
    assert int(s["deliveries"]) == len(srv.stored) > 0
    assert int(s["sessions"]) == 8 == srv.sessions


def test_unix_socket(fake, tmp_path):
    path = tmp_path / "lmtp.sock"
    srv = fake(path=path)
    rc, s, _ = lmtpbench(srv, "-x", str(path), "-c", "2", "-n", "10")
    assert rc == 0 and s["deliveries"] == "10" == str(len(srv.stored))


def test_nothing_listening_counts_connect_errors(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = subprocess.run([str(LMTPBENCH), "-q", "-p", str(port), "-c", "1", "-d", "0.5"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    assert "connect=" in res.stdout and " connect=0 " not in res.stdout


def test_usage_errors_exit_2():
    for args in (["-r", "3", "-U", "2"], ["-U", "5", "-R", "fixed@example.test"],
                 ["-f", "/nonexistent/message"], ["-c", "0"]):
        res = subprocess.run([str(LMTPBENCH), *args], capture_output=True, text=True,
                             timeout=10)
        assert res.returncode == 2, args
        assert res.stderr.startswith("lmtpbench: ") or "usage" in res.stderr


def test_large_message_survives_partial_writes(fake, tmp_path):
    # 2 MB: far more than a socket buffer, so the message goes out in pieces
    big = b"Subject: big\r\n\r\n" + (b"." + b"x" * 1021 + b"\r\n") * 2048
    msg = tmp_path / "big.eml"
    msg.write_bytes(big)
    srv = fake()
    rc, s, _ = lmtpbench(srv, "-c", "3", "-n", "9", "-f", str(msg), "-P")
    assert rc == 0 and s["deliveries"] == "9"
    assert all(body == big for _, body in srv.stored) and len(srv.stored) == 9

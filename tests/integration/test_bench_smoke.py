"""The load generators as smoke tests: a few seconds of concurrent POP3
sessions, plain and TLS, USER/PASS and AUTH PLAIN, every retrieved message
compared byte for byte; zero errors.  LMTP deliveries into Postern with
lmtpbench, every 250 a stored message (skipped while the build has no LMTP
module).  No timing is asserted (figures live in doc/performance.md)."""
import re
import socket
import subprocess
import time

import pytest

from conftest import BUILD, MODULES, PASSWORD, TLS_LISTEN, USER, free_port

POPBENCH = BUILD / "tests" / "bench" / "popbench"
LMTPBENCH = BUILD / "tests" / "bench" / "lmtpbench"
HAVE_LMTP = any(p.exists() for p in (MODULES / "lmtp.so", MODULES / "lmtp" / ".libs" / "lmtp.so"))
MESSAGE = (b"From: bench@example.test\r\nSubject: smoke\r\n\r\n"
           b".a dot line\r\n" + b"payload " * 500 + b"\r\n")


@pytest.fixture
def bench_server(server_factory, certs, tmp_path):
    srv = server_factory(**certs.settings(), **TLS_LISTEN,
                         **{"pop.channels_per_ip": "0"})
    msg = tmp_path / "msg.eml"
    msg.write_bytes(MESSAGE)
    srv.ctl("message", "import", USER, *[str(msg)] * 5)
    return srv, msg


@pytest.mark.parametrize("extra", [
    [],
    ["-a", "plain"],
    ["-P"],
    ["-t", "stls"],
    ["-t", "implicit", "-a", "plain"],
], ids=["user", "auth-plain", "pipelined", "stls", "implicit-tls"])
def test_popbench_runs_clean(bench_server, extra):
    srv, msg = bench_server
    port = srv.tls_port if "implicit" in extra else srv.port
    res = subprocess.run([str(POPBENCH), "-q", "-H", "127.0.0.1", "-p", str(port),
                          "-u", USER, "-w", PASSWORD, "-c", "8", "-d", "2",
                          "-s", "stat,uidl,retr-all,quit", "-e", str(msg), *extra],
                         capture_output=True, text=True, timeout=60)
    summary = res.stdout.strip().splitlines()[0]
    # what an operator reads: sessions done, none failed
    assert res.returncode == 0, res.stdout + res.stderr
    assert " errors=0" in summary
    assert int(summary.split("sessions=")[1].split()[0]) > 0


def wait_lmtp(port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.recv(512)         # the greeting; closing then is the client's right
                return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"nothing listens for LMTP on {port}")


def stored_messages(srv, address):
    """All of an account's mailboxes: 'INBOX    12 messages    4660 octets'."""
    out = srv.ctl("mailbox", "list", address).stdout.decode()
    return sum(int(n) for n in re.findall(r"\s(\d+) messages?\b", out))


@pytest.mark.skipif(not HAVE_LMTP, reason="no LMTP module in this build (modules/lmtp)")
@pytest.mark.parametrize("extra", [[], ["-P", "-r", "2"], ["-m", "3"]],
                         ids=["serial", "pipelined-2-rcpt", "reconnect"])
def test_lmtpbench_delivers_into_postern(server_factory, tmp_path, extra):
    port = free_port()
    srv = server_factory(start=False, **{"modules": "pop, lmtp",
                                         "lmtp.listen": f"127.0.0.1:{port}"})
    users = [f"bench{i}" for i in range(3)]
    for user in users:
        srv.add_account(user, PASSWORD)
    srv.start()
    wait_lmtp(port)
    msg = tmp_path / "msg.eml"
    msg.write_bytes(MESSAGE)
    res = subprocess.run([str(LMTPBENCH), "-q", "-H", "127.0.0.1", "-p", str(port),
                          "-c", "4", "-n", "30", "-R", "bench%d@example.test", "-U", "3",
                          "-f", str(msg), *extra],
                         capture_output=True, text=True, timeout=60)
    summary = dict(kv.split("=") for kv in res.stdout.split("\n")[0].split())
    assert res.returncode == 0, res.stdout + res.stderr
    assert summary["errors"] == "0" and summary["messages"] == "30"
    # what a 250 promises: the message is in the mailbox
    assert sum(stored_messages(srv, u) for u in users) == int(summary["deliveries"])

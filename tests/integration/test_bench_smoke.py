"""The load generator as a smoke test: a few seconds of concurrent
sessions, plain and TLS, USER/PASS and AUTH PLAIN, every retrieved message
compared byte for byte; zero errors.  No timing is asserted (figures live
in doc/performance.md)."""
import subprocess

import pytest

from conftest import BUILD, PASSWORD, TLS_LISTEN, USER

POPBENCH = BUILD / "tests" / "bench" / "popbench"
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

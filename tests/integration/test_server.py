"""posternd and posternctl as an admin meets them: configuration errors
with file:line, reload, shutdown, crashes, and bad admin input."""
import os
import pathlib
import signal
import socket
import subprocess
import time

import pytest

from conftest import POSTERND, USER, message


def run_posternd(*args):
    return subprocess.run([str(POSTERND), *args], capture_output=True, timeout=30)


@pytest.mark.parametrize("text,error", [
    ("[pop]\nchannels = lots\n", "postern.conf:2: pop.channels = 'lots' is not a whole number"),
    ("[pop]\nchannels = 99999999\n", "postern.conf:2: pop.channels = 99999999: out of range, use 0 to 1000000"),
    ("[pop]\nlisen = 127.0.0.1:110\n", "postern.conf:2: unknown setting pop.lisen"),
    ("[imap]\nlisten = 1.2.3.4:143\n", "postern.conf:2: unknown setting imap.listen (is its module loaded?)"),
    ("data_dir = relative/path\n", "data_dir = relative/path: must be an absolute path"),
    ("just some words\n", "postern.conf:1: not a [section] or key = value line"),
    ("[log]\nlevel = loud\n", "log.level = loud: use error, warning, notice, info or debug"),
    ("[pop]\nidle_timeout = 5 minutes\n", "is not a duration"),
    ("[pop]\nchannels = 5\nchannels = 6\n", "postern.conf:3: pop.channels is set twice (first at"),
    ("modules = pop, ../../etc/evil\n", "modules: '../../etc/evil' is not a module name"),
    ("max_message_size = 1T\n", "is not a size"),
])
def test_config_check_names_file_and_line(tmp_path, text, error):
    conf = tmp_path / "postern.conf"
    conf.write_text(text)
    res = run_posternd("-t", "-c", str(conf), "-o", f"module_dir={POSTERND.parent}/modules")
    assert res.returncode == 1
    assert error in res.stderr.decode(), res.stderr


def test_config_check_ok_and_overrides(server):
    res = run_posternd("-t", "-c", str(server.conf))
    assert res.returncode == 0 and b"configuration OK" in res.stdout
    res = run_posternd("-t", "-c", str(server.conf), "-o", "pop.channels=x")
    assert res.returncode == 1
    assert b"-o pop.channels: pop.channels = 'x' is not a whole number" in res.stderr
    res = run_posternd("-t", "-c", str(server.conf), "-o", "nonsense")
    assert b"-o nonsense: expected key=value" in res.stderr


def test_shipped_config_is_valid_and_documents_every_key():
    conf = POSTERND.parent / "conf" / "postern.conf"
    if not conf.exists():  # out-of-tree build
        conf = __import__("pathlib").Path(__file__).resolve().parents[2] / "conf" / "postern.conf"
    res = run_posternd("-t", "-c", str(conf), "-o", f"module_dir={POSTERND.parent}/modules")
    assert res.returncode == 0, res.stderr
    text = conf.read_text()
    for key in ("data_dir", "main_domain", "modules", "module_dir", "pid_file",
                "shutdown_timeout", "max_message_size", "level", "target",
                "listen", "channels", "channels_per_ip", "idle_timeout",
                "max_bad_commands", "max_auth_failures", "greeting", "tls_listen",
                "cert", "key", "cert_dir", "min_version", "ciphers", "ciphersuites",
                "allow_plaintext", "mechanisms", "failure_delay_ms", "failure_window"):
        assert f"\n#{key} =" in text, key


def test_missing_module_and_bad_listen(tmp_path, server):
    res = run_posternd("-t", "-c", str(server.conf), "-o", "module_dir=/nonexistent")
    assert res.returncode == 1
    assert b"cannot load module pop" in res.stderr
    assert b"module_dir = /nonexistent" in res.stderr
    # the port is taken by the running server
    res = subprocess.run([str(POSTERND), "-f", "-c", str(server.conf),
                          "-o", "log.target=stderr"], capture_output=True, timeout=30)
    assert res.returncode == 1
    assert b"Address already in use - is another server (or posternd) using it?" in res.stderr
    res = subprocess.run([str(POSTERND), "-f", "-c", str(server.conf),
                          "-o", "pop.listen=999.1.1.1:5", "-o", "log.target=stderr"],
                         capture_output=True, timeout=30)
    assert res.returncode == 1
    assert b"pop.listen: '999.1.1.1:5'" in res.stderr


def test_sighup_reloads_settings(server):
    a = server.raw()
    assert a.line().startswith(b"+OK")
    text = server.conf.read_text().replace("[pop]\n", "[pop]\nchannels = 1\n")
    server.conf.write_text(text)
    server.send_signal(signal.SIGHUP)
    server.wait_log("configuration reloaded")
    # the open session stays; a second one is over the new limit
    b = server.raw()
    assert b.line() == b"-ERR [SYS/TEMP] too many connections, try later"
    assert a.cmd("QUIT") == b"+OK Bye"


def test_sighup_with_broken_config_keeps_old_settings(server):
    good = server.conf.read_text()
    server.conf.write_text(good + "[pop]\nbogus_key = 1\n")
    server.send_signal(signal.SIGHUP)
    server.wait_log("reload failed, old settings stay")
    assert "unknown setting pop.bogus_key" in server.log()
    p = server.pop()
    p.quit()


def test_sigterm_lets_sessions_finish(server):
    server.deliver(message(1))
    r = server.raw()
    r.login()
    server.send_signal(signal.SIGTERM)
    server.wait_log("no new connections")
    with socket.socket() as s:  # no longer listening
        assert s.connect_ex(("127.0.0.1", server.port)) != 0
    # the session in progress still works and its QUIT still removes
    assert r.cmd("DELE 1").startswith(b"+OK")
    assert r.cmd("QUIT") == b"+OK Bye, 1 message removed"
    assert server.proc.wait(10) == 0
    server.start()
    p = server.pop()
    assert p.stat()[0] == 0
    p.quit()


def test_sigterm_grace_ends_idle_sessions(server_factory):
    srv = server_factory(shutdown_timeout="1s")
    srv.deliver(message(1))
    r = srv.raw()
    r.login()
    r.cmd("DELE 1")
    srv.send_signal(signal.SIGTERM)
    assert srv.proc.wait(10) == 0
    assert r.closed()
    srv.start()  # the session never sent QUIT: nothing was removed
    p = srv.pop()
    assert p.stat()[0] == 1
    p.quit()


def test_kill_9_loses_nothing(server):
    for i in range(3):
        server.deliver(message(i))
    r = server.raw()
    r.login()
    r.cmd("DELE 1")
    r.cmd("RETR 2")
    server.proc.kill()
    server.proc.wait()
    server.err.close()
    server.proc = None
    server.start()
    p = server.pop()
    assert p.stat()[0] == 3
    p.quit()


def test_killed_delivery_stores_nothing(server):
    proc = subprocess.Popen([str(POSTERND.parent / "posternctl"), "-c", str(server.conf),
                             "deliver", USER], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.stdin.write(b"Subject: half\r\n\r\n" + b"x" * 100000)
    proc.stdin.flush()
    time.sleep(0.2)
    proc.kill()
    proc.wait()
    p = server.pop()
    assert p.stat() == (0, 0)
    p.quit()


@pytest.mark.parametrize("args,stdin,code,error", [
    (["domain", "add", "bad name"], None, 1, "invalid object name 'bad name'"),
    (["domain", "add", ".lead"], None, 1, "must not start or end with a dot"),
    (["domain", "add", "x" * 129], None, 1, "longer than 128 octets"),
    (["domain", "add", "example.test"], None, 1, "domain example.test already exists"),
    (["domain", "del", "example.test"], None, 1, "domain example.test still has accounts"),
    (["domain", "del", "nope.test"], None, 1, "no such domain: nope.test"),
    (["account", "add", "jsmith"], b"pw\n", 1, "account jsmith@example.test already exists"),
    (["account", "add", "new@nope.test"], b"pw\n", 1, "no such domain: nope.test"),
    (["account", "add", "new"], b"", 65, "no password given"),
    (["account", "add", "new", "--password-file", "/nonexistent"], None, 66,
     "cannot read password file /nonexistent"),
    (["account", "add", "new", "hunter2"], b"x\n", 64, "usage: account add ADDRESS"),
    (["account", "passwd", "ghost"], b"pw\n", 1, "no such account: ghost@example.test"),
    (["account", "del", "ghost"], None, 1, "no such account: ghost@example.test"),
    (["account", "list", "nope.test"], None, 1, "no such domain: nope.test"),
    (["deliver", "ghost"], b"Subject: x\n\nhi\n", 67,
     "ghost not delivered: no such user: ghost@example.test"),
    (["deliver", "ghost@nope.test"], b"Subject: x\n\nhi\n", 67,
     "ghost@nope.test not delivered: no such domain: nope.test"),
    (["deliver", "a..b"], b"Subject: x\n\nhi\n", 65, "a..b not delivered: invalid local part"),
    (["deliver", USER], b"", 65, "jsmith not delivered: empty message"),
    (["deliver", "--from", "<x>", USER], b"x\n", 64, "--from: not a plain address: <x>"),
    (["deliver"], b"", 64, "usage: deliver [--from SENDER] RECIPIENT..."),
    (["message", "import", "ghost"], b"Subject: x\n\nhi\n", 67, "no such account: ghost@example.test"),
    (["message", "import", USER], b"", 65, "not imported: empty message"),
    (["mailbox", "list", "ghost"], None, 67, "no such account"),
    (["message", "list", USER, "../x"], None, 65, "invalid mailbox name"),
    (["frobnicate"], None, 64, "unknown command 'frobnicate'"),
])
def test_posternctl_errors(server, args, stdin, code, error):
    res = server.ctl(*args, input=stdin, check=False)
    assert res.returncode == code, res.stderr
    assert error in res.stderr.decode(), res.stderr


def test_posternctl_oversize_message(server_factory):
    srv = server_factory(max_message_size="2k")
    res = srv.ctl("deliver", USER, input=b"Subject: big\n\n" + b"z" * 5000, check=False)
    assert res.returncode == 65
    assert b"jsmith not delivered: message larger than the limit of 2048 octets" in res.stderr
    assert srv.pop().stat() == (0, 0)


def test_posternctl_accounts_lifecycle(server):
    pwfile = server.root / "pw"
    pwfile.write_text("first-pass\n")
    server.ctl("account", "add", "Alice@Example.Test", "--password-file", str(pwfile))
    assert "alice@example.test" in server.ctl("account", "list").stdout.decode()
    assert server.ctl("account", "list", "example.test").stdout.decode().split() == \
        ["alice@example.test", "jsmith@example.test"]
    p = server.pop("alice", "first-pass")
    p.quit()
    server.ctl("account", "passwd", "alice", input=b"second-pass\n")
    p = server.pop("alice", "second-pass")
    p.quit()
    server.deliver(message(1), address="alice")
    assert "INBOX" in server.ctl("mailbox", "list", "alice").stdout.decode()
    server.ctl("account", "del", "alice")
    r = server.raw()
    r.line()
    r.cmd("USER alice")
    assert r.cmd("PASS second-pass").startswith(b"-ERR [AUTH]")
    # its bodies are gone from disk too
    bodies = list((server.root / "data" / "bodies").rglob("*"))
    assert all(b.is_dir() for b in bodies)


def test_posternctl_works_while_posternd_runs(server):
    p = server.pop()
    for i in range(20):
        server.deliver(message(i))
    assert p.stat()[0] == 0
    p.quit()
    p = server.pop()
    assert p.stat()[0] == 20
    p.quit()


def test_daemon_mode_detaches_and_writes_pid_file(server_factory):
    srv = server_factory(start=False)
    pid_file = srv.root / "posternd.pid"
    res = subprocess.run([str(POSTERND), "-c", str(srv.conf),
                          "-o", f"pid_file={pid_file}"], capture_output=True, timeout=30)
    # the command returns at once; the daemon serves in the background
    assert res.returncode == 0, res.stderr
    pid = int(pid_file.read_text())
    try:
        assert pid != os.getpid()
        srv.wait_log("started")
        p = srv.pop()
        assert p.stat() == (0, 0)
        p.quit()
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_file.exists()  # removed on a clean stop
    srv.wait_log("posternd stopped")


def test_daemon_that_fails_to_start_makes_the_command_fail(server_factory):
    srv = server_factory(start=False)
    res = subprocess.run([str(POSTERND), "-c", str(srv.conf), "-o", "log.target=stderr",
                          "-o", "pid_file=/nonexistent/dir/posternd.pid"],
                         capture_output=True, timeout=30)
    # what an init script sees: a failure exit and the reason
    assert res.returncode == 1
    assert b"cannot write pid_file /nonexistent/dir/posternd.pid" in res.stderr
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", srv.port)) != 0


def test_runs_as_an_unprivileged_user(tmp_path, server_factory):
    """user = nobody: posternd binds as root, then serves as nobody; the
    store's files belong to nobody, also those posternctl (run as root)
    writes, so the server can read everything."""
    import pwd
    if os.geteuid() != 0:
        pytest.skip("needs root to drop privileges")
    import shutil
    import tempfile
    nobody = pwd.getpwnam("nobody")
    # pytest's own directories are root's alone: the store goes where
    # nobody can reach it (posternctl creates data/ for nobody)
    base = tempfile.mkdtemp(prefix="postern-user-")
    os.chmod(base, 0o755)
    try:
        srv = server_factory(start=False, user="nobody", data_dir=f"{base}/data")
        srv.deliver(message(1))
        srv.start()
        check_runs_as(srv, nobody, pathlib.Path(base) / "data")
        assert srv.stop() == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


def check_runs_as(srv, nobody, data):
    status = open(f"/proc/{srv.proc.pid}/status").read()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert set(uids) == {str(nobody.pw_uid)}
    owners = {p.stat().st_uid for p in data.rglob("*")} | {data.stat().st_uid}
    assert owners == {nobody.pw_uid}
    p = srv.pop()
    _, lines, _ = p.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == message(1)
    p.quit()


def test_unknown_user_setting_is_a_clear_error(server_factory):
    srv = server_factory(start=False)
    res = srv.ctl("-o", "user=no-such-user-xyz", "domain", "list", check=False)
    if os.geteuid() == 0:
        assert res.returncode == 77
        assert b"user = no-such-user-xyz: no such user" in res.stderr

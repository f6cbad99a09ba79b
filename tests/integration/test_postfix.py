"""End to end through a real Postfix (Debian's package): a message goes
into Postfix over SMTP, Postfix hands it to Postern over LMTP (a TCP port
or the UNIX socket), and the user fetches it over POP.

Each test runs its own private Postfix instance, never the system one:
its own config_directory, queue_directory and data_directory under
tmp_path, an smtpd on 127.0.0.1 and a free port only (nothing on port 25),
no chroot, its log in a file (maillog_file, written by postlogd), and a
default_transport that refuses everything, so no mail can leave the
machine.  It is started with `postfix -c DIR start` and stopped with
`postfix -c DIR stop`; the teardown then checks, by pid, that the master
and every process it had started are gone.

Starting a Postfix needs root (the master binds, then its daemons drop to
the postfix user); the tests skip where that or the package is missing.
"""
import os
import pathlib
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import time
from contextlib import contextmanager

import pytest

from conftest import DOMAIN, USER, free_port

SENDER = "alice@sender.test"    # a domain no test Postfix delivers to
TIMEOUT = 15.0                  # bound on every wait for Postfix


def postfix_binary():
    path = shutil.which("postfix", path=os.environ.get("PATH", "") +
                        ":/usr/sbin:/sbin")
    if path is None:
        pytest.skip("postfix is not installed (Debian package postfix)")
    if os.geteuid() != 0:
        pytest.skip("a private Postfix instance must be started as root "
                    "(its master binds, then drops to the postfix user)")
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        pytest.skip("there is no postfix user (the package's postinst did not run)")
    return path


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes (its parent has not reaped it yet)
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children(pid):
    """The pids whose parent is pid (the master's daemons)."""
    out = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return out


@contextmanager
def searchable_by_others(*paths: pathlib.Path):
    """Let the postfix user reach paths: the master takes its lock in
    data_directory, and the lmtp client connects to the UNIX socket, both
    as that user.  Give o+x to every directory above them that lacks it
    (pytest makes its temporary directories 0700), and take it back
    afterwards."""
    changed = []
    try:
        for path in paths:
            for d in path.parents:
                mode = d.stat().st_mode & 0o7777
                if not mode & 0o001:
                    os.chmod(d, mode | 0o001)
                    changed.append((d, mode))
        yield
    finally:
        for d, mode in reversed(changed):
            os.chmod(d, mode)


MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:{smtp_port} inet n - n - - smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
# where postfix-files lives (Debian's built-in default, said because
# config_directory is not /etc/postfix)
meta_directory = /etc/postfix
maillog_file = {maillog}
maillog_file_prefixes = {root}
myhostname = mx.postfix.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtpd_peername_lookup = no
virtual_mailbox_domains = {domain}
virtual_transport = {transport}
default_transport = error:this test Postfix delivers to {domain} only
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""


class Postfix:
    """One private Postfix instance under root, delivering DOMAIN to
    transport (a Postfix nexthop such as lmtp:inet:127.0.0.1:24)."""

    def __init__(self, binary, root: pathlib.Path, transport: str):
        self.binary = binary
        self.root = root
        self.conf = root / "conf"
        self.queue = root / "queue"
        self.data = root / "data"
        self.maillog = root / "maillog"
        self.smtp_port = free_port()
        self.master_pid = None
        for d in (self.conf, self.queue, self.data):
            d.mkdir(parents=True)
        # the master takes its lock in data_directory as the postfix user
        pw = pwd.getpwnam("postfix")
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        (self.conf / "master.cf").write_text(
            MASTER_CF.format(smtp_port=self.smtp_port))
        (self.conf / "main.cf").write_text(MAIN_CF.format(
            queue=self.queue, data=self.data, maillog=self.maillog,
            root=root, domain=DOMAIN, transport=transport))
        # Postfix reads a configuration file again while it "changed
        # recently" (its load_file(); seen here: `postfix start` rereading
        # main.cf every 300 ms for two seconds); dated a minute back, the
        # files are read at once
        past = time.time() - 60
        for name in ("main.cf", "master.cf"):
            os.utime(self.conf / name, (past, past))

    def postfix(self, *args, check=True):
        res = subprocess.run([self.binary, "-c", str(self.conf), *args],
                             capture_output=True, timeout=30, text=True)
        if check and res.returncode != 0:
            raise AssertionError(
                f"postfix {' '.join(args)} failed ({res.returncode}): "
                f"{res.stdout}{res.stderr}\n--- maillog:\n{self.log()}")
        return res

    def start(self):
        try:
            self.postfix("start")
        finally:
            self.read_pid()
        assert self.master_pid and self.ours(self.master_pid), \
            f"no master of ours after postfix start:\n{self.log()}"
        return self

    def read_pid(self):
        pidfile = self.queue / "pid" / "master.pid"
        if pidfile.exists():
            text = pidfile.read_text().strip()
            if text.isdigit():
                self.master_pid = int(text)

    def ours(self, pid):
        """pid is this instance's master (it runs in our queue_directory),
        not a stale pid file's number taken by another process."""
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            return False
        return alive(pid) and pathlib.Path(cwd) == self.queue.resolve()

    def stop(self):
        """postfix stop, then make sure, by pid, that nothing is left."""
        self.read_pid()
        if self.master_pid is None or not self.ours(self.master_pid):
            return
        pids = [self.master_pid, *children(self.master_pid)]
        self.postfix("stop", check=False)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and any(map(alive, pids)):
            time.sleep(0.05)
        left = [pid for pid in pids if alive(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"Postfix processes left after postfix stop: {left}"

    def log(self):
        return self.maillog.read_text(errors="replace") if self.maillog.exists() else ""

    def wait_log(self, pattern, timeout=TIMEOUT):
        """The first match of the regex pattern in the maillog, waited for."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.log(), re.M)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"Postfix never logged {pattern!r}:\n{self.log()}")
            time.sleep(0.05)

    def send(self, sender, recipient, data: bytes):
        """One message over SMTP; returns Postfix's queue id."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as smtp:
            smtp.ehlo("client.test")
            code, reply = smtp.mail(sender, ["BODY=8BITMIME"])
            assert code == 250, (code, reply)
            code, reply = smtp.rcpt(recipient)
            assert code == 250, (code, reply)
            code, reply = smtp.data(data)
            assert code == 250, (code, reply)
        m = re.search(rb"queued as ([0-9A-Za-z]+)", reply)
        assert m, reply
        return m.group(1).decode()


# What a user wrote: dot lines (stuffed by smtplib, unstuffed by Postfix,
# stuffed again over LMTP), 8-bit text, a tab, trailing blanks, an empty
# line, and no trailing blank line.
MESSAGE = (
    b"From: Alice <alice@sender.test>\r\n"
    b"To: J. Smith <jsmith@example.test>\r\n"
    b"Subject: through Postfix\r\n"
    b"Date: Mon, 01 Dec 2025 10:00:00 +0000\r\n"
    b"Message-ID: <postfix-e2e-1@sender.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Hello,\r\n"
    b".a line that starts with a dot\r\n"
    b".\r\n"
    b"..two dots\r\n"
    b"caf\xc3\xa9 \xe2\x82\xac\tand a tab, trailing blanks   \r\n"
    b"\r\n"
    b"-- \r\n"
    b"Alice\r\n")

TRANSPORTS = {
    "inet": lambda srv: f"lmtp:inet:127.0.0.1:{srv.lmtp_port}",
    "unix": lambda srv: f"lmtp:unix:{srv.lmtp_socket}",
}


@pytest.fixture
def postfix_cmd():
    """The postfix command, or a skip (before any server is started)."""
    return postfix_binary()


@pytest.fixture(params=sorted(TRANSPORTS))
def postfix(request, postfix_cmd, lmtp_server, tmp_path):
    """A private Postfix delivering example.test to lmtp_server over LMTP
    on its TCP port ("inet") or its UNIX socket ("unix")."""
    pf = Postfix(postfix_cmd, tmp_path / "postfix",
                 TRANSPORTS[request.param](lmtp_server))
    pf.kind = request.param
    with searchable_by_others(pf.data / "master.lock", lmtp_server.lmtp_socket):
        try:
            yield pf.start()
        finally:
            pf.stop()


def pop_messages(srv):
    p = srv.pop()
    try:
        out = []
        for i in range(p.stat()[0]):
            _, lines, _ = p.retr(i + 1)
            out.append(b"".join(line + b"\r\n" for line in lines))
        return out
    finally:
        p.quit()


def wait_stored(srv, count, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        p = srv.pop()
        try:
            n = p.stat()[0]
        finally:
            p.quit()
        if n >= count or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


def relay_pattern(pf, srv):
    if pf.kind == "inet":
        return re.escape(f"relay=127.0.0.1[127.0.0.1]:{srv.lmtp_port}")
    return r"relay=[^,]*" + re.escape(str(srv.lmtp_socket))


def test_postfix_delivers_over_lmtp(postfix, lmtp_server):
    # Fails if a message that a real Postfix accepted does not reach the
    # user as written: the user would get damaged mail, mail without the
    # trace fields, or none, while Postfix believes it delivered.
    rcpt = f"{USER}@{DOMAIN}"
    qid = postfix.send(SENDER, rcpt, MESSAGE)

    line = postfix.wait_log(rf"^.*postfix/lmtp\[\d+\]: {qid}: to=<{re.escape(rcpt)}>.*$")
    assert re.search(relay_pattern(postfix, lmtp_server), line.group(0)), line.group(0)
    assert "status=sent (250 2.0.0 <jsmith@example.test>" in line.group(0), postfix.log()
    # Postern answered 250 after DATA only with the message committed
    assert wait_stored(lmtp_server, 1, timeout=0) == 1

    [got] = pop_messages(lmtp_server)
    # on top what Postern adds, then Postfix's Received field, then the
    # message exactly as the sender wrote it
    head = (f"Return-Path: <{SENDER}>\r\n"
            f"X-Real-To: <{rcpt}>\r\n").encode()
    assert got.startswith(head), got[:400]
    assert got.endswith(MESSAGE), got
    received = got[len(head):len(got) - len(MESSAGE)]
    assert re.fullmatch(
        rb"Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\r\n"
        rb"\tby mx\.postfix\.test \(Postfix\) with ESMTP id " + qid.encode() +
        rb"\r\n\tfor <" + re.escape(rcpt.encode()) + rb">; [^\r\n]+\r\n",
        received), received
    # and Postfix is done with it: removed from its queue, not deferred
    postfix.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: removed")
    assert "status=deferred" not in postfix.log(), postfix.log()


def test_postfix_bounces_unknown_recipient(postfix, lmtp_server):
    # Fails if Postern does not refuse an unknown user with 550 5.1.1 over
    # LMTP, or stores something anyway: Postfix would retry, drop the mail
    # silently, or the sender would never learn why it did not arrive.
    rcpt = f"nobody@{DOMAIN}"
    qid = postfix.send(SENDER, rcpt, MESSAGE)

    line = postfix.wait_log(rf"^.*postfix/lmtp\[\d+\]: {qid}: to=<{re.escape(rcpt)}>.*$")
    text = line.group(0)
    assert re.search(relay_pattern(postfix, lmtp_server), text), text
    assert re.search(
        r"status=bounced \(host \S+ said: 550 5\.1\.1 <nobody@example\.test> "
        r"no such user: nobody@example\.test \(in reply to RCPT TO command\)\)", text), text
    # Postfix tells the sender (its non-delivery notice goes nowhere here:
    # default_transport refuses everything outside example.test)
    dsn = postfix.wait_log(rf"postfix/bounce\[\d+\]: {qid}: sender non-delivery "
                           r"notification: ([0-9A-Za-z]+)").group(1)
    postfix.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: removed")
    postfix.wait_log(rf"postfix/qmgr\[\d+\]: {dsn}: removed")
    # the one delivery attempt is over (logged and removed): nothing stored
    p = lmtp_server.pop()
    try:
        assert p.stat() == (0, 0)
    finally:
        p.quit()

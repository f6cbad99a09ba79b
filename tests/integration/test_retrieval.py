"""POP3 Retrievals (SPEC section 6): posternd's retrieval module fetches
mail from remote POP3 accounts into a local account's mailbox.

The remotes: a second posternd, Debian's Dovecot (dovecot_remote.py) and
a scriptable fake (fakepop.py) for the faults.  Each fetched message must
arrive as one "X-Retrieved-From: ..." line followed by the remote's octets
exactly, be gone from the remote afterwards (or stay with --keep and never
be fetched twice), and no fault may lose a message or store one twice.
"""
import base64
import hashlib
import poplib
import re
import signal
import socket
import time

import pytest

from conftest import DOMAIN, PASSWORD, TLS_LISTEN, USER, message
from dovecot_remote import dovecot  # noqa: F401  (a fixture)
from fakepop import FakePop
from messages import big_message

ME = f"{USER}@{DOMAIN}"
TIMEOUT = 10            # retrieval.timeout in seconds


# -- helpers ---------------------------------------------------------------
def samples():
    """Five messages: a plain one, one with dot lines (stuffing both ways),
    one of 200 KB whose lines start with dots across read chunks, one with
    8-bit octets and one with a 20000-octet line."""
    return [message(1),
            message(2, extra_headers=b"X-Dots: yes\r\n") + b".\r\n..\r\n.leading dot\r\n",
            big_message(b"big", 200_000, dots=True),
            b"Subject: caf\xc3\xa9\r\nX-Latin1: \xe9t\xe9\r\n\r\n\xff\xfe\x80 8-bit \x01\x7f\r\n",
            b"Subject: a long line\r\n\r\n" + b"y" * 20000 + b"\r\n.\r\n"]


@pytest.fixture
def local(server_factory, certs):
    """Build the local posternd: local(ca=False, **settings)."""
    def make(ca=True, **settings):
        # no login trigger but in its own test: the tests read the local
        # mailbox over POP, and each such login would start another run
        conf = {"modules": "pop, retrieval", "retrieval.poll": "1s",
                "retrieval.timeout": f"{TIMEOUT}s", "retrieval.login_trigger": "no",
                "retrieval.login_trigger_gap": "0"}
        if ca:
            conf["retrieval.ca_file"] = str(certs.ca)
        conf.update(settings)
        return server_factory(**conf)
    return make


def pwfile(srv, password, name="remote.pw"):
    path = srv.root / name
    path.write_text(password + "\n")
    return path


def add(srv, host="127.0.0.1", port=None, tls="none", user="remote", password="remote-pw",
        extra=(), address=ME):
    args = ["retrieval", "add", address, "--host", host, "--tls", tls, "--user", user,
            "--password-file", str(pwfile(srv, password))]
    if port is not None:
        args += ["--port", str(port)]
    out = srv.ctl(*args, *extra, input=b"").stdout.decode()
    m = re.fullmatch(rf"retrieval (\d+) added for {re.escape(address)}\s*", out)
    assert m, out
    return int(m.group(1))


def show(srv, sid, address=ME):
    out = srv.ctl("retrieval", "show", address, str(sid)).stdout.decode()
    info = {}
    for line in out.splitlines():
        key, sep, value = line.partition(":")
        assert sep, f"not a key: value line: {line!r}"
        info[key.strip()] = value.strip()
    return info


def wait_first(srv, sid, timeout=TIMEOUT + 20):
    """The show of a source once its first run (due at once) has ended
    (last_result says "running" while it runs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = show(srv, sid)
        if info["last_result"] in ("ok", "failed"):
            return info
        assert srv.proc.poll() is None, \
            f"posternd died ({srv.proc.returncode}):\n{srv.errfile.read_text()[-3000:]}"
        time.sleep(0.1)
    raise AssertionError(f"source {sid} never ran: {info}\n{srv.log()[-3000:]}")


def run(srv, sid, expect_ok=True):
    """posternctl retrieval run: (ok, fetched or the reason)."""
    res = srv.ctl("retrieval", "run", ME, str(sid), check=False, input=b"")
    out = res.stdout.decode().strip()
    m = re.fullmatch(rf"retrieval {sid}: ok, (\d+) fetched", out)
    if m:
        assert res.returncode == 0, out
        result = (True, int(m.group(1)))
    else:
        m = re.fullmatch(rf"retrieval {sid}: failed: (.+)", out)
        assert m and res.returncode == 1, (res.returncode, out, res.stderr)
        result = (False, m.group(1))
    if expect_ok is not None:
        assert result[0] == expect_ok, (result, show(srv, sid), srv.log()[-3000:])
    return result


def local_messages(srv, mailbox="INBOX"):
    """What the local mailbox holds, read over POP octet by octet (poplib
    stops at 2048-octet lines), each split into its X-Retrieved-From line
    and the rest."""
    r = srv.raw()
    try:
        r.login(USER if mailbox == "INBOX" else f"{mailbox}#{USER}")
        count = int(r.cmd("STAT").split()[1])
        out = []
        for i in range(1, count + 1):
            assert r.cmd(f"RETR {i}").startswith(b"+OK")
            data = b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n"
                            for line in r.multiline())
            first, _, rest = data.partition(b"\r\n")
            assert first.startswith(b"X-Retrieved-From: "), data[:200]
            out.append((first, rest))
        assert r.cmd("QUIT").startswith(b"+OK")
        return out
    finally:
        r.close()


def bodies(srv, mailbox="INBOX"):
    return sorted(rest for _, rest in local_messages(srv, mailbox))


def remote_pop_count(srv):
    p = srv.pop()
    try:
        return p.stat()[0]
    finally:
        p.quit()


# -- the fake itself --------------------------------------------------------
def test_fakepop_semantics(certs):
    msgs = samples()[:3]                # poplib takes no line over 2048 octets
    with FakePop(msgs, tls="stls", cert=certs.cert, key=certs.key) as fake:
        p = poplib.POP3("127.0.0.1", fake.port, timeout=5)
        assert "STLS" in p.capa() and "UIDL" in p.capa()
        p.stls(certs.context())
        p.user("remote")
        p.pass_("remote-pw")
        assert p.stat() == (3, sum(map(len, msgs)))
        assert [int(x.split()[1]) for x in p.list()[1]] == list(map(len, msgs))
        for i, m in enumerate(msgs, 1):
            assert b"\r\n".join(p.retr(i)[1]) + b"\r\n" == m
        assert p.uidl()[1] == [b"1 fake-0001", b"2 fake-0002", b"3 fake-0003"]
        p.dele(1)
        assert p.stat()[0] == 2
        p.rset()
        p.dele(2)
        assert fake.messages() == msgs          # nothing removed before QUIT
        p.quit()
        assert fake.messages() == [msgs[0], msgs[2]]
        assert fake.sessions[0].tls and fake.sessions[0].removed == ["fake-0002"]
        assert "STLS" in fake.commands_named("STLS")


def test_fakepop_auth_and_faults():
    with FakePop([message(1), message(2)], apop=True, uidl=False) as fake:
        p = poplib.POP3("127.0.0.1", fake.port, timeout=5)
        assert "UIDL" not in p.capa()
        p.user("remote")
        with pytest.raises(poplib.error_proto):
            p.pass_("wrong")
        p.apop("remote", "remote-pw")
        with pytest.raises(poplib.error_proto):
            p.uidl()
        p.quit()
        # AUTH PLAIN with an initial response and with the "+ " continuation
        token = base64.b64encode(b"\0remote\0remote-pw").decode()
        for lines in ([f"AUTH PLAIN {token}"], ["AUTH PLAIN", token]):
            with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as s:
                f = s.makefile("rb")
                assert f.readline().startswith(b"+OK")
                for line in lines:
                    s.sendall(line.encode() + b"\r\n")
                    reply = f.readline()
                assert reply.startswith(b"+OK"), reply
                s.sendall(b"QUIT\r\n")
        # the faults: DELE drops, QUIT drops, RETR drops after 10 octets
        fake.drop_on_dele = True
        p = poplib.POP3("127.0.0.1", fake.port, timeout=5)
        p.user("remote")
        p.pass_("remote-pw")
        with pytest.raises((EOFError, poplib.error_proto, OSError)):
            p.dele(1)
        fake.drop_on_dele, fake.drop_on_quit = False, True
        p = poplib.POP3("127.0.0.1", fake.port, timeout=5)
        p.user("remote")
        p.pass_("remote-pw")
        p.dele(1)
        with pytest.raises((EOFError, poplib.error_proto, OSError)):
            p.quit()
        assert len(fake.messages()) == 2
        fake.drop_on_quit, fake.drop_retr_after = False, 10
        p = poplib.POP3("127.0.0.1", fake.port, timeout=5)
        p.user("remote")
        p.pass_("remote-pw")
        with pytest.raises((EOFError, poplib.error_proto, OSError)):
            p.retr(1)
        assert len(fake.messages()) == 2
        assert fake.commands_named("APOP")[0].startswith("APOP remote ")


def test_dovecot_fixture(dovecot, certs):
    dovecot.add(message(1))
    p = poplib.POP3_SSL("127.0.0.1", dovecot.tls_port, context=certs.context(), timeout=5)
    p.user(dovecot.user)
    p.pass_(dovecot.password)
    assert b"\r\n".join(p.retr(1)[1]) + b"\r\n" == message(1)
    p.dele(1)
    p.quit()
    assert dovecot.messages() == []


# -- against real servers ---------------------------------------------------
def remote_postern(server_factory, certs, msgs):
    remote = server_factory(**certs.settings(), **TLS_LISTEN)
    for m in msgs:
        remote.deliver(m)
    return remote


@pytest.mark.parametrize("tls", ["implicit", "stls", "none"])
@pytest.mark.parametrize("kind", ["postern", "dovecot"])
def test_fetch_and_delete(kind, tls, request, server_factory, certs, local):
    msgs = samples()
    if kind == "postern":
        remote = remote_postern(server_factory, certs, msgs)
        user, password = USER, PASSWORD
        remaining = lambda: remote_pop_count(remote)  # noqa: E731
    else:
        remote = request.getfixturevalue("dovecot")
        for m in msgs:
            remote.add(m)
        user, password = remote.user, remote.password
        remaining = lambda: len(remote.messages())  # noqa: E731
    port = remote.tls_port if tls == "implicit" else remote.port
    srv = local()
    sid = add(srv, port=port, tls=tls, user=user, password=password)
    info = wait_first(srv, sid)
    assert info["last_result"] == "ok", (info, srv.log()[-3000:])
    assert info["last_fetched"] == "5" and info["last_error"] == "" and info["failures"] == "0"
    assert bodies(srv) == sorted(msgs)
    assert not any(password.encode() in first for first, _ in local_messages(srv))
    # the retrieval's login on the remote (the first there) used TLS or not
    if kind == "postern":
        login = [line for line in remote.log().splitlines() if " logged in (" in line][0]
        assert ("TLS)" in login) == (tls != "none"), login
    else:
        login = [line for line in remote.log().splitlines() if "Login: " in line][0]
        assert (", TLS" in login) == (tls != "none"), login
    assert remaining() == 0
    # nothing left: the next run fetches nothing
    assert run(srv, sid) == (True, 0)
    assert len(local_messages(srv)) == 5


@pytest.mark.parametrize("kind", ["postern", "dovecot"])
def test_keep_fetches_once(kind, request, server_factory, certs, local):
    """--keep: the messages stay on the remote, and a later run fetches only
    what is new (UIDLs), into the mailbox --mailbox names."""
    msgs = samples()
    if kind == "postern":
        remote = remote_postern(server_factory, certs, msgs)
        user, password, put = USER, PASSWORD, remote.deliver
        remaining = lambda: remote_pop_count(remote)  # noqa: E731
    else:
        remote = request.getfixturevalue("dovecot")
        for m in msgs:
            remote.add(m)
        user, password, put = remote.user, remote.password, remote.add
        remaining = lambda: len(remote.messages())  # noqa: E731
    srv = local()
    srv.ctl("mailbox", "add", ME, "fetched")
    sid = add(srv, port=remote.port, tls="stls", user=user, password=password,
              extra=["--keep", "--mailbox", "fetched"])
    info = wait_first(srv, sid)
    assert info["last_result"] == "ok" and info["last_fetched"] == "5", info
    assert info["keep"] == "yes" and info["mailbox"] == "fetched"
    assert bodies(srv, "fetched") == sorted(msgs)
    assert local_messages(srv) == []            # nothing in INBOX
    assert remaining() == 5
    assert run(srv, sid) == (True, 0)
    new = message(4, body_lines=10)
    put(new)
    assert run(srv, sid) == (True, 1)
    assert run(srv, sid) == (True, 0)
    assert bodies(srv, "fetched") == sorted(msgs + [new])
    assert remaining() == 6


@pytest.mark.parametrize("auth", ["apop", "plain"])
@pytest.mark.parametrize("kind", ["fake", "dovecot"])
def test_auth_mechanisms(kind, auth, request, local):
    msgs = [message(1), message(2)]
    fake = None
    if kind == "fake":
        fake = FakePop(msgs, apop=True)
        request.addfinalizer(fake.close)
        port, user, password = fake.port, fake.user, fake.password
    else:
        dc = request.getfixturevalue("dovecot")
        for m in msgs:
            dc.add(m)
        port, user, password = dc.port, dc.user, dc.password
    srv = local()
    sid = add(srv, port=port, tls="none", user=user, password=password, extra=["--auth", auth])
    info = wait_first(srv, sid)
    assert info["last_result"] == "ok" and info["auth"] == auth, (info, srv.log()[-3000:])
    assert bodies(srv) == sorted(msgs)
    if fake:
        assert fake.messages() == []
        verbs = [line.split(" ")[0].upper() for _, line in fake.commands]
        assert "USER" not in verbs and "PASS" not in verbs, fake.commands
        if auth == "apop":
            want = hashlib.md5((fake.timestamp + password).encode()).hexdigest()
            assert fake.commands_named("APOP") == [f"APOP {user} {want}"]
        else:
            assert fake.commands_named("AUTH")[0].upper().startswith("AUTH PLAIN")
    else:
        assert dc.messages() == []
        assert f"method={auth.upper()}" in dc.log()


# -- faults, with the fake --------------------------------------------------
def fake_source(request, local, msgs, **fake_args):
    fake = FakePop(msgs, **fake_args)
    request.addfinalizer(fake.close)
    srv = local()
    sid = add(srv, port=fake.port, tls="none")
    return fake, srv, sid


def retrieved_in(fake, session):
    """The message numbers the fake sent whole by RETR in that session."""
    return [int(line.split()[1]) for line in fake.sessions[session - 1].commands
            if line.upper().startswith("RETR ")]


def test_drop_mid_retr(request, local):
    """Closed in the middle of message 2: message 1 is stored, message 2
    nothing of it; the next run stores 2 and 3 and deletes all three."""
    msgs = [message(1), message(2, body_lines=200), message(3)]
    fake, srv, sid = fake_source(request, local, msgs, drop_retr_after=300, drop_retr_msg=2)
    info = wait_first(srv, sid)
    assert info["last_result"] == "failed" and "closed" in info["last_error"], info
    assert info["failures"] == "1"
    assert bodies(srv) == [msgs[0]]
    assert fake.messages() == msgs              # no QUIT: nothing removed
    fake.drop_retr_after = None
    assert run(srv, sid) == (True, 2)
    assert bodies(srv) == sorted(msgs)
    assert fake.messages() == []
    info = show(srv, sid)
    assert info["last_result"] == "ok" and info["last_error"] == "" and info["failures"] == "0"
    assert info["last_fetched"] == "2"


def test_drop_on_dele(request, local):
    """Closed when DELE arrives: what was RETRieved is stored once; the next
    run deletes it on the remote without storing it again."""
    msgs = [message(1), message(2)]
    fake, srv, sid = fake_source(request, local, msgs, drop_on_dele=True)
    info = wait_first(srv, sid)
    assert info["last_result"] == "failed" and "closed" in info["last_error"], info
    got = retrieved_in(fake, 1)
    assert got, fake.sessions[0].commands
    assert bodies(srv) == sorted(msgs[n - 1] for n in got)
    assert fake.messages() == msgs
    fake.drop_on_dele = False
    assert run(srv, sid) == (True, 2 - len(got))
    assert bodies(srv) == sorted(msgs)
    assert fake.messages() == []


def test_drop_on_quit(request, local):
    """Closed at QUIT: the remote kept everything (its DELEs not committed);
    the next run stores none of it again and deletes it."""
    msgs = [message(1), message(2), message(3)]
    fake, srv, sid = fake_source(request, local, msgs, drop_on_quit=True)
    wait_first(srv, sid)
    assert fake.commands_named("QUIT"), fake.commands
    assert bodies(srv) == sorted(msgs)
    assert fake.messages() == msgs
    fake.drop_on_quit = False
    assert run(srv, sid) == (True, 0)
    assert bodies(srv) == sorted(msgs)
    assert fake.messages() == []


def test_sigkill_mid_retrieval(request, local):
    """posternd killed while message 2 is half sent: after a restart
    nothing is lost and nothing is there twice."""
    msgs = [message(1), message(2, body_lines=500), message(3)]
    fake, srv, sid = fake_source(request, local, msgs, stall_retr=15, stall_retr_msg=2)
    assert fake.retr_started.wait(TIMEOUT + 10), fake.commands
    srv.send_signal(signal.SIGKILL)
    srv.proc.wait(10)
    srv.stop()
    fake.stall_retr = 0
    assert fake.messages() == msgs
    srv.start()
    ok, fetched = run(srv, sid)
    assert bodies(srv) == sorted(msgs)
    assert fake.messages() == []
    # and a run after that finds nothing
    assert run(srv, sid) == (True, 0)
    assert len(local_messages(srv)) == 3


def test_bad_password(request, local):
    fake, srv, sid = fake_source(request, local, [message(1)], password="other-pw",
                                 fail_auth_text="[AUTH] no such user or wrong password")
    info = wait_first(srv, sid)
    assert info["last_result"] == "failed", info
    assert "authentication failed" in info["last_error"], info
    assert "no such user or wrong password" in info["last_error"], info
    ok, reason = run(srv, sid, expect_ok=False)
    assert "authentication failed" in reason
    assert show(srv, sid)["failures"] == "2"
    assert fake.messages() == [message(1)] and local_messages(srv) == []
    assert "remote-pw" not in srv.log()
    # the right password, by set password_file=
    srv.ctl("retrieval", "set", ME, str(sid), f"password_file={pwfile(srv, 'other-pw', 'ok.pw')}")
    assert run(srv, sid) == (True, 1)
    assert show(srv, sid)["failures"] == "0"
    assert bodies(srv) == [message(1)] and fake.messages() == []
    assert "other-pw" not in srv.log()


@pytest.mark.parametrize("code", ["IN-USE", "LOGIN-DELAY", "SYS/TEMP"])
def test_a_login_refused_for_now_is_no_wrong_password(code, request, local):
    # Fails if a remote's "not now" (RFC 2449 8.1, RFC 3206) is reported as
    # a wrong password: the admin would go and change a right one.
    fake, srv, sid = fake_source(request, local, [message(1)], password="other-pw",
                                 fail_auth_text=f"[{code}] try again later")
    info = wait_first(srv, sid)
    assert info["last_result"] == "failed", info
    assert "the server refused the login for now" in info["last_error"], info
    assert f"[{code}] try again later" in info["last_error"], info
    assert "authentication failed" not in info["last_error"], info


@pytest.mark.parametrize("case", ["no-ca-implicit", "no-ca-stls", "wrong-name"])
def test_certificate_not_verified(case, request, local, certs):
    """Without the test CA (ca_file empty: the system's CAs), or with a
    certificate for another name, the source fails with "certificate" and
    sends no credentials; --no-verify (verify=no) then fetches."""
    tls = "stls" if case == "no-ca-stls" else "implicit"
    cert, key = ((certs.root / "other.test.crt", certs.root / "other.test.key")
                 if case == "wrong-name" else (certs.cert, certs.key))
    fake = FakePop([message(1)], tls=tls, cert=cert, key=key)
    request.addfinalizer(fake.close)
    srv = local(ca=(case == "wrong-name"))
    sid = add(srv, port=fake.port, tls=tls)
    info = wait_first(srv, sid)
    assert info["last_result"] == "failed" and "certificate" in info["last_error"], info
    assert info["verify"] == "yes"
    assert not fake.commands_named("USER") and not fake.commands_named("PASS"), fake.commands
    srv.ctl("retrieval", "set", ME, str(sid), "verify=no")
    assert show(srv, sid)["verify"] == "no"
    assert run(srv, sid) == (True, 1)
    assert fake.sessions[-1].tls
    assert bodies(srv) == [message(1)] and fake.messages() == []


def test_apop_without_timestamp(request, local):
    """--auth apop against a remote whose greeting has no timestamp: the
    source fails, and no cleartext password goes out instead."""
    fake = FakePop([message(1)], apop=False)
    request.addfinalizer(fake.close)
    srv = local()
    sid = add(srv, port=fake.port, tls="none", extra=["--auth", "apop"])
    info = wait_first(srv, sid)
    assert info["last_result"] == "failed" and info["last_error"], info
    assert not fake.commands_named("PASS") and not fake.commands_named("AUTH"), fake.commands
    assert fake.messages() == [message(1)]


def test_timeout(request, local):
    """retrieval.timeout = 2s, a remote that sends no greeting for 6 s: the
    run fails after about 2 s, saying it timed out."""
    fake = FakePop([message(1)], greeting_delay=6)
    request.addfinalizer(fake.close)
    srv = local(**{"retrieval.timeout": "2s"})
    started = time.monotonic()
    sid = add(srv, port=fake.port, tls="none")
    info = wait_first(srv, sid)
    took = time.monotonic() - started
    assert info["last_result"] == "failed" and "time" in info["last_error"].lower(), info
    assert 1.5 < took < 5.5, took
    assert fake.messages() == [message(1)]


def test_retrieval_policy(request, local):
    """The retrieval service policy: with retrieval=no for the account its
    sources fetch nothing; back to the default, they do."""
    fake = FakePop([message(1)])
    request.addfinalizer(fake.close)
    srv = local()
    srv.ctl("account", "set", ME, "retrieval=no")
    sid = add(srv, port=fake.port, tls="none")
    time.sleep(2.5)                 # more than poll: it would have run by now
    srv.ctl("retrieval", "run", ME, str(sid), check=False, input=b"")
    assert fake.messages() == [message(1)] and local_messages(srv) == []
    assert not fake.commands_named("PASS"), fake.commands
    srv.ctl("account", "set", ME, "retrieval=")
    assert run(srv, sid) == (True, 1)
    assert bodies(srv) == [message(1)]


def test_stls_not_offered(request, local):
    """--tls stls against a remote that has no STLS: no fallback to a
    cleartext login; the source fails and no credentials were sent."""
    fake = FakePop([message(1)])
    request.addfinalizer(fake.close)
    srv = local()
    sid = add(srv, port=fake.port, tls="stls")
    info = wait_first(srv, sid)
    assert info["last_result"] == "failed" and "STLS" in info["last_error"], info
    assert not fake.commands_named("USER") and not fake.commands_named("PASS"), fake.commands
    assert fake.messages() == [message(1)] and local_messages(srv) == []


@pytest.mark.parametrize("keep", [False, True])
def test_remote_without_uidl(keep, request, local):
    msgs = [message(1), message(2)]
    fake = FakePop(msgs, uidl=False)
    request.addfinalizer(fake.close)
    srv = local()
    sid = add(srv, port=fake.port, tls="none", extra=["--keep"] if keep else [])
    info = wait_first(srv, sid)
    if keep:
        assert info["last_result"] == "failed" and "UIDL" in info["last_error"], info
        assert local_messages(srv) == [] and fake.messages() == msgs
    else:
        assert info["last_result"] == "ok" and info["last_fetched"] == "2", info
        assert bodies(srv) == sorted(msgs) and fake.messages() == []


def test_max_message_size(request, local):
    small, big = message(1), big_message(b"large", 5000, dots=False)
    fake = FakePop([small, big])
    request.addfinalizer(fake.close)
    srv = local(**{"retrieval.max_message_size": "2k"})
    sid = add(srv, port=fake.port, tls="none")
    info = wait_first(srv, sid)
    assert info["last_error"] != "", info
    assert bodies(srv) == [small]
    assert fake.messages() == [big]             # refused, so not deleted either
    assert not any(line.upper() == "RETR 2" for _, line in fake.commands), fake.commands


def test_size_found_while_fetching(request, local):
    """A remote whose LIST says 100 octets for a 5000-octet message: the
    message is still not stored over max_message_size, and the error says so."""
    small, big = message(1), big_message(b"large", 5000, dots=False)
    fake = FakePop([small, big, message(3)], size_lie=100)
    request.addfinalizer(fake.close)
    srv = local(**{"retrieval.max_message_size": "2k"})
    sid = add(srv, port=fake.port, tls="none")
    info = wait_first(srv, sid)
    assert info["last_error"] != "", info
    assert big not in bodies(srv) and small in bodies(srv)
    assert big in fake.messages()


def test_quota_full(request, local):
    """An account over its quota: the run stops at the message that does
    not fit, which stays on the remote with the ones after it; once there
    is room the next run fetches them."""
    msgs = [big_message(b"q%d" % i, 8000, dots=False) for i in range(3)]
    fake = FakePop(msgs)
    request.addfinalizer(fake.close)
    srv = local()
    srv.ctl("account", "set", ME, "quota=20k")
    sid = add(srv, port=fake.port, tls="none")
    info = wait_first(srv, sid)
    assert info["last_result"] == "failed" and "full" in info["last_error"], info
    assert bodies(srv) == sorted(msgs[:2])
    # the third is still there (the first two too, when the run ended
    # without a QUIT: their DELEs were not committed)
    assert fake.messages() in (msgs[2:], msgs), fake.commands
    srv.ctl("account", "set", ME, "quota=none")
    assert run(srv, sid) == (True, 1)
    assert bodies(srv) == sorted(msgs) and fake.messages() == []


def test_keep_then_delete(request, local):
    """Kept messages are known by their UIDLs: after keep=no the next run
    deletes them on the remote and stores none of them again."""
    msgs = [message(1), message(2)]
    fake = FakePop(msgs)
    request.addfinalizer(fake.close)
    srv = local()
    sid = add(srv, port=fake.port, tls="none", extra=["--keep"])
    assert wait_first(srv, sid)["last_fetched"] == "2"
    assert fake.messages() == msgs and not fake.commands_named("DELE")
    srv.ctl("retrieval", "set", ME, str(sid), "keep=no")
    fake.add(message(3))
    assert run(srv, sid) == (True, 1)
    assert bodies(srv) == sorted(msgs + [message(3)])
    assert fake.messages() == []


def test_login_triggers_sources(request, local):
    """A POP login of the account starts its sources; the login's reply
    does not wait for the retrieval (a remote that greets after 5 s)."""
    fake = FakePop([message(1)])
    request.addfinalizer(fake.close)
    srv = local(**{"retrieval.login_trigger": "yes"})
    sid = add(srv, port=fake.port, tls="none", extra=["--interval", "3600"])
    first = wait_first(srv, sid)
    assert first["last_result"] == "ok" and fake.messages() == []
    fake.add(message(2))
    fake.greeting_delay = 5
    sessions = len(fake.sessions)
    started = time.monotonic()
    p = srv.pop()
    login_time = time.monotonic() - started
    p.quit()
    assert login_time < 2, login_time
    # the source ended its run when the fake saw its QUIT (reading the
    # mailbox over POP would trigger again, so the fake is watched)
    deadline = time.monotonic() + TIMEOUT + 15
    while time.monotonic() < deadline and not (len(fake.sessions) > sessions
                                               and fake.sessions[-1].quit):
        time.sleep(0.2)
    assert len(fake.sessions) > sessions, "the login did not start the source"
    assert fake.sessions[-1].quit, fake.sessions[-1]
    time.sleep(0.5)
    info = show(srv, sid)
    assert info["last_result"] == "ok" and info["last_fetched"] == "1", info
    assert bodies(srv) == [message(1), message(2)] and fake.messages() == []


def test_login_trigger_gap(request, local):
    """login_trigger_gap = 60s: a login right after a run starts nothing."""
    fake = FakePop([message(1)])
    request.addfinalizer(fake.close)
    srv = local(**{"retrieval.login_trigger": "yes", "retrieval.login_trigger_gap": "60s"})
    sid = add(srv, port=fake.port, tls="none", extra=["--interval", "3600"])
    assert wait_first(srv, sid)["last_result"] == "ok"
    fake.add(message(2))
    sessions = len(fake.sessions)
    srv.pop().quit()
    time.sleep(2.5)                 # more than poll
    assert len(fake.sessions) == sessions, fake.sessions
    assert fake.messages() == [message(2)]


def test_interval(request, local):
    """A source runs again by itself once its interval (10 s) is over."""
    fake = FakePop([message(1)])
    request.addfinalizer(fake.close)
    srv = local()
    sid = add(srv, port=fake.port, tls="none", extra=["--interval", "10"])
    assert wait_first(srv, sid)["last_result"] == "ok"
    first = time.monotonic()
    fake.add(message(2))
    deadline = first + 10 + 5
    while time.monotonic() < deadline and fake.messages():
        time.sleep(0.2)
    assert not fake.messages(), "the source did not run again after its interval"
    assert time.monotonic() - first > 8
    assert bodies(srv) == [message(1), message(2)]


def test_max_parallel(request, local):
    """max_parallel = 2: four sources due at once, two sessions at a time
    (each remote greets after a second), and every source runs."""
    fake = FakePop([], greeting_delay=1)
    request.addfinalizer(fake.close)
    srv = local(**{"retrieval.max_parallel": "2"})
    sids = [add(srv, port=fake.port, tls="none", extra=["--disabled"]) for _ in range(4)]
    for sid in sids:
        srv.ctl("retrieval", "set", ME, str(sid), "enabled=yes")
    res = srv.ctl("retrieval", "run", ME, input=b"")
    lines = sorted(res.stdout.decode().splitlines())
    assert lines == sorted(f"retrieval {sid}: ok, 0 fetched" for sid in sids), lines
    assert len(fake.sessions) >= 4 and fake.max_active == 2, \
        (len(fake.sessions), fake.max_active)
    # run --no-wait comes back at once, the run going on behind it
    fake.greeting_delay = 3
    sessions = len(fake.sessions)
    started = time.monotonic()
    srv.ctl("retrieval", "run", ME, str(sids[0]), "--no-wait", input=b"")
    assert time.monotonic() - started < 2
    deadline = time.monotonic() + 3 + TIMEOUT
    while time.monotonic() < deadline and not (
            len(fake.sessions) > sessions and all(x.quit for x in fake.sessions)):
        time.sleep(0.2)
    assert len(fake.sessions) > sessions and all(x.quit for x in fake.sessions), \
        fake.sessions
    assert fake.max_active == 2


# -- posternctl ---------------------------------------------------------
SHOW_KEYS = ["id", "account", "host", "port", "tls", "verify", "user", "password", "auth",
             "mailbox", "keep", "interval", "enabled", "last_run", "last_result",
             "last_error", "last_fetched", "failures", "next_run"]


def test_ctl_add_show_set_list_del(local):
    srv = local()
    secret = "hunter2-very-secret"
    sid = add(srv, "pop.example.org", None, "stls", "someone", secret, extra=["--disabled"])
    info = show(srv, sid)
    assert sorted(info) == sorted(SHOW_KEYS), info
    want = {"id": str(sid), "host": "pop.example.org", "port": "110",
            "tls": "stls", "verify": "yes", "user": "someone", "password": "(set)",
            "auth": "user", "mailbox": "INBOX", "keep": "no", "interval": "600",
            "enabled": "no", "last_run": "never", "last_result": "never",
            "last_error": "", "failures": "0"}
    assert {k: info[k] for k in want} == want
    assert info["account"] in (ME, USER)
    sid2 = add(srv, "pop2.example.org", None, "implicit", "other", secret,
               extra=["--disabled"])
    assert show(srv, sid2)["port"] == "995"
    listed = srv.ctl("retrieval", "list", ME).stdout.decode().splitlines()
    assert [line.split()[0] for line in listed] == [str(sid), str(sid2)]
    newpw = pwfile(srv, "another-secret", "new.pw")
    srv.ctl("mailbox", "add", ME, "archive")        # set mailbox= wants one that exists
    srv.ctl("retrieval", "set", ME, str(sid), "port=1110", "tls=implicit", "keep=yes",
            "interval=120", "auth=apop", "mailbox=archive", "user=u2", "host=h.example.org",
            f"password_file={newpw}")
    info = show(srv, sid)
    assert (info["port"], info["tls"], info["keep"], info["interval"], info["auth"],
            info["mailbox"], info["user"], info["host"], info["password"]) == \
        ("1110", "implicit", "yes", "120", "apop", "archive", "u2", "h.example.org", "(set)")
    for args in (["list", ME], ["show", ME, str(sid)], ["show", ME, str(sid2)]):
        res = srv.ctl("retrieval", *args)
        assert secret.encode() not in res.stdout + res.stderr
        assert b"another-secret" not in res.stdout + res.stderr
    out = srv.ctl("retrieval", "del", ME, str(sid)).stdout.decode().strip()
    assert out == f"retrieval {sid} removed"
    listed = srv.ctl("retrieval", "list", ME).stdout.decode().splitlines()
    assert [line.split()[0] for line in listed] == [str(sid2)]
    assert secret not in srv.log() and "another-secret" not in srv.log()


def test_sources_survive_restart(local):
    """A source is kept in the store: a restart (SIGTERM) changes nothing."""
    srv = local()
    sid = add(srv, "pop.example.org", 1995, "implicit", "someone", "pw",
              extra=["--disabled", "--keep", "--interval", "300"])
    before = show(srv, sid)
    srv.restart()
    assert show(srv, sid) == before


def test_ctl_bad_input(local):
    srv = local()
    good = str(pwfile(srv, "pw"))
    base = ["retrieval", "add", ME, "--host", "h.example.org", "--user", "u"]
    sid = add(srv, "h.example.org", None, "stls", "u", "pw", extra=["--disabled"])
    # (arguments, exit status as doc/posternctl.md has them, a word the message has)
    cases = [
        (base + ["--password-file", good, "--tls", "starttls"], 65, "tls"),
        (base + ["--password-file", good, "--port", "0"], 65, "port"),
        (base + ["--password-file", good, "--port", "70000"], 65, "port"),
        (base + ["--password-file", good, "--port", "pop"], 65, "port"),
        (base + ["--password-file", good, "--auth", "cram-md5"], 65, "auth"),
        (base + ["--password-file", str(srv.root / "missing.pw")], 66, "missing.pw"),
        (base, 64, "password-file"),
        (["retrieval", "add", "ghost@example.test", "--host", "h", "--user", "u",
          "--password-file", good], 67, "ghost"),
        (["retrieval", "list", "ghost@example.test"], 67, "ghost"),
        (["retrieval", "show", ME, "999"], 1, "999"),
        (["retrieval", "del", ME, "999"], 1, "999"),
        (["retrieval", "set", ME, str(sid), "frob=1"], 65, "unknown setting"),
        (["retrieval", "set", ME, str(sid), "port=99999"], 65, "port"),
        (["retrieval", "set", ME, str(sid), "tls=maybe"], 65, "tls"),
    ]
    for args, status, word in cases:
        res = srv.ctl(*args, check=False, input=b"")
        err = res.stderr.decode()
        assert res.returncode == status, (args, res.returncode, res.stdout, err)
        assert word.lower() in err.lower(), (args, err)
    listed = srv.ctl("retrieval", "list", ME).stdout.decode().splitlines()
    assert [line.split()[0] for line in listed] == [str(sid)]

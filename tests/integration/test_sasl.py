"""AUTH (RFC 5034) through Cyrus SASL: every mechanism, every error path,
the empty-AUTH listing, and real clients."""
import base64
import shutil
import subprocess

import pytest

from conftest import PASSWORD, USER, message
from scram_client import Scram


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plain(user=USER, password=PASSWORD, authzid=""):
    return b64(f"{authzid}\0{user}\0{password}".encode())


def test_empty_auth_lists_mechanisms(server):
    r = server.raw()
    r.line()
    for command in (b"AUTH", b"AUTH "):  # both forms older clients send
        assert r.cmd(command) == b"+OK Supported mechanisms follow"
        assert r.multiline() == [b"PLAIN", b"LOGIN", b"SCRAM-SHA-256", b"SCRAM-SHA-1"]
    r.close()


@pytest.mark.parametrize("login", [USER, f"{USER}@example.test", f"{USER}%example.test"])
def test_plain_with_initial_response(server, login):
    r = server.raw()
    r.line()
    assert r.cmd(f"AUTH PLAIN {plain(login)}").startswith(b"+OK Logged in")
    assert r.cmd("STAT") == b"+OK 0 0"
    r.close()
    server.wait_log("logged in (PLAIN)")


def test_plain_in_a_continuation(server):
    r = server.raw()
    r.line()
    assert r.cmd("AUTH PLAIN") == b"+ "
    assert r.cmd(plain()).startswith(b"+OK Logged in")
    r.close()


def test_login_mechanism(server):
    r = server.raw()
    r.line()
    assert r.cmd("AUTH LOGIN") == b"+ " + b64(b"Username:").encode()
    assert r.cmd(b64(USER.encode())) == b"+ " + b64(b"Password:").encode()
    assert r.cmd(b64(PASSWORD.encode())).startswith(b"+OK Logged in")
    r.close()


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_scram(server, mech):
    server.deliver(message(1))
    r = server.raw()
    r.line()
    sc = Scram(mech, USER, PASSWORD)
    reply = r.cmd(f"AUTH {mech} {b64(sc.first())}")
    assert reply.startswith(b"+ ")
    reply = r.cmd(b64(sc.final(base64.b64decode(reply[2:]))))
    # the server proves it knows the secret too (mutual authentication)
    assert reply.startswith(b"+ ")
    assert sc.verify_server(base64.b64decode(reply[2:]))
    assert r.cmd("").startswith(b"+OK Logged in, 1 message")
    r.close()
    server.wait_log(f"logged in ({mech})")


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_scram_wrong_password(server, mech):
    r = server.raw()
    r.line()
    sc = Scram(mech, USER, "not-the-password")
    reply = r.cmd(f"AUTH {mech} {b64(sc.first())}")
    reply = r.cmd(b64(sc.final(base64.b64decode(reply[2:]))))
    assert reply == b"-ERR [AUTH] Invalid user name or password"
    server.wait_log(f"authentication failed: {mech}:")


def test_scram_unknown_user_and_tampered_nonce(server):
    r = server.raw()
    r.line()
    # an unknown user gets a challenge like anyone else (no probing which
    # accounts exist), with the same salt every time, and fails at the proof
    salts = []
    for _ in range(2):
        sc = Scram("SCRAM-SHA-256", "nobody", PASSWORD)
        reply = r.cmd(f"AUTH SCRAM-SHA-256 {b64(sc.first())}")
        assert reply.startswith(b"+ ")
        salts.append(dict(kv.split("=", 1) for kv in
                          base64.b64decode(reply[2:]).decode().split(","))["s"])
        reply = r.cmd(b64(sc.final(base64.b64decode(reply[2:]))))
        assert reply == b"-ERR [AUTH] Invalid user name or password"
    assert salts[0] == salts[1]
    server.wait_log("authentication failed: SCRAM-SHA-256: unknown account nobody@example.test")
    sc = Scram("SCRAM-SHA-256", USER, PASSWORD)
    reply = r.cmd(f"AUTH SCRAM-SHA-256 {b64(sc.first())}")
    reply = r.cmd(b64(sc.final(base64.b64decode(reply[2:]), nonce_tamper=True)))
    assert reply == b"-ERR [AUTH] Invalid user name or password"
    r.close()


@pytest.mark.parametrize("command,reply", [
    ("AUTH PLAIN " + b64(f"\0{USER}\0wrong".encode()), b"-ERR [AUTH] Invalid user name or password"),
    ("AUTH PLAIN " + b64(f"\0nobody\0{PASSWORD}".encode()), b"-ERR [AUTH] Invalid user name or password"),
    ("AUTH PLAIN =", b"-ERR [AUTH] Invalid user name or password"),
    ("AUTH PLAIN !!!notbase64", b"-ERR Invalid base64 data in the initial response"),
    ("AUTH PLAIN a b", b"-ERR AUTH takes a mechanism and one initial response"),
    ("AUTH CRAM-MD5", b"-ERR Mechanism CRAM-MD5 is not available"),
    ("AUTH NOSUCHMECH", b"-ERR Mechanism NOSUCHMECH is not available"),
    ("AUTH " + "X" * 40, b"-ERR Unknown authentication mechanism"),
])
def test_auth_errors(server, command, reply):
    r = server.raw()
    r.line()
    assert r.cmd(command) == reply
    # the session goes on and a good login still works
    assert r.cmd(f"AUTH PLAIN {plain()}").startswith(b"+OK Logged in")
    r.close()


def test_cancel_and_bad_continuation(server):
    r = server.raw()
    r.line()
    assert r.cmd("AUTH LOGIN").startswith(b"+ ")
    assert r.cmd("*") == b"-ERR Authentication cancelled"
    assert r.cmd("AUTH PLAIN") == b"+ "
    assert r.cmd("%%%") == b"-ERR Invalid base64 data, authentication cancelled"
    assert r.cmd("AUTH PLAIN") == b"+ "
    # a continuation line has its own, larger bound (16 KiB), then it ends
    r.send(b"A" * 20000 + b"\r\n")
    assert r.line() == b"-ERR AUTH response too long"
    # after all that, commands are commands again
    assert r.cmd("CAPA") == b"+OK Capability list follows"
    r.multiline()
    r.close()


def test_authzid(server):
    server.add_account("other", "other-pass")
    r = server.raw()
    r.line()
    # acting as someone else needs an admin right nobody has yet
    assert r.cmd(f"AUTH PLAIN {plain(authzid='other')}") == \
        b"-ERR [AUTH] Invalid user name or password"
    # naming yourself is fine, in any of the address forms
    assert r.cmd(f"AUTH PLAIN {plain(authzid=USER + '@example.test')}").startswith(b"+OK")
    r.close()


def test_auth_not_in_transaction(server):
    r = server.raw()
    r.login()
    assert r.cmd(f"AUTH PLAIN {plain()}") == b"-ERR AUTH is not valid in this state"
    r.close()


def test_sasl_failures_are_delayed_and_limited(server_factory):
    srv = server_factory(**{"auth.failure_delay_ms": "100", "pop.max_auth_failures": "2"})
    r = srv.raw()
    r.line()
    bad = "AUTH PLAIN " + b64(f"\0{USER}\0wrong".encode())
    assert r.cmd(bad) == b"-ERR [AUTH] Invalid user name or password"
    assert r.cmd(bad) == b"-ERR [AUTH] Invalid user name or password"
    assert r.closed()
    log = srv.log()
    assert "authentication failed: PLAIN: wrong password for jsmith@example.test" in log
    assert "2 failed logins, disconnecting" in log
    assert "wrong" not in log.replace("wrong password", "")  # no payloads logged


def test_mechanism_list_setting(server_factory):
    srv = server_factory(**{"auth.mechanisms": "SCRAM-SHA-256"})
    r = srv.raw()
    r.line()
    assert r.cmd("AUTH") == b"+OK Supported mechanisms follow"
    assert r.multiline() == [b"SCRAM-SHA-256"]
    assert r.cmd(f"AUTH PLAIN {plain()}") == b"-ERR Mechanism PLAIN is not available"
    r.close()


def test_unknown_mechanism_setting_is_a_config_error(server_factory):
    from conftest import POSTERND
    srv = server_factory(start=False, **{"auth.mechanisms": "PLAIN, NTLM"})
    res = subprocess.run([str(POSTERND), "-t", "-c", str(srv.conf)], capture_output=True)
    assert res.returncode == 1
    assert b"auth.mechanisms: NTLM is not one of" in res.stderr
    # plaintext-equivalent mechanisms only when the admin allows the secret
    srv.conf.write_text(srv.conf.read_text().replace("PLAIN, NTLM", "PLAIN, CRAM-MD5"))
    res = subprocess.run([str(POSTERND), "-t", "-c", str(srv.conf)], capture_output=True)
    assert res.returncode == 1
    assert b"CRAM-MD5 needs a plaintext-equivalent secret: set auth.cleartext_secrets = yes" \
        in res.stderr


def test_curl_auth_plain_and_login(server):
    server.deliver(message(1))
    for mech in ("PLAIN", "LOGIN"):
        res = subprocess.run(["curl", "-s", "--login-options", f"AUTH={mech}",
                              f"pop3://127.0.0.1:{server.port}/", "-u", f"{USER}:{PASSWORD}"],
                             capture_output=True, timeout=30)
        assert res.returncode == 0 and res.stdout == b"1 %d\r\n" % len(message(1))
        server.wait_log(f"logged in ({mech})")


@pytest.mark.skipif(shutil.which("mpop") is None, reason="mpop is not installed")
@pytest.mark.parametrize("mech", ["scram-sha-256", "scram-sha-1", "plain", "login"])
def test_mpop_over_stls_with_each_mechanism(tls_server, certs, tmp_path, mech):
    """mpop (GNU SASL inside) logs in over STLS with each mechanism and
    fetches the mail."""
    tls_server.deliver(message(1))
    maildir = tmp_path / "md"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    rc = tmp_path / "mpoprc"
    rc.write_text(f"""account default
host 127.0.0.1
port {tls_server.port}
tls on
tls_starttls on
tls_trust_file {certs.ca}
auth {mech}
user {USER}
password {PASSWORD}
keep on
received_header off
delivery maildir {maildir}
uidls_file {tmp_path}/uidls
""")
    rc.chmod(0o600)
    res = subprocess.run(["mpop", "-C", str(rc), "-q"], capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    got = [p.read_bytes() for p in (maildir / "new").iterdir()]
    assert got == [message(1).replace(b"\r\n", b"\n")]
    tls_server.wait_log(f"logged in ({mech.upper()}, TLS)")


@pytest.mark.skipif(shutil.which("fail2ban-regex") is None,
                    reason="fail2ban is not installed")
def test_fail2ban_filter_matches_failed_logins(server):
    """The shipped filter finds every failed login, and only those, in a
    real log: what an admin's jail would count."""
    import pathlib
    r = server.raw()
    r.line()
    r.cmd(f"AUTH PLAIN {plain(password='nope')}")
    # a user name that tries to frame another address in the log
    r.cmd("USER x [10.9.9.9] authentication failed: ")
    r.cmd("PASS nope")
    assert r.cmd(f"AUTH PLAIN {plain()}").startswith(b"+OK")
    r.close()
    server.wait_log("logged in (PLAIN)")
    filt = pathlib.Path(__file__).resolve().parents[2] / "conf" / "fail2ban" / "postern.conf"
    res = subprocess.run(["fail2ban-regex", str(server.logfile), str(filt)],
                         capture_output=True, timeout=60)
    out = res.stdout.decode()
    assert res.returncode == 0, out
    assert "Failregex: 2 total" in out, out
    res = subprocess.run(["fail2ban-regex", "-v", str(server.logfile), str(filt)],
                         capture_output=True, timeout=60)
    out = res.stdout.decode()
    assert "127.0.0.1" in out and "10.9.9.9" not in out.split("Lines:")[0], out


def test_admin_may_act_as_another_user(server):
    server.add_account("boss", "boss-pass")
    server.deliver(message(7))
    r = server.raw()
    r.line()
    assert r.cmd(f"AUTH PLAIN {plain('boss', 'boss-pass', authzid=USER)}") == \
        b"-ERR [AUTH] Invalid user name or password"
    r.close()
    server.wait_log("boss@example.test may not act as another user")
    server.ctl("account", "set", "boss", "admin=yes")
    r = server.raw()
    r.line()
    # the admin's own password opens jsmith's mailbox, and the log says so
    assert r.cmd(f"AUTH PLAIN {plain('boss', 'boss-pass', authzid=USER)}").startswith(
        b"+OK Logged in, 1 message")
    r.close()
    server.wait_log("admin boss@example.test acts as jsmith@example.test")
    res = server.ctl("account", "set", "boss", "admin=maybe", check=False)
    assert res.returncode == 64 and b"unknown setting 'admin=maybe'" in res.stderr


def test_no_apop_or_cram_md5_by_default(server):
    r = server.raw()
    # no timestamp in the greeting: APOP is not offered
    assert r.line() == b"+OK Postern POP3 server ready"
    assert r.cmd("APOP jsmith 0123456789abcdef0123456789abcdef") == \
        b"-ERR APOP is not available here"
    assert r.cmd("AUTH CRAM-MD5") == b"-ERR Mechanism CRAM-MD5 is not available"
    r.close()


@pytest.fixture
def cleartext_server(server_factory):
    """A server that keeps plaintext-equivalent secrets (CRAM-MD5, APOP)."""
    srv = server_factory(start=False, **{
        "auth.cleartext_secrets": "yes",
        "auth.mechanisms": "PLAIN, LOGIN, SCRAM-SHA-256, CRAM-MD5"})
    # passwords set before the setting have no such secret: set it again
    srv.ctl("account", "passwd", USER, input=(PASSWORD + "\n").encode())
    return srv.start()


def test_apop(cleartext_server):
    import poplib
    srv = cleartext_server
    srv.deliver(message(1))
    p = srv.connect()
    assert b"<" in p.getwelcome() and b"@" in p.getwelcome()
    assert p.apop(USER, PASSWORD).startswith(b"+OK Logged in, 1 message")
    p.quit()
    srv.wait_log("logged in (APOP)")
    p = srv.connect()
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        p.apop(USER, "wrong-password")
    srv.wait_log("authentication failed: APOP: wrong APOP digest for jsmith@example.test")
    r = srv.raw()
    r.line()
    assert r.cmd("APOP jsmith") == b"-ERR APOP needs a user name and a digest"
    assert r.cmd("APOP jsmith nothex") == b"-ERR [AUTH] Invalid user name or password"
    r.close()


def test_apop_timestamps_differ(cleartext_server):
    greetings = set()
    for _ in range(3):
        r = cleartext_server.raw()
        greetings.add(r.line())
        r.close()
    assert len(greetings) == 3  # a replayed digest never fits another session


def test_cram_md5_with_curl(cleartext_server):
    srv = cleartext_server
    srv.deliver(message(1))
    res = subprocess.run(["curl", "-s", "--login-options", "AUTH=CRAM-MD5",
                          f"pop3://127.0.0.1:{srv.port}/1", "-u", f"{USER}:{PASSWORD}"],
                         capture_output=True, timeout=30)
    assert res.returncode == 0 and res.stdout == message(1)
    srv.wait_log("logged in (CRAM-MD5)")
    res = subprocess.run(["curl", "-s", "--login-options", "AUTH=CRAM-MD5",
                          f"pop3://127.0.0.1:{srv.port}/", "-u", f"{USER}:wrong"],
                         capture_output=True, timeout=30)
    assert res.returncode == 67


def test_store_fault_at_login_is_sys_temp(server):
    """A damaged account record (written with python3-lmdb, beside the
    running server) is a store fault: [SYS/TEMP], not [AUTH], for every way
    of logging in, and the log says what is wrong."""
    lmdb = pytest.importorskip("lmdb")
    env = lmdb.open(str(server.root / "data" / "store.mdb"), subdir=False,
                    max_dbs=16, map_size=1 << 30)
    accounts = env.open_db(b"accounts", create=False)
    with env.begin(write=True) as txn:
        txn.put(b"example.test/" + USER.encode(), b"\x63garbage", db=accounts)
    env.close()
    r = server.raw()
    r.line()
    r.cmd(f"USER {USER}")
    assert r.cmd(f"PASS {PASSWORD}") == b"-ERR [SYS/TEMP] Temporary problem, try again later"
    assert r.cmd(f"AUTH PLAIN {plain()}") == \
        b"-ERR [SYS/TEMP] Temporary problem, try again later"
    r.close()
    server.wait_log("corrupt account record")


def test_verified_password_cache_follows_password_changes(server):
    """Repeated logins are served from the cache; a new password makes the
    old one fail at once, and the new one work, with the cache on."""
    for _ in range(3):
        p = server.pop()
        p.quit()
    server.ctl("account", "passwd", USER, input=b"brand-new-pass\n")
    r = server.raw()
    r.line()
    r.cmd(f"USER {USER}")
    assert r.cmd(f"PASS {PASSWORD}").startswith(b"-ERR [AUTH]")
    r.close()
    p = server.pop(USER, "brand-new-pass")
    p.quit()
    # AUTH PLAIN goes through the same cache
    for _ in range(2):
        r = server.raw()
        r.line()
        assert r.cmd(f"AUTH PLAIN {plain(password='brand-new-pass')}").startswith(b"+OK")
        r.close()


def test_unknown_users_cost_what_real_ones_cost(server_factory):
    """With a raised password_cost, a wrong password for a real user and
    any password for an unknown one take about the same time, so the time
    does not tell who exists."""
    import statistics
    import time
    srv = server_factory(start=False, **{"auth.password_cost": "7",
                                         "auth.cache_ttl": "0"})
    srv.ctl("account", "passwd", USER, input=(PASSWORD + "\n").encode())
    srv.start()

    def timed(user):
        r = srv.raw()
        r.line()
        r.cmd(f"USER {user}")
        t0 = time.monotonic()
        assert r.cmd("PASS wrong").startswith(b"-ERR [AUTH]")
        r.close()
        return time.monotonic() - t0

    real = statistics.median(timed(USER) for _ in range(5))
    ghost = statistics.median(timed("nobody") for _ in range(5))
    assert ghost > real * 0.5 and real > ghost * 0.5, (real, ghost)

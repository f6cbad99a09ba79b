"""Password checks run on the verification threads (auth.verify_threads),
not on the event loop: while one login's yescrypt runs, every other
session of the process is still served.

The tests use yescrypt cost 8 (about 150 ms a check) and look at the
ORDER of replies, never at durations: a session that sends NOOP while
another session's check runs gets its +OK first.  With verify_threads = 0
(checks on the loop) the order flips, which the same test shows.
"""
import base64
import select
import signal
import socket
import subprocess
import time

import pytest

from conftest import DOMAIN, PASSWORD, POSTERND, USER, RawClient

SLOW = {"auth.password_cost": "8"}


def slow_server(server_factory, threads):
    srv = server_factory(start=False, **SLOW, **{"auth.verify_threads": threads})
    # the account was made before the cost was set: give it a slow hash
    srv.ctl("account", "passwd", USER, input=(PASSWORD + "\n").encode())
    return srv.start()


def pending(client: RawClient) -> bool:
    """Has the server already answered on this connection?"""
    if b"\r\n" in client.buf:
        return True
    ready, _, _ = select.select([client.sock], [], [], 0)
    return bool(ready)


def logged_in(srv) -> RawClient:
    c = srv.raw()
    c.login()
    return c


def start_slow_login(srv, how) -> RawClient:
    """Begin a login with a wrong password; return before its answer."""
    c = srv.raw()
    assert c.line().startswith(b"+OK")
    if how == "USER":
        assert c.cmd(f"USER {USER}").startswith(b"+OK")
        c.send(b"PASS wrong-password\r\n")
    elif how == "PLAIN":
        blob = base64.b64encode(f"\0{USER}\0wrong-password".encode())
        c.send(b"AUTH PLAIN " + blob + b"\r\n")
    else:  # LOGIN, user name as the initial response
        c.send(b"AUTH LOGIN " + base64.b64encode(USER.encode()) + b"\r\n")
        assert c.line().startswith(b"+ ")
        c.send(base64.b64encode(b"wrong-password") + b"\r\n")
    time.sleep(0.03)  # let the server take it up before the NOOP below
    return c


@pytest.mark.parametrize("how", ["USER", "PLAIN", "LOGIN"])
def test_other_sessions_are_served_during_a_check(server_factory, how):
    srv = slow_server(server_factory, 2)
    other = logged_in(srv)
    slow = start_slow_login(srv, how)
    # the NOOP is answered while the slow check is still running
    assert other.cmd("NOOP").startswith(b"+OK")
    assert not pending(slow), "the check finished before a NOOP was answered"
    assert slow.line().startswith(b"-ERR [AUTH]")
    # the password checks never ran on the event loop
    assert "checked on the event loop" not in srv.log()
    other.cmd("QUIT")


def test_without_threads_a_check_holds_everyone_up(server_factory):
    """verify_threads = 0 checks on the loop: the NOOP waits its turn.
    (This is what the test above guards against.)"""
    srv = slow_server(server_factory, 0)
    other = logged_in(srv)
    slow = start_slow_login(srv, "USER")
    assert other.cmd("NOOP").startswith(b"+OK")
    assert pending(slow), "the NOOP overtook a check made on the loop"
    assert slow.line().startswith(b"-ERR [AUTH]")


def test_good_password_through_the_pool_then_from_the_cache(server_factory):
    srv = slow_server(server_factory, 1)
    for how in ("USER", "PLAIN", "LOGIN", "USER"):
        c = srv.raw()
        assert c.line().startswith(b"+OK")
        if how == "USER":
            c.cmd(f"USER {USER}")
            reply = c.cmd(f"PASS {PASSWORD}")
        elif how == "PLAIN":
            reply = c.cmd(b"AUTH PLAIN " +
                          base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()))
        else:
            assert c.cmd(b"AUTH LOGIN").startswith(b"+ ")
            assert c.cmd(base64.b64encode(USER.encode())).startswith(b"+ ")
            reply = c.cmd(base64.b64encode(PASSWORD.encode()))
        assert reply.startswith(b"+OK Logged in"), (how, reply)
        assert c.cmd("QUIT").startswith(b"+OK")
    assert "checked on the event loop" not in srv.log()


def test_pipelined_commands_wait_for_the_check(server_factory):
    """USER, PASS, STAT and QUIT in one packet: STAT is answered after the
    login, in order, although the check ran on another thread."""
    srv = slow_server(server_factory, 2)
    c = srv.raw()
    assert c.line().startswith(b"+OK")
    c.send(f"USER {USER}\r\nPASS {PASSWORD}\r\nSTAT\r\nQUIT\r\n".encode())
    assert c.line().startswith(b"+OK")
    assert c.line().startswith(b"+OK Logged in")
    assert c.line().startswith(b"+OK 0 0")
    assert c.line().startswith(b"+OK")


def test_client_gone_during_the_check(server_factory):
    """A client that hangs up while its password is being checked: the
    answer is dropped, nothing else is disturbed."""
    srv = slow_server(server_factory, 1)
    for _ in range(5):
        c = srv.raw()
        assert c.line().startswith(b"+OK")
        c.send(f"USER {USER}\r\nPASS {PASSWORD}-no\r\n".encode())
        c.sock.close()
    other = logged_in(srv)
    assert other.cmd("STAT").startswith(b"+OK 0 0")
    other.cmd("QUIT")
    assert "[ERROR]" not in srv.log()


def test_shutdown_during_a_check(server_factory):
    srv = slow_server(server_factory, 1)
    c = start_slow_login(srv, "USER")
    srv.send_signal(signal.SIGTERM)
    # the session ends with the server; the server exits cleanly
    assert srv.stop() == 0
    c.close()


@pytest.mark.parametrize("value, message", [
    ("65", "auth.verify_threads"),
    ("many", "auth.verify_threads"),
])
def test_bad_verify_threads_is_refused(tmp_path, value, message):
    conf = tmp_path / "postern.conf"
    conf.write_text(f"data_dir = {tmp_path}/data\n[auth]\nverify_threads = {value}\n")
    res = subprocess.run([str(POSTERND), "-t", "-c", str(conf)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode != 0
    assert message in res.stderr, res.stderr


@pytest.mark.parametrize("how", ["PLAIN", "LOGIN"])
def test_long_login_names_are_checked_in_the_pool_too(server_factory, how):
    """A login name with a long mailbox part (up to the whole 255-octet
    mailbox name) still goes to the pool: no client can make the server
    hash on its event loop by the shape of its login name."""
    srv = slow_server(server_factory, 1)
    srv.ctl("mailbox", "add", USER, "m" * 255)
    name = ("m" * 255 + "#" + USER + "@" + DOMAIN).encode()   # 275 octets
    c = srv.raw()
    assert c.line().startswith(b"+OK")
    if how == "PLAIN":
        assert c.cmd("AUTH PLAIN") == b"+ "
        reply = c.cmd(base64.b64encode(b"\0" + name + b"\0" + PASSWORD.encode()))
    else:
        assert c.cmd("AUTH LOGIN").startswith(b"+ ")
        assert c.cmd(base64.b64encode(name)).startswith(b"+ ")
        reply = c.cmd(base64.b64encode(PASSWORD.encode()))
    assert reply.startswith(b"+OK Logged in"), reply
    assert "checked on the event loop" not in srv.log()

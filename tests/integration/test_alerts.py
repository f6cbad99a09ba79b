"""The admin's alerts (SPEC.md 3, CommuniGate's): posternctl alert
post|list|del, and what a POP user then sees - each alert once, as the
answer to a login with the right credentials, oldest first, until the
login works.  Exact replies, outputs and exit codes."""
import base64
import re

import pytest

from conftest import DOMAIN, PASSWORD, USER, make_server
from conftest import ctl_fails as fails, ctl_out as out, pass_reply as login
from scram_client import Scram

ME = f"{USER}@{DOMAIN}"
LOGGED_IN = b"+OK Logged in, 0 messages (0 octets)"
LINE = re.compile(r"^(\d+) +(\d{4}-\d\d-\d\d \d\d:\d\d) UTC  (\S+) +(.*)$")






def post(srv, *args, shown_for):
    """alert post ARGS: its id, after checking the answer names who it is for."""
    text = out(srv, "alert", "post", *args)
    m = re.fullmatch(r"alert (\d+) posted for (.*)\n", text)
    assert m and m.group(2) == shown_for, text
    return int(m.group(1))


def listing(srv, *args):
    """alert list: (id, scope, text) per line, the date checked for form."""
    rows = []
    for line in out(srv, "alert", "list", *args).splitlines():
        m = LINE.match(line)
        assert m, line
        rows.append((int(m.group(1)), m.group(3), m.group(4)))
    return rows




def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_three_alerts_three_refused_logins_then_none(server):
    assert out(server, "alert", "list") == ""
    s = post(server, "Maintenance tonight 22:00-23:00 UTC", shown_for="every account")
    d = post(server, "--domain", "Example.Test", "New", "webmail", "address",
             shown_for=f"every account of {DOMAIN}")
    a = post(server, "--account", USER, "Your quota is nearly used up", shown_for=ME)
    assert s < d < a
    assert listing(server) == [(s, "server", "Maintenance tonight 22:00-23:00 UTC"),
                               (d, DOMAIN, "New webmail address"),
                               (a, ME, "Your quota is nearly used up")]
    assert listing(server, "--domain", DOMAIN) == [(d, DOMAIN, "New webmail address")]
    assert listing(server, "--account", ME) == [(a, ME, "Your quota is nearly used up")]

    # one connection, tried again as a client does: each attempt with the
    # right password gets the next alert, never [AUTH]
    r = server.raw()
    r.line()
    for text in [b"Maintenance tonight 22:00-23:00 UTC", b"New webmail address",
                 b"Your quota is nearly used up"]:
        assert r.cmd(f"USER {USER}") == b"+OK Send your password"
        assert r.cmd(f"PASS {PASSWORD}") == b"-ERR [SYS/TEMP] " + text
        # still not logged in
        assert r.cmd("STAT").startswith(b"-ERR")
    assert r.cmd(f"USER {USER}") == b"+OK Send your password"
    assert r.cmd(f"PASS {PASSWORD}") == LOGGED_IN
    assert r.cmd("QUIT") == b"+OK Bye"
    r.close()
    # the fifth login finds none left
    assert login(server) == LOGGED_IN

    # the account's own alert went once shown; the others stay for others
    assert listing(server) == [(s, "server", "Maintenance tonight 22:00-23:00 UTC"),
                               (d, DOMAIN, "New webmail address")]
    log = server.log()
    for n, text in [(s, "Maintenance tonight 22:00-23:00 UTC"),
                    (d, "New webmail address"), (a, "Your quota is nearly used up")]:
        assert re.search(rf" notice POP alert {n} shown to {ME}: {re.escape(text)}\n", log)
    assert log.count(f"{ME}: login refused with an alert") == 3


def test_a_wrong_password_shows_no_alert(server):
    post(server, "Read me", shown_for="every account")
    assert login(server, password="wrong") == b"-ERR [AUTH] Invalid user name or password"
    assert login(server) == b"-ERR [SYS/TEMP] Read me"


def test_each_account_sees_server_and_domain_alerts_once(server_factory):
    srv = server_factory(start=False)
    srv.add_account("bob", "pw-bob")
    srv.ctl("domain", "add", "other.test")
    srv.add_account("eve@other.test", "pw-eve")
    srv.start()
    post(srv, "S1", shown_for="every account")
    post(srv, "--domain", DOMAIN, "D1", shown_for=f"every account of {DOMAIN}")
    post(srv, "--domain", "other.test", "O1", shown_for="every account of other.test")
    post(srv, "--account", "bob", "B1", shown_for=f"bob@{DOMAIN}")

    assert [login(srv) for _ in range(3)] == [
        b"-ERR [SYS/TEMP] S1", b"-ERR [SYS/TEMP] D1", LOGGED_IN]
    # bob gets them too, his own last; eve only her domain's
    assert [login(srv, "bob", "pw-bob") for _ in range(4)] == [
        b"-ERR [SYS/TEMP] S1", b"-ERR [SYS/TEMP] D1", b"-ERR [SYS/TEMP] B1", LOGGED_IN]
    assert [login(srv, "eve@other.test", "pw-eve") for _ in range(3)] == [
        b"-ERR [SYS/TEMP] S1", b"-ERR [SYS/TEMP] O1", LOGGED_IN]

    # an account made after the alerts never sees them ...
    srv.add_account("carol", "pw-carol")
    assert login(srv, "carol", "pw-carol") == LOGGED_IN
    # ... but a new one, like everybody
    post(srv, "S2", shown_for="every account")
    for user, pw in [("carol", "pw-carol"), (USER, PASSWORD), ("eve@other.test", "pw-eve")]:
        assert login(srv, user, pw) == b"-ERR [SYS/TEMP] S2"
        assert login(srv, user, pw) == LOGGED_IN


def test_alerts_refuse_every_kind_of_login(server_factory):
    """USER/PASS, APOP, AUTH PLAIN, LOGIN and SCRAM: the alert comes after
    the credentials, the same way."""
    srv = server_factory(**{"auth.cleartext_secrets": "yes"})
    for n in range(1, 5):
        post(srv, f"alert number {n}", shown_for="every account")

    p = srv.connect()
    with pytest.raises(Exception, match=r"-ERR \[SYS/TEMP\] alert number 1"):
        p.apop(USER, PASSWORD)
    p.close()

    r = srv.raw()
    r.line()
    assert r.cmd("AUTH PLAIN " + b64(f"\0{USER}\0{PASSWORD}".encode())) == \
        b"-ERR [SYS/TEMP] alert number 2"
    assert r.cmd("AUTH LOGIN") == b"+ " + b64(b"Username:").encode()
    assert r.cmd(b64(USER.encode())) == b"+ " + b64(b"Password:").encode()
    assert r.cmd(b64(PASSWORD.encode())) == b"-ERR [SYS/TEMP] alert number 3"
    sc = Scram("SCRAM-SHA-256", USER, PASSWORD)
    reply = r.cmd(f"AUTH SCRAM-SHA-256 {b64(sc.first())}")
    reply = r.cmd(b64(sc.final(base64.b64decode(reply[2:]))))
    assert reply.startswith(b"+ ") and sc.verify_server(base64.b64decode(reply[2:]))
    assert r.cmd("") == b"-ERR [SYS/TEMP] alert number 4"
    # none left: the same connection logs in
    assert r.cmd("AUTH PLAIN " + b64(f"\0{USER}\0{PASSWORD}".encode())) == LOGGED_IN
    r.close()

    p = srv.connect()
    assert p.apop(USER, PASSWORD) == LOGGED_IN
    p.quit()
    log = srv.log()
    for n in range(1, 5):
        assert re.search(rf" POP alert \d+ shown to {ME}: alert number {n}\n", log)
    assert log.count("login refused with an alert") == 4
    assert "logged in (PLAIN)" in log and "logged in (APOP)" in log


def test_alert_del(server):
    first = post(server, "first", shown_for="every account")
    second = post(server, "--domain", DOMAIN, "second", shown_for=f"every account of {DOMAIN}")
    third = post(server, "--account", USER, "third", shown_for=ME)
    assert out(server, "alert", "del", str(second)) == f"alert {second} removed\n"
    assert out(server, "alert", "del", str(third)) == f"alert {third} removed\n"
    assert listing(server) == [(first, "server", "first")]
    assert login(server) == b"-ERR [SYS/TEMP] first"
    assert login(server) == LOGGED_IN
    # a server alert already shown goes too, and cannot go twice
    assert out(server, "alert", "del", str(first)) == f"alert {first} removed\n"
    assert fails(server, "alert", "del", str(first)) == \
        (1, f"posternctl: no such alert: {first}")
    assert out(server, "alert", "list") == ""


def test_the_longest_alert_is_shown_whole(server):
    text = "x" * 390 + " 400 chars"
    post(server, text, shown_for="every account")
    reply = login(server)
    assert reply == b"-ERR [SYS/TEMP] " + text.encode()
    assert len(reply) + 2 <= 512


def test_alerts_go_with_their_account_and_domain(tmp_path):
    srv = make_server(tmp_path)
    srv.ctl("domain", "add", "other.test")
    srv.add_account("eve@other.test", "pw-eve")
    post(srv, "--domain", "other.test", "for the domain", shown_for="every account of other.test")
    post(srv, "--account", "eve@other.test", "for eve", shown_for="eve@other.test")
    srv.ctl("account", "del", "eve@other.test")
    assert [row[2] for row in listing(srv)] == ["for the domain"]
    srv.ctl("domain", "del", "other.test")
    assert out(srv, "alert", "list") == ""


@pytest.mark.parametrize("args,code,error", [
    (["post", ""], 65, "an alert is 1 to 400 octets of text"),
    (["post", "x" * 401], 65, "an alert is at most 400 octets"),
    # the words are joined with spaces: 200 + 1 + 200 octets
    (["post", "x" * 200, "y" * 200], 65, "an alert is at most 400 octets"),
    (["post", "two\nlines"], 65, "an alert is one line of text: no control characters"),
    (["post", "a\tb"], 65, "an alert is one line of text: no control characters"),
    (["post", "bell\x07"], 65, "an alert is one line of text: no control characters"),
    (["post", "del\x7f"], 65, "an alert is one line of text: no control characters"),
    (["post", "--domain", "nope.test", "Hello"], 1, "no such domain: nope.test"),
    (["post", "--domain", "bad..name", "Hello"], 65,
     "invalid object name 'bad..name': must not start or end with a dot or contain '..'"),
    (["post", "--account", "ghost", "Hello"], 67, f"no such account: ghost@{DOMAIN}"),
    (["post", "--account", "ghost@nope.test", "Hello"], 67,
     "no such account: ghost@nope.test"),
    (["post"], 64, "usage: alert post [--domain DOMAIN | --account ADDRESS] TEXT..."),
    (["post", "--domain"], 64, "usage: alert post [--domain DOMAIN | --account ADDRESS] TEXT..."),
    (["post", "--domain", DOMAIN], 64,
     "usage: alert post [--domain DOMAIN | --account ADDRESS] TEXT..."),
    (["list", "--domain", "nope.test"], 1, "no such domain: nope.test"),
    (["list", "--account", "ghost"], 67, f"no such account: ghost@{DOMAIN}"),
    (["list", "extra"], 64, "usage: alert list [--domain DOMAIN | --account ADDRESS]"),
    (["del", "abc"], 65, "'abc' is not an alert id (a number from alert list)"),
    (["del", "0"], 65, "'0' is not an alert id (a number from alert list)"),
    (["del", "-3"], 65, "'-3' is not an alert id (a number from alert list)"),
    (["del", "12x"], 65, "'12x' is not an alert id (a number from alert list)"),
    (["del", "999"], 1, "no such alert: 999"),
    (["del"], 64, "usage: alert del ID"),
])
def test_bad_input_is_refused_and_posts_nothing(tmp_path, args, code, error):
    srv = make_server(tmp_path)
    assert fails(srv, "alert", *args) == (code, f"posternctl: {error}")
    assert out(srv, "alert", "list") == ""

"""Shared mailboxes over POP (SPEC.md 1-3): login names of the form
`[~owner[@domain]/]mailbox#account[@domain]`, ACL checks (`r` to open,
`s` for RETR to mark Seen, `d` for DELE), one answer for "no such mailbox"
and "no right to it", and many sessions on one shared mailbox.

Accounts: jsmith@example.test (the fixture's), public@example.test with
mailbox `announces`, boss@example.test, and pat@client1.com with mailbox
`lists/info`.
"""
import base64
import poplib
import random
import re
import threading

import pytest

from clients import need, run
from conftest import DOMAIN, PASSWORD, USER, message
from messages import stored
from random_sessions import RACES, random_commands
from scram_client import Scram

NO_MAILBOX = b"-ERR [SYS/PERM] No such mailbox or no permission to open it"
NO_DELETE = b"-ERR [SYS/PERM] no permission to delete"
OTHER = "client1.com"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def shared(server_factory):
    srv = server_factory(**{"pop.channels_per_ip": "0"})
    srv.ctl("domain", "add", OTHER)
    for address in ("public", "boss", f"pat@{OTHER}"):
        srv.add_account(address, PASSWORD)
    srv.ctl("mailbox", "add", "public", "announces")
    srv.ctl("mailbox", "add", f"pat@{OTHER}", "lists/info")
    srv.ctl("mailbox", "add", USER, "private")
    return srv


def deliver_to(srv, address, mailbox, n, tag=""):
    for i in range(n):
        srv.ctl("message", "import", "--mailbox", mailbox, address,
                input=message(i, extra_headers=f"X-Box: {tag or mailbox}\r\n".encode()))


def seen_uidls(srv, owner, mailbox):
    """The UIDLs `posternctl message list` shows with the S flag."""
    out = srv.ctl("message", "list", owner, mailbox).stdout.decode()
    return {f[3].encode() for f in (line.split() for line in out.splitlines()[1:])
            if f[2] == "S"}


def acl(srv, owner, mailbox, identifier, rights):
    srv.ctl("acl", "set", owner, mailbox, identifier, rights)


def login_user(srv, login, password=PASSWORD):
    """USER/PASS; returns (client, reply to PASS)."""
    c = srv.raw()
    assert c.line().startswith(b"+OK")
    assert c.cmd(f"USER {login}").startswith(b"+OK")
    return c, c.cmd(f"PASS {password}")


def login_plain(srv, login, password=PASSWORD):
    c = srv.raw()
    assert c.line().startswith(b"+OK")
    blob = b64(f"\0{login}\0{password}".encode())
    if len(blob) < 240:
        return c, c.cmd("AUTH PLAIN " + blob)
    # too long for a command line (255 octets): after the empty challenge
    assert c.cmd("AUTH PLAIN") == b"+ "
    return c, c.cmd(blob)


LOGINS = [login_user, login_plain]


def subjects(c, count):
    """The X-Box headers of messages 1..count, by RETR."""
    got = []
    for n in range(1, count + 1):
        assert c.cmd(f"RETR {n}").startswith(b"+OK")
        body = b"\r\n".join(c.multiline())
        got.append(re.search(rb"X-Box: (\S+)", body).group(1).decode())
    return got


# ---- every login form ---------------------------------------------------------

@pytest.mark.parametrize("login", LOGINS, ids=["USER", "PLAIN"])
@pytest.mark.parametrize("name, owner, mailbox, count", [
    # own mailboxes
    (USER, USER, "INBOX", 1),
    (f"private#{USER}", USER, "private", 2),
    (f"private#{USER}@{DOMAIN}", USER, "private", 2),
    (f"private#{USER}%{DOMAIN}", USER, "private", 2),
    (f"lists/info#pat@{OTHER}", f"pat@{OTHER}", "lists/info", 3),
    (f"lists/info#pat%{OTHER}", f"pat@{OTHER}", "lists/info", 3),
    # other accounts' mailboxes, with rights
    (f"~public/announces#{USER}", "public", "announces", 4),
    (f"~public@{DOMAIN}/announces#{USER}", "public", "announces", 4),
    (f"~public%{DOMAIN}/announces#{USER}@{DOMAIN}", "public", "announces", 4),
    (f"~boss/INBOX#{USER}", "boss", "INBOX", 5),
    (f"~pat@{OTHER}/lists/info#{USER}", f"pat@{OTHER}", "lists/info", 3),
])
def test_login_forms(shared, login, name, owner, mailbox, count):
    deliver_to(shared, USER, "INBOX", 1)
    deliver_to(shared, USER, "private", 2)
    deliver_to(shared, f"pat@{OTHER}", "lists/info", 3)
    deliver_to(shared, "public", "announces", 4)
    deliver_to(shared, "boss", "INBOX", 5, tag="boss-inbox")
    acl(shared, "public", "announces", f"{USER}@{DOMAIN}", "lrs")
    acl(shared, "boss", "INBOX", f"{USER}@{DOMAIN}", "r")
    acl(shared, f"pat@{OTHER}", "lists/info", f"{USER}@{DOMAIN}", "lr")
    c, reply = login(shared, name)
    assert reply.startswith(b"+OK Logged in, %d message" % count), reply
    tag = "boss-inbox" if owner == "boss" else mailbox
    assert subjects(c, count) == [tag] * count
    assert c.cmd("QUIT").startswith(b"+OK")
    # the log names who logged in and what they opened
    def full(address):
        address = address.replace("%", "@")
        return address if "@" in address else f"{address}@{DOMAIN}"

    who = full(name.split("#")[-1])
    if full(owner) != who:
        who += f" ~{full(owner)}/{mailbox}"
    elif mailbox != "INBOX":
        who += f" {mailbox}"
    shared.wait_log(f"] {who} logged in")


def test_scram_and_apop_carry_the_mailbox_too(shared):
    deliver_to(shared, "public", "announces", 2)
    acl(shared, "public", "announces", "anyone", "lr")
    r = shared.raw()
    r.line()
    sc = Scram("SCRAM-SHA-256", f"~public/announces#{USER}", PASSWORD)
    reply = r.cmd(f"AUTH SCRAM-SHA-256 {b64(sc.first())}")
    reply = r.cmd(b64(sc.final(base64.b64decode(reply[2:]))))
    assert sc.verify_server(base64.b64decode(reply[2:]))
    assert r.cmd("").startswith(b"+OK Logged in, 2 messages")
    r.cmd("QUIT")


# ---- rights -------------------------------------------------------------------

@pytest.mark.parametrize("login", LOGINS, ids=["USER", "PLAIN"])
def test_no_r_right_and_no_mailbox_look_the_same(shared, login):
    deliver_to(shared, "public", "announces", 1)
    acl(shared, "public", "announces", f"{USER}@{DOMAIN}", "lsd")  # no r
    replies = []
    for name in (f"~public/announces#{USER}",     # exists, no r
                 f"~public/nothing#{USER}",       # no such mailbox
                 f"~nobody/INBOX#{USER}",         # no such account
                 f"~public/INBOX#{USER}",         # exists, no entry at all
                 f"nothing#{USER}"):              # no such own mailbox
        c, reply = login(shared, name)
        replies.append(reply)
        # the session stays in AUTHORIZATION: a second try is possible
        assert c.cmd("STAT").startswith(b"-ERR")
        c.cmd("QUIT")
    assert replies == [NO_MAILBOX] * 5


def test_wrong_password_is_still_an_auth_failure(shared):
    acl(shared, "public", "announces", "anyone", "lr")
    c, reply = login_user(shared, f"~public/announces#{USER}", "wrong")
    assert reply.startswith(b"-ERR [AUTH]")
    c, reply = login_plain(shared, f"~public/announces#{USER}", "wrong")
    assert reply.startswith(b"-ERR [AUTH]")


def test_without_s_retr_works_but_does_not_mark_seen(shared):
    deliver_to(shared, "public", "announces", 2)
    acl(shared, "public", "announces", f"{USER}@{DOMAIN}", "lr")
    c, reply = login_user(shared, f"~public/announces#{USER}")
    assert reply.startswith(b"+OK")
    assert c.cmd("RETR 1").startswith(b"+OK")
    c.multiline()
    c.cmd("QUIT")
    assert seen_uidls(shared, "public", "announces") == set()
    # with s, the same RETR marks it Seen for everyone
    acl(shared, "public", "announces", f"{USER}@{DOMAIN}", "+s")
    c, reply = login_user(shared, f"~public/announces#{USER}")
    assert c.cmd("RETR 1").startswith(b"+OK")
    c.multiline()
    c.send(b"UIDL 1\r\n")
    first = c.line().split()[2]
    c.cmd("QUIT")
    assert seen_uidls(shared, "public", "announces") == {first}


def test_dele_needs_d_checked_at_dele_time(shared):
    deliver_to(shared, "public", "announces", 3)
    acl(shared, "public", "announces", f"{USER}@{DOMAIN}", "lrs")
    c, _ = login_user(shared, f"~public/announces#{USER}")
    assert c.cmd("DELE 1") == NO_DELETE
    # granted during the session: the next DELE may
    acl(shared, "public", "announces", f"{USER}@{DOMAIN}", "+d")
    assert c.cmd("DELE 1").startswith(b"+OK")
    # taken away again: refused at once
    acl(shared, "public", "announces", f"{USER}@{DOMAIN}", "-d")
    assert c.cmd("DELE 2") == NO_DELETE
    assert c.cmd("QUIT").startswith(b"+OK")
    c, reply = login_user(shared, "announces#public")
    assert reply.startswith(b"+OK Logged in, 2 messages"), reply
    c.cmd("QUIT")


def test_rights_for_anyone_and_anyone_at_domain(shared):
    deliver_to(shared, "public", "announces", 1)
    pat = f"pat@{OTHER}"
    # nothing yet: neither jsmith nor pat
    for who in (USER, pat):
        assert login_user(shared, f"~public@{DOMAIN}/announces#{who}")[1] == NO_MAILBOX
    # anyone@example.test: jsmith (same domain) yes, pat (client1.com) no
    acl(shared, "public", "announces", f"anyone@{DOMAIN}", "lr")
    assert login_user(shared, f"~public/announces#{USER}")[1].startswith(b"+OK")
    assert login_user(shared, f"~public@{DOMAIN}/announces#{pat}")[1] == NO_MAILBOX
    # anyone: pat too; and d for anyone lets pat delete
    acl(shared, "public", "announces", "anyone", "lrd")
    c, reply = login_user(shared, f"~public@{DOMAIN}/announces#{pat}")
    assert reply.startswith(b"+OK")
    assert c.cmd("DELE 1").startswith(b"+OK")
    # rights are a union: jsmith has lr from anyone@domain and d from anyone
    c2, _ = login_user(shared, f"~public/announces#{USER}")
    assert c2.cmd("DELE 1").startswith(b"+OK")


def test_owner_has_every_right_without_entries(shared):
    deliver_to(shared, "public", "announces", 2)
    c, reply = login_user(shared, "announces#public")
    assert reply.startswith(b"+OK Logged in, 2 messages")
    assert c.cmd("RETR 1").startswith(b"+OK")
    c.multiline()
    assert c.cmd("DELE 2").startswith(b"+OK")
    assert c.cmd("QUIT").startswith(b"+OK")
    c, reply = login_user(shared, "announces#public")
    assert reply.startswith(b"+OK Logged in, 1 message")


@pytest.mark.parametrize("login", LOGINS, ids=["USER", "PLAIN"])
@pytest.mark.parametrize("mailbox", ["..", "a/../b", "/x", "x/", "a//b",
                                     "ctl\x01char", "x" * 300, "~public"])
def test_bad_mailbox_names_at_login(shared, login, mailbox):
    if login is login_user and len(mailbox) > 250:
        # USER itself is a command line: at most 255 octets (RFC 2449)
        c = shared.raw()
        c.line()
        assert c.cmd(f"USER {mailbox}#{USER}") == \
            b"-ERR Command line too long (at most 255 octets)"
        return
    c, reply = login(shared, f"{mailbox}#{USER}")
    assert reply == NO_MAILBOX, reply
    assert login(shared, USER)[1].startswith(b"+OK")


def test_uidls_are_the_mailboxes_own(shared):
    deliver_to(shared, "public", "announces", 2)
    deliver_to(shared, USER, "INBOX", 2)
    acl(shared, "public", "announces", "anyone", "lr")
    own = shared.pop()
    own_ids = [line.split()[1] for line in own.uidl()[1]]
    own.quit()
    c, _ = login_user(shared, f"~public/announces#{USER}")
    c.send(b"UIDL\r\n")
    assert c.line().startswith(b"+OK")
    foreign = [line.split()[1] for line in c.multiline()]
    c.cmd("QUIT")
    c, _ = login_user(shared, "announces#public")
    c.send(b"UIDL\r\n")
    c.line()
    as_owner = [line.split()[1] for line in c.multiline()]
    assert foreign == as_owner           # the mailbox's UIDLs, whoever asks
    assert not set(foreign) & set(own_ids)


# ---- many sessions on one shared mailbox ----------------------------------------

def test_fifty_sessions_on_a_shared_mailbox(shared):
    """Owner and users with rights at once: random RETR, DELE, RSET, QUIT
    and dropped connections while mail arrives.  Afterwards every message is
    still there or was removed by a QUIT that marked it, nothing twice, and
    Seen is set exactly on what users with `s` retrieved."""
    srv = shared
    srv.add_account("reader", PASSWORD)      # lr: reads, never marks Seen
    acl(srv, "public", "announces", f"{USER}@{DOMAIN}", "lrsd")
    acl(srv, "public", "announces", f"reader@{DOMAIN}", "lr")
    for i in range(60):
        srv.ctl("message", "import", "--mailbox", "announces", "public", input=message(i))
    logins = ["announces#public", f"~public/announces#{USER}",
              "~public/announces#reader"]
    lock = threading.Lock()
    removed_by_quit, seen_by_s, errors = set(), set(), []

    def session(name):
        p = poplib.POP3("127.0.0.1", srv.port, timeout=30)
        p.user(name)
        p.pass_(PASSWORD)
        return p

    def client(seed):
        rnd = random.Random(seed)
        try:
            for _ in range(3):
                name = rnd.choice(logins)
                p = session(name)
                allowed = RACES + (("no permission to delete",)
                                   if "reader" in name else ())
                marked, retrieved = random_commands(p, rnd, allowed)
                with lock:
                    if "reader" not in name:
                        seen_by_s.update(retrieved)
                if rnd.random() < 0.3:
                    p.sock.close()
                    continue
                assert p.quit().startswith(b"+OK")
                with lock:
                    removed_by_quit.update(marked)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"{seed}: {e!r}")

    def deliverer():
        for i in range(100, 120):
            srv.ctl("message", "import", "--mailbox", "announces", "public", input=message(i))

    threads = [threading.Thread(target=client, args=(s,)) for s in range(50)]
    extra = threading.Thread(target=deliverer)
    for t in threads + [extra]:
        t.start()
    for t in threads + [extra]:
        t.join()
    assert not errors, errors[:3]

    p = session("announces#public")
    remaining = {line.split()[1] for line in p.uidl()[1]}
    p.quit()
    prefix = next(iter(remaining))[:8]
    everything = {prefix + b"%08x" % uid for uid in range(1, 81)}
    assert remaining <= everything
    gone = everything - remaining
    assert gone <= removed_by_quit             # nothing lost
    assert not (removed_by_quit & remaining)   # nothing resurrected
    removed = sum(int(line.split("QUIT: removed ")[1].split()[0])
                  for line in srv.log().splitlines() if "QUIT: removed " in line)
    assert removed == len(gone)                # nothing removed twice
    # Seen: exactly the remaining messages retrieved by users with `s`
    assert seen_uidls(srv, "public", "announces") == seen_by_s & remaining


# ---- real clients ----------------------------------------------------------------

def test_curl_retrieves_a_shared_mailbox(shared, tmp_path):
    deliver_to(shared, "public", "announces", 2)
    acl(shared, "public", "announces", "anyone", "lr")
    body = message(1, extra_headers=b"X-Box: announces\r\n")
    res = run([need("curl"), "-q", "-sS", "--max-time", "25",
               f"pop3://127.0.0.1:{shared.port}/2",
               "-u", f"~public/announces#{USER}:{PASSWORD}"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == stored(body)


def test_fetchmail_retrieves_a_shared_mailbox(shared, tmp_path):
    deliver_to(shared, "public", "announces", 3)
    acl(shared, "public", "announces", "anyone", "lr")
    out = tmp_path / "fetched"
    out.mkdir()
    mda = tmp_path / "mda.sh"
    mda.write_text(f"#!/bin/sh\nn=$(ls '{out}' | wc -l)\nexec cat > '{out}'/$n\n")
    mda.chmod(0o755)
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        f"poll 127.0.0.1 protocol POP3 port {shared.port} uidl auth password\n"
        f'  user "~public/announces#{USER}" with password "{PASSWORD}"\n'
        f"  options keep sslproto '' mda \"{mda}\"\n")
    rc.chmod(0o600)
    res = run([need("fetchmail"), "-v", "--nosyslog", "-f", str(rc),
               "--pidfile", str(tmp_path / "pid"), "--idfile", str(tmp_path / "ids")],
              tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    got = sorted(out.iterdir())
    assert len(got) == 3
    assert all(b"X-Box: announces" in f.read_bytes() for f in got)


# ---- the mailbox changes under an open session ----------------------------------

def test_mailbox_removed_under_a_session(shared):
    """An admin removes a mailbox a session has open: its messages are
    gone for RETR ([SYS/TEMP], as for one another session removed), QUIT
    still ends cleanly, and the next login finds no mailbox."""
    deliver_to(shared, "public", "announces", 2)
    acl(shared, "public", "announces", "anyone", "lrsd")
    c, reply = login_user(shared, f"~public/announces#{USER}")
    assert reply.startswith(b"+OK Logged in, 2 messages")
    shared.ctl("mailbox", "del", "public", "announces")
    assert c.cmd("RETR 1") == b"-ERR [SYS/TEMP] Message no longer available"
    assert c.cmd("DELE 2").startswith(b"-ERR")   # no entry, no right: d is gone too
    assert c.cmd("QUIT").startswith(b"+OK")
    assert login_user(shared, f"~public/announces#{USER}")[1] == NO_MAILBOX


def test_mailbox_renamed_under_a_session(shared):
    """Renaming keeps the mailbox's identity: an open session goes on, its
    DELE and QUIT act on the renamed mailbox, the rights went along."""
    deliver_to(shared, "public", "announces", 2)
    acl(shared, "public", "announces", "anyone", "lrsd")
    c, _ = login_user(shared, f"~public/announces#{USER}")
    shared.ctl("mailbox", "rename", "public", "announces", "news")
    assert c.cmd("RETR 1").startswith(b"+OK")
    c.multiline()
    assert c.cmd("DELE 1").startswith(b"+OK")
    assert c.cmd("QUIT").startswith(b"+OK Bye, 1 message removed")
    c, reply = login_user(shared, f"~public/news#{USER}")
    assert reply.startswith(b"+OK Logged in, 1 message"), reply

"""The provider's policies (SPEC.md 3 and 6) per server, domain and
account, end to end: posternctl sets and shows them, and a POP user, an
MTA over LMTP or a cron job then meets them - service switches, what DELE
does, pop_from, LOGIN-DELAY and EXPIRE.  Exact replies and outputs.

(xmit = no is covered with XTND XMIT, in the submission tests.)"""
import re
import time

import pytest

from conftest import DOMAIN, LMTP, PASSWORD, USER, make_server, message
from conftest import ctl_fails as fails, ctl_out as out, pass_reply as login

ME = f"{USER}@{DOMAIN}"
DAY = 86400
DEFAULTS = {"pop": ("yes", "default"), "xmit": ("yes", "default"),
            "lmtp": ("yes", "default"), "retrieval": ("yes", "default"),
            "pop_from": ("all", "default"), "pop_delete": ("delete", "default"),
            "pop_login_delay": ("0", "default"), "pop_expire": ("never", "default")}
NO_MAILBOX = b"-ERR [SYS/PERM] No such mailbox or no permission to open it"






def policies(srv, *show):
    """The policy lines of `server show` / `domain show D` / `account show
    A`, in their order: name -> (value, source)."""
    text = out(srv, *show)
    lines = text.splitlines()[-len(DEFAULTS):]
    got = {}
    for line in lines:
        m = re.fullmatch(r"(\S+) (\S+) \((default|server|domain|account)\)", line)
        assert m, line
        got[m.group(1)] = (m.group(2), m.group(3))
    assert list(got) == list(DEFAULTS), text
    return got




def pass_login(r, user=USER, password=PASSWORD):
    """USER/PASS on a raw client whose greeting was read."""
    assert r.cmd(f"USER {user}") == b"+OK Send your password"
    reply = r.cmd(f"PASS {password}")
    assert reply.startswith(b"+OK Logged in"), reply


def capa(r):
    assert r.cmd("CAPA") == b"+OK Capability list follows"
    return r.multiline()


def uidls(p):
    return [line.split()[1].decode() for line in p.uidl()[1]]


def message_list(srv, *args):
    """posternctl message list: [(uid, flags, uidl)]."""
    lines = out(srv, "message", "list", *args).splitlines()
    assert lines[0].split() == ["UID", "SIZE", "FLAGS", "UIDL"]
    return [(int(f[0]), f[2], f[3]) for f in (line.split() for line in lines[1:])]


def mailboxes(srv, address=USER):
    """posternctl mailbox list: name -> messages."""
    got = {}
    for line in out(srv, "mailbox", "list", address).splitlines():
        m = re.fullmatch(r"(.+?) +(\d+) messages? +\d+ octets", line)
        assert m, line
        got[m.group(1)] = int(m.group(2))
    return got


def imported(srv, n, date=None, address=USER):
    """message import [--date DATE]: the UID."""
    args = ["message", "import"] + (["--date", str(date)] if date else []) + [address]
    res = out(srv, *args, input=message(n))
    return int(res.split()[-1])


def uidl_of(srv, uid, address=USER):
    return {u: uidl for u, _, uidl in message_list(srv, address)}[uid]


# -- show, set, inheritance ------------------------------------------------

def test_show_names_the_level_each_policy_comes_from(server):
    assert out(server, "server", "show") == "".join(
        f"{k} {v} ({s})\n" for k, (v, s) in DEFAULTS.items())
    assert out(server, "server", "set", "pop_expire=30", "pop_delete=mark-read") == \
        "server: pop_expire=30\nserver: pop_delete=mark-read\n"
    assert out(server, "domain", "set", DOMAIN, "pop=no", "pop_delete=hide") == \
        f"{DOMAIN}: pop=no\n{DOMAIN}: pop_delete=hide\n"
    assert out(server, "account", "set", USER, "pop=yes", "pop_login_delay=90",
               "pop_from=enable-time") == \
        f"{USER}: pop=yes\n{USER}: pop_login_delay=90\n{USER}: pop_from=enable-time\n"
    assert policies(server, "account", "show", USER) == dict(
        DEFAULTS, pop=("no", "domain"), pop_from=("enable-time", "account"),
        pop_delete=("hide", "domain"), pop_login_delay=("90", "account"),
        pop_expire=("30", "server"))
    assert policies(server, "domain", "show", DOMAIN) == dict(
        DEFAULTS, pop=("no", "domain"), pop_delete=("hide", "domain"),
        pop_expire=("30", "server"))
    assert policies(server, "server", "show") == dict(
        DEFAULTS, pop_delete=("mark-read", "server"), pop_expire=("30", "server"))
    # an empty value inherits again
    assert out(server, "domain", "set", DOMAIN, "pop=", "pop_delete=") == \
        f"{DOMAIN}: pop inherited again\n{DOMAIN}: pop_delete inherited again\n"
    assert out(server, "server", "set", "pop_delete=") == "server: pop_delete inherited again\n"
    assert policies(server, "account", "show", USER) == dict(
        DEFAULTS, pop=("yes", "account"), pop_from=("enable-time", "account"),
        pop_login_delay=("90", "account"), pop_expire=("30", "server"))


def test_a_no_at_any_level_switches_pop_off(server_factory):
    srv = server_factory(start=False)
    srv.add_account("bob", "pw-bob")
    srv.start()
    # server, domain, account -> what jsmith's show says, and the login
    table = [
        ("no", "yes", "yes", ("no", "server"), "server"),
        ("yes", "no", "yes", ("no", "domain"), "domain"),
        ("", "", "no", ("no", "account"), "account"),
        ("", "no", "no", ("no", "domain"), "domain"),
        ("no", "no", "no", ("no", "server"), "server"),
        ("yes", "", "", ("yes", "server"), None),
        ("yes", "yes", "yes", ("yes", "account"), None),
        ("", "", "", ("yes", "default"), None),
    ]
    for server, domain, account, shown, refused_by in table:
        srv.ctl("server", "set", f"pop={server}")
        srv.ctl("domain", "set", DOMAIN, f"pop={domain}")
        srv.ctl("account", "set", USER, f"pop={account}")
        where = (server, domain, account)
        assert policies(srv, "account", "show", USER)["pop"] == shown, where
        if refused_by is None:
            assert login(srv).startswith(b"+OK Logged in"), where
        else:
            # not [AUTH]: the password was right, the client must not ask again
            assert login(srv) == \
                f"-ERR [SYS/PERM] POP access is disabled for this {refused_by}".encode(), where
            # and only the right password learns it
            assert login(srv, password="wrong") == \
                b"-ERR [AUTH] Invalid user name or password", where
        # bob, in the same domain, is refused only by the server and domain
        bob_refused = "no" in (server, domain)
        assert login(srv, "bob", "pw-bob").startswith(
            b"-ERR [SYS/PERM]" if bob_refused else b"+OK Logged in"), where
    srv.wait_log(f"{ME} refused: POP access is disabled for this account")


def test_lmtp_no_refuses_delivery_for_that_account_only(server_factory):
    srv = server_factory(start=False, **LMTP)
    srv.add_account("bob", "pw-bob")
    srv.start()
    refused = f"550 5.2.1 <{ME}> mail delivery is disabled for {ME}".encode()

    def rcpt_replies():
        r = srv.lmtp_raw()
        assert r.cmd("LHLO client.test").startswith(b"250")
        while r.line()[3:4] == b"-":
            pass
        assert r.cmd("MAIL FROM:<alice@example.org>") == \
            b"250 2.1.0 Sender <alice@example.org> OK"
        got = [r.cmd(f"RCPT TO:<{ME}>"), r.cmd(f"RCPT TO:<bob@{DOMAIN}>")]
        r.cmd("QUIT")
        return got

    assert out(srv, "account", "set", USER, "lmtp=no") == f"{USER}: lmtp=no\n"
    assert rcpt_replies() == [refused, f"250 2.1.5 Recipient <bob@{DOMAIN}> OK".encode()]
    # the other recipient of the same message gets it; jsmith does not
    client = srv.lmtp()
    assert client.sendmail("alice@example.org", [ME, f"bob@{DOMAIN}"],
                           b"Subject: hi\r\n\r\nhello\r\n") == \
        {ME: (550, refused[4:])}
    client.quit()
    assert srv.pop("bob", "pw-bob").stat()[0] == 1
    # POP still works for jsmith: only delivery is off
    assert srv.pop().stat() == (0, 0)

    srv.ctl("account", "set", USER, "lmtp=yes")
    srv.ctl("domain", "set", DOMAIN, "lmtp=no")
    assert policies(srv, "account", "show", USER)["lmtp"] == ("no", "domain")
    assert rcpt_replies() == [refused, f"550 5.2.1 <bob@{DOMAIN}> mail delivery is disabled "
                              f"for bob@{DOMAIN}".encode()]
    srv.ctl("domain", "set", DOMAIN, "lmtp=")
    srv.ctl("server", "set", "lmtp=no")
    assert rcpt_replies()[0] == refused
    srv.ctl("server", "set", "lmtp=")
    assert rcpt_replies() == [f"250 2.1.5 Recipient <{ME}> OK".encode(),
                              f"250 2.1.5 Recipient <bob@{DOMAIN}> OK".encode()]


@pytest.mark.parametrize("args,code,error", [
    (["server", "set", "pop=maybe"], 65, "pop: yes or no, not 'maybe'"),
    (["domain", "set", DOMAIN, "lmtp=2"], 65, "lmtp: yes or no, not '2'"),
    (["account", "set", USER, "pop_delete=frob"], 65,
     "pop_delete: delete, hide, mark-read or archive:MAILBOX, not 'frob'"),
    (["account", "set", USER, "pop_delete=archive:../x"], 65,
     "pop_delete: archive:../x: invalid mailbox name '../x': "
     "empty, '.' and '..' levels are not allowed"),
    (["account", "set", USER, "pop_delete=archive:a//b"], 65,
     "pop_delete: archive:a//b: invalid mailbox name 'a//b': "
     "empty, '.' and '..' levels are not allowed"),
    (["account", "set", USER, "pop_delete=archive:INBOX"], 65,
     "pop_delete: archive:INBOX: not into the INBOX itself"),
    (["account", "set", USER, "pop_delete=archive:"], 65,
     "pop_delete: archive:: empty mailbox name"),
    (["account", "set", USER, "pop_delete=archive:~bob/x"], 65,
     "pop_delete: archive:~bob/x: invalid mailbox name '~bob/x': must not start with '~'"),
    (["server", "set", "pop_from=sometimes"], 65,
     "pop_from: one of all|enable-time, not 'sometimes'"),
    (["server", "set", "pop_login_delay=soon"], 65,
     "pop_login_delay: a duration like 900, 15m or 1h (at most 30d), not 'soon'"),
    (["server", "set", "pop_login_delay=31d"], 65,
     "pop_login_delay: a duration like 900, 15m or 1h (at most 30d), not '31d'"),
    (["server", "set", "pop_expire=0"], 65,
     "pop_expire: a number of days (1-36500) or never, not '0'"),
    (["server", "set", "pop_expire=36501"], 65,
     "pop_expire: a number of days (1-36500) or never, not '36501'"),
    (["server", "set", "frob=1"], 64,
     "server set: unknown setting 'frob=1' (known: pop, xmit, lmtp, retrieval, "
     "pop_from, pop_delete, pop_login_delay, pop_expire)"),
    # what the server records for itself cannot be set by hand
    (["account", "set", USER, "_pop_last_login_ms=1"], 64,
     "account set: unknown setting '_pop_last_login_ms=1' (known: admin=yes|no, "
     "quota=SIZE|none, webadmin=none|domain|server, real_name=TEXT, pop, xmit, lmtp, "
     "retrieval, "
     "pop_from, pop_delete, pop_login_delay, pop_expire)"),
    (["server", "set", "pop"], 64, "'pop' is not KEY=VALUE"),
    (["server", "set"], 64, "usage: server set KEY=VALUE..."),
    (["server", "show", "x"], 64, "usage: server show"),
    (["account", "set", "ghost", "pop=no"], 1, f"no such account: ghost@{DOMAIN}"),
    (["domain", "set", "nope.test", "pop=no"], 1, "no such domain: nope.test"),
])
def test_bad_values_are_refused_and_change_nothing(tmp_path, args, code, error):
    srv = make_server(tmp_path)
    assert fails(srv, *args) == (code, f"posternctl: {error}")
    assert policies(srv, "account", "show", USER) == DEFAULTS


# -- pop_delete: what DELE and QUIT do ---------------------------------------

def session_deleting(srv, numbers, retr=(), user=USER):
    """Log in, RETR and DELE those numbers, QUIT: the QUIT reply."""
    p = srv.pop(user)
    for n in retr:
        p.retr(n)
    for n in numbers:
        assert p.dele(n) == f"+OK Message {n} deleted".encode()
    return p.quit()


def test_pop_delete_delete_removes(server):
    for n in (1, 2):
        server.deliver(message(n))
    before = uidls(server.pop())
    assert session_deleting(server, [1]) == b"+OK Bye, 1 message removed"
    p = server.pop()
    assert p.stat() == (1, len(message(2)))
    assert uidls(p) == before[1:]
    p.quit()
    assert [uid for uid, _, _ in message_list(server, USER)] == [2]
    server.wait_log("QUIT: removed 1 of 1 marked messages")


def test_pop_delete_hide_keeps_the_message_out_of_pops_sight(server):
    assert out(server, "domain", "set", DOMAIN, "pop_delete=hide") == f"{DOMAIN}: pop_delete=hide\n"
    for n in (1, 2, 3):
        server.deliver(message(n))
    before = uidls(server.pop())
    assert session_deleting(server, [1, 3], retr=[1]) == b"+OK Bye, 2 messages removed"
    # still in the store, marked H (and 1 Seen: it was retrieved)
    assert [(uid, flags) for uid, flags, _ in message_list(server, USER)] == \
        [(1, "SH"), (2, "-"), (3, "H")]
    p = server.pop()
    assert p.stat() == (1, len(message(2)))
    assert uidls(p) == [before[1]]
    assert p.retr(1)[1][2] == b"Subject: test message 2"
    p.quit()
    assert mailboxes(server) == {"INBOX": 3}
    assert "messages 3\n" in out(server, "account", "show", USER)
    # RSET takes the marks back: nothing more is hidden
    p = server.pop()
    p.dele(1)
    p.rset()
    assert p.quit() == b"+OK Bye"
    # hidden for good, also once the policy is gone
    server.ctl("domain", "set", DOMAIN, "pop_delete=")
    assert uidls(server.pop()) == [before[1]]
    server.wait_log("QUIT: hidden from POP 2 of 2 marked messages")


def test_pop_delete_mark_read_keeps_it_visible(server):
    server.ctl("account", "set", USER, "pop_delete=mark-read")
    for n in (1, 2):
        server.deliver(message(n))
    before = uidls(server.pop())
    assert session_deleting(server, [1]) == b"+OK Bye, 1 message removed"
    p = server.pop()
    assert p.stat() == (2, len(message(1)) + len(message(2)))
    assert uidls(p) == before
    p.quit()
    # DELE alone (no RETR) has marked it read
    assert [(uid, flags) for uid, flags, _ in message_list(server, USER)] == [(1, "S"), (2, "-")]
    server.wait_log("QUIT: marked read 1 of 1 marked messages")


def test_pop_delete_archive_moves_into_a_new_mailbox(server):
    server.ctl("account", "set", USER, "pop_delete=archive:Archive")
    for n in (1, 2, 3):
        server.deliver(message(n))
    assert mailboxes(server) == {"INBOX": 3}
    inbox = message_list(server, USER)
    p = server.pop()
    original = p.retr(1)[1]
    p.quit()
    assert session_deleting(server, [1, 3]) == b"+OK Bye, 2 messages removed"
    # made when missing, holding the two, INBOX the rest
    assert mailboxes(server) == {"Archive": 2, "INBOX": 1}
    assert message_list(server, USER) == [inbox[1]]
    archived = message_list(server, USER, "Archive")
    # new UIDs in the archive, so new UIDLs; RETR's Seen went along
    assert [(uid, flags) for uid, flags, _ in archived] == [(1, "S"), (2, "-")]
    assert not {uidl for _, _, uidl in archived} & {uidl for _, _, uidl in inbox}
    p = server.pop()
    assert p.stat() == (1, len(message(2)))
    p.quit()
    # the archive holds the very message, readable over POP
    p = server.pop("Archive#" + USER)
    assert p.stat()[0] == 2
    assert p.retr(1)[1] == original
    p.quit()
    # into the existing archive: the next UID
    server.deliver(message(4))
    assert session_deleting(server, [2]) == b"+OK Bye, 1 message removed"
    assert [uid for uid, _, _ in message_list(server, USER, "Archive")] == [1, 2, 3]
    assert mailboxes(server) == {"Archive": 3, "INBOX": 1}
    server.wait_log("QUIT: archived 2 of 2 marked messages into Archive")


def test_pop_delete_archive_into_a_nested_name(server):
    assert out(server, "server", "set", "pop_delete=archive:Old Mail/2026/POP") == \
        "server: pop_delete=archive:Old Mail/2026/POP\n"
    server.deliver(message(1))
    assert session_deleting(server, [1]) == b"+OK Bye, 1 message removed"
    # the level alone is made, as mailbox add does
    assert mailboxes(server) == {"INBOX": 0, "Old Mail/2026/POP": 1}
    assert len(message_list(server, USER, "Old Mail/2026/POP")) == 1
    assert server.pop().stat() == (0, 0)


def test_dele_in_another_accounts_mailbox_follows_its_owners_policy(server):
    """bob, allowed to delete in jsmith's INBOX, has pop_delete =
    archive:Mine for his own mail.  Fails if bob's policy decides for
    jsmith's mail: an Archive made in jsmith's account (without the c
    right), or jsmith's mail hidden by a visitor's hide."""
    server.add_account("bob", "pw-bob")
    server.ctl("acl", "set", USER, "INBOX", f"bob@{DOMAIN}", "lrsd")
    server.ctl("account", "set", "bob", "pop_delete=archive:Mine")
    for n in (1, 2, 3):
        server.deliver(message(n))
    p = server.pop(f"~{USER}/INBOX#bob", "pw-bob")
    assert p.dele(1) == b"+OK Message 1 deleted"
    assert p.quit() == b"+OK Bye, 1 message removed"
    # jsmith's own pop_delete (the default: delete) applied
    assert mailboxes(server) == {"INBOX": 2}
    assert mailboxes(server, "bob") == {"INBOX": 0}
    # and with jsmith's hide, the message is kept out of POP's sight
    server.ctl("account", "set", USER, "pop_delete=hide")
    p = server.pop(f"~{USER}/INBOX#bob", "pw-bob")
    assert p.dele(1) == b"+OK Message 1 deleted"
    assert p.quit() == b"+OK Bye, 1 message removed"
    assert mailboxes(server) == {"INBOX": 2}
    assert server.pop().stat()[0] == 1


def test_dele_inside_the_archive_itself_removes(server):
    """A client that opens the archive over POP and deletes there: there is
    nowhere further to move the message, so it goes - not a QUIT that
    fails with [SYS/TEMP] at every try."""
    server.ctl("account", "set", USER, "pop_delete=archive:Archive")
    server.deliver(message(1))
    server.deliver(message(2))
    assert session_deleting(server, [1, 2]) == b"+OK Bye, 2 messages removed"
    assert session_deleting(server, [1], user="Archive#" + USER) == \
        b"+OK Bye, 1 message removed"
    assert mailboxes(server) == {"Archive": 1, "INBOX": 0}
    server.wait_log(f"{ME} Archive QUIT: removed 1 of 1 marked messages")


# -- pop_from = enable-time --------------------------------------------------

def next_second():
    """Wait until the clock's second has changed (arrival dates are whole
    seconds): at most one second."""
    now = int(time.time())
    while int(time.time()) == now:
        time.sleep(0.02)


def test_pop_from_enable_time(server):
    created = int(time.time())
    old = imported(server, 1, date="2020-01-01")
    minute_ago = imported(server, 2, date=created - 60)
    new = imported(server, 3)
    uidl = {uid: u for uid, _, u in message_list(server, USER)}
    p = server.pop()
    assert p.stat()[0] == 3
    p.quit()

    assert out(server, "account", "set", USER, "pop_from=enable-time") == \
        f"{USER}: pop_from=enable-time\n"
    # never switched off: the line is the account's creation
    p = server.pop()
    assert p.stat() == (1, len(message(3)))
    assert uidls(p) == [uidl[new]]
    p.quit()

    # POP off and on again (at the account level) moves the line to now
    next_second()
    server.ctl("account", "set", USER, "pop=no")
    assert login(server) == b"-ERR [SYS/PERM] POP access is disabled for this account"
    server.ctl("account", "set", USER, "pop=yes")
    assert server.pop().stat() == (0, 0)
    newest = imported(server, 4)
    p = server.pop()
    assert uidls(p) == [uidl_of(server, newest)]
    p.quit()

    # nothing was removed: with pop_from=all everything is back
    server.ctl("account", "set", USER, "pop_from=")
    p = server.pop()
    assert uidls(p) == [uidl[old], uidl[minute_ago], uidl[new], uidl_of(server, newest)]
    p.quit()


def test_pop_from_set_for_the_server_counts_from_each_accounts_creation(server):
    server.ctl("server", "set", "pop_from=enable-time")
    server.add_account("carol", "pw-carol")
    imported(server, 1, date=int(time.time()) - 3600, address="carol")
    new = imported(server, 2, address="carol")
    p = server.pop("carol", "pw-carol")
    assert p.stat() == (1, len(message(2)))
    assert uidls(p) == [uidl_of(server, new, "carol")]
    p.quit()


# -- LOGIN-DELAY --------------------------------------------------------------

def test_login_delay_capa_and_refusals(server):
    assert out(server, "server", "set", "pop_login_delay=2") == "server: pop_login_delay=2\n"
    r = server.raw()
    r.line()
    # before login the server's, marked USER: an account may differ
    assert capa(r)[-1:] == [b"LOGIN-DELAY 2 USER"]
    assert r.cmd(f"USER {USER}") == b"+OK Send your password"
    start = time.monotonic()
    assert r.cmd(f"PASS {PASSWORD}").startswith(b"+OK Logged in")
    logged_in = time.monotonic()
    assert capa(r)[-2:] == [b"LOGIN-DELAY 2", b"IMPLEMENTATION Postern"]
    r.cmd("QUIT")
    r.close()

    # try again every 0.2 s: refused until 2 s have passed since the login -
    # the refusals do not restart the wait
    refusals = []
    while True:
        sent = time.monotonic()
        reply = login(server)
        if reply.startswith(b"+OK Logged in"):
            accepted = time.monotonic()
            break
        assert re.fullmatch(rb"-ERR \[LOGIN-DELAY\] Logged in ([01]) s ago; "
                            rb"wait ([12]) s more \(LOGIN-DELAY 2\)", reply), reply
        assert sent - logged_in < 2.0, "refused after the delay"
        refusals.append(reply)
        assert sent - start < 3.5, "never accepted"
        time.sleep(0.2)
    assert refusals[0] == b"-ERR [LOGIN-DELAY] Logged in 0 s ago; wait 2 s more (LOGIN-DELAY 2)"
    assert len(refusals) >= 3
    assert accepted - start >= 2.0, "accepted before the delay"
    # the accepted login starts the next wait
    assert login(server).startswith(b"-ERR [LOGIN-DELAY]")
    server.wait_log(f"{ME} refused: Logged in 0 s ago; wait 2 s more (LOGIN-DELAY 2)")


def test_login_delay_of_a_domain_and_refused_logins(server_factory):
    srv = server_factory(start=False)
    srv.add_account("bob", "pw-bob")
    srv.start()
    srv.ctl("domain", "set", DOMAIN, "pop_login_delay=30")
    srv.ctl("account", "set", "bob", "pop_login_delay=0")
    r = srv.raw()
    r.line()
    # not the server's: nothing to say before login
    assert not [c for c in capa(r) if c.startswith(b"LOGIN-DELAY")]
    pass_login(r)
    assert b"LOGIN-DELAY 30" in capa(r)
    r.close()
    assert login(srv) == \
        b"-ERR [LOGIN-DELAY] Logged in 0 s ago; wait 30 s more (LOGIN-DELAY 30)"
    # bob's own 0: no wait, nothing in CAPA
    for _ in range(2):
        r = srv.raw()
        r.line()
        pass_login(r, "bob", "pw-bob")
        assert not [c for c in capa(r) if c.startswith(b"LOGIN-DELAY")]
        r.close()

    # logins that were refused start no wait: a mailbox that does not
    # exist, an alert
    srv.add_account("carol", "pw-carol")
    srv.ctl("alert", "post", "--account", "carol", "Hello carol")
    assert login(srv, "nosuch#carol", "pw-carol") == b"-ERR [SYS/TEMP] Hello carol"
    assert login(srv, "nosuch#carol", "pw-carol") == NO_MAILBOX
    assert login(srv, "carol", "pw-carol").startswith(b"+OK Logged in")
    assert login(srv, "carol", "pw-carol").startswith(b"-ERR [LOGIN-DELAY]")


def test_the_gate_order_disabled_then_login_delay_then_alerts(server):
    server.ctl("account", "set", USER, "pop_login_delay=2")
    assert login(server).startswith(b"+OK Logged in")
    server.ctl("alert", "post", "--account", USER, "Your alert")
    # POP off wins over everything, and the alert waits
    server.ctl("account", "set", USER, "pop=no")
    assert login(server) == b"-ERR [SYS/PERM] POP access is disabled for this account"
    server.ctl("account", "set", USER, "pop=")
    # then LOGIN-DELAY; the alert still waits
    assert login(server).startswith(b"-ERR [LOGIN-DELAY]")
    assert "Your alert" in out(server, "alert", "list")
    deadline = time.monotonic() + 3.5
    while (reply := login(server)).startswith(b"-ERR [LOGIN-DELAY]"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert reply == b"-ERR [SYS/TEMP] Your alert"
    assert login(server).startswith(b"+OK Logged in")
    assert out(server, "alert", "list") == ""


# -- EXPIRE ------------------------------------------------------------------

def test_expire_at_login_removes_only_retrieved_old_mail(server):
    now = int(time.time())
    server.ctl("account", "set", USER, "pop_expire=30")
    old_read = imported(server, 1, date="2020-01-01")
    old_unread = imported(server, 2, date="2020-01-01")
    young_read = imported(server, 3, date=now - 29 * DAY)
    new_read = imported(server, 4)
    just_old_read = imported(server, 5, date=now - 31 * DAY)
    r = server.raw()
    r.line()
    # set for the account, not the server: not said before login
    assert not [c for c in capa(r) if c.startswith(b"EXPIRE")]
    pass_login(r)
    assert b"EXPIRE 30" in capa(r)
    for n in (1, 3, 4, 5):
        assert r.cmd(f"RETR {n}").startswith(b"+OK")
        r.multiline()
    assert r.cmd("QUIT") == b"+OK Bye"
    r.close()
    assert [uid for uid, _, _ in message_list(server, USER)] == \
        [old_read, old_unread, young_read, new_read, just_old_read]

    # the next login removes what was retrieved and is older than 30 days
    p = server.pop()
    assert p.stat()[0] == 3
    assert [line[2] for line in (p.retr(n)[1] for n in (1, 2, 3))] == \
        [b"Subject: test message 2", b"Subject: test message 3", b"Subject: test message 4"]
    p.quit()
    assert [(uid, flags) for uid, flags, _ in message_list(server, USER)] == \
        [(old_unread, "S"), (young_read, "S"), (new_read, "S")]
    server.wait_log("EXPIRE: removed 2 retrieved messages older than 30 days from INBOX")


def test_posternctl_expire(server_factory):
    srv = server_factory(start=False)
    srv.add_account("bob", "pw-bob")
    srv.ctl("domain", "add", "other.test")
    srv.add_account("eve@other.test", "pw-eve")
    srv.start()
    old = "2020-01-01"
    for address, count in [(USER, 3), ("bob", 1), ("eve@other.test", 1)]:
        for n in range(count):
            imported(srv, n, date=old, address=address)
        imported(srv, 9, address=address)
    passwords = {USER: PASSWORD, "bob": "pw-bob", "eve@other.test": "pw-eve"}

    def retrieve(address, numbers):
        p = srv.pop(address, passwords[address])
        for n in numbers:
            p.retr(n)
        p.quit()

    # before pop_expire is set nothing expires at login: all is retrieved now
    retrieve(USER, [1, 2, 4])
    retrieve("bob", [1, 2])
    retrieve("eve@other.test", [1, 2])

    assert out(srv, "expire") == "0 messages removed from 0 accounts\n"
    assert out(srv, "server", "set", "pop_expire=10") == "server: pop_expire=10\n"
    srv.ctl("domain", "set", "other.test", "pop_expire=never")
    r = srv.raw()
    r.line()
    assert capa(r)[-1:] == [b"EXPIRE 10 USER"]
    r.close()

    assert out(srv, "expire", "other.test") == "0 messages removed from 0 accounts\n"
    # a word that is no domain is an account of main_domain
    assert out(srv, "expire", "bob") == (
        f"bob@{DOMAIN}: 1 retrieved message older than 10 days removed\n"
        "1 message removed from 1 account\n")
    assert out(srv, "expire") == (
        f"{ME}: 2 retrieved messages older than 10 days removed\n"
        "2 messages removed from 1 account\n")
    assert out(srv, "expire", DOMAIN) == "0 messages removed from 0 accounts\n"
    # the unread old one and the new ones stay; eve's domain keeps mail
    assert [flags for _, flags, _ in message_list(srv, USER)] == ["-", "S"]
    assert [flags for _, flags, _ in message_list(srv, "bob")] == ["S"]
    assert [flags for _, flags, _ in message_list(srv, "eve@other.test")] == ["S", "S"]
    assert srv.pop().stat()[0] == 2

    assert fails(srv, "expire", "nope.test") == \
        (67, "posternctl: no such domain or account: nope.test")
    assert fails(srv, "expire", f"ghost@{DOMAIN}") == \
        (67, f"posternctl: no such account: ghost@{DOMAIN}")
    assert fails(srv, "expire", DOMAIN, "bob") == \
        (64, "posternctl: usage: expire [DOMAIN | ADDRESS]")
    srv.ctl("server", "set", "pop_expire=never")
    r = srv.raw()
    r.line()
    assert capa(r)[-1:] == [b"EXPIRE NEVER USER"]
    r.close()


def test_expire_spares_the_archive(server):
    """Mail that pop_delete=archive:... kept is kept: EXPIRE is about mail
    left on the server after POP retrieved it."""
    server.ctl("account", "set", USER, "pop_delete=archive:Archive", "pop_expire=30")
    imported(server, 1, date="2020-01-01")
    assert session_deleting(server, [1], retr=[1]) == b"+OK Bye, 1 message removed"
    assert [flags for _, flags, _ in message_list(server, USER, "Archive")] == ["S"]
    assert out(server, "expire") == "0 messages removed from 0 accounts\n"
    # nor when the archive is opened over POP
    assert server.pop("Archive#" + USER).stat()[0] == 1
    assert mailboxes(server) == {"Archive": 1, "INBOX": 0}

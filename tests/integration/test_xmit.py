"""XTND XMIT (SPEC.md 5) as Eudora speaks it, over poplib and raw
sockets: the dialogue, the envelope taken from the header (what the
smarthost sees: MAIL FROM, RCPT, the body without Bcc), the refusals
after the data, the states and switches, and local recipients."""
import email.utils
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import DOMAIN, PASSWORD, USER, RawClient, make_server
from messages import big_message, dotstuff
from smarthost import (HOSTNAME, ME, Smarthost, parse, received_field, relay_settings,
                       send, smarthost, wait_for, xmit)

assert smarthost  # a fixture

# A message as a mail client writes it: Date and Message-ID of its own,
# To, Cc and a Bcc, and lines that start with dots.
MSG = (b"From: John Smith <jsmith@example.test>\r\n"
       b"To: Bob <bob@remote.test>\r\n"
       b"Cc: carol@remote.test\r\n"
       b"Bcc: dave@remote.test\r\n"
       b"Subject: dots\r\n"
       b"Date: Tue, 01 Dec 2026 20:59:00 +0100\r\n"
       b"Message-ID: <dots-1@example.test>\r\n"
       b"\r\n"
       b"Lines that start with a dot:\r\n.\r\n..\r\n. x\r\n...\r\n.hidden\r\n"
       b"and a last line\r\n")


def tmp_files(srv):
    return os.listdir(srv.root / "data" / "tmp")


def queue_list(srv):
    return srv.ctl("queue", "list").stdout.decode()


def logged_in(srv, user=USER, password=PASSWORD):
    r = srv.raw()
    r.login(user, password)
    return r


def inbox(srv, user=USER, password=PASSWORD):
    p = srv.pop(user, password)
    count, _ = p.stat()
    out = [b"\r\n".join(p.retr(n)[1]) + b"\r\n" for n in range(1, count + 1)]
    p.quit()
    return out


def last_queue_id(srv):
    ids = re.findall(r"SMTP queue (\d+): submitted by", srv.log())
    assert ids, srv.log()
    return int(ids[-1])


# -- the dialogue -------------------------------------------------------------

def test_eudora_dialogue_over_poplib(server_factory, smarthost):
    sh = smarthost()
    srv = server_factory(**relay_settings(sh))
    p = srv.pop()
    assert p._shortcmd("XTND XMIT") == b"+OK Start sending message."
    for line in dotstuff(MSG).split(b"\r\n")[:-1]:
        p._putline(line)
    p._putline(b".")
    assert p._getresp() == b"+OK Message sent"
    # still in TRANSACTION
    assert p.stat() == (0, 0)
    assert p.quit() == b"+OK Bye"

    [m] = sh.peer.wait_messages(1)
    assert m.mail_from == ME
    assert m.rcpts == ["bob@remote.test", "carol@remote.test", "dave@remote.test"]
    date, rest = received_field(m.data)
    # the rest byte for byte: only the Bcc field is gone
    assert rest == MSG.replace(b"Bcc: dave@remote.test\r\n", b"")
    when = email.utils.parsedate_to_datetime(date.decode()).timestamp()
    assert abs(when - time.time()) < 30
    qid = last_queue_id(srv)
    assert f"SMTP queue {qid}: submitted by {ME} from [127.0.0.1], 3 recipients, " \
           f"{len(MSG)} octets" in srv.log()
    assert f"{ME} XTND XMIT: queued as {qid}" in srv.log()
    srv.wait_log(f"SMTP queue {qid}: finished: 3 delivered, 0 failed")
    assert queue_list(srv) == ""
    # the queued file went with its entry
    assert [f for f in (srv.root / "data" / "bodies").rglob("*") if f.is_file()] == []


# -- the envelope and the header, as the smarthost sees them -------------------
#
# One posternd and one smarthost take every message below in one POP
# session (each test then checks its own), so the relay's one-second look
# at the queue is waited for once.

BODY = b"\r\nbody\r\n"
FIXED = b"Date: Tue, 01 Dec 2026 20:59:00 +0100\r\nMessage-ID: <env@example.test>\r\n"
CASES = {}


def case(name, data):
    """A message of the batch; its X-Case field names it at the peer."""
    assert f"X-Case: {name}".encode() in data
    CASES[name] = data
    return data


class Batch:
    def __init__(self, srv, sh, replies, messages):
        self.srv, self.sh, self.replies, self.messages = srv, sh, replies, messages

    def __getitem__(self, name):
        """What the peer got for the case, and our Received date and the
        rest of the message after that field."""
        assert self.replies[name] == b"+OK Message sent", self.replies[name]
        m = self.messages[name]
        date, rest = received_field(m.data)
        return m, date, rest


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    sh = Smarthost().start()
    srv = make_server(tmp_path_factory.mktemp("batch"), **relay_settings(sh)).start()
    try:
        r = logged_in(srv)
        replies = {name: xmit(r, data) for name, data in CASES.items()}
        assert r.cmd("QUIT").startswith(b"+OK")
        r.close()
        sent = sum(reply == b"+OK Message sent" for reply in replies.values())
        messages = {}
        for m in sh.peer.wait_messages(sent):
            messages[re.search(rb"X-Case: ([\w-]+)\r\n", m.data).group(1).decode()] = m
        wait_for(lambda: queue_list(srv) == "", "an empty queue")
        yield Batch(srv, sh, replies, messages)
    finally:
        assert srv.stop() == 0
        sh.stop()


MISSING = case("missing", b"To: bob@remote.test\r\nSubject: bare\r\nX-Case: missing\r\n\r\nhello\r\n")


def test_missing_from_date_and_message_id_are_added(batch):
    m, date, rest = batch["missing"]
    assert m.rcpts == ["bob@remote.test"]
    head, body = rest.split(b"\r\n\r\n", 1)
    assert body == b"hello\r\n"
    lines = head.split(b"\r\n")
    assert lines[:4] == [b"To: bob@remote.test", b"Subject: bare", b"X-Case: missing",
                         b"From: <jsmith@example.test>"]
    # the Date is the submission's, as in the Received field
    assert lines[4] == b"Date: " + date
    assert re.fullmatch(rb"Message-ID: <[0-9a-f]{32}@" + re.escape(HOSTNAME.encode()) + rb">",
                        lines[5]), lines[5]
    assert len(lines) == 6
    when = email.utils.parsedate_to_datetime(date.decode()).timestamp()
    assert abs(when - time.time()) < 60


ALL_HEADER = case("all-header", (
    b"To: bob@remote.test\r\nFrom: me@example.test\r\nDate: Tue, 01 Dec 2026 20:59:00 +0100\r\n"
    b"Message-ID: <h@example.test>\r\nX-Case: all-header\r\nSubject: no body"))


def test_a_message_that_is_all_header(batch):
    _, _, rest = batch["all-header"]
    # the line end it lacked, and the empty line that ends a header
    assert rest == ALL_HEADER + b"\r\n\r\n"


_big = big_message(b"big", 300_000, dots=True).split(b"\r\n\r\n", 1)
BIG_BODY = _big[1]
BIG = case("big", b"To: bob@remote.test\r\nMessage-ID: <big@example.test>\r\nX-Case: big\r\n"
           + _big[0] + b"\r\n\r\n" + BIG_BODY)
UNIX = case("unix", b"To: carol@remote.test\nSubject: unix\nMessage-ID: <u@example.test>\n"
            b"X-Case: unix\n\n.a\nb\n")


def test_a_large_message_with_dots_arrives_byte_for_byte(batch):
    """300 KB whose dot lines fall on the server's read boundaries."""
    m, date, rest = batch["big"]
    assert m.rcpts == ["bob@remote.test"]
    assert m.mail_options == [f"SIZE={len(m.data)}", "BODY=8BITMIME"]
    head = BIG.split(b"\r\n\r\n")[0]
    assert rest == head + b"\r\nFrom: <jsmith@example.test>\r\nDate: " + date + \
        b"\r\n\r\n" + BIG_BODY


def test_unix_line_ends_become_crlf(batch):
    m, date, rest = batch["unix"]
    assert m.rcpts == ["carol@remote.test"]
    assert rest == (b"To: carol@remote.test\r\nSubject: unix\r\nMessage-ID: <u@example.test>\r\n"
                    b"X-Case: unix\r\nFrom: <jsmith@example.test>\r\nDate: " + date +
                    b"\r\n\r\n.a\r\nb\r\n")


ENVELOPES = [
    pytest.param(
        b"From: me@example.test\r\n"
        b"To: Bob <bob@remote.test>, carol@remote.test\r\n"
        b"Cc: Dave <dave@remote.test>, bob@REMOTE.test\r\n"
        b"Bcc: erin@remote.test, Bob@remote.test\r\n",
        # the same address again (the domain in other case) is one
        # recipient; the local part's case is the other server's business
        ["bob@remote.test", "carol@remote.test", "dave@remote.test", "erin@remote.test",
         "Bob@remote.test"],
        b"From: me@example.test\r\n"
        b"To: Bob <bob@remote.test>, carol@remote.test\r\n"
        b"Cc: Dave <dave@remote.test>, bob@REMOTE.test\r\n",
        id="to-cc-bcc-duplicates"),
    pytest.param(
        b"From: me@example.test\r\nTo: undisclosed-recipients:;\r\nBcc: bob@remote.test\r\n",
        ["bob@remote.test"],
        b"From: me@example.test\r\nTo: undisclosed-recipients:;\r\n",
        id="undisclosed-recipients"),
    pytest.param(
        b"From: me@example.test\r\nTo: Team: a@x.test, Bee <b@y.test>;, carol@remote.test\r\n"
        b"Cc: Empty:;\r\n",
        ["a@x.test", "b@y.test", "carol@remote.test"],
        b"From: me@example.test\r\nTo: Team: a@x.test, Bee <b@y.test>;, carol@remote.test\r\n"
        b"Cc: Empty:;\r\n",
        id="groups"),
    pytest.param(
        b'From: me@example.test\r\nTo: "Doe, John" <john@remote.test>,\r\n'
        b' "Smith, \\"JJ\\", Jr." <jj@remote.test>, bob@remote.test (Bob, the builder)\r\n'
        b"Cc:\r\n",
        ["john@remote.test", "jj@remote.test", "bob@remote.test"],
        b'From: me@example.test\r\nTo: "Doe, John" <john@remote.test>,\r\n'
        b' "Smith, \\"JJ\\", Jr." <jj@remote.test>, bob@remote.test (Bob, the builder)\r\n'
        b"Cc:\r\n",
        id="quoted-names-commas-comments-folding"),
    pytest.param(
        b"From: me@example.test\r\n"
        b"To: =?UTF-8?B?w4lyaWMsIEwu?= <eric@remote.test>,\r\n"
        b"\t=?ISO-8859-1?Q?Andr=E9_M=FCller?= <andre@remote.test>\r\n",
        ["eric@remote.test", "andre@remote.test"],
        b"From: me@example.test\r\n"
        b"To: =?UTF-8?B?w4lyaWMsIEwu?= <eric@remote.test>,\r\n"
        b"\t=?ISO-8859-1?Q?Andr=E9_M=FCller?= <andre@remote.test>\r\n",
        id="rfc2047-encoded-words"),
    pytest.param(
        b"From: me@example.test\r\nTo: \"john doe\"@remote.test\r\n",
        ['"john doe"@remote.test'],
        b"From: me@example.test\r\nTo: \"john doe\"@remote.test\r\n",
        id="quoted-local-part"),
    pytest.param(
        b"From: me@example.test\r\nTo: bob@remote.test\r\nBcc: a@x.test,\r\n b@y.test\r\n"
        b"bcc : c@z.test\r\nBCC:\r\n",
        ["bob@remote.test", "a@x.test", "b@y.test", "c@z.test"],
        b"From: me@example.test\r\nTo: bob@remote.test\r\n",
        id="folded-and-odd-bcc-fields"),
]
for _p in ENVELOPES:
    case(_p.id, _p.values[0] + FIXED + f"X-Case: {_p.id}\r\n".encode() + BODY)


@pytest.mark.parametrize("header,rcpts,kept", ENVELOPES)
def test_recipients_from_the_header(batch, request, header, rcpts, kept):
    name = request.node.callspec.id
    m, _, rest = batch[name]
    assert m.mail_from == ME
    assert m.rcpts == rcpts
    assert rest == kept + FIXED + f"X-Case: {name}\r\n".encode() + BODY
    assert f"{len(rcpts)} recipient{'s' if len(rcpts) > 1 else ''}, " \
           f"{len(CASES[name])} octets" in batch.srv.log()


RESENT_ORIGINAL = (b"From: Alice <alice@remote.test>\r\n"
                   b"To: bob@remote.test\r\n"
                   b"Bcc: carol@remote.test\r\n"
                   b"Subject: the report\r\n" + FIXED + b"X-Case: resent\r\n")
case("resent", b"Resent-From: jsmith@example.test\r\n"
               b"Resent-To: Erin <erin@remote.test>\r\n"
               b"Resent-Bcc: frank@remote.test\r\n" + RESENT_ORIGINAL + BODY)


def test_a_resent_block_on_top_gives_the_only_recipients(batch):
    m, date, rest = batch["resent"]
    assert m.rcpts == ["erin@remote.test", "frank@remote.test"]
    # both Bcc fields are gone; the block gets its Date and Message-ID at its
    # end, the original part is untouched
    head = rest.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[:2] == [b"Resent-From: jsmith@example.test", b"Resent-To: Erin <erin@remote.test>"]
    assert head[2] == b"Resent-Date: " + date
    assert re.fullmatch(rb"Resent-Message-ID: <[0-9a-f]{32}@[^>]+>", head[3])
    assert b"\r\n".join(head[4:]) + b"\r\n" == \
        RESENT_ORIGINAL.replace(b"Bcc: carol@remote.test\r\n", b"")


def test_the_received_field_names_an_ipv6_client_as_rfc_5321_writes_it(
        server_factory, smarthost):
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback")
    sh = smarthost()
    # IPv6 on the port kept for TLS, beside the IPv4 one conftest waits for
    srv = server_factory(**relay_settings(sh),
                         **{"pop.listen": "127.0.0.1:{port}, [::1]:{tls_port}"})
    r = RawClient(socket.create_connection(("::1", srv.tls_port), timeout=10))
    r.login()
    assert xmit(r, b"To: bob@remote.test\r\n\r\nv6\r\n") == b"+OK Message sent"
    r.cmd("QUIT")
    [m] = sh.peer.wait_messages(1)
    # RFC 5321 4.1.3: an IPv6 address literal is tagged
    assert m.data.startswith(b"Received: from [IPv6:::1] (authenticated as "
                             b"jsmith@example.test)\r\n"), m.data[:100]
    assert f"submitted by {ME} from [::1], 1 recipient" in srv.log()


# -- refusals ------------------------------------------------------------------

@pytest.mark.parametrize("data,reply", [
    (b"From: me@example.test\r\nSubject: to nobody\r\n\r\nx\r\n", b"-ERR no recipients"),
    (b"To: undisclosed-recipients:;\r\nCc:\r\nSubject: x\r\n\r\nx\r\n", b"-ERR no recipients"),
    (b"Subject: x\r\n\r\nTo: bob@remote.test\r\n", b"-ERR no recipients"),
    (b"To: postmaster\r\n\r\nx\r\n",
     b"-ERR the To field holds an address without a domain: 'postmaster'"),
    (b"To: bob@remote.test\r\nCc: <<<\r\n\r\nx\r\n",
     b"-ERR the Cc field is not a valid address list: '<<<'"),
    (b"To: bob@remote.test\r\nthis is no field\r\n\r\nx\r\n",
     b"-ERR header line 2 is not a field (\"Name: value\"): 'this is no field'"),
])
def test_refused_after_the_data_and_the_session_goes_on(server_factory, data, reply):
    srv = server_factory(**relay_settings(None))
    r = logged_in(srv)
    got = xmit(r, data)
    assert got == reply
    assert r.cmd("STAT") == b"+OK 0 0"
    # nothing queued, no file left behind, and the next message goes
    assert queue_list(srv) == ""
    assert tmp_files(srv) == []
    assert xmit(r, b"To: bob@remote.test\r\n\r\nok\r\n") == b"+OK Message sent"
    r.cmd("QUIT")
    why = got[5:].decode()
    assert f"submission by {ME} from [127.0.0.1] not queued: {why}" in srv.log()
    assert f"XTND XMIT refused: {why}" in srv.log()


def test_over_the_size_limit_is_told_after_the_data(server_factory):
    srv = server_factory(**relay_settings(None, max_message_size="1024"))
    head = b"To: bob@remote.test\r\nSubject: size\r\n\r\n"

    def sized(n):
        return head + b"x" * (n - len(head) - 2) + b"\r\n"
    r = logged_in(srv)
    assert r.cmd("XTND XMIT") == b"+OK Start sending message."
    r.send(dotstuff(sized(5000)))
    # no answer until the final dot: the client is still sending
    r.sock.settimeout(0.5)
    with pytest.raises(socket.timeout):
        r.line()
    r.sock.settimeout(10)
    r.send(b".\r\n")
    assert r.line() == b"-ERR message larger than the limit of 1024 octets"
    assert r.cmd("STAT") == b"+OK 0 0"
    # the limit is the octets the client sent: exactly 1024 go, 1025 do not
    assert xmit(r, sized(1025)) == b"-ERR message larger than the limit of 1024 octets"
    assert xmit(r, sized(1024)) == b"+OK Message sent"
    r.cmd("QUIT")
    assert len(queue_list(srv).splitlines()) == 2     # the heading and one entry


def test_too_many_recipients(server_factory):
    srv = server_factory(**relay_settings(None, max_recipients="2"))
    r = logged_in(srv)
    assert xmit(r, b"To: a@remote.test, b@remote.test\r\nBcc: c@remote.test\r\n\r\nx\r\n") == \
        b"-ERR too many recipients (3, at most 2)"
    assert xmit(r, b"To: a@remote.test, b@remote.test\r\n\r\nx\r\n") == b"+OK Message sent"
    r.cmd("QUIT")


# -- states and subcommands ------------------------------------------------------

def test_xtnd_before_login_and_unknown_subcommands(server_factory):
    srv = server_factory(**relay_settings(None))
    r = srv.raw()
    assert r.line().startswith(b"+OK")
    assert r.cmd("XTND XMIT") == b"-ERR XTND is not valid in this state"
    # nothing was read as a message: the session goes on
    assert r.cmd(f"USER {USER}").startswith(b"+OK")
    assert r.cmd(f"PASS {PASSWORD}").startswith(b"+OK")
    for cmd in ("XTND LIST", "XTND", "XTND XMITX", "XTND XMIT now"):
        assert r.cmd(cmd) == b"-ERR Unknown XTND command (only XTND XMIT)", cmd
    # case does not matter
    assert r.cmd("xtnd xmit") == b"+OK Start sending message."
    r.send(b"To: bob@remote.test\r\n\r\nx\r\n.\r\n")
    assert r.line() == b"+OK Message sent"
    assert r.cmd("QUIT").startswith(b"+OK")


@pytest.mark.parametrize("sent", [
    b"To: bob@remote.test\r\nSubj",                     # in the header
    b"To: bob@remote.test\r\n\r\n" + b"body line\r\n" * 5000,  # in the body
])
def test_a_client_that_drops_mid_message_queues_nothing(server_factory, sent):
    srv = server_factory(**relay_settings(None))
    r = logged_in(srv)
    assert r.cmd("XTND XMIT") == b"+OK Start sending message."
    r.send(sent)
    time.sleep(0.1)
    r.close()
    srv.wait_log("connection ended during XTND XMIT: nothing queued")
    assert queue_list(srv) == ""
    assert tmp_files(srv) == []
    assert "submitted by" not in srv.log()


def test_pipelined_commands_after_the_final_dot(server_factory):
    srv = server_factory(**relay_settings(None))
    r = logged_in(srv)
    assert r.cmd("XTND XMIT") == b"+OK Start sending message."
    r.send(b"To: bob@remote.test\r\n\r\nx\r\n.\r\nSTAT\r\n")
    assert [r.line(), r.line()] == [b"+OK Message sent", b"+OK 0 0"]
    # the whole exchange in one write (PIPELINING), a refused one too
    r.send(b"XTND XMIT\r\nTo: bob@remote.test\r\n\r\n.STAT\r\n.\r\nNOOP\r\n"
           b"XTND XMIT\r\nSubject: none\r\n\r\n.\r\nSTAT\r\nQUIT\r\n")
    assert [r.line() for _ in range(6)] == [
        b"+OK Start sending message.", b"+OK Message sent", b"+OK Nothing to do",
        b"+OK Start sending message.", b"-ERR no recipients", b"+OK 0 0"]
    assert r.line().startswith(b"+OK")
    assert r.closed()
    assert len(queue_list(srv).splitlines()) == 3


def test_messages_per_hour(server_factory):
    srv = server_factory(**relay_settings(None, max_messages_per_hour="2"))
    r = logged_in(srv)
    # a refused message does not count
    assert xmit(r, b"Subject: none\r\n\r\nx\r\n") == b"-ERR no recipients"
    assert xmit(r, b"To: a@remote.test\r\n\r\n1\r\n") == b"+OK Message sent"
    assert xmit(r, b"To: a@remote.test\r\n\r\n2\r\n") == b"+OK Message sent"
    # refused before the data: the client sends no message
    assert r.cmd("XTND XMIT") == b"-ERR [SYS/TEMP] At most 2 messages an hour: try again later"
    assert r.cmd("STAT") == b"+OK 0 0"
    r.cmd("QUIT")
    # the account's limit, not the session's: a new session is refused
    # too (a spammer with a stolen password reconnects), another account
    # is not
    r = logged_in(srv)
    assert r.cmd("XTND XMIT") == b"-ERR [SYS/TEMP] At most 2 messages an hour: try again later"
    r.cmd("QUIT")
    srv.add_account("bob", "pw-bob")
    r = logged_in(srv, "bob", "pw-bob")
    assert xmit(r, b"To: a@remote.test\r\n\r\n3\r\n") == b"+OK Message sent"
    r.cmd("QUIT")
    assert len(queue_list(srv).splitlines()) == 4


@pytest.mark.parametrize("how,reply", [
    (("server", "set", "xmit=no"), b"-ERR sending mail is not enabled on this server"),
    (("domain", "set", DOMAIN, "xmit=no"), b"-ERR sending mail is not enabled for this account"),
    (("account", "set", USER, "xmit=no"), b"-ERR sending mail is not enabled for this account"),
])
def test_xmit_policy_switches(server_factory, how, reply):
    srv = server_factory(**relay_settings(None))
    srv.add_account("other", "other-pass")
    r = logged_in(srv)
    srv.ctl(*how)
    # takes effect at once, in a session that is open
    assert r.cmd("XTND XMIT") == reply
    assert r.cmd("STAT") == b"+OK 0 0"
    o = logged_in(srv, "other", "other-pass")
    other = o.cmd("XTND XMIT")
    if how[0] == "account":
        assert other == b"+OK Start sending message."
        o.send(b"To: bob@remote.test\r\n\r\nx\r\n.\r\n")
        assert o.line() == b"+OK Message sent"
    else:
        assert other == reply
    o.cmd("QUIT")
    # an empty value inherits again
    srv.ctl(*how[:-1], "xmit=")
    assert xmit(r, b"To: bob@remote.test\r\n\r\nx\r\n") == b"+OK Message sent"
    r.cmd("QUIT")


@pytest.mark.parametrize("settings", [
    relay_settings(None, xmit="no"),
    {"modules": "pop"},
], ids=["relay.xmit=no", "no-relay-module"])
def test_xmit_switched_off_in_the_configuration(server_factory, settings):
    srv = server_factory(**settings)
    r = logged_in(srv)
    assert r.cmd("XTND XMIT") == b"-ERR sending mail is not enabled on this server"
    assert r.cmd("STAT") == b"+OK 0 0"
    r.cmd("QUIT")


# -- local recipients ------------------------------------------------------------

def test_local_recipients_get_it_in_their_inbox(server_factory):
    srv = server_factory(**relay_settings(None))
    srv.add_account("other", "other-pass")
    srv.ctl("domain", "alias", "add", "alias.test", DOMAIN)
    data = (b"From: me@example.test\r\nTo: Other <other@example.test>, other+news@example.test\r\n"
            b"Cc: other@alias.test\r\nBcc: jsmith@EXAMPLE.TEST\r\nSubject: local\r\n" + FIXED +
            b"\r\n.dot\r\nend\r\n")
    assert send(srv, data) == b"+OK Message sent"
    qid = last_queue_id(srv)
    srv.wait_log(f"SMTP queue {qid}: finished: 4 delivered, 0 failed")
    want = data.replace(b"Bcc: jsmith@EXAMPLE.TEST\r\n", b"")
    [got] = inbox(srv, "other", "other-pass")
    # one copy for the three addresses; other@alias.test is the address
    # other@example.test already stamped (delivery.md), so no stamp of its own
    stamps = (b"Return-Path: <jsmith@example.test>\r\n"
              b"X-Real-To: <other@example.test>\r\nX-Real-To: <other+news@example.test>\r\n")
    assert got.startswith(stamps), got[:400]
    _, rest = received_field(got[len(stamps):])
    assert rest == want
    [mine] = inbox(srv)
    assert mine.startswith(b"Return-Path: <jsmith@example.test>\r\n"
                           b"X-Real-To: <jsmith@EXAMPLE.TEST>\r\nReceived: ")
    assert f"SMTP queue {qid}: <other@example.test> done: 250 2.0.0 delivered to this " \
           "server's mailbox" in srv.log()
    assert queue_list(srv) == ""


def test_an_unknown_local_user_bounces_at_once(server_factory):
    srv = server_factory(**relay_settings(None))
    data = b"To: ghost@example.test\r\nSubject: to a ghost\r\n" + FIXED + b"\r\nboo\r\n"
    assert send(srv, data) == b"+OK Message sent"
    qid = last_queue_id(srv)
    srv.wait_log(f"SMTP queue {qid}: bounce sent to <{ME}>")
    srv.wait_log(f"SMTP queue {qid}: finished: 0 delivered, 1 failed")
    assert f"SMTP queue {qid}: attempt 2" not in srv.log()
    assert f"SMTP queue {qid}: <ghost@example.test> failed: 550 5.1.1 no such user: " \
           "ghost@example.test" in srv.log()
    assert queue_list(srv) == ""
    [raw] = inbox(srv)
    assert raw.startswith(b"Return-Path: <>\r\n")
    bounce = parse(raw)
    assert bounce["Subject"] == "Undelivered Mail Returned to Sender"
    assert bounce["From"] == f"Mail Delivery System <MAILER-DAEMON@{HOSTNAME}>"
    assert f"\r\nTo: <{ME}>\r\n".encode() in raw
    assert bounce.get_content_type() == "multipart/report"
    text, report, original = bounce.get_payload()
    assert "<ghost@example.test>:" in text.get_content()
    groups = [p for p in report.get_payload()]
    per_rcpt = groups[1]
    assert per_rcpt["Final-Recipient"] == "rfc822; ghost@example.test"
    assert per_rcpt["Action"] == "failed"
    assert per_rcpt["Status"] == "5.1.1"
    assert per_rcpt["Diagnostic-Code"] == "X-Postern; no such user: ghost@example.test"
    assert "Remote-MTA" not in per_rcpt
    assert original.get_content_type() == "text/rfc822-headers"
    assert b"Subject: to a ghost\r\n" in original.get_payload(decode=True)


# -- faults and reloads --------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)],
                         capture_output=True)
    if res.returncode != 0:
        pytest.skip("needs root to mount a tmpfs: " + res.stderr.decode().strip())
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_a_temporary_failure(tmp_path, small_disk):
    root = tmp_path / "srv"
    root.mkdir()
    srv = make_server(root, data_dir=str(small_disk / "data"), **relay_settings(None))
    srv.start()
    r = logged_in(srv)
    try:
        big = b"To: bob@remote.test\r\n\r\n" + (b"z" * 78 + b"\r\n") * 50000   # 4 MB
        reply = xmit(r, big)
        # the reason is the admin's (the log); the user learns to try later
        assert reply == b"-ERR [SYS/TEMP] Temporary failure, the message was not sent: " \
                        b"try again later", reply
        assert re.search(r"submission by jsmith@example.test from \[127.0.0.1\] not queued: "
                         r"cannot write \S+/data/tmp/body\.\w+: No space left on device "
                         r"\(disk full\)", srv.log())
        assert r.cmd("STAT") == b"+OK 0 0"
        assert os.listdir(small_disk / "data" / "tmp") == []
        assert queue_list(srv) == ""
        # the space is free again: the next message goes
        assert xmit(r, b"To: bob@remote.test\r\n\r\nsmall\r\n") == b"+OK Message sent"
        r.cmd("QUIT")
    finally:
        r.close()
        assert srv.stop() == 0


def test_a_reload_switches_xmit_off_and_changes_the_limits(server_factory):
    srv = server_factory(**relay_settings(None, max_recipients="1"))
    r = logged_in(srv)
    assert xmit(r, b"To: a@remote.test, b@remote.test\r\n\r\nx\r\n") == \
        b"-ERR too many recipients (2, at most 1)"
    conf = srv.conf.read_text()
    srv.conf.write_text(conf.replace("max_recipients = 1\n", "max_recipients = 5\n"))
    srv.send_signal(signal.SIGHUP)
    srv.wait_log("configuration reloaded")
    assert xmit(r, b"To: a@remote.test, b@remote.test\r\n\r\nx\r\n") == b"+OK Message sent"
    srv.conf.write_text(conf.replace("max_recipients = 1\n", "xmit = no\n"))
    srv.send_signal(signal.SIGHUP)
    wait_for(lambda: srv.log().count("configuration reloaded") == 2, "the second reload")
    assert r.cmd("XTND XMIT") == b"-ERR sending mail is not enabled on this server"
    r.cmd("QUIT")

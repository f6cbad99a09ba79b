"""LMTP (RFC 2033) against a real posternd: what an MTA sees on the wire,
and what a POP user then finds in the mailbox.  smtplib.LMTP and swaks are
the clients; raw sockets where exact bytes matter."""
import os
import poplib
import re
import signal
import smtplib
import socket
import subprocess
import time

import pytest

from clients import need, run
from conftest import DOMAIN, LMTP, PASSWORD, POSTERND, USER, RawClient, make_server
from messages import dotstuff, stored

ME = f"{USER}@{DOMAIN}"


def stamped(sender, rcpts, data):
    """What POP shows for `data` delivered over LMTP: Return-Path and one
    X-Real-To per recipient above the message, line ends made CRLF."""
    head = b"Return-Path: <%s>\r\n" % sender.encode()
    head += b"".join(b"X-Real-To: <%s>\r\n" % r.encode() for r in rcpts)
    return head + stored(data)


def retr_all(srv, user=USER, password=PASSWORD):
    p = srv.pop(user, password)
    count, _ = p.stat()
    out = [b"\r\n".join(p.retr(n)[1]) + b"\r\n" for n in range(1, count + 1)]
    p.quit()
    return out


def replies(r, n):
    return [r.line() for _ in range(n)]


def lhlo(r):
    """LHLO; the capability lines without their codes."""
    r.send(b"LHLO client.test\r\n")
    caps = []
    while True:
        line = r.line()
        assert line.startswith(b"250"), line
        caps.append(line[4:])
        if line[3:4] == b" ":
            return caps


def tmp_files(srv):
    return os.listdir(srv.root / "data" / "tmp")


# -- the dialogue ---------------------------------------------------------

def test_greeting_and_lhlo_capabilities(lmtp_server):
    r = RawClient(socket.create_connection(("127.0.0.1", lmtp_server.lmtp_port), timeout=10))
    greeting = r.line()
    assert greeting.startswith(b"220 ") and b"LMTP" in greeting
    caps = lhlo(r)
    assert caps[1:] == [b"PIPELINING", b"ENHANCEDSTATUSCODES", b"8BITMIME",
                        b"SIZE 52428800"]
    # no certificate: no STARTTLS offered, and asking for it is refused
    assert r.cmd("STARTTLS").startswith(b"502 5.5.1")
    assert r.cmd("QUIT").startswith(b"221 2.0.0")
    assert r.closed()


def test_one_message_end_to_end(lmtp_server):
    data = b"From: bob@example.org\r\nSubject: hello\r\n\r\nHi there.\r\n"
    client = lmtp_server.lmtp()
    assert client.sendmail("bob@example.org", [ME], data) == {}
    client.quit()
    assert retr_all(lmtp_server) == [stamped("bob@example.org", [ME], data)]
    assert re.search(r"LMTP-\d+ \[127.0.0.1\] message 1 from <bob@example.org>, "
                     f"{len(data)} octets: delivered to 1 recipient", lmtp_server.log())


def test_smtp_greetings_are_refused(lmtp_server):
    # a client pointed at the wrong port learns so at once (RFC 2033 4.1)
    r = lmtp_server.lmtp_raw()
    assert r.cmd("HELO client.test") == b"500 5.5.1 This is LMTP: say LHLO"
    assert r.cmd("EHLO client.test") == b"500 5.5.1 This is LMTP: say LHLO"
    assert r.cmd("LHLO").startswith(b"501 5.5.4")


@pytest.mark.parametrize("commands,want", [
    (["MAIL FROM:<a@b.test>"], b"503 5.5.1 Say LHLO first"),
    (["LHLO x", "RCPT TO:<jsmith@example.test>"], b"503 5.5.1 MAIL comes first"),
    (["LHLO x", "DATA"], b"503 5.5.1 MAIL comes first"),
    (["LHLO x", "MAIL FROM:<>", "DATA"], b"503 5.5.1 No valid recipients"),
    (["LHLO x", "MAIL FROM:<>", "RCPT TO:<ghost@example.test>", "DATA"],
     b"503 5.5.1 No valid recipients"),
    (["LHLO x", "MAIL FROM:<>", "MAIL FROM:<>"],
     b"503 5.5.1 A sender is given already (RSET to start over)"),
    (["LHLO x", "MAIL FROM:<>", "RCPT TO:<jsmith@example.test>", "RSET",
      "RCPT TO:<jsmith@example.test>"], b"503 5.5.1 MAIL comes first"),
    (["LHLO x", "MAIL FROM:<>", "DATA now"], b"501 5.5.4 DATA takes no arguments"),
])
def test_commands_out_of_order(lmtp_server, commands, want):
    r = lmtp_server.lmtp_raw()
    last = None
    for c in commands:
        r.send(c.encode() + b"\r\n")
        if c.startswith("LHLO"):
            while (last := r.line())[3:4] == b"-":
                pass
        else:
            last = r.line()
    assert last == want
    # nothing was delivered by any of it
    assert lmtp_server.pop().stat() == (0, 0)


@pytest.mark.parametrize("command,want", [
    ("MAIL FROM:a@b.test", b"501 5.5.4 Syntax: MAIL FROM:<address>"),
    ("MAIL TO:<a@b.test>", b"501 5.5.4 Syntax: MAIL FROM:<address>"),
    ("MAIL FROM:<a@b.test", b"501 5.5.4 Syntax: MAIL FROM:<address>"),
    ("MAIL FROM:<a b@c.test>", b"501 5.1.7 Bad sender address: the local part holds characters that need quotes"),
    ("MAIL FROM:<a@b..test>", b"501 5.1.7 Bad sender address: the domain is not valid"),
    ("MAIL FROM:<@>", b"501 5.1.7 Bad sender address: a source route without ':'"),
    ("MAIL FROM:<a@b.test> SIZE=ten", b"501 5.5.4 SIZE needs a number of octets"),
    ("MAIL FROM:<a@b.test> SIZE=-1", b"501 5.5.4 SIZE needs a number of octets"),
    ("MAIL FROM:<a@b.test> SIZE=99999999999999999999999",
     b"501 5.5.4 SIZE needs a number of octets"),
    ("MAIL FROM:<a@b.test> BODY=BINARYMIME", b"501 5.5.4 BODY is 7BIT or 8BITMIME"),
    ("MAIL FROM:<a@b.test> SMTPUTF8", b"555 5.5.4 Parameter SMTPUTF8 is not supported"),
    ("MAIL FROM:<a@b.test> SIZE=52428801",
     b"552 5.3.4 Message size exceeds the limit of 52428800 octets"),
])
def test_bad_mail_commands(lmtp_server, command, want):
    r = lmtp_server.lmtp_raw()
    lhlo(r)
    assert r.cmd(command) == want
    # the session goes on: a good MAIL works after it
    assert r.cmd("MAIL FROM:<a@b.test> SIZE=100 BODY=8BITMIME").startswith(b"250 2.1.0")


@pytest.mark.parametrize("command,want", [
    ("RCPT TO:jsmith@example.test", b"501 5.5.4 Syntax: RCPT TO:<address>"),
    ("RCPT TO:<>", b"501 5.1.3 The null address <> cannot receive mail"),
    ("RCPT TO:<jsmith@example.test> NOTIFY=NEVER",
     b"555 5.5.4 Parameter NOTIFY is not supported"),
    ("RCPT TO:<ghost@example.test>", b"550 5.1.1 <ghost@example.test> no such user: ghost@example.test"),
    ("RCPT TO:<jsmith@nowhere.test>", b"550 5.1.1 <jsmith@nowhere.test> no such domain: nowhere.test"),
    ("RCPT TO:<a..b@example.test>", b"501 5.1.3 Bad recipient address: the local part holds characters that need quotes"),
    ('RCPT TO:<"john doe"@example.test>',
     b'553 5.1.3 <"john doe"@example.test> invalid local part name \'"john doe"\': '
     b"only letters, digits, dots and !#$%&'*+-/=?^_`{|}~ are allowed"),
])
def test_bad_recipients(lmtp_server, command, want):
    r = lmtp_server.lmtp_raw()
    lhlo(r)
    assert r.cmd("MAIL FROM:<bob@example.org>").startswith(b"250")
    assert r.cmd(command) == want
    assert r.cmd("RCPT TO:<jsmith@example.test>") == \
        b"250 2.1.5 Recipient <jsmith@example.test> OK"


def test_recipient_address_forms(lmtp_server):
    # a quoted local part that needs no quotes, a source route, no domain
    # (the main domain), upper case: all the same account
    r = lmtp_server.lmtp_raw()
    lhlo(r)
    r.cmd("MAIL FROM:<@relay.test:bob@example.org>")
    for rcpt, shown in [('"jsmith"@example.test', "jsmith@example.test"),
                        ("@a.test,@b.test:jsmith@example.test", "jsmith@example.test"),
                        ("jsmith", "jsmith"), ("JSmith@Example.TEST", "JSmith@Example.TEST")]:
        assert r.cmd(f"RCPT TO:<{rcpt}>") == b"250 2.1.5 Recipient <%s> OK" % shown.encode()
    assert r.cmd("RCPT TO: <jsmith@example.test>").startswith(b"250"), \
        "a space after the colon is tolerated"
    assert r.cmd("DATA").startswith(b"354")
    r.send(b"Subject: forms\r\n\r\nx\r\n.\r\n")
    assert all(line.startswith(b"250 2.0.0") for line in replies(r, 5))
    # one copy, stamped once: five ways of writing one address are one
    # recipient
    [msg] = retr_all(lmtp_server)
    assert msg.startswith(b"Return-Path: <bob@example.org>\r\n"
                          b"X-Real-To: <jsmith@example.test>\r\n"
                          b"Subject: forms\r\n")


def test_other_commands(lmtp_server):
    r = lmtp_server.lmtp_raw()
    assert r.cmd("NOOP") == b"250 2.0.0 OK"
    assert r.cmd("VRFY jsmith") == b"252 2.5.0 Cannot VRFY, but will take the message"
    assert r.cmd("HELP").startswith(b"214 2.0.0 Commands: LHLO")
    assert r.cmd("RSET") == b"250 2.0.0 OK"
    assert r.cmd("FROB") == b"500 5.5.2 Unknown command"
    assert r.cmd("rset") == b"250 2.0.0 OK", "commands are case-insensitive"
    assert r.cmd(b"NO\x00OP") == b"500 5.5.2 NUL character in command"


def test_overlong_line_is_refused_and_its_tail_never_runs(lmtp_server):
    r = lmtp_server.lmtp_raw()
    lhlo(r)
    # the tail of the long line says QUIT: it must not be read as a command
    r.send(b"NOOP " + b"x" * 1200 + b" QUIT\r\nNOOP\r\n")
    assert r.line() == b"500 5.5.2 Line too long (at most 1000 octets)"
    assert r.line() == b"250 2.0.0 OK"
    # a line of exactly 1000 octets is still a command
    assert r.cmd("NOOP " + "y" * 995) == b"250 2.0.0 OK"


def test_too_many_bad_commands_close_the_session(lmtp_server):
    r = lmtp_server.lmtp_raw()
    for _ in range(19):
        assert r.cmd("BOGUS") == b"500 5.5.2 Unknown command"
    assert r.cmd("BOGUS") == \
        b"421 4.7.0 Unknown command; too many errors, closing connection"
    assert r.closed()
    assert "too many bad commands, disconnecting" in lmtp_server.log()


# -- delivery outcomes ------------------------------------------------------

def test_multi_recipient_data_with_mixed_outcomes(server_factory):
    srv = server_factory(**LMTP)
    for name in ("full", "roomy"):
        srv.add_account(name, PASSWORD)
    srv.ctl("account", "set", "full", "quota=1k")
    data = b"Subject: mixed\r\n\r\n" + (b"z" * 998 + b"\r\n") * 3
    r = srv.lmtp_raw()
    lhlo(r)
    r.send(b"MAIL FROM:<bob@example.org>\r\n"
           b"RCPT TO:<jsmith@example.test>\r\n"
           b"RCPT TO:<ghost@example.test>\r\n"
           b"RCPT TO:<full@example.test>\r\n"
           b"RCPT TO:<roomy@example.test>\r\n"
           b"DATA\r\n")
    assert replies(r, 6) == [
        b"250 2.1.0 Sender <bob@example.org> OK",
        b"250 2.1.5 Recipient <jsmith@example.test> OK",
        b"550 5.1.1 <ghost@example.test> no such user: ghost@example.test",
        # the size is not known yet: "full" still has room for something
        b"250 2.1.5 Recipient <full@example.test> OK",
        b"250 2.1.5 Recipient <roomy@example.test> OK",
        b"354 Start mail input; end with <CRLF>.<CRLF>"]
    r.send(data + b".\r\n")
    # one reply per accepted recipient, in RCPT order (RFC 2033 4.2)
    assert replies(r, 3) == [
        b"250 2.0.0 <jsmith@example.test> delivered",
        b"452 4.2.2 <full@example.test> mailbox of full@example.test is full",
        b"250 2.0.0 <roomy@example.test> delivered"]
    assert retr_all(srv) == [stamped("bob@example.org", [ME], data)]
    assert retr_all(srv, "roomy") == [stamped("bob@example.org", ["roomy@example.test"], data)]
    assert retr_all(srv, "full") == []
    assert "delivered to 2 of 3 recipients: mailbox of full@example.test is full" in srv.log()


def test_quota_announced_by_size_and_the_reject_policy(server_factory):
    srv = server_factory(**LMTP)
    srv.ctl("account", "set", USER, "quota=2k")
    r = srv.lmtp_raw()
    lhlo(r)
    r.cmd("MAIL FROM:<> SIZE=4000")
    assert r.cmd("RCPT TO:<jsmith@example.test>") == \
        b"452 4.2.2 <jsmith@example.test> mailbox of jsmith@example.test is full"
    r.cmd("RSET")
    r.cmd("MAIL FROM:<> SIZE=100")
    assert r.cmd("RCPT TO:<jsmith@example.test>").startswith(b"250")
    # quota_full = reject: the sender bounces instead of retrying
    srv2 = server_factory(quota_full="reject", **LMTP)
    srv2.ctl("account", "set", USER, "quota=2k")
    r = srv2.lmtp_raw()
    lhlo(r)
    r.cmd("MAIL FROM:<> SIZE=4000")
    assert r.cmd("RCPT TO:<jsmith@example.test>") == \
        b"552 5.2.2 <jsmith@example.test> mailbox of jsmith@example.test is full"


def test_message_over_the_size_limit_is_read_and_refused(server_factory):
    srv = server_factory(**LMTP, **{"lmtp.max_message_size": "64k"})
    r = srv.lmtp_raw()
    caps = lhlo(r)
    assert b"SIZE 65536" in caps
    assert r.cmd("MAIL FROM:<> SIZE=70000").startswith(b"552 5.3.4")
    # no SIZE announced: the whole message is read, then refused
    r.send(b"MAIL FROM:<>\r\nRCPT TO:<jsmith@example.test>\r\nDATA\r\n")
    assert [x[:3] for x in replies(r, 3)] == [b"250", b"250", b"354"]
    r.send(b"Subject: big\r\n\r\n" + (b"y" * 98 + b"\r\n") * 1000 + b".\r\n")
    assert r.line() == b"552 5.3.4 <jsmith@example.test> message larger than the limit of 65536 octets"
    # the session is fine afterwards, and nothing was kept
    assert r.cmd("NOOP") == b"250 2.0.0 OK"
    assert srv.pop().stat() == (0, 0)
    assert tmp_files(srv) == []


def test_empty_message_is_refused(lmtp_server):
    r = lmtp_server.lmtp_raw()
    lhlo(r)
    r.send(b"MAIL FROM:<>\r\nRCPT TO:<jsmith@example.test>\r\nDATA\r\n")
    replies(r, 3)
    r.send(b".\r\n")
    assert r.line() == b"554 5.6.0 <jsmith@example.test> empty message"


def test_ten_megabyte_message_byte_for_byte(server_factory):
    srv = server_factory(**LMTP, **{"lmtp.max_message_size": "20M"})
    data = b"Subject: ten megabytes\r\n\r\n" + b"".join(
        (b".dot line %08d " % i if i % 5 == 0 else b"line %08d " % i).ljust(98, b"x") + b"\r\n"
        for i in range(100000))
    assert len(data) > 10_000_000
    client = srv.lmtp(timeout=60)
    assert client.sendmail("big@example.org", [ME], data) == {}
    client.quit()
    p = srv.pop()
    count, size = p.stat()
    want = stamped("big@example.org", [ME], data)
    assert (count, size) == (1, len(want))
    assert b"\r\n".join(p.retr(1)[1]) + b"\r\n" == want
    p.quit()


def test_bare_lf_client_stored_as_crlf(lmtp_server):
    r = lmtp_server.lmtp_raw()
    r.send(b"LHLO lf.test\n")
    while r.line()[3:4] == b"-":
        pass
    r.send(b"MAIL FROM:<lf@example.org>\nRCPT TO:<jsmith@example.test>\nDATA\n")
    assert [x[:3] for x in replies(r, 3)] == [b"250", b"250", b"354"]
    r.send(b"Subject: lf\n\n..stuffed\nplain\n.\n")
    assert r.line() == b"250 2.0.0 <jsmith@example.test> delivered"
    assert retr_all(lmtp_server) == [
        b"Return-Path: <lf@example.org>\r\nX-Real-To: <jsmith@example.test>\r\n"
        b"Subject: lf\r\n\r\n.stuffed\r\nplain\r\n"]


def test_dot_lines_survive_the_round_trip(lmtp_server):
    data = (b"Subject: dots\r\n\r\n.\r\n..\r\n.x\r\n x\r\n. \r\n...\r\n"
            b"last line without a line end")
    r = lmtp_server.lmtp_raw()
    lhlo(r)
    r.send(b"MAIL FROM:<>\r\nRCPT TO:<jsmith@example.test>\r\nDATA\r\n")
    replies(r, 3)
    r.send(dotstuff(data) + b"\r\n.\r\n")
    assert r.line().startswith(b"250 2.0.0")
    assert retr_all(lmtp_server) == [stamped("", [ME], data)]


def test_pipelined_transactions_in_one_write(lmtp_server):
    r = lmtp_server.lmtp_raw()
    lhlo(r)
    r.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<jsmith@example.test>\r\nDATA\r\n")
    assert [x[:3] for x in replies(r, 3)] == [b"250", b"250", b"354"]
    # the message, the next transaction up to DATA, and after its message
    # QUIT: all in one write (RFC 2920)
    r.send(b"Subject: one\r\n\r\n1\r\n.\r\n"
           b"RSET\r\nMAIL FROM:<b@example.org>\r\nRCPT TO:<jsmith>\r\nNOOP\r\nDATA\r\n")
    assert replies(r, 6) == [b"250 2.0.0 <jsmith@example.test> delivered",
                             b"250 2.0.0 OK", b"250 2.1.0 Sender <b@example.org> OK",
                             b"250 2.1.5 Recipient <jsmith> OK", b"250 2.0.0 OK",
                             b"354 Start mail input; end with <CRLF>.<CRLF>"]
    r.send(b"Subject: two\r\n\r\n2\r\n.\r\nQUIT\r\n")
    assert r.line() == b"250 2.0.0 <jsmith> delivered"
    assert r.line().startswith(b"221 2.0.0")
    assert r.closed()
    msgs = retr_all(lmtp_server)
    assert [m.split(b"\r\n")[0] for m in msgs] == [b"Return-Path: <a@example.org>",
                                                   b"Return-Path: <b@example.org>"]
    assert msgs[1].split(b"\r\n")[1] == b"X-Real-To: <jsmith@example.test>"


def test_recipient_limit(server_factory):
    srv = server_factory(**LMTP, **{"lmtp.max_recipients": "100"})
    r = srv.lmtp_raw()
    lhlo(r)
    r.send(b"MAIL FROM:<>\r\n" + b"RCPT TO:<jsmith@example.test>\r\n" * 101)
    out = replies(r, 102)
    assert out[100] == b"250 2.1.5 Recipient <jsmith@example.test> OK"
    assert out[101] == b"452 4.5.3 Too many recipients (at most 100)"


def test_connection_dropped_mid_data_stores_nothing(lmtp_server):
    r = lmtp_server.lmtp_raw()
    lhlo(r)
    r.send(b"MAIL FROM:<>\r\nRCPT TO:<jsmith@example.test>\r\nDATA\r\n")
    replies(r, 3)
    r.send(b"Subject: cut\r\n\r\n" + b"half a message\r\n" * 5000)
    time.sleep(0.2)
    r.close()
    lmtp_server.wait_log("connection lost during DATA after")
    assert "nothing delivered" in lmtp_server.log()
    assert lmtp_server.pop().stat() == (0, 0)
    assert tmp_files(lmtp_server) == []


def test_client_that_ends_after_the_dot_without_quit(lmtp_server):
    # the "." is the end: the message counts even if the client then goes
    s = socket.create_connection(("127.0.0.1", lmtp_server.lmtp_port), timeout=10)
    s.sendall(b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<jsmith@example.test>\r\nDATA\r\n")
    r = RawClient(s)
    while not r.line().startswith(b"354"):
        pass
    s.sendall(b"Subject: x\r\n\r\nbody\r\n.\r\n")
    s.shutdown(socket.SHUT_WR)
    assert r.line() == b"250 2.0.0 <jsmith@example.test> delivered"
    assert r.closed()
    assert lmtp_server.pop().stat()[0] == 1


def test_unix_socket(lmtp_server):
    client = smtplib.LMTP(str(lmtp_server.lmtp_socket))
    refused = client.sendmail("local@example.org", ["jsmith", "ghost"],
                              b"Subject: via the socket\r\n\r\nhi\r\n")
    client.quit()
    assert refused == {"ghost": (550, b"5.1.1 <ghost> no such user: ghost@example.test")}
    assert len(retr_all(lmtp_server)) == 1
    assert re.search(r"LMTP-\d+ \[local\] message 1 from <local@example.org>",
                     lmtp_server.log())
    assert oct(os.stat(lmtp_server.lmtp_socket).st_mode & 0o777) == "0o666"


def test_unix_socket_left_behind_is_replaced_and_files_are_not(tmp_path):
    srv = make_server(tmp_path, **LMTP)
    # a stale socket from a killed server: taken over
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(srv.lmtp_socket))
    stale.close()
    srv.start()
    assert srv.stop() == 0
    assert not srv.lmtp_socket.exists(), "a clean stop removes the socket"
    # a plain file in the way is never removed: posternd refuses to start
    srv.lmtp_socket.write_text("not a socket")
    proc = subprocess.run([str(POSTERND), "-f", "-c", str(srv.conf)],
                          capture_output=True, timeout=20)
    assert proc.returncode != 0
    assert f"cannot listen on {srv.lmtp_socket}: a file that is not a socket is in the way" \
        in proc.stderr.decode() + srv.log()
    assert srv.lmtp_socket.read_text() == "not a socket"


def test_idle_timeout(server_factory):
    srv = server_factory(**LMTP, **{"lmtp.idle_timeout": "1"})
    r = srv.lmtp_raw()
    assert r.line() == b"421 4.4.2 Idle timeout, closing connection"
    assert r.closed()


def test_channel_limit(server_factory):
    srv = server_factory(**LMTP, **{"lmtp.channels": "1"})
    first = srv.lmtp_raw()
    s = socket.create_connection(("127.0.0.1", srv.lmtp_port), timeout=10)
    assert RawClient(s).line() == b"421 4.3.2 Too many connections, try again later"
    assert first.cmd("NOOP") == b"250 2.0.0 OK"


def test_starttls(server_factory, certs):
    srv = server_factory(**LMTP, **certs.settings())
    client = smtplib.LMTP("127.0.0.1", srv.lmtp_port, timeout=10)
    client.ehlo()
    assert client.has_extn("starttls")
    client.starttls(context=certs.context())
    client.ehlo()
    assert not client.has_extn("starttls"), "no second STARTTLS"
    assert client.sendmail("tls@example.org", [ME], b"Subject: tls\r\n\r\nx\r\n") == {}
    client.quit()
    assert len(retr_all(srv)) == 1


def test_starttls_forgets_the_transaction(server_factory, certs):
    srv = server_factory(**LMTP, **certs.settings())
    r = srv.lmtp_raw()
    lhlo(r)
    assert r.cmd("MAIL FROM:<before@tls.test>").startswith(b"250")
    # a command sent in the clear behind STARTTLS is thrown away
    r.send(b"STARTTLS\r\nRCPT TO:<jsmith@example.test>\r\n")
    assert r.line() == b"220 2.0.0 Ready to start TLS"
    tls = certs.context().wrap_socket(r.sock, server_hostname="localhost")
    t = RawClient(tls)
    assert t.cmd("MAIL FROM:<x@y.test>") == b"503 5.5.1 Say LHLO first"
    lhlo(t)
    assert t.cmd("RCPT TO:<jsmith@example.test>") == b"503 5.5.1 MAIL comes first"


# -- kills and durability ---------------------------------------------------

def test_killed_server_mid_data_loses_nothing_acknowledged(server_factory):
    srv = server_factory(**LMTP)
    client = srv.lmtp()
    assert client.sendmail("a@example.org", [ME], b"Subject: acked\r\n\r\nkeep me\r\n") == {}
    r = srv.lmtp_raw()
    lhlo(r)
    r.send(b"MAIL FROM:<>\r\nRCPT TO:<jsmith@example.test>\r\nDATA\r\n")
    replies(r, 3)
    r.send(b"Subject: never acked\r\n\r\n" + b"partial\r\n" * 1000)
    time.sleep(0.2)
    srv.stop(signal.SIGKILL)
    srv.start()
    msgs = retr_all(srv)
    assert len(msgs) == 1 and b"keep me" in msgs[0]
    # the stale temporary file of the killed delivery is not a message
    assert srv.pop().stat()[0] == 1


# -- routing: the Router's rules as an MTA meets them ------------------------

@pytest.fixture
def routed(server_factory):
    """client1.com with the unified account cl1 (SPEC.md 4's example), an
    alias, a domain alias, and jsmith with a mailbox 'lists'."""
    srv = server_factory(**LMTP)
    srv.ctl("domain", "add", "client1.com")
    srv.add_account("cl1@client1.com", "cl1-pass")
    srv.ctl("domain", "set", "client1.com", "unified_account=cl1")
    srv.ctl("domain", "alias", "add", "client1.net", "client1.com")
    srv.ctl("alias", "add", "info@client1.com", "cl1")
    srv.ctl("mailbox", "add", USER, "lists")
    return srv


def lmtp_send(srv, rcpts, subject, sender="bob@example.org"):
    client = srv.lmtp()
    refused = client.sendmail(sender, rcpts, b"Subject: %s\r\n\r\nbody\r\n" % subject.encode())
    client.quit()
    return refused


def subjects(srv, login, password, mailbox=None):
    p = srv.pop(login if mailbox is None else f"{mailbox}#{login}", password)
    count, _ = p.stat()
    out = []
    for n in range(1, count + 1):
        lines = p.top(n, 0)[1]
        out.append([l for l in lines if l.startswith(b"Subject:")][0][9:].decode())
    p.quit()
    return out


def test_communigate_unified_account_example(routed):
    srv = routed
    assert lmtp_send(srv, ["abcdef@client1.com"], "for abcdef") == {}
    assert lmtp_send(srv, ["xyz@client1.com"], "for xyz") == {}
    assert lmtp_send(srv, ["ABCDEF@client1.net"], "for abcdef via the domain alias") == {}
    # each address sees only its own mail, numbered from 1
    assert subjects(srv, "abcdef@client1.com", "cl1-pass") == [
        "for abcdef", "for abcdef via the domain alias"]
    assert subjects(srv, "xyz@client1.com", "cl1-pass") == ["for xyz"]
    # the account itself sees everything
    assert subjects(srv, "cl1@client1.com", "cl1-pass") == [
        "for abcdef", "for xyz", "for abcdef via the domain alias"]
    # DELE in the filtered view removes the right message
    p = srv.pop("abcdef@client1.com", "cl1-pass")
    assert p.stat()[0] == 2
    p.dele(2)
    assert p.quit().startswith(b"+OK")
    assert subjects(srv, "cl1@client1.com", "cl1-pass") == ["for abcdef", "for xyz"]
    assert subjects(srv, "abcdef@client1.com", "cl1-pass") == ["for abcdef"]
    # a view shows only what it has: LIST, UIDL and RETR agree with it
    p = srv.pop("xyz@client1.com", "cl1-pass")
    assert len(p.list()[1]) == 1 and len(p.uidl()[1]) == 1
    with pytest.raises(poplib.error_proto):
        p.retr(2)
    p.quit()


def test_aliases_and_detail_addresses_reach_the_account(routed):
    srv = routed
    assert lmtp_send(srv, ["info@client1.com", "jsmith+news@example.test"], "aliased") == {}
    assert subjects(srv, "cl1@client1.com", "cl1-pass") == ["aliased"]
    # info@ is an alias, not a unified view: it opens all of cl1's INBOX
    assert subjects(srv, "info@client1.com", "cl1-pass") == ["aliased"]
    [msg] = retr_all(srv)
    assert b"X-Real-To: <jsmith+news@example.test>\r\n" in msg


def test_direct_mailbox_addressing_needs_p(routed):
    srv = routed
    # lists does not grant p: the message goes to the INBOX
    assert lmtp_send(srv, ["jsmith#lists@example.test"], "no right") == {}
    srv.ctl("acl", "set", USER, "lists", "anyone", "p")
    assert lmtp_send(srv, ["jsmith#lists@example.test"], "posted") == {}
    # a mailbox that does not exist: the INBOX
    assert lmtp_send(srv, ["jsmith#nothere@example.test"], "no such mailbox") == {}
    assert subjects(srv, USER, PASSWORD) == ["no right", "no such mailbox"]
    assert subjects(srv, USER, PASSWORD, mailbox="lists") == ["posted"]


def test_direct_mailbox_addressing_p_for_the_sender_only(routed):
    srv = routed
    srv.add_account("bob", "bob-pass")
    srv.ctl("acl", "set", USER, "lists", f"bob@{DOMAIN}", "p")
    assert lmtp_send(srv, ["jsmith#lists"], "from bob", sender=f"bob@{DOMAIN}") == {}
    assert lmtp_send(srv, ["jsmith#lists"], "from a stranger") == {}
    assert subjects(srv, USER, PASSWORD, mailbox="lists") == ["from bob"]
    assert subjects(srv, USER, PASSWORD) == ["from a stranger"]


def test_bound_address_gives_bare_names_a_domain(server_factory):
    srv = server_factory(**{"modules": "pop, lmtp", "lmtp.listen": "127.0.0.2:{lmtp_port}"})
    srv.ctl("domain", "add", "client1.com")
    srv.add_account("jsmith@client1.com", "other-pass")
    srv.ctl("domain", "bind", "client1.com", "127.0.0.2")
    client = smtplib.LMTP("127.0.0.2", srv.lmtp_port, timeout=10)
    assert client.sendmail("", ["jsmith"], b"Subject: bound\r\n\r\nx\r\n") == {}
    client.quit()
    assert subjects(srv, "jsmith@client1.com", "other-pass") == ["bound"]
    assert subjects(srv, USER, PASSWORD) == []


# -- real clients -------------------------------------------------------------

def test_swaks_delivers_over_lmtp(lmtp_server, tmp_path):
    swaks = need("swaks")
    res = run([swaks, "--protocol", "LMTP", "--server", f"127.0.0.1:{lmtp_server.lmtp_port}",
               "--from", "swaks@example.org", "--to", f"{ME},ghost@example.test",
               "--header", "Subject: from swaks", "--body", "Sent by swaks.\n.leading dot"],
              tmp_path)
    out = res.stdout.decode()
    # swaks shows each recipient's answer after the message
    assert "<-  250 2.0.0 <jsmith@example.test> delivered" in out, out
    assert "<** 550 5.1.1 <ghost@example.test> no such user" in out, out
    [msg] = retr_all(lmtp_server)
    assert b"Subject: from swaks\r\n" in msg and b"\r\n.leading dot\r\n" in msg
    assert msg.startswith(b"Return-Path: <swaks@example.org>\r\n"
                          b"X-Real-To: <jsmith@example.test>\r\n")


def test_swaks_pipelining_over_the_unix_socket(lmtp_server, tmp_path):
    swaks = need("swaks")
    res = run([swaks, "--protocol", "LMTP", "--socket", str(lmtp_server.lmtp_socket),
               "--pipeline", "--from", "", "--to", ME, "--header", "Subject: piped"],
              tmp_path)
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()
    assert subjects(lmtp_server, USER, PASSWORD) == ["piped"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_concurrent_clients_lose_nothing(server_factory, workers):
    # 16 MTAs at once: each message's files are synced on the delivery
    # threads and committed in groups; every 250 is a stored message, each
    # with its own UIDL, and none is stored twice
    import threading
    srv = server_factory(workers=workers, **LMTP)
    errors, per_client = [], 15

    def client(k):
        try:
            c = srv.lmtp(timeout=30)
            for n in range(per_client):
                c.sendmail("load@example.org", [ME],
                           b"Subject: client %d message %d\r\n\r\nbody\r\n" % (k, n))
            c.quit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    p = srv.pop()
    count, _ = p.stat()
    assert count == 16 * per_client
    uidls = [line.split()[1] for line in p.uidl()[1]]
    assert len(set(uidls)) == count
    subjects = set()
    for n in range(1, count + 1):
        subjects.update(l for l in p.top(n, 0)[1] if l.startswith(b"Subject:"))
    assert len(subjects) == count, "a message stored twice, or one missing"
    p.quit()

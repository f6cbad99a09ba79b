"""The relay module against a real SMTP peer (aiosmtpd on loopback):
STARTTLS and AUTH, retries on the schedule, bounces (RFC 3464) in the
sender's INBOX, expiry, a crash with mail queued, one connection for what
is due, and `posternctl queue flush`.  What is checked is what a user reads
over POP, what an admin reads in `posternctl queue` and the log, and what
the smarthost was sent."""
import re
import signal
import time

import pytest

from conftest import free_port
from smarthost import HOSTNAME, ME, parse, received_field, relay_settings, send, smarthost

assert smarthost  # a fixture

MSG = (b"From: John Smith <jsmith@example.test>\r\n"
       b"To: bob@remote.test\r\n"
       b"Cc: carol@remote.test\r\n"
       b"Subject: relay test\r\n"
       b"Date: Tue, 01 Dec 2026 20:59:00 +0100\r\n"
       b"Message-ID: <relay-1@example.test>\r\n"
       b"\r\n"
       b"Hello.\r\n.\r\n")
RCPTS = ["bob@remote.test", "carol@remote.test"]
AUTH_USER, AUTH_PASS = "relayuser", "relay-Pa55"


def queue_list(srv):
    return srv.ctl("queue", "list").stdout.decode()


def queue_show(srv, qid):
    return srv.ctl("queue", "show", str(qid)).stdout.decode()


def rcpt_lines(srv, qid):
    """{address: (state, the rest of the line after the time)}."""
    out = {}
    for line in queue_show(srv, qid).splitlines():
        if line.startswith("rcpt "):
            _, addr, state, rest = line.split(" ", 3)
            out[addr] = (state, rest.split(" ", 1)[1])
    return out


def submit(srv, data=MSG):
    assert send(srv, data) == b"+OK Message sent"
    return int(re.findall(r"SMTP queue (\d+): submitted by", srv.log())[-1])


def inbox(srv):
    p = srv.pop()
    count, _ = p.stat()
    out = [b"\r\n".join(p.retr(n)[1]) + b"\r\n" for n in range(1, count + 1)]
    p.quit()
    return out


def auth_file(tmp_path, user=AUTH_USER, password=AUTH_PASS):
    path = tmp_path / "relay-auth"
    path.write_text(f"{user} {password}\n")
    return str(path)


def bounce_parts(raw):
    """The bounce read as a mail client would: the header, the text, the
    per-recipient groups of the report, the returned header."""
    assert raw.startswith(b"Return-Path: <>\r\n"), raw[:200]
    msg = parse(raw)
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["From"] == f"Mail Delivery System <MAILER-DAEMON@{HOSTNAME}>"
    assert f"\r\nTo: <{ME}>\r\n".encode() in raw
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    text, report, original = msg.get_payload()
    assert report.get_content_type() == "message/delivery-status"
    groups = report.get_payload()
    assert groups[0]["Reporting-MTA"] == f"dns; {HOSTNAME}"
    assert original.get_content_type() == "text/rfc822-headers"
    return msg, text.get_content(), groups[1:], original.get_payload(decode=True)


# -- TLS and AUTH ----------------------------------------------------------------

@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_verified_and_auth(server_factory, smarthost, certs, tmp_path, mechanism):
    exclude = ["LOGIN"] if mechanism == "PLAIN" else ["PLAIN"]
    sh = smarthost(tls=(certs.cert, certs.key), auth={AUTH_USER: AUTH_PASS},
                   auth_exclude_mechanism=exclude)
    srv = server_factory(**relay_settings(sh, starttls="required", tls_verify="yes",
                                          tls_ca_file=str(certs.ca),
                                          auth_file=auth_file(tmp_path)))
    qid = submit(srv)
    [m] = sh.peer.wait_messages(1)
    assert m.tls and m.login == AUTH_USER.encode()
    assert sh.peer.logins == [(mechanism, True)]
    assert m.mail_from == ME and m.rcpts == RCPTS
    assert received_field(m.data)[1] == MSG
    srv.wait_log(f"SMTP queue {qid}: finished: 2 delivered, 0 failed")
    assert f"TLS established with 127.0.0.1[127.0.0.1]:{sh.port}: TLSv1.3" in srv.log()
    assert AUTH_PASS not in srv.log()
    assert queue_list(srv) == ""


def test_opportunistic_starttls_without_an_offer_sends_in_the_clear(server_factory, smarthost):
    sh = smarthost()
    srv = server_factory(**relay_settings(sh, starttls="opportunistic"))
    submit(srv)
    [m] = sh.peer.wait_messages(1)
    assert not m.tls and m.rcpts == RCPTS


def test_required_starttls_without_an_offer_defers(server_factory, smarthost):
    sh = smarthost()
    srv = server_factory(**relay_settings(sh, starttls="required", retry_schedule="1h"))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: 2 of 2 recipients pending, next attempt in 3600 s")
    why = "the smarthost does not offer STARTTLS (relay.starttls = required)"
    assert rcpt_lines(srv, qid) == {r: ("pending", f"- {why}") for r in RCPTS}
    assert sh.peer.messages == [] and sh.peer.rcpts_tried == []
    assert inbox(srv) == []


@pytest.mark.parametrize("host,mismatch", [("127.0.0.1", "IP address mismatch"),
                                          ("localhost", "hostname mismatch")])
def test_a_certificate_that_does_not_verify_defers(server_factory, smarthost, certs,
                                                   host, mismatch):
    # signed by the test CA, but for another name than the smarthost's
    crt, key = certs.issue("wrong.test", "DNS:wrong.test")
    sh = smarthost(tls=(crt, key))
    srv = server_factory(**relay_settings(sh, smarthost=f"{host}:{sh.port}", starttls="required",
                                          tls_verify="yes", tls_ca_file=str(certs.ca),
                                          retry_schedule="1h"))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: 2 of 2 recipients pending")
    why = (f"TLS handshake with {host}[127.0.0.1]:{sh.port} failed: certificate not "
           f"trusted: {mismatch}")
    assert rcpt_lines(srv, qid) == {r: ("pending", f"- {why}") for r in RCPTS}
    [line] = queue_list(srv).splitlines()[1:]
    assert re.search(r" in (1h|59m) +" + re.escape(why[:57]) + r"\.\.\.$", line), line
    assert sh.peer.messages == []
    assert inbox(srv) == []


def test_a_certificate_from_an_unknown_ca_defers(server_factory, smarthost, certs):
    # the right name, but the relay trusts only the system's CAs
    sh = smarthost(tls=(certs.cert, certs.key))
    srv = server_factory(**relay_settings(sh, starttls="opportunistic", tls_verify="yes",
                                          retry_schedule="1h"))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: 2 of 2 recipients pending")
    state, why = rcpt_lines(srv, qid)["bob@remote.test"]
    assert state == "pending"
    assert why == (f"- TLS handshake with 127.0.0.1[127.0.0.1]:{sh.port} failed: certificate "
                   "not trusted: unable to get local issuer certificate")
    assert sh.peer.messages == []


def test_wrong_credentials_defer_and_never_bounce(server_factory, smarthost, certs, tmp_path):
    sh = smarthost(tls=(certs.cert, certs.key), auth={AUTH_USER: AUTH_PASS})
    path = auth_file(tmp_path, password="wrong-Pa55")
    srv = server_factory(**relay_settings(sh, starttls="required", tls_ca_file=str(certs.ca),
                                          auth_file=path, retry_schedule="1s"))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: attempt 2 ")
    why = "the smarthost refused our credentials: 535 5.7.8 Authentication credentials invalid"
    srv.wait_log(f"SMTP queue {qid}: <carol@remote.test> deferred: 451 4.7.8 {why}")
    assert f"{why} (relay.auth_file {path})" in srv.log()
    assert rcpt_lines(srv, qid) == {r: ("pending", f"- {why}") for r in RCPTS}
    assert "bounce" not in srv.log() and inbox(srv) == []
    assert "wrong-Pa55" not in srv.log()
    # the admin fixes the file: the next connection reads it
    auth_file(tmp_path)
    [m] = sh.peer.wait_messages(1)
    assert m.login == AUTH_USER.encode()
    srv.wait_log(f"SMTP queue {qid}: finished: 2 delivered, 0 failed")
    assert inbox(srv) == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("starttls,delivered", [("off", True), ("opportunistic", False)])
def test_credentials_go_only_over_tls_unless_starttls_is_off(
        server_factory, smarthost, tmp_path, starttls, delivered):
    sh = smarthost(auth={AUTH_USER: AUTH_PASS}, auth_require_tls=False)
    srv = server_factory(**relay_settings(sh, starttls=starttls, auth_file=auth_file(tmp_path),
                                          retry_schedule="1h"))
    qid = submit(srv)
    if delivered:
        [m] = sh.peer.wait_messages(1)
        assert m.login == AUTH_USER.encode() and not m.tls
        return
    srv.wait_log(f"SMTP queue {qid}: 2 of 2 recipients pending")
    assert rcpt_lines(srv, qid)["bob@remote.test"] == \
        ("pending", "- no TLS to send the AUTH credentials over")
    assert sh.peer.messages == []


# -- replies: retried, delivered, bounced ----------------------------------------------

def test_a_4xx_reply_is_retried_and_then_delivered_once(server_factory, smarthost):
    sh = smarthost()
    sh.peer.data_replies = ["451 4.3.0 Try again later", None]
    srv = server_factory(**relay_settings(sh, retry_schedule="1s"))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: <bob@remote.test> deferred: 451 4.3.0 Try again later")
    [m] = sh.peer.wait_messages(1)
    assert m.rcpts == RCPTS and received_field(m.data)[1] == MSG
    srv.wait_log(f"SMTP queue {qid}: finished: 2 delivered, 0 failed")
    log = srv.log()
    assert f"SMTP queue {qid}: attempt 2 from <{ME}>, to the smarthost" in log
    assert f"SMTP queue {qid}: <bob@remote.test> done: 250 2.0.0 Ok: queued as PEER1" in log
    assert f"SMTP queue {qid}: attempt 3" not in log
    # the entry is gone: nothing more can be sent
    assert queue_list(srv) == ""


def test_only_the_deferred_recipient_is_tried_again(server_factory, smarthost):
    sh = smarthost()
    sh.peer.rcpt_replies["carol@remote.test"] = ["450 4.2.1 Mailbox busy", None]
    srv = server_factory(**relay_settings(sh, retry_schedule="1h"))
    qid = submit(srv)
    [first] = sh.peer.wait_messages(1)
    assert first.rcpts == ["bob@remote.test"]
    srv.wait_log(f"SMTP queue {qid}: 1 of 2 recipients pending, next attempt in 3600 s")
    shown = rcpt_lines(srv, qid)
    assert shown["bob@remote.test"] == ("done", "127.0.0.1 250 2.0.0 Ok: queued as PEER1")
    assert shown["carol@remote.test"] == ("pending", "127.0.0.1 450 4.2.1 Mailbox busy")
    assert queue_show(srv, qid).splitlines()[7] == "attempts 1"
    assert srv.ctl("queue", "flush", str(qid)).stdout == \
        f"queue entry {qid} will be retried now\n".encode()
    second = sh.peer.wait_messages(2)[1]
    assert second.rcpts == ["carol@remote.test"]
    assert second.data == first.data
    srv.wait_log(f"SMTP queue {qid}: finished: 2 delivered, 0 failed")
    assert queue_list(srv) == ""


def test_a_5xx_reply_bounces_to_the_sender(server_factory, smarthost):
    sh = smarthost()
    sh.peer.rcpt_replies["carol@remote.test"] = ["550 5.1.1 <carol@remote.test>: no such user"]
    srv = server_factory(**relay_settings(sh))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: bounce sent to <{ME}>")
    srv.wait_log(f"SMTP queue {qid}: finished: 1 delivered, 1 failed")
    assert f"SMTP queue {qid}: <carol@remote.test> failed: 550 5.1.1 <carol@remote.test>: " \
           "no such user" in srv.log()
    [m] = sh.peer.messages
    assert m.rcpts == ["bob@remote.test"]
    [raw] = inbox(srv)
    _, text, [group], original = bounce_parts(raw)
    assert "<carol@remote.test>:\n    host 127.0.0.1 said: 550 5.1.1 <carol@remote.test>: no" \
           " such user" in text.replace("\r\n", "\n")
    assert "bob@remote.test>:" not in text
    assert group["Final-Recipient"] == "rfc822; carol@remote.test"
    assert group["Action"] == "failed"
    assert group["Status"] == "5.1.1"
    assert group["Remote-MTA"] == "dns; 127.0.0.1"
    assert group["Diagnostic-Code"] == "smtp; 550 5.1.1 <carol@remote.test>: no such user"
    # the returned header is the one that was sent, our Received on top
    assert original == m.data.split(b"\r\n\r\n")[0] + b"\r\n"
    assert queue_list(srv) == ""


def test_a_5xx_reply_to_the_data_bounces_every_recipient_in_one(server_factory, smarthost):
    sh = smarthost()
    sh.peer.data_replies = ["554 5.7.1 Message refused as spam"]
    srv = server_factory(**relay_settings(sh))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: finished: 0 delivered, 2 failed")
    [raw] = inbox(srv)
    _, _, groups, original = bounce_parts(raw)
    assert [g["Final-Recipient"] for g in groups] == [f"rfc822; {r}" for r in RCPTS]
    assert {g["Status"] for g in groups} == {"5.7.1"}
    assert {g["Diagnostic-Code"] for g in groups} == {"smtp; 554 5.7.1 Message refused as spam"}
    assert b"Subject: relay test\r\n" in original and b"Hello." not in original


def test_a_message_over_the_smarthost_size_bounces(server_factory, smarthost):
    sh = smarthost(data_size_limit=200)
    srv = server_factory(**relay_settings(sh))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: finished: 0 delivered, 2 failed")
    [raw] = inbox(srv)
    _, _, groups, _ = bounce_parts(raw)
    assert groups[0]["Status"] == "5.3.4"
    assert re.fullmatch(r"X-Postern; the smarthost takes at most 200 octets, the message has \d+",
                        groups[0]["Diagnostic-Code"]), groups[0]["Diagnostic-Code"]
    assert sh.peer.messages == [] and sh.peer.rcpts_tried == []


def test_a_smarthost_down_for_the_whole_queue_time(server_factory):
    port = free_port()              # nobody listens there
    srv = server_factory(**relay_settings(None, smarthost=f"127.0.0.1:{port}",
                                          retry_schedule="1s", max_queue_time="5s"))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: 2 of 2 recipients pending")
    why = f"cannot connect to the smarthost: 127.0.0.1[127.0.0.1]:{port}: Connection refused"
    assert rcpt_lines(srv, qid)["bob@remote.test"] == ("pending", f"- {why}")
    srv.wait_log(f"SMTP queue {qid}: finished: 0 delivered, 2 failed", timeout=15)
    log = srv.log()
    assert re.search(rf"SMTP queue {qid}: attempt [3-9] ", log)
    assert f"SMTP queue {qid}: <bob@remote.test> failed: not delivered for 5 s, giving up; " \
           f"last reply: {why}" in log
    [raw] = inbox(srv)
    _, text, groups, original = bounce_parts(raw)
    assert [g["Status"] for g in groups] == ["4.4.7", "4.4.7"]
    # the last reason as it was; the status says the time ran out
    assert groups[0]["Diagnostic-Code"] == f"X-Postern; {why}"
    assert "Remote-MTA" not in groups[0]
    assert b"Message-ID: <relay-1@example.test>\r\n" in original
    assert queue_list(srv) == ""


# -- the queue across a crash, one connection, flush ------------------------------------

def test_a_crash_with_mail_queued_delivers_exactly_once(server_factory, smarthost):
    sh = smarthost(start=False)     # down
    srv = server_factory(**relay_settings(sh, retry_schedule="1h"))
    first = submit(srv)
    second = submit(srv, MSG.replace(b"relay-1@", b"relay-2@"))
    srv.wait_log(f"SMTP queue {second}: 2 of 2 recipients pending, next attempt in 3600 s")
    assert srv.stop(signal.SIGKILL) == -signal.SIGKILL
    sh.start()
    srv.start()
    srv.wait_log("2 queue entries waiting: trying them now")
    msgs = sh.peer.wait_messages(2)
    assert sorted(re.search(rb"Message-ID: <(relay-\d)@", m.data).group(1) for m in msgs) == \
        [b"relay-1", b"relay-2"]
    for qid in (first, second):
        srv.wait_log(f"SMTP queue {qid}: finished: 2 delivered, 0 failed")
    # both entries are gone, with their files: nothing more can be sent
    assert len(sh.peer.messages) == 2 and queue_list(srv) == ""
    assert [f for f in (srv.root / "data" / "bodies").rglob("*") if f.is_file()] == []


def test_one_connection_for_the_messages_that_are_due(server_factory, smarthost):
    sh = smarthost(start=False)
    srv = server_factory(**relay_settings(sh, retry_schedule="1h"))
    ids = [submit(srv, MSG.replace(b"relay-1@", b"relay-%d@" % n)) for n in range(3)]
    for qid in ids:
        srv.wait_log(f"SMTP queue {qid}: 2 of 2 recipients pending, next attempt in 3600 s")
    sh.start()
    assert srv.ctl("queue", "flush").stdout == b"3 queue entries will be retried now\n"
    assert len(sh.peer.wait_messages(3)) == 3
    for qid in ids:
        srv.wait_log(f"SMTP queue {qid}: finished: 2 delivered, 0 failed")
    assert len(sh.peer.sessions) == 1
    assert {m.session for m in sh.peer.messages} == {sh.peer.sessions[0]}


def test_the_schedule_and_a_flush_before_it(server_factory, smarthost):
    sh = smarthost()
    sh.peer.data_replies = ["421 4.3.2 Shutting down", "421 4.3.2 Shutting down", None]
    # the first retry after 1 s, then the last entry, repeating
    srv = server_factory(**relay_settings(sh, retry_schedule="1s, 1h"))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: 2 of 2 recipients pending, next attempt in 1 s")
    srv.wait_log(f"SMTP queue {qid}: 2 of 2 recipients pending, next attempt in 3600 s")
    assert queue_show(srv, qid).splitlines()[7] == "attempts 2"
    shown = queue_show(srv, qid)
    assert re.search(r"^next_attempt \S+ \(in (1h|59m)\)$", shown, re.M), shown
    assert rcpt_lines(srv, qid)["carol@remote.test"] == \
        ("pending", "127.0.0.1 421 4.3.2 Shutting down")
    [line] = queue_list(srv).splitlines()[1:]
    assert re.fullmatch(rf"{qid} +\d+s +\d+ {ME} +2/2 +in (1h|59m) +421 4.3.2 Shutting down", line), line
    srv.ctl("queue", "flush", str(qid))
    [m] = sh.peer.wait_messages(1, timeout=3)
    srv.wait_log(f"SMTP queue {qid}: finished: 2 delivered, 0 failed")
    assert queue_list(srv) == ""


def test_a_deleted_entry_is_neither_sent_nor_bounced(server_factory, smarthost):
    sh = smarthost(start=False)
    srv = server_factory(**relay_settings(sh, retry_schedule="1s"))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: 2 of 2 recipients pending")
    assert srv.ctl("queue", "del", str(qid)).stdout == \
        f"queue entry {qid} removed: 2 recipients not delivered\n".encode()
    sh.start()
    time.sleep(1.1)                 # the relay's next look at the queue
    assert sh.peer.sessions == [] and inbox(srv) == []
    assert queue_list(srv) == "" and "bounce" not in srv.log()


# -- local and remote recipients in one message -------------------------------------

def test_local_recipients_are_delivered_once_while_the_remote_one_is_retried(
        server_factory, smarthost):
    sh = smarthost()
    sh.peer.data_replies = ["451 4.3.0 Try again later", None]
    srv = server_factory(**relay_settings(sh, retry_schedule="1s"))
    srv.add_account("other", "other-pass")
    qid = submit(srv, MSG.replace(b"Cc: carol@remote.test", b"Cc: other@example.test"))
    srv.wait_log(f"SMTP queue {qid}: <bob@remote.test> deferred: 451 4.3.0 Try again later")
    assert f"SMTP queue {qid}: <other@example.test> done: 250 2.0.0 " in srv.log()
    [m] = sh.peer.wait_messages(1)
    assert m.rcpts == ["bob@remote.test"]
    srv.wait_log(f"SMTP queue {qid}: finished: 2 delivered, 0 failed")
    p = srv.pop("other", "other-pass")
    assert p.stat()[0] == 1
    p.quit()


def test_a_5xx_bounces_at_once_and_an_expiry_later_bounces_the_rest(server_factory, smarthost):
    sh = smarthost()
    sh.peer.rcpt_replies["bob@remote.test"] = ["550 5.1.1 no such user"]
    sh.peer.rcpt_replies["carol@remote.test"] = ["452 4.2.2 Mailbox full"]
    srv = server_factory(**relay_settings(sh, retry_schedule="1s", max_queue_time="3s"))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: bounce sent to <{ME}>")
    first = inbox(srv)
    srv.wait_log(f"SMTP queue {qid}: finished: 0 delivered, 2 failed")
    bounces = inbox(srv)
    assert len(first) == 1 and len(bounces) == 2 and bounces[0] == first[0]
    _, _, groups1, _ = bounce_parts(bounces[0])
    _, text2, groups2, _ = bounce_parts(bounces[1])
    assert [(g["Final-Recipient"], g["Status"]) for g in groups1] == \
        [("rfc822; bob@remote.test", "5.1.1")]
    assert [(g["Final-Recipient"], g["Status"]) for g in groups2] == \
        [("rfc822; carol@remote.test", "4.4.7")]
    assert groups2[0]["Remote-MTA"] == "dns; 127.0.0.1"
    # the last reply as the smarthost gave it; the status says the time ran out
    assert groups2[0]["Diagnostic-Code"] == "smtp; 452 4.2.2 Mailbox full"
    assert "Not delivered before the maximum time in the queue ran out; the last\n" \
           "    attempt: host 127.0.0.1 said: 452 4.2.2 Mailbox full" in text2.replace("\r\n", "\n")
    assert f"SMTP queue {qid}: <carol@remote.test> failed: not delivered for 3 s, giving up; " \
           "last reply: 452 4.2.2 Mailbox full" in srv.log()
    assert sh.peer.messages == []


# -- the SMTP dialogue ---------------------------------------------------------------

def test_a_slow_reply_after_the_data_is_waited_for(server_factory, smarthost):
    """relay.command_timeout, not connect_timeout, bounds the wait for a
    reply (RFC 5321 4.5.3.2: 10 minutes after the data): a smarthost that
    scans the message for 2 s must not see the connection dropped and the
    message sent again."""
    sh = smarthost()
    sh.peer.data_delay = 2.0
    srv = server_factory(**relay_settings(sh, connect_timeout="1s", command_timeout="30s",
                                          retry_schedule="1s"))
    qid = submit(srv)
    [m] = sh.peer.wait_messages(1)
    srv.wait_log(f"SMTP queue {qid}: finished: 2 delivered, 0 failed")
    assert "deferred" not in srv.log() and "idle timeout" not in srv.log()
    assert len(sh.peer.sessions) == 1


def test_8bit_content_is_declared(server_factory, smarthost):
    """RFC 6152: 8-bit data goes only to a server that offers 8BITMIME, and
    with BODY=8BITMIME on MAIL."""
    sh = smarthost()
    srv = server_factory(**relay_settings(sh))
    data = MSG.replace(b"Hello.", "Grüße aus Köln.".encode())
    submit(srv, data)
    [m] = sh.peer.wait_messages(1)
    assert received_field(m.data)[1] == data
    assert "BODY=8BITMIME" in m.mail_options, m.mail_options


def test_a_utf8_address_is_never_sent_undeclared(server_factory, smarthost):
    """RFC 6531 3.4: a UTF-8 local part goes only with SMTPUTF8 on MAIL
    (the smarthost offers it).  Refusing it at XTND XMIT would do too;
    sending RCPT TO:<jörg@...> undeclared is what a strict smarthost
    rejects, and the user gets a bounce for a mail the server took."""
    sh = smarthost()
    srv = server_factory(**relay_settings(sh))
    reply = send(srv, "To: jörg@remote.test\r\nSubject: x\r\n\r\nx\r\n".encode())
    if reply.startswith(b"-ERR "):
        return
    assert reply == b"+OK Message sent"
    [m] = sh.peer.wait_messages(1)
    assert m.rcpts == ["jörg@remote.test"]
    assert "SMTPUTF8" in m.mail_options, m.mail_options


def test_a_utf8_address_bounces_where_the_smarthost_cannot_take_it(server_factory, smarthost):
    # no SMTPUTF8 offered: the UTF-8 recipient fails at once (5.6.7) and
    # bounces; the ASCII one in the same message is sent
    sh = smarthost(enable_SMTPUTF8=False)
    srv = server_factory(**relay_settings(sh))
    reply = send(srv, "To: jörg@remote.test, bob@remote.test\r\nSubject: x\r\n\r\nx\r\n".encode())
    assert reply == b"+OK Message sent"
    [m] = sh.peer.wait_messages(1)
    assert m.rcpts == ["bob@remote.test"]
    assert "SMTPUTF8" not in m.mail_options
    srv.wait_log("bounce sent to <jsmith@example.test>")
    [raw] = inbox(srv)
    _, text, [group], _ = bounce_parts(raw)
    assert group["Status"] == "5.6.7"
    assert "the address is not ASCII and the smarthost does not offer SMTPUTF8" in \
        text.replace("\r\n ", " ").replace("\r\n", " ")


def test_a_smarthost_that_wants_auth_we_lack_defers(server_factory, smarthost, certs):
    # no relay.auth_file but the smarthost requires AUTH: 530 to MAIL is
    # the admin's to fix - the mail waits, the user gets no bounce
    sh = smarthost(tls=(certs.cert, certs.key), auth={AUTH_USER: AUTH_PASS})
    srv = server_factory(**relay_settings(sh, starttls="required", tls_ca_file=str(certs.ca),
                                          retry_schedule="1s"))
    qid = submit(srv)
    srv.wait_log(f"SMTP queue {qid}: attempt 2 ")
    assert "the smarthost requires AUTH: set relay.auth_file" in srv.log()
    assert all(state == "pending" for state, _ in rcpt_lines(srv, qid).values())
    assert "bounce" not in srv.log() and inbox(srv) == []

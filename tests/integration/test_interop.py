"""Interoperability: real POP3 clients (curl, fetchmail, mpop) against
posternd, end to end, compared byte for byte with what was delivered.

What the server does to a message, and therefore what every comparison
starts from (see stored()): posternctl deliver stores line ends as CRLF
(LF alone becomes CRLF, a CR not followed by LF is kept as content) and
ends a message that lacks a final line end with CRLF.  On the wire,
RETR/TOP dot-stuff lines that start with "." and end with ".\\r\\n".

What each client does on top of that, pinned down by the tests below:

  curl      prints the message exactly as stored (it undoes the
            dot-stuffing and drops the terminator, nothing else).
  fetchmail prepends a three-line "Received:" header; with its default
            "stripcr" for an MDA it removes every CR (also a CR inside a
            line); with "no stripcr" the rest is the stored bytes exactly.
  mpop      prepends a three-line "Received:" header (received_header on,
            the default) and turns every CRLF into LF; a CR inside a line
            is kept.
"""
import re

import pytest

from conftest import PASSWORD, USER, message
from clients import need, run
from messages import big_message, dotstuff, stored

INLINE_FILE_MAX = 64 * 1024     # above this the server streams from the file


# ---- what the server stores and sends --------------------------------------


MIXED = [
    message(1, 3),
    # dot lines, including a line that is exactly "." and a last line "."
    b"From: dots@example.org\r\nSubject: dot lines\r\n\r\n"
    b".leading dot\r\n..two dots\r\n.\r\n..\r\n. space\r\nmiddle\r\n.\r\n",
    b"From: a@example.org\r\nSubject: no final newline\r\n\r\n"
    b"first line\r\nlast line without a line end",
    # 8-bit octets, and a CR that does not end a line
    b"From: b@example.org\r\nSubject: 8bit\r\n\r\n"
    b"caf\xc3\xa9 \xe9\xff\x80\xfe\x7f\r\nbare\rCR inside a line\r\n",
    b"From: c@example.org\nSubject: LF only\n\nline one\n.\nlast\n",
    big_message(b"big-plain", 300_000, dots=False),
    big_message(b"big-dots", 300_000, dots=True),
]


def test_fixture_messages_are_what_they_claim():
    # If this fails, the other tests prove less than they say: the big
    # messages would not take the server's file-streaming path.
    big_plain, big_dots = stored(MIXED[5]), stored(MIXED[6])
    assert len(big_plain) > INLINE_FILE_MAX and len(big_dots) > INLINE_FILE_MAX
    assert not re.search(rb"(?m)^\.", big_plain)
    assert big_dots[32768:32769] == b"." and big_dots[65536:65537] == b"."
    assert b"\r\n.\r\n" in stored(MIXED[1]) and b"\r\n.\r\n" in stored(MIXED[4])
    assert stored(MIXED[2]).endswith(b"without a line end\r\n")


# ---- helpers ----------------------------------------------------------------


def deliver_all(server, msgs):
    return [server.deliver(m) for m in msgs]


def pop_state(server):
    """(STAT, UIDL lines, [message bytes]) as poplib sees the mailbox."""
    p = server.pop()
    try:
        count, size = p.stat()
        uidls = p.uidl()[1]
        bodies = []
        for i in range(count):
            resp, lines, _ = p.retr(i + 1)
            bodies.append(b"".join(line + b"\r\n" for line in lines))
        return (count, size), uidls, bodies
    finally:
        p.quit()


def raw_retr(server, n, size):
    """The exact octets of a RETR reply, status line to terminator."""
    c = server.raw(timeout=20)
    try:
        c.login()
        c.send(b"RETR %d\r\n" % n)
        data = c.buf
        c.buf = b""
        want = len(b"+OK %d octets\r\n" % size) + 2 * size + 3
        while not data.endswith(b"\r\n.\r\n") or len(data) < size:
            chunk = c.sock.recv(1 << 20)
            if not chunk:
                break
            data += chunk
            assert len(data) <= want, "more data than a dot-stuffed message"
        c.cmd("QUIT")
        return data
    finally:
        c.close()


def curl(server, tmp_path, path="", *args, password=PASSWORD):
    cmd = [need("curl"), "-q", "-sS", "--max-time", "25", *args,
           f"pop3://127.0.0.1:{server.port}/{path}", "-u", f"{USER}:{password}"]
    return run(cmd, tmp_path)


# ---- curl ---------------------------------------------------------------------

def test_curl_list_matches_delivered(server, tmp_path):
    # Fails if `curl pop3://host/` shows a listing with wrong numbers or
    # sizes: a user's client would see phantom, missing or mis-sized mail.
    deliver_all(server, MIXED)
    res = curl(server, tmp_path)
    assert res.returncode == 0, res.stderr
    expected = b"".join(b"%d %d\r\n" % (i + 1, len(stored(m)))
                        for i, m in enumerate(MIXED))
    assert res.stdout == expected


def test_curl_retr_exact_bytes(server, tmp_path):
    # Fails if `curl pop3://host/N` prints anything but the stored message:
    # a user would see damaged mail (lost or doubled dots, a cut message,
    # the terminator in the mail, changed 8-bit octets).
    deliver_all(server, MIXED)
    for i, msg in enumerate(MIXED, 1):
        res = curl(server, tmp_path, str(i))
        assert res.returncode == 0, (i, res.stderr)
        assert res.stdout == stored(msg), f"message {i} differs"


def test_curl_dele_removes_message(server, tmp_path):
    # Fails if curl's documented delete (`-X DELE -I pop3://host/1`) does
    # not remove exactly message 1 when curl ends its session with QUIT:
    # the user's mail would come back, or the wrong one would be gone.
    msgs = [message(n, 2) for n in range(1, 4)]
    deliver_all(server, msgs)
    (_, _), uidls_before, _ = pop_state(server)
    res = curl(server, tmp_path, "1", "-X", "DELE", "-I")
    assert res.returncode == 0, res.stderr
    stat, uidls, bodies = pop_state(server)
    assert stat == (2, len(stored(msgs[1])) + len(stored(msgs[2])))
    assert [u.split()[1] for u in uidls] == [u.split()[1] for u in uidls_before[1:]]
    assert bodies == [stored(msgs[1]), stored(msgs[2])]
    assert "QUIT: removed 1 of 1 marked messages" in server.log()


def test_curl_uidl_matches_poplib(server, tmp_path):
    # Fails if `curl -X UIDL` and poplib see different unique ids, or the
    # listing is malformed: clients that keep mail on the server would
    # fetch messages twice or never.
    deliver_all(server, [message(n, 1) for n in range(1, 6)])
    res = curl(server, tmp_path, "", "-X", "UIDL")
    assert res.returncode == 0, res.stderr
    _, uidls, _ = pop_state(server)
    assert len(uidls) == 5
    assert res.stdout == b"".join(u + b"\r\n" for u in uidls)
    ids = [u.split()[1] for u in uidls]
    assert len(set(ids)) == 5
    assert all(re.fullmatch(rb"[\x21-\x7e]{1,70}", i) for i in ids)


def test_curl_wrong_password_is_login_denied(server, tmp_path):
    # Fails if a wrong password is not reported as "login denied" (curl exit
    # 67) or is not logged: the user would get a misleading error and the
    # admin no trace of the failed login.
    server.deliver(message(1))
    res = curl(server, tmp_path, password="not-the-password")
    assert res.returncode == 67, (res.returncode, res.stderr)
    assert res.stdout == b""
    server.wait_log("authentication failed")
    assert "logged in" not in server.log()


# ---- fetchmail --------------------------------------------------------------

def fetchmail_received(eol: bytes) -> bytes:
    """The header fetchmail prepends, with its line end."""
    return (rb"\AReceived: from 127\.0\.0\.1 \[127\.0\.0\.1\]" + eol +
            rb"\tby [^\s]+ with POP3 \(fetchmail-[0-9][^)\s]*\)" + eol +
            rb"\tfor <[^>\s]+> \(single-drop\); [^\r\n]+" + eol)


def setup_fetchmail(server, tmp_path, options):
    out = tmp_path / "fetched"
    out.mkdir()
    mda = tmp_path / "mda.sh"
    # one file per message, numbered in delivery order
    mda.write_text("#!/bin/sh\n"
                   f"n=$(ls '{out}' | wc -l)\n"
                   f"exec cat > '{out}'/$(printf %04d \"$n\")\n")
    mda.chmod(0o755)
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        f"poll 127.0.0.1 protocol POP3 port {server.port} uidl auth password\n"
        f'  user "{USER}" with password "{PASSWORD}"\n'
        f"  options {options} sslproto '' mda \"{mda}\"\n")
    rc.chmod(0o600)
    cmd = [need("fetchmail"), "-v", "--nosyslog", "-f", str(rc),
           "--pidfile", str(tmp_path / "fetchmail.pid"),
           "--idfile", str(tmp_path / "fetchmail.ids"), "--norewrite"]
    return cmd, out


def fetched(out):
    return [f.read_bytes() for f in sorted(out.iterdir())]


def strip_header(data, pattern, i):
    m = re.match(pattern, data)
    assert m, f"message {i}: no client Received header at the top: {data[:300]!r}"
    return data[m.end():]


def test_fetchmail_keep_then_nothing_new(server, tmp_path):
    # Fails if fetchmail (keep, uidl, default stripcr, which fetches with
    # TOP n 99999999) hands its MDA anything but the delivered messages, if
    # the mail is not left on the server, or if a second run fetches the
    # same mail again: users would see damaged or duplicated mail.
    deliver_all(server, MIXED)
    cmd, out = setup_fetchmail(server, tmp_path, "keep")
    res = run(cmd, tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    assert b"POP3> TOP 1 " in res.stdout        # this run takes the TOP path
    got = fetched(out)
    assert len(got) == len(MIXED)
    for i, (data, msg) in enumerate(zip(got, MIXED), 1):
        body = strip_header(data, fetchmail_received(b"\n"), i)
        # stripcr: every CR goes, also the one inside a line
        assert body == stored(msg).replace(b"\r", b""), f"message {i} differs"
    stat, _, bodies = pop_state(server)
    assert stat == (len(MIXED), sum(len(stored(m)) for m in MIXED))
    assert bodies == [stored(m) for m in MIXED]

    # second run: every UIDL is in the idfile, nothing is fetched (exit 1)
    res = run(cmd, tmp_path)
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr
    assert len(fetched(out)) == len(MIXED)


def test_fetchmail_retr_delete_exact_bytes(server, tmp_path):
    # Fails if fetchmail (fetchall: RETR, no stripcr, delete after fetch)
    # does not get every message byte for byte, or the server keeps mail
    # fetchmail deleted: users would get damaged mail or get it again.
    deliver_all(server, MIXED)
    cmd, out = setup_fetchmail(server, tmp_path, "fetchall no stripcr")
    res = run(cmd, tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    assert b"POP3> RETR 1\n" in res.stdout      # this run takes the RETR path
    got = fetched(out)
    assert len(got) == len(MIXED)
    for i, (data, msg) in enumerate(zip(got, MIXED), 1):
        body = strip_header(data, fetchmail_received(b"\r\n"), i)
        assert body == stored(msg), f"message {i} differs"
    stat, uidls, _ = pop_state(server)
    assert stat == (0, 0) and uidls == []
    assert f"QUIT: removed {len(MIXED)} of {len(MIXED)} marked messages" in server.log()


# ---- mpop -----------------------------------------------------------------

MPOP_RECEIVED = (rb"\AReceived: from 127\.0\.0\.1 \([^)\n]*\)\n"
                 rb"\tby [^\s]+ \(mpop-[0-9][^)\s]*\) with POP3\n"
                 rb"\tfor <[^>\s]+>; [^\n]+\n")


def setup_mpop(server, tmp_path, keep, received_header=True):
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    conf = tmp_path / "mpoprc"
    conf.write_text(
        "defaults\n"
        "account test\n"
        "host 127.0.0.1\n"
        f"port {server.port}\n"
        "tls off\n"
        "auth user\n"
        f"user {USER}\n"
        f"password {PASSWORD}\n"
        # a stalled session fails in 10 s, not in mpop's default 180 s
        "timeout 10\n"
        f"delivery maildir {maildir}\n"
        f"keep {'on' if keep else 'off'}\n"
        f"received_header {'on' if received_header else 'off'}\n"
        f"uidls_file {tmp_path / 'mpop.uidls'}\n")
    conf.chmod(0o600)
    return [need("mpop"), "-C", str(conf), "-a", "-d"], maildir


def maildir_messages(maildir):
    assert list((maildir / "tmp").iterdir()) == []
    # mpop names files ...Q<sequence>.host: order them by that sequence
    files = sorted((maildir / "new").iterdir(),
                   key=lambda f: int(re.search(r"Q(\d+)", f.name).group(1)))
    return [f.read_bytes() for f in files]


def mpop_failure(res, server):
    tail = res.stdout[-1500:].decode(errors="replace")
    return (f"mpop exit {res.returncode}\n--- mpop (tail):\n{tail}\n"
            f"{res.stderr.decode(errors='replace')}\n--- server log:\n{server.log()}")


def test_mpop_maildir_keep_exact(server, tmp_path):
    # Fails if mpop (which pipelines its RETRs) does not get every message
    # byte for byte into the maildir, leaves the server mailbox changed with
    # keep on, or fetches again on a second run; with the server stalling on
    # pipelined commands, users would see mpop hang and time out.
    deliver_all(server, MIXED)
    cmd, maildir = setup_mpop(server, tmp_path, keep=True)
    res = run(cmd, tmp_path)
    assert res.returncode == 0, mpop_failure(res, server)
    got = maildir_messages(maildir)
    assert len(got) == len(MIXED)
    for i, (data, msg) in enumerate(zip(got, MIXED), 1):
        body = strip_header(data, MPOP_RECEIVED, i)
        # CRLF becomes LF; a CR inside a line stays
        assert body == stored(msg).replace(b"\r\n", b"\n"), f"message {i} differs"
    stat, _, bodies = pop_state(server)
    assert stat == (len(MIXED), sum(len(stored(m)) for m in MIXED))
    assert bodies == [stored(m) for m in MIXED]

    res = run(cmd, tmp_path)
    assert res.returncode == 0, mpop_failure(res, server)
    assert b"--> RETR" not in res.stdout
    assert len(maildir_messages(maildir)) == len(MIXED)


@pytest.mark.parametrize("body_lines", [2, 80], ids=["tiny", "2k"])
def test_mpop_pipelined_200_messages(server, tmp_path, body_lines):
    # Fails if mpop, pipelining RETR and DELE for 200 messages in one
    # session, does not get each message exactly once and intact, or the
    # mailbox is not empty afterwards.  "tiny" replies all fit under the
    # server's 64 KiB output high-water mark; "2k" (200 x ~2.3 KB, still
    # small mail) crosses it, so commands wait in the input buffer while
    # output drains.  A user would see mpop hang and time out.
    msgs = [message(n, body_lines, extra_headers=b"X-Seq: %d\r\n" % n)
            for n in range(200)]
    deliver_all(server, msgs)
    cmd, maildir = setup_mpop(server, tmp_path, keep=False, received_header=False)
    res = run(cmd, tmp_path)
    assert res.returncode == 0, mpop_failure(res, server)

    # mpop really pipelined: several RETRs went out before the first reply
    # (mpop -d prints the dialogue one line each, with CRLF)
    talk = [line.rstrip(b"\r") for line in res.stdout.split(b"\n")
            if line.startswith((b"--> ", b"<-- "))]
    first = talk.index(b"--> RETR 1")
    assert talk[first + 1].startswith(b"--> RETR"), talk[first:first + 3]

    got = maildir_messages(maildir)
    seqs = sorted(int(re.search(rb"\nX-Seq: (\d+)\n", g).group(1)) for g in got)
    assert seqs == list(range(200))          # each message exactly once
    assert sorted(got) == sorted(stored(m).replace(b"\r\n", b"\n") for m in msgs)
    stat, _, _ = pop_state(server)
    assert stat == (0, 0)
    assert "QUIT: removed 200 of 200 marked messages" in server.log()


# ---- big messages -------------------------------------------------------------

@pytest.mark.parametrize("dots", [True, False], ids=["dot-lines", "plain"])
def test_big_5mb_message_curl_and_poplib(server, tmp_path, dots):
    # Fails if a 5 MB message is cut, padded, mis-stuffed or slow to come
    # through curl or poplib, or the wire bytes are not exactly the
    # dot-stuffed stored message: a user's big attachment would be damaged.
    msg = big_message(b"five-mb", 5 * 1024 * 1024, dots=dots)
    server.deliver(message(1))
    server.deliver(msg)
    want = stored(msg)
    assert len(want) > 5_000_000

    res = curl(server, tmp_path, "2")
    assert res.returncode == 0, res.stderr
    assert len(res.stdout) == len(want)
    assert res.stdout == want

    p = server.pop()
    try:
        resp, lines, _ = p.retr(2)
        assert resp == b"+OK %d octets" % len(want)
        assert b"".join(line + b"\r\n" for line in lines) == want
    finally:
        p.quit()

    wire = raw_retr(server, 2, len(want))
    assert wire == b"+OK %d octets\r\n" % len(want) + dotstuff(want) + b".\r\n"
    assert (wire.count(b"\r\n..") > 0) == dots

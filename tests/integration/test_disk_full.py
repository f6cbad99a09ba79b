"""A full disk: delivery fails with a temporary error and loses nothing
already stored; POP keeps serving what is there; freeing space (DELE+QUIT)
makes delivery work again.  Needs root to mount a small tmpfs."""
import os
import smtplib
import subprocess

import pytest

from conftest import LMTP, USER, make_server


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


def test_full_disk_loses_nothing(tmp_path, small_disk):
    root = tmp_path / "srv"
    root.mkdir()
    srv = make_server(root, data_dir=str(small_disk / "data"))
    srv.start()
    try:
        body = b"Subject: filler\r\n\r\n" + (b"z" * 78 + b"\r\n") * 2600  # ~200 KB
        stored = 0
        failure = None
        for _ in range(40):
            res = srv.ctl("deliver", USER, input=body, check=False)
            if res.returncode != 0:
                failure = res
                break
            stored += 1
        assert failure is not None, "the 3 MB disk never filled"
        # what a mail system sees: a temporary failure, try again later
        assert failure.returncode == 75, failure.stderr
        err = failure.stderr.decode()
        assert "jsmith not delivered, try again" in err and "disk full" in err, err
        # nothing half-written is left in tmp/
        assert os.listdir(small_disk / "data" / "tmp") == []
        # everything stored before is intact and served
        p = srv.pop()
        count, size = p.stat()
        # each copy carries the delivery's own header lines
        stamped = (b"Return-Path: <>\r\nX-Real-To: <jsmith@example.test>\r\n"
                   + body)
        assert count == stored and size == stored * len(stamped)
        _, lines, _ = p.retr(stored)
        assert b"\r\n".join(lines) + b"\r\n" == stamped
        for n in range(1, 6):
            p.dele(n)
        assert p.quit().startswith(b"+OK Bye, 5 messages removed")
        # space is back: delivery works again
        srv.ctl("deliver", USER, input=body)
        p = srv.pop()
        assert p.stat()[0] == stored - 5 + 1
        p.quit()
    finally:
        assert srv.stop() == 0


def test_full_disk_over_lmtp_is_a_temporary_failure(tmp_path, small_disk):
    # an MTA delivering over LMTP sees 451 4.3.0 (it queues and retries),
    # never 250 for a message that is not on disk
    root = tmp_path / "srv"
    root.mkdir()
    srv = make_server(root, data_dir=str(small_disk / "data"), **LMTP)
    srv.start()
    try:
        body = b"Subject: filler\r\n\r\n" + (b"z" * 78 + b"\r\n") * 2600
        acked, reply = 0, None
        client = srv.lmtp()
        for _ in range(40):
            try:
                client.sendmail("mta@example.org", [f"{USER}@example.test"], body)
                acked += 1
            except smtplib.SMTPDataError as e:
                reply = (e.smtp_code, e.smtp_error)
                break
        assert reply is not None, "the 3 MB disk never filled"
        assert reply == (451, b"4.3.0 <jsmith@example.test> Temporary failure, try again later")
        assert "disk full" in srv.log() or "No space left on device" in srv.log()
        assert os.listdir(small_disk / "data" / "tmp") == []
        # the session is still usable, and every acknowledged message is there
        assert client.noop()[0] == 250
        client.quit()
        p = srv.pop()
        assert p.stat()[0] == acked
        p.quit()
    finally:
        assert srv.stop() == 0

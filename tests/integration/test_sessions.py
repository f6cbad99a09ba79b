"""Sessions share mailboxes without locks: snapshots at login, deletion at
QUIT only, nothing lost, nothing removed twice (SPEC.md section 3)."""
import poplib
import random
import threading

import pytest

from conftest import USER, message
from random_sessions import random_commands


def uidls(p):
    return [line.split()[1] for line in p.uidl()[1]]


def listing(server):
    out = server.ctl("message", "list", USER).stdout.decode().splitlines()[1:]
    return {int(f[0]): (f[2], f[3]) for f in (line.split() for line in out)}


def test_snapshot_does_not_see_later_mail(server):
    server.deliver(message(1))
    p = server.pop()
    server.deliver(message(2))
    assert p.stat()[0] == 1  # numbers never change during a session
    with pytest.raises(poplib.error_proto, match="No such message"):
        p.retr(2)
    p.quit()
    p = server.pop()
    assert p.stat()[0] == 2  # seen at the next login
    p.quit()


def test_two_sessions_at_once_no_in_use(server):
    server.deliver(message(1))
    a = server.pop()
    b = server.pop()  # no [IN-USE]: both open the same INBOX
    assert a.stat() == b.stat()
    a.quit()
    b.quit()


def test_message_removed_by_another_session(server):
    for i in range(3):
        server.deliver(message(i))
    a = server.pop()
    b = server.pop()
    b.dele(2)
    b.quit()
    # a still numbers 3 messages; message 2 is gone underneath it
    assert a.stat()[0] == 3
    for cmd in (lambda: a.retr(2), lambda: a.top(2, 0)):
        with pytest.raises(poplib.error_proto,
                           match=r"\[SYS/TEMP\] Message no longer available"):
            cmd()
    a.retr(1)
    a.dele(2)  # QUIT skips it silently
    assert a.quit().startswith(b"+OK")
    assert "QUIT: removed 0 of 1 marked messages" in server.log()
    p = server.pop()
    assert p.stat()[0] == 2
    p.quit()


def test_same_message_deleted_by_two_sessions_is_removed_once(server):
    for i in range(2):
        server.deliver(message(i))
    a, b = server.pop(), server.pop()
    a.dele(1)
    b.dele(1)
    assert a.quit().startswith(b"+OK")
    assert b.quit().startswith(b"+OK")
    log = server.log()
    assert log.count("removed 1 of 1 marked") == 1
    assert log.count("removed 0 of 1 marked") == 1
    p = server.pop()
    assert p.stat() == (1, len(message(1)))
    p.quit()


def test_retr_marks_seen_for_everyone_top_does_not(server):
    server.deliver(message(1))
    server.deliver(message(2))
    other = server.pop()
    p = server.pop()
    p.top(1, 0)
    assert listing(server)[1][0] == "-"
    p.retr(2)
    # visible at once, before either session ends
    assert listing(server)[2][0] == "S"
    assert listing(server)[1][0] == "-"
    p.quit()
    other.quit()


def test_uidl_stable_across_sessions_and_restarts(server):
    for i in range(5):
        server.deliver(message(i))
    p = server.pop()
    before = uidls(p)
    p.dele(3)
    p.quit()
    server.restart()
    p = server.pop()
    after = uidls(p)
    assert after == before[:2] + before[3:]
    p.quit()
    # a new message never reuses a removed message's UIDL
    server.deliver(message(9))
    p = server.pop()
    newest = uidls(p)[-1]
    assert newest not in before
    p.quit()


def test_two_then_fifty_concurrent_sessions(server_factory):
    """50 clients at once on one INBOX: random RETR, DELE, RSET, QUIT and
    dropped connections while new mail arrives.  Afterwards every message is
    either still there or was marked by a session that ended with QUIT."""
    server = server_factory(**{"pop.channels_per_ip": "0"})
    delivered = set()
    for i in range(60):
        server.deliver(message(i))
    p = server.pop()
    delivered.update(uidls(p))
    p.quit()

    removed_by_quit = set()
    lock = threading.Lock()
    errors = []

    def client(seed):
        rnd = random.Random(seed)
        try:
            for _ in range(3):
                p = server.pop()
                marked, _ = random_commands(p, rnd)
                if rnd.random() < 0.3:
                    p.sock.close()  # dropped: marks are forgotten
                    continue
                assert p.quit().startswith(b"+OK")
                with lock:
                    removed_by_quit.update(marked)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    def deliverer():
        for i in range(100, 120):
            server.deliver(message(i))

    threads = [threading.Thread(target=client, args=(s,)) for s in range(50)]
    extra = threading.Thread(target=deliverer)
    for t in threads[:2]:
        t.start()
    for t in threads[:2]:
        t.join()
    for t in threads[2:] + [extra]:
        t.start()
    for t in threads[2:] + [extra]:
        t.join()
    assert not errors, errors[:3]

    p = server.pop()
    remaining = set(uidls(p))
    p.quit()
    # UIDLs here are UIDVALIDITY and UID in hex: all 80 ever delivered
    prefix = next(iter(delivered))[:8]
    everything = {prefix + b"%08x" % uid for uid in range(1, 81)}
    gone = everything - remaining
    assert remaining <= everything and len(everything) == 80
    # nothing lost: whatever is gone was marked by a session that QUIT
    assert gone <= removed_by_quit
    # nothing resurrected: whatever a QUIT removed stays gone
    assert not (removed_by_quit & remaining)
    # nothing removed twice: the removals the server logged add up
    log = server.log()
    removed = sum(int(line.split("QUIT: removed ")[1].split()[0])
                  for line in log.splitlines() if "QUIT: removed " in line)
    assert removed == len(gone)

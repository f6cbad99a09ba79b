"""posternctl queue list|show|flush|del as an admin uses them, with the
exact output and exit codes.

Nothing in the server puts entries into the relay queue yet, so the
entries are written here with python3-lmdb, byte for byte as record
version 1 is laid out (src/store/store_queue_record.c), with an id from
the store's next_id counter and the queue_due key that store_queue_add
would write.  That also pins the format: a store written today must stay
readable."""
import os
import struct
import time

import pytest

from conftest import USER
from conftest import ctl_fails as fails, ctl_out as out

lmdb = pytest.importorskip("lmdb")

PENDING, DONE, FAILED = 0, 1, 2
LONG_REPLY = "Connection timed out while talking to mx.example.org after end of data"
REFUSED = "connect to mx.example.net: Connection refused"






def _str(s):
    b = s.encode()
    return struct.pack("=I", len(b)) + b


def record(e):
    """Record version 1 of an entry (a dict), integers in host order."""
    rec = struct.pack("=BQQI", 1, e["created"], e["next"], e["attempts"])
    rec += _str(e["sender"]) + _str(e["account"]) + _str(e["ip"])
    rec += e["body_id"] + struct.pack("=QI", e["size"], len(e["rcpts"]))
    for addr, state, code, enhanced, text, mta, last in e["rcpts"]:
        rec += _str(addr) + struct.pack("=BI", state, code)
        rec += _str(enhanced) + _str(text) + _str(mta) + struct.pack("=Q", last)
    return rec


class Queue:
    """Direct access to a stopped server's store, as store_queue_add
    writes it."""

    def __init__(self, srv):
        self.srv = srv
        self.data = srv.root / "data"

    def _env(self):
        return lmdb.open(str(self.data / "store.mdb"), subdir=False,
                         max_dbs=32, map_size=1 << 30)

    def body_path(self, body_id):
        h = body_id.hex()
        return self.data / "bodies" / h[:2] / h

    def add(self, created, next, rcpts, sender=f"{USER}@example.test",
            account=f"{USER}@example.test", ip="192.0.2.7", size=1234,
            attempts=0, raw=None):
        """The new entry's id; raw replaces the record (damage)."""
        body_id = os.urandom(16)
        path = self.body_path(body_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"Subject: x\r\n\r\nhello\r\n")
        entry = dict(created=created, next=next, attempts=attempts,
                     sender=sender, account=account, ip=ip, body_id=body_id,
                     size=size, rcpts=rcpts)
        env = self._env()
        meta = env.open_db(b"meta", create=False)
        queue = env.open_db(b"queue", create=False)
        due = env.open_db(b"queue_due", create=False)
        with env.begin(write=True) as txn:
            last = txn.get(b"next_id", db=meta)
            qid = (struct.unpack("=Q", last)[0] if last else 0) + 1
            txn.put(b"next_id", struct.pack("=Q", qid), db=meta)
            txn.put(struct.pack(">Q", qid), raw if raw is not None else record(entry),
                    db=queue)
            if any(r[1] == PENDING for r in rcpts):
                txn.put(struct.pack(">QQ", next, qid), b"", db=due)
        env.close()
        self.bodies = getattr(self, "bodies", {})
        self.bodies[qid] = path
        return qid

    def due_keys(self):
        env = self._env()
        due = env.open_db(b"queue_due", create=False)
        with env.begin() as txn:
            keys = [struct.unpack(">QQ", k) for k, _ in txn.cursor(db=due)]
        env.close()
        return keys


@pytest.fixture
def admin(server_factory):
    srv = server_factory(start=False)
    srv.ctl("queue", "list")        # the store has its queue databases
    return srv, Queue(srv)


def utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_an_empty_queue(admin):
    srv, _ = admin
    assert out(srv, "queue", "list") == ""
    assert out(srv, "queue", "flush") == "0 queue entries will be retried now\n"
    for verb in ("show", "flush", "del"):
        assert fails(srv, "queue", verb, "12") == (1, "posternctl: no such queue entry: 12")


@pytest.mark.parametrize("args,code,error", [
    (["show", "abc"], 65, "invalid queue id 'abc': a number, as queue list shows it"),
    (["show", "0"], 65, "invalid queue id '0': a number, as queue list shows it"),
    (["del", "-1"], 65, "invalid queue id '-1': a number, as queue list shows it"),
    (["flush", "12x"], 65, "invalid queue id '12x': a number, as queue list shows it"),
    (["del", "99999999999999999999"], 65,
     "invalid queue id '99999999999999999999': a number, as queue list shows it"),
    (["del", ""], 65, "invalid queue id '': a number, as queue list shows it"),
    (["show"], 64, "usage: queue show ID"),
    (["del", "1", "2"], 64, "usage: queue del ID"),
    (["flush", "1", "2"], 64, "usage: queue flush [ID]"),
    (["list", "all"], 64, "usage: queue list"),
])
def test_bad_command_lines(admin, args, code, error):
    srv, _ = admin
    assert fails(srv, "queue", *args) == (code, f"posternctl: {error}")


def test_list_show_flush_del(admin):
    srv, q = admin
    now = int(time.time())
    # margins of 30 s keep the rounded ages and waits exact
    a = q.add(now - 330, now + 270, attempts=2, rcpts=[
        ("bob@example.org", DONE, 250, "2.0.0", "Ok: queued as 4Xz", "mx.example.org", now - 90),
        ("carol@example.org", PENDING, 451, "4.4.1", LONG_REPLY, "mx.example.org", now - 60),
        ("dave@example.net", FAILED, 550, "5.1.1", "No such user", "mx.example.net", now - 90),
        ("erin@example.net", PENDING, 0, "", REFUSED, "", now - 70)])
    b = q.add(now - 7230, now - 10, sender="", account="", ip="local", size=987,
              rcpts=[("jsmith@example.test", PENDING, 0, "", "", "", 0)])
    c = q.add(now - 3000, now - 30, rcpts=[("eve@example.org", DONE, 250, "", "Ok", "", now - 5)])
    header = f"{'ID':<8} {'AGE':>5} {'SIZE':>10} {'SENDER':<30} {'RCPTS':<9} {'NEXT':<7} LAST ERROR\n"
    short = f"451 4.4.1 {LONG_REPLY}"[:57] + "..."
    assert out(srv, "queue", "list") == header + (
        f"{a:<8} {'5m':>5} {1234:>10} {'jsmith@example.test':<30} {'2/4':<9} {'in 4m':<7} {short}\n"
        f"{b:<8} {'2h':>5} {987:>10} {'<>':<30} {'1/1':<9} {'now':<7} -\n"
        f"{c:<8} {'50m':>5} {1234:>10} {'jsmith@example.test':<30} {'0/1':<9} {'-':<7} -\n")

    body = q.bodies[a]
    assert out(srv, "queue", "show", str(a)) == (
        f"id {a}\n"
        f"created {utc(now - 330)} (5m ago)\n"
        "sender jsmith@example.test\n"
        "account jsmith@example.test\n"
        "client 192.0.2.7\n"
        f"body {body}\n"
        "size 1234\n"
        "attempts 2\n"
        f"next_attempt {utc(now + 270)} (in 4m)\n"
        "recipients 4: 2 pending, 1 done, 1 failed\n"
        f"rcpt bob@example.org done {utc(now - 90)} mx.example.org 250 2.0.0 Ok: queued as 4Xz\n"
        f"rcpt carol@example.org pending {utc(now - 60)} mx.example.org 451 4.4.1 {LONG_REPLY}\n"
        f"rcpt dave@example.net failed {utc(now - 90)} mx.example.net 550 5.1.1 No such user\n"
        f"rcpt erin@example.net pending {utc(now - 70)} - {REFUSED}\n")
    shown = out(srv, "queue", "show", str(b)).splitlines()
    assert shown[1:4] == ["created " + utc(now - 7230) + " (2h ago)", "sender <>", "account -"]
    assert shown[4] == "client local"
    assert shown[-3:] == ["next_attempt now", "recipients 1: 1 pending, 0 done, 0 failed",
                          "rcpt jsmith@example.test pending - - -"]
    assert "next_attempt -\n" in out(srv, "queue", "show", str(c))

    # flush one: due now, the index moved with it
    assert out(srv, "queue", "flush", str(a)) == f"queue entry {a} will be retried now\n"
    assert "next_attempt now\n" in out(srv, "queue", "show", str(a))
    assert sorted(q.due_keys()) == [(0, a), (now - 10, b)]
    assert fails(srv, "queue", "flush", str(c)) == \
        (1, f"posternctl: queue entry {c} has no pending recipient: nothing to retry")
    assert out(srv, "queue", "flush") == "2 queue entries will be retried now\n"
    assert sorted(q.due_keys()) == [(0, a), (0, b)]

    # del: the entry, its index key and its body file go; no bounce
    assert out(srv, "queue", "del", str(a)) == \
        f"queue entry {a} removed: 3 recipients not delivered\n"
    assert not body.exists()
    assert q.due_keys() == [(0, b)]
    assert fails(srv, "queue", "show", str(a)) == (1, f"posternctl: no such queue entry: {a}")
    assert out(srv, "queue", "del", str(b)) == \
        f"queue entry {b} removed: 1 recipient not delivered\n"
    assert out(srv, "queue", "del", str(c)) == \
        f"queue entry {c} removed: 0 recipients not delivered\n"
    assert out(srv, "queue", "list") == ""
    assert q.due_keys() == []


def test_a_damaged_record_is_a_store_fault_and_can_be_removed(admin):
    srv, q = admin
    now = int(time.time())
    good = q.add(now, now, rcpts=[("bob@example.org", PENDING, 0, "", "", "", 0)])
    bad = q.add(now, now, rcpts=[("x@example.org", PENDING, 0, "", "", "", 0)],
                raw=b"\x01garbage")
    damaged = (f"posternctl: corrupt queue record {bad}: truncated - "
               f"remove it with posternctl queue del {bad}")
    # the rows before the damaged one are listed, then the error
    assert fails(srv, "queue", "list", partial=True) == (75, damaged)
    assert fails(srv, "queue", "show", str(bad)) == (75, damaged)
    assert fails(srv, "queue", "flush") == (75, damaged)
    assert out(srv, "queue", "del", str(bad)) == (
        f"queue entry {bad} removed (its record was damaged: its body file, "
        f"if any, stays in {q.data}/bodies)\n")
    assert q.due_keys() == [(now, good)]
    assert out(srv, "queue", "list").splitlines()[1].startswith(f"{good:<8} ")


def test_queue_commands_beside_a_running_server(admin):
    """posternctl and posternd share the store: the commands work while
    the server runs, as the other admin commands do."""
    srv, q = admin
    now = int(time.time())
    qid = q.add(now - 5, now + 3600, rcpts=[("bob@example.org", PENDING, 0, "", "", "", 0)])
    srv.start()
    try:
        assert out(srv, "queue", "flush", str(qid)) == f"queue entry {qid} will be retried now\n"
        assert out(srv, "queue", "del", str(qid)) == \
            f"queue entry {qid} removed: 1 recipient not delivered\n"
        assert out(srv, "queue", "list") == ""
    finally:
        assert srv.stop() == 0

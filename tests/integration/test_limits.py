"""Bad input and resource limits: each gets a clear reply, and the server
keeps serving everyone else."""
import socket
import subprocess
import time

from conftest import POSTERND, USER, PASSWORD, message


def test_overlong_line_is_rejected_and_its_tail_never_runs(server):
    server.deliver(message(1))
    r = server.raw()
    r.login()
    # 300 octets then what would be a command if the tail were read as one
    r.send(b"A" * 300 + b"DELE 1\r\n")
    assert r.line() == b"-ERR Command line too long (at most 255 octets)"
    assert r.cmd("STAT").startswith(b"+OK 1 ")
    assert r.cmd("QUIT") == b"+OK Bye"
    p = server.pop()
    assert p.stat()[0] == 1  # the DELE in the tail never happened
    p.quit()


def test_overlong_line_in_many_packets(server):
    r = server.raw()
    r.line()
    for _ in range(40):
        r.send(b"B" * 100)
        time.sleep(0.001)
    r.send(b"QUIT\r\n")
    assert r.line() == b"-ERR Command line too long (at most 255 octets)"
    assert r.cmd("NOOP") == b"-ERR NOOP is not valid in this state"
    r.close()


def test_line_of_exactly_255_octets_is_a_command(server):
    r = server.raw()
    r.line()
    line = "USER " + "u" * 250
    assert len(line) == 255
    assert r.cmd(line).startswith(b"+OK")
    r.close()


def test_nul_in_command(server):
    r = server.raw()
    r.line()
    assert r.cmd(b"US\x00ER jsmith") == b"-ERR NUL character in command"
    assert r.cmd(b"USER js\x00mith") == b"-ERR NUL character in command"
    assert r.cmd("QUIT") == b"+OK Bye"


def test_command_split_across_packets_and_bare_lf(server):
    r = server.raw()
    r.line()
    for ch in b"CAPA\r\n":
        r.send(bytes([ch]))
        time.sleep(0.002)
    assert r.line() == b"+OK Capability list follows"
    r.multiline()
    assert r.cmd(b"NOOP\n" [:-1]) == b"-ERR NOOP is not valid in this state"
    r.send(b"QUIT\n")  # bare LF ends a line too
    assert r.line() == b"+OK Bye"


def test_too_many_bad_commands_closes(server):
    r = server.raw()
    r.line()
    replies = [r.cmd("BOGUS%d" % i) for i in range(9)]
    assert all(x == b"-ERR Unknown command" for x in replies)
    assert r.cmd("BOGUS") == b"-ERR Unknown command"
    assert r.line() == b"-ERR Too many bad commands, closing connection"
    assert r.closed()
    # others are served as before
    p = server.pop()
    p.quit()


def test_twenty_bad_commands_in_one_packet(server):
    r = server.raw()
    r.line()
    r.send(b"".join(b"NOPE %d\r\n" % i for i in range(20)))
    lines = []
    while not r.closed(timeout=0.2) or r.buf:
        if b"\r\n" not in r.buf:
            break
        lines.append(r.line())
    assert lines[:10] == [b"-ERR Unknown command"] * 10
    assert lines[10] == b"-ERR Too many bad commands, closing connection"
    assert len(lines) == 11  # nothing after the tenth is answered


def test_channel_limit(server_factory):
    srv = server_factory(**{"pop.channels": "3"})
    held = [srv.raw() for _ in range(3)]
    for r in held:
        assert r.line().startswith(b"+OK")
    extra = srv.raw()
    assert extra.line() == b"-ERR [SYS/TEMP] too many connections, try later"
    assert extra.closed()
    held[0].cmd("QUIT")
    assert held[0].closed()
    # a channel is free again
    deadline = time.monotonic() + 5
    while True:
        r = srv.raw()
        first = r.line()
        if first.startswith(b"+OK") or time.monotonic() > deadline:
            break
        r.close()
        time.sleep(0.05)
    assert first == b"+OK Postern POP3 server ready"
    for c in held[1:] + [r]:
        c.close()
    srv.wait_log("connection refused: all channels are busy")


def test_per_address_limit(server_factory):
    srv = server_factory(**{"pop.channels_per_ip": "2"})
    a, b = srv.raw(), srv.raw()
    assert a.line().startswith(b"+OK") and b.line().startswith(b"+OK")
    c = srv.raw()
    assert c.line() == b"-ERR [SYS/TEMP] too many connections, try later"
    srv.wait_log("too many connections from 127.0.0.1")
    a.close()
    b.close()


def test_channels_zero_means_no_listener(server_factory):
    srv = server_factory(start=False, **{"pop.channels": "0"})
    proc = subprocess.Popen([str(POSTERND), "-f", "-c", str(srv.conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        srv.wait_log("pop.channels = 0: not listening")
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", srv.port)) != 0
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_client_that_never_sends_is_timed_out(server_factory):
    srv = server_factory(**{"pop.idle_timeout": "1s"})
    r = srv.raw()
    assert r.line().startswith(b"+OK")
    assert r.closed(timeout=5)
    assert r.buf == b"-ERR Disconnected for inactivity\r\n"
    assert "disconnected: idle timeout" in srv.log()


def test_client_that_never_reads_does_not_block_others(server_factory):
    srv = server_factory(**{"pop.idle_timeout": "2s"})
    big = b"Subject: big\r\n\r\n" + b"y" * 78 + b"\r\n"
    srv.deliver(big * 40000)  # ~3 MB
    hog = socket.create_connection(("127.0.0.1", srv.port))
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hog.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode()
                + b"RETR 1\r\n" * 50)
    time.sleep(0.3)
    # the server is responsive for everyone else meanwhile
    for _ in range(3):
        p = srv.pop()
        assert p.stat()[0] == 1
        p.quit()
    # and the reader that never reads is cut off by the idle timeout
    srv.wait_log("disconnected: idle timeout", timeout=10)
    hog.close()


def test_many_idle_connections_then_work(server_factory):
    srv = server_factory(**{"pop.channels_per_ip": "0"})
    socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(200)]
    p = srv.pop()
    p.quit()
    for s in socks:
        s.close()


def test_out_of_descriptors_pauses_instead_of_spinning(server_factory):
    """With few file descriptors and many clients, posternd stops accepting
    for a moment instead of burning CPU and flooding the log, then serves
    again once descriptors are free."""
    import os
    import resource
    from conftest import wait_port
    srv = server_factory(start=False, **{"pop.channels_per_ip": "0"})
    errf = open(srv.errfile, "ab")
    proc = subprocess.Popen(
        [str(POSTERND), "-f", "-c", str(srv.conf)], stdout=errf, stderr=errf,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40)))
    try:
        wait_port(srv.port, proc)
        srv.wait_log("open files limit 40 is below what pop.channels")
        socks = []
        for _ in range(60):
            try:
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=2))
            except OSError:
                break
        time.sleep(2)
        with open(f"/proc/{proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        assert cpu < 1.0, f"posternd used {cpu:.2f} s of CPU in 2 s"
        assert 1 <= srv.log().count("not accepting for 1 s") <= 5
        for s in socks:
            s.close()
        time.sleep(1.5)
        p = srv.pop()
        p.quit()
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
        errf.close()

"""workers = N: a master that binds and supervises, workers that serve.
What an admin sees: sessions served by several processes, SIGHUP reaching
every worker, a crashed worker replaced, SIGTERM stopping them all."""
import os
import signal
import subprocess
import threading
import time

from conftest import POSTERND, message


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_two_workers_serve_reload_respawn_and_stop(server_factory):
    srv = server_factory(workers="2", **{"pop.channels_per_ip": "0"})
    master = srv.proc.pid
    workers = children(master)
    assert len(workers) == 2
    srv.deliver(message(1))

    errors = []

    def sessions():
        try:
            for _ in range(10):
                p = srv.pop()
                assert p.stat()[0] == 1
                p.quit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=sessions) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # connection ids name their worker: POP-1.n and POP-2.n
    log = srv.log()
    assert "POP-1." in log or "POP-2." in log

    srv.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while srv.log().count("configuration reloaded") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.log().count("configuration reloaded") == 2

    # a worker that dies is replaced, and the service goes on
    os.kill(workers[0], signal.SIGKILL)
    srv.wait_log(f"(pid {workers[0]}) was ended by signal 9; starting a new one")
    deadline = time.monotonic() + 10
    while len(children(master)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    now = children(master)
    assert len(now) == 2 and workers[0] not in now
    p = srv.pop()
    assert p.stat()[0] == 1
    p.quit()

    # SIGTERM: every process ends, the master last, cleanly
    assert srv.stop() == 0
    for pid in now:
        assert not os.path.exists(f"/proc/{pid}") or \
            open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_workers_setting_is_checked(server_factory):
    srv = server_factory(start=False)
    for bad in ("0", "65", "many"):
        res = subprocess.run([str(POSTERND), "-t", "-c", str(srv.conf), "-o", f"workers={bad}"],
                             capture_output=True)
        assert res.returncode == 1
        assert b"workers: use auto or a number from 1 to 64" in res.stderr
    res = subprocess.run([str(POSTERND), "-t", "-c", str(srv.conf), "-o", "workers=auto"],
                         capture_output=True)
    assert res.returncode == 0, res.stderr


def test_listen_changes_need_a_restart_with_workers(server_factory):
    srv = server_factory(workers="2")
    text = srv.conf.read_text()
    srv.conf.write_text(text.replace(f"127.0.0.1:{srv.port}", f"127.0.0.1:{srv.port + 1}"))
    srv.send_signal(signal.SIGHUP)
    srv.wait_log("restart posternd to apply them (workers > 1)")
    # the old address still serves: nothing was half-applied
    p = srv.pop()
    p.quit()

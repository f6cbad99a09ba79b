#!/usr/bin/env python3
"""adminbench.py - how the web admin's API holds up on a large domain.

Starts a throwaway posternd (modules pop, http) from the build tree in a
temporary directory, fills one domain with --accounts accounts through
the API (POST /api/domains/D/accounts, several connections at once), then
times the requests the pages make: the first page of the account list
(50), a prefix search with many and with one match, the last page, one
account, the domain list and the status.  Prints each one's median, 95th
percentile and worst time, the fill rate, and posternd's resident memory
before and after.  Stops the server by its pid.

    tests/bench/adminbench.py                       # 100,000 accounts
    tests/bench/adminbench.py --accounts 20000 --rounds 50

New passwords are hashed at auth.password_cost = 1 (the cheapest yescrypt)
so that filling takes minutes, not hours; what is measured after is not
affected by the cost.  Recorded in doc/performance.md.
"""
import argparse
import http.client
import json
import os
import pathlib
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time

BUILD = pathlib.Path(os.environ.get(
    "POSTERN_BUILDDIR", pathlib.Path(__file__).resolve().parents[2]))
SOURCE = pathlib.Path(__file__).resolve().parents[2]
DOMAIN = "big.test"
ADMIN, ADMIN_PASSWORD = "admin@example.test", "Bench-admin-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive HTTP connection with the admin's session."""

    def __init__(self, port, cookie=None, token=None):
        self.con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie, self.token = cookie, token

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if self.token:
            headers["X-CSRF-Token"] = self.token
        self.con.request(method, path, json.dumps(body) if body is not None else None,
                         headers)
        resp = self.con.getresponse()
        data = resp.read()
        return resp, json.loads(data) if data else None


def rss_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=100, help="requests per measurement")
    ap.add_argument("--fill-connections", type=int, default=4)
    args = ap.parse_args()

    root = pathlib.Path(tempfile.mkdtemp(prefix="adminbench."))
    port, pop_port = free_port(), free_port()
    conf = root / "postern.conf"
    conf.write_text(f"""data_dir = {root}/data
module_dir = {BUILD}/modules
modules = pop, http
main_domain = example.test
[log]
level = warning
target = {root}/postern.log
[auth]
password_cost = 1
[pop]
listen = 127.0.0.1:{pop_port}
[http]
listen = 127.0.0.1:{port}
root = {SOURCE}/webadmin
""")

    def ctl(*a, stdin=None):
        subprocess.run([str(BUILD / "posternctl"), "-c", str(conf), *a], check=True,
                       input=stdin, capture_output=True)

    ctl("domain", "add", "example.test")
    ctl("domain", "add", DOMAIN)
    ctl("account", "add", ADMIN, stdin=(ADMIN_PASSWORD + "\n").encode())
    ctl("account", "set", ADMIN, "webadmin=server")
    proc = subprocess.Popen([str(BUILD / "posternd"), "-f", "-c", str(conf)])
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("posternd did not start")
                time.sleep(0.05)
        resp, answer = Client(port).call("POST", "/api/login",
                                         {"user": ADMIN, "password": ADMIN_PASSWORD})
        assert resp.status == 200, answer
        cookie = resp.getheader("Set-Cookie").split(";", 1)[0]
        token = answer["csrf"]
        rss_before = rss_kib(proc.pid)

        # fill
        errors = []
        def fill(start, step):
            c = Client(port, cookie, token)
            for i in range(start, args.accounts, step):
                r, a = c.call("POST", f"/api/domains/{DOMAIN}/accounts",
                              {"name": f"user{i:06d}", "password": f"Pass-{i}-word"})
                if r.status != 201:
                    errors.append(a)
                    return
        t0 = time.monotonic()
        threads = [threading.Thread(target=fill, args=(k, args.fill_connections))
                   for k in range(args.fill_connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        fill_s = time.monotonic() - t0
        if errors:
            raise SystemExit(f"filling failed: {errors[0]}")
        rss_after_fill = rss_kib(proc.pid)

        c = Client(port, cookie, token)
        last = max(args.accounts - 50, 0)
        cases = [
            ("first page (50)", f"/api/domains/{DOMAIN}/accounts?limit=50"),
            ("search, many matches (q=user01, 50 shown)",
             f"/api/domains/{DOMAIN}/accounts?q=user01&limit=50"),
            ("search, one match", f"/api/domains/{DOMAIN}/accounts?q=user{args.accounts // 2:06d}&limit=50"),
            ("last page (offset {})".format(last),
             f"/api/domains/{DOMAIN}/accounts?offset={last}&limit=50"),
            ("one account", f"/api/accounts/user{args.accounts // 3:06d}%40{DOMAIN}"),
            ("domain list", "/api/domains"),
            ("status", "/api/status"),
        ]
        print(f"posternd with {args.accounts} accounts in {DOMAIN}; "
              f"filled through the API in {fill_s:.1f} s "
              f"({args.accounts / fill_s:.0f} accounts/s, {args.fill_connections} connections)")
        print(f"{'request':48} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}  answer")
        for name, path in cases:
            times = []
            for _ in range(args.rounds):
                t = time.perf_counter()
                r, a = c.call("GET", path)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status == 200, (path, a)
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            what = f"total {a['total']}" if isinstance(a, dict) and "total" in a else "ok"
            print(f"{name:48} {statistics.median(times):10.2f} {p95:8.2f} {times[-1]:8.2f}  {what}")
        print(f"posternd resident memory: {rss_before} KiB at start, {rss_after_fill} KiB "
              f"after filling, {rss_kib(proc.pid)} KiB after the measurements")
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

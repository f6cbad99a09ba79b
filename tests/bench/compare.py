#!/usr/bin/python3
"""Postern against Dovecot, side by side, on this machine.

Builds the same users, password scheme (yescrypt via crypt(3)) and messages
into a Postern data directory and into a throwaway Dovecot (Debian's
dovecot-pop3d, tuned for throughput: service_count = 0 and
process_min_avail on pop3-login and pop3), both on loopback, then runs each
scenario against both with tests/bench/popbench and prints the
Postern/Dovecot ratio.  Everything lives under --dir and is stopped by pid
at the end.

The lmtp-* scenarios deliver the same message with tests/bench/lmtpbench
into Postern's LMTP listener and into Dovecot's LMTP (dovecot-lmtpd,
Maildir, durable on both sides), into 100 empty accounts lmtp0..lmtp99,
and afterwards check on both sides that the number of stored messages
equals the number of 250 replies.  Both servers are up for these, taking
turns scenario by scenario (--repeat rounds), so that background load
falls on both alike.

    ./tests/bench/compare.py                 # all scenarios, 10 s each
    ./tests/bench/compare.py -d 5 -s retr4k  # one scenario, 5 s
    ./tests/bench/compare.py --postern-only
    ./tests/bench/compare.py --lmtp-only     # only the LMTP delivery scenarios

Needs: a built tree (make), dovecot-pop3d (and dovecot-lmtpd for lmtp-*),
openssl; run as root (Dovecot wants to switch users).
"""
import argparse
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

TOP = pathlib.Path(__file__).resolve().parents[2]
POPBENCH = TOP / "tests" / "bench" / "popbench"
LMTPBENCH = TOP / "tests" / "bench" / "lmtpbench"
USERS = 100          # bench0 .. bench99
MESSAGES = 20        # per user, 4 KB each
BIG_MESSAGES = 10    # 1 MB each, for user "big"
PASSWORD = "bench-pass"
# yescrypt cost for both servers.  At libxcrypt's default (cost 5, about
# 18 ms per check) password checks alone cap either server near 100 logins/s
# on two cores, and Dovecot's auth cache still re-verifies cached hashes;
# cost 1 (about 1 ms) measures the servers rather than yescrypt.
YESCRYPT_COST = 1    # --cost
AUTH_CACHE = True    # --no-cache: every login pays for yescrypt
VERIFY_THREADS = 2   # --verify-threads: Postern's auth.verify_threads

SCENARIOS = {
    # name: (popbench arguments, description); lmtp-* ones are in LMTP_SCENARIOS
    "retr4k": (["-c", "16", "-u", "bench%d", "-U", str(USERS), "-s", "stat,retr-all,quit"],
               "16 clients, login + STAT + RETR 20 x 4 KB + QUIT"),
    "stat": (["-c", "16", "-u", "bench%d", "-U", str(USERS), "-s", "stat,quit"],
             "16 clients, login + STAT + QUIT"),
    "retr1m": (["-c", "8", "-u", "big", "-s", "stat,retr-all,quit"],
               "8 clients, RETR 10 x 1 MB"),
    "retr4k-tls": (["-c", "16", "-u", "bench%d", "-U", str(USERS), "-t", "implicit",
                    "-s", "stat,retr-all,quit"], "retr4k over implicit TLS"),
    "stat-tls": (["-c", "16", "-u", "bench%d", "-U", str(USERS), "-t", "implicit",
                  "-s", "stat,quit"], "stat over implicit TLS"),
    "retr1m-tls": (["-c", "8", "-u", "big", "-t", "implicit", "-s", "stat,retr-all,quit"],
                   "retr1m over implicit TLS"),
    "c1000": (["-c", "1000", "-u", "bench%d", "-U", str(USERS), "-s", "stat,retr:1,quit"],
              "1000 concurrent sessions, login + STAT + RETR 1 + QUIT"),
}

# LMTP delivery: accounts lmtp0 .. lmtp99, empty at the start, so the POP3
# mailboxes stay as they are whatever runs first.  Every scenario sends
# msg4k.eml (4 KB, one line starting with a dot) round-robin over the 100
# users, many transactions per connection.
LMTP_USERS = 100
LMTP_RCPT = "lmtp%d@example.test"
LMTP_SCENARIOS = {
    # name: (lmtpbench arguments, description)
    "lmtp-1": (["-c", "1"], "1 client, 4 KB message, 1 recipient (of 100 users)"),
    "lmtp-16": (["-c", "16"], "16 clients, 4 KB message, 1 recipient (of 100 users)"),
    "lmtp-16-r5": (["-c", "16", "-r", "5"], "16 clients, 4 KB message, 5 recipients"),
    "lmtp-16-pipe": (["-c", "16", "-P"], "lmtp-16 with MAIL, RCPT and DATA pipelined"),
}
# Dovecot's mail_fsync (--dovecot-fsync).  With "optimized", its default,
# each delivery fsync()s the message file in tmp/, and fdatasync()s new/
# after the rename and dovecot-uidlist after the UID is assigned, all
# before the 250 (strace: 1 fsync + 2 fdatasync per message): the message
# and its UID survive a crash, as with Postern's fsynced body and committed
# LMDB transaction.  "always" adds fdatasync()s of dovecot.index.log (two)
# and dovecot.index.cache, caches that Dovecot rebuilds from the Maildir.
# See tests/bench/README.md.
DOVECOT_FSYNC = "optimized"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def wait_listener(where, timeout=30):
    """A TCP port on 127.0.0.1 or a UNIX socket path."""
    if isinstance(where, int):
        return wait_port(where, timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1)
                s.connect(str(where))
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {where}")


def run(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def make_messages(root: pathlib.Path):
    """One 4 KB message (with a dot line) and one 1 MB message, CRLF."""
    body = "".join(f"line {i:04d} of a benchmark message, padded to a line ..........\r\n"
                   for i in range(60))
    small = ("From: bench@example.test\r\nTo: user@example.test\r\n"
             "Subject: benchmark\r\n\r\n.a line starting with a dot\r\n" + body)
    small = small.encode()[:4096 - 2] + b"\r\n"
    big = b"Subject: big\r\n\r\n" + (b"x" * 1022 + b"\r\n") * 1023
    (root / "msg4k.eml").write_bytes(small)
    (root / "msg1m.eml").write_bytes(big)
    return small, big


def yescrypt(password):
    """A yescrypt hash from libxcrypt, as Postern makes them."""
    import ctypes
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt.restype = ctypes.c_char_p
    salt = lib.crypt_gensalt(b"$y$", YESCRYPT_COST, None, 0)
    return lib.crypt(password.encode(), salt).decode()


def certificate(root, kind="rsa"):
    """One self-signed certificate both servers use: RSA 2048 (the default)
    or ECDSA P-256 (certbot's default key type since 2.0)."""
    key = ["-newkey", "rsa:2048"] if kind == "rsa" else \
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    run("openssl", "req", "-x509", *key, "-nodes", "-days", "2",
        "-subj", "/CN=localhost", "-keyout", root / "key.pem", "-out", root / "cert.pem",
        capture_output=True)


class Postern:
    name = "postern"

    workers = "auto"

    @staticmethod
    def lmtp_module():
        """The LMTP module's shared object, or None when this tree has none."""
        for path in (TOP / "modules" / "lmtp.so", TOP / "modules" / "lmtp" / ".libs" / "lmtp.so"):
            if path.exists():
                return path
        return None

    def __init__(self, root: pathlib.Path, small: bytes, big: bytes, pop=True, lmtp=False,
                 lmtp_unix=False):
        self.root = root / "postern"
        self.root.mkdir()
        self.port, self.tls_port = free_port(), free_port()
        self.conf = self.root / "postern.conf"
        # LMTP only when the module is built: posternd refuses to start
        # with a module it cannot load, and the POP3 scenarios must still run
        self.lmtp = lmtp and self.lmtp_module() is not None
        self.lmtp_port = free_port()
        self.lmtp_socket = self.root / "lmtp.sock" if lmtp_unix else None
        lmtp_listen = str(self.lmtp_socket) if lmtp_unix else f"127.0.0.1:{self.lmtp_port}"
        self.conf.write_text(f"""data_dir = {self.root}/data
module_dir = {TOP}/modules
main_domain = example.test
workers = {self.workers}
modules = {"pop, lmtp" if self.lmtp else "pop"}
[log]
level = warning
target = {self.root}/postern.log
[auth]
allow_plaintext = yes
failure_delay_ms = 0
password_cost = {YESCRYPT_COST}
cache_ttl = {"1h" if AUTH_CACHE else "0"}
verify_threads = {VERIFY_THREADS}
[tls]
cert = {root}/cert.pem
key = {root}/key.pem
[pop]
listen = 127.0.0.1:{self.port}
tls_listen = 127.0.0.1:{self.tls_port}
channels = 20000
channels_per_ip = 0
""" + (f"""[lmtp]
listen = {lmtp_listen}
channels = 1000
max_message_size = 50M
max_recipients = 1000
idle_timeout = 5m
""" if self.lmtp else ""))
        self.ctl = [TOP / "posternctl", "-c", self.conf]
        ctl = self.ctl
        run(*ctl, "domain", "add", "example.test", capture_output=True)
        pw = self.root / "pw"
        pw.write_text(PASSWORD + "\n")
        users = [f"bench{i}" for i in range(USERS)] + ["big"]
        if self.lmtp:
            users += [f"lmtp{i}" for i in range(LMTP_USERS)]
        for user in users:
            run(*ctl, "account", "add", user, "--password-file", pw, capture_output=True)
        if not pop:
            return
        for i in range(USERS):
            files = [root / "msg4k.eml"] * MESSAGES
            run(*ctl, "message", "import", f"bench{i}", *files, capture_output=True)
        run(*ctl, "message", "import", "big", *([root / "msg1m.eml"] * BIG_MESSAGES),
            capture_output=True)

    def start(self):
        self.proc = subprocess.Popen([TOP / "posternd", "-f", "-c", self.conf])
        wait_port(self.port)
        if self.lmtp:
            wait_listener(self.lmtp_socket or self.lmtp_port)

    def lmtp_stored(self):
        """Messages in the lmtp* accounts, from posternctl (the store is
        LMDB: posternctl reads it beside the running posternd)."""
        total = 0
        for i in range(LMTP_USERS):
            out = subprocess.run([str(c) for c in self.ctl] + ["mailbox", "list", f"lmtp{i}"],
                                 capture_output=True, text=True, check=True).stdout
            total += sum(int(n) for n in re.findall(r"\s(\d+) messages?\b", out))
        return total

    def pids(self):
        kids = subprocess.run(["pgrep", "-P", str(self.proc.pid)],
                              capture_output=True, text=True).stdout.split()
        return [self.proc.pid] + [int(k) for k in kids]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


class Dovecot:
    name = "dovecot"
    LMTP_BINARY = pathlib.Path("/usr/lib/dovecot/lmtp")   # from dovecot-lmtpd

    def __init__(self, root: pathlib.Path, small: bytes, big: bytes, pop=True, lmtp=False,
                 lmtp_unix=False):
        self.root = root / "dovecot"
        self.root.mkdir()
        self.port, self.tls_port = free_port(), free_port()
        self.lmtp = lmtp
        self.lmtp_port = free_port()
        # the service's default unix_listener "lmtp" in base_dir
        self.lmtp_socket = self.root / "run" / "lmtp" if lmtp_unix else None
        self.home = home = self.root / "home"
        # the same password scheme: yescrypt through crypt(3)
        hashed = yescrypt(PASSWORD)
        users = [f"bench{i}" for i in range(USERS)] + ["big"]
        # LMTP recipients are full addresses: Dovecot looks lmtp0@example.test
        # up as it is, so the passwd-file has it that way, and a recipient
        # not in it is refused at RCPT as Postern refuses an unknown account
        self.lmtp_users = [LMTP_RCPT.replace("%d", str(i)) for i in range(LMTP_USERS)] \
            if lmtp else []
        (self.root / "passwd").write_text("".join(f"{u}:{{CRYPT}}{hashed}\n"
                                                  for u in users + self.lmtp_users))
        for u in users + self.lmtp_users:
            cur = home / u / "Maildir"
            for sub in ("new", "cur", "tmp"):
                (cur / sub).mkdir(parents=True, exist_ok=True)
            if not pop or u in self.lmtp_users:
                continue
            data, count = (big, BIG_MESSAGES) if u == "big" else (small, MESSAGES)
            for n in range(count):
                (cur / "cur" / f"{1700000000 + n}.M{n}P1.bench,S={len(data)}:2,").write_bytes(data)
        run("chown", "-R", "nobody:nogroup", home)
        (self.root / "run").mkdir()
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(f"""base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = postern-bench
protocols = pop3{" lmtp" if lmtp else ""}
listen = 127.0.0.1
log_path = {self.root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain
# tuned as a provider would: verified passwords cached, as Postern does
auth_cache_size = {"10M" if AUTH_CACHE else "0"}
auth_cache_ttl = 1 hour
first_valid_uid = 0
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=CRYPT {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={home}/%u
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
  service_count = 0
  process_min_avail = 2
  client_limit = 20000
}}
service pop3 {{
  service_count = 0
  process_min_avail = 2
  client_limit = 20000
}}
service auth {{
  client_limit = 30000
}}
default_client_limit = 20000
default_process_limit = 200
""" + (f"""# LMTP delivery, durable: see DOVECOT_FSYNC
mail_fsync = {DOVECOT_FSYNC}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
  # one client per process is how lmtp works; processes are reused
  # (service_count = 0) and 16 wait forked, as for pop3 above
  service_count = 0
  process_min_avail = 16
  process_limit = 1000
}}
""" if lmtp else ""))
        (self.root / "state").mkdir()

    def start(self):
        import resource

        def raise_nofile():
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        run("dovecot", "-c", self.conf, preexec_fn=raise_nofile)
        wait_port(self.port)
        if self.lmtp:
            wait_listener(self.lmtp_socket or self.lmtp_port)

    def lmtp_stored(self):
        """Message files in the lmtp* users' Maildirs (new/ and cur/)."""
        return sum(len(os.listdir(self.home / u / "Maildir" / sub))
                   for u in self.lmtp_users for sub in ("new", "cur"))

    def pids(self):
        out = subprocess.run(["pgrep", "-f", "postern-bench"], capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        # every process of this instance: master and its children
        kids = subprocess.run(["pgrep", "-P", ",".join(map(str, pids)) or "0"],
                              capture_output=True, text=True).stdout.split()
        return sorted(set(pids) | {int(k) for k in kids})

    def stop(self):
        subprocess.run(["doveadm", "-c", str(self.conf), "stop"], capture_output=True)
        time.sleep(0.5)


def bench(server, scenario, duration):
    args, _ = SCENARIOS[scenario]
    tls = "-t" in args
    port = server.tls_port if tls else server.port
    res = subprocess.run([str(POPBENCH), "-q", "-H", "127.0.0.1", "-p", str(port),
                          "-w", PASSWORD, "-d", str(duration), *args],
                         capture_output=True, text=True, timeout=duration + 120)
    line = res.stdout.strip().splitlines()[0] if res.stdout.strip() else ""
    values = dict(kv.split("=") for kv in line.split()) if line else {}
    return values, res.stdout + res.stderr


def bench_lmtp(server, scenario, duration, root):
    """One LMTP scenario; the stored-message check comes with the result."""
    args, _ = LMTP_SCENARIOS[scenario]
    where = ["-x", str(server.lmtp_socket)] if server.lmtp_socket else \
        ["-H", "127.0.0.1", "-p", str(server.lmtp_port)]
    before = server.lmtp_stored()
    res = subprocess.run([str(LMTPBENCH), "-q", *where, "-d", str(duration),
                          "-R", LMTP_RCPT, "-U", str(LMTP_USERS),
                          "-f", str(root / "msg4k.eml"), *args],
                         capture_output=True, text=True, timeout=duration + 120)
    line = res.stdout.strip().splitlines()[0] if res.stdout.strip() else ""
    values = dict(kv.split("=") for kv in line.split()) if line else {}
    stored = server.lmtp_stored() - before
    return values, res.stdout + res.stderr, stored


def median(values):
    v = sorted(values)
    if not v:
        return float("nan")
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def lmtp_phase(servers, scenarios, duration, root, repeat, mismatches):
    """Every LMTP scenario against every server, the servers taking turns
    (Postern, Dovecot, Postern, ... for --repeat rounds) while both run, so
    a change in the machine's background load falls on both alike.  An idle
    server costs the other nothing.  Returns {scenario: [{server:
    messages_s}, ...]}, one dict per round."""
    rounds = {sc: [] for sc in scenarios}
    if not servers or not scenarios:
        return rounds
    started = []
    try:
        for srv in servers:
            srv.start()
            started.append(srv)
        for sc in scenarios:
            for _ in range(repeat):
                this = {}
                for srv in servers:
                    values, raw, stored = bench_lmtp(srv, sc, duration, root)
                    lines = raw.strip().splitlines()
                    print(f"{srv.name:8} {sc:12} {lines[0] if lines else raw}", flush=True)
                    for extra in lines[1:]:
                        print(f"{'':8} {'':12} {extra}", flush=True)
                    replies = int(values.get("deliveries", -1))
                    if stored != replies:
                        mismatches.append((srv.name, sc, stored, replies))
                    print(f"{srv.name:8} {sc:12} stored {stored} messages for {replies} "
                          f"250 replies after DATA: {'ok' if stored == replies else 'MISMATCH'}",
                          flush=True)
                    this[srv.name] = float(values.get("messages_s", "nan"))
                rounds[sc].append(this)
    finally:
        for srv in started:
            srv.stop()
    return rounds


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def idle_memory(server, n, duration=5):
    """Memory per idle connection: RSS with n idle clients minus without."""
    before = rss_kb(server.pids())
    proc = subprocess.Popen([str(POPBENCH), "-q", "-H", "127.0.0.1", "-p", str(server.port),
                             "-I", str(n), "-d", str(duration)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(duration / 2 + 1)
    during = rss_kb(server.pids())
    out = proc.communicate(timeout=duration + 60)[0]
    return (during - before) * 1024 / n, out


TINY = b"Subject: tiny\r\n\r\nx\r\n"


def fill_big_mailbox(srv, root, n):
    """Account "huge" with n tiny messages, in both servers' own ways."""
    if isinstance(srv, Postern):
        ctl = [TOP / "posternctl", "-c", srv.conf]
        run(*ctl, "account", "add", "huge", "--password-file", srv.root / "pw",
            capture_output=True)
        tiny = root / "tiny.eml"
        tiny.write_bytes(TINY)
        for start in range(0, n, 5000):
            run(*ctl, "message", "import", "huge", *([tiny] * min(5000, n - start)),
                capture_output=True)
    else:
        with open(srv.root / "passwd", "a") as f:
            f.write(f"huge:{{CRYPT}}{yescrypt(PASSWORD)}\n")
        cur = srv.root / "home" / "huge" / "Maildir"
        for sub in ("new", "cur", "tmp"):
            (cur / sub).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (cur / "cur" / f"{1700000000 + i}.M{i}P1.big,S={len(TINY)}:2,").write_bytes(TINY)
        run("chown", "-R", "nobody:nogroup", srv.root / "home" / "huge")


def time_big_login(srv, tries=5):
    """ms from sending PASS to its +OK, and for STAT, best of warm tries
    (the first login also builds Dovecot's index)."""
    results = []
    for _ in range(tries):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=120)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"USER huge\r\n")
        f.readline()
        t0 = time.perf_counter()
        s.sendall(f"PASS {PASSWORD}\r\n".encode())
        ok = f.readline()
        t1 = time.perf_counter()
        s.sendall(b"STAT\r\n")
        stat = f.readline()
        t2 = time.perf_counter()
        s.sendall(b"QUIT\r\n")
        s.close()
        assert ok.startswith(b"+OK") and stat.startswith(b"+OK"), (ok, stat)
        results.append(((t1 - t0) * 1000, (t2 - t1) * 1000, stat.split()[1]))
    warm = results[1:] or results
    best = min(warm, key=lambda r: r[0] + r[1])
    return best, results[0]


def sendfile_bound(root, duration=3):
    """What a bare sendfile() loopback transfer reaches (MB/s)."""
    helper = root / "sendfile_bound"
    src = TOP / "tests" / "bench" / "sendfile_bound.c"
    run("gcc", "-O2", "-o", helper, src)
    out = subprocess.run([str(helper), str(root / "msg1m.eml"), str(duration)],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"mb_s=([\d.]+)", out).group(1))


def main():
    global YESCRYPT_COST, AUTH_CACHE, VERIFY_THREADS, DOVECOT_FSYNC
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-d", "--duration", type=int, default=10)
    ap.add_argument("-s", "--scenario", action="append",
                    choices=list(SCENARIOS) + list(LMTP_SCENARIOS))
    ap.add_argument("--dir", default="/tmp/postern-bench")
    ap.add_argument("--postern-only", action="store_true")
    ap.add_argument("--dovecot-only", action="store_true")
    ap.add_argument("--lmtp-only", action="store_true",
                    help="only the LMTP scenarios (no idle, big-mailbox or sendfile runs)")
    ap.add_argument("--no-lmtp", action="store_true", help="skip the LMTP scenarios")
    ap.add_argument("--lmtp-unix", action="store_true",
                    help="LMTP over a UNIX socket on both sides instead of TCP on loopback")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of each LMTP scenario, servers taking turns; "
                    "the table gives medians")
    ap.add_argument("--dovecot-fsync", choices=["optimized", "always"], default=DOVECOT_FSYNC,
                    help="Dovecot's mail_fsync for the LMTP scenarios (default %(default)s)")
    ap.add_argument("--workers", default="auto", help="Postern's workers setting")
    ap.add_argument("--idle", type=int, default=10000, help="idle connections (0: skip)")
    ap.add_argument("--big-mailbox", type=int, default=100000,
                    help="messages in the big-mailbox login test (0: skip)")
    ap.add_argument("--cost", type=int, default=1,
                    help="yescrypt cost of both servers' hashes (5: libxcrypt's default)")
    ap.add_argument("--no-cache", action="store_true",
                    help="turn both servers' auth caches off")
    ap.add_argument("--verify-threads", type=int, default=2,
                    help="Postern's auth.verify_threads (0: checks on the loop)")
    ap.add_argument("--cert", choices=["rsa", "ecdsa"], default="rsa",
                    help="key type of the certificate both servers use")
    opts = ap.parse_args()
    YESCRYPT_COST, AUTH_CACHE = opts.cost, not opts.no_cache
    VERIFY_THREADS = opts.verify_threads
    DOVECOT_FSYNC = opts.dovecot_fsync
    if opts.lmtp_only and opts.no_lmtp:
        raise SystemExit("--lmtp-only and --no-lmtp exclude each other")
    if opts.scenario:
        pop_scenarios = [sc for sc in opts.scenario if sc in SCENARIOS]
        lmtp_scenarios = [sc for sc in opts.scenario if sc in LMTP_SCENARIOS]
    else:
        pop_scenarios = [] if opts.lmtp_only else list(SCENARIOS)
        lmtp_scenarios = [] if opts.no_lmtp else list(LMTP_SCENARIOS)
    if opts.lmtp_only:
        pop_scenarios = []
        opts.idle = opts.big_mailbox = 0
    if opts.no_lmtp:
        lmtp_scenarios = []
    if not pop_scenarios and not lmtp_scenarios:
        raise SystemExit("no scenario left to run")
    if opts.repeat < 1:
        raise SystemExit("--repeat: at least 1")
    for tool in ([POPBENCH] if pop_scenarios or opts.idle else []) + \
            ([LMTPBENCH] if lmtp_scenarios else []):
        if not tool.exists():
            raise SystemExit(f"{tool} is missing: run make first")
    root = pathlib.Path(opts.dir)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    small, big = make_messages(root)
    certificate(root, opts.cert)
    Postern.workers = opts.workers
    lmtp, pop = bool(lmtp_scenarios), bool(pop_scenarios)
    servers = [] if opts.dovecot_only else \
        [Postern(root, small, big, pop=pop, lmtp=lmtp, lmtp_unix=opts.lmtp_unix)]
    if lmtp and not opts.dovecot_only and not servers[0].lmtp:
        print("postern: no LMTP module in this tree (modules/lmtp/.libs/lmtp.so): "
              "its lmtp-* scenarios are skipped", flush=True)
    if not opts.postern_only:
        if shutil.which("dovecot") is None:
            raise SystemExit("dovecot is not installed: apt-get install dovecot-pop3d"
                             + (" dovecot-lmtpd" if lmtp else ""))
        if lmtp and not Dovecot.LMTP_BINARY.exists():
            raise SystemExit("Dovecot's LMTP server is not installed: apt-get install "
                             "dovecot-lmtpd (or run with --no-lmtp)")
        servers.append(Dovecot(root, small, big, pop=pop, lmtp=lmtp, lmtp_unix=opts.lmtp_unix))
    if lmtp:
        print(f"lmtp: {'UNIX socket' if opts.lmtp_unix else 'TCP on 127.0.0.1'}, "
              f"msg4k.eml ({len(small)} octets), {LMTP_USERS} users {LMTP_RCPT}, "
              f"Dovecot mail_fsync = {DOVECOT_FSYNC}", flush=True)
    results = {}
    mismatches = []
    for srv in servers if pop_scenarios or opts.big_mailbox or opts.idle else []:
        if opts.big_mailbox:
            fill_big_mailbox(srv, root, opts.big_mailbox)
        srv.start()
        try:
            for sc in pop_scenarios:
                values, raw = bench(srv, sc, opts.duration)
                results[(srv.name, sc)] = values
                print(f"{srv.name:8} {sc:12} {raw.strip().splitlines()[0] if raw.strip() else raw}",
                      flush=True)
            if opts.big_mailbox:
                (login, stat, count), cold = time_big_login(srv)
                results[(srv.name, "big")] = {"login_ms": login, "stat_ms": stat}
                print(f"{srv.name:8} big{opts.big_mailbox:<9} {count.decode()} messages: "
                      f"PASS->+OK {login:.1f} ms, STAT {stat:.1f} ms "
                      f"(first login {cold[0]:.1f} + {cold[1]:.1f} ms)", flush=True)
            if opts.idle:
                per_conn, out = idle_memory(srv, opts.idle)
                results[(srv.name, "idle")] = {"bytes_per_conn": f"{per_conn:.0f}"}
                print(f"{srv.name:8} idle{opts.idle:<8} {per_conn:.0f} bytes per idle connection",
                      flush=True)
        finally:
            srv.stop()
    lmtp_rounds = lmtp_phase([srv for srv in servers if srv.lmtp], lmtp_scenarios,
                             opts.duration, root, opts.repeat, mismatches)
    print()
    print(f"{'scenario':12} {'postern':>12} {'dovecot':>12} {'ratio':>7}  measure")
    for sc in pop_scenarios:
        key = "mb_s" if sc.startswith("retr1m") else "sessions_s"
        p = float(results.get(("postern", sc), {}).get(key, "nan"))
        d = float(results.get(("dovecot", sc), {}).get(key, "nan"))
        print(f"{sc:12} {p:12.1f} {d:12.1f} {p / d if d else float('nan'):7.2f}  {key}")
    for sc in lmtp_scenarios:
        p = median(r.get("postern", float("nan")) for r in lmtp_rounds[sc])
        d = median(r.get("dovecot", float("nan")) for r in lmtp_rounds[sc])
        line = f"{sc:12} {p:12.1f} {d:12.1f} {p / d if d else float('nan'):7.2f}  messages_s"
        if opts.repeat > 1:
            ratios = [r.get("postern", float("nan")) / r["dovecot"] if r.get("dovecot") else
                      float("nan") for r in lmtp_rounds[sc]]
            line += (f" (median of {opts.repeat} rounds; ratio per round: "
                     + " ".join(f"{x:.2f}" for x in ratios) + ")")
        print(line)
    if opts.big_mailbox:
        for what in ("login_ms", "stat_ms"):
            p = float(results.get(("postern", "big"), {}).get(what, "nan"))
            d = float(results.get(("dovecot", "big"), {}).get(what, "nan"))
            print(f"{'big ' + what:12} {p:12.1f} {d:12.1f} {p / d if d else float('nan'):7.2f}  ms")
    if opts.idle:
        p = float(results.get(("postern", "idle"), {}).get("bytes_per_conn", "nan"))
        d = float(results.get(("dovecot", "idle"), {}).get("bytes_per_conn", "nan"))
        print(f"{'idle':12} {p:12.0f} {d:12.0f} {p / d if d else float('nan'):7.2f}  bytes/conn")
    if pop_scenarios or opts.idle:
        try:
            print(f"\nbare sendfile() loopback bound: {sendfile_bound(root):.1f} MB/s")
        except (subprocess.CalledProcessError, OSError, AttributeError) as e:
            print(f"\nbare sendfile() bound not measured: {e}")
    if mismatches:
        for name, sc, stored, replies in mismatches:
            print(f"{name} {sc}: {stored} messages stored but {replies} 250 replies",
                  file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

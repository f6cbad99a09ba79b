#!/usr/bin/env python3
"""retrievalbench.py - how fast Postern's POP3 retrievals move mail.

Starts two throwaway posternd from the build tree in a temporary
directory: a remote with --messages messages of --size octets in one
account, and a local one with the retrieval and LMTP modules.  Then, in
one run, the same mail is fetched twice, each time from a freshly filled
remote:

  postern    `posternctl retrieval run` of a source (delete after fetching):
             the retrieval module's own client, every message fsynced and
             committed before its DELE;
  fetchmail  Debian's fetchmail polling the same remote and handing each
             message to the local posternd over LMTP (also fsynced and
             committed before fetchmail deletes it): what an admin runs
             without a built-in retrieval.

Prints messages/s and MiB/s for each, and the local posternd's resident
memory after.  Stops both servers by their pids.

    tests/bench/retrievalbench.py                        # 2000 x 8 KiB
    tests/bench/retrievalbench.py --messages 200 --size 1048576

Recorded in doc/performance.md.
"""
import argparse
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUILD = pathlib.Path(os.environ.get(
    "POSTERN_BUILDDIR", pathlib.Path(__file__).resolve().parents[2]))
USER, PASSWORD, DOMAIN = "jsmith", "Bench-pass-1", "example.test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc):
    for _ in range(500):
        if proc.poll() is not None:
            raise SystemExit(f"posternd exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"posternd did not listen on {port}")


def rss_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Server:
    def __init__(self, root, modules, extra=""):
        self.root = root
        root.mkdir(parents=True)
        self.port, self.lmtp_port = free_port(), free_port()
        self.conf = root / "postern.conf"
        self.conf.write_text(
            f"data_dir = {root / 'data'}\nmodule_dir = {BUILD / 'modules'}\n"
            f"main_domain = {DOMAIN}\nmodules = {modules}\n"
            f"[log]\nlevel = notice\ntarget = {root / 'postern.log'}\n"
            f"[auth]\npassword_cost = 1\n"
            f"[pop]\nlisten = 127.0.0.1:{self.port}\n"
            + (f"[lmtp]\nlisten = 127.0.0.1:{self.lmtp_port}\n" if "lmtp" in modules else "")
            + extra)
        self.ctl("domain", "add", DOMAIN)
        self.ctl("account", "add", USER, input=PASSWORD + "\n")
        self.proc = None

    def ctl(self, *args, input=None):
        res = subprocess.run([str(BUILD / "posternctl"), "-c", str(self.conf), *args],
                             input=input, capture_output=True, text=True, timeout=3600)
        if res.returncode != 0:
            raise SystemExit(f"posternctl {' '.join(args)}: {res.stderr}")
        return res.stdout

    def start(self):
        self.proc = subprocess.Popen([str(BUILD / "posternd"), "-f", "-c", str(self.conf)])
        wait_port(self.port, self.proc)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


def fill(remote, tmp, count, size):
    """count messages of about size octets into the remote's INBOX."""
    files = []
    line = b"x" * 76 + b"\r\n"
    for i in range(count):
        head = (b"From: sender@example.org\r\nTo: jsmith@example.test\r\n"
                b"Subject: bench %d\r\nMessage-ID: <%d.bench@example.org>\r\n\r\n" % (i, i))
        body = line * max(1, (size - len(head)) // len(line))
        f = tmp / f"m{i}"
        f.write_bytes(head + body)
        files.append(str(f))
    for at in range(0, len(files), 500):
        remote.ctl("message", "import", USER, *files[at:at + 500])
    for f in files:
        os.unlink(f)


def remote_count(remote):
    out = remote.ctl("message", "list", USER)
    return len([line for line in out.splitlines()[1:] if line.strip()])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="retrievalbench."))
    remote = Server(work / "remote", "pop")
    local = Server(work / "local", "pop, lmtp, retrieval",
                   "[retrieval]\nlogin_trigger = no\n")
    total = args.messages * args.size / 1048576
    try:
        remote.start()
        local.start()
        print(f"{args.messages} messages of {args.size} octets ({total:.1f} MiB)")

        fill(remote, work, args.messages, args.size)
        pw = work / "pw"
        pw.write_text(PASSWORD + "\n")
        out = local.ctl("retrieval", "add", USER, "--host", "127.0.0.1", "--port",
                        str(remote.port), "--tls", "none", "--user", USER,
                        "--password-file", str(pw), "--disabled")
        rid = out.split()[1]
        t0 = time.monotonic()
        local.ctl("retrieval", "set", USER, rid, "enabled=yes")
        out = local.ctl("retrieval", "run", USER, rid, "--timeout", "3600")
        dt = time.monotonic() - t0
        assert f"ok, {args.messages} fetched" in out, out
        assert remote_count(remote) == 0
        print(f"postern    {args.messages / dt:8.0f} messages/s  {total / dt:7.1f} MiB/s"
              f"  ({dt:.2f} s)")
        local.ctl("retrieval", "set", USER, rid, "enabled=no")

        fetchmail = shutil.which("fetchmail")
        if fetchmail is None:
            print("fetchmail   not installed (apt-get install fetchmail)")
        else:
            fill(remote, work, args.messages, args.size)
            rc = work / "fetchmailrc"
            rc.write_text(
                f"poll 127.0.0.1 protocol POP3 port {remote.port} auth password\n"
                f'  user "{USER}" with password "{PASSWORD}" is "{USER}" here\n'
                f"  options sslproto '' smtphost 127.0.0.1/{local.lmtp_port} lmtp"
                f" smtpaddress {DOMAIN}\n")
            rc.chmod(0o600)
            env = dict(os.environ, HOME=str(work))
            t0 = time.monotonic()
            res = subprocess.run([fetchmail, "--nosyslog", "-f", str(rc), "--pidfile",
                                  str(work / "fm.pid"), "--idfile", str(work / "fm.ids")],
                                 capture_output=True, text=True, env=env, timeout=3600)
            dt = time.monotonic() - t0
            if res.returncode != 0 or remote_count(remote) != 0:
                print(f"fetchmail failed ({res.returncode}): {res.stderr[-500:]}")
            else:
                print(f"fetchmail  {args.messages / dt:8.0f} messages/s  {total / dt:7.1f} MiB/s"
                      f"  ({dt:.2f} s, delivering over LMTP)")
        print(f"local posternd RSS {rss_kib(local.proc.pid) / 1024:.1f} MiB")
    finally:
        local.stop()
        remote.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    main()

"""Debian's Dovecot (dovecot-pop3d) as a remote POP3 server for the
retrieval tests: its own dovecot.conf under a temporary directory (the
approach of tests/bench/compare.py), a passwd-file with plain passwords
(so USER/PASS, SASL PLAIN and APOP all work), Maildir under the same
directory, STLS on one free loopback port and implicit TLS (pop3s) on
another with the test CA's certificate, a log file.  Messages go in as
Maildir files written directly.

Run as root, the login processes run as dovenull and the mail processes
as nobody (Dovecot refuses mail access as uid 0); run as another user,
every Dovecot process is that user.  The directory is made with mkdtemp
outside pytest's 0700 tree, so that nobody can reach the Maildir, and
kept short for Dovecot's UNIX sockets.  Dovecot runs in the foreground
(-F), so the fixture stops it by the pid it started.
"""
import os
import pathlib
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


class Dovecot:
    user = "remote"
    password = "remote-pw"

    def __init__(self, certs, user=None, password=None):
        self.user = user or self.user
        self.password = password or self.password
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="pdc-"))
        os.chmod(self.root, 0o755)
        self.port, self.tls_port = free_port(), free_port()
        self.logfile = self.root / "dovecot.log"
        self.maildir = self.root / "home" / self.user / "Maildir"
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(parents=True)
        if os.geteuid() == 0:
            mail_user, mail_group = "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
            login_user = "dovenull" if _user_exists("dovenull") else "nobody"
            internal_user = "dovecot" if _user_exists("dovecot") else "nobody"
        else:
            me = pwd.getpwuid(os.geteuid())
            mail_user, mail_group = me.pw_name, grp.getgrgid(me.pw_gid).gr_name
            login_user = internal_user = me.pw_name
        # the group of Dovecot's internal UNIX sockets: "dovecot" as root,
        # one's own group otherwise (chown to another fails)
        internal_group = "dovecot" if os.geteuid() == 0 and _group_exists("dovecot") \
            else mail_group if os.geteuid() != 0 else "nogroup"
        self.uid = pwd.getpwnam(mail_user).pw_uid
        self.gid = grp.getgrnam(mail_group).gr_gid
        self._chown(self.root / "home")
        passwd = self.root / "passwd"
        passwd.write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        os.chmod(passwd, 0o644)
        (self.root / "run").mkdir()
        (self.root / "state").mkdir()
        self.n = 0
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(f"""base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = postern-remote-{self.root.name}
protocols = pop3
listen = 127.0.0.1
log_path = {self.logfile}
auth_verbose = yes
auth_debug = yes
ssl = yes
ssl_cert = <{certs.cert}
ssl_key = <{certs.key}
disable_plaintext_auth = no
auth_mechanisms = plain apop
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 0
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {passwd}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={self.root}/home/%u
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
  chroot =
}}
# no chroots, which need root
service anvil {{
  chroot =
}}
""")
        self.proc = None

    def _chown(self, path):
        if os.geteuid() != 0:
            return
        for dirpath, dirs, files in os.walk(path):
            os.chown(dirpath, self.uid, self.gid)
            for f in files:
                os.chown(os.path.join(dirpath, f), self.uid, self.gid)

    # -- the mailbox -----------------------------------------------------
    def add(self, data: bytes):
        """A message into the Maildir's new/, as a local delivery would;
        Dovecot sees it at the next login."""
        self.n += 1
        name = f"{int(time.time())}.M{self.n}P{os.getpid()}.remote,S={len(data)},W={len(data)}"
        tmp = self.maildir / "tmp" / name
        tmp.write_bytes(data)
        self._chown(tmp)
        os.rename(tmp, self.maildir / "new" / name)

    def files(self):
        return sorted(p for sub in ("new", "cur") for p in (self.maildir / sub).iterdir())

    def messages(self):
        """The messages the Maildir holds now (bytes, in file name order)."""
        return [p.read_bytes() for p in self.files()]

    # -- process ---------------------------------------------------------
    def start(self):
        self.err = open(self.root / "stderr.log", "ab")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)],
                                     stdout=self.err, stderr=self.err)
        deadline = time.monotonic() + 20
        for port in (self.port, self.tls_port):
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"dovecot exited with {self.proc.returncode}:\n"
                                       f"{self.log()}{(self.root / 'stderr.log').read_text()}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"dovecot did not listen on {port}:\n{self.log()}")
                    time.sleep(0.05)
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.err.close()
        self.proc = None

    def log(self):
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture
def dovecot(certs):
    """A running Dovecot with one user (Dovecot.user, Dovecot.password) and
    an empty Maildir; .port speaks STLS, .tls_port implicit TLS."""
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot-pop3d is not installed (tools/deps.sh installs it)")
    dc = Dovecot(certs)
    try:
        dc.start()
        yield dc
    finally:
        dc.cleanup()

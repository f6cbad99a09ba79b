"""The web admin pages in a real browser against a real posternd: Debian's
Chromium driven by playwright-core (tests/browser/admin.spec.mjs) does what
an admin does - logs in, makes a domain and an account, sets an ACL, posts
an alert with markup in it (shown as text), adds a remote POP3 account (a
second posternd) and sees its mail fetched, and sees the account's next POP
login refused with it, sets pop.channels to 1 and sees a second POP client
turned away at once, looks at the queue and follows the log, pages through a domain of 120 accounts, works at
phone width, logs in as a domain admin, loses its session, cleans up and
logs out - and fails on any script error or Content-Security-Policy
violation.  The step-by-step output is printed when it fails.

The browser test needs Node.js, /usr/bin/chromium and playwright-core
(`npm ci` in tests/browser; tools/check.sh does both)."""
import http.client
import json
import os
import pathlib
import shutil
import subprocess

from conftest import DOMAIN, PASSWORD, USER, free_port, make_server, message

SOURCE = pathlib.Path(__file__).resolve().parents[2]
BROWSER_DIR = SOURCE / "tests" / "browser"
ADMIN, ADMIN_PASSWORD = f"admin@{DOMAIN}", "Admin-pass-1"


def api(port, method, path, body=None, cookie=None, token=None):
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    if token:
        headers["X-CSRF-Token"] = token
    con.request(method, path, json.dumps(body) if body is not None else None, headers)
    resp = con.getresponse()
    data = resp.read()
    con.close()
    return resp, json.loads(data) if data else None


def login(port):
    resp, answer = api(port, "POST", "/api/login",
                       {"user": ADMIN, "password": ADMIN_PASSWORD})
    assert resp.status == 200, answer
    cookie = resp.getheader("Set-Cookie").split(";", 1)[0]
    return cookie, answer["csrf"]


def test_admin_pages_in_chromium(tmp_path):
    """An admin's whole round through the pages passes every step."""
    node = shutil.which("node")
    assert node, "Node.js is missing: apt-get install nodejs (tools/check.sh does)"
    assert os.path.exists("/usr/bin/chromium"), "apt-get install chromium"
    assert (BROWSER_DIR / "node_modules" / "playwright-core").is_dir(), \
        "playwright-core is missing: run `npm ci` in tests/browser"
    # a remote POP3 account for the account page's remote POP3 panel
    (tmp_path / "remote").mkdir()
    remote = make_server(tmp_path / "remote")
    for i in range(3):
        remote.deliver(message(i))
    remote.start()
    http_port = free_port()
    srv = make_server(tmp_path, **{
        "modules": "pop, http, retrieval",
        "http.listen": f"127.0.0.1:{http_port}",
        "http.root": str(SOURCE / "webadmin"),
    })
    srv.add_account(ADMIN, ADMIN_PASSWORD)
    srv.ctl("account", "set", ADMIN, "webadmin=server")
    srv.ctl("domain", "add", "big.test")
    srv.start()
    try:
        # a domain large enough to page through, made through the API
        cookie, token = login(http_port)
        for i in range(120):
            resp, answer = api(http_port, "POST", "/api/domains/big.test/accounts",
                               {"name": f"user{i:03d}", "password": f"Pass-{i}-word"},
                               cookie, token)
            assert resp.status == 201, answer
        env = dict(os.environ,
                   POSTERN_URL=f"http://127.0.0.1:{http_port}",
                   POSTERN_ADMIN=ADMIN, POSTERN_PASSWORD=ADMIN_PASSWORD,
                   # the server logs every API request: the log page grows
                   POSTERN_LOG_GROWS="1",
                   # and the mail user's side: the alert at the next POP
                   # login, the channel limit at once
                   POSTERN_POP=f"127.0.0.1:{srv.port}",
                   POSTERN_REMOTE=f"127.0.0.1:{remote.port}:{USER}:{PASSWORD}",
                   POSTERN_REMOTE_COUNT="3",
                   POSTERN_SCREENSHOTS=str(tmp_path / "screenshots"))
        res = subprocess.run([node, str(BROWSER_DIR / "admin.spec.mjs")], env=env,
                             cwd=BROWSER_DIR, capture_output=True, text=True,
                             timeout=300)
        out = res.stdout + res.stderr
        assert res.returncode == 0, f"browser test failed:\n{out}"
        assert " 0 failed" in out, out
        assert "paging not checked" not in out, out
        assert "not checked" not in out, out
        # what the pages changed went through the server: pop.channels is
        # back where the test found it, the test's domain is gone
        listed = srv.ctl("domain", "list").stdout.decode()
        assert "pw-" not in listed, listed
    finally:
        assert srv.stop() == 0
        assert remote.stop() == 0

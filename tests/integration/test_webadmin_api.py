"""The web admin's JSON API (doc/api.md) over real HTTP against a real
posternd: every endpoint once with its documented answer, the error
paths with their exact status and a message naming what was wrong, who
may do what (anonymous, a domain admin inside and outside their domain,
a server admin; with curl too), the session's cookie and CSRF token,
markup coming back as JSON text, paths that try to leave webadmin/, a
thousand slow HTTP clients beside a POP user, and failed logins logged.

Most tests share one server (module scope) and use names of their own;
the few that need settings of their own start a server each."""
import http.client
import json
import os
import pathlib
import poplib
import re
import shutil
import socket
import struct
import subprocess
import time

import pytest

from conftest import DOMAIN, PASSWORD, USER, free_port, make_server, message
from smarthost import xmit
from webadmin import Api, quote, raw_http, status_of, wait_http

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN, ADMIN_PASSWORD = f"admin@{DOMAIN}", "Admin-pass-1"
OTHER = "other.test"
BOSS, BOSS_PASSWORD = f"boss@{OTHER}", "Boss-pass-1"
BOB = f"bob@{OTHER}"
ME = f"{USER}@{DOMAIN}"
SECRET = "SECRET-OUTSIDE-WEBADMIN-7f3a"
SCRIPT = "<script>alert('x')</script>"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
POLICIES = {"pop", "xmit", "lmtp", "retrieval", "pop_from", "pop_delete",
            "pop_login_delay", "pop_expire"}


def copy_root(tmp):
    """webadmin/ copied under tmp/www, a secret file beside it: what a
    path that leaves the root would find."""
    www = tmp / "www"
    www.mkdir(parents=True, exist_ok=True)
    root = www / "webadmin"
    if not root.exists():
        shutil.copytree(os.path.join(SOURCE, "webadmin"), root)
    (www / "secret.txt").write_text(SECRET + "\n")
    (root / ".hidden.txt").write_text(SECRET + "\n")
    return root


def web_server(root, **extra):
    """A posternd with POP, the relay (towards a smarthost that is not
    there: entries stay queued) and the web admin; an admin of the whole
    server, a domain other.test with its domain admin and bob."""
    http_port = free_port()
    settings = {
        "modules": "pop, relay, http",
        "http.listen": f"127.0.0.1:{http_port}",
        "http.root": str(copy_root(root)),
        "relay.smarthost": f"127.0.0.1:{free_port()}",
        "relay.starttls": "off",
        "auth.failure_delay_ms": "0",
    }
    settings.update(extra)
    srv = make_server(root, **settings)
    srv.http_port = http_port
    srv.add_account(ADMIN, ADMIN_PASSWORD)
    srv.ctl("account", "set", ADMIN, "webadmin=server")
    srv.ctl("domain", "add", OTHER)
    srv.add_account(BOSS, BOSS_PASSWORD)
    srv.ctl("account", "set", BOSS, "webadmin=domain")
    srv.add_account(BOB, "Bob-pass-1")
    return srv


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    srv = web_server(tmp_path_factory.mktemp("web"))
    srv.start()
    wait_http(srv.http_port)
    yield srv
    assert srv.stop() == 0


@pytest.fixture
def admin(web):
    return Api(web.http_port, ADMIN, ADMIN_PASSWORD).login()


@pytest.fixture
def boss(web):
    return Api(web.http_port, BOSS, BOSS_PASSWORD).login()


@pytest.fixture
def anon(web):
    return Api(web.http_port)


def is_list(answer, offset=0):
    assert set(answer) == {"items", "total", "offset"}, answer
    assert isinstance(answer["items"], list)
    assert answer["offset"] == offset
    assert answer["total"] >= len(answer["items"])
    return answer["items"]


def fails(a, status, *words, field=None):
    """a is a JSON error of this status whose text holds every word."""
    assert a.status == status, a
    assert a.header("Content-Type").startswith("application/json"), a.headers
    assert a.header("Cache-Control") == "no-store"
    assert isinstance(a.error, str) and a.error, a
    for w in words:
        assert w.lower() in a.error.lower(), f"{w!r} not in {a.error!r}"
    if field is not None:
        assert a.json.get("field") == field, a.json
    return a.error


def new_account(api, name, domain=DOMAIN, **extra):
    body = {"name": name, "password": f"{name}-Pass-1", **extra}
    got = api.ok("POST", f"/api/domains/{domain}/accounts", body, status=201)
    assert got == {"address": f"{name.lower()}@{domain}"}
    return got["address"]


def pop_login(srv, user, password):
    p = srv.connect()
    p.user(user)
    p.pass_(password)
    return p


# -- the session ---------------------------------------------------------------

def test_login_session_and_cookie(web, admin, boss):
    assert admin.session["user"] == ADMIN
    assert admin.session["role"] == "server"
    assert admin.session["domains"] == []
    assert HEX64.match(admin.csrf)
    parts = [p.strip() for p in admin.set_cookie.split(";")]
    name, value = parts[0].split("=", 1)
    assert name == "postern_session" and HEX64.match(value)
    assert "HttpOnly" in parts and "SameSite=Strict" in parts and "Path=/" in parts
    assert "Secure" not in parts    # plain HTTP
    assert admin.ok("GET", "/api/session") == admin.session
    assert boss.session["role"] == "domain" and boss.session["domains"] == [OTHER]
    assert boss.ok("GET", "/api/session")["csrf"] == boss.csrf
    # two logins, two sessions
    second = Api(web.http_port, ADMIN, ADMIN_PASSWORD).login()
    assert second.cookie != admin.cookie and second.csrf != admin.csrf


@pytest.mark.parametrize("user,password", [
    (ADMIN, "wrong-password"), (f"nobody@{DOMAIN}", "whatever-1"), (ME, PASSWORD)])
def test_failed_logins_all_answer_the_same(anon, user, password):
    a = anon.post("/api/login", {"user": user, "password": password})
    assert fails(a, 401) == "wrong user name or password"
    assert a.cookies == []


@pytest.mark.parametrize("raw,words", [
    (b"{", ["JSON"]),
    (b"[]", ["JSON"]),
    (json.dumps({"user": ADMIN}).encode(), ["'user' and 'password'"]),
    (json.dumps({"user": ADMIN, "password": 5}).encode(), ["strings"]),
    (json.dumps({"user": ADMIN, "password": "x", "remember": True}).encode(),
     ["only 'user' and 'password'"]),
])
def test_login_bodies_that_are_wrong(anon, raw, words):
    fails(anon.post("/api/login", raw=raw), 400, *words)


def test_logout_ends_the_session_and_the_cookie_replayed_is_refused(web):
    api = Api(web.http_port, ADMIN, ADMIN_PASSWORD).login()
    # logout is a change: the token is needed
    fails(api.post("/api/logout", csrf=False), 403, "X-CSRF-Token")
    assert api.ok("GET", "/api/session")["user"] == ADMIN
    a = api.logout()
    [cleared] = a.cookies
    assert cleared.startswith("postern_session=;") and "Max-Age=0" in cleared
    assert "HttpOnly" in cleared and "SameSite=Strict" in cleared
    # the old cookie, replayed, is nobody's
    fails(api.get("/api/session"), 401, "log in")
    fails(api.get("/api/domains"), 401, "log in")
    fails(api.post("/api/domains", {"name": "replayed.test"}), 401, "log in")
    assert "replayed.test" not in web.ctl("domain", "list").stdout.decode()


@pytest.mark.parametrize("cookie", [
    None, "postern_session=", "postern_session=" + "0" * 64,
    "postern_session=" + "g" * 64, "postern_session=short", "other=" + "0" * 64])
def test_no_session_is_401(anon, cookie):
    for method, path in [("GET", "/api/session"), ("GET", "/api/status"),
                         ("GET", "/api/domains"), ("POST", "/api/logout"),
                         ("GET", f"/api/accounts/{quote(ME)}"), ("GET", "/api/nothing")]:
        a = anon.request(method, path, cookie=cookie or False)
        fails(a, 401, "log in first")


@pytest.mark.parametrize("token", [None, "", "0" * 64, "x", "A" * 64])
def test_a_change_without_the_right_csrf_token_is_403(web, admin, token):
    for method, path, body in [
            ("POST", "/api/domains", {"name": "csrf.test"}),
            ("PATCH", "/api/server", {"policies": {"pop_delete": "hide"}}),
            ("DELETE", f"/api/accounts/{quote(ME)}", None),
            ("PUT", f"/api/accounts/{quote(ME)}/mailboxes/INBOX/acl/anyone", {"rights": "lr"}),
            ("POST", "/api/logout", None)]:
        headers = {"X-CSRF-Token": token} if token is not None else None
        a = admin.request(method, path, body, csrf=False, headers=headers)
        fails(a, 403, "X-CSRF-Token")
    # another session's token is no good either
    other = Api(web.http_port, ADMIN, ADMIN_PASSWORD).login()
    fails(admin.post("/api/domains", {"name": "csrf.test"}, csrf=other.csrf), 403, "token")
    # nothing happened
    assert "csrf.test" not in web.ctl("domain", "list").stdout.decode()
    assert admin.ok("GET", "/api/server")["policies"]["pop_delete"]["set"] is None
    assert admin.ok("GET", "/api/session")["user"] == ADMIN
    web.wait_log("refused: no or a wrong CSRF token")


def test_losing_the_webadmin_right_ends_the_session(web, admin):
    address = new_account(admin, "losing")
    admin.ok("PATCH", f"/api/accounts/{quote(address)}", {"webadmin": "domain"})
    api = Api(web.http_port, address, "losing-Pass-1").login()
    assert api.session["role"] == "domain"
    web.ctl("account", "set", address, "webadmin=none")
    fails(api.get("/api/session"), 401, "admin right")
    # and the session is gone for good
    web.ctl("account", "set", address, "webadmin=domain")
    fails(api.get("/api/session"), 401, "log in")


# -- status, log, settings ----------------------------------------------------------

def test_status(admin):
    s = admin.ok("GET", "/api/status")
    assert set(s) == {"version", "started", "uptime", "workers", "connections",
                      "connections_since_start", "domains", "accounts", "mailboxes",
                      "messages", "queue", "queue_pending"}
    assert s["workers"] == 1
    assert set(s["connections"]) == {"pop"} and set(s["connections_since_start"]) == {"pop"}
    assert abs(s["started"] + s["uptime"] - time.time()) < 5
    assert s["domains"] >= 2 and s["accounts"] >= 4
    for k in ("uptime", "mailboxes", "messages", "queue", "queue_pending"):
        assert isinstance(s[k], int) and s[k] >= 0


def test_log_tail_filters_and_follow(web, admin):
    got = admin.ok("GET", "/api/log")
    assert set(got) == {"lines", "offset"}
    assert 0 < got["offset"] <= os.path.getsize(web.logfile)
    assert 0 < len(got["lines"]) <= 200
    assert any("web admin on http://127.0.0.1" in line for line in
               admin.ok("GET", "/api/log?lines=2000")["lines"])
    three = admin.ok("GET", "/api/log?lines=3")["lines"]
    assert len(three) == 3
    for line in admin.ok("GET", "/api/log?tag=http&lines=50")["lines"]:
        assert line.split()[3].startswith("HTTP"), line
    notices = admin.ok("GET", "/api/log?level=notice&lines=2000")["lines"]
    assert notices and all(line.split()[2] in ("notice", "warning", "error")
                           for line in notices), notices
    # follow: only what came since, then nothing new but our own request
    start = admin.ok("GET", "/api/log?lines=1")["offset"]
    posted = admin.ok("POST", "/api/alerts", {"text": "follow me", "domain": OTHER},
                      status=201)
    admin.ok("DELETE", f"/api/alerts/{posted['id']}", status=204)
    after = admin.ok("GET", f"/api/log?after={start}&tag=HTTP")
    assert any("POST /api/alerts -> 201" in line for line in after["lines"]), after
    assert after["offset"] > start
    # a file shorter than `after` (rotated) is read from its start
    assert admin.ok("GET", "/api/log?after=999999999999&lines=1")["lines"]
    fails(admin.get("/api/log?lines=0"), 400, "lines", field="lines")
    fails(admin.get("/api/log?lines=2001"), 400, "lines", field="lines")
    fails(admin.get("/api/log?lines=ten"), 400, "lines", field="lines")
    fails(admin.get("/api/log?level=loud"), 400, "level", field="level")
    fails(admin.get("/api/log?after=-1"), 400, "after", field="after")


def test_log_not_in_a_file_is_409(tmp_path):
    srv = web_server(tmp_path, **{"log.target": "stderr"})
    srv.start()
    try:
        wait_http(srv.http_port)
        api = Api(srv.http_port, ADMIN, ADMIN_PASSWORD).login()
        fails(api.get("/api/log"), 409, "stderr, not a file", "target = ")
    finally:
        assert srv.stop() == 0


def test_settings_listed_with_their_sources(admin, web):
    s = admin.ok("GET", "/api/settings")["settings"]
    assert s["pop.channels"] == {"value": "1000", "source": "default", "changeable": True}
    assert s["pop.listen"] == {"value": f"127.0.0.1:{web.port}", "source": "postern.conf",
                               "changeable": True}
    assert s["log.level"]["value"] == "debug"
    assert "lmtp.channels" not in s          # lmtp is not loaded
    assert "relay.smarthost" in s and "tls.cert" in s
    assert "http.listen" not in s and "data_dir" not in s


def test_a_setting_changed_takes_effect_at_once(web, admin):
    """pop.channels = 1: a second POP client is turned away; "" puts it back."""
    conf = web.root / "data" / "settings.conf"
    got = admin.ok("PATCH", "/api/settings", {"pop.channels": "1"})["settings"]
    try:
        assert got["pop.channels"] == {"value": "1", "source": "web admin", "changeable": True}
        assert "pop.channels = 1" in conf.read_text()
        first = pop_login(web, USER, PASSWORD)
        deadline = time.monotonic() + 10
        refused = None
        while refused is None and time.monotonic() < deadline:
            try:
                p = web.connect()
                p.quit()
                time.sleep(0.1)   # the reload may still be on its way
            except poplib.error_proto as e:
                refused = str(e)
        assert refused and "too many connections" in refused, refused
        first.quit()
    finally:
        back = admin.ok("PATCH", "/api/settings", {"pop.channels": ""})["settings"]
    assert back["pop.channels"] == {"value": "1000", "source": "default", "changeable": True}
    assert "pop.channels" not in conf.read_text()
    # two at once are served again
    deadline = time.monotonic() + 10
    while True:
        try:
            a, b = web.connect(), web.connect()
            a.quit()
            b.quit()
            break
        except poplib.error_proto:
            assert time.monotonic() < deadline, "pop.channels did not go back"
            time.sleep(0.1)


@pytest.mark.parametrize("body,status,field,words", [
    ({"pop.channels": "many"}, 400, "pop.channels", ["channels"]),
    ({"pop.idle_timeout": "-3"}, 400, "pop.idle_timeout", ["idle_timeout"]),
    ({"log.level": "loud"}, 400, "log.level", ["level"]),
    ({"http.listen": "127.0.0.1:1"}, 400, "http.listen", ["http.listen", "postern.conf"]),
    ({"data_dir": "/tmp"}, 400, "data_dir", ["data_dir", "cannot be changed"]),
    ({"pop.channels": 5}, 400, "pop.channels", ["must be a string"]),
    ({}, 400, None, ["send the settings"]),
])
def test_settings_that_are_refused_change_nothing(web, admin, body, status, field, words):
    before = admin.ok("GET", "/api/settings")
    a = admin.patch("/api/settings", body)
    fails(a, status, *words, field=field)
    assert admin.ok("GET", "/api/settings") == before


def test_server_policies(admin):
    got = admin.ok("GET", "/api/server")
    assert set(got) == {"policies"} and set(got["policies"]) == POLICIES
    assert got["policies"]["pop_delete"] == {"value": "delete", "from": "default", "set": None}
    got = admin.ok("PATCH", "/api/server", {"policies": {"pop_login_delay": "5"}})
    assert got["policies"]["pop_login_delay"] == {"value": "5", "from": "server", "set": "5"}
    got = admin.ok("PATCH", "/api/server", {"policies": {"pop_login_delay": ""}})
    assert got["policies"]["pop_login_delay"] == {"value": "0", "from": "default", "set": None}
    fails(admin.patch("/api/server", {"policies": {"pop_delete": "shred"}}), 400,
          "pop_delete", field="pop_delete")
    fails(admin.patch("/api/server", {"policies": {"colour": "blue"}}), 400, "colour",
          field="colour")
    fails(admin.patch("/api/server", {"policies": "pop=no"}), 400, "policies",
          field="policies")
    fails(admin.patch("/api/server", {}), 400, "policies", field="policies")
    fails(admin.patch("/api/server", {"policies": {}, "x": 1}), 400, "'x'", field="x")


# -- domains -----------------------------------------------------------------------

def test_domains(web, admin):
    assert admin.ok("POST", "/api/domains", {"name": "Zeta.Test"}, status=201) == \
        {"name": "zeta.test"}
    fails(admin.post("/api/domains", {"name": "zeta.test"}), 409, "zeta.test", "exists")
    for n in range(3):
        admin.ok("POST", "/api/domains", {"name": f"page{n}.test"}, status=201)
    listed = admin.ok("GET", "/api/domains")
    names = [d["name"] for d in is_list(listed)]
    assert names == sorted(names) and {DOMAIN, OTHER, "zeta.test"} <= set(names)
    assert all(set(d) == {"name", "accounts"} for d in listed["items"])
    assert {d["name"]: d["accounts"] for d in listed["items"]}[OTHER] == 2
    page = admin.ok("GET", "/api/domains?q=PAGE&offset=1&limit=1")
    assert is_list(page, offset=1) == [{"name": "page1.test", "accounts": 0}]
    assert page["total"] == 3
    assert is_list(admin.ok("GET", "/api/domains?q=nomatch")) == []
    for q, field in [("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"),
                     ("offset=-1", "offset"), ("offset=ten", "offset"),
                     ("limit=%zz", "limit")]:
        fails(admin.get(f"/api/domains?{q}"), 400, field, field=field)
    fails(admin.get("/api/domains?q=a%2Fb"), 400, "start of a name", field="q")
    # the domain as GET shows it
    d = admin.ok("GET", "/api/domains/zeta.test")
    assert set(d) == {"name", "unified_account", "aliases", "bound", "policies"}
    assert d["name"] == "zeta.test" and d["unified_account"] == ""
    assert d["aliases"] == [] and d["bound"] == [] and set(d["policies"]) == POLICIES
    # remove: 204, then 404
    for n in range(3):
        admin.ok("DELETE", f"/api/domains/page{n}.test", status=204)
    admin.ok("DELETE", "/api/domains/zeta.test", status=204)
    fails(admin.get("/api/domains/zeta.test"), 404, "zeta.test")
    fails(admin.delete("/api/domains/zeta.test"), 404, "zeta.test")
    # one with accounts stays
    fails(admin.delete(f"/api/domains/{OTHER}"), 409, OTHER)


def test_domain_aliases_unified_account_bound_and_policies(web, admin):
    admin.ok("POST", "/api/domains", {"name": "uni.test"}, status=201)
    new_account(admin, "cl1", "uni.test")
    assert admin.ok("POST", "/api/domains/uni.test/aliases", {"alias": "uni-alias.test"},
                    status=201) == {"alias": "uni-alias.test"}
    fails(admin.post("/api/domains/uni.test/aliases", {"alias": "uni-alias.test"}), 409,
          "uni-alias.test")
    fails(admin.post("/api/domains/uni.test/aliases", {"alias": OTHER}), 409, OTHER)
    assert admin.ok("POST", "/api/domains/uni.test/bound", {"address": "192.0.2.10"},
                    status=201) == {"address": "192.0.2.10"}
    fails(admin.post("/api/domains/uni.test/bound", {"address": "192.0.2.300"}), 400,
          "192.0.2.300", field="address")
    d = admin.ok("PATCH", "/api/domains/uni.test",
                 {"unified_account": "cl1", "policies": {"xmit": "no", "pop_expire": "30"}})
    assert d["unified_account"] == "cl1"
    assert d["aliases"] == ["uni-alias.test"] and d["bound"] == ["192.0.2.10"]
    assert d["policies"]["xmit"] == {"value": "no", "from": "domain", "set": "no"}
    assert d["policies"]["pop_expire"]["value"] == "30"
    assert d == admin.ok("GET", "/api/domains/uni.test")
    # what the Router makes of it
    r = admin.ok("GET", "/api/route?address=anyone%40uni.test")
    assert r == {"account": "cl1@uni.test", "rule": "unified", "address": "anyone@uni.test",
                 "mailbox": r["mailbox"]}
    r = admin.ok("GET", "/api/route?address=someone%40uni-alias.test")
    assert r["account"] == "cl1@uni.test"
    fails(admin.patch("/api/domains/uni.test", {"unified_account": "nobody"}), 404, "nobody")
    fails(admin.patch("/api/domains/uni.test", {"unified_account": 1}), 400,
          "unified_account", field="unified_account")
    fails(admin.patch("/api/domains/uni.test", {"policies": {"xmit": "maybe"}}), 400,
          "xmit", field="xmit")
    # all or nothing: the good one with the bad one is not set
    fails(admin.patch("/api/domains/uni.test",
                      {"policies": {"pop": "no", "pop_from": "everywhere"}}), 400,
          "pop_from", field="pop_from")
    assert admin.ok("GET", "/api/domains/uni.test")["policies"]["pop"]["set"] is None
    d = admin.ok("PATCH", "/api/domains/uni.test",
                 {"unified_account": "", "policies": {"xmit": "", "pop_expire": ""}})
    assert d["unified_account"] == "" and d["policies"]["xmit"]["set"] is None
    # the other ends
    fails(admin.delete("/api/domains/uni.test/aliases/nope.test"), 404, "nope.test")
    fails(admin.delete(f"/api/domains/uni.test/aliases/{OTHER}"), 404, OTHER)
    admin.ok("DELETE", "/api/domains/uni.test/aliases/uni-alias.test", status=204)
    fails(admin.delete("/api/domains/uni.test/bound/192.0.2.11"), 404, "192.0.2.11")
    fails(admin.delete("/api/domains/uni.test/bound/not-an-ip"), 400, "not-an-ip")
    admin.ok("DELETE", "/api/domains/uni.test/bound/192.0.2.10", status=204)
    d = admin.ok("GET", "/api/domains/uni.test")
    assert d["aliases"] == [] and d["bound"] == []
    admin.ok("DELETE", f"/api/accounts/{quote('cl1@uni.test')}", status=204)
    admin.ok("DELETE", "/api/domains/uni.test", status=204)


@pytest.mark.parametrize("name", ["bad..name", "a/b", "sp ace.test", "", "-lead.test", "trail-.test",
                                  "x" * 300, "ünï.test"])
def test_bad_domain_names(admin, name):
    a = admin.post("/api/domains", {"name": name})
    fails(a, 400, field="name")


# -- accounts ------------------------------------------------------------------------

def test_accounts(web, admin):
    address = new_account(admin, "Jane.Doe", quota="500M", real_name="Jane Doe")
    assert address == f"jane.doe@{DOMAIN}"
    fails(admin.post(f"/api/domains/{DOMAIN}/accounts",
                     {"name": "jane.doe", "password": "Another-1"}), 409, "jane.doe")
    a = admin.ok("GET", f"/api/accounts/{quote(address)}")
    assert set(a) == {"address", "real_name", "quota", "used", "messages", "admin",
                      "webadmin", "aliases", "policies"}
    assert a["address"] == address and a["real_name"] == "Jane Doe"
    assert a["quota"] == 500 * 1024 * 1024 and a["used"] == 0 and a["messages"] == 0
    assert a["admin"] is False and a["webadmin"] == "none" and a["aliases"] == []
    assert set(a["policies"]) == POLICIES
    # the list: paged, searched without regard to case
    listed = admin.ok("GET", f"/api/domains/{DOMAIN}/accounts?q=JANE")
    assert is_list(listed) == [{"address": address, "real_name": "Jane Doe",
                                "quota": 500 * 1024 * 1024, "used": 0, "messages": 0}]
    everyone = admin.ok("GET", f"/api/domains/{DOMAIN}/accounts?limit=500")
    addresses = [x["address"] for x in is_list(everyone)]
    assert addresses == sorted(addresses) and ME in addresses and ADMIN in addresses
    page = admin.ok("GET", f"/api/domains/{DOMAIN}/accounts?offset=1&limit=1")
    assert [x["address"] for x in is_list(page, offset=1)] == addresses[1:2]
    assert page["total"] == everyone["total"]
    fails(admin.get(f"/api/domains/{DOMAIN}/accounts?limit=1000"), 400, "limit",
          field="limit")
    # usage: a message in
    data = message(1, body_lines=20)
    web.deliver(data, address)
    a = admin.ok("GET", f"/api/accounts/{quote(address)}")
    assert a["messages"] == 1 and a["used"] >= len(data)
    # changes
    a = admin.ok("PATCH", f"/api/accounts/{quote(address)}",
                 {"quota": "1G", "real_name": "Jane Q. Doe", "webadmin": "domain",
                  "admin": True, "policies": {"pop_delete": "hide"}})
    assert a["quota"] == 1 << 30 and a["real_name"] == "Jane Q. Doe"
    assert a["webadmin"] == "domain" and a["admin"] is True
    assert a["policies"]["pop_delete"] == {"value": "hide", "from": "account", "set": "hide"}
    a = admin.ok("PATCH", f"/api/accounts/{quote(address)}",
                 {"quota": "none", "real_name": "", "webadmin": "none", "admin": False,
                  "policies": {"pop_delete": ""}})
    assert a["quota"] == 0 and a["real_name"] == "" and a["webadmin"] == "none"
    assert a["admin"] is False and a["policies"]["pop_delete"]["set"] is None
    for body, field in [({"quota": "lots"}, "quota"), ({"quota": 5}, "quota"),
                        ({"webadmin": "root"}, "webadmin"), ({"admin": "yes"}, "admin"),
                        ({"real_name": "two\nlines"}, "real_name"),
                        ({"real_name": "x" * 201}, "real_name"),
                        ({"policies": {"pop": "perhaps"}}, "pop"),
                        ({"password": "x"}, "password")]:
        fails(admin.patch(f"/api/accounts/{quote(address)}", body), 400, field, field=field)
    # the password: POP takes the new one
    admin.ok("POST", f"/api/accounts/{quote(address)}/password",
             {"password": "Brand-new-pass-9"}, status=204)
    p = pop_login(web, address, "Brand-new-pass-9")
    assert p.stat()[0] == 1
    assert b"line 19 of message 1" in b"\r\n".join(p.retr(1)[1])
    p.quit()
    with pytest.raises(poplib.error_proto):
        pop_login(web, address, "Jane.Doe-Pass-1")
    fails(admin.post(f"/api/accounts/{quote(address)}/password", {}), 400, "password",
          field="password")
    fails(admin.post(f"/api/accounts/{quote(address)}/password", {"password": ""}), 400,
          "password", field="password")
    # aliases: names in the account's domain
    assert admin.ok("POST", f"/api/accounts/{quote(address)}/aliases", {"alias": "Info"},
                    status=201) == {"alias": f"info@{DOMAIN}"}
    fails(admin.post(f"/api/accounts/{quote(address)}/aliases", {"alias": "info"}), 409, "info")
    fails(admin.post(f"/api/accounts/{quote(address)}/aliases", {"alias": USER}), 409, USER)
    fails(admin.post(f"/api/accounts/{quote(address)}/aliases", {"alias": f"x@{OTHER}"}), 400,
          "name only", field="alias")
    assert admin.ok("GET", f"/api/accounts/{quote(address)}")["aliases"] == ["info"]
    assert admin.ok("GET", f"/api/route?address=info%40{DOMAIN}") == {
        "account": address, "rule": "alias", "address": f"info@{DOMAIN}", "mailbox": ""}
    fails(admin.delete(f"/api/accounts/{quote(ME)}/aliases/info"), 404, "info")
    admin.ok("DELETE", f"/api/accounts/{quote(address)}/aliases/info", status=204)
    fails(admin.delete(f"/api/accounts/{quote(address)}/aliases/info"), 404, "info")
    # expire: nothing under pop_expire=never
    assert admin.ok("POST", f"/api/accounts/{quote(address)}/expire", raw=b"") == \
        {"removed": 0, "days": None}
    admin.ok("PATCH", f"/api/accounts/{quote(address)}", {"policies": {"pop_expire": "7"}})
    assert admin.ok("POST", f"/api/accounts/{quote(address)}/expire") == \
        {"removed": 0, "days": 7}
    # away with it, and its mail
    admin.ok("DELETE", f"/api/accounts/{quote(address)}", status=204)
    fails(admin.get(f"/api/accounts/{quote(address)}"), 404, "jane.doe")
    fails(admin.delete(f"/api/accounts/{quote(address)}"), 404, "jane.doe")
    fails(admin.delete(f"/api/accounts/{quote(ADMIN)}"), 409, "logged in as")


@pytest.mark.parametrize("body,field,words", [
    ({"name": "x@y", "password": "Pass-word-1"}, "name", ["name only"]),
    ({"name": "a/b", "password": "Pass-word-1"}, "name", []),
    ({"name": "", "password": "Pass-word-1"}, "name", []),
    ({"name": "pw", "password": ""}, "password", ["password"]),
    ({"name": "pw"}, "password", ["'password' is missing"]),
    ({"password": "Pass-word-1"}, "name", ["'name' is missing"]),
    ({"name": 7, "password": "Pass-word-1"}, "name", ["must be a string"]),
    ({"name": "pw", "password": "Pass-word-1", "quota": "huge"}, "quota", ["quota"]),
    ({"name": "pw", "password": "Pass-word-1", "real_name": "a\u0007b"}, "real_name", []),
    ({"name": "pw", "password": "Pass-word-1", "shell": "/bin/sh"}, "shell", ["'shell'"]),
])
def test_accounts_that_cannot_be_made(web, admin, body, field, words):
    fails(admin.post(f"/api/domains/{DOMAIN}/accounts", body), 400, *words, field=field)
    assert "pw@" not in web.ctl("account", "list", DOMAIN, check=False).stdout.decode()


def test_expire_for_a_domain_and_the_server(web, admin, boss):
    # posternctl expire [DOMAIN] through the API: old retrieved mail goes
    # where pop_expire says, in every account of the domain; a domain
    # admin may do it for their domain only, the whole server is the
    # server admin's
    who = new_account(admin, "expiring")
    web.ctl("message", "import", "--date", "2020-01-01", who, input=message(1))
    web.ctl("message", "import", who, input=message(2))
    p = pop_login(web, who, "expiring-Pass-1")
    p.retr(1)
    p.retr(2)
    p.quit()
    admin.ok("PATCH", f"/api/accounts/{quote(who)}", {"policies": {"pop_expire": "10"}})
    fails(boss.post(f"/api/domains/{DOMAIN}/expire"), 403)
    fails(boss.post("/api/expire"), 403)
    assert boss.ok("POST", f"/api/domains/{OTHER}/expire") == {"removed": 0, "accounts": 0}
    assert admin.ok("POST", f"/api/domains/{DOMAIN}/expire") == {"removed": 1, "accounts": 1}
    assert admin.ok("POST", "/api/expire") == {"removed": 0, "accounts": 0}
    fails(admin.post("/api/domains/nope.test/expire"), 404)
    assert len(admin.ok("GET", f"/api/accounts/{quote(who)}/mailboxes/INBOX/messages")["items"]) == 1
    admin.ok("DELETE", f"/api/accounts/{quote(who)}", status=204)


def test_route(admin):
    assert admin.ok("GET", f"/api/route?address={quote(ME)}") == {
        "account": ME, "rule": "account", "address": ME, "mailbox": ""}
    r = admin.ok("GET", f"/api/route?address={USER}%2Bdetail%40{DOMAIN}&local_ip=192.0.2.1")
    assert r["account"] == ME and r["rule"] in ("detail", "mailbox"), r
    fails(admin.get(f"/api/route?address=nobody%40{DOMAIN}"), 404, "nobody")
    fails(admin.get("/api/route?address=nobody%40nowhere.test"), 404, "nowhere.test")
    fails(admin.get("/api/route"), 400, "address", field="address")
    fails(admin.get("/api/route?address=%40%40"), 400, field="address")


# -- mailboxes, messages, ACLs ---------------------------------------------------------

def test_mailboxes_messages_and_acls(web, admin):
    address = new_account(admin, "boxes")
    base = f"/api/accounts/{quote(address)}/mailboxes"
    assert is_list(admin.ok("GET", base)) == [{"name": "INBOX", "messages": 0, "size": 0}]
    assert admin.ok("POST", base, {"name": "lists"}, status=201) == {"name": "lists"}
    assert admin.ok("POST", base, {"name": "lists/info"}, status=201) == {"name": "lists/info"}
    fails(admin.post(base, {"name": "lists"}), 409, "lists")
    fails(admin.post(base, {"name": ""}), 400, field="name")
    fails(admin.post(base, {"name": "a//b"}), 400, field="name")
    names = [m["name"] for m in is_list(admin.ok("GET", base))]
    assert set(names) == {"INBOX", "lists", "lists/info"}
    # renamed with its sub-mailbox
    got = admin.ok("PATCH", f"{base}/lists", {"name": "groups"})
    assert got == {"name": "groups", "renamed": 2}
    names = {m["name"] for m in is_list(admin.ok("GET", base))}
    assert names == {"INBOX", "groups", "groups/info"}
    fails(admin.patch(f"{base}/lists", {"name": "x"}), 404, "lists")
    fails(admin.patch(f"{base}/groups", {"name": "INBOX"}), 409, "INBOX")
    # renames the names forbid are the caller's to fix (400), no fault
    fails(admin.patch(f"{base}/groups", {"name": "groups/info/x"}), 400,
          "into its own sub-mailbox", field="name")
    fails(admin.patch(f"{base}/groups", {"name": "g" * 252}), 400,
          "would get a name longer", field="name")
    # a name with a slash in the path is one segment
    acl = f"{base}/{quote('groups/info')}/acl"
    own = is_list(admin.ok("GET", acl))
    assert own == [{"identifier": address, "rights": own[0]["rights"], "owner": True}]
    assert set("lrswipcda") <= set(own[0]["rights"])
    assert admin.ok("PUT", f"{acl}/{quote(ME)}", {"rights": "lr"}) == \
        {"identifier": ME, "rights": "lr", "owner": False}
    assert admin.ok("PUT", f"{acl}/{quote(ME)}", {"rights": "+s"}) == \
        {"identifier": ME, "rights": "lrs", "owner": False}
    assert admin.ok("PUT", f"{acl}/{quote(ME)}", {"rights": "-r"})["rights"] == "ls"
    assert admin.ok("PUT", f"{acl}/anyone", {"rights": "l"}) == \
        {"identifier": "anyone", "rights": "l", "owner": False}
    assert admin.ok("PUT", f"{acl}/{quote('anyone@' + DOMAIN)}", {"rights": "lr"})["rights"] == "lr"
    entries = {e["identifier"]: e for e in is_list(admin.ok("GET", acl))}
    assert entries[ME] == {"identifier": ME, "rights": "ls", "owner": False}
    assert entries["anyone"]["rights"] == "l"
    fails(admin.put(f"{acl}/{quote(ME)}", {"rights": "xyz"}), 400, field="rights")
    fails(admin.put(f"{acl}/{quote(ME)}", {}), 400, "rights", field="rights")
    fails(admin.put(f"{acl}/not%20an%20id", {"rights": "l"}), 400)
    # rights "" leave no entry
    assert admin.ok("PUT", f"{acl}/{quote('anyone@' + DOMAIN)}", {"rights": ""})["rights"] == ""
    admin.ok("DELETE", f"{acl}/{quote(ME)}", status=204)
    fails(admin.delete(f"{acl}/{quote(ME)}"), 404)
    assert {e["identifier"] for e in is_list(admin.ok("GET", acl))} == {address, "anyone"}
    # messages of a mailbox, paged
    for n in range(3):
        web.deliver(message(n), address)
    msgs = admin.ok("GET", f"{base}/INBOX/messages")
    items = is_list(msgs)
    assert msgs["total"] == 3 and len(items) == 3
    assert all(set(m) == {"uid", "size", "seen", "hidden", "uidl"} for m in items)
    assert [m["uid"] for m in items] == sorted(m["uid"] for m in items)
    assert all(m["seen"] is False and m["hidden"] is False and m["uidl"] for m in items)
    page = admin.ok("GET", f"{base}/INBOX/messages?offset=2&limit=1")
    assert is_list(page, offset=2) == items[2:] and page["total"] == 3
    fails(admin.get(f"{base}/INBOX/messages?limit=0"), 400, field="limit")
    assert is_list(admin.ok("GET", base))[0] == {
        "name": "INBOX", "messages": 3, "size": sum(m["size"] for m in items)}
    # deletes
    fails(admin.delete(f"{base}/INBOX"), 409, "INBOX")
    admin.ok("DELETE", f"{base}/groups", status=204)
    fails(admin.get(f"{base}/groups/acl"), 404, "groups")
    fails(admin.get(f"{base}/nothere/messages"), 404, "nothere")
    fails(admin.delete(f"{base}/nothere"), 404, "nothere")
    admin.ok("DELETE", f"/api/accounts/{quote(address)}", status=204)
    fails(admin.get(base), 404)


# -- alerts ----------------------------------------------------------------------------

@pytest.fixture
def alerts(admin):
    """Posts alerts (body: id), removes what is left of them at the end:
    an alert forgotten would answer the next POP login of another test."""
    posted = []

    def post(api, body, status=201):
        got = api.ok("POST", "/api/alerts", body, status=status)
        posted.append(got["id"])
        return got

    yield post
    for i in posted:
        admin.delete(f"/api/alerts/{i}")


def test_alerts_at_every_scope(web, admin, alerts):
    server = alerts(admin, {"text": "server-wide notice"})
    dom = alerts(admin, {"text": "domain notice", "domain": OTHER})
    acc = alerts(admin, {"text": "account notice", "account": BOB})
    assert all(set(x) == {"id"} and isinstance(x["id"], int) for x in (server, dom, acc))
    everything = {a["id"]: a for a in is_list(admin.ok("GET", "/api/alerts"))}
    now = time.time()
    for a in everything.values():
        assert set(a) == {"id", "posted", "scope", "domain", "account", "text"}
        assert abs(a["posted"] - now) < 600
    assert everything[server["id"]] == {**everything[server["id"]], "scope": "server",
                                        "domain": "", "account": "",
                                        "text": "server-wide notice"}
    assert everything[dom["id"]]["scope"] == "domain"
    assert everything[dom["id"]]["domain"] == OTHER and everything[dom["id"]]["account"] == ""
    assert everything[acc["id"]]["scope"] == "account"
    assert everything[acc["id"]]["account"] == BOB and everything[acc["id"]]["domain"] == OTHER
    of_domain = {a["id"] for a in is_list(admin.ok("GET", f"/api/alerts?domain={OTHER}"))}
    assert {dom["id"], acc["id"]} <= of_domain and server["id"] not in of_domain
    of_bob = {a["id"] for a in is_list(admin.ok("GET", f"/api/alerts?account={quote(BOB)}"))}
    assert acc["id"] in of_bob and dom["id"] not in of_bob
    # what bob sees at his next POP logins: each once, oldest first
    seen = []
    for _ in range(3):
        with pytest.raises(poplib.error_proto) as e:
            pop_login(web, BOB, "Bob-pass-1")
        seen.append(e.value.args[0])
    assert seen == [b"-ERR [SYS/TEMP] server-wide notice", b"-ERR [SYS/TEMP] domain notice",
                    b"-ERR [SYS/TEMP] account notice"]
    pop_login(web, BOB, "Bob-pass-1").quit()
    # the account's own alert is gone once he has seen it; the others stay
    left = {a["id"] for a in is_list(admin.ok("GET", "/api/alerts"))}
    assert acc["id"] not in left and {server["id"], dom["id"]} <= left
    fails(admin.get("/api/alerts?domain=nowhere.test"), 404, "nowhere.test", field="domain")
    fails(admin.get(f"/api/alerts?account=nobody%40{OTHER}"), 404, "nobody",
          field="account")
    fails(admin.post("/api/alerts", {"text": "x", "account": BOB, "domain": DOMAIN}), 400,
          OTHER, field="domain")
    fails(admin.post("/api/alerts", {"domain": OTHER}), 400, "'text' is missing",
          field="text")
    fails(admin.post("/api/alerts", {"text": "x", "scope": "server"}), 400, "'scope'",
          field="scope")
    fails(admin.delete("/api/alerts/abc"), 400, "abc")
    fails(admin.delete("/api/alerts/0"), 400, "'0'")
    fails(admin.delete("/api/alerts/999999"), 404, "999999")
    for x in (server, dom):
        admin.ok("DELETE", f"/api/alerts/{x['id']}", status=204)
    fails(admin.delete(f"/api/alerts/{acc['id']}"), 404, str(acc["id"]))
    remaining = {a["id"] for a in is_list(admin.ok("GET", "/api/alerts"))}
    assert not remaining & {server["id"], dom["id"], acc["id"]}


# -- the relay queue ---------------------------------------------------------------------

def test_queue(web, admin):
    """An entry put in by XTND XMIT waits for a smarthost that is not there."""
    r = web.raw()
    r.login()
    assert xmit(r, b"From: jsmith@example.test\r\nTo: far@remote.test, near@remote.test\r\n"
                   b"Subject: queued\r\n\r\nhello\r\n") == b"+OK Message sent"
    r.cmd("QUIT")
    r.close()
    deadline = time.monotonic() + 15
    while True:
        items = is_list(admin.ok("GET", "/api/queue"))
        if items and items[-1]["last_error"]:
            break
        assert time.monotonic() < deadline, items
        time.sleep(0.2)
    e = items[-1]
    assert set(e) == {"id", "created", "sender", "account", "size", "total", "pending",
                      "done", "failed", "next_attempt", "last_error"}
    assert e["sender"] == ME and e["account"] == ME
    assert e["total"] == 2 and e["pending"] == 2 and e["done"] == 0 and e["failed"] == 0
    assert e["next_attempt"] > 0 and e["size"] > 0 and abs(e["created"] - time.time()) < 60
    one = admin.ok("GET", f"/api/queue/{e['id']}")
    assert {k: one[k] for k in e} == {**e, "next_attempt": one["next_attempt"],
                                      "last_error": one["last_error"]}
    assert one["attempts"] >= 1 and one["client_ip"] == "127.0.0.1"
    assert [x["address"] for x in one["recipients"]] == ["far@remote.test", "near@remote.test"]
    for x in one["recipients"]:
        assert set(x) == {"address", "state", "last_attempt", "remote_mta", "reply"}
        assert x["state"] == "pending"
    assert is_list(admin.ok("GET", "/api/queue?offset=0&limit=1"))[0]["id"] == items[0]["id"]
    fails(admin.get("/api/queue?limit=501"), 400, "limit", field="limit")
    admin.ok("POST", f"/api/queue/{e['id']}/retry", status=204)
    assert admin.ok("POST", "/api/queue/flush")["retried"] >= 1
    admin.ok("DELETE", f"/api/queue/{e['id']}", status=204)
    fails(admin.get(f"/api/queue/{e['id']}"), 404, str(e["id"]))
    fails(admin.post(f"/api/queue/{e['id']}/retry"), 404, str(e["id"]))
    fails(admin.delete(f"/api/queue/{e['id']}"), 404, str(e["id"]))
    fails(admin.get("/api/queue/first"), 400, "first")
    fails(admin.delete("/api/queue/0"), 400, "'0'")
    assert e["id"] not in [x["id"] for x in is_list(admin.ok("GET", "/api/queue"))]
    assert str(e["id"]) not in web.ctl("queue", "list").stdout.decode().split()


# -- requests that are wrong in themselves ----------------------------------------------------

@pytest.mark.parametrize("raw,words", [
    (b"{", ["not a JSON object"]),
    (b"{\"name\": }", ["not a JSON object"]),
    (b"[\"bad.test\"]", ["not a JSON object"]),
    (b"\"bad.test\"", ["not a JSON object"]),
    (b"{\"name\": \"a.test\", \"name\": \"b.test\"}", ["duplicate"]),
    (b"{\"name\": \"bad\xff.test\"}", ["not a JSON object"]),
])
def test_bad_json(web, admin, raw, words):
    fails(admin.post("/api/domains", raw=raw), 400, *words)
    assert "bad" not in web.ctl("domain", "list").stdout.decode()


@pytest.mark.parametrize("method,path,body,field", [
    ("POST", "/api/domains", {"name": "u.test", "owner": "me"}, "owner"),
    ("PATCH", f"/api/domains/{DOMAIN}", {"colour": "red"}, "colour"),
    ("PATCH", f"/api/accounts/{quote(ME)}", {"shell": "/bin/sh"}, "shell"),
    ("POST", f"/api/accounts/{quote(ME)}/password", {"password": "Xx-12345", "old": "y"}, "old"),
    ("POST", f"/api/accounts/{quote(ME)}/mailboxes", {"name": "n", "parent": "INBOX"}, "parent"),
    ("PUT", f"/api/accounts/{quote(ME)}/mailboxes/INBOX/acl/anyone", {"rights": "l", "x": 1}, "x"),
    ("POST", "/api/alerts", {"text": "t", "until": 5}, "until"),
    ("POST", f"/api/domains/{DOMAIN}/aliases", {"alias": "a.test", "b": 1}, "b"),
])
def test_unknown_fields(admin, method, path, body, field):
    fails(admin.request(method, path, body), 400, f"unknown field '{field}'", field=field)


def test_oversize_bodies_are_413(web, admin):
    big = json.dumps({"text": "x" * (70 * 1024)}).encode()
    fails(admin.post("/api/alerts", raw=big), 413, "larger than 65536")
    # announced too large and never sent: refused unread
    out = raw_http(web.http_port,
                   b"POST /api/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 1000000000\r\nCookie: " + admin.cookie.encode() +
                   b"\r\nX-CSRF-Token: " + admin.csrf.encode() + b"\r\n\r\n", timeout=10)
    assert status_of(out) == 413, out[:300]
    assert b"larger than 65536" in out
    # chunked, with no length said: counted as it comes
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    out = raw_http(web.http_port,
                   b"POST /api/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\nConnection: close\r\nCookie: " +
                   admin.cookie.encode() + b"\r\nX-CSRF-Token: " + admin.csrf.encode() +
                   b"\r\n\r\n" + body)
    assert status_of(out) == 413, out[:300]
    # before the session is even looked at, as for a login
    fails(Api(web.http_port).post("/api/login", raw=big), 413, "larger")
    # just within the limit is taken
    fits = json.dumps({"text": "y" * 400}).encode()
    got = admin.ok("POST", "/api/alerts", raw=fits, status=201)
    admin.ok("DELETE", f"/api/alerts/{got['id']}", status=204)


@pytest.mark.parametrize("method,path,allow", [
    ("GET", "/api/login", "POST"),
    ("DELETE", "/api/login", "POST"),
    ("GET", "/api/logout", "POST"),
    ("DELETE", "/api/session", "GET"),
    ("PUT", "/api/status", "GET"),
    ("POST", "/api/log", "GET"),
    ("DELETE", "/api/settings", "GET, PATCH"),
    ("PUT", "/api/domains", "GET, POST"),
    ("POST", f"/api/domains/{DOMAIN}", "GET, PATCH, DELETE"),
    ("GET", f"/api/domains/{DOMAIN}/aliases", "POST"),
    ("PUT", f"/api/accounts/{quote(ME)}", "GET, PATCH, DELETE"),
    ("GET", f"/api/accounts/{quote(ME)}/password", "POST"),
    ("GET", f"/api/accounts/{quote(ME)}/expire", "POST"),
    ("GET", f"/api/accounts/{quote(ME)}/mailboxes/INBOX", "PATCH, DELETE"),
    ("POST", f"/api/accounts/{quote(ME)}/mailboxes/INBOX/acl", "GET"),
    ("GET", f"/api/accounts/{quote(ME)}/mailboxes/INBOX/acl/anyone", "PUT, DELETE"),
    ("PATCH", "/api/alerts/1", "DELETE"),
    ("GET", "/api/queue/flush", "POST"),
    ("DELETE", "/api/queue/flush", "POST"),
    ("GET", "/api/queue/1/retry", "POST"),
    ("POST", "/index.html", "GET, HEAD"),
    ("DELETE", "/", "GET, HEAD"),
])
def test_wrong_methods_are_405_with_allow(admin, method, path, allow):
    a = admin.request(method, path)
    error = fails(a, 405)
    assert a.header("Allow") == allow
    if path in ("/api/login", "/api/logout"):
        assert error == f"{path[5:].replace('out', ' out').replace('login', 'log in')} with POST"
    elif path == "/api/session":
        assert error == "ask for the session with GET"
    elif path.startswith("/api/"):
        assert error == f"{method} is not taken here (only {allow})"
    else:
        assert error == "the pages take GET and HEAD only"


def test_405_names_the_method_and_the_ones_taken(admin):
    a = admin.request("PUT", "/api/domains")
    assert fails(a, 405) == "PUT is not taken here (only GET, POST)"


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/jsonp",
                                   "application/json-seq", None])
def test_bodies_not_json_are_415(web, admin, ctype):
    fails(admin.post("/api/domains", raw=b'{"name": "form.test"}', content_type=ctype),
          415, "application/json")
    fails(Api(web.http_port).post("/api/login", raw=json.dumps(
        {"user": ADMIN, "password": ADMIN_PASSWORD}).encode(), content_type=ctype),
        415, "application/json")
    assert "form.test" not in web.ctl("domain", "list").stdout.decode()


def test_json_content_types_that_are_taken(admin):
    for ctype in ("application/json", "application/json; charset=utf-8",
                  "Application/JSON"):
        got = admin.ok("POST", "/api/alerts", raw=b'{"text": "typed"}',
                       content_type=ctype, status=201)
        admin.ok("DELETE", f"/api/alerts/{got['id']}", status=204)
    # no body: no type needed, or application/json with length 0
    assert "retried" in admin.ok("POST", "/api/queue/flush", content_type=None)
    admin.ok("POST", f"/api/accounts/{quote(ME)}/expire", raw=b"")


@pytest.mark.parametrize("path,words", [
    ("/api/nothing", ["no such API path"]),
    ("/api/", ["no such API path"]),
    ("/api/domains//accounts", ["no such API path"]),
    (f"/api/domains/{DOMAIN}/nothing", ["no such API path"]),
    ("/api/domains/%zz", ["no such API path"]),
    ("/api/domains/a%00b", ["no such API path"]),
    ("/api/domains/nowhere.test", ["no such domain", "nowhere.test"]),
    ("/api/domains/nowhere.test/accounts", ["no such domain", "nowhere.test"]),
    (f"/api/accounts/nobody%40{DOMAIN}", ["nobody"]),
    (f"/api/accounts/nobody%40{DOMAIN}/mailboxes", ["nobody"]),
    (f"/api/accounts/{quote(ME)}/mailboxes/Nothere/acl", ["no mailbox Nothere"]),
    ("/api/queue/123456", ["no such queue entry: 123456"]),
    ("/no-such-page.html", ["no such page"]),
])
def test_not_found(admin, path, words):
    fails(admin.get(path), 404, *words)


@pytest.mark.parametrize("path,words", [
    ("/api/accounts/jsmith", ["name@domain"]),
    ("/api/accounts/..%2F..%2Fetc", ["name@domain"]),
    ("/api/domains/..", []),
    ("/api/domains/bad..name", []),
    (f"/api/accounts/{quote(ME)}/mailboxes/a%2F%2Fb/acl", []),
    ("/api/alerts?domain=bad..name", []),
])
def test_bad_names_in_paths(admin, path, words):
    fails(admin.get(path), 400, *words)


# -- who may do what ---------------------------------------------------------------------------

SERVER_ONLY = [
    ("GET", "/api/status", None),
    ("GET", "/api/log", None),
    ("GET", "/api/server", None),
    ("PATCH", "/api/server", {"policies": {"pop": "no"}}),
    ("GET", "/api/settings", None),
    ("PATCH", "/api/settings", {"pop.channels": "1"}),
    ("POST", "/api/domains", {"name": "boss-made.test"}),
    ("DELETE", f"/api/domains/{OTHER}", None),
    ("POST", f"/api/domains/{OTHER}/bound", {"address": "192.0.2.20"}),
    ("DELETE", f"/api/domains/{OTHER}/bound/192.0.2.20", None),
    ("GET", "/api/queue", None),
    ("GET", "/api/queue/1", None),
    ("POST", "/api/queue/1/retry", None),
    ("POST", "/api/queue/flush", None),
    ("DELETE", "/api/queue/1", None),
    ("PATCH", f"/api/accounts/{quote(BOB)}", {"webadmin": "domain"}),
    ("PATCH", f"/api/accounts/{quote(BOB)}", {"admin": True}),
]

OTHER_DOMAIN = [
    ("GET", f"/api/domains/{DOMAIN}", None),
    ("PATCH", f"/api/domains/{DOMAIN}", {"policies": {"pop": "no"}}),
    ("POST", f"/api/domains/{DOMAIN}/aliases", {"alias": "stolen.test"}),
    ("DELETE", f"/api/domains/{DOMAIN}/aliases/x.test", None),
    ("GET", f"/api/domains/{DOMAIN}/accounts", None),
    ("POST", f"/api/domains/{DOMAIN}/accounts", {"name": "intruder", "password": "In-pass-1"}),
    ("GET", f"/api/accounts/{quote(ME)}", None),
    ("PATCH", f"/api/accounts/{quote(ME)}", {"quota": "1M"}),
    ("DELETE", f"/api/accounts/{quote(ME)}", None),
    ("POST", f"/api/accounts/{quote(ME)}/password", {"password": "Taken-over-1"}),
    ("POST", f"/api/accounts/{quote(ME)}/aliases", {"alias": "steal"}),
    ("DELETE", f"/api/accounts/{quote(ME)}/aliases/x", None),
    ("POST", f"/api/accounts/{quote(ME)}/expire", None),
    ("GET", f"/api/accounts/{quote(ME)}/mailboxes", None),
    ("POST", f"/api/accounts/{quote(ME)}/mailboxes", {"name": "boss"}),
    ("PATCH", f"/api/accounts/{quote(ME)}/mailboxes/INBOX", {"name": "x"}),
    ("DELETE", f"/api/accounts/{quote(ME)}/mailboxes/INBOX", None),
    ("GET", f"/api/accounts/{quote(ME)}/mailboxes/INBOX/messages", None),
    ("GET", f"/api/accounts/{quote(ME)}/mailboxes/INBOX/acl", None),
    ("PUT", f"/api/accounts/{quote(ME)}/mailboxes/INBOX/acl/{quote(BOSS)}", {"rights": "lr"}),
    ("DELETE", f"/api/accounts/{quote(ME)}/mailboxes/INBOX/acl/anyone", None),
    ("GET", f"/api/route?address={quote(ME)}", None),
    ("GET", f"/api/alerts?domain={DOMAIN}", None),
    ("GET", f"/api/alerts?account={quote(ME)}", None),
    ("POST", "/api/alerts", {"text": "hi", "domain": DOMAIN}),
    ("POST", "/api/alerts", {"text": "hi", "account": ME}),
]


@pytest.mark.parametrize("method,path,body", SERVER_ONLY)
def test_a_domain_admin_is_refused_what_is_the_servers(web, boss, method, path, body):
    fails(boss.request(method, path, body), 403, "only a server admin")


@pytest.mark.parametrize("method,path,body", OTHER_DOMAIN)
def test_a_domain_admin_is_refused_another_domain(web, boss, method, path, body):
    fails(boss.request(method, path, body), 403, f"you administer {OTHER} only")


@pytest.mark.parametrize("method,path,body", SERVER_ONLY + OTHER_DOMAIN)
def test_anonymous_is_refused_everything(anon, method, path, body):
    fails(anon.request(method, path, body), 401, "log in first")


def test_nothing_the_domain_admin_was_refused_happened(web, admin, boss):
    for method, path, body in SERVER_ONLY + OTHER_DOMAIN:
        boss.request(method, path, body)
    assert "boss-made.test" not in web.ctl("domain", "list").stdout.decode()
    assert admin.ok("GET", f"/api/accounts/{quote(ME)}")["quota"] == 0
    assert admin.ok("GET", f"/api/accounts/{quote(BOB)}")["webadmin"] == "none"
    assert admin.ok("GET", "/api/server")["policies"]["pop"]["set"] is None
    assert admin.ok("GET", f"/api/domains/{DOMAIN}")["policies"]["pop"]["set"] is None
    names = {m["name"] for m in is_list(admin.ok("GET", f"/api/accounts/{quote(ME)}/mailboxes"))}
    assert "boss" not in names and "INBOX" in names
    p = pop_login(web, USER, PASSWORD)
    p.quit()


def test_a_domain_admin_within_their_domain(web, admin, boss, alerts):
    # the domain list: theirs only
    assert [d["name"] for d in is_list(boss.ok("GET", "/api/domains"))] == [OTHER]
    assert is_list(boss.ok("GET", f"/api/domains?q={DOMAIN[:3]}")) == []
    d = boss.ok("GET", f"/api/domains/{OTHER}")
    assert d["name"] == OTHER
    assert boss.ok("PATCH", f"/api/domains/{OTHER}", {"policies": {"pop_delete": "hide"}}) \
        ["policies"]["pop_delete"]["from"] == "domain"
    boss.ok("PATCH", f"/api/domains/{OTHER}", {"policies": {"pop_delete": ""}})
    boss.ok("POST", f"/api/domains/{OTHER}/aliases", {"alias": "other-alias.test"}, status=201)
    boss.ok("DELETE", f"/api/domains/{OTHER}/aliases/other-alias.test", status=204)
    address = new_account(boss, "carol", OTHER, quota="10M", real_name="Carol")
    assert [a["address"] for a in is_list(boss.ok("GET", f"/api/domains/{OTHER}/accounts"))] \
        == sorted([BOSS, BOB, address])
    a = boss.ok("PATCH", f"/api/accounts/{quote(address)}", {"quota": "20M",
                                                           "policies": {"xmit": "no"}})
    assert a["quota"] == 20 << 20
    boss.ok("POST", f"/api/accounts/{quote(address)}/password", {"password": "Carol-new-1"},
            status=204)
    boss.ok("POST", f"/api/accounts/{quote(address)}/aliases", {"alias": "c"}, status=201)
    boss.ok("DELETE", f"/api/accounts/{quote(address)}/aliases/c", status=204)
    base = f"/api/accounts/{quote(address)}/mailboxes"
    boss.ok("POST", base, {"name": "Work"}, status=201)
    boss.ok("PATCH", f"{base}/Work", {"name": "Job"})
    boss.ok("PUT", f"{base}/Job/acl/{quote(BOB)}", {"rights": "lr"})
    # a domain admin may give a right to someone of another domain? the
    # identifier is the mailbox owner's business: only the mailbox is checked
    assert boss.ok("GET", f"{base}/Job/acl")["total"] == 2
    boss.ok("DELETE", f"{base}/Job/acl/{quote(BOB)}", status=204)
    assert is_list(boss.ok("GET", f"{base}/INBOX/messages")) == []
    boss.ok("DELETE", f"{base}/Job", status=204)
    assert boss.ok("POST", f"/api/accounts/{quote(address)}/expire") == \
        {"removed": 0, "days": None}
    assert boss.ok("GET", f"/api/route?address=carol%40{OTHER}")["account"] == address
    # alerts: for the domain by default, or one of its accounts
    mine = alerts(boss, {"text": "boss says"})
    theirs = alerts(boss, {"text": "to carol", "account": address})
    server = alerts(admin, {"text": "admin says"})
    seen = {a["id"]: a for a in is_list(boss.ok("GET", "/api/alerts"))}
    assert mine["id"] in seen and theirs["id"] in seen and server["id"] not in seen
    assert seen[mine["id"]]["scope"] == "domain" and seen[mine["id"]]["domain"] == OTHER
    assert all(a["domain"] == OTHER for a in seen.values())
    fails(boss.delete(f"/api/alerts/{server['id']}"), 403, "only a server admin")
    boss.ok("DELETE", f"/api/alerts/{mine['id']}", status=204)
    boss.ok("DELETE", f"/api/alerts/{theirs['id']}", status=204)
    admin.ok("DELETE", f"/api/alerts/{server['id']}", status=204)
    # the webadmin right is not theirs to give, even in their domain
    fails(boss.patch(f"/api/accounts/{quote(address)}", {"webadmin": "domain"}), 403,
          "only a server admin")
    boss.ok("DELETE", f"/api/accounts/{quote(address)}", status=204)
    fails(boss.delete(f"/api/accounts/{quote(BOSS)}"), 409, "logged in as")


def test_the_server_admin_may_do_what_the_domain_admin_may_not(web, admin):
    # everything SERVER_ONLY names, for real, then put back
    assert admin.ok("GET", f"/api/domains/{OTHER}")["name"] == OTHER
    admin.ok("POST", f"/api/domains/{OTHER}/bound", {"address": "192.0.2.20"}, status=201)
    admin.ok("DELETE", f"/api/domains/{OTHER}/bound/192.0.2.20", status=204)
    assert admin.ok("PATCH", f"/api/accounts/{quote(BOB)}", {"webadmin": "domain"}) \
        ["webadmin"] == "domain"
    assert admin.ok("PATCH", f"/api/accounts/{quote(BOB)}", {"webadmin": "none"}) \
        ["webadmin"] == "none"
    assert admin.ok("GET", f"/api/accounts/{quote(BOSS)}/mailboxes")["total"] >= 1
    assert admin.ok("GET", f"/api/route?address={quote(BOB)}")["account"] == BOB


def test_with_curl(web, tmp_path):
    """curl as the doc shows it: a jar for the cookie, the token by hand."""
    curl = shutil.which("curl")
    assert curl, "apt-get install curl"
    jar = tmp_path / "jar"
    url = f"http://127.0.0.1:{web.http_port}"

    def run(*args):
        res = subprocess.run([curl, "-s", "-S", "--max-time", "30", "-w",
                              "\n%{http_code}", *args], capture_output=True, text=True,
                             timeout=60)
        assert res.returncode == 0, res.stderr
        body, code = res.stdout.rsplit("\n", 1)
        return int(code), json.loads(body) if body else None

    code, got = run("-c", str(jar), "-X", "POST", f"{url}/api/login",
                    "-H", "Content-Type: application/json",
                    "-d", json.dumps({"user": BOSS, "password": BOSS_PASSWORD}))
    assert code == 200 and got["role"] == "domain", got
    token = got["csrf"]
    assert "postern_session" in jar.read_text() and "#HttpOnly_127.0.0.1" in jar.read_text()
    assert run("-b", str(jar), f"{url}/api/session")[1]["user"] == BOSS
    code, got = run("-b", str(jar), f"{url}/api/domains/{DOMAIN}")
    assert code == 403 and got["error"] == f"you administer {OTHER} only"
    code, got = run("-b", str(jar), f"{url}/api/status")
    assert code == 403 and "only a server admin" in got["error"]
    # a change: without the token, with it
    body = json.dumps({"text": "from curl"})
    code, got = run("-b", str(jar), "-X", "POST", f"{url}/api/alerts",
                    "-H", "Content-Type: application/json", "-d", body)
    assert code == 403 and "X-CSRF-Token" in got["error"]
    code, got = run("-b", str(jar), "-X", "POST", f"{url}/api/alerts",
                    "-H", "Content-Type: application/json", "-H", f"X-CSRF-Token: {token}",
                    "-d", body)
    assert code == 201, got
    code, _ = run("-b", str(jar), "-X", "DELETE", f"{url}/api/alerts/{got['id']}",
                  "-H", f"X-CSRF-Token: {token}")
    assert code == 204
    # curl's form post (what another site's form would send) is 415
    code, got = run("-b", str(jar), "-X", "POST", f"{url}/api/alerts",
                    "-H", f"X-CSRF-Token: {token}", "--data-urlencode", "text=form")
    assert code == 415 and "application/json" in got["error"]
    # anonymous
    code, got = run(f"{url}/api/domains")
    assert code == 401 and got["error"] == "log in first"
    code, _ = run("-b", str(jar), "-c", str(jar), "-X", "POST", f"{url}/api/logout",
                  "-H", f"X-CSRF-Token: {token}")
    assert code == 204
    code, got = run("-b", str(jar), f"{url}/api/session")
    assert code == 401


# -- markup is text -------------------------------------------------------------------------------

def test_markup_comes_back_as_json_text(web, admin, alerts):
    address = new_account(admin, "markup", real_name=SCRIPT)
    a = admin.get(f"/api/accounts/{quote(address)}")
    assert a.status == 200 and a.header("Content-Type") == "application/json; charset=utf-8"
    assert a.header("X-Content-Type-Options") == "nosniff"
    assert a.json["real_name"] == SCRIPT
    listed = admin.ok("GET", f"/api/domains/{DOMAIN}/accounts?q=markup")
    assert listed["items"][0]["real_name"] == SCRIPT
    alert = alerts(admin, {"text": SCRIPT + " & \"quotes\"", "account": address})
    got = admin.get(f"/api/alerts?account={quote(address)}")
    assert got.header("Content-Type").startswith("application/json")
    assert got.json["items"][0]["text"] == SCRIPT + " & \"quotes\""
    # in the raw JSON it is a string, its quotes escaped
    assert b'"text":"<script>alert(\'x\')</script> & \\"quotes\\""' in got.raw
    # a mailbox name with markup too
    admin.ok("POST", f"/api/accounts/{quote(address)}/mailboxes", {"name": "<b>bold</b>"},
             status=201)
    names = [m["name"] for m in admin.ok("GET", f"/api/accounts/{quote(address)}/mailboxes")
             ["items"]]
    assert "<b>bold</b>" in names
    # the pages are files: nothing of the store's is put into them
    for page in ("/", "/index.html", "/app.js"):
        p = admin.get(page)
        assert p.status == 200, page
        assert SCRIPT.encode() not in p.raw and b"<b>bold</b>" not in p.raw
        assert "default-src 'self'" in p.header("Content-Security-Policy")
        assert p.header("X-Frame-Options") == "DENY"
    assert admin.get("/").header("Content-Type") == "text/html; charset=utf-8"
    assert admin.get("/app.js").header("Content-Type") == "text/javascript; charset=utf-8"
    # and the pages put what the API says in as text
    app = (web.root / "www" / "webadmin" / "app.js").read_text()
    assert ".innerHTML" not in app and "insertAdjacentHTML" not in app
    admin.ok("DELETE", f"/api/alerts/{alert['id']}", status=204)
    admin.ok("DELETE", f"/api/accounts/{quote(address)}", status=204)


# -- paths that try to leave webadmin/ ---------------------------------------------------------------

TRAVERSALS = [
    "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt",
    "/%2e./secret.txt", "/..%2fsecret.txt", "/..%2Fsecret.txt", "/%2e%2e%2fsecret.txt",
    "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt", "/..%252fsecret.txt",
    "/lib/../../secret.txt", "/lib/%2e%2e/%2e%2e/secret.txt", "//secret.txt",
    "/..\\secret.txt", "/..%5csecret.txt", "/%c0%ae%c0%ae/secret.txt",
    "/%00../secret.txt", "/index.html%00.txt", "/.hidden.txt", "/%2ehidden.txt",
    "/./secret.txt", "/lib/", "/lib", "/../../../../etc/passwd", "/..",
    "/%2e%2e", "/pages/../../secret.txt", "/" + "a/" * 150 + "x",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_never_leave_webadmin(web, path):
    out = raw_http(web.http_port, b"GET " + path.encode() +
                   b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 "), out[:200]
    assert status_of(out) in (400, 404), out[:300]
    assert SECRET.encode() not in out and b"root:" not in out
    if status_of(out) == 404:
        assert out.endswith(b'{"error":"no such page"}'), out[-200:]


def test_a_symlink_in_the_pages_never_leads_outside(web):
    # Fails if a symbolic link under http.root (a careless deploy, a
    # package) serves a file outside it; one that stays inside is served.
    root = pathlib.Path(web.root) / "www" / "webadmin"
    (root / "out.txt").symlink_to("../secret.txt")
    (root / "lib" / "up").symlink_to("../..")
    (root / "in.css").symlink_to("style.css")
    try:
        for path in (b"/out.txt", b"/lib/up/secret.txt"):
            out = raw_http(web.http_port, b"GET " + path +
                           b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert status_of(out) == 404, out[:300]
            assert SECRET.encode() not in out
        out = raw_http(web.http_port, b"GET /in.css HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Connection: close\r\n\r\n")
        assert status_of(out) == 200, out[:300]
        web.wait_log("leads outside http.root")
    finally:
        for name in ("out.txt", "lib/up", "in.css"):
            (root / name).unlink()


def test_the_pages_are_served(web):
    for path in ("/", "/index.html", "/app.js", "/style.css"):
        out = raw_http(web.http_port, b"GET " + path.encode() +
                       b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert status_of(out) == 200, (path, out[:200])
    out = raw_http(web.http_port, b"HEAD /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"Connection: close\r\n\r\n")
    assert status_of(out) == 200 and out.endswith(b"\r\n\r\n")


def test_api_paths_that_try_to_climb(admin):
    for path in ("/api/../index.html", "/api/%2e%2e/index.html", "/api/domains/..%2F..",
                 "/api/accounts/..%2F..%2Fsecret.txt", "/api/domains/%2e%2e"):
        a = admin.get(path)
        assert a.status in (400, 404), (path, a)
        assert SECRET.encode() not in a.raw and b"<html" not in a.raw.lower()


# -- a thousand slow clients beside POP ---------------------------------------------------------------

def test_headers_sent_a_line_at_a_time_meet_request_timeout(tmp_path):
    # Fails if a client that trickles header lines (slowloris) keeps its
    # channel past http.request_timeout: with http.channels of them the
    # admins would get no page at all.
    srv = web_server(tmp_path, **{"http.request_timeout": "2s", "http.channels": "3",
                                  "http.channels_per_ip": "3"})
    srv.start()
    try:
        wait_http(srv.http_port)
        slow = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        t0 = time.monotonic()
        closed_after = None
        while time.monotonic() - t0 < 15 and closed_after is None:
            for s in slow:
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                    s.settimeout(0.3)
                    if s.recv(100) == b"":
                        closed_after = time.monotonic() - t0
                except socket.timeout:
                    pass
                except OSError:
                    closed_after = time.monotonic() - t0
        assert closed_after is not None, "a trickling client kept its channel for 15 s"
        assert 1.5 <= closed_after <= 6, closed_after
        for s in slow:
            s.close()
        # the channels are free again: a page comes
        assert status_of(raw_http(srv.http_port, b"GET / HTTP/1.1\r\nHost: x\r\n"
                                  b"Connection: close\r\n\r\n")) == 200
        assert "did not come whole within 2 s" in srv.log()
    finally:
        assert srv.stop() == 0


def test_a_thousand_slow_http_clients_do_not_stop_pop(tmp_path):
    srv = web_server(tmp_path, **{"http.channels": "64", "http.channels_per_ip": "64",
                                  "http.idle_timeout": "30s"})
    srv.start()
    try:
        wait_http(srv.http_port)
        srv.deliver(message(1, body_lines=200))
        slow_clients_beside_pop(srv, 1000)
        # once they are gone the web admin serves again
        deadline = time.monotonic() + 15
        while True:
            try:
                api = Api(srv.http_port, ADMIN, ADMIN_PASSWORD, timeout=5).login()
                break
            except (AssertionError, OSError, http.client.HTTPException):
                assert time.monotonic() < deadline, "the web admin did not come back"
                time.sleep(0.2)
        assert api.ok("GET", "/api/status")["connections"]["pop"] == 0
    finally:
        assert srv.stop() == 0


def slow_clients_beside_pop(srv, n):
    """n HTTP clients that send headers slowly, never ending them, while a
    POP user logs in and reads a message, three times over."""
    socks = []
    before = server_sockets(srv)
    try:
        for i in range(n):
            try:
                s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=5)
            except OSError:
                continue     # refused at once: as good
            socks.append(s)
            s.setblocking(False)
            try:
                s.send(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            except OSError:
                pass
        for round in range(3):
            for s in socks:
                try:
                    s.send(b"X-Slow-%d: still here\r\n" % round)
                except OSError:
                    pass
            start = time.monotonic()
            p = srv.pop()
            count, _ = p.stat()
            assert count == 1
            lines = p.retr(1)[1]
            assert b"line 199 of message 1" in b"\r\n".join(lines)
            p.quit()
            assert time.monotonic() - start < 5, "POP was held up"
            time.sleep(0.3)
        # posternd took no more of them than its channels: the rest wait
        # in the listen queue, costing it nothing
        held = server_sockets(srv) - before
        assert 0 < held <= 64, f"posternd holds {held} slow HTTP connections"
    finally:
        # gone at once (RST): a client that leaves with a FIN while still
        # in the listen queue is only noticed at http.idle_timeout
        for s in socks:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()


def server_sockets(srv):
    """How many sockets posternd has open."""
    fds = f"/proc/{srv.proc.pid}/fd"
    count = 0
    for fd in os.listdir(fds):
        try:
            count += os.readlink(os.path.join(fds, fd)).startswith("socket:")
        except OSError:
            pass
    return count


# -- failed logins are logged and held back -------------------------------------------------------------

def test_failed_logins_are_logged_and_delayed(tmp_path):
    srv = web_server(tmp_path, **{"auth.failure_delay_ms": "1000"})
    srv.start()
    try:
        wait_http(srv.http_port)
        anon = Api(srv.http_port, timeout=60)
        start = time.monotonic()
        a = anon.post("/api/login", {"user": ADMIN, "password": "not-it"})
        took = time.monotonic() - start
        assert fails(a, 401) == "wrong user name or password"
        assert took >= 0.9, f"a failed login answered after {took:.2f}s"
        srv.wait_log(f"HTTP [127.0.0.1] admin login failed: wrong password for {ADMIN}")
        fails(anon.post("/api/login", {"user": f"ghost@{DOMAIN}", "password": "x-1"}), 401)
        srv.wait_log(f"admin login failed: unknown account ghost@{DOMAIN}")
        fails(anon.post("/api/login", {"user": ME, "password": PASSWORD}), 401)
        srv.wait_log(f"admin login failed: {ME} has no webadmin right")
        # and the System Log as the API shows it says so too
        api = Api(srv.http_port, ADMIN, ADMIN_PASSWORD, timeout=60).login()
        lines = api.ok("GET", "/api/log?tag=HTTP&lines=2000")["lines"]
        assert any(f"admin login failed: wrong password for {ADMIN}" in line for line in lines)
        assert any(line.split()[2] == "notice" and "admin login failed" in line
                   for line in lines)
        assert any(f"admin {ADMIN} logged in (server)" in line for line in lines)
        # the changes are logged with their author
        api.ok("POST", "/api/alerts", {"text": "logged"}, status=201)
        srv.wait_log(f"notice HTTP admin {ADMIN}: POST /api/alerts -> 201")
    finally:
        assert srv.stop() == 0

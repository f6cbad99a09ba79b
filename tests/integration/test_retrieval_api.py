"""The web admin's remote POP3 accounts (doc/api.md, "Remote POP3
accounts") over real HTTP: a source added, listed, changed, run by the
button's request until its mail is here, and removed; the password never
comes back; every bad value a 400 naming its field; who may touch whose.

The remote is a second posternd; the local one loads pop, http and
retrieval."""
import time

import pytest

from conftest import DOMAIN, PASSWORD, USER, make_server, message
from test_webadmin_api import (ADMIN, ADMIN_PASSWORD, BOB, BOSS, BOSS_PASSWORD,
                               fails, is_list, web_server)
from webadmin import Api, quote, wait_http

ME = f"{USER}@{DOMAIN}"
BASE = f"/api/accounts/{quote(ME)}/retrievals"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    remote = make_server(tmp_path_factory.mktemp("remote")).start()
    local = web_server(tmp_path_factory.mktemp("local"),
                       modules="pop, relay, http, retrieval")
    local.start()
    wait_http(local.http_port)
    yield local, remote
    assert local.stop() == 0
    assert remote.stop() == 0


@pytest.fixture
def admin(servers):
    return Api(servers[0].http_port, ADMIN, ADMIN_PASSWORD).login()


def wait_run(api, path, timeout=30):
    """GET the source until its run has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = api.ok("GET", path)
        if s["last_result"] in ("ok", "failed") and not s["requested"]:
            return s
        time.sleep(0.1)
    raise AssertionError(f"the run did not end: {s}")


def local_count(srv):
    p = srv.pop()
    n = len(p.list()[1])
    p.quit()
    return n


def test_add_run_change_remove(servers, admin):
    local, remote = servers
    for i in range(3):
        remote.deliver(message(i))
    before = local_count(local)
    got = admin.request("POST", BASE, {
        "host": "127.0.0.1", "port": remote.port, "tls": "none", "user": USER,
        "password": PASSWORD, "keep": True, "interval": 3600})
    assert got.status == 201, got
    # what a user types as the password is never given back
    assert PASSWORD.encode() not in got.raw
    s = got.json
    assert s["password_set"] is True and "password" not in s
    assert (s["host"], s["port"], s["tls"], s["verify"], s["auth"], s["mailbox"],
            s["keep"], s["interval"], s["enabled"]) == \
        ("127.0.0.1", remote.port, "none", True, "user", "INBOX", True, 3600, True)
    path = f"{BASE}/{s['id']}"
    # a new source runs at once
    s = wait_run(admin, path)
    assert s["last_result"] == "ok", s
    assert s["last_fetched"] == 3 and s["last_error"] == "" and s["failures"] == 0
    assert isinstance(s["last_run"], int) and s["next_run"] >= s["last_run"]
    assert local_count(local) == before + 3
    items = is_list(admin.ok("GET", BASE))
    assert [i["id"] for i in items] == [s["id"]]
    assert PASSWORD.encode() not in admin.request("GET", BASE).raw
    # the button: new mail only (kept on the server, fetched once)
    remote.deliver(message(9))
    run = admin.ok("POST", f"{path}/run", status=202)
    assert run == {"id": s["id"], "requested": True}
    s = wait_run(admin, path)
    assert s["last_fetched"] == 1
    assert local_count(local) == before + 4
    # changed, disabled: the button is refused
    s = admin.ok("PATCH", path, {"enabled": False, "interval": 600, "keep": False})
    assert (s["enabled"], s["interval"], s["keep"], s["next_run"]) == (False, 600, False, None)
    fails(admin.request("POST", f"{path}/run"), 409, "disabled")
    admin.ok("DELETE", path, status=204)
    fails(admin.request("GET", path), 404, "no retrieval")
    fails(admin.request("DELETE", path), 404, "no retrieval")


def test_a_failed_run_says_why(servers, admin):
    local, remote = servers
    s = admin.ok("POST", BASE, {"host": "127.0.0.1", "port": remote.port, "tls": "none",
                                "user": USER, "password": "wrong-password"}, status=201)
    s = wait_run(admin, f"{BASE}/{s['id']}")
    assert s["last_result"] == "failed"
    assert "authentication failed" in s["last_error"], s
    assert s["failures"] == 1
    admin.ok("DELETE", f"{BASE}/{s['id']}", status=204)


@pytest.mark.parametrize("body, field, words", [
    ({"user": "u", "password": "p"}, "host", ["host", "needed"]),
    ({"host": "h", "password": "p"}, "user", ["user", "needed"]),
    ({"host": "h", "user": "u"}, "password", ["password", "needed"]),
    ({"host": "bad host", "user": "u", "password": "p"}, "host", ["host name"]),
    ({"host": "h", "user": "u", "password": "p", "tls": "ssl"}, "tls", ["implicit, stls or none"]),
    ({"host": "h", "user": "u", "password": "p", "auth": "cram-md5"}, "auth", ["user, apop or plain"]),
    ({"host": "h", "user": "u", "password": "p", "port": 70000}, "port", ["1 to 65535"]),
    ({"host": "h", "user": "u", "password": "p", "port": "x"}, "port", ["1 to 65535"]),
    ({"host": "h", "user": "u", "password": "p", "port": -1}, "port", ["number"]),
    ({"host": "h", "user": "u", "password": "p", "interval": 1}, "interval", ["10 s to 7 days"]),
    ({"host": "h", "user": "u", "password": "p", "keep": "perhaps"}, "keep", ["yes or no"]),
    ({"host": "h", "user": "u", "password": "p", "verify": [1]}, "verify", ["true/false"]),
    ({"host": "h", "user": "u u", "password": "p"}, "user", ["no spaces"]),
    ({"host": "h", "user": "u", "password": "p\r\nQUIT"}, "password", ["printable"]),
    ({"host": "h", "user": "u", "password": "p", "mailbox": "a//b"}, "mailbox", []),
    ({"host": "h", "user": "u", "password": "p", "colour": "red"}, "colour", ["unknown field"]),
])
def test_bad_values_are_400_naming_the_field(admin, body, field, words):
    fails(admin.request("POST", BASE, body), 400, *words, field=field)


def test_paths_and_methods(admin):
    fails(admin.request("POST", BASE, {"host": "h", "user": "u", "password": "p",
                                       "mailbox": "nowhere"}), 404, "no mailbox nowhere")
    fails(admin.request("GET", f"{BASE}/abc"), 400, "not a retrieval id")
    fails(admin.request("GET", f"{BASE}/0"), 400, "not a retrieval id")
    fails(admin.request("GET", f"{BASE}/99999"), 404, "no retrieval 99999")
    fails(admin.request("POST", f"{BASE}/99999/run"), 404, "no retrieval 99999")
    fails(admin.request("GET", f"/api/accounts/{quote('nobody@' + DOMAIN)}/retrievals"), 404)
    a = admin.request("PUT", BASE, {})
    assert a.status == 405 and a.header("Allow") == "GET, POST", a.headers
    a = admin.request("GET", f"{BASE}/1/run")
    assert a.status == 405 and a.header("Allow") == "POST", a.headers


def test_who_may(servers, admin):
    local, _ = servers
    boss = Api(local.http_port, BOSS, BOSS_PASSWORD).login()
    anon = Api(local.http_port)
    s = admin.ok("POST", BASE, {"host": "h.invalid", "user": "u", "password": "p",
                                "enabled": False}, status=201)
    path = f"{BASE}/{s['id']}"
    # a domain admin of other.test: not jsmith@example.test's
    fails(boss.request("GET", BASE), 403)
    fails(boss.request("POST", BASE, {"host": "h", "user": "u", "password": "p"}), 403)
    fails(boss.request("PATCH", path, {"enabled": True}), 403)
    fails(boss.request("DELETE", path), 403)
    fails(boss.request("POST", f"{path}/run"), 403)
    fails(anon.request("GET", BASE), 401)
    assert admin.ok("GET", path)["enabled"] is False     # nothing changed
    # but bob@other.test's, yes
    bob = f"/api/accounts/{quote(BOB)}/retrievals"
    t = boss.ok("POST", bob, {"host": "h.invalid", "user": "u", "password": "p",
                              "enabled": False}, status=201)
    assert is_list(boss.ok("GET", bob))[0]["id"] == t["id"]
    boss.ok("DELETE", f"{bob}/{t['id']}", status=204)
    admin.ok("DELETE", path, status=204)


def test_module_settings_change_at_once(admin):
    s = admin.ok("GET", "/api/settings")["settings"]
    assert s["retrieval.max_parallel"] == {"value": "4", "source": "default", "changeable": True}
    got = admin.ok("PATCH", "/api/settings", {"retrieval.max_parallel": "8"})["settings"]
    assert got["retrieval.max_parallel"] == {"value": "8", "source": "web admin",
                                             "changeable": True}
    fails(admin.request("PATCH", "/api/settings", {"retrieval.max_parallel": "0"}), 400,
          "1 to 256", field="retrieval.max_parallel")
    fails(admin.request("PATCH", "/api/settings", {"retrieval.ca_file": "ca.pem"}), 400,
          "absolute path", field="retrieval.ca_file")
    admin.ok("PATCH", "/api/settings", {"retrieval.max_parallel": ""})

"""posternctl's Router commands as an admin uses them: account aliases,
domain aliases, bound addresses, the unified account, quotas, `route`, and
`deliver` through the Router - with the exact answers and exit codes."""
import pytest

from conftest import DOMAIN, USER
from conftest import ctl_fails as fails, ctl_out as out

ME = f"{USER}@{DOMAIN}"






def route(srv, address, local_ip=None):
    args = ["route", address] + ([local_ip] if local_ip else [])
    return dict(line.split(" ", 1) for line in out(srv, *args).splitlines())


@pytest.fixture
def admin(server_factory):
    srv = server_factory(start=False)
    srv.ctl("domain", "add", "client1.com")
    srv.add_account("cl1@client1.com", "cl1-pass")
    return srv


def test_unified_account_takes_unknown_local_parts(admin):
    rc, err = fails(admin, "route", "abcdef@client1.com")
    assert (rc, err) == (67, "posternctl: no such user: abcdef@client1.com")
    assert out(admin, "domain", "set", "client1.com", "unified_account=CL1") == \
        "client1.com: unified_account=cl1\n"
    assert route(admin, "AbcDef@client1.com") == {
        "account": "cl1@client1.com", "rule": "unified",
        "address": "abcdef@client1.com", "view": "abcdef@client1.com"}
    # the account itself is no view
    assert route(admin, "cl1@client1.com") == {
        "account": "cl1@client1.com", "rule": "account", "address": "cl1@client1.com"}
    assert "unified_account cl1\n" in out(admin, "domain", "show", "client1.com")
    # an empty value clears it
    out(admin, "domain", "set", "client1.com", "unified_account=")
    assert fails(admin, "route", "abcdef@client1.com")[0] == 67
    assert "unified_account -\n" in out(admin, "domain", "show", "client1.com")


def test_unified_account_must_exist_in_the_domain(admin):
    assert fails(admin, "domain", "set", "client1.com", "unified_account=jsmith") == \
        (1, "posternctl: no such account: jsmith@client1.com")
    assert fails(admin, "domain", "set", "client1.com", "frob=1") == \
        (64, "posternctl: domain set: unknown setting 'frob=1' (known: unified_account=ACCOUNT, pop, xmit, lmtp, retrieval, pop_from, pop_delete, pop_login_delay, pop_expire)")
    assert fails(admin, "domain", "set", "nope.test", "unified_account=x")[1] == \
        "posternctl: no such domain: nope.test"


def test_account_aliases(admin):
    assert out(admin, "alias", "add", "info@client1.com", "cl1") == \
        "alias info@client1.com -> cl1 added\n"
    assert out(admin, "alias", "add", "Sales@Client1.com", "cl1") == \
        "alias Sales@Client1.com -> cl1 added\n"
    assert route(admin, "INFO@client1.com")["rule"] == "alias"
    assert route(admin, "info+x@client1.com") == {
        "account": "cl1@client1.com", "rule": "detail", "address": "info+x@client1.com"}
    assert out(admin, "alias", "list") == (
        f"{'info@client1.com':<40} cl1@client1.com\n"
        f"{'sales@client1.com':<40} cl1@client1.com\n")
    assert out(admin, "alias", "list", "example.test") == ""
    assert out(admin, "alias", "del", "sales@client1.com") == "alias sales@client1.com removed\n"
    assert fails(admin, "route", "sales@client1.com")[0] == 67


@pytest.mark.parametrize("args,code,error", [
    (["alias", "add", "cl1@client1.com", "cl1"], 1,
     "cl1@client1.com is an account, it cannot be an alias too"),
    (["alias", "add", "x@client1.com", "ghost"], 1, "no such account: ghost@client1.com"),
    (["alias", "add", "x@nope.test", "cl1"], 1, "no such account: cl1@nope.test"),
    (["alias", "add", "bad..x@client1.com", "cl1"], 1,
     "invalid object name 'bad..x': must not start or end with a dot or contain '..'"),
    (["alias", "add", "x@client1.com"], 64, "usage: alias add ALIAS@DOMAIN ACCOUNT"),
    (["alias", "del", "nothere@client1.com"], 1, "no such alias: nothere@client1.com"),
    (["alias", "list", "nope.test"], 1, "no such domain: nope.test"),
    (["domain", "alias", "add", "client1.com", "example.test"], 1,
     "client1.com is a domain, it cannot be an alias too"),
    (["domain", "alias", "add", "new.test", "nope.test"], 1, "no such domain: nope.test"),
    (["domain", "alias", "del", "nope.test"], 1, "no such domain alias: nope.test"),
    (["domain", "alias", "list", "nope.test"], 1, "no such domain: nope.test"),
    (["domain", "alias", "add", "x.test"], 64,
     "usage: domain alias add ALIAS DOMAIN | del ALIAS | list [DOMAIN]"),
    (["domain", "bind", "client1.com", "not-an-ip"], 1,
     "invalid address name 'not-an-ip': not a numeric IPv4 or IPv6 address"),
    (["domain", "bind", "nope.test", "127.0.0.3"], 1, "no such domain: nope.test"),
    (["domain", "unbind", "127.0.0.9"], 1, "no such bound address: 127.0.0.9"),
    (["account", "set", USER, "quota=lots"], 64,
     "account set: quota=lots: a size like 500M, 2G or 1048576, or none"),
    (["route"], 64, "usage: route ADDRESS [LOCAL-IP]"),
    (["route", "ghost@nope.test"], 67, "no such domain: nope.test"),
    (["route", "a..b@client1.com"], 65,
     "invalid local part name 'a..b': must not start or end with a dot or contain '..'"),
])
def test_errors(admin, args, code, error):
    assert fails(admin, *args, input=b"pw\n") == (code, f"posternctl: {error}")


def test_an_alias_name_cannot_become_an_account_and_goes_with_its_account(admin):
    admin.ctl("alias", "add", "info@client1.com", "cl1")
    assert fails(admin, "account", "add", "info@client1.com", input=b"pw\n") == \
        (1, "posternctl: info@client1.com is an alias of cl1@client1.com: remove the alias first")
    admin.ctl("account", "del", "cl1@client1.com")
    assert out(admin, "alias", "list") == ""


def test_domain_aliases(admin):
    admin.ctl("domain", "set", "client1.com", "unified_account=cl1")
    assert out(admin, "domain", "alias", "add", "client1.net", "client1.com") == \
        "domain alias client1.net -> client1.com added\n"
    assert route(admin, "cl1@CLIENT1.NET") == {
        "account": "cl1@client1.com", "rule": "account", "address": "cl1@client1.com"}
    # the unified account and its view work through the alias too, and the
    # view names the real domain
    assert route(admin, "xyz@client1.net")["view"] == "xyz@client1.com"
    assert out(admin, "domain", "alias", "list") == f"{'client1.net':<40} client1.com\n"
    assert out(admin, "domain", "show", "client1.net").startswith(
        "domain client1.com\n(client1.net is an alias of it)\n")
    assert fails(admin, "domain", "add", "client1.net")[0] == 1
    assert out(admin, "domain", "alias", "del", "client1.net") == \
        "domain alias client1.net removed\n"
    assert fails(admin, "route", "cl1@client1.net")[1] == \
        "posternctl: no such domain: client1.net"


def test_bound_addresses(admin):
    assert fails(admin, "route", "cl1")[1] == "posternctl: no such user: cl1@example.test"
    assert out(admin, "domain", "bind", "client1.com", "127.0.0.2") == \
        "connections to 127.0.0.2 belong to domain client1.com\n"
    out(admin, "domain", "bind", "client1.com", "::FFFF:127.0.0.3")
    assert route(admin, "cl1", "127.0.0.2")["account"] == "cl1@client1.com"
    # addresses are compared in their canonical form
    assert route(admin, "cl1", "0:0:0:0:0:ffff:127.0.0.3")["account"] == "cl1@client1.com"
    # another local address: the main domain
    assert route(admin, "jsmith", "127.0.0.1")["account"] == ME
    assert "bound 127.0.0.2\n" in out(admin, "domain", "show", "client1.com")
    # removing the domain removes its bindings
    admin.ctl("account", "del", "cl1@client1.com")
    admin.ctl("domain", "del", "client1.com")
    assert route(admin, "jsmith", "127.0.0.2")["account"] == ME


def test_direct_mailbox_addressing_route(admin):
    admin.ctl("mailbox", "add", USER, "Lists/Info")
    assert route(admin, "jsmith#Lists/Info") == {
        "account": ME, "rule": "mailbox", "address": "jsmith#lists/info@example.test",
        "mailbox": "Lists/Info"}


def test_quota_set_show_and_enforced_by_deliver(admin):
    assert out(admin, "account", "set", USER, "quota=1k") == "jsmith: quota=1k\n"
    show = out(admin, "account", "show", USER)
    assert "quota 1024\n" in show and "used 0\n" in show
    res = admin.ctl("deliver", USER, input=b"Subject: big\n\n" + b"x" * 2000 + b"\n",
                    check=False)
    # the default policy: a temporary failure, the MTA tries again
    assert res.returncode == 75
    assert res.stderr.decode() == \
        "posternctl: jsmith not delivered, try again: mailbox of jsmith@example.test is full\n"
    assert admin.ctl("deliver", USER, input=b"Subject: small\n\nx\n").returncode == 0
    assert "messages 1\n" in out(admin, "account", "show", USER)
    out(admin, "account", "set", USER, "quota=none")
    assert "quota none\n" in out(admin, "account", "show", USER)


def test_deliver_to_several_recipients_stamps_each(admin):
    admin.ctl("domain", "set", "client1.com", "unified_account=cl1")
    res = admin.ctl("deliver", "--from", "bob@example.org", USER, "abcdef@client1.com",
                    "ghost@example.test", input=b"Subject: three\n\nbody\n", check=False)
    assert res.returncode == 67
    assert res.stdout.decode() == "delivered to jsmith\ndelivered to abcdef@client1.com\n"
    assert res.stderr.decode() == \
        "posternctl: ghost@example.test not delivered: no such user: ghost@example.test\n"
    admin.start()
    p = admin.pop()
    lines = p.retr(1)[1]
    assert lines[:3] == [b"Return-Path: <bob@example.org>",
                         b"X-Real-To: <jsmith@example.test>", b"Subject: three"]
    p.quit()
    p = admin.pop("abcdef@client1.com", "cl1-pass")
    assert p.retr(1)[1][:2] == [b"Return-Path: <bob@example.org>",
                                b"X-Real-To: <abcdef@client1.com>"]
    p.quit()
    # xyz sees nothing: it had no mail
    assert admin.pop("xyz@client1.com", "cl1-pass").stat() == (0, 0)


def test_help_names_the_router_commands(admin):
    res = admin.ctl("--help", check=False)
    text = res.stdout.decode() + res.stderr.decode()
    for line in ("alias add ALIAS@DOMAIN ACCOUNT", "alias list [DOMAIN]",
                 "alias del ALIAS@DOMAIN", "domain alias add ALIAS DOMAIN",
                 "domain bind NAME ADDRESS", "domain unbind ADDRESS",
                 "domain set NAME unified_account=ACCOUNT", "route ADDRESS [LOCAL-IP]",
                 "deliver [--from SENDER] RECIPIENT..."):
        assert line in text, text

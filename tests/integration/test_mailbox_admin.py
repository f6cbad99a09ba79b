"""posternctl mailbox add|list|rename|del, acl set|get|del and
deliver --mailbox: the real binary, its exact output and exit codes.

No posternd is needed: posternctl opens the store itself."""
import pytest

from conftest import DOMAIN, USER, Server, make_server, message
from conftest import ctl_fails as fails, ctl_out as out

ME = f"{USER}@{DOMAIN}"


@pytest.fixture
def admin(tmp_path):
    """A store with example.test (jsmith, bob) and other.test (eve)."""
    srv = make_server(tmp_path)
    srv.add_account("bob", "pw-bob")
    srv.ctl("domain", "add", "other.test")
    srv.add_account("eve@other.test", "pw-eve")
    return srv






def names(srv: Server, address=USER):
    return [line.split()[0] for line in out(srv, "mailbox", "list", address).splitlines()]


def uidls(srv: Server, mailbox, address=USER):
    lines = out(srv, "message", "list", address, mailbox).splitlines()
    assert lines[0].split() == ["UID", "SIZE", "FLAGS", "UIDL"]
    return [line.split()[3] for line in lines[1:]]


def test_mailbox_add_list_del(admin):
    assert out(admin, "mailbox", "add", USER, "lists/info") == \
        f"mailbox lists/info added to {ME}\n"
    # no parent level is needed, and names are case-sensitive
    assert names(admin) == ["INBOX", "lists/info"]
    admin.ctl("mailbox", "add", USER, "lists")
    admin.ctl("mailbox", "add", USER, "Lists")
    assert names(admin) == ["INBOX", "Lists", "lists", "lists/info"]
    admin.ctl("message", "import", "--mailbox", "lists", USER, input=message(1))
    admin.ctl("message", "import", "--mailbox", "lists", USER, input=message(2))
    assert out(admin, "mailbox", "del", USER, "lists") == \
        f"mailbox lists of {ME} removed with 2 messages\n"
    # the sub-mailbox stays, as with IMAP DELETE
    assert names(admin) == ["INBOX", "Lists", "lists/info"]
    assert out(admin, "mailbox", "del", "JSmith@Example.Test", "Lists") == \
        f"mailbox Lists of {ME} removed with 0 messages\n"
    # the bodies are gone from disk
    bodies = [b for b in (admin.root / "data" / "bodies").rglob("*") if b.is_file()]
    assert bodies == []


LONG = "x" * 300


@pytest.mark.parametrize("args,code,error", [
    # names (SPEC 1)
    (["mailbox", "add", USER, ".."], 65,
     "invalid mailbox name '..': empty, '.' and '..' levels are not allowed"),
    (["mailbox", "add", USER, "a/../b"], 65,
     "invalid mailbox name 'a/../b': empty, '.' and '..' levels are not allowed"),
    (["mailbox", "add", USER, "/x"], 65,
     "invalid mailbox name '/x': empty, '.' and '..' levels are not allowed"),
    (["mailbox", "add", USER, "x//y"], 65,
     "invalid mailbox name 'x//y': empty, '.' and '..' levels are not allowed"),
    (["mailbox", "add", USER, "a\tb"], 65,
     "invalid mailbox name 'a?b': control characters are not allowed"),
    (["mailbox", "add", USER, LONG], 65,
     "invalid mailbox name '" + "x" * 76 + "...': longer than 255 octets"),
    (["mailbox", "add", USER, "~x"], 65, "invalid mailbox name '~x': must not start with '~'"),
    (["mailbox", "add", USER, ""], 65, "empty mailbox name"),
    (["mailbox", "add", USER, "INBOX"], 1, "mailbox INBOX already exists"),
    (["mailbox", "add", "ghost", "x"], 67, "no such account: ghost@example.test"),
    (["mailbox", "add", USER], 64, "usage: mailbox add ADDRESS NAME"),
    # rename
    (["mailbox", "rename", USER, "INBOX", "old"], 1, "INBOX cannot be renamed"),
    (["mailbox", "rename", USER, "nope", "x"], 67,
     "no mailbox nope in account jsmith@example.test"),
    (["mailbox", "rename", USER, "INBOX", "a//b"], 65,
     "invalid mailbox name 'a//b': empty, '.' and '..' levels are not allowed"),
    (["mailbox", "rename", USER, "x"], 64, "usage: mailbox rename ADDRESS NAME NEWNAME"),
    # del
    (["mailbox", "del", USER, "INBOX"], 1, "INBOX cannot be removed"),
    (["mailbox", "del", USER, "nope"], 67, "no mailbox nope in account jsmith@example.test"),
    (["mailbox", "del", USER, "../x"], 65,
     "invalid mailbox name '../x': empty, '.' and '..' levels are not allowed"),
    (["mailbox", "del", "ghost@other.test", "x"], 67, "no such account: ghost@other.test"),
    # acl
    (["acl", "set", USER, "INBOX", "bob@example.test", "lrx"], 65,
     "unknown right 'x': rights are letters of lrswipcda, optionally after '+' or '-'"),
    (["acl", "set", USER, "INBOX", "bob@example.test", "+-r"], 65, "unknown right '-'"),
    (["acl", "set", USER, "INBOX", "bob@example.test", "R"], 65, "unknown right 'R'"),
    (["acl", "set", USER, "INBOX", "bob", "lr"], 65,
     "invalid ACL identifier 'bob': name the domain too (bob@DOMAIN), "
     "or use anyone@DOMAIN or anyone"),
    (["acl", "set", USER, "INBOX", "bad name@example.test", "lr"], 65,
     "invalid ACL identifier: invalid object name 'bad name'"),
    (["acl", "set", USER, "INBOX", "ghost@example.test", "lr"], 67,
     "no such account: ghost@example.test"),
    (["acl", "set", USER, "INBOX", "anyone@nope.test", "lr"], 67, "no such domain: nope.test"),
    (["acl", "set", USER, "INBOX", ME, "lr"], 1,
     "jsmith@example.test owns INBOX and has every right there; "
     "an ACL entry cannot change that"),
    (["acl", "set", USER, "nope", "anyone", "lr"], 67,
     "no mailbox nope in account jsmith@example.test"),
    (["acl", "set", "ghost", "INBOX", "anyone", "lr"], 67, "no such account: ghost@example.test"),
    (["acl", "set", USER, "INBOX", "anyone"], 64,
     "usage: acl set ADDRESS MAILBOX IDENTIFIER RIGHTS"),
    (["acl", "get", USER, "INBOX", "anyone"], 1,
     "no ACL entry for anyone on mailbox INBOX of jsmith@example.test"),
    (["acl", "get", USER], 64, "usage: acl get ADDRESS MAILBOX [IDENTIFIER]"),
    (["acl", "del", USER, "INBOX", "bob@example.test"], 1,
     "no ACL entry for bob@example.test on mailbox INBOX of jsmith@example.test"),
    (["acl", "del", USER, "INBOX", "bob"], 65, "invalid ACL identifier 'bob'"),
    (["acl", "del", USER, "INBOX"], 64, "usage: acl del ADDRESS MAILBOX IDENTIFIER"),
    # message import --mailbox
    (["message", "import", "--mailbox", "nope", USER], 67,
     "no mailbox nope in account jsmith@example.test"),
    (["message", "import", "--mailbox", "../x", USER], 65,
     "invalid mailbox name '../x': empty, '.' and '..' levels are not allowed"),
    (["message", "import", "--mailbox", "INBOX", "ghost"], 67, "no such account: ghost@example.test"),
    (["message", "import", "--folder", "x", USER], 64,
     "usage: message import [--mailbox NAME] [--date DATE] ADDRESS [FILE...] (< message)"),
    (["message", "import", "--mailbox"], 64, "usage: message import [--mailbox NAME] [--date DATE] ADDRESS"),
])
def test_errors(admin, args, code, error):
    rc, err = fails(admin, *args, input=message(1))
    assert rc == code, err
    assert err.startswith("posternctl: " + error), err
    assert "\n" not in err, err


def test_rename_moves_children_messages_and_acl(admin):
    for name in ("lists", "lists/info", "lists/info/old", "lists-other", "listsx"):
        admin.ctl("mailbox", "add", USER, name)
    admin.ctl("message", "import", "--mailbox", "lists/info", USER, input=message(1))
    admin.ctl("message", "import", "--mailbox", "lists/info", USER, input=message(2))
    before = uidls(admin, "lists/info")
    admin.ctl("acl", "set", USER, "lists/info", "bob@example.test", "lr")

    assert out(admin, "mailbox", "rename", USER, "lists", "archive/lists") == \
        f"mailbox lists of {ME} renamed to archive/lists with 2 sub-mailboxes\n"
    assert names(admin) == ["INBOX", "archive/lists", "archive/lists/info",
                            "archive/lists/info/old", "lists-other", "listsx"]
    # same UIDLs (same UIDVALIDITY and UIDs), same ACL
    assert uidls(admin, "archive/lists/info") == before
    assert out(admin, "acl", "get", USER, "archive/lists/info") == \
        f"{ME} lrswipcda (owner)\nbob@example.test lr\n"
    # the next message continues the UIDs
    res = admin.ctl("message", "import", "--mailbox", "archive/lists/info", USER, input=message(3))
    assert res.stdout.decode() == f"imported into {ME} archive/lists/info as uid 3\n"

    assert out(admin, "mailbox", "rename", USER, "listsx", "lists") == \
        f"mailbox listsx of {ME} renamed to lists\n"
    assert out(admin, "mailbox", "rename", USER, "archive/lists/info", "a") == \
        f"mailbox archive/lists/info of {ME} renamed to a with 1 sub-mailbox\n"
    assert names(admin) == ["INBOX", "a", "a/old", "archive/lists", "lists", "lists-other"]


def test_rename_refusals_change_nothing(admin):
    for name in ("a", "a/b", "x/b"):
        admin.ctl("mailbox", "add", USER, name)
    before = names(admin)
    rc, err = fails(admin, "mailbox", "rename", USER, "a", "x")
    assert (rc, err) == (1, "posternctl: cannot rename a to x: mailbox x/b already exists")
    rc, err = fails(admin, "mailbox", "rename", USER, "a", "x/b")
    assert (rc, err) == (1, "posternctl: cannot rename a to x/b: mailbox x/b already exists")
    rc, err = fails(admin, "mailbox", "rename", USER, "a", "a/b/c")
    assert (rc, err) == (1, "posternctl: cannot rename a to a/b/c: "
                            "a mailbox cannot move into its own sub-mailbox")
    rc, err = fails(admin, "mailbox", "rename", USER, "a", "a")
    assert (rc, err) == (1, "posternctl: mailbox a is already called that")
    rc, err = fails(admin, "mailbox", "rename", USER, "a", "n" * 254)
    assert rc == 1
    assert err == ("posternctl: cannot rename a to " + "n" * 254 +
                   ": sub-mailbox a/b would get a name longer than 255 octets")
    assert names(admin) == before


def test_deliver_into_mailbox(admin, tmp_path):
    admin.ctl("mailbox", "add", USER, "lists/info")
    res = admin.ctl("message", "import", "--mailbox", "lists/info", USER, input=message(1))
    assert res.stdout.decode() == f"imported into {ME} lists/info as uid 1\n"
    files = []
    for n in (2, 3):
        f = tmp_path / f"m{n}.eml"
        f.write_bytes(message(n))
        files.append(str(f))
    res = admin.ctl("message", "import", "--mailbox=lists/info", USER, *files)
    assert res.stdout.decode() == (f"imported into {ME} lists/info as uid 2\n"
                                   f"imported into {ME} lists/info as uid 3\n")
    assert len(uidls(admin, "lists/info")) == 3
    assert uidls(admin, "INBOX") == []
    # without --mailbox: the INBOX, as before
    res = admin.ctl("message", "import", USER, input=message(4))
    assert res.stdout.decode() == f"imported into {ME} INBOX as uid 1\n"
    assert len(uidls(admin, "INBOX")) == 1
    # mailbox names are case-sensitive
    rc, err = fails(admin, "message", "import", "--mailbox", "Lists/Info", USER, input=message(5))
    assert (rc, err) == (67, "posternctl: no mailbox Lists/Info in account jsmith@example.test")


def test_acl_set_get_del(admin):
    admin.ctl("mailbox", "add", USER, "shared")
    assert out(admin, "acl", "get", USER, "shared") == f"{ME} lrswipcda (owner)\n"
    assert out(admin, "acl", "set", USER, "shared", "Bob@Example.TEST", "rl") == \
        f"bob@example.test on shared of {ME}: lr\n"
    assert out(admin, "acl", "set", USER, "shared", "bob@example.test", "+sd") == \
        f"bob@example.test on shared of {ME}: lrsd\n"
    assert out(admin, "acl", "set", USER, "shared", "bob%example.test", "-l") == \
        f"bob@example.test on shared of {ME}: rsd\n"
    assert out(admin, "acl", "set", USER, "shared", "anyone@other.test", "lr") == \
        f"anyone@other.test on shared of {ME}: lr\n"
    assert out(admin, "acl", "set", USER, "shared", "ANYONE", "+l") == \
        f"anyone on shared of {ME}: l\n"
    assert out(admin, "acl", "set", USER, "shared", "eve@other.test", "adcpiwsrl") == \
        f"eve@other.test on shared of {ME}: lrswipcda\n"
    assert out(admin, "acl", "get", USER, "shared") == (
        f"{ME} lrswipcda (owner)\n"
        "anyone l\n"
        "anyone@other.test lr\n"
        "bob@example.test rsd\n"
        "eve@other.test lrswipcda\n")
    assert out(admin, "acl", "get", USER, "shared", "bob@example.test") == \
        "bob@example.test rsd\n"
    assert out(admin, "acl", "get", USER, "shared", ME) == f"{ME} lrswipcda (owner)\n"
    # an entry left with no rights is removed
    assert out(admin, "acl", "set", USER, "shared", "eve@other.test", "") == \
        f"eve@other.test on shared of {ME}: no rights, no entry\n"
    assert out(admin, "acl", "set", USER, "shared", "anyone", "-l") == \
        f"anyone on shared of {ME}: no rights, no entry\n"
    assert out(admin, "acl", "del", USER, "shared", "anyone@other.test") == \
        f"ACL entry for anyone@other.test on shared of {ME} removed\n"
    assert out(admin, "acl", "get", USER, "shared") == \
        f"{ME} lrswipcda (owner)\nbob@example.test rsd\n"
    # other mailboxes are apart
    assert out(admin, "acl", "get", USER, "INBOX") == f"{ME} lrswipcda (owner)\n"


def test_removals_take_acl_entries_along(admin):
    admin.ctl("mailbox", "add", USER, "shared")
    admin.ctl("mailbox", "add", USER, "shared/sub")
    admin.ctl("acl", "set", USER, "shared", "bob@example.test", "lr")
    admin.ctl("acl", "set", USER, "shared", "anyone@other.test", "l")
    admin.ctl("acl", "set", USER, "shared/sub", "bob@example.test", "lrs")
    admin.ctl("acl", "set", USER, "shared/sub", "anyone", "l")

    # an account that goes takes the entries naming it: a new bob gets nothing
    admin.ctl("account", "del", "bob")
    admin.add_account("bob", "pw-bob-2")
    assert out(admin, "acl", "get", USER, "shared") == \
        f"{ME} lrswipcda (owner)\nanyone@other.test l\n"
    assert out(admin, "acl", "get", USER, "shared/sub") == \
        f"{ME} lrswipcda (owner)\nanyone l\n"

    # a domain that goes takes its anyone@domain entries
    admin.ctl("account", "del", "eve@other.test")
    admin.ctl("domain", "del", "other.test")
    admin.ctl("domain", "add", "other.test")
    assert out(admin, "acl", "get", USER, "shared") == f"{ME} lrswipcda (owner)\n"

    # a mailbox that goes takes its entries; one made again has none
    admin.ctl("mailbox", "del", USER, "shared/sub")
    admin.ctl("mailbox", "add", USER, "shared/sub")
    assert out(admin, "acl", "get", USER, "shared/sub") == f"{ME} lrswipcda (owner)\n"


def test_help_lists_the_commands(admin):
    text = admin.ctl("-h").stdout.decode()
    for line in ("mailbox add ADDRESS NAME", "mailbox rename ADDRESS NAME NEWNAME",
                 "mailbox del ADDRESS NAME", "acl set ADDRESS MAILBOX IDENTIFIER [+|-]RIGHTS",
                 "acl get ADDRESS MAILBOX [IDENTIFIER]", "acl del ADDRESS MAILBOX IDENTIFIER",
                 "message import [--mailbox NAME] [--date DATE] ADDRESS [FILE...]",
                 "deliver [--from SENDER] RECIPIENT...", "alias add ALIAS@DOMAIN ACCOUNT",
                 "domain alias add ALIAS DOMAIN", "domain bind NAME ADDRESS",
                 "domain set NAME unified_account=ACCOUNT", "route ADDRESS"):
        assert line in text, text


def test_anyone_cannot_be_an_account(admin):
    # Fails if an account named "anyone" can be made: ACL entries for
    # "anyone" mean every account, so it could never hold rights of its own.
    rc, err = fails(admin, "account", "add", "anyone@example.test",
                    input=b"a-password\n")
    assert rc == 1
    assert err == ("posternctl: 'anyone' is reserved for mailbox rights "
                   "(anyone, anyone@DOMAIN) and cannot be an account name")

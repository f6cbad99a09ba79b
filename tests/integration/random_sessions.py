"""The client side of the many-sessions tests: random RETR, TOP, DELE and
RSET on an open poplib session, remembering what it marked and read."""
import poplib

# errors another session's work may cause: the message went meanwhile, or
# this session marked it already
RACES = ("no longer available", "is deleted")


def random_commands(p: poplib.POP3, rnd, allowed=RACES):
    """Up to 8 random commands.  Returns (marked, retrieved): the UIDLs
    DELE marked (cleared by RSET) and those RETR read.  An -ERR is allowed
    only when its text contains one of `allowed`."""
    ids = [line.split()[1] for line in p.uidl()[1]]
    marked, retrieved = set(), set()
    for _ in range(rnd.randint(1, 8)):
        if not ids:
            break
        n = rnd.randint(1, len(ids))
        action = rnd.choice(["retr", "dele", "dele", "rset", "top"])
        try:
            if action == "retr":
                p.retr(n)
                retrieved.add(ids[n - 1])
            elif action == "top":
                p.top(n, 2)
            elif action == "dele":
                p.dele(n)
                marked.add(ids[n - 1])
            else:
                p.rset()
                marked.clear()
        except poplib.error_proto as e:
            assert any(text in str(e) for text in allowed), str(e)
    return marked, retrieved

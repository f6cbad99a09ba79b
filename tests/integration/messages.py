"""Message helpers shared by the integration suites: what the server
stores for given input, dot-stuffing, and large messages whose lines fall
on the server's read-chunk boundaries."""
import re


def stored(data: bytes) -> bytes:
    """The bytes the server stores for `data` (its documented normalisation)."""
    out = re.sub(rb"\r?\n", b"\r\n", data)
    if out.endswith(b"\r"):             # a CR at the very end ends the line
        out += b"\n"
    elif not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out


def dotstuff(data: bytes) -> bytes:
    return re.sub(rb"(?m)^\.", b"..", data)


def big_message(tag: bytes, size: int, dots: bool) -> bytes:
    """A message of about `size` octets, lines of exactly 64 octets so every
    32 KiB boundary of the file (the server reads in 32 KiB chunks) is a line
    start; with dots, those lines and every 7th line start with ".", and the
    message ends with the lines ".", "..", ". x" and "...".  Without dots no
    line starts with "." (the server then sends the file as it is)."""
    head = (b"Subject: " + tag).ljust(60, b"-") + b"\r\n\r\n"       # 64 octets
    lines = []
    for i in range((size - len(head)) // 64):
        offset = len(head) + 64 * i
        lead = b"." if dots and (i % 7 == 0 or offset % 32768 == 0) else b"x"
        lines.append(lead + (b" %s line %08d " % (tag, i)).ljust(61, b"=") + b"\r\n")
    if dots:
        lines += [b".\r\n", b"..\r\n", b". x\r\n", b"...\r\n"]
    msg = head + b"".join(lines)
    assert all(len(line) == 64 for line in lines[:-4])
    return msg

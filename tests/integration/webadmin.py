"""A client of the web admin's JSON API (doc/api.md) for the tests: one
HTTP/1.1 request per connection over http.client, the session cookie
kept from the login, the CSRF token sent with every change.  The path
goes out exactly as given (nothing normalised or re-encoded)."""
import http.client
import json
import socket
import time
import urllib.parse

JSON = "application/json"


def quote(name):
    """A name as one path segment: '/' and '@' encoded too."""
    return urllib.parse.quote(name, safe="")


class Answer:
    """One response: status, headers (case-insensitive), raw body, JSON."""

    def __init__(self, resp, data):
        self.status = resp.status
        self.headers = resp.headers
        self.raw = data
        self.cookies = resp.headers.get_all("Set-Cookie") or []
        ctype = resp.getheader("Content-Type", "")
        self.json = json.loads(data) if data and ctype.startswith(JSON) else None

    def header(self, name):
        return self.headers.get(name)

    @property
    def error(self):
        return self.json.get("error", "") if isinstance(self.json, dict) else ""

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


class Api:
    """The API at 127.0.0.1:port, as user (after login())."""

    def __init__(self, port, user=None, password=None, timeout=30):
        self.port = port
        self.user, self.password = user, password
        self.timeout = timeout
        self.cookie = None      # "postern_session=..."
        self.csrf = None
        self.session = None     # the login's answer

    def request(self, method, path, body=None, *, raw=None, headers=None,
                cookie=True, csrf=True, content_type=JSON):
        """Send body as JSON (or raw bytes as they are); the Answer.
        cookie/csrf: send the session's (True), none (False) or this
        value (a string)."""
        hdrs = {}
        if body is not None:
            raw = json.dumps(body).encode()
        if raw is not None and content_type is not None:
            hdrs["Content-Type"] = content_type
        c = self.cookie if cookie is True else cookie or None
        if c:
            hdrs["Cookie"] = c
        t = self.csrf if csrf is True else csrf or None
        if t and method not in ("GET", "HEAD"):
            hdrs["X-CSRF-Token"] = t
        hdrs.update(headers or {})
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            con.request(method, path, raw, hdrs)
            resp = con.getresponse()
            data = resp.read()
        finally:
            con.close()
        return Answer(resp, data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def ok(self, method, path, body=None, status=200, **kw):
        """The request, asserted to answer `status`; its JSON."""
        a = self.request(method, path, body, **kw)
        assert a.status == status, f"{method} {path} {body!r}: {a!r}"
        return a.json

    def login(self, user=None, password=None):
        user = user or self.user
        password = password or self.password
        a = self.request("POST", "/api/login", {"user": user, "password": password},
                         cookie=False, csrf=False)
        assert a.status == 200, f"login of {user}: {a!r}"
        [set_cookie] = a.cookies
        self.cookie = set_cookie.split(";", 1)[0]
        self.set_cookie = set_cookie
        self.csrf = a.json["csrf"]
        self.session = a.json
        return self

    def logout(self):
        a = self.request("POST", "/api/logout")
        assert a.status == 204, a
        return a


def wait_http(port, timeout=15.0):
    """Until something accepts on port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def raw_http(port, request: bytes, timeout=10.0):
    """Send request bytes on a socket of its own; what comes back until
    the server closes (Connection: close is the caller's to send)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out


def status_of(response: bytes):
    """The status code of a raw HTTP response."""
    line = response.split(b"\r\n", 1)[0]
    return int(line.split()[1])

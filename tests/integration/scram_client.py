"""An RFC 5802 SCRAM client, written from the RFC, to test the server's
SCRAM against an implementation that is not Cyrus SASL's."""
import base64
import hashlib
import hmac
import os


class Scram:
    def __init__(self, mech, user, password, authzid=""):
        self.h = hashlib.sha256 if mech == "SCRAM-SHA-256" else hashlib.sha1
        self.user, self.password = user, password
        self.gs2 = f"n,{'a=' + authzid if authzid else ''},"
        self.cnonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = f"n={user},r={self.cnonce}"

    def first(self) -> bytes:
        return (self.gs2 + self.first_bare).encode()

    def final(self, server_first: bytes, nonce_tamper=False) -> bytes:
        self.server_first = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in self.server_first.split(","))
        assert attrs["r"].startswith(self.cnonce), "server nonce must extend ours"
        self.salted = hashlib.pbkdf2_hmac(self.h().name, self.password.encode(),
                                          base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(self.salted, b"Client Key", self.h).digest()
        stored_key = self.h(client_key).digest()
        cbind = base64.b64encode(self.gs2.encode()).decode()
        nonce = attrs["r"] + ("x" if nonce_tamper else "")
        without_proof = f"c={cbind},r={nonce}"
        self.auth_message = f"{self.first_bare},{self.server_first},{without_proof}"
        sig = hmac.new(stored_key, self.auth_message.encode(), self.h).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify_server(self, server_final: bytes) -> bool:
        server_key = hmac.new(self.salted, b"Server Key", self.h).digest()
        expect = hmac.new(server_key, self.auth_message.encode(), self.h).digest()
        return server_final.decode() == "v=" + base64.b64encode(expect).decode()

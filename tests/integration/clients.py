"""Running real client programs (curl, fetchmail, mpop, openssl) from tests:
skipped only where the program is missing, with a clean environment (its
own HOME, no proxies, no CA overrides) and a time limit."""
import os
import shutil
import subprocess

import pytest

TIMEOUT = 30                    # every client run, in seconds


def need(binary):
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} is not installed")
    return path


def run(cmd, tmp_path, timeout=TIMEOUT, **kw):
    env = dict(os.environ, HOME=str(tmp_path), LC_ALL="C")
    for var in ("http_proxy", "https_proxy", "all_proxy", "ALL_PROXY",
                "HTTP_PROXY", "HTTPS_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR",
                "CURL_CA_BUNDLE"):
        env.pop(var, None)
    return subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, **kw)

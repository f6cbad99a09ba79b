#!/bin/sh
# Runs admin.spec.mjs against the MOCK API (mock_api.py), not the real server:
# starts the mock on a free port, runs the browser test, stops the mock by its pid.
#   tests/browser/run_mock.sh            # screenshots into tests/browser/screenshots
#   POSTERN_SCREENSHOTS=/tmp/shots tests/browser/run_mock.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
python3 "$here/mock_api.py" --port 0 --port-file "$tmp/port" >"$tmp/mock.log" 2>&1 &
mock=$!
trap 'kill "$mock" 2>/dev/null; wait "$mock" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
i=0
while [ ! -s "$tmp/port" ]; do
    i=$((i + 1))
    if [ "$i" -gt 100 ] || ! kill -0 "$mock" 2>/dev/null; then
        echo "run_mock.sh: the mock did not start:" >&2
        cat "$tmp/mock.log" >&2
        exit 1
    fi
    sleep 0.1
done
POSTERN_URL="http://127.0.0.1:$(cat "$tmp/port")" \
POSTERN_ADMIN=admin@example.com POSTERN_PASSWORD=S3cret-pass POSTERN_LOG_GROWS=1 \
POSTERN_SCREENSHOTS="${POSTERN_SCREENSHOTS:-$here/screenshots}" \
    node "$here/admin.spec.mjs"

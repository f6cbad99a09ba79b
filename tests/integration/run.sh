#!/bin/sh
# Run the integration suite with Debian's pytest against the build tree.
# Extra pytest arguments: PYTEST_ARGS="-k retr -x" make check
set -e
here=$(cd "$(dirname "$0")" && pwd)
: "${POSTERN_BUILDDIR:=$(cd "$here/../.." && pwd)}"
export POSTERN_BUILDDIR
# Debian's python3 has python3-pytest; a pyenv shim on PATH may not.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
# shellcheck disable=SC2086
exec "$py" -m pytest -p no:cacheprovider -q -rfEs $PYTEST_ARGS "$here"

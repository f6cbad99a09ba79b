#!/bin/sh
# tools/check.sh - install what the build and the tests need, build Postern
# with -Werror and AddressSanitizer/UBSan, and run the whole test suite
# (Check unit tests and the pytest integration suite against a real
# posternd).  Exits non-zero when anything fails.
set -eu
cd "$(dirname "$0")/.."
. tools/deps.sh

install_packages $BUILD_PACKAGES $TEST_PACKAGES
install_browser_test
# sanitizers catch memory errors and leaks while the suite runs
if [ -f Makefile ] && ! grep -q -- '-fsanitize=address' Makefile; then
	POSTERN_RECONFIGURE=1
fi
POSTERN_RECONFIGURE=${POSTERN_RECONFIGURE:-} build_postern --enable-sanitizers

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
status=0
make -j"$(nproc)" check || status=$?

# one closing line for people and CI, counted from every test log:
# Check prints "Checks: N, Failures: F, Errors: E", pytest "N passed, F failed"
counts=$(awk '
	/Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
		gsub(/[,%:]/, " "); for (i = 1; i <= NF; i++) {
			if ($i == "Checks") t = $(i + 1)
			if ($i == "Failures" || $i == "Errors") f += $(i + 1)
		}
		pass += t; next
	}
	/ passed| failed| error/ && /^=*[ 0-9]/ {
		for (i = 1; i < NF; i++) {
			w = $(i + 1); gsub(/[,=]/, "", w)
			if (w == "passed") pass += $i
			if (w == "failed" || w == "error" || w == "errors") f += $i
		}
	}
	END { printf "%d %d", pass, f }' tests/unit/*.log tests/integration/run.sh.log 2>/dev/null || echo "0 0")
passed=${counts% *}
failed=${counts#* }
if [ "$status" -ne 0 ]; then
	tail -n 80 tests/integration/run.sh.log 2>/dev/null || true
	[ "$failed" -gt 0 ] || failed=1
fi
echo "postern tests: $passed passed, $failed failed"
exit "$status"

# tools/deps.sh - the Debian packages Postern needs; sourced by demo.sh and
# check.sh.  Installs only when something is missing (apt-get update first).

BUILD_PACKAGES="build-essential autoconf automake libtool pkg-config
  libssl-dev libev-dev libsasl2-dev libsasl2-modules liblmdb-dev
  libcrypt-dev libinih-dev libgmime-3.0-dev libjansson-dev libmicrohttpd-dev
  openssl"
TEST_PACKAGES="check python3 python3-pytest python3-lmdb python3-aiosmtpd curl fetchmail mpop swaks lmdb-utils fail2ban iproute2
  postfix chromium dovecot-pop3d"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "postern: installing packages needs root (or sudo): $*" >&2
		exit 1
	fi
}

install_packages() {
	missing=""
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	echo "postern: installing Debian packages:$missing"
	as_root apt-get update -qq
	# postfix is here for the test that runs a private Postfix instance:
	# "No configuration" keeps the package from setting up a system mail
	# server (no /etc/postfix/main.cf, nothing on port 25)
	case " $missing " in
	*" postfix "*)
		echo "postfix postfix/main_mailer_type select No configuration" |
			as_root debconf-set-selections
		;;
	esac
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
	# fail2ban is here for its regex tester only: where installing it
	# started the daemon (systemd), stop and disable it again
	case " $missing " in
	*" fail2ban "*)
		if command -v systemctl >/dev/null 2>&1; then
			as_root systemctl disable --now fail2ban >/dev/null 2>&1 || true
		fi
		;;
	esac
	# and where the postinst started the system Postfix anyway (systemd,
	# or an init.d without a policy-rc.d that forbids it), stop it again
	case " $missing " in
	*" postfix "*)
		if command -v systemctl >/dev/null 2>&1 &&
			[ -d /run/systemd/system ]; then
			as_root systemctl disable --now postfix >/dev/null 2>&1 || true
		fi
		if as_root postfix status >/dev/null 2>&1; then
			as_root postfix stop >/dev/null 2>&1 || true
		fi
		;;
	esac
	# dovecot-pop3d is here for the retrieval tests, which run a private
	# Dovecot as the remote POP3 server: where the package started the
	# system one (on ports 110 and 995), stop and disable it again
	case " $missing " in
	*" dovecot-pop3d "*)
		if command -v systemctl >/dev/null 2>&1 &&
			[ -d /run/systemd/system ]; then
			as_root systemctl disable --now dovecot >/dev/null 2>&1 || true
		fi
		;;
	esac
}

# The browser test of the web admin: Node.js and npm (Debian's, unless a
# node is installed already - another one brings its own npm) and
# playwright-core from npm, pinned in tests/browser/package-lock.json.
install_browser_test() {
	command -v node >/dev/null 2>&1 || install_packages nodejs
	command -v npm >/dev/null 2>&1 || install_packages npm
	if [ ! -d tests/browser/node_modules/playwright-core ]; then
		(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
	fi
}

build_postern() {
	# $@: extra ./configure arguments
	[ -x configure ] || autoreconf -fi
	if [ ! -f Makefile ] || [ "${POSTERN_RECONFIGURE:-}" = 1 ]; then
		./configure --enable-werror "$@"
	fi
	make -j"$(nproc)"
}

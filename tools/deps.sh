# tools/deps.sh - the Debian packages Postern needs; sourced by demo.sh and
# check.sh.  Installs only when something is missing (apt-get update first).

BUILD_PACKAGES="build-essential autoconf automake libtool pkg-config
  libssl-dev libev-dev libsasl2-dev libsasl2-modules liblmdb-dev
  libcrypt-dev libinih-dev libgmime-3.0-dev openssl"
TEST_PACKAGES="check python3 python3-pytest python3-lmdb curl fetchmail mpop swaks lmdb-utils fail2ban iproute2"

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
}

build_postern() {
	# $@: extra ./configure arguments
	[ -x configure ] || autoreconf -fi
	if [ ! -f Makefile ] || [ "${POSTERN_RECONFIGURE:-}" = 1 ]; then
		./configure --enable-werror "$@"
	fi
	make -j"$(nproc)"
}

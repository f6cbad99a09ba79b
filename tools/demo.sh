#!/bin/sh
# tools/demo.sh - install what Postern needs, build it, set up an embedded
# demo in ./demo (data, a domain, an account with a printed password, a
# welcome message, a web admin with a printed password) and run posternd in
# the foreground: POP3 on 127.0.0.1:1100 (STLS) and 1995 (POP3S), LMTP on
# 127.0.0.1:2424, the web admin on http://127.0.0.1:8010/.
#
#   ./tools/demo.sh            (Ctrl-C stops the server)
#   POSTERN_DEMO_PORT=2110 POSTERN_DEMO_LMTP_PORT=2425 \
#   POSTERN_DEMO_HTTP_PORT=8011 ./tools/demo.sh
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
. tools/deps.sh

# swaks: the LMTP client the printed example uses
install_packages $BUILD_PACKAGES swaks
build_postern

port=${POSTERN_DEMO_PORT:-1100}
tls_port=${POSTERN_DEMO_TLS_PORT:-1995}
lmtp_port=${POSTERN_DEMO_LMTP_PORT:-2424}
http_port=${POSTERN_DEMO_HTTP_PORT:-8010}
demo=$top/demo
mkdir -p "$demo"
if [ ! -f "$demo/cert.pem" ]; then
	# a self-signed certificate for the demo only
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$demo/key.pem" -out "$demo/cert.pem" 2>/dev/null
	chmod 600 "$demo/key.pem"
fi
cat > "$demo/postern.conf" <<CONF
# Written by tools/demo.sh: everything under $demo, nothing outside.
data_dir = $demo/data
module_dir = $top/modules
main_domain = example.test
modules = pop, lmtp, http, retrieval

# a file, so that the web admin's log page can show it
[log]
level = info
target = $demo/postern.log

[tls]
cert = $demo/cert.pem
key = $demo/key.pem

[pop]
listen = 127.0.0.1:$port
tls_listen = 127.0.0.1:$tls_port

[lmtp]
listen = 127.0.0.1:$lmtp_port

[http]
listen = 127.0.0.1:$http_port
root = $top/webadmin
CONF

ctl() { ./posternctl -c "$demo/postern.conf" "$@"; }
if [ ! -f "$demo/password" ]; then
	ctl domain add example.test
	# a fresh random password, kept in demo/password (mode 600)
	(umask 077; head -c 12 /dev/urandom | base64 | tr -d '/+=' > "$demo/password")
	ctl account add demo@example.test --password-file "$demo/password"
	printf 'From: Postern <postmaster@example.test>\nTo: demo@example.test\nSubject: Welcome to Postern\n\nThis message was delivered by tools/demo.sh.\n' |
		ctl deliver demo@example.test
fi
if [ ! -f "$demo/admin-password" ]; then
	# the web admin: a server admin with its own random password
	(umask 077; head -c 12 /dev/urandom | base64 | tr -d '/+=' > "$demo/admin-password")
	ctl account add admin@example.test --password-file "$demo/admin-password"
	ctl account set admin@example.test webadmin=server
fi
password=$(cat "$demo/password")
admin_password=$(cat "$demo/admin-password")

cat <<MSG

  Postern demo: POP3 with STLS on 127.0.0.1:$port, POP3S on 127.0.0.1:$tls_port,
  LMTP on 127.0.0.1:$lmtp_port
  Web admin: http://127.0.0.1:$http_port/   admin@example.test   password: $admin_password
  Data in $demo/data, log in $demo/postern.log, self-signed certificate $demo/cert.pem
  Account: demo@example.test   password: $password

  In another terminal:
    curl pop3://127.0.0.1:$port/ -u demo:$password          # list messages
    curl pop3://127.0.0.1:$port/1 -u demo:$password         # fetch message 1
    curl --cacert demo/cert.pem pop3s://127.0.0.1:$tls_port/1 -u demo:$password
    curl --ssl-reqd --cacert demo/cert.pem pop3://127.0.0.1:$port/1 -u demo:$password
    swaks --protocol LMTP --server 127.0.0.1:$lmtp_port --to demo@example.test   # deliver over LMTP
    ./posternctl -c demo/postern.conf deliver demo < some-message.eml
    tail -f demo/postern.log                                 # the server's log
    # fetch a remote POP3 account's mail into demo's INBOX (doc/retrieval.md):
    ./posternctl -c demo/postern.conf retrieval add demo --host pop.example.net \\
        --tls implicit --user you --password-file remote.pw

  Ctrl-C stops the server.

MSG
exec ./posternd -f -c "$demo/postern.conf"

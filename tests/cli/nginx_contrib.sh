#!/bin/sh
# tests/cli/nginx_contrib.sh — contrib/nginx-tiles-cache.conf in front of a
# real `mlledger serve`, on loopback ports, with a throw-away certificate.
# Not part of `make cli` (nginx is not a build dependency): run it after
# changing the file, with an nginx binary (Debian: apt-get install nginx, or
# `apt-get download nginx` and dpkg-deb -x it anywhere):
#
#   NGINX=/usr/sbin/nginx MLLEDGER=/abs/path/to/mlledger sh tests/cli/nginx_contrib.sh
#
# Checks: a tile is a cache MISS then a HIT; a tile past the tree is 404 and
# never cached; /checkpoint is never cached and says no-store once; entry
# bundles are gzipped on request; an append over 64 KiB and a witness body
# over 8 KiB are refused by nginx (413); an append passes through (200).
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/nginx_contrib.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" nginx
. "$here/serverlib.sh"
if [ -z "${NGINX:-}" ] || [ ! -x "$NGINX" ] || ! command -v curl >/dev/null || ! command -v openssl >/dev/null; then
	nok "environment" "needs NGINX=/path/to/nginx, curl and openssl"
	finish
	exit 1
fi
CURL="curl -sk --max-time 20"
NG="$W/ng"
mkdir -p "$NG/logs" "$NG/cache"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$NG/key.pem" \
	-out "$NG/cert.pem" -days 1 -subj /CN=localhost 2>/dev/null || { nok "setup" "openssl"; finish; exit 1; }

for k in admin eng; do "$M" key new $k >/dev/null || exit 1; done
"$M" --ledger "$W/l.db" init --key admin.key >/dev/null || exit 1
"$M" --ledger "$W/l.db" key enroll eng.pub --holder-key eng.key --role engineer --key admin.key \
	>/dev/null || exit 1
serve_start s "$W/l.db" || { nok "serve starts" "did not"; finish; exit 1; }
UP=${SERVE_URL##*:}

# Free loopback ports for nginx: the kernel picks, we take them over.
free_port() { "${PYTHON:-/usr/bin/python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P80=$(free_port) P443=$(free_port)
sed -e "s#/etc/ssl/mlledger/fullchain.pem#$NG/cert.pem#; s#/etc/ssl/mlledger/privkey.pem#$NG/key.pem#" \
	-e "s#/var/cache/nginx/mlledger#$NG/cache#; s#127.0.0.1:8420#127.0.0.1:$UP#" \
	-e "s#listen 80;#listen 127.0.0.1:$P80;#; s#listen \[::\]:80;##" \
	-e "s#listen 443 ssl http2;#listen 127.0.0.1:$P443 ssl;#; s#listen \[::\]:443 ssl http2;##" \
	"$here/../../contrib/nginx-tiles-cache.conf" >"$NG/site.conf"
cat >"$NG/nginx.conf" <<EOF
user $(id -un) $(id -gn);
pid $NG/nginx.pid;
error_log $NG/logs/error.log;
daemon off;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $NG/cbt; proxy_temp_path $NG/pt; fastcgi_temp_path $NG/ft;
	uwsgi_temp_path $NG/ut; scgi_temp_path $NG/st;
	include $NG/site.conf;
}
EOF
if "$NGINX" -t -p "$NG" -c "$NG/nginx.conf" >"$NG/t.log" 2>&1; then ok "nginx -t accepts the file"
else nok "nginx -t accepts the file" "$(tail -3 "$NG/t.log")"; finish; exit 1; fi
"$NGINX" -p "$NG" -c "$NG/nginx.conf" 2>"$NG/start.log" &
NGPID=$!
# nginx's master is our child: stopped by its id (QUIT: graceful), always.
stop_nginx() {
	local i
	kill -QUIT "$NGPID" 2>/dev/null || return 0
	for i in $(seq 1 50); do kill -0 "$NGPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$NGPID" 2>/dev/null
	wait "$NGPID" 2>/dev/null
}
trap 'stop_nginx; serve_stop_all; cd / && rm -rf "$W"' EXIT
U=https://127.0.0.1:$P443
for i in $(seq 1 50); do $CURL -o /dev/null "$U/healthz" && break; sleep 0.1; done
kill -0 "$NGPID" 2>/dev/null && ok "nginx starts" || { nok "nginx starts" "$(cat "$NG/start.log")"; finish; exit 1; }

# header NAME PATH: the value of header NAME (lowercase) of GET PATH
header() {
	local h=()
	[ -z "${3:-}" ] || h=(-H "$3")
	$CURL -o /dev/null -D - "${h[@]}" "$U$2" | tr -d '\r' | sed -n "s/^$1: //Ip" | head -1
}
status() { $CURL -o /dev/null -w '%{http_code}' "$@"; }

"$M" --ledger "$W/l.db" sign dataset d1@1 --digest "sha256:$(printf d1 | sha256sum | cut -c1-64)" \
	--key eng.key --out d1.dsse >/dev/null
[ "$(status --data-binary @d1.dsse "$U/add")" = 200 ] && ok "an append passes through (200)" ||
	nok "an append passes through (200)" "$(status --data-binary @d1.dsse "$U/add")"
[ "$(header x-cache-status /tile/0/000.p/3)" = MISS ] && [ "$(header x-cache-status /tile/0/000.p/3)" = HIT ] &&
	ok "a tile: MISS, then HIT" || nok "a tile: MISS, then HIT" "$(header x-cache-status /tile/0/000.p/3)"
[ "$(status "$U/tile/0/000.p/9")" = 404 ] && [ "$(header x-cache-status /tile/0/000.p/9)" = MISS ] &&
	ok "a tile past the tree: 404, not cached" || nok "a tile past the tree: 404, not cached" "cached"
n=$($CURL -o /dev/null -D - "$U/checkpoint" | grep -ci '^cache-control: no-store')
[ "$n" = 1 ] && [ -z "$(header x-cache-status /checkpoint)" ] && ok "/checkpoint: no-store once, not cached" ||
	nok "/checkpoint: no-store once, not cached" "$n no-store headers"
[ "$(header content-encoding /tile/entries/000.p/3 'Accept-Encoding: gzip')" = gzip ] &&
	ok "entry bundles are gzipped" || nok "entry bundles are gzipped" "no gzip"
[ -z "$(header content-encoding /tile/0/000.p/3 'Accept-Encoding: gzip')" ] &&
	ok "hash tiles are not" || nok "hash tiles are not" "gzip"
head -c 70000 /dev/zero >big
[ "$(status --data-binary @big "$U/add")" = 413 ] && ok "an append over 64 KiB: 413" || nok "an append over 64 KiB: 413" "passed"
head -c 9000 /dev/zero >big8
[ "$(status --data-binary @big8 "$U/add-checkpoint")" = 413 ] && ok "a witness body over 8 KiB: 413" ||
	nok "a witness body over 8 KiB: 413" "passed"
stop_nginx
serve_stop s
finish

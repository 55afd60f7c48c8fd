# tests/cli/serverlib.sh — start and stop `mlledger serve` in a test.
# Sourced after harness.sh (needs $M and $W).  Servers listen on 127.0.0.1
# only, on a port the kernel picks (--listen 127.0.0.1:0), and are always
# stopped: the EXIT trap is extended, never replaced.
#
#   serve_start NAME LEDGER [serve options...]
#       starts a server in the background, waits (at most 20 s) until it
#       has written its URL to NAME.url, and sets SERVE_URL and
#       SERVE_PID_<NAME>; returns 1 (with the server's stderr on ours) when
#       it does not come up.  Its stderr goes to NAME.log.
#   serve_stop NAME [SIGNAL]   (default TERM) and waits for it (10 s, then KILL)
#   serve_url NAME             prints the URL
SERVE_NAMES=""
serve_start() {
	local name=$1 ledger=$2 i
	shift 2
	rm -f "$W/$name.url"
	"$M" serve --listen 127.0.0.1:0 --ledger "$ledger" --ready-file "$W/$name.url" "$@" \
		2>"$W/$name.log" &
	eval "SERVE_PID_$name=$!"
	SERVE_NAMES="$SERVE_NAMES $name"
	for i in $(seq 1 200); do
		if [ -s "$W/$name.url" ]; then
			SERVE_URL=$(cat "$W/$name.url")
			return 0
		fi
		kill -0 "$(eval echo "\$SERVE_PID_$name")" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/$name.log" >&2
	return 1
}
serve_url() { cat "$W/$1.url"; }
serve_stop() {
	local name=$1 sig=${2:-TERM} pid i
	pid=$(eval echo "\${SERVE_PID_$name:-}")
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	SERVE_RC=$?
	eval "SERVE_PID_$name="
	return 0
}
serve_stop_all() {
	local n
	for n in $SERVE_NAMES; do serve_stop "$n" KILL; done
}
trap 'serve_stop_all; cd / && rm -rf "$W"' EXIT

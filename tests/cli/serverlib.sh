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
#
# With ML_TEST_STORE=postgresql (tests/ha/suites.sh: the cluster of
# tests/ha/pglib.sh, its PG_DIR and PG_PRIMARY_PORT exported), every LEDGER
# is first moved into a database of its own (once per file: serve_store_attach)
# and served with --store, the file being the front-end's working copy:
#   serve_store                 true when the suite runs on the store of record
#   serve_store_attach LEDGER   makes LEDGER's database (migrate) now; sets
#                               SERVE_STORE_URL; nothing without the store
#   store_skip NAME REASON      a case that cannot hold with a store of record:
#                               "ok - NAME # SKIP (store of record): REASON"
SERVE_NAMES=""
serve_store() { [ "${ML_TEST_STORE:-}" = postgresql ]; }
store_skip() { echo "ok - $1 # SKIP (store of record): $2"; pass=$((pass + 1)); }
if serve_store; then
	declare -A SERVE_STORE_DB
	SERVE_STORE_N=0
	# pglib.sh resets the cluster's variables: keep the exported ones
	_pgdir=${PG_DIR:-} _pgp=${PG_PRIMARY_PORT:-} _pgs=${PG_STANDBY_PORT:-}
	. "$here/../ha/pglib.sh"
	PG_DIR=$_pgdir PG_PRIMARY_PORT=$_pgp PG_STANDBY_PORT=$_pgs
fi
serve_store_attach() {
	local key=$1 db
	serve_store || return 0
	case $key in /*) ;; *) key=$PWD/$key ;; esac
	if [ -z "${SERVE_STORE_DB[$key]:-}" ]; then
		if [ -z "$PG_DIR" ] || [ -z "$PG_PRIMARY_PORT" ]; then
			echo "serverlib: ML_TEST_STORE=postgresql without PG_DIR and PG_PRIMARY_PORT" >&2
			return 1
		fi
		SERVE_STORE_N=$((SERVE_STORE_N + 1))
		db=t$$_$SERVE_STORE_N
		pg_sql "$PG_PRIMARY_PORT" "CREATE DATABASE $db OWNER mlledger" >/dev/null || return 1
		"$M" migrate --from "$1" --to "postgresql://mlledger@127.0.0.1:$PG_PRIMARY_PORT/$db" \
			>>"$W/migrate.log" 2>&1 || { tail -3 "$W/migrate.log" >&2; return 1; }
		SERVE_STORE_DB[$key]=$db
	fi
	SERVE_STORE_URL=postgresql://mlledger@127.0.0.1:$PG_PRIMARY_PORT/${SERVE_STORE_DB[$key]}
}
serve_start() {
	local name=$1 ledger=$2 i
	shift 2
	rm -f "$W/$name.url"
	if serve_store; then
		serve_store_attach "$ledger" || return 1
		set -- --store "$SERVE_STORE_URL" "$@"
	fi
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

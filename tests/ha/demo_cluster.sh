#!/usr/bin/env bash
# tests/ha/demo_cluster.sh — the one-machine demo cluster
# (contrib/ha/demo-cluster.sh) does what README "High availability" says:
#
#   bash tests/ha/demo_cluster.sh        (as root, or as any user that may run initdb)
#
# start → status (two standbys, both streaming with sync_state quorum) → a
# write through PG_URL_MULTI (libpq, the password from PGPASSFILE) →
# failover → the write is on the new primary and a new write through the
# same PG_URL_MULTI works (libpq found the promoted node) → the synchronous
# replication trap: with no standby left, a commit whose wait is cancelled
# comes back with PostgreSQL's "already committed locally" warning (what
# mlledger's store must count as a failure) → stop, twice (idempotent).
# Negative checks, each of which must fail: start on a used folder, status
# of a folder with no cluster, a second failover with one standby, a wrong
# password, a write on a hot standby, a DIR with a quote in it.
# A trap always stops the cluster; the whole run is bounded (HA_TEST_TIMEOUT
# seconds, default 240).  Without PostgreSQL 15, or as root without a usable
# `runuser -u postgres`, it prints SKIP and exits 0.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
if [ -z "${HA_TEST_UNDER_TIMEOUT:-}" ]; then
	export HA_TEST_UNDER_TIMEOUT=1
	exec timeout -k 10 "${HA_TEST_TIMEOUT:-240}" bash "$0" "$@"
fi

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DEMO=$PWD/contrib/ha/demo-cluster.sh
skip() { echo "SKIP tests/ha/demo_cluster.sh: $*"; exit 0; }
[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/psql" ] || skip "no PostgreSQL 15 in $PGBIN (apt-get install postgresql-15)"
if [ "$(id -u)" = 0 ]; then
	runuser -u postgres -- true 2>/dev/null || skip "root, and 'runuser -u postgres' is unusable (initdb refuses root)"
fi
PSQL=("$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1)

fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
# expect_fail DESC CMD...: CMD must exit non-zero.
expect_fail() {
	local desc=$1
	shift
	if "$@" >"$W/out" 2>&1; then bad "$desc (succeeded)"; else ok "$desc (refused: $(head -n 1 "$W/out"))"; fi
}

W=$(mktemp -d /tmp/ha-test.XXXXXX)
D=$W/c
cleanup() {
	"$DEMO" stop "$D" >/dev/null 2>&1 || echo "FAIL cleanup: $DEMO stop $D"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
chmod 0755 "$W"

# ---- start and status ----
if "$DEMO" start "$D" >"$W/start.out" 2>&1; then ok "start"; else cat "$W/start.out"; bad "start"; exit 1; fi
# shellcheck disable=SC1091
. "$D/env"
for f in mlledger.password pgpass; do
	m=$(stat -c %a "$D/$f")
	[ "$m" = 600 ] && ok "$f is mode 600" || bad "$f is mode $m"
done
pw=$(cat "$D/mlledger.password")
[ "${#pw}" -ge 20 ] && ok "generated password (${#pw} chars)" || bad "password too short"
grep -qF -- "$pw" "$D/env" && bad "env holds the password" || ok "env holds no password"
case $PG_URL_MULTI in
"postgresql://mlledger@127.0.0.1:"*",127.0.0.1:"*",127.0.0.1:"*"/ledger?target_session_attrs=read-write") ok "PG_URL_MULTI names three loopback nodes" ;;
*) bad "PG_URL_MULTI: $PG_URL_MULTI" ;;
esac
"$DEMO" status "$D" >"$W/status.out" 2>&1 || bad "status failed"
n=$(grep -cE '^ s[12] +\| streaming +\| quorum ' "$W/status.out")
[ "$n" = 2 ] && ok "status: s1 and s2 streaming, sync_state quorum" || { cat "$W/status.out"; bad "status shows $n quorum standbys"; }
q=$("${PSQL[@]}" "$PG_URL" -c "SELECT current_setting('synchronous_standby_names') || '|' ||
      current_setting('synchronous_commit') || '|' || current_setting('listen_addresses') || '|' ||
      (SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum'))")
[ "$q" = "ANY 1 (s1, s2)|on|127.0.0.1|2" ] && ok "settings as the mlledger role (pg_monitor): $q" || bad "settings: $q"

# ---- a write through the multi-host URL ----
token="w1-$$-$RANDOM"
"${PSQL[@]}" "$PG_URL_MULTI" -c "CREATE TABLE ha_t (x text PRIMARY KEY); INSERT INTO ha_t VALUES ('$token')" &&
	ok "write through PG_URL_MULTI" || bad "write through PG_URL_MULTI"
# Synchronous (ANY 1): at least one standby flushed it; replay may lag, so
# each standby gets up to 10 s to show it.
for s in "$PG_URL_STANDBY1" "$PG_URL_STANDBY2"; do
	i=0
	until [ "$("${PSQL[@]}" "$s" -c "SELECT count(*) FROM ha_t" 2>/dev/null)" = 1 ] || [ $i -ge 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	[ $i -lt 50 ] && ok "standby ${s#*127.0.0.1:} has the write" || bad "standby ${s#*127.0.0.1:} lacks the write"
done

# ---- negative checks before failover ----
expect_fail "start on a used folder" "$DEMO" start "$D"
expect_fail "status of a folder with no cluster" "$DEMO" status "$W"
expect_fail "a DIR with a quote" "$DEMO" start "$W/it's"
expect_fail "a write on a hot standby" "${PSQL[@]}" "$PG_URL_STANDBY1" -c "INSERT INTO ha_t VALUES ('no')"
printf '127.0.0.1:*:ledger:mlledger:wrong\n' >"$W/badpass"
chmod 0600 "$W/badpass"
expect_fail "a wrong password" env PGPASSFILE="$W/badpass" PGCONNECT_TIMEOUT=5 "${PSQL[@]}" "$PG_URL" -c "SELECT 1"
expect_fail "the superuser over TCP" env PGCONNECT_TIMEOUT=5 "${PSQL[@]}" \
	"postgresql://postgres@${PG_URL#postgresql://mlledger@}" -c "SELECT 1"

# ---- failover ----
old=$PG_URL
if "$DEMO" failover "$D" >"$W/failover.out" 2>&1; then ok "failover"; else cat "$W/failover.out"; bad "failover"; exit 1; fi
. "$D/env"
[ "$PG_URL" != "$old" ] && ok "env: PG_URL moved to ${PG_URL#*127.0.0.1:}" || bad "env: PG_URL did not move"
grep -qE '^ s[12] +\| streaming +\| quorum ' "$W/failover.out" && ok "failover: the other standby streams from the new primary" ||
	{ cat "$W/failover.out"; bad "failover status"; }
expect_fail "the old primary is gone" env PGCONNECT_TIMEOUT=3 "${PSQL[@]}" "$old" -c "SELECT 1"
[ "$("${PSQL[@]}" "$PG_URL_MULTI" -c "SELECT x FROM ha_t")" = "$token" ] && ok "the acknowledged write survived, through PG_URL_MULTI" ||
	bad "the acknowledged write is missing"
port=${PG_URL##*:}
port=${port%%/*}
[ "$("${PSQL[@]}" "$PG_URL_MULTI" -c "SELECT pg_is_in_recovery()::text || ' ' || inet_server_port()")" = "false $port" ] &&
	ok "PG_URL_MULTI reaches the promoted node" || bad "PG_URL_MULTI does not reach the promoted node"
"${PSQL[@]}" "$PG_URL_MULTI" -c "INSERT INTO ha_t VALUES ('w2')" && ok "a new write through PG_URL_MULTI" || bad "new write"
expect_fail "a second failover (one standby left)" "$DEMO" failover "$D"

# ---- the trap: no synchronous standby, a cancelled wait ----
su_run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
sb=$(sed -n 's/^standbys=//p' "$D/state" | tail -n 1)
su_run "$PGBIN/pg_ctl" stop -w -t 30 -m fast -D "$D/n$sb" >/dev/null || bad "stopping the last standby"
# statement_timeout does not bound this wait (PostgreSQL disables it before
# COMMIT): only a cancel request (PQcancel, pg_cancel_backend) ends it.
"$PGBIN/psql" -X -q -A -t "$PG_URL_MULTI" -c "INSERT INTO ha_t VALUES ('unreplicated')" >"$W/trap.out" 2>&1 &
ins=$!
waiting() { [ "$("${PSQL[@]}" "$PG_URL" -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")" -ge 1 ]; }
i=0
while ! waiting && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
waiting && ok "no standby: the commit waits for synchronous replication (wait_event SyncRep)" || bad "no standby: the commit did not wait"
sleep 1
"${PSQL[@]}" "$PG_URL" -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'" >/dev/null
i=0
while kill -0 "$ins" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
kill -0 "$ins" 2>/dev/null && { kill "$ins"; bad "the cancelled insert did not return"; }
wait "$ins"
rc=$?
out=$(tr '\n' ' ' <"$W/trap.out")
case $out in
*"canceling wait for synchronous replication"*"already committed locally"*)
	ok "cancelled: psql exit $rc (success!) with PostgreSQL's warning: $out" ;;
*) bad "no standby: expected the sync-rep warning, got (exit $rc): $out" ;;
esac
[ "$("${PSQL[@]}" "$PG_URL" -c "SELECT count(*) FROM ha_t WHERE x = 'unreplicated'")" = 1 ] &&
	ok "...and the row is visible on the primary anyway (why the warning must count as failure)" ||
	bad "the unreplicated row is not visible"
su_run "$PGBIN/pg_ctl" start -w -t 30 -D "$D/n$sb" -l "$D/n$sb.log" >/dev/null || bad "restarting the standby"

# ---- stop ----
"$DEMO" stop "$D" >/dev/null && ok "stop" || bad "stop"
"$DEMO" stop "$D" >/dev/null && ok "stop again (idempotent)" || bad "second stop"
expect_fail "status after stop" "$DEMO" status "$D"

echo "tests/ha/demo_cluster.sh: $fails failure(s)"
[ "$fails" = 0 ]

#!/bin/bash
# bench/loadtest_pg.sh — mlledger serve on the PostgreSQL store of record
# under load: two writer front-ends, one primary + one synchronous standby
# (issue 14).  Called by bench/loadtest.sh (make loadtest) after its SQLite
# serve run, with that run's scratch folder and figure:
#
#   bash bench/loadtest_pg.sh MLLEDGER LOADTEST DIR SQLITE_RATE
#
# DIR holds keys/admin.key and env.txt (loadtest gen's envelopes for the
# origin bench.example/ledger); SQLITE_RATE is the SQLite serve's
# acknowledged appends/s of the same run (the 50% goal is against it).
#
# Environment:
#   LOAD_PG=0           skip this part
#   LOAD_PG_CONNS=8     connections to each front-end
#   LOAD_PG_SERVE_ARGS  extra `serve` options for both front-ends
#   LOAD_TIMEOUT=120    seconds each load client may take
#   LOAD_PG_SETTINGS    durable settings for both nodes, "name = value" lines
#                       (none by default; e.g. "wal_sync_method = open_datasync")
#
# Steps: a throwaway cluster (tests/ha/pglib.sh: 127.0.0.1 only, fsync on,
# synchronous_commit on, ANY 1 (s1,s2) with s1 streaming; always stopped on
# exit), a fresh ledger of the same origin and admin key migrated into it,
# two front-ends `serve --store $PG_URL_MULTI --ledger feN.db --log-key K`
# (each makes its working copy from the store), the envelopes split in two
# halves posted concurrently, one half to each, every answer checked by
# loadtest post as for SQLite (proof, rebuilt leaf, checkpoint signature).
# Then: no index acknowledged twice across both front-ends, the store's
# entry count and head size are the initial entries plus every acknowledged
# one, and `migrate --from PG --to copy.db` (which verifies every row and
# note) succeeds with as many entries.  Exit 0 when all of that held (or
# PostgreSQL cannot run here: a SKIP notice), 1 when something failed.
# Goals are reported, not asserted.
set -u

BIN=${1:-}
LT=${2:-}
D=${3:-}
R_SQL=${4:-0}
if [ -z "$BIN" ] || [ -z "$LT" ] || [ -z "$D" ] || [ ! -s "$D/env.txt" ]; then
	echo "usage: bash bench/loadtest_pg.sh MLLEDGER LOADTEST DIR SQLITE_RATE" >&2
	exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
CONNS=${LOAD_PG_CONNS:-8}
TIMEOUT=${LOAD_TIMEOUT:-120}
SERVE_ARGS=${LOAD_PG_SERVE_ARGS:-}
ORIGIN=bench.example/ledger
N=$(wc -l <"$D/env.txt")
HALF=$(( (N + 1) / 2 ))
W=$D/pgrun
mkdir -p "$W" || exit 1
# the cluster runs as postgres (pglib.sh), which must reach $W/pg
[ "$(id -u)" = 0 ] && chmod o+x "$D"

say() { printf '%s\n' "$*"; }
. "$HERE/benchlib.sh"
FE1= FE2=
. "$HERE/../tests/ha/pglib.sh"
cleanup() {
	local p
	for p in $FE1 $FE2; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pg_cluster_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

fail() {
	local f
	say "loadtest (PostgreSQL): $*" >&2
	for f in "$W"/fe1.log "$W"/fe2.log; do
		[ -s "$f" ] && { say "  last lines of $f:" >&2; tail -n 5 "$f" >&2; }
	done
	exit 1
}

say ""
say "---- the PostgreSQL store of record: two front-ends, one synchronous standby ----"
S0=$(now)
pg_cluster_start "$W"
case $? in
0) ;;
2) say "SKIP    : PostgreSQL cannot run here (see the notice above); no PostgreSQL figures"
   exit 0 ;;
*) fail "the PostgreSQL cluster did not start" ;;
esac
# Durable settings only (fsync and synchronous_commit stay on):
# LOAD_PG_SETTINGS, "name = value" lines appended to both nodes'
# postgresql.conf, then a reload (only settings a reload takes).
PG_SETTINGS=${LOAD_PG_SETTINGS:-}
if [ -n "$PG_SETTINGS" ]; then
	for n in primary standby; do
		printf '%s\n' "$PG_SETTINGS" | pg_as sh -c "cat >>'$PG_DIR/$n/postgresql.conf'" &&
			pg_as "$PG_BIN/pg_ctl" reload -D "$PG_DIR/$n" >/dev/null ||
			fail "could not apply LOAD_PG_SETTINGS"
	done
	sleep 0.5
fi
say "[pg]     primary :$PG_PRIMARY_PORT + synchronous standby :$PG_STANDBY_PORT (fsync on, synchronous_commit on, ANY 1 (s1,s2)) in $(calc "$(now) - $S0" | cut -c1-4) s"
say "         $(pg_sql "$PG_PRIMARY_PORT" "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync','synchronous_commit','wal_sync_method','shared_buffers','wal_buffers','commit_delay','full_page_writes')")"

"$BIN" --ledger "$W/src.db" init --key "$D/keys/admin.key" --origin "$ORIGIN" \
	--governance "$HERE/governance.json" >"$W/log" 2>&1 || fail "init failed"
"$BIN" --ledger "$W/src.db" log-key >"$W/log.pub" || fail "log-key failed"
"$BIN" migrate --from "$W/src.db" --to "$PG_URL" >>"$W/log" 2>&1 ||
	fail "migrate into PostgreSQL failed: $(tail -n 2 "$W/log")"
q() { # SQL in the database ledger of the primary, as the superuser
	pg_as "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_DIR/sock" \
		-p "$PG_PRIMARY_PORT" -U postgres -d ledger -c "$1"
}
INIT=$(q "SELECT count(*) FROM mlledger_entries") || fail "cannot count the store's entries"
say "[pg]     a fresh ledger ($INIT entries) migrated into it"

# ---- two front-ends -----------------------------------------------------------------
start_fe() { # N: starts front-end N, sets FEn and URLn
	local n=$1 i pid
	# shellcheck disable=SC2086
	"$BIN" serve --listen 127.0.0.1:0 --store "$PG_URL_MULTI" --ledger "$W/fe$n.db" \
		--log-key "$W/src.db.log.key" --ready-file "$W/url$n" $SERVE_ARGS 2>"$W/fe$n.log" &
	pid=$!
	eval "FE$n=$pid"
	i=0
	while [ ! -s "$W/url$n" ] && [ "$i" -lt 300 ]; do
		kill -0 "$pid" 2>/dev/null || fail "front-end $n did not start"
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$W/url$n" ] || fail "front-end $n did not write its URL in 30 s"
}
start_fe 1
start_fe 2
say "[pg]     front-ends: $(cat "$W/url1") and $(cat "$W/url2"), serve options: ${SERVE_ARGS:-(defaults)}"

C1_0=$(cpu_s "$FE1") C2_0=$(cpu_s "$FE2")
"$LT" post "$(cat "$W/url1")" "$W/log.pub" "$D/env.txt" --conns "$CONNS" --timeout "$TIMEOUT" \
	--from 0 --count "$HALF" --acks "$W/acks1" >"$W/post1.out" 2>"$W/post1.err" &
P1=$!
"$LT" post "$(cat "$W/url2")" "$W/log.pub" "$D/env.txt" --conns "$CONNS" --timeout "$TIMEOUT" \
	--from "$HALF" --count $((N - HALF)) --acks "$W/acks2" >"$W/post2.out" 2>"$W/post2.err" &
P2=$!
wait "$P1"
PRC1=$?
wait "$P2"
PRC2=$?
C1_1=$(cpu_s "$FE1") C2_1=$(cpu_s "$FE2")
for n in 1 2; do
	eval "pid=\$FE$n"
	kill -TERM "$pid"
	wait "$pid"
	eval "SRC$n=$?"
	eval "FE$n="
done

pv() { awk -v k="$2" '$1 == k { print $2 }' "$W/post$1.out"; }
for n in 1 2; do
	[ -s "$W/post$n.out" ] || fail "load client $n printed nothing: $(head -c 300 "$W/post$n.err")"
done
A1=$(pv 1 acked) A2=$(pv 2 acked)
E=$(awk -v a="$(pv 1 elapsed_s)" -v b="$(pv 2 elapsed_s)" 'BEGIN { print (a > b ? a : b) }')
R_PG=$(calc "($A1 + $A2) / $E")
for n in 1 2; do
	eval "c0=\$C${n}_0 c1=\$C${n}_1"
	say "[pg fe$n] $(pv $n acked) acknowledged in $(pv $n elapsed_s) s over $CONNS connections; p50 $(pv $n p50_ms) ms, p99 $(pv $n p99_ms) ms, max $(pv $n max_ms) ms; server CPU $(calc "$c1 - $c0" | cut -c1-5) s"
	say "         answers: $(pv $n bad_answers) failed a check; existing $(pv $n existing), refused $(pv $n refused), 503 retries $(pv $n retries_503), broken connections $(pv $n conn_errors)"
	[ -s "$W/post$n.err" ] && head -n 3 "$W/post$n.err"
done
say "[pg]     $((A1 + A2)) of $N acknowledged by both in $E s = $(fmt_int "$R_PG")/s"
# every batch that appended stores its checkpoint: about the store commits
NB=$(q "SELECT count(*) - 1 FROM mlledger_checkpoints") || NB=0
[ "${NB:-0}" -gt 0 ] &&
	say "         $NB checkpoints stored = batches through the head row lock: $(calc "($A1 + $A2) / $NB" | cut -c1-4) entries a batch, $(calc "$E * 1000 / $NB" | cut -c1-4) ms a batch"

# ---- nothing lost, nothing twice ----------------------------------------------------------
CHECK=ok
DUP=$(cat "$W/acks1" "$W/acks2" 2>/dev/null | awk '$1 == "ack" { print $3 }' | sort | uniq -d | wc -l)
[ "$DUP" = 0 ] || { CHECK=FAILED; say "[check]  $DUP indexes acknowledged twice across the front-ends" >&2; }
CNT=$(q "SELECT count(*) FROM mlledger_entries") || fail "cannot count the store's entries"
HEAD=$(q "SELECT size FROM mlledger_head WHERE id = 0") || fail "cannot read the store's head"
WANT=$((INIT + A1 + A2))
if [ "$CNT" != "$WANT" ] || [ "$HEAD" != "$WANT" ]; then
	CHECK=FAILED
	say "[check]  the store holds $CNT entries (head $HEAD), not $INIT + $((A1 + A2)) acknowledged = $WANT" >&2
fi
S0=$(now)
if "$BIN" migrate --from "$PG_URL" --to "$W/copy.db" >"$W/migrate.out" 2>&1 &&
	"$BIN" --ledger "$W/copy.db" verify >"$W/verify.out" 2>&1 &&
	grep -q "^ok: $WANT entries" "$W/verify.out"; then
	:
else
	CHECK=FAILED
	say "[check]  migrate --from the store or verify of the copy failed: $(tail -n 2 "$W/migrate.out" "$W/verify.out" 2>/dev/null | tr '\n' ' ')" >&2
fi
say "[check]  $CHECK: no index acknowledged twice; the store holds $CNT = $INIT + $((A1 + A2)) entries (head $HEAD); migrate --from it (every row and note verified) and verify of the copy in $(calc "$(now) - $S0" | cut -c1-4) s"
say ""

mark() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { ok = op == ">=" ? a + 0 >= b + 0 : a + 0 <= b + 0; print ok ? "met" : "MISSED" }'; }
RATIO=$(calc "100 * $R_PG / ($R_SQL > 0 ? $R_SQL : 1)")
printf '%-46s %12s %12s  %s\n' "PostgreSQL store ($N envelopes, 2 x $CONNS conns)" "measured" "goal" ""
printf '%-46s %12s %12s  %s\n' "two front-ends: acknowledged appends/s" "$(fmt_int "$R_PG")" ">= 3,000" "$(mark "$R_PG" ">=" 3000)"
printf '%-46s %12s %12s  %s\n' "SQLite serve of this run: appends/s" "$(fmt_int "$R_SQL")" "" ""
printf '%-46s %11s%% %12s  %s\n' "PostgreSQL / SQLite serve" "$(calc "$RATIO" | cut -d. -f1)" ">= 50%" "$(mark "$RATIO" ">=" 50)"
printf '%-46s %12s %12s  %s\n' "front-end 1 latency p50 / p99 (ms)" "$(pv 1 p50_ms) / $(pv 1 p99_ms)" "" ""
printf '%-46s %12s %12s  %s\n' "front-end 2 latency p50 / p99 (ms)" "$(pv 2 p50_ms) / $(pv 2 p99_ms)" "" ""

[ "$CHECK" = ok ] || fail "the store does not hold exactly what was acknowledged"
[ "$PRC1" = 0 ] && [ "$PRC2" = 0 ] || fail "a load client exited $PRC1/$PRC2 (envelopes not acknowledged or an answer failed a check)"
[ "$SRC1" = 0 ] && [ "$SRC2" = 0 ] || fail "a front-end exited $SRC1/$SRC2 on SIGTERM"
exit 0

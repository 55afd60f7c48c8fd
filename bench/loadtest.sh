#!/bin/sh
# bench/loadtest.sh — mlledger serve under load (make loadtest).
#
#   sh bench/loadtest.sh /abs/path/to/mlledger /abs/path/to/loadtest
#
# Environment:
#   LOAD_N=20000      pre-signed envelopes (datasets and models, no references)
#   LOAD_CONNS=16     concurrent keep-alive HTTP/1.1 connections
#   LOAD_TIMEOUT=120  seconds the load client may take
#   LOAD_CHUNK=0      envelopes a transaction in the in-process reference run
#                     (0: all in one transaction, as `import` does)
#   LOAD_SUBMIT_CLI=1 0 skips the `mlledger submit` row (256 files a call)
#   LOAD_SERVE_ARGS   extra `serve` options (e.g. "--threads 4 --batch-wait 1")
#   TMPDIR            where the scratch folder goes (every batch is fsync'ed)
#   LOAD_PG=1         0 skips the PostgreSQL part (bench/loadtest_pg.sh: two
#                     front-ends on a primary + synchronous standby, the same
#                     envelopes; LOAD_PG_CONNS, LOAD_PG_SERVE_ARGS there)
#
# The same envelopes go into two fresh ledgers of the same origin and admin
# key: once through `mlledger serve` on 127.0.0.1 (a kernel-chosen port) by
# the load client, which checks every answer (the tlog-proof parses, the
# leaf rebuilt from the envelope sent is in the checkpoint's tree, the
# checkpoint is signed by the log key, no index acknowledged twice), and once
# by `mlledger submit` in one process.  Both ledgers must then verify with
# LOAD_N + 1 entries.  Goals (issue 13) are reported, not asserted: exit 1
# only when something failed, not when a goal was missed.
set -u

BIN=${1:-}
LT=${2:-}
if [ -z "$BIN" ] || [ ! -x "$BIN" ] || [ -z "$LT" ] || [ ! -x "$LT" ]; then
	echo "usage: sh bench/loadtest.sh /path/to/mlledger /path/to/loadtest" >&2
	exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
N=${LOAD_N:-20000}
CONNS=${LOAD_CONNS:-16}
TIMEOUT=${LOAD_TIMEOUT:-120}
CHUNK=${LOAD_CHUNK:-0}
SUBMIT_CLI=${LOAD_SUBMIT_CLI:-1}
SERVE_ARGS=${LOAD_SERVE_ARGS:-}
ORIGIN=bench.example/ledger

W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-loadtest.XXXXXX") || exit 1
SPID=
cleanup() {
	if [ -n "$SPID" ]; then
		kill -KILL "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say() { printf '%s\n' "$*"; }
fail() {
	say "loadtest: $*" >&2
	[ -s "$W/serve.log" ] && { say "loadtest: the server's last lines:" >&2; tail -n 5 "$W/serve.log" >&2; }
	exit 1
}
. "$HERE/benchlib.sh"

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
NCPU=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
say "mlledger serve load test — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
say "machine : $NCPU cores, ${CPU:-$(uname -m)}, $(uname -sr)"
say "scratch : $W ($(df -PT "$W" 2>/dev/null | awk 'NR == 2 { print $2 }'))"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
say "load    : ${LOAD0:-?} (1/5/15 min)"
if awk -v l="${LOAD0%% *}" -v n="$NCPU" 'BEGIN { exit !(l + 0 >= 0.5 * n) }'; then
	say "WARNING : the machine is busy; figures will be noisy (the server, the client and"
	say "          the in-process run share its cores with whatever else runs)"
fi
say "sizes   : LOAD_N=$N LOAD_CONNS=$CONNS LOAD_CHUNK=$CHUNK serve options: ${SERVE_ARGS:-(defaults)}"
say ""

# ---- two fresh ledgers, the envelopes -----------------------------------------
mkdir -p "$W/keys" "$W/e"
"$BIN" key new admin --dir "$W/keys" >"$W/log" 2>&1 || fail "key new failed"
for l in serve submit; do
	"$BIN" --ledger "$W/$l.db" init --key "$W/keys/admin.key" --origin "$ORIGIN" \
		--governance "$HERE/governance.json" >>"$W/log" 2>&1 || fail "init failed"
done
"$BIN" --ledger "$W/serve.db" log-key >"$W/log.pub" || fail "log-key failed"
S0=$(now)
"$LT" gen "$W/keys/admin.key" "$ORIGIN" "$N" "$W/env.txt" || fail "the generator failed"
say "[gen]    $N envelopes ($(fmt_int "$(wc -c <"$W/env.txt")") bytes) signed in $(calc "$(now) - $S0" | cut -c1-5) s"

# ---- in one process -------------------------------------------------------------
# ml_ledger_append of the same envelopes in this process, as `mlledger
# submit` does (signature, enrolment, roles, every rule), LOAD_CHUNK a
# transaction (0: all in one, as `import` does): the reference rate.
"$LT" append "$W/submit.db" "$W/env.txt" "$CHUNK" >"$W/append.out" 2>"$W/append.err" ||
	fail "in-process append failed: $(tail -n 2 "$W/append.err")"
T_SUB=$(awk '$1 == "elapsed_s" { print $2 }' "$W/append.out")
R_SUB=$(awk '$1 == "rate" { print $2 }' "$W/append.out")
say "[append] $N envelopes in one process in $T_SUB s = $(fmt_int "$R_SUB")/s ($(awk '$1 == "chunk" { print $2 }' "$W/append.out") a transaction)"
# and in transactions of LOAD_CONNS: the most a batch can hold when each
# connection has one request in flight, so what the server's batches cost
# without HTTP (the fixed cost of a transaction: lock, rules state, commit,
# fsync, checkpoint)
"$BIN" --ledger "$W/small.db" init --key "$W/keys/admin.key" --origin "$ORIGIN" \
	--governance "$HERE/governance.json" >>"$W/log" 2>&1 || fail "init failed"
"$LT" append "$W/small.db" "$W/env.txt" "$CONNS" >"$W/small.out" 2>"$W/append.err" ||
	fail "in-process append by $CONNS failed: $(tail -n 2 "$W/append.err")"
R_SMALL=$(awk '$1 == "rate" { print $2 }' "$W/small.out")
rm -f "$W"/small.db*
say "[append] the same in transactions of $CONNS: $(fmt_int "$R_SMALL")/s"
# and the CLI: `mlledger submit` takes at most 256 files a call
R_CLI=n/a
if [ "$SUBMIT_CLI" != 0 ]; then
	awk -v d="$W/e" '{ f = sprintf("%s/%06d", d, NR - 1); printf "%s", $0 > f; close(f) }' \
		"$W/env.txt" || fail "cannot split the envelopes"
	"$BIN" --ledger "$W/cli.db" init --key "$W/keys/admin.key" --origin "$ORIGIN" \
		--governance "$HERE/governance.json" >>"$W/log" 2>&1 || fail "init failed"
	cd "$W/e" || fail "no folder"
	S0=$(now)
	i=0
	while [ "$i" -lt "$N" ]; do
		n=256
		[ $((i + n)) -gt "$N" ] && n=$((N - i))
		# shellcheck disable=SC2046
		"$BIN" --ledger "$W/cli.db" submit $(seq -f '%06g' "$i" $((i + n - 1))) \
			>/dev/null 2>"$W/submit.err" ||
			fail "submit failed (exit $?): $(tail -n 2 "$W/submit.err")"
		i=$((i + n))
	done
	T_CLI=$(calc "$(now) - $S0")
	cd "$W" || fail "no folder"
	rm -rf "$W/e" "$W"/cli.db*
	R_CLI=$(calc "$N / $T_CLI")
	say "[submit] $N envelopes by $(( (N + 255) / 256 )) \`mlledger submit\` calls of 256 files in $(calc "$T_CLI" | cut -c1-6) s = $(fmt_int "$R_CLI")/s"
fi

# ---- through the server ------------------------------------------------------------
# shellcheck disable=SC2086
"$BIN" serve --listen 127.0.0.1:0 --ledger "$W/serve.db" --ready-file "$W/url" $SERVE_ARGS \
	2>"$W/serve.log" &
SPID=$!
i=0
while [ ! -s "$W/url" ] && [ "$i" -lt 200 ]; do
	kill -0 "$SPID" 2>/dev/null || fail "serve did not start"
	sleep 0.1
	i=$((i + 1))
done
[ -s "$W/url" ] || fail "serve did not write its URL in 20 s"
URL=$(cat "$W/url")
CPU0=$(cpu_s "$SPID")
"$LT" post "$URL" "$W/log.pub" "$W/env.txt" --conns "$CONNS" --timeout "$TIMEOUT" \
	>"$W/post.out" 2>"$W/post.err"
PRC=$?
CPU1=$(cpu_s "$SPID")
kill -TERM "$SPID"
wait "$SPID"
SRC=$?
SPID=
pv() { awk -v k="$1" '$1 == k { print $2 }' "$W/post.out"; }
[ -s "$W/post.out" ] || fail "the load client printed nothing: $(head -c 300 "$W/post.err")"
R_SRV=$(pv rate)
say "[serve]  $(pv acked) of $N acknowledged in $(pv elapsed_s) s = $(fmt_int "$R_SRV")/s over $CONNS connections; p50 $(pv p50_ms) ms, p99 $(pv p99_ms) ms, max $(pv max_ms) ms"
say "         answers: $(pv acked) checked (proof, rebuilt leaf, checkpoint signature), $(pv sampled) of them also by ml_tlog_verify_proof, $(pv bad_answers) failed a check; refused $(pv refused), 503 retries $(pv retries_503), broken connections $(pv conn_errors)"
if [ "$CPU0" != n/a ] && [ "$CPU1" != n/a ]; then
	SCPU=$(calc "$CPU1 - $CPU0")
	say "         server CPU $(calc "$SCPU" | cut -c1-5) s = $(calc "$SCPU * 1000000 / $N" | cut -d. -f1) µs per append; client CPU $(pv client_cpu_s) s; exit on SIGTERM: $SRC"
fi
[ -s "$W/post.err" ] && head -n 5 "$W/post.err"

# ---- both ledgers are whole ------------------------------------------------------------
for l in serve submit; do
	"$BIN" --ledger "$W/$l.db" verify >"$W/verify.$l" 2>&1 || fail "verify of the $l ledger failed: $(tail -n 2 "$W/verify.$l")"
	grep -q "^ok: $((N + 1)) entries" "$W/verify.$l" ||
		fail "the $l ledger does not hold $((N + 1)) entries: $(head -n 1 "$W/verify.$l")"
done
say "[verify] both ledgers verify with $((N + 1)) entries"
say ""

RATIO=$(calc "100 * $R_SRV / $R_SUB")
mark() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { ok = op == ">=" ? a + 0 >= b + 0 : a + 0 <= b + 0; print ok ? "met" : "MISSED" }'; }
printf '%-46s %12s %12s  %s\n' "mlledger serve ($N envelopes, $CONNS conns)" "measured" "goal" ""
printf '%-46s %12s %12s  %s\n' "serve: acknowledged appends/s" "$(fmt_int "$R_SRV")" ">= 5,000" "$(mark "$R_SRV" ">=" 5000)"
printf '%-46s %12s %12s  %s\n' "in one process (as submit/import): appends/s" "$(fmt_int "$R_SUB")" "" ""
printf '%-46s %12s %12s  %s\n' "in one process, $CONNS a transaction: appends/s" "$(fmt_int "$R_SMALL")" "" ""
[ "$R_CLI" = n/a ] || printf '%-46s %12s %12s  %s\n' "mlledger submit, 256 files a call: appends/s" "$(fmt_int "$R_CLI")" "" ""
printf '%-46s %11s%% %12s  %s\n' "serve / in-process" "$(calc "$RATIO" | cut -d. -f1)" ">= 25%" "$(mark "$RATIO" ">=" 25)"
printf '%-46s %11s%% %12s  %s\n' "serve / in-process by $CONNS" "$(calc "100 * $R_SRV / $R_SMALL" | cut -d. -f1)" "" ""
printf '%-46s %12s %12s  %s\n' "acknowledgement latency p50 (ms)" "$(pv p50_ms)" "" ""
printf '%-46s %12s %12s  %s\n' "acknowledgement latency p99 (ms)" "$(pv p99_ms)" "<= 50" "$(mark "$(pv p99_ms)" "<=" 50)"
printf '%-46s %12s %12s  %s\n' "acknowledgement latency max (ms)" "$(pv max_ms)" "" ""

[ "$PRC" = 0 ] || fail "the load client exited $PRC (some envelopes not acknowledged or an answer failed a check)"
[ "$SRC" = 0 ] || fail "serve exited $SRC on SIGTERM"

# ---- the same envelopes through two front-ends on PostgreSQL ---------------------------
# (skipped with a notice when PostgreSQL 15 cannot run here)
if [ "${LOAD_PG:-1}" != 0 ]; then
	bash "$HERE/loadtest_pg.sh" "$BIN" "$LT" "$W" "$R_SRV" || exit 1
fi
exit 0

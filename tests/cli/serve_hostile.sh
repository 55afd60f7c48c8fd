#!/bin/sh
# tests/cli/serve_hostile.sh — hostile clients against `mlledger serve`
# while a well-behaved client keeps appending and reading (issue 13,
# "Reliability and security").
#
#   MLLEDGER=/abs/mlledger LOADTEST=/abs/loadtest sh tests/cli/serve_hostile.sh
#
# A well-behaved client (bench/loadtest.c: HOSTILE_GOOD_N, default 4,400,
# envelopes over 2 keep-alive connections, one request each 25 ms, every
# 4th a GET /checkpoint; every answer checked: proof, rebuilt leaf,
# checkpoint signature) runs through the whole suite and must have every
# envelope acknowledged.  Meanwhile serve_hostile.py sends: malformed
# envelopes (400), a bad signature, a revoked and an unknown key (403), an
# envelope replayed from another ledger (409 or 403), bodies over 64 KiB
# (413; 1 GiB announced or an endless chunked body: refused having taken at
# most 1 MiB), and connections that dribble a byte a second: a body or a
# head (cut 10-12 s after the request line), a request line or nothing
# (cut 30-32 s after the accept: docs/SERVER.md, Limits), and HOSTILE_IDLE
# (default 10,000, less when `ulimit -n` cannot be raised enough) idle
# connections (the server, at its default --max-connections 10,000, must
# close them 30-33 s after they opened and serve a new client by then),
# probing a well-behaved append and read between and during each.  Then,
# each against a server of its own, the two 503s with Retry-After: a full
# queue (--queue-max 2) and shutting down (--drain-seconds 3).  The load
# client's own checks are first shown to fail on planted faults.  Loopback
# only; every wait is bounded (about 95 s in all; the Python parts at most
# 150 s each, the servers always stopped).
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" serve_hostile
. "$here/serverlib.sh"

LT=${LOADTEST:-$here/../../build/bench/loadtest}
case $LT in /*) ;; *) LT=$(cd "$(dirname "$LT")" && pwd)/$(basename "$LT") ;; esac
GOV=$here/../../bench/governance.json
IDLE=${HOSTILE_IDLE:-10000}
GOOD_N=${HOSTILE_GOOD_N:-4400}
T0=$(date +%s)
if [ ! -x "$LT" ]; then
	nok environment "$LT is not built (make build/bench/loadtest)"
	finish
	exit 1
fi

# ---- file descriptors for 10,000 idle connections (both ends) ------------------
want=$((IDLE + 1024))
ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
have=$(ulimit -n)
if [ "$have" != unlimited ] && [ "$have" -lt "$want" ]; then
	IDLE=$((have - 1024))
	echo "# ulimit -n is $have (hard limit $(ulimit -Hn)): $IDLE idle connections instead of ${HOSTILE_IDLE:-10000}"
fi

# ---- fixtures -------------------------------------------------------------------------
D=sha256:$(printf '%064d' 7)
mkdir fx
{
	"$M" key new admin --dir . && "$M" key new ci --dir . && "$M" key new stranger --dir . &&
		"$M" --ledger l.db init --key admin.key --origin hostile.example/ledger --governance "$GOV" &&
		"$M" --ledger o.db init --key admin.key --origin other.example/ledger --governance "$GOV" &&
		"$M" --ledger q.db init --key admin.key --origin hostile.example/ledger --governance "$GOV" &&
		"$M" --ledger l.db key enroll ci.pub --holder-key ci.key --role admin --key admin.key &&
		"$M" --ledger l.db sign dataset revoked@1 --digest "$D" --key ci.key --out fx/revoked.env &&
		"$M" --ledger l.db key revoke ci --reason test --key admin.key &&
		"$M" --ledger none.db sign dataset unknown@1 --digest "$D" --key stranger.key \
			--origin hostile.example/ledger --out fx/unknown.env &&
		"$M" --ledger o.db sign dataset replayed@1 --digest "$D" --key admin.key --out fx/replay.env &&
		"$M" --ledger o.db submit fx/replay.env &&
		"$M" --ledger l.db sign dataset valid@1 --digest "$D" --key admin.key --out fx/valid.env &&
		"$M" --ledger l.db log-key >log.pub &&
		"$LT" gen admin.key hostile.example/ledger "$GOOD_N" good.txt 0 &&
		"$LT" gen admin.key hostile.example/ledger 1000 fx/probe.txt 1000000 &&
		/usr/bin/python3 -c '
import base64, sys
f = open("admin.key").read().strip().split("+", 4)
open("fx/admin.seed", "w").write(base64.b64decode(f[4])[1:].hex())
open("fx/admin.keyid", "w").write(f[2] + "+" + f[3])'
} >setup.log 2>&1 || { nok setup "$(tail -n 3 setup.log)"; finish; exit 1; }
BASE=$("$M" --ledger l.db log --format json | grep -c '"seq"')

serve_start h l.db || { nok "serve" "did not start"; finish; exit 1; }
ok "serve started ($SERVE_URL)"

# ---- the load client's checks can fail ----------------------------------------------------
"$M" --ledger o.db log-key >other.pub
"$M" --ledger x.db init --key admin.key --origin hostile.example/ledger >/dev/null 2>&1
"$M" --ledger x.db log-key >twin.pub # the same origin, another log key
expect 1 "planted: the load client refuses proofs of another log" \
	"checkpoint of another log" \
	"$LT" post "$SERVE_URL" other.pub fx/probe.txt --count 3 --from 987 --conns 1 --timeout 10
expect 1 "planted: the load client refuses a checkpoint not signed by the pinned log key" \
	"checkpoint not signed by the log key" \
	"$LT" post "$SERVE_URL" twin.pub fx/probe.txt --count 3 --from 990 --conns 1 --timeout 10
expect 1 "planted: the load client refuses a leaf that is not the one in the tree" \
	"not in the tree" \
	"$LT" post "$SERVE_URL" log.pub fx/probe.txt --count 3 --from 993 --conns 1 --timeout 10 \
	--plant-wrong-leaf

# ---- the well-behaved client, all along --------------------------------------------------
"$LT" post "$SERVE_URL" log.pub good.txt --conns 2 --pace-ms 25 --read-every 4 --timeout 150 \
	--first-index "$BASE" >good.out 2>good.err &
GPID=$!
sleep 1

# hostile NAME [ENV=VALUE...]: serve_hostile.py against $SERVE_URL (at
# most 150 s), its lines counted as ours
hostile() {
	local name=$1 rc
	shift
	env "$@" timeout 150 /usr/bin/python3 "$here/serve_hostile.py" "$SERVE_URL" fx "$IDLE" 10000 \
		>"$name.out" 2>"$name.err"
	rc=$?
	grep -v '^[0-9]* passed, [0-9]* failed$' "$name.out"
	pass=$((pass + $(grep -c '^ok - ' "$name.out")))
	fail=$((fail + $(grep -c '^not ok - ' "$name.out")))
	if [ "$rc" != 0 ] && ! grep -q '^not ok - ' "$name.out"; then
		nok "serve_hostile.py ($name)" "exited $rc: $(tail -n 3 "$name.err")"
	fi
}

# ---- the hostile clients -------------------------------------------------------------------
hostile hostile

# ---- the two 503s: a full queue, and shutting down -------------------------------------
# each against a server of its own, on a ledger of its own (q.db), while
# the well-behaved client finishes
if serve_start q q.db --queue-max 2 --batch-wait 1000; then
	hostile queue HOSTILE_MODE=queue
	serve_stop q TERM
else
	nok "serve --queue-max 2" "did not start"
fi
if serve_start d q.db --drain-seconds 3; then
	hostile drain HOSTILE_MODE=drain HOSTILE_PID="$SERVE_PID_d"
	t=$(date +%s)
	serve_stop d TERM # SIGTERM was sent: it exits after its drain
	[ "$SERVE_RC" = 0 ] && ok "serve exits 0 after its drain ($(($(date +%s) - t)) s more)" ||
		nok "drain" "serve exited $SERVE_RC"
	drained=$(sed -n 's/^# drained at size //p' drain.out)
	n=$("$M" --ledger q.db log --format json | grep -c '"seq"')
	[ -n "$drained" ] && [ "$n" = "$drained" ] &&
		ok "nothing was appended while draining ($n entries)" ||
		nok "drain" "${drained:-no} entries at the drain, $n after"
else
	nok "serve --drain-seconds 3" "did not start"
fi
wait "$GPID"
grc=$?
gv() { awk -v k="$1" '$1 == k { print $2 }' good.out; }
echo "# well-behaved client: $(gv acked) of $GOOD_N acknowledged, $(gv reads) reads, p50 $(gv p50_ms) ms, p99 $(gv p99_ms) ms, max $(gv max_ms) ms, $(gv conn_errors) broken connections"
if [ "$grc" = 0 ]; then
	ok "the well-behaved client was served throughout: all $GOOD_N appends acknowledged and checked, every read checked"
else
	nok "well-behaved client" "exit $grc: $(tr '\n' ' ' <good.out) $(head -c 300 good.err)"
fi

serve_stop h TERM
[ "$SERVE_RC" = 0 ] && ok "serve exits 0 on SIGTERM" || nok "SIGTERM" "serve exited $SERVE_RC"

# nothing refused was written: the entries are the base, the good client's
# and the probes' (each probe envelope at most once, retries aside)
probes=$(grep -c . fx/probe.txt)
n=$("$M" --ledger l.db log --format json | grep -c '"seq"')
if [ "$n" -ge $((BASE + GOOD_N)) ] && [ "$n" -le $((BASE + GOOD_N + probes)) ] &&
	! "$M" --ledger l.db log --format json | grep -q '"subject":"\(revoked\|unknown\|replayed\)@1"'; then
	ok "no refused envelope was written ($n entries)"
else
	nok "refused envelopes" "$n entries, or a refused subject is in the log"
fi
expect 0 "verify passes after the hostile clients" "^ok: $n entries intact" "$M" --ledger l.db verify
echo "# $(($(date +%s) - T0)) s"
finish

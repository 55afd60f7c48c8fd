#!/bin/sh
# tests/cli/serve_kill.sh — kill -9 of `mlledger serve` under load (issue 13,
# "Reliability").
#
#   MLLEDGER=/abs/mlledger LOADTEST=/abs/loadtest sh tests/cli/serve_kill.sh
#
# SERVE_KILLS times (default 50): serve is started on the same ledger of
# SERVE_KILL_N (default 12,000) envelopes to come, the load client
# (bench/loadtest.c, 16 keep-alive connections) POSTs those not yet
# acknowledged and a random sample of 1,500 acknowledged ones (retries),
# shuffled together, then every acknowledged one again, and the server is
# killed with SIGKILL at a random moment (20 ms to SERVE_KILL_MAX_MS + 20,
# default 720 ms, after the client started; at least half the kills must
# find the client running).  The
# client logs every acknowledged answer (envelope number, index, leaf hash
# rebuilt from the envelope sent and checked against the proof and the
# signed checkpoint).  Every 10th kill, `mlledger verify` checks the ledger
# as the kill left it.  Then a last server gets every envelope once more.
# At the end:
#   * every envelope was acknowledged, and every acknowledgement of one
#     envelope (first append or retry, across kills) names the same index
#     and leaf hash; no two envelopes share an index;
#   * the ledger holds exactly 1 + SERVE_KILL_N entries (retries created no
#     duplicates; nothing else was written) and each acknowledged index
#     holds the acknowledged leaf hash (`mlledger log --format json`);
#   * `mlledger verify` passes (nothing half-written).
# The checker is first run on planted faults (a wrong leaf, a missing
# entry), which it must report.  SERVE_KILL_SEED fixes $RANDOM.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" serve_kill
. "$here/serverlib.sh"

LT=${LOADTEST:-$here/../../build/bench/loadtest}
case $LT in /*) ;; *) LT=$(cd "$(dirname "$LT")" && pwd)/$(basename "$LT") ;; esac
KILLS=${SERVE_KILLS:-50}
N=${SERVE_KILL_N:-12000}
MAXMS=${SERVE_KILL_MAX_MS:-700}
RANDOM=${SERVE_KILL_SEED:-$$}
GOV=$here/../../bench/governance.json
T0=$(date +%s)

if [ ! -x "$LT" ]; then
	nok environment "$LT is not built (make build/bench/loadtest)"
	finish
	exit 1
fi

mkdir keys
"$M" key new admin --dir keys >/dev/null 2>&1 &&
	"$M" --ledger l.db init --key keys/admin.key --origin kill.example/ledger \
		--governance "$GOV" >/dev/null 2>&1 &&
	"$M" --ledger l.db log-key >log.pub &&
	"$LT" gen keys/admin.key kill.example/ledger "$N" env.txt ||
	{ nok setup "ledger, key or envelopes"; finish; exit 1; }
: >acks.txt
seq 0 $((N - 1)) >all.lst

# check_acks ACKS EXPECTED_ENTRIES: the checks above on a ledger whose
# server is stopped; prints what is wrong, exit 1 when anything is.
check_acks() {
	"$M" --ledger l.db log --format json >log.json 2>log.err || { cat log.err; return 1; }
	/usr/bin/python3 - "$1" "$2" "$N" log.json <<'EOF'
import json, sys
acks, want, n, logf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
bad = []
by_env, by_index = {}, {}
for line in open(acks):
    f = line.split()
    if not f or f[0] != "ack":
        continue
    env, index, leaf = int(f[1]), int(f[2]), f[3]
    if env in by_env and by_env[env] != (index, leaf):
        bad.append("envelope %d acknowledged as %s and as %s" % (env, by_env[env], (index, leaf)))
    by_env[env] = (index, leaf)
    if by_index.get(index, env) != env:
        bad.append("index %d acknowledged for envelopes %d and %d" % (index, by_index[index], env))
    by_index[index] = env
entries = json.load(open(logf))
leaves = {e["seq"]: e["leafHash"] for e in entries}
if len(entries) != want:
    bad.append("the ledger holds %d entries, want %d" % (len(entries), want))
if len(by_env) != n:
    bad.append("%d of %d envelopes acknowledged" % (len(by_env), n))
for env, (index, leaf) in sorted(by_env.items()):
    if leaves.get(index) != "sha256:" + leaf:
        bad.append("envelope %d: entry %d is %s, acknowledged %s" % (env, index, leaves.get(index), leaf))
for b in bad[:10]:
    print(b)
sys.exit(1 if bad else 0)
EOF
}

# ---- the rounds ------------------------------------------------------------------
acked=0 killed=0 cut=0 rounds_failed=0
for r in $(seq 1 "$KILLS"); do
	if ! serve_start s l.db; then
		nok "round $r" "serve did not start on the ledger the last kill left"
		rounds_failed=$((rounds_failed + 1))
		break
	fi
	# the envelopes not acknowledged yet and up to 1,500 acknowledged ones
	# again (retries), mixed; then every acknowledged one again, so that the
	# kill finds the client running however fast the server is
	awk '$1 == "ack" { print $2 }' acks.txt | sort -n -u >acked.lst
	awk 'FILENAME == ARGV[1] { a[$1] = 1; next } !($1 in a)' acked.lst all.lst >todo.lst
	shuf -n 1500 acked.lst >>todo.lst 2>/dev/null
	{ shuf todo.lst; shuf acked.lst; } >todo.mix && mv todo.mix todo.lst
	"$LT" post "$SERVE_URL" log.pub env.txt --only todo.lst --acks acks.txt --stop-on-error \
		--timeout 30 --conns 16 >post.$r.out 2>post.$r.err &
	cpid=$!
	ms=$((RANDOM % MAXMS + 20))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -0 "$cpid" 2>/dev/null || cut=$((cut + 1)) # the client finished first
	serve_stop s KILL 2>/dev/null # (no "Killed" job notice)
	killed=$((killed + 1))
	wait "$cpid"
	crc=$?
	if [ "$crc" != 0 ] && [ "$crc" != 3 ]; then
		nok "round $r" "the load client exited $crc: $(head -c 300 post.$r.err)"
		rounds_failed=$((rounds_failed + 1))
	fi
	# every 10th kill: the ledger as the kill left it, before a server opens it
	if [ $((r % 10)) = 0 ] && ! "$M" --ledger l.db verify >verify.$r 2>&1; then
		nok "round $r" "verify after the kill: $(tail -n 2 verify.$r)"
		rounds_failed=$((rounds_failed + 1))
	fi
done
[ "$rounds_failed" = 0 ] && ok "$killed kills of serve under load (killed after 20-$((MAXMS + 20)) ms), every answer checked"
a=$(awk '$1 == "ack" && $5 == 0' acks.txt | wc -l)
e=$(awk '$1 == "ack" && $5 == 1' acks.txt | wc -l)
echo "# acknowledged before the last pass: $a new entries, $e retries answered with their entry"
# the kills must have hit the load, not an idle server
if [ $((killed - cut)) -ge $((KILLS / 2)) ] && [ "$a" -gt 0 ] && [ "$e" -gt 0 ]; then
	ok "$((killed - cut)) of $killed kills hit a client in flight"
else
	nok "kills under load" "only $((killed - cut)) of $killed kills hit a running client ($a new, $e retries acknowledged)"
fi

# ---- every envelope once more ------------------------------------------------------
if serve_start s l.db; then
	if "$LT" post "$SERVE_URL" log.pub env.txt --acks acks.txt --timeout 60 --conns 16 \
		>post.last.out 2>post.last.err; then
		ok "after the kills, every envelope (re)submitted is acknowledged"
	else
		nok "last pass" "$(grep -E '^(acked|refused|unacked|bad_answers) ' post.last.out | tr '\n' ' ') $(head -c 300 post.last.err)"
	fi
	serve_stop s TERM
	[ "$SERVE_RC" = 0 ] && ok "serve exits 0 on SIGTERM" || nok "SIGTERM" "serve exited $SERVE_RC"
else
	nok "last pass" "serve did not start"
fi

# ---- the checks ----------------------------------------------------------------------
# planted faults first: the checker must see them
awk '$1 == "ack" && !done { $4 = (substr($4, 1, 1) == "0" ? "1" : "0") substr($4, 2); done = 1 }
	{ print }' acks.txt >planted.txt
if check_acks planted.txt $((N + 1)) >/dev/null; then
	nok "planted" "a wrong acknowledged leaf hash was not reported"
else
	ok "planted: a wrong acknowledged leaf hash is reported"
fi
if check_acks acks.txt $((N + 2)) >/dev/null; then
	nok "planted" "a wrong entry count was not reported"
else
	ok "planted: an entry count other than expected is reported"
fi
if out=$(check_acks acks.txt $((N + 1))); then
	ok "all $N envelopes present once, at their acknowledged index with their acknowledged leaf hash; $((N + 1)) entries"
else
	nok "acknowledged entries" "$out"
fi
expect 0 "verify passes: nothing half-written" "^ok: $((N + 1)) entries intact" "$M" --ledger l.db verify
echo "# $(($(date +%s) - T0)) s"
finish

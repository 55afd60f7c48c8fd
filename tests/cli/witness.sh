#!/bin/sh
# tests/cli/witness.sh — witnesses that remember, attacked (issue 17).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/witness.sh
#
# Each finding is a case that passed before and must now be refused: a
# witness that cosigned size N of the real ledger cosigning size N-1 or N
# of a fork (or a later size of it, or one without a proof); a trust policy
# naming the log key as a witness; a cosignature dated in the future or too
# old; a replaced log giving exit 2 instead of 4; `verify --state` silent on
# first use, following a dangling symlink, and moved backwards by
# concurrent verifiers; entries after the newest witnessed checkpoint
# reported without saying so.  Plus `verify-consistency` offline.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/witness.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" wit
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
HAVE_FT=
if command -v faketime >/dev/null 2>&1 &&
	[ "$(faketime -f '+10y' date -u +%Y 2>/dev/null)" -gt "$(($(date -u +%Y) + 5))" ] 2>/dev/null; then
	HAVE_FT=1
fi
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=

# state_size FILE: the tree size line of a checkpoint note
state_size() { sed -n 2p "$1"; }
# unchanged NAME FILE SUM: FILE still has checksum SUM
unchanged() {
	if [ "$(cksum <"$2")" = "$3" ]; then ok "$1"; else nok "$1" "$2 changed"; fi
}
add() { "$M" --ledger "$1" record dataset "$2@1" --digest "sha256:$(printf '%s' "$2" | sha256sum | cut -c1-64)" \
	--key eng.key >/dev/null || echo "setup: record $2 in $1 failed" >&2; }
copydb() {
	rm -f "$2" "$2-wal" "$2-shm" "$2.log.key"
	cp "$1" "$2" && { [ ! -f "$1-wal" ] || cp "$1-wal" "$2-wal"; } && cp -p "$1.log.key" "$2.log.key"
}

L=$W/real.db
export MLLEDGER_LEDGER=$L
for k in admin eng w1 w2 w3; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null || exit 1
"$M" key enroll eng.pub --holder-key eng.key --role engineer --key admin.key >/dev/null || exit 1
add "$L" d1
add "$L" d2
# The fork point: a copy of the ledger (and its log key: the attacker holds
# it) two entries before the size the witness cosigns.
copydb "$L" "$W/fork.db"
add "$L" real-a
add "$L" real-b
N=$("$M" checkpoint | sed -n 2p)
add "$W/fork.db" fork-a
add "$W/fork.db" fork-b
add "$W/fork.db" fork-c
"$M" log-key >log.pub
"$M" checkpoint >real.N
"$M" --ledger "$W/fork.db" checkpoint --size $((N - 1)) >fork.N-1
"$M" --ledger "$W/fork.db" checkpoint --size "$N" >fork.N
"$M" --ledger "$W/fork.db" checkpoint >fork.N+1
"$M" --ledger "$W/fork.db" prove --consistency "$N" >fork.proof
for w in w1 w2 w3; do "$M" witness-key --key $w.key >$w.vkey; done
cmp -s log.pub <("$M" --ledger "$W/fork.db" log-key) || echo "setup: the fork has another log key" >&2

# ---- cosign: a witness with memory ----------------------------------------
expect 2 "cosign without --state is a usage error naming --state" "state FILE is required" \
	"$M" cosign --key w1.key --log-key log.pub real.N
expect 2 "cosign: first use without --init is refused" "add --init" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state real.N
[ ! -e w1.state ] && ok "the refused first use wrote no state" || nok "the refused first use wrote no state" "w1.state exists"
expect 0 "cosign --init: first use is accepted and said on stderr" "first use: no earlier state .*trusting size $N" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state --init real.N
cp out real.N.w1
grep -q "^— w1 " real.N.w1 && ok "the cosigned note carries w1's line" || nok "the cosigned note carries w1's line" "$(cat real.N.w1)"
cmp -s w1.state real.N.w1 && ok "the state holds the cosigned note" || nok "the state holds the cosigned note" "differs"
expect 2 "cosign --init with an existing state is refused" "drop --init" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state --init real.N
expect 0 "cosign of the same checkpoint again is cosigned again" "" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state real.N
sum=$(cksum <w1.state)

expect 4 "the fork: size N of a fork (another root) is refused, naming both roots" \
	"size $N has two roots (.* and .*): the log forked" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state fork.N
expect 4 "the fork: size N-1 of a fork is refused as a rollback, naming both sizes" \
	"size $((N - 1)) (root .*) is smaller than size $N (root .*): a rollback" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state fork.N-1
expect 4 "the fork: size N+1 of a fork with the fork's own proof is refused" \
	"proof does not show that size $N .* is a prefix of size $((N + 1))" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state --proof fork.proof fork.N+1
expect 2 "a larger size without --proof is refused, naming the proof to get" \
	"prove --consistency $N --size $((N + 1))" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state fork.N+1
unchanged "no refusal changed the witness's state" w1.state "$sum"

add "$L" real-c
add "$L" real-d
"$M" checkpoint >real.N+2
"$M" checkpoint --size $((N - 1)) >real.N-1
"$M" prove --consistency "$N" >good.proof
"$M" prove --consistency $((N - 1)) >other.proof
printf 'not base64\n' >junk.proof
expect 2 "an invalid proof file (not base64) exits 2 naming it" "junk.proof: line 1" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state --proof junk.proof real.N+2
expect 4 "a proof for another pair of sizes is refused" "proof does not show" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state --proof other.proof real.N+2
: >empty.proof
expect 4 "an empty proof for a larger size is refused" "proof does not show" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state --proof empty.proof real.N+2
unchanged "the state is still at size N" w1.state "$sum"
expect 0 "a larger size with its consistency proof is cosigned" "" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state --proof good.proof real.N+2
[ "$(state_size w1.state)" = $((N + 2)) ] && ok "the state moved to size N+2" ||
	nok "the state moved to size N+2" "size $(state_size w1.state)"
expect 4 "after N+2, the real size N-1 is refused as a rollback" "a rollback" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state real.N-1

# Another log: its own ledger, origin and log key.
"$M" --ledger "$W/other.db" init --key admin.key >/dev/null
"$M" --ledger "$W/other.db" checkpoint >other.ckpt
"$M" --ledger "$W/other.db" log-key >other.pub
expect 4 "cosign of another log's checkpoint with this log's key is refused" "of another log" \
	"$M" cosign --key w1.key --log-key log.pub --state w1.state other.ckpt
expect 4 "a state of another log (one state file per log) is refused" "another log" \
	"$M" cosign --key w1.key --log-key other.pub --state w1.state other.ckpt
ln -s nowhere dangling.state
expect 2 "cosign --state as a dangling symlink is refused" "symbolic link" \
	"$M" cosign --key w1.key --log-key log.pub --state dangling.state --init real.N
[ -L dangling.state ] && [ ! -e nowhere ] && ok "the dangling symlink was not followed" ||
	nok "the dangling symlink was not followed" "nowhere exists"

# ---- verify-consistency, offline ------------------------------------------
expect 0 "verify-consistency N to N+2 with its proof" "size $N of .* is a prefix of size $((N + 2))" \
	"$M" verify-consistency --log-key log.pub real.N real.N+2 good.proof
expect 0 "verify-consistency of a checkpoint with itself (empty proof)" "" \
	"$M" verify-consistency --log-key log.pub real.N real.N empty.proof
expect 4 "verify-consistency swapped (NEW OLD) exits 4 as a rollback" "a rollback" \
	"$M" verify-consistency --log-key log.pub real.N+2 real.N good.proof
expect 4 "verify-consistency with a proof for another pair exits 4" "proof does not show" \
	"$M" verify-consistency --log-key log.pub real.N real.N+2 other.proof
expect 4 "verify-consistency of the real N and the fork's N+1 exits 4" "proof does not show" \
	"$M" verify-consistency --log-key log.pub real.N fork.N+1 fork.proof
expect 4 "verify-consistency of the same size with two roots exits 4" "the log forked" \
	"$M" verify-consistency --log-key log.pub real.N fork.N empty.proof
expect 4 "verify-consistency with another log's key exits 4" "another log" \
	"$M" verify-consistency --log-key other.pub real.N real.N+2 good.proof
expect 4 "verify-consistency with another log's checkpoint exits 4" "new: .*another log" \
	"$M" verify-consistency --log-key log.pub real.N other.ckpt good.proof
expect 2 "verify-consistency with a malformed proof exits 2" "junk.proof" \
	"$M" verify-consistency --log-key log.pub real.N real.N+2 junk.proof
expect 2 "verify-consistency without --log-key exits 2" "expected --log-key" \
	"$M" verify-consistency real.N real.N+2 good.proof

# ---- trust policies --------------------------------------------------------
# The log key as a witness key: same Ed25519 public key, type 0x04, any name.
lkw=$("$PY" -c 'import base64, hashlib, sys
line = open(sys.argv[1]).read().strip()
pk = base64.b64decode(line.split("+", 2)[2])[1:]
kid = hashlib.sha256(b"logw\n\x04" + pk).hexdigest()[:8]
print("logw+%s+%s" % (kid, base64.b64encode(b"\x04" + pk).decode()))' log.pub)
printf 'log %s\nwitness logw %s\nquorum logw\n' "$(cat log.pub)" "$lkw" >p-logw
printf 'witness logw %s\nlog %s\nquorum logw\n' "$lkw" "$(cat log.pub)" >p-logw2
w1b=$("$PY" -c 'import base64, hashlib, sys
raw = base64.b64decode(open(sys.argv[1]).read().strip().split("+", 2)[2])
print("w1b+%s+%s" % (hashlib.sha256(b"w1b\n" + raw).hexdigest()[:8], base64.b64encode(raw).decode()))' w1.vkey)
printf 'log %s\nwitness w1 %s\nwitness w1b %s\nquorum w1\n' "$(cat log.pub)" "$(cat w1.vkey)" "$w1b" >p-dup
expect 2 "a trust policy naming the log key as a witness is refused, naming the line" \
	"p-logw: line 2: witness key is the log key" \
	"$M" verify --checkpoint real.N.w1 --trust p-logw
expect 2 "the same with the witness line before the log line" "p-logw2: line 2: the log key is also a witness" \
	"$M" verify --checkpoint real.N.w1 --trust p-logw2
expect 2 "a trust policy naming one witness key twice is refused" "p-dup: line 3: duplicate witness" \
	"$M" verify --checkpoint real.N.w1 --trust p-dup

printf 'log %s\nwitness w1 %s\nwitness w2 %s\ngroup g any w1 w2\nquorum g\n' "$(cat log.pub)" \
	"$(cat w1.vkey)" "$(cat w2.vkey)" >p1
expect 0 "verify --trust names the witnesses of a held checkpoint and the newest cosignature's age" \
	"witnessed by w1 (newest cosignature .*, .* old)" \
	"$M" verify --checkpoint real.N.w1 --trust p1
grep -q "^note: entries $N\\.\\.$((N + 1)) are after the newest witnessed checkpoint (size $N): not witnessed\$" out &&
	ok "verify says which entries are after the newest witnessed checkpoint" ||
	nok "verify says which entries are after the newest witnessed checkpoint" "$(cat out)"
expect 0 "verify --format json adds held[] and notWitnessed" "" \
	"$M" verify --checkpoint real.N.w1 --trust p1 --format json
if "$PY" -c 'import json, sys
o = json.load(open("out"))
n = int(sys.argv[1])
assert o["ok"] is True and o["heldCheckpoints"] == 1 and o["entries"] == n + 2, o
h = o["held"][0]
assert h["size"] == n and h["witnesses"] == ["w1"] and h["witnessesChecked"] is True, h
assert h["newestCosignature"].endswith("Z"), h
assert o["notWitnessed"] == {"from": n, "to": n + 1, "afterSize": n, "witnessChecked": True}, o' "$N" 2>err.py; then
	ok "the JSON members name the witness and the unwitnessed entries"
else
	nok "the JSON members name the witness and the unwitnessed entries" "$(tail -1 err.py)"
fi
expect 0 "verify without --trust lists cosignature lines as unchecked" "cosignature lines by w1 (not checked" \
	"$M" verify --checkpoint real.N.w1
expect 0 "verify --checkpoint of the latest: no 'not witnessed' line" "" \
	"$M" verify --checkpoint real.N+2
grep -q "not witnessed" out && nok "verify --checkpoint of the latest: no 'not witnessed' line" "$(cat out)" ||
	ok "the latest checkpoint leaves nothing unwitnessed"

expect 2 "--max-witness-age without a duration is refused" "max-witness-age" \
	"$M" verify --checkpoint real.N.w1 --trust p1 --max-witness-age soon
expect 2 "--max-witness-age without --trust is refused" "max-witness-age" \
	"$M" verify --checkpoint real.N.w1 --max-witness-age 30d
expect 0 "--max-witness-age 30d accepts a fresh cosignature" "witnessed by w1" \
	"$M" verify --checkpoint real.N.w1 --trust p1 --max-witness-age 30d
if [ -n "$HAVE_FT" ]; then
	faketime -f '-2d' "$M" cosign --key w2.key --log-key log.pub --state w2.state --init real.N \
		>real.N.w2old 2>/dev/null || nok "setup: an old cosignature" "cosign failed"
	expect 4 "--max-witness-age 1d: a 2-day-old cosignature does not count" "older than 86400 s" \
		"$M" verify --checkpoint real.N.w2old --trust p1 --max-witness-age 1d
	expect 0 "without --max-witness-age the old cosignature counts (age printed)" "witnessed by w2 .*, 2 d old" \
		"$M" verify --checkpoint real.N.w2old --trust p1
	faketime -f '+1h' "$M" cosign --key w2.key --log-key log.pub --state w2f.state --init real.N \
		>real.N.w2future 2>/dev/null || nok "setup: a future cosignature" "cosign failed"
	expect 4 "a cosignature dated an hour in the future is refused" "witness w2 is dated .* in the future" \
		"$M" verify --checkpoint real.N.w2future --trust p1
	faketime -f '+2m' "$M" cosign --key w2.key --log-key log.pub --state w2n.state --init real.N \
		>real.N.w2near 2>/dev/null || nok "setup: a near cosignature" "cosign failed"
	expect 0 "a cosignature 2 minutes ahead is within the clock tolerance" "witnessed by w2" \
		"$M" verify --checkpoint real.N.w2near --trust p1
else
	skip "cosignature age and future-dated cases" "no working faketime"
fi

# ---- a replaced log ---------------------------------------------------------
expect 4 "verify --checkpoint of another log (replaced log) exits 4" "another log .*replaced" \
	"$M" verify --checkpoint other.ckpt
"$M" verify --state st.real >/dev/null 2>&1
expect 4 "verify --state of the replaced ledger exits 4" "another log .*replaced" \
	"$M" --ledger "$W/other.db" verify --state st.real
"$M" --ledger "$W/fork.db" checkpoint >fork.latest
expect 4 "verify --checkpoint of a fork with the same log key exits 4" "forked" \
	"$M" verify --checkpoint fork.N

# ---- verify --state --------------------------------------------------------
expect 0 "verify --state: first use is accepted and said on stderr" \
	"first use: no earlier state in st.new; trusting size $((N + 2))" "$M" verify --state st.new
grep -q "first use" err && ! grep -q "first use" out && ok "the first-use line is on stderr" ||
	nok "the first-use line is on stderr" "$(cat out err)"
expect 0 "verify --state again: no first-use line" "stays at size $((N + 2))" "$M" verify --state st.new
grep -q "first use" err && nok "no first-use line the second time" "$(cat err)" || ok "no first-use line the second time"
ln -s "$W/nowhere" st.dangling
expect 2 "verify --state as a dangling symlink is refused" "st.dangling: a symbolic link" \
	"$M" verify --state st.dangling
[ -L st.dangling ] && [ ! -e "$W/nowhere" ] && ok "the dangling symlink was left and not followed" ||
	nok "the dangling symlink was left and not followed" "changed"
ln -s st.new st.link
expect 2 "verify --state as a symlink to a state is refused" "symbolic link" "$M" verify --state st.link
mkdir st.dir
expect 2 "verify --state as a folder is refused" "folder" "$M" verify --state st.dir

# Concurrent verifiers while the ledger grows: four loops of verifiers run
# while 12 entries are appended, and three more runs each after the last
# append.  The state must end at the ledger's final size (a verifier that
# read an older size must not overwrite a newer state), never below the
# largest size any run accepted, and every run must succeed.  Bounded: each
# loop stops after 40 runs.
"$M" verify --state st.conc >/dev/null 2>&1
rm -f conc.done conc.failed
pids=
for j in 1 2 3 4; do
	(
		i=0 after=0
		while [ "$after" -lt 3 ] && [ "$i" -lt 40 ]; do
			i=$((i + 1))
			[ -e conc.done ] && after=$((after + 1))
			timeout 120 "$M" verify --state st.conc --jobs 1 >"conc.o$j.$i" 2>"conc.e$j.$i" ||
				echo "loop $j run $i: exit $?" >>conc.failed
		done
	) &
	pids="$pids $!"
done
for i in $(seq 1 12); do add "$L" conc$i; done
touch conc.done
for p in $pids; do wait "$p"; done
[ ! -s conc.failed ] && ok "concurrent verify --state runs (12 appends meanwhile) all exit 0" ||
	nok "concurrent verify --state runs (12 appends meanwhile) all exit 0" "$(head -c 300 conc.failed) $(cat conc.e* | head -c 300)"
final=$(state_size st.conc)
size=$("$M" checkpoint | sed -n 2p)
[ "$final" = "$size" ] && ok "the state ends at the ledger's final size $size" ||
	nok "the state ends at the ledger's final size" "state $final, ledger $size"
maxacc=$(cat conc.o* | sed -n 's/^ok: state st.conc \(moved to\|stays at\) size \([0-9]*\).*/\2/p' | sort -n | tail -1)
if [ -n "$maxacc" ] && [ "$final" -ge "$maxacc" ]; then
	ok "the state ends at size $final, not below the largest accepted ($maxacc)"
else
	nok "the state ends not below the largest accepted" "final $final, largest accepted '${maxacc}'"
fi
# The lock itself: while another process holds st.conc.lock, verify --state
# waits for it (and cosign --state for its own).
if command -v flock >/dev/null 2>&1; then
	flock st.conc.lock sleep 2 &
	hold=$!
	sleep 0.3
	t0=$(date +%s%N)
	"$M" verify --state st.conc >/dev/null 2>&1
	t1=$(date +%s%N)
	wait "$hold"
	[ $(((t1 - t0) / 1000000)) -ge 1000 ] && ok "verify --state waits while st.conc.lock is held" ||
		nok "verify --state waits while st.conc.lock is held" "returned after $(((t1 - t0) / 1000000)) ms"
	flock w1.state.lock sleep 2 &
	hold=$!
	sleep 0.3
	t0=$(date +%s%N)
	"$M" cosign --key w1.key --log-key log.pub --state w1.state --proof empty.proof real.N+2 >/dev/null 2>&1
	t1=$(date +%s%N)
	wait "$hold"
	[ $(((t1 - t0) / 1000000)) -ge 1000 ] && ok "cosign --state waits while w1.state.lock is held" ||
		nok "cosign --state waits while w1.state.lock is held" "returned after $(((t1 - t0) / 1000000)) ms"
else
	skip "verify and cosign wait for a held state lock" "no flock(1)"
fi
expect 0 "the state still verifies after the concurrent runs" "" "$M" verify --state st.conc

finish

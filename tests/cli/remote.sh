#!/bin/sh
# tests/cli/remote.sh — the C client of `mlledger serve` (--server URL),
# against real servers on loopback, attacked.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/remote.sh
#
# Appends through the server come back with proofs the client checks;
# retries give the same index; a mirror verifies, gates and exports as the
# server's ledger does; a gate decision is signed here and lands on the
# server; a mirror fetches the checkpoint notes its gate decisions name
# (GET /checkpoint/N) and replays them.  Refused with exit 4: a server
# rolled back to an older copy, a forked history under the same log key, a
# checkpoint or proof signed by another key, a server whose ledger was
# edited in SQLite (the mirror stays as it was), a note for /checkpoint/N
# of another size, key or root.  Error statuses map to the documented exit
# codes.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/remote.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" remote
. "$here/serverlib.sh"
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
unset MLLEDGER_SERVER XDG_CACHE_HOME
export HOME=$W/home # the default mirror lives under it (~/.cache: made by the client)
mkdir "$HOME"
ORIGIN=test.example/remote
L=$W/a.db

# copy SRC DST: a ledger file and its log key, taken while no server runs
copy() { cp "$1" "$2" && cp "$1.log.key" "$2.log.key" &&
	{ [ ! -e "$1-wal" ] || cp "$1-wal" "$2-wal"; }; }
entries() { "$M" --ledger "$1" verify 2>/dev/null | sed -n 's/^ok: \([0-9]*\) entries.*/\1/p'; }

for k in admin ci val alice rita other; do "$M" key new $k >/dev/null 2>&1 || exit 1; done
{ "$M" --ledger "$L" init --key admin.key --origin "$ORIGIN" &&
	"$M" --ledger "$L" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key &&
	"$M" --ledger "$L" key enroll val.pub --holder-key val.key --role validator --key admin.key &&
	"$M" --ledger "$L" key enroll alice.pub --holder-key alice.key --role approver --key admin.key &&
	"$M" --ledger "$L" key enroll rita.pub --holder-key rita.key --role risk-officer --key admin.key &&
	echo data >d.bin && echo model >m.bin &&
	"$M" --ledger "$L" record dataset d@1 --file d.bin --key ci.key &&
	"$M" --ledger "$L" record model m@1 --artifact m.bin --dataset d@1 --metric auc=0.9 --key ci.key &&
	"$M" --ledger "$L" policy record "$POL" --key rita.key &&
	for i in $(seq 1 600); do
		printf '{"kind":"dataset","subject":"bulk@%d","digest":"sha256:%064d"}\n' "$i" "$i"
	done >bulk.jsonl &&
	"$M" --ledger "$L" import bulk.jsonl --key ci.key &&
	"$M" --ledger "$L" log-key >log.pub; } >/dev/null 2>&1 ||
	{ nok setup "init failed"; finish; exit 1; }
R="--log-key log.pub"

# ---- 0. usage ----------------------------------------------------------------
expect 2 "--server without --log-key is refused" "log-key LOG.pub is needed" \
	"$M" checkpoint --server http://127.0.0.1:1
expect 2 "a file:// server URL is refused" "not an http\|http:// or https://" \
	"$M" checkpoint --server file:///etc/passwd $R
expect 5 "no server listening: exit 5 naming the URL" "127.0.0.1:1" \
	"$M" checkpoint --server http://127.0.0.1:1 $R

serve_start A "$L" || { nok "serve A" "did not start"; finish; exit 1; }
UA=$SERVE_URL

# ---- 1. checkpoint and state --------------------------------------------------
expect 0 "checkpoint --server: first use trusts and says so" "first use" \
	"$M" checkpoint --server "$UA" $R --state st
grep -q "^$ORIGIN\$" st && ok "the state holds the server's checkpoint" ||
	nok "state written" "$(head -c 200 st)"
MLLEDGER_SERVER=$UA expect 0 "MLLEDGER_SERVER stands for --server" "$ORIGIN" \
	"$M" checkpoint $R --state st
MLLEDGER_SERVER=http://127.0.0.1:1 expect 0 "an explicit --ledger outranks MLLEDGER_SERVER" \
	"$ORIGIN" "$M" --ledger "$L" checkpoint

# a trust policy instead of the key: its log is picked by the origin
"$M" key new w1 >/dev/null 2>&1
printf 'log %s\nquorum none\n' "$(cat log.pub)" >trust.policy
printf 'log %s\nwitness w1 %s\nquorum w1\n' "$(cat log.pub)" \
	"$("$M" witness-key --key w1.key)" >witnessed.policy
printf 'log %s\nquorum none\n' "$("$M" key new stranger >/dev/null 2>&1; cut -d' ' -f1 stranger.pub)" \
	>stranger.policy
expect 0 "checkpoint --trust POLICY pins the policy's log" "$ORIGIN" \
	"$M" checkpoint --server "$UA" --trust trust.policy --state st
expect 4 "a checkpoint without the policy's quorum of cosignatures is refused" \
	"trust policy" "$M" checkpoint --server "$UA" --trust witnessed.policy
expect 4 "a policy that does not name the server's log is refused" "does not name" \
	"$M" checkpoint --server "$UA" --trust stranger.policy
expect 2 "verify --server --trust is refused (verify's --trust is for held checkpoints)" \
	"not with --server" "$M" verify --server "$UA" --trust trust.policy

# ---- 2. submit, retries ---------------------------------------------------------
"$M" --ledger "$L" sign evaluation m@1 --metric auc=0.9 --key val.key --out ev.json >/dev/null 2>&1
expect 0 "submit --server appends and checks the proof" "^[0-9]* sha256:" \
	"$M" submit --server "$UA" $R --state st ev.json
first=$(cat out)
expect 0 "a retry answers the same entry" "already recorded" \
	"$M" submit --server "$UA" $R --state st ev.json
[ "$(cat out)" = "$first" ] && ok "the retry has the same index and leaf hash" ||
	nok "retry index" "$first vs $(cat out)"
expect 0 "submit --trust POLICY: the proof is checked against the policy's log" \
	"already recorded" "$M" submit --server "$UA" --trust trust.policy ev.json
seq=${first%% *}
"$M" --ledger "$L" show "$seq" --format raw >leaf.bin 2>/dev/null &&
	[ "sha256:$( (printf '\0'; cat leaf.bin) | sha256sum | cut -c1-64)" = "${first#* }" ] &&
	ok "the server's ledger holds that entry with that leaf hash" ||
	nok "entry on the server" "seq $seq"
printf 'not an envelope' >junk.json
expect 2 "a malformed envelope: 400, exit 2, the server's line" "submit: junk.json: " \
	"$M" submit --server "$UA" $R junk.json
"$M" --ledger "$W/none.db" sign dataset z@1 --digest "sha256:$(printf %064d 7)" \
	--key other.key --origin "$ORIGIN" --out unknown.json >/dev/null 2>&1
expect 6 "an envelope by a key not enrolled: 403, exit 6" "" \
	"$M" submit --server "$UA" $R unknown.json

# parallel clients sharing one state file: a proof's checkpoint may be older
# than the state another process just wrote (then it must be a prefix of it)
for i in 1 2 3 4 5 6 7 8; do
	"$M" --ledger "$L" sign dataset par@$i --digest "sha256:$(printf %064d $((i + 100)))" \
		--key ci.key --out par$i.json >/dev/null 2>&1
done
pids=""
for i in 1 2 3 4 5 6 7 8; do
	"$M" submit --server "$UA" $R --state shared par$i.json >par$i.out 2>par$i.err &
	pids="$pids $!"
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
[ "$bad" = 0 ] && ok "8 parallel submits sharing a state file all verify" ||
	nok "parallel submits" "$bad failed: $(cat par*.err | grep -v 'state\|first use' | head -c 300)"
expect 0 "the shared state ends consistent with the server" "" \
	"$M" checkpoint --server "$UA" $R --state shared

# ---- 3. record, gate, mirror, verify, export -----------------------------------
expect 0 "record --server signs here and posts" "^[0-9]* sha256:" \
	"$M" record approval m@1 --env staging --decision approve --key alice.key \
	--server "$UA" $R --state st --mirror mirror.db
expect 0 "mirror --server copies the ledger" "mirror.db: " \
	"$M" mirror --server "$UA" $R --state st --out mirror.db
[ "$(entries mirror.db)" = "$(entries "$L")" ] && [ "$(entries mirror.db)" -gt 600 ] &&
	ok "the mirror verifies with the server's entries (three entry bundles)" ||
	nok "mirror verify" "$(entries mirror.db) vs $(entries "$L")"
"$M" --ledger "$L" gate --policy production m@1 --env staging --no-record >gl.out 2>&1
glrc=$?
"$M" gate --server "$UA" $R --mirror mirror.db --policy production m@1 --env staging \
	--no-record >gr.out 2>&1
grrc=$?
[ "$glrc" = "$grrc" ] && cmp -s gl.out gr.out && ok "gate on the mirror = gate on the server's ledger" ||
	nok "gate same" "exit $glrc vs $grrc: $(diff gl.out gr.out | head -c 300)"
n0=$("$M" --ledger "$L" log --kind gate 2>/dev/null | wc -l)
"$M" gate --server "$UA" $R --state st --policy production m@1 --env staging --key ci.key \
	>/dev/null 2>gate.err
n1=$("$M" --ledger "$L" log --kind gate 2>/dev/null | wc -l)
[ "$n1" = $((n0 + 1)) ] && grep -q "decision recorded at seq" gate.err &&
	ok "gate --server --key: the decision is on the server" ||
	nok "gate decision" "$n0 -> $n1: $(head -c 300 gate.err)"

# ---- 3b. a mirror holds the checkpoints its gate decisions name ------------------
# A gate decision records the SHA-256 of the checkpoint note of its size;
# tlog-tiles serves only the latest note, so mirror fetches /checkpoint/N.
for i in 1 2; do
	"$M" record dataset gd@$i --digest "sha256:$(printf %064d $((i + 60)))" --key ci.key \
		--server "$UA" $R --state st --mirror mirror.db >/dev/null 2>&1
	"$M" gate --server "$UA" $R --state st --mirror mirror.db --policy production m@1 \
		--env staging --key ci.key >/dev/null 2>&1
done
# decsizes LEDGER: the sizes its gate decisions name, one a line
decsizes() {
	local q
	for q in $("$M" --ledger "$1" log --kind gate --format json 2>/dev/null |
		grep -o '"seq": *[0-9]*' | grep -o '[0-9]*$'); do
		"$M" --ledger "$1" show "$q" --format json 2>/dev/null | tr -d ' \n' |
			grep -o '"ledger":{[^}]*}' | grep -o '"size":[0-9]*' | grep -o '[0-9]*$'
	done | sort -un
}
decsizes "$L" >dec.sizes
[ "$(wc -l <dec.sizes)" -ge 3 ] && ok "gate decisions at $(wc -l <dec.sizes) sizes" ||
	nok "gate decisions at several sizes" "$(tr '\n' ' ' <dec.sizes)"
expect 0 "mirror copies a ledger with gate decisions" "dec.db: " \
	"$M" mirror --server "$UA" $R --out dec.db
same=1
for n in $(cat dec.sizes); do
	"$M" --ledger "$L" checkpoint --size "$n" >n.server 2>/dev/null
	"$M" --ledger dec.db checkpoint --size "$n" >n.mirror 2>/dev/null
	[ -s n.server ] && cmp -s n.server n.mirror || { same=0; break; }
done
[ $same = 1 ] && ok "the mirror holds the server's note of each size a decision names" ||
	nok "notes in the mirror" "size $n: $(head -c 200 n.mirror)"
expect 0 "verify --decisions on the mirror replays every gate decision" "" \
	"$M" --ledger dec.db verify --decisions
expect 0 "verify --decisions on a mirror brought up step by step" "" \
	"$M" --ledger mirror.db verify --decisions
if [ -n "$PY" ]; then
	# what mirrors held before: only the notes of the sizes copied to
	cp dec.db gap.db
	"$PY" - gap.db $(head -1 dec.sizes) <<'EOF2'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
t = c.execute("SELECT sql FROM sqlite_master WHERE name = 'checkpoints_append_only_d'").fetchone()[0]
c.execute("DROP TRIGGER checkpoints_append_only_d")
c.execute("DELETE FROM checkpoints WHERE size = ?", (int(sys.argv[2]),))
c.execute(t)
c.commit()
EOF2
	expect 4 "without the note a decision names, its replay fails" \
		"no signed checkpoint of size $(head -1 dec.sizes)" \
		"$M" --ledger gap.db verify --decisions
fi
cp dec.db lag.db # a mirror behind: 6. lies to it about later decisions' notes

expect 0 "verify --server mirrors and verifies" "entries intact" \
	"$M" verify --server "$UA" $R --state st --mirror mirror.db
expect 0 "verify --server with the default mirror (~/.cache)" "entries intact" \
	"$M" verify --server "$UA" $R
ls "$HOME/.cache/mlledger/"*.db >/dev/null 2>&1 && ok "the default mirror is under ~/.cache/mlledger" ||
	nok "default mirror" "$(ls -R "$HOME" 2>&1 | head -c 200)"
"$M" --ledger "$L" log --kind approval >ll.out 2>/dev/null
"$M" log --server "$UA" $R --mirror mirror.db --kind approval >lr.out 2>/dev/null &&
	cmp -s ll.out lr.out && [ -s ll.out ] && ok "log --server = log on the server's ledger" ||
	nok "log --server" "$(diff ll.out lr.out | head -c 300)"
"$M" prove --server "$UA" $R --mirror mirror.db "$seq" >p.proof 2>/dev/null &&
	"$M" show --server "$UA" $R --mirror mirror.db "$seq" --format raw >p.leaf 2>/dev/null
expect 0 "prove and show --server give a proof that verifies offline" "entry $seq" \
	"$M" verify-proof $R p.proof p.leaf
for i in 1 2 3; do
	printf '{"kind":"dataset","subject":"imp@%d","digest":"sha256:%064d","idempotencyKey":"imp-%d"}\n' \
		"$i" "$i" "$i"
done >imp.jsonl
printf '{"kind":"model","subject":"impm@1","digest":"sha256:%064d","datasets":["imp@3"],"idempotencyKey":"impm"}\n' 7 \
	>>imp.jsonl
expect 0 "import --server posts every line, a later one naming an earlier one" "^4 entries" \
	"$M" import imp.jsonl --key ci.key --server "$UA" $R --state st --mirror mirror.db
# the same requests at another author time: retries by their idempotency keys,
# answered with the entries held (other bytes than those posted)
sed 's/^{/{"time":"2026-01-02T03:04:05Z",/' imp.jsonl >imp2.jsonl
expect 0 "importing it again appends nothing (idempotency keys, other times)" \
	"0 entries, 4 already" \
	"$M" import imp2.jsonl --key ci.key --server "$UA" $R --state st --mirror mirror.db
"$M" --ledger "$L" log --subject impm@1 2>/dev/null | grep -q impm &&
	ok "the imported lines are on the server" || nok "import on server" "impm@1 missing"
printf '{"kind":"model","subject":"impm@2","digest":"sha256:%064d","datasets":["nope@1"]}\n' 8 >bad.jsonl
expect 2 "a refused line stops import --server, naming it" "bad.jsonl:1: unknown dataset" \
	"$M" import bad.jsonl --key ci.key --server "$UA" $R --mirror mirror.db
"$M" record dataset idem@1 --digest "sha256:$(printf %064d 11)" --idempotency-key k1 \
	--key ci.key --server "$UA" $R --mirror mirror.db >/dev/null 2>&1
expect 7 "an idempotency key naming other content: 409, exit 7" "conflict: idempotency key" \
	"$M" record dataset idem@2 --digest "sha256:$(printf %064d 12)" --idempotency-key k1 \
	--key ci.key --server "$UA" $R --mirror mirror.db
"$M" key new newbie >/dev/null 2>&1
expect 0 "key enroll --server: signed by the admin here, posted" "^[0-9]* sha256:" \
	"$M" key enroll newbie.pub --holder-key newbie.key --role engineer --key admin.key \
	--server "$UA" $R --mirror mirror.db
expect 0 "key revoke --server" "^[0-9]* sha256:" \
	"$M" key revoke newbie --reason "left" --key admin.key --server "$UA" $R --mirror mirror.db
"$M" --ledger "$L" key list --format json 2>/dev/null | grep '"name":"newbie"' |
	grep -q '"revokedSeq":[0-9]' &&
	ok "the enrolment and revocation are on the server" ||
	nok "key on server" "$("$M" --ledger "$L" key list 2>&1 | grep newbie)"
expect 0 "governance set --server" "^[0-9]* sha256:" \
	"$M" governance set "$UNGATED" --key admin.key --server "$UA" $R --mirror mirror.db
expect 0 "policy record --server" "recorded at seq" \
	"$M" policy record "$POL" --param min-approvers=1 --key rita.key --server "$UA" $R \
	--mirror mirror.db
expect 6 "policy record --server by a role that may not: 403, exit 6" "" \
	"$M" policy record "$POL" --param min-approvers=3 --key ci.key --server "$UA" $R \
	--mirror mirror.db
expect 0 "export --server exports the mirror" "MANIFEST signed" \
	"$M" export --server "$UA" $R --mirror mirror.db --out bundle --key admin.key
expect 0 "the exported bundle verifies against the pinned key" "entries intact" \
	"$M" verify --bundle bundle $R
expect 6 "the mirror holds no log key: appends to it are refused" "log key" \
	"$M" --ledger mirror.db record dataset d@2 --file d.bin --key ci.key
expect 2 "mirror --out a ledger with its log key is refused" "not a mirror" \
	"$M" mirror --server "$UA" $R --out "$L"

# ---- 4. rollback, fork, another key --------------------------------------------
serve_stop A
copy "$L" old.db
n_old=$(entries old.db)
serve_start A "$L" || { nok "serve A again" "did not start"; finish; exit 1; }
UA=$SERVE_URL
"$M" record dataset d@2 --file d.bin --key ci.key --server "$UA" $R --mirror mirror.db >/dev/null 2>&1
"$M" record dataset d@3 --file d.bin --key ci.key --server "$UA" $R --mirror mirror.db >/dev/null 2>&1
expect 0 "the state moves up with a consistency proof" "moved to size" \
	"$M" checkpoint --server "$UA" $R --state st
cp st st.held
serve_stop A
serve_start B old.db || { nok "serve B" "did not start"; finish; exit 1; }
UB=$SERVE_URL
expect 4 "a server rolled back to an older copy is refused" "rollback" \
	"$M" checkpoint --server "$UB" $R --state st
cmp -s st st.held && ok "the state is unchanged after the refusal" || nok "state kept" "changed"
expect 4 "mirror --state of a rolled-back server is refused" "rollback" \
	"$M" mirror --server "$UB" $R --state st --out mirror2.db
[ ! -e mirror2.db ] && ok "no mirror is left behind" || nok "mirror2" "exists"
# the old copy grows another history to the held size, and beyond
"$M" record dataset x@1 --digest "sha256:$(printf %064d 1)" --key ci.key --server "$UB" $R \
	--mirror fork.db >/dev/null 2>&1
"$M" record dataset x@2 --digest "sha256:$(printf %064d 2)" --key ci.key --server "$UB" $R \
	--mirror fork.db >/dev/null 2>&1
[ "$(entries old.db)" = $((n_old + 2)) ] || nok "fork setup" "$(entries old.db) entries"
expect 4 "another root at the held size is a fork" "forked" \
	"$M" checkpoint --server "$UB" $R --state st
"$M" record dataset x@3 --digest "sha256:$(printf %064d 3)" --key ci.key --server "$UB" $R \
	--mirror fork.db >/dev/null 2>&1
expect 4 "a larger forked tree fails its consistency proof" "consistency proof" \
	"$M" checkpoint --server "$UB" $R --state st
"$M" --ledger old.db sign dataset x@9 --digest "sha256:$(printf %064d 9)" --key ci.key \
	--out x9.json >/dev/null 2>&1
expect 4 "submit to the forked server: its proof is refused against the state" "" \
	"$M" submit --server "$UB" $R --state st x9.json
cmp -s st st.held && ok "the state is still the one held" || nok "state kept" "changed"
n_m=$(entries mirror.db)
expect 4 "a mirror of the real log refuses the fork, without a state file" "" \
	"$M" mirror --server "$UB" $R --out mirror.db
[ "$(entries mirror.db)" = "$n_m" ] && ok "the mirror is unchanged by the fork" ||
	nok "mirror after fork" "$(entries mirror.db) entries, was $n_m"
serve_stop B

# another log under the same origin name
O=$W/other.db
{ "$M" --ledger "$O" init --key admin.key --origin "$ORIGIN" &&
	"$M" --ledger "$O" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key; } \
	>/dev/null 2>&1 || nok "other ledger" "init failed"
serve_start C "$O" || { nok "serve C" "did not start"; finish; exit 1; }
UC=$SERVE_URL
expect 4 "a checkpoint signed by another log key is refused" "not signed\|another log" \
	"$M" checkpoint --server "$UC" $R
"$M" --ledger "$O" sign dataset y@1 --digest "sha256:$(printf %064d 5)" --key ci.key \
	--out y1.json >/dev/null 2>&1
expect 4 "a proof whose checkpoint another key signed is refused" "not signed" \
	"$M" submit --server "$UC" $R y1.json
expect 4 "mirror of another log's server is refused" "" \
	"$M" mirror --server "$UC" $R --out mirror3.db
serve_stop C

# ---- 5. a server whose ledger was edited in SQLite ------------------------------
if [ -n "$PY" ]; then
	copy "$L" tam.db
	n_m=$(entries mirror.db)
	"$M" --ledger tam.db record dataset t@1 --file d.bin --key ci.key >/dev/null 2>&1
	last=$(( $(entries tam.db) - 1 ))
	# with a store of record: tam.db, still intact, becomes its working copy
	serve_store_attach tam.db || nok "tam.db into the store" "$(tail -2 migrate.log)"
	"$PY" - tam.db "$last" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); s = int(sys.argv[2])
c.execute("DROP TRIGGER entries_append_only_u")
c.execute("UPDATE entries SET envelope = (SELECT envelope FROM entries WHERE seq = ?) WHERE seq = ?", (s - 1, s))
c.commit()
EOF
	serve_start D tam.db || { nok "serve D" "did not start"; finish; exit 1; }
	UD=$SERVE_URL
	expect 4 "a fresh mirror of an edited ledger is refused" "entry $last" \
		"$M" mirror --server "$UD" $R --out tam-mirror.db
	[ ! -e tam-mirror.db ] && ok "the refused fresh mirror is removed" || nok "tam-mirror" "exists"
	expect 4 "an existing mirror refuses the edited entry" "entry $last" \
		"$M" mirror --server "$UD" $R --out mirror.db
	[ "$(entries mirror.db)" = "$n_m" ] && ok "the mirror stays as it was ($n_m entries)" ||
		nok "mirror intact" "$(entries mirror.db) entries, was $n_m"
	serve_stop D
else
	skip "edited ledger" "no python3"
fi

# ---- 6. a hostile server (tests/cli/hostile_proxy.py lies in front of A) ----------
PROXY_PIDS=""
trap 'for p in $PROXY_PIDS; do kill "$p" 2>/dev/null; done; serve_stop_all; cd / && rm -rf "$W"' EXIT
# proxy MODE: starts the lying proxy in front of $UA, sets UP (its URL)
proxy() {
	local i
	rm -f "$W/proxy.url"
	"$PY" "$here/hostile_proxy.py" "$UA" "$1" "$W/proxy.url" 2>"$W/proxy.log" &
	PROXY_PIDS="$PROXY_PIDS $!"
	PROXY=$!
	for i in $(seq 1 100); do
		[ -s "$W/proxy.url" ] && { UP=$(cat "$W/proxy.url"); return 0; }
		sleep 0.1
	done
	return 1
}
unproxy() { kill "$PROXY" 2>/dev/null; wait "$PROXY" 2>/dev/null; }
[ -n "$PY" ] && copy "$L" fork2.db # the same log key, another history from here
if [ -n "$PY" ] && serve_start A "$L"; then
	UA=$SERVE_URL
	for mode in ckpt-latest ckpt-bad-sig; do
		proxy $mode || { nok "proxy $mode" "did not start"; continue; }
		rm -f h.db
		expect 4 "a mirror refuses a wrong answer to /checkpoint/N ($mode)" \
			"checkpoint" "$M" mirror --server "$UP" $R --out h.db
		[ ! -e h.db ] && ok "nothing is kept ($mode)" || nok "$mode copy" "h.db exists"
		unproxy
	done
	# withheld (or a server before the route): copied, the replay says so
	proxy ckpt-missing && {
		rm -f h.db
		expect 0 "a 404 for /checkpoint/N does not stop the mirror" "h.db: " \
			"$M" mirror --server "$UP" $R --out h.db
		expect 4 "... and verify --decisions names the note it lacks" \
			"no signed checkpoint of size" "$M" --ledger h.db verify --decisions
		unproxy
	}
	# a decision at a size where the fork has another root
	"$M" record dataset fk@1 --digest "sha256:$(printf %064d 71)" --key ci.key \
		--server "$UA" $R --mirror mirror.db >/dev/null 2>&1
	"$M" gate --server "$UA" $R --mirror mirror.db --policy production m@1 --env staging \
		--key ci.key >/dev/null 2>&1
	if serve_start F fork2.db; then
		"$M" record dataset fk@2 --digest "sha256:$(printf %064d 72)" --key ci.key \
			--server "$SERVE_URL" $R --mirror fork2-mirror.db >/dev/null 2>&1
		export HOSTILE_UPSTREAM2=$SERVE_URL
		n_m=$(entries lag.db)
		c_m=$("$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
			"SELECT count(*) FROM checkpoints").fetchone()[0])' lag.db)
		proxy ckpt-fork && {
			expect 4 "a note of another root at a decision's size is refused" \
				"not the tree" "$M" mirror --server "$UP" $R --out lag.db
			unproxy
		}
		[ "$(entries lag.db)" = "$n_m" ] && [ "$("$PY" -c 'import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM checkpoints").fetchone()[0])' \
			lag.db)" = "$c_m" ] && ok "the mirror is unchanged by the forked note" ||
			nok "lag.db after fork note" "$(entries lag.db) entries, was $n_m"
		serve_stop F
	else
		nok "serve F" "did not start"
	fi
	for mode in tile-short bundle-extra bundle-swap; do
		proxy $mode || { nok "proxy $mode" "did not start"; continue; }
		rm -f h.db
		expect 4 "a mirror refuses a server whose tiles lie ($mode)" "" \
			"$M" mirror --server "$UP" $R --out h.db
		[ ! -e h.db ] && ok "nothing is kept of the lying server's copy ($mode)" ||
			nok "$mode copy" "h.db exists"
		unproxy
	done
	proxy time-back && {
		rm -f h.db
		expect 4 "a mirror refuses an entry dated before the one before it" \
			"append time goes backwards" "$M" mirror --server "$UP" $R --out h.db
		unproxy
	}
	n=0
	for mode in extra-short index-shift; do
		n=$((n + 1))
		"$M" --ledger "$L" sign dataset h@$n --digest "sha256:$(printf %064d $((n + 40)))" \
			--key ci.key --out h$n.json >/dev/null 2>&1
		proxy $mode || { nok "proxy $mode" "did not start"; continue; }
		expect 4 "submit refuses an answer whose proof lies ($mode)" "proof" \
			"$M" submit --server "$UP" $R h$n.json
		unproxy
	done
	"$M" checkpoint --server "$UA" $R --state sth >/dev/null 2>&1
	"$M" record dataset h@9 --file d.bin --key ci.key --server "$UA" $R --mirror mirror.db \
		>/dev/null 2>&1
	"$M" --ledger "$L" sign dataset h@7 --digest "sha256:$(printf %064d 47)" --key ci.key \
		--out h7.json >/dev/null 2>&1
	export HOSTILE_BODY=$W/ev.json # an envelope the ledger holds
	proxy other-entry && {
		expect 4 "an 'existing' answer with an entry that is not this request is refused" \
			"does not repeat this request" "$M" submit --server "$UP" $R h7.json
		unproxy
	}
	proxy no-consistency && {
		expect 4 "a server that will not prove consistency is refused" "consistency" \
			"$M" checkpoint --server "$UP" $R --state sth
		unproxy
	}
	proxy huge-checkpoint && {
		expect 5 "an answer larger than its limit is an error, not read whole" "larger than" \
			"$M" checkpoint --server "$UP" $R
		unproxy
	}
	ln -s st st-link
	expect 2 "a --state that is a symbolic link is refused" "not a regular file\|symbolic" \
		"$M" checkpoint --server "$UA" $R --state st-link
	serve_stop A
else
	skip "hostile server" "no python3 or no server"
fi

# ---- 7. https --------------------------------------------------------------------
if command -v openssl >/dev/null 2>&1 &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout tls.key -out tls.crt >/dev/null 2>&1 &&
	serve_start T "$L" --tls-cert tls.crt --tls-key tls.key 2>/dev/null; then
	UT=$SERVE_URL
	expect 5 "https: a certificate no CA vouches for is refused" "$UT" \
		"$M" checkpoint --server "$UT" $R
	MLLEDGER_CA_FILE=$W/tls.crt expect 0 "https: MLLEDGER_CA_FILE names the CA to trust" \
		"$ORIGIN" "$M" checkpoint --server "$UT" $R --state st
	MLLEDGER_CA_FILE=$W/tls.crt expect 0 "https: mirror and verify" "entries intact" \
		"$M" verify --server "$UT" $R --mirror mirror.db
	MLLEDGER_CA_FILE=$W/none.pem expect 2 "https: a missing MLLEDGER_CA_FILE is an error" \
		"MLLEDGER_CA_FILE" "$M" checkpoint --server "$UT" $R
	serve_stop T
else
	skip "https" "no openssl CLI, or a libmicrohttpd without TLS"
fi

finish

#!/bin/sh
# tests/cli/decisions.sh — gate decisions anyone can replay, attacked.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/decisions.sh
#
# Each finding of "Gate decisions anyone can replay" is a case that got a
# PASS recorded (or a deployment appended) before and must now be refused,
# denied or caught by replay: --as-of, --phase, --param and draft policy
# files with --key; a FAILED decision flipped to PASSED and re-signed (by
# submit, and by a forger with the database and the log key); a decision
# made on a stale checkpoint; deployments to prod without a passing,
# recent decision for the same digest.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/decisions.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" dec
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
HAVE_FORGE=
[ -n "$PY" ] && "$PY" -c 'import sqlite3, nacl.signing' >/dev/null 2>&1 && HAVE_FORGE=1
# faketime must really move this binary's clock.
HAVE_FT=
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
if command -v faketime >/dev/null 2>&1 &&
	[ "$(faketime -f '+10y' date -u +%Y 2>/dev/null)" -gt "$(($(date -u +%Y) + 5))" ] 2>/dev/null; then
	HAVE_FT=1
fi
size() { "$M" verify 2>/dev/null | sed -n 's/^ok: \([0-9]*\) entries.*/\1/p'; }
# envelope SEQ: the canonical envelope bytes of entry SEQ
envelope() {
	"$M" show "$1" --format json | "$PY" -c 'import json,sys
print(json.dumps(json.load(sys.stdin)["envelope"], sort_keys=True, separators=(",", ":")))'
}
# flip ENVFILE KEYFILE: the statement with FAILED turned PASSED, re-signed
flip() {
	"$PY" -c 'import base64,json,sys
st = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))
p = st["predicate"]
p["verificationResult"] = "PASSED"
p["verifiedLevels"] = ["MLLEDGER_POLICY:production@1.1.0"]
sys.stdout.write(json.dumps(st, separators=(",", ":")))' "$1" |
		"$PY" "$here/forge.py" sign-envelope "$2"
}

export MLLEDGER_LEDGER=$W/l.db
for k in admin ci alice bob val rita; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null || exit 1
"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null
"$M" key enroll alice.pub --holder-key alice.key --role approver --key admin.key >/dev/null
"$M" key enroll bob.pub --holder-key bob.key --role approver --key admin.key >/dev/null
"$M" key enroll val.pub --holder-key val.key --role validator --key admin.key >/dev/null
"$M" key enroll rita.pub --holder-key rita.key --role risk-officer --key admin.key >/dev/null
echo data >d.bin
echo model-1 >m1.bin
echo model-2 >m2.bin
"$M" record dataset d@1 --file d.bin --set license=MIT --set pii=false --key ci.key >/dev/null
"$M" record model m@1 --artifact m1.bin --dataset d@1 --metric auc=0.9 --key ci.key >/dev/null
"$M" record evaluation m@1 --metric auc=0.9 --key val.key >/dev/null
"$M" record model m@2 --artifact m2.bin --dataset d@1 --metric auc=0.9 --key ci.key >/dev/null
"$M" record evaluation m@2 --metric auc=0.9 --key val.key >/dev/null
"$M" record approval m@2 --env prod --decision approve --key alice.key >/dev/null

# 1. Policies are recorded by a role the governance allows.
expect 6 "an engineer may not record a policy" "may not sign policy" \
	"$M" policy record "$POL" --key ci.key
expect 2 "a policy param the policy does not declare is refused" "no such param" \
	"$M" policy record "$POL" --param no-such=1 --key rita.key
expect 0 "a risk officer records the production policy" "recorded at seq" \
	"$M" policy record "$POL" --key rita.key
expect 2 "a version once recorded keeps its bytes" "immutable" \
	bash -c "sed 's/min-approvers\" type=\"number\" default=\"2\"/min-approvers\" type=\"number\" default=\"1\"/' '$POL' >p1.xml && cmp -s '$POL' p1.xml && exit 9; '$M' policy record p1.xml --key rita.key"

# 2. Deployments to prod need a passing decision.
expect 1 "record deployment --env prod without a decision is refused" \
	"needs a passing gate decision under production" \
	"$M" record deployment m@1 --env prod --key ci.key
expect 0 "a deployment to staging needs none" "" \
	"$M" record deployment m@1 --env staging --key ci.key

# 3. The tricks that recorded a PASS before are refused with --key.
n0=$(size)
expect 2 "--as-of with --key is refused" "cannot be used with --key" \
	"$M" gate --policy production m@1 --env prod --as-of 2027-01-05 --key ci.key
expect 2 "--phase audit with --key is refused" "cannot be used with --key" \
	"$M" gate --policy production m@1 --env prod --phase audit --key ci.key
expect 2 "--param min-approvers=0 with --key is refused" "cannot be used with --key" \
	"$M" gate --policy production m@1 --env prod --param min-approvers=0 --key ci.key
expect 2 "a draft policy file with --key is refused" "needs a recorded policy" \
	"$M" gate --policy "$POL" m@1 --env prod --key ci.key
expect 2 "--policy naming no recorded policy is refused" "no such policy is recorded" \
	"$M" gate --policy productoin m@1 --env prod --key ci.key
cp "$POL" mypolicy
expect 2 "a bare name that is a file but no recorded policy says how to name the file" \
	"write ./mypolicy" "$M" gate --policy mypolicy m@1 --env prod --no-record
[ "$n0" = "$(size)" ] && [ -n "$n0" ] && ok "nothing was recorded by the refused gates" ||
	nok "nothing was recorded by the refused gates" "size $n0"
expect 0 "--param without --key still evaluates a draft" "PASS" \
	"$M" gate --policy production m@1 --env prod --param min-approvers=0 --no-record

# 4. A real FAILED decision (one approval) is recorded; a deployment does
#    not pass on it.
expect 1 "gate --key records a FAILED decision (one approval)" "approvals" \
	"$M" gate --policy production m@2 --env prod --key ci.key
failed_seq=$(($(size) - 1))
expect 1 "a FAILED decision lets no deployment through" "the latest gate decision" \
	"$M" record deployment m@2 --env prod --key ci.key

if [ -n "$HAVE_FORGE" ]; then
	envelope "$failed_seq" >failed.json
	flip failed.json ci.key >flipped.json
	n1=$(size)
	expect 4 "submit of a flipped FAILED->PASSED decision is refused by replay" \
		"recorded PASSED, replayed FAILED" "$M" submit flipped.json
	[ "$(size)" = "$n1" ] && ok "the refused decision was not appended" ||
		nok "the refused decision was not appended" "size $n1 -> $(size)"
	# A forger with the database file and the log key puts the flipped
	# decision in place of the real one and rebuilds chain, tree and
	# checkpoints: verify cannot tell, replay can.
	cp l.db forged.db
	cp l.db.log.key forged.db.log.key
	"$PY" "$here/forge.py" replace forged.db "$failed_seq" <flipped.json &&
		"$PY" "$here/forge.py" rebuild forged.db chain tree sign=l.db.log.key
	expect 0 "a forged PASS with a rebuilt ledger passes a plain verify" "entries intact" \
		"$M" verify --ledger forged.db
	expect 4 "verify --decisions names the forged decision" \
		"entry $failed_seq: the gate decision for m@2 does not replay" \
		"$M" verify --decisions --ledger forged.db
else
	echo "ok - # SKIP forgeries: python3 with PyNaCl is missing"
fi

# 5. A second approval, a passing decision, the deployment.
"$M" record approval m@2 --env prod --decision approve --key bob.key >/dev/null
expect 0 "gate --key records a PASSED decision" "recorded at seq" \
	"$M" gate --policy production m@2 --env prod --key ci.key
passed_seq=$(($(size) - 1))
expect 0 "record deployment --env prod after the passing decision" "" \
	"$M" record deployment m@2 --env prod --key ci.key
expect 0 "verify --decisions replays every recorded decision" "2 gate decisions replayed" \
	"$M" verify --decisions
expect 0 "the decision binds phase-less evaluation, parameters and evidence" "" \
	bash -c "'$M' show $passed_seq --format json | '$PY' -c 'import base64,json,sys
p = json.loads(base64.b64decode(json.load(sys.stdin)[\"envelope\"][\"payload\"]))[\"predicate\"]
assert \"phase\" not in p, p
assert p[\"parameters\"][\"production\"][\"min-approvers\"] == \"2\", p[\"parameters\"]
assert p[\"evidence\"][\"name\"] == \"evidence\"
assert p[\"policies\"][0][\"uri\"].startswith(\"mlledger:seq/\")
assert p[\"verificationResult\"] == \"PASSED\"'"

# A decision is good for maxAge (24 h by default), not forever.
if [ -n "$HAVE_FT" ]; then
	expect 1 "a day later the same decision no longer admits a deployment" \
		"in the last 24 hours" faketime -f '+25h' "$M" record deployment m@2 --env prod \
		--key ci.key
fi
# A decision that names a draft file (no recorded policy) cannot be
# submitted: it cannot be replayed.
if [ -n "$HAVE_FORGE" ]; then
	envelope "$passed_seq" | "$PY" -c 'import base64,json,sys
st = json.loads(base64.b64decode(json.load(sys.stdin)["payload"]))
for d in st["predicate"]["policies"]:
    del d["uri"]
st["predicate"]["policy"] = st["predicate"]["policies"][0]
sys.stdout.write(json.dumps(st, separators=(",", ":")))' | "$PY" "$here/forge.py" sign-envelope ci.key >draft.json
	expect 4 "a decision on a draft policy file is not appended" "cannot be replayed" \
		"$M" submit draft.json
fi

# 6. The decision is for one digest and one environment.
expect 0 "a staging deployment of another version" "" \
	"$M" record deployment m@1 --env staging --key ci.key
expect 1 "the PASS for m@2 does not let m@1 into prod" "needs a passing gate decision" \
	"$M" record deployment m@1 --env prod --key ci.key

# Several candidates: one checkpoint, one transaction, the worst exit code.
n2=$(size)
printf 'm@2\n\nm@1\n' >subjects.txt
expect 1 "two candidates, one denied: exit 1, both decisions recorded" "decision for m@1 recorded" \
	"$M" gate --policy production --subjects subjects.txt --env prod --key ci.key
[ "$(size)" = "$((n2 + 2))" ] && ok "two decisions appended" || nok "two decisions appended" "size $n2 -> $(size)"
expect 2 "several candidates are reported as text only" "text only" \
	"$M" gate --policy production m@1 m@2 --env prod --format json --no-record
expect 2 "an unknown candidate among several records nothing" "" \
	"$M" gate --policy production m@2 nope@1 --env prod --key ci.key
[ "$(size)" = "$((n2 + 2))" ] && ok "nothing appended for the failed run" || nok "nothing appended for the failed run" "size $(size)"

# 7. Recorded params are what gates bind: a stricter recorded policy
#    version denies what the shipped one passes.
sed 's/<policy \([^>]*\)version="[^"]*"/<policy \1version="1.0.1"/' "$POL" >strict.xml
if ! cmp -s "$POL" strict.xml; then
	expect 0 "the same policy recorded as 1.0.1 with min-approvers=3" "recorded at seq" \
		"$M" policy record strict.xml --param min-approvers=3 --key rita.key
	expect 1 "gate --policy production takes the latest recorded version" "approvals" \
		"$M" gate --policy production m@2 --env prod --no-record
	expect 0 "gate --policy production@1.1.0 takes that version" "PASS" \
		"$M" gate --policy production@1.1.0 m@2 --env prod --no-record
else
	nok "strict policy" "could not rewrite the version of $POL"
fi

# 8. A decision made on a stale checkpoint is refused.
if [ -n "$HAVE_FT" ] && [ -n "$HAVE_FORGE" ]; then
	cp l.db stale.db
	cp l.db.log.key stale.db.log.key
	"$M" record incident m@2 --severity critical --description "leak" --key ci.key >/dev/null
	# ten minutes later, a gate on the copy (which lacks the incident)
	expect 0 "a gate on a stale copy of the ledger passes there" "recorded at seq" \
		faketime -f '+10m' "$M" gate --policy production@1.1.0 m@2 --env prod \
		--key ci.key --ledger stale.db
	last=$(($(MLLEDGER_LEDGER=$W/stale.db size) - 1))
	MLLEDGER_LEDGER=$W/stale.db envelope "$last" >stale.json
	expect 2 "its decision submitted to the real ledger is refused as stale" "stale" \
		faketime -f '+10m' "$M" submit stale.json
else
	echo "ok - # SKIP stale checkpoint: faketime or python3 with PyNaCl is missing"
fi

# 8a. The newest decision decides: a FAILED one after an incident revokes
#     the earlier PASS, though that is younger than 24 hours.
"$M" record incident m@2 --severity critical --description "drift" --key ci.key >/dev/null
expect 1 "after an incident the gate fails (recorded)" "recorded at seq" \
	"$M" gate --policy production@1.1.0 m@2 --env prod --key ci.key
expect 1 "the earlier PASS no longer admits a deployment" "the latest gate decision" \
	"$M" record deployment m@2 --env prod --key ci.key

# 8c. verify --decisions on several threads still names the first forged
#     decision in seq order (40 decisions: two workers, contiguous ranges).
if [ -n "$HAVE_FORGE" ]; then
	: >bulk.jsonl
	: >bulk.txt
	for i in $(seq 1 40); do
		printf '{"kind":"model","subject":"bulk@%d","digest":"sha256:%064x"}\n' "$i" "$i" >>bulk.jsonl
		echo "bulk@$i" >>bulk.txt
	done
	cp l.db many.db && cp l.db.log.key many.db.log.key
	MLLEDGER_LEDGER=$W/many.db "$M" import bulk.jsonl --key ci.key >/dev/null &&
		MLLEDGER_LEDGER=$W/many.db "$M" gate --policy production --subjects bulk.txt --env prod \
			--key ci.key >/dev/null 2>gates.err
	first=$(sed -n 's/.*bulk@1 recorded at seq \([0-9]*\).*/\1/p' gates.err)
	if [ -n "$first" ]; then
		late=$((first + 30)) early=$((first + 5))
		MLLEDGER_LEDGER=$W/many.db envelope $late >late.json && flip late.json ci.key >late.flip &&
			MLLEDGER_LEDGER=$W/many.db envelope $early >early.json && flip early.json ci.key >early.flip &&
			"$PY" "$here/forge.py" replace many.db $late <late.flip &&
			"$PY" "$here/forge.py" replace many.db $early <early.flip &&
			"$PY" "$here/forge.py" rebuild many.db chain tree sign=many.db.log.key
		expect 4 "with two forged decisions, the first in seq order is named" \
			"entry $early: the gate decision for bulk@6 does not replay" \
			"$M" verify --decisions --jobs 2 --ledger many.db
		"$PY" "$here/forge.py" replace many.db $early <early.json &&
			"$PY" "$here/forge.py" rebuild many.db chain tree sign=many.db.log.key
		expect 4 "a forged decision in the second worker's range is named" \
			"entry $late: the gate decision for bulk@31 does not replay" \
			"$M" verify --decisions --jobs 2 --ledger many.db
	else
		nok "bulk decisions" "no decision for bulk@1 was recorded: $(head -c 300 gates.err)"
	fi
fi

# 8e. An edited projection: with the FAILED decision's entry_index row
#     deleted, an append finds the older PASS and admits the deployment;
#     verify rebuilds the index from the entries and names the edit (its
#     rule 12 reads the rebuilt index, so it would refuse the deployment too).
if [ -n "$HAVE_FORGE" ]; then
	cp l.db edited.db && cp l.db.log.key edited.db.log.key
	failed=$(MLLEDGER_LEDGER=$W/edited.db "$M" log --kind gate | awk 'NR > 1 && $4 == "m@2" { s = $1 } END { print s }')
	"$PY" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
trig = db.execute("SELECT name, sql FROM sqlite_master WHERE type = \"trigger\" AND tbl_name = \"entry_index\"").fetchall()
for name, _ in trig:
    db.execute("DROP TRIGGER \"%s\"" % name)
db.execute("DELETE FROM entry_index WHERE seq = ?", (int(sys.argv[2]),))
for _, sql in trig:
    db.execute(sql)
db.execute("COMMIT")' edited.db "$failed"
	expect 0 "with the FAILED decision's index row gone, an append admits the deployment" "" \
		env MLLEDGER_LEDGER="$W/edited.db" "$M" record deployment m@2 --env prod --key ci.key
	expect 4 "verify names the edited index row" "entry $failed: entry_index row differs" \
		"$M" verify --ledger edited.db
fi

# 8b. An auditor replays from the export alone.
"$M" log-key >log.pub
expect 0 "export for an auditor" "" "$M" export --out bundle --key ci.key
expect 0 "verify --bundle --decisions replays the exported decisions" "gate decisions replayed" \
	"$M" verify --bundle bundle --decisions --log-key log.pub
# A decision made on another ledger (another origin) is not appended here.
if [ -n "$HAVE_FORGE" ]; then
	mkdir other && (
		cd other && export MLLEDGER_LEDGER=$PWD/o.db &&
		"$M" init --key ../admin.key --origin other.example/ledger >/dev/null &&
		"$M" key enroll ../ci.pub --holder-key ../ci.key --role engineer --key ../admin.key >/dev/null &&
		"$M" key enroll ../rita.pub --holder-key ../rita.key --role risk-officer --key ../admin.key >/dev/null &&
		"$M" record dataset d@1 --file ../d.bin --set license=MIT --set pii=false --key ../ci.key >/dev/null &&
		"$M" record model m@2 --artifact ../m2.bin --dataset d@1 --key ../ci.key >/dev/null &&
		"$M" policy record "$POL" --key ../rita.key >/dev/null &&
		"$M" gate --policy production m@2 --env prod --key ../ci.key >/dev/null 2>&1
		n=$("$M" verify | sed -n 's/^ok: \([0-9]*\) entries.*/\1/p')
		envelope $((n - 1)) >../other.json
	)
	expect 4 "a decision made on another ledger is not appended" "another ledger" \
		"$M" submit other.json
fi

# 8d. A decision made on a host whose clock runs 10 minutes ahead is refused
#     when submitted (rule 8: made within 5 minutes of its append time).
if [ -n "$HAVE_FT" ] && [ -n "$HAVE_FORGE" ]; then
	cp l.db skew.db && cp l.db.log.key skew.db.log.key
	faketime -f '+10m' "$M" gate --policy production m@1 --env staging --key ci.key \
		--ledger skew.db >/dev/null 2>&1
	last=$(($(MLLEDGER_LEDGER=$W/skew.db size) - 1))
	MLLEDGER_LEDGER=$W/skew.db envelope "$last" >skew.json
	expect 2 "a decision from a clock 10 minutes ahead is refused" "more than 5 minutes from its append time" \
		"$M" submit skew.json
fi

# 9. Reports date recorded decisions.
if [ -n "$PY" ]; then
	"$M" report --from 2000-01-01 --to 2100-01-01 --format json --out r.json >/dev/null 2>&1
	expect 0 "reports show a recorded decision's time" "" \
		"$PY" -c 'import json,sys
def walk(x):
    if isinstance(x, dict):
        if x.get("result") in ("PASSED", "FAILED") and "time" in x:
            assert x["time"], x
            yield x
        for v in x.values():
            yield from walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from walk(v)
found = list(walk(json.load(open("r.json"))))
assert found, "no decision in the report"'
fi

finish

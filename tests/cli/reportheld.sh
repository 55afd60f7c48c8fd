#!/bin/sh
# tests/cli/reportheld.sh — reports name the outside anchors they were
# checked against (issue 17 item 1).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/reportheld.sh
#
# Each finding is a case that passed (or could not be asked) before: a
# report written against a held checkpoint of a fork or of another log; a
# report silent about its held checkpoints, their witnesses and the
# entries after the newest; a report that does not say nothing outside
# the ledger was checked; a signed report whose scope omits its anchors.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/reportheld.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" rph
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
REPO=$(cd "$here/../.." && pwd)

add() { "$M" --ledger "$1" record dataset "$2@1" --digest "sha256:$(printf '%s' "$2" | sha256sum | cut -c1-64)" \
	--key eng.key >/dev/null || echo "setup: record $2 in $1 failed" >&2; }
copydb() {
	rm -f "$2" "$2-wal" "$2-shm" "$2.log.key"
	cp "$1" "$2" && { [ ! -f "$1-wal" ] || cp "$1-wal" "$2-wal"; } && cp -p "$1.log.key" "$2.log.key"
}
# pyjson FILE EXPR: EXPR (python, r = the JSON of FILE) holds
pyjson() {
	"$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
i = r["integrity"]
assert eval(sys.argv[2]), (sys.argv[2], {k: i.get(k) for k in ("held", "notWitnessed", "heldStatement", "ok")})' "$1" "$2" 2>err.py
}
# check NAME FILE EXPR
check() { if pyjson "$2" "$3"; then ok "$1"; else nok "$1" "$(tail -1 err.py | head -c 400)"; fi; }
PERIOD="--from 2026-01-01 --to 2027-12-31"

L=$W/real.db
export MLLEDGER_LEDGER=$L
for k in admin eng w1 w2 auditor alice; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null || exit 1
"$M" key enroll eng.pub --holder-key eng.key --role engineer --key admin.key >/dev/null || exit 1
"$M" key enroll alice.pub --holder-key alice.key --role approver --person alice --name "Alice Martin" \
	--email alice@example.com --employee-id E-1042 --key admin.key >/dev/null || echo "setup: enroll alice failed" >&2
add "$L" d1
add "$L" d2
copydb "$L" "$W/fork.db"
add "$L" real-a
N=$("$M" checkpoint | sed -n 2p)
"$M" checkpoint >real.N
add "$L" real-b
add "$L" real-c
add "$W/fork.db" fork-a
"$M" --ledger "$W/fork.db" checkpoint >fork.N
"$M" log-key >log.pub
for w in w1 w2; do "$M" witness-key --key $w.key >$w.vkey; done
"$M" cosign --key w1.key --log-key log.pub --state w1.state --init real.N >real.N.w1 2>/dev/null ||
	echo "setup: cosign failed" >&2
printf 'log %s\nwitness w1 %s\nquorum w1\n' "$(cat log.pub)" "$(cat w1.vkey)" >trust1
printf 'log %s\nwitness w2 %s\nquorum w2\n' "$(cat log.pub)" "$(cat w2.vkey)" >trust2
# another log: its own log key and origin
"$M" --ledger "$W/other.db" init --key admin.key >/dev/null || exit 1
"$M" --ledger "$W/other.db" checkpoint >other.N
LAST=$((N + 1))

# ---- a report with a held, witnessed checkpoint ----------------------------
expect 0 "report --checkpoint --trust checks the held checkpoint and names its witness" \
	"ok: real.N.w1 (size $N) is a prefix of the ledger, witnessed by w1" \
	"$M" report $PERIOD --format json --out r.json --checkpoint real.N.w1 --trust trust1
check "integrity.held names the file, size, root and witness, checked" r.json \
	'len(i["held"]) == 1 and i["held"][0]["path"] == "real.N.w1" and i["held"][0]["size"] == '$N' and i["held"][0]["witnesses"] == ["w1"] and i["held"][0]["witnessesChecked"] is True and i["held"][0]["newestCosignature"].endswith("Z") and len(i["held"][0]["root"]) == 44'
check "integrity.notWitnessed names the entries after the newest witnessed checkpoint" r.json \
	'i["notWitnessed"] == {"from": '$N', "to": '$LAST', "afterSize": '$N'}'
check "integrity.heldStatement says it in words" r.json \
	'"witnessed by w1" in i["heldStatement"] and "Entries '$N' to '$LAST' are after the newest witnessed checkpoint (size '$N'): not witnessed." in i["heldStatement"]'
if [ -n "$PY" ] && [ -f r.json ]; then
	if "$PY" "$here/report_check.py" schema "$REPO/reports/report.schema.json" r.json >py.out 2>&1; then
		ok "the JSON report with held checkpoints validates against reports/report.schema.json"
	else
		nok "the JSON report with held checkpoints validates against reports/report.schema.json" "$(tail -3 py.out)"
	fi
else
	skip "the JSON report with held checkpoints validates against reports/report.schema.json" "no python3"
fi
expect 0 "a Markdown report with a held checkpoint" "" \
	"$M" report $PERIOD --format md --out r.md --checkpoint real.N.w1 --trust trust1
grep -q "Entries $N to $LAST are after the newest witnessed checkpoint (size $N): not witnessed" r.md &&
	grep -q "real\\\\.N\\\\.w1\|real\.N\.w1" r.md && grep -q "Checkpoints held outside the ledger" r.md &&
	ok "the Markdown integrity section names the checkpoint, its table and the unwitnessed entries" ||
	nok "the Markdown integrity section names the checkpoint, its table and the unwitnessed entries" "$(grep -i held r.md | head -5)"
grep -q "Held outside" r.md && ok "the Markdown scope (first part) has a Held outside line" ||
	nok "the Markdown scope (first part) has a Held outside line" "$(head -30 r.md)"
expect 0 "an HTML report with a held checkpoint" "" \
	"$M" report $PERIOD --format html --out r.html --checkpoint real.N.w1 --trust trust1
grep -q "witnessed by w1" r.html && grep -q "Entries $N to $LAST are after" r.html &&
	grep -q "Held outside" r.html &&
	ok "the HTML report names the witness, the unwitnessed entries and has the scope line" ||
	nok "the HTML report names the witness, the unwitnessed entries and has the scope line" "$(grep -o 'Checked against[^<]*' r.html | head -2)"

expect 0 "report --checkpoint without --trust lists cosignature lines as not checked" \
	"witnesses not checked" \
	"$M" report $PERIOD --format json --out rn.json --checkpoint real.N.w1
check "without --trust the witnesses are listed unchecked and the range says held" rn.json \
	'i["held"][0]["witnesses"] == ["w1"] and i["held"][0]["witnessesChecked"] is False and i["held"][0]["newestCosignature"] is None and "not checked" in i["heldStatement"] and "newest held checkpoint" in i["heldStatement"]'
"$M" checkpoint >real.all
expect 0 "a held checkpoint of the whole ledger: nothing after it" "" \
	"$M" report $PERIOD --format json --out rall.json --checkpoint real.all
check "notWitnessed is null when the held checkpoint covers every entry" rall.json \
	'i["notWitnessed"] is None and "Every entry is in the newest held checkpoint." in i["heldStatement"]'

# ---- people: the identity claims of their enrolments ----------------------
"$PY" -c 'import json
k = [k for k in json.load(open("r.json"))["people"]["keys"] if k["person"] == "alice"]
assert len(k) == 1 and k[0]["personName"] == "Alice Martin" and k[0]["identity"] == "employee E-1042, alice@example.com", k
e = [k for k in json.load(open("r.json"))["people"]["keys"] if k["name"] == "eng"]
assert e[0]["identity"] is None, e' 2>err.py &&
	ok "people.keys carries the enrolment's identity claims (null without)" ||
	nok "people.keys carries the enrolment's identity claims (null without)" "$(tail -1 err.py | head -c 300)"
grep -q "employee E-1042, alice@example.com" r.md && grep -q "employee E-1042, alice@example.com" r.html &&
	ok "Markdown and HTML show the identity claims beside the person" ||
	nok "Markdown and HTML show the identity claims beside the person" "$(grep -c E-1042 r.md r.html)"

# ---- nothing held outside --------------------------------------------------
expect 0 "a report without --checkpoint" "" "$M" report $PERIOD --format json --out r0.json
check "without --checkpoint the report says nothing outside the ledger was checked" r0.json \
	'i["held"] == [] and i["notWitnessed"] is None and i["heldStatement"].startswith("Nothing outside the ledger was checked: a ledger rewritten with its log key would pass")'
expect 0 "a Markdown report without --checkpoint" "" "$M" report $PERIOD --format md --out r0.md
grep -q "Nothing outside the ledger was checked" r0.md &&
	ok "the Markdown report says nothing outside the ledger was checked" ||
	nok "the Markdown report says nothing outside the ledger was checked" "$(sed -n '/Integrity/,+6p' r0.md)"

# ---- held checkpoints that fail: no report ---------------------------------
expect 4 "a held checkpoint of a fork exits 4" "fork.N" \
	"$M" report $PERIOD --format json --out rf.json --checkpoint fork.N
[ ! -e rf.json ] && ok "the fork's report was not written" || nok "the fork's report was not written" "rf.json exists"
expect 4 "a held checkpoint of another log exits 4" "other.N" \
	"$M" report $PERIOD --format html --out ro.html --checkpoint other.N
[ ! -e ro.html ] && ok "the other log's report was not written" || nok "the other log's report was not written" "ro.html exists"
expect 4 "a held checkpoint the trust policy's quorum did not cosign exits 4" "trust policy is not met" \
	"$M" report $PERIOD --format md --out rq.md --checkpoint real.N.w1 --trust trust2
[ ! -e rq.md ] && ok "the unwitnessed report was not written" || nok "the unwitnessed report was not written" "rq.md exists"
expect 4 "a good held checkpoint does not excuse a bad one" "fork.N" \
	"$M" report $PERIOD --format json --out rg.json --checkpoint real.N --checkpoint fork.N
[ ! -e rg.json ] && ok "no report with one bad held checkpoint" || nok "no report with one bad held checkpoint" "rg.json exists"
expect 0 "--allow-unverified writes the report of a fork's held checkpoint, saying so" "FAILED verification" \
	"$M" report $PERIOD --format json --out ra.json --checkpoint fork.N --allow-unverified
check "the report says verification failed and names the held checkpoint" ra.json \
	'i["ok"] is False and "fork.N" in i["statement"] and i["statement"].startswith("VERIFICATION FAILED")'
expect 2 "--trust without --checkpoint is refused" "--trust applies to checkpoints held outside" \
	"$M" report $PERIOD --format json --out rt.json --trust trust1
expect 2 "--max-witness-age without --trust is refused" "max-witness-age" \
	"$M" report $PERIOD --format json --out rt.json --checkpoint real.N --max-witness-age 30d
expect 2 "a held checkpoint that is not a file exits 2" "" \
	"$M" report $PERIOD --format json --out rt.json --checkpoint missing.N
[ ! -e rt.json ] && ok "refused options wrote no report" || nok "refused options wrote no report" "rt.json exists"
expect 0 "--max-witness-age with --trust is accepted" "witnessed by w1" \
	"$M" report $PERIOD --format json --out rm.json --checkpoint real.N.w1 --trust trust1 --max-witness-age 30d

# ---- the signed scope names the held checkpoints ----------------------------
expect 0 "a signed report with a held checkpoint" "" \
	"$M" report $PERIOD --format json --out rs.json --checkpoint real.N.w1 --trust trust1 --sign auditor.key
ROOT=$("$PY" -c 'import json; print(json.load(open("rs.json"))["integrity"]["held"][0]["root"])' 2>/dev/null)
expect 0 "verify-report prints the held checkpoint the report was checked against" \
	"^held checkpoint: size $N root $ROOT, witnessed by w1\$" \
	"$M" verify-report rs.json --key auditor.pub
"$PY" -c 'import base64, json, sys
env = json.load(open("rs.json.sig.json"))
st = json.loads(base64.b64decode(env["payload"]))
h = st["predicate"]["scope"]["held"]
assert h == [{"size": int(sys.argv[1]), "root": json.load(open("rs.json"))["integrity"]["held"][0]["root"], "witnesses": ["w1"], "witnessesChecked": True}], h' "$N" 2>err.py &&
	ok "the signed statement's scope.held has size, root and witnesses" ||
	nok "the signed statement's scope.held has size, root and witnesses" "$(tail -1 err.py)"
expect 0 "a signed report without a held checkpoint" "" \
	"$M" report $PERIOD --format md --out rs0.md --sign auditor.key
expect 0 "verify-report says nothing outside the ledger was checked" \
	"held checkpoints: none (nothing outside the ledger was checked)" \
	"$M" verify-report rs0.md --key auditor.pub

# ---- CSV: a held-checkpoints table, in the signed manifest -----------------
expect 0 "a signed CSV folder with a held checkpoint" "held-checkpoints.csv" \
	"$M" report $PERIOD --format csv --out csv --checkpoint real.N.w1 --trust trust1 --sign auditor.key
grep -q "^real.N.w1,$N,.*,w1,yes," csv/held-checkpoints.csv &&
	ok "held-checkpoints.csv has the checkpoint's row" ||
	nok "held-checkpoints.csv has the checkpoint's row" "$(cat csv/held-checkpoints.csv 2>&1 | head -3)"
expect 0 "the signed manifest lists held-checkpoints.csv" "^file: held-checkpoints.csv sha256:" \
	"$M" verify-report csv --key auditor.pub
expect 0 "--table held-checkpoints writes that one table" "" \
	"$M" report $PERIOD --format csv --table held-checkpoints --out h.csv --checkpoint real.N.w1
head -1 h.csv | grep -q "^Checkpoint file,Size,Root,Witnesses,Witnesses checked,Newest cosignature" &&
	ok "the table's header names its columns" || nok "the table's header names its columns" "$(head -1 h.csv)"

finish

#!/bin/sh
# tests/cli/timescope.sh — what a report or a verify says about time and
# scope, attacked (issue 17, findings 5 and 6).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/timescope.sh
#
# A gate decision whose recorded ledger root or origin is not this ledger's;
# report signatures that carry their scope; a CSV folder signed as a whole,
# with a table from another report dropped in; time warnings (a period
# before the ledger began, author times far from append times, backfills).
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/timescope.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" ts
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
HAVE_FORGE=
[ -n "$PY" ] && "$PY" -c 'import sqlite3, nacl.signing' >/dev/null 2>&1 && HAVE_FORGE=1
size() { "$M" verify 2>/dev/null | sed -n 's/^ok: \([0-9]*\) entries.*/\1/p'; }
envelope() {
	"$M" show "$1" --format json | "$PY" -c 'import json,sys
print(json.dumps(json.load(sys.stdin)["envelope"], sort_keys=True, separators=(",", ":")))'
}
# setledger ENVFILE KEYFILE MEMBER VALUE: the statement with
# predicate.ledger.MEMBER = VALUE, re-signed by KEYFILE
setledger() {
	"$PY" -c 'import base64,json,sys
st = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))
st["predicate"]["ledger"][sys.argv[2]] = sys.argv[3]
sys.stdout.write(json.dumps(st, separators=(",", ":")))' "$1" "$3" "$4" |
		"$PY" "$here/forge.py" sign-envelope "$2"
}

export MLLEDGER_LEDGER=$W/l.db
for k in admin ci alice val rita; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null || exit 1
"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null
"$M" key enroll alice.pub --holder-key alice.key --role approver --key admin.key >/dev/null
"$M" key enroll val.pub --holder-key val.key --role validator --key admin.key >/dev/null
"$M" key enroll rita.pub --holder-key rita.key --role risk-officer --key admin.key >/dev/null
echo data >d.bin
echo model-1 >m1.bin
"$M" record dataset d@1 --file d.bin --set license=MIT --set pii=false --key ci.key >/dev/null
"$M" record model m@1 --artifact m1.bin --dataset d@1 --metric auc=0.9 --key ci.key >/dev/null
"$M" record evaluation m@1 --metric auc=0.9 --key val.key >/dev/null
"$M" policy record "$POL" --key rita.key >/dev/null

# 1. A gate decision names this ledger's own tree (FORMAT.md §5 rule 8).
"$M" gate --policy production m@1 --env prod --key ci.key >/dev/null 2>&1
gate_seq=$(($(size) - 1))
"$M" record approval m@1 --env prod --decision approve --key alice.key >/dev/null
if [ -n "$HAVE_FORGE" ]; then
	envelope "$gate_seq" >gate.json
	# another ledger's root at the same size
	MLLEDGER_LEDGER=$W/other.db "$M" init --key admin.key >/dev/null
	for i in $(seq 1 "$gate_seq"); do
		MLLEDGER_LEDGER=$W/other.db "$M" key new o$i >/dev/null
		MLLEDGER_LEDGER=$W/other.db "$M" key enroll o$i.pub --holder-key o$i.key --role engineer \
			--key admin.key >/dev/null
	done
	gsize=$("$PY" -c 'import base64,json,sys
st = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))
print(st["predicate"]["ledger"]["size"])' gate.json)
	foreign=$("$PY" "$here/forge.py" root other.db "$gsize")
	setledger gate.json ci.key root "$foreign" >foreign.json
	cp l.db forged.db
	cp l.db.log.key forged.db.log.key
	"$PY" "$here/forge.py" replace forged.db "$gate_seq" <foreign.json &&
		"$PY" "$here/forge.py" rebuild forged.db chain tree sign=l.db.log.key
	expect 4 "verify: a gate decision with another ledger's root is caught" \
		"entry $gate_seq.*not this ledger's" "$M" verify --ledger forged.db
	setledger gate.json ci.key origin "other.example/ledger" >origin.json
	cp l.db forged2.db
	"$PY" "$here/forge.py" replace forged2.db "$gate_seq" <origin.json &&
		"$PY" "$here/forge.py" rebuild forged2.db chain tree sign=l.db.log.key
	expect 4 "verify: a gate decision naming another origin is caught" \
		"entry $gate_seq.*ledger.*other.example" "$M" verify --ledger forged2.db
	n1=$(size)
	expect 4 "submit of a decision with a foreign root is refused" "does not replay" \
		"$M" submit foreign.json
	[ "$(size)" = "$n1" ] && ok "the refused decision was not appended" ||
		nok "the refused decision was not appended" "size $n1 -> $(size)"
else
	skip "gate root forgeries" "needs /usr/bin/python3 with PyNaCl"
fi
expect 0 "the real ledger verifies" "intact" "$M" verify

# 2. Report signatures carry the scope; a CSV folder is signed as a whole.
printf '%s\n' \
	'{"kind":"incident","subject":"m@1","severity":"low","description":"q1 drift","time":"2026-02-10T10:00:00Z"}' \
	'{"kind":"monitoring","subject":"m@1","environment":"staging","metrics":{"auc":0.8},"time":"2026-11-20T10:00:00Z"}' \
	>mixed.jsonl
"$M" import mixed.jsonl --key ci.key >/dev/null 2>imp.err || echo "# import: $(cat imp.err)"
rep() { "$M" report --policy production --generated-at 2027-01-05T09:00:00Z "$@"; }
expect 0 "report --format csv --sign writes one manifest for the folder" "MANIFEST.sig.json" \
	rep --from 2026-01-01 --to 2026-03-31 --format csv --out q1 --sign admin.key
expect 0 "the Q4 folder too" "signed" \
	rep --from 2026-10-01 --to 2026-12-31 --format csv --out q4 --sign admin.key
ls q4/*.sig.json 2>/dev/null | grep -v MANIFEST >/dev/null &&
	nok "no per-table signatures" "$(ls q4)" || ok "no per-table signatures"
expect 0 "verify-report DIR accepts the folder and prints its scope" \
	"^period: 2026-10-01 to 2026-12-31" "$M" verify-report q4 --key admin.pub
grep -q "^scope: ledger .*checkpoint size [0-9]" out && grep -q "^policy: production@" out &&
	grep -q "^file: findings.csv sha256:" out && ok "the scope names checkpoint, policies, files" ||
	nok "the scope names checkpoint, policies, files" "$(cat out)"
# a table of the Q1 report (with its old-style per-table signature) in Q4
t=findings
cmp -s q1/$t.csv q4/$t.csv && for f in q1/*.csv; do
	cmp -s "$f" "q4/${f#q1/}" || { t=$(basename "$f" .csv); break; }
done
cp -r q4 mix && cp q1/$t.csv mix/$t.csv && echo '{}' >mix/$t.csv.sig.json
expect 4 "a Q1 table (and its signature) in the Q4 folder: exit 4 naming the table" \
	"table $t.csv is not the signed one" "$M" verify-report mix --key admin.pub
cp -r q4 extra && cp q1/$t.csv extra/q1-$t.csv
expect 4 "an extra table in the folder: exit 4 naming it" "q1-$t.csv is in the folder but not" \
	"$M" verify-report extra --key admin.pub
cp -r q4 missing && rm missing/$t.csv
expect 4 "a missing table: exit 4 naming it" "table $t.csv is signed but missing" \
	"$M" verify-report missing --key admin.pub
cp -r q4 edited && echo "x" >>edited/findings.csv
expect 4 "an edited table: exit 4" "findings.csv is not the signed one" \
	"$M" verify-report edited --key admin.pub
cp -r q4 linked && rm linked/findings.csv && ln -s "$W/q4/findings.csv" linked/findings.csv
expect 4 "a table replaced by a symlink (to the right bytes): exit 4" "not a regular file" \
	"$M" verify-report linked --key admin.pub
expect 4 "another key: exit 4" "not by ci" "$M" verify-report q4 --key ci.pub
expect 4 "the folder's manifest does not sign a single table" "CSV folder's manifest" \
	"$M" verify-report q4/findings.csv --key admin.pub --sig q4/MANIFEST.sig.json

expect 0 "report --format html --sign" "signed" \
	rep --from 2026-10-01 --to 2026-12-31 --format html --out q4.html --sign admin.key
expect 0 "verify-report REPORT prints the scope" "^period: 2026-10-01 to 2026-12-31" \
	"$M" verify-report q4.html --key admin.pub
if [ -n "$HAVE_FORGE" ]; then
	# the period changed inside the signed scope (not re-signed, then re-signed by ci)
	"$PY" -c 'import base64,json,sys
e = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(e["payload"]))
st["predicate"]["scope"]["from"] = "2026-01-01"
e["payload"] = base64.b64encode(json.dumps(st, separators=(",", ":")).encode()).decode()
json.dump(e, sys.stdout)' q4.html.sig.json >scope.sig.json
	expect 4 "a single-file report with its signed scope altered: exit 4" "does not verify" \
		"$M" verify-report q4.html --key admin.pub --sig scope.sig.json
	printf '%s\n' '{"payloadType":"application/vnd.mlledger.report.v1","payloadSha256":"00","signatures":[{"keyid":"admin+00000000","sig":"AA=="}]}' >old.sig.json
	expect 2 "an old-format signature is refused as such" "old-format report signature" \
		"$M" verify-report q4.html --key admin.pub --sig old.sig.json
else
	skip "signed-scope forgeries" "needs /usr/bin/python3"
fi

# 3. Time: when the ledger began, author times far from append times, backfills.
expect 0 "a report on a period starting before the ledger" "wrote" \
	rep --from 2026-10-01 --to 2026-12-31 --format md --out q4.md
grep -q "^> \*\*WARNING: The ledger began on 20.*: the period's first [0-9]* days (from 2026-10-01) have no record" q4.md &&
	ok "... says so at the top" || nok "... says so at the top" "$(head -5 q4.md)"
grep -q "^| Ledger began | " q4.md && ok "the scope states when the ledger began" ||
	nok "the scope states when the ledger began" "$(grep -i began q4.md | head -3)"
rep --from 2026-01-01 --to 2026-03-31 --format md --out q1.md >/dev/null 2>&1
grep -q "BEGAN AFTER THE PERIOD" q1.md && ok "a period wholly before the ledger says it has no record" ||
	nok "a period wholly before the ledger says it has no record" "$(head -5 q1.md)"
grep -q '"ledgerStart": "20' q4.html.sig.json || "$PY" -c 'import base64,json,sys
st = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))
sys.exit(0 if st["predicate"]["scope"]["ledgerStart"] else 1)' q4.html.sig.json &&
	ok "the signed scope names the ledger start" || nok "the signed scope names the ledger start" ""
# a backdated incident (February) and an approval dated a year ahead
printf '%s\n' \
	'{"kind":"approval","subject":"m@1","environment":"staging","decision":"approve","time":"2027-12-01T00:00:00Z"}' \
	>ahead.jsonl
"$M" import ahead.jsonl --key alice.key >/dev/null 2>imp.err || echo "# import: $(cat imp.err)"
"$M" verify --format json >v.json 2>/dev/null
rc=$?
[ $rc = 0 ] && "$PY" -c 'import json,sys
d = json.load(open("v.json"))
w = {(x["kind"], x["warning"]) for x in d["timeWarnings"]}
assert ("incident", "backdated") in w and ("approval", "future-dated") in w, w
assert d["timeWarningsTotal"] >= 2 and d["ledgerStart"] and "backfills" in d
i = [x for x in d["timeWarnings"] if x["kind"] == "incident"][0]
assert i["authorTime"] == "2026-02-10T10:00:00Z" and i["skewSeconds"] < -86400, i' 2>py.err &&
	ok "verify --format json lists the backdated incident and the future approval (exit 0)" ||
	nok "verify --format json lists the backdated incident and the future approval (exit 0)" \
		"exit $rc: $(head -c 300 py.err)"
expect 0 "text verify prints a count line, exit 0" "^time warnings: [0-9]* entries" "$M" verify
expect 0 "the report lists them too" "wrote" \
	rep --from 2026-10-01 --to 2026-12-31 --format csv --table time-warnings --out tw.csv
grep -q ",incident,backdated,2026-02-10T10:00:00Z," tw.csv && grep -q ",approval,future-dated," tw.csv &&
	ok "the time-warnings table names the backdated incident" ||
	nok "the time-warnings table names the backdated incident" "$(head -5 tw.csv)"
expect 0 "--time-tolerance 87600 (ten years) lists no backdated entry" "" \
	"$M" verify --format json --time-tolerance 87600
grep -q '"warning":"backdated"' out && nok "--time-tolerance" "$(head -c 300 out)" ||
	ok "--time-tolerance raises the backdating tolerance"
expect 2 "--time-tolerance 0 is refused" "time-tolerance" "$M" verify --time-tolerance 0
# a backfill: 60 entries imported in one go, author times over two years
for i in $(seq 1 60); do
	printf '{"kind":"monitoring","subject":"m@1","environment":"staging","metrics":{"auc":0.8,"n":%d},"time":"20%02d-06-01T00:00:00Z"}\n' \
		"$i" $((24 + i % 2))
done >bf.jsonl
"$M" import bf.jsonl --key ci.key >/dev/null 2>imp.err || echo "# import: $(cat imp.err)"
"$M" verify --format json >v2.json 2>/dev/null
"$PY" -c 'import json
d = json.load(open("v2.json"))
b = d["backfills"]
assert d["ok"] and len(b) == d["backfillsTotal"] >= 1, d.get("backfills")
assert b[-1]["entries"] >= 60 and b[-1]["authorFrom"] <= "2024-06-01T00:00:00Z", b[-1]' 2>py.err &&
	ok "verify --format json flags the backfill burst" ||
	nok "verify --format json flags the backfill burst" "$(head -c 300 py.err)"
expect 0 "the report's backfills table names it" "" \
	rep --from 2026-10-01 --to 2026-12-31 --format csv --table backfills --out bf.csv
[ "$(wc -l <bf.csv)" -ge 2 ] && ok "backfills.csv has the burst" || nok "backfills.csv has the burst" "$(cat bf.csv)"

finish

#!/bin/sh
# tests/cli/audit.sh — what an outside auditor tests controls with:
# population, sample, trace and reconcile (docs/AUDITING.md).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/audit.sh
#
# A known ledger (ungated governance) is built with record commands; the
# population's counts, columns, period boundaries and digest are checked,
# the sample against an independent Python re-implementation of the
# documented algorithm, edited population files are refused, trace's chain
# and its proofs are checked with verify-proof, and reconcile's both-side
# differences, its bad-line errors and its CSV escaping are exercised.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/audit.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" audit
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
HAVE_PY=
[ -n "$PY" ] && "$PY" -c 'import csv, hashlib, json' >/dev/null 2>&1 && HAVE_PY=1
HAVE_NACL=
[ -n "$HAVE_PY" ] && "$PY" -c 'import nacl.signing' >/dev/null 2>&1 && HAVE_NACL=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

check() { # NAME COMMAND...: ok when the command succeeds
	local name=$1
	shift
	if "$@" >chk.out 2>&1; then ok "$name"; else nok "$name" "$(head -c 300 chk.out)"; fi
}
# rows FILE: the data rows of a population CSV (no scope lines, no header)
rows() { grep -v '^#' "$1" | tail -n +2; }

export MLLEDGER_LEDGER=$W/l.db
for k in admin ci alice bob val rita; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key --governance "$UNGATED" >/dev/null || exit 1
"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null
"$M" key enroll alice.pub --holder-key alice.key --role approver --person alice --name '=HYPERLINK("http://evil","x")' \
	--key admin.key >/dev/null
"$M" key enroll bob.pub --holder-key bob.key --role approver --person bob --name "Bob, Jr." --key admin.key >/dev/null
"$M" key enroll val.pub --holder-key val.key --role validator --key admin.key >/dev/null
"$M" key enroll rita.pub --holder-key rita.key --role risk-officer --key admin.key >/dev/null
echo data >d.bin
echo model-1 >m1.bin
echo model-2 >m2.bin
"$M" record dataset d@1 --file d.bin --set license=MIT --set pii=false --key ci.key >/dev/null
"$M" record model m@1 --artifact m1.bin --dataset d@1 --metric auc=0.9 --key ci.key >/dev/null
"$M" record evaluation m@1 --metric auc=0.9 --key val.key >/dev/null
"$M" record approval m@1 --env prod --decision approve --key alice.key >/dev/null
"$M" record approval m@1 --env prod --decision approve --key bob.key >/dev/null
"$M" policy record "$POL" --key rita.key >/dev/null
"$M" gate --policy production m@1 --env prod --key ci.key >/dev/null 2>&1
"$M" record deployment m@1 --env prod --key ci.key >/dev/null       # seq 13
"$M" record monitoring m@1 --env prod --metric auc=0.88 --key ci.key >/dev/null
"$M" record deployment m@1 --env staging --key ci.key >/dev/null    # seq 15
sleep 1.2 # the second batch is appended in a later second
"$M" record model m@2 --artifact m2.bin --dataset d@1 --key ci.key >/dev/null
"$M" record approval m@2 --env prod --decision reject --comment "no" --key alice.key >/dev/null
"$M" record deployment m@2 --env staging --key ci.key >/dev/null    # seq 18
"$M" record incident m@1 --severity high --description "drift" --key ci.key >/dev/null
N=$("$M" verify | sed -n 's/^ok: \([0-9]*\) entries.*/\1/p')
[ "$N" = 20 ] && ok "the known ledger has 20 entries" || nok "the known ledger has 20 entries" "$N"
T2=$("$M" show 16 --format json | sed -n 's/^  "time": "\(.*\)",$/\1/p')
LEAF13=$("$M" show 13 --format json | sed -n 's/^  "leafHash": "\(.*\)",$/\1/p')

for c in population sample trace reconcile; do
	expect 0 "$c --help" "usage: mlledger $c" "$M" $c --help
done
grep -q "population \[--kind" <("$M" --help) && ok "mlledger --help lists the audit commands" ||
	nok "mlledger --help lists the audit commands" ""

# 1. population: counts, columns, kinds.
expect 0 "population (default kinds) runs" "^# count 7" "$M" population
cp out pop.csv
[ "$(rows pop.csv | wc -l)" = 7 ] && ok "deployments, approvals and gates by default: 7 rows" ||
	nok "deployments, approvals and gates by default: 7 rows" "$(rows pop.csv | wc -l)"
grep -q '^seq,leaf_hash,kind,subject,subject_digest,environment,author_time,append_time,signer_keyid,person_id,person_name,decision,policies' pop.csv &&
	ok "the header row names every documented column" || nok "the header row names every documented column" "$(grep ^seq pop.csv)"
grep -q "^13,$LEAF13,deployment,m@1,sha256:[0-9a-f]\{64\},prod," pop.csv &&
	ok "a deployment row carries seq, leaf hash, kind, subject, digest, environment" ||
	nok "a deployment row carries seq, leaf hash, kind, subject, digest, environment" "$(grep ^13, pop.csv)"
grep -q ",gate,m@1,.*,ci,,PASSED,production@1.1.0" pop.csv &&
	ok "a gate row carries its verdict and policies" || nok "a gate row carries its verdict and policies" "$(grep gate, pop.csv)"
grep -q ",approval,m@2,.*,alice+[0-9a-f]*,alice,.*,reject," pop.csv &&
	ok "an approval row carries signer, person and decision" || nok "an approval row carries signer, person and decision" "$(grep approval,m@2 pop.csv)"
expect 0 "--kind all" "^# count 20" "$M" population --kind all
"$M" population --kind approval --kind deployment >a.csv
"$M" population --kind approval,deployment >b.csv
cmp -s a.csv b.csv && [ "$(rows a.csv | wc -l)" = 6 ] &&
	ok "--kind repeats or takes a comma list" || nok "--kind repeats or takes a comma list" "$(rows a.csv | wc -l)"
expect 2 "an unknown kind is refused naming it" 'unknown kind "deploy"' \
	"$M" population --kind deploy
expect 2 "--format text is not a population format" "--format: must be one of csv, json" "$M" population --format text

# 2. The period: append time, --from inclusive, --to DAY inclusive, --to TIME exclusive.
expect 0 "--from the second batch's time" "^# count 2" "$M" population --from "$T2"
expect 0 "--to the second batch's time excludes it" "^# count 5" "$M" population --to "$T2"
today=$(date -u +%Y-%m-%d)
expect 0 "--to today includes today" "^# count 7" "$M" population --to "$today"
expect 0 "--from tomorrow is empty" "^# count 0" \
	"$M" population --from "$(date -u -d tomorrow +%Y-%m-%d)"
expect 2 "--from after --to is refused" "before --to" "$M" population --from 2027-01-02 --to 2026-01-01
expect 2 "a malformed --from is refused" "YYYY-MM-DD" "$M" population --from yesterday

# 3. JSON: the scope; the digest re-computed as documented.
"$M" population --kind all --format json >pop.json
"$M" population --kind all >all.csv
if [ -n "$HAVE_PY" ]; then
	check "JSON scope: origin, checkpoint, count, digest as documented, same as CSV" "$PY" -c '
import csv, hashlib, json, sys
d = json.load(open("pop.json")); p = d["population"]; it = d["items"]
assert p["count"] == len(it) == 20 and p["checkpoint"]["size"] == 20, p
assert p["verified"] is True and p["kinds"] == "all"
h = hashlib.sha256("".join("%d %s\n" % (i["seq"], i["leafHash"][7:]) for i in it).encode()).hexdigest()
assert p["digest"] == "sha256:" + h, (p["digest"], h)
lines = open("all.csv", newline="").read().split("\r\n")
assert "# digest sha256:" + h in lines, "csv digest line"
assert "# checkpoint 20 " + p["checkpoint"]["root"] in lines
rows = list(csv.DictReader(l for l in lines if l and not l.startswith("#")))
assert [int(r["seq"]) for r in rows] == [i["seq"] for i in it]
assert rows[0]["kind"] == "genesis" and rows[0]["person_id"] == "admin"
'
	check "CSV cells are RFC 4180 and a formula cell is text" "$PY" -c '
import csv
rows = list(csv.DictReader(l for l in open("pop.csv", newline="") if not l.startswith("#")))
names = {r["person_id"]: r["person_name"] for r in rows}
assert names["alice"] == "'"'"'=HYPERLINK(\"http://evil\",\"x\")", names
assert names["bob"] == "Bob, Jr.", names
'
else
	skip "JSON scope checks" "python3 is missing"
	skip "CSV formula cells" "python3 is missing"
fi
grep -q "\"'=HYPERLINK(\"\"http" pop.csv && ok "the formula cell starts with an apostrophe, quoted" ||
	nok "the formula cell starts with an apostrophe, quoted" "$(grep alice pop.csv | head -1)"

# 4. sample: reproducible, documented, and refuses an edited population.
"$M" sample --population all.csv --n 5 --seed q4-2026 >s1.csv 2>/dev/null
"$M" sample --population all.csv --n 5 --seed q4-2026 >s2.csv 2>/dev/null
"$M" sample --population all.csv --n 5 --seed q1-2027 >s3.csv 2>/dev/null
cmp -s s1.csv s2.csv && [ "$(rows s1.csv | wc -l)" = 5 ] &&
	ok "the same seed draws the same sample" || nok "the same seed draws the same sample" "$(rows s1.csv | wc -l)"
cmp -s <(rows s1.csv) <(rows s3.csv) && nok "another seed draws another sample" "same rows" ||
	ok "another seed draws another sample"
grep -q "^# population $(grep '^# digest' all.csv | cut -d' ' -f3 | tr -d '\r')" s1.csv &&
	ok "the sample names the population digest it was drawn from" ||
	nok "the sample names the population digest it was drawn from" "$(head -3 s1.csv)"
"$M" sample --population pop.json --n 5 --seed q4-2026 >s1.json 2>/dev/null
if [ -n "$HAVE_PY" ]; then
	check "an independent Python draw picks the same items (CSV and JSON)" "$PY" -c '
import csv, hashlib, json
def draw(items, seed, n):
    r = sorted(items, key=lambda i: (hashlib.sha256((seed + ":" + i[1][7:]).encode()).digest(), i[0]))
    return sorted(i[0] for i in r[:n])
rows = list(csv.DictReader(l for l in open("all.csv", newline="") if not l.startswith("#")))
items = [(int(r["seq"]), r["leaf_hash"]) for r in rows]
for f, seed in (("s1.csv", "q4-2026"), ("s3.csv", "q1-2027")):
    got = [int(r["seq"]) for r in csv.DictReader(l for l in open(f, newline="") if not l.startswith("#"))]
    assert got == draw(items, seed, 5), (f, got, draw(items, seed, 5))
got = [i["seq"] for i in json.load(open("s1.json"))["items"]]
assert got == draw(items, "q4-2026", 5), got
'
else
	skip "independent draw" "python3 is missing"
fi
# The coreutils re-draw of docs/AUDITING.md.
grep -v '^#' all.csv | tail -n +2 | cut -d, -f1,2 | while IFS=, read seq leaf; do
	printf '%s %s\n' "$(printf '%s' "q4-2026:${leaf#sha256:}" | sha256sum | cut -c1-64)" "$seq"
done | sort | head -n 5 | cut -d' ' -f2 | sort -n >shdraw
rows s1.csv | cut -d, -f1 | cmp -s - shdraw && ok "the documented coreutils re-draw picks the same items" ||
	nok "the documented coreutils re-draw picks the same items" "$(tr '\n' ' ' <shdraw)"
expect 0 "n larger than the population draws all of it, with a note" "every item" \
	"$M" sample --population all.csv --n 500 --seed x
[ "$(rows out | wc -l)" = 20 ] && grep -q "^# note n exceeds" out &&
	ok "... all 20 items, and the file says so" || nok "... all 20 items, and the file says so" "$(rows out | wc -l)"
expect 0 "a sample can be re-sampled (its digest line matches its items)" "" \
	"$M" sample --population s1.csv --n 2 --seed y
# Edited population files.
grep -v "^13," all.csv >removed.csv
expect 4 "a population with an item removed is refused" "do not match its digest line" \
	"$M" sample --population removed.csv --n 3 --seed x
{ cat all.csv; grep "^13," all.csv | sed 's/^13,/99,/'; } >added.csv
expect 4 "a population with an item added is refused" "do not match its digest line" \
	"$M" sample --population added.csv --n 3 --seed x
sed "s/^13,sha256:[0-9a-f]\{8\}/13,sha256:00000000/" all.csv >changed.csv
expect 4 "a population with a leaf hash changed is refused" "do not match its digest line" \
	"$M" sample --population changed.csv --n 3 --seed x
grep -v '^# digest' all.csv >nodigest.csv
expect 2 "a population without a digest line is refused" "no population digest" \
	"$M" sample --population nodigest.csv --n 3 --seed x
"$PY" -c 'import json; d = json.load(open("pop.json")); d["items"].pop(3); json.dump(d, open("removed.json", "w"))' 2>/dev/null
expect 4 "a JSON population with an item removed is refused" "do not match its digest line" \
	"$M" sample --population removed.json --n 3 --seed x
printf '# digest sha256:%064d\nseq,leaf_hash\n1,"x\n' 0 >broken.csv
expect 2 "a broken CSV is refused naming the line" "broken.csv: line 3: a quoted cell is not closed" \
	"$M" sample --population broken.csv --n 3 --seed x
expect 2 "a seed with a space is refused" "printable" "$M" sample --population all.csv --n 3 --seed "a b"
expect 2 "--n 0 is refused" "--n: 1 to" "$M" sample --population all.csv --n 0 --seed x
expect 2 "a missing --seed is refused" "expected --population" "$M" sample --population all.csv --n 3

# 5. trace: the chain, and its proofs verify offline.
expect 0 "trace of a deployment (text)" "inclusion proofs" "$M" trace 13
"$M" trace 13 --format json >t13.json
"$M" log-key >log.pub
if [ -n "$HAVE_PY" ]; then
	check "the deployment's chain: model, dataset, evaluation, approvals, gate, policy, monitoring, incident" "$PY" -c '
import json
d = json.load(open("t13.json"))
got = sorted((n["relation"], n["seq"]) for n in d["chain"])
want = sorted([("model", 7), ("dataset", 6), ("evaluation", 8), ("approval", 9), ("approval", 10),
               ("gate", 12), ("policy", 11), ("monitoring", 14), ("incident", 19)])
assert got == want, got
assert d["entry"]["seq"] == 13 and d["entry"]["kind"] == "deployment"
assert d["trace"]["checkpoint"]["size"] == 20
'
	"$PY" -c '
import json
d = json.load(open("t13.json"))
for n in [d["entry"]] + d["chain"]:
    open("p%d.proof" % n["seq"], "w").write(n["proof"])
    print(n["seq"])' >seqs
	bad=
	for s in $(cat seqs); do
		"$M" show "$s" --format raw >"p$s.leaf"
		"$M" verify-proof --log-key log.pub "p$s.proof" "p$s.leaf" >/dev/null 2>&1 || bad="$bad $s"
	done
	[ -z "$bad" ] && [ -s seqs ] && ok "every proof in the trace verifies with verify-proof" ||
		nok "every proof in the trace verifies with verify-proof" "failed:$bad"
	expect 4 "a trace proof does not verify another entry's leaf" "not entry" \
		"$M" verify-proof --log-key log.pub p7.proof p13.leaf
	"$M" trace 18 --format json >t18.json
	check "a staging deployment of m@2 has no prod approvals and no m@1 entries" "$PY" -c '
import json
d = json.load(open("t18.json"))
got = sorted((n["relation"], n["seq"]) for n in d["chain"])
assert got == [("dataset", 6), ("model", 16)], got
'
	"$M" trace 7 --format json >t7.json
	check "a model's trace holds its deployments and decisions" "$PY" -c '
import json
d = json.load(open("t7.json"))
rel = {(n["relation"], n["seq"]) for n in d["chain"]}
assert {("deployment", 13), ("deployment", 15), ("gate", 12), ("policy", 11), ("dataset", 6)} <= rel, rel
'
else
	skip "trace chain checks" "python3 is missing"
fi
expect 2 "trace of an entry that does not exist" "no entry 99" "$M" trace 99
expect 2 "trace of a non-number" "not an entry number" "$M" trace 12x

# 6. reconcile.
T13=$("$M" show 13 --format json | sed -n 's/^  "time": "\(.*\)",$/\1/p')
T15=$("$M" show 15 --format json | sed -n 's/^  "time": "\(.*\)",$/\1/p')
T18=$("$M" show 18 --format json | sed -n 's/^  "time": "\(.*\)",$/\1/p')
D1=$("$M" digest m1.bin)
{
	echo "environment,model,version,digest,time"
	echo "prod,m,1,,$T13"
	echo "staging,m,,$D1,$T15"
	echo "staging,m,2,,$T18"
} >agree.csv
expect 0 "reconcile: both sides agree" "both sides agree" "$M" reconcile --deployments agree.csv
{
	echo "environment,model,version,digest,time"
	echo "prod,m,1,,$T13"
	echo "prod,m,2,,$T18"          # the platform has it, the ledger does not
	echo "-2-3,m,+1,,$T18"         # a formula-looking environment and version
} >differ.csv
expect 1 "reconcile: differences exit 1" "DIFFERENCES" "$M" reconcile --deployments differ.csv
grep -A3 "platform has, ledger lacks (2)" out | grep -q '"prod","m","2"' &&
	ok "... naming what the ledger lacks" || nok "... naming what the ledger lacks" "$(cat out)"
grep -A3 "ledger has, platform lacks (2)" out | grep -q "seq 15" && grep -q "seq 18 " out &&
	ok "... and what the platform lacks" || nok "... and what the platform lacks" "$(cat out)"
expect 1 "reconcile --format csv" "" "$M" reconcile --deployments differ.csv --format csv
grep -q "^platform-only,4,,,\"'-2-3\",m,\"'+1\",," out && ok "CSV output escapes formula cells" ||
	nok "CSV output escapes formula cells" "$(grep platform-only out)"
grep -q "^matched,2,13,$LEAF13,prod,m,1,sha256:" out && ok "CSV output lists the match with seq and leaf hash" ||
	nok "CSV output lists the match with seq and leaf hash" "$(grep ^matched out)"
expect 1 "reconcile --format json" '"platformOnly"' "$M" reconcile --deployments differ.csv --format json
{
	echo "environment,model,version,digest,time"
	echo "prod,m,1,sha256:$(printf '%064d' 0),$T13"
} >wrongdigest.csv
expect 1 "a wrong digest does not match" "platform has, ledger lacks (1)" \
	"$M" reconcile --deployments wrongdigest.csv
printf 'environment,model,version,digest,time\nprod,m,1,,%s\nprod,m,1,,%s\n' "$T13" "$T13" >twice.csv
expect 1 "one ledger deployment matches one platform row only" "platform has, ledger lacks (1)" \
	"$M" reconcile --deployments twice.csv
late=$(date -u -d "$T13 + 3 hours" +%Y-%m-%dT%H:%M:%SZ)
printf 'environment,model,version,digest,time\nprod,m,1,,%s\n' "$late" >late.csv
expect 1 "a time beyond the tolerance does not match" "platform has, ledger lacks (1)" \
	"$M" reconcile --deployments late.csv
expect 1 "--tolerance 4h matches it (the staging ones in that period stay unmatched)" \
	"matched (1)" "$M" reconcile --deployments late.csv --tolerance 4h
expect 2 "a bad --tolerance is refused" "duration" "$M" reconcile --deployments late.csv --tolerance 1w
bad() { # NAME PATTERN LINE...: a file with the lines after the header
	local name=$1 pat=$2
	shift 2
	{ echo "environment,model,version,digest,time"; printf '%s\n' "$@"; } >bad.csv
	expect 2 "$name" "$pat" "$M" reconcile --deployments bad.csv
}
bad "version and digest both empty names the line" "bad.csv: line 3: version and digest are both empty" \
	"prod,m,1,,$T13" "prod,m,,,$T13"
bad "a time not in RFC 3339 UTC names the line" "bad.csv: line 2: time" "prod,m,1,,2026-12-06 10:00"
bad "a bad digest names the line" "line 2: digest" "prod,m,1,sha256:abc,$T13"
bad "a wrong number of cells names the line" "line 2: 4 cells, expected 5" "prod,m,1,$T13"
bad "an unclosed quote names the line" "line 2: a quoted cell is not closed" "prod,\"m,1,,$T13"
bad "a bad model name names the line" "line 2: model" "prod,=cmd|calc,1,,$T13"
printf 'env,model,version,digest,time\n' >hdr.csv
expect 2 "a wrong header is refused" "hdr.csv: line 1: the header must be" \
	"$M" reconcile --deployments hdr.csv
expect 2 "a missing --deployments is refused" "expected --deployments" "$M" reconcile

# 7. Outputs follow the output rules.
expect 0 "--out writes the file" "" "$M" population --out p.csv
expect 2 "--out refuses an existing file" "exists" "$M" population --out p.csv
expect 0 "--out --force replaces it" "" "$M" population --out p.csv --force
expect 2 "--out never names the ledger" "refusing" "$M" population --out "$W/l.db" --force
expect 2 "sample --out never names a secret key" "refusing" \
	"$M" sample --population all.csv --n 1 --seed x --out admin.key --force

# 8. A ledger that fails verify is refused, or read and labelled.
if [ -n "$HAVE_NACL" ]; then
	cp l.db forged.db
	"$M" show 10 --format json | "$PY" -c 'import base64, json, sys
st = json.loads(base64.b64decode(json.load(sys.stdin)["envelope"]["payload"]))
st["predicate"]["decision"] = "reject"
sys.stdout.write(json.dumps(st, separators=(",", ":")))' |
		"$PY" "$here/forge.py" sign-envelope bob.key >edited.json &&
		"$PY" "$here/forge.py" replace forged.db 10 <edited.json
	expect 4 "population refuses a ledger that fails verify" "fails verify" \
		"$M" population --ledger forged.db
	expect 4 "trace refuses it too" "fails verify" "$M" trace 13 --ledger forged.db
	expect 0 "--allow-unverified reads it and warns" "FAILS verify" \
		"$M" population --ledger forged.db --allow-unverified
	grep -q "^# verified no" out && ok "... and the scope says verified no" ||
		nok "... and the scope says verified no" "$(head -5 out)"
else
	skip "forged ledger" "python3 with PyNaCl is missing"
fi

# 9. Trace text shows invisible characters from people as codes.
"$M" key new eve >/dev/null
"$M" key enroll eve.pub --holder-key eve.key --role approver --name "$(printf 'a\342\200\256lice')" \
	--key admin.key >/dev/null
"$M" record approval m@2 --env staging --decision approve --key eve.key >/dev/null
expect 0 "trace text shows a bidi override in a person's name as a code" "U+202E" \
	"$M" trace 16
grep -q "$(printf '\342\200\256')" out && nok "... and never the character itself" "$(grep eve out)" ||
	ok "... and never the character itself"

finish

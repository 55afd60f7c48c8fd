#!/bin/sh
# tests/cli/report.sh — tests of `mlledger report` and `mlledger verify-report`.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/report.sh
#
# Builds a fixture ledger (keys, datasets, two versions of a model, their
# evaluations, approvals, deployments, monitoring with a gap, a waiver in
# force and an expired one, a retirement, an incident, a revoked key, and
# hostile field values), writes the report in every format and checks the
# facts in the JSON and in the HTML (parsed with python3's html.parser,
# tests/cli/report_check.py), the summary first (recomputed from the rest
# of the report, in JSON, HTML and Markdown), plain labels, people by name,
# metric verdicts by declared direction (two small ledgers), safety (no
# script, no external reference,
# escaping, CSV formula neutralisation), reproducibility, signatures, the
# refusal of a ledger that fails verification, every error exit, and a
# render to PDF and PNG with headless Chromium (skipped, visibly, without
# it), with the page count of the demo report and of a ledger of 32 model
# versions bounded, and the printed text read back with pdftotext (rule ids
# and NAME@VERSION whole, running header, page numbers; skipped, visibly,
# without poppler-utils), and every other format printed too
# (tests/cli/report_print.py: Markdown through cmark-gfm, JSON and CSV as
# text), each within a page bound with its summary on page 1, and the
# checks shown to fail on a copy without its summary and on a document over
# the bound.  Output: "ok - NAME" / "not ok - NAME: DETAIL" /
# "ok - NAME # SKIP WHY" lines, then "N passed, N failed, N skipped"; exits
# 1 when any case failed.

if [ -z "${BASH_VERSION:-}" ]; then
	if command -v bash >/dev/null 2>&1; then exec bash "$0" "$@"; fi
	echo "not ok - environment: tests/cli/report.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
unset POSIXLY_CORRECT MLLEDGER_LEDGER MLLEDGER_PASSPHRASE_FILE
set -u
export LC_ALL=C.UTF-8
umask 022

here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
M=${MLLEDGER:-$REPO/build/mlledger}
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3)
CHECK="$PY $here/report_check.py"
PROD=$REPO/policies/production.xml
# The default governance without "gates": the fixture deploys fraud@1.0 to
# prod without a gate decision, as its history happened.
UNGATED=$REPO/tests/data/governance-ungated.json
W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-report.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || { cd / && rm -rf "$W"; }' EXIT
cd "$W" || exit 1

PASS=0
FAIL=0
CASE=
WHY=
OUT=$W/.out
ERR=$W/.err
begin() { CASE=$1; WHY=; }
bad() { [ -n "$WHY" ] || WHY=$*; }
end() {
	if [ -z "$WHY" ]; then PASS=$((PASS + 1)); echo "ok - $CASE"
	else FAIL=$((FAIL + 1)); echo "not ok - $CASE: $WHY"; fi
}
SKIP=0
skip() { SKIP=$((SKIP + 1)); echo "ok - $1 # SKIP $2"; }
run() { "$@" >"$OUT" 2>"$ERR"; RC=$?; }
snip() { tr '\n' ' ' <"$1" | cut -c1-300; }
want_rc() { [ "$RC" = "$1" ] || bad "exit $RC, want $1 (stderr: $(snip "$ERR"))"; }
want_err() {
	want_rc "$1"
	grep -Eq -- "$2" "$ERR" || bad "stderr lacks /$2/: $(snip "$ERR")"
	[ "$(wc -l <"$ERR")" -eq 1 ] && grep -q '^mlledger: ' "$ERR" ||
		bad "want one 'mlledger: ...' line on stderr, got: $(snip "$ERR")"
}
# check_py ARGS...: report_check.py, its failures become the case's.
check_py() {
	$CHECK "$@" >"$W/.py" 2>&1 || bad "$(snip "$W/.py")"
}

# ---- the fixture ledger -------------------------------------------------

L=$W/ledger.db
ml() { run "$M" --ledger "$L" "$@"; }
mkdir -p "$W/k"
for k in admin ci alice bob rita eve auditor; do "$M" key new "$k" --dir "$W/k" >/dev/null; done
HOSTILE='<script>alert(\"x\")</script>'"'"'\"><img src=x onerror=alert(1)>'
LONG=$(head -c 60000 /dev/zero | tr '\0' L)
# imp KEY: imports standard input (JSON lines) signed by KEY.
imp() {
	cat >"$W/in.jsonl"
	"$M" --ledger "$L" import "$W/in.jsonl" --key "$W/k/$1.key" >/dev/null 2>"$W/imp.err" ||
		echo "# fixture import by $1 failed: $(cat "$W/imp.err")"
}
D0=$(printf '%064d' 0)
D1=$(printf '%064d' 1)
D2=$(printf '%064d' 2)
D3=$(printf '%064d' 3)
D4=$(printf '%064d' 4)
# A waiver may not be expired when it is recorded (FORMAT.md §5 rule 10), and
# it is recorded now: the waiver the report must show as expired expires
# tomorrow, the one in force far later, and the report is drawn as of 2030
# (or a month from now, should the tests run past 2029).
EXPIRES_SOON=$(date -u -d '+1 day' +%Y-%m-%d)
AS_OF=2030-01-01T00:00:00Z
[[ "$EXPIRES_SOON" < 2029-12-31 ]] || AS_OF=$(date -u -d '+31 days' +%Y-%m-%dT00:00:00Z)

begin "fixture ledger"
"$M" --ledger "$L" init --key "$W/k/admin.key" --origin report-test/ledger \
	--governance "$UNGATED" >/dev/null || bad "init"
# enrol NAME ROLES: the import line enrolling NAME, with its holder's proof
# of possession (ledger/FORMAT.md §2), made by key possess
enrol() {
	"$M" key possess --key "$W/k/$1.key" --origin report-test/ledger --out "$W/k/$1.pop" \
		--force >/dev/null
	"$PY" -c 'import json,sys
pop = json.load(open(sys.argv[1]))
print(json.dumps({"kind": "key-enrollment", "key": pop["key"], "roles": json.loads("[" + sys.argv[2] + "]"),
                  "person": pop["person"], "possession": pop["possession"],
                  "time": "2026-08-01T00:00:00Z"}, separators=(",", ":")))' "$W/k/$1.pop" "$2"
}
{ enrol ci '"engineer"'; enrol alice '"approver"'; enrol bob '"approver","validator"'
  enrol rita '"risk-officer"'; enrol eve '"approver"'; } | imp admin
imp ci <<EOF
{"kind":"dataset","subject":"unused@1","digest":"sha256:$D0","time":"2026-08-01T10:00:00Z"}
{"kind":"model","subject":"old@0.1","digest":"sha256:$D1","datasets":["unused@1"],"time":"2026-08-01T11:00:00Z"}
{"kind":"dataset","subject":"cb@2026-09","digest":"sha256:$D2","uri":"=HYPERLINK(\"http://evil.example/\",\"x\")","properties":{"license":"$HOSTILE","pii":false,"note":"$LONG","rtl":"abc\u202edef"},"time":"2026-09-01T00:00:00Z"}
{"kind":"model","subject":"fraud@1.0","digest":"sha256:$D3","datasets":["cb@2026-09"],"metrics":{"auc":0.88,"latency_ms":20},"time":"2026-09-02T00:00:00Z"}
EOF
imp bob <<EOF
{"kind":"evaluation","subject":"fraud@1.0","metrics":{"auc":0.88,"latency_ms":20},"time":"2026-09-03T00:00:00Z"}
{"kind":"approval","subject":"fraud@1.0","environment":"prod","decision":"approve","time":"2026-09-04T00:00:00Z"}
EOF
imp alice <<EOF
{"kind":"approval","subject":"fraud@1.0","environment":"prod","decision":"approve","time":"2026-09-04T01:00:00Z"}
EOF
imp ci <<EOF
{"kind":"deployment","subject":"fraud@1.0","environment":"prod","time":"2026-10-05T00:00:00Z"}
{"kind":"dataset","subject":"tx@2026-10","digest":"sha256:$D4","properties":{"license":"MIT","pii":true,"dpia":"DPIA-7"},"time":"2026-10-06T00:00:00Z"}
{"kind":"model","subject":"fraud@1.1","digest":"sha256:$(printf '%064d' 5)","datasets":["cb@2026-09","tx@2026-10"],"parent":"fraud@1.0","metrics":{"auc":0.91,"latency_ms":25},"time":"2026-10-10T00:00:00Z"}
EOF
imp bob <<EOF
{"kind":"evaluation","subject":"fraud@1.1","metrics":{"auc":0.91,"latency_ms":25},"dataset":"tx@2026-10","time":"2026-10-11T00:00:00Z"}
{"kind":"approval","subject":"fraud@1.1","environment":"prod","decision":"approve","time":"2026-10-13T00:00:00Z"}
EOF
imp alice <<EOF
{"kind":"approval","subject":"fraud@1.1","environment":"prod","decision":"approve","comment":"$HOSTILE \u202eevil","time":"2026-10-12T00:00:00Z"}
EOF
imp rita <<EOF
{"kind":"waiver","subject":"fraud@1.1","rule":"PROD-LICENSE","expires":"2099-12-31","reason":"licence under legal review","ticket":"LEGAL-9","time":"2026-10-14T00:00:00Z"}
{"kind":"waiver","subject":"fraud@1.1","rule":"PROD-INCIDENT","expires":"$EXPIRES_SOON","reason":"temporary","time":"2026-10-20T00:00:00Z"}
EOF
# CI gates fraud@1.1 before deploying it; the decision is recorded (kind gate),
# under the production policy as recorded in the ledger (a decision is made only
# under recorded policies)
"$M" --ledger "$L" policy record "$PROD" --key "$W/k/admin.key" >/dev/null 2>&1 ||
	bad "policy record failed"
"$M" --ledger "$L" gate --policy production fraud@1.1 --env prod --key "$W/k/ci.key" >/dev/null 2>&1
[ $? -le 1 ] || bad "gate --key failed"
imp ci <<EOF
{"kind":"model","subject":"risk@2.0","digest":"sha256:$(printf '%064d' 6)","datasets":["tx@2026-10"],"metrics":{"auc":0.7},"time":"2026-11-01T00:00:00Z"}
{"kind":"deployment","subject":"risk@2.0","environment":"staging","time":"2026-11-02T00:00:00Z"}
{"kind":"deployment","subject":"fraud@1.1","environment":"prod","time":"2026-11-10T00:00:00Z"}
{"kind":"retirement","subject":"fraud@1.0","environment":"prod","reason":"superseded","time":"2026-11-11T00:00:00Z"}
{"kind":"monitoring","subject":"fraud@1.1","environment":"prod","metrics":{"auc":0.90},"time":"2026-11-12T00:00:00Z"}
{"kind":"monitoring","subject":"fraud@1.1","environment":"prod","metrics":{"auc":0.89},"time":"2026-11-20T00:00:00Z"}
{"kind":"incident","subject":"fraud@1.1","severity":"medium","description":"score drift on weekends","time":"2026-11-25T00:00:00Z"}
{"kind":"monitoring","subject":"fraud@1.1","environment":"prod","metrics":{"auc":0.87},"time":"2026-12-15T00:00:00Z"}
EOF
printf '{"kind":"key-revocation","key":"%s","reason":"left","time":"2026-12-01T00:00:00Z"}\n' "$(cat "$W/k/eve.pub")" | imp admin
"$M" --ledger "$L" verify >/dev/null 2>&1 || bad "the fixture does not verify"
[ "$("$M" --ledger "$L" log --format json | grep -c '"seq":')" -ge 30 ] || bad "fixture too short"
end

# Every report below is drawn with these fixed inputs (reproducible).
FIX="--from 2026-10-01 --to 2026-12-31 --as-of $AS_OF --generated-at 2027-01-05T09:00:00Z"
rep() { ml report --policy "$PROD" $FIX "$@"; }

# ---- the facts ----------------------------------------------------------

begin "report --format json: scope, inventory, chains, deltas, cadence, findings, people"
rep --format json --out "$W/r.json"
want_rc 0
grep -q "^wrote $W/r.json (json, [0-9]* bytes)" "$OUT" || bad "stdout: $(snip "$OUT")"
[ -s "$W/r.json" ] && check_py json "$W/r.json"
end

begin "the evidence chain shows the gate decision recorded before the deployment"
if [ -f "$W/r.json" ]; then
	/usr/bin/python3 - "$W/r.json" <<'PY' 2>"$W/gd.err" || bad "$(snip "$W/gd.err")"
import json, re, sys
m = json.load(open(sys.argv[1]))
chains = {(c["ref"], c["environment"]): c for c in m["chains"]}
g = chains[("fraud@1.1", "prod")]["gateDecisions"]
assert len(g) == 1, g
assert g[0]["result"] in ("PASSED", "FAILED") and g[0]["policies"] == ["production@1.1.0"], g
assert g[0]["seq"] < chains[("fraud@1.1", "prod")]["deploymentSeq"], g
# the decision's own time (timeVerified), never empty ("PASSED by ci at " was)
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", g[0]["time"]), g[0]
assert g[0]["label"].startswith("seq %d: %s at %s by ci under production@1.1.0, every rule"
                                % (g[0]["seq"], g[0]["result"], g[0]["time"])), g[0]["label"]
assert " at  " not in g[0]["label"] and not re.search(r" at (;|,|$)", g[0]["label"]), g[0]["label"]
# its parameters and replay status, in words
assert g[0]["parameters"]["production"]["min-approvers"] == "2", g[0]
assert "; parameters production: " in g[0]["label"] and "min-approvers=2" in g[0]["label"], g[0]["label"]
assert g[0]["replayStatus"] == "same result" and g[0]["replayed"] is True, g[0]
assert g[0]["label"].endswith("; replay: same result"), g[0]["label"]
assert "DOES NOT REPLAY" not in g[0]["label"], g[0]["label"]
# the signer's key id beside the name
assert g[0]["author"] == "ci" and g[0]["authorKey"].startswith("ci+"), g[0]
assert chains[("fraud@1.0", "prod")]["gateDecisions"] == [], "fraud@1.0 was never gated"
PY
else
	bad "no r.json"
fi
end

begin "the monitoring gap limit comes from --max-gap-days, else monitoring.xml's max-age-days, else 7"
gap_of() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["scope"]["monitoringMaxGapDays"])' "$1"; }
ml report --policy "$PROD" --policy "$REPO/policies/monitoring.xml" $FIX --format json --out "$W/gap30.json"
want_rc 0
[ "$(gap_of "$W/gap30.json")" = 30 ] || bad "with monitoring.xml: $(gap_of "$W/gap30.json"), want 30"
ml report --policy "$REPO/policies/monitoring.xml" --param max-age-days=12 $FIX --format json --out "$W/gap12.json"
[ "$(gap_of "$W/gap12.json")" = 12 ] || bad "with max-age-days=12: $(gap_of "$W/gap12.json"), want 12"
ml report --policy "$REPO/policies/monitoring.xml" --max-gap-days 5 $FIX --format json --out "$W/gap5.json"
[ "$(gap_of "$W/gap5.json")" = 5 ] || bad "with --max-gap-days 5: $(gap_of "$W/gap5.json"), want 5"
[ -f "$W/r.json" ] && [ "$(gap_of "$W/r.json")" = 7 ] || bad "production.xml alone: want 7"
end

begin "the JSON report validates against reports/report.schema.json"
if [ -f "$W/r.json" ]; then check_py schema "$REPO/reports/report.schema.json" "$W/r.json"; else bad "no r.json"; fi
end

begin "report --format html: the same facts as HTML; no script, no external reference; hostile values escaped"
rep --format html --out "$W/r.html"
want_rc 0
[ -s "$W/r.html" ] && check_py html "$W/r.html"
grep -qi '<script' "$W/r.html" && bad "a <script in the raw HTML"
end

begin "report --format md: tables, hostile values escaped"
rep --format md --out "$W/r.md"
want_rc 0
grep -q '^## 4. Evidence chain per deployment' "$W/r.md" || bad "no chain section"
grep -q '^| fraud@1.1 | fraud@1.0 | replaced it in production | auc | 0.91 | 0.88 | 0.03 | better |' "$W/r.md" ||
	bad "no auc comparison row"
grep -q '^| fraud@1.1 | prod | auc | 30 | 2026-12-15T00:00:00Z | 0.87 | 0.91 | 0.9 |$' "$W/r.md" ||
	bad "no metric-over-time row with its threshold (the chart's plain table)"
[ "$(grep -c '^| fraud@1.1 | prod | auc | ' "$W/r.md")" = 3 ] || bad "not three auc points"
grep -q '<script' "$W/r.md" && bad "an unescaped <script in Markdown"
grep -qF '&lt;script&gt;alert("x")&lt;/script&gt;' "$W/r.md" || bad "the hostile value is not there, escaped"
end

begin "page one is the answer: the summary first in JSON, HTML and Markdown, recomputed from the rest; plain words; people by name"
if [ -s "$W/r.json" ] && [ -s "$W/r.html" ] && [ -s "$W/r.md" ]; then
	check_py summary "$W/r.json" "$W/r.html" "$W/r.md"
	# the fixture's own facts: risk@2.0 lacks approvals (deny); fraud@1.0 and
	# risk@2.0 were deployed without a gate decision, fraud@1.1 after one; the
	# incident on fraud@1.1 (in service) is open; a waiver in force, one expired;
	# a monitoring gap over 20 days
	"$PY" - "$W/r.json" <<'PY' 2>"$W/sf.err" || bad "$(snip "$W/sf.err")"
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
assert s["result"].startswith("findings: ") and s["findings"]["deny"] >= 1 and not s["clean"], s["result"]
seq = {(c["ref"], c["environment"]): c["deploymentSeq"] for c in r["chains"]}
g = [c for c in r["chains"] if c["ref"] == "fraud@1.1"][0]["gateDecisions"]
assert seq[("fraud@1.0", "prod")] in s["deployments"]["notGated"], s["deployments"]
assert seq[("risk@2.0", "staging")] in s["deployments"]["notGated"], s["deployments"]
assert (seq[("fraud@1.1", "prod")] in s["deployments"]["notGated"]) == (g[-1]["result"] != "PASSED"), s["deployments"]
assert s["deployments"]["inPeriod"] == 3, s["deployments"]
inc = [x["seq"] for x in r["inventory"]["incidents"] if x["ref"] == "fraud@1.1"]
assert len(inc) == 1 and s["openIncidents"] == inc, (s["openIncidents"], inc)
assert s["waivers"] == {"active": 1, "expired": 1}, s["waivers"]
assert s["monitoring"]["gaps"] >= 1 and s["monitoring"]["deploymentsWithGaps"] >= 1, s["monitoring"]
assert [f["framework"] for f in s["byFramework"]] == sorted(f["framework"] for f in s["byFramework"])
assert any(f["framework"] == "EU-AI-Act" and f["deny"] >= 1 for f in s["byFramework"]), s["byFramework"]
assert s["scope"]["policies"] == ["production@1.1.0"], s["scope"]
PY
else
	bad "no r.json, r.html or r.md"
fi
# a period with nothing deployed: nothing failed, so clean (and said so first)
ml report --policy "$PROD" --from 2026-01-01 --to 2026-01-31 --as-of $AS_OF \
	--generated-at 2027-01-05T09:00:00Z --format json --out "$W/clean.json"
want_rc 0
ml report --policy "$PROD" --from 2026-01-01 --to 2026-01-31 --as-of $AS_OF \
	--generated-at 2027-01-05T09:00:00Z --format md --out "$W/clean.md"
want_rc 0
"$PY" -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]
assert s["result"] == "clean" and s["clean"] is True, s["result"]
assert s["deployments"]["inPeriod"] == 0 and s["byFramework"] == [], s' "$W/clean.json" 2>"$W/cl.err" ||
	bad "an empty period: $(snip "$W/cl.err")"
grep -q '^\*\*\[Result\](#7-findings): clean\*\*$' "$W/clean.md" || bad "Markdown: no clean result line"
end

begin "a finding's waiver names the person who signed it (and the key id), as the waivers table does"
if [ -s "$W/r.json" ] && [ -s "$W/r.html" ]; then
	"$PY" - "$W/r.json" "$W/r.html" <<'PY' 2>"$W/wp.err" || bad "$(snip "$W/wp.err")"
import json, sys
r = json.load(open(sys.argv[1]))
html = open(sys.argv[2], encoding="utf-8").read()
by_seq = {w["seq"]: w for w in r["findings"]["waivers"]}
used = [f["waiver"] for f in r["findings"]["items"] if isinstance(f["waiver"], dict)]
assert used, "the fixture has no finding met by a waiver"
for wv in used:
    w = by_seq[wv["seq"]]
    assert wv["by"] == w["author"], (wv["by"], w["author"])
    assert wv["authorKey"] == w["authorKey"] and wv["authorKey"], wv
    assert ("by %s (key %s)" % (w["author"], w["authorKey"])) in wv["label"], wv["label"]
    # the engine's key label is not what a reader sees when a person is enrolled
    assert wv["label"] in html.replace("&amp;", "&") or wv["by"] in html, "waiver label not in the HTML"
PY
else
	bad "no r.json or r.html"
fi
end

begin "metric comparisons follow the declared direction: lower-is-better got worse (red), higher improved (green), undeclared changed (neutral)"
# two ledgers with the same history: one whose governance declares the metrics
# (demographic_parity_diff lower is better, auc higher), one that declares none
"$PY" -c 'import json,sys; g=json.load(open(sys.argv[1]))
g["metrics"]={"auc":{"direction":"higher"},"demographic_parity_diff":{"direction":"lower"}}
print(json.dumps(g))' "$UNGATED" >"$W/gov-declared.json"
for mode in declared open; do
	gov=$UNGATED
	[ $mode = declared ] && gov=$W/gov-declared.json
	DL=$W/dir-$mode.db
	"$M" --ledger "$DL" init --key "$W/k/admin.key" --origin report-test/dir --governance "$gov" \
		>/dev/null 2>&1 || bad "$mode: init"
	"$M" --ledger "$DL" key enroll "$W/k/ci.pub" --holder-key "$W/k/ci.key" --role engineer \
		--key "$W/k/admin.key" >/dev/null 2>&1 || bad "$mode: enroll"
	printf '%s\n' \
		'{"kind":"model","subject":"m@1","digest":"sha256:'"$D1"'","metrics":{"auc":0.80,"demographic_parity_diff":0.0006},"time":"2026-10-02T00:00:00Z"}' \
		'{"kind":"model","subject":"m@2","digest":"sha256:'"$D2"'","parent":"m@1","metrics":{"auc":0.85,"demographic_parity_diff":0.0967},"time":"2026-10-03T00:00:00Z"}' \
		>"$W/dir.jsonl"
	"$M" --ledger "$DL" import "$W/dir.jsonl" --key "$W/k/ci.key" >/dev/null 2>"$W/dir.err" ||
		bad "$mode: import: $(snip "$W/dir.err")"
	for f in json html; do
		run "$M" --ledger "$DL" report $FIX --format $f --out "$W/dir-$mode.$f"
		want_rc 0
	done
	[ -s "$W/dir-$mode.json" ] && check_py direction $mode "$W/dir-$mode.json" "$W/dir-$mode.html"
	[ -s "$W/dir-$mode.json" ] && { grep -q '"result": "no policy evaluated"' "$W/dir-$mode.json" ||
		bad "$mode: the summary of a report without policies"; }
done
end

begin "--detail summary (the default): html and md list the findings that are not a pass, then one row per rule"
[ -s "$W/r.html" ] && [ -s "$W/r.json" ] && check_py findings "$W/r.html" "$W/r.json" summary
rep --format html --detail summary --out "$W/sum.html"
cmp -s "$W/r.html" "$W/sum.html" || bad "--detail summary is not the default"
grep -q '^### Findings per rule' "$W/r.md" || bad "md: no table per rule"
grep -Eq '^\| PROD-APPROVAL \| deny \| .* \| passed for [0-9]+ version/environment pairs?[;|]' "$W/r.md" ||
	bad "md: no 'passed for N version/environment pairs' row for PROD-APPROVAL"
npass=$("$PY" -c 'import json,sys; print(sum(i["outcome"] == "pass" for i in json.load(open(sys.argv[1]))["findings"]["items"]))' "$W/r.json")
[ "$npass" -gt 0 ] || bad "the fixture has no passing finding"
sed -n '/^### Findings that need attention/,/^### /p' "$W/r.md" | grep -q '| pass |' &&
	bad "md: a passing finding listed on its own row"
end

begin "--detail all: html and md list every finding; json and csv always do"
rep --format html --detail all --out "$W/all.html"
want_rc 0
[ -s "$W/all.html" ] && [ -s "$W/r.json" ] && check_py findings "$W/all.html" "$W/r.json" all
rep --format md --detail all --out "$W/all.md"
nitems=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]["items"]))' "$W/r.json")
nrows=$(sed -n '/^### Findings$/,/^### /p' "$W/all.md" | grep -c '^| [a-z]* | [a-z]* | ')
[ "$nrows" = "$nitems" ] || bad "md --detail all: $nrows finding rows, want $nitems"
rep --format json --detail all --out "$W/all.json"
cmp -s "$W/r.json" "$W/all.json" || bad "--detail changed the JSON"
rep --format csv --table findings --detail summary --out "$W/findings.csv"
ncsv=$("$PY" -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1], newline="")))) - 1)' "$W/findings.csv" 2>&1)
[ "$ncsv" = "$nitems" ] || bad "findings.csv has $ncsv rows, want every finding ($nitems)"
end

begin "--spool always and never: the same bytes in every format (and both details); a bad value refused"
for sp in always never; do
	for f in html md json; do
		for d in summary all; do
			rep --format "$f" --detail "$d" --spool "$sp" --out "$W/sp-$sp-$d.$f"
			want_rc 0
		done
	done
	rep --format csv --spool "$sp" --out "$W/sp-$sp.csv"
	want_rc 0
done
for f in html md json; do
	for d in summary all; do
		cmp -s "$W/sp-always-$d.$f" "$W/sp-never-$d.$f" ||
			bad "$f --detail $d: --spool always and never differ"
	done
done
diff -r "$W/sp-always.csv" "$W/sp-never.csv" >/dev/null || bad "csv: --spool always and never differ"
cmp -s "$W/sp-never-summary.json" "$W/r.json" || bad "--spool never: not the default's JSON"
rep --format json --spool sometimes --out "$W/sp-bad.json"
want_err 2 'spool.*auto, always or never'
[ -e "$W/sp-bad.json" ] && bad "a bad --spool wrote its file"
end

begin "print markup: A4 @page, running header (origin, period), page N of M, breaks only at sensible points"
[ -s "$W/r.html" ] && check_py print "$W/r.html"
end

begin "report --format csv: one file per table, RFC 4180, formulas neutralised"
rep --format csv --out "$W/csv"
want_rc 0
[ -d "$W/csv" ] && check_py csv "$W/csv"
end

begin "report --format csv --table NAME writes that one table"
rep --format csv --table deployments --out "$W/dep.csv"
want_rc 0
cmp -s "$W/dep.csv" "$W/csv/deployments.csv" || bad "differs from the table of the folder"
end

begin "reports are reproducible: same inputs, same bytes (every format)"
for f in json html md; do
	rep --format "$f" --out "$W/again.$f"
	cmp -s "$W/r.$f" "$W/again.$f" || bad "$f differs between two runs"
done
rep --format csv --out "$W/csv2"
diff -r "$W/csv" "$W/csv2" >/dev/null || bad "csv differs between two runs"
end

begin "no policy: the report says so and has no findings"
ml report $FIX --format json --out "$W/nopol.json"
want_rc 0
grep -q '"evaluated": false' "$W/nopol.json" || bad "findings.evaluated is not false"
end

# ---- signatures ---------------------------------------------------------

begin "report --sign writes REPORT.sig.json; verify-report accepts it"
rep --format html --out "$W/s.html" --sign "$W/k/auditor.key"
want_rc 0
[ -s "$W/s.html.sig.json" ] || bad "no signature file"
grep -q '"payloadType": "application/vnd.in-toto+json"' "$W/s.html.sig.json" ||
	bad "payloadType"
run "$M" verify-report "$W/s.html" --key "$W/k/auditor.pub"
want_rc 0
grep -q "^ok: $W/s.html is signed by auditor+" "$OUT" || bad "stdout: $(snip "$OUT")"
grep -q "^period: " "$OUT" || bad "no scope printed: $(snip "$OUT")"
end

begin "verify-report: one changed byte exits 4"
cp "$W/s.html" "$W/t.html" && cp "$W/s.html.sig.json" "$W/t.html.sig.json"
sed -i 's/Audit report/Audit rePort/' "$W/t.html"
run "$M" verify-report "$W/t.html" --key "$W/k/auditor.pub"
want_err 4 'not the signed ones'
end

begin "verify-report: a signature with the signed sha256 fixed up but not re-signed exits 4"
sum=$(sha256sum "$W/t.html" | cut -c1-64)
"$PY" -c 'import base64,json,sys
e = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(e["payload"]))
st["subject"][0]["digest"]["sha256"] = sys.argv[2]
e["payload"] = base64.b64encode(json.dumps(st, separators=(",", ":")).encode()).decode()
json.dump(e, sys.stdout)' "$W/s.html.sig.json" "$sum" >"$W/t.html.sig.json"
run "$M" verify-report "$W/t.html" --key "$W/k/auditor.pub"
want_err 4 'does not verify'
end

begin "verify-report: another key exits 4; a missing signature exits 2; a non-signature exits 2"
run "$M" verify-report "$W/s.html" --key "$W/k/alice.pub"
want_err 4 'not by alice'
run "$M" verify-report "$W/r.html" --key "$W/k/auditor.pub"
want_err 2 'r.html.sig.json'
echo '{"payloadType": "text/plain"}' >"$W/not-sig.json"
run "$M" verify-report "$W/s.html" --key "$W/k/auditor.pub" --sig "$W/not-sig.json"
want_err 2 'not a report signature'
end

begin "report --sign with a missing key file exits 6 and writes nothing"
rep --format json --out "$W/nokey.json" --sign "$W/k/nobody.key"
want_rc 6
[ -e "$W/nokey.json" ] && bad "a report was written"
end

# ---- refusals and errors ------------------------------------------------

if command -v sqlite3 >/dev/null 2>&1; then
	begin "a ledger that fails verify: report exits 4 naming the entry, writes nothing"
	cp "$L" "$W/bad.db"
	[ -f "$L-wal" ] && cp "$L-wal" "$W/bad.db-wal"
	trig=$(sqlite3 "$W/bad.db" "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger'")
	for n in $(sqlite3 "$W/bad.db" "SELECT name FROM sqlite_master WHERE type = 'trigger'"); do
		sqlite3 "$W/bad.db" "DROP TRIGGER $n"
	done
	sqlite3 "$W/bad.db" "UPDATE entries SET envelope = CAST(replace(CAST(envelope AS TEXT), '\"sig\":\"', '\"sig\":\"A') AS BLOB) WHERE seq = 12" &&
		printf '%s\n' "$trig" | sqlite3 "$W/bad.db" || bad "could not tamper"
	run "$M" --ledger "$W/bad.db" report --policy "$PROD" $FIX --format html --out "$W/bad.html"
	want_err 4 'report: entry [0-9]+: '
	[ -e "$W/bad.html" ] && bad "a report was written"
	end

	begin "--allow-unverified: the report is written with the failure at the top"
	run "$M" --ledger "$W/bad.db" report --policy "$PROD" $FIX --format html --out "$W/bad.html" \
		--allow-unverified
	want_rc 0
	grep -q 'FAILED verification' "$ERR" || bad "no warning on stderr"
	[ -s "$W/bad.html" ] && check_py unverified "$W/bad.html"
	run "$M" --ledger "$W/bad.db" report $FIX --format json --out "$W/bad.json" --allow-unverified
	grep -q '"ok": false' "$W/bad.json" || bad "integrity.ok is not false in JSON"
	# the summary never calls a ledger that failed verify clean
	"$PY" -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]
assert s["result"] == "ledger failed verification; no policy evaluated", s["result"]
assert s["clean"] is False and s["integrity"]["verified"] is False, s
assert any(l["heading"] == "Integrity" and l["text"].startswith("full verify FAILED") for l in s["lines"]), s["lines"]
r = json.load(open(sys.argv[1]))
g = [d for c in r["chains"] for d in c["gateDecisions"]]
assert g and all(d["replayStatus"] == "not replayed" and d["label"].endswith(
    "; replay: not replayed (the ledger failed verification before this entry)") for d in g), g
assert s["deployments"]["gated"] == 0, s["deployments"]' \
		"$W/bad.json" 2>"$W/bs.err" || bad "summary of a failed ledger: $(snip "$W/bs.err")"
	end
else
	skip "a ledger that fails verify" "sqlite3 absent"
fi

begin "bad input exits 2 with one message"
rep --format pdf --out "$W/x"
want_err 2 'format html, md, json or csv'
ml report --policy "$PROD" --to 2026-12-31 --format json --out "$W/x"
want_err 2 'from YYYY-MM-DD is required'
ml report --from 2026-12-31 --to 2026-10-01 --format json --out "$W/x"
want_err 2 'must not come after'
rep --format json
want_err 2 'out PATH is required'
rep --format csv --table nope --out "$W/x"
want_err 2 'unknown table'
rep --format json --table models --out "$W/x"
want_err 2 'table applies to --format csv'
rep --format html --detail some --out "$W/x"
want_err 2 '--detail: "some" is not summary or all'
printf 'body { color: red }\n</style><script>alert(1)</script>\n' >"$W/evil.css"
rep --format html --css "$W/evil.css" --out "$W/x"
want_err 2 'stylesheet'
[ -e "$W/x" ] && bad "something was written"
end

begin "--css FILE restyles the report"
printf 'body { color: #123456 }\n' >"$W/my.css"
rep --format html --css "$W/my.css" --out "$W/css.html"
want_rc 0
grep -q '#123456' "$W/css.html" || bad "the stylesheet is not inlined"
end

begin "an invalid policy exits 3; a missing one exits 2"
ml report --policy "$REPO/tests/data/policy/invalid-schema.xml" $FIX --format json --out "$W/x"
want_rc 3
ml report --policy "$W/none.xml" $FIX --format json --out "$W/x"
want_rc 2
end

begin "report --help and verify-report --help"
run "$M" report --help
want_rc 0
grep -q '^usage: mlledger report' "$OUT" || bad "usage"
run "$M" verify-report --help
want_rc 0
end

# ---- headless Chromium: print to PDF, count pages, read the text -----------

# The demo (tools/demo.sh, run in $W with the repository's policies) and a
# ledger of 32 model versions (tests/cli/report_many.py: 8 families, each
# version deployed to staging and prod, so 64 evidence chains), as HTML.
# Page bounds on A4: the demo at most 8 (today 6: room for the executive
# summary and sign-off sections); 32 versions at most 22 (today 19: 64
# deployments keep an evidence chain each, about 8 to a page in two
# columns, and 42 failed findings a row each; 3 pages of headroom for the
# summary and sign-off sections, not for a return of the old layout, which
# took 38).
many_fixture() {
	local B=$W/many
	mkdir -p "$B/k"
	for k in admin ci alice bob; do "$M" key new "$k" --dir "$B/k" >/dev/null; done
	"$M" --ledger "$B/m.db" init --key "$B/k/admin.key" --origin report-test/many \
		--governance "$UNGATED" >/dev/null || return 1
	for k in ci alice bob; do
		"$M" key possess --key "$B/k/$k.key" --origin report-test/many --out "$B/k/$k.pop" \
			--force >/dev/null || return 1
	done
	"$PY" -c 'import json,sys
for k, r in (("ci", ["engineer"]), ("alice", ["approver"]), ("bob", ["approver", "validator"])):
    pop = json.load(open(sys.argv[1] + "/" + k + ".pop"))
    print(json.dumps({"kind": "key-enrollment", "key": pop["key"], "roles": r, "person": pop["person"],
                      "possession": pop["possession"], "time": "2026-03-01T00:00:00Z"}))' "$B/k" >"$B/e.jsonl"
	"$M" --ledger "$B/m.db" import "$B/e.jsonl" --key "$B/k/admin.key" >/dev/null || return 1
	for w in ci bob alice; do
		"$PY" "$here/report_many.py" "$w" 32 >"$B/$w.jsonl" &&
			"$M" --ledger "$B/m.db" import "$B/$w.jsonl" --key "$B/k/$w.key" >/dev/null || return 1
	done
	"$M" --ledger "$B/m.db" policy record "$PROD" --key "$B/k/admin.key" >/dev/null || return 1
	"$PY" "$here/report_many.py" refs 32 | while read -r ref env; do
		"$M" --ledger "$B/m.db" gate --policy production "$ref" --env "$env" \
			--key "$B/k/ci.key" >/dev/null 2>&1
		[ $? -le 1 ] || echo "gate $ref $env failed"
	done | grep -q . && return 1
	"$PY" "$here/report_many.py" deploy 32 >"$B/d.jsonl" &&
		"$M" --ledger "$B/m.db" import "$B/d.jsonl" --key "$B/k/ci.key" >/dev/null
}

CHROME=$(command -v chromium || command -v chromium-browser || true)
PDFTOTEXT=$(command -v pdftotext || true)
if [ -n "$CHROME" ] && [ -s "$W/r.html" ]; then
	mkdir -p "$W/chrome"
	# chrome FILE.html ARGS...
	chrome() {
		local f=$1
		shift
		# every host name maps to nothing, so nothing is fetched; the
		# verbose log names every request made (net_fetches)
		timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
			--disable-background-networking --host-resolver-rules="MAP * ~NOTFOUND" \
			--enable-logging=stderr --v=1 --user-data-dir="$W/chrome" "$@" \
			"file://$f" >"$W/chrome.log" 2>&1
	}
	# net_fetches: the network requests of the last chrome run, less the
	# browser's own (its update, account, clock and dictionary services at
	# google.com, googleapis.com and gvt1.com, which it asks for whatever
	# the page); a page's subresource from anywhere else is listed
	net_fetches() {
		sed -n 's/.*NotifyBeforeURLRequest: \([^ ]*\).*/\1/p' "$W/chrome.log" |
			grep -Ev '^https?://([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com)([:/?]|$)' |
			grep -Ev '^(file|data|chrome|about):'
	}
	# to_pdf FILE.html: FILE.pdf, and FILE.txt when pdftotext is there
	to_pdf() {
		chrome "$1" --print-to-pdf="${1%.html}.pdf" --no-pdf-header-footer ||
			bad "print-to-pdf of $1 failed: $(tail -c 300 "$W/chrome.log")"
		[ "$(head -c 5 "${1%.html}.pdf" 2>/dev/null)" = "%PDF-" ] || bad "no PDF of $1"
		grep -Eq 'Refused to|Failed to load' "$W/chrome.log" &&
			bad "chromium: $(grep -E 'Refused|Failed to load' "$W/chrome.log" | head -1)"
		[ -z "$(net_fetches)" ] || bad "printing $1 asked the network for: $(net_fetches | head -3)"
		[ -z "$PDFTOTEXT" ] || "$PDFTOTEXT" "${1%.html}.pdf" "${1%.html}.txt" ||
			bad "pdftotext ${1%.html}.pdf failed"
	}

	begin "headless Chromium renders the HTML report to PDF and to a screenshot"
	to_pdf "$W/r.html"
	[ "$(wc -c <"$W/r.pdf" 2>/dev/null || echo 0)" -gt 20000 ] || bad "the PDF is too small"
	chrome "$W/r.html" --screenshot="$W/r.png" --window-size=1200,1600 || bad "screenshot failed"
	[ "$(head -c 8 "$W/r.png" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
		bad "no PNG"
	end

	begin "the demo report prints on at most 8 A4 pages"
	mkdir -p "$W/demo-run/reports"
	ln -s "$REPO/policies" "$W/demo-run/policies"
	ln -s "$REPO/clients" "$W/demo-run/clients"
	(cd "$W/demo-run" && sh "$REPO/tools/demo.sh" "$M") >"$W/demo.log" 2>&1 ||
		bad "tools/demo.sh failed: $(tail -c 300 "$W/demo.log")"
	if [ -s "$W/demo-run/reports/demo.html" ]; then
		to_pdf "$W/demo-run/reports/demo.html"
		check_py pages 8 "$W/demo-run/reports/demo.pdf"
		echo "# demo report: $(cat "$W/.py")"
	fi
	end

	begin "a report over 30 model versions prints on at most 22 A4 pages"
	many_fixture || bad "the 32-version fixture failed"
	MANY="--from 2026-04-01 --to 2026-09-30 --time-tolerance 87600 --as-of $AS_OF --generated-at 2027-01-05T09:00:00Z"
	run "$M" --ledger "$W/many/m.db" report --policy "$PROD" $MANY --format html --out "$W/many.html"
	want_rc 0
	run "$M" --ledger "$W/many/m.db" report --policy "$PROD" $MANY --format json --out "$W/many.json"
	want_rc 0
	[ "$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["inventory"]["models"]))' "$W/many.json" 2>&1)" -gt 30 ] ||
		bad "the fixture does not have over 30 model versions"
	if [ -s "$W/many.html" ]; then
		to_pdf "$W/many.html"
		check_py pages 22 "$W/many.pdf"
		echo "# 32 model versions: $(cat "$W/.py")"
	fi
	end

	if [ -n "$PDFTOTEXT" ]; then
		begin "printed text: rule ids and NAME@VERSION whole, the running header and Page N of M on every page"
		[ -s "$W/r.txt" ] && check_py pdftext "$W/r.txt" PROD-APPROVAL fraud@1.1 risk@2.0 \
			"Audit report · report-test/ledger · 2026-10-01 to 2026-12-31"
		[ -s "$W/demo-run/reports/demo.txt" ] && check_py pdftext "$W/demo-run/reports/demo.txt" \
			$("$PY" "$here/report_check.py" counts "$W/demo-run/reports/demo.json" PROD-EVALUATION \
				fraud-detector@3.1.0) PROD-APPROVAL demo.mlledger.example/fraud
		[ -s "$W/many.txt" ] && check_py pdftext "$W/many.txt" \
			$("$PY" "$here/report_check.py" counts "$W/many.json" PROD-EVALUATION \
				kyc-document-classifier@1.3.0) collections-priority@1.2.0 PROD-GATED \
			"Audit report · report-test/many · 2026-04-01 to 2026-09-30"
		end
	else
		echo "# NOTICE: pdftotext is not installed: the printed-text test is SKIPPED (apt-get install poppler-utils, or make deps)"
		skip "printed text: ids whole, running header, page numbers" "pdftotext absent"
	fi
	# ---- every format printed: Markdown as GitHub renders it (cmark-gfm),
	# JSON and CSV as text in a <pre> page (tests/cli/report_print.py)
	# Page bounds on A4, for the demo report: Markdown at most 8 (today 6;
	# the HTML report's bound, it holds the same sections), JSON at most 26
	# (today 20: the whole model, two-space indented, in 7pt monospace;
	# 30% headroom for new members, not for a duplicated section or an
	# unwrapped 60,000-byte value), the CSV folder at most 5 (today 3).
	CMARK=$(command -v cmark-gfm || true)
	PRINT="$PY $here/report_print.py"
	DR=$W/demo-run/reports
	mkdir -p "$W/print"
	# print_fmt FMT SOURCE NAME: $W/print/NAME.{html,pdf,txt}; the page
	# fails the case when it would reference anything outside itself
	print_fmt() {
		$PRINT page "$1" "$2" "$W/print/$3.html" ${CMARK:+"$CMARK"} >"$W/.py" 2>&1 ||
			{ bad "$(snip "$W/.py")"; return 1; }
		to_pdf "$W/print/$3.html"
	}
	# print_check FMT MAX SOURCE NAME: report_print.py check, its failures the case's
	print_check() {
		$PRINT check "$1" "$2" "$3" "$W/print/$4.pdf" "$W/print/$4.txt" >"$W/.py" 2>&1 ||
			bad "$(snip "$W/.py")"
	}
	# print_refused FMT MAX SOURCE NAME WHY: the check must fail, saying WHY
	print_refused() {
		if $PRINT check "$1" "$2" "$3" "$W/print/$4.pdf" "$W/print/$4.txt" >"$W/.py" 2>&1; then
			bad "$4: the check passed"
		else
			grep -q -- "$5" "$W/.py" || bad "$4: failed, but not for /$5/: $(snip "$W/.py")"
		fi
	}
	if [ -z "$CMARK" ] || [ -z "$PDFTOTEXT" ]; then
		begin "every format prints: Markdown, JSON and CSV to PDF"
		bad "needs cmark-gfm and pdftotext (apt-get install cmark-gfm poppler-utils, or make deps)"
		end
	elif ! [ -s "$DR/demo.md" ] || ! [ -s "$DR/demo.json" ] || ! [ -d "$DR/demo-csv" ]; then
		begin "every format prints: Markdown, JSON and CSV to PDF"
		bad "the demo wrote no demo.md, demo.json or demo-csv/ to print"
		end
	else
		begin "every format prints on bounded A4 pages with its summary on page 1: html, md (tables as tables), json, csv (controls first)"
		print_check html 8 "$DR/demo.html" ../demo-run/reports/demo
		for f in md json csv; do
			src=$DR/demo.$f
			[ $f = csv ] && src=$DR/demo-csv
			max=8
			[ $f = json ] && max=26
			[ $f = csv ] && max=5
			print_fmt $f "$src" demo-$f && print_check $f $max "$src" demo-$f
			echo "# demo report, $f: $(cat "$W/.py")"
		done
		# the fixture's Markdown, hostile values and all, renders to a
		# page with no reference outside it and its summary first (at most
		# 40 pages; 23 today, most of them its 60,000-byte value)
		print_fmt md "$W/r.md" fixture-md && print_check md 40 "$W/r.md" fixture-md
		echo "# fixture report, md: $(cat "$W/.py")"
		end

		begin "the print checks fail: a copy without its summary (html, md, json, csv), Markdown tables left as text, a page with an external reference (before and while printing), a document over the page limit"
		sed '/^## Summary$/,/^## 1\. Scope$/{/^## 1\. Scope$/!d}' "$DR/demo.md" >"$W/print/nosum.md"
		grep -q '^## Summary' "$W/print/nosum.md" && bad "the Markdown summary was not removed"
		print_fmt md "$W/print/nosum.md" nosum-md
		print_refused md 8 "$W/print/nosum.md" nosum-md "no .Summary. heading on page 1"
		grep -q "^Summary$" "$W/print/nosum-md.txt" && bad "nosum-md: a Summary heading printed"
		"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); del r["summary"]
json.dump(r, open(sys.argv[2], "w"), indent=2)' "$DR/demo.json" "$W/print/nosum.json"
		print_fmt json "$W/print/nosum.json" nosum-json
		print_refused json 26 "$W/print/nosum.json" nosum-json "the summary member is not on page 1"
		"$PY" -c 'import re,sys; t=open(sys.argv[1]).read()
u=re.sub(r"<section id=\"summary\">.*?</section>", "", t, count=1, flags=re.S)
assert u != t; open(sys.argv[2], "w").write(u)' "$DR/demo.html" "$W/print/nosum.html" || bad "no summary section to remove"
		to_pdf "$W/print/nosum.html"
		print_refused html 8 "$W/print/nosum.html" nosum "no .Summary. heading on page 1"
		mkdir -p "$W/print/nosum-csv"
		cp "$DR"/demo-csv/*.csv "$W/print/nosum-csv/" && rm "$W/print/nosum-csv/controls.csv"
		print_fmt csv "$W/print/nosum-csv" nosum-csv
		print_refused csv 5 "$W/print/nosum-csv" nosum-csv "no controls.csv"
		# Markdown printed as its source text: the tables are not tables
		print_fmt json "$DR/demo.md" md-as-text
		print_refused md 8 "$DR/demo.md" md-as-text "tables not rendered"
		# a page that would fetch from the network is refused before printing
		printf '# x\n\n![logo](http://example.invalid/logo.png)\n' >"$W/print/ext.md"
		if $PRINT page md "$W/print/ext.md" "$W/print/ext.html" "$CMARK" >"$W/.py" 2>&1; then
			bad "a page with an image from the network was accepted"
		else
			grep -q 'references outside itself' "$W/.py" || bad "ext.md: $(snip "$W/.py")"
		fi
		# a page that does reference the network: the log shows the request
		printf '<!DOCTYPE html><p>x</p><img src="http://example.invalid/logo.png">\n' >"$W/print/net.html"
		chrome "$W/print/net.html" --print-to-pdf="$W/print/net.pdf" --no-pdf-header-footer
		net_fetches | grep -q '^http://example.invalid/logo.png$' ||
			bad "an image from the network was not seen in Chromium's log: $(net_fetches | head -3)"
		# over the limit: the fixture's Markdown (its 60,000-byte value alone
		# takes pages) against the demo's bound
		print_refused md 8 "$W/r.md" fixture-md "A4 pages, want 1 to 8"
		end
	fi
	# the pages as PNG, to look at (KEEP=1 keeps $W)
	if command -v pdftoppm >/dev/null 2>&1 && [ -n "${KEEP:-}" ]; then
		for f in r demo-run/reports/demo many; do
			[ -s "$W/$f.pdf" ] && pdftoppm -r 60 -png "$W/$f.pdf" "$W/$f-page"
		done
		echo "# page images: $W/*-page-*.png"
	fi
else
	echo "# NOTICE: chromium is not installed: the PDF/screenshot tests are SKIPPED (apt-get install chromium, or make deps)"
	skip "headless Chromium renders the HTML report" "chromium absent"
	skip "the demo report prints on at most 8 A4 pages" "chromium absent"
	skip "a report over 30 model versions prints on at most 22 A4 pages" "chromium absent"
	skip "printed text: ids whole, running header, page numbers" "chromium absent"
	skip "every format prints on bounded A4 pages with its summary on page 1" "chromium absent"
	skip "the print checks fail: a copy without its summary, a document over the page limit" "chromium absent"
fi

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]

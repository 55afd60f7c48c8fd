#!/bin/sh
# tests/cli/sarif.sh — findings where users work: SARIF that GitHub code
# scanning accepts, GitLab Code Quality, every policy named, contrib CI files.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/sarif.sh
#
# SARIF from gate and check validates against the official 2.1.0 schema
# (../shared/schemas; a visible SKIP when absent) and passes GitHub's own
# upload rules (every result has a physical location, a ruleId among the
# rules, a level in error/warning/note/none), points at the rule's line in
# the policy file as given (or --sarif-location), and leaves passing results
# out unless --sarif-all; --format gitlab has exactly GitLab's keys and
# stable fingerprints; with two --policy options text, json, junit and
# sarif name both; contrib/github-actions.yml and contrib/gitlab-ci.yml
# parse as YAML and upload what these commands write.  Each checker is shown
# to fail on a broken document.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/sarif.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" sarif
REPO=$(cd "$here/../.." && pwd)
SCHEMAS=$REPO/../shared/schemas
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=

export MLLEDGER_LEDGER=$W/l.db
for k in admin ci val rita; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null || exit 1
"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null || exit 1
"$M" key enroll val.pub --holder-key val.key --role validator --key admin.key >/dev/null || exit 1
"$M" key enroll rita.pub --holder-key rita.key --role risk-officer --key admin.key >/dev/null || exit 1
echo data >d.bin
echo model-1 >m1.bin
"$M" record dataset d@1 --file d.bin --set license=MIT --set pii=false --key ci.key >/dev/null || exit 1
"$M" record model m@1 --artifact m1.bin --dataset d@1 --metric auc=0.9 --key ci.key >/dev/null || exit 1
"$M" record evaluation m@1 --metric auc=0.9 --key val.key >/dev/null || exit 1
mkdir pol
cp "$REPO/policies/production.xml" "$REPO/policies/monitoring.xml" pol/ || exit 1
"$M" policy record pol/monitoring.xml --key rita.key >/dev/null || exit 1

# py NAME SCRIPT ARGS...: ok when the python check exits 0, else its stderr
py() {
	local name=$1
	shift
	if "$PY" "$@" >py.out 2>py.err; then ok "$name"; else nok "$name" "$(tail -c 400 py.err)"; fi
}
# py_fails NAME SCRIPT ARGS...: the checker must refuse (it can fail)
py_fails() {
	local name=$1
	shift
	if "$PY" "$@" >py.out 2>py.err; then nok "$name" "the checker accepted it"; else ok "$name"; fi
}

cat >github.py <<'PY'
# GitHub code scanning's own rules for an upload, beyond the schema, and
# what mlledger promises: argv: FILE [URI LINE-FROM LINE-TO [ALL]].
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == "2.1.0", "version"
runs = doc["runs"]
assert len(runs) == 1, "one run (GitHub refuses several runs of one tool)"
for run in runs:
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)), "rule ids unique"
    for r in rules:
        assert r["shortDescription"]["text"], "rule shortDescription"
        assert r["help"]["text"], "rule help.text"
        assert "compliance" in r["properties"]["tags"], "rule tags"
        for c in r["properties"]["controls"]:
            assert "%s %s" % (c["framework"], c["ref"]) in r["properties"]["tags"], "control tag"
    assert run["results"], "no results"
    for res in run["results"]:
        assert res["ruleId"] in ids, "ruleId %r not among the rules" % res.get("ruleId")
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"], "ruleIndex"
        assert res["level"] in ("error", "warning", "note", "none"), "level"
        locs = [l for l in res.get("locations", []) if "physicalLocation" in l]
        assert locs, "expected at least one location with a physical location"
        phys = locs[0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"], "uri"
        assert phys["region"]["startLine"] >= 1, "startLine"
        if len(sys.argv) <= 5:
            assert res["properties"]["outcome"] != "pass", "a passing result without --sarif-all"
    if len(sys.argv) > 2:
        uri, lo, hi = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        first = run["results"][0]["locations"][0]["physicalLocation"]
        assert first["artifactLocation"]["uri"] == uri, first["artifactLocation"]["uri"]
        assert lo <= first["region"]["startLine"] <= hi, (first["region"]["startLine"], lo, hi)
PY

cat >schema.py <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
jsonschema.Draft4Validator(schema).validate(doc)
PY

cat >gitlab.py <<'PY'
# GitLab Code Quality (the subset GitLab documents): argv: FILE [PATH].
import json, re, sys
doc = json.load(open(sys.argv[1]))
assert isinstance(doc, list) and doc, "a non-empty array"
fps = set()
for it in doc:
    assert list(it) == ["description", "check_name", "fingerprint", "severity", "location"], list(it)
    assert isinstance(it["description"], str) and it["description"], "description"
    assert isinstance(it["check_name"], str) and it["check_name"], "check_name"
    assert re.fullmatch("[0-9a-f]{64}", it["fingerprint"]), "fingerprint"
    assert it["fingerprint"] not in fps, "fingerprint repeated"
    fps.add(it["fingerprint"])
    assert it["severity"] in ("info", "minor", "major", "critical", "blocker"), "severity"
    loc = it["location"]
    assert list(loc) == ["path", "lines"] and list(loc["lines"]) == ["begin"], "location"
    assert isinstance(loc["lines"]["begin"], int) and loc["lines"]["begin"] >= 1, "begin"
    if len(sys.argv) > 2:
        assert loc["path"] == sys.argv[2], loc["path"]
PY

# the rule's start tag: from the line naming its id to the line closing the tag
rule_lines() {
	awk -v id="id=\"$2\"" 'index($0, id) && !lo { lo = NR } lo && !hi && index($0, ">") { hi = NR }
		END { print lo, hi }' "$1"
}
read -r AP_LO AP_HI <<<"$(rule_lines pol/production.xml PROD-APPROVAL)"

# ---- SARIF -----------------------------------------------------------------

"$M" gate --policy pol/production.xml --policy pol/monitoring.xml m@1 --env prod \
	--format sarif >gate.sarif 2>err
rc=$?
if [ "$rc" = 1 ]; then ok "gate --format sarif with two policies denies (exit 1)"; else nok "gate sarif exit" "exit $rc: $(head -c 300 err)"; fi

if [ -f "$SCHEMAS/sarif-schema-2.1.0.json" ] && [ -n "$PY" ] && "$PY" -c 'import jsonschema' 2>/dev/null; then
	py "gate's SARIF validates against the SARIF 2.1.0 schema" schema.py "$SCHEMAS/sarif-schema-2.1.0.json" gate.sarif
	sed 's/"kind": "fail"/"kind": "oops"/' gate.sarif >bad.sarif
	py_fails "the schema check fails on a result of unknown kind" schema.py "$SCHEMAS/sarif-schema-2.1.0.json" bad.sarif
else
	skip "SARIF schema validation" "../shared/schemas or python3-jsonschema absent"
fi
if [ -n "$PY" ]; then
	py "gate's SARIF passes GitHub's rules and points at pol/production.xml, PROD-APPROVAL's line" \
		github.py gate.sarif pol/production.xml "$AP_LO" "$AP_HI"
	"$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
for r in d["runs"][0]["results"]: r.pop("locations", None)
json.dump(d, open(sys.argv[2], "w"))' gate.sarif noloc.sarif
	py_fails "the GitHub check fails on results without a location" github.py noloc.sarif
	"$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
d["runs"][0]["results"][0]["ruleId"] = "NOT-A-RULE"
json.dump(d, open(sys.argv[2], "w"))' gate.sarif norule.sarif
	py_fails "the GitHub check fails on a ruleId that is not among the rules" github.py norule.sarif
else
	skip "GitHub SARIF rules" "no python3"
fi

"$M" gate --policy pol/production.xml m@1 --env prod --format sarif --sarif-all >all.sarif 2>err
n_all=$(grep -c '"ruleId"' all.sarif)
n_def=$("$M" gate --policy pol/production.xml m@1 --env prod --format sarif 2>/dev/null | grep -c '"ruleId"')
if [ "$n_all" -gt "$n_def" ] && grep -q '"kind": "pass"' all.sarif &&
	! "$M" gate --policy pol/production.xml m@1 --env prod --format sarif 2>/dev/null | grep -q '"kind": "pass"'; then
	ok "passing results only with --sarif-all ($n_def results without, $n_all with)"
else
	nok "--sarif-all" "$n_def results without, $n_all with"
fi
[ -n "$PY" ] && py "--sarif-all output passes GitHub's rules" github.py all.sarif pol/production.xml "$AP_LO" "$AP_HI" all

"$M" gate --policy "$W/pol/production.xml" m@1 --env prod --format sarif \
	--sarif-location "./ci/our policy.xml" >loc.sarif 2>err
if grep -q '"uri": "ci/our%20policy.xml"' loc.sarif && ! grep -q '"uri": "pol/' loc.sarif; then
	ok "--sarif-location names the file of every result (a URI reference)"
else
	nok "--sarif-location" "$(grep '"uri"' loc.sarif | head -3)"
fi
"$M" gate --policy "$W/pol/production.xml" m@1 --env prod --format sarif >abs.sarif 2>err
if grep -q '"uri": "pol/production.xml"' abs.sarif; then
	ok "an absolute policy path below the working directory is written relative to it"
else
	nok "relative uri" "$(grep '"uri"' abs.sarif | head -2)"
fi

"$M" check --policy monitoring --policy pol/production.xml --format sarif >check.sarif 2>err
rc=$?
"$M" check --policy monitoring --policy pol/production.xml --format sarif --sarif-all >checkall.sarif 2>/dev/null
if [ "$rc" = 1 ] && grep -q '"uri": "policies/monitoring.xml"' checkall.sarif &&
	grep -q '"uri": "pol/production.xml"' checkall.sarif; then
	ok "check --format sarif: a recorded policy at policies/ID.xml, a file as given"
else
	nok "check sarif" "exit $rc: $(head -c 300 err)"
fi
if [ -f "$SCHEMAS/sarif-schema-2.1.0.json" ] && [ -n "$PY" ] && "$PY" -c 'import jsonschema' 2>/dev/null; then
	py "check's SARIF validates against the SARIF 2.1.0 schema" schema.py "$SCHEMAS/sarif-schema-2.1.0.json" check.sarif
else
	skip "check's SARIF schema validation" "../shared/schemas or python3-jsonschema absent"
fi
[ -n "$PY" ] && py "check's SARIF passes GitHub's rules" github.py check.sarif

# ---- GitLab ----------------------------------------------------------------

"$M" gate --policy pol/production.xml m@1 --env prod --format gitlab >gl1.json 2>err
rc=$?
"$M" gate --policy pol/production.xml m@1 --env prod --format gitlab >gl2.json 2>/dev/null
if [ "$rc" = 1 ] && cmp -s gl1.json gl2.json; then
	ok "gate --format gitlab denies (exit 1) and writes the same report twice (stable fingerprints)"
else
	nok "gitlab" "exit $rc, or the two reports differ"
fi
if [ -n "$PY" ]; then
	py "--format gitlab has exactly GitLab's Code Quality keys" gitlab.py gl1.json pol/production.xml
	sed 's/"check_name"/"extra": 1, "check_name"/' gl1.json >glbad.json
	py_fails "the GitLab check fails on a key GitLab does not document" gitlab.py glbad.json
	sed 's/"severity": "[a-z]*"/"severity": "deny"/' gl1.json >glbad.json
	py_fails "the GitLab check fails on a severity GitLab does not know" gitlab.py glbad.json
	if "$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert not any("PROD-LICENSE" == i["check_name"] for i in d)  # passes
assert any(i["check_name"] == "PROD-APPROVAL" and i["severity"] == "critical" for i in d)' gl1.json 2>py.err; then
		ok "gitlab lists failed findings (deny as critical), not passes"
	else
		nok "gitlab content" "$(tail -c 300 py.err)"
	fi
	"$M" check --policy pol/production.xml --policy monitoring --format gitlab >glc.json 2>err
	py "check --format gitlab with two policies has GitLab's keys" gitlab.py glc.json
else
	skip "GitLab Code Quality checks" "no python3"
fi

# ---- every policy named ----------------------------------------------------

"$M" gate --policy pol/production.xml --policy monitoring m@1 --env prod >two.txt 2>&1
if grep -Eq '^gate: DENY .*; policies production [^ ]+ sha256:[0-9a-f]{64}, monitoring [^ ]+ sha256:[0-9a-f]{64}$' two.txt; then
	ok "the summary line names both policies"
else
	nok "summary" "$(tail -1 two.txt)"
fi
"$M" gate --policy pol/production.xml --policy monitoring m@1 --env prod --format json >two.json 2>/dev/null
if [ -n "$PY" ] && "$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["policy"]["id"] == "production", d["policy"]
assert [p["id"] for p in d["policies"]] == ["production", "monitoring"], d["policies"]
assert d["policies"][1]["file"].startswith("monitoring@"), d["policies"][1]' two.json 2>py.err; then
	ok "json: policy is the first, policies lists both"
else
	nok "json policies" "$(tail -c 300 py.err)"
fi
"$M" check --policy pol/production.xml --policy monitoring --format junit >two.xml 2>/dev/null
if grep -q '<testsuite name="mlledger production, monitoring"' two.xml &&
	grep -q '<property name="policy.id" value="production"/>' two.xml &&
	grep -q '<property name="policy.2.id" value="monitoring"/>' two.xml; then
	ok "junit names both policies (suite name, policy.* and policy.2.*)"
else
	nok "junit policies" "$(grep -E 'testsuite |policy' two.xml | head -5)"
fi
if [ -f "$SCHEMAS/junit-ant.xsd" ] && command -v xmllint >/dev/null; then
	if xmllint --noout --schema "$SCHEMAS/junit-ant.xsd" two.xml 2>xl.err; then
		ok "junit with two policies validates against the Ant JUnit XSD"
	else
		nok "junit schema" "$(tail -c 300 xl.err)"
	fi
else
	skip "junit schema validation" "../shared/schemas or xmllint absent"
fi
if [ -n "$PY" ] && "$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
p = d["runs"][0]["properties"]
assert [x["id"] for x in p["policies"]] == ["monitoring", "production"], p["policies"]' check.sarif 2>py.err; then
	ok "sarif: the run's properties list both policies"
else
	nok "sarif policies" "$(tail -c 300 py.err)"
fi

# ---- refused flags ---------------------------------------------------------

expect 2 "--sarif-all with --format json exits 2 naming the flag" "--sarif-all: only with --format sarif" \
	"$M" gate --policy pol/production.xml m@1 --env prod --format json --sarif-all
expect 2 "--sarif-location with text exits 2 naming the flag" "--sarif-location: only with --format sarif or gitlab" \
	"$M" check --policy pol/production.xml --sarif-location x.xml
expect 2 "an empty --sarif-location exits 2" "--sarif-location: expected a path" \
	"$M" gate --policy pol/production.xml m@1 --env prod --format sarif --sarif-location ""
expect 2 "an unknown --format lists the formats, gitlab among them" "sarif, github or gitlab" \
	"$M" gate --policy pol/production.xml m@1 --env prod --format codeclimate

# ---- contrib CI files ------------------------------------------------------

if [ -n "$PY" ] && "$PY" -c 'import yaml' 2>/dev/null; then
	py "contrib/github-actions.yml is YAML that runs gate --format sarif and uploads it" -c 'import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
steps = [s for j in d["jobs"].values() for s in j["steps"]]
runs = " ".join(s.get("run", "") for s in steps)
assert "--format sarif" in runs and "mlledger gate" in runs, "no gate --format sarif"
up = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
assert up and all(s["with"]["sarif_file"] for s in up), "no upload-sarif step"
assert d["permissions"]["security-events"] == "write", "permissions"' "$REPO/contrib/github-actions.yml"
	py "contrib/gitlab-ci.yml is YAML whose jobs report --format gitlab as codequality" -c 'import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
jobs = {k: v for k, v in d.items() if isinstance(v, dict) and "script" in v}
assert jobs, "no jobs"
for name, j in jobs.items():
    out = j["artifacts"]["reports"]["codequality"]
    assert any("--format gitlab" in l and out in l for l in j["script"]), name' "$REPO/contrib/gitlab-ci.yml"
	printf 'jobs: [unclosed\n' >bad.yml
	py_fails "the YAML check fails on a file that is not YAML" -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' bad.yml
else
	skip "contrib YAML checks" "python3-yaml absent (apt-get install -y python3-yaml)"
fi

finish

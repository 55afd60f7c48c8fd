#!/usr/bin/env python3
"""Rule coverage of the shipped policy tests, beyond `policy test --require-coverage`.

For every rule of every policy named by policies/tests/*.tests.xml, counts
the cases that expect it to pass, to fail, and to fail in a case whose
verdict is expected to be deny.  Then, for each rule of severity deny,
proves that its failure is what denies: the policy is copied with that rule
demoted to severity warn, the tests are run against the copy, and at least
one `verdict="deny"` expectation of a case where the rule fails must stop
holding.  (A warn rule's failure must not deny: a case expecting it to fail
with verdict pass is looked for.)

  python3 policies/tests/coverage.py [MLLEDGER]     (default build/mlledger)

Prints a Markdown table; exits 1 when a rule misses a path.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

T = "{https://mlledger.dev/policy-test/v1}"
P = "{https://mlledger.dev/policy/v1}"
HERE = os.path.dirname(os.path.abspath(__file__))
POLICIES = os.path.dirname(HERE)


def cases(test_file):
    """(case number, line-less name, {rule: outcome}, verdict) per case."""
    out = []
    for n, c in enumerate(ET.parse(test_file).getroot().iter(T + "case"), 1):
        rules, verdict = {}, None
        for e in c.iter(T + "expect"):
            if e.get("verdict"):
                verdict = e.get("verdict")
            elif e.get("rule") and not e.get("subject"):
                # several expectations of one rule agree on the outcome
                rules[e.get("rule")] = e.get("outcome")
        out.append((n, c.get("name", ""), rules, verdict))
    return out


def run_tests(mlledger, files):
    r = subprocess.run([mlledger, "policy", "test", "--format", "json"] + files,
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit("policy test exited %d: %s" % (r.returncode, r.stderr))
    return json.loads(r.stdout)


def main():
    mlledger = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/mlledger")
    files = sorted(glob.glob(os.path.join(HERE, "*.tests.xml")))
    ok = True
    rows = []
    for tf in files:
        policy = os.path.normpath(os.path.join(HERE, ET.parse(tf).getroot().get("policy")))
        root = ET.parse(policy).getroot()
        rules = [(r.get("id"), r.get("severity")) for r in root.iter(P + "rule")]
        cs = cases(tf)
        for rid, sev in rules:
            passes = [n for n, _, rs, _ in cs if rs.get(rid) == "pass"]
            fails = [n for n, _, rs, _ in cs if rs.get(rid) == "fail"]
            fail_deny = [n for n, _, rs, v in cs if rs.get(rid) == "fail" and v == "deny"]
            fail_pass = [n for n, _, rs, v in cs if rs.get(rid) == "fail" and v == "pass"]
            proven = "n/a"
            if sev == "deny" and fail_deny:
                # demote the rule to warn in a copy of policies/ and rerun
                with tempfile.TemporaryDirectory() as tmp:
                    copy = os.path.join(tmp, "policies")
                    shutil.copytree(POLICIES, copy)
                    cp = os.path.join(copy, os.path.basename(policy))
                    text = open(cp, encoding="utf-8").read()
                    text, k = re.subn(r'(<rule id="%s" severity=")deny(")' % re.escape(rid),
                                      r"\1warn\2", text)
                    assert k == 1, rid
                    open(cp, "w", encoding="utf-8").write(text)
                    res = run_tests(mlledger, [os.path.join(copy, "tests", os.path.basename(tf))])
                    broke = sorted({f["case"] for f in res["failures"]
                                    if not f.get("rule") and f["expected"] == "deny"
                                    and f["case"] in fail_deny})
                proven = "yes (case %s)" % ", ".join(map(str, broke)) if broke else "NO"
            elif sev == "deny":
                proven = "NO (no case expects it to fail with verdict deny)"
            else:
                proven = "warn: case %s fails with verdict pass" % ", ".join(map(str, fail_pass)) \
                    if fail_pass else "NO (no fail case with verdict pass)"
            good = passes and fails and not proven.startswith("NO") and \
                (sev != "deny" or fail_deny)
            ok = ok and bool(good)
            rows.append((os.path.basename(tf), rid, sev, len(passes), len(fails),
                         len(fail_deny), proven))
    print("| tests | rule | severity | pass cases | fail cases | fail+deny cases | failure denies (rule demoted to warn breaks) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | `%s` | %s | %d | %d | %d | %s |" % r)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Every shipped pack is tested, and every rule has a passing and a failing case.

  python3 policies/tests/packs_check.py [MLLEDGER [POLICIES]]
      (defaults: build/mlledger, the folder above this script)

`mlledger policy test --require-coverage` checks the rules of the policies
its test files name; a pack with no test file at all escapes it.  This
check starts from the packs instead:

1. every policy file POLICIES/*.xml (root element `policy`) is named by
   exactly one POLICIES/tests/*.tests.xml (its `policy` attribute);
2. every test file names a pack of POLICIES;
3. `policy test --require-coverage --format json` over those test files
   holds every expectation and reports no rule without a pass or a fail
   path (a rule that never fails in a fixture is "missing ... fail").

Prints one line per problem, naming the file and the rule; exits 0 when
there is none, 1 otherwise, 2 on a usage error.  `make test` runs it on the
shipped packs (tests/cli/packs.sh), and on altered copies to prove it fails.
"""
import glob
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

P = "{https://mlledger.dev/policy/v1}"
T = "{https://mlledger.dev/policy-test/v1}"


def root_tag(path):
    try:
        return ET.parse(path).getroot().tag
    except (ET.ParseError, OSError) as e:
        return "unreadable: %s" % e


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    mlledger = os.path.abspath(argv[1] if len(argv) > 1 else "build/mlledger")
    policies = os.path.abspath(argv[2] if len(argv) > 2 else os.path.dirname(here))
    if len(argv) > 3 or not os.path.isdir(policies):
        print("usage: packs_check.py [MLLEDGER [POLICIES]]", file=sys.stderr)
        return 2
    problems = []
    packs = {}
    for f in sorted(glob.glob(os.path.join(policies, "*.xml"))):
        tag = root_tag(f)
        if tag == P + "policy":
            packs[os.path.realpath(f)] = []
        elif tag.startswith("unreadable"):
            problems.append("%s: %s" % (f, tag))
    tests = sorted(glob.glob(os.path.join(policies, "tests", "*.tests.xml")))
    for tf in tests:
        try:
            r = ET.parse(tf).getroot()
        except ET.ParseError as e:
            problems.append("%s: not well formed: %s" % (tf, e))
            continue
        target = os.path.realpath(os.path.join(os.path.dirname(tf), r.get("policy", "")))
        if r.tag != T + "tests" or target not in packs:
            problems.append("%s: names no pack of %s (policy=\"%s\")"
                            % (tf, policies, r.get("policy", "")))
        else:
            packs[target].append(tf)
    for pack, tfs in sorted(packs.items()):
        if not tfs:
            problems.append("%s: no test file in %s/tests names it" % (pack, policies))
        elif len(tfs) > 1:
            problems.append("%s: named by %d test files (%s): keep one per pack"
                            % (pack, len(tfs), ", ".join(map(os.path.basename, tfs))))
    named = [tf for tfs in packs.values() for tf in tfs]
    if named:
        r = subprocess.run([mlledger, "policy", "test", "--require-coverage", "--format",
                            "json"] + sorted(named), capture_output=True, text=True)
        if r.returncode not in (0, 1):
            problems.append("policy test exited %d: %s" % (r.returncode, r.stderr.strip()))
        else:
            res = json.loads(r.stdout)
            for f in res["failures"]:
                problems.append("%s:%s case %s: expected %s, got %s" % (
                    f["file"], f["line"], f["case"], f["expected"], f["got"]))
            for c in res["coverage"]:
                for m in c["missing"]:
                    problems.append("%s: rule %s of pack %s has no %s case" % (
                        c["file"], m["rule"], c["policy"],
                        "failing" if m["path"] == "fail" else "%s" % m["path"]))
    for p in problems:
        print(p)
    print("packs: %d, test files: %d, problems: %d" % (len(packs), len(named), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/bin/sh
# tests/cli/packs.sh — the shipped rule packs stay tested.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/packs.sh
#
# policies/tests/packs_check.py passes on the shipped packs (every pack has
# one test file, every rule a passing and a failing case, every expectation
# holds), and fails, naming the pack or the rule, on copies of policies/
# where coverage silently dropped: a pack without tests, a rule without a
# failing case, a test file removed, a test file naming no pack.  Also: no
# pack, test or document cites SR 11-7 as current (only us-model-risk's
# description and the README's note on the change may name it).
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/packs.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" packs
REPO=$(cd "$here/../.." && pwd)
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
CHECK=$REPO/policies/tests/packs_check.py

expect 0 "the shipped packs: each tested, every rule with a pass and a fail case" \
	"problems: 0" "$PY" "$CHECK" "$M"
grep -q "^packs: [4-9][0-9]*, test files: [4-9]" out &&
	ok "the check saw every shipped pack" || nok "the check saw every shipped pack" "$(cat out)"

# a fresh copy of policies/ for each negative case
copy() { rm -rf "$W/$1" && cp -r "$REPO/policies" "$W/$1"; }

copy p1 && sed 's/id="us-model-risk"/id="us-model-risk-copy"/' "$REPO/policies/us-model-risk.xml" >p1/us-model-risk-copy.xml
expect 1 "a pack without a test file fails the check, naming it" \
	"us-model-risk-copy.xml: no test file in .* names it" "$PY" "$CHECK" "$M" p1

copy p2 && "$PY" - p2/us-model-risk.xml <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
rule = '''  <rule id="USMR-NEW" severity="deny" context="$candidate">
    <title>A rule nobody wrote a failing case for</title>
    <assert test="true()">never fails</assert>
  </rule>
</policy>'''
open(p, "w").write(s.replace("</policy>", rule))
EOF
expect 1 "a rule with no failing case fails the check, naming the rule" \
	"rule USMR-NEW of pack us-model-risk has no failing case" "$PY" "$CHECK" "$M" p2

copy p3 && "$PY" - p3/tests/us-model-risk.tests.xml <<'EOF'
import re, sys
p = sys.argv[1]
s = open(p).read()
# drop every case that expects USMR-MONITORING to fail
s, n = re.subn(r'<case\b(?:(?!</case>).)*rule="USMR-MONITORING" outcome="fail"(?:(?!</case>).)*</case>',
               "", s, flags=re.S)
assert n > 0
open(p, "w").write(s)
EOF
expect 1 "failing cases of a rule removed: the check fails, naming the rule" \
	"rule USMR-MONITORING of pack us-model-risk has no failing case" "$PY" "$CHECK" "$M" p3

copy p4 && rm p4/tests/eu-ai-act-high-risk.tests.xml
expect 1 "a test file removed: the check fails, naming its pack" \
	"eu-ai-act-high-risk.xml: no test file" "$PY" "$CHECK" "$M" p4

copy p5 && sed 's#policy="../us-model-risk.xml"#policy="../sr-11-7.xml"#' \
	"$REPO/policies/tests/us-model-risk.tests.xml" >p5/tests/old.tests.xml
expect 1 "a test file naming no shipped pack fails the check" \
	"old.tests.xml: names no pack" "$PY" "$CHECK" "$M" p5

copy p6 && sed -i 's/outcome="fail" message-contains="one within 90 days is required"/outcome="pass"/' \
	p6/tests/us-model-risk.tests.xml
expect 1 "an expectation that does not hold fails the check" \
	"expected pass, got fail" "$PY" "$CHECK" "$M" p6

# SR 11-7 is superseded (SR 26-2 / OCC Bulletin 2026-13, 2026-04-17): no
# file may cite it as current.  Allowed: us-model-risk.xml (its description,
# "formerly SR 11-7 and OCC Bulletin 2011-12": checked below), the note on
# the change in policies/README.md, and this test.  stale_in DIR lists the
# other files of DIR that name it (the tracked files in a git checkout).
stale_in() {
	(cd "$1" && if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git grep -I -l -i -e 'sr-11-7' -e 'sr 11-7' -e 'sr117' -e '2011-12' -- . | sed 's#^#./#'
	else
		grep -rIl -i -e 'sr-11-7' -e 'sr 11-7' -e 'sr117' -e '2011-12' .
	fi | grep -v -x -e './policies/us-model-risk.xml' -e './policies/README.md' \
		-e './tests/cli/packs.sh')
}
stale=$(stale_in "$REPO")
[ -z "$stale" ] && ok "no file but the allowed ones names SR 11-7" ||
	nok "no file but the allowed ones names SR 11-7" "$stale"
mkdir -p t/docs && cp -r "$REPO/policies" t/ && cp "$REPO/README.md" t/ &&
	echo "Model validation per SR 11-7." >t/docs/NOTES.md
stale=$(stale_in t)
[ "$stale" = "./docs/NOTES.md" ] && ok "a file citing SR 11-7 is caught" ||
	nok "a file citing SR 11-7 is caught" "got: $stale"
# in us-model-risk.xml, only the policy's own description names it
where=$("$PY" - "$REPO/policies/us-model-risk.xml" <<'EOF'
import re, sys
import xml.etree.ElementTree as ET
P = "{https://mlledger.dev/policy/v1}"
text = open(sys.argv[1], encoding="utf-8").read()
desc = ET.parse(sys.argv[1]).getroot().find(P + "description").text or ""
pat = re.compile(r"sr[ -]?11-7|2011-12", re.I)
outside = pat.findall(text.replace(desc, ""))
print("description:%d outside:%d" % (len(pat.findall(desc)), len(outside)))
EOF
)
case $where in
description:[1-9]*" outside:0") ok "us-model-risk names SR 11-7 in its description only ($where)" ;;
*) nok "us-model-risk names SR 11-7 in its description only" "$where" ;;
esac
! grep -q 'framework="SR-11-7"' "$REPO"/policies/*.xml &&
	ok "no control maps to SR-11-7" || nok "no control maps to SR-11-7" "$(grep -l 'framework="SR-11-7"' "$REPO"/policies/*.xml)"

finish

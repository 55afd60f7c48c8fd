#!/bin/sh
# tests/cli/exhaustion.sh — the gate fails closed on exhaustion (issue 12).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/exhaustion.sh
#
# A policy whose let doubles a string with concat() until it no longer fits
# in memory, run by `mlledger gate` under `ulimit -v` (in a subshell).  The
# rule denies when the string holds "needle" (it always does, once built);
# libxml2 leaves an empty string when it cannot build it, which used to
# make the rule PASS (exit 0) with only "Memory allocation failed" on
# stderr.  The gate must exit 3 (indeterminate), name the rule, say "out of
# memory", and not leave libxml2's own message as the only signal.  A
# smaller explosion under the same limit must still deny (exit 1): the
# limit alone does not break the gate.  The doubling is capped (2^20 KiB = 1 GiB at most, reached in
# about a second even without a limit), so the case stays quick.
#
# Skipped when the binary cannot start under the limit (ASan builds reserve
# terabytes of address space: make check).  Prints "ok - NAME" or
# "not ok - NAME: DETAIL" per case and "N passed, N failed"; exits 1 when
# any case failed.

if [ -z "${BASH_VERSION:-}" ]; then
	if command -v bash >/dev/null 2>&1; then
		exec bash "$0" "$@"
	fi
	echo "not ok - environment: tests/cli/exhaustion.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
if shopt -oq posix 2>/dev/null; then set +o posix; fi
set -u
export LC_ALL=C
unset MLLEDGER_LEDGER MLLEDGER_PASSPHRASE_FILE

here=$(cd "$(dirname "$0")" && pwd)
M=${MLLEDGER:-$here/../../build/mlledger}
case $M in /*) ;; *) M=$(pwd)/$M ;; esac
if [ ! -x "$M" ]; then
	echo "not ok - environment: $M is not an executable (set MLLEDGER)"
	echo "0 passed, 1 failed"
	exit 1
fi
# KiB of address space for the limited runs: enough for mlledger, its
# libraries and a ledger, far less than the explosion.
LIMIT=${MLLEDGER_TEST_VMEM_KB:-262144}

W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-exh.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
PASS=0 FAIL=0 CASE= WHY=
OUT=$W/out ERR=$W/err
begin() { CASE=$1 WHY=; }
bad() { [ -n "$WHY" ] || WHY=$1; }
end() {
	if [ -z "$WHY" ]; then PASS=$((PASS + 1)); echo "ok - $CASE"
	else FAIL=$((FAIL + 1)); echo "not ok - $CASE: $WHY"; fi
}
skip() { PASS=$((PASS + 1)); echo "ok - $1 # SKIP $2"; }
snip() { tr '\n' ' ' <"$1" | cut -c1-300; }
# limited CMD...: CMD under ulimit -v $LIMIT in a subshell; $RC, $OUT, $ERR.
limited() {
	(ulimit -v "$LIMIT" && exec "$@") >"$OUT" 2>"$ERR"
	RC=$?
}

L=$W/ledger.db
K=$W/keys
setup() {
	mkdir -p "$K" &&
		"$M" key new admin --dir "$K" &&
		"$M" key new eng --dir "$K" &&
		"$M" --ledger "$L" init --key "$K/admin.key" &&
		"$M" --ledger "$L" key enroll "$K/eng.pub" --holder-key "$K/eng.key" --role engineer --key "$K/admin.key" &&
		"$M" --ledger "$L" record model m@1 \
			--digest sha256:0f9ff3d9a6d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 \
			--key "$K/eng.key"
} >"$W/setup.log" 2>&1
if ! setup; then
	echo "not ok - setup: $(snip "$W/setup.log")"
	echo "0 passed, 1 failed"
	exit 1
fi

# policy FILE DOUBLINGS: $a0 is 1 KiB, $aN is 2^N KiB; the rule asserts
# that $aN does not contain "needle" (false whenever it could be built).
policy() {
	local i
	{
		echo '<policy xmlns="https://mlledger.dev/policy/v1" id="boom" version="1">'
		printf '  <let name="k" value="concat('
		for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do printf "'%s', " "$(printf '%064d' 0)"; done
		printf "'needle')\"/>\n"
		echo '  <let name="a0" value="$k"/>'
		for ((i = 1; i <= $2; i++)); do
			echo "  <let name=\"a$i\" value=\"concat(\$a$((i - 1)), \$a$((i - 1)))\"/>"
		done
		echo '  <rule id="BOOM" severity="deny" context="/ev:evidence/ev:candidate">'
		echo '    <title>no needle in the string</title>'
		echo "    <assert test=\"not(contains(\$a$2, 'needle'))\">needle found</assert>"
		echo '  </rule>'
		echo '</policy>'
	} >"$1"
}
policy "$W/small.xml" 4   # 16 KiB
policy "$W/boom.xml" 20   # 1 GiB: never fits under $LIMIT

if ! (ulimit -v "$LIMIT" && exec "$M" policy lint "$W/small.xml") >/dev/null 2>&1; then
	skip "gate exits 3 when a let exhausts memory (ulimit -v)" \
		"$M does not start under ulimit -v $LIMIT (a sanitizer build?)"
	echo "$PASS passed, $FAIL failed"
	exit 0
fi

begin "under ulimit -v, a policy whose lets fit is evaluated: it denies (exit 1)"
limited "$M" --ledger "$L" gate --policy "$W/small.xml" m@1 --env prod --no-record
[ "$RC" = 1 ] || bad "exit $RC, want 1 (stdout: $(snip "$OUT") stderr: $(snip "$ERR"))"
grep -q 'needle found' "$OUT" || bad "no 'needle found': $(snip "$OUT")"
end

begin "gate exits 3 (indeterminate, not PASS) when a let exhausts memory under ulimit -v"
start=$(date +%s)
limited timeout 60 "$M" --ledger "$L" gate --policy "$W/boom.xml" m@1 --env prod --no-record
[ "$RC" = 3 ] || bad "exit $RC, want 3 (stdout: $(snip "$OUT") stderr: $(snip "$ERR"))"
grep -q 'BOOM' "$OUT" || bad "stdout does not name the rule: $(snip "$OUT")"
grep -qi 'indeterminate' "$OUT" || bad "stdout does not say indeterminate: $(snip "$OUT")"
grep -q 'out of memory' "$OUT" || bad "stdout does not say out of memory: $(snip "$OUT")"
! grep -q '^PASS' "$OUT" || bad "a PASS line: $(snip "$OUT")"
! grep -q 'Memory allocation failed' "$ERR" ||
	bad "libxml2's own message on stderr: $(snip "$ERR")"
[ $(($(date +%s) - start)) -le 30 ] || bad "took more than 30 s"
end

begin "gate --format json says indeterminate for the exhausted rule (exit 3)"
limited "$M" --ledger "$L" gate --policy "$W/boom.xml" m@1 --env prod --no-record --format json
[ "$RC" = 3 ] || bad "exit $RC, want 3 (stderr: $(snip "$ERR"))"
grep -q '"indeterminate"' "$OUT" || bad "no indeterminate outcome: $(snip "$OUT")"
end

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

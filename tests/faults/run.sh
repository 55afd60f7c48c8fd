#!/bin/sh
# tests/faults/run.sh — storage faults at the command line (issue 6, part 4).
#
#   MLLEDGER=/abs/mlledger FAULT_SHIM=/abs/fault_step.so sh tests/faults/run.sh
#
# The unit test tests/unit/test_faults.c fails every sqlite3_step of an
# append and of an import-sized batch inside the library.  This suite does
# the same to the whole `mlledger import` process (both its connections,
# the builder thread's reads included) with an LD_PRELOAD shim
# (tests/faults/fault_step.c): for each of SQLITE_FULL, SQLITE_IOERR,
# SQLITE_BUSY and SQLITE_NOMEM and each call N the import makes, the import
# with call N failing must exit 5 with one "mlledger: import: ..." line on
# stderr, leave the ledger as it was (entry count and latest checkpoint) and
# verify.  A negative test first: the same checks must reject an import with
# no fault (it exits 0 and changes the ledger).
#
# Prints one line per code ("ok - ..." / "not ok - ...") and "N passed,
# N failed"; exits 1 when any failed.  FAULT_LINES (default 10) sets the
# import's size.

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
unset MLLEDGER_LEDGER MLLEDGER_PASSPHRASE_FILE
export LC_ALL=C
# The shim is not built with ASan: under make check the sanitizer runtime
# must tolerate a preloaded library ahead of it.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

here=$(cd "$(dirname "$0")" && pwd)
M=${MLLEDGER:-$here/../../build/mlledger}
SHIM=${FAULT_SHIM:-$here/../../build/faults/fault_step.so}
NL=${FAULT_LINES:-10}
if [ ! -x "$M" ] || [ ! -f "$SHIM" ]; then
	echo "not ok - environment: need MLLEDGER ($M) and FAULT_SHIM ($SHIM)"
	echo "0 passed, 1 failed"
	exit 1
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-faults.XXXXXX") || exit 1
trap 'cd / && rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
cd "$W" || exit 1

HA=$(printf '%064d' 0 | tr 0 a)
mkdir k
for n in admin eng; do "$M" key new "$n" --dir k >/dev/null || exit 1; done
"$M" --ledger base.db init --key k/admin.key >/dev/null &&
	"$M" --ledger base.db key enroll k/eng.pub --role engineer --key k/admin.key >/dev/null &&
	"$M" --ledger base.db record dataset d@1 --digest "sha256:$HA" --key k/eng.key >/dev/null || exit 1
awk -v n="$NL" -v ha="$HA" 'BEGIN {
	printf "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:%s\",\"datasets\":[\"d@1\"]}\n", ha
	for (j = 2; j <= n; j++)
		printf "{\"kind\":\"evaluation\",\"subject\":\"m@1\",\"dataset\":\"d@1\",\"metrics\":{\"run\":%d}}\n", j
}' >imp.jsonl

fresh() {
	rm -f t.db t.db-wal t.db-shm t.db.log.key
	cp base.db t.db && cp -p base.db.log.key t.db.log.key
}
# state DB: entry count and the latest checkpoint.
state() {
	"$M" --ledger "$1" log --format json 2>/dev/null | grep -c '"seq":'
	"$M" --ledger "$1" checkpoint 2>&1
}
BEFORE=$(state base.db)

# one_fault AT CODE: runs the import with call AT failing with CODE; prints
# why it is wrong, or nothing.
one_fault() {
	fresh
	LD_PRELOAD=$SHIM MLLEDGER_FAULT_AT=$1 MLLEDGER_FAULT_CODE=$2 \
		"$M" --ledger t.db import imp.jsonl --key k/eng.key >out 2>err
	rc=$?
	[ "$rc" = 5 ] || { echo "exit $rc, want 5: $(head -c 200 err)"; return; }
	[ "$(wc -l <err)" = 1 ] && grep -q '^mlledger: import: ' err ||
		{ echo "stderr: $(head -c 200 err)"; return; }
	[ ! -s out ] || { echo "stdout: $(head -c 200 out)"; return; }
	[ "$(state t.db)" = "$BEFORE" ] || { echo "the ledger changed"; return; }
	"$M" --ledger t.db verify >vout 2>&1 || echo "verify: $(head -c 200 vout)"
}

PASS=0 FAIL=0
# Count the calls of an undisturbed import, and check that the checks
# reject it (the negative test).
fresh
LD_PRELOAD=$SHIM MLLEDGER_FAULT_COUNT=$W/calls "$M" --ledger t.db import imp.jsonl \
	--key k/eng.key >/dev/null 2>&1
STEPS=$(cat calls 2>/dev/null || echo 0)
why=$(one_fault -1 13)
if [ "$STEPS" -gt 20 ] && [ -n "$why" ]; then
	PASS=$((PASS + 1))
	echo "ok - an import of $NL lines makes $STEPS sqlite3_step calls; without a fault the checks reject it ($why)"
else
	FAIL=$((FAIL + 1))
	echo "not ok - negative test: $STEPS calls, checks said '$why' without a fault"
fi

for spec in 13:SQLITE_FULL 10:SQLITE_IOERR 5:SQLITE_BUSY 7:SQLITE_NOMEM; do
	code=${spec%%:*}
	bad= nbad=0
	for n in $(seq 0 $((STEPS - 1))); do
		why=$(one_fault "$n" "$code")
		[ -z "$why" ] && continue
		nbad=$((nbad + 1))
		[ -n "$bad" ] || bad="call $n: $why"
	done
	[ -z "$bad" ] || bad="$nbad of $STEPS calls wrong; first: $bad"
	if [ -z "$bad" ]; then
		PASS=$((PASS + 1))
		echo "ok - ${spec#*:} at each of $STEPS calls of import: exit 5, ledger unchanged, verify passes"
	else
		FAIL=$((FAIL + 1))
		echo "not ok - ${spec#*:}: $bad"
	fi
done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

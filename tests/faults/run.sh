#!/bin/sh
# tests/faults/run.sh — storage faults at the command line (issue 6, part 4).
#
#   MLLEDGER=/abs/mlledger FAULT_SHIM=/abs/fault_step.so sh tests/faults/run.sh
#
# The unit test tests/unit/test_faults.c fails every sqlite3_step of an
# append and of an import-sized batch inside the library.  This suite does
# the same to whole processes, one for each command that writes the ledger
# (import, record, submit, key enroll, gate --key) and each that reads it for
# a verdict (check, report, verify, population, trace), with an LD_PRELOAD shim
# (tests/faults/fault_step.c) that counts every sqlite3_step the process
# makes on any connection or thread, reads included.  For each of
# SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY and SQLITE_NOMEM and each call N the
# command makes, the command with call N failing must exit 5 with one
# "mlledger: COMMAND: ..." line on stderr, print nothing on stdout (gate
# prints its findings before it records them, so its stdout is not
# checked), write no report file, leave the ledger as it was (entry count
# and latest checkpoint) and verify.  A negative test first, per command:
# the same checks must reject the command run with no fault (it exits 0, or
# 1 for a deny, and a writer changes the ledger).
#
# Prints one line per command and code ("ok - ..." / "not ok - ...") and
# "N passed, N failed"; exits 1 when any failed.  FAULT_LINES (default 10)
# sets the import's size; FAULT_CMDS (default all) the commands to run.

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

POLICY=$here/../../policies/production.xml
HA=$(printf '%064d' 0 | tr 0 a)
mkdir k
for n in admin eng ops; do "$M" key new "$n" --dir k >/dev/null || exit 1; done
"$M" --ledger base.db init --key k/admin.key >/dev/null &&
	"$M" --ledger base.db key enroll k/eng.pub --holder-key k/eng.key --role engineer,validator --key k/admin.key >/dev/null &&
	"$M" --ledger base.db record dataset d@1 --digest "sha256:$HA" --key k/eng.key >/dev/null &&
	"$M" --ledger base.db record model m@0 --digest "sha256:$HA" --dataset d@1 \
		--key k/eng.key >/dev/null &&
	"$M" --ledger base.db sign evaluation m@0 --metric auc=0.9 --dataset d@1 \
		--key k/eng.key --out sub.json >/dev/null &&
	"$M" --ledger base.db policy record "$POLICY" --key k/admin.key >/dev/null || exit 1
awk -v n="$NL" -v ha="$HA" 'BEGIN {
	printf "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:%s\",\"datasets\":[\"d@1\"]}\n", ha
	for (j = 2; j <= n; j++)
		printf "{\"kind\":\"evaluation\",\"subject\":\"m@1\",\"dataset\":\"d@1\",\"metrics\":{\"run\":%d}}\n", j
}' >imp.jsonl

# The commands under test, by name.
cmd_args() {
	case $1 in
	import) echo "import imp.jsonl --key k/eng.key" ;;
	record) echo "record evaluation m@0 --metric auc=0.91 --dataset d@1 --key k/eng.key" ;;
	submit) echo "submit sub.json" ;;
	enroll) echo "key enroll k/ops.pub --holder-key k/ops.key --role approver --key k/admin.key" ;;
	gate) echo "gate --policy production m@0 --env prod --key k/eng.key" ;;
	check) echo "check --policy $POLICY --jobs 1" ;;
	report) echo "report --policy $POLICY --from 2000-01-01 --to 2099-12-31 --format json --out r.json --jobs 1" ;;
	verify) echo "verify --jobs 1" ;;
	population) echo "population --kind all --format json --out r.json --jobs 1" ;;
	trace) echo "trace 3 --format json --out r.json --jobs 1" ;;
	esac
}
# cmd_label NAME: the command name its error lines start with.
cmd_label() { case $1 in enroll) echo "key enroll" ;; *) echo "$1" ;; esac; }

fresh() {
	rm -f t.db t.db-wal t.db-shm t.db.log.key r.json
	cp base.db t.db && cp -p base.db.log.key t.db.log.key
}
# state DB: entry count and the latest checkpoint.
state() {
	"$M" --ledger "$1" log --format json 2>/dev/null | grep -c '"seq":'
	"$M" --ledger "$1" checkpoint 2>&1
}
BEFORE=$(state base.db)

# one_fault NAME AT CODE: runs command NAME with call AT failing with CODE;
# prints why it is wrong, or nothing.
one_fault() {
	fresh
	# shellcheck disable=SC2046 # the arguments hold no spaces
	LD_PRELOAD=$SHIM MLLEDGER_FAULT_AT=$2 MLLEDGER_FAULT_CODE=$3 \
		"$M" --ledger t.db $(cmd_args "$1") >out 2>err
	rc=$?
	[ "$rc" = 5 ] || { echo "exit $rc, want 5: $(head -c 200 err)"; return; }
	[ "$(wc -l <err)" = 1 ] && grep -q "^mlledger: $(cmd_label "$1"): " err ||
		{ echo "stderr: $(head -c 200 err)"; return; }
	[ "$1" = gate ] || [ ! -s out ] || { echo "stdout: $(head -c 200 out)"; return; }
	[ ! -e r.json ] || { echo "report left r.json behind"; return; }
	[ "$(state t.db)" = "$BEFORE" ] || { echo "the ledger changed"; return; }
	"$M" --ledger t.db verify >vout 2>&1 || echo "verify: $(head -c 200 vout)"
}

PASS=0 FAIL=0
pass() { PASS=$((PASS + 1)); echo "ok - $*"; }
failed() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# suite NAME: the negative test, then every code at every call.
suite() {
	name=$1
	# Count the calls of an undisturbed run, and check that the checks
	# reject it (the negative test).
	fresh
	# shellcheck disable=SC2046
	LD_PRELOAD=$SHIM MLLEDGER_FAULT_COUNT=$W/calls "$M" --ledger t.db $(cmd_args "$name") \
		>/dev/null 2>&1
	steps=$(cat calls 2>/dev/null || echo 0)
	rm -f calls
	why=$(one_fault "$name" -1 13)
	if [ "$steps" -gt 5 ] && [ -n "$why" ]; then
		pass "$name makes $steps sqlite3_step calls; without a fault the checks reject it ($why)"
	else
		failed "$name, negative test: $steps calls, checks said '$why' without a fault"
		return
	fi
	for spec in 13:SQLITE_FULL 10:SQLITE_IOERR 5:SQLITE_BUSY 7:SQLITE_NOMEM; do
		code=${spec%%:*}
		bad= nbad=0
		for n in $(seq 0 $((steps - 1))); do
			why=$(one_fault "$name" "$n" "$code")
			[ -z "$why" ] && continue
			nbad=$((nbad + 1))
			[ -n "$bad" ] || bad="call $n: $why"
		done
		if [ -z "$bad" ]; then
			pass "${spec#*:} at each of $steps calls of $name: exit 5, ledger unchanged, verify passes"
		else
			failed "${spec#*:} in $name: $nbad of $steps calls wrong; first: $bad"
		fi
	done
}

for c in ${FAULT_CMDS:-import record submit enroll gate check report verify population trace}; do
	suite "$c"
done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

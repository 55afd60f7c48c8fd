#!/bin/bash
# tests/ha/suites.sh — the server-facing suites again, with the PostgreSQL
# store of record behind every server (issue 14: "the same ledger-level
# test suite runs against both stores"), then the tampering of stored rows
# (tests/ha/serve_tamper.sh).
#
#   MLLEDGER=/abs/path/to/mlledger bash tests/ha/suites.sh
#
# Starts one primary + synchronous standby (tests/ha/pglib.sh), always
# stopped on exit, and runs with ML_TEST_STORE=postgresql (serverlib.sh:
# each ledger migrated into a database of its own, served with --store):
# tests/cli/serve.sh, remote.sh, witness_http.sh, tests/python/test_serve.py
# and tests/ha/serve_tamper.sh.  Cases that cannot hold with a store of
# record say "SKIP (store of record): why".  Bounded by SUITES_TIMEOUT
# seconds (default 240).  Skips (exit 0) when PostgreSQL 15 cannot run here.
# Prints each suite's lines, then "suites: N passed, N failed, N skipped".

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
HA=$(cd "$(dirname "$0")" && pwd)
CLI=$HA/../cli
export LC_ALL=C
M=${MLLEDGER:-$HA/../../build/mlledger}
case $M in /*) ;; *) M=$(cd "$(dirname "$M")" && pwd)/$(basename "$M") ;; esac
export MLLEDGER=$M
S=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-suites.XXXXXX") || exit 1
. "$HA/pglib.sh"
trap 'pg_cluster_stop; cd / && rm -rf "$S"' EXIT
CHILD=
trap '[ -z "$CHILD" ] || { kill -TERM "$CHILD"; wait "$CHILD"; }; exit 130' INT TERM HUP
# the whole run is bounded: a watchdog ends it (the EXIT trap stops PG)
# (its sleep is ended with it: a stray sleep would hold our output open)
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "${SUITES_TIMEOUT:-240}" & sp=$!
  wait "$sp" || exit 0
  echo "not ok - suites: timeout after ${SUITES_TIMEOUT:-240}s" >&2
  kill -TERM $$ ) &
WATCHDOG=$!
trap 'kill "$WATCHDOG" 2>/dev/null; pg_cluster_stop; cd / && rm -rf "$S"' EXIT

pg_cluster_start "$S"
rc=$?
if [ $rc = 2 ]; then
	echo "ok - suites # SKIP PostgreSQL cannot run here"
	exit 0
elif [ $rc != 0 ]; then
	echo "not ok - suites: the PostgreSQL cluster did not start"
	exit 1
fi
export ML_TEST_STORE=postgresql PG_DIR PG_PRIMARY_PORT PG_STANDBY_PORT
# scratch folders under S: reachable by nothing but us, removed with it
export TMPDIR=$S

passed=0 failed=0 skipped=0 bad=""
# run NAME CMD...: a suite; its lines, its counts added
run() {
	local name=$1 out=$S/$1.out t0=$SECONDS
	shift
	echo "== $name (store of record)"
	# in the background, waited for: a trap (the watchdog's TERM) runs at
	# once rather than after the suite, and passes the TERM on to it
	"$@" >"$out" 2>"$S/$name.err" &
	CHILD=$!
	wait "$CHILD"
	local rc=$?
	CHILD=
	cat "$out"
	local p f s
	p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$out" | tail -1)
	s=$(grep -c 'SKIP (store of record)' "$out")
	if [ -z "$p" ] || [ "$rc" != 0 ]; then
		echo "not ok - $name: exit $rc, $(tail -c 400 "$S/$name.err")"
		failed=$((failed + ${f:-1}))
		[ -n "$f" ] && [ "$f" != 0 ] || failed=$((failed + 1))
		bad="$bad $name"
	else
		failed=$((failed + f))
	fi
	passed=$((passed + ${p:-0} - s))
	skipped=$((skipped + s))
	echo "== $name: $((SECONDS - t0)) s"
}
# SUITES="serve remote ...": only those (default: all)
want() { [ -z "${SUITES:-}" ] || [[ " $SUITES " == *" $1 "* ]]; }
want serve && run serve bash "$CLI/serve.sh"
want remote && run remote bash "$CLI/remote.sh"
want witness_http && run witness_http bash "$CLI/witness_http.sh"
# tests/python/test_serve.py, one line a test, in the shell suites' words
py_serve() {
	(cd "$HA/../python" && /usr/bin/python3 - <<'PYEOF'
import sys, traceback, unittest
sys.path.insert(0, ".")
class Lines(unittest.TestResult):
    def addSuccess(self, t):
        super().addSuccess(t); print("ok - %s" % t.id(), flush=True)
    def addSkip(self, t, why):
        super().addSkip(t, why); print("ok - %s # SKIP %s" % (t.id(), why), flush=True)
    def _bad(self, t, err):
        print("not ok - %s: %s" % (t.id(), "".join(traceback.format_exception_only(*err[:2])).strip()[:300]), flush=True)
        sys.stderr.write("".join(traceback.format_exception(*err)))
    def addFailure(self, t, err):
        super().addFailure(t, err); self._bad(t, err)
    def addError(self, t, err):
        super().addError(t, err); self._bad(t, err)
r = Lines()
unittest.defaultTestLoader.loadTestsFromName("test_serve").run(r)
bad = len(r.failures) + len(r.errors)
print("%d passed, %d failed" % (r.testsRun - bad, bad))
sys.exit(1 if bad else 0)
PYEOF
	)
}
want python && run python py_serve
want serve_tamper && run serve_tamper bash "$HA/serve_tamper.sh"
echo "suites: $passed passed, $failed failed, $skipped skipped (store of record)${bad:+; failing:$bad}"
[ "$failed" = 0 ] && [ -z "$bad" ]

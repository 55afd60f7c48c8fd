#!/bin/sh
# statements_identical.sh BASE_BIN NEW_BIN [N]
#
# Issue 18: the canonical JSON writer must write the very bytes the old
# encoder (jansson's json_dumps) wrote.  Generates the bench's history
# (bench/benchutil.c gen, N lines, default 20000), imports it with each
# binary into its own new ledger under one key and one frozen clock
# (faketime), and compares every stored envelope byte for byte: the
# envelope holds the statement payload, so this compares both encoders.
# Ed25519 signatures are deterministic, so equal payloads give equal
# envelopes.  Then it plants one changed byte in the new side's dump and
# checks that the comparison fails (so the check can fail).
# Exit 0 when identical (and the plant is caught), 1 otherwise, 2 when it
# cannot run (no faketime).
set -u
BASE=${1:?usage: statements_identical.sh BASE_BIN NEW_BIN [N]}
NEW=${2:?usage: statements_identical.sh BASE_BIN NEW_BIN [N]}
N=${3:-20000}
HERE=$(cd "$(dirname "$0")" && pwd)
# A frozen clock (i0: no step per call), so every run reads the same time.
CLOCK='@2026-12-07 10:00:00 i0'
command -v faketime >/dev/null 2>&1 || { echo "SKIP: faketime not installed"; exit 2; }
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 not installed"; exit 2; }
T=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "scratch: $T" || trap 'rm -rf "$T"' EXIT INT TERM
${CC:-cc} -O2 -std=c11 -o "$T/benchutil" "$HERE/benchutil.c" || exit 2
"$T/benchutil" gen "$N" >"$T/in.jsonl" || exit 2
mkdir "$T/keys"
"$BASE" key new admin --dir "$T/keys" >/dev/null 2>&1 || { echo "key new failed"; exit 2; }

# One new ledger (its genesis holds a fresh log key), copied for each side.
faketime -f "$CLOCK" "$BASE" --ledger "$T/genesis.db" init --key "$T/keys/admin.key" \
	--origin bench.example/ledger --governance "$HERE/governance.json" \
	>/dev/null 2>"$T/init.err" || { echo "init failed: $(head -3 "$T/init.err")"; exit 2; }

# run BIN NAME: a copy T/NAME.db of that ledger, the import, the envelopes
# dumped (seq and hex) to T/NAME.txt.
run() {
	cp "$T/genesis.db" "$T/$2.db" && cp "$T/genesis.db.log.key" "$T/$2.db.log.key" &&
	faketime -f "$CLOCK" "$1" --ledger "$T/$2.db" import "$T/in.jsonl" \
		--key "$T/keys/admin.key" >/dev/null 2>"$T/$2.err" &&
	sqlite3 "$T/$2.db" "SELECT seq, hex(envelope) FROM entries ORDER BY seq" >"$T/$2.txt"
}
run "$BASE" base || { echo "not ok - base import failed: $(head -3 "$T/base.err")"; exit 1; }
run "$NEW" new || { echo "not ok - new import failed: $(head -3 "$T/new.err")"; exit 1; }

# same A B: the dumps are equal and hold every imported line.
same() {
	[ "$(wc -l <"$1")" -gt "$N" ] && cmp -s "$1" "$2"
}
fail=0
if same "$T/base.txt" "$T/new.txt"; then
	echo "ok - all $(wc -l <"$T/new.txt") envelopes (statements included) are byte-identical"
else
	echo "not ok - the envelopes differ: first difference:"
	cmp "$T/base.txt" "$T/new.txt" | head -1
	fail=1
fi
# The plant: one hex digit of the entry in the middle changed.
awk -v m=$((N / 2)) -F'|' '$1 == m { c = substr($2, 101, 1); d = (c == "0") ? "1" : "0";
	$2 = substr($2, 1, 100) d substr($2, 102) } { print $1 "|" $2 }' \
	"$T/new.txt" >"$T/planted.txt"
if cmp -s "$T/new.txt" "$T/planted.txt"; then
	echo "not ok - the plant changed nothing"; fail=1
elif same "$T/base.txt" "$T/planted.txt"; then
	echo "not ok - one changed byte was not caught"; fail=1
else
	echo "ok - one changed byte in entry $((N / 2)) is caught"
fi
exit $fail

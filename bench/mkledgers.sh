#!/bin/sh
# bench/mkledgers.sh — build the bench's ledgers once, for profiling and for
# before/after comparisons (bench/report_identical.sh):
#
#   sh bench/mkledgers.sh /abs/path/to/mlledger OUTDIR [SIZES...]
#
# SIZES are entry counts of import lines (default: 20000 100000 999999);
# each ledger is built exactly as bench/run.sh builds its own (same
# governance, same generator, chunks of BENCH_CHUNK=200000 lines) and named
# ledger-20k.db, ledger-100k.db, ledger-1m.db; OUTDIR/NAME.done marks a
# complete one (it is skipped on the next run).  Keys go to OUTDIR/keys.
set -u
BIN=${1:?usage: sh bench/mkledgers.sh MLLEDGER OUTDIR [SIZES...]}
OUT=${2:?usage: sh bench/mkledgers.sh MLLEDGER OUTDIR [SIZES...]}
shift 2
[ "$#" -gt 0 ] || set -- 20000 100000 999999
CHUNK=${BENCH_CHUNK:-200000}
HERE=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
mkdir -p "$OUT" || exit 5
U=$OUT/benchutil
[ -x "$U" ] || $CC -O2 -std=c11 -o "$U" "$HERE/benchutil.c" || exit 1
mkdir -p "$OUT/keys" || exit 5
[ -f "$OUT/keys/admin.key" ] || "$BIN" key new admin --dir "$OUT/keys" >/dev/null || exit 1
KEY=$OUT/keys/admin.key
name() {
	case $1 in
	999999 | 1000000) echo ledger-1m.db ;;
	*000) echo "ledger-$(($1 / 1000))k.db" ;;
	*) echo "ledger-$1.db" ;;
	esac
}
for n in "$@"; do
	L=$OUT/$(name "$n")
	[ -f "$L.done" ] && { echo "$L: done already"; continue; }
	rm -f "$L" "$L-wal" "$L-shm" "$L.log.key"
	"$BIN" --ledger "$L" init --key "$KEY" --origin bench.example/ledger \
		--governance "$HERE/governance.json" >/dev/null || exit 1
	d=0
	while [ "$d" -lt "$n" ]; do
		c=$CHUNK
		[ $((d + c)) -gt "$n" ] && c=$((n - d))
		"$U" gen "$c" "$d" >"$OUT/chunk.jsonl" || exit 1
		"$BIN" --ledger "$L" import "$OUT/chunk.jsonl" --key "$KEY" >/dev/null || exit 1
		d=$((d + c))
		echo "$L: $d lines"
	done
	rm -f "$OUT/chunk.jsonl"
	touch "$L.done"
done

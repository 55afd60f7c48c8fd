#!/bin/sh
# bench/report_identical.sh — the report of two builds, byte for byte.
#
#   sh bench/report_identical.sh OLD_MLLEDGER NEW_MLLEDGER LEDGER [POLICY]
#
# Writes the whole-history report of LEDGER (a copy: the original is not
# touched) in every format (html, md, json, and the CSV folder) with both
# binaries, with a fixed --as-of and --generated-at, and compares them
# with cmp.  Exit 0 when every file is identical, 1 when one differs (it
# is named), 2 on bad arguments or when a report fails.  Used to show that
# a change of the report's internals (memory, speed) changes no byte; e.g.
# on the bench's 20k ledger from bench/mkledgers.sh, with OLD built from
# main in a worktree of its own.
set -u
OLD=${1:-} NEW=${2:-} LEDGER=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
POLICY=${4:-$HERE/../policies/production.xml}
if [ ! -x "$OLD" ] || [ ! -x "$NEW" ] || [ ! -f "$LEDGER" ]; then
	echo "usage: sh bench/report_identical.sh OLD_MLLEDGER NEW_MLLEDGER LEDGER [POLICY]" >&2
	exit 2
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-ident.XXXXXX") || exit 2
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
cp "$LEDGER" "$W/l.db" || exit 2
[ -f "$LEDGER.log.key" ] && cp "$LEDGER.log.key" "$W/l.db.log.key"
ARGS="--policy $POLICY --from 2000-01-01 --to 2099-12-31 --as-of 2030-01-01T00:00:00Z --generated-at 2030-01-01T00:00:00Z"
rc=0
for fmt in html md json csv; do
	for v in old new; do
		eval "bin=\$$(echo "$v" | tr a-z A-Z)"
		# shellcheck disable=SC2086
		"$bin" --ledger "$W/l.db" report $ARGS --format "$fmt" --out "$W/$v.$fmt" \
			>"$W/$v.log" 2>&1 || { echo "report --format $fmt ($v) failed:" >&2; tail -n 3 "$W/$v.log" >&2; exit 2; }
	done
	if [ "$fmt" = csv ]; then
		for f in "$W"/old.csv/*; do
			b=$(basename "$f")
			cmp "$f" "$W/new.csv/$b" || rc=1
		done
		[ "$(ls "$W/old.csv")" = "$(ls "$W/new.csv")" ] || { echo "csv: different files" >&2; rc=1; }
		n=$(ls "$W/old.csv" | wc -l)
		[ "$rc" = 0 ] && echo "csv : $n files identical"
	elif cmp "$W/old.$fmt" "$W/new.$fmt"; then
		echo "$fmt: identical ($(wc -c <"$W/new.$fmt") bytes)"
	else
		rc=1
	fi
done
exit "$rc"

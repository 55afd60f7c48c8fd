#!/bin/sh
# bench/check_identical.sh — `check` output of two binaries, byte for byte.
#
#   sh bench/check_identical.sh OLD_BINARY NEW_BINARY LEDGER...
#
# Runs `check --policy policies/production.xml` on each ledger (opened
# read-only; nothing is written to it) in every output format (text, json,
# junit, sarif, github), with --jobs 1 and 2 and with --fail-on warn, with
# both binaries, and compares stdout and the exit status.  Exit 0 when all
# are identical, 1 at the first difference (naming it), 2 for bad usage.
# Environment: POLICY (default policies/production.xml), TMPDIR.
set -u
if [ "$#" -lt 3 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
	echo "usage: sh bench/check_identical.sh OLD_BINARY NEW_BINARY LEDGER..." >&2
	exit 2
fi
OLD=$1 NEW=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
POLICY=${POLICY:-$HERE/../policies/production.xml}
W=$(mktemp -d "${TMPDIR:-/tmp}/check-identical.XXXXXX") || exit 2
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
n=0
for led in "$@"; do
	[ -f "$led" ] || { echo "check_identical: $led: no such ledger" >&2; exit 2; }
	for fmt in text json junit sarif github; do
		for extra in "--jobs 1" "--jobs 2" "--fail-on warn"; do
			# shellcheck disable=SC2086
			"$OLD" --ledger "$led" check --policy "$POLICY" --format "$fmt" $extra \
				>"$W/old" 2>"$W/old.err"
			orc=$?
			# shellcheck disable=SC2086
			"$NEW" --ledger "$led" check --policy "$POLICY" --format "$fmt" $extra \
				>"$W/new" 2>"$W/new.err"
			nrc=$?
			what="$led --format $fmt $extra"
			if [ "$orc" != "$nrc" ]; then
				echo "DIFFERENT exit status ($orc, $nrc): $what" >&2
				exit 1
			fi
			if ! cmp -s "$W/old" "$W/new"; then
				echo "DIFFERENT output: $what" >&2
				cmp "$W/old" "$W/new" >&2
				exit 1
			fi
			if [ ! -s "$W/new" ]; then
				echo "NO output: $what" >&2
				exit 1
			fi
			n=$((n + 1))
			echo "identical: $what (exit $nrc, $(wc -c <"$W/new") bytes, sha256 $(sha256sum <"$W/new" | cut -c1-16))"
		done
	done
done
echo "ok: $n runs identical"

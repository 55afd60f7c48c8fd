# tests/cli/harness.sh — what the bash CLI suites share.  Sourced (bash),
# after the script's own "needs bash" check, as
#
#   . "$(cd "$(dirname "$0")" && pwd)/harness.sh" NAME
#
# It sets LC_ALL=C, unsets the mlledger environment, and defines:
#   here      the tests/cli folder; M the binary (MLLEDGER, else the
#             build's); POL policies/production.xml; UNGATED the default
#             governance without gates (tests/data/governance-ungated.json)
#   W         a new scratch folder (mlledger-NAME.XXXXXX, removed on exit),
#             the working directory
#   ok NAME / nok NAME DETAIL / skip NAME WHY   TAP-like lines; skips are
#             counted apart from passes (finish prints them on a line of their own)
#   expect CODE NAME PATTERN CMD...   CMD exits CODE and its stderr or
#             stdout matches the basic regular expression PATTERN (none: "")
#   finish    prints "N passed, N failed"; exit status 1 when any failed
set -u
export LC_ALL=C
unset MLLEDGER_LEDGER MLLEDGER_PASSPHRASE_FILE MLLEDGER_SERVER
here=$(cd "$(dirname "$0")" && pwd)
M=${MLLEDGER:-$here/../../build/mlledger}
case $M in /*) ;; *) M=$(cd "$(dirname "$M")" && pwd)/$(basename "$M") ;; esac
POL=$here/../../policies/production.xml
UNGATED=$(cd "$here/../data" && pwd)/governance-ungated.json
W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-${1:-cli}.XXXXXX") || exit 1
trap 'cd / && rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
cd "$W" || exit 1
pass=0 fail=0 skipped=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
nok() { echo "not ok - $1: $2"; fail=$((fail + 1)); }
skip() { echo "ok - $1 # SKIP $2"; skipped=$((skipped + 1)); } # never counted as passed
expect() {
	local want=$1 name=$2 pat=$3 got
	shift 3
	"$@" >out 2>err
	got=$?
	if [ "$got" != "$want" ]; then
		nok "$name" "exit $got, want $want: $(head -c 300 err)"
	elif [ -n "$pat" ] && ! grep -q -- "$pat" err out; then
		nok "$name" "output lacks '$pat': $(head -c 300 err)"
	else
		ok "$name"
	fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$skipped" = 0 ] || echo "$skipped skipped (not run here: see the # SKIP lines)"
	[ "$fail" = 0 ]
}

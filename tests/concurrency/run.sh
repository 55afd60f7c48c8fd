#!/bin/sh
# tests/concurrency/run.sh — many writers and readers on one ledger (issue 6,
# part 5).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/concurrency/run.sh
#
# CONC_WRITERS processes (default 8) each append CONC_RECORDS entries
# (default 500) to one ledger, while readers run in a loop until the
# writers are done: `verify`, `gate --policy policies/production.xml
# --no-record` and `export`.  CONC_MODE picks how writers append:
#   record  one `record` process per entry (default)
#   import  `import` of CONC_BATCH lines (default 50) at a time
# Checks:
#   * every write exits 0 and prints its seq(s); all seqs are distinct and
#     together are exactly base .. base + writers x records - 1;
#   * at the end there is one chain: verify passes, count = expected, and
#     every printed leaf is the stored one (record mode);
#   * readers never fail: verify exits 0 every time (a torn state would fail
#     it: it checks the chain, tree and checkpoints of its own snapshot),
#     gate exits 0 or 1, export exits 0 and its bundle verifies offline
#     (verify --bundle, a sample of them).
# CONC_PLANT=1 is the negative test: one entry is appended besides the
# writers and the gate reader gets a missing policy (exit 3); the suite must
# then fail ("make concurrency" checks that it does).
# Prints the timings and counts, "ok - ..." / "not ok - ..." lines and
# "N passed, N failed"; exits 1 when any check failed.

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
unset MLLEDGER_LEDGER MLLEDGER_PASSPHRASE_FILE
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
M=${MLLEDGER:-$root/build/mlledger}
NW=${CONC_WRITERS:-8}
NR=${CONC_RECORDS:-500}
MODE=${CONC_MODE:-record}
BATCH=${CONC_BATCH:-50}
POLICY=$root/policies/production.xml
PLANT=${CONC_PLANT:-}
[ -z "$PLANT" ] || POLICY=$root/policies/no-such-policy.xml
if [ ! -x "$M" ]; then
	echo "not ok - environment: $M is not an executable (set MLLEDGER)"
	echo "0 passed, 1 failed"
	exit 1
fi
case $MODE in record | import) ;; *) echo "not ok - CONC_MODE=$MODE"; exit 1 ;; esac

W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-conc.XXXXXX") || exit 1
cleanup() {
	local p
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	cd / && rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir "$W/bin" && cp "$M" "$W/bin/mlledger" || exit 1
M=$W/bin/mlledger
cd "$W" || exit 1

PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
notok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { if [ -z "$2" ]; then ok "$1"; else notok "$1: $2"; fi; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
count() { "$M" --ledger "$1" log --format json 2>/dev/null | grep -c '"seq":'; }
HA=$(printf '%064d' 0 | tr 0 a)

L=$W/ledger.db
mkdir k
for n in admin eng; do "$M" key new "$n" --dir k >/dev/null || exit 1; done
"$M" --ledger "$L" init --key k/admin.key >/dev/null &&
	"$M" --ledger "$L" key enroll k/eng.pub --holder-key k/eng.key --role engineer --key k/admin.key >/dev/null &&
	"$M" --ledger "$L" record dataset cdata@1 --digest "sha256:$HA" --set license=MIT \
		--key k/eng.key >/dev/null &&
	"$M" --ledger "$L" record model cmodel@1 --digest "sha256:$HA" --dataset cdata@1 \
		--key k/eng.key >/dev/null || exit 1
BASE=$(count "$L")
WANT=$((BASE + NW * NR))

# writer W: appends NR entries; stdout lines: "SEQ sha256:LEAF" (record)
# or "N entries, A..B" (import); stops at the first failure (exit code in
# $W/wN.rc).
writer() {
	local w=$1 i j rc=0
	if [ "$MODE" = record ]; then
		for i in $(seq 1 "$NR"); do
			"$M" --ledger "$L" record dataset "w$w-$i@1" --digest "sha256:$HA" \
				--key k/eng.key 2>>"$W/w$w.err" || { rc=$?; break; }
		done
	else
		for i in $(seq 1 "$BATCH" "$NR"); do
			awk -v w="$w" -v a="$i" -v b=$((i + BATCH - 1)) -v n="$NR" -v h="$HA" 'BEGIN {
				if (b > n) b = n
				for (j = a; j <= b; j++)
					printf "{\"kind\":\"dataset\",\"subject\":\"w%d-%d@1\",\"digest\":\"sha256:%s\"}\n", w, j, h
			}' >"$W/w$w.jsonl"
			"$M" --ledger "$L" import "$W/w$w.jsonl" --key k/eng.key 2>>"$W/w$w.err" ||
				{ rc=$?; break; }
		done
	fi
	echo "$rc" >"$W/w$w.rc"
}

# reader NAME CMD...: runs CMD in a loop until $W/done exists; appends each
# exit code to $W/NAME.rcs and keeps the stderr of failures.
reader() {
	local name=$1 rc
	shift
	while [ ! -e "$W/done" ]; do
		"$@" >"$W/$name.out" 2>"$W/$name.err1"
		rc=$?
		echo "$rc" >>"$W/$name.rcs"
		[ "$rc" = 0 ] || cat "$W/$name.err1" >>"$W/$name.err"
		[ "$name" != export ] || export_check
	done
}
# After an export: the bundle verifies on its own (every 5th, to keep the
# loop fast), then it is removed.
NEXP=0
export_check() {
	NEXP=$((NEXP + 1))
	if [ -d "$W/exp" ] && [ $((NEXP % 5)) = 1 ]; then
		"$M" verify --bundle "$W/exp" --log-key "$W/log.pub" >>"$W/bundle.out" 2>&1
		echo "$?" >>"$W/bundle.rcs"
	fi
	rm -rf "$W/exp"
}

echo "# $NW writers x $NR entries ($MODE mode$([ "$MODE" = import ] && echo ", $BATCH a batch")) with verify, gate and export readers"
t0=$(now_ms)
reader verify "$M" --ledger "$L" verify &
r1=$!
reader gate "$M" --ledger "$L" gate --policy "$POLICY" cmodel@1 --env prod --no-record &
r2=$!
"$M" --ledger "$L" log-key >"$W/log.pub"
reader export "$M" --ledger "$L" export --out "$W/exp" --key k/admin.key &
r3=$!
wpids=
for w in $(seq 1 "$NW"); do
	writer "$w" >"$W/w$w.out" &
	wpids="$wpids $!"
done
[ -z "$PLANT" ] || "$M" --ledger "$L" record dataset planted@1 --digest "sha256:$HA" \
	--key k/eng.key >/dev/null 2>&1
for p in $wpids; do wait "$p"; done
t1=$(now_ms)
touch "$W/done"
wait "$r1" "$r2" "$r3"
t2=$(now_ms)
ms=$((t1 - t0))
echo "# writers done in $ms ms ($((NW * NR * 1000 / (ms > 0 ? ms : 1))) entries/s);" \
	"readers: $(wc -l <"$W/verify.rcs") verify, $(wc -l <"$W/gate.rcs") gate," \
	"$(wc -l <"$W/export.rcs") export, $(cat "$W/bundle.rcs" 2>/dev/null | wc -l) bundle checks"

# ---- the writers --------------------------------------------------------------
why=
for w in $(seq 1 "$NW"); do
	rc=$(cat "$W/w$w.rc" 2>/dev/null)
	[ "$rc" = 0 ] || { why="writer $w exited ${rc:-?}: $(head -c 200 "$W/w$w.err")"; break; }
done
check "every write succeeded" "$why"

why=
if [ "$MODE" = record ]; then
	cut -d' ' -f1 "$W"/w*.out | sort -n >"$W/seqs"
else
	sed -n 's/^[0-9]* entries, \([0-9]*\)\.\.\([0-9]*\)$/\1 \2/p' "$W"/w*.out |
		awk '{ for (s = $1; s <= $2; s++) print s }' | sort -n >"$W/seqs"
fi
n=$(wc -l <"$W/seqs")
[ "$n" = $((NW * NR)) ] || why="$n seqs printed, want $((NW * NR))"
[ -n "$why" ] || [ "$(sort -u "$W/seqs" | wc -l)" = "$n" ] || why="duplicate seqs"
[ -n "$why" ] || [ "$(head -1 "$W/seqs")" = "$BASE" ] && [ "$(tail -1 "$W/seqs")" = $((WANT - 1)) ] ||
	why="${why:-seqs run $(head -1 "$W/seqs")..$(tail -1 "$W/seqs"), want $BASE..$((WANT - 1))}"
check "the printed seqs are distinct and exactly $BASE..$((WANT - 1))" "$why"

# ---- one chain ------------------------------------------------------------
why=
"$M" --ledger "$L" verify >"$W/final" 2>&1 || why="verify: $(head -c 200 "$W/final")"
grep -q "^ok: $WANT entries intact" "$W/final" || why="${why:-$(head -c 200 "$W/final")}"
check "one chain at the end: verify passes with $WANT entries" "$why"

if [ "$MODE" = record ]; then
	why=
	"$M" --ledger "$L" log --format json |
		sed -n 's/.*"seq":\([0-9]*\),.*"leafHash":"\(sha256:[0-9a-f]*\)".*/\1 \2/p' |
		sort >"$W/stored"
	sort "$W"/w*.out >"$W/printed"
	[ "$(comm -23 "$W/printed" "$W/stored" | wc -l)" = 0 ] ||
		why="$(comm -23 "$W/printed" "$W/stored" | wc -l) printed seq/leaf pairs differ from the ledger"
	check "every printed leaf hash is the stored one" "$why"
fi

# ---- the readers ----------------------------------------------------------
# rcs_bad NAME ALLOWED-REGEX: the exit codes of NAME outside the allowed set.
rcs_bad() { grep -Evx "$2" "$W/$1.rcs" | sort | uniq -c | tr '\n' ' '; }
why=
[ -s "$W/verify.rcs" ] || why="never ran"
b=$(rcs_bad verify 0)
[ -z "$b" ] || why="exits $b: $(head -c 200 "$W/verify.err")"
check "verify during the writes always passed ($(wc -l <"$W/verify.rcs") runs)" "$why"
why=
[ -s "$W/gate.rcs" ] || why="never ran"
b=$(rcs_bad gate '[01]')
[ -z "$b" ] || why="exits $b: $(head -c 200 "$W/gate.err")"
check "gate during the writes always exited 0 or 1 ($(wc -l <"$W/gate.rcs") runs)" "$why"
why=
[ -s "$W/export.rcs" ] || why="never ran"
b=$(rcs_bad export 0)
[ -z "$b" ] || why="exits $b: $(head -c 200 "$W/export.err")"
[ -n "$why" ] || [ ! -s "$W/bundle.rcs" ] || [ -z "$(grep -vx 0 "$W/bundle.rcs")" ] ||
	why="verify --bundle failed: $(head -c 200 "$W/bundle.out")"
check "export during the writes always succeeded, its bundles verify ($(wc -l <"$W/export.rcs") runs)" "$why"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

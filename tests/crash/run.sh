#!/bin/sh
# tests/crash/run.sh — the crash suite (issue 6, part 3).
#
#   MLLEDGER=/abs/path/to/mlledger CRASH_RUNS=200 sh tests/crash/run.sh
#
# CRASH_RUNS times (default 200), a writer is started on a copy of a small
# ledger and killed with SIGKILL at a random moment between its start and a
# little after the time it takes when left alone.  The writers take turns:
#
#   record   one `record` (one entry, its tree nodes, its signed checkpoint)
#   import   `import --format json` of NIMP lines (default 300) in one batch
#   ckpt     `submit` of 3 envelopes onto a ledger of 2^k - 2 entries, so the
#            batch completes a subtree of 2^k leaves: the append that writes
#            the most tree nodes and a checkpoint of a new power-of-two size
#
# After each kill it checks, on the ledger as the kill left it:
#   * `mlledger verify` exits 0 (chain, tree, every checkpoint);
#   * the entry count is the base count or the base plus the whole batch:
#     an import or submit is all or nothing, never a prefix;
#   * the latest checkpoint's size equals the entry count;
#   * when the writer printed its result (it reported success), that append
#     is there with the same seq and the same leaf hash (for import: the
#     range and the leaf of its last entry).
#
# Prints one table row a run (run, kind, killed at ms, exit, outcome), then
# a summary per kind, and "N passed, N failed"; exits 1 when any run failed.
# A run fails when a check above fails; "outcome" is "none" (nothing
# appended), "all" (the whole batch appended) and, with "printed" when the
# writer had reported success before it died.
#
# Needs bash, coreutils and awk.  Runs writers at nice 15 when NICE is unset
# (the suite is timing-sensitive, not CPU-bound).  CRASH_SEED fixes $RANDOM
# for a repeatable sequence of kill times.

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
unset MLLEDGER_LEDGER MLLEDGER_PASSPHRASE_FILE
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
M=${MLLEDGER:-$here/../../build/mlledger}
case $M in /*) ;; *) M=$(pwd)/$M ;; esac
RUNS=${CRASH_RUNS:-200}
NIMP=${CRASH_IMPORT_LINES:-300}
RANDOM=${CRASH_SEED:-$$}
if [ ! -x "$M" ]; then
	echo "not ok - environment: $M is not an executable (set MLLEDGER)"
	echo "0 passed, 1 failed"
	exit 1
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-crash.XXXXXX") || exit 1
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

HA=$(printf '%064d' 0 | tr 0 a)
HB=$(printf '%064d' 0 | tr 0 b)

msleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Number of entries (log --format json prints one per line).
count() { "$M" --ledger "$1" log --format json 2>/dev/null | grep -c '"seq":'; }
# copydb SRC DST: the ledger file, its WAL and its log key.
copydb() {
	rm -f "$2" "$2-wal" "$2-shm" "$2.log.key"
	cp "$1" "$2" && cp -p "$1.log.key" "$2.log.key" || return 1
	[ ! -f "$1-wal" ] || cp "$1-wal" "$2-wal"
}
# has_leaf DB SEQ HEX: entry SEQ of DB has leaf hash HEX.
has_leaf() {
	"$M" --ledger "$1" show "$2" --format json 2>/dev/null |
		grep -Eq "\"leafHash\": *\"sha256:$3\""
}

# ---- fixtures ---------------------------------------------------------------
# base.db: genesis and eng enrolled (roles engineer and validator: one import
# holds datasets, models and evaluations, FORMAT.md §2 default roles).
# ckpt.db: grown to 2^k - 2 entries so a 3-envelope submit crosses the power
# of two 2^k.
K=$W/k
mkdir "$K"
for n in admin eng; do "$M" key new "$n" --dir "$K" >/dev/null || exit 1; done
B=$W/base.db
"$M" --ledger "$B" init --key "$K/admin.key" >/dev/null &&
	"$M" --ledger "$B" key enroll "$K/eng.pub" --holder-key "$K/eng.key" --role engineer,validator --key "$K/admin.key" \
		>/dev/null ||
	{ echo "not ok - fixture: init"; echo "0 passed, 1 failed"; exit 1; }
BASE=$(count "$B")
gen_import() {
	awk -v i="$1" -v n="$2" -v ha="$HA" -v hb="$HB" 'BEGIN {
		printf "{\"kind\":\"dataset\",\"subject\":\"k%d-data@1\",\"digest\":\"sha256:%s\"}\n", i, ha
		printf "{\"kind\":\"model\",\"subject\":\"k%d-model@1\",\"digest\":\"sha256:%s\",\"datasets\":[\"k%d-data@1\"]}\n", i, hb, i
		for (j = 3; j <= n; j++)
			printf "{\"kind\":\"evaluation\",\"subject\":\"k%d-model@1\",\"metrics\":{\"run\":%d}}\n", i, j
	}' >"$3"
}
CK=$W/ckpt.db
CKN=254
copydb "$B" "$CK"
gen_import 0 $((CKN - BASE)) "$W/grow.jsonl"
"$M" --ledger "$CK" import "$W/grow.jsonl" --key "$K/eng.key" >/dev/null || exit 1
for i in 1 2 3; do
	"$M" --ledger "$W/none.db" sign dataset "sub$i@1" --digest "sha256:$HA" \
		--origin "$("$M" --ledger "$B" log-key | cut -d+ -f1)" \
		--key "$K/eng.key" --out "$W/sub$i.json" >/dev/null || exit 1
done

# ---- the writers ----------------------------------------------------------
# start_KIND RUN: prepares $T from its base and starts the writer in the
# background (pid in $P, stdout in $W/out); sets TBASE and TBATCH.
T=$W/t.db
start_record() {
	copydb "$B" "$T"
	TBASE=$BASE TBATCH=1
	"$M" --ledger "$T" record dataset "r$1@1" --digest "sha256:$HA" --set "run=$1" \
		--key "$K/eng.key" >"$W/out" 2>"$W/err" &
	P=$!
}
start_import() {
	copydb "$B" "$T"
	TBASE=$BASE TBATCH=$NIMP
	gen_import "$1" "$NIMP" "$W/imp.jsonl"
	"$M" --ledger "$T" import "$W/imp.jsonl" --format json --key "$K/eng.key" \
		>"$W/out" 2>"$W/err" &
	P=$!
}
start_ckpt() {
	copydb "$CK" "$T"
	TBASE=$CKN TBATCH=3
	"$M" --ledger "$T" submit "$W/sub1.json" "$W/sub2.json" "$W/sub3.json" \
		>"$W/out" 2>"$W/err" &
	P=$!
}

# reported KIND: checks what the writer printed (if anything) against $T.
# Prints "printed" when it had reported success and that is in the ledger,
# "lacks: WHAT" when it reported an append the ledger lacks, else nothing.
# (Runs in a command substitution: it cannot set variables.)
reported() {
	local s h first last
	[ -s "$W/out" ] || return 0
	case $1 in
	record)
		read -r s h <"$W/out"
		has_leaf "$T" "$s" "${h#sha256:}" || { echo "lacks: '$s $h'"; return; } ;;
	import)
		first=$(sed -n 's/.*"first":\([0-9]*\).*/\1/p' "$W/out")
		last=$(sed -n 's/.*"last":\([0-9]*\).*/\1/p' "$W/out")
		h=$(sed -n 's/.*"leafHash":"sha256:\([0-9a-f]*\)".*/\1/p' "$W/out")
		[ "$first" = "$TBASE" ] && [ "$last" = $((TBASE + TBATCH - 1)) ] &&
			has_leaf "$T" "$last" "$h" || { echo "lacks: $(head -c 200 "$W/out")"; return; } ;;
	ckpt)
		# submit prints one "SEQ sha256:LEAF" line per envelope
		while read -r s h; do
			has_leaf "$T" "$s" "${h#sha256:}" || { echo "lacks: '$s $h'"; return; }
		done <"$W/out" ;;
	esac
	echo printed
}

# check KIND RC: the checks after a kill; sets OUTCOME and WHY.
check() {
	local n ck p
	WHY=
	n=$(count "$T")
	case $n in
	"$TBASE") OUTCOME=none ;;
	$((TBASE + TBATCH))) OUTCOME=all ;;
	*) OUTCOME="partial:$n"; WHY="$n entries, want $TBASE or $((TBASE + TBATCH))" ;;
	esac
	[ "$2" = 0 ] || [ "$2" = 137 ] || WHY="exit $2: $(head -c 200 "$W/err")"
	[ "$2" != 0 ] || [ "$OUTCOME" = all ] || WHY="exit 0 but $OUTCOME"
	"$M" --ledger "$T" verify >"$W/vout" 2>&1 || WHY="verify: $(head -c 200 "$W/vout")"
	ck=$("$M" --ledger "$T" checkpoint 2>/dev/null | sed -n 2p)
	[ "$ck" = "$n" ] || WHY="checkpoint size '$ck', $n entries"
	p=$(reported "$1")
	case $p in
	printed) OUTCOME="$OUTCOME,printed" ;;
	lacks:*) WHY="printed an append the ledger lacks: ${p#lacks: }" ;;
	esac
}

# ---- the checks must be able to fail ------------------------------------------
# Negative tests of check itself: a partial batch, a printed append the
# ledger lacks, an exit code other than 0/137 must each be a failure.
selftest() {
	local fails=0
	copydb "$B" "$T"
	"$M" --ledger "$T" record dataset self@1 --digest "sha256:$HA" --key "$K/eng.key" >"$W/out" 2>"$W/err"
	TBASE=$BASE TBATCH=2
	check import 137
	[ -n "$WHY" ] && fails=$((fails + 1))         # 1 of 2: partial
	TBATCH=1
	check record 0
	[ -z "$WHY" ] && fails=$((fails + 1))         # the real record: fine
	echo "$BASE sha256:$HA" >"$W/out"
	check record 0
	[ -n "$WHY" ] && fails=$((fails + 1))         # a leaf the ledger lacks
	: >"$W/out"
	check record 3
	[ -n "$WHY" ] && fails=$((fails + 1))         # exit 3
	[ "$fails" = 4 ]
}
if ! selftest; then
	echo "not ok - selftest: the checks did not catch a planted failure"
	echo "0 passed, 1 failed"
	exit 1
fi

# ---- calibrate --------------------------------------------------------------
# D_KIND: how long the writer takes here when nobody kills it (ms from its
# start, the slower of two runs).
calibrate() {
	local t0 t1 d best=0 i
	for i in 1 2; do
		"start_$1" "cal$i"
		t0=$(now_ms)
		wait "$P"
		t1=$(now_ms)
		d=$((t1 - t0))
		[ "$d" -le "$best" ] || best=$d
	done
	[ "$best" -ge 5 ] || best=5
	echo "$best"
}
D_record=$(calibrate record)
D_import=$(calibrate import)
D_ckpt=$(calibrate ckpt)
echo "# writer times when left alone: record ${D_record} ms, import of $NIMP lines ${D_import} ms, ckpt ${D_ckpt} ms"
echo "# each run kills at a random moment in 0 .. 1.3 x that time"

# ---- the runs -------------------------------------------------------------
PASS=0 FAIL=0
KINDS="record import ckpt"
for k in $KINDS; do eval "S_${k}_none=0 S_${k}_all=0 S_${k}_printed=0 S_${k}_n=0"; done
printf '%-5s %-7s %9s %5s  %s\n' run kind killed-at exit outcome
for run in $(seq 1 "$RUNS"); do
	set -- $KINDS
	shift $(((run - 1) % 3))
	kind=$1
	eval "d=\$D_$kind"
	at=$((RANDOM % (d * 13 / 10 + 1)))
	"start_$kind" "$run"
	msleep "$at"
	kill -9 "$P" 2>/dev/null
	{ wait "$P"; } 2>/dev/null
	rc=$?
	check "$kind" "$rc"
	printf '%-5s %-7s %6s ms %5s  %s\n' "$run" "$kind" "$at" "$rc" "$OUTCOME${WHY:+  FAIL: $WHY}"
	eval "S_${kind}_n=\$((S_${kind}_n + 1))"
	case $OUTCOME in none*) eval "S_${kind}_none=\$((S_${kind}_none + 1))" ;;
	all*) eval "S_${kind}_all=\$((S_${kind}_all + 1))" ;; esac
	case $OUTCOME in *printed) eval "S_${kind}_printed=\$((S_${kind}_printed + 1))" ;; esac
	if [ -z "$WHY" ]; then PASS=$((PASS + 1)); else FAIL=$((FAIL + 1)); fi
done

echo "# summary: kind, runs, nothing appended, whole batch appended, success reported"
for k in $KINDS; do
	eval "echo \"# $k: \$S_${k}_n runs, \$S_${k}_none none, \$S_${k}_all all, \$S_${k}_printed printed\""
done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

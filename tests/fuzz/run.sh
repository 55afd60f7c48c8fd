#!/bin/sh
# tests/fuzz/run.sh — runs every libFuzzer target built by `make fuzz-build`.
#
#   sh tests/fuzz/run.sh SECONDS BINDIR [TARGET...]
#
# Each target fuzz_NAME runs for SECONDS with its seed corpus
# tests/fuzz/corpus/NAME/ (read only: first every seed and every committed
# regression input there is replayed), its dictionary tests/fuzz/NAME.dict
# when there is one, and the -max_len below.  New inputs go to
# build-fuzz/corpus/NAME/ (kept between runs, not committed); crashes,
# leaks, timeouts and out-of-memory inputs go to tests/fuzz/crashes/NAME/
# (git-ignored).  Prints one line per target with its executions, and ends
# with "N passed, N failed"; exits 1 when any target failed.
#
# FUZZ_JOBS=2 runs two targets at a time (default 1: a shared machine).
# FUZZ_ARGS adds libFuzzer options to every run.
set -u
secs=${1:?usage: run.sh SECONDS BINDIR [TARGET...]}
bin=${2:?usage: run.sh SECONDS BINDIR [TARGET...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$root/build-fuzz
jobs=${FUZZ_JOBS:-1}

# Longest input per target: a little above the largest real input of its
# kind, so the fuzzer spends its time on structure rather than size.
max_len() {
	case $1 in
	cli_values) echo 512 ;;
	keys) echo 1024 ;;
	checkpoint) echo 2048 ;;
	consistency) echo 4096 ;;
	import | statement | trust_policy | note | cosign | governance) echo 8192 ;;
	envelope | tlog_proof | jsonp) echo 16384 ;;
	tiles) echo 65536 ;;
	policy_xml) echo 65536 ;;
	*) echo 4096 ;;
	esac
}

# run_one NAME: fuzzes NAME; its summary line goes to $work/log/NAME.sum.
run_one() {
	n=$1
	exe=$bin/fuzz_$n
	log=$work/log/$n.log
	mkdir -p "$work/corpus/$n" "$root/tests/fuzz/crashes/$n" "$work/log"
	rm -f "$work/log/$n.sum"
	if [ ! -x "$exe" ]; then
		echo "not ok - fuzz_$n: $exe missing (make fuzz-build)" >"$work/log/$n.sum"
		return
	fi
	set -- -max_total_time="$secs" -max_len="$(max_len "$n")" -timeout=25 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$root/tests/fuzz/crashes/$n/"
	[ -f "$here/$n.dict" ] && set -- "$@" -dict="$here/$n.dict"
	# fuzz_jsonp (a differential JSON reader) also replays the statement,
	# envelope and import seeds: the JSON it exists to read.
	extra=
	[ "$n" = jsonp ] && extra="$here/corpus/statement $here/corpus/envelope $here/corpus/import"
	# shellcheck disable=SC2086
	"$exe" "$@" ${FUZZ_ARGS:-} "$work/corpus/$n" "$here/corpus/$n" $extra >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	if [ $rc = 0 ]; then
		printf 'ok - fuzz_%s: %s s, %s executions, %s edges\n' "$n" "$secs" \
			"${execs:-?}" "${cov:-?}" >"$work/log/$n.sum"
	else
		printf 'not ok - fuzz_%s: exit %s, see %s and tests/fuzz/crashes/%s/\n' \
			"$n" "$rc" "$log" "$n" >"$work/log/$n.sum"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*property failed|artifact_prefix)' "$log" |
			head -5 | sed 's/^/#   /' >>"$work/log/$n.sum"
	fi
}

if [ $# -eq 0 ]; then
	for f in "$here"/fuzz_*.c; do
		f=${f##*/fuzz_}
		set -- "$@" "${f%.c}"
	done
fi
names="$*"
running=0
for n in $names; do
	run_one "$n" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

pass=0
fail=0
for n in $names; do
	cat "$work/log/$n.sum" 2>/dev/null || echo "not ok - fuzz_$n: no result"
	if grep -q '^ok' "$work/log/$n.sum" 2>/dev/null; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]

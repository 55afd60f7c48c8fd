# bench/benchlib.sh — what the load benchmarks share (sourced by
# loadtest.sh and loadtest_pg.sh): timing and number formatting.
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
fmt_int() {
	awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); out = ""
		while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
		printf "%s%s", s, out }'
}
# cpu_s PID: user+system CPU seconds of a live process.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null ||
		echo n/a
}

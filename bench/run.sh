#!/bin/sh
# bench/run.sh — mlledger benchmarks against "physical limit" baselines.
#
#   sh bench/run.sh /abs/path/to/mlledger        (make bench does this)
#
# Environment:
#   BENCH_N=100000      import / verify size (lines of JSONL)
#   BENCH_BIG=1         0 skips the 1,000,000-entry ledger
#   BENCH_BIG_N=1000000 size of the big ledger (entries, genesis included)
#   BENCH_CHUNK=200000  import chunk size used to build the big ledger
#   BENCH_RECORDS=50    timed `record` calls per ledger (after 3 warm-ups)
#   BENCH_GIT=1         0 skips the signed git commit comparison
#   BENCH_PEERS=1       0 skips the alternatives (bench/peers.sh: git and
#                       minisign throughput and verification, artifact hashing
#                       against sha256sum and openssl)
#   BENCH_PEER_N=1000   entries signed and verified by git and by minisign
#   BENCH_HASH_MB=1024  size of the hashed file and model folder (MiB; the
#                       scratch folder needs twice that free)
#   TMPDIR              where the scratch folder goes (its file system matters:
#                       every commit is fsync'ed)
#   CC                  C compiler for the helpers (default cc)
#
# Everything happens in a mktemp -d folder, removed on exit.
set -u

BIN=${1:-}
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
	echo "usage: sh bench/run.sh /path/to/mlledger" >&2
	exit 2
fi
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
POLICY=$HERE/../policies/production.xml
N=${BENCH_N:-100000}
BIG=${BENCH_BIG:-1}
BIG_N=${BENCH_BIG_N:-1000000}
CHUNK=${BENCH_CHUNK:-200000}
RUNS=${BENCH_RECORDS:-50}
WARM=3
DOGIT=${BENCH_GIT:-1}
CC=${CC:-cc}

W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-bench.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
LOG=$W/log
U=$W/benchutil

say() { printf '%s\n' "$*"; }
fail() {
	say "bench: $*" >&2
	if [ -s "$LOG" ]; then
		say "bench: last lines of the log:" >&2
		tail -n 8 "$LOG" >&2
	fi
	exit 1
}
# calc EXPR: floating-point arithmetic through awk.
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
# fmt_int X: 12345.6 -> 12,346
fmt_int() {
	awk -v x="$1" 'BEGIN {
		if (x == "" || x == "n/a") { printf "n/a"; exit }
		s = sprintf("%.0f", x); out = ""
		while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
		printf "%s%s", s, out }'
}
# timed LABEL CMD...: runs CMD (output to $LOG), sets T to its wall seconds.
timed() {
	label=$1
	shift
	T=$("$U" time "$LOG" "$@") || fail "$label failed (exit $?)"
}
now() { "$U" now; }
# verified_count: the entry count of the last `verify` run in $LOG.
verified_count() {
	sed -n 's/^ok: \([0-9][0-9]*\) entries intact.*/\1/p' "$LOG" | tail -n 1
}

# ---- helpers ---------------------------------------------------------------
PKGC=$(pkg-config --cflags libsodium sqlite3 libcrypto 2>/dev/null)
# shellcheck disable=SC2086
$CC -O2 -std=c11 -o "$U" "$HERE/benchutil.c" ||
	fail "cannot compile bench/benchutil.c"
# shellcheck disable=SC2086
$CC -O2 -std=c11 $PKGC -o "$W/baseline" "$HERE/baseline.c" -lsodium -lsqlite3 -lcrypto \
	-lpthread || fail "cannot compile bench/baseline.c"

# The alternatives (sourced now so that bad sizes fail before anything runs).
# shellcheck source=bench/peers.sh
. "$HERE/peers.sh"

T_START=$(now)
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$CPU" ] || CPU=$(uname -m)
NCPU=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
FS=$(df -PT "$W" 2>/dev/null | awk 'NR == 2 { print $2 " on " $1 }')
say "mlledger benchmarks — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
say "machine : $NCPU cores, $CPU, $(uname -sr)"
say "memory  : $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"
say "scratch : $W (${FS:-unknown fs})"
say "sqlite  : $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo '?') (CLI); libsodium $(pkg-config --modversion libsodium 2>/dev/null || echo '?')"
say "binary  : $BIN"
TREE=$(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null) &&
	{ git -C "$HERE/.." diff --quiet HEAD -- src Makefile 2>/dev/null || TREE="$TREE + uncommitted src changes"; } &&
	say "tree    : git $TREE (the binary may differ if built elsewhere)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
say "load    : ${LOAD0:-?} (1/5/15 min)"
if awk -v l="${LOAD0%% *}" -v n="$NCPU" 'BEGIN { exit !(l + 0 >= 0.5 * n) }'; then
	say "WARNING : the machine is busy; figures will be noisy (baselines are measured in the"
	say "          same run, so the ratios are less affected than the absolute numbers)"
fi
say "sizes   : BENCH_N=$N BENCH_BIG=$BIG (BIG_N=$BIG_N, chunks of $CHUNK) BENCH_RECORDS=$RUNS"
say "peers   : BENCH_PEERS=$PEERS BENCH_PEER_N=$PEER_N BENCH_HASH_MB=$HASH_MB"
say ""

# ---- baselines ------------------------------------------------------------
say "[baseline] bare import + verify loops, N=$N ..."
"$W/baseline" "$W/baseline.db" "$N" >"$W/baseline.out" 2>>"$LOG" || fail "baseline failed"
bl() { awk -v k="$1" '$1 == k { print $2 }' "$W/baseline.out"; }
B_IMPORT=$(bl import_eps)
B_VERIFY=$(bl verify_eps)
B_VTHREADS=$(bl verify_threads)
B_VERIFY1=$(bl verify1_eps)
rm -f "$W"/baseline.db*
say "           import $(fmt_int "$B_IMPORT") entries/s; verify $(fmt_int "$B_VERIFY")/s on $B_VTHREADS threads, $(fmt_int "$B_VERIFY1")/s on 1"

# ---- keys ------------------------------------------------------------------
mkdir -p "$W/keys"
timed "key new" "$BIN" key new admin --dir "$W/keys"
KEY=$W/keys/admin.key

# new_ledger PATH: init PATH with the admin key, under bench/governance.json:
# one operator's key signs every kind (the rules check does the same work as
# with separate keys, and the entry counts stay those of the generator).
new_ledger() {
	timed "init $1" "$BIN" --ledger "$1" init --key "$KEY" --origin bench.example/ledger \
		--governance "$HERE/governance.json"
}

# ---- import throughput -----------------------------------------------------
say "[import] generating $N lines ..."
"$U" gen "$N" >"$W/n.jsonl" || fail "generator failed"
SZ=$(wc -c <"$W/n.jsonl")
say "         $(fmt_int "$SZ") bytes, $(awk '{ k[substr($0, 10, index(substr($0, 10), "\"") - 1)]++ } END { for (x in k) printf "%s %d\n", x, k[x] }' "$W/n.jsonl" | sort | tr '\n' ' ')"
L100=$W/l100k.db
new_ledger "$L100"
timed "import of $N lines" "$BIN" --ledger "$L100" import "$W/n.jsonl" --key "$KEY"
T_IMPORT=$T
R_IMPORT=$(calc "$N / $T")
DBSZ=$(cat "$L100" "$L100-wal" 2>/dev/null | wc -c)
say "         $N entries in $(calc "$T" | cut -c1-6) s = $(fmt_int "$R_IMPORT") entries/s; ledger $(fmt_int "$DBSZ") bytes ($(calc "$DBSZ / ($N + 1)" | cut -d. -f1) B/entry)"

# ---- verify throughput (100k) ----------------------------------------------
say "[verify] ledger of $((N + 1)) entries ..."
timed "verify of the $N ledger" "$BIN" --ledger "$L100" verify
C=$(verified_count)
[ -n "$C" ] || C=$((N + 1))
R_VERIFY=$(calc "$C / $T")
say "         $C entries in $(calc "$T" | cut -c1-6) s = $(fmt_int "$R_VERIFY") entries/s"

# ---- gate, check and report at one size ------------------------------------
# The generator deploys each version to staging and production (N/10
# deployments).  The bench ledger's approvals are the admin's own, so every
# verdict is a deny: exit 1 is expected from gate and check.
#
# growth TAG LEDGER ENTRIES: gate (median of 5), check and the HTML report
# of the whole history with policies/production.xml; sets GR_n_TAG (entries),
# GR_gate_TAG (ms), GR_check_TAG (s), GR_checkmb_TAG, GR_report_TAG (s),
# GR_reportmb_TAG (MiB; n/a without /usr/bin/time) and GR_html_TAG (bytes).
growth() {
	tag=$1 led=$2 ents=$3
	eval "GR_n_$tag=\$ents"
	say "[growth] gate, check, report with production.xml over $(fmt_int "$3") entries ..."
	gmodel=$("$U" model 0)
	: >"$W/lat.gate"
	i=0
	while [ "$i" -lt 5 ]; do
		S1=$(now)
		"$BIN" --ledger "$led" gate --policy "$POLICY" "$gmodel" --env production >"$LOG" 2>&1
		grc=$?
		[ "$grc" -le 1 ] || fail "gate exited $grc"
		say "$(calc "$(now) - $S1")" >>"$W/lat.gate"
		i=$((i + 1))
	done
	set -- $("$U" stats <"$W/lat.gate")
	eval "GR_gate_$tag=$(calc "$2 * 1000")"
	set -- $("$U" timemem "$W/check.out" "$BIN" --ledger "$led" check --policy "$POLICY" \
		--format json)
	[ "$#" -eq 2 ] || fail "check did not run"
	grep -q '"verdict": "deny"' "$W/check.out" ||
		{ tail -n 3 "$W/check.out" >>"$LOG"; fail "check gave no deny verdict"; }
	rm -f "$W/check.out"
	eval "GR_check_$tag=$1 GR_checkmb_$tag=$(calc "$2 / 1024" | cut -d. -f1)"
	# The whole-history report holds its model in memory up to 120,000
	# entries (report --spool auto): about 7 KB per entry; above, in a
	# spool, under 1 GiB at 1M. Skip it rather than swap or be killed when
	# the machine has less than that (with a margin) available.
	avail=$(awk '/^MemAvailable/ { print $2 }' /proc/meminfo 2>/dev/null)
	need=$((ents * 8))
	[ "$ents" -le 120000 ] || need=1572864
	if [ -n "$avail" ] && [ "$avail" -lt "$need" ]; then
		say "         report skipped: needs about $((need / 1048576 + 1)) GiB of memory, $((avail / 1048576)) GiB available"
		REPORT_NOTE=skipped
	else
		set -- $("$U" timemem "$LOG" "$BIN" --ledger "$led" report --policy "$POLICY" \
			--from 2000-01-01 --to 2099-12-31 --format html --out "$W/report.html")
		[ "$#" -eq 2 ] || fail "report failed"
		eval "GR_report_$tag=$1 GR_reportmb_$tag=$(calc "$2 / 1024" | cut -d. -f1)"
		[ -s "$W/report.html" ] || fail "report wrote nothing"
		eval "GR_html_$tag=$(wc -c <"$W/report.html")"
		rm -f "$W/report.html"
	fi
	rep="report skipped"
	eval "[ \"\$GR_report_$tag\" = n/a ] || rep=\"report \$(printf %.2f \$GR_report_$tag) s, peak \$GR_reportmb_$tag MiB, \$(fmt_int \$GR_html_$tag) bytes\""
	eval "say \"         gate median \$(printf %.2f \$GR_gate_$tag) ms; check \$(printf %.2f \$GR_check_$tag) s, peak \$GR_checkmb_$tag MiB; \$rep\""
}
REPORT_NOTE=
for t in 1k n big; do
	for f in n gate check checkmb report reportmb html; do eval "GR_${f}_$t=n/a"; done
done

growth n "$L100" "$((N + 1))"

# ---- replaying gate decisions (verify --decisions) ---------------------------
# After the growth figures, so that those stay comparable with earlier runs
# (decisions make every gate's evidence larger).
# One decision per deployment: the production policy recorded, then every
# deployed version gated for production and for staging (--subjects: one
# checkpoint, one transaction per environment).  Every verdict is a deny
# (the approvals are the admin's own), which replays as well as a pass.
# Plain verify and verify --decisions of the same ledger, same run; the goal
# (issue "Gate decisions anyone can replay") is at most 3x.
say "[replay] recording production.xml and one gate decision per deployment ..."
timed "policy record" "$BIN" --ledger "$L100" policy record "$POLICY" --key "$KEY"
"$BIN" --ledger "$L100" log --kind deployment 2>>"$LOG" | awk 'NR > 1 { print $4 }' |
	sort -u >"$W/deployed.txt"
NDEC=0
for genv in production staging; do
	S1=$(now)
	"$BIN" --ledger "$L100" gate --policy production --subjects "$W/deployed.txt" \
		--env "$genv" --key "$KEY" >"$LOG" 2>&1
	grc=$?
	[ "$grc" -le 1 ] || fail "gate --subjects exited $grc"
	NDEC=$((NDEC + $(grep -c 'recorded at seq' "$LOG")))
	say "         $genv: $(wc -l <"$W/deployed.txt") decisions in $(calc "$(now) - $S1" | cut -c1-6) s"
done
timed "verify of the ledger with decisions" "$BIN" --ledger "$L100" verify
T_VPLAIN=$T
timed "verify --decisions" "$BIN" --ledger "$L100" verify --decisions
T_VDEC=$T
grep -q "^ok: $NDEC gate decisions replayed" "$LOG" || fail "verify --decisions replayed other than $NDEC decisions"
R_DEC=$(calc "$T_VDEC / $T_VPLAIN")
say "         $(verified_count) entries: verify $(calc "$T_VPLAIN" | cut -c1-6) s, verify --decisions ($NDEC decisions) $(calc "$T_VDEC" | cut -c1-6) s = $(calc "$R_DEC" | cut -c1-4)x (goal <= 3x)"

rm -f "$W"/n.jsonl "$L100" "$L100"-wal "$L100"-shm "$L100".log.key

# ---- record latency --------------------------------------------------------
# record_latency LEDGER TAG: $WARM + $RUNS `record evaluation` calls; sets
# MED and P90 (ms).
record_latency() {
	model=$("$U" model 0)
	i=0
	: >"$W/lat.$2"
	while [ "$i" -lt $((RUNS + WARM)) ]; do
		timed "record on the $2 ledger" "$BIN" --ledger "$1" record evaluation "$model" \
			--metric accuracy=0.9$i --metric f1=0.8$i --set suite=bench-$2 \
			--set run=$i --key "$KEY"
		[ "$i" -ge "$WARM" ] && say "$T" >>"$W/lat.$2"
		i=$((i + 1))
	done
	set -- $("$U" stats <"$W/lat.$2")
	MED=$(calc "$2 * 1000")
	P90=$(calc "$3 * 1000")
	MINL=$(calc "$4 * 1000")
	MAXL=$(calc "$5 * 1000")
}

# cmd_latency TAG CMD...: $RUNS timed runs of a read-only command; sets MED.
cmd_latency() {
	tag=$1
	shift
	i=0
	: >"$W/lat.$tag"
	while [ "$i" -lt "$RUNS" ]; do
		timed "$tag" "$@"
		say "$T" >>"$W/lat.$tag"
		i=$((i + 1))
	done
	set -- $("$U" stats <"$W/lat.$tag")
	MED=$(calc "$2 * 1000")
}

say "[record] ledger of 1,000 entries: setup ..."
S0=$(now)
L1K=$W/l1k.db
new_ledger "$L1K"
"$U" gen 999 >"$W/1k.jsonl" || fail "generator failed"
timed "import of 999 lines" "$BIN" --ledger "$L1K" import "$W/1k.jsonl" --key "$KEY"
SETUP_1K=$(calc "$(now) - $S0")
growth 1k "$L1K" 1000
record_latency "$L1K" 1k
REC1K_MED=$MED REC1K_P90=$P90
say "         setup $(calc "$SETUP_1K" | cut -c1-5) s; $RUNS records: median $(printf %.2f "$MED") ms, p90 $(printf %.2f "$P90") ms (min $(printf %.2f "$MINL"), max $(printf %.2f "$MAXL"))"

# ---- the big ledger --------------------------------------------------------
REC1M_MED=n/a REC1M_P90=n/a R_VERIFY_BIG=n/a SETUP_BIG=n/a R_LASTCHUNK=n/a C_BIG=$BIG_N
CKPT_MED=n/a PROVE_MED=n/a CONS_MED=n/a
LASTCHUNK_AT=0
[ "$BIG_N" -ge 1000 ] || fail "BENCH_BIG_N must be at least 1000"
if [ "$BIG" != 0 ]; then
	say "[big] building a ledger of $(fmt_int "$BIG_N") entries in chunks of $(fmt_int "$CHUNK") ..."
	S0=$(now)
	LBIG=$W/lbig.db
	new_ledger "$LBIG"
	done_lines=0
	total=$((BIG_N - 1))
	while [ "$done_lines" -lt "$total" ]; do
		n=$CHUNK
		[ $((done_lines + n)) -gt "$total" ] && n=$((total - done_lines))
		"$U" gen "$n" "$done_lines" >"$W/chunk.jsonl" || fail "generator failed"
		timed "import of chunk at $done_lines" "$BIN" --ledger "$LBIG" import "$W/chunk.jsonl" \
			--key "$KEY"
		R_LASTCHUNK=$(calc "$n / $T")
		LASTCHUNK_AT=$done_lines
		done_lines=$((done_lines + n))
		say "      $(fmt_int "$done_lines") lines: chunk of $n in $(calc "$T" | cut -c1-6) s = $(fmt_int "$R_LASTCHUNK") entries/s"
	done
	rm -f "$W/chunk.jsonl"
	SETUP_BIG=$(calc "$(now) - $S0")
	say "      setup took $(calc "$SETUP_BIG" | cut -d. -f1) s"
	say "[record] ledger of $(fmt_int "$BIG_N") entries ..."
	record_latency "$LBIG" big
	REC1M_MED=$MED REC1M_P90=$P90
	say "         $RUNS records: median $(printf %.2f "$MED") ms, p90 $(printf %.2f "$P90") ms (min $(printf %.2f "$MINL"), max $(printf %.2f "$MAXL"))"
	say "[tlog] checkpoint, prove, prove --consistency on $(fmt_int "$BIG_N")+ entries ..."
	cmd_latency checkpoint "$BIN" --ledger "$LBIG" checkpoint
	CKPT_MED=$MED
	cmd_latency prove "$BIN" --ledger "$LBIG" prove $((BIG_N / 2 + 1))
	PROVE_MED=$MED
	cmd_latency consistency "$BIN" --ledger "$LBIG" prove --consistency $((BIG_N / 3))
	CONS_MED=$MED
	say "         medians: checkpoint $(printf %.2f "$CKPT_MED") ms, prove $(printf %.2f "$PROVE_MED") ms, consistency $(printf %.2f "$CONS_MED") ms"
	say "[verify] ledger of $(fmt_int "$BIG_N")+ entries ..."
	timed "verify of the big ledger" "$BIN" --ledger "$LBIG" verify
	C_BIG=$(verified_count)
	[ -n "$C_BIG" ] || C_BIG=$BIG_N
	R_VERIFY_BIG=$(calc "$C_BIG / $T")
	say "         $C_BIG entries in $(calc "$T" | cut -c1-6) s = $(fmt_int "$R_VERIFY_BIG") entries/s"
	growth big "$LBIG" "$C_BIG"
	rm -f "$LBIG" "$LBIG"-wal "$LBIG"-shm "$LBIG".log.key
fi

# ---- signed git commit -----------------------------------------------------
GIT_MED=n/a GIT_P90=n/a GIT_NOTE=""
if [ "$DOGIT" = 0 ]; then
	GIT_NOTE="skipped (BENCH_GIT=0)"
elif ! command -v git >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1; then
	GIT_NOTE="git or ssh-keygen not found"
else
	say "[git] $RUNS signed empty commits (ssh ed25519 key) ..."
	G=$W/git
	mkdir -p "$G/home" "$G/repo"
	ssh-keygen -q -t ed25519 -N "" -C bench -f "$G/signing" >>"$LOG" 2>&1
	gitc() { HOME=$G/home GIT_CONFIG_NOSYSTEM=1 git -C "$G/repo" "$@"; }
	if gitc init -q >>"$LOG" 2>&1 &&
		gitc config user.name bench && gitc config user.email bench@example.org &&
		gitc config gpg.format ssh && gitc config user.signingkey "$G/signing" &&
		HOME=$G/home GIT_CONFIG_NOSYSTEM=1 "$U" time "$LOG" git -C "$G/repo" commit -q \
			--allow-empty -S -m warm >/dev/null &&
		gitc cat-file commit HEAD | grep -q '^gpgsig'; then
		i=1
		: >"$W/lat.git"
		while [ "$i" -lt $((RUNS + WARM)) ]; do
			T=$(HOME=$G/home GIT_CONFIG_NOSYSTEM=1 "$U" time "$LOG" git -C "$G/repo" commit -q \
				--allow-empty -S -m "x $i") || fail "git commit failed"
			[ "$i" -ge "$WARM" ] && say "$T" >>"$W/lat.git"
			i=$((i + 1))
		done
		set -- $("$U" stats <"$W/lat.git")
		GIT_MED=$(calc "$2 * 1000")
		GIT_P90=$(calc "$3 * 1000")
		say "      median $(printf %.2f "$GIT_MED") ms, p90 $(printf %.2f "$GIT_P90") ms ($(git --version))"
	else
		GIT_NOTE="this git cannot sign with ssh keys"
	fi
fi

# ---- the alternatives: git, minisign, sha256sum, openssl (bench/peers.sh) ---
peers_run

# ---- the table -------------------------------------------------------------
# row LABEL OURS BASE RATIO GOAL STATUS
row() {
	printf '%-42s %12s %12s %8s %12s' "$1" "$2" "$3" "$4" "$5"
	if [ -n "$6" ]; then printf '  %s\n' "$6"; else printf '\n'; fi
}
# tp LABEL OURS BASE GOAL: a throughput row (higher is better).
tp() {
	if [ "$2" = n/a ]; then
		row "$1" n/a "$(fmt_int "$3")" n/a ">= $(fmt_int "$4")" "(skipped)"
		return
	fi
	st=$(awk -v x="$2" -v g="$4" 'BEGIN { print (g == "" || x + 0 >= g + 0) ? "ok" : "BELOW GOAL" }')
	[ -z "$4" ] && st=""
	row "$1" "$(fmt_int "$2")" "$(fmt_int "$3")" "$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2fx", a / b }')" \
		"${4:+>= $(fmt_int "$4")}" "$st"
}
# lat LABEL OURS_MS GIT_MS GOAL_MS: a latency row (lower is better).
lat() {
	if [ "$2" = n/a ]; then
		b=n/a
		[ "$3" != n/a ] && b=$(printf %.2f "$3")
		row "$1" n/a "$b" n/a "${4:+<= $4}" "(skipped)"
		return
	fi
	b=n/a r=n/a
	if [ "$3" != n/a ]; then
		b=$(printf %.2f "$3")
		r=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2fx", a / b }')
	fi
	st=""
	[ -n "$4" ] && st=$(awk -v x="$2" -v g="$4" 'BEGIN { print x + 0 <= g + 0 ? "ok" : "ABOVE GOAL" }')
	row "$1" "$(printf %.2f "$2")" "$b" "$r" "${4:+<= $4}" "$st"
}

# short_n X: 1000 -> 1k, 100001 -> 100k, 1000053 -> 1M.
short_n() {
	awk -v x="$1" 'BEGIN { if (x == "n/a") print x; else if (x >= 1000000) printf "%dM", x / 1000000;
		else printf "%dk", x / 1000 }'
}
# grow LABEL FIELD FMT GOAL GOALTAG: one row of the growth table: FIELD at
# the three sizes, the big/n ratio, and GOAL (<=) checked at size GOALTAG.
grow() {
	v1=$(eval "echo \$GR_$2_1k") vn=$(eval "echo \$GR_$2_n") vb=$(eval "echo \$GR_$2_big")
	f() { if [ "$1" = n/a ]; then echo n/a; elif [ "$2" = int ]; then fmt_int "$1"; else printf "$2" "$1"; fi; }
	r=n/a
	[ "$vn" != n/a ] && [ "$vb" != n/a ] && r=$(awk -v a="$vb" -v b="$vn" 'BEGIN { printf "%.1fx", a / b }')
	st=""
	if [ -n "$4" ]; then
		g=$(eval "echo \$GR_$2_$5")
		if [ "$g" = n/a ]; then st="(skipped)"; else
			st=$(awk -v x="$g" -v l="$4" 'BEGIN { print x + 0 <= l + 0 ? "ok" : "ABOVE GOAL" }')
		fi
	fi
	printf '%-34s %11s %11s %11s %7s %14s  %s\n' "$1" "$(f "$v1" "$3")" "$(f "$vn" "$3")" \
		"$(f "$vb" "$3")" "$r" "${4:+<= $4 at $(short_n "$(eval "echo \$GR_n_$5")")}" "$st"
}
growth_rows() {
	printf '%-34s %11s %11s %11s %7s %14s\n' "growth (production.xml, entries)" \
		"$(fmt_int "$GR_n_1k")" "$(fmt_int "$GR_n_n")" "$(fmt_int "$GR_n_big")" "ratio" goal
	printf '%-34s %11s %11s %11s %7s %14s\n' "----------------------------------" ----------- \
		----------- ----------- ------- --------------
	grow "gate, median of 5 (ms)" gate %.2f 50 big
	grow "check (s)" check %.2f 5 n
	grow "check, peak memory (MiB)" checkmb int 1024 n
	grow "report --format html (s)" report %.2f 10 n
	grow "report --format html, peak (MiB)" reportmb int 1024 n
	grow "report --format html, size (bytes)" html int "" ""
	say "ratio: the figure at $(fmt_int "$GR_n_big") entries / the one at $(fmt_int "$GR_n_n") ($(awk -v a="$GR_n_big" -v b="$GR_n_n" \
		'BEGIN { if (b + 0 > 0 && a != "n/a") printf "%.1fx", a / b; else printf "n/a" }') the entries):"
	say "  the same ratio as the entries is linear growth, 1.0x is none."
	[ -z "$REPORT_NOTE" ] ||
		say "  n/a report: skipped where MemAvailable was below 12 KB per entry (about 10 are needed)."
}

T_TOTAL=$(calc "$(now) - $T_START")
say ""
say "Results ($NCPU cores, $CPU)"
say ""
row "throughput (entries/s)" mlledger baseline ratio goal ""
row "------------------------------------------" ------------ ------------ -------- ------------ ""
tp "import, $(fmt_int "$N") lines into a new ledger" "$R_IMPORT" "$B_IMPORT" 20000
[ "$BIG" != 0 ] && tp "import, last chunk (ledger at $(fmt_int "$LASTCHUNK_AT"))" "$R_LASTCHUNK" "$B_IMPORT" 20000
tp "verify, $(fmt_int "$((N + 1))") entries" "$R_VERIFY" "$B_VERIFY" 20000
row "verify --decisions, $(fmt_int "$NDEC") decisions (s)" "$(calc "$T_VDEC" | cut -c1-6)" \
	"$(calc "$T_VPLAIN" | cut -c1-6)" "$(calc "$R_DEC" | cut -c1-4)x" "<= 3x verify" \
	"$(awk -v r="$R_DEC" 'BEGIN { print (r <= 3) ? "ok" : "MISSED" }')"
if [ "$BIG" != 0 ]; then
	tp "verify, $(fmt_int "$C_BIG") entries" "$R_VERIFY_BIG" "$B_VERIFY" 20000
else
	row "verify, $(fmt_int "$BIG_N") entries" n/a "$(fmt_int "$B_VERIFY")" n/a ">= 20,000" "(skipped, BENCH_BIG=0)"
fi
say ""
row "latency (ms, $RUNS calls)" mlledger "git -S" ratio goal ""
row "------------------------------------------" ------------ ------------ -------- ------------ ""
lat "record evaluation, 1k ledger, median" "$REC1K_MED" "$GIT_MED" 10
lat "record evaluation, 1k ledger, p90" "$REC1K_P90" "$GIT_P90" ""
lat "record evaluation, $(fmt_int "$BIG_N") ledger, median" "$REC1M_MED" "$GIT_MED" 10
lat "record evaluation, $(fmt_int "$BIG_N") ledger, p90" "$REC1M_P90" "$GIT_P90" ""
lat "checkpoint, $(fmt_int "$BIG_N") ledger, median" "$CKPT_MED" n/a 20
lat "prove SEQ, $(fmt_int "$BIG_N") ledger, median" "$PROVE_MED" n/a 20
lat "prove --consistency, $(fmt_int "$BIG_N") ledger, median" "$CONS_MED" n/a 20
lat "gate (production.xml), $(fmt_int "$BIG_N") ledger, median" "$GR_gate_big" n/a 50
say ""
growth_rows
say ""
peers_rows
say ""
say "baseline import: bare loop of 600-byte payload, EVP SHA-256, crypto_sign_detached,"
say "  INSERT (WAL, synchronous=FULL), one transaction.  baseline verify:"
say "  crypto_sign_verify_detached on $B_VTHREADS threads ($(fmt_int "$B_VERIFY1")/s on one core)."
say "ratio: mlledger / baseline (throughput: 1.00x = at the limit; latency: x times git)."
[ -n "$GIT_NOTE" ] && say "git -S: n/a — $GIT_NOTE"
peers_notes
say "setup: 1k ledger $(calc "$SETUP_1K" | cut -c1-5) s; big ledger $(
	[ "$SETUP_BIG" = n/a ] && echo "skipped" || echo "$(calc "$SETUP_BIG" | cut -d. -f1) s")"
say "total: $(calc "$T_TOTAL" | cut -d. -f1) s; load average at start ${LOAD0:-?}, at end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"

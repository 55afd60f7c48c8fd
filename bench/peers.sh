# bench/peers.sh — mlledger against the alternatives (sourced by bench/run.sh).
#
# Not a script of its own: bench/run.sh sources it with `.` once its
# helpers exist (so bad sizes fail before anything runs), calls peers_run
# after its own sections, and prints peers_rows and peers_notes in its
# results table.  It shares run.sh's scratch folder ($W, removed on exit),
# log, helpers (say, fail, calc, fmt_int, timed, now, $U) and figures
# (R_IMPORT, R_VERIFY, B_IMPORT, B_VERIFY, REC1K_MED, GIT_MED).  peers_run
# measures:
#
#   git      PEER_N signed commits (ssh ed25519 key, one commit per entry,
#            the entry's JSON as the commit message): commits/s; then
#            `git verify-commit` of those PEER_N commits (allowed signers
#            file): commits verified/s.
#   minisign one file per entry, one `minisign -S` each (unencrypted key,
#            -G -W): signs/s; one `minisign -V` each: verifies/s.
#   hashing  a HASH_MB MiB file and a HASH_MB MiB folder of 64 files, by
#            `mlledger digest`, `sha256sum` and `openssl dgst -sha256` (for
#            the folder, one sha256sum / openssl call over every file).  Each
#            tool runs once to warm the page cache, then the second run is
#            timed: MiB/s from memory, not from the disk.
#
# peers_rows prints the "against the alternatives" rows of the results
# table, peers_notes their footnotes.
#
# Environment (see run.sh for the rest):
#   BENCH_PEERS=1       0 skips all of this (the rows then say skipped)
#   BENCH_PEER_N=1000   entries signed and verified by git and minisign
#   BENCH_HASH_MB=1024  size of the hashed file and of the folder (MiB)

if [ -z "${U:-}" ] || [ -z "${W:-}" ]; then
	echo "bench/peers.sh is sourced by bench/run.sh; run: sh bench/run.sh /path/to/mlledger" >&2
	exit 2
fi

PEERS=${BENCH_PEERS:-1}
PEER_N=${BENCH_PEER_N:-1000}
HASH_MB=${BENCH_HASH_MB:-1024}
case $PEER_N in '' | *[!0-9]*) fail "BENCH_PEER_N must be a number" ;; esac
case $HASH_MB in '' | *[!0-9]*) fail "BENCH_HASH_MB must be a number" ;; esac
[ "$PEER_N" -ge 1 ] || fail "BENCH_PEER_N must be at least 1"
[ "$HASH_MB" -ge 64 ] || fail "BENCH_HASH_MB must be at least 64 (the folder has 64 files)"

P_GIT_SIGN=n/a P_GIT_VERIFY=n/a P_GIT_NOTE=""
P_MS_SIGN=n/a P_MS_VERIFY=n/a P_MS_NOTE=""
H_ML_FILE=n/a H_SHA_FILE=n/a H_OSSL_FILE=n/a
H_ML_DIR=n/a H_SHA_DIR=n/a H_OSSL_DIR=n/a H_NOTE=""

# rate COUNT SECONDS: COUNT / SECONDS.
rate() { calc "$1 / $2"; }

peers_git() {
	if ! command -v git >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1; then
		P_GIT_NOTE="git or ssh-keygen not found (Debian git, openssh-client)"
		return
	fi
	say "[peers] git: $(fmt_int "$PEER_N") signed commits, one per entry, then git verify-commit ..."
	PG=$W/peers/git
	mkdir -p "$PG/home" "$PG/repo" || fail "cannot create $PG"
	ssh-keygen -q -t ed25519 -N "" -C bench -f "$PG/signing" >>"$LOG" 2>&1 ||
		fail "ssh-keygen failed"
	printf 'bench@example.org namespaces="git" %s\n' "$(cut -d' ' -f1-2 "$PG/signing.pub")" \
		>"$PG/allowed_signers"
	pgit() { HOME=$PG/home GIT_CONFIG_NOSYSTEM=1 git -C "$PG/repo" "$@"; }
	if ! { pgit init -q && pgit config user.name bench &&
		pgit config user.email bench@example.org && pgit config gpg.format ssh &&
		pgit config user.signingkey "$PG/signing" &&
		pgit config gpg.ssh.allowedSignersFile "$PG/allowed_signers" &&
		pgit commit -q --allow-empty -S -m warm &&
		pgit verify-commit HEAD; } >>"$LOG" 2>&1; then
		P_GIT_NOTE="this git cannot sign or verify with ssh keys (see the log)"
		return
	fi
	"$U" gen "$PEER_N" >"$PG/entries.jsonl" || fail "generator failed"
	S0=$(now)
	while IFS= read -r line; do
		pgit commit -q --allow-empty -S -m "$line" >>"$LOG" 2>&1 ||
			fail "git commit -S failed"
	done <"$PG/entries.jsonl"
	T=$(calc "$(now) - $S0")
	P_GIT_SIGN=$(rate "$PEER_N" "$T")
	say "        $(fmt_int "$PEER_N") commits in $(calc "$T" | cut -c1-6) s = $(fmt_int "$P_GIT_SIGN") entries/s"
	pgit rev-list --max-count="$PEER_N" HEAD >"$PG/commits" 2>>"$LOG" || fail "git rev-list failed"
	[ "$(wc -l <"$PG/commits")" -eq "$PEER_N" ] || fail "git rev-list did not list $PEER_N commits"
	: >"$PG/verify.log"
	# shellcheck disable=SC2016 # $1 and $2 are the inner sh's arguments
	T=$(HOME=$PG/home GIT_CONFIG_NOSYSTEM=1 "$U" time "$PG/verify.log" \
		sh -c 'xargs git -C "$1" verify-commit <"$2"' sh "$PG/repo" "$PG/commits") ||
		{ tail -n 3 "$PG/verify.log" >>"$LOG"; fail "git verify-commit failed"; }
	good=$(grep -c '^Good "git" signature' "$PG/verify.log")
	[ "$good" -eq "$PEER_N" ] ||
		{ tail -n 3 "$PG/verify.log" >>"$LOG"; fail "git verify-commit: $good good signatures, want $PEER_N"; }
	P_GIT_VERIFY=$(rate "$PEER_N" "$T")
	say "        verify-commit of $(fmt_int "$PEER_N") commits in $(calc "$T" | cut -c1-6) s = $(fmt_int "$P_GIT_VERIFY") commits/s ($(git --version))"
	rm -rf "$PG"
}

peers_minisign() {
	if ! command -v minisign >/dev/null 2>&1; then
		P_MS_NOTE="minisign not found (Debian minisign; make deps)"
		return
	fi
	say "[peers] minisign: $(fmt_int "$PEER_N") entries, one file and one minisign -S / -V each ..."
	PM=$W/peers/minisign
	mkdir -p "$PM/e" || fail "cannot create $PM"
	minisign -G -W -p "$PM/k.pub" -s "$PM/k.key" >>"$LOG" 2>&1 || fail "minisign -G -W failed"
	"$U" gen "$PEER_N" | awk -v d="$PM/e" '{ f = sprintf("%s/%07d.json", d, NR); print > f; close(f) }' ||
		fail "cannot write the entry files"
	S0=$(now)
	for f in "$PM"/e/*.json; do
		minisign -S -s "$PM/k.key" -m "$f" >>"$LOG" 2>&1 || fail "minisign -S $f failed"
	done
	T=$(calc "$(now) - $S0")
	P_MS_SIGN=$(rate "$PEER_N" "$T")
	say "        $(fmt_int "$PEER_N") signatures in $(calc "$T" | cut -c1-6) s = $(fmt_int "$P_MS_SIGN") signs/s"
	S0=$(now)
	for f in "$PM"/e/*.json; do
		minisign -V -q -p "$PM/k.pub" -m "$f" >>"$LOG" 2>&1 || fail "minisign -V $f failed"
	done
	T=$(calc "$(now) - $S0")
	P_MS_VERIFY=$(rate "$PEER_N" "$T")
	say "        $(fmt_int "$PEER_N") verifications in $(calc "$T" | cut -c1-6) s = $(fmt_int "$P_MS_VERIFY") verifies/s ($(minisign -v 2>&1))"
	rm -rf "$PM"
}

# hash_rate LABEL CMD...: one warm-up run, then a timed run; sets MIBS
# (HASH_MB / seconds of the second run).
hash_rate() {
	hlabel=$1
	shift
	"$@" >>"$LOG" 2>&1 || fail "$hlabel failed (warm-up run)"
	timed "$hlabel" "$@"
	MIBS=$(calc "$HASH_MB / $T")
}

peers_hash() {
	say "[peers] hashing a $(fmt_int "$HASH_MB") MiB file and a $(fmt_int "$HASH_MB") MiB folder of 64 files ..."
	PH=$W/peers/hash
	mkdir -p "$PH/model" || fail "cannot create $PH"
	FBYTES=$((HASH_MB * 1048576))
	"$U" bytes "$FBYTES" 1 >"$PH/file.bin" || fail "cannot write $PH/file.bin (disk full?)"
	i=0
	while [ "$i" -lt 64 ]; do
		"$U" bytes $((FBYTES / 64)) $((i + 2)) >"$PH/model/$(printf 'shard-%02d.bin' "$i")" ||
			fail "cannot write the model folder (disk full?)"
		i=$((i + 1))
	done
	# The three must agree before their speed means anything.
	want=$(sha256sum "$PH/file.bin" | cut -c1-64)
	got=$("$BIN" digest "$PH/file.bin" 2>>"$LOG") || fail "mlledger digest failed"
	[ "$got" = "sha256:$want" ] || fail "mlledger digest of a file: $got, sha256sum says $want"
	want=$(cd "$PH/model" && LC_ALL=C sha256sum -- * | sha256sum | cut -c1-64)
	got=$("$BIN" digest "$PH/model" 2>>"$LOG") || fail "mlledger digest failed"
	[ "$got" = "sha256:$want" ] || fail "mlledger digest of a folder: $got, the manifest says $want"
	hash_rate "mlledger digest FILE" "$BIN" digest "$PH/file.bin"
	H_ML_FILE=$MIBS
	hash_rate "sha256sum FILE" sha256sum "$PH/file.bin"
	H_SHA_FILE=$MIBS
	if command -v openssl >/dev/null 2>&1; then
		hash_rate "openssl dgst FILE" openssl dgst -sha256 "$PH/file.bin"
		H_OSSL_FILE=$MIBS
	fi
	say "        file  : mlledger $(fmt_int "$H_ML_FILE"), sha256sum $(fmt_int "$H_SHA_FILE"), openssl $(fmt_int "$H_OSSL_FILE") MiB/s"
	hash_rate "mlledger digest DIR" "$BIN" digest "$PH/model"
	H_ML_DIR=$MIBS
	set -- "$PH"/model/shard-*.bin
	hash_rate "sha256sum DIR/*" sha256sum -- "$@"
	H_SHA_DIR=$MIBS
	if command -v openssl >/dev/null 2>&1; then
		hash_rate "openssl dgst DIR/*" openssl dgst -sha256 "$@"
		H_OSSL_DIR=$MIBS
	else
		H_NOTE="openssl not found"
	fi
	say "        folder: mlledger $(fmt_int "$H_ML_DIR"), sha256sum $(fmt_int "$H_SHA_DIR"), openssl $(fmt_int "$H_OSSL_DIR") MiB/s"
	say "        (each tool ran once to warm the page cache; the second run is timed)"
	rm -rf "$PH"
}

# peers_run: the measurements (all skipped when BENCH_PEERS=0).
peers_run() {
	if [ "$PEERS" = 0 ]; then
		P_GIT_NOTE="skipped (BENCH_PEERS=0)"
		P_MS_NOTE=$P_GIT_NOTE
		H_NOTE=$P_GIT_NOTE
		return
	fi
	peers_git
	peers_minisign
	peers_hash
}

# vs LABEL OURS PEER GOAL [RATIO]: a row of the "against the alternatives"
# table; OURS and PEER are rates (higher is better), RATIO defaults to
# OURS / PEER, GOAL is ">= X" or "> X" on the ratio (or empty).
vs() {
	if [ "$2" = n/a ] || [ "$3" = n/a ]; then
		row "$1" "$(fmt_int "$2")" "$(fmt_int "$3")" n/a "${4:+$4x}" "(skipped)"
		return
	fi
	r=${5:-$(calc "$2 / $3")}
	st=""
	if [ -n "$4" ]; then
		st=$(awk -v r="$r" -v op="${4% *}" -v g="${4#* }" 'BEGIN {
			ok = op == ">" ? r + 0 > g + 0 : r + 0 >= g + 0
			print ok ? "ok" : "BELOW GOAL" }')
	fi
	row "$1" "$(fmt_int "$2")" "$(fmt_int "$3")" "$(printf '%.2fx' "$r")" "${4:+$4x}" "$st"
}

# peers_rows: the rows, for run.sh's results table.
peers_rows() {
	row "against the alternatives (per second)" mlledger peer ratio goal ""
	row "------------------------------------------" ------------ ------------ -------- ------------ ""
	vs "import vs bare loop (entries)" "$R_IMPORT" "$B_IMPORT" ">= 0.80"
	vs "verify vs bare loop, $NCPU cores (entries)" "$R_VERIFY" "$B_VERIFY" ">= 0.80"
	vs "verify vs git verify-commit (entries)" "$R_VERIFY" "$P_GIT_VERIFY" ">= 100"
	vs "verify vs minisign -V per entry" "$R_VERIFY" "$P_MS_VERIFY" ""
	vs "import vs git commit -S per entry" "$R_IMPORT" "$P_GIT_SIGN" ""
	vs "import vs minisign -S per entry" "$R_IMPORT" "$P_MS_SIGN" ""
	# One record (one process, one fsync'ed transaction) against one signed
	# git commit: the ratio is how many times faster, from the medians.
	if [ "$REC1K_MED" != n/a ] && [ "$GIT_MED" != n/a ]; then
		vs "record (1k ledger) vs git commit -S" "$(calc "1000 / $REC1K_MED")" \
			"$(calc "1000 / $GIT_MED")" ">= 3"
	else
		vs "record (1k ledger) vs git commit -S" n/a n/a ">= 3"
	fi
	vs "hash $(fmt_int "$HASH_MB") MiB file vs openssl (MiB)" "$H_ML_FILE" "$H_OSSL_FILE" ">= 0.90"
	vs "hash $(fmt_int "$HASH_MB") MiB file vs sha256sum (MiB)" "$H_ML_FILE" "$H_SHA_FILE" ""
	vs "hash $(fmt_int "$HASH_MB") MiB folder vs openssl (MiB)" "$H_ML_DIR" "$H_OSSL_DIR" "> 1.00"
	vs "hash $(fmt_int "$HASH_MB") MiB folder vs sha256sum (MiB)" "$H_ML_DIR" "$H_SHA_DIR" ""
}

# peers_notes: the footnotes under those rows.
peers_notes() {
	if [ "$PEERS" = 0 ]; then
		say "peers: skipped (BENCH_PEERS=0)"
		return 0
	fi
	say "peers: git and minisign sign and verify $(fmt_int "$PEER_N") entries, one process per entry"
	say "  (git: one signed commit each, ssh ed25519; verify-commit of them all); mlledger's"
	say "  import and verify figures are the $(fmt_int "$N")-line ones above.  record: the rate is"
	say "  1000 / median ms of the latency table (1 call, 1 fsync'ed append)."
	say "hash: mlledger digest (folder: files on $NCPU threads) vs one sha256sum / openssl dgst"
	say "  call; each tool ran once to warm the page cache and the second run was timed."
	[ -n "$P_GIT_NOTE" ] && say "git: n/a — $P_GIT_NOTE"
	[ -n "$P_MS_NOTE" ] && [ "$P_MS_NOTE" != "$P_GIT_NOTE" ] && say "minisign: n/a — $P_MS_NOTE"
	[ -n "$H_NOTE" ] && [ "$H_NOTE" != "$P_GIT_NOTE" ] && say "hash: $H_NOTE"
	return 0
}

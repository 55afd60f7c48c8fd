#!/bin/sh
# tests/cli/clock.sh — entries dated in the future, and their repair.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/clock.sh
#
# The finding: an append is dated max(local clock, previous entry's time),
# so one record from a machine whose clock runs 10 years ahead dates every
# later entry 10 years ahead, and a gate that cuts the evidence at "now"
# no longer sees what is recorded afterwards (a critical incident: the gate
# passed).  These cases reproduce it with faketime and check that appends
# refuse (exit 5), gate and check fail closed (exit 3, naming the entry),
# `clock-correct` by an admin repairs the ledger without rewriting it,
# gate without --as-of reads every entry to the head, and --as-of selects
# the prefix by effective time (ledger/FORMAT.md §2, "Clock corrections").
#
# Same harness as tests/cli/run.sh: one line per case, "ok - NAME" or
# "not ok - NAME: DETAIL", a final "N passed, N failed", exit 1 when any
# case failed; works in a mktemp -d folder removed at exit.  Needs bash and
# faketime (apt-get install faketime; without it the cases that need it
# print "ok - ... # SKIP").  The tampering case needs sqlite3 and python3
# with PyNaCl (tests/cli/forge.py).

if [ -z "${BASH_VERSION:-}" ]; then
	if command -v bash >/dev/null 2>&1; then
		exec bash "$0" "$@"
	fi
	echo "not ok - environment: tests/cli/clock.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi

unset POSIXLY_CORRECT MLLEDGER_LEDGER MLLEDGER_PASSPHRASE_FILE FAKETIME
if shopt -oq posix 2>/dev/null; then set +o posix; fi
set -u
export LC_ALL=C
umask 022

here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
PROD=$REPO/policies/production.xml
M=${MLLEDGER:-$here/../../build/mlledger}
case $M in /*) ;; *) M=$(pwd)/$M ;; esac
if [ ! -x "$M" ]; then
	echo "not ok - environment: $M is not an executable (set MLLEDGER)"
	echo "0 passed, 1 failed"
	exit 1
fi
# faketime preloads its library before an ASan build's runtime (make check):
# ASan then only asks to come first, which is safe to waive here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
# faketime must really move this binary's clock (it cannot for a static one).
HAVE_FT=
if command -v faketime >/dev/null 2>&1 &&
	[ "$(faketime -f '+10y' date -u +%Y 2>/dev/null)" -gt "$(($(date -u +%Y) + 5))" ] 2>/dev/null; then
	HAVE_FT=1
fi
HAVE_FORGE=
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
command -v sqlite3 >/dev/null 2>&1 && [ -n "$PY" ] && [ -f "$here/forge.py" ] &&
	"$PY" -c 'import sqlite3, nacl.signing' >/dev/null 2>&1 && HAVE_FORGE=1

W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-clock.XXXXXX") || exit 1
trap 'cd / && rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
if ! { mkdir "$W/bin" && cp "$M" "$W/bin/mlledger"; }; then
	echo "not ok - environment: cannot copy $M"
	echo "0 passed, 1 failed"
	exit 1
fi
M=$W/bin/mlledger
cd "$W" || exit 1

# ---- the harness (as tests/cli/run.sh) ----------------------------------

PASS=0
FAIL=0
CASE=
WHY=
OUT=$W/.out
ERR=$W/.err

begin() {
	CASE=$1
	WHY=
}
bad() { [ -n "$WHY" ] || WHY=$*; }
end() {
	if [ -z "$WHY" ]; then
		PASS=$((PASS + 1))
		echo "ok - $CASE"
	else
		FAIL=$((FAIL + 1))
		echo "not ok - $CASE: $WHY"
	fi
}
skip() {
	PASS=$((PASS + 1))
	echo "ok - $1 # SKIP $2"
}
run() {
	"$@" >"$OUT" 2>"$ERR"
	RC=$?
}
snip() { tr '\n' ' ' <"$1" | cut -c1-300; }
want_rc() {
	[ "$RC" = "$1" ] || bad "exit $RC, want $1 (stderr: $(snip "$ERR"); stdout: $(snip "$OUT"))"
}
# An error: exit $1, exactly one line "mlledger: ..." on stderr matching $2.
want_err() {
	want_rc "$1"
	grep -Eq -- "$2" "$ERR" || bad "stderr lacks /$2/: $(snip "$ERR")"
	[ "$(wc -l <"$ERR")" -eq 1 ] && grep -q '^mlledger: ' "$ERR" ||
		bad "want one 'mlledger: ...' line on stderr, got: $(snip "$ERR")"
}
out_has() { grep -Eq -- "$1" "$OUT" || bad "stdout lacks /$1/: $(snip "$OUT")"; }
out_lacks() { ! grep -Eq -- "$1" "$OUT" || bad "stdout has /$1/: $(snip "$OUT")"; }

sha() { printf '%s' "$1" | sha256sum | cut -c1-64; }
# A time as --as-of takes it, $1 seconds from now.
at() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
TIME_RE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
# a time 10 years ahead, as faketime -f +10y dates it
FUTURE_RE="($(($(date -u +%Y) + 9))|$(($(date -u +%Y) + 10)))-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"

# ---- fixtures -------------------------------------------------------------

K=$W/keys
mkdir "$K"
for n in admin eng val appr1 appr2; do
	"$M" key new "$n" --dir "$K" >/dev/null 2>&1 || echo "# key new $n failed"
done

# fixture DB: a model version that passes the production policy for
# staging: a licensed dataset, an evaluation, two independent approvals.
# The gate runs with --phase audit so that no calendar freeze window can
# decide the outcome; PROD-INCIDENT is what the cases below turn on.
fixture() {
	local db=$1 ok=1
	{
		"$M" --ledger "$db" init --key "$K/admin.key" --origin "clock-test/$(basename "$db")" &&
			"$M" --ledger "$db" key enroll "$K/eng.pub" --holder-key "$K/eng.key" --role engineer --key "$K/admin.key" &&
			"$M" --ledger "$db" key enroll "$K/val.pub" --holder-key "$K/val.key" --role validator --key "$K/admin.key" &&
			"$M" --ledger "$db" key enroll "$K/appr1.pub" --holder-key "$K/appr1.key" --role approver --key "$K/admin.key" &&
			"$M" --ledger "$db" key enroll "$K/appr2.pub" --holder-key "$K/appr2.key" --role approver --key "$K/admin.key" &&
			"$M" --ledger "$db" record dataset train@1 --digest "sha256:$(sha train)" \
				--set license=MIT --key "$K/eng.key" &&
			"$M" --ledger "$db" record model fraud@1 --digest "sha256:$(sha model)" \
				--dataset train@1 --metric auc=0.9 --key "$K/eng.key" &&
			"$M" --ledger "$db" record evaluation fraud@1 --metric auc=0.91 --key "$K/val.key" &&
			"$M" --ledger "$db" record approval fraud@1 --env staging --decision approve \
				--key "$K/appr1.key" &&
			"$M" --ledger "$db" record approval fraud@1 --env staging --decision approve \
				--key "$K/appr2.key"
	} >/dev/null 2>"$W/.fixture" || ok=
	[ -n "$ok" ] || echo "# fixture $db: $(snip "$W/.fixture")"
	[ -n "$ok" ]
}
count() { "$M" --ledger "$1" log --format json 2>/dev/null | grep -c '"seq":'; }
gate() { run "$M" --ledger "$1" gate --policy "$PROD" fraud@1 --env staging --phase audit "${@:2}"; }
check() { run "$M" --ledger "$1" check --policy "$PROD" --phase audit "${@:2}"; }

# ---- (a) an append after a future-dated entry is refused --------------------

L=$W/a/ledger.db
if [ -z "$HAVE_FT" ]; then
	skip "record after an entry dated 10 years ahead exits 5 naming the entry and both times" \
		"faketime is not installed (apt-get install faketime)"
else
	begin "record after an entry dated 10 years ahead exits 5 naming the entry and both times"
	fixture "$L" || bad "fixture"
	n=$(count "$L")
	run faketime -f '+10y' "$M" --ledger "$L" record dataset late@1 --digest "sha256:$(sha late)" \
		--key "$K/eng.key"
	want_rc 0
	out_has "^$n sha256:[0-9a-f]{64}\$"
	run "$M" --ledger "$L" record dataset now@1 --digest "sha256:$(sha now)" --key "$K/eng.key"
	want_err 5 "^mlledger: record: entry $n is dated $FUTURE_RE.*ahead of this machine's clock \($TIME_RE\).*clock-correct"
	grep -q "($(date -u +%Y)-" "$ERR" || bad "the local time is not named: $(snip "$ERR")"
	[ "$(count "$L")" = $((n + 1)) ] || bad "the refused entry was appended"
	end
fi

# ---- (b) the attack: a critical incident cannot hide behind the future ------

L=$W/b/ledger.db
FUT=
begin "the fixture passes the gate before the attack (exit 0)"
fixture "$L" || bad "fixture"
gate "$L"
want_rc 0
out_has '^gate: PASS'
end
sleep 1
T_BEFORE=$(at 0) # after every fixture entry, before anything below
if [ -z "$HAVE_FT" ]; then
	skip "gate with a future-dated entry and a critical incident exits 3 naming the entry" \
		"faketime is not installed"
	skip "check fails closed the same way (exit 3)" "faketime is not installed"
else
	begin "gate with a future-dated entry and a critical incident exits 3 naming the entry"
	FUT=$(count "$L")
	run faketime -f '+10y' "$M" --ledger "$L" record dataset skew@1 --digest "sha256:$(sha skew)" \
		--key "$K/eng.key"
	want_rc 0
	# recorded afterwards (the clock still wrong, or before appends refused):
	# dated after the skewed entry, so a cut at 'now' would leave it out
	run faketime -f '+10y' "$M" --ledger "$L" record incident fraud@1 --severity critical \
		--description "customers double-charged" --key "$K/eng.key"
	want_rc 0
	gate "$L"
	[ "$RC" != 0 ] || bad "the gate PASSED with a critical incident on the candidate"
	want_err 3 "^mlledger: gate: entry $FUT is dated $FUTURE_RE, more than 5 minutes after this machine's clock \($TIME_RE\)"
	out_lacks 'PASS'
	gate "$L" --as-of "$(at 0)"
	want_err 3 "^mlledger: gate: entry $FUT is dated"
	end

	begin "check fails closed the same way (exit 3)"
	check "$L"
	want_err 3 "^mlledger: check: entry $FUT is dated $FUTURE_RE"
	end
fi

# ---- (c) clock-correct by an admin ------------------------------------------

if [ -z "$FUT" ]; then
	skip "clock-correct signed by a non-admin key exits 6 and appends nothing" "faketime is not installed"
	skip "clock-correct by an admin prints SEQ sha256:LEAF; record works again" "faketime is not installed"
	skip "after the correction the gate sees the incident and denies (exit 1, PROD-INCIDENT)" "faketime is not installed"
	skip "verify accepts the corrected ledger; a second clock-correct has nothing to correct (exit 2)" "faketime is not installed"
	skip "a correction's time moved after the entry it corrects is caught by verify and gate (exit 4)" "faketime is not installed"
else
	begin "clock-correct signed by a non-admin key exits 6 and appends nothing"
	n=$(count "$L")
	run "$M" --ledger "$L" clock-correct --reason "build host clock was 10 years ahead" --key "$K/eng.key"
	want_err 6 "does not hold role admin"
	[ "$(count "$L")" = "$n" ] || bad "an entry was appended"
	end

	begin "clock-correct by an admin prints SEQ sha256:LEAF; record works again"
	CC=$(count "$L")
	run "$M" --ledger "$L" clock-correct --reason "build host clock was 10 years ahead" --key "$K/admin.key"
	want_rc 0
	out_has "^$CC sha256:[0-9a-f]{64}\$"
	run "$M" --ledger "$L" show "$CC"
	out_has '^kind +clock-correction$'
	out_has "^  \"from\": $FUT,\$"
	run "$M" --ledger "$L" record monitoring fraud@1 --env staging --metric auc=0.9 --key "$K/eng.key"
	want_rc 0
	out_has "^$((CC + 1)) sha256:"
	end

	begin "after the correction the gate sees the incident and denies (exit 1, PROD-INCIDENT)"
	gate "$L"
	want_rc 1
	out_has '^DENY PROD-INCIDENT fraud@1: .*customers double-charged'
	check "$L"
	want_rc 1
	out_has 'PROD-INCIDENT'
	run "$M" --ledger "$L" evidence fraud@1 --env staging
	want_rc 0
	out_has "kind=\"incident\".* time=\"$(date -u +%Y)-"
	out_lacks " time=\"$FUTURE_RE\""
	end

	begin "verify accepts the corrected ledger; a second clock-correct has nothing to correct (exit 2)"
	run "$M" --ledger "$L" verify
	want_rc 0
	run "$M" --ledger "$L" clock-correct --reason again --key "$K/admin.key"
	want_err 2 "nothing to correct"
	run "$M" --ledger "$L" clock-correct --reason again --from 999 --key "$K/admin.key"
	want_err 2 "no entry 999"
	end

	if [ -z "$HAVE_FORGE" ]; then
		skip "a correction's time moved after the entry it corrects is caught by verify and gate (exit 4)" \
			"needs sqlite3 and python3 with PyNaCl"
	else
		begin "a correction's time moved after the entry it corrects is caught by verify and gate (exit 4)"
		# A forger with the log key: the chain, tree and checkpoints are
		# rebuilt around the edit, so only the clock rule can catch it.
		T=$W/c-tampered.db
		cp "$L" "$T" && cp "$L.log.key" "$T.log.key" && { [ ! -f "$L-wal" ] || cp "$L-wal" "$T-wal"; } ||
			bad "cannot copy the ledger"
		trig=$(sqlite3 "$T" "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")
		trig_sql=$(sqlite3 "$T" "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")
		{ for t in $trig; do echo "DROP TRIGGER $t;"; done
		  echo "UPDATE entries SET appended_us = (SELECT appended_us FROM entries WHERE seq = $FUT) + 1 WHERE seq = $CC;"
		  echo "UPDATE entries SET appended_us = (SELECT appended_us FROM entries WHERE seq = $FUT) + 2 WHERE seq > $CC;"
		  printf '%s\n' "$trig_sql"; } | sqlite3 -bail "$T" >/dev/null || bad "cannot edit the copy"
		"$PY" "$here/forge.py" rebuild "$T" chain tree "sign=$T.log.key" || bad "forge.py failed"
		run "$M" --ledger "$T" verify
		want_err 4 "entry $CC.*clock-correction"
		# gate verifies the corrections it applies the same way
		gate "$T"
		want_err 4 "entry $CC: clock correction dated outside"
		end
	fi
fi

# ---- (d) without --as-of: every entry to the head ---------------------------

L=$W/d/ledger.db
if [ -z "$HAVE_FT" ]; then
	skip "gate without --as-of considers an incident dated 2 minutes after now (exit 1)" \
		"faketime is not installed"
else
	begin "gate without --as-of considers an incident dated 2 minutes after now (exit 1)"
	fixture "$L" || bad "fixture"
	run faketime -f '+2m' "$M" --ledger "$L" record incident fraud@1 --severity critical \
		--description "recorded by a host 2 minutes ahead" --key "$K/eng.key"
	want_rc 0
	gate "$L"
	want_rc 1
	out_has '^DENY PROD-INCIDENT fraud@1: .*2 minutes ahead'
	check "$L"
	want_rc 1
	out_has 'PROD-INCIDENT'
	# the rules still evaluate at this machine's clock
	run "$M" --ledger "$L" evidence fraud@1 --env staging
	grep -Eq "<ev:evidence [^>]*as-of=\"$(date -u +%Y-%m-%d)T" "$OUT" ||
		bad "the evidence is not evaluated now: $(snip "$OUT")"
	end
fi

# ---- (e) --as-of selects the prefix by effective time -----------------------

L=$W/b/ledger.db
if [ -z "$FUT" ]; then
	skip "--as-of takes the prefix by effective time: before the correction passes, after it denies" \
		"faketime is not installed"
else
	begin "--as-of takes the prefix by effective time: before the correction passes, after it denies"
	gate "$L" --as-of "$T_BEFORE"
	want_rc 0
	out_has '^gate: PASS'
	run "$M" --ledger "$L" evidence fraud@1 --env staging --as-of "$T_BEFORE"
	out_lacks 'kind="incident"'
	out_has "as-of=\"$T_BEFORE\""
	# entries $FUT.. are dated 10 years ahead, but their effective time is
	# the correction's: a minute from now they are in
	gate "$L" --as-of "$(at 60)"
	want_rc 1
	out_has '^DENY PROD-INCIDENT fraud@1: '
	check "$L" --as-of "$(at 60)"
	want_rc 1
	end
fi

# ---- the command line ---------------------------------------------------------

begin "clock-correct --help documents the command; bad usage exits 2"
run "$M" clock-correct --help
want_rc 0
out_has '^usage: mlledger clock-correct --reason TEXT --key ADMIN.key \[--from SEQ\]'
run "$M" --ledger "$W/b/ledger.db" clock-correct --key "$K/admin.key"
want_err 2 "expected --reason TEXT"
run "$M" --ledger "$W/b/ledger.db" clock-correct --reason x --from 0 --key "$K/admin.key"
want_err 2 "--from"
end

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

#!/bin/sh
# tests/install/run.sh — make install / make uninstall, policies by id, the
# man pages and the bash completion (issue 16, item 4).  Run from the
# repository root by `make install-test` (part of `make test`).
#
# The install is a DESTDIR one with PREFIX=/usr, built in a copy of
# $BUILD (default build) so the tree's own binary keeps its PREFIX: only
# policypath.o is rebuilt there, with /usr's policy folder compiled in.  The
# installed binary cannot see DESTDIR, so the tests of the compiled-in
# folder read it from the error of an unknown id, and the lookups go
# through MLLEDGER_POLICY_PATH=$DESTDIR/usr/share/mlledger/policies.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed";
# exits 1 on any failure.

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/install/run.sh needs bash"
	exit 1
fi
set -u
ROOT=$(pwd)
BUILD=${BUILD:-build}
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
T=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-install.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
D=$T/root
PDIR=$D/usr/share/mlledger/policies
MK="make -s --no-print-directory BUILD=$T/build PREFIX=/usr DESTDIR=$D"

[ -f "$BUILD/libml.a" ] || { bad "environment: no $BUILD/libml.a (make first)"; exit 1; }
mkdir -p "$T/build" && cp -rp "$BUILD/obj" "$BUILD/gen" "$BUILD/libml.a" "$T/build/"

# ---- make install: exactly these files -----------------------------------
expected='usr/bin/mlledger
usr/share/bash-completion/completions/mlledger
usr/share/man/man1/mlledger.1
usr/share/man/man5/mlledger-format.5
usr/share/man/man5/mlledger-policy.5
usr/share/mlledger/policies/eu-ai-act-high-risk.xml
usr/share/mlledger/policies/monitoring.xml
usr/share/mlledger/policies/policy.xsd
usr/share/mlledger/policies/production.xml
usr/share/mlledger/policies/us-model-risk.xml'
if $MK install >"$T/make.log" 2>&1; then
	got=$(cd "$D" && find . -type f | sed 's|^\./||' | sort)
	[ "$got" = "$expected" ] && ok "make install puts exactly the binary, 4 policies and their schema, 3 man pages and the completion under DESTDIR/usr" ||
		bad "make install installed: $(echo "$got" | tr '\n' ' ') (expected: $(echo "$expected" | tr '\n' ' '))"
else
	bad "make install failed: $(tail -3 "$T/make.log" | tr '\n' ' ')"
fi
M=$D/usr/bin/mlledger
[ "$(stat -c %a "$M" 2>/dev/null)" = 755 ] && [ "$(stat -c %a "$PDIR/production.xml" 2>/dev/null)" = 644 ] &&
	ok "the binary is 0755, the data 0644" || bad "modes: $(stat -c '%a %n' "$M" "$PDIR/production.xml" 2>&1 | tr '\n' ' ')"
"$M" --version | grep -q '^mlledger ' && ok "the installed binary runs (--version)" || bad "the installed binary does not run"
cmp -s policies/production.xml "$PDIR/production.xml" && ok "the installed production.xml is the shipped one" ||
	bad "the installed production.xml differs from policies/production.xml"

# ---- policies by id -------------------------------------------------------
cd "$T" || exit 1
out=$(MLLEDGER_POLICY_PATH= "$M" policy lint productoin 2>&1); rc=$?
[ $rc = 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] &&
	echo "$out" | grep -q 'productoin: no productoin.xml in /usr/share/mlledger/policies ' &&
	ok "an unknown id exits 2, one line naming it and the compiled-in /usr/share/mlledger/policies" ||
	bad "unknown id: exit $rc: $out"
out=$(MLLEDGER_POLICY_PATH=$PDIR "$M" policy lint production 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = "ok: $PDIR/production.xml" ] &&
	ok "policy lint production finds the installed file by id" || bad "policy lint production: exit $rc: $out"
mkdir first && sed 's/id="monitoring"/id="production"/' "$PDIR/monitoring.xml" >first/production.xml
out=$(MLLEDGER_POLICY_PATH=$T/nowhere::$T/first:$PDIR "$M" policy lint production 2>&1)
[ "$out" = "ok: $T/first/production.xml" ] && ok "MLLEDGER_POLICY_PATH is searched in order (missing and empty entries skipped)" ||
	bad "search order: $out"
out=$(MLLEDGER_POLICY_PATH=$T/first "$M" policy lint "$PDIR/monitoring.xml" 2>&1)
[ "$out" = "ok: $PDIR/monitoring.xml" ] && ok "a path is used as given" || bad "a path: $out"
for id in ../production .hidden 'a b'; do
	out=$(MLLEDGER_POLICY_PATH=$PDIR "$M" policy lint "$id" 2>&1); rc=$?
	case $id in */*) want="No such file" ;; *) want="not a policy id" ;; esac
	[ $rc = 2 ] && echo "$out" | grep -q "$want" && ok "'$id' is refused (exit 2: $want)" || bad "'$id': exit $rc: $out"
done

# gate and check: an id not recorded is the installed policy (a draft); a
# recorded one wins; --key takes no draft.
export MLLEDGER_LEDGER=$T/l.db
for k in admin rita ci; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null &&
	"$M" key enroll rita.pub --holder-key rita.key --role risk-officer --key admin.key >/dev/null &&
	"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null &&
	echo model >m.bin && "$M" record model m@1 --artifact m.bin --key ci.key >/dev/null ||
	bad "setting up the ledger failed"
mkdir pass && cat >pass/production.xml <<'XML'
<policy xmlns="https://mlledger.dev/policy/v1" id="production" version="0.0.1">
  <rule id="ALWAYS" severity="deny" context="/ev:evidence">
    <title>Always passes</title>
    <assert test="true()">never fails</assert>
  </rule>
</policy>
XML
MLLEDGER_POLICY_PATH=$T/pass "$M" gate --policy production m@1 --env prod --no-record >out 2>&1
rc=$?; [ $rc = 0 ] && grep -q "policy production 0.0.1 " out && ok "gate --policy production uses the installed policy when none is recorded" ||
	bad "gate by id: exit $rc: $(cat out)"
MLLEDGER_POLICY_PATH=$T/pass "$M" check --policy production >out 2>&1
rc=$?; [ $rc = 0 ] && ok "check --policy production likewise" || bad "check by id: exit $rc: $(cat out)"
out=$(MLLEDGER_POLICY_PATH=$T/pass "$M" gate --policy production m@1 --env prod --key ci.key 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "is a draft: mlledger policy record production" &&
	ok "gate --key refuses an installed policy that is not recorded (exit 2, says how to record it)" ||
	bad "gate --key with an installed draft: exit $rc: $out"
out=$(MLLEDGER_POLICY_PATH=$T/none "$M" gate --policy nopolicy m@1 --env prod --no-record 2>&1); rc=$?
[ $rc = 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "nopolicy: no such policy is recorded in the ledger.*no nopolicy.xml in $T/none:/usr/share/mlledger/policies" &&
	ok "gate: an id neither recorded nor installed exits 2, one line naming the id, the ledger and the folders" ||
	bad "unknown id in gate: exit $rc: $out"
MLLEDGER_POLICY_PATH=$PDIR "$M" report --from 2026-01-01 --to 2099-12-31 --format json \
	--out r.json --policy monitoring >out 2>&1
rc=$?; [ $rc = 0 ] && grep -q "\"file\": *\"$PDIR/monitoring.xml\"" r.json &&
	ok "report --policy monitoring evaluates the installed file (named in the scope)" ||
	bad "report by id: exit $rc: $(cat out)"
out=$(MLLEDGER_POLICY_PATH=$T/none "$M" report --from 2026-01-01 --to 2099-12-31 --format json \
	--out r2.json --policy monitoring 2>&1); rc=$?
[ $rc = 2 ] && [ ! -e r2.json ] && echo "$out" | grep -q "monitoring: no such policy is recorded.*no monitoring.xml in $T/none:" &&
	ok "report: an id neither recorded nor installed exits 2 and writes nothing" ||
	bad "report, unknown id: exit $rc: $out"
MLLEDGER_POLICY_PATH=$PDIR "$M" policy record production --key rita.key >out 2>&1 &&
	grep -q "production@1.1.0 recorded" out && ok "policy record production records the installed file" ||
	bad "policy record by id: $(cat out)"
MLLEDGER_POLICY_PATH=$T/pass "$M" gate --policy production m@1 --env prod --no-record >out 2>&1
rc=$?; [ $rc = 1 ] && grep -q "policy production 1.1.0 " out && ok "a recorded policy wins over the installed one (the recorded production denies)" ||
	bad "recorded vs installed: exit $rc: $(head -3 out)"
cd "$ROOT" || exit 1

# ---- man pages --------------------------------------------------------------
# The command table of src/cli.c: {"name", cmd_name}, sorted.
TABLE=$(grep -o '{"[a-z-]*", cmd_' src/cli.c | sed 's/{"\([a-z-]*\)".*/\1/' | sort | tr '\n' ' ')
TABLE=${TABLE% }
lint() { out=$(mandoc -T lint -W warning "$1" 2>&1) && [ -z "$out" ]; }
if command -v mandoc >/dev/null; then
	for p in man1/mlledger.1 man5/mlledger-policy.5 man5/mlledger-format.5; do
		lint "$D/usr/share/man/$p" && ok "mandoc -T lint: $p has no warning" || bad "mandoc -T lint $p: $out"
	done
	sed 's/^\.Sh EXAMPLES$/.Sh EXAMPLES\n.Pp\n.Bl -tag\n.El/' man/mlledger.1 >"$T/broken.1"
	lint "$T/broken.1" && bad "a man page with lint warnings passed the check" ||
		ok "a man page with lint warnings fails the check"
	missing=
	for c in $TABLE; do
		grep -q "^\.It Cm $c\( \|$\)" man/mlledger.1 || missing="$missing $c"
	done
	[ "$(echo $TABLE | wc -w)" -ge 30 ] && [ -z "$missing" ] && ok "mlledger.1 has an entry for every command of src/cli.c" ||
		bad "mlledger.1 lacks:$missing"
else
	bad "mandoc is missing (make deps)"
fi

# ---- bash completion --------------------------------------------------------
C=$D/usr/share/bash-completion/completions/mlledger
comp() { # comp WORD...: the completions of the last word, one line
	bash -c '. "$1" || exit 9; shift; complete -p mlledger >/dev/null || exit 8
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mlledger; echo "${COMPREPLY[*]}"' \
		comp "$C" "$@"
}
[ "$(comp "$M" ch)" = "checkpoint check" ] && ok "completion: mlledger ch offers check (and checkpoint)" ||
	bad "completion of 'ch': $(comp "$M" ch)"
[ "$(comp "$M" chec)" = "checkpoint check" ] && [ "$(comp "$M" check --po)" = "--policy" ] &&
	ok "completion: check --po gives --policy" || bad "completion of check --po: $(comp "$M" check --po)"
# the values come from each command's usage: gate's has sarif, not html;
# report's html, not sarif; init's names none (text json)
gf=" $(comp "$M" gate --format '') " rf=" $(comp "$M" report --format '') "
case "$gf$rf" in
*" sarif "*" html "*) f1=1 ;; *) f1= ;;
esac
case "$gf" in *" html "*) f1= ;; esac
case "$rf" in *" sarif "*) f1= ;; esac
[ -n "$f1" ] && [ "$(comp "$M" init --format '')" = "text json" ] &&
	[ "$(comp "$M" gate --format ju)" = "junit" ] &&
	ok "completion: --format values per command" || bad "completion of --format: gate:$gf report:$rf"
[ "$(MLLEDGER_POLICY_PATH=$PDIR comp "$M" check --policy pro)" = "production" ] &&
	[ "$(MLLEDGER_POLICY_PATH=$PDIR comp "$M" policy lint mon)" = "monitoring" ] &&
	ok "completion: policy ids for --policy and policy lint" || bad "completion of policy ids: $(MLLEDGER_POLICY_PATH=$PDIR comp "$M" check --policy pro)"
[ "$(comp "$M" policy re)" = "record" ] && [ "$(comp "$M" key en)" = "enroll" ] &&
	ok "completion: subcommands" || bad "completion of subcommands: $(comp "$M" policy re)"
cmds=$(bash -c '. "$1"; echo $_mlledger_commands' comp "$C" | tr ' ' '\n' | sort | tr '\n' ' ')
[ -n "$cmds" ] && [ "$cmds" = "$TABLE " ] && ok "completion: its command list is src/cli.c's table" ||
	bad "completion commands: $cmds; cli.c: $TABLE"

# ---- make uninstall -----------------------------------------------------------
if $MK uninstall >"$T/make.log" 2>&1; then
	left=$(cd "$D" && find . -type f | sed 's|^\./||')
	[ -z "$left" ] && [ ! -e "$D/usr/share/mlledger" ] &&
		ok "make uninstall removes every installed file and share/mlledger" ||
		bad "make uninstall left: $left $(ls -d "$D/usr/share/mlledger" 2>/dev/null)"
else
	bad "make uninstall failed: $(tail -3 "$T/make.log" | tr '\n' ' ')"
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]

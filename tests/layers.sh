#!/bin/sh
# make layers: tests/layers.py on the real tree (includes, and calls read
# from the objects in OBJ), then planted violations in temporary copies of
# src/ that it must catch, one line each (so the check can fail).
# Usage: sh tests/layers.sh OBJDIR
set -u
OBJ=${1:?usage: layers.sh OBJDIR}
PY=/usr/bin/python3
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM

ok() { echo "ok - layers: $1"; }
not_ok() { echo "not ok - layers: $1"; fail=1; }

# The tree as it is: no violation, no cycle.
if $PY tests/layers.py --obj "$OBJ"; then ok "src/ keeps its declared layering"
else not_ok "src/ breaks its declared layering (lines above)"; fi

# plant NAME EXPECTED [--obj]: runs layers.py on $T/src (edited by the
# caller) and expects exit 1 with a line containing EXPECTED.
plant() {
	name=$1 want=$2 objarg=
	[ "${3:-}" = --obj ] && objarg="--obj $OBJ"
	# shellcheck disable=SC2086
	$PY tests/layers.py --src "$T/src" $objarg >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -qF -- "$want" "$T/out"; then ok "caught: $name"
	else not_ok "$name: want exit 1 and '$want', got exit $rc: $(head -3 "$T/out")"; fi
}
fresh() { rm -rf "$T/src"; cp -R src "$T/src"; }

# 1. A dependency removed from a header's "May call" line: the include
#    that uses it is reported.
fresh
sed 's/May call keys and util only\./May call util only./' src/note.h >"$T/src/note.h"
plant "note.h without keys" "$T/src/note.h includes keys.h, but $T/src/note.h may not call keys"

# 2. A call made without a direct include (ledger.c reaches governance
#    through rules.h): only the objects' symbols show it.
fresh
sed 's/rules, governance, retry/rules, retry/' src/ledger.h >"$T/src/ledger.h"
plant "ledger.h without governance (a call seen in ledger.o)" \
	"$T/src/ledger.c calls ml_governance_" --obj

# 3. A call up the layers: a declared cycle (ledger may call tlog, which
#    may call ledger).
fresh
sed 's/rules, governance, retry/rules, tlog, governance, retry/' src/ledger.h >"$T/src/ledger.h"
plant "a declared cycle" 'the "May call" lines declare a cycle'

# 4. An include up the layers: an actual cycle (and an undeclared include).
fresh
printf '#include "tlog.h"\n' >>"$T/src/merkle.c"
plant "merkle.c includes tlog.h" "$T/src/merkle.c includes tlog.h, but $T/src/merkle.h may not call tlog"
sed 's/May call util only\./May call tlog, util only./' src/merkle.h >"$T/src/merkle.h"
plant "an actual cycle through tlog and merkle" "layers: dependency cycle:"

# 5. A module's private header included by another module.
fresh
printf '#include "note_int.h"\n' >>"$T/src/tlog.c"
plant "tlog.c includes note_int.h" "$T/src/tlog.c includes note_int.h, private to note"

# 6. A file that belongs to no module.
fresh
printf '/* stray */\n' >"$T/src/stray.c"
plant "a file of no module" "$T/src/stray.c: belongs to no module"

exit $fail

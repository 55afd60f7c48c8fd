#!/bin/sh
# tests/cli/timescope.sh — what a report or a verify says about time and
# scope, attacked (issue 17, findings 5 and 6).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/timescope.sh
#
# A gate decision whose recorded ledger root or origin is not this ledger's;
# report signatures that carry their scope; a CSV folder signed as a whole,
# with a table from another report dropped in; time warnings (a period
# before the ledger began, author times far from append times, backfills).
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/timescope.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" ts
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
HAVE_FORGE=
[ -n "$PY" ] && "$PY" -c 'import sqlite3, nacl.signing' >/dev/null 2>&1 && HAVE_FORGE=1
size() { "$M" verify 2>/dev/null | sed -n 's/^ok: \([0-9]*\) entries.*/\1/p'; }
envelope() {
	"$M" show "$1" --format json | "$PY" -c 'import json,sys
print(json.dumps(json.load(sys.stdin)["envelope"], sort_keys=True, separators=(",", ":")))'
}
# setledger ENVFILE KEYFILE MEMBER VALUE: the statement with
# predicate.ledger.MEMBER = VALUE, re-signed by KEYFILE
setledger() {
	"$PY" -c 'import base64,json,sys
st = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))
st["predicate"]["ledger"][sys.argv[2]] = sys.argv[3]
sys.stdout.write(json.dumps(st, separators=(",", ":")))' "$1" "$3" "$4" |
		"$PY" "$here/forge.py" sign-envelope "$2"
}

export MLLEDGER_LEDGER=$W/l.db
for k in admin ci alice val rita; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null || exit 1
"$M" key enroll ci.pub --role engineer --key admin.key >/dev/null
"$M" key enroll alice.pub --role approver --key admin.key >/dev/null
"$M" key enroll val.pub --role validator --key admin.key >/dev/null
"$M" key enroll rita.pub --role risk-officer --key admin.key >/dev/null
echo data >d.bin
echo model-1 >m1.bin
"$M" record dataset d@1 --file d.bin --set license=MIT --set pii=false --key ci.key >/dev/null
"$M" record model m@1 --artifact m1.bin --dataset d@1 --metric auc=0.9 --key ci.key >/dev/null
"$M" record evaluation m@1 --metric auc=0.9 --key val.key >/dev/null
"$M" policy record "$POL" --key rita.key >/dev/null

# 1. A gate decision names this ledger's own tree (FORMAT.md §5 rule 8).
"$M" gate --policy production m@1 --env prod --key ci.key >/dev/null 2>&1
gate_seq=$(($(size) - 1))
"$M" record approval m@1 --env prod --decision approve --key alice.key >/dev/null
if [ -n "$HAVE_FORGE" ]; then
	envelope "$gate_seq" >gate.json
	# another ledger's root at the same size
	MLLEDGER_LEDGER=$W/other.db "$M" init --key admin.key >/dev/null
	for i in $(seq 1 "$gate_seq"); do
		MLLEDGER_LEDGER=$W/other.db "$M" key new o$i >/dev/null
		MLLEDGER_LEDGER=$W/other.db "$M" key enroll o$i.pub --role engineer \
			--key admin.key >/dev/null
	done
	gsize=$("$PY" -c 'import base64,json,sys
st = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))
print(st["predicate"]["ledger"]["size"])' gate.json)
	foreign=$("$PY" "$here/forge.py" root other.db "$gsize")
	setledger gate.json ci.key root "$foreign" >foreign.json
	cp l.db forged.db
	cp l.db.log.key forged.db.log.key
	"$PY" "$here/forge.py" replace forged.db "$gate_seq" <foreign.json &&
		"$PY" "$here/forge.py" rebuild forged.db chain tree sign=l.db.log.key
	expect 4 "verify: a gate decision with another ledger's root is caught" \
		"entry $gate_seq.*not this ledger's" "$M" verify --ledger forged.db
	setledger gate.json ci.key origin "other.example/ledger" >origin.json
	cp l.db forged2.db
	"$PY" "$here/forge.py" replace forged2.db "$gate_seq" <origin.json &&
		"$PY" "$here/forge.py" rebuild forged2.db chain tree sign=l.db.log.key
	expect 4 "verify: a gate decision naming another origin is caught" \
		"names the ledger other.example" "$M" verify --ledger forged2.db
	n1=$(size)
	expect 4 "submit of a decision with a foreign root is refused" "does not replay" \
		"$M" submit foreign.json
	[ "$(size)" = "$n1" ] && ok "the refused decision was not appended" ||
		nok "the refused decision was not appended" "size $n1 -> $(size)"
else
	skip "gate root forgeries" "needs /usr/bin/python3 with PyNaCl"
fi
expect 0 "the real ledger verifies" "intact" "$M" verify

finish

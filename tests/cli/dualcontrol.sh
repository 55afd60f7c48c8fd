#!/bin/sh
# tests/cli/dualcontrol.sh — dual control and separation of duties, attacked.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/dualcontrol.sh
#
# Issue 17, item 4: "one admin key enrols everyone and can do everything
# alone".  With dualControl (FORMAT.md §2) on key and governance entries, one
# admin's signature must be refused at append and, forged into the ledger,
# rejected by verify (exit 4); so must two keys of one person, a non-admin
# countersigner, a bad or repeated signature.  Separation keeps one person
# from holding admin and approver.  A document that cannot be met (one admin)
# is refused, so dual control never locks a ledger.  Each case passed before.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/dualcontrol.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" dual
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
HAVE_FORGE=
[ -n "$PY" ] && command -v sqlite3 >/dev/null 2>&1 &&
	"$PY" -c 'import sqlite3, nacl.signing' >/dev/null 2>&1 && HAVE_FORGE=1
size() { "$M" verify 2>/dev/null | sed -n 's/^ok: \([0-9]*\) entries.*/\1/p'; }
# sigs FILE: the number of signatures of an envelope file
sigs() { "$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["signatures"]))' "$1"; }
# edit FILE PYTHON: rewrite envelope FILE's dict e with a python statement
edit() {
	"$PY" -c 'import base64,json,sys
e = json.load(open(sys.argv[1]))
exec(sys.argv[2])
sys.stdout.write(json.dumps(e, separators=(",", ":")) + "\n")' "$1" "$2"
}

DUAL='{"dualControl":{"kinds":["key-enrollment","key-revocation","governance"],"signers":2},
"separation":[["admin","approver"]]}'
OFF='{"separation":[["admin","approver"]]}'
echo "$DUAL" >dual.json
echo "$OFF" >off.json

export MLLEDGER_LEDGER=$W/l.db
for k in alice alice2 bob carol dave eve ci; do "$M" key new $k >/dev/null || exit 1; done

# 1. Dual control that cannot be met is refused: at init (one admin), and
#    by governance set while only one person holds admin.
expect 2 "init --governance with dualControl (one admin) is refused" \
	"needs 2 persons holding admin" "$M" init --key alice.key --governance dual.json
[ -e l.db ] && nok "the refused init wrote no ledger" "l.db exists" ||
	ok "the refused init wrote no ledger"
"$M" init --key alice.key >/dev/null || exit 1
"$M" key enroll ci.pub --holder-key ci.key --role engineer --key alice.key >/dev/null || exit 1
expect 2 "governance set with dualControl and one admin is refused" \
	"dualControl needs 2 persons holding admin, and 1 is enrolled (alice)" \
	"$M" governance set dual.json --key alice.key
"$M" key enroll alice2.pub --holder-key alice2.key --role admin --person alice --key alice.key >/dev/null || exit 1
expect 2 "two admin keys of one person do not meet dualControl" \
	"and 1 is enrolled (alice)" "$M" governance set dual.json --key alice.key --out g.env
"$M" key enroll bob.pub --holder-key bob.key --role admin --key alice.key >/dev/null || exit 1
"$M" key enroll dave.pub --holder-key dave.key --role approver --key alice.key >/dev/null || exit 1

# 2. Turning it on: signed by alice, countersigned offline by bob, submitted.
expect 0 "governance set --out writes the envelope for a countersignature" "g.env" \
	"$M" governance set dual.json --key alice.key --out g.env
[ "$(sigs g.env)" = 1 ] && ok "the written envelope has the author's signature" ||
	nok "the written envelope has the author's signature" "$(cat g.env)"
mkdir -p offline
cp g.env offline/
expect 6 "countersign without a ledger or the signer's key cannot check it" \
	"give its verifier key (--pub alice+" \
	env -u MLLEDGER_LEDGER sh -c "cd offline && '$M' sign --countersign g.env --key ../bob.key --out g2.env"
expect 0 "countersign offline with --pub checks the signature and says what it cannot" \
	"checked by 'submit', not now" \
	env -u MLLEDGER_LEDGER sh -c "cd offline && '$M' sign --countersign g.env --pub ../alice.pub --key ../bob.key --out g2.env"
grep -q 'countersigning: governance' err &&
	ok "countersign shows what is signed" || nok "countersign shows what is signed" "$(head -c 300 err)"
[ "$(sigs offline/g2.env)" = 2 ] && ok "the countersigned envelope has two signatures" ||
	nok "the countersigned envelope has two signatures" "$(cat offline/g2.env)"
expect 2 "the same key cannot sign twice" "already countersigned it" \
	"$M" sign --countersign offline/g2.env --key bob.key --out g3.env
expect 2 "the author cannot countersign" "already signed it (as its author)" \
	"$M" sign --countersign g.env --key alice.key --out g3.env
n=$(size)
expect 0 "submit appends the countersigned governance entry" "" "$M" submit offline/g2.env
[ "$(size)" = $((n + 1)) ] && ok "dual control is now in force" || nok "dual control is now in force" "size $n -> $(size)"
"$M" show "$n" >out 2>&1
grep -q "bob+" out && ok "show names the countersigner" || nok "show names the countersigner" "$(head -c 300 out)"

# 3. One admin alone is refused, whatever the command.
n=$(size)
expect 6 "key enroll by one admin is refused, naming who signed" \
	"key-enrollment needs 2 admins (persons), has 1: alice; countersign" \
	"$M" key enroll carol.pub --holder-key carol.key --role engineer --key alice.key
expect 6 "key revoke by one admin is refused" "key-revocation needs 2 admins" \
	"$M" key revoke ci --reason test --key alice.key
expect 6 "turning dual control off with one signature is refused" \
	"governance needs 2 admins (persons), has 1: bob" \
	"$M" governance set off.json --key bob.key
expect 0 "key enroll --out writes an envelope, with a note of what is missing" \
	"has 1: alice: countersign it" \
	"$M" key enroll carol.pub --holder-key carol.key --role engineer --key alice.key --out c1.env
expect 6 "submit of the one-admin enrolment is refused" \
	"key-enrollment needs 2 admins (persons), has 1: alice" "$M" submit c1.env
[ "$(size)" = "$n" ] && ok "nothing was appended" || nok "nothing was appended" "size $n -> $(size)"

# 4. Signatures that do not count.
"$M" sign --countersign c1.env --key alice2.key --out c2.env >/dev/null 2>&1
"$M" sign --countersign c2.env --key bob.key --out c3.env >/dev/null 2>&1
[ "$(sigs c3.env)" = 3 ] && ok "three signatures collected" || nok "three signatures collected" "$(cat c3.env)"
expect 6 "two keys of the same person count once" "has 1: alice; alice2+[0-9a-f]* is alice's again" \
	"$M" submit c2.env
"$M" sign --countersign c1.env --key ci.key --out ci.env >/dev/null 2>&1
expect 6 "a countersignature by a non-admin does not count" \
	"has 1: alice; ci+[0-9a-f]* does not hold admin" "$M" submit ci.env
"$M" key new mallory >/dev/null
expect 6 "countersign with the ledger at hand refuses an unenrolled key" \
	"countersignature by mallory+[0-9a-f]*: the key is not enrolled" \
	"$M" sign --countersign c1.env --key mallory.key --out m.env
env -u MLLEDGER_LEDGER "$M" sign --countersign c1.env --pub alice.pub --key mallory.key \
	--out m.env >/dev/null 2>&1
expect 6 "a countersignature by an unenrolled key is refused" \
	"countersignature by mallory+[0-9a-f]*: the key is not enrolled" "$M" submit m.env
"$M" sign --countersign c1.env --key bob.key --out good.env >/dev/null 2>&1
edit good.env 'e["signatures"][1]["sig"] = base64.b64encode(bytes(64)).decode()' >badsig.env
expect 6 "a bad second signature is refused at submit" "signature by bob+[0-9a-f]* does not verify" \
	"$M" submit badsig.env
expect 6 "a bad signature is refused by countersign" "the signature by bob+[0-9a-f]* does not verify" \
	"$M" sign --countersign badsig.env --key carol.key --out x.env
edit good.env 'e["signatures"].append(dict(e["signatures"][1]))' >twice.env
expect 2 "the same keyid twice is refused" "repeats the keyid" "$M" submit twice.env
edit good.env 'e["signatures"] = e["signatures"] * 9' >many.env
expect 2 "more than 16 signatures are refused" "1 to 16 signatures" "$M" submit many.env
[ "$(size)" = "$n" ] && ok "none of them was appended" || nok "none of them was appended" "size $n -> $(size)"

# 5. The happy path: sign, countersign, submit; and the retry answer.
expect 0 "a countersigned enrolment is appended" "" "$M" submit good.env
expect 0 "submitting it again is a retry" "already recorded" "$M" submit good.env
expect 0 "verify accepts the countersigned ledger" "entries intact" "$M" verify
expect 0 "sign KIND with a ledger works as before (no dual control on dataset)" "d.env" \
	sh -c "echo data >d.bin && '$M' sign dataset d@1 --file d.bin --key ci.key --out d.env"

# 6. Separation: a person never holds both admin and approver.
expect 2 "enrolling an approver key for a person holding admin is refused" \
	"person bob would hold both admin and approver" \
	sh -c "'$M' key new bob3 >/dev/null && '$M' key enroll bob3.pub --holder-key bob3.key --role approver --person bob --key alice.key --out b3.env"
expect 2 "enrolling a key with both roles is refused" "person eve would hold both admin and approver" \
	"$M" key enroll eve.pub --holder-key eve.key --role admin,approver --key alice.key --out e.env
expect 2 "making an approver an admin is refused" "person dave would hold both" \
	sh -c "'$M' key new dave2 >/dev/null && '$M' key enroll dave2.pub --holder-key dave2.key --role admin --person dave --key alice.key --out d2.env"
expect 2 "governance set: a separation already broken is refused" \
	"person mixed holds both admin and approver" \
	sh -c "export MLLEDGER_LEDGER=\$PWD/s.db; '$M' init --key alice.key >/dev/null &&
	'$M' key new mixed >/dev/null && '$M' key enroll mixed.pub --holder-key mixed.key --role admin,approver --key alice.key >/dev/null &&
	'$M' governance set off.json --key alice.key"

# 7. Revocations may not leave dual control without its signers.
"$M" key revoke alice2 --reason rotation --key alice.key --out r.env >/dev/null 2>&1
"$M" sign --countersign r.env --key bob.key --out r2.env >/dev/null 2>&1
expect 0 "a countersigned revocation of a person's second key is appended" "" "$M" submit r2.env
expect 2 "a revocation that leaves one admin under dualControl 2 is refused" \
	"would leave 1 person holding admin (alice), fewer than dualControl's 2" \
	"$M" key revoke bob --reason leaving --key alice.key --out r3.env

# 8. Turning it off needs both, under the document in force before it.
"$M" governance set off.json --key bob.key --out off.env >/dev/null 2>&1
"$M" sign --countersign off.env --key alice.key --out off2.env >/dev/null 2>&1
expect 0 "turning dual control off with two admins is appended" "" "$M" submit off2.env
expect 0 "after it, one admin enrols alone again" "" "$M" key enroll eve.pub --holder-key eve.key --role engineer --key alice.key
expect 0 "verify accepts the whole history" "entries intact" "$M" verify

# 9. Forged into the ledger: verify says 4.
if [ -n "$HAVE_FORGE" ]; then
	# a one-admin enrolment in place of the countersigned one
	seq=$("$M" log | awk '$3 == "key-enrollment" && $4 == "carol" {print $1; exit}')
	cp l.db f1.db && cp l.db.log.key f1.db.log.key
	edit good.env 'e["signatures"] = e["signatures"][:1]' >one.env
	"$PY" "$here/forge.py" replace f1.db "$seq" <one.env &&
		"$PY" "$here/forge.py" rebuild f1.db chain tree sign=l.db.log.key
	expect 4 "verify rejects a forged one-admin enrolment under dualControl" \
		"entry $seq.*key-enrollment needs 2 admins (persons), has 1: alice" \
		"$M" verify --ledger f1.db
	cp l.db f2.db && cp l.db.log.key f2.db.log.key
	"$PY" "$here/forge.py" replace f2.db "$seq" <badsig.env &&
		"$PY" "$here/forge.py" rebuild f2.db chain tree sign=l.db.log.key
	expect 4 "verify rejects a forged bad countersignature" \
		"signature by bob+[0-9a-f]* does not verify" "$M" verify --ledger f2.db
	cp l.db f3.db && cp l.db.log.key f3.db.log.key
	"$PY" "$here/forge.py" replace f3.db "$seq" <c2.env &&
		"$PY" "$here/forge.py" rebuild f3.db chain tree sign=l.db.log.key
	expect 4 "verify rejects a forged enrolment signed by two keys of one person" \
		"alice's again" "$M" verify --ledger f3.db
else
	echo "ok - # SKIP forgeries: python3 with PyNaCl or sqlite3 is missing"
fi

finish

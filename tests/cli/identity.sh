#!/bin/sh
# tests/cli/identity.sh — statements bound to their ledger, enrolments that
# prove possession, persons with identity claims (issue 17, findings 4 and 7).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/identity.sh
#
# Each attack got an entry past mlledger before: an approval signed for
# ledger A and submitted to ledger B (same key enrolled in both); an
# envelope naming no ledger; an entry copied from another ledger into the
# file; an enrolment of a key whose holder never signed anything, or whose
# proof was made for another ledger, key or person.  Format-1 ledgers keep
# verifying.  Prints "ok - NAME" / "not ok - NAME: DETAIL", then
# "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/identity.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" identity
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
HAVE_FORGE=
[ -n "$PY" ] && "$PY" -c 'import sqlite3, nacl.signing' >/dev/null 2>&1 && HAVE_FORGE=1
TAMPER=$here/../interop/tamper.py
VERIFIER=$here/../interop/verify_ledger.py
D=sha256:$(printf 'model' | sha256sum | cut -c1-64)

# statement SEQ DB: entry SEQ's statement bytes
statement() {
	"$M" --ledger "$2" show "$1" --format json | "$PY" -c 'import base64,json,sys
sys.stdout.buffer.write(base64.b64decode(json.load(sys.stdin)["envelope"]["payload"]))'
}
# envelope SEQ DB: entry SEQ's envelope, canonical
envelope() {
	"$M" --ledger "$2" show "$1" --format json | "$PY" -c 'import json,sys
print(json.dumps(json.load(sys.stdin)["envelope"], sort_keys=True, separators=(",", ":")))'
}
# forge_append DB ENVFILE: ENVFILE appended to DB by a forger holding the
# log key (chain, tree and checkpoints made again)
forge_append() {
	"$PY" "$TAMPER" append "$1" "$2" >/dev/null 2>&1 &&
		"$PY" "$here/forge.py" rebuild "$1" chain tree "sign=$1.log.key" >/dev/null 2>&1
}

for k in admin ci alice bob carl; do "$M" key new $k >/dev/null || exit 1; done
A=$W/a.db B=$W/b.db
for l in "$A:a.example/ledger" "$B:b.example/ledger"; do
	db=${l%%:*}
	"$M" --ledger "$db" init --key admin.key --origin "${l#*:}" --governance "$UNGATED" \
		>/dev/null || exit 1
	"$M" --ledger "$db" key enroll ci.pub --holder-key ci.key --role engineer \
		--key admin.key >/dev/null || exit 1
	"$M" --ledger "$db" key enroll alice.pub --holder-key alice.key --role approver \
		--key admin.key >/dev/null || exit 1
	"$M" --ledger "$db" record model m@1 --digest "$D" --key ci.key >/dev/null || exit 1
done

# --- origin binding ----------------------------------------------------------
statement 0 "$A" | grep -q '"format":2' && ok "the genesis of a new ledger says format 2" ||
	nok "the genesis of a new ledger says format 2" "$(statement 0 "$A" | head -c 200)"
statement 3 "$A" | grep -q '"origin":"a.example/ledger"' &&
	ok "record writes the ledger's origin into the statement" ||
	nok "record writes the ledger's origin into the statement" "$(statement 3 "$A" | head -c 300)"

expect 0 "sign with --ledger A names A's origin" '' \
	"$M" --ledger "$A" sign approval m@1 --env prod --decision approve --key alice.key --out a.env
expect 2 "an approval signed for ledger A is refused by ledger B (same key enrolled)" \
	'for ledger "a.example/ledger", not this one (b.example/ledger)' \
	"$M" --ledger "$B" submit a.env
expect 0 "and ledger A takes it" '' "$M" --ledger "$A" submit a.env
expect 2 "sign --origin that is not the reachable ledger's is refused" 'is not the origin' \
	"$M" --ledger "$B" sign approval m@1 --env prod --decision approve --key alice.key \
	--origin a.example/ledger --out x.env
expect 2 "sign without a ledger or --origin says what to give" '--origin ORIGIN' \
	"$M" --ledger "$W/none.db" sign approval m@1 --env prod --decision approve --digest "$D" \
	--key alice.key --out x.env
expect 0 "sign --origin B offline" '' \
	"$M" --ledger "$W/none.db" sign approval m@1 --env staging --decision approve --digest "$D" \
	--key alice.key --origin b.example/ledger --out b.env
expect 0 "an envelope signed offline for B is taken by B" '' "$M" --ledger "$B" submit b.env
printf '%s\n' '{"kind":"deployment","subject":"m@1","environment":"dev","origin":"a.example/ledger"}' \
	>other.jsonl
printf '%s\n' '{"kind":"deployment","subject":"m@1","environment":"dev"}' >plain.jsonl
expect 2 "import: a line naming another origin is refused, naming the line" \
	'other.jsonl:1:.*a.example/ledger' "$M" --ledger "$B" import other.jsonl --key ci.key
expect 0 "import: a line without origin gets the ledger's" '' \
	"$M" --ledger "$B" import plain.jsonl --key ci.key

if [ -n "$HAVE_FORGE" ]; then
	# an approval without origin, signed by alice (as any DSSE signer could)
	printf '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m@1","digest":{"sha256":"%s"}}],"predicateType":"https://mlledger.dev/approval/v1","predicate":{"environment":"prod","decision":"approve","time":"%s"}}' \
		"${D#sha256:}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" |
		"$PY" "$here/forge.py" sign-envelope alice.key >noorigin.env
	expect 2 "an envelope naming no origin is refused by a format-2 ledger" \
		'names no ledger origin' "$M" --ledger "$B" submit noorigin.env
	# the approval of ledger A, copied into ledger B's file by a forger
	# holding B's log key: verify finds the statement was for another ledger
	cp "$B" "$W/bx.db" && cp "$B.log.key" "$W/bx.db.log.key"
	envelope 4 "$A" >copied.env
	if forge_append "$W/bx.db" copied.env; then
		expect 4 "an entry copied from ledger A into B fails verify (exit 4)" \
			'for ledger "a.example/ledger"' "$M" --ledger "$W/bx.db" verify
		expect 1 "and the independent verifier rejects it" 'statement for ledger' \
			"$PY" "$VERIFIER" "$W/bx.db"
	else
		nok "an entry copied from ledger A into B fails verify (exit 4)" "forging failed"
	fi
else
	skip "forged envelopes and entries" "no python3 with PyNaCl"
fi

# --- proof of possession -----------------------------------------------------
expect 2 "enrolment without a proof of possession is refused (format 2)" \
	'no proof of possession' \
	"$M" --ledger "$B" key enroll bob.pub --role approver --key admin.key
expect 0 "key possess writes the holder's proof" '' \
	"$M" --ledger "$W/none.db" key possess --key bob.key --origin b.example/ledger \
	--name "Bob Chen" --email bob@example.com --employee-id E-1042 \
	--x509-sha256 "$(printf 'cert' | sha256sum | cut -c1-64)" \
	--oidc-issuer https://accounts.example.com --oidc-subject 1234567890 --out bob.pop
expect 0 "possess for ledger A too" '' \
	"$M" --ledger "$W/none.db" key possess --key bob.key --origin a.example/ledger --out bob-a.pop
expect 0 "carl's proof for B" '' \
	"$M" --ledger "$W/none.db" key possess --key carl.key --origin b.example/ledger --out carl.pop
expect 6 "a proof made for another ledger is refused" 'for the ledger a.example/ledger' \
	"$M" --ledger "$B" key enroll bob.pub --possession bob-a.pop --role approver --key admin.key
expect 6 "a proof made by another key is refused" 'for another key' \
	"$M" --ledger "$B" key enroll bob.pub --possession carl.pop --role approver --key admin.key
expect 2 "a proof for another person than the options name is refused" 'another person' \
	"$M" --ledger "$B" key enroll bob.pub --possession bob.pop --person mallory \
	--role approver --key admin.key
sed 's/"Bob Chen"/"Mallory"/' bob.pop >bob-edited.pop
expect 6 "a proof whose person was edited does not verify" 'does not verify' \
	"$M" --ledger "$B" key enroll bob.pub --possession bob-edited.pop --role approver \
	--key admin.key
expect 6 "--holder-key that is not the enrolled key is refused" 'not the key enrolled' \
	"$M" --ledger "$B" key enroll bob.pub --holder-key carl.key --role approver --key admin.key
expect 0 "the holder's proof is accepted" '' \
	"$M" --ledger "$B" key enroll bob.pub --possession bob.pop --role approver --key admin.key
expect 0 "key list shows the person and claims" \
	'bob "Bob Chen" <bob@example.com> employee=E-1042 x509=sha256:.* oidc=https://accounts.example.com#1234567890' \
	"$M" --ledger "$B" key list
expect 0 "key list --format json carries the person" '"employeeId":"E-1042"' \
	"$M" --ledger "$B" key list --format json
expect 2 "a bad claim is refused (x509 not 64 hex), naming the option" 'key enroll: --x509-sha256: must be' \
	"$M" --ledger "$B" key enroll carl.pub --holder-key carl.key --x509-sha256 abc \
	--role approver --key admin.key
expect 2 "an OIDC issuer that is not https is refused, naming the options" 'key enroll: --oidc-issuer, --oidc-subject: must be' \
	"$M" --ledger "$B" key enroll carl.pub --holder-key carl.key \
	--oidc-issuer http://id.example --oidc-subject x --role approver --key admin.key
expect 0 "ledger B verifies" '^ok: ' "$M" --ledger "$B" verify
if [ -n "$HAVE_FORGE" ]; then
	expect 0 "and the independent verifier agrees (possession, claims)" '^ok ' \
		"$PY" "$VERIFIER" "$B"
	# an enrolment of carl for B whose proof was made for ledger A, signed by
	# the admin and forged into B's file
	"$M" --ledger "$W/none.db" key possess --key carl.key --origin a.example/ledger \
		--out carl-a.pop >/dev/null
	"$PY" -c 'import hashlib,json,sys,time
pop = json.load(open(sys.argv[1]))
k = pop["key"]
print(json.dumps({"_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "carl", "digest": {"sha256": hashlib.sha256(k.encode()).hexdigest()}}],
    "predicateType": "https://mlledger.dev/key-enrollment/v1",
    "predicate": {"key": k, "roles": ["approver"], "person": pop["person"],
                  "possession": pop["possession"], "origin": "b.example/ledger",
                  "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}},
    separators=(",", ":")), end="")' carl-a.pop |
		"$PY" "$here/forge.py" sign-envelope admin.key >carl-bad.env
	expect 6 "submit refuses an enrolment whose proof was made for another ledger" \
		'possession' "$M" --ledger "$B" submit carl-bad.env
	cp "$B" "$W/by.db" && cp "$B.log.key" "$W/by.db.log.key"
	if forge_append "$W/by.db" carl-bad.env; then
		expect 4 "a forged enrolment with a bad proof of possession fails verify (exit 4)" \
			'possession' "$M" --ledger "$W/by.db" verify
		expect 1 "and the independent verifier rejects it" 'possession' \
			"$PY" "$VERIFIER" "$W/by.db"
	else
		nok "a forged enrolment with a bad proof of possession fails verify (exit 4)" \
			"forging failed"
	fi
fi

# --- format-1 ledgers keep verifying -----------------------------------------
LEG=$here/../data/legacy
mkdir legacy && cp "$LEG/ledger-v1.db" "$LEG/ledger-v1.db.log.key" "$LEG/admin.key" \
	"$LEG/ci.key" legacy/
expect 0 "a format-1 ledger (tests/data/legacy) still verifies" '^ok: ' \
	"$M" --ledger legacy/ledger-v1.db verify
expect 0 "a format-1 ledger still enrols without a proof" '' \
	"$M" --ledger legacy/ledger-v1.db key enroll carl.pub --role engineer --key legacy/admin.key
expect 6 "but a format-1 ledger checks a proof it is given: one for another ledger" \
	'for the ledger a.example/ledger' \
	"$M" --ledger legacy/ledger-v1.db key enroll bob.pub --possession bob-a.pop \
	--role approver --key legacy/admin.key
expect 0 "and verifies after that" '^ok: ' "$M" --ledger legacy/ledger-v1.db verify

finish

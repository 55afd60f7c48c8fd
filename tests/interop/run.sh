#!/bin/sh
# Interop test: an independent verifier written from ledger/FORMAT.md alone
# (verify_ledger.py, Python + PyNaCl) must agree with `mlledger verify` on a
# realistic ledger built by the CLI and on tampered copies of it (governance
# rules included: roles by kind, declared environments, metrics and typed
# properties, waivers, retirements, clock corrections; policy entries, gate
# decisions and gated deployments, section 9), and check the §8 proofs
# (`prove`, `prove --consistency`, `cosign`); go/check.go checks the
# checkpoints and proofs again with Go's golang.org/x/mod/sumdb note and
# tlog packages.
#
#   MLLEDGER=/abs/path/mlledger sh tests/interop/run.sh
#
# Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed"; exits
# non-zero on any failure.  Known disagreements with mlledger are printed as
# TAP "not ok - ... # TODO ..." lines and not counted as failures.  Skips
# (exit 0) without /usr/bin/python3 + PyNaCl; skips only the Go part without
# go and the x/mod sources (Debian: golang-go golang-golang-x-mod-dev).

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
VERIFY="$HERE/verify_ledger.py"
TAMPER="$HERE/tamper.py"

if [ ! -x "$PY" ] || ! "$PY" -c 'import nacl.signing, nacl.exceptions' 2>/dev/null; then
    echo "SKIP interop: python3-nacl not installed"
    exit 0
fi

M=${MLLEDGER:-$ROOT/build/mlledger}
if [ ! -x "$M" ]; then
    make -C "$ROOT" >/dev/null 2>&1
fi
if [ ! -x "$M" ]; then
    echo "not ok - no mlledger binary at $M (make -C $ROOT failed)"
    echo "0 passed, 1 failed"
    exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-interop.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM
# never touch a ledger of the caller: no default ledger, work inside $T
unset MLLEDGER_LEDGER MLLEDGER_PASSPHRASE_FILE
cd "$T" || exit 1

PASS=0
FAIL=0
# printf, not echo: dash's echo would expand the backslashes of descriptions
ok()    { PASS=$((PASS + 1)); printf 'ok - %s\n' "$*"; }
notok() { FAIL=$((FAIL + 1)); printf 'not ok - %s\n' "$*"; }
indent() { sed 's/^/#   /' "$@"; }

# sql DB SQL: run SQL with the sqlite3 CLI (Python's sqlite3 if it is missing)
sql() {
    if command -v sqlite3 >/dev/null 2>&1; then
        sqlite3 -batch -bail "$1" "$2"
    else
        "$PY" -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.executescript(sys.argv[2]); d.commit()' "$1" "$2"
    fi
}

DROP_TRIGGERS='DROP TRIGGER entries_append_only_u;
DROP TRIGGER entries_append_only_d;
DROP TRIGGER entry_index_append_only_u;
DROP TRIGGER entry_index_append_only_d;'
# exactly the §7 text, in §7 order
CREATE_TRIGGERS="CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entries_append_only_d BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entry_index_append_only_u BEFORE UPDATE ON entry_index
BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END;
CREATE TRIGGER entry_index_append_only_d BEFORE DELETE ON entry_index
BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END;"

# ---------------------------------------------------------------------------
# 1. FORMAT.md §9 test vectors, RFC 6962 / RFC 9162 / signed-note test data

if "$PY" "$VERIFY" --vectors >"$T/vectors.out" 2>&1; then
    ok "FORMAT.md §9 test vectors, RFC 6962 trees and proofs, signed notes ($(tail -n 1 "$T/vectors.out"))"
else
    notok "FORMAT.md §9 test vectors, RFC 6962 trees and proofs, signed notes"
    grep -v '^ok' "$T/vectors.out" | indent
fi

# ---------------------------------------------------------------------------
# 2. a realistic ledger, built with the CLI

K="$T/keys"
L="$T/ledger.db"
mkdir -p "$K" "$T/data/holdout/part" "$T/model-1.0.0/weights"
printf 'pass phrase for erin\n' >"$T/erin.pass"
chmod 600 "$T/erin.pass"
printf 'id,amount,label\n1,12.50,0\n2,980.00,1\n3,7.25,0\n' >"$T/data/train.csv"
printf 'id,amount,label\n4,15.00,0\n' >"$T/data/holdout/a.csv"
printf 'id,amount,label\n5,1500.00,1\n' >"$T/data/holdout/part/b.csv"
printf '{"max_depth": 6}\n' >"$T/model-1.0.0/config.json"
printf 'weights-v1' >"$T/model-1.0.0/weights/layer0.bin"
printf 'weights-v1.1 blob' >"$T/model-1.1.0.bin"

BUILD_LOG="$T/build.log"
: >"$BUILD_LOG"
BUILD_ERR=""
# step DESC CMD...: run a CLI step of the build, remember the first failure
step() {
    d=$1
    shift
    if [ -z "$BUILD_ERR" ]; then
        if ! "$@" >>"$BUILD_LOG" 2>&1; then
            BUILD_ERR="$d (exit $?)"
        fi
    fi
}
ml() { "$M" --ledger "$L" "$@"; }
mle() { MLLEDGER_PASSPHRASE_FILE="$T/erin.pass" "$M" --ledger "$L" "$@"; }

for n in admin alice bob carol dave; do
    step "key new $n" "$M" key new "$n" --dir "$K"
done
step "key new erin (encrypted)" "$M" key new erin --dir "$K" --passphrase-file "$T/erin.pass"
# the default document without its gates: this ledger is about everything
# but gated deployments (section 9 builds one under the default, gated, one)
step "init" ml init --key "$K/admin.key" --origin interop.example/ml/ledger \
    --governance "$ROOT/tests/data/governance-ungated.json"
# a format-2 ledger: what tamper.py forges names this origin, and its
# enrolments carry their holders' proofs from $K (FORMAT.md §2)
export TAMPER_ORIGIN=interop.example/ml/ledger TAMPER_KEYDIR="$K"
step "enroll alice" ml key enroll "$K/alice.pub" --holder-key "$K/alice.key" --role engineer --key "$K/admin.key"
step "enroll bob" ml key enroll "$K/bob.pub" --holder-key "$K/bob.key" --role approver,risk-officer --key "$K/admin.key"
step "enroll carol" ml key enroll "$K/carol.pub" --holder-key "$K/carol.key" --role admin,auditor --key "$K/admin.key"
step "enroll dave" ml key enroll "$K/dave.pub" --holder-key "$K/dave.key" --role engineer --key "$K/admin.key"
step "enroll erin" ml key enroll "$K/erin.pub" --holder-key "$K/erin.key" --passphrase-file "$T/erin.pass" --role validator --key "$K/carol.key"
step "dataset train" ml record dataset credit-card/transactions@2024.01 --file "$T/data/train.csv" \
    --uri s3://risk-data/transactions/2024-01.csv --set rows=3 --set source=core-banking --set pii=false --key "$K/alice.key"
step "dataset holdout (folder)" ml record dataset credit-card/holdout@1 --file "$T/data/holdout" --key "$K/alice.key"
step "model 1.0.0 (folder)" ml record model fraud-detector@1.0.0 --artifact "$T/model-1.0.0" \
    --dataset credit-card/transactions@2024.01 --metric auc=0.91 --set framework=xgboost --key "$K/alice.key"
# deployed, so that its retirement below retires a live version (rule 11)
step "deployment 1.0.0" ml record deployment fraud-detector@1.0.0 --env prod --key "$K/alice.key"
step "model 1.1.0" ml record model fraud-detector@1.1.0 --artifact "$T/model-1.1.0.bin" \
    --dataset credit-card/transactions@2024.01 --dataset credit-card/holdout@1 \
    --parent fraud-detector@1.0.0 --metric auc=0.934 --metric logloss=0.1234567890123456789 --key "$K/dave.key"
step "evaluation (encrypted key)" mle record evaluation fraud-detector@1.1.0 --metric auc=0.93 --metric f1=0.81 \
    --metric passed=true --dataset credit-card/holdout@1 --set evaluator=erin --key "$K/erin.key"
step "approval" ml record approval fraud-detector@1.1.0 --env prod --decision approve \
    --comment "$(printf 'validated against holdout\n\tsee RISK-42')" --key "$K/bob.key"
step "deployment" ml record deployment fraud-detector@1.1.0 --env prod --set replicas=3 --set region=eu-west-1 --key "$K/alice.key"
step "monitoring" ml record monitoring fraud-detector@1.1.0 --env prod --metric drift=0.02 --metric latency_ms=41 --key "$K/alice.key"
# (a gate decision recorded by the CLI needs a recorded policy entry, which
# FORMAT.md §7 does not list in subjects: see section 9, where gate
# decisions, recorded PASSED and FAILED, are checked)
step "waiver" ml record waiver fraud-detector@1.1.0 --rule fairness.disparate-impact --expires 2099-03-31 \
    --reason "protected attribute not collected; reviewed by risk" --ticket RISK-42 --key "$K/bob.key"
step "incident" ml record incident fraud-detector@1.0.0 --severity high --description "false positives on card-present transactions" --key "$K/alice.key"
step "retirement" ml record retirement fraud-detector@1.0.0 --env prod --reason "superseded by 1.1.0" --key "$K/alice.key"
step "dataset re-recorded, same digest" ml record dataset credit-card/transactions@2024.01 --file "$T/data/train.csv" \
    --set rows=3 --set recheck=true --key "$K/alice.key"
step "sign offline" ml sign approval fraud-detector@1.1.0 --env staging --decision reject --comment "canary failed" \
    --key "$K/bob.key" --out "$T/offline.json"
step "submit" ml submit "$T/offline.json"
step "revoke admin (rotation)" ml key revoke admin --reason "rotated to carol" --key "$K/carol.key"
step "monitoring 2" ml record monitoring fraud-detector@1.1.0 --env prod --metric drift=0.05 --key "$K/alice.key"
step "revoke dave" ml key revoke dave --reason "left the team" --key "$K/carol.key"

if [ -n "$BUILD_ERR" ]; then
    notok "build a ledger with the CLI: $BUILD_ERR"
    indent "$BUILD_LOG"
    echo "$PASS passed, $FAIL failed"
    exit 1
fi
sql "$L" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
N=$(sql "$L" 'SELECT count(*) FROM entries;')
ok "built a ledger with the CLI ($N entries, 8 kinds about models, 2 revocations, 1 submitted envelope)"

if "$M" --ledger "$L" record deployment fraud-detector@1.1.0 --env dev --key "$K/dave.key" >"$T/out" 2>&1; then
    notok "mlledger appends with a revoked key"
else
    ok "mlledger refuses to append with a revoked key"
fi

if "$M" --ledger "$L" verify >"$T/out" 2>&1; then
    ok "mlledger verify accepts the ledger"
else
    notok "mlledger verify rejects the ledger"
    indent "$T/out"
fi
if "$PY" "$VERIFY" "$L" >"$T/out" 2>&1 && [ "$(cat "$T/out")" = "ok $N entries" ]; then
    ok "verify_ledger.py accepts the ledger ($(cat "$T/out"))"
else
    notok "verify_ledger.py rejects the ledger"
    indent "$T/out"
fi

# `mlledger show SEQ --format raw` prints the leaf bytes (§4)
bad=""
seq=0
while [ "$seq" -lt "$N" ]; do
    want=$(sql "$L" "SELECT lower(hex(leaf_hash)) FROM entries WHERE seq = $seq;")
    got=$({ printf '\000'; "$M" --ledger "$L" show "$seq" --format raw; } | sha256sum | cut -c1-64)
    [ "$got" = "$want" ] || bad="$bad $seq"
    seq=$((seq + 1))
done
if [ -z "$bad" ]; then
    ok "SHA-256(0x00 || show --format raw) is the stored leaf hash for all $N entries"
else
    notok "show --format raw does not hash to the leaf hash for entries:$bad"
fi

# secret key files (§1): the verifier key derived from each .key is its .pub
bad=""
for n in alice bob carol dave; do
    [ "$("$PY" "$TAMPER" keyline "$K/$n.key" 2>&1)" = "$(cat "$K/$n.pub")" ] || bad="$bad $n"
done
[ "$("$PY" "$TAMPER" keyline "$K/erin.key" "$T/erin.pass" 2>&1)" = "$(cat "$K/erin.pub")" ] || bad="$bad erin(encrypted)"
if [ -z "$bad" ]; then
    ok "secret key files (plain and Argon2id/XChaCha20-Poly1305) match their verifier keys"
else
    notok "secret key files do not match their verifier keys:$bad"
fi

# ---------------------------------------------------------------------------
# 3. tampered copies: both verifiers must reject (mlledger verify: exit 4)

seq_of() { sql "$L" "SELECT seq FROM entry_index WHERE $1 ORDER BY seq LIMIT 1;"; }
MID=$((N / 2))
LAST=$((N - 1))
APPROVAL=$(seq_of "kind = 'approval' AND keyid LIKE 'bob+%'")
DEPLOY=$(seq_of "kind = 'deployment' AND version = '1.1.0'")
M11=$(sql "$L" "SELECT lower(hex(digest)) FROM subjects WHERE kind = 'model' AND ref = 'fraud-detector@1.1.0';")

# fresh NAME: a copy of the ledger with its log key (what the ledger's owner
# holds, and a forger who stole the log key); fresh_nokey NAME: without it
fresh_nokey() {
    rm -f "$T/$1.db" "$T/$1.db-wal" "$T/$1.db-shm" "$T/$1.db.log.key"
    cp "$L" "$T/$1.db"
    echo "$T/$1.db"
}
fresh() { fresh_nokey "$1" >/dev/null; cp -p "$L.log.key" "$T/$1.db.log.key"; echo "$T/$1.db"; }

# expect_reject DB DESC
expect_reject() {
    "$PY" "$VERIFY" "$1" >"$T/py.out" 2>&1
    prc=$?
    "$M" --ledger "$1" verify >"$T/ml.out" 2>&1
    mrc=$?
    if [ "$prc" -eq 1 ] && [ "$mrc" -eq 4 ]; then
        ok "$2: both reject"
        printf '#   verify_ledger.py: %s\n' "$(head -n 1 "$T/py.out")"
        printf '#   mlledger verify:  %s\n' "$(head -n 1 "$T/ml.out")"
    else
        notok "$2: verify_ledger.py exit $prc, mlledger verify exit $mrc (want 1 and 4)"
        indent "$T/py.out"
        indent "$T/ml.out"
    fi
}

# a. one byte of the envelope of a middle entry
db=$(fresh flip)
sql "$db" "$DROP_TRIGGERS
UPDATE entries SET envelope = CAST(substr(envelope, 1, 39)
    || CASE WHEN CAST(substr(envelope, 40, 1) AS TEXT) = 'A' THEN 'B' ELSE 'A' END
    || substr(envelope, 41) AS BLOB) WHERE seq = $MID;
$CREATE_TRIGGERS"
expect_reject "$db" "byte 40 of the envelope of entry $MID flipped"

# b. a keys row given role admin
db=$(fresh roles)
sql "$db" "UPDATE keys SET roles = 'engineer,admin' WHERE name = 'alice';"
expect_reject "$db" "keys row of alice given role admin"

# c. the last entry (dave's revocation) deleted with its entry_index row
db=$(fresh truncate)
sql "$db" "$DROP_TRIGGERS
DELETE FROM entries WHERE seq = $LAST;
DELETE FROM entry_index WHERE seq = $LAST;
$CREATE_TRIGGERS"
expect_reject "$db" "last entry (a revocation) and its entry_index row deleted"

# d. only the last entry's entry_index row deleted
db=$(fresh index)
sql "$db" "$DROP_TRIGGERS
DELETE FROM entry_index WHERE seq = $LAST;
$CREATE_TRIGGERS"
expect_reject "$db" "entry_index row of the last entry deleted"

# e. approval turned into a rejection, chain and index recomputed (signature breaks)
db=$(fresh payload)
"$PY" "$TAMPER" edit-payload "$db" "$APPROVAL" '"decision":"approve"' '"decision":"reject"'
expect_reject "$db" "approval $APPROVAL rewritten to reject, leaf hashes recomputed"

# f. append time going backwards, chain recomputed
db=$(fresh time)
"$PY" "$TAMPER" set-time "$db" "$DEPLOY" -86400000000
expect_reject "$db" "append time of entry $DEPLOY moved back one day, leaf hashes recomputed"

# g. a subjects digest replaced
db=$(fresh subjects)
sql "$db" "UPDATE subjects SET digest = zeroblob(32) WHERE ref = 'fraud-detector@1.1.0';"
expect_reject "$db" "subjects digest of fraud-detector@1.1.0 zeroed"

# h. meta origin changed
db=$(fresh meta)
sql "$db" "UPDATE meta SET value = 'evil.example/ledger' WHERE key = 'origin';"
expect_reject "$db" "meta origin changed"

# i. an append-only trigger dropped
db=$(fresh schema)
sql "$db" "DROP TRIGGER entries_append_only_d;"
expect_reject "$db" "append-only trigger dropped"

# j. entry signed by the revoked key, appended with consistent projections
db=$(fresh revoked)
"$M" sign --origin "$TAMPER_ORIGIN" deployment fraud-detector@1.1.0 --env prod --digest "sha256:$M11" --set note=backdated \
    --key "$K/dave.key" --out "$T/revoked.json" >/dev/null 2>&1 &&
    "$PY" "$TAMPER" append "$db" "$T/revoked.json"
expect_reject "$db" "deployment signed by revoked key dave appended"

# k. a non-admin enrols a new admin key, appended with consistent projections
db=$(fresh nonadmin)
"$M" key new eve --dir "$K" >/dev/null 2>&1
"$PY" "$TAMPER" enrol-stmt "$K/eve.pub" admin | "$PY" "$TAMPER" sign "$K/alice.key" "$T/eve.json" &&
    "$PY" "$TAMPER" append "$db" "$T/eve.json"
expect_reject "$db" "key-enrollment of eve as admin signed by non-admin alice appended"

# l. a replayed envelope
db=$(fresh replay)
sql "$L" "SELECT writefile('$T/replay.json', envelope) FROM entries WHERE seq = $APPROVAL;" >/dev/null 2>&1 ||
    "$PY" -c 'import sqlite3,sys; open(sys.argv[2],"wb").write(sqlite3.connect(sys.argv[1]).execute("SELECT envelope FROM entries WHERE seq=?",(int(sys.argv[3]),)).fetchone()[0])' "$L" "$T/replay.json" "$APPROVAL"
"$PY" "$TAMPER" append "$db" "$T/replay.json"
expect_reject "$db" "envelope of entry $APPROVAL appended again (replay)"

# m. approval of a model version that was never recorded (valid signer)
db=$(fresh dangling)
"$M" sign --origin "$TAMPER_ORIGIN" approval fraud-detector@9.9.9 --env prod --decision approve --digest "sha256:$M11" \
    --key "$K/bob.key" --out "$T/dangling.json" >/dev/null 2>&1 &&
    "$PY" "$TAMPER" append "$db" "$T/dangling.json"
expect_reject "$db" "approval of unrecorded fraud-detector@9.9.9 appended"

# n. a recorded model version re-recorded with another digest (valid signer)
db=$(fresh immutable)
"$M" sign --origin "$TAMPER_ORIGIN" model fraud-detector@1.0.0 --digest "sha256:$(printf 'other bytes' | sha256sum | cut -c1-64)" \
    --key "$K/alice.key" --out "$T/immutable.json" >/dev/null 2>&1 &&
    "$PY" "$TAMPER" append "$db" "$T/immutable.json"
expect_reject "$db" "fraud-detector@1.0.0 re-recorded with another digest"

# ---------------------------------------------------------------------------
# 4. rules of the revised FORMAT.md (e245e45): each case is a copy of the
#    ledger with one forged or CLI-made change; forged entries are signed by
#    keys we hold and appended with the chain and projections recomputed, so
#    only the rule under test is broken.

# expect_accept DB DESC: both verifiers accept
expect_accept() {
    "$PY" "$VERIFY" "$1" >"$T/py.out" 2>&1
    prc=$?
    "$M" --ledger "$1" verify >"$T/ml.out" 2>&1
    mrc=$?
    if [ "$prc" -eq 0 ] && [ "$mrc" -eq 0 ]; then
        ok "$2: both accept"
    else
        notok "$2: verify_ledger.py exit $prc, mlledger verify exit $mrc (want 0 and 0)"
        indent "$T/py.out"
        indent "$T/ml.out"
    fi
}

# expect_exit WANT DESC CMD...: a CLI step must exit WANT
expect_exit() {
    want=$1
    d=$2
    shift 2
    "$@" >"$T/cli.out" 2>&1
    rc=$?
    if [ "$rc" -eq "$want" ]; then
        ok "$d: exit $rc"
        [ -s "$T/cli.out" ] && printf '#   %s\n' "$(head -n 1 "$T/cli.out")"
    else
        notok "$d: exit $rc (want $want)"
        indent "$T/cli.out"
    fi
}

# forge NAME KEY KIND SUBJECT DIGEST PREDICATE [pretty]: db = a copy of the
# ledger with a statement made by tamper.py, signed by KEY, appended
forge() {
    fname=$1
    fkey=$2
    shift 2
    db=$(fresh "$fname")
    "$PY" "$TAMPER" stmt "$@" >"$T/$fname.stmt" &&
        "$PY" "$TAMPER" sign "$K/$fkey.key" "$T/$fname.env" <"$T/$fname.stmt" &&
        "$PY" "$TAMPER" append "$db" "$T/$fname.env"
}

# forge_enrol NAME PUBFILE ROLE: db = a copy with PUBFILE enrolled by carol (admin)
forge_enrol() {
    db=$(fresh "$1")
    "$PY" "$TAMPER" enrol-stmt "$2" "$3" | "$PY" "$TAMPER" sign "$K/carol.key" "$T/$1.env" &&
        "$PY" "$TAMPER" append "$db" "$T/$1.env"
}

H_A=$(printf a | sha256sum | cut -c1-64)
H_B=$(printf b | sha256sum | cut -c1-64)

# --- rule 5: a public key is enrolled once, under any name -----------------

"$PY" "$TAMPER" rename-pub "$K/dave.pub" dave2 >"$K/dave2.pub"
"$PY" "$TAMPER" rename-pub "$K/admin.pub" admin2 >"$K/admin2.pub"
"$PY" "$TAMPER" rename-pub "$K/alice.pub" alice2 >"$K/alice2.pub"

db=$(fresh cli-reenrol)
expect_exit 2 "mlledger key enroll: revoked dave's public key under the new name dave2 refused" \
    "$M" --ledger "$db" key enroll "$K/dave2.pub" --role engineer --key "$K/carol.key"
expect_exit 2 "mlledger key enroll: revoked dave.pub enrolled again under its own name refused" \
    "$M" --ledger "$db" key enroll "$K/dave.pub" --holder-key "$K/dave.key" --role engineer --key "$K/carol.key"
expect_exit 2 "mlledger key enroll: the genesis admin key's public key (revoked) as admin2 refused" \
    "$M" --ledger "$db" key enroll "$K/admin2.pub" --role admin --key "$K/carol.key"
expect_exit 2 "mlledger key enroll: active alice's public key as alice2 refused" \
    "$M" --ledger "$db" key enroll "$K/alice2.pub" --role engineer --key "$K/carol.key"
if [ "$(sql "$db" 'SELECT count(*) FROM entries;')" = "$N" ]; then
    ok "refused enrolments wrote nothing"
else
    notok "refused enrolments wrote entries"
fi

forge_enrol reenrol-dave2 "$K/dave2.pub" engineer
expect_reject "$db" "forged enrolment of revoked dave's public key as dave2 (signed by admin carol)"
forge_enrol reenrol-dave "$K/dave.pub" engineer
expect_reject "$db" "forged re-enrolment of revoked dave.pub under its own name"
forge_enrol reenrol-admin2 "$K/admin2.pub" admin
expect_reject "$db" "forged enrolment of the genesis admin key's public key as admin2"
forge_enrol reenrol-alice2 "$K/alice2.pub" engineer
expect_reject "$db" "forged enrolment of active alice's public key as alice2"

# a revoked name may get a new key (rule 5: "a name with no active key")
db=$(fresh newdave)
mkdir -p "$K/new"
"$M" key new dave --dir "$K/new" >/dev/null 2>&1
expect_exit 0 "mlledger key enroll: a new key for the revoked name dave" \
    "$M" --ledger "$db" key enroll "$K/new/dave.pub" --holder-key "$K/new/dave.key" --role engineer --key "$K/carol.key"
expect_accept "$db" "new public key enrolled under revoked name dave"

# §1: digest of the key line is over the line without its newline
"$M" key new gina --dir "$K" >/dev/null 2>&1
GINA=$(cat "$K/gina.pub")
forge keyline-nl carol key-enrollment gina "$(printf '%s\n' "$GINA" | sha256sum | cut -c1-64)" \
    "{\"key\":\"$GINA\",\"roles\":[\"engineer\"]}"
expect_reject "$db" "enrolment whose subject digest is SHA-256 of the key line + newline"
forge keyline carol key-enrollment gina "$(printf '%s' "$GINA" | sha256sum | cut -c1-64)" \
    "{\"key\":\"$GINA\",\"roles\":[\"engineer\"]}"
expect_accept "$db" "forged enrolment with SHA-256 of the key line without newline (control)"

# §1 keyid: the base64 field of a verifier key may hold '+' (RFC 8032 TEST 1 seed)
"$PY" "$TAMPER" seedkey frank 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60 "$K"
db=$(fresh plus)
if cut -d+ -f3- "$K/frank.pub" | grep -q '+' &&
    "$M" --ledger "$db" key enroll "$K/frank.pub" --holder-key "$K/frank.key" --role engineer --key "$K/carol.key" >"$T/out" 2>&1 &&
    "$M" --ledger "$db" record deployment fraud-detector@1.1.0 --env dev --key "$K/frank.key" >>"$T/out" 2>&1 &&
    [ "$(sql "$db" "SELECT keyid FROM keys WHERE name = 'frank';")" = "$(cut -d+ -f1-2 "$K/frank.pub")" ]; then
    ok "key whose base64 field holds '+' enrolled and used with the CLI; keyid is the first two fields"
else
    notok "key whose base64 field holds '+' could not be enrolled and used"
    indent "$T/out"
fi
expect_accept "$db" "ledger with a '+'-holding verifier key"

# §2: role names are 1-32 bytes
R32=$(printf '%032d' 0 | tr 0 r)
"$M" key new hank --dir "$K" >/dev/null 2>&1
"$M" key new ivan --dir "$K" >/dev/null 2>&1
db=$(fresh role)
expect_exit 2 "mlledger key enroll --role of 33 bytes refused" \
    "$M" --ledger "$db" key enroll "$K/hank.pub" --holder-key "$K/hank.key" --role "${R32}r" --key "$K/carol.key"
# the role must be declared (§5 rule 9): a governance entry by admin carol
# declares it, made here since the CLI may not write governance entries yet
"$PY" "$TAMPER" stmt governance interop.example/ml/ledger document \
    "$("$PY" -c 'import json, sys; print(json.dumps({"document": sys.argv[1]}))' "{\"roles\":{\"admin\":[\"key-enrollment\",\"key-revocation\",\"governance\"],\"$R32\":[\"dataset\"]}}")" |
    "$PY" "$TAMPER" sign "$K/carol.key" "$T/role32.env" && "$PY" "$TAMPER" append "$db" "$T/role32.env"
expect_exit 0 "mlledger key enroll --role of 32 bytes (declared by a governance entry)" \
    "$M" --ledger "$db" key enroll "$K/hank.pub" --holder-key "$K/hank.key" --role "$R32" --key "$K/carol.key"
expect_accept "$db" "role name of 32 bytes"
forge_enrol role33 "$K/ivan.pub" "${R32}r"
expect_reject "$db" "forged enrolment with a role name of 33 bytes"

# --- §2 statements ---------------------------------------------------------

# any valid JSON: white space allowed in statements and envelopes
db=$(fresh pretty)
"$PY" "$TAMPER" stmt deployment fraud-detector@1.1.0 "$M11" '{"environment":"dev"}' pretty >"$T/pretty.stmt"
"$PY" "$TAMPER" sign "$K/alice.key" "$T/pretty.json" <"$T/pretty.stmt"
expect_exit 0 "mlledger submit: statement with white space (indented, trailing newline)" \
    "$M" --ledger "$db" submit "$T/pretty.json"
"$M" sign --origin "$TAMPER_ORIGIN" deployment fraud-detector@1.1.0 --env staging --digest "sha256:$M11" \
    --key "$K/alice.key" --out "$T/penv.json" >/dev/null 2>&1
"$PY" "$TAMPER" envelope "$T/penv.json" "$T/penv2.json" pretty
expect_exit 0 "mlledger submit: envelope with white space (indented)" \
    "$M" --ledger "$db" submit "$T/penv2.json"
if [ "$(sql "$db" "SELECT hex(envelope) FROM entries WHERE seq = $((N + 1));")" = \
     "$(od -An -v -tx1 "$T/penv2.json" | tr -d ' \n' | tr a-f A-F)" ]; then
    ok "submitted envelope stored byte for byte as given"
else
    notok "submitted envelope not stored byte for byte"
fi
expect_accept "$db" "statement and envelope with insignificant white space"

# duplicate member names in an envelope
"$PY" "$TAMPER" envelope "$T/penv.json" "$T/dupenv.json" dup
db=$(fresh dupenv)
expect_exit 2 "mlledger submit: envelope with a duplicated member refused" \
    "$M" --ledger "$db" submit "$T/dupenv.json"
"$PY" "$TAMPER" append "$db" "$T/dupenv.json"
expect_reject "$db" "envelope with a duplicated payloadType member appended"

# every string non-empty
db=$(fresh emptystr)
expect_exit 2 "mlledger record --set note= (empty string) refused" \
    "$M" --ledger "$db" record deployment fraud-detector@1.1.0 --env prod --set note= --key "$K/alice.key"
# §2 "Gate decisions" and §5 rule 8: a VSA whose ledger.size is more than its seq
# (and, rule 8, the ledger's own origin and root at size 3)
V_ORIGIN=$(sql "$L" "SELECT value FROM meta WHERE key = 'origin';")
V_ROOT=$("$PY" "$ROOT/tests/cli/forge.py" root "$L" 3)
vsa_pred() {
    printf '{"verifier":{"id":"https://mlledger.dev/gate"},"timeVerified":"2026-11-27T00:00:00Z",'
    printf '"resourceUri":"mlledger:fraud-detector@1.1.0?env=prod","policy":{"name":"p@1","digest":{"sha256":"%s"}},' "$H_A"
    printf '"inputAttestations":[{"name":"checkpoint/3","digest":{"sha256":"%s"}}],"verificationResult":"PASSED",' "$H_B"
    printf '"verifiedLevels":["MLLEDGER_POLICY:p@1"],"environment":"prod","policies":[{"name":"p@1","digest":{"sha256":"%s"}}],' "$H_A"
    printf '"ledger":{"origin":"%s","size":%s,"root":"%s"},' "$V_ORIGIN" "$1" "${2:-$V_ROOT}"
    printf '"findings":{"name":"findings","digest":{"sha256":"%s"}}}' "$H_B"
}
forge gate-ok alice gate fraud-detector@1.1.0 "$M11" "$(vsa_pred 3)"
expect_accept "$db" "a crafted gate decision (SLSA VSA) naming an earlier ledger size"
forge gate-root alice gate fraud-detector@1.1.0 "$M11" "$(vsa_pred 3 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=)"
expect_reject "$db" "a gate decision whose ledger.root is not this ledger's root at its size (rule 8)"
forge gate-future alice gate fraud-detector@1.1.0 "$M11" "$(vsa_pred 100000)"
expect_reject "$db" "a gate decision whose ledger.size is more than its seq (rule 8)"
forge gate-time alice gate fraud-detector@1.1.0 "$M11" "$(vsa_pred 3 | sed 's/"timeVerified"/"time"/')"
expect_reject "$db" "a gate decision with time instead of timeVerified"
forge emptystr alice deployment fraud-detector@1.1.0 "$M11" '{"environment":"prod","properties":{"note":""}}'
expect_reject "$db" "properties value \"\" (empty string)"
forge emptyuri alice dataset credit-card/other@1 "$H_A" '{"uri":""}'
expect_reject "$db" "dataset uri \"\" (empty string)"

# integers fit int64, reals are finite doubles
forge i64max alice monitoring fraud-detector@1.1.0 "$M11" \
    '{"environment":"prod","metrics":{"max":9223372036854775807,"min":-9223372036854775808}}'
expect_accept "$db" "metrics at the int64 limits"
forge i64over alice monitoring fraud-detector@1.1.0 "$M11" '{"environment":"prod","metrics":{"n":9223372036854775808}}'
expect_reject "$db" "metric 9223372036854775808 (beyond int64)"
forge i64under alice monitoring fraud-detector@1.1.0 "$M11" '{"environment":"prod","metrics":{"n":-9223372036854775809}}'
expect_reject "$db" "metric -9223372036854775809 (beyond int64)"
forge dblmax alice monitoring fraud-detector@1.1.0 "$M11" \
    '{"environment":"prod","metrics":{"max":1.7976931348623157e308,"tiny":5e-324,"e":1E5}}'
expect_accept "$db" "reals at the double limits"
forge dblover alice monitoring fraud-detector@1.1.0 "$M11" '{"environment":"prod","metrics":{"n":1e309}}'
expect_reject "$db" "metric 1e309 (not a finite double)"

# metrics and properties are scalars everywhere
forge nonscalar alice model fraud-detector@2.0.0 "$H_A" '{"metrics":{"auc":[0.9]}}'
expect_reject "$db" "model metrics value is a list"
forge nullscalar alice model fraud-detector@2.0.0 "$H_A" '{"properties":{"owner":null}}'
expect_reject "$db" "model properties value is null"

# only the predicate's comment/reason/description may hold \n and \t
forge longtext alice incident fraud-detector@1.1.0 "$M11" '{"severity":"low","description":"line 1\n\tline 2"}'
expect_accept "$db" "incident description holding \\n and \\t"
forge proptext alice deployment fraud-detector@1.1.0 "$M11" \
    '{"environment":"prod","properties":{"description":"line 1\nline 2"}}'
expect_reject "$db" "a properties member named description holding \\n"

# real calendar dates
forge leapsec alice deployment fraud-detector@1.1.0 "$M11" '{"environment":"prod","time":"2026-06-30T23:59:60Z"}'
expect_reject "$db" "time with a leap second (23:59:60)"
forge feb30 bob waiver fraud-detector@1.1.0 "$M11" '{"rule":"r1","expires":"2027-02-30","reason":"x"}'
expect_reject "$db" "waiver expiring on 30 February"
forge feb29 bob waiver fraud-detector@1.1.0 "$M11" '{"rule":"r1","expires":"2096-02-29","reason":"x"}'
expect_accept "$db" "waiver expiring on 29 February of a leap year"

# --- §2/§6 directory artifacts ---------------------------------------------

# §6's coreutils pipeline gives the recorded digests of the two folders
bad=""
for pair in "model-1.0.0 fraud-detector@1.0.0" "data/holdout credit-card/holdout@1"; do
    dir=${pair%% *}
    ref=${pair#* }
    want=$(sql "$L" "SELECT lower(hex(digest)) FROM subjects WHERE ref = '$ref';")
    got=$(cd "$T/$dir" && find -L . -type f | sed 's|^\./||' | LC_ALL=C sort |
        xargs -d '\n' sha256sum -- | sha256sum | cut -c1-64)
    [ "$got" = "$want" ] || bad="$bad $ref"
done
if [ -z "$bad" ]; then
    ok "§6 coreutils manifest pipeline gives the recorded digest of both folders"
else
    notok "§6 coreutils manifest pipeline disagrees for:$bad"
fi

# the CLI-recorded folder model, its files list edited and re-signed by alice
MODEL10=$(seq_of "kind = 'model' AND version = '1.0.0'")
HOLDOUT=$(seq_of "kind = 'dataset' AND version = '1'")
CFG=$(sha256sum "$T/model-1.0.0/config.json" | cut -c1-64)
CFG_SIZE=$(wc -c <"$T/model-1.0.0/config.json" | tr -d ' ')
W_SIZE=$(wc -c <"$T/model-1.0.0/weights/layer0.bin" | tr -d ' ')
TOTAL=$((CFG_SIZE + W_SIZE))
A_CSV=$(sha256sum "$T/data/holdout/a.csv" | cut -c1-64)

db=$(fresh dir-resign)
"$PY" "$TAMPER" resign "$db" "$MODEL10" "\"sha256\":\"$CFG\"" "\"sha256\":\"$CFG\"" "$K/alice.key"
expect_accept "$db" "model $MODEL10 re-signed by alice unchanged (control for the re-signing tool)"

db=$(fresh dir-sha)
"$PY" "$TAMPER" resign "$db" "$MODEL10" "\"sha256\":\"$CFG\"" "\"sha256\":\"$H_A\"" "$K/alice.key"
expect_reject "$db" "model $MODEL10 files list: config.json sha256 changed, re-signed by alice"
db=$(fresh dir-path)
"$PY" "$TAMPER" resign "$db" "$MODEL10" '"path":"config.json"' '"path":"config.yaml"' "$K/alice.key"
expect_reject "$db" "model $MODEL10 files list: config.json renamed config.yaml, re-signed by alice"
db=$(fresh dir-total)
"$PY" "$TAMPER" resign "$db" "$MODEL10" "\"size\":$TOTAL," "\"size\":$((TOTAL + 1))," "$K/alice.key"
expect_reject "$db" "model $MODEL10 artifact size no longer the sum of the files' sizes, re-signed by alice"
db=$(fresh dir-drop)
"$PY" "$TAMPER" resign "$db" "$MODEL10" "{\"path\":\"config.json\",\"sha256\":\"$CFG\",\"size\":$CFG_SIZE}," "" "$K/alice.key"
"$PY" "$TAMPER" resign "$db" "$MODEL10" "\"size\":$TOTAL," "\"size\":$W_SIZE," "$K/alice.key"
expect_reject "$db" "model $MODEL10 files list: config.json dropped (size adjusted), re-signed by alice"
db=$(fresh dir-holdout)
"$PY" "$TAMPER" resign "$db" "$HOLDOUT" "\"sha256\":\"$A_CSV\"" "\"sha256\":\"$H_B\"" "$K/alice.key"
expect_reject "$db" "dataset $HOLDOUT files list: a.csv sha256 changed, re-signed by alice"
# file sizes are not part of the §6 manifest: a consistent change of them is
# not detectable (the list is signed, but only paths and digests are bound)
db=$(fresh dir-sizes)
"$PY" "$TAMPER" resign "$db" "$MODEL10" "\"sha256\":\"$CFG\",\"size\":$CFG_SIZE}" \
    "\"sha256\":\"$CFG\",\"size\":$((CFG_SIZE + 5))}" "$K/alice.key"
"$PY" "$TAMPER" resign "$db" "$MODEL10" "\"size\":$TOTAL," "\"size\":$((TOTAL + 5)),"  "$K/alice.key"
expect_accept "$db" "model $MODEL10 file and total sizes changed consistently, re-signed (sizes are outside the manifest)"

# new folder models made by tamper.py, subject digest = SHA-256 of the manifest
# of the list as given, so that only the rule under test is broken
fl() { printf '{"path":"%s","sha256":"%s","size":%s}' "$1" "$2" "$3"; }
dirart() { printf '{"artifact":{"type":"directory","size":%s,"files":[%s]}}' "$1" "$2"; }
forge dir-ok alice model crafted/folder@1 manifest "$(dirart 3 "$(fl a.bin "$H_A" 1),$(fl sub/b.bin "$H_B" 2)")"
expect_accept "$db" "crafted folder model, digest = SHA-256 of its manifest (control)"
forge dir-ds alice dataset crafted/data@1 manifest "$(dirart 3 "$(fl a.bin "$H_A" 1),$(fl sub/b.bin "$H_B" 2)")"
expect_accept "$db" "crafted folder dataset, digest = SHA-256 of its manifest (control)"
forge dir-digest alice model crafted/folder@1 "$H_A" "$(dirart 3 "$(fl a.bin "$H_A" 1),$(fl sub/b.bin "$H_B" 2)")"
expect_reject "$db" "crafted folder model whose digest is not that of its manifest"
forge dir-dsdigest alice dataset crafted/data@1 "$H_A" "$(dirart 3 "$(fl a.bin "$H_A" 1),$(fl sub/b.bin "$H_B" 2)")"
expect_reject "$db" "crafted folder dataset whose digest is not that of its manifest"
forge dir-empty alice model crafted/folder@1 manifest "$(dirart 0 "")"
expect_reject "$db" "crafted folder model with an empty files list"
forge dir-nofiles alice model crafted/folder@1 "$H_A" '{"artifact":{"type":"directory","size":0}}'
expect_reject "$db" "crafted folder model without files"
forge dir-unsorted alice model crafted/folder@1 manifest "$(dirart 3 "$(fl sub/b.bin "$H_B" 2),$(fl a.bin "$H_A" 1)")"
expect_reject "$db" "crafted folder model, paths not sorted"
forge dir-dup alice model crafted/folder@1 manifest "$(dirart 2 "$(fl a.bin "$H_A" 1),$(fl a.bin "$H_B" 1)")"
expect_reject "$db" "crafted folder model, a path listed twice"
forge dir-bytewise alice model crafted/folder@1 manifest "$(dirart 2 "$(fl a.bin "$H_A" 1),$(fl B.bin "$H_B" 1)")"
expect_reject "$db" "crafted folder model, paths sorted case-insensitively, not bytewise"
for p in /a.bin ../a.bin ./a.bin sub/../a.bin sub/./a.bin sub//a.bin sub/ . '..' 'sub\\a.bin'; do
    forge dir-path alice model crafted/folder@1 manifest "$(dirart 1 "$(fl "$p" "$H_A" 1)")"
    expect_reject "$db" "crafted folder model with path '$p'"
done
forge dir-file alice model crafted/file@1 "$H_A" \
    "{\"artifact\":{\"type\":\"file\",\"size\":1,\"files\":[$(fl a.bin "$H_A" 1)]}}"
expect_reject "$db" "crafted file artifact with a files list"

# --- §7 database -------------------------------------------------------------

db=$(fresh reorder)
sql "$db" "$DROP_TRIGGERS
DROP INDEX entry_index_subject;
$(printf '%s\n' "$CREATE_TRIGGERS" | tail -n 2)
CREATE INDEX entry_index_subject ON entry_index (name, version);
$(printf '%s\n' "$CREATE_TRIGGERS" | head -n 6)"
expect_accept "$db" "schema objects re-created in another order (the schema is a set)"
db=$(fresh schema-ws)
sql "$db" "DROP INDEX entry_index_subject;
CREATE INDEX entry_index_subject ON entry_index (name,version);"
expect_reject "$db" "index re-created with other white space in its SQL"
db=$(fresh schema-extra)
sql "$db" "CREATE INDEX entries_by_time ON entries (appended_us);"
expect_reject "$db" "an extra index"
db=$(fresh meta4)
sql "$db" "INSERT INTO meta VALUES ('note', 'x');"
expect_reject "$db" "a fourth meta row"
db=$(fresh meta2)
sql "$db" "DELETE FROM meta WHERE key = 'format';"
expect_reject "$db" "meta row format deleted"

# --- §1/§7 origin --------------------------------------------------------------

O128=$(printf '%0117d' 0 | tr 0 o)host:8443/x    # 128 bytes
"$M" key new genadmin --dir "$K" >/dev/null 2>&1
rm -f "$T/o.db" "$T/o.db-wal" "$T/o.db-shm" "$T/o.db.log.key"
expect_exit 0 "mlledger init --origin of 128 bytes holding ':' and '/'" \
    "$M" --ledger "$T/o.db" init --key "$K/genadmin.key" --origin "$O128"
expect_accept "$T/o.db" "ledger with a 128-byte origin holding ':'"
for o in "${O128}x" "bad origin" "a@b" "a+b"; do
    rm -f "$T/o2.db" "$T/o2.db-wal" "$T/o2.db-shm" "$T/o2.db.log.key"
    expect_exit 2 "mlledger init --origin '$(printf '%s' "$o" | cut -c1-20)' ($(printf '%s' "$o" | wc -c | tr -d ' ') bytes) refused" \
        "$M" --ledger "$T/o2.db" init --key "$K/genadmin.key" --origin "$o"
done
rm -f "$T/g.db" "$T/g.db-wal" "$T/g.db-shm" "$T/g.db.log.key"
"$M" --ledger "$T/g.db" init --key "$K/genadmin.key" --origin genesis.example >/dev/null 2>&1
sql "$T/g.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
for o in "forged.example:1/ledger" "${O128}x" "bad origin" "a@b"; do
    rm -f "$T/gf.db" "$T/gf.db-wal" "$T/gf.db-shm"
    cp "$T/g.db" "$T/gf.db"
    "$PY" "$TAMPER" regenesis "$T/gf.db" "$K/genadmin.key" "$o"
    if [ "$o" = "forged.example:1/ledger" ]; then
        expect_accept "$T/gf.db" "forged genesis for origin '$o' (control for the forging tool)"
    else
        expect_reject "$T/gf.db" "forged genesis for origin '$(printf '%s' "$o" | cut -c1-20)' ($(printf '%s' "$o" | wc -c | tr -d ' ') bytes)"
    fi
done

# --- §2/§3 size limits: statement at most 512 KiB, envelope at most 1 MiB ----

# pad FILE N: FILE (a JSON object, trailing newline dropped) padded with white
# space before its final '}' to exactly N bytes
pad() {
    "$PY" -c 'import sys; b = open(sys.argv[1], "rb").read().rstrip(b"\n"); n = int(sys.argv[2])
sys.stdout.buffer.write(b[:-1] + b" " * (n - len(b)) + b"}")' "$1" "$2"
}
"$PY" "$TAMPER" stmt deployment fraud-detector@1.1.0 "$M11" '{"environment":"staging"}' >"$T/small.stmt"
for n in 524288 524289; do
    db=$(fresh "stmt$n")
    pad "$T/small.stmt" "$n" | "$PY" "$TAMPER" sign "$K/alice.key" "$T/stmt$n.env"
    if [ "$n" -eq 524288 ]; then
        expect_exit 0 "mlledger submit: statement of exactly 512 KiB" "$M" --ledger "$db" submit "$T/stmt$n.env"
        expect_accept "$db" "statement of exactly 512 KiB"
    else
        expect_exit 2 "mlledger submit: statement of 512 KiB + 1 byte refused" "$M" --ledger "$db" submit "$T/stmt$n.env"
        "$PY" "$TAMPER" append "$db" "$T/stmt$n.env"
        expect_reject "$db" "statement of 512 KiB + 1 byte"
    fi
done
"$M" sign --origin "$TAMPER_ORIGIN" deployment fraud-detector@1.1.0 --env staging --digest "sha256:$M11" \
    --key "$K/alice.key" --out "$T/small.json" >/dev/null 2>&1
for n in 1048576 1048577; do
    db=$(fresh "env$n")
    pad "$T/small.json" "$n" >"$T/env$n.json"
    if [ "$n" -eq 1048576 ]; then
        expect_exit 0 "mlledger submit: envelope of exactly 1 MiB" "$M" --ledger "$db" submit "$T/env$n.json"
        expect_accept "$db" "envelope of exactly 1 MiB"
    else
        expect_exit 2 "mlledger submit: envelope of 1 MiB + 1 byte refused" "$M" --ledger "$db" submit "$T/env$n.json"
        "$PY" "$TAMPER" append "$db" "$T/env$n.json"
        expect_reject "$db" "envelope of 1 MiB + 1 byte"
    fi
done

# ---------------------------------------------------------------------------
# 5. FORMAT.md §7/§8: the tree and checkpoints tables.  A forger who holds
#    the log key ($DB.log.key, which tamper.py then uses) rebuilds the tree
#    and re-signs the checkpoints; one who does not is caught by them.

DROP_TLOG='DROP TRIGGER tree_append_only_u;
DROP TRIGGER tree_append_only_d;
DROP TRIGGER checkpoints_append_only_u;
DROP TRIGGER checkpoints_append_only_d;'
CREATE_TLOG="CREATE TRIGGER tree_append_only_u BEFORE UPDATE ON tree
BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END;
CREATE TRIGGER tree_append_only_d BEFORE DELETE ON tree
BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END;
CREATE TRIGGER checkpoints_append_only_u BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_append_only_d BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;"
# tlog_sql DB SQL: SQL with the tree/checkpoints triggers dropped, then re-made
tlog_sql() { sql "$1" "$DROP_TLOG
$2
$CREATE_TLOG"; }

TODO=0
# expect_reject_todo DB DESC WHY: a known disagreement: verify_ledger.py
# rejects (FORMAT.md §7: "any change to any byte of any column of any row
# makes verify fail"), mlledger verify accepts.  Printed as a TAP TODO (not
# counted as a failure) while it lasts; counted as a pass once both reject.
# No case uses it at present: kept for the next known disagreement.
expect_reject_todo() {
    "$PY" "$VERIFY" "$1" >"$T/py.out" 2>&1
    prc=$?
    "$M" --ledger "$1" verify >"$T/ml.out" 2>&1
    mrc=$?
    if [ "$prc" -eq 1 ] && [ "$mrc" -eq 4 ]; then
        ok "$2: both reject (the known disagreement is fixed: drop expect_reject_todo)"
    elif [ "$prc" -eq 1 ] && [ "$mrc" -eq 0 ]; then
        TODO=$((TODO + 1))
        printf 'not ok - %s: verify_ledger.py rejects, mlledger verify accepts # TODO %s\n' "$2" "$3"
        printf '#   verify_ledger.py: %s\n' "$(head -n 1 "$T/py.out")"
    else
        notok "$2: verify_ledger.py exit $prc, mlledger verify exit $mrc (want 1 and 4)"
        indent "$T/py.out"
        indent "$T/ml.out"
    fi
}

# expect_outside accept|reject DB CHECKPOINT DESC: both verifiers, given a
# checkpoint held outside the ledger (verify --checkpoint)
expect_outside() {
    "$PY" "$VERIFY" "$2" --checkpoint "$3" >"$T/py.out" 2>&1
    prc=$?
    "$M" --ledger "$2" verify --checkpoint "$3" >"$T/ml.out" 2>&1
    mrc=$?
    if [ "$1" = accept ]; then wp=0; wm=0; else wp=1; wm=4; fi
    if [ "$prc" -eq "$wp" ] && [ "$mrc" -eq "$wm" ]; then
        ok "$4: both ${1}"
        if [ "$1" = reject ]; then
            printf '#   verify_ledger.py: %s\n' "$(head -n 1 "$T/py.out")"
            printf '#   mlledger verify:  %s\n' "$(grep -v '^ok' "$T/ml.out" | head -n 1)"
        fi
    else
        notok "$4: verify_ledger.py exit $prc, mlledger verify exit $mrc (want $wp and $wm)"
        indent "$T/py.out"
        indent "$T/ml.out"
    fi
}

NODES=$(sql "$L" 'SELECT count(*) FROM tree;')
CPS=$(sql "$L" 'SELECT count(*) FROM checkpoints;')
POP=$("$PY" -c "import sys; print(bin(int(sys.argv[1])).count('1'))" "$N")
if [ "$NODES" -eq $((N - POP)) ] && [ "$CPS" -eq "$N" ]; then
    ok "tree holds the n - popcount(n) = $NODES complete subtrees of level >= 1; $CPS checkpoints for $N appends"
else
    notok "tree holds $NODES nodes (want $((N - POP))), checkpoints $CPS (want $N)"
fi
TOPLEVEL=$("$PY" -c "import sys; print(int(sys.argv[1]).bit_length())" "$N")   # a level above the root

db=$(fresh tree-flip)
tlog_sql "$db" "UPDATE tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 3;"
expect_reject "$db" "tree node (level 1, index 3) zeroed"
db=$(fresh tree-del)
tlog_sql "$db" "DELETE FROM tree WHERE level = $((TOPLEVEL - 1));"
expect_reject "$db" "tree node of level $((TOPLEVEL - 1)) (the largest complete subtree) deleted"
db=$(fresh tree-leaf)
tlog_sql "$db" "INSERT INTO tree SELECT 0, seq, leaf_hash FROM entries WHERE seq = 0;"
expect_reject "$db" "tree row of level 0 (leaf 0's own hash) added"
db=$(fresh tree-future)
tlog_sql "$db" "INSERT INTO tree SELECT $TOPLEVEL, 0, leaf_hash FROM entries WHERE seq = 0;"
expect_reject "$db" "tree node of level $TOPLEVEL (a subtree not yet complete) added"

db=$(fresh cp-newest)
tlog_sql "$db" "DELETE FROM checkpoints WHERE size = $N;"
expect_reject "$db" "newest checkpoint (size $N) deleted"
db=$(fresh cp-middle)
tlog_sql "$db" "DELETE FROM checkpoints WHERE size = $MID;"
expect_accept "$db" "checkpoint of size $MID deleted (an import batch leaves such gaps)"
db=$(fresh cp-other)
"$PY" "$TAMPER" checkpoint "$db" "$N" other >"$T/cp-other.note"
"$PY" "$TAMPER" set-checkpoint "$db" "$N" "$T/cp-other.note"
expect_reject "$db" "checkpoint of size $N signed by another key named by the origin"
db=$(fresh cp-forged-hash)
"$PY" "$TAMPER" checkpoint "$db" "$N" forged-hash >"$T/cp-forged-hash.note"
"$PY" "$TAMPER" set-checkpoint "$db" "$N" "$T/cp-forged-hash.note"
expect_reject "$db" "checkpoint of size $N signed by another key, claiming the log key's key hash"
db=$(fresh cp-size)
"$PY" "$TAMPER" checkpoint "$db" $((N - 1)) >"$T/cp-size.note"
"$PY" "$TAMPER" set-checkpoint "$db" "$N" "$T/cp-size.note"
expect_reject "$db" "checkpoint row of size $N holding the log's checkpoint of size $((N - 1))"
db=$(fresh cp-zero)
"$PY" "$TAMPER" checkpoint "$db" 0 >"$T/cp-zero.note"
"$PY" "$TAMPER" set-checkpoint "$db" 0 "$T/cp-zero.note"
expect_reject "$db" "checkpoint of size 0 (the empty tree) signed by the log key added"
db=$(fresh cp-dash)
tlog_sql "$db" "UPDATE checkpoints SET note = replace(note, '— ', '-- ') WHERE size = $N;"
expect_reject "$db" "checkpoint of size $N: '-- ' for the em dash of its signature line"
# the log's own checkpoint of size N over another tree (a rewritten copy)
db=$(fresh cp-otherroot)
"$PY" "$TAMPER" edit-payload "$db" "$APPROVAL" '"decision":"approve"' '"decision":"reject"'
"$PY" "$TAMPER" checkpoint "$db" "$N" >"$T/cp-otherroot.note"
db=$(fresh cp-otherroot2)
"$PY" "$TAMPER" set-checkpoint "$db" "$N" "$T/cp-otherroot.note"
expect_reject "$db" "checkpoint of size $N signed by the log key over another tree's root"
# the log's own checkpoint of a size beyond the ledger
"$M" sign --origin "$TAMPER_ORIGIN" deployment fraud-detector@1.1.0 --env dev --digest "sha256:$M11" \
    --key "$K/alice.key" --out "$T/canary.json" >/dev/null 2>&1
db=$(fresh cp-beyond)
"$PY" "$TAMPER" append "$db" "$T/canary.json"
"$PY" "$TAMPER" checkpoint "$db" $((N + 1)) >"$T/cp-beyond.note"
db=$(fresh cp-beyond2)
"$PY" "$TAMPER" set-checkpoint "$db" $((N + 1)) "$T/cp-beyond.note"
expect_reject "$db" "checkpoint of size $((N + 1)) (beyond the ledger) signed by the log key added"

# bytes added to a stored checkpoint (once known disagreements: mlledger now
# rejects them as verify_ledger.py does, §7 "any change to any byte")
"$M" --ledger "$L" log-key >"$T/log.pub"
"$M" --ledger "$L" checkpoint >"$T/cpN.note"
"$M" key new witness1 --dir "$K" >/dev/null 2>&1
"$M" key new witness2 --dir "$K" >/dev/null 2>&1
"$M" witness-key --key "$K/witness1.key" >"$T/witness1.wpub"
"$M" witness-key --key "$K/witness2.key" >"$T/witness2.wpub"
"$M" cosign --key "$K/witness1.key" --log-key "$T/log.pub" --state "$T/witness1.state" --init "$T/cpN.note" >"$T/cpN.cosigned" 2>"$T/cosign.err"
db=$(fresh cp-cosigned)
"$PY" "$TAMPER" set-checkpoint "$db" "$N" "$T/cpN.cosigned"
expect_reject "$db" "stored checkpoint of size $N given a witness cosignature line (mlledger cosign)"
db=$(fresh cp-dup)
{ cat "$T/cpN.note"; tail -n 1 "$T/cpN.note"; } >"$T/cp-dup.note"
"$PY" "$TAMPER" set-checkpoint "$db" "$N" "$T/cp-dup.note"
expect_reject "$db" "stored checkpoint of size $N with its log signature line twice"
db=$(fresh cp-ext)
{ head -n 3 "$T/cpN.note"; echo "extension line"; } >"$T/cp-ext.text"
"$PY" "$TAMPER" sign-note "$db.log.key" "$T/cp-ext.text" >"$T/cp-ext.note"
"$PY" "$TAMPER" set-checkpoint "$db" "$N" "$T/cp-ext.note"
expect_reject "$db" "stored checkpoint of size $N with a 4th (extension) line, signed by the log key"

# forgers: a valid rewrite (the deployment's replicas 3 -> 4, re-signed by
# its author alice) and a valid append, with and without the log key
db=$(fresh rewrite-key)
"$PY" "$TAMPER" resign "$db" "$DEPLOY" '"replicas":3' '"replicas":4' "$K/alice.key"
expect_accept "$db" "entry $DEPLOY rewritten and re-signed by its author, by a forger holding the log key (undetectable from the file alone)"
expect_outside reject "$db" "$T/cpN.note" "that rewrite, checked against the checkpoint of size $N held outside"
db=$(fresh_nokey rewrite-nokey)
"$PY" "$TAMPER" resign "$db" "$DEPLOY" '"replicas":3' '"replicas":4' "$K/alice.key"
expect_reject "$db" "the same rewrite (chain and tree rebuilt) by a forger without the log key"
db=$(fresh append-key)
"$PY" "$TAMPER" append "$db" "$T/canary.json"
expect_accept "$db" "a valid deployment appended by a forger holding the log key (control for the forging tool)"
expect_outside accept "$db" "$T/cpN.note" "that append, checked against the checkpoint of size $N held outside (a prefix)"
db=$(fresh_nokey append-nokey)
"$PY" "$TAMPER" append "$db" "$T/canary.json"
expect_reject "$db" "the same append by a forger without the log key (no checkpoint of the new size)"
db=$(fresh truncate-key)
"$PY" "$TAMPER" truncate "$db" "$LAST"
expect_accept "$db" "last entry (dave's revocation) cut off with projections, tree and checkpoints, log key held"
expect_outside reject "$db" "$T/cpN.note" "that truncation, checked against the checkpoint of size $N held outside"
expect_outside accept "$L" "$T/cpN.note" "the ledger against its own latest checkpoint"
if [ -s "$T/cpN.cosigned" ]; then
    expect_outside accept "$L" "$T/cpN.cosigned" "the ledger against its latest checkpoint cosigned by a witness"
else
    notok "mlledger cosign wrote nothing"
    indent "$T/cosign.err"
fi

# one import: one transaction, one checkpoint for all its entries
db=$(fresh import)
printf '%s\n' '{"kind":"monitoring","subject":"fraud-detector@1.1.0","environment":"prod","metrics":{"drift":0.01}}' \
    '{"kind":"monitoring","subject":"fraud-detector@1.1.0","environment":"prod","metrics":{"drift":0.02}}' \
    '{"kind":"monitoring","subject":"fraud-detector@1.1.0","environment":"prod","metrics":{"drift":0.03}}' >"$T/import.jsonl"
expect_exit 0 "mlledger import of 3 statements" "$M" --ledger "$db" import "$T/import.jsonl" --key "$K/alice.key"
if [ "$(sql "$db" "SELECT group_concat(size) FROM checkpoints WHERE size > $N;")" = "$((N + 3))" ]; then
    ok "the import stored one checkpoint, of size $((N + 3)), and none between"
else
    notok "the import stored checkpoints of sizes $(sql "$db" "SELECT group_concat(size) FROM checkpoints WHERE size > $N;")"
fi
expect_accept "$db" "ledger after an import (checkpoint sizes $N, $((N + 3)))"

# a larger tree: genesis, an engineer's enrolment (admin carol may not sign
# datasets: §5 rule 9) and one import of 999 datasets (checkpoints 1, 2, 1001)
BIG="$T/big.db"
"$PY" -c 'import hashlib
for i in range(999):
    print("{\"kind\":\"dataset\",\"subject\":\"bulk/d@%d\",\"digest\":\"sha256:%s\"}"
          % (i, hashlib.sha256(b"%d" % i).hexdigest()))' >"$T/big.jsonl"
if "$M" --ledger "$BIG" init --key "$K/carol.key" --origin big.example/log >"$T/cli.out" 2>&1 &&
    "$M" --ledger "$BIG" key enroll "$K/alice.pub" --holder-key "$K/alice.key" --role engineer --key "$K/carol.key" >>"$T/cli.out" 2>&1 &&
    "$M" --ledger "$BIG" import "$T/big.jsonl" --key "$K/alice.key" >>"$T/cli.out" 2>&1 &&
    [ "$(sql "$BIG" 'SELECT group_concat(size) FROM checkpoints;')" = "1,2,1001" ]; then
    ok "a 1001-entry ledger made by init, one enrolment and one import of 999 (checkpoints of sizes 1, 2 and 1001)"
else
    notok "cannot make a 1001-entry ledger with one import"
    indent "$T/cli.out"
fi
expect_accept "$BIG" "the 1001-entry ledger"
db="$T/big-flip.db"
rm -f "$db" "$db-wal" "$db-shm"
cp "$BIG" "$db"
tlog_sql "$db" "UPDATE tree SET hash = zeroblob(32) WHERE level = 7 AND idx = 3;"
expect_reject "$db" "the 1001-entry ledger with tree node (level 7, index 3) zeroed"

# ---------------------------------------------------------------------------
# 6. FORMAT.md §8 proofs: tlog-proof bundles (`prove`), consistency proofs
#    (`prove --consistency`), witness cosignatures, checked by
#    verify_ledger.py (RFC 9162 §2.1.3.2 / §2.1.4.2) and `mlledger verify-proof`

if [ "$(cat "$T/log.pub")" = "$(sql "$L" "SELECT value FROM meta WHERE key = 'log_key';")" ]; then
    ok "mlledger log-key prints meta log_key"
else
    notok "mlledger log-key is not meta log_key"
fi

# inclusion proofs: first, middle and last entries in trees of size 1, 16 (a
# power of two), 13 and N (not)
# power of two), 13 and N (not); in the 1001-entry ledger too ("big:")
"$M" --ledger "$BIG" log-key >"$T/big.pub"
INCL="0:1 0:16 7:16 15:16 12:13 0:$N $MID:$N $LAST:$N big:0:1001 big:513:1001 big:1000:1001"
for c in $INCL; do
    lg=$L
    pub=$T/log.pub
    case $c in big:*) lg=$BIG; pub=$T/big.pub; c=${c#big:} ;; esac
    s=${c%%:*}
    z=${c#*:}
    "$M" --ledger "$lg" prove "$s" --size "$z" >"$T/incl-$s-$z.proof" 2>"$T/cli.out" || indent "$T/cli.out"
    [ -f "$T/leaf-$s-$z" ] || "$M" --ledger "$lg" show "$s" --format raw >"$T/leaf-$s-$z"
    "$PY" "$VERIFY" --inclusion "$pub" "$T/incl-$s-$z.proof" "$T/leaf-$s-$z" >"$T/py.out" 2>&1
    prc=$?
    "$M" verify-proof --log-key "$pub" "$T/incl-$s-$z.proof" "$T/leaf-$s-$z" >"$T/ml.out" 2>&1
    mrc=$?
    if [ "$prc" -eq 0 ] && [ "$mrc" -eq 0 ]; then
        ok "inclusion of entry $s in the tree of size $z of $(head -n 1 "$pub" | cut -d+ -f1) ($(($(wc -l <"$T/incl-$s-$z.proof") - 8)) hashes): both accept"
    else
        notok "inclusion of entry $s in the tree of size $z: verify_ledger.py exit $prc, mlledger verify-proof exit $mrc"
        indent "$T/py.out"
        indent "$T/ml.out"
    fi
done

# expect_bad_proof BUNDLE LEAF DESC: both reject a mangled bundle
expect_bad_proof() {
    "$PY" "$VERIFY" --inclusion "$T/log.pub" "$1" "$2" >"$T/py.out" 2>&1
    prc=$?
    "$M" verify-proof --log-key "$T/log.pub" "$1" "$2" >"$T/ml.out" 2>&1
    mrc=$?
    if [ "$prc" -eq 1 ] && [ "$mrc" -ne 0 ]; then
        ok "$3: both reject"
        printf '#   verify_ledger.py: %s\n' "$(head -n 1 "$T/py.out")"
        printf '#   mlledger verify-proof (exit %d): %s\n' "$mrc" "$(head -n 1 "$T/ml.out")"
    else
        notok "$3: verify_ledger.py exit $prc, mlledger verify-proof exit $mrc (want 1 and non-zero)"
        indent "$T/py.out"
        indent "$T/ml.out"
    fi
}
B="$T/incl-$MID-$N.proof"
"$PY" "$TAMPER" bundle flip-hash "$B" "$T/bad-flip.proof"
expect_bad_proof "$T/bad-flip.proof" "$T/leaf-$MID-$N" "bundle of entry $MID with one bit of its first proof hash flipped"
"$PY" "$TAMPER" bundle drop-hash "$B" "$T/bad-drop.proof"
expect_bad_proof "$T/bad-drop.proof" "$T/leaf-$MID-$N" "bundle of entry $MID without its last proof hash"
"$M" --ledger "$L" show $((MID + 1)) --format raw >"$T/leaf-next"
expect_bad_proof "$B" "$T/leaf-next" "bundle of entry $MID given the leaf of entry $((MID + 1))"
"$PY" "$TAMPER" bundle index "$B" "$T/bad-index.proof" $((MID + 1))
expect_bad_proof "$T/bad-index.proof" "$T/leaf-next" "bundle of entry $MID relabelled index $((MID + 1)), with that entry's leaf"
"$PY" "$TAMPER" checkpoint "$(fresh bundle-other)" "$N" other >"$T/cpN-other.note"
"$PY" "$TAMPER" bundle note "$B" "$T/bad-other.proof" "$T/cpN-other.note"
expect_bad_proof "$T/bad-other.proof" "$T/leaf-$MID-$N" "bundle whose checkpoint is signed by another key named by the origin"
"$M" --ledger "$L" checkpoint --size $((N - 1)) >"$T/cpN1.note"
"$PY" "$TAMPER" bundle note "$B" "$T/bad-size.proof" "$T/cpN1.note"
expect_bad_proof "$T/bad-size.proof" "$T/leaf-$MID-$N" "bundle for size $N carrying the log's checkpoint of size $((N - 1))"

# consistency proofs between two of the log's checkpoints
CONS="1:2 1:$N 5:16 7:$N 12:13 16:$N $((N - 1)):$N $N:$N"
for c in $CONS; do
    o=${c%%:*}
    z=${c#*:}
    "$M" --ledger "$L" checkpoint --size "$o" >"$T/cp-$o.note"
    "$M" --ledger "$L" checkpoint --size "$z" >"$T/cp-$z.note"
    "$M" --ledger "$L" prove --consistency "$o" --size "$z" >"$T/cons-$o-$z.proof" 2>"$T/cli.out" || indent "$T/cli.out"
    if "$PY" "$VERIFY" --consistency "$T/log.pub" "$T/cp-$o.note" "$T/cp-$z.note" "$T/cons-$o-$z.proof" >"$T/py.out" 2>&1; then
        ok "verify_ledger.py: consistency from size $o to size $z ($(wc -l <"$T/cons-$o-$z.proof") hashes)"
    else
        notok "verify_ledger.py: consistency from size $o to size $z"
        indent "$T/py.out"
    fi
done
# expect_bad_cons OLD NEW PROOF DESC
expect_bad_cons() {
    if "$PY" "$VERIFY" --consistency "$T/log.pub" "$1" "$2" "$3" >"$T/py.out" 2>&1; then
        notok "verify_ledger.py accepts $4"
    else
        ok "verify_ledger.py rejects $4"
        printf '#   %s\n' "$(head -n 1 "$T/py.out")"
    fi
}
"$PY" "$TAMPER" bundle flip-line "$T/cons-5-16.proof" "$T/cons-flip.proof"
expect_bad_cons "$T/cp-5.note" "$T/cp-16.note" "$T/cons-flip.proof" "consistency 5 -> 16 with one bit of its first hash flipped"
expect_bad_cons "$T/cp-16.note" "$T/cp-5.note" "$T/cons-5-16.proof" "consistency 5 -> 16 with the checkpoints swapped"
"$M" --ledger "$L" checkpoint --size 6 >"$T/cp-6.note"
expect_bad_cons "$T/cp-6.note" "$T/cp-16.note" "$T/cons-5-16.proof" "the proof 5 -> 16 offered for 6 -> 16"
expect_bad_cons "$T/cp-1.note" "$T/cpN-other.note" "$T/cons-1-$N.proof" "consistency 1 -> $N, new checkpoint signed by another key"
sed '$d' "$T/cons-16-$N.proof" >"$T/cons-short.proof"
expect_bad_cons "$T/cp-16.note" "$T/cp-$N.note" "$T/cons-short.proof" "consistency 16 -> $N without its last hash"

# witness cosignatures (C2SP tlog-cosignature, §8)
if "$PY" "$VERIFY" --cosignature "$T/log.pub" "$T/witness1.wpub" "$T/cpN.cosigned" >"$T/py.out" 2>&1; then
    ok "verify_ledger.py: mlledger cosign's cosignature verifies ($(cat "$T/py.out"))"
else
    notok "verify_ledger.py: mlledger cosign's cosignature does not verify"
    indent "$T/py.out"
fi
if "$PY" "$VERIFY" --cosignature "$T/log.pub" "$T/witness2.wpub" "$T/cpN.cosigned" >"$T/py.out" 2>&1; then
    notok "verify_ledger.py: witness1's cosignature taken for witness2's"
else
    ok "verify_ledger.py: no cosignature by witness2 on a note witness1 cosigned ($(cat "$T/py.out"))"
fi
"$PY" -c 'import sys, base64
lines = open(sys.argv[1], "rb").read().split(b"\n")
name, b64 = lines[-2].rsplit(b" ", 1)
raw = bytearray(base64.b64decode(b64)); raw[5] ^= 1        # the timestamp
lines[-2] = name + b" " + base64.b64encode(bytes(raw))
open(sys.argv[2], "wb").write(b"\n".join(lines))' "$T/cpN.cosigned" "$T/cpN.badcosig"
if "$PY" "$VERIFY" --cosignature "$T/log.pub" "$T/witness1.wpub" "$T/cpN.badcosig" >"$T/py.out" 2>&1; then
    notok "verify_ledger.py: cosignature with its timestamp changed accepted"
else
    ok "verify_ledger.py: cosignature with its timestamp changed refused ($(cat "$T/py.out"))"
fi

# ---------------------------------------------------------------------------
# 7. Go cross-check: golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's
#    golang-golang-x-mod-dev, v0.7.0), GOPATH mode, no network

GOSRC=/usr/share/gocode/src/golang.org/x/mod/sumdb
if ! command -v go >/dev/null 2>&1 || [ ! -f "$GOSRC/note/note.go" ] || [ ! -f "$GOSRC/tlog/tlog.go" ]; then
    echo "SKIP go interop: install golang-go golang-golang-x-mod-dev"
else
    mkdir -p "$T/go/cache" "$T/go/home" "$T/go/tmp"
    G="$T/go/check"
    if env GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$T/go/cache" HOME="$T/go/home" \
        GOTMPDIR="$T/go/tmp" GOPROXY=off GOFLAGS= GOENV=off GOTOOLCHAIN=local CGO_ENABLED=0 \
        go build -o "$G" "$HERE/go/check.go" >"$T/go/build.log" 2>&1; then
        ok "go: built tests/interop/go/check.go with $(go version | cut -d' ' -f3) and x/mod $(dpkg-query -W -f '${Version}' golang-golang-x-mod-dev 2>/dev/null || echo '?')"
    else
        notok "go: cannot build tests/interop/go/check.go"
        indent "$T/go/build.log"
        G=""
    fi
fi
if [ -n "${G:-}" ]; then
    # gok DESC ARGS...: Go must accept; gbad DESC ARGS...: Go must reject
    gok() {
        d=$1
        shift
        if "$G" "$@" >"$T/go.out" 2>&1; then
            ok "go: $d ($(head -n 1 "$T/go.out"))"
        else
            notok "go: $d"
            indent "$T/go.out"
        fi
    }
    gbad() {
        d=$1
        shift
        if "$G" "$@" >"$T/go.out" 2>&1; then
            notok "go accepts $d"
            indent "$T/go.out"
        else
            ok "go rejects $d"
            printf '#   %s\n' "$(head -n 1 "$T/go.out")"
        fi
    }
    "$G" vectors >"$T/go.out" 2>&1
    grc=$?
    while IFS= read -r line; do
        case $line in
            "ok - "*) ok "go: ${line#ok - }" ;;
            "not ok - "*) notok "go: ${line#not ok - }" ;;
        esac
    done <"$T/go.out"
    [ "$grc" -eq 0 ] || { notok "go: vectors exit $grc"; indent "$T/go.out"; }

    # the checkpoint as Go reads it = the root verify_ledger.py recomputes
    want=$("$PY" -B -c 'import sys, sqlite3
sys.path.insert(0, sys.argv[2]); import verify_ledger as V
lv = [h for (h,) in sqlite3.connect(sys.argv[1]).execute("SELECT leaf_hash FROM entries ORDER BY seq")]
print(V.mth(lv).hex())' "$L" "$HERE")
    got=$("$G" checkpoint "$T/log.pub" "$T/cpN.note" 2>&1)
    if [ "$got" = "interop.example/ml/ledger $N $want" ]; then
        ok "go: note.Open verifies the checkpoint of size $N; its origin, size and root are verify_ledger.py's"
    else
        notok "go: checkpoint of size $N read as '$got', want 'interop.example/ml/ledger $N $want'"
    fi
    for c in $INCL; do
        pub=$T/log.pub
        case $c in big:*) pub=$T/big.pub; c=${c#big:} ;; esac
        s=${c%%:*}
        z=${c#*:}
        gok "inclusion of entry $s in the tree of size $z" inclusion "$pub" "$T/incl-$s-$z.proof" "$T/leaf-$s-$z"
    done
    for c in $CONS; do
        o=${c%%:*}
        z=${c#*:}
        gok "consistency from size $o to size $z" consistency "$T/log.pub" "$T/cp-$o.note" "$T/cp-$z.note" "$T/cons-$o-$z.proof"
    done
    # the tree table as tlog's stored hashes, and every checkpoint's root
    "$PY" -c 'import sys, sqlite3
d = sqlite3.connect(sys.argv[1])
for r in d.execute("SELECT 0, seq, hex(leaf_hash) FROM entries UNION ALL SELECT level, idx, hex(hash) FROM tree"):
    print("%d %d %s" % r)' "$L" >"$T/tree.dump"
    s=1
    cps=""
    while [ "$s" -le "$N" ]; do
        "$M" --ledger "$L" checkpoint --size "$s" >"$T/cp-all-$s.note"
        cps="$cps $T/cp-all-$s.note"
        s=$((s + 1))
    done
    # shellcheck disable=SC2086
    gok "the tree table and all $N checkpoints" tree "$T/log.pub" "$T/tree.dump" $cps
    "$PY" -c 'import sys, sqlite3
d = sqlite3.connect(sys.argv[1])
for r in d.execute("SELECT 0, seq, hex(leaf_hash) FROM entries UNION ALL SELECT level, idx, hex(hash) FROM tree"):
    print("%d %d %s" % r)' "$BIG" >"$T/big.dump"
    "$M" --ledger "$BIG" checkpoint --size 1 >"$T/big-1.note"
    "$M" --ledger "$BIG" checkpoint >"$T/big-1001.note"
    "$M" --ledger "$BIG" prove --consistency 1 >"$T/big-cons.proof"
    gok "the 1001-entry ledger's tree table and its checkpoints of sizes 1 and 1001" tree "$T/big.pub" "$T/big.dump" "$T/big-1.note" "$T/big-1001.note"
    gok "the 1001-entry ledger: consistency from size 1 to 1001" consistency "$T/big.pub" "$T/big-1.note" "$T/big-1001.note" "$T/big-cons.proof"

    gbad "a bundle with one bit of a proof hash flipped" inclusion "$T/log.pub" "$T/bad-flip.proof" "$T/leaf-$MID-$N"
    gbad "a bundle without its last proof hash" inclusion "$T/log.pub" "$T/bad-drop.proof" "$T/leaf-$MID-$N"
    gbad "a bundle given the next entry's leaf" inclusion "$T/log.pub" "$B" "$T/leaf-next"
    gbad "a bundle whose checkpoint is signed by another key" inclusion "$T/log.pub" "$T/bad-other.proof" "$T/leaf-$MID-$N"
    gbad "a checkpoint signed by another key named by the origin" checkpoint "$T/log.pub" "$T/cpN-other.note"
    gbad "a checkpoint signed by another key claiming the log key's hash" checkpoint "$T/log.pub" "$T/cp-forged-hash.note"
    gbad "a consistency proof with one bit flipped" consistency "$T/log.pub" "$T/cp-5.note" "$T/cp-16.note" "$T/cons-flip.proof"
    gbad "the proof 5 -> 16 offered for 6 -> 16" consistency "$T/log.pub" "$T/cp-6.note" "$T/cp-16.note" "$T/cons-5-16.proof"
    gbad "a consistency proof without its last hash" consistency "$T/log.pub" "$T/cp-16.note" "$T/cp-$N.note" "$T/cons-short.proof"
    "$PY" -c 'import sys
lines = open(sys.argv[1]).read().split("\n"); lines[1] = "%s %s %s" % (lines[1].split()[0], lines[1].split()[1], "00" * 32)
open(sys.argv[2], "w").write("\n".join(lines))' "$T/tree.dump" "$T/tree-bad.dump"
    gbad "the tree dump with leaf 1's hash zeroed" tree "$T/log.pub" "$T/tree-bad.dump" "$T/cpN.note"
fi

# ---------------------------------------------------------------------------
# 8. governance (FORMAT.md §2 "Kinds", "Persons", "Governance documents",
#    "Clock corrections"; §5 rules 1, 3, 9, 10, 11): ledgers the CLI builds
#    must be accepted by both verifiers; entries mlledger refuses to write are
#    forged with tamper.py (signed by keys we hold, chain, projections, tree
#    and checkpoints rebuilt with the log key) and must be rejected by both.

ORIGIN=interop.example/ml/ledger
# the roles of the default governance (§2), as JSON members
DROLES='"admin":["key-enrollment","key-revocation","governance","clock-correction","policy"],"engineer":["dataset","model","deployment","monitoring","retirement","incident","gate"],"validator":["evaluation","monitoring","incident"],"approver":["approval"],"risk-officer":["waiver","incident","policy"],"auditor":["report"]'
# doc_pred DOC: a governance predicate holding the document text DOC
doc_pred() { "$PY" -c 'import json, sys; print(json.dumps({"document": sys.argv[1]}))' "$1"; }
# expect_refused DESC CMD...: a CLI step must fail (any non-zero exit)
expect_refused() {
    d=$1
    shift
    if "$@" >"$T/cli.out" 2>&1; then
        notok "$d: exit 0 (want a refusal)"
    else
        ok "$d: exit $?"
        [ -s "$T/cli.out" ] && printf '#   %s\n' "$(head -n 1 "$T/cli.out")"
    fi
}

# --- the default document and its schema ---------------------------------------
if "$M" governance show --default >"$T/gov-default.json" 2>/dev/null; then
    if cmp -s "$T/gov-default.json" "$ROOT/ledger/governance.default.json"; then
        ok "mlledger governance show --default is ledger/governance.default.json byte for byte"
    else
        notok "mlledger governance show --default differs from ledger/governance.default.json"
    fi
else
    echo "# SKIP mlledger governance show --default: no such command in this build"
fi
if "$PY" -c 'import jsonschema' 2>/dev/null; then
    if "$PY" - "$ROOT/ledger/governance.schema.json" "$ROOT/ledger/governance.default.json" >"$T/schema.out" 2>&1 <<'PYEOF'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
errs = list(v.iter_errors(json.load(open(sys.argv[2]))))
for e in errs:
    print(e.message)
bad = [{"roles": {"ops": []}}, {"environments": []}, {"metrics": {"auc": {"direction": "up"}}},
       {"properties": {"pii": {"type": "boolean", "values": ["x"]}}}, {"owners": []},
       {"roles": {"admin": ["key-enrollment", "key-revocation"]}}]
for d in bad:
    if not list(v.iter_errors(d)):
        print("schema accepts the invalid document %s" % json.dumps(d))
        errs.append(d)
sys.exit(1 if errs else 0)
PYEOF
    then
        ok "ledger/governance.default.json validates against ledger/governance.schema.json (Draft 2020-12), 6 invalid documents do not"
    else
        notok "ledger/governance.schema.json and the default document disagree"
        indent "$T/schema.out"
    fi
else
    echo "# SKIP JSON Schema validation of ledger/governance.default.json: python3-jsonschema not installed"
fi

# --- rule 9: the signer's roles may sign the kind ------------------------------
db=$(fresh role-approval)
expect_refused "mlledger record approval with engineer alice's key refused" \
    "$M" --ledger "$db" record approval fraud-detector@1.1.0 --env prod --decision approve --key "$K/alice.key"
forge role-approval alice approval fraud-detector@1.1.0 "$M11" '{"environment":"prod","decision":"approve"}'
expect_reject "$db" "approval signed by engineer-only alice (rule 9)"
forge role-eval bob evaluation fraud-detector@1.1.0 "$M11" '{"metrics":{"auc":0.9}}'
expect_reject "$db" "evaluation signed by approver/risk-officer bob (rule 9)"
forge role-waiver alice waiver fraud-detector@1.1.0 "$M11" '{"rule":"r1","expires":"2099-01-01","reason":"x"}'
expect_reject "$db" "waiver signed by engineer alice (rule 9)"
forge role-ok alice incident fraud-detector@1.1.0 "$M11" '{"severity":"low","description":"x"}'
expect_accept "$db" "incident signed by engineer alice (control)"

# --- rule 9: enrolments name declared roles --------------------------------------
"$M" key new jane --dir "$K" >/dev/null 2>&1
db=$(fresh role-typo)
expect_refused "mlledger key enroll --role aprover (undeclared) refused" \
    "$M" --ledger "$db" key enroll "$K/jane.pub" --holder-key "$K/jane.key" --role aprover --key "$K/carol.key"
forge_enrol role-typo "$K/jane.pub" aprover
expect_reject "$db" "enrolment with the undeclared role aprover (rule 9)"
forge_enrol role-declared "$K/jane.pub" auditor
expect_accept "$db" "enrolment with the declared role auditor (control)"

# --- §2 persons ------------------------------------------------------------------
JANE=$(cat "$K/jane.pub")
JANEH=$(printf '%s' "$JANE" | sha256sum | cut -c1-64)
forge person-ok carol key-enrollment jane "$JANEH" \
    "{\"key\":\"$JANE\",\"roles\":[\"validator\"],\"person\":{\"id\":\"jane.doe\",\"name\":\"Jane Doe\",\"email\":\"jane@example.org\"}}"
expect_accept "$db" "enrolment with a person {id, name, email} (control)"
forge person-noid carol key-enrollment jane "$JANEH" \
    "{\"key\":\"$JANE\",\"roles\":[\"validator\"],\"person\":{\"name\":\"Jane Doe\"}}"
expect_reject "$db" "enrolment with a person without id"
forge person-extra carol key-enrollment jane "$JANEH" \
    "{\"key\":\"$JANE\",\"roles\":[\"validator\"],\"person\":{\"id\":\"jane\",\"team\":\"risk\"}}"
expect_reject "$db" "enrolment with a person holding an unknown member"
forge person-email carol key-enrollment jane "$JANEH" \
    "{\"key\":\"$JANE\",\"roles\":[\"validator\"],\"person\":{\"id\":\"jane\",\"email\":\"jane.example.org\"}}"
expect_reject "$db" "enrolment with a person email without @"
forge person-id carol key-enrollment jane "$JANEH" \
    "{\"key\":\"$JANE\",\"roles\":[\"validator\"],\"person\":{\"id\":\"jane doe\"}}"
expect_reject "$db" "enrolment with a person id holding a space"

# --- rule 9: declared environments, typed properties -------------------------------
db=$(fresh env-typo)
expect_refused "mlledger record deployment --env prdo (undeclared) refused" \
    "$M" --ledger "$db" record deployment fraud-detector@1.1.0 --env prdo --key "$K/alice.key"
forge env-typo alice deployment fraud-detector@1.1.0 "$M11" '{"environment":"prdo"}'
expect_reject "$db" "deployment to the undeclared environment prdo (rule 9)"
forge env-gate alice gate fraud-detector@1.1.0 "$M11" "$(vsa_pred 3 | sed 's/"environment":"prod"/"environment":"prdo"/')"
expect_reject "$db" "gate decision for the undeclared environment prdo (rule 9)"
db=$(fresh pii-text)
expect_refused "mlledger record dataset --set pii=True (not a boolean) refused" \
    "$M" --ledger "$db" record dataset credit-card/other@1 --digest "sha256:$H_A" --set pii=True --key "$K/alice.key"
forge pii-text alice dataset credit-card/other@1 "$H_A" '{"properties":{"pii":"True"}}'
expect_reject "$db" "dataset with properties pii=\"True\" (a string, declared boolean)"
forge pii-num alice dataset credit-card/other@1 "$H_A" '{"properties":{"pii":0}}'
expect_reject "$db" "dataset with properties pii=0 (a number, declared boolean)"
forge license-num alice model fraud-detector@2.0.0 "$H_A" '{"properties":{"license":2}}'
expect_reject "$db" "model with properties license=2 (a number, declared string)"
forge pii-ok alice dataset credit-card/other@1 "$H_A" '{"properties":{"pii":true,"license":"CC-BY-4.0","free":1}}'
expect_accept "$db" "dataset with pii=true, license a string and an undeclared property (control)"

# --- rule 10: a waiver is not expired at its own append time ------------------------
LASTDAY=$("$PY" -c 'import sys, datetime; print((datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=int(sys.argv[1]))).strftime("%Y-%m-%d"))' \
    "$(sql "$L" 'SELECT max(appended_us) FROM entries;')")
DAYBEFORE=$("$PY" -c 'import sys, datetime; print((datetime.date.fromisoformat(sys.argv[1]) - datetime.timedelta(days=1)).isoformat())' "$LASTDAY")
db=$(fresh waiver-expired)
expect_refused "mlledger record waiver --expires 2020-01-31 (expired) refused" \
    "$M" --ledger "$db" record waiver fraud-detector@1.1.0 --rule r1 --expires 2020-01-31 --reason x --key "$K/bob.key"
forge waiver-expired bob waiver fraud-detector@1.1.0 "$M11" '{"rule":"r1","expires":"2020-01-31","reason":"x"}'
expect_reject "$db" "waiver that expired 2020-01-31, appended later (rule 10)"
forge waiver-daybefore bob waiver fraud-detector@1.1.0 "$M11" "{\"rule\":\"r1\",\"expires\":\"$DAYBEFORE\",\"reason\":\"x\"}"
expect_reject "$db" "waiver expiring the day before its append day $LASTDAY (rule 10)"
forge waiver-sameday bob waiver fraud-detector@1.1.0 "$M11" "{\"rule\":\"r1\",\"expires\":\"$LASTDAY\",\"reason\":\"x\"}"
expect_accept "$db" "waiver expiring on its append day $LASTDAY: holds to the end of that day (control)"

# --- rule 11: a retirement retires a live version ------------------------------------
db=$(fresh retire-never)
expect_refused "mlledger record retirement of a version never deployed in dev refused" \
    "$M" --ledger "$db" record retirement fraud-detector@1.1.0 --env dev --reason x --key "$K/alice.key"
forge retire-never alice retirement fraud-detector@1.1.0 "$M11" '{"environment":"dev","reason":"x"}'
expect_reject "$db" "retirement of fraud-detector@1.1.0 from dev, where it was never deployed (rule 11)"
M10=$(sql "$L" "SELECT lower(hex(digest)) FROM subjects WHERE kind = 'model' AND ref = 'fraud-detector@1.0.0';")
forge retire-twice alice retirement fraud-detector@1.0.0 "$M10" '{"environment":"prod","reason":"again"}'
expect_reject "$db" "second retirement of fraud-detector@1.0.0 from prod, already retired (rule 11)"
forge retire-ok alice retirement fraud-detector@1.1.0 "$M11" '{"environment":"prod","reason":"x"}'
expect_accept "$db" "retirement of fraud-detector@1.1.0 from prod, where it is live (control)"
db=$(fresh redeploy)
expect_exit 0 "mlledger: fraud-detector@1.0.0 deployed again to prod after its retirement" \
    "$M" --ledger "$db" record deployment fraud-detector@1.0.0 --env prod --key "$K/alice.key"
expect_exit 0 "mlledger: and retired again" \
    "$M" --ledger "$db" record retirement fraud-detector@1.0.0 --env prod --reason again --key "$K/alice.key"
expect_accept "$db" "deploy, retire, deploy, retire in one environment"

# --- rule 3: genesis format 1, a valid governance member --------------------------------
"$M" key new govadmin --dir "$K" >/dev/null 2>&1
rm -f "$T/gg.db" "$T/gg.db-wal" "$T/gg.db-shm" "$T/gg.db.log.key"
"$M" --ledger "$T/gg.db" init --key "$K/govadmin.key" --origin gov.example >/dev/null 2>&1
export TAMPER_ORIGIN=gov.example
sql "$T/gg.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
GDOC="{\"roles\":{\"admin\":[\"key-enrollment\",\"key-revocation\",\"governance\"],\"ml\":[\"dataset\",\"model\",\"deployment\"]},\"environments\":[\"lab\"]}"
GBAD="{\"roles\":{\"admin\":[\"key-enrollment\",\"key-revocation\"]}}"
# regen NAME EXTRA_JSON: db = the one-entry ledger with its genesis made again
regen() {
    db="$T/$1.db"
    rm -f "$db" "$db-wal" "$db-shm" "$db.log.key"
    cp "$T/gg.db" "$db"
    "$PY" "$TAMPER" regenesis "$db" "$K/govadmin.key" gov.example "$2"
}
regen gen-f1 '{"format":1,"person":{"id":"root","name":"Root Admin"}}'
expect_accept "$db" "forged genesis with format 1 and a person (control)"
regen gen-f2 '{"format":2}'
expect_accept "$db" "forged genesis with format 2 (origin and possession required; control)"
for f in 0 3 999 '"1"' 1.0; do
    regen "gen-f$f" "{\"format\":$f}"
    expect_reject "$db" "forged genesis with format $f (meta format follows it)"
done
# §7 wants meta format = the genesis format (1 or 2): here meta stays 1, so
# format 2 breaks §7 and the others rule 3
for f in 0 2 999; do
    regen "gen-m$f" "{\"format\":$f}"
    sql "$db" "UPDATE meta SET value = '1' WHERE key = 'format';"
    expect_reject "$db" "forged genesis with format $f, meta format left 1"
done
regen gen-gov "$(doc_pred "$GDOC" | sed 's/"document"/"governance"/')"
expect_accept "$db" "forged genesis with a governance member (control)"
if "$M" key new mia --dir "$K" >/dev/null 2>&1 &&
    "$M" --ledger "$db" key enroll "$K/mia.pub" --holder-key "$K/mia.key" --role ml --key "$K/govadmin.key" >"$T/out" 2>&1 &&
    "$M" --ledger "$db" record dataset lab/data@1 --digest "sha256:$H_A" --key "$K/mia.key" >>"$T/out" 2>&1 &&
    "$M" --ledger "$db" record model lab/model@1 --digest "sha256:$H_B" --key "$K/mia.key" >>"$T/out" 2>&1 &&
    "$M" --ledger "$db" record deployment lab/model@1 --env lab --key "$K/mia.key" >>"$T/out" 2>&1; then
    ok "mlledger follows the genesis governance: role ml enrolled, records a dataset, a model, a deployment to lab"
else
    notok "mlledger does not follow the genesis governance"
    indent "$T/out"
fi
expect_refused "mlledger record deployment --env prod, not declared by the genesis governance, refused" \
    "$M" --ledger "$db" record deployment lab/model@1 --env prod --key "$K/mia.key"
expect_accept "$db" "a ledger under its genesis governance, built by the CLI"
cp "$db" "$T/gen-gov2.db"
cp "$db.log.key" "$T/gen-gov2.db.log.key"
db="$T/gen-gov2.db"
"$PY" "$TAMPER" stmt deployment lab/model@1 "$H_B" '{"environment":"prod"}' | "$PY" "$TAMPER" sign "$K/mia.key" "$T/gg-prod.env" &&
    "$PY" "$TAMPER" append "$db" "$T/gg-prod.env"
expect_reject "$db" "deployment to prod, a default environment the genesis governance does not declare (rule 9)"
regen gen-badgov "$(doc_pred "$GBAD" | sed 's/"document"/"governance"/')"
expect_reject "$db" "forged genesis whose governance lacks governance in admin's kinds (rule 3)"
regen gen-notjson '{"governance":"roles: admin"}'
expect_reject "$db" "forged genesis whose governance is not JSON (rule 3)"
export TAMPER_ORIGIN=interop.example/ml/ledger   # the main ledger's again

# --- governance entries ---------------------------------------------------------------
DOC2="{\"roles\":{$DROLES,\"steward\":[\"dataset\"]},\"environments\":[\"dev\",\"prod\",\"eu:prod\"],\"metrics\":{\"auc\":{\"direction\":\"higher\"},\"drift\":{\"direction\":\"lower\",\"unit\":\"psi\"}},\"properties\":{\"tier\":{\"type\":\"string\",\"values\":[\"gold\",\"silver\"]},\"pii\":{\"type\":\"boolean\"}}}"
forge gov-alice alice governance "$ORIGIN" document "$(doc_pred "$DOC2")"
expect_reject "$db" "governance entry signed by engineer alice, not an admin (rule 9)"
forge gov-digest carol governance "$ORIGIN" "$H_A" "$(doc_pred "$DOC2")"
expect_reject "$db" "governance entry whose subject digest is not SHA-256 of the document"
forge gov-origin carol governance other.example/ledger document "$(doc_pred "$DOC2")"
expect_reject "$db" "governance entry whose subject is not the ledger's origin"
forge gov-invalid carol governance "$ORIGIN" document "$(doc_pred '{"environments":["prod","prod"]}')"
expect_reject "$db" "governance entry with an invalid document (an environment twice)"
forge gov-ok carol governance "$ORIGIN" document "$(doc_pred "$DOC2")"
expect_accept "$db" "governance entry signed by admin carol (control)"
cp "$db" "$T/gov-base.db"
cp "$db.log.key" "$T/gov-base.db.log.key"
# gov_copy NAME: db = a copy of the ledger with the governance entry above
gov_copy() {
    db="$T/$1.db"
    rm -f "$db" "$db-wal" "$db-shm"
    cp "$T/gov-base.db" "$db"
    cp "$T/gov-base.db.log.key" "$db.log.key"
}
gov_copy gov-cli
if "$M" --ledger "$db" record deployment fraud-detector@1.1.0 --env eu:prod --set tier=gold --key "$K/alice.key" >"$T/out" 2>&1 &&
    "$M" --ledger "$db" record monitoring fraud-detector@1.1.0 --env eu:prod --metric drift=0.1 --key "$K/alice.key" >>"$T/out" 2>&1; then
    ok "mlledger follows a governance entry made elsewhere: deployment to eu:prod with tier=gold, monitoring of the declared drift"
else
    notok "mlledger does not follow the governance entry"
    indent "$T/out"
fi
expect_refused "mlledger record monitoring with the undeclared metric latency_ms (closed set) refused" \
    "$M" --ledger "$db" record monitoring fraud-detector@1.1.0 --env eu:prod --metric latency_ms=4 --key "$K/alice.key"
expect_refused "mlledger record deployment --env staging (no longer declared) refused" \
    "$M" --ledger "$db" record deployment fraud-detector@1.1.0 --env staging --key "$K/alice.key"
expect_accept "$db" "the ledger under the governance entry, CLI entries after it"
gov_copy gov-metric
"$PY" "$TAMPER" stmt monitoring fraud-detector@1.1.0 "$M11" '{"environment":"prod","metrics":{"latency_ms":4}}' |
    "$PY" "$TAMPER" sign "$K/alice.key" "$T/gm.env" && "$PY" "$TAMPER" append "$db" "$T/gm.env"
expect_reject "$db" "monitoring with a metric outside the declared (closed) set (rule 9)"
gov_copy gov-tier
"$PY" "$TAMPER" stmt deployment fraud-detector@1.1.0 "$M11" '{"environment":"prod","properties":{"tier":"bronze"}}' |
    "$PY" "$TAMPER" sign "$K/alice.key" "$T/gt.env" && "$PY" "$TAMPER" append "$db" "$T/gt.env"
expect_reject "$db" "deployment with tier=bronze, not one of the declared values (rule 9)"
gov_copy gov-staging
"$PY" "$TAMPER" stmt deployment fraud-detector@1.1.0 "$M11" '{"environment":"staging"}' |
    "$PY" "$TAMPER" sign "$K/alice.key" "$T/gs.env" && "$PY" "$TAMPER" append "$db" "$T/gs.env"
expect_reject "$db" "deployment to staging, declared by the default but not by the document in force (rule 9)"
gov_copy gov-steward
"$PY" "$TAMPER" enrol-stmt "$K/jane.pub" steward | "$PY" "$TAMPER" sign "$K/carol.key" "$T/gst.env" &&
    "$PY" "$TAMPER" append "$db" "$T/gst.env"
expect_accept "$db" "enrolment with the role steward, declared by the governance entry (control)"

# --- rule 1: clock corrections -------------------------------------------------------
# entry N: a deployment appended by a machine whose clock was 60 s ahead;
# entry N+1: a clock correction from N, dated TIME (µs from entry N-1's time)
"$M" sign --origin "$TAMPER_ORIGIN" deployment fraud-detector@1.1.0 --env dev --set note=ahead --digest "sha256:$M11" \
    --key "$K/alice.key" --out "$T/ahead.json" >/dev/null 2>&1
T0=$(sql "$L" 'SELECT max(appended_us) FROM entries;')
db=$(fresh clock-base)
"$PY" "$TAMPER" append-at "$db" "$T/ahead.json" $((T0 + 60000000))
LEAFN=$(sql "$db" "SELECT lower(hex(leaf_hash)) FROM entries WHERE seq = $N;")
# clock NAME KEY AT FROM [DIGEST]: db = clock-base with a correction appended at T0 + AT
clock() {
    db="$T/$1.db"
    rm -f "$db" "$db-wal" "$db-shm"
    cp "$T/clock-base.db" "$db"
    cp "$T/clock-base.db.log.key" "$db.log.key"
    "$PY" "$TAMPER" stmt clock-correction "$ORIGIN" "${5:-$LEAFN}" "{\"from\":$4,\"reason\":\"clock 60 s ahead\"}" |
        "$PY" "$TAMPER" sign "$K/$2.key" "$T/$1.env" &&
        "$PY" "$TAMPER" append-at "$db" "$T/$1.env" $((T0 + $3))
}
clock clock-ok carol 30000000 "$N"
expect_accept "$db" "clock correction from entry $N dated between entries $((N - 1)) and $N (control)"
clock clock-low carol 0 "$N"
expect_accept "$db" "clock correction dated exactly entry $((N - 1))'s time (lower bound, control)"
clock clock-high carol 60000000 "$N"
expect_reject "$db" "clock correction dated exactly entry $N's time (not before it; rule 1)"
clock clock-late carol 120000000 "$N"
expect_reject "$db" "clock correction dated after entry $N (out of bounds; rule 1)"
clock clock-early carol -1 "$N"
expect_reject "$db" "clock correction dated before entry $((N - 1)) (out of bounds; rule 1)"
clock clock-alice alice 30000000 "$N"
expect_reject "$db" "clock correction signed by engineer alice, not an admin"
clock clock-digest carol 30000000 "$N" "$H_A"
expect_reject "$db" "clock correction whose subject digest is not the leaf hash of entry $N"
clock clock-self carol 30000000 $((N + 1)) "$LEAFN"
expect_reject "$db" "clock correction naming itself as from"
# a second correction must name a from above the first correction's seq
clock clock-two carol 30000000 "$N"
"$PY" "$TAMPER" stmt clock-correction "$ORIGIN" "$LEAFN" "{\"from\":$N,\"reason\":\"again\"}" |
    "$PY" "$TAMPER" sign "$K/carol.key" "$T/clock-two2.env" &&
    "$PY" "$TAMPER" append-at "$db" "$T/clock-two2.env" $((T0 + 30000001))
expect_reject "$db" "a second clock correction naming the same from (not above the first correction)"
clock clock-after carol 30000000 "$N"
"$PY" "$TAMPER" append-at "$db" "$T/canary.json" $((T0 + 40000000))
expect_accept "$db" "an entry after the correction, dated after it but before entry $N (control)"
clock clock-back carol 30000000 "$N"
"$PY" "$TAMPER" append-at "$db" "$T/canary.json" $((T0 + 20000000))
expect_reject "$db" "an entry after the correction dated before it (times never decrease)"

# ---------------------------------------------------------------------------
# 9. gated deployments (FORMAT.md ff72ceb: §2 kind `policy`, "Policy
#    entries", "Gate decisions"; governance `gates`; §5 rules 7, 8, 12) under
#    the default governance, which gates prod with the policy `production`
#    (maxAge 24 h).  A ledger built by the CLI must be accepted by both;
#    entries mlledger refuses to write are forged with tests/cli/forge.py
#    (envelopes signed with our key files; chain, tree and checkpoints
#    rebuilt with the log key) and must be rejected by both.  The replay of
#    decisions (verify --decisions) is mlledger's alone: verify_ledger.py
#    checks the structural rules only.

FORGE="$ROOT/tests/cli/forge.py"
PRODXML="$ROOT/policies/production.xml"
GK="$T/gkeys"
GL="$T/gated.db"
mkdir -p "$GK"
gml() { "$M" --ledger "$GL" "$@"; }
# gsnap NAME: keep a copy of the gated ledger as it is now, with its log key
gsnap() {
    sql "$GL" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
    cp "$GL" "$T/$1.snap.db"
    cp "$GL.log.key" "$T/$1.snap.db.log.key"
}
# gcopy NAME SNAP: db = a fresh copy of snapshot SNAP (with its log key)
gcopy() {
    db="$T/$1.db"
    rm -f "$db" "$db-wal" "$db-shm"
    cp "$T/$2.snap.db" "$db"
    cp "$T/$2.snap.db.log.key" "$db.log.key"
}
# gput DB append ENVFILE [+DELTA_US|TIME_US] | gput DB replace SEQ ENVFILE:
# put an envelope into the entries and entry_index tables (triggers dropped
# and re-made, as forge.py does), then forge.py rebuilds the chain, the tree
# and the checkpoints with the log key DB.log.key
gput() {
    "$PY" - "$@" <<'PYEOF' && "$PY" "$FORGE" rebuild "$1" chain tree "sign=$1.log.key"
import base64, hashlib, json, sqlite3, sys
path, op = sys.argv[1], sys.argv[2]
db = sqlite3.connect(path, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
trig = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid").fetchall()
for name, _ in trig:
    db.execute('DROP TRIGGER "%s"' % name)
if op == "append":
    env = open(sys.argv[3], "rb").read().rstrip(b"\n")
    seq, t = db.execute("SELECT seq, appended_us FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    seq += 1
    at = sys.argv[4] if len(sys.argv) > 4 else "+1"
    t = t + int(at) if at[0] in "+-" else int(at)
    db.execute("INSERT INTO entries VALUES (?, zeroblob(32), ?, ?, zeroblob(32))", (seq, t, env))
else:
    seq = int(sys.argv[3])
    env = open(sys.argv[4], "rb").read().rstrip(b"\n")
    db.execute("UPDATE entries SET envelope = ? WHERE seq = ?", (env, seq))
    db.execute("DELETE FROM entry_index WHERE seq = ?", (seq,))
e = json.loads(env)
stmt = base64.b64decode(e["payload"])
st = json.loads(stmt)
pt = st["predicateType"]
kind = "gate" if pt == "https://slsa.dev/verification_summary/v1" else pt.split("/")[3]
sname = st["subject"][0]["name"]
name, _, version = sname.partition("@")
db.execute("INSERT INTO entry_index VALUES (?, ?, ?, ?, ?, ?)",
           (seq, kind, name, version, e["signatures"][0]["keyid"], hashlib.sha256(stmt).digest()))
for _, q in trig:
    db.execute(q)
db.execute("COMMIT")
PYEOF
}
# gstmt DB SEQ: the statement bytes of entry SEQ
gstmt() {
    "$PY" -c 'import base64, json, sqlite3, sys
env = sqlite3.connect(sys.argv[1]).execute("SELECT envelope FROM entries WHERE seq = ?", (int(sys.argv[2]),)).fetchone()[0]
sys.stdout.buffer.write(base64.b64decode(json.loads(env)["payload"]))' "$1" "$2"
}
# gedit EXPR: the statement on stdin with the Python statement EXPR applied
# to st (the parsed statement), compact JSON on stdout
gedit() {
    "$PY" -c 'import datetime, hashlib, json, sys
st = json.loads(sys.stdin.buffer.read())
exec(sys.argv[1])
sys.stdout.buffer.write(json.dumps(st, separators=(",", ":")).encode())' "$1"
}
# expect_reject_why DB DESC PATTERN: both reject, verify_ledger.py for the
# reason PATTERN (grep -E) names
expect_reject_why() {
    expect_reject "$1" "$2"
    if [ "$prc" -eq 1 ] && ! grep -Eq -- "$3" "$T/py.out"; then
        notok "$2: verify_ledger.py rejects for another reason than /$3/"
    fi
}

GBUILD="$T/gbuild.log"
: >"$GBUILD"
GERR=""
# gstep DESC WANT CMD...: a CLI step of the gated build must exit WANT
gstep() {
    d=$1
    w=$2
    shift 2
    [ -n "$GERR" ] && return
    "$@" >>"$GBUILD" 2>&1
    rc=$?
    [ "$rc" -eq "$w" ] || GERR="$d (exit $rc, want $w)"
}
for n in gadmin ci dave alice bob val; do
    gstep "key new $n" 0 "$M" key new "$n" --dir "$GK"
done
gstep "init (default governance)" 0 gml init --key "$GK/gadmin.key" --origin gated.example/ledger
export TAMPER_ORIGIN=gated.example/ledger TAMPER_KEYDIR="$GK"
gstep "enroll ci" 0 gml key enroll "$GK/ci.pub" --holder-key "$GK/ci.key" --role engineer --key "$GK/gadmin.key"
gstep "enroll dave" 0 gml key enroll "$GK/dave.pub" --holder-key "$GK/dave.key" --role engineer --key "$GK/gadmin.key"
gstep "enroll alice" 0 gml key enroll "$GK/alice.pub" --holder-key "$GK/alice.key" --role approver --key "$GK/gadmin.key"
gstep "enroll bob" 0 gml key enroll "$GK/bob.pub" --holder-key "$GK/bob.key" --role approver --key "$GK/gadmin.key"
gstep "enroll val" 0 gml key enroll "$GK/val.pub" --holder-key "$GK/val.key" --role validator --key "$GK/gadmin.key"
gstep "policy record production.xml" 0 gml policy record "$PRODXML" --key "$GK/gadmin.key"
printf 'data\n' >"$T/g-d.bin"
printf 'model-1\n' >"$T/g-m1.bin"
gstep "dataset" 0 gml record dataset d@1 --file "$T/g-d.bin" --set license=MIT --set pii=false --key "$GK/ci.key"
gstep "model" 0 gml record model m@1 --artifact "$T/g-m1.bin" --dataset d@1 --metric auc=0.9 --key "$GK/dave.key"
gstep "evaluation" 0 gml record evaluation m@1 --metric auc=0.9 --key "$GK/val.key"
gstep "approval alice" 0 gml record approval m@1 --env prod --decision approve --key "$GK/alice.key"
[ -z "$GERR" ] && gsnap nodec
gstep "deployment to prod without a decision refused" 1 gml record deployment m@1 --env prod --key "$GK/ci.key"
gstep "gate with one approval (FAILED, recorded)" 1 gml gate --policy production m@1 --env prod --key "$GK/ci.key"
gstep "deployment to prod after a FAILED decision refused" 1 gml record deployment m@1 --env prod --key "$GK/ci.key"
gstep "gate --key with a policy file refused" 2 gml gate --policy "$PRODXML" m@1 --env prod --key "$GK/ci.key"
gstep "approval bob" 0 gml record approval m@1 --env prod --decision approve --key "$GK/bob.key"
[ -z "$GERR" ] && gsnap failed
gstep "gate (PASSED, recorded)" 0 gml gate --policy production m@1 --env prod --key "$GK/ci.key"
[ -z "$GERR" ] && gsnap passed
gstep "deployment to prod" 0 gml record deployment m@1 --env prod --key "$GK/ci.key"
if [ -n "$GERR" ]; then
    notok "build a gated ledger with the CLI: $GERR"
    indent "$GBUILD"
else
    sql "$GL" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
    GN=$(sql "$GL" 'SELECT count(*) FROM entries;')
    ok "built a gated ledger with the CLI ($GN entries: policy record, a FAILED and a PASSED decision, a deployment to prod; refused deployments wrote nothing)"
    gsnap deployed
    GATE=$(sql "$GL" "SELECT max(seq) FROM entry_index WHERE kind = 'gate';")
    POLSEQ=$(sql "$GL" "SELECT seq FROM entry_index WHERE kind = 'policy';")
    MG=$(sql "$GL" "SELECT lower(hex(digest)) FROM subjects WHERE kind = 'model' AND ref = 'm@1';")
    PDIG=$(sha256sum "$PRODXML" | cut -c1-64)

    expect_accept "$GL" "the gated ledger built by the CLI (policy, decisions, a deployment to prod)"
    if gml verify --decisions >"$T/out" 2>&1; then
        ok "mlledger verify --decisions replays the recorded decisions"
    else
        notok "mlledger verify --decisions fails on the CLI-built gated ledger"
        indent "$T/out"
    fi

    # (a) a deployment to prod, forged at the end of a ledger holding no
    # decision, signed by engineer ci
    gcopy g-nodec nodec
    "$PY" "$TAMPER" stmt deployment m@1 "$MG" '{"environment":"prod"}' |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-deploy.env" &&
        gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to gated prod forged without any gate decision (rule 12)" "rule 12"
    # ... and after a FAILED decision only
    gcopy g-failed failed
    gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to gated prod forged after a FAILED decision only (rule 12)" "rule 12"
    # ... after the PASSED decision: more than maxAge (86,400 s) later, and just within it
    gcopy g-stale passed
    gput "$db" append "$T/g-deploy.env" +86400000001
    expect_reject_why "$db" "deployment to prod 86,400 s + 1 µs after its PASSED decision (maxAge; rule 12)" "rule 12"
    gcopy g-fresh passed
    gput "$db" append "$T/g-deploy.env" +86400000000
    expect_accept "$db" "deployment to prod exactly 86,400 s after its PASSED decision (control)"
    # the decision made not replayable, re-signed by ci: with a phase, or
    # without the mlledger:seq/N uri of its policy (both in rule 12's list)
    gcopy g-nouri passed
    gstmt "$db" "$GATE" | gedit 'del st["predicate"]["policy"]["uri"]; del st["predicate"]["policies"][0]["uri"]' |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-nouri.env" &&
        gput "$db" replace "$GATE" "$T/g-nouri.env" && gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to prod after a PASSED decision whose policy has no mlledger:seq/N uri (rule 12)" "rule 12"
    # ... without evidence, or with a uri naming an entry that is not a
    # policy entry: not replayable (rule 12)
    gcopy g-noevid passed
    gstmt "$db" "$GATE" | gedit 'del st["predicate"]["evidence"]' |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-noevid.env" &&
        gput "$db" replace "$GATE" "$T/g-noevid.env" && gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to prod after a PASSED decision without evidence (not replayable; rule 12)" "rule 12"
    gcopy g-baduri passed
    gstmt "$db" "$GATE" | gedit 'st["predicate"]["policy"]["uri"] = st["predicate"]["policies"][0]["uri"] = "mlledger:seq/1"' |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-baduri.env" &&
        gput "$db" replace "$GATE" "$T/g-baduri.env" && gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to prod after a PASSED decision whose policy uri names entry 1, a key enrolment (not replayable; rule 12)" "rule 12"
    gcopy g-phase passed
    gstmt "$db" "$GATE" | gedit 'st["predicate"]["phase"] = "pre-deploy"' |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-phase.env" &&
        gput "$db" replace "$GATE" "$T/g-phase.env" && gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to prod after a PASSED decision with a phase (rule 12)" "rule 12"

    # the deciding decision (rule 12): the newest gate entry for that
    # digest, prod and a descriptor named production@..., whatever its verdict.
    # A PASS revoked: an incident of severity high recorded after the PASSED
    # decision.  Until a new decision is made the PASS still decides, so
    # mlledger deploys (control); gated again, the decision is FAILED
    # (recorded, replayable, same digest, env and policy) and mlledger
    # refuses the deployment; forged, both reject it.
    gcopy g-incident passed
    expect_exit 0 "record incident (high) on m@1 after its PASSED decision" \
        "$M" --ledger "$db" record incident m@1 --severity high --description "fraud spike" --key "$GK/ci.key"
    sql "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
    cp "$db" "$T/g-revoked.db" && cp "$db.log.key" "$T/g-revoked.db.log.key"
    expect_exit 0 "record deployment to prod after the incident, the PASSED decision still deciding" \
        "$M" --ledger "$db" record deployment m@1 --env prod --key "$GK/ci.key"
    sql "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
    expect_accept "$db" "a PASSED decision, an incident, a deployment to prod (no newer decision; control)"
    db="$T/g-revoked.db"
    expect_exit 1 "gate after the incident: FAILED (PROD-INCIDENT), recorded" \
        "$M" --ledger "$db" gate --policy production m@1 --env prod --key "$GK/ci.key"
    expect_exit 1 "record deployment to prod after a PASS revoked by a newer FAILED decision refused" \
        "$M" --ledger "$db" record deployment m@1 --env prod --key "$GK/ci.key"
    sql "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
    REVOKE=$(sql "$db" "SELECT max(seq) FROM entry_index WHERE kind = 'gate';")
    gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to prod forged after a PASSED decision and a newer FAILED one (entry $REVOKE) for the same digest, env and policy (rule 12)" \
        "deciding gate decision, entry $REVOKE, is FAILED"
    # a newer PASSED decision that is not replayable (a phase) decides too:
    # it does not admit, and the older replayable PASS no longer counts
    gcopy g-laterphase passed
    gput "$db" append "$T/g-phase.env" && gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to prod after a replayable PASS and a newer PASS with a phase (the newer decides; rule 12)" \
        "deciding gate decision, entry $((GATE + 1)), is not replayable"
    # a newer FAILED decision whose only policy descriptor is named other@1
    # is not a decision under production: the PASS still decides (control)
    gcopy g-otherpol passed
    gstmt "$db" "$GATE" | gedit 'p = st["predicate"]; p["verificationResult"] = "FAILED"; p["verifiedLevels"] = ["FAILED"]; p["policy"]["name"] = p["policies"][0]["name"] = "other@1"' |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-otherpol.env" &&
        gput "$db" append "$T/g-otherpol.env" && gput "$db" append "$T/g-deploy.env"
    expect_accept "$db" "deployment to prod after a PASS and a newer FAILED decision under other@1 only (not a decision under production; control)"

    # replayable, as rule 12 spells it out: the uri N decimal without a
    # leading zero, naming a policy entry of the descriptor's name and digest.
    # The decisions stay valid entries (control); they admit no deployment.
    gcopy g-uri0 passed
    gstmt "$db" "$GATE" | gedit "st['predicate']['policy']['uri'] = st['predicate']['policies'][0]['uri'] = 'mlledger:seq/0$POLSEQ'" |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-uri0.env" &&
        gput "$db" replace "$GATE" "$T/g-uri0.env"
    expect_accept "$db" "a PASSED decision whose policy uri is mlledger:seq/0$POLSEQ, no deployment after it (a valid entry; control)"
    gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to prod after a PASSED decision whose policy uri is mlledger:seq/0$POLSEQ (leading zero: not replayable; rule 12)" \
        "not replayable: policies\[0\] has no mlledger:seq/N uri"
    gcopy g-descdig passed
    gstmt "$db" "$GATE" | gedit "st['predicate']['policy']['digest']['sha256'] = st['predicate']['policies'][0]['digest']['sha256'] = '3' * 64" |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-descdig.env" &&
        gput "$db" replace "$GATE" "$T/g-descdig.env"
    expect_accept "$db" "a PASSED decision whose policy descriptor's digest is not that of entry $POLSEQ, no deployment after it (a valid entry; control)"
    gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to prod after a PASSED decision whose policy descriptor's digest is not that of the policy entry it names (not replayable; rule 12)" \
        "not replayable: policies\[0\] digest is not that of policy entry $POLSEQ"
    gcopy g-descname passed
    gstmt "$db" "$GATE" | gedit "st['predicate']['policy']['name'] = st['predicate']['policies'][0]['name'] = 'production@1.0.1'" |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-descname.env" &&
        gput "$db" replace "$GATE" "$T/g-descname.env" && gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to prod after a PASSED decision whose descriptor production@1.0.1 names entry $POLSEQ, production@1.1.0 (not replayable; rule 12)" \
        "not replayable: policies\[0\] is named production@1.0.1"
    # a uri naming a policy entry of the right name and digest, but not
    # below the decision's ledger.size: production@1.1.0 recorded again
    # (same bytes, params given: a new entry, rule 7 allows it), then a copy
    # of the PASSED decision naming that entry, ledger.size unchanged
    gcopy g-urisize passed
    gstmt "$db" "$POLSEQ" | gedit 'st["predicate"]["params"] = {"min-approvers": "2"}' |
        "$PY" "$FORGE" sign-envelope "$GK/gadmin.key" >"$T/g-urisize-pol.env" &&
        gput "$db" append "$T/g-urisize-pol.env" &&
        gstmt "$db" "$GATE" | gedit "st['predicate']['policy']['uri'] = st['predicate']['policies'][0]['uri'] = 'mlledger:seq/$((GATE + 1))'" |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-urisize.env" &&
        gput "$db" append "$T/g-urisize.env" && gput "$db" append "$T/g-deploy.env"
    expect_reject_why "$db" "deployment to prod after a PASSED decision whose policy uri names a policy entry at or above its ledger.size (not replayable; rule 12)" \
        "entry $((GATE + 2)), is not replayable: policies\[0\] uri mlledger:seq/$((GATE + 1)) is not below ledger.size"

    # (b) the recorded decision's timeVerified moved an hour after its own
    # append time (re-signed by ci), and 4 minutes (control)
    TV=$(gstmt "$GL" "$GATE" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["predicate"]["timeVerified"])')
    for d in 3600:g-tv1h 240:g-tv4m; do
        gcopy "${d#*:}" deployed
        gstmt "$db" "$GATE" | gedit "st['predicate']['timeVerified'] = (datetime.datetime.strptime('$TV', '%Y-%m-%dT%H:%M:%SZ') + datetime.timedelta(seconds=${d%%:*})).strftime('%Y-%m-%dT%H:%M:%SZ')" |
            "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/${d#*:}.env" &&
            gput "$db" replace "$GATE" "$T/${d#*:}.env"
    done
    expect_reject_why "$T/g-tv1h.db" "decision whose timeVerified is an hour after its append time (rule 8)" "rule 8"
    expect_accept "$T/g-tv4m.db" "decision whose timeVerified is 4 minutes after its append time (control)"
    # a decision made on an old checkpoint: a copy of the recorded one,
    # appended 10 minutes after it, still naming its ledger.size (entry
    # ledger.size was appended more than 5 minutes before timeVerified)
    gcopy g-oldcp deployed
    gstmt "$db" "$GATE" | gedit "st['predicate']['timeVerified'] = (datetime.datetime.strptime('$TV', '%Y-%m-%dT%H:%M:%SZ') + datetime.timedelta(seconds=600)).strftime('%Y-%m-%dT%H:%M:%SZ')" |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-oldcp.env" &&
        gput "$db" append "$T/g-oldcp.env" +600000000
    expect_reject_why "$db" "decision appended 10 minutes after the checkpoint it names, whose next entry is older than 5 minutes (rule 8)" "rule 8"

    # (c) a policy entry whose content does not hash to its subject digest
    # (production@1.1.0, the recorded digest, one comment added), signed by
    # admin; the same content with its own digest re-records the version
    # with another digest (rule 7)
    "$PY" - "$PRODXML" "$T/g-prod-edited.xml" <<'PYEOF'
import sys
b = open(sys.argv[1], "rb").read()
i = b.index(b"\n") + 1
open(sys.argv[2], "wb").write(b[:i] + b"<!-- edited -->\n" + b[i:])
PYEOF
    EDIG=$(sha256sum "$T/g-prod-edited.xml" | cut -c1-64)
    pol_stmt() {
        "$PY" -c 'import json, os, sys, time
print(json.dumps({"_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": sys.argv[1], "digest": {"sha256": sys.argv[2]}}],
    "predicateType": "https://mlledger.dev/policy/v1",
    "predicate": {"content": open(sys.argv[3], "rb").read().decode("utf-8"),
                  "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "origin": os.environ["TAMPER_ORIGIN"]}},
    separators=(",", ":")), end="")' "$@"
    }
    gcopy g-poldigest deployed
    pol_stmt production@1.1.0 "$PDIG" "$T/g-prod-edited.xml" |
        "$PY" "$FORGE" sign-envelope "$GK/gadmin.key" >"$T/g-poldigest.env" &&
        gput "$db" append "$T/g-poldigest.env"
    expect_reject_why "$db" "policy entry whose content does not hash to its subject digest" "subject digest is not SHA-256 of the content"
    gcopy g-polver deployed
    pol_stmt production@1.1.0 "$EDIG" "$T/g-prod-edited.xml" |
        "$PY" "$FORGE" sign-envelope "$GK/gadmin.key" >"$T/g-polver.env" &&
        gput "$db" append "$T/g-polver.env"
    expect_reject_why "$db" "policy production@1.1.0 recorded again with other bytes (rule 7)" "recorded before with another digest"
    gcopy g-polsame deployed
    pol_stmt production@1.1.0 "$PDIG" "$PRODXML" |
        "$PY" "$FORGE" sign-envelope "$GK/gadmin.key" >"$T/g-polsame.env" &&
        gput "$db" append "$T/g-polsame.env"
    expect_accept "$db" "policy production@1.1.0 recorded again with the same bytes (rule 7 allows it; control)"
    # a policy entry whose subject is not its content's id@version, signed
    # by admin: §2 "Policy entries", validity does not parse the XML, so the
    # entry is valid (but unusable: gate and replay refuse it).  Its subjects
    # row (§7: policy versions are projected) is added as mlledger would.
    gcopy g-polname deployed
    pol_stmt other@9.9.9 "$PDIG" "$PRODXML" |
        "$PY" "$FORGE" sign-envelope "$GK/gadmin.key" >"$T/g-polname.env" &&
        gput "$db" append "$T/g-polname.env" &&
        sql "$db" "INSERT INTO subjects VALUES ('policy', 'other@9.9.9', X'$PDIG', $GN);"
    expect_accept "$db" "policy entry other@9.9.9 holding production.xml (id production, version 1.1.0): valid but unusable (§2)"
    gcopy g-polrole deployed
    pol_stmt production@1.1.0 "$PDIG" "$PRODXML" |
        "$PY" "$FORGE" sign-envelope "$GK/ci.key" >"$T/g-polrole.env" &&
        gput "$db" append "$T/g-polrole.env"
    expect_reject_why "$db" "policy entry signed by engineer ci (the default grants policy to admin and risk-officer; rule 9)" "may not sign policy"

    # (d) a governance document whose gates name an undeclared environment
    QADOC=$("$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["gates"]["qa"] = {"policies": ["production"], "maxAge": 3600}
print(json.dumps(d))' "$ROOT/ledger/governance.default.json")
    printf '%s\n' "$QADOC" >"$T/g-qa.json"
    gcopy g-qa-cli deployed
    expect_refused "mlledger governance set: gates on the undeclared environment qa refused" \
        "$M" --ledger "$db" governance set "$T/g-qa.json" --key "$GK/gadmin.key"
    gcopy g-qa deployed
    "$PY" "$TAMPER" stmt governance gated.example/ledger document "$(doc_pred "$QADOC")" |
        "$PY" "$FORGE" sign-envelope "$GK/gadmin.key" >"$T/g-qa.env" &&
        gput "$db" append "$T/g-qa.env"
    expect_reject_why "$db" "governance entry whose gates name the undeclared environment qa (rule 9)" "not a declared environment"
    gcopy g-ungate deployed
    "$PY" "$TAMPER" stmt governance gated.example/ledger document "$(doc_pred "$(cat "$ROOT/tests/data/governance-ungated.json")")" |
        "$PY" "$FORGE" sign-envelope "$GK/gadmin.key" >"$T/g-ungate.env" &&
        gput "$db" append "$T/g-ungate.env" && gput "$db" append "$T/g-deploy.env"
    expect_accept "$db" "a governance entry without gates, then a deployment to prod without a new decision (gates are not defaulted; control)"
fi

# ---------------------------------------------------------------------------
# 10. FORMAT.md §10 export bundles: `mlledger export` checked by
#     verify_ledger.py --bundle and `mlledger verify --bundle --log-key`, both
#     anchored by the log key held outside the bundle

"$M" --ledger "$L" log-key >"$T/b10.pub"
B10="$T/bundle10"
# expect_bundle accept|reject DIR DESC
expect_bundle() {
    "$PY" "$VERIFY" --bundle "$T/b10.pub" "$2" >"$T/py.out" 2>&1
    prc=$?
    "$M" verify --bundle "$2" --log-key "$T/b10.pub" >"$T/ml.out" 2>&1
    mrc=$?
    if [ "$1" = accept ] && [ "$prc" -eq 0 ] && [ "$mrc" -eq 0 ]; then
        ok "bundle: $3: both accept"
    elif [ "$1" = reject ] && [ "$prc" -eq 1 ] && [ "$mrc" -eq 4 ]; then
        ok "bundle: $3: both reject ($(head -c 120 "$T/py.out" | tr '\n' ' '))"
    else
        notok "bundle: $3: verify_ledger.py exit $prc, mlledger verify --bundle exit $mrc (want $1)"
        indent "$T/py.out"
        indent "$T/ml.out"
    fi
}
b10copy() { rm -rf "$T/b10-$1" && cp -r "$B10" "$T/b10-$1"; }
if "$M" --ledger "$L" export --out "$B10" --key "$K/carol.key" >"$T/cli.out" 2>&1; then
    expect_bundle accept "$B10" "the exported bundle"
    b10copy extra && echo notes >"$T/b10-extra/notes.txt"
    expect_bundle reject "$T/b10-extra" "an extra file"
    b10copy keybyte && printf 'x' >>"$(ls "$T/b10-keybyte/keys/"*.pub | head -n 1)"
    expect_bundle reject "$T/b10-keybyte" "a byte added to a key file"
    b10copy resigned && printf 'x' >>"$(ls "$T/b10-resigned/keys/"*.pub | head -n 1)" &&
        "$PY" "$ROOT/tests/cli/forge.py" manifest "$T/b10-resigned" "$K/carol.key"
    expect_bundle reject "$T/b10-resigned" "a byte added to a key file, MANIFEST re-signed by the exporter"
    b10copy scope && sed -i 's/^size .*/size 1/' "$T/b10-scope/MANIFEST"
    expect_bundle reject "$T/b10-scope" "MANIFEST's size changed"
    b10copy other && "$PY" "$ROOT/tests/cli/forge.py" manifest "$T/b10-other" "$K/dave.key"
    expect_bundle reject "$T/b10-other" "MANIFEST signed by a revoked key"
    b10copy dotdot && sed -i 's|^\(file [0-9a-f]* [0-9]* \)README.txt$|\1../README.txt|' "$T/b10-dotdot/MANIFEST"
    expect_bundle reject "$T/b10-dotdot" "MANIFEST naming ../README.txt"
else
    notok "mlledger export --key carol.key failed"
    indent "$T/cli.out"
fi

# --- dual control (FORMAT.md §3 several signatures, §5 rules 13 and 14) ----
# A ledger built by the CLI where alice and bob (two persons) must both sign
# key and governance entries; forged copies, rebuilt with the log key,
# break only the rule under test.
DK="$T/dualkeys"
DL="$T/dual.db"
mkdir -p "$DK"
DERR=""
for n in alice alice2 bob carol; do
    "$M" key new "$n" --dir "$DK" >/dev/null 2>&1 || DERR="key new $n"
done
printf '%s\n' '{"dualControl":{"kinds":["key-enrollment","key-revocation","governance"],"signers":2},"separation":[["admin","approver"]]}' >"$T/dual.json"
dml() { "$M" --ledger "$DL" "$@" >>"$T/dual.log" 2>&1 || DERR="${DERR:-$*}"; }
dml init --key "$DK/alice.key"
dml key enroll "$DK/bob.pub" --holder-key "$DK/bob.key" --role admin --key "$DK/alice.key"
dml key enroll "$DK/alice2.pub" --holder-key "$DK/alice2.key" --role admin --person alice --key "$DK/alice.key"
dml governance set "$T/dual.json" --key "$DK/alice.key" --out "$T/dual-g1.env"
dml sign --countersign "$T/dual-g1.env" --key "$DK/bob.key" --out "$T/dual-g2.env"
dml submit "$T/dual-g2.env"
dml key enroll "$DK/carol.pub" --holder-key "$DK/carol.key" --role engineer --key "$DK/alice.key" --out "$T/dual-c1.env"
dml sign --countersign "$T/dual-c1.env" --key "$DK/bob.key" --out "$T/dual-c2.env"
dml submit "$T/dual-c2.env"
if [ -n "$DERR" ]; then
    notok "dual-control ledger built by the CLI: $DERR"
    indent "$T/dual.log"
else
    expect_accept "$DL" "a ledger with countersigned governance and key entries under dualControl"
    DSEQ=$(sql "$DL" "SELECT seq FROM entry_index WHERE kind = 'key-enrollment' AND name = 'carol';")
    # dcopy NAME ENVFILE: db = a copy of the dual ledger with carol's
    # enrolment replaced by ENVFILE, chain, tree and checkpoints rebuilt
    dcopy() {
        db="$T/$1.db"
        rm -f "$db" "$db-wal" "$db-shm"
        cp "$DL" "$db"
        "$PY" "$FORGE" replace "$db" "$DSEQ" <"$2" &&
            "$PY" "$FORGE" rebuild "$db" chain tree "sign=$DL.log.key"
    }
    dedit() { "$PY" -c 'import base64, json, sys
e = json.load(open(sys.argv[1]))
exec(sys.argv[2])
print(json.dumps(e, separators=(",", ":")))' "$@"; }
    dcopy dual-one "$T/dual-c1.env"
    expect_reject_why "$db" "a key-enrollment signed by one admin under dualControl 2 (rule 13)" "rule 13"
    dedit "$T/dual-c2.env" 'e["signatures"][1]["sig"] = base64.b64encode(bytes(64)).decode()' >"$T/dual-bad.env"
    dcopy dual-bad "$T/dual-bad.env"
    expect_reject_why "$db" "a countersignature that does not verify (rule 4)" "countersignature by bob"
    # offline (no ledger here): the ledger would refuse to sign a statement
    # it already holds
    (cd "$DK" && env -u MLLEDGER_LEDGER "$M" sign --countersign "$T/dual-c1.env" \
        --pub "$DK/alice.pub" --key "$DK/alice2.key" --out "$T/dual-same.env" >/dev/null 2>&1)
    dcopy dual-same "$T/dual-same.env"
    expect_reject_why "$db" "countersigned by a second key of the same person (rule 13)" "rule 13"
    dedit "$T/dual-c2.env" 'e["signatures"].append(e["signatures"][1])' >"$T/dual-twice.env"
    dcopy dual-twice "$T/dual-twice.env"
    expect_reject_why "$db" "one keyid signing twice (§3)" "signs twice"
fi

# control: the untouched ledger still verifies with both after all the copying
if "$PY" "$VERIFY" "$L" >/dev/null 2>&1 && "$M" --ledger "$L" verify >/dev/null 2>&1; then
    ok "original ledger still accepted by both"
else
    notok "original ledger no longer accepted"
fi

[ "$TODO" -eq 0 ] || echo "# $TODO known disagreement(s) marked TODO above (not counted as failures)"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]

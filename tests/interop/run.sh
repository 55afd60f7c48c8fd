#!/bin/sh
# Interop test: an independent verifier written from ledger/FORMAT.md alone
# (verify_ledger.py, Python + PyNaCl) must agree with `mlledger verify` on a
# realistic ledger built by the CLI and on tampered copies of it.
#
#   MLLEDGER=/abs/path/mlledger sh tests/interop/run.sh
#
# Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed"; exits
# non-zero on any failure.  Skips (exit 0) without /usr/bin/python3 + PyNaCl.

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
ok()    { PASS=$((PASS + 1)); echo "ok - $*"; }
notok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
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
# 1. FORMAT.md §8 test vectors

if "$PY" "$VERIFY" --vectors >"$T/vectors.out" 2>&1; then
    ok "FORMAT.md §8 test vectors ($(tail -n 1 "$T/vectors.out"))"
else
    notok "FORMAT.md §8 test vectors"
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
step "init" ml init --key "$K/admin.key" --origin interop.example/ml/ledger
step "enroll alice" ml key enroll "$K/alice.pub" --role engineer --key "$K/admin.key"
step "enroll bob" ml key enroll "$K/bob.pub" --role approver,risk-officer --key "$K/admin.key"
step "enroll carol" ml key enroll "$K/carol.pub" --role admin,auditor --key "$K/admin.key"
step "enroll dave" ml key enroll "$K/dave.pub" --role engineer --key "$K/admin.key"
step "enroll erin" ml key enroll "$K/erin.pub" --role validator --key "$K/carol.key"
step "dataset train" ml record dataset credit-card/transactions@2024.01 --file "$T/data/train.csv" \
    --uri s3://risk-data/transactions/2024-01.csv --set rows=3 --set source=core-banking --set pii=false --key "$K/alice.key"
step "dataset holdout (folder)" ml record dataset credit-card/holdout@1 --file "$T/data/holdout" --key "$K/alice.key"
step "model 1.0.0 (folder)" ml record model fraud-detector@1.0.0 --artifact "$T/model-1.0.0" \
    --dataset credit-card/transactions@2024.01 --metric auc=0.91 --set framework=xgboost --key "$K/alice.key"
step "model 1.1.0" ml record model fraud-detector@1.1.0 --artifact "$T/model-1.1.0.bin" \
    --dataset credit-card/transactions@2024.01 --dataset credit-card/holdout@1 \
    --parent fraud-detector@1.0.0 --metric auc=0.934 --metric logloss=0.1234567890123456789 --key "$K/dave.key"
step "evaluation (encrypted key)" mle record evaluation fraud-detector@1.1.0 --metric auc=0.93 --metric f1=0.81 \
    --metric passed=true --dataset credit-card/holdout@1 --set evaluator=erin --key "$K/erin.key"
step "approval" ml record approval fraud-detector@1.1.0 --env prod --decision approve \
    --comment "$(printf 'validated against holdout\n\tsee RISK-42')" --key "$K/bob.key"
step "deployment" ml record deployment fraud-detector@1.1.0 --env prod --set replicas=3 --set region=eu-west-1 --key "$K/alice.key"
step "monitoring" ml record monitoring fraud-detector@1.1.0 --env prod --metric drift=0.02 --metric latency_ms=41 --key "$K/alice.key"
step "waiver" ml record waiver fraud-detector@1.1.0 --rule fairness.disparate-impact --expires 2027-03-31 \
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
DEPLOY=$(seq_of "kind = 'deployment'")
M11=$(sql "$L" "SELECT lower(hex(digest)) FROM subjects WHERE kind = 'model' AND ref = 'fraud-detector@1.1.0';")

fresh() { rm -f "$T/$1.db" "$T/$1.db-wal" "$T/$1.db-shm"; cp "$L" "$T/$1.db"; echo "$T/$1.db"; }

# expect_reject DB DESC
expect_reject() {
    "$PY" "$VERIFY" "$1" >"$T/py.out" 2>&1
    prc=$?
    "$M" --ledger "$1" verify >"$T/ml.out" 2>&1
    mrc=$?
    if [ "$prc" -eq 1 ] && [ "$mrc" -eq 4 ]; then
        ok "$2: both reject"
        echo "#   verify_ledger.py: $(head -n 1 "$T/py.out")"
        echo "#   mlledger verify:  $(head -n 1 "$T/ml.out")"
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
"$M" sign deployment fraud-detector@1.1.0 --env prod --digest "sha256:$M11" --set note=backdated \
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
"$M" sign approval fraud-detector@9.9.9 --env prod --decision approve --digest "sha256:$M11" \
    --key "$K/bob.key" --out "$T/dangling.json" >/dev/null 2>&1 &&
    "$PY" "$TAMPER" append "$db" "$T/dangling.json"
expect_reject "$db" "approval of unrecorded fraud-detector@9.9.9 appended"

# n. a recorded model version re-recorded with another digest (valid signer)
db=$(fresh immutable)
"$M" sign model fraud-detector@1.0.0 --digest "sha256:$(printf 'other bytes' | sha256sum | cut -c1-64)" \
    --key "$K/alice.key" --out "$T/immutable.json" >/dev/null 2>&1 &&
    "$PY" "$TAMPER" append "$db" "$T/immutable.json"
expect_reject "$db" "fraud-detector@1.0.0 re-recorded with another digest"

# control: the untouched ledger still verifies with both after all the copying
if "$PY" "$VERIFY" "$L" >/dev/null 2>&1 && "$M" --ledger "$L" verify >/dev/null 2>&1; then
    ok "original ledger still accepted by both"
else
    notok "original ledger no longer accepted"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]

#!/bin/sh
# tests/fuzz/make-seeds.sh — (re)writes the seed corpora in tests/fuzz/corpus/
# from a small ledger built with build/mlledger, the policy fixtures in
# tests/data/policy/ and policies/, and a few hand-written values.
#
#   sh tests/fuzz/make-seeds.sh [path/to/mlledger]
#
# Needs python3 with PyNaCl (for the cheap encrypted key, see fuzz_keys.c).
# The output is committed; run it again when a format changes.  Files are
# named by content (sha1), as libFuzzer names its own.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
M=${1:-$root/build/mlledger}
C=$here/corpus
W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-seeds.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
export LC_ALL=C
PY=${PYTHON:-/usr/bin/python3}

# put TARGET FILE: copy FILE into the corpus of TARGET under its sha1.
put() {
	mkdir -p "$C/$1"
	cp "$2" "$C/$1/$(sha1sum "$2" | cut -c1-40)"
}
# putv TARGET STRING: a seed from a string (no newline).
putv() {
	printf '%s' "$2" >"$W/v"
	put "$1" "$W/v"
}
# cat0 FILE...: the files joined by NUL bytes (multi-part inputs).
cat0() {
	first=1
	for f in "$@"; do
		[ $first = 1 ] || printf '\0'
		cat "$f"
		first=0
	done
}

L=$W/ledger.db
ml() { "$M" --ledger "$L" "$@" >/dev/null; }
mkdir k art
for n in admin eng appr; do "$M" key new $n --dir k >/dev/null; done
"$M" key new w1 --dir k >/dev/null
# the default governance without "gates": the story deploys to prod without
# a gate decision
ml init --key k/admin.key --origin fuzz.example/log \
	--governance "$root/tests/data/governance-ungated.json"
# eng also validates: one key signs the evaluation too (FORMAT.md §2 roles)
ml key enroll k/eng.pub --holder-key k/eng.key --role engineer,validator --key k/admin.key
ml key enroll k/appr.pub --holder-key k/appr.key --role approver,risk-officer --key k/admin.key
printf 'id,label\n1,0\n' >train.csv
printf 'weights' >art/model.bin
ml record dataset train@1 --file train.csv --set license=MIT --set pii=false --key k/eng.key
ml record model fraud/detector@1.0.0 --artifact art --dataset train@1 --metric auc=0.91 --key k/eng.key
ml record evaluation fraud/detector@1.0.0 --metric auc=0.9 --dataset train@1 --key k/eng.key
ml record approval fraud/detector@1.0.0 --env prod --decision approve --comment "ok
line two" --key k/appr.key
ml record deployment fraud/detector@1.0.0 --env prod --key k/eng.key
ml record monitoring fraud/detector@1.0.0 --env prod --metric drift=0.02 --key k/eng.key
ml record waiver fraud/detector@1.0.0 --rule R-7 --expires 2099-12-31 --reason pending --key k/appr.key
ml record retirement fraud/detector@1.0.0 --env prod --reason superseded --key k/eng.key
ml record incident fraud/detector@1.0.0 --severity high --description spike --key k/eng.key
ml key revoke appr --reason "laptop lost" --key k/admin.key

# Envelopes and statements: every entry (leaf bytes after the 53-byte header).
seq=0
while "$M" --ledger "$L" show $seq --format raw >leaf.$seq 2>/dev/null; do
	tail -c +54 leaf.$seq >env.$seq
	put envelope env.$seq
	"$PY" -c 'import json,sys,base64; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))' env.$seq >stmt.$seq
	put statement stmt.$seq
	seq=$((seq + 1))
done
last=$((seq - 1))

# Checkpoints, notes, cosignatures, proofs.
"$M" --ledger "$L" log-key >log.pub
"$M" witness-key --key k/w1.key >w1.vkey
"$M" --ledger "$L" checkpoint >ckpt
"$M" --ledger "$L" checkpoint --size 3 >ckpt3
"$M" cosign --key k/w1.key --log-key log.pub --state w1.state --init ckpt --out ckpt.cosigned >/dev/null
sed -n '1,/^$/p' ckpt | sed '$d' >ckpt.text
put checkpoint ckpt.text
put cosign ckpt
put cosign ckpt.cosigned
cat0 ckpt log.pub >x && put note x
cat0 ckpt.cosigned w1.vkey >x && put note x
cat0 ckpt3 log.pub >x && put note x
for s in 0 5 $last; do
	"$M" --ledger "$L" prove $s >proof.$s
	cat0 proof.$s log.pub leaf.$s >x && put tlog_proof x
done
"$M" --ledger "$L" prove 2 --size 3 >x && put tlog_proof x

# Trust policies, with a note to check.
{ echo "# fuzz seed"; echo "log $(cat log.pub)"; echo "witness w1 $(cat w1.vkey)"; echo "quorum w1"; } >pol1
{ echo "log $(cat log.pub) https://log.example/"; echo "witness w1 $(cat w1.vkey)";
  echo "witness w2 $(cat w1.vkey | sed 's/^w1/w2/')"; echo "group g any w1 w2";
  echo "group top 1 g"; echo "quorum top"; } >pol2
{ echo "log $(cat log.pub)"; echo "quorum none"; } >pol3
cat0 pol1 ckpt.cosigned >x && put trust_policy x
cat0 pol2 ckpt.cosigned >x && put trust_policy x
cat0 pol3 ckpt >x && put trust_policy x

# Keys: public, witness, plain secret, encrypted secret (cheap Argon2id).
for f in k/admin.pub k/admin.key w1.vkey log.pub; do tr -d '\n' <$f >x; put keys x; done
"$PY" - "$W/k/eng.key" >enc.key <<'PY'
# The encrypted form of ledger/FORMAT.md (keys.h) at libsodium's minimum
# Argon2id cost (OPS 1, MEM 8192), passphrase "fuzz": see fuzz_keys.c.
import base64, sys
import nacl.bindings as b
import nacl.pwhash
line = open(sys.argv[1]).read().strip()
_, _, name, kh, blob = line.split("+", 4)
seed = base64.b64decode(blob)[1:]
salt, nonce = bytes(range(16)), bytes(range(24))
kek = nacl.pwhash.argon2id.kdf(32, b"fuzz", salt, opslimit=1, memlimit=8192)
keyid = ("%s+%s" % (name, kh)).encode()
ct = b.crypto_aead_xchacha20poly1305_ietf_encrypt(seed, keyid, nonce, kek)
e = lambda x: base64.b64encode(x).decode()
print("mlledger-encrypted-key/v1 %s argon2id13 1 8192 %s %s %s" % (keyid.decode(), e(salt), e(nonce), e(ct)))
PY
put keys enc.key
sed 's/ 1 8192 / 2 67108864 /' enc.key >x && put keys x

# Import lines (README.md, "Import format").
HA=$(printf a | sha256sum | cut -c1-64)
putv import '{"kind":"dataset","subject":"cb@2026-10","digest":"sha256:'$HA'","properties":{"license":"MIT","pii":false}}'
putv import '{"kind":"model","subject":"fraud@1.0","digest":"sha256:'$HA'","datasets":["cb@2026-10"],"metrics":{"auc":0.91},"parent":"fraud@0.9"}'
putv import '{"kind":"approval","subject":"fraud@1.0","environment":"prod","decision":"approve","comment":"ok","time":"2026-01-02T03:04:05Z"}'
putv import '{"kind":"evaluation","subject":"fraud@1.0","metrics":{"auc":0.9},"dataset":"cb@2026-10"}'
putv import '{"kind":"waiver","subject":"fraud@1.0","rule":"R-7","expires":"2031-01-31","reason":"x"}'
putv import '{"kind":"incident","subject":"fraud@1.0","severity":"high","description":"spike","ticket":"T-1"}'
putv import '{"kind":"key-enrollment","key":"'"$(cat k/eng.pub)"'","roles":["engineer"]}'
putv import '{"kind":"key-revocation","key":"'"$(cat k/eng.pub)"'","reason":"lost"}'

# CLI values.
for v in auc=0.91 n=1000 pii=false license=CC-BY-4.0 x=-1.5e3 fraud/detector@3.1.0 \
	credit-bureau@2026-10 2026-10-01 2026-12-31T23:59:59Z "sha256:$HA" approval key-enrollment; do
	putv cli_values "$v"
done

# Consistency and inclusion proofs: round trips (odd first byte) and the
# raw form with a real proof from the ledger (even first byte).
"$PY" - "$C/consistency" "$L" <<'PY'
import hashlib, os, sqlite3, struct, subprocess, sys
out, db = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
def put(b):
    open(os.path.join(out, hashlib.sha1(b).hexdigest()), "wb").write(b)
for m, n, i, f in [(1, 1, 0, 0), (3, 7, 5, 9), (4, 8, 7, 300), (6, 1000, 999, 4000)]:
    put(b"\x01" + struct.pack(">HHHH", m - 1, n - 1, i, f))
leaves = [bytes(r[0]) for r in sqlite3.connect(db).execute("SELECT leaf_hash FROM entries ORDER BY seq")]
def sha(b): return hashlib.sha256(b).digest()
def mth(l):
    if len(l) == 1: return l[0]
    k = 1
    while k * 2 < len(l): k *= 2
    return sha(b"\x01" + mth(l[:k]) + mth(l[k:]))
def sub(m, l, b):   # RFC 9162 SUBPROOF
    n = len(l)
    if m == n: return [] if b else [mth(l)]
    k = 1
    while k * 2 < n: k *= 2
    if m <= k: return sub(m, l[:k], b) + [mth(l[k:])]
    return sub(m - k, l[k:], False) + [mth(l[:k])]
def path(i, l):
    n = len(l)
    if n == 1: return []
    k = 1
    while k * 2 < n: k *= 2
    return path(i, l[:k]) + [mth(l[k:])] if i < k else path(i - k, l[k:]) + [mth(l[:k])]
n = len(leaves)
for m, i in [(3, 2), (4, 0), (n - 1, n - 1)]:
    proof = sub(m, leaves, True)
    incl = path(i, leaves)
    head = struct.pack(">QQ", m, n) + mth(leaves[:m]) + mth(leaves) + struct.pack(">Q", i) + leaves[i]
    put(b"\x00" + head + b"".join(proof))
    put(b"\x02" + head + b"".join(incl))
PY

# Policy files.
put policy_xml "$root/policies/production.xml"
for f in "$root"/tests/data/policy/*.xml; do
	[ "$(wc -c <"$f")" -le 16384 ] && put policy_xml "$f"
done
echo "seeds written to $C"

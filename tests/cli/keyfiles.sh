#!/bin/sh
# Key files at rest (issue 17, item 8): a secret key others may read is
# used but warned about; new encrypted keys use Argon2id "moderate" limits;
# files with the older "interactive" limits still open.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" keyfiles

"$M" key new admin >/dev/null 2>&1 || { echo "key new failed"; exit 1; }
chmod 600 admin.key
"$M" --ledger l.db init --key admin.key --governance "$UNGATED" >/dev/null 2>err ||
	{ cat err; exit 1; }
if grep -q warning err; then nok "0600 key: no warning" "$(cat err)"; else ok "0600 key: no warning"; fi

chmod 644 admin.key
expect 0 "0644 key: used, warned" "admin.key is readable by everyone (mode 0644): run 'chmod 600 admin.key'" \
	"$M" --ledger l.db governance set "$UNGATED" --key admin.key
chmod 640 admin.key
expect 0 "0640 key: warned" "admin.key is readable by its group (mode 0640)" \
	"$M" --ledger l.db governance set "$UNGATED" --key admin.key
chmod 600 admin.key
"$M" --ledger l.db governance set "$UNGATED" --key admin.key >out 2>err
if grep -q warning err; then nok "chmod 600 ends the warning" "$(cat err)"; else ok "chmod 600 ends the warning"; fi

# The warning never prints the key's bytes.
seed=$(sed -n 's/^PRIVATE+KEY+[^+]*+[0-9a-f]*+//p' admin.key)
chmod 644 admin.key
"$M" --ledger l.db governance set "$UNGATED" --key admin.key >out 2>err
if grep -qF -- "$seed" out err; then nok "warning holds no secret" "seed printed"; else ok "warning holds no secret"; fi
chmod 600 admin.key

# New encrypted keys: moderate limits (3 passes, 256 MiB).
printf 'correct horse\n' >pass && chmod 600 pass
"$M" key new mod --encrypt --passphrase-file pass >/dev/null 2>&1
if awk '{exit !($3 == "argon2id13" && $4 == 3 && $5 == 268435456)}' mod.key; then
	ok "new encrypted key: Argon2id moderate limits"
else
	nok "new encrypted key: Argon2id moderate limits" "$(cut -d' ' -f1-5 mod.key)"
fi
expect 0 "moderate key enrolls and signs" "" \
	"$M" --ledger l.db key enroll mod.pub --holder-key mod.key --role engineer --key admin.key --passphrase-file pass
expect 0 "moderate key signs with its passphrase" "" \
	"$M" --ledger l.db record dataset d@1 --digest "sha256:$(printf '%064d' 0)" \
	--key mod.key --passphrase-file pass

# A file written with the older "interactive" limits (2 passes, 64 MiB),
# made here from FORMAT.md §1 alone, still opens.
if /usr/bin/python3 -c 'import nacl' 2>/dev/null; then
	/usr/bin/python3 - <<'PY'
import base64, hashlib, os
import nacl.pwhash, nacl.bindings, nacl.signing
seed = os.urandom(32)
pk = bytes(nacl.signing.SigningKey(seed).verify_key)
name = "old"
h = hashlib.sha256(name.encode() + b"\n\x01" + pk).digest()[:4].hex()
keyid = f"{name}+{h}"
salt, nonce = os.urandom(16), os.urandom(24)
ops, mem = 2, 67108864
k = nacl.pwhash.argon2id.kdf(32, b"correct horse", salt, opslimit=ops, memlimit=mem)
ct = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(seed, keyid.encode(), nonce, k)
b = lambda x: base64.b64encode(x).decode()
with open("old.key", "w") as f:
    f.write(f"mlledger-encrypted-key/v1 {keyid} argon2id13 {ops} {mem} {b(salt)} {b(nonce)} {b(ct)}\n")
os.chmod("old.key", 0o600)
with open("old.pub", "w") as f:
    f.write(keyid + "+" + b(bytes([1]) + pk) + "\n")
PY
	expect 0 "interactive-limits key enrolls" "" \
		"$M" --ledger l.db key enroll old.pub --holder-key old.key --role engineer --key admin.key --passphrase-file pass
	expect 0 "interactive-limits key (old file) still signs" "" \
		"$M" --ledger l.db record dataset d@2 --digest "sha256:$(printf '%064d' 0)" \
		--key old.key --passphrase-file pass
	printf 'wrong\n' >bad && chmod 600 bad
	expect 6 "interactive-limits key: wrong passphrase refused" "passphrase" \
		"$M" --ledger l.db record dataset d@3 --digest "sha256:$(printf '%064d' 0)" \
		--key old.key --passphrase-file bad
else
	skip "interactive-limits key still signs" "python3 with PyNaCl not found"
fi
expect 0 "ledger verifies" "" "$M" --ledger l.db verify
finish

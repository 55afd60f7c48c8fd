#!/usr/bin/python3
"""Forgery helper for tests/interop/run.sh (not a test by itself).

Makes tampered ledgers that a byte-level check alone would not catch: the
hash chain and the projection tables are recomputed so that only the rule
under test (signature, time order, key status, admin role, references) is
broken.  Written from ledger/FORMAT.md; reuses verify_ledger's primitives.

  tamper.py sign KEYFILE OUT            envelope over the statement on stdin
  tamper.py enrol-stmt PUBFILE ROLE     print a key-enrollment statement
  tamper.py append DB ENVFILE           append ENVFILE as the next entry
  tamper.py edit-payload DB SEQ OLD NEW replace OLD by NEW in entry SEQ's
                                        statement (signature kept), rechain
  tamper.py set-time DB SEQ DELTA_US    add DELTA_US to entry SEQ's time, rechain
  tamper.py keyline KEYFILE [PASSFILE]  print the verifier key of a secret key
                                        file (FORMAT.md §1, both forms)
"""

import base64
import hashlib
import json
import os
import sqlite3
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_ledger as V  # noqa: E402

import nacl.signing  # noqa: E402

TRIGGERS = [s + ";" for s in V.SCHEMA_SQL.split(";\n") if s.startswith("CREATE TRIGGER")]
TRIGGER_NAMES = ["entries_append_only_u", "entries_append_only_d",
                 "entry_index_append_only_u", "entry_index_append_only_d"]


def open_rw(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    for t in TRIGGER_NAMES:
        db.execute("DROP TRIGGER %s" % t)
    return db


def close_rw(db):
    for t in TRIGGERS:                      # re-create in §7 order, exact text
        db.execute(t)
    db.execute("COMMIT")
    db.close()


def rechain(db, start):
    prev = None
    rows = db.execute("SELECT seq, prev, appended_us, envelope FROM entries WHERE seq >= ? "
                      "ORDER BY seq", (start,)).fetchall()
    for seq, p, t, env in rows:
        if prev is not None:
            p = prev
        h = V.leaf_hash(V.leaf_bytes(seq, p, t, env))
        db.execute("UPDATE entries SET prev = ?, leaf_hash = ? WHERE seq = ?", (p, h, seq))
        prev = h


def stmt_of(env):
    return base64.b64decode(json.loads(env)["payload"])


def cmd_sign(keyfile, out):
    line = open(keyfile).read().strip()
    parts = line.split("+")
    if parts[:2] != ["PRIVATE", "KEY"]:
        sys.exit("tamper.py: %s: not an unencrypted signer key" % keyfile)
    name, hx, b64 = parts[2], parts[3], "+".join(parts[4:])
    seed = base64.b64decode(b64)[1:]
    stmt = sys.stdin.buffer.read()
    sig = nacl.signing.SigningKey(seed).sign(V.pae(V.PAYLOAD_TYPE, stmt)).signature
    env = ('{"payload":"%s","payloadType":"%s","signatures":[{"keyid":"%s+%s","sig":"%s"}]}'
           % (base64.b64encode(stmt).decode(), V.PAYLOAD_TYPE, name, hx,
              base64.b64encode(sig).decode()))
    open(out, "w").write(env)


def cmd_enrol_stmt(pubfile, role):
    k = open(pubfile).read().strip()
    name = k.split("+")[0]
    st = {"_type": V.STATEMENT_TYPE,
          "subject": [{"name": name, "digest": {"sha256": hashlib.sha256(k.encode()).hexdigest()}}],
          "predicateType": "https://mlledger.dev/key-enrollment/v1",
          "predicate": {"key": k, "roles": [role],
                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
    sys.stdout.write(json.dumps(st, separators=(",", ":")))


def cmd_append(path, envfile):
    env = open(envfile, "rb").read().rstrip(b"\n")
    db = open_rw(path)
    seq, prev, t = db.execute("SELECT seq, leaf_hash, appended_us FROM entries "
                              "ORDER BY seq DESC LIMIT 1").fetchone()
    seq, t = seq + 1, t + 1
    db.execute("INSERT INTO entries VALUES (?,?,?,?,?)",
               (seq, prev, t, env, V.leaf_hash(V.leaf_bytes(seq, prev, t, env))))
    stmt = stmt_of(env)
    st = json.loads(stmt)
    kind = st["predicateType"].split("/")[3]
    sname = st["subject"][0]["name"]
    digest = bytes.fromhex(st["subject"][0]["digest"]["sha256"])
    name, version = sname.split("@") if "@" in sname else (sname, "")
    keyid = json.loads(env)["signatures"][0]["keyid"]
    try:   # fails on a replay: UNIQUE (keyid, stmt_hash)
        db.execute("INSERT INTO entry_index VALUES (?,?,?,?,?,?)",
                   (seq, kind, name, version, keyid, hashlib.sha256(stmt).digest()))
    except sqlite3.IntegrityError:
        pass
    if kind in ("dataset", "model"):
        db.execute("INSERT OR IGNORE INTO subjects VALUES (?,?,?,?)", (kind, sname, digest, seq))
    if kind == "key-enrollment":
        k = st["predicate"]["key"]
        db.execute("INSERT INTO keys VALUES (?,?,?,?,?,NULL)",
                   ("+".join(k.split("+")[:2]), sname, k, ",".join(st["predicate"]["roles"]), seq))
    if kind == "key-revocation":
        k = st["predicate"]["key"]
        db.execute("UPDATE keys SET revoked_seq = ? WHERE keyid = ?", (seq, "+".join(k.split("+")[:2])))
    close_rw(db)


def cmd_edit_payload(path, seq, old, new):
    seq = int(seq)
    db = open_rw(path)
    (env,) = db.execute("SELECT envelope FROM entries WHERE seq = ?", (seq,)).fetchone()
    e = json.loads(env)
    stmt = base64.b64decode(e["payload"])
    if old.encode() not in stmt:
        sys.exit("tamper.py: %r not in the statement of entry %d" % (old, seq))
    stmt = stmt.replace(old.encode(), new.encode(), 1)
    e["payload"] = base64.b64encode(stmt).decode()
    env = json.dumps(e, separators=(",", ":")).encode()
    db.execute("UPDATE entries SET envelope = ? WHERE seq = ?", (env, seq))
    db.execute("UPDATE entry_index SET stmt_hash = ? WHERE seq = ?",
               (hashlib.sha256(stmt).digest(), seq))
    rechain(db, seq)
    close_rw(db)


def cmd_set_time(path, seq, delta):
    seq = int(seq)
    db = open_rw(path)
    db.execute("UPDATE entries SET appended_us = appended_us + ? WHERE seq = ?", (int(delta), seq))
    rechain(db, seq)
    close_rw(db)


def cmd_keyline(keyfile, passfile=None):
    import nacl.bindings
    import nacl.pwhash
    raw = open(keyfile, "rb").read()
    if not raw.endswith(b"\n") or raw.count(b"\n") != 1:
        sys.exit("tamper.py: %s: not one line + \\n" % keyfile)
    line = raw[:-1].decode("ascii")
    if line.startswith("PRIVATE+KEY+"):
        parts = line.split("+")
        name, hx = parts[2], parts[3]
        blob = V.b64decode_strict("+".join(parts[4:]), "signer key")
        if len(blob) != 33 or blob[0] != 1:
            sys.exit("tamper.py: bad signer key")
        seed = blob[1:]
    else:
        f = line.split(" ")
        if len(f) != 8 or f[0] != "mlledger-encrypted-key/v1" or f[2] != "argon2id13":
            sys.exit("tamper.py: %s: unknown key file form" % keyfile)
        keyid, ops, mem = f[1], int(f[3]), int(f[4])
        salt, nonce, ct = (V.b64decode_strict(x, "key file") for x in f[5:8])
        if ops > 16 or mem > (1 << 30) or len(salt) != 16 or len(nonce) != 24 or len(ct) != 48:
            sys.exit("tamper.py: %s: bad parameters" % keyfile)
        pw = open(passfile, "rb").read()
        # the passphrase file's trailing newline is not part of the passphrase
        if pw.endswith(b"\n"):
            pw = pw[:-1]
        k = nacl.pwhash.argon2id.kdf(32, pw, salt, opslimit=ops, memlimit=mem)
        seed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ct, keyid.encode(), nonce, k)
        name, hx = keyid.split("+")
    pub = bytes(nacl.signing.SigningKey(seed).verify_key)
    vk = V.verifier_key_line(name, pub)
    if vk.split("+")[1] != hx:
        sys.exit("tamper.py: %s: key hash in the file does not match the key" % keyfile)
    print(vk)


def main(a):
    cmds = {"sign": (cmd_sign, 2), "enrol-stmt": (cmd_enrol_stmt, 2), "append": (cmd_append, 2),
            "edit-payload": (cmd_edit_payload, 4), "set-time": (cmd_set_time, 3),
            "keyline": (cmd_keyline, 1)}
    if len(a) < 2 or a[1] not in cmds or not (
            len(a) - 2 == cmds[a[1]][1] or (a[1] == "keyline" and len(a) == 4)):
        sys.exit(__doc__)
    cmds[a[1]][0](*a[2:])


if __name__ == "__main__":
    main(sys.argv)

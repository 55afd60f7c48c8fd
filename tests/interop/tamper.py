#!/usr/bin/python3
"""Forgery helper for tests/interop/run.sh (not a test by itself).

Makes tampered ledgers that a byte-level check alone would not catch: the
hash chain and the projection tables are recomputed so that only the rule
under test (signature, time order, key status, admin role, references, key
reuse, statement form, folder manifests, origin) is broken.  Written from
ledger/FORMAT.md; reuses verify_ledger's primitives.

Every command that changes DB also rebuilds its Merkle tree table (§7/§8:
anyone can) and, when the log key file DB.log.key is there (a forger holding
the log key), re-signs every checkpoint with the new roots and adds the one
at the new size (dropping any beyond it).  Without DB.log.key the old
checkpoints stay as they were: a forger without the log key who rechains is
caught by them.

  tamper.py sign KEYFILE OUT            envelope over the statement on stdin
  tamper.py enrol-stmt PUBFILE ROLE     print a key-enrollment statement
  tamper.py append DB ENVFILE [raw]     append ENVFILE as the next entry
                                        (trailing newlines dropped unless raw)
  tamper.py append-at DB ENVFILE TIME_US
                                        the same, with append time TIME_US (µs
                                        since the epoch; "+D"/"-D": the last
                                        entry's time plus/minus D µs)
  tamper.py edit-payload DB SEQ OLD NEW replace OLD by NEW in entry SEQ's
                                        statement (signature kept), rechain
  tamper.py set-time DB SEQ DELTA_US    add DELTA_US to entry SEQ's time, rechain
  tamper.py keyline KEYFILE [PASSFILE]  print the verifier key of a secret key
                                        file (FORMAT.md §1, both forms)
  tamper.py resign DB SEQ OLD NEW KEYFILE
                                        like edit-payload, then re-sign the
                                        statement with KEYFILE (entry_index
                                        keyid and stmt_hash follow), rechain
  tamper.py rename-pub PUBFILE NAME     print the verifier key of PUBFILE's
                                        public key under another name
  tamper.py seedkey NAME SEEDHEX DIR    write DIR/NAME.key (unencrypted) and
                                        DIR/NAME.pub for a given Ed25519 seed
  tamper.py stmt KIND SUBJECT DIGEST PREDICATE_JSON [pretty]
                                        print a statement (compact, or
                                        indented); "time" is added if absent;
                                        DIGEST "manifest" = SHA-256 of the §6
                                        manifest of predicate.artifact.files,
                                        "document" = SHA-256 of
                                        predicate.document (a governance entry)
  tamper.py envelope IN OUT pretty|dup|newline
                                        rewrite envelope IN: indented, with a
                                        duplicated payloadType member, or with
                                        a trailing newline
  tamper.py regenesis DB ADMINKEY ORIGIN [EXTRA_JSON]
                                        replace the genesis entry of a ledger
                                        holding only it by one for ORIGIN (new
                                        random log key, written to DB.log.key),
                                        meta and entry_index follow, rechain;
                                        EXTRA_JSON's members are set in the
                                        predicate (e.g. format, person,
                                        governance; meta format follows)
  tamper.py truncate DB SIZE            drop the entries from seq SIZE on, with
                                        their projections (keys, subjects,
                                        entry_index), tree and checkpoints
  tamper.py checkpoint DB SIZE [KEYFILE|other|forged-hash]
                                        print the checkpoint of the first SIZE
                                        leaves of DB, signed by KEYFILE (default
                                        DB.log.key; "other": a new random key
                                        named by the origin; "forged-hash": the
                                        same, its line claiming the log key's
                                        key hash)
  tamper.py sign-note KEYFILE TEXTFILE  print TEXTFILE's bytes as a signed note
                                        signed by KEYFILE (a signer key file)
  tamper.py bundle MODE IN OUT [ARG]    rewrite tlog-proof bundle IN: MODE
                                        flip-hash (first proof hash, one bit),
                                        drop-hash (the last one), index ARG,
                                        note ARG (the checkpoint note in file
                                        ARG instead); for a consistency proof
                                        (one hash a line) flip-line flips a bit
                                        of the first line
  tamper.py set-checkpoint DB SIZE NOTEFILE
                                        store NOTEFILE's bytes as the
                                        checkpoint row of SIZE (nothing else
                                        is rebuilt or re-signed)
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
TRIGGER_NAMES = [t.split()[2] for t in TRIGGERS]


class Conn(sqlite3.Connection):
    """A connection that remembers its path (for DB.log.key)."""


def open_rw(path):
    db = sqlite3.connect(path, isolation_level=None, factory=Conn)
    db.execute("BEGIN")
    for t in TRIGGER_NAMES:
        db.execute("DROP TRIGGER %s" % t)
    db.path = path
    return db


def rebuild_idem(db):
    """idempotency_keys follows the entries, as a forger holding the keys
    would keep it (FORMAT.md §7): the first entry per (keyid, key)."""
    if not db.execute("SELECT count(*) FROM sqlite_master "
                      "WHERE name = 'idempotency_keys'").fetchone()[0]:
        return
    db.execute("DELETE FROM idempotency_keys")
    for seq, env in db.execute("SELECT seq, envelope FROM entries ORDER BY seq").fetchall():
        try:
            e = json.loads(bytes(env))
            st = json.loads(base64.b64decode(e["payload"]))
            key, keyid = st["predicate"]["idempotencyKey"], e["signatures"][0]["keyid"]
        except Exception:
            continue
        if isinstance(key, str) and isinstance(keyid, str):
            db.execute("INSERT OR IGNORE INTO idempotency_keys VALUES (?,?,?)", (keyid, key, seq))


def close_rw(db, retree=True):
    rebuild_idem(db)
    if retree:
        rebuild_tree(db, db.path)
    for t in TRIGGERS:                      # re-create in §7 order, exact text
        db.execute(t)
    db.execute("COMMIT")
    db.close()


def read_log_key(path):
    """(origin, seed) of DB.log.key, or None when the forger does not hold it."""
    kf = path + ".log.key"
    if not os.path.exists(kf):
        return None
    keyid, sk = read_signer(kf)
    return keyid.split("+")[0], bytes(sk)


def leaf_levels(db):
    leaves = [h for (h,) in db.execute("SELECT leaf_hash FROM entries ORDER BY seq")]
    return len(leaves), V.tree_levels(leaves)


def rebuild_tree(db, path):
    """§7/§8: the tree table from the leaf hashes; with the log key, every
    checkpoint re-signed over the new roots and one at the new size."""
    n, levels = leaf_levels(db)
    db.execute("DELETE FROM tree")
    db.executemany("INSERT INTO tree VALUES (?,?,?)",
                   [(lvl, i, h) for lvl in range(1, len(levels)) for i, h in enumerate(levels[lvl])])
    lk = read_log_key(path)
    if lk is None:
        return
    origin, seed = lk
    sizes = [s for (s,) in db.execute("SELECT size FROM checkpoints")]
    db.execute("DELETE FROM checkpoints")
    for size in sorted(set(s for s in sizes if 1 <= s <= n) | {n}):
        note = V.checkpoint_note(origin, size, V.root_of(levels, size), seed)
        db.execute("INSERT INTO checkpoints VALUES (?, ?)", (size, note.decode("utf-8")))


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


def read_signer(keyfile):
    """(keyid, SigningKey) of an unencrypted signer key file."""
    line = open(keyfile).read().strip()
    # the name (a key name or an origin) holds no '+'; the base64 field may
    parts = line.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        sys.exit("tamper.py: %s: not an unencrypted signer key" % keyfile)
    name, hx, b64 = parts[2], parts[3], parts[4]
    return name + "+" + hx, nacl.signing.SigningKey(base64.b64decode(b64)[1:])


def envelope(stmt, keyfile):
    keyid, sk = read_signer(keyfile)
    sig = sk.sign(V.pae(V.PAYLOAD_TYPE, stmt)).signature
    return ('{"payload":"%s","payloadType":"%s","signatures":[{"keyid":"%s","sig":"%s"}]}'
            % (base64.b64encode(stmt).decode(), V.PAYLOAD_TYPE, keyid,
               base64.b64encode(sig).decode())).encode()


def cmd_sign(keyfile, out):
    open(out, "wb").write(envelope(sys.stdin.buffer.read(), keyfile))


def _holder(key_line):
    """The SigningKey among TAMPER_KEYDIR's unencrypted *.key files whose
    public key is key_line's (under any name), or None."""
    d = os.environ.get("TAMPER_KEYDIR")
    pub = base64.b64decode(key_line.split("+", 2)[2])[1:]
    for f in sorted(os.listdir(d)) if d and os.path.isdir(d) else ():
        if not f.endswith(".key"):
            continue
        try:
            _, sk = read_signer(os.path.join(d, f))
        except (SystemExit, ValueError, TypeError):
            continue
        if bytes(sk.verify_key) == pub:
            return sk
    return None


def bind(kind, subject, pred):
    """FORMAT.md §2 "Origin" and "Proof of possession": with TAMPER_ORIGIN
    set, a statement names that origin (unless its predicate says
    "origin": null) and an enrolment carries the proof of the key's holder
    found in TAMPER_KEYDIR (unless it says "possession": null)."""
    origin = os.environ.get("TAMPER_ORIGIN")
    no_origin = "origin" in pred and pred["origin"] is None
    no_pop = "possession" in pred and pred["possession"] is None
    for m, drop in (("origin", no_origin), ("possession", no_pop)):
        if drop:
            del pred[m]
    if not origin or kind in ("genesis", "gate"):
        return
    if not no_origin:
        pred.setdefault("origin", origin)
    if kind == "key-enrollment" and not no_pop and "possession" not in pred:
        sk = _holder(pred["key"])
        if sk is not None:
            msg = V.possession_message(origin, pred["key"], pred.get("person", {"id": subject}))
            pred["possession"] = base64.b64encode(sk.sign(msg).signature).decode()


def cmd_enrol_stmt(pubfile, role):
    k = open(pubfile).read().strip()
    name = k.split("+")[0]
    st = {"_type": V.STATEMENT_TYPE,
          "subject": [{"name": name, "digest": {"sha256": hashlib.sha256(k.encode()).hexdigest()}}],
          "predicateType": "https://mlledger.dev/key-enrollment/v1",
          "predicate": {"key": k, "roles": [role],
                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
    bind("key-enrollment", name, st["predicate"])
    sys.stdout.write(json.dumps(st, separators=(",", ":")))


def cmd_append_at(path, envfile, at):
    cmd_append(path, envfile, None, at)


def cmd_append(path, envfile, raw=None, at=None):
    env = open(envfile, "rb").read()
    if raw is None:
        env = env.rstrip(b"\n")
    elif raw != "raw":
        sys.exit(__doc__)
    db = open_rw(path)
    seq, prev, t = db.execute("SELECT seq, leaf_hash, appended_us FROM entries "
                              "ORDER BY seq DESC LIMIT 1").fetchone()
    if at is None:
        seq, t = seq + 1, t + 1
    elif at[0] in "+-":
        seq, t = seq + 1, t + int(at)
    else:
        seq, t = seq + 1, int(at)
    db.execute("INSERT INTO entries VALUES (?,?,?,?,?)",
               (seq, prev, t, env, V.leaf_hash(V.leaf_bytes(seq, prev, t, env))))
    # projections as far as the (possibly malformed) envelope allows: an
    # unparsable statement gets an entry_index row with empty kind and name
    e = json.loads(env)
    keyid = e["signatures"][0]["keyid"]
    stmt = base64.b64decode(e["payload"])
    try:
        st = json.loads(stmt)
        kind = "gate" if st["predicateType"] == V.VSA_TYPE else st["predicateType"].split("/")[3]
        sname = st["subject"][0]["name"]
        digest = bytes.fromhex(st["subject"][0]["digest"]["sha256"])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        st, kind, sname, digest = None, "", "", b""
    name, version = sname.split("@", 1) if "@" in sname else (sname, "")
    try:   # fails on a replay: UNIQUE (keyid, stmt_hash)
        db.execute("INSERT INTO entry_index VALUES (?,?,?,?,?,?)",
                   (seq, kind, name, version, keyid, hashlib.sha256(stmt).digest()))
    except sqlite3.IntegrityError:
        pass
    if kind in ("dataset", "model"):
        db.execute("INSERT OR IGNORE INTO subjects VALUES (?,?,?,?)", (kind, sname, digest, seq))
    if kind == "key-enrollment":
        k = st["predicate"]["key"]
        # a keyid enrolled before keeps its row: keys.keyid is the PRIMARY KEY
        db.execute("INSERT OR IGNORE INTO keys VALUES (?,?,?,?,?,NULL)",
                   ("+".join(k.split("+")[:2]), sname, k, ",".join(st["predicate"]["roles"]), seq))
    if kind == "key-revocation":
        k = st["predicate"]["key"]
        db.execute("UPDATE keys SET revoked_seq = ? WHERE keyid = ?", (seq, "+".join(k.split("+")[:2])))
    close_rw(db)


def cmd_edit_payload(path, seq, old, new, keyfile=None):
    seq = int(seq)
    db = open_rw(path)
    (env,) = db.execute("SELECT envelope FROM entries WHERE seq = ?", (seq,)).fetchone()
    e = json.loads(env)
    stmt = base64.b64decode(e["payload"])
    if old.encode() not in stmt:
        sys.exit("tamper.py: %r not in the statement of entry %d" % (old, seq))
    stmt = stmt.replace(old.encode(), new.encode(), 1)
    if keyfile is None:     # signature kept: it no longer verifies
        e["payload"] = base64.b64encode(stmt).decode()
        env = json.dumps(e, separators=(",", ":")).encode()
    else:                   # re-signed by KEYFILE
        env = envelope(stmt, keyfile)
        db.execute("UPDATE entry_index SET keyid = ? WHERE seq = ?",
                   (json.loads(env)["signatures"][0]["keyid"], seq))
    db.execute("UPDATE entries SET envelope = ? WHERE seq = ?", (env, seq))
    db.execute("UPDATE entry_index SET stmt_hash = ? WHERE seq = ?",
               (hashlib.sha256(stmt).digest(), seq))
    rechain(db, seq)
    close_rw(db)


def cmd_resign(path, seq, old, new, keyfile):
    cmd_edit_payload(path, seq, old, new, keyfile)


def cmd_rename_pub(pubfile, name):
    _, _, pub = V.parse_vkey(open(pubfile).read().strip(), V.RE_KEY_NAME, pubfile)
    print(V.verifier_key_line(name, pub))


def cmd_seedkey(name, seedhex, d):
    seed = bytes.fromhex(seedhex)
    pub = bytes(nacl.signing.SigningKey(seed).verify_key)
    hx = V.key_hash(name.encode(), pub).hex()
    kf = os.path.join(d, name + ".key")
    fd = os.open(kf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, ("PRIVATE+KEY+%s+%s+%s\n" % (name, hx, base64.b64encode(b"\x01" + seed).decode())).encode())
    os.close(fd)
    open(os.path.join(d, name + ".pub"), "w").write(V.verifier_key_line(name, pub) + "\n")


def cmd_stmt(kind, subject, digest, predicate, pretty=None):
    pred = json.loads(predicate)
    if kind != "gate":      # a VSA has timeVerified instead (FORMAT.md §2)
        pred.setdefault("time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if digest == "manifest":
        digest = hashlib.sha256(V.manifest(pred["artifact"]["files"])).hexdigest()
    elif digest == "document":
        digest = hashlib.sha256(pred["document"].encode("utf-8")).hexdigest()
    bind(kind, subject, pred)
    st = {"_type": V.STATEMENT_TYPE,
          "subject": [{"name": subject, "digest": {"sha256": digest}}],
          "predicateType": V.VSA_TYPE if kind == "gate" else "https://mlledger.dev/%s/v1" % kind,
          "predicate": pred}
    if pretty not in (None, "pretty"):
        sys.exit(__doc__)
    kw = dict(indent=2) if pretty else dict(separators=(",", ":"))
    try:
        out = json.dumps(st, ensure_ascii=False, **kw).encode("utf-8")
    except UnicodeEncodeError:      # lone surrogates: keep them as \u escapes
        out = json.dumps(st, **kw).encode("ascii")
    sys.stdout.buffer.write(out + (b"\n" if pretty else b""))


def cmd_envelope(src, out, mode):
    raw = open(src, "rb").read().rstrip(b"\n")
    e = json.loads(raw)
    if mode == "pretty":
        raw = json.dumps(e, indent=2).encode()
    elif mode == "dup":
        # payloadType twice, same value both times: only the duplicate is wrong
        raw = raw.replace(b'"payloadType":', b'"payloadType":"%s","payloadType":'
                          % V.PAYLOAD_TYPE.encode(), 1)
    elif mode == "newline":
        raw = raw + b"\n"
    else:
        sys.exit(__doc__)
    open(out, "wb").write(raw)


def cmd_regenesis(path, adminkey, origin, extra=None):
    keyid, sk = read_signer(adminkey)
    admin = V.verifier_key_line(keyid.split("+")[0], bytes(sk.verify_key))
    logseed = os.urandom(32)
    logpub = bytes(nacl.signing.SigningKey(logseed).verify_key)
    logkey = V.verifier_key_line(origin, logpub)
    st = {"_type": V.STATEMENT_TYPE,
          "subject": [{"name": origin, "digest": {"sha256": hashlib.sha256(logkey.encode()).hexdigest()}}],
          "predicateType": "https://mlledger.dev/genesis/v1",
          "predicate": {"format": 1, "origin": origin, "logKey": logkey, "admin": admin,
                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
    st["predicate"].update(json.loads(extra) if extra else {})
    stmt = json.dumps(st, separators=(",", ":")).encode()
    env = envelope(stmt, adminkey)
    db = open_rw(path)
    if db.execute("SELECT count(*) FROM entries").fetchone()[0] != 1:
        sys.exit("tamper.py: regenesis: the ledger must hold only its genesis entry")
    db.execute("UPDATE entries SET envelope = ? WHERE seq = 0", (env,))
    db.execute("UPDATE entry_index SET name = ?, keyid = ?, stmt_hash = ? WHERE seq = 0",
               (origin, keyid, hashlib.sha256(stmt).digest()))
    db.execute("UPDATE meta SET value = ? WHERE key = 'origin'", (origin,))
    db.execute("UPDATE meta SET value = ? WHERE key = 'log_key'", (logkey,))
    db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (str(st["predicate"]["format"]),))
    rechain(db, 0)
    # the forger made this log key: it signs the checkpoints from now on
    # (written as mlledger's signer key line, even for an origin mlledger
    # would refuse)
    kf = path + ".log.key"
    if os.path.exists(kf):
        os.unlink(kf)
    fd = os.open(kf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, ("PRIVATE+KEY+%s+%s+%s\n" % (origin, V.key_hash(origin.encode(), logpub).hex(),
                                               base64.b64encode(b"\x01" + logseed).decode())).encode())
    os.close(fd)
    close_rw(db)


def cmd_truncate(path, size):
    size = int(size)
    db = open_rw(path)
    for t in ("entries", "entry_index"):
        db.execute("DELETE FROM %s WHERE seq >= ?" % t, (size,))
    db.execute("DELETE FROM subjects WHERE seq >= ?", (size,))
    db.execute("DELETE FROM keys WHERE enrolled_seq >= ?", (size,))
    db.execute("UPDATE keys SET revoked_seq = NULL WHERE revoked_seq >= ?", (size,))
    close_rw(db)


def cmd_checkpoint(path, size, keyfile=None):
    size = int(size)
    db = sqlite3.connect(path)
    origin = db.execute("SELECT value FROM meta WHERE key = 'origin'").fetchone()[0]
    n, levels = leaf_levels(db)
    db.close()
    if not 0 <= size <= n:
        sys.exit("tamper.py: checkpoint: size %d beyond the %d entries" % (size, n))
    if keyfile in ("other", "forged-hash"):
        seed = os.urandom(32)
    else:
        keyid, sk = read_signer(keyfile or path + ".log.key")
        seed = bytes(sk)
        origin = keyid.split("+")[0]     # signed under the key's name
    note = V.checkpoint_note(origin, size, V.root_of(levels, size), seed)
    if keyfile == "forged-hash":
        _, sk = read_signer(path + ".log.key")
        text, sigs = V.parse_signed_note(note, "note")
        kh = V.key_hash(origin.encode(), bytes(sk.verify_key))
        note = text + b"\n" + V.SIG_PREFIX + origin.encode() + b" " + base64.b64encode(kh + sigs[0][2]) + b"\n"
    sys.stdout.buffer.write(note)


def cmd_sign_note(keyfile, textfile):
    keyid, sk = read_signer(keyfile)
    name = keyid.split("+")[0]
    text = open(textfile, "rb").read()
    kh = V.key_hash(name.encode(), bytes(sk.verify_key))
    sys.stdout.buffer.write(text + b"\n" + V.SIG_PREFIX + name.encode() + b" "
                            + base64.b64encode(kh + sk.sign(text).signature) + b"\n")


def flip_b64_line(line):
    raw = bytearray(base64.b64decode(line))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw))


def cmd_bundle(mode, src, out, arg=None):
    raw = open(src, "rb").read()
    if mode == "flip-line":
        lines = raw.split(b"\n")
        lines[0] = flip_b64_line(lines[0])
        open(out, "wb").write(b"\n".join(lines))
        return
    index, hashes, note = V.parse_tlog_proof(raw)
    if mode == "flip-hash":
        hashes[0] = base64.b64decode(flip_b64_line(base64.b64encode(hashes[0])))
    elif mode == "drop-hash":
        hashes = hashes[:-1]
    elif mode == "index":
        index = int(arg)
    elif mode == "note":
        note = open(arg, "rb").read()
    else:
        sys.exit(__doc__)
    open(out, "wb").write(V.PROOF_HEADER + b"index %d\n" % index
                          + b"".join(base64.b64encode(h) + b"\n" for h in hashes) + b"\n" + note)

def cmd_set_checkpoint(path, size, notefile):
    note = open(notefile, "rb").read().decode("utf-8")
    db = open_rw(path)
    db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?, ?)", (int(size), note))
    close_rw(db, retree=False)


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
    cmds = {"sign": (cmd_sign, 2), "enrol-stmt": (cmd_enrol_stmt, 2), "append": (cmd_append, 2), "append-at": (cmd_append_at, 3),
            "edit-payload": (cmd_edit_payload, 4), "set-time": (cmd_set_time, 3),
            "keyline": (cmd_keyline, 1), "resign": (cmd_resign, 5),
            "rename-pub": (cmd_rename_pub, 2), "seedkey": (cmd_seedkey, 3),
            "stmt": (cmd_stmt, 4), "envelope": (cmd_envelope, 3),
            "regenesis": (cmd_regenesis, 3), "truncate": (cmd_truncate, 2),
            "checkpoint": (cmd_checkpoint, 2), "set-checkpoint": (cmd_set_checkpoint, 3),
            "sign-note": (cmd_sign_note, 2), "bundle": (cmd_bundle, 3)}
    optional = {"keyline": 1, "stmt": 1, "append": 1, "checkpoint": 1, "bundle": 1,
                "regenesis": 1}   # commands with one optional argument
    if len(a) < 2 or a[1] not in cmds or not (
            len(a) - 2 == cmds[a[1]][1] or len(a) - 2 == cmds[a[1]][1] + optional.get(a[1], -99)):
        sys.exit(__doc__)
    cmds[a[1]][0](*a[2:])


if __name__ == "__main__":
    main(sys.argv)

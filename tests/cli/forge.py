#!/usr/bin/python3
"""Forger's and checker's helper for tests/cli/run.sh (not a test by itself).

Written from ledger/FORMAT.md §4 (leaf bytes), §7 (tables) and §8 (tree,
checkpoints), independently of the C code.  A forger who holds the log key
(PATH.log.key) can rebuild everything verify recomputes; one without it can
rebuild the chain and the tree but not the checkpoints.

  forge.py rebuild DB [chain] [tree] [sign=LOGKEYFILE]
      with every trigger dropped (and recreated, same text and order) in one
      transaction:
        chain   recompute prev and leaf_hash of every entry from seq 0
        tree    rewrite table tree: every complete subtree of level >= 1
        sign=K  re-sign the checkpoints with the log key file K: the root
                of each stored size <= n recomputed, sizes > n dropped, and
                one at size n added when missing
  forge.py truncate DB N
      delete entries >= N with their projection rows (entry_index, subjects,
      keys enrolled at or after N, revocations at or after N), the tree
      nodes covering leaves >= N and the checkpoints of sizes > N
  forge.py replace DB SEQ     envelope on stdin: entry SEQ's envelope becomes it,
                              and its entry_index stmt_hash the SHA-256 of its
                              payload (then rebuild chain tree sign=K)
  forge.py root DB N          base64 root of the first N stored leaf hashes
  forge.py sign-note KEYFILE  note (or bare text) on stdin: print its text
                              signed by KEYFILE only (a PRIVATE+KEY+ file)
  forge.py sign-envelope KEYFILE
                              statement bytes on stdin: print the DSSE
                              envelope (FORMAT.md §3) signing them with KEYFILE
  forge.py check-note VKEY    note on stdin: exit 0 when a signature line by
                              the verifier key line VKEY verifies
  forge.py manifest DIR KEYFILE
                              rewrite DIR/MANIFEST (FORMAT.md §10) for the
                              regular files DIR holds now (top level, keys/,
                              policies/; not MANIFEST*, ledger.db-wal/-shm),
                              keeping its scope lines, exporter = KEYFILE's
                              keyid, and sign it into MANIFEST.sig
  forge.py check-consistency M ROOT_M N ROOT_N
                              proof on stdin (one base64 hash a line): exit 0
                              when it is the RFC 9162 §2.1.4.2 proof
"""

import base64
import hashlib
import sqlite3
import struct
import sys

import nacl.exceptions
import nacl.signing

sys.dont_write_bytecode = True


def sha(b):
    return hashlib.sha256(b).digest()


def node(left, right):
    return sha(b"\x01" + left + right)


def leaf_bytes(seq, prev, time_us, env):
    return b"\x01" + struct.pack(">Q", seq) + prev + struct.pack(">q", time_us) + \
        struct.pack(">I", len(env)) + env


def levels_of(leaves):
    """levels[k][i] = hash of leaves [i*2^k, (i+1)*2^k), complete subtrees only."""
    levels = [list(leaves)]
    while len(levels[-1]) >= 2:
        lv = levels[-1]
        levels.append([node(lv[2 * i], lv[2 * i + 1]) for i in range(len(lv) // 2)])
    return levels


def root_of(levels, size):
    if size == 0:
        return sha(b"")
    parts, start = [], 0
    for k in range(63, -1, -1):
        if size >> k & 1:
            parts.append(levels[k][start >> k])
            start += 1 << k
    r = parts[-1]
    for x in reversed(parts[:-1]):
        r = node(x, r)
    return r


def load_seckey(path):
    line = open(path, "rb").read().decode().strip()
    f = line.split("+", 4)
    if len(f) != 5 or f[0] != "PRIVATE" or f[1] != "KEY":
        sys.exit("forge.py: %s: not a PRIVATE+KEY+ file" % path)
    raw = base64.b64decode(f[4])
    if len(raw) != 33 or raw[0] != 1:
        sys.exit("forge.py: %s: not an Ed25519 key" % path)
    sk = nacl.signing.SigningKey(raw[1:])
    pk = bytes(sk.verify_key)
    name = f[2]
    kh = sha(name.encode() + b"\n\x01" + pk)[:4]
    if kh.hex() != f[3]:
        sys.exit("forge.py: %s: key hash mismatch" % path)
    return name, kh, sk


def sign_text(key, text):
    name, kh, sk = key
    sig = sk.sign(text).signature
    return text + b"\n" + ("\u2014 %s " % name).encode() + base64.b64encode(kh + sig) + b"\n"


def sign_envelope(key, stmt):
    """FORMAT.md §3: Ed25519 over the DSSE PAE, canonical envelope JSON."""
    name, kh, sk = key
    ptype = b"application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(stmt), stmt)
    sig = sk.sign(pae).signature
    return ('{"payload":"%s","payloadType":"%s","signatures":[{"keyid":"%s+%s","sig":"%s"}]}'
            % (base64.b64encode(stmt).decode(), ptype.decode(), name, kh.hex(),
               base64.b64encode(sig).decode())).encode()


def note_text(note):
    i = note.find(b"\n\n")
    return note if i < 0 else note[:i + 1]


def checkpoint_text(origin, size, root):
    return b"%s\n%d\n%s\n" % (origin.encode(), size, base64.b64encode(root))


class Triggers:
    """Drops every trigger; put() recreates them as they were."""

    def __init__(self, db):
        self.db = db
        self.rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                               "ORDER BY rowid").fetchall()
        for name, _ in self.rows:
            db.execute('DROP TRIGGER "%s"' % name)

    def put(self):
        for _, s in self.rows:
            self.db.execute(s)


def open_db(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    return db, Triggers(db)


def close_db(db, trig):
    trig.put()
    db.execute("COMMIT")
    db.close()


def rebuild(path, steps):
    db, trig = open_db(path)
    if "chain" in steps:
        prev = b"\x00" * 32
        for seq, t, env in db.execute("SELECT seq, appended_us, envelope FROM entries "
                                      "ORDER BY seq").fetchall():
            lh = sha(b"\x00" + leaf_bytes(seq, prev, t, bytes(env)))
            db.execute("UPDATE entries SET prev = ?, leaf_hash = ? WHERE seq = ?",
                       (prev, lh, seq))
            prev = lh
    leaves = [bytes(r[0]) for r in db.execute("SELECT leaf_hash FROM entries ORDER BY seq")]
    n = len(leaves)
    levels = levels_of(leaves)
    if "tree" in steps:
        db.execute("DELETE FROM tree")
        for k in range(1, len(levels)):
            for i, h in enumerate(levels[k]):
                db.execute("INSERT INTO tree (level, idx, hash) VALUES (?, ?, ?)", (k, i, h))
    if "sign" in steps:
        key = load_seckey(steps["sign"])
        origin = db.execute("SELECT value FROM meta WHERE key = 'origin'").fetchone()[0]
        sizes = [r[0] for r in db.execute("SELECT size FROM checkpoints ORDER BY size")]
        db.execute("DELETE FROM checkpoints")
        sizes = sorted(set([s for s in sizes if 0 < s <= n] + [n]))
        for s in sizes:
            note = sign_text(key, checkpoint_text(origin, s, root_of(levels, s)))
            db.execute("INSERT INTO checkpoints (size, note) VALUES (?, ?)", (s, note.decode()))
    close_db(db, trig)


def truncate(path, n):
    db, trig = open_db(path)
    db.execute("DELETE FROM entries WHERE seq >= ?", (n,))
    db.execute("DELETE FROM entry_index WHERE seq >= ?", (n,))
    db.execute("DELETE FROM subjects WHERE seq >= ?", (n,))
    if db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'idempotency_keys'").fetchone()[0]:
        db.execute("DELETE FROM idempotency_keys WHERE seq >= ?", (n,))
    db.execute("DELETE FROM keys WHERE enrolled_seq >= ?", (n,))
    db.execute("UPDATE keys SET revoked_seq = NULL WHERE revoked_seq >= ?", (n,))
    db.execute("DELETE FROM tree WHERE (idx + 1) * (1 << level) > ?", (n,))
    db.execute("DELETE FROM checkpoints WHERE size > ?", (n,))
    close_db(db, trig)


def replace(path, seq, env):
    import json
    payload = base64.b64decode(json.loads(env)["payload"])
    db, trig = open_db(path)
    db.execute("UPDATE entries SET envelope = ? WHERE seq = ?", (env, seq))
    db.execute("UPDATE entry_index SET stmt_hash = ? WHERE seq = ?", (sha(payload), seq))
    close_db(db, trig)


def check_note(vkey, note):
    f = vkey.strip().split("+", 2)
    raw = base64.b64decode(f[2])
    if len(f) != 3 or len(raw) != 33 or raw[0] != 1:
        sys.exit("forge.py: not an Ed25519 verifier key line")
    name, pk = f[0], raw[1:]
    kh = sha(name.encode() + b"\n\x01" + pk)
    if kh[:4].hex() != f[1]:
        sys.exit("forge.py: verifier key hash mismatch")
    text = note_text(note)
    for line in note[len(text) + 1:].split(b"\n"):
        parts = line.decode().split(" ")
        if len(parts) == 3 and parts[0] == "\u2014" and parts[1] == name:
            blob = base64.b64decode(parts[2])
            if blob[:4] == kh[:4] and len(blob) == 68:
                try:
                    nacl.signing.VerifyKey(pk).verify(text, blob[4:])
                    return 0
                except nacl.exceptions.BadSignatureError:
                    return 1
    return 1


def check_consistency(m, r1, n, r2, proof):
    if not 0 < m <= n:
        return 1
    if m == n:
        return 0 if not proof and r1 == r2 else 1
    if not proof:
        return 1
    if m & (m - 1) == 0:
        proof = [r1] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return 1
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return 0 if fr == r1 and sr == r2 and sn == 0 else 1


def manifest(d, key):
    import os
    name, kh, sk = key
    old = open(os.path.join(d, "MANIFEST"), "rb").read().split(b"\n")
    head = [l for l in old[1:6]]
    out = [b"mlledger bundle manifest v1"] + head + [b"exporter %s+%s" % (name.encode(), kh.hex().encode())]
    paths = []
    for sub in ("", "keys/", "policies/"):
        p = os.path.join(d, sub)
        if not os.path.isdir(p) or os.path.islink(p.rstrip("/")):
            continue
        for f in os.listdir(p):
            rel = sub + f
            full = os.path.join(d, rel)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            if rel in ("MANIFEST", "MANIFEST.sig", "ledger.db-wal", "ledger.db-shm"):
                continue
            paths.append(rel.encode())
    for rel in sorted(paths):
        b = open(os.path.join(d, rel.decode()), "rb").read()
        out.append(b"file %s %d %s" % (sha(b).hex().encode(), len(b), rel))
    text = b"\n".join(out) + b"\n"
    open(os.path.join(d, "MANIFEST"), "wb").write(text)
    sig = base64.b64encode(sk.sign(text).signature)
    open(os.path.join(d, "MANIFEST.sig"), "wb").write(
        b"%s+%s %s\n" % (name.encode(), kh.hex().encode(), sig))


def main(a):
    if len(a) >= 2 and a[0] == "rebuild":
        steps = {}
        for s in a[2:]:
            k, _, v = s.partition("=")
            if k not in ("chain", "tree", "sign") or (k == "sign") != bool(v):
                sys.exit("forge.py: unknown step %s" % s)
            steps[k] = v
        rebuild(a[1], steps)
        return 0
    if len(a) == 3 and a[0] == "truncate":
        truncate(a[1], int(a[2]))
        return 0
    if len(a) == 3 and a[0] == "replace":
        replace(a[1], int(a[2]), sys.stdin.buffer.read().rstrip(b"\n"))
        return 0
    if len(a) == 3 and a[0] == "root":
        db = sqlite3.connect(a[1])
        leaves = [bytes(r[0]) for r in db.execute("SELECT leaf_hash FROM entries ORDER BY seq")]
        print(base64.b64encode(root_of(levels_of(leaves), int(a[2]))).decode())
        return 0
    if len(a) == 2 and a[0] == "sign-note":
        sys.stdout.buffer.write(sign_text(load_seckey(a[1]), note_text(sys.stdin.buffer.read())))
        return 0
    if len(a) == 2 and a[0] == "sign-envelope":
        sys.stdout.buffer.write(sign_envelope(load_seckey(a[1]), sys.stdin.buffer.read()))
        return 0
    if len(a) == 3 and a[0] == "manifest":
        manifest(a[1], load_seckey(a[2]))
        return 0
    if len(a) == 2 and a[0] == "check-note":
        return check_note(a[1], sys.stdin.buffer.read())
    if len(a) == 5 and a[0] == "check-consistency":
        proof = [base64.b64decode(x) for x in sys.stdin.read().split()]
        return check_consistency(int(a[1]), base64.b64decode(a[2]), int(a[3]),
                                 base64.b64decode(a[4]), proof)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

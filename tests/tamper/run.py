#!/usr/bin/python3
"""tests/tamper/run.py: the tamper suite (issue 6, part 2).

    MLLEDGER=/abs/build/mlledger /usr/bin/python3 tests/tamper/run.py

Builds, with the CLI only, a ledger holding every entry kind (genesis,
key-enrollment, dataset, model, evaluation, approval, deployment,
monitoring, waiver, retirement, key-revocation, incident), saves its
checkpoint outside it (HELD), then tampers with a fresh copy of it once per
case, straight in the SQLite file (python3's sqlite3 module), and runs
`mlledger verify` on the copy.  Every case must exit 4 with a message that
names the entry at fault ("entry SEQ"), else the case fails.

The cases: one byte changed in each stored column of table entries (seq,
prev, appended_us, envelope, leaf_hash) of an early, a middle and the last
entry; an entry deleted; two entries swapped; a forged entry appended; an
envelope replaced by one signed by a key never enrolled, and by one signed
by an enrolled key whose roles may not sign its kind; a governance
document rewritten and person fields added or changed under the admin's
signature; a revocation moved
back before entries its key signed; the tail cut off and the chain, tree
and checkpoints rebuilt with the stolen log key (caught only by
`verify --checkpoint HELD`, which is what the case runs; plain `verify` is
shown to accept it, as SECURITY.md says).  The append-only triggers are
dropped before each change and recreated after it (forge.py), so that the
schema check does not catch the change first.  Forgers who hold the log key
rebuild the chain, the Merkle tree, the checkpoints and the projection rows
they disturb, so that only the rule under test is broken.

Prints a table of cases and results and a final "N passed, N failed" line;
exits 1 when any case was not caught.  Needs PyNaCl (python3-nacl): through
tests/cli/forge.py, for the forgers with the stolen log key.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import forge  # noqa: E402  (tests/cli/forge.py)

MLLEDGER = os.environ.get("MLLEDGER") or os.path.join(HERE, "..", "..", "build", "mlledger")
UNGATED = os.path.join(HERE, "..", "data", "governance-ungated.json")
EARLY, MIDDLE, LAST = 1, 6, 12
COLUMNS = ("seq", "prev", "appended_us", "envelope", "leaf_hash")


def sh(*args, cwd=None, ok=True):
    p = subprocess.run([MLLEDGER] + list(args), cwd=cwd, capture_output=True, text=True)
    if ok and p.returncode != 0:
        sys.exit("tamper: mlledger %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                         p.stderr.strip()))
    return p


# ---- the ledger ------------------------------------------------------------

def build(w):
    """Builds w/base/ledger.db with every kind; returns the held checkpoint."""
    k, base = os.path.join(w, "k"), os.path.join(w, "base")
    os.makedirs(os.path.join(w, "art"))
    os.makedirs(base)
    os.makedirs(k)
    for n in ("admin", "eng", "appr", "stranger"):
        sh("key", "new", n, "--dir", k)
    with open(os.path.join(w, "train.csv"), "w") as f:
        f.write("id,label\n1,0\n")
    with open(os.path.join(w, "art", "model.bin"), "w") as f:
        f.write("weights")
    db = os.path.join(base, "ledger.db")
    m = "fraud/detector@1.0.0"
    steps = [
        # the default governance without "gates": entry 7 deploys to prod
        # without a gate decision, and every kind keeps its seq
        ["init", "--key", k + "/admin.key", "--origin", "tamper-test/story",
         "--governance", UNGATED],                                                     # 0
        # eng also holds role validator, so that one key signs the evaluation
        # too and every kind keeps its seq (FORMAT.md §2 default roles)
        ["key", "enroll", k + "/eng.pub", "--holder-key", k + "/eng.key", "--role", "engineer,validator",
         "--key", k + "/admin.key"],
        ["key", "enroll", k + "/appr.pub", "--holder-key", k + "/appr.key", "--role", "approver,risk-officer",
         "--key", k + "/admin.key"],
        ["record", "dataset", "train@1", "--file", w + "/train.csv", "--set", "license=MIT",
         "--key", k + "/eng.key"],                                                     # 3
        ["record", "model", m, "--artifact", w + "/art", "--dataset", "train@1",
         "--metric", "auc=0.91", "--key", k + "/eng.key"],
        ["record", "evaluation", m, "--metric", "auc=0.9", "--dataset", "train@1",
         "--key", k + "/eng.key"],
        ["record", "approval", m, "--env", "prod", "--decision", "approve",
         "--comment", "validated", "--key", k + "/appr.key"],                          # 6
        ["record", "deployment", m, "--env", "prod", "--key", k + "/eng.key"],
        ["record", "monitoring", m, "--env", "prod", "--metric", "drift=0.02",
         "--key", k + "/eng.key"],
        ["record", "waiver", m, "--rule", "R-7", "--expires", "2099-12-31",
         "--reason", "pending", "--key", k + "/appr.key"],                              # 9
        # a retirement retires a version deployed there (entry 7)
        ["record", "retirement", m, "--env", "prod", "--reason", "superseded",
         "--key", k + "/eng.key"],
        ["key", "revoke", "appr", "--reason", "laptop lost", "--key", k + "/admin.key"],
        ["record", "incident", m, "--severity", "high", "--description", "drift spike",
         "--key", k + "/eng.key"],                                                     # 12
    ]
    for s in steps:
        sh("--ledger", db, *s)
    kinds = [r[0] for r in sqlite3.connect(db).execute(
        "SELECT kind FROM entry_index ORDER BY seq")]
    assert len(kinds) == LAST + 1, kinds
    held = os.path.join(w, "held.ckpt")
    with open(held, "w") as f:
        f.write(sh("--ledger", db, "checkpoint").stdout)
    c = sqlite3.connect(db)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    p = sh("--ledger", db, "verify", ok=False)
    if p.returncode != 0:
        sys.exit("tamper: the untampered ledger does not verify: " + p.stderr)
    return kinds, held


def copy_base(w, name):
    d = os.path.join(w, "cases", name)
    os.makedirs(d)
    for f in os.listdir(os.path.join(w, "base")):
        shutil.copy(os.path.join(w, "base", f), d)
    return os.path.join(d, "ledger.db")


# ---- tampering helpers -------------------------------------------------------

def edit(db, fn):
    """Runs fn(conn) with every trigger dropped, then recreates them."""
    conn, trig = forge.open_db(db)
    fn(conn)
    forge.close_db(conn, trig)


def flip_byte(conn, seq, col):
    """Changes one byte of column col of entry seq."""
    if col in ("seq", "appended_us"):    # byte 1 of seq, byte 0 of the time
        v = conn.execute("SELECT %s FROM entries WHERE seq = ?" % col, (seq,)).fetchone()[0]
        conn.execute("UPDATE entries SET %s = ? WHERE seq = ?" % col,
                     (v ^ (256 if col == "seq" else 1), seq))
    else:
        b = bytearray(conn.execute("SELECT %s FROM entries WHERE seq = ?" % col,
                                   (seq,)).fetchone()[0])
        b[len(b) // 2] ^= 0x01
        conn.execute("UPDATE entries SET %s = ? WHERE seq = ?" % col, (bytes(b), seq))


def rows(conn, table):
    return {r[0]: r[1:] for r in conn.execute("SELECT * FROM %s ORDER BY seq" % table)}


def reorder(conn, order):
    """Puts old entry order[i] at seq i (envelopes and entry_index rows move;
    append times stay with their place so that they still grow), and moves
    the seqs the projection tables hold; the chain is rebuilt later."""
    ent, ix = rows(conn, "entries"), rows(conn, "entry_index")
    new_of = {old: new for new, old in enumerate(order)}
    conn.execute("DELETE FROM entries")
    conn.execute("DELETE FROM entry_index")
    for new, old in enumerate(order):
        prev, _, env, lh = ent[old]
        conn.execute("INSERT INTO entries VALUES (?,?,?,?,?)",
                     (new, prev, ent[new][1], env, lh))
        conn.execute("INSERT INTO entry_index VALUES (?,?,?,?,?,?)", (new,) + ix[old])
    for table, col in (("subjects", "seq"), ("keys", "enrolled_seq"), ("keys", "revoked_seq")):
        for (old,) in conn.execute("SELECT DISTINCT %s FROM %s WHERE %s IS NOT NULL"
                                   % (col, table, col)).fetchall():
            conn.execute("UPDATE %s SET %s = ? WHERE %s = ?" % (table, col, col),
                         (-1 - new_of[old], old))
        conn.execute("UPDATE %s SET %s = -1 - %s WHERE %s < 0" % (table, col, col, col))


def stolen_rebuild(db):
    """A forger holding the log key: chain, tree and checkpoints rebuilt."""
    forge.rebuild(db, {"chain": "", "tree": "", "sign": db + ".log.key"})


def put_envelope(conn, seq, env):
    """Stores env as entry seq's envelope, its entry_index row following."""
    e = json.loads(env)
    payload = base64.b64decode(e["payload"])
    keyid = e["signatures"][0]["keyid"]
    conn.execute("UPDATE entries SET envelope = ? WHERE seq = ?", (env, seq))
    conn.execute("UPDATE entry_index SET keyid = ?, stmt_hash = ? WHERE seq = ?",
                 (keyid, hashlib.sha256(payload).digest(), seq))


def append_entry(conn, env):
    """Appends env at the end with a correct link and leaf hash."""
    seq, prev = conn.execute("SELECT seq, leaf_hash FROM entries ORDER BY seq DESC").fetchone()
    seq += 1
    t = conn.execute("SELECT appended_us FROM entries WHERE seq = ?", (seq - 1,)).fetchone()[0] + 1
    lh = forge.sha(b"\x00" + forge.leaf_bytes(seq, prev, t, env))
    conn.execute("INSERT INTO entries VALUES (?,?,?,?,?)", (seq, prev, t, env, lh))
    e = json.loads(env)
    payload = base64.b64decode(e["payload"])
    ix = conn.execute("SELECT kind, name, version FROM entry_index WHERE seq = ?",
                      (LAST,)).fetchone()
    conn.execute("INSERT INTO entry_index VALUES (?,?,?,?,?,?)",
                 (seq,) + tuple(ix) + (e["signatures"][0]["keyid"],
                                       hashlib.sha256(payload).digest()))


def rewrite_statement(conn, seq, fn):
    """Entry seq's statement changed by fn(statement dict), re-encoded
    compactly, its signature kept (a forger without the author's key)."""
    env = bytes(conn.execute("SELECT envelope FROM entries WHERE seq = ?",
                             (seq,)).fetchone()[0])
    e = json.loads(env)
    st = json.loads(base64.b64decode(e["payload"]))
    fn(st)
    e["payload"] = base64.b64encode(json.dumps(st, separators=(",", ":")).encode()).decode()
    put_envelope(conn, seq, json.dumps(e, separators=(",", ":")).encode())


def forged_envelope(conn):
    """Entry LAST's incident (by eng, still enrolled) with its description
    changed, signature kept."""
    env = bytes(conn.execute("SELECT envelope FROM entries WHERE seq = ?",
                             (LAST,)).fetchone()[0])
    e = json.loads(env)
    payload = base64.b64decode(e["payload"]).replace(b"drift spike", b"all fine!!!")
    e["payload"] = base64.b64encode(payload).decode()
    return json.dumps(e, separators=(",", ":")).encode()


# ---- the cases ---------------------------------------------------------------

def cases(w, held):
    """(name, what, expected seq, tamper(db), extra verify args)."""
    k = os.path.join(w, "k")
    out = []
    for seq, where in ((EARLY, "early"), (MIDDLE, "middle"), (LAST, "last")):
        for col in COLUMNS:
            out.append(("byte-%s-%s" % (col, where), "one byte of entries.%s of entry %d"
                        % (col, seq), seq,
                        lambda db, s=seq, c=col: edit(db, lambda x: flip_byte(x, s, c)), []))
    out.append(("delete", "entry %d deleted" % MIDDLE, MIDDLE,
                lambda db: edit(db, lambda x: x.execute("DELETE FROM entries WHERE seq = ?",
                                                        (MIDDLE,))), []))

    def swap_rows(x):
        a = x.execute("SELECT * FROM entries WHERE seq = 5").fetchone()
        b = x.execute("SELECT * FROM entries WHERE seq = 6").fetchone()
        x.execute("DELETE FROM entries WHERE seq IN (5, 6)")
        x.execute("INSERT INTO entries VALUES (?,?,?,?,?)", (5,) + tuple(b[1:]))
        x.execute("INSERT INTO entries VALUES (?,?,?,?,?)", (6,) + tuple(a[1:]))
    out.append(("swap", "entries 5 and 6 swapped (rows as stored)", 5,
                lambda db: edit(db, swap_rows), []))

    def swap_rechained(db):
        edit(db, lambda x: reorder(x, [0, 1, 2, 4, 3] + list(range(5, LAST + 1))))
        stolen_rebuild(db)
    out.append(("swap-rechained", "dataset 3 and model 4 swapped; chain, tree, "
                "checkpoints rebuilt with the log key", 3, swap_rechained, []))

    def append_forged(db):
        edit(db, lambda x: append_entry(x, forged_envelope(x)))
        stolen_rebuild(db)
    out.append(("append-forged", "entry %d appended: incident %d's statement changed, its "
                "signature kept; tree, checkpoints re-signed" % (LAST + 1, LAST), LAST + 1,
                append_forged, []))

    def unenrolled(db):
        f = os.path.join(os.path.dirname(db), "stranger.dsse")
        digest = "sha256:" + bytes(sqlite3.connect(db).execute(
            "SELECT digest FROM subjects WHERE kind = 'model'").fetchone()[0]).hex()
        sh("sign", "deployment", "fraud/detector@1.0.0", "--env", "prod", "--digest", digest,
           "--origin", "tamper-test/story", "--key", k + "/stranger.key", "--out", f)
        env = open(f, "rb").read().rstrip(b"\n")
        edit(db, lambda x: put_envelope(x, 7, env))
        stolen_rebuild(db)
    out.append(("unenrolled-key", "entry 7's envelope replaced by one signed by a key never "
                "enrolled; chain, tree, checkpoints rebuilt", 7, unenrolled, []))

    def wrong_role(db):
        f = os.path.join(os.path.dirname(db), "appr-deploy.dsse")
        digest = "sha256:" + bytes(sqlite3.connect(db).execute(
            "SELECT digest FROM subjects WHERE kind = 'model'").fetchone()[0]).hex()
        sh("sign", "deployment", "fraud/detector@1.0.0", "--env", "prod", "--digest", digest,
           "--origin", "tamper-test/story", "--key", k + "/appr.key", "--out", f)
        env = open(f, "rb").read().rstrip(b"\n")
        edit(db, lambda x: put_envelope(x, 7, env))
        stolen_rebuild(db)
    out.append(("wrong-role", "entry 7's deployment replaced by one signed by appr (enrolled, "
                "but approver and risk-officer may not sign deployments; FORMAT.md §5 rule 9); "
                "chain, tree, checkpoints rebuilt", 7, wrong_role, []))

    def governance_rewritten(db):
        doc = os.path.join(os.path.dirname(db), "gov.json")
        with open(doc, "w") as f:
            f.write('{"environments": ["staging", "prod"]}')
        sh("--ledger", db, "governance", "set", doc, "--key", k + "/admin.key")

        def widen(st):  # a well-formed statement: the digest follows the text
            text = '{"environments": ["staging", "prod", "anywhere"]}'
            st["predicate"]["document"] = text
            st["subject"][0]["digest"]["sha256"] = hashlib.sha256(text.encode()).hexdigest()
        edit(db, lambda x: rewrite_statement(x, LAST + 1, widen))
        stolen_rebuild(db)
    out.append(("governance-rewritten", "a governance entry (%d) whose document is widened, "
                "its subject digest recomputed, the admin's signature kept; chain, tree, "
                "checkpoints rebuilt" % (LAST + 1), LAST + 1, governance_rewritten, []))

    def person_added(db):
        def claim(st):
            st["predicate"]["person"] = {"id": "admin", "name": "The Admin"}
        edit(db, lambda x: rewrite_statement(x, 2, claim))
        stolen_rebuild(db)
    out.append(("person-field", "enrolment 2 given a person field (appr claims to be the "
                "admin person), the admin's signature kept; chain, tree, checkpoints rebuilt",
                2, person_added, []))

    def person_swapped(db):
        sh("--ledger", db, "key", "new", "p2", "--dir", os.path.dirname(db))
        sh("--ledger", db, "key", "enroll", os.path.join(os.path.dirname(db), "p2.pub"),
           "--holder-key", os.path.join(os.path.dirname(db), "p2.key"), "--role", "approver", "--person", "carol", "--key", k + "/admin.key")

        def swap(st):
            st["predicate"]["person"]["id"] = "admin"
        edit(db, lambda x: rewrite_statement(x, LAST + 1, swap))
        stolen_rebuild(db)
    out.append(("person-swapped", "enrolment %d's person id changed from carol to admin, the "
                "admin's signature kept; chain, tree, checkpoints rebuilt" % (LAST + 1),
                LAST + 1, person_swapped, []))

    def backdate(db):
        order = list(range(0, MIDDLE)) + [11] + [s for s in range(MIDDLE, LAST + 1) if s != 11]
        edit(db, lambda x: reorder(x, order))
        stolen_rebuild(db)
    out.append(("backdated-revocation", "revocation of appr (entry 11) moved back to seq %d, "
                "before appr's approval; chain, tree, checkpoints rebuilt" % MIDDLE,
                MIDDLE + 1, backdate, []))

    def truncate(db):
        forge.truncate(db, 9)
        stolen_rebuild(db)
    out.append(("truncate-resigned", "entries 9.. cut off; chain, tree, checkpoints "
                "rebuilt with the log key; verify --checkpoint HELD", 9, truncate,
                ["--checkpoint", held]))
    return out


def run_case(w, case):
    name, what, seq, tamper, args = case
    db = copy_base(w, name)
    tamper(db)
    p = sh("--ledger", db, "verify", *args, ok=False)
    msg = (p.stderr.strip().splitlines() or [""])[0]
    named = re.search(r"\bentry %d\b" % seq, p.stderr) is not None
    plain = None
    if args:
        plain = sh("--ledger", db, "verify", ok=False).returncode
    return p.returncode, named, msg, plain


def main():
    if not os.access(MLLEDGER, os.X_OK):
        print("not ok - environment: %s is not an executable (set MLLEDGER)" % MLLEDGER)
        print("0 passed, 1 failed")
        return 1
    w = tempfile.mkdtemp(prefix="mlledger-tamper.")
    try:
        kinds, held = build(w)
        print("# ledger: " + ", ".join("%d %s" % (i, k) for i, k in enumerate(kinds)))
        print("# %-22s %-5s %-4s %-5s %-6s %s" % ("case", "seq", "exit", "named", "result",
                                                "message"))
        passed = failed = 0
        for c in cases(w, held):
            rc, named, msg, plain = run_case(w, c)
            ok = rc == 4 and named
            passed, failed = passed + ok, failed + (not ok)
            print("%s %-22s %-5d %-4d %-5s %-6s %s" % ("ok    " if ok else "not ok", c[0], c[2],
                                                    rc, "yes" if named else "no",
                                                    "caught" if ok else "MISSED", msg[:110]))
            if plain is not None:
                print("#      (plain verify without the held checkpoint exits %d)" % plain)
        print("%d passed, %d failed" % (passed, failed))
        return 1 if failed else 0
    finally:
        shutil.rmtree(w, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

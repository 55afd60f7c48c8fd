#!/usr/bin/python3
"""Independent verifier of mlledger ledgers, written from ledger/FORMAT.md alone.

Usage:
    verify_ledger.py LEDGER.db [--checkpoint FILE]...
                                  exit 0 + "ok N entries", or exit 1 +
                                  "bad entry N: reason" / "bad ledger: reason";
                                  each FILE is a checkpoint note held outside
                                  the ledger (signed by its log key, other
                                  signature lines ignored) that the ledger
                                  must extend
    verify_ledger.py --vectors    check the FORMAT.md §9 test vectors, and the
                                  §8 Merkle/note code on RFC 6962 test data
    verify_ledger.py --inclusion LOG.pub BUNDLE LEAF
                                  a c2sp.org/tlog-proof@v1 bundle (`mlledger
                                  prove`) for the leaf bytes LEAF (`mlledger
                                  show SEQ --format raw`), RFC 9162 §2.1.3.2
    verify_ledger.py --consistency LOG.pub OLD.checkpoint NEW.checkpoint PROOF
                                  `mlledger prove --consistency` output
                                  between two checkpoints, RFC 9162 §2.1.4.2
    verify_ledger.py --cosignature LOG.pub WITNESS.pub COSIGNED.checkpoint
                                  a C2SP tlog-cosignature (`mlledger cosign`)
    verify_ledger.py --bundle LOG.pub DIR
                                  an `mlledger export` folder (§10), anchored
                                  by the auditor's copy of the log key
    The proof modes print "ok ..." and exit 0, or a reason and exit 1.

Standard library + PyNaCl only (Debian: python3-nacl).  Interpretations of
points FORMAT.md leaves open are marked "SPEC:" below.  Section numbers refer
to FORMAT.md as revised in commit ecdee5b (tree and checkpoints tables in §7,
§8 Merkle tree, checkpoints and proofs, §9 test vectors) and c6d781a (§2
persons, governance documents, clock corrections; §5 rules 1, 3, 9-11) and
ff72ceb (§2 kind `policy` and "Policy entries"; gate decisions' optional
`parameters`, `evidence`, `phase` and `mlledger:seq/N` policy uris; the
governance `gates` member; §5 rules 7 (policy versions), 8 (time and
staleness of decisions with parameters) and 12 (gated deployments)) and
6855965 (§7 subjects hold policy versions; rule 12's deciding decision; a
policy entry's XML is not parsed for validity).

Replay is NOT done here: re-evaluating a recorded decision's policies
against the ledger's evidence (`mlledger verify --decisions`, FORMAT.md §2
"Replay") needs a policy engine.  This verifier checks only the structural
rules: the form of `policy` and `gate` statements, rule 8's times, origin
and root (recomputed from the leaves), and, for
rule 12, that the deciding decision (the newest gate entry for that digest,
environment and the gated policy IDs) is recent enough, PASSED and
replayable as rule 12 defines it (parameters, evidence, no phase, every
policy descriptor's strict mlledger:seq/N uri naming, below its
ledger.size, a `policy` entry of that name and digest).  Whether that
decision's verdict, findings and evidence digests reproduce is not checked.
"""

import base64
import datetime
import hashlib
import json
import math
import re
import sqlite3
import struct
import sys
import urllib.parse

import nacl.exceptions
import nacl.signing

# ---------------------------------------------------------------------------
# constants from FORMAT.md

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_PREFIX = "https://mlledger.dev/"
MAX_STATEMENT = 512 << 10        # §2 "at most 512 KiB"
MAX_ENVELOPE = 1 << 20           # §3 "at most 1 MiB"
MAX_STRING = 65536               # §2 "at most 65,536 bytes"
MAX_FILES = 4096                 # §2 directory artifact: 1-4,096 files
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
APPLICATION_ID = 0x4D4C4C47      # §7 "MLLG"
FORMAT_VERSION = 1

# §7, verbatim.  verify compares the SET of sql texts of sqlite_master (rows
# without sql aside, order not significant) with these statements.
SCHEMA_SQL = """\
CREATE TABLE keys (
  keyid TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  vkey TEXT NOT NULL,
  roles TEXT NOT NULL,
  enrolled_seq INTEGER NOT NULL,
  revoked_seq INTEGER
) STRICT;
CREATE TABLE subjects (
  kind TEXT NOT NULL,
  ref TEXT NOT NULL,
  digest BLOB NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (kind, ref)
) STRICT, WITHOUT ROWID;
CREATE TABLE entry_index (
  seq INTEGER PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  keyid TEXT NOT NULL,
  stmt_hash BLOB NOT NULL,
  UNIQUE (keyid, stmt_hash)
) STRICT;
CREATE INDEX entry_index_subject ON entry_index (name, version);
CREATE INDEX entry_index_kind ON entry_index (name, kind);
CREATE TABLE meta (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE entries (
  seq INTEGER PRIMARY KEY NOT NULL,
  prev BLOB NOT NULL,
  appended_us INTEGER NOT NULL,
  envelope BLOB NOT NULL,
  leaf_hash BLOB NOT NULL
) STRICT;
CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entries_append_only_d BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entry_index_append_only_u BEFORE UPDATE ON entry_index
BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END;
CREATE TRIGGER entry_index_append_only_d BEFORE DELETE ON entry_index
BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END;
CREATE TABLE tree (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;
CREATE TABLE checkpoints (
  size INTEGER PRIMARY KEY NOT NULL,
  note TEXT NOT NULL
) STRICT;
CREATE TRIGGER tree_append_only_u BEFORE UPDATE ON tree
BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END;
CREATE TRIGGER tree_append_only_d BEFORE DELETE ON tree
BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END;
CREATE TRIGGER checkpoints_append_only_u BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_append_only_d BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
"""
# §7: the idempotency_keys table; a ledger written before it existed lacks it
# (and then no entry may carry an idempotencyKey).
IDEM_SQL = """\
CREATE TABLE idempotency_keys (
  keyid TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (keyid, idem_key)
) STRICT, WITHOUT ROWID;
"""

MODEL_KINDS = ("evaluation", "approval", "deployment", "monitoring",
               "waiver", "retirement", "incident", "gate")
VSA_TYPE = "https://slsa.dev/verification_summary/v1"   # §2 "Gate decisions"
# §2: kinds about the ledger itself (subject name = the origin)
LEDGER_KINDS = ("governance", "clock-correction")
KINDS = ("genesis", "key-enrollment", "key-revocation", "dataset", "model") + MODEL_KINDS \
    + LEDGER_KINDS + ("policy", "report")

# predicate members per kind: (required, optional)   -- §2 table
PREDICATE_MEMBERS = {
    "genesis": ({"time", "format", "origin", "logKey", "admin"}, {"person", "governance"}),
    "key-enrollment": ({"time", "key", "roles"}, {"person", "possession"}),
    "key-revocation": ({"time", "key", "reason"}, set()),
    "dataset": ({"time"}, {"uri", "artifact", "properties"}),
    "model": ({"time"}, {"artifact", "datasets", "parent", "metrics", "properties"}),
    "evaluation": ({"time", "metrics"}, {"dataset", "properties"}),
    "approval": ({"time", "environment", "decision"}, {"comment"}),
    "deployment": ({"time", "environment"}, {"properties"}),
    "monitoring": ({"time", "environment", "metrics"}, {"properties"}),
    "waiver": ({"time", "rule", "expires", "reason"}, {"ticket"}),
    "retirement": ({"time", "environment", "reason"}, set()),
    "incident": ({"time", "severity", "description"}, set()),
    # §2 "Gate decisions": the first eleven required, then mlledger 0.2's
    # optional parameters, evidence and phase
    "gate": ({"verifier", "timeVerified", "resourceUri", "policy", "inputAttestations",
              "verificationResult", "verifiedLevels", "environment", "policies", "ledger",
              "findings"}, {"parameters", "evidence", "phase"}),
    "governance": ({"time", "document"}, set()),
    "clock-correction": ({"time", "from", "reason"}, set()),
    "policy": ({"time", "content"}, {"params"}),
    # §2 "Report entries"
    "report": ({"time", "format", "from", "to", "asOf", "policies"}, set()),
}
# §2 "Retries": idempotencyKey, optional in every kind record and import write
IDEMPOTENCY_KINDS = ("key-enrollment", "key-revocation", "dataset", "model", "evaluation",
                     "approval", "deployment", "monitoring", "waiver", "retirement", "incident")
for _k in IDEMPOTENCY_KINDS:
    PREDICATE_MEMBERS[_k][1].add("idempotencyKey")
# §2 "Origin": every kind but genesis (which declares it) and gate (whose
# ledger.origin names it) may name the ledger it is for
for _k in PREDICATE_MEMBERS:
    if _k not in ("genesis", "gate"):
        PREDICATE_MEMBERS[_k][1].add("origin")
GENESIS_FORMATS = (1, 2)     # §2 genesis `format`; 2: origin and possession required
POSSESSION_DOMAIN = b"mlledger key possession v1\n"   # §2 "Proof of possession"
RE_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")
RE_LEVEL = re.compile(r"[A-Za-z0-9_:.@-]{1,128}")
RE_VNAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
RE_PHASE = re.compile(r"[A-Za-z0-9._-]{1,64}")          # §2 gate `phase`
RE_PARAM = re.compile(r"[A-Za-z0-9._-]{1,64}")          # §2 policy `params` names
RE_POLICY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}")   # §2 gates ids
# §2 "Gate decisions", §5 rule 12: a recorded policy's descriptor has uri
# mlledger:seq/N, "N decimal without a leading zero"
RE_SEQ_URI = re.compile(r"mlledger:seq/(0|[1-9][0-9]*)")
MAX_POLICY_PARAMS = 64
FIVE_MINUTES_US = 300000000      # §5 rule 8
MAX_GATE_AGE = 31622400          # §2 gates maxAge 1-31,622,400 s


def seq_uri(d):
    """N of a descriptor's `mlledger:seq/N` uri, or None."""
    m = RE_SEQ_URI.fullmatch(d.get("uri", "")) if isinstance(d.get("uri"), str) else None
    return int(m.group(1)) if m else None


def check_text(v, what):
    if not isinstance(v, str) or v == "":
        raise Bad("%s: must be non-empty text" % what)


def check_descriptor(d, what):
    """§2 "Gate decisions": a restricted in-toto ResourceDescriptor."""
    if not isinstance(d, dict) or not set(d) <= {"name", "uri", "digest"} or \
            "digest" not in d or not ({"name", "uri"} & set(d)):
        raise Bad("%s: must be {name?, uri?, digest}" % what)
    for k in ("name", "uri"):
        if k in d:
            check_text(d[k], what + "." + k)
    check_digest_obj(d["digest"], what)


def check_gate(pred):
    v = pred["verifier"]
    if not isinstance(v, dict) or not set(v) <= {"id", "version"} or "id" not in v:
        raise Bad("gate.verifier: must be {id, version?}")
    check_text(v["id"], "gate.verifier.id")
    if "version" in v:
        ver = v["version"]
        if not isinstance(ver, dict) or len(ver) > 16 or \
                any(not fm(RE_VNAME, k) or not isinstance(x, str) or x == ""
                    for k, x in ver.items()):
            raise Bad("gate.verifier.version: bad")
    check_time(pred["timeVerified"], "gate.timeVerified")
    check_text(pred["resourceUri"], "gate.resourceUri")
    check_descriptor(pred["policy"], "gate.policy")
    for k in ("inputAttestations", "policies"):
        lst = pred[k]
        if not isinstance(lst, list) or not 1 <= len(lst) <= 64:
            raise Bad("gate.%s: a list of 1-64 descriptors" % k)
        for i, d in enumerate(lst):
            check_descriptor(d, "gate.%s[%d]" % (k, i))
    if pred["verificationResult"] not in ("PASSED", "FAILED"):
        raise Bad("gate.verificationResult: PASSED or FAILED")
    lv = pred["verifiedLevels"]
    if not isinstance(lv, list) or not 1 <= len(lv) <= 16 or \
            any(not fm(RE_LEVEL, x) for x in lv):
        raise Bad("gate.verifiedLevels: bad")
    if not fm(RE_ENV, pred["environment"]):
        raise Bad("gate.environment: bad value")
    led = pred["ledger"]
    if not isinstance(led, dict) or set(led) != {"origin", "size", "root"}:
        raise Bad("gate.ledger: must be {origin, size, root}")
    check_text(led["origin"], "gate.ledger.origin")
    if not isinstance(led["size"], int) or isinstance(led["size"], bool) or led["size"] < 1:
        raise Bad("gate.ledger.size: an integer >= 1")
    if len(b64decode_strict(led["root"], "gate.ledger.root")) != 32:
        raise Bad("gate.ledger.root: not 32 bytes")
    check_descriptor(pred["findings"], "gate.findings")
    # SPEC: "a descriptor named findings" / "named evidence" read as: its
    # name member is exactly that word.
    if pred["findings"].get("name") != "findings":
        raise Bad("gate.findings: a descriptor named findings")
    # §2: `policy` is "the first policy, as in policies".  SPEC: read as the
    # same descriptor (JSON equality) as policies[0].
    if pred["policy"] != pred["policies"][0]:
        raise Bad("gate.policy: not the first descriptor of gate.policies")
    for i, d in enumerate(pred["policies"]):
        # §2: every policy evaluated is named ID@VERSION
        if "name" not in d:
            raise Bad("gate.policies[%d]: no name (ID@VERSION)" % i)
        split_ref(d["name"], "gate.policies[%d].name" % i)
    if "parameters" in pred:
        # §2: {ID:{NAME:TEXT,...},...}.  SPEC: FORMAT.md gives no syntax or
        # bounds for ID and NAME here; read as a policy id (the gates
        # syntax) and a param name (the policy `params` syntax), with no
        # bound on their number, and every value text (non-empty, §2).
        # Whether the IDs are exactly those of `policies` is not stated
        # either: not checked (replay compares it).
        prm = pred["parameters"]
        if not isinstance(prm, dict):
            raise Bad("gate.parameters: not an object")
        for pid, vals in prm.items():
            if not fm(RE_POLICY_ID, pid):
                raise Bad("gate.parameters: bad policy id %r" % pid)
            if not isinstance(vals, dict):
                raise Bad("gate.parameters.%s: not an object" % pid)
            for k, x in vals.items():
                if not fm(RE_PARAM, k):
                    raise Bad("gate.parameters.%s: bad param name %r" % (pid, k))
                if not isinstance(x, str):
                    raise Bad("gate.parameters.%s.%s: not text" % (pid, k))
    if "evidence" in pred:
        check_descriptor(pred["evidence"], "gate.evidence")
        if pred["evidence"].get("name") != "evidence":
            raise Bad("gate.evidence: a descriptor named evidence")
    if "phase" in pred and not fm(RE_PHASE, pred["phase"]):
        raise Bad("gate.phase: 1-64 bytes of [A-Za-z0-9._-]")
# §2: "long texts — comment, reason, description — may hold \n and \t".
# SPEC: read as the predicate members of those names only (not, say, a
# `properties` member that happens to be called "description").
LONG_TEXT = {"comment", "reason", "description"}
# SPEC: a governance document "as text" (genesis `governance`, governance
# `document`) is JSON text, and the documented default itself
# (ledger/governance.default.json) is written on several lines; but §2 lists
# only comment/reason/description as the long texts that may hold \n and \t.
# Read as: a document may hold \n and \t too (JSON white space), no other
# control character (not \r).
DOCUMENT_TEXT = {"document", "governance"}
# §2 `policy`: content is "UTF-8 text, at most 65,536 bytes, no control
# character but tab and newline" (so it is a long text too).
POLICY_TEXT = {"content"}

RE_KEY_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
# §1/§7: the origin is 1-128 bytes of [A-Za-z0-9._/:-]
RE_ORIGIN = re.compile(r"[A-Za-z0-9._/:-]{1,128}")
RE_HEX8 = re.compile(r"[0-9a-f]{8}")
RE_HEX64 = re.compile(r"[0-9a-f]{64}")
RE_REF_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}")
RE_REF_VERSION = re.compile(r"[A-Za-z0-9._+-]{1,64}")
RE_ROLE = re.compile(r"[a-z0-9-]{1,32}")  # §2 "Role names are 1–32 bytes"
RE_ENV = re.compile(r"[A-Za-z0-9._:-]{1,128}")
RE_SCALAR_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
RE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
RE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
RE_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class Bad(Exception):
    pass


def sha256(b):
    return hashlib.sha256(b).digest()


def fm(rx, s):
    return isinstance(s, str) and rx.fullmatch(s) is not None


# ---------------------------------------------------------------------------
# primitives

def b64decode_strict(s, what):
    """RFC 4648 §4, '=' padding, no line breaks, canonical padding bits."""
    if not isinstance(s, str) or len(s) % 4 != 0 or not RE_B64.fullmatch(s):
        raise Bad("%s: not canonical base64" % what)
    try:
        raw = base64.b64decode(s, validate=True)
    except Exception:
        raise Bad("%s: not canonical base64" % what)
    if base64.b64encode(raw).decode("ascii") != s:
        raise Bad("%s: non-canonical base64" % what)
    return raw


def key_hash(name_bytes, pub):
    """C2SP signed-note key hash: first 4 bytes of SHA-256(name || \\n || 0x01 || pub)."""
    return sha256(name_bytes + b"\n" + b"\x01" + pub)[:4]


def verifier_key_line(name, pub):
    return "%s+%s+%s" % (name, key_hash(name.encode(), pub).hex(),
                         base64.b64encode(b"\x01" + pub).decode())


def parse_vkey(line, name_rx, what):
    """Parse `<name>+<8 hex>+base64(0x01||pub)`; return (name, keyid, pub)."""
    if not isinstance(line, str):
        raise Bad("%s: not a string" % what)
    # §1: the base64 field may itself hold '+': split at the first two '+' only
    parts = line.split("+", 2)
    if len(parts) != 3:
        raise Bad("%s: not a verifier key" % what)
    name, hx, b64 = parts
    if not fm(name_rx, name):
        raise Bad("%s: bad key name %r" % (what, name))
    if not fm(RE_HEX8, hx):
        raise Bad("%s: bad key hash field" % what)
    raw = b64decode_strict(b64, what)
    if len(raw) != 33 or raw[0] != 0x01:
        raise Bad("%s: key is not 0x01 || 32-byte Ed25519 key" % what)
    pub = raw[1:]
    if key_hash(name.encode(), pub).hex() != hx:
        raise Bad("%s: key hash does not match" % what)
    return name, name + "+" + hx, pub


def pae(ptype, body):
    t = ptype.encode() if isinstance(ptype, str) else ptype
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def leaf_bytes(seq, prev, time_us, envelope):
    return (b"\x01" + struct.pack(">Q", seq) + prev + struct.pack(">q", time_us)
            + struct.pack(">I", len(envelope)) + envelope)


def leaf_hash(lb):
    return sha256(b"\x00" + lb)


def ed25519_verify(pub, msg, sig):
    try:
        nacl.signing.VerifyKey(pub).verify(msg, sig)
        return True
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError,
            nacl.exceptions.TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------
# §8 Merkle tree: RFC 6962 / RFC 9162 §2.1, over the §4 leaf hashes

EMPTY_ROOT = hashlib.sha256(b"").digest()      # MTH({}) = SHA-256("")


def node_hash(left, right):
    """§8: an inner node is SHA-256(0x01 || left || right)."""
    return sha256(b"\x01" + left + right)


def split_point(n):
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def mth(leaves):
    """RFC 9162 §2.1.1 MTH straight from its definition (leaves = leaf hashes).
    Quadratic-ish: for test vectors and small trees only."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def tree_levels(leaves):
    """levels[L][i] = hash of the complete subtree of level L covering leaves
    [i*2^L, (i+1)*2^L): exactly the nodes §7's `tree` table stores (L >= 1)."""
    levels = [list(leaves)]
    while len(levels[-1]) >= 2:
        below = levels[-1]
        levels.append([node_hash(below[2 * i], below[2 * i + 1]) for i in range(len(below) // 2)])
    return levels


def root_of(levels, size):
    """MTH of the first `size` leaves from complete subtrees only: size splits
    into its powers of two, largest (leftmost) first; RFC 6962's split at the
    largest power of two below n makes the root their right fold."""
    if size == 0:
        return EMPTY_ROOT
    parts = []
    off = 0
    for lvl in range(size.bit_length() - 1, -1, -1):
        if size >> lvl & 1:
            parts.append(levels[lvl][off >> lvl])
            off += 1 << lvl
    h = parts[-1]
    for p in reversed(parts[:-1]):
        h = node_hash(p, h)
    return h


def inclusion_path(leaves, m):
    """RFC 9162 §2.1.3.1 PATH(m, D_n) (used only to test the verifier below)."""
    n = len(leaves)
    if n <= 1:
        return []
    k = split_point(n)
    if m < k:
        return inclusion_path(leaves[:k], m) + [mth(leaves[k:])]
    return inclusion_path(leaves[k:], m - k) + [mth(leaves[:k])]


def consistency_path(leaves, m):
    """RFC 9162 §2.1.4.1 PROOF(m, D_n) = SUBPROOF(m, D_n, true) (for tests)."""
    def sub(m, d, b):
        n = len(d)
        if m == n:
            return [] if b else [mth(d)]
        k = split_point(n)
        if m <= k:
            return sub(m, d[:k], b) + [mth(d[k:])]
        return sub(m - k, d[k:], False) + [mth(d[:k])]
    return sub(m, leaves, True)


def verify_inclusion(leaf, index, size, path, root):
    """RFC 9162 §2.1.3.2, step by step."""
    if not 0 <= index < size or any(len(p) != 32 for p in path):
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, path):
    """RFC 9162 §2.1.4.2, step by step.
    SPEC: §2.1.4.2 covers 0 < first < second only.  first == second is taken
    as "the empty proof and equal roots" (what `prove --consistency N --size N`
    prints: nothing), and first == 0 as "the empty proof and first_hash =
    MTH({})" (the empty tree is a prefix of every tree)."""
    if not 0 <= first <= second or any(len(p) != 32 for p in path):
        return False
    if first == second:
        return not path and first_hash == second_hash
    if first == 0:
        return not path and first_hash == EMPTY_ROOT
    if not path:                                    # step 1
        return False
    if first & (first - 1) == 0:                    # step 2
        path = [first_hash] + list(path)
    fn, sn = first - 1, second - 1                  # step 3
    while fn & 1:                                   # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]                               # step 5
    for c in path[1:]:                              # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0     # step 7


# ---------------------------------------------------------------------------
# §8 checkpoints: C2SP tlog-checkpoint in a C2SP signed note

SIG_PREFIX = "\u2014 ".encode("utf-8")          # "— " (U+2014 EM DASH, space)
RE_DECIMAL = re.compile(rb"0|[1-9][0-9]{0,19}")


def parse_signed_note(raw, what):
    """C2SP signed note -> (text, [(name, key hash (4 bytes), signature)]).
    The text is everything up to the blank line before the signature lines."""
    try:
        s = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Bad("%s: not UTF-8" % what)
    if any((c < " " and c != "\n") or c == "\x7f" for c in s):
        raise Bad("%s: control character in the note" % what)
    split = raw.rfind(b"\n\n")
    if split < 0:
        raise Bad("%s: no blank line before the signature lines" % what)
    text, sigs = raw[:split + 1], raw[split + 2:]
    if not sigs or not sigs.endswith(b"\n"):
        raise Bad("%s: no signature line (or no final newline)" % what)
    out = []
    for line in sigs[:-1].split(b"\n"):
        if not line.startswith(SIG_PREFIX):
            raise Bad("%s: signature line does not start with U+2014 and a space" % what)
        name, sp, b64 = line[len(SIG_PREFIX):].decode("utf-8").partition(" ")
        if not sp or not name or "+" in name or any(c.isspace() for c in name):
            raise Bad("%s: malformed signature line" % what)
        blob = b64decode_strict(b64, what + " signature")
        if len(blob) < 5:
            raise Bad("%s: signature too short" % what)
        out.append((name, blob[:4], blob[4:]))
    return text, out


def parse_checkpoint_text(text, what):
    """C2SP tlog-checkpoint body -> (origin, size, root).
    SPEC: exactly the three lines §8 shows; C2SP's optional extension lines
    are refused (mlledger writes none and §8 gives no meaning to any)."""
    lines = text.split(b"\n")
    if len(lines) != 4 or lines[3] != b"":
        raise Bad("%s: checkpoint text is not exactly origin, size and root lines" % what)
    origin = lines[0].decode("utf-8")
    if not fm(RE_ORIGIN, origin):
        raise Bad("%s: bad origin line" % what)
    if not RE_DECIMAL.fullmatch(lines[1]) or int(lines[1]) >= 1 << 64:
        raise Bad("%s: size line is not a decimal u64 without leading zeros" % what)
    root = b64decode_strict(lines[2].decode("ascii", errors="replace"), what + " root")
    if len(root) != 32:
        raise Bad("%s: root hash is not 32 bytes" % what)
    return origin, int(lines[1]), root


class LogKey:
    """A log's verifier key line (§8: named by the origin, type 0x01)."""
    def __init__(self, line, what="log key"):
        self.name, self.keyid, self.pub = parse_vkey(line, RE_ORIGIN, what)
        self.hash = bytes.fromhex(self.keyid.split("+")[1])
        self.line = line


def open_checkpoint(raw, logkey, what, only_log_sig):
    """Verify a checkpoint note signed by logkey; return (origin, size, root, text).
    only_log_sig: the note must carry the log's signature line and no other
    (the ledger's own rows); otherwise other signers' lines are ignored, as
    C2SP signed-note says verifiers do (e.g. witness cosignatures)."""
    text, sigs = parse_signed_note(raw, what)
    mine = [s for s in sigs if s[0] == logkey.name and s[1] == logkey.hash]
    if not mine:
        raise Bad("%s: no signature by the log key %s" % (what, logkey.keyid))
    # SPEC: two lines by the log key are refused (C2SP leaves duplicates to
    # the verifier; one key signs a text once).
    if len(mine) > 1:
        raise Bad("%s: more than one signature line by the log key" % what)
    if only_log_sig and len(sigs) != 1:
        raise Bad("%s: signature lines other than the log key's" % what)
    sig = mine[0][2]
    if len(sig) != 64 or not ed25519_verify(logkey.pub, text, sig):
        raise Bad("%s: log key signature does not verify" % what)
    origin, size, root = parse_checkpoint_text(text, what)
    # §8: "The log key's name is the origin"
    if origin != logkey.name:
        raise Bad("%s: origin %r is not the log key's name %r" % (what, origin, logkey.name))
    return origin, size, root, text


def checkpoint_note(origin, size, root, seed):
    """A checkpoint signed by the log key with Ed25519 seed (for tamper.py)."""
    sk = nacl.signing.SigningKey(seed)
    text = ("%s\n%d\n%s\n" % (origin, size, base64.b64encode(root).decode())).encode()
    kh = key_hash(origin.encode(), bytes(sk.verify_key))
    sig = sk.sign(text).signature
    return text + b"\n" + SIG_PREFIX + origin.encode() + b" " + base64.b64encode(kh + sig) + b"\n"


def cosignature_key_id(name_bytes, pub):
    """§8: the first 4 bytes of SHA-256(name || 0x0A || 0x04 || pk)."""
    return sha256(name_bytes + b"\n" + b"\x04" + pub)[:4]


def check_cosignature(raw, witness_line, logkey, what="cosigned checkpoint"):
    """§8 / C2SP tlog-cosignature: the note carries a valid log signature and a
    cosignature by the witness (verifier key <name>+<8 hex>+base64(0x04||pk)).
    Returns the cosignature's timestamp."""
    parts = witness_line.split("+", 2)
    if len(parts) != 3 or not parts[0] or not fm(RE_HEX8, parts[1]):
        raise Bad("witness key: not <name>+<8 hex>+<base64>")
    wname, whex, wb64 = parts
    raw_key = b64decode_strict(wb64, "witness key")
    if len(raw_key) != 33 or raw_key[0] != 0x04:
        raise Bad("witness key: not 0x04 || 32-byte Ed25519 key")
    wpub = raw_key[1:]
    kid = cosignature_key_id(wname.encode(), wpub)
    if kid.hex() != whex:
        raise Bad("witness key: key ID does not match the key")
    _, _, _, text = open_checkpoint(raw, logkey, what, only_log_sig=False)
    _, sigs = parse_signed_note(raw, what)
    mine = [s for s in sigs if s[0] == wname and s[1] == kid]
    if len(mine) != 1:
        raise Bad("%s: %d cosignature lines by %s (want 1)" % (what, len(mine), wname))
    body = mine[0][2]
    if len(body) != 8 + 64:
        raise Bad("%s: cosignature is not timestamp(8) || signature(64)" % what)
    ts = struct.unpack(">Q", body[:8])[0]
    msg = b"cosignature/v1\ntime %d\n" % ts + text
    if not ed25519_verify(wpub, msg, body[8:]):
        raise Bad("%s: cosignature does not verify" % what)
    return ts


# ---------------------------------------------------------------------------
# §8 tlog-proof bundles

PROOF_HEADER = b"c2sp.org/tlog-proof@v1\n"


def parse_tlog_proof(raw):
    """c2sp.org/tlog-proof@v1 -> (index, [hash], checkpoint note bytes).
    C2SP's optional `extra` line is accepted (and ignored); §8 shows none."""
    if not raw.startswith(PROOF_HEADER):
        raise Bad("bundle: first line is not c2sp.org/tlog-proof@v1")
    rest = raw[len(PROOF_HEADER):]

    def line():
        nonlocal rest
        i = rest.find(b"\n")
        if i < 0:
            raise Bad("bundle: truncated")
        ln, rest = rest[:i], rest[i + 1:]
        return ln

    ln = line()
    if ln.startswith(b"extra "):
        b64decode_strict(ln[6:].decode("ascii", errors="replace"), "bundle extra")
        ln = line()
    if not ln.startswith(b"index ") or not RE_DECIMAL.fullmatch(ln[6:]):
        raise Bad("bundle: no `index N` line")
    index = int(ln[6:])
    hashes = []
    while True:
        ln = line()
        if ln == b"":
            break
        h = b64decode_strict(ln.decode("ascii", errors="replace"), "bundle proof hash")
        if len(h) != 32:
            raise Bad("bundle: proof hash is not 32 bytes")
        hashes.append(h)
    return index, hashes, rest


def check_inclusion_bundle(logkey, bundle, leaf):
    """§8: the note verifies with the log key and SHA-256(0x00 || leaf bytes)
    at `index` hashes up to the checkpoint's root (RFC 9162 §2.1.3.2)."""
    index, path, note = parse_tlog_proof(bundle)
    origin, size, root, _ = open_checkpoint(note, logkey, "bundle checkpoint", only_log_sig=False)
    # §4: the leaf bytes carry their own seq; it must be the index proved
    if len(leaf) < 53 or leaf[0] != 1 or struct.unpack(">I", leaf[49:53])[0] != len(leaf) - 53:
        raise Bad("leaf: not §4 leaf bytes")
    if struct.unpack(">Q", leaf[1:9])[0] != index:
        raise Bad("leaf: its seq is not the bundle's index %d" % index)
    if not verify_inclusion(leaf_hash(leaf), index, size, path, root):
        raise Bad("inclusion proof of entry %d in the tree of size %d does not verify" % (index, size))
    return origin, index, size


def read_proof_lines(raw, what):
    """`prove --consistency` output: one base64 hash a line (none: empty)."""
    if raw and not raw.endswith(b"\n"):
        raise Bad("%s: last line has no newline" % what)
    out = []
    for ln in raw.split(b"\n")[:-1] if raw else []:
        h = b64decode_strict(ln.decode("ascii", errors="replace"), what)
        if len(h) != 32:
            raise Bad("%s: hash is not 32 bytes" % what)
        out.append(h)
    return out


def check_consistency(logkey, old_note, new_note, proof_raw):
    _, m, mroot, _ = open_checkpoint(old_note, logkey, "old checkpoint", only_log_sig=False)
    _, n, nroot, _ = open_checkpoint(new_note, logkey, "new checkpoint", only_log_sig=False)
    path = read_proof_lines(proof_raw, "consistency proof")
    if m > n:
        raise Bad("old checkpoint (size %d) is larger than the new one (size %d)" % (m, n))
    if not verify_consistency(m, n, mroot, nroot, path):
        raise Bad("consistency proof from size %d to size %d does not verify" % (m, n))
    return m, n, len(path)


# ---------------------------------------------------------------------------
# strict JSON

def _no_dups(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise Bad("duplicate member %r" % k)
        obj[k] = v
    return obj


def _no_constants(name):
    raise Bad("non-JSON number %s" % name)


def _float(s):
    # §2: "reals [must fit] an IEEE 754 double (finite)".  float() rounds to
    # the nearest double; overflow gives inf, which is refused.
    # SPEC: underflow (e.g. 1e-400, which rounds to 0.0) is not addressed;
    # read as fitting (it is finite).
    v = float(s)
    if not math.isfinite(v):
        raise Bad("real out of range: %s" % s)
    return v


def _int(s):
    # §2: "Integers must fit a signed 64-bit integer"
    v = int(s)
    if not INT64_MIN <= v <= INT64_MAX:
        raise Bad("integer out of the signed 64-bit range: %s" % s)
    return v


def parse_json(raw, what):
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Bad("%s: not valid UTF-8" % what)
    try:
        # any valid JSON (RFC 8259), white space included (§2, §3)
        return json.loads(text, object_pairs_hook=_no_dups, parse_int=_int,
                          parse_constant=_no_constants, parse_float=_float)
    except Bad as e:
        raise Bad("%s: %s" % (what, e))
    except (ValueError, RecursionError) as e:
        raise Bad("%s: invalid JSON (%s)" % (what, e))


def check_string(s, what, long_text=False):
    try:
        b = s.encode("utf-8", errors="strict")   # rejects lone surrogates
    except UnicodeEncodeError:
        raise Bad("%s: string is not valid UTF-8" % what)
    if not b:
        raise Bad("%s: empty string" % what)
    if len(b) > MAX_STRING:
        raise Bad("%s: string longer than %d bytes" % (what, MAX_STRING))
    for ch in s:
        o = ord(ch)
        if o < 0x20 or o == 0x7F or 0x80 <= o <= 0x9F:
            if long_text and ch in "\n\t":
                continue
            raise Bad("%s: control character U+%04X in string" % (what, o))


def check_all_strings(v, what, long_text=False):
    """§2 string rules for every string (member names included) in v."""
    if isinstance(v, str):
        check_string(v, what, long_text=long_text)
    elif isinstance(v, dict):
        for k, x in v.items():
            check_string(k, what + " member name")
            check_all_strings(x, what + "." + k)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            check_all_strings(x, "%s[%d]" % (what, i))


def check_statement_strings(st):
    """Like check_all_strings, but the predicate's long texts may hold \n, \t."""
    if isinstance(st, dict) and isinstance(st.get("predicate"), dict):
        for k, x in st.items():
            check_string(k, "statement member name")
            if k != "predicate":
                check_all_strings(x, "statement." + k)
        for k, x in st["predicate"].items():
            check_string(k, "predicate member name")
            check_all_strings(x, "predicate." + k, long_text=k in LONG_TEXT or k in DOCUMENT_TEXT
                              or k in POLICY_TEXT)
    else:
        check_all_strings(st, "statement")


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_uint(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


# ---------------------------------------------------------------------------
# envelope and statement (§2, §3)

def parse_envelope(env_bytes):
    """Return (statement_bytes, keyid, sig, countersignatures): the first
    signature is the author's (§3); countersignatures is the list of
    (keyid, sig) of the others, in order."""
    if len(env_bytes) > MAX_ENVELOPE:
        raise Bad("envelope larger than 1 MiB")
    env = parse_json(env_bytes, "envelope")
    if not isinstance(env, dict) or set(env) != {"payload", "payloadType", "signatures"}:
        raise Bad("envelope: members must be exactly payload, payloadType, signatures")
    if env["payloadType"] != PAYLOAD_TYPE:
        raise Bad("envelope: payloadType is not %s" % PAYLOAD_TYPE)
    sigs = env["signatures"]
    # §3: 1 to 16 signatures, no keyid twice
    if not isinstance(sigs, list) or not 1 <= len(sigs) <= 16:
        raise Bad("envelope: must hold 1 to 16 signatures")
    out = []
    for s in sigs:
        if not isinstance(s, dict) or set(s) != {"keyid", "sig"}:
            raise Bad("envelope: signature members must be exactly keyid, sig")
        keyid = s["keyid"]
        if not isinstance(keyid, str):
            raise Bad("envelope: keyid is not a string")
        kparts = keyid.split("+")
        if len(kparts) != 2 or not fm(RE_HEX8, kparts[1]) or not (
                fm(RE_KEY_NAME, kparts[0]) or fm(RE_ORIGIN, kparts[0])):
            raise Bad("envelope: malformed keyid %r" % keyid)
        sig = b64decode_strict(s["sig"], "envelope sig")
        if len(sig) != 64:
            raise Bad("envelope: signature is not 64 bytes")
        if any(keyid == k for k, _ in out):
            raise Bad("envelope: keyid %s signs twice" % keyid)
        out.append((keyid, sig))
    stmt = b64decode_strict(env["payload"], "envelope payload")
    return stmt, out[0][0], out[0][1], out[1:]


def real_date(y, mo, d):
    """§2: a real calendar date (proleptic Gregorian, as ISO 8601)."""
    if not 1 <= mo <= 12 or d < 1:
        return False
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return d <= (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[mo - 1]


# SPEC: §2 fixes the form YYYY and "real calendar dates" but no year range.
# Read as ISO 8601's proleptic Gregorian calendar, so 0000 is a (leap) year;
# Python's datetime (years 1-9999) is deliberately not used.
def check_time(v, what):
    if not fm(RE_TIME, v):
        raise Bad("%s: not YYYY-MM-DDTHH:MM:SSZ" % what)
    y, mo, d, h, mi, s = (int(x) for x in (v[0:4], v[5:7], v[8:10], v[11:13], v[14:16], v[17:19]))
    if not real_date(y, mo, d) or h > 23 or mi > 59 or s > 59:   # no leap seconds
        raise Bad("%s: not a valid date/time" % what)


def check_date(v, what):
    if not fm(RE_DATE, v):
        raise Bad("%s: not YYYY-MM-DD" % what)
    if not real_date(int(v[0:4]), int(v[5:7]), int(v[8:10])):
        raise Bad("%s: not a valid date" % what)


def split_ref(s, what):
    """NAME@VERSION -> (name, version)."""
    if not isinstance(s, str) or s.count("@") != 1:
        raise Bad("%s: not NAME@VERSION" % what)
    n, v = s.split("@")
    if not fm(RE_REF_NAME, n) or not fm(RE_REF_VERSION, v):
        raise Bad("%s: bad NAME@VERSION %r" % (what, s))
    return n, v


def check_digest_obj(d, what):
    if not isinstance(d, dict) or set(d) != {"sha256"} or not fm(RE_HEX64, d["sha256"]):
        raise Bad("%s: digest must be exactly {\"sha256\": 64 lowercase hex}" % what)
    return bytes.fromhex(d["sha256"])


def check_ref(r, what):
    if not isinstance(r, dict) or set(r) != {"name", "digest"}:
        raise Bad("%s: ref must be exactly {name, digest}" % what)
    split_ref(r["name"], what)
    return r["name"], check_digest_obj(r["digest"], what)


def check_scalars(o, what, nonempty=False):
    if not isinstance(o, dict):
        raise Bad("%s: not an object" % what)
    if len(o) > 256:
        raise Bad("%s: more than 256 members" % what)
    if nonempty and not o:
        raise Bad("%s: must not be empty" % what)
    for k, v in o.items():
        if not fm(RE_SCALAR_NAME, k):
            raise Bad("%s: bad member name %r" % (what, k))
        if not (isinstance(v, (str, bool)) or is_number(v)):
            raise Bad("%s.%s: not a string, number or boolean" % (what, k))


def check_path(p, what):
    """§2 directory artifact path: relative, no empty/./.. segment, no \\n \\r \\."""
    if not isinstance(p, str):
        raise Bad("%s: path is not a string" % what)
    if p.startswith("/"):
        raise Bad("%s: path %r is not relative" % (what, p))
    if any(c in p for c in "\n\r\\"):
        raise Bad("%s: path %r holds \\n, \\r or \\" % (what, p))
    for seg in p.split("/"):
        if seg in ("", ".", ".."):
            raise Bad("%s: path %r has an empty, . or .. segment" % (what, p))


def manifest(files):
    """§6: the manifest a directory artifact's files list describes."""
    return b"".join(f["sha256"].encode() + b"  " + f["path"].encode("utf-8") + b"\n"
                    for f in files)


def check_artifact(a, what, subject_digest):
    if not isinstance(a, dict) or "type" not in a:
        raise Bad("%s: not an artifact object" % what)
    if a["type"] == "file":
        if set(a) != {"type", "size"}:
            raise Bad("%s: file artifact must be exactly {type, size}" % what)
    elif a["type"] == "directory":
        if set(a) != {"type", "size", "files"}:
            raise Bad("%s: directory artifact must be exactly {type, size, files}" % what)
        files = a["files"]
        if not isinstance(files, list):
            raise Bad("%s.files: not a list" % what)
        if not 1 <= len(files) <= MAX_FILES:
            raise Bad("%s.files: must list 1-%d files (has %d)" % (what, MAX_FILES, len(files)))
        prev = None
        total = 0
        for i, f in enumerate(files):
            w = "%s.files[%d]" % (what, i)
            if not isinstance(f, dict) or set(f) != {"path", "sha256", "size"}:
                raise Bad("%s: must be exactly {path, sha256, size}" % w)
            check_path(f["path"], w)
            if not fm(RE_HEX64, f["sha256"]):
                raise Bad("%s: bad sha256" % w)
            if not is_uint(f["size"]):
                raise Bad("%s: size must be a non-negative integer" % w)
            total += f["size"]
            pb = f["path"].encode("utf-8")
            if prev is not None and not prev < pb:
                raise Bad("%s.files: paths not strictly increasing bytewise (%r after %r)"
                          % (what, f["path"], prev.decode("utf-8")))
            prev = pb
        if not is_uint(a["size"]) or a["size"] != total:
            raise Bad("%s: size %r is not the sum of the files' sizes (%d)" % (what, a["size"], total))
        if sha256(manifest(files)) != subject_digest:
            raise Bad("%s: subject digest is not the SHA-256 of the manifest the files list "
                      "describes (§6)" % what)
    else:
        raise Bad("%s: type must be file or directory" % what)
    if not is_uint(a["size"]):
        raise Bad("%s: size must be a non-negative integer" % what)


def parse_statement(stmt):
    """Check §2 well-formedness; return (kind, subject_name, subject_digest, predicate)."""
    if len(stmt) > MAX_STATEMENT:
        raise Bad("statement larger than 512 KiB")
    st = parse_json(stmt, "statement")   # any valid JSON, white space allowed
    check_statement_strings(st)
    if not isinstance(st, dict) or set(st) != {"_type", "subject", "predicateType", "predicate"}:
        raise Bad("statement: must have exactly _type, subject, predicateType, predicate")
    if st["_type"] != STATEMENT_TYPE:
        raise Bad("statement: _type is not %s" % STATEMENT_TYPE)
    subj = st["subject"]
    if not isinstance(subj, list) or len(subj) != 1:
        raise Bad("statement: must have exactly one subject")
    s0 = subj[0]
    if not isinstance(s0, dict) or set(s0) != {"name", "digest"}:
        raise Bad("statement: subject must be exactly {name, digest}")
    sname = s0["name"]
    if not isinstance(sname, str):
        raise Bad("statement: subject name is not a string")
    sdigest = check_digest_obj(s0["digest"], "subject")
    pt = st["predicateType"]
    m = re.fullmatch(r"https://mlledger\.dev/([a-z-]+)/v1", pt) if isinstance(pt, str) else None
    if pt == VSA_TYPE:
        kind = "gate"
    elif not m or m.group(1) not in KINDS or m.group(1) == "gate":
        raise Bad("statement: unknown predicateType %r" % (pt,))
    else:
        kind = m.group(1)
    pred = st["predicate"]
    if not isinstance(pred, dict):
        raise Bad("statement: predicate is not an object")
    req, opt = PREDICATE_MEMBERS[kind]
    missing = req - set(pred)
    if missing:
        raise Bad("%s: missing %s" % (kind, ", ".join(sorted(missing))))
    unknown = set(pred) - req - opt
    if unknown:
        raise Bad("%s: unknown member %s" % (kind, ", ".join(sorted(unknown))))
    if kind == "gate":
        split_ref(sname, "subject name")
        check_gate(pred)
        return kind, sname, sdigest, pred
    check_time(pred["time"], kind + ".time")

    for k in ("uri", "comment", "reason", "description", "ticket"):
        if k in pred and not isinstance(pred[k], str):
            raise Bad("%s.%s: not a string" % (kind, k))
    if "idempotencyKey" in pred and not fm(RE_IDEMPOTENCY_KEY, pred["idempotencyKey"]):
        raise Bad("%s.idempotencyKey: bad value" % kind)
    if kind != "genesis" and "origin" in pred and not fm(RE_ORIGIN, pred["origin"]):
        raise Bad("%s.origin: bad origin" % kind)
    for k in ("environment", "rule"):
        if k in pred and not fm(RE_ENV, pred[k]):
            raise Bad("%s.%s: bad value" % (kind, k))
    if "artifact" in pred:
        check_artifact(pred["artifact"], kind + ".artifact", sdigest)
    if "properties" in pred:
        check_scalars(pred["properties"], kind + ".properties")
    if "metrics" in pred:   # §2: "metrics and properties are scalars everywhere"
        check_scalars(pred["metrics"], kind + ".metrics",
                      nonempty=kind in ("evaluation", "monitoring"))
    if "datasets" in pred:
        if not isinstance(pred["datasets"], list):
            raise Bad("model.datasets: not a list")
        for i, r in enumerate(pred["datasets"]):
            check_ref(r, "model.datasets[%d]" % i)
    for k in ("parent", "dataset"):
        if k in pred:
            check_ref(pred[k], "%s.%s" % (kind, k))

    if kind == "genesis":
        f = pred["format"]
        if not (isinstance(f, int) and not isinstance(f, bool) and f in GENESIS_FORMATS):
            raise Bad("genesis.format is not 1 or 2")
        if not fm(RE_ORIGIN, pred["origin"]):
            raise Bad("genesis.origin: bad origin")
        if sname != pred["origin"]:
            raise Bad("genesis: subject name is not the origin")
        lname, _, _ = parse_vkey(pred["logKey"], RE_ORIGIN, "genesis.logKey")
        if lname != pred["origin"]:
            raise Bad("genesis.logKey is not named by the origin")
        if sdigest != sha256(pred["logKey"].encode()):
            raise Bad("genesis: subject digest is not SHA-256 of the logKey line")
        parse_vkey(pred["admin"], RE_KEY_NAME, "genesis.admin")
        if "person" in pred:
            check_person(pred["person"], "genesis.person")
        if "governance" in pred and not isinstance(pred["governance"], str):
            raise Bad("genesis.governance: a governance document as text")
    elif kind == "governance":
        # §2: subject = the origin (checked against the genesis's in
        # check_entry), digest = SHA-256 of the document text's UTF-8 bytes
        if not fm(RE_ORIGIN, sname):
            raise Bad("governance: subject name is not an origin")
        if not isinstance(pred["document"], str):
            raise Bad("governance.document: a governance document as text")
        if sdigest != sha256(pred["document"].encode("utf-8")):
            raise Bad("governance: subject digest is not SHA-256 of the document text")
    elif kind == "clock-correction":
        if not fm(RE_ORIGIN, sname):
            raise Bad("clock-correction: subject name is not an origin")
        f = pred["from"]
        if not isinstance(f, int) or isinstance(f, bool) or f < 1:
            raise Bad("clock-correction.from: an integer >= 1")
    elif kind == "policy":
        check_policy(sname, sdigest, pred)
    elif kind == "report":
        check_report(sname, pred)
    elif kind in ("key-enrollment", "key-revocation"):
        kname, _, _ = parse_vkey(pred["key"], RE_KEY_NAME, kind + ".key")
        if sname != kname:
            raise Bad("%s: subject name is not the key name" % kind)
        # §1: the digest "of the key line" is over the line without its "\n"
        if sdigest != sha256(pred["key"].encode()):
            raise Bad("%s: subject digest is not SHA-256 of the key line" % kind)
        if kind == "key-enrollment":
            roles = pred["roles"]
            if not isinstance(roles, list) or not 1 <= len(roles) <= 16:
                raise Bad("key-enrollment.roles: must list 1-16 roles")
            if any(not fm(RE_ROLE, r) for r in roles):
                raise Bad("key-enrollment.roles: bad role name")
            if len(set(roles)) != len(roles):
                raise Bad("key-enrollment.roles: roles not distinct")
            if "person" in pred:
                check_person(pred["person"], "key-enrollment.person")
            if "possession" in pred and len(b64decode_strict(
                    pred["possession"], "key-enrollment.possession")) != 64:
                raise Bad("key-enrollment.possession: not a 64-byte signature")
    else:
        split_ref(sname, "subject name")
        if kind == "approval" and pred["decision"] not in ("approve", "reject"):
            raise Bad("approval.decision must be approve or reject")
        if kind == "waiver":
            check_date(pred["expires"], "waiver.expires")
        if kind == "incident" and pred["severity"] not in ("low", "medium", "high", "critical"):
            raise Bad("incident.severity: bad value")
    return kind, sname, sdigest, pred


RE_REPORT_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")
REPORT_FORMATS = ("html", "md", "json", "csv", "csv-folder")


def check_report(sname, pred):
    """§2 "Report entries": subject the report's file name, digest its bytes'
    SHA-256 (not checkable here: the file is not in the ledger)."""
    if not fm(RE_REPORT_NAME, sname) or sname in (".", ".."):
        raise Bad("report: subject name is not a file name")
    if pred["format"] not in REPORT_FORMATS:
        raise Bad("report.format: not one of %s" % ", ".join(REPORT_FORMATS))
    check_date(pred["from"], "report.from")
    check_date(pred["to"], "report.to")
    if pred["from"] > pred["to"]:
        raise Bad("report: from comes after to")
    check_time(pred["asOf"], "report.asOf")
    pols = pred["policies"]
    if not isinstance(pols, list) or len(pols) > 64:
        raise Bad("report.policies: a list of at most 64")
    for i, p in enumerate(pols):
        w = "report.policies[%d]" % i
        if not isinstance(p, dict) or set(p) != {"id", "version", "sha256"}:
            raise Bad(w + ": must be exactly {id, version, sha256}")
        if not fm(RE_REF_NAME, p["id"]) or not fm(RE_REF_VERSION, p["version"]):
            raise Bad(w + ": bad id or version")
        if not fm(RE_HEX64, p["sha256"]):
            raise Bad(w + ".sha256: not 64 lowercase hex")


def check_policy(sname, sdigest, pred):
    """§2 kind `policy` and "Policy entries"."""
    split_ref(sname, "subject name")
    content = pred["content"]
    if not isinstance(content, str):
        raise Bad("policy.content: not text")
    raw = content.encode("utf-8")
    if sdigest != sha256(raw):
        raise Bad("policy: subject digest is not SHA-256 of the content text")
    if "params" in pred:
        prm = pred["params"]
        if not isinstance(prm, dict) or len(prm) > MAX_POLICY_PARAMS:
            raise Bad("policy.params: an object of at most %d params" % MAX_POLICY_PARAMS)
        for k, v in prm.items():
            if not fm(RE_PARAM, k):
                raise Bad("policy.params: bad param name %r" % k)
            if not isinstance(v, str):
                raise Bad("policy.params.%s: not text" % k)
    # §2 "Policy entries": "Validity does not parse the XML": a policy entry
    # whose content's id and version are not its subject is valid (but
    # unusable: gate and replay refuse it).  Whether the file passes
    # `policy lint` is not a validity rule either (no policy compiler here).


# ---------------------------------------------------------------------------
# §2 "Persons" and "Governance documents"

RE_PERSON_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def check_person(p, what):
    """§2 Persons: {"id", "name"?, "email"?, "employeeId"?, "x509"?, "oidc"?}."""
    if not isinstance(p, dict) or "id" not in p or not set(p) <= {
            "id", "name", "email", "employeeId", "x509", "oidc"}:
        raise Bad("%s: must be {id, name?, email?, employeeId?, x509?, oidc?}" % what)
    if not fm(RE_PERSON_ID, p["id"]):
        raise Bad("%s.id: 1-64 bytes of [A-Za-z0-9._-]" % what)
    if "name" in p and (not isinstance(p["name"], str) or len(p["name"].encode("utf-8")) > 128):
        raise Bad("%s.name: text of at most 128 bytes" % what)
    # SPEC: "at most 254 bytes, one @" is read as exactly one '@' anywhere;
    # nothing more (no check of the local part or the domain).
    if "email" in p and (not isinstance(p["email"], str) or len(p["email"].encode("utf-8")) > 254
                         or p["email"].count("@") != 1):
        raise Bad("%s.email: at most 254 bytes with one @" % what)
    if "employeeId" in p and not fm(RE_PERSON_ID, p["employeeId"]):
        raise Bad("%s.employeeId: 1-64 bytes of [A-Za-z0-9._-]" % what)
    if "x509" in p and not fm(re.compile(r"sha256:[0-9a-f]{64}"), p["x509"]):
        raise Bad("%s.x509: sha256:<64 lowercase hex>" % what)
    if "oidc" in p:
        o = p["oidc"]
        if (not isinstance(o, dict) or set(o) != {"iss", "sub"}
                or not isinstance(o["iss"], str) or not isinstance(o["sub"], str)
                or not o["iss"].startswith("https://") or len(o["iss"]) == 8
                or len(o["iss"].encode("utf-8")) > 256
                or not 1 <= len(o["sub"].encode("utf-8")) <= 255):
            raise Bad("%s.oidc: {iss: https URL of at most 256 bytes, sub: 1-255 bytes}" % what)


def jcs(v):
    """RFC 8785 for what a person holds (strings and objects of them): members
    sorted by name, no white space, strings escaping only '"', '\\' and
    controls, everything else as UTF-8."""
    if isinstance(v, str):
        out = ['"']
        for ch in v:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20:
                out.append("\\u%04x" % ord(ch))
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)
    if isinstance(v, dict):
        return "{" + ",".join(jcs(k) + ":" + jcs(v[k]) for k in sorted(v)) + "}"
    raise Bad("person: only text and objects of text")


def possession_message(origin, key_line, person):
    """§2 "Proof of possession": the bytes the enrolled key signs."""
    return (POSSESSION_DOMAIN + origin.encode() + b"\n" + key_line.encode() + b"\n"
            + jcs(person).encode("utf-8") + b"\n")


MAX_DOCUMENT = 65536
# every kind a governance document may grant: "any kind but genesis"
SIGNABLE_KINDS = frozenset(KINDS) - {"genesis"}
# §2: admin "must be declared with at least" these
ADMIN_NEEDS = frozenset({"key-enrollment", "key-revocation", "governance"})
# §5 rule 5 (key kinds) and, SPEC, governance and clock corrections: kinds
# only a key holding role admin signs, whatever the document in force grants.
# Rule 5 names only key-enrollment and key-revocation; for governance and
# clock-correction the spec only says "an admin appends a clock-correction"
# (§2 "Clock corrections") -- read as a requirement for both.
ADMIN_ONLY = frozenset({"key-enrollment", "key-revocation", "governance", "clock-correction"})


class Governance:
    """A governance document with its defaults filled in (§2).
    roles: role -> frozenset of kinds; envs: frozenset; metrics: None (open
    set) or name -> (direction, unit); properties: name -> (type, values or
    None); gates: environment -> (tuple of policy ids, maxAge in seconds),
    empty when the document has no `gates` (not defaulted)."""
    def __init__(self, roles, envs, metrics, properties, gates=None, dual=None,
                 separation=()):
        self.roles, self.envs, self.metrics, self.properties = roles, envs, metrics, properties
        self.gates = gates or {}
        # §2 dualControl: (frozenset of kinds, K, role), or None (not defaulted)
        self.dual = dual
        # §2 separation: tuple of (role, role) pairs (not defaulted)
        self.separation = tuple(separation)

    def direction(self, metric):
        """§2: the direction of a metric, or None ("changed" only)."""
        if self.metrics is not None:
            m = self.metrics.get(metric)
            return m[0] if m else None
        return DEFAULT_DIRECTIONS.get(metric)

    def same_as(self, other):
        return (self.roles, self.envs, self.metrics, self.properties, self.gates, self.dual,
                self.separation) == \
            (other.roles, other.envs, other.metrics, other.properties, other.gates, other.dual,
             other.separation)


# §2 the tables of the default governance (roles; environments; metrics:
# open, with these directions; properties)
DEFAULT_ROLES = {
    "admin": frozenset({"key-enrollment", "key-revocation", "governance", "clock-correction",
                        "policy"}),
    "engineer": frozenset({"dataset", "model", "deployment", "monitoring", "retirement",
                           "incident", "gate"}),
    "validator": frozenset({"evaluation", "monitoring", "incident"}),
    "approver": frozenset({"approval"}),
    "risk-officer": frozenset({"waiver", "incident", "policy"}),
    "auditor": frozenset({"report"}),
}
DEFAULT_ENVS = frozenset({"dev", "staging", "prod"})
DEFAULT_DIRECTIONS = dict([(m, "higher") for m in ("auc", "accuracy", "precision", "recall", "f1")]
                          + [(m, "lower") for m in ("loss", "log_loss", "rmse", "mae", "mse")])
DEFAULT_PROPERTIES = {"pii": ("boolean", None), "license": ("string", None),
                      "dpia": ("string", None)}
# §2: `gates` is not defaulted: a document without it (and the defaults an
# ungoverned ledger's reports use) gates nothing.
DEFAULT_GOVERNANCE = Governance(DEFAULT_ROLES, DEFAULT_ENVS, None, DEFAULT_PROPERTIES)
# ... but the default document (ledger/governance.default.json, what init
# writes) declares this member
DEFAULT_DOCUMENT_GATES = {"prod": (("production",), 86400)}


def _distinct_strings(v, lo, hi, ok, what):
    if not isinstance(v, list) or not lo <= len(v) <= hi:
        raise Bad("%s: a list of %d-%d names" % (what, lo, hi))
    for x in v:
        if not ok(x):
            raise Bad("%s: bad name %r" % (what, x))
    if len(set(v)) != len(v):
        raise Bad("%s: names not distinct" % what)
    return v


def parse_governance(text, what="governance document"):
    """§2 "Governance documents": validate the text; return a Governance.
    SPEC: duplicate member names are refused in documents as in statements
    (§2 says so of statements and envelopes only)."""
    if not isinstance(text, str):
        raise Bad("%s: not text" % what)
    raw = text.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_DOCUMENT:
        raise Bad("%s: larger than %d bytes" % (what, MAX_DOCUMENT))
    doc = parse_json(raw, what)
    if not isinstance(doc, dict):
        raise Bad("%s: not a JSON object" % what)
    unknown = set(doc) - {"roles", "environments", "metrics", "properties", "gates",
                          "dualControl", "separation"}
    if unknown:
        raise Bad("%s: unknown member %s" % (what, ", ".join(sorted(unknown))))

    roles = DEFAULT_ROLES
    if "roles" in doc:
        r = doc["roles"]
        if not isinstance(r, dict) or not 1 <= len(r) <= 64:
            raise Bad("%s: roles: an object of 1-64 roles" % what)
        roles = {}
        for name, kinds in r.items():
            if not fm(RE_ROLE, name):
                raise Bad("%s: roles: bad role name %r" % (what, name))
            _distinct_strings(kinds, 0, len(SIGNABLE_KINDS), lambda k: k in SIGNABLE_KINDS,
                              "%s: roles.%s" % (what, name))
            roles[name] = frozenset(kinds)
        if not ADMIN_NEEDS <= roles.get("admin", frozenset()):
            raise Bad("%s: roles: admin must be declared with at least key-enrollment, "
                      "key-revocation and governance" % what)

    envs = DEFAULT_ENVS
    if "environments" in doc:
        envs = frozenset(_distinct_strings(doc["environments"], 1, 64, lambda e: fm(RE_ENV, e),
                                           what + ": environments"))

    metrics = None          # open
    if "metrics" in doc:
        m = doc["metrics"]
        # SPEC: "at most 256" with no lower bound: {} is a closed, empty set
        if not isinstance(m, dict) or len(m) > 256:
            raise Bad("%s: metrics: an object of at most 256 metrics" % what)
        metrics = {}
        for name, d in m.items():
            w = "%s: metrics.%s" % (what, name)
            if not fm(RE_SCALAR_NAME, name):
                raise Bad("%s: metrics: bad metric name %r" % (what, name))
            if not isinstance(d, dict) or "direction" not in d or not set(d) <= {"direction", "unit"}:
                raise Bad("%s: must be {direction, unit?}" % w)
            if d["direction"] not in ("higher", "lower"):
                raise Bad("%s.direction: higher or lower" % w)
            if "unit" in d and (not isinstance(d["unit"], str) or len(d["unit"].encode("utf-8")) > 32):
                raise Bad("%s.unit: text of at most 32 bytes" % w)
            if "unit" in d:
                check_string(d["unit"], w + ".unit")
            metrics[name] = (d["direction"], d.get("unit"))

    properties = DEFAULT_PROPERTIES
    if "properties" in doc:
        p = doc["properties"]
        if not isinstance(p, dict) or len(p) > 256:
            raise Bad("%s: properties: an object of at most 256 properties" % what)
        properties = {}
        for name, d in p.items():
            w = "%s: properties.%s" % (what, name)
            if not fm(RE_SCALAR_NAME, name):
                raise Bad("%s: properties: bad property name %r" % (what, name))
            if not isinstance(d, dict) or "type" not in d or not set(d) <= {"type", "values"}:
                raise Bad("%s: must be {type, values?}" % w)
            if d["type"] not in ("boolean", "string", "number"):
                raise Bad("%s.type: boolean, string or number" % w)
            values = None
            if "values" in d:
                if d["type"] != "string":
                    raise Bad("%s.values: only with type string" % w)
                for x in d["values"] if isinstance(d["values"], list) else []:
                    if isinstance(x, str):
                        check_string(x, w + ".values")
                values = frozenset(_distinct_strings(d["values"], 1, 256,
                                                     lambda x: isinstance(x, str), w + ".values"))
            properties[name] = (d["type"], values)

    gates = {}              # not defaulted: absent, nothing is gated
    if "gates" in doc:
        g = doc["gates"]
        # SPEC: no bound on the number of gates is given (at most one per
        # declared environment, so 64) and none below: {} gates nothing.
        if not isinstance(g, dict):
            raise Bad("%s: gates: an object" % what)
        for env, d in g.items():
            w = "%s: gates.%s" % (what, env)
            # §2: "declared environment": one of this document's
            # environments (the default list when it declares none)
            if env not in envs:
                raise Bad("%s: gates: %r is not a declared environment" % (what, env))
            if not isinstance(d, dict) or set(d) != {"policies", "maxAge"}:
                raise Bad("%s: must be {policies, maxAge}" % w)
            pols = _distinct_strings(d["policies"], 1, 16, lambda x: fm(RE_POLICY_ID, x),
                                     w + ".policies")
            ma = d["maxAge"]
            # SPEC: SECONDS read as a JSON integer (86400.0 is refused)
            if not isinstance(ma, int) or isinstance(ma, bool) or not 1 <= ma <= MAX_GATE_AGE:
                raise Bad("%s.maxAge: an integer from 1 to %d" % (w, MAX_GATE_AGE))
            gates[env] = (tuple(pols), ma)
    dual = None             # §2 dualControl: not defaulted
    if "dualControl" in doc:
        d = doc["dualControl"]
        w = "%s: dualControl" % what
        if not isinstance(d, dict) or not {"kinds", "signers"} <= set(d) <= \
                {"kinds", "signers", "role"}:
            raise Bad("%s: must be {kinds, signers, role?}" % w)
        kinds = _distinct_strings(d["kinds"], 1, len(SIGNABLE_KINDS),
                                  lambda k: k in SIGNABLE_KINDS, w + ".kinds")
        k = d["signers"]
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 16:
            raise Bad("%s.signers: an integer from 1 to 16" % w)
        role = d.get("role", "admin")
        if not isinstance(role, str) or role not in roles:
            raise Bad("%s.role: %r is not a declared role" % (w, role))
        dual = (frozenset(kinds), k, role)
    separation = []         # §2 separation: not defaulted
    if "separation" in doc:
        p = doc["separation"]
        if not isinstance(p, list) or not 1 <= len(p) <= 64:
            raise Bad("%s: separation: a list of 1-64 pairs" % what)
        for i, pair in enumerate(p):
            if not isinstance(pair, list) or len(pair) != 2 or \
                    not all(isinstance(r, str) and r in roles for r in pair) or pair[0] == pair[1]:
                raise Bad("%s: separation[%d]: a pair of two different declared roles" % (what, i))
            separation.append((pair[0], pair[1]))
    return Governance(roles, envs, metrics, properties, gates, dual, separation)


def check_property_type(name, decl, v):
    """§5 rule 9: a declared property has its type (and a declared value)."""
    typ, values = decl
    if typ == "boolean" and not isinstance(v, bool):
        raise Bad("property %s must be a boolean (JSON true/false), not %s" % (name, json.dumps(v)))
    if typ == "number" and not is_number(v):
        raise Bad("property %s must be a number, not %s" % (name, json.dumps(v)))
    if typ == "string":
        if not isinstance(v, str):
            raise Bad("property %s must be a string, not %s" % (name, json.dumps(v)))
        if values is not None and v not in values:
            raise Bad("property %s: %s is not a declared value" % (name, json.dumps(v)))


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (any year >= 0)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def end_of_day_us(date):
    """µs since the epoch of the end of day YYYY-MM-DD, UTC (the next midnight)."""
    return (days_from_civil(int(date[0:4]), int(date[5:7]), int(date[8:10])) + 1) * 86400 * 1000000


# ---------------------------------------------------------------------------
# ledger verification (§4, §5, §7)

def expected_schema(with_idem=True):
    """§7: the set of sql texts, as SQLite stores them for the §7 statements."""
    text = SCHEMA_SQL + (IDEM_SQL if with_idem else "")
    db = sqlite3.connect(":memory:")
    db.executescript(text)
    got = {r[0] for r in db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")}
    db.close()
    # SQLite keeps each CREATE statement's text as written, without the ';'
    want = {x.strip() for x in text.split(";\n") if x.strip()}
    assert got == want, "SQLite normalised the §7 text"
    return want


class State:
    def __init__(self):
        self.keys = {}           # keyid -> dict(name, vkey, pub, roles, enrolled, revoked)
        self.active_name = {}    # name -> keyid of its active key
        self.seen_pubs = {}      # every public key ever enrolled -> keyid
        self.replay = set()      # (keyid, stmt_hash)
        self.idem = {}           # (keyid, idempotencyKey) -> seq of its first entry
        self.subjects = {}       # (kind, ref) -> (digest, seq): dataset, model, policy
        self.genesis = None
        self.gov = DEFAULT_GOVERNANCE   # §2: the document in force for the next entry
        self.gov_seq = None      # the entry that declared it (None: the default)
        self.governed = False    # §2: a genesis without a document (written before
                                 # governance existed) is governed from its first
                                 # governance entry on
        self.times = []          # append time of every entry so far (µs)
        self.leaves = []         # leaf hash of every entry so far
        self.effective = []      # §2 "Clock corrections": effective time of every entry
        self.last_correction = None   # seq of the latest clock correction
        self.live = {}           # (NAME@VERSION, environment) -> deployed and not retired since
        # §5 rule 7: policy versions keep their digest; §7: they are
        # projected in `subjects` too (kind `policy`, ref ID@VERSION)
        self.policy_seqs = {}    # seq of every policy entry -> (ID@VERSION, digest)
        self.gates = []          # (seq, time, subject, digest, predicate) of every gate entry

    def active_admins(self):
        return [k for k, v in self.keys.items() if v["revoked"] is None and "admin" in v["roles"]]

    def enrol(self, seq, keyid, name, vkey, pub, roles, person=None):
        # §2 "Persons": the enrolment's person.id, else the key's name
        self.keys[keyid] = dict(name=name, vkey=vkey, pub=pub, roles=list(roles),
                                enrolled=seq, revoked=None, person=person or name)
        self.active_name[name] = keyid
        self.seen_pubs[pub] = keyid


def time_us(v):
    """µs since the epoch of a checked YYYY-MM-DDTHH:MM:SSZ."""
    days = days_from_civil(int(v[0:4]), int(v[5:7]), int(v[8:10]))
    return ((days * 24 + int(v[11:13])) * 60 + int(v[14:16])) * 60000000 \
        + int(v[17:19]) * 1000000


def check_rule8(st, seq, t, pred):
    """§5 rule 8, for gate entry seq appended at t (µs).
    SPEC: "its own append time" and "entry ledger.size ... was appended" are
    read as the entries' time fields (§4), not effective times, as rule 10
    says explicitly; "within 5 minutes" as a difference of at most
    300,000,000 µs (inclusive), and "no more than 5 minutes before" as
    timeVerified - time(ledger.size) <= 300,000,000 µs (an entry appended
    after timeVerified is within it)."""
    size = pred["ledger"]["size"]
    if size > seq:
        raise Bad("gate decision claims a ledger of %d entries at seq %d" % (size, seq))
    # rule 8: this ledger's origin and its own root at ledger.size
    if pred["ledger"]["origin"] != st.genesis["origin"]:
        raise Bad("gate decision names the ledger %r, not this one (rule 8)"
                  % pred["ledger"]["origin"])
    if base64.b64decode(pred["ledger"]["root"]) != root_of(tree_levels(st.leaves[:size]), size):
        raise Bad("gate decision's ledger.root is not this ledger's root at size %d (rule 8)"
                  % size)
    if "parameters" not in pred:
        return          # written before mlledger 0.2: rule 8's first clause only
    tv = time_us(pred["timeVerified"])
    if abs(tv - t) > FIVE_MINUTES_US:
        raise Bad("gate decision with parameters: timeVerified %s is %.0f s from its own append "
                  "time (more than 5 minutes; rule 8)" % (pred["timeVerified"], (tv - t) / 1e6))
    if size < seq and tv - st.times[size] > FIVE_MINUTES_US:
        raise Bad("gate decision with parameters made on the checkpoint of size %d, but entry %d "
                  "was appended %.0f s before its timeVerified %s (more than 5 minutes: not the "
                  "latest checkpoint when it was made; rule 8)"
                  % (size, size, (tv - st.times[size]) / 1e6, pred["timeVerified"]))


def replayable_problem(st, pred):
    """§2 "Gate decisions" as §5 rule 12 spells it out: why a decision is
    not replayable (structurally), or None.  Replayable: `parameters` and
    `evidence` present, no `phase`, and every policy descriptor's uri is
    mlledger:seq/N (N decimal without a leading zero) with N below its
    ledger.size, naming a `policy` entry whose subject is the descriptor's
    name and whose digest is the descriptor's digest.  (The replay itself,
    re-evaluating the policies, is `mlledger verify --decisions` and is not
    done here.)"""
    if "parameters" not in pred:
        return "no parameters"
    if "evidence" not in pred:
        return "no evidence"
    if "phase" in pred:
        return "a phase (%s)" % pred["phase"]
    size = pred["ledger"]["size"]
    for i, d in enumerate(pred["policies"]):
        n = seq_uri(d)
        if n is None:
            return "policies[%d] has no mlledger:seq/N uri (%r)" % (i, d.get("uri"))
        if n >= size:
            return "policies[%d] uri mlledger:seq/%d is not below ledger.size %d" % (i, n, size)
        if n not in st.policy_seqs:
            return "policies[%d] uri mlledger:seq/%d names no policy entry" % (i, n)
        pname, pdigest = st.policy_seqs[n]
        if d["name"] != pname:
            return "policies[%d] is named %s, but entry %d records %s" % (i, d["name"], n, pname)
        if bytes.fromhex(d["digest"]["sha256"]) != pdigest:
            return "policies[%d] digest is not that of policy entry %d" % (i, n)
    return None


def check_rule12(st, gov, gov_what, t, sname, sdigest, env):
    """§5 rule 12 (FORMAT.md 6855965): a deployment to an environment the
    document in force gates is admitted by its deciding decision: among the
    gate entries before it with the same subject name and digest, that
    environment, and a policy descriptor named ID@... for every policy ID
    the gate lists, the one with the highest seq.  It must have been
    appended at most maxAge seconds before the deployment (entries' time
    fields, inclusive), be replayable (replayable_problem) and PASSED; so a
    later FAILED decision revokes an earlier PASS.  The caller applies it to
    governed ledgers only."""
    if env not in gov.gates:
        return
    ids, max_age = gov.gates[env]
    what = ("deployment of %s to %s, which %s gates (policies %s, maxAge %d s)"
            % (sname, env, gov_what, ",".join(ids), max_age))
    for gseq, gt, gname, gdigest, g in reversed(st.gates):
        if gname != sname or gdigest != sdigest or g["environment"] != env:
            continue
        if not all(any(d["name"].startswith(i + "@") for d in g["policies"]) for i in ids):
            continue
        # the deciding decision
        if t - gt > max_age * 1000000:
            raise Bad("%s: its deciding gate decision, entry %d, was appended more than maxAge "
                      "before it (rule 12)" % (what, gseq))
        p = replayable_problem(st, g)
        if p:
            raise Bad("%s: its deciding gate decision, entry %d, is not replayable: %s (rule 12)"
                      % (what, gseq, p))
        if g["verificationResult"] != "PASSED":
            raise Bad("%s: its deciding gate decision, entry %d, is %s (rule 12)"
                      % (what, gseq, g["verificationResult"]))
        return
    raise Bad("%s, without a gate decision for that digest under those policies (rule 12)" % what)


def check_entry(st, seq, env_bytes, t):
    """Apply §5 rules 1-14 to entry seq (append time t, µs) once its seq,
    link and leaf hash are checked; return its expected entry_index row.
    The caller appends t and the leaf hash to st.times and st.leaves."""
    stmt, keyid, sig, cosigs = parse_envelope(env_bytes)
    kind, sname, sdigest, pred = parse_statement(stmt)
    msg = pae(PAYLOAD_TYPE, stmt)
    stmt_hash = sha256(stmt)

    # rule 1: times never decrease, a clock correction aside (its bounds are
    # checked with the rest of it below)
    if seq > 0 and kind != "clock-correction" and t < st.times[-1]:
        raise Bad("append time decreases")

    # rule 3 / 4: who signed
    if seq == 0:
        if kind != "genesis":
            raise Bad("entry 0 is not genesis")
        aname, akeyid, apub = parse_vkey(pred["admin"], RE_KEY_NAME, "genesis.admin")
        if keyid != akeyid:
            raise Bad("genesis is not signed by its admin key")
        if not ed25519_verify(apub, msg, sig):
            raise Bad("signature does not verify")
        if cosigs:
            raise Bad("entry 0 has more than one signature (rule 4)")
        st.enrol(0, akeyid, aname, pred["admin"], apub, ["admin"],
                 pred.get("person", {}).get("id"))
        st.genesis = pred
    else:
        if kind == "genesis":
            raise Bad("genesis after entry 0")
        k = st.keys.get(keyid)
        if k is None:
            raise Bad("signed by unknown key %s" % keyid)
        if k["revoked"] is not None:
            raise Bad("signed by revoked key %s (revoked at entry %d)" % (keyid, k["revoked"]))
        if not ed25519_verify(k["pub"], msg, sig):
            raise Bad("signature does not verify")
        # rule 4, for every countersignature (§3): one bad one is enough
        for ckid, csig in cosigs:
            c = st.keys.get(ckid)
            if c is None:
                raise Bad("countersigned by unknown key %s" % ckid)
            if c["revoked"] is not None:
                raise Bad("countersigned by revoked key %s (revoked at entry %d)"
                          % (ckid, c["revoked"]))
            if not ed25519_verify(c["pub"], msg, csig):
                raise Bad("countersignature by %s does not verify" % ckid)

    # rule 15: the statement names this ledger; format 2 requires it, and a
    # proof of possession in every enrolment (checked when present in 1)
    if seq > 0:
        named = pred["ledger"]["origin"] if kind == "gate" else pred.get("origin")
        if named is not None and named != st.genesis["origin"]:
            raise Bad("%s: statement for ledger %r, not this one (%r)"
                      % (kind, named, st.genesis["origin"]))
        if named is None and st.genesis["format"] >= 2:
            raise Bad("%s: names no origin, which format 2 requires" % kind)
        if kind == "key-enrollment":
            if "possession" not in pred and st.genesis["format"] >= 2:
                raise Bad("key-enrollment: no proof of possession, which format 2 requires")
            if "possession" in pred:
                _, _, epub = parse_vkey(pred["key"], RE_KEY_NAME, "key-enrollment.key")
                who = pred.get("person", {"id": sname})
                if not ed25519_verify(epub, possession_message(st.genesis["origin"], pred["key"],
                                                               who),
                                      b64decode_strict(pred["possession"], "possession")):
                    raise Bad("key-enrollment: the proof of possession does not verify")

    # rule 6: replay
    if (keyid, stmt_hash) in st.replay:
        raise Bad("replayed statement (same keyid and statement bytes as an earlier entry)")
    st.replay.add((keyid, stmt_hash))

    # rule 9: under the governance document in force for this entry (the
    # latest governance entry before it, else the genesis `governance`
    # member, else the default)
    gov = st.gov
    gov_what = ("the governance of entry %d" % st.gov_seq if st.gov_seq is not None
                else "the default governance")
    if seq > 0 and kind in ADMIN_ONLY and "admin" not in st.keys[keyid]["roles"]:
        raise Bad("%s signed by %s, which lacks role admin" % (kind, keyid))
    if seq > 0 and st.governed:
        roles = st.keys[keyid]["roles"]
        if not any(kind in gov.roles.get(r, ()) for r in roles):
            may = sorted(r for r, ks in gov.roles.items() if kind in ks)
            raise Bad("%s (roles %s) may not sign %s entries under %s (may: %s)"
                      % (keyid, ",".join(roles), kind, gov_what, ", ".join(may) or "no role"))
    if kind == "key-enrollment" and st.governed:
        bad = [r for r in pred["roles"] if r not in gov.roles]
        if bad:
            raise Bad("enrolment with role %r, not declared in %s" % (bad[0], gov_what))
    env = pred.get("environment")
    if st.governed and isinstance(env, str) and env not in gov.envs:
        raise Bad("environment %r is not declared in %s" % (env, gov_what))
    if st.governed and gov.metrics is not None and isinstance(pred.get("metrics"), dict):
        bad = sorted(m for m in pred["metrics"] if m not in gov.metrics)
        if bad:
            raise Bad("metric %r is not declared in %s (the set is closed)" % (bad[0], gov_what))
    if st.governed and isinstance(pred.get("properties"), dict):
        for k, v in pred["properties"].items():
            if k in gov.properties:
                try:
                    check_property_type(k, gov.properties[k], v)
                except Bad as e:
                    raise Bad("%s, under %s" % (e, gov_what))
    # rule 13: dual control, under the document in force (so a governance
    # entry is judged by the one it replaces)
    if seq > 0 and st.governed and gov.dual is not None and kind in gov.dual[0]:
        _, need, role = gov.dual
        persons = {st.keys[k]["person"] for k in [keyid] + [c for c, _ in cosigs]
                   if role in st.keys[k]["roles"]}
        if len(persons) < need:
            raise Bad("%s needs %d persons holding %s among its signers, has %d (rule 13)"
                      % (kind, need, role, len(persons)))
    new_gov = None
    if kind == "genesis" and "governance" in pred:      # rule 3
        new_gov = parse_governance(pred["governance"], "genesis.governance")
        # §2 "met at its place": a genesis has one person, its admin
        if new_gov.dual is not None and new_gov.dual[1] > (1 if new_gov.dual[2] == "admin" else 0):
            raise Bad("genesis governance: dualControl needs more persons than the genesis admin")
    elif kind in LEDGER_KINDS and sname != st.genesis["origin"]:
        raise Bad("%s: subject name %r is not the ledger's origin" % (kind, sname))
    elif kind == "governance":                            # rule 9
        new_gov = parse_governance(pred["document"], "governance.document")
        # rule 13: the new document is met at its place (§2), in every ledger
        active = [v for v in st.keys.values() if v["revoked"] is None]
        if new_gov.dual is not None:
            _, need, role = new_gov.dual
            if len({v["person"] for v in active if role in v["roles"]}) < need:
                raise Bad("governance: its dualControl needs %d persons holding %s, fewer "
                          "are enrolled (rule 13)" % (need, role))
        for a, b in new_gov.separation:
            holds = {}
            for v in active:
                holds.setdefault(v["person"], set()).update(v["roles"])
            if any(a in r and b in r for r in holds.values()):
                raise Bad("governance: a person already holds both %s and %s (rule 13)" % (a, b))

    # rule 1: a clock correction naming `from` is dated before entry from
    # and not before entry from - 1; from is below its own seq and above the
    # seq of every earlier clock correction
    if kind == "clock-correction":
        f = pred["from"]
        if f >= seq:
            raise Bad("clock-correction: from %d is not below its own seq" % f)
        if st.last_correction is not None and f <= st.last_correction:
            raise Bad("clock-correction: from %d is not above the earlier clock correction %d"
                      % (f, st.last_correction))
        if sdigest != st.leaves[f]:
            raise Bad("clock-correction: subject digest is not the leaf hash of entry %d" % f)
        if not st.times[f - 1] <= t < st.times[f]:
            raise Bad("clock-correction: its time %d is not in [time of entry %d, time of entry "
                      "%d) = [%d, %d)" % (t, f - 1, f, st.times[f - 1], st.times[f]))

    # rule 5: key management
    if kind in ("key-enrollment", "key-revocation"):
        if "admin" not in st.keys[keyid]["roles"]:
            raise Bad("%s signed by %s, which lacks role admin" % (kind, keyid))
        kname, kkeyid, kpub = parse_vkey(pred["key"], RE_KEY_NAME, kind + ".key")
        if kind == "key-enrollment":
            # rule 5: "an enrolment names a public key never enrolled before
            # (under any name: a revoked key cannot come back)".  The genesis
            # admin key counts as enrolled (rule 4).
            if kpub in st.seen_pubs:
                raise Bad("enrolment of a public key enrolled before (as %s)" % st.seen_pubs[kpub])
            # SPEC: two different public keys with the same name and 32-bit key
            # hash would share a keyid, which keys.keyid (PRIMARY KEY) and the
            # lookup by keyid (rule 4) cannot tell apart: refused.
            if kkeyid in st.keys:
                raise Bad("enrolment of keyid %s, which is taken" % kkeyid)
            if kname in st.active_name:
                raise Bad("enrolment of name %r, which has an active key" % kname)
            person = pred.get("person", {}).get("id", kname)
            # rule 14: separation of duties, under the document in force
            if st.governed:
                held = set(pred["roles"])
                for v in st.keys.values():
                    if v["revoked"] is None and v["person"] == person:
                        held.update(v["roles"])
                for a, b in gov.separation:
                    if a in held and b in held:
                        raise Bad("enrolment gives person %s both %s and %s (rule 14)"
                                  % (person, a, b))
            st.enrol(seq, kkeyid, kname, pred["key"], kpub, pred["roles"], person)
        else:
            k = st.keys.get(kkeyid)
            if k is None or k["vkey"] != pred["key"] or k["revoked"] is not None:
                raise Bad("revocation of a key that is not active (%s)" % kkeyid)
            if "admin" in k["roles"] and st.active_admins() == [kkeyid]:
                raise Bad("revocation of the last active admin key")
            # rule 13: not fewer than K persons left holding the role
            if st.governed and gov.dual is not None:
                _, need, role = gov.dual
                left = {v["person"] for kid, v in st.keys.items()
                        if kid != kkeyid and v["revoked"] is None and role in v["roles"]}
                if len(left) < need:
                    raise Bad("revocation leaves %d persons holding %s, fewer than "
                              "dualControl's %d (rule 13)" % (len(left), role, need))
            k["revoked"] = seq
            del st.active_name[kname]

    # rule 7: immutability and references
    def recorded(sk, ref, digest, what):
        have = st.subjects.get((sk, ref))
        if have is None:
            raise Bad("%s names %s %s, which is not recorded" % (what, sk, ref))
        if have[0] != digest:
            raise Bad("%s names %s %s with a digest other than the recorded one" % (what, sk, ref))

    if kind in ("dataset", "model"):
        if kind == "model":
            for i, r in enumerate(pred.get("datasets", [])):
                recorded("dataset", r["name"], bytes.fromhex(r["digest"]["sha256"]),
                         "model.datasets[%d]" % i)
            if "parent" in pred:
                r = pred["parent"]
                recorded("model", r["name"], bytes.fromhex(r["digest"]["sha256"]), "model.parent")
        have = st.subjects.get((kind, sname))
        if have is not None:
            if have[0] != sdigest:
                raise Bad("%s %s recorded before with another digest (entry %d)"
                          % (kind, sname, have[1]))
        else:
            st.subjects[(kind, sname)] = (sdigest, seq)
    elif kind == "policy":
        # rule 7: "a dataset/model/policy NAME@VERSION recorded before keeps
        # its digest"
        have = st.subjects.get(("policy", sname))
        if have is not None and have[0] != sdigest:
            raise Bad("policy %s recorded before with another digest (entry %d)"
                      % (sname, have[1]))
        if have is None:
            st.subjects[("policy", sname)] = (sdigest, seq)
        st.policy_seqs[seq] = (sname, sdigest)
    elif kind in MODEL_KINDS:
        recorded("model", sname, sdigest, kind)
        if kind == "gate":
            check_rule8(st, seq, t, pred)
        if kind == "evaluation" and "dataset" in pred:
            r = pred["dataset"]
            recorded("dataset", r["name"], bytes.fromhex(r["digest"]["sha256"]),
                     "evaluation.dataset")
        # rule 10: not expired at its own append time (expires holds to the
        # end of that day, UTC).  SPEC: "append time" read as the entry's
        # time field, not its effective time (§2 "Clock corrections").
        if st.governed and kind == "waiver" and t >= end_of_day_us(pred["expires"]):
            raise Bad("waiver expires %s, before its own append time" % pred["expires"])
        # rule 11: a deployment makes the version live in its environment; a
        # retirement needs it live there, and ends that
        if kind == "deployment":
            if st.governed:
                check_rule12(st, gov, gov_what, t, sname, sdigest, pred["environment"])
            st.live[(sname, pred["environment"])] = True
        if kind == "retirement":
            if st.governed and not st.live.get((sname, pred["environment"])):
                raise Bad("retirement of %s in %s, where it is not live (no deployment there "
                          "without a retirement after it)" % (sname, pred["environment"]))
            st.live[(sname, pred["environment"])] = False

    # the entry is valid: what it changes for the entries after it
    if kind == "gate":
        st.gates.append((seq, t, sname, sdigest, pred))
    if new_gov is not None:
        st.gov, st.gov_seq, st.governed = new_gov, seq, True
    st.effective.append(t)
    if kind == "clock-correction":
        st.last_correction = seq
        for i in range(pred["from"], seq):
            st.effective[i] = t

    if "idempotencyKey" in pred:
        st.idem.setdefault((keyid, pred["idempotencyKey"]), seq)
    if kind in ("genesis", "key-enrollment", "key-revocation", "report") + LEDGER_KINDS:
        name, version = sname, ""   # a report's subject is a file name, never NAME@VERSION
    else:
        name, version = split_ref(sname, "subject name")
    return (seq, kind, name, version, keyid, stmt_hash)


def verify(path, outside=()):
    """Return number of entries; raise Bad(msg) with the full message.
    outside: checkpoint notes held outside the ledger (bytes, name) that it
    must extend."""
    uri = "file:%s?mode=ro" % urllib.parse.quote(path)
    try:
        db = sqlite3.connect(uri, uri=True)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as e:
        raise Bad("bad ledger: cannot open: %s" % e)
    try:
        return verify_db(db, outside)
    except sqlite3.Error as e:
        raise Bad("bad ledger: sqlite error: %s" % e)
    finally:
        db.close()


def verify_db(db, outside=()):
    def one(q):
        return db.execute(q).fetchone()[0]

    if one("PRAGMA application_id") != APPLICATION_ID:
        raise Bad("bad ledger: application_id is not 0x4D4C4C47")
    uv = one("PRAGMA user_version")
    if uv != FORMAT_VERSION:
        raise Bad("bad ledger: user_version is %d, not 1" % uv)
    # SPEC: "One SQLite 3 file in WAL mode" is not checked: the journal mode is
    # a property of the storage, not of the record (mlledger does not check it).
    # §7: the set of sql texts (rows without sql -- automatic indexes -- aside,
    # order not significant) equals the §7 statements byte for byte.
    got_rows = db.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                          "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").fetchall()
    got = {r[2] for r in got_rows}
    want = expected_schema()
    has_idem = True
    if got == expected_schema(False):
        want, has_idem = expected_schema(False), False
    if got != want or len(got_rows) != len(want):
        extra = sorted("%s %s" % (t, n) for t, n, q in got_rows if q not in want)
        if len(got_rows) != len(got):
            extra.append("duplicated sql text")
        missing = sorted("%s %s" % (q.split()[1].lower(), q.split()[2]) for q in want - got)
        raise Bad("bad ledger: schema differs from FORMAT.md §7 (not in §7: %s; missing: %s)"
                  % (", ".join(extra) or "-", ", ".join(missing) or "-"))

    st = State()
    index_rows = {r[0]: tuple(r) for r in db.execute(
        "SELECT seq, kind, name, version, keyid, stmt_hash FROM entry_index")}
    n = 0
    leaves = []
    prev_hash = b"\x00" * 32
    for row in db.execute("SELECT seq, prev, appended_us, envelope, leaf_hash FROM entries ORDER BY seq"):
        seq, prev, t, env, lh = row
        try:
            if seq != n:
                raise Bad("seq %r where %d was expected (gap)" % (seq, n))
            if not isinstance(prev, bytes) or not isinstance(env, bytes) \
                    or not isinstance(lh, bytes) or not isinstance(t, int):
                raise Bad("column of the wrong type")
            if prev != prev_hash:
                raise Bad("prev does not link to the leaf hash of entry %d" % (seq - 1)
                          if seq else "prev of entry 0 is not 32 zero bytes")
            if not -(1 << 63) <= t < (1 << 63) or len(env) >= (1 << 32):
                raise Bad("field out of range")
            h = leaf_hash(leaf_bytes(seq, prev, t, env))
            if lh != h:
                raise Bad("stored leaf_hash is not the leaf hash")
            want_idx = check_entry(st, seq, env, t)
            have_idx = index_rows.pop(seq, None)
            if have_idx is None:
                raise Bad("no entry_index row")
            if have_idx != want_idx:
                cols = ("seq", "kind", "name", "version", "keyid", "stmt_hash")
                diff = [c for c, a, b in zip(cols, have_idx, want_idx) if a != b]
                raise Bad("entry_index row differs from the entry (%s)" % ", ".join(diff))
        except Bad as e:
            raise Bad("bad entry %d: %s" % (seq, e))
        prev_hash = h
        leaves.append(h)
        st.times.append(t)
        st.leaves.append(h)
        n += 1

    # §2 "Clock corrections": "Effective times never decrease" (implied by
    # rule 1 as read here; checked all the same)
    for i in range(1, len(st.effective)):
        if st.effective[i] < st.effective[i - 1]:
            raise Bad("bad entry %d: its effective time is before entry %d's" % (i, i - 1))

    if n == 0:
        raise Bad("bad ledger: no entries (no genesis)")
    if index_rows:
        raise Bad("bad ledger: entry_index has rows for entries that do not exist (seq %s)"
                  % min(index_rows))

    g = st.genesis
    meta_rows = db.execute("SELECT key, value FROM meta").fetchall()
    meta = dict(meta_rows)
    want_meta = {"format": str(g["format"]), "origin": g["origin"], "log_key": g["logKey"]}
    # §7: "exactly three rows"
    if len(meta_rows) != 3 or meta != want_meta:
        bad = sorted(set(meta) ^ set(want_meta) | {k for k in meta if k in want_meta and meta[k] != want_meta[k]})
        raise Bad("bad ledger: meta table does not match the genesis entry (%s)" % ", ".join(bad))

    want_keys = sorted((kid, k["name"], k["vkey"], ",".join(k["roles"]), k["enrolled"], k["revoked"])
                       for kid, k in st.keys.items())
    have_keys = sorted(tuple(r) for r in db.execute(
        "SELECT keyid, name, vkey, roles, enrolled_seq, revoked_seq FROM keys"))
    if have_keys != want_keys:
        diff = sorted({r[0] for r in set(have_keys) ^ set(want_keys)})
        raise Bad("bad ledger: keys table does not match the entries (keyid %s)" % ", ".join(map(str, diff)))

    # §7: the "first recording of each dataset, model and policy version:
    # kind (dataset/model/policy), NAME@VERSION (ID@VERSION for a policy),
    # digest, seq" (FORMAT.md 6855965)
    want_subj = sorted((k, r, d, s) for (k, r), (d, s) in st.subjects.items())
    have_subj = sorted(tuple(r) for r in db.execute("SELECT kind, ref, digest, seq FROM subjects"))
    if have_subj != want_subj:
        diff = sorted({"%s %s" % (r[0], r[1]) for r in set(have_subj) ^ set(want_subj)})
        raise Bad("bad ledger: subjects table does not match the entries (%s)" % ", ".join(diff))

    # §7 idempotency_keys: the first entry of each (keyid, idempotencyKey)
    want_idem = sorted((kid, k, s) for (kid, k), s in st.idem.items())
    have_idem = sorted(tuple(r) for r in db.execute(
        "SELECT keyid, idem_key, seq FROM idempotency_keys")) if has_idem else []
    if have_idem != want_idem:
        diff = sorted({"%s %s" % (r[0], r[1]) for r in set(have_idem) ^ set(want_idem)})
        raise Bad("bad ledger: idempotency_keys table does not match the entries (%s)%s"
                  % (", ".join(diff), "" if has_idem else " (the table is missing)"))

    # §7 tree: exactly the complete subtrees of level >= 1 of the n-leaf
    # tree, (level, idx) covering leaves [idx*2^level, (idx+1)*2^level)
    levels = tree_levels(leaves)
    rows = 0
    for level, idx, h in db.execute("SELECT level, idx, hash FROM tree ORDER BY level, idx"):
        if not isinstance(h, bytes):
            raise Bad("bad ledger: tree node (level %r, index %r): hash is not a blob" % (level, idx))
        if not 1 <= level < len(levels) or not 0 <= idx < len(levels[level]):
            raise Bad("bad ledger: tree node (level %d, index %d) is not a complete subtree of "
                      "level >= 1 of the %d-leaf tree" % (level, idx, n))
        if h != levels[level][idx]:
            raise Bad("bad ledger: tree node (level %d, index %d) differs from the hash "
                      "recomputed from the leaves" % (level, idx))
        rows += 1
    want_rows = n - bin(n).count("1")
    if rows != want_rows:
        raise Bad("bad ledger: tree holds %d nodes, not the %d complete subtrees of level >= 1 "
                  "of the %d-leaf tree (n - popcount(n))" % (rows, want_rows, n))

    # §7/§8 checkpoints: each a C2SP checkpoint of this origin at its size
    # with the recomputed root, signed by the log key (meta log_key = the
    # genesis logKey, checked above); the newest at the ledger's size
    logkey = LogKey(meta["log_key"], "meta log_key")
    newest = None
    for size, typ, note in db.execute("SELECT size, typeof(note), CAST(note AS BLOB) "
                                      "FROM checkpoints ORDER BY size"):
        what = "checkpoint of size %d" % size
        # SPEC: one checkpoint per committed append, so sizes run 1..n; a
        # size-0 row (no append makes the empty tree) is refused.
        if not 1 <= size <= n:
            raise Bad("bad ledger: %s: not a size from 1 to the ledger's %d entries" % (what, n))
        try:
            origin, csize, root, _ = open_checkpoint(note, logkey, what, only_log_sig=True)
        except Bad as e:
            raise Bad("bad ledger: %s" % e)
        if origin != g["origin"]:
            raise Bad("bad ledger: %s: origin %r is not the ledger's" % (what, origin))
        if csize != size:
            raise Bad("bad ledger: %s: its note is of size %d" % (what, csize))
        if root != root_of(levels, size):
            raise Bad("bad ledger: %s: root is not the recomputed root of the first %d leaves"
                      % (what, size))
        newest = size
    if newest != n:
        raise Bad("bad ledger: the newest checkpoint is of size %s, not the ledger's size %d"
                  % (newest if newest is not None else "- (none)", n))

    # checkpoints held outside the ledger (FORMAT.md §7: "that is what signed
    # checkpoints held outside the ledger answer"): this ledger must extend them
    for raw, name in outside:
        try:
            origin, size, root, _ = open_checkpoint(raw, logkey, name, only_log_sig=False)
        except Bad as e:
            raise Bad("bad ledger: outside checkpoint %s" % e)
        if size > n:
            raise Bad("bad ledger: outside checkpoint %s is of size %d, beyond the ledger's %d "
                      "entries (truncated?)" % (name, size, n))
        if root != root_of(levels, size):
            raise Bad("bad ledger: outside checkpoint %s: the ledger's first %d entries have "
                      "another root (history rewritten)" % (name, size))
    return n


# ---------------------------------------------------------------------------
# §9 test vectors (and §8 on RFC 6962 / C2SP test data)

def run_vectors():
    results = []

    def check(name, cond):
        results.append((name, bool(cond)))
        print("%s - %s" % ("ok" if cond else "not ok", name))

    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    pub_want = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    sk = nacl.signing.SigningKey(seed)
    pub = bytes(sk.verify_key)
    check("RFC 8032 TEST 1 public key from seed", pub == pub_want)
    check("key hash of alice is 0xd32c1872",
          struct.unpack(">I", key_hash(b"alice", pub))[0] == 0xd32c1872)
    vkey = verifier_key_line("alice", pub)
    check("verifier key line", vkey == "alice+d32c1872+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea")
    try:
        pn, pk, pp = parse_vkey(vkey, RE_KEY_NAME, "vkey")
        check("verifier key parses back (name, keyid, key)",
              (pn, pk, pp) == ("alice", "alice+d32c1872", pub))
    except Bad:
        check("verifier key parses back (name, keyid, key)", False)
    signer = "PRIVATE+KEY+alice+%s+%s" % (key_hash(b"alice", pub).hex(),
                                          base64.b64encode(b"\x01" + seed).decode())
    check("signer key line", signer == "PRIVATE+KEY+alice+d32c1872+AZ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g")
    # §1: keyid = the first two '+'-separated fields (the base64 field can
    # itself contain '+', as this vector's does)
    check("keyid", "+".join(vkey.split("+")[:2]) == "alice+d32c1872")
    # C2SP's own example verifier key
    try:
        c2n, c2k, c2p = parse_vkey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
                                   RE_ORIGIN, "c2sp")
        check("C2SP example key hash 0x530d903a", c2k == "example.com/foo+530d903a")
    except Bad:
        check("C2SP example key hash 0x530d903a", False)

    abc = hashlib.sha256(b"abc").hexdigest()
    check("SHA-256(abc)", abc == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    stmt = ('{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"fraud-detector@3.1.0",'
            '"digest":{"sha256":"%s"}}],"predicateType":"https://mlledger.dev/approval/v1",'
            '"predicate":{"environment":"prod","decision":"approve","comment":"validated",'
            '"time":"2026-10-01T12:00:00Z"}}' % abc).encode()
    check("statement is 333 bytes", len(stmt) == 333)
    try:
        kind, sname, sdig, _ = parse_statement(stmt)
        check("statement is well formed (approval of fraud-detector@3.1.0)",
              kind == "approval" and sname == "fraud-detector@3.1.0" and sdig.hex() == abc)
    except Bad as e:
        check("statement is well formed (%s)" % e, False)
    # §9 "Report entry"
    rep = ('{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"q3-2026.html","digest":{"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}}],"predicateType":"https://mlledger.dev/report/v1","predicate":{"time":"2026-10-01T12:00:00Z","format":"html","from":"2026-07-01","to":"2026-09-30","asOf":"2026-10-01T00:00:00Z","policies":[{"id":"tiny","version":"1","sha256":"6b10dac4fdfb39b2703550f3dd6742ab585c57f020eb5f7288b73d8f3b9ea5ba"}],"origin":"demo.mlledger.example/fraud"}}').encode()
    check("report entry is 499 bytes, SHA-256 64db3ab59b6c…", len(rep) == 499 and
          hashlib.sha256(rep).hexdigest() == "64db3ab59b6c1d5a015c7eeee021efa804937518fc640b3ea5d2e580965904fc")
    try:
        kind, sname, sdig, _ = parse_statement(rep)
        check("report entry is well formed (report q3-2026.html, digest SHA-256(abc))",
              kind == "report" and sname == "q3-2026.html" and sdig.hex() == abc)
    except Bad as e:
        check("report entry is well formed (%s)" % e, False)
    try:
        parse_statement(rep.replace(b'"format":"html"', b'"format":"pdf"'))
        check("report entry with format pdf is refused", False)
    except Bad:
        check("report entry with format pdf is refused", True)
    p = pae(PAYLOAD_TYPE, stmt)
    check("PAE prefix", p.startswith(b"DSSEv1 28 application/vnd.in-toto+json 333 ") and p.endswith(stmt))
    check("PAE is 376 bytes", len(p) == 376)
    check("PAE SHA-256", hashlib.sha256(p).hexdigest()
          == "7ffab7e655368133f9e6ba6472014360d3cf9477bfbeed8ac19b423961f1ecdc")
    check("DSSE spec PAE example",
          pae("http://example.com/HelloWorld", b"hello world")
          == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world")

    sig = sk.sign(p).signature
    env_want = (
        '{"payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJzdWJqZWN0IjpbeyJuYW1lIjoiZnJhdWQtZGV0ZWN0b3JAMy4xLjAiLCJkaWdlc3QiOnsic2hhMjU2IjoiYmE3ODE2YmY4ZjAxY2ZlYTQxNDE0MGRlNWRhZTIyMjNiMDAzNjFhMzk2MTc3YTljYjQxMGZmNjFmMjAwMTVhZCJ9fV0sInByZWRpY2F0ZVR5cGUiOiJodHRwczovL21sbGVkZ2VyLmRldi9hcHByb3ZhbC92MSIsInByZWRpY2F0ZSI6eyJlbnZpcm9ubWVudCI6InByb2QiLCJkZWNpc2lvbiI6ImFwcHJvdmUiLCJjb21tZW50IjoidmFsaWRhdGVkIiwidGltZSI6IjIwMjYtMTAtMDFUMTI6MDA6MDBaIn19",'
        '"payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"alice+d32c1872",'
        '"sig":"zgTHPtO2ZEMPzN9F0PftXyrlmz89KicID0naUX7XsBZSEf91dm7inj5bRdgj2emeTL2sH9kqS9cDsUxVLA3+Dw=="}]}'
    ).encode()
    env = ('{"payload":"%s","payloadType":"%s","signatures":[{"keyid":"%s","sig":"%s"}]}'
           % (base64.b64encode(stmt).decode(), PAYLOAD_TYPE, "alice+d32c1872",
              base64.b64encode(sig).decode())).encode()
    check("re-signed envelope equals the vector byte for byte", env == env_want)
    check("envelope is 642 bytes", len(env_want) == 642)
    try:
        s2, kid2, sig2, _ = parse_envelope(env_want)
        check("vector envelope parses (statement, keyid)", s2 == stmt and kid2 == "alice+d32c1872")
        check("vector signature verifies (strict Ed25519)", ed25519_verify(pub, pae(PAYLOAD_TYPE, s2), sig2))
        check("signature does not verify over a changed statement",
              not ed25519_verify(pub, pae(PAYLOAD_TYPE, s2[:-2] + b" }"), sig2))
    except Bad as e:
        check("vector envelope parses (%s)" % e, False)

    prev = bytes(range(32))
    t = 1790000000123456
    check("entry time is 2026-09-21T14:13:20.123456Z",
          datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=t)
          == datetime.datetime(2026, 9, 21, 14, 13, 20, 123456))
    lb = leaf_bytes(5, prev, t, env_want)
    hdr = bytes.fromhex("01" "0000000000000005"
                        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                        "00065bfeda27c240" "00000282")
    check("leaf header bytes", lb[:53] == hdr)
    check("leaf is 695 bytes", len(lb) == 695 and lb[53:] == env_want)
    check("leaf hash", leaf_hash(lb).hex() == "57df08966f5f1dc8ca3f6365c84eeed52da6bec50a06ffee464e9fec7cc60a92")
    check("RFC 6962 empty-leaf hash", hashlib.sha256(b"\x00").hexdigest()
          == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")

    # §8 Merkle tree: the RFC 6962 test data of Certificate Transparency
    # (leaves as hex) and its published roots for sizes 0..8
    ct_data = [bytes.fromhex(x) for x in ("", "00", "10", "2021", "3031", "40414243",
                                           "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
    ct_roots = [bytes.fromhex(x) for x in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
    ct_leaves = [leaf_hash(d) for d in ct_data]
    lv = tree_levels(ct_leaves)
    check("RFC 6962 roots of the CT test data, sizes 0-8 (MTH by definition)",
          all(mth(ct_leaves[:k]) == ct_roots[k] for k in range(9)))
    check("RFC 6962 roots of the CT test data, sizes 0-8 (from complete subtrees, as the tree table)",
          all(root_of(tree_levels(ct_leaves[:k]), k) == ct_roots[k] and root_of(lv, k) == ct_roots[k]
              for k in range(9)))
    hx = lambda *xs: [bytes.fromhex(x) for x in xs]   # noqa: E731
    ct_incl = {(0, 8): hx("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
               (5, 8): hx("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}
    ct_cons = {(2, 8): hx("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
               (6, 8): hx("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}
    for (i, n), path in ct_incl.items():
        check("CT inclusion proof (%d, %d): RFC 9162 §2.1.3.1 path equals it, §2.1.3.2 accepts it" % (i, n),
              inclusion_path(ct_leaves[:n], i) == path
              and verify_inclusion(ct_leaves[i], i, n, path, ct_roots[n])
              and not verify_inclusion(ct_leaves[i], i, n, path[:-1], ct_roots[n]))
    for (m, n), path in ct_cons.items():
        check("CT consistency proof (%d, %d): §2.1.4.1 proof equals it, §2.1.4.2 accepts it" % (m, n),
              consistency_path(ct_leaves[:n], m) == path
              and verify_consistency(m, n, ct_roots[m], ct_roots[n], path)
              and not verify_consistency(m, n, ct_roots[m], ct_roots[n], path[1:]))

    # every proof of trees of 1..40 leaves verifies, and mangled ones do not
    big = [leaf_hash(b"leaf %d" % i) for i in range(40)]
    blv = tree_levels(big)
    roots = [mth(big[:k]) for k in range(41)]
    bad = []
    for n in range(1, 41):
        if root_of(blv, n) != roots[n] or root_of(tree_levels(big[:n]), n) != roots[n]:
            bad.append("root %d" % n)
        for i in range(n):
            p = inclusion_path(big[:n], i)
            if not verify_inclusion(big[i], i, n, p, roots[n]):
                bad.append("incl %d/%d" % (i, n))
            if verify_inclusion(big[i], i + 1, n, p, roots[n]) and big[i] != big[(i + 1) % n]:
                bad.append("incl wrong index %d/%d" % (i, n))
            if p and (verify_inclusion(big[i], i, n, p[:-1], roots[n])
                      or verify_inclusion(big[i], i, n, p + [p[-1]], roots[n])
                      or verify_inclusion(big[i], i, n, [bytes([p[0][0] ^ 1]) + p[0][1:]] + p[1:], roots[n])):
                bad.append("mangled incl %d/%d accepted" % (i, n))
        for m in range(0, n + 1):
            p = consistency_path(big[:n], m) if m else []
            if not verify_consistency(m, n, roots[m], roots[n], p):
                bad.append("cons %d->%d" % (m, n))
            if p and (verify_consistency(m, n, roots[m], roots[n], p[:-1])
                      or verify_consistency(m, n, roots[m], roots[n], p + [p[0]])
                      or verify_consistency(m, n, roots[m], roots[n],
                                            p[:-1] + [bytes([p[-1][0] ^ 1]) + p[-1][1:]])):
                bad.append("mangled cons %d->%d accepted" % (m, n))
            if m < n and verify_consistency(m, n, roots[m + 1], roots[n], p):
                bad.append("cons %d->%d with the wrong old root accepted" % (m, n))
    check("RFC 9162 proofs for all trees of 1-40 leaves: every inclusion and consistency proof "
          "verifies, mangled ones do not%s" % (" (" + ", ".join(bad[:5]) + ")" if bad else ""), not bad)

    # C2SP signed note: the example of golang.org/x/mod/sumdb/note
    try:
        pn = LogKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        msg = ("If you think cryptography is the answer to your problem,\n"
               "then you don't know what your problem is.\n\n"
               "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
               ).encode()
        text, sigs = parse_signed_note(msg, "example note")
        check("signed-note example (x/mod/sumdb/note) verifies",
              len(sigs) == 1 and sigs[0][:2] == ("PeterNeumann", pn.hash)
              and ed25519_verify(pn.pub, text, sigs[0][2])
              and not ed25519_verify(pn.pub, text.replace(b"answer", b"Answer"), sigs[0][2]))
    except Bad as e:
        check("signed-note example (x/mod/sumdb/note) verifies (%s)" % e, False)

    # §8 checkpoint: sign with the TEST 1 seed as log key "example.org/log", open it
    lk = LogKey(verifier_key_line("example.org/log", pub))
    cp = checkpoint_note("example.org/log", 8, ct_roots[8], seed)
    try:
        got = open_checkpoint(cp, lk, "checkpoint", only_log_sig=True)[:3]
        check("checkpoint signed by the log key opens (origin, size, root)",
              got == ("example.org/log", 8, ct_roots[8]))
    except Bad as e:
        check("checkpoint signed by the log key opens (%s)" % e, False)
    for desc, mangled in (("size changed", cp.replace(b"\n8\n", b"\n9\n")),
                          ("hyphen for the em dash", cp.replace(SIG_PREFIX, b"- ")),
                          ("no blank line", cp.replace(b"\n\n", b"\n")),
                          ("leading zero in the size", cp.replace(b"\n8\n", b"\n08\n"))):
        try:
            open_checkpoint(mangled, lk, "checkpoint", only_log_sig=True)
            check("checkpoint with %s refused" % desc, False)
        except Bad:
            check("checkpoint with %s refused" % desc, True)

    # §2 governance documents: the default file, and the validation rules
    import os
    dpath = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ledger",
                         "governance.default.json")
    try:
        dtext = open(dpath, "rb").read().decode("utf-8")
        check("ledger/governance.default.json is a valid document equal to the §2 default tables "
              "and gates",
              parse_governance(dtext).same_as(Governance(DEFAULT_ROLES, DEFAULT_ENVS, None,
                                                         DEFAULT_PROPERTIES,
                                                         DEFAULT_DOCUMENT_GATES)))
    except (OSError, UnicodeDecodeError, Bad) as e:
        check("ledger/governance.default.json is a valid document (%s)" % e, False)
    admin = '"admin":["key-enrollment","key-revocation","governance"]'
    good = {
        "{}": "the empty document (all defaults)",
        '{"roles":{%s}}' % admin: "only admin",
        '{"roles":{%s,"auditor":[]},"environments":["eu:prod"],"metrics":{},'
        '"properties":{"tier":{"type":"string","values":["gold","silver"]},"n":{"type":"number"}}}'
        % admin: "every member, an empty closed metric set",
        '{"metrics":{"auc":{"direction":"higher","unit":"ratio"}}}': "a metric with a unit",
        '{"gates":{}}': "an empty gates object",
        '{"gates":{"prod":{"policies":["production","eu/ai-act_v2"],"maxAge":1}}}':
            "two policies, maxAge 1",
        '{"environments":["lab"],"gates":{"lab":{"policies":["p"],"maxAge":31622400}}}':
            "a gate on the document's own environment, maxAge 31,622,400",
    }
    bad = {
        "[]": "not an object",
        '{"roles":{}}': "no roles",
        '{"roles":{"admin":["key-enrollment","key-revocation"]}}': "admin without governance",
        '{"roles":{"ops":["key-enrollment","key-revocation","governance"]}}': "no admin",
        '{"roles":{%s,"x":["genesis"]}}' % admin: "a role granted genesis",
        '{"roles":{%s,"x":["approval","approval"]}}' % admin: "a kind listed twice",
        '{"roles":{%s,"Ops":[]}}' % admin: "a role name with a capital",
        '{"environments":[]}': "no environments",
        '{"environments":["prod","prod"]}': "an environment twice",
        '{"environments":["a b"]}': "an environment with a space",
        '{"metrics":{"auc":{"direction":"up"}}}': "a direction up",
        '{"metrics":{"auc":{"unit":"x"}}}': "a metric without direction",
        '{"metrics":{"auc":{"direction":"higher","unit":"%s"}}}' % ("u" * 33): "a unit of 33 bytes",
        '{"properties":{"pii":{"type":"boolean","values":["true"]}}}': "values on a boolean",
        '{"properties":{"t":{"type":"string","values":[]}}}': "no values",
        '{"properties":{"t":{"type":"date"}}}': "type date",
        '{"owners":[]}': "an unknown member",
        '{"environments":["dev"],"environments":["prod"]}': "a duplicated member",
        '{"gates":{"qa":{"policies":["production"],"maxAge":60}}}': "a gate on an undeclared environment",
        '{"environments":["lab"],"gates":{"prod":{"policies":["production"],"maxAge":60}}}':
            "a gate on a default environment the document does not declare",
        '{"gates":{"prod":{"policies":[],"maxAge":60}}}': "a gate without policies",
        '{"gates":{"prod":{"policies":["a","a"],"maxAge":60}}}': "a policy listed twice",
        '{"gates":{"prod":{"policies":[%s],"maxAge":60}}}' % ",".join('"p%d"' % i for i in range(17)):
            "17 policies",
        '{"gates":{"prod":{"policies":["-p"],"maxAge":60}}}': "a policy id starting with -",
        '{"gates":{"prod":{"policies":["production"],"maxAge":0}}}': "maxAge 0",
        '{"gates":{"prod":{"policies":["production"],"maxAge":31622401}}}': "maxAge 31,622,401",
        '{"gates":{"prod":{"policies":["production"],"maxAge":60.0}}}': "maxAge 60.0",
        '{"gates":{"prod":{"policies":["production"]}}}': "a gate without maxAge",
        '{"gates":{"prod":{"policies":["production"],"maxAge":60,"phase":"x"}}}':
            "a gate with an unknown member",
        '{"gates":[]}': "gates not an object",
    }
    for text, desc in good.items():
        try:
            parse_governance(text)
            check("governance document accepted: %s" % desc, True)
        except Bad as e:
            check("governance document accepted: %s (%s)" % (desc, e), False)
    for text, desc in bad.items():
        try:
            parse_governance(text)
            check("governance document refused: %s" % desc, False)
        except Bad:
            check("governance document refused: %s" % desc, True)
    check("end of day 1970-01-01 is 86400 s; of 2000-02-29 is 951868800 s; of 0000-01-01 is "
          "-62167132800 s", end_of_day_us("1970-01-01") == 86400 * 10**6
          and end_of_day_us("2000-02-29") == 951868800 * 10**6
          and end_of_day_us("0000-01-01") == -62167132800 * 10**6)
    # §9 "Proof of possession" and "Statement naming its origin"
    person = {"id": "alice", "name": "Alice Martin", "email": "alice@example.com",
              "employeeId": "E-1042"}
    pmsg = possession_message("demo.mlledger.example/fraud", vkey, person)
    check("possession message: 202 bytes, SHA-256 0b9840ae...",
          len(pmsg) == 202 and sha256(pmsg).hex()
          == "0b9840ae094f1f8946043008095442ea1457011f2d9cc51cdd6f4e7737b2dcd4")
    psig = base64.b64encode(sk.sign(pmsg).signature).decode()
    check("possession signature", psig == "9t+0VA9lBTSULHxcFY8WqiXT8zXjionVOwgyRIKts7/"
          "AHeEnrJA7sYn/dibn+k4ls13KedYRl2be3IX2GYZkAA==")
    check("possession for another origin does not verify",
          not ed25519_verify(pub, possession_message("other.example/log", vkey, person),
                             base64.b64decode(psig)))

    failed = sum(1 for _, ok in results if not ok)
    print("vectors: %d passed, %d failed" % (len(results) - failed, failed))
    return 0 if failed == 0 else 1


USAGE = """\
usage: verify_ledger.py LEDGER.db [--checkpoint FILE]...
       verify_ledger.py --vectors
       verify_ledger.py --inclusion LOG.pub BUNDLE LEAF
       verify_ledger.py --consistency LOG.pub OLD.checkpoint NEW.checkpoint PROOF
       verify_ledger.py --cosignature LOG.pub WITNESS.pub COSIGNED.checkpoint
       verify_ledger.py --bundle LOG.pub DIR
"""


def read_key_line(path):
    """A verifier key file: one line + "\n"."""
    raw = open(path, "rb").read()
    if not raw.endswith(b"\n") or raw.count(b"\n") != 1:
        raise Bad("%s: not one line + \\n" % path)
    return raw[:-1].decode("utf-8")


def rb(path):
    return open(path, "rb").read()


# ---------------------------------------------------------------------------
# §10 export bundles

RE_BUNDLE_NAME = re.compile(r"[A-Za-z0-9._:@+-]{1,200}")


def bundle_name_ok(n):
    return bool(RE_BUNDLE_NAME.fullmatch(n)) and not n.startswith(".")


def parse_manifest(raw):
    """§10 MANIFEST: return (scope dict, {path: (hex, size)} in file order)."""
    if not raw.endswith(b"\n"):
        raise Bad("MANIFEST: does not end in a newline")
    lines = raw[:-1].decode("utf-8").split("\n")
    heads = ["origin ", "size ", "root ", "exported ", "tool ", "exporter "]
    if len(lines) < 7 or lines[0] != "mlledger bundle manifest v1":
        raise Bad("MANIFEST: not a bundle manifest")
    scope = {}
    for h, ln in zip(heads, lines[1:7]):
        if not ln.startswith(h) or len(ln) == len(h):
            raise Bad("MANIFEST: line %r is not %r" % (ln, h.strip()))
        scope[h.strip()] = ln[len(h):]
    if not re.fullmatch(r"[0-9]+", scope["size"]):
        raise Bad("MANIFEST: size is not decimal")
    scope["size"] = int(scope["size"])
    scope["root"] = b64decode_strict(scope["root"], "MANIFEST root")
    files, last = {}, None
    for ln in lines[7:]:
        m = re.fullmatch(r"file ([0-9a-f]{64}) ([0-9]+) (.*)", ln)
        if not m:
            raise Bad("MANIFEST: %r is not a file line" % ln)
        p = m.group(3)
        parts = p.split("/")
        if not (len(parts) == 1 and bundle_name_ok(p) and p not in ("MANIFEST", "MANIFEST.sig")
                or len(parts) == 2 and parts[0] in ("keys", "policies") and bundle_name_ok(parts[1])):
            raise Bad("MANIFEST: %r is not a file of a bundle" % p)
        if last is not None and p.encode() <= last.encode():
            raise Bad("MANIFEST: paths not sorted and unique at %r" % p)
        last = p
        files[p] = (m.group(1), int(m.group(2)))
    for p in ("ledger.db", "log.pub", "checkpoint", "README.txt", "FORMAT.md"):
        if p not in files:
            raise Bad("MANIFEST does not list %s" % p)
    return scope, files


def verify_bundle(logkey_line, d):
    """§10 verify --bundle DIR --log-key: return (entries, exporter)."""
    import os
    import stat
    logkey = LogKey(logkey_line)
    scope, files = parse_manifest(rb(os.path.join(d, "MANIFEST")))
    # the folder: exactly the listed regular files (+ MANIFEST*, SQLite's files)
    seen = set()
    for sub in ("", "keys/", "policies/"):
        for n in sorted(os.listdir(os.path.join(d, sub) if sub else d)):
            rel = sub + n
            st = os.lstat(os.path.join(d, rel))
            if not sub and n in ("keys", "policies") and stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode):
                raise Bad("%s: not a regular file" % rel)
            if not sub and n in ("MANIFEST", "MANIFEST.sig", "ledger.db-shm"):
                continue
            if not sub and n == "ledger.db-wal" and st.st_size == 0:
                continue
            if rel not in files:
                raise Bad("%s: not listed in MANIFEST" % rel)
            seen.add(rel)
    for p, (hx, size) in files.items():
        if p not in seen:
            raise Bad("%s: missing" % p)
        b = rb(os.path.join(d, p))
        if len(b) != size or sha256(b).hex() != hx:
            raise Bad("%s: differs from MANIFEST" % p)
    if read_key_line(os.path.join(d, "log.pub")) != logkey.line:
        raise Bad("log.pub: not the log key given")
    ckpt = rb(os.path.join(d, "checkpoint"))
    n = verify(os.path.join(d, "ledger.db"), [(ckpt, "checkpoint")])
    origin, size, root, _ = open_checkpoint(ckpt, logkey, "checkpoint", only_log_sig=False)
    if (origin, size, root) != (scope["origin"], scope["size"], scope["root"]):
        raise Bad("MANIFEST: scope is not the checkpoint's")
    db = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(os.path.join(d, "ledger.db")),
                         uri=True)
    try:
        if db.execute("SELECT value FROM meta WHERE key = 'log_key'").fetchone()[0] != logkey.line:
            raise Bad("ledger.db: meta log_key is not the log key given")
        keys = db.execute("SELECT keyid, vkey, revoked_seq FROM keys").fetchall()
        envs = [bytes(r[0]) for r in db.execute(
            "SELECT e.envelope FROM entries e JOIN entry_index i ON i.seq = e.seq "
            "WHERE i.kind = 'policy' ORDER BY e.seq")]
    finally:
        db.close()
    sig = rb(os.path.join(d, "MANIFEST.sig"))
    m = re.fullmatch(rb"([^ \n]+) ([A-Za-z0-9+/=]+)\n", sig)
    if not m or m.group(1).decode() != scope["exporter"]:
        raise Bad("MANIFEST.sig: not 'KEYID SIG' by the manifest's exporter")
    ex = [k for k in keys if k[0] == scope["exporter"] and k[2] is None]
    if not ex:
        raise Bad("MANIFEST.sig: the exporter is not an active enrolled key")
    _, _, pub = parse_vkey(ex[0][1], RE_KEY_NAME, "exporter key")
    if not ed25519_verify(pub, rb(os.path.join(d, "MANIFEST")),
                          b64decode_strict(m.group(2).decode(), "MANIFEST.sig")):
        raise Bad("MANIFEST.sig: signature does not verify")
    want = {"keys/%s.pub" % k[0]: (k[1] + "\n").encode() for k in keys}
    for p, body in [(p, None) for p in files if p.startswith("keys/")]:
        if p not in want:
            raise Bad("%s: not an enrolled key" % p)
    for p, body in want.items():
        if p not in files or rb(os.path.join(d, p)) != body:
            raise Bad("%s: missing or not the enrolled key line" % p)
    pols = {}
    for env in envs:
        st = json.loads(parse_envelope(env)[0])
        subj = st["subject"][0]["name"]
        if bundle_name_ok(subj) and "@" in subj:
            pols.setdefault("policies/%s.xml" % subj, st["predicate"]["content"].encode())
    if {p for p in files if p.startswith("policies/")} != set(pols):
        raise Bad("policies/: not exactly the recorded policies")
    for p, body in pols.items():
        if rb(os.path.join(d, p)) != body:
            raise Bad("%s: not the recorded content" % p)
    if ("since.checkpoint" in files) != ("consistency.proof" in files):
        raise Bad("since.checkpoint and consistency.proof: one without the other")
    if "since.checkpoint" in files:
        check_consistency(logkey, rb(os.path.join(d, "since.checkpoint")), ckpt,
                          rb(os.path.join(d, "consistency.proof")))
    return n, scope["exporter"]


def main(argv):
    a = argv[1:]
    try:
        if a == ["--vectors"]:
            return run_vectors()
        if len(a) == 4 and a[0] == "--inclusion":
            origin, index, size = check_inclusion_bundle(LogKey(read_key_line(a[1])), rb(a[2]), rb(a[3]))
            print("ok entry %d is in the tree of size %d of %s" % (index, size, origin))
            return 0
        if len(a) == 5 and a[0] == "--consistency":
            m, n, k = check_consistency(LogKey(read_key_line(a[1])), rb(a[2]), rb(a[3]), rb(a[4]))
            print("ok the tree of size %d is a prefix of the tree of size %d (%d hashes)" % (m, n, k))
            return 0
        if len(a) == 4 and a[0] == "--cosignature":
            ts = check_cosignature(rb(a[3]), read_key_line(a[2]), LogKey(read_key_line(a[1])))
            print("ok cosigned at %d" % ts)
            return 0
        if len(a) == 3 and a[0] == "--bundle":
            n, ex = verify_bundle(read_key_line(a[1]), a[2])
            print("ok bundle: %d entries, MANIFEST signed by %s" % (n, ex))
            return 0
        if a and not a[0].startswith("-") and len(a) % 2 == 1 and all(
                x == "--checkpoint" for x in a[1::2]):
            outside = [(rb(f), f) for f in a[2::2]]
            n = verify(a[0], outside)
            print("ok %d entries" % n)
            return 0
    except Bad as e:
        print(e)
        return 1
    except (OSError, UnicodeDecodeError) as e:
        print("bad input: %s" % e)
        return 1
    sys.stderr.write(USAGE)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

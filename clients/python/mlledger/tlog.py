"""Transparency-log checks (ledger/FORMAT.md §4 and §8): leaf bytes, RFC
6962 / RFC 9162 inclusion and consistency proofs, C2SP signed notes,
checkpoints and c2sp.org/tlog-proof@v1 bundles.  Pure functions over bytes;
every parser is bounded and raises VerificationError on any deviation."""

import base64
import hashlib
import re
import struct

from .errors import VerificationError
from .keys import b64decode_strict

NOTE_MAX = 128 * 1024           # note.h ML_NOTE_MAX
PROOF_HASHES_MAX = 64           # a tree below 2^63 needs at most 63
SIG_PREFIX = "\u2014 "          # "— "
MAX_ENVELOPE = 65535 - 53       # docs/SERVER.md: leaf bytes fit a uint16


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_bytes(seq, prev, time_us, envelope):
    """FORMAT.md §4: 0x01 || u64 seq || prev || i64 time || u32 len || envelope."""
    if len(prev) != 32:
        raise VerificationError("prev must be 32 bytes")
    return (b"\x01" + struct.pack(">Q", seq) + bytes(prev) + struct.pack(">q", time_us)
            + struct.pack(">I", len(envelope)) + bytes(envelope))


def leaf_hash(leaf):
    """RFC 6962 leaf hash SHA-256(0x00 || leaf bytes)."""
    return sha256(b"\x00" + bytes(leaf))


def _node(left, right):
    return sha256(b"\x01" + left + right)


def verify_inclusion(index, size, leaf_h, proof, root):
    """RFC 9162 §2.1.3.2.  True when leaf_h at index hashes up to root in a
    tree of size leaves."""
    if not 0 <= index < size or len(proof) > PROOF_HASHES_MAX:
        return False
    fn, sn, r = index, size - 1, leaf_h
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 §2.1.4.2, for 1 <= first <= second."""
    if not 1 <= first <= second or len(proof) > PROOF_HASHES_MAX:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def parse_hash_lines(lines, what="proof"):
    out = []
    for ln in lines:
        try:
            h = b64decode_strict(ln, what)
        except ValueError as exc:
            raise VerificationError(str(exc)) from None
        if len(h) != 32:
            raise VerificationError("%s: a hash is not 32 bytes" % what)
        out.append(h)
    if len(out) > PROOF_HASHES_MAX:
        raise VerificationError("%s: more than %d hashes" % (what, PROOF_HASHES_MAX))
    return out


class Checkpoint:
    """A verified signed checkpoint: ``origin``, ``size``, ``root`` (32
    bytes) and ``note`` (the signed note's bytes, as served)."""

    def __init__(self, origin, size, root, note):
        self.origin, self.size, self.root, self.note = origin, size, root, note

    def __repr__(self):
        return "<Checkpoint %s size %d root %s>" % (
            self.origin, self.size, base64.b64encode(self.root).decode())


def verify_checkpoint(note, log_key):
    """Checks a signed checkpoint note (bytes) with the pinned log key
    (keys.PublicKey named by the origin): the note's form, a valid Ed25519
    signature line of that key (every line with its name and key hash must
    verify), and that the checkpoint's origin is the key's name.  Returns a
    Checkpoint; raises VerificationError."""
    note = bytes(note)
    if len(note) > NOTE_MAX:
        raise VerificationError("checkpoint: larger than %d bytes" % NOTE_MAX)
    try:
        s = note.decode("utf-8")
    except UnicodeDecodeError:
        raise VerificationError("checkpoint: not UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in s):
        raise VerificationError("checkpoint: control characters")
    cut = s.rfind("\n\n")
    if cut < 0 or not s.endswith("\n"):
        raise VerificationError("checkpoint: not a signed note")
    text = s[:cut + 1]
    sig_lines = s[cut + 2:-1].split("\n")
    good = 0
    for ln in sig_lines:
        if not ln.startswith(SIG_PREFIX):
            raise VerificationError("checkpoint: not a signature line")
        name, sp, b64 = ln[len(SIG_PREFIX):].rpartition(" ")
        if not sp or not name or "+" in name or " " in name:
            raise VerificationError("checkpoint: bad signature line")
        try:
            raw = b64decode_strict(b64, "checkpoint signature")
        except ValueError as exc:
            raise VerificationError(str(exc)) from None
        if len(raw) < 5:
            raise VerificationError("checkpoint: signature too short")
        if name != log_key.name or struct.unpack(">I", raw[:4])[0] != log_key.hash:
            continue                      # another key's (a witness): ignored
        if not log_key.verify(text.encode("utf-8"), raw[4:]):
            raise VerificationError("checkpoint: the log key's signature does not verify")
        good += 1
    if not good:
        raise VerificationError("checkpoint: not signed by the log key %s" % log_key.keyid)
    body = text.split("\n")
    # origin, size, root, [extension lines], "" (after the final newline)
    if len(body) < 4 or body[-1] != "" or any(x == "" for x in body[:-1]):
        raise VerificationError("checkpoint: malformed body")
    origin, size_s, root_s = body[0], body[1], body[2]
    if not re.match(r"(0|[1-9][0-9]{0,18})\Z", size_s) or int(size_s) >= 1 << 63:
        raise VerificationError("checkpoint: bad tree size")
    try:
        root = b64decode_strict(root_s, "checkpoint root")
    except ValueError as exc:
        raise VerificationError(str(exc)) from None
    if len(root) != 32:
        raise VerificationError("checkpoint: root is not 32 bytes")
    if origin != log_key.name:
        raise VerificationError("checkpoint: origin %r is not the log key's (%r)"
                                % (origin[:128], log_key.name))
    return Checkpoint(origin, int(size_s), root, note)


class TlogProof:
    """A parsed c2sp.org/tlog-proof@v1: ``index``, ``extra`` (bytes or
    None), ``hashes`` (list of 32-byte hashes) and ``note`` (bytes, not yet
    verified)."""

    def __init__(self, index, extra, hashes, note):
        self.index, self.extra, self.hashes, self.note = index, extra, hashes, note


def parse_tlog_proof(data):
    """Parses c2sp.org/tlog-proof@v1 bytes (with or without the extra line)."""
    data = bytes(data)
    if len(data) > NOTE_MAX + 8192:
        raise VerificationError("tlog-proof: too large")
    head, sep, note = data.partition(b"\n\n")
    if not sep:
        raise VerificationError("tlog-proof: no blank line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise VerificationError("tlog-proof: not ASCII") from None
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise VerificationError("tlog-proof: not c2sp.org/tlog-proof@v1")
    i = 1
    extra = None
    if i < len(lines) and lines[i].startswith("extra "):
        try:
            extra = b64decode_strict(lines[i][6:], "tlog-proof extra")
        except ValueError as exc:
            raise VerificationError(str(exc)) from None
        i += 1
    if i >= len(lines) or not re.match(r"index (0|[1-9][0-9]{0,18})\Z", lines[i]):
        raise VerificationError("tlog-proof: bad index line")
    index = int(lines[i][6:])
    hashes = parse_hash_lines(lines[i + 1:], "tlog-proof")
    return TlogProof(index, extra, hashes, note)


def verify_entry(envelope, proof, log_key, prev=None, time_us=None):
    """Verifies that envelope is entry proof.index of the log: rebuilds its
    leaf bytes from the envelope, prev and time (from the proof's ``extra``
    when not given), checks the inclusion proof against the proof's
    checkpoint and that checkpoint's signature.  Returns
    (Checkpoint, leaf hash, prev, time_us)."""
    if prev is None or time_us is None:
        if proof.extra is None or len(proof.extra) != 40:
            raise VerificationError("tlog-proof: extra must be prev(32) || time(8)")
        prev = proof.extra[:32]
        time_us = struct.unpack(">q", proof.extra[32:])[0]
    ckpt = verify_checkpoint(proof.note, log_key)
    lh = leaf_hash(leaf_bytes(proof.index, prev, time_us, envelope))
    if not verify_inclusion(proof.index, ckpt.size, lh, proof.hashes, ckpt.root):
        raise VerificationError("entry %d: the inclusion proof does not lead to the "
                                "checkpoint's root (size %d)" % (proof.index, ckpt.size))
    return ckpt, lh, bytes(prev), time_us


BUNDLE_MAX = 256 * (2 + 65535)


def tile_path(n):
    """tlog-tiles index N as zero-padded 3-digit groups, all but the last
    prefixed with x (1234067 -> x001/x234/067)."""
    groups = []
    while True:
        groups.insert(0, n % 1000)
        n //= 1000
        if n == 0:
            break
    return "/".join(("x%03d" if i < len(groups) - 1 else "%03d") % g
                    for i, g in enumerate(groups))


def entry_bundle_path(seq, size):
    """The path of the entry bundle that holds entry seq in a tree of size
    leaves (a partial bundle .p/W when its tile is not full)."""
    n = seq // 256
    w = min(256, size - n * 256)
    return "/tile/entries/" + tile_path(n) + ("" if w == 256 else ".p/%d" % w)


def bundle_entry(bundle, i):
    """The i-th leaf bytes of an entry bundle (big-endian uint16 length,
    then the bytes, for each entry)."""
    off = 0
    for j in range(i + 1):
        if off + 2 > len(bundle):
            raise VerificationError("entry bundle: too short")
        n = struct.unpack(">H", bundle[off:off + 2])[0]
        if off + 2 + n > len(bundle):
            raise VerificationError("entry bundle: truncated entry")
        if j == i:
            return bytes(bundle[off + 2:off + 2 + n])
        off += 2 + n
    raise VerificationError("entry bundle: no such entry")


def parse_leaf(leaf):
    """(seq, prev, time_us, envelope) of leaf bytes (FORMAT.md §4)."""
    if len(leaf) < 53 or leaf[0] != 1:
        raise VerificationError("leaf: not format 1")
    seq, = struct.unpack(">Q", leaf[1:9])
    t, = struct.unpack(">q", leaf[41:49])
    n, = struct.unpack(">I", leaf[49:53])
    if n != len(leaf) - 53:
        raise VerificationError("leaf: length field does not match")
    return seq, leaf[9:41], t, leaf[53:]

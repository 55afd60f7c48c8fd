"""In-toto statements and DSSE envelopes, byte for byte as mlledger writes
them (ledger/FORMAT.md §2-3, src/request.c, src/cli_record.c).

mlledger serialises with jansson (compact, members in insertion order,
reals with 15 significant digits); ``dumps`` below reproduces that form, and
``build_statement`` inserts the predicate members in the order
``mlledger sign``/``record`` does, so that the same inputs give the same
statement bytes and (Ed25519 being deterministic) the same envelope.
"""

import base64
import datetime
import hashlib
import json
import math
import os
import re
import secrets
import stat

from .errors import InputError

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_PREFIX = "https://mlledger.dev/"
MAX_STATEMENT = 512 * 1024
MAX_FIELD = 65536
MAX_FILES = 4096

# kinds a client records (record/sign); the others are appended by admin
# commands of the CLI
KINDS = ("dataset", "model", "evaluation", "approval", "deployment", "monitoring",
         "waiver", "retirement", "incident")

# The order in which `mlledger sign`/`record` put predicate members: the
# command line's string options (cli_record.c string_opts), then the
# dataset references, the idempotency key, --set, --metric, the artifact,
# the origin, and the time last (request.c).
PREDICATE_ORDER = ("uri", "environment", "decision", "comment", "rule", "expires",
                   "reason", "ticket", "severity", "description", "parent", "dataset",
                   "datasets", "idempotencyKey", "properties", "metrics", "artifact",
                   "origin", "time")

_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}@[A-Za-z0-9._+-]{1,64}\Z")
_SCALAR_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")
_IDEM = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


# ---- JSON as jansson writes it --------------------------------------------

def _real(x):
    """A double as jansson's JSON_REAL_PRECISION(15) writes it: %.15g, a
    '.0' when it would read as an integer, the exponent without '+' or
    leading zeros."""
    if not math.isfinite(x):
        raise InputError("numbers must be finite")
    s = "%.15g" % x
    if "." not in s and "e" not in s:
        s += ".0"
    if "e" in s:
        mant, exp = s.split("e")
        sign = "-" if exp.startswith("-") else ""
        s = mant + "e" + sign + exp.lstrip("+-").lstrip("0")
    return s


def _string(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20:
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                        "\t": "\\t"}.get(ch, "\\u%04X" % o))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def dumps(v):
    """Compact JSON in jansson's form (JSON_COMPACT | JSON_REAL_PRECISION(15)),
    members in the dict's order.  Returns str."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        if not -(1 << 63) <= v < (1 << 63):
            raise InputError("integers must fit 64 bits")
        return str(v)
    if isinstance(v, float):
        return _real(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, dict):
        return "{" + ",".join(_string(k) + ":" + dumps(x) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    raise InputError("cannot encode %s in a statement" % type(v).__name__)


# ---- artifacts (FORMAT.md §6) ---------------------------------------------

def _sha256_file(path):
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
            size += len(b)
    return h.hexdigest(), size


def artifact_digest(path):
    """Hashes a file or a folder as `mlledger digest` does.  Returns
    (hexdigest, artifact member): {"type":"file","size":N} or, for a folder,
    {"type":"directory","size":N,"files":[{"path","sha256","size"},...]}."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError("%s: %s" % (path, exc.strerror)) from None
    if stat.S_ISREG(st.st_mode):
        hexd, size = _sha256_file(path)
        return hexd, {"type": "file", "size": size}
    if not stat.S_ISDIR(st.st_mode):
        raise InputError("%s: not a file or folder, refused" % path)
    files = []
    todo = [""]
    while todo:
        rel = todo.pop()
        full = os.path.join(path, rel) if rel else path
        with os.scandir(full) as it:
            for de in it:
                r = rel + "/" + de.name if rel else de.name
                p = os.path.join(path, r)
                if any(c in de.name for c in "\n\r\\"):
                    raise InputError("%s: name contains a newline, carriage return or "
                                     "backslash, refused" % p)
                lst = os.lstat(p)
                if stat.S_ISLNK(lst.st_mode):
                    try:
                        tst = os.stat(p)
                    except OSError:
                        raise InputError("%s: dangling symlink, refused" % p) from None
                    if not stat.S_ISREG(tst.st_mode):
                        raise InputError("%s: symlink to a non-regular file, refused" % p)
                elif stat.S_ISDIR(lst.st_mode):
                    todo.append(r)
                    continue
                elif not stat.S_ISREG(lst.st_mode):
                    raise InputError("%s: not a regular file, refused" % p)
                files.append(r)
    if not files:
        raise InputError("%s: folder has no files" % path)
    if len(files) > MAX_FILES:
        raise InputError("%s: more than %d files" % (path, MAX_FILES))
    files.sort(key=lambda s: s.encode())
    manifest = hashlib.sha256()
    listed = []
    total = 0
    for r in files:
        hexd, size = _sha256_file(os.path.join(path, r))
        manifest.update(("%s  %s\n" % (hexd, r)).encode())
        listed.append({"path": r, "sha256": hexd, "size": size})
        total += size
    return manifest.hexdigest(), {"type": "directory", "size": total, "files": listed}


# ---- statements ----------------------------------------------------------

def parse_digest(d):
    """'sha256:HEX' (or 64 hex digits) -> 64 lowercase hex digits."""
    if isinstance(d, (bytes, bytearray)) and len(d) == 32:
        return bytes(d).hex()
    if not isinstance(d, str):
        raise InputError("digest: expected sha256:<64 lowercase hex>")
    hexd = d[7:] if d.startswith("sha256:") else d
    if not _HEX64.match(hexd):
        raise InputError("digest: expected sha256:<64 lowercase hex>")
    return hexd


def check_ref(ref, what="NAME@VERSION"):
    if not isinstance(ref, str) or not _REF.match(ref):
        raise InputError("%s: %r is not NAME@VERSION (NAME: [A-Za-z0-9._/-], VERSION: "
                         "[A-Za-z0-9._+-])" % (what, ref))
    return ref


def scalars(obj, what):
    """Checks a properties/metrics mapping (names [A-Za-z0-9_.-]{1,64};
    values str, int, float or bool) and returns a dict in its order."""
    if obj is None:
        return None
    items = obj.items() if isinstance(obj, dict) else list(obj)
    out = {}
    for k, v in items:
        if not isinstance(k, str) or not _SCALAR_NAME.match(k):
            raise InputError("%s: name %r must be [A-Za-z0-9_.-]{1,64}" % (what, k))
        if k in out:
            raise InputError("%s %s: given twice" % (what, k))
        if not isinstance(v, (str, int, float, bool)):
            raise InputError("%s %s: value must be a string, number or boolean" % (what, k))
        if isinstance(v, float) and not math.isfinite(v):
            raise InputError("%s %s: value must be finite" % (what, k))
        out[k] = v
    if len(out) > 256:
        raise InputError("%s: at most 256 members" % what)
    return out or None


def format_time(t=None):
    """'YYYY-MM-DDTHH:MM:SSZ' of t (datetime, seconds since the epoch, or
    None for now), in UTC."""
    if t is None:
        t = datetime.datetime.now(datetime.timezone.utc)
    elif isinstance(t, (int, float)):
        t = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    elif isinstance(t, str):
        if not re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z", t):
            raise InputError("time: expected YYYY-MM-DDTHH:MM:SSZ")
        return t
    elif t.tzinfo is None:
        raise InputError("time: a datetime must carry a time zone")
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_idempotency_key():
    """32 random hex digits, as `mlledger record` picks one."""
    return secrets.token_hex(16)


def ref_member(ref, digest):
    return {"name": check_ref(ref), "digest": {"sha256": parse_digest(digest)}}


def build_statement(kind, subject, digest, predicate):
    """The statement bytes: kind one of KINDS, subject NAME@VERSION, digest
    'sha256:HEX', predicate a dict whose members are put in the order
    mlledger writes them (PREDICATE_ORDER).  Returns bytes (UTF-8)."""
    if kind not in KINDS:
        raise InputError("unknown kind %r (%s)" % (kind, ", ".join(KINDS)))
    check_ref(subject)
    unknown = set(predicate) - set(PREDICATE_ORDER)
    if unknown:
        raise InputError("%s: unknown predicate members %s" % (kind, sorted(unknown)))
    pred = {k: predicate[k] for k in PREDICATE_ORDER if predicate.get(k) is not None}
    for k, v in pred.items():
        if isinstance(v, str) and (len(v.encode()) > MAX_FIELD or not v):
            raise InputError("%s: must be 1-%d bytes" % (k, MAX_FIELD))
    st = {"_type": STATEMENT_TYPE,
          "subject": [{"name": subject, "digest": {"sha256": parse_digest(digest)}}],
          "predicateType": PREDICATE_PREFIX + kind + "/v1",
          "predicate": pred}
    data = dumps(st).encode("utf-8")
    if len(data) > MAX_STATEMENT:
        raise InputError("statement: larger than %d bytes" % MAX_STATEMENT)
    return data


def pae(payload_type, body):
    """DSSE v1 pre-authentication encoding."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def sign_envelope(key, payload):
    """The canonical DSSE envelope (bytes, no newline) of payload signed by
    key (a keys.SecretKey), as `mlledger sign --out` writes it."""
    sig = key.sign(pae(PAYLOAD_TYPE, payload))
    return ('{"payload":"%s","payloadType":"%s","signatures":[{"keyid":"%s","sig":"%s"}]}'
            % (base64.b64encode(payload).decode(), PAYLOAD_TYPE, key.public.keyid,
               base64.b64encode(sig).decode())).encode()


def _typed_number(kind):
    return lambda s: (kind, int(s) if kind == "int" else float(s))


def parse_envelope(data, typed=False):
    """(payload bytes, statement dict, author keyid) of an envelope; raises
    InputError when it is not one.  ``typed``: numbers come as ("int", n) or
    ("real", x), so that comparing two statements tells 1 from 1.0 and from
    true, as JSON equality (jansson's json_equal) does."""
    try:
        env = json.loads(data)
        payload = base64.b64decode(env["payload"], validate=True)
        st = (json.loads(payload, parse_int=_typed_number("int"),
                         parse_float=_typed_number("real")) if typed else json.loads(payload))
        keyid = env["signatures"][0]["keyid"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise InputError("not a DSSE envelope holding an in-toto statement") from None
    return payload, st, keyid

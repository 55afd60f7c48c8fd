#!/usr/bin/python3
"""A hostile mlledger server for tests/cli/remote.sh: a proxy on 127.0.0.1
in front of a real `mlledger serve` that passes every request through and
lies in one way, chosen by MODE:

  tile-short      level-0 hash tiles lose their last hash
  bundle-extra    entry bundles carry one more entry than their width
  bundle-swap     the last two entries of a bundle (and their tile hashes)
                  trade places: every entry still hashes to its tile hash
  time-back       the last entry of each bundle is dated before the one
                  before it, and its tile hash recomputed to match
  extra-short     POST /add answers: the extra line loses a byte
  index-shift     POST /add answers: the index line says the next entry
  other-entry     POST /add: the envelope in the file $HOSTILE_BODY (one the
                  ledger holds) is posted instead of the client's, and the
                  answer (a proof of that entry) marked Mlledger-Existing: 1
  no-consistency  GET /consistency answers 404
  huge-checkpoint GET /checkpoint answers 1 MiB
  ckpt-latest     GET /checkpoint/N answers the latest note (another size)
  ckpt-bad-sig    GET /checkpoint/N answers the note with its signature
                  altered (not signed by the log key)
  ckpt-missing    GET /checkpoint/N answers 404
  ckpt-fork       GET /checkpoint/N answers $HOSTILE_UPSTREAM2's note of
                  size N: a server of the same log key with another history
                  (another root at N)

  hostile_proxy.py UPSTREAM MODE READYFILE
writes its URL to READYFILE (temporary name, then renamed) and serves until
killed.  Standard library only.
"""
import base64
import hashlib
import os
import re
import struct
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM, MODE, READY = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]


def bundle_entries(data):
    out, off = [], 0
    while off < len(data):
        n = struct.unpack(">H", data[off:off + 2])[0]
        out.append(data[off + 2:off + 2 + n])
        off += 2 + n
    return out


def bundle_bytes(entries):
    return b"".join(struct.pack(">H", len(e)) + e for e in entries)


def fetch(method, path, body=None, headers=None):
    req = urllib.request.Request(UPSTREAM + path, data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def backdate(bundle):
    """The bundle with its last entry dated 1 µs before the one before it."""
    es = bundle_entries(bundle)
    if len(es) >= 2:
        t = struct.unpack(">q", es[-2][41:49])[0] - 1
        es[-1] = es[-1][:41] + struct.pack(">q", t) + es[-1][49:]
    return es


def lie_note(path, status, body):
    """The ckpt-* modes' answer to GET /checkpoint/N."""
    if MODE == "ckpt-latest":
        st, _, latest = fetch("GET", "/checkpoint")
        return st, latest
    if MODE == "ckpt-bad-sig":
        lines = body.decode().split("\n")
        sig = lines[-2].split(" ")
        raw = bytearray(base64.b64decode(sig[2]))
        raw[-1] ^= 1
        sig[2] = base64.b64encode(bytes(raw)).decode()
        lines[-2] = " ".join(sig)
        return status, "\n".join(lines).encode()
    if MODE == "ckpt-missing":
        return 404, b"not found\n"
    if MODE == "ckpt-fork":
        other = os.environ["HOSTILE_UPSTREAM2"].rstrip("/")
        with urllib.request.urlopen(other + path, timeout=20) as r:
            return r.status, r.read()
    return status, body


def lie(method, path, status, body):
    if status != 200:
        return status, body
    if MODE == "tile-short" and re.match(r"^/tile/0/", path):
        return status, body[:-32]
    if MODE == "bundle-extra" and path.startswith("/tile/entries/"):
        es = bundle_entries(body)
        return status, bundle_bytes(es + [es[-1]])
    if MODE == "bundle-swap" and path.startswith("/tile/"):
        if path.startswith("/tile/entries/"):
            es = bundle_entries(body)
            if len(es) >= 2:
                es[-1], es[-2] = es[-2], es[-1]
            return status, bundle_bytes(es)
        if path.startswith("/tile/0/") and len(body) >= 64:
            return status, body[:-64] + body[-32:] + body[-64:-32]
    if MODE == "time-back" and path.startswith("/tile/entries/"):
        return status, bundle_bytes(backdate(body))
    if MODE == "time-back" and path.startswith("/tile/0/"):
        st, _, bundle = fetch("GET", "/tile/entries/" + path[len("/tile/0/"):])
        es = backdate(bundle)
        if st == 200 and len(es) * 32 == len(body):
            return status, body[:-32] + hashlib.sha256(b"\0" + es[-1]).digest()
    if MODE in ("extra-short", "index-shift") and method == "POST" and path == "/add":
        lines = body.decode().split("\n")
        for i, line in enumerate(lines):
            if MODE == "extra-short" and line.startswith("extra "):
                raw = base64.b64decode(line[6:])
                lines[i] = "extra " + base64.b64encode(raw[:-1]).decode()
            if MODE == "index-shift" and line.startswith("index "):
                lines[i] = "index %d" % (int(line[6:]) + 1)
        return status, "\n".join(lines).encode()
    if MODE == "no-consistency" and path.startswith("/consistency"):
        return 404, b"not found\n"
    if MODE == "huge-checkpoint" and path == "/checkpoint":
        return status, body + b"x" * (1 << 20)
    if MODE.startswith("ckpt-") and path.startswith("/checkpoint/"):
        return lie_note(path, status, body)
    return status, body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, method, body=None):
        hdrs = {"Content-Type": self.headers.get("Content-Type", "application/json")}
        status, h, data = fetch(method, self.path, body, hdrs if body is not None else None)
        status, data = lie(method, self.path, status, data)
        self.send_response(status)
        if MODE == "other-entry":
            h["Mlledger-Existing"] = "1"
        for k in ("Content-Type", "Retry-After", "Mlledger-Existing"):
            if k in h:
                self.send_header(k, h[k])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer("GET")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else b""
        if MODE == "other-entry":
            with open(os.environ["HOSTILE_BODY"], "rb") as f:
                body = f.read()
        self.answer("POST", body)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(READY + ".tmp", "w") as f:
    f.write("http://127.0.0.1:%d\n" % server.server_address[1])
os.rename(READY + ".tmp", READY)
server.serve_forever()

"""tests/cli/serve_check.py — independent checks of what `mlledger serve`
answers, for tests/cli/serve.sh (standard library only).

  leaf PROOF ENVELOPE         prints the leaf bytes rebuilt from the proof's
                              extra and index lines and the envelope
                              (FORMAT.md §4), to standard output
  tiles URL LOGJSON           fetches /checkpoint, every hash tile and entry
                              bundle of its tree, and checks them against the
                              leaf hashes of `mlledger log --format json`, a
                              naive RFC 6962 root and each other
  slow URL SECONDS            sends POST /add headers, then one body byte a
                              second; prints how long until the server cut
                              the connection (or "not cut")
  hold URL N SECONDS          opens N idle connections and keeps them open
Exit 0 on success; a failed check prints one line and exits 1.
"""
import base64
import hashlib
import json
import socket
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def fail(msg):
    print("serve_check: " + msg)
    sys.exit(1)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def mth(hashes):
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(mth(hashes[:k]), mth(hashes[k:]))


def tile_index(n):
    s = "%03d" % (n % 1000)
    n //= 1000
    while n:
        s = "x%03d/" % (n % 1000) + s
        n //= 1000
    return s


def tile_path(level, n, width):
    p = ("entries" if level == "entries" else str(level)) + "/" + tile_index(n)
    return "tile/" + p + ("" if width == 256 else ".p/%d" % width)


def cmd_leaf(proof_file, env_file):
    lines = open(proof_file, "rb").read().split(b"\n")
    if lines[0] != b"c2sp.org/tlog-proof@v1":
        fail("not a tlog-proof")
    extra = base64.b64decode(lines[1].split(b" ", 1)[1], validate=True)
    index = int(lines[2].split(b" ", 1)[1])
    if len(extra) != 40:
        fail("extra is %d bytes, not 40" % len(extra))
    env = open(env_file, "rb").read().rstrip(b"\r\n")
    sys.stdout.buffer.write(b"\x01" + struct.pack(">Q", index) + extra[:32] + extra[32:] +
                            struct.pack(">I", len(env)) + env)


def cmd_tiles(url, logjson):
    leaves = [bytes.fromhex(e["leafHash"].split(":")[1]) for e in json.load(open(logjson))]
    st, body, hdr = get(url + "/checkpoint")
    if st != 200:
        fail("/checkpoint: %d" % st)
    if "no-store" not in hdr.get("Cache-Control", ""):
        fail("/checkpoint may be cached: %r" % hdr.get("Cache-Control"))
    text = body.decode().split("\n")
    size, root = int(text[1]), base64.b64decode(text[2])
    if size > len(leaves):
        fail("checkpoint size %d > %d entries" % (size, len(leaves)))
    if mth(leaves[:size]) != root:
        fail("checkpoint root is not the root of the logged leaves")
    got = []
    checked = 0
    for n in range((size + 255) // 256):
        w = min(256, size - n * 256)
        st, tile, hdr = get(url + "/" + tile_path(0, n, w))
        if st != 200 or len(tile) != 32 * w:
            fail("%s: %d, %d bytes" % (tile_path(0, n, w), st, len(tile)))
        if "immutable" not in hdr.get("Cache-Control", ""):
            fail("tiles must be immutable: %r" % hdr.get("Cache-Control"))
        hashes = [tile[i:i + 32] for i in range(0, len(tile), 32)]
        st, bundle, _ = get(url + "/" + tile_path("entries", n, w))
        if st != 200:
            fail("%s: %d" % (tile_path("entries", n, w), st))
        off, i = 0, 0
        while off < len(bundle):
            (ln,) = struct.unpack(">H", bundle[off:off + 2])
            entry = bundle[off + 2:off + 2 + ln]
            if len(entry) != ln:
                fail("bundle %d: truncated" % n)
            if hashlib.sha256(b"\x00" + entry).digest() != hashes[i]:
                fail("bundle %d entry %d: hash differs from tile" % (n, i))
            if struct.unpack(">Q", entry[1:9])[0] != n * 256 + i:
                fail("bundle %d entry %d: seq differs" % (n, i))
            off += 2 + ln
            i += 1
        if i != w:
            fail("bundle %d: %d entries, want %d" % (n, i, w))
        got += hashes
        checked += 2
    if got != leaves[:size]:
        fail("level-0 tiles differ from the ledger's leaf hashes")
    # level 1: the roots of each 256 leaves
    n1 = size >> 8
    if n1:
        path = tile_path(1, 0, min(n1, 256))
        st, tile, _ = get(url + "/" + path)
        want = b"".join(mth(leaves[i * 256:(i + 1) * 256]) for i in range(min(n1, 256)))
        if st != 200 or tile != want:
            fail("%s: %d or wrong hashes" % (path, st))
        checked += 1
    # outside the tree
    bad = [tile_path(0, (size + 255) // 256, 1), tile_path("entries", (size + 255) // 256, 1),
           tile_path(2, 0, 1) if size < 65536 else None]
    if size % 256:
        bad += [tile_path(0, size // 256, 256), tile_path(0, size // 256, size % 256 + 1)
                if size % 256 < 255 else None,
                tile_path("entries", size // 256, 256)]
    if n1 < 255:
        bad.append(tile_path(1, 0, n1 + 1))
    for p in [b for b in bad if b]:
        st, _, _ = get(url + "/" + p)
        if st != 404:
            fail("%s (outside the tree of %d): %d, want 404" % (p, size, st))
        checked += 1
    print("ok %d tiles and bundles of size %d, %d refused" % (checked, size, len(bad)))


def cmd_slow(url, seconds):
    u = urllib.parse.urlparse(url)
    s = socket.create_connection((u.hostname, u.port), timeout=5)
    s.sendall(b"POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n")
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            s.sendall(b"{")
            s.settimeout(1)
            data = s.recv(4096)
            if data == b"" or data:
                print("cut after %.1f s" % (time.monotonic() - start))
                return
        except socket.timeout:
            continue
        except OSError:
            print("cut after %.1f s" % (time.monotonic() - start))
            return
    print("not cut")


def cmd_hold(url, n, seconds):
    u = urllib.parse.urlparse(url)
    socks = [socket.create_connection((u.hostname, u.port), timeout=5) for _ in range(n)]
    print("holding %d" % len(socks), flush=True)
    time.sleep(seconds)
    for s in socks:
        s.close()


def main():
    a = sys.argv[1:]
    if a[:1] == ["leaf"] and len(a) == 3:
        cmd_leaf(a[1], a[2])
    elif a[:1] == ["tiles"] and len(a) == 3:
        cmd_tiles(a[1], a[2])
    elif a[:1] == ["slow"] and len(a) == 3:
        cmd_slow(a[1], float(a[2]))
    elif a[:1] == ["hold"] and len(a) == 4:
        cmd_hold(a[1], int(a[2]), float(a[3]))
    else:
        fail("usage: leaf PROOF ENV | tiles URL LOGJSON | slow URL SECONDS")


main()

"""serve_hostile.py — hostile clients against a running `mlledger serve`
(tests/cli/serve_hostile.sh prepares the ledger and the envelopes).

    python3 serve_hostile.py URL FIXTURES_DIR IDLE_COUNT MAX_CONNECTIONS

FIXTURES_DIR holds: probe.txt (valid envelopes, one a line, for the
probes), admin.seed (hex Ed25519 seed of the enrolled admin key, to sign
well-formed envelopes whose payload is not a statement), revoked.env,
unknown.env, replay.env, valid.env.

Prints TAP-like lines ("ok - ..." / "not ok - ...: why" / "# ...") and
exits 1 when any case failed.  Every socket is on 127.0.0.1 and has a
deadline; every loop is bounded in count and time.
"""
import base64
import errno
import json
import os
import select
import socket
import sys
import time

from nacl.signing import SigningKey

URL = sys.argv[1].strip()
FIX = sys.argv[2]
IDLE = int(sys.argv[3])
MAXCONN = int(sys.argv[4])  # the server's --max-connections
OTHERS = 3  # connections of the suite that hold server slots meanwhile:
            # the keep-alive probe and the well-behaved client's two
assert URL.startswith("http://127.0.0.1:")
HOSTPORT = URL[len("http://"):].split("/", 1)[0]
PREFIX = "/" + URL[len("http://"):].split("/", 1)[1] if "/" in URL[len("http://"):] else ""
ADDR = ("127.0.0.1", int(HOSTPORT.split(":")[1]))
LIMIT = 65536  # docs/SERVER.md: request body of POST /add

passed = failed = 0


def ok(name):
    global passed
    passed += 1
    print("ok - " + name, flush=True)


def nok(name, why):
    global failed
    failed += 1
    print("not ok - %s: %s" % (name, why), flush=True)


def note(s):
    print("# " + s, flush=True)


def read_response(s, deadline):
    """Reads one HTTP/1.1 response (Content-Length or chunked or to EOF).
    Returns (status, headers dict (lowercase), body) or None on EOF/reset
    before a status line; raises socket.timeout past the deadline."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            d = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return None
        if not d:
            return None
        buf += d
        if len(buf) > 65536:
            raise ValueError("header too long")
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdr = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdr[k.strip().lower()] = v.strip()

    def more():
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            d = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            d = b""
        return d

    if "content-length" in hdr:
        n = int(hdr["content-length"])
        while len(rest) < n:
            d = more()
            if not d:
                break
            rest += d
        return status, hdr, rest[:n]
    if hdr.get("transfer-encoding", "").lower().endswith("chunked"):
        body = b""
        while True:
            while b"\r\n" not in rest:
                d = more()
                if not d:
                    return status, hdr, body
                rest += d
            szl, rest = rest.split(b"\r\n", 1)
            sz = int(szl.split(b";")[0], 16)
            while len(rest) < sz + 2:
                d = more()
                if not d:
                    return status, hdr, body + rest
                rest += d
            if sz == 0:
                return status, hdr, body
            body += rest[:sz]
            rest = rest[sz + 2:]
    while True:
        d = more()
        if not d:
            return status, hdr, rest
        rest += d


def request(method, path, body=b"", headers=None, timeout=10.0, sock=None):
    """One request on sock (or a new connection).  (status, hdr, body) or
    None when the connection broke before an answer."""
    s = sock or socket.create_connection(ADDR, timeout=timeout)
    try:
        h = "%s %s%s HTTP/1.1\r\nHost: %s\r\n" % (method, PREFIX, path, HOSTPORT)
        if method == "POST":
            h += "Content-Length: %d\r\n" % len(body)
        for k, v in (headers or {}).items():
            h += "%s: %s\r\n" % (k, v)
        s.settimeout(timeout)
        s.sendall(h.encode() + b"\r\n" + body)
        return read_response(s, time.time() + timeout)
    finally:
        if sock is None:
            s.close()


# ---- the well-behaved probe ------------------------------------------------------
PROBES = [l for l in open(os.path.join(FIX, "probe.txt"), "rb").read().split(b"\n") if l]
probe_next = 0


def probe(name, sock=None, timeout=5.0):
    """A well-behaved append and read: POST the next probe envelope and GET
    /checkpoint, each answered 200 within timeout.  Returns None or why not."""
    global probe_next
    env = PROBES[probe_next % len(PROBES)]
    probe_next += 1
    t = time.time()
    try:
        r = request("POST", "/add", env, timeout=timeout, sock=sock)
        if r is None or r[0] != 200 or not r[2].startswith(b"c2sp.org/tlog-proof@v1\n"):
            return "POST /add answered %s" % (r[0] if r else "nothing (connection closed)")
        r = request("GET", "/checkpoint", timeout=timeout, sock=sock)
        if r is None or r[0] != 200:
            return "GET /checkpoint answered %s" % (r[0] if r else "nothing")
    except (OSError, ValueError) as e:
        return "%s after %.1f s" % (e, time.time() - t)
    return None


def check_probe(name, sock=None):
    why = probe(name, sock)
    if why:
        nok(name, why)
    else:
        ok(name)


# ---- refusals with the right status -------------------------------------------------
def expect_status(name, body, want, contains=None, headers=None):
    try:
        r = request("POST", "/add", body, headers=headers)
    except OSError as e:
        nok(name, "no answer: %s" % e)
        return
    if r is None:
        nok(name, "the connection was closed without an answer")
        return
    st, hdr, b = r
    if st not in (want if isinstance(want, tuple) else (want,)):
        nok(name, "status %d, want %s: %r" % (st, want, b[:200]))
    elif st != 200 and (not b.endswith(b"\n") or b.count(b"\n") != 1):
        nok(name, "status %d but the body is not one line: %r" % (st, b[:200]))
    elif contains and contains.encode() not in b:
        nok(name, "status %d but the line lacks %r: %r" % (st, contains, b[:200]))
    else:
        ok("%s: %d %s" % (name, st, b.decode("utf-8", "replace").strip()[:100]))


def dsse(payload, seed_hex):
    sk = SigningKey(bytes.fromhex(seed_hex))
    ptype = b"application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
    sig = sk.sign(pae).signature
    keyid = open(os.path.join(FIX, "admin.keyid")).read().strip()
    return json.dumps({"payload": base64.b64encode(payload).decode(),
                       "payloadType": ptype.decode(),
                       "signatures": [{"keyid": keyid, "sig": base64.b64encode(sig).decode()}]},
                      separators=(",", ":")).encode()


def fixture(name):
    return open(os.path.join(FIX, name), "rb").read().rstrip(b"\r\n")


def refusals():
    seed = open(os.path.join(FIX, "admin.seed")).read().strip()
    expect_status("malformed: not JSON", b"hello, ledger", 400)
    expect_status("malformed: empty body", b"", 400)
    expect_status("malformed: {}", b"{}", 400)
    expect_status("malformed: binary", bytes(range(256)) * 4, 400)
    expect_status("malformed: another payloadType",
                  json.dumps({"payload": "e30=", "payloadType": "text/plain",
                              "signatures": [{"keyid": "admin+00000000", "sig": "AA=="}]}).encode(),
                  400)
    expect_status("malformed: a signed payload that is not an in-toto Statement",
                  dsse(b'{"hello":"world"}', seed), 400)
    expect_status("malformed: nested JSON 10,000 deep", b"[" * 10000 + b"]" * 10000, 400)
    valid = fixture("valid.env")
    env = json.loads(valid)
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    sig[10] ^= 1
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    expect_status("a signature that does not verify", json.dumps(env, separators=(",", ":")).encode(), 403)
    expect_status("an envelope by a revoked key", fixture("revoked.env"), 403, "revoked")
    expect_status("an envelope by a key not enrolled", fixture("unknown.env"), 403, "not enrolled")
    expect_status("an envelope replayed from another ledger (another origin)",
                  fixture("replay.env"), (409, 403), "other.example/ledger")
    expect_status("a body of 65,537 bytes", b"{" + b" " * (LIMIT - 1), 413)
    r = request("GET", "/add")
    if r and r[0] == 405:
        ok("GET /add: 405")
    else:
        nok("GET /add", "answer %s, want 405" % (r[0] if r else "none"))
    check_probe("a well-behaved client is served after the refusals")


# ---- oversized bodies ---------------------------------------------------------------
def oversized_stream(name, chunked):
    """Announces 1 GiB (or sends chunks without end) as fast as the server
    takes it, for at most 10 s; the server must answer 413 (or close) having
    taken far less than 1 GiB."""
    s = socket.create_connection(ADDR, timeout=5)
    if chunked:
        h = "POST %s/add HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n" % (PREFIX, HOSTPORT)
    else:
        h = "POST %s/add HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n" % (PREFIX, HOSTPORT, 1 << 30)
    s.sendall(h.encode())
    s.setblocking(False)
    block = b"x" * 65536
    if chunked:
        block = b"%x\r\n" % len(block) + block + b"\r\n"
    sent, t0, status = 0, time.time(), None
    while time.time() - t0 < 10 and sent < (256 << 20):
        r, w, _ = select.select([s], [s], [], 0.5)
        if r:
            s.setblocking(True)
            try:
                resp = read_response(s, time.time() + 5)
                status = resp[0] if resp else "closed"
            except OSError as e:
                status = "reset (%s)" % e.__class__.__name__
            break
        if w:
            try:
                sent += s.send(block)
            except BlockingIOError:
                pass
            except OSError as e:
                status = "closed while sending (%s)" % e.__class__.__name__
                break
    if status is None:
        # the server took 256 MiB or 10 s of it: what does it say now?
        s.setblocking(True)
        try:
            if chunked:
                s.sendall(b"0\r\n\r\n")
            resp = read_response(s, time.time() + 5)
            status = resp[0] if resp else "closed"
        except OSError as e:
            status = "no answer (%s)" % e.__class__.__name__
    s.close()
    dt = time.time() - t0
    note("%s: %s after %.2f s, %d bytes taken" % (name, status, dt, sent))
    if status != 413:
        nok(name, "answer %s after %.1f s and %d bytes taken, want 413 before the body is read further" % (status, dt, sent))
    elif sent > 64 << 20:
        nok(name, "413, but only after %d bytes (the server read on)" % sent)
    else:
        ok("%s: 413 after %d bytes (of %s)" % (name, sent, "an endless chunked body" if chunked else "1 GiB announced"))


def oversized_expect():
    """Content-Length: 1 GiB with Expect: 100-continue: 413 before any body."""
    s = socket.create_connection(ADDR, timeout=5)
    s.sendall(("POST %s/add HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
               % (PREFIX, HOSTPORT, 1 << 30)).encode())
    try:
        r = read_response(s, time.time() + 5)
    except OSError as e:
        r = None
        note("Expect: 100-continue: %s" % e)
    s.close()
    if r and r[0] == 413:
        ok("1 GiB announced with Expect: 100-continue: 413 before any body byte")
    else:
        nok("1 GiB with Expect: 100-continue", "answer %s, want 413" % (r[0] if r else "none"))


# ---- slow clients ------------------------------------------------------------------
def slow_clients(n=20, limit=10.0, idle=30.0, slack=5.0):
    """n connections dribbling a body (headers whole, then 1 byte a second)
    and n dribbling their headers (1 byte a second): a slow body must be cut
    (408 or closed) within the request limit + slack seconds, slow headers
    within the idle timeout + slack (docs/SERVER.md: libmicrohttpd calls
    the server only once the headers are in), while probes keep
    succeeding."""
    deadline = {"body": limit + slack, "headers": idle + slack}
    conns = []
    t0 = time.time()
    for i in range(n):
        s = socket.create_connection(ADDR, timeout=5)
        s.sendall(("POST %s/add HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n{" % (PREFIX, HOSTPORT)).encode())
        conns.append([s, "body", None])
    for i in range(n):
        s = socket.create_connection(ADDR, timeout=5)
        s.sendall(b"P")
        conns.append([s, "headers", None])
    hdr = ("OST %s/add HTTP/1.1\r\nHost: %s\r\nX-Pad: %s\r\nContent-Length: 2\r\n\r\n{}"
           % (PREFIX, HOSTPORT, "a" * 200)).encode()
    pos = 0
    probes_bad = []
    nprobe = 0
    last_probe = 0.0
    while time.time() - t0 < max(deadline.values()) and any(c[2] is None for c in conns):
        live = [c for c in conns if c[2] is None]
        r, _, _ = select.select([c[0] for c in live], [], [], 0.2)
        for c in live:
            if c[0] in r:
                try:
                    d = c[0].recv(4096)
                    c[2] = ("408" if d.startswith(b"HTTP/1.1 408") or d.startswith(b"HTTP/1.0 408")
                            else ("closed" if not d else d[:12].decode("latin-1")), time.time() - t0)
                except OSError:
                    c[2] = ("reset", time.time() - t0)
        if time.time() - t0 >= pos + 1:
            pos += 1
            for c in conns:
                if c[2] is None:
                    try:
                        c[0].send(b" " if c[1] == "body" else hdr[pos - 1:pos])
                    except OSError:
                        c[2] = ("closed while sending", time.time() - t0)
        if time.time() - last_probe >= 2:
            last_probe = time.time()
            nprobe += 1
            why = probe("slow")
            if why:
                probes_bad.append(why)
    for kind in ("body", "headers"):
        mine = [c for c in conns if c[1] == kind]
        cut = sorted(c[2][1] for c in mine if c[2])
        late = [c for c in mine if c[2] is None or c[2][1] > deadline[kind]]
        bad = [c for c in mine if c[2] is not None and c[2][0] not in ("408", "closed", "reset")]
        note("slow %s: %d of %d cut%s" % (kind, len(cut), len(mine),
             ", after %.1f-%.1f s" % (cut[0], cut[-1]) if cut else ""))
        if late:
            nok("slow %s" % kind, "%d of %d connections not cut within %.0f s" % (len(late), len(mine), deadline[kind]))
        elif bad:
            nok("slow %s" % kind, "answered %s, want 408 or closed" % bad[0][2][0])
        else:
            ok("%d slow %s cut (408 or closed) within %.0f s" % (n, kind if kind == "headers" else "bodies", deadline[kind]))
    for c in conns:
        c[0].close()
    if probes_bad:
        nok("a well-behaved client is served among slow clients", "%d of %d probes failed: %s" % (len(probes_bad), nprobe, probes_bad[0]))
    else:
        ok("a well-behaved client is served among slow clients (%d probes)" % nprobe)


# ---- idle connections ----------------------------------------------------------------
def idle_flood(count):
    keep = socket.create_connection(ADDR, timeout=5)  # a keep-alive client from before
    why = probe("before", sock=keep)
    if why:
        nok("a keep-alive client before the flood", why)
        return
    socks, pending = [], {}
    p = select.poll()
    t0 = time.time()
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        e = s.connect_ex(ADDR)
        if e not in (0, errno.EINPROGRESS):
            s.close()
            note("connection %d: %s; stopped opening" % (i, os.strerror(e)))
            break
        socks.append(s)
        if e == errno.EINPROGRESS:
            pending[s.fileno()] = s
            p.register(s, select.POLLOUT)
        while len(pending) > 512 and time.time() - t0 < 30:
            for fd, ev in p.poll(100):
                p.unregister(fd)
                pending.pop(fd, None)
    while pending and time.time() - t0 < 30:
        for fd, ev in p.poll(100):
            p.unregister(fd)
            pending.pop(fd, None)
    connected = sum(1 for s in socks if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
    note("%d idle connections opened (%d connected) in %.1f s" % (len(socks), connected, time.time() - t0))
    time.sleep(2)
    why = probe("flood", sock=keep)
    if why:
        nok("a keep-alive client is served while %d connections idle" % len(socks), why)
    else:
        ok("a keep-alive client is served while %d connections idle" % len(socks))
    # The idle timeout (30 s, docs/SERVER.md): the server must close every
    # one of them by then (+ 5 s), and a new client must get in by then at
    # the latest; the keep-alive client is probed every 5 s meanwhile.
    idle_limit = 30.0 + 5.0
    live = {s.fileno(): s for s in socks}
    pl = select.poll()
    for s in socks:
        pl.register(s, select.POLLIN)
    first_new, tries, keep_bad = None, 0, []
    last_try = last_keep = 0.0
    last_close = None
    while time.time() - t0 < idle_limit and (live or first_new is None):
        for fd, ev in pl.poll(200):
            if fd in live:
                pl.unregister(fd)
                del live[fd]
                last_close = time.time() - t0
        now = time.time()
        if first_new is None and now - last_try >= 2:
            last_try = now
            tries += 1
            if not probe("flood-new", timeout=1.5):
                first_new = time.time() - t0
        if now - last_keep >= 5:
            last_keep = now
            why = probe("flood-keep", sock=keep)
            if why:
                keep_bad.append(why)
    note("the server closed %d of %d idle connections within %.0f s%s; a new client was first "
         "served after %s (%d tries)" % (len(socks) - len(live), len(socks), time.time() - t0,
         " (the last after %.1f s)" % last_close if last_close else "",
         "%.1f s" % first_new if first_new else "never", tries))
    # beyond --max-connections, connections wait in the listen backlog and
    # are accepted (and timed) only once slots free up; those accepted while
    # the server closes the others time out 30 s later: up to 1% more may
    # still be open
    backlog = max(0, len(socks) + OTHERS - MAXCONN) + len(socks) // 100
    if len(live) > backlog:
        nok("idle connections closed by the idle timeout",
            "%d of %d still open after %.0f s (%d may wait in the backlog)"
            % (len(live), len(socks), idle_limit, backlog))
    else:
        ok("the server closed %d of %d idle connections within %.0f s (%d still open: "
           "over --max-connections %d, they waited in the backlog)"
           % (len(socks) - len(live), len(socks), idle_limit, len(live), MAXCONN))
    if first_new is None:
        nok("a new client while %d connections idle" % len(socks),
            "not served within %.0f s" % idle_limit)
    else:
        ok("a new client is served within %.0f s of %d idle connections (after %.1f s)"
           % (idle_limit, len(socks), first_new))
    if keep_bad:
        nok("the keep-alive client during the idle connections", keep_bad[0])
    else:
        ok("the keep-alive client is served throughout the idle connections")
    for s in socks:
        s.close()
    time.sleep(0.5)
    check_probe("a well-behaved client on a new connection after the idle connections closed")
    check_probe("the keep-alive client still served", sock=keep)
    keep.close()


def main():
    check_probe("a well-behaved client is served")
    refusals()
    oversized_stream("1 GiB announced by Content-Length", chunked=False)
    oversized_stream("an endless chunked body", chunked=True)
    oversized_expect()
    check_probe("a well-behaved client is served after the oversized bodies")
    slow_clients()
    idle_flood(IDLE)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()

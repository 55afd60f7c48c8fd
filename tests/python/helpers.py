"""Shared by the Python client's tests (tests/python/test_*.py).

MLLEDGER names the CLI binary (default: build/mlledger of this checkout).
Every ledger lives in a fresh temporary folder that is removed afterwards.
Servers (the real `mlledger serve`, or FakeServer below) listen on
127.0.0.1 only, on a port the kernel picks, and are always stopped."""

import atexit
import base64
import http.server
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))

M = os.path.abspath(os.environ.get("MLLEDGER") or os.path.join(ROOT, "build", "mlledger"))
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if not k.startswith("MLLEDGER") or k == "MLLEDGER"}
CLEAN_ENV["LC_ALL"] = "C"
CLEAN_ENV["TZ"] = "UTC"


def run(args, cwd, check=True, stdin=None):
    """Runs mlledger ARGS in cwd; returns stdout bytes (raises on failure
    when check)."""
    p = subprocess.run([M] + list(args), cwd=cwd, capture_output=True, env=CLEAN_ENV,
                       input=stdin, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("mlledger %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                           p.stderr.decode()[:500]))
    return p.stdout if check else p


class LedgerDir:
    """A temporary folder with keys admin and ci (engineer, validator,
    approver), a ledger l.db and its log key LOG.pub."""

    def __init__(self, roles="engineer,validator,approver"):
        self.dir = tempfile.mkdtemp(prefix="mlledger-python.")
        self.ledger = os.path.join(self.dir, "l.db")
        run(["key", "new", "admin"], self.dir)
        run(["key", "new", "ci"], self.dir)
        run(["--ledger", self.ledger, "init", "--key", "admin.key"], self.dir)
        run(["--ledger", self.ledger, "key", "enroll", "ci.pub", "--holder-key", "ci.key",
             "--role", roles, "--key", "admin.key"], self.dir)
        self.log_pub = self.path("LOG.pub")
        with open(self.log_pub, "wb") as f:
            f.write(run(["--ledger", self.ledger, "log-key"], self.dir))
        self.origin = slurp(self.log_pub, False).split("+")[0]

    def path(self, name):
        return os.path.join(self.dir, name)

    def cli(self, *args, check=True):
        return run(["--ledger", self.ledger] + list(args), self.dir, check=check)

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def submit(self, envelope):
        """Appends an envelope with `mlledger submit`; returns its seq."""
        p = self.write("sub.env", envelope)
        out = self.cli("submit", p).decode()
        return int(out.split()[0])

    def extra(self, seq):
        """prev || time of entry seq, read from `show SEQ --format raw`."""
        raw = self.cli("show", str(seq), "--format", "raw")
        return raw[9:41] + raw[41:49]

    def server_proof(self, seq, size=None):
        """What POST /add answers for entry seq: `prove SEQ` with the extra
        line the server adds (docs/SERVER.md)."""
        args = ["prove", str(seq)] + (["--size", str(size)] if size else [])
        p = self.cli(*args)
        first, rest = p.split(b"\n", 1)
        return (first + b"\nextra " + base64.b64encode(self.extra(seq)) + b"\n" + rest)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def envelope_time(env):
    """predicate.time of an envelope's statement."""
    st = json.loads(base64.b64decode(json.loads(env)["payload"]))
    return st["predicate"]["time"]


class FakeServer:
    """A stand-in for `mlledger serve` built on the CLI (submit, prove,
    checkpoint, prove --consistency), so that the client's checks can be
    tested with answers the test tampers with: ``mutate(path, body) ->
    body`` rewrites an answer; ``fail_next`` answers that many requests
    with 503 (Retry-After: 0) first; ``drop_next`` closes that many
    connections without an answer; ``answer_seq`` makes POST /add claim
    (without appending) that the envelope repeats that entry.  Also
    serves /tile/entries bundles (from `show --format raw`)."""

    def __init__(self, ld):
        self.ld = ld
        self.mutate = None
        self.fail_next = 0
        self.drop_next = 0
        self.requests = []
        self.connections = 0
        self.answer_seq = None         # answer POST /add: "repeats entry N"
        self.lock = threading.Lock()
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                with fake.lock:
                    fake.connections += 1

            def answer(self, status, body, ctype="text/plain; charset=utf-8", hdrs=()):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in hdrs:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def handle_one(self, method):
                n = int(self.headers.get("Content-Length", "0"))
                self.body = self.rfile.read(min(n, 1 << 20))
                with fake.lock:
                    fake.requests.append((method, self.path))
                    if fake.drop_next:
                        fake.drop_next -= 1
                        self.close_connection = True
                        return
                    if fake.fail_next:
                        fake.fail_next -= 1
                        return self.answer(503, b"overloaded\n", hdrs=[("Retry-After", "0")])
                    status, body, hdrs = fake.route(method, self.path, self)
                    if fake.mutate and status == 200:
                        body = fake.mutate(self.path, body)
                    return self.answer(status, body, hdrs=hdrs)

            def do_GET(self):
                self.handle_one("GET")

            def do_POST(self):
                self.handle_one("POST")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def route(self, method, path, h):
        ld = self.ld
        if method == "POST" and path == "/add" and self.answer_seq is not None:
            return 200, ld.server_proof(self.answer_seq), [("Mlledger-Existing", "1")]
        if method == "POST" and path == "/add":
            p = ld.cli("submit", ld.write("fake.env", h.body), check=False)
            if p.returncode:
                msg = p.stderr.decode().split("submit: ", 1)[-1]
                return {2: 409, 6: 403, 7: 409}.get(p.returncode, 500), msg.encode(), []
            seq = int(p.stdout.split()[0])
            hdrs = [("Mlledger-Existing", "1")] if b"already" in p.stderr else []
            return 200, ld.server_proof(seq), hdrs
        if method == "GET" and path.startswith("/tile/entries/"):
            rest = path[len("/tile/entries/"):]
            rest, _, w = rest.partition(".p/")
            n = int("".join(g.lstrip("x") for g in rest.split("/")))
            size = int(ld.cli("checkpoint").split(b"\n")[1])
            width = int(w) if w else 256
            if n * 256 + width > size:
                return 404, b"not found\n", []
            out = b""
            for seq in range(n * 256, n * 256 + width):
                leaf = ld.cli("show", str(seq), "--format", "raw")
                out += struct.pack(">H", len(leaf)) + leaf
            return 200, out, []
        if method == "GET" and path == "/checkpoint":
            return 200, ld.cli("checkpoint"), []
        if method == "GET" and path.startswith("/consistency?"):
            q = dict(kv.split("=") for kv in path.split("?", 1)[1].split("&"))
            return 200, ld.cli("prove", "--consistency", q["old"], "--size", q["new"]), []
        return 404, b"not found\n", []

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_available():
    """True when this mlledger has the serve command."""
    p = subprocess.run([M, "serve", "--help"], capture_output=True, env=CLEAN_ENV, timeout=30)
    return p.returncode == 0 and b"--listen" in (p.stdout + p.stderr)


_STORE_DBS = {}


def store_url(ledger):
    """With ML_TEST_STORE=postgresql (tests/ha/suites.sh: PG_DIR and
    PG_PRIMARY_PORT of tests/ha/pglib.sh's cluster), the URL of a database
    of ledger's own, made and filled by `mlledger migrate` at the first
    call for that file; None without the store."""
    if os.environ.get("ML_TEST_STORE") != "postgresql":
        return None
    key = os.path.abspath(ledger)
    if key not in _STORE_DBS:
        pg_dir, port = os.environ["PG_DIR"], os.environ["PG_PRIMARY_PORT"]
        db = "py%d_%d" % (os.getpid(), len(_STORE_DBS) + 1)
        psql = [os.path.join(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"), "psql"),
                "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", os.path.join(pg_dir, "sock"),
                "-p", port, "-U", "postgres", "-d", "postgres",
                "-c", "CREATE DATABASE %s OWNER mlledger" % db]
        if os.getuid() == 0:                 # pglib.sh: the cluster is postgres's
            psql = ["runuser", "-u", "postgres", "--"] + psql
        subprocess.run(psql, cwd="/", check=True, capture_output=True, timeout=60)
        url = "postgresql://mlledger@127.0.0.1:%s/%s" % (port, db)
        run(["migrate", "--from", key, "--to", url], os.path.dirname(key))
        _STORE_DBS[key] = url
    return _STORE_DBS[key]


class Serve:
    """A real `mlledger serve` on 127.0.0.1:0 (its URL read from
    --ready-file), stopped by close() (SIGTERM, then SIGKILL after 10 s).
    With ML_TEST_STORE=postgresql, with the ledger's database (store_url)
    as its store of record and the ledger file as its working copy."""

    def __init__(self, ld, *extra):
        self.ready = ld.path("serve.url")
        self.log = open(ld.path("serve.log"), "wb")
        url = store_url(ld.ledger)
        if url:
            extra = ("--store", url) + tuple(extra)
        self.proc = subprocess.Popen(
            [M, "serve", "--listen", "127.0.0.1:0", "--ledger", ld.ledger, "--ready-file",
             self.ready] + list(extra), cwd=ld.dir, stdout=subprocess.DEVNULL,
            stderr=self.log, env=CLEAN_ENV)
        atexit.register(self._kill)          # never left running, whatever happens
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.exists(self.ready) and os.path.getsize(self.ready) > 0:
                self.url = slurp(self.ready, False).strip()
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.close()
        raise AssertionError("serve did not come up: " + slurp(ld.path("serve.log"), False)[-500:])

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def slurp(path, binary=True):
    """The contents of a file (bytes, or str when not binary)."""
    with open(path, "rb" if binary else "r") as f:
        return f.read()

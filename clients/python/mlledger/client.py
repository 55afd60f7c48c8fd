"""The client of `mlledger serve` (docs/SERVER.md) a training pipeline uses.

One keep-alive HTTP connection; every answer verified against the pinned log
key; the last verified checkpoint optionally kept in a state file (the same
file `mlledger ... --state FILE` keeps: the signed note, locked with flock on
FILE.lock and replaced atomically), and a newer checkpoint accepted only
with a consistency proof from the held one.
"""

import fcntl
import http.client
import os
import shutil
import ssl
import stat
import subprocess
import tempfile
import time as _time
import urllib.parse

from . import statement as stm
from . import tlog
from .errors import (ForkError, InputError, LedgerError, RefusedError, ServerError,
                     VerificationError)
from .keys import PublicKey, SecretKey

RESPONSE_MAX = tlog.NOTE_MAX + 8192    # a proof or a checkpoint
USER_AGENT = "mlledger-python/0.1"


class Receipt:
    """What an append returns, every field verified: ``seq`` (the entry's
    index), ``leaf_hash`` (32 bytes; ``leaf_hash_hex`` is "sha256:HEX" as
    `record` prints it), ``prev``, ``time_us`` (the server's append time),
    ``checkpoint`` (the verified Checkpoint the entry is proved in),
    ``existing`` (True when the ledger already held it: a retry),
    ``envelope`` (the bytes sent), ``subject`` and ``digest`` ("sha256:HEX")."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def leaf_hash_hex(self):
        return "sha256:" + self.leaf_hash.hex()

    def __repr__(self):
        return "<Receipt seq %d %s%s>" % (self.seq, self.leaf_hash_hex,
                                         " existing" if self.existing else "")


class GateResult:
    """The outcome of `mlledger gate --server`: ``exit_code`` (0 pass, 1
    deny, 3 invalid policy or evaluation error, 4 integrity, 5/6 recording),
    ``passed`` (exit_code == 0), ``stdout`` (the findings in the chosen
    format), ``stderr``."""

    def __init__(self, exit_code, stdout, stderr):
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr
        self.passed = exit_code == 0

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return "<GateResult %s (exit %d)>" % ("passed" if self.passed else "failed",
                                              self.exit_code)


class StateFile:
    """The last verified checkpoint of one log, kept in a file: the signed
    note's bytes.  Locked (flock on PATH.lock) from read to replace; the
    replace is atomic (temporary file in the same folder, fsync, rename).
    A symbolic link or other non-regular file as PATH is refused."""

    def __init__(self, path):
        self.path = os.path.abspath(path)

    def __enter__(self):
        self._lockfd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
                               | os.O_NOFOLLOW, 0o600)
        fcntl.flock(self._lockfd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self._lockfd)

    def read(self):
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LedgerError("state %s: %s (a symbolic link is refused)"
                              % (self.path, exc.strerror)) from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise LedgerError("state %s: not a regular file" % self.path)
            os.set_blocking(f.fileno(), True)
            data = f.read(tlog.NOTE_MAX + 1)
        if len(data) > tlog.NOTE_MAX:
            raise LedgerError("state %s: too large" % self.path)
        return data

    def write(self, note):
        d = os.path.dirname(self.path)
        fd, tmp = tempfile.mkstemp(prefix=".state.", dir=d)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(note)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, self.path)
            tmp = None
            dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        finally:
            if tmp:
                os.unlink(tmp)


class Ledger:
    """A long-lived client of one ledger server.

    url           the server's base URL (http:// or https://, a path prefix allowed);
                  None: $MLLEDGER_SERVER
    cafile        for https: the CA (or self-signed certificate) to trust, PEM;
                  default: the system's.  Certificates and names are always checked
    key_file      the signer's secret key file (NAME.key); None for a read-only client
    log_key_file  the log's verifier key (`mlledger log-key` > LOG.pub), pinned
    state_file    optional: the last verified checkpoint, kept across runs
    passphrase / passphrase_file   for an encrypted key file
    persist_every seconds between two writes of the state file (default 0:
                  after every new checkpoint; each write is an fsync).  A
                  crash loses at most that much: the file then holds an
                  older checkpoint, which is still checked, never a wrong one
    timeout       seconds per HTTP exchange; retries: attempts after a 503
                  or a connection error (each retry is safe: the server answers
                  a repeated envelope with the entry it already holds)
    mlledger      the CLI binary gate() runs ($MLLEDGER, else `mlledger` on PATH)

    Use as a context manager, or call close(): it wipes the secret key and
    closes the connection.
    """

    def __init__(self, url, key_file, log_key_file, state_file=None, *, passphrase=None,
                 passphrase_file=None, timeout=10.0, retries=5, persist_every=0.0,
                 cafile=None, mlledger=None):
        url = url or os.environ.get("MLLEDGER_SERVER") or ""
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname or u.query or u.fragment:
            raise InputError("url: want http[s]://HOST[:PORT][/PREFIX], got %r" % url)
        self.url = url.rstrip("/")
        self._scheme, self._host, self._port = u.scheme, u.hostname, u.port
        self._prefix = u.path.rstrip("/")
        self._ssl = (ssl.create_default_context(cafile=cafile) if u.scheme == "https"
                     else None)
        self.timeout = timeout
        self.retries = retries
        self.log_key = PublicKey.load(log_key_file, log_key=True)
        self.log_key_file = log_key_file
        self.origin = self.log_key.name
        self.state_file = state_file
        self._state = StateFile(state_file) if state_file else None
        self._held = None                     # the last verified Checkpoint
        self._loaded = False                  # the state file was read
        self._dirty = False                   # _held is newer than the file
        self._persisted = float("-inf")
        self.persist_every = persist_every
        self._digests = {}                    # NAME@VERSION -> hex, of what we recorded
        self._conn = None
        self.mlledger = mlledger or os.environ.get("MLLEDGER") or "mlledger"
        self.key = (SecretKey.load(key_file, passphrase=passphrase,
                                   passphrase_file=passphrase_file)
                    if key_file else None)
        self.key_file = key_file

    # ---- lifecycle ----------------------------------------------------

    def close(self):
        """Writes a pending state, wipes the secret key, closes the
        connection."""
        try:
            if self._state is not None and self._dirty:
                self._persist()
        finally:
            self._close()

    def _close(self):
        if self.key is not None:
            self.key.close()
            self.key = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- HTTP ---------------------------------------------------------

    def _connect(self):
        if self._conn is None:
            if self._scheme == "https":
                self._conn = http.client.HTTPSConnection(self._host, self._port,
                                                         timeout=self.timeout,
                                                         context=self._ssl)
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port,
                                                        timeout=self.timeout)
        return self._conn

    def _request(self, method, path, body=None, cap=RESPONSE_MAX):
        """One exchange, with retries after 503 (honouring Retry-After, at
        most 5 s a wait) and connection errors.  Returns (status, response,
        body) of a non-503 answer (redirects are not followed); raises
        ServerError when every attempt failed."""
        last = None
        wait = 0.0
        for attempt in range(self.retries + 1):
            _time.sleep(min(wait, 5.0))
            wait = 0.05 * (2 ** attempt)    # after a connection error; a 503 says
            conn = self._connect()
            try:
                headers = {"User-Agent": USER_AGENT}
                if body is not None:
                    headers["Content-Type"] = "application/octet-stream"
                conn.request(method, self._prefix + path, body=body, headers=headers)
                resp = conn.getresponse()
                length = resp.getheader("Content-Length")
                if length is not None and (not length.isdigit() or int(length) > cap):
                    conn.close()
                    self._conn = None
                    raise ServerError("%s %s: answer larger than %d bytes" % (method, path, cap))
                data = resp.read(cap + 1)
                if len(data) > cap:
                    conn.close()
                    self._conn = None
                    raise ServerError("%s %s: answer larger than %d bytes" % (method, path, cap))
                if resp.will_close:
                    conn.close()
                    self._conn = None
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self._conn = None
                last = "%s %s: %s" % (method, path, exc or type(exc).__name__)
                continue
            if resp.status == 503:
                ra = resp.getheader("Retry-After", "1")
                wait = float(ra) if ra.isdigit() else 1.0
                last = "%s %s: 503 %s" % (method, path, data[:200].decode("utf-8", "replace").strip())
                continue
            return resp.status, resp, data
        raise ServerError("%s (after %d attempts)" % (last, self.retries + 1), status=503
                          if last and " 503 " in last else None)

    @staticmethod
    def _message(data):
        return data.decode("utf-8", "replace").strip()[:1000]

    def _get(self, path, cap=RESPONSE_MAX):
        status, _, data = self._request("GET", path, cap=cap)
        if status == 200:
            return data
        if 400 <= status < 500:
            raise RefusedError(status, self._message(data))
        raise ServerError("GET %s: %d %s" % (path, status, self._message(data)), status)

    # ---- checkpoints and the state --------------------------------------

    def _consistency(self, old, new):
        try:
            data = self._get("/consistency?old=%d&new=%d" % (old.size, new.size))
        except RefusedError as exc:
            # two sizes the log signed: a server that cannot prove them fails
            raise ForkError("fork: no consistency proof from size %d to %d (%s)"
                            % (old.size, new.size, exc)) from None
        try:
            lines = data.decode("ascii").split("\n")
        except UnicodeDecodeError:
            raise VerificationError("consistency proof: not ASCII") from None
        if lines and lines[-1] == "":
            lines.pop()
        proof = tlog.parse_hash_lines(lines, "consistency proof")
        if not tlog.verify_consistency(old.size, new.size, old.root, new.root, proof):
            raise ForkError("fork: the checkpoint of size %d is not an extension of the one "
                            "held (size %d): its consistency proof fails"
                            % (new.size, old.size))

    def _accept(self, ckpt, reread=False, older_ok=False):
        """Accepts a verified checkpoint as the newest this client knows,
        after checking it against the one held: refuses a smaller size
        (unless ``older_ok`` and proved a prefix) or another root at the same
        size (ForkError), fetches and checks a consistency proof for a larger
        one; against both the checkpoint held in memory and the state
        file's (read first, and again with ``reread``: other clients may
        share the file).  The file is then replaced (only ever forward) at
        once, or at most every ``persist_every`` seconds and at close()."""
        disk = None
        if self._state is not None and (reread or not self._loaded):
            with self._state as st:
                raw = st.read()
            if raw is not None and (self._held is None or raw != self._held.note):
                disk = self._verify_state(raw)
            self._loaded = True
        self._advance(disk, ckpt, older_ok)     # what any client sharing the file saw
        self._advance(self._held, ckpt, older_ok)
        if disk is not None and (self._held is None or disk.size > self._held.size):
            if self._held is not None and self._held.size > ckpt.size:
                self._advance(self._held, disk)     # not implied through ckpt
            self._held = disk
        if self._held is None or ckpt.size > self._held.size:
            self._held = ckpt
            self._dirty = True
        if self._state is not None and self._dirty and (
                _time.monotonic() - self._persisted >= self.persist_every):
            self._persist()

    def _verify_state(self, raw):
        try:
            return tlog.verify_checkpoint(raw, self.log_key)
        except VerificationError as exc:
            raise ForkError("state %s: %s" % (self.state_file, exc)) from None

    def _persist(self):
        """Writes the held checkpoint to the state file, under its lock,
        unless the file (moved on by another client meanwhile) holds a larger
        one, which must then be consistent with ours."""
        with self._state as st:
            raw = st.read()
            held = self._held
            if raw is not None and raw != held.note:
                disk = self._verify_state(raw)
                if disk.size > held.size:
                    self._advance(held, disk)
                    self._held = disk
                else:
                    self._advance(disk, held)
                    st.write(held.note)
            elif raw is None:
                st.write(held.note)
        self._dirty = False
        self._persisted = _time.monotonic()

    def _advance(self, held, ckpt, older_ok=False):
        """Checks ckpt against held.  ``older_ok`` (the checkpoint of a POST
        /add proof, which may predate what another client sharing the state
        file saw): a smaller ckpt must be a prefix of held (consistency
        proof), and held stays."""
        if held is None:
            return
        if ckpt.size < held.size and older_ok:
            self._consistency(ckpt, held)
            return
        if ckpt.size < held.size:
            raise ForkError("rollback: the server shows a tree of size %d, but a checkpoint "
                            "of size %d was verified before" % (ckpt.size, held.size))
        if ckpt.size == held.size:
            if ckpt.root != held.root:
                raise ForkError("fork: another root at size %d than the checkpoint held"
                                % ckpt.size)
            return
        self._consistency(held, ckpt)

    def checkpoint(self):
        """GET /checkpoint: the latest checkpoint, verified (log key,
        origin) and checked consistent with the one held.  Returns a
        Checkpoint."""
        ckpt = tlog.verify_checkpoint(self._get("/checkpoint"), self.log_key)
        self._accept(ckpt, reread=True)
        if self._state is not None and self._dirty:
            self._persist()
        return ckpt

    # ---- appending ----------------------------------------------------

    def submit(self, envelope):
        """POST /add of one envelope (bytes, as `mlledger sign --out` writes
        it; trailing newlines are dropped).  Verifies the answer: the leaf
        rebuilt from the envelope, `extra` and `index` is in the returned
        checkpoint's tree, the checkpoint is signed by the pinned log key,
        of its origin, and consistent with the one held.  Returns a Receipt;
        raises RefusedError (4xx), ServerError, VerificationError/ForkError."""
        envelope = bytes(envelope).rstrip(b"\r\n")
        if len(envelope) > tlog.MAX_ENVELOPE:
            raise InputError("envelope: larger than %d bytes" % tlog.MAX_ENVELOPE)
        status, resp, data = self._request("POST", "/add", body=envelope)
        if status != 200:
            if 400 <= status < 500:
                raise RefusedError(status, self._message(data))
            raise ServerError("POST /add: %d %s" % (status, self._message(data)), status)
        proof = tlog.parse_tlog_proof(data)
        existing = resp.getheader("Mlledger-Existing") == "1"
        try:
            ckpt, lh, prev, t = tlog.verify_entry(envelope, proof, self.log_key)
        except VerificationError:
            if not existing:
                raise
            # a retry by idempotency key (FORMAT.md §2 "Retries"): the entry
            # held is another envelope, read from its entry bundle
            envelope, ckpt, lh, prev, t = self._verify_retry(envelope, proof)
        self._accept(ckpt, older_ok=True)
        subject = digest = None
        try:
            _, st, _ = stm.parse_envelope(envelope)
            subject = st["subject"][0]["name"]
            digest = "sha256:" + st["subject"][0]["digest"]["sha256"]
            kind = st["predicateType"][len(stm.PREDICATE_PREFIX):].split("/")[0]
            if kind in ("dataset", "model"):    # for references by name later
                self._digests[(kind, subject)] = digest
        except (InputError, KeyError, IndexError, TypeError, AttributeError):
            pass                                # verified anyway; just not remembered
        return Receipt(seq=proof.index, leaf_hash=lh, prev=prev, time_us=t, checkpoint=ckpt,
                       existing=existing,
                       envelope=envelope, subject=subject, digest=digest)

    def _verify_retry(self, envelope, proof):
        """The entry the server says our envelope repeats, when it is not
        byte-identical: its leaf bytes from GET /tile/entries, checked to be
        entry proof.index, in the proof's checkpoint (inclusion), signed by
        the same author keyid with the same statement but predicate.time
        (the retry rule).  Returns (its envelope, checkpoint, leaf hash,
        prev, time)."""
        ckpt = tlog.verify_checkpoint(proof.note, self.log_key)
        if proof.index >= ckpt.size:
            raise VerificationError("entry %d: not in the tree of size %d"
                                    % (proof.index, ckpt.size))
        bundle = self._get(tlog.entry_bundle_path(proof.index, ckpt.size), cap=tlog.BUNDLE_MAX)
        leaf = tlog.bundle_entry(bundle, proof.index % 256)
        seq, prev, t, held = tlog.parse_leaf(leaf)
        lh = tlog.leaf_hash(leaf)
        if seq != proof.index or not tlog.verify_inclusion(proof.index, ckpt.size, lh,
                                                           proof.hashes, ckpt.root):
            raise VerificationError("entry %d: the entry served is not the one proved"
                                    % proof.index)
        try:
            _, mine, my_keyid = stm.parse_envelope(envelope, typed=True)
            _, theirs, their_keyid = stm.parse_envelope(held, typed=True)
            mine["predicate"].pop("time", None)
            theirs["predicate"].pop("time", None)
            same = (my_keyid == their_keyid and mine == theirs
                    and mine["predicate"].get("idempotencyKey") is not None)
        except (InputError, KeyError, TypeError, AttributeError):
            same = False
        if not same:
            raise VerificationError("entry %d: the server answered with an entry that is not "
                                    "a retry of this envelope" % proof.index)
        return held, ckpt, lh, prev, t

    # ---- signing ------------------------------------------------------

    def _resolve(self, kind, ref, digest=None):
        """The digest of a dataset or model version: given, or one this
        client recorded.  The ledger checks it again on append."""
        if digest is not None:
            return "sha256:" + stm.parse_digest(digest)
        d = self._digests.get((kind, ref))
        if d is None:
            raise InputError("%s %s: its digest is not known to this client: pass it "
                             "(\"%s\": \"sha256:...\", or the Receipt of its record)"
                             % (kind, ref, ref))
        return d

    def _ref(self, kind, item):
        """A reference given as "N@V", (ref, digest), {ref: digest} item or
        a Receipt -> {"name", "digest"} member."""
        if isinstance(item, Receipt):
            return stm.ref_member(item.subject, item.digest)
        if isinstance(item, (tuple, list)) and len(item) == 2:
            return stm.ref_member(item[0], self._resolve(kind, item[0], item[1]))
        stm.check_ref(item, kind)
        return stm.ref_member(item, self._resolve(kind, item))

    def sign(self, kind, name, version=None, *, digest=None, path=None, time=None,
             idempotency_key=None, **fields):
        """Builds and signs a statement exactly as `mlledger sign KIND
        NAME@VERSION ... --origin ORIGIN` does; returns the envelope bytes.
        ``name`` may be "NAME@VERSION" with version None.  Fields, with the
        CLI's option names: uri, env, decision, comment, rule, expires,
        reason, ticket, severity, description (strings); properties (--set)
        and metrics (--metric) as dicts; datasets (model: --dataset, a list),
        dataset (evaluation), parent (model); path (--file/--artifact) or
        digest (--digest)."""
        if self.key is None:
            raise InputError("this client has no signing key")
        subject = name if version is None else "%s@%s" % (name, version)
        stm.check_ref(subject)
        if kind not in stm.KINDS:
            raise InputError("unknown kind %r (%s)" % (kind, ", ".join(stm.KINDS)))
        allowed = {"dataset": {"uri", "properties"},
                   "model": {"datasets", "parent", "metrics", "properties"},
                   "evaluation": {"metrics", "dataset", "properties"},
                   "approval": {"env", "decision", "comment"},
                   "deployment": {"env", "properties"},
                   "monitoring": {"env", "metrics", "properties"},
                   "waiver": {"rule", "expires", "reason", "ticket"},
                   "retirement": {"env", "reason"},
                   "incident": {"severity", "description"}}[kind]
        bad = sorted(k for k, v in fields.items() if v is not None and k not in allowed)
        if bad:
            raise InputError("%s: %s is not an option of %s" % (subject, bad[0], kind))
        if path is not None and kind not in ("dataset", "model"):
            raise InputError("path is an option of dataset and model only")
        if (path is None) == (digest is None) and kind in ("dataset", "model"):
            raise InputError("give exactly one of path and digest")
        pred = {}
        for k in ("uri", "decision", "comment", "rule", "expires", "reason", "ticket",
                  "severity", "description"):
            if fields.get(k) is not None:
                pred[k] = fields[k]
        if fields.get("env") is not None:
            pred["environment"] = fields["env"]
        if fields.get("parent") is not None:
            pred["parent"] = self._ref("model", fields["parent"])
        if fields.get("dataset") is not None:
            pred["dataset"] = self._ref("dataset", fields["dataset"])
        if fields.get("datasets"):
            ds = fields["datasets"]
            if isinstance(ds, dict):
                ds = list(ds.items())
            if len(ds) > 256:
                raise InputError("datasets: at most 256")
            pred["datasets"] = [self._ref("dataset", x) for x in ds]
        if kind == "evaluation" and not fields.get("metrics"):
            raise InputError("evaluation needs metrics")
        idem = idempotency_key or stm.new_idempotency_key()
        if not stm._IDEM.match(idem):
            raise InputError("idempotency_key: 1-128 of [A-Za-z0-9._:-]")
        pred["idempotencyKey"] = idem
        pred["properties"] = stm.scalars(fields.get("properties"), "properties")
        pred["metrics"] = stm.scalars(fields.get("metrics"), "metrics")
        if path is not None:
            hexd, art = stm.artifact_digest(path)
            digest = "sha256:" + hexd
            pred["artifact"] = art
        elif digest is None:
            digest = self._resolve("model", subject)
        pred["origin"] = self.origin
        pred["time"] = stm.format_time(time)
        payload = stm.build_statement(kind, subject, digest, pred)
        return stm.sign_envelope(self.key, payload)

    def record(self, kind, name, version=None, **kw):
        """sign() then submit(): one verified entry.  Returns a Receipt."""
        r = self.submit(self.sign(kind, name, version, **kw))
        return r

    def record_dataset(self, name, version=None, path=None, *, digest=None, uri=None,
                       properties=None, idempotency_key=None, time=None):
        """`mlledger record dataset NAME@VERSION (--file PATH | --digest D)
        [--uri URI] [--set k=v]...`.  Returns a Receipt (its ``digest`` is
        what a model's ``datasets`` refer to)."""
        return self.record("dataset", name, version, path=path, digest=digest, uri=uri,
                           properties=properties, idempotency_key=idempotency_key,
                           time=time)

    def record_model(self, name, version=None, path=None, *, digest=None, datasets=(),
                     trained_on=None, parent=None, metrics=None, properties=None,
                     idempotency_key=None, time=None):
        """`mlledger record model NAME@VERSION (--artifact PATH | --digest D)
        [--dataset N@V]... [--parent N@V] [--metric k=v]... [--set k=v]...`.
        ``datasets`` (alias ``trained_on``): "N@V" recorded by this client,
        (ref, digest) pairs, a {ref: digest} dict, or Receipts."""
        return self.record("model", name, version, path=path, digest=digest,
                           datasets=trained_on if trained_on is not None else datasets,
                           parent=parent, metrics=metrics, properties=properties,
                           idempotency_key=idempotency_key, time=time)

    def record_evaluation(self, name, version=None, *, metrics, digest=None, dataset=None,
                          properties=None, idempotency_key=None, time=None):
        """`mlledger record evaluation NAME@VERSION --metric k=v...
        [--dataset N@V] [--set k=v]...`.  ``digest``: the model's (default:
        the one this client recorded for it)."""
        return self.record("evaluation", name, version, digest=digest, metrics=metrics,
                           dataset=dataset, properties=properties,
                           idempotency_key=idempotency_key, time=time)

    # ---- gate -----------------------------------------------------------

    def gate(self, model_ref, env, policy="production", *, policies=None, key_file=None,
             passphrase_file=None, mirror=None, record=None, fmt="text", timeout=300):
        """Runs `mlledger gate --server URL --log-key LOG.pub [--state F]
        [--mirror F] --policy P... MODEL --env ENV [--key K]` (the CLI
        mirrors the ledger, verifying every tile, entry and checkpoint,
        evaluates locally and, with a key, submits the signed decision, which
        the server replays).  ``record=False`` adds --no-record.  Returns a GateResult; raises LedgerError when
        the CLI cannot gate through a server."""
        exe = shutil.which(self.mlledger) or self.mlledger
        try:
            helptext = subprocess.run([exe, "gate", "--help"], capture_output=True,
                                      timeout=30).stdout.decode("utf-8", "replace")
        except OSError as exc:
            raise LedgerError("cannot run %s: %s" % (exe, exc)) from None
        if "--server" not in helptext:
            raise LedgerError("%s gate does not take --server (an mlledger without the "
                              "remote client)" % exe)
        argv = [exe, "gate", "--server", self.url, "--log-key", self.log_key_file]
        if self.state_file:
            argv += ["--state", self.state_file]
        if mirror:
            argv += ["--mirror", mirror]
        for p in (policies or [policy]):
            argv += ["--policy", p]
        argv += [model_ref, "--env", env, "--format", fmt]
        if key_file:
            argv += ["--key", key_file]
            if passphrase_file:
                argv += ["--passphrase-file", passphrase_file]
        elif record is False:
            argv += ["--no-record"]
        p = subprocess.run(argv, capture_output=True, timeout=timeout,
                           env={k: v for k, v in os.environ.items()
                                if k != "MLLEDGER_SERVER"})
        return GateResult(p.returncode, p.stdout.decode("utf-8", "replace"),
                          p.stderr.decode("utf-8", "replace"))

"""The client verifies every answer.  Offline: proofs from `mlledger prove`
and leaf bytes from `mlledger show --format raw`, positive and tampered.
Through FakeServer (a stand-in for serve made of the CLI, whose answers the
test rewrites): the whole client stack, its state file, its retries, and
its refusals of rollbacks and forks."""

import base64
import os
import struct
import unittest

from helpers import FakeServer, LedgerDir, slurp

from mlledger import (ForkError, Ledger, PublicKey, RefusedError, SecretKey, ServerError,
                      VerificationError, parse_tlog_proof, verify_checkpoint, verify_entry)
from mlledger import tlog


def flip_hash_line(proof, n=0):
    """proof with its n-th hash line changed (one bit)."""
    head, sep, note = proof.partition(b"\n\n")
    lines = head.split(b"\n")
    i = [j for j, ln in enumerate(lines) if len(ln) == 44][n]
    h = bytearray(base64.b64decode(lines[i]))
    h[0] ^= 1
    lines[i] = base64.b64encode(bytes(h))
    return b"\n".join(lines) + sep + note


def forge_checkpoint(ld, origin, size, root):
    """A checkpoint note signed with the ledger's real log key (the test
    holds it), for body lines the log never signed."""
    k = SecretKey.load(ld.path("l.db.log.key"))
    try:
        text = ("%s\n%d\n%s\n" % (origin, size, base64.b64encode(root).decode())).encode()
        sig = struct.pack(">I", k.public.hash) + k.sign(text)
        return text + ("\n\u2014 %s %s\n" % (k.public.name,
                                              base64.b64encode(sig).decode())).encode()
    finally:
        k.close()


class Offline(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ld = LedgerDir()
        for i in range(5):
            cls.ld.cli("record", "dataset", "d@%d" % i, "--digest", "sha256:" + "%02x" % i * 32,
                       "--key", "ci.key")
        cls.key = PublicKey.load(cls.ld.log_pub, log_key=True)
        cls.other = LedgerDir()
        cls.other_key = PublicKey.load(cls.other.log_pub, log_key=True)

    @classmethod
    def tearDownClass(cls):
        cls.ld.close()
        cls.other.close()

    def envelope(self, seq):
        return self.ld.cli("show", str(seq), "--format", "raw")[53:]

    def test_every_entry_verifies(self):
        for seq in range(7):
            for size in (seq + 1, 7):
                with self.subTest(seq=seq, size=size):
                    p = parse_tlog_proof(self.ld.server_proof(seq, size))
                    ckpt, lh, _, _ = verify_entry(self.envelope(seq), p, self.key)
                    self.assertEqual(ckpt.size, size)
                    self.assertEqual(p.index, seq)
                    raw = self.ld.cli("show", str(seq), "--format", "raw")
                    self.assertEqual(lh, tlog.leaf_hash(raw))

    def test_prove_without_extra_with_leaf_fields(self):
        raw = self.ld.cli("show", "3", "--format", "raw")
        p = parse_tlog_proof(self.ld.cli("prove", "3"))
        self.assertIsNone(p.extra)
        verify_entry(raw[53:], p, self.key, prev=raw[9:41],
                     time_us=struct.unpack(">q", raw[41:49])[0])
        with self.assertRaises(VerificationError):      # no extra, nothing given
            verify_entry(raw[53:], p, self.key)

    def test_tampered_hash(self):
        for n in range(2):
            with self.subTest(hash=n):
                p = parse_tlog_proof(flip_hash_line(self.ld.server_proof(2), n))
                with self.assertRaisesRegex(VerificationError, "inclusion proof"):
                    verify_entry(self.envelope(2), p, self.key)

    def test_tampered_envelope_or_index(self):
        p = parse_tlog_proof(self.ld.server_proof(2))
        env = bytearray(self.envelope(2))
        env[-3] ^= 1
        with self.assertRaises(VerificationError):
            verify_entry(bytes(env), p, self.key)
        p.index = 3
        with self.assertRaises(VerificationError):
            verify_entry(self.envelope(2), p, self.key)

    def test_extra_lying_about_time_or_prev(self):
        proof = self.ld.server_proof(4)
        extra = self.ld.extra(4)
        for what, bad in (("time", extra[:32] + struct.pack(">q", struct.unpack(">q", extra[32:])[0] + 1)),
                          ("prev", bytes([extra[0] ^ 1]) + extra[1:]),
                          ("prev of another entry", self.ld.extra(3))):
            with self.subTest(what):
                lie = proof.replace(base64.b64encode(extra), base64.b64encode(bad))
                self.assertNotEqual(lie, proof)
                with self.assertRaises(VerificationError):
                    verify_entry(self.envelope(4), parse_tlog_proof(lie), self.key)

    def test_wrong_log_key(self):
        p = parse_tlog_proof(self.ld.server_proof(1))
        with self.assertRaisesRegex(VerificationError, "not signed by the log key"):
            verify_entry(self.envelope(1), p, self.other_key)

    def test_wrong_origin(self):
        ck = verify_checkpoint(self.ld.cli("checkpoint"), self.key)
        forged = forge_checkpoint(self.ld, "another/ledger", ck.size, ck.root)
        with self.assertRaisesRegex(VerificationError, "origin"):
            verify_checkpoint(forged, self.key)
        # the same forgery with the right origin verifies: the origin is what failed
        verify_checkpoint(forge_checkpoint(self.ld, self.ld.origin, ck.size, ck.root), self.key)

    def test_checkpoint_body_or_signature_tampered(self):
        note = self.ld.cli("checkpoint")
        lines = note.split(b"\n")
        lines[1] = str(int(lines[1]) + 1).encode()
        with self.assertRaises(VerificationError):
            verify_checkpoint(b"\n".join(lines), self.key)
        sig = note.rstrip(b"\n").rsplit(b" ", 1)
        raw = bytearray(base64.b64decode(sig[1]))
        raw[10] ^= 1
        with self.assertRaisesRegex(VerificationError, "does not verify"):
            verify_checkpoint(sig[0] + b" " + base64.b64encode(bytes(raw)) + b"\n", self.key)

    def test_other_signers_lines_are_ignored(self):
        note = self.ld.cli("checkpoint")
        cosig = ("\u2014 witness.example %s\n" % base64.b64encode(b"\x01\x02\x03\x04" + bytes(72)).decode()).encode()
        self.assertEqual(verify_checkpoint(note + cosig, self.key).note, note + cosig)
        with self.assertRaises(VerificationError):           # but not only them
            verify_checkpoint(note.split("\u2014".encode())[0] + cosig, self.key)

    def test_consistency_proofs(self):
        notes = {n: verify_checkpoint(self.ld.cli("checkpoint", "--size", str(n)), self.key)
                 for n in range(1, 8)}
        for a in range(1, 8):
            for b in range(a, 8):
                proof = tlog.parse_hash_lines(
                    self.ld.cli("prove", "--consistency", str(a), "--size", str(b))
                    .decode().split())
                with self.subTest(a=a, b=b):
                    self.assertTrue(tlog.verify_consistency(a, b, notes[a].root, notes[b].root,
                                                            proof))
                    if proof:
                        bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:]] + proof[1:]
                        self.assertFalse(tlog.verify_consistency(a, b, notes[a].root,
                                                                 notes[b].root, bad))
                    self.assertFalse(tlog.verify_consistency(a, b, notes[a].root,
                                                             bytes(32), proof))


class ThroughFakeServer(unittest.TestCase):
    def setUp(self):
        self.ld = LedgerDir()
        self.fake = FakeServer(self.ld)
        self.state = self.ld.path("client.state")
        self.client = Ledger(self.fake.url, self.ld.path("ci.key"), self.ld.log_pub,
                             self.state, retries=3)

    def tearDown(self):
        self.client.close()
        self.fake.close()
        self.ld.close()

    def test_record_verifies_and_keeps_the_state(self):
        r = self.client.record_dataset("train", "1", digest="sha256:" + "aa" * 32)
        self.assertEqual(r.seq, 2)
        self.assertFalse(r.existing)
        self.assertEqual(r.leaf_hash, tlog.leaf_hash(self.ld.cli("show", "2", "--format", "raw")))
        self.assertEqual(slurp(self.state), self.ld.cli("checkpoint"))
        # a model refers to the dataset this client recorded, by name
        m = self.client.record_model("net", "1", digest="sha256:" + "bb" * 32,
                                     trained_on=["train@1"], metrics={"auc": 0.9})
        self.assertEqual(m.seq, 3)
        self.assertIn(("GET", "/consistency?old=3&new=4"), self.fake.requests)
        self.assertEqual(slurp(self.state), self.ld.cli("checkpoint"))
        # a retry of the same envelope answers the entry held
        again = self.client.submit(m.envelope)
        self.assertEqual((again.seq, again.existing), (3, True))

    def test_retries_after_503_and_dropped_connections(self):
        self.fake.fail_next = 2
        self.assertEqual(self.client.record_dataset("a", "1", digest="sha256:" + "01" * 32).seq, 2)
        self.fake.drop_next = 1
        self.assertEqual(self.client.record_dataset("b", "1", digest="sha256:" + "02" * 32).seq, 3)
        self.fake.fail_next = 10
        with self.assertRaises(ServerError):
            self.client.record_dataset("c", "1", digest="sha256:" + "03" * 32)
        self.assertEqual(self.fake.fail_next, 6)        # 1 + retries (3) attempts

    def test_refusals_carry_status_and_message(self):
        from helpers import run
        run(["key", "new", "stranger"], self.ld.dir)
        with Ledger(self.fake.url, self.ld.path("stranger.key"), self.ld.log_pub) as s:
            with self.assertRaises(RefusedError) as cm:
                s.record_dataset("x", "1", digest="sha256:" + "00" * 32)
        self.assertEqual((cm.exception.status, cm.exception.exit_code), (403, 6))
        self.assertIn("stranger", cm.exception.message)

    def test_tampered_answer_is_refused_and_the_state_kept(self):
        self.client.checkpoint()
        before = slurp(self.state)
        self.fake.mutate = lambda path, body: flip_hash_line(body) if path == "/add" else body
        with self.assertRaises(VerificationError):
            self.client.record_dataset("x", "1", digest="sha256:" + "00" * 32)
        self.assertEqual(slurp(self.state), before)

    def test_extra_lying_over_http(self):
        def lie(path, body):
            if path != "/add":
                return body
            line = [ln for ln in body.split(b"\n") if ln.startswith(b"extra ")][0]
            x = bytearray(base64.b64decode(line[6:]))
            x[-1] ^= 1
            return body.replace(line, b"extra " + base64.b64encode(bytes(x)))
        self.fake.mutate = lie
        with self.assertRaisesRegex(VerificationError, "inclusion"):
            self.client.record_dataset("x", "1", digest="sha256:" + "00" * 32)

    def test_rollback_refused(self):
        self.client.record_dataset("x", "1", digest="sha256:" + "00" * 32)    # state: size 3
        older = self.ld.cli("checkpoint", "--size", "2")
        self.fake.mutate = lambda path, body: older if path == "/checkpoint" else body
        with self.assertRaisesRegex(ForkError, "rollback"):
            self.client.checkpoint()
        # a fresh client that only has the state file refuses it too
        with Ledger(self.fake.url, None, self.ld.log_pub, self.state) as fresh:
            with self.assertRaisesRegex(ForkError, "rollback"):
                fresh.checkpoint()
        self.assertEqual(slurp(self.state), self.ld.cli("checkpoint"))

    def test_fork_at_the_same_size_refused(self):
        ck = self.client.checkpoint()
        forged = forge_checkpoint(self.ld, self.ld.origin, ck.size, bytes(32))
        self.fake.mutate = lambda path, body: forged if path == "/checkpoint" else body
        with Ledger(self.fake.url, None, self.ld.log_pub, self.state) as fresh:
            with self.assertRaisesRegex(ForkError, "fork"):
                fresh.checkpoint()

    def test_fork_with_a_failing_consistency_proof_refused(self):
        ck = self.client.checkpoint()                                  # size 2
        self.ld.cli("record", "dataset", "y@1", "--digest", "sha256:" + "11" * 32, "--key",
                    "ci.key")
        real = self.ld.cli("prove", "--consistency", "2", "--size", "3")
        forged = forge_checkpoint(self.ld, self.ld.origin, ck.size + 1, bytes(32))
        self.fake.mutate = lambda path, body: (forged if path == "/checkpoint" else
                                               real if path.startswith("/consistency") else body)
        with self.assertRaisesRegex(ForkError, "consistency proof fails"):
            self.client.checkpoint()
        self.fake.mutate = None                                        # the real one is fine
        self.assertEqual(self.client.checkpoint().size, 3)

    def test_deferred_state_is_written_at_close(self):
        lazy = Ledger(self.fake.url, self.ld.path("ci.key"), self.ld.log_pub, self.state,
                      persist_every=3600)
        try:
            lazy.record_dataset("a", "1", digest="sha256:" + "01" * 32)   # first: written
            first = slurp(self.state)
            lazy.record_dataset("b", "1", digest="sha256:" + "02" * 32)   # deferred
            self.assertEqual(slurp(self.state), first)
        finally:
            lazy.close()
        self.assertEqual(slurp(self.state), self.ld.cli("checkpoint"))

    def test_forked_state_written_meanwhile_refused_at_persist(self):
        lazy = Ledger(self.fake.url, self.ld.path("ci.key"), self.ld.log_pub, self.state,
                      persist_every=3600)
        try:
            lazy.record_dataset("a", "1", digest="sha256:" + "01" * 32)        # size 3
            lazy.record_dataset("b", "1", digest="sha256:" + "02" * 32)        # size 4, deferred
            with open(self.state, "wb") as f:    # another writer: a fork at size 3
                f.write(forge_checkpoint(self.ld, self.ld.origin, 3, bytes(32)))
            with self.assertRaisesRegex(ForkError, "fork"):
                lazy.close()
        finally:
            lazy._close()

    def test_two_clients_share_a_state_file(self):
        other = Ledger(self.fake.url, self.ld.path("ci.key"), self.ld.log_pub, self.state)
        try:
            self.client.record_dataset("a", "1", digest="sha256:" + "01" * 32)
            other.record_dataset("b", "1", digest="sha256:" + "02" * 32)
            # the first client moves the file forward, never back
            self.client.record_dataset("c", "1", digest="sha256:" + "03" * 32)
            self.assertEqual(slurp(self.state), self.ld.cli("checkpoint"))
            self.fake.mutate = (lambda path, body: self.ld.cli("checkpoint", "--size", "4")
                                if path == "/checkpoint" else body)
            with self.assertRaisesRegex(ForkError, "rollback"):
                other.checkpoint()
        finally:
            other.close()

    def test_older_add_proof_needs_a_prefix_proof(self):
        a = self.client.record_dataset("a", "1", digest="sha256:" + "01" * 32)   # seq 2
        self.client.record_dataset("b", "1", digest="sha256:" + "02" * 32)       # held: 4
        older = self.ld.server_proof(a.seq, a.seq + 1)           # proved in the tree of 3
        self.fake.mutate = lambda path, body: older if path == "/add" else body
        r = self.client.submit(a.envelope)
        self.assertEqual((r.seq, r.checkpoint.size), (2, 3))
        self.assertIn(("GET", "/consistency?old=3&new=4"), self.fake.requests)
        self.assertEqual(slurp(self.state), self.ld.cli("checkpoint"))          # kept
        # the same, but the server cannot show the older tree a prefix of the held one
        bad = self.ld.cli("prove", "--consistency", "2", "--size", "4")
        self.fake.mutate = lambda path, body: (older if path == "/add" else
                                               bad if path.startswith("/consistency") else body)
        with self.assertRaisesRegex(ForkError, "consistency proof fails"):
            self.client.submit(a.envelope)

    def test_consistency_refused_by_the_server_is_a_fork(self):
        self.client.checkpoint()
        self.ld.cli("record", "dataset", "y@1", "--digest", "sha256:" + "11" * 32, "--key",
                    "ci.key")
        orig = self.fake.route
        self.fake.route = lambda m, p, h: ((404, b"not found\n", []) if p.startswith("/consistency")
                                           else orig(m, p, h))
        with self.assertRaises(ForkError) as cm:
            self.client.checkpoint()
        self.assertEqual(cm.exception.exit_code, 4)

    def test_oversized_envelope_refused_before_sending(self):
        from mlledger import InputError
        with self.assertRaisesRegex(InputError, "larger than 65482"):
            self.client.submit(b"{" + b" " * 65481 + b"}")
        self.assertEqual(self.fake.requests, [])
        # the largest that fits is sent (and refused by the server as not an envelope)
        with self.assertRaises(RefusedError):
            self.client.submit(b"{" + b" " * 65480 + b"}")
        self.assertEqual(len(self.fake.requests), 1)

    def test_oversized_answer_refused(self):
        self.fake.mutate = lambda path, body: body + b"x" * (200 * 1024)
        with self.assertRaisesRegex(ServerError, "larger than"):
            self.client.checkpoint()
        self.fake.mutate = None
        self.assertEqual(self.client.checkpoint().size, 2)    # a new connection works

    def test_one_keep_alive_connection(self):
        for i in range(5):
            self.client.record_dataset("k", str(i), digest="sha256:" + "%064x" % i)
        self.client.checkpoint()
        self.assertGreaterEqual(len(self.fake.requests), 10)
        self.assertEqual(self.fake.connections, 1)

    def test_retry_by_idempotency_key_is_verified_from_the_entry_bundle(self):
        first = self.client.record_dataset("r", "1", digest="sha256:" + "31" * 32,
                                           idempotency_key="job-7")
        again = self.client.record_dataset("r", "1", digest="sha256:" + "31" * 32,
                                           idempotency_key="job-7",
                                           time="2020-01-01T00:00:00Z")
        self.assertEqual((again.seq, again.existing, again.envelope),
                         (first.seq, True, first.envelope))
        self.assertTrue(any(p.startswith("/tile/entries/") for _, p in self.fake.requests))

    def test_a_claimed_retry_of_another_entry_is_refused(self):
        other = self.client.record_dataset("o", "1", digest="sha256:" + "41" * 32,
                                           idempotency_key="job-8", properties={"n": 1})
        self.fake.answer_seq = other.seq
        for what, kw in (("other content", {"digest": "sha256:" + "42" * 32,
                                            "idempotency_key": "job-8"}),
                         ("other key", {"digest": "sha256:" + "41" * 32,
                                        "idempotency_key": "job-9"}),
                         ("1.0 for 1", {"digest": "sha256:" + "41" * 32,
                                        "idempotency_key": "job-8",
                                        "properties": {"n": 1.0}})):
            with self.subTest(what):
                with self.assertRaisesRegex(VerificationError, "not a retry"):
                    self.client.record_dataset("o", "1", **kw)

    def test_a_claimed_retry_by_another_signer_is_refused(self):
        from helpers import run
        held = self.client.record_dataset("o", "1", digest="sha256:" + "41" * 32,
                                          idempotency_key="job-8")
        run(["key", "new", "other"], self.ld.dir)
        self.fake.answer_seq = held.seq
        with Ledger(self.fake.url, self.ld.path("other.key"), self.ld.log_pub) as o:
            with self.assertRaisesRegex(VerificationError, "not a retry"):
                o.record_dataset("o", "1", digest="sha256:" + "41" * 32,
                                 idempotency_key="job-8")

    def test_a_forged_entry_bundle_is_refused(self):
        held = self.client.record_dataset("f", "1", digest="sha256:" + "51" * 32,
                                          idempotency_key="job-10")
        mine = self.client.sign("dataset", "f", "1", digest="sha256:" + "51" * 32,
                                idempotency_key="job-10", time="2020-01-01T00:00:00Z")
        prev, t = self.ld.extra(held.seq)[:32], self.ld.extra(held.seq)[32:]
        forged = (b"\x01" + struct.pack(">Q", held.seq) + prev + t
                  + struct.pack(">I", len(mine)) + mine)

        def swap(path, body):           # the held entry replaced by our own envelope
            if not path.startswith("/tile/entries/"):
                return body
            out, off = b"", 0
            for i in range(held.seq + 1):
                n = struct.unpack(">H", body[off:off + 2])[0]
                out += struct.pack(">H", len(forged)) + forged if i == held.seq else \
                    body[off:off + 2 + n]
                off += 2 + n
            return out + body[off:]
        self.fake.answer_seq = held.seq
        self.fake.mutate = swap
        with self.assertRaisesRegex(VerificationError, "not the one proved"):
            self.client.submit(mine)

    def test_state_file_shared_with_the_cli(self):
        """The CLI's `verify --state` reads the file this client writes and
        moves it forward; this client reads what the CLI wrote."""
        self.client.record_dataset("s", "1", digest="sha256:" + "71" * 32)
        self.ld.cli("record", "dataset", "t@1", "--digest", "sha256:" + "72" * 32, "--key",
                    "ci.key")
        self.ld.cli("verify", "--state", self.state)
        self.assertEqual(slurp(self.state), self.ld.cli("checkpoint"))   # moved by the CLI
        with Ledger(self.fake.url, None, self.ld.log_pub, self.state) as fresh:
            self.assertEqual(fresh.checkpoint().size, 4)
        # and a state the client refuses, the CLI refuses too (exit 4)
        with open(self.state, "wb") as f:
            f.write(forge_checkpoint(self.ld, self.ld.origin, 4, bytes(32)))
        self.assertEqual(self.ld.cli("verify", "--state", self.state, check=False).returncode, 4)
        with Ledger(self.fake.url, None, self.ld.log_pub, self.state) as fresh:
            with self.assertRaises(ForkError):
                fresh.checkpoint()

    def test_state_of_another_log_refused(self):
        other = LedgerDir()
        try:
            with open(self.state, "wb") as f:
                f.write(other.cli("checkpoint"))
        finally:
            other.close()
        with self.assertRaises(ForkError):
            self.client.checkpoint()

    def test_state_fifo_refused_without_waiting(self):
        import signal
        os.mkfifo(self.state)

        def hung(*a):
            raise AssertionError("blocked opening a FIFO")
        old = signal.signal(signal.SIGALRM, hung)
        signal.alarm(5)
        try:
            with self.assertRaisesRegex(Exception, "not a regular file"):
                self.client.checkpoint()
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)

    def test_state_symlink_refused(self):
        os.symlink(self.ld.path("elsewhere"), self.state)
        with self.assertRaises(Exception):
            self.client.checkpoint()
        self.assertFalse(os.path.exists(self.ld.path("elsewhere")))


if __name__ == "__main__":
    unittest.main()

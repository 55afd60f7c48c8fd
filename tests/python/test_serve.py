"""End to end against a real `mlledger serve` on 127.0.0.1 (skipped, with a
notice, when this mlledger has no serve command): records of every kind
the pipeline uses, verified receipts that match the ledger, retries of held
entries, refusals with the CLI's text, the state file across clients, the
example pipeline script, and (printed, not asserted) the median latency of
one append from a long-lived client."""

import os
import statistics
import subprocess
import sys
import time
import unittest

from helpers import CLEAN_ENV, M, ROOT, LedgerDir, Serve, run, serve_available, slurp

from mlledger import ForkError, Ledger, RefusedError, ServerError, tlog

HAVE_SERVE = serve_available()
if not HAVE_SERVE:
    sys.stderr.write("NOTICE: %s has no 'serve' command: the end-to-end tests of "
                     "tests/python/test_serve.py are skipped\n" % M)


def _serve_ledger(ld, path):
    """A second server, on another ledger file in ld's folder."""
    class Other:
        pass
    o = Other()
    o.ledger, o.dir, o.path = path, ld.dir, lambda n: ld.path("other-" + n)
    return Serve(o)


@unittest.skipUnless(HAVE_SERVE, "mlledger serve is not available in this build")
class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ld = LedgerDir(roles="engineer,validator,approver")
        cls.ld.write("train.csv", "x,y\n1,0\n")
        os.makedirs(cls.ld.path("model"))
        cls.ld.write("model/weights.bin", b"\x07" * 4096)
        cls.srv = Serve(cls.ld)         # the default --batch-wait (0); last: tearDownClass stops it

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.close()
        cls.ld.close()
        assert rc == 0, "serve exited %s on SIGTERM" % rc

    def client(self, state="e2e.state", key="ci.key"):
        return Ledger(self.srv.url, self.ld.path(key) if key else None, self.ld.log_pub,
                      self.ld.path(state) if state else None)

    def test_1_pipeline_records_verify_and_match_the_ledger(self):
        with self.client() as c:
            d = c.record_dataset("train", "2024-01", self.ld.path("train.csv"), uri="s3://t",
                                 properties={"pii": False})
            m = c.record_model("digits", "1.0", self.ld.path("model"), trained_on=["train@2024-01"],
                               metrics={"accuracy": 0.98})
            e = c.record_evaluation("digits", "1.0", metrics={"auc": 0.97},
                                    dataset="train@2024-01")
            a = c.record("approval", "digits", "1.0", env="prod", decision="approve",
                         comment="ok")
            for r in (d, m, e, a):
                raw = self.ld.cli("show", str(r.seq), "--format", "raw")
                self.assertEqual(r.leaf_hash, tlog.leaf_hash(raw))
                self.assertEqual(raw[53:], r.envelope)
                self.assertFalse(r.existing)
            self.assertEqual([d.seq + 1, d.seq + 2, d.seq + 3], [m.seq, e.seq, a.seq])
            self.assertEqual(m.digest, e.digest)
            # a retry (a timeout, say) gets the same entry back, nothing new written
            again = c.submit(m.envelope)
            self.assertEqual((again.seq, again.leaf_hash, again.existing),
                             (m.seq, m.leaf_hash, True))
            ck = c.checkpoint()
            self.assertEqual(ck.size, a.seq + 1)
            self.assertEqual(slurp(self.ld.path("e2e.state")), ck.note)
        self.ld.cli("verify")

    def test_2_refusals(self):
        run(["key", "new", "stranger"], self.ld.dir)
        with self.client(key="stranger.key", state=None) as s:
            with self.assertRaises(RefusedError) as cm:
                s.record_dataset("x", "1", digest="sha256:" + "00" * 32)
            self.assertEqual(cm.exception.status, 403)
        with self.client(state=None) as c:
            with self.assertRaises(RefusedError) as cm:   # a model nobody recorded
                c.record_evaluation("ghost", "1", digest="sha256:" + "00" * 32,
                                    metrics={"auc": 0.5})
            self.assertIn(cm.exception.status, (400, 409))
            with self.assertRaises(RefusedError) as cm:
                c.submit(b'{"payload":"e30=","payloadType":"x","signatures":[]}')
            self.assertEqual(cm.exception.status, 400)
            # the same idempotency key, other content: a conflict (exit 7)
            first = c.record_dataset("idem", "1", digest="sha256:" + "21" * 32,
                                     idempotency_key="job-42")
            again = c.record_dataset("idem", "1", digest="sha256:" + "21" * 32,
                                     idempotency_key="job-42", time="2020-01-01T00:00:00Z")
            self.assertEqual((again.seq, again.existing), (first.seq, True))
            self.assertEqual(again.envelope, first.envelope)       # the one held
            self.assertEqual(again.leaf_hash, first.leaf_hash)
            with self.assertRaises(RefusedError) as cm:
                c.record_dataset("idem", "1", digest="sha256:" + "22" * 32,
                                 idempotency_key="job-42")
            self.assertEqual((cm.exception.status, cm.exception.exit_code), (409, 7),
                             cm.exception.message)

    def test_3_state_refuses_a_server_restored_from_an_old_backup(self):
        import shutil
        import sqlite3
        back = self.ld.path("backup.db")
        src = sqlite3.connect(self.ld.ledger)
        dst = sqlite3.connect(back)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        shutil.copy(self.ld.path("l.db.log.key"), back + ".log.key")
        with self.client(state="restored.state") as c:
            c.record_dataset("s", "1", digest="sha256:" + "12" * 32)
        held = slurp(self.ld.path("restored.state"))
        srv = _serve_ledger(self.ld, back)
        try:
            with Ledger(srv.url, None, self.ld.log_pub, self.ld.path("restored.state")) as c:
                with self.assertRaisesRegex(ForkError, "rollback"):
                    c.checkpoint()
            with Ledger(srv.url, None, self.ld.log_pub, None) as c:
                c.checkpoint()        # without the state, nothing to compare with
        finally:
            self.assertEqual(srv.close(), 0)
        self.assertEqual(slurp(self.ld.path("restored.state")), held)

    def test_4_example_pipeline(self):
        env = dict(CLEAN_ENV, MLLEDGER=M, PYTHONPATH=os.path.join(ROOT, "clients", "python"))
        p = subprocess.run([sys.executable, os.path.join(ROOT, "clients", "python", "examples",
                                                          "pipeline.py"),
                            "--server", self.srv.url, "--key", self.ld.path("ci.key"),
                            "--log-key", self.ld.log_pub, "--state", self.ld.path("ex.state"),
                            "--workdir", self.ld.path("ex")],
                           capture_output=True, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-800:])
        out = p.stdout.decode()
        self.assertIn("recorded dataset", out)
        self.assertIn("recorded model", out)
        self.assertIn("recorded evaluation", out)
        self.ld.cli("verify")

    def test_5_latency(self):
        """Median latency of one append (sign + POST + verify of the proof,
        the checkpoint and its consistency proof) from a long-lived client:
        printed, not asserted (the goal is a median <= 2 ms)."""
        n = int(os.environ.get("PY_LATENCY_N", "200"))
        import http.client
        import urllib.parse
        with self.client(state=None) as c:      # the server alone: pre-signed, no checks
            envs = [c.sign("dataset", "raw", str(i), digest="sha256:" + "%064x" % i)
                    for i in range(n)]
        u = urllib.parse.urlsplit(self.srv.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        lat = []
        try:
            for e in envs:
                t0 = time.perf_counter()
                conn.request("POST", "/add", body=e)
                r = conn.getresponse()
                r.read()
                lat.append(time.perf_counter() - t0)
                self.assertEqual(r.status, 200)
        finally:
            conn.close()
        sys.stderr.write("\nMEASURE serve alone, POST /add of a pre-signed envelope "
                         "(default --batch-wait): n=%d median %.2f ms"
                         % (len(lat), 1000 * statistics.median(lat)))
        for label, kw in (("no state file", {"state": None}),
                          ("state file, persist_every=1", {"state": "lat.state",
                                                            "persist_every": 1.0}),
                          ("state file fsynced each append", {"state": "lat2.state"})):
            c = Ledger(self.srv.url, self.ld.path("ci.key"), self.ld.log_pub,
                       self.ld.path(kw["state"]) if kw["state"] else None,
                       persist_every=kw.get("persist_every", 0.0))
            try:
                c.checkpoint()
                lat = []
                deadline = time.monotonic() + 15
                for i in range(n):
                    t0 = time.perf_counter()
                    c.record_dataset("lat-%s" % label.split()[0], str(i),
                                     digest="sha256:" + "%064x" % i)
                    lat.append(time.perf_counter() - t0)
                    if time.monotonic() > deadline:
                        break
            finally:
                c.close()
            lat.sort()
            sys.stderr.write("\nMEASURE python-client append latency (%s): n=%d median %.2f "
                             "ms, p90 %.2f ms, p99 %.2f ms (goal: median <= 2 ms)"
                             % (label, len(lat), 1000 * statistics.median(lat),
                                1000 * lat[int(len(lat) * 0.9)],
                                1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))]))
        sys.stderr.write("\n")


@unittest.skipUnless(HAVE_SERVE, "mlledger serve is not available in this build")
class Https(unittest.TestCase):
    """Over TLS (serve --tls-cert/--tls-key, a self-signed certificate for
    127.0.0.1): trusted with cafile=, refused without it."""

    def test_https(self):
        ld = LedgerDir()
        try:
            p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                                "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                "-keyout", ld.path("tls.key"), "-out", ld.path("tls.pem")],
                               capture_output=True, timeout=60)
            if p.returncode != 0:
                self.skipTest("openssl cannot make a certificate")
            srv = Serve(ld, "--tls-cert", ld.path("tls.pem"), "--tls-key", ld.path("tls.key"))
            try:
                url = srv.url.replace("http://", "https://")
                with Ledger(url, ld.path("ci.key"), ld.log_pub, cafile=ld.path("tls.pem")) as c:
                    r = c.record_dataset("tls", "1", digest="sha256:" + "61" * 32)
                    self.assertEqual(r.seq, 2)
                with Ledger(url, ld.path("ci.key"), ld.log_pub, retries=0) as c:
                    with self.assertRaisesRegex(ServerError, "CERTIFICATE_VERIFY_FAILED|certificate"):
                        c.checkpoint()
            finally:
                self.assertEqual(srv.close(), 0)
        finally:
            ld.close()


def gate_has_server():
    p = subprocess.run([M, "gate", "--help"], capture_output=True, env=CLEAN_ENV, timeout=30)
    return b"--server" in p.stdout + p.stderr


@unittest.skipUnless(HAVE_SERVE and gate_has_server(),
                     "this mlledger has no serve, or no 'gate --server' (the C client)")
class Gate(unittest.TestCase):
    """Ledger.gate runs `mlledger gate --server`: the same verdict as a local
    gate on the same ledger, and a recorded decision the server accepts."""

    @classmethod
    def setUpClass(cls):
        ld = cls.ld = LedgerDir(roles="engineer")
        for k, role in (("alice", "approver"), ("bob", "approver"), ("rita", "risk-officer"),
                        ("val", "validator")):
            run(["key", "new", k], ld.dir)
            ld.cli("key", "enroll", k + ".pub", "--holder-key", k + ".key", "--role", role,
                   "--key", "admin.key")
        ld.cli("policy", "record", os.path.join(ROOT, "policies", "production.xml"), "--key",
               "rita.key")
        cls.srv = Serve(ld, "--batch-wait", "1")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        cls.ld.close()

    def test_gate_through_the_server(self):
        ld = self.ld
        with Ledger(self.srv.url, ld.path("ci.key"), ld.log_pub, ld.path("gate.state"),
                    mlledger=M) as c:
            d = c.record_dataset("d", "1", digest="sha256:" + "0d" * 32,
                                 properties={"license": "MIT", "pii": False})
            m = c.record_model("m", "1", digest="sha256:" + "0e" * 32, trained_on=[d],
                               metrics={"auc": 0.9})
            c.record_model("m", "2", digest="sha256:" + "0f" * 32, trained_on=[d],
                           metrics={"auc": 0.9})
            with Ledger(self.srv.url, ld.path("val.key"), ld.log_pub) as v:
                v.record_evaluation("m", "1", digest=m.digest, metrics={"auc": 0.9})
            for who in ("alice", "bob"):
                with Ledger(self.srv.url, ld.path(who + ".key"), ld.log_pub) as a:
                    a.record("approval", "m", "1", digest=m.digest, env="prod",
                             decision="approve")
            ok = c.gate("m@1", "prod", record=False, mirror=ld.path("mirror.db"))
            deny = c.gate("m@2", "prod", record=False, mirror=ld.path("mirror.db"))
            self.assertEqual((ok.exit_code, ok.passed), (0, True), ok.stdout + ok.stderr)
            self.assertEqual((deny.exit_code, deny.passed), (1, False), deny.stderr)
            self.assertIn("DENY", deny.stdout)
            # the same verdicts as a local gate on the ledger itself
            for ref, want in (("m@1", 0), ("m@2", 1)):
                local = ld.cli("gate", "--policy", "production", ref, "--env", "prod",
                               "--no-record", check=False)
                self.assertEqual(local.returncode, want)
            rec = c.gate("m@1", "prod", key_file=ld.path("ci.key"), mirror=ld.path("mirror.db"))
            self.assertEqual(rec.exit_code, 0, rec.stderr)
        self.assertIn("m@1", ld.cli("log", "--kind", "gate").decode())
        ld.cli("verify", "--decisions")


if __name__ == "__main__":
    unittest.main()

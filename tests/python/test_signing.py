"""The Python client signs exactly as the CLI does: for the same inputs
(the time and idempotency key taken from the CLI's envelope, since the CLI
picks them), `Ledger.sign` gives the very bytes `mlledger sign --out`
writes, for every kind the client records, and reads every key file form
the CLI writes.  No server needed."""

import os
import unittest

from helpers import LedgerDir, envelope_time, run, slurp

from mlledger import KeyFileError, Ledger, InputError, PublicKey, SecretKey, artifact_digest


class Signing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ld = LedgerDir(roles="engineer,validator,approver,risk-officer")
        ld = cls.ld
        ld.write("data.csv", "a,b\n1,2\n")
        os.makedirs(ld.path("model/sub"))
        ld.write("model/weights.bin", b"\x00\x01" * 1000)
        ld.write("model/sub/config.json", '{"layers": 3}\n')
        ld.write("model/Z-upper", "sorted bytewise: before lower case\n")
        ld.cli("record", "dataset", "train@2024-01", "--file", "data.csv", "--key", "ci.key")
        ld.cli("record", "dataset", "test@2024-01", "--file", "data.csv", "--uri", "s3://b/t",
               "--key", "ci.key")
        ld.cli("record", "model", "base@1", "--digest", "sha256:" + "ab" * 32, "--key",
               "ci.key")
        cls.client = Ledger("http://127.0.0.1:9", ld.path("ci.key"), ld.log_pub)
        cls.data_digest = "sha256:" + artifact_digest(ld.path("data.csv"))[0]

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.ld.close()

    def same(self, cli_args, kind, name, offline=False, **kw):
        """Signs with the CLI (with the ledger, or offline with --origin)
        and with the client; the envelopes must be byte-identical."""
        ld = self.ld
        out = ld.path("cli.env")
        if os.path.exists(out):
            os.unlink(out)
        base = ["sign", kind, name] + cli_args + ["--idempotency-key", "idem-1", "--key",
                                                  "ci.key", "--out", out]
        if offline:
            run(base + ["--origin", ld.origin], ld.dir)
        else:
            ld.cli(*base)
        cli = slurp(out).rstrip(b"\n")
        mine = self.client.sign(kind, name, idempotency_key="idem-1",
                                time=envelope_time(cli), **kw)
        self.assertEqual(mine, cli)
        return cli

    def test_dataset_file(self):
        self.same(["--file", "data.csv", "--uri", "s3://bucket/train.csv", "--set", "pii=false",
                   "--set", "license=CC-BY-4.0", "--set", "rows=2"],
                  "dataset", "train@2024-02", path=self.ld.path("data.csv"),
                  uri="s3://bucket/train.csv",
                  properties={"pii": False, "license": "CC-BY-4.0", "rows": 2})

    def test_dataset_digest(self):
        self.same(["--digest", "sha256:" + "0f" * 32, "--set", 'dpia="2024-17"'],
                  "dataset", "ext/data@v1.0+3", digest="sha256:" + "0f" * 32,
                  properties={"dpia": "2024-17"})

    def test_model_folder_datasets_parent_metrics(self):
        self.same(["--artifact", "model", "--dataset", "train@2024-01", "--dataset",
                   "test@2024-01", "--parent", "base@1", "--metric", "auc=0.91",
                   "--metric", "loss=1e-5", "--metric", "big=1e20", "--metric", "neg=-2.5",
                   "--metric", "third=0.3333333333333333", "--metric", "n=42",
                   "--set", "framework=pytorch"],
                  "model", "digits@1.0", path=self.ld.path("model"),
                  datasets=[("train@2024-01", self.data_digest),
                            ("test@2024-01", self.data_digest)],
                  parent=("base@1", "sha256:" + "ab" * 32),
                  metrics={"auc": 0.91, "loss": 1e-5, "big": 1e20, "neg": -2.5,
                           "third": 1 / 3, "n": 42},
                  properties={"framework": "pytorch"})

    def test_evaluation(self):
        self.same(["--metric", "auc=0.97", "--metric", "f1=0.9", "--dataset", "test@2024-01",
                   "--set", "suite=holdout"],
                  "evaluation", "base@1", digest="sha256:" + "ab" * 32,
                  metrics={"auc": 0.97, "f1": 0.9},
                  dataset=("test@2024-01", self.data_digest),
                  properties={"suite": "holdout"})

    def test_approval(self):
        self.same(["--digest", "sha256:" + "ab" * 32, "--env", "prod", "--decision", "approve",
                   "--comment", "reviewed: ünïcode, \"quotes\", back\\slash\nand a tab\t."],
                  "approval", "base@1", offline=True, digest="sha256:" + "ab" * 32,
                  env="prod", decision="approve",
                  comment="reviewed: ünïcode, \"quotes\", back\\slash\nand a tab\t.")

    def test_deployment(self):
        self.same(["--digest", "sha256:" + "ab" * 32, "--env", "prod", "--set", "replicas=3"],
                  "deployment", "base@1", offline=True, digest="sha256:" + "ab" * 32,
                  env="prod", properties={"replicas": 3})

    def test_monitoring(self):
        self.same(["--digest", "sha256:" + "ab" * 32, "--env", "prod", "--metric",
                   "drift=0.02"], "monitoring", "base@1", offline=True,
                  digest="sha256:" + "ab" * 32, env="prod", metrics={"drift": 0.02})

    def test_waiver(self):
        self.same(["--digest", "sha256:" + "ab" * 32, "--rule", "fairness-1", "--expires",
                   "2030-01-31", "--reason", "accepted risk", "--ticket", "RISK-7"],
                  "waiver", "base@1", offline=True, digest="sha256:" + "ab" * 32,
                  rule="fairness-1", expires="2030-01-31", reason="accepted risk",
                  ticket="RISK-7")

    def test_retirement(self):
        self.same(["--digest", "sha256:" + "ab" * 32, "--env", "prod", "--reason", "superseded"],
                  "retirement", "base@1", offline=True, digest="sha256:" + "ab" * 32,
                  env="prod", reason="superseded")

    def test_incident(self):
        self.same(["--digest", "sha256:" + "ab" * 32, "--severity", "high", "--description",
                   "bias found"], "incident", "base@1", offline=True,
                  digest="sha256:" + "ab" * 32, severity="high", description="bias found")

    def test_fresh_idempotency_key_differs(self):
        a = self.client.sign("dataset", "x@1", digest="sha256:" + "00" * 32,
                             time="2026-01-01T00:00:00Z")
        b = self.client.sign("dataset", "x@1", digest="sha256:" + "00" * 32,
                             time="2026-01-01T00:00:00Z")
        self.assertNotEqual(a, b)  # two records are two statements, as record

    def test_bad_inputs(self):
        c = self.client
        with self.assertRaises(InputError):
            c.sign("dataset", "no-version", digest="sha256:" + "00" * 32)
        with self.assertRaises(InputError):
            c.sign("dataset", "x@1")                                     # no digest
        with self.assertRaises(InputError):
            c.sign("dataset", "x@1", digest="sha256:" + "AB" * 32)       # upper case
        with self.assertRaises(InputError):
            c.sign("approval", "x@1", digest="sha256:" + "00" * 32, metrics={"a": 1})
        with self.assertRaises(InputError):
            c.sign("model", "x@1", digest="sha256:" + "00" * 32, datasets=["unknown@1"])
        with self.assertRaises(InputError):
            c.sign("dataset", "x@1", digest="sha256:" + "00" * 32,
                   properties={"bad name": 1})
        with self.assertRaises(InputError):
            c.sign("dataset", "x@1", digest="sha256:" + "00" * 32,
                   properties={"x": float("nan")})
        with self.assertRaises(InputError):
            c.sign("gate", "x@1", digest="sha256:" + "00" * 32)


class KeyFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ld = LedgerDir()
        ld = cls.ld
        ld.write("pass.txt", "correct horse battery staple\n")
        ld.write("wrong.txt", "not it\n")
        run(["key", "new", "enc", "--encrypt", "--passphrase-file", "pass.txt"], ld.dir)

    @classmethod
    def tearDownClass(cls):
        cls.ld.close()

    def test_encrypted_key_signs_like_the_cli(self):
        ld = self.ld
        out = ld.path("enc.env")
        run(["sign", "dataset", "d@1", "--digest", "sha256:" + "11" * 32, "--origin", ld.origin,
             "--idempotency-key", "k", "--key", "enc.key", "--passphrase-file", "pass.txt",
             "--out", out], ld.dir)
        cli = slurp(out).rstrip(b"\n")
        with Ledger("http://127.0.0.1:9", ld.path("enc.key"), ld.log_pub,
                    passphrase_file=ld.path("pass.txt")) as c:
            self.assertEqual(c.key.public.line, slurp(ld.path("enc.pub"), False).strip())
            mine = c.sign("dataset", "d@1", digest="sha256:" + "11" * 32,
                          idempotency_key="k", time=envelope_time(cli))
        self.assertEqual(mine, cli)

    def test_wrong_or_missing_passphrase(self):
        with self.assertRaisesRegex(KeyFileError, "wrong passphrase"):
            SecretKey.load(self.ld.path("enc.key"), passphrase_file=self.ld.path("wrong.txt"))
        env = dict(os.environ)
        os.environ.pop("MLLEDGER_PASSPHRASE_FILE", None)
        try:
            with self.assertRaisesRegex(KeyFileError, "encrypted"):
                SecretKey.load(self.ld.path("enc.key"))
        finally:
            os.environ.clear()
            os.environ.update(env)

    def test_corrupt_key_files(self):
        good = slurp(self.ld.path("ci.key"), False)
        name_hash, b64 = good[len("PRIVATE+KEY+"):].strip().rsplit("+", 1)
        cases = {
            "hash": good.replace(name_hash, name_hash[:-1] + ("0" if name_hash[-1] != "0" else "1")),
            "type": "PRIVATE+KEY+%s+%s\n" % (name_hash, "Ag" + b64[2:]),
            "base64": "PRIVATE+KEY+%s+%s\n" % (name_hash, b64[:-2] + "!="),
            "lines": good + good,
            "empty": "",
            "public": slurp(self.ld.path("ci.pub"), False),
        }
        for what, text in cases.items():
            with self.subTest(what):
                p = self.ld.write("bad-%s.key" % what, text)
                with self.assertRaises(KeyFileError):
                    SecretKey.load(p)

    def test_encrypted_limits_refused_before_the_passphrase(self):
        line = slurp(self.ld.path("enc.key"), False).split(" ")
        line[4] = str(2 << 30)                      # 2 GiB of memory: refused
        p = self.ld.write("huge.key", " ".join(line))
        with self.assertRaisesRegex(KeyFileError, "memory limit"):
            SecretKey.load(p, passphrase_file=self.ld.path("pass.txt"))

    def test_key_file_readable_by_others_warns(self):
        from mlledger.keys import KeyFileWarning
        p = self.ld.write("loose.key", slurp(self.ld.path("ci.key")))
        os.chmod(p, 0o644)
        with self.assertWarnsRegex(KeyFileWarning, "chmod 600"):
            SecretKey.load(p).close()
        os.chmod(p, 0o600)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            SecretKey.load(p).close()
        with self.assertRaises(KeyFileError):
            SecretKey.load(self.ld.dir)

    def test_fifo_is_never_waited_on(self):
        import signal
        fifo = self.ld.path("fifo.key")
        os.mkfifo(fifo)

        def hung(*a):
            raise AssertionError("blocked opening a FIFO")
        old = signal.signal(signal.SIGALRM, hung)
        signal.alarm(5)
        try:
            for load in (lambda: SecretKey.load(fifo),
                         lambda: SecretKey.load(self.ld.path("enc.key"), passphrase_file=fifo),
                         lambda: PublicKey.load(fifo)):
                with self.assertRaisesRegex(KeyFileError, "not a regular file"):
                    load()
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)

    def test_closed_key_is_wiped(self):
        k = SecretKey.load(self.ld.path("ci.key"))
        buf = k._sk
        k.sign(b"x")
        k.close()
        self.assertEqual(bytes(buf), bytes(64))
        with self.assertRaises(KeyFileError):
            k.sign(b"x")


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""An example training pipeline that records into a shared mlledger ledger
through `mlledger serve` (clients/python/README.md).

    python3 pipeline.py --server http://ledger:8420 --key ci.key \
        --log-key ledger.pub --state ~/.cache/mlledger/ledger.state

Every record is signed here (the key never leaves this host), appended by
the server, and comes back with a proof the client has already checked
against the pinned log key: a Receipt in hand means the entry is in the
ledger that key signs for."""

import argparse
import hashlib
import os
import random
import sys

from mlledger import Ledger, LedgerError, RefusedError


def train(data_path, out_dir):
    """Stands in for real training: a deterministic 'model' from the data."""
    os.makedirs(out_dir, exist_ok=True)
    with open(data_path, "rb") as f:
        seed = hashlib.sha256(f.read()).digest()
    with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
        f.write(seed * 64)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        f.write('{"layers": 3, "hidden": 128}\n')
    return {"accuracy": 0.981, "loss": 0.042}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default=os.environ.get("MLLEDGER_SERVER"), required=
                    "MLLEDGER_SERVER" not in os.environ)
    ap.add_argument("--key", required=True, help="this pipeline's secret key (NAME.key)")
    ap.add_argument("--eval-key", help="the validator's key that records the evaluation "
                    "(default: --key)")
    ap.add_argument("--log-key", required=True, help="the ledger's verifier key (LOG.pub)")
    ap.add_argument("--state", help="where to keep the last verified checkpoint")
    ap.add_argument("--workdir", default="work")
    ap.add_argument("--version", default=None, help="model version (default: random)")
    a = ap.parse_args()

    version = a.version or "1.%d" % random.randrange(1 << 30)
    os.makedirs(a.workdir, exist_ok=True)
    data = os.path.join(a.workdir, "train.csv")
    with open(data, "w") as f:
        f.write("feature,label\n0.1,0\n0.9,1\n")

    try:
        with Ledger(a.server, a.key, a.log_key, a.state) as ledger:
            ds = ledger.record_dataset("digits-train", version, data,
                                       uri="file://" + os.path.abspath(data),
                                       properties={"pii": False, "license": "CC-BY-4.0"})
            print("recorded dataset %s at seq %d (%s)" % (ds.subject, ds.seq, ds.digest))

            metrics = train(data, os.path.join(a.workdir, "model"))
            model = ledger.record_model("digits", version, os.path.join(a.workdir, "model"),
                                        trained_on=[ds], metrics=metrics,
                                        properties={"framework": "example"})
            print("recorded model %s at seq %d (%s)" % (model.subject, model.seq, model.digest))

            # an independent validator evaluates: another key, another client
            # (the model's digest comes from the receipt)
            with Ledger(a.server, a.eval_key or a.key, a.log_key, a.state) as validator:
                ev = validator.record_evaluation("digits", version, digest=model.digest,
                                                 metrics={"auc": 0.97, "f1": 0.95},
                                                 dataset=ds)
            print("recorded evaluation of %s at seq %d" % (ev.subject, ev.seq))

            ck = ledger.checkpoint()
            print("ledger %s: %d entries, checkpoint verified and consistent with the last "
                  "one seen" % (ck.origin, ck.size))
    except RefusedError as e:
        print("the ledger refused: %s" % e.message, file=sys.stderr)
        return e.exit_code
    except LedgerError as e:            # a VerificationError: stop, call security
        print("mlledger: %s" % e, file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())

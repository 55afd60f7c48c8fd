#!/usr/bin/python3
"""A client of a failover test (tests/ha/failover.sh): signs COUNT dataset
entries (fewer: it stops STOP_AFTER seconds after STOP_FILE appears, and
writes how many it signed to OUT.names) with KEY and submits each to one of the front-ends URLS (round
robin) until it is acknowledged or DEADLINE passes, retrying the same
envelope after a 503 or a broken connection (so a retry after a failover is
the same bytes, and a held entry must come back as existing).

Every acknowledgement, already verified by the client library (the leaf
rebuilt from the envelope, the inclusion proof, the checkpoint's signature
with the pinned log key, and consistency with the last checkpoint this
client held from that front-end: its state file STATE.N), is appended to OUT as one JSON line:
{"seq", "leaf", "size", "root", "existing", "t"}; t is the time.time()
of the answer.  Exit 0 when every entry was acknowledged, 1 when some were
not by the deadline (their names on stderr), 2 on a verification failure
(a fork: that is a test failure)."""

import argparse
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "clients", "python"))
from mlledger import Ledger  # noqa: E402
from mlledger.errors import LedgerError, VerificationError  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--urls", required=True, help="comma-separated front-end URLs")
    ap.add_argument("--key", required=True)
    ap.add_argument("--log-key", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--deadline", type=float, required=True, help="seconds from now")
    ap.add_argument("--out", required=True)
    ap.add_argument("--stop-file", help="stop STOP_AFTER seconds after this file appears")
    ap.add_argument("--stop-after", type=float, default=1.0)
    a = ap.parse_args()
    urls = a.urls.split(",")
    end = time.monotonic() + a.deadline
    # one state file per front-end: each one's checkpoints must stay
    # consistent across the failover (the test compares front-ends after)
    clients = [Ledger(u, a.key, a.log_key, "%s.%d" % (a.state, n), retries=2, timeout=5.0)
               for n, u in enumerate(urls)]
    missing = []
    names = 0
    with open(a.out, "a", buffering=1) as out:
        for i in range(a.count):
            if a.stop_file and os.path.exists(a.stop_file) and \
                    os.stat(a.stop_file).st_mtime + a.stop_after < time.time():
                break
            names += 1
            name = "%s-%d" % (a.prefix, i)
            digest = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
            env = clients[0].sign("dataset", name, "1", digest=digest)
            k = i
            while True:
                c = clients[k % len(clients)]
                k += 1
                try:
                    r = c.submit(env)
                    break
                except VerificationError as exc:
                    print("ha_client: %s: VERIFICATION FAILED: %s" % (name, exc),
                          file=sys.stderr)
                    return 2
                except LedgerError:
                    if time.monotonic() > end:
                        r = None
                        break
                    time.sleep(0.2)
            if r is None:
                missing.append(name)
                continue
            out.write(json.dumps({"seq": r.seq, "leaf": r.leaf_hash.hex(),
                                  "size": r.checkpoint.size,
                                  "root": r.checkpoint.root.hex(),
                                  "existing": bool(r.existing),
                                  "t": time.time()}) + "\n")
    with open(a.out + ".names", "w") as f:
        f.write("%d\n" % names)
    for c in clients:
        try:
            c.close()            # persists the state: checked for consistency
        except VerificationError as exc:
            print("ha_client: state: VERIFICATION FAILED: %s" % exc, file=sys.stderr)
            return 2
        except LedgerError as exc:
            print("ha_client: closing: %s: %s" % (type(exc).__name__, exc), file=sys.stderr)
            return 1
    if missing:
        print("ha_client: not acknowledged by the deadline: %s" % " ".join(missing[:10]),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""mlledger: a Python client of `mlledger serve` (docs/SERVER.md).

    from mlledger import Ledger
    with Ledger("http://ledger:8420", "ci.key", "ledger.pub", "ledger.state") as l:
        d = l.record_dataset("mnist", "2024-01", path="data/")
        m = l.record_model("digits", "1.0", path="model.onnx", datasets=[d],
                           metrics={"accuracy": 0.98})
        l.record_evaluation("digits", "1.0", metrics={"auc": 0.97})

Standard library plus PyNaCl.  See clients/python/README.md.
"""

from .client import GateResult, Ledger, Receipt, StateFile
from .errors import (ForkError, InputError, KeyFileError, LedgerError, RefusedError,
                     ServerError, VerificationError)
from .keys import PublicKey, SecretKey
from .statement import artifact_digest
from .tlog import Checkpoint, parse_tlog_proof, verify_checkpoint, verify_entry

__version__ = "0.1.0"
__all__ = ["Ledger", "Receipt", "GateResult", "StateFile", "LedgerError", "KeyFileError",
           "InputError", "RefusedError", "ServerError", "VerificationError", "ForkError",
           "PublicKey", "SecretKey", "Checkpoint", "artifact_digest", "parse_tlog_proof",
           "verify_checkpoint", "verify_entry"]

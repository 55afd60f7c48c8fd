"""Exceptions of the mlledger client.

Every failure the client can detect has its own class, so a pipeline can
tell "the server refused my entry" (fix the input) from "the server lied"
(stop and call security) from "the server is away" (retry later).

    LedgerError
    ├── KeyFileError         a key file or passphrase cannot be used
    ├── InputError           bad arguments (the statement would be invalid)
    ├── RefusedError         the server answered 4xx: .status, .message, .exit_code
    ├── ServerError          5xx or the network, after the retries
    └── VerificationError    an answer that does not verify
        └── ForkError        a rollback or fork against the held checkpoint
"""


class LedgerError(Exception):
    """Base class of every error this package raises.  ``exit_code`` is
    the exit code the CLI gives the same failure (docs/SERVER.md)."""

    exit_code = 5


class KeyFileError(LedgerError):
    """A secret or verifier key file is missing, corrupt or locked."""

    exit_code = 6


class InputError(LedgerError, ValueError):
    """An argument that would make an invalid statement."""

    exit_code = 2


class RefusedError(LedgerError):
    """The server refused the request (HTTP 4xx).

    ``status`` is the HTTP status, ``message`` the server's one-line reason
    (the text ``mlledger submit`` prints), ``exit_code`` the CLI exit code
    the status maps to (docs/SERVER.md)."""

    EXIT_CODES = {400: 2, 403: 6, 405: 2, 409: 2, 413: 2}

    def __init__(self, status, message):
        self.status = status
        self.message = message
        self.exit_code = self.EXIT_CODES.get(status, 2)
        if status == 409 and message.startswith("conflict: idempotency key"):
            self.exit_code = 7
        super().__init__("HTTP %d: %s" % (status, message))


class ServerError(LedgerError):
    """The server failed (5xx) or could not be reached, retries exhausted."""

    def __init__(self, message, status=None):
        self.status = status
        super().__init__(message)


class VerificationError(LedgerError):
    """An answer of the server does not verify: a bad signature, origin,
    inclusion or consistency proof.  Never retry blindly: the server (or
    something between) is not telling the truth."""

    exit_code = 4


class ForkError(VerificationError):
    """The server showed a checkpoint that is not an extension of the one
    held in the state file: a smaller tree (rollback), another root at the
    same size, or a consistency proof that fails or that the server cannot
    give (fork).  The CLI exits 4: ``exit_code``."""

    exit_code = 4

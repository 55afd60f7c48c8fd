"""Key files (ledger/FORMAT.md §1): verifier keys, secret keys, key ids.

Secret key material lives only in ``bytearray`` buffers handed to libsodium
through PyNaCl's cffi binding (never in immutable ``bytes`` objects, which
Python cannot wipe), and is overwritten with ``sodium_memzero`` by
``SecretKey.close()`` (also on garbage collection and on every error path
while loading).  Nothing here ever prints or formats a secret.
"""

import base64
import hashlib
import os
import re
import stat
import struct
import warnings

from nacl._sodium import ffi, lib
import nacl.exceptions
import nacl.signing

from .errors import KeyFileError

KEY_TYPE_ED25519 = 0x01
FILE_MAX = 4096            # key files (keys.c FILE_MAX)
TEXT_CAP = 512             # an encoded key line (keys.c TEXT_CAP)
PASS_CAP = 1024            # passphrase buffer, so at most 1023 bytes
ENC_MAGIC = "mlledger-encrypted-key/v1"
ENC_ALG = "argon2id13"
ENC_OPS_MAX = 16
ENC_MEM_MAX = 1 << 30

_KEY_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
_ORIGIN = re.compile(r"[A-Za-z0-9._/:-]{1,128}\Z")
_HEX8 = re.compile(r"[0-9a-f]{8}\Z")


class KeyFileWarning(UserWarning):
    """A secret key file others may read (the CLI warns the same way)."""


def b64decode_strict(text, what="base64"):
    """Standard base64 with padding, canonical (RFC 4648 §4): the only form
    mlledger accepts.  Returns bytes; raises ValueError."""
    if isinstance(text, str):
        text = text.encode("ascii", "strict")
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise ValueError("%s: not base64" % what) from exc
    if base64.b64encode(raw) != text:
        raise ValueError("%s: not canonical base64" % what)
    return raw


_B64 = {c: i for i, c in enumerate(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _b64decode_into(text, out):
    """Decodes canonical base64 ``text`` (bytes-like) into the bytearray
    ``out`` of exactly the decoded length, with no intermediate bytes
    object (for secrets).  Returns False on any deviation."""
    n = len(text)
    if n % 4 or n == 0:
        return False
    pad = 2 if text[-2:] == b"==" else 1 if text[-1:] == b"=" else 0
    if n // 4 * 3 - pad != len(out):
        return False
    acc = 0
    bits = 0
    j = 0
    for i in range(n - pad):
        v = _B64.get(text[i])
        if v is None:
            return False
        acc = ((acc << 6) | v) & 0xFFFFFF
        bits += 6
        if bits >= 8:
            bits -= 8
            out[j] = (acc >> bits) & 0xFF
            j += 1
    ok = (acc & ((1 << bits) - 1)) == 0      # canonical: unused bits zero
    acc = 0
    return ok and j == len(out)


def wipe(buf):
    """Overwrites a bytearray with zeros (sodium_memzero)."""
    if buf is not None and len(buf):
        lib.sodium_memzero(ffi.from_buffer(buf), len(buf))


def key_hash(name, pk, key_type=KEY_TYPE_ED25519):
    """C2SP signed-note key hash: the first 4 bytes of
    SHA-256(name || 0x0A || type || public key), as an int."""
    h = hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + bytes(pk))
    return struct.unpack(">I", h.digest()[:4])[0]


class PublicKey:
    """A C2SP signed-note Ed25519 verifier key: ``name``, ``hash`` (int),
    ``pk`` (32 bytes), ``keyid`` ("name+8hex") and ``line`` (the verifier
    key line without newline)."""

    def __init__(self, name, pk):
        self.name = name
        self.pk = bytes(pk)
        self.hash = key_hash(name, self.pk)
        self.keyid = "%s+%08x" % (name, self.hash)
        self.line = "%s+%s" % (
            self.keyid,
            base64.b64encode(bytes([KEY_TYPE_ED25519]) + self.pk).decode())
        self._vk = nacl.signing.VerifyKey(self.pk)

    @classmethod
    def parse(cls, line, log_key=False):
        """Parses a verifier key line.  ``log_key``: the name is an origin
        (FORMAT.md §1), else an author key name.  Raises KeyFileError."""
        if isinstance(line, bytes):
            try:
                line = line.decode("ascii")
            except UnicodeDecodeError:
                raise KeyFileError("verifier key: not ASCII") from None
        if line.endswith("\n"):
            line = line[:-1]
        parts = line.split("+", 2)
        if len(parts) != 3:
            raise KeyFileError("verifier key: want NAME+HASH+KEY")
        name, hexhash, b64 = parts
        if not (_ORIGIN if log_key else _KEY_NAME).match(name):
            raise KeyFileError("verifier key: bad name %r" % name[:64])
        if not _HEX8.match(hexhash):
            raise KeyFileError("verifier key: key hash is not 8 lowercase hex digits")
        try:
            raw = b64decode_strict(b64, "verifier key")
        except ValueError as exc:
            raise KeyFileError(str(exc)) from None
        if len(raw) != 33 or raw[0] != KEY_TYPE_ED25519:
            raise KeyFileError("verifier key: not an Ed25519 key")
        k = cls(name, raw[1:])
        if "%08x" % k.hash != hexhash:
            raise KeyFileError("verifier key: key hash does not match name and key")
        return k

    @classmethod
    def load(cls, path, log_key=False):
        """Reads a NAME.pub (or the log's LOG.pub) file."""
        data = _read_bounded(path, FILE_MAX)
        try:
            return cls.parse(data, log_key=log_key)
        except KeyFileError as exc:
            raise KeyFileError("%s: %s" % (path, exc)) from None

    def verify(self, message, sig):
        """True when sig is this key's strict Ed25519 signature of message."""
        if len(sig) != 64:
            return False
        try:
            self._vk.verify(bytes(message), bytes(sig))
            return True
        except nacl.exceptions.BadSignatureError:
            return False


def _open_regular(path):
    """Opens path for reading, refusing anything but a regular file before
    reading it (a FIFO is never waited on)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise KeyFileError("%s: not a regular file" % path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_bounded(path, cap):
    try:
        with _open_regular(path) as f:
            data = f.read(cap + 1)
    except OSError as exc:
        raise KeyFileError("%s: %s" % (path, exc.strerror or exc)) from None
    if len(data) > cap:
        raise KeyFileError("%s: larger than %d bytes" % (path, cap))
    return data


def _read_passphrase(passphrase, passphrase_file):
    """The passphrase as a bytearray: the argument, else the first line of
    passphrase_file (or $MLLEDGER_PASSPHRASE_FILE), as the CLI reads it."""
    if passphrase is not None:
        pw = bytearray(passphrase.encode() if isinstance(passphrase, str) else passphrase)
    else:
        path = passphrase_file or os.environ.get("MLLEDGER_PASSPHRASE_FILE")
        if not path:
            return None
        buf = bytearray(4097)
        try:
            with _open_regular(path) as f:
                n = f.readinto(buf)
        except OSError as exc:
            raise KeyFileError("passphrase file: %s: %s" % (path, exc.strerror)) from None
        if n > 4096:
            wipe(buf)
            raise KeyFileError("passphrase file: %s: larger than 4096 bytes" % path)
        end = n
        for i in range(n):
            if buf[i] in (0x0A, 0x0D):
                end = i
                break
        pw = bytearray(buf[:end])
        wipe(buf)
    if len(pw) == 0 or len(pw) >= PASS_CAP or 0 in pw:
        wipe(pw)
        raise KeyFileError("passphrase is empty or longer than %d bytes" % (PASS_CAP - 1))
    return pw


class SecretKey:
    """An Ed25519 signing key read from an mlledger secret key file.

    ``public`` is its PublicKey.  The 64-byte libsodium secret key is held
    in a bytearray and wiped by ``close()`` (idempotent; also a context
    manager and run on garbage collection)."""

    def __init__(self, name, seed):
        """seed: a 32-byte bytearray; it is copied and the caller wipes it."""
        self._sk = bytearray(64)
        pk = bytearray(32)
        rc = lib.crypto_sign_seed_keypair(ffi.from_buffer(pk), ffi.from_buffer(self._sk),
                                          ffi.from_buffer(seed))
        if rc != 0:
            wipe(self._sk)
            raise KeyFileError("cannot derive the key pair")
        self.public = PublicKey(name, bytes(pk))

    @classmethod
    def load(cls, path, passphrase=None, passphrase_file=None):
        """Reads NAME.key: the unencrypted ``PRIVATE+KEY+...`` line or an
        ``mlledger-encrypted-key/v1`` line (Argon2id + XChaCha20-Poly1305,
        FORMAT.md §1), which needs ``passphrase`` (str or bytes) or
        ``passphrase_file`` (else $MLLEDGER_PASSPHRASE_FILE).  Raises
        KeyFileError naming the file; never includes key bytes in a message."""
        buf = bytearray(FILE_MAX + 1)
        try:
            with _open_regular(path) as f:
                mode = os.fstat(f.fileno()).st_mode
                n = f.readinto(buf)
        except OSError as exc:
            raise KeyFileError("%s: %s" % (path, exc.strerror or exc)) from None
        try:
            if n > FILE_MAX:
                raise KeyFileError("%s: larger than %d bytes" % (path, FILE_MAX))
            if n and buf[n - 1] == 0x0A:
                n -= 1
            if n == 0:
                raise KeyFileError("%s: empty key file" % path)
            line = memoryview(buf)[:n]
            if n >= TEXT_CAP or 0x0A in line or 0 in line:
                raise KeyFileError("%s: corrupt key file (want exactly one line)" % path)
            if mode & 0o077:
                # used anyway, as the CLI does, but never silently
                warnings.warn("%s is readable by %s (mode %04o): run 'chmod 600 %s'"
                              % (path, "everyone" if mode & 0o007 else "its group",
                                 mode & 0o7777, path), KeyFileWarning, stacklevel=3)
            if bytes(line[:len(ENC_MAGIC)]) == ENC_MAGIC.encode():
                return cls._load_encrypted(path, bytes(line), passphrase, passphrase_file)
            return cls._load_plain(path, line)
        finally:
            wipe(buf)

    @classmethod
    def _load_plain(cls, path, line):
        prefix = b"PRIVATE+KEY+"
        if bytes(line[:len(prefix)]) != prefix:
            raise KeyFileError("%s: not a key file (want a PRIVATE+KEY+ line or an "
                               "mlledger encrypted key)" % path)
        if any(c <= 0x20 or c >= 0x7F for c in line):
            raise KeyFileError("%s: corrupt key file (whitespace or control characters)"
                               % path)
        rest = line[len(prefix):]
        # name and hash are public: split at the first two '+'
        p1 = bytes(rest).find(b"+")  # the name holds no '+'
        p2 = bytes(rest).find(b"+", p1 + 1) if p1 >= 0 else -1
        if p1 <= 0 or p2 < 0:
            raise KeyFileError("%s: corrupt key file (want NAME+HASH+KEY)" % path)
        name = bytes(rest[:p1]).decode()
        hexhash = bytes(rest[p1 + 1:p2]).decode()
        if not _KEY_NAME.match(name) and not _ORIGIN.match(name):
            raise KeyFileError("%s: corrupt key file (bad key name)" % path)
        if not _HEX8.match(hexhash):
            raise KeyFileError("%s: corrupt key file (bad key hash)" % path)
        raw = bytearray(33)
        try:
            if not _b64decode_into(rest[p2 + 1:], raw):
                raise KeyFileError("%s: corrupt key file (bad base64 key)" % path)
            if raw[0] != KEY_TYPE_ED25519:
                raise KeyFileError("%s: corrupt key file (unknown key type, want "
                                   "Ed25519)" % path)
            seed = bytearray(memoryview(raw)[1:])
            try:
                k = cls(name, seed)
            finally:
                wipe(seed)
        finally:
            wipe(raw)
        if "%08x" % k.public.hash != hexhash:
            k.close()
            raise KeyFileError("%s: corrupt key file (key hash does not match name "
                               "and key)" % path)
        return k

    @classmethod
    def _load_encrypted(cls, path, line, passphrase, passphrase_file):
        # the encrypted line holds no secret in the clear: plain text is fine
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            raise KeyFileError("%s: corrupt key file (control or non-ASCII "
                               "characters)" % path) from None
        if any(ord(c) < 0x20 or ord(c) >= 0x7F for c in text):
            raise KeyFileError("%s: corrupt key file (control or non-ASCII "
                               "characters)" % path)
        f = text.split(" ")
        if len(f) != 8 or any(x == "" for x in f):
            raise KeyFileError("%s: corrupt key file (want 8 fields separated by single "
                               "spaces)" % path)
        if f[0] != ENC_MAGIC:
            raise KeyFileError("%s: unsupported encrypted key format (want %s)"
                               % (path, ENC_MAGIC))
        keyid = f[1]
        name, _, hexhash = keyid.rpartition("+")
        if not (_KEY_NAME.match(name) or _ORIGIN.match(name)) or not _HEX8.match(hexhash):
            raise KeyFileError("%s: corrupt key file (bad key id)" % path)
        if f[2] != ENC_ALG:
            raise KeyFileError("%s: unsupported key derivation (want %s)" % (path, ENC_ALG))
        ops_min = lib.crypto_pwhash_argon2id_opslimit_min()
        mem_min = lib.crypto_pwhash_argon2id_memlimit_min()
        if not f[3].isdigit() or not ops_min <= int(f[3]) <= ENC_OPS_MAX:
            raise KeyFileError("%s: corrupt key file (Argon2id operations limit outside "
                               "%d..%d)" % (path, ops_min, ENC_OPS_MAX))
        if not f[4].isdigit() or not mem_min <= int(f[4]) <= ENC_MEM_MAX:
            raise KeyFileError("%s: corrupt key file (Argon2id memory limit outside "
                               "%d..%d bytes)" % (path, mem_min, ENC_MEM_MAX))
        ops, mem = int(f[3]), int(f[4])
        try:
            salt = b64decode_strict(f[5])
            nonce = b64decode_strict(f[6])
            ct = b64decode_strict(f[7])
        except ValueError:
            salt = nonce = ct = b""
        if len(salt) != 16 or len(nonce) != 24 or len(ct) != 48:
            raise KeyFileError("%s: corrupt key file (bad salt, nonce or ciphertext)"
                               % path)
        pw = _read_passphrase(passphrase, passphrase_file)
        if pw is None:
            raise KeyFileError("%s: key is encrypted; give a passphrase (passphrase= or "
                               "passphrase_file=, or MLLEDGER_PASSPHRASE_FILE)" % path)
        kek = bytearray(32)
        seed = bytearray(32)
        try:
            rc = lib.crypto_pwhash(ffi.from_buffer(kek), len(kek), ffi.from_buffer(pw),
                                   len(pw), salt, ops, mem,
                                   lib.crypto_pwhash_alg_argon2id13())
            wipe(pw)
            if rc != 0:
                raise KeyFileError("%s: out of memory deriving the key encryption key"
                                   % path)
            ad = keyid.encode()
            rc = lib.crypto_aead_xchacha20poly1305_ietf_decrypt(
                ffi.from_buffer(seed), ffi.NULL, ffi.NULL, ct, len(ct), ad, len(ad),
                nonce, ffi.from_buffer(kek))
            if rc != 0:
                raise KeyFileError("%s: wrong passphrase or corrupt key file" % path)
            k = cls(name, seed)
        finally:
            wipe(pw)
            wipe(kek)
            wipe(seed)
        if "%08x" % k.public.hash != hexhash:
            k.close()
            raise KeyFileError("%s: corrupt key file (key hash does not match name and "
                               "key)" % path)
        return k

    def sign(self, message):
        """The 64-byte Ed25519 signature of message (bytes)."""
        if self._sk is None:
            raise KeyFileError("the secret key was closed")
        message = bytes(message)
        sm = ffi.new("unsigned char[]", len(message) + 64)
        smlen = ffi.new("unsigned long long *")
        rc = lib.crypto_sign(sm, smlen, message, len(message), ffi.from_buffer(self._sk))
        if rc != 0:
            raise KeyFileError("signing failed")
        return bytes(ffi.buffer(sm, 64))

    def close(self):
        """Wipes the secret key; the object can no longer sign."""
        if getattr(self, "_sk", None) is not None:
            wipe(self._sk)
            self._sk = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def __repr__(self):
        return "<SecretKey %s>" % self.public.keyid

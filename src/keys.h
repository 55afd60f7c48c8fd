/* keys — Ed25519 key pairs, key files, C2SP signed-note verifier keys.
 *
 * Secret keys live in sodium_malloc'd memory, are wiped when freed, and are
 * never formatted into messages.  May call util and libsodium only.
 *
 * Files (byte-exact description in ledger/FORMAT.md, "Keys"):
 *   NAME.pub  one line: the C2SP signed-note verifier key
 *             NAME+<8 hex key hash>+<base64(0x01 || 32-byte public key)>
 *   NAME.key  unencrypted: the golang.org/x/mod/sumdb/note signer key line
 *             PRIVATE+KEY+NAME+<8 hex>+<base64(0x01 || 32-byte seed)>
 *             encrypted: one line
 *             mlledger-encrypted-key/v1 NAME+<8 hex> argon2id13 OPS MEM
 *                 <b64 salt(16)> <b64 nonce(24)> <b64 ct(48)>
 *             where ct = XChaCha20-Poly1305-IETF(seed, ad = "NAME+HASH",
 *             key = Argon2id13(passphrase, salt, OPS, MEM)).
 */
#ifndef ML_KEYS_H
#define ML_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ML_KEY_NAME_MAX 128  /* bytes, C2SP names are bounded by us */
#define ML_PUBKEY_LEN 32
#define ML_SIG_LEN 64
#define ML_VKEY_MAX (ML_KEY_NAME_MAX + 64) /* verifier key line incl. NUL */
#define ML_KEYID_MAX (ML_KEY_NAME_MAX + 10) /* "NAME+hhhhhhhh" incl. NUL */

/* A public key with its C2SP name and key hash.  A plain value. */
struct ml_pubkey {
	char name[ML_KEY_NAME_MAX + 1];
	uint32_t hash;                /* first 4 bytes of SHA-256(name\n 0x01 pk) */
	uint8_t pk[ML_PUBKEY_LEN];
};

struct ml_seckey; /* opaque; secret bytes in sodium_malloc memory */

/* Supplies a passphrase for an encrypted key.  Writes a NUL-terminated
 * passphrase into buf (cap bytes, sodium_malloc'd by the caller) and returns
 * ML_OK, or an ML_E* code (ML_EKEY) when none can be had.  `path` names the
 * key file. */
typedef int (*ml_passphrase_fn)(void *ctx, const char *path, char *buf, size_t cap);

/* True when name is a valid C2SP key name: non-empty, at most
 * ML_KEY_NAME_MAX bytes, printable ASCII without '+' or space. */
bool ml_key_name_valid(const char *name);
/* Stricter rule for names mlledger creates: [A-Za-z0-9._-], 1..64 bytes. */
bool ml_key_name_simple(const char *name);

/* C2SP key hash: first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || pk). */
uint32_t ml_key_hash(const char *name, const uint8_t pk[ML_PUBKEY_LEN]);

/* Parses a verifier key line (no trailing newline; a single trailing '\n' is
 * tolerated by ml_pubkey_load).  Checks the hash.  ML_EINPUT on error. */
int ml_pubkey_parse(const char *s, size_t len, struct ml_pubkey *out, struct ml_err *e);
/* The same without the (costly) prime-order subgroup check, for keys read
 * back from a ledger, whose enrolment already passed ml_pubkey_parse.
 * Ed25519 verification still refuses small-order keys. */
int ml_pubkey_parse_recorded(const char *s, size_t len, struct ml_pubkey *out,
			     struct ml_err *e);
/* Writes the verifier key line (NUL-terminated) into buf[ML_VKEY_MAX]. */
void ml_pubkey_format(const struct ml_pubkey *k, char buf[ML_VKEY_MAX]);
/* Writes "NAME+hhhhhhhh" (the DSSE keyid) into buf[ML_KEYID_MAX]. */
void ml_pubkey_keyid(const struct ml_pubkey *k, char buf[ML_KEYID_MAX]);
/* Reads a NAME.pub file (at most 4 KiB).  Errors name the path. */
int ml_pubkey_load(const char *path, struct ml_pubkey *out, struct ml_err *e);
/* Ed25519 verification (libsodium, strict).  True when valid, else false. */
bool ml_pubkey_verify(const struct ml_pubkey *k, const uint8_t *msg, size_t len,
		      const uint8_t sig[ML_SIG_LEN]);

/* Makes a new random key pair.  *out is owned by the caller
 * (ml_seckey_free).  ML_EINPUT for a bad name, ML_EIO when out of memory. */
int ml_seckey_generate(const char *name, struct ml_seckey **out, struct ml_err *e);
/* Builds a key from a 32-byte seed (tests and vectors). */
int ml_seckey_from_seed(const char *name, const uint8_t seed[32],
			struct ml_seckey **out, struct ml_err *e);
/* Wipes and frees; NULL is fine. */
void ml_seckey_free(struct ml_seckey *k);
/* The public half; valid while k lives. */
const struct ml_pubkey *ml_seckey_public(const struct ml_seckey *k);
/* Ed25519 signature of msg. */
void ml_seckey_sign(const struct ml_seckey *k, const uint8_t *msg, size_t len,
		    uint8_t sig[ML_SIG_LEN]);

/* Writes DIR/NAME.key (0600, O_EXCL unless force) and DIR/NAME.pub (0644).
 * passphrase NULL writes the unencrypted form.  On failure nothing is left
 * behind.  Errors name the path; ML_EINPUT when the file exists. */
int ml_seckey_save(const struct ml_seckey *k, const char *dir, const char *passphrase,
		   int force, struct ml_err *e);
/* Encodes the key file text (NUL-terminated, sodium_malloc'd: free with
 * sodium_free).  Used by ml_seckey_save and tests. */
int ml_seckey_encode(const struct ml_seckey *k, const char *passphrase, char **out,
		     struct ml_err *e);
/* The same with explicit Argon2id limits (crypto_pwhash ops and memory
 * bytes; within what readers accept: ops <= 16, mem <= 1 GiB), for tests
 * and tools that must write the older "interactive" files.  ML_EINPUT when
 * out of range. */
int ml_seckey_encode_kdf(const struct ml_seckey *k, const char *passphrase,
			 unsigned long long ops, size_t mem, char **out, struct ml_err *e);
/* Parses key file text.  For an encrypted key, calls pass(ctx, path, ...) for
 * the passphrase (pass may be NULL: then ML_EKEY "passphrase needed").
 * ML_EKEY on a corrupt file or a wrong passphrase, never naming secrets. */
int ml_seckey_decode(const char *text, size_t len, const char *path,
		     ml_passphrase_fn pass, void *ctx, struct ml_seckey **out,
		     struct ml_err *e);
/* Reads a key file (at most 4 KiB) and decodes it.  A group- or
 * world-readable file is not refused here; the CLI warns about it. */
int ml_seckey_load(const char *path, ml_passphrase_fn pass, void *ctx,
		   struct ml_seckey **out, struct ml_err *e);
/* True when the file's text is an encrypted key. */
bool ml_seckey_text_encrypted(const char *text, size_t len);
/* True when text (the first bytes of a file are enough) starts like a secret
 * key file, plain or encrypted: what outputs must never replace. */
bool ml_seckey_text_like(const char *text, size_t len);

#endif

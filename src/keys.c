/* keys — see keys.h.
 *
 * Secret material (the libsodium secret key, the seed, passphrases, derived
 * keys and any text that encodes them) only ever sits in sodium_malloc'd
 * memory, which sodium_free wipes.  Base64 of secrets goes through
 * libsodium's constant-time codec straight into that memory.
 */
#include "keys.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#define KEY_TYPE_ED25519 0x01
#define SEED_LEN crypto_sign_SEEDBYTES
#define RAW_LEN (1 + ML_PUBKEY_LEN)        /* type byte || key or seed */
#define RAW_B64_LEN 44                     /* base64 of RAW_LEN bytes */
#define FILE_MAX 4096                      /* key and verifier key files */
#define PASS_CAP 1024                      /* passphrase buffer */
#define SIGNER_PREFIX "PRIVATE+KEY+"
#define ENC_MAGIC "mlledger-encrypted-key/v1"
#define ENC_FAMILY "mlledger-encrypted-key/"
#define ENC_ALG "argon2id13"
#define ENC_SALT_LEN crypto_pwhash_SALTBYTES
#define ENC_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define ENC_CT_LEN (SEED_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define ENC_OPS_MAX 16ULL
#define ENC_MEM_MAX (1024ULL * 1024 * 1024)
#define TEXT_CAP 512                       /* encoded key file text */

struct ml_seckey {
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t seed[SEED_LEN];
	struct ml_pubkey pub;
};

/* Scratch space for encoding and decoding key files.  One sodium_malloc'd
 * block so that a single sodium_free wipes every temporary secret. */
struct scratch {
	uint8_t raw[RAW_LEN];                  /* 0x01 || seed */
	uint8_t seed[SEED_LEN];
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t salt[ENC_SALT_LEN];
	uint8_t nonce[ENC_NONCE_LEN];
	uint8_t ct[ENC_CT_LEN];
	char b64[128];
	char line[TEXT_CAP];                   /* copy of the key file line */
};

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ready;

static void
sodium_setup(void)
{
	sodium_ready = sodium_init() >= 0;
}

/* ML_OK once libsodium is usable, else ML_EIO (e set). */
static enum ml_rc
need_sodium(struct ml_err *e)
{
	pthread_once(&sodium_once, sodium_setup);
	if (sodium_ready)
		return ML_OK;
	ml_err_set(e, ML_EIO, "libsodium failed to initialise");
	return ML_EIO;
}

bool
ml_key_name_valid(const char *name)
{
	size_t i;

	if (!name || !name[0])
		return false;
	for (i = 0; name[i]; i++) {
		unsigned char c = (unsigned char)name[i];
		if (i >= ML_KEY_NAME_MAX || c <= 0x20 || c >= 0x7f || c == '+')
			return false;
	}
	return true;
}

bool
ml_key_name_simple(const char *name)
{
	size_t i;

	if (!name || !name[0])
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];
		if (i >= 64)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

uint32_t
ml_key_hash(const char *name, const uint8_t pk[ML_PUBKEY_LEN])
{
	uint8_t buf[ML_KEY_NAME_MAX + 2 + ML_PUBKEY_LEN], md[ML_SHA256_LEN];
	size_t n = strlen(name);

	if (n > ML_KEY_NAME_MAX) {
		/* Not a valid name, but hash it faithfully anyway. */
		crypto_hash_sha256_state st;
		static const uint8_t sep[2] = {'\n', KEY_TYPE_ED25519};
		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, (const uint8_t *)name, n);
		crypto_hash_sha256_update(&st, sep, sizeof sep);
		crypto_hash_sha256_update(&st, pk, ML_PUBKEY_LEN);
		crypto_hash_sha256_final(&st, md);
		return ml_get_be32(md);
	}
	memcpy(buf, name, n);
	buf[n] = '\n';
	buf[n + 1] = KEY_TYPE_ED25519;
	memcpy(buf + n + 2, pk, ML_PUBKEY_LEN);
	ml_sha256(buf, n + 2 + ML_PUBKEY_LEN, md);
	return ml_get_be32(md);
}

/* Strict standard base64 with padding into out[0..max); *outlen gets the
 * decoded length.  ML_OK or ML_EINPUT. */
static enum ml_rc
b64_decode(const char *in, size_t inlen, uint8_t *out, size_t max, size_t *outlen)
{
	*outlen = 0;
	if (sodium_base642bin(out, max, in, inlen, NULL, outlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return ML_EINPUT;
	return ML_OK;
}

/* Parses exactly 8 lowercase hex digits. */
static enum ml_rc
parse_hash(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	if (len != 8)
		return ML_EINPUT;
	for (i = 0; i < 8; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else
			return ML_EINPUT;
	}
	*out = v;
	return ML_OK;
}

/* Parses "NAME+HASH" (the keyid): split at the first '+', name a valid C2SP
 * key name copied NUL-terminated into name[ML_KEY_NAME_MAX + 1], HASH 8
 * lowercase hex digits.  ML_OK, or ML_EINPUT with *why set to a static
 * phrase. */
static enum ml_rc
parse_keyid(const char *s, size_t len, char *name, uint32_t *hash, const char **why)
{
	const char *p = memchr(s, '+', len);
	size_t nlen;

	if (!p) {
		*why = "missing '+' separator";
		return ML_EINPUT;
	}
	nlen = (size_t)(p - s);
	if (nlen == 0 || nlen > ML_KEY_NAME_MAX) {
		*why = nlen ? "key name too long" : "empty key name";
		return ML_EINPUT;
	}
	memcpy(name, s, nlen);
	name[nlen] = '\0';
	if (!ml_key_name_valid(name)) {
		*why = "invalid key name";
		return ML_EINPUT;
	}
	if (parse_hash(p + 1, len - nlen - 1, hash) != 0) {
		*why = "key hash is not 8 lowercase hex digits";
		return ML_EINPUT;
	}
	return ML_OK;
}

/* Splits "NAME+HASH+REST" at its first two '+' (REST is base64, which may
 * itself hold '+').  See parse_keyid. */
static enum ml_rc
split_key(const char *s, size_t len, char *name, uint32_t *hash, const char **rest,
	  size_t *restlen, const char **why)
{
	const char *p1 = memchr(s, '+', len), *p2;

	if (!p1) {
		*why = "missing '+' separators";
		return ML_EINPUT;
	}
	p2 = memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - s));
	if (!p2) {
		*why = "missing second '+' separator";
		return ML_EINPUT;
	}
	if (parse_keyid(s, (size_t)(p2 - s), name, hash, why) != 0)
		return ML_EINPUT;
	*rest = p2 + 1;
	*restlen = len - (size_t)(p2 + 1 - s);
	return ML_OK;
}

/* True when every byte is printable ASCII, space included. */
static int
all_printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* True when every byte is printable ASCII other than space. */
static int
all_graphic(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static int
pubkey_parse(const char *s, size_t len, int check_point, struct ml_pubkey *out,
	     struct ml_err *e)
{
	struct ml_pubkey k;
	uint8_t raw[ML_VKEY_MAX];
	const char *rest, *why;
	size_t restlen, rawlen;

	if (need_sodium(e) != 0)
		return ML_EIO;
	if (len >= ML_VKEY_MAX)
		return ml_err_set(e, ML_EINPUT, "verifier key: longer than %d bytes",
				  ML_VKEY_MAX - 1);
	if (!all_graphic(s, len))
		return ml_err_set(e, ML_EINPUT,
				  "verifier key: contains whitespace, control or "
				  "non-ASCII characters");
	memset(&k, 0, sizeof k);
	if (split_key(s, len, k.name, &k.hash, &rest, &restlen, &why) != 0)
		return ml_err_set(e, ML_EINPUT, "verifier key: %s", why);
	if (b64_decode(rest, restlen, raw, sizeof raw, &rawlen) != 0)
		return ml_err_set(e, ML_EINPUT, "verifier key: bad base64 key");
	if (rawlen != RAW_LEN)
		return ml_err_set(e, ML_EINPUT,
				  "verifier key: key is %zu bytes, want %d", rawlen,
				  RAW_LEN);
	if (raw[0] != KEY_TYPE_ED25519)
		return ml_err_set(e, ML_EINPUT,
				  "verifier key: unknown key type 0x%02x (want 0x01, "
				  "Ed25519)", raw[0]);
	memcpy(k.pk, raw + 1, ML_PUBKEY_LEN);
	if (ml_key_hash(k.name, k.pk) != k.hash)
		return ml_err_set(e, ML_EINPUT,
				  "verifier key: key hash does not match name and key");
	/* Canonical, in the prime-order subgroup: no key made by a real
	 * Ed25519 key generator fails this, and weak keys cannot sneak in. */
	if (check_point && !crypto_core_ed25519_is_valid_point(k.pk))
		return ml_err_set(e, ML_EINPUT,
				  "verifier key: not a valid Ed25519 public key");
	*out = k;
	return ML_OK;
}

int
ml_pubkey_parse(const char *s, size_t len, struct ml_pubkey *out, struct ml_err *e)
{
	return pubkey_parse(s, len, 1, out, e);
}

int
ml_pubkey_parse_recorded(const char *s, size_t len, struct ml_pubkey *out,
			 struct ml_err *e)
{
	return pubkey_parse(s, len, 0, out, e);
}

void
ml_pubkey_format(const struct ml_pubkey *k, char buf[ML_VKEY_MAX])
{
	uint8_t raw[RAW_LEN];
	char b64[RAW_B64_LEN + 1];

	raw[0] = KEY_TYPE_ED25519;
	memcpy(raw + 1, k->pk, ML_PUBKEY_LEN);
	sodium_bin2base64(b64, sizeof b64, raw, sizeof raw,
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(buf, ML_VKEY_MAX, "%s+%08x+%s", k->name, (unsigned)k->hash, b64);
}

void
ml_pubkey_keyid(const struct ml_pubkey *k, char buf[ML_KEYID_MAX])
{
	snprintf(buf, ML_KEYID_MAX, "%s+%08x", k->name, (unsigned)k->hash);
}

int
ml_pubkey_load(const char *path, struct ml_pubkey *out, struct ml_err *e)
{
	struct ml_err pe;
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = ml_read_file(path, FILE_MAX, &text, &len, e);
	if (rc != ML_OK)
		return rc;
	if (len && text[len - 1] == '\n')
		len--;
	ml_err_clear(&pe);
	rc = ml_pubkey_parse(text, len, out, &pe);
	if (rc != ML_OK)
		ml_err_set(e, rc, "%s: %s", path, pe.msg);
	free(text);
	return rc;
}

bool
ml_pubkey_verify(const struct ml_pubkey *k, const uint8_t *msg, size_t len,
		 const uint8_t sig[ML_SIG_LEN])
{
	static const uint8_t empty[1];

	if (need_sodium(NULL) != 0)
		return false;
	return crypto_sign_verify_detached(sig, msg ? msg : empty, len, k->pk) == 0;
}

/* Allocates a key from a seed without checking the name beyond its length.
 * The returned memory is read-only until ml_seckey_free. */
static int
seckey_make(const char *name, const uint8_t seed[SEED_LEN], struct ml_seckey **out,
	    struct ml_err *e)
{
	struct ml_seckey *k;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];

	if (need_sodium(e) != 0)
		return ML_EIO;
	k = sodium_malloc(sizeof *k);
	if (!k)
		return ml_err_set(e, ML_EIO, "out of memory for a secret key");
	memset(k, 0, sizeof *k);
	memcpy(k->seed, seed, SEED_LEN);
	crypto_sign_seed_keypair(pk, k->sk, k->seed);
	snprintf(k->pub.name, sizeof k->pub.name, "%s", name);
	memcpy(k->pub.pk, pk, ML_PUBKEY_LEN);
	k->pub.hash = ml_key_hash(k->pub.name, k->pub.pk);
	sodium_mprotect_readonly(k);
	*out = k;
	return ML_OK;
}

int
ml_seckey_generate(const char *name, struct ml_seckey **out, struct ml_err *e)
{
	uint8_t *seed;
	int rc;

	if (need_sodium(e) != 0)
		return ML_EIO;
	if (!ml_key_name_simple(name))
		return ml_err_set(e, ML_EINPUT,
				  "key name must be 1 to 64 of A-Z a-z 0-9 . _ -");
	seed = sodium_malloc(SEED_LEN);
	if (!seed)
		return ml_err_set(e, ML_EIO, "out of memory for a secret key");
	randombytes_buf(seed, SEED_LEN);
	rc = seckey_make(name, seed, out, e);
	sodium_free(seed);
	return rc;
}

int
ml_seckey_from_seed(const char *name, const uint8_t seed[32], struct ml_seckey **out,
		    struct ml_err *e)
{
	if (!ml_key_name_valid(name))
		return ml_err_set(e, ML_EINPUT,
				  "invalid key name: want 1 to %d printable ASCII "
				  "characters without '+' or space", ML_KEY_NAME_MAX);
	return seckey_make(name, seed, out, e);
}

void
ml_seckey_free(struct ml_seckey *k)
{
	if (k)
		sodium_free(k); /* wipes, and accepts read-only memory */
}

const struct ml_pubkey *
ml_seckey_public(const struct ml_seckey *k)
{
	return &k->pub;
}

void
ml_seckey_sign(const struct ml_seckey *k, const uint8_t *msg, size_t len,
	       uint8_t sig[ML_SIG_LEN])
{
	static const uint8_t empty[1];

	crypto_sign_detached(sig, NULL, msg ? msg : empty, len, k->sk);
}

/* Writes the key file text into a sodium_malloc'd buffer.  New encrypted
 * files use Argon2id's "moderate" limits (256 MiB, 3 passes: about half a
 * second here); files written with the older "interactive" limits still
 * open, since readers take the limits from the file. */
int
ml_seckey_encode(const struct ml_seckey *k, const char *passphrase, char **out,
		 struct ml_err *e)
{
	return ml_seckey_encode_kdf(k, passphrase, crypto_pwhash_OPSLIMIT_MODERATE,
				    crypto_pwhash_MEMLIMIT_MODERATE, out, e);
}

int
ml_seckey_encode_kdf(const struct ml_seckey *k, const char *passphrase,
		     unsigned long long ops, size_t mem, char **out, struct ml_err *e)
{
	struct scratch *s = NULL;
	char *text = NULL, keyid[ML_KEYID_MAX];
	char salt64[64], nonce64[64];
	int rc = ML_OK, n;

	if (need_sodium(e) != 0)
		return ML_EIO;
	if (passphrase && !passphrase[0])
		return ml_err_set(e, ML_EINPUT, "empty passphrase");
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > ENC_OPS_MAX ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > ENC_MEM_MAX)
		return ml_err_set(e, ML_EINPUT, "Argon2id limits out of range");
	s = sodium_malloc(sizeof *s);
	text = sodium_malloc(TEXT_CAP);
	if (!s || !text) {
		rc = ml_err_set(e, ML_EIO, "out of memory encoding a secret key");
		goto out;
	}
	ml_pubkey_keyid(&k->pub, keyid);
	if (!passphrase) {
		s->raw[0] = KEY_TYPE_ED25519;
		memcpy(s->raw + 1, k->seed, SEED_LEN);
		sodium_bin2base64(s->b64, sizeof s->b64, s->raw, RAW_LEN,
				  sodium_base64_VARIANT_ORIGINAL);
		n = snprintf(text, TEXT_CAP, SIGNER_PREFIX "%s+%s\n", keyid, s->b64);
	} else {
		randombytes_buf(s->salt, sizeof s->salt);
		randombytes_buf(s->nonce, sizeof s->nonce);
		if (crypto_pwhash(s->key, sizeof s->key, passphrase, strlen(passphrase),
				  s->salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
			rc = ml_err_set(e, ML_EIO,
					"out of memory deriving the key encryption key");
			goto out;
		}
		crypto_aead_xchacha20poly1305_ietf_encrypt(
			s->ct, NULL, k->seed, SEED_LEN, (const uint8_t *)keyid,
			strlen(keyid), NULL, s->nonce, s->key);
		sodium_bin2base64(salt64, sizeof salt64, s->salt, sizeof s->salt,
				  sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2base64(nonce64, sizeof nonce64, s->nonce, sizeof s->nonce,
				  sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2base64(s->b64, sizeof s->b64, s->ct, sizeof s->ct,
				  sodium_base64_VARIANT_ORIGINAL);
		n = snprintf(text, TEXT_CAP, ENC_MAGIC " %s " ENC_ALG " %llu %zu %s %s %s\n",
			     keyid, ops, mem, salt64, nonce64, s->b64);
	}
	if (n < 0 || n >= TEXT_CAP) {
		rc = ml_err_set(e, ML_EIO, "internal error: key file text too long");
		goto out;
	}
	*out = text;
	text = NULL;
out:
	sodium_free(text);
	sodium_free(s);
	return rc;
}

bool
ml_seckey_text_encrypted(const char *text, size_t len)
{
	size_t n = strlen(ENC_FAMILY);

	return len >= n && memcmp(text, ENC_FAMILY, n) == 0;
}

bool
ml_seckey_text_like(const char *text, size_t len)
{
	size_t n = strlen(SIGNER_PREFIX);

	return ml_seckey_text_encrypted(text, len) ||
	       (len >= n && memcmp(text, SIGNER_PREFIX, n) == 0);
}

/* Parses a decimal number of 1 to 20 digits without sign or leading zeros. */
static enum ml_rc
parse_u64(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return ML_EINPUT;
	for (i = 0; i < len; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9')
			return ML_EINPUT;
		d = (unsigned)(s[i] - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return ML_EINPUT;
		v = v * 10 + d;
	}
	*out = v;
	return ML_OK;
}

/* Decodes the unencrypted signer key line (no newline) in s->line. */
static int
decode_plain(struct scratch *s, size_t len, const char *path, struct ml_seckey **out,
	     struct ml_err *e)
{
	const size_t plen = strlen(SIGNER_PREFIX);
	char name[ML_KEY_NAME_MAX + 1];
	const char *rest, *why;
	size_t restlen, rawlen;
	uint32_t hash;
	struct ml_seckey *k = NULL;
	int rc;

	if (len < plen || memcmp(s->line, SIGNER_PREFIX, plen) != 0)
		return ml_err_set(e, ML_EKEY,
				  "%s: not a key file (want a PRIVATE+KEY+ line or an "
				  "mlledger encrypted key)", path);
	if (!all_graphic(s->line, len))
		return ml_err_set(e, ML_EKEY,
				  "%s: corrupt key file (whitespace or control "
				  "characters)", path);
	if (split_key(s->line + plen, len - plen, name, &hash, &rest, &restlen,
		      &why) != 0)
		return ml_err_set(e, ML_EKEY, "%s: corrupt key file (%s)", path, why);
	if (b64_decode(rest, restlen, s->raw, sizeof s->raw, &rawlen) != 0 ||
	    rawlen != RAW_LEN)
		return ml_err_set(e, ML_EKEY, "%s: corrupt key file (bad base64 key)",
				  path);
	if (s->raw[0] != KEY_TYPE_ED25519)
		return ml_err_set(e, ML_EKEY,
				  "%s: corrupt key file (unknown key type, want "
				  "Ed25519)", path);
	rc = seckey_make(name, s->raw + 1, &k, e);
	if (rc != ML_OK)
		return rc;
	if (k->pub.hash != hash) {
		ml_seckey_free(k);
		return ml_err_set(e, ML_EKEY,
				  "%s: corrupt key file (key hash does not match name "
				  "and key)", path);
	}
	*out = k;
	return ML_OK;
}

/* Splits s->line[0..len) at single spaces into exactly n fields. */
static enum ml_rc
split_fields(const char *line, size_t len, const char **f, size_t *flen, size_t n)
{
	size_t i = 0, start = 0, pos;

	for (pos = 0; pos <= len; pos++) {
		if (pos < len && line[pos] != ' ')
			continue;
		if (i == n || pos == start)
			return ML_EINPUT;
		f[i] = line + start;
		flen[i] = pos - start;
		i++;
		start = pos + 1;
	}
	return i == n ? ML_OK : ML_EINPUT;
}

/* Decodes the encrypted key line (no newline) in s->line.  Everything is
 * checked before the passphrase is asked for, and the Argon2id limits are
 * bounded so that a hostile file cannot make us allocate without limit. */
static int
decode_encrypted(struct scratch *s, size_t len, const char *path, ml_passphrase_fn pass,
		 void *ctx, struct ml_seckey **out, struct ml_err *e)
{
	const char *f[8], *why;
	size_t fl[8], saltlen, noncelen, ctlen, plen;
	char name[ML_KEY_NAME_MAX + 1], keyid[ML_KEYID_MAX];
	unsigned long long ops, mem;
	uint32_t hash;
	char *pw = NULL;
	struct ml_seckey *k = NULL;
	int rc = ML_OK;

	if (!all_printable(s->line, len))
		return ml_err_set(e, ML_EKEY,
				  "%s: corrupt key file (control or non-ASCII "
				  "characters)", path);
	if (split_fields(s->line, len, f, fl, 8) != 0)
		return ml_err_set(e, ML_EKEY,
				  "%s: corrupt key file (want 8 fields separated by "
				  "single spaces)", path);
	if (fl[0] != strlen(ENC_MAGIC) || memcmp(f[0], ENC_MAGIC, fl[0]) != 0)
		return ml_err_set(e, ML_EKEY,
				  "%s: unsupported encrypted key format (want %s)", path,
				  ENC_MAGIC);
	if (parse_keyid(f[1], fl[1], name, &hash, &why) != 0)
		return ml_err_set(e, ML_EKEY, "%s: corrupt key file (%s)", path, why);
	if (fl[2] != strlen(ENC_ALG) || memcmp(f[2], ENC_ALG, fl[2]) != 0)
		return ml_err_set(e, ML_EKEY,
				  "%s: unsupported key derivation (want %s)", path,
				  ENC_ALG);
	if (parse_u64(f[3], fl[3], &ops) != 0 || ops < crypto_pwhash_OPSLIMIT_MIN ||
	    ops > ENC_OPS_MAX)
		return ml_err_set(e, ML_EKEY,
				  "%s: corrupt key file (Argon2id operations limit "
				  "outside %llu..%llu)", path,
				  (unsigned long long)crypto_pwhash_OPSLIMIT_MIN,
				  ENC_OPS_MAX);
	if (parse_u64(f[4], fl[4], &mem) != 0 || mem < crypto_pwhash_MEMLIMIT_MIN ||
	    mem > ENC_MEM_MAX)
		return ml_err_set(e, ML_EKEY,
				  "%s: corrupt key file (Argon2id memory limit outside "
				  "%llu..%llu bytes)", path,
				  (unsigned long long)crypto_pwhash_MEMLIMIT_MIN,
				  ENC_MEM_MAX);
	if (b64_decode(f[5], fl[5], s->salt, sizeof s->salt, &saltlen) != 0 ||
	    saltlen != sizeof s->salt ||
	    b64_decode(f[6], fl[6], s->nonce, sizeof s->nonce, &noncelen) != 0 ||
	    noncelen != sizeof s->nonce ||
	    b64_decode(f[7], fl[7], s->ct, sizeof s->ct, &ctlen) != 0 ||
	    ctlen != sizeof s->ct)
		return ml_err_set(e, ML_EKEY,
				  "%s: corrupt key file (bad salt, nonce or ciphertext)",
				  path);

	if (!pass)
		return ml_err_set(e, ML_EKEY,
				  "%s: key is encrypted; give a passphrase with "
				  "--passphrase-file or MLLEDGER_PASSPHRASE_FILE", path);
	pw = sodium_malloc(PASS_CAP);
	if (!pw)
		return ml_err_set(e, ML_EIO, "%s: out of memory for a passphrase", path);
	sodium_memzero(pw, PASS_CAP);
	if (pass(ctx, path, pw, PASS_CAP) != 0) {
		rc = ml_err_set(e, ML_EKEY,
				"%s: key is encrypted; give a passphrase with "
				"--passphrase-file or MLLEDGER_PASSPHRASE_FILE", path);
		goto out;
	}
	plen = strnlen(pw, PASS_CAP);
	if (plen == PASS_CAP) {
		rc = ml_err_set(e, ML_EKEY, "%s: passphrase longer than %d bytes", path,
				PASS_CAP - 1);
		goto out;
	}
	if (crypto_pwhash(s->key, sizeof s->key, pw, plen, s->salt, ops, (size_t)mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		rc = ml_err_set(e, ML_EIO,
				"%s: out of memory deriving the key encryption key", path);
		goto out;
	}
	snprintf(keyid, sizeof keyid, "%s+%08x", name, (unsigned)hash);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    s->seed, NULL, NULL, s->ct, sizeof s->ct, (const uint8_t *)keyid,
		    strlen(keyid), s->nonce, s->key) != 0) {
		rc = ml_err_set(e, ML_EKEY, "%s: wrong passphrase or corrupt key file",
				path);
		goto out;
	}
	rc = seckey_make(name, s->seed, &k, e);
	if (rc != ML_OK)
		goto out;
	if (k->pub.hash != hash) {
		ml_seckey_free(k);
		rc = ml_err_set(e, ML_EKEY,
				"%s: corrupt key file (key hash does not match name and "
				"key)", path);
		goto out;
	}
	*out = k;
out:
	sodium_free(pw);
	return rc;
}

int
ml_seckey_decode(const char *text, size_t len, const char *path, ml_passphrase_fn pass,
		 void *ctx, struct ml_seckey **out, struct ml_err *e)
{
	struct scratch *s;
	int rc;

	if (!path)
		path = "key";
	if (need_sodium(e) != 0)
		return ML_EIO;
	/* One line, with or without its final newline. */
	if (len && text[len - 1] == '\n')
		len--;
	if (len == 0)
		return ml_err_set(e, ML_EKEY, "%s: empty key file", path);
	if (len >= TEXT_CAP || memchr(text, '\n', len) || memchr(text, '\0', len))
		return ml_err_set(e, ML_EKEY,
				  "%s: corrupt key file (want exactly one line)", path);
	s = sodium_malloc(sizeof *s);
	if (!s)
		return ml_err_set(e, ML_EIO, "%s: out of memory decoding a secret key",
				  path);
	memcpy(s->line, text, len);
	s->line[len] = '\0';
	if (ml_seckey_text_encrypted(s->line, len))
		rc = decode_encrypted(s, len, path, pass, ctx, out, e);
	else
		rc = decode_plain(s, len, path, out, e);
	sodium_free(s);
	return rc;
}

int
ml_seckey_save(const struct ml_seckey *k, const char *dir, const char *passphrase,
	       int force, struct ml_err *e)
{
	char keypath[PATH_MAX], pubpath[PATH_MAX], vkey[ML_VKEY_MAX + 1];
	const char *name = k->pub.name;
	char *text = NULL;
	size_t n;
	int rc;

	if (!ml_key_name_simple(name))
		return ml_err_set(e, ML_EINPUT,
				  "key name %s cannot be used as a file name (want 1 to "
				  "64 of A-Z a-z 0-9 . _ -)", name);
	if (snprintf(keypath, sizeof keypath, "%s/%s.key", dir, name) >=
		    (int)sizeof keypath ||
	    snprintf(pubpath, sizeof pubpath, "%s/%s.pub", dir, name) >=
		    (int)sizeof pubpath)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	rc = ml_seckey_encode(k, passphrase, &text, e);
	if (rc != ML_OK)
		return rc;
	rc = ml_write_file_atomic(keypath, text, strlen(text), 0600, !force, e);
	if (rc != ML_OK)
		goto out;
	ml_pubkey_format(&k->pub, vkey);
	n = strlen(vkey);
	vkey[n++] = '\n';
	rc = ml_write_file_atomic(pubpath, vkey, n, 0644, !force, e);
	if (rc != ML_OK)
		unlink(keypath); /* ours: created or replaced just above */
out:
	sodium_free(text);
	return rc;
}

int
ml_seckey_load(const char *path, ml_passphrase_fn pass, void *ctx,
	       struct ml_seckey **out, struct ml_err *e)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = ml_read_file(path, FILE_MAX, &text, &len, e);
	if (rc != ML_OK) {
		/* Missing, not a file or too large: the key is unusable. */
		if (rc == ML_EINPUT && e)
			e->code = ML_EKEY;
		return rc == ML_EINPUT ? ML_EKEY : rc;
	}
	rc = ml_seckey_decode(text, len, path, pass, ctx, out, e);
	sodium_memzero(text, len);
	free(text);
	return rc;
}

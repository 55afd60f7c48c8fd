/* Unit tests for keys: published vectors (C2SP signed-note spec, Go
 * sumdb/note, RFC 8032), key file round trips, and every rejection class. */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <sodium.h>

#include "keys.h"

/* C2SP signed-note spec example. */
#define C2SP_VKEY "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
#define C2SP_TEXT "This is an example message.\n"
#define C2SP_SIGLINE                                                             \
	"\xe2\x80\x94 example.com/foo "                                          \
	"Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuw" \
	"HjG1Yu72IneyaQM="

/* golang.org/x/mod/sumdb/note test vector. */
#define GO_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

/* RFC 8032 section 7.1, TEST 1. */
#define RFC_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC_PK "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define RFC_SIG                                                                  \
	"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a3" \
	"3bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"

#define PASS "correct horse battery staple"

struct pass_ctx {
	const char *pass; /* NULL: the callback has none (returns -1) */
	int calls;
	int overfill;     /* fill the whole buffer without a NUL */
	const char *path; /* last path seen */
};

static int
pass_cb(void *ctx, const char *path, char *buf, size_t cap)
{
	struct pass_ctx *p = ctx;

	p->calls++;
	p->path = path;
	if (p->overfill) {
		memset(buf, 'a', cap);
		return ML_OK;
	}
	if (!p->pass || strlen(p->pass) >= cap)
		return ML_EKEY;
	memcpy(buf, p->pass, strlen(p->pass) + 1);
	return ML_OK;
}

/* Shared state: one encrypted key file made once, with the "interactive"
 * limits every file had before moderate became the default (so the tests
 * below also show that such files still open), since Argon2id costs
 * ~100 ms per call even then. */
struct fixture {
	struct ml_seckey *key;
	char *enc; /* sodium_malloc'd encrypted key file text */
};

static int
group_setup(void **state)
{
	static struct fixture fx;
	struct ml_err e;

	ml_err_clear(&e);
	if (ml_seckey_generate("fixture-key", &fx.key, &e) != ML_OK)
		return -1;
	if (ml_seckey_encode_kdf(fx.key, PASS, crypto_pwhash_OPSLIMIT_INTERACTIVE,
				 crypto_pwhash_MEMLIMIT_INTERACTIVE, &fx.enc, &e) != ML_OK)
		return -1;
	*state = &fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture *fx = *state;

	sodium_free(fx->enc);
	ml_seckey_free(fx->key);
	return 0;
}

/* Decodes text and expects failure with code; returns the message. */
static void
expect_decode_fail(const char *text, size_t len, struct pass_ctx *pc, int code,
		   const char *needle)
{
	struct ml_seckey *k = (struct ml_seckey *)0x1;
	struct ml_err e;
	int rc;

	ml_err_clear(&e);
	rc = ml_seckey_decode(text, len, "test.key", pc ? pass_cb : NULL, pc, &k, &e);
	if (rc != code || (needle && !strstr(e.msg, needle)))
		print_error("decode of [%.*s]: rc %d msg [%s]\n", (int)len, text, rc,
			    e.msg);
	assert_int_equal(rc, code);
	assert_int_equal(e.code, code);
	assert_ptr_equal(k, (struct ml_seckey *)0x1); /* untouched on failure */
	assert_non_null(strstr(e.msg, "test.key"));
	if (needle)
		assert_non_null(strstr(e.msg, needle));
	if (pc && pc->pass)
		assert_null(strstr(e.msg, pc->pass));
}

static void
expect_pub_fail(const char *s, size_t len, const char *needle)
{
	struct ml_pubkey k;
	struct ml_err e;
	int rc;

	memset(&k, 0x5a, sizeof k);
	ml_err_clear(&e);
	rc = ml_pubkey_parse(s, len, &k, &e);
	if (rc != ML_EINPUT || (needle && !strstr(e.msg, needle)))
		print_error("parse of [%.*s]: rc %d msg [%s]\n", (int)len, s, rc, e.msg);
	assert_int_equal(rc, ML_EINPUT);
	assert_int_equal(e.code, ML_EINPUT);
	assert_int_equal((unsigned char)k.name[0], 0x5a); /* untouched */
	if (needle)
		assert_non_null(strstr(e.msg, needle));
}

static void
test_name_valid(void **state)
{
	char name[ML_KEY_NAME_MAX + 2];

	(void)state;
	assert_true(ml_key_name_valid("example.com/foo"));
	assert_true(ml_key_name_valid("a"));
	assert_true(ml_key_name_valid("!~\"#$%&'()*,-./:;<=>?@[\\]^_`{|}"));
	assert_false(ml_key_name_valid(""));
	assert_false(ml_key_name_valid(NULL));
	assert_false(ml_key_name_valid("a+b"));
	assert_false(ml_key_name_valid("+"));
	assert_false(ml_key_name_valid("a b"));
	assert_false(ml_key_name_valid(" a"));
	assert_false(ml_key_name_valid("a\tb"));
	assert_false(ml_key_name_valid("a\nb"));
	assert_false(ml_key_name_valid("a\x7f"));
	assert_false(ml_key_name_valid("a\x01"));
	assert_false(ml_key_name_valid("caf\xc3\xa9"));
	memset(name, 'x', ML_KEY_NAME_MAX);
	name[ML_KEY_NAME_MAX] = '\0';
	assert_true(ml_key_name_valid(name));
	name[ML_KEY_NAME_MAX] = 'x';
	name[ML_KEY_NAME_MAX + 1] = '\0';
	assert_false(ml_key_name_valid(name));
}

static void
test_name_simple(void **state)
{
	char name[66];

	(void)state;
	assert_true(ml_key_name_simple("alice"));
	assert_true(ml_key_name_simple("ci-runner_2.prod"));
	assert_true(ml_key_name_simple("A.Z-a_z-0.9"));
	assert_false(ml_key_name_simple(""));
	assert_false(ml_key_name_simple(NULL));
	assert_false(ml_key_name_simple("example.com/foo"));
	assert_false(ml_key_name_simple("a+b"));
	assert_false(ml_key_name_simple("a b"));
	assert_false(ml_key_name_simple("a\tb"));
	assert_false(ml_key_name_simple("a\x01"));
	assert_false(ml_key_name_simple("a:b"));
	assert_false(ml_key_name_simple("caf\xc3\xa9"));
	memset(name, 'k', 64);
	name[64] = '\0';
	assert_true(ml_key_name_simple(name));
	name[64] = 'k';
	name[65] = '\0';
	assert_false(ml_key_name_simple(name));
}

static void
test_c2sp_example(void **state)
{
	struct ml_pubkey k;
	struct ml_err e;
	char buf[ML_VKEY_MAX], id[ML_KEYID_MAX];
	const char *sigline = C2SP_SIGLINE, *prefix = "\xe2\x80\x94 example.com/foo ";
	const char *b64;
	uint8_t raw[4 + ML_SIG_LEN];
	uint8_t text[sizeof C2SP_TEXT - 1];

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_pubkey_parse(C2SP_VKEY, strlen(C2SP_VKEY), &k, &e), ML_OK);
	assert_string_equal(k.name, "example.com/foo");
	assert_int_equal(k.hash, 0x530d903a);
	assert_int_equal(ml_key_hash(k.name, k.pk), 0x530d903a);
	ml_pubkey_format(&k, buf);
	assert_string_equal(buf, C2SP_VKEY);
	ml_pubkey_keyid(&k, id);
	assert_string_equal(id, "example.com/foo+530d903a");

	/* The signature line: "— NAME base64(hash || sig)". */
	assert_memory_equal(sigline, prefix, strlen(prefix));
	b64 = sigline + strlen(prefix);
	assert_int_equal(ml_b64_decode_exact(b64, strlen(b64), raw, sizeof raw), 0);
	assert_int_equal(ml_get_be32(raw), k.hash);
	memcpy(text, C2SP_TEXT, sizeof text);
	assert_true(ml_pubkey_verify(&k, text, sizeof text, raw + 4));
	/* Any flipped bit, in the signature or the text, must fail. */
	raw[4 + 10] ^= 0x01;
	assert_false(ml_pubkey_verify(&k, text, sizeof text, raw + 4));
	raw[4 + 10] ^= 0x01;
	raw[4 + 63] ^= 0x80;
	assert_false(ml_pubkey_verify(&k, text, sizeof text, raw + 4));
	raw[4 + 63] ^= 0x80;
	text[0] ^= 0x20;
	assert_false(ml_pubkey_verify(&k, text, sizeof text, raw + 4));
	text[0] ^= 0x20;
	assert_false(ml_pubkey_verify(&k, text, sizeof text - 1, raw + 4));
	k.pk[5] ^= 0x04;
	assert_false(ml_pubkey_verify(&k, text, sizeof text, raw + 4));
	k.pk[5] ^= 0x04;
	assert_true(ml_pubkey_verify(&k, text, sizeof text, raw + 4));
}

static void
test_go_vector(void **state)
{
	static const char msg[] =
		"If you think cryptography is the answer to your problem,\n"
		"then you don't know what your problem is.\n";
	static const char sig64[] = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN"
				    "1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
	struct ml_seckey *k = NULL, *k2 = NULL;
	struct ml_err e;
	char buf[ML_VKEY_MAX], *text = NULL;
	uint8_t sig[ML_SIG_LEN], raw[4 + ML_SIG_LEN];

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_decode(GO_SKEY, strlen(GO_SKEY), "go.key", NULL, NULL,
					  &k, &e), ML_OK);
	ml_pubkey_format(ml_seckey_public(k), buf);
	assert_string_equal(buf, GO_VKEY);
	assert_int_equal(ml_seckey_public(k)->hash, 0xc74f20a3);
	assert_false(ml_seckey_text_encrypted(GO_SKEY, strlen(GO_SKEY)));

	assert_int_equal(ml_seckey_encode(k, NULL, &text, &e), ML_OK);
	assert_string_equal(text, GO_SKEY "\n");
	/* The file form, with its newline, decodes to the same key. */
	assert_int_equal(ml_seckey_decode(text, strlen(text), "go.key", NULL, NULL, &k2,
					  &e), ML_OK);
	assert_memory_equal(ml_seckey_public(k2)->pk, ml_seckey_public(k)->pk,
			    ML_PUBKEY_LEN);
	sodium_free(text);

	/* The signed note from the Go package's tests: Ed25519 is
	 * deterministic, so our signature must match byte for byte. */
	assert_int_equal(ml_b64_decode_exact(sig64, strlen(sig64), raw, sizeof raw), 0);
	assert_int_equal(ml_get_be32(raw), 0xc74f20a3);
	ml_seckey_sign(k, (const uint8_t *)msg, strlen(msg), sig);
	assert_memory_equal(sig, raw + 4, ML_SIG_LEN);
	assert_true(ml_pubkey_verify(ml_seckey_public(k2), (const uint8_t *)msg,
				     strlen(msg), sig));
	ml_seckey_free(k);
	ml_seckey_free(k2);
}

static void
test_rfc8032_test1(void **state)
{
	uint8_t seed[32], pk[32], want[ML_SIG_LEN], sig[ML_SIG_LEN], ell[32];
	static const uint8_t none[1];
	unsigned i, carry;
	struct ml_seckey *k = NULL;
	const struct ml_pubkey *pub;
	struct ml_err e;

	(void)state;
	tu_unhex(RFC_SEED, seed, sizeof seed);
	tu_unhex(RFC_PK, pk, sizeof pk);
	tu_unhex(RFC_SIG, want, sizeof want);
	/* The group order L, little-endian. */
	tu_unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010",
		 ell, sizeof ell);
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_from_seed("rfc8032", seed, &k, &e), ML_OK);
	pub = ml_seckey_public(k);
	assert_memory_equal(pub->pk, pk, 32);
	assert_string_equal(pub->name, "rfc8032");
	assert_int_equal(pub->hash, ml_key_hash("rfc8032", pk));
	ml_seckey_sign(k, NULL, 0, sig);
	assert_memory_equal(sig, want, ML_SIG_LEN);
	ml_seckey_sign(k, none, 0, sig);
	assert_memory_equal(sig, want, ML_SIG_LEN);
	assert_true(ml_pubkey_verify(pub, NULL, 0, sig));
	assert_false(ml_pubkey_verify(pub, none, 1, sig));
	/* S + L, the same signature with a non-canonical S, is rejected:
	 * verification is strict. */
	for (i = 0, carry = 0; i < 32; i++) {
		unsigned v = sig[32 + i] + ell[i] + carry;
		sig[32 + i] = (uint8_t)v;
		carry = v >> 8;
	}
	assert_int_equal(carry, 0);
	assert_memory_not_equal(sig, want, ML_SIG_LEN);
	assert_false(ml_pubkey_verify(pub, NULL, 0, sig));
	memcpy(sig, want, ML_SIG_LEN);
	sig[0] ^= 1;
	assert_false(ml_pubkey_verify(pub, NULL, 0, sig));
	ml_seckey_free(k);

	/* Bad names are refused. */
	k = NULL;
	assert_int_equal(ml_seckey_from_seed("a b", seed, &k, &e), ML_EINPUT);
	assert_int_equal(ml_seckey_from_seed("", seed, &k, &e), ML_EINPUT);
	assert_int_equal(ml_seckey_from_seed("a+b", seed, &k, &e), ML_EINPUT);
	assert_null(k);
}

static void
test_key_hash_long_name(void **state)
{
	/* Longer than ML_KEY_NAME_MAX takes a different path: same answer. */
	char name[301];
	uint8_t pk[ML_PUBKEY_LEN], buf[300 + 2 + ML_PUBKEY_LEN], md[ML_SHA256_LEN];

	(void)state;
	memset(name, 'n', 300);
	name[300] = '\0';
	memset(pk, 0xab, sizeof pk);
	memcpy(buf, name, 300);
	buf[300] = '\n';
	buf[301] = 0x01;
	memcpy(buf + 302, pk, sizeof pk);
	ml_sha256(buf, sizeof buf, md);
	assert_int_equal(ml_key_hash(name, pk), ml_get_be32(md));
	name[ML_KEY_NAME_MAX] = '\0';
	ml_sha256(buf + 300 - ML_KEY_NAME_MAX, ML_KEY_NAME_MAX + 2 + ML_PUBKEY_LEN, md);
	assert_int_equal(ml_key_hash(name, pk), ml_get_be32(md));
}

/* Builds "NAME+HASH+base64(raw)" for a raw key of n bytes. */
static void
make_vkey(char *out, size_t cap, const char *name, uint32_t hash, const uint8_t *raw,
	  size_t n)
{
	char *b64 = ml_b64_encode(raw, n);

	assert_non_null(b64);
	snprintf(out, cap, "%s+%08x+%s", name, (unsigned)hash, b64);
	free(b64);
}

static void
test_pubkey_parse_negatives(void **state)
{
	struct ml_pubkey good;
	struct ml_err e;
	char s[512], big[400];
	uint8_t raw[40];
	const char *v = C2SP_VKEY;
	size_t vl = strlen(v);

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_pubkey_parse(v, vl, &good, &e), ML_OK);

	/* Missing or empty fields. */
	expect_pub_fail("", 0, NULL);
	expect_pub_fail("example.com/foo", 15, "'+'");
	expect_pub_fail("example.com/foo+530d903a", 24, "second '+'");
	expect_pub_fail("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", 53,
			"empty key name");
	expect_pub_fail("example.com/foo++AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
			61, "8 lowercase hex");
	expect_pub_fail("example.com/foo+530d903a+", 25, "key is 0 bytes");

	/* Hash: wrong value, wrong case, wrong length, not hex. */
	expect_pub_fail("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
			vl, "key hash does not match name and key");
	expect_pub_fail("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
			vl, "8 lowercase hex");
	expect_pub_fail("example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
			vl - 1, "8 lowercase hex");
	expect_pub_fail("example.com/foo+530d903a0+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
			vl + 1, "8 lowercase hex");
	expect_pub_fail("example.com/foo+530d903x+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
			vl, "8 lowercase hex");
	/* Another name with the same key: the hash no longer matches. */
	expect_pub_fail("example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
			vl, "key hash does not match");

	/* Bad base64: truncated, bad characters, non-canonical, url-safe. */
	expect_pub_fail(v, vl - 1, "bad base64");
	expect_pub_fail("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2!",
			vl, "bad base64");
	expect_pub_fail("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k=",
			vl + 1, "bad base64");
	expect_pub_fail("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k====",
			vl + 4, "bad base64");
	expect_pub_fail("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k+",
			vl + 1, "bad base64");
	expect_pub_fail("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
			vl - 1, "bad base64");
	expect_pub_fail("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U_k",
			vl, "bad base64");

	/* Wrong decoded length: the raw key without its type byte, and with an
	 * extra byte. */
	make_vkey(s, sizeof s, "example.com/foo", 0x530d903a, good.pk, 32);
	expect_pub_fail(s, strlen(s), "32 bytes");
	raw[0] = 0x01;
	memcpy(raw + 1, good.pk, 32);
	raw[33] = 0;
	make_vkey(s, sizeof s, "example.com/foo", 0x530d903a, raw, 34);
	expect_pub_fail(s, strlen(s), "34 bytes");

	/* Wrong type byte, with a hash that would match otherwise. */
	raw[0] = 0x02;
	make_vkey(s, sizeof s, "example.com/foo", 0x530d903a, raw, 33);
	expect_pub_fail(s, strlen(s), "unknown key type 0x02");
	raw[0] = 0x00;
	make_vkey(s, sizeof s, "example.com/foo", 0x530d903a, raw, 33);
	expect_pub_fail(s, strlen(s), "unknown key type 0x00");

	/* Whitespace and control characters anywhere. */
	snprintf(s, sizeof s, "%s ", v);
	expect_pub_fail(s, vl + 1, "whitespace");
	snprintf(s, sizeof s, " %s", v);
	expect_pub_fail(s, vl + 1, "whitespace");
	snprintf(s, sizeof s, "%s\n", v);
	expect_pub_fail(s, vl + 1, "whitespace");
	snprintf(s, sizeof s, "%s\r", v);
	expect_pub_fail(s, vl + 1, "whitespace");
	snprintf(s, sizeof s, "%s\t", v);
	expect_pub_fail(s, vl + 1, "whitespace");
	memcpy(s, v, vl);
	s[vl] = '\0';
	s[3] = '\0';
	expect_pub_fail(s, vl, "control");
	s[3] = ' ';
	expect_pub_fail(s, vl, "whitespace");
	s[3] = (char)0xc3;
	expect_pub_fail(s, vl, "non-ASCII");
	s[3] = 0x7f;
	expect_pub_fail(s, vl, "control");

	/* Name too long, whole line too long. */
	memset(big, 'n', sizeof big);
	expect_pub_fail(big, sizeof big, "longer than");
	memset(big, 'n', ML_KEY_NAME_MAX + 1);
	memcpy(big + ML_KEY_NAME_MAX + 1, "+530d903a+AAAA", 14);
	expect_pub_fail(big, ML_KEY_NAME_MAX + 15, "key name too long");

	/* Points that are not usable Ed25519 keys, with correct hashes. */
	raw[0] = 0x01;
	memset(raw + 1, 0, 32);
	raw[1] = 0x01; /* the identity: small order */
	make_vkey(s, sizeof s, "weak", ml_key_hash("weak", raw + 1), raw, 33);
	expect_pub_fail(s, strlen(s), "not a valid Ed25519 public key");
	memset(raw + 1, 0xff, 32); /* not canonical */
	make_vkey(s, sizeof s, "weak", ml_key_hash("weak", raw + 1), raw, 33);
	expect_pub_fail(s, strlen(s), "not a valid Ed25519 public key");
}

static void
write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
test_pubkey_load(void **state)
{
	char dir[256], path[512];
	struct ml_pubkey k;
	struct ml_err e;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/foo.pub", dir);
	ml_err_clear(&e);

	write_text(path, C2SP_VKEY "\n", strlen(C2SP_VKEY) + 1);
	assert_int_equal(ml_pubkey_load(path, &k, &e), ML_OK);
	assert_int_equal(k.hash, 0x530d903a);
	write_text(path, C2SP_VKEY, strlen(C2SP_VKEY));
	assert_int_equal(ml_pubkey_load(path, &k, &e), ML_OK);
	assert_string_equal(k.name, "example.com/foo");

	write_text(path, C2SP_VKEY "\n\n", strlen(C2SP_VKEY) + 2);
	assert_int_equal(ml_pubkey_load(path, &k, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, path));
	write_text(path, C2SP_VKEY "\r\n", strlen(C2SP_VKEY) + 2);
	assert_int_equal(ml_pubkey_load(path, &k, &e), ML_EINPUT);
	write_text(path, "", 0);
	assert_int_equal(ml_pubkey_load(path, &k, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, path));

	snprintf(path, sizeof path, "%s/missing.pub", dir);
	assert_int_equal(ml_pubkey_load(path, &k, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, path));
	tu_rmtree(dir);
}

static void
test_roundtrip_plain(void **state)
{
	struct ml_seckey *k = NULL, *k2 = NULL;
	struct ml_err e;
	char *text = NULL;
	uint8_t sig[ML_SIG_LEN];
	static const uint8_t msg[] = "statement bytes";

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_generate("alice", &k, &e), ML_OK);
	assert_int_equal(ml_seckey_encode(k, NULL, &text, &e), ML_OK);
	assert_memory_equal(text, "PRIVATE+KEY+alice+", 18);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_false(ml_seckey_text_encrypted(text, strlen(text)));
	assert_int_equal(ml_seckey_decode(text, strlen(text), "alice.key", NULL, NULL,
					  &k2, &e), ML_OK);
	assert_memory_equal(ml_seckey_public(k)->pk, ml_seckey_public(k2)->pk,
			    ML_PUBKEY_LEN);
	assert_int_equal(ml_seckey_public(k)->hash, ml_seckey_public(k2)->hash);
	assert_string_equal(ml_seckey_public(k2)->name, "alice");
	ml_seckey_sign(k2, msg, sizeof msg, sig);
	assert_true(ml_pubkey_verify(ml_seckey_public(k), msg, sizeof msg, sig));
	sodium_free(text);
	ml_seckey_free(k2);

	/* Two generated keys differ. */
	k2 = NULL;
	assert_int_equal(ml_seckey_generate("alice", &k2, &e), ML_OK);
	assert_memory_not_equal(ml_seckey_public(k)->pk, ml_seckey_public(k2)->pk,
				ML_PUBKEY_LEN);
	assert_false(ml_pubkey_verify(ml_seckey_public(k2), msg, sizeof msg, sig));
	ml_seckey_free(k2);
	ml_seckey_free(k);
	ml_seckey_free(NULL);
}

static void
test_generate_bad_names(void **state)
{
	struct ml_seckey *k = NULL;
	struct ml_err e;

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_generate("", &k, &e), ML_EINPUT);
	assert_int_equal(ml_seckey_generate("a b", &k, &e), ML_EINPUT);
	assert_int_equal(ml_seckey_generate("a+b", &k, &e), ML_EINPUT);
	assert_int_equal(ml_seckey_generate("x/../y", &k, &e), ML_EINPUT);
	assert_int_equal(e.code, ML_EINPUT);
	assert_null(k);
}

static void
test_roundtrip_encrypted(void **state)
{
	struct fixture *fx = *state;
	struct pass_ctx pc = {PASS, 0, 0, NULL};
	struct ml_seckey *k = NULL;
	struct ml_err e;
	uint8_t sig[ML_SIG_LEN];
	static const uint8_t msg[] = "another statement";
	char want[256], keyid[ML_KEYID_MAX];

	ml_err_clear(&e);
	ml_pubkey_keyid(ml_seckey_public(fx->key), keyid);
	snprintf(want, sizeof want, "mlledger-encrypted-key/v1 %s argon2id13 %llu %zu ",
		 keyid, (unsigned long long)crypto_pwhash_OPSLIMIT_INTERACTIVE,
		 (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE);
	assert_memory_equal(fx->enc, want, strlen(want));
	assert_int_equal(fx->enc[strlen(fx->enc) - 1], '\n');
	assert_ptr_equal(strchr(fx->enc, '\n'), fx->enc + strlen(fx->enc) - 1);
	assert_true(ml_seckey_text_encrypted(fx->enc, strlen(fx->enc)));
	assert_null(strstr(fx->enc, PASS));

	assert_int_equal(ml_seckey_decode(fx->enc, strlen(fx->enc), "fixture.key",
					  pass_cb, &pc, &k, &e), ML_OK);
	assert_int_equal(pc.calls, 1);
	assert_string_equal(pc.path, "fixture.key");
	assert_memory_equal(ml_seckey_public(k)->pk, ml_seckey_public(fx->key)->pk,
			    ML_PUBKEY_LEN);
	assert_string_equal(ml_seckey_public(k)->name, "fixture-key");
	ml_seckey_sign(k, msg, sizeof msg, sig);
	assert_true(ml_pubkey_verify(ml_seckey_public(fx->key), msg, sizeof msg, sig));
	ml_seckey_free(k);
}

/* New files use Argon2id's "moderate" limits, and open again. */
static void
test_encode_moderate(void **state)
{
	struct fixture *fx = *state;
	struct pass_ctx pc = {PASS, 0, 0, NULL};
	struct ml_seckey *k = NULL;
	struct ml_err e;
	char want[256], keyid[ML_KEYID_MAX], *text = NULL;

	ml_err_clear(&e);
	assert_int_equal(ml_seckey_encode(fx->key, PASS, &text, &e), ML_OK);
	ml_pubkey_keyid(ml_seckey_public(fx->key), keyid);
	snprintf(want, sizeof want, "mlledger-encrypted-key/v1 %s argon2id13 %llu %zu ",
		 keyid, (unsigned long long)crypto_pwhash_OPSLIMIT_MODERATE,
		 (size_t)crypto_pwhash_MEMLIMIT_MODERATE);
	assert_memory_equal(text, want, strlen(want));
	assert_int_equal(ml_seckey_decode(text, strlen(text), "moderate.key", pass_cb, &pc,
					  &k, &e), ML_OK);
	assert_memory_equal(ml_seckey_public(k)->pk, ml_seckey_public(fx->key)->pk,
			    ML_PUBKEY_LEN);
	ml_seckey_free(k);
	sodium_free(text);
	/* Limits readers would refuse are never written. */
	text = NULL;
	assert_int_equal(ml_seckey_encode_kdf(fx->key, PASS, 17, crypto_pwhash_MEMLIMIT_MIN,
					      &text, &e), ML_EINPUT);
	assert_int_equal(ml_seckey_encode_kdf(fx->key, PASS, 3, (size_t)1 << 31, &text, &e),
			 ML_EINPUT);
	assert_null(text);
}

/* Replaces field i (0-based, space-separated) of the encrypted fixture. */
static void
with_field(const char *enc, int i, const char *val, char *out, size_t cap)
{
	const char *p = enc, *end;
	int f;

	for (f = 0; f < i; f++) {
		p = strchr(p, ' ');
		assert_non_null(p);
		p++;
	}
	end = strpbrk(p, " \n");
	assert_non_null(end);
	snprintf(out, cap, "%.*s%s%s", (int)(p - enc), enc, val, end);
}

static void
test_encrypted_negatives(void **state)
{
	struct fixture *fx = *state;
	struct pass_ctx wrong = {"correct horse battery stapler", 0, 0, NULL};
	struct pass_ctx right = {PASS, 0, 0, NULL};
	struct pass_ctx none = {NULL, 0, 0, NULL};
	struct pass_ctx over = {NULL, 0, 1, NULL};
	size_t len = strlen(fx->enc);
	char *t = malloc(len + 1), *ct, *salt, buf[600];
	char keyid[ML_KEYID_MAX];

	assert_non_null(t);
	/* Wrong passphrase. */
	expect_decode_fail(fx->enc, len, &wrong, ML_EKEY,
			   "wrong passphrase or corrupt key file");
	assert_int_equal(wrong.calls, 1);

	/* A flipped ciphertext character (64 base64 chars, no padding: any
	 * change stays canonical base64). */
	memcpy(t, fx->enc, len + 1);
	ct = strrchr(t, ' ') + 1;
	ct[10] = ct[10] == 'A' ? 'B' : 'A';
	expect_decode_fail(t, len, &right, ML_EKEY, "wrong passphrase or corrupt");

	/* A flipped salt byte changes the derived key. */
	memcpy(t, fx->enc, len + 1);
	salt = strchr(strstr(t, " argon2id13 ") + 12, ' ');
	salt = strchr(salt + 1, ' ') + 1;
	salt[0] = salt[0] == 'A' ? 'B' : 'A';
	expect_decode_fail(t, len, &right, ML_EKEY, "wrong passphrase or corrupt");

	/* The keyid is authenticated data: rename the key. */
	memcpy(t, fx->enc, len + 1);
	memcpy(strstr(t, "fixture-key"), "fixture-kez", 11);
	expect_decode_fail(t, len, &right, ML_EKEY, "wrong passphrase or corrupt");
	assert_int_equal(right.calls, 3);

	/* Another hash that is still 8 hex digits. */
	ml_pubkey_keyid(ml_seckey_public(fx->key), keyid);
	keyid[strlen(keyid) - 1] = keyid[strlen(keyid) - 1] == '0' ? '1' : '0';
	with_field(fx->enc, 1, keyid, buf, sizeof buf);
	expect_decode_fail(buf, strlen(buf), &right, ML_EKEY, "wrong passphrase or corrupt");

	/* No way to get a passphrase: no callback, or it has none, or it
	 * overruns the buffer. */
	expect_decode_fail(fx->enc, len, NULL, ML_EKEY,
			   "key is encrypted; give a passphrase with --passphrase-file "
			   "or MLLEDGER_PASSPHRASE_FILE");
	expect_decode_fail(fx->enc, len, &none, ML_EKEY, "key is encrypted");
	assert_int_equal(none.calls, 1);
	expect_decode_fail(fx->enc, len, &over, ML_EKEY, "passphrase longer than");
	free(t);
}

static void
test_encrypted_hostile_fields(void **state)
{
	struct fixture *fx = *state;
	struct pass_ctx pc = {PASS, 0, 0, NULL};
	char buf[700];
	size_t i;
	/* field index, value, expected message part */
	static const struct {
		int field;
		const char *val, *msg;
	} cases[] = {
		{3, "0", "operations limit"},
		{3, "17", "operations limit"},
		{3, "4294967296", "operations limit"},
		{3, "99999999999999999999999", "operations limit"},
		{3, "18446744073709551616", "operations limit"},
		{3, "-1", "operations limit"},
		{3, "+2", "operations limit"},
		{3, "02", "operations limit"},
		{3, "2x", "operations limit"},
		{3, "0x2", "operations limit"},
		{4, "8191", "memory limit"},
		{4, "1073741825", "memory limit"},
		{4, "1099511627776", "memory limit"},
		{4, "18446744073709551615", "memory limit"},
		{4, "18446744073709551616", "memory limit"},
		{4, "067108864", "memory limit"},
		{4, "64M", "memory limit"},
		{0, "mlledger-encrypted-key/v2", "unsupported encrypted key format"},
		{2, "argon2i13", "unsupported key derivation"},
		{2, "scrypt", "unsupported key derivation"},
		{1, "fixture-key", "'+'"},
		{1, "+00000000", "empty key name"},
		{1, "fixture-key+0000000", "8 lowercase hex"},
		{1, "fixture-key+ABCDEF01", "8 lowercase hex"},
		{1, "fixture-key+00000000+", "8 lowercase hex"},
		{5, "AAAA", "bad salt"},
		{5, "AAAAAAAAAAAAAAAAAAAAAA==AAAA", "bad salt"},
		{5, "AAAAAAAAAAAAAAAAAAAAAB==", "bad salt"}, /* non-canonical */
		{6, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "bad salt"},
		{7, "AAAA", "bad salt"},
		{7, "", "8 fields"},
	};

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		with_field(fx->enc, cases[i].field, cases[i].val, buf, sizeof buf);
		expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, cases[i].msg);
	}
	/* The fixture's own values still work as field replacements. */
	with_field(fx->enc, 3, "2", buf, sizeof buf);
	assert_string_equal(buf, fx->enc);

	/* Field count and separators. */
	snprintf(buf, sizeof buf, "%.*s extra\n", (int)strlen(fx->enc) - 1, fx->enc);
	expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, "8 fields");
	snprintf(buf, sizeof buf, "%s", fx->enc);
	*strstr(buf, " argon2id13") = '\t';
	expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, "control");
	snprintf(buf, sizeof buf, "%s", fx->enc);
	memmove(strstr(buf, " argon2id13") + 1, strstr(buf, " argon2id13"),
		strlen(strstr(buf, " argon2id13")) + 1);
	expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, "8 fields");
	snprintf(buf, sizeof buf, " %s", fx->enc);
	expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, NULL);

	/* None of this asked for a passphrase. */
	assert_int_equal(pc.calls, 0);
}

static void
test_garbage_key_files(void **state)
{
	struct fixture *fx = *state;
	struct pass_ctx pc = {PASS, 0, 0, NULL};
	const char *good = GO_SKEY "\n";
	char buf[600];
	size_t n, len;
	uint8_t raw[33];
	char *b64;

	expect_decode_fail("", 0, &pc, ML_EKEY, "empty");
	expect_decode_fail("\n", 1, &pc, ML_EKEY, "empty");
	expect_decode_fail("garbage", 7, &pc, ML_EKEY, "not a key file");
	expect_decode_fail(C2SP_VKEY, strlen(C2SP_VKEY), &pc, ML_EKEY, "not a key file");
	expect_decode_fail("PRIVATE+KEY+", 12, &pc, ML_EKEY, "'+'");

	/* Every truncation of both forms fails without asking for a passphrase
	 * (the full line without its newline is the only valid prefix). */
	len = strlen(good);
	for (n = 0; n + 1 < len; n++)
		expect_decode_fail(good, n, &pc, ML_EKEY, NULL);
	len = strlen(fx->enc);
	for (n = 0; n + 1 < len; n++)
		expect_decode_fail(fx->enc, n, &pc, ML_EKEY, NULL);
	assert_int_equal(pc.calls, 0);

	/* Plain form: more than one line, CRLF, spaces, NUL, uppercase and
	 * wrong hash, wrong type byte, wrong length. */
	snprintf(buf, sizeof buf, "%s%s", good, good);
	expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, "one line");
	snprintf(buf, sizeof buf, "%s\n", good);
	expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, "one line");
	snprintf(buf, sizeof buf, GO_SKEY "\r\n");
	expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, "control");
	snprintf(buf, sizeof buf, GO_SKEY " \n");
	expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, "whitespace");
	snprintf(buf, sizeof buf, GO_SKEY);
	buf[20] = '\0';
	expect_decode_fail(buf, strlen(GO_SKEY), &pc, ML_EKEY, "one line");
	expect_decode_fail("PRIVATE+KEY+PeterNeumann+C74F20A3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
			   strlen(GO_SKEY), &pc, ML_EKEY, "8 lowercase hex");
	expect_decode_fail("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
			   strlen(GO_SKEY), &pc, ML_EKEY,
			   "key hash does not match name and key");
	expect_decode_fail("PRIVATE+KEY+PeterNeumanm+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
			   strlen(GO_SKEY), &pc, ML_EKEY, "key hash does not match");
	expect_decode_fail("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF!",
			   strlen(GO_SKEY), &pc, ML_EKEY, "bad base64");
	expect_decode_fail("private+key+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
			   strlen(GO_SKEY), &pc, ML_EKEY, "not a key file");
	assert_int_equal(ml_b64_decode_exact(&GO_SKEY[34], 44, raw, sizeof raw), 0);
	raw[0] = 0x02;
	b64 = ml_b64_encode(raw, sizeof raw);
	assert_non_null(b64);
	snprintf(buf, sizeof buf, "PRIVATE+KEY+PeterNeumann+c74f20a3+%s\n", b64);
	free(b64);
	expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, "unknown key type");
	b64 = ml_b64_encode(raw + 1, 32);
	assert_non_null(b64);
	snprintf(buf, sizeof buf, "PRIVATE+KEY+PeterNeumann+c74f20a3+%s\n", b64);
	free(b64);
	expect_decode_fail(buf, strlen(buf), &pc, ML_EKEY, "bad base64");
	sodium_memzero(raw, sizeof raw);
	assert_int_equal(pc.calls, 0);
}

static void
test_encode_empty_passphrase(void **state)
{
	struct fixture *fx = *state;
	struct ml_err e;
	char *text = (char *)0x1;

	ml_err_clear(&e);
	assert_int_equal(ml_seckey_encode(fx->key, "", &text, &e), ML_EINPUT);
	assert_ptr_equal(text, (char *)0x1);
}

static int
file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (int)(st.st_mode & 07777);
}

static char *
slurp(const char *path)
{
	char *text = NULL;
	size_t len;
	struct ml_err e;

	ml_err_clear(&e);
	assert_int_equal(ml_read_file(path, 4096, &text, &len, &e), ML_OK);
	return text;
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void
test_save_load_plain(void **state)
{
	char dir[256], keyp[512], pubp[512], vkey[ML_VKEY_MAX + 1];
	char *key1, *pub1, *key2, *pub2;
	struct ml_seckey *k = NULL, *k2 = NULL, *k3 = NULL;
	struct ml_pubkey pk;
	struct ml_err e;
	mode_t old = umask(0);

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	snprintf(keyp, sizeof keyp, "%s/alice.key", dir);
	snprintf(pubp, sizeof pubp, "%s/alice.pub", dir);
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_generate("alice", &k, &e), ML_OK);
	assert_int_equal(ml_seckey_save(k, dir, NULL, 0, &e), ML_OK);
	assert_int_equal(file_mode(keyp), 0600);
	assert_int_equal(file_mode(pubp), 0644);
	assert_int_equal(count_entries(dir), 2);

	key1 = slurp(keyp);
	pub1 = slurp(pubp);
	ml_pubkey_format(ml_seckey_public(k), vkey);
	strcat(vkey, "\n");
	assert_string_equal(pub1, vkey);
	assert_memory_equal(key1, "PRIVATE+KEY+alice+", 18);

	assert_int_equal(ml_seckey_load(keyp, NULL, NULL, &k2, &e), ML_OK);
	assert_memory_equal(ml_seckey_public(k2)->pk, ml_seckey_public(k)->pk,
			    ML_PUBKEY_LEN);
	assert_int_equal(ml_pubkey_load(pubp, &pk, &e), ML_OK);
	assert_memory_equal(pk.pk, ml_seckey_public(k)->pk, ML_PUBKEY_LEN);

	/* Again without force: refused, originals untouched, nothing left. */
	assert_int_equal(ml_seckey_generate("alice", &k3, &e), ML_OK);
	assert_int_equal(ml_seckey_save(k3, dir, NULL, 0, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, keyp));
	key2 = slurp(keyp);
	pub2 = slurp(pubp);
	assert_string_equal(key1, key2);
	assert_string_equal(pub1, pub2);
	assert_int_equal(count_entries(dir), 2);
	free(key2);
	free(pub2);

	/* With force: replaced. */
	assert_int_equal(ml_seckey_save(k3, dir, NULL, 1, &e), ML_OK);
	key2 = slurp(keyp);
	pub2 = slurp(pubp);
	assert_string_not_equal(key1, key2);
	assert_string_not_equal(pub1, pub2);
	assert_int_equal(file_mode(keyp), 0600);
	assert_int_equal(file_mode(pubp), 0644);
	assert_int_equal(count_entries(dir), 2);
	ml_seckey_free(k2);
	k2 = NULL;
	assert_int_equal(ml_seckey_load(keyp, NULL, NULL, &k2, &e), ML_OK);
	assert_memory_equal(ml_seckey_public(k2)->pk, ml_seckey_public(k3)->pk,
			    ML_PUBKEY_LEN);

	sodium_memzero(key1, strlen(key1));
	sodium_memzero(key2, strlen(key2));
	free(key1);
	free(pub1);
	free(key2);
	free(pub2);
	ml_seckey_free(k);
	ml_seckey_free(k2);
	ml_seckey_free(k3);
	umask(old);
	tu_rmtree(dir);
}

static void
test_save_half_done(void **state)
{
	char dir[256], keyp[512], pubp[512], *pub;
	struct ml_seckey *k = NULL, *k2 = (struct ml_seckey *)0x1;
	uint8_t seed[32];
	struct ml_err e;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	snprintf(keyp, sizeof keyp, "%s/bob.key", dir);
	snprintf(pubp, sizeof pubp, "%s/bob.pub", dir);
	ml_err_clear(&e);

	/* Only the .pub exists: the .key must not be left behind. */
	write_text(pubp, "old\n", 4);
	assert_int_equal(ml_seckey_generate("bob", &k, &e), ML_OK);
	assert_int_equal(ml_seckey_save(k, dir, NULL, 0, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, pubp));
	assert_int_equal(access(keyp, F_OK), -1);
	pub = slurp(pubp);
	assert_string_equal(pub, "old\n");
	free(pub);
	assert_int_equal(count_entries(dir), 1);
	ml_seckey_free(k);

	/* A name that is valid C2SP but not a file name. */
	memset(seed, 7, sizeof seed);
	k = NULL;
	assert_int_equal(ml_seckey_from_seed("example.com/foo", seed, &k, &e), ML_OK);
	assert_int_equal(ml_seckey_save(k, dir, NULL, 0, &e), ML_EINPUT);
	assert_int_equal(count_entries(dir), 1);
	ml_seckey_free(k);

	/* A folder that does not exist. */
	k = NULL;
	assert_int_equal(ml_seckey_generate("bob", &k, &e), ML_OK);
	snprintf(keyp, sizeof keyp, "%s/nope", dir);
	assert_int_not_equal(ml_seckey_save(k, keyp, NULL, 0, &e), ML_OK);
	ml_seckey_free(k);

	/* Loading: missing, oversized, directory. */
	snprintf(keyp, sizeof keyp, "%s/missing.key", dir);
	assert_int_equal(ml_seckey_load(keyp, NULL, NULL, &k2, &e), ML_EKEY);
	assert_int_equal(e.code, ML_EKEY);
	assert_non_null(strstr(e.msg, keyp));
	assert_int_equal(ml_seckey_load(dir, NULL, NULL, &k2, &e), ML_EKEY);
	{
		char big[4097];
		memset(big, 'A', sizeof big);
		snprintf(keyp, sizeof keyp, "%s/big.key", dir);
		write_text(keyp, big, sizeof big);
		assert_int_equal(ml_seckey_load(keyp, NULL, NULL, &k2, &e), ML_EKEY);
		write_text(keyp, "PRIVATE+KEY+x\n", 14);
		assert_int_equal(ml_seckey_load(keyp, NULL, NULL, &k2, &e), ML_EKEY);
		assert_non_null(strstr(e.msg, keyp));
	}
	assert_ptr_equal(k2, (struct ml_seckey *)0x1);
	tu_rmtree(dir);
}

static void
test_save_load_encrypted(void **state)
{
	struct fixture *fx = *state;
	char dir[256], keyp[512], pubp[512], *text;
	struct pass_ctx pc = {PASS, 0, 0, NULL};
	struct ml_seckey *k = NULL;
	struct ml_pubkey pk;
	struct ml_err e;

	tu_tmpdir(dir, sizeof dir);
	snprintf(keyp, sizeof keyp, "%s/fixture-key.key", dir);
	snprintf(pubp, sizeof pubp, "%s/fixture-key.pub", dir);
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_save(fx->key, dir, PASS, 0, &e), ML_OK);
	assert_int_equal(file_mode(keyp), 0600);
	assert_int_equal(file_mode(pubp), 0644);
	text = slurp(keyp);
	assert_true(ml_seckey_text_encrypted(text, strlen(text)));
	assert_null(strstr(text, PASS));
	free(text);

	assert_int_equal(ml_seckey_load(keyp, pass_cb, &pc, &k, &e), ML_OK);
	assert_int_equal(pc.calls, 1);
	assert_string_equal(pc.path, keyp);
	assert_memory_equal(ml_seckey_public(k)->pk, ml_seckey_public(fx->key)->pk,
			    ML_PUBKEY_LEN);
	assert_int_equal(ml_pubkey_load(pubp, &pk, &e), ML_OK);
	assert_memory_equal(pk.pk, ml_seckey_public(fx->key)->pk, ML_PUBKEY_LEN);
	ml_seckey_free(k);

	k = NULL;
	assert_int_equal(ml_seckey_load(keyp, NULL, NULL, &k, &e), ML_EKEY);
	assert_non_null(strstr(e.msg, keyp));
	assert_non_null(strstr(e.msg, "key is encrypted"));
	assert_null(k);
	tu_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_name_simple),
		cmocka_unit_test(test_c2sp_example),
		cmocka_unit_test(test_go_vector),
		cmocka_unit_test(test_rfc8032_test1),
		cmocka_unit_test(test_key_hash_long_name),
		cmocka_unit_test(test_pubkey_parse_negatives),
		cmocka_unit_test(test_pubkey_load),
		cmocka_unit_test(test_roundtrip_plain),
		cmocka_unit_test(test_generate_bad_names),
		cmocka_unit_test(test_roundtrip_encrypted),
		cmocka_unit_test(test_encode_moderate),
		cmocka_unit_test(test_encrypted_negatives),
		cmocka_unit_test(test_encrypted_hostile_fields),
		cmocka_unit_test(test_garbage_key_files),
		cmocka_unit_test(test_encode_empty_passphrase),
		cmocka_unit_test(test_save_load_plain),
		cmocka_unit_test(test_save_half_done),
		cmocka_unit_test(test_save_load_encrypted),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

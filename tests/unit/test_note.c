/* Unit tests for note: published vectors (C2SP signed-note, tlog-checkpoint,
 * tlog-cosignature and tlog-proof examples, golang.org/x/mod/sumdb/note,
 * transparency-dev/formats, a Sigsum checkpoint from filippo.io/torchwood's
 * test data), round trips, a negative test per rejection class, and
 * mutation runs that every parser must survive. */
#include "testutil.h"

#include "keys.h"
#include "note.h"
#include "note_checkpoint.h"
#include "note_cosig.h"
#include "note_proof.h"
#include "note_trust.h"
#include "util.h"

#define DASH "\xe2\x80\x94 " /* U+2014 EM DASH, then a space */

/* c2sp.org/signed-note example. */
#define C2SP_VKEY "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
#define C2SP_TEXT "This is an example message.\n"
#define C2SP_NOTE                                                                \
	C2SP_TEXT "\n" DASH "example.com/foo "                                   \
		  "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYj" \
		  "OBH3mFXmRKuwHjG1Yu72IneyaQM=\n"

/* c2sp.org/signed-note opening example (no key published): the text holds
 * an empty line and non-ASCII letters. */
#define QUASIMODO_TEXT                                                           \
	"Ognuno sta solo sul cuor della terra\n"                                 \
	"trafitto da un raggio di sole:\n"                                       \
	"\n"                                                                     \
	"ed \xc3\xa8 subito sera.\n"
#define QUASIMODO_NOTE                                                           \
	QUASIMODO_TEXT "\n" DASH "quasimodo.example/salvatore "                  \
		       "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU" \
		       "0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"

/* golang.org/x/mod/sumdb/note: package documentation and note_test.go. */
#define GO_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define GO_TEXT                                                                  \
	"If you think cryptography is the answer to your problem,\n"             \
	"then you don't know what your problem is.\n"
#define PETER_B64                                                                \
	"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
#define PETER_SIG DASH "PeterNeumann " PETER_B64 "\n"
#define ENOCH_SIG                                                                \
	DASH "EnochRoot "                                                        \
	     "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

/* c2sp.org/tlog-checkpoint and tlog-cosignature examples (no keys
 * published). */
#define CP_TEXT                                                                  \
	"example.com/behind-the-sofa\n20852163\n"                                \
	"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
#define CP_ROOT "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62"
#define CP_LOG_SIG                                                               \
	DASH "example.com/behind-the-sofa "                                      \
	     "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
#define CP_WITNESS_SIG                                                           \
	DASH "witness.example.com/w1 "                                           \
	     "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
#define COSIG_MESSAGE "cosignature/v1\ntime 1679315147\n" CP_TEXT

/* transparency-dev/formats note/note_cosigv1_test.go. */
#define TD_COSIG_VKEY "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
#define TD_NOTE_VKEY "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
/* The first bytes of its ML-DSA-44 (type 0x06) vkey "test+5893dc2c+BtMc..." */
#define MLDSA_VKEY_HEAD "test+5893dc2c+BtMcFiao6ZOdU6LZ40tLKbsWpDOU8smRapXBIYI3lXyESm62to"
#define TD_COSIG_B64                                                             \
	"ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
#define TD_PLAIN_B64                                                             \
	"eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY="

/* filippo.io/torchwood cmd/litewitness/testdata/multi-cosigs-ed25519.txt: a
 * Sigsum log's checkpoint and its log key (hex). */
#define SIGSUM_PK "52c05edad1bf5feffa81354faae59a655d9a9a1a793ed2f62c39c26c0be2aecd"
#define SIGSUM_ORIGIN "sigsum.org/v1/tree/985ea163f5af026723561354f51f2ebcdcf2af809ce254ccfb64aa9aadd80f90"
#define SIGSUM_NOTE                                                              \
	SIGSUM_ORIGIN "\n1\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n" DASH  \
		      SIGSUM_ORIGIN                                              \
		      " 7BKT0gOfNZ1J0So9unY3BZtm2YkPIoNYM/dce0Z2avJDs8dxN6ts9bOSwwrVrbjm6P9K3ZxpK6jJngOG6YvGGzV/lwo=\n"

/* c2sp.org/tlog-proof example, verbatim (signatures elided by the spec). */
#define PROOF_EXTRA_B64 "YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ"
#define PROOF_HEAD                                                               \
	"c2sp.org/tlog-proof@v1\n"                                               \
	"extra " PROOF_EXTRA_B64 "\n"                                            \
	"index 73894\n"                                                          \
	"gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"                         \
	"B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"                         \
	"EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"                         \
	"RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"                         \
	"AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
#define PROOF_CP_TEXT                                                            \
	"example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n"
#define PROOF_EXAMPLE                                                            \
	PROOF_HEAD "\n" PROOF_CP_TEXT "\n"                                       \
		   DASH "example.com/fancylog hI2DJw[...]1roloI=\n"              \
		   DASH "witness1.example mJirIklj[...]qY9v2B/5bg==\n"           \
		   DASH "witness2.example TnKKVHLX[...]xwYwrSjgow==\n"           \
		   DASH "witness3.example S4X82uH5[...]3oEcROGLFQ==\n"

/* ---- helpers ---- */

static struct ml_seckey *
key_from_byte(const char *name, uint8_t b)
{
	uint8_t seed[32];
	struct ml_seckey *k = NULL;
	struct ml_err e;

	memset(seed, b, sizeof seed);
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_from_seed(name, seed, &k, &e), ML_OK);
	return k;
}

static void
pubkey(const char *vkey, struct ml_pubkey *k)
{
	struct ml_err e;

	ml_err_clear(&e);
	assert_int_equal(ml_pubkey_parse(vkey, strlen(vkey), k, &e), ML_OK);
}

static void
parse_ok(const char *s, size_t len, struct ml_note *n)
{
	struct ml_err e;

	ml_err_clear(&e);
	if (ml_note_parse(s, len, n, &e) != ML_OK)
		fail_msg("note did not parse: %s", e.msg);
}

/* Parses a note that must be refused; returns the error text. */
static const char *
note_bad(const char *s, size_t len)
{
	static struct ml_err e;
	struct ml_note n;

	memset(&n, 0x5a, sizeof n);
	ml_err_clear(&e);
	assert_int_equal(ml_note_parse(s, len, &n, &e), ML_EINPUT);
	assert_true(e.msg[0] != '\0');
	/* *out untouched on failure */
	assert_int_equal(((unsigned char *)&n)[0], 0x5a);
	return e.msg;
}

#define NOTE_BAD(lit) note_bad(lit, sizeof(lit) - 1)

static void
sign_text(const struct ml_seckey *k, const char *text, struct ml_buf *out)
{
	struct ml_err e;

	ml_err_clear(&e);
	if (ml_note_sign(k, text, strlen(text), out, &e) != ML_OK)
		fail_msg("sign: %s", e.msg);
}

static void
cosign(const struct ml_seckey *w, struct ml_buf *note, uint64_t ts)
{
	struct ml_buf out = {0};
	struct ml_err e;

	ml_err_clear(&e);
	if (ml_cosign(w, (const char *)note->data, note->len, ts, &out, &e) != ML_OK)
		fail_msg("cosign: %s", e.msg);
	ml_buf_free(note);
	*note = out;
}

static const char *
cp_bad(const char *text)
{
	static struct ml_err e;
	struct ml_checkpoint c;

	ml_err_clear(&e);
	assert_int_equal(ml_checkpoint_parse(text, strlen(text), &c, &e), ML_EINPUT);
	return e.msg;
}

static int
count_lines_named(const struct ml_note *n, const char *name)
{
	size_t i;
	int c = 0;

	for (i = 0; i < n->nsigs; i++)
		if (strcmp(n->sigs[i].name, name) == 0)
			c++;
	return c;
}

/* ---- signed notes: vectors ---- */

static void
test_c2sp_example(void **state)
{
	struct ml_pubkey k;
	struct ml_note n;
	char *bad;

	(void)state;
	pubkey(C2SP_VKEY, &k);
	parse_ok(C2SP_NOTE, strlen(C2SP_NOTE), &n);
	assert_int_equal(n.text_len, strlen(C2SP_TEXT));
	assert_string_equal(n.text, C2SP_TEXT);
	assert_int_equal(n.len, strlen(C2SP_NOTE));
	assert_memory_equal(n.bytes, C2SP_NOTE, n.len);
	assert_int_equal(n.nsigs, 1);
	assert_string_equal(n.sigs[0].name, "example.com/foo");
	assert_int_equal(n.sigs[0].hash, 0x530d903a);
	assert_int_equal(n.sigs[0].sig_len, 64);
	assert_true(ml_note_verify(&n, &k));
	ml_note_clear(&n);

	/* One changed byte of text: the known key's signature fails. */
	bad = strdup(C2SP_NOTE);
	bad[0] = 't';
	parse_ok(bad, strlen(bad), &n);
	assert_false(ml_note_verify(&n, &k));
	ml_note_clear(&n);
	free(bad);
}

static void
test_quasimodo_example(void **state)
{
	struct ml_note n;

	(void)state;
	parse_ok(QUASIMODO_NOTE, strlen(QUASIMODO_NOTE), &n);
	/* Split at the last blank line: the text keeps its own empty line. */
	assert_string_equal(n.text, QUASIMODO_TEXT);
	assert_int_equal(n.nsigs, 1);
	assert_string_equal(n.sigs[0].name, "quasimodo.example/salvatore");
	assert_int_equal(n.sigs[0].hash, 0x367ba04b);
	assert_int_equal(n.sigs[0].sig_len, 64);
	ml_note_clear(&n);
}

static void
test_go_sign_reproduces(void **state)
{
	struct ml_seckey *k = NULL;
	struct ml_pubkey v;
	struct ml_buf b = {0};
	struct ml_note n;
	struct ml_err e;
	const char *want = GO_TEXT "\n" PETER_SIG;

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_decode(GO_SKEY, strlen(GO_SKEY), "go", NULL, NULL, &k, &e),
			 ML_OK);
	sign_text(k, GO_TEXT, &b);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);

	pubkey(GO_VKEY, &v);
	parse_ok((const char *)b.data, b.len, &n);
	assert_true(ml_note_verify(&n, &v));
	ml_note_clear(&n);

	/* ml_note_sign appends to out, and leaves it alone on failure. */
	assert_int_equal(ml_note_sign(k, "no newline", 10, &b, &e), ML_EINPUT);
	assert_int_equal(b.len, strlen(want));
	sign_text(k, GO_TEXT, &b);
	assert_int_equal(b.len, 2 * strlen(want));
	ml_buf_free(&b);
	ml_seckey_free(k);
}

static void
test_go_open(void **state)
{
	static const char two[] = GO_TEXT "\n" PETER_SIG ENOCH_SIG;
	static const char dup[] = GO_TEXT "\n" PETER_SIG PETER_SIG ENOCH_SIG ENOCH_SIG;
	struct ml_pubkey peter, enoch, other;
	struct ml_note n;
	char bad[512];

	(void)state;
	pubkey(GO_VKEY, &peter);
	pubkey(ENOCH_VKEY, &enoch);
	pubkey(C2SP_VKEY, &other);

	parse_ok(two, sizeof two - 1, &n);
	assert_string_equal(n.text, GO_TEXT);
	assert_int_equal(n.nsigs, 2);
	assert_int_equal(n.sigs[0].hash, 0xc74f20a3);
	assert_int_equal(n.sigs[1].hash, 0xaf0cfe78);
	assert_true(ml_note_verify(&n, &peter));
	assert_true(ml_note_verify(&n, &enoch));
	assert_false(ml_note_verify(&n, &other)); /* did not sign */
	ml_note_clear(&n);

	/* Repeated identical lines are fine. */
	parse_ok(dup, sizeof dup - 1, &n);
	assert_int_equal(n.nsigs, 4);
	assert_true(ml_note_verify(&n, &peter));
	assert_true(ml_note_verify(&n, &enoch));
	ml_note_clear(&n);

	/* note_test.go "Invalid signature": ABCD inserted into Peter's base64.
	 * It parses (a longer signature), and Peter's key rejects it. */
	snprintf(bad, sizeof bad, "%s\n%.*sABCD%s", GO_TEXT, 60, PETER_SIG, &PETER_SIG[60]);
	parse_ok(bad, strlen(bad), &n);
	assert_int_equal(n.sigs[0].sig_len, 67);
	assert_false(ml_note_verify(&n, &peter));
	ml_note_clear(&n);

	/* A valid line plus a failing line by the same key: reject. */
	snprintf(bad, sizeof bad, "%s\n%s%.*sABCD%s", GO_TEXT, PETER_SIG, 60, PETER_SIG,
		 &PETER_SIG[60]);
	parse_ok(bad, strlen(bad), &n);
	assert_false(ml_note_verify(&n, &peter));
	ml_note_clear(&n);
}

/* Known-answer: a real Sigsum checkpoint verifies with the log key. */
static void
test_sigsum_checkpoint(void **state)
{
	struct ml_pubkey k;
	struct ml_note n;
	struct ml_checkpoint c;
	struct ml_err e;
	uint8_t root[32];

	(void)state;
	memset(&k, 0, sizeof k);
	snprintf(k.name, sizeof k.name, "%s", SIGSUM_ORIGIN);
	tu_unhex(SIGSUM_PK, k.pk, 32);
	k.hash = ml_key_hash(k.name, k.pk);
	assert_int_equal(k.hash, 0xec1293d2);

	parse_ok(SIGSUM_NOTE, strlen(SIGSUM_NOTE), &n);
	assert_int_equal(n.sigs[0].hash, 0xec1293d2);
	assert_true(ml_note_verify(&n, &k));
	ml_err_clear(&e);
	assert_int_equal(ml_checkpoint_parse(n.text, n.text_len, &c, &e), ML_OK);
	assert_string_equal(c.origin, SIGSUM_ORIGIN);
	assert_int_equal(c.size, 1);
	memset(root, 0, sizeof root);
	root[0] = 0x2a;
	assert_memory_equal(c.root, root, 32);
	assert_int_equal(c.next, 0);
	ml_note_clear(&n);
}

/* ---- signed notes: rejections, one per class ---- */

static void
test_note_structure_errors(void **state)
{
	(void)state;
	/* missing blank line */
	assert_non_null(strstr(NOTE_BAD(GO_TEXT PETER_SIG), "no blank line"));
	assert_non_null(strstr(NOTE_BAD(GO_TEXT), "no blank line"));
	assert_non_null(strstr(NOTE_BAD(""), "no blank line"));
	/* blank line but no signature lines */
	assert_non_null(strstr(NOTE_BAD(GO_TEXT "\n"), "no signature lines"));
	/* last line without its newline */
	assert_non_null(strstr(NOTE_BAD(GO_TEXT "\n" DASH "PeterNeumann " PETER_B64),
			       "newline"));
	/* a line after the signatures that is not a signature line */
	assert_non_null(strstr(NOTE_BAD(GO_TEXT "\n" PETER_SIG "Unexpected line.\n"),
			       "em dash"));
	assert_non_null(strstr(NOTE_BAD(GO_TEXT "\n-- PeterNeumann " PETER_B64 "\n"),
			       "em dash"));
	/* em dash without the space, and a line with no space after the name */
	NOTE_BAD(GO_TEXT "\n\xe2\x80\x94PeterNeumann " PETER_B64 "\n");
	assert_non_null(strstr(NOTE_BAD(GO_TEXT "\n" DASH "PeterNeumann\n"), "no space"));
}

static void
test_note_character_errors(void **state)
{
	struct ml_note n;

	(void)state;
	/* ASCII control characters other than newline */
	assert_non_null(strstr(NOTE_BAD("\x01" GO_TEXT "\n" PETER_SIG), "control"));
	assert_non_null(strstr(NOTE_BAD("a\tb\n\n" PETER_SIG), "control"));
	assert_non_null(strstr(NOTE_BAD("a\r\n\n" PETER_SIG), "control"));
	assert_non_null(strstr(note_bad("a\0b\n\n" PETER_SIG, sizeof("a\0b\n\n" PETER_SIG) - 1),
			       "control"));
	/* invalid UTF-8: stray byte, overlong, surrogate, truncated, > U+10FFFF */
	assert_non_null(strstr(NOTE_BAD("\xff" GO_TEXT "\n" PETER_SIG), "UTF-8"));
	assert_non_null(strstr(NOTE_BAD("\xc0\xaf\n\n" PETER_SIG), "UTF-8"));
	assert_non_null(strstr(NOTE_BAD("\xed\xa0\x80\n\n" PETER_SIG), "UTF-8"));
	assert_non_null(strstr(NOTE_BAD("\xe2\x80\n\n" PETER_SIG), "UTF-8"));
	assert_non_null(strstr(NOTE_BAD("\xf4\x90\x80\x80\n\n" PETER_SIG), "UTF-8"));
	assert_non_null(strstr(NOTE_BAD(GO_TEXT "\n\xe2\x80" " PeterNeumann " PETER_B64 "\n"),
			       "UTF-8"));
	/* The spec forbids only code points below U+0020: DEL, C1 controls and
	 * 4-byte characters are accepted. */
	parse_ok("del \x7f nel \xc2\x85 emoji \xf0\x9f\x98\x80\n\n" PETER_SIG,
		 strlen("del \x7f nel \xc2\x85 emoji \xf0\x9f\x98\x80\n\n" PETER_SIG), &n);
	ml_note_clear(&n);
}

static void
test_note_name_errors(void **state)
{
	struct ml_note n;

	(void)state;
	/* empty name, '+', Unicode spaces (NBSP, EM SPACE, IDEOGRAPHIC SPACE) */
	assert_non_null(strstr(NOTE_BAD(GO_TEXT "\n" DASH " " PETER_B64 "\n"), "key name"));
	assert_non_null(strstr(NOTE_BAD(GO_TEXT "\n" DASH "a+b " PETER_B64 "\n"), "key name"));
	NOTE_BAD(GO_TEXT "\n" DASH "a\xc2\xa0" "b " PETER_B64 "\n");
	NOTE_BAD(GO_TEXT "\n" DASH "a\xe2\x80\x83" "b " PETER_B64 "\n");
	NOTE_BAD(GO_TEXT "\n" DASH "a\xe3\x80\x80" "b " PETER_B64 "\n");
	/* note_test.go: "Bad Name" (the space splits it; "Name x08go..." is
	 * not base64) */
	NOTE_BAD(GO_TEXT "\n" DASH "Bad Name " PETER_B64 "\n");
	/* Non-ASCII names without spaces are valid key names. */
	parse_ok(GO_TEXT "\n" DASH "t\xc3\xa9moin.example " PETER_B64 "\n",
		 strlen(GO_TEXT "\n" DASH "t\xc3\xa9moin.example " PETER_B64 "\n"), &n);
	assert_string_equal(n.sigs[0].name, "t\xc3\xa9moin.example");
	ml_note_clear(&n);
}

static void
test_note_base64_errors(void **state)
{
	struct ml_note n;

	(void)state;
	assert_non_null(strstr(NOTE_BAD(GO_TEXT "\n" DASH "PeterNeumann !!!!\n"), "base64"));
	/* missing padding */
	NOTE_BAD(GO_TEXT "\n" DASH "PeterNeumann "
		 "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n");
	/* non-canonical padding bits ("AN=" for "AM=") */
	NOTE_BAD(GO_TEXT "\n" DASH "PeterNeumann "
		 "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAN=\n");
	/* URL-safe alphabet */
	NOTE_BAD(GO_TEXT "\n" DASH "PeterNeumann "
		 "x08go_ZJkuBS9UG_SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n");
	/* empty signature, and a trailing space */
	NOTE_BAD(GO_TEXT "\n" DASH "PeterNeumann \n");
	NOTE_BAD(GO_TEXT "\n" DASH "PeterNeumann " PETER_B64 " \n");
	/* shorter than key ID + 1 byte: 4 bytes refused, 5 accepted */
	assert_non_null(strstr(NOTE_BAD(GO_TEXT "\n" DASH "k AAAAAA==\n"), "shorter"));
	NOTE_BAD(GO_TEXT "\n" DASH "k AAA=\n");
	parse_ok(GO_TEXT "\n" DASH "k AAAAAAA=\n", strlen(GO_TEXT "\n" DASH "k AAAAAAA=\n"), &n);
	assert_int_equal(n.sigs[0].sig_len, 1);
	ml_note_clear(&n);
}

static void
test_note_limits(void **state)
{
	struct ml_buf b = {0};
	struct ml_note n;
	int i;

	(void)state;
	/* 100 signature lines accepted, 101 refused */
	ml_buf_puts(&b, GO_TEXT "\n");
	for (i = 0; i < 100; i++)
		ml_buf_puts(&b, PETER_SIG);
	parse_ok((const char *)b.data, b.len, &n);
	assert_int_equal(n.nsigs, 100);
	ml_note_clear(&n);
	ml_buf_puts(&b, PETER_SIG);
	assert_non_null(strstr(note_bad((const char *)b.data, b.len), "more than 100"));
	ml_buf_free(&b);

	/* ML_NOTE_MAX bytes */
	ml_buf_puts(&b, "x");
	while (b.len < ML_NOTE_MAX - strlen("\n\n" PETER_SIG))
		ml_buf_puts(&b, "x");
	ml_buf_puts(&b, "\n\n" PETER_SIG);
	assert_int_equal(b.len, ML_NOTE_MAX);
	parse_ok((const char *)b.data, b.len, &n);
	ml_note_clear(&n);
	ml_buf_free(&b);
	ml_buf_puts(&b, "xx");
	while (b.len < ML_NOTE_MAX + 1 - strlen("\n\n" PETER_SIG))
		ml_buf_puts(&b, "x");
	ml_buf_puts(&b, "\n\n" PETER_SIG);
	assert_non_null(strstr(note_bad((const char *)b.data, b.len), "longer than"));
	ml_buf_free(&b);
}

/* Lines of other keys are ignored: a wrong key ID, the right ID under
 * another name, an unknown algorithm with a 2.4 KB signature. */
static void
test_note_unknown_keys_ignored(void **state)
{
	struct ml_pubkey peter;
	struct ml_buf b = {0};
	struct ml_note n;
	uint8_t raw[68], big[2432];
	char *b64;

	(void)state;
	pubkey(GO_VKEY, &peter);
	assert_int_equal(ml_b64_decode_exact(PETER_B64, strlen(PETER_B64), raw, 68), 0);
	raw[3] ^= 1; /* key ID c74f20a2: Peter's signature bytes, another key */
	b64 = ml_b64_encode(raw, sizeof raw);
	ml_buf_printf(&b, "%s\n%sPeterNeumann %s\n", GO_TEXT, DASH, b64);
	free(b64);
	parse_ok((const char *)b.data, b.len, &n);
	assert_int_equal(n.sigs[0].hash, 0xc74f20a2);
	assert_false(ml_note_verify(&n, &peter)); /* not Peter's line: ignored */
	ml_note_clear(&n);

	/* ... and next to Peter's real line it changes nothing. */
	ml_buf_puts(&b, PETER_SIG);
	ml_buf_puts(&b, DASH "PeterNeumann2 " PETER_B64 "\n"); /* same ID, other name */
	memset(big, 0x42, sizeof big);
	b64 = ml_b64_encode(big, sizeof big);
	ml_buf_printf(&b, "%switness.example/mldsa %s\n", DASH, b64);
	free(b64);
	parse_ok((const char *)b.data, b.len, &n);
	assert_int_equal(n.nsigs, 4);
	assert_int_equal(n.sigs[3].sig_len, sizeof big - 4);
	assert_true(ml_note_verify(&n, &peter));
	ml_note_clear(&n);
	ml_buf_free(&b);
}

static void
test_note_sign_errors(void **state)
{
	struct ml_seckey *k = key_from_byte("signer.example", 7);
	struct ml_buf b = {0};
	struct ml_err e;
	char *big;

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_note_sign(k, "", 0, &b, &e), ML_EINPUT);
	assert_int_equal(ml_note_sign(k, "abc", 3, &b, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "newline"));
	assert_int_equal(ml_note_sign(k, "a\rb\n", 4, &b, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "control"));
	assert_int_equal(ml_note_sign(k, "\xff\n", 2, &b, &e), ML_EINPUT);
	big = malloc(ML_NOTE_MAX);
	memset(big, 'x', ML_NOTE_MAX);
	big[ML_NOTE_MAX - 1] = '\n';
	assert_int_equal(ml_note_sign(k, big, ML_NOTE_MAX, &b, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "longer"));
	free(big);
	assert_int_equal(b.len, 0);
	ml_buf_free(&b);
	ml_seckey_free(k);
}

/* Texts with blank lines, a final blank line, or one that looks like a
 * signature block round-trip through sign and parse. */
static void
test_note_roundtrip(void **state)
{
	static const char *texts[] = {
		"\n",
		"a\n\n",
		"a\n\n\nb\n",
		"x\n\n" DASH "PeterNeumann " PETER_B64 "\n",
		CP_TEXT,
	};
	struct ml_seckey *k = key_from_byte("round.trip/key", 9), *other;
	const struct ml_pubkey *pub = ml_seckey_public(k);
	size_t i;

	(void)state;
	other = key_from_byte("round.trip/key", 10); /* same name, other key */
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct ml_buf b = {0};
		struct ml_note n;
		sign_text(k, texts[i], &b);
		parse_ok((const char *)b.data, b.len, &n);
		assert_string_equal(n.text, texts[i]);
		assert_int_equal(n.nsigs, 1);
		assert_int_equal(n.sigs[0].hash, pub->hash);
		assert_true(ml_note_verify(&n, pub));
		assert_false(ml_note_verify(&n, ml_seckey_public(other)));
		ml_note_clear(&n);
		ml_buf_free(&b);
	}
	ml_note_clear(NULL);
	ml_seckey_free(other);
	ml_seckey_free(k);
}

/* ---- checkpoints ---- */

static void
test_checkpoint_example(void **state)
{
	static const char note[] = CP_TEXT "\n" CP_LOG_SIG CP_WITNESS_SIG;
	struct ml_checkpoint c;
	struct ml_buf b = {0};
	struct ml_note n;
	struct ml_err e;
	uint8_t root[32];

	(void)state;
	parse_ok(note, sizeof note - 1, &n);
	assert_string_equal(n.text, CP_TEXT);
	assert_int_equal(n.nsigs, 2);
	assert_int_equal(n.sigs[0].hash, 0x033de0ae);
	assert_int_equal(n.sigs[0].sig_len, 64);
	ml_err_clear(&e);
	assert_int_equal(ml_checkpoint_parse(n.text, n.text_len, &c, &e), ML_OK);
	assert_string_equal(c.origin, "example.com/behind-the-sofa");
	assert_int_equal(c.size, 20852163);
	tu_unhex(CP_ROOT, root, 32);
	assert_memory_equal(c.root, root, 32);
	assert_int_equal(c.next, 0);
	assert_int_equal(c.ext_len, 0);
	ml_checkpoint_format(&c, &b);
	assert_int_equal(b.len, strlen(CP_TEXT));
	assert_memory_equal(b.data, CP_TEXT, b.len);
	ml_buf_free(&b);
	ml_note_clear(&n);
}

static void
test_checkpoint_size_errors(void **state)
{
	struct ml_checkpoint c;
	struct ml_err e;
	const char *r = "\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	static const char *bad[] = {"020852163", "00", "01", "", "-1", "+1", " 1", "1 ",
				    "1a", "0x10", "9223372036854775808",
				    "18446744073709551615", "18446744073709551616",
				    "\xd9\xa1"};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "o\n%s%s", bad[i], r);
		cp_bad(text);
	}
	snprintf(text, sizeof text, "o\n0%s", r);
	ml_err_clear(&e);
	assert_int_equal(ml_checkpoint_parse(text, strlen(text), &c, &e), ML_OK);
	assert_int_equal(c.size, 0);
	snprintf(text, sizeof text, "o\n9223372036854775807%s", r);
	assert_int_equal(ml_checkpoint_parse(text, strlen(text), &c, &e), ML_OK);
	assert_int_equal(c.size, 9223372036854775807ULL);
}

static void
test_checkpoint_root_errors(void **state)
{
	(void)state;
	/* no padding, 31 and 33 bytes, non-canonical bits, hex, empty */
	cp_bad("o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n");
	cp_bad("o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n");
	cp_bad("o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n");
	cp_bad("o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n");
	cp_bad("o\n1\n" CP_ROOT "\n");
	assert_non_null(strstr(cp_bad("o\n1\n\n"), "root"));
}

static void
test_checkpoint_lines(void **state)
{
	struct ml_checkpoint c;
	struct ml_err e;
	char origin[300], text[400];
	static const char ext[] = CP_TEXT "ext one\nsecond \xc3\xa9xt\n";

	(void)state;
	/* missing origin, too few lines, no final newline, control characters */
	assert_non_null(strstr(cp_bad("\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"),
			       "origin"));
	assert_non_null(strstr(cp_bad("o\n1\n"), "root"));
	assert_non_null(strstr(cp_bad("o\n"), "size"));
	cp_bad("");
	cp_bad("o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
	cp_bad("o\x01\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
	cp_bad("o\xff\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");

	/* Extension lines are allowed (non-empty) and reported. */
	ml_err_clear(&e);
	assert_int_equal(ml_checkpoint_parse(ext, strlen(ext), &c, &e), ML_OK);
	assert_int_equal(c.next, 2);
	assert_int_equal(c.ext_off, strlen(CP_TEXT));
	assert_int_equal(c.ext_len, strlen("ext one\nsecond \xc3\xa9xt\n"));
	assert_non_null(strstr(cp_bad(CP_TEXT "\n"), "empty extension"));
	cp_bad(CP_TEXT "a\n\nb\n");

	/* Origins are opaque: spaces and '+' are fine; at most 255 bytes. */
	snprintf(text, sizeof text, "a log+origin\n1\n%s\n",
		 "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
	assert_int_equal(ml_checkpoint_parse(text, strlen(text), &c, &e), ML_OK);
	assert_string_equal(c.origin, "a log+origin");
	memset(origin, 'a', 255);
	origin[255] = '\0';
	snprintf(text, sizeof text, "%s\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", origin);
	assert_int_equal(ml_checkpoint_parse(text, strlen(text), &c, &e), ML_OK);
	assert_int_equal(strlen(c.origin), 255);
	snprintf(text, sizeof text, "a%s\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		 origin);
	assert_non_null(strstr(cp_bad(text), "longer"));
}

/* Signed checkpoints: what ml_checkpoint_sign writes, ml_checkpoint_open
 * reads back; another key, another origin, a flipped byte and a body that
 * is not a checkpoint are refused with the documented codes. */
static void
test_checkpoint_sign_open(void **state)
{
	struct ml_seckey *k = key_from_byte("example.com/log", 7);
	struct ml_seckey *other = key_from_byte("example.com/log", 8);
	struct ml_seckey *named = key_from_byte("other.example/log", 7);
	const struct ml_pubkey *pk = ml_seckey_public(k);
	struct ml_checkpoint c, got;
	struct ml_buf note = {0}, bad = {0};
	struct ml_err e;
	char *flip;

	(void)state;
	memset(&c, 0, sizeof c);
	snprintf(c.origin, sizeof c.origin, "example.com/log");
	c.size = 42;
	memset(c.root, 0xab, sizeof c.root);
	ml_err_clear(&e);
	assert_int_equal(ml_checkpoint_sign(k, &c, &note, &e), ML_OK);
	assert_int_equal(ml_checkpoint_open(pk, (const char *)note.data, note.len, &got, &e),
			 ML_OK);
	assert_string_equal(got.origin, "example.com/log");
	assert_int_equal(got.size, 42);
	assert_memory_equal(got.root, c.root, sizeof c.root);

	/* The same name, another key: not signed by the log key. */
	assert_int_equal(ml_checkpoint_open(ml_seckey_public(other), (const char *)note.data,
					    note.len, &got, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "not signed by the log key"));
	/* A key named otherwise: a checkpoint of another log. */
	assert_int_equal(ml_checkpoint_open(ml_seckey_public(named), (const char *)note.data,
					    note.len, &got, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "of another log"));
	/* One byte of the root's base64 changed: the signature fails. */
	flip = strndup((const char *)note.data, note.len);
	assert_non_null(flip);
	flip[strlen("example.com/log\n42\n") + 2] ^= 1;
	assert_int_equal(ml_checkpoint_open(pk, flip, note.len, &got, &e), ML_EINTEGRITY);
	free(flip);
	/* A signed note that is not a checkpoint; bytes that are not a note. */
	assert_int_equal(ml_note_sign(k, "hello\n", 6, &bad, &e), ML_OK);
	assert_int_equal(ml_checkpoint_open(pk, (const char *)bad.data, bad.len, &got, &e),
			 ML_EINPUT);
	assert_int_equal(ml_checkpoint_open(pk, "junk", 4, &got, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "checkpoint"));

	ml_buf_free(&note);
	ml_buf_free(&bad);
	ml_seckey_free(k);
	ml_seckey_free(other);
	ml_seckey_free(named);
}

/* ---- cosignatures ---- */

static void
test_cosignature_example(void **state)
{
	static const char note[] = CP_TEXT "\n" CP_LOG_SIG CP_WITNESS_SIG;
	struct ml_buf msg = {0};
	struct ml_note n;
	uint64_t ts = 0;

	(void)state;
	parse_ok(note, sizeof note - 1, &n);
	assert_string_equal(n.sigs[1].name, "witness.example.com/w1");
	assert_int_equal(n.sigs[1].hash, 0x8d66cf3f);
	assert_int_equal(n.sigs[1].sig_len, 72);
	assert_int_equal(ml_cosig_timestamp(&n.sigs[1], &ts), 0);
	assert_int_equal(ts, 1679315147);
	/* the log's 64-byte signature is not a cosignature */
	assert_int_equal(ml_cosig_timestamp(&n.sigs[0], &ts), ML_EINPUT);
	/* The signed message of the spec, byte for byte. */
	ml_cosig_message(n.text, n.text_len, 1679315147, &msg);
	assert_false(msg.oom);
	assert_int_equal(msg.len, strlen(COSIG_MESSAGE));
	assert_memory_equal(msg.data, COSIG_MESSAGE, msg.len);
	ml_buf_free(&msg);
	ml_note_clear(&n);
}

static void
test_cosignature_transparency_dev(void **state)
{
	static const char note[] = "test\n\n" DASH "w " TD_COSIG_B64 "\n" DASH "w " TD_PLAIN_B64 "\n";
	struct ml_cosig_key k;
	struct ml_note n;
	struct ml_err e;
	char buf[ML_VKEY_MAX];
	uint64_t ts = 0;

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_cosig_vkey_parse(TD_COSIG_VKEY, strlen(TD_COSIG_VKEY), &k, &e), ML_OK);
	assert_string_equal(k.name, "remora.n621.de");
	assert_int_equal(k.hash, 0xda77ade7);
	assert_int_equal(ml_cosig_key_hash(k.name, k.pk), 0xda77ade7);
	ml_cosig_vkey_format(&k, buf);
	assert_string_equal(buf, TD_COSIG_VKEY);

	/* CosignatureTimestamp "works" and "wrong type of signature" cases */
	parse_ok(note, sizeof note - 1, &n);
	assert_int_equal(ml_cosig_timestamp(&n.sigs[0], &ts), 0);
	assert_int_equal(ts, 1727964367);
	assert_int_equal(ml_cosig_timestamp(&n.sigs[1], &ts), ML_EINPUT);
	ml_note_clear(&n);
}

static void
test_cosig_vkey_errors(void **state)
{
	struct ml_seckey *w = key_from_byte("witness.example/w", 3);
	struct ml_cosig_key k, good;
	struct ml_err e;
	char buf[ML_VKEY_MAX], bad[ML_VKEY_MAX + 64];
	static const char *cases[] = {
		"", "nokey", "a+b", "a+12345678",
		"+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
		"remora.n621.de+DA77ADE7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
		"remora.n621.de+da77ade8+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
		"remora.n621.de+da77ade+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
		"remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw",
		"remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2=",
		"remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2 ",
		"rem ra.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
	};
	size_t i;

	(void)state;
	ml_err_clear(&e);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&k, 0x5a, sizeof k);
		assert_int_equal(ml_cosig_vkey_parse(cases[i], strlen(cases[i]), &k, &e),
				 ML_EINPUT);
		assert_int_equal(((unsigned char *)&k)[0], 0x5a);
	}
	/* A note key (type 0x01), as a witness key, is refused. */
	assert_int_equal(ml_cosig_vkey_parse(TD_NOTE_VKEY, strlen(TD_NOTE_VKEY), &k, &e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "0x01"));
	/* ML-DSA-44 (type 0x06): not supported, said so. */
	assert_int_equal(ml_cosig_vkey_parse(MLDSA_VKEY_HEAD, strlen(MLDSA_VKEY_HEAD), &k, &e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "ML-DSA"));
	/* Round trip of our own witness key; an unknown type byte; a point
	 * off the curve with a correct key ID. */
	ml_cosig_key_of(w, &good);
	ml_cosig_vkey_format(&good, buf);
	assert_int_equal(ml_cosig_vkey_parse(buf, strlen(buf), &k, &e), ML_OK);
	assert_memory_equal(&k, &good, sizeof k);
	{
		uint8_t raw[33];
		char *b64;
		struct ml_cosig_key t = good;
		raw[0] = 0x05;
		memcpy(raw + 1, good.pk, 32);
		b64 = ml_b64_encode(raw, sizeof raw);
		snprintf(bad, sizeof bad, "%s+%08x+%s", good.name, (unsigned)good.hash, b64);
		free(b64);
		assert_int_equal(ml_cosig_vkey_parse(bad, strlen(bad), &k, &e), ML_EINPUT);
		assert_non_null(strstr(e.msg, "0x05"));
		memset(t.pk, 0, 32); /* y = 0: a point of order 4 */
		t.hash = ml_cosig_key_hash(t.name, t.pk);
		ml_cosig_vkey_format(&t, buf);
		assert_int_equal(ml_cosig_vkey_parse(buf, strlen(buf), &k, &e), ML_EINPUT);
	}
	ml_seckey_free(w);
}

static void
test_cosign_roundtrip(void **state)
{
	struct ml_seckey *log = key_from_byte("example.com/log", 1);
	struct ml_seckey *w1 = key_from_byte("witness.example/w1", 2);
	struct ml_seckey *w2 = key_from_byte("witness.example/w2", 3);
	struct ml_cosig_key k1, k2;
	struct ml_checkpoint c;
	struct ml_buf text = {0}, note = {0};
	struct ml_note n;
	uint64_t ts = 0;

	(void)state;
	ml_cosig_key_of(w1, &k1);
	ml_cosig_key_of(w2, &k2);
	memset(&c, 0, sizeof c);
	snprintf(c.origin, sizeof c.origin, "example.com/log");
	c.size = 42;
	memset(c.root, 0xab, 32);
	ml_checkpoint_format(&c, &text);
	ml_buf_puts(&text, ""); /* NUL-terminate */
	sign_text(log, (const char *)text.data, &note);
	cosign(w1, &note, 1700000000);
	cosign(w2, &note, 1700000005);

	parse_ok((const char *)note.data, note.len, &n);
	assert_int_equal(n.nsigs, 3);
	assert_true(ml_note_verify(&n, ml_seckey_public(log)));
	assert_true(ml_cosig_verify(&n, &k1, &ts));
	assert_int_equal(ts, 1700000000);
	assert_true(ml_cosig_verify(&n, &k2, NULL));
	/* A witness's plain Ed25519 key (type 0x01) does not match its
	 * cosignature line (type 0x04 key ID), and the reverse. */
	assert_false(ml_note_verify(&n, ml_seckey_public(w1)));
	ml_note_clear(&n);

	/* Cosigning again replaces the witness's line. */
	cosign(w1, &note, 1700000100);
	parse_ok((const char *)note.data, note.len, &n);
	assert_int_equal(n.nsigs, 3);
	assert_int_equal(count_lines_named(&n, "witness.example/w1"), 1);
	assert_string_equal(n.sigs[2].name, "witness.example/w1"); /* added last */
	assert_true(ml_cosig_verify(&n, &k1, &ts));
	assert_int_equal(ts, 1700000100);
	assert_true(ml_note_verify(&n, ml_seckey_public(log)));
	ml_note_clear(&n);
	ml_buf_free(&note);

	/* A plain note signature by the witness is no cosignature. */
	sign_text(w1, (const char *)text.data, &note);
	parse_ok((const char *)note.data, note.len, &n);
	assert_false(ml_cosig_verify(&n, &k1, &ts));
	ml_note_clear(&n);
	ml_buf_free(&note);
	ml_buf_free(&text);
	ml_seckey_free(log);
	ml_seckey_free(w1);
	ml_seckey_free(w2);
}

/* Rewrites the timestamp of signature line `line` (0-based) of note. */
static void
retime(struct ml_buf *note, size_t line, uint64_t ts)
{
	struct ml_note n;
	struct ml_buf out = {0};
	uint8_t raw[76];
	char *b64;
	size_t i;

	parse_ok((const char *)note->data, note->len, &n);
	ml_buf_append(&out, n.text, n.text_len);
	ml_buf_puts(&out, "\n");
	for (i = 0; i < n.nsigs; i++) {
		if (i != line) {
			ml_buf_append(&out, n.sigs[i].line, n.sigs[i].line_len);
			ml_buf_puts(&out, "\n");
			continue;
		}
		assert_int_equal(n.sigs[i].sig_len, 72);
		ml_put_be32(raw, n.sigs[i].hash);
		memcpy(raw + 4, n.sigs[i].sig, 72);
		ml_put_be64(raw + 4, ts);
		b64 = ml_b64_encode(raw, sizeof raw);
		ml_buf_printf(&out, "%s%s %s\n", DASH, n.sigs[i].name, b64);
		free(b64);
	}
	ml_note_clear(&n);
	ml_buf_free(note);
	*note = out;
}

static void
test_cosign_tamper(void **state)
{
	struct ml_seckey *log = key_from_byte("example.com/log", 1);
	struct ml_seckey *w1 = key_from_byte("witness.example/w1", 2);
	struct ml_seckey *w3 = key_from_byte("witness.example/w3", 4);
	struct ml_cosig_key k1, k3;
	struct ml_buf note = {0}, out = {0};
	struct ml_note n;
	struct ml_err e;
	uint64_t ts;
	char *edited;
	static const char text[] = "example.com/log\n5\n"
				   "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\nextension line\n";

	(void)state;
	ml_cosig_key_of(w1, &k1);
	ml_cosig_key_of(w3, &k3);
	sign_text(log, text, &note);
	cosign(w1, &note, 1700000000);
	parse_ok((const char *)note.data, note.len, &n);
	assert_true(ml_cosig_verify(&n, &k1, &ts));
	assert_false(ml_cosig_verify(&n, &k3, &ts)); /* did not cosign */
	ml_note_clear(&n);

	/* The extension line is covered by the cosignature. */
	edited = strndup((const char *)note.data, note.len);
	*strstr(edited, "extension") = 'E';
	parse_ok(edited, strlen(edited), &n);
	assert_false(ml_cosig_verify(&n, &k1, &ts));
	ml_note_clear(&n);
	free(edited);

	/* A changed timestamp breaks the signature; one above 2^63 - 1 is
	 * refused even before verification. */
	retime(&note, 1, 1700000001);
	parse_ok((const char *)note.data, note.len, &n);
	assert_false(ml_cosig_verify(&n, &k1, &ts));
	ml_note_clear(&n);
	retime(&note, 1, 0x8000000000000000ULL);
	parse_ok((const char *)note.data, note.len, &n);
	assert_int_equal(ml_cosig_timestamp(&n.sigs[1], &ts), ML_EINPUT);
	assert_false(ml_cosig_verify(&n, &k1, &ts));
	ml_note_clear(&n);

	/* ml_cosign refusals: a timestamp above 2^63 - 1, a text that is no
	 * checkpoint, a malformed note.  out is left alone. */
	ml_err_clear(&e);
	assert_int_equal(ml_cosign(w1, (const char *)note.data, note.len,
				   0x8000000000000000ULL, &out, &e), ML_EINPUT);
	assert_int_equal(ml_cosign(w1, GO_TEXT "\n" PETER_SIG, strlen(GO_TEXT "\n" PETER_SIG),
				   1, &out, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "checkpoint"));
	assert_int_equal(ml_cosign(w1, CP_TEXT, strlen(CP_TEXT), 1, &out, &e), ML_EINPUT);
	assert_int_equal(out.len, 0);
	/* Timestamp 2^63 - 1 is the largest allowed. */
	assert_int_equal(ml_cosign(w1, (const char *)note.data, note.len,
				   0x7fffffffffffffffULL, &out, &e), ML_OK);
	parse_ok((const char *)out.data, out.len, &n);
	assert_true(ml_cosig_verify(&n, &k1, &ts));
	assert_int_equal(ts, 0x7fffffffffffffffULL);
	ml_note_clear(&n);

	ml_buf_free(&out);
	ml_buf_free(&note);
	ml_seckey_free(log);
	ml_seckey_free(w1);
	ml_seckey_free(w3);
}

/* ---- tlog-proof ---- */

/* A proof of index 73894 in the example's tree of 109482 leaves: the
 * spec's five hashes, then twelve of our own (17 in all). */
static void
example_hashes(uint8_t h[17][32])
{
	static const char *spec[] = {
		"gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=",
		"B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=",
		"EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=",
		"RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=",
		"AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=",
	};
	size_t i;

	for (i = 0; i < 5; i++)
		assert_int_equal(ml_b64_decode_exact(spec[i], 44, h[i], 32), 0);
	for (i = 5; i < 17; i++) {
		uint8_t b = (uint8_t)i;
		ml_sha256(&b, 1, h[i]);
	}
}

static void
fancylog_note(struct ml_buf *note)
{
	struct ml_seckey *log = key_from_byte("example.com/fancylog", 5);
	struct ml_seckey *w = key_from_byte("witness1.example", 6);

	sign_text(log, PROOF_CP_TEXT, note);
	cosign(w, note, 1700000000);
	ml_seckey_free(log);
	ml_seckey_free(w);
}

static void
test_tlog_proof_example(void **state)
{
	uint8_t h[17][32], extra[64];
	struct ml_buf note = {0}, b = {0};
	struct ml_tlog_proof p;
	struct ml_err e;
	size_t extra_len = 39;

	(void)state;
	example_hashes(h);
	fancylog_note(&note);
	assert_int_equal(ml_b64_decode_exact(PROOF_EXTRA_B64, strlen(PROOF_EXTRA_B64), extra,
					     extra_len), 0);
	ml_tlog_proof_format(73894, extra, extra_len, (const uint8_t(*)[32])h, 17,
			     (const char *)note.data, note.len, &b);
	assert_false(b.oom);
	/* The spec's first lines, byte for byte. */
	assert_memory_equal(b.data, PROOF_HEAD, strlen(PROOF_HEAD));

	ml_err_clear(&e);
	if (ml_tlog_proof_parse((const char *)b.data, b.len, &p, &e) != ML_OK)
		fail_msg("proof: %s", e.msg);
	assert_int_equal(p.index, 73894);
	assert_int_equal(p.extra_len, extra_len);
	assert_memory_equal(p.extra, "age-v1.2.1-darwin-arm64.tar.gz", 30);
	assert_int_equal(p.nhashes, 17);
	assert_memory_equal(p.hashes, h, sizeof h);
	assert_string_equal(p.checkpoint.origin, "example.com/fancylog");
	assert_int_equal(p.checkpoint.size, 109482);
	assert_int_equal(p.note.nsigs, 2);
	assert_int_equal(p.note.len, note.len);
	assert_memory_equal(p.note.bytes, note.data, note.len);
	ml_tlog_proof_clear(&p);
	ml_tlog_proof_clear(NULL);

	/* The spec's example verbatim is illustrative: its signatures are
	 * elided ("[...]") and its five hashes are not the 17 of a real proof. */
	assert_int_equal(ml_tlog_proof_parse(PROOF_EXAMPLE, strlen(PROOF_EXAMPLE), &p, &e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "base64"));
	ml_buf_free(&b);
	ml_tlog_proof_format(73894, extra, extra_len, (const uint8_t(*)[32])h, 5,
			     (const char *)note.data, note.len, &b);
	assert_int_equal(ml_tlog_proof_parse((const char *)b.data, b.len, &p, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "has 17"));
	ml_buf_free(&b);
	ml_buf_free(&note);
}

/* Small trees: the expected number of hashes for every index. */
static void
test_tlog_proof_lengths(void **state)
{
	struct ml_seckey *log = key_from_byte("example.com/log", 1);
	uint8_t h[64][32];
	/* RFC 6962 inclusion proof lengths, by hand: size 1..7 */
	static const size_t want[8][7] = {
		{0}, {0}, {1, 1}, {2, 2, 1}, {2, 2, 2, 2}, {3, 3, 3, 3, 1},
		{3, 3, 3, 3, 2, 2}, {3, 3, 3, 3, 3, 3, 2},
	};
	uint64_t size, idx;

	(void)state;
	memset(h, 7, sizeof h);
	for (size = 1; size <= 7; size++) {
		struct ml_checkpoint c;
		struct ml_buf text = {0}, note = {0};
		memset(&c, 0, sizeof c);
		snprintf(c.origin, sizeof c.origin, "example.com/log");
		c.size = size;
		ml_checkpoint_format(&c, &text);
		ml_buf_puts(&text, "");
		sign_text(log, (const char *)text.data, &note);
		for (idx = 0; idx < size; idx++) {
			size_t n;
			for (n = 0; n <= 4; n++) {
				struct ml_buf b = {0};
				struct ml_tlog_proof p;
				struct ml_err e;
				int rc;
				ml_tlog_proof_format(idx, NULL, 0, (const uint8_t(*)[32])h, n,
						     (const char *)note.data, note.len, &b);
				ml_err_clear(&e);
				rc = ml_tlog_proof_parse((const char *)b.data, b.len, &p, &e);
				assert_int_equal(rc, n == want[size][idx] ? ML_OK : ML_EINPUT);
				if (rc == ML_OK) {
					assert_null(p.extra);
					ml_tlog_proof_clear(&p);
				}
				ml_buf_free(&b);
			}
		}
		ml_buf_free(&text);
		ml_buf_free(&note);
	}
	ml_seckey_free(log);
}

static const char *
proof_bad(const char *s, size_t len)
{
	static struct ml_err e;
	struct ml_tlog_proof p;

	memset(&p, 0x5a, sizeof p);
	ml_err_clear(&e);
	assert_int_equal(ml_tlog_proof_parse(s, len, &p, &e), ML_EINPUT);
	assert_int_equal(((unsigned char *)&p)[0], 0x5a);
	return e.msg;
}

static void
test_tlog_proof_errors(void **state)
{
	uint8_t h[17][32];
	struct ml_buf note = {0}, good = {0}, b = {0};
	size_t i, cut;
	char *s;

	(void)state;
	example_hashes(h);
	fancylog_note(&note);
	ml_tlog_proof_format(73894, NULL, 0, (const uint8_t(*)[32])h, 17,
			     (const char *)note.data, note.len, &good);

	/* truncated anywhere: refused, except right after a whole signature
	 * line, where what is left is a valid proof with fewer signatures */
	{
		const char *nd = (const char *)note.data;
		size_t first_sig = good.len - note.len + (size_t)(strstr(nd, "\n\n") - nd) + 2;
		for (cut = 0; cut < good.len; cut++) {
			struct ml_tlog_proof p;
			struct ml_err e;
			int boundary = cut > first_sig && good.data[cut - 1] == '\n';
			if (!boundary) {
				proof_bad((const char *)good.data, cut);
				continue;
			}
			assert_int_equal(ml_tlog_proof_parse((const char *)good.data, cut, &p, &e),
					 ML_OK);
			assert_int_equal(p.note.nsigs, 1);
			ml_tlog_proof_clear(&p);
		}
	}
	assert_non_null(strstr(proof_bad((const char *)good.data, 30), "truncated"));

	/* padded: an extra hash, an extra line before the blank line, data after
	 * the note, a blank line before the hashes */
	ml_tlog_proof_format(73894, NULL, 0, (const uint8_t(*)[32])h, 16,
			     (const char *)note.data, note.len, &b);
	assert_non_null(strstr(proof_bad((const char *)b.data, b.len), "has 17"));
	ml_buf_free(&b);
	{
		uint8_t h18[18][32];
		memcpy(h18, h, sizeof h);
		memcpy(h18[17], h[0], 32);
		ml_tlog_proof_format(73894, NULL, 0, (const uint8_t(*)[32])h18, 18,
				     (const char *)note.data, note.len, &b);
		assert_non_null(strstr(proof_bad((const char *)b.data, b.len), "18 hashes"));
		ml_buf_free(&b);
	}
	{
		uint8_t h65[65][32];
		memset(h65, 1, sizeof h65);
		ml_tlog_proof_format(73894, NULL, 0, (const uint8_t(*)[32])h65, 65,
				     (const char *)note.data, note.len, &b);
		assert_non_null(strstr(proof_bad((const char *)b.data, b.len), "more than 64"));
		ml_buf_free(&b);
	}
	s = strndup((const char *)good.data, good.len);
	ml_buf_append(&b, s, strstr(s, "\n\n") - s + 1);
	ml_buf_puts(&b, "not a hash\n");
	ml_buf_puts(&b, strstr(s, "\n\n") + 1);
	assert_non_null(strstr(proof_bad((const char *)b.data, b.len), "proof line 18"));
	ml_buf_free(&b);
	ml_buf_append(&b, good.data, good.len);
	ml_buf_puts(&b, "trailing\n");
	proof_bad((const char *)b.data, b.len);
	ml_buf_free(&b);
	ml_buf_puts(&b, "c2sp.org/tlog-proof@v1\n\nindex 73894\n");
	ml_buf_puts(&b, strstr(s, "index 73894\n") + strlen("index 73894\n"));
	proof_bad((const char *)b.data, b.len);
	ml_buf_free(&b);

	/* bad index lines */
	{
		static const char *idx[] = {"index 073894", "index ", "index -1", "index 7e4",
					    "index  73894", "index 73894 ", "Index 73894",
					    "index\t73894", "73894", "index 109482",
					    "index 9223372036854775808"};
		for (i = 0; i < sizeof idx / sizeof idx[0]; i++) {
			ml_buf_printf(&b, "c2sp.org/tlog-proof@v1\n%s\n", idx[i]);
			ml_buf_puts(&b, strstr(s, "index 73894\n") + strlen("index 73894\n"));
			proof_bad((const char *)b.data, b.len);
			ml_buf_free(&b);
		}
		ml_buf_puts(&b, "c2sp.org/tlog-proof@v1\nindex 109482\n");
		ml_buf_puts(&b, strstr(s, "index 73894\n") + strlen("index 73894\n"));
		assert_non_null(strstr(proof_bad((const char *)b.data, b.len), "not below"));
		ml_buf_free(&b);
	}

	/* header and extra line */
	assert_non_null(strstr(proof_bad(s + 1, strlen(s + 1)), "first line"));
	ml_buf_puts(&b, "c2sp.org/tlog-proof@v2\n");
	ml_buf_puts(&b, strchr(s, '\n') + 1);
	proof_bad((const char *)b.data, b.len);
	ml_buf_free(&b);
	{
		static const char *extra[] = {"extra ", "extra !!!!", "extra YQ",
					      "extra YR==", "extra  YQ=="};
		for (i = 0; i < sizeof extra / sizeof extra[0]; i++) {
			ml_buf_printf(&b, "c2sp.org/tlog-proof@v1\n%s\n", extra[i]);
			ml_buf_puts(&b, strchr(s, '\n') + 1);
			assert_non_null(strstr(proof_bad((const char *)b.data, b.len), "extra"));
			ml_buf_free(&b);
		}
		/* extra after the index line */
		ml_buf_puts(&b, "c2sp.org/tlog-proof@v1\nindex 73894\nextra YQ==\n");
		ml_buf_puts(&b, strstr(s, "index 73894\n") + strlen("index 73894\n"));
		proof_bad((const char *)b.data, b.len);
		ml_buf_free(&b);
	}

	/* a hash of 31 bytes; a note whose text is not a checkpoint */
	ml_buf_puts(&b, "c2sp.org/tlog-proof@v1\nindex 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n\n");
	ml_buf_append(&b, note.data, note.len);
	proof_bad((const char *)b.data, b.len);
	ml_buf_free(&b);
	ml_buf_puts(&b, "c2sp.org/tlog-proof@v1\nindex 0\n\n" GO_TEXT "\n" PETER_SIG);
	assert_non_null(strstr(proof_bad((const char *)b.data, b.len), "checkpoint"));
	ml_buf_free(&b);

	free(s);
	ml_buf_free(&good);
	ml_buf_free(&note);
}

/* ---- policies ---- */

struct pfix {
	struct ml_seckey *log, *w[6];
	char logv[ML_VKEY_MAX], wv[6][ML_VKEY_MAX];
};

static void
pfix_init(struct pfix *f)
{
	struct ml_cosig_key k;
	char name[32];
	int i;

	f->log = key_from_byte("example.com/log", 1);
	ml_pubkey_format(ml_seckey_public(f->log), f->logv);
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "witness.example/%d", i);
		f->w[i] = key_from_byte(name, (uint8_t)(20 + i));
		ml_cosig_key_of(f->w[i], &k);
		ml_cosig_vkey_format(&k, f->wv[i]);
	}
}

static void
pfix_free(struct pfix *f)
{
	int i;

	ml_seckey_free(f->log);
	for (i = 0; i < 6; i++)
		ml_seckey_free(f->w[i]);
}

static struct ml_trust *
policy_ok(const char *text)
{
	struct ml_trust *p = NULL;
	struct ml_err e;

	ml_err_clear(&e);
	if (ml_trust_parse(text, strlen(text), &p, &e) != ML_OK)
		fail_msg("policy: %s\n%s", e.msg, text);
	return p;
}

static const char *
policy_bad(const char *text)
{
	static struct ml_err e;
	struct ml_trust *p = (struct ml_trust *)0x1;

	ml_err_clear(&e);
	assert_int_equal(ml_trust_parse(text, strlen(text), &p, &e), ML_EINPUT);
	assert_ptr_equal(p, (struct ml_trust *)0x1);
	return e.msg;
}

/* The log signs a checkpoint; witnesses listed in mask cosign it. */
static void
witnessed(struct pfix *f, const char *origin, unsigned mask, struct ml_note *n)
{
	struct ml_buf text = {0}, note = {0};
	struct ml_checkpoint c;
	int i;

	memset(&c, 0, sizeof c);
	snprintf(c.origin, sizeof c.origin, "%s", origin);
	c.size = 7;
	memset(c.root, 0x11, 32);
	ml_checkpoint_format(&c, &text);
	ml_buf_puts(&text, "");
	sign_text(f->log, (const char *)text.data, &note);
	for (i = 0; i < 6; i++)
		if (mask & (1u << i))
			cosign(f->w[i], &note, 1700000000 + (uint64_t)i);
	parse_ok((const char *)note.data, note.len, n);
	ml_buf_free(&text);
	ml_buf_free(&note);
}

static void
test_policy_two_of_three(void **state)
{
	struct pfix f;
	struct ml_trust *p;
	struct ml_note n;
	char text[4096], why[256];

	(void)state;
	pfix_init(&f);
	snprintf(text, sizeof text,
		 "# a comment\n"
		 "log %s https://example.com/log\n"
		 "\n"
		 "   \t# an indented comment\n"
		 "\twitness w1 %s\n"
		 "witness w2  %s   https://w2.example/ \n"
		 "witness w3 %s\n"
		 "group g 2 w1 w2 w3\n"
		 "quorum g", /* no final newline */
		 f.logv, f.wv[0], f.wv[1], f.wv[2]);
	p = policy_ok(text);
	assert_int_equal(ml_trust_nlogs(p), 1);
	assert_memory_equal(ml_trust_log(p, 0)->pk, ml_seckey_public(f.log)->pk, 32);
	assert_null(ml_trust_log(p, 1));

	witnessed(&f, "example.com/log", 0x3, &n); /* w1, w2 */
	assert_true(ml_trust_check(p, &n, why, sizeof why));
	ml_note_clear(&n);
	witnessed(&f, "example.com/log", 0x5, &n); /* w1, w3 */
	assert_true(ml_trust_check(p, &n, NULL, 0));
	ml_note_clear(&n);
	witnessed(&f, "example.com/log", 0x7 | 0x8, &n); /* all three, and one unknown */
	assert_true(ml_trust_check(p, &n, why, sizeof why));
	ml_note_clear(&n);

	witnessed(&f, "example.com/log", 0x2, &n); /* w2 only */
	assert_false(ml_trust_check(p, &n, why, sizeof why));
	assert_non_null(strstr(why, "1 of its 3 members"));
	ml_note_clear(&n);
	witnessed(&f, "example.com/log", 0x8 | 0x10, &n); /* witnesses not in the policy */
	assert_false(ml_trust_check(p, &n, why, sizeof why));
	ml_note_clear(&n);

	/* The origin must be the log key's name. */
	witnessed(&f, "example.com/other", 0x7, &n);
	assert_false(ml_trust_check(p, &n, why, sizeof why));
	assert_non_null(strstr(why, "origin"));
	ml_note_clear(&n);
	ml_trust_free(p);
	pfix_free(&f);
}

static void
test_policy_check_failures(void **state)
{
	struct pfix f;
	struct ml_trust *p;
	struct ml_note n;
	struct ml_buf note = {0};
	char text[4096], why[256], *edited;

	(void)state;
	pfix_init(&f);
	snprintf(text, sizeof text,
		 "log %s\nwitness w1 %s\nwitness w2 %s\nwitness w3 %s\n"
		 "group g any w1 w2 w3\nquorum g\n",
		 f.logv, f.wv[0], f.wv[1], f.wv[2]);
	p = policy_ok(text);

	/* A bad cosignature by a known witness rejects the whole note, even
	 * when the quorum is met by the others. */
	witnessed(&f, "example.com/log", 0x3, &n);
	ml_buf_append(&note, n.bytes, n.len);
	ml_note_clear(&n);
	retime(&note, 2, 1); /* w2's line */
	parse_ok((const char *)note.data, note.len, &n);
	assert_false(ml_trust_check(p, &n, why, sizeof why));
	assert_non_null(strstr(why, "w2 does not verify"));
	ml_note_clear(&n);
	ml_buf_free(&note);

	/* A checkpoint without the log's signature (only cosigned). */
	witnessed(&f, "example.com/log", 0x1, &n);
	edited = strndup(n.bytes, n.len);
	ml_note_clear(&n);
	{
		/* drop the log's line (the first signature line) */
		char *first = strstr(edited, "\n\n") + 2;
		char *next = strchr(first, '\n') + 1;
		memmove(first, next, strlen(next) + 1);
	}
	parse_ok(edited, strlen(edited), &n);
	assert_false(ml_trust_check(p, &n, why, sizeof why));
	assert_non_null(strstr(why, "no log"));
	ml_note_clear(&n);
	free(edited);

	/* A bad signature by the log key. */
	witnessed(&f, "example.com/log", 0x1, &n);
	edited = strndup(n.bytes, n.len);
	ml_note_clear(&n);
	edited[0] = 'E'; /* the text changes: every signature fails */
	parse_ok(edited, strlen(edited), &n);
	assert_false(ml_trust_check(p, &n, why, sizeof why));
	ml_note_clear(&n);
	free(edited);

	/* A note whose text is no checkpoint. */
	parse_ok(C2SP_NOTE, strlen(C2SP_NOTE), &n);
	assert_false(ml_trust_check(p, &n, why, sizeof why));
	assert_non_null(strstr(why, "checkpoint"));
	ml_note_clear(&n);
	ml_trust_free(p);

	/* A policy with no log accepts nothing. */
	snprintf(text, sizeof text, "quorum none\n");
	p = policy_ok(text);
	assert_int_equal(ml_trust_nlogs(p), 0);
	witnessed(&f, "example.com/log", 0, &n);
	assert_false(ml_trust_check(p, &n, why, sizeof why));
	assert_non_null(strstr(why, "no log"));
	ml_note_clear(&n);
	ml_trust_free(p);
	pfix_free(&f);
}

/* The spec's two-level example: 2 of X and any of Y. */
static void
test_policy_nested(void **state)
{
	struct pfix f;
	struct ml_trust *p;
	struct ml_note n;
	char text[4096], why[256];
	static const struct {
		unsigned mask;
		int ok;
	} cases[] = {
		{0x3 | 0x8, 1}, {0x5 | 0x20, 1}, {0x7 | 0x38, 1}, {0x1 | 0x8, 0},
		{0x3, 0},       {0x38, 0},       {0, 0},
	};
	size_t i;

	(void)state;
	pfix_init(&f);
	snprintf(text, sizeof text,
		 "log %s\n\n"
		 "witness X1 %s\nwitness X2 %s\nwitness X3 %s\n"
		 "group X-witnesses 2 X1 X2 X3\n\n"
		 "witness Y1 %s\nwitness Y2 %s\nwitness Y3 %s\n"
		 "group Y-witnesses any Y1 Y2 Y3\n\n"
		 "group X-and-Y all X-witnesses Y-witnesses\n"
		 "quorum X-and-Y\n",
		 f.logv, f.wv[0], f.wv[1], f.wv[2], f.wv[3], f.wv[4], f.wv[5]);
	p = policy_ok(text);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		witnessed(&f, "example.com/log", cases[i].mask, &n);
		assert_int_equal(ml_trust_check(p, &n, why, sizeof why), cases[i].ok);
		ml_note_clear(&n);
	}
	ml_trust_free(p);

	/* quorum none: the log's signature suffices; a single witness as
	 * the quorum. */
	snprintf(text, sizeof text, "log %s\nwitness w %s\nquorum none\n", f.logv, f.wv[0]);
	p = policy_ok(text);
	witnessed(&f, "example.com/log", 0, &n);
	assert_true(ml_trust_check(p, &n, why, sizeof why));
	ml_note_clear(&n);
	ml_trust_free(p);
	snprintf(text, sizeof text, "log %s\nwitness w %s\nquorum w\n", f.logv, f.wv[0]);
	p = policy_ok(text);
	witnessed(&f, "example.com/log", 0, &n);
	assert_false(ml_trust_check(p, &n, why, sizeof why));
	assert_non_null(strstr(why, "witness w"));
	ml_note_clear(&n);
	witnessed(&f, "example.com/log", 1, &n);
	assert_true(ml_trust_check(p, &n, why, sizeof why));
	ml_note_clear(&n);
	ml_trust_free(p);
	pfix_free(&f);
}

static void
test_policy_errors(void **state)
{
	struct pfix f;
	struct ml_buf b = {0};
	char t[8192];
	int i;

	(void)state;
	pfix_init(&f);
#define BAD(...)                                         \
	(snprintf(t, sizeof t, __VA_ARGS__), policy_bad(t))

	/* unknown keywords and bad lines */
	assert_non_null(strstr(BAD("logs %s\nquorum none\n", f.logv), "unknown keyword"));
	assert_non_null(strstr(BAD("Quorum none\n"), "unknown keyword"));
	assert_non_null(strstr(BAD("log %s # a comment after items\nquorum none\n", f.logv),
			       "log <vkey>"));
	BAD("log\nquorum none\n");
	BAD("witness w1\nquorum none\n");
	BAD("witness w1 %s url extra\nquorum none\n", f.wv[0]);
	BAD("quorum\n");
	BAD("quorum a b\n");
	BAD("group g\nquorum none\n");
	/* groups: k > n, k = 0, non-decimal k, unknown member, member defined
	 * later, "none" as a member, a member listed twice */
	assert_non_null(strstr(BAD("witness a %s\nwitness b %s\ngroup g 3 a b\nquorum g\n",
				   f.wv[0], f.wv[1]), "threshold 3"));
	BAD("witness a %s\ngroup g 0 a\nquorum g\n", f.wv[0]);
	BAD("witness a %s\ngroup g -1 a\nquorum g\n", f.wv[0]);
	BAD("witness a %s\ngroup g two a\nquorum g\n", f.wv[0]);
	BAD("witness a %s\ngroup g 1x a\nquorum g\n", f.wv[0]);
	BAD("witness a %s\ngroup g 99999999999999999999 a\nquorum g\n", f.wv[0]);
	assert_non_null(strstr(BAD("witness a %s\ngroup g any a b\nquorum g\n", f.wv[0]),
			       "member b"));
	BAD("group g any a\nwitness a %s\nquorum g\n", f.wv[0]);
	assert_non_null(strstr(BAD("witness a %s\ngroup g any a none\nquorum g\n", f.wv[0]),
			       "none"));
	assert_non_null(strstr(BAD("witness a %s\ngroup g 1 a a\nquorum g\n", f.wv[0]),
			       "already listed"));
	/* ... and a name listed in two groups */
	BAD("witness a %s\nwitness b %s\ngroup g1 any a\ngroup g2 any a b\nquorum g2\n",
	    f.wv[0], f.wv[1]);
	/* duplicate names and keys */
	assert_non_null(strstr(BAD("witness a %s\nwitness a %s\nquorum a\n", f.wv[0], f.wv[1]),
			       "duplicate name"));
	BAD("witness a %s\ngroup a any a\nquorum a\n", f.wv[0]);
	BAD("witness none %s\nquorum none\n", f.wv[0]);
	assert_non_null(strstr(BAD("witness a %s\nwitness b %s\nquorum a\n", f.wv[0], f.wv[0]),
			       "duplicate witness"));
	assert_non_null(strstr(BAD("log %s\nlog %s\nquorum none\n", f.logv, f.logv),
			       "duplicate log"));
	/* quorum: unknown, defined later, twice, missing */
	assert_non_null(strstr(BAD("witness a %s\nquorum g\n", f.wv[0]), "quorum g"));
	BAD("quorum a\nwitness a %s\n", f.wv[0]);
	assert_non_null(strstr(BAD("quorum none\nquorum none\n"), "second quorum"));
	assert_non_null(strstr(BAD("log %s\n", f.logv), "no quorum"));
	policy_bad("");
	/* key types: a note key as a witness, a witness key as a log */
	assert_non_null(strstr(BAD("witness a %s\nquorum a\n", f.logv), "0x01"));
	BAD("log %s\nquorum none\n", f.wv[0]);
	BAD("witness a %s\nquorum a\n", TD_NOTE_VKEY);
	/* characters: CR, NUL, DEL, other controls */
	BAD("quorum none\r\n");
	{
		struct ml_trust *none = NULL;
		assert_int_equal(ml_trust_parse("quorum none\n\0", 13, &none, NULL), ML_EINPUT);
		assert_null(none);
	}
	BAD("quorum none\n#\x7f\n");
	BAD("quorum none\n#\x01\n");
	/* names longer than ML_TRUST_NAME_MAX */
	memset(t + 4000, 'n', 129);
	t[4129] = '\0';
	{
		char name[200];
		memcpy(name, t + 4000, 130);
		BAD("witness %s %s\nquorum none\n", name, f.wv[0]);
	}
	/* more than ML_TRUST_WITNESSES_MAX witnesses, all distinct */
	for (i = 0; i < ML_TRUST_WITNESSES_MAX + 1; i++) {
		struct ml_seckey *k;
		struct ml_cosig_key ck;
		char name[32], v[ML_VKEY_MAX];
		snprintf(name, sizeof name, "w%d.example", i);
		k = key_from_byte(name, (uint8_t)(100 + i));
		ml_cosig_key_of(k, &ck);
		ml_cosig_vkey_format(&ck, v);
		ml_buf_printf(&b, "witness w%d %s\n", i, v);
		ml_seckey_free(k);
	}
	ml_buf_puts(&b, "quorum none\n");
	assert_non_null(strstr(policy_bad((const char *)b.data), "more than 64 witnesses"));
	ml_buf_free(&b);
#undef BAD
	pfix_free(&f);
}

/* Non-ASCII names are opaque octets; the limits the spec recommends (32
 * logs, witnesses and groups) are met. */
static void
test_policy_names_and_limits(void **state)
{
	struct pfix f;
	struct ml_trust *p;
	struct ml_buf b = {0};
	struct ml_note n;
	char why[256];
	int i;

	(void)state;
	pfix_init(&f);
	ml_buf_printf(&b, "log %s\nwitness K %s\nwitness \xe2\x84\xaa %s\n"
			  "group \xc3\xa9quipe all K \xe2\x84\xaa\nquorum \xc3\xa9quipe\n",
		      f.logv, f.wv[0], f.wv[1]);
	p = policy_ok((const char *)b.data);
	ml_buf_free(&b);
	witnessed(&f, "example.com/log", 0x1, &n);
	assert_false(ml_trust_check(p, &n, why, sizeof why));
	assert_non_null(strstr(why, "\\xc3\\xa9quipe")); /* shown escaped */
	ml_note_clear(&n);
	witnessed(&f, "example.com/log", 0x3, &n);
	assert_true(ml_trust_check(p, &n, why, sizeof why));
	ml_note_clear(&n);
	ml_trust_free(p);

	/* 32 logs, 32 witnesses, 32 groups (a chain), all accepted */
	for (i = 0; i < 32; i++) {
		struct ml_seckey *k;
		struct ml_cosig_key ck;
		char name[32], v[ML_VKEY_MAX];
		snprintf(name, sizeof name, "log%d.example", i);
		k = key_from_byte(name, (uint8_t)(100 + i));
		ml_pubkey_format(ml_seckey_public(k), v);
		ml_buf_printf(&b, "log %s\n", v);
		ml_seckey_free(k);
		snprintf(name, sizeof name, "w%d.example", i);
		k = key_from_byte(name, (uint8_t)(150 + i));
		ml_cosig_key_of(k, &ck);
		ml_cosig_vkey_format(&ck, v);
		ml_buf_printf(&b, "witness w%d %s\n", i, v);
		ml_seckey_free(k);
	}
	ml_buf_puts(&b, "group g0 any w0\n");
	for (i = 1; i < 32; i++)
		ml_buf_printf(&b, "group g%d 1 g%d w%d\n", i, i - 1, i);
	ml_buf_puts(&b, "quorum g31\n");
	p = policy_ok((const char *)b.data);
	assert_int_equal(ml_trust_nlogs(p), 32);
	ml_trust_free(p);
	ml_trust_free(NULL);
	ml_buf_free(&b);
	pfix_free(&f);
}

/* ---- robustness: every parser survives mutated and truncated input ---- */

static void
mutate_all(const uint8_t *in, size_t len, void (*fn)(const char *, size_t))
{
	static const uint8_t vals[] = {0x00, '\n', ' ', '+', '=', '/', 'A', '0', 0x7f,
				       0x80, 0xc3, 0xe2, 0xff};
	uint8_t *buf = malloc(len + 1);
	size_t i, j;

	for (i = 0; i <= len; i++)
		fn((const char *)in, i); /* every truncation */
	for (i = 0; i < len; i++) {
		memcpy(buf, in, len);
		for (j = 0; j < sizeof vals; j++) {
			buf[i] = vals[j];
			fn((const char *)buf, len);
		}
		/* deletion of byte i */
		memcpy(buf, in, i);
		memcpy(buf + i, in + i + 1, len - i - 1);
		fn((const char *)buf, len - 1);
	}
	free(buf);
}

static struct ml_pubkey fuzz_log;
static struct ml_cosig_key fuzz_wit;

static struct ml_note fuzz_note;
/* How many mutants (the unmutated input among them) passed each stage. */
static unsigned verified_log, verified_wit, parsed_proofs, satisfied_policies, parsed_vkeys;

static void
try_note(const char *s, size_t len)
{
	struct ml_note n;
	struct ml_checkpoint c;
	struct ml_err e;
	uint64_t ts;
	size_t i;

	if (ml_note_parse(s, len, &n, &e) != ML_OK)
		return;
	/* No mutation may keep a valid signature over another text. */
	if (ml_note_verify(&n, &fuzz_log)) {
		assert_true(n.text_len == fuzz_note.text_len &&
			    memcmp(n.text, fuzz_note.text, n.text_len) == 0);
		verified_log++;
	}
	if (ml_cosig_verify(&n, &fuzz_wit, &ts)) {
		assert_true(n.text_len == fuzz_note.text_len &&
			    memcmp(n.text, fuzz_note.text, n.text_len) == 0);
		verified_wit++;
	}
	for (i = 0; i < n.nsigs; i++)
		(void)ml_cosig_timestamp(&n.sigs[i], &ts);
	(void)ml_checkpoint_parse(n.text, n.text_len, &c, &e);
	ml_note_clear(&n);
}

static void
try_proof(const char *s, size_t len)
{
	struct ml_tlog_proof p;
	struct ml_err e;

	if (ml_tlog_proof_parse(s, len, &p, &e) == ML_OK) {
		parsed_proofs++;
		ml_tlog_proof_clear(&p);
	}
}


static void
try_policy(const char *s, size_t len)
{
	struct ml_trust *p;
	struct ml_err e;
	char why[128];

	if (ml_trust_parse(s, len, &p, &e) != ML_OK)
		return;
	if (ml_trust_check(p, &fuzz_note, why, sizeof why))
		satisfied_policies++;
	ml_trust_free(p);
}

static void
try_vkey(const char *s, size_t len)
{
	struct ml_cosig_key k;
	struct ml_err e;

	if (ml_cosig_vkey_parse(s, len, &k, &e) == ML_OK)
		parsed_vkeys++;
}

static void
test_mutations(void **state)
{
	struct pfix f;
	struct ml_buf note = {0}, proof = {0}, pol = {0};
	uint8_t h[17][32];

	(void)state;
	pfix_init(&f);
	fuzz_log = *ml_seckey_public(f.log);
	ml_cosig_key_of(f.w[0], &fuzz_wit);

	witnessed(&f, "example.com/log", 0x3, &fuzz_note);
	mutate_all((const uint8_t *)fuzz_note.bytes, fuzz_note.len, try_note);
	/* the unmutated note verifies (so the checks above were reached), and
	 * a few mutants do too: dropped or damaged lines of other signatures */
	assert_true(verified_log >= 1 && verified_wit >= 1);

	example_hashes(h);
	fancylog_note(&note);
	ml_tlog_proof_format(73894, (const uint8_t *)"xy", 2, (const uint8_t(*)[32])h, 17,
			     (const char *)note.data, note.len, &proof);
	mutate_all(proof.data, proof.len, try_proof);
	assert_true(parsed_proofs >= 1);

	ml_buf_printf(&pol, "log %s\nwitness a %s\nwitness b %s\ngroup g 2 a b\nquorum g\n",
		      f.logv, f.wv[0], f.wv[1]);
	mutate_all(pol.data, pol.len, try_policy);
	assert_true(satisfied_policies >= 1);
	mutate_all((const uint8_t *)f.wv[0], strlen(f.wv[0]), try_vkey);
	assert_true(parsed_vkeys >= 1);

	ml_note_clear(&fuzz_note);
	ml_buf_free(&pol);
	ml_buf_free(&proof);
	ml_buf_free(&note);
	pfix_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c2sp_example),
		cmocka_unit_test(test_quasimodo_example),
		cmocka_unit_test(test_go_sign_reproduces),
		cmocka_unit_test(test_go_open),
		cmocka_unit_test(test_sigsum_checkpoint),
		cmocka_unit_test(test_note_structure_errors),
		cmocka_unit_test(test_note_character_errors),
		cmocka_unit_test(test_note_name_errors),
		cmocka_unit_test(test_note_base64_errors),
		cmocka_unit_test(test_note_limits),
		cmocka_unit_test(test_note_unknown_keys_ignored),
		cmocka_unit_test(test_note_sign_errors),
		cmocka_unit_test(test_note_roundtrip),
		cmocka_unit_test(test_checkpoint_example),
		cmocka_unit_test(test_checkpoint_size_errors),
		cmocka_unit_test(test_checkpoint_root_errors),
		cmocka_unit_test(test_checkpoint_lines),
		cmocka_unit_test(test_checkpoint_sign_open),
		cmocka_unit_test(test_cosignature_example),
		cmocka_unit_test(test_cosignature_transparency_dev),
		cmocka_unit_test(test_cosig_vkey_errors),
		cmocka_unit_test(test_cosign_roundtrip),
		cmocka_unit_test(test_cosign_tamper),
		cmocka_unit_test(test_tlog_proof_example),
		cmocka_unit_test(test_tlog_proof_lengths),
		cmocka_unit_test(test_tlog_proof_errors),
		cmocka_unit_test(test_policy_two_of_three),
		cmocka_unit_test(test_policy_check_failures),
		cmocka_unit_test(test_policy_nested),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_policy_names_and_limits),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

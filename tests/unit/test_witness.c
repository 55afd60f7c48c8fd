/* Unit tests for the witness's pure checks (tlog.c): consistency proof
 * files, checkpoints of a log, the witness's rule (rollback, fork, proofs),
 * verify-consistency; and the trust policy's witness rules (note.c): a log
 * key as a witness, cosignature times, what a check saw. */
#include "testutil.h"

#include "keys.h"
#include "merkle.h"
#include "note.h"
#include "tlog.h"
#include "util.h"

#define ORIGIN "example.org/log"

/* A tree over leaf hashes SHA-256(tag || i); fork trees use another tag
 * from index `from` on. */
struct tree {
	uint8_t leaves[64][ML_SHA256_LEN];
};

static void
tree_make(struct tree *t, int fork_from)
{
	uint8_t b[2];
	int i;

	for (i = 0; i < 64; i++) {
		b[0] = (uint8_t)i;
		b[1] = fork_from >= 0 && i >= fork_from ? 'f' : 'r';
		ml_sha256(b, 2, t->leaves[i]);
	}
}

static int
node(void *ctx, unsigned level, uint64_t index, uint8_t out[ML_SHA256_LEN])
{
	struct tree *t = ctx;
	uint8_t l[ML_SHA256_LEN], r[ML_SHA256_LEN];

	if (level == 0) {
		memcpy(out, t->leaves[index], ML_SHA256_LEN);
		return 0;
	}
	if (node(ctx, level - 1, 2 * index, l) || node(ctx, level - 1, 2 * index + 1, r))
		return -1;
	ml_merkle_node(l, r, out);
	return 0;
}

/* A key from a seed of its own (ml_seckey_generate takes simple names only;
 * origins hold '/'). */
static void
keygen(const char *name, struct ml_seckey **k)
{
	static uint8_t n = 1;
	uint8_t seed[32];
	struct ml_err e;

	memset(seed, n++, sizeof seed);
	assert_int_equal(ml_seckey_from_seed(name, seed, k, &e), ML_OK);
}

static void
cp_of(struct tree *t, uint64_t size, struct ml_checkpoint *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->origin, sizeof c->origin, "%s", ORIGIN);
	c->size = size;
	assert_int_equal(ml_merkle_root(node, t, size, c->root), 0);
}

/* The note of checkpoint c signed by k (malloc'd, NUL-terminated). */
static char *
signed_cp(const struct ml_seckey *k, const struct ml_checkpoint *c)
{
	struct ml_buf text = {0}, note = {0};
	struct ml_err e;
	char *s;

	ml_checkpoint_format(c, &text);
	assert_int_equal(ml_note_sign(k, (const char *)text.data, text.len, &note, &e), ML_OK);
	ml_buf_append(&note, "", 1);
	s = (char *)note.data;
	ml_buf_free(&text);
	return s;
}

static void
proof_of(struct tree *t, uint64_t m, uint64_t n, uint8_t p[][ML_SHA256_LEN], size_t *len)
{
	assert_int_equal(ml_merkle_consistency(node, t, m, n, p, len), 0);
}

static void
test_hashes_parse(void **state)
{
	uint8_t h[ML_PROOF_MAX][ML_SHA256_LEN];
	struct ml_buf b = {0};
	struct ml_err e;
	size_t n = 99;
	int i;

	(void)state;
	assert_int_equal(ml_tlog_hashes_parse("", 0, h, &n, &e), ML_OK);
	assert_int_equal(n, 0);
	for (i = 0; i < 2; i++)
		ml_buf_puts(&b, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
	assert_int_equal(ml_tlog_hashes_parse((char *)b.data, b.len, h, &n, &e), ML_OK);
	assert_int_equal(n, 2);
	assert_int_equal(h[1][0], 0xe3); /* SHA-256("") */
	assert_int_equal(ml_tlog_hashes_parse((char *)b.data, b.len - 1, h, &n, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "line 2"));
	assert_int_equal(ml_tlog_hashes_parse("abc\n", 4, h, &n, &e), ML_EINPUT);
	assert_int_equal(ml_tlog_hashes_parse("\n", 1, h, &n, &e), ML_EINPUT);
	/* a 31-byte hash */
	assert_int_equal(ml_tlog_hashes_parse("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuA==\n", 45,
					      h, &n, &e), ML_EINPUT);
	b.len = 0;
	for (i = 0; i < ML_PROOF_MAX + 1; i++)
		ml_buf_puts(&b, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
	assert_int_equal(ml_tlog_hashes_parse((char *)b.data, b.len, h, &n, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "more than"));
	ml_buf_free(&b);
}

static void
test_note_of(void **state)
{
	struct ml_seckey *log = NULL, *other = NULL, *named = NULL;
	struct ml_checkpoint c, got;
	struct ml_err e;
	struct tree t;
	char *note;

	(void)state;
	tree_make(&t, -1);
	keygen(ORIGIN, &log);
	keygen(ORIGIN, &other);
	keygen("example.org/other", &named);
	cp_of(&t, 5, &c);
	note = signed_cp(log, &c);
	assert_int_equal(ml_tlog_note_of(ml_seckey_public(log), note, strlen(note), &got, &e),
			 ML_OK);
	assert_int_equal(got.size, 5);
	assert_int_equal(ml_tlog_note_of(ml_seckey_public(other), note, strlen(note), &got, &e),
			 ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "not signed by the log key"));
	assert_int_equal(ml_tlog_note_of(ml_seckey_public(named), note, strlen(note), &got, &e),
			 ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "another log"));
	assert_int_equal(ml_tlog_note_of(ml_seckey_public(log), "junk\n", 5, &got, &e),
			 ML_EINPUT);
	free(note);
	ml_seckey_free(log);
	ml_seckey_free(other);
	ml_seckey_free(named);
}

static void
test_witness_step(void **state)
{
	uint8_t p[ML_PROOF_MAX][ML_SHA256_LEN], q[ML_PROOF_MAX][ML_SHA256_LEN];
	struct ml_checkpoint s10, r8, r10, r12, f10, f12, o12;
	struct tree real, fork;
	struct ml_err e;
	size_t plen, qlen;

	(void)state;
	tree_make(&real, -1);
	tree_make(&fork, 8); /* the same first 8 leaves */
	cp_of(&real, 10, &s10);
	cp_of(&real, 8, &r8);
	cp_of(&real, 10, &r10);
	cp_of(&real, 12, &r12);
	cp_of(&fork, 10, &f10);
	cp_of(&fork, 12, &f12);

	/* first use; the same checkpoint again */
	assert_int_equal(ml_tlog_witness_step(NULL, &f10, 0, p, 0, &e), ML_OK);
	assert_int_equal(ml_tlog_witness_step(&s10, &r10, 0, p, 0, &e), ML_OK);
	/* rollback, fork at the same size */
	assert_int_equal(ml_tlog_witness_step(&s10, &r8, 0, p, 0, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "size 8 (root "));
	assert_non_null(strstr(e.msg, "smaller than size 10"));
	assert_int_equal(ml_tlog_witness_step(&s10, &f10, 0, p, 0, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "size 10 has two roots"));
	/* larger: a proof is needed, and must be the right one */
	assert_int_equal(ml_tlog_witness_step(&s10, &r12, 0, p, 0, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "prove --consistency 10 --size 12"));
	proof_of(&real, 10, 12, p, &plen);
	assert_int_equal(ml_tlog_witness_step(&s10, &r12, 1, p, plen, &e), ML_OK);
	assert_int_equal(ml_tlog_witness_step(&s10, &r12, 1, p, 0, &e), ML_EINTEGRITY);
	proof_of(&real, 8, 12, q, &qlen);
	assert_int_equal(ml_tlog_witness_step(&s10, &r12, 1, q, qlen, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "proof does not show"));
	/* the fork's own proof from its size 10 to 12 */
	proof_of(&fork, 10, 12, q, &qlen);
	assert_int_equal(ml_tlog_witness_step(&s10, &f12, 1, q, qlen, &e), ML_EINTEGRITY);
	/* the real proof, offered for the fork's root */
	assert_int_equal(ml_tlog_witness_step(&s10, &f12, 1, p, plen, &e), ML_EINTEGRITY);
	/* another origin */
	o12 = r12;
	snprintf(o12.origin, sizeof o12.origin, "example.org/other");
	assert_int_equal(ml_tlog_witness_step(&s10, &o12, 1, p, plen, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "two logs"));
	/* from the empty tree: the empty proof */
	cp_of(&real, 0, &s10);
	assert_int_equal(ml_tlog_witness_step(&s10, &r12, 1, p, 0, &e), ML_OK);
}

static void
test_verify_consistency(void **state)
{
	uint8_t p[ML_PROOF_MAX][ML_SHA256_LEN];
	struct ml_seckey *log = NULL;
	struct ml_checkpoint c5, c9, o, n;
	struct ml_err e;
	struct tree t;
	char *a, *b;
	size_t plen;

	(void)state;
	tree_make(&t, -1);
	keygen(ORIGIN, &log);
	cp_of(&t, 5, &c5);
	cp_of(&t, 9, &c9);
	a = signed_cp(log, &c5);
	b = signed_cp(log, &c9);
	proof_of(&t, 5, 9, p, &plen);
	assert_int_equal(ml_tlog_verify_consistency(ml_seckey_public(log), a, strlen(a), b,
						    strlen(b), p, plen, &o, &n, &e), ML_OK);
	assert_int_equal(o.size, 5);
	assert_int_equal(n.size, 9);
	assert_int_equal(ml_tlog_verify_consistency(ml_seckey_public(log), b, strlen(b), a,
						    strlen(a), p, plen, NULL, NULL, &e),
			 ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "rollback"));
	assert_int_equal(ml_tlog_verify_consistency(ml_seckey_public(log), a, strlen(a), "x\n",
						    2, p, plen, NULL, NULL, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "new: "));
	free(a);
	free(b);
	ml_seckey_free(log);
}

static void
test_policy_log_as_witness(void **state)
{
	struct ml_seckey *log = NULL;
	struct ml_cosig_key w;
	struct ml_policy *p = NULL;
	struct ml_err e;
	char lk[ML_VKEY_MAX], wk[ML_VKEY_MAX], text[1024];
	uint8_t seed[32];

	(void)state;
	memset(seed, 7, sizeof seed);
	assert_int_equal(ml_seckey_from_seed(ORIGIN, seed, &log, &e), ML_OK);
	ml_pubkey_format(ml_seckey_public(log), lk);
	/* the same Ed25519 key as a witness (type 0x04), under another name */
	memset(&w, 0, sizeof w);
	snprintf(w.name, sizeof w.name, "sneaky");
	memcpy(w.pk, ml_seckey_public(log)->pk, ML_PUBKEY_LEN);
	w.hash = ml_cosig_key_hash(w.name, w.pk);
	ml_cosig_vkey_format(&w, wk);
	snprintf(text, sizeof text, "log %s\nwitness sneaky %s\nquorum sneaky\n", lk, wk);
	assert_int_equal(ml_policy_parse(text, strlen(text), &p, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "line 2: witness key is the log key"));
	snprintf(text, sizeof text, "witness sneaky %s\nlog %s\nquorum sneaky\n", wk, lk);
	assert_int_equal(ml_policy_parse(text, strlen(text), &p, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "line 2: the log key is also a witness"));
	assert_null(p);
	ml_seckey_free(log);
}

/* A policy of one log and witnesses w1, w2 (group any), and a note the log
 * signed and each witness cosigned at its time (0: not at all). */
static void
test_policy_clock(void **state)
{
	struct ml_seckey *log = NULL, *w1 = NULL, *w2 = NULL;
	struct ml_cosig_key k1, k2;
	struct ml_policy *p = NULL;
	struct ml_checkpoint c;
	struct ml_policy_seen seen;
	struct ml_policy_clock clk = {1000000, 300, 0};
	struct ml_buf a = {0}, b = {0};
	struct ml_note n;
	struct ml_err e;
	struct tree t;
	char lk[ML_VKEY_MAX], v1[ML_VKEY_MAX], v2[ML_VKEY_MAX], text[2048], why[512];
	char *note;

	(void)state;
	tree_make(&t, -1);
	keygen(ORIGIN, &log);
	keygen("w1", &w1);
	keygen("w2", &w2);
	ml_pubkey_format(ml_seckey_public(log), lk);
	ml_cosig_key_of(w1, &k1);
	ml_cosig_key_of(w2, &k2);
	ml_cosig_vkey_format(&k1, v1);
	ml_cosig_vkey_format(&k2, v2);
	snprintf(text, sizeof text, "log %s\nwitness w1 %s\nwitness w2 %s\ngroup g any w1 w2\n"
		 "quorum g\n", lk, v1, v2);
	assert_int_equal(ml_policy_parse(text, strlen(text), &p, &e), ML_OK);
	cp_of(&t, 3, &c);
	note = signed_cp(log, &c);
	/* w1 an hour ago, w2 a day ago */
	assert_int_equal(ml_cosign(w1, note, strlen(note), 1000000 - 3600, &a, &e), ML_OK);
	assert_int_equal(ml_cosign(w2, (char *)a.data, a.len, 1000000 - 86400, &b, &e), ML_OK);
	assert_int_equal(ml_note_parse((char *)b.data, b.len, &n, &e), ML_OK);
	assert_int_equal(ml_policy_check_at(p, &n, &clk, &seen, why, sizeof why), 1);
	assert_string_equal(seen.names, "w1, w2");
	assert_int_equal(seen.nwitnesses, 2);
	assert_int_equal(seen.newest, 1000000 - 3600);
	/* a 2-hour limit: w2 no longer counts, w1 still meets "any" */
	clk.max_age = 7200;
	assert_int_equal(ml_policy_check_at(p, &n, &clk, &seen, why, sizeof why), 1);
	assert_string_equal(seen.names, "w1");
	/* a 10-minute limit: neither counts */
	clk.max_age = 600;
	assert_int_equal(ml_policy_check_at(p, &n, &clk, &seen, why, sizeof why), 0);
	assert_non_null(strstr(why, "older than 600 s"));
	/* the clock an hour and a half earlier: w1's cosignature is in the future */
	clk.max_age = 0;
	clk.now = 1000000 - 5400;
	assert_int_equal(ml_policy_check_at(p, &n, &clk, NULL, why, sizeof why), 0);
	assert_non_null(strstr(why, "witness w1 is dated"));
	assert_non_null(strstr(why, "in the future"));
	/* within the tolerance */
	clk.now = 1000000 - 3600 - 200;
	assert_int_equal(ml_policy_check_at(p, &n, &clk, NULL, why, sizeof why), 1);
	/* no clock: times are not compared */
	assert_int_equal(ml_policy_check(p, &n, why, sizeof why), 1);
	ml_note_clear(&n);
	ml_buf_free(&a);
	ml_buf_free(&b);
	free(note);
	ml_policy_free(p);
	ml_seckey_free(log);
	ml_seckey_free(w1);
	ml_seckey_free(w2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hashes_parse),
		cmocka_unit_test(test_note_of),
		cmocka_unit_test(test_witness_step),
		cmocka_unit_test(test_verify_consistency),
		cmocka_unit_test(test_policy_log_as_witness),
		cmocka_unit_test(test_policy_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

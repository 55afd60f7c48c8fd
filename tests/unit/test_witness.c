/* Unit tests for the witness's pure checks (tlog.c): consistency proof
 * files, checkpoints of a log, the witness's rule (rollback, fork, proofs),
 * verify-consistency; the trust policy's witness rules (note.c): a log
 * key as a witness, cosignature times, what a check saw; and the C2SP
 * tlog-witness add-checkpoint handler (witness.c): every status, the state
 * left unchanged by every refusal, and one winner of two concurrent
 * requests (threads and processes). */
#include "testutil.h"

#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "keys.h"
#include "merkle.h"
#include "note.h"
#include "note_checkpoint.h"
#include "note_cosig.h"
#include "note_trust.h"
#include "tlog.h"
#include "util.h"
#include "witness.h"

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
	struct ml_trust *p = NULL;
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
	assert_int_equal(ml_trust_parse(text, strlen(text), &p, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "line 2: witness key is the log key"));
	snprintf(text, sizeof text, "witness sneaky %s\nlog %s\nquorum sneaky\n", wk, lk);
	assert_int_equal(ml_trust_parse(text, strlen(text), &p, &e), ML_EINPUT);
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
	struct ml_trust *p = NULL;
	struct ml_checkpoint c;
	struct ml_trust_seen seen;
	struct ml_trust_clock clk = {1000000, 300, 0};
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
	assert_int_equal(ml_trust_parse(text, strlen(text), &p, &e), ML_OK);
	cp_of(&t, 3, &c);
	note = signed_cp(log, &c);
	/* w1 an hour ago, w2 a day ago */
	assert_int_equal(ml_cosign(w1, note, strlen(note), 1000000 - 3600, &a, &e), ML_OK);
	assert_int_equal(ml_cosign(w2, (char *)a.data, a.len, 1000000 - 86400, &b, &e), ML_OK);
	assert_int_equal(ml_note_parse((char *)b.data, b.len, &n, &e), ML_OK);
	assert_true(ml_trust_check_at(p, &n, &clk, &seen, why, sizeof why));
	assert_string_equal(seen.names, "w1, w2");
	assert_int_equal(seen.nwitnesses, 2);
	assert_int_equal(seen.newest, 1000000 - 3600);
	/* a 2-hour limit: w2 no longer counts, w1 still meets "any" */
	clk.max_age = 7200;
	assert_true(ml_trust_check_at(p, &n, &clk, &seen, why, sizeof why));
	assert_string_equal(seen.names, "w1");
	/* a 10-minute limit: neither counts */
	clk.max_age = 600;
	assert_false(ml_trust_check_at(p, &n, &clk, &seen, why, sizeof why));
	assert_non_null(strstr(why, "older than 600 s"));
	/* the clock an hour and a half earlier: w1's cosignature is in the future */
	clk.max_age = 0;
	clk.now = 1000000 - 5400;
	assert_false(ml_trust_check_at(p, &n, &clk, NULL, why, sizeof why));
	assert_non_null(strstr(why, "witness w1 is dated"));
	assert_non_null(strstr(why, "in the future"));
	/* within the tolerance */
	clk.now = 1000000 - 3600 - 200;
	assert_true(ml_trust_check_at(p, &n, &clk, NULL, why, sizeof why));
	/* no clock: times are not compared */
	assert_true(ml_trust_check(p, &n, why, sizeof why));
	ml_note_clear(&n);
	ml_buf_free(&a);
	ml_buf_free(&b);
	free(note);
	ml_trust_free(p);
	ml_seckey_free(log);
	ml_seckey_free(w1);
	ml_seckey_free(w2);
}

/* ---- add-checkpoint (witness.c) ---- */

#define NOW 1700000000ULL
#define WNAME "witness.example/w1"

/* A witness of ORIGIN with its state in a fresh folder; the real tree and a
 * fork of it from leaf 8 on; checkpoints of sizes 10, 12 and 14 signed by
 * the log. */
struct wfx {
	char dir[256], state[300];
	struct ml_seckey *log, *w;
	struct ml_witness_config cfg;
	struct tree real, fork;
	struct ml_checkpoint c10, c12, c14, f10, f12;
	char *n10, *n12, *n14, *nf10, *nf12;
	uint8_t p10_12[ML_PROOF_MAX][ML_SHA256_LEN], p10_14[ML_PROOF_MAX][ML_SHA256_LEN];
	uint8_t pf10_12[ML_PROOF_MAX][ML_SHA256_LEN];
	size_t l10_12, l10_14, lf10_12;
};

static void
wfx_init(struct wfx *f)
{
	memset(f, 0, sizeof *f);
	tu_tmpdir(f->dir, sizeof f->dir);
	snprintf(f->state, sizeof f->state, "%s/w.state", f->dir);
	keygen(ORIGIN, &f->log);
	keygen(WNAME, &f->w);
	f->cfg.key = f->w;
	f->cfg.log = ml_seckey_public(f->log);
	f->cfg.state = f->state;
	f->cfg.lock_timeout_s = 10;
	tree_make(&f->real, -1);
	tree_make(&f->fork, 8);
	cp_of(&f->real, 10, &f->c10);
	cp_of(&f->real, 12, &f->c12);
	cp_of(&f->real, 14, &f->c14);
	cp_of(&f->fork, 10, &f->f10);
	cp_of(&f->fork, 12, &f->f12);
	f->n10 = signed_cp(f->log, &f->c10);
	f->n12 = signed_cp(f->log, &f->c12);
	f->n14 = signed_cp(f->log, &f->c14);
	f->nf10 = signed_cp(f->log, &f->f10);
	f->nf12 = signed_cp(f->log, &f->f12);
	proof_of(&f->real, 10, 12, f->p10_12, &f->l10_12);
	proof_of(&f->real, 10, 14, f->p10_14, &f->l10_14);
	proof_of(&f->fork, 10, 12, f->pf10_12, &f->lf10_12);
}

static void
wfx_free(struct wfx *f)
{
	tu_rmtree(f->dir);
	free(f->n10);
	free(f->n12);
	free(f->n14);
	free(f->nf10);
	free(f->nf12);
	ml_seckey_free(f->log);
	ml_seckey_free(f->w);
}

/* The request body: "old N", the proof lines, an empty line, the note. */
static void
body_of(struct ml_buf *b, uint64_t old, const uint8_t p[][ML_SHA256_LEN], size_t n,
	const char *note)
{
	size_t i;

	b->len = 0;
	ml_buf_printf(b, "old %llu\n", (unsigned long long)old);
	for (i = 0; i < n; i++) {
		char *s = ml_b64_encode(p[i], ML_SHA256_LEN);
		assert_non_null(s);
		ml_buf_puts(b, s);
		ml_buf_puts(b, "\n");
		free(s);
	}
	ml_buf_puts(b, "\n");
	ml_buf_puts(b, note);
	assert_false(b->oom);
}

static int
post(struct wfx *f, uint64_t old, const uint8_t p[][ML_SHA256_LEN], size_t n,
     const char *note, struct ml_witness_reply *r)
{
	struct ml_buf b = {0};

	body_of(&b, old, p, n, note);
	ml_witness_add_checkpoint(&f->cfg, (const char *)b.data, b.len, NOW, r);
	ml_buf_free(&b);
	return r->status;
}

/* post, and the reply's text (NUL-terminated) compared with want. */
static void
post_expect(struct wfx *f, uint64_t old, const uint8_t p[][ML_SHA256_LEN], size_t n,
	    const char *note, int status, const char *ctype, const char *want)
{
	struct ml_witness_reply r;

	assert_int_equal(post(f, old, p, n, note, &r), status);
	assert_string_equal(r.content_type, ctype);
	ml_buf_append(&r.body, "", 1);
	if (want && !strstr((const char *)r.body.data, want))
		fail_msg("reply %d \"%s\" lacks \"%s\"", status, (char *)r.body.data, want);
	/* error text is one line */
	if (status != 200)
		assert_ptr_equal(strchr((char *)r.body.data, '\n'),
				 (char *)r.body.data + r.body.len - 2);
	ml_witness_reply_free(&r);
}

/* The size the state holds (-1: none) and its root. */
static long long
stored(struct wfx *f, uint8_t root[ML_SHA256_LEN])
{
	struct ml_witness_state st;
	struct ml_err e;
	long long size;

	assert_int_equal(ml_witness_state_open(f->state, f->cfg.log, 5, &st, &e), ML_OK);
	size = st.exists ? (long long)st.held.size : -1;
	if (st.exists && root)
		memcpy(root, st.held.root, ML_SHA256_LEN);
	ml_witness_state_close(&st);
	return size;
}

/* The 200 reply is one line, the witness's valid cosignature of note at
 * NOW, and the log's signature still verifies beside it. */
static void
assert_cosigned(struct wfx *f, const char *note, const struct ml_witness_reply *r)
{
	struct ml_cosig_key ck;
	struct ml_buf all = {0};
	struct ml_note n;
	struct ml_err e;
	uint64_t ts = 0;

	assert_int_equal(r->status, 200);
	assert_true(r->body.len > 4 && !memcmp(r->body.data, "\xe2\x80\x94 " WNAME " ", 4 +
					       strlen(WNAME) + 1));
	assert_ptr_equal(memchr(r->body.data, '\n', r->body.len),
			 r->body.data + r->body.len - 1);
	ml_buf_puts(&all, note);
	ml_buf_append(&all, r->body.data, r->body.len);
	assert_int_equal(ml_note_parse((const char *)all.data, all.len, &n, &e), ML_OK);
	ml_cosig_key_of(f->w, &ck);
	assert_true(ml_cosig_verify(&n, &ck, &ts));
	assert_int_equal(ts, NOW);
	assert_true(ml_note_verify(&n, f->cfg.log));
	ml_note_clear(&n);
	ml_buf_free(&all);
}

static void
test_add_first_use(void **state)
{
	struct ml_witness_reply r;
	struct wfx f;
	uint8_t root[ML_SHA256_LEN];

	(void)state;
	wfx_init(&f);
	assert_int_equal(stored(&f, NULL), -1);
	/* first use: old 0, no proof, any size */
	assert_int_equal(post(&f, 0, f.p10_12, 0, f.n10, &r), 200);
	assert_cosigned(&f, f.n10, &r);
	ml_witness_reply_free(&r);
	assert_int_equal(stored(&f, root), 10);
	assert_memory_equal(root, f.c10.root, ML_SHA256_LEN);
	/* the same checkpoint again: cosigned again */
	assert_int_equal(post(&f, 10, f.p10_12, 0, f.n10, &r), 200);
	assert_cosigned(&f, f.n10, &r);
	ml_witness_reply_free(&r);
	/* onward with the proof */
	assert_int_equal(post(&f, 10, f.p10_12, f.l10_12, f.n12, &r), 200);
	assert_cosigned(&f, f.n12, &r);
	ml_witness_reply_free(&r);
	assert_int_equal(stored(&f, root), 12);
	assert_memory_equal(root, f.c12.root, ML_SHA256_LEN);
	wfx_free(&f);
}

static void
test_add_409(void **state)
{
	struct ml_witness_reply r;
	struct wfx f;

	(void)state;
	wfx_init(&f);
	/* first use with an old size: the stored size is 0 */
	post_expect(&f, 10, f.p10_12, f.l10_12, f.n12, 409, "text/x.tlog.size", NULL);
	assert_int_equal(post(&f, 10, f.p10_12, f.l10_12, f.n12, &r), 409);
	assert_int_equal(r.body.len, 2);
	assert_memory_equal(r.body.data, "0\n", 2);
	ml_witness_reply_free(&r);
	assert_int_equal(stored(&f, NULL), -1);
	assert_int_equal(post(&f, 0, f.p10_12, 0, f.n10, &r), 200);
	ml_witness_reply_free(&r);
	/* stale old sizes (0: a client asking; 8: behind) */
	assert_int_equal(post(&f, 0, f.p10_12, 0, f.n12, &r), 409);
	assert_string_equal(r.content_type, "text/x.tlog.size");
	assert_int_equal(r.body.len, 3);
	assert_memory_equal(r.body.data, "10\n", 3);
	ml_witness_reply_free(&r);
	assert_int_equal(post(&f, 8, f.p10_12, 0, f.n12, &r), 409);
	assert_memory_equal(r.body.data, "10\n", 3);
	ml_witness_reply_free(&r);
	/* a rollback is a stale old size too (old 10 > 8 would be 400) */
	assert_int_equal(stored(&f, NULL), 10);
	wfx_free(&f);
}

static void
test_add_400(void **state)
{
	const char *ct = "text/plain; charset=utf-8";
	struct ml_witness_reply r;
	struct ml_buf b = {0};
	struct wfx f;
	char *big;
	int i;

	(void)state;
	wfx_init(&f);
	assert_int_equal(post(&f, 0, f.p10_12, 0, f.n10, &r), 200);
	ml_witness_reply_free(&r);
	/* old larger than the checkpoint's size */
	post_expect(&f, 12, f.p10_12, 0, f.n10, 400, ct, "larger than the checkpoint's");
	/* malformed bodies */
	struct {
		const char *body, *why;
	} bad[] = {
		{"old 010\n\n", "leading zeros"},
		{"old -1\n\n", "not a decimal"},
		{"old 1 \n\n", "not a decimal"},
		{"olds 1\n\n", "\"old <size>\""},
		{"old 9223372036854775808\n\n", "2^63"},
		{"old 10", "no \"old <size>\" line"},
		{"old 10\n", "no empty line"},
		{"old 10\nAAAA\n\n", "consistency proof"},
		{"old 10\n\n", "no checkpoint"},
		{"old 10\n\nnot a note\n", "checkpoint"},
	};
	for (i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
		ml_witness_add_checkpoint(&f.cfg, bad[i].body, strlen(bad[i].body), NOW, &r);
		assert_int_equal(r.status, 400);
		ml_buf_append(&r.body, "", 1);
		if (!strstr((char *)r.body.data, bad[i].why))
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].body, (char *)r.body.data,
				 bad[i].why);
		ml_witness_reply_free(&r);
	}
	/* a note whose text is not a checkpoint */
	{
		struct ml_buf note = {0};
		struct ml_err e;
		assert_int_equal(ml_note_sign(f.log, "hello\n", 6, &note, &e), ML_OK);
		ml_buf_append(&note, "", 1);
		post_expect(&f, 10, f.p10_12, 0, (char *)note.data, 400, ct, "checkpoint");
		ml_buf_free(&note);
	}
	/* 63 proof lines parse (and fail as a proof); 64 are refused unread */
	uint8_t many[ML_PROOF_MAX][ML_SHA256_LEN];
	memset(many, 1, sizeof many);
	post_expect(&f, 10, many, 63, f.n12, 422, ct, NULL);
	post_expect(&f, 10, many, 64, f.n12, 400, ct, "more than 63");
	/* larger than 8 KiB: 413 */
	big = calloc(1, ML_WITNESS_BODY_MAX + 1);
	assert_non_null(big);
	body_of(&b, 10, f.p10_12, f.l10_12, f.n12);
	memcpy(big, b.data, b.len);
	memset(big + b.len, '\n', ML_WITNESS_BODY_MAX + 1 - b.len);
	ml_witness_add_checkpoint(&f.cfg, big, ML_WITNESS_BODY_MAX + 1, NOW, &r);
	assert_int_equal(r.status, 413);
	ml_witness_reply_free(&r);
	free(big);
	ml_buf_free(&b);
	assert_int_equal(stored(&f, NULL), 10);
	wfx_free(&f);
}

static void
test_add_403_404(void **state)
{
	const char *ct = "text/plain; charset=utf-8";
	struct ml_seckey *other = NULL, *named = NULL;
	struct ml_checkpoint c;
	struct ml_witness_reply r;
	struct wfx f;
	char *n, *tampered, *p;

	(void)state;
	wfx_init(&f);
	assert_int_equal(post(&f, 0, f.p10_12, 0, f.n10, &r), 200);
	ml_witness_reply_free(&r);
	keygen(ORIGIN, &other);            /* the log's name, another key */
	keygen("example.org/other", &named); /* another log */
	/* signed by another key of the same name: 403 */
	n = signed_cp(other, &f.c12);
	post_expect(&f, 10, f.p10_12, f.l10_12, n, 403, ct, "not signed by the log key");
	free(n);
	/* the log's own line, its signature broken: 403 */
	tampered = strdup(f.n12);
	assert_non_null(tampered);
	p = strrchr(tampered, '\n') - 5; /* inside the base64 signature */
	*p = *p == 'A' ? 'B' : 'A';
	post_expect(&f, 10, f.p10_12, f.l10_12, tampered, 403, ct, NULL);
	free(tampered);
	/* another origin (signed by its own key): 404 */
	c = f.c12;
	snprintf(c.origin, sizeof c.origin, "example.org/other");
	n = signed_cp(named, &c);
	post_expect(&f, 10, f.p10_12, f.l10_12, n, 404, ct, "unknown origin example.org/other");
	free(n);
	assert_int_equal(stored(&f, NULL), 10);
	ml_seckey_free(other);
	ml_seckey_free(named);
	wfx_free(&f);
}

/* STATE.fork-SIZE.cosigned is the state (the real checkpoint) and
 * .refused the fork's note: together, checkable proof of a fork. */
static void
assert_fork_kept(struct wfx *f, uint64_t size)
{
	uint8_t none[1][ML_SHA256_LEN];
	char p[400], q[400], *a, *b;
	size_t alen, blen;
	struct ml_err e;

	snprintf(p, sizeof p, "%s.fork-%llu.cosigned", f->state, (unsigned long long)size);
	snprintf(q, sizeof q, "%s.fork-%llu.refused", f->state, (unsigned long long)size);
	assert_int_equal(ml_read_file(p, ML_NOTE_MAX, &a, &alen, &e), ML_OK);
	assert_int_equal(ml_read_file(q, ML_NOTE_MAX, &b, &blen, &e), ML_OK);
	assert_int_equal(blen, strlen(f->nf10));
	assert_memory_equal(b, f->nf10, blen);
	assert_int_equal(ml_tlog_verify_consistency(f->cfg.log, a, alen, b, blen,
						    (const uint8_t(*)[ML_SHA256_LEN])none, 0,
						    NULL, NULL, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "two roots"));
	free(a);
	free(b);
}

static void
test_add_422(void **state)
{
	const char *ct = "text/plain; charset=utf-8";
	struct ml_witness_reply r;
	struct ml_checkpoint z;
	struct wfx f;
	uint8_t root[ML_SHA256_LEN];
	char *n;

	(void)state;
	wfx_init(&f);
	/* first use, old 0 with a proof */
	post_expect(&f, 0, f.p10_12, f.l10_12, f.n12, 422, ct, "is empty");
	assert_int_equal(stored(&f, NULL), -1);
	/* a size-0 checkpoint whose root is not the empty tree's */
	z = f.c10;
	z.size = 0;
	n = signed_cp(f.log, &z);
	post_expect(&f, 0, f.p10_12, 0, n, 422, ct, "empty tree");
	free(n);
	/* ... and one whose root is: cosigned */
	cp_of(&f.real, 0, &z);
	n = signed_cp(f.log, &z);
	assert_int_equal(post(&f, 0, f.p10_12, 0, n, &r), 200);
	ml_witness_reply_free(&r);
	free(n);
	assert_int_equal(stored(&f, NULL), 0);
	/* from the empty tree: old 0 and no proof */
	assert_int_equal(post(&f, 0, f.p10_12, 0, f.n10, &r), 200);
	ml_witness_reply_free(&r);
	/* a fork at the same size: both notes kept as evidence, once */
	post_expect(&f, 10, f.p10_12, 0, f.nf10, 422, ct, "two roots");
	assert_fork_kept(&f, 10);
	assert_int_equal(post(&f, 10, f.p10_12, 0, f.nf10, &r), 422);
	assert_non_null(strstr(r.log, "two roots at size 10"));
	assert_int_equal(r.forked, 1);
	ml_witness_reply_free(&r);
	/* a bad proof is no fork */
	assert_int_equal(post(&f, 10, f.p10_12, 0, f.n12, &r), 422);
	assert_int_equal(r.forked, 0);
	assert_int_equal(r.log[0], '\0');
	ml_witness_reply_free(&r);
	assert_fork_kept(&f, 10);
	/* a proof where old equals the checkpoint's size */
	post_expect(&f, 10, f.p10_12, f.l10_12, f.n10, 422, ct, "is empty");
	/* bad proofs: none, one for other sizes, the fork's own */
	post_expect(&f, 10, f.p10_12, 0, f.n12, 422, ct, "proof does not show");
	post_expect(&f, 10, f.p10_14, f.l10_14, f.n12, 422, ct, "proof does not show");
	post_expect(&f, 10, f.pf10_12, f.lf10_12, f.nf12, 422, ct, "proof does not show");
	/* the real proof offered for the fork's root */
	post_expect(&f, 10, f.p10_12, f.l10_12, f.nf12, 422, ct, NULL);
	/* nothing moved; no evidence kept for bad proofs */
	assert_int_equal(stored(&f, root), 10);
	assert_memory_equal(root, f.c10.root, ML_SHA256_LEN);
	{
		char p[400];
		snprintf(p, sizeof p, "%s.fork-12.refused", f.state);
		assert_int_equal(access(p, F_OK), -1);
	}
	wfx_free(&f);
}

/* A state the witness cannot trust or use: 500, nothing cosigned. */
static void
test_add_state_refused(void **state)
{
	const char *ct = "text/plain; charset=utf-8";
	struct ml_seckey *named = NULL;
	struct ml_checkpoint c;
	struct wfx f;
	char path[400], *n;
	FILE *fp;

	(void)state;
	wfx_init(&f);
	/* the state of another log */
	keygen("example.org/other", &named);
	c = f.c10;
	snprintf(c.origin, sizeof c.origin, "example.org/other");
	n = signed_cp(named, &c);
	fp = fopen(f.state, "w");
	assert_non_null(fp);
	fputs(n, fp);
	fclose(fp);
	post_expect(&f, 10, f.p10_12, f.l10_12, f.n12, 500, ct, "was the log replaced?");
	free(n);
	/* a symbolic link as the state */
	assert_int_equal(unlink(f.state), 0);
	snprintf(path, sizeof path, "%s/elsewhere", f.dir);
	assert_int_equal(symlink(path, f.state), 0);
	post_expect(&f, 0, f.p10_12, 0, f.n10, 500, ct, "symbolic link");
	assert_int_equal(access(path, F_OK), -1);
	/* a symbolic link as its lock */
	assert_int_equal(unlink(f.state), 0);
	snprintf(path, sizeof path, "%s.lock", f.state);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("nowhere", path), 0);
	post_expect(&f, 0, f.p10_12, 0, f.n10, 500, ct, "symbolic link");
	assert_int_equal(access(f.state, F_OK), -1);
	ml_seckey_free(named);
	wfx_free(&f);
}

/* Two requests with the same old size, one checkpoint of size 12 and one of
 * size 14 (or both 12): exactly one is cosigned, the other is told the
 * winner's size. */
struct racer {
	struct wfx *f;
	pthread_barrier_t *go;
	int big;
	int status;
	char body[64];
};

static void *
race(void *arg)
{
	struct racer *a = arg;
	struct ml_witness_reply r;

	pthread_barrier_wait(a->go);
	if (a->big)
		post(a->f, 10, a->f->p10_14, a->f->l10_14, a->f->n14, &r);
	else
		post(a->f, 10, a->f->p10_12, a->f->l10_12, a->f->n12, &r);
	a->status = r.status;
	snprintf(a->body, sizeof a->body, "%.*s", (int)r.body.len, (char *)r.body.data);
	ml_witness_reply_free(&r);
	return NULL;
}

/* One winner: 200 and 409 whose body is the winner's size, the state at it. */
static void
one_winner(struct wfx *f, int s0, const char *b0, int big0, int s1, const char *b1,
	   int big1)
{
	int win = s0 == 200 ? 0 : 1;
	const char *lose_body = win ? b0 : b1;
	long long want = (win ? big1 : big0) ? 14 : 12;
	char w[16];

	assert_true((s0 == 200 && s1 == 409) || (s0 == 409 && s1 == 200));
	snprintf(w, sizeof w, "%lld\n", want);
	assert_string_equal(lose_body, w);
	assert_int_equal(stored(f, NULL), want);
}

static void
test_add_race_threads(void **state)
{
	struct ml_witness_reply r;
	pthread_barrier_t go;
	pthread_t t[2];
	struct racer a[2];
	struct wfx f;
	char path[400];
	int round, i;

	(void)state;
	wfx_init(&f);
	for (round = 0; round < 20; round++) {
		/* a fresh state at size 10 */
		unlink(f.state);
		snprintf(path, sizeof path, "%s.lock", f.state);
		unlink(path);
		assert_int_equal(post(&f, 0, f.p10_12, 0, f.n10, &r), 200);
		ml_witness_reply_free(&r);
		assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
		for (i = 0; i < 2; i++) {
			a[i] = (struct racer){.f = &f, .go = &go, .big = round % 2 ? i : 0};
			assert_int_equal(pthread_create(&t[i], NULL, race, &a[i]), 0);
		}
		for (i = 0; i < 2; i++)
			assert_int_equal(pthread_join(t[i], NULL), 0);
		pthread_barrier_destroy(&go);
		one_winner(&f, a[0].status, a[0].body, a[0].big, a[1].status, a[1].body,
			   a[1].big);
	}
	wfx_free(&f);
}

/* The same across processes: two children released at once by closing a
 * pipe, each writing its status and body back. */
static void
test_add_race_processes(void **state)
{
	struct ml_witness_reply r;
	struct wfx f;
	char body[2][64];
	int gate[2], back[2][2], st[2], round, i;
	pid_t pid[2];

	(void)state;
	wfx_init(&f);
	for (round = 0; round < 6; round++) {
		char path[400];
		unlink(f.state);
		snprintf(path, sizeof path, "%s.lock", f.state);
		unlink(path);
		assert_int_equal(post(&f, 0, f.p10_12, 0, f.n10, &r), 200);
		ml_witness_reply_free(&r);
		assert_int_equal(pipe(gate), 0);
		for (i = 0; i < 2; i++) {
			assert_int_equal(pipe(back[i]), 0);
			pid[i] = fork();
			assert_true(pid[i] >= 0);
			if (pid[i] == 0) {
				char c, out[256];
				int n;
				close(gate[1]);
				(void)!read(gate[0], &c, 1); /* EOF: go */
				post(&f, 10, i && round % 2 ? f.p10_14 : f.p10_12,
				     i && round % 2 ? f.l10_14 : f.l10_12,
				     i && round % 2 ? f.n14 : f.n12, &r);
				n = snprintf(out, sizeof out, "%d %.*s", r.status,
					     (int)r.body.len, (char *)r.body.data);
				if (n > (int)sizeof out - 1)
					n = (int)sizeof out - 1;
				(void)!write(back[i][1], out, (size_t)n);
				_exit(0);
			}
			close(back[i][1]);
		}
		close(gate[0]);
		close(gate[1]);
		for (i = 0; i < 2; i++) {
			char in[256] = {0};
			int status, n;
			assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
			assert_true(read(back[i][0], in, sizeof in - 1) > 0);
			close(back[i][0]);
			assert_int_equal(sscanf(in, "%d %n", &st[i], &n), 1);
			snprintf(body[i], sizeof body[i], "%s", in + n);
		}
		one_winner(&f, st[0], body[0], 0, st[1], body[1], round % 2);
	}
	wfx_free(&f);
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
		cmocka_unit_test(test_add_first_use),
		cmocka_unit_test(test_add_409),
		cmocka_unit_test(test_add_400),
		cmocka_unit_test(test_add_403_404),
		cmocka_unit_test(test_add_422),
		cmocka_unit_test(test_add_state_refused),
		cmocka_unit_test(test_add_race_threads),
		cmocka_unit_test(test_add_race_processes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

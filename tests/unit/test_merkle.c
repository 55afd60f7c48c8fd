/* Unit tests for merkle: the RFC 6962 known-answer vectors used by
 * transparency-dev/merkle (proof/verify_test.go: roots of sizes 1..8,
 * inclusion and consistency proofs), the proof node layouts of
 * transparency-dev/merkle proof/proof_test.go, properties against a naive
 * recursive MTH / PATH / SUBPROOF written from RFC 9162 §2.1 (every
 * corruption is rejected, and wrong indices/sizes are accepted exactly when
 * the proof's shape is the same), the incremental edge, callback failures,
 * and callback counts on a 1,000,000-leaf and larger virtual trees. */
#include "testutil.h"

#include "merkle.h"

#define H ML_SHA256_LEN

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static void
ref_node(const uint8_t l[H], const uint8_t r[H], uint8_t out[H])
{
	uint8_t buf[1 + 2 * H];

	buf[0] = 0x01;
	memcpy(buf + 1, l, H);
	memcpy(buf + 1 + H, r, H);
	ml_sha256(buf, sizeof buf, out);
}

static void
ref_leaf(const uint8_t *data, size_t len, uint8_t out[H])
{
	uint8_t buf[64];

	assert_true(len < sizeof buf);
	buf[0] = 0x00;
	memcpy(buf + 1, data, len);
	ml_sha256(buf, len + 1, out);
}

/* The largest power of two smaller than n (n >= 2), by counting. */
static uint64_t
ref_split(uint64_t n)
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

static int
is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static unsigned
popcount(uint64_t x)
{
	unsigned c = 0;

	for (; x; x &= x - 1)
		c++;
	return c;
}

/* MTH(D[b:e]), recursively, straight from RFC 9162 §2.1.1. */
static void
ref_mth(const uint8_t (*d)[H], uint64_t b, uint64_t e, uint8_t out[H])
{
	uint8_t l[H], r[H];
	uint64_t k;

	if (e == b) {
		ml_sha256("", 0, out);
		return;
	}
	if (e - b == 1) {
		memcpy(out, d[b], H);
		return;
	}
	k = ref_split(e - b);
	ref_mth(d, b, b + k, l);
	ref_mth(d, b + k, e, r);
	ref_node(l, r, out);
}

/* PATH(m, D[b:e]) of RFC 9162 §2.1.3.1, m relative to b.  dirs[i] is 1 when
 * element i is a left sibling.  With d NULL only the shape is computed. */
static void
ref_path(const uint8_t (*d)[H], uint64_t m, uint64_t b, uint64_t e,
	 uint8_t (*out)[H], int *dirs, size_t *len)
{
	uint64_t k;

	if (e - b <= 1)
		return;
	k = ref_split(e - b);
	assert_true(*len < 80);
	if (m < k) {
		ref_path(d, m, b, b + k, out, dirs, len);
		if (d)
			ref_mth(d, b + k, e, out[*len]);
		dirs[(*len)++] = 0;
	} else {
		ref_path(d, m - k, b + k, e, out, dirs, len);
		if (d)
			ref_mth(d, b, b + k, out[*len]);
		dirs[(*len)++] = 1;
	}
}

/* SUBPROOF(m, D[b:e], flag) of RFC 9162 §2.1.4.1.  dirs[i]: 2 for the
 * subtree the proof starts from, 1 for a left sibling, 0 for a right one. */
static void
ref_subproof(const uint8_t (*d)[H], uint64_t m, uint64_t b, uint64_t e, int flag,
	     uint8_t (*out)[H], int *dirs, size_t *len)
{
	uint64_t k;

	assert_true(*len < 80);
	if (m == e - b) {
		if (!flag) {
			if (d)
				ref_mth(d, b, e, out[*len]);
			dirs[(*len)++] = 2;
		}
		return;
	}
	k = ref_split(e - b);
	if (m <= k) {
		ref_subproof(d, m, b, b + k, flag, out, dirs, len);
		if (d)
			ref_mth(d, b + k, e, out[*len]);
		dirs[(*len)++] = 0;
	} else {
		ref_subproof(d, m - k, b + k, e, 0, out, dirs, len);
		if (d)
			ref_mth(d, b, b + k, out[*len]);
		dirs[(*len)++] = 1;
	}
}

struct shape {
	size_t len;
	int dirs[80];
};

static void
inclusion_shape(uint64_t i, uint64_t n, struct shape *s)
{
	memset(s, 0, sizeof *s);
	ref_path(NULL, i, 0, n, NULL, s->dirs, &s->len);
}

static void
consistency_shape(uint64_t m, uint64_t n, struct shape *s)
{
	memset(s, 0, sizeof *s);
	ref_subproof(NULL, m, 0, n, 1, NULL, s->dirs, &s->len);
	/* Whether the verifier starts from root_m (m a power of two). */
	s->dirs[79] = is_pow2(m);
}

static int
shape_equal(const struct shape *a, const struct shape *b)
{
	return a->len == b->len && memcmp(a->dirs, b->dirs, sizeof a->dirs) == 0;
}

/* ---- a complete node table over random leaves, and its callback --------- */

#define T_LEVELS 10
#define T_N 512u /* 2^(T_LEVELS - 1) */

static uint8_t tbl[T_LEVELS][T_N][H];
static uint8_t roots[T_N + 1][H]; /* ref_mth(tbl[0], 0, s) */

/* Fills tbl from `count` given leaves (the rest random). */
static void
table_build(const uint8_t (*leaves)[H], size_t count)
{
	unsigned l;
	size_t i, j;

	for (i = 0; i < T_N; i++) {
		if (i < count) {
			memcpy(tbl[0][i], leaves[i], H);
		} else {
			for (j = 0; j < H; j += 8) {
				uint64_t v = rng();
				memcpy(tbl[0][i] + j, &v, 8);
			}
		}
	}
	for (l = 1; l < T_LEVELS; l++)
		for (i = 0; i < (T_N >> l); i++)
			ref_node(tbl[l - 1][2 * i], tbl[l - 1][2 * i + 1], tbl[l][i]);
	for (i = 0; i <= T_N; i++)
		ref_mth((const uint8_t (*)[H])tbl[0], 0, i, roots[i]);
}

struct tctx {
	uint64_t n;            /* the tree size: no node past it may be asked */
	unsigned long calls;
	unsigned long fail_at; /* fail the call with this number (1-based) */
	int fail_rc;
};

static int
table_get(void *p, unsigned level, uint64_t index, uint8_t out[H])
{
	struct tctx *c = p;

	c->calls++;
	if (c->fail_at && c->calls == c->fail_at)
		return c->fail_rc;
	assert_true(level < T_LEVELS);
	assert_true(index < (uint64_t)(T_N >> level));
	assert_true(index < (c->n >> level)); /* complete, inside the tree */
	memcpy(out, tbl[level][index], H);
	return 0;
}

static void
unhex(const char *hex, uint8_t out[H])
{
	tu_unhex(hex, out, H);
}

/* ---- basics ------------------------------------------------------------- */

static const char empty_hex[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void
test_node_and_empty(void **state)
{
	uint8_t a[H], b[H], want[H], got[H], empty[H];
	struct ml_merkle_edge edge;
	struct tctx c = { 0 };

	(void)state;
	memset(a, 0x11, H);
	memset(b, 0x22, H);
	ref_node(a, b, want);
	ml_merkle_node(a, b, got);
	assert_memory_equal(got, want, H);
	/* out may alias either input */
	memcpy(got, a, H);
	ml_merkle_node(got, b, got);
	assert_memory_equal(got, want, H);
	memcpy(got, b, H);
	ml_merkle_node(a, got, got);
	assert_memory_equal(got, want, H);

	unhex(empty_hex, empty);
	memset(got, 0, H);
	assert_int_equal(ml_merkle_root(table_get, &c, 0, got), 0);
	assert_memory_equal(got, empty, H);
	memset(got, 0, H);
	assert_int_equal(ml_merkle_range(table_get, &c, 5, 5, got), 0);
	assert_memory_equal(got, empty, H);
	memset(got, 0xee, H);
	assert_int_equal(ml_merkle_range(table_get, &c, 6, 5, got), ML_EINPUT);
	memset(want, 0xee, H);
	assert_memory_equal(got, want, H);
	assert_int_equal(c.calls, 0);

	ml_merkle_edge_init(&edge);
	assert_int_equal(edge.size, 0);
	ml_merkle_edge_root(&edge, got);
	assert_memory_equal(got, empty, H);
}

/* ---- RFC 6962 known answers (transparency-dev/merkle proof/verify_test.go,
 * the same data as certificate-transparency's merkle tree tests) ---------- */

static const char *const rfc_data[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

static const char *const rfc_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct rfc_proof {
	uint64_t a, b;          /* inclusion: index, size; consistency: m, n */
	const char *hashes[4];  /* NULL-terminated */
};

/* verify_test.go lists leaves 1-based ({1, 8} is leaf 0 of tree 8). */
static const struct rfc_proof rfc_inclusion[] = {
	{ 0, 1, { NULL } },
	{ 0, 8, { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
		  NULL } },
	{ 5, 8, { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		  NULL } },
	{ 2, 3, { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		  NULL } },
	{ 1, 5, { "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		  NULL } },
};

static const struct rfc_proof rfc_consistency[] = {
	{ 1, 1, { NULL } },
	{ 1, 8, { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
		  NULL } },
	{ 6, 8, { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		  NULL } },
	{ 2, 5, { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		  NULL } },
	{ 6, 7, { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		  "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		  NULL } },
};

static void
rfc_table(void)
{
	uint8_t leaves[8][H], data[16];
	size_t i, len;

	for (i = 0; i < 8; i++) {
		len = strlen(rfc_data[i]) / 2;
		assert_int_equal(ml_hex_decode(rfc_data[i], 2 * len, data, len), 0);
		ref_leaf(data, len, leaves[i]);
	}
	table_build((const uint8_t (*)[H])leaves, 8);
}

static size_t
rfc_hashes(const struct rfc_proof *v, uint8_t out[][H])
{
	size_t n = 0;

	while (n < 4 && v->hashes[n]) {
		unhex(v->hashes[n], out[n]);
		n++;
	}
	return n;
}

static void
test_rfc6962_roots(void **state)
{
	struct ml_merkle_edge edge;
	uint8_t want[H], got[H];
	uint64_t n;

	(void)state;
	rfc_table();
	ml_merkle_edge_init(&edge);
	for (n = 0; n <= 8; n++) {
		struct tctx c = { .n = n };

		unhex(rfc_roots[n], want);
		assert_int_equal(ml_merkle_root(table_get, &c, n, got), 0);
		assert_memory_equal(got, want, H);
		assert_int_equal(c.calls, popcount(n));
		ml_merkle_edge_root(&edge, got);
		assert_memory_equal(got, want, H);
		assert_memory_equal(roots[n], want, H); /* and the naive MTH */
		if (n < 8)
			assert_int_equal(ml_merkle_edge_add(&edge, tbl[0][n], NULL, NULL), 0);
	}
}

static void
copy_proof(uint8_t dst[][H], const uint8_t src[][H], size_t len)
{
	if (len)
		memcpy(dst, src, len * H);
}

/* The corruption probes of verify_test.go's corruptInclusionProof. */
static void
inclusion_probes(const uint8_t leaf[H], uint64_t i, uint64_t n,
		 const uint8_t proof[][H], size_t len, const uint8_t root[H])
{
	uint8_t bad[ML_PROOF_MAX + 2][H], some[H], empty[H], wrong_leaf[H];
	size_t k;

	memset(some, 0, H);
	unhex("abacaba000000000000000000000000000000000000000000060061e00123456", some);
	unhex(empty_hex, empty);
	ml_sha256("WrongLeaf", 9, wrong_leaf);

	assert_true(ml_merkle_verify_inclusion(leaf, i, n, proof, len, root));
	assert_false(ml_merkle_verify_inclusion(leaf, i - 1, n, proof, len, root));
	assert_false(ml_merkle_verify_inclusion(leaf, i + 1, n, proof, len, root));
	assert_false(ml_merkle_verify_inclusion(leaf, i ^ 2, n, proof, len, root));
	assert_false(ml_merkle_verify_inclusion(leaf, i, n * 2, proof, len, root));
	assert_false(ml_merkle_verify_inclusion(leaf, i, n / 2, proof, len, root));
	assert_false(ml_merkle_verify_inclusion(wrong_leaf, i, n, proof, len, root));
	assert_false(ml_merkle_verify_inclusion(leaf, i, n, proof, len, empty));
	assert_false(ml_merkle_verify_inclusion(leaf, i, n, proof, len, some));
	/* trailing garbage / root, preceding garbage / root */
	copy_proof(bad, proof, len);
	memset(bad[len], 0, H);
	assert_false(ml_merkle_verify_inclusion(leaf, i, n, (const uint8_t (*)[H])bad, len + 1, root));
	memcpy(bad[len], root, H);
	assert_false(ml_merkle_verify_inclusion(leaf, i, n, (const uint8_t (*)[H])bad, len + 1, root));
	copy_proof(bad + 1, proof, len);
	memset(bad[0], 0, H);
	assert_false(ml_merkle_verify_inclusion(leaf, i, n, (const uint8_t (*)[H])bad, len + 1, root));
	memcpy(bad[0], root, H);
	assert_false(ml_merkle_verify_inclusion(leaf, i, n, (const uint8_t (*)[H])bad, len + 1, root));
	/* bit 3 of each element */
	for (k = 0; k < len; k++) {
		copy_proof(bad, proof, len);
		bad[k][0] ^= 8;
		assert_false(ml_merkle_verify_inclusion(leaf, i, n, (const uint8_t (*)[H])bad, len, root));
	}
	if (len > 0)
		assert_false(ml_merkle_verify_inclusion(leaf, i, n, proof, len - 1, root));
	if (len > 1) { /* inserted component */
		memcpy(bad[0], proof[0], H);
		memcpy(bad[1], some, H);
		copy_proof(bad + 2, proof + 1, len - 1);
		assert_false(ml_merkle_verify_inclusion(leaf, i, n, (const uint8_t (*)[H])bad, len + 1, root));
	}
}

static void
test_rfc6962_inclusion(void **state)
{
	uint8_t want[4][H], got[ML_PROOF_MAX][H], root[H];
	size_t v, len, wlen;

	(void)state;
	rfc_table();
	for (v = 0; v < sizeof rfc_inclusion / sizeof rfc_inclusion[0]; v++) {
		const struct rfc_proof *p = &rfc_inclusion[v];
		struct tctx c = { .n = p->b };

		wlen = rfc_hashes(p, want);
		assert_int_equal(ml_merkle_inclusion(table_get, &c, p->a, p->b, got, &len), 0);
		assert_int_equal(len, wlen);
		if (len)
			assert_memory_equal(got, want, len * H);
		unhex(rfc_roots[p->b], root);
		inclusion_probes(tbl[0][p->a], p->a, p->b, (const uint8_t (*)[H])want, wlen, root);
	}
}

/* The corruption probes of verify_test.go's corruptConsistencyProof, and
 * some more: every element dropped, adjacent elements swapped. */
static void
consistency_probes(uint64_t m, uint64_t n, const uint8_t r1[H], const uint8_t r2[H],
		   const uint8_t proof[][H], size_t len)
{
	uint8_t bad[ML_PROOF_MAX + 2][H], w1[H], w2[H];
	const uint8_t (*b)[H] = (const uint8_t (*)[H])bad;
	size_t k;

	assert_true(ml_merkle_verify_consistency(m, n, r1, r2, proof, len));
	if (len == 0)
		return;
	assert_false(ml_merkle_verify_consistency(m - 1, n, r1, r2, proof, len));
	assert_false(ml_merkle_verify_consistency(m + 1, n, r1, r2, proof, len));
	assert_false(ml_merkle_verify_consistency(m ^ 2, n, r1, r2, proof, len));
	assert_false(ml_merkle_verify_consistency(m, n * 2, r1, r2, proof, len));
	assert_false(ml_merkle_verify_consistency(m, n / 2, r1, r2, proof, len));
	ml_sha256("WrongRoot", 9, w1);
	memcpy(w2, w1, H);
	assert_false(ml_merkle_verify_consistency(m, n, w1, r2, proof, len));
	assert_false(ml_merkle_verify_consistency(m, n, r1, w2, proof, len));
	assert_false(ml_merkle_verify_consistency(m, n, r2, r1, proof, len));
	assert_false(ml_merkle_verify_consistency(m, n, r1, r2, proof, 0));
	/* trailing garbage, root1, root2 */
	copy_proof(bad, proof, len);
	memset(bad[len], 0, H);
	assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len + 1));
	memcpy(bad[len], r1, H);
	assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len + 1));
	memcpy(bad[len], r2, H);
	assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len + 1));
	/* preceding garbage, root1, root2, proof[0] */
	copy_proof(bad + 1, proof, len);
	memset(bad[0], 0, H);
	assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len + 1));
	memcpy(bad[0], r1, H);
	assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len + 1));
	memcpy(bad[0], r2, H);
	assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len + 1));
	memcpy(bad[0], proof[0], H);
	assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len + 1));
	/* truncated, each element dropped */
	assert_false(ml_merkle_verify_consistency(m, n, r1, r2, proof, len - 1));
	for (k = 0; k < len; k++) {
		copy_proof(bad, proof, k);
		copy_proof(bad + k, proof + k + 1, len - k - 1);
		assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len - 1));
	}
	/* bit 4 of each element; adjacent elements swapped */
	for (k = 0; k < len; k++) {
		copy_proof(bad, proof, len);
		bad[k][0] ^= 16;
		assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len));
	}
	for (k = 0; k + 1 < len; k++) {
		copy_proof(bad, proof, len);
		memcpy(bad[k], proof[k + 1], H);
		memcpy(bad[k + 1], proof[k], H);
		assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len));
	}
}

static void
test_rfc6962_consistency(void **state)
{
	uint8_t want[4][H], got[ML_PROOF_MAX][H], r1[H], r2[H];
	size_t v, len, wlen;

	(void)state;
	rfc_table();
	for (v = 0; v < sizeof rfc_consistency / sizeof rfc_consistency[0]; v++) {
		const struct rfc_proof *p = &rfc_consistency[v];
		struct tctx c = { .n = p->b };

		wlen = rfc_hashes(p, want);
		assert_int_equal(ml_merkle_consistency(table_get, &c, p->a, p->b, got, &len), 0);
		assert_int_equal(len, wlen);
		if (len)
			assert_memory_equal(got, want, len * H);
		unhex(rfc_roots[p->a], r1);
		unhex(rfc_roots[p->b], r2);
		consistency_probes(p->a, p->b, r1, r2, (const uint8_t (*)[H])want, wlen);
	}
}

/* verify_test.go TestVerifyInclusion, TestVerifyInclusionSingleEntry and
 * TestVerifyConsistency: the degenerate cases. */
static void
test_degenerate(void **state)
{
	static const uint64_t probes[][2] = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 2, 1 } };
	uint8_t some[H], empty[H], hash[H], r1[H], r2[H], one[1][H];
	uint8_t proof[ML_PROOF_MAX][H];
	struct tctx c = { .n = 8 };
	size_t i, len = 999;

	(void)state;
	rfc_table();
	unhex("abacaba000000000000000000000000000000000000000000060061e00123456", some);
	unhex(empty_hex, empty);
	for (i = 0; i < 4; i++)
		assert_int_equal(ml_merkle_verify_inclusion(some, probes[i][0], probes[i][1],
							    NULL, 0, empty), 0);
	ref_leaf((const uint8_t *)"data", 4, hash);
	assert_true(ml_merkle_verify_inclusion(hash, 0, 1, NULL, 0, hash));
	assert_false(ml_merkle_verify_inclusion(hash, 0, 1, NULL, 0, empty));
	assert_false(ml_merkle_verify_inclusion(empty, 0, 1, NULL, 0, hash));
	assert_false(ml_merkle_verify_inclusion(hash, UINT64_MAX, UINT64_MAX, NULL, 0, hash));
	memcpy(one[0], hash, H);
	assert_false(ml_merkle_verify_inclusion(hash, 0, 1, (const uint8_t (*)[H])one, 1, hash));

	/* generation refuses bad arguments and writes nothing */
	assert_int_equal(ml_merkle_inclusion(table_get, &c, 0, 0, proof, &len), ML_EINPUT);
	assert_int_equal(ml_merkle_inclusion(table_get, &c, 8, 8, proof, &len), ML_EINPUT);
	assert_int_equal(ml_merkle_inclusion(table_get, &c, 2, 1, proof, &len), ML_EINPUT);
	assert_int_equal(ml_merkle_consistency(table_get, &c, 0, 8, proof, &len), ML_EINPUT);
	assert_int_equal(ml_merkle_consistency(table_get, &c, 0, 0, proof, &len), ML_EINPUT);
	assert_int_equal(ml_merkle_consistency(table_get, &c, 5, 0, proof, &len), ML_EINPUT);
	assert_int_equal(ml_merkle_consistency(table_get, &c, 9, 8, proof, &len), ML_EINPUT);
	assert_int_equal(len, 999);
	assert_int_equal(c.calls, 0);
	for (i = 1; i <= 8; i++) {
		len = 999;
		assert_int_equal(ml_merkle_consistency(table_get, &c, i, i, proof, &len), 0);
		assert_int_equal(len, 0);
	}
	assert_int_equal(c.calls, 0);

	/* consistency: TestVerifyConsistency's table ("don't care" roots) */
	ml_sha256("don't care 1", 12, r1);
	ml_sha256("don't care 2", 12, r2);
	memcpy(one[0], empty, H);
	assert_false(ml_merkle_verify_consistency(0, 0, r1, r2, NULL, 0));
	assert_false(ml_merkle_verify_consistency(1, 1, r1, r2, NULL, 0));
	assert_true(ml_merkle_verify_consistency(0, 0, r1, r1, NULL, 0));
	assert_true(ml_merkle_verify_consistency(0, 1, r1, r2, NULL, 0));
	assert_true(ml_merkle_verify_consistency(1, 1, r2, r2, NULL, 0));
	assert_false(ml_merkle_verify_consistency(1, 0, r1, r2, NULL, 0));
	assert_false(ml_merkle_verify_consistency(2, 1, r1, r2, NULL, 0));
	assert_false(ml_merkle_verify_consistency(1, 2, r1, r2, NULL, 0));
	assert_false(ml_merkle_verify_consistency(0, 0, empty, r2, NULL, 0));
	assert_false(ml_merkle_verify_consistency(1, 1, empty, r2, NULL, 0));
	assert_false(ml_merkle_verify_consistency(0, 0, empty, empty, (const uint8_t (*)[H])one, 1));
	assert_false(ml_merkle_verify_consistency(0, 1, empty, empty, (const uint8_t (*)[H])one, 1));
	assert_false(ml_merkle_verify_consistency(1, 1, empty, empty, (const uint8_t (*)[H])one, 1));
	/* m > n with anything */
	assert_false(ml_merkle_verify_consistency(9, 8, r1, r1, NULL, 0));
	assert_false(ml_merkle_verify_consistency(UINT64_MAX, 8, r1, r2, (const uint8_t (*)[H])one, 1));
}

/* ---- proof layouts (transparency-dev/merkle proof/proof_test.go) --------- */

/* A node id; join = 1 folds it into the previous element (a node on the
 * tree's right edge that is not a stored complete subtree: proof_test.go's
 * "rehash" ranges).  Folding is h = node(id, h). */
struct nid {
	unsigned level;
	uint64_t index;
	int join;
};

struct layout {
	uint64_t a, b; /* inclusion: index, size; consistency: m, n */
	struct nid ids[10];
	size_t count;
};

static int
sym_get(void *p, unsigned level, uint64_t index, uint8_t out[H])
{
	unsigned long *calls = p;

	(*calls)++;
	memset(out, 0x5a, H);
	out[0] = (uint8_t)level;
	ml_put_be64(out + 1, index);
	return 0;
}

static size_t
layout_hashes(const struct layout *l, uint8_t out[][H])
{
	uint8_t h[H];
	unsigned long dummy = 0;
	size_t i, n = 0;

	for (i = 0; i < l->count; i++) {
		sym_get(&dummy, l->ids[i].level, l->ids[i].index, h);
		if (l->ids[i].join) {
			assert_true(n > 0);
			ml_merkle_node(h, out[n - 1], out[n - 1]);
		} else {
			memcpy(out[n++], h, H);
		}
	}
	return n;
}

#define ID(l, i) { l, i, 0 }
#define JOIN(l, i) { l, i, 1 }

static const struct layout inclusion_layouts[] = {
	{ 0, 1, { { 0, 0, 0 } }, 0 },
	{ 0, 2, { ID(0, 1) }, 1 },
	{ 1, 2, { ID(0, 0) }, 1 },
	{ 1, 3, { ID(0, 0), ID(0, 2) }, 2 },
	{ 0, 7, { ID(0, 1), ID(1, 1), ID(0, 6), JOIN(1, 2) }, 4 },
	{ 1, 7, { ID(0, 0), ID(1, 1), ID(0, 6), JOIN(1, 2) }, 4 },
	{ 2, 7, { ID(0, 3), ID(1, 0), ID(0, 6), JOIN(1, 2) }, 4 },
	{ 3, 7, { ID(0, 2), ID(1, 0), ID(0, 6), JOIN(1, 2) }, 4 },
	{ 4, 7, { ID(0, 5), ID(0, 6), ID(2, 0) }, 3 },
	{ 5, 7, { ID(0, 4), ID(0, 6), ID(2, 0) }, 3 },
	{ 6, 7, { ID(1, 2), ID(2, 0) }, 2 },
	{ 2, 4, { ID(0, 3), ID(1, 0) }, 2 },
	{ 3, 5, { ID(0, 2), ID(1, 0), ID(0, 4) }, 3 },
	{ 3, 6, { ID(0, 2), ID(1, 0), ID(1, 2) }, 3 },
	{ 4, 6, { ID(0, 5), ID(2, 0) }, 2 },
	{ 10, 15, { ID(0, 11), ID(1, 4), ID(0, 14), JOIN(1, 6), ID(3, 0) }, 5 },
	{ 24, 31, { ID(0, 25), ID(1, 13), ID(0, 30), JOIN(1, 14), ID(3, 2), ID(4, 0) }, 6 },
	{ 81, 95, { ID(0, 80), ID(1, 41), ID(2, 21), ID(0, 94), JOIN(1, 46), JOIN(2, 22),
		    ID(4, 4), ID(6, 0) }, 8 },
};

static const struct layout consistency_layouts[] = {
	{ 1, 2, { ID(0, 1) }, 1 },
	{ 1, 4, { ID(0, 1), ID(1, 1) }, 2 },
	{ 1, 6, { ID(0, 1), ID(1, 1), ID(1, 2) }, 3 },
	{ 2, 3, { ID(0, 2) }, 1 },
	{ 2, 8, { ID(1, 1), ID(2, 1) }, 2 },
	{ 3, 7, { ID(0, 2), ID(0, 3), ID(1, 0), ID(0, 6), JOIN(1, 2) }, 5 },
	{ 4, 7, { ID(0, 6), JOIN(1, 2) }, 2 },
	{ 5, 7, { ID(0, 4), ID(0, 5), ID(0, 6), ID(2, 0) }, 4 },
	{ 6, 7, { ID(1, 2), ID(0, 6), ID(2, 0) }, 3 },
	{ 7, 8, { ID(0, 6), ID(0, 7), ID(1, 2), ID(2, 0) }, 4 },
	{ 1, 1, { { 0, 0, 0 } }, 0 },
	{ 2, 2, { { 0, 0, 0 } }, 0 },
	{ 3, 3, { { 0, 0, 0 } }, 0 },
	{ 4, 4, { { 0, 0, 0 } }, 0 },
	{ 5, 5, { { 0, 0, 0 } }, 0 },
	{ 7, 7, { { 0, 0, 0 } }, 0 },
	{ 8, 8, { { 0, 0, 0 } }, 0 },
	{ 2, 4, { ID(1, 1) }, 1 },
	{ 3, 5, { ID(0, 2), ID(0, 3), ID(1, 0), ID(0, 4) }, 4 },
	{ 3, 6, { ID(0, 2), ID(0, 3), ID(1, 0), ID(1, 2) }, 4 },
	{ 4, 6, { ID(1, 2) }, 1 },
	{ 1, 7, { ID(0, 1), ID(1, 1), ID(0, 6), JOIN(1, 2) }, 4 },
	{ 10, 15, { ID(1, 4), ID(1, 5), ID(0, 14), JOIN(1, 6), ID(3, 0) }, 5 },
	{ 24, 31, { ID(3, 2), ID(0, 30), JOIN(1, 14), JOIN(2, 6), ID(4, 0) }, 5 },
	{ 81, 95, { ID(0, 80), ID(0, 81), ID(1, 41), ID(2, 21), ID(0, 94), JOIN(1, 46),
		    JOIN(2, 22), ID(4, 4), ID(6, 0) }, 9 },
};

static void
test_proof_layouts(void **state)
{
	uint8_t want[10][H], got[ML_PROOF_MAX][H];
	size_t v, len, wlen;

	(void)state;
	for (v = 0; v < sizeof inclusion_layouts / sizeof inclusion_layouts[0]; v++) {
		const struct layout *l = &inclusion_layouts[v];
		unsigned long calls = 0;

		wlen = layout_hashes(l, want);
		assert_int_equal(ml_merkle_inclusion(sym_get, &calls, l->a, l->b, got, &len), 0);
		assert_int_equal(len, wlen);
		if (len)
			assert_memory_equal(got, want, len * H);
		/* one call per node id: nothing is fetched twice or needlessly */
		assert_int_equal(calls, l->count);
	}
	for (v = 0; v < sizeof consistency_layouts / sizeof consistency_layouts[0]; v++) {
		const struct layout *l = &consistency_layouts[v];
		unsigned long calls = 0;

		wlen = layout_hashes(l, want);
		assert_int_equal(ml_merkle_consistency(sym_get, &calls, l->a, l->b, got, &len), 0);
		assert_int_equal(len, wlen);
		if (len)
			assert_memory_equal(got, want, len * H);
		assert_int_equal(calls, l->count);
	}
}

/* ---- ranges ------------------------------------------------------------- */

static void
test_range_any(void **state)
{
	uint8_t want[H], got[H];
	uint64_t b, e, p;

	(void)state;
	table_build(NULL, 0);
	for (b = 0; b <= 70; b++) {
		for (e = b; e <= 70; e++) {
			struct tctx c = { .n = e };

			ref_mth((const uint8_t (*)[H])tbl[0], b, e, want);
			assert_int_equal(ml_merkle_range(table_get, &c, b, e, got), 0);
			assert_memory_equal(got, want, H);
			for (p = 1; p < e - b; p *= 2)
				;
			/* split-shaped: begin a multiple of the smallest power
			 * of two >= e - b: one call per set bit of e - b */
			if (e > b && b % p == 0)
				assert_int_equal(c.calls, popcount(e - b));
		}
	}
	/* A large unaligned range, against the naive MTH. */
	{
		struct tctx c = { .n = T_N };

		ref_mth((const uint8_t (*)[H])tbl[0], 3, 509, want);
		assert_int_equal(ml_merkle_range(table_get, &c, 3, 509, got), 0);
		assert_memory_equal(got, want, H);
	}
}

/* ---- properties: inclusion ---------------------------------------------- */

static void
check_inclusion(uint64_t i, uint64_t n, int all_bits, int sweep)
{
	uint8_t got[ML_PROOF_MAX][H], want[80][H], bad[ML_PROOF_MAX + 2][H];
	const uint8_t (*b)[H] = (const uint8_t (*)[H])bad;
	const uint8_t (*g)[H] = (const uint8_t (*)[H])got;
	const uint8_t *leaf = tbl[0][i], *root = roots[n];
	uint8_t wleaf[H], wroot[H];
	struct tctx c = { .n = n };
	struct shape s, t;
	int dirs[80];
	size_t len, wlen = 0, k, bit;
	uint64_t x;

	assert_int_equal(ml_merkle_inclusion(table_get, &c, i, n, got, &len), 0);
	ref_path((const uint8_t (*)[H])tbl[0], i, 0, n, want, dirs, &wlen);
	assert_int_equal(len, wlen);
	if (len)
		assert_memory_equal(got, want, len * H);
	/* at most one incomplete sibling: len + popcount(n) - 1 calls */
	assert_true(c.calls <= len + popcount(n) - 1);

	inclusion_probes(leaf, i, n, g, len, root);

	/* single-bit flips: every bit, or one per element */
	for (k = 0; k < len; k++) {
		for (bit = 0; bit < 256; bit++) {
			if (!all_bits && bit != (k * 83 + i) % 256)
				continue;
			copy_proof(bad, g, len);
			bad[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_false(ml_merkle_verify_inclusion(leaf, i, n, b, len, root));
		}
	}
	memcpy(wleaf, leaf, H);
	wleaf[31] ^= 0x80;
	assert_false(ml_merkle_verify_inclusion(wleaf, i, n, g, len, root));
	memcpy(wroot, root, H);
	wroot[0] ^= 1;
	assert_false(ml_merkle_verify_inclusion(leaf, i, n, g, len, wroot));
	/* truncation at either end, extension with the leaf or a sibling,
	 * adjacent elements swapped */
	if (len > 0) {
		assert_false(ml_merkle_verify_inclusion(leaf, i, n, g + 1, len - 1, root));
		copy_proof(bad, g, len);
		memcpy(bad[len], got[len - 1], H);
		assert_false(ml_merkle_verify_inclusion(leaf, i, n, b, len + 1, root));
	}
	copy_proof(bad + 1, g, len);
	memcpy(bad[0], leaf, H);
	assert_false(ml_merkle_verify_inclusion(leaf, i, n, b, len + 1, root));
	for (k = 0; k + 1 < len; k++) {
		copy_proof(bad, g, len);
		memcpy(bad[k], got[k + 1], H);
		memcpy(bad[k + 1], got[k], H);
		assert_false(ml_merkle_verify_inclusion(leaf, i, n, b, len, root));
	}
	assert_false(ml_merkle_verify_inclusion(leaf, UINT64_MAX, n, g, len, root));
	assert_false(ml_merkle_verify_inclusion(leaf, i, UINT64_MAX, g, len, root));

	if (!sweep)
		return;
	/* Another index or size is accepted exactly when its proof has the same
	 * shape (same length, siblings on the same sides): the tree size is
	 * only bound through the root.  In the same tree no other index has the
	 * same shape. */
	inclusion_shape(i, n, &s);
	for (x = 0; x <= n + 1; x++) {
		int want_ok = x == i;

		if (x < n && x != i) {
			inclusion_shape(x, n, &t);
			assert_false(shape_equal(&s, &t));
		}
		assert_int_equal(ml_merkle_verify_inclusion(leaf, x, n, g, len, root), want_ok);
	}
	for (x = 0; x <= 2 * n + 2; x++) {
		int want_ok = 0;

		if (i < x) {
			inclusion_shape(i, x, &t);
			want_ok = shape_equal(&s, &t);
		}
		assert_int_equal(ml_merkle_verify_inclusion(leaf, i, x, g, len, root), want_ok);
	}
}

static void
test_inclusion_properties(void **state)
{
	uint64_t n, i, r;
	struct tctx c;
	uint8_t got[H];

	(void)state;
	table_build(NULL, 0);
	for (n = 1; n <= 300; n++) {
		c = (struct tctx){ .n = n };
		assert_int_equal(ml_merkle_root(table_get, &c, n, got), 0);
		assert_memory_equal(got, roots[n], H);
		assert_int_equal(c.calls, popcount(n));
	}
	/* every index of every size up to 64; bits all flipped up to 16 */
	for (n = 1; n <= 64; n++)
		for (i = 0; i < n; i++)
			check_inclusion(i, n, n <= 16, 1);
	/* every index of 40 random sizes up to 300 */
	for (r = 0; r < 40; r++) {
		n = 65 + rng() % 236;
		for (i = 0; i < n; i++)
			check_inclusion(i, n, i == 0 || i == n - 1 || i == n / 3, i % 16 == 0);
	}
	check_inclusion(255, 256, 1, 1);
	check_inclusion(256, 300, 1, 1);
}

/* ---- properties: consistency -------------------------------------------- */

static void
check_consistency(uint64_t m, uint64_t n, int all_bits, int sweep)
{
	uint8_t got[ML_PROOF_MAX][H], want[80][H], bad[ML_PROOF_MAX + 2][H];
	const uint8_t (*b)[H] = (const uint8_t (*)[H])bad;
	const uint8_t (*g)[H] = (const uint8_t (*)[H])got;
	const uint8_t *r1 = roots[m], *r2 = roots[n];
	struct tctx c = { .n = n };
	struct shape s, t;
	int dirs[80];
	size_t len, wlen = 0, k, bit;
	uint64_t x;

	assert_int_equal(ml_merkle_consistency(table_get, &c, m, n, got, &len), 0);
	ref_subproof((const uint8_t (*)[H])tbl[0], m, 0, n, 1, want, dirs, &wlen);
	assert_int_equal(len, wlen);
	if (len)
		assert_memory_equal(got, want, len * H);
	assert_true(c.calls <= len + popcount(n));

	consistency_probes(m, n, r1, r2, g, len);
	if (m == n) {
		uint8_t one[1][H];

		memcpy(one[0], r1, H);
		assert_false(ml_merkle_verify_consistency(m, n, r1, r2, (const uint8_t (*)[H])one, 1));
		assert_false(ml_merkle_verify_consistency(m, n, r1, roots[n - 1], NULL, 0));
		return;
	}
	for (k = 0; k < len; k++) {
		for (bit = 0; bit < 256; bit++) {
			if (!all_bits && bit != (k * 131 + m + n) % 256)
				continue;
			copy_proof(bad, g, len);
			bad[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_false(ml_merkle_verify_consistency(m, n, r1, r2, b, len));
		}
	}
	assert_false(ml_merkle_verify_consistency(m, n, r1, r2, g + 1, len - 1));
	assert_false(ml_merkle_verify_consistency(0, n, r1, r2, g, len));
	assert_false(ml_merkle_verify_consistency(m, m, r1, r1, g, len));
	assert_false(ml_merkle_verify_consistency(n, m, r2, r1, g, len));
	assert_false(ml_merkle_verify_consistency(m, UINT64_MAX, r1, r2, g, len));

	if (!sweep)
		return;
	/* As for inclusion: other sizes pass exactly when the proof has the
	 * same shape (the same start, siblings on the same sides). */
	consistency_shape(m, n, &s);
	for (x = 0; x <= n + 1; x++) {
		int want_ok = 0;

		if (x > 0 && x < n) {
			consistency_shape(x, n, &t);
			want_ok = shape_equal(&s, &t);
			assert_int_equal(want_ok, x == m);
		}
		assert_int_equal(ml_merkle_verify_consistency(x, n, r1, r2, g, len), want_ok);
	}
	for (x = 0; x <= 2 * n + 2; x++) {
		int want_ok = 0;

		if (m < x) {
			consistency_shape(m, x, &t);
			want_ok = shape_equal(&s, &t);
		}
		assert_int_equal(ml_merkle_verify_consistency(m, x, r1, r2, g, len), want_ok);
	}
}

static void
test_consistency_properties(void **state)
{
	uint64_t n, m, r, j;

	(void)state;
	table_build(NULL, 0);
	for (n = 1; n <= 64; n++)
		for (m = 1; m <= n; m++)
			check_consistency(m, n, n <= 16, 1);
	for (r = 0; r < 30; r++) {
		n = 65 + rng() % 236;
		check_consistency(1, n, 1, 1);
		check_consistency(n - 1, n, 1, 1);
		check_consistency(n, n, 0, 0);
		for (m = 2; m < n; m *= 2)
			check_consistency(m, n, 0, 1);
		for (j = 0; j < 25; j++)
			check_consistency(1 + rng() % n, n, j == 0, j < 3);
	}
	check_consistency(256, 300, 1, 1);
	check_consistency(255, 256, 1, 1);
}

/* ---- the incremental edge ----------------------------------------------- */

struct event {
	unsigned level;
	uint64_t index;
	uint8_t hash[H];
};

struct events {
	struct event ev[70];
	size_t count;
	unsigned fail_level; /* return fail_rc when reporting this level */
	int fail_rc;
};

static int
record_done(void *ctx, unsigned level, uint64_t index, const uint8_t hash[H])
{
	struct events *e = ctx;

	assert_true(e->count < 70);
	e->ev[e->count].level = level;
	e->ev[e->count].index = index;
	memcpy(e->ev[e->count].hash, hash, H);
	e->count++;
	if (e->fail_level && level == e->fail_level)
		return e->fail_rc;
	return 0;
}

static void
test_edge(void **state)
{
	struct ml_merkle_edge edge, snap;
	struct events ev;
	uint8_t got[H];
	uint64_t s, total = 0, want_total = 0;
	unsigned l;
	size_t k;

	(void)state;
	table_build(NULL, 0);
	ml_merkle_edge_init(&edge);
	for (s = 0; s <= 300; s++) {
		struct tctx c = { .n = s };

		assert_int_equal(edge.size, s);
		ml_merkle_edge_root(&edge, got);
		assert_memory_equal(got, roots[s], H);
		assert_int_equal(ml_merkle_root(table_get, &c, s, got), 0);
		assert_memory_equal(got, roots[s], H);
		for (l = 0; l < 64; l++)
			if (s >> l & 1)
				assert_memory_equal(edge.nodes[l], tbl[l][(s >> l) - 1], H);
		if (s == 300)
			break;
		/* Adding leaf s completes the subtrees of levels 1..t, t the
		 * trailing one bits of s, lowest first. */
		memset(&ev, 0, sizeof ev);
		assert_int_equal(ml_merkle_edge_add(&edge, tbl[0][s], record_done, &ev), 0);
		for (l = 1; s >> (l - 1) & 1; l++) {
			assert_true(l - 1 < ev.count);
			assert_int_equal(ev.ev[l - 1].level, l);
			assert_int_equal(ev.ev[l - 1].index, s >> l);
			assert_memory_equal(ev.ev[l - 1].hash, tbl[l][s >> l], H);
		}
		assert_int_equal(ev.count, l - 1);
		total += ev.count;
	}
	/* every complete subtree of level >= 1 reported exactly once */
	for (l = 1; l < 64; l++)
		want_total += (uint64_t)300 >> l;
	assert_int_equal(total, want_total);

	/* A failing done(): its code is returned and the edge is unchanged. */
	ml_merkle_edge_init(&edge);
	for (s = 0; s < 7; s++)
		assert_int_equal(ml_merkle_edge_add(&edge, tbl[0][s], NULL, NULL), 0);
	snap = edge;
	memset(&ev, 0, sizeof ev);
	ev.fail_level = 2;
	ev.fail_rc = 42;
	assert_int_equal(ml_merkle_edge_add(&edge, tbl[0][7], record_done, &ev), 42);
	assert_int_equal(ev.count, 2);
	assert_memory_equal(&edge, &snap, sizeof edge);
	memset(&ev, 0, sizeof ev);
	assert_int_equal(ml_merkle_edge_add(&edge, tbl[0][7], record_done, &ev), 0);
	assert_int_equal(ev.count, 3);
	for (k = 0; k < 3; k++)
		assert_int_equal(ev.ev[k].level, k + 1);
	ml_merkle_edge_root(&edge, got);
	assert_memory_equal(got, roots[8], H);

	/* A full edge refuses more leaves. */
	edge.size = UINT64_MAX;
	snap = edge;
	memset(&ev, 0, sizeof ev);
	assert_int_equal(ml_merkle_edge_add(&edge, tbl[0][0], record_done, &ev), ML_EINPUT);
	assert_int_equal(ev.count, 0);
	assert_memory_equal(&edge, &snap, sizeof edge);
}

/* ---- callback failures -------------------------------------------------- */

static void
test_callback_failure(void **state)
{
	uint8_t proof[ML_PROOF_MAX][H], fill[ML_PROOF_MAX][H], out[H], out0[H];
	unsigned long f, total;
	size_t len;
	int op, rcs[2] = { -1, 7 }, ri;

	(void)state;
	table_build(NULL, 0);
	memset(fill, 0xee, sizeof fill);
	memset(out0, 0xee, H);
	for (op = 0; op < 4; op++) {
		struct tctx c = { .n = 300 };

		switch (op) {
		case 0: assert_int_equal(ml_merkle_inclusion(table_get, &c, 3, 300, proof, &len), 0); break;
		case 1: assert_int_equal(ml_merkle_consistency(table_get, &c, 37, 300, proof, &len), 0); break;
		case 2: assert_int_equal(ml_merkle_root(table_get, &c, 300, out), 0); break;
		default: assert_int_equal(ml_merkle_range(table_get, &c, 3, 250, out), 0); break;
		}
		total = c.calls;
		assert_true(total > 0);
		for (ri = 0; ri < 2; ri++) {
			for (f = 1; f <= total; f++) {
				int rc;

				c = (struct tctx){ .n = 300, .fail_at = f, .fail_rc = rcs[ri] };
				memcpy(proof, fill, sizeof proof);
				memcpy(out, out0, H);
				len = 999;
				switch (op) {
				case 0: rc = ml_merkle_inclusion(table_get, &c, 3, 300, proof, &len); break;
				case 1: rc = ml_merkle_consistency(table_get, &c, 37, 300, proof, &len); break;
				case 2: rc = ml_merkle_root(table_get, &c, 300, out); break;
				default: rc = ml_merkle_range(table_get, &c, 3, 250, out); break;
				}
				assert_int_equal(rc, ML_EIO); /* the source failed */
				/* outputs written only on success */
				assert_int_equal(len, 999);
				assert_memory_equal(proof, fill, sizeof proof);
				assert_memory_equal(out, out0, H);
			}
		}
	}
}

/* ---- callback counts on big trees -------------------------------------- */

#define BIG_LEVELS 17 /* 2^16 leaves */
#define BIG_N ((uint64_t)1 << (BIG_LEVELS - 1))

static uint8_t (*big[BIG_LEVELS])[H];
static uint8_t sup[64][H]; /* virtual levels above 16: node(sup[l-1], sup[l-1]) */

static int
big_done(void *ctx, unsigned level, uint64_t index, const uint8_t hash[H])
{
	(void)ctx;
	assert_true(level < BIG_LEVELS);
	assert_true(index < (BIG_N >> level));
	memcpy(big[level][index], hash, H);
	return 0;
}

struct vctx {
	uint64_t n;
	unsigned long calls;
};

/* The real 2^16-leaf tree for n <= 2^16; beyond, a consistent virtual tree
 * whose leaf i is leaf i mod 2^16 of the real one. */
static int
virt_get(void *p, unsigned level, uint64_t index, uint8_t out[H])
{
	struct vctx *c = p;

	c->calls++;
	assert_true(level < 64);
	assert_true(index < (c->n >> level)); /* complete and inside n */
	if (level < BIG_LEVELS)
		memcpy(out, big[level][index & ((BIG_N >> level) - 1)], H);
	else
		memcpy(out, sup[level], H);
	return 0;
}

struct counts {
	unsigned long max_incl, max_cons, sum_incl, sum_cons, n_incl, n_cons;
	size_t max_len;
};

static void
count_inclusion(uint64_t n, uint64_t i, const uint8_t root[H], struct counts *k)
{
	uint8_t proof[ML_PROOF_MAX][H], leaf[H];
	struct vctx c = { .n = n };
	size_t len;

	assert_int_equal(ml_merkle_inclusion(virt_get, &c, i, n, proof, &len), 0);
	if (c.calls > k->max_incl)
		k->max_incl = c.calls;
	k->sum_incl += c.calls;
	k->n_incl++;
	if (len > k->max_len)
		k->max_len = len;
	c.calls = 0;
	assert_int_equal(virt_get(&c, 0, i, leaf), 0);
	assert_true(ml_merkle_verify_inclusion(leaf, i, n, (const uint8_t (*)[H])proof, len, root));
}

static void
count_consistency(uint64_t m, uint64_t n, const uint8_t root[H], struct counts *k)
{
	uint8_t proof[ML_PROOF_MAX][H], r1[H];
	struct vctx c = { .n = n };
	size_t len;

	assert_int_equal(ml_merkle_consistency(virt_get, &c, m, n, proof, &len), 0);
	if (c.calls > k->max_cons)
		k->max_cons = c.calls;
	k->sum_cons += c.calls;
	k->n_cons++;
	if (len > k->max_len)
		k->max_len = len;
	c = (struct vctx){ .n = m };
	assert_int_equal(ml_merkle_root(virt_get, &c, m, r1), 0);
	assert_true(ml_merkle_verify_consistency(m, n, r1, root, (const uint8_t (*)[H])proof, len));
}

static unsigned
ceil_log2(uint64_t n)
{
	unsigned c = 0;

	while (c < 64 && ((uint64_t)1 << c) < n)
		c++;
	return c;
}

static void
measure(uint64_t n, int print)
{
	struct counts k = { 0 };
	struct vctx c = { .n = n };
	uint8_t root[H];
	uint64_t i, m, p;
	unsigned bound;
	int r;

	assert_int_equal(ml_merkle_root(virt_get, &c, n, root), 0);
	assert_int_equal(c.calls, popcount(n));
	count_inclusion(n, 0, root, &k);
	count_inclusion(n, n - 1, root, &k);
	count_inclusion(n, n / 2, root, &k);
	for (p = 1; p < n && p != 0; p *= 2) {
		count_inclusion(n, p - 1, root, &k);
		count_inclusion(n, p, root, &k);
		count_inclusion(n, n - p, root, &k);
		count_consistency(p, n, root, &k);
		if (p > 1)
			count_consistency(p - 1, n, root, &k);
		count_consistency(n - p, n, root, &k);
	}
	for (r = 0; r < 2000; r++) {
		i = rng() % n;
		count_inclusion(n, i, root, &k);
		m = 1 + rng() % (n - 1);
		count_consistency(m, n, root, &k);
	}
	/* O(log n), far below log^2 n: */
	bound = ceil_log2(n) + popcount(n);
	assert_true(k.max_incl <= bound);
	assert_true(k.max_cons <= bound + 1);
	assert_true(k.max_len <= ML_PROOF_MAX);
	if (print)
		printf("[ merkle   ] n=%llu: root %u calls; inclusion max %lu avg %.1f (%lu proofs); "
		       "consistency max %lu avg %.1f (%lu proofs); longest proof %zu; "
		       "bound log2+popcount = %u, log2^2 = %u\n",
		       (unsigned long long)n, popcount(n), k.max_incl,
		       (double)k.sum_incl / (double)k.n_incl, k.n_incl, k.max_cons,
		       (double)k.sum_cons / (double)k.n_cons, k.n_cons, k.max_len, bound,
		       ceil_log2(n) * ceil_log2(n));
}

static void
test_callback_counts(void **state)
{
	struct ml_merkle_edge edge;
	uint8_t leaf[H], h[H];
	uint64_t i, j;
	unsigned l;

	(void)state;
	for (l = 0; l < BIG_LEVELS; l++) {
		big[l] = malloc((BIG_N >> l) * H);
		assert_non_null(big[l]);
	}
	/* The real tree, built by the edge; its nodes checked by rehashing. */
	ml_merkle_edge_init(&edge);
	for (i = 0; i < BIG_N; i++) {
		for (j = 0; j < H; j += 8) {
			uint64_t v = rng();
			memcpy(leaf + j, &v, 8);
		}
		memcpy(big[0][i], leaf, H);
		assert_int_equal(ml_merkle_edge_add(&edge, leaf, big_done, NULL), 0);
	}
	for (l = 1; l < BIG_LEVELS; l++) {
		for (i = 0; i < (BIG_N >> l); i++) {
			ref_node(big[l - 1][2 * i], big[l - 1][2 * i + 1], h);
			assert_memory_equal(big[l][i], h, H);
		}
	}
	ml_merkle_edge_root(&edge, h);
	assert_memory_equal(h, big[BIG_LEVELS - 1][0], H);
	memcpy(sup[BIG_LEVELS - 1], big[BIG_LEVELS - 1][0], H);
	for (l = BIG_LEVELS; l < 64; l++)
		ml_merkle_node(sup[l - 1], sup[l - 1], sup[l]);

	measure(BIG_N, 0);
	measure(BIG_N - 1, 0);
	measure(40961, 0);
	measure(1000000, 1);
	measure(((uint64_t)1 << 40) + 12345, 1);
	measure((uint64_t)1 << 63, 1);
	{
		/* The largest tree: inclusion proofs of 64 hashes. */
		struct counts k = { 0 };
		struct vctx c = { .n = UINT64_MAX };
		uint8_t root[H];

		assert_int_equal(ml_merkle_root(virt_get, &c, UINT64_MAX, root), 0);
		count_inclusion(UINT64_MAX, 0, root, &k);
		count_inclusion(UINT64_MAX, UINT64_MAX - 1, root, &k);
		count_inclusion(UINT64_MAX, UINT64_MAX / 3, root, &k);
		assert_true(k.max_len <= ML_PROOF_MAX);
	}
	for (l = 0; l < BIG_LEVELS; l++)
		free(big[l]);
}

/* A consistency proof that would not fit ML_PROOF_MAX is refused. */
static void
test_oversized(void **state)
{
	uint8_t proof[ML_PROOF_MAX][H];
	unsigned long calls = 0;
	size_t len = 999;
	uint64_t m;
	int ok = 0, refused = 0;

	(void)state;
	/* Trees of more than 2^63 leaves: some proofs need 65 hashes. */
	for (m = 1; m < 200; m++) {
		int rc = ml_merkle_consistency(sym_get, &calls, UINT64_MAX - m, UINT64_MAX,
					       proof, &len);
		if (rc == 0) {
			assert_true(len <= ML_PROOF_MAX);
			ok++;
		} else {
			refused++;
		}
	}
	assert_true(ok > 0);
	assert_true(refused > 0);
	/* The verifier rejects what would be longer, without overrunning. */
	assert_int_equal(ml_merkle_verify_consistency(3, UINT64_MAX, proof[0], proof[1],
						      (const uint8_t (*)[H])proof, ML_PROOF_MAX), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_and_empty),
		cmocka_unit_test(test_rfc6962_roots),
		cmocka_unit_test(test_rfc6962_inclusion),
		cmocka_unit_test(test_rfc6962_consistency),
		cmocka_unit_test(test_degenerate),
		cmocka_unit_test(test_proof_layouts),
		cmocka_unit_test(test_range_any),
		cmocka_unit_test(test_inclusion_properties),
		cmocka_unit_test(test_consistency_properties),
		cmocka_unit_test(test_edge),
		cmocka_unit_test(test_callback_failure),
		cmocka_unit_test(test_callback_counts),
		cmocka_unit_test(test_oversized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

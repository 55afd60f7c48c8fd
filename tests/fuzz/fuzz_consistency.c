/* fuzz_consistency — RFC 9162 proof checks on hostile input
 * (ml_merkle_verify_consistency, ml_merkle_verify_inclusion), and a
 * round-trip property on small real trees.  Binary input, first byte:
 *   even: raw check.  m(8) n(8) root_m(32) root_n(32) index(8) leaf(32)
 *         (offsets 0, 8, 16, 48, 80, 88; n and root_n serve both checks),
 *         then proof hashes (32 bytes each, up to ML_PROOF_MAX + 8, so that
 *         over-long proofs are tried too); sizes are any u64.
 *   odd:  round trip.  m(2) n(2) index(2) flip(2) in a tree of at most 1024
 *         synthetic leaves: the proofs ml_merkle_consistency and
 *         ml_merkle_inclusion build must verify against ml_merkle_root's
 *         roots, and must fail once one bit (flip) of a proof hash is
 *         changed. */
#include "fuzz.h"

#include "merkle.h"

#define MAXN 1024
#define RAW_HEAD (8 + 8 + 32 + 32 + 8 + 32)

static uint64_t
get64(const uint8_t *p)
{
	return ml_get_be64(p);
}

/* Complete subtree (level, index) of the tree whose leaf i hashes "i". */
static int
node(void *ctx, unsigned level, uint64_t index, uint8_t out[ML_SHA256_LEN])
{
	uint8_t l[ML_SHA256_LEN], r[ML_SHA256_LEN], b[8];

	(void)ctx;
	if (level == 0) {
		ml_put_be64(b, index);
		ml_sha256(b, sizeof b, out);
		return 0;
	}
	if (level > 10 || node(NULL, level - 1, 2 * index, l) ||
	    node(NULL, level - 1, 2 * index + 1, r))
		return -1;
	ml_merkle_node(l, r, out);
	return 0;
}

static void
raw(const uint8_t *d, size_t size)
{
	uint8_t proof[ML_PROOF_MAX + 8][ML_SHA256_LEN];
	size_t len = (size - RAW_HEAD) / ML_SHA256_LEN;

	if (len > ML_PROOF_MAX + 8)
		len = ML_PROOF_MAX + 8;
	memcpy(proof, d + RAW_HEAD, len * ML_SHA256_LEN);
	(void)ml_merkle_verify_consistency(get64(d), get64(d + 8), d + 16, d + 48,
					   (const uint8_t(*)[ML_SHA256_LEN])proof, len);
	(void)ml_merkle_verify_inclusion(d + 88, get64(d + 80), get64(d + 8),
					 (const uint8_t(*)[ML_SHA256_LEN])proof, len, d + 48);
}

static void
roundtrip(const uint8_t *d)
{
	uint64_t n = 1 + (uint64_t)(d[2] << 8 | d[3]) % MAXN;
	uint64_t m = 1 + (uint64_t)(d[0] << 8 | d[1]) % n;
	uint64_t index = (uint64_t)(d[4] << 8 | d[5]) % n;
	unsigned flip = (unsigned)(d[6] << 8 | d[7]);
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN], rm[ML_SHA256_LEN], rn[ML_SHA256_LEN];
	uint8_t leaf[ML_SHA256_LEN];
	size_t len;

	FZ_ASSERT(ml_merkle_root(node, NULL, m, rm) == 0 && ml_merkle_root(node, NULL, n, rn) == 0);
	FZ_ASSERT(ml_merkle_consistency(node, NULL, m, n, proof, &len) == 0);
	FZ_ASSERT(ml_merkle_verify_consistency(m, n, rm, rn,
					       (const uint8_t(*)[ML_SHA256_LEN])proof, len) == 1);
	if (len) {
		proof[(flip / 256) % len][(flip / 8) % 32] ^= (uint8_t)(1u << (flip % 8));
		FZ_ASSERT(ml_merkle_verify_consistency(
				  m, n, rm, rn, (const uint8_t(*)[ML_SHA256_LEN])proof, len) == 0);
	}
	FZ_ASSERT(node(NULL, 0, index, leaf) == 0);
	FZ_ASSERT(ml_merkle_inclusion(node, NULL, index, n, proof, &len) == 0);
	FZ_ASSERT(ml_merkle_verify_inclusion(leaf, index, n,
					     (const uint8_t(*)[ML_SHA256_LEN])proof, len, rn) == 1);
	if (len) {
		proof[(flip / 256) % len][(flip / 8) % 32] ^= (uint8_t)(1u << (flip % 8));
		FZ_ASSERT(ml_merkle_verify_inclusion(
				  leaf, index, n, (const uint8_t(*)[ML_SHA256_LEN])proof, len,
				  rn) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!(data[0] & 1) && size >= 1 + RAW_HEAD)
		raw(data + 1, size - 1);
	else if ((data[0] & 1) && size >= 9)
		roundtrip(data + 1);
	return 0;
}

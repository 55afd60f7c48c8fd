/* merkle — the RFC 6962 / RFC 9162 Merkle tree over leaf hashes.
 *
 * Pure functions: the tree's nodes come from a caller's callback, so the
 * same code serves the ledger (stored nodes), verify (recomputed nodes) and
 * offline proof checking (no nodes at all).  May call util only.
 *
 * Hashes: leaf hash = SHA-256(0x00 || leaf) (computed by chain.c);
 * node hash = SHA-256(0x01 || left || right).  MTH({}) = SHA-256("").
 * A "complete subtree" (level k, index i) covers leaves [i*2^k, (i+1)*2^k);
 * level 0 is the leaves themselves.
 */
#ifndef ML_MERKLE_H
#define ML_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ML_PROOF_MAX 64 /* hashes in any proof of a tree of < 2^63 leaves */

/* Returns the hash of complete subtree (level, index) into out; ML_OK on
 * success, an ML_E* code on failure (which the caller's ctx explains; any
 * non-zero return counts as failure and the builders below return ML_EIO).
 * The functions below only ask for subtrees that lie wholly inside the tree
 * or range they were given. */
typedef int (*ml_node_fn)(void *ctx, unsigned level, uint64_t index,
			  uint8_t out[ML_SHA256_LEN]);

/* SHA-256(0x01 || l || r).  out may alias l or r. */
void ml_merkle_node(const uint8_t l[ML_SHA256_LEN], const uint8_t r[ML_SHA256_LEN],
		    uint8_t out[ML_SHA256_LEN]);

/* MTH(D[begin:end]) for any range (SHA-256("") when begin == end), built
 * from complete subtrees fetched with get.  When begin is a multiple of the
 * smallest power of two >= end - begin (every range that MTH's split, PATH
 * and PROOF produce, and every [0, n)), that is one call per set bit of
 * end - begin, so at most 64; other ranges are correct but cost more (up to
 * end - begin calls).  ML_OK, ML_EINPUT when begin > end, or ML_EIO when get
 * fails; out is written only on success. */
enum ml_rc ml_merkle_range(ml_node_fn get, void *ctx, uint64_t begin, uint64_t end,
			   uint8_t out[ML_SHA256_LEN]);
/* The root of the tree of size n (ml_merkle_range(0, n); SHA-256("") for 0). */
enum ml_rc ml_merkle_root(ml_node_fn get, void *ctx, uint64_t n, uint8_t out[ML_SHA256_LEN]);

/* RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of size n,
 * ordered from the leaf's sibling upward.  proof must hold ML_PROOF_MAX
 * hashes; *len receives the count (ceil(log2 n) at most).  Costs at most
 * len + popcount(n) - 1 calls of get.  ML_EINPUT when index >= n, ML_EIO
 * when get fails; proof and *len are written only on success. */
enum ml_rc ml_merkle_inclusion(ml_node_fn get, void *ctx, uint64_t index, uint64_t n,
			       uint8_t proof[][ML_SHA256_LEN], size_t *len);
/* RFC 9162 §2.1.4.1 consistency proof from size m to size n (0 < m <= n;
 * m == n gives an empty proof).  proof must hold ML_PROOF_MAX hashes; costs
 * at most len + popcount(n) calls of get.  ML_EINPUT on bad sizes or a
 * proof longer than ML_PROOF_MAX (possible only when n > 2^63), ML_EIO when
 * get fails; proof and *len are written only on success. */
enum ml_rc ml_merkle_consistency(ml_node_fn get, void *ctx, uint64_t m, uint64_t n,
				 uint8_t proof[][ML_SHA256_LEN], size_t *len);

/* RFC 9162 §2.1.3.2: true when proof shows leaf hash `leaf` at index in the
 * tree of size n with the given root, else false (also for index >= n, a proof
 * of the wrong length, and so on).  As in the RFC, n only decides which
 * side each proof hash goes on: a proof for (index, n) also passes for any
 * other size that puts them on the same sides (leaf 0 of 3 and of 4), so
 * trust root only together with the size it was signed with. */
bool ml_merkle_verify_inclusion(const uint8_t leaf[ML_SHA256_LEN], uint64_t index,
			        uint64_t n, const uint8_t proof[][ML_SHA256_LEN], size_t len,
			        const uint8_t root[ML_SHA256_LEN]);
/* RFC 9162 §2.1.4.2: true when proof shows that the tree (m, root_m) is a
 * prefix of (n, root_n), else false (also for m > n).  m == n (0 included):
 * valid only with an empty proof and equal roots; otherwise m == 0: valid only with an
 * empty proof, whatever root_m is (the empty tree is a prefix of every tree;
 * as transparency-dev/merkle does).  The sizes are bound only as for
 * inclusion: pair the roots with their signed sizes. */
bool ml_merkle_verify_consistency(uint64_t m, uint64_t n,
				  const uint8_t root_m[ML_SHA256_LEN],
				  const uint8_t root_n[ML_SHA256_LEN],
				  const uint8_t proof[][ML_SHA256_LEN], size_t len);

/* Incremental builder: feed leaf hashes in order; it keeps the right edge
 * (one hash per level) and reports every complete subtree as it forms. */
struct ml_merkle_edge {
	uint64_t size;
	uint8_t nodes[64][ML_SHA256_LEN]; /* nodes[k] valid when bit k of size is set */
};
void ml_merkle_edge_init(struct ml_merkle_edge *m);
/* Adds a leaf; for each complete subtree of level >= 1 that it completes,
 * calls done(ctx, level, index, hash) (may be NULL), lowest level first.
 * done returns ML_OK or an ML_E* code; a non-zero return is returned at
 * once, and m is left as it was (the leaf is not added; done may already
 * have seen lower levels).  ML_EINPUT when m already holds UINT64_MAX
 * leaves. */
enum ml_rc ml_merkle_edge_add(struct ml_merkle_edge *m, const uint8_t leaf[ML_SHA256_LEN],
			      int (*done)(void *ctx, unsigned level, uint64_t index,
					  const uint8_t hash[ML_SHA256_LEN]),
			      void *ctx);
/* The root of the leaves added so far. */
void ml_merkle_edge_root(const struct ml_merkle_edge *m, uint8_t out[ML_SHA256_LEN]);

#endif

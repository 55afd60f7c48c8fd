/* tlog — the ledger as a transparency log: proofs from its stored Merkle
 * tree, checks of outside checkpoints against it, the verifier's state file.
 * (The auditor's bundle that `export` writes is bundle.h's.)
 *
 * May call ledger, store, merkle, note, keys, util.
 */
#ifndef ML_TLOG_H
#define ML_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "merkle.h"
#include "note.h"
#include "util.h"

/* Root of the ledger's tree at size n (n <= size), from stored nodes. */
int ml_tlog_root(struct ml_ledger *l, uint64_t n, uint8_t root[ML_SHA256_LEN],
		 struct ml_err *e);
/* The stored checkpoint note of size n (n < 0: the latest); *note malloc'd. */
int ml_tlog_checkpoint(struct ml_ledger *l, int64_t n, uint64_t *size, char **note,
		       struct ml_err *e);
/* A c2sp.org/tlog-proof@v1 bundle for entry seq in the tree of the stored
 * checkpoint of size n (n < 0: the latest).  ML_EINPUT when seq >= size or no
 * checkpoint of that size is stored. */
int ml_tlog_prove(struct ml_ledger *l, uint64_t seq, int64_t n, struct ml_buf *out,
		  struct ml_err *e);
/* The RFC 9162 consistency proof from size m to size n (n < 0: the current
 * size); *len hashes into proof. */
int ml_tlog_consistency(struct ml_ledger *l, uint64_t m, int64_t n, uint64_t *to,
			uint8_t proof[][ML_SHA256_LEN], size_t *len, struct ml_err *e);

/* Proves from the stored tree that leaf (the leaf hash of entry seq) is
 * included in the tree of the given size and root (RFC 9162 inclusion
 * proof, built and checked).  ML_OK, ML_EINTEGRITY when it is not, or a
 * storage error. */
int ml_tlog_included(struct ml_ledger *l, uint64_t seq, uint64_t size,
		     const uint8_t leaf[ML_SHA256_LEN], const uint8_t root[ML_SHA256_LEN],
		     struct ml_err *e);

/* Checks an outside checkpoint note against the ledger: its signature by
 * the ledger's log key, its origin, and that the ledger extends it (same
 * root at its size).  ML_OK when consistent; ML_EINTEGRITY when the ledger
 * is shorter (truncated or rolled back) or has another root at that size
 * (forked), with a message naming both (when shorter, e->seq is the first
 * missing entry, which the CLI prints as "entry N: ..."); ML_EINPUT when the note is not a
 * checkpoint of this log.  report (may be NULL) receives, on a mismatch,
 * both checkpoints and the evidence, for printing. */
int ml_tlog_check(struct ml_ledger *l, const char *note, size_t len,
		  struct ml_checkpoint *seen, struct ml_buf *report, struct ml_err *e);

/* Offline: checks a tlog-proof bundle for the given leaf bytes with the log's
 * verifier key: the checkpoint's signature, and the inclusion of
 * SHA-256(0x00 || leaf) at the bundle's index.  ML_EINTEGRITY when the proof
 * or the signature fails; ML_EINPUT on malformed input. */
int ml_tlog_verify_proof(const struct ml_pubkey *logkey, const char *bundle, size_t blen,
			 const uint8_t *leaf, size_t leaf_len, uint64_t *index,
			 struct ml_err *e);

#endif

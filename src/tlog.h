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
#include "note_checkpoint.h"
#include "note_trust.h"
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
 * missing entry, which the CLI prints as "entry N: ..."), and when the note
 * is a checkpoint of another log (another origin, or not signed by this
 * ledger's log key: the log was replaced); ML_EINPUT when it is not a
 * checkpoint at all.  report (may be NULL) receives, on a mismatch,
 * both checkpoints and the evidence, for printing. */
int ml_tlog_check(struct ml_ledger *l, const char *note, size_t len,
		  struct ml_checkpoint *seen, struct ml_buf *report, struct ml_err *e);

/* What ml_tlog_check_held learnt from one checkpoint held outside. */
struct ml_tlog_held {
	struct ml_checkpoint cp; /* its origin, size and root */
	/* With a policy: the witnesses whose cosignatures it verified and
	 * counted (", " between them); without: the names of the note's
	 * cosignature-shaped lines other than the origin, not checked.  Cut at
	 * the buffer's end. */
	char witnesses[512];
	uint64_t newest;         /* newest counted cosignature (0: none or no policy) */
	int checked;             /* a trust policy checked the witnesses */
};
/* ml_tlog_check, and with pol (may be NULL) the note must also satisfy
 * the trust policy's quorum at clk (ml_trust_check_at).  verify and
 * report --checkpoint both use it; they print.  *out is set only on
 * success.  Errors as ml_tlog_check; ML_EINTEGRITY when the policy is
 * not met (the message says why). */
int ml_tlog_check_held(struct ml_ledger *l, const char *note, size_t len,
		       const struct ml_trust *pol, const struct ml_trust_clock *clk,
		       struct ml_tlog_held *out, struct ml_buf *report, struct ml_err *e);

/* Offline: checks a tlog-proof bundle for the given leaf bytes with the log's
 * verifier key: the checkpoint's signature, and the inclusion of
 * SHA-256(0x00 || leaf) at the bundle's index.  ML_EINTEGRITY when the proof
 * or the signature fails; ML_EINPUT on malformed input. */
int ml_tlog_verify_proof(const struct ml_pubkey *logkey, const char *bundle, size_t blen,
			 const uint8_t *leaf, size_t leaf_len, uint64_t *index,
			 struct ml_err *e);

/* ---- offline witness checks (pure: no ledger, no I/O, no clock) ---- */

/* Parses a consistency proof as 'prove --consistency' prints it: one
 * standard base64 SHA-256 hash a line, each line ending in '\n' (an empty
 * text is the empty proof).  At most ML_PROOF_MAX hashes.  ML_EINPUT naming
 * the line; out and *n are written only as far as parsed / on success. */
int ml_tlog_hashes_parse(const char *text, size_t len, uint8_t out[][ML_SHA256_LEN],
			 size_t *n, struct ml_err *e);
/* ml_checkpoint_open (note_checkpoint.h, where checkpoints are also signed):
 * a signed checkpoint note of the log logkey names, its signature checked.
 * ML_EINPUT for a malformed note or checkpoint; ML_EINTEGRITY "of another
 * log" / "not signed by the log key".  *out set on success. */
int ml_tlog_note_of(const struct ml_pubkey *logkey, const char *bytes, size_t len,
		    struct ml_checkpoint *out, struct ml_err *e);
/* RFC 9162 §2.1.4.2 between two checkpoints already checked with
 * ml_tlog_note_of: same origin, old->size <= new->size, equal roots at equal
 * sizes, and proof shows old is a prefix of new.  ML_EINTEGRITY with a line
 * naming both sizes and roots ("a rollback", "the log forked", "the proof
 * does not show ..."). */
int ml_tlog_consistent(const struct ml_checkpoint *old, const struct ml_checkpoint *new,
		       const uint8_t proof[][ML_SHA256_LEN], size_t len, struct ml_err *e);
/* verify-consistency: ml_tlog_note_of on both notes ("old: ..." / "new: ..."
 * prefixes), then ml_tlog_consistent.  oldcp and newcp (may be NULL) are set
 * on success. */
int ml_tlog_verify_consistency(const struct ml_pubkey *logkey, const char *old,
			       size_t oldlen, const char *new, size_t newlen,
			       const uint8_t proof[][ML_SHA256_LEN], size_t len,
			       struct ml_checkpoint *oldcp, struct ml_checkpoint *newcp,
			       struct ml_err *e);
/* A witness's rule (C2SP tlog-witness, ledger/FORMAT.md §8): may it cosign
 * next, having last cosigned state (NULL: first use, accepted)?  Equal size
 * and root: yes (cosign again).  A larger size needs a proof (have_proof 0:
 * ML_EINPUT saying which 'prove --consistency' to run) that
 * ml_tlog_consistent accepts; a smaller size (rollback) or the same size with
 * another root (fork) is ML_EINTEGRITY naming both sizes and roots. */
int ml_tlog_witness_step(const struct ml_checkpoint *state, const struct ml_checkpoint *next,
			 int have_proof, const uint8_t proof[][ML_SHA256_LEN], size_t len,
			 struct ml_err *e);

#endif

/* note_proof — c2sp.org/tlog-proof@v1 bundles.
 *
 * Part of the note module: pure functions over bytes, bounded inputs,
 * errors and dependencies as note.h says.
 */
#ifndef ML_NOTE_PROOF_H
#define ML_NOTE_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "note.h"
#include "note_checkpoint.h"
#include "util.h"

/* c2sp.org/tlog-proof@v1 bundle, one line each:
 *     "c2sp.org/tlog-proof@v1"
 *     ["extra " base64(opaque extra data)]       (optional, not authenticated)
 *     "index " <decimal, no leading zeros>
 *     base64(hash) ...                           (zero or more, leaf's sibling first)
 *     ""                                         (an empty line)
 *     the signed checkpoint note, verbatim.
 * The parser also checks what the bytes alone determine: the note is a
 * signed note whose text is a checkpoint, index < tree size, and the number
 * of hashes is exactly that of an RFC 6962 inclusion proof of index in a tree
 * of that size.  Signatures, the policy and the proof itself are checked by
 * the caller (ml_trust_check, ml_merkle_verify_inclusion with the leaf). */
#define ML_TLOG_PROOF_MAX (ML_NOTE_MAX + 64 * 1024)
#define ML_TLOG_PROOF_HASHES_MAX 64 /* ML_PROOF_MAX of merkle.h */
struct ml_tlog_proof {
	uint64_t index;
	uint8_t *extra;          /* owned (malloc); NULL when there is no extra line */
	size_t extra_len;
	uint8_t hashes[ML_TLOG_PROOF_HASHES_MAX][ML_SHA256_LEN];
	size_t nhashes;
	struct ml_note note;     /* owned: the checkpoint note */
	struct ml_checkpoint checkpoint;
};
/* Parses a bundle of at most ML_TLOG_PROOF_MAX bytes.  ML_EINPUT with the
 * reason; *out is set only on success, then owned by the caller
 * (ml_tlog_proof_clear). */
int ml_tlog_proof_parse(const char *bytes, size_t len, struct ml_tlog_proof *out,
			struct ml_err *e);
/* Frees a parsed bundle and zeroes it; NULL and zeroed bundles are fine. */
void ml_tlog_proof_clear(struct ml_tlog_proof *p);
/* Appends the bundle text to out (no extra line when extra_len is 0).  note
 * is the signed checkpoint note.  Out of memory sets out->oom. */
void ml_tlog_proof_format(uint64_t index, const uint8_t *extra, size_t extra_len,
			  const uint8_t hashes[][ML_SHA256_LEN], size_t n,
			  const char *note, size_t note_len, struct ml_buf *out);

#endif

/* chain — ledger entries, their leaf encoding and leaf hashes.
 *
 * Leaf bytes (ledger/FORMAT.md, "Entries"):
 *   0x01                       format version of the leaf
 *   seq        u64 big-endian  0-based position, also the Merkle leaf index
 *   prev       32 bytes        leaf hash of entry seq-1 (zeros for seq 0)
 *   time       i64 big-endian  the ledger's append time, µs since the Unix epoch, UTC
 *   length     u32 big-endian  length of the envelope
 *   envelope   length bytes    the DSSE envelope JSON
 * leaf hash = SHA-256(0x00 || leaf bytes), as RFC 6962 section 2.1.
 *
 * Pure functions over bytes.  May call util only.
 */
#ifndef ML_CHAIN_H
#define ML_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ML_LEAF_VERSION 0x01
#define ML_LEAF_HEADER 53 /* bytes before the envelope */

/* An entry.  envelope is borrowed: the struct never owns it. */
struct ml_entry {
	uint64_t seq;
	uint8_t prev[ML_SHA256_LEN];
	int64_t time_us;
	const uint8_t *envelope;
	size_t envelope_len;
};

/* Appends the leaf bytes of en to out. */
void ml_leaf_encode(const struct ml_entry *en, struct ml_buf *out);
/* SHA-256(0x00 || leaf bytes) without building the leaf in memory. */
void ml_leaf_hash(const struct ml_entry *en, uint8_t out[ML_SHA256_LEN]);
/* Parses leaf bytes; en->envelope points into bytes.  ML_OK, or ML_EINPUT
 * when the bytes are not one whole leaf of this version. */
enum ml_rc ml_leaf_decode(const uint8_t *bytes, size_t len, struct ml_entry *en);

#endif

/* retry — recognising a request the ledger already holds (safe retries).
 *
 * Before an envelope is appended, ledger asks here whether it repeats an
 * entry (FORMAT.md §2, "Retries"):
 *   - the same keyid and the same statement bytes (a byte-identical
 *     envelope, or `record` producing the same statement) is that entry;
 *   - a statement carrying predicate member idempotencyKey K is the entry
 *     by the same keyid carrying K when both statements are equal but for
 *     predicate.time; with other content it is a conflict (ML_ECONFLICT).
 * Lookups go through the projections (entry_index, idempotency_keys) in
 * O(log n), which are not trusted: every hit is confirmed by reading and
 * parsing the entry it names, and an unconfirmed or missing row means "not
 * held" (the append then goes on, and the rules decide), never a conflict.
 * An answer is given only for an envelope whose signature verifies with the
 * enrolled key of its keyid; anything else is left to the rules to refuse.
 * Validity (FORMAT.md §5, rule 6: a replay is invalid) is not changed: this
 * only keeps appends from writing one.
 * May call statement, keys, chain, store, util.
 */
#ifndef ML_RETRY_H
#define ML_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "statement.h"
#include "store.h"
#include "util.h"

/* The entry an envelope repeats. */
struct ml_retry_hit {
	uint64_t seq;
	uint8_t leaf[ML_SHA256_LEN];
	int64_t time_us;
	int by_key; /* found through its idempotencyKey (else: the same bytes) */
};

/* Looks up envelope (len bytes) in s's main database, inside the caller's
 * transaction.  signed_by (may be NULL): the key the caller just signed
 * with; when it is the enrolled key of the keyid, the signature is not
 * checked again.  hint (may be NULL): a parse of the payload, used only when
 * its source_sha256 matches.  Sets *found to 1 and fills *hit, or to 0.
 * Errors: ML_ECONFLICT (the idempotency key names an entry of other content;
 * the message names its seq, and e->seq is it), ML_EKEY (a held statement under a signature
 * that does not verify), ML_EIO. */
int ml_retry_find(struct ml_store *s, const uint8_t *envelope, size_t len,
		  const struct ml_pubkey *signed_by, const struct ml_statement *hint,
		  struct ml_retry_hit *hit, int *found, struct ml_err *e);

/* Whether the statements (their whole JSON) a and b are equal but for
 * predicate.time (what makes a request with an idempotency key a retry):
 * ML_OK and *same, or ML_EIO when out of memory (*same untouched). */
enum ml_rc ml_retry_same_content(json_t *a, json_t *b, bool *same);

/* Makes sure main has the idempotency_keys table: a ledger written before
 * it existed gets it, filled from its entries.  Inside the caller's write
 * transaction.  ML_EIO; ML_EINTEGRITY when a stored entry does not parse. */
int ml_retry_prepare(struct ml_store *s, struct ml_err *e);

#endif

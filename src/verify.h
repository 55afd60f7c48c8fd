/* verify — full verification of a ledger against its own entries.
 *
 * Recomputes every leaf hash and link, replays every entry through rules
 * against a projection rebuilt from scratch, verifies every signature (on
 * worker threads), and compares the stored projection tables and schema
 * with what the entries imply.  Reads one consistent snapshot, so writers
 * may append meanwhile.  May call ledger, rules, chain, merkle, note,
 * statement, keys, store, timecheck, arena, jsonarena, util.
 */
#ifndef ML_VERIFY_H
#define ML_VERIFY_H

#include <stdint.h>

#include "ledger.h"
#include "timecheck.h"
#include "util.h"

struct ml_verify_opts {
	int jobs; /* signature threads; <= 0: one per online CPU */
	/* Called about every 4096 entries from the calling thread; may be NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
	/* When set, every valid entry is fed to it (author vs append time,
	 * backfills; timecheck.h): warnings, never failures.  May be NULL. */
	struct ml_timecheck *timecheck;
};

struct ml_verify_result {
	uint64_t entries;
	uint64_t keys_enrolled, keys_revoked;
	uint64_t checkpoints;
	uint8_t head[ML_SHA256_LEN]; /* leaf hash of the last entry */
};

/* ML_OK when intact.  ML_EINTEGRITY with e->seq = the first bad entry (or
 * -1 for a ledger-wide fault such as the schema) and e->msg the reason;
 * ML_EIO on storage errors. */
int ml_verify(struct ml_ledger *l, const struct ml_verify_opts *opts,
	      struct ml_verify_result *res, struct ml_err *e);

#endif

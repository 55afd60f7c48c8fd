/* live — "what was in production, when?": the model versions live in one
 * environment at a time, the entries that decide it, and an RFC 6962
 * inclusion proof of each of those entries against the latest signed
 * checkpoint (`mlledger live`, README "live").
 *
 * "Live" is FORMAT.md §5 rule 11's, through rules.h's ml_live_step /
 * ml_live_is (the definition the retirement rule enforces): a version is
 * live in E when it has a deployment in E with no retirement in E after
 * it.  Several versions may be live at once (a canary beside the version it
 * is replacing).  Events are ordered by seq and cut by the entries'
 * effective append time (FORMAT.md §4/§2 "Clock corrections", the time
 * --as-of reads), never by the author's claimed predicate time: a
 * deployment backdated by its author does not become live earlier.
 * Integrity: the whole ledger is verified first (verify.h: every entry,
 * signature and rule, and the stored projection, so a deleted index row
 * cannot hide a retirement); then every entry read is checked as
 * evidence.h checks entries (its bytes against the verified leaf hashes,
 * whose root is the latest signed checkpoint's).  A query costs a full
 * verify.
 *
 * May call verify, evidence, timecheck, tlog, rules, governance, store,
 * statement, ledger, keys, util, jansson.
 */
#ifndef ML_LIVE_H
#define ML_LIVE_H

#include <stdint.h>

#include <jansson.h>

#include "ledger.h"
#include "util.h"

#define ML_LIVE_ENDED_MAX 20 /* ended versions listed (newest retirement first) */

struct ml_live_opts {
	const char *env;  /* the environment, 1-128 bytes */
	int64_t at_us;    /* the time asked about (with at) */
	int at;           /* 0: the ledger's head, every entry of the checkpoint */
};

/* The answer as one JSON object (reports/README.md, "live"; *out is the
 * caller's, json_decref):
 *   environment, at (RFC 3339 or null: the head), checkpoint {size},
 *   live: [version], ended: [version] (at most ML_LIVE_ENDED_MAX, the
 *   latest retirements first), endedTotal;
 *   version: {ref, deployment: entry, retirement: entry or null};
 *   entry: {seq, kind, ref, environment, time (the author's, as signed),
 *   appended (effective append time), backdated (author time more than
 *   ML_TIMECHECK_PAST_US before it), signer {keyid, person, personName},
 *   replaces and replacesSeq (a deployment: the version of the same model
 *   live in the environment with the latest deployment before it, else
 *   null), proof (a c2sp.org/tlog-proof@v1 bundle, as `prove SEQ`)}.
 * ML_EINPUT when the governance in force at the head of a governed ledger
 * does not declare env and no verified deployment or retirement names it
 * (a typo: the message has "did you mean"; an environment dropped from the
 * governance later still has its history); ML_EINTEGRITY (e->seq set when
 * an entry is at fault) when the checkpoint, the stored leaves or an entry
 * read do not verify; ML_EIO. */
int ml_live_query(struct ml_ledger *l, const struct ml_live_opts *o, json_t **out,
		  struct ml_err *e);

#endif

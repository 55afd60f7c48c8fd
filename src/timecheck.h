/* timecheck — time warnings over a ledger's entries, fed one entry at a
 * time in seq order (O(1) per entry).
 *
 * Two patterns are listed, never refused (ledger/FORMAT.md §5, "Time
 * warnings"):
 *   skew      an entry whose author time (the predicate's `time`, a gate's
 *             `timeVerified`) is more than past_us before its append time
 *             (§4 `time`: backdated, e.g. an incident dated months back) or
 *             more than future_us after it (dated ahead, e.g. an approval
 *             dated next year);
 *   backfill  a run of at least burst_min consecutive entries, each
 *             appended at most burst_gap_us after the one before, whose
 *             author times span more than burst_span_us: history written
 *             in one go rather than as it happened.
 * It also records when the ledger began (the append time of entry 0).
 * verify (opts.timecheck) and report share it.  Pure: no I/O, no clock.
 * May call util, jansson.
 */
#ifndef ML_TIMECHECK_H
#define ML_TIMECHECK_H

#include <stdint.h>

#include <jansson.h>

#include "util.h"

#define ML_TIMECHECK_PAST_US (24LL * 3600 * 1000000)  /* 24 hours */
#define ML_TIMECHECK_BURST_MIN 50
#define ML_TIMECHECK_BURST_GAP_US 1000000LL            /* 1 second */
#define ML_TIMECHECK_BURST_SPAN_US (24LL * 3600 * 1000000)
#define ML_TIMECHECK_LIST_MAX 1000 /* warnings listed; the rest only counted */

struct ml_timecheck_opts {
	int64_t past_us, future_us;
	uint64_t burst_min;
	int64_t burst_gap_us, burst_span_us;
};

struct ml_timecheck;

/* The documented defaults: 24 h past, ML_CLOCK_TOLERANCE_US (5 min) future,
 * runs of 50 entries 1 s apart spanning more than 1 day. */
void ml_timecheck_defaults(struct ml_timecheck_opts *o);
/* NULL when out of memory.  Free with ml_timecheck_free (NULL ok). */
struct ml_timecheck *ml_timecheck_new(const struct ml_timecheck_opts *o);
void ml_timecheck_free(struct ml_timecheck *t);
/* Feeds entry seq (kind its kind name, static storage) appended at
 * append_us, with author time author_us when has_author.  ML_EIO when out
 * of memory (the check is then incomplete; ml_timecheck_json says so). */
enum ml_rc ml_timecheck_add(struct ml_timecheck *t, uint64_t seq, const char *kind,
			    int64_t append_us, int has_author, int64_t author_us);
/* Closes the last run and returns (caller json_decref), or NULL when out of
 * memory:
 *   {"ledgerStart": TIME|null,
 *    "tolerance": {"pastSeconds":N, "futureSeconds":N, "burstMinEntries":N,
 *                  "burstGapSeconds":N, "burstSpanSeconds":N},
 *    "timeWarnings": [{"seq", "kind", "warning": "backdated"|"future-dated",
 *                      "authorTime", "appendTime", "skewSeconds"}...],
 *    "timeWarningsTotal": N,
 *    "backfills": [{"fromSeq", "toSeq", "entries", "firstAppend",
 *                   "lastAppend", "authorFrom", "authorTo"}...],
 *    "backfillsTotal": N}
 * skewSeconds is author minus append time, whole seconds (negative:
 * backdated).  Lists keep the first ML_TIMECHECK_LIST_MAX. */
json_t *ml_timecheck_json(struct ml_timecheck *t);
/* Counts so far (after ml_timecheck_json: final). */
uint64_t ml_timecheck_warnings(const struct ml_timecheck *t);
uint64_t ml_timecheck_backfills(const struct ml_timecheck *t);
/* The append time of entry 0; 0 when not fed yet. */
int64_t ml_timecheck_start(const struct ml_timecheck *t, int *known);

#endif

/* evidence — the XML document policy rules read (policies/EVIDENCE.md),
 * built from entries that are each verified on the way in: leaf hash,
 * author signature with the key enrolled at that seq (whose enrolment entry
 * is verified the same way, up to the genesis), and inclusion in the latest
 * signed checkpoint.  The rest of the ledger is not re-verified.
 *
 * The entries selected for a candidate NAME@VERSION in ENV: every entry
 * about that version; the datasets its model entry names; the model and
 * evaluation entries of its parent version and of the version live in ENV;
 * the incidents and retirements of every version of the model; and the
 * deployments of the model, newest first, down to the one that decides
 * which version is live in ENV.  Selection reads the entry_index
 * projection (which `mlledger verify` checks); every selected entry is
 * verified.
 *
 * May call tlog, rules, note, merkle, ledger, store, statement, keys, chain,
 * util, libxml2.
 */
#ifndef ML_EVIDENCE_H
#define ML_EVIDENCE_H

#include <stdint.h>

#include <libxml/tree.h>

#include "ledger.h"
#include "util.h"

#define ML_EVIDENCE_NS "https://mlledger.dev/evidence/v1"

/* A session: one read transaction, the latest checkpoint (its signature
 * checked with the log key), the enrolled keys, and a cache of verified
 * entries shared by the documents built in it. */
struct ml_evidence;

/* Verify inclusion once for the whole ledger (recompute the checkpoint's
 * root from every stored leaf hash) instead of one proof per entry: for
 * callers that build evidence for many subjects (check, reports). */
#define ML_EVIDENCE_WHOLE 1u

/* Opens a session on l at time as_of_us (entries appended later are left
 * out).  *out is caller-owned (ml_evidence_close), and l must outlive it.
 * ML_EINTEGRITY when the checkpoint (or, with ML_EVIDENCE_WHOLE, the stored
 * leaf hashes) does not verify; ML_EIO on storage errors. */
int ml_evidence_open(struct ml_ledger *l, int64_t as_of_us, unsigned flags,
		     struct ml_evidence **out, struct ml_err *e);
void ml_evidence_close(struct ml_evidence *v);

/* The caller has just verified every entry below size in full (`verify`:
 * signatures, enrolments, the rules), the last one with leaf hash head.
 * When the session's checkpoint has that size and, with ML_EVIDENCE_WHOLE,
 * its stored leaves (whose root matched the signed checkpoint) end with
 * head, entries below size are not signature-checked again: their bytes
 * still hash to the verified leaves, which the signed root binds.  Returns
 * 1 when trusted, 0 when not (then everything is checked as usual). */
int ml_evidence_trust(struct ml_evidence *v, uint64_t size, const uint8_t head[ML_SHA256_LEN]);

/* Builds the evidence for model version ref in environment env (may be
 * NULL: then nothing is live).  *out is caller-owned (xmlFreeDoc).
 * ML_EINPUT for an unknown model; ML_EINTEGRITY (e->seq set) when an entry
 * fails its checks.  Builds for one model name after another are cheapest:
 * the cache is dropped when the name changes. */
int ml_evidence_for(struct ml_evidence *v, const char *ref, const char *env,
		    xmlDocPtr *out, struct ml_err *e);

/* One document: open, for, close. */
int ml_evidence_build(struct ml_ledger *l, const char *ref, const char *env,
		      int64_t as_of_us, xmlDocPtr *out, struct ml_err *e);

#endif

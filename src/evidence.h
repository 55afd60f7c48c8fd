/* evidence — the XML document policy rules read (policies/EVIDENCE.md),
 * built from entries that are each verified on the way in: leaf hash,
 * author signature with the key enrolled at that seq (whose enrolment entry
 * is verified the same way, up to the genesis), and inclusion in the latest
 * signed checkpoint.  The rest of the ledger is not re-verified.
 *
 * May call tlog, rules, note, ledger, store, statement, keys, chain, util,
 * libxml2.
 */
#ifndef ML_EVIDENCE_H
#define ML_EVIDENCE_H

#include <stdint.h>

#include <libxml/tree.h>

#include "ledger.h"
#include "util.h"

#define ML_EVIDENCE_NS "https://mlledger.dev/evidence/v1"

/* Builds the evidence for model version ref in environment env (may be
 * NULL) at time as_of_us.  *out is caller-owned (xmlFreeDoc).  ML_EINPUT
 * for an unknown model; ML_EINTEGRITY (e->seq set) when an entry fails its
 * checks. */
int ml_evidence_build(struct ml_ledger *l, const char *ref, const char *env,
		      int64_t as_of_us, xmlDocPtr *out, struct ml_err *e);

#endif

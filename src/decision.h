/* decision — a gate decision as a SLSA Verification Summary Attestation
 * (predicateType ML_VSA_TYPE), the statement `mlledger gate --key` signs and
 * appends (ledger/FORMAT.md §3, "gate").
 *
 * Pure: builds a predicate from what the gate evaluated; no I/O.  May call
 * findings, statement, util, jansson.
 */
#ifndef ML_DECISION_H
#define ML_DECISION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "findings.h"
#include "util.h"

#define ML_VSA_VERIFIER_ID "https://mlledger.dev/gate"

/* One policy file the gate evaluated. */
struct ml_decision_policy {
	const char *id;
	const char *version;
	char sha256[65];           /* hex of the file's bytes */
	int64_t seq;               /* its recorded policy entry, or -1 (a file) */
	json_t *params;            /* borrowed: {NAME: effective value text} */
};

/* What a gate decided, and on what. */
struct ml_decision {
	const char *subject;       /* NAME@VERSION */
	const char *env;
	int64_t time_us;           /* the gate's evaluation time (now or --as-of) */
	const char *origin;        /* the ledger's */
	uint64_t size;             /* the checkpoint the evidence was proven against */
	uint8_t root[ML_SHA256_LEN];
	uint8_t checkpoint_sha256[ML_SHA256_LEN]; /* of that signed checkpoint note */
	const struct ml_decision_policy *policies;
	size_t npolicies;          /* at least 1 */
	const struct ml_findings *findings; /* verdict and the findings digest */
	const char *phase;         /* the phase evaluated; NULL: every rule */
	uint8_t evidence_sha256[ML_SHA256_LEN]; /* of the evidence document */
};

/* Builds the VSA predicate for d.  *out is a new reference (caller
 * json_decref).  ML_EINPUT when d is incomplete, ML_EIO when out of memory. */
int ml_decision_predicate(const struct ml_decision *d, json_t **out, struct ml_err *e);

#endif

/* gate — one gate evaluation, the same code whether `mlledger gate` makes a
 * decision or a recorded decision is replayed (ledger/FORMAT.md §2, "Gate
 * decisions"; §5 rule 12).
 *
 * An evaluation takes an evidence session (opened at the decision's
 * checkpoint and time), the candidate, the environment, the policies
 * (recorded `policy` entries, or files for drafts) and the phase, and
 * produces findings and the SHA-256 of the evidence document.  A replay
 * rebuilds all of it from what a recorded decision names and requires the
 * same predicate.
 *
 * May call evidence, policy, decision, findings, ledger, store, statement,
 * util, libxml2, jansson, pthreads.
 */
#ifndef ML_GATE_H
#define ML_GATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "evidence.h"
#include "findings.h"
#include "ledger.h"
#include "policy.h"
#include "util.h"

#define ML_GATE_MAX_POLICIES 16
#define ML_GATE_MAX_JOBS 8

/* A policy as a gate evaluates it. */
struct ml_gate_policy {
	struct ml_policyset *set;  /* owned */
	int64_t seq;               /* its recorded `policy` entry, or -1 (a file) */
	json_t *params;            /* owned: {NAME: effective value text} */
};

/* A --policy value names a file when it has a '/' or ends in ".xml";
 * otherwise it is the ID (or ID@VERSION) of a recorded policy. */
bool ml_gate_is_policy_file(const char *arg);

/* Frees what pol owns and zeroes it; NULL-safe. */
void ml_gate_policy_free(struct ml_gate_policy *pol);

/* The policy file at path (a draft) with the "NAME=VALUE" params. */
int ml_gate_policy_file(const char *path, const char *const *params, size_t nparams,
			struct ml_gate_policy *out, struct ml_err *e);

/* The latest `policy` entry of the session's ledger recorded under ref (an
 * ID, or ID@VERSION for that version), loaded with its recorded params and
 * then the "NAME=VALUE" params (overrides: never with a recorded decision).
 * ML_EINPUT when none is recorded (naming ref); ML_EINTEGRITY when the entry
 * does not verify; ML_EPOLICY when its bytes are not a valid policy. */
int ml_gate_policy_recorded(struct ml_evidence *v, const char *ref, const char *const *params,
			    size_t nparams, struct ml_gate_policy *out, struct ml_err *e);

/* The seq of the policy ml_gate_policy_recorded would load for ref. */
int ml_gate_policy_seq(struct ml_evidence *v, const char *ref, uint64_t *seq, struct ml_err *e);

/* The `policy` entry at seq (below the session's size) with its recorded
 * params, then params (none for a replay). */
int ml_gate_policy_at(struct ml_evidence *v, uint64_t seq, const char *const *params,
		      size_t nparams, struct ml_gate_policy *out, struct ml_err *e);

/* Notes set (recorded at seq, or -1 for a file) as the policy of the
 * findings [from, fs->n) (ml_findings_note_policy) and sets each one's line
 * to its rule's in set.  ML_EIO when out of memory. */
int ml_gate_note_policy(struct ml_findings *fs, size_t from, const struct ml_policyset *set,
			int64_t seq, struct ml_err *e);

/* What one evaluation takes. */
struct ml_gate_input {
	const char *subject;       /* NAME@VERSION */
	const char *env;
	const char *phase;         /* NULL: every rule */
	const struct ml_gate_policy *policies;
	size_t npolicies;          /* 1 .. ML_GATE_MAX_POLICIES */
};

/* Builds the evidence for in (the session's as-of is the evaluation time),
 * evaluates every policy into *fs (zeroed by the caller; ml_findings_free)
 * and describes the decision in it (subject, env, as-of, checkpoint).
 * evidence_sha256 (unless NULL: not computed) receives the SHA-256 of the
 * evidence document as `mlledger evidence` prints it; *doc (when not NULL) the document
 * (xmlFreeDoc).  Errors as ml_evidence_for and ml_policyset_eval. */
int ml_gate_eval(struct ml_evidence *v, const struct ml_gate_input *in, struct ml_findings *fs,
		 uint8_t evidence_sha256[ML_SHA256_LEN], xmlDocPtr *doc, struct ml_err *e);

/* The decision predicate (decision.h) for an evaluation: the candidate's
 * digest into digest, the predicate into *pred (caller json_decref).
 * time_us is the evaluation time. */
int ml_gate_predicate(struct ml_ledger *l, struct ml_evidence *v, const struct ml_gate_input *in,
		      int64_t time_us, const struct ml_findings *fs,
		      const uint8_t evidence_sha256[ML_SHA256_LEN], xmlDocPtr doc,
		      uint8_t digest[ML_SHA256_LEN], json_t **pred, struct ml_err *e);

/* Replays the recorded decision st (kind gate) against l: the evidence at
 * its checkpoint and time, its recorded policies with their recorded params,
 * its phase; the replayed predicate must equal the recorded one (the
 * verifier's version and the checkpoint note's digest aside).  ML_OK when it
 * does; ML_EINTEGRITY with a one-line reason (what differs) when it does not
 * or cannot be replayed (a policy given as a file, a policy entry that is
 * not one, a checkpoint not stored); ML_EIO on storage errors. */
int ml_gate_replay(struct ml_ledger *l, const struct ml_statement *st, struct ml_err *e);

/* A replayer: replays of several decisions sharing compiled policies and,
 * while the checkpoint size stays, one evidence session.  Not for
 * concurrent use. */
struct ml_gate_replayer;
int ml_gate_replayer_new(struct ml_ledger *l, struct ml_gate_replayer **out, struct ml_err *e);
/* ml_gate_replay with r's caches. */
int ml_gate_replayer_run(struct ml_gate_replayer *r, const struct ml_statement *st,
			 struct ml_err *e);
void ml_gate_replayer_free(struct ml_gate_replayer *r);
/* The caller has just verified entries below n in full, the last with leaf
 * hash head: sessions trust them (ml_evidence_trust_prefix). */
void ml_gate_replayer_trust(struct ml_gate_replayer *r, uint64_t n,
			    const uint8_t head[ML_SHA256_LEN]);

/* Replays every recorded decision of l on jobs worker threads (each with its
 * own connection to l's file and contiguous seq ranges), calling progress
 * (may be NULL; from one thread) as it goes; *count receives how many were replayed.  verified >
 * 0: the caller verified entries below it in full, the last with leaf hash
 * head (ml_gate_replayer_trust).  The first that does not replay is
 * ML_EINTEGRITY with e->seq set to it and the message naming it. */
int ml_gate_replay_all(struct ml_ledger *l, uint64_t verified, const uint8_t head[ML_SHA256_LEN],
		       size_t jobs, void (*progress)(void *, uint64_t, uint64_t), void *ctx,
		       uint64_t *count, struct ml_err *e);

#endif

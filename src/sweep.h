/* sweep — evaluates policy files for many subjects (a model version, in an
 * environment or none) of one ledger, on worker threads, the way `check`
 * and audit reports need it.
 *
 * Subjects should come grouped by model name: they are split into
 * contiguous units of whole model names, which the workers take in turn,
 * and each worker has its own ledger connection, compiled policies and
 * evidence session (inclusion proven once for the whole tree, each entry
 * verified once per model name).  Results come back per subject, in subject
 * order, whatever the number of workers; ml_sweep_each hands them on as
 * they come, holding at most the results of jobs + 1 units, so its memory
 * does not grow with the number of subjects.
 *
 * May call gate, evidence, policy, findings, ledger, statement, util, libxml2 and
 * pthreads.  Nothing here prints.
 */
#ifndef ML_SWEEP_H
#define ML_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "statement.h"
#include "util.h"

#define ML_SWEEP_MAX_JOBS 8

struct ml_sweep_subject {
	char ref[ML_NAME_MAX + 1];
	char env[130];             /* "" when none */
};

/* What one policy gave for one subject. */
struct ml_sweep_result {
	struct ml_findings fs;
	int rc;                    /* ML_OK, or why the evidence could not be built */
	char msg[256];             /* ... with the message */
};

struct ml_sweep_opts {
	const char *ledger;        /* path, opened read-only by each worker */
	const char *const *policies; /* files; or, where policy_seq[k] >= 0, names */
	size_t npolicies;
	const int64_t *policy_seq; /* NULL, or per policy: the seq of its recorded
				      `policy` entry (gate.h), -1 for a file */
	const char *const *params; /* "name=value", for every policy */
	size_t nparams;
	const char *phase;         /* NULL: every rule */
	int64_t as_of_us;          /* evaluation time; the cutoff unless evidence_flags */
	unsigned evidence_flags;   /* ML_EVIDENCE_HEAD: no cutoff (evidence.h) */
	size_t jobs;               /* workers, 1..ML_SWEEP_MAX_JOBS */
	int keep_going;            /* an evidence error (integrity, unknown model) is
				      the subject's result, not the sweep's */
	uint64_t trusted_size;     /* > 0: the caller verified entries below this */
	uint8_t trusted_head[ML_SHA256_LEN]; /* in full; see ml_evidence_trust */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;        /* progress is called from the first worker only */
};

/* Evaluates o's policies for v[0..n-1]: policy k for subject i into
 * out[i * o->npolicies + k] (n * npolicies results, zeroed by the caller;
 * free each .fs with ml_findings_free).  Returns ML_OK, or
 * the first error in subject order (a policy that does not load, storage,
 * or, without keep_going, an evidence error: e->seq names the entry). */
int ml_sweep(const struct ml_sweep_opts *o, const struct ml_sweep_subject *v, size_t n,
	     struct ml_sweep_result *out, struct ml_err *e);

/* Called for subject i's results r[0..npolicies) (policy k in r[k]), in
 * subject order, by one thread at a time (not always the same one).  It
 * takes what it wants of each r[k].fs (ml_findings_move, or leaving it: the
 * sweep frees what is left).  A non-zero return (with e set) stops the
 * sweep: ml_sweep_each then returns it. */
typedef int (*ml_sweep_fn)(void *ctx, size_t i, struct ml_sweep_result *r, struct ml_err *e);

/* Evaluates o's policies for v[0..n-1] as ml_sweep does, handing each
 * subject's results to fn in subject order as they are ready.  Returns
 * ML_OK, or the first error in subject order (fn's, a policy that does not
 * load, storage, or, without keep_going, an evidence error): fn has then
 * been called for no subject after it. */
int ml_sweep_each(const struct ml_sweep_opts *o, const struct ml_sweep_subject *v, size_t n,
		  ml_sweep_fn fn, void *ctx, struct ml_err *e);

/* One worker per online core, at most ML_SWEEP_MAX_JOBS, and at most
 * nsubjects / 16 + 1 (one for up to 15 subjects). */
size_t ml_sweep_default_jobs(size_t nsubjects);

#endif

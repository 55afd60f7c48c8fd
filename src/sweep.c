/* sweep — see sweep.h. */
#include "sweep.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libxml/tree.h>

#include "evidence.h"
#include "gate.h"
#include "ledger.h"
#include "policy.h"

/* One worker: a contiguous run of subjects. */
struct job {
	const struct ml_sweep_opts *o;
	const struct ml_sweep_subject *v;
	struct ml_sweep_result *out;
	size_t n;
	int first;                 /* the one worker that calls o->progress */
	uint64_t total;
	atomic_uint_least64_t *done; /* subjects finished, by every worker */
	struct ml_err e;
	int rc;
};

/* One subject: its evidence, then every policy. */
static int
one(struct job *j, struct ml_evidence *v, struct ml_policyset **ps, size_t i)
{
	const struct ml_sweep_subject *s = &j->v[i];
	struct ml_sweep_result *r = &j->out[i * j->o->npolicies];
	xmlDocPtr doc = NULL;
	size_t k;
	int rc;

	rc = ml_evidence_for(v, s->ref, s->env[0] ? s->env : NULL, &doc, &j->e);
	if (rc) {
		for (k = 0; k < j->o->npolicies; k++) {
			r[k].rc = rc;
			snprintf(r[k].msg, sizeof r[k].msg, "%.255s", j->e.msg);
		}
		return rc == ML_EIO || !j->o->keep_going ? rc : ML_OK;
	}
	for (k = 0; k < j->o->npolicies && rc == ML_OK; k++)
		rc = ml_policyset_eval(ps[k], doc, j->o->phase, s->ref, &r[k].fs, &j->e);
	xmlFreeDoc(doc);
	return rc;
}

/* The policies: files, or the recorded entries the caller resolved. */
static int
load_policies(struct job *j, struct ml_evidence *v, struct ml_policyset **ps)
{
	struct ml_gate_policy g;
	size_t k;
	int rc;

	for (k = 0; k < j->o->npolicies; k++) {
		if (!j->o->policy_seq || j->o->policy_seq[k] < 0) {
			rc = ml_policyset_load(j->o->policies[k], j->o->params, j->o->nparams,
					       &ps[k], &j->e);
		} else if ((rc = ml_gate_policy_at(v, (uint64_t)j->o->policy_seq[k], j->o->params,
						   j->o->nparams, &g, &j->e)) == ML_OK) {
			ps[k] = g.set; /* taken */
			g.set = NULL;
			ml_gate_policy_free(&g);
		}
		if (rc)
			return rc;
	}
	return ML_OK;
}

static void *
worker(void *arg)
{
	struct job *j = arg;
	struct ml_policyset *ps[64] = {0};
	struct ml_evidence *v = NULL;
	struct ml_ledger *l = NULL;
	size_t i;

	ml_err_clear(&j->e);
	if (j->o->npolicies > 64)
		j->rc = ml_err_set(&j->e, ML_EINPUT, "more than 64 policy files");
	else if (!(j->rc = ml_ledger_open(j->o->ledger, 0, &l, &j->e)) &&
		 !(j->rc = ml_evidence_open(l, j->o->as_of_us,
					    ML_EVIDENCE_WHOLE | j->o->evidence_flags, &v, &j->e)))
		j->rc = load_policies(j, v, ps);
	if (j->rc == ML_OK && j->o->trusted_size)
		ml_evidence_trust(v, j->o->trusted_size, j->o->trusted_head);
	for (i = 0; i < j->n && j->rc == ML_OK; i++) {
		j->rc = one(j, v, ps, i);
		atomic_fetch_add(j->done, 1);
		if (j->first && j->o->progress && (i & 63) == 0)
			j->o->progress(j->o->progress_ctx, atomic_load(j->done), j->total);
	}
	ml_evidence_close(v);
	ml_ledger_close(l);
	ml_policyset_free_all(ps, 64);
	return NULL;
}

/* Where the next job starts: about share subjects on, at a model name
 * boundary, so that no two workers verify the same model's entries. */
static size_t
split_at(const struct ml_sweep_subject *v, size_t n, size_t from, size_t share)
{
	char name[129], version[65], next[129];
	size_t i = from + share;

	if (i >= n)
		return n;
	if (ml_ref_split(v[i - 1].ref, name, version) != 0)
		return i;
	for (; i < n; i++)
		if (ml_ref_split(v[i].ref, next, version) != 0 || strcmp(next, name))
			break;
	return i;
}

size_t
ml_sweep_default_jobs(size_t nsubjects)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cores < 1 ? 1 : cores > ML_SWEEP_MAX_JOBS ? ML_SWEEP_MAX_JOBS : (size_t)cores;

	return n > nsubjects / 16 + 1 ? nsubjects / 16 + 1 : n;
}

int
ml_sweep(const struct ml_sweep_opts *o, const struct ml_sweep_subject *v, size_t n,
	 struct ml_sweep_result *out, struct ml_err *e)
{
	struct job jobs[ML_SWEEP_MAX_JOBS];
	pthread_t tid[ML_SWEEP_MAX_JOBS];
	size_t nt = o->jobs < 1 ? 1 : o->jobs > ML_SWEEP_MAX_JOBS ? ML_SWEEP_MAX_JOBS : o->jobs;
	size_t t, at = 0, share;
	int started[ML_SWEEP_MAX_JOBS] = {0};
	atomic_uint_least64_t done = 0;

	if (nt > n)
		nt = n ? n : 1; /* no worker without a subject */
	share = (n + nt - 1) / nt;

	/* libxml2's global state is set up once here, before any worker uses
	 * it: done from two threads at once, it deadlocks or leaks */
	ml_policy_global_init();
	for (t = 0; t < nt; t++) {
		size_t end = t + 1 == nt ? n : split_at(v, n, at, share);
		jobs[t] = (struct job){.o = o, .v = v + at, .out = out + at * o->npolicies,
				       .n = end - at,
				       .first = t == 0, .total = n, .done = &done};
		at = end;
		if (t > 0) {
			started[t] = pthread_create(&tid[t], NULL, worker, &jobs[t]) == 0;
			if (!started[t])
				jobs[t].rc = ml_err_set(&jobs[t].e, ML_EIO, "cannot start a thread");
		}
	}
	worker(&jobs[0]);
	for (t = 1; t < nt; t++)
		if (started[t])
			pthread_join(tid[t], NULL);
	for (t = 0; t < nt; t++)
		if (jobs[t].rc) {
			*e = jobs[t].e;
			return jobs[t].rc;
		}
	return ML_OK;
}

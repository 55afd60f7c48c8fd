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

/* The subjects are cut into units of whole model names (split_at).
 * Workers take the next unit as they become free, but never more than
 * jobs + 1 units ahead of the first one not yet delivered: results wait for
 * delivery in subject order, so at most about jobs + 1 units of them are held,
 * however long the history. */

struct unit {
	size_t from, n;            /* subjects v[from .. from+n) */
	struct ml_sweep_result *r; /* n * npolicies, while claimed and undelivered */
	size_t ok;                 /* subjects with results (all, unless rc) */
	int done, rc;
	struct ml_err e;
};

struct run {
	const struct ml_sweep_opts *o;
	const struct ml_sweep_subject *v;
	size_t n;
	ml_sweep_fn fn;
	void *ctx;
	struct unit *u;
	size_t nu;
	size_t next;               /* the next unit to claim */
	size_t deliver;            /* the first unit not yet delivered */
	size_t window;
	int delivering;            /* one thread delivers at a time */
	int stop;                  /* an error was delivered: claim nothing more */
	int rc;                    /* that error, or a worker's setup error */
	struct ml_err e;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_uint_least64_t done; /* subjects finished, by every worker */
};

/* One worker's state. */
struct job {
	struct run *run;
	int first;                 /* the one worker that calls o->progress */
	struct ml_err e;           /* its setup error */
	int rc;
};

/* One subject (v[i] into r[0..npolicies)): its evidence, then every
 * policy.  The error (e) is the subject's when it is not ML_OK. */
static int
one(const struct ml_sweep_opts *o, struct ml_evidence *v, struct ml_policyset **ps,
    const struct ml_sweep_subject *s, struct ml_sweep_result *r, struct ml_err *e)
{
	xmlDocPtr doc = NULL;
	size_t k;
	int rc;

	/* borrowed from the session: its entries' elements are built once */
	rc = ml_evidence_view(v, s->ref, s->env[0] ? s->env : NULL, &doc, e);
	if (rc) {
		for (k = 0; k < o->npolicies; k++) {
			r[k].rc = rc;
			snprintf(r[k].msg, sizeof r[k].msg, "%.255s", e->msg);
		}
		return rc == ML_EIO || !o->keep_going ? rc : ML_OK;
	}
	for (k = 0; k < o->npolicies && rc == ML_OK; k++)
		rc = ml_policyset_eval(ps[k], doc, o->phase, s->ref, &r[k].fs, e);
	return rc;
}

/* The policies: files, or the recorded entries the caller resolved. */
static int
load_policies(const struct ml_sweep_opts *o, struct ml_evidence *v, struct ml_policyset **ps,
	      struct ml_err *e)
{
	struct ml_gate_policy g;
	size_t k;
	int rc;

	for (k = 0; k < o->npolicies; k++) {
		if (!o->policy_seq || o->policy_seq[k] < 0) {
			rc = ml_policyset_load(o->policies[k], o->params, o->nparams, &ps[k], e);
		} else if ((rc = ml_gate_policy_at(v, (uint64_t)o->policy_seq[k], o->params,
						   o->nparams, &g, e)) == ML_OK) {
			ps[k] = g.set; /* taken */
			g.set = NULL;
			ml_gate_policy_free(&g);
		}
		if (rc)
			return rc;
	}
	return ML_OK;
}

static void
free_results(const struct ml_sweep_opts *o, struct unit *u)
{
	size_t i;

	for (i = 0; u->r && i < u->n * o->npolicies; i++)
		ml_findings_free(&u->r[i].fs);
	free(u->r);
	u->r = NULL;
}

/* Called with mu held, by a worker that has just finished a unit: unless
 * another thread is at it, delivers every finished unit in order (the
 * callback runs without the lock). */
static void
deliver(struct run *R)
{
	const struct ml_sweep_opts *o = R->o;

	if (R->delivering)
		return;
	R->delivering = 1;
	/* not after an error: fn is called for no subject after it (sweep.h) */
	while (!R->stop && R->deliver < R->nu && R->u[R->deliver].done) {
		struct unit *u = &R->u[R->deliver];
		size_t i;
		int rc = ML_OK;
		pthread_mutex_unlock(&R->mu);
		for (i = 0; i < u->ok && rc == ML_OK; i++)
			rc = R->fn(R->ctx, u->from + i, &u->r[i * o->npolicies], &u->e);
		if (rc == ML_OK)
			rc = u->rc; /* the unit's own error, after the subjects before it */
		free_results(o, u);
		pthread_mutex_lock(&R->mu);
		if (rc && !R->stop) {
			R->stop = 1;
			R->rc = rc;
			R->e = u->e;
		}
		R->deliver++;
		pthread_cond_broadcast(&R->cv);
	}
	R->delivering = 0;
}

/* Evaluates unit u (its results allocated here); stops at the first
 * subject whose error ends the sweep. */
static void
run_unit(struct run *R, struct job *j, struct ml_evidence *v, struct ml_policyset **ps,
	 struct unit *u)
{
	const struct ml_sweep_opts *o = R->o;
	size_t i;

	if (!(u->r = calloc(u->n * o->npolicies + 1, sizeof *u->r))) {
		u->rc = ml_err_set(&u->e, ML_EIO, "out of memory");
		return;
	}
	for (i = 0; i < u->n; i++) {
		u->rc = one(o, v, ps, &R->v[u->from + i], &u->r[i * o->npolicies], &u->e);
		if (u->rc)
			break;
		u->ok++;
		atomic_fetch_add(&R->done, 1);
		if (j->first && o->progress && (i & 63) == 0)
			o->progress(o->progress_ctx, atomic_load(&R->done), R->n);
	}
}

static void *
worker(void *arg)
{
	struct job *j = arg;
	struct run *R = j->run;
	const struct ml_sweep_opts *o = R->o;
	struct ml_policyset *ps[64] = {0};
	struct ml_evidence *v = NULL;
	struct ml_ledger *l = NULL;

	ml_err_clear(&j->e);
	if (o->npolicies > 64)
		j->rc = ml_err_set(&j->e, ML_EINPUT, "more than 64 policy files");
	else if (!(j->rc = ml_ledger_open(o->ledger, 0, &l, &j->e)) &&
		 !(j->rc = ml_evidence_open(l, o->as_of_us, ML_EVIDENCE_WHOLE | o->evidence_flags,
					    &v, &j->e)))
		j->rc = load_policies(o, v, ps, &j->e);
	if (j->rc == ML_OK && o->trusted_size)
		ml_evidence_trust(v, o->trusted_size, o->trusted_head);
	pthread_mutex_lock(&R->mu);
	if (j->rc && !R->stop) {
		R->stop = 1;
		R->rc = j->rc;
		R->e = j->e;
		pthread_cond_broadcast(&R->cv);
	}
	for (;;) {
		struct unit *u;
		while (!R->stop && R->next < R->nu && R->next >= R->deliver + R->window)
			pthread_cond_wait(&R->cv, &R->mu);
		if (R->stop || R->next >= R->nu)
			break;
		u = &R->u[R->next++];
		pthread_mutex_unlock(&R->mu);
		run_unit(R, j, v, ps, u);
		pthread_mutex_lock(&R->mu);
		u->done = 1;
		deliver(R);
	}
	pthread_cond_broadcast(&R->cv);
	pthread_mutex_unlock(&R->mu);
	ml_evidence_close(v);
	ml_ledger_close(l);
	ml_policyset_free_all(ps, 64);
	return NULL;
}

/* Where the next unit starts: about share subjects on, at a model name
 * boundary. */
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

/* The units: at least n / (32 * jobs) subjects each (and 16), ending at a
 * whole model name, so that no two workers verify the same model's
 * entries.  NULL when out of memory. */
static struct unit *
make_units(const struct ml_sweep_subject *v, size_t n, size_t nt, size_t *nu)
{
	size_t share = n / (32 * nt), at = 0, k = 0, cap = 16;
	struct unit *u = malloc(cap * sizeof *u);

	if (share < 16)
		share = 16;
	while (u && at < n) {
		size_t end = split_at(v, n, at, share);
		if (k == cap) {
			struct unit *p = realloc(u, (cap *= 2) * sizeof *u);
			if (!p) {
				free(u);
				return NULL;
			}
			u = p;
		}
		u[k++] = (struct unit){.from = at, .n = end - at};
		at = end;
	}
	*nu = k;
	return u;
}

int
ml_sweep_each(const struct ml_sweep_opts *o, const struct ml_sweep_subject *v, size_t n,
	      ml_sweep_fn fn, void *ctx, struct ml_err *e)
{
	struct job jobs[ML_SWEEP_MAX_JOBS];
	pthread_t tid[ML_SWEEP_MAX_JOBS];
	size_t nt = o->jobs < 1 ? 1 : o->jobs > ML_SWEEP_MAX_JOBS ? ML_SWEEP_MAX_JOBS : o->jobs;
	int started[ML_SWEEP_MAX_JOBS] = {0};
	struct run R = {.o = o, .v = v, .n = n, .fn = fn, .ctx = ctx};
	size_t t;

	if (!(R.u = make_units(v, n, nt, &R.nu)))
		return ml_err_set(e, ML_EIO, "out of memory");
	if (nt > R.nu)
		nt = R.nu ? R.nu : 1; /* no worker without a unit */
	R.window = nt + 1;
	pthread_mutex_init(&R.mu, NULL);
	pthread_cond_init(&R.cv, NULL);
	/* libxml2's global state is set up once here, before any worker uses
	 * it: done from two threads at once, it deadlocks or leaks */
	ml_policy_global_init();
	for (t = 0; t < nt; t++) {
		jobs[t] = (struct job){.run = &R, .first = t == 0};
		if (t > 0) {
			/* a worker that does not start leaves its units to the others */
			started[t] = pthread_create(&tid[t], NULL, worker, &jobs[t]) == 0;
		}
	}
	worker(&jobs[0]);
	for (t = 1; t < nt; t++)
		if (started[t])
			pthread_join(tid[t], NULL);
	for (t = 0; t < R.nu; t++)
		free_results(o, &R.u[t]); /* undelivered after an error */
	free(R.u);
	pthread_cond_destroy(&R.cv);
	pthread_mutex_destroy(&R.mu);
	if (R.rc)
		*e = R.e;
	return R.rc;
}

/* ml_sweep's callback: the results into the caller's array. */
struct into {
	struct ml_sweep_result *out;
	size_t np;
};

static int
copy_out(void *ctx, size_t i, struct ml_sweep_result *r, struct ml_err *e)
{
	struct into *in = ctx;

	(void)e;
	memcpy(&in->out[i * in->np], r, in->np * sizeof *r);
	memset(r, 0, in->np * sizeof *r); /* taken */
	return ML_OK;
}

int
ml_sweep(const struct ml_sweep_opts *o, const struct ml_sweep_subject *v, size_t n,
	 struct ml_sweep_result *out, struct ml_err *e)
{
	struct into in = {.out = out, .np = o->npolicies};

	return ml_sweep_each(o, v, n, copy_out, &in, e);
}

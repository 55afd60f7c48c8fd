/* report_policy — the report's findings: every policy evaluated for every
 * (model version, environment) deployed in scope, as `check` does, at the
 * report's as-of time.
 *
 * One evidence session serves every pair (policies/EVIDENCE.md): inclusion
 * is proven once for the whole tree, and each entry is verified once while
 * the pairs of its model name are evaluated (pairs come grouped by name).
 *
 * Each pair's findings are turned into rows as the sweep hands them on
 * (ml_sweep_each), and each row is stowed at once (report.h,
 * ml_report_stow_handle): what is derived from the rows (the summary, byControl,
 * the waivers' use, the waivers' people) is counted per finding before it
 * is stowed, so the findings are never held whole.  The sweep's callback
 * runs on any of its threads: it makes its values on malloc and never
 * touches the model; the model's part is made after the sweep, on this
 * thread, with the arena on (pair_finish). */
#include "report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "evidence.h"
#include "findings.h"
#include "gate.h"
#include "policy.h"
#include "statement.h"
#include "store.h"
#include "sweep.h"

static const char *const outcome_names[] = {"pass", "fail", "waived", "indeterminate"};
static const char *const severity_names[] = {"info", "warn", "deny"};

static const char *
verdict_name(int v)
{
	return v == ML_OK ? "pass" : v == ML_EDENY ? "deny" : "indeterminate";
}

/* The worse of two verdicts: indeterminate > deny > pass. */
static int
worse(int a, int b)
{
	if (a == ML_EPOLICY || b == ML_EPOLICY)
		return ML_EPOLICY;
	return a == ML_EDENY || b == ML_EDENY ? ML_EDENY : ML_OK;
}

/* ---- loading ----------------------------------------------------------- */

/* Policy i: the file, or the latest recorded policy of that ID (gate.h),
 * read from a session of its own on the report's ledger file. */
static int
load_one(struct rp *r, size_t i, struct ml_policyset **p)
{
	struct ml_ledger *l = NULL;
	struct ml_evidence *v = NULL;
	struct ml_gate_policy g;
	uint64_t seq;
	int rc;

	r->policy_seq[i] = -1;
	if (ml_gate_is_policy_file(r->o->policies[i]))
		return ml_policyset_load(r->o->policies[i], r->o->params, r->o->nparams, p, r->e);
	if ((rc = ml_ledger_open(ml_store_path(r->s), 0, &l, r->e)) == ML_OK &&
	    (rc = ml_evidence_open(l, r->o->as_of_us, ML_EVIDENCE_HEAD, &v, r->e)) == ML_OK &&
	    (rc = ml_gate_policy_seq(v, r->o->policies[i], &seq, r->e)) == ML_OK &&
	    (rc = ml_gate_policy_at(v, seq, r->o->params, r->o->nparams, &g, r->e)) == ML_OK) {
		*p = g.set; /* taken */
		g.set = NULL;
		ml_gate_policy_free(&g);
		r->policy_seq[i] = (int64_t)seq;
	}
	ml_evidence_close(v);
	ml_ledger_close(l);
	return rc;
}

static int
load_all(struct rp *r, struct ml_policyset **ps)
{
	size_t i;
	int rc;

	for (i = 0; i < r->o->npolicies; i++)
		if ((rc = load_one(r, i, &ps[i])))
			return rc;
	for (i = 0; i < r->o->npolicies; i++) {
		char hex[65], uri[40];
		ml_policyset_sha256(ps[i], hex);
		snprintf(uri, sizeof uri, "mlledger:seq/%lld", (long long)r->policy_seq[i]);
		json_array_append_new(r->policies,
				      json_pack("{s:o, s:o, s:o, s:s}", "file",
						rp_str(r->policy_seq[i] < 0 ? r->o->policies[i] : uri),
						"id",
						rp_str(ml_policyset_id(ps[i])), "version",
						rp_str(ml_policyset_version(ps[i])), "sha256", hex));
	}
	return ML_OK;
}

/* ---- findings as JSON ----------------------------------------------------- */

static json_t *
controls_json(const struct ml_finding *f)
{
	json_t *out = json_array();
	size_t i;

	for (i = 0; i < f->ncontrols; i++) {
		char lab[600];
		snprintf(lab, sizeof lab, "%s %s", f->controls[i].framework ? f->controls[i].framework : "",
			 f->controls[i].ref ? f->controls[i].ref : "");
		json_array_append_new(out, json_pack("{s:o, s:o, s:o}", "framework",
						     rp_str(f->controls[i].framework), "ref",
						     rp_str(f->controls[i].ref), "label", rp_str(lab)));
	}
	return out;
}

static json_t *
waiver_json(const struct ml_finding *f)
{
	struct ml_buf b = {0};
	json_t *w;

	if (f->waiver_seq < 0)
		return json_null();
	ml_buf_printf(&b, "%s seq %lld by %s until %s: %s",
		      f->waiver_expired ? "expired waiver" : "waived,",
		      (long long)f->waiver_seq, f->waiver_by ? f->waiver_by : "-",
		      f->waiver_expires ? f->waiver_expires : "-",
		      f->waiver_reason ? f->waiver_reason : "-");
	ml_buf_append(&b, "", 1);
	w = json_pack("{s:I, s:o, s:o, s:o, s:b, s:o}", "seq", (json_int_t)f->waiver_seq, "by",
		      rp_str(f->waiver_by), "reason", rp_str(f->waiver_reason), "expires",
		      rp_str(f->waiver_expires), "expired", f->waiver_expired, "label",
		      rp_str(b.oom ? "" : (const char *)b.data));
	ml_buf_free(&b);
	return w ? w : json_null();
}

/* The controls of f's rule, built once per policy and rule and shared by
 * reference between its findings (they are the same for every subject; a
 * 100,000-entry report has 60,000 findings). */
static json_t *
shared_controls(const struct ml_finding *f, const char *policy, json_t *shared)
{
	char key[512];
	json_t *c;

	snprintf(key, sizeof key, "%s\n%s", policy ? policy : "", f->rule_id ? f->rule_id : "");
	if (!(c = json_object_get(shared, key))) {
		c = controls_json(f);
		json_object_set_new(shared, key, c);
	}
	return c;
}

/* A JSON string of s, one value per distinct text, shared through the
 * table shared (under "\1" + s): the same rule id, title, subject,
 * environment and policy recur in every pair's findings. */
static json_t *
shared_str(const char *s, json_t *shared)
{
	char key[256];
	json_t *v;

	if (!s || strlen(s) >= sizeof key - 1)
		return rp_str(s);
	key[0] = '\1';
	memcpy(key + 1, s, strlen(s) + 1);
	if (!(v = json_object_get(shared, key))) {
		v = rp_str(s);
		json_object_set(shared, key, v);
		return v;
	}
	return json_incref(v);
}

static json_t *
finding_json(const struct ml_finding *f, const char *env, const char *policy, json_t *shared)
{
	json_t *o = json_object(), *seqs = json_array();
	size_t i;

	for (i = 0; i < f->nseqs; i++)
		json_array_append_new(seqs, json_integer(f->seqs[i]));
	json_object_set_new(o, "severity", shared_str(severity_names[f->severity], shared));
	json_object_set_new(o, "outcome", shared_str(outcome_names[f->outcome], shared));
	json_object_set_new(o, "ruleId", shared_str(f->rule_id, shared));
	json_object_set_new(o, "title", shared_str(f->title, shared));
	json_object_set_new(o, "subject", shared_str(f->subject, shared));
	json_object_set_new(o, "environment", shared_str(env, shared));
	json_object_set_new(o, "message", rp_str(f->message));
	json_object_set_new(o, "seqs", seqs);
	json_object_set(o, "controls", shared_controls(f, policy, shared));
	json_object_set_new(o, "waiver", waiver_json(f));
	json_object_set_new(o, "policy", shared_str(policy, shared));
	return o;
}

/* ---- one pair's findings, as the sweep hands them on --------------------- */

/* A finding as the model will hold it: the handle of its stowed row
 * (report.h, ml_report_stow_handle), or its row (row != NULL: not
 * stowed, no spool). */
struct pitem {
	int64_t h;
	json_t *row;
};

/* What the sweep's callback gathers for one pair (subject i, in sweep
 * order), on malloc; pair_finish moves it into the model. */
struct pend {
	const char *env;   /* the pair's environment (NULL: none), borrowed */
	int64_t rank;      /* the pair's place in deployment order (findings_of) */
	json_int_t n[4];   /* its findings by outcome (outcome_names) */
	int verdict;       /* the worse of its policies' verdicts */
	int rc;            /* ML_OK, or its evidence could not be built: msg */
	char msg[256];
	struct pitem *items; /* its findings, in order */
	size_t nitems, cap;
	json_t *failed;    /* rule ids of its failed and indeterminate findings */
};

/* The sweep's context, and the tallies findings_of writes, counted per
 * finding before its row is stowed.  Every value here is made on malloc,
 * except kept (in the arena: pair_finish's shared values). */
struct tally {
	struct rp *r;
	struct ml_policyset **ps;
	struct ml_spool *sp;   /* the builder's spool: the callback's thread's too */
	struct pend *p;        /* per subject, in sweep order */
	size_t n;
	json_t *shared;        /* finding_json's shared strings and controls */
	json_t *kept;          /* keep_row's, in the arena */
	json_t *by_seq;        /* waiver entries by seq (waiver_person) */
	json_t *use;           /* seq -> how many findings met that waiver */
	json_t *ctl;           /* byControl's rows by label, with "_at" */
	json_int_t findings, out[4], failed[3]; /* failed: by severity_names */
};

/* Releases what p holds (it stays valid: empty). */
static void
pend_free(struct pend *p)
{
	size_t i;

	for (i = 0; i < p->nitems; i++)
		json_decref(p->items[i].row);
	free(p->items);
	json_decref(p->failed);
	p->items = NULL;
	p->nitems = p->cap = 0;
	p->failed = NULL;
}

static void
pair_label(json_t *pair, int verdict, size_t nitems, const json_t *failed)
{
	struct ml_buf b = {0};
	json_t *id;
	size_t i;

	json_object_set_new(pair, "verdict", json_string(verdict_name(verdict)));
	ml_buf_printf(&b, "%s: %lld findings, %lld failed, %lld waived, %lld indeterminate",
		      verdict_name(verdict), (long long)nitems,
		      (long long)json_integer_value(json_object_get(pair, "fail")),
		      (long long)json_integer_value(json_object_get(pair, "waived")),
		      (long long)json_integer_value(json_object_get(pair, "indeterminate")));
	json_array_foreach(failed, i, id)
		ml_buf_printf(&b, "%s%s", i ? ", " : " (", json_string_value(id));
	if (json_array_size(failed))
		ml_buf_puts(&b, ")");
	ml_buf_append(&b, "", 1);
	json_object_set_new(pair, "label", rp_str(b.oom ? "" : (const char *)b.data));
	ml_buf_free(&b);
}

/* The pair's evidence could not be built: the pair is indeterminate. */
static void
pair_error(json_t *pair, const char *msg)
{
	char lab[512];

	snprintf(lab, sizeof lab, "indeterminate: the evidence could not be built: %s", msg);
	json_object_set_new(pair, "verdict", json_string("indeterminate"));
	json_object_set_new(pair, "error", rp_str(msg));
	json_object_set_new(pair, "label", rp_str(lab));
}

static json_t *
pair_new(const char *ref, const char *env)
{
	return json_pack("{s:s, s:s?, s:I, s:I, s:I, s:I, s:[]}", "ref", ref,
			 "environment", env, "pass", (json_int_t)0, "fail", (json_int_t)0,
			 "waived", (json_int_t)0, "indeterminate", (json_int_t)0, "_items");
}

/* The pair key (rp_pair_key) of deployment i into key: 1, or 0 when its
 * row does not read back (r->oom set). */
static int
dep_key(struct rp *r, size_t i, char *key, size_t cap)
{
	json_t *d = ml_report_row(r->deployments, i);

	if (!d) {
		r->oom = 1;
		return 0;
	}
	rp_pair_key(json_string_value(json_object_get(d, "ref")),
		    json_string_value(json_object_get(d, "environment")), key, cap);
	json_decref(d);
	return 1;
}

/* The pairs in scope, grouped by model name (then in deployment order). */
static json_t *
pair_order(struct rp *r)
{
	json_t *byname = json_object(), *order = json_array(), *d, *list;
	const char *k;
	size_t i;

	for (i = 0; i < json_array_size(r->deployments); i++) {
		const char *ref, *env;
		char key[400], name[129], version[65];
		if (!(d = ml_report_row(r->deployments, i))) { /* stowed: read back */
			r->oom = 1;
			break;
		}
		ref = json_string_value(json_object_get(d, "ref"));
		env = json_string_value(json_object_get(d, "environment"));
		rp_pair_key(ref, env, key, sizeof key);
		if (!json_object_get(r->pairs, key) && json_object_get(r->models, ref)) {
			json_object_set_new(r->pairs, key, pair_new(ref, env));
			ml_ref_split(ref, name, version);
			if (!(list = json_object_get(byname, name)))
				json_object_set_new(byname, name, list = json_array());
			json_array_append_new(list, json_string(key));
		}
		json_decref(d);
	}
	json_object_foreach(byname, k, list)
		json_array_extend(order, list);
	json_decref(byname);
	return order;
}

/* p[i].rank: the place of pair order[i] among the pairs in deployment
 * order, the order findings_of lists their findings in. */
static void
pair_ranks(struct rp *r, const json_t *order, struct pend *p)
{
	json_t *at = json_object(), *key, *x;
	int64_t n = 0;
	size_t i;

	json_array_foreach(order, i, key)
		json_object_set_new(at, json_string_value(key), json_integer((json_int_t)i));
	for (i = 0; i < json_array_size(r->deployments); i++) {
		char k[400];
		if (!dep_key(r, i, k, sizeof k))
			continue;
		if ((x = json_object_get(at, k))) {
			p[json_integer_value(x)].rank = n++;
			json_object_del(at, k); /* its first deployment places it */
		}
	}
	json_decref(at);
}

/* Increments member k (an integer) of o. */
static void
bump(json_t *o, const char *k)
{
	json_object_set_new(o, k, json_integer(json_integer_value(json_object_get(o, k)) + 1));
}

/* People by name in the findings too: a finding's waiver names the person
 * who signed the waiver entry (its "author", as every other table does) and
 * that key's id (authorKey), not the key's label the policy engine gives;
 * its label is written again with the name.  A waiver entry the scan did not
 * keep (none: every waiver entry is in r->waivers) keeps the engine's
 * "by".  Out of memory leaves the engine's text.  by_seq: the waiver
 * entries by seq (read only); f: a finding's row, on malloc (so are the
 * copies it is given). */
static void
waiver_person(const json_t *by_seq, json_t *f)
{
	json_t *wv = json_object_get(f, "waiver"), *entry;
	struct ml_buf b = {0};
	char k[32];

	if (!json_is_object(wv))
		return;
	snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(wv, "seq")));
	if (!(entry = json_object_get(by_seq, k)) ||
	    !json_is_string(json_object_get(entry, "author")))
		return;
	json_object_set_new(wv, "by", json_copy(json_object_get(entry, "author")));
	json_object_set_new(wv, "authorKey", json_copy(json_object_get(entry, "authorKey")));
	ml_buf_printf(&b, "%s seq %s by %s (key %s) until %s: %s",
		      json_is_true(json_object_get(wv, "expired")) ? "expired waiver" : "waived,",
		      k, json_string_value(json_object_get(wv, "by")),
		      json_string_value(json_object_get(entry, "authorKey")) ?: "-",
		      json_string_value(json_object_get(wv, "expires")) ?: "-",
		      json_string_value(json_object_get(wv, "reason")) ?: "-");
	ml_buf_append(&b, "", 1);
	if (!b.oom)
		json_object_set_new(wv, "label", json_string((const char *)b.data));
	ml_buf_free(&b);
}

/* The waiver finding f met (if any) counted in use (seq -> findings). */
static void
waiver_use(json_t *use, const json_t *f)
{
	json_t *wv = json_object_get(f, "waiver");
	char k[32];

	if (!json_is_object(wv))
		return;
	snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(wv, "seq")));
	bump(use, k);
}

/* Finding f counted in byControl's row of each of its controls (ctl:
 * label -> row).  at: f's place in the order of findings.items; a row
 * takes framework and ref from the first finding in that order. */
static void
control_count(json_t *ctl, const json_t *f, int64_t at)
{
	const char *oc = json_string_value(json_object_get(f, "outcome"));
	json_t *c, *row;
	size_t j;

	json_array_foreach(json_object_get(f, "controls"), j, c) {
		const char *lab = json_string_value(json_object_get(c, "label"));
		if (!(row = json_object_get(ctl, lab))) {
			row = json_pack("{s:O, s:O, s:I, s:I, s:I, s:I, s:I, s:I}", "framework",
					json_object_get(c, "framework"), "ref",
					json_object_get(c, "ref"), "findings", (json_int_t)0, "pass",
					(json_int_t)0, "fail", (json_int_t)0, "waived", (json_int_t)0,
					"indeterminate", (json_int_t)0, "_at", (json_int_t)at);
			if (json_object_set_new(ctl, lab, row))
				continue;
		} else if (at < json_integer_value(json_object_get(row, "_at"))) {
			json_object_set(row, "framework", json_object_get(c, "framework"));
			json_object_set(row, "ref", json_object_get(c, "ref"));
			json_object_set_new(row, "_at", json_integer((json_int_t)at));
		}
		bump(row, "findings");
		bump(row, oc);
	}
}

/* Appends it to p's items; ML_OK or ML_EIO (out of memory). */
static int
item_push(struct pend *p, struct pitem it)
{
	struct pitem *n;

	if (p->nitems == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 8;
		if (!(n = realloc(p->items, cap * sizeof *n)))
			return ML_EIO;
		p->items = n;
		p->cap = cap;
	}
	p->items[p->nitems++] = it;
	return ML_OK;
}

/* Finding f of pair p, at place at in findings.items: counted, made a row
 * (its waiver with its person) and stowed, or kept as a row when it cannot
 * be (no spool).  ML_OK or ML_EIO (out of memory). */
static int
take_finding(struct tally *t, struct pend *p, const struct ml_finding *f, const char *policy,
	     int64_t at)
{
	json_t *o = finding_json(f, p->env, policy, t->shared);
	struct pitem it = {0, NULL};

	if (!o)
		return ML_EIO;
	p->n[f->outcome]++;
	t->out[f->outcome]++;
	t->findings++;
	if (f->outcome == ML_OUT_FAIL)
		t->failed[f->severity]++;
	if (f->outcome == ML_OUT_FAIL || f->outcome == ML_OUT_INDETERMINATE)
		json_array_append_new(p->failed, rp_str(f->rule_id));
	waiver_person(t->by_seq, o);
	waiver_use(t->use, o);
	control_count(t->ctl, o, at);
	if (ml_report_stow_handle(o, &it.h) == ML_OK)
		json_decref(o);
	else
		it.row = o;
	if (item_push(p, it)) {
		json_decref(it.row);
		return ML_EIO;
	}
	return ML_OK;
}

/* ml_sweep_each's callback: subject i's findings, policy after policy,
 * into t->p[i] and the tallies.  On whichever sweep thread delivers them
 * (one at a time): everything it makes is on malloc (that thread has no
 * arena, or its allocation is off), and it stows with the builder's spool
 * set on that thread while it runs.  The sweep frees the findings after. */
static int
take_pair(void *ctx, size_t i, struct ml_sweep_result *res, struct ml_err *e)
{
	struct tally *t = ctx;
	struct pend *p = &t->p[i];
	struct ml_spool *was = ml_report_spool_set(t->sp);
	size_t np = t->r->o->npolicies, k, j;
	int64_t at = p->rank << 32;
	int rc = ML_OK;

	p->verdict = ML_OK;
	if (np && res[0].rc) {
		p->rc = res[0].rc;
		snprintf(p->msg, sizeof p->msg, "%s", res[0].msg);
	} else {
		for (k = 0; k < np && rc == ML_OK; k++) {
			for (j = 0; j < res[k].fs.n && rc == ML_OK; j++)
				rc = take_finding(t, p, &res[k].fs.items[j],
						  ml_policyset_id(t->ps[k]), at++);
			p->verdict = worse(p->verdict, res[k].fs.verdict);
		}
	}
	ml_report_spool_set(was);
	return rc ? ml_err_set(e, ML_EIO, "out of memory") : ML_OK;
}

/* A copy of row v (not stowed: no spool) made in the arena, its short
 * strings and its controls shared between rows as finding_json shares
 * them (through t->kept). */
static json_t *
keep_row(struct tally *t, json_t *v)
{
	json_t *o = json_object(), *m, *c;
	const char *k;
	char key[40];

	json_object_foreach(v, k, m) {
		if (json_is_string(m) && strlen(json_string_value(m)) == json_string_length(m)) {
			c = shared_str(json_string_value(m), t->kept);
		} else if (!strcmp(k, "controls")) {
			snprintf(key, sizeof key, "\2%p", (void *)m); /* shared in t->shared */
			if ((c = json_object_get(t->kept, key)))
				json_incref(c);
			else if ((c = json_deep_copy(m)))
				json_object_set(t->kept, key, c);
		} else {
			c = json_deep_copy(m);
		}
		if (json_object_set_new(o, k, c)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* What the model holds for it (report.h): its handle, a JSON integer, or
 * its row: with an arena (this thread's allocation on), a copy made there;
 * without one, the row itself (a new reference). */
static json_t *
keep(struct tally *t, const struct pitem *it)
{
	if (!it->row)
		return json_integer(it->h);
	if (!t->r->o->arena)
		return json_incref(it->row);
	return keep_row(t, it->row);
}

/* The pair's part of the model, from what the callback gathered (p): its
 * counts, verdict and label, and its "_items" (findings_of takes them).
 * On this thread, arena on. */
static void
pair_finish(struct tally *t, json_t *pair, const struct pend *p)
{
	json_t *items = json_object_get(pair, "_items");
	size_t j;
	int o;

	if (p->rc) {
		pair_error(pair, p->msg);
		return;
	}
	for (o = 0; o < 4; o++)
		if (p->n[o])
			json_object_set_new(pair, outcome_names[o], json_integer(p->n[o]));
	for (j = 0; j < p->nitems; j++)
		json_array_append_new(items, keep(t, &p->items[j]));
	pair_label(pair, p->verdict, p->nitems, p->failed);
}

/* ---- evaluation ------------------------------------------------------------ */

/* Every pair through ml_sweep_each (one worker per core, evidence verified
 * once per worker), its findings taken as they come (take_pair); an
 * evidence error makes that pair indeterminate. */
static int
eval_all(struct rp *r, struct ml_policyset **ps, struct tally *t)
{
	json_t *order = pair_order(r), *key;
	size_t n = json_array_size(order), np = r->o->npolicies, i;
	struct ml_sweep_subject *v = calloc(n + 1, sizeof *v);
	static char label[] = "report: policies";
	struct ml_sweep_opts o = {.ledger = ml_store_path(r->s), .policies = r->o->policies,
				  .policy_seq = r->policy_seq,
				  .npolicies = np, .params = r->o->params,
				  .nparams = r->o->nparams, .phase = r->o->phase,
				  .as_of_us = r->o->as_of_us, .keep_going = 1,
				  .progress = r->o->progress, .progress_ctx = label};
	int rc = ML_OK;

	t->ps = ps;
	t->p = calloc(n + 1, sizeof *t->p);
	t->n = t->p ? n : 0;
	if (!v || !t->p) {
		rc = ml_err_set(r->e, ML_EIO, "out of memory");
		goto out;
	}
	rp_arena(r, 0); /* this thread is one of the workers; the tallies are malloc */
	json_array_foreach(order, i, key) {
		json_t *pair = json_object_get(r->pairs, json_string_value(key));
		const char *env = json_string_value(json_object_get(pair, "environment"));
		snprintf(v[i].ref, sizeof v[i].ref, "%s",
			 json_string_value(json_object_get(pair, "ref")));
		snprintf(v[i].env, sizeof v[i].env, "%s", env ? env : "");
		t->p[i].env = env;
		t->p[i].failed = json_array();
	}
	pair_ranks(r, order, t->p);
	o.jobs = r->o->jobs > 0 ? (size_t)r->o->jobs : ml_sweep_default_jobs(n);
	/* the report's full verify passed: evidence need not check the
	 * signatures again (ml_evidence_trust) */
	o.trusted_size = r->verified;
	memcpy(o.trusted_head, r->verified_head, ML_SHA256_LEN);
	rc = ml_sweep_each(&o, v, n, take_pair, t, r->e);
	rp_release_freed(); /* the workers' memory, before the findings join the model */
	rp_arena(r, 1);
	json_array_foreach(order, i, key) {
		if (rc == ML_OK)
			pair_finish(t, json_object_get(r->pairs, json_string_value(key)), &t->p[i]);
		pend_free(&t->p[i]); /* in the model now: not held twice */
	}
out:
	free(v);
	json_decref(order);
	return rc;
}

/* ---- summaries ---------------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* byControl: t->ctl's rows, by label, made in the arena. */
static json_t *
by_control(const struct tally *t)
{
	json_t *out = json_array(), *row;
	const char **keys = malloc((json_object_size(t->ctl) + 1) * sizeof *keys);
	const char *k;
	size_t i, n = 0;

	if (keys) {
		json_object_foreach(t->ctl, k, row)
			keys[n++] = k;
		qsort(keys, n, sizeof *keys, cmp_str);
	}
	for (i = 0; keys && i < n; i++) {
		row = json_object_get(t->ctl, keys[i]);
#define C(m) (json_integer_value(json_object_get(row, (m))))
		json_array_append_new(out, json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I}",
						     "framework",
						     json_deep_copy(json_object_get(row, "framework")),
						     "ref", json_deep_copy(json_object_get(row, "ref")),
						     "findings", C("findings"), "pass", C("pass"),
						     "fail", C("fail"), "waived", C("waived"),
						     "indeterminate", C("indeterminate")));
#undef C
	}
	free(keys);
	return out;
}

static json_t *
summary_of(struct rp *r, const struct tally *t)
{
	json_t *s = json_pack("{s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}}",
			      "findings", t->findings, "pass", t->out[ML_OUT_PASS], "fail",
			      t->out[ML_OUT_FAIL], "waived", t->out[ML_OUT_WAIVED],
			      "indeterminate", t->out[ML_OUT_INDETERMINATE], "failedBySeverity",
			      "deny", t->failed[ML_SEV_DENY], "warn", t->failed[ML_SEV_WARN],
			      "info", t->failed[ML_SEV_INFO], "decisions", "pass",
			      (json_int_t)0, "deny", (json_int_t)0, "indeterminate", (json_int_t)0);
	json_t *pair, *dec = json_object_get(s, "decisions");
	const char *k;

	json_object_foreach(r->pairs, k, pair) {
		const char *v = json_string_value(json_object_get(pair, "verdict"));
		if (v)
			json_object_set_new(dec, v, json_integer(json_integer_value(json_object_get(dec, v)) + 1));
	}
	return s;
}

/* Waivers recorded in the period or met by a finding (use: seq -> how
 * many findings met it), with their use. */
static json_t *
waivers_of(struct rp *r, const json_t *use)
{
	json_t *out = json_array(), *w;
	size_t i;

	json_array_foreach(r->waivers, i, w) {
		char k[32];
		int64_t tm = json_integer_value(json_object_get(w, "_t")), exp = 0;
		const char *e = json_string_value(json_object_get(w, "expires"));
		snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(w, "seq")));
		if (!json_object_get(use, k) && (tm < r->o->from_us || tm >= r->o->to_us))
			continue;
		if (e && ml_time_parse(e, &exp) == 0)
			exp += (int64_t)86400 * 1000000;
		json_object_set_new(w, "status", json_string(exp <= r->o->as_of_us ? "expired"
									     : "in force"));
		json_object_set_new(w, "usedBy", json_integer(json_integer_value(json_object_get(use, k))));
		if (!json_object_get(w, "ticket"))
			json_object_set_new(w, "ticket", json_null());
		json_array_append(out, w);
	}
	return out;
}

/* r->findings: the pairs' items in deployment order (each pair once), with
 * the tallies counted as they were taken. */
static void
findings_of(struct rp *r, const struct tally *t)
{
	json_t *items = json_array();
	size_t i;

	for (i = 0; i < json_array_size(r->deployments); i++) {
		char key[400];
		json_t *pair;
		if (!dep_key(r, i, key, sizeof key))
			continue;
		pair = json_object_get(r->pairs, key);
		if (pair && json_object_get(pair, "_items")) {
			json_array_extend(items, json_object_get(pair, "_items"));
			json_object_del(pair, "_items"); /* once per pair */
		}
	}
	r->findings = json_pack("{s:b, s:o, s:o, s:o, s:o}", "evaluated", r->o->npolicies > 0,
				"summary", summary_of(r, t), "byControl", by_control(t),
				"waivers", waivers_of(r, t->use), "items", items);
}

/* The tallies' tables, on malloc (kept: in the arena); by_seq holds the
 * waiver entries by seq.  Returns ML_OK or ML_EIO. */
static int
tally_init(struct rp *r, struct tally *t)
{
	json_t *w;
	size_t i;

	memset(t, 0, sizeof *t);
	t->r = r;
	t->sp = ml_report_spool();
	t->kept = json_object(); /* arena on */
	rp_arena(r, 0);
	t->shared = json_object();
	t->by_seq = json_object();
	t->use = json_object();
	t->ctl = json_object();
	json_array_foreach(r->waivers, i, w) {
		char k[32];
		snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(w, "seq")));
		json_object_set(t->by_seq, k, w);
	}
	rp_arena(r, 1);
	return t->kept && t->shared && t->by_seq && t->use && t->ctl ? ML_OK : ML_EIO;
}

static void
tally_free(struct tally *t)
{
	size_t i;

	for (i = 0; t->p && i < t->n; i++)
		pend_free(&t->p[i]);
	free(t->p);
	json_decref(t->shared);
	json_decref(t->kept);
	json_decref(t->by_seq);
	json_decref(t->use);
	json_decref(t->ctl);
}

/* The text param name of p, or NULL (caller frees). */
static char *
param_text(const struct ml_policyset *p, const char *name)
{
	size_t i, n = ml_policyset_param_count(p);

	for (i = 0; i < n; i++)
		if (!strcmp(ml_policyset_param_name(p, i), name))
			return ml_policyset_param_text(p, i);
	return NULL;
}

/* r->thr_*: the monitored metric's tolerance, as the monitoring policy's
 * rule reads it (monitoring.xml: primary-metric, metric-tolerance), for the
 * threshold lines of the metric charts.  A policy that also declares
 * max-age-days (a monitoring policy) wins over one that does not. */
static void
threshold_of(struct rp *r, struct ml_policyset **ps)
{
	int pass, found = 0;
	size_t i;

	r->thr_metric[0] = '\0';
	for (pass = 0; pass < 2 && !found; pass++)
		for (i = 0; i < r->o->npolicies && !found; i++) {
			double tol, age;
			char *m;
			if (pass == 0 && ml_policyset_param_number(ps[i], "max-age-days", &age))
				continue;
			if (ml_policyset_param_number(ps[i], "metric-tolerance", &tol) ||
			    !(tol >= 0) || !(m = param_text(ps[i], "primary-metric")))
				continue;
			snprintf(r->thr_metric, sizeof r->thr_metric, "%s", m);
			snprintf(r->thr_source, sizeof r->thr_source, "%.128s@%.64s metric-tolerance %g",
				 ml_policyset_id(ps[i]), ml_policyset_version(ps[i]), tol);
			r->thr_tol = tol;
			found = 1;
			free(m);
		}
}

int
rp_policies(struct rp *r)
{
	struct ml_policyset **ps = calloc(r->o->npolicies + 1, sizeof *ps);
	struct tally t = {0};
	size_t i;
	int rc;

	r->policies = json_array();
	r->policy_seq = calloc(r->o->npolicies + 1, sizeof *r->policy_seq);
	if (!ps || !r->policies || !r->policy_seq || tally_init(r, &t))
		rc = ml_err_set(r->e, ML_EIO, "out of memory");
	else if ((rc = load_all(r, ps)) == ML_OK && r->o->npolicies)
		rc = eval_all(r, ps, &t);
	r->max_gap_days = r->o->max_gap_days > 0 ? r->o->max_gap_days : 7;
	for (i = 0; rc == ML_OK && r->o->max_gap_days <= 0 && i < r->o->npolicies; i++) {
		double d; /* the monitoring policy's own limit (monitoring.xml) */
		if (ml_policyset_param_number(ps[i], "max-age-days", &d) == 0 && d >= 1 &&
		    d <= 3650) {
			r->max_gap_days = (int64_t)d;
			break;
		}
	}
	if (rc == ML_OK)
		threshold_of(r, ps);
	if (rc == ML_OK)
		findings_of(r, &t);
	tally_free(&t);
	if (ps)
		ml_policyset_free_all(ps, r->o->npolicies);
	free(ps);
	free(r->policy_seq);
	r->policy_seq = NULL;
	return rc;
}

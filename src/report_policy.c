/* report_policy — the report's findings: every policy evaluated for every
 * (model version, environment) deployed in scope, as `check` does, at the
 * report's as-of time.
 *
 * One evidence session serves every pair (policies/EVIDENCE.md): inclusion
 * is proven once for the whole tree, and each entry is verified once while
 * the pairs of its model name are evaluated (pairs come grouped by name). */
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

/* The gate decision of one pair: verdict and counts, and a label. */
static void
pair_add(json_t *pair, const struct ml_findings *fs, const char *env, const char *policy,
	 json_t *shared)
{
	json_t *items = json_object_get(pair, "_items");
	size_t i;

	for (i = 0; i < fs->n; i++) {
		const struct ml_finding *f = &fs->items[i];
		const char *k = outcome_names[f->outcome];
		json_object_set_new(pair, k, json_integer(json_integer_value(json_object_get(pair, k)) + 1));
		json_array_append_new(items, finding_json(f, env, policy, shared));
		if (f->outcome == ML_OUT_FAIL || f->outcome == ML_OUT_INDETERMINATE) {
			json_t *ids = json_object_get(pair, "_failed");
			json_array_append_new(ids, rp_str(f->rule_id));
		}
	}
}

static void
pair_label(json_t *pair, int verdict)
{
	struct ml_buf b = {0};
	json_t *id;
	size_t i;

	json_object_set_new(pair, "verdict", json_string(verdict_name(verdict)));
	ml_buf_printf(&b, "%s: %lld findings, %lld failed, %lld waived, %lld indeterminate",
		      verdict_name(verdict),
		      (long long)json_array_size(json_object_get(pair, "_items")),
		      (long long)json_integer_value(json_object_get(pair, "fail")),
		      (long long)json_integer_value(json_object_get(pair, "waived")),
		      (long long)json_integer_value(json_object_get(pair, "indeterminate")));
	json_array_foreach(json_object_get(pair, "_failed"), i, id)
		ml_buf_printf(&b, "%s%s", i ? ", " : " (", json_string_value(id));
	if (json_array_size(json_object_get(pair, "_failed")))
		ml_buf_puts(&b, ")");
	ml_buf_append(&b, "", 1);
	json_object_set_new(pair, "label", rp_str(b.oom ? "" : (const char *)b.data));
	ml_buf_free(&b);
}

/* ---- evaluation ------------------------------------------------------------ */

/* The findings of every policy for one pair (res[k]: policy k). */
static void
pair_results(struct rp *r, struct ml_policyset **ps, const struct ml_sweep_result *res,
	     const char *env, json_t *pair, json_t *shared)
{
	int verdict = ML_OK;
	size_t k;

	for (k = 0; k < r->o->npolicies; k++) {
		pair_add(pair, &res[k].fs, env, ml_policyset_id(ps[k]), shared);
		verdict = worse(verdict, res[k].fs.verdict);
	}
	pair_label(pair, verdict);
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
	return json_pack("{s:s, s:s?, s:I, s:I, s:I, s:I, s:[], s:[]}", "ref", ref,
			 "environment", env, "pass", (json_int_t)0, "fail", (json_int_t)0,
			 "waived", (json_int_t)0, "indeterminate", (json_int_t)0, "_items",
			 "_failed");
}

/* The pairs in scope, grouped by model name (then in deployment order). */
static json_t *
pair_order(struct rp *r)
{
	json_t *byname = json_object(), *order = json_array(), *d, *list;
	const char *k;
	size_t i;

	json_array_foreach(r->deployments, i, d) {
		const char *ref = json_string_value(json_object_get(d, "ref"));
		const char *env = json_string_value(json_object_get(d, "environment"));
		char key[400], name[129], version[65];
		rp_pair_key(ref, env, key, sizeof key);
		if (json_object_get(r->pairs, key) || !json_object_get(r->models, ref))
			continue;
		json_object_set_new(r->pairs, key, pair_new(ref, env));
		ml_ref_split(ref, name, version);
		if (!(list = json_object_get(byname, name)))
			json_object_set_new(byname, name, list = json_array());
		json_array_append_new(list, json_string(key));
	}
	json_object_foreach(byname, k, list)
		json_array_extend(order, list);
	json_decref(byname);
	return order;
}

/* Every pair through sweep (one worker per core, evidence verified once
 * per worker); an evidence error makes that pair indeterminate. */
static int
eval_all(struct rp *r, struct ml_policyset **ps)
{
	json_t *order = pair_order(r), *key, *shared = json_object();
	size_t n = json_array_size(order), np = r->o->npolicies, i, k;
	struct ml_sweep_subject *v = calloc(n + 1, sizeof *v);
	struct ml_sweep_result *res = calloc(n * np + 1, sizeof *res);
	static char label[] = "report: policies";
	struct ml_sweep_opts o = {.ledger = ml_store_path(r->s), .policies = r->o->policies,
				  .policy_seq = r->policy_seq,
				  .npolicies = np, .params = r->o->params,
				  .nparams = r->o->nparams, .phase = r->o->phase,
				  .as_of_us = r->o->as_of_us, .keep_going = 1,
				  .progress = r->o->progress, .progress_ctx = label};
	int rc = ML_OK;

	if (!v || !res) {
		rc = ml_err_set(r->e, ML_EIO, "out of memory");
		goto out;
	}
	json_array_foreach(order, i, key) {
		json_t *pair = json_object_get(r->pairs, json_string_value(key));
		const char *env = json_string_value(json_object_get(pair, "environment"));
		snprintf(v[i].ref, sizeof v[i].ref, "%s",
			 json_string_value(json_object_get(pair, "ref")));
		snprintf(v[i].env, sizeof v[i].env, "%s", env ? env : "");
	}
	o.jobs = r->o->jobs > 0 ? (size_t)r->o->jobs : ml_sweep_default_jobs(n);
	/* the report's full verify passed: evidence need not check the
	 * signatures again (ml_evidence_trust) */
	o.trusted_size = r->verified;
	memcpy(o.trusted_head, r->verified_head, ML_SHA256_LEN);
	rp_arena(r, 0); /* this thread is one of the workers */
	rc = ml_sweep(&o, v, n, res, r->e);
	rp_arena(r, 1);
	if (rc)
		goto out;
	json_array_foreach(order, i, key) {
		json_t *pair = json_object_get(r->pairs, json_string_value(key));
		const char *env = json_string_value(json_object_get(pair, "environment"));
		if (np && res[i * np].rc)
			pair_error(pair, res[i * np].msg);
		else
			pair_results(r, ps, &res[i * np], env, pair, shared);
		for (k = 0; k < np; k++) /* in the model now: not held twice */
			ml_findings_free(&res[i * np + k].fs);
	}
out:
	for (k = 0; res && k < n * np; k++)
		ml_findings_free(&res[k].fs);
	free(res);
	free(v);
	json_decref(order);
	json_decref(shared);
	return rc;
}

/* ---- summaries ---------------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *
by_control(const json_t *items)
{
	json_t *acc = json_object(), *out = json_array(), *f, *c, *row;
	const char **keys;
	const char *k;
	size_t i, j, n = 0;

	json_array_foreach(items, i, f)
		json_array_foreach(json_object_get(f, "controls"), j, c) {
			const char *oc = json_string_value(json_object_get(f, "outcome"));
			if (!(row = json_object_get(acc, json_string_value(json_object_get(c, "label"))))) {
				row = json_pack("{s:O, s:O, s:I, s:I, s:I, s:I, s:I}", "framework",
						json_object_get(c, "framework"), "ref",
						json_object_get(c, "ref"), "findings", (json_int_t)0,
						"pass", (json_int_t)0, "fail", (json_int_t)0, "waived",
						(json_int_t)0, "indeterminate", (json_int_t)0);
				json_object_set_new(acc, json_string_value(json_object_get(c, "label")), row);
			}
			json_object_set_new(row, "findings", json_integer(json_integer_value(json_object_get(row, "findings")) + 1));
			json_object_set_new(row, oc, json_integer(json_integer_value(json_object_get(row, oc)) + 1));
		}
	keys = malloc((json_object_size(acc) + 1) * sizeof *keys);
	if (keys) {
		json_object_foreach(acc, k, row)
			keys[n++] = k;
		qsort(keys, n, sizeof *keys, cmp_str);
		for (i = 0; i < n; i++)
			json_array_append(out, json_object_get(acc, keys[i]));
	}
	free(keys);
	json_decref(acc);
	return out;
}

static json_t *
summary_of(struct rp *r, const json_t *items)
{
	json_t *s = json_pack("{s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}}",
			      "findings", (json_int_t)json_array_size(items), "pass", (json_int_t)0,
			      "fail", (json_int_t)0, "waived", (json_int_t)0, "indeterminate",
			      (json_int_t)0, "failedBySeverity", "deny", (json_int_t)0, "warn",
			      (json_int_t)0, "info", (json_int_t)0, "decisions", "pass",
			      (json_int_t)0, "deny", (json_int_t)0, "indeterminate", (json_int_t)0);
	json_t *f, *pair, *fb = json_object_get(s, "failedBySeverity");
	json_t *dec = json_object_get(s, "decisions");
	const char *k;
	size_t i;

	json_array_foreach(items, i, f) {
		const char *oc = json_string_value(json_object_get(f, "outcome"));
		const char *sev = json_string_value(json_object_get(f, "severity"));
		json_object_set_new(s, oc, json_integer(json_integer_value(json_object_get(s, oc)) + 1));
		if (!strcmp(oc, "fail"))
			json_object_set_new(fb, sev, json_integer(json_integer_value(json_object_get(fb, sev)) + 1));
	}
	json_object_foreach(r->pairs, k, pair) {
		const char *v = json_string_value(json_object_get(pair, "verdict"));
		if (v)
			json_object_set_new(dec, v, json_integer(json_integer_value(json_object_get(dec, v)) + 1));
	}
	return s;
}

/* People by name in the findings too: a finding's waiver names the person
 * who signed the waiver entry (its "author", as every other table does) and
 * that key's id (authorKey), not the key's label the policy engine gives;
 * its label is written again with the name.  A waiver entry the scan did not
 * keep (none: every waiver entry is in r->waivers) keeps the engine's
 * "by".  Out of memory leaves the engine's text. */
static void
waiver_people(struct rp *r, json_t *items)
{
	json_t *by_seq = json_object(), *w, *f;
	size_t i;

	if (!by_seq)
		return;
	json_array_foreach(r->waivers, i, w) {
		char k[32];
		snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(w, "seq")));
		json_object_set(by_seq, k, w);
	}
	json_array_foreach(items, i, f) {
		json_t *wv = json_object_get(f, "waiver"), *entry;
		struct ml_buf b = {0};
		char k[32];

		if (!json_is_object(wv))
			continue;
		snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(wv, "seq")));
		if (!(entry = json_object_get(by_seq, k)) ||
		    !json_is_string(json_object_get(entry, "author")))
			continue;
		json_object_set(wv, "by", json_object_get(entry, "author"));
		json_object_set(wv, "authorKey", json_object_get(entry, "authorKey"));
		ml_buf_printf(&b, "%s seq %s by %s (key %s) until %s: %s",
			      json_is_true(json_object_get(wv, "expired")) ? "expired waiver"
									 : "waived,",
			      k, json_string_value(json_object_get(wv, "by")),
			      json_string_value(json_object_get(entry, "authorKey")) ?: "-",
			      json_string_value(json_object_get(wv, "expires")) ?: "-",
			      json_string_value(json_object_get(wv, "reason")) ?: "-");
		ml_buf_append(&b, "", 1);
		if (!b.oom)
			json_object_set_new(wv, "label", json_string((const char *)b.data));
		ml_buf_free(&b);
	}
	json_decref(by_seq);
}

/* Waivers recorded in the period or met by a finding, with their use. */
static json_t *
waivers_of(struct rp *r, const json_t *items)
{
	json_t *out = json_array(), *w, *f, *use = json_object();
	size_t i;

	json_array_foreach(items, i, f) {
		json_t *wv = json_object_get(f, "waiver");
		char k[32];
		if (!json_is_object(wv))
			continue;
		snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(wv, "seq")));
		json_object_set_new(use, k, json_integer(json_integer_value(json_object_get(use, k)) + 1));
	}
	json_array_foreach(r->waivers, i, w) {
		char k[32];
		int64_t t = json_integer_value(json_object_get(w, "_t")), exp = 0;
		const char *e = json_string_value(json_object_get(w, "expires"));
		snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(w, "seq")));
		if (!json_object_get(use, k) && (t < r->o->from_us || t >= r->o->to_us))
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
	json_decref(use);
	return out;
}

static void
findings_of(struct rp *r)
{
	json_t *items = json_array(), *d;
	size_t i;

	json_array_foreach(r->deployments, i, d) {
		char key[400];
		json_t *pair;
		rp_pair_key(json_string_value(json_object_get(d, "ref")),
			    json_string_value(json_object_get(d, "environment")), key, sizeof key);
		pair = json_object_get(r->pairs, key);
		if (pair && json_object_get(pair, "_items")) {
			json_array_extend(items, json_object_get(pair, "_items"));
			json_object_del(pair, "_items"); /* once per pair */
		}
	}
	waiver_people(r, items);
	r->findings = json_pack("{s:b, s:o, s:o, s:o, s:o}", "evaluated", r->o->npolicies > 0,
				"summary", summary_of(r, items), "byControl", by_control(items),
				"waivers", waivers_of(r, items), "items", items);
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
	size_t i;
	int rc;

	r->policies = json_array();
	r->policy_seq = calloc(r->o->npolicies + 1, sizeof *r->policy_seq);
	if (!ps || !r->policies || !r->policy_seq)
		rc = ml_err_set(r->e, ML_EIO, "out of memory");
	else if ((rc = load_all(r, ps)) == ML_OK && r->o->npolicies)
		rc = eval_all(r, ps);
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
		findings_of(r);
	if (ps)
		ml_policyset_free_all(ps, r->o->npolicies);
	free(ps);
	free(r->policy_seq);
	r->policy_seq = NULL;
	return rc;
}

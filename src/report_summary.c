/* report_summary — the report's first page (issue 15, item 1), computed
 * from the finished model only, so it composes with however the other
 * members are gathered.  See rp_summary_attach in report_int.h and
 * ml_report_findings_lines in report.h.
 *
 * Definitions (reports/README.md, "What is in it", item 0):
 *   result       "clean" when the ledger verified, policies were given and
 *                no finding failed or is indeterminate; else "findings: N
 *                deny, M warn" (failed findings by severity, waived ones
 *                apart), with ", K indeterminate" when some are.
 *   gated        a deployment in the period whose latest recorded gate
 *                decision before it (chains[].gateDecisions, seq order)
 *                PASSED and was replayed to the same result.
 *   open         an incident recorded in the period on a model version
 *                still in service (the ledger has no record that closes
 *                an incident; policies/production.xml, PROD-INCIDENT).
 *   gaps         monitoring[].gaps: intervals without a check longer than
 *                the limit.
 */
#include "report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonarena.h"

static const char *
s_at(const json_t *model, const char *path)
{
	const char *s = json_string_value(ml_report_get(model, path));

	return s ? s : "";
}

static long long
i_at(const json_t *model, const char *path)
{
	return (long long)json_integer_value(ml_report_get(model, path));
}

static const char *
s_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void
bump(json_t *o, const char *key)
{
	json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + 1));
}

/* Appends {heading, text, section} to lines; b is emptied. */
static void
line(json_t *lines, const char *heading, const char *section, struct ml_buf *b)
{
	ml_buf_append(b, "", 1);
	if (!b->oom)
		json_array_append_new(lines, json_pack("{s:s, s:s, s:s}", "heading", heading,
						       "text", (const char *)b->data,
						       "section", section));
	ml_buf_free(b);
}

/* Policies as "ID@VERSION" (the scope's policies). */
static json_t *
policy_ids(const json_t *model)
{
	json_t *out = json_array(), *p;
	struct ml_buf b = {0};
	size_t i;

	json_array_foreach(ml_report_get(model, "scope.policies"), i, p) {
		ml_buf_printf(&b, "%s@%s", s_of(p, "id"), s_of(p, "version"));
		ml_buf_append(&b, "", 1);
		if (!b.oom)
			json_array_append_new(out, json_string((const char *)b.data));
		ml_buf_free(&b);
	}
	return out;
}

/* Failed, waived and indeterminate findings: totals and per framework
 * (a finding counts once per framework however many of its controls it
 * maps to), frameworks sorted by name.  The items are read back one at a
 * time (ml_report_row); NULL when one does not read back. */
static json_t *
by_framework(const json_t *items, json_t *totals)
{
	json_t *acc = json_object(), *out = json_array(), *f, *c, *row;
	size_t i, j;

	for (i = 0; i < json_array_size(items); i++) {
		const char *oc, *sev, *key;
		json_t *seen;
		if (!(f = ml_report_row(items, i))) {
			json_decref(acc);
			json_decref(out);
			return NULL;
		}
		oc = s_of(f, "outcome"), sev = s_of(f, "severity");
		key = !strcmp(oc, "fail") ? sev : !strcmp(oc, "waived") ? "waived"
		    : !strcmp(oc, "indeterminate") ? "indeterminate" : NULL;
		seen = json_object();
		if (!key || (!strcmp(oc, "fail") && strcmp(sev, "deny") && strcmp(sev, "warn"))) {
			json_decref(seen);
			json_decref(f);
			continue; /* passes, and failed info findings */
		}
		bump(totals, key);
		json_array_foreach(json_object_get(f, "controls"), j, c) {
			const char *fw = s_of(c, "framework");
			if (json_object_get(seen, fw))
				continue;
			json_object_set_new(seen, fw, json_true());
			if (!(row = json_object_get(acc, fw))) {
				row = json_pack("{s:s, s:I, s:I, s:I}", "framework", fw, "deny",
						(json_int_t)0, "warn", (json_int_t)0, "waived",
						(json_int_t)0);
				json_object_set_new(acc, fw, row);
			}
			if (strcmp(key, "indeterminate"))
				bump(row, key);
		}
		json_decref(seen);
		json_decref(f);
	}
	{
		const char *k;
		const char **keys = malloc((json_object_size(acc) + 1) * sizeof *keys);
		size_t n = 0, a, z;
		if (keys) {
			json_object_foreach(acc, k, row)
				keys[n++] = k;
			for (a = 1; a < n; a++) /* insertion sort: a handful of frameworks */
				for (z = a; z > 0 && strcmp(keys[z - 1], keys[z]) > 0; z--) {
					const char *t = keys[z];
					keys[z] = keys[z - 1];
					keys[z - 1] = t;
				}
			for (a = 0; a < n; a++)
				json_array_append(out, json_object_get(acc, keys[a]));
		}
		free(keys);
	}
	json_decref(acc);
	return out;
}

static int64_t
time_at(const json_t *o, const char *key)
{
	int64_t us;
	const char *s = json_string_value(json_object_get(o, key));

	return s && ml_time_parse(s, &us) == 0 ? us : INT64_MIN;
}

/* Whether the latest gate decision of a chain passed and replayed. */
static int
gated(const json_t *chain)
{
	const json_t *g = json_object_get(chain, "gateDecisions");
	const json_t *last = json_array_get(g, json_array_size(g) - 1);

	return last && !strcmp(s_of(last, "result"), "PASSED") &&
	       json_is_true(json_object_get(last, "replayed"));
}

/* {inPeriod, gated, notGated: [deployment seqs]} */
static json_t *
deployments(const json_t *model)
{
	int64_t from = time_at(ml_report_get(model, "scope"), "periodStart");
	int64_t to = time_at(ml_report_get(model, "scope"), "periodEnd") + 1000000;
	const json_t *rows = ml_report_get(model, "chains");
	json_t *c, *missing = json_array();
	long long n = 0, ok = 0;
	size_t i;

	for (i = 0; i < json_array_size(rows); i++) {
		int64_t t;
		if (!(c = ml_report_row(rows, i))) { /* one read back at a time */
			json_decref(missing);
			return NULL;
		}
		t = time_at(c, "time");
		if (t >= from && t < to) {
			n++;
			if (gated(c))
				ok++;
			else
				json_array_append_new(missing, json_integer(json_integer_value(
						json_object_get(c, "deploymentSeq")))); /* c is a temporary */
		}
		json_decref(c);
	}
	return json_pack("{s:I, s:I, s:o}", "inPeriod", (json_int_t)n, "gated", (json_int_t)ok,
			 "notGated", missing);
}

/* Incidents of the period on a version still in service. */
static json_t *
open_incidents(const json_t *model)
{
	const json_t *deps = ml_report_get(model, "inventory.deployments");
	json_t *live = json_object(), *d, *x, *out = json_array();
	size_t i;

	for (i = 0; i < json_array_size(deps); i++) {
		if (!(d = ml_report_row(deps, i))) { /* stowed: read back */
			json_decref(live);
			json_decref(out);
			return NULL;
		}
		if (json_is_null(json_object_get(d, "end")) && json_object_get(d, "ref"))
			json_object_set_new(live, s_of(d, "ref"), json_true());
		json_decref(d);
	}
	json_array_foreach(ml_report_get(model, "inventory.incidents"), i, x)
		if (json_object_get(live, s_of(x, "ref")))
			json_array_append(out, json_object_get(x, "seq"));
	json_decref(live);
	return out;
}

static json_t *
waivers(const json_t *model)
{
	json_t *w;
	long long active = 0, expired = 0;
	size_t i;

	json_array_foreach(ml_report_get(model, "findings.waivers"), i, w) {
		if (!strcmp(s_of(w, "status"), "expired"))
			expired++;
		else
			active++;
	}
	return json_pack("{s:I, s:I}", "active", (json_int_t)active, "expired",
			 (json_int_t)expired);
}

/* {gaps, deployments: how many deployments have one} */
static json_t *
gaps(const json_t *model)
{
	const json_t *rows = ml_report_get(model, "monitoring");
	json_t *m;
	long long n = 0, with = 0;
	size_t i, g;

	for (i = 0; i < json_array_size(rows); i++) {
		if (!(m = ml_report_row(rows, i))) /* one read back at a time */
			return NULL;
		g = json_array_size(json_object_get(m, "gaps"));
		n += (long long)g;
		with += g > 0;
		json_decref(m);
	}
	return json_pack("{s:I, s:I, s:I}", "gaps", (json_int_t)n, "deploymentsWithGaps",
			 (json_int_t)with, "deploymentsWatched",
			 (json_int_t)json_array_size(ml_report_get(model, "monitoring")));
}

static const char *
plural(long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* The result word-line (see the header). */
static void
result_text(struct ml_buf *b, const json_t *model, const json_t *t)
{
	long long deny = json_integer_value(json_object_get(t, "deny"));
	long long warn = json_integer_value(json_object_get(t, "warn"));
	long long ind = json_integer_value(json_object_get(t, "indeterminate"));
	int ok = json_is_true(ml_report_get(model, "integrity.ok"));

	if (!ok)
		ml_buf_puts(b, "ledger failed verification; ");
	if (!json_is_true(ml_report_get(model, "findings.evaluated")))
		ml_buf_puts(b, "no policy evaluated");
	else if (ok && !deny && !warn && !ind)
		ml_buf_puts(b, "clean");
	else {
		ml_buf_printf(b, "findings: %lld deny, %lld warn", deny, warn);
		if (ind)
			ml_buf_printf(b, ", %lld indeterminate", ind);
	}
}

static void
lines_scope(json_t *lines, const json_t *model, const json_t *pol)
{
	struct ml_buf b = {0};
	json_t *p;
	size_t i;

	ml_buf_printf(&b, "%s to %s (UTC, both days included)", s_at(model, "scope.from"),
		      s_at(model, "scope.to"));
	line(lines, "Period", "scope", &b);
	ml_buf_printf(&b, "ledger %s: %lld entries considered, %lld in the period; policies: ",
		      s_at(model, "scope.ledger.origin"),
		      i_at(model, "scope.ledger.entriesConsidered"),
		      i_at(model, "scope.ledger.entriesInPeriod"));
	json_array_foreach(pol, i, p)
		ml_buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(p));
	if (!json_array_size(pol))
		ml_buf_puts(&b, "none (no findings)");
	line(lines, "Scope", "scope", &b);
	ml_buf_printf(&b, "%s; latest checkpoint: size %lld, root %s; %s",
		      json_is_true(ml_report_get(model, "integrity.ok"))
			      ? "full verify ok" : "full verify FAILED",
		      i_at(model, "scope.checkpoint.size"), s_at(model, "scope.checkpoint.root"),
		      s_at(model, "integrity.heldStatement"));
	line(lines, "Integrity", "integrity", &b);
}

static void
lines_facts(json_t *lines, const json_t *sum)
{
	const json_t *t = json_object_get(sum, "findings");
	const json_t *d = json_object_get(sum, "deployments");
	const json_t *w = json_object_get(sum, "waivers"), *g = json_object_get(sum, "monitoring");
	long long n, k;
	struct ml_buf b = {0};
	size_t i;

	ml_buf_printf(&b, "failed: %lld deny, %lld warn; waived: %lld; indeterminate: %lld",
		      (long long)json_integer_value(json_object_get(t, "deny")),
		      (long long)json_integer_value(json_object_get(t, "warn")),
		      (long long)json_integer_value(json_object_get(t, "waived")),
		      (long long)json_integer_value(json_object_get(t, "indeterminate")));
	i = json_array_size(json_object_get(sum, "byFramework"));
	if (i)
		ml_buf_printf(&b, "; per control framework (%zu) in the table below", i);
	line(lines, "Findings", "findings", &b);
	n = json_integer_value(json_object_get(d, "inPeriod"));
	k = json_integer_value(json_object_get(d, "gated"));
	ml_buf_printf(&b, "%lld %s in the period; %lld had a passing, replayed gate decision "
		      "before %s", n, plural(n, "deployment", "deployments"), k,
		      plural(n, "it", "them"));
	line(lines, "Deployments", "chains", &b);
	n = (long long)json_array_size(json_object_get(sum, "openIncidents"));
	ml_buf_printf(&b, "%lld open %s (recorded in the period on a version still in service)",
		      n, plural(n, "incident", "incidents"));
	line(lines, "Incidents", "inventory", &b);
	n = json_integer_value(json_object_get(w, "active"));
	k = json_integer_value(json_object_get(w, "expired"));
	ml_buf_printf(&b, "%lld active, %lld expired", n, k);
	line(lines, "Waivers", "findings", &b);
	n = json_integer_value(json_object_get(g, "gaps"));
	k = json_integer_value(json_object_get(g, "deploymentsWithGaps"));
	ml_buf_printf(&b, "%lld %s over the limit of %lld days, in %lld of %lld %s", n,
		      plural(n, "gap", "gaps"), (long long)json_integer_value(json_object_get(g,
									"maxGapDays")),
		      k, (long long)json_integer_value(json_object_get(g, "deploymentsWatched")),
		      plural(json_integer_value(json_object_get(g, "deploymentsWatched")),
			     "deployment watched", "deployments watched"));
	line(lines, "Monitoring", "monitoring", &b);
}

/* The summary object of a finished model (caller json_decref), or NULL
 * when out of memory. */
static json_t *
summary(const json_t *model)
{
	json_t *totals = json_pack("{s:I, s:I, s:I, s:I}", "deny", (json_int_t)0, "warn",
				   (json_int_t)0, "waived", (json_int_t)0, "indeterminate",
				   (json_int_t)0);
	json_t *s = json_object(), *lines = json_array(), *pol = policy_ids(model);
	json_t *fw = by_framework(ml_report_get(model, "findings.items"), totals), *mon, *dep, *inc;
	struct ml_buf b = {0};

	if (!totals || !s || !lines || !pol || !fw) {
		json_decref(totals), json_decref(s), json_decref(lines), json_decref(pol);
		json_decref(fw);
		return NULL;
	}
	result_text(&b, model, totals);
	ml_buf_append(&b, "", 1);
	json_object_set_new(s, "result", json_string(b.oom ? "" : (const char *)b.data));
	ml_buf_free(&b);
	json_object_set_new(s, "clean", json_boolean(!strcmp(json_string_value(
						json_object_get(s, "result")) ?: "", "clean")));
	json_object_set_new(s, "period", json_pack("{s:s, s:s}", "from", s_at(model, "scope.from"),
						   "to", s_at(model, "scope.to")));
	json_object_set_new(s, "scope", json_pack("{s:s, s:I, s:I, s:O}", "origin",
			    s_at(model, "scope.ledger.origin"), "entriesConsidered",
			    (json_int_t)i_at(model, "scope.ledger.entriesConsidered"),
			    "entriesInPeriod", (json_int_t)i_at(model, "scope.ledger.entriesInPeriod"),
			    "policies", pol));
	json_object_set_new(s, "integrity", json_pack("{s:b, s:I, s:s, s:I, s:s}", "verified",
			    json_is_true(ml_report_get(model, "integrity.ok")), "checkpointSize",
			    (json_int_t)i_at(model, "scope.checkpoint.size"), "checkpointRoot",
			    s_at(model, "scope.checkpoint.root"), "heldChecked",
			    (json_int_t)json_array_size(ml_report_get(model, "integrity.held")),
			    "outside", s_at(model, "integrity.heldStatement")));
	json_object_set_new(s, "findings", totals);
	json_object_set_new(s, "byFramework", fw);
	dep = deployments(model);
	mon = gaps(model);
	inc = open_incidents(model);
	if (!dep || !mon || !inc) { /* a row did not read back */
		json_decref(dep), json_decref(mon), json_decref(inc), json_decref(s);
		json_decref(lines);
		json_decref(pol);
		ml_buf_free(&b);
		return NULL;
	}
	json_object_set_new(s, "deployments", dep);
	json_object_set_new(s, "openIncidents", inc);
	json_object_set_new(s, "waivers", waivers(model));
	json_object_set_new(mon, "maxGapDays", json_integer(i_at(model, "scope.monitoringMaxGapDays")));
	json_object_set_new(s, "monitoring", mon);
	ml_buf_puts(&b, json_string_value(json_object_get(s, "result")));
	line(lines, "Result", "findings", &b);
	lines_scope(lines, model, pol);
	lines_facts(lines, s);
	json_object_set_new(s, "lines", lines);
	json_decref(pol);
	return s;
}

int
rp_summary_attach(json_t **model)
{
	/* its temporaries on malloc (one per finding, read back); with a
	 * model arena the summary is then copied into it */
	struct ml_jsonarena was = ml_jsonarena_off();
	json_t *tmp = summary(*model), *s, *out;

	ml_jsonarena_restore(was);
	s = tmp ? json_deep_copy(tmp) : NULL;
	json_decref(tmp);
	out = json_object();

	if (!s || !out ||
	    json_object_set(out, "schemaVersion", json_object_get(*model, "schemaVersion")) ||
	    json_object_set(out, "title", json_object_get(*model, "title")) ||
	    json_object_set_new(out, "summary", s) || json_object_update(out, *model)) {
		json_decref(out);
		return ML_EIO;
	}
	json_decref(*model);
	*model = out;
	return ML_OK;
}

/* ---- plain words for findings.summary ------------------------------------ */

json_t *
ml_report_findings_lines(const json_t *model)
{
	const json_t *s = ml_report_get(model, "findings.summary");
	const json_t *fb = json_object_get(s, "failedBySeverity");
	const json_t *d = json_object_get(s, "decisions");
	long long n, pass, deny, ind;
	json_t *out = json_array();
	struct ml_buf b = {0};

#define N(o, k) ((long long)json_integer_value(json_object_get((o), (k))))
	n = N(s, "findings");
	ml_buf_printf(&b, "%lld %s: %lld passed, %lld failed, %lld waived, %lld indeterminate", n,
		      plural(n, "finding", "findings"), N(s, "pass"), N(s, "fail"), N(s, "waived"),
		      N(s, "indeterminate"));
	ml_buf_append(&b, "", 1);
	json_array_append_new(out, json_string(b.oom ? "" : (const char *)b.data));
	ml_buf_free(&b);
	ml_buf_printf(&b, "Failed, by rule severity: %lld deny, %lld warn, %lld info",
		      N(fb, "deny"), N(fb, "warn"), N(fb, "info"));
	ml_buf_append(&b, "", 1);
	json_array_append_new(out, json_string(b.oom ? "" : (const char *)b.data));
	ml_buf_free(&b);
	pass = N(d, "pass"), deny = N(d, "deny"), ind = N(d, "indeterminate");
	n = pass + deny + ind;
	ml_buf_printf(&b, "%lld gate %s now (one per model version and environment): "
		      "%lld passed, %lld denied, %lld indeterminate", n,
		      plural(n, "decision", "decisions"), pass, deny, ind);
#undef N
	ml_buf_append(&b, "", 1);
	json_array_append_new(out, json_string(b.oom ? "" : (const char *)b.data));
	ml_buf_free(&b);
	return out;
}

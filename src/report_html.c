/* report_html — see report_html.h.  The document is a libxml2 HTML tree;
 * text goes in as text nodes and attribute values (escaped by the writer),
 * never as markup. */
#include "report_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLtree.h>
#include <libxml/tree.h>

#include "report.h"
#include "report_css.h" /* generated from reports/report.css by the Makefile */

#define MAX_TREND_CHARTS 12
#define MAX_CONTROL_BARS 30
#define BUCKETS 24

const char *
ml_report_default_css(size_t *len)
{
	*len = sizeof report_css;
	return (const char *)report_css;
}

/* ---- tree helpers ----------------------------------------------------- */

static int oom_flag;
static void stream_flush(xmlNodePtr node);

static void
text(xmlNodePtr n, const char *s)
{
	char *c;
	xmlNodePtr t;

	if (!s)
		return;
	if (!(c = ml_report_clean(s, strlen(s))) ||
	    !(t = xmlNewText((const xmlChar *)c)) || !xmlAddChild(n, t))
		oom_flag = 1;
	free(c);
}

static void
attr(xmlNodePtr n, const char *name, const char *value)
{
	char *c = ml_report_clean(value, strlen(value));

	if (!c || !xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)c))
		oom_flag = 1;
	free(c);
}

static xmlNodePtr
el(xmlNodePtr parent, const char *name, const char *cls)
{
	xmlNodePtr n = xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);

	if (!n) {
		oom_flag = 1;
		return parent; /* keep going; the result is discarded */
	}
	if (cls)
		attr(n, "class", cls);
	return n;
}

static xmlNodePtr
el_text(xmlNodePtr parent, const char *name, const char *cls, const char *s)
{
	xmlNodePtr n = el(parent, name, cls);

	text(n, s);
	return n;
}

static void
attrf(xmlNodePtr n, const char *name, double v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%.1f", v);
	attr(n, name, buf);
}

static const char *
jstr(const json_t *model, const char *path)
{
	const char *s = json_string_value(ml_report_get(model, path));

	return s ? s : "";
}

/* ---- tables ------------------------------------------------------------- */

/* A class for outcome-like values, so they can be coloured. */
static const char *
value_class(const char *key, const char *v)
{
	static const char *const known[] = {"pass", "fail", "waived", "indeterminate", "deny",
					    "better", "worse", "changed", "expired", NULL};
	static char cls[32];
	size_t i;

	if (strcmp(key, "outcome") && strcmp(key, "verdict") && strcmp(key, "status"))
		return NULL;
	for (i = 0; known[i]; i++)
		if (!strcmp(v, known[i])) {
			snprintf(cls, sizeof cls, "v-%s", known[i]);
			return cls;
		}
	return NULL;
}

static void
cell(xmlNodePtr tr, const char *key, json_t *v)
{
	int numeric;
	char *c = ml_report_cell(v, &numeric);

	if (!c) {
		oom_flag = 1;
		return;
	}
	el_text(tr, "td", numeric ? "num" : value_class(key, c), c);
	free(c);
}

static void
table(xmlNodePtr parent, const json_t *model, const char *name, int heading)
{
	const struct ml_report_table *t = ml_report_table(name);
	json_t *rows = ml_report_get(model, t->path), *r;
	xmlNodePtr tab, tr, body;
	size_t i, j;

	if (heading)
		el_text(parent, "h3", NULL, t->title);
	if (!json_array_size(rows)) {
		el_text(parent, "p", "none", "None.");
		return;
	}
	tab = el(parent, "table", name);
	tr = el(el(tab, "thead", NULL), "tr", NULL);
	for (j = 0; j < t->ncols; j++)
		el_text(tr, "th", NULL, t->cols[j].header);
	body = el(tab, "tbody", NULL);
	json_array_foreach(rows, i, r) {
		tr = el(body, "tr", NULL);
		for (j = 0; j < t->ncols; j++)
			cell(tr, t->cols[j].key, json_object_get(r, t->cols[j].key));
		if (i % 256 == 255)
			stream_flush(body); /* a long table a few rows at a time */
	}
}

static void
kv_row(xmlNodePtr tab, const char *k, const char *v)
{
	xmlNodePtr tr = el(tab, "tr", NULL);

	el_text(tr, "th", NULL, k);
	el_text(tr, "td", NULL, v);
}

/* ---- SVG ------------------------------------------------------------------ */

static xmlNodePtr
svg_new(xmlNodePtr parent, double w, double h, const char *title)
{
	xmlNodePtr fig = el(parent, "figure", NULL), svg = el(fig, "svg", NULL);
	char vb[64];

	snprintf(vb, sizeof vb, "0 0 %.0f %.0f", w, h);
	attr(svg, "viewBox", vb);
	attrf(svg, "width", w);
	attrf(svg, "height", h);
	attr(svg, "role", "img");
	attr(svg, "aria-label", title);
	el_text(svg, "title", NULL, title);
	el_text(fig, "figcaption", NULL, title);
	return svg;
}

static void
rect(xmlNodePtr svg, const char *cls, double x, double y, double w, double h)
{
	xmlNodePtr r = el(svg, "rect", cls);

	attrf(r, "x", x);
	attrf(r, "y", y);
	attrf(r, "width", w > 0 ? w : 0);
	attrf(r, "height", h > 0 ? h : 0);
}

static void
line(xmlNodePtr svg, const char *cls, double x1, double y1, double x2, double y2)
{
	xmlNodePtr l = el(svg, "line", cls);

	attrf(l, "x1", x1);
	attrf(l, "y1", y1);
	attrf(l, "x2", x2);
	attrf(l, "y2", y2);
}

static void
label(xmlNodePtr svg, double x, double y, const char *anchor, const char *s)
{
	xmlNodePtr t = el_text(svg, "text", NULL, s);

	attrf(t, "x", x);
	attrf(t, "y", y);
	if (anchor)
		attr(t, "text-anchor", anchor);
}

static int64_t
time_of(const json_t *o, const char *key)
{
	int64_t us = 0;
	const char *s = json_string_value(json_object_get(o, key));

	return s && ml_time_parse(s, &us) == 0 ? us : INT64_MIN;
}

/* Deployments per environment in BUCKETS equal spans of the period. */
static void
chart_deployments(xmlNodePtr parent, const json_t *model)
{
	int64_t from = time_of(ml_report_get(model, "scope"), "periodStart");
	int64_t to = time_of(ml_report_get(model, "scope"), "periodEnd") + 1000000;
	json_t *envs = json_object(), *d, *counts;
	const char *env;
	double lane = 46, left = 130, width = 560, max = 1;
	size_t i, n = 0, k;
	xmlNodePtr svg;

	json_array_foreach(ml_report_get(model, "inventory.deployments"), i, d) {
		int64_t t = time_of(d, "time");
		const char *e = json_string_value(json_object_get(d, "environment"));
		if (t < from || t >= to || !e)
			continue;
		if (!(counts = json_object_get(envs, e))) {
			counts = json_array();
			for (k = 0; k < BUCKETS; k++)
				json_array_append_new(counts, json_integer(0));
			json_object_set_new(envs, e, counts);
		}
		k = (size_t)((double)(t - from) / (double)(to - from) * BUCKETS);
		k = k >= BUCKETS ? BUCKETS - 1 : k;
		json_array_set_new(counts, k, json_integer(json_integer_value(json_array_get(counts, k)) + 1));
		if (json_integer_value(json_array_get(counts, k)) > max)
			max = (double)json_integer_value(json_array_get(counts, k));
	}
	if (!json_object_size(envs)) {
		json_decref(envs);
		return;
	}
	svg = svg_new(parent, left + width + 20, lane * (double)json_object_size(envs) + 40,
		      "Deployments over the period, per environment");
	json_object_foreach(envs, env, counts) {
		double y0 = 10 + lane * (double)n++;
		label(svg, left - 8, y0 + lane / 2, "end", env);
		line(svg, "axis", left, y0 + lane - 6, left + width, y0 + lane - 6);
		for (k = 0; k < BUCKETS; k++) {
			double c = (double)json_integer_value(json_array_get(counts, k));
			double h = c / max * (lane - 12);
			if (c > 0)
				rect(svg, "bar", left + width / BUCKETS * (double)k + 1, y0 + lane - 6 - h,
				     width / BUCKETS - 2, h);
		}
	}
	label(svg, left, lane * (double)n + 30, "start", jstr(model, "scope.from"));
	label(svg, left + width, lane * (double)n + 30, "end", jstr(model, "scope.to"));
	{
		char m[32];
		snprintf(m, sizeof m, "tallest bar: %.0f", max);
		label(svg, left + width / 2, lane * (double)n + 30, "middle", m);
	}
	json_decref(envs);
}

static const char *const outcomes[] = {"fail", "waived", "indeterminate", "pass"};

/* One stacked horizontal bar per row of rows: counts by outcome. */
static void
stacked(xmlNodePtr svg, const json_t *rows, const char *const *labels, size_t n, double max)
{
	double left = 250, width = 440, h = 18;
	size_t i, k;

	for (i = 0; i < n; i++) {
		const json_t *r = json_array_get(rows, i);
		double x = left, y = 10 + (h + 6) * (double)i;
		char num[32];
		label(svg, left - 8, y + 13, "end", labels[i]);
		for (k = 0; k < 4; k++) {
			double c = (double)json_integer_value(json_object_get(r, outcomes[k]));
			char cls[32];
			snprintf(cls, sizeof cls, "bar %s", outcomes[k]);
			rect(svg, cls, x, y, c / max * width, h);
			x += c / max * width;
		}
		snprintf(num, sizeof num, "%lld",
			 (long long)json_integer_value(json_object_get(r, "findings")));
		label(svg, x + 4, y + 13, "start", num);
	}
}

static void
legend(xmlNodePtr svg, double y)
{
	size_t k;

	for (k = 0; k < 4; k++) {
		char cls[32];
		snprintf(cls, sizeof cls, "bar %s", outcomes[k]);
		rect(svg, cls, 250 + 110 * (double)k, y, 12, 12);
		label(svg, 266 + 110 * (double)k, y + 10, "start", outcomes[k]);
	}
}

static void
chart_severity(xmlNodePtr parent, const json_t *model)
{
	static const char *const sev[] = {"deny", "warn", "info"};
	json_t *rows = json_array(), *f;
	double max = 1;
	size_t i, k;
	xmlNodePtr svg;

	for (k = 0; k < 3; k++)
		json_array_append_new(rows, json_pack("{s:I, s:I, s:I, s:I, s:I}", "fail",
						      (json_int_t)0, "waived", (json_int_t)0,
						      "indeterminate", (json_int_t)0, "pass",
						      (json_int_t)0, "findings", (json_int_t)0));
	json_array_foreach(ml_report_get(model, "findings.items"), i, f) {
		const char *s = json_string_value(json_object_get(f, "severity"));
		const char *o = json_string_value(json_object_get(f, "outcome"));
		json_t *r = json_array_get(rows, !strcmp(s, "deny") ? 0 : !strcmp(s, "warn") ? 1 : 2);
		json_object_set_new(r, o, json_integer(json_integer_value(json_object_get(r, o)) + 1));
		json_object_set_new(r, "findings", json_integer(json_integer_value(json_object_get(r, "findings")) + 1));
		if ((double)json_integer_value(json_object_get(r, "findings")) > max)
			max = (double)json_integer_value(json_object_get(r, "findings"));
	}
	svg = svg_new(parent, 740, 3 * 24 + 40, "Findings by rule severity and outcome");
	stacked(svg, rows, sev, 3, max);
	legend(svg, 3 * 24 + 16);
	json_decref(rows);
}

static void
chart_controls(xmlNodePtr parent, const json_t *model)
{
	json_t *rows = ml_report_get(model, "findings.byControl"), *r;
	const char *labels[MAX_CONTROL_BARS];
	char (*buf)[48] = calloc(MAX_CONTROL_BARS, 48);
	size_t i, n = json_array_size(rows) < MAX_CONTROL_BARS ? json_array_size(rows)
							       : MAX_CONTROL_BARS;
	double max = 1;
	xmlNodePtr svg;

	if (!n || !buf) {
		free(buf);
		return;
	}
	json_array_foreach(rows, i, r) {
		if (i >= n)
			break;
		snprintf(buf[i], 48, "%.12s %.30s", json_string_value(json_object_get(r, "framework")),
			 json_string_value(json_object_get(r, "ref")));
		labels[i] = buf[i];
		if ((double)json_integer_value(json_object_get(r, "findings")) > max)
			max = (double)json_integer_value(json_object_get(r, "findings"));
	}
	svg = svg_new(parent, 740, 24 * (double)n + 40, "Findings by control (framework and clause)");
	stacked(svg, rows, labels, n, max);
	legend(svg, 24 * (double)n + 16);
	free(buf);
}

/* A metric's checks over the period, with the approval-time value dashed. */
static void
chart_trend(xmlNodePtr parent, const json_t *mon, const json_t *series, int64_t from,
	    int64_t to)
{
	const json_t *pts = json_object_get(series, "points"), *p;
	const json_t *base = json_object_get(series, "approvalValue");
	double lo = INFINITY, hi = -INFINITY, left = 70, w = 600, top = 14, h = 150;
	char title[600], num[32];
	struct ml_buf path = {0};
	xmlNodePtr svg, pl;
	size_t i;

	json_array_foreach(pts, i, p) {
		double v = json_number_value(json_object_get(p, "value"));
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	if (json_is_number(base)) {
		lo = json_number_value(base) < lo ? json_number_value(base) : lo;
		hi = json_number_value(base) > hi ? json_number_value(base) : hi;
	}
	if (hi - lo < 1e-9)
		hi = lo + 1, lo = lo - 1;
	snprintf(title, sizeof title, "%s in %s: %s (dashed: at approval)",
		 json_string_value(json_object_get(mon, "ref")),
		 json_string_value(json_object_get(mon, "environment")),
		 json_string_value(json_object_get(series, "metric")));
	svg = svg_new(parent, left + w + 20, top + h + 34, title);
	line(svg, "axis", left, top + h, left + w, top + h);
	line(svg, "axis", left, top, left, top + h);
	snprintf(num, sizeof num, "%.4g", hi);
	label(svg, left - 6, top + 4, "end", num);
	snprintf(num, sizeof num, "%.4g", lo);
	label(svg, left - 6, top + h, "end", num);
	if (json_is_number(base)) {
		double y = top + h - (json_number_value(base) - lo) / (hi - lo) * h;
		line(svg, "approval", left, y, left + w, y);
	}
	json_array_foreach(pts, i, p) {
		int64_t t = time_of(p, "time");
		double x = left + (double)(t - from) / (double)(to - from) * w;
		double y = top + h - (json_number_value(json_object_get(p, "value")) - lo) / (hi - lo) * h;
		xmlNodePtr c = el(svg, "circle", "dot");
		x = x < left ? left : x > left + w ? left + w : x;
		ml_buf_printf(&path, "%s%.1f,%.1f", i ? " " : "", x, y);
		attrf(c, "cx", x);
		attrf(c, "cy", y);
		attr(c, "r", "3");
	}
	ml_buf_append(&path, "", 1);
	pl = el(svg, "polyline", "line");
	attr(pl, "points", path.oom ? "" : (const char *)path.data);
	ml_buf_free(&path);
	label(svg, left, top + h + 18, "start", "period start");
	label(svg, left + w, top + h + 18, "end", "period end");
}

static void
trend_charts(xmlNodePtr parent, const json_t *model)
{
	int64_t from = time_of(ml_report_get(model, "scope"), "periodStart");
	int64_t to = time_of(ml_report_get(model, "scope"), "periodEnd") + 1000000;
	json_t *rows = ml_report_get(model, "monitoring"), *m, *s;
	size_t i, j, n = 0, total = 0;

	json_array_foreach(rows, i, m)
		json_array_foreach(json_object_get(m, "trend"), j, s) {
			total++;
			if (n < MAX_TREND_CHARTS && json_array_size(json_object_get(s, "points"))) {
				chart_trend(parent, m, s, from, to);
				n++;
			}
		}
	if (total > n) {
		char msg[160];
		snprintf(msg, sizeof msg, "%zu of %zu metric series are drawn; the table below "
			 "and the JSON report hold all of them.", n, total);
		el_text(parent, "p", "none", msg);
	}
}

/* ---- sections ------------------------------------------------------------- */

static xmlNodePtr
section(xmlNodePtr body, const char *id, const char *title)
{
	xmlNodePtr s = el(body, "section", NULL);

	attr(s, "id", id);
	el_text(s, "h2", NULL, title);
	return s;
}

static void
sec_scope(xmlNodePtr body, const json_t *model)
{
	xmlNodePtr s = section(body, "scope", "1. Scope"), tab = el(s, "table", "kv");
	json_t *rows = ml_report_scope_rows(model), *r;
	size_t i;

	json_array_foreach(rows, i, r)
		kv_row(tab, json_string_value(json_array_get(r, 0)),
		       json_string_value(json_array_get(r, 1)));
	json_decref(rows);
	el_text(s, "h3", NULL, "Policies");
	if (!json_array_size(ml_report_get(model, "scope.policies"))) {
		el_text(s, "p", "none", "No policy was given: the report holds no findings.");
		return;
	}
	tab = el(s, "table", NULL);
	{
		xmlNodePtr tr = el(el(tab, "thead", NULL), "tr", NULL), tb = el(tab, "tbody", NULL);
		static const char *const k[] = {"file", "id", "version", "sha256"};
		static const char *const h[] = {"File", "Id", "Version", "SHA-256"};
		json_t *p;
		size_t j;
		for (j = 0; j < 4; j++)
			el_text(tr, "th", NULL, h[j]);
		json_array_foreach(ml_report_get(model, "scope.policies"), i, p) {
			tr = el(tb, "tr", NULL);
			for (j = 0; j < 4; j++)
				cell(tr, k[j], json_object_get(p, k[j]));
		}
	}
}

static void
sec_integrity(xmlNodePtr body, const json_t *model)
{
	xmlNodePtr s = section(body, "integrity", "2. Integrity");
	int ok = json_is_true(ml_report_get(model, "integrity.ok"));

	el_text(s, "p", ok ? "ok" : "bad", jstr(model, "integrity.statement"));
	el_text(s, "p", json_array_size(ml_report_get(model, "integrity.held")) ? NULL : "bad",
		jstr(model, "integrity.heldStatement"));
	if (json_array_size(ml_report_get(model, "integrity.held")))
		table(s, model, "held-checkpoints", 1);
	if (!json_is_object(ml_report_get(model, "integrity.time")))
		return;
	el_text(s, "p", NULL, jstr(model, "integrity.time.statement"));
	table(s, model, "time-warnings", 1);
	table(s, model, "backfills", 1);
}

static void
chain_step(xmlNodePtr ol, const char *head, json_t *v)
{
	xmlNodePtr li = el(ol, "li", NULL), ul;
	json_t *x;
	size_t i;

	el_text(li, "b", NULL, head);
	if (json_is_array(v) && json_array_size(v) > 1) {
		ul = el(li, "ul", NULL);
		json_array_foreach(v, i, x)
			el_text(ul, "li", NULL, json_string_value(json_object_get(x, "label")));
	} else if (json_is_null(v) || (json_is_array(v) && !json_array_size(v))) {
		el_text(li, "span", "none", "none");
	} else {
		char *c = ml_report_cell(v, NULL);
		const char *verdict = json_string_value(json_object_get(v, "verdict"));
		char cls[32];
		snprintf(cls, sizeof cls, "v-%s", verdict ? verdict : "x");
		el_text(li, "span", verdict && strspn(verdict, "abcdefghijklmnopqrstuvwxyz") ==
			strlen(verdict) ? cls : NULL, c ? c : "");
		free(c);
	}
}

static void
sec_chains(xmlNodePtr body, const json_t *model)
{
	const struct ml_report_table *t = ml_report_table("chains");
	xmlNodePtr s = section(body, "chains", "4. Evidence chain per deployment");
	json_t *c;
	size_t i, j;

	el_text(s, "p", NULL, "Datasets, model version, evaluations, approvals, the gate "
		"decisions recorded before the deployment (mlledger gate --key), what the "
		"policies say now, the deployment and its monitoring, with the seq of every "
		"entry: check any of them with mlledger show SEQ and mlledger prove SEQ.");
	if (!json_array_size(ml_report_get(model, "chains")))
		el_text(s, "p", "none", "No deployment in the period.");
	json_array_foreach(ml_report_get(model, "chains"), i, c) {
		xmlNodePtr art = el(s, "article", "chain"), h3 = el(art, "h3", NULL), ol;
		char seq[64];
		text(h3, json_string_value(json_object_get(c, "ref")));
		text(h3, " \xe2\x86\x92 ");
		text(h3, json_string_value(json_object_get(c, "environment")));
		snprintf(seq, sizeof seq, " (deployment seq %lld)",
			 (long long)json_integer_value(json_object_get(c, "deploymentSeq")));
		text(h3, seq);
		ol = el(art, "ol", "steps");
		for (j = 4; j < t->ncols; j++)
			chain_step(ol, t->cols[j].header, json_object_get(c, t->cols[j].key));
		stream_flush(s); /* one article at a time */
	}
}

static void
sec_findings(xmlNodePtr body, const json_t *model)
{
	xmlNodePtr s = section(body, "findings", "7. Findings"), tab = el(s, "table", "kv");
	const char *k;
	json_t *v;

	json_object_foreach(ml_report_get(model, "findings.summary"), k, v) {
		char *c = ml_report_cell(v, NULL);
		kv_row(tab, k, c ? c : "");
		free(c);
	}
	chart_severity(s, model);
	chart_controls(s, model);
	table(s, model, "controls", 1);
	table(s, model, "findings", 1);
	table(s, model, "waivers", 1);
}

static void
front(xmlNodePtr body, const json_t *model)
{
	static const char *const toc[][2] = {
		{"#scope", "Scope"}, {"#integrity", "Integrity"}, {"#inventory", "Inventory"},
		{"#chains", "Evidence chains"}, {"#comparison", "Version comparison"},
		{"#monitoring", "Monitoring cadence"}, {"#findings", "Findings"},
		{"#people", "Keys and people"}};
	char run[600];
	xmlNodePtr ol;
	size_t i;

	snprintf(run, sizeof run, "Audit report \xc2\xb7 %s \xc2\xb7 %s to %s \xc2\xb7 generated %s",
		 jstr(model, "scope.ledger.origin"), jstr(model, "scope.from"),
		 jstr(model, "scope.to"), jstr(model, "scope.generatedAt"));
	el_text(body, "header", "running", run);
	if (!json_is_true(ml_report_get(model, "integrity.ok")))
		el_text(body, "div", "alert", jstr(model, "integrity.statement"));
	if (json_is_object(ml_report_get(model, "integrity.futureDated")))
		el_text(body, "div", "alert", jstr(model, "integrity.futureDated.statement"));
	if (json_is_object(ml_report_get(model, "scope.ledgerStartWarning")))
		el_text(body, "div", "alert start", jstr(model, "scope.ledgerStartWarning.statement"));
	el_text(body, "h1", NULL, "Audit report");
	snprintf(run, sizeof run, "%s, %s to %s", jstr(model, "scope.ledger.origin"),
		 jstr(model, "scope.from"), jstr(model, "scope.to"));
	el_text(body, "p", "sub", run);
	ol = el(el(body, "nav", "toc"), "ol", NULL);
	for (i = 0; i < sizeof toc / sizeof toc[0]; i++)
		attr(el_text(el(ol, "li", NULL), "a", NULL, toc[i][1]), "href", toc[i][0]);
}

/* ---- streaming ---------------------------------------------------------------
 *
 * The body is written while it is built: stream_flush writes every node
 * that can no longer change (all but the last child at each level of the
 * path from body to the node being built) and frees it, and writes the
 * start tag of each element on that path that has at least two children,
 * marking it open (_private).  The bytes are those htmlNodeDumpFormatOutput
 * would write for the whole tree: a complete node is dumped while still
 * linked (its separators depend on its next sibling and its parent), and
 * the open elements' tags and newlines follow the same rules (libxml2
 * HTMLtree.c: a newline after a block element's start tag when its first
 * child is an element and it has several children, before its end tag
 * when its last child is, and after it when a next sibling is an element,
 * none of them under p, pre or param).  Builders only ever append, and
 * keep no pointer to a node outside the path across a stream_flush. */
struct stream {
	xmlOutputBufferPtr ob;
	xmlNodePtr body;
	xmlOutputBufferPtr tag; /* open_tag's scratch writer, into tagbuf */
	struct ml_buf tagbuf;
};

static int
tag_out(void *ctx, const char *bytes, int len)
{
	struct ml_buf *b = ctx;

	ml_buf_append(b, bytes, (size_t)len);
	return b->oom ? -1 : len;
}

static int
is_block(xmlNodePtr n)
{
	const htmlElemDesc *info;

	if (n->type != XML_ELEMENT_NODE || n->ns)
		return 0;
	info = htmlTagLookup(n->name);
	return info && !info->isinline;
}

static int
is_markup(xmlNodePtr n)
{
	return n && n->type != XML_TEXT_NODE && n->type != XML_ENTITY_REF_NODE;
}

/* An open element's start tag: the dump of a copy with one text child, cut
 * before that child. */
static void
open_tag(struct stream *st, xmlNodePtr n)
{
	xmlNodePtr c = xmlDocCopyNode(n, n->doc, 2);
	size_t tail = strlen((const char *)n->name) + 4;

	st->tagbuf.len = 0;
	if (!st->tag)
		st->tag = xmlOutputBufferCreateIO(tag_out, NULL, &st->tagbuf, NULL);
	if (!c || !st->tag || !xmlAddChild(c, xmlNewText((const xmlChar *)"x"))) {
		oom_flag = 1;
	} else {
		htmlNodeDumpFormatOutput(st->tag, n->doc, c, "UTF-8", 0);
		xmlOutputBufferFlush(st->tag);
		if (st->tagbuf.len > tail && !st->tagbuf.oom)
			xmlOutputBufferWrite(st->ob, (int)(st->tagbuf.len - tail),
					     (const char *)st->tagbuf.data);
		else
			oom_flag = 1;
	}
	xmlFreeNode(c);
	if (is_block(n) && is_markup(n->children) && n->name[0] != 'p')
		xmlOutputBufferWrite(st->ob, 1, "\n");
	n->_private = st;
}

static void emit(struct stream *st, xmlNodePtr n);

/* The rest of an open element: its children, its end tag. */
static void
close_open(struct stream *st, xmlNodePtr n)
{
	int last_markup = is_markup(n->last);

	while (n->children)
		emit(st, n->children);
	if (is_block(n) && last_markup && n->name[0] != 'p')
		xmlOutputBufferWrite(st->ob, 1, "\n");
	xmlOutputBufferWriteString(st->ob, "</");
	xmlOutputBufferWriteString(st->ob, (const char *)n->name);
	xmlOutputBufferWriteString(st->ob, ">");
	if (is_block(n) && is_markup(n->next) && n->parent && n->parent->name &&
	    n->parent->name[0] != 'p')
		xmlOutputBufferWrite(st->ob, 1, "\n");
}

/* Writes the complete (or open) node n, the first child of its parent,
 * and frees it; the body's children are followed by a newline. */
static void
emit(struct stream *st, xmlNodePtr n)
{
	if (n->_private == st)
		close_open(st, n);
	else
		htmlNodeDumpFormatOutput(st->ob, n->doc, n, "UTF-8", 1);
	if (n->parent == st->body)
		xmlOutputBufferWrite(st->ob, 1, "\n");
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* Writes and frees what node's document holds that can no longer change. */
static void
stream_flush(xmlNodePtr node)
{
	struct stream *st = node->doc->_private;
	xmlNodePtr parent = st->body, cur;

	while ((cur = parent->last)) {
		while (parent->children != cur)
			emit(st, parent->children);
		if (cur->_private != st) { /* opened with two children or more */
			if (cur->type != XML_ELEMENT_NODE || !cur->children ||
			    cur->children == cur->last)
				break;
			open_tag(st, cur);
		}
		parent = cur;
	}
}

/* Writes the children of body built so far and frees them. */
static void
flush(xmlOutputBufferPtr ob, xmlNodePtr body)
{
	struct stream *st = body->doc->_private;

	(void)ob;
	while (body->children)
		emit(st, body->children);
}

static void
sections(xmlOutputBufferPtr ob, xmlNodePtr body, const json_t *model)
{
	xmlNodePtr s;

	front(body, model);
	sec_scope(body, model);
	sec_integrity(body, model);
	flush(ob, body);
	s = section(body, "inventory", "3. Inventory");
	chart_deployments(s, model);
	table(s, model, "models", 1);
	table(s, model, "datasets", 1);
	table(s, model, "deployments", 1);
	table(s, model, "retirements", 1);
	table(s, model, "incidents", 1);
	flush(ob, body);
	sec_chains(body, model);
	flush(ob, body);
	table(section(body, "comparison", "5. Version comparison"), model, "comparisons", 0);
	s = section(body, "monitoring", "6. Monitoring cadence");
	trend_charts(s, model);
	table(s, model, "monitoring", 0);
	flush(ob, body);
	sec_findings(body, model);
	flush(ob, body);
	s = section(body, "people", "8. Keys and people");
	table(s, model, "keys", 1);
	table(s, model, "key-events", 1);
	el_text(body, "footer", NULL, "Generated by mlledger from the verified ledger. Every "
		"seq names a ledger entry: mlledger show SEQ prints it, mlledger prove SEQ proves "
		"its inclusion in the checkpoint above. The JSON form of this report carries the "
		"same facts (reports/report.schema.json).");
	flush(ob, body);
}

/* ---- the document ----------------------------------------------------------- */

/* The document: the head is written whole, then the body's sections one by
 * one (flush); the html and body tags are fixed text. */
static void
document(xmlOutputBufferPtr ob, const json_t *model, const char *css, size_t css_len)
{
	xmlDocPtr doc = htmlNewDocNoDtD(NULL, NULL);
	xmlNodePtr html, head, body, sty;
	struct stream st;
	char title[400];

	if (!doc) {
		oom_flag = 1;
		return;
	}
	html = xmlNewNode(NULL, (const xmlChar *)"html");
	xmlDocSetRootElement(doc, html);
	head = el(html, "head", NULL);
	attr(el(head, "meta", NULL), "charset", "utf-8");
	{
		char gen[64];
		xmlNodePtr m = el(head, "meta", NULL);
		snprintf(gen, sizeof gen, "mlledger %s", jstr(model, "scope.tool.version"));
		attr(m, "name", "generator");
		attr(m, "content", gen);
	}
	snprintf(title, sizeof title, "Audit report: %s, %s to %s",
		 jstr(model, "scope.ledger.origin"), jstr(model, "scope.from"),
		 jstr(model, "scope.to"));
	el_text(head, "title", NULL, title);
	sty = el(head, "style", NULL);
	if (!xmlAddChild(sty, xmlNewTextLen((const xmlChar *)css, (int)css_len)))
		oom_flag = 1;
	body = el(html, "body", NULL);
	memset(&st, 0, sizeof st);
	st.ob = ob;
	st.body = body;
	doc->_private = &st;
	xmlOutputBufferWriteString(ob, "<!DOCTYPE html>\n<html lang=\"en\">\n");
	htmlNodeDumpFormatOutput(ob, doc, head, "UTF-8", 1);
	xmlOutputBufferWriteString(ob, "\n<body>\n");
	sections(ob, body, model);
	xmlOutputBufferWriteString(ob, "</body>\n</html>\n");
	if (st.tag)
		xmlOutputBufferClose(st.tag);
	ml_buf_free(&st.tagbuf);
	xmlFreeDoc(doc);
}

/* libxml2 output callback: hands the bytes to the caller's writer. */
struct sink {
	int (*write)(void *ctx, const void *bytes, size_t len);
	void *ctx;
	int failed;
};

static int
sink_out(void *ctx, const char *bytes, int len)
{
	struct sink *k = ctx;

	if (k->failed || k->write(k->ctx, bytes, (size_t)len) != 0) {
		k->failed = 1;
		return -1;
	}
	return len;
}

int
ml_report_html_to(const json_t *model, const char *css, size_t css_len,
		  int (*write)(void *ctx, const void *bytes, size_t len), void *ctx,
		  struct ml_err *e)
{
	struct sink k = {write, ctx, 0};
	xmlOutputBufferPtr ob;
	size_t i;

	if (!css)
		css = ml_report_default_css(&css_len);
	for (i = 0; i + 1 < css_len; i++)
		if (css[i] == '<' && css[i + 1] == '/')
			return ml_err_set(e, ML_EINPUT, "the stylesheet contains \"</\", which "
					  "would end its style element");
	if (css_len > INT32_MAX || memchr(css, '\0', css_len))
		return ml_err_set(e, ML_EINPUT, "the stylesheet is not text");
	oom_flag = 0;
	/* straight to the writer, section by section (and long sections piece
	 * by piece): neither the whole tree nor the whole document is held */
	ob = xmlOutputBufferCreateIO(sink_out, NULL, &k, NULL); /* UTF-8 in and out */
	if (ob) {
		document(ob, model, css, css_len);
		xmlOutputBufferClose(ob);
	}
	if (oom_flag)
		return ml_err_set(e, ML_EIO, "out of memory building the HTML report");
	return ob && !k.failed ? ML_OK : ml_err_set(e, ML_EIO, "out of memory writing HTML");
}

/* ml_report_html_to's writer into an ml_buf. */
static int
append_out(void *ctx, const void *bytes, size_t len)
{
	struct ml_buf *out = ctx;

	ml_buf_append(out, bytes, len);
	return out->oom ? -1 : 0;
}

int
ml_report_html(const json_t *model, const char *css, size_t css_len, struct ml_buf *out,
	       struct ml_err *e)
{
	return ml_report_html_to(model, css, css_len, append_out, out, e);
}

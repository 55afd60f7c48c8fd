/* report_svg — the report's timelines and metric charts (report_svg.h). */
#include "report_svg.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

/* ---- tree helpers (each sets *oom on failure) ---------------------------- */

static void
attr(xmlNodePtr n, const char *name, const char *value, int *oom)
{
	char *c = ml_report_clean(value, strlen(value));

	if (!c || !xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)c))
		*oom = 1;
	free(c);
}

static void
attrf(xmlNodePtr n, const char *name, double v, int *oom)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%.1f", v);
	attr(n, name, buf, oom);
}

/* A child element (on failure: parent, so the caller goes on; *oom set). */
static xmlNodePtr
el(xmlNodePtr parent, const char *name, const char *cls, int *oom)
{
	xmlNodePtr n = xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);

	if (!n) {
		*oom = 1;
		return parent;
	}
	if (cls)
		attr(n, "class", cls, oom);
	return n;
}

static xmlNodePtr
el_text(xmlNodePtr parent, const char *name, const char *cls, const char *s, int *oom)
{
	xmlNodePtr n = el(parent, name, cls, oom), t;
	char *c;

	if (!s)
		return n;
	if (!(c = ml_report_clean(s, strlen(s))) || !(t = xmlNewText((const xmlChar *)c)) ||
	    !xmlAddChild(n, t))
		*oom = 1;
	free(c);
	return n;
}

static xmlNodePtr
svg_new(xmlNodePtr parent, double w, double h, const char *title, int *oom)
{
	xmlNodePtr fig = el(parent, "figure", NULL, oom), svg = el(fig, "svg", NULL, oom);
	char vb[64];

	snprintf(vb, sizeof vb, "0 0 %.0f %.0f", w, h);
	attr(svg, "viewBox", vb, oom);
	attrf(svg, "width", w, oom);
	attrf(svg, "height", h, oom);
	attr(svg, "role", "img", oom);
	attr(svg, "aria-label", title, oom);
	el_text(svg, "title", NULL, title, oom);
	el_text(fig, "figcaption", NULL, title, oom);
	return svg;
}

static xmlNodePtr
line(xmlNodePtr svg, const char *cls, double x1, double y1, double x2, double y2, int *oom)
{
	xmlNodePtr l = el(svg, "line", cls, oom);

	attrf(l, "x1", x1, oom);
	attrf(l, "y1", y1, oom);
	attrf(l, "x2", x2, oom);
	attrf(l, "y2", y2, oom);
	return l;
}

static void
label(xmlNodePtr svg, double x, double y, const char *anchor, const char *s, int *oom)
{
	xmlNodePtr t = el_text(svg, "text", NULL, s, oom);

	attrf(t, "x", x, oom);
	attrf(t, "y", y, oom);
	if (anchor)
		attr(t, "text-anchor", anchor, oom);
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static int64_t
time_of(const json_t *o, const char *key)
{
	int64_t us = 0;
	const char *s = json_string_value(json_object_get(o, key));

	return s && ml_time_parse(s, &us) == 0 ? us : INT64_MIN;
}

/* x of time t on [left, left + w] for the period [from, to), clamped. */
static double
x_of(int64_t t, int64_t from, int64_t to, double left, double w)
{
	double f = (double)(t - from) / (double)(to - from);

	return left + (f < 0 ? 0 : f > 1 ? 1 : f) * w;
}

/* s cut to at most max bytes on a UTF-8 boundary, "..." added when cut. */
static void
short_label(const char *s, size_t max, char *out, size_t cap)
{
	size_t n = strlen(s);

	if (n <= max) {
		snprintf(out, cap, "%s", s);
		return;
	}
	while (n > max - 3 || (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80))
		n--;
	snprintf(out, cap, "%.*s...", (int)n, s);
}

/* ---- timelines ------------------------------------------------------------ */

/* One environment's timeline: a lane per version (the latest
 * ML_SVG_MAX_LANES by first deployment), a bar per deployment from its
 * time to its end (or the period's end while in service). */
static void
timeline(xmlNodePtr parent, const char *env, const json_t *deps, int64_t from, int64_t to,
	 const json_t *model, int *oom)
{
	double left = 170, w = 510, lane = 16, top = 8, h;
	json_t *lanes = json_object(), *d;
	const char *ref;
	char title[400], buf[600], lab[40];
	size_t i, n = 0, first = 0, skipped;
	xmlNodePtr svg, g;

	for (i = 0; i < json_array_size(deps); i++) {
		if (!(d = ml_report_row(deps, i))) { /* stowed: read back */
			*oom = 1;
			json_decref(lanes);
			return;
		}
		if (!strcmp(str(d, "environment"), env) && !json_object_get(lanes, str(d, "ref")))
			json_object_set_new(lanes, str(d, "ref"), json_integer((json_int_t)n++));
		json_decref(d);
	}
	if (n > ML_SVG_MAX_LANES)
		first = n - ML_SVG_MAX_LANES;
	skipped = first;
	h = top + lane * (double)(n - first) + 22;
	snprintf(title, sizeof title, "Versions in %s over the period (bars: deployed until "
		 "retired)", env);
	svg = svg_new(parent, left + w + 20, h, title, oom);
	d = NULL;
	for (i = 0; i < json_array_size(deps); i++) {
		size_t k;
		double y, x0, x1;
		xmlNodePtr r;
		json_decref(d); /* the row before (NULL at first) */
		if (!(d = ml_report_row(deps, i))) { /* stowed: read back */
			*oom = 1;
			break;
		}
		if (strcmp(str(d, "environment"), env))
			continue;
		k = (size_t)json_integer_value(json_object_get(lanes, str(d, "ref")));
		if (k < first)
			continue;
		y = top + lane * (double)(k - first);
		x0 = x_of(time_of(d, "time"), from, to, left, w);
		x1 = json_is_string(json_object_get(d, "end")) ? x_of(time_of(d, "end"), from, to,
								     left, w)
							      : left + w;
		g = el(svg, "g", NULL, oom);
		snprintf(buf, sizeof buf, "%s in %s: deployed at seq %lld (%s); %s", str(d, "ref"),
			 env, (long long)json_integer_value(json_object_get(d, "seq")),
			 str(d, "time"), str(d, "endReason"));
		el_text(g, "title", NULL, buf, oom);
		r = el(g, "rect", json_is_string(json_object_get(d, "end")) ? "bar" : "bar live", oom);
		attrf(r, "x", x0, oom);
		attrf(r, "y", y + 2, oom);
		attrf(r, "width", x1 - x0 > 2 ? x1 - x0 : 2, oom);
		attrf(r, "height", lane - 4, oom);
		if (!json_is_string(json_object_get(d, "end")))
			attr(r, "style", "fill:#2e7d4f", oom);
	}
	json_decref(d);
	json_object_foreach(lanes, ref, d) {
		size_t k = (size_t)json_integer_value(d);
		if (k < first)
			continue;
		short_label(ref, 28, lab, sizeof lab);
		label(svg, left - 6, top + lane * (double)(k - first) + lane - 4, "end", lab, oom);
	}
	line(svg, "axis", left, h - 20, left + w, h - 20, oom);
	label(svg, left, h - 6, "start", str(ml_report_get(model, "scope"), "from"), oom);
	label(svg, left + w, h - 6, "end", str(ml_report_get(model, "scope"), "to"), oom);
	if (skipped) {
		snprintf(buf, sizeof buf, "%zu earlier versions in %s are not drawn (the "
			 "deployments table lists them).", skipped, env);
		el_text(parent, "p", "none", buf, oom);
	}
	json_decref(lanes);
}

void
ml_report_svg_timelines(xmlNodePtr parent, const json_t *model, int *oom)
{
	const json_t *deps = ml_report_get(model, "inventory.deployments");
	int64_t from = time_of(ml_report_get(model, "scope"), "periodStart");
	int64_t to = time_of(ml_report_get(model, "scope"), "periodEnd") + 1000000;
	json_t *envs = json_object(), *x, *d;
	const char *env;
	size_t i, n = 0;
	char msg[200];

	if (from == INT64_MIN || to <= from) {
		json_decref(envs);
		return;
	}
	for (i = 0; i < json_array_size(deps); i++) {
		if (!(d = ml_report_row(deps, i))) { /* stowed: read back */
			*oom = 1;
			json_decref(envs);
			return;
		}
		if (*str(d, "environment"))
			json_object_set_new(envs, str(d, "environment"), json_true());
		json_decref(d);
	}
	json_object_foreach(envs, env, x)
		if (n++ < ML_SVG_MAX_ENVS)
			timeline(parent, env, deps, from, to, model, oom);
	if (n > ML_SVG_MAX_ENVS) {
		snprintf(msg, sizeof msg, "Timelines of %d of %zu environments are drawn; the "
			 "deployments table lists all.", ML_SVG_MAX_ENVS, n);
		el_text(parent, "p", "none", msg, oom);
	}
	json_decref(envs);
}

/* ---- metric charts --------------------------------------------------------- */

static void
widen(double v, double *lo, double *hi)
{
	*lo = v < *lo ? v : *lo;
	*hi = v > *hi ? v : *hi;
}

/* A metric's values over the period: dots and a line at the monitoring
 * entries' times, the approval-time value dashed, the threshold red. */
static void
trend(xmlNodePtr parent, const json_t *mon, const json_t *series, int64_t from, int64_t to,
      int *oom)
{
	json_t *pts = ml_report_points(series), *p;
	const json_t *base = json_object_get(series, "approvalValue");
	const json_t *thr = json_object_get(series, "threshold");
	double lo = INFINITY, hi = -INFINITY, left = 70, w = 600, top = 10, h = 80;
	char title[700], num[64];
	struct ml_buf path = {0};
	xmlNodePtr svg, pl, c;
	size_t i;

	if (!pts)
		*oom = 1; /* out of memory, or points that do not read back */
	json_array_foreach(pts, i, p)
		widen(json_number_value(json_object_get(p, "value")), &lo, &hi);
	if (json_is_number(base))
		widen(json_number_value(base), &lo, &hi);
	if (json_is_number(thr))
		widen(json_number_value(thr), &lo, &hi);
	if (!(hi - lo >= 1e-9))
		hi = lo + 1, lo = lo - 1;
	snprintf(title, sizeof title, "%s in %s: %s (dashed: at approval%s)", str(mon, "ref"),
		 str(mon, "environment"), str(series, "metric"),
		 json_is_number(thr) ? "; red: the policy's threshold" : "");
	svg = svg_new(parent, left + w + 20, top + h + 26, title, oom);
	line(svg, "axis", left, top + h, left + w, top + h, oom);
	line(svg, "axis", left, top, left, top + h, oom);
	snprintf(num, sizeof num, "%.4g", hi);
	label(svg, left - 6, top + 4, "end", num, oom);
	snprintf(num, sizeof num, "%.4g", lo);
	label(svg, left - 6, top + h, "end", num, oom);
	if (json_is_number(base)) {
		double y = top + h - (json_number_value(base) - lo) / (hi - lo) * h;
		line(svg, "approval", left, y, left + w, y, oom);
	}
	if (json_is_number(thr)) {
		double y = top + h - (json_number_value(thr) - lo) / (hi - lo) * h;
		xmlNodePtr g = el(svg, "g", NULL, oom), l;
		snprintf(title, sizeof title, "threshold %.4g (%s)", json_number_value(thr),
			 str(series, "thresholdSource"));
		el_text(g, "title", NULL, title, oom);
		l = line(g, "threshold", left, y, left + w, y, oom);
		attr(l, "stroke", "#b3261e", oom);
		attr(l, "stroke-width", "1.5", oom);
		snprintf(num, sizeof num, "limit %.4g", json_number_value(thr));
		label(svg, left + w - 4, y - 3, "end", num, oom);
	}
	json_array_foreach(pts, i, p) {
		double x = x_of(time_of(p, "time"), from, to, left, w);
		double y = top + h - (json_number_value(json_object_get(p, "value")) - lo) /
					     (hi - lo) * h;
		ml_buf_printf(&path, "%s%.1f,%.1f", i ? " " : "", x, y);
		c = el(svg, "circle", "dot", oom);
		attrf(c, "cx", x, oom);
		attrf(c, "cy", y, oom);
		attr(c, "r", "3", oom);
		snprintf(num, sizeof num, "seq %lld: %.6g",
			 (long long)json_integer_value(json_object_get(p, "seq")),
			 json_number_value(json_object_get(p, "value")));
		el_text(c, "title", NULL, num, oom);
	}
	ml_buf_append(&path, "", 1);
	if (path.oom)
		*oom = 1;
	pl = el(svg, "polyline", "line", oom);
	attr(pl, "points", path.oom ? "" : (const char *)path.data, oom);
	ml_buf_free(&path);
	label(svg, left, top + h + 16, "start", "period start", oom);
	label(svg, left + w, top + h + 16, "end", "period end", oom);
	json_decref(pts);
}

void
ml_report_svg_trends(xmlNodePtr parent, const json_t *model, int *oom)
{
	int64_t from = time_of(ml_report_get(model, "scope"), "periodStart");
	int64_t to = time_of(ml_report_get(model, "scope"), "periodEnd") + 1000000;
	json_t *rows = ml_report_get(model, "monitoring"), *m, *s;
	size_t i, j, n = 0, total = 0;
	int pass;
	char msg[200];

	if (from == INT64_MIN || to <= from)
		return;
	/* pass 0: the series with a threshold; pass 1: the others */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < json_array_size(rows); i++) {
			if (!(m = ml_report_row(rows, i))) { /* one read back at a time */
				*oom = 1;
				return;
			}
			json_array_foreach(json_object_get(m, "trend"), j, s) {
				int has = json_is_number(json_object_get(s, "threshold"));
				if (has != !pass || ml_report_points_empty(s))
					continue;
				total++;
				if (n < ML_SVG_MAX_TRENDS) {
					trend(parent, m, s, from, to, oom);
					n++;
				}
			}
			json_decref(m);
		}
	if (total > n) {
		snprintf(msg, sizeof msg, "%zu of %zu metric series are drawn (those with a policy "
			 "threshold first); the table below and the JSON report hold all of them.",
			 n, total);
		el_text(parent, "p", "none", msg, oom);
	}
}

/* Unit tests for report_svg: a timeline per environment with labelled bars
 * whose titles name the seqs, hostile text escaped (never markup), the
 * caps (lanes, environments, metric charts) with the line saying what is
 * left out, thresholds drawn first, reproducible bytes, and no external
 * reference. */
#include "testutil.h"

#include <libxml/HTMLtree.h>

#include "report_svg.h"
#include "util.h"

#define HOSTILE "x<script>alert(\"&\")</script>'"

static json_t *
deployment(const char *ref, const char *env, int seq, const char *time, const char *end)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:s?, s:s}", "ref", ref, "environment", env,
			 "seq", seq, "time", time, "end", end, "endReason",
			 end ? "retired: " HOSTILE : "in service");
}

/* A model with the scope of Q4 2026 and deployments deps (stolen). */
static json_t *
model_with(json_t *deps, json_t *monitoring)
{
	return json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:o}, s:o}", "scope", "from", "2026-10-01",
			 "to", "2026-12-31", "periodStart", "2026-10-01T00:00:00Z", "periodEnd",
			 "2026-12-31T23:59:59Z", "inventory", "deployments", deps, "monitoring",
			 monitoring ? monitoring : json_array());
}

/* The HTML of what fn draws for model, malloc'd. */
static char *
render(const json_t *model, int trends)
{
	htmlDocPtr doc = htmlNewDocNoDtD(NULL, NULL);
	xmlNodePtr root = xmlNewDocNode(doc, NULL, (const xmlChar *)"div", NULL);
	xmlBufferPtr b = xmlBufferCreate();
	char *out;
	int oom = 0;

	xmlDocSetRootElement(doc, root);
	if (trends)
		ml_report_svg_trends(root, model, &oom);
	else
		ml_report_svg_timelines(root, model, &oom);
	assert_int_equal(oom, 0);
	htmlNodeDump(b, doc, root);
	out = strdup((const char *)xmlBufferContent(b));
	xmlBufferFree(b);
	xmlFreeDoc(doc);
	return out;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static void
test_timeline_per_env(void **state)
{
	json_t *deps = json_array(), *m;
	char *h, *h2;

	(void)state;
	json_array_append_new(deps, deployment("fraud@1.0", "prod", 13, "2026-10-05T00:00:00Z",
					       "2026-11-10T00:00:00Z"));
	json_array_append_new(deps, deployment("fraud@1.1", "prod", 25, "2026-11-10T00:00:00Z", NULL));
	json_array_append_new(deps, deployment("risk@2.0", "staging", 24, "2026-11-02T00:00:00Z", NULL));
	m = model_with(deps, NULL);
	h = render(m, 0);
	assert_int_equal(count(h, "<svg"), 2);
	assert_non_null(strstr(h, "Versions in prod over the period"));
	assert_non_null(strstr(h, "Versions in staging over the period"));
	assert_non_null(strstr(h, ">fraud@1.0</text>"));
	assert_non_null(strstr(h, ">fraud@1.1</text>"));
	assert_non_null(strstr(h, ">risk@2.0</text>"));
	assert_non_null(strstr(h, "fraud@1.0 in prod: deployed at seq 13"));
	assert_non_null(strstr(h, "fraud@1.1 in prod: deployed at seq 25"));
	/* the hostile end reason: escaped text, never an element */
	assert_null(strstr(h, "<script"));
	assert_non_null(strstr(h, "x&lt;script&gt;alert("));
	assert_non_null(strstr(h, "&amp;"));
	/* the bar of fraud@1.0 ends where fraud@1.1's begins */
	assert_int_equal(count(h, "<rect"), 3);
	assert_int_equal(count(h, "class=\"bar live\""), 2);
	/* no reference outside the document */
	assert_null(strstr(h, "href"));
	assert_null(strstr(h, "url("));
	assert_null(strstr(h, "http"));
	/* the same model, the same bytes */
	h2 = render(m, 0);
	assert_string_equal(h, h2);
	free(h);
	free(h2);
	json_decref(m);
}

static void
test_caps(void **state)
{
	json_t *deps = json_array(), *m;
	char ref[32], env[16], *h;
	int i;

	(void)state;
	for (i = 0; i < 13; i++) { /* 13 versions in prod: the latest 10 drawn */
		snprintf(ref, sizeof ref, "m@%d", i);
		json_array_append_new(deps, deployment(ref, "prod", 10 + i, "2026-10-05T00:00:00Z",
						       "2026-10-06T00:00:00Z"));
	}
	for (i = 0; i < 7; i++) { /* 8 environments in all: 6 drawn */
		snprintf(env, sizeof env, "e%d", i);
		json_array_append_new(deps, deployment("m@0", env, 40 + i, "2026-11-01T00:00:00Z", NULL));
	}
	m = model_with(deps, NULL);
	h = render(m, 0);
	assert_int_equal(count(h, "<svg"), ML_SVG_MAX_ENVS);
	assert_non_null(strstr(h, "Timelines of 6 of 8 environments are drawn"));
	assert_non_null(strstr(h, "3 earlier versions in prod are not drawn"));
	assert_null(strstr(h, ">m@2</text>"));
	assert_non_null(strstr(h, ">m@3</text>"));
	assert_non_null(strstr(h, ">m@12</text>"));
	free(h);
	json_decref(m);
}

static json_t *
series(const char *metric, double thr, int with_thr)
{
	json_t *s = json_pack("{s:s, s:f, s:[{s:i, s:s, s:f}, {s:i, s:s, s:f}]}", "metric", metric,
			      "approvalValue", 0.91, "points", "seq", 27, "time",
			      "2026-11-12T00:00:00Z", "value", 0.90, "seq", 28, "time",
			      "2026-11-20T00:00:00Z", "value", 0.87);

	if (with_thr) {
		json_object_set_new(s, "threshold", json_real(thr));
		json_object_set_new(s, "thresholdSource", json_string("monitoring@1.0 " HOSTILE));
	}
	return s;
}

static void
test_trends_threshold_first(void **state)
{
	json_t *mon = json_array(), *row, *tr, *m;
	char *h, *first_thr, *first_chart;
	int i;

	(void)state;
	row = json_pack("{s:s, s:s, s:[]}", "ref", "fraud@1.1", "environment", "prod", "trend");
	tr = json_object_get(row, "trend");
	for (i = 0; i < 7; i++) /* 7 without a threshold first in the model */
		json_array_append_new(tr, series("latency_ms", 0, 0));
	json_array_append_new(tr, series("auc", 0.89, 1));
	json_array_append_new(mon, row);
	m = model_with(json_array(), mon);
	h = render(m, 1);
	assert_int_equal(count(h, "<svg"), ML_SVG_MAX_TRENDS);
	assert_non_null(strstr(h, "6 of 8 metric series are drawn"));
	first_chart = strstr(h, "<svg");
	first_thr = strstr(h, "class=\"threshold\"");
	assert_non_null(first_thr);
	/* the series with the threshold is the first chart */
	assert_true(first_thr < strstr(first_chart + 1, "<svg"));
	assert_non_null(strstr(h, "fraud@1.1 in prod: auc"));
	assert_non_null(strstr(h, "limit 0.89"));
	assert_null(strstr(h, "<script"));
	assert_non_null(strstr(h, "threshold 0.89 (monitoring@1.0 x&lt;script&gt;"));
	assert_int_equal(count(h, "class=\"threshold\""), 1);
	free(h);
	json_decref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeline_per_env),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_trends_threshold_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

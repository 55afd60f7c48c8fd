/* Unit tests for report.h's model (ml_report_build), on a small ledger made
 * through the library: the summary counts, the period cut (a deployment
 * dated before the period is not one of the period's), a waived finding
 * naming who waived it, and that two builds with the same options give
 * byte-identical JSON (ml_report_json), also when the model is made in an
 * arena (report.h: dropped with it; under valgrind or ASan a statement
 * value kept in it without a copy would be a leak); a bad period is
 * refused; a model whose long tables are stowed in a spool (report.h, as
 * `report` builds it) gives every format the bytes of the model built in
 * memory, with its findings in their order. */
#include "testutil.h"
#include "testledger.h"

#include "arena.h"
#include "jsonarena.h"
#include "report.h"
#include "report_html.h"
#include "report_text.h"
#include "spool.h"

struct fx {
	char dir[256], path[300], policy[300];
	struct ml_seckey *admin, *ci, *alice, *rita;
	int64_t as_of;                  /* after every append */
	int jobs;                       /* build's workers: 2 unless a test says */
	struct ml_arena *arena;         /* the model's arena, or NULL (malloc) */
};

static const char policy_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<policy xmlns=\"https://mlledger.dev/policy/v1\" id=\"unit-report\" version=\"1\">\n"
	"  <waivers><waivable rule=\"R-FAIL\" role=\"risk-officer\"/></waivers>\n"
	"  <rule id=\"R-PASS\" severity=\"deny\" context=\"/ev:evidence\">\n"
	"    <title>a candidate</title>\n"
	"    <assert test=\"ev:candidate\">no candidate</assert>\n"
	"  </rule>\n"
	"  <rule id=\"R-FAIL\" severity=\"deny\" context=\"/ev:evidence\">\n"
	"    <title>never holds</title>\n"
	"    <assert test=\"false()\">always fails</assert>\n"
	"  </rule>\n"
	"</policy>\n";

/* Entries: 0 genesis, 1-3 enrol ci, alice, rita, 4 dataset (2026-09-01),
 * 5-6 models fraud@0.9 (09-02) and fraud@1.0 (10-02), 7 deployment of 0.9
 * (09-15, before the period), 8 rita's waiver of R-FAIL for 1.0 (10-05),
 * 9 deployment of 1.0 (10-10).  Author times are backdated: the report
 * warns of that, which these tests do not look at. */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	FILE *fp;

	assert_non_null(f);
	tu_tmpdir(f->dir, sizeof f->dir);
	snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
	snprintf(f->policy, sizeof f->policy, "%s/policy.xml", f->dir);
	assert_non_null(fp = fopen(f->policy, "w"));
	fputs(policy_xml, fp);
	assert_int_equal(fclose(fp), 0);
	f->admin = tl_key("admin", 1);
	f->ci = tl_key("ci", 3);
	f->alice = tl_key("alice", 2);
	f->rita = tl_key("rita", 5);
	tl_init(f->path, f->admin);
	tl_enrol(f->path, f->admin, f->ci, "engineer", NULL);
	tl_enrol(f->path, f->admin, f->alice, "approver", NULL);
	tl_enrol(f->path, f->admin, f->rita, "risk-officer", NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "dataset", "subject",
					"cb@2026-09", "digest", TL_D1, "time",
					"2026-09-01T00:00:00Z"), NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:[s],s:s}", "kind", "model", "subject",
					"fraud@0.9", "digest", TL_D2, "datasets", "cb@2026-09",
					"time", "2026-09-02T00:00:00Z"), NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:[s],s:s}", "kind", "model", "subject",
					"fraud@1.0", "digest",
					"sha256:3333333333333333333333333333333333333333333333333333333333333333",
					"datasets", "cb@2026-09", "time", "2026-10-02T00:00:00Z"),
	      NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "deployment", "subject",
					"fraud@0.9", "environment", "prod", "time",
					"2026-09-15T00:00:00Z"), NULL);
	tl_ok(f->path, f->rita, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "waiver",
					  "subject", "fraud@1.0", "rule", "R-FAIL", "expires",
					  "2099-12-31", "reason", "under review", "time",
					  "2026-10-05T00:00:00Z"), NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "deployment", "subject",
					"fraud@1.0", "environment", "prod", "time",
					"2026-10-10T00:00:00Z"), NULL);
	f->as_of = ml_now_us() + 1000000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tu_rmtree(f->dir);
	ml_seckey_free(f->admin);
	ml_seckey_free(f->ci);
	ml_seckey_free(f->alice);
	ml_seckey_free(f->rita);
	free(f);
	return 0;
}

static int
build(struct fx *f, const char *from, const char *to, json_t **m, struct ml_err *e)
{
	const char *pol[] = {f->policy};
	struct ml_report_opts o;
	struct ml_ledger *l;
	char t[40];
	int rc;

	memset(&o, 0, sizeof o);
	o.policies = pol;
	o.npolicies = 1;
	o.from = from;
	o.to = to;
	snprintf(t, sizeof t, "%sT00:00:00Z", from);
	assert_int_equal(ml_time_parse(t, &o.from_us), 0);
	snprintf(t, sizeof t, "%sT00:00:00Z", to);
	assert_int_equal(ml_time_parse(t, &o.to_us), 0);
	o.to_us += 86400 * (int64_t)1000000; /* the end of the last day */
	o.as_of_us = f->as_of;
	assert_int_equal(ml_time_parse("2026-11-02T00:00:00Z", &o.generated_us), 0);
	o.jobs = f->jobs ? f->jobs : 2;
	o.tool_version = "unit";
	o.arena = f->arena;
	ml_err_clear(e);
	assert_int_equal(ml_ledger_open(f->path, 0, &l, e), ML_OK);
	rc = ml_report_build(l, &o, m, e);
	ml_ledger_close(l);
	return rc;
}

static json_int_t
num(const json_t *m, const char *a, const char *b, const char *c)
{
	const json_t *x = json_object_get(json_object_get(m, a), b);

	if (c)
		x = json_object_get(x, c);
	if (!json_is_integer(x))
		fail_msg("%s.%s%s%s is not an integer", a, b, c ? "." : "", c ? c : "");
	return json_integer_value(x);
}

static json_t *
finding(const json_t *m, const char *subject, const char *rule)
{
	json_t *items = json_object_get(json_object_get(m, "findings"), "items"), *it;
	size_t i;

	json_array_foreach(items, i, it) {
		if (!strcmp(json_string_value(json_object_get(it, "subject")), subject) &&
		    !strcmp(json_string_value(json_object_get(it, "ruleId")), rule))
			return it;
	}
	fail_msg("no finding %s for %s", rule, subject);
	return NULL;
}

/* Two versions live in October, so both are evaluated: R-PASS passes for
 * both, R-FAIL fails for 0.9 and is waived by rita for 1.0. */
static void
test_summary_counts(void **state)
{
	struct fx *f = *state;
	struct ml_err e;
	json_t *m = NULL;

	if (build(f, "2026-10-01", "2026-10-31", &m, &e) != ML_OK)
		fail_msg("build: %s", e.msg);
	assert_int_equal(num(m, "findings", "summary", "findings"), 4);
	assert_int_equal(num(m, "findings", "summary", "pass"), 2);
	assert_int_equal(num(m, "findings", "summary", "fail"), 1);
	assert_int_equal(num(m, "findings", "summary", "waived"), 1);
	assert_int_equal(num(m, "findings", "summary", "indeterminate"), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
				json_object_get(m, "findings"), "summary"), "failedBySeverity"), "deny")),
			 1);
	assert_int_equal(num(m, "summary", "findings", "deny"), 1);
	assert_int_equal(num(m, "summary", "findings", "waived"), 1);
	assert_int_equal(num(m, "summary", "waivers", "active"), 1);
	assert_int_equal(num(m, "summary", "waivers", "expired"), 0);
	assert_false(json_is_true(json_object_get(json_object_get(m, "summary"), "clean")));
	assert_int_equal(num(m, "integrity", "entries", NULL), 10);
	assert_true(json_is_true(json_object_get(json_object_get(m, "integrity"), "ok")));
	assert_int_equal(num(m, "integrity", "keysEnrolled", NULL), 3);
	json_decref(m);
}

/* The period cut: in October the deployment of 1.0 (10-10) is the only
 * one in the period, entries 6, 8 and 9 the ones dated in it; from 10-11
 * on, none; in September, the deployment of 0.9 and entries 4, 5 and 7. */
static void
test_period_cut(void **state)
{
	struct fx *f = *state;
	struct ml_err e;
	json_t *m = NULL, *dep;

	if (build(f, "2026-10-01", "2026-10-31", &m, &e) != ML_OK)
		fail_msg("build: %s", e.msg);
	assert_int_equal(num(m, "summary", "deployments", "inPeriod"), 1);
	dep = json_object_get(json_object_get(json_object_get(m, "summary"), "deployments"),
			      "notGated");
	assert_int_equal(json_array_size(dep), 1);
	assert_int_equal(json_integer_value(json_array_get(dep, 0)), 9);
	assert_int_equal(num(m, "scope", "ledger", "entriesConsidered"), 10);
	assert_int_equal(num(m, "scope", "ledger", "entriesInPeriod"), 3);
	assert_int_equal(num(m, "scope", "ledger", "firstSeq"), 6);
	assert_int_equal(num(m, "scope", "ledger", "lastSeq"), 9);
	json_decref(m);

	if (build(f, "2026-10-11", "2026-10-31", &m, &e) != ML_OK)
		fail_msg("build: %s", e.msg);
	assert_int_equal(num(m, "summary", "deployments", "inPeriod"), 0);
	assert_int_equal(num(m, "scope", "ledger", "entriesInPeriod"), 0);
	json_decref(m);

	if (build(f, "2026-09-01", "2026-09-30", &m, &e) != ML_OK)
		fail_msg("build: %s", e.msg);
	assert_int_equal(num(m, "summary", "deployments", "inPeriod"), 1);
	assert_int_equal(num(m, "scope", "ledger", "entriesInPeriod"), 3);
	assert_int_equal(num(m, "scope", "ledger", "firstSeq"), 4);
	assert_int_equal(num(m, "scope", "ledger", "lastSeq"), 7);
	json_decref(m);
}

static void
test_waiver_person(void **state)
{
	struct fx *f = *state;
	struct ml_err e;
	json_t *m = NULL, *w;

	if (build(f, "2026-10-01", "2026-10-31", &m, &e) != ML_OK)
		fail_msg("build: %s", e.msg);
	assert_string_equal(json_string_value(json_object_get(finding(m, "fraud@1.0", "R-FAIL"),
							      "outcome")), "waived");
	w = json_object_get(finding(m, "fraud@1.0", "R-FAIL"), "waiver");
	assert_string_equal(json_string_value(json_object_get(w, "by")), "rita");
	assert_int_equal(json_integer_value(json_object_get(w, "seq")), 8);
	assert_string_equal(json_string_value(json_object_get(w, "expires")), "2099-12-31");
	assert_string_equal(json_string_value(json_object_get(w, "reason")), "under review");
	assert_non_null(strstr(json_string_value(json_object_get(w, "authorKey")), "rita+"));
	/* the same rule for 0.9 is not waived: the waiver names 1.0 */
	assert_string_equal(json_string_value(json_object_get(finding(m, "fraud@0.9", "R-FAIL"),
							      "outcome")), "fail");
	assert_true(json_is_null(json_object_get(finding(m, "fraud@0.9", "R-FAIL"), "waiver")));
	json_decref(m);
}

/* Output is a function of the ledger and the options: two builds (with
 * different numbers of workers) give the same bytes. */
static void
test_reproducible(void **state)
{
	struct fx *f = *state;
	struct ml_buf a = {0}, b = {0};
	struct ml_err e;
	json_t *m = NULL;

	if (build(f, "2026-10-01", "2026-10-31", &m, &e) != ML_OK)
		fail_msg("build: %s", e.msg);
	assert_int_equal(ml_report_json(m, &a, &e), ML_OK);
	json_decref(m);
	f->jobs = 1;
	if (build(f, "2026-10-01", "2026-10-31", &m, &e) != ML_OK)
		fail_msg("build: %s", e.msg);
	assert_int_equal(ml_report_json(m, &b, &e), ML_OK);
	json_decref(m);
	assert_false(a.oom || b.oom);
	assert_true(a.len > 1000);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	ml_buf_free(&a);
	ml_buf_free(&b);
}

/* The model made in an arena (as `report` makes it) is the model made on
 * malloc, byte for byte, and is dropped with the arena. */
static void
test_arena_model(void **state)
{
	struct fx *f = *state;
	struct ml_buf a = {0}, b = {0};
	struct ml_err e;
	json_t *m = NULL;

	if (build(f, "2026-09-01", "2026-10-31", &m, &e) != ML_OK)
		fail_msg("build: %s", e.msg);
	assert_int_equal(ml_report_json(m, &a, &e), ML_OK);
	json_decref(m);
	assert_non_null(f->arena = ml_arena_new(4096));
	if (build(f, "2026-09-01", "2026-10-31", &m, &e) != ML_OK)
		fail_msg("build in an arena: %s", e.msg);
	assert_true(ml_arena_owns(f->arena, m));
	assert_true(ml_arena_owns(f->arena, json_object_get(m, "inventory")));
	assert_int_equal(ml_report_json(m, &b, &e), ML_OK);
	ml_jsonarena_set(NULL, 0);
	ml_arena_free(f->arena); /* the model: no json_decref */
	f->arena = NULL;
	assert_false(a.oom || b.oom);
	assert_true(a.len > 1000);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	ml_buf_free(&a);
	ml_buf_free(&b);
}

/* A second policy: a rule that fails (waivable, at warn), one that cannot
 * be evaluated (its context is not a node-set: indeterminate), and an
 * info rule that fails, with controls in two frameworks. */
static const char policy2_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<policy xmlns=\"https://mlledger.dev/policy/v1\" id=\"unit-report-2\" version=\"1\">\n"
	"  <waivers><waivable rule=\"R-WARN\" role=\"risk-officer\"/></waivers>\n"
	"  <rule id=\"R-WARN\" severity=\"warn\" context=\"/ev:evidence\">\n"
	"    <title>warns</title>\n"
	"    <control framework=\"FW-A\" ref=\"1.1\"/>\n"
	"    <control framework=\"FW-B\" ref=\"2\"/>\n"
	"    <assert test=\"false()\">a warning</assert>\n"
	"  </rule>\n"
	"  <rule id=\"R-ODD\" severity=\"deny\" context=\"1\">\n"
	"    <title>cannot be evaluated</title>\n"
	"    <control framework=\"FW-A\" ref=\"1.2\"/>\n"
	"    <assert test=\"true()\">never reached</assert>\n"
	"  </rule>\n"
	"  <rule id=\"R-INFO\" severity=\"info\" context=\"/ev:evidence\">\n"
	"    <title>for information</title>\n"
	"    <control framework=\"FW-B\" ref=\"3\"/>\n"
	"    <assert test=\"false()\">noted</assert>\n"
	"  </rule>\n"
	"</policy>\n";

/* Every format of model m, one after another, into out: JSON, HTML and
 * Markdown under both details, and every CSV table. */
static void
all_formats(const json_t *m, struct ml_buf *out)
{
	const struct ml_report_table *t;
	struct ml_err e;
	size_t i, n;
	int d;

	assert_int_equal(ml_report_json(m, out, &e), ML_OK);
	for (d = ML_REPORT_DETAIL_SUMMARY; d <= ML_REPORT_DETAIL_ALL; d++) {
		if (ml_report_html(m, NULL, 0, (enum ml_report_detail)d, out, &e) != ML_OK)
			fail_msg("html: %s", e.msg);
		if (ml_report_markdown(m, (enum ml_report_detail)d, out, &e) != ML_OK)
			fail_msg("markdown: %s", e.msg);
	}
	t = ml_report_tables(&n);
	for (i = 0; i < n; i++) {
		ml_buf_printf(out, "== %s.csv\n", t[i].name);
		if (ml_report_csv(m, &t[i], out, &e) != ML_OK)
			fail_msg("csv %s: %s", t[i].name, e.msg);
	}
	assert_false(out->oom);
}

/* The findings of the two policies for both versions (0.9 then 1.0, in
 * deployment order; per version the policies in order, per policy its
 * rules in order): as of 2099-06-01, rita's waiver of R-WARN for 0.9 has
 * expired (the finding fails and names it), hers for 1.0 is in force. */
static const char *const want_items[][3] = {
	{"fraud@0.9", "R-PASS", "pass"},          {"fraud@0.9", "R-FAIL", "fail"},
	{"fraud@0.9", "R-WARN", "fail"},          {"fraud@0.9", "R-ODD", "indeterminate"},
	{"fraud@0.9", "R-INFO", "fail"},          {"fraud@1.0", "R-PASS", "pass"},
	{"fraud@1.0", "R-FAIL", "waived"},        {"fraud@1.0", "R-WARN", "waived"},
	{"fraud@1.0", "R-ODD", "indeterminate"}, {"fraud@1.0", "R-INFO", "fail"},
};

/* The model's findings.items, read back one at a time, are want_items. */
static void
assert_items(const json_t *m)
{
	const json_t *items = ml_report_get(m, "findings.items");
	size_t i, n = sizeof want_items / sizeof want_items[0];
	json_t *it, *w;

	assert_int_equal(json_array_size(items), n);
	for (i = 0; i < n; i++) {
		assert_non_null(it = ml_report_row(items, i));
		assert_string_equal(json_string_value(json_object_get(it, "subject")),
				    want_items[i][0]);
		assert_string_equal(json_string_value(json_object_get(it, "ruleId")),
				    want_items[i][1]);
		assert_string_equal(json_string_value(json_object_get(it, "outcome")),
				    want_items[i][2]);
		w = json_object_get(it, "waiver");
		if (!strcmp(want_items[i][1], "R-WARN")) {
			assert_true(json_is_true(json_object_get(w, "expired")) == (i < 5));
			assert_string_equal(json_string_value(json_object_get(w, "by")), "rita");
		}
		json_decref(it);
	}
}

/* The history test_spool_history_same_bytes records, as the model shows
 * it: 0.9 retired from staging in the period, 1.0's first staging row
 * ended by its redeployment, the incident in the inventory. */
static void
assert_history(const json_t *m)
{
	const json_t *deps = ml_report_get(m, "inventory.deployments");
	json_t *d, *x = ml_report_row(ml_report_get(m, "inventory.retirements"), 0);
	size_t i, redeployed = 0, retired = 0;

	assert_non_null(x);
	assert_string_equal(json_string_value(json_object_get(x, "ref")), "fraud@0.9");
	json_decref(x);
	assert_int_equal(json_array_size(ml_report_get(m, "inventory.retirements")), 1);
	assert_int_equal(json_array_size(ml_report_get(m, "inventory.incidents")), 1);
	for (i = 0; i < json_array_size(deps); i++) {
		const char *why;
		assert_non_null(d = ml_report_row(deps, i));
		assert_null(json_object_get(d, "_t")); /* stripped, stowed or not */
		assert_null(json_object_get(d, "_end"));
		why = json_string_value(json_object_get(d, "endReason"));
		redeployed += why && !strncmp(why, "redeployed:", 11);
		retired += why && !strncmp(why, "retired:", 8);
		json_decref(d);
	}
	assert_int_equal(redeployed, 1);
	assert_int_equal(retired, 1);
}

/* Builds the report of f's ledger under o twice, in memory with nothing
 * stowed and, as `report` builds it, in an arena with the long tables and
 * the builder's entries stowed in a spool; asserts the second holds
 * handles and that every format gives the same bytes.  check (NULL: none)
 * is run on both models. */
static void
same_bytes_both_ways(struct fx *f, struct ml_report_opts *o, void (*check)(const json_t *m))
{
	struct ml_buf a = {0}, b = {0};
	struct ml_spool *sp = NULL;
	struct ml_ledger *l;
	struct ml_err e;
	json_t *m = NULL;
	size_t i;

	/* in memory: nothing stowed */
	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	if (ml_report_build(l, o, &m, &e) != ML_OK)
		fail_msg("build: %s", e.msg);
	ml_ledger_close(l);
	assert_true(json_is_object(json_array_get(ml_report_get(m, "findings.items"), 0)));
	if (check)
		check(m);
	all_formats(m, &a);
	json_decref(m);

	/* stowed, in an arena */
	assert_int_equal(ml_spool_open(f->dir, &sp, &e), ML_OK);
	assert_null(ml_report_spool_set(sp));
	assert_non_null(o->arena = ml_arena_new(4096));
	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	if (ml_report_build(l, o, &m, &e) != ML_OK)
		fail_msg("build with a spool: %s", e.msg);
	ml_ledger_close(l);
	assert_true(json_is_integer(json_array_get(ml_report_get(m, "findings.items"), 0)));
	assert_true(json_is_integer(json_array_get(ml_report_get(m, "chains"), 0)));
	assert_true(json_is_integer(json_array_get(ml_report_get(m, "inventory.deployments"), 0)));
	assert_true(json_is_integer(json_array_get(ml_report_get(m, "inventory.models"), 0)));
	assert_true(json_is_integer(json_array_get(ml_report_get(m, "monitoring"), 0)));
	for (i = 0; i < json_array_size(ml_report_get(m, "inventory.retirements")); i++)
		assert_true(json_is_integer(json_array_get(ml_report_get(m,
							"inventory.retirements"), i)));
	if (check)
		check(m);
	all_formats(m, &b);
	ml_jsonarena_set(NULL, 0);
	ml_arena_free(o->arena); /* the model: no json_decref */
	assert_ptr_equal(ml_report_spool_set(NULL), sp);
	ml_spool_close(sp);

	assert_true(a.len > 10000);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	ml_buf_free(&a);
	ml_buf_free(&b);
}


/* The model with its long tables (chains, comparisons, monitoring,
 * findings.items) stowed in a spool and built in an arena, as `report`
 * builds it, gives every format the bytes of the model built on malloc
 * with nothing stowed; the findings stowed are handles in the model, and
 * both hold every finding in its order. */
static void
test_spool_same_bytes(void **state)
{
	struct fx *f = *state;
	const char *pol[2];
	struct ml_report_opts o;
	char p2[300];
	FILE *fp;

	snprintf(p2, sizeof p2, "%s/policy2.xml", f->dir);
	assert_non_null(fp = fopen(p2, "w"));
	fputs(policy2_xml, fp);
	assert_int_equal(fclose(fp), 0);
	tl_ok(f->path, f->rita, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "waiver",
					  "subject", "fraud@0.9", "rule", "R-WARN", "expires",
					  "2098-12-31", "reason", "old exception", "time",
					  "2026-10-05T00:00:00Z"), NULL);
	tl_ok(f->path, f->rita, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "waiver",
					  "subject", "fraud@1.0", "rule", "R-WARN", "expires",
					  "2099-12-31", "reason", "accepted", "time",
					  "2026-10-06T00:00:00Z"), NULL);
	pol[0] = f->policy;
	pol[1] = p2;
	memset(&o, 0, sizeof o);
	o.policies = pol;
	o.npolicies = 2;
	o.from = "2026-09-01";
	o.to = "2026-10-31";
	assert_int_equal(ml_time_parse("2026-09-01T00:00:00Z", &o.from_us), 0);
	assert_int_equal(ml_time_parse("2026-11-01T00:00:00Z", &o.to_us), 0);
	/* as of a time after the one waiver's end, before the other's */
	assert_int_equal(ml_time_parse("2099-06-01T00:00:00Z", &o.as_of_us), 0);
	assert_int_equal(ml_time_parse("2026-11-02T00:00:00Z", &o.generated_us), 0);
	o.jobs = 2;
	o.tool_version = "unit";

	same_bytes_both_ways(f, &o, assert_items);
}

/* The same, over a history the spool holds besides the findings:
 * monitoring checks (the scan's entries), an incident (held, shared with
 * the inventory), a deployment retired in the period and a version
 * deployed twice in one environment (its first row ends "redeployed:"). */
static void
test_spool_history_same_bytes(void **state)
{
	struct fx *f = *state;
	const char *pol[1] = {f->policy};
	struct ml_report_opts o;

	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "deployment", "subject",
					"fraud@0.9", "environment", "staging", "time",
					"2026-09-20T00:00:00Z"), NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:{s:f},s:s}", "kind", "monitoring",
					"subject", "fraud@0.9", "environment", "staging", "metrics",
					"auc", 0.88, "time", "2026-09-25T00:00:00Z"), NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "retirement", "subject",
					"fraud@0.9", "environment", "staging", "reason", "superseded",
					"time", "2026-10-08T00:00:00Z"), NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "deployment", "subject",
					"fraud@1.0", "environment", "staging", "time",
					"2026-10-11T00:00:00Z"), NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "deployment", "subject",
					"fraud@1.0", "environment", "staging", "time",
					"2026-10-12T00:00:00Z"), NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:{s:f},s:s}", "kind", "monitoring",
					"subject", "fraud@1.0", "environment", "prod", "metrics",
					"auc", 0.9, "time", "2026-10-15T00:00:00Z"), NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "incident", "subject",
					"fraud@1.0", "severity", "low", "description", "drift",
					"time", "2026-10-16T00:00:00Z"), NULL);
	memset(&o, 0, sizeof o);
	o.policies = pol;
	o.npolicies = 1;
	o.from = "2026-09-01";
	o.to = "2026-10-31";
	assert_int_equal(ml_time_parse("2026-09-01T00:00:00Z", &o.from_us), 0);
	assert_int_equal(ml_time_parse("2026-11-01T00:00:00Z", &o.to_us), 0);
	assert_int_equal(ml_time_parse("2099-06-01T00:00:00Z", &o.as_of_us), 0);
	assert_int_equal(ml_time_parse("2026-11-02T00:00:00Z", &o.generated_us), 0);
	o.jobs = 2;
	o.tool_version = "unit";
	same_bytes_both_ways(f, &o, assert_history);
}

static void
test_bad_period(void **state)
{
	struct fx *f = *state;
	struct ml_err e;
	json_t *m = NULL;

	assert_int_equal(build(f, "2026-10-31", "2026-10-01", &m, &e), ML_EINPUT);
	assert_null(m);
	assert_true(e.msg[0] != '\0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_summary_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_period_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiver_person, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reproducible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arena_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_history_same_bytes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

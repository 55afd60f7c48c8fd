/* Unit tests for policy: policies/production.xml against hand-written
 * evidence fixtures (tests/data/policy/ev-*.xml), every rule's pass and fail
 * paths, waivers (valid, expired, wrong role, never waivable, other subject,
 * recorded after as-of), params, phases, combining algorithms, runtime
 * errors (indeterminate: operation limit, bad date, wrong type, failed let),
 * the custom functions (functions.xml), load-time binding of every name (a
 * table of broken policies), secure parsing (XXE, external DTD, parameter
 * entities, billion laughs, XInclude, huge file, deep nesting), schema
 * errors naming the line, and that repeated evaluations of ~100 entries agree. */
#include "testutil.h"

#include <time.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlIO.h>

#include "findings.h"
#include "policy.h"
#include "policy_int.h"
#include "util.h"

/* ---- helpers ----------------------------------------------------------- */

static const char *
data_dir(void)
{
	const char *d = getenv("MLLEDGER_TEST_DATA");

	return d && *d ? d : "tests/data";
}

static void
fixture(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/policy/%s", data_dir(), name);
}

static void
production(char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/../../policies/production.xml", data_dir());
}

static struct ml_policyset *
load_params(const char *path, const char *const *params, size_t n)
{
	struct ml_policyset *p = NULL;
	struct ml_err e;
	int rc;

	ml_err_clear(&e);
	rc = ml_policyset_load(path, params, n, &p, &e);
	if (rc)
		fprintf(stderr, "load %s: %d %s\n", path, rc, e.msg);
	assert_int_equal(rc, ML_OK);
	assert_non_null(p);
	return p;
}

/* The shipped production.xml has no freeze windows (an organisation adds
 * its own, policies/README.md): these tests load it with the windows the
 * fixtures of 2026-12-28 were written against, as a data override. */
static struct ml_policyset *
load_production(const char *const *params, size_t n)
{
	static const char windows[] =
		"<data><item from='2026-12-21' to='2027-01-04' env='prod' reason='year-end change freeze'/>"
		"<item from='2027-03-29' to='2027-03-31' reason='quarter-end close'/></data>";
	struct ml_policy_data_override d = {"freeze-windows", NULL};
	struct ml_policy_opts o;
	struct ml_policyset *p = NULL;
	struct ml_err e;
	char path[4096];
	xmlDocPtr w = xmlReadMemory(windows, (int)sizeof windows - 1, "windows.xml", NULL, XML_PARSE_NONET);
	int rc;

	assert_non_null(w);
	production(path, sizeof path);
	d.items = xmlDocGetRootElement(w);
	memset(&o, 0, sizeof o);
	o.params = params;
	o.nparams = n;
	o.data = &d;
	o.ndata = 1;
	ml_err_clear(&e);
	rc = ml_policyset_load_ex(path, &o, &p, &e);
	if (rc)
		fprintf(stderr, "load %s: %d %s\n", path, rc, e.msg);
	xmlFreeDoc(w);
	assert_int_equal(rc, ML_OK);
	assert_non_null(p);
	return p;
}

static xmlDocPtr
evidence(const char *name)
{
	char path[4096];
	struct ml_err e;
	xmlDocPtr d = NULL;

	fixture(path, sizeof path, name);
	ml_err_clear(&e);
	if (ml_policy_xml_read(path, 16 << 20, 64, &d, &e))
		fprintf(stderr, "evidence %s: %s\n", path, e.msg);
	assert_non_null(d);
	return d;
}

/* Evaluates policy p (phase may be NULL) on fixture ev into *f. */
static void
eval_into(const struct ml_policyset *p, const char *ev, const char *phase,
	  struct ml_findings *f)
{
	xmlDocPtr d = evidence(ev);
	struct ml_err e;
	int rc;

	ml_err_clear(&e);
	rc = ml_policyset_eval(p, d, phase, NULL, f, &e);
	if (rc)
		fprintf(stderr, "eval %s: %d %s\n", ev, rc, e.msg);
	assert_int_equal(rc, ML_OK);
	xmlFreeDoc(d);
}

/* Loads production.xml with params and evaluates it on ev. */
static void
gate(const char *ev, const char *const *params, size_t n, const char *phase,
     struct ml_findings *f)
{
	struct ml_policyset *p = load_production(params, n);

	memset(f, 0, sizeof *f);
	eval_into(p, ev, phase, f);
	ml_policyset_free(p);
}

/* The nth (0-based) finding of rule id. */
static const struct ml_finding *
finding(const struct ml_findings *f, const char *id, size_t nth)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->items[i].rule_id, id) == 0 && nth-- == 0)
			return &f->items[i];
	return NULL;
}

static size_t
count_rule(const struct ml_findings *f, const char *id)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += strcmp(f->items[i].rule_id, id) == 0;
	return n;
}

static void
assert_outcome(const struct ml_findings *f, const char *id, size_t nth, enum ml_outcome want)
{
	const struct ml_finding *x = finding(f, id, nth);

	if (!x)
		fprintf(stderr, "no finding %s #%zu\n", id, nth);
	assert_non_null(x);
	if ((int)x->outcome != (int)want)
		fprintf(stderr, "%s #%zu: outcome %d, want %d: %s\n", id, nth, x->outcome, want,
			x->message);
	assert_int_equal(x->outcome, want);
}

static void
assert_contains(const char *s, const char *sub)
{
	if (!s || !strstr(s, sub))
		fprintf(stderr, "expected \"%s\" in \"%s\"\n", sub, s ? s : "(null)");
	assert_non_null(s);
	assert_non_null(strstr(s, sub));
}

static void
assert_seqs(const struct ml_finding *x, const int64_t *want, size_t n)
{
	size_t i;

	if (x->nseqs != n) {
		fprintf(stderr, "%s: %zu seqs:", x->rule_id, x->nseqs);
		for (i = 0; i < x->nseqs; i++)
			fprintf(stderr, " %lld", (long long)x->seqs[i]);
		fprintf(stderr, "\n");
	}
	assert_int_equal(x->nseqs, n);
	for (i = 0; i < n; i++)
		assert_int_equal(x->seqs[i], want[i]);
}

/* Every finding of f passes except those of rule except (may be NULL). */
static void
assert_others_pass(const struct ml_findings *f, const char *except)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!except || strcmp(f->items[i].rule_id, except) != 0) {
			if (f->items[i].outcome != ML_OUT_PASS)
				fprintf(stderr, "%s: %s\n", f->items[i].rule_id, f->items[i].message);
			assert_int_equal(f->items[i].outcome, ML_OUT_PASS);
		}
}

/* Writes text to dir/name and returns the path in buf. */
static void
write_file(const char *dir, const char *name, const char *text, size_t len, char *buf,
	   size_t cap)
{
	FILE *fp;

	snprintf(buf, cap, "%s/%s", dir, name);
	assert_non_null(fp = fopen(buf, "wb"));
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Loads a policy whose text is given; returns the result code and e. */
static int
load_text(const char *text, struct ml_err *e)
{
	char dir[4096], path[4200];
	struct ml_policyset *p = NULL;
	int rc;

	tu_tmpdir(dir, sizeof dir);
	write_file(dir, "p.xml", text, strlen(text), path, sizeof path);
	ml_err_clear(e);
	rc = ml_policyset_load(path, NULL, 0, &p, e);
	if (rc == ML_OK)
		assert_non_null(p);
	else
		assert_null(p);
	ml_policyset_free(p);
	tu_rmtree(dir);
	return rc;
}

#define NS "https://mlledger.dev/policy/v1"

/* ---- the production policy: one test per rule's pass and fail paths ----- */

static void
test_load_accessors(void **state)
{
	char path[4096], hex[65], want[65];
	uint8_t d[ML_SHA256_LEN];
	struct ml_policyset *p;
	size_t len;
	char *buf;
	struct ml_err e;

	(void)state;
	production(path, sizeof path);
	p = load_params(path, NULL, 0);
	assert_string_equal(ml_policyset_id(p), "production");
	assert_string_equal(ml_policyset_version(p), "1.1.0");
	assert_string_equal(ml_policyset_path(p), path);
	{
		double num = 0;
		assert_int_equal(ml_policyset_param_number(p, "min-approvers", &num), 0);
		assert_true(num == 2.0);
		assert_int_equal(ml_policyset_param_number(p, "primary-metric", &num), ML_EPOLICY);
		assert_int_equal(ml_policyset_param_number(p, "no-such-param", &num), ML_EPOLICY);
		assert_true(num == 2.0); /* untouched */
	}
	assert_int_equal(ml_policyset_rule_count(p), 6);
	assert_string_equal(ml_policyset_rule_id(p, 0), "PROD-APPROVAL");
	assert_string_equal(ml_policyset_rule_id(p, 4), "PROD-FREEZE");
	assert_string_equal(ml_policyset_rule_id(p, 5), "PROD-GATED");
	assert_null(ml_policyset_rule_id(p, 6));
	ml_err_clear(&e);
	assert_int_equal(ml_read_file(path, 1 << 22, &buf, &len, &e), ML_OK);
	ml_sha256(buf, len, d);
	ml_hex_encode(d, sizeof d, want);
	free(buf);
	ml_policyset_sha256(p, hex);
	assert_string_equal(hex, want);
	ml_policyset_free(p);
	ml_policyset_free(NULL);
	assert_int_equal(ml_policyset_lint(path, &e), ML_OK);
}

static void
test_all_pass(void **state)
{
	static const int64_t approval[] = {13, 15, 16}, eval[] = {11, 12, 13, 14};
	struct ml_findings f;

	(void)state;
	gate("ev-pass.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_OK);
	assert_int_equal(f.n, 7); /* PROD-LICENSE: one finding per dataset */
	assert_others_pass(&f, NULL);
	assert_int_equal(count_rule(&f, "PROD-LICENSE"), 2);
	assert_seqs(finding(&f, "PROD-APPROVAL", 0), approval, 3);
	assert_seqs(finding(&f, "PROD-EVALUATION", 0), eval, 4);
	assert_string_equal(f.policy_id, "production");
	assert_string_equal(f.policy_version, "1.1.0");
	assert_int_equal(strlen(f.policy_sha256), 64);
	{
		const struct ml_finding *x = finding(&f, "PROD-APPROVAL", 0);
		assert_string_equal(x->subject, "fraud-detector@3.1.0");
		assert_int_equal(x->severity, ML_SEV_DENY);
		assert_int_equal(x->waiver_seq, -1);
		assert_true(x->ncontrols >= 4);
		assert_string_equal(x->controls[0].framework, "EU-AI-Act");
		assert_contains(x->controls[0].ref, "Art. 14");
		assert_string_equal(x->title, "Two independent approvals of these exact bytes");
		assert_contains(x->description, "segregation of duties");
	}
	ml_findings_free(&f);
}

static void
test_approval_fail(void **state)
{
	static const int64_t seqs[] = {15, 16, 17, 18, 19, 21};
	const struct ml_finding *x;
	struct ml_findings f;

	(void)state;
	gate("ev-approval-fail.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);
	assert_outcome(&f, "PROD-APPROVAL", 0, ML_OUT_FAIL);
	assert_others_pass(&f, "PROD-APPROVAL");
	x = finding(&f, "PROD-APPROVAL", 0);
	/* alice twice is one key; dave wrote the model; bob's is for another
	 * digest; mallory is no approver; carol approved staging only */
	assert_contains(x->message,
			"1 of 2 required approvals of fraud-detector@3.1.0 for prod (alice at seq 15, 19)");
	assert_contains(x->message, "other than dave, who recorded the model; not counted: seq 16, 17, 18");
	/* bob's reject (14) was lifted by his later approve (17); carol's not */
	assert_contains(x->message, "rejected for prod by carol (seq 21), with no later approval");
	assert_null(strstr(x->message, "by bob"));
	assert_seqs(x, seqs, 6);
	ml_findings_free(&f);
}

static void
test_approval_reapproved(void **state)
{
	struct ml_findings f;

	(void)state;
	gate("ev-approval-reapproved.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_OK);
	assert_others_pass(&f, NULL);
	/* no dataset: PROD-LICENSE (expect="optional") is not applicable */
	assert_contains(finding(&f, "PROD-LICENSE", 0)->message, "not applicable");
	ml_findings_free(&f);
}

static void
test_approval_params(void **state)
{
	static const char *const one[] = {"min-approvers=1"};
	static const char *const three[] = {"min-approvers=3"};
	struct ml_findings f;

	(void)state;
	gate("ev-pass.xml", three, 1, NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);
	assert_contains(finding(&f, "PROD-APPROVAL", 0)->message, "2 of 3 required approvals");
	ml_findings_free(&f);
	/* one approval is enough now, but carol's reject still blocks */
	gate("ev-approval-fail.xml", one, 1, NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);
	assert_null(strstr(finding(&f, "PROD-APPROVAL", 0)->message, "required approvals"));
	assert_contains(finding(&f, "PROD-APPROVAL", 0)->message, "rejected for prod by carol");
	ml_findings_free(&f);
}

static void
test_license_fail(void **state)
{
	static const int64_t gpl[] = {8}, model[] = {13};
	struct ml_findings f;

	(void)state;
	gate("ev-license-fail.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);
	assert_int_equal(count_rule(&f, "PROD-LICENSE"), 5);
	/* in the order the model entry names them */
	assert_outcome(&f, "PROD-LICENSE", 0, ML_OUT_FAIL);
	assert_contains(finding(&f, "PROD-LICENSE", 0)->message,
			"dataset gpl@1 (seq 8) is licensed GPL-3.0, which is not one of "
			"Apache-2.0,MIT,BSD-3-Clause,CC-BY-4.0,CC0-1.0,internal");
	assert_seqs(finding(&f, "PROD-LICENSE", 0), gpl, 1);
	assert_outcome(&f, "PROD-LICENSE", 1, ML_OUT_FAIL);
	assert_contains(finding(&f, "PROD-LICENSE", 1)->message,
			"dataset nolicense@1 (seq 9) declares no license");
	assert_outcome(&f, "PROD-LICENSE", 2, ML_OUT_FAIL);
	assert_contains(finding(&f, "PROD-LICENSE", 2)->message,
			"dataset pii@1 (seq 10) holds personal data (pii=true) but names no DPIA");
	assert_outcome(&f, "PROD-LICENSE", 3, ML_OUT_FAIL);
	assert_contains(finding(&f, "PROD-LICENSE", 3)->message,
			"dataset missing@1 of fraud-detector@3.1.0 has no dataset entry");
	assert_seqs(finding(&f, "PROD-LICENSE", 3), model, 1);
	assert_outcome(&f, "PROD-LICENSE", 4, ML_OUT_PASS); /* ok@1: pii with a DPIA */
	assert_others_pass(&f, "PROD-LICENSE");
	ml_findings_free(&f);
}

static void
test_license_param_override(void **state)
{
	static const char *const params[] = {"allowed-licenses=MIT, GPL-3.0 ,Apache-2.0"};
	struct ml_findings f;

	(void)state;
	gate("ev-license-fail.xml", params, 1, NULL, &f);
	assert_outcome(&f, "PROD-LICENSE", 0, ML_OUT_PASS); /* GPL-3.0 is allowed now */
	assert_outcome(&f, "PROD-LICENSE", 1, ML_OUT_FAIL);
	assert_contains(finding(&f, "PROD-LICENSE", 1)->message,
			"one of MIT, GPL-3.0 ,Apache-2.0 is required");
	assert_outcome(&f, "PROD-LICENSE", 4, ML_OUT_PASS);
	ml_findings_free(&f);
	/* the default is back without the override */
	gate("ev-license-fail.xml", NULL, 0, NULL, &f);
	assert_outcome(&f, "PROD-LICENSE", 0, ML_OUT_FAIL);
	ml_findings_free(&f);
}

static void
test_evaluation_missing(void **state)
{
	static const int64_t model[] = {13};
	struct ml_findings f;

	(void)state;
	gate("ev-eval-missing.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);
	assert_outcome(&f, "PROD-EVALUATION", 0, ML_OUT_FAIL);
	assert_string_equal(finding(&f, "PROD-EVALUATION", 0)->message,
			    "no evaluation of fraud-detector@3.1.0 is recorded; at least one is required");
	assert_seqs(finding(&f, "PROD-EVALUATION", 0), model, 1);
	assert_others_pass(&f, "PROD-EVALUATION");
	ml_findings_free(&f);
}

static void
test_metric_worse(void **state)
{
	static const char *const tol[] = {"metric-tolerance=0.05"};
	static const char *const tight[] = {"metric-tolerance=0.02"};
	static const char *const f1[] = {"primary-metric=f1"};
	static const int64_t seqs[] = {11, 12, 19};
	struct ml_findings f;

	(void)state;
	gate("ev-metric-worse.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);
	assert_outcome(&f, "PROD-EVALUATION", 0, ML_OUT_FAIL);
	/* deployed is 3.0.0 (3.0.5 was retired from prod); the candidate's
	 * latest evaluation (0.9) counts, not its model entry (0.95) */
	assert_string_equal(finding(&f, "PROD-EVALUATION", 0)->message,
			    "auc of fraud-detector@3.1.0 is 0.9 (seq 19), worse than 0.93 of "
			    "fraud-detector@3.0.0 (seq 11), deployed in prod at seq 12, by more "
			    "than the tolerance 0.01");
	assert_seqs(finding(&f, "PROD-EVALUATION", 0), seqs, 3);
	assert_others_pass(&f, "PROD-EVALUATION");
	ml_findings_free(&f);

	gate("ev-metric-worse.xml", tol, 1, NULL, &f);
	assert_int_equal(f.verdict, ML_OK); /* 0.03 worse, 0.05 allowed */
	ml_findings_free(&f);
	gate("ev-metric-worse.xml", tight, 1, NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);
	ml_findings_free(&f);
	/* the governance declares auc lower-is-better: 0.9 < 0.93 is better */
	gate("ev-metric-lower.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_OK);
	ml_findings_free(&f);
	/* no declared direction: never better, whatever the values */
	gate("ev-metric-undeclared.xml", NULL, 0, NULL, &f);
	assert_outcome(&f, "PROD-EVALUATION", 0, ML_OUT_FAIL);
	assert_contains(finding(&f, "PROD-EVALUATION", 0)->message,
			"auc has no direction declared in the ledger's governance");
	ml_findings_free(&f);
	/* a caller cannot choose the direction any more */
	{
		static const char *const lower[] = {"higher-is-better=false"};
		struct ml_policyset *p = NULL;
		struct ml_err e;
		char path[4096];
		production(path, sizeof path);
		assert_int_equal(ml_policyset_load(path, lower, 1, &p, &e), ML_EINPUT);
		assert_null(p);
	}
	/* 3.0.0 has no f1 recorded anywhere */
	gate("ev-metric-worse.xml", f1, 1, NULL, &f);
	assert_outcome(&f, "PROD-EVALUATION", 0, ML_OUT_FAIL);
	assert_contains(finding(&f, "PROD-EVALUATION", 0)->message,
			"fraud-detector@3.0.0, deployed in prod at seq 12, has no f1 recorded");
	ml_findings_free(&f);
	/* ev-pass: 0.92 against the deployed 0.90 */
	gate("ev-pass.xml", NULL, 0, NULL, &f);
	assert_outcome(&f, "PROD-EVALUATION", 0, ML_OUT_PASS);
	ml_findings_free(&f);
}

static void
test_incident(void **state)
{
	static const char *const model[] = {"incident-scope=model"};
	static const char *const critical[] = {"blocking-severities=critical"};
	static const int64_t one[] = {20}, two[] = {20, 22};
	struct ml_findings f;

	(void)state;
	gate("ev-incident.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);
	assert_outcome(&f, "PROD-INCIDENT", 0, ML_OUT_FAIL);
	assert_string_equal(finding(&f, "PROD-INCIDENT", 0)->message,
			    "1 open incident(s) of severity high,critical on fraud-detector@3.1.0: "
			    "seq 20 (high): false-positive spike in the canary");
	assert_seqs(finding(&f, "PROD-INCIDENT", 0), one, 1);
	assert_others_pass(&f, "PROD-INCIDENT");
	ml_findings_free(&f);

	gate("ev-incident.xml", model, 1, NULL, &f);
	assert_outcome(&f, "PROD-INCIDENT", 0, ML_OUT_FAIL);
	assert_contains(finding(&f, "PROD-INCIDENT", 0)->message,
			"2 open incident(s) of severity high,critical on fraud-detector: seq 20, 22");
	assert_seqs(finding(&f, "PROD-INCIDENT", 0), two, 2);
	ml_findings_free(&f);

	gate("ev-incident.xml", critical, 1, NULL, &f);
	assert_int_equal(f.verdict, ML_OK);
	ml_findings_free(&f);
	/* ev-pass: a low incident on 3.0.0 only */
	gate("ev-pass.xml", model, 1, NULL, &f);
	assert_outcome(&f, "PROD-INCIDENT", 0, ML_OUT_PASS);
	ml_findings_free(&f);
}

static void
test_freeze(void **state)
{
	struct ml_findings f;

	(void)state;
	gate("ev-freeze.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);
	assert_outcome(&f, "PROD-FREEZE", 0, ML_OUT_FAIL);
	assert_string_equal(finding(&f, "PROD-FREEZE", 0)->message,
			    "fraud-detector@3.1.0 may not be deployed to prod at 2026-12-28T10:00:00Z: "
			    "inside the freeze window 2026-12-21 to 2027-01-04 (year-end change freeze)");
	assert_int_equal(finding(&f, "PROD-FREEZE", 0)->nseqs, 0);
	assert_others_pass(&f, "PROD-FREEZE");
	ml_findings_free(&f);
	/* the audit phase has no freeze rule */
	gate("ev-freeze.xml", NULL, 0, "audit", &f);
	assert_int_equal(f.verdict, ML_OK);
	assert_null(finding(&f, "PROD-FREEZE", 0));
	assert_int_equal(f.n, 5);
	ml_findings_free(&f);
	gate("ev-freeze.xml", NULL, 0, "pre-deploy", &f);
	assert_int_equal(f.verdict, ML_EDENY);
	ml_findings_free(&f);
}

/* ---- waivers ------------------------------------------------------------ */

static void
test_waivers(void **state)
{
	const struct ml_finding *x;
	struct ml_findings f;

	(void)state;
	gate("ev-waivers.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);

	/* valid: by a risk officer, unexpired, for this version */
	x = finding(&f, "PROD-LICENSE", 0);
	assert_int_equal(x->outcome, ML_OUT_WAIVED);
	assert_int_equal(x->waiver_seq, 30);
	assert_string_equal(x->waiver_by, "rita");
	assert_string_equal(x->waiver_expires, "2027-01-31");
	assert_string_equal(x->waiver_reason, "PROD-LICENSE accepted until 2027-01-31");
	assert_int_equal(x->waiver_expired, 0);
	assert_contains(x->message, "licensed GPL-3.0"); /* reported, never hidden */

	/* expired (31); 35 was recorded after as-of */
	x = finding(&f, "PROD-INCIDENT", 0);
	assert_int_equal(x->outcome, ML_OUT_FAIL);
	assert_int_equal(x->waiver_expired, 1);
	assert_int_equal(x->waiver_seq, 31);
	assert_string_equal(x->waiver_expires, "2026-11-20");
	assert_contains(x->message, "waiver seq 31 by rita expired 2026-11-20");
	assert_contains(x->message, "waiver seq 35 by rita ignored: recorded after the evaluation time");

	/* wrong role (32); 34 waives another version and is not mentioned */
	x = finding(&f, "PROD-EVALUATION", 0);
	assert_int_equal(x->outcome, ML_OUT_FAIL);
	assert_int_equal(x->waiver_seq, -1);
	assert_int_equal(x->waiver_expired, 0);
	assert_null(x->waiver_by);
	assert_contains(x->message,
			"waiver seq 32 by mallory ignored: it needs a key with role risk-officer");
	assert_null(strstr(x->message, "seq 34"));

	/* never waivable */
	x = finding(&f, "PROD-APPROVAL", 0);
	assert_int_equal(x->outcome, ML_OUT_FAIL);
	assert_int_equal(x->waiver_seq, -1);
	assert_contains(x->message, "waiver seq 33 by rita ignored: PROD-APPROVAL can never be waived");

	assert_outcome(&f, "PROD-FREEZE", 0, ML_OUT_PASS);
	ml_findings_free(&f);
}

static void
test_waivers_let_through(void **state)
{
	const struct ml_finding *x;
	struct ml_findings f;

	(void)state;
	gate("ev-waived-pass.xml", NULL, 0, NULL, &f);
	assert_int_equal(f.verdict, ML_OK);
	x = finding(&f, "PROD-LICENSE", 0);
	assert_int_equal(x->outcome, ML_OUT_WAIVED);
	assert_int_equal(x->waiver_seq, 30);
	x = finding(&f, "PROD-FREEZE", 0);
	assert_int_equal(x->outcome, ML_OUT_WAIVED);
	assert_int_equal(x->waiver_seq, 31); /* of 29 and 31, the one that lasts longer */
	assert_string_equal(x->waiver_expires, "2027-01-31");
	assert_outcome(&f, "PROD-APPROVAL", 0, ML_OUT_PASS);
	ml_findings_free(&f);
}

static void
test_waiver_subject(void **state)
{
	struct ml_policyset *p = load_production(NULL, 0);
	xmlDocPtr d = evidence("ev-waived-pass.xml");
	struct ml_findings f;
	struct ml_err e;

	(void)state;
	/* waivers apply to the subject evaluated: none recorded for 9.9.9 */
	memset(&f, 0, sizeof f);
	assert_int_equal(ml_policyset_eval(p, d, NULL, "fraud-detector@9.9.9", &f, &e), ML_OK);
	assert_int_equal(f.verdict, ML_EDENY);
	assert_outcome(&f, "PROD-LICENSE", 0, ML_OUT_FAIL);
	assert_string_equal(finding(&f, "PROD-LICENSE", 0)->subject, "fraud-detector@9.9.9");
	ml_findings_free(&f);
	xmlFreeDoc(d);
	ml_policyset_free(p);
}

/* ---- params, phases, evaluation input ----------------------------------- */

static void
test_params_errors(void **state)
{
	static const struct {
		const char *param, *msg;
	} cases[] = {
		{"min-aprovers=1", "--param min-aprovers: "},
		{"min-approvers", "expected NAME=VALUE"},
		{"=1", "expected NAME=VALUE"},
		{"min-approvers=two", "'two' is not a number"},
		{"min-approvers=", "'' is not a number"},
		{"incident-scope=everything", "'everything' is not one of version, model"},
		{"blocking-severities=high,urgent", "is not one of low, medium, high, critical"},
	};
	char path[4096];
	size_t i;

	(void)state;
	production(path, sizeof path);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ml_policyset *p = NULL;
		struct ml_err e;
		const char *params[] = {cases[i].param};
		ml_err_clear(&e);
		assert_int_equal(ml_policyset_load(path, params, 1, &p, &e), ML_EINPUT);
		assert_null(p);
		assert_contains(e.msg, cases[i].msg);
	}
	{
		/* a later override wins */
		static const char *const twice[] = {"min-approvers=9", "min-approvers=2"};
		struct ml_findings f;
		gate("ev-pass.xml", twice, 2, NULL, &f);
		assert_int_equal(f.verdict, ML_OK);
		ml_findings_free(&f);
	}
}

static void
test_eval_input_errors(void **state)
{
	struct ml_policyset *p = load_production(NULL, 0);
	struct ml_findings f;
	struct ml_err e;
	xmlDocPtr d;

	(void)state;
	memset(&f, 0, sizeof f);
	d = evidence("ev-pass.xml");
	assert_int_equal(ml_policyset_eval(p, d, "deploy", NULL, &f, &e), ML_EINPUT);
	assert_contains(e.msg, "no phase 'deploy'");
	assert_int_equal(f.n, 0);
	assert_null(f.policy_id);
	xmlFreeDoc(d);
	{
		static const char *const docs[] = {
			"<evidence as-of-epoch='1'/>",
			"<ev:evidence xmlns:ev='https://mlledger.dev/evidence/v2' as-of-epoch='1'/>",
			"<ev:evidence xmlns:ev='https://mlledger.dev/evidence/v1'/>",
			"<ev:evidence xmlns:ev='https://mlledger.dev/evidence/v1' as-of-epoch='x'/>",
			"<ev:evidence xmlns:ev='https://mlledger.dev/evidence/v1' as-of-epoch='1'/>",
		};
		size_t i;
		for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
			d = NULL;
			assert_int_equal(ml_policy_xml_parse(docs[i], strlen(docs[i]), "doc", 8, &d, &e),
					 ML_OK);
			assert_int_equal(ml_policyset_eval(p, d, NULL, NULL, &f, &e), ML_EINPUT);
			assert_int_equal(f.n, 0);
			xmlFreeDoc(d);
		}
		assert_contains(e.msg, "names no subject");
	}
	ml_policyset_free(p);
}

static void
test_eval_appends(void **state)
{
	struct ml_policyset *p = load_production(NULL, 0);
	struct ml_findings f;

	(void)state;
	memset(&f, 0, sizeof f);
	eval_into(p, "ev-freeze.xml", NULL, &f);
	assert_int_equal(f.verdict, ML_EDENY);
	eval_into(p, "ev-pass.xml", NULL, &f);
	assert_int_equal(f.n, 6 + 7);
	assert_int_equal(f.verdict, ML_EDENY); /* the worse of the two */
	ml_findings_free(&f);
	ml_policyset_free(p);
}

/* ---- indeterminate ------------------------------------------------------- */

static void
test_indeterminate(void **state)
{
	char path[4096];
	struct ml_policyset *p;
	struct ml_findings f;

	(void)state;
	fixture(path, sizeof path, "indeterminate.xml");
	p = load_params(path, NULL, 0);
	memset(&f, 0, sizeof f);
	eval_into(p, "ev-pass.xml", NULL, &f);
	/* a deny failure and errors: fail closed, exit 3 */
	assert_int_equal(f.verdict, ML_EPOLICY);
	assert_outcome(&f, "R-OK", 0, ML_OUT_PASS);
	assert_outcome(&f, "R-DENY", 0, ML_OUT_FAIL);
	assert_outcome(&f, "R-OPS", 0, ML_OUT_INDETERMINATE);
	assert_contains(finding(&f, "R-OPS", 0)->message,
			"indeterminate: rule R-OPS: assert test (line 18): operation limit exceeded");
	assert_outcome(&f, "R-DATE", 0, ML_OUT_INDETERMINATE);
	assert_contains(finding(&f, "R-DATE", 0)->message,
			"ml:epoch: expects YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, not '2026-13-45'");
	assert_outcome(&f, "R-TYPE", 0, ML_OUT_INDETERMINATE);
	assert_contains(finding(&f, "R-TYPE", 0)->message,
			"invalid type: ml:max: the argument is not a node-set");
	assert_outcome(&f, "R-LET", 0, ML_OUT_INDETERMINATE);
	assert_contains(finding(&f, "R-LET", 0)->message, "let broken could not be evaluated");
	assert_contains(finding(&f, "R-LET", 0)->message, "not 'yesterday'");
	ml_findings_free(&f);
	/* a higher limit lets R-OPS finish: the limit was the only reason */
	ml_policyset_set_op_limit(p, 10000000);
	memset(&f, 0, sizeof f);
	eval_into(p, "ev-pass.xml", NULL, &f);
	assert_outcome(&f, "R-OPS", 0, ML_OUT_PASS);
	ml_findings_free(&f);
	ml_policyset_free(p);
}

static void
test_op_limit_production(void **state)
{
	struct ml_policyset *p = load_production(NULL, 0);
	struct ml_findings f;
	size_t i;

	(void)state;
	ml_policyset_set_op_limit(p, 5);
	memset(&f, 0, sizeof f);
	eval_into(p, "ev-pass.xml", NULL, &f);
	assert_int_equal(f.verdict, ML_EPOLICY);
	for (i = 0; i < f.n; i++) {
		assert_int_equal(f.items[i].outcome, ML_OUT_INDETERMINATE);
		assert_contains(f.items[i].message, "operation limit exceeded");
	}
	ml_findings_free(&f);
	ml_policyset_set_op_limit(p, 0); /* back to the policy's */
	memset(&f, 0, sizeof f);
	eval_into(p, "ev-pass.xml", NULL, &f);
	assert_int_equal(f.verdict, ML_OK);
	ml_findings_free(&f);
	ml_policyset_free(p);
}

/* ---- the language: functions, messages, combining, expect -------------- */

static void
test_functions(void **state)
{
	char path[4096];
	struct ml_policyset *p;
	struct ml_findings f;
	size_t i;

	(void)state;
	fixture(path, sizeof path, "functions.xml");
	p = load_params(path, NULL, 0);
	memset(&f, 0, sizeof f);
	eval_into(p, "ev-pass.xml", NULL, &f);
	for (i = 0; i < f.n; i++)
		if (strcmp(f.items[i].rule_id, "F-MESSAGE") != 0) {
			if (f.items[i].outcome != ML_OUT_PASS)
				fprintf(stderr, "%s: %s\n", f.items[i].rule_id, f.items[i].message);
			assert_int_equal(f.items[i].outcome, ML_OUT_PASS);
		}
	/* report fires for the second approval only; an info failure does not deny */
	assert_outcome(&f, "F-MESSAGE", 0, ML_OUT_PASS);
	assert_outcome(&f, "F-MESSAGE", 1, ML_OUT_FAIL);
	assert_string_equal(finding(&f, "F-MESSAGE", 1)->message,
			    "{literal braces} bob approved at seq 16 (2 of 2): {}");
	assert_int_equal(finding(&f, "F-MESSAGE", 1)->severity, ML_SEV_INFO);
	assert_int_equal(f.verdict, ML_OK);
	ml_findings_free(&f);
	ml_policyset_free(p);
}

/* Loads policy text (wrapped in <policy>) and evaluates it on ev-pass. */
static int
eval_text(const char *attrs, const char *body, struct ml_findings *f)
{
	char dir[4096], path[4200], *text;
	struct ml_policyset *p = NULL;
	struct ml_err e;
	size_t len = strlen(attrs) + strlen(body) + 200;

	assert_non_null(text = malloc(len));
	snprintf(text, len, "<policy xmlns='" NS "' id='t' version='1' %s>%s</policy>", attrs,
		 body);
	tu_tmpdir(dir, sizeof dir);
	write_file(dir, "p.xml", text, strlen(text), path, sizeof path);
	free(text);
	ml_err_clear(&e);
	if (ml_policyset_load(path, NULL, 0, &p, &e))
		fprintf(stderr, "%s\n", e.msg);
	assert_non_null(p);
	memset(f, 0, sizeof *f);
	eval_into(p, "ev-pass.xml", NULL, f);
	ml_policyset_free(p);
	tu_rmtree(dir);
	return f->verdict;
}

static void
test_combining(void **state)
{
	static const char warn[] =
		"<rule id='W' severity='warn' context='/'><title>w</title>"
		"<assert test='false()'>warned</assert></rule>";
	static const char deny[] =
		"<rule id='D' severity='deny' context='/'><title>d</title>"
		"<assert test='false()'>denied</assert></rule>";
	static const char info[] =
		"<rule id='I' severity='info' context='/'><title>i</title>"
		"<report test='true()'>noted</report></rule>";
	char body[1024];
	struct ml_findings f;

	(void)state;
	assert_int_equal(eval_text("", warn, &f), ML_OK); /* deny-overrides by default */
	assert_outcome(&f, "W", 0, ML_OUT_FAIL);
	assert_string_equal(finding(&f, "W", 0)->message, "warned");
	ml_findings_free(&f);
	assert_int_equal(eval_text("combining='strict'", warn, &f), ML_EDENY);
	ml_findings_free(&f);
	assert_int_equal(eval_text("combining='strict'", info, &f), ML_OK);
	ml_findings_free(&f);
	assert_int_equal(eval_text("combining='deny-overrides'", deny, &f), ML_EDENY);
	ml_findings_free(&f);
	assert_int_equal(eval_text("combining='report-only'", deny, &f), ML_OK);
	assert_outcome(&f, "D", 0, ML_OUT_FAIL);
	ml_findings_free(&f);
	/* report-only still fails closed */
	snprintf(body, sizeof body, "%s<rule id='X' severity='info' context='/'><title>x</title>"
		 "<assert test='ml:epoch(\"x\")'>m</assert></rule>", deny);
	assert_int_equal(eval_text("combining='report-only'", body, &f), ML_EPOLICY);
	ml_findings_free(&f);
}

static void
test_expect(void **state)
{
	struct ml_findings f;

	(void)state;
	/* expect="any" is the default: nothing matched is a failure */
	assert_int_equal(eval_text("", "<rule id='A' severity='deny' context='//ev:nothing'>"
				       "<title>a</title><assert test='true()'>m</assert></rule>", &f),
			 ML_EDENY);
	assert_outcome(&f, "A", 0, ML_OUT_FAIL);
	assert_contains(finding(&f, "A", 0)->message,
			"nothing matched the context //ev:nothing (expect=\"any\"");
	ml_findings_free(&f);
	assert_int_equal(eval_text("", "<rule id='O' severity='deny' expect='optional' "
				       "context='//ev:nothing'><title>a</title>"
				       "<assert test='false()'>m</assert></rule>", &f),
			 ML_OK);
	assert_int_equal(f.n, 1);
	assert_outcome(&f, "O", 0, ML_OUT_PASS);
	ml_findings_free(&f);
	/* a context that is not a node-set is indeterminate */
	assert_int_equal(eval_text("", "<rule id='N' severity='info' context='1'>"
				       "<title>a</title><assert test='true()'>m</assert></rule>", &f),
			 ML_EPOLICY);
	assert_contains(finding(&f, "N", 0)->message, "not a node-set");
	ml_findings_free(&f);
	/* one finding per context node, seqs from the entries */
	assert_int_equal(eval_text("", "<rule id='E' severity='deny' "
				       "context='/ev:evidence/ev:entry[@kind=\"approval\"]'>"
				       "<title>a</title><assert test='@author = \"alice\"'>"
				       "{@author}</assert></rule>", &f),
			 ML_EDENY);
	assert_int_equal(f.n, 2);
	assert_outcome(&f, "E", 0, ML_OUT_PASS);
	assert_outcome(&f, "E", 1, ML_OUT_FAIL);
	assert_string_equal(finding(&f, "E", 1)->message, "bob");
	assert_int_equal(finding(&f, "E", 1)->seqs[0], 16);
	ml_findings_free(&f);
}

/* ---- keys whose use is concat() of attributes and literals ------------- */

/* Loads a policy of the keys in body and one rule; the caller frees it. */
static struct ml_policyset *
load_body(const char *body)
{
	char dir[4096], path[4200], text[8192];
	struct ml_policyset *p = NULL;
	struct ml_err e;

	snprintf(text, sizeof text, "<policy xmlns='" NS "' id='t' version='1'>%s"
		 "<rule id='R' severity='info' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule></policy>", body);
	tu_tmpdir(dir, sizeof dir);
	write_file(dir, "p.xml", text, strlen(text), path, sizeof path);
	ml_err_clear(&e);
	if (ml_policyset_load(path, NULL, 0, &p, &e))
		fprintf(stderr, "%s\n", e.msg);
	assert_non_null(p);
	tu_rmtree(dir);
	return p;
}

/* Which use expressions are joined natively (use_parts) and which are run
 * as XPath: only concat() of two or more "@name"s and literals. */
static void
test_key_concat_compile(void **state)
{
	static const struct {
		const char *use;
		size_t nparts; /* 0: run as XPath */
	} cases[] = {
		{"concat(@kind, '|', @ref)", 3},
		{" concat ( @kind ,\"|\", @ref ) ", 3},
		{"concat('a,b)', @x-y.z, '')", 3},
		{"concat(@kind, @ref)", 2},
		{"concat(@kind, 1)", 0},        /* a number */
		{"concat(@ kind, 'x')", 0},     /* "@ name" */
		{"concat(@ev:kind, 'x')", 0},   /* a prefixed name */
		{"concat(@kind, 'x') = 'y'", 0},
		{"concat(@kind, 'x')[1]", 0},
		{"concat(@kind | @ref, 'x')", 0},
		{"concat(@kind[1], 'x')", 0},
		{"concat(string(@kind), 'x')", 0},
		{"@kind", 0},                   /* use_attr instead */
	};
	char body[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ml_policyset *p;
		/* quoted with whichever quote the expression does not use */
		snprintf(body, sizeof body,
			 strchr(cases[i].use, '"') ? "<key name='k' match='//ev:entry' use='%s'/>"
						   : "<key name='k' match='//ev:entry' use=\"%s\"/>",
			 cases[i].use);
		p = load_body(body);
		if (p->keys[0].nuse_parts != cases[i].nparts)
			fprintf(stderr, "use=%s: %zu parts\n", cases[i].use, p->keys[0].nuse_parts);
		assert_int_equal(p->keys[0].nuse_parts, cases[i].nparts);
		assert_true((p->keys[0].use_parts != NULL) == (cases[i].nparts != 0));
		ml_policyset_free(p);
	}
	{
		struct ml_policyset *p = load_body("<key name='k' match='//ev:entry' "
						   "use=\"concat(@kind, '|', @ref)\"/>");
		assert_int_equal(p->keys[0].use_parts[0].attr, 1);
		assert_string_equal(p->keys[0].use_parts[0].text, "kind");
		assert_int_equal(p->keys[0].use_parts[1].attr, 0);
		assert_string_equal(p->keys[0].use_parts[1].text, "|");
		assert_int_equal(p->keys[0].use_parts[2].attr, 1);
		assert_string_equal(p->keys[0].use_parts[2].text, "ref");
		ml_policyset_free(p);
	}
}

/* A key joined natively and the same key run as XPath (string(concat())
 * is not taken natively) hold the same nodes under every value: entries
 * with and without the attributes, and attribute nodes (no attributes of
 * their own).  Each lookup must also find something, so an empty index
 * on both sides cannot pass. */
static void
test_key_concat_same(void **state)
{
	static const char body[] =
		"<key name='f' match='//ev:entry' use=\"concat(@kind, '|', @ref, '|', @nosuch, @environment)\"/>"
		"<key name='s' match='//ev:entry' use=\"string(concat(@kind, '|', @ref, '|', @nosuch, @environment))\"/>"
		"<key name='fa' match='//ev:entry/@kind' use=\"concat('v', @kind)\"/>"
		"<key name='sa' match='//ev:entry/@kind' use=\"string(concat('v', @kind))\"/>"
		"<let name='all' value='//ev:entry'/>"
		"<rule id='EQ' severity='deny' context='/ev:evidence/ev:entry'><title>t</title>"
		"<let name='v' value=\"concat(@kind, '|', @ref, '|', @nosuch, @environment)\"/>"
		"<assert test=\"count(ml:key('f', $v)) &gt; 0 and "
		"count(ml:key('f', $v)) = count(ml:key('s', $v)) and "
		"count(ml:key('f', $v) | ml:key('s', $v)) = count(ml:key('s', $v))\">{$v}</assert>"
		"</rule>"
		"<rule id='ATTR' severity='deny' context='/'><title>t</title>"
		"<assert test=\"count(ml:key('fa', 'v')) = count($all) and "
		"count(ml:key('fa', 'v') | ml:key('sa', 'v')) = count($all) and "
		"count(ml:key('fa', 'vmodel')) = 0\">attribute nodes</assert>"
		"</rule>";
	struct ml_findings f;
	size_t i;

	(void)state;
	assert_int_equal(eval_text("", body, &f), ML_OK);
	assert_true(f.n > 2);
	for (i = 0; i < f.n; i++) {
		if (f.items[i].outcome != ML_OUT_PASS)
			fprintf(stderr, "%s: %s\n", f.items[i].rule_id, f.items[i].message);
		assert_int_equal(f.items[i].outcome, ML_OUT_PASS);
	}
	ml_findings_free(&f);
}

/* ---- load errors: every name bound at load, named in the message ------- */

static void
test_load_errors(void **state)
{
	static const struct {
		const char *body, *msg;
	} cases[] = {
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='ml:nope(1)'>m</assert></rule>",
		 ":1: rule R-X: assert test: unknown function ml:nope()"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='frob(1)'>m</assert></rule>",
		 "rule R-X: assert test: unknown function frob()"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='version-compare(\"1\", \"2\")'>m</assert></rule>",
		 "unknown function version-compare() (ours are in the ml: namespace)"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='contains(\"a\")'>m</assert></rule>",
		 "contains() takes 2 arguments, not 1"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='ml:days() &gt; 1'>m</assert></rule>",
		 "ml:days() takes 1 argument, not 0"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='concat(\"a\")'>m</assert></rule>",
		 "concat() takes at least 2 arguments, not 1"},
		{"<rule id='R-X' severity='deny' context='$nope'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "rule R-X: context: unknown variable $nope"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<let name='a' value='$b'/><let name='b' value='1'/>"
		 "<assert test='$a'>m</assert></rule>",
		 "rule R-X: let a: value: unknown variable $b (a let is visible only after its "
		 "definition)"},
		{"<let name='g' value='1'/><rule id='R-X' severity='deny' context='/'>"
		 "<title>t</title><let name='r' value='2'/><assert test='$g = 1'>m</assert></rule>"
		 "<rule id='R-Y' severity='deny' context='/'><title>t</title>"
		 "<assert test='$r'>m</assert></rule>",
		 "rule R-Y: assert test: unknown variable $r"},
		{"<rule id='R-X' severity='deny' context='/foo:bar'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "rule R-X: context: unknown namespace prefix 'foo' (declare it with <ns>)"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='foo:f()'>m</assert></rule>",
		 "unknown namespace prefix 'foo' in foo:f()"},
		{"<ns prefix='x' uri='urn:other'/><rule id='R-X' severity='deny' context='/'>"
		 "<title>t</title><assert test='x:key(\"a\", 1)'>m</assert></rule>",
		 "unknown function x:key()"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='ml:key(\"nokey\", 1)'>m</assert></rule>",
		 "ml:key(): unknown key 'nokey'"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='ml:data(\"nodata\")'>m</assert></rule>",
		 "ml:data(): unknown data 'nodata'"},
		{"<key name='k' match='ml:key(\"k2\", \"x\")' use='@kind'/>"
		 "<key name='k2' match='//ev:entry' use='@kind'/>"
		 "<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "key k: match: in a key, ml:key() must name an earlier key with a string literal"},
		{"<key name='k' match='ml:key(\"k\", \"x\")' use='@kind'/>"
		 "<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "key k: match: in a key, ml:key() must name an earlier key"},
		{"<key name='k' match='//ev:entry' use='@kind'/>"
		 "<key name='k2' match='ml:key(concat(\"k\", \"\"), \"x\")' use='@kind'/>"
		 "<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "key k2: match: in a key, ml:key() must name an earlier key"},
		{"<key name='k' match='//ev:entry' use='$g'/><let name='g' value='1'/>"
		 "<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "key k: use: unknown variable $g (keys see only params and data)"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='count(//ev:entry'>m</assert></rule>",
		 "rule R-X: assert test: "},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='1 +'>m</assert></rule>",
		 "at offset"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>found {count(.)</assert></rule>",
		 "rule R-X: message: '{' without its '}'"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>found }</assert></rule>",
		 "'}' without its '{' (write }} for a brace)"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>found {$nope}</assert></rule>",
		 "rule R-X: message {$nope}: unknown variable $nope"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()' seqs='$nope'>m</assert></rule>",
		 "rule R-X: assert seqs: unknown variable $nope"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<report test='$ml:x'>m</report></rule>",
		 "rule R-X: report test: variable $ml:x: variables have no prefix"},
		{"<phase id='now'/><rule id='R-X' severity='deny' phase='now later' context='/'>"
		 "<title>t</title><assert test='true()'>m</assert></rule>",
		 "rule R-X: unknown phase 'later' (declare it with <phase>)"},
		{"<waivers><waivable rule='R-X R-Y' role='risk-officer'/></waivers>"
		 "<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "waivers: unknown rule 'R-Y'"},
		{"<waivers><waivable rule='R-X' role='risk-officer'/><never rule='R-X'/></waivers>"
		 "<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "waivers: rule R-X is both waivable and never waivable"},
		{"<param name='n' type='number' default='abc'/>"
		 "<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "param n: default 'abc' is not a number"},
		{"<param name='s' values='a b' default='c'/>"
		 "<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "param s: default 'c' is not one of a, b"},
		{"<param name='n' default='1'/><let name='n' value='2'/>"
		 "<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "let n: the name is already used"},
		{"<data name='n'/><rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<let name='n' value='2'/><assert test='true()'>m</assert></rule>",
		 "rule R-X: let n: the name is already used"},
		{"<ns prefix='ev' uri='urn:x'/><rule id='R-X' severity='deny' context='/'>"
		 "<title>t</title><assert test='true()'>m</assert></rule>",
		 "ns: the prefix 'ev' is reserved"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>"
		 "<rule id='R-X' severity='warn' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "Duplicate key-sequence ['R-X']"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title></rule>",
		 "Missing child element(s)"},
		{"<rule id='R X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule>",
		 "attribute 'id'"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule><extra/>",
		 "Element 'extra': This element is not expected"},
		{"<rule id='R-X' severity='deny' context='/'><title>t</title>"
		 "<assert test='true()'>m</assert></rule></policy><policy>",
		 ":1: Extra content at the end of the document"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[4096];
		struct ml_err e;
		snprintf(text, sizeof text, "<policy xmlns='" NS "' id='t' version='1'>%s</policy>",
			 cases[i].body);
		if (load_text(text, &e) != ML_EPOLICY || !strstr(e.msg, cases[i].msg))
			fprintf(stderr, "case %zu: want \"%s\", got %d \"%s\"\n", i, cases[i].msg,
				e.code, e.msg);
		assert_int_equal(e.code, ML_EPOLICY);
		assert_contains(e.msg, cases[i].msg);
		assert_contains(e.msg, "/p.xml:"); /* names the file */
	}
}

static void
test_load_error_fixtures(void **state)
{
	static const struct {
		const char *file, *msg;
	} cases[] = {
		{"invalid-schema.xml",
		 "invalid-schema.xml:10: Element 'rule', attribute 'severity': [facet 'enumeration'] "
		 "The value 'block' is not an element of the set {'deny', 'warn', 'info'}."},
		{"unknown-function.xml",
		 "unknown-function.xml:7: rule R-VERSION: assert test: unknown function "
		 "ml:version-compair()"},
		{"unknown-variable.xml",
		 "unknown-variable.xml:8: rule R-COUNT: assert test: unknown variable $min-aprovers"},
		{"undeclared-entity.xml", "undeclared-entity.xml:4: Entity 'xxe' not defined"},
		{"xinclude.xml", "xinclude.xml:4: Element '{http://www.w3.org/2001/XInclude}include': "
				 "This element is not expected."},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[4096];
		struct ml_policyset *p = NULL;
		struct ml_err e;
		fixture(path, sizeof path, cases[i].file);
		ml_err_clear(&e);
		assert_int_equal(ml_policyset_load(path, NULL, 0, &p, &e), ML_EPOLICY);
		assert_null(p);
		assert_contains(e.msg, cases[i].msg);
		assert_int_equal(ml_policyset_lint(path, &e), ML_EPOLICY);
	}
	{
		struct ml_policyset *p = NULL;
		struct ml_err e;
		assert_int_equal(ml_policyset_load("/nonexistent/policy.xml", NULL, 0, &p, &e),
				 ML_EINPUT);
		assert_contains(e.msg, "/nonexistent/policy.xml");
	}
}

/* ---- secure parsing ------------------------------------------------------ */

static int spy_loads, spy_opens;

static xmlParserInputPtr
spy_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	spy_loads++;
	return NULL;
}

static int
spy_match(const char *uri)
{
	(void)uri;
	spy_opens++;
	return 0; /* let the default handlers decide */
}

static void *
spy_open(const char *uri)
{
	(void)uri;
	return NULL;
}

static int
spy_read(void *ctx, char *buf, int len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return -1;
}

static int
spy_close(void *ctx)
{
	(void)ctx;
	return 0;
}

static void
test_xxe(void **state)
{
	static const char *const files[] = {"xxe.xml", "xxe-dtd.xml", "xxe-param.xml",
					    "billion-laughs.xml"};
	xmlExternalEntityLoader old = xmlGetExternalEntityLoader();
	size_t i;

	(void)state;
	xmlSetExternalEntityLoader(spy_loader);
	assert_true(xmlRegisterInputCallbacks(spy_match, spy_open, spy_read, spy_close) >= 0);
	/* the spies see what a permissive parser would fetch */
	{
		char path[4096], *buf;
		size_t len;
		struct ml_err e;
		xmlDocPtr d;
		fixture(path, sizeof path, "xxe.xml");
		assert_int_equal(ml_read_file(path, 1 << 20, &buf, &len, &e), ML_OK);
		spy_loads = spy_opens = 0;
		d = xmlReadMemory(buf, (int)len, "xxe.xml", NULL,
				  XML_PARSE_NOENT | XML_PARSE_DTDLOAD | XML_PARSE_NOERROR |
					  XML_PARSE_NOWARNING);
		xmlFreeDoc(d);
		free(buf);
		assert_true(spy_loads > 0);
	}
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[4096];
		struct ml_policyset *p = NULL;
		struct ml_err e;
		clock_t t0 = clock();
		fixture(path, sizeof path, files[i]);
		spy_loads = spy_opens = 0;
		ml_err_clear(&e);
		assert_int_equal(ml_policyset_load(path, NULL, 0, &p, &e), ML_EPOLICY);
		assert_null(p);
		assert_contains(e.msg, files[i]);
		assert_contains(e.msg, ":2: a DOCTYPE is not allowed");
		assert_int_equal(spy_loads, 0);
		assert_int_equal(spy_opens, 0);
		assert_true(clock() - t0 < CLOCKS_PER_SEC); /* no expansion */
		/* the same rules for other inputs of the policy commands */
		assert_int_equal(ml_policy_xml_read(path, 1 << 20, 64, &(xmlDocPtr){NULL}, &e),
				 ML_EPOLICY);
		assert_int_equal(spy_loads + spy_opens, 0);
	}
	xmlPopInputCallbacks();
	xmlSetExternalEntityLoader(old);
}

static void
test_huge_and_deep(void **state)
{
	char dir[4096], path[4200];
	struct ml_policyset *p = NULL;
	struct ml_err e;
	struct ml_buf b = {0};
	char *big;
	size_t n = (size_t)ML_POLICY_MAX_BYTES + 1, i;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	/* one byte over 4 MiB: refused before parsing */
	assert_non_null(big = malloc(n));
	memset(big, ' ', n);
	memcpy(big, "<policy>", 8);
	write_file(dir, "huge.xml", big, n, path, sizeof path);
	free(big);
	assert_int_equal(ml_policyset_load(path, NULL, 0, &p, &e), ML_EPOLICY);
	assert_contains(e.msg, "huge.xml: larger than 4194304 bytes");
	/* nesting: 65 levels inside data items, then 100000 */
	ml_buf_puts(&b, "<policy xmlns='" NS "' id='t' version='1'><data name='d'><item>");
	for (i = 0; i < 62; i++)
		ml_buf_puts(&b, "<x>");
	write_file(dir, "deep.xml", (char *)b.data, b.len, path, sizeof path);
	assert_int_equal(ml_policyset_load(path, NULL, 0, &p, &e), ML_EPOLICY);
	assert_contains(e.msg, "deep.xml:1: elements nested deeper than 64");
	for (i = 0; i < 100000; i++)
		ml_buf_puts(&b, "<x>");
	write_file(dir, "deeper.xml", (char *)b.data, b.len, path, sizeof path);
	assert_int_equal(ml_policyset_load(path, NULL, 0, &p, &e), ML_EPOLICY);
	assert_contains(e.msg, "elements nested deeper than 64");
	ml_buf_free(&b);
	/* 63 levels are fine as far as depth goes */
	ml_buf_puts(&b, "<policy xmlns='" NS "' id='t' version='1'><data name='d'><item>");
	for (i = 0; i < 60; i++)
		ml_buf_puts(&b, "<x>");
	for (i = 0; i < 60; i++)
		ml_buf_puts(&b, "</x>");
	ml_buf_puts(&b, "</item></data><rule id='R' severity='deny' context='/'><title>t</title>"
			"<assert test='count($d) = 1'>m</assert></rule></policy>");
	write_file(dir, "ok.xml", (char *)b.data, b.len, path, sizeof path);
	assert_int_equal(ml_policyset_load(path, NULL, 0, &p, &e), ML_OK);
	ml_policyset_free(p);
	ml_buf_free(&b);
	/* empty and not XML */
	write_file(dir, "empty.xml", "", 0, path, sizeof path);
	assert_int_equal(ml_policyset_load(path, NULL, 0, &p, &e), ML_EPOLICY);
	write_file(dir, "text.xml", "id: production\n", 15, path, sizeof path);
	assert_int_equal(ml_policyset_load(path, NULL, 0, &p, &e), ML_EPOLICY);
	assert_contains(e.msg, "text.xml:1: ");
	tu_rmtree(dir);
}

/* ---- the XPath scanner --------------------------------------------------- */

struct scan_log {
	char text[1024];
};

static int
scan_cb(void *ctx, const struct ml_xref *r)
{
	struct scan_log *l = ctx;
	size_t o = strlen(l->text);
	static const char kinds[] = {'$', 'p', 'f'};

	snprintf(l->text + o, sizeof l->text - o, "%c%.*s%s%.*s", kinds[r->kind], (int)r->plen,
		 r->prefix ? r->prefix : "", r->plen ? ":" : "", (int)r->nlen, r->name);
	o = strlen(l->text);
	if (r->kind == ML_XREF_FUNC)
		snprintf(l->text + o, sizeof l->text - o, "/%d%s%.*s", r->nargs, r->arg1 ? "'" : "",
			 (int)(r->arg1 ? r->arg1len : 0), r->arg1 ? r->arg1 : "");
	o = strlen(l->text);
	snprintf(l->text + o, sizeof l->text - o, " ");
	return 0;
}

static void
test_xpath_scan(void **state)
{
	static const struct {
		const char *expr, *refs;
	} cases[] = {
		{"ml:key('k', $x)", "$x fml:key/2'k "},
		{"count(ev:entry) * 2 div 3 mod 1 and $a or $b", "pev:entry fcount/1 $a $b "},
		{"ev:*[@ml:x = 'a:b(c)']", "pev:* pml:x "},
		{"child::ev:entry/attribute::seq | ancestor-or-self::node()", "pev:entry "},
		{"text() | comment() | processing-instruction('x')", ""},
		{"f(g(1, 2), h())", "fg/2 fh/0 ff/2 "},
		{"ml:key(concat('a', 'b'), 1)", "fconcat/2'a fml:key/2 "},
		{"ml:key('a' , 1)", "fml:key/2'a "},
		{"concat(\"it's\", 'x')", "fconcat/2'it's "},
		{"$a-b - $c", "$a-b $c "},
		{"a/b[c = 'd'][1]/..", ""},
		{".5 + 1.5 - -2", ""},
		{"$x[. != 1 and . <= 2 and . >= 3]//y", "$x "},
		{"*", ""},
		{"x:*", "px:* "},
	};
	static const struct {
		const char *expr, *why;
	} bad[] = {
		{"'abc", "unterminated string literal"},
		{"f(1", "unclosed '('"},
		{"f(1]", "unbalanced ']'"},
		{"a ! b", "stray '!'"},
		{"a # b", "unexpected character '#'"},
		{"$", "'$' without a variable name"},
		{"1, 2", "',' outside a function call"},
		{"x:", "stray ':'"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct scan_log l = {{0}};
		char why[128];
		assert_int_equal(ml_xpath_scan(cases[i].expr, scan_cb, &l, why, sizeof why), 0);
		if (strcmp(l.text, cases[i].refs) != 0)
			fprintf(stderr, "%s: \"%s\"\n", cases[i].expr, l.text);
		assert_string_equal(l.text, cases[i].refs);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct scan_log l = {{0}};
		char why[128] = "";
		assert_int_equal(ml_xpath_scan(bad[i].expr, scan_cb, &l, why, sizeof why), ML_EPOLICY);
		assert_contains(why, bad[i].why);
	}
}

/* ---- speed ----------------------------------------------------------------- */

/* An evidence document of about n entries: 10 versions, each with a model,
 * an evaluation, approvals, a deployment and monitoring; the last version
 * is the candidate. */
static xmlDocPtr
synthetic_evidence(int n, int *entries)
{
	struct ml_buf b = {0};
	struct ml_err e;
	xmlDocPtr d = NULL;
	int seq = 100, v, versions = n / 10;

	ml_buf_printf(&b, "<ev:evidence xmlns:ev='https://mlledger.dev/evidence/v1' "
			  "as-of='2026-11-27T07:31:41Z' as-of-epoch='1795764701' "
			  "subject='m@1.%d.0' name='m' version='1.%d.0' env='prod'>",
		      versions - 1, versions - 1);
	/* each version takes 11 entries from seq 100: its model is the third */
	ml_buf_printf(&b, "<ev:candidate ref='m@1.%d.0' name='m' version='1.%d.0' digest='sha256:%064d' "
			  "seq='%d' author='ci' person='ci' env='prod'/>",
		      versions - 1, versions - 1, versions - 1, 100 + 11 * (versions - 1) + 2);
	ml_buf_puts(&b, "<ev:entry seq='1' kind='dataset' ref='d@1' name='d' version='1' "
			"digest='sha256:00' author='ci' person='ci' keyid='ci+1' roles='engineer' epoch='1'>"
			"<ev:property name='license' value='MIT'/></ev:entry>");
	for (v = 0; v < versions; v++) {
		int t = 1790000000 + v * 100000, k;
		char ref[32], dig[80];
		snprintf(ref, sizeof ref, "m@1.%d.0", v);
		snprintf(dig, sizeof dig, "sha256:%064d", v);
		ml_buf_printf(&b, "<ev:entry seq='%d' kind='monitoring' ref='%s' name='m' "
				  "version='1.%d.0' digest='%s' author='ci' person='ci' keyid='ci+1' roles='engineer' "
				  "epoch='%d' environment='prod'><ev:metric name='auc' value='0.8' direction='higher'/></ev:entry>",
			      seq++, ref, v, dig, t);
		ml_buf_printf(&b, "<ev:entry seq='%d' kind='incident' ref='%s' name='m' version='1.%d.0' "
				  "digest='%s' author='ci' person='ci' keyid='ci+1' roles='engineer' epoch='%d' "
				  "severity='low' description='d'/>",
			      seq++, ref, v, dig, t);
		ml_buf_printf(&b, "<ev:entry seq='%d' kind='model' ref='%s' name='m' version='1.%d.0' "
				  "digest='%s' author='ci' person='ci' keyid='ci+1' roles='engineer' epoch='%d'>"
				  "<ev:dataset ref='d@1' digest='sha256:00'/>"
				  "<ev:metric name='auc' value='0.%d' direction='higher'/></ev:entry>",
			      seq++, ref, v, dig, t, 80 + v);
		ml_buf_printf(&b, "<ev:entry seq='%d' kind='evaluation' ref='%s' name='m' version='1.%d.0' "
				  "digest='%s' author='bob' person='bob' keyid='bob+1' roles='validator' epoch='%d'>"
				  "<ev:metric name='auc' value='0.%d' direction='higher'/></ev:entry>",
			      seq++, ref, v, dig, t + 10, 80 + v);
		for (k = 0; k < 4; k++)
			ml_buf_printf(&b, "<ev:entry seq='%d' kind='approval' ref='%s' name='m' "
					  "version='1.%d.0' digest='%s' author='a%d' person='a%d' keyid='a%d+1' "
					  "roles='approver' epoch='%d' environment='%s' decision='%s'/>",
				      seq++, ref, v, dig, k, k, k, t + 20 + k, k == 3 ? "staging" : "prod",
				      k == 2 && v == 0 ? "reject" : "approve");
		ml_buf_printf(&b, "<ev:entry seq='%d' kind='deployment' ref='%s' name='m' version='1.%d.0' "
				  "digest='%s' author='ci' person='ci' keyid='ci+1' roles='engineer' epoch='%d' "
				  "environment='%s'/>",
			      seq++, ref, v, dig, t + 30, v == versions - 1 ? "staging" : "prod");
		ml_buf_printf(&b, "<ev:entry seq='%d' kind='waiver' ref='%s' name='m' version='1.%d.0' "
				  "digest='%s' author='rita' person='rita' keyid='rita+1' roles='risk-officer' epoch='%d' "
				  "rule='PROD-INCIDENT' expires='2027-01-01' reason='r'/>",
			      seq++, ref, v, dig, t + 40);
		ml_buf_printf(&b, "<ev:entry seq='%d' kind='retirement' ref='m@1.%d.0' name='m' "
				  "version='1.%d.0' digest='%s' author='ci' person='ci' keyid='ci+1' roles='engineer' "
				  "epoch='%d' environment='prod' reason='superseded'/>",
			      seq++, v > 1 ? v - 2 : 0, v > 1 ? v - 2 : 0, dig, t + 50);
	}
	ml_buf_puts(&b, "</ev:evidence>");
	assert_int_equal(b.oom, 0);
	assert_int_equal(ml_policy_xml_parse((char *)b.data, b.len, "synthetic", 64, &d, &e), ML_OK);
	ml_buf_free(&b);
	*entries = seq - 100 + 1;
	return d;
}

/* Evaluating the same evidence again and again gives the same findings:
 * nothing of one evaluation leaks into the next.  (How long it takes is
 * make bench's to measure: "gate, median", docs/PERFORMANCE.md.) */
static void
test_repeated_eval(void **state)
{
	struct ml_policyset *p = load_production(NULL, 0);
	struct ml_findings f;
	struct ml_err e;
	int entries, i, runs = 50;
	xmlDocPtr d = synthetic_evidence(100, &entries);
	size_t n;
	int verdict;

	(void)state;
	memset(&f, 0, sizeof f);
	assert_int_equal(ml_policyset_eval(p, d, NULL, NULL, &f, &e), ML_OK);
	/* sanity: the synthetic candidate passes approvals and evaluation */
	assert_outcome(&f, "PROD-APPROVAL", 0, ML_OUT_PASS);
	assert_outcome(&f, "PROD-EVALUATION", 0, ML_OUT_PASS);
	assert_outcome(&f, "PROD-INCIDENT", 0, ML_OUT_PASS);
	n = f.n;
	verdict = f.verdict;
	ml_findings_free(&f);
	assert_true(entries > 100);
	for (i = 0; i < runs; i++) {
		memset(&f, 0, sizeof f);
		assert_int_equal(ml_policyset_eval(p, d, NULL, NULL, &f, &e), ML_OK);
		assert_int_equal(f.n, n);
		assert_int_equal(f.verdict, verdict);
		assert_outcome(&f, "PROD-APPROVAL", 0, ML_OUT_PASS);
		ml_findings_free(&f);
	}
	xmlFreeDoc(d);
	ml_policyset_free(p);
}

/* Asserts two findings lists are the same, finding by finding. */
static void
assert_same_findings(const struct ml_findings *a, const struct ml_findings *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	assert_int_equal(a->verdict, b->verdict);
	for (i = 0; i < a->n; i++) {
		assert_string_equal(a->items[i].rule_id, b->items[i].rule_id);
		assert_int_equal(a->items[i].outcome, b->items[i].outcome);
		assert_string_equal(a->items[i].message ? a->items[i].message : "(null)",
				    b->items[i].message ? b->items[i].message : "(null)");
		assert_int_equal(a->items[i].nseqs, b->items[i].nseqs);
		if (a->items[i].nseqs)
			assert_memory_equal(a->items[i].seqs, b->items[i].seqs,
					    a->items[i].nseqs * sizeof *a->items[i].seqs);
	}
}

/* A set keeps its XPath contexts from one evaluation to the next
 * (policy_eval.c, take_contexts): one set evaluating every fixture in turn
 * (each document freed after its evaluation), forwards and back, gives what
 * a new set gives for each, for the production policy and for one whose
 * rules fail in evaluation (indeterminate). */
static void
test_kept_contexts(void **state)
{
	static const char *const ev[] = {
		"ev-pass.xml", "ev-approval-fail.xml", "ev-approval-reapproved.xml",
		"ev-eval-missing.xml", "ev-freeze.xml", "ev-incident.xml", "ev-license-fail.xml",
		"ev-metric-lower.xml", "ev-metric-undeclared.xml", "ev-metric-worse.xml",
		"ev-waived-pass.xml", "ev-waivers.xml",
	};
	const size_t n = sizeof ev / sizeof ev[0];
	char path[4096];
	size_t pass, i, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct ml_policyset *kept;
		if (k == 0)
			production(path, sizeof path);
		else
			fixture(path, sizeof path, "indeterminate.xml");
		kept = load_params(path, NULL, 0);
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i < n; i++) {
				const char *name = ev[pass ? n - 1 - i : i];
				struct ml_policyset *fresh = load_params(path, NULL, 0);
				struct ml_findings a, b;
				memset(&a, 0, sizeof a);
				memset(&b, 0, sizeof b);
				eval_into(kept, name, NULL, &a);
				eval_into(fresh, name, NULL, &b);
				assert_same_findings(&a, &b);
				ml_findings_free(&a);
				ml_findings_free(&b);
				ml_policyset_free(fresh);
			}
		ml_policyset_free(kept);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_accessors),
		cmocka_unit_test(test_all_pass),
		cmocka_unit_test(test_approval_fail),
		cmocka_unit_test(test_approval_reapproved),
		cmocka_unit_test(test_approval_params),
		cmocka_unit_test(test_license_fail),
		cmocka_unit_test(test_license_param_override),
		cmocka_unit_test(test_evaluation_missing),
		cmocka_unit_test(test_metric_worse),
		cmocka_unit_test(test_incident),
		cmocka_unit_test(test_freeze),
		cmocka_unit_test(test_waivers),
		cmocka_unit_test(test_waivers_let_through),
		cmocka_unit_test(test_waiver_subject),
		cmocka_unit_test(test_params_errors),
		cmocka_unit_test(test_eval_input_errors),
		cmocka_unit_test(test_eval_appends),
		cmocka_unit_test(test_indeterminate),
		cmocka_unit_test(test_op_limit_production),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_combining),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_key_concat_compile),
		cmocka_unit_test(test_key_concat_same),
		cmocka_unit_test(test_kept_contexts),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_error_fixtures),
		cmocka_unit_test(test_xxe),
		cmocka_unit_test(test_huge_and_deep),
		cmocka_unit_test(test_xpath_scan),
		cmocka_unit_test(test_repeated_eval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for sweep.h's contracts: ml_sweep_each hands every subject's
 * results on exactly once, in subject order, with 1, 2 and 4 workers, and
 * each result is that subject's (a rule that fails for one model only);
 * ml_sweep gives the same; an evidence error (an unknown model) stops the
 * sweep and is returned with no subject after it handed on, unless
 * keep_going makes it that subject's result; a callback's error stops the
 * sweep the same way; a policy that does not load is named. */
#include "testutil.h"
#include "testledger.h"

#include "findings.h"
#include "sweep.h"

#define NMODELS 7
#define PER 9                    /* subjects per model: the sweep's units */
#define NSUB (NMODELS * PER)     /* hold 16 or more, so 63 make several */

struct fx {
	char dir[256], path[300], policy[300], broken[300];
	struct ml_seckey *admin, *ci;
};

static const char policy_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<policy xmlns=\"https://mlledger.dev/policy/v1\" id=\"unit-sweep\" version=\"1\">\n"
	"  <rule id=\"NOT-M2\" severity=\"deny\" context=\"/ev:evidence\">\n"
	"    <title>not model m2</title>\n"
	"    <assert test=\"@name != 'm2' and ev:candidate\">m2 is refused</assert>\n"
	"  </rule>\n"
	"</policy>\n";

static void
write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Entries: 0 genesis, 1 enrol ci, 2 dataset, 3.. models m0@1 .. m6@1. */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char ref[32], digest[80];
	int i;

	assert_non_null(f);
	tu_tmpdir(f->dir, sizeof f->dir);
	snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
	snprintf(f->policy, sizeof f->policy, "%s/policy.xml", f->dir);
	snprintf(f->broken, sizeof f->broken, "%s/broken.xml", f->dir);
	write_text(f->policy, policy_xml);
	write_text(f->broken, "<policy xmlns=\"https://mlledger.dev/policy/v1\"><rule");
	f->admin = tl_key("admin", 1);
	f->ci = tl_key("ci", 3);
	tl_init(f->path, f->admin);
	tl_enrol(f->path, f->admin, f->ci, "engineer", NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject",
					"cb@2026-10", "digest", TL_D1), NULL);
	for (i = 0; i < NMODELS; i++) {
		snprintf(ref, sizeof ref, "m%d@1", i);
		snprintf(digest, sizeof digest, "sha256:%064d", i + 1);
		tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:[s]}", "kind", "model", "subject",
						ref, "digest", digest, "datasets", "cb@2026-10"),
		      NULL);
	}
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
	free(f);
	return 0;
}

static void
opts(struct fx *f, struct ml_sweep_opts *o, const char *const *pol, size_t jobs)
{
	memset(o, 0, sizeof *o);
	o->ledger = f->path;
	o->policies = pol;
	o->npolicies = 1;
	o->as_of_us = ml_now_us();
	o->evidence_flags = 0;
	o->jobs = jobs;
}

/* What the callback saw: the order of the subjects, and each one's result. */
struct seen {
	size_t order[64];
	size_t n;
	int outcome[64];
	int rc[64];
	char subject[64][40];
	size_t stop_at;  /* SIZE_MAX: never */
};

static int
record(void *ctx, size_t i, struct ml_sweep_result *r, struct ml_err *e)
{
	struct seen *s = ctx;

	assert_true(s->n < 64);
	s->order[s->n++] = i;
	s->rc[i] = r[0].rc;
	s->outcome[i] = r[0].fs.n ? (int)r[0].fs.items[0].outcome : -1;
	snprintf(s->subject[i], sizeof s->subject[i], "%s",
		 r[0].fs.n && r[0].fs.items[0].subject ? r[0].fs.items[0].subject : "");
	if (i == s->stop_at)
		return ml_err_set(e, ML_EIO, "stop at %zu", i);
	return 0;
}

static void
subjects(struct ml_sweep_subject *v, size_t n)
{
	size_t i;

	memset(v, 0, n * sizeof *v);
	for (i = 0; i < n; i++) /* grouped by model name, as sweep.h asks */
		snprintf(v[i].ref, sizeof v[i].ref, "m%zu@1", i / PER);
}

static void
test_order_every_jobs(void **state)
{
	static const size_t jobs[] = {1, 2, 4};
	struct fx *f = *state;
	const char *pol[] = {f->policy};
	struct ml_sweep_subject v[NSUB];
	struct ml_sweep_result res[NSUB];
	struct ml_sweep_opts o;
	struct ml_err e;
	size_t j, i;

	subjects(v, NSUB);
	for (j = 0; j < sizeof jobs / sizeof *jobs; j++) {
		struct seen s;
		memset(&s, 0, sizeof s);
		s.stop_at = SIZE_MAX;
		opts(f, &o, pol, jobs[j]);
		ml_err_clear(&e);
		if (ml_sweep_each(&o, v, NSUB, record, &s, &e) != ML_OK)
			fail_msg("jobs %zu: %s", jobs[j], e.msg);
		assert_int_equal(s.n, NSUB); /* none lost, none twice */
		for (i = 0; i < NSUB; i++) {
			assert_int_equal(s.order[i], i);
			assert_int_equal(s.rc[i], ML_OK);
			assert_int_equal(s.outcome[i], i / PER == 2 ? ML_OUT_FAIL : ML_OUT_PASS);
			assert_non_null(strstr(s.subject[i], v[i].ref));
		}
		/* ml_sweep: the same results, in place */
		memset(res, 0, sizeof res);
		assert_int_equal(ml_sweep(&o, v, NSUB, res, &e), ML_OK);
		for (i = 0; i < NSUB; i++) {
			assert_int_equal(res[i].rc, ML_OK);
			assert_int_equal(res[i].fs.n, 1);
			assert_int_equal(res[i].fs.items[0].outcome,
					 i / PER == 2 ? ML_OUT_FAIL : ML_OUT_PASS);
			ml_findings_free(&res[i].fs);
		}
	}
}

/* An unknown model at indexes 36..44 (the fifth model's): without
 * keep_going the sweep stops there and returns the error, handing on 0..35
 * only; with it, those carry the error and every subject is handed on. */
static void
test_error_stops(void **state)
{
	static const size_t jobs[] = {1, 2, 4};
	struct fx *f = *state;
	const char *pol[] = {f->policy};
	struct ml_sweep_subject v[NSUB];
	struct ml_sweep_opts o;
	struct ml_err e;
	size_t j, i;

	subjects(v, NSUB);
	for (i = 4 * PER; i < 5 * PER; i++)
		snprintf(v[i].ref, sizeof v[i].ref, "nosuch@1");
	for (j = 0; j < sizeof jobs / sizeof *jobs; j++) {
		struct seen s;
		memset(&s, 0, sizeof s);
		s.stop_at = SIZE_MAX;
		opts(f, &o, pol, jobs[j]);
		ml_err_clear(&e);
		assert_int_not_equal(ml_sweep_each(&o, v, NSUB, record, &s, &e), ML_OK);
		assert_non_null(strstr(e.msg, "nosuch"));
		assert_int_equal(s.n, 4 * PER);
		for (i = 0; i < 4 * PER; i++)
			assert_int_equal(s.order[i], i);

		memset(&s, 0, sizeof s);
		s.stop_at = SIZE_MAX;
		o.keep_going = 1;
		ml_err_clear(&e);
		if (ml_sweep_each(&o, v, NSUB, record, &s, &e) != ML_OK)
			fail_msg("keep_going, jobs %zu: %s", jobs[j], e.msg);
		assert_int_equal(s.n, NSUB);
		for (i = 0; i < NSUB; i++) {
			assert_int_equal(s.order[i], i);
			if (i / PER == 4)
				assert_int_not_equal(s.rc[i], ML_OK);
			else
				assert_int_equal(s.rc[i], ML_OK);
		}
	}
}

/* The callback's own error stops the sweep: returned as is, nothing after. */
static void
test_callback_error_stops(void **state)
{
	static const size_t jobs[] = {1, 2, 4};
	struct fx *f = *state;
	const char *pol[] = {f->policy};
	struct ml_sweep_subject v[NSUB];
	struct ml_sweep_opts o;
	struct ml_err e;
	size_t j;

	subjects(v, NSUB);
	for (j = 0; j < sizeof jobs / sizeof *jobs; j++) {
		struct seen s;
		memset(&s, 0, sizeof s);
		s.stop_at = 20;
		opts(f, &o, pol, jobs[j]);
		ml_err_clear(&e);
		assert_int_equal(ml_sweep_each(&o, v, NSUB, record, &s, &e), ML_EIO);
		assert_string_equal(e.msg, "stop at 20");
		assert_int_equal(s.n, 21);
		assert_int_equal(s.order[20], 20);
	}
}

static void
test_policy_does_not_load(void **state)
{
	struct fx *f = *state;
	const char *pol[] = {f->broken};
	struct ml_sweep_subject v[NSUB];
	struct ml_sweep_opts o;
	struct seen s;
	struct ml_err e;
	int rc;

	memset(&s, 0, sizeof s);
	s.stop_at = SIZE_MAX;
	subjects(v, NSUB);
	opts(f, &o, pol, 2);
	ml_err_clear(&e);
	rc = ml_sweep_each(&o, v, NSUB, record, &s, &e);
	assert_true(rc == ML_EPOLICY || rc == ML_EINPUT);
	assert_non_null(strstr(e.msg, "broken.xml"));
	assert_int_equal(s.n, 0);
}

static void
test_default_jobs(void **state)
{
	(void)state;
	assert_int_equal(ml_sweep_default_jobs(1), 1);
	assert_int_equal(ml_sweep_default_jobs(15), 1);
	assert_true(ml_sweep_default_jobs(16) <= 2); /* nsubjects / 16 + 1 */
	assert_true(ml_sweep_default_jobs(100000) >= 1);
	assert_true(ml_sweep_default_jobs(100000) <= ML_SWEEP_MAX_JOBS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_every_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_error_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_does_not_load, setup, teardown),
		cmocka_unit_test(test_default_jobs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

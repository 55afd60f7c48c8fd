/* Unit tests for the lint warning about = and != between two node-sets
 * (XPath 1.0 compares them existentially: true when any pair of nodes
 * matches, the trap behind a segregation-of-duties bypass).  Each case is
 * one assert test in a small policy with variables of every kind: a
 * node-set let ($b, from ml:key), a one-node let ($one = .), the latest of
 * a set ($last), data ($d), a string let ($s) and a param ($p).  Warnings
 * name the file and the line and never change the load's result. */
#include <glob.h>

#include "testutil.h"

#include "policy.h"
#include "util.h"

static char dir[4096];

static int
setup(void **state)
{
	(void)state;
	tu_tmpdir(dir, sizeof dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tu_rmtree(dir);
	return 0;
}

/* Loads a policy whose rule asserts test (XML-escaped by the caller) on
 * line 12, and returns its warning count; *msg gets the first warning. */
static size_t
warnings(const char *test, char *msg, size_t cap)
{
	char path[4200];
	struct ml_policyset *p = NULL;
	struct ml_err e;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "%s/lint.xml", dir);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp,
		"<policy xmlns=\"https://mlledger.dev/policy/v1\" id=\"lint\" version=\"1\">\n"
		"  <param name=\"p\" default=\"x\"/>\n"
		"  <data name=\"d\"><item v=\"a\"/></data>\n"
		"  <key name=\"k\" match=\"/ev:evidence/ev:entry\" use=\"@kind\"/>\n"
		"  <let name=\"b\" value=\"ml:key('k', 'approval')\"/>\n"
		"  <let name=\"s\" value=\"string(/ev:evidence/@env)\"/>\n"
		"  <rule id=\"R\" severity=\"deny\" context=\"/ev:evidence/ev:entry\">\n"
		"    <title>t</title>\n"
		"    <let name=\"one\" value=\".\"/>\n"
		"    <let name=\"last\" value=\"ml:latest($b)\"/>\n"
		"    <let name=\"c\" value=\"$b/@person | $d/@v\"/>\n"
		"    <assert test=\"%s\">m</assert>\n"
		"  </rule>\n"
		"</policy>\n",
		test);
	assert_int_equal(fclose(fp), 0);
	ml_err_clear(&e);
	if (ml_policyset_load(path, NULL, 0, &p, &e) != ML_OK)
		fprintf(stderr, "load %s: %s\n", test, e.msg);
	assert_non_null(p);
	n = ml_policyset_warning_count(p);
	if (msg)
		snprintf(msg, cap, "%s", n ? ml_policyset_warning(p, 0) : "");
	ml_policyset_free(p);
	return n;
}

static void
test_warns(void **state)
{
	static const char *const yes[] = {
		"@a = $b/@a",                        /* the example */
		"@keyid != $b/@keyid",               /* the old segregation-of-duties test */
		"$b = $c",                           /* two node-set lets */
		"$b/@person = $d/@v",                /* data are node-sets */
		"not($b/@person = $c)",              /* inverted, still existential */
		"count($b[@person = $c]) = 0",       /* inside a predicate */
		"ml:key('k', 'x')/@a != ml:data('d')/@v",
		"/ev:evidence/ev:entry/@seq = $b/@seq",
		"@a = ml:distinct($b/@a)",
		"(@a | @b) = $one/@a",               /* a union is not one node */
		"@a = $one/../ev:entry/@a",          /* child steps: many */
		"@a = //ev:entry/@a",
		"ml:if(true(), $b, $c) = @a",
		"$b/@a=$b/@b",                       /* no spaces */
		"@a = $b/@a and string(@a) = $s",
	};
	char msg[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (warnings(yes[i], msg, sizeof msg) != 1) {
			fprintf(stderr, "no warning for %s\n", yes[i]);
			fail();
		}
		assert_non_null(strstr(msg, "/lint.xml:12: warning: node-set "));
		assert_non_null(strstr(msg, "compares existentially (true if any pair matches); "
					    "use count()/not() or ml: functions"));
		assert_non_null(strstr(msg, "rule R: assert test"));
	}
	warnings("@a != $b/@a", msg, sizeof msg);
	assert_non_null(strstr(msg, "node-set != node-set"));
}

static void
test_quiet(void **state)
{
	static const char *const no[] = {
		"string(@a) = $b/@a",                /* a string against a node-set */
		"@a = 'x'",
		"'x' = $b/@a",
		"$s = $b/@env",                      /* a string let */
		"$p = @a",                           /* params are not node-sets */
		"count($b) = count($c)",
		"number(@seq) &lt; ml:max($b/@seq)",
		"$b/@seq &lt; $c",                   /* relational: not existential-equality */
		"@a = @b",                           /* one node each */
		"@digest = $one/@digest",            /* the context node's attribute */
		"@a = $last/@a",                     /* ml:latest: one node */
		"ml:latest($b)/@a = ../@a",
		"not(ml:key('k', concat(@ref, '|', @person)))",
		"ml:distinct-count($b/@person) &gt;= 2",
		"$b[@decision = 'approve']",
		"ml:in-list($p, string(@a)) = true()",
		"@a = $b/@a[1] or true()",           /* unknown predicates: still many */
	};
	size_t i;

	(void)state;
	/* the last one does warn: a positional predicate is not understood */
	for (i = 0; i + 1 < sizeof no / sizeof no[0]; i++)
		if (warnings(no[i], NULL, 0) != 0) {
			fprintf(stderr, "a warning for %s\n", no[i]);
			fail();
		}
	assert_int_equal(warnings(no[i], NULL, 0), 1);
}

/* The shipped policies give no warning: every .xml file of policies/ (a pack added
 * later is checked without editing this list), and at least the four packs
 * shipped today, so an empty glob cannot pass. */
static void
test_shipped(void **state)
{
	const char *d = getenv("MLLEDGER_TEST_DATA");
	char pattern[4096];
	glob_t g;
	size_t i, j;
	int seen_us = 0;

	(void)state;
	snprintf(pattern, sizeof pattern, "%s/../../policies/*.xml", d && *d ? d : "tests/data");
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 4);
	for (i = 0; i < g.gl_pathc; i++) {
		struct ml_policyset *p = NULL;
		struct ml_err e;

		if (strstr(g.gl_pathv[i], "/us-model-risk.xml"))
			seen_us = 1;
		ml_err_clear(&e);
		if (ml_policyset_load(g.gl_pathv[i], NULL, 0, &p, &e) != ML_OK)
			fprintf(stderr, "%s: %s\n", g.gl_pathv[i], e.msg);
		assert_non_null(p);
		for (j = 0; j < ml_policyset_warning_count(p); j++)
			fprintf(stderr, "%s\n", ml_policyset_warning(p, j));
		assert_int_equal(ml_policyset_warning_count(p), 0);
		ml_policyset_free(p);
	}
	globfree(&g);
	assert_true(seen_us);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warns),
		cmocka_unit_test(test_quiet),
		cmocka_unit_test(test_shipped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

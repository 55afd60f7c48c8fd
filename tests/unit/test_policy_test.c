/* Unit tests for policy_test (the `mlledger policy test` runner): relative
 * times, a run whose expectations all hold (with coverage), a failing
 * expectation reported with its file, line, case, rule, expected and got,
 * absent findings, test files refused (DOCTYPE, unknown rule id, unknown
 * fixture, an expect with both rule and verdict, a fixture line that cannot
 * be recorded, an unknown data override) with the temporary folder removed
 * on every path, keys with a person (and a rotation), and
 * ml_policyset_load_ex's data overrides. */
#include "testutil.h"

#include <dirent.h>
#include <limits.h>

#include "policy.h"
#include "policy_test.h"
#include "util.h"

static char dir[4096];
static char production[PATH_MAX];

static int
setup(void **state)
{
	const char *d = getenv("MLLEDGER_TEST_DATA");
	char rel[4096];

	(void)state;
	snprintf(rel, sizeof rel, "%s/../../policies/production.xml", d && *d ? d : "tests/data");
	assert_non_null(realpath(rel, production));
	tu_tmpdir(dir, sizeof dir);
	/* the runner's own temporary folders go here, so tests can see them */
	setenv("TMPDIR", dir, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tu_rmtree(dir);
	return 0;
}

static void
write_text(const char *name, const char *text)
{
	char path[8192];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* Entries of dir whose name starts with mlledger-ptest- (runner folders). */
static int
runner_folders(void)
{
	struct dirent *d;
	DIR *dd = opendir(dir);
	int n = 0;

	assert_non_null(dd);
	while ((d = readdir(dd)))
		n += strncmp(d->d_name, "mlledger-ptest-", 15) == 0;
	closedir(dd);
	return n;
}

/* Each line signed by a key whose roles may sign its kind (FORMAT.md §2):
 * ci an engineer, bob a validator and approver, alice an approver. */
static const char lines[] =
	"{\"as\":\"ci\",\"kind\":\"dataset\",\"subject\":\"cb@1\",\"digest\":\"sha256:"
	"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\","
	"\"properties\":{\"license\":\"MIT\",\"pii\":false}}\n"
	"{\"as\":\"ci\",\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:"
	"0f9ff3d9a6d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\","
	"\"datasets\":[\"cb@1\"],\"metrics\":{\"auc\":0.9}}\n"
	"{\"as\":\"val\",\"kind\":\"evaluation\",\"subject\":\"m@1\",\"metrics\":{\"auc\":0.9}}\n"
	"\n"
	"{\"as\":\"alice\",\"kind\":\"approval\",\"subject\":\"m@1\",\"environment\":\"prod\","
	"\"decision\":\"approve\",\"comment\":\"ok\"}\n";

/* A test file on production.xml: head (before the keys), cases. */
static void
write_tests(const char *name, const char *head, const char *cases)
{
	char text[16384];

	snprintf(text, sizeof text,
		 "%s<tests xmlns=\"https://mlledger.dev/policy-test/v1\" policy=\"%s\">\n"
		 "  <keys><key name=\"ci\" roles=\"engineer\"/><key name=\"val\" roles=\"validator\"/>\n"
		 "    <key name=\"alice\" roles=\"approver\"/><key name=\"bob\" roles=\"approver validator\"/>\n"
		 "  </keys>\n"
		 "  <fixture id=\"one\" file=\"fx.jsonl\"/>\n"
		 "  <fixture id=\"two\" base=\"one\">\n"
		 "    <lines>{\"as\":\"bob\",\"kind\":\"approval\",\"subject\":\"m@1\","
		 "\"environment\":\"prod\",\"decision\":\"approve\",\"comment\":\"ok\"}</lines>\n"
		 "  </fixture>\n"
		 "%s</tests>\n",
		 head, production, cases);
	write_text(name, text);
	write_text("fx.jsonl", lines);
}

static int
run_file(const char *name, struct ml_ptest_result *r, struct ml_err *e)
{
	char path[8192];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	ml_err_clear(e);
	return ml_ptest_run(path, r, e);
}

static void
test_time(void **state)
{
	int64_t now = 1798675200LL * 1000000 + 3600LL * 1000000, us = 42;

	(void)state;
	assert_int_equal(ml_ptest_time("now", now, &us), 0);
	assert_int_equal(us, now);
	assert_int_equal(ml_ptest_time("now+1d", now, &us), 0);
	assert_int_equal(us, now + 86400LL * 1000000);
	assert_int_equal(ml_ptest_time("now-30d", now, &us), 0);
	assert_int_equal(us, now - 30 * 86400LL * 1000000);
	assert_int_equal(ml_ptest_time("now+99999d", now, &us), 0);
	assert_int_equal(ml_ptest_time("2026-12-31", now, &us), 0);
	assert_int_equal(us, 1798675200LL * 1000000);
	assert_int_equal(ml_ptest_time("2026-12-31T01:00:00Z", now, &us), 0);
	assert_int_equal(us, now);
	us = 42;
	static const char *const bad[] = {"", "now+", "now+d", "now+1", "now+1h", "now 1d",
					  "now+-1d", "now+100000d", "now1d", "nowish",
					  "tomorrow", "2026-13-01", "2026-12-31T25:00:00Z",
					  "now+1dd", NULL};
	for (size_t i = 0; bad[i]; i++) {
		if (ml_ptest_time(bad[i], now, &us) == 0)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(us, 42);
	}
	assert_int_equal(ml_ptest_time(NULL, now, &us), ML_EINPUT);
}

static void
test_all_hold(void **state)
{
	struct ml_ptest_result r;
	struct ml_buf out = {0};
	struct ml_err e;

	(void)state;
	memset(&r, 0, sizeof r);
	write_tests("ok.xml", "",
		    "  <case fixture=\"one\" subject=\"m@1\" env=\"prod\" as-of=\"now+1d\">\n"
		    "    <expect rule=\"PROD-APPROVAL\" outcome=\"fail\" message-contains=\"1 of 2\"/>\n"
		    "    <expect rule=\"PROD-EVALUATION\" outcome=\"pass\"/>\n"
		    "    <expect rule=\"PROD-FREEZE\" outcome=\"pass\"/>\n"
		    "    <expect verdict=\"deny\"/>\n"
		    "  </case>\n"
		    "  <case fixture=\"two\" subject=\"m@1\" env=\"prod\" phase=\"audit\">\n"
		    "    <data name=\"freeze-windows\"><item from=\"now-1d\" to=\"now+1d\"/></data>\n"
		    "    <expect rule=\"PROD-APPROVAL\" outcome=\"pass\"/>\n"
		    "    <expect rule=\"PROD-FREEZE\" outcome=\"absent\"/>\n"
		    "    <expect verdict=\"pass\"/>\n"
		    "  </case>\n"
		    "  <case fixture=\"two\" subject=\"m@1\" env=\"prod\" phase=\"pre-deploy\">\n"
		    "    <param name=\"min-approvers\" value=\"3\"/>\n"
		    "    <data name=\"freeze-windows\"><item from=\"now-1d\" to=\"now+1d\"/></data>\n"
		    "    <expect rule=\"PROD-FREEZE\" outcome=\"fail\" message-contains=\"freeze\"/>\n"
		    "    <expect rule=\"PROD-APPROVAL\" outcome=\"fail\" message-contains=\"2 of 3\"/>\n"
		    "  </case>\n");
	if (run_file("ok.xml", &r, &e) != ML_OK)
		fail_msg("%s", e.msg);
	assert_int_equal(r.files, 1);
	assert_int_equal(r.cases, 3);
	assert_int_equal(r.passed, 9);
	assert_int_equal(r.failed, 0);
	assert_int_equal(r.nfailures, 0);
	assert_int_equal(r.npolicies, 1);
	assert_string_equal(r.policies[0].id, "production");
	assert_int_equal(r.policies[0].nrules, 6);
	assert_string_equal(r.policies[0].rules[0], "PROD-APPROVAL");
	assert_true(r.policies[0].pass[0] && r.policies[0].fail[0]);
	assert_true(r.policies[0].pass[4] && r.policies[0].fail[4]); /* PROD-FREEZE */
	assert_false(r.policies[0].fail[2]);                         /* PROD-EVALUATION */
	assert_false(ml_ptest_fully_covered(&r));
	assert_int_equal(ml_ptest_write(&r, 0, &out), ML_OK);
	ml_buf_append(&out, "", 1);
	assert_non_null(strstr((char *)out.data, "policy test: 1 file, 3 cases, 9 expectations: "
						 "9 passed, 0 failed\n"));
	assert_non_null(strstr((char *)out.data,
			       "coverage production: 2/6 rules with pass and fail paths (missing: "
			       "PROD-LICENSE pass and fail, PROD-EVALUATION fail, PROD-INCIDENT "
			       "pass and fail, PROD-GATED pass and fail)\n"));
	assert_int_equal(runner_folders(), 0);
	ml_buf_free(&out);
	ml_ptest_result_free(&r);
}

static void
test_failing_expectation(void **state)
{
	struct ml_ptest_result r;
	struct ml_buf out = {0};
	struct ml_err e;

	(void)state;
	memset(&r, 0, sizeof r);
	write_tests("fails.xml", "",
		    "  <case fixture=\"one\" subject=\"m@1\" env=\"prod\">\n"
		    "    <expect rule=\"PROD-APPROVAL\" outcome=\"pass\"/>\n"
		    "    <expect rule=\"PROD-EVALUATION\" outcome=\"pass\" message-contains=\"nope\"/>\n"
		    "    <expect verdict=\"pass\"/>\n"
		    "    <expect rule=\"PROD-INCIDENT\" outcome=\"pass\"/>\n"
		    "    <expect rule=\"PROD-INCIDENT\" outcome=\"pass\" subject=\"other@1\"/>\n"
		    "  </case>\n");
	if (run_file("fails.xml", &r, &e) != ML_OK)
		fail_msg("%s", e.msg);
	assert_int_equal(r.passed, 1);
	assert_int_equal(r.failed, 4);
	assert_int_equal(r.nfailures, 4);
	assert_int_equal(r.failures[0].line, 10);
	assert_int_equal(r.failures[0].case_no, 1);
	assert_string_equal(r.failures[0].rule, "PROD-APPROVAL");
	assert_string_equal(r.failures[0].expected, "pass");
	assert_string_equal(r.failures[0].got, "fail");
	assert_non_null(strstr(r.failures[0].message, "1 of 2 required approvals"));
	assert_string_equal(r.failures[1].expected, "pass with a message containing \"nope\"");
	assert_string_equal(r.failures[1].got, "pass");
	assert_null(r.failures[2].rule);
	assert_string_equal(r.failures[2].got, "deny");
	assert_string_equal(r.failures[3].got, "absent");
	/* only expectations that held count as coverage */
	assert_false(r.policies[0].pass[0]);
	assert_int_equal(ml_ptest_write(&r, 0, &out), ML_OK);
	ml_buf_append(&out, "", 1);
	if (!strstr((char *)out.data, "fails.xml:10 case 1 rule PROD-APPROVAL (m@1): expected "
				      "pass, got fail: 1 of 2 required approvals"))
		fail_msg("%s", (char *)out.data);
	assert_non_null(strstr((char *)out.data, "fails.xml:12 case 1 verdict: expected pass, "
						 "got deny\n"));
	ml_buf_free(&out);
	ml_ptest_result_free(&r);
}

/* run_file must fail with ML_EPOLICY and a message holding want; r and the
 * temporary folders are left as they were. */
static void
refused(const char *name, const char *want)
{
	struct ml_ptest_result r;
	struct ml_err e;
	int rc;

	memset(&r, 0, sizeof r);
	rc = run_file(name, &r, &e);
	if (rc != ML_EPOLICY || !strstr(e.msg, want))
		fail_msg("%s: rc %d, message '%s', want '%s'", name, rc, e.msg, want);
	assert_int_equal(r.files, 0);
	assert_int_equal(r.nfailures, 0);
	assert_int_equal(r.npolicies, 0);
	assert_int_equal(runner_folders(), 0);
}

static const char one_case[] = "  <case fixture=\"one\" subject=\"m@1\" env=\"prod\">\n"
			       "    <expect verdict=\"deny\"/>\n"
			       "  </case>\n";

static void
test_refused(void **state)
{
	char buf[1024];

	(void)state;
	write_tests("doctype.xml", "<!DOCTYPE tests [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n",
		    one_case);
	refused("doctype.xml", "doctype.xml:1: a DOCTYPE is not allowed");
	write_tests("rule.xml", "",
		    "  <case fixture=\"one\" subject=\"m@1\" env=\"prod\">\n"
		    "    <expect rule=\"PROD-NOPE\" outcome=\"pass\"/>\n"
		    "  </case>\n");
	refused("rule.xml", "rule.xml:10: expect: ");
	refused("rule.xml", "has no rule PROD-NOPE");
	write_tests("fixture.xml", "", "  <case fixture=\"three\" subject=\"m@1\">\n"
				       "    <expect verdict=\"deny\"/></case>\n");
	refused("fixture.xml", "fixture.xml:9: case: no fixture 'three'");
	write_tests("both.xml", "", "  <case fixture=\"one\" subject=\"m@1\">\n"
				    "    <expect verdict=\"deny\" rule=\"PROD-FREEZE\"/></case>\n");
	refused("both.xml", "both.xml:10: expect: give rule (with outcome) or verdict");
	write_tests("schema.xml", "", "  <case fixture=\"one\" subject=\"m@1\">\n"
				      "    <expect rule=\"PROD-FREEZE\" outcome=\"maybe\"/></case>\n");
	refused("schema.xml", "schema.xml:10: ");
	write_tests("data.xml", "", "  <case fixture=\"one\" subject=\"m@1\" env=\"prod\">\n"
				    "    <data name=\"holidays\"/><expect verdict=\"deny\"/></case>\n");
	refused("data.xml", "declares no such data");
	write_tests("model.xml", "", "  <case fixture=\"one\" subject=\"nope@1\" env=\"prod\">\n"
				     "    <expect verdict=\"deny\"/></case>\n");
	refused("model.xml", "model.xml:9: case: unknown model nope@1");
	/* a fixture line the ledger refuses: named by its file and line */
	write_tests("line.xml", "", one_case);
	snprintf(buf, sizeof buf, "%s{\"as\":\"alice\",\"kind\":\"approval\",\"subject\":\"x@1\","
		 "\"environment\":\"prod\",\"decision\":\"approve\"}\n", lines);
	write_text("fx.jsonl", buf);
	refused("line.xml", "fx.jsonl:6: unknown model x@1");
	snprintf(buf, sizeof buf, "%s{\"as\":\"carol\",\"kind\":\"incident\"}\n", lines);
	write_text("fx.jsonl", buf);
	refused("line.xml", "fx.jsonl:6: as: no key named \"carol\"");
	/* a line signed by a key whose roles may not sign its kind */
	snprintf(buf, sizeof buf, "%s{\"as\":\"ci\",\"kind\":\"approval\",\"subject\":\"m@1\","
		 "\"environment\":\"prod\",\"decision\":\"approve\"}\n", lines);
	write_text("fx.jsonl", buf);
	refused("line.xml", "fx.jsonl:6: key ci+");
	refused("line.xml", "(role engineer) may not sign approval entries");
	/* admin, the default signer, signs only key, governance and clock entries */
	snprintf(buf, sizeof buf, "%s{\"kind\":\"dataset\",\"subject\":\"d@1\",\"digest\":\"sha256:"
		 "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\"}\n", lines);
	write_text("fx.jsonl", buf);
	refused("line.xml", "fx.jsonl:6: key admin+");
	refused("line.xml", "may not sign dataset entries; the ledger's governance lets engineer "
		"sign them (as admin)");
}

/* A test file whose keys are alice (approver) and alice2 (approver, person
 * alice, person-name pn), with fixture "rotated": alice revoked, then an
 * approval by alice2. */
static void
write_person_tests(const char *name, const char *pn)
{
	char text[8192];

	snprintf(text, sizeof text,
		 "<tests xmlns=\"https://mlledger.dev/policy-test/v1\" policy=\"%s\">\n"
		 "  <keys><key name=\"ci\" roles=\"engineer\"/><key name=\"val\" roles=\"validator\"/>\n"
		 "    <key name=\"alice\" roles=\"approver\"/><key name=\"bob\" roles=\"approver\"/>\n"
		 "    <key name=\"alice2\" roles=\"approver\" person=\"alice\" person-name=\"%s\"/>\n"
		 "  </keys>\n"
		 "  <fixture id=\"rotated\" file=\"fx.jsonl\">\n"
		 "    <lines>{\"as\":\"admin\",\"kind\":\"key-revocation\",\"key\":\"alice\","
		 "\"reason\":\"rotated\"}\n"
		 "{\"as\":\"alice2\",\"kind\":\"approval\",\"subject\":\"m@1\","
		 "\"environment\":\"prod\",\"decision\":\"approve\"}</lines>\n"
		 "  </fixture>\n"
		 "  <case fixture=\"rotated\" subject=\"m@1\" env=\"prod\" phase=\"audit\">\n"
		 "    <expect rule=\"PROD-EVALUATION\" outcome=\"pass\"/>\n"
		 "  </case>\n"
		 "</tests>\n",
		 production, pn);
	write_text(name, text);
	write_text("fx.jsonl", lines);
}

/* person and person-name go into the key's enrolment (the statement checks
 * them: a name with a newline is refused, naming the key); a rotated key
 * signs after the old key of its person was revoked by a fixture line. */
static void
test_person(void **state)
{
	struct ml_ptest_result r;
	struct ml_err e;

	(void)state;
	memset(&r, 0, sizeof r);
	write_person_tests("person.xml", "Alice Liddell");
	if (run_file("person.xml", &r, &e) != ML_OK)
		fail_msg("%s", e.msg);
	assert_int_equal(r.passed, 1);
	assert_int_equal(r.failed, 0);
	ml_ptest_result_free(&r);
	write_person_tests("badname.xml", "Alice&#10;Liddell");
	refused("badname.xml", "enrolling key alice2: person.name");
}

static void
test_missing_file(void **state)
{
	struct ml_ptest_result r;
	struct ml_err e;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(run_file("no-such-file.xml", &r, &e), ML_EINPUT);
	assert_int_equal(r.files, 0);
}

static void
test_load_ex(void **state)
{
	struct ml_policyset *p = NULL;
	struct ml_policy_data_override d = {"no-such-data", NULL};
	struct ml_policy_opts o;
	struct ml_err e;

	(void)state;
	memset(&o, 0, sizeof o);
	o.data = &d;
	o.ndata = 1;
	ml_err_clear(&e);
	assert_int_equal(ml_policyset_load_ex(production, &o, &p, &e), ML_EINPUT);
	assert_null(p);
	assert_non_null(strstr(e.msg, "data no-such-data: "));
	d.name = "freeze-windows"; /* no items: the section becomes empty */
	assert_int_equal(ml_policyset_load_ex(production, &o, &p, &e), ML_OK);
	assert_non_null(p);
	ml_policyset_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_all_hold),
		cmocka_unit_test(test_failing_expectation),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_person),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_load_ex),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

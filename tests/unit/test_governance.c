/* Unit tests of src/governance.c: the documented default, validation of
 * documents (each failure class refused, naming the member), the checks
 * with their near-miss hints, and metric directions. */
#include "testutil.h"

#include "governance.h"

static struct ml_governance *
parse_ok(const char *text)
{
	struct ml_governance *g = NULL;
	struct ml_err e;

	ml_err_clear(&e);
	if (ml_governance_parse(text, strlen(text), &g, &e) != ML_OK)
		fprintf(stderr, "parse: %s\n", e.msg);
	assert_non_null(g);
	return g;
}

static void
test_default_matches_shipped_file(void **state)
{
	const char *d = getenv("MLLEDGER_TEST_DATA");
	char path[4096], *text = NULL;
	size_t len;
	struct ml_err e;

	(void)state;
	snprintf(path, sizeof path, "%s/../../ledger/governance.default.json", d ? d : "tests/data");
	assert_int_equal(ml_read_file(path, ML_GOVERNANCE_MAX, &text, &len, &e), ML_OK);
	assert_int_equal(len, strlen(ml_governance_default_text()));
	assert_memory_equal(text, ml_governance_default_text(), len);
	free(text);
}

static void
test_default_roles(void **state)
{
	struct ml_governance *g = ml_governance_default();
	struct ml_err e;

	(void)state;
	assert_non_null(g);
	assert_int_equal(ml_governance_check_signer(g, "ci+1", "engineer", ML_KIND_MODEL, &e),
			 ML_OK);
	assert_int_equal(ml_governance_check_signer(g, "ci+1", "engineer", ML_KIND_APPROVAL, &e),
			 ML_EKEY);
	assert_non_null(strstr(e.msg, "lets approver sign them"));
	assert_int_equal(ml_governance_check_signer(g, "x+1", "auditor", ML_KIND_INCIDENT, &e),
			 ML_EKEY);
	assert_int_equal(ml_governance_check_signer(g, "x+1", "auditor,risk-officer",
						    ML_KIND_WAIVER, &e), ML_OK);
	assert_int_equal(ml_governance_check_signer(g, "x+1", "admin", ML_KIND_DATASET, &e),
			 ML_EKEY);
	/* a role list that is not declared grants nothing */
	assert_int_equal(ml_governance_check_signer(g, "x+1", "approvers", ML_KIND_APPROVAL, &e),
			 ML_EKEY);
	assert_int_equal(ml_governance_check_env(g, "prod", &e), ML_OK);
	assert_int_equal(ml_governance_check_env(g, "prdo", &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "did you mean prod?"));
	assert_int_equal(ml_governance_check_env(g, "production", &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "declared: dev, staging, prod"));
	assert_int_equal(ml_governance_direction(g, "auc"), ML_DIR_HIGHER);
	assert_int_equal(ml_governance_direction(g, "rmse"), ML_DIR_LOWER);
	assert_int_equal(ml_governance_direction(g, "demographic_parity_diff"), ML_DIR_NONE);
	ml_governance_free(g);
}

static void
test_properties(void **state)
{
	struct ml_governance *g = ml_governance_default();
	struct ml_err e;
	json_t *p;

	(void)state;
	p = json_pack("{s:b, s:s}", "pii", 0, "license", "MIT");
	assert_int_equal(ml_governance_check_properties(g, p, &e), ML_OK);
	json_decref(p);
	p = json_pack("{s:s}", "pii", "True");
	assert_int_equal(ml_governance_check_properties(g, p, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "pii must be true or false"));
	json_decref(p);
	p = json_pack("{s:i}", "pii", 1);
	assert_int_equal(ml_governance_check_properties(g, p, &e), ML_EINPUT);
	json_decref(p);
	p = json_pack("{s:s}", "owner", "free text stays free");
	assert_int_equal(ml_governance_check_properties(g, p, &e), ML_OK);
	json_decref(p);
	ml_governance_free(g);
}

static void
test_declared_document(void **state)
{
	struct ml_governance *g = parse_ok(
		"{\"environments\": [\"prod\"],"
		" \"metrics\": {\"dpd\": {\"direction\": \"lower\", \"unit\": \"ratio\"}},"
		" \"properties\": {\"tier\": {\"type\": \"string\", \"values\": [\"high\", \"low\"]}}}");
	struct ml_err e;
	json_t *m;

	(void)state;
	/* roles take the default */
	assert_true(ml_governance_role_known(g, "validator"));
	assert_int_equal(ml_governance_check_env(g, "staging", &e), ML_EINPUT);
	assert_int_equal(ml_governance_direction(g, "dpd"), ML_DIR_LOWER);
	assert_string_equal(ml_governance_unit(g, "dpd"), "ratio");
	/* declared metrics are a closed set; auc is no longer known */
	assert_int_equal(ml_governance_direction(g, "auc"), ML_DIR_NONE);
	m = json_pack("{s:f}", "dpdd", 0.1);
	assert_int_equal(ml_governance_check_metrics(g, m, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "did you mean dpd?"));
	json_decref(m);
	m = json_pack("{s:s}", "tier", "hihg");
	assert_int_equal(ml_governance_check_properties(g, m, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "did you mean high?"));
	json_decref(m);
	ml_governance_free(g);
}

static void
test_invalid_documents(void **state)
{
	static const struct {
		const char *doc, *msg;
	} cases[] = {
		{"[]", "must be a JSON object"},
		{"{\"roles\": {}}", "roles: an object of 1 to"},
		{"{\"roles\": {\"engineer\": [\"model\"]}}", "admin must be declared"},
		{"{\"roles\": {\"admin\": [\"key-enrollment\", \"governance\"]}}", "admin must be"},
		{"{\"roles\": {\"admin\": [\"key-enrollment\", \"key-revocation\", \"governance\"],"
		 " \"Eng\": []}}", "bad role name"},
		{"{\"roles\": {\"admin\": [\"key-enrollment\", \"key-revocation\", \"governance\"],"
		 " \"eng\": [\"modle\"]}}", "bad name \"modle\""},
		{"{\"roles\": {\"admin\": [\"key-enrollment\", \"key-revocation\", \"governance\","
		 " \"genesis\"]}}", "bad name \"genesis\""},
		{"{\"environments\": []}", "environments: a list of 1"},
		{"{\"environments\": [\"prod\", \"prod\"]}", "given twice"},
		{"{\"environments\": [\"pr od\"]}", "bad name"},
		{"{\"metrics\": {\"auc\": {\"direction\": \"up\"}}}", "\"higher\" or \"lower\""},
		{"{\"metrics\": {\"auc\": {\"direction\": \"higher\", \"goal\": 1}}}", "metrics.auc: must be"},
		{"{\"properties\": {\"pii\": {\"type\": \"bool\"}}}", "\"boolean\"|\"string\""},
		{"{\"properties\": {\"pii\": {\"type\": \"boolean\", \"values\": [\"a\"]}}}",
		 "only a string property"},
		{"{\"enviroments\": [\"prod\"]}", "unknown member \"enviroments\""},
		{"{\"environments\": [\"prod\"], \"environments\": [\"dev\"]}", "bad JSON"},
		{"{\"environments\": [\"prod\"]", "bad JSON"},
		/* dual control and separation of duties (FORMAT.md §2) */
		{"{\"dualControl\": []}", "dualControl: must be"},
		{"{\"dualControl\": {\"kinds\": [\"governance\"], \"signers\": 2, \"x\": 1}}",
		 "dualControl: must be"},
		{"{\"dualControl\": {\"kinds\": [], \"signers\": 2}}", "dualControl.kinds: a list"},
		{"{\"dualControl\": {\"kinds\": [\"genesis\"], \"signers\": 2}}",
		 "dualControl.kinds: bad name \"genesis\""},
		{"{\"dualControl\": {\"kinds\": [\"governance\", \"governance\"], \"signers\": 2}}",
		 "given twice"},
		{"{\"dualControl\": {\"kinds\": [\"governance\"]}}", "dualControl.signers: an integer"},
		{"{\"dualControl\": {\"kinds\": [\"governance\"], \"signers\": 17}}",
		 "dualControl.signers: an integer"},
		{"{\"dualControl\": {\"kinds\": [\"governance\"], \"signers\": 0}}",
		 "dualControl.signers"},
		{"{\"dualControl\": {\"kinds\": [\"governance\"], \"signers\": 2, \"role\": \"admn\"}}",
		 "dualControl.role \"admn\" is not declared in the ledger's governance; did you mean "
		 "admin?"},
		{"{\"separation\": []}", "separation: a list of 1 to"},
		{"{\"separation\": [[\"admin\"]]}", "separation[0]: must be a pair"},
		{"{\"separation\": [[\"admin\", \"admin\"]]}", "separation[0]: must be a pair"},
		{"{\"separation\": [[\"admin\", \"aprover\"]]}", "did you mean approver?"},
	};
	struct ml_governance *g;
	struct ml_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		g = NULL;
		ml_err_clear(&e);
		if (ml_governance_parse(cases[i].doc, strlen(cases[i].doc), &g, &e) != ML_EINPUT ||
		    !strstr(e.msg, cases[i].msg)) {
			fprintf(stderr, "case %zu: %s: got \"%s\"\n", i, cases[i].doc, e.msg);
			fail();
		}
		assert_null(g);
	}
}

/* dualControl and separation are not defaulted: absent, nothing needs
 * them; declared, their values are what the rules read. */
static void
test_dual_control_members(void **state)
{
	static const char doc[] =
		"{\"dualControl\": {\"kinds\": [\"key-enrollment\", \"governance\"], \"signers\": 2},"
		" \"separation\": [[\"admin\", \"approver\"], [\"engineer\", \"validator\"]]}";
	struct ml_governance *g = NULL, *d = ml_governance_default();
	const char *role = NULL, *a, *b;
	struct ml_err e;
	int k = 0;

	(void)state;
	assert_non_null(d);
	assert_false(ml_governance_dual(d, ML_KIND_COUNT, &k, &role));
	assert_false(ml_governance_separation(d, 0, &a, &b));
	ml_err_clear(&e);
	assert_int_equal(ml_governance_parse(doc, strlen(doc), &g, &e), ML_OK);
	assert_true(ml_governance_dual(g, ML_KIND_COUNT, &k, &role));
	assert_int_equal(k, 2);
	assert_string_equal(role, "admin");
	assert_true(ml_governance_dual(g, ML_KIND_KEY_ENROLLMENT, &k, &role));
	assert_true(ml_governance_dual(g, ML_KIND_GOVERNANCE, &k, &role));
	assert_false(ml_governance_dual(g, ML_KIND_KEY_REVOCATION, &k, &role));
	assert_false(ml_governance_dual(g, ML_KIND_MODEL, &k, &role));
	assert_true(ml_governance_separation(g, 0, &a, &b));
	assert_string_equal(a, "admin");
	assert_string_equal(b, "approver");
	assert_true(ml_governance_separation(g, 1, &a, &b));
	assert_string_equal(b, "validator");
	assert_false(ml_governance_separation(g, 2, &a, &b));
	ml_governance_free(g);
	ml_governance_free(d);
}

static void
test_suggest(void **state)
{
	static const char *const set[] = {"dev", "staging", "prod"};

	(void)state;
	assert_string_equal(ml_suggest("prdo", set, 3), "prod");
	assert_string_equal(ml_suggest("stagin", set, 3), "staging");
	assert_null(ml_suggest("production", set, 3));
	assert_null(ml_suggest("x", set, 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_matches_shipped_file),
		cmocka_unit_test(test_default_roles),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_declared_document),
		cmocka_unit_test(test_invalid_documents),
		cmocka_unit_test(test_dual_control_members),
		cmocka_unit_test(test_suggest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for report_signoff: the sign-off names the person the key's
 * enrolment names, or a key not enrolled in this ledger by its key id, says
 * a revocation, says what a CSV folder's signature covers, and says an
 * unsigned report is unsigned; the section is the model's last member. */
#include "testutil.h"

#include "report.h"
#include "report_signoff.h"
#include "util.h"

static json_t *
model(void)
{
	json_t *m = json_loads("{\"scope\":{},\"people\":{\"keys\":["
			       "{\"person\":\"carol\",\"personName\":\"Carol Jones\",\"name\":\"aud\","
			       "\"keyid\":\"aud+01020304\",\"roles\":\"auditor\",\"enrolledSeq\":3,"
			       "\"revokedSeq\":null},"
			       "{\"person\":\"olga\",\"personName\":null,\"name\":\"old\","
			       "\"keyid\":\"old+0a0b0c0d\",\"roles\":\"auditor\",\"enrolledSeq\":4,"
			       "\"revokedSeq\":9}]}}", 0, NULL);
	assert_non_null(m);
	return m;
}

static const char *
get(const json_t *m, const char *path)
{
	const char *s = json_string_value(ml_report_get(m, path));

	assert_non_null(s);
	return s;
}

static void
test_enrolled_signer(void **state)
{
	struct ml_report_signer s = {"aud+01020304", "aud", "q3.html", "html", 0};
	json_t *m = model();
	struct ml_err e;
	const char *last = NULL, *k;
	json_t *v;

	(void)state;
	assert_int_equal(ml_report_signoff(m, &s, &e), ML_OK);
	json_object_foreach(m, k, v)
		last = k;
	assert_string_equal(last, "signOff");
	assert_true(json_is_true(ml_report_get(m, "signOff.signed")));
	assert_string_equal(get(m, "signOff.statement"), "Signed by Carol Jones (carol) with key "
			    "aud+01020304, enrolled at entry 3 with roles auditor.");
	assert_string_equal(get(m, "signOff.signer.person"), "carol");
	assert_string_equal(get(m, "signOff.verify"), "mlledger verify-report q3.html --key aud.pub");
	assert_string_equal(get(m, "signOff.signatureFile"), "q3.html.sig.json");
	assert_non_null(strstr(get(m, "signOff.covers"), "exact bytes of this file, q3.html"));
	assert_non_null(strstr(get(m, "signOff.ledger"), "Not recorded"));
	assert_int_equal(json_array_size(ml_report_get(m, "signOff.rows")), 5);
	json_decref(m);
}

static void
test_not_enrolled_revoked_folder(void **state)
{
	struct ml_report_signer s = {"zed+99999999", "zed", "q3", "csv-folder", 1};
	json_t *m = model();
	struct ml_err e;

	(void)state;
	assert_int_equal(ml_report_signoff(m, &s, &e), ML_OK);
	assert_string_equal(get(m, "signOff.statement"), "Signed with key zed+99999999, which is "
			    "not enrolled in this ledger: the signature shows that the holder of "
			    "that key issued the report, not a person this ledger knows.");
	assert_true(json_is_false(ml_report_get(m, "signOff.signer.enrolled")));
	assert_true(json_is_null(ml_report_get(m, "signOff.signer.person")));
	assert_string_equal(get(m, "signOff.signatureFile"), "q3/MANIFEST.sig.json");
	assert_non_null(strstr(get(m, "signOff.covers"), "Every table of the folder q3"));
	assert_non_null(strstr(get(m, "signOff.ledger"), "SHA-256 of q3/MANIFEST.sig.json"));
	/* a revoked key: named, and its revocation said */
	s = (struct ml_report_signer){"old+0a0b0c0d", "old", "r.md", "md", 0};
	assert_int_equal(ml_report_signoff(m, &s, &e), ML_OK);
	assert_non_null(strstr(get(m, "signOff.statement"), "Signed by olga with key old+0a0b0c0d"));
	assert_non_null(strstr(get(m, "signOff.statement"), "revoked at entry 9"));
	json_decref(m);
}

static void
test_unsigned(void **state)
{
	json_t *m = model();
	struct ml_err e;

	(void)state;
	assert_int_equal(ml_report_signoff(m, NULL, &e), ML_OK);
	assert_true(json_is_false(ml_report_get(m, "signOff.signed")));
	assert_true(json_is_null(ml_report_get(m, "signOff.signer")));
	assert_non_null(strstr(get(m, "signOff.statement"), "This report is not signed"));
	json_decref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enrolled_signer),
		cmocka_unit_test(test_not_enrolled_revoked_folder),
		cmocka_unit_test(test_unsigned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for report_sig: a signature names its files and carries the
 * report's scope; a changed payload, another key, an old-format signature,
 * a name that is a path and a malformed envelope are each refused with the
 * documented code. */
#include "testutil.h"

#include "report_sig.h"
#include "util.h"

static json_t *
model(void)
{
	json_t *m = json_loads("{\"scope\":{\"from\":\"2026-10-01\",\"to\":\"2026-12-31\","
			       "\"asOf\":\"2027-01-05T00:00:00Z\",\"generatedAt\":"
			       "\"2027-01-05T09:00:00Z\",\"ledgerStart\":\"2026-09-14T08:12:03Z\","
			       "\"tool\":{\"name\":\"mlledger\",\"version\":\"0.1.0\"},"
			       "\"ledger\":{\"origin\":\"o.example/l\"},\"checkpoint\":{\"size\":7,"
			       "\"root\":\"AAAA\"},\"policies\":[{\"file\":\"mlledger:seq/3\",\"id\":"
			       "\"production\",\"version\":\"1.0.0\",\"sha256\":\"00\"}]}}",
			       0, NULL);
	assert_non_null(m);
	return m;
}

static void
sign2(struct ml_seckey *k, struct ml_buf *out)
{
	struct ml_report_file f[2] = {{"a.csv", (const uint8_t *)"x,y\r\n", 5},
				      {"b.csv", (const uint8_t *)"z\r\n", 3}};
	struct ml_err e;
	json_t *m = model();

	ml_err_clear(&e);
	assert_int_equal(ml_report_sign(k, "csv-folder", m, f, 2, out, &e), ML_OK);
	json_decref(m);
}

static void
test_roundtrip(void **state)
{
	struct ml_seckey *k = NULL;
	struct ml_buf b = {0};
	struct ml_err e;
	json_t *st = NULL;
	uint8_t d[ML_SHA256_LEN];
	char hex[65];

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_generate("auditor", &k, &e), ML_OK);
	sign2(k, &b);
	assert_int_equal(ml_report_open(ml_seckey_public(k), (const char *)b.data, b.len, &st, &e),
			 ML_OK);
	ml_sha256("z\r\n", 3, d);
	ml_hex_encode(d, sizeof d, hex);
	assert_string_equal(ml_report_subject_sha256(st, "b.csv"), hex);
	assert_null(ml_report_subject_sha256(st, "c.csv"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
				    json_object_get(st, "predicate"), "scope"), "checkpoint"), "root")),
			    "AAAA");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
				    st, "predicate"), "scope"), "from")), "2026-10-01");
	json_decref(st);
	ml_buf_free(&b);
	ml_seckey_free(k);
}

static void
test_refusals(void **state)
{
	struct ml_seckey *k = NULL, *k2 = NULL;
	struct ml_report_file bad = {"../x.csv", (const uint8_t *)"", 0};
	struct ml_buf b = {0}, o = {0};
	struct ml_err e;
	json_t *st = NULL, *env, *m = model();
	char *s, *p;
	static const char old[] = "{\"payloadType\":\"application/vnd.mlledger.report.v1\","
				  "\"payloadSha256\":\"00\",\"signatures\":[{\"keyid\":\"a+00000000\","
				  "\"sig\":\"AA==\"}]}";

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_generate("auditor", &k, &e), ML_OK);
	assert_int_equal(ml_seckey_generate("other", &k2, &e), ML_OK);
	assert_int_equal(ml_report_sign(k, "csv", m, &bad, 1, &o, &e), ML_EINPUT);
	assert_int_equal(ml_report_sign(k, "csv", m, &bad, 0, &o, &e), ML_EINPUT);
	assert_false(ml_report_name_ok("."));
	assert_false(ml_report_name_ok("a/b"));
	assert_true(ml_report_name_ok("key-events.csv"));
	sign2(k, &b);
	/* another key */
	assert_int_equal(ml_report_open(ml_seckey_public(k2), (const char *)b.data, b.len, &st,
					&e), ML_EINTEGRITY);
	/* the payload changed (one base64 character of the scope) */
	env = json_loadb((const char *)b.data, b.len, 0, NULL);
	p = strdup(json_string_value(json_object_get(env, "payload")));
	p[40] = p[40] == 'A' ? 'B' : 'A';
	json_object_set_new(env, "payload", json_string(p));
	s = json_dumps(env, 0);
	assert_int_equal(ml_report_open(ml_seckey_public(k), s, strlen(s), &st, &e),
			 ML_EINTEGRITY);
	assert_null(st);
	free(s);
	free(p);
	json_decref(env);
	/* the old format, and not a signature at all */
	assert_int_equal(ml_report_open(ml_seckey_public(k), old, strlen(old), &st, &e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "old-format"));
	assert_int_equal(ml_report_open(ml_seckey_public(k), "{}", 2, &st, &e), ML_EINPUT);
	assert_int_equal(ml_report_open(ml_seckey_public(k), "[", 1, &st, &e), ML_EINPUT);
	json_decref(m);
	ml_buf_free(&b);
	ml_buf_free(&o);
	ml_seckey_free(k);
	ml_seckey_free(k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

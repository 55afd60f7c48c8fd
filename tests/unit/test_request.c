/* Unit tests for request: NAME=VALUE typing, "sha256:HEX" digests, and
 * turning record requests into statements, with a fake resolver standing in
 * for the ledger. */
#include "testutil.h"

#include <math.h>

#include "request.h"

#define HEXA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEXB "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEXR "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed"
#define NOW_TEXT "2026-03-04T05:06:07Z"

/* ---- fake resolver ------------------------------------------------------- */

struct resolver {
	int calls;
	char kinds[8][16]; /* kind of each call */
	char refs[8][200]; /* ref of each call */
	const char *unknown; /* this ref is "not recorded" */
	int fail_rc;         /* when set, every call fails with it */
};

static int
fake_resolve(void *ctx, const char *kind, const char *ref, uint8_t digest[ML_SHA256_LEN],
	     struct ml_err *e)
{
	struct resolver *r = ctx;

	if (r->calls < 8) {
		snprintf(r->kinds[r->calls], sizeof r->kinds[0], "%s", kind);
		snprintf(r->refs[r->calls], sizeof r->refs[0], "%s", ref);
	}
	r->calls++;
	if (r->fail_rc)
		return ml_err_set(e, r->fail_rc, "ledger: disk on fire");
	if (r->unknown && strcmp(ref, r->unknown) == 0)
		return ml_err_set(e, ML_EINPUT, "unknown %s %s", kind, ref);
	tu_unhex(HEXR, digest, ML_SHA256_LEN);
	return ML_OK;
}

/* ---- fixture ------------------------------------------------------------- */

struct fixture {
	struct ml_seckey *bob;
	char bob_vkey[ML_VKEY_MAX];
	int64_t now;
};

static int
group_setup(void **state)
{
	static struct fixture fx;
	uint8_t seed[32];
	struct ml_err e;
	size_t i;

	for (i = 0; i < sizeof seed; i++)
		seed[i] = (uint8_t)(0x42 + i);
	if (ml_seckey_from_seed("bob", seed, &fx.bob, &e) != ML_OK)
		return -1;
	ml_pubkey_format(ml_seckey_public(fx.bob), fx.bob_vkey);
	if (ml_time_parse(NOW_TEXT, &fx.now) != 0)
		return -1;
	fx.now += 123456; /* sub-second part is dropped */
	*state = &fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture *fx = *state;

	ml_seckey_free(fx->bob);
	return 0;
}

/* ---- ml_request_add_kv --------------------------------------------------- */

static json_t *
kv_ok(json_t *obj, const char *kv, const char *name)
{
	struct ml_err e;

	ml_err_clear(&e);
	if (ml_request_add_kv(obj, kv, "--metric", &e) != ML_OK)
		print_error("refused [%s]: %s\n", kv, e.msg);
	assert_int_equal(e.code, ML_OK);
	assert_non_null(json_object_get(obj, name));
	return json_object_get(obj, name);
}

static void
kv_bad(json_t *obj, const char *kv, const char *needle)
{
	struct ml_err e;
	size_t before = json_object_size(obj);
	int rc;

	ml_err_clear(&e);
	rc = ml_request_add_kv(obj, kv, "--metric", &e);
	if (rc != ML_EINPUT || !strstr(e.msg, needle))
		print_error("[%.80s]: rc %d [%s] (want [%s])\n", kv, rc, e.msg, needle);
	assert_int_equal(rc, ML_EINPUT);
	assert_int_equal(e.code, ML_EINPUT);
	assert_non_null(strstr(e.msg, "--metric"));
	assert_non_null(strstr(e.msg, needle));
	assert_int_equal(json_object_size(obj), before); /* nothing added */
}

static void
expect_num(json_t *v, double want)
{
	assert_true(json_is_real(v));
	assert_true(fabs(json_real_value(v) - want) <= 1e-12 * fabs(want));
}

static void
expect_str(json_t *v, const char *want)
{
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), want);
}

static void
test_add_kv_typing(void **state)
{
	json_t *o = json_object();
	json_t *v;

	(void)state;
	expect_num(kv_ok(o, "auc=0.91", "auc"), 0.91);
	v = kv_ok(o, "n=100", "n");
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), 100);
	v = kv_ok(o, "neg=-5", "neg");
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), -5);
	v = kv_ok(o, "zero=0", "zero");
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), 0);
	expect_num(kv_ok(o, "k=-1e3", "k"), -1000.0);
	expect_num(kv_ok(o, "k2=2E-2", "k2"), 0.02);
	expect_num(kv_ok(o, "k3=1e+5", "k3"), 100000.0);
	expect_num(kv_ok(o, "k4=0.5e1", "k4"), 5.0);
	expect_num(kv_ok(o, "k5=-0.0", "k5"), 0.0);
	/* Integers beyond int64 become reals (JSON numbers, still finite). */
	expect_num(kv_ok(o, "huge=99999999999999999999", "huge"), 1e20);
	v = kv_ok(o, "max=9223372036854775807", "max");
	assert_true(json_is_integer(v));
	assert_true(json_integer_value(v) == INT64_MAX);

	/* Booleans, exactly "true" and "false". */
	v = kv_ok(o, "t=true", "t"); /* json_is_true evaluates its argument twice */
	assert_true(json_is_true(v));
	v = kv_ok(o, "f=false", "f");
	assert_true(json_is_false(v));
	expect_str(kv_ok(o, "T=True", "T"), "True");
	expect_str(kv_ok(o, "F=FALSE", "F"), "FALSE");
	expect_str(kv_ok(o, "y=yes", "y"), "yes");

	/* Not JSON numbers: kept as strings. */
	expect_str(kv_ok(o, "lead=01", "lead"), "01");
	expect_str(kv_ok(o, "lead2=-01", "lead2"), "-01");
	expect_str(kv_ok(o, "inf=1e999", "inf"), "1e999"); /* not finite */
	expect_str(kv_ok(o, "ninf=-1e999", "ninf"), "-1e999");
	expect_str(kv_ok(o, "dot=1.", "dot"), "1.");
	expect_str(kv_ok(o, "dot2=.5", "dot2"), ".5");
	expect_str(kv_ok(o, "plus=+1", "plus"), "+1");
	expect_str(kv_ok(o, "hex=0x10", "hex"), "0x10");
	expect_str(kv_ok(o, "exp=1e", "exp"), "1e");
	expect_str(kv_ok(o, "nan=NaN", "nan"), "NaN");
	expect_str(kv_ok(o, "infinity=inf", "infinity"), "inf");
	expect_str(kv_ok(o, "sp= 1", "sp"), " 1");
	expect_str(kv_ok(o, "sp2=1 ", "sp2"), "1 ");
	expect_str(kv_ok(o, "minus=-", "minus"), "-");
	expect_str(kv_ok(o, "ver=1.2.3", "ver"), "1.2.3");
	/* Only the first '=' splits. */
	expect_str(kv_ok(o, "eq=a=b", "eq"), "a=b");
	expect_str(kv_ok(o, "utf=caf\xc3\xa9", "utf"), "caf\xc3\xa9");
	/* "x=" is accepted as the empty string here; the statement schema then
	 * refuses it (see test_build_empty_value). */
	expect_str(kv_ok(o, "x=", "x"), "");

	/* Names: 1-64 of [A-Za-z0-9_.-]. */
	kv_ok(o, "a.b_c-D9=1", "a.b_c-D9");
	{
		char kv[80];
		memset(kv, 'n', 64);
		strcpy(kv + 64, "=1");
		kv_ok(o, kv, "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn");
		memset(kv, 'm', 65);
		strcpy(kv + 65, "=1");
		kv_bad(o, kv, "name must be 1-64 characters");
	}
	json_decref(o);
}

static void
test_add_kv_rejects(void **state)
{
	json_t *o = json_object();
	char *big;

	(void)state;
	kv_ok(o, "auc=0.9", "auc");
	/* Missing '='. */
	kv_bad(o, "auc", "expected NAME=VALUE");
	kv_bad(o, "", "expected NAME=VALUE");
	/* Bad names. */
	kv_bad(o, "=1", "name must be 1-64 characters");
	kv_bad(o, "a b=1", "name must be [A-Za-z0-9_.-]");
	kv_bad(o, "a/b=1", "name must be");
	kv_bad(o, "a:b=1", "name must be");
	kv_bad(o, "a+b=1", "name must be");
	kv_bad(o, "caf\xc3\xa9=1", "name must be");
	kv_bad(o, "a\tb=1", "name must be");
	/* Duplicates: the first value stays. */
	kv_bad(o, "auc=0.95", "auc: given twice");
	expect_num(json_object_get(o, "auc"), 0.9);
	/* Invalid UTF-8 and control characters in the value. */
	kv_bad(o, "s=\xff", "invalid UTF-8 or control character");
	kv_bad(o, "s=\xc0\x80", "invalid UTF-8");
	kv_bad(o, "s=\xed\xa0\x80", "invalid UTF-8");
	kv_bad(o, "s=caf\xc3", "invalid UTF-8");
	kv_bad(o, "s=a\nb", "control character");
	kv_bad(o, "s=a\tb", "control character");
	kv_bad(o, "s=a\x7f", "control character");
	kv_bad(o, "s=\xc2\x85", "control character");
	/* Longer than one field may be. */
	big = malloc(ML_MAX_FIELD + 10);
	strcpy(big, "s=");
	memset(big + 2, 'v', ML_MAX_FIELD + 1);
	big[2 + ML_MAX_FIELD + 1] = '\0';
	kv_bad(o, big, "longer than 65536 bytes");
	big[2 + ML_MAX_FIELD] = '\0';
	kv_ok(o, big, "s");
	free(big);
	assert_int_equal(json_object_size(o), 2);
	json_decref(o);
}

/* ---- ml_digest_parse ----------------------------------------------------- */

static void
test_digest_parse(void **state)
{
	uint8_t d[ML_SHA256_LEN], want[ML_SHA256_LEN];

	(void)state;
	tu_unhex(HEXB, want, sizeof want);
	memset(d, 0, sizeof d);
	assert_int_equal(ml_digest_parse("sha256:" HEXB, d), 0);
	assert_memory_equal(d, want, sizeof d);

	memset(d, 0x77, sizeof d);
	assert_int_equal(ml_digest_parse(NULL, d), ML_EINPUT);
	assert_int_equal(ml_digest_parse("", d), ML_EINPUT);
	assert_int_equal(ml_digest_parse(HEXB, d), ML_EINPUT);                  /* no prefix */
	assert_int_equal(ml_digest_parse("SHA256:" HEXB, d), ML_EINPUT);
	assert_int_equal(ml_digest_parse("sha512:" HEXB, d), ML_EINPUT);
	assert_int_equal(ml_digest_parse("sha256 " HEXB, d), ML_EINPUT);
	assert_int_equal(ml_digest_parse("sha256:" HEXB "0", d), ML_EINPUT);    /* 65 digits */
	assert_int_equal(ml_digest_parse("sha256:" HEXB " ", d), ML_EINPUT);
	assert_int_equal(ml_digest_parse(
				 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
				 d),
			 ML_EINPUT); /* 63 */
	assert_int_equal(ml_digest_parse(
				 "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
				 d),
			 ML_EINPUT); /* uppercase */
	assert_int_equal(ml_digest_parse(
				 "sha256:g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				 d),
			 ML_EINPUT);
	assert_int_equal(ml_digest_parse("sha256:", d), ML_EINPUT);
	assert_int_equal(d[0], 0x77); /* untouched */
}

/* ---- ml_request_build ---------------------------------------------------- */

static json_t *
req_of(const char *text)
{
	json_error_t jerr;
	json_t *r = json_loads(text, 0, &jerr);

	if (!r)
		print_error("test bug: [%s]: %s\n", text, jerr.text);
	assert_non_null(r);
	return r;
}

/* Builds req (text), expects ML_OK, parses the payload into st. */
static void
build_ok(const struct fixture *fx, const char *text, struct resolver *r,
	 enum ml_kind want_kind, struct ml_statement *st)
{
	json_t *req = req_of(text), *copy = json_deep_copy(req);
	struct ml_buf b = {0};
	struct ml_err e;
	enum ml_kind k = ML_KIND_COUNT;

	ml_err_clear(&e);
	if (ml_request_build(req, r ? fake_resolve : NULL, r, fx->now, &k, &b, &e) != ML_OK)
		print_error("build of [%s]: %s\n", text, e.msg);
	assert_int_equal(e.code, ML_OK);
	assert_int_equal(k, want_kind);
	assert_true(json_equal(req, copy)); /* the request is borrowed */
	ml_err_clear(&e);
	assert_int_equal(ml_statement_parse(b.data, b.len, st, &e), ML_OK);
	assert_int_equal(st->kind, want_kind);
	/* Request-only members never reach the predicate. */
	assert_null(json_object_get(st->predicate, "kind"));
	assert_null(json_object_get(st->predicate, "subject"));
	assert_null(json_object_get(st->predicate, "digest"));
	json_decref(req);
	json_decref(copy);
	ml_buf_free(&b);
}

static int
build_bad(const struct fixture *fx, const char *text, struct resolver *r, int code,
	  const char *needle)
{
	json_t *req = req_of(text);
	struct ml_buf b = {0};
	struct ml_err e;
	enum ml_kind k;
	int rc;

	ml_err_clear(&e);
	rc = ml_request_build(req, r ? fake_resolve : NULL, r, fx->now, &k, &b, &e);
	json_decref(req); /* before asserting, so a failure leaks nothing */
	if (rc != code || !strstr(e.msg, needle))
		print_error("build of [%.200s]: rc %d [%s] (want %d [%s])\n", text, rc, e.msg,
			    code, needle);
	assert_int_equal(rc, code);
	assert_int_equal(e.code, code);
	assert_non_null(strstr(e.msg, needle));
	assert_null(b.data); /* nothing written */
	return rc;
}

static void
expect_digest(const struct ml_statement *st, const char *hex)
{
	uint8_t d[ML_SHA256_LEN];

	tu_unhex(hex, d, sizeof d);
	assert_memory_equal(st->digest, d, sizeof d);
}

static void
expect_ref(json_t *ref, const char *name, const char *hex)
{
	assert_true(json_is_object(ref));
	assert_int_equal(json_object_size(ref), 2);
	expect_str(json_object_get(ref, "name"), name);
	assert_int_equal(json_object_size(json_object_get(ref, "digest")), 1);
	expect_str(json_object_get(json_object_get(ref, "digest"), "sha256"), hex);
}

static void
test_build_dataset(void **state)
{
	struct fixture *fx = *state;
	struct resolver r = {0};
	struct ml_statement st;

	build_ok(fx,
		 "{\"kind\":\"dataset\",\"subject\":\"census@2024.1\",\"digest\":\"sha256:" HEXA
		 "\",\"uri\":\"s3://b/census.csv\",\"properties\":{\"rows\":100,\"src\":\"ons\"}}",
		 &r, ML_KIND_DATASET, &st);
	assert_int_equal(r.calls, 0); /* nothing to resolve */
	assert_string_equal(st.subject, "census@2024.1");
	expect_digest(&st, HEXA);
	expect_str(json_object_get(st.predicate, "time"), NOW_TEXT); /* default: now */
	expect_str(json_object_get(st.predicate, "uri"), "s3://b/census.csv");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st.predicate,
									   "properties"),
							    "rows")),
			 100);
	assert_int_equal(json_object_size(st.predicate), 3);
	ml_statement_free(&st);

	/* Without a resolver too. */
	build_ok(fx,
		 "{\"kind\":\"dataset\",\"subject\":\"census@2024.1\",\"digest\":\"sha256:" HEXA
		 "\"}",
		 NULL, ML_KIND_DATASET, &st);
	assert_int_equal(json_object_size(st.predicate), 1);
	ml_statement_free(&st);

	/* A digest is required for data, even with a resolver at hand. */
	build_bad(fx, "{\"kind\":\"dataset\",\"subject\":\"census@2024.1\"}", &r, ML_EINPUT,
		  "dataset census@2024.1: a digest is required");
	assert_int_equal(r.calls, 0);
	build_bad(fx, "{\"kind\":\"dataset\",\"subject\":\"census@2024.1\",\"digest\":\"" HEXA "\"}",
		  NULL, ML_EINPUT, "digest: expected sha256:<64 lowercase hex>");
	build_bad(fx, "{\"kind\":\"dataset\",\"subject\":\"census@2024.1\",\"digest\":7}", NULL,
		  ML_EINPUT, "digest: expected sha256:");
	/* Subject: missing, not a ref, not a string. */
	build_bad(fx, "{\"kind\":\"dataset\",\"digest\":\"sha256:" HEXA "\"}", NULL, ML_EINPUT,
		  "subject: expected NAME@VERSION, got \"\"");
	build_bad(fx, "{\"kind\":\"dataset\",\"subject\":\"census\",\"digest\":\"sha256:" HEXA "\"}",
		  NULL, ML_EINPUT, "subject: expected NAME@VERSION, got \"census\"");
	build_bad(fx, "{\"kind\":\"dataset\",\"subject\":1,\"digest\":\"sha256:" HEXA "\"}", NULL,
		  ML_EINPUT, "subject: expected NAME@VERSION");
	/* Schema errors come from the statement module. */
	build_bad(fx,
		  "{\"kind\":\"dataset\",\"subject\":\"c@1\",\"digest\":\"sha256:" HEXA
		  "\",\"colour\":\"red\"}",
		  NULL, ML_EINPUT, "dataset: unknown field \"colour\"");
	build_bad(fx,
		  "{\"kind\":\"dataset\",\"subject\":\"c@1\",\"digest\":\"sha256:" HEXA
		  "\",\"uri\":\"a\\nb\"}",
		  NULL, ML_EINPUT, "uri: invalid UTF-8 or control character");
}

static void
test_build_model_resolves(void **state)
{
	struct fixture *fx = *state;
	struct resolver r = {0};
	struct ml_statement st;
	json_t *ds;

	build_ok(fx,
		 "{\"kind\":\"model\",\"subject\":\"fraud/xgb@1.2.0\",\"digest\":\"sha256:" HEXB
		 "\",\"datasets\":[\"census@2024.1\",\"census@2024.2\"],"
		 "\"parent\":\"fraud/xgb@1.1.0\",\"metrics\":{\"auc\":0.91}}",
		 &r, ML_KIND_MODEL, &st);
	assert_int_equal(r.calls, 3);
	assert_string_equal(r.kinds[0], "dataset");
	assert_string_equal(r.refs[0], "census@2024.1");
	assert_string_equal(r.kinds[1], "dataset");
	assert_string_equal(r.refs[1], "census@2024.2");
	assert_string_equal(r.kinds[2], "model");
	assert_string_equal(r.refs[2], "fraud/xgb@1.1.0");
	assert_string_equal(st.subject, "fraud/xgb@1.2.0");
	expect_digest(&st, HEXB);
	ds = json_object_get(st.predicate, "datasets");
	assert_int_equal(json_array_size(ds), 2);
	expect_ref(json_array_get(ds, 0), "census@2024.1", HEXR);
	expect_ref(json_array_get(ds, 1), "census@2024.2", HEXR);
	expect_ref(json_object_get(st.predicate, "parent"), "fraud/xgb@1.1.0", HEXR);
	ml_statement_free(&st);

	/* An empty list needs no resolver. */
	build_ok(fx,
		 "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		 "\",\"datasets\":[]}",
		 NULL, ML_KIND_MODEL, &st);
	assert_int_equal(json_array_size(json_object_get(st.predicate, "datasets")), 0);
	ml_statement_free(&st);

	/* An unknown ref: the resolver's error comes back as is. */
	memset(&r, 0, sizeof r);
	r.unknown = "census@2024.2";
	build_bad(fx,
		  "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"datasets\":[\"census@2024.1\",\"census@2024.2\",\"census@2024.3\"]}",
		  &r, ML_EINPUT, "unknown dataset census@2024.2");
	assert_int_equal(r.calls, 2); /* stops at the first failure */
	memset(&r, 0, sizeof r);
	r.unknown = "m@0";
	build_bad(fx,
		  "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"parent\":\"m@0\"}",
		  &r, ML_EINPUT, "unknown model m@0");
	assert_int_equal(r.calls, 1);
	/* Other resolver codes propagate too (a storage error stays ML_EIO). */
	memset(&r, 0, sizeof r);
	r.fail_rc = ML_EIO;
	build_bad(fx,
		  "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"datasets\":[\"d@1\"]}",
		  &r, ML_EIO, "disk on fire");
	memset(&r, 0, sizeof r);
	r.fail_rc = ML_EIO;
	build_bad(fx,
		  "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"parent\":\"m@0\"}",
		  &r, ML_EIO, "disk on fire");

	/* Refs need the ledger. */
	build_bad(fx,
		  "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"datasets\":[\"d@1\"]}",
		  NULL, ML_EINPUT, "datasets d@1: needs the ledger to look up its digest");
	build_bad(fx,
		  "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"parent\":\"m@0\"}",
		  NULL, ML_EINPUT, "parent m@0: needs the ledger");
	/* Bad refs are refused before the resolver is asked. */
	memset(&r, 0, sizeof r);
	build_bad(fx,
		  "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"datasets\":[\"d@1\",\"census\"]}",
		  &r, ML_EINPUT, "datasets: expected NAME@VERSION");
	assert_int_equal(r.calls, 1);
	memset(&r, 0, sizeof r);
	build_bad(fx,
		  "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"datasets\":[7]}",
		  &r, ML_EINPUT, "datasets: expected NAME@VERSION");
	build_bad(fx,
		  "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"datasets\":\"d@1\"}",
		  &r, ML_EINPUT, "datasets: expected a list of NAME@VERSION");
	build_bad(fx,
		  "{\"kind\":\"model\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"parent\":{\"name\":\"m@0\"}}",
		  &r, ML_EINPUT, "parent: expected NAME@VERSION");
	assert_int_equal(r.calls, 0);
	build_bad(fx, "{\"kind\":\"model\",\"subject\":\"m@1\"}", &r, ML_EINPUT,
		  "model m@1: a digest is required");
}

static void
test_build_about_model(void **state)
{
	struct fixture *fx = *state;
	struct resolver r = {0};
	struct ml_statement st;

	/* No digest: the resolver gives the recorded model's. */
	build_ok(fx,
		 "{\"kind\":\"approval\",\"subject\":\"fraud/xgb@1.2.0\",\"environment\":\"prod\","
		 "\"decision\":\"approve\",\"comment\":\"ok\\nships\"}",
		 &r, ML_KIND_APPROVAL, &st);
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.kinds[0], "model");
	assert_string_equal(r.refs[0], "fraud/xgb@1.2.0");
	expect_digest(&st, HEXR);
	expect_str(json_object_get(st.predicate, "decision"), "approve");
	ml_statement_free(&st);

	/* An explicit digest wins; the resolver is not asked. */
	memset(&r, 0, sizeof r);
	build_ok(fx,
		 "{\"kind\":\"approval\",\"subject\":\"fraud/xgb@1.2.0\",\"digest\":\"sha256:" HEXB
		 "\",\"environment\":\"prod\",\"decision\":\"reject\"}",
		 &r, ML_KIND_APPROVAL, &st);
	assert_int_equal(r.calls, 0);
	expect_digest(&st, HEXB);
	ml_statement_free(&st);
	build_ok(fx,
		 "{\"kind\":\"approval\",\"subject\":\"fraud/xgb@1.2.0\",\"digest\":\"sha256:" HEXB
		 "\",\"environment\":\"prod\",\"decision\":\"reject\"}",
		 NULL, ML_KIND_APPROVAL, &st);
	expect_digest(&st, HEXB);
	ml_statement_free(&st);

	/* Neither digest nor resolver. */
	build_bad(fx,
		  "{\"kind\":\"approval\",\"subject\":\"m@1\",\"environment\":\"prod\","
		  "\"decision\":\"approve\"}",
		  NULL, ML_EINPUT, "m@1: give --digest, or the ledger");
	/* The model is not recorded. */
	memset(&r, 0, sizeof r);
	r.unknown = "m@9";
	build_bad(fx,
		  "{\"kind\":\"deployment\",\"subject\":\"m@9\",\"environment\":\"prod\"}", &r,
		  ML_EINPUT, "unknown model m@9");
	memset(&r, 0, sizeof r);
	r.fail_rc = ML_EIO;
	build_bad(fx, "{\"kind\":\"deployment\",\"subject\":\"m@9\",\"environment\":\"prod\"}",
		  &r, ML_EIO, "disk on fire");

	/* evaluation: subject digest and the dataset ref both resolved. */
	memset(&r, 0, sizeof r);
	build_ok(fx,
		 "{\"kind\":\"evaluation\",\"subject\":\"m@1\",\"dataset\":\"holdout@3\","
		 "\"metrics\":{\"auc\":0.93}}",
		 &r, ML_KIND_EVALUATION, &st);
	assert_int_equal(r.calls, 2);
	assert_string_equal(r.kinds[0], "model");
	assert_string_equal(r.refs[0], "m@1");
	assert_string_equal(r.kinds[1], "dataset");
	assert_string_equal(r.refs[1], "holdout@3");
	expect_ref(json_object_get(st.predicate, "dataset"), "holdout@3", HEXR);
	ml_statement_free(&st);

	/* The remaining kinds about a model. */
	memset(&r, 0, sizeof r);
	build_ok(fx,
		 "{\"kind\":\"monitoring\",\"subject\":\"m@1\",\"environment\":\"prod\","
		 "\"metrics\":{\"drift\":0.1}}",
		 &r, ML_KIND_MONITORING, &st);
	ml_statement_free(&st);
	build_ok(fx,
		 "{\"kind\":\"waiver\",\"subject\":\"m@1\",\"rule\":\"r1\",\"expires\":\"2026-12-31\","
		 "\"reason\":\"why\"}",
		 &r, ML_KIND_WAIVER, &st);
	ml_statement_free(&st);
	build_ok(fx,
		 "{\"kind\":\"retirement\",\"subject\":\"m@1\",\"environment\":\"prod\","
		 "\"reason\":\"old\"}",
		 &r, ML_KIND_RETIREMENT, &st);
	ml_statement_free(&st);
	build_ok(fx,
		 "{\"kind\":\"incident\",\"subject\":\"m@1\",\"severity\":\"low\","
		 "\"description\":\"blip\"}",
		 &r, ML_KIND_INCIDENT, &st);
	ml_statement_free(&st);
	assert_int_equal(r.calls, 4);
	/* Missing required member: named by the schema. */
	build_bad(fx, "{\"kind\":\"approval\",\"subject\":\"m@1\",\"environment\":\"prod\"}", &r,
		  ML_EINPUT, "approval: field \"decision\" is required");
}

static void
test_build_time(void **state)
{
	struct fixture *fx = *state;
	struct ml_statement st;

	/* An explicit time is kept, whatever now is. */
	build_ok(fx,
		 "{\"kind\":\"deployment\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		 "\",\"environment\":\"prod\",\"time\":\"2020-01-01T00:00:00Z\"}",
		 NULL, ML_KIND_DEPLOYMENT, &st);
	expect_str(json_object_get(st.predicate, "time"), "2020-01-01T00:00:00Z");
	ml_statement_free(&st);
	/* A bad explicit time is refused, not replaced. */
	build_bad(fx,
		  "{\"kind\":\"deployment\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"environment\":\"prod\",\"time\":\"2020-01-01\"}",
		  NULL, ML_EINPUT, "time: must be YYYY-MM-DDTHH:MM:SSZ");
	build_bad(fx,
		  "{\"kind\":\"deployment\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
		  "\",\"environment\":\"prod\",\"time\":null}",
		  NULL, ML_EINPUT, "time: must be");
}

static void
test_build_keys(void **state)
{
	struct fixture *fx = *state;
	struct ml_statement st;
	uint8_t d[ML_SHA256_LEN];
	char text[1000];

	/* Enrolment: subject and digest come from the key line. */
	snprintf(text, sizeof text,
		 "{\"kind\":\"key-enrollment\",\"key\":\"%s\",\"roles\":[\"author\"]}",
		 fx->bob_vkey);
	build_ok(fx, text, NULL, ML_KIND_KEY_ENROLLMENT, &st);
	assert_string_equal(st.subject, "bob");
	ml_sha256(fx->bob_vkey, strlen(fx->bob_vkey), d);
	assert_memory_equal(st.digest, d, sizeof d);
	expect_str(json_object_get(st.predicate, "key"), fx->bob_vkey);
	expect_str(json_array_get(json_object_get(st.predicate, "roles"), 0), "author");
	ml_statement_free(&st);

	/* Revocation. */
	snprintf(text, sizeof text,
		 "{\"kind\":\"key-revocation\",\"key\":\"%s\",\"reason\":\"left the team\"}",
		 fx->bob_vkey);
	build_ok(fx, text, NULL, ML_KIND_KEY_REVOCATION, &st);
	assert_string_equal(st.subject, "bob");
	assert_memory_equal(st.digest, d, sizeof d);
	ml_statement_free(&st);

	/* For key kinds, subject and digest come from the key: giving them is
	 * refused rather than silently ignored. */
	snprintf(text, sizeof text,
		 "{\"kind\":\"key-enrollment\",\"subject\":\"mallory\",\"digest\":\"sha256:" HEXA
		 "\",\"key\":\"%s\",\"roles\":[\"author\"]}",
		 fx->bob_vkey);
	build_bad(fx, text, NULL, ML_EINPUT, "subject and digest come from the key");

	build_bad(fx, "{\"kind\":\"key-enrollment\",\"roles\":[\"author\"]}", NULL, ML_EINPUT,
		  "key: required");
	build_bad(fx, "{\"kind\":\"key-enrollment\",\"key\":7,\"roles\":[\"author\"]}", NULL,
		  ML_EINPUT, "key: required");
	snprintf(text, sizeof text, "{\"kind\":\"key-enrollment\",\"key\":\"%s\"}", fx->bob_vkey);
	build_bad(fx, text, NULL, ML_EINPUT, "key-enrollment: field \"roles\" is required");
	snprintf(text, sizeof text,
		 "{\"kind\":\"key-enrollment\",\"key\":\"%s\",\"roles\":[\"Admin\"]}",
		 fx->bob_vkey);
	build_bad(fx, text, NULL, ML_EINPUT, "roles: role names are lowercase");
}

/* BUG (kept failing on purpose, see the report): subject_of formats
 * e->msg into e->msg ("key: %s", e->msg): overlapping vsnprintf arguments,
 * undefined; glibc garbles it to "key: key: ier key: ...". */
static void
test_build_bad_key_message(void **state)
{
	struct fixture *fx = *state;

	build_bad(fx,
		  "{\"kind\":\"key-enrollment\",\"key\":\"bob+12345678+AAAA\","
		  "\"roles\":[\"author\"]}",
		  NULL, ML_EINPUT, "key: verifier key: key is 3 bytes, want 33");
}

static void
test_build_kinds_refused(void **state)
{
	struct fixture *fx = *state;
	struct resolver r = {0};
	struct ml_buf b = {0};
	struct ml_err e;
	enum ml_kind k;
	json_t *req;

	build_bad(fx, "{\"kind\":\"foo\",\"subject\":\"m@1\"}", &r, ML_EINPUT,
		  "kind: unknown kind \"foo\"");
	build_bad(fx, "{\"kind\":\"Dataset\",\"subject\":\"m@1\"}", &r, ML_EINPUT,
		  "kind: unknown kind \"Dataset\"");
	build_bad(fx, "{\"subject\":\"m@1\"}", &r, ML_EINPUT, "kind: unknown kind \"\"");
	build_bad(fx, "{\"kind\":3,\"subject\":\"m@1\"}", &r, ML_EINPUT, "kind: unknown kind");
	/* genesis is made by `init`, never from a request. */
	build_bad(fx,
		  "{\"kind\":\"genesis\",\"subject\":\"example.com/l\",\"format\":1}", &r,
		  ML_EINPUT, "kind: unknown kind \"genesis\"");
	assert_int_equal(r.calls, 0);

	/* Not an object. */
	req = json_array();
	ml_err_clear(&e);
	assert_int_equal(ml_request_build(req, NULL, NULL, fx->now, &k, &b, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "request: expected a JSON object"));
	assert_null(b.data);
	json_decref(req);
}

/* add_kv output fed into a request: "x=" gives "", which the schema refuses;
 * typed values survive into the payload. */
static void
test_build_empty_value(void **state)
{
	struct fixture *fx = *state;
	json_t *req = req_of("{\"kind\":\"evaluation\",\"subject\":\"m@1\",\"digest\":\"sha256:" HEXB
			     "\"}");
	json_t *metrics = json_object(), *props = json_object();
	struct ml_statement st;
	struct ml_buf b = {0};
	struct ml_err e;
	enum ml_kind k;

	ml_err_clear(&e);
	assert_int_equal(ml_request_add_kv(metrics, "auc=0.91", "--metric", &e), ML_OK);
	assert_int_equal(ml_request_add_kv(metrics, "n=100", "--metric", &e), ML_OK);
	assert_int_equal(ml_request_add_kv(metrics, "ok=true", "--metric", &e), ML_OK);
	assert_int_equal(ml_request_add_kv(props, "note=", "--property", &e), ML_OK);
	json_object_set_new(req, "metrics", metrics);
	json_object_set_new(req, "properties", props);
	assert_int_equal(ml_request_build(req, NULL, NULL, fx->now, &k, &b, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "properties: must not be empty"));
	assert_null(b.data);

	json_object_del(req, "properties");
	ml_err_clear(&e);
	assert_int_equal(ml_request_build(req, NULL, NULL, fx->now, &k, &b, &e), ML_OK);
	assert_non_null(strstr((char *)b.data, "\"metrics\":{\"auc\":0.91,\"n\":100,\"ok\":true}"));
	assert_int_equal(ml_statement_parse(b.data, b.len, &st, &e), ML_OK);
	assert_true(json_is_integer(json_object_get(json_object_get(st.predicate, "metrics"), "n")));
	ml_statement_free(&st);
	ml_buf_free(&b);
	json_decref(req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_kv_typing),
		cmocka_unit_test(test_add_kv_rejects),
		cmocka_unit_test(test_digest_parse),
		cmocka_unit_test(test_build_dataset),
		cmocka_unit_test(test_build_model_resolves),
		cmocka_unit_test(test_build_about_model),
		cmocka_unit_test(test_build_time),
		cmocka_unit_test(test_build_keys),
		cmocka_unit_test(test_build_bad_key_message),
		cmocka_unit_test(test_build_kinds_refused),
		cmocka_unit_test(test_build_empty_value),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

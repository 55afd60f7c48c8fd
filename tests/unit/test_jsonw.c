/* Unit tests for jsonw, the canonical JSON writer, and for the statement
 * encoder built on it (issue 18): the writer against json_dumps(JSON_COMPACT
 * | JSON_REAL_PRECISION(15)) on adversarial and random trees; what
 * ML_JSONW_LOADABLE refuses against what json_loadb refuses; the encoder
 * against the parse-back it replaced (json_pack, json_dumps and
 * ml_statement_parse), results, bytes, trees and messages; every statement
 * and envelope vector of ledger/FORMAT.md re-encoded to its exact bytes;
 * envelopes with countersignatures against json_dumps; ml_request_load (jsonp,
 * then json_loadb on what jsonp refuses) against json_loadb on hand-made and on
 * randomly mutated import lines. */
#include "testutil.h"

#include <float.h>
#include <math.h>

#include <sodium.h>

#include "jsonw.h"
#include "request.h"
#include "statement.h"

#define HEX64 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define T0 "2026-01-02T03:04:05Z"

/* ---- the writer against json_dumps -------------------------------------- */

/* Asserts that the writer's bytes of v are json_dumps's (v an object or an
 * array, as json_dumps needs without JSON_ENCODE_ANY). */
static void
same_as_dumps(json_t *v)
{
	struct ml_buf b = {0};
	char *ref = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));

	assert_non_null(ref);
	assert_int_equal(ml_jsonw_value(&b, v, 0, NULL), ML_OK);
	if (strlen(ref) != b.len || memcmp(ref, b.data, b.len) != 0)
		fail_msg("jsonw wrote %s\njansson wrote %s", (char *)b.data, ref);
	free(ref);
	ml_buf_free(&b);
}

static void
test_adversarial(void **state)
{
	static const double reals[] = {
		0.1, 1e-7, 1e21, -0.0, 0.0, 1.0, -1.5, 100.0, 1e15, 1e16, 1e17, 1e-5, 1e-4,
		123456789012345678.0, 0.1234567890123456789, 2.5e-308, 5e-324, DBL_MAX,
		-DBL_MAX, DBL_MIN, 1e300, 1e-300, 3.141592653589793, 2.0 / 3.0, 1e100,
		9007199254740993.0, 0.30000000000000004, 1e22, 1e-10, 12345.678,
	};
	static const long long ints[] = {
		0, 1, -1, 9, 10, -10, 1234567890123, INT64_MAX, INT64_MIN, INT64_MIN + 1,
	};
	static const char *const texts[] = {
		"", "plain", "a/b", "</script>", "quote \" and \\ backslash", "tab\there",
		"\b\f\n\r\t", "del \x7f", "c1 \xc2\x80\xc2\x9f", "caf\xc3\xa9", "\xe2\x80\xa8\xe2\x80\xa9",
		"\xf0\x9f\x98\x80 smile", "\xef\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80", "=1+2",
	};
	json_t *a = json_array(), *o = json_object();
	char ctl[2] = {0, 0};
	size_t i;

	for (i = 0; i < sizeof reals / sizeof reals[0]; i++)
		json_array_append_new(a, json_real(reals[i]));
	for (i = 0; i < sizeof ints / sizeof ints[0]; i++)
		json_array_append_new(a, json_integer(ints[i]));
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		json_array_append_new(a, json_string(texts[i]));
		json_object_set_new(o, texts[i], json_integer((json_int_t)i));
	}
	for (i = 1; i < 0x20; i++) { /* every C0 control, in values and names */
		ctl[0] = (char)i;
		json_array_append_new(a, json_string(ctl));
		json_object_set_new(o, ctl, json_true());
	}
	json_array_append_new(a, json_stringn("nul\0inside", 10));
	json_array_append_new(a, json_true());
	json_array_append_new(a, json_false());
	json_array_append_new(a, json_null());
	json_array_append_new(a, json_object());
	json_array_append_new(a, json_array());
	json_object_set_new(o, "nested", json_pack("{s:[i,{s:[]},[[]]],s:f}", "x", 1, "y", "z",
						    0.25));
	json_object_del(o, "plain"); /* insertion order after a deletion */
	json_object_set_new(o, "plain", json_string("again"));
	json_array_append_new(a, o);
	same_as_dumps(a);
	json_decref(a);
}

/* A random real from random bits (finite only: jansson holds no others). */
static double
rand_real(void)
{
	uint64_t bits;
	double d;

	do {
		randombytes_buf(&bits, sizeof bits);
		memcpy(&d, &bits, sizeof d);
	} while (!isfinite(d));
	return d;
}

/* A random valid UTF-8 string of up to 12 code points, controls and
 * non-ASCII included. */
static json_t *
rand_string(void)
{
	static const uint32_t pool[] = {0x01, 0x08, 0x09, 0x0a, 0x1f, '"', '\\', '/', 'a', 'Z',
					'0', ' ', 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x2028,
					0xfffd, 0x10000, 0x1f600, 0x10ffff};
	char s[64];
	size_t n = 0, k = randombytes_uniform(13), i;

	for (i = 0; i < k; i++) {
		uint32_t c = pool[randombytes_uniform(sizeof pool / sizeof pool[0])];
		if (c < 0x80) {
			s[n++] = (char)c;
		} else if (c < 0x800) {
			s[n++] = (char)(0xc0 | c >> 6);
			s[n++] = (char)(0x80 | (c & 63));
		} else if (c < 0x10000) {
			s[n++] = (char)(0xe0 | c >> 12);
			s[n++] = (char)(0x80 | (c >> 6 & 63));
			s[n++] = (char)(0x80 | (c & 63));
		} else {
			s[n++] = (char)(0xf0 | c >> 18);
			s[n++] = (char)(0x80 | (c >> 12 & 63));
			s[n++] = (char)(0x80 | (c >> 6 & 63));
			s[n++] = (char)(0x80 | (c & 63));
		}
	}
	return json_stringn(s, n);
}

static json_t *
rand_value(int depth)
{
	uint32_t r = randombytes_uniform(depth > 3 ? 5 : 7);
	json_t *v;
	size_t i, n;

	switch (r) {
	case 0: return json_real(rand_real());
	case 1: {
		int64_t x;
		randombytes_buf(&x, sizeof x);
		return json_integer(randombytes_uniform(2) ? x : x % 1000);
	}
	case 2: return rand_string();
	case 3: return json_boolean(randombytes_uniform(2));
	case 4: return json_null();
	case 5:
		v = json_array();
		for (i = 0, n = randombytes_uniform(5); i < n; i++)
			json_array_append_new(v, rand_value(depth + 1));
		return v;
	default:
		v = json_object();
		for (i = 0, n = randombytes_uniform(5); i < n; i++) {
			json_t *k = rand_string();
			json_object_set_new(v, json_string_value(k), rand_value(depth + 1));
			json_decref(k);
		}
		return v;
	}
}

static void
test_random(void **state)
{
	int i;

	for (i = 0; i < 3000; i++) {
		json_t *a = json_array();
		json_array_append_new(a, rand_value(0));
		json_array_append_new(a, json_real(rand_real()));
		same_as_dumps(a);
		json_decref(a);
	}
}

static void loadable_agrees(json_t *v);

/* Reals the writer formats without printf (fixed notation, at most 15
 * digits) and their neighbours, against json_dumps and json_loadb. */
static void
test_short_reals(void **state)
{
	static const double edges[] = {
		1e-4, 0.0001, 0.00010000000000000001, 0.000099999999999999, 9.99999999999999e-5,
		1e15, 999999999999999.0, 999999999999999.4, 999999999999999.5, 99999999999999.99,
		123456789012345.0, 12345678901234.5, 1.23456789012345, 0.123456789012345,
		0.1234567890123456, 1.0000000000000002, 0.9999999999999999, 0.3, 0.7, 1.1, 2.675,
		1e-3, 5e-4, 0.5, 1.0, 10.0, 1e14, 0.9289, 0.8261, 4503599627370496.5,
		9007199254740992.0, 0.1 + 0.2, 1.0 / 3.0, 100.0 / 7.0, 123.456, -0.9289, -1e-4,
	};
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sizeof edges / sizeof edges[0]; i++) {
		json_array_append_new(a, json_real(edges[i]));
		json_array_append_new(a, json_real(nextafter(edges[i], 0)));
		json_array_append_new(a, json_real(nextafter(edges[i], 1e300)));
	}
	same_as_dumps(a);
	loadable_agrees(a);
	json_decref(a);
	for (i = 0; i < 20000; i++) {
		uint64_t m;
		char text[64];
		int k = (int)randombytes_uniform(22), digits = 1 + (int)randombytes_uniform(17);
		double d;
		randombytes_buf(&m, sizeof m);
		m %= (uint64_t)pow(10, digits);
		snprintf(text, sizeof text, "%s%llue-%d", randombytes_uniform(2) ? "-" : "",
			 (unsigned long long)m, k);
		d = strtod(text, NULL);
		a = json_array();
		json_array_append_new(a, json_real(d));
		/* and a random double of about that size */
		json_array_append_new(a, json_real(d * (1 + (randombytes_uniform(1000) - 500) * 1e-12)));
		same_as_dumps(a);
		loadable_agrees(a);
		json_decref(a);
	}
}

/* ---- ML_JSONW_LOADABLE against json_loadb ------------------------------- */

/* Whether json_loadb(JSON_REJECT_DUPLICATES) accepts json_dumps of v. */
static int
dumps_loads(json_t *v)
{
	char *t = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_t *back = t ? json_loads(t, JSON_REJECT_DUPLICATES, NULL) : NULL;
	int ok = back != NULL;

	json_decref(back);
	free(t);
	return ok;
}

/* Asserts that LOADABLE refuses v exactly when json_loadb refuses its dump,
 * and that when it does not, v afterwards equals that parse. */
static void
loadable_agrees(json_t *v)
{
	struct ml_buf b = {0};
	struct ml_err e;
	int want = dumps_loads(v), rc;

	ml_err_clear(&e);
	rc = ml_jsonw_value(&b, v, ML_JSONW_LOADABLE, &e);
	assert_int_equal(rc == ML_OK, want);
	if (rc == ML_OK) {
		json_t *back = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
		char *t;
		assert_non_null(back);
		assert_true(json_equal(back, v));
		t = json_dumps(back, JSON_COMPACT | JSON_REAL_PRECISION(15));
		assert_int_equal(strlen(t), b.len); /* and the bytes are stable */
		assert_memory_equal(t, b.data, b.len);
		free(t);
		json_decref(back);
	} else {
		assert_int_equal(rc, ML_EINPUT);
		assert_true(e.msg[0] != '\0');
	}
	ml_buf_free(&b);
}

static json_t *
nested(int depth) /* depth arrays, the innermost empty: values at 1..depth */
{
	json_t *v = json_array();
	int i;

	for (i = 1; i < depth; i++) {
		json_t *outer = json_array();
		json_array_append_new(outer, v);
		v = outer;
	}
	return v;
}

static void
test_loadable(void **state)
{
	struct ml_buf b = {0};
	json_t *v;
	int i;

	/* Refused: NUL in a value or a name, a real that overflows when read
	 * back, nesting past jansson's depth limit. */
	v = json_pack("[s#]", "a\0b", (size_t)3);
	loadable_agrees(v);
	json_decref(v);
	v = json_object();
	json_object_setn_new(v, "k\0", 2, json_true());
	loadable_agrees(v);
	json_decref(v);
	v = json_pack("[f]", DBL_MAX); /* "1.79769313486232e308" overflows */
	loadable_agrees(v);
	json_decref(v);
	v = json_pack("[f]", -DBL_MAX);
	loadable_agrees(v);
	json_decref(v);
	v = nested(ML_JSONW_MAX_DEPTH + 1);
	loadable_agrees(v);
	json_decref(v);
	/* Accepted, the reals rounded to what is read back. */
	v = nested(ML_JSONW_MAX_DEPTH);
	loadable_agrees(v);
	json_decref(v);
	v = json_pack("[f,f,f,f,f]", 0.1234567890123456789, 1.7976931348623e308, 4.9e-324,
		      -0.0, 2.0 / 3.0);
	loadable_agrees(v);
	assert_true(json_real_value(json_array_get(v, 4)) == 0.666666666666667);
	json_decref(v);
	for (i = 0; i < 2000; i++) {
		v = json_array();
		json_array_append_new(v, rand_value(0));
		json_array_append_new(v, json_real(rand_real()));
		loadable_agrees(v);
		json_decref(v);
	}
	/* Invalid UTF-8 is refused with or without the flag, as json_dumps
	 * refuses it. */
	v = json_array();
	json_array_append_new(v, json_stringn_nocheck("\xff", 1));
	assert_null(json_dumps(v, JSON_COMPACT));
	assert_int_equal(ml_jsonw_value(&b, v, 0, NULL), ML_EINPUT);
	json_decref(v);
	ml_buf_free(&b);
	assert_int_equal(ml_jsonw_value(&b, NULL, 0, NULL), ML_EINPUT);
	ml_buf_free(&b);
}

/* ---- the statement encoder against the parse-back it replaced ------------ */

/* The encoder before issue 18: json_pack, json_dumps, ml_statement_parse. */
static int
old_encode(enum ml_kind kind, const char *subject, const uint8_t digest[ML_SHA256_LEN],
	   json_t *predicate, struct ml_buf *out, struct ml_statement *parsed, struct ml_err *e)
{
	char hex[2 * ML_SHA256_LEN + 1];
	json_t *root;
	char *text;
	int rc;

	ml_hex_encode(digest, ML_SHA256_LEN, hex);
	root = json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s, s:o}", "_type", ML_STATEMENT_TYPE,
			 "subject", "name", subject, "digest", "sha256", hex, "predicateType",
			 ml_kind_predicate_type(kind), "predicate", predicate);
	if (!root)
		return ml_err_set(e, ML_EINPUT, "statement: subject is not valid UTF-8");
	text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(root);
	if (!text)
		return ml_err_set(e, ML_EIO, "statement: out of memory");
	rc = ml_statement_parse((const uint8_t *)text, strlen(text), parsed, e);
	if (rc == ML_OK)
		ml_buf_append(out, text, strlen(text));
	free(text);
	return rc;
}

struct enc_case {
	enum ml_kind kind;
	const char *subject;
	const char *pred;   /* JSON, or NULL: built by the test */
	int same_message;   /* a refusal: the messages must match too */
};

/* Encodes kind/subject/pred both ways; asserts the same result, and the
 * same bytes, tree and fields or the same message. */
static void
both_ways(enum ml_kind kind, const char *subject, json_t *pred, int same_message)
{
	uint8_t d[ML_SHA256_LEN];
	struct ml_buf a = {0}, b = {0};
	struct ml_statement sa = {0}, sb = {0};
	struct ml_err ea, eb;
	int ra, rb;

	ml_sha256(subject ? subject : "", subject ? strlen(subject) : 0, d);
	ml_err_clear(&ea);
	ml_err_clear(&eb);
	ml_buf_append(&b, "prefix", 6); /* the encoder appends */
	ra = old_encode(kind, subject, d, json_deep_copy(pred), &a, &sa, &ea);
	rb = ml_statement_encode_parsed(kind, subject, d, json_deep_copy(pred), &b, &sb, &eb);
	if (ra != rb)
		fail_msg("old %d (%s), new %d (%s)", ra, ea.msg, rb, eb.msg);
	if (ra != ML_OK) {
		assert_int_equal(b.len, 6); /* nothing appended */
		if (same_message)
			assert_string_equal(ea.msg, eb.msg);
	} else {
		assert_int_equal(a.len + 6, b.len);
		assert_memory_equal(a.data, b.data + 6, a.len);
		assert_true(json_equal(sa.root, sb.root));
		assert_int_equal(sa.kind, sb.kind);
		assert_string_equal(sa.subject, sb.subject);
		assert_memory_equal(sa.digest, sb.digest, ML_SHA256_LEN);
		assert_memory_equal(sa.source_sha256, sb.source_sha256, ML_SHA256_LEN);
		assert_true(json_equal(sa.predicate, sb.predicate));
		ml_statement_free(&sa);
		ml_statement_free(&sb);
	}
	ml_buf_free(&a);
	ml_buf_free(&b);
}

static void
test_encode_both_ways(void **state)
{
	static const struct enc_case cases[] = {
		{ML_KIND_DATASET, "d@1", "{\"time\":\"" T0 "\",\"uri\":\"s3://x/y\","
		 "\"properties\":{\"rows\":12,\"f\":0.1,\"big\":1e21,\"tiny\":1e-7,"
		 "\"neg\":-0.0,\"i\":9223372036854775807,\"s\":\"caf\\u00e9 \\u0001\\/\"}}", 1},
		{ML_KIND_MODEL, "m@1.0", "{\"time\":\"" T0 "\",\"datasets\":[],"
		 "\"properties\":{\"p\":0.12345678901234567}}", 1},
		{ML_KIND_EVALUATION, "m@1", "{\"time\":\"" T0 "\",\"metrics\":{\"auc\":0.91234,"
		 "\"f1\":1.7976931348623157e308}}", 0}, /* bad JSON once written */
		{ML_KIND_EVALUATION, "m@1", "{\"time\":\"" T0 "\",\"metrics\":{\"auc\":0.91234,"
		 "\"loss\":2.5e-308,\"n\":3}}", 1},
		{ML_KIND_APPROVAL, "m@1", "{\"environment\":\"prod\",\"decision\":\"approve\","
		 "\"comment\":\"tab\\there \\\"q\\\" \\\\ \\u2028\",\"time\":\"" T0 "\"}", 1},
		{ML_KIND_APPROVAL, "m@1", "{\"environment\":\"prod\",\"decision\":\"approve\","
		 "\"comment\":\"del \\u007f\",\"time\":\"" T0 "\"}", 1}, /* not text */
		{ML_KIND_APPROVAL, "m@1", "{\"environment\":\"prod\",\"decision\":\"approve\","
		 "\"comment\":\"nul \\u0000\",\"time\":\"" T0 "\"}", 0}, /* bad JSON */
		{ML_KIND_APPROVAL, "m@1", "{\"environment\":\"prod\",\"decision\":\"maybe\","
		 "\"time\":\"" T0 "\"}", 1},
		{ML_KIND_APPROVAL, "m@1", "{\"environment\":\"prod\",\"decision\":\"approve\","
		 "\"time\":\"" T0 "\",\"extra\":1}", 1},
		{ML_KIND_APPROVAL, "m@1", "{\"environment\":\"prod\",\"decision\":\"approve\","
		 "\"time\":\"2026-13-01T00:00:00Z\"}", 1},
		{ML_KIND_APPROVAL, "m\x01@1", "{\"environment\":\"prod\",\"decision\":\"approve\","
		 "\"time\":\"" T0 "\"}", 1},
		{ML_KIND_APPROVAL, NULL, "{}", 1},
		{ML_KIND_APPROVAL, "m@1", "[]", 1},
		{ML_KIND_DEPLOYMENT, "m@1", "{\"environment\":\"prod\",\"time\":\"" T0 "\","
		 "\"properties\":{\"deep\":[[[[1]]]]}}", 1},
		{ML_KIND_MONITORING, "m@1", "{\"time\":\"" T0 "\",\"metrics\":{\"drift\":0.02},"
		 "\"origin\":\"bench.example/ledger\",\"idempotencyKey\":\"k-1\"}", 1},
		{ML_KIND_MONITORING, "m@1", "{\"time\":\"" T0 "\",\"metrics\":{\"drift\":0.02},"
		 "\"origin\":\"bad origin\"}", 1},
	};
	char longname[ML_NAME_MAX + 2];
	json_t *p;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		p = json_loads(cases[i].pred, JSON_ALLOW_NUL, NULL);
		assert_non_null(p);
		both_ways(cases[i].kind, cases[i].subject, p, cases[i].same_message);
		json_decref(p);
	}
	/* A subject one byte too long; invalid UTF-8 in the subject. */
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	p = json_pack("{s:s,s:s,s:s}", "environment", "prod", "decision", "approve", "time", T0);
	both_ways(ML_KIND_APPROVAL, longname, p, 1);
	both_ways(ML_KIND_APPROVAL, "m\xff@1", p, 1);
	json_decref(p);
	/* Nesting too deep to read back, and a NULL predicate. */
	p = json_pack("{s:s,s:o}", "time", T0, "metrics", nested(ML_JSONW_MAX_DEPTH));
	both_ways(ML_KIND_EVALUATION, "m@1", p, 0);
	json_decref(p);
	both_ways(ML_KIND_APPROVAL, "m@1", NULL, 1);
	/* Random properties: reals, controls, non-ASCII. */
	for (i = 0; i < 500; i++) {
		json_t *props = json_object();
		int k;
		for (k = 0; k < 6; k++) {
			char name[16];
			snprintf(name, sizeof name, "p%d", k);
			json_object_set_new(props, name, k % 2 ? json_real(rand_real()) : rand_string());
		}
		p = json_pack("{s:s,s:o}", "time", T0, "properties", props);
		both_ways(ML_KIND_DATASET, "d@1", p, 1);
		json_decref(p);
	}
}

/* ---- every FORMAT.md vector, re-encoded ---------------------------------- */

static char *
format_md(void)
{
	const char *d = getenv("MLLEDGER_TEST_DATA");
	char path[4096];
	FILE *f;
	char *text;
	long n;

	snprintf(path, sizeof path, "%s/../../ledger/FORMAT.md", d ? d : "tests/data");
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void
test_format_vectors(void **state)
{
	char *md = format_md(), *line, *save = NULL;
	int nstmt = 0, nenv = 0;

	for (line = strtok_r(md, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct ml_buf b = {0};
		struct ml_err e;
		size_t len;

		while (*line == ' ')
			line++;
		len = strlen(line);
		ml_err_clear(&e);
		if (!strncmp(line, "{\"_type\":", 9) && line[len - 1] == '}') {
			struct ml_statement s, again;
			char *dumped;
			assert_int_equal(ml_statement_parse((const uint8_t *)line, len, &s, &e), ML_OK);
			dumped = json_dumps(s.root, JSON_COMPACT | JSON_REAL_PRECISION(15));
			assert_string_equal(dumped, line); /* the old way */
			free(dumped);
			assert_int_equal(ml_statement_encode_parsed(s.kind, s.subject, s.digest,
								    json_deep_copy(s.predicate), &b,
								    &again, &e), ML_OK);
			assert_int_equal(b.len, len); /* the new way */
			assert_memory_equal(b.data, line, len);
			assert_true(json_equal(s.root, again.root));
			ml_statement_free(&again);
			ml_statement_free(&s);
			nstmt++;
		} else if (!strncmp(line, "{\"payload\":", 11) && line[len - 1] == '}' &&
			   !strchr(line, '<')) { /* not the "<b64>" templates of §3 */
			struct ml_envelope env;
			json_t *j = json_loads(line, 0, NULL);
			char *dumped = json_dumps(j, JSON_COMPACT);
			assert_string_equal(dumped, line); /* the old way */
			free(dumped);
			json_decref(j);
			assert_int_equal(ml_envelope_parse((const uint8_t *)line, len, &env, &e), ML_OK);
			assert_int_equal(ml_envelope_encode(&env, &b, &e), ML_OK);
			assert_int_equal(b.len, len); /* the new way */
			assert_memory_equal(b.data, line, len);
			ml_envelope_clear(&env);
			nenv++;
		}
		ml_buf_free(&b);
	}
	free(md);
	assert_true(nstmt >= 8); /* as many as FORMAT.md §9 holds today */
	assert_true(nenv >= 1);
}

/* ---- envelopes against json_dumps ----------------------------------------- */

static void
test_envelopes(void **state)
{
	struct ml_envelope_sig co[ML_ENVELOPE_MAX_SIGS - 1];
	struct ml_envelope env = {0};
	uint8_t payload[700];
	size_t n, i;

	randombytes_buf(payload, sizeof payload);
	for (n = 0; n < 4; n++) {
		for (size_t plen = 0; plen < 5; plen++) {
			struct ml_buf b = {0};
			struct ml_err e;
			json_t *sigs = json_array(), *j;
			char *p64, *s64, *ref;

			env.payload = payload;
			env.payload_len = plen == 4 ? sizeof payload : plen;
			snprintf(env.keyid, sizeof env.keyid, "alice+%08x", (unsigned)(n * 77));
			randombytes_buf(env.sig, sizeof env.sig);
			env.nco = n * 5 > ML_ENVELOPE_MAX_SIGS - 1 ? ML_ENVELOPE_MAX_SIGS - 1 : n * 5;
			env.co = env.nco ? co : NULL;
			s64 = ml_b64_encode(env.sig, ML_SIG_LEN);
			json_array_append_new(sigs, json_pack("{s:s,s:s}", "keyid", env.keyid, "sig", s64));
			free(s64);
			for (i = 0; i < env.nco; i++) {
				snprintf(co[i].keyid, sizeof co[i].keyid, "k.%zu-x+%08zx", i, i * 31);
				randombytes_buf(co[i].sig, sizeof co[i].sig);
				s64 = ml_b64_encode(co[i].sig, ML_SIG_LEN);
				json_array_append_new(sigs, json_pack("{s:s,s:s}", "keyid", co[i].keyid,
								      "sig", s64));
				free(s64);
			}
			p64 = ml_b64_encode(payload, env.payload_len);
			j = json_pack("{s:s,s:s,s:o}", "payload", p64, "payloadType", ML_PAYLOAD_TYPE,
				      "signatures", sigs);
			ref = json_dumps(j, JSON_COMPACT);
			ml_err_clear(&e);
			assert_int_equal(ml_envelope_encode(&env, &b, &e), ML_OK);
			assert_int_equal(b.len, strlen(ref));
			assert_memory_equal(b.data, ref, b.len);
			free(ref);
			free(p64);
			json_decref(j);
			ml_buf_free(&b);
		}
	}
	/* A keyid that would need escaping is refused, as before. */
	{
		struct ml_buf b = {0};
		struct ml_err e;
		env.nco = 0;
		env.co = NULL;
		snprintf(env.keyid, sizeof env.keyid, "a\"b+00000000");
		ml_err_clear(&e);
		assert_int_equal(ml_envelope_encode(&env, &b, &e), ML_EINPUT);
		ml_buf_free(&b);
	}
}


/* ---- ml_request_load against json_loadb ---------------------------------- */

/* Asserts that ml_request_load accepts line exactly when json_loadb
 * (JSON_REJECT_DUPLICATES) does, with the same tree (members in the same
 * order, reals to the bit) or the same message. */
static void
load_agrees(const char *line, size_t len)
{
	json_error_t jerr;
	json_t *ref = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr), *got = NULL;
	struct ml_err e;
	int rc;

	ml_err_clear(&e);
	rc = ml_request_load(line, len, &got, &e);
	if ((rc == ML_OK) != (ref != NULL))
		fail_msg("[%.*s]: load rc %d, json_loadb %s", (int)len, line, rc,
			 ref ? "accepts" : jerr.text);
	if (ref) {
		char *a = json_dumps(ref, JSON_COMPACT | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY);
		char *b = json_dumps(got, JSON_COMPACT | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY);
		assert_true(json_equal(ref, got));
		assert_string_equal(a, b);
		free(a);
		free(b);
		json_decref(got);
		json_decref(ref);
	} else {
		char want[300];
		snprintf(want, sizeof want, "bad JSON at column %d: %s", jerr.column, jerr.text);
		assert_int_equal(rc, ML_EINPUT);
		assert_string_equal(e.msg, want);
	}
}

static const char *const load_lines[] = {
	"{\"kind\":\"evaluation\",\"subject\":\"fraud-scorer@1.0.0\",\"dataset\":"
	"\"fraud-scorer-eval@2024.0\",\"metrics\":{\"accuracy\":0.9289,\"f1\":0.8261,"
	"\"samples\":608978},\"properties\":{\"suite\":\"fairness\",\"seed\":74487,"
	"\"pii\":false,\"x\":null,\"t\":true}}",
	"{\"kind\":\"dataset\",\"subject\":\"d@1\",\"digest\":\"sha256:00\",\"uri\":"
	"\"s3://a/b/*.parquet\",\"properties\":{\"rows\":8617535,\"columns\":143}}",
	"{\"kind\":\"model\",\"subject\":\"m@1\",\"datasets\":[\"a@1\",\"b@2\"],\"parent\":\"m@0\"}",
	" \t{ \"a\" : [ 1 , -2 , 3.5 , -0.0 , 1e5 , 1E-5 , 2e+3 , [ ] , { } ] }\r\n ",
	"{}", "[]", "[1]", "1", "\"s\"", "", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
	"{\"a\":1 \"b\":2}", "{\"a\":1}x", "{\"a\":1}{}", "{\"a\":1,\"a\":2}",
	"{\"a\":{\"b\":1,\"b\":1}}", "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":.5}",
	"{\"a\":1e}", "{\"a\":1e+}", "{\"a\":+1}", "{\"a\":-01}", "{\"a\":1.5e3.2}",
	"{\"a\":9223372036854775807}", "{\"a\":9223372036854775808}",
	"{\"a\":-9223372036854775808}", "{\"a\":-9223372036854775809}", "{\"a\":1e400}",
	"{\"a\":-1e400}", "{\"a\":1e-400}", "{\"a\":4.9e-324}",
	"{\"a\":0.000000000000000000000000000000000000000000000000000000000000000000001}",
	"{\"a\":123456789012345678901234567890}", "{\"a\":truex}", "{\"a\":true1}",
	"{\"a\":tru}", "{\"a\":nul}", "{\"a\":NULL}", "{\"a\":falsey}", "{\"a\":True}",
	"{\"a\":\"tab\there\"}", "{\"a\":\"esc\\\"q\"}", "{\"a\":\"\\u00e9\"}",
	"{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\x\"}", "{\"a\":\"caf\xc3\xa9\"}",
	"{\"a\":\"\xc3\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc0\xaf\"}",
	"{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xf0\x9f\x98\x80\"}", "{\"a\":\"\x7f\"}",
	"{\"\xc3\xa9\":1}", "{\"a\":\"unterminated}", "{\"a\":1", "{\"a\":[1,2}", "{\"a\":[1,]}",
	"{\"a\":[,1]}", "{\"a\"\n:\n1\n}", "{\"a\":\v1}", "\xef\xbb\xbf{}",
	"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
};

static void
test_request_load(void **state)
{
	static const char set[] = "{}[]\":,.-+eE0129 \t\n\r\\tfnaul\x01\x7f\xc3\xa9\xff\xed\xa0\x80";
	char buf[1024];
	size_t i, n, len;
	int k;

	for (i = 0; i < sizeof load_lines / sizeof load_lines[0]; i++)
		load_agrees(load_lines[i], strlen(load_lines[i]));
	load_agrees("{\"a\":\"x\0y\"}", 11); /* a NUL byte inside the length */
	load_agrees("{\"a\":1}\0", 8);
	for (n = 0; n < 30000; n++) { /* 1-3 random edits of a line above */
		const char *base = load_lines[randombytes_uniform(3 + (n & 1) * 2)];
		len = strlen(base);
		memcpy(buf, base, len);
		for (k = 0, i = 1 + randombytes_uniform(3); k < (int)i && len > 1; k++) {
			size_t at = randombytes_uniform((uint32_t)len);
			char c = set[randombytes_uniform(sizeof set - 1)];
			switch (randombytes_uniform(3)) {
			case 0: buf[at] = c; break;
			case 1: memmove(buf + at, buf + at + 1, len - at - 1); len--; break;
			default:
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = c;
				len++;
			}
		}
		load_agrees(buf, len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adversarial),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_short_reals),
		cmocka_unit_test(test_loadable),
		cmocka_unit_test(test_encode_both_ways),
		cmocka_unit_test(test_format_vectors),
		cmocka_unit_test(test_envelopes),
		cmocka_unit_test(test_request_load),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

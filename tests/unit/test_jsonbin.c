/* Unit tests for jsonbin (jsonbin.h): a round trip keeps every value, its
 * type and its members' order exactly (reals by their bits, -0.0 among
 * them, integers at both ends, strings with NUL, quotes, controls and
 * multibyte text, empty and nested containers); nesting to
 * ML_JSONBIN_MAX_DEPTH and not one level more, either way; and records
 * that are not one (every cut, a trailing byte, an unknown tag, a length or
 * count past the end, a varint too long or too large, text that is not
 * UTF-8, a key with a NUL byte) refused without a leak (valgrind). */
#include "testutil.h"

#include <float.h>
#include <math.h>

#include "jsonbin.h"

#define DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

/* The record of v (caller frees with ml_buf_free). */
static struct ml_buf
encode(const json_t *v)
{
	struct ml_buf b = {0};

	assert_int_equal(ml_jsonbin_put(v, &b), ML_OK);
	assert_true(b.len > 0);
	return b;
}

/* Same type all the way down (json_equal also checks, this says where). */
static void
same_types(const json_t *a, const json_t *b)
{
	const char *k;
	json_t *x;
	size_t i;

	assert_int_equal(json_typeof(a), json_typeof(b));
	if (json_is_object(a))
		json_object_foreach((json_t *)(uintptr_t)a, k, x)
			same_types(x, json_object_get(b, k));
	else if (json_is_array(a))
		json_array_foreach(a, i, x)
			same_types(x, json_array_get(b, i));
	else if (json_is_real(a))
		assert_memory_equal(&(double){json_real_value(a)},
				    &(double){json_real_value(b)}, sizeof(double));
}

/* v survives a round trip exactly: equal, same types and bits, same text
 * in the same member order, and the same record again.  Takes v. */
static void
round_trip(json_t *v)
{
	struct ml_buf b, b2;
	json_t *got;
	char *t1, *t2;

	assert_non_null(v);
	b = encode(v);
	assert_non_null(got = ml_jsonbin_get(b.data, b.len));
	assert_true(json_equal(v, got));
	same_types(v, got);
	assert_non_null(t1 = json_dumps(v, DUMP_FLAGS));
	assert_non_null(t2 = json_dumps(got, DUMP_FLAGS));
	assert_string_equal(t1, t2);
	b2 = encode(got);
	assert_int_equal(b2.len, b.len);
	assert_memory_equal(b2.data, b.data, b.len);
	free(t1);
	free(t2);
	ml_buf_free(&b);
	ml_buf_free(&b2);
	json_decref(got);
	json_decref(v);
}

/* An object holding every awkward value, keys not in sorted order. */
static json_t *
awkward(void)
{
	json_t *o = json_object(), *nest;

	assert_non_null(o);
	json_object_set_new(o, "zeta", json_real(1.0 / 3.0));
	json_object_set_new(o, "alpha", json_real(0.1));
	json_object_set_new(o, "negzero", json_real(-0.0));
	json_object_set_new(o, "tiny", json_real(1e-300));
	json_object_set_new(o, "denormal", json_real(5e-324));
	json_object_set_new(o, "huge", json_real(DBL_MAX));
	json_object_set_new(o, "whole", json_real(2.0));
	json_object_set_new(o, "two", json_integer(2));
	json_object_set_new(o, "min", json_integer(INT64_MIN));
	json_object_set_new(o, "max", json_integer(INT64_MAX));
	json_object_set_new(o, "zero", json_integer(0));
	json_object_set_new(o, "nul", json_stringn("a\0b\0", 4));
	json_object_set_new(o, "quotes", json_string("\"q\" 'r' \\ /"));
	json_object_set_new(o, "controls", json_string("\x01\x1f\t\n\r\x7f"));
	json_object_set_new(o, "multibyte", json_string("\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e"));
	json_object_set_new(o, "", json_string(""));
	json_object_set_new(o, "\xe2\x82\xac key", json_true());
	json_object_set_new(o, "f", json_false());
	json_object_set_new(o, "n", json_null());
	json_object_set_new(o, "eo", json_object());
	json_object_set_new(o, "ea", json_array());
	nest = json_loads("[[1, [2.5, [\"x\", {}]]], {\"b\": {\"a\": [null, true]}, \"a\": []}]", 0, NULL);
	assert_non_null(nest);
	json_object_set_new(o, "nested", nest);
	assert_int_equal(json_object_size(o), 22);
	return o;
}

static void
test_round_trip(void **state)
{
	json_t *o = awkward(), *got;
	struct ml_buf b;

	(void)state;
	round_trip(json_incref(o));
	/* -0.0 keeps its sign; 2.0 stays a real */
	b = encode(o);
	assert_non_null(got = ml_jsonbin_get(b.data, b.len));
	assert_true(signbit(json_real_value(json_object_get(got, "negzero"))));
	assert_true(json_is_real(json_object_get(got, "whole")));
	assert_true(json_is_integer(json_object_get(got, "two")));
	assert_int_equal(json_string_length(json_object_get(got, "nul")), 4);
	assert_memory_equal(json_string_value(json_object_get(got, "nul")), "a\0b\0", 4);
	assert_string_equal(json_object_iter_key(json_object_iter(got)), "zeta");
	json_decref(got);
	ml_buf_free(&b);
	json_decref(o);
	/* each value alone, at the top */
	round_trip(json_real(-0.0));
	round_trip(json_real(DBL_MAX));
	round_trip(json_integer(INT64_MIN));
	round_trip(json_integer(INT64_MAX));
	round_trip(json_stringn("\0", 1));
	round_trip(json_string(""));
	round_trip(json_object());
	round_trip(json_array());
	round_trip(json_true());
	round_trip(json_false());
	round_trip(json_null());
	/* a long string and a large array: multi-byte lengths */
	{
		char s[70000];
		json_t *a = json_array();
		int i;
		memset(s, 'x', sizeof s);
		round_trip(json_stringn(s, sizeof s));
		for (i = 0; i < 300; i++)
			json_array_append_new(a, json_integer(i));
		round_trip(a);
	}
}

/* A key with a NUL byte (jansson 2.14 allows one through setn) is refused
 * by put, as get would refuse it: never written cut at the NUL, which
 * would read back as another key. */
static void
test_nul_key(void **state)
{
	struct ml_buf b = {0};
	json_t *o = json_object(), *a = json_array();

	(void)state;
	assert_int_equal(json_object_setn_new(o, "a\0b", 3, json_true()), 0);
	assert_int_equal(ml_jsonbin_put(o, &b), ML_EINPUT);
	ml_buf_free(&b);
	json_array_append_new(a, json_string("x"));
	json_array_append(a, o); /* and deeper down */
	assert_int_equal(ml_jsonbin_put(a, &b), ML_EINPUT);
	ml_buf_free(&b);
	json_decref(a);
	json_decref(o);
}

/* depth nested arrays, the innermost empty (its depth is depth). */
static json_t *
nest(int depth, int objects)
{
	json_t *v = objects ? json_object() : json_array();
	int i;

	for (i = 1; i < depth; i++) {
		json_t *up = objects ? json_object() : json_array();
		if (objects)
			json_object_set_new(up, "k", v);
		else
			json_array_append_new(up, v);
		v = up;
	}
	return v;
}

static void
test_depth(void **state)
{
	struct ml_buf b = {0};
	unsigned char rec[2 * (ML_JSONBIN_MAX_DEPTH + 1) + 1];
	json_t *v;
	size_t n = 0;
	int i;

	(void)state;
	round_trip(nest(ML_JSONBIN_MAX_DEPTH, 0));
	round_trip(nest(ML_JSONBIN_MAX_DEPTH, 1));
	v = nest(ML_JSONBIN_MAX_DEPTH + 1, 0);
	assert_int_equal(ml_jsonbin_put(v, &b), ML_EINPUT);
	json_decref(v);
	ml_buf_free(&b);
	v = nest(ML_JSONBIN_MAX_DEPTH + 1, 1);
	assert_int_equal(ml_jsonbin_put(v, &b), ML_EINPUT);
	json_decref(v);
	ml_buf_free(&b);
	/* a scalar inside the deepest container is one level more */
	v = nest(ML_JSONBIN_MAX_DEPTH, 0);
	{
		json_t *in = v;
		while (json_array_size(in))
			in = json_array_get(in, 0);
		json_array_append_new(in, json_null());
	}
	assert_int_equal(ml_jsonbin_put(v, &b), ML_EINPUT);
	json_decref(v);
	ml_buf_free(&b);

	/* by hand: MAX arrays read; MAX + 1 arrays, or a scalar at MAX + 1, not */
	for (i = 0; i < ML_JSONBIN_MAX_DEPTH - 1; i++) {
		rec[n++] = 'a';
		rec[n++] = 1;
	}
	rec[n++] = 'a';
	rec[n++] = 0;
	assert_non_null(v = ml_jsonbin_get(rec, n));
	json_decref(v);
	rec[n - 1] = 1;
	rec[n++] = 'a';
	rec[n++] = 0;
	assert_null(ml_jsonbin_get(rec, n));
	rec[n - 2] = 'n';
	assert_null(ml_jsonbin_get(rec, n - 1));
}

/* Expects NULL for the n bytes at p. */
#define REFUSED(lit) assert_null(ml_jsonbin_get(lit, sizeof(lit) - 1))

static void
test_cut_and_trailing(void **state)
{
	json_t *o = awkward();
	struct ml_buf b = encode(o);
	unsigned char *copy;
	size_t cut;

	(void)state;
	for (cut = 0; cut < b.len; cut++) {
		/* a copy of exactly cut bytes: reading past it is an error */
		assert_non_null(copy = malloc(cut ? cut : 1));
		memcpy(copy, b.data, cut);
		if (ml_jsonbin_get(copy, cut))
			fail_msg("a record cut to %zu of %zu bytes was read", cut, b.len);
		free(copy);
	}
	ml_buf_append(&b, "n", 1);
	assert_false(b.oom);
	assert_null(ml_jsonbin_get(b.data, b.len));
	b.data[b.len - 1] = 0;
	assert_null(ml_jsonbin_get(b.data, b.len));
	ml_buf_free(&b);
	json_decref(o);
	REFUSED("nn");
	REFUSED("s\x01xx");
}

static void
test_malformed(void **state)
{
	json_t *v;

	(void)state;
	/* unknown tags, at the top and inside containers */
	REFUSED("x");
	REFUSED("N");
	REFUSED("\0");
	REFUSED("a\x02s\x03" "abc?");
	REFUSED("o\x02\x01ks\x03" "abc\x01kI");
	/* lengths and counts past the end */
	REFUSED("s\x05" "abc");
	REFUSED("s\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01");  /* 2^63 */
	REFUSED("o\x01\x05" "kn");
	REFUSED("a\x05nn");
	REFUSED("o\x05\x01kn");
	REFUSED("a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
	REFUSED("i\x01\x02\x03");
	REFUSED("r\x01\x02\x03\x04\x05\x06\x07");
	/* varints: more than 10 bytes, cut short, or past 64 bits */
	REFUSED("s\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00");
	REFUSED("a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00");
	REFUSED("s\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80");
	REFUSED("s\x80");
	REFUSED("s\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02");  /* 2^64: wraps to 0 */
	REFUSED("a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7e");  /* 63 * 2^64: 0 */
	REFUSED("s\x83\x80\x80\x80\x80\x80\x80\x80\x80\x02" "abc"); /* 2^64 + 3: 3 */
	/* not UTF-8: a stray byte, overlong, a lone surrogate, cut, past U+10FFFF */
	REFUSED("s\x01\xff");
	REFUSED("s\x01\x80");
	REFUSED("s\x02\xc0\x80");
	REFUSED("s\x03\xe0\x80\xaf");
	REFUSED("s\x03\xed\xa0\x80");
	REFUSED("s\x02\xe2\x82");
	REFUSED("s\x04\xf4\x90\x80\x80");
	REFUSED("s\x04" "ab\xe2\x82" "\xac");                   /* cut by its length */
	REFUSED("o\x01\x01\xffn");
	REFUSED("o\x01\x03\xed\xa0\x80n");
	/* a key with a NUL byte, its value a malloc'd one (a leak would show) */
	REFUSED("o\x01\x03" "a\0b" "s\x03" "abc");
	REFUSED("o\x02\x01" "ai\x01\x02\x03\x04\x05\x06\x07\x08\x01\0s\x03" "abc");
	REFUSED("o\x01\x01\0a\x01s\x01z");
	/* and the valid neighbours of these are read */
	assert_non_null(v = ml_jsonbin_get("s\x03\xed\x9f\xbf", 5)); /* U+D7FF */
	json_decref(v);
	assert_non_null(v = ml_jsonbin_get("s\x03" "a\0b", 5));
	assert_int_equal(json_string_length(v), 3);
	json_decref(v);
	assert_non_null(v = ml_jsonbin_get("o\x01\x03" "abcs\x03" "abc", 11));
	json_decref(v);
	assert_non_null(v = ml_jsonbin_get("s\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11));
	json_decref(v); /* ten bytes, within 64 bits: allowed (header) */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_nul_key),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_cut_and_trailing),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the report's packed rows and points (report.h:
 * ml_report_pack, ml_report_row, ml_report_points): a round trip keeps
 * every value and its type (reals that print differently at 15 and 17
 * digits, -0.0, large integers, NUL, quotes, controls and multibyte text);
 * empty rows and series; bounds (an index past the end, values that are
 * not containers); packed text that is cut short or of the wrong type is
 * refused, and the JSON writer then fails instead of writing it; and the
 * JSON and CSV writers give the same bytes for a model whose rows and
 * points are packed as for the same model unpacked. */
#include "testutil.h"

#include "arena.h"
#include "jsonarena.h"
#include "report.h"
#include "report_text.h"

#define TEXT_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* The packed form of v, taking the reference. */
static json_t *
pack_new(json_t *v)
{
	json_t *p = ml_report_pack(v);

	assert_non_null(p);
	json_decref(v);
	return p;
}

/* An object with every awkward value the model may hold. */
static json_t *
awkward(void)
{
	json_t *o = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:i, s:n, s:b, s:[f,i,s], s:{}, s:[]}",
			      "third", 1.0 / 3.0, "tenth", 0.1, "tiny", 1e-300, "huge", 1.7e308,
			      "negzero", -0.0, "whole", 2.0, "big", (json_int_t)INT64_MAX,
			      "small", (json_int_t)INT64_MIN, "zero", 0, "nothing", "yes", 1,
			      "list", 0.30000000000000004, 7, "x", "empty", "none");

	assert_non_null(o);
	json_object_set_new(o, "nul", json_stringn("a\0b", 3));
	json_object_set_new(o, "text", json_string("\"quoted\"\n\t\\ <tag> \xc3\xa9\xe2\x80\xae \xf0\x9f\x98\x80"));
	return o;
}

static void
test_round_trip(void **state)
{
	json_t *o = awkward(), *rows = json_array(), *back;
	char *a, *b;

	(void)state;
	assert_int_equal(json_array_append_new(rows, ml_report_pack(o)), 0);
	assert_true(json_is_string(json_array_get(rows, 0)));
	assert_non_null(back = ml_report_row(rows, 0));
	assert_true(json_equal(o, back));
	assert_true(json_is_real(json_object_get(back, "whole")));
	assert_true(json_is_integer(json_object_get(back, "big")));
	assert_int_equal(json_string_length(json_object_get(back, "nul")), 3);
	/* the same text at the writers' precision, key order included */
	assert_non_null(a = json_dumps(o, TEXT_FLAGS));
	assert_non_null(b = json_dumps(back, TEXT_FLAGS));
	assert_string_equal(a, b);
	/* at 17 digits too: the very same doubles */
	free(a), free(b);
	assert_non_null(a = json_dumps(o, JSON_REAL_PRECISION(17) | JSON_PRESERVE_ORDER));
	assert_non_null(b = json_dumps(back, JSON_REAL_PRECISION(17) | JSON_PRESERVE_ORDER));
	assert_string_equal(a, b);
	free(a), free(b);
	json_decref(back);
	/* an item that is not packed is given as it is */
	assert_int_equal(json_array_append(rows, o), 0);
	assert_ptr_equal(back = ml_report_row(rows, 1), o);
	json_decref(back);
	json_decref(rows);
	json_decref(o);
}

static void
test_empty_and_bounds(void **state)
{
	json_t *rows = json_array(), *p, *s;

	(void)state;
	assert_null(ml_report_row(rows, 0));
	assert_null(ml_report_row(NULL, 0));
	assert_null(ml_report_pack(NULL));
	s = json_pack("[s, i, n]", "x", 1);
	assert_null(ml_report_pack(json_array_get(s, 0)));
	assert_null(ml_report_pack(json_array_get(s, 1)));
	assert_null(ml_report_pack(json_array_get(s, 2)));
	json_decref(s);
	s = json_object();
	assert_non_null(p = ml_report_pack(s));
	json_decref(s);
	assert_string_equal(json_string_value(p), "{}");
	json_array_append_new(rows, p);
	assert_non_null(p = ml_report_row(rows, 0));
	assert_int_equal(json_object_size(p), 0);
	json_decref(p);
	assert_null(ml_report_row(rows, 1));
	/* series: packed empty, array empty, missing, packed with points */
	s = json_pack("{s:o}", "points", pack_new(json_array()));
	assert_true(ml_report_points_empty(s));
	assert_non_null(p = ml_report_points(s));
	assert_int_equal(json_array_size(p), 0);
	json_decref(p);
	json_object_set_new(s, "points", json_array());
	assert_true(ml_report_points_empty(s));
	json_object_del(s, "points");
	assert_true(ml_report_points_empty(s));
	assert_null(ml_report_points(s));
	json_object_set_new(s, "points",
			    pack_new(json_pack("[{s:i, s:s, s:f}]", "seq", 3, "time",
					       "2026-10-01T00:00:00Z", "value", 0.1)));
	assert_false(ml_report_points_empty(s));
	assert_non_null(p = ml_report_points(s));
	assert_int_equal(json_array_size(p), 1);
	assert_true(json_real_value(json_object_get(json_array_get(p, 0), "value")) == 0.1);
	json_decref(p);
	json_decref(s);
	json_decref(rows);
}

/* Packed text cut short, not JSON, or of the other type: refused. */
static void
test_bad_packed(void **state)
{
	json_t *rows = json_array(), *s, *model;
	struct ml_buf out = {0};
	struct ml_err e;

	(void)state;
	json_array_append_new(rows, json_string("{\"ref\":\"a\",\"value\":1"));
	json_array_append_new(rows, json_string("not json"));
	json_array_append_new(rows, json_string("[1,2]"));
	json_array_append_new(rows, json_string(""));
	assert_null(ml_report_row(rows, 0));
	assert_null(ml_report_row(rows, 1));
	assert_null(ml_report_row(rows, 2));
	assert_null(ml_report_row(rows, 3));
	s = json_pack("{s:s}", "points", "{\"seq\":1}");
	assert_null(ml_report_points(s));
	json_object_set_new(s, "points", json_string("[{\"seq\":1"));
	assert_null(ml_report_points(s));
	json_decref(s);
	/* the JSON writer fails rather than write a row it cannot read back */
	model = json_pack("{s:i, s:o}", "schemaVersion", 1, "comparisons", rows);
	assert_int_equal(ml_report_json(model, &out, &e), ML_EIO);
	ml_buf_free(&out);
	json_decref(model);
	/* and a series whose points do not read back */
	model = json_pack("{s:[{s:s, s:[{s:s, s:s}]}]}", "monitoring", "ref", "a", "trend",
			  "metric", "m", "points", "[{");
	assert_int_equal(ml_report_json(model, &out, &e), ML_EIO);
	ml_buf_free(&out);
	json_decref(model);
}

/* A model with comparisons, monitoring (with trends, an empty trend and a
 * row without one), findings and empty members; packed or not. */
static json_t *
model_of(int packed)
{
	json_t *cmp = json_array(), *mon = json_array(), *pts, *row;
	int i;

	for (i = 0; i < 300; i++) {
		row = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:s}", "ref", "m@1.<b>", "baseline",
				"m@0,\"1\"", "basis", "=parent version", "metric", "auc", "value",
				0.1 * i, "baselineValue", 1.0 / (i + 3), "delta", 0.1 * i - 1.0 / (i + 3),
				"verdict", i % 2 ? "better" : "worse");
		json_array_append_new(cmp, packed ? ml_report_pack(row) : json_incref(row));
		json_decref(row);
	}
	for (i = 0; i < 3; i++) {
		json_t *trend = json_array();
		if (i < 2) {
			pts = json_pack("[{s:i, s:s, s:f}, {s:i, s:s, s:i}]", "seq", 10 + i, "time",
					"2026-10-01T00:00:00Z", "value", 0.7 + i / 3.0, "seq", 20 + i,
					"time", "2026-10-02T00:00:00Z", "value", 5);
			json_array_append_new(trend, json_pack("{s:s, s:n, s:o, s:s}", "metric", "auc",
							       "approvalValue", "points",
							       packed ? ml_report_pack(pts)
								      : json_incref(pts),
							       "label", "auc 5"));
			json_array_append_new(trend, json_pack("{s:s, s:f, s:o, s:s}", "metric", "f1",
							       "approvalValue", 0.25, "points",
							       packed ? pack_new(json_array())
								      : json_array(),
							       "label", "f1"));
			json_decref(pts);
		}
		json_array_append_new(mon, json_pack("{s:s, s:s, s:[], s:o}", "ref", "m@1",
						     "environment", "production", "gaps", "trend",
						     trend));
	}
	return json_pack("{s:i, s:s, s:{}, s:{s:[], s:s}, s:o, s:o, s:{s:b, s:[{s:s}]}}",
			 "schemaVersion", 1, "title", "Audit report", "summary", "scope",
			 "policies", "from", "2026-10-01", "comparisons", cmp, "monitoring", mon,
			 "findings", "evaluated", 1, "items", "ruleId", "R-1");
}

static void
test_writers_same_bytes(void **state)
{
	json_t *plain = model_of(0), *packed = model_of(1);
	struct ml_buf a = {0}, b = {0};
	struct ml_err e;
	char *ref;
	const struct ml_report_table *t = ml_report_table("comparisons");

	(void)state;
	assert_true(json_is_string(json_array_get(json_object_get(packed, "comparisons"), 0)));
	assert_int_equal(ml_report_json(plain, &a, &e), ML_OK);
	assert_int_equal(ml_report_json(packed, &b, &e), ML_OK);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* which is jansson's own text of the plain model */
	assert_non_null(ref = json_dumps(plain, TEXT_FLAGS));
	assert_int_equal(a.len, strlen(ref) + 1);
	assert_memory_equal(a.data, ref, a.len - 1);
	assert_int_equal(a.data[a.len - 1], '\n');
	free(ref);
	ml_buf_free(&a), ml_buf_free(&b);
	/* an empty model and empty packed members */
	json_object_set_new(plain, "comparisons", json_array());
	json_object_set_new(plain, "monitoring", json_array());
	assert_int_equal(ml_report_json(plain, &a, &e), ML_OK);
	assert_non_null(ref = json_dumps(plain, TEXT_FLAGS));
	assert_memory_equal(a.data, ref, strlen(ref));
	free(ref);
	ml_buf_free(&a);
	json_decref(plain);
	plain = json_object();
	assert_int_equal(ml_report_json(plain, &a, &e), ML_OK);
	assert_int_equal(a.len, 3);
	assert_memory_equal(a.data, "{}\n", 3);
	ml_buf_free(&a);
	json_decref(plain);
	/* CSV: the table's rows read back one at a time */
	plain = model_of(0);
	assert_non_null(t);
	assert_int_equal(ml_report_csv(plain, t, &a, &e), ML_OK);
	assert_int_equal(ml_report_csv(packed, t, &b, &e), ML_OK);
	assert_true(a.len > 300 * 20);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	ml_buf_free(&a), ml_buf_free(&b);
	/* a failed write is an error, not a short report */
	a.oom = 1;
	assert_int_equal(ml_report_json(packed, &a, &e), ML_EIO);
	ml_buf_free(&a);
	json_decref(plain);
	json_decref(packed);
}

/* Packing while a model arena allocates (the report builds its model so,
 * jsonarena.h): the text jansson writes must not be handed to free() (an
 * arena piece: glibc, valgrind and ASan all fail the run), and the packed
 * row reads back. */
static void
test_pack_in_arena(void **state)
{
	struct ml_arena *a = ml_arena_new(4096);
	struct ml_jsonarena was;
	json_t *row, *p, *back;
	size_t i;

	(void)state;
	assert_non_null(a);
	was = ml_jsonarena_set(a, 1);
	for (i = 0; i < 100; i++) { /* over several blocks */
		row = json_pack("{s:s, s:f, s:i}", "metric", "auc", "value", 0.5 + i / 1000.0,
				"n", (json_int_t)i);
		assert_non_null(p = ml_report_pack(row));
		assert_true(ml_arena_owns(a, p));
		assert_non_null(back = json_loads(json_string_value(p), 0, NULL));
		assert_true(json_equal(back, row));
		json_decref(back);
		json_decref(p);
		json_decref(row);
	}
	ml_jsonarena_restore(was);
	ml_arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_and_bounds),
		cmocka_unit_test(test_bad_packed),
		cmocka_unit_test(test_writers_same_bytes),
		cmocka_unit_test(test_pack_in_arena),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for timecheck: the skew bounds (exclusive, both ways), the
 * backfill run rule (count, gap, span, a step back), the ledger start, the
 * list cap, and the JSON shape verify and reports print. */
#include "testutil.h"

#include "timecheck.h"
#include "util.h"

#define S 1000000LL
#define H (3600 * S)
#define T0 (1767225600LL * S) /* 2026-01-01T00:00:00Z */

static struct ml_timecheck *
fresh(void)
{
	struct ml_timecheck_opts o;
	struct ml_timecheck *t;

	ml_timecheck_defaults(&o);
	assert_int_equal(o.past_us, 24 * H);
	assert_int_equal(o.future_us, ML_CLOCK_TOLERANCE_US);
	t = ml_timecheck_new(&o);
	assert_non_null(t);
	return t;
}

static void
test_skew_bounds(void **state)
{
	struct ml_timecheck *t = fresh();
	json_t *j, *w;
	int known;

	(void)state;
	/* one entry a minute, so no run is a backfill */
	assert_int_equal(ml_timecheck_add(t, 0, "genesis", T0, 1, T0), 0);
	assert_int_equal(ml_timecheck_add(t, 1, "incident", T0 + 60 * S, 1, T0 + 60 * S - 24 * H), 0);
	assert_int_equal(ml_timecheck_add(t, 2, "incident", T0 + 120 * S, 1,
					  T0 + 120 * S - 24 * H - 1), 0);
	assert_int_equal(ml_timecheck_add(t, 3, "approval", T0 + 180 * S, 1,
					  T0 + 180 * S + ML_CLOCK_TOLERANCE_US), 0);
	assert_int_equal(ml_timecheck_add(t, 4, "approval", T0 + 240 * S, 1,
					  T0 + 240 * S + ML_CLOCK_TOLERANCE_US + 1), 0);
	assert_int_equal(ml_timecheck_add(t, 5, "model", T0 + 300 * S, 0, 0), 0);
	assert_int_equal(ml_timecheck_start(t, &known), T0);
	assert_true(known);
	j = ml_timecheck_json(t);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "timeWarningsTotal")), 2);
	w = json_object_get(j, "timeWarnings");
	assert_int_equal(json_array_size(w), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(w, 0), "seq")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(w, 0), "warning")),
			    "backdated");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(w, 0), "skewSeconds")),
			 -86400);
	assert_string_equal(json_string_value(json_object_get(json_array_get(w, 1), "warning")),
			    "future-dated");
	assert_string_equal(json_string_value(json_object_get(j, "ledgerStart")),
			    "2026-01-01T00:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(j, "backfillsTotal")), 0);
	json_decref(j);
	ml_timecheck_free(t);
}

/* n entries from seq, appended gap apart from at, author times spread over
 * span. */
static void
feed(struct ml_timecheck *t, uint64_t seq, int n, int64_t at, int64_t gap, int64_t span)
{
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(ml_timecheck_add(t, seq + (uint64_t)i, "monitoring", at + i * gap, 1,
						  at - span + span * i / (n - 1)), 0);
}

static void
test_backfill(void **state)
{
	struct ml_timecheck *t = fresh();
	json_t *j, *b;

	(void)state;
	feed(t, 0, 49, T0, S, 48 * H);              /* 49: too few */
	feed(t, 100, 50, T0 + H, S, 24 * H);        /* span exactly a day: not more */
	feed(t, 200, 50, T0 + 2 * H, S + 1, 48 * H); /* gaps over 1 s */
	feed(t, 300, 60, T0 + 3 * H, S / 10, 48 * H); /* a backfill */
	/* an append time that goes back (a clock correction) ends a run */
	feed(t, 400, 30, T0 + 4 * H, 0, 48 * H);
	feed(t, 430, 30, T0 + 4 * H - S, 0, 48 * H);
	j = ml_timecheck_json(t);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "backfillsTotal")), 1);
	b = json_array_get(json_object_get(j, "backfills"), 0);
	assert_int_equal(json_integer_value(json_object_get(b, "fromSeq")), 300);
	assert_int_equal(json_integer_value(json_object_get(b, "toSeq")), 359);
	assert_int_equal(json_integer_value(json_object_get(b, "entries")), 60);
	/* the skew of each of them is listed too */
	assert_true(json_integer_value(json_object_get(j, "timeWarningsTotal")) > 0);
	json_decref(j);
	ml_timecheck_free(t);
}

static void
test_cap_and_empty(void **state)
{
	struct ml_timecheck *t = fresh();
	json_t *j;
	int known, i;

	(void)state;
	ml_timecheck_start(t, &known);
	assert_false(known);
	for (i = 0; i < ML_TIMECHECK_LIST_MAX + 5; i++)
		assert_int_equal(ml_timecheck_add(t, (uint64_t)i, "incident", T0 + i * H, 1,
						  T0 - 1000 * H), 0);
	j = ml_timecheck_json(t);
	assert_int_equal(json_integer_value(json_object_get(j, "timeWarningsTotal")),
			 ML_TIMECHECK_LIST_MAX + 5);
	assert_int_equal(json_array_size(json_object_get(j, "timeWarnings")),
			 ML_TIMECHECK_LIST_MAX);
	json_decref(j);
	ml_timecheck_free(t);
	ml_timecheck_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skew_bounds),
		cmocka_unit_test(test_backfill),
		cmocka_unit_test(test_cap_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the one definition of "live" (rules.h, FORMAT.md §5 rule
 * 11) that the retirement rule and `mlledger live` share: deployed and not
 * retired after, redeployed after a retirement, retired before any
 * deployment, other kinds ignored; and what a deployment replaces. */
#include "testutil.h"

#include "rules.h"

static void
test_live_marks(void **state)
{
	struct ml_live_mark m = ML_LIVE_MARK_INIT;

	(void)state;
	assert_false(ml_live_is(&m)); /* never deployed */
	ml_live_step(&m, ML_KIND_RETIREMENT, 3);
	assert_false(ml_live_is(&m)); /* a retirement alone */
	ml_live_step(&m, ML_KIND_DEPLOYMENT, 5);
	assert_true(ml_live_is(&m));
	ml_live_step(&m, ML_KIND_MONITORING, 6); /* other kinds change nothing */
	ml_live_step(&m, ML_KIND_APPROVAL, 7);
	assert_true(ml_live_is(&m));
	assert_int_equal(m.deployed, 5);
	assert_int_equal(m.retired, 3);
	ml_live_step(&m, ML_KIND_RETIREMENT, 8);
	assert_false(ml_live_is(&m));
	ml_live_step(&m, ML_KIND_DEPLOYMENT, 9); /* redeployed */
	assert_true(ml_live_is(&m));
}

/* What a deployment replaces (ml_live_pick): the live version deployed
 * last; retired ones and never-deployed ones are never picked, and the
 * order of the fold does not change the choice. */
static void
test_live_pick(void **state)
{
	struct ml_live_mark a = {4, -1}, b = {9, 2}, retired = {12, 13}, none = ML_LIVE_MARK_INIT;
	struct ml_live_mark best = ML_LIVE_MARK_INIT;

	(void)state;
	assert_false(ml_live_pick(&best, &none));
	assert_false(ml_live_pick(&best, &retired)); /* deployed last, but retired */
	assert_true(ml_live_pick(&best, &a));
	assert_true(ml_live_pick(&best, &b)); /* deployed later: better */
	assert_false(ml_live_pick(&best, &a));
	assert_int_equal(best.deployed, 9);
	best = (struct ml_live_mark)ML_LIVE_MARK_INIT; /* the other order */
	assert_true(ml_live_pick(&best, &b));
	assert_false(ml_live_pick(&best, &a));
	assert_false(ml_live_pick(&best, &retired));
	assert_int_equal(best.deployed, 9);
	assert_int_equal(best.retired, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_marks),
		cmocka_unit_test(test_live_pick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Effective times (ledger/FORMAT.md §2, "Clock corrections") and the
 * future-dated check of evidence sessions.  Corrections that need a clock
 * running ahead are exercised end to end under faketime in
 * tests/cli/clock.sh. */
#include "testutil.h"

#include <sodium.h>

#include "evidence.h"
#include "keys.h"
#include "ledger.h"

#define S 1000000LL /* one second in µs */

static void
test_no_corrections(void **state)
{
	(void)state;
	assert_int_equal(ml_clock_effective(NULL, 0, 0, 5), 5);
	assert_int_equal(ml_clock_effective(NULL, 0, 42, -7), -7);
}

/* One correction at seq 6 naming from 3: entries 3, 4, 5 take its time;
 * 2 and 6 (the correction itself) and later keep theirs. */
static void
test_one_correction(void **state)
{
	const struct ml_clock_fix f[] = {{3, 6, 100 * S}};

	(void)state;
	assert_int_equal(ml_clock_effective(f, 1, 2, 99 * S), 99 * S);
	assert_int_equal(ml_clock_effective(f, 1, 3, 9000 * S), 100 * S);
	assert_int_equal(ml_clock_effective(f, 1, 5, 9001 * S), 100 * S);
	assert_int_equal(ml_clock_effective(f, 1, 6, 100 * S), 100 * S);
	assert_int_equal(ml_clock_effective(f, 1, 7, 101 * S), 101 * S);
}

/* Several disjoint ranges, as §5 rule 1 makes them; the times of a
 * synthetic ledger that ran ahead twice come out non-decreasing. */
static void
test_several_corrections(void **state)
{
	/* seq:        0  1  2    3    4  5  6  7    8    9  10 */
	const int64_t t[] = {1, 2, 900, 901, 3, 4, 5, 950, 951, 6, 7};
	const struct ml_clock_fix f[] = {{2, 4, 3}, {7, 9, 6}};
	const int64_t want[] = {1, 2, 3, 3, 3, 4, 5, 6, 6, 6, 7};
	int64_t prev = INT64_MIN;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof *t; i++) {
		int64_t e = ml_clock_effective(f, 2, i, t[i]);
		assert_int_equal(e, want[i]);
		assert_true(e >= prev);
		prev = e;
	}
}

/* A correction naming the entry right before it (from = seq - 1). */
static void
test_adjacent(void **state)
{
	const struct ml_clock_fix f[] = {{1, 2, 10}, {3, 4, 20}, {5, 6, 30}};

	(void)state;
	assert_int_equal(ml_clock_effective(f, 3, 0, 1), 1);
	assert_int_equal(ml_clock_effective(f, 3, 1, 99), 10);
	assert_int_equal(ml_clock_effective(f, 3, 3, 99), 20);
	assert_int_equal(ml_clock_effective(f, 3, 4, 20), 20);
	assert_int_equal(ml_clock_effective(f, 3, 5, 99), 30);
	assert_int_equal(ml_clock_effective(f, 3, 6, 31), 31);
}

/* ml_evidence_ahead on a real ledger: nothing ahead of now; every entry is
 * ahead of a clock an hour behind, and the first one is named. */
static void
test_ahead(void **state)
{
	char dir[256], path[300];
	uint8_t seed[32];
	struct ml_seckey *admin = NULL;
	struct ml_appended g;
	struct ml_ledger *l;
	struct ml_evidence *v;
	struct ml_err e;
	uint64_t seq = 99;
	int64_t t = 0, now = ml_now_us();

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/ledger.db", dir);
	memset(seed, 7, sizeof seed);
	ml_err_clear(&e);
	assert_int_equal(ml_seckey_from_seed("admin", seed, &admin, &e), ML_OK);
	assert_int_equal(ml_ledger_init(path, "unit/clock", admin, &g, &e), ML_OK);
	assert_int_equal(ml_ledger_open(path, 0, &l, &e), ML_OK);

	assert_int_equal(ml_evidence_open(l, now, ML_EVIDENCE_HEAD, &v, &e), ML_OK);
	assert_int_equal(ml_evidence_ahead(v, now, &seq, &t, &e), ML_OK);
	assert_int_equal(seq, 99); /* untouched */
	/* within the tolerance is not ahead */
	assert_int_equal(ml_evidence_ahead(v, g.time_us - ML_CLOCK_TOLERANCE_US, &seq, &t, &e),
			 ML_OK);
	assert_int_equal(ml_evidence_ahead(v, now - 3600 * S, &seq, &t, &e), ML_EPOLICY);
	assert_int_equal(seq, 0);
	assert_int_equal(t, g.time_us);
	assert_int_equal(e.seq, 0);
	assert_non_null(strstr(e.msg, "entry 0 is dated "));
	assert_non_null(strstr(e.msg, "clock-correct"));
	ml_evidence_close(v);

	ml_ledger_close(l);
	ml_seckey_free(admin);
	tu_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_corrections),
		cmocka_unit_test(test_one_correction),
		cmocka_unit_test(test_several_corrections),
		cmocka_unit_test(test_adjacent),
		cmocka_unit_test(test_ahead),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

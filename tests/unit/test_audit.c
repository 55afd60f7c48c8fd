/* Unit tests for the pure parts of audit.c: the population digest, the
 * sampling rank and draw, the RFC 4180 reader and writer, the reconcile
 * CSV and durations.  The known answers were computed with Python's
 * hashlib from the documented rules (docs/AUDITING.md). */
#include "testutil.h"

#include "audit.h"

static void
hex32(const char *hex, uint8_t out[32])
{
	tu_unhex(hex, out, 32);
}

static void
test_rank_known_answer(void **state)
{
	uint8_t leaf[32], got[32], want[32];
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++)
		leaf[i] = (uint8_t)i;
	/* sha256("seed1:000102...1f") */
	hex32("0e6bac2743ef370b07ddbab3d09ae749d46a29c4fc706431e946e69e069b7ff3", want);
	ml_audit_rank("seed1", leaf, got);
	assert_memory_equal(got, want, 32);
}

static void
test_digest_known_answer(void **state)
{
	struct ml_audit_ref r[2];
	uint8_t got[32], want[32];
	size_t i;

	(void)state;
	memset(r, 0, sizeof r);
	for (i = 0; i < 32; i++)
		r[0].leaf[i] = (uint8_t)i;
	r[0].seq = 0;
	r[1].seq = 5;
	/* sha256("0 0001...1f\n5 0000...00\n") */
	hex32("c8896d199a542363b7f9bd2c51cb41a5e06bb06ceff57df3959b558ecfbd7c0c", want);
	ml_audit_digest(r, 2, got);
	assert_memory_equal(got, want, 32);
	/* the empty population: SHA-256 of nothing */
	hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want);
	ml_audit_digest(r, 0, got);
	assert_memory_equal(got, want, 32);
}

static void
test_draw(void **state)
{
	struct ml_audit_ref r[50];
	size_t pick[50], again[50], n, n2, i, j, best;
	uint8_t rk[50][32];
	struct ml_err e;

	(void)state;
	ml_err_clear(&e);
	for (i = 0; i < 50; i++) {
		r[i].seq = 10 + i;
		memset(r[i].leaf, (int)i, 32);
		ml_audit_rank("s", r[i].leaf, rk[i]);
	}
	assert_int_equal(ml_audit_draw(r, 50, "s", 5, pick, &n, &e), ML_OK);
	assert_int_equal(n, 5);
	for (i = 1; i < n; i++)
		assert_true(pick[i - 1] < pick[i]); /* ascending */
	/* the drawn ones are the five smallest ranks */
	for (i = 0; i < 50; i++) {
		int drawn = 0;
		for (j = 0; j < n; j++)
			drawn |= pick[j] == i;
		if (drawn)
			continue;
		for (j = 0; j < n; j++)
			assert_true(memcmp(rk[pick[j]], rk[i], 32) < 0);
	}
	assert_int_equal(ml_audit_draw(r, 50, "s", 5, again, &n2, &e), ML_OK);
	assert_memory_equal(pick, again, n * sizeof *pick);
	assert_int_equal(ml_audit_draw(r, 50, "t", 5, again, &n2, &e), ML_OK);
	assert_true(memcmp(pick, again, n * sizeof *pick) != 0);
	/* more than there are: all of them */
	assert_int_equal(ml_audit_draw(r, 50, "s", 99, pick, &n, &e), ML_OK);
	assert_int_equal(n, 50);
	for (i = 0; i < 50; i++)
		assert_int_equal(pick[i], i);
	/* n = 1 is the smallest rank */
	assert_int_equal(ml_audit_draw(r, 50, "s", 1, pick, &n, &e), ML_OK);
	for (best = 0, i = 1; i < 50; i++)
		if (memcmp(rk[i], rk[best], 32) < 0)
			best = i;
	assert_int_equal(pick[0], best);
}

static void
test_seed(void **state)
{
	char longseed[200];

	(void)state;
	assert_true(ml_audit_seed_valid("q4-2026"));
	assert_false(ml_audit_seed_valid(""));
	assert_false(ml_audit_seed_valid("a b"));
	assert_false(ml_audit_seed_valid("a\tb"));
	assert_false(ml_audit_seed_valid("caf\xc3\xa9"));
	memset(longseed, 'x', 129);
	longseed[129] = '\0';
	assert_false(ml_audit_seed_valid(longseed));
	longseed[128] = '\0';
	assert_true(ml_audit_seed_valid(longseed));
}

static void
cell_as(const char *in, int numeric, const char *want)
{
	struct ml_buf b = {0};

	ml_csv_cell(&b, in, numeric);
	ml_buf_append(&b, "", 1);
	assert_string_equal((const char *)b.data, want);
	ml_buf_free(&b);
}

static void
cell(const char *in, const char *want)
{
	cell_as(in, 0, want);
}

/* util.h's ml_csv_cell, which population, reconcile and reports share. */
static void
test_csv_cell(void **state)
{
	(void)state;
	cell("plain", "plain");
	cell("", "");
	cell("a,b", "\"a,b\"");
	cell("say \"hi\"", "\"say \"\"hi\"\"\"");
	cell("two\nlines", "\"two\nlines\"");
	cell("=1+1", "\"'=1+1\"");
	cell("+1", "\"'+1\"");
	cell("-1", "\"'-1\"");
	cell_as("-1", 1, "-1");
	cell_as("-0.5", 1, "-0.5");
	cell("@SUM(A1)", "\"'@SUM(A1)\"");
	cell("\tx", "\"'\tx\"");
	cell("=HYPERLINK(\"u\",\"x\")", "\"'=HYPERLINK(\"\"u\"\",\"\"x\"\")\"");
	cell("a=b", "a=b");
}

static void
record(const char *text, size_t want_n, const char *const *want, size_t want_lines)
{
	char *cells[8];
	size_t pos = 0, n, lines, i;
	const char *why;

	assert_int_equal(ml_audit_csv_record(text, strlen(text), &pos, cells, 8, &n, &lines, &why),
			 0);
	assert_int_equal(n, want_n);
	for (i = 0; i < n; i++)
		assert_string_equal(cells[i], want[i]);
	assert_int_equal(lines, want_lines);
	ml_audit_csv_free(cells, n);
}

static void
record_bad(const char *text, size_t cap, const char *want_why)
{
	char *cells[8];
	size_t pos = 0, n, lines;
	const char *why;

	assert_int_equal(ml_audit_csv_record(text, strlen(text), &pos, cells, cap, &n, &lines,
					     &why), ML_EINPUT);
	assert_non_null(why);
	assert_non_null(strstr(why, want_why));
}

static void
test_csv_record(void **state)
{
	static const char *const abc[] = {"a", "b", "c"};
	static const char *const q[] = {"a,b", "say \"x\"", "two\r\nlines", ""};
	static const char *const empty[] = {""};
	static const char *const two_empty[] = {"", ""};

	(void)state;
	record("a,b,c\n", 3, abc, 1);
	record("a,b,c\r\nnext", 3, abc, 1);
	record("a,b,c", 3, abc, 0);
	record("\"a,b\",\"say \"\"x\"\"\",\"two\r\nlines\",\n", 4, q, 2);
	record("\n", 1, empty, 1);
	record(",\n", 2, two_empty, 1);
	record_bad("\"open", 8, "not closed");
	record_bad("\"a\"b,c\n", 8, "after a quoted cell");
	record_bad("a\"b\n", 8, "quote inside");
	record_bad("a,b,c,d\n", 3, "too many cells");
}

static void
test_csv_record_long_cell(void **state)
{
	size_t len = ML_AUDIT_CELL_MAX + 10, pos = 0, n, lines;
	char *text = malloc(len + 1), *cells[2];
	const char *why;

	(void)state;
	assert_non_null(text);
	memset(text, 'x', len);
	text[len] = '\0';
	assert_int_equal(ml_audit_csv_record(text, len, &pos, cells, 2, &n, &lines, &why), ML_EINPUT);
	assert_non_null(strstr(why, "longer than"));
	free(text);
}

static void
deps_bad(const char *text, const char *want)
{
	struct ml_audit_dep *rows = NULL;
	struct ml_err e;
	size_t n = 0;

	ml_err_clear(&e);
	assert_int_equal(ml_audit_deps_parse("f.csv", text, strlen(text), &rows, &n, &e),
			 ML_EINPUT);
	if (!strstr(e.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void
test_deps_parse(void **state)
{
	static const char ok_text[] =
		"\xef\xbb\xbf" "environment,model,version,digest,time\r\n"
		"prod,fraud/detector,3.1.0,,2026-10-01T12:00:00Z\r\n"
		"\r\n"
		"staging,m,,sha256:0000000000000000000000000000000000000000000000000000000000000000,"
		"2026-10-02T00:00:00Z";
	struct ml_audit_dep *rows = NULL;
	struct ml_err e;
	size_t n = 0;

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_audit_deps_parse("f.csv", ok_text, strlen(ok_text), &rows, &n, &e),
			 ML_OK);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].model, "fraud/detector");
	assert_int_equal(rows[0].line, 2);
	assert_int_equal(rows[1].line, 4);
	assert_string_equal(rows[1].version, "");
	assert_int_equal(rows[1].time_us, 1790899200LL * 1000000);
	ml_audit_deps_free(rows, n);

	deps_bad("environment,model,version,digest\n", "line 1: the header must be");
	deps_bad("environment,model,version,digest,time,extra\n", "line 1: the header");
	deps_bad("environment,model,version,digest,time\nprod,m,,,2026-10-01T12:00:00Z\n",
		 "line 2: version and digest are both empty");
	deps_bad("environment,model,version,digest,time\nprod,m,1,,2026-10-01\n", "line 2: time");
	deps_bad("environment,model,version,digest,time\nprod,m,1,,2026-02-30T00:00:00Z\n",
		 "line 2: time");
	deps_bad("environment,model,version,digest,time\nprod,m,1,sha256:ABC,"
		 "2026-10-01T12:00:00Z\n", "line 2: digest");
	deps_bad("environment,model,version,digest,time\n\"a\nb\",m,1,,2026-10-01T12:00:00Z\n"
		 "prod,m,1,,x\n", "line 2: environment");
	deps_bad("environment,model,version,digest,time\nprod,m,1,,2026-10-01T12:00:00Z\n"
		 "prod,=1+1,1,,2026-10-01T12:00:00Z\n", "line 3: model");
	deps_bad("environment,model,version,digest,time\nprod,m,1 0,,2026-10-01T12:00:00Z\n",
		 "line 2: version");
	deps_bad("environment,model,version,digest,time\nprod,m,1,,2026-10-01T12:00:00Z,x\n",
		 "line 2: 6 cells, expected 5");
}

static void
test_duration(void **state)
{
	int64_t us;

	(void)state;
	assert_int_equal(ml_audit_duration_parse("90", &us), 0);
	assert_int_equal(us, 90LL * 1000000);
	assert_int_equal(ml_audit_duration_parse("90s", &us), 0);
	assert_int_equal(us, 90LL * 1000000);
	assert_int_equal(ml_audit_duration_parse("30m", &us), 0);
	assert_int_equal(us, 1800LL * 1000000);
	assert_int_equal(ml_audit_duration_parse("1h", &us), 0);
	assert_int_equal(us, 3600LL * 1000000);
	assert_int_equal(ml_audit_duration_parse("366d", &us), 0);
	assert_int_equal(ml_audit_duration_parse("367d", &us), ML_EINPUT);
	assert_int_equal(ml_audit_duration_parse("1w", &us), ML_EINPUT);
	assert_int_equal(ml_audit_duration_parse("-1h", &us), ML_EINPUT);
	assert_int_equal(ml_audit_duration_parse("", &us), ML_EINPUT);
	assert_int_equal(ml_audit_duration_parse("h", &us), ML_EINPUT);
	assert_int_equal(ml_audit_duration_parse("99999999999999d", &us), ML_EINPUT);
}

static void
test_kinds(void **state)
{
	struct ml_err e;
	uint32_t m = 0;

	(void)state;
	ml_err_clear(&e);
	assert_int_equal(ml_audit_kinds_parse("deployment,approval", &m, &e), ML_OK);
	assert_int_equal(m, (1u << ML_KIND_DEPLOYMENT) | (1u << ML_KIND_APPROVAL));
	m = 0;
	assert_int_equal(ml_audit_kinds_parse("all", &m, &e), ML_OK);
	assert_int_equal(m, (1u << ML_KIND_COUNT) - 1);
	m = 0;
	assert_int_equal(ml_audit_kinds_parse("deployment,nope", &m, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "\"nope\""));
	m = 0;
	assert_int_equal(ml_audit_kinds_parse(",", &m, &e), ML_EINPUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rank_known_answer),
		cmocka_unit_test(test_digest_known_answer),
		cmocka_unit_test(test_draw),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_csv_cell),
		cmocka_unit_test(test_csv_record),
		cmocka_unit_test(test_csv_record_long_cell),
		cmocka_unit_test(test_deps_parse),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Storage faults injected into every step of an append: sqlite3_step is
 * wrapped at link time (-Wl,--wrap=sqlite3_step) and made to fail with
 * SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY or SQLITE_NOMEM at its Nth call.
 * Every failure must be a clean ML_EIO with the ledger unchanged and valid. */
#include "testutil.h"

#include <sodium.h>
#include <sqlite3.h>

#include "keys.h"
#include "ledger.h"
#include "request.h"
#include "statement.h"
#include "verify.h"

int __real_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_step(sqlite3_stmt *st);

static long fail_at = -1; /* call number to fail, or -1 */
static long calls;
static int fail_code = SQLITE_FULL;

int
__wrap_sqlite3_step(sqlite3_stmt *st)
{
	if (fail_at >= 0 && calls++ == fail_at)
		return fail_code;
	return __real_sqlite3_step(st);
}

static char dir[256], path[300];
static struct ml_seckey *admin;

static int
setup(void **state)
{
	uint8_t seed[32];
	struct ml_appended g;
	struct ml_err e;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/l.db", dir);
	memset(seed, 5, sizeof seed);
	assert_int_equal(ml_seckey_from_seed("admin", seed, &admin, &e), ML_OK);
	assert_int_equal(ml_ledger_init(path, "faults.example/log", admin, &g, &e), ML_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ml_seckey_free(admin);
	tu_rmtree(dir);
	return 0;
}

static void
envelope(const char *subject, struct ml_buf *env)
{
	json_t *req = json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject", subject, "digest",
				"sha256:4444444444444444444444444444444444444444444444444444444444444444");
	struct ml_buf p = {0};
	enum ml_kind kind;
	struct ml_err e;

	assert_int_equal(ml_request_build(req, NULL, NULL, ml_now_us(), &kind, &p, &e), ML_OK);
	assert_int_equal(ml_envelope_sign(admin, p.data, p.len, env, &e), ML_OK);
	json_decref(req);
	ml_buf_free(&p);
}

static uint64_t
size_of_ledger(void)
{
	struct ml_ledger *l;
	struct ml_err e;
	uint64_t n;
	uint8_t last[32];
	int64_t t;

	assert_int_equal(ml_ledger_open(path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_store_head(ml_ledger_store(l), &n, last, &t, &e), ML_OK);
	ml_ledger_close(l);
	return n;
}

static void
verify_ok(void)
{
	struct ml_verify_opts o = {1, NULL, NULL};
	struct ml_verify_result r;
	struct ml_ledger *l;
	struct ml_err e;

	assert_int_equal(ml_ledger_open(path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_verify(l, &o, &r, &e), ML_OK);
	ml_ledger_close(l);
}

/* Fails call N of a two-item batch append for every N the append makes,
 * with each error code; then appends for real. */
static void
test_every_step(void **state)
{
	static const int codes[] = {SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY, SQLITE_NOMEM};
	struct ml_buf a = {0}, b = {0};
	struct ml_append_item it[2];
	struct ml_appended out[2];
	struct ml_ledger *l;
	struct ml_err e;
	long n, steps;
	size_t c;
	int rc;

	(void)state;
	envelope("ds-a@1", &a);
	envelope("ds-b@1", &b);
	it[0] = (struct ml_append_item){a.data, a.len, NULL, NULL};
	it[1] = (struct ml_append_item){b.data, b.len, NULL, NULL};
	/* Count the steps of one successful append on a copy. */
	{
		char cmd[1400], copy[320];
		snprintf(copy, sizeof copy, "%s/count.db", dir);
		snprintf(cmd, sizeof cmd, "cp '%s' '%s'; cp '%s.log.key' '%s.log.key'", path, copy,
			 path, copy);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(ml_ledger_open(copy, 1, &l, &e), ML_OK);
		fail_at = 1L << 40;
		calls = 0;
		assert_int_equal(ml_ledger_append(l, it, 2, out, &e), ML_OK);
		steps = calls;
		fail_at = -1;
		ml_ledger_close(l);
	}
	assert_true(steps > 4);
	for (c = 0; c < sizeof codes / sizeof codes[0]; c++) {
		fail_code = codes[c];
		for (n = 0; n < steps; n++) {
			assert_int_equal(ml_ledger_open(path, 1, &l, &e), ML_OK);
			calls = 0;
			fail_at = n;
			rc = ml_ledger_append(l, it, 2, out, &e);
			fail_at = -1;
			ml_ledger_close(l);
			if (rc != ML_EIO)
				fail_msg("code %d at step %ld/%ld: rc %d (%s)", codes[c], n, steps, rc,
					 e.msg);
			assert_int_equal(size_of_ledger(), 1);
		}
	}
	verify_ok();
	assert_int_equal(ml_ledger_open(path, 1, &l, &e), ML_OK);
	assert_int_equal(ml_ledger_append(l, it, 2, out, &e), ML_OK);
	ml_ledger_close(l);
	assert_int_equal(size_of_ledger(), 3);
	verify_ok();
	ml_buf_free(&a);
	ml_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_step, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

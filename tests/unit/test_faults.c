/* Storage faults injected into every step of an append and of an
 * import-sized batch (ml_batch_begin, several ml_batch_add, ml_batch_commit:
 * entry, projection, tree-node and checkpoint writes): sqlite3_step is
 * wrapped at link time (-Wl,--wrap=sqlite3_step) and made to fail with
 * SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY or SQLITE_NOMEM at its Nth call.
 * Every failure must be a clean ML_EIO with the ledger unchanged (same size,
 * same head leaf, same latest checkpoint) and valid (ml_verify passes). */
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
/* admin enrols eng, an engineer, who signs the datasets (FORMAT.md §2) */
static struct ml_seckey *admin, *eng;
/* the entries setup makes: genesis and eng's enrolment */
#define BASE 2

static int
setup(void **state)
{
	uint8_t seed[32];
	struct ml_appended g;
	struct ml_append_item it = {0};
	struct ml_buf p = {0}, env = {0};
	struct ml_ledger *l;
	enum ml_kind kind;
	struct ml_err e;
	char v[ML_VKEY_MAX];
	json_t *req;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/l.db", dir);
	memset(seed, 5, sizeof seed);
	assert_int_equal(ml_seckey_from_seed("admin", seed, &admin, &e), ML_OK);
	memset(seed, 6, sizeof seed);
	assert_int_equal(ml_seckey_from_seed("eng", seed, &eng, &e), ML_OK);
	assert_int_equal(ml_ledger_init(path, "faults.example/log", admin, &g, &e), ML_OK);
	ml_pubkey_format(ml_seckey_public(eng), v);
	req = json_pack("{s:s,s:s,s:[s],s:s}", "kind", "key-enrollment", "key", v, "roles",
			"engineer", "origin", "faults.example/log");
	assert_int_equal(ml_request_add_possession(req, "faults.example/log", eng, &e), ML_OK);
	assert_int_equal(ml_request_build(req, NULL, NULL, ml_now_us(), &kind, &p, &e), ML_OK);
	json_decref(req);
	assert_int_equal(ml_envelope_sign(admin, p.data, p.len, &env, &e), ML_OK);
	it.envelope = env.data;
	it.len = env.len;
	assert_int_equal(ml_ledger_open(path, 1, &l, &e), ML_OK);
	assert_int_equal(ml_ledger_append(l, &it, 1, &g, &e), ML_OK);
	ml_ledger_close(l);
	ml_buf_free(&p);
	ml_buf_free(&env);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ml_seckey_free(admin);
	ml_seckey_free(eng);
	tu_rmtree(dir);
	return 0;
}

static void
envelope(const char *subject, struct ml_buf *env)
{
	json_t *req = json_pack("{s:s,s:s,s:s,s:s}", "kind", "dataset", "subject", subject, "digest",
				"sha256:4444444444444444444444444444444444444444444444444444444444444444",
				"origin", "faults.example/log");
	struct ml_buf p = {0};
	enum ml_kind kind;
	struct ml_err e;

	assert_int_equal(ml_request_build(req, NULL, NULL, ml_now_us(), &kind, &p, &e), ML_OK);
	assert_int_equal(ml_envelope_sign(eng, p.data, p.len, env, &e), ML_OK);
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
	struct ml_verify_opts o = {.jobs = 1};
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
	struct ml_append_item it[2] = {{0}};
	struct ml_appended out[2];
	struct ml_ledger *l;
	struct ml_err e;
	long n, steps;
	size_t c;
	int rc;

	(void)state;
	envelope("ds-a@1", &a);
	envelope("ds-b@1", &b);
	it[0] = (struct ml_append_item){a.data, a.len, NULL, NULL, 0};
	it[1] = (struct ml_append_item){b.data, b.len, NULL, NULL, 0};
	/* Count the steps of one successful append on a copy. */
	{
		char cmd[2048], copy[320];
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
			assert_int_equal(size_of_ledger(), BASE);
		}
	}
	verify_ok();
	assert_int_equal(ml_ledger_open(path, 1, &l, &e), ML_OK);
	assert_int_equal(ml_ledger_append(l, it, 2, out, &e), ML_OK);
	ml_ledger_close(l);
	assert_int_equal(size_of_ledger(), BASE + 2);
	verify_ok();
	ml_buf_free(&a);
	ml_buf_free(&b);
}

/* The size, head leaf and latest checkpoint of the ledger, as one string
 * (caller frees). */
static char *
fingerprint(void)
{
	struct ml_ledger *l;
	struct ml_err e;
	uint64_t n, got;
	uint8_t last[32];
	char hex[65], *note, *fp;
	int64_t t;

	assert_int_equal(ml_ledger_open(path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_store_head(ml_ledger_store(l), &n, last, &t, &e), ML_OK);
	assert_int_equal(ml_store_checkpoint_get(ml_ledger_store(l), -1, &got, &note, &e), ML_OK);
	ml_ledger_close(l);
	ml_hex_encode(last, 32, hex);
	fp = malloc(strlen(note) + 128);
	assert_non_null(fp);
	sprintf(fp, "%llu %s %llu\n%s", (unsigned long long)n, hex, (unsigned long long)got, note);
	free(note);
	return fp;
}

#define BATCH 7 /* genesis + 7 = 8 leaves: tree nodes at levels 1, 2 and 3 */

/* One import-sized batch through ml_batch_*, as cmd_import drives it: the
 * first failure aborts.  Returns the first non-OK result. */
static int
run_batch(struct ml_ledger *l, const struct ml_buf *env, struct ml_err *e)
{
	struct ml_appended out;
	struct ml_batch *b;
	int rc, i;

	if ((rc = ml_batch_begin(l, &b, e)))
		return rc;
	for (i = 0; i < BATCH; i++) {
		struct ml_append_item it = {env[i].data, env[i].len, NULL, NULL, 0};
		if ((rc = ml_batch_add(b, &it, &out, e))) {
			ml_batch_abort(b);
			return rc;
		}
	}
	return ml_batch_commit(b, e);
}

/* Fails call N of a 7-item batch for every N the batch makes, with each
 * error code: ML_EIO, the ledger as it was and verifying; then the batch
 * for real. */
static void
test_batch_every_step(void **state)
{
	static const int codes[] = {SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY, SQLITE_NOMEM};
	struct ml_buf env[BATCH];
	struct ml_ledger *l;
	struct ml_err e;
	char *before, *now, subj[32];
	long n, steps;
	size_t c;
	int rc, i;

	(void)state;
	memset(env, 0, sizeof env);
	for (i = 0; i < BATCH; i++) {
		snprintf(subj, sizeof subj, "ds-%d@1", i);
		envelope(subj, &env[i]);
	}
	before = fingerprint();
	{	/* Count the steps of one successful batch on a copy. */
		char cmd[2048], copy[320];
		snprintf(copy, sizeof copy, "%s/count.db", dir);
		snprintf(cmd, sizeof cmd, "rm -f '%s'*; cp '%s' '%s'; cp '%s.log.key' '%s.log.key'",
			 copy, path, copy, path, copy);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(ml_ledger_open(copy, 1, &l, &e), ML_OK);
		fail_at = 1L << 40;
		calls = 0;
		assert_int_equal(run_batch(l, env, &e), ML_OK);
		steps = calls;
		fail_at = -1;
		ml_ledger_close(l);
	}
	assert_true(steps > 3 * BATCH);
	print_message("batch of %d: %ld sqlite3_step calls, each failed with 4 codes\n", BATCH,
		      steps);
	for (c = 0; c < sizeof codes / sizeof codes[0]; c++) {
		fail_code = codes[c];
		for (n = 0; n < steps; n++) {
			assert_int_equal(ml_ledger_open(path, 1, &l, &e), ML_OK);
			calls = 0;
			fail_at = n;
			rc = run_batch(l, env, &e);
			fail_at = -1;
			ml_ledger_close(l);
			if (rc != ML_EIO)
				fail_msg("code %d at step %ld/%ld: rc %d (%s)", codes[c], n, steps, rc,
					 e.msg);
			now = fingerprint();
			if (strcmp(now, before) != 0)
				fail_msg("code %d at step %ld/%ld changed the ledger", codes[c], n, steps);
			free(now);
		}
	}
	verify_ok();
	assert_int_equal(ml_ledger_open(path, 1, &l, &e), ML_OK);
	assert_int_equal(run_batch(l, env, &e), ML_OK);
	ml_ledger_close(l);
	assert_int_equal(size_of_ledger(), BASE + BATCH);
	verify_ok();
	free(before);
	for (i = 0; i < BATCH; i++)
		ml_buf_free(&env[i]);
}

/* The harness itself: a fault past the last step changes nothing, so the
 * batch succeeds and the ledger does change (the fingerprint sees it). */
static void
test_batch_fault_past_end(void **state)
{
	struct ml_buf env[BATCH];
	struct ml_ledger *l;
	struct ml_err e;
	char *before, *after, subj[32];
	int i;

	(void)state;
	memset(env, 0, sizeof env);
	for (i = 0; i < BATCH; i++) {
		snprintf(subj, sizeof subj, "pe-%d@1", i);
		envelope(subj, &env[i]);
	}
	before = fingerprint();
	assert_int_equal(ml_ledger_open(path, 1, &l, &e), ML_OK);
	calls = 0;
	fail_at = 1L << 40;
	assert_int_equal(run_batch(l, env, &e), ML_OK);
	fail_at = -1;
	ml_ledger_close(l);
	after = fingerprint();
	assert_string_not_equal(before, after);
	free(before);
	free(after);
	for (i = 0; i < BATCH; i++)
		ml_buf_free(&env[i]);
}

/* A storage fault while opening reads the header: that is ML_EIO (exit 5),
 * not "not an mlledger ledger" (ML_EINPUT, exit 2).  Regression: store.c
 * mapped every failure to read application_id/user_version to ML_EINPUT. */
static void
test_open_fault(void **state)
{
	struct ml_ledger *l = NULL;
	struct ml_err e;
	long n;
	int rc;

	(void)state;
	for (n = 0; n < 2; n++) {
		fail_code = SQLITE_IOERR;
		calls = 0;
		fail_at = n;
		rc = ml_ledger_open(path, 0, &l, &e);
		fail_at = -1;
		if (rc != ML_EIO)
			fail_msg("fault at open step %ld: rc %d (%s)", n, rc, e.msg);
	}
	assert_int_equal(ml_ledger_open(path, 0, &l, &e), ML_OK);
	ml_ledger_close(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_every_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_fault_past_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fault, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

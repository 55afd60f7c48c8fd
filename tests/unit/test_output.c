/* Unit tests for output: the ledger and its files refused by any name
 * (hard links, symbolic links, ".." paths, files that do not exist yet),
 * existing files refused without force, secret keys and keys folders
 * refused even with force, folders and FIFOs never replaced by a file. */
#include "testutil.h"

#include <sys/stat.h>

#include "output.h"

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Checks path against r; returns the code and leaves the message in e. */
static int
check(const struct ml_out_rules *r, const char *path, int is_dir, struct ml_err *e)
{
	ml_err_clear(e);
	return ml_out_check(r, "--out", path, is_dir, e);
}

static void
test_ledger_by_any_name(void **state)
{
	char dir[256], db[300], p[400];
	struct ml_out_rules r;
	struct ml_err e;
	int force;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	snprintf(db, sizeof db, "%s/ledger.db", dir);
	put(db, "SQLite format 3");
	snprintf(p, sizeof p, "%s/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	for (force = 0; force < 2; force++) {
		ml_out_rules_init(&r, force);
		assert_int_equal(ml_out_protect_ledger(&r, db, &e), ML_OK);

		assert_int_equal(check(&r, db, 0, &e), ML_EINPUT);
		snprintf(p, sizeof p, "--out %s: refusing to overwrite the ledger", db);
		assert_string_equal(e.msg, p);
		snprintf(p, sizeof p, "%s/sub/../ledger.db", dir);
		assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);
		snprintf(p, sizeof p, "%s/./ledger.db", dir);
		assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);

		/* Files that do not exist yet: compared by folder and name. */
		snprintf(p, sizeof p, "%s/sub/../ledger.db-wal", dir);
		assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);
		assert_non_null(strstr(e.msg, "the ledger's write-ahead log"));
		snprintf(p, sizeof p, "%s/ledger.db-shm", dir);
		assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);
		snprintf(p, sizeof p, "%s/ledger.db-journal", dir);
		assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);
		snprintf(p, sizeof p, "%s/sub/../ledger.db.log.key", dir);
		assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);
		assert_non_null(strstr(e.msg, "refusing to overwrite the ledger's log key"));

		/* A new name beside them is fine. */
		snprintf(p, sizeof p, "%s/report.html", dir);
		assert_int_equal(check(&r, p, 0, &e), ML_OK);
		/* The ledger is no folder to write into either. */
		assert_int_equal(check(&r, db, 1, &e), ML_EINPUT);
	}

	/* Hard and symbolic links to the ledger. */
	snprintf(p, sizeof p, "%s/hard.db", dir);
	assert_int_equal(link(db, p), 0);
	assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "the ledger"));
	snprintf(p, sizeof p, "%s/sym.db", dir);
	assert_int_equal(symlink(db, p), 0);
	assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);
	tu_rmtree(dir);
}

static void
test_existing_files(void **state)
{
	char dir[256], p[300], q[400];
	struct ml_out_rules r;
	struct ml_err e;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	snprintf(p, sizeof p, "%s/r.json", dir);
	put(p, "{}");

	ml_out_rules_init(&r, 0);
	assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);
	snprintf(q, sizeof q, "--out %s: exists (use --force to replace it)", p);
	assert_string_equal(e.msg, q);
	ml_out_rules_init(&r, 1);
	assert_int_equal(check(&r, p, 0, &e), ML_OK);

	/* A folder or a FIFO is never replaced by a file. */
	assert_int_equal(check(&r, dir, 0, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "is a folder"));
	snprintf(q, sizeof q, "%s/fifo", dir);
	assert_int_equal(mkfifo(q, 0600), 0);
	assert_int_equal(check(&r, q, 0, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "not a regular file"));
	/* A file is no folder. */
	assert_int_equal(check(&r, p, 1, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "not a folder"));
	/* Empty path. */
	assert_int_equal(check(&r, "", 0, &e), ML_EINPUT);
	tu_rmtree(dir);
}

static void
test_secret_keys(void **state)
{
	char dir[256], keys[300], p[400];
	struct ml_out_rules r;
	struct ml_err e;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	snprintf(keys, sizeof keys, "%s/keys", dir);
	assert_int_equal(mkdir(keys, 0755), 0);
	snprintf(p, sizeof p, "%s/alice.pub", keys);
	put(p, "alice+01234567+AAAA\n");

	/* A folder without secret keys may hold outputs. */
	ml_out_rules_init(&r, 1);
	assert_int_equal(check(&r, keys, 1, &e), ML_OK);
	snprintf(p, sizeof p, "%s/new", dir);
	assert_int_equal(check(&r, p, 1, &e), ML_OK);

	/* Plain and encrypted keys, whatever their names. */
	snprintf(p, sizeof p, "%s/alice.sec", keys);
	put(p, "PRIVATE+KEY+alice+01234567+AAAA\n");
	assert_true(ml_out_is_seckey_file(p));
	assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "refusing to overwrite a secret key"));
	assert_int_equal(check(&r, keys, 1, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "holds secret keys (alice.sec)"));
	unlink(p);
	snprintf(p, sizeof p, "%s/bob.key", keys);
	put(p, "mlledger-encrypted-key/v1 ...\n");
	assert_int_equal(check(&r, p, 0, &e), ML_EINPUT);
	assert_int_equal(check(&r, keys, 1, &e), ML_EINPUT);

	/* key new --force replaces a key on purpose. */
	r.keys_ok = 1;
	assert_int_equal(check(&r, p, 0, &e), ML_OK);
	snprintf(p, sizeof p, "%s/alice.pub", keys);
	assert_false(ml_out_is_seckey_file(p));
	tu_rmtree(dir);
}

static void
test_protect_limits(void **state)
{
	struct ml_out_rules r;
	struct ml_err e;
	int i;

	(void)state;
	ml_out_rules_init(&r, 0);
	for (i = 0; i < ML_OUT_GUARDS_MAX; i++)
		assert_int_equal(ml_out_protect(&r, "x", "x", &e), ML_OK);
	assert_int_equal(ml_out_protect(&r, "x", "x", &e), ML_EINPUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ledger_by_any_name),
		cmocka_unit_test(test_existing_files),
		cmocka_unit_test(test_secret_keys),
		cmocka_unit_test(test_protect_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

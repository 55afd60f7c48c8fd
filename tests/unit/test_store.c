/* Unit tests for the store's backup (ml_store_backup, which export uses
 * for the bundle's ledger.db): a new file receives a copy that opens as the
 * same ledger; an existing file is refused with ML_EINPUT and left exactly
 * as it was (SQLite ignores SQLITE_OPEN_EXCLUSIVE, so the old code copied
 * over it, and deleted it when the copy failed).  A write that fails on the
 * replay projection's connection reports that connection's error (a
 * constraint: ML_EINTEGRITY with SQLite's message), not the ledger
 * connection's "not an error". */
#include "testutil.h"

#include <fcntl.h>
#include <unistd.h>

#include "ledger.h"
#include "store.h"

struct fx {
	char dir[256], src[300], dst[300];
	struct ml_seckey *admin;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct ml_appended g;
	struct ml_err e;
	uint8_t seed[32];

	assert_non_null(f);
	tu_tmpdir(f->dir, sizeof f->dir);
	snprintf(f->src, sizeof f->src, "%s/src.db", f->dir);
	snprintf(f->dst, sizeof f->dst, "%s/copy.db", f->dir);
	memset(seed, 9, sizeof seed);
	assert_int_equal(ml_seckey_from_seed("admin", seed, &f->admin, &e), ML_OK);
	assert_int_equal(ml_ledger_init(f->src, "test.example/backup", f->admin, &g, &e), ML_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ml_seckey_free(f->admin);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static void
test_backup_new_file(void **state)
{
	struct fx *f = *state;
	struct ml_store *s, *c;
	struct ml_err e;
	uint8_t a[ML_SHA256_LEN], b[ML_SHA256_LEN];
	uint64_t na, nb;
	int64_t ta, tb;

	assert_int_equal(ml_store_open(f->src, 0, &s, &e), ML_OK);
	assert_int_equal(ml_store_backup(s, f->dst, &e), ML_OK);
	assert_int_equal(ml_store_head(s, &na, a, &ta, &e), ML_OK);
	ml_store_close(s);
	assert_int_equal(ml_store_open(f->dst, 0, &c, &e), ML_OK);
	assert_int_equal(ml_store_head(c, &nb, b, &tb, &e), ML_OK);
	ml_store_close(c);
	assert_true(na == 1 && nb == na);
	assert_memory_equal(a, b, ML_SHA256_LEN);
}

static void
test_backup_never_overwrites(void **state)
{
	struct fx *f = *state;
	static const char precious[] = "an auditor's file, not a ledger";
	char got[64] = {0};
	struct ml_store *s;
	struct ml_err e;
	int fd;
	ssize_t n;

	fd = open(f->dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, precious, sizeof precious - 1), (ssize_t)(sizeof precious - 1));
	close(fd);
	assert_int_equal(ml_store_open(f->src, 0, &s, &e), ML_OK);
	ml_err_clear(&e);
	assert_int_equal(ml_store_backup(s, f->dst, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "exists"));
	/* and not over another ledger either */
	assert_int_equal(ml_store_backup(s, f->src, &e), ML_EINPUT);
	ml_store_close(s);
	fd = open(f->dst, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, got, sizeof got - 1);
	close(fd);
	assert_int_equal(n, (ssize_t)(sizeof precious - 1));
	assert_string_equal(got, precious);
	assert_int_equal(access(f->src, F_OK), 0);
}

static void
test_replay_error_is_its_own(void **state)
{
	struct fx *f = *state;
	struct ml_key_row row;
	struct ml_store *s;
	struct ml_err e;

	memset(&row, 0, sizeof row);
	snprintf(row.keyid, sizeof row.keyid, "dup+01020304");
	snprintf(row.name, sizeof row.name, "dup");
	snprintf(row.vkey, sizeof row.vkey, "dup+01020304+AAAA");
	snprintf(row.roles, sizeof row.roles, "engineer");
	row.enrolled_seq = 1;
	row.revoked_seq = -1;
	assert_int_equal(ml_store_open(f->src, 0, &s, &e), ML_OK);
	assert_int_equal(ml_store_replay_attach(s, &e), ML_OK);
	assert_int_equal(ml_store_key_insert(s, ML_DB_REPLAY, &row, &e), ML_OK);
	ml_err_clear(&e);
	assert_int_equal(ml_store_key_insert(s, ML_DB_REPLAY, &row, &e), ML_EINTEGRITY);
	assert_null(strstr(e.msg, "not an error"));
	assert_non_null(strstr(e.msg, "constraint"));
	ml_store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_new_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_never_overwrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_error_is_its_own, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the store's backup (ml_store_backup, which export uses
 * for the bundle's ledger.db): a new file receives a copy that opens as the
 * same ledger; an existing file is refused with ML_EINPUT and left exactly
 * as it was (SQLite ignores SQLITE_OPEN_EXCLUSIVE, so the old code copied
 * over it, and deleted it when the copy failed).  A write that breaks a
 * key of the replay projection reports its own error (a constraint:
 * ML_EINTEGRITY), not the ledger connection's "not an error"; the replay's
 * final comparison with the stored tables catches every kind of
 * difference.
 *
 * Also the store's open and close contracts: create refuses an existing
 * path, open refuses a missing file and a file that is not a ledger
 * (ML_EINPUT, naming the path); a read-only open refuses writes with
 * ML_EIO naming the path and the write and leaves the file as it was; a
 * statement that does not prepare (a table gone) is named in the error. */
#include "testutil.h"

#include <fcntl.h>
#include <regex.h>
#include <sqlite3.h>
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

/* The page size of the SQLite file at path, read with SQLite itself. */
static int
page_size(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* ml_store_open(path, flags), then a write in a transaction, rolled back:
 * the write's result. */
static int
try_write(const char *path, int flags)
{
	struct ml_store *s;
	struct ml_err e;
	int rc;

	assert_int_equal(ml_store_open(path, flags, &s, &e), ML_OK);
	rc = ml_store_begin(s, 1, &e);
	if (rc == ML_OK)
		rc = ml_store_meta_set(s, "probe", "x", &e);
	ml_store_rollback(s);
	ml_store_close(s);
	return rc;
}

static int
collect_seq(void *ctx, uint64_t seq)
{
	uint64_t *got = ctx;

	got[++got[0]] = seq;
	return 0;
}

static void
ix_row(struct ml_index_row *ix, int64_t seq, const char *kind, const char *version)
{
	memset(ix, 0, sizeof *ix);
	ix->seq = seq;
	snprintf(ix->kind, sizeof ix->kind, "%s", kind);
	snprintf(ix->name, sizeof ix->name, "fraud");
	snprintf(ix->version, sizeof ix->version, "%s", version);
	snprintf(ix->keyid, sizeof ix->keyid, "ci+01020304");
	ix->stmt_hash[0] = (uint8_t)seq;
}

/* ml_store_index_seqs on the replay: rows written before and after a
 * first question are all found, newest first, and only the matching
 * ones. */
static void
test_replay_index_seqs_lazy(void **state)
{
	struct fx *f = *state;
	struct ml_index_row ix;
	struct ml_store *s;
	struct ml_err e;
	uint64_t got[8];

	assert_int_equal(ml_store_open(f->src, 0, &s, &e), ML_OK);
	assert_int_equal(ml_store_replay_attach(s, &e), ML_OK);
	ix_row(&ix, 1, "gate", "1.0");
	assert_int_equal(ml_store_index_insert(s, ML_DB_REPLAY, &ix, &e), ML_OK);
	ix_row(&ix, 2, "gate", "2.0");
	assert_int_equal(ml_store_index_insert(s, ML_DB_REPLAY, &ix, &e), ML_OK);
	ix_row(&ix, 3, "deployment", "1.0");
	assert_int_equal(ml_store_index_insert(s, ML_DB_REPLAY, &ix, &e), ML_OK);
	got[0] = 0;
	assert_int_equal(ml_store_index_seqs(s, ML_DB_REPLAY, "gate", "fraud", "1.0",
					     collect_seq, got, &e), ML_OK);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 1);
	ix_row(&ix, 4, "gate", "1.0");
	assert_int_equal(ml_store_index_insert(s, ML_DB_REPLAY, &ix, &e), ML_OK);
	got[0] = 0;
	assert_int_equal(ml_store_index_seqs(s, ML_DB_REPLAY, "gate", "fraud", "1.0",
					     collect_seq, got, &e), ML_OK);
	assert_int_equal(got[0], 2);
	assert_int_equal(got[1], 4);
	assert_int_equal(got[2], 1);
	ml_store_close(s);
}

/* The replay's subjects rows (in memory since issue 18 part E): a row reads
 * the same again, a row absent when asked is found once inserted, a same
 * ref of another kind is another row, and the main database is not
 * answered from the replay. */
static void
test_replay_subjects_cached(void **state)
{
	struct fx *f = *state;
	struct ml_store *s;
	struct ml_err e;
	uint8_t d1[ML_SHA256_LEN], d2[ML_SHA256_LEN], got[ML_SHA256_LEN];
	int64_t seq;
	int found, round;

	memset(d1, 0x11, sizeof d1);
	memset(d2, 0x22, sizeof d2);
	assert_int_equal(ml_store_open(f->src, 0, &s, &e), ML_OK);
	assert_int_equal(ml_store_replay_attach(s, &e), ML_OK);
	assert_int_equal(ml_store_subject_get(s, ML_DB_REPLAY, "model", "fraud@1.0", got, &seq,
					      &found, &e), ML_OK);
	assert_false(found);
	assert_int_equal(ml_store_subject_insert(s, ML_DB_REPLAY, "model", "fraud@1.0", d1, 7,
						 &e), ML_OK);
	for (round = 0; round < 2; round++) {
		assert_int_equal(ml_store_subject_get(s, ML_DB_REPLAY, "model", "fraud@1.0",
						      got, &seq, &found, &e), ML_OK);
		assert_true(found);
		assert_memory_equal(got, d1, ML_SHA256_LEN);
		assert_int_equal(seq, 7);
	}
	assert_int_equal(ml_store_subject_get(s, ML_DB_REPLAY, "dataset", "fraud@1.0", got,
					      &seq, &found, &e), ML_OK);
	assert_false(found);
	assert_int_equal(ml_store_subject_insert(s, ML_DB_REPLAY, "dataset", "fraud@1.0", d2, 9,
						 &e), ML_OK);
	assert_int_equal(ml_store_subject_get(s, ML_DB_REPLAY, "dataset", "fraud@1.0", got,
					      &seq, &found, &e), ML_OK);
	assert_true(found);
	assert_memory_equal(got, d2, ML_SHA256_LEN);
	assert_int_equal(seq, 9);
	assert_int_equal(ml_store_subject_get(s, ML_DB_MAIN, "model", "fraud@1.0", got, &seq,
					      &found, &e), ML_OK);
	assert_false(found);
	ml_store_close(s);
}

static void
test_open_close(void **state)
{
	struct fx *f = *state;
	struct ml_store *s;
	struct ml_err e;
	uint8_t last[ML_SHA256_LEN];
	uint64_t n;
	int64_t t;
	char other[320];
	FILE *fp;

	ml_err_clear(&e);
	assert_int_equal(ml_store_create(f->src, &s, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "already exists"));
	assert_non_null(strstr(e.msg, f->src));
	ml_err_clear(&e);
	assert_int_equal(ml_store_open(f->dst, 0, &s, &e), ML_EINPUT); /* no such file */
	assert_non_null(strstr(e.msg, f->dst));
	snprintf(other, sizeof other, "%s/notes.txt", f->dir);
	assert_non_null(fp = fopen(other, "w"));
	fputs("not a database, just text long enough to have a header of sorts......\n"
	      "................................................................\n", fp);
	fclose(fp);
	ml_err_clear(&e);
	assert_int_equal(ml_store_open(other, 0, &s, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "not an mlledger ledger"));
	assert_non_null(strstr(e.msg, other));
	/* a new empty store, then the fixture's ledger */
	assert_int_equal(ml_store_create(f->dst, &s, &e), ML_OK);
	assert_string_equal(ml_store_path(s), f->dst);
	assert_int_equal(ml_store_head(s, &n, last, &t, &e), ML_OK);
	assert_int_equal(n, 0);
	ml_store_close(s);
	/* new ledgers: ML_STORE_PAGE_SIZE pages (FORMAT.md §7, storage notes) */
	assert_int_equal(page_size(f->dst), atoi(ML_STORE_PAGE_SIZE));
	/* one thread only: still read-only unless writable, writable when asked
	 * (a write in a transaction, rolled back) */
	assert_int_not_equal(try_write(f->dst, 0), ML_OK); /* the control */
	assert_int_not_equal(try_write(f->dst, ML_STORE_ONE_THREAD), ML_OK);
	assert_int_equal(try_write(f->dst, 1 | ML_STORE_ONE_THREAD), ML_OK);
	assert_int_equal(try_write(f->dst, 1), ML_OK);
	assert_int_equal(ml_store_open(f->src, 1, &s, &e), ML_OK);
	assert_int_equal(ml_store_head(s, &n, last, &t, &e), ML_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ml_store_schema_check(s, &e), ML_OK);
	ml_store_close(s);
	ml_store_close(NULL); /* harmless */
}

static void
test_readonly_refuses_writes(void **state)
{
	struct fx *f = *state;
	struct ml_store *s;
	struct ml_err e;
	char got[64];

	assert_int_equal(ml_store_open(f->src, 0, &s, &e), ML_OK);
	ml_err_clear(&e);
	assert_int_equal(ml_store_meta_set(s, "note", "written", &e), ML_EIO);
	assert_non_null(strstr(e.msg, f->src));
	assert_non_null(strstr(e.msg, "write meta"));
	assert_non_null(strstr(e.msg, "readonly"));
	ml_store_close(s);
	/* nothing was written: a writable open finds no such key */
	assert_int_equal(ml_store_open(f->src, 1, &s, &e), ML_OK);
	assert_int_not_equal(ml_store_meta_get(s, "note", got, sizeof got, &e), ML_OK);
	assert_int_equal(ml_store_meta_set(s, "note", "written", &e), ML_OK);
	assert_int_equal(ml_store_meta_get(s, "note", got, sizeof got, &e), ML_OK);
	assert_string_equal(got, "written");
	ml_store_close(s);
}

static void
test_prepare_error_names_statement(void **state)
{
	struct fx *f = *state;
	struct ml_store *s;
	struct ml_err e;
	sqlite3 *db;
	uint64_t got;
	char *note = NULL;

	assert_int_equal(sqlite3_open(f->src, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE checkpoints RENAME TO gone", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ml_store_open(f->src, 0, &s, &e), ML_OK);
	ml_err_clear(&e);
	assert_int_equal(ml_store_checkpoint_get(s, -1, &got, &note, &e), ML_EIO);
	assert_null(note);
	assert_non_null(strstr(e.msg, f->src));
	assert_non_null(strstr(e.msg, "prepare \"SELECT"));
	assert_non_null(strstr(e.msg, "main.checkpoints"));
	assert_non_null(strstr(e.msg, "no such table"));
	/* and the schema check says the schema differs */
	assert_int_equal(ml_store_schema_check(s, &e), ML_EINTEGRITY);
	ml_store_close(s);
}

/* Whether s matches the extended regular expression re. */
static int
tu_match(const char *s, const char *re)
{
	regex_t r;
	int ok;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

/* The same rows of all four projection tables, in db. */
static void
projection_rows(struct ml_store *s, enum ml_db db)
{
	static const char *const ids[2] = {"a+00000001", "b+00000002"};
	struct ml_key_row k;
	struct ml_index_row ix;
	struct ml_err e;
	uint8_t d[ML_SHA256_LEN];
	int i;

	for (i = 0; i < 2; i++) {
		memset(&k, 0, sizeof k);
		snprintf(k.keyid, sizeof k.keyid, "%s", ids[i]);
		snprintf(k.name, sizeof k.name, "%c", "ab"[i]);
		snprintf(k.vkey, sizeof k.vkey, "%s+AAAA", ids[i]);
		snprintf(k.roles, sizeof k.roles, "%s", i ? "engineer" : "admin,engineer");
		k.enrolled_seq = i;
		assert_int_equal(ml_store_key_insert(s, db, &k, &e), ML_OK);
	}
	assert_int_equal(ml_store_key_revoke(s, db, ids[0], 3, &e), ML_OK);
	memset(d, 0x5a, sizeof d);
	assert_int_equal(ml_store_subject_insert(s, db, "model", "m@1", d, 2, &e), ML_OK);
	assert_int_equal(ml_store_subject_insert(s, db, "dataset", "d@1", d, 1, &e), ML_OK);
	for (i = 0; i < 4; i++) {
		ix_row(&ix, i, i == 2 ? "gate" : "dataset", "1.0");
		assert_int_equal(ml_store_index_insert(s, db, &ix, &e), ML_OK);
	}
	assert_int_equal(ml_store_idem_insert(s, db, ids[1], "k1", 2, &e), ML_OK);
	assert_int_equal(ml_store_idem_insert(s, db, ids[1], "k2", 3, &e), ML_OK);
}

/* ml_store_replay_diff against every kind of difference in every table
 * (verify's last check of the projection, issue 18 part E: the replay is
 * in memory, the stored rows are read once and matched by key): a stored
 * row missing, an extra stored row, each column changed (a text with a NUL
 * byte appended, a blob of another length, NULL against a number), and
 * idempotency_keys missing while the entries imply rows.  Each names the
 * table and the row; with no change, the tables are equal. */
static void
test_replay_diff_every_kind(void **state)
{
	static const struct {
		const char *sql, *want;
	} cases[] = {
		{"", NULL},
		{"DELETE FROM keys WHERE keyid = 'b+00000002'", "table keys differs.*b\\+00000002"},
		{"INSERT INTO keys VALUES ('c+00000003', 'c', 'c+00000003+AAAA', 'admin', 4, NULL)",
		 "table keys differs.*c\\+00000003"},
		{"UPDATE keys SET name = 'x' WHERE keyid = 'b+00000002'", "table keys differs.*b\\+"},
		{"UPDATE keys SET name = CAST(X'6200' AS TEXT) WHERE keyid = 'b+00000002'",
		 "table keys differs.*b\\+"},
		{"UPDATE keys SET vkey = 'b+00000002+AAAB' WHERE keyid = 'b+00000002'",
		 "table keys differs"},
		{"UPDATE keys SET roles = 'engineer,admin' WHERE keyid = 'b+00000002'",
		 "table keys differs"},
		{"UPDATE keys SET enrolled_seq = 0 WHERE keyid = 'b+00000002'", "table keys differs"},
		{"UPDATE keys SET revoked_seq = NULL WHERE keyid = 'a+00000001'", "table keys differs"},
		{"UPDATE keys SET revoked_seq = 2 WHERE keyid = 'a+00000001'", "table keys differs"},
		{"UPDATE keys SET revoked_seq = 3 WHERE keyid = 'b+00000002'", "table keys differs"},
		{"UPDATE keys SET keyid = 'b+00000003' WHERE keyid = 'b+00000002'",
		 "table keys differs.*b\\+0000000[23]"},
		{"DELETE FROM subjects WHERE ref = 'm@1'", "table subjects differs.*m@1"},
		{"INSERT INTO subjects VALUES ('model', 'm@2', zeroblob(32), 3)",
		 "table subjects differs.*m@2"},
		{"UPDATE subjects SET kind = 'dataset' WHERE ref = 'm@1'", "table subjects differs"},
		{"UPDATE subjects SET ref = 'm@2' WHERE ref = 'm@1'", "table subjects differs.*m@"},
		{"UPDATE subjects SET digest = zeroblob(32) WHERE ref = 'm@1'",
		 "table subjects differs.*m@1"},
		{"UPDATE subjects SET digest = substr(digest, 1, 31) WHERE ref = 'm@1'",
		 "table subjects differs.*m@1"},
		{"UPDATE subjects SET seq = 3 WHERE ref = 'm@1'", "table subjects differs.*m@1"},
		{"DELETE FROM entry_index WHERE seq = 2", "table entry_index differs.*\"2\""},
		{"INSERT INTO entry_index VALUES (4, 'dataset', 'fraud', '1.0', 'ci+01020304', "
		 "randomblob(32))", "table entry_index differs.*\"4\""},
		{"UPDATE entry_index SET seq = 7 WHERE seq = 3", "table entry_index differs"},
		{"UPDATE entry_index SET kind = 'model' WHERE seq = 2", "entry_index differs.*\"2\""},
		{"UPDATE entry_index SET name = 'x' WHERE seq = 2", "entry_index differs.*\"2\""},
		{"UPDATE entry_index SET version = '1.1' WHERE seq = 2", "entry_index differs.*\"2\""},
		{"UPDATE entry_index SET keyid = 'x+00000000' WHERE seq = 2", "entry_index differs"},
		{"UPDATE entry_index SET stmt_hash = randomblob(32) WHERE seq = 2",
		 "entry_index differs.*\"2\""},
		{"UPDATE entry_index SET version = '1.0' || char(0) WHERE seq = 2",
		 "entry_index differs.*\"2\""},
		{"DELETE FROM idempotency_keys WHERE idem_key = 'k2'",
		 "table idempotency_keys differs.*b\\+00000002"},
		{"INSERT INTO idempotency_keys VALUES ('b+00000002', 'k3', 3)",
		 "table idempotency_keys differs"},
		{"UPDATE idempotency_keys SET seq = 1 WHERE idem_key = 'k1'",
		 "table idempotency_keys differs"},
		{"UPDATE idempotency_keys SET idem_key = 'k0' WHERE idem_key = 'k1'",
		 "table idempotency_keys differs"},
		{"UPDATE idempotency_keys SET keyid = 'a+00000001' WHERE idem_key = 'k1'",
		 "table idempotency_keys differs"},
		{"DROP TABLE idempotency_keys", "idempotency_keys is missing, but entries carry"},
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		char path[320];
		struct ml_store *s;
		struct ml_err e;
		sqlite3 *db;
		int rc;

		snprintf(path, sizeof path, "%s/diff%zu.db", f->dir, i);
		assert_int_equal(ml_store_create(path, &s, &e), ML_OK);
		assert_int_equal(ml_store_replay_attach(s, &e), ML_OK);
		projection_rows(s, ML_DB_MAIN);
		projection_rows(s, ML_DB_REPLAY);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "DROP TRIGGER entry_index_append_only_u;"
					      "DROP TRIGGER entry_index_append_only_d;",
					      NULL, NULL, NULL), SQLITE_OK);
		if (sqlite3_exec(db, cases[i].sql, NULL, NULL, NULL) != SQLITE_OK)
			fail_msg("case %zu (%s): %s", i, cases[i].sql, sqlite3_errmsg(db));
		assert_int_equal(sqlite3_changes(db) > 0 || !*cases[i].sql ||
				 !strncmp(cases[i].sql, "DROP", 4), 1);
		sqlite3_close(db);
		ml_err_clear(&e);
		rc = ml_store_replay_diff(s, &e);
		if (!cases[i].want) {
			assert_int_equal(rc, ML_OK);
		} else {
			if (rc != ML_EINTEGRITY || !tu_match(e.msg, cases[i].want))
				fail_msg("case %zu (%s): rc %d, \"%s\"", i, cases[i].sql, rc, e.msg);
		}
		ml_store_close(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_new_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_never_overwrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_error_is_its_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_index_seqs_lazy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_subjects_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_diff_every_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_refuses_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_error_names_statement, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* ledger/schema.sql is exactly the schema `mlledger init` creates, and the
 * header pragmas are set. */
#include "testutil.h"

#include <sodium.h>
#include <sqlite3.h>

#include "keys.h"
#include "ledger.h"
#include "util.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits the file's statements (after "--" comment lines) at ";\n". */
static size_t
file_statements(char *text, char **out, size_t cap)
{
	size_t n = 0;
	char *p = text, *end;

	while (*p == '-' || *p == '\n') {
		char *nl = strchr(p, '\n');
		if (!nl)
			return 0;
		p = nl + 1;
	}
	while (n < cap && (end = strstr(p, ";\n"))) {
		*end = '\0';
		out[n++] = p;
		p = end + 2;
	}
	return n;
}

static void
test_schema_file_matches(void **state)
{
	char dir[256], path[300], *text = NULL, *want[64], *have[64];
	struct ml_seckey *k = NULL;
	struct ml_appended g;
	struct ml_err e;
	uint8_t seed[32];
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t len, nw, nh = 0, i;

	(void)state;
	if (ml_read_file("ledger/schema.sql", 1 << 20, &text, &len, &e) != ML_OK) {
		print_message("SKIP: ledger/schema.sql not found (run from the repository)\n");
		skip();
	}
	nw = file_statements(text, want, 64);
	assert_true(nw >= 10);
	tu_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/l.db", dir);
	memset(seed, 9, sizeof seed);
	assert_int_equal(ml_seckey_from_seed("admin", seed, &k, &e), ML_OK);
	assert_int_equal(ml_ledger_init(path, "schema.example/log", k, &g, &e), ML_OK);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE sql IS NOT "
					    "NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", -1,
					    &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && nh < 64)
		have[nh++] = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	assert_int_equal(nh, nw);
	qsort(want, nw, sizeof *want, cmp_str);
	qsort(have, nh, sizeof *have, cmp_str);
	for (i = 0; i < nw; i++)
		assert_string_equal(have[i], want[i]);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 0x4d4c4c47);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	for (i = 0; i < nh; i++)
		free(have[i]);
	free(text);
	ml_seckey_free(k);
	tu_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_file_matches),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for policypath: an id to its installed file.  The search
 * order ($MLLEDGER_POLICY_PATH left to right, empty entries skipped, then
 * the compiled-in folder), regular files only, the id rules (nothing that
 * could leave a folder), the one-line error naming every folder searched,
 * and paths too long for the buffer. */
#include "testutil.h"

#include <sys/stat.h>

#include "policypath.h"

static char dir[4096];

static int
setup(void **state)
{
	tu_tmpdir(dir, sizeof dir);
	return 0;
}

static int
teardown(void **state)
{
	unsetenv("MLLEDGER_POLICY_PATH");
	tu_rmtree(dir);
	return 0;
}

/* dir/sub/name, made with its folder */
static void
put(const char *sub, const char *name)
{
	char p[4200];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, sub);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/%s/%s", dir, sub, name);
	assert_non_null(f = fopen(p, "w"));
	fputs("<policy/>\n", f);
	fclose(f);
}

/* $MLLEDGER_POLICY_PATH = tmpl with every '@' replaced by dir */
static void
setpath(const char *tmpl)
{
	char v[4 * sizeof dir];
	size_t n = 0, k;

	for (; *tmpl; tmpl++) {
		k = *tmpl == '@' ? strlen(dir) : 1;
		assert_true(n + k < sizeof v);
		memcpy(v + n, *tmpl == '@' ? dir : tmpl, k);
		n += k;
	}
	v[n] = '\0';
	assert_int_equal(setenv("MLLEDGER_POLICY_PATH", v, 1), 0);
}

static void
test_order(void **state)
{
	char out[ML_POLICYPATH_MAX], want[4200];
	struct ml_err e;

	put("a", "production.xml");
	put("b", "production.xml");
	put("b", "monitoring.xml");
	setpath(":@/none::@/a:@/b:");
	assert_int_equal(ml_policypath_find("production", out, &e), ML_OK);
	snprintf(want, sizeof want, "%s/a/production.xml", dir);
	assert_string_equal(out, want);
	assert_int_equal(ml_policypath_find("monitoring", out, &e), ML_OK);
	snprintf(want, sizeof want, "%s/b/monitoring.xml", dir);
	assert_string_equal(out, want);
}

static void
test_not_found(void **state)
{
	char out[ML_POLICYPATH_MAX] = "untouched", want[3 * sizeof dir];
	struct ml_err e;

	put("a", "folder.xml.d");
	put("a", "x");
	snprintf(want, sizeof want, "%s/a/dir.xml", dir);
	assert_int_equal(mkdir(want, 0700), 0); /* a folder is not a policy */
	setpath("@/a::@/none");
	assert_int_equal(ml_policypath_find("dir", out, &e), ML_EINPUT);
	assert_int_equal(e.code, ML_EINPUT);
	assert_string_equal(out, "untouched");
	snprintf(want, sizeof want, "no dir.xml in %s/a:%s/none", dir, dir);
	assert_non_null(strstr(e.msg, want));
	assert_non_null(strstr(e.msg, ml_policypath_dir()));
	assert_null(strchr(e.msg, '\n'));
	assert_int_equal(ml_policypath_find("x", out, &e), ML_EINPUT); /* no .xml */
	setpath("@/a\n\x1b[31m:@/b");
	assert_int_equal(ml_policypath_find("dir", out, &e), ML_EINPUT);
	assert_null(strchr(e.msg, '\n'));
	assert_null(strchr(e.msg, '\x1b'));
	assert_non_null(strstr(e.msg, "/a??[31m:"));
}

static void
test_bad_ids(void **state)
{
	static const char *const bad[] = {"", ".", "..", ".hidden", "a/b", "../x", "a b",
					  "a:b", "a\\b", "caf\xc3\xa9", "a\nb", NULL};
	char out[ML_POLICYPATH_MAX], longid[ML_POLICYPATH_ID_MAX + 2];
	struct ml_err e;
	size_t i;

	put("a", "..xml");
	setpath("@/a");
	for (i = 0; bad[i]; i++) {
		ml_err_clear(&e);
		assert_int_equal(ml_policypath_find(bad[i], out, &e), ML_EINPUT);
		assert_non_null(strstr(e.msg, "not a policy id"));
	}
	memset(longid, 'a', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	assert_int_equal(ml_policypath_find(longid, out, &e), ML_EINPUT);
	longid[ML_POLICYPATH_ID_MAX] = '\0'; /* the longest allowed: searched */
	assert_int_equal(ml_policypath_find(longid, out, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "no aaaa"));
	put("a", "ok-1.2_x.xml");
	assert_int_equal(ml_policypath_find("ok-1.2_x", out, &e), ML_OK);
}

static void
test_long_folder(void **state)
{
	char out[ML_POLICYPATH_MAX], *v;
	struct ml_err e;
	size_t n = ML_POLICYPATH_MAX + 100;

	/* a folder longer than any path: skipped, the next one found */
	put("a", "p.xml");
	assert_non_null(v = malloc(n + 4200));
	memset(v, 'x', n);
	v[0] = '/';
	snprintf(v + n, 4200, ":%s/a", dir);
	assert_int_equal(setenv("MLLEDGER_POLICY_PATH", v, 1), 0);
	free(v);
	assert_int_equal(ml_policypath_find("p", out, &e), ML_OK);
	assert_non_null(strstr(out, "/a/p.xml"));
	assert_int_equal(ml_policypath_find("q", out, &e), ML_EINPUT);
	assert_true(strlen(e.msg) < sizeof e.msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_folder, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

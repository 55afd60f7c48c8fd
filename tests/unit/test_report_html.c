/* Unit tests for report_html's print header: the ledger origin and the
 * period go into a style element as a CSS string, so a hostile value must
 * neither end the string, the rule nor the element (ml_report_css_string),
 * and the whole report keeps it inside (ml_report_html). */
#include "testutil.h"

#include "report.h"
#include "report_html.h"
#include "util.h"

static char *
css_string(const char *s)
{
	struct ml_buf b = {0};
	char *out;

	assert_int_equal(ml_report_css_string(s, &b), ML_OK);
	ml_buf_append(&b, "", 1);
	assert_false(b.oom);
	out = strdup((const char *)b.data);
	ml_buf_free(&b);
	return out;
}

static void
test_plain(void **state)
{
	char *s = css_string("Audit report \xc2\xb7 o.example/l \xc2\xb7 2026-10-01 to 2026-12-31");

	(void)state;
	/* letters, digits, / . - and UTF-8 stay as they are */
	assert_string_equal(s, "\"Audit report \xc2\xb7 o.example/l \xc2\xb7 2026-10-01 to 2026-12-31\"");
	free(s);
}

static void
test_hostile(void **state)
{
	char *s = css_string("a\"b\\c'd</style><script>alert(1)</script>\n}@import url(x);&\x01");
	size_t i, n = strlen(s);

	(void)state;
	assert_string_equal(s, "\"a\\22 b\\5c c\\27 d\\3c /style\\3e \\3c script\\3e alert(1)"
			       "\\3c /script\\3e \\a }@import url(x);\\26 \xe2\x80\xb9U+0001\xe2\x80\xba\"");
	/* one string: a quote only at either end, nothing that ends an element */
	for (i = 1; i + 1 < n; i++)
		assert_true(s[i] != '"' && s[i] != '<' && s[i] != '>' && s[i] != '\n');
	free(s);
}

/* The whole report with a hostile origin: the style element ends once, where
 * the report ends it, and the origin is in it only escaped. */
static void
test_report(void **state)
{
	json_t *m = json_pack("{s:{s:{s:s}, s:s, s:s}, s:{s:b}}", "scope", "ledger", "origin",
			      "x\"; } } </style><script>alert(1)</script><style>", "from",
			      "2026-10-01", "to", "2026-12-31", "integrity", "ok", 1);
	struct ml_buf b = {0};
	struct ml_err e;
	const char *html, *st, *end;

	(void)state;
	ml_err_clear(&e);
	assert_non_null(m);
	assert_int_equal(ml_report_html(m, "body { color: black }", 21, ML_REPORT_DETAIL_SUMMARY,
					 &b, &e), ML_OK);
	ml_buf_append(&b, "", 1);
	html = (const char *)b.data;
	assert_non_null(st = strstr(html, "<style>"));
	assert_non_null(end = strstr(st, "</style>"));
	assert_null(strstr(end + 1, "</style>"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<style><"));
	assert_non_null(strstr(st, "@page { @top-left { content: \"Audit report \xc2\xb7 x\\22 ; } } "
				   "\\3c /style\\3e \\3c script\\3e alert(1)\\3c /script\\3e \\3c "
				   "style\\3e  \xc2\xb7 2026-10-01 to 2026-12-31\"; } }"));
	assert_true(strstr(st, "@page { @top-left") < end);
	ml_buf_free(&b);
	json_decref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

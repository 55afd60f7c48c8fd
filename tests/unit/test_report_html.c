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

/* ---- the rows written directly (rows_direct) ---------------------------- */

static const char *const hostile[] = {
	"", "plain", "a<b>&c\"d'e", "fraud-scorer@1.0.0", "PROD-EVALUATION", "PROD-GATED,",
	"2026-12-07T13:42:20Z", "at 2026-12-07T13:42:20.123456Z.",
	"sha256:975835de1c9756ce366ff41156d3645f9b63507ed913c796900c427889454a39",
	"caf\xc3\xa9 \xe2\x86\x92 x\ty\nz\r w", "\x01 bidi \xe2\x80\xae end \x7f",
	"bad \xff\xfe utf-8", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 long",
	"x fraud-scorer@1.0.0", "fraud-scorer@1.0.0 y", " lead and trail ", "a/b-c d",
	"<script>alert(1)</script>", "&amp; &#13; ]]>", "pass", "fail", "worse",
};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])

/* A value for row i, column j: strings, numbers, null, booleans, arrays
 * and objects, in turn. */
static json_t *
value_for(size_t i, size_t j)
{
	size_t k = (i * 7 + j * 3) % (NHOSTILE + 6);

	if (k < NHOSTILE)
		return json_string(hostile[k]);
	switch (k - NHOSTILE) {
	case 0: return json_integer((json_int_t)i * 1000003 - 7);
	case 1: return json_real(0.1 * (double)i - 3.25);
	case 2: return json_null();
	case 3: return json_boolean(i & 1);
	case 4: return json_pack("[s, {s:s}, s]", hostile[i % NHOSTILE], "label",
				 hostile[(i + 3) % NHOSTILE], "fraud-scorer@2.0.0");
	default: return json_pack("{s:s, s:i, s:s, s:s}", "k<", hostile[(i + 5) % NHOSTILE], "n", 3,
				  "verdict", i % 3 ? "pass" : "Not one<word>", "authorKey",
				  hostile[(i + 2) % NHOSTILE]);
	}
}

/* The object at a dot-separated path of m, made where missing. */
static json_t *
make_path(json_t *m, const char *path, char *last, size_t cap)
{
	char buf[128], *p, *dot;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = buf; (dot = strchr(p, '.')); p = dot + 1) {
		json_t *o;
		*dot = '\0';
		if (!(o = json_object_get(m, p)))
			json_object_set_new(m, p, o = json_object());
		m = o;
	}
	snprintf(last, cap, "%s", p);
	return m;
}

/* A model with every table full of awkward values: 1, 2 or 300 rows (more
 * than one tree flush; which table gets which moves with shift), signers
 * with and without names. */
static json_t *
awkward_model(size_t shift)
{
	json_t *m = json_pack("{s:{s:{s:s}, s:s, s:s}, s:{s:b}}", "scope", "ledger", "origin",
			      "o.example/l", "from", "2026-10-01", "to", "2026-12-31",
			      "integrity", "ok", 1);
	const struct ml_report_table *t;
	size_t n, ti, i, j, rows;
	char last[128];

	t = ml_report_tables(&n);
	for (ti = 0; ti < n; ti++) {
		json_t *arr = json_array(), *parent = make_path(m, t[ti].path, last, sizeof last);
		rows = (ti + shift) % 3 == 0 ? 1 : (ti + shift) % 3 == 1 ? 2 : 300;
		for (i = 0; i < rows; i++) {
			json_t *r = json_object();
			for (j = 0; j < t[ti].ncols; j++)
				json_object_set_new(r, t[ti].cols[j].key, value_for(i + ti, j));
			if (i % 4)
				json_object_set_new(r, "author", json_string(hostile[i % NHOSTILE]));
			if (i % 3)
				json_object_set_new(r, "authorKey", json_string("k<ey>+47de6810"));
			if (i % 5 == 1)
				json_object_set_new(r, "personName", json_null());
			if (i % 2)
				json_object_set_new(r, "person", json_string(hostile[(i + 1) % NHOSTILE]));
			if (i % 2)
				json_object_set_new(r, "outcome", json_string(i % 4 == 1 ? "pass" : "fail"));
			json_array_append_new(arr, r);
		}
		if (!json_object_get(parent, last))
			json_object_set_new(parent, last, arr);
		else
			json_decref(arr);
	}
	return m;
}

static void
render(const json_t *m, enum ml_report_detail d, int direct, struct ml_buf *b)
{
	struct ml_err e;

	ml_err_clear(&e);
	ml_report_html_set_direct(direct);
	assert_int_equal(ml_report_html(m, NULL, 0, d, b, &e), ML_OK);
	ml_report_html_set_direct(1);
}

/* The rows and the chains written directly are the bytes libxml2's writer
 * gives the same rows and chains built as nodes, for every table, in both
 * detail levels. */
static void
test_direct_rows(void **state)
{
	json_t *m = NULL;
	struct ml_buf tree = {0}, direct = {0};
	int d;

	(void)state;
	for (d = 0; d < 6; d++) {
		json_decref(m);
		m = awkward_model((size_t)d / 2);
		tree.len = direct.len = 0;
		render(m, (enum ml_report_detail)(d % 2), 0, &tree);
		render(m, (enum ml_report_detail)(d % 2), 1, &direct);
		assert_true(tree.len > 100000);
		assert_int_equal(direct.len, tree.len);
		assert_memory_equal(direct.data, tree.data, tree.len);
		ml_buf_append(&direct, "", 1);
		/* and the values are escaped, not pasted */
		assert_non_null(strstr((const char *)direct.data, "a&lt;b&gt;&amp;c"));
		assert_null(strstr((const char *)direct.data, "<script>"));
	}
	ml_buf_free(&tree);
	ml_buf_free(&direct);
	json_decref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_direct_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

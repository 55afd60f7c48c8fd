/* Unit tests for jsonp, the strict JSON reader: hand-written edge cases with
 * the verdict jansson gives (each rejection class a negative test), every
 * short input over an alphabet of JSON's delicate bytes, mutations of a real
 * statement, and the committed fuzz corpora of statements, envelopes and
 * import lines: jsonp must accept exactly what json_loadb(...,
 * JSON_REJECT_DUPLICATES) accepts and build the same tree
 * (tests/fuzz/jsonp_diff.h). */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>

#include "../fuzz/jsonp_diff.h"
#include "statement.h"

/* Fails the test, naming the input, when jsonp and jansson differ. */
static void
same(const void *data, size_t n)
{
	const char *why = jsonp_diff(data, n);

	if (why) {
		fprintf(stderr, "jsonp_diff: %s on %zu bytes: '%.*s'\n", why, n, (int)n,
			(const char *)data);
		fail();
	}
}

/* One case: the input, whether jansson accepts it (asserted, so the table
 * documents the reference's behaviour), and jsonp agreeing with it. */
static void
expect(const char *s, size_t n, int accepted)
{
	json_t *ref = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
	json_t *mine = NULL;
	enum ml_rc rc = ml_jsonp_load((const uint8_t *)s, n, &mine);

	if ((ref != NULL) != accepted || (rc == ML_OK) != accepted) {
		fprintf(stderr, "case '%.*s': expected %s, jansson %s, jsonp rc %d\n", (int)n, s,
			accepted ? "accept" : "reject", ref ? "accepts" : "rejects", (int)rc);
		fail();
	}
	if (!accepted)
		assert_int_equal(rc, ML_EINPUT);
	json_decref(ref);
	json_decref(mine);
	same(s, n);
}
#define ACCEPT(lit) expect(lit, sizeof lit - 1, 1)
#define REJECT(lit) expect(lit, sizeof lit - 1, 0)

static void
test_accepts(void **state)
{
	(void)state;
	ACCEPT("{}");
	ACCEPT("[]");
	ACCEPT(" \t\r\n{ \"a\" : [ 1 , -2 , 3.5 , true , false , null ] } \n");
	ACCEPT("{\"\":\"\"}");                        /* empty key and value */
	ACCEPT("[0,-0,1,-1,10,1.5,-0.0,0e0,1E+2,1e-2,2.50]");
	ACCEPT("[9223372036854775807,-9223372036854775808]"); /* int64 ends */
	ACCEPT("[1e-400,1e308,-1e308]");     /* underflow to 0 is fine */
	ACCEPT("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"); /* every short escape */
	ACCEPT("[\"\\u0041\\u00e9\\u00E9\\u20ac\\uD834\\uDD1E\\ud834\\udd1e\"]");
	ACCEPT("[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e \x7f \xc2\x80\"]"); /* raw UTF-8, DEL, C1 */
	ACCEPT("{\"\\u0061\":1,\"b\\n\":{\"\\u00e9\":[2]}}"); /* escaped keys, nested */
	ACCEPT("{\"a\":1,\"A\":2,\"a \":3}");              /* near-duplicates */
	ACCEPT("{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}}"); /* same key, other objects */
	ACCEPT("{\"k\\u0031\":1,\"k\\u0032\":2}");
}

static void
test_rejects(void **state)
{
	(void)state;
	REJECT("");
	REJECT("   ");
	REJECT("1");           /* top level must be an object or array */
	REJECT("\"s\"");
	REJECT("true");
	REJECT("null");
	REJECT("\xef\xbb\xbf{}"); /* a byte order mark */
	REJECT("{}x");          /* trailing bytes */
	REJECT("{}{}");
	REJECT("[]]");
	REJECT("{} \x00");
	REJECT("{");            /* unterminated */
	REJECT("[1");
	REJECT("[1,");
	REJECT("{\"a\"");
	REJECT("{\"a\":");
	REJECT("[\"abc");
	REJECT("[1,]");         /* trailing commas */
	REJECT("{\"a\":1,}");
	REJECT("[,1]");
	REJECT("[1 2]");
	REJECT("{\"a\" 1}");
	REJECT("{\"a\":1 \"b\":2}");
	REJECT("{1:2}");        /* keys are strings */
	REJECT("{a:1}");
	REJECT("{'a':1}");
	REJECT("{\"a\":1,\"a\":2}"); /* duplicate keys */
	REJECT("{\"a\":1,\"b\":{},\"a\":1}");
	REJECT("{\"\\u0061\":1,\"a\":2}"); /* the same key once escaped */
	REJECT("[{\"x\":[{\"y\":1,\"y\":1}]}]");
	REJECT("[01]");         /* numbers */
	REJECT("[-01]");
	REJECT("[00]");
	REJECT("[-]");
	REJECT("[+1]");
	REJECT("[.5]");
	REJECT("[1.]");
	REJECT("[1.e5]");
	REJECT("[1e]");
	REJECT("[1e+]");
	REJECT("[0x10]");
	REJECT("[1e400]");      /* real overflow */
	REJECT("[-1e400]");
	REJECT("[9223372036854775808]"); /* integer overflow (strtoll's range) */
	REJECT("[9223372036854775808000]");
	REJECT("[-9223372036854775809]");
	REJECT("[99999999999999999999]");
	REJECT("[NaN]");
	REJECT("[Infinity]");
	REJECT("[True]");       /* literals */
	REJECT("[nul]");
	REJECT("[nulls]");
	REJECT("[truefalse]");
	REJECT("[true1]");
	REJECT("[\"a\x01\"]");   /* raw control characters */
	REJECT("[\"a\nb\"]");
	REJECT("[\"a\tb\"]");
	REJECT("[\"a\x00 b\"]");
	REJECT("{\"a\x00\":1}");
	REJECT("[\"\\u0000\"]"); /* U+0000, in values and keys */
	REJECT("{\"\\u0000\":1}");
	REJECT("[\"\\x41\"]");   /* unknown escapes */
	REJECT("[\"\\a\"]");
	REJECT("[\"\\U0041\"]");
	REJECT("[\"\\u041\"]");  /* short \u */
	REJECT("[\"\\u00g1\"]");
	REJECT("[\"\\");
	REJECT("[\"\\u12");
	REJECT("[\"\\uD834\"]"); /* lone surrogates */
	REJECT("[\"\\uDD1E\"]");
	REJECT("[\"\\uD834x\"]");
	REJECT("[\"\\uD834\\n\"]");
	REJECT("[\"\\uD834\\uD834\"]");
	REJECT("[\"\\uDD1E\\uD834\"]");
	REJECT("[\"\\uD834\\u00e9\"]");
	REJECT("[\"\xc3\"]");    /* bad UTF-8 */
	REJECT("[\"\xc3(\"]");
	REJECT("[\"\xc0\xaf\"]"); /* overlong */
	REJECT("[\"\xe0\x80\xaf\"]");
	REJECT("[\"\xed\xa0\x80\"]"); /* a surrogate in UTF-8 */
	REJECT("[\"\xf4\x90\x80\x80\"]"); /* above U+10FFFF */
	REJECT("[\"\xff\"]");
	REJECT("[\"\x80\"]");
	REJECT("[\xc3\xa9]");    /* non-ASCII outside strings */
}

/* jansson's NUL quirk (jsonp_diff.h): one NUL right after a number or a
 * literal is dropped by jansson, refused by jsonp; ml_statement_parse
 * refuses NUL bytes before either parser runs. */
static void
test_nul_quirk(void **state)
{
	static const char quirk[][12] = {"[1\0]", "[1.5\0]", "[true\0]", "{\"a\":null\0}",
					 "[1\0,2]"};
	static const char stmt[] = "{\"a\":1\0}";
	struct ml_statement st;
	json_t *j = NULL;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof quirk / sizeof quirk[0]; i++) {
		n = strlen(quirk[i]);
		n += strlen(quirk[i] + n + 1) + 1; /* through the NUL and the rest */
		j = json_loadb(quirk[i], n, JSON_REJECT_DUPLICATES, NULL);
		assert_non_null(j); /* jansson drops the NUL */
		json_decref(j);
		assert_int_equal(ml_jsonp_load((const uint8_t *)quirk[i], n, &j), ML_EINPUT);
		same(quirk[i], n); /* the allowed, checked difference */
	}
	REJECT("[1\0\0]");         /* only one NUL is dropped */
	REJECT("[\"a\"\0]");        /* and only after a number or literal */
	REJECT("[1,\0 2]");
	assert_int_equal(ml_statement_parse((const uint8_t *)stmt, sizeof stmt - 1, &st, NULL),
			 ML_EINPUT);
}

/* Nesting: jansson counts every value (the top one is depth 1) and allows
 * JSON_PARSER_MAX_DEPTH. */
static void
test_depth(void **state)
{
	size_t d, max = JSON_PARSER_MAX_DEPTH, n;
	char *s = malloc(6 * max + 32);

	(void)state;
	assert_non_null(s);
	for (d = max - 2; d <= max + 2; d++) {
		memset(s, '[', d);
		memset(s + d, ']', d);
		expect(s, 2 * d, d <= max);
		/* a scalar in d arrays is one deeper */
		memset(s, '[', d);
		s[d] = '1';
		memset(s + d + 1, ']', d);
		expect(s, 2 * d + 1, d + 1 <= max);
		/* objects count as arrays do */
		for (n = 0; n < d; n++)
			memcpy(s + 5 * n, "{\"a\":", 5);
		memcpy(s + 5 * d, "{}", 2);
		memset(s + 5 * d + 2, '}', d);
		expect(s, 6 * d + 2, d + 1 <= max);
	}
	free(s);
}

/* Every input of up to 4 bytes over an alphabet of delicate bytes, bare, in
 * an array and as a member value. */
static void
test_exhaustive_short(void **state)
{
	static const char abc[] = "[]{}\":,0 1-.e\\uatn\x00\xc3\xa9\x01";
	size_t k = sizeof abc - 1, len, i, idx, w;
	char in[8], buf[32];

	(void)state;
	for (len = 0; len <= 4; len++) {
		size_t total = 1;
		for (i = 0; i < len; i++)
			total *= k;
		for (idx = 0; idx < total; idx++) {
			size_t x = idx;
			for (i = 0; i < len; i++, x /= k)
				in[i] = abc[x % k];
			for (w = 0; w < 3; w++) {
				size_t n = 0;
				if (w == 1)
					buf[n++] = '[';
				if (w == 2)
					memcpy(buf, "{\"k\":", 5), n = 5;
				memcpy(buf + n, in, len);
				n += len;
				if (w == 1)
					buf[n++] = ']';
				if (w == 2)
					buf[n++] = '}';
				same(buf, n);
			}
		}
	}
}

/* Random edits (flip, insert, delete, duplicate a span) of a statement from
 * the bench's generator; a fixed seed keeps the run reproducible. */
static void
test_mutations(void **state)
{
	static const char base[] =
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":"
		"\"fraud-scorer@1.0.0\",\"digest\":{\"sha256\":\"975835de1c9756ce366ff41156d3645f"
		"9b63507ed913c796900c427889454a39\"}}],\"predicateType\":\"https://mlledger.dev/"
		"evaluation/v1\",\"predicate\":{\"dataset\":{\"name\":\"fraud-scorer-eval@2024.0\","
		"\"digest\":{\"sha256\":\"910a2dec89025cc1faf7e95b9ae8aec2986e6ecc37a28c57160d5401"
		"aa35a9ea\"}},\"metrics\":{\"accuracy\":0.9289,\"f1\":0.8261,\"auc\":0.9937,"
		"\"precision\":0.8049,\"recall\":-6.874e-1,\"samples\":608978},\"properties\":"
		"{\"suite\":\"fair\\u00e9\\n\",\"harness\":\"evalkit-3.2\",\"seed\":74487,"
		"\"ok\":[true,false,null]},\"origin\":\"bench.example/ledger\","
		"\"time\":\"2026-12-07T03:04:50Z\"}}";
	static const char bytes[] = "{}[]\":,\\u0-1e.+ \xc3\xa9\x00tfn";
	char buf[2 * sizeof base];
	uint64_t x = 0x9e3779b97f4a7c15u;
	size_t n, i, j, at, edits;

	(void)state;
	for (i = 0; i < 40000; i++) {
		memcpy(buf, base, sizeof base - 1);
		n = sizeof base - 1;
		for (edits = 1 + i % 3; edits > 0; edits--) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			at = (size_t)(x >> 8) % n;
			switch (x % 4) {
			case 0: buf[at] = bytes[(x >> 40) % (sizeof bytes - 1)]; break;
			case 1:
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = bytes[(x >> 40) % (sizeof bytes - 1)];
				n++;
				break;
			case 2: memmove(buf + at, buf + at + 1, n - at - 1), n--; break;
			default:
				j = (size_t)(x >> 32) % 8 + 1;
				if (at + j <= n && n + j < sizeof buf) {
					memmove(buf + at + j, buf + at, n - at);
					n += j;
				}
				break;
			}
		}
		same(buf, n);
	}
	same(base, sizeof base - 1);
}

/* The committed seeds of fuzz_statement, fuzz_envelope, fuzz_import and
 * fuzz_jsonp, which hold real statements, envelopes and request lines. */
static void
test_corpora(void **state)
{
	static const char *dirs[] = {"statement", "envelope", "import", "jsonp"};
	const char *data = getenv("MLLEDGER_TEST_DATA");
	char path[4096];
	size_t d, files = 0;

	(void)state;
	for (d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
		DIR *dir;
		struct dirent *de;

		snprintf(path, sizeof path, "%s/../fuzz/corpus/%s", data ? data : "tests/data",
			 dirs[d]);
		assert_non_null(dir = opendir(path));
		while ((de = readdir(dir))) {
			char file[8192];
			uint8_t *b;
			size_t n;
			FILE *f;

			if (de->d_name[0] == '.')
				continue;
			snprintf(file, sizeof file, "%s/%s", path, de->d_name);
			assert_non_null(f = fopen(file, "rb"));
			assert_non_null(b = malloc(1 << 20));
			n = fread(b, 1, 1 << 20, f);
			fclose(f);
			same(b, n);
			free(b);
			files++;
		}
		closedir(dir);
	}
	assert_true(files > 40);
}

/* ml_statement_parse through jsonp: a real statement still parses, and its
 * rejections keep jansson's message (jsonp has none of its own). */
static void
test_statement_messages(void **state)
{
	static const char dup[] = "{\"_type\":1,\"_type\":2}";
	static const char big[] = "[1e400]";
	struct ml_statement st;
	struct ml_err e;

	(void)state;
	assert_int_equal(ml_statement_parse((const uint8_t *)dup, sizeof dup - 1, &st, &e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "bad JSON at byte"));
	assert_non_null(strstr(e.msg, "duplicate object key"));
	assert_int_equal(ml_statement_parse((const uint8_t *)big, sizeof big - 1, &st, &e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "real number overflow"));
}

/* ml_statement_parse's text check on {"_type":"PRE PAD B"} against
 * ml_text_valid. */
static void
check_text_byte(const char *pre, size_t pad, int b)
{
	struct ml_statement st;
	struct ml_err e;
	char buf[64];
	size_t n;
	int refused;

	n = (size_t)snprintf(buf, sizeof buf, "{\"_type\":\"%s%.*s", pre, (int)pad,
			     "abcdefghijklmnopqrstuvwxyz");
	buf[n++] = (char)b;
	memcpy(buf + n, "\"}", 2);
	n += 2;
	refused = ml_statement_parse((const uint8_t *)buf, n, &st, &e) != ML_OK &&
		  strstr(e.msg, "not valid UTF-8 text") != NULL;
	assert_int_equal(refused, !ml_text_valid(buf, n, "\n\t\r"));
}

/* statement.c's ASCII fast path of the text check refuses exactly what
 * ml_text_valid(.., "\n\t\r") refuses: every byte value at every offset in
 * and after a word, alone and after a multi-byte character, inside a
 * statement-shaped string. */
static void
test_statement_text_check(void **state)
{
	static const char *pre[] = {"", "\xc3\xa9"};
	size_t p, pad;
	int b;

	(void)state;
	for (p = 0; p < 2; p++)
		for (b = 0; b < 256; b++)
			for (pad = 0; pad < 24; pad++) /* every offset in a word and the tail */
				check_text_byte(pre[p], pad, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_nul_quirk),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_exhaustive_short),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_corpora),
		cmocka_unit_test(test_statement_messages),
		cmocka_unit_test(test_statement_text_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

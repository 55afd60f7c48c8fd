/* Unit tests for findings: every output format from one fixture of hostile
 * values (quotes, markup, &, CR/LF, terminal escapes, bidi overrides, bytes
 * that are not UTF-8, C0 controls, non-ASCII, a 70,000-byte message),
 * checked field by field after parsing the output back; JUnit validated
 * against the Ant schema with xmllint and SARIF against the OASIS schema
 * with python3-jsonschema (both from ../shared/schemas, skipped visibly
 * when absent); the digest against a known answer, an independent Python
 * computation, and a change of each field it covers. */
#include "testutil.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "findings.h"

#define JUNIT_XSD "../shared/schemas/junit-ant.xsd"
#define SARIF_SCHEMA "../shared/schemas/sarif-schema-2.1.0.json"

/* ---- the hostile fixture ------------------------------------------------ */

#define FFFD "\xef\xbf\xbd"
#define BIDI "\xe2\x80\xae" /* U+202E RIGHT-TO-LEFT OVERRIDE */
#define ESC "\x1b"

#define SUBJ "fraud \"detector\"@3.1.0 <prod> & co, 100%"
#define SUBJ_GH "fraud \"detector\"@3.1.0 <prod> & co, 100%25"

#define MSG "auc < 0.85 & \"req\"\nnext\r\n::error title=forged::pwned 100% " BIDI " x " \
	ESC "[31mred" ESC "[0m été 日本 🙂 tab\there"
#define MSG_TEXT "auc < 0.85 & \"req\"\\nnext\\r\\n::error title=forged::pwned 100% \\u202e x " \
	"\\x1b[31mred\\x1b[0m été 日本 🙂 tab\\there"
#define MSG_GH "auc < 0.85 & \"req\"%0Anext%0D%0A::error title=forged::pwned 100%25 " BIDI " x " \
	"%1B[31mred%1B[0m été 日本 🙂 tab%09here"
#define MSG_XML "auc < 0.85 & \"req\"\nnext\r\n::error title=forged::pwned 100% " BIDI " x " \
	FFFD "[31mred" FFFD "[0m été 日本 🙂 tab\there"

#define RULE2 "rule:\"x\",%y\n<z>"
#define RULE2_TEXT "rule:\"x\",%y\\n<z>"
#define RULE2_GH "rule%3A\"x\"%2C%25y%0A<z>"

#define REASON "ticket \"SEC-1\" <approved>\nby board & co"
#define REASON_TEXT "ticket \"SEC-1\" <approved>\\nby board & co"
#define REASON_GH "ticket \"SEC-1\" <approved>%0Aby board & co"
#define BY "alice \"a\""

#define BAD "bad \xff\xfe utf8 \x01 ctl"
#define BAD_TEXT "bad \\xff\\xfe utf8 \\x01 ctl"
#define BAD_GH "bad " FFFD FFFD " utf8 %01 ctl"
#define BAD_JSON "bad " FFFD FFFD " utf8 \x01 ctl"
#define BAD_XML "bad " FFFD FFFD " utf8 " FFFD " ctl"

#define TITLE "<script>alert('t&t')</script>"
#define POLICY "prod-gate <\"v\">"
#define SHA "abababababababababababababababababababababababababababababababab"
#define LONG_LEN 70000

static char *
xdup(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	assert_non_null(p);
	return p;
}

static struct ml_finding *
add(struct ml_findings *fs, const char *rule, enum ml_severity sev, enum ml_outcome out,
    const char *subject, const char *message, const int64_t *seqs, size_t nseqs)
{
	struct ml_finding *f;

	fs->items = realloc(fs->items, (fs->n + 1) * sizeof *fs->items);
	assert_non_null(fs->items);
	f = &fs->items[fs->n++];
	memset(f, 0, sizeof *f);
	f->rule_id = xdup(rule);
	f->title = xdup(rule ? TITLE : NULL);
	f->description = xdup("Description of the rule & <why> it matters.");
	f->severity = sev;
	f->outcome = out;
	f->subject = xdup(subject);
	f->message = xdup(message);
	f->waiver_seq = -1;
	if (nseqs) {
		f->seqs = malloc(nseqs * sizeof *f->seqs);
		assert_non_null(f->seqs);
		memcpy(f->seqs, seqs, nseqs * sizeof *seqs);
		f->nseqs = nseqs;
	}
	return f;
}

static void
add_control(struct ml_finding *f, const char *framework, const char *ref)
{
	f->controls = realloc(f->controls, (f->ncontrols + 1) * sizeof *f->controls);
	assert_non_null(f->controls);
	f->controls[f->ncontrols].framework = xdup(framework);
	f->controls[f->ncontrols].ref = xdup(ref);
	f->ncontrols++;
}

static void
set_waiver(struct ml_finding *f, int64_t seq, const char *by, const char *reason,
	   const char *expires, int expired)
{
	f->waiver_seq = seq;
	f->waiver_by = xdup(by);
	f->waiver_reason = xdup(reason);
	f->waiver_expires = xdup(expires);
	f->waiver_expired = expired;
}

static char *
long_message(void)
{
	char *s = malloc(LONG_LEN + 1);

	assert_non_null(s);
	memset(s, 'A', LONG_LEN);
	memcpy(s + LONG_LEN - 8, " <&>\"end", 8);
	s[LONG_LEN] = '\0';
	return s;
}

/* Seven findings: deny fail, warn waived, info indeterminate, deny pass,
 * warn fail with an expired waiver and no subject, info fail, and a pass of
 * the second rule for another subject. */
static void
hostile(struct ml_findings *fs)
{
	static const int64_t s0[] = {13, 17}, s3[] = {13};
	struct ml_finding *f;
	char *lm = long_message();

	memset(fs, 0, sizeof *fs);
	fs->policy_id = xdup(POLICY);
	fs->policy_version = xdup("1.2");
	fs->policy_file = xdup("policies/prod & <x>.xml");
	memcpy(fs->policy_sha256, SHA, 65);
	fs->subject = xdup(SUBJ);
	fs->env = xdup("prod\n");
	fs->as_of = xdup("2026-11-27T07:31:41Z");
	fs->ledger_size = 21;
	fs->ledger_root = xdup("q83vEjRWeJA=");
	fs->verdict = ML_EDENY;

	f = add(fs, "approval.two-person", ML_SEV_DENY, ML_OUT_FAIL, SUBJ, MSG, s0, 2);
	add_control(f, "EU-AI-Act", "Art. 14");
	add_control(f, "ISO-42001", "A.6 & <b>\"");
	f = add(fs, RULE2, ML_SEV_WARN, ML_OUT_WAIVED, SUBJ, "eval stale", NULL, 0);
	set_waiver(f, 21, BY, REASON, "2026-12-31", 0);
	add(fs, "monitor.drift", ML_SEV_INFO, ML_OUT_INDETERMINATE, SUBJ, BAD, NULL, 0);
	add(fs, "model.card", ML_SEV_DENY, ML_OUT_PASS, SUBJ, "card present", s3, 1);
	f = add(fs, "long", ML_SEV_WARN, ML_OUT_FAIL, NULL, lm, NULL, 0);
	set_waiver(f, 30, "bob", "old", "2026-01-01", 1);
	add(fs, "info.fail", ML_SEV_INFO, ML_OUT_FAIL, SUBJ, "note", NULL, 0);
	add(fs, RULE2, ML_SEV_WARN, ML_OUT_PASS, "other@1", "fine", NULL, 0);
	free(lm);
}

/* Writes fs in format f into a fresh NUL-terminated string (caller frees). */
static char *
render(const struct ml_findings *fs, enum ml_format f, size_t *len)
{
	struct ml_buf b = {0};
	struct ml_err e;
	char *s;

	ml_err_clear(&e);
	assert_int_equal(ml_findings_write(fs, f, &b, &e), ML_OK);
	assert_false(b.oom);
	assert_non_null(b.data);
	assert_int_equal(strlen((char *)b.data), b.len); /* no NUL inside */
	s = (char *)b.data;
	if (len)
		*len = b.len;
	return s;
}

/* Splits s at '\n' in place; returns the number of lines (s must end in
 * '\n'). */
static size_t
split_lines(char *s, char **lines, size_t max)
{
	size_t n = 0;
	char *p = s, *nl;

	while ((nl = strchr(p, '\n'))) {
		assert_true(n < max);
		*nl = '\0';
		lines[n++] = p;
		p = nl + 1;
	}
	assert_string_equal(p, ""); /* ended with a newline */
	return n;
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* ---- format names ------------------------------------------------------- */

static void
test_format_parse(void **state)
{
	enum ml_format f = ML_FMT_JSON;

	(void)state;
	assert_int_equal(ml_format_parse("text", &f), 0);
	assert_int_equal(f, ML_FMT_TEXT);
	assert_int_equal(ml_format_parse("json", &f), 0);
	assert_int_equal(f, ML_FMT_JSON);
	assert_int_equal(ml_format_parse("junit", &f), 0);
	assert_int_equal(f, ML_FMT_JUNIT);
	assert_int_equal(ml_format_parse("sarif", &f), 0);
	assert_int_equal(f, ML_FMT_SARIF);
	assert_int_equal(ml_format_parse("github", &f), 0);
	assert_int_equal(f, ML_FMT_GITHUB);
	assert_int_equal(ml_format_parse("gitlab", &f), 0);
	assert_int_equal(f, ML_FMT_GITLAB);

	f = ML_FMT_SARIF;
	assert_int_equal(ml_format_parse("JSON", &f), ML_EINPUT);
	assert_int_equal(ml_format_parse("xml", &f), ML_EINPUT);
	assert_int_equal(ml_format_parse("", &f), ML_EINPUT);
	assert_int_equal(ml_format_parse("text ", &f), ML_EINPUT);
	assert_int_equal(ml_format_parse(NULL, &f), ML_EINPUT);
	assert_int_equal(f, ML_FMT_SARIF); /* untouched on failure */
}

/* ---- text --------------------------------------------------------------- */

static void
test_text_hostile(void **state)
{
	struct ml_findings fs;
	char *out, *lines[16], want[LONG_LEN + 200];
	size_t n, len;

	(void)state;
	hostile(&fs);
	out = render(&fs, ML_FMT_TEXT, &len);
	/* Nothing that could restyle a terminal or reorder a line survives. */
	assert_null(memchr(out, '\x1b', len));
	assert_null(memchr(out, '\r', len));
	assert_null(strstr(out, BIDI));
	assert_null(strstr(out, "card present")); /* passes are not listed */
	assert_null(strstr(out, "fine"));

	n = split_lines(out, lines, 16);
	assert_int_equal(n, 6);
	assert_string_equal(lines[0], "DENY approval.two-person " SUBJ ": " MSG_TEXT);
	assert_string_equal(lines[1], "WARN " RULE2_TEXT " " SUBJ ": eval stale [WAIVED by " BY
				      " until 2026-12-31, seq 21: " REASON_TEXT "]");
	assert_string_equal(lines[2], "INFO monitor.drift " SUBJ ": " BAD_TEXT " [INDETERMINATE]");
	memcpy(want, "WARN long -: ", 13);
	memset(want + 13, 'A', LONG_LEN - 8);
	snprintf(want + 13 + LONG_LEN - 8, sizeof want - (13 + LONG_LEN - 8),
		 " <&>\"end [waiver expired: by bob until 2026-01-01, seq 30: old]");
	assert_string_equal(lines[3], want);
	assert_string_equal(lines[4], "INFO info.fail " SUBJ ": note");
	assert_string_equal(lines[5], "gate: DENY \xe2\x80\x94 7 rules, 3 failed (deny 1, warn 1, "
				      "info 1), 1 waived, 1 indeterminate; policy " POLICY
				      " 1.2 sha256:" SHA);
	free(out);
	ml_findings_free(&fs);
}

static void
test_verdict_words(void **state)
{
	static const struct {
		int verdict;
		const char *word, *json;
	} cases[] = {
		{ML_OK, "PASS", "pass"},
		{ML_EDENY, "DENY", "deny"},
		{ML_EPOLICY, "INDETERMINATE", "indeterminate"},
		{ML_EIO, "INDETERMINATE", "indeterminate"}, /* anything else: fail closed */
	};
	struct ml_findings fs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out, prefix[64];
		json_t *root;
		json_error_t je;

		hostile(&fs);
		fs.verdict = cases[i].verdict;
		out = render(&fs, ML_FMT_TEXT, NULL);
		snprintf(prefix, sizeof prefix, "\ngate: %s \xe2\x80\x94 7 rules", cases[i].word);
		assert_non_null(strstr(out, prefix));
		free(out);

		out = render(&fs, ML_FMT_GITHUB, NULL);
		assert_non_null(strstr(out, prefix));
		free(out);

		out = render(&fs, ML_FMT_JSON, NULL);
		root = json_loads(out, 0, &je);
		assert_non_null(root);
		assert_string_equal(json_string_value(json_object_get(root, "verdict")), cases[i].json);
		json_decref(root);
		free(out);

		/* `check` findings have no subject: the summary says so. */
		free(fs.subject);
		fs.subject = NULL;
		out = render(&fs, ML_FMT_TEXT, NULL);
		snprintf(prefix, sizeof prefix, "\ncheck: %s \xe2\x80\x94 7 rules", cases[i].word);
		assert_non_null(strstr(out, prefix));
		assert_null(strstr(out, "gate:"));
		free(out);
		ml_findings_free(&fs);
	}
}

/* ---- github ------------------------------------------------------------- */

static void
test_github_hostile(void **state)
{
	struct ml_findings fs;
	char *out, *lines[16], want[LONG_LEN + 200];
	size_t n, len, i;

	(void)state;
	hostile(&fs);
	out = render(&fs, ML_FMT_GITHUB, &len);
	assert_null(memchr(out, '\r', len));
	assert_null(memchr(out, '\x1b', len));
	assert_null(memchr(out, '\x01', len));
	n = split_lines(out, lines, 16);
	assert_int_equal(n, 6);
	/* Only our own commands start lines: the forged one stays inside data. */
	for (i = 0; i + 1 < n; i++)
		assert_memory_equal(lines[i], "::", 2);
	assert_string_equal(lines[0], "::error title=approval.two-person::" SUBJ_GH ": " MSG_GH);
	assert_string_equal(lines[1], "::notice title=" RULE2_GH "::" SUBJ_GH ": eval stale (waived by "
				      BY " until 2026-12-31, seq 21: " REASON_GH ")");
	assert_string_equal(lines[2], "::error title=monitor.drift::" SUBJ_GH ": " BAD_GH
				      " (indeterminate)");
	memcpy(want, "::warning title=long::-: ", 25);
	memset(want + 25, 'A', LONG_LEN - 8);
	snprintf(want + 25 + LONG_LEN - 8, sizeof want - (25 + LONG_LEN - 8),
		 " <&>\"end (waiver expired: by bob until 2026-01-01, seq 30: old)");
	assert_string_equal(lines[3], want);
	assert_string_equal(lines[4], "::notice title=info.fail::" SUBJ_GH ": note");
	assert_string_equal(lines[5], "gate: DENY \xe2\x80\x94 7 rules, 3 failed (deny 1, warn 1, "
				      "info 1), 1 waived, 1 indeterminate; policy " POLICY
				      " 1.2 sha256:" SHA);
	free(out);

	/* Waived is a notice whatever the severity. */
	fs.items[1].severity = ML_SEV_DENY;
	out = render(&fs, ML_FMT_GITHUB, NULL);
	assert_non_null(strstr(out, "\n::notice title=" RULE2_GH "::"));
	free(out);
	ml_findings_free(&fs);
}

/* ---- json --------------------------------------------------------------- */

static const char *
jget_str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static long long
jget_int(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void
test_json_hostile(void **state)
{
	static const char *const top[] = {"schemaVersion", "policy", "policies", "subject", "env", "asOf",
					  "ledger", "verdict", "findings", "summary", "findingsDigest"};
	static const char *const fkeys[] = {"ruleId", "title", "description", "severity", "outcome",
					    "subject", "message", "seqs", "controls"};
	struct ml_findings fs;
	json_t *root, *p, *arr, *f, *c, *w, *sum, *by;
	json_error_t je;
	const char *k;
	json_t *v;
	char *out;
	size_t i;

	(void)state;
	hostile(&fs);
	out = render(&fs, ML_FMT_JSON, NULL);
	root = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(root);

	/* Documented keys, in the documented order. */
	i = 0;
	json_object_foreach(root, k, v) {
		assert_true(i < sizeof top / sizeof top[0]);
		assert_string_equal(k, top[i]);
		i++;
	}
	assert_int_equal(i, sizeof top / sizeof top[0]);

	assert_int_equal(jget_int(root, "schemaVersion"), 1);
	p = json_object_get(root, "policy");
	assert_string_equal(jget_str(p, "id"), POLICY);
	assert_string_equal(jget_str(p, "version"), "1.2");
	assert_string_equal(jget_str(p, "file"), "policies/prod & <x>.xml");
	assert_string_equal(jget_str(p, "sha256"), SHA);
	assert_string_equal(jget_str(root, "subject"), SUBJ);
	assert_string_equal(jget_str(root, "env"), "prod\n");
	assert_string_equal(jget_str(root, "asOf"), "2026-11-27T07:31:41Z");
	assert_int_equal(jget_int(json_object_get(root, "ledger"), "size"), 21);
	assert_string_equal(jget_str(json_object_get(root, "ledger"), "root"), "q83vEjRWeJA=");
	assert_string_equal(jget_str(root, "verdict"), "deny");

	arr = json_object_get(root, "findings");
	assert_int_equal(json_array_size(arr), 7);
	for (i = 0; i < 7; i++) {
		size_t j = 0;
		f = json_array_get(arr, i);
		json_object_foreach(f, k, v) {
			if (j < sizeof fkeys / sizeof fkeys[0])
				assert_string_equal(k, fkeys[j]);
			else
				assert_string_equal(k, "waiver");
			j++;
		}
		assert_int_equal(j, fs.items[i].waiver_seq >= 0 ? 10 : 9);
	}

	f = json_array_get(arr, 0);
	assert_string_equal(jget_str(f, "ruleId"), "approval.two-person");
	assert_string_equal(jget_str(f, "title"), TITLE);
	assert_string_equal(jget_str(f, "severity"), "deny");
	assert_string_equal(jget_str(f, "outcome"), "fail");
	assert_string_equal(jget_str(f, "subject"), SUBJ);
	assert_string_equal(jget_str(f, "message"), MSG); /* every byte kept */
	assert_int_equal(json_array_size(json_object_get(f, "seqs")), 2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(f, "seqs"), 0)), 13);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(f, "seqs"), 1)), 17);
	c = json_object_get(f, "controls");
	assert_int_equal(json_array_size(c), 2);
	assert_string_equal(jget_str(json_array_get(c, 1), "framework"), "ISO-42001");
	assert_string_equal(jget_str(json_array_get(c, 1), "ref"), "A.6 & <b>\"");
	assert_null(json_object_get(f, "waiver"));

	f = json_array_get(arr, 1);
	assert_string_equal(jget_str(f, "ruleId"), RULE2);
	assert_string_equal(jget_str(f, "severity"), "warn");
	assert_string_equal(jget_str(f, "outcome"), "waived");
	assert_int_equal(json_array_size(json_object_get(f, "seqs")), 0);
	w = json_object_get(f, "waiver");
	assert_int_equal(jget_int(w, "seq"), 21);
	assert_string_equal(jget_str(w, "by"), BY);
	assert_string_equal(jget_str(w, "reason"), REASON);
	assert_string_equal(jget_str(w, "expires"), "2026-12-31");
	assert_true(json_is_false(json_object_get(w, "expired")));

	f = json_array_get(arr, 2);
	assert_string_equal(jget_str(f, "severity"), "info");
	assert_string_equal(jget_str(f, "outcome"), "indeterminate");
	assert_string_equal(jget_str(f, "message"), BAD_JSON); /* not UTF-8: U+FFFD */

	f = json_array_get(arr, 3);
	assert_string_equal(jget_str(f, "outcome"), "pass");

	f = json_array_get(arr, 4);
	assert_true(json_is_null(json_object_get(f, "subject")));
	assert_int_equal(strlen(jget_str(f, "message")), LONG_LEN);
	assert_string_equal(jget_str(f, "message"), fs.items[4].message);
	assert_true(json_is_true(json_object_get(json_object_get(f, "waiver"), "expired")));

	sum = json_object_get(root, "summary");
	assert_int_equal(jget_int(sum, "findings"), 7);
	assert_int_equal(jget_int(sum, "passed"), 2);
	assert_int_equal(jget_int(sum, "failed"), 3);
	by = json_object_get(sum, "failedBySeverity");
	assert_int_equal(jget_int(by, "deny"), 1);
	assert_int_equal(jget_int(by, "warn"), 1);
	assert_int_equal(jget_int(by, "info"), 1);
	assert_int_equal(jget_int(sum, "waived"), 1);
	assert_int_equal(jget_int(sum, "indeterminate"), 1);

	json_decref(root);
	free(out);
	ml_findings_free(&fs);
}

/* ---- junit -------------------------------------------------------------- */

static xmlNodePtr
next_el(xmlNodePtr n)
{
	while (n && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

static xmlNodePtr
first_el(xmlNodePtr parent)
{
	return next_el(parent->children);
}

static void
assert_prop(xmlNodePtr n, const char *name, const char *want)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);

	assert_non_null(v);
	assert_string_equal((char *)v, want);
	xmlFree(v);
}

static void
assert_content(xmlNodePtr n, const char *needle)
{
	xmlChar *v = xmlNodeGetContent(n);

	assert_non_null(v);
	assert_non_null(strstr((char *)v, needle));
	xmlFree(v);
}

static void
test_junit_hostile(void **state)
{
	struct ml_findings fs;
	xmlDocPtr doc;
	xmlNodePtr root, suite, n, tc, el;
	char *out;
	size_t len, i, props = 0;

	(void)state;
	hostile(&fs);
	out = render(&fs, ML_FMT_JUNIT, &len);
	/* Markup in values is escaped, never live. */
	assert_null(strstr(out, "<script>"));
	assert_non_null(strstr(out, "&lt;script&gt;"));
	assert_null(strstr(out, "<z>"));

	doc = xmlReadMemory(out, (int)len, "junit.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "testsuites");
	suite = first_el(root);
	assert_non_null(suite);
	assert_string_equal((const char *)suite->name, "testsuite");
	assert_null(next_el(suite->next));
	assert_prop(suite, "name", "mlledger " POLICY);
	assert_prop(suite, "tests", "7");
	assert_prop(suite, "failures", "3");
	assert_prop(suite, "errors", "1");
	assert_prop(suite, "skipped", "1");
	assert_prop(suite, "timestamp", "2026-11-27T07:31:41");
	assert_prop(suite, "hostname", "localhost");

	n = first_el(suite);
	assert_string_equal((const char *)n->name, "properties");
	for (el = first_el(n); el; el = next_el(el->next)) {
		xmlChar *name = xmlGetProp(el, (const xmlChar *)"name");
		assert_non_null(name);
		if (strcmp((char *)name, "env") == 0)
			assert_prop(el, "value", "prod\n");
		if (strcmp((char *)name, "policy.id") == 0)
			assert_prop(el, "value", POLICY);
		if (strcmp((char *)name, "subject") == 0)
			assert_prop(el, "value", SUBJ);
		if (strcmp((char *)name, "verdict") == 0)
			assert_prop(el, "value", "deny");
		xmlFree(name);
		props++;
	}
	assert_int_equal(props, 10);

	tc = next_el(n->next);
	for (i = 0; i < 7; i++, tc = next_el(tc->next)) {
		const struct ml_finding *f = &fs.items[i];
		assert_non_null(tc);
		assert_string_equal((const char *)tc->name, "testcase");
		assert_prop(tc, "classname", f->rule_id);
		assert_prop(tc, "name", f->subject ? f->subject : "-");
		el = first_el(tc);
		switch (f->outcome) {
		case ML_OUT_PASS:
			assert_null(el);
			continue;
		case ML_OUT_FAIL:
			assert_string_equal((const char *)el->name, "failure");
			assert_prop(el, "type", i == 0 ? "deny" : i == 4 ? "warn" : "info");
			break;
		case ML_OUT_WAIVED:
			assert_string_equal((const char *)el->name, "skipped");
			assert_prop(el, "message", "waived by " BY " until 2026-12-31, seq 21: " REASON);
			break;
		default:
			assert_string_equal((const char *)el->name, "error");
			assert_prop(el, "type", "indeterminate");
			assert_prop(el, "message", BAD_XML);
			break;
		}
		assert_null(next_el(el->next));
		assert_content(el, TITLE);
		assert_content(el, "rule: ");
	}
	/* After the testcases: system-out with the summary, then system-err. */
	assert_non_null(tc);
	assert_string_equal((const char *)tc->name, "system-out");
	assert_content(tc, "gate: DENY \xe2\x80\x94 7 rules");
	tc = next_el(tc->next);
	assert_string_equal((const char *)tc->name, "system-err");
	assert_null(next_el(tc->next));

	/* testcase 0: attribute and body keep CR, LF, tab and quotes. */
	tc = next_el(n->next);
	assert_prop(first_el(tc), "message", MSG_XML);
	assert_content(first_el(tc), "message: " MSG_XML);
	assert_content(first_el(tc), "controls: EU-AI-Act Art. 14; ISO-42001 A.6 & <b>\"");
	assert_content(first_el(tc), "seqs: 13 17");

	xmlFreeDoc(doc);
	free(out);
	ml_findings_free(&fs);
}

static int
have_shared(const char *what)
{
	if (access(what, R_OK) != 0) {
		print_message("SKIP: ../shared absent (%s)\n", what);
		return 0;
	}
	return 1;
}

static int
xmllint_valid(const char *path, int quiet)
{
	char cmd[4400];

	snprintf(cmd, sizeof cmd, "xmllint --noout --schema " JUNIT_XSD " '%s' >/dev/null 2>&1",
		 path);
	if (system(cmd) == 0)
		return 1;
	if (!quiet) { /* again, to show why */
		snprintf(cmd, sizeof cmd, "xmllint --noout --schema " JUNIT_XSD " '%s'", path);
		int rc = system(cmd);
		(void)rc;
	}
	return 0;
}

static void
test_junit_schema(void **state)
{
	struct ml_findings fs, empty;
	char dir[4096], path[4200], *out, *bad;
	size_t len;

	(void)state;
	if (!have_shared(JUNIT_XSD))
		skip();
	if (system("command -v xmllint >/dev/null 2>&1") != 0) {
		print_message("SKIP: xmllint missing (apt-get install -y libxml2-utils)\n");
		skip();
	}
	tu_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/junit.xml", dir);

	hostile(&fs);
	out = render(&fs, ML_FMT_JUNIT, &len);
	write_file(path, out, len);
	assert_true(xmllint_valid(path, 0));

	/* The validator is not vacuous: without hostname the file fails. */
	bad = strstr(out, " hostname=\"localhost\"");
	assert_non_null(bad);
	memmove(bad, bad + 21, strlen(bad + 21) + 1);
	write_file(path, out, strlen(out));
	assert_false(xmllint_valid(path, 1));
	free(out);

	/* No subject, no timestamp, nothing but NULLs. */
	memset(&empty, 0, sizeof empty);
	out = render(&empty, ML_FMT_JUNIT, &len);
	assert_non_null(strstr(out, "timestamp=\"1970-01-01T00:00:00\""));
	assert_non_null(strstr(out, "tests=\"0\""));
	write_file(path, out, len);
	assert_true(xmllint_valid(path, 0));
	free(out);

	/* A malformed asOf falls back to the epoch and still validates. */
	free(fs.as_of);
	fs.as_of = xdup("yesterday\n<>");
	out = render(&fs, ML_FMT_JUNIT, &len);
	assert_non_null(strstr(out, "timestamp=\"1970-01-01T00:00:00\""));
	write_file(path, out, len);
	assert_true(xmllint_valid(path, 0));
	free(out);

	ml_findings_free(&fs);
	tu_rmtree(dir);
}

/* ---- sarif -------------------------------------------------------------- */

static void
test_sarif_hostile(void **state)
{
	struct ml_findings fs;
	json_t *root, *run, *driver, *rules, *results, *r, *props, *sup, *ll, *phys;
	json_error_t je;
	char *out;

	(void)state;
	hostile(&fs);
	out = render(&fs, ML_FMT_SARIF, NULL);
	root = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(root);
	assert_string_equal(jget_str(root, "version"), "2.1.0");
	assert_int_equal(json_array_size(json_object_get(root, "runs")), 1);
	run = json_array_get(json_object_get(root, "runs"), 0);
	driver = json_object_get(json_object_get(run, "tool"), "driver");
	assert_string_equal(jget_str(driver, "name"), "mlledger");
	assert_non_null(strstr(jget_str(driver, "informationUri"), "https://"));
	assert_true(strlen(jget_str(driver, "version")) > 0);

	/* One rule per rule id, in order of first appearance. */
	rules = json_object_get(driver, "rules");
	assert_int_equal(json_array_size(rules), 6);
	r = json_array_get(rules, 0);
	assert_string_equal(jget_str(r, "id"), "approval.two-person");
	assert_string_equal(jget_str(json_object_get(r, "shortDescription"), "text"), TITLE);
	assert_string_equal(jget_str(json_object_get(r, "fullDescription"), "text"),
			    "Description of the rule & <why> it matters.");
	assert_string_equal(jget_str(json_object_get(r, "defaultConfiguration"), "level"), "error");
	props = json_object_get(r, "properties");
	assert_string_equal(jget_str(props, "severity"), "deny");
	assert_int_equal(json_array_size(json_object_get(props, "controls")), 2);
	assert_string_equal(jget_str(json_array_get(json_object_get(props, "controls"), 0), "ref"),
			    "Art. 14");
	assert_string_equal(jget_str(json_array_get(rules, 1), "id"), RULE2);

	/* help text and the controls as tags (code scanning) */
	assert_string_equal(jget_str(json_object_get(r, "help"), "text"),
			    "Description of the rule & <why> it matters.");
	assert_int_equal(json_array_size(json_object_get(props, "tags")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(props, "tags"), 1)),
			    "EU-AI-Act Art. 14");

	/* no passing results by default */
	results = json_object_get(run, "results");
	assert_int_equal(json_array_size(results), 5);

	r = json_array_get(results, 0); /* deny fail */
	assert_string_equal(jget_str(r, "ruleId"), "approval.two-person");
	assert_int_equal(jget_int(r, "ruleIndex"), 0);
	assert_string_equal(jget_str(r, "kind"), "fail");
	assert_string_equal(jget_str(r, "level"), "error");
	assert_string_equal(jget_str(json_object_get(r, "message"), "text"), MSG);
	ll = json_array_get(json_object_get(json_array_get(json_object_get(r, "locations"), 0),
					    "logicalLocations"), 0);
	assert_string_equal(jget_str(ll, "name"), SUBJ);
	/* the policy file, percent-encoded, at line 1 (no line noted) */
	phys = json_object_get(json_array_get(json_object_get(r, "locations"), 0),
			       "physicalLocation");
	assert_string_equal(jget_str(json_object_get(phys, "artifactLocation"), "uri"),
			    "policies/prod%20%26%20%3Cx%3E.xml");
	assert_int_equal(jget_int(json_object_get(phys, "region"), "startLine"), 1);
	assert_int_equal(strlen(jget_str(json_object_get(r, "partialFingerprints"),
					 "mlledgerFinding/v1")), 64);
	assert_null(json_object_get(r, "suppressions"));
	props = json_object_get(r, "properties");
	assert_string_equal(jget_str(props, "outcome"), "fail");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(props, "seqs"), 1)), 17);

	r = json_array_get(results, 1); /* warn waived */
	assert_int_equal(jget_int(r, "ruleIndex"), 1);
	assert_string_equal(jget_str(r, "kind"), "fail");
	assert_string_equal(jget_str(r, "level"), "warning");
	assert_int_equal(json_array_size(json_object_get(r, "suppressions")), 1);
	sup = json_array_get(json_object_get(r, "suppressions"), 0);
	assert_string_equal(jget_str(sup, "kind"), "external");
	assert_string_equal(jget_str(sup, "status"), "accepted");
	assert_string_equal(jget_str(sup, "justification"), REASON);
	props = json_object_get(r, "properties");
	assert_string_equal(jget_str(props, "outcome"), "waived");
	assert_string_equal(jget_str(json_object_get(props, "waiver"), "by"), BY);
	assert_int_equal(jget_int(json_object_get(props, "waiver"), "seq"), 21);

	r = json_array_get(results, 2); /* info indeterminate */
	assert_string_equal(jget_str(r, "kind"), "open");
	assert_string_equal(jget_str(r, "level"), "none");
	assert_string_equal(jget_str(json_object_get(r, "message"), "text"), BAD_JSON);
	assert_string_equal(jget_str(json_object_get(r, "properties"), "severity"), "info");

	r = json_array_get(results, 3); /* warn fail, expired waiver, no subject */
	assert_string_equal(jget_str(r, "kind"), "fail");
	assert_string_equal(jget_str(r, "level"), "warning");
	assert_null(json_object_get(json_array_get(json_object_get(r, "locations"), 0),
				    "logicalLocations"));
	assert_non_null(json_object_get(json_array_get(json_object_get(r, "locations"), 0),
					"physicalLocation"));
	assert_null(json_object_get(r, "suppressions"));
	assert_true(json_is_true(json_object_get(
		json_object_get(json_object_get(r, "properties"), "waiver"), "expired")));

	r = json_array_get(results, 4); /* info fail */
	assert_string_equal(jget_str(r, "level"), "note");

	props = json_object_get(run, "properties");
	assert_string_equal(jget_str(props, "verdict"), "deny");
	assert_string_equal(jget_str(json_object_get(props, "policy"), "id"), POLICY);
	assert_int_equal(jget_int(json_object_get(props, "summary"), "waived"), 1);

	json_decref(root);
	free(out);
	ml_findings_free(&fs);
}

static void two_policies(struct ml_findings *fs);

static int
sarif_valid(const char *dir, const char *path, int quiet)
{
	char script[4200], cmd[9000];

	snprintf(script, sizeof script, "%s/validate.py", dir);
	if (access(script, R_OK) != 0) {
		static const char py[] =
			"import json, sys, jsonschema\n"
			"schema = json.load(open(sys.argv[1], encoding='utf-8'))\n"
			"doc = json.load(open(sys.argv[2], encoding='utf-8'))\n"
			"jsonschema.Draft4Validator.check_schema(schema)\n"
			"jsonschema.Draft4Validator(schema).validate(doc)\n";
		write_file(script, py, sizeof py - 1);
	}
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' " SARIF_SCHEMA " '%s'%s", script, path,
		 quiet ? " >/dev/null 2>&1" : "");
	return system(cmd) == 0;
}

static void
test_sarif_schema(void **state)
{
	struct ml_findings fs, empty;
	char dir[4096], path[4200], *out, *bad;
	size_t len;

	(void)state;
	if (!have_shared(SARIF_SCHEMA))
		skip();
	if (system("/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1") != 0) {
		print_message("SKIP: python3 jsonschema missing (apt-get install -y python3-jsonschema)\n");
		skip();
	}
	tu_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/out.sarif", dir);

	hostile(&fs);
	out = render(&fs, ML_FMT_SARIF, &len);
	write_file(path, out, len);
	assert_true(sarif_valid(dir, path, 0));

	/* The validator is not vacuous: an unknown kind fails. */
	bad = strstr(out, "\"kind\": \"open\"");
	assert_non_null(bad);
	memcpy(bad, "\"kind\": \"oops\"", 14);
	write_file(path, out, len);
	assert_false(sarif_valid(dir, path, 1));
	free(out);

	/* several policies, every result (--sarif-all) */
	{
		struct ml_findings_opts o = {.all = 1};
		struct ml_findings two;
		struct ml_buf b = {0};
		struct ml_err e;
		two_policies(&two);
		assert_int_equal(ml_findings_write_opts(&two, ML_FMT_SARIF, &o, &b, &e), ML_OK);
		write_file(path, (const char *)b.data, b.len);
		assert_true(sarif_valid(dir, path, 0));
		ml_buf_free(&b);
		ml_findings_free(&two);
	}

	memset(&empty, 0, sizeof empty);
	out = render(&empty, ML_FMT_SARIF, &len);
	write_file(path, out, len);
	assert_true(sarif_valid(dir, path, 0));
	free(out);

	ml_findings_free(&fs);
	tu_rmtree(dir);
}

/* ---- empty findings ----------------------------------------------------- */

static void
test_empty(void **state)
{
	struct ml_findings fs;
	json_t *root, *run;
	json_error_t je;
	char *out;

	(void)state;
	memset(&fs, 0, sizeof fs); /* n 0, items NULL, every string NULL */
	out = render(&fs, ML_FMT_TEXT, NULL);
	assert_string_equal(out, "check: PASS \xe2\x80\x94 0 rules, 0 failed (deny 0, warn 0, info 0), "
				 "0 waived, 0 indeterminate; policy - - sha256:-\n");
	free(out);
	out = render(&fs, ML_FMT_GITHUB, NULL);
	assert_string_equal(out, "check: PASS \xe2\x80\x94 0 rules, 0 failed (deny 0, warn 0, info 0), "
				 "0 waived, 0 indeterminate; policy - - sha256:-\n");
	free(out);

	out = render(&fs, ML_FMT_JSON, NULL);
	root = json_loads(out, 0, &je);
	assert_non_null(root);
	assert_true(json_is_array(json_object_get(root, "findings")));
	assert_int_equal(json_array_size(json_object_get(root, "findings")), 0);
	assert_true(json_is_null(json_object_get(root, "subject")));
	assert_true(json_is_null(json_object_get(json_object_get(root, "policy"), "id")));
	assert_true(json_is_null(json_object_get(json_object_get(root, "policy"), "sha256")));
	assert_string_equal(jget_str(root, "verdict"), "pass");
	assert_int_equal(jget_int(json_object_get(root, "summary"), "findings"), 0);
	json_decref(root);
	free(out);

	out = render(&fs, ML_FMT_SARIF, NULL);
	root = json_loads(out, 0, &je);
	assert_non_null(root);
	run = json_array_get(json_object_get(root, "runs"), 0);
	assert_int_equal(json_array_size(json_object_get(run, "results")), 0);
	assert_int_equal(json_array_size(json_object_get(
		json_object_get(json_object_get(run, "tool"), "driver"), "rules")), 0);
	json_decref(root);
	free(out);

	out = render(&fs, ML_FMT_JUNIT, NULL);
	assert_non_null(strstr(out, "<testsuites>"));
	assert_non_null(strstr(out, "tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\""));
	assert_null(strstr(out, "<testcase"));
	free(out);

	/* A gate where every rule passed lists nothing but the summary. */
	hostile(&fs);
	for (size_t i = 0; i < fs.n; i++)
		fs.items[i].outcome = ML_OUT_PASS;
	fs.verdict = ML_OK;
	out = render(&fs, ML_FMT_TEXT, NULL);
	assert_string_equal(out, "gate: PASS \xe2\x80\x94 7 rules, 0 failed (deny 0, warn 0, info 0), "
				 "0 waived, 0 indeterminate; policy " POLICY " 1.2 sha256:" SHA "\n");
	free(out);
	ml_findings_free(&fs);
}

/* ---- the writer's contract ---------------------------------------------- */

static void
test_write_contract(void **state)
{
	struct ml_findings fs;
	struct ml_buf b = {0};
	struct ml_err e;
	size_t before;
	int f;

	(void)state;
	hostile(&fs);
	/* Appends: what was in the buffer stays. */
	for (f = ML_FMT_TEXT; f <= ML_FMT_GITLAB; f++) {
		ml_buf_free(&b);
		ml_buf_puts(&b, "PREFIX|");
		assert_int_equal(ml_findings_write(&fs, (enum ml_format)f, &b, &e), ML_OK);
		assert_memory_equal(b.data, "PREFIX|", 7);
		assert_true(b.len > 7);
	}
	/* Errors leave the buffer as it was. */
	before = b.len;
	ml_err_clear(&e);
	assert_int_equal(ml_findings_write(&fs, (enum ml_format)99, &b, &e), ML_EINPUT);
	assert_int_equal(e.code, ML_EINPUT);
	assert_true(strlen(e.msg) > 0);
	assert_int_equal(b.len, before);
	assert_int_equal(ml_findings_write(NULL, ML_FMT_TEXT, &b, &e), ML_EINPUT);
	assert_int_equal(ml_findings_write(&fs, ML_FMT_TEXT, NULL, &e), ML_EINPUT);
	assert_int_equal(ml_findings_write(&fs, ML_FMT_TEXT, &b, NULL), ML_OK); /* e optional */
	b.oom = 1;
	before = b.len;
	assert_int_equal(ml_findings_write(&fs, ML_FMT_JSON, &b, &e), ML_EIO);
	assert_int_equal(b.len, before);
	ml_buf_free(&b);

	/* free: NULL is fine; afterwards the struct is zeroed for reuse. */
	ml_findings_free(NULL);
	ml_findings_free(&fs);
	assert_null(fs.items);
	assert_int_equal(fs.n, 0);
	assert_null(fs.policy_id);
	assert_int_equal(fs.verdict, ML_OK);
	assert_int_equal(fs.ledger_size, 0);
	ml_findings_free(&fs); /* twice is harmless */
}

/* ---- digest ------------------------------------------------------------- */

/* Linked with --wrap=ml_sha256_new (Makefile): fail_hash makes the next
 * hash context "out of memory". */
static int fail_hash;
struct ml_sha256_ctx *__real_ml_sha256_new(void);
struct ml_sha256_ctx *__wrap_ml_sha256_new(void);
struct ml_sha256_ctx *
__wrap_ml_sha256_new(void)
{
	if (fail_hash) {
		fail_hash = 0;
		return NULL;
	}
	return __real_ml_sha256_new();
}

static void
digest_of(const struct ml_findings *fs, uint8_t out[ML_SHA256_LEN])
{
	assert_int_equal(ml_findings_digest(fs, out), ML_OK);
}

/* Out of memory is an error, never an all-zero "digest" a gate decision
 * would sign. */
static void
test_digest_out_of_memory(void **state)
{
	uint8_t out[ML_SHA256_LEN];

	(void)state;
	fail_hash = 1;
	assert_int_equal(ml_findings_digest(NULL, out), ML_EIO);
	assert_int_equal(fail_hash, 0); /* the wrapper was reached */
	digest_of(NULL, out);
}

static void
test_digest_known_answer(void **state)
{
	static const int64_t seqs[] = {3, 10};
	static const char canon[] =
		"[{\"message\":\"a\\\"b\\\\c\\n\\u0001\\u001f\x7f é/\",\"outcome\":\"fail\","
		"\"ruleId\":\"r1\",\"seqs\":[3,10],\"subject\":\"m@1\"},"
		"{\"message\":null,\"outcome\":\"indeterminate\",\"ruleId\":\"r2\",\"seqs\":[],"
		"\"subject\":null}]";
	struct ml_findings fs, empty;
	uint8_t got[ML_SHA256_LEN], want[ML_SHA256_LEN];

	(void)state;
	memset(&fs, 0, sizeof fs);
	add(&fs, "r1", ML_SEV_DENY, ML_OUT_FAIL, "m@1", "a\"b\\c\n\x01\x1f\x7f é/", seqs, 2);
	add(&fs, "r2", ML_SEV_INFO, ML_OUT_INDETERMINATE, NULL, NULL, NULL, 0);
	ml_sha256(canon, sizeof canon - 1, want);
	digest_of(&fs, got);
	assert_memory_equal(got, want, ML_SHA256_LEN);
	ml_findings_free(&fs);

	memset(&empty, 0, sizeof empty);
	ml_sha256("[]", 2, want);
	digest_of(&empty, got);
	assert_memory_equal(got, want, ML_SHA256_LEN);
	digest_of(NULL, got);
	assert_memory_equal(got, want, ML_SHA256_LEN);
}

static void
test_digest_stable_and_sensitive(void **state)
{
	struct ml_findings a, b;
	uint8_t base[ML_SHA256_LEN], d[ML_SHA256_LEN], seen[16][ML_SHA256_LEN];
	size_t nseen = 0, i, j;
	struct ml_finding tmp;

	(void)state;
	hostile(&a);
	hostile(&b);
	digest_of(&a, base);
	digest_of(&a, d);
	assert_memory_equal(base, d, ML_SHA256_LEN); /* stable */
	digest_of(&b, d);
	assert_memory_equal(base, d, ML_SHA256_LEN); /* a separate copy agrees */

	/* Fields outside the digest do not move it. */
	free(b.items[0].title);
	b.items[0].title = xdup("other");
	free(b.items[0].description);
	b.items[0].description = NULL;
	b.items[0].severity = ML_SEV_INFO;
	free(b.items[0].controls[0].ref);
	b.items[0].controls[0].ref = xdup("Art. 15");
	b.items[1].waiver_seq = 99;
	free(b.policy_id);
	b.policy_id = xdup("other");
	b.verdict = ML_OK;
	b.ledger_size = 1000;
	digest_of(&b, d);
	assert_memory_equal(base, d, ML_SHA256_LEN);
	ml_findings_free(&b);

	/* Each covered field, changed alone, gives a digest not seen before. */
	memcpy(seen[nseen++], base, ML_SHA256_LEN);
	for (i = 0; i < 9; i++) {
		hostile(&b);
		switch (i) {
		case 0:
			b.items[0].rule_id[0] ^= 1;
			break;
		case 1:
			b.items[0].subject[0] ^= 1;
			break;
		case 2:
			b.items[0].outcome = ML_OUT_WAIVED;
			break;
		case 3:
			b.items[0].message[strlen(b.items[0].message) - 1] ^= 1;
			break;
		case 4:
			b.items[0].seqs[1] = 18;
			break;
		case 5:
			b.items[0].nseqs = 1; /* one seq fewer */
			break;
		case 6:
			tmp = b.items[0]; /* order */
			b.items[0] = b.items[1];
			b.items[1] = tmp;
			break;
		case 7:
			b.items[4].subject = xdup("null"); /* was NULL: null and "null" differ */
			break;
		case 8:
			b.n--; /* one finding fewer */
			break;
		}
		digest_of(&b, d);
		for (j = 0; j < nseen; j++)
			assert_memory_not_equal(d, seen[j], ML_SHA256_LEN);
		memcpy(seen[nseen++], d, ML_SHA256_LEN);
		if (i == 8)
			b.n++;
		ml_findings_free(&b);
	}
	ml_findings_free(&a);
}

/* The digest equals an independent computation: Python's canonical
 * json.dumps (sorted keys, compact, UTF-8) of the json writer's findings. */
static void
test_digest_matches_python(void **state)
{
	static const char py[] =
		"import hashlib, json, sys\n"
		"d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
		"c = [{k: f[k] for k in ('ruleId', 'subject', 'outcome', 'message', 'seqs')}\n"
		"     for f in d['findings']]\n"
		"s = json.dumps(c, sort_keys=True, separators=(',', ':'), ensure_ascii=False)\n"
		"open(sys.argv[2], 'w').write(hashlib.sha256(s.encode('utf-8')).hexdigest())\n";
	struct ml_findings fs;
	char dir[4096], jpath[4200], spath[4200], hpath[4200], cmd[13000], hex[65], *out, *got;
	uint8_t d[ML_SHA256_LEN];
	size_t len, glen;
	struct ml_err e;

	(void)state;
	if (system("/usr/bin/python3 -c 'import json' >/dev/null 2>&1") != 0) {
		print_message("SKIP: /usr/bin/python3 missing\n");
		skip();
	}
	tu_tmpdir(dir, sizeof dir);
	snprintf(jpath, sizeof jpath, "%s/f.json", dir);
	snprintf(spath, sizeof spath, "%s/digest.py", dir);
	snprintf(hpath, sizeof hpath, "%s/hex", dir);
	write_file(spath, py, sizeof py - 1);

	hostile(&fs);
	/* escapes with hex letters: RFC 8785 writes them in lowercase */
	add(&fs, "esc", ML_SEV_WARN, ML_OUT_FAIL, SUBJ, "esc \x1b[31m red \x1f \x0b", NULL, 0);
	out = render(&fs, ML_FMT_JSON, &len);
	write_file(jpath, out, len);
	free(out);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' '%s'", spath, jpath, hpath);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ml_read_file(hpath, 100, &got, &glen, &e), ML_OK);
	digest_of(&fs, d);
	ml_hex_encode(d, sizeof d, hex);
	assert_string_equal(got, hex);
	free(got);
	ml_findings_free(&fs);
	tu_rmtree(dir);
}

/* Every byte 0x01..0x7f, then bytes that are not UTF-8 (a stray
 * continuation, an overlong NUL, a surrogate, a truncated sequence, 0xff)
 * between valid two-, three- and four-byte characters (U+2028 included). */
static char *
all_bytes(void)
{
	static const char tail[] = "\x80|\xc0\x80|\xed\xa0\x80|\xe2\x82|\xff|\xc3\xa9|"
				   "\xe2\x80\xa8|\xf0\x9f\x98\x80|\xf4\x90\x80\x80|end";
	char *s = malloc(127 + sizeof tail);
	int i;

	assert_non_null(s);
	for (i = 1; i < 128; i++)
		s[i - 1] = (char)i;
	memcpy(s + 127, tail, sizeof tail);
	return s;
}

/* The JSON writer's bytes are exactly jansson's two-space dump of the same
 * document (the findings are written without building jansson values): for
 * every string byte, NULL and empty fields, no and many seqs, waivers. */
static void
test_json_is_canonical_dump(void **state)
{
	static const int64_t many[] = {0, 1, 9223372036854775807LL, 42, 7, -1, INT64_MIN};
	struct ml_findings fs;
	struct ml_finding *f;
	json_error_t je;
	json_t *root;
	char *out, *again, *ab = all_bytes();
	size_t len;

	(void)state;
	hostile(&fs);
	f = add(&fs, ab, ML_SEV_DENY, ML_OUT_FAIL, ab, ab, many, sizeof many / sizeof many[0]);
	add_control(f, ab, "");
	add_control(f, "", ab);
	set_waiver(f, 3, ab, ab, ab, 1);
	f = add(&fs, "", ML_SEV_INFO, ML_OUT_PASS, NULL, "", NULL, 0);
	free(f->title);
	free(f->description);
	f->title = f->description = NULL;
	free(ab);

	out = render(&fs, ML_FMT_JSON, &len);
	root = json_loadb(out, len, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(root);
	again = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	assert_non_null(again);
	assert_int_equal(strlen(again) + 1, len);
	assert_memory_equal(again, out, len - 1);
	assert_int_equal(out[len - 1], '\n');
	free(again);
	json_decref(root);
	free(out);

	/* With no findings at all, the array is empty in place. */
	ml_findings_free(&fs);
	memset(&fs, 0, sizeof fs);
	out = render(&fs, ML_FMT_JSON, &len);
	assert_non_null(strstr(out, "\n  \"findings\": [],\n"));
	free(out);
	ml_findings_free(&fs);
}

/* With a sink, text and JSON go out in pieces while they are written, the
 * same bytes as without; a sink that cannot be written (/dev/full) is
 * ML_EIO. */
static void
test_write_to_sink(void **state)
{
	static const enum ml_format fmts[] = {ML_FMT_TEXT, ML_FMT_JSON};
	struct ml_findings fs;
	struct ml_err e;
	size_t i, k;

	(void)state;
	hostile(&fs);
	for (i = 0; i < 12000; i++) /* 2 MB of text, 8 MB of JSON: several drains */
		add(&fs, "bulk", ML_SEV_WARN, ML_OUT_FAIL, SUBJ, MSG, NULL, 0);
	for (k = 0; k < 2; k++) {
		struct ml_buf b = {0};
		size_t len, got;
		char *want = render(&fs, fmts[k], &len), *file;
		FILE *f = tmpfile();

		assert_non_null(f);
		b.sink = f;
		ml_err_clear(&e);
		assert_int_equal(ml_findings_write(&fs, fmts[k], &b, &e), ML_OK);
		assert_true(b.len < len); /* some of it went out already */
		ml_buf_drain(&b, 0);
		assert_int_equal(b.len, 0);
		assert_false(b.oom);
		got = (size_t)ftell(f);
		assert_int_equal(got, len);
		file = malloc(got);
		assert_non_null(file);
		rewind(f);
		assert_int_equal(fread(file, 1, got, f), got);
		assert_memory_equal(file, want, len);
		free(file);
		free(want);
		fclose(f);
		ml_buf_free(&b);
	}
	{
		struct ml_buf b = {0};
		FILE *full = fopen("/dev/full", "w");
		if (!full) {
			print_message("SKIP: /dev/full missing\n");
		} else {
			setvbuf(full, NULL, _IONBF, 0);
			b.sink = full;
			ml_err_clear(&e);
			assert_int_equal(ml_findings_write(&fs, ML_FMT_JSON, &b, &e), ML_EIO);
			assert_non_null(strstr(e.msg, "cannot write the output"));
			fclose(full);
			ml_buf_free(&b);
		}
	}
	ml_findings_free(&fs);
}

/* ml_findings_move: order kept, worse verdict wins, unset policy fields
 * taken, the source emptied; many moves stay amortised. */
static void
test_move(void **state)
{
	struct ml_findings a, b;
	size_t i;

	(void)state;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	add(&a, "R1", ML_SEV_DENY, ML_OUT_PASS, "m@1", "one", NULL, 0);
	a.verdict = ML_EDENY;
	add(&b, "R2", ML_SEV_WARN, ML_OUT_FAIL, "m@2", "two", NULL, 0);
	add(&b, "R3", ML_SEV_INFO, ML_OUT_INDETERMINATE, "m@3", "three", NULL, 0);
	b.verdict = ML_EPOLICY;
	b.policy_id = xdup("p");
	b.policy_version = xdup("1");
	memcpy(b.policy_sha256, SHA, 65);
	assert_int_equal(ml_findings_move(&a, &b), ML_OK);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.items[0].rule_id, "R1");
	assert_string_equal(a.items[1].rule_id, "R2");
	assert_string_equal(a.items[2].rule_id, "R3");
	assert_int_equal(a.verdict, ML_EPOLICY);
	assert_string_equal(a.policy_id, "p");
	assert_string_equal(a.policy_sha256, SHA);
	assert_int_equal(b.n, 0);
	assert_null(b.items);
	assert_null(b.policy_id);
	/* a better verdict does not override a worse one */
	b.verdict = ML_OK;
	assert_int_equal(ml_findings_move(&a, &b), ML_OK);
	assert_int_equal(a.verdict, ML_EPOLICY);
	/* reserve grows geometrically */
	for (i = 0; i < 1000; i++) {
		assert_int_equal(ml_findings_reserve(&a, 1), 0);
		assert_true(a.cap >= a.n + 1);
		add(&b, "Rn", ML_SEV_INFO, ML_OUT_PASS, "m@n", "n", NULL, 0);
		assert_int_equal(ml_findings_move(&a, &b), ML_OK);
	}
	assert_int_equal(a.n, 1003);
	assert_true(a.cap < 4 * a.n);
	assert_string_equal(a.items[1002].rule_id, "Rn");
	ml_findings_free(&a);
	ml_findings_free(&b);
}


/* ---- several policies, locations, gitlab -------------------------------- */

/* Two policies: A (a file; findings R1 fail at line 7, R2 pass at line 9)
 * and B (recorded at seq 5; R3 indeterminate at line 3), noted as gate
 * notes them. */
static void
two_policies(struct ml_findings *fs)
{
	struct ml_finding *f;

	memset(fs, 0, sizeof *fs);
	fs->policy_id = xdup("pa");
	fs->policy_version = xdup("1");
	fs->policy_file = xdup("/work/repo/pol/a.xml");
	memcpy(fs->policy_sha256, SHA, 65);
	fs->subject = xdup("m@1");
	fs->verdict = ML_EPOLICY;
	f = add(fs, "R1", ML_SEV_DENY, ML_OUT_FAIL, "m@1", "no", NULL, 0);
	f->line = 7;
	f = add(fs, "R2", ML_SEV_WARN, ML_OUT_PASS, "m@1", "yes", NULL, 0);
	f->line = 9;
	assert_int_equal(ml_findings_note_policy(fs, 0, "pa", "1", "/work/repo/pol/a.xml", SHA,
						 -1), ML_OK);
	f = add(fs, "R3", ML_SEV_INFO, ML_OUT_INDETERMINATE, "m@1", "?", NULL, 0);
	f->line = 3;
	assert_int_equal(ml_findings_note_policy(fs, 2, "pb", "2", "pb (policy entry 5)", NULL, 5),
			 ML_OK);
	/* noting an equal policy again reuses it */
	assert_int_equal(ml_findings_note_policy(fs, 3, "pa", "1", "/work/repo/pol/a.xml", SHA,
						 -1), ML_OK);
	assert_int_equal(fs->npolicies, 2);
	assert_int_equal(fs->items[0].policy, 0);
	assert_int_equal(fs->items[2].policy, 1);
}

static const char *
result_uri(json_t *r)
{
	return jget_str(json_object_get(json_object_get(json_array_get(json_object_get(r,
		"locations"), 0), "physicalLocation"), "artifactLocation"), "uri");
}

static json_int_t
result_line(json_t *r)
{
	return jget_int(json_object_get(json_object_get(json_array_get(json_object_get(r,
		"locations"), 0), "physicalLocation"), "region"), "startLine");
}

/* Every output names both policies. */
static void
test_two_policies_named(void **state)
{
	struct ml_findings fs;
	json_t *root, *a;
	json_error_t je;
	char *out;

	(void)state;
	two_policies(&fs);
	out = render(&fs, ML_FMT_TEXT, NULL);
	assert_non_null(strstr(out, "; policies pa 1 sha256:" SHA ", pb 2 sha256:-\n"));
	free(out);
	out = render(&fs, ML_FMT_GITHUB, NULL);
	assert_non_null(strstr(out, "; policies pa 1 sha256:" SHA ", pb 2 sha256:-\n"));
	free(out);
	out = render(&fs, ML_FMT_JSON, NULL);
	root = json_loads(out, 0, &je);
	assert_non_null(root);
	assert_string_equal(jget_str(json_object_get(root, "policy"), "id"), "pa");
	a = json_object_get(root, "policies");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(jget_str(json_array_get(a, 0), "id"), "pa");
	assert_string_equal(jget_str(json_array_get(a, 1), "id"), "pb");
	assert_true(json_is_null(json_object_get(json_array_get(a, 1), "sha256")));
	json_decref(root);
	free(out);
	out = render(&fs, ML_FMT_JUNIT, NULL);
	assert_non_null(strstr(out, "<testsuite name=\"mlledger pa, pb\""));
	assert_non_null(strstr(out, "<property name=\"policy.id\" value=\"pa\"/>"));
	assert_non_null(strstr(out, "<property name=\"policy.2.id\" value=\"pb\"/>"));
	assert_non_null(strstr(out, "<property name=\"policy.2.file\" value=\"pb (policy entry 5)\"/>"));
	free(out);
	out = render(&fs, ML_FMT_SARIF, NULL);
	root = json_loads(out, 0, &je);
	assert_non_null(root);
	a = json_object_get(json_object_get(json_array_get(json_object_get(root, "runs"), 0),
					    "properties"), "policies");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(jget_str(json_array_get(a, 1), "version"), "2");
	json_decref(root);
	free(out);
	ml_findings_free(&fs);
	assert_null(fs.policies);
}

/* The results of fs as SARIF with o; *root is the caller's (json_decref). */
static json_t *
sarif_results(const struct ml_findings *fs, const struct ml_findings_opts *o, json_t **root)
{
	struct ml_buf b = {0};
	struct ml_err e;
	json_error_t je;

	ml_err_clear(&e);
	assert_int_equal(ml_findings_write_opts(fs, ML_FMT_SARIF, o, &b, &e), ML_OK);
	*root = json_loads((const char *)b.data, 0, &je);
	assert_non_null(*root);
	ml_buf_free(&b);
	return json_object_get(json_array_get(json_object_get(*root, "runs"), 0), "results");
}

/* Locations: each result at its policy (a file as given, relative to cwd
 * below it; a recorded one as policies/ID.xml) and its rule's line; or
 * everything at --sarif-location; --sarif-all adds the passes. */
static void
test_sarif_locations(void **state)
{
	struct ml_findings_opts o = {0};
	struct ml_findings fs;
	json_t *root, *res;

	(void)state;
	two_policies(&fs);
	o.cwd = "/work/repo";
	res = sarif_results(&fs, &o, &root);
	assert_int_equal(json_array_size(res), 2); /* the pass left out */
	assert_string_equal(jget_str(json_array_get(res, 0), "ruleId"), "R1");
	assert_string_equal(result_uri(json_array_get(res, 0)), "pol/a.xml");
	assert_int_equal(result_line(json_array_get(res, 0)), 7);
	assert_string_equal(result_uri(json_array_get(res, 1)), "policies/pb.xml");
	assert_int_equal(result_line(json_array_get(res, 1)), 3);
	json_decref(root);

	/* outside cwd: a file: URI; --sarif-all: every result */
	o.cwd = "/work/rep";
	o.all = 1;
	res = sarif_results(&fs, &o, &root);
	assert_int_equal(json_array_size(res), 3);
	assert_string_equal(result_uri(json_array_get(res, 0)), "file:///work/repo/pol/a.xml");
	assert_string_equal(jget_str(json_array_get(res, 1), "kind"), "pass");
	assert_int_equal(result_line(json_array_get(res, 1)), 9);
	json_decref(root);

	/* --sarif-location names the file of every result, "./" dropped */
	o.location = "./ci/our policy.xml";
	o.all = 0;
	res = sarif_results(&fs, &o, &root);
	assert_string_equal(result_uri(json_array_get(res, 0)), "ci/our%20policy.xml");
	assert_string_equal(result_uri(json_array_get(res, 1)), "ci/our%20policy.xml");
	assert_int_equal(result_line(json_array_get(res, 1)), 3);
	json_decref(root);
	ml_findings_free(&fs);
}

/* gitlab: exactly GitLab's keys, failed and indeterminate findings only,
 * severities mapped, fingerprints stable and distinct. */
static void
test_gitlab(void **state)
{
	static const char *const keys[] = {"description", "check_name", "fingerprint", "severity",
					   "location"};
	struct ml_findings fs;
	json_t *root, *it, *v;
	json_error_t je;
	const char *k;
	char *out, *again, fp0[65];
	size_t i, j, nk;

	(void)state;
	hostile(&fs);
	/* the same rule and subject twice: two issues, two fingerprints */
	add(&fs, "info.fail", ML_SEV_INFO, ML_OUT_FAIL, SUBJ, "note again", NULL, 0);
	out = render(&fs, ML_FMT_GITLAB, NULL);
	again = render(&fs, ML_FMT_GITLAB, NULL);
	assert_string_equal(out, again); /* stable */
	free(again);
	root = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(root);
	assert_true(json_is_array(root));
	/* deny fail, indeterminate, long warn fail, info fail, info fail again */
	assert_int_equal(json_array_size(root), 5);
	for (i = 0; i < json_array_size(root); i++) {
		it = json_array_get(root, i);
		nk = 0;
		json_object_foreach(it, k, v) {
			assert_true(nk < 5);
			assert_string_equal(k, keys[nk]);
			nk++;
		}
		assert_int_equal(nk, 5);
		assert_int_equal(json_object_size(json_object_get(it, "location")), 2);
		assert_string_equal(jget_str(json_object_get(it, "location"), "path"),
				    "policies/prod & <x>.xml");
		assert_int_equal(jget_int(json_object_get(json_object_get(it, "location"), "lines"),
					  "begin"), 1);
		assert_int_equal(strlen(jget_str(it, "fingerprint")), 64);
		for (j = 0; j < i; j++)
			assert_string_not_equal(jget_str(it, "fingerprint"),
						jget_str(json_array_get(root, j), "fingerprint"));
	}
	it = json_array_get(root, 0);
	assert_string_equal(jget_str(it, "check_name"), "approval.two-person");
	assert_string_equal(jget_str(it, "severity"), "critical");
	assert_string_equal(jget_str(it, "description"), SUBJ ": " MSG);
	assert_string_equal(jget_str(json_array_get(root, 1), "severity"), "blocker");
	assert_string_equal(jget_str(json_array_get(root, 2), "severity"), "minor");
	assert_string_equal(jget_str(json_array_get(root, 3), "severity"), "info");
	snprintf(fp0, sizeof fp0, "%s", jget_str(it, "fingerprint"));
	json_decref(root);
	free(out);

	/* the fingerprint does not depend on the message (it changes with time) */
	free(fs.items[0].message);
	fs.items[0].message = xdup("other words");
	out = render(&fs, ML_FMT_GITLAB, NULL);
	assert_non_null(strstr(out, fp0));
	free(out);
	ml_findings_free(&fs);

	/* no findings: an empty array */
	memset(&fs, 0, sizeof fs);
	out = render(&fs, ML_FMT_GITLAB, NULL);
	assert_string_equal(out, "[]\n");
	free(out);
}

/* A rule with more controls than code scanning takes tags: 20 tags, every
 * control still in properties.controls. */
static void
test_sarif_tag_limit(void **state)
{
	struct ml_findings fs;
	struct ml_finding *f;
	json_t *root, *props;
	json_error_t je;
	char *out, ref[16];
	int i;

	(void)state;
	memset(&fs, 0, sizeof fs);
	f = add(&fs, "R", ML_SEV_DENY, ML_OUT_FAIL, "m@1", "x", NULL, 0);
	for (i = 0; i < 25; i++) {
		snprintf(ref, sizeof ref, "C%d", i);
		add_control(f, "ISO-42001", ref);
	}
	out = render(&fs, ML_FMT_SARIF, NULL);
	root = json_loads(out, 0, &je);
	assert_non_null(root);
	props = json_object_get(json_array_get(json_object_get(json_object_get(json_object_get(
		json_array_get(json_object_get(root, "runs"), 0), "tool"), "driver"), "rules"), 0),
		"properties");
	assert_int_equal(json_array_size(json_object_get(props, "tags")), 20);
	assert_int_equal(json_array_size(json_object_get(props, "controls")), 25);
	json_decref(root);
	free(out);
	ml_findings_free(&fs);
}

/* move joins the policies: equal ones once, the moved findings follow. */
static void
test_move_policies(void **state)
{
	struct ml_findings a, b;

	(void)state;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	add(&a, "R1", ML_SEV_DENY, ML_OUT_FAIL, "m@1", "x", NULL, 0);
	assert_int_equal(ml_findings_note_policy(&a, 0, "pa", "1", "a.xml", SHA, -1), ML_OK);
	add(&b, "R2", ML_SEV_DENY, ML_OUT_FAIL, "m@1", "x", NULL, 0);
	assert_int_equal(ml_findings_note_policy(&b, 0, "pb", "1", "b.xml", SHA, -1), ML_OK);
	add(&b, "R3", ML_SEV_DENY, ML_OUT_FAIL, "m@1", "x", NULL, 0);
	assert_int_equal(ml_findings_note_policy(&b, 1, "pa", "1", "a.xml", SHA, -1), ML_OK);
	assert_int_equal(ml_findings_move(&a, &b), ML_OK);
	assert_int_equal(a.npolicies, 2);
	assert_string_equal(a.policies[1].id, "pb");
	assert_int_equal(a.items[1].policy, 1); /* R2: pb */
	assert_int_equal(a.items[2].policy, 0); /* R3: pa, the one a had */
	assert_int_equal(b.npolicies, 0);
	ml_findings_free(&a);
	ml_findings_free(&b);
}

/* ---- stream -------------------------------------------------------------- */

/* What check's findings look like: no subject, env, as-of or ledger. */
static void
as_check(struct ml_findings *fs)
{
	free(fs->subject);
	free(fs->env);
	free(fs->as_of);
	free(fs->ledger_root);
	fs->subject = fs->env = fs->as_of = fs->ledger_root = NULL;
	fs->ledger_size = 0;
}

/* The hostile fixture (as_check) and bulk more findings. */
static void
check_fixture(struct ml_findings *fs, size_t bulk)
{
	size_t i;

	hostile(fs);
	as_check(fs);
	for (i = 0; i < bulk; i++)
		add(fs, i % 2 ? "bulk" : RULE2, i % 3 ? ML_SEV_WARN : ML_SEV_DENY,
		    (enum ml_outcome)(i % 4), SUBJ, MSG, NULL, 0);
}

/* The fixture fed to a stream in parts of 0, 1, 2, 3, 0, ... findings (the
 * first carrying the policy fields and verdict, every part freed by the
 * stream); verdict >= 0 overrides the verdict before finishing.  Returns
 * the output (caller frees) and *warn, the stream's warn failures. */
static char *
stream_render(enum ml_format f, size_t bulk, int verdict, size_t *len, size_t *warn)
{
	struct ml_findings src, part;
	struct ml_findings_stream *s = NULL;
	struct ml_buf b = {0};
	struct ml_err e;
	size_t i = 0, k = 0;

	check_fixture(&src, bulk);
	ml_err_clear(&e);
	assert_int_equal(ml_findings_stream_new(f, &s, &e), ML_OK);
	while (i < src.n || k < 2) {
		size_t take = k % 4;
		memset(&part, 0, sizeof part);
		if (take > src.n - i)
			take = src.n - i;
		if (k == 0) {
			part.policy_id = src.policy_id;
			part.policy_version = src.policy_version;
			part.policy_file = src.policy_file;
			src.policy_id = src.policy_version = src.policy_file = NULL;
			memcpy(part.policy_sha256, src.policy_sha256, sizeof part.policy_sha256);
			part.verdict = src.verdict;
		}
		if (take) {
			part.items = malloc(take * sizeof *part.items);
			assert_non_null(part.items);
			memcpy(part.items, src.items + i, take * sizeof *part.items);
			part.n = take;
		}
		i += take;
		k++;
		assert_int_equal(ml_findings_stream_add(s, &part, &e), ML_OK);
		assert_int_equal(part.n, 0);
		assert_null(part.items);
		assert_null(part.policy_id);
	}
	src.n = 0; /* the stream owns (and has freed) them */
	ml_findings_free(&src);
	*warn = ml_findings_stream_warn_failures(s);
	if (verdict >= 0)
		ml_findings_stream_set_verdict(s, verdict);
	assert_int_equal(ml_findings_stream_verdict(s), verdict >= 0 ? verdict : ML_EDENY);
	assert_int_equal(ml_findings_stream_finish(s, &b, &e), ML_OK);
	/* once only */
	assert_int_equal(ml_findings_stream_finish(s, &b, &e), ML_EINPUT);
	ml_findings_stream_free(s);
	assert_non_null(b.data);
	assert_int_equal(strlen((char *)b.data), b.len);
	*len = b.len;
	return (char *)b.data;
}

/* Every format: the stream's bytes are ml_findings_write's on the whole,
 * with and without findings, with a verdict override (--fail-on). */
static void
test_stream_identical(void **state)
{
	static const enum ml_format fmts[] = {ML_FMT_TEXT, ML_FMT_JSON, ML_FMT_JUNIT,
					      ML_FMT_SARIF, ML_FMT_GITHUB, ML_FMT_GITLAB};
	static const size_t bulks[] = {0, 9000}; /* 9000: past a 1 MiB drain */
	size_t i, j, v;

	(void)state;
	for (i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		for (j = 0; j < 2; j++) {
			for (v = 0; v < 2; v++) {
				struct ml_findings whole;
				size_t wlen, slen, warn, want_warn = 0, x;
				char *want, *got;
				check_fixture(&whole, bulks[j]);
				if (v)
					whole.verdict = ML_EPOLICY;
				for (x = 0; x < whole.n; x++)
					want_warn += whole.items[x].outcome == ML_OUT_FAIL &&
						     whole.items[x].severity == ML_SEV_WARN;
				want = render(&whole, fmts[i], &wlen);
				got = stream_render(fmts[i], bulks[j], v ? ML_EPOLICY : -1, &slen,
						    &warn);
				assert_int_equal(slen, wlen);
				assert_memory_equal(got, want, wlen);
				assert_int_equal(warn, want_warn);
				assert_true(warn > 0);
				free(want);
				free(got);
				ml_findings_free(&whole);
			}
		}
	}
}

/* A stream with no findings at all writes what an empty struct gives. */
static void
test_stream_empty(void **state)
{
	static const enum ml_format fmts[] = {ML_FMT_TEXT, ML_FMT_JSON, ML_FMT_JUNIT,
					      ML_FMT_SARIF, ML_FMT_GITHUB, ML_FMT_GITLAB};
	size_t i, len;
	char *want;

	(void)state;
	for (i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		struct ml_findings none, part;
		struct ml_findings_stream *s = NULL;
		struct ml_buf b = {0};
		struct ml_err e;
		memset(&none, 0, sizeof none);
		memset(&part, 0, sizeof part);
		want = render(&none, fmts[i], &len);
		ml_err_clear(&e);
		assert_int_equal(ml_findings_stream_new(fmts[i], &s, &e), ML_OK);
		assert_int_equal(ml_findings_stream_add(s, &part, &e), ML_OK);
		assert_int_equal(ml_findings_stream_warn_failures(s), 0);
		assert_int_equal(ml_findings_stream_finish(s, &b, &e), ML_OK);
		assert_int_equal(b.len, len);
		assert_memory_equal(b.data, want, len);
		ml_findings_stream_free(s);
		ml_buf_free(&b);
		free(want);
	}
}

/* Errors: unknown format, no hash context, no temporary file, a failed
 * write of the output; NULL frees. */
static void
test_stream_errors(void **state)
{
	struct ml_findings_stream *s = (struct ml_findings_stream *)&s;
	struct ml_findings fs;
	struct ml_buf b = {0};
	struct ml_err e;
	const char *tmp = getenv("TMPDIR");
	char *saved = tmp ? strdup(tmp) : NULL;
	FILE *full;

	(void)state;
	ml_findings_stream_free(NULL);
	ml_err_clear(&e);
	assert_int_equal(ml_findings_stream_new((enum ml_format)99, &s, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "unknown output format"));
	assert_ptr_equal(s, (struct ml_findings_stream *)&s); /* untouched */
	fail_hash = 1;
	assert_int_equal(ml_findings_stream_new(ML_FMT_JSON, &s, &e), ML_EIO);
	assert_int_equal(fail_hash, 0);
	assert_ptr_equal(s, (struct ml_findings_stream *)&s);
	/* no temporary file: text, github and json need one, junit does not */
	assert_int_equal(setenv("TMPDIR", "/nonexistent/mlledger-test", 1), 0);
	assert_int_equal(ml_findings_stream_new(ML_FMT_TEXT, &s, &e), ML_EIO);
	assert_non_null(strstr(e.msg, "temporary file"));
	assert_int_equal(ml_findings_stream_new(ML_FMT_JUNIT, &s, &e), ML_OK);
	ml_findings_stream_free(s);
	if (saved)
		assert_int_equal(setenv("TMPDIR", saved, 1), 0);
	else
		unsetenv("TMPDIR");
	free(saved);
	/* the output cannot be written */
	full = fopen("/dev/full", "w");
	if (!full) {
		print_message("SKIP: /dev/full missing\n");
		return;
	}
	setvbuf(full, NULL, _IONBF, 0);
	check_fixture(&fs, 12000);
	assert_int_equal(ml_findings_stream_new(ML_FMT_JSON, &s, &e), ML_OK);
	assert_int_equal(ml_findings_stream_add(s, &fs, &e), ML_OK);
	assert_int_equal(fs.n, 0);
	b.sink = full;
	assert_int_equal(ml_findings_stream_finish(s, &b, &e), ML_EIO);
	assert_non_null(strstr(e.msg, "cannot write the output"));
	ml_findings_stream_free(s);
	ml_buf_free(&b);
	fclose(full);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_move_policies),
		cmocka_unit_test(test_two_policies_named),
		cmocka_unit_test(test_sarif_locations),
		cmocka_unit_test(test_gitlab),
		cmocka_unit_test(test_sarif_tag_limit),
		cmocka_unit_test(test_stream_identical),
		cmocka_unit_test(test_stream_empty),
		cmocka_unit_test(test_stream_errors),
		cmocka_unit_test(test_text_hostile),
		cmocka_unit_test(test_verdict_words),
		cmocka_unit_test(test_github_hostile),
		cmocka_unit_test(test_json_hostile),
		cmocka_unit_test(test_json_is_canonical_dump),
		cmocka_unit_test(test_write_to_sink),
		cmocka_unit_test(test_junit_hostile),
		cmocka_unit_test(test_junit_schema),
		cmocka_unit_test(test_sarif_hostile),
		cmocka_unit_test(test_sarif_schema),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_write_contract),
		cmocka_unit_test(test_digest_known_answer),
		cmocka_unit_test(test_digest_out_of_memory),
		cmocka_unit_test(test_digest_stable_and_sensitive),
		cmocka_unit_test(test_digest_matches_python),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}

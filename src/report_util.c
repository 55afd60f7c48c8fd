/* report_util — the report's tables, cells, JSON form and text cleaning
 * (see report.h). */
#include "report.h"

#include "jsonarena.h"
#include "jsonbin.h"
#include "spool.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables shared by the HTML, Markdown and CSV writers ---------------- */

#define COLS(a) a, sizeof a / sizeof a[0]

static const struct ml_report_column models_cols[] = {
	{"ref", "Model version"}, {"digest", "Digest"}, {"seq", "Seq"},
	{"time", "Recorded"}, {"author", "Author"}, {"parent", "Parent"},
	{"datasets", "Datasets"}, {"metrics", "Metrics"}, {"properties", "Properties"}};
static const struct ml_report_column datasets_cols[] = {
	{"ref", "Dataset version"}, {"digest", "Digest"}, {"seq", "Seq"},
	{"time", "Recorded"}, {"author", "Author"}, {"license", "Licence"},
	{"pii", "PII"}, {"dpia", "DPIA"}, {"uri", "URI"}, {"properties", "Properties"}};
static const struct ml_report_column deploy_cols[] = {
	{"seq", "Seq"}, {"time", "Deployed"}, {"environment", "Environment"},
	{"ref", "Model version"}, {"author", "By"}, {"replaces", "Replaced"},
	{"end", "Until"}, {"endReason", "Ended by"}};
static const struct ml_report_column retire_cols[] = {
	{"seq", "Seq"}, {"time", "Retired"}, {"environment", "Environment"},
	{"ref", "Model version"}, {"author", "By"}, {"reason", "Reason"}};
static const struct ml_report_column chain_cols[] = {
	{"deploymentSeq", "Deployment seq"}, {"ref", "Model version"},
	{"environment", "Environment"}, {"time", "Deployed"}, {"datasets", "Datasets"},
	{"model", "Model entry"}, {"evaluations", "Evaluations"},
	{"approvals", "Approvals"}, {"gateDecisions", "Recorded gate decisions"},
	{"gate", "Policies now"},
	{"monitoring", "Monitoring"}, {"incidents", "Incidents"}};
static const struct ml_report_column cmp_cols[] = {
	{"ref", "Model version"}, {"baseline", "Compared with"}, {"basis", "Why"},
	{"metric", "Metric"}, {"value", "Value"}, {"baselineValue", "Previous"},
	{"delta", "Delta"}, {"verdict", "Change (declared direction)"}};
static const struct ml_report_column mon_cols[] = {
	{"ref", "Model version"}, {"environment", "Environment"},
	{"deploymentSeq", "Deployment seq"}, {"checks", "Checks in period"},
	{"lastCheck", "Last check"}, {"longestGapDays", "Longest gap (days)"},
	{"gaps", "Gaps over limit"}, {"trend", "Trend vs approval"}};
static const struct ml_report_column find_cols[] = {
	{"severity", "Severity"}, {"outcome", "Outcome"}, {"ruleId", "Rule"},
	{"subject", "Subject"}, {"environment", "Environment"}, {"message", "Message"},
	{"controls", "Controls"}, {"seqs", "Seqs"}, {"waiver", "Waiver"},
	{"policy", "Policy"}};
static const struct ml_report_column ctl_cols[] = {
	{"framework", "Framework"}, {"ref", "Control"}, {"findings", "Findings"},
	{"pass", "Pass"}, {"fail", "Fail"}, {"waived", "Waived"},
	{"indeterminate", "Indeterminate"}};
static const struct ml_report_column waiver_cols[] = {
	{"seq", "Seq"}, {"time", "Recorded"}, {"ref", "Model version"}, {"rule", "Rule"},
	{"author", "By"}, {"expires", "Expires"}, {"status", "Status"},
	{"usedBy", "Used by findings"}, {"reason", "Reason"}, {"ticket", "Ticket"}};
static const struct ml_report_column incident_cols[] = {
	{"seq", "Seq"}, {"time", "Recorded"}, {"ref", "Model version"},
	{"severity", "Severity"}, {"author", "By"}, {"description", "Description"}};
static const struct ml_report_column keys_cols[] = {
	{"personName", "Name"}, {"person", "Person"}, {"identity", "Identity"},
	{"name", "Key"}, {"keyid", "Key id"},
	{"roles", "Roles"},
	{"enrolledSeq", "Enrolled seq"}, {"enrolledTime", "Enrolled"},
	{"revokedSeq", "Revoked seq"}, {"revokedTime", "Revoked"},
	{"revocationReason", "Revocation reason"}};
static const struct ml_report_column keyev_cols[] = {
	{"seq", "Seq"}, {"time", "Time"}, {"event", "Event"}, {"key", "Key"},
	{"roles", "Roles"}, {"author", "By"}, {"reason", "Reason"}};
static const struct ml_report_column timew_cols[] = {
	{"seq", "Seq"}, {"kind", "Kind"}, {"warning", "Warning"}, {"authorTime", "Author time"},
	{"appendTime", "Appended"}, {"skewSeconds", "Author minus append (s)"}};
static const struct ml_report_column backfill_cols[] = {
	{"fromSeq", "From seq"}, {"toSeq", "To seq"}, {"entries", "Entries"},
	{"firstAppend", "First appended"}, {"lastAppend", "Last appended"},
	{"authorFrom", "Author times from"}, {"authorTo", "Author times to"}};
static const struct ml_report_column held_cols[] = {
	{"path", "Checkpoint file"}, {"size", "Size"}, {"root", "Root"},
	{"witnesses", "Witnesses"}, {"witnessesChecked", "Witnesses checked"},
	{"newestCosignature", "Newest cosignature"}};

static const struct ml_report_column signoff_cols[] = {
	{"item", "Item"}, {"text", "Detail"}};

static const struct ml_report_table tables[] = {
	{"models", "Model versions", "inventory.models", COLS(models_cols)},
	{"datasets", "Datasets", "inventory.datasets", COLS(datasets_cols)},
	{"deployments", "Production history", "inventory.deployments", COLS(deploy_cols)},
	{"retirements", "Retirements", "inventory.retirements", COLS(retire_cols)},
	{"chains", "Evidence chain per deployment", "chains", COLS(chain_cols)},
	{"comparisons", "Version comparison", "comparisons", COLS(cmp_cols)},
	{"monitoring", "Monitoring cadence", "monitoring", COLS(mon_cols)},
	{"findings", "Findings", "findings.items", COLS(find_cols)},
	{"controls", "Findings by control", "findings.byControl", COLS(ctl_cols)},
	{"waivers", "Waivers", "findings.waivers", COLS(waiver_cols)},
	{"incidents", "Incidents", "inventory.incidents", COLS(incident_cols)},
	{"keys", "Keys", "people.keys", COLS(keys_cols)},
	{"key-events", "Enrolments and revocations in the period", "people.events",
	 COLS(keyev_cols)},
	{"time-warnings", "Author times far from append times", "integrity.time.timeWarnings",
	 COLS(timew_cols)},
	{"backfills", "Backfill bursts", "integrity.time.backfills", COLS(backfill_cols)},
	{"held-checkpoints", "Checkpoints held outside the ledger", "integrity.held",
	 COLS(held_cols)},
	{"signoff", "Sign-off", "signOff.rows", COLS(signoff_cols)},
};

/* Not tables of the model (no CSV): what html and md print of the
 * findings under --detail summary (report.h). */
static const struct ml_report_column listed_cols[] = {
	{"severity", "Severity"}, {"outcome", "Outcome"}, {"ruleId", "Rule"},
	{"subject", "Subject"}, {"environment", "Environment"}, {"message", "Message"},
	{"seqs", "Seqs"}, {"waiver", "Waiver"}, {"policy", "Policy"}};
static const struct ml_report_table listed_table = {
	"findings-listed", "Findings that need attention", NULL, COLS(listed_cols)};
static const struct ml_report_column rules_cols[] = {
	{"ruleId", "Rule"}, {"severity", "Severity"}, {"title", "Checks"},
	{"summary", "Result"}, {"controls", "Controls"}, {"policy", "Policy"}};
static const struct ml_report_table rules_table = {
	"rules", "Findings per rule", NULL, COLS(rules_cols)};

const struct ml_report_table *
ml_report_listed_table(void)
{
	return &listed_table;
}

const struct ml_report_table *
ml_report_rules_table(void)
{
	return &rules_table;
}

const struct ml_report_table *
ml_report_tables(size_t *n)
{
	*n = sizeof tables / sizeof tables[0];
	return tables;
}

const struct ml_report_table *
ml_report_table(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof tables / sizeof tables[0]; i++)
		if (!strcmp(tables[i].name, name))
			return &tables[i];
	return NULL;
}

json_t *
ml_report_get(const json_t *model, const char *path)
{
	char part[64];
	const char *p = path;
	const json_t *cur = model;
	json_t *v = NULL;

	while (cur && *p) {
		size_t n = strcspn(p, ".");
		if (n >= sizeof part)
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		cur = v = json_object_get(cur, part);
		p += n;
		if (*p == '.')
			p++;
	}
	return v;
}

/* ---- cells ---------------------------------------------------------------- */

static void
scalar(struct ml_buf *b, const json_t *v)
{
	if (json_is_string(v))
		ml_buf_puts(b, json_string_value(v));
	else if (json_is_integer(v))
		ml_buf_printf(b, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		ml_buf_printf(b, "%.15g", json_real_value(v));
	else if (json_is_boolean(v))
		ml_buf_puts(b, json_is_true(v) ? "yes" : "no");
}

static void
cell_into(struct ml_buf *b, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (i)
				ml_buf_puts(b, "; ");
			scalar(b, json_is_object(x) ? json_object_get(x, "label") : x);
		}
	} else if (json_is_object(v)) {
		if (json_object_get(v, "label")) {
			scalar(b, json_object_get(v, "label"));
			return;
		}
		i = 0;
		json_object_foreach(v, k, x) {
			ml_buf_printf(b, "%s%s=", i++ ? ", " : "", k);
			scalar(b, x);
		}
	} else {
		scalar(b, v);
	}
}

char *
ml_report_cell(json_t *v, int *numeric)
{
	struct ml_buf b = {0};
	char *s;

	if (numeric)
		*numeric = json_is_number(v);
	cell_into(&b, v);
	ml_buf_append(&b, "", 1);
	if (b.oom) {
		ml_buf_free(&b);
		return NULL;
	}
	s = (char *)b.data;
	return s;
}

/* ---- the scope as rows ------------------------------------------------------ */

static void
row(json_t *rows, const char *head, struct ml_buf *b)
{
	ml_buf_append(b, "", 1);
	if (!b->oom)
		json_array_append_new(rows, json_pack("[s, s]", head, (const char *)b->data));
	ml_buf_free(b);
}

static const char *
s_of(const json_t *model, const char *path)
{
	const char *s = json_string_value(ml_report_get(model, path));

	return s ? s : "-";
}

static long long
i_of(const json_t *model, const char *path)
{
	return (long long)json_integer_value(ml_report_get(model, path));
}

/* ---- findings for print ------------------------------------------------- */

static int
is_pass(const json_t *f)
{
	const char *o = json_string_value(json_object_get(f, "outcome"));

	return o && !strcmp(o, "pass");
}

json_t *
ml_report_listed_findings(const json_t *model, enum ml_report_detail detail)
{
	const json_t *items = ml_report_get(model, "findings.items");
	json_t *out = json_array(), *f;
	size_t i;
	int listed;

	if (!out)
		return NULL;
	for (i = 0; i < json_array_size(items); i++) {
		if (detail == ML_REPORT_DETAIL_ALL) {
			listed = 1;
		} else { /* one read back at a time */
			if (!(f = ml_report_row(items, i)))
				goto fail;
			listed = !is_pass(f);
			json_decref(f);
		}
		if (listed && json_array_append(out, json_array_get(items, i)))
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* The row of rule (policy, ruleId) in rows, appended when new, found
 * through index ("policy\nruleId" -> row).  The row carries "_pairs" (the
 * passing "ref\nenv" -> true) and "_others" (outcome -> count) until
 * ml_report_rules_summary replaces them with words. */
static json_t *
rule_row(json_t *rows, json_t *index, const json_t *f)
{
	const char *rule = json_string_value(json_object_get(f, "ruleId"));
	const char *pol = json_string_value(json_object_get(f, "policy"));
	json_t *row;
	char key[600];

	snprintf(key, sizeof key, "%.250s\n%.250s", pol ? pol : "", rule ? rule : "");
	if ((row = json_object_get(index, key)))
		return row;
	row = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:o, s:o}", "ruleId",
			json_object_get(f, "ruleId"), "severity", json_object_get(f, "severity"),
			"title", json_object_get(f, "title"), "controls",
			json_object_get(f, "controls"), "policy", json_object_get(f, "policy"),
			"_pairs", json_object(), "_others", json_object());
	if (!row || json_array_append_new(rows, row) || json_object_set(index, key, row))
		return NULL;
	return row;
}

/* "passed for N version/environment pairs", then "; failed for N" etc. for
 * the other outcomes, "(listed above)" when there are any. */
static json_t *
rule_words(const json_t *row)
{
	struct ml_buf b = {0};
	const char *k;
	json_t *v, *s;
	size_t n = json_object_size(json_object_get(row, "_pairs"));

	ml_buf_printf(&b, "passed for %zu version/environment pair%s", n, n == 1 ? "" : "s");
	json_object_foreach(json_object_get(row, "_others"), k, v)
		ml_buf_printf(&b, "; %s for %lld", !strcmp(k, "fail") ? "failed" : k,
			      (long long)json_integer_value(v));
	if (json_object_size(json_object_get(row, "_others")))
		ml_buf_puts(&b, " (listed above)");
	ml_buf_append(&b, "", 1);
	s = b.oom ? NULL : json_string((const char *)b.data);
	ml_buf_free(&b);
	return s;
}

json_t *
ml_report_rules_summary(const json_t *model)
{
	const json_t *items = ml_report_get(model, "findings.items");
	json_t *rows = json_array(), *index = json_object(), *f = NULL, *row, *others;
	size_t i;
	char key[600];

	if (!rows || !index)
		goto oom;
	for (i = 0; i < json_array_size(items); i++, json_decref(f)) {
		const char *ref, *env, *o;
		if (!(f = ml_report_row(items, i))) /* one read back at a time */
			goto oom;
		ref = json_string_value(json_object_get(f, "subject"));
		env = json_string_value(json_object_get(f, "environment"));
		o = json_string_value(json_object_get(f, "outcome"));
		if (!(row = rule_row(rows, index, f)))
			goto oom;
		snprintf(key, sizeof key, "%.250s\n%.250s", ref ? ref : "", env ? env : "");
		others = json_object_get(row, "_others");
		if (is_pass(f) ? json_object_set_new(json_object_get(row, "_pairs"), key, json_true())
			       : json_object_set_new(others, o ? o : "?", json_integer(
					 json_integer_value(json_object_get(others, o ? o : "?")) + 1)))
			goto oom;
	}
	f = NULL;
	json_array_foreach(rows, i, row) {
		json_t *w = rule_words(row);
		if (!w || json_object_set_new(row, "pairs", json_integer((json_int_t)json_object_size(
					 json_object_get(row, "_pairs")))) ||
		    json_object_set_new(row, "summary", w) || json_object_del(row, "_pairs") ||
		    json_object_del(row, "_others"))
			goto oom;
	}
	json_decref(index);
	return rows;
oom:
	json_decref(f);
	json_decref(index);
	json_decref(rows);
	return NULL;
}

json_t *
ml_report_scope_rows(const json_t *model)
{
	json_t *rows = json_array(), *first = ml_report_get(model, "scope.ledger.firstSeq");
	struct ml_buf b = {0};

	ml_buf_printf(&b, "%s to %s (UTC, both days included; by the authors' signed times)",
		      s_of(model, "scope.from"), s_of(model, "scope.to"));
	row(rows, "Period", &b);
	ml_buf_puts(&b, s_of(model, "scope.ledger.origin"));
	row(rows, "Ledger origin", &b);
	ml_buf_printf(&b, "%lld entries considered (appended by the as-of time); %lld in the "
		      "period", i_of(model, "scope.ledger.entriesConsidered"),
		      i_of(model, "scope.ledger.entriesInPeriod"));
	if (json_is_integer(first))
		ml_buf_printf(&b, ", seq %lld to %lld", (long long)json_integer_value(first),
			      i_of(model, "scope.ledger.lastSeq"));
	row(rows, "Entries", &b);
	ml_buf_printf(&b, "size %lld, root %s", i_of(model, "scope.checkpoint.size"),
		      s_of(model, "scope.checkpoint.root"));
	row(rows, "Checkpoint", &b);
	ml_buf_puts(&b, s_of(model, "scope.checkpoint.logKey"));
	row(rows, "Log key", &b);
	ml_buf_puts(&b, s_of(model, "scope.ledgerStart"));
	if (json_is_object(ml_report_get(model, "scope.ledgerStartWarning")))
		ml_buf_printf(&b, " (%s)", s_of(model, "scope.ledgerStartWarning.statement"));
	row(rows, "Ledger began", &b);
	ml_buf_puts(&b, s_of(model, "scope.asOf"));
	row(rows, "As of", &b);
	ml_buf_puts(&b, s_of(model, "scope.generatedAt"));
	row(rows, "Generated", &b);
	ml_buf_printf(&b, "%s %s", s_of(model, "scope.tool.name"),
		      s_of(model, "scope.tool.version"));
	row(rows, "Tool", &b);
	ml_buf_printf(&b, "%s", json_is_true(ml_report_get(model, "integrity.ok"))
		      ? "verified" : "FAILED");
	row(rows, "Integrity", &b);
	ml_buf_puts(&b, s_of(model, "integrity.heldStatement"));
	row(rows, "Held outside", &b);
	return rows;
}

/* ---- cleaning -------------------------------------------------------------- */

/* Decodes one UTF-8 sequence at p (at most n bytes) with ml_utf8_next: the
 * code point, or -1 when invalid (then one byte is consumed). */
static long
utf8_next(const unsigned char *p, size_t n, size_t *used)
{
	uint32_t cp;
	size_t k = ml_utf8_next(p, n, &cp);

	*used = k ? k : 1;
	return k ? (long)cp : -1;
}

/* Characters shown as a visible code instead of themselves. */
static int
hidden(long cp)
{
	return (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7f && cp <= 0x9f) ||
	       cp == 0x61c || cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0xfffe || cp == 0xffff;
}

char *
ml_report_clean(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	struct ml_buf b = {0};

	while (p < end) {
		size_t used;
		long cp = utf8_next(p, (size_t)(end - p), &used);
		if (cp < 0)
			ml_buf_puts(&b, "\xef\xbf\xbd");
		else if (hidden(cp))
			ml_buf_printf(&b, "\xe2\x80\xb9U+%04lX\xe2\x80\xba", cp);
		else
			ml_buf_append(&b, p, used);
		p += used;
	}
	ml_buf_append(&b, "", 1);
	if (b.oom) {
		ml_buf_free(&b);
		return NULL;
	}
	return (char *)b.data;
}

/* ---- rows and points held packed ------------------------------------------ */

/* Reals with 17 significant digits read back as the same doubles, so the
 * writers' own precision (15 in the JSON report) gives the same text. */
#define PACK_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17))

static int
pack_cb(const char *p, size_t n, void *ctx)
{
	struct ml_buf *b = ctx;

	ml_buf_append(b, p, n);
	return b->oom ? -1 : 0;
}

/* The text goes to an ml_buf, not json_dumps: jansson allocates what
 * json_dumps returns, so with a model arena allocating (jsonarena.h) it
 * would be an arena piece that free() must not see. */
json_t *
ml_report_pack(const json_t *v)
{
	struct ml_buf b = {0};
	json_t *s;

	if ((!json_is_object(v) && !json_is_array(v)) ||
	    json_dump_callback(v, pack_cb, &b, PACK_FLAGS) != 0) {
		ml_buf_free(&b);
		return NULL;
	}
	s = json_stringn_nocheck(b.len ? (const char *)b.data : "", b.len);
	ml_buf_free(&b);
	return s;
}

/* The value of the len bytes of compact text at p when it is of type
 * `type`; else NULL. */
static json_t *
load_as(const char *p, size_t len, json_type type)
{
	json_t *v = json_loadb(p, len, JSON_ALLOW_NUL, NULL);

	if (v && json_typeof(v) != type) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* The value packed in string s, when it is of type `type`; else NULL. */
static json_t *
unpack(const json_t *s, json_type type)
{
	return load_as(json_string_value(s), json_string_length(s), type);
}

/* The spool rows are stowed in and read back from: one per thread. */
static _Thread_local struct ml_spool *row_spool;

struct ml_spool *
ml_report_spool_set(struct ml_spool *sp)
{
	struct ml_spool *was = row_spool;

	row_spool = sp;
	return was;
}

struct ml_spool *
ml_report_spool(void)
{
	return row_spool;
}

int
ml_report_stow_handle(const json_t *row, int64_t *h)
{
	struct ml_buf b = {0};
	int rc = ML_EIO;

	if (row_spool && json_is_object(row) && ml_jsonbin_put(row, &b) == ML_OK &&
	    ml_spool_put(row_spool, b.data, b.len, h, NULL) == ML_OK)
		rc = ML_OK;
	ml_buf_free(&b);
	return rc;
}

json_t *
ml_report_stow(json_t *row)
{
	int64_t h;
	json_t *out;

	if (ml_report_stow_handle(row, &h) != ML_OK || !(out = json_integer(h)))
		return row; /* kept in memory: the writers read both */
	json_decref(row);
	return out;
}

json_t *
ml_report_unstow(int64_t h)
{
	size_t len = ml_spool_len(h);
	char small[4096], *p = len <= sizeof small ? small : malloc(len ? len : 1);
	json_t *v = NULL;
	struct ml_jsonarena was = ml_jsonarena_off(); /* a temporary: malloc */

	if (row_spool && p && ml_spool_get(row_spool, h, p, NULL) == ML_OK &&
	    (v = ml_jsonbin_get(p, len)) && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	ml_jsonarena_restore(was);
	if (p != small)
		free(p);
	return v;
}

json_t *
ml_report_row(const json_t *rows, size_t i)
{
	json_t *x = json_array_get(rows, i);

	if (!x)
		return NULL;
	if (json_is_integer(x))
		return ml_report_unstow(json_integer_value(x));
	return json_is_string(x) ? unpack(x, JSON_OBJECT) : json_incref(x);
}

json_t *
ml_report_points(const json_t *series)
{
	json_t *p = json_object_get(series, "points");

	if (json_is_array(p))
		return json_incref(p);
	return json_is_string(p) ? unpack(p, JSON_ARRAY) : NULL;
}

int
ml_report_points_empty(const json_t *series)
{
	const json_t *p = json_object_get(series, "points");

	if (json_is_array(p))
		return json_array_size(p) == 0;
	return !json_is_string(p) || !strcmp(json_string_value(p), "[]");
}

/* ---- JSON ------------------------------------------------------------------ */

#define JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* jansson's text of a value, moved `pad` spaces right after each newline:
 * the text it has nested in the report (a JSON string holds no newline). */
struct pad_out {
	struct ml_buf *b;
	size_t pad;
};

/* n spaces, however many. */
static void
put_spaces(struct ml_buf *b, size_t n)
{
	static const char spaces[] = "                ";

	for (; n > sizeof spaces - 1; n -= sizeof spaces - 1)
		ml_buf_append(b, spaces, sizeof spaces - 1);
	ml_buf_append(b, spaces, n);
}

static int
pad_cb(const char *buf, size_t size, void *data)
{
	struct pad_out *o = data;
	const char *p = buf, *end = buf + size, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		ml_buf_append(o->b, p, (size_t)(nl + 1 - p));
		put_spaces(o->b, o->pad);
		p = nl + 1;
	}
	ml_buf_append(o->b, p, (size_t)(end - p));
	return o->b->oom ? -1 : 0;
}

/* v as it is written at nesting depth `depth` (0: the root). */
static int
dump_at(const json_t *v, size_t depth, struct ml_buf *b)
{
	struct pad_out o = {b, 2 * depth};

	return json_dump_callback(v, pad_cb, &o, JSON_FLAGS | JSON_ENCODE_ANY);
}

/* A shallow copy of a monitoring row whose series hold their points as
 * arrays (new reference), or NULL when out of memory or a packed member
 * does not read back.  Takes the reference to row. */
static json_t *
row_unpacked(json_t *row)
{
	json_t *tr = json_object_get(row, "trend"), *c, *arr, *s;
	size_t i;

	if (!json_is_array(tr))
		return row;
	if (!(c = json_copy(row)) || !(arr = json_array()) || json_object_set_new(c, "trend", arr)) {
		json_decref(c);
		json_decref(row);
		return NULL;
	}
	json_array_foreach(tr, i, s) {
		json_t *sc, *pts;
		if (!json_is_object(s) || !json_object_get(s, "points")) {
			json_array_append(arr, s);
			continue;
		}
		sc = json_copy(s);
		pts = ml_report_points(s);
		if (!sc || !pts || json_object_set_new(sc, "points", pts) ||
		    json_array_append_new(arr, sc)) {
			if (!sc)
				json_decref(pts);
			json_decref(sc);
			json_decref(c);
			c = NULL;
			break;
		}
	}
	json_decref(row); /* last: tr is row's */
	return c;
}

/* The arrays of the model (by path) that may hold packed or stowed rows
 * (ml_report_row), or rows holding packed points. */
static const char *const packed_rows[] = {"inventory.models", "inventory.datasets",
					  "inventory.deployments", "inventory.retirements",
					  "chains", "comparisons", "monitoring", "findings.items",
					  NULL};

static int
listed(const char *const *list, const char *path)
{
	for (; *list; list++)
		if (!strcmp(*list, path))
			return 1;
	return 0;
}

/* Whether path is the root or an object on the way to one of list. */
static int
above(const char *const *list, const char *path)
{
	size_t n = strlen(path);

	for (; *list && n; list++)
		if (!strncmp(*list, path, n) && (*list)[n] == '.')
			return 1;
	return !n;
}

static int dump_value(const char *path, json_t *v, size_t depth, struct ml_buf *b);

static void
pad(struct ml_buf *b, size_t depth)
{
	ml_buf_puts(b, "\n");
	put_spaces(b, 2 * depth);
}

/* An array of packed rows at `depth`, one row read back at a time, laid
 * out as jansson lays out an array (empty: "[]"). */
static int
dump_rows(const char *path, json_t *rows, size_t depth, struct ml_buf *b)
{
	size_t i, n = json_array_size(rows);
	int rc = 0;

	if (!n)
		return dump_at(rows, depth, b);
	ml_buf_puts(b, "[");
	for (i = 0; i < n && !rc; i++) {
		json_t *row = ml_report_row(rows, i);
		if (row && !strcmp(path, "monitoring"))
			row = row_unpacked(row);
		pad(b, depth + 1);
		rc = !row || dump_at(row, depth + 1, b);
		json_decref(row);
		if (i + 1 < n)
			ml_buf_puts(b, ",");
	}
	pad(b, depth);
	ml_buf_puts(b, "]");
	return rc || b->oom ? -1 : 0;
}

/* An object member by member, laid out as jansson lays out an object. */
static int
dump_object(const char *path, json_t *o, size_t depth, struct ml_buf *b)
{
	const char *key;
	json_t *v, *k;
	size_t i = 0, n = json_object_size(o);
	char sub[128];
	int rc = 0;

	if (!n)
		return dump_at(o, depth, b);
	ml_buf_puts(b, "{");
	json_object_foreach(o, key, v) {
		pad(b, depth + 1);
		k = json_string(key);
		rc = !k || dump_at(k, depth + 1, b);
		json_decref(k);
		ml_buf_puts(b, ": ");
		snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
		if (rc || (rc = dump_value(sub, v, depth + 1, b)))
			break;
		if (++i < n)
			ml_buf_puts(b, ",");
	}
	pad(b, depth);
	ml_buf_puts(b, "}");
	return rc || b->oom ? -1 : 0;
}

static int
dump_value(const char *path, json_t *v, size_t depth, struct ml_buf *b)
{
	if (json_is_array(v) && listed(packed_rows, path))
		return dump_rows(path, v, depth, b);
	if (json_is_object(v) && above(packed_rows, path)) /* member by member */
		return dump_object(path, v, depth, b);
	return dump_at(v, depth, b);
}

int
ml_report_json(const json_t *model, struct ml_buf *out, struct ml_err *e)
{
	/* jansson's iterator takes a non-const object; it only reads here */
	json_t *m = (json_t *)(uintptr_t)model;

	if (dump_value("", m, 0, out) || (ml_buf_puts(out, "\n"), out->oom))
		return ml_err_set(e, ML_EIO, "out of memory writing the JSON report");
	return ML_OK;
}

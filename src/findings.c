/* findings — see findings.h.
 *
 * Six writers over one struct.  None of them trusts the strings it writes:
 * rule files, statements and waivers are written by people, so every string
 * goes through the escaping its format needs (policies/FINDINGS.md has the
 * same text as below, with examples).
 *
 *   text    one line per finding that is not a pass, then a summary line.
 *           C0 controls, DEL, C1 controls, line/paragraph separators, bidi
 *           overrides and bytes that are not UTF-8 are written as \n, \t,
 *           \r, \xHH or \uHHHH, so a message can neither add a line nor
 *           restyle the terminal.  A missing string is written "-".
 *
 *             DENY <rule-id> <subject>: <message>
 *             DENY <rule-id> <subject>: <message> [INDETERMINATE]
 *             WARN <rule-id> <subject>: <message> [WAIVED by K until D, seq S: R]
 *             DENY <rule-id> <subject>: <message> [waiver expired: by K until D, seq S: R]
 *             gate: DENY — N rules, F failed (deny D, warn W, info I), V waived,
 *               X indeterminate; policy <id> <version> sha256:<hex>
 *             (several policies: "; policies <id> <version> sha256:<hex>, ...")
 *
 *           ("check:" instead of "gate:" when the findings have no subject.
 *           N counts findings, one per rule and subject; F counts outcome
 *           fail, split by severity.)
 *
 *   json    one object, keys in this order, two-space indented, UTF-8:
 *
 *     {
 *       "schemaVersion": 1,
 *       "policy": {"id": S, "version": S, "file": S, "sha256": HEX},  the first
 *       "policies": [{"id": ..., "sha256": HEX|null}, ...],  every one, in order
 *       "subject": S|null,            candidate NAME@VERSION (gate) or null (check)
 *       "env": S|null,
 *       "asOf": "YYYY-MM-DDTHH:MM:SSZ"|null,
 *       "ledger": {"size": INT, "root": BASE64|null},
 *       "verdict": "pass"|"deny"|"indeterminate",
 *       "findings": [{
 *         "ruleId": S, "title": S|null, "description": S|null,
 *         "severity": "deny"|"warn"|"info",
 *         "outcome": "pass"|"fail"|"waived"|"indeterminate",
 *         "subject": S|null, "message": S|null,
 *         "seqs": [INT, ...],
 *         "controls": [{"framework": S, "ref": S}, ...],
 *         "waiver": {"seq": INT, "by": S|null, "reason": S|null,
 *                    "expires": "YYYY-MM-DD"|null, "expired": BOOL}
 *                                  only when a waiver was found (seq >= 0)
 *       }, ...],
 *       "summary": {"findings": N, "passed": N, "failed": N,
 *                   "failedBySeverity": {"deny": N, "warn": N, "info": N},
 *                   "waived": N, "indeterminate": N},
 *       "findingsDigest": "sha256:HEX"   ml_findings_digest, what a
 *                                        recorded gate decision holds
 *     }
 *
 *           Bytes that are not UTF-8 become U+FFFD; everything else is kept
 *           (JSON escapes what it must).  New keys may be added; existing
 *           keys keep their meaning while schemaVersion is 1.
 *
 *   junit   Apache Ant JUnit XML (<testsuites><testsuite> with properties
 *           (policy.* for the first policy, policy.2.* ... for the others),
 *           one <testcase classname=RULE name=SUBJECT> per finding, system-out
 *           holding the summary line).  fail: <failure type=SEVERITY>,
 *           indeterminate: <error type="indeterminate">, waived: <skipped>.
 *           Built with libxml2's tree API, so markup is escaped; characters
 *           XML 1.0 cannot carry (C0 controls but tab/LF/CR, U+FFFE/U+FFFF,
 *           non-UTF-8 bytes) become U+FFFD.  timestamp is asOf without its
 *           "Z" (the schema allows no zone), 1970-01-01T00:00:00 without one.
 *
 *   sarif   SARIF 2.1.0, one run, as GitHub code scanning takes it: results
 *           only for findings that are not a pass (all with opts.all), each
 *           with a physical location (the policy file as given, relative to
 *           opts.cwd when below it, or policies/ID.xml for a recorded one, or
 *           opts.location; startLine the rule's line) and a fingerprint
 *           (partialFingerprints).  fail: kind "fail", level error/warning/
 *           note for deny/warn/info; waived: the same plus an external,
 *           accepted suppression carrying the reason; pass: kind "pass";
 *           indeterminate: kind "open" (SARIF: not enough information to
 *           decide).  Kinds other than "fail" must have level "none" (SARIF
 *           §3.27.10), so severity is also in properties.severity.  Rules are
 *           listed once per rule id (the first finding's title, description
 *           and controls; help.text the description; the controls also as
 *           properties.tags); subjects are logical locations.
 *
 *   gitlab  GitLab Code Quality: an array of {description, check_name,
 *           fingerprint, severity, location {path, lines {begin}}} for the
 *           failed and indeterminate findings; severity info/minor/critical
 *           for info/warn/deny, blocker for indeterminate.  Fingerprints:
 *           hex SHA-256 of "POLICY-ID\0RULE-ID\0SUBJECT\0N", N the earlier
 *           findings with the same three.
 *
 *   github  workflow commands, one per finding that is not a pass:
 *           "::error title=RULE::SUBJECT: MESSAGE" (deny, and every
 *           indeterminate finding: it makes the verdict indeterminate),
 *           ::warning (warn), ::notice (info, and every waived finding);
 *           indeterminate and waived ones end with "(indeterminate)" or
 *           "(waived by K until D, seq S: R)".  Then the text summary
 *           line as plain log text.  Data escapes % CR LF as %25 %0D %0A;
 *           the title property also : and , as %3A %2C; other C0 controls
 *           and DEL are written %HH, which the runner leaves as it is.
 *
 * The digest (ml_findings_digest) is SHA-256 over
 *   [{"message":M,"outcome":O,"ruleId":R,"seqs":[...],"subject":S},...]
 * with keys in that (sorted) order, no whitespace, strings escaped as
 * RFC 8785 does (\" \\ \b \f \n \r \t, other controls \u00xx in lowercase,
 * everything else as UTF-8), null for missing strings, seqs as decimal
 * integers, findings in order.  Bytes that are not UTF-8 hash as U+FFFD.
 * For these values it is the RFC 8785 canonical form.
 */
#include "findings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "spool.h"

#define TOOL_URI "https://mlledger.dev/"
#define SARIF_SCHEMA "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#define REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD */
/* With a sink, the text and JSON writers pass on their output in pieces of
 * about this size (ml_buf_drain). */
#define DRAIN_AT (1u << 20)
#define EM_DASH "\xe2\x80\x94"

/* ---- words ---- */

/* Out-of-range values read as the strictest: a severity as deny, an outcome
 * as indeterminate, a verdict as indeterminate (fail closed). */
static enum ml_severity
sev_of(const struct ml_finding *f)
{
	if (f->severity == ML_SEV_INFO || f->severity == ML_SEV_WARN)
		return f->severity;
	return ML_SEV_DENY;
}

static enum ml_outcome
outcome_of(const struct ml_finding *f)
{
	if (f->outcome == ML_OUT_PASS || f->outcome == ML_OUT_FAIL || f->outcome == ML_OUT_WAIVED)
		return f->outcome;
	return ML_OUT_INDETERMINATE;
}

static const char *
sev_word(enum ml_severity s)
{
	return s == ML_SEV_INFO ? "info" : s == ML_SEV_WARN ? "warn" : "deny";
}

static const char *
sev_upper(enum ml_severity s)
{
	return s == ML_SEV_INFO ? "INFO" : s == ML_SEV_WARN ? "WARN" : "DENY";
}

static const char *
outcome_word(enum ml_outcome o)
{
	switch (o) {
	case ML_OUT_PASS:
		return "pass";
	case ML_OUT_FAIL:
		return "fail";
	case ML_OUT_WAIVED:
		return "waived";
	default:
		return "indeterminate";
	}
}

static const char *
verdict_word(int v)
{
	return v == ML_OK ? "pass" : v == ML_EDENY ? "deny" : "indeterminate";
}

static const char *
verdict_upper(int v)
{
	return v == ML_OK ? "PASS" : v == ML_EDENY ? "DENY" : "INDETERMINATE";
}

static int
has_waiver(const struct ml_finding *f)
{
	return f->waiver_seq >= 0;
}

struct tally {
	size_t total, passed, failed, deny, warn, info, waived, indet;
};

/* Counts f into t. */
static void
tally_add(struct tally *t, const struct ml_finding *f)
{
	t->total++;
	switch (outcome_of(f)) {
	case ML_OUT_PASS:
		t->passed++;
		break;
	case ML_OUT_FAIL:
		t->failed++;
		if (sev_of(f) == ML_SEV_DENY)
			t->deny++;
		else if (sev_of(f) == ML_SEV_WARN)
			t->warn++;
		else
			t->info++;
		break;
	case ML_OUT_WAIVED:
		t->waived++;
		break;
	default:
		t->indet++;
		break;
	}
}

static void
tally_findings(const struct ml_findings *fs, struct tally *t)
{
	size_t i;

	memset(t, 0, sizeof *t);
	for (i = 0; i < fs->n; i++)
		tally_add(t, &fs->items[i]);
}

/* ---- policies ---- */

/* *one: a view (borrowed strings) of the policy fs's policy fields name. */
static void
fields_policy(const struct ml_findings *fs, struct ml_findings_policy *one)
{
	memset(one, 0, sizeof *one);
	one->id = fs->policy_id;
	one->version = fs->policy_version;
	one->file = fs->policy_file;
	snprintf(one->sha256, sizeof one->sha256, "%.64s", fs->policy_sha256);
	one->seq = -1;
}

/* fs's policies: fs->policies, or (none noted) the one its policy fields
 * name, as *one.  Returns how many (at least 1). */
static size_t
policy_list(const struct ml_findings *fs, struct ml_findings_policy *one,
	    const struct ml_findings_policy **out)
{
	if (fs->npolicies && fs->policies) {
		*out = fs->policies;
		return fs->npolicies;
	}
	fields_policy(fs, one);
	*out = one;
	return 1;
}

/* The policy of f among list[0..n). */
static const struct ml_findings_policy *
policy_of(const struct ml_findings_policy *list, size_t n, const struct ml_finding *f)
{
	return f->policy < n ? &list[f->policy] : &list[0];
}

static int
str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int
policy_eq(const struct ml_findings_policy *a, const struct ml_findings_policy *b)
{
	return str_eq(a->id, b->id) && str_eq(a->version, b->version) &&
	       str_eq(a->file, b->file) && strncmp(a->sha256, b->sha256, 64) == 0 &&
	       a->seq == b->seq;
}

/* Index of p in fs->policies, or fs->npolicies when absent. */
static size_t
policy_find(const struct ml_findings *fs, const struct ml_findings_policy *p)
{
	size_t i;

	for (i = 0; i < fs->npolicies; i++)
		if (policy_eq(&fs->policies[i], p))
			break;
	return i;
}

/* Room for more policies in fs.  ML_OK, or ML_EIO when out of memory (fs as
 * it was). */
static enum ml_rc
policy_reserve(struct ml_findings *fs, size_t more)
{
	struct ml_findings_policy *v;

	if (!more)
		return ML_OK;
	if (!(v = realloc(fs->policies, (fs->npolicies + more) * sizeof *v)))
		return ML_EIO;
	fs->policies = v;
	return ML_OK;
}

static void
policy_clear(struct ml_findings_policy *p)
{
	free(p->id);
	free(p->version);
	free(p->file);
	memset(p, 0, sizeof *p);
}

static char *
dup_or_null(const char *s, int *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = 1;
	return d;
}

int
ml_findings_note_policy(struct ml_findings *fs, size_t from, const char *id,
			const char *version, const char *file, const char *sha256, int64_t seq)
{
	struct ml_findings_policy c = {0};
	size_t i, k;
	int oom = 0;

	c.id = dup_or_null(id, &oom);
	c.version = dup_or_null(version, &oom);
	c.file = dup_or_null(file, &oom);
	snprintf(c.sha256, sizeof c.sha256, "%.64s", sha256 ? sha256 : "");
	c.seq = seq;
	k = policy_find(fs, &c);
	if (oom || (k == fs->npolicies && policy_reserve(fs, 1) != 0)) {
		policy_clear(&c);
		return ML_EIO;
	}
	if (k == fs->npolicies)
		fs->policies[fs->npolicies++] = c;
	else
		policy_clear(&c);
	for (i = from; i < fs->n; i++)
		fs->items[i].policy = k;
	return ML_OK;
}

/* ---- UTF-8 (decoded by ml_utf8_next, util.h) ---- */

static int
xml_char_ok(uint32_t cp)
{
	if (cp < 0x20)
		return cp == 0x09 || cp == 0x0a || cp == 0x0d;
	return cp != 0xfffe && cp != 0xffff;
}

/* Appends s with every byte that is not UTF-8 replaced by U+FFFD, and with
 * xml set, also every character XML 1.0 cannot carry. */
static void
put_clean(struct ml_buf *b, const char *s, size_t len, int xml)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	ml_buf_append(b, "", 0); /* data is never NULL afterwards */
	while (i < len) {
		uint32_t cp;
		size_t k = ml_utf8_next(p + i, len - i, &cp);
		if (k && (!xml || xml_char_ok(cp))) {
			i += k;
			continue;
		}
		ml_buf_append(b, p + run, i - run);
		ml_buf_puts(b, REPLACEMENT);
		i += k ? k : 1;
		run = i;
	}
	ml_buf_append(b, p + run, len - run);
}

/* Where json_str writes: an ml_buf or the digest's hash sink. */
typedef void (*put_fn)(void *ctx, const void *p, size_t n);

/* Writes s through put as a JSON string, or null for NULL: made valid UTF-8
 * as put_clean does, with '"', '\\', \b \f \n \r \t and the other C0
 * controls escaped, the last as \u00XX in the digits of hex (RFC 8785 wants
 * lowercase; jansson, whose dump the JSON output matches, uppercase). */
static void
json_str(put_fn put, void *ctx, const char *s, const char *hex)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, i = 0, run = 0;

	if (!s) {
		put(ctx, "null", 4);
		return;
	}
	len = strlen(s);
	put(ctx, "\"", 1);
	while (i < len) {
		uint32_t cp = 0;
		size_t k;
		const char *named;
		char esc[7] = "\\u00";
		/* printable ASCII, most of every finding: as ml_utf8_next would
		 * pass it (k 1, cp the byte), without the call */
		if (p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\') {
			i++;
			continue;
		}
		k = ml_utf8_next(p + i, len - i, &cp);
		if (k && cp >= 0x20 && cp != '"' && cp != '\\') {
			i += k;
			continue;
		}
		put(ctx, p + run, i - run);
		named = !k ? REPLACEMENT : cp == '"' ? "\\\"" : cp == '\\' ? "\\\\" : cp == '\b' ? "\\b"
			: cp == '\f' ? "\\f" : cp == '\n' ? "\\n" : cp == '\r' ? "\\r"
			: cp == '\t' ? "\\t" : NULL;
		if (!named) {
			esc[4] = hex[cp >> 4];
			esc[5] = hex[cp & 15];
		}
		put(ctx, named ? named : esc, named ? strlen(named) : 6);
		i += k ? k : 1;
		run = i;
	}
	put(ctx, p + run, len - run);
	put(ctx, "\"", 1);
}

/* Characters the text writer escapes beyond C0 and DEL: C1 controls, line
 * and paragraph separators, and the bidi embeddings, overrides and isolates
 * that can make a line read differently from what it says. */
static int
text_hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

/* Appends s for a terminal: one line, nothing hidden.  NULL as "-". */
static void
put_text(struct ml_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, len;

	if (!s) {
		ml_buf_puts(b, "-");
		return;
	}
	len = strlen(s);
	while (i < len) {
		uint32_t cp;
		size_t k = ml_utf8_next(p + i, len - i, &cp);
		if (k && cp >= 0x20 && cp != 0x7f && !text_hidden(cp)) {
			i += k;
			continue;
		}
		ml_buf_append(b, p + run, i - run);
		if (!k)
			ml_buf_printf(b, "\\x%02x", p[i]);
		else if (cp == '\n')
			ml_buf_puts(b, "\\n");
		else if (cp == '\r')
			ml_buf_puts(b, "\\r");
		else if (cp == '\t')
			ml_buf_puts(b, "\\t");
		else if (cp < 0x80)
			ml_buf_printf(b, "\\x%02x", (unsigned)cp);
		else
			ml_buf_printf(b, "\\u%04x", (unsigned)cp);
		i += k ? k : 1;
		run = i;
	}
	ml_buf_append(b, p + run, len - run);
}

/* Appends s as a workflow command's data (property 0) or property value
 * (property 1).  NULL as "-". */
static void
put_gh(struct ml_buf *b, const char *s, int property)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, len;

	if (!s) {
		ml_buf_puts(b, "-");
		return;
	}
	len = strlen(s);
	while (i < len) {
		uint32_t cp;
		size_t k = ml_utf8_next(p + i, len - i, &cp);
		if (k && cp >= 0x20 && cp != 0x7f && cp != '%' &&
		    !(property && (cp == ':' || cp == ','))) {
			i += k;
			continue;
		}
		ml_buf_append(b, p + run, i - run);
		if (k)
			ml_buf_printf(b, "%%%02X", (unsigned)cp);
		else
			ml_buf_puts(b, REPLACEMENT);
		i += k ? k : 1;
		run = i;
	}
	ml_buf_append(b, p + run, len - run);
}

/* ---- text ---- */

static void
put_waiver_text(struct ml_buf *b, const struct ml_finding *f)
{
	ml_buf_puts(b, "by ");
	put_text(b, f->waiver_by);
	ml_buf_puts(b, " until ");
	put_text(b, f->waiver_expires);
	if (has_waiver(f))
		ml_buf_printf(b, ", seq %lld: ", (long long)f->waiver_seq);
	else
		ml_buf_puts(b, ", seq -: ");
	put_text(b, f->waiver_reason);
}

/* "gate: PASS — N rules, ..." without a newline: fs's policy and verdict,
 * the counts of t. */
static void
put_summary_of(struct ml_buf *b, const struct ml_findings *fs, const struct tally *tp)
{
	const struct ml_findings_policy *pl;
	struct ml_findings_policy one;
	struct tally t = *tp;
	char sha[65];
	size_t np, i;

	ml_buf_printf(b, "%s: %s " EM_DASH " %zu rules, %zu failed (deny %zu, warn %zu, info %zu), "
		      "%zu waived, %zu indeterminate; ",
		      fs->subject ? "gate" : "check", verdict_upper(fs->verdict), t.total,
		      t.failed, t.deny, t.warn, t.info, t.waived, t.indet);
	np = policy_list(fs, &one, &pl);
	/* "policy A 1 sha256:X", "policies A 1 sha256:X, B 2 sha256:Y" */
	ml_buf_puts(b, np > 1 ? "policies " : "policy ");
	for (i = 0; i < np; i++) {
		if (i)
			ml_buf_puts(b, ", ");
		put_text(b, pl[i].id);
		ml_buf_puts(b, " ");
		put_text(b, pl[i].version);
		snprintf(sha, sizeof sha, "%.64s", pl[i].sha256);
		ml_buf_puts(b, " sha256:");
		put_text(b, sha[0] ? sha : NULL);
	}
}

static void
put_summary(struct ml_buf *b, const struct ml_findings *fs)
{
	struct tally t;

	tally_findings(fs, &t);
	put_summary_of(b, fs, &t);
}

/* The line of f, nothing for a pass. */
static void
text_item(struct ml_buf *b, const struct ml_finding *f)
{
	enum ml_outcome o = outcome_of(f);

	if (o != ML_OUT_PASS) {
		ml_buf_puts(b, sev_upper(sev_of(f)));
		ml_buf_puts(b, " ");
		put_text(b, f->rule_id);
		ml_buf_puts(b, " ");
		put_text(b, f->subject);
		ml_buf_puts(b, ": ");
		put_text(b, f->message);
		if (o == ML_OUT_WAIVED) {
			ml_buf_puts(b, " [WAIVED ");
			put_waiver_text(b, f);
			ml_buf_puts(b, "]");
		} else if (o == ML_OUT_INDETERMINATE) {
			ml_buf_puts(b, " [INDETERMINATE]");
		} else if (has_waiver(f) && f->waiver_expired) {
			ml_buf_puts(b, " [waiver expired: ");
			put_waiver_text(b, f);
			ml_buf_puts(b, "]");
		}
		ml_buf_puts(b, "\n");
	}
}

static int
write_text(const struct ml_findings *fs, struct ml_buf *b)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		text_item(b, &fs->items[i]);
		ml_buf_drain(b, DRAIN_AT);
	}
	put_summary(b, fs);
	ml_buf_puts(b, "\n");
	return b->oom ? ML_EIO : ML_OK;
}

/* ---- github ---- */

/* The workflow command of f, nothing for a pass. */
static void
github_item(struct ml_buf *b, const struct ml_finding *f)
{
	enum ml_outcome o = outcome_of(f);
	enum ml_severity s = sev_of(f);
	const char *cmd;

	if (o != ML_OUT_PASS) {
		if (o == ML_OUT_INDETERMINATE)
			cmd = "error"; /* it makes the verdict indeterminate */
		else if (o == ML_OUT_WAIVED || s == ML_SEV_INFO)
			cmd = "notice";
		else
			cmd = s == ML_SEV_DENY ? "error" : "warning";
		ml_buf_printf(b, "::%s title=", cmd);
		put_gh(b, f->rule_id, 1);
		ml_buf_puts(b, "::");
		put_gh(b, f->subject, 0);
		ml_buf_puts(b, ": ");
		put_gh(b, f->message, 0);
		if (o == ML_OUT_WAIVED || (o == ML_OUT_FAIL && has_waiver(f) && f->waiver_expired)) {
			ml_buf_puts(b, o == ML_OUT_WAIVED ? " (waived by " : " (waiver expired: by ");
			put_gh(b, f->waiver_by, 0);
			ml_buf_puts(b, " until ");
			put_gh(b, f->waiver_expires, 0);
			if (has_waiver(f))
				ml_buf_printf(b, ", seq %lld: ", (long long)f->waiver_seq);
			else
				ml_buf_puts(b, ", seq -: ");
			put_gh(b, f->waiver_reason, 0);
			ml_buf_puts(b, ")");
		} else if (o == ML_OUT_INDETERMINATE) {
			ml_buf_puts(b, " (indeterminate)");
		}
		ml_buf_puts(b, "\n");
	}
}

static int
write_github(const struct ml_findings *fs, struct ml_buf *b)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		github_item(b, &fs->items[i]);
		ml_buf_drain(b, DRAIN_AT);
	}
	put_summary(b, fs);
	ml_buf_puts(b, "\n");
	return b->oom ? ML_EIO : ML_OK;
}

/* ---- JSON helpers (json and sarif) ---- */

/* A JSON string of s[0..len) made valid UTF-8; NULL only when out of
 * memory. */
static json_t *
jstrn(const char *s, size_t len)
{
	struct ml_buf t = {0};
	json_t *v = NULL;

	put_clean(&t, s, len, 0);
	if (!t.oom)
		v = json_stringn(t.data ? (const char *)t.data : "", t.len);
	ml_buf_free(&t);
	return v;
}

/* A JSON string of s, or null for NULL. */
static json_t *
jstr(const char *s)
{
	return s ? jstrn(s, strlen(s)) : json_null();
}

/* Sets o[k] = v, taking v's reference (released on failure); any failure,
 * including a NULL o or v from an earlier allocation, sets *bad. */
static void
jset(json_t *o, const char *k, json_t *v, int *bad)
{
	if (!o || !v) {
		json_decref(v);
		*bad = 1;
	} else if (json_object_set_new(o, k, v) != 0) {
		*bad = 1;
	}
}

/* Appends v to a, taking v's reference, as jset. */
static void
jpush(json_t *a, json_t *v, int *bad)
{
	if (!a || !v) {
		json_decref(v);
		*bad = 1;
	} else if (json_array_append_new(a, v) != 0) {
		*bad = 1;
	}
}

static json_t *
jseqs(const struct ml_finding *f, int *bad)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < f->nseqs; i++)
		jpush(a, json_integer((json_int_t)f->seqs[i]), bad);
	return a;
}

static json_t *
jcontrols(const struct ml_finding *f, int *bad)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < f->ncontrols; i++) {
		json_t *c = json_object();
		jset(c, "framework", jstr(f->controls[i].framework), bad);
		jset(c, "ref", jstr(f->controls[i].ref), bad);
		jpush(a, c, bad);
	}
	return a;
}

static json_t *
jwaiver(const struct ml_finding *f, int *bad)
{
	json_t *w = json_object();

	jset(w, "seq", json_integer((json_int_t)f->waiver_seq), bad);
	jset(w, "by", jstr(f->waiver_by), bad);
	jset(w, "reason", jstr(f->waiver_reason), bad);
	jset(w, "expires", jstr(f->waiver_expires), bad);
	jset(w, "expired", json_boolean(f->waiver_expired), bad);
	return w;
}

/* {"id", "version", "file", "sha256"} of one policy. */
static json_t *
jpolicy_ref(const struct ml_findings_policy *p, int *bad)
{
	json_t *o = json_object();
	size_t hl = strnlen(p->sha256, 64);

	jset(o, "id", jstr(p->id), bad);
	jset(o, "version", jstr(p->version), bad);
	jset(o, "file", jstr(p->file), bad);
	jset(o, "sha256", hl ? jstrn(p->sha256, hl) : json_null(), bad);
	return o;
}

/* The first policy of fs (its policy fields). */
static json_t *
jpolicy(const struct ml_findings *fs, int *bad)
{
	struct ml_findings_policy one;

	fields_policy(fs, &one);
	return jpolicy_ref(&one, bad);
}

/* Every policy of fs, in --policy order. */
static json_t *
jpolicies(const struct ml_findings *fs, int *bad)
{
	const struct ml_findings_policy *pl;
	struct ml_findings_policy one;
	json_t *a = json_array();
	size_t i, n = policy_list(fs, &one, &pl);

	for (i = 0; i < n; i++)
		jpush(a, jpolicy_ref(&pl[i], bad), bad);
	return a;
}

static json_t *
jledger(const struct ml_findings *fs, int *bad)
{
	json_t *l = json_object();

	jset(l, "size", json_integer((json_int_t)fs->ledger_size), bad);
	jset(l, "root", jstr(fs->ledger_root), bad);
	return l;
}

static json_t *
jsummary_of(const struct tally *tp, int *bad)
{
	json_t *s = json_object(), *by = json_object();
	struct tally t = *tp;

	jset(s, "findings", json_integer((json_int_t)t.total), bad);
	jset(s, "passed", json_integer((json_int_t)t.passed), bad);
	jset(s, "failed", json_integer((json_int_t)t.failed), bad);
	jset(by, "deny", json_integer((json_int_t)t.deny), bad);
	jset(by, "warn", json_integer((json_int_t)t.warn), bad);
	jset(by, "info", json_integer((json_int_t)t.info), bad);
	jset(s, "failedBySeverity", by, bad);
	jset(s, "waived", json_integer((json_int_t)t.waived), bad);
	jset(s, "indeterminate", json_integer((json_int_t)t.indet), bad);
	return s;
}

static json_t *
jsummary(const struct ml_findings *fs, int *bad)
{
	struct tally t;

	tally_findings(fs, &t);
	return jsummary_of(&t, bad);
}

/* Dumps root (and releases it) onto b with a trailing newline. */
static int
jdump(json_t *root, int bad, struct ml_buf *b)
{
	char *s = NULL;

	if (!bad && root)
		s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s)
		return ML_EIO;
	ml_buf_puts(b, s);
	ml_buf_puts(b, "\n");
	free(s);
	return b->oom ? ML_EIO : ML_OK;
}

/* ---- json ---- */

/* The findings are written directly, in the layout jansson's json_dumps
 * gives with JSON_INDENT(2) (test_json_is_canonical_dump holds the two
 * equal): a check of many subjects writes hundreds of thousands of them,
 * and building each as jansson values cost a fifth of its time. */

static void
buf_put(void *b, const void *p, size_t n)
{
	ml_buf_append(b, p, n);
}

/* s as jansson dumps it (json_str). */
static void
jw_str(struct ml_buf *b, const char *s)
{
	json_str(buf_put, b, s, "0123456789ABCDEF");
}

/* ",\n" (not before the first member) and the member's indent and key. */
static void
jw_key(struct ml_buf *b, int *first, const char *indent, const char *key)
{
	ml_buf_puts(b, *first ? "\n" : ",\n");
	*first = 0;
	ml_buf_puts(b, indent);
	ml_buf_puts(b, "\"");
	ml_buf_puts(b, key);
	ml_buf_puts(b, "\": ");
}

/* One finding, an element of the findings array (depth 2). */
static void
jw_finding(struct ml_buf *b, const struct ml_finding *f)
{
	static const char in[] = "      ", in2[] = "        ", in3[] = "          ";
	int first = 1, f2;
	size_t i;

	ml_buf_puts(b, "    {");
	jw_key(b, &first, in, "ruleId");
	jw_str(b, f->rule_id);
	jw_key(b, &first, in, "title");
	jw_str(b, f->title);
	jw_key(b, &first, in, "description");
	jw_str(b, f->description);
	jw_key(b, &first, in, "severity");
	jw_str(b, sev_word(sev_of(f)));
	jw_key(b, &first, in, "outcome");
	jw_str(b, outcome_word(outcome_of(f)));
	jw_key(b, &first, in, "subject");
	jw_str(b, f->subject);
	jw_key(b, &first, in, "message");
	jw_str(b, f->message);
	jw_key(b, &first, in, "seqs");
	ml_buf_puts(b, "[");
	for (i = 0; i < f->nseqs; i++) {
		char num[24];
		ml_buf_puts(b, i ? ",\n" : "\n");
		ml_buf_puts(b, in2);
		ml_buf_puts(b, ml_i64_text((long long)f->seqs[i], num));
	}
	ml_buf_puts(b, f->nseqs ? "\n      ]" : "]");
	jw_key(b, &first, in, "controls");
	ml_buf_puts(b, "[");
	for (i = 0; i < f->ncontrols; i++) {
		ml_buf_printf(b, "%s%s{", i ? ",\n" : "\n", in2);
		f2 = 1;
		jw_key(b, &f2, in3, "framework");
		jw_str(b, f->controls[i].framework);
		jw_key(b, &f2, in3, "ref");
		jw_str(b, f->controls[i].ref);
		ml_buf_puts(b, "\n        }");
	}
	ml_buf_puts(b, f->ncontrols ? "\n      ]" : "]");
	if (has_waiver(f)) {
		jw_key(b, &first, in, "waiver");
		ml_buf_puts(b, "{");
		f2 = 1;
		jw_key(b, &f2, in2, "seq");
		ml_buf_printf(b, "%lld", (long long)f->waiver_seq);
		jw_key(b, &f2, in2, "by");
		jw_str(b, f->waiver_by);
		jw_key(b, &f2, in2, "reason");
		jw_str(b, f->waiver_reason);
		jw_key(b, &f2, in2, "expires");
		jw_str(b, f->waiver_expires);
		jw_key(b, &f2, in2, "expired");
		ml_buf_puts(b, f->waiver_expired ? "true" : "false");
		ml_buf_puts(b, "\n      }");
	}
	ml_buf_puts(b, "\n    }");
}

/* The document is dumped with an empty findings array, and the findings are
 * written into it one at a time (jw_finding).  The bytes are those of
 * dumping the whole tree (two-space indent). */
static const char json_mark[] = "\n  \"findings\": [],\n";

/* The document of fs's policy and verdict, t's counts and digest d, with an
 * empty findings array: *s (free) and *at, where json_mark is in it.
 * ML_EIO when out of memory. */
static int
json_frame(const struct ml_findings *fs, const struct tally *t, const uint8_t d[ML_SHA256_LEN],
	   char **s, const char **at)
{
	json_t *root = json_object();
	char hex[7 + 2 * ML_SHA256_LEN + 1] = "sha256:";
	int bad = 0;

	jset(root, "schemaVersion", json_integer(1), &bad);
	jset(root, "policy", jpolicy(fs, &bad), &bad);
	jset(root, "policies", jpolicies(fs, &bad), &bad);
	jset(root, "subject", jstr(fs->subject), &bad);
	jset(root, "env", jstr(fs->env), &bad);
	jset(root, "asOf", jstr(fs->as_of), &bad);
	jset(root, "ledger", jledger(fs, &bad), &bad);
	jset(root, "verdict", json_string(verdict_word(fs->verdict)), &bad);
	jset(root, "findings", json_array(), &bad);
	jset(root, "summary", jsummary_of(t, &bad), &bad);
	ml_hex_encode(d, ML_SHA256_LEN, hex + 7);
	jset(root, "findingsDigest", json_string(hex), &bad);
	*s = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!*s || !(*at = strstr(*s, json_mark))) {
		free(*s);
		*s = NULL;
		return ML_EIO;
	}
	return ML_OK;
}

static int
write_json(const struct ml_findings *fs, struct ml_buf *b)
{
	uint8_t d[ML_SHA256_LEN];
	const char *at;
	char *s = NULL;
	struct tally t;
	size_t i;

	tally_findings(fs, &t);
	if (ml_findings_digest(fs, d) != ML_OK || json_frame(fs, &t, d, &s, &at) != ML_OK)
		return ML_EIO;
	if (fs->n == 0) {
		ml_buf_puts(b, s);
	} else {
		ml_buf_append(b, s, (size_t)(at - s) + sizeof json_mark - 4); /* up to '[' */
		ml_buf_puts(b, "\n");
		for (i = 0; i < fs->n && !b->oom; i++) {
			if (i)
				ml_buf_puts(b, ",\n");
			jw_finding(b, &fs->items[i]);
			ml_buf_drain(b, DRAIN_AT);
		}
		ml_buf_puts(b, "\n  ]");
		ml_buf_puts(b, at + sizeof json_mark - 3); /* from ",\n" on: after the "]" */
	}
	free(s);
	ml_buf_puts(b, "\n");
	return b->oom ? ML_EIO : ML_OK;
}

/* ---- locations (sarif, gitlab) ---- */

/* The path reports give for policy p: o->location, else its file (a draft),
 * else "policies/ID.xml" (a recorded policy, as the shipped ones are laid
 * out); an absolute path below o->cwd made relative to it, "./" dropped. */
static void
put_report_path(struct ml_buf *b, const struct ml_findings_policy *p,
		const struct ml_findings_opts *o)
{
	const char *path = o->location ? o->location : p->seq < 0 ? p->file : NULL;
	size_t cl = o->cwd ? strlen(o->cwd) : 0;

	if (!path) {
		ml_buf_puts(b, "policies/");
		ml_buf_puts(b, p->id ? p->id : "policy");
		ml_buf_puts(b, ".xml");
		return;
	}
	if (path[0] == '/' && cl == 1 && o->cwd[0] == '/')
		path++;
	else if (path[0] == '/' && cl > 1 && !strncmp(path, o->cwd, cl) && path[cl] == '/')
		path += cl + 1;
	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (*path == '/')
			path++;
	}
	ml_buf_puts(b, *path ? path : ".");
}

/* path as a URI reference (RFC 3986): a relative one stays relative, an
 * absolute one becomes file://; every byte but A-Z a-z 0-9 - . _ ~ / is
 * written %HH. */
static void
put_uri(struct ml_buf *b, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)path;

	if (*p == '/')
		ml_buf_puts(b, "file://");
	for (; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/') {
			ml_buf_append(b, p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			ml_buf_append(b, e, 3);
		}
	}
}

/* The line a finding points at: its rule's, or 1 when unknown. */
static int
line_of(const struct ml_finding *f)
{
	return f->line > 0 ? f->line : 1;
}

struct occ_key {
	const char *pid, *rule, *subject;
	size_t i;
};

static int
cmp_str0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int
cmp_occ(const void *a, const void *b)
{
	const struct occ_key *x = a, *y = b;
	int c;

	if ((c = cmp_str0(x->pid, y->pid)) || (c = cmp_str0(x->rule, y->rule)) ||
	    (c = cmp_str0(x->subject, y->subject)))
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* occ[i]: how many findings before i have finding i's policy id, rule id
 * and subject (a rule may find several things about one subject).  malloc'd,
 * NULL when out of memory (or fs has no findings). */
static size_t *
occurrences(const struct ml_findings *fs, const struct ml_findings_policy *pl, size_t np)
{
	struct occ_key *k;
	size_t *occ, i;

	if (!fs->n || !(k = malloc(fs->n * sizeof *k)))
		return NULL;
	if (!(occ = malloc(fs->n * sizeof *occ))) {
		free(k);
		return NULL;
	}
	for (i = 0; i < fs->n; i++)
		k[i] = (struct occ_key){policy_of(pl, np, &fs->items[i])->id, fs->items[i].rule_id,
					fs->items[i].subject, i};
	qsort(k, fs->n, sizeof *k, cmp_occ);
	for (i = 0; i < fs->n; i++)
		occ[k[i].i] = i && !cmp_str0(k[i].pid, k[i - 1].pid) &&
					   !cmp_str0(k[i].rule, k[i - 1].rule) &&
					   !cmp_str0(k[i].subject, k[i - 1].subject)
				      ? occ[k[i - 1].i] + 1
				      : 0;
	free(k);
	return occ;
}

/* A finding's fingerprint, stable across runs: hex SHA-256 of
 * "POLICY-ID\0RULE-ID\0SUBJECT\0N" (N: occurrences). */
static void
fingerprint(const char *pid, const struct ml_finding *f, size_t occ, char hex[65], int *bad)
{
	struct ml_buf t = {0};
	uint8_t d[ML_SHA256_LEN];

	ml_buf_append(&t, pid ? pid : "", strlen(pid ? pid : "") + 1);
	ml_buf_append(&t, f->rule_id ? f->rule_id : "", strlen(f->rule_id ? f->rule_id : "") + 1);
	ml_buf_append(&t, f->subject ? f->subject : "", strlen(f->subject ? f->subject : "") + 1);
	ml_buf_printf(&t, "%zu", occ);
	if (t.oom)
		*bad = 1;
	ml_sha256(t.data ? t.data : (uint8_t *)"", t.len, d);
	ml_hex_encode(d, ML_SHA256_LEN, hex);
	hex[64] = 0;
	ml_buf_free(&t);
}

/* ---- sarif ---- */

static const char *
sarif_level(enum ml_severity s)
{
	return s == ML_SEV_DENY ? "error" : s == ML_SEV_WARN ? "warning" : "note";
}

/* Index of the first finding before i with the same rule id, or i. */
static size_t
first_with_rule(const struct ml_findings *fs, size_t i)
{
	const char *id = fs->items[i].rule_id;
	size_t j;

	for (j = 0; j < i; j++) {
		const char *o = fs->items[j].rule_id;
		if ((!id && !o) || (id && o && strcmp(id, o) == 0))
			return j;
	}
	return i;
}

/* Tags per rule GitHub code scanning accepts. */
#define SARIF_MAX_TAGS 20

/* "compliance" and "FRAMEWORK REF" of each control (code scanning filters
 * on tags), at most SARIF_MAX_TAGS (properties.controls has them all). */
static json_t *
sarif_tags(const struct ml_finding *f, int *bad)
{
	json_t *a = json_array();
	struct ml_buf t = {0};
	size_t i;

	jpush(a, json_string("compliance"), bad);
	for (i = 0; i < f->ncontrols && i + 1 < SARIF_MAX_TAGS; i++) {
		t.len = 0;
		ml_buf_puts(&t, f->controls[i].framework ? f->controls[i].framework : "-");
		ml_buf_puts(&t, " ");
		ml_buf_puts(&t, f->controls[i].ref ? f->controls[i].ref : "-");
		if (t.oom)
			*bad = 1;
		else
			jpush(a, jstrn((const char *)t.data, t.len), bad);
	}
	ml_buf_free(&t);
	return a;
}

static json_t *
sarif_rule(const struct ml_finding *f, const char *pid, int *bad)
{
	json_t *r = json_object(), *sd = json_object(), *fd = json_object(), *help = json_object();
	json_t *cfg = json_object(), *props = json_object();
	const char *title = f->title ? f->title : f->rule_id ? f->rule_id : "";
	const char *desc = f->description ? f->description : title;

	jset(r, "id", jstr(f->rule_id ? f->rule_id : ""), bad);
	jset(sd, "text", jstr(title), bad);
	jset(r, "shortDescription", sd, bad);
	jset(fd, "text", jstr(desc), bad);
	jset(r, "fullDescription", fd, bad);
	jset(help, "text", jstr(desc), bad);
	jset(r, "help", help, bad);
	jset(cfg, "level", json_string(sarif_level(sev_of(f))), bad);
	jset(r, "defaultConfiguration", cfg, bad);
	jset(props, "severity", json_string(sev_word(sev_of(f))), bad);
	jset(props, "controls", jcontrols(f, bad), bad);
	jset(props, "tags", sarif_tags(f, bad), bad);
	jset(props, "policy", jstr(pid), bad);
	jset(r, "properties", props, bad);
	return r;
}

/* The result's location: the policy file (or --sarif-location) at the
 * rule's line, and the subject as a logical location. */
static json_t *
sarif_locations(const struct ml_finding *f, const struct ml_findings_policy *p,
		const struct ml_findings_opts *o, int *bad)
{
	json_t *locs = json_array(), *loc = json_object(), *phys = json_object();
	json_t *art = json_object(), *reg = json_object();
	struct ml_buf path = {0}, uri = {0};

	put_report_path(&path, p, o);
	if (!path.oom)
		put_uri(&uri, (const char *)path.data);
	if (path.oom || uri.oom)
		*bad = 1;
	jset(art, "uri", uri.oom ? NULL : jstrn((const char *)uri.data, uri.len), bad);
	ml_buf_free(&path);
	ml_buf_free(&uri);
	jset(phys, "artifactLocation", art, bad);
	jset(reg, "startLine", json_integer(line_of(f)), bad);
	jset(phys, "region", reg, bad);
	jset(loc, "physicalLocation", phys, bad);
	if (f->subject) {
		json_t *lls = json_array(), *ll = json_object();
		jset(ll, "name", jstr(f->subject), bad);
		jset(ll, "fullyQualifiedName", jstr(f->subject), bad);
		jset(ll, "kind", json_string("resource"), bad);
		jpush(lls, ll, bad);
		jset(loc, "logicalLocations", lls, bad);
	}
	jpush(locs, loc, bad);
	return locs;
}

static json_t *
sarif_result(const struct ml_finding *f, size_t rule_index, const struct ml_findings_policy *p,
	     const struct ml_findings_opts *o, const char *fp, int *bad)
{
	json_t *r = json_object(), *msg = json_object(), *props = json_object();
	json_t *pfp = json_object();
	enum ml_outcome oc = outcome_of(f);
	const char *kind;

	switch (oc) {
	case ML_OUT_PASS:
		kind = "pass";
		break;
	case ML_OUT_FAIL:
	case ML_OUT_WAIVED:
		kind = "fail";
		break;
	default:
		kind = "open";
		break;
	}
	jset(r, "ruleId", jstr(f->rule_id ? f->rule_id : ""), bad);
	jset(r, "ruleIndex", json_integer((json_int_t)rule_index), bad);
	jset(r, "kind", json_string(kind), bad);
	jset(r, "level", json_string(strcmp(kind, "fail") == 0 ? sarif_level(sev_of(f)) : "none"),
	     bad);
	jset(msg, "text", jstr(f->message ? f->message : ""), bad);
	jset(r, "message", msg, bad);
	jset(r, "locations", sarif_locations(f, p, o, bad), bad);
	jset(pfp, "mlledgerFinding/v1", json_string(fp), bad);
	jset(r, "partialFingerprints", pfp, bad);
	if (oc == ML_OUT_WAIVED) {
		json_t *sups = json_array(), *s = json_object(), *sp = json_object();
		jset(s, "kind", json_string("external"), bad);
		jset(s, "status", json_string("accepted"), bad);
		if (f->waiver_reason)
			jset(s, "justification", jstr(f->waiver_reason), bad);
		jset(sp, "seq", json_integer((json_int_t)f->waiver_seq), bad);
		jset(sp, "by", jstr(f->waiver_by), bad);
		jset(sp, "expires", jstr(f->waiver_expires), bad);
		jset(s, "properties", sp, bad);
		jpush(sups, s, bad);
		jset(r, "suppressions", sups, bad);
	}
	jset(props, "outcome", json_string(outcome_word(oc)), bad);
	jset(props, "severity", json_string(sev_word(sev_of(f))), bad);
	jset(props, "seqs", jseqs(f, bad), bad);
	if (has_waiver(f))
		jset(props, "waiver", jwaiver(f, bad), bad);
	jset(r, "properties", props, bad);
	return r;
}

/* Every rule once (rules), and the results: those that are not a pass, or
 * all with o->all. */
static void
sarif_rules_results(const struct ml_findings *fs, const struct ml_findings_opts *o,
		    json_t *rules, json_t *results, int *bad)
{
	const struct ml_findings_policy *pl;
	struct ml_findings_policy one;
	size_t np = policy_list(fs, &one, &pl), *rule_of = NULL, *occ = NULL, nrules = 0, i;
	char fp[65];

	if (fs->n && (!(rule_of = calloc(fs->n, sizeof *rule_of)) ||
		      !(occ = occurrences(fs, pl, np))))
		*bad = 1;
	/* rule_of[i]: position in rules of finding i's rule. */
	for (i = 0; i < fs->n && !*bad; i++) {
		size_t j = first_with_rule(fs, i);
		if (j == i) {
			rule_of[i] = nrules++;
			jpush(rules, sarif_rule(&fs->items[i], policy_of(pl, np, &fs->items[i])->id,
						bad), bad);
		} else {
			rule_of[i] = rule_of[j];
		}
	}
	for (i = 0; i < fs->n && !*bad; i++) {
		const struct ml_finding *f = &fs->items[i];
		const struct ml_findings_policy *p = policy_of(pl, np, f);
		if (outcome_of(f) == ML_OUT_PASS && !o->all)
			continue;
		fingerprint(p->id, f, occ[i], fp, bad);
		jpush(results, sarif_result(f, rule_of[i], p, o, fp, bad), bad);
	}
	free(rule_of);
	free(occ);
}

static int
write_sarif(const struct ml_findings *fs, const struct ml_findings_opts *o, struct ml_buf *b)
{
	json_t *root = json_object(), *runs = json_array(), *run = json_object();
	json_t *tool = json_object(), *driver = json_object(), *rules = json_array();
	json_t *results = json_array(), *props = json_object();
	int bad = 0;

	sarif_rules_results(fs, o, rules, results, &bad);
	jset(root, "$schema", json_string(SARIF_SCHEMA), &bad);
	jset(root, "version", json_string("2.1.0"), &bad);
	jset(driver, "name", json_string("mlledger"), &bad);
	jset(driver, "informationUri", json_string(TOOL_URI), &bad);
	jset(driver, "version", json_string(ML_VERSION), &bad);
	jset(driver, "rules", rules, &bad);
	jset(tool, "driver", driver, &bad);
	jset(run, "tool", tool, &bad);
	jset(run, "results", results, &bad);
	jset(props, "policy", jpolicy(fs, &bad), &bad);
	jset(props, "policies", jpolicies(fs, &bad), &bad);
	jset(props, "subject", jstr(fs->subject), &bad);
	jset(props, "env", jstr(fs->env), &bad);
	jset(props, "asOf", jstr(fs->as_of), &bad);
	jset(props, "ledger", jledger(fs, &bad), &bad);
	jset(props, "verdict", json_string(verdict_word(fs->verdict)), &bad);
	jset(props, "summary", jsummary(fs, &bad), &bad);
	jset(run, "properties", props, &bad);
	jpush(runs, run, &bad);
	jset(root, "runs", runs, &bad);
	return jdump(root, bad, b);
}

/* ---- gitlab ---- */

/* GitLab's severity: info, minor (warn), critical (deny), blocker
 * (indeterminate: the gate cannot decide at all). */
static const char *
gitlab_severity(const struct ml_finding *f)
{
	if (outcome_of(f) == ML_OUT_INDETERMINATE)
		return "blocker";
	return sev_of(f) == ML_SEV_DENY ? "critical" : sev_of(f) == ML_SEV_WARN ? "minor" : "info";
}

static json_t *
gitlab_issue(const struct ml_finding *f, const struct ml_findings_policy *p,
	     const struct ml_findings_opts *o, const char *fp, int *bad)
{
	json_t *it = json_object(), *loc = json_object(), *lines = json_object();
	struct ml_buf d = {0}, path = {0};

	ml_buf_puts(&d, f->subject ? f->subject : "-");
	ml_buf_puts(&d, ": ");
	ml_buf_puts(&d, f->message ? f->message : "");
	if (outcome_of(f) == ML_OUT_INDETERMINATE)
		ml_buf_puts(&d, " (indeterminate)");
	put_report_path(&path, p, o);
	if (d.oom || path.oom)
		*bad = 1;
	jset(it, "description", d.oom ? NULL : jstrn((const char *)d.data, d.len), bad);
	jset(it, "check_name", jstr(f->rule_id ? f->rule_id : ""), bad);
	jset(it, "fingerprint", json_string(fp), bad);
	jset(it, "severity", json_string(gitlab_severity(f)), bad);
	jset(loc, "path", path.oom ? NULL : jstrn((const char *)path.data, path.len), bad);
	jset(lines, "begin", json_integer(line_of(f)), bad);
	jset(loc, "lines", lines, bad);
	jset(it, "location", loc, bad);
	ml_buf_free(&d);
	ml_buf_free(&path);
	return it;
}

/* A GitLab Code Quality report: one issue per failed or indeterminate
 * finding (waived ones are accepted, passes are not issues). */
static int
write_gitlab(const struct ml_findings *fs, const struct ml_findings_opts *o, struct ml_buf *b)
{
	const struct ml_findings_policy *pl;
	struct ml_findings_policy one;
	size_t np = policy_list(fs, &one, &pl), *occ = NULL, i;
	json_t *root = json_array();
	char fp[65];
	int bad = 0;

	if (fs->n && !(occ = occurrences(fs, pl, np)))
		bad = 1;
	for (i = 0; i < fs->n && !bad; i++) {
		const struct ml_finding *f = &fs->items[i];
		const struct ml_findings_policy *p = policy_of(pl, np, f);
		enum ml_outcome oc = outcome_of(f);
		if (oc != ML_OUT_FAIL && oc != ML_OUT_INDETERMINATE)
			continue;
		fingerprint(p->id, f, occ[i], fp, &bad);
		jpush(root, gitlab_issue(f, p, o, fp, &bad), &bad);
	}
	free(occ);
	return jdump(root, bad, b);
}

/* ---- junit ---- */

/* Sets attribute name on n to value made XML-safe.  ML_OK, or ML_EIO (out
 * of memory, or n NULL: its creation ran out). */
static enum ml_rc
xprop(xmlNodePtr n, const char *name, const char *value)
{
	struct ml_buf t = {0};
	enum ml_rc rc = ML_EIO;

	if (!n)
		return ML_EIO;
	put_clean(&t, value ? value : "", value ? strlen(value) : 0, 1);
	if (!t.oom && xmlNewProp(n, (const xmlChar *)name, t.data))
		rc = ML_OK;
	ml_buf_free(&t);
	return rc;
}

static enum ml_rc
xprop_num(xmlNodePtr n, const char *name, unsigned long long v)
{
	char num[24];

	snprintf(num, sizeof num, "%llu", v);
	return xprop(n, name, num);
}

/* A new child element of parent with text (made XML-safe; none when NULL),
 * or NULL. */
static xmlNodePtr
xchild(xmlNodePtr parent, const char *name, const char *text, size_t len)
{
	struct ml_buf t = {0};
	xmlNodePtr n = NULL;

	if (!parent)
		return NULL;
	if (!text)
		return xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);
	put_clean(&t, text, len, 1);
	if (!t.oom)
		n = xmlNewTextChild(parent, NULL, (const xmlChar *)name, t.data);
	ml_buf_free(&t);
	return n;
}

static enum ml_rc
xproperty(xmlNodePtr props, const char *name, const char *value)
{
	xmlNodePtr p;

	if (!value)
		return ML_OK;
	p = xchild(props, "property", NULL, 0);
	return p && xprop(p, "name", name) == ML_OK && xprop(p, "value", value) == ML_OK
		       ? ML_OK
		       : ML_EIO;
}

/* The body of a failure/error/skipped element: everything the finding
 * says, one item a line. */
static void
junit_detail(struct ml_buf *d, const struct ml_finding *f)
{
	size_t i;

	ml_buf_puts(d, f->title ? f->title : "");
	ml_buf_puts(d, "\nrule: ");
	ml_buf_puts(d, f->rule_id ? f->rule_id : "-");
	ml_buf_printf(d, "\nseverity: %s\noutcome: %s\nsubject: ", sev_word(sev_of(f)),
		      outcome_word(outcome_of(f)));
	ml_buf_puts(d, f->subject ? f->subject : "-");
	ml_buf_puts(d, "\nmessage: ");
	ml_buf_puts(d, f->message ? f->message : "");
	ml_buf_puts(d, "\nseqs:");
	for (i = 0; i < f->nseqs; i++)
		ml_buf_printf(d, " %lld", (long long)f->seqs[i]);
	ml_buf_puts(d, "\ncontrols:");
	for (i = 0; i < f->ncontrols; i++) {
		ml_buf_puts(d, i ? "; " : " ");
		ml_buf_puts(d, f->controls[i].framework ? f->controls[i].framework : "-");
		ml_buf_puts(d, " ");
		ml_buf_puts(d, f->controls[i].ref ? f->controls[i].ref : "-");
	}
	if (has_waiver(f)) {
		ml_buf_printf(d, "\nwaiver: seq %lld by ", (long long)f->waiver_seq);
		ml_buf_puts(d, f->waiver_by ? f->waiver_by : "-");
		ml_buf_puts(d, " until ");
		ml_buf_puts(d, f->waiver_expires ? f->waiver_expires : "-");
		ml_buf_puts(d, f->waiver_expired ? " (expired): " : ": ");
		ml_buf_puts(d, f->waiver_reason ? f->waiver_reason : "");
	}
	ml_buf_puts(d, "\n");
}

/* "YYYY-MM-DDTHH:MM:SS" from as_of, or the epoch when it is missing or
 * malformed. */
static void
junit_timestamp(const char *as_of, char out[20])
{
	char t[21];
	int64_t us;

	memcpy(out, "1970-01-01T00:00:00", 20);
	if (!as_of || ml_time_parse(as_of, &us) != 0 || us < 0)
		return;
	ml_time_format(us, t);
	if (strlen(t) == 20 && t[19] == 'Z' && memcmp(t, "0000", 4) != 0) {
		memcpy(out, t, 19);
		out[19] = '\0';
	}
}

/* One finding as a testcase of suite.  ML_OK, or ML_EIO (out of memory). */
static enum ml_rc
junit_testcase(xmlNodePtr suite, const struct ml_finding *f)
{
	enum ml_outcome o = outcome_of(f);
	struct ml_buf d = {0};
	xmlNodePtr tc, el = NULL;
	enum ml_rc rc = ML_EIO;

	tc = xchild(suite, "testcase", NULL, 0);
	if (!tc || xprop(tc, "classname", f->rule_id) != ML_OK ||
	    xprop(tc, "name", f->subject ? f->subject : "-") != ML_OK ||
	    xprop(tc, "time", "0") != ML_OK)
		return ML_EIO;
	if (o == ML_OUT_PASS)
		return ML_OK;
	junit_detail(&d, f);
	if (d.oom)
		goto out;
	if (o == ML_OUT_FAIL) {
		el = xchild(tc, "failure", (const char *)d.data, d.len);
		if (!el || xprop(el, "message", f->message) != 0 ||
		    xprop(el, "type", sev_word(sev_of(f))) != 0)
			goto out;
	} else if (o == ML_OUT_INDETERMINATE) {
		el = xchild(tc, "error", (const char *)d.data, d.len);
		if (!el || xprop(el, "message", f->message) != 0 ||
		    xprop(el, "type", "indeterminate") != 0)
			goto out;
	} else {
		struct ml_buf m = {0};
		ml_buf_puts(&m, "waived by ");
		ml_buf_puts(&m, f->waiver_by ? f->waiver_by : "-");
		ml_buf_puts(&m, " until ");
		ml_buf_puts(&m, f->waiver_expires ? f->waiver_expires : "-");
		if (has_waiver(f))
			ml_buf_printf(&m, ", seq %lld", (long long)f->waiver_seq);
		ml_buf_puts(&m, ": ");
		ml_buf_puts(&m, f->waiver_reason ? f->waiver_reason : "");
		el = xchild(tc, "skipped", (const char *)d.data, d.len);
		rc = m.oom || !el ? ML_EIO : xprop(el, "message", (const char *)m.data);
		ml_buf_free(&m);
		if (rc != ML_OK)
			goto out;
	}
	rc = ML_OK;
out:
	ml_buf_free(&d);
	return rc;
}

/* With several policies, the second and later ones as properties
 * policy.N.id, .version, .file, .sha256 (N from 2; the first is policy.*).
 * ML_OK, or ML_EIO (out of memory). */
static enum ml_rc
junit_policies(xmlNodePtr props, const struct ml_findings *fs)
{
	const struct ml_findings_policy *pl;
	struct ml_findings_policy one;
	size_t i, n = policy_list(fs, &one, &pl);
	char name[48];

	for (i = 1; i < n; i++) {
		snprintf(name, sizeof name, "policy.%zu.id", i + 1);
		if (xproperty(props, name, pl[i].id) != 0)
			return ML_EIO;
		snprintf(name, sizeof name, "policy.%zu.version", i + 1);
		if (xproperty(props, name, pl[i].version) != 0)
			return ML_EIO;
		snprintf(name, sizeof name, "policy.%zu.file", i + 1);
		if (xproperty(props, name, pl[i].file) != 0)
			return ML_EIO;
		snprintf(name, sizeof name, "policy.%zu.sha256", i + 1);
		if (xproperty(props, name, pl[i].sha256[0] ? pl[i].sha256 : NULL) != 0)
			return ML_EIO;
	}
	return ML_OK;
}

/* "mlledger A" or "mlledger A, B" for the suite name. */
static void
junit_suite_name(struct ml_buf *name, const struct ml_findings *fs)
{
	const struct ml_findings_policy *pl;
	struct ml_findings_policy one;
	size_t i, n = policy_list(fs, &one, &pl);

	ml_buf_puts(name, "mlledger ");
	for (i = 0; i < n; i++) {
		if (i)
			ml_buf_puts(name, ", ");
		ml_buf_puts(name, pl[i].id ? pl[i].id : "policy");
	}
}

static int
write_junit(const struct ml_findings *fs, struct ml_buf *b)
{
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr root = NULL, suite, props;
	struct ml_buf name = {0}, sum = {0};
	struct tally t;
	xmlChar *mem = NULL;
	char ts[20];
	int size = 0, rc = ML_EIO;
	size_t i;

	if (!doc || !(root = xmlNewDocNode(doc, NULL, (const xmlChar *)"testsuites", NULL)))
		goto out;
	xmlDocSetRootElement(doc, root);
	tally_findings(fs, &t);
	junit_timestamp(fs->as_of, ts);
	junit_suite_name(&name, fs);
	if (name.oom)
		goto out;
	suite = xchild(root, "testsuite", NULL, 0);
	if (xprop(suite, "name", (const char *)name.data) != 0 ||
	    xprop(suite, "package", "mlledger") != 0 || xprop(suite, "id", "0") != 0 ||
	    xprop(suite, "timestamp", ts) != 0 || xprop(suite, "hostname", "localhost") != 0 ||
	    xprop_num(suite, "tests", t.total) != 0 || xprop_num(suite, "failures", t.failed) != 0 ||
	    xprop_num(suite, "errors", t.indet) != 0 || xprop_num(suite, "skipped", t.waived) != 0 ||
	    xprop(suite, "time", "0") != 0)
		goto out;

	props = xchild(suite, "properties", NULL, 0);
	if (!props)
		goto out;
	{
		char size_s[24], sha[65];
		snprintf(size_s, sizeof size_s, "%llu", (unsigned long long)fs->ledger_size);
		snprintf(sha, sizeof sha, "%.64s", fs->policy_sha256);
		if (xproperty(props, "policy.id", fs->policy_id) != 0 ||
		    xproperty(props, "policy.version", fs->policy_version) != 0 ||
		    xproperty(props, "policy.file", fs->policy_file) != 0 ||
		    xproperty(props, "policy.sha256", sha[0] ? sha : NULL) != 0 ||
		    xproperty(props, "subject", fs->subject) != 0 ||
		    xproperty(props, "env", fs->env) != 0 ||
		    xproperty(props, "asOf", fs->as_of) != 0 ||
		    xproperty(props, "ledger.size", size_s) != 0 ||
		    xproperty(props, "ledger.root", fs->ledger_root) != 0 ||
		    xproperty(props, "verdict", verdict_word(fs->verdict)) != 0 ||
		    junit_policies(props, fs) != 0)
			goto out;
	}
	for (i = 0; i < fs->n; i++)
		if (junit_testcase(suite, &fs->items[i]) != 0)
			goto out;
	put_summary(&sum, fs);
	ml_buf_puts(&sum, "\n");
	if (sum.oom || !xchild(suite, "system-out", (const char *)sum.data, sum.len) ||
	    !xchild(suite, "system-err", NULL, 0))
		goto out;

	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	if (!mem || size < 0)
		goto out;
	ml_buf_append(b, mem, (size_t)size);
	rc = b->oom ? ML_EIO : ML_OK;
out:
	xmlFree(mem);
	xmlFreeDoc(doc);
	ml_buf_free(&name);
	ml_buf_free(&sum);
	return rc;
}

/* ---- public ---- */

enum ml_rc
ml_format_parse(const char *name, enum ml_format *out)
{
	static const struct {
		const char *name;
		enum ml_format f;
	} names[] = {
		{"text", ML_FMT_TEXT},   {"json", ML_FMT_JSON},     {"junit", ML_FMT_JUNIT},
		{"sarif", ML_FMT_SARIF}, {"github", ML_FMT_GITHUB}, {"gitlab", ML_FMT_GITLAB},
	};
	size_t i;

	if (!name)
		return ML_EINPUT;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(name, names[i].name) == 0) {
			if (out)
				*out = names[i].f;
			return ML_OK;
		}
	}
	return ML_EINPUT;
}

/* After a writer's error rc (or out->oom): leaves out as it was at start
 * (what went to a sink is gone) and says so in e. */
static int
write_failed(struct ml_buf *out, size_t start, struct ml_err *e)
{
	out->len = out->sink ? 0 : start;
	if (out->data)
		out->data[out->len] = 0;
	out->oom = 0;
	return ml_err_set(e, ML_EIO, out->sink ? "findings: cannot write the output (out of memory "
						"or a failed write)"
					      : "findings: out of memory while writing the report");
}

/* The writer of format f (known) for fs with options o. */
static int
write_format(const struct ml_findings *fs, enum ml_format f, const struct ml_findings_opts *o,
	     struct ml_buf *out)
{
	switch (f) {
	case ML_FMT_TEXT:
		return write_text(fs, out);
	case ML_FMT_JSON:
		return write_json(fs, out);
	case ML_FMT_JUNIT:
		return write_junit(fs, out);
	case ML_FMT_SARIF:
		return write_sarif(fs, o, out);
	case ML_FMT_GITHUB:
		return write_github(fs, out);
	default:
		return write_gitlab(fs, o, out);
	}
}

int
ml_findings_write(const struct ml_findings *fs, enum ml_format f, struct ml_buf *out,
		  struct ml_err *e)
{
	return ml_findings_write_opts(fs, f, NULL, out, e);
}

int
ml_findings_write_opts(const struct ml_findings *fs, enum ml_format f,
		       const struct ml_findings_opts *o, struct ml_buf *out, struct ml_err *e)
{
	static const struct ml_findings_opts none;
	size_t start;
	int rc;

	if (!fs || !out || (fs->n && !fs->items))
		return ml_err_set(e, ML_EINPUT, "findings: nothing to write");
	if (out->oom)
		return ml_err_set(e, ML_EIO, "findings: out of memory");
	if ((unsigned)f > (unsigned)ML_FMT_GITLAB)
		return ml_err_set(e, ML_EINPUT, "findings: unknown output format %d", (int)f);
	start = out->len;
	rc = write_format(fs, f, o ? o : &none, out);
	if (rc == ML_OK && !out->oom)
		return ML_OK;
	return write_failed(out, start, e);
}

static int
verdict_rank(int v)
{
	return v == ML_EPOLICY ? 2 : v == ML_EDENY ? 1 : 0;
}

/* Moves *from into *into when *into is unset. */
static void
take_str(char **into, char **from)
{
	if (!*into) {
		*into = *from;
		*from = NULL;
	}
}

enum ml_rc
ml_findings_reserve(struct ml_findings *fs, size_t more)
{
	struct ml_finding *items;
	size_t cap;

	if (fs->cap < fs->n)
		fs->cap = fs->n; /* a caller that filled items itself */
	if (fs->n + more <= fs->cap)
		return ML_OK;
	cap = fs->cap * 2 > fs->n + more ? fs->cap * 2 : fs->n + more;
	if (cap < 16)
		cap = 16;
	if (!(items = realloc(fs->items, cap * sizeof *items)))
		return ML_EIO;
	fs->items = items;
	fs->cap = cap;
	return ML_OK;
}

/* map[j]: where from's policy j is (or goes) in into.  Reserves room for
 * the new ones first; ML_EIO when out of memory (nothing changed). */
static enum ml_rc
policies_map(struct ml_findings *into, const struct ml_findings *from, size_t *map)
{
	size_t j, add = 0;

	for (j = 0; j < from->npolicies; j++)
		if (policy_find(into, &from->policies[j]) == into->npolicies)
			add++;
	if (policy_reserve(into, add) != 0)
		return ML_EIO;
	for (j = 0; j < from->npolicies; j++) {
		size_t k = policy_find(into, &from->policies[j]);
		if (k == into->npolicies) {
			into->policies[into->npolicies++] = from->policies[j];
			memset(&from->policies[j], 0, sizeof from->policies[j]); /* stolen */
		}
		map[j] = k;
	}
	return ML_OK;
}

int
ml_findings_move(struct ml_findings *into, struct ml_findings *from)
{
	size_t mapbuf[16], *map = mapbuf, i;

	if (from->npolicies > 16 && !(map = malloc(from->npolicies * sizeof *map)))
		return ML_EIO;
	if (from->n && ml_findings_reserve(into, from->n)) {
		if (map != mapbuf)
			free(map);
		return ML_EIO;
	}
	if (policies_map(into, from, map) != 0) {
		if (map != mapbuf)
			free(map);
		return ML_EIO;
	}
	for (i = 0; from->npolicies && i < from->n; i++)
		from->items[i].policy = map[from->items[i].policy < from->npolicies
						    ? from->items[i].policy : 0];
	if (map != mapbuf)
		free(map);
	if (from->n) {
		memcpy(into->items + into->n, from->items, from->n * sizeof *into->items);
		into->n += from->n;
		free(from->items);
		from->items = NULL;
		from->n = 0;
	}
	if (verdict_rank(from->verdict) > verdict_rank(into->verdict))
		into->verdict = from->verdict;
	if (!into->policy_id && from->policy_id)
		memcpy(into->policy_sha256, from->policy_sha256, sizeof into->policy_sha256);
	take_str(&into->policy_id, &from->policy_id);
	take_str(&into->policy_version, &from->policy_version);
	take_str(&into->policy_file, &from->policy_file);
	ml_findings_free(from);
	return ML_OK;
}

/* Frees fs's findings (not the array); fs->n becomes 0. */
static void
free_items(struct ml_findings *fs)
{
	size_t i, j;

	for (i = 0; i < fs->n && fs->items; i++) {
		struct ml_finding *f = &fs->items[i];
		free(f->rule_id);
		free(f->title);
		free(f->description);
		free(f->subject);
		free(f->message);
		free(f->seqs);
		for (j = 0; j < f->ncontrols && f->controls; j++) {
			free(f->controls[j].framework);
			free(f->controls[j].ref);
		}
		free(f->controls);
		free(f->waiver_by);
		free(f->waiver_reason);
		free(f->waiver_expires);
	}
	fs->n = 0;
}

void
ml_findings_free(struct ml_findings *fs)
{
	size_t i;

	if (!fs)
		return;
	free_items(fs);
	free(fs->items);
	free(fs->policy_id);
	free(fs->policy_version);
	free(fs->policy_file);
	free(fs->subject);
	free(fs->env);
	free(fs->as_of);
	free(fs->ledger_root);
	for (i = 0; i < fs->npolicies && fs->policies; i++)
		policy_clear(&fs->policies[i]);
	free(fs->policies);
	memset(fs, 0, sizeof *fs);
}

/* ---- digest ---- */

/* Streams the canonical JSON into a hash context through a small buffer,
 * so the only allocation is the context. */
struct dsink {
	struct ml_sha256_ctx *c;
	size_t len;
	uint8_t buf[1024];
};

static void
dput(struct dsink *d, const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n) {
		size_t k = sizeof d->buf - d->len;
		if (k > n)
			k = n;
		memcpy(d->buf + d->len, s, k);
		d->len += k;
		s += k;
		n -= k;
		if (d->len == sizeof d->buf) {
			ml_sha256_update(d->c, d->buf, d->len);
			d->len = 0;
		}
	}
}

static void
dputs(struct dsink *d, const char *s)
{
	dput(d, s, strlen(s));
}

static void
dsink_put(void *d, const void *p, size_t n)
{
	dput(d, p, n);
}

/* A JSON string as RFC 8785 writes it, or null (json_str). */
static void
dstr(struct dsink *d, const char *s)
{
	json_str(dsink_put, d, s, "0123456789abcdef");
}

/* One element of the digested array; first: the array's first. */
static void
digest_item(struct dsink *d, const struct ml_finding *f, int first)
{
	char num[24];
	size_t j;

	dputs(d, first ? "{\"message\":" : ",{\"message\":");
	dstr(d, f->message);
	dputs(d, ",\"outcome\":");
	dstr(d, outcome_word(outcome_of(f)));
	dputs(d, ",\"ruleId\":");
	dstr(d, f->rule_id);
	dputs(d, ",\"seqs\":[");
	for (j = 0; j < f->nseqs && f->seqs; j++) {
		snprintf(num, sizeof num, "%s%lld", j ? "," : "", (long long)f->seqs[j]);
		dputs(d, num);
	}
	dputs(d, "],\"subject\":");
	dstr(d, f->subject);
	dputs(d, "}");
}

/* Closes the array and finishes the hash (d->c is freed). */
static void
digest_final(struct dsink *d, uint8_t out[ML_SHA256_LEN])
{
	dputs(d, "]");
	if (d->len)
		ml_sha256_update(d->c, d->buf, d->len);
	ml_sha256_final(d->c, out);
	d->c = NULL;
}

int
ml_findings_digest(const struct ml_findings *fs, uint8_t out[ML_SHA256_LEN])
{
	struct dsink d;
	size_t i;

	memset(out, 0, ML_SHA256_LEN);
	d.len = 0;
	if (!(d.c = ml_sha256_new()))
		return ML_EIO;
	dputs(&d, "[");
	for (i = 0; fs && fs->items && i < fs->n; i++)
		digest_item(&d, &fs->items[i], i == 0);
	digest_final(&d, out);
	return ML_OK;
}

/* ---- stream ---- */

struct ml_findings_stream {
	enum ml_format f;
	struct ml_findings all;  /* policy fields and verdict; junit, sarif: every finding */
	struct tally t;
	struct dsink d;          /* the digest so far */
	FILE *spool;             /* text, github, json: the findings written so far */
	struct ml_buf b;         /* draining into spool */
	struct ml_findings_opts o;
};

/* An anonymous file in $TMPDIR (or /tmp): removed when closed. */
static FILE *
spool_open(void)
{
	int fd = ml_tmpfile_fd(NULL);
	FILE *fp;

	if (fd < 0)
		return NULL;
	if (!(fp = fdopen(fd, "w+")))
		close(fd);
	return fp;
}

/* junit, sarif and gitlab need every finding at once. */
static int
holds_findings(enum ml_format f)
{
	return f == ML_FMT_JUNIT || f == ML_FMT_SARIF || f == ML_FMT_GITLAB;
}

void
ml_findings_stream_set_opts(struct ml_findings_stream *s, const struct ml_findings_opts *o)
{
	static const struct ml_findings_opts none;

	s->o = o ? *o : none;
}

int
ml_findings_stream_new(enum ml_format f, struct ml_findings_stream **out, struct ml_err *e)
{
	struct ml_findings_stream *s;

	if ((unsigned)f > (unsigned)ML_FMT_GITLAB)
		return ml_err_set(e, ML_EINPUT, "findings: unknown output format %d", (int)f);
	if (!(s = calloc(1, sizeof *s)) || !(s->d.c = ml_sha256_new())) {
		free(s);
		return ml_err_set(e, ML_EIO, "findings: out of memory");
	}
	s->f = f;
	dputs(&s->d, "[");
	if (!holds_findings(f)) {
		if (!(s->spool = spool_open())) {
			ml_findings_stream_free(s);
			return ml_err_set(e, ML_EIO, "findings: cannot create a temporary file in "
					  "$TMPDIR or /tmp");
		}
		s->b.sink = s->spool;
	}
	*out = s;
	return ML_OK;
}

int
ml_findings_stream_add(struct ml_findings_stream *s, struct ml_findings *part, struct ml_err *e)
{
	size_t i;

	for (i = 0; i < part->n && s->spool; i++) {
		const struct ml_finding *f = &part->items[i];
		if (s->f == ML_FMT_JSON) {
			if (s->t.total)
				ml_buf_puts(&s->b, ",\n");
			jw_finding(&s->b, f);
		} else if (s->f == ML_FMT_TEXT) {
			text_item(&s->b, f);
		} else {
			github_item(&s->b, f);
		}
		digest_item(&s->d, f, s->t.total == 0);
		tally_add(&s->t, f);
		ml_buf_drain(&s->b, DRAIN_AT);
	}
	for (i = 0; i < part->n && !s->spool; i++) {
		digest_item(&s->d, &part->items[i], s->t.total == 0);
		tally_add(&s->t, &part->items[i]);
	}
	if (s->spool)
		free_items(part); /* written: only the policy fields and verdict are kept */
	if (s->b.oom || ml_findings_move(&s->all, part) != ML_OK) {
		ml_findings_free(part);
		s->b.oom = 1;
		return ml_err_set(e, ML_EIO, "findings: out of memory or a failed write to the "
				  "temporary file");
	}
	return ML_OK;
}

size_t
ml_findings_stream_warn_failures(const struct ml_findings_stream *s)
{
	return s->t.warn;
}

int
ml_findings_stream_verdict(const struct ml_findings_stream *s)
{
	return s->all.verdict;
}

void
ml_findings_stream_set_verdict(struct ml_findings_stream *s, int verdict)
{
	s->all.verdict = verdict;
}

/* Appends what the spool holds to out, draining as it goes. */
static int
copy_spool(struct ml_findings_stream *s, struct ml_buf *out)
{
	char chunk[65536];
	size_t n;

	if (fflush(s->spool) != 0 || fseek(s->spool, 0, SEEK_SET) != 0)
		return ML_EIO;
	while ((n = fread(chunk, 1, sizeof chunk, s->spool)) > 0 && !out->oom) {
		ml_buf_append(out, chunk, n);
		ml_buf_drain(out, DRAIN_AT);
	}
	return ferror(s->spool) || out->oom ? ML_EIO : ML_OK;
}

static int
stream_write(struct ml_findings_stream *s, struct ml_buf *out)
{
	uint8_t d[ML_SHA256_LEN];
	const char *at;
	char *js = NULL;
	int rc;

	digest_final(&s->d, d);
	if (holds_findings(s->f))
		return write_format(&s->all, s->f, &s->o, out);
	ml_buf_drain(&s->b, 0);
	if (s->b.oom)
		return ML_EIO;
	if (s->f != ML_FMT_JSON) {
		if ((rc = copy_spool(s, out)) == ML_OK) {
			put_summary_of(out, &s->all, &s->t);
			ml_buf_puts(out, "\n");
		}
		return rc;
	}
	if (json_frame(&s->all, &s->t, d, &js, &at) != ML_OK)
		return ML_EIO;
	if (s->t.total == 0) {
		ml_buf_puts(out, js);
		rc = ML_OK;
	} else {
		ml_buf_append(out, js, (size_t)(at - js) + sizeof json_mark - 4); /* up to '[' */
		ml_buf_puts(out, "\n");
		if ((rc = copy_spool(s, out)) == ML_OK) {
			ml_buf_puts(out, "\n  ]");
			ml_buf_puts(out, at + sizeof json_mark - 3); /* after the "]" */
		}
	}
	free(js);
	ml_buf_puts(out, "\n");
	return rc;
}

int
ml_findings_stream_finish(struct ml_findings_stream *s, struct ml_buf *out, struct ml_err *e)
{
	size_t start;
	int rc;

	if (!s->d.c)
		return ml_err_set(e, ML_EINPUT, "findings: the stream was finished already");
	if (out->oom)
		return ml_err_set(e, ML_EIO, "findings: out of memory");
	start = out->len;
	rc = stream_write(s, out);
	if (rc == ML_OK && !out->oom)
		return ML_OK;
	return write_failed(out, start, e);
}

void
ml_findings_stream_free(struct ml_findings_stream *s)
{
	uint8_t d[ML_SHA256_LEN];

	if (!s)
		return;
	if (s->d.c)
		ml_sha256_final(s->d.c, d);
	if (s->spool)
		fclose(s->spool);
	ml_buf_free(&s->b);
	ml_findings_free(&s->all);
	free(s);
}

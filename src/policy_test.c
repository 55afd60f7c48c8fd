/* policy_test — see policy_test.h.
 *
 * One run of a test file: parse and validate it, load its policy (for the
 * rule ids), check what the schema cannot (fixtures, expectations), make
 * the keys and a temporary folder, build every fixture, then evaluate each
 * case and compare.  Results go to a per-file struct first and are merged
 * into the caller's only when the whole file ran.
 */
#include "policy_test.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "decision.h"
#include "evidence.h"
#include "findings.h"
#include "governance.h"
#include "keys.h"
#include "ledger.h"
#include "policy.h"
#include "policy_test_xsd.h" /* generated from policies/policy-test.xsd */
#include "request.h"
#include "statement.h"
#include "tlog.h"

#define MAX_KEYS 65       /* admin and 64 declared */
#define MAX_LINE (1024 * 1024)
#define MAX_MESSAGE 2048  /* of a failure's message */

struct tkey {
	char *name;
	json_t *roles;             /* JSON array of role names */
	json_t *person;            /* {"id", "name"?} for the enrolment, or NULL */
	struct ml_seckey *k;
};

/* One line of a fixture and where it came from, for messages. */
struct tline {
	const char *text;          /* borrowed: into a file buffer or the doc */
	size_t len;
	char where[300];           /* "file:line" */
};

struct tlines {
	struct tline *v;
	size_t n, cap;
};

struct fixture {
	char *id, *base, *file;
	xmlNodePtr node;
	int state;                 /* 0 not built, 1 building, 2 built */
	char db[PATH_MAX];
	struct ml_ledger *l;
};

/* A file's results before they are merged. */
struct fresult {
	struct ml_ptest_failure *v;
	size_t n, cap;
	size_t cases, passed, failed;
	unsigned char *pass, *fail; /* per rule of the policy */
};

struct run {
	const char *path;
	char dir[PATH_MAX];        /* the test file's folder */
	char policy_path[PATH_MAX];
	xmlDocPtr doc;
	struct ml_policyset *policy;
	struct tkey keys[MAX_KEYS];
	size_t nkeys;
	struct fixture *fx;
	size_t nfx;
	char **bufs;               /* fixture files read, freed at the end */
	size_t nbufs;
	char tmp[PATH_MAX - 64];   /* the mkdtemp folder, or "" */
	int64_t now;
	struct fresult res;
	struct ml_err *e;
};

/* ---- small helpers ----------------------------------------------------- */

static int
is_t(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       xmlStrEqual(n->ns->href, (const xmlChar *)ML_PTEST_NS) &&
	       xmlStrEqual(n->name, (const xmlChar *)name);
}

/* The unqualified attribute name of n, malloc'd, or NULL. */
static char *
tattr(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	char *r = v ? strdup((const char *)v) : NULL;

	xmlFree(v);
	return r;
}

static int
ferr(struct run *t, xmlNodePtr n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ML_EPOLICY "path:line: message". */
static int
ferr(struct run *t, xmlNodePtr n, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ml_err_set(t->e, ML_EPOLICY, "%s:%ld: %s", t->path, n ? xmlGetLineNo(n) : 0L, msg);
}

/* Rewrites an error of a step about node n as "path:line: what: message";
 * storage errors keep their code, everything else is an invalid test. */
static int
wrap(struct run *t, xmlNodePtr n, const char *what, int rc)
{
	char msg[sizeof t->e->msg];

	if (rc == ML_EIO)
		return rc;
	snprintf(msg, sizeof msg, "%s", t->e->msg);
	return ml_err_set(t->e, ML_EPOLICY, "%s:%ld: %s: %s", t->path, xmlGetLineNo(n), what, msg);
}

static int
oom(struct run *t)
{
	return ml_err_set(t->e, ML_EIO, "out of memory");
}

/* path relative to the test file's folder, unless absolute.  ML_OK, or
 * ML_EINPUT when it does not fit in cap. */
static enum ml_rc
resolve_path(struct run *t, const char *rel, char *out, size_t cap)
{
	int n = rel[0] == '/' || !strcmp(t->dir, ".") ? snprintf(out, cap, "%s", rel)
						      : snprintf(out, cap, "%s/%s", t->dir, rel);

	return n < 0 || (size_t)n >= cap ? ML_EINPUT : ML_OK;
}

enum ml_rc
ml_ptest_time(const char *s, int64_t now_us, int64_t *us)
{
	long days = 0;
	char *end;

	if (!s)
		return ML_EINPUT;
	if (strncmp(s, "now", 3) != 0)
		return ml_time_parse(s, us);
	if (s[3]) {
		if ((s[3] != '+' && s[3] != '-') || s[4] < '0' || s[4] > '9')
			return ML_EINPUT;
		errno = 0;
		days = strtol(s + 4, &end, 10);
		if (errno || strcmp(end, "d") != 0 || end - (s + 4) > 5)
			return ML_EINPUT;
		if (s[3] == '-')
			days = -days;
	}
	*us = now_us + (int64_t)days * 86400 * 1000000;
	return ML_OK;
}

/* "now..." as YYYY-MM-DD (date) or YYYY-MM-DDTHH:MM:SSZ into out (then
 * *rewritten is true); other values are left alone (*rewritten false, out
 * unset).  ML_OK, or ML_EINPUT for a bad "now". */
static enum ml_rc
relative(const char *s, int64_t now, int date, char out[21], bool *rewritten)
{
	int64_t us;

	*rewritten = false;
	if (!s || strncmp(s, "now", 3) != 0)
		return ML_OK;
	if (ml_ptest_time(s, now, &us) != ML_OK)
		return ML_EINPUT;
	ml_time_format(us, out);
	if (date)
		out[10] = '\0';
	*rewritten = true;
	return ML_OK;
}

/* ---- loading ----------------------------------------------------------- */

/* The enrolment's person of <key> k: {"id": person (default: the key's
 * name), "name"?: person-name}, or NULL when k gives neither. */
static int
key_person(struct run *t, xmlNodePtr k, struct tkey *tk)
{
	char *id = tattr(k, "person"), *name = tattr(k, "person-name");
	int rc = ML_OK;

	if (id || name) {
		tk->person = json_pack("{s:s}", "id", id ? id : tk->name);
		if (!tk->person || (name && json_object_set_new(tk->person, "name",
								json_string(name))))
			rc = oom(t);
	}
	free(id);
	free(name);
	return rc;
}

static int
load_keys(struct run *t, xmlNodePtr keys)
{
	xmlNodePtr k;

	t->keys[0].name = strdup("admin");
	t->keys[0].roles = json_pack("[s]", "admin");
	if (!t->keys[0].name || !t->keys[0].roles)
		return oom(t);
	t->nkeys = 1;
	for (k = keys ? keys->children : NULL; k; k = k->next) {
		struct tkey *tk = &t->keys[t->nkeys];
		char *roles, *tok, *save = NULL;
		if (!is_t(k, "key"))
			continue;
		if (t->nkeys == MAX_KEYS)
			return ferr(t, k, "more than %d keys", MAX_KEYS - 1);
		tk->name = tattr(k, "name");
		tk->roles = json_array();
		t->nkeys++;
		if (!tk->name || !tk->roles || !(roles = tattr(k, "roles")))
			return oom(t);
		for (tok = strtok_r(roles, " \t\r\n", &save); tok;
		     tok = strtok_r(NULL, " \t\r\n", &save))
			json_array_append_new(tk->roles, json_string(tok));
		free(roles);
		if (key_person(t, k, tk))
			return t->e->code;
		if (!strcmp(tk->name, "admin"))
			return ferr(t, k, "key admin: the genesis key is always there; "
				    "declare other names");
	}
	return ML_OK;
}

static struct tkey *
find_key(struct run *t, const char *name)
{
	size_t i;

	for (i = 0; name && i < t->nkeys; i++)
		if (!strcmp(t->keys[i].name, name))
			return &t->keys[i];
	return NULL;
}

static struct fixture *
find_fixture(struct run *t, const char *id)
{
	size_t i;

	for (i = 0; id && i < t->nfx; i++)
		if (!strcmp(t->fx[i].id, id))
			return &t->fx[i];
	return NULL;
}

static int
load_fixtures(struct run *t, xmlNodePtr root)
{
	xmlNodePtr k;
	size_t n = 0, i;

	for (k = root->children; k; k = k->next)
		n += is_t(k, "fixture");
	if (!(t->fx = calloc(n + 1, sizeof *t->fx)))
		return oom(t);
	for (k = root->children; k; k = k->next) {
		struct fixture *f = &t->fx[t->nfx];
		if (!is_t(k, "fixture"))
			continue;
		f->node = k;
		f->id = tattr(k, "id");
		f->base = tattr(k, "base");
		f->file = tattr(k, "file");
		t->nfx++;
		if (!f->id)
			return oom(t);
	}
	/* every base exists and no chain loops */
	for (i = 0; i < t->nfx; i++) {
		struct fixture *f = &t->fx[i];
		size_t hops = 0;
		while (f->base) {
			struct fixture *b = find_fixture(t, f->base);
			if (!b)
				return ferr(t, f->node, "fixture %s: no fixture '%s' to extend",
					    f->id, f->base);
			if (++hops > t->nfx)
				return ferr(t, t->fx[i].node, "fixture %s: its bases form a loop",
					    t->fx[i].id);
			f = b;
		}
	}
	return ML_OK;
}

/* An <expect>: a rule with an outcome, or a verdict. */
static int
check_expect(struct run *t, xmlNodePtr x)
{
	char *rule = tattr(x, "rule"), *verdict = tattr(x, "verdict"), *outcome = tattr(x, "outcome");
	char *subject = tattr(x, "subject"), *msg = tattr(x, "message-contains");
	size_t i, n = ml_policyset_rule_count(t->policy);
	int rc = ML_OK;

	if (!rule == !verdict)
		rc = ferr(t, x, "expect: give rule (with outcome) or verdict, not both");
	else if (verdict && (outcome || subject || msg))
		rc = ferr(t, x, "expect verdict: outcome, subject and message-contains belong "
			  "to rule expectations");
	else if (rule && !outcome)
		rc = ferr(t, x, "expect rule %s: outcome is required", rule);
	else if (rule) {
		for (i = 0; i < n; i++)
			if (!strcmp(ml_policyset_rule_id(t->policy, i), rule))
				break;
		if (i == n)
			rc = ferr(t, x, "expect: %s has no rule %s", t->policy_path, rule);
		else if (msg && !strcmp(outcome, "absent"))
			rc = ferr(t, x, "expect rule %s: an absent finding has no message", rule);
	}
	free(rule);
	free(verdict);
	free(outcome);
	free(subject);
	free(msg);
	return rc;
}

static int
check_cases(struct run *t, xmlNodePtr root)
{
	xmlNodePtr k, x;
	int rc = ML_OK;

	for (k = root->children; k && rc == ML_OK; k = k->next) {
		char *fx;
		if (!is_t(k, "case"))
			continue;
		fx = tattr(k, "fixture");
		if (!find_fixture(t, fx))
			rc = ferr(t, k, "case: no fixture '%s'", fx ? fx : "");
		free(fx);
		for (x = k->children; x && rc == ML_OK; x = x->next)
			if (is_t(x, "expect"))
				rc = check_expect(t, x);
	}
	return rc;
}

static int
load(struct run *t)
{
	xmlNodePtr root, k, keys = NULL;
	char *policy, *slash;
	int rc;

	snprintf(t->dir, sizeof t->dir, "%s", t->path);
	if (!(slash = strrchr(t->dir, '/')))
		snprintf(t->dir, sizeof t->dir, ".");
	else
		slash[slash == t->dir] = '\0'; /* "/x.xml" -> "/" */
	if ((rc = ml_policy_xml_read(t->path, ML_PTEST_MAX_BYTES, ML_POLICY_MAX_DEPTH, &t->doc,
				     t->e)) ||
	    (rc = ml_policy_xml_validate(t->doc, policy_test_xsd, sizeof policy_test_xsd,
					 "policy-test.xsd", ML_PTEST_NS, t->path, t->e)))
		return rc;
	root = xmlDocGetRootElement(t->doc);
	if (!is_t(root, "tests"))
		return ferr(t, root, "the root element is not {%s}tests", ML_PTEST_NS);
	if (!(policy = tattr(root, "policy")))
		return oom(t);
	rc = resolve_path(t, policy, t->policy_path, sizeof t->policy_path)
		     ? ferr(t, root, "policy: path too long")
		     : ml_policyset_load(t->policy_path, NULL, 0, &t->policy, t->e);
	free(policy);
	if (rc)
		return rc == ML_EPOLICY || rc == ML_EIO ? rc : wrap(t, root, "policy", rc);
	for (k = root->children; k; k = k->next)
		if (is_t(k, "keys"))
			keys = k;
	if ((rc = load_keys(t, keys)) || (rc = load_fixtures(t, root)) ||
	    (rc = check_cases(t, root)))
		return rc;
	return ML_OK;
}

/* ---- fixtures ---------------------------------------------------------- */

static int
lines_push(struct run *t, struct tlines *ls, const char *text, size_t len, const char *file,
	   long line)
{
	if (ls->n == ML_PTEST_MAX_LINES)
		return ml_err_set(t->e, ML_EPOLICY, "%s:%ld: a fixture has more than %d lines",
				  file, line, ML_PTEST_MAX_LINES);
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? 2 * ls->cap : 64;
		struct tline *v = realloc(ls->v, cap * sizeof *v);
		if (!v)
			return oom(t);
		ls->v = v;
		ls->cap = cap;
	}
	ls->v[ls->n].text = text;
	ls->v[ls->n].len = len;
	snprintf(ls->v[ls->n].where, sizeof ls->v[ls->n].where, "%s:%ld", file, line);
	ls->n++;
	return ML_OK;
}

/* Splits text into lines (blank ones skipped); the first is line first. */
static int
split_lines(struct run *t, struct tlines *ls, const char *text, const char *file, long first)
{
	const char *p = text;
	long line = first;
	int rc = ML_OK;

	while (*p && rc == ML_OK) {
		const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p), *b = p;
		while (b < end && (*b == ' ' || *b == '\t' || *b == '\r'))
			b++;
		if ((size_t)(end - b) > MAX_LINE)
			rc = ml_err_set(t->e, ML_EPOLICY, "%s:%ld: line longer than %d bytes", file,
					line, MAX_LINE);
		else if (end > b)
			rc = lines_push(t, ls, b, (size_t)(end - b), file, line);
		line++;
		p = nl ? nl + 1 : end;
	}
	return rc;
}

/* The lines of fixture f: its base's, its file's, its <lines>. */
static int
fixture_lines(struct run *t, struct fixture *f, struct tlines *ls)
{
	char path[PATH_MAX], *buf = NULL, **nb;
	size_t len;
	xmlNodePtr k;
	int rc;

	if (f->base && (rc = fixture_lines(t, find_fixture(t, f->base), ls)))
		return rc;
	if (f->file) {
		if (resolve_path(t, f->file, path, sizeof path))
			return ferr(t, f->node, "fixture %s: file: path too long", f->id);
		if ((rc = ml_read_file(path, ML_PTEST_MAX_FIXTURE, &buf, &len, t->e)))
			return wrap(t, f->node, "fixture", rc);
		if (!(nb = realloc(t->bufs, (t->nbufs + 1) * sizeof *nb))) {
			free(buf);
			return oom(t);
		}
		t->bufs = nb;
		t->bufs[t->nbufs++] = buf;
		if (strlen(buf) != len)
			return ferr(t, f->node, "fixture %s: %s holds a NUL byte", f->id, f->file);
		if ((rc = split_lines(t, ls, buf, path, 1)))
			return rc;
	}
	for (k = f->node->children; k; k = k->next) {
		xmlChar *text;
		if (!is_t(k, "lines"))
			continue;
		if (!(text = xmlNodeGetContent(k)))
			return oom(t);
		/* kept alive in bufs: lines point into it */
		if (!(nb = realloc(t->bufs, (t->nbufs + 1) * sizeof *nb))) {
			xmlFree(text);
			return oom(t);
		}
		t->bufs = nb;
		t->bufs[t->nbufs] = strdup((const char *)text);
		xmlFree(text);
		if (!t->bufs[t->nbufs])
			return oom(t);
		if ((rc = split_lines(t, ls, t->bufs[t->nbufs++], t->path, xmlGetLineNo(k))))
			return rc;
	}
	return ML_OK;
}

static int
resolve_ref(void *ctx, const char *kind, const char *ref, uint8_t digest[ML_SHA256_LEN],
	    struct ml_err *e)
{
	int64_t seq;

	/* the batch's own connection sees the versions appended before */
	return ml_ledger_subject(ctx, kind, ref, digest, &seq, e);
}

/* Signs the request req with k and adds it to the batch. */
static int
append_request(struct ml_batch *b, struct ml_ledger *l, json_t *req,
	       const struct ml_seckey *k, struct ml_err *e)
{
	struct ml_buf payload = {0}, env = {0};
	struct ml_statement st;
	struct ml_append_item item = {0};
	struct ml_appended out;
	enum ml_kind kind;
	int rc;

	memset(&st, 0, sizeof st);
	if ((rc = ml_request_bind_origin(req, ml_ledger_origin(l), NULL, e)) == ML_OK &&
	    (rc = ml_request_build_parsed(req, resolve_ref, l, ml_now_us(), &kind, &payload, &st,
					  e)) == ML_OK &&
	    (rc = ml_envelope_sign(k, payload.data, payload.len, &env, e)) == ML_OK) {
		item.envelope = env.data;
		item.len = env.len;
		item.signed_by = ml_seckey_public(k);
		item.statement = &st;
		rc = ml_batch_add(b, &item, &out, e);
	}
	ml_statement_free(&st);
	ml_buf_free(&payload);
	ml_buf_free(&env);
	return rc;
}

/* Rewrites the fixture conveniences of a line: "as" (removed; the signing
 * key), relative "time" and "expires", and "key" naming a declared key. */
static enum ml_rc
line_prepare(struct run *t, json_t *req, struct tkey **signer, char *why, size_t cap)
{
	json_t *as = json_object_get(req, "as"), *v;
	char buf[21], vkey[ML_VKEY_MAX];
	struct tkey *k;
	bool bad, rewritten;

	*signer = &t->keys[0];
	if (as) {
		if (!json_is_string(as) || !(*signer = find_key(t, json_string_value(as)))) {
			snprintf(why, cap, "as: no key named \"%.64s\" (declare it in <keys>)",
				 json_is_string(as) ? json_string_value(as) : "");
			return ML_EPOLICY;
		}
		json_object_del(req, "as");
	}
	if ((v = json_object_get(req, "time")) &&
	    ((bad = relative(json_string_value(v), t->now, 0, buf, &rewritten) != ML_OK) ||
	     rewritten)) {
		if (bad || json_object_set_new(req, "time", json_string(buf))) {
			snprintf(why, cap, "time: expected now, now+Nd, now-Nd or a UTC time");
			return ML_EPOLICY;
		}
	}
	if ((v = json_object_get(req, "expires")) &&
	    ((bad = relative(json_string_value(v), t->now, 1, buf, &rewritten) != ML_OK) ||
	     rewritten)) {
		if (bad || json_object_set_new(req, "expires", json_string(buf))) {
			snprintf(why, cap, "expires: expected now, now+Nd, now-Nd or a date");
			return ML_EPOLICY;
		}
	}
	if ((v = json_object_get(req, "key")) && (k = find_key(t, json_string_value(v)))) {
		ml_pubkey_format(ml_seckey_public(k->k), vkey);
		json_object_set_new(req, "key", json_string(vkey));
	}
	return ML_OK;
}

/* A fixture line of kind gate: a recorded gate decision (a SLSA VSA, as
 * `mlledger gate --key` writes it) for "subject" in "environment", with
 * "result" PASSED or FAILED, naming the fixture policy and the ledger's
 * first entry as the checkpoint it evaluated (size 1, with its root). */
static int
append_gate(struct ml_batch *b, struct ml_ledger *l, json_t *req, const struct ml_seckey *k,
	    struct ml_err *e)
{
	const char *subject = json_string_value(json_object_get(req, "subject"));
	const char *env = json_string_value(json_object_get(req, "environment"));
	const char *result = json_string_value(json_object_get(req, "result"));
	struct ml_decision_policy pol = {.id = "fixture", .version = "1", .seq = -1};
	struct ml_findings fs;
	struct ml_decision d = {.subject = subject, .env = env, .time_us = ml_now_us(),
				.origin = ml_ledger_origin(l), .size = 1, .policies = &pol,
				.npolicies = 1, .findings = &fs};
	struct ml_buf payload = {0}, envl = {0};
	struct ml_statement st;
	struct ml_append_item item = {0};
	struct ml_appended out;
	uint8_t digest[ML_SHA256_LEN];
	int64_t seq;
	json_t *pred = NULL;
	int rc;

	memset(&fs, 0, sizeof fs);
	memset(&st, 0, sizeof st);
	memset(pol.sha256, '0', 64);
	/* "policy": the id it names; "replayable": true makes it look like a
	 * decision under a recorded policy (FORMAT.md §2), as PROD-GATED wants */
	if (json_is_string(json_object_get(req, "policy")))
		pol.id = json_string_value(json_object_get(req, "policy"));
	if (json_is_true(json_object_get(req, "replayable")))
		pol.seq = 0;
	if (!subject || !env || !result || (strcmp(result, "PASSED") && strcmp(result, "FAILED")))
		return ml_err_set(e, ML_EINPUT, "a gate line needs subject, environment and "
				  "result (PASSED or FAILED)");
	fs.verdict = strcmp(result, "PASSED") ? ML_EDENY : ML_OK;
	/* the ledger's own root at size 1 (FORMAT.md §5 rule 8) */
	if ((rc = ml_ledger_subject(l, "model", subject, digest, &seq, e)) ||
	    (rc = ml_tlog_root(l, 1, d.root, e)) || (rc = ml_decision_predicate(&d, &pred, e)))
		return rc;
	if ((rc = ml_statement_encode_parsed(ML_KIND_GATE, subject, digest, pred, &payload, &st,
					     e)) == ML_OK &&
	    (rc = ml_envelope_sign(k, payload.data, payload.len, &envl, e)) == ML_OK) {
		item = (struct ml_append_item){envl.data, envl.len, ml_seckey_public(k), &st, 0};
		rc = ml_batch_add(b, &item, &out, e);
	}
	ml_statement_free(&st);
	ml_buf_free(&payload);
	ml_buf_free(&envl);
	return rc;
}

static int
is_gate(json_t *req)
{
	const char *k = json_string_value(json_object_get(req, "kind"));

	return k && !strcmp(k, "gate");
}

static int
append_line(struct run *t, struct ml_batch *b, struct ml_ledger *l, const struct tline *ln)
{
	json_error_t jerr;
	struct tkey *signer;
	char why[160];
	json_t *req = json_loadb(ln->text, ln->len, JSON_REJECT_DUPLICATES, &jerr);
	int rc;

	if (!req)
		return ml_err_set(t->e, ML_EPOLICY, "%s: bad JSON at column %d: %s", ln->where,
				  jerr.column, jerr.text);
	if (!json_is_object(req) || line_prepare(t, req, &signer, why, sizeof why)) {
		rc = ml_err_set(t->e, ML_EPOLICY, "%s: %s", ln->where,
				json_is_object(req) ? why : "expected a JSON object");
	} else if ((rc = is_gate(req) ? append_gate(b, l, req, signer->k, t->e)
			       : append_request(b, l, req, signer->k, t->e)) &&
		   rc != ML_EIO) {
		char msg[sizeof t->e->msg];
		snprintf(msg, sizeof msg, "%s", t->e->msg);
		rc = ml_err_set(t->e, ML_EPOLICY, "%s: %s (as %s)", ln->where, msg, signer->name);
	}
	json_decref(req);
	return rc;
}

/* The key-enrollment request of k: its key, roles and person (if any);
 * NULL when out of memory. */
static json_t *
enrolment(const struct tkey *k)
{
	char vkey[ML_VKEY_MAX];
	json_t *req;

	ml_pubkey_format(ml_seckey_public(k->k), vkey);
	req = json_pack("{s:s, s:s, s:O}", "kind", "key-enrollment", "key", vkey, "roles",
			k->roles);
	if (req && k->person && json_object_set(req, "person", k->person)) {
		json_decref(req);
		return NULL;
	}
	return req;
}

/* Enrols every declared key, then appends the lines, in one batch. */
static int
fill(struct run *t, struct fixture *f, const struct tlines *ls)
{
	struct ml_batch *b = NULL;
	size_t i;
	int rc;

	if ((rc = ml_batch_begin(f->l, &b, t->e)))
		return rc;
	for (i = 1; i < t->nkeys && rc == ML_OK; i++) {
		json_t *req = enrolment(&t->keys[i]);
		/* the fixture holds every key: each proves possession itself */
		rc = req ? ml_request_add_possession(req, ml_ledger_origin(f->l), t->keys[i].k,
						     t->e) : oom(t);
		if (rc == ML_OK)
			rc = append_request(b, f->l, req, t->keys[0].k, t->e);
		json_decref(req);
		if (rc && rc != ML_EIO)
			rc = ferr(t, f->node, "fixture %s: enrolling key %s: %s", f->id,
				  t->keys[i].name, t->e->msg);
	}
	for (i = 0; i < ls->n && rc == ML_OK; i++)
		rc = append_line(t, b, f->l, &ls->v[i]);
	if (rc) {
		ml_batch_abort(b);
		return rc;
	}
	return ml_batch_commit(b, t->e);
}

/* The default governance without its gates: a fixture is a history as it
 * happened, deployments without decisions included (PROD-GATED tests). */
static int
ungated_governance(char **out, struct ml_err *e)
{
	json_t *doc = json_loads(ml_governance_default_text(), 0, NULL);

	if (doc)
		json_object_del(doc, "gates");
	*out = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	json_decref(doc);
	return *out ? ML_OK : ml_err_set(e, ML_EIO, "out of memory");
}

static int
build_fixture(struct run *t, struct fixture *f)
{
	struct tlines ls = {0};
	struct ml_appended genesis;
	char *gov = NULL;
	char origin[ML_ORIGIN_MAX + 1];
	int rc;

	snprintf(f->db, sizeof f->db, "%s/%zu.db", t->tmp, (size_t)(f - t->fx));
	snprintf(origin, sizeof origin, "policy-test/%s", f->id);
	if ((rc = fixture_lines(t, f, &ls)))
		goto out;
	if ((rc = ungated_governance(&gov, t->e)))
		goto out;
	rc = ml_ledger_init_governed(f->db, origin, t->keys[0].k, gov, &genesis, t->e);
	free(gov);
	if (rc || (rc = ml_ledger_open(f->db, 1, &f->l, t->e))) {
		rc = wrap(t, f->node, "fixture", rc);
		goto out;
	}
	rc = fill(t, f, &ls);
out:
	free(ls.v);
	return rc;
}

/* Removes the temporary folder and the files in it (it has no folders). */
static void
remove_tmp(struct run *t)
{
	char p[PATH_MAX + 300];
	struct dirent *d;
	DIR *dir;

	if (!t->tmp[0] || !(dir = opendir(t->tmp)))
		return;
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", t->tmp, d->d_name);
			unlink(p);
		}
	closedir(dir);
	rmdir(t->tmp);
	t->tmp[0] = '\0';
}

static int
build_all(struct run *t)
{
	const char *base = getenv("TMPDIR");
	size_t i;
	int rc = ML_OK;

	snprintf(t->tmp, sizeof t->tmp, "%s/mlledger-ptest-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(t->tmp)) {
		rc = ml_err_set(t->e, ML_EIO, "%s: %s", t->tmp, strerror(errno));
		t->tmp[0] = '\0';
		return rc;
	}
	for (i = 0; i < t->nkeys && rc == ML_OK; i++)
		rc = ml_seckey_generate(t->keys[i].name, &t->keys[i].k, t->e);
	if (rc)
		return rc == ML_EIO ? rc : ml_err_prefix(t->e, ML_EPOLICY, t->path);
	/* appends are stamped now: every relative time is later than them */
	t->now = ml_now_us();
	for (i = 0; i < t->nfx && rc == ML_OK; i++)
		rc = build_fixture(t, &t->fx[i]);
	t->now = ml_now_us();
	return rc;
}

/* ---- cases ------------------------------------------------------------- */

static int
fail_add(struct run *t, xmlNodePtr x, size_t case_no, const char *rule, const char *subject,
	 const char *expected, const char *got, const char *message)
{
	struct fresult *r = &t->res;
	struct ml_ptest_failure *f;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct ml_ptest_failure *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return oom(t);
		r->v = v;
		r->cap = cap;
	}
	f = &r->v[r->n++];
	memset(f, 0, sizeof *f);
	f->line = xmlGetLineNo(x);
	f->case_no = case_no;
	f->file = strdup(t->path);
	f->rule = rule ? strdup(rule) : NULL;
	f->subject = subject ? strdup(subject) : NULL;
	f->expected = strdup(expected);
	f->got = strdup(got);
	f->message = message && *message ? strdup(message) : NULL;
	if (!f->file || (rule && !f->rule) || (subject && !f->subject) || !f->expected ||
	    !f->got || (message && *message && !f->message))
		return oom(t);
	return ML_OK;
}

static const char *
outcome_name(enum ml_outcome o)
{
	static const char *const names[] = {"pass", "fail", "waived", "indeterminate"};

	return (unsigned)o < 4 ? names[o] : "?";
}

/* Which outcome wins when a rule has several findings for a subject. */
static int
outcome_rank(enum ml_outcome o)
{
	return o == ML_OUT_INDETERMINATE ? 4 : o == ML_OUT_FAIL ? 3 : o == ML_OUT_WAIVED ? 2 : 1;
}

/* The combined outcome of rule for subject ("absent" when no finding), the
 * messages of the findings with it, and whether one of them contains sub. */
static const char *
rule_outcome(const struct ml_findings *fs, const char *rule, const char *subject,
	     const char *sub, struct ml_buf *msgs, int *contains)
{
	int best = 0;
	size_t i;
	enum ml_outcome o = ML_OUT_PASS;

	for (i = 0; i < fs->n; i++) {
		const struct ml_finding *f = &fs->items[i];
		if (!strcmp(f->rule_id, rule) && f->subject && !strcmp(f->subject, subject) &&
		    outcome_rank(f->outcome) > best) {
			best = outcome_rank(f->outcome);
			o = f->outcome;
		}
	}
	*contains = 0;
	for (i = 0; best && i < fs->n; i++) {
		const struct ml_finding *f = &fs->items[i];
		if (strcmp(f->rule_id, rule) || !f->subject || strcmp(f->subject, subject) ||
		    f->outcome != o)
			continue;
		if (msgs->len < MAX_MESSAGE)
			ml_buf_printf(msgs, "%s%s", msgs->len ? " | " : "",
				      f->message ? f->message : "");
		if (sub && f->message && strstr(f->message, sub))
			*contains = 1;
	}
	ml_buf_append(msgs, "", 1);
	return best ? outcome_name(o) : "absent";
}

static const char *
verdict_name(int v)
{
	return v == ML_OK ? "pass" : v == ML_EDENY ? "deny" : "indeterminate";
}

static void
cover(struct run *t, const char *rule, const char *outcome)
{
	size_t i, n = ml_policyset_rule_count(t->policy);

	for (i = 0; i < n; i++)
		if (!strcmp(ml_policyset_rule_id(t->policy, i), rule)) {
			if (!strcmp(outcome, "pass"))
				t->res.pass[i] = 1;
			else if (!strcmp(outcome, "fail"))
				t->res.fail[i] = 1;
		}
}

/* Checks one <expect> against the findings. */
static int
expect_one(struct run *t, xmlNodePtr x, size_t case_no, const char *case_subject,
	   const struct ml_findings *fs)
{
	char *rule = tattr(x, "rule"), *outcome = tattr(x, "outcome"), *verdict = tattr(x, "verdict");
	char *subject = tattr(x, "subject"), *sub = tattr(x, "message-contains");
	const char *subj = subject ? subject : case_subject, *got;
	struct ml_buf msgs = {0}, want = {0};
	int contains = 0, ok, rc = ML_OK;

	if (verdict) {
		got = verdict_name(fs->verdict);
		ok = !strcmp(got, verdict);
		if (!ok)
			rc = fail_add(t, x, case_no, NULL, NULL, verdict, got, NULL);
	} else {
		got = rule_outcome(fs, rule, subj, sub, &msgs, &contains);
		ok = !strcmp(got, outcome) && (!sub || contains);
		ml_buf_printf(&want, "%s", outcome);
		if (sub)
			ml_buf_printf(&want, " with a message containing \"%s\"", sub);
		ml_buf_append(&want, "", 1);
		if (msgs.oom || want.oom)
			rc = oom(t);
		else if (!ok)
			rc = fail_add(t, x, case_no, rule, subj, (char *)want.data, got,
				      (char *)msgs.data);
		else
			cover(t, rule, outcome);
	}
	if (ok)
		t->res.passed++;
	else
		t->res.failed++;
	ml_buf_free(&msgs);
	ml_buf_free(&want);
	free(rule);
	free(outcome);
	free(verdict);
	free(subject);
	free(sub);
	return rc;
}

/* Rewrites "now..." attribute values of the case's data items to dates. */
static int
resolve_data(struct run *t, xmlNodePtr data)
{
	xmlNodePtr it;
	xmlAttrPtr a;

	for (it = data->children; it; it = it->next) {
		if (!is_t(it, "item"))
			continue;
		for (a = it->properties; a; a = a->next) {
			xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
			char out[21];
			bool rewritten;
			enum ml_rc r = relative((const char *)v, t->now, 1, out, &rewritten);
			xmlFree(v);
			if (r != ML_OK)
				return ferr(t, it, "data item: %s: expected now, now+Nd or now-Nd",
					    (const char *)a->name);
			if (rewritten && !xmlSetProp(it, a->name, (const xmlChar *)out))
				return oom(t);
		}
	}
	return ML_OK;
}

/* The case's params ("name=value", malloc'd) and data overrides. */
struct case_opts {
	char *params[256];
	size_t nparams;
	struct ml_policy_data_override data[256];
	char *names[256];
	size_t ndata;
};

static void
case_opts_free(struct case_opts *o)
{
	size_t i;

	for (i = 0; i < o->nparams; i++)
		free(o->params[i]);
	for (i = 0; i < o->ndata; i++)
		free(o->names[i]);
}

static int
case_opts(struct run *t, xmlNodePtr c, struct case_opts *o)
{
	xmlNodePtr k;
	int rc;

	for (k = c->children; k; k = k->next) {
		if (is_t(k, "param") && o->nparams < 256) {
			char *n = tattr(k, "name"), *v = tattr(k, "value");
			struct ml_buf b = {0};
			ml_buf_printf(&b, "%s=%s", n ? n : "", v ? v : "");
			ml_buf_append(&b, "", 1);
			free(n);
			free(v);
			if (b.oom)
				return oom(t);
			o->params[o->nparams++] = (char *)b.data;
		} else if (is_t(k, "data") && o->ndata < 256) {
			if ((rc = resolve_data(t, k)))
				return rc;
			if (!(o->names[o->ndata] = tattr(k, "name")))
				return oom(t);
			o->data[o->ndata].name = o->names[o->ndata];
			o->data[o->ndata].items = k;
			o->ndata++;
		}
	}
	return ML_OK;
}

/* Loads the policy with the case's options and evaluates it on the
 * fixture's evidence into fs. */
static int
evaluate(struct run *t, xmlNodePtr c, struct ml_findings *fs)
{
	char *fx = tattr(c, "fixture"), *subject = tattr(c, "subject"), *env = tattr(c, "env");
	char *as_of = tattr(c, "as-of"), *phase = tattr(c, "phase");
	struct case_opts co;
	struct ml_policy_opts po;
	struct ml_policyset *p = NULL;
	xmlDocPtr ev = NULL;
	int64_t at = t->now;
	int rc;

	memset(&co, 0, sizeof co);
	memset(&po, 0, sizeof po);
	if (!fx || !subject)
		rc = oom(t);
	else if (as_of && ml_ptest_time(as_of, t->now, &at))
		rc = ferr(t, c, "case: as-of: expected now, now+Nd, now-Nd or a UTC time");
	else
		rc = case_opts(t, c, &co);
	if (rc)
		goto out;
	po.params = (const char *const *)co.params;
	po.nparams = co.nparams;
	po.data = co.data;
	po.ndata = co.ndata;
	if ((rc = ml_policyset_load_ex(t->policy_path, &po, &p, t->e))) {
		rc = wrap(t, c, "case", rc);
		goto out;
	}
	if ((rc = ml_evidence_build(find_fixture(t, fx)->l, subject, env, at, 0, &ev, t->e)) ||
	    (rc = ml_policyset_eval(p, ev, phase, subject, fs, t->e)))
		rc = wrap(t, c, "case", rc);
out:
	case_opts_free(&co);
	xmlFreeDoc(ev);
	ml_policyset_free(p);
	free(fx);
	free(subject);
	free(env);
	free(as_of);
	free(phase);
	return rc;
}

static int
run_case(struct run *t, xmlNodePtr c, size_t case_no)
{
	struct ml_findings fs;
	char *subject = tattr(c, "subject");
	xmlNodePtr x;
	int rc;

	memset(&fs, 0, sizeof fs);
	rc = subject ? evaluate(t, c, &fs) : oom(t);
	for (x = c->children; x && rc == ML_OK; x = x->next)
		if (is_t(x, "expect"))
			rc = expect_one(t, x, case_no, subject, &fs);
	t->res.cases++;
	ml_findings_free(&fs);
	free(subject);
	return rc;
}

static int
run_cases(struct run *t)
{
	size_t n = ml_policyset_rule_count(t->policy), no = 0;
	xmlNodePtr k;
	int rc = ML_OK;

	if (!(t->res.pass = calloc(n + 1, 1)) || !(t->res.fail = calloc(n + 1, 1)))
		return oom(t);
	for (k = xmlDocGetRootElement(t->doc)->children; k && rc == ML_OK; k = k->next)
		if (is_t(k, "case"))
			rc = run_case(t, k, ++no);
	return rc;
}

/* ---- results ----------------------------------------------------------- */

static void
failure_free(struct ml_ptest_failure *f)
{
	free(f->file);
	free(f->rule);
	free(f->subject);
	free(f->expected);
	free(f->got);
	free(f->message);
}

static void
policy_free(struct ml_ptest_policy *p)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		free(p->rules[i]);
	free(p->rules);
	free(p->pass);
	free(p->fail);
	free(p->id);
	free(p->file);
}

void
ml_ptest_result_free(struct ml_ptest_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nfailures; i++)
		failure_free(&r->failures[i]);
	free(r->failures);
	for (i = 0; i < r->npolicies; i++)
		policy_free(&r->policies[i]);
	free(r->policies);
	memset(r, 0, sizeof *r);
}

/* The coverage entry of policy p in r, made when new. */
static struct ml_ptest_policy *
policy_entry(struct ml_ptest_result *r, const struct ml_policyset *p, const char *file)
{
	struct ml_ptest_policy *v, *q;
	size_t i, n = ml_policyset_rule_count(p);

	for (i = 0; i < r->npolicies; i++)
		if (!strcmp(r->policies[i].id, ml_policyset_id(p)))
			return &r->policies[i];
	if (!(v = realloc(r->policies, (r->npolicies + 1) * sizeof *v)))
		return NULL;
	r->policies = v;
	q = &v[r->npolicies];
	memset(q, 0, sizeof *q);
	q->id = strdup(ml_policyset_id(p));
	q->file = strdup(file);
	q->rules = calloc(n + 1, sizeof *q->rules);
	q->pass = calloc(n + 1, 1);
	q->fail = calloc(n + 1, 1);
	if (!q->id || !q->file || !q->rules || !q->pass || !q->fail) {
		policy_free(q);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (!(q->rules[i] = strdup(ml_policyset_rule_id(p, i)))) {
			policy_free(q);
			return NULL;
		}
	q->nrules = n;
	r->npolicies++;
	return q;
}

/* Moves the file's results into r. */
static int
merge(struct run *t, struct ml_ptest_result *r)
{
	struct ml_ptest_policy *q = policy_entry(r, t->policy, t->policy_path);
	struct ml_ptest_failure *v;
	size_t i, j;

	if (!q)
		return oom(t);
	if (t->res.n) {
		if (!(v = realloc(r->failures, (r->nfailures + t->res.n) * sizeof *v)))
			return oom(t);
		r->failures = v;
		memcpy(v + r->nfailures, t->res.v, t->res.n * sizeof *v);
		r->nfailures += t->res.n;
		t->res.n = 0;
	}
	/* by rule id: a policy id may come from two files that differ */
	for (i = 0; i < ml_policyset_rule_count(t->policy); i++)
		for (j = 0; j < q->nrules; j++)
			if (!strcmp(q->rules[j], ml_policyset_rule_id(t->policy, i))) {
				q->pass[j] |= t->res.pass[i];
				q->fail[j] |= t->res.fail[i];
			}
	r->files++;
	r->cases += t->res.cases;
	r->passed += t->res.passed;
	r->failed += t->res.failed;
	return ML_OK;
}

static void
run_free(struct run *t)
{
	size_t i;

	for (i = 0; i < t->nfx; i++) {
		ml_ledger_close(t->fx[i].l);
		free(t->fx[i].id);
		free(t->fx[i].base);
		free(t->fx[i].file);
	}
	free(t->fx);
	remove_tmp(t);
	for (i = 0; i < t->nkeys; i++) {
		free(t->keys[i].name);
		json_decref(t->keys[i].roles);
		json_decref(t->keys[i].person);
		ml_seckey_free(t->keys[i].k);
	}
	for (i = 0; i < t->nbufs; i++)
		free(t->bufs[i]);
	free(t->bufs);
	for (i = 0; i < t->res.n; i++)
		failure_free(&t->res.v[i]);
	free(t->res.v);
	free(t->res.pass);
	free(t->res.fail);
	ml_policyset_free(t->policy);
	xmlFreeDoc(t->doc);
}

int
ml_ptest_run(const char *path, struct ml_ptest_result *r, struct ml_err *e)
{
	struct run *t = calloc(1, sizeof *t);
	int rc;

	if (!t)
		return ml_err_set(e, ML_EIO, "out of memory");
	t->path = path;
	t->e = e;
	if ((rc = load(t)) == ML_OK && (rc = build_all(t)) == ML_OK &&
	    (rc = run_cases(t)) == ML_OK)
		rc = merge(t, r);
	run_free(t);
	free(t);
	return rc;
}

/* ---- output ------------------------------------------------------------ */

bool
ml_ptest_fully_covered(const struct ml_ptest_result *r)
{
	size_t i, j;

	for (i = 0; i < r->npolicies; i++)
		for (j = 0; j < r->policies[i].nrules; j++)
			if (!r->policies[i].pass[j] || !r->policies[i].fail[j])
				return false;
	return true;
}

/* s for a terminal: control characters, DEL and (when s is not UTF-8)
 * bytes above 0x7f as \xHH, so a value cannot add lines or restyle. */
static void
put_text(struct ml_buf *out, const char *s)
{
	int utf8 = ml_text_valid(s, strlen(s), "");

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			ml_buf_printf(out, "\\x%02x", c);
		else
			ml_buf_append(out, s, 1);
	}
}

static void
write_failure(struct ml_buf *out, const struct ml_ptest_failure *f)
{
	ml_buf_puts(out, "FAIL ");
	put_text(out, f->file);
	ml_buf_printf(out, ":%ld case %zu ", f->line, f->case_no);
	if (f->rule) {
		ml_buf_puts(out, "rule ");
		put_text(out, f->rule);
		if (f->subject) {
			ml_buf_puts(out, " (");
			put_text(out, f->subject);
			ml_buf_puts(out, ")");
		}
	} else {
		ml_buf_puts(out, "verdict");
	}
	ml_buf_puts(out, ": expected ");
	put_text(out, f->expected);
	ml_buf_puts(out, ", got ");
	put_text(out, f->got);
	if (f->message) {
		ml_buf_puts(out, ": ");
		put_text(out, f->message);
	}
	ml_buf_puts(out, "\n");
}

/* "coverage ID: N/M rules with pass and fail paths (missing: R fail, ...)" */
static void
write_coverage(struct ml_buf *out, const struct ml_ptest_policy *p)
{
	size_t i, full = 0, missing = 0;

	for (i = 0; i < p->nrules; i++)
		full += p->pass[i] && p->fail[i];
	ml_buf_puts(out, "coverage ");
	put_text(out, p->id);
	ml_buf_printf(out, ": %zu/%zu rules with pass and fail paths", full, p->nrules);
	for (i = 0; i < p->nrules; i++) {
		if (p->pass[i] && p->fail[i])
			continue;
		ml_buf_puts(out, missing++ ? ", " : " (missing: ");
		put_text(out, p->rules[i]);
		ml_buf_puts(out, !p->pass[i] && !p->fail[i] ? " pass and fail"
				 : !p->pass[i]		    ? " pass"
							    : " fail");
	}
	ml_buf_puts(out, missing ? ")\n" : "\n");
}

static json_t *
json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
json_failure(const struct ml_ptest_failure *f)
{
	return json_pack("{s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "file", json_str(f->file),
			 "line", (json_int_t)f->line, "case", (json_int_t)f->case_no, "rule",
			 json_str(f->rule), "subject", json_str(f->subject), "expected",
			 json_str(f->expected), "got", json_str(f->got), "message",
			 json_str(f->message));
}

static json_t *
json_policy(const struct ml_ptest_policy *p)
{
	json_t *o = json_object(), *missing = json_array();
	size_t i, full = 0;

	for (i = 0; i < p->nrules; i++) {
		full += p->pass[i] && p->fail[i];
		if (!p->pass[i])
			json_array_append_new(missing, json_pack("{s:s, s:s}", "rule", p->rules[i],
								 "path", "pass"));
		if (!p->fail[i])
			json_array_append_new(missing, json_pack("{s:s, s:s}", "rule", p->rules[i],
								 "path", "fail"));
	}
	json_object_set_new(o, "policy", json_str(p->id));
	json_object_set_new(o, "file", json_str(p->file));
	json_object_set_new(o, "rules", json_integer((json_int_t)p->nrules));
	json_object_set_new(o, "covered", json_integer((json_int_t)full));
	json_object_set_new(o, "missing", missing);
	return o;
}

static int
write_json(const struct ml_ptest_result *r, struct ml_buf *out)
{
	json_t *o = json_object(), *fails = json_array(), *cov = json_array();
	char *text;
	size_t i;

	for (i = 0; i < r->nfailures; i++)
		json_array_append_new(fails, json_failure(&r->failures[i]));
	for (i = 0; i < r->npolicies; i++)
		json_array_append_new(cov, json_policy(&r->policies[i]));
	json_object_set_new(o, "files", json_integer((json_int_t)r->files));
	json_object_set_new(o, "cases", json_integer((json_int_t)r->cases));
	json_object_set_new(o, "passed", json_integer((json_int_t)r->passed));
	json_object_set_new(o, "failed", json_integer((json_int_t)r->failed));
	json_object_set_new(o, "failures", fails);
	json_object_set_new(o, "coverage", cov);
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return ML_EIO;
	ml_buf_puts(out, text);
	ml_buf_puts(out, "\n");
	free(text);
	return out->oom ? ML_EIO : ML_OK;
}

int
ml_ptest_write(const struct ml_ptest_result *r, int json, struct ml_buf *out)
{
	size_t i;

	if (json)
		return write_json(r, out);
	for (i = 0; i < r->nfailures; i++)
		write_failure(out, &r->failures[i]);
	ml_buf_printf(out, "policy test: %zu file%s, %zu case%s, %zu expectation%s: %zu passed, "
		      "%zu failed\n", r->files, r->files == 1 ? "" : "s", r->cases,
		      r->cases == 1 ? "" : "s", r->passed + r->failed,
		      r->passed + r->failed == 1 ? "" : "s", r->passed, r->failed);
	for (i = 0; i < r->npolicies; i++)
		write_coverage(out, &r->policies[i]);
	return out->oom ? ML_EIO : ML_OK;
}

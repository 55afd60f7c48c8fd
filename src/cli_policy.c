/* cli_policy — evidence (and, with the policy engine, gate, check and
 * policy lint/test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "cli.h"
#include "evidence.h"

/* --as-of DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ), default now. */
static int
opt_as_of(struct cli *c, int64_t *us)
{
	const char *v = cli_get(c, "as-of");

	*us = ml_now_us();
	if (v && ml_time_parse(v, us) != 0)
		return cli_failf(c, ML_EINPUT, "--as-of: expected YYYY-MM-DD or "
				 "YYYY-MM-DDTHH:MM:SSZ");
	return ML_OK;
}

int
cmd_evidence(int argc, char **argv)
{
	struct cli c = {.cmd = "evidence"};
	struct ml_ledger *l;
	struct ml_err e;
	xmlDocPtr doc = NULL;
	xmlChar *text = NULL;
	int64_t as_of;
	int rc, len = 0;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "env= as-of=")) || (rc = opt_as_of(&c, &as_of)))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger evidence NAME@VERSION [--env ENV] [--as-of DATE]\n\n"
		     "Prints the XML document policy rules read for this model version\n"
		     "(policies/EVIDENCE.md): every entry about any version of the model and\n"
		     "the datasets they name, each verified on the way in (leaf hash, author\n"
		     "signature and enrolment, inclusion in the latest signed checkpoint).");
		return ML_OK;
	}
	if (c.nargs != 1)
		return cli_failf(&c, ML_EINPUT, "expected NAME@VERSION");
	if ((rc = cli_open(&c, 0, &l, &e)))
		return cli_fail(&c, &e);
	rc = ml_evidence_build(l, c.args[0], cli_get(&c, "env"), as_of, &doc, &e);
	ml_ledger_close(l);
	if (rc)
		return cli_fail(&c, &e);
	xmlDocDumpFormatMemoryEnc(doc, &text, &len, "UTF-8", 1);
	if (text)
		fwrite(text, 1, (size_t)len, stdout);
	xmlFree(text);
	xmlFreeDoc(doc);
	return text ? ML_OK : cli_failf(&c, ML_EIO, "out of memory");
}

#include "findings.h"
#include "policy.h"
#include "policy_test.h"
#include "statement.h"
#include "store.h"

static const char gate_usage[] =
	"usage: mlledger gate --policy FILE [--policy FILE]... NAME@VERSION --env ENV\n"
	"                     [--param NAME=VALUE]... [--phase ID] [--as-of DATE]\n"
	"                     [--fail-on warn] [--format text|json|junit|sarif|github]\n"
	"                     [--no-record]\n\n"
	"Evaluates the rules against the verified evidence of the candidate\n"
	"(policies/EVIDENCE.md) and decides: exit 0 pass, 1 deny, 3 invalid policy or\n"
	"evaluation error (fail closed), 4 ledger integrity failure.  The findings go\n"
	"to standard output in the chosen format; diagnostics to standard error.\n"
	"Recording the decision as a signed entry (--key) is not implemented yet.\n";

/* Collects the --param values. */
static size_t
params_of(const struct cli *c, const char **out, size_t cap)
{
	size_t n = 0;
	int i;

	for (i = 0; i < c->nopts && n < cap; i++)
		if (!strcmp(c->opts[i].name, "param"))
			out[n++] = c->opts[i].value;
	return n;
}

/* Evaluates every --policy against doc for subject, into fs. */
static int
eval_policies(struct cli *c, xmlDocPtr doc, const char *subject, struct ml_findings *fs,
	      struct ml_err *e)
{
	const char *params[64];
	size_t np = params_of(c, params, 64);
	int i, rc = ML_OK, any = 0;

	for (i = 0; i < c->nopts && rc == ML_OK; i++) {
		struct ml_policyset *p = NULL;
		if (strcmp(c->opts[i].name, "policy"))
			continue;
		any = 1;
		if ((rc = ml_policyset_load(c->opts[i].value, params, np, &p, e)) == ML_OK)
			rc = ml_policyset_eval(p, doc, cli_get(c, "phase"), subject, fs, e);
		ml_policyset_free(p);
	}
	if (!any)
		rc = ml_err_set(e, ML_EINPUT, "--policy FILE is required");
	return rc;
}

/* --fail-on warn: an unwaived warn failure denies too. */
static void
apply_fail_on(const struct cli *c, struct ml_findings *fs)
{
	const char *f = cli_get(c, "fail-on");
	size_t i;

	if (!f || strcmp(f, "warn") || fs->verdict != ML_OK)
		return;
	for (i = 0; i < fs->n; i++)
		if (fs->items[i].outcome == ML_OUT_FAIL && fs->items[i].severity == ML_SEV_WARN)
			fs->verdict = ML_EDENY;
}

static int
write_findings(struct cli *c, const struct ml_findings *fs, struct ml_err *e)
{
	const char *fmt = cli_get(c, "format");
	struct ml_buf out = {0};
	enum ml_format f = ML_FMT_TEXT;
	int rc;

	if (fmt && ml_format_parse(fmt, &f) != 0)
		return ml_err_set(e, ML_EINPUT, "--format: text, json, junit, sarif or github");
	rc = ml_findings_write(fs, f, &out, e);
	if (rc == ML_OK)
		fwrite(out.data, 1, out.len, stdout);
	ml_buf_free(&out);
	return rc;
}

/* cli_parse accepts only text/json for --format: the policy commands take
 * their own list, so they parse it themselves. */
static int
parse_policy_cli(struct cli *c, int argc, char **argv, const char *spec)
{
	char *saved = NULL;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			saved = argv[i + 1];
			argv[i + 1] = "text";
		} else if (!strncmp(argv[i], "--format=", 9)) {
			saved = argv[i] + 9;
			argv[i] = "--format=text";
		}
	}
	rc = cli_parse(c, argc, argv, spec);
	if (rc == ML_OK && saved) {
		for (i = 0; i < c->nopts; i++)
			if (!strcmp(c->opts[i].name, "format"))
				c->opts[i].value = saved;
		c->json = !strcmp(saved, "json");
	}
	return rc;
}

/* Fills what the findings say about the decision from the evidence root. */
static void
describe(struct ml_findings *fs, xmlDocPtr doc, const char *subject, const char *env)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlChar *v;

	free(fs->subject);
	fs->subject = subject ? strdup(subject) : NULL;
	free(fs->env);
	fs->env = env ? strdup(env) : NULL;
	if (!root)
		return;
	if ((v = xmlGetProp(root, (const xmlChar *)"as-of"))) {
		free(fs->as_of);
		fs->as_of = strdup((const char *)v);
		xmlFree(v);
	}
	if ((v = xmlGetProp(root, (const xmlChar *)"size"))) {
		fs->ledger_size = strtoull((const char *)v, NULL, 10);
		xmlFree(v);
	}
	if ((v = xmlGetProp(root, (const xmlChar *)"root"))) {
		free(fs->ledger_root);
		fs->ledger_root = strdup((const char *)v);
		xmlFree(v);
	}
}

int
cmd_gate(int argc, char **argv)
{
	struct cli c = {.cmd = "gate"};
	struct ml_findings fs;
	struct ml_ledger *l = NULL;
	struct ml_err e;
	xmlDocPtr doc = NULL;
	int64_t as_of;
	int rc;

	ml_err_clear(&e);
	memset(&fs, 0, sizeof fs);
	if ((rc = parse_policy_cli(&c, argc, argv, "policy= env= param= phase= as-of= fail-on= "
				   "no-record key= passphrase-file=")) ||
	    (rc = opt_as_of(&c, &as_of)))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(gate_usage, stdout);
		return ML_OK;
	}
	if (c.nargs != 1 || !cli_get(&c, "env"))
		return cli_failf(&c, ML_EINPUT, "expected --policy FILE NAME@VERSION --env ENV");
	if (cli_get(&c, "key"))
		return cli_failf(&c, ML_EINPUT, "recording gate decisions (--key) is not "
				 "implemented yet; use --no-record");
	if (cli_get(&c, "fail-on") && strcmp(cli_get(&c, "fail-on"), "warn"))
		return cli_failf(&c, ML_EINPUT, "--fail-on: only 'warn'");
	if ((rc = cli_open(&c, 0, &l, &e)) ||
	    (rc = ml_evidence_build(l, c.args[0], cli_get(&c, "env"), as_of, &doc, &e)) ||
	    (rc = eval_policies(&c, doc, c.args[0], &fs, &e)))
		goto out;
	apply_fail_on(&c, &fs);
	describe(&fs, doc, c.args[0], cli_get(&c, "env"));
	if ((rc = write_findings(&c, &fs, &e)) == ML_OK)
		rc = fs.verdict;
out:
	xmlFreeDoc(doc);
	ml_ledger_close(l);
	ml_findings_free(&fs);
	if (rc == ML_EDENY || (rc == ML_EPOLICY && !e.msg[0]))
		return rc; /* the findings say why */
	return rc ? cli_fail(&c, &e) : ML_OK;
}

struct scope {
	json_t *pairs; /* [[ref, env|null], ...] */
	json_t *seen;  /* "ref env" -> true */
};

static void
scope_add(struct scope *s, const char *ref, const char *env)
{
	char key[512];

	snprintf(key, sizeof key, "%s %s", ref, env ? env : "");
	if (json_object_get(s->seen, key))
		return;
	json_object_set_new(s->seen, key, json_true());
	json_array_append_new(s->pairs, json_pack("[s, s?]", ref, env));
}

/* Every deployed (model version, environment), and every model version. */
static int
scope_entry(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	    const struct ml_index_row *ix, int has_ix)
{
	struct scope *s = ctx;
	struct ml_envelope env;
	struct ml_statement st;
	char ref[300];

	(void)leaf;
	(void)has_ix;
	snprintf(ref, sizeof ref, "%s@%s", ix->name, ix->version);
	if (!strcmp(ix->kind, "model")) {
		scope_add(s, ref, NULL);
		return 0;
	}
	if (ml_envelope_parse(en->envelope, en->envelope_len, &env, NULL))
		return 0;
	if (ml_statement_parse(env.payload, env.payload_len, &st, NULL) == ML_OK) {
		scope_add(s, ref, json_string_value(json_object_get(st.predicate,
								    "environment")));
		ml_statement_free(&st);
	}
	ml_envelope_clear(&env);
	return 0;
}

int
cmd_check(int argc, char **argv)
{
	struct cli c = {.cmd = "check"};
	struct scope sc = {json_array(), json_object()};
	struct ml_findings fs;
	struct ml_ledger *l = NULL;
	struct ml_err e;
	json_t *pair;
	int64_t as_of;
	size_t i;
	int rc;

	ml_err_clear(&e);
	memset(&fs, 0, sizeof fs);
	if ((rc = parse_policy_cli(&c, argc, argv, "policy= param= phase= as-of= fail-on=")) ||
	    (rc = opt_as_of(&c, &as_of)))
		goto done;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger check --policy FILE [--policy FILE]... [--param NAME=VALUE]...\n"
		     "                      [--phase ID] [--as-of DATE] [--fail-on warn]\n"
		     "                      [--format text|json|junit|sarif|github]\n\n"
		     "Evaluates the rules for every model version in the ledger, and for each\n"
		     "environment it was deployed to.  Exit codes as gate.");
		goto done;
	}
	if ((rc = cli_open(&c, 0, &l, &e)) ||
	    (rc = ml_store_query(ml_ledger_store(l), "model", NULL, NULL, -1, scope_entry, &sc,
				 &e)) ||
	    (rc = ml_store_query(ml_ledger_store(l), "deployment", NULL, NULL, -1, scope_entry,
				 &sc, &e)))
		goto out;
	json_array_foreach(sc.pairs, i, pair) {
		xmlDocPtr doc = NULL;
		const char *ref = json_string_value(json_array_get(pair, 0));
		const char *env = json_string_value(json_array_get(pair, 1));
		if ((rc = ml_evidence_build(l, ref, env, as_of, &doc, &e)) == ML_OK)
			rc = eval_policies(&c, doc, ref, &fs, &e);
		xmlFreeDoc(doc);
		if (rc)
			goto out;
		if ((i & 63) == 0)
			cli_progress("check", i, json_array_size(sc.pairs));
	}
	cli_progress_done();
	apply_fail_on(&c, &fs);
	if ((rc = write_findings(&c, &fs, &e)) == ML_OK)
		rc = fs.verdict;
out:
	ml_ledger_close(l);
	ml_findings_free(&fs);
	if (!(rc == ML_EDENY || (rc == ML_EPOLICY && !e.msg[0])) && rc)
		rc = cli_fail(&c, &e);
done:
	json_decref(sc.pairs);
	json_decref(sc.seen);
	return rc;
}

static const char policy_usage[] =
	"usage: mlledger policy lint FILE...\n"
	"       mlledger policy test [--format text|json] [--require-coverage] FILE...\n\n"
	"lint validates each policy file against policies/policy.xsd and compiles every\n"
	"expression, binding every variable, function, key and data name, so a typo\n"
	"fails here and not mid-gate.  Exit 0, or 3 naming file and line.\n\n"
	"test runs policy test files (policies/TESTING.md): it builds each fixture\n"
	"ledger, evaluates each case and prints one line per expectation that did not\n"
	"hold, a summary, and per policy how many rules have both their pass and fail\n"
	"paths covered.  Exit 0 when every expectation holds (and, with\n"
	"--require-coverage, every rule is covered), 1 when one does not, 2 for a usage\n"
	"error or a missing file, 3 for an invalid test or policy file (naming file and\n"
	"line), 5 for a storage error.\n";

static int
policy_lint(int argc, char **argv)
{
	struct cli c = {.cmd = "policy lint"};
	struct ml_err e;
	int i, rc, worst = ML_OK;

	if ((rc = cli_parse(&c, argc, argv, "")))
		return rc;
	if (cli_has(&c, "help") || c.nargs == 0) {
		fputs(policy_usage, c.nargs ? stdout : stderr);
		return cli_has(&c, "help") ? ML_OK : ML_EINPUT;
	}
	for (i = 0; i < c.nargs; i++) {
		ml_err_clear(&e);
		if ((rc = ml_policyset_lint(c.args[i], &e))) {
			cli_fail(&c, &e);
			if (worst == ML_OK || rc == ML_EPOLICY)
				worst = rc;
		} else {
			printf("ok: %s\n", c.args[i]);
		}
	}
	return worst;
}

/* Which exit code wins over several test files. */
static int
test_rank(int rc)
{
	return rc == ML_EIO ? 4 : rc == ML_EPOLICY ? 3 : rc == ML_EINPUT ? 2 : rc ? 1 : 0;
}

static int
policy_test(int argc, char **argv)
{
	struct cli c = {.cmd = "policy test"};
	struct ml_ptest_result r;
	struct ml_buf out = {0};
	struct ml_err e;
	int i, rc, worst = ML_OK;

	memset(&r, 0, sizeof r);
	if ((rc = cli_parse(&c, argc, argv, "require-coverage")))
		return rc;
	if (cli_has(&c, "help") || c.nargs == 0) {
		fputs(policy_usage, cli_has(&c, "help") ? stdout : stderr);
		return cli_has(&c, "help") ? ML_OK : ML_EINPUT;
	}
	for (i = 0; i < c.nargs; i++) {
		ml_err_clear(&e);
		if ((rc = ml_ptest_run(c.args[i], &r, &e))) {
			cli_fail(&c, &e);
			if (test_rank(rc) > test_rank(worst))
				worst = rc;
		}
	}
	if (r.files == 0 && worst != ML_OK) {
		/* nothing ran: the errors said why */
	} else if (ml_ptest_write(&r, c.json, &out) != ML_OK) {
		worst = cli_failf(&c, ML_EIO, "out of memory");
	} else {
		fwrite(out.data, 1, out.len, stdout);
		if (worst == ML_OK && (r.failed ||
				       (cli_has(&c, "require-coverage") && !ml_ptest_fully_covered(&r))))
			worst = ML_EDENY;
	}
	ml_buf_free(&out);
	ml_ptest_result_free(&r);
	return worst;
}

int
cmd_policy(int argc, char **argv)
{
	int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));

	if (argc >= 2 && !strcmp(argv[1], "lint"))
		return policy_lint(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "test"))
		return policy_test(argc - 1, argv + 1);
	fputs(policy_usage, help ? stdout : stderr);
	return help ? ML_OK : ML_EINPUT;
}

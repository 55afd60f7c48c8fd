/* cli_policy — evidence (and, with the policy engine, gate, check and
 * policy lint/test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/tree.h>

#include "cli.h"
#include "remote.h"
#include "evidence.h"
#include "policypath.h"

/* --as-of DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ): the evidence is the
 * prefix of entries whose effective time is at most DATE, evaluated at
 * DATE.  Without it: every entry up to the head (*flags
 * ML_EVIDENCE_HEAD), evaluated now. */
static int
opt_as_of(struct cli *c, int64_t *us, unsigned *flags)
{
	const char *v = cli_get(c, "as-of");

	*us = ml_now_us();
	*flags = v ? 0 : ML_EVIDENCE_HEAD;
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
	unsigned flags;
	int rc, len = 0;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "env= as-of=")) ||
	    (rc = opt_as_of(&c, &as_of, &flags)))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger evidence NAME@VERSION [--env ENV] [--as-of DATE]\n\n"
		     "Prints the XML document policy rules read for this model version\n"
		     "(policies/EVIDENCE.md): every entry about any version of the model and\n"
		     "the datasets they name, each verified on the way in (leaf hash, author\n"
		     "signature and enrolment, inclusion in the latest signed checkpoint).\n"
		     "Without --as-of: every entry up to the head, as gate sees it; with\n"
		     "--as-of DATE: the entries whose effective time is at most DATE.");
		return ML_OK;
	}
	if (c.nargs != 1)
		return cli_failf(&c, ML_EINPUT, "expected NAME@VERSION");
	if ((rc = cli_open(&c, 0, &l, &e)))
		return cli_fail(&c, &e);
	rc = ml_evidence_build(l, c.args[0], cli_get(&c, "env"), as_of, flags, &doc, &e);
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

#include "decision.h"
#include "gate.h"
#include "findings.h"
#include "policy.h"
#include "policy_test.h"
#include "statement.h"
#include "store.h"
#include "sweep.h"

#define MAX_POLICIES 32
#define MAX_PARAMS 64
#define ML_SARIF_LOCATION_MAX 4096

static const char gate_usage[] =
	"usage: mlledger gate --policy ID|FILE [--policy ID|FILE]... NAME@VERSION... --env ENV\n"
	"                     [--subjects FILE]\n"
	"                     [--param NAME=VALUE]... [--phase ID] [--as-of DATE]\n"
	"                     [--fail-on warn]\n"
	"                     [--format text|json|junit|sarif|github|gitlab]\n"
	"                     [--sarif-location PATH] [--sarif-all]\n"
	"                     [--key KEY [--passphrase-file F]] [--no-record]\n\n"
	"Evaluates the rules against the verified evidence of the candidate\n"
	"(policies/EVIDENCE.md) and decides: exit 0 pass, 1 deny, 3 invalid policy or\n"
	"evaluation error (fail closed), 4 ledger integrity failure, 5 the decision\n"
	"could not be recorded, 6 key problem.  The findings go to standard output in\n"
	"the chosen format; diagnostics to standard error.  sarif and gitlab point\n"
	"each result at its rule's line in the policy file as given (a recorded\n"
	"policy: policies/ID.xml), or in --sarif-location PATH; sarif leaves out\n"
	"passing results unless --sarif-all (policies/FINDINGS.md).\n\n"
	"Time: without --as-of the evidence is every entry up to the ledger's head,\n"
	"evaluated at this machine's clock; --as-of DATE takes the entries whose\n"
	"effective time (ledger/FORMAT.md, clock corrections) is at most DATE and\n"
	"evaluates at DATE.  An entry dated more than 5 minutes after this machine's\n"
	"clock fails closed (exit 3, naming it): an admin repairs the ledger with\n"
	"mlledger clock-correct.\n\n"
	"--policy ID takes the latest policy recorded in the ledger (mlledger policy\n"
	"record) with its recorded params; a value with a '/' or ending in .xml is a\n"
	"draft file.  An ID the ledger does not hold is the installed file ID.xml\n"
	"(MLLEDGER_POLICY_PATH, then the folder compiled in), as a draft; exit 2\n"
	"naming the id, the ledger and the folders when there is none.\n\n"
	"With --key, the decision is appended to the ledger as a signed SLSA\n"
	"Verification Summary Attestation (kind gate: the recorded policies, every\n"
	"param value, the checkpoint, evidence and findings digests, the verdict;\n"
	"ledger/FORMAT.md) that mlledger verify --decisions can replay, and its seq\n"
	"is printed on standard error.  It is made now, on every rule, under recorded\n"
	"policies: --key refuses --as-of, --param, --phase, --fail-on and draft files.\n"
	"--no-record evaluates without recording.\n\n"
	"Several candidates (arguments, or one NAME@VERSION a line in --subjects FILE)\n"
	"are evaluated on the same checkpoint, reported as text, and their decisions\n"
	"appended in one transaction (all or none); the exit code is the worst.\n\n"
	"With --server URL (or MLLEDGER_SERVER), --log-key LOG.pub [--state FILE]\n"
	"[--mirror FILE]: the mirror ('mlledger mirror --help') is brought up to the\n"
	"server's latest checkpoint, every entry checked, and the gate evaluates it\n"
	"here exactly as above; with --key the decision is signed here (the key\n"
	"never leaves this host) and posted to the server (POST /add), which\n"
	"replays it before appending it; the returned proof is checked.  Several\n"
	"decisions are posted one by one (the first refusal stops).\n";

/* The --policy files and --param values (argv's strings), and the sets
 * compiled from them. */
struct policies {
	const char *path[MAX_POLICIES], *param[MAX_PARAMS];
	size_t n, nparams;
	struct ml_policyset *p[MAX_POLICIES]; /* each compiled once here (check names
					       * its policies and rule lines from them) */
	int64_t seq[MAX_POLICIES];            /* recorded ones' entries, else -1 */
	char *installed[MAX_POLICIES];        /* path[i] when found by id (owned) */
};

int
cli_policy_ids(struct ml_evidence *v, const char **paths, char **owned, size_t n, int record,
	       struct ml_err *e)
{
	char path[ML_POLICYPATH_MAX], why[sizeof e->msg];
	uint64_t seq;
	size_t i;
	int found, rc;

	for (i = 0; i < n; i++) {
		const char *id = paths[i];
		if (ml_gate_is_policy_file(id) || strchr(id, '@'))
			continue;
		if ((rc = ml_evidence_newest(v, "policy", id, NULL, &seq, &found)))
			return rc;
		if (found)
			continue;
		if (ml_policypath_find(id, path, e) != ML_OK) {
			if (access(id, F_OK) == 0)
				continue; /* ml_gate_policy_seq tells how to name it */
			snprintf(why, sizeof why, "%s", e->msg);
			return ml_err_set(e, ML_EINPUT, "--policy %.128s: no such policy is recorded "
					  "in the ledger (mlledger policy record), and %s", id, why);
		}
		if (record)
			return ml_err_set(e, ML_EINPUT, "--policy %.128s: no such policy is recorded "
					  "in the ledger; the installed %.200s is a draft: mlledger "
					  "policy record %.128s --key K first", id, path, id);
		if (!(owned[i] = strdup(path)))
			return ml_err_set(e, ML_EIO, "out of memory");
		paths[i] = owned[i];
	}
	return ML_OK;
}

/* cli_policy_ids over ps; load: the installed files compiled into p[]
 * (check), as policies_load compiled the others. */
static int
policies_installed(struct policies *ps, struct ml_evidence *v, int record, int load,
		   struct ml_err *e)
{
	size_t i;
	int rc;

	if ((rc = cli_policy_ids(v, ps->path, ps->installed, ps->n, record, e)))
		return rc;
	for (i = 0; load && i < ps->n; i++)
		if (ps->installed[i] && (rc = ml_policyset_load(ps->path[i], ps->param,
								 ps->nparams, &ps->p[i], e)))
			return rc;
	return ML_OK;
}

/* The entries of the recorded policies among ps, from session v. */
static int
policies_resolve(struct policies *ps, struct ml_evidence *v, struct ml_err *e)
{
	struct ml_gate_policy g;
	uint64_t seq;
	size_t i;
	int rc;

	for (i = 0; i < ps->n; i++) {
		if (ml_gate_is_policy_file(ps->path[i]))
			continue;
		if ((rc = ml_gate_policy_seq(v, ps->path[i], &seq, e)) ||
		    (rc = ml_gate_policy_at(v, seq, ps->param, ps->nparams, &g, e)))
			return rc; /* loaded once here to fail early, as files are */
		ps->p[i] = g.set; /* kept */
		g.set = NULL;
		ml_gate_policy_free(&g);
		ps->seq[i] = (int64_t)seq;
	}
	return ML_OK;
}

/* The compiled sets (again: idempotent); path[] stays valid. */
static void
policies_free(struct policies *ps)
{
	ml_policyset_free_all(ps->p, ps->n);
}

/* Everything, path[] included (the installed files' paths). */
static void
policies_free_all(struct policies *ps)
{
	size_t i;

	policies_free(ps);
	for (i = 0; i < ps->n; i++) {
		free(ps->installed[i]);
		ps->installed[i] = NULL;
	}
}

/* Collects the --policy and --param values and compiles every policy. */
static int
policies_load(const struct cli *c, struct policies *ps, struct ml_err *e)
{
	size_t i;
	int rc;

	if ((rc = cli_values(c, "policy", ps->path, MAX_POLICIES, &ps->n, e)) ||
	    (rc = cli_values(c, "param", ps->param, MAX_PARAMS, &ps->nparams, e)))
		return rc;
	if (!ps->n)
		return ml_err_set(e, ML_EINPUT, "--policy ID|FILE is required");
	for (i = 0; i < ps->n; i++) {
		ps->seq[i] = -1;
		if (ml_gate_is_policy_file(ps->path[i]) &&
		    (rc = ml_policyset_load(ps->path[i], ps->param, ps->nparams, &ps->p[i], e)))
			return rc;
	}
	return ML_OK;
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

/* --format for the policy commands (text unless given), and what
 * --sarif-location and --sarif-all may go with. */
static int
findings_format(const struct cli *c, enum ml_format *f, struct ml_err *e)
{
	const char *fmt = cli_get(c, "format"), *loc = cli_get(c, "sarif-location");

	*f = ML_FMT_TEXT;
	if (fmt && ml_format_parse(fmt, f) != 0)
		return ml_err_set(e, ML_EINPUT, "--format: text, json, junit, sarif, github or "
				  "gitlab");
	if (loc && *f != ML_FMT_SARIF && *f != ML_FMT_GITLAB)
		return ml_err_set(e, ML_EINPUT, "--sarif-location: only with --format sarif or "
				  "gitlab");
	if (loc && (!*loc || strlen(loc) > ML_SARIF_LOCATION_MAX))
		return ml_err_set(e, ML_EINPUT, "--sarif-location: expected a path of 1 to %d "
				  "bytes", ML_SARIF_LOCATION_MAX);
	if (cli_has(c, "sarif-all") && *f != ML_FMT_SARIF)
		return ml_err_set(e, ML_EINPUT, "--sarif-all: only with --format sarif");
	return ML_OK;
}

/* The sarif and gitlab options of c; cwd (cwd_len bytes) holds the working
 * directory (left out when it cannot be read: paths stay as given). */
static void
findings_opts(const struct cli *c, struct ml_findings_opts *o, char *cwd, size_t cwd_len)
{
	memset(o, 0, sizeof *o);
	o->location = cli_get(c, "sarif-location");
	o->all = cli_has(c, "sarif-all");
	o->cwd = getcwd(cwd, cwd_len) ? cwd : NULL;
}

/* After a writer's rc: what out still holds to stdout and a flush; one
 * error for both failing. */
static int
drain_stdout(struct ml_buf *out, int rc, struct ml_err *e)
{
	if (rc == ML_OK) {
		ml_buf_drain(out, 0);
		if (out->oom || fflush(stdout) != 0)
			rc = ml_err_set(e, ML_EIO, "cannot write the findings to standard output");
	}
	ml_buf_free(out);
	return rc;
}

static int
write_findings(struct cli *c, const struct ml_findings *fs, struct ml_err *e)
{
	struct ml_findings_opts o;
	struct ml_buf out = {0};
	char cwd[4096];
	enum ml_format f;
	int rc;

	if ((rc = findings_format(c, &f, e)))
		return rc;
	findings_opts(c, &o, cwd, sizeof cwd);
	out.sink = stdout; /* a check's findings can run to gigabytes */
	return drain_stdout(&out, ml_findings_write_opts(fs, f, &o, &out, e), e);
}

/* check's output: the stream's findings to stdout, as they drain. */
static int
write_stream(struct ml_findings_stream *s, struct ml_err *e)
{
	struct ml_buf out = {0};

	out.sink = stdout;
	return drain_stdout(&out, ml_findings_stream_finish(s, &out, e), e);
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

/* Fails closed (ML_EPOLICY, naming the entry) when an entry of the session
 * is dated more than the tolerance after this machine's clock: entries
 * dated in the future would hide every later one from an --as-of now. */
static int
not_ahead(struct ml_evidence *v, struct ml_err *e)
{
	uint64_t seq;
	int64_t t;

	return ml_evidence_ahead(v, ml_now_us(), &seq, &t, e);
}

/* The gate's policies: recorded ones from the session, files as drafts. */
static int
gate_policies(const struct policies *ps, struct ml_evidence *v, struct ml_gate_policy *pol,
	      size_t *n, struct ml_err *e)
{
	size_t i;
	int rc = ML_OK;

	for (i = 0; i < ps->n && rc == ML_OK; i++) {
		rc = ml_gate_is_policy_file(ps->path[i])
			     ? ml_gate_policy_file(ps->path[i], ps->param, ps->nparams, &pol[i], e)
			     : ml_gate_policy_recorded(v, ps->path[i], ps->param, ps->nparams,
						       &pol[i], e);
		*n = i + (rc == ML_OK);
	}
	return rc;
}

/* What a recorded decision may not be given: it is made now, on every
 * rule, under recorded policies with their recorded params (ledger/FORMAT.md
 * §2, "Gate decisions"). */
static int
recordable(struct cli *c, const struct policies *ps)
{
	static const char *const refused[] = {"as-of", "param", "phase", "fail-on", NULL};
	size_t i;

	for (i = 0; refused[i]; i++)
		if (cli_get(c, refused[i]))
			return cli_failf(c, ML_EINPUT, "--%s cannot be used with --key: a recorded "
					 "decision is made now, on every rule, under recorded "
					 "policies and their recorded params (--no-record to try)",
					 refused[i]);
	for (i = 0; i < ps->n; i++)
		if (ml_gate_is_policy_file(ps->path[i]))
			return cli_failf(c, ML_EINPUT, "--policy %s: a recorded decision needs a "
					 "recorded policy: mlledger policy record %s --key K, then "
					 "--policy ID", ps->path[i], ps->path[i]);
	return ML_OK;
}

/* One candidate of a gate run: its predicate and digest when recorded. */
struct candidate {
	const char *ref;
	uint8_t digest[ML_SHA256_LEN];
	json_t *pred;
};

/* gate --server: posts the signed decisions (items) one by one to the
 * server of c (POST /add, proof and state checked); out[i] as an append's.
 * Stops at the first refusal. */
static int
post_decisions(const struct cli *c, const struct ml_append_item *items, size_t n,
	       struct ml_appended *out, struct ml_err *e)
{
	struct ml_remote *r = NULL;
	struct ml_remote_added a;
	size_t i;
	int rc;

	if ((rc = cli_remote_open(c, &r, e)))
		return rc;
	for (i = 0; i < n && rc == ML_OK; i++) {
		memset(&a, 0, sizeof a);
		rc = ml_remote_submit(r, items[i].envelope, items[i].len, ML_REMOTE_ATTEMPTS, &a, e);
		if (rc == ML_OK)
			rc = cli_remote_state(c, r, &a.ck, 0, e);
		if (rc == ML_OK) {
			out[i].seq = a.seq;
			memcpy(out[i].leaf, a.leaf, ML_SHA256_LEN);
			out[i].time_us = a.time_us;
			out[i].existing = a.existing;
		}
		ml_remote_added_free(&a);
	}
	ml_remote_close(r);
	return rc;
}

/* Signs every decision with k and appends them in one batch (all or none);
 * prints each seq.  With --server (c), posts them instead. */
static int
record_decisions(const struct cli *c, struct ml_ledger *l, const struct ml_seckey *k,
		 struct candidate *cs, size_t n, struct ml_err *e)
{
	struct ml_buf *payload = calloc(n, sizeof *payload), *env = calloc(n, sizeof *env);
	struct ml_statement *st = calloc(n, sizeof *st);
	struct ml_append_item *items = calloc(n, sizeof *items);
	struct ml_appended *out = calloc(n, sizeof *out);
	size_t i;
	int rc = ML_OK;

	if (!payload || !env || !st || !items || !out)
		rc = ml_err_set(e, ML_EIO, "out of memory");
	for (i = 0; rc == ML_OK && i < n; i++) {
		rc = ml_statement_encode_parsed(ML_KIND_GATE, cs[i].ref, cs[i].digest, cs[i].pred,
						&payload[i], &st[i], e);
		cs[i].pred = NULL; /* stolen */
		if (rc == ML_OK)
			rc = ml_envelope_sign(k, payload[i].data, payload[i].len, &env[i], e);
		items[i] = (struct ml_append_item){env[i].data, env[i].len, ml_seckey_public(k),
						   &st[i], 0};
	}
	if (rc == ML_OK && (rc = cli_server(c) ? post_decisions(c, items, n, out, e)
					       : ml_ledger_append(l, items, n, out, e)) == ML_OK)
		for (i = 0; i < n; i++) {
			if (n == 1)
				fprintf(stderr, "gate: decision recorded at seq %llu\n",
					(unsigned long long)out[i].seq);
			else
				fprintf(stderr, "gate: decision for %s recorded at seq %llu\n",
					cs[i].ref, (unsigned long long)out[i].seq);
		}
	for (i = 0; st && payload && env && i < n; i++) {
		ml_statement_free(&st[i]);
		ml_buf_free(&payload[i]);
		ml_buf_free(&env[i]);
	}
	free(payload);
	free(env);
	free(st);
	free(items);
	free(out);
	return rc;
}

/* The candidates: the arguments, then the lines of --subjects FILE. */
static int
gate_candidates(struct cli *c, char **text, struct candidate **out, size_t *n,
		struct ml_err *e)
{
	const char *file = cli_get(c, "subjects");
	size_t len = 0, cap = (size_t)c->nargs, i;
	char *p, *line;

	*text = NULL;
	if (file) {
		int rc = ml_read_file(file, 64u << 20, text, &len, e);
		if (rc)
			return ml_err_prefix(e, rc, file);
		for (p = *text; *p; p++)
			cap += *p == '\n';
		cap++;
	}
	if (!(*out = calloc(cap + 1, sizeof **out)))
		return ml_err_set(e, ML_EIO, "out of memory");
	for (i = 0; i < (size_t)c->nargs; i++)
		(*out)[(*n)++].ref = c->args[i];
	for (line = *text; line && *line; line = p) {
		if ((p = strchr(line, '\n')))
			*p++ = '\0';
		else
			p = line + strlen(line);
		if (*line)
			(*out)[(*n)++].ref = line;
	}
	return ML_OK;
}

/* Evaluates the decision for one candidate and writes the findings; with
 * record, also its predicate (*pred) and the candidate's digest. */
static int
gate_one(struct cli *c, struct ml_ledger *l, struct ml_evidence *v,
	 const struct ml_gate_input *in, int64_t as_of, int record,
	 uint8_t digest[ML_SHA256_LEN], json_t **pred, struct ml_err *e)
{
	struct ml_findings fs;
	uint8_t evd[ML_SHA256_LEN];
	xmlDocPtr doc = NULL;
	int rc;

	memset(&fs, 0, sizeof fs);
	if ((rc = ml_gate_eval(v, in, &fs, record ? evd : NULL, &doc, e)))
		goto out;
	apply_fail_on(c, &fs);
	if ((rc = write_findings(c, &fs, e)))
		goto out;
	fflush(stdout);
	if (record && (rc = ml_gate_predicate(l, v, in, as_of, &fs, evd, doc, digest, pred, e)))
		goto out;
	rc = fs.verdict;
out:
	xmlFreeDoc(doc);
	ml_findings_free(&fs);
	return rc;
}

/* The worse of two verdicts: indeterminate, deny, pass. */
static int
worse(int a, int b)
{
	if (a == ML_EPOLICY || b == ML_EPOLICY)
		return ML_EPOLICY;
	return a == ML_EDENY || b == ML_EDENY ? ML_EDENY : ML_OK;
}

int
cmd_gate(int argc, char **argv)
{
	struct cli c = {.cmd = "gate"};
	struct policies ps = {0};
	struct ml_gate_policy pol[ML_GATE_MAX_POLICIES];
	struct ml_gate_input in;
	struct ml_ledger *l = NULL;
	struct ml_seckey *k = NULL;
	struct ml_evidence *v = NULL;
	struct candidate *cs = NULL;
	struct ml_err e;
	char *subjects = NULL;
	enum ml_format fmt;
	int64_t as_of;
	unsigned flags;
	size_t npol = 0, ncs = 0, i;
	int rc, record, verdict = ML_OK;

	ml_err_clear(&e);
	if ((rc = parse_policy_cli(&c, argc, argv, "policy= env= param= phase= as-of= fail-on= "
				   "no-record key= passphrase-file= subjects= server= log-key= "
				   "trust= state= mirror= sarif-location= sarif-all")) ||
	    (rc = opt_as_of(&c, &as_of, &flags)))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(gate_usage, stdout);
		return ML_OK;
	}
	if ((c.nargs < 1 && !cli_get(&c, "subjects")) || !cli_get(&c, "env"))
		return cli_failf(&c, ML_EINPUT, "expected --policy ID|FILE NAME@VERSION... --env ENV");
	if (cli_get(&c, "fail-on") && strcmp(cli_get(&c, "fail-on"), "warn"))
		return cli_failf(&c, ML_EINPUT, "--fail-on: only 'warn'");
	record = cli_get(&c, "key") && !cli_has(&c, "no-record");
	if ((rc = cli_values(&c, "policy", ps.path, ML_GATE_MAX_POLICIES, &ps.n, &e)) ||
	    (rc = cli_values(&c, "param", ps.param, MAX_PARAMS, &ps.nparams, &e)))
		return cli_fail(&c, &e);
	if (!ps.n)
		return cli_failf(&c, ML_EINPUT, "--policy ID|FILE is required");
	if (record && (rc = recordable(&c, &ps)))
		return rc;
	if (record)
		as_of -= as_of % 1000000; /* timeVerified has whole seconds: replay sees the same */
	if ((rc = findings_format(&c, &fmt, &e)) ||
	    (rc = gate_candidates(&c, &subjects, &cs, &ncs, &e)))
		goto out;
	if (ncs > 1 && cli_get(&c, "format") && strcmp(cli_get(&c, "format"), "text")) {
		rc = ml_err_set(&e, ML_EINPUT, "--format: several candidates are reported as text "
				"only");
		goto out;
	}
	if (record && (rc = cli_load_key(&c, &k, &e)))
		goto out;
	if (cli_server(&c) && (rc = cli_use_mirror(&c, NULL, &e)))
		goto out;
	if ((rc = cli_open(&c, record && !cli_server(&c), &l, &e)) ||
	    (rc = ml_evidence_open(l, as_of, flags, &v, &e)) || (rc = not_ahead(v, &e)) ||
	    (rc = policies_installed(&ps, v, record, 0, &e)) ||
	    (rc = gate_policies(&ps, v, pol, &npol, &e)))
		goto out;
	for (i = 0; i < ncs; i++) {
		in = (struct ml_gate_input){.subject = cs[i].ref, .env = cli_get(&c, "env"),
					    .phase = cli_get(&c, "phase"), .policies = pol,
					    .npolicies = npol};
		rc = gate_one(&c, l, v, &in, as_of, record, cs[i].digest, &cs[i].pred, &e);
		if (rc != ML_OK && rc != ML_EDENY && !(rc == ML_EPOLICY && cs[i].pred))
			goto out; /* nothing is recorded */
		verdict = worse(verdict, rc);
	}
	ml_evidence_close(v); /* its read transaction ends before the append */
	v = NULL;
	rc = record ? record_decisions(&c, l, k, cs, ncs, &e) : ML_OK;
	if (rc == ML_OK)
		rc = verdict;
out:
	for (i = 0; cs && i < ncs; i++)
		json_decref(cs[i].pred);
	free(cs);
	free(subjects);
	for (i = 0; i < npol; i++)
		ml_gate_policy_free(&pol[i]);
	policies_free_all(&ps);
	ml_evidence_close(v);
	ml_seckey_free(k);
	ml_ledger_close(l);
	if (rc == ML_EDENY || (rc == ML_EPOLICY && !e.msg[0]))
		return rc; /* the findings say why */
	return rc ? cli_fail(&c, &e) : ML_OK;
}

struct scope {
	struct ml_sweep_subject *v;
	size_t n, cap;
	int oom;
};

static void
scope_add(struct scope *s, const char *ref, const char *env)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct ml_sweep_subject *p = realloc(s->v, cap * sizeof *p);
		if (!p) {
			s->oom = 1;
			return;
		}
		s->v = p;
		s->cap = cap;
	}
	snprintf(s->v[s->n].ref, sizeof s->v[s->n].ref, "%s", ref);
	snprintf(s->v[s->n].env, sizeof s->v[s->n].env, "%s", env ? env : "");
	s->n++;
}

/* Every model version, and every (model version, environment) deployed. */
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

static int
cmp_subject(const void *a, const void *b)
{
	const struct ml_sweep_subject *x = a, *y = b;
	int c = strcmp(x->ref, y->ref);

	return c ? c : strcmp(x->env, y->env);
}

/* Sorted by model version (so the evidence cache serves one model at a
 * time), each (version, env) once; a version that was deployed is checked
 * per environment only. */
static void
scope_finish(struct scope *s)
{
	size_t i, n = 0;

	qsort(s->v, s->n, sizeof *s->v, cmp_subject);
	for (i = 0; i < s->n; i++) {
		int dup = n && !cmp_subject(&s->v[n - 1], &s->v[i]);
		int shadowed = !s->v[i].env[0] && i + 1 < s->n &&
			       !strcmp(s->v[i + 1].ref, s->v[i].ref);
		if (!dup && !shadowed)
			s->v[n++] = s->v[i];
	}
	s->n = n;
}

/* Where check's findings go, and how many policies each subject has. */
struct check_run {
	struct ml_findings_stream *s;
	const struct policies *ps;
};

/* ml_sweep_each's callback: a subject's findings, policy after policy,
 * into the stream. */
static int
check_take(void *ctx, size_t i, struct ml_sweep_result *r, struct ml_err *e)
{
	struct check_run *cr = ctx;
	size_t k;
	int rc = ML_OK;

	(void)i;
	for (k = 0; k < cr->ps->n && rc == ML_OK; k++)
		if ((rc = ml_gate_note_policy(&r[k].fs, 0, cr->ps->p[k], cr->ps->seq[k], e)) == ML_OK)
			rc = ml_findings_stream_add(cr->s, &r[k].fs, e);
	return rc;
}

/* Evaluates every subject of the scope into the stream s (sweep), in
 * subject order, without holding them all; each worker compiles its own
 * copy of ps's files. */
static int
check_scope(struct cli *c, const struct policies *ps, const struct scope *sc, int64_t as_of,
	    unsigned flags, size_t jobs, struct ml_findings_stream *s, struct ml_err *e)
{
	static char label[] = "check";
	struct ml_sweep_opts o = {.ledger = c->ledger, .policies = ps->path, .npolicies = ps->n,
				  .policy_seq = ps->seq,
				  .params = ps->param, .nparams = ps->nparams,
				  .phase = cli_get(c, "phase"), .as_of_us = as_of,
				  .evidence_flags = flags,
				  .jobs = jobs ? jobs : ml_sweep_default_jobs(sc->n),
				  .progress = cli_progress, .progress_ctx = label};
	struct check_run cr = {s, ps};
	int rc;

	rc = ml_sweep_each(&o, sc->v, sc->n, check_take, &cr, e);
	cli_progress_done();
	return rc;
}

int
cmd_check(int argc, char **argv)
{
	struct cli c = {.cmd = "check"};
	struct scope sc = {0};
	struct policies ps = {0};
	struct ml_findings_stream *fs = NULL;
	struct ml_findings_opts fo;
	struct ml_ledger *l = NULL;
	struct ml_err e;
	struct ml_evidence *v = NULL;
	enum ml_format fmt;
	char cwd[4096];
	int64_t as_of;
	unsigned flags;
	long jobs;
	int rc;

	ml_err_clear(&e);
	if ((rc = parse_policy_cli(&c, argc, argv, "policy= param= phase= as-of= fail-on= jobs= "
					 "sarif-location= sarif-all")) ||
	    (rc = opt_as_of(&c, &as_of, &flags)) ||
	    (rc = cli_opt_long(&c, "jobs", 1, ML_SWEEP_MAX_JOBS, 0, &jobs)))
		goto done;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger check --policy ID|FILE [--policy ID|FILE]... [--param NAME=VALUE]...\n"
		     "                      [--phase ID] [--as-of DATE] [--fail-on warn]\n"
		     "                      [--format text|json|junit|sarif|github|gitlab]\n"
		     "                      [--sarif-location PATH] [--sarif-all] [--jobs N]\n\n"
		     "Evaluates the rules for every model version in the ledger: for each\n"
		     "environment it was deployed to, or once without an environment when it\n"
		     "never was.  The whole tree is checked against the latest signed\n"
		     "checkpoint once; every entry in any evidence is verified.  --jobs N: at\n"
		     "most N worker threads (default: one per core, at most 8); the output\n"
		     "does not depend on it.  Findings are kept in a temporary file in\n"
		     "$TMPDIR (or /tmp; unlinked at once) until the verdict is known, so memory\n"
		     "does not grow with them (junit, sarif and gitlab hold them in memory).\n"
		     "--sarif-location, --sarif-all: as gate.  Exit\n"
		     "codes as gate (5 also when no temporary file can be written); time\n"
		     "(--as-of, entries dated in the future) as gate.");
		goto done;
	}
	if ((rc = findings_format(&c, &fmt, &e)) || (rc = policies_load(&c, &ps, &e)) ||
	    (rc = cli_open(&c, 0, &l, &e)) ||
	    (rc = ml_evidence_open(l, as_of, flags, &v, &e)) || (rc = not_ahead(v, &e)) ||
	    (rc = policies_installed(&ps, v, 0, 1, &e)) || (rc = policies_resolve(&ps, v, &e)))
		goto out;
	ml_evidence_close(v);
	v = NULL;
	if ((rc = ml_store_query(ml_ledger_store(l), "model", NULL, NULL, -1, scope_entry, &sc,
				 &e)) ||
	    (rc = ml_store_query(ml_ledger_store(l), "deployment", NULL, NULL, -1, scope_entry,
				 &sc, &e)))
		goto out;
	if (sc.oom) {
		rc = ml_err_set(&e, ML_EIO, "out of memory");
		goto out;
	}
	scope_finish(&sc);
	/* ps stays loaded (names and rule lines); each worker loads its own */
	ml_ledger_close(l);
	l = NULL;
	findings_opts(&c, &fo, cwd, sizeof cwd);
	if ((rc = ml_findings_stream_new(fmt, &fs, &e)))
		goto out;
	ml_findings_stream_set_opts(fs, &fo);
	cli_no_fastbins();
	if ((rc = check_scope(&c, &ps, &sc, as_of, flags, (size_t)jobs, fs, &e)))
		goto out;
	/* --fail-on warn: an unwaived warn failure denies too (apply_fail_on) */
	if (cli_get(&c, "fail-on") && !strcmp(cli_get(&c, "fail-on"), "warn") &&
	    ml_findings_stream_verdict(fs) == ML_OK && ml_findings_stream_warn_failures(fs))
		ml_findings_stream_set_verdict(fs, ML_EDENY);
	if ((rc = write_stream(fs, &e)) == ML_OK)
		rc = ml_findings_stream_verdict(fs);
out:
	ml_evidence_close(v);
	ml_ledger_close(l);
	policies_free_all(&ps);
	ml_findings_stream_free(fs);
	if (!(rc == ML_EDENY || (rc == ML_EPOLICY && !e.msg[0])) && rc)
		rc = cli_fail(&c, &e);
done:
	free(sc.v);
	return rc;
}

static const char policy_usage[] =
	"usage: mlledger policy lint ID|FILE...\n"
	"       mlledger policy record ID|FILE [--param NAME=VALUE]... --key KEY\n"
	"                              [--passphrase-file F]\n"
	"       mlledger policy test [--format text|json] [--require-coverage] FILE...\n\n"
	"lint validates each policy file against policies/policy.xsd and compiles every\n"
	"expression, binding every variable, function, key and data name, so a typo\n"
	"fails here and not mid-gate.  Exit 0, or 3 naming file and line.  Warnings\n"
	"(\"FILE:LINE: warning: ...\" on stderr, e.g. an = or != between two node-sets,\n"
	"which XPath 1.0 makes true when any pair matches) do not change the exit status.\n\n"
	"test runs policy test files (policies/TESTING.md): it builds each fixture\n"
	"ledger, evaluates each case and prints one line per expectation that did not\n"
	"hold, a summary, and per policy how many rules have both their pass and fail\n"
	"paths covered.  Exit 0 when every expectation holds (and, with\n"
	"--require-coverage, every rule is covered), 1 when one does not, 2 for a usage\n"
	"error or a missing file, 3 for an invalid test or policy file (naming file and\n"
	"line), 5 for a storage error.\n\n"
	"lint and record take a policy ID (no '/', no .xml suffix) for the installed\n"
	"file ID.xml: the first folder of MLLEDGER_POLICY_PATH (colon-separated) that\n"
	"has it, else the folder compiled in (mlledger(1), README \"Install\"); exit 2\n"
	"naming the id and the folders when none has it.\n\n"
	"record appends the policy file's exact bytes (and the --param values, which\n"
	"every gate then uses) to the ledger as a `policy` entry, after lint passes:\n"
	"gate, check and report take --policy ID for its latest recorded version, and\n"
	"only a decision under recorded policies can be recorded.  The key needs a\n"
	"role the governance lets sign `policy` (by default admin or risk-officer).\n"
	"Exit 0, 2 bad param or file, 3 invalid policy, 6 key or role.\n"
	"policy record with --server URL (or MLLEDGER_SERVER) and --log-key\n"
	"LOG.pub|--trust POLICY [--state FILE] [--mirror FILE]: looked up in the\n"
	"mirror ('mlledger mirror --help'), signed here (keys never leave this\n"
	"host) and posted (POST /add), the proof checked.\n";

/* A policy FILE argument of policy lint and record: a path (a '/' or the
 * .xml suffix) as given; a bare name is an id found on the policy path
 * (policypath.h) into buf (ML_POLICYPATH_MAX), or, when no installed
 * policy has it, a file of that name here, as before ids.  *out borrows
 * arg or buf.  ML_EINPUT naming the id and the folders searched. */
static int
policy_file_arg(const char *arg, char *buf, const char **out, struct ml_err *e)
{
	char why[sizeof e->msg];

	*out = arg;
	if (ml_gate_is_policy_file(arg))
		return ML_OK;
	if (ml_policypath_find(arg, buf, e) == ML_OK)
		*out = buf;
	else if (access(arg, F_OK) != 0) {
		snprintf(why, sizeof why, "%s", e->msg);
		return ml_err_set(e, ML_EINPUT, "%.128s: %s", arg, why);
	}
	return ML_OK;
}

/* policy lint --format json: {"file","ok","id","version","warnings"} for
 * a file that compiles (errors stay on stderr, one line each). */
static void
lint_json(const struct cli *c, const char *file, const struct ml_policyset *p)
{
	json_t *w = json_array();
	size_t k;
	struct ml_err e;

	for (k = 0; k < ml_policyset_warning_count(p); k++)
		json_array_append_new(w, json_string(ml_policyset_warning(p, k)));
	ml_err_clear(&e);
	if (cli_print_json(json_pack("{s:s, s:b, s:s, s:s, s:o}", "file", file, "ok", 1, "id",
				     ml_policyset_id(p), "version", ml_policyset_version(p),
				     "warnings", w),
			   &e))
		cli_fail(c, &e);
}

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
		struct ml_policyset *p = NULL;
		char buf[ML_POLICYPATH_MAX];
		const char *file;
		size_t w;

		ml_err_clear(&e);
		if ((rc = policy_file_arg(c.args[i], buf, &file, &e)) ||
		    (rc = ml_policyset_load(file, NULL, 0, &p, &e))) {
			cli_fail(&c, &e);
			if (worst == ML_OK || rc == ML_EPOLICY)
				worst = rc;
		} else {
			/* warnings do not change the exit status */
			for (w = 0; w < ml_policyset_warning_count(p); w++)
				fprintf(stderr, "%s\n", ml_policyset_warning(p, w));
			if (c.json) /* JSON lines: one per file that compiles */
				lint_json(&c, file, p);
			else
				printf("ok: %s\n", file);
		}
		ml_policyset_free(p);
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

/* The predicate of a policy entry: time, the file's text, the params. */
static int
policy_predicate(const struct policies *ps, const char *text, json_t **out,
		 struct ml_err *e)
{
	json_t *pred, *params = json_object();
	char now[21];
	size_t i;

	ml_time_format(ml_now_us(), now);
	for (i = 0; params && i < ps->nparams; i++) {
		const char *eq = strchr(ps->param[i], '=');
		char name[65];
		if (!eq || eq == ps->param[i] || (size_t)(eq - ps->param[i]) >= sizeof name) {
			json_decref(params);
			return ml_err_set(e, ML_EINPUT, "--param %s: expected NAME=VALUE",
					  ps->param[i]);
		}
		snprintf(name, sizeof name, "%.*s", (int)(eq - ps->param[i]), ps->param[i]);
		if (json_object_set_new(params, name, json_string(eq + 1))) {
			json_decref(params);
			return ml_err_set(e, ML_EINPUT, "--param %s: not UTF-8", ps->param[i]);
		}
	}
	pred = json_pack("{s:s, s:s}", "time", now, "content", text);
	if (!params || !pred ||
	    (ps->nparams && json_object_set(pred, "params", params))) {
		json_decref(params);
		json_decref(pred);
		return ml_err_set(e, ML_EINPUT, "the policy file is not UTF-8 text");
	}
	json_decref(params);
	*out = pred;
	return ML_OK;
}

static int
policy_record(int argc, char **argv)
{
	struct cli c = {.cmd = "policy record"};
	struct policies ps = {0};
	struct ml_policyset *set = NULL;
	struct ml_ledger *l = NULL;
	struct ml_seckey *k = NULL;
	struct ml_buf payload = {0}, env = {0};
	struct ml_statement st = {0};
	struct ml_append_item item = {0};
	struct ml_appended out;
	struct ml_err e;
	uint8_t digest[ML_SHA256_LEN];
	char *text = NULL, ref[300], buf[ML_POLICYPATH_MAX];
	const char *file = NULL;
	json_t *pred = NULL;
	size_t len = 0;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "param= key= passphrase-file= server= log-key= trust= state= mirror=")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(policy_usage, stdout);
		return ML_OK;
	}
	if (c.nargs != 1 || !cli_get(&c, "key"))
		return cli_failf(&c, ML_EINPUT, "expected FILE --key KEY");
	if ((rc = cli_values(&c, "param", ps.param, MAX_PARAMS, &ps.nparams, &e)) ||
	    (rc = policy_file_arg(c.args[0], buf, &file, &e)) ||
	    (rc = ml_policyset_load(file, ps.param, ps.nparams, &set, &e)) ||
	    (rc = ml_read_file(file, ML_MAX_FIELD, &text, &len, &e)))
		goto out;
	if (strlen(text) != len || !ml_text_valid(text, len, "\n\t")) {
		rc = ml_err_set(&e, ML_EINPUT, "%s: a recorded policy is UTF-8 text without NUL, CR "
				"or other control characters but tab and newline", file);
		goto out;
	}
	snprintf(ref, sizeof ref, "%s@%s", ml_policyset_id(set), ml_policyset_version(set));
	ml_sha256(text, len, digest);
	if ((rc = policy_predicate(&ps, text, &pred, &e)) ||
	    (rc = cli_load_key(&c, &k, &e)) || (rc = cli_open_append(&c, &l, &e)))
		goto out;
	json_object_set_new(pred, ML_ORIGIN_MEMBER, json_string(ml_ledger_origin(l)));
	rc = ml_statement_encode_parsed(ML_KIND_POLICY, ref, digest, pred, &payload, &st, &e);
	pred = NULL; /* stolen */
	if (rc || (rc = ml_envelope_sign(k, payload.data, payload.len, &env, &e)))
		goto out;
	item = (struct ml_append_item){env.data, env.len, ml_seckey_public(k), &st, 0};
	if ((rc = cli_append(&c, l, &item, &out, &e)) == ML_OK && c.json) {
		char hex[72] = "sha256:", t[21];
		ml_hex_encode(out.leaf, sizeof out.leaf, hex + 7);
		ml_time_format(out.time_us, t);
		rc = cli_print_json(json_pack("{s:s, s:I, s:s, s:s}", "policy", ref, "seq",
					      (json_int_t)out.seq, "leafHash", hex, "time", t),
				    &e);
	} else if (rc == ML_OK) {
		printf("policy: %s recorded at seq %llu\n", ref, (unsigned long long)out.seq);
	}
out:
	json_decref(pred);
	ml_statement_free(&st);
	ml_buf_free(&payload);
	ml_buf_free(&env);
	ml_seckey_free(k);
	ml_ledger_close(l);
	ml_policyset_free(set);
	free(text);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cmd_policy(int argc, char **argv)
{
	int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));

	if (argc >= 2 && !strcmp(argv[1], "lint"))
		return policy_lint(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "test"))
		return policy_test(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "record"))
		return policy_record(argc - 1, argv + 1);
	fputs(policy_usage, help ? stdout : stderr);
	return help ? ML_OK : ML_EINPUT;
}

/* cli_audit — population, sample, trace and reconcile (docs/AUDITING.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "cli.h"
#include "report.h"

static const char population_usage[] =
	"usage: mlledger population [--kind K[,K...]|all]... [--from DATE] [--to DATE]\n"
	"                           [--format csv|json] [--out FILE [--force]]\n"
	"                           [--allow-unverified] [--jobs N]\n"
	"\n"
	"Every control event of the kinds named (default: deployment, approval and\n"
	"gate) appended in the period, drawn from the verified ledger below its\n"
	"signed checkpoint: seq, leaf hash, kind, subject, subject digest,\n"
	"environment, author time, append time, signer, person id and name, decision\n"
	"or verdict, and a gate's policies.  The period is by append time (the\n"
	"ledger's clock): --from is inclusive; --to DAY includes that day, --to\n"
	"TIME excludes that second.  CSV (default) has '#' scope lines (origin,\n"
	"checkpoint, kinds, period, count, digest), then a header row; JSON has a\n"
	"\"population\" object with the same scope.  The digest is SHA-256 over\n"
	"\"SEQ LEAFHEX\\n\" per item (docs/AUDITING.md).\n"
	"\n"
	"--allow-unverified  read a ledger that fails verify; the scope says so\n"
	"Exit: 0 ok, 2 usage or a refused --out, 4 the ledger fails verify, 5 I/O.\n";

static const char sample_usage[] =
	"usage: mlledger sample --population FILE --n N --seed S [--out FILE [--force]]\n"
	"\n"
	"Draws N items from a population file (CSV or JSON as population writes it)\n"
	"reproducibly: every item is ranked by SHA-256(S \":\" LEAFHEX) and the N\n"
	"smallest ranks are drawn, printed in seq order in the file's format with\n"
	"the population digest they were drawn from.  N larger than the population\n"
	"draws all of it, and says so.  S is 1-128 printable ASCII characters.  No\n"
	"ledger is read.  A file whose items do not match its digest line is refused.\n"
	"\n"
	"Exit: 0 ok, 2 usage or bad file, 4 items do not match the digest, 5 I/O.\n";

static const char trace_usage[] =
	"usage: mlledger trace SEQ [--format text|json] [--out FILE [--force]]\n"
	"                          [--allow-unverified] [--jobs N]\n"
	"\n"
	"Entry SEQ and its evidence chain, each entry with its seq, leaf hash and a\n"
	"c2sp.org/tlog-proof@v1 inclusion proof against the verified ledger's\n"
	"checkpoint ('mlledger verify-proof' checks each with 'show N --format raw').\n"
	"A deployment: its model version, datasets, evaluations, approvals for its\n"
	"environment, gate decisions and their policies, waivers, incidents, later\n"
	"monitoring and retirement.  A model: everything about the version.  A gate:\n"
	"model, datasets, policies, approvals before it, deployments after it.\n"
	"\n"
	"Exit: 0 ok, 2 usage or no such entry, 4 the ledger fails verify, 5 I/O.\n";

static const char reconcile_usage[] =
	"usage: mlledger reconcile --deployments FILE.csv [--tolerance DURATION]\n"
	"                          [--from DATE] [--to DATE] [--format text|json|csv]\n"
	"                          [--out FILE [--force]] [--allow-unverified] [--jobs N]\n"
	"\n"
	"Compares the deployments a platform reports with the ledger's.  FILE.csv:\n"
	"header environment,model,version,digest,time; version or digest\n"
	"(sha256:HEX) or both; time YYYY-MM-DDTHH:MM:SSZ.  A row matches a\n"
	"deployment entry of the same environment and model name, the same version\n"
	"and digest where given, appended within --tolerance (default 1h; 90s, 30m,\n"
	"2d) of its time.  Lists matches, the platform's rows the ledger lacks, and\n"
	"the ledger's deployments in the period (default: the file's, widened by\n"
	"the tolerance) the platform lacks.\n"
	"\n"
	"Exit: 0 both sides agree, 1 differences, 2 usage or a bad file (naming the\n"
	"line), 4 the ledger fails verify, 5 I/O.\n";

/* Standard output, or --out through the output rules. */
static int
emit(struct cli *c, const struct ml_buf *b, struct ml_err *e)
{
	const char *path = cli_get(c, "out");

	if (b->oom)
		return ml_err_set(e, ML_EIO, "out of memory");
	if (!path) {
		if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
			return ml_err_set(e, ML_EIO, "write failed");
		return fflush(stdout) ? ml_err_set(e, ML_EIO, "write failed") : ML_OK;
	}
	return ml_write_file_atomic(path, b->data, b->len, 0644, !cli_has(c, "force"), e);
}

static int
check_out(struct cli *c, struct ml_err *e)
{
	const char *path = cli_get(c, "out");

	return path ? cli_out_check(c, "--out", path, 0, e) : ML_OK;
}

/* Opens the ledger and the verified view.  On failure prints and returns the
 * exit code. */
static int
open_view(struct cli *c, struct ml_ledger **l, struct ml_audit **a)
{
	struct ml_err e;
	long jobs;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_opt_long(c, "jobs", 1, 256, 0, &jobs)))
		return rc;
	if ((rc = cli_open(c, 0, l, &e)))
		return cli_fail(c, &e);
	if ((rc = ml_audit_open(*l, (int)jobs, cli_has(c, "allow-unverified"), a, &e))) {
		ml_ledger_close(*l);
		if (rc == ML_EINTEGRITY)
			ml_err_prefix(&e, rc, "the ledger fails verify");
		cli_fail(c, &e);
		if (rc == ML_EINTEGRITY)
			fprintf(stderr, "hint: mlledger verify names the fault; "
				"--allow-unverified reads the ledger anyway\n");
		return rc;
	}
	if (!ml_audit_verified(*a, NULL)) {
		const char *why;
		ml_audit_verified(*a, &why);
		fprintf(stderr, "mlledger: %s: warning: the ledger FAILS verify (%s); "
			"what follows cannot be relied on\n", c->cmd, why);
	}
	return ML_OK;
}

/* DATE: that day's start; TIME: that second.  to: a DATE names the end of
 * that day. */
static int
opt_period(struct cli *c, const char *name, int is_to, int64_t *us, int64_t dflt)
{
	const char *v = cli_get(c, name);

	*us = dflt;
	if (!v)
		return ML_OK;
	if (ml_time_parse(v, us) != 0)
		return cli_failf(c, ML_EINPUT, "--%s: expected YYYY-MM-DD or "
				 "YYYY-MM-DDTHH:MM:SSZ", name);
	if (is_to && strlen(v) == 10)
		*us += 86400LL * 1000000;
	return ML_OK;
}

int
cmd_population(int argc, char **argv)
{
	struct cli c = {.cmd = "population"};
	struct ml_ledger *l;
	struct ml_audit *a;
	struct ml_buf out = {0};
	struct ml_err e;
	const char *fmt, *kv[64];
	char kinds[600] = "";
	uint32_t mask = 0;
	int64_t from_us, to_us;
	size_t nk, i, count;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse_format(&c, argc, argv, "kind= from= to= out= force "
				   "allow-unverified jobs=", &fmt)))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(population_usage, stdout);
		return ML_OK;
	}
	if (c.nargs)
		return cli_failf(&c, ML_EINPUT, "unexpected argument \"%.40s\" (see --help)",
				 c.args[0]);
	if (fmt && strcmp(fmt, "csv") && strcmp(fmt, "json"))
		return cli_failf(&c, ML_EINPUT, "--format: must be one of csv, json");
	if ((rc = cli_values(&c, "kind", kv, 64, &nk, &e)))
		return cli_fail(&c, &e);
	if (!nk) {
		kv[0] = "deployment,approval,gate";
		nk = 1;
	}
	for (i = 0; i < nk; i++) {
		size_t n = strlen(kinds);
		if ((rc = ml_audit_kinds_parse(kv[i], &mask, &e)))
			return cli_fail(&c, &e);
		snprintf(kinds + n, sizeof kinds - n, "%s%s", i ? "," : "", kv[i]);
	}
	if ((rc = opt_period(&c, "from", 0, &from_us, INT64_MIN)) ||
	    (rc = opt_period(&c, "to", 1, &to_us, INT64_MAX)))
		return rc;
	if (from_us >= to_us)
		return cli_failf(&c, ML_EINPUT, "--from must be before --to");
	if ((rc = check_out(&c, &e)))
		return cli_fail(&c, &e);
	if ((rc = open_view(&c, &l, &a)))
		return rc;
	rc = ml_audit_population(a, mask, from_us, to_us, kinds,
				 cli_get(&c, "from") ? cli_get(&c, "from") : "",
				 cli_get(&c, "to") ? cli_get(&c, "to") : "",
				 !fmt || !strcmp(fmt, "csv"), &out, &count, &e);
	if (rc == ML_OK)
		rc = emit(&c, &out, &e);
	if (rc == ML_OK && cli_get(&c, "out"))
		fprintf(stderr, "population: %zu items written to %s\n", count, cli_get(&c, "out"));
	ml_buf_free(&out);
	ml_audit_free(a);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cmd_sample(int argc, char **argv)
{
	struct cli c = {.cmd = "sample"};
	struct ml_buf out = {0};
	struct ml_err e;
	const char *pop, *nv, *seed;
	size_t drawn = 0, count = 0;
	unsigned long long n;
	char *end;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "population= n= seed= out= force")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(sample_usage, stdout);
		return ML_OK;
	}
	if (cli_get(&c, "format"))
		return cli_failf(&c, ML_EINPUT, "--format: the sample has the population "
				 "file's format");
	pop = cli_get(&c, "population");
	nv = cli_get(&c, "n");
	seed = cli_get(&c, "seed");
	if (!pop || !nv || !seed || c.nargs)
		return cli_failf(&c, ML_EINPUT, "expected --population FILE --n N --seed S "
				 "(see --help)");
	n = strtoull(nv, &end, 10);
	if (*end || *nv < '1' || *nv > '9' || n > ML_AUDIT_ROWS_MAX)
		return cli_failf(&c, ML_EINPUT, "--n: 1 to %d", ML_AUDIT_ROWS_MAX);
	if ((rc = check_out(&c, &e)))
		return cli_fail(&c, &e);
	rc = ml_audit_sample(pop, seed, (size_t)n, &out, &drawn, &count, &e);
	if (rc == ML_OK)
		rc = emit(&c, &out, &e);
	ml_buf_free(&out);
	if (rc)
		return cli_fail(&c, &e);
	if (n > count)
		fprintf(stderr, "sample: --n %llu exceeds the population of %zu: every item "
			"drawn\n", n, count);
	else
		fprintf(stderr, "sample: %zu of %zu items drawn\n", drawn, count);
	return ML_OK;
}

static const char *
jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* A node's text member cleaned for a terminal (report.h: bidi and other
 * invisible controls shown as codes); "" when absent.  Caller frees. */
static char *
clean(const json_t *o, const char *k)
{
	const char *s = jstr(o, k);
	char *c = ml_report_clean(s, strlen(s));

	return c ? c : strdup("?");
}

static void
trace_line(struct ml_buf *b, const json_t *n, const char *indent)
{
	char *subj = clean(n, "subject"), *env = clean(n, "environment");
	char *dec = clean(n, "decision"), *who = clean(n, "personId");
	char *name = clean(n, "personName"), *pol = clean(n, "policies");

	ml_buf_printf(b, "%s%-11s seq %-6lld %-14s %s%s%s%s%s\n", indent, jstr(n, "relation"),
		      (long long)json_integer_value(json_object_get(n, "seq")), jstr(n, "kind"),
		      subj ? subj : "?", env && *env ? " env=" : "", env ? env : "",
		      dec && *dec ? " " : "", dec ? dec : "");
	ml_buf_printf(b, "%s            leaf %s  appended %s  author %s\n", indent,
		      jstr(n, "leafHash"), jstr(n, "appendTime"), jstr(n, "authorTime"));
	ml_buf_printf(b, "%s            signer %s  person %s%s%s%s\n", indent, jstr(n, "signer"),
		      who ? who : "?", name && *name ? " (" : "", name ? name : "",
		      name && *name ? ")" : "");
	if (pol && *pol)
		ml_buf_printf(b, "%s            policies %s\n", indent, pol);
	free(subj);
	free(env);
	free(dec);
	free(who);
	free(name);
	free(pol);
}

static void
trace_text(struct ml_buf *b, const json_t *doc)
{
	const json_t *t = json_object_get(doc, "trace"), *ck = json_object_get(t, "checkpoint");
	const json_t *chain = json_object_get(doc, "chain"), *n;
	size_t i;

	ml_buf_printf(b, "trace of entry %lld in %s, checkpoint size %lld root %s%s\n\n",
		      (long long)json_integer_value(json_object_get(t, "seq")), jstr(t, "origin"),
		      (long long)json_integer_value(json_object_get(ck, "size")), jstr(ck, "root"),
		      json_is_true(json_object_get(t, "verified")) ? ""
		      : " (UNVERIFIED LEDGER)");
	trace_line(b, json_object_get(doc, "entry"), "");
	json_array_foreach(chain, i, n)
		trace_line(b, n, "  ");
	if (!json_array_size(chain))
		ml_buf_puts(b, "  (no related entries)\n");
	ml_buf_puts(b, "\ninclusion proofs (c2sp.org/tlog-proof@v1; check each with\n"
		    "  mlledger show SEQ --format raw > SEQ.leaf\n"
		    "  mlledger verify-proof --log-key log.pub SEQ.proof SEQ.leaf):\n");
	n = json_object_get(doc, "entry");
	ml_buf_printf(b, "\n-- seq %lld\n%s", (long long)json_integer_value(json_object_get(n, "seq")),
		      jstr(n, "proof"));
	json_array_foreach(chain, i, n)
		ml_buf_printf(b, "\n-- seq %lld\n%s",
			      (long long)json_integer_value(json_object_get(n, "seq")),
			      jstr(n, "proof"));
}

int
cmd_trace(int argc, char **argv)
{
	struct cli c = {.cmd = "trace"};
	struct ml_ledger *l;
	struct ml_audit *a;
	struct ml_buf out = {0};
	struct ml_err e;
	json_t *doc = NULL;
	unsigned long long seq;
	char *end;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "out= force allow-unverified jobs=")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(trace_usage, stdout);
		return ML_OK;
	}
	if (c.nargs != 1 || c.args[0][0] < '0' || c.args[0][0] > '9')
		return cli_failf(&c, ML_EINPUT, "expected SEQ (see --help)");
	seq = strtoull(c.args[0], &end, 10);
	if (*end || strlen(c.args[0]) > 19)
		return cli_failf(&c, ML_EINPUT, "\"%.40s\" is not an entry number", c.args[0]);
	if ((rc = check_out(&c, &e)))
		return cli_fail(&c, &e);
	if ((rc = open_view(&c, &l, &a)))
		return rc;
	rc = ml_audit_trace(a, l, seq, &doc, &e);
	if (rc == ML_OK) {
		if (c.json) {
			char *s = json_dumps(doc, JSON_INDENT(2));
			if (s) {
				ml_buf_puts(&out, s);
				ml_buf_puts(&out, "\n");
			} else {
				out.oom = 1;
			}
			free(s);
		} else {
			trace_text(&out, doc);
		}
		rc = emit(&c, &out, &e);
	}
	json_decref(doc);
	ml_buf_free(&out);
	ml_audit_free(a);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

static void
rec_csv_row(struct ml_buf *b, const char *status, const json_t *o)
{
	const char *cells[9];
	json_t *line = json_object_get(o, "line"), *seq = json_object_get(o, "seq");
	size_t i;

	ml_csv_cell(b, status, 0);
	if (line)
		ml_buf_printf(b, ",%lld", (long long)json_integer_value(line));
	else
		ml_buf_puts(b, ",");
	if (seq)
		ml_buf_printf(b, ",%lld", (long long)json_integer_value(seq));
	else
		ml_buf_puts(b, ",");
	cells[0] = jstr(o, "leafHash");
	cells[1] = jstr(o, "environment");
	cells[2] = jstr(o, "model");
	cells[3] = jstr(o, "version");
	cells[4] = jstr(o, "digest");
	cells[5] = seq ? jstr(o, "platformTime") : jstr(o, "time");
	cells[6] = seq ? jstr(o, "appendTime") : "";
	for (i = 0; i < 7; i++) {
		ml_buf_puts(b, ",");
		ml_csv_cell(b, cells[i], 0);
	}
	ml_buf_puts(b, "\r\n");
}

static void
rec_text_row(struct ml_buf *b, const json_t *o)
{
	json_t *line = json_object_get(o, "line"), *seq = json_object_get(o, "seq");
	const char *v = jstr(o, "version"), *d = jstr(o, "digest");

	ml_buf_puts(b, "  ");
	if (line)
		ml_buf_printf(b, "line %-5lld ", (long long)json_integer_value(line));
	if (seq)
		ml_buf_printf(b, "seq %-6lld ", (long long)json_integer_value(seq));
	/* platform cells go out as they came: show them quoted by JSON rules */
	{
		json_t *cells = json_pack("[s, s, s, s]", jstr(o, "environment"), jstr(o, "model"),
					  v, d);
		char *s = cells ? json_dumps(cells, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
		ml_buf_printf(b, "%s", s ? s : "?");
		free(s);
		json_decref(cells);
	}
	if (seq && line)
		ml_buf_printf(b, " platform %s ledger %s\n", jstr(o, "platformTime"),
			      jstr(o, "appendTime"));
	else
		ml_buf_printf(b, " %s\n", seq ? jstr(o, "appendTime") : jstr(o, "time"));
}

int
cmd_reconcile(int argc, char **argv)
{
	struct cli c = {.cmd = "reconcile"};
	struct ml_ledger *l;
	struct ml_audit *a;
	struct ml_audit_dep *rows = NULL;
	struct ml_buf out = {0};
	struct ml_err e;
	const char *fmt, *path, *tol;
	char *text = NULL;
	size_t len, n = 0, diff = 0, i;
	int64_t tol_us = 3600LL * 1000000, from_us, to_us;
	json_t *doc = NULL, *o;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse_format(&c, argc, argv, "deployments= tolerance= from= to= out= force "
				   "allow-unverified jobs=", &fmt)))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(reconcile_usage, stdout);
		return ML_OK;
	}
	if (fmt && strcmp(fmt, "text") && strcmp(fmt, "json") && strcmp(fmt, "csv"))
		return cli_failf(&c, ML_EINPUT, "--format: must be one of text, json, csv");
	path = cli_get(&c, "deployments");
	if (!path || c.nargs)
		return cli_failf(&c, ML_EINPUT, "expected --deployments FILE.csv (see --help)");
	if ((tol = cli_get(&c, "tolerance")) && ml_audit_duration_parse(tol, &tol_us) != 0)
		return cli_failf(&c, ML_EINPUT, "--tolerance: a duration such as 90s, 30m, 1h "
				 "or 2d (at most 366d)");
	if ((rc = opt_period(&c, "from", 0, &from_us, -1)) ||
	    (rc = opt_period(&c, "to", 1, &to_us, -1)))
		return rc;
	if ((rc = check_out(&c, &e)))
		return cli_fail(&c, &e);
	if ((rc = ml_read_file(path, ML_AUDIT_FILE_MAX, &text, &len, &e)))
		return cli_fail(&c, &e);
	rc = memchr(text, '\0', len) ? ml_err_set(&e, ML_EINPUT, "%s: holds a NUL byte", path)
				     : ml_audit_deps_parse(path, text, len, &rows, &n, &e);
	free(text);
	if (rc)
		return cli_fail(&c, &e);
	if ((rc = open_view(&c, &l, &a))) {
		ml_audit_deps_free(rows, n);
		return rc;
	}
	rc = ml_audit_reconcile(a, rows, n, tol_us, from_us, to_us, &doc, &diff, &e);
	if (rc == ML_OK && fmt && !strcmp(fmt, "json")) {
		char *s = json_dumps(doc, JSON_INDENT(2));
		ml_buf_puts(&out, s ? s : "");
		ml_buf_puts(&out, "\n");
		out.oom |= !s;
		free(s);
	} else if (rc == ML_OK && fmt && !strcmp(fmt, "csv")) {
		ml_buf_puts(&out, "status,line,seq,leaf_hash,environment,model,version,digest,"
			    "platform_time,ledger_time\r\n");
		json_array_foreach(json_object_get(doc, "matched"), i, o)
			rec_csv_row(&out, "matched", o);
		json_array_foreach(json_object_get(doc, "platformOnly"), i, o)
			rec_csv_row(&out, "platform-only", o);
		json_array_foreach(json_object_get(doc, "ledgerOnly"), i, o)
			rec_csv_row(&out, "ledger-only", o);
	} else if (rc == ML_OK) {
		const json_t *sc = json_object_get(doc, "scope");
		ml_buf_printf(&out, "reconcile %s against %s (checkpoint size %lld), deployments "
			      "appended %s to %s, tolerance %llds\n", path, jstr(sc, "origin"),
			      (long long)json_integer_value(json_object_get(
				      json_object_get(sc, "checkpoint"), "size")),
			      jstr(sc, "from"), jstr(sc, "to"), (long long)(tol_us / 1000000));
		ml_buf_printf(&out, "\nplatform has, ledger lacks (%zu):\n",
			      json_array_size(json_object_get(doc, "platformOnly")));
		json_array_foreach(json_object_get(doc, "platformOnly"), i, o)
			rec_text_row(&out, o);
		ml_buf_printf(&out, "\nledger has, platform lacks (%zu):\n",
			      json_array_size(json_object_get(doc, "ledgerOnly")));
		json_array_foreach(json_object_get(doc, "ledgerOnly"), i, o)
			rec_text_row(&out, o);
		ml_buf_printf(&out, "\nmatched (%zu):\n",
			      json_array_size(json_object_get(doc, "matched")));
		json_array_foreach(json_object_get(doc, "matched"), i, o)
			rec_text_row(&out, o);
		ml_buf_printf(&out, "\n%s\n", diff ? "DIFFERENCES" : "both sides agree");
	}
	if (rc == ML_OK)
		rc = emit(&c, &out, &e);
	json_decref(doc);
	ml_buf_free(&out);
	ml_audit_deps_free(rows, n);
	ml_audit_free(a);
	ml_ledger_close(l);
	if (rc)
		return cli_fail(&c, &e);
	if (diff)
		fprintf(stderr, "reconcile: %zu difference%s\n", diff, diff == 1 ? "" : "s");
	return diff ? ML_EDENY : ML_OK;
}

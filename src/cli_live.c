/* cli_live — `mlledger live`: which versions were live in an environment
 * at a time, with the deciding entries and their inclusion proofs
 * (live.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "live.h"

static const char live_usage[] =
	"usage: mlledger live --env ENV [--at TIME] [--format text|json]\n"
	"       [--server URL --log-key LOG.pub|--trust POLICY [--state FILE] [--mirror FILE]]\n"
	"\n"
	"Which model versions were live in environment ENV at TIME (default: the\n"
	"ledger's head, every entry of the latest signed checkpoint).  TIME is\n"
	"YYYY-MM-DD (its first second, UTC) or YYYY-MM-DDTHH:MM:SSZ.\n"
	"\n"
	"A version is live in ENV when it has a deployment there with no retirement\n"
	"there after it (ledger/FORMAT.md section 5 rule 11, the rule 'record\n"
	"retirement' enforces), so several versions may be live at once (a canary\n"
	"beside the version it replaces: both are listed until one is retired).\n"
	"Entries count in seq order up to TIME by their append time as the ledger\n"
	"clock wrote it (clock corrections applied, as --as-of reads it), never by\n"
	"the time their author signed: a backdated deployment is live from when it\n"
	"was appended, and is marked \"backdated\".\n"
	"\n"
	"For each live version: its deployment (seq, times, signer, the version it\n"
	"replaced); for each version that had been live and was retired by TIME\n"
	"(the latest 20): its deployment and retirement.  Each of these entries is\n"
	"verified (leaf hash, signer, signature) and comes with its RFC 6962\n"
	"inclusion proof in the latest signed checkpoint, the c2sp.org/tlog-proof@v1\n"
	"bundle 'mlledger prove SEQ' prints ('verify-proof' checks it offline\n"
	"against 'show SEQ --format raw').  Nothing live is an answer: exit 0.\n"
	"\n"
	"Exit codes: 0 answered (also when nothing is live); 2 bad option, TIME or\n"
	"an environment the ledger's governance does not declare and no entry names\n"
	"(\"did you mean\"; one dropped from the governance keeps its history);\n"
	"4 the checkpoint, the stored tree or an entry read does not verify;\n"
	"5 storage error.  JSON shape: README.md, \"live\".\n";

static int
opt_at(struct cli *c, struct ml_live_opts *o)
{
	const char *v = cli_get(c, "at");

	if (!v)
		return ML_OK;
	if (ml_time_parse(v, &o->at_us) != 0)
		return cli_failf(c, ML_EINPUT, "--at: expected YYYY-MM-DD or "
				 "YYYY-MM-DDTHH:MM:SSZ, not \"%.40s\"", v);
	o->at = 1;
	return ML_OK;
}

static const char *
s(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

static long long
n(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* One entry: its facts on one line, then its proof bundle indented. */
static void
entry_text(struct ml_buf *b, const char *what, const json_t *x)
{
	const json_t *who = json_object_get(x, "signer");
	const char *line, *p = s(x, "proof");

	ml_buf_printf(b, "  %s seq %lld, appended %s, author time %s%s, signed by %s", what,
		      n(x, "seq"), s(x, "appended"), s(x, "time"),
		      json_is_true(json_object_get(x, "backdated")) ? " (BACKDATED)" : "",
		      s(who, "person"));
	if (*s(who, "personName"))
		ml_buf_printf(b, " (%s)", s(who, "personName"));
	ml_buf_printf(b, " key %s", s(who, "keyid"));
	if (json_is_string(json_object_get(x, "replaces")))
		ml_buf_printf(b, "; replaced %s (deployed at seq %lld)", s(x, "replaces"),
			      n(x, "replacesSeq"));
	ml_buf_printf(b, "\n    inclusion proof (mlledger prove %lld):\n", n(x, "seq"));
	for (line = p; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		ml_buf_printf(b, "%s%.*s\n", len ? "      " : "", (int)len, line);
		line += len + (nl != NULL);
	}
}

static void
answer_text(struct ml_buf *b, const json_t *a)
{
	const json_t *lv = json_object_get(a, "live"), *en = json_object_get(a, "ended"), *v;
	size_t i;

	ml_buf_printf(b, "environment %s at %s (checkpoint size %lld)\n", s(a, "environment"),
		      json_is_string(json_object_get(a, "at")) ? s(a, "at") : "the ledger's head",
		      n(json_object_get(a, "checkpoint"), "size"));
	if (!json_array_size(lv))
		ml_buf_printf(b, "live: nothing\n");
	json_array_foreach(lv, i, v) {
		ml_buf_printf(b, "live: %s\n", s(v, "ref"));
		entry_text(b, "deployed", json_object_get(v, "deployment"));
	}
	json_array_foreach(en, i, v) {
		ml_buf_printf(b, "ended: %s\n", s(v, "ref"));
		entry_text(b, "deployed", json_object_get(v, "deployment"));
		entry_text(b, "retired", json_object_get(v, "retirement"));
	}
	if ((size_t)n(a, "endedTotal") > json_array_size(en))
		ml_buf_printf(b, "(%lld more ended versions not listed)\n",
			      n(a, "endedTotal") - (long long)json_array_size(en));
}

int
cmd_live(int argc, char **argv)
{
	struct cli c = {.cmd = "live"};
	struct ml_live_opts o = {0};
	struct ml_ledger *l;
	struct ml_buf out = {0};
	struct ml_err e;
	json_t *a = NULL;
	char *js;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "env= at= server= log-key= trust= state= mirror=")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(live_usage, stdout);
		return ML_OK;
	}
	if (c.nargs != 0)
		return cli_failf(&c, ML_EINPUT, "unexpected argument \"%.40s\" (see --help)",
				 c.args[0]);
	o.env = cli_get(&c, "env");
	if (!o.env || !*o.env || strlen(o.env) > 128)
		return cli_failf(&c, ML_EINPUT, "--env: an environment name of 1 to 128 bytes");
	if ((rc = opt_at(&c, &o)))
		return rc;
	if (cli_server(&c) && (rc = cli_use_mirror(&c, NULL, &e)))
		return cli_fail(&c, &e);
	if ((rc = cli_open(&c, 0, &l, &e)))
		return cli_fail(&c, &e);
	rc = ml_live_query(l, &o, &a, &e);
	ml_ledger_close(l);
	if (rc)
		return cli_fail(&c, &e);
	if (c.json) {
		js = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (js)
			ml_buf_printf(&out, "%s\n", js);
		else
			out.oom = 1;
		free(js);
	} else {
		answer_text(&out, a);
	}
	json_decref(a);
	if (out.oom) {
		ml_buf_free(&out);
		return cli_failf(&c, ML_EIO, "out of memory");
	}
	fwrite(out.data, 1, out.len, stdout);
	ml_buf_free(&out);
	return ML_OK;
}

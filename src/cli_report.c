/* cli_report — report and verify-report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "jsonarena.h"
#include "cli.h"
#include "evidence.h"
#include "gate.h"
#include "note.h"
#include "note_trust.h"
#include "report.h"
#include "report_html.h"
#include "report_sig.h"
#include "report_signoff.h"
#include "report_text.h"
#include "spool.h"
#include "store.h"

#define CSS_MAX (1024 * 1024)
#define MAX_POLICIES 64
#define MAX_PARAMS 64
#define MAX_HELD 32

static const char report_usage[] =
	"usage: mlledger report --from YYYY-MM-DD --to YYYY-MM-DD --format html|md|json|csv\n"
	"                       --out PATH [--policy ID|FILE]... [--param NAME=VALUE]...\n"
	"                       [--phase ID] [--table NAME] [--sign KEY [--record]] [--as-of DATE]\n"
	"                       [--generated-at TIME] [--max-gap-days N] [--css FILE]\n"
	"                       [--detail summary|all] [--spool auto|always|never]\n"
	"                       [--allow-unverified] [--jobs N] [--force] [--time-tolerance H]\n"
	"                       [--checkpoint FILE]... [--trust POLICY]\n"
	"                       [--max-witness-age DURATION]\n"
	"\n"
	"Writes an audit report of the period (both days included, UTC): scope,\n"
	"integrity (a full verify), inventory and production history, the evidence\n"
	"chain of every deployment, version comparisons, monitoring cadence, the\n"
	"findings of the policies for every deployed version, keys and people.\n"
	"Times are the authors' signed times; entries appended after --as-of\n"
	"(default: now) are left out.  Same ledger, options, --as-of and\n"
	"--generated-at (default: now) give the same bytes.\n"
	"--policy ID is the latest policy of that id recorded by --as-of; an ID the\n"
	"ledger does not hold is the installed ID.xml (MLLEDGER_POLICY_PATH, then the\n"
	"folder compiled in; mlledger policy --help); a '/' or .xml names a file.\n"
	"\n"
	"--format csv      one NAME.csv per table in the folder --out, or the one\n"
	"                  table --table NAME in the file --out\n"
	"--sign KEY        also writes PATH.sig.json (a CSV folder: PATH/MANIFEST.sig.json\n"
	"                  listing every table), a DSSE signature over the files'\n"
	"                  SHA-256 and the report's scope (ledger, checkpoint, period,\n"
	"                  policies); check it with verify-report.  The report's last\n"
	"                  section, the sign-off, names the signer (the person the\n"
	"                  key's enrolment names, or the key id of a key not enrolled\n"
	"                  in this ledger), what the signature covers and the command\n"
	"                  that verifies it; unsigned, it says so\n"
	"--record          with --sign: also appends a report entry signed by KEY\n"
	"                  (role auditor by default): the report's SHA-256 (a CSV\n"
	"                  folder: its manifest's), format, period, as-of and\n"
	"                  policies.  Checked before any file is written (a key that\n"
	"                  may not sign report, revoked or not enrolled: exit 6 and\n"
	"                  nothing written); the files are written, then the entry\n"
	"                  appended; if that append fails the files stay and the\n"
	"                  command fails (run it again with --force).  The same\n"
	"                  report by the same key again: the entry it repeats.  With\n"
	"                  --server URL --log-key LOG.pub [--state F] [--mirror F]\n"
	"                  (or MLLEDGER_SERVER) the report is of the server's mirror\n"
	"                  and the entry is posted to the server\n"
	"--detail summary|all  how html and md list findings: summary (the default)\n"
	"                  gives failed, warned, waived and indeterminate findings a row\n"
	"                  each and passing findings one row per rule (\"passed for N\n"
	"                  version/environment pairs\"); all, a row per finding.  json\n"
	"                  and csv always hold every finding\n"
	"--max-gap-days N  monitoring gaps longer than N days are flagged (default: the\n"
	"                  max-age-days param of a --policy, as monitoring.xml has, else 7)\n"
	"--time-tolerance H  list author times more than H hours (default 24) before\n"
	"                  their append time (more than 5 minutes after: always), and\n"
	"                  backfills, in the integrity section (tables time-warnings,\n"
	"                  backfills); a period starting before the ledger's first\n"
	"                  entry is flagged at the top\n"
	"--checkpoint FILE  a checkpoint held outside (from 'checkpoint', a witness or\n"
	"                  an auditor), checked as verify does: signed by the log key\n"
	"                  and extended by the ledger, else exit 4 and no report.  The\n"
	"                  integrity section names each one, its witnesses and the\n"
	"                  entries after the newest (not witnessed); the signature's\n"
	"                  scope lists them.  Without one the report says nothing\n"
	"                  outside the ledger was checked\n"
	"--trust POLICY    C2SP tlog-policy: each --checkpoint must also be cosigned by\n"
	"                  its quorum of witnesses (none dated in the future)\n"
	"--max-witness-age DURATION  with --trust: cosignatures older than DURATION\n"
	"                  (30d, 12h, 90m, 45s) do not count\n"
	"--allow-unverified  report on a ledger that fails verify (or a --checkpoint),\n"
	"                  saying so first\n"
	"--force           replace existing report files (never the ledger, its -wal,\n"
	"                  -shm, -journal or log key, a secret key, or a folder that\n"
	"                  holds secret keys: those are refused, exit 2)\n"
	"\n"
	"--spool auto|always|never  where the report's long tables wait while it is\n"
	"                  written: always in a spool, an unlinked temporary file in\n"
	"                  $TMPDIR (memory stays under 1 GiB on a 1M-entry ledger,\n"
	"                  slower); never: in memory (about 7 KB per entry, faster);\n"
	"                  auto (the default): a spool for ledgers of more than\n"
	"                  120,000 entries.  The output is the same bytes\n"
	"\n"
	"Each file is written under a temporary name in its folder and renamed; an\n"
	"existing file is refused (exit 2) without --force, before anything is built.\n"
	"\n"
	"Exit 0; 2 bad input or a refused --out; 3 invalid policy; 4 the ledger fails\n"
	"verification; 5 I/O; 6 key error.  See reports/README.md.\n";

static int
opt_day(struct cli *c, const char *name, int64_t *us)
{
	const char *v = cli_get(c, name);

	if (!v || strlen(v) != 10 || ml_time_parse(v, us) != 0)
		return cli_failf(c, ML_EINPUT, "--%s YYYY-MM-DD is required", name);
	return ML_OK;
}

static int
opt_time(struct cli *c, const char *name, int64_t *us)
{
	const char *v = cli_get(c, name);

	*us = ml_now_us(); /* not truncated: this second's appends count */
	if (v && ml_time_parse(v, us) != 0)
		return cli_failf(c, ML_EINPUT, "--%s: expected YYYY-MM-DD or "
				 "YYYY-MM-DDTHH:MM:SSZ", name);
	return ML_OK;
}

/* Fills the build options from the command line. */
static int
report_opts(struct cli *c, struct ml_report_opts *o, const char **pol, const char **par,
	    struct ml_timecheck_opts *to)
{
	struct ml_err e;
	long gap, jobs;
	int rc;

	ml_err_clear(&e);
	memset(o, 0, sizeof *o);
	if ((rc = opt_day(c, "from", &o->from_us)) || (rc = opt_day(c, "to", &o->to_us)) ||
	    (rc = opt_time(c, "as-of", &o->as_of_us)) ||
	    (rc = opt_time(c, "generated-at", &o->generated_us)) ||
	    (rc = cli_opt_long(c, "max-gap-days", 1, 3650, 0, &gap)) ||
	    (rc = cli_opt_long(c, "jobs", 1, 64, 0, &jobs)))
		return rc;
	o->to_us += (int64_t)86400 * 1000000;
	o->from = cli_get(c, "from");
	o->to = cli_get(c, "to");
	o->max_gap_days = gap;
	o->jobs = (int)jobs;
	if (cli_values(c, "policy", pol, MAX_POLICIES, &o->npolicies, &e) ||
	    cli_values(c, "param", par, MAX_PARAMS, &o->nparams, &e))
		return cli_fail(c, &e);
	o->policies = pol;
	o->params = par;
	o->phase = cli_get(c, "phase");
	o->allow_unverified = cli_has(c, "allow-unverified");
	o->tool_version = ML_VERSION;
	o->progress = cli_progress;
	if (cli_time_opts(c, to))
		return ML_EINPUT;
	o->time = to;
	if (o->from_us >= o->to_us)
		return cli_failf(c, ML_EINPUT, "--from must not come after --to");
	return ML_OK;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int
read_css(const struct cli *c, char **css, size_t *len, struct ml_err *e)
{
	const char *path = cli_get(c, "css");

	*css = NULL;
	*len = 0;
	return path ? ml_read_file(path, CSS_MAX, css, len, e) : ML_OK;
}

/* PATH and, when signing, PATH.sig.json: may they be written? */
static int
check_file(const struct ml_out_rules *r, const char *path, int sign, struct ml_err *e)
{
	char sp[4200];
	int rc;

	if ((rc = ml_out_check(r, "--out", path, 0, e)) || !sign)
		return rc;
	if (snprintf(sp, sizeof sp, "%s.sig.json", path) >= (int)sizeof sp)
		return ml_err_set(e, ML_EINPUT, "--out %.200s...: path too long", path);
	return ml_out_check(r, "--out", sp, 0, e);
}

/* Every path the report would write, checked before anything is built: the
 * file --out, or the folder --out and each NAME.csv in it (output.h). */
static int
check_outputs(const struct cli *c, const char *fmt, struct ml_err *e)
{
	const struct ml_report_table *t;
	const char *out = cli_get(c, "out");
	struct ml_out_rules r;
	int rc, sign = cli_get(c, "sign") != NULL;
	size_t i, n;

	if ((rc = cli_out_rules(c, &r, e)))
		return rc;
	if (strcmp(fmt, "csv") || cli_get(c, "table"))
		return check_file(&r, out, sign, e);
	if ((rc = ml_out_check(&r, "--out", out, 1, e)))
		return rc;
	t = ml_report_tables(&n);
	for (i = 0; i <= n && rc == ML_OK; i++) {
		char path[4200];
		if (i == n && !sign)
			break;
		if (snprintf(path, sizeof path, "%s/%s%s", out, i < n ? t[i].name : "",
			     i < n ? ".csv" : ML_REPORT_MANIFEST) >= (int)sizeof path)
			return ml_err_set(e, ML_EINPUT, "--out %.200s...: path too long", out);
		rc = check_file(&r, path, 0, e);
	}
	return rc;
}

/* --detail summary|all (checked by check_format). */
static enum ml_report_detail
detail_of(const struct cli *c)
{
	const char *d = cli_get(c, "detail");

	return d && !strcmp(d, "all") ? ML_REPORT_DETAIL_ALL : ML_REPORT_DETAIL_SUMMARY;
}

/* json, md or csv (one table) into b; html is streamed (write_html). */
static int
render(const struct cli *c, const char *fmt, const json_t *model, struct ml_buf *b,
       struct ml_err *e)
{
	if (!strcmp(fmt, "json"))
		return ml_report_json(model, b, e);
	if (!strcmp(fmt, "md"))
		return ml_report_markdown(model, detail_of(c), b, e);
	return ml_report_csv(model, ml_report_table(cli_get(c, "table")), b, e);
}

static int
check_format(struct cli *c, const char *fmt)
{
	const char *table = cli_get(c, "table"), *detail = cli_get(c, "detail");
	const char *spool = cli_get(c, "spool");

	if (!fmt || (strcmp(fmt, "html") && strcmp(fmt, "md") && strcmp(fmt, "json") &&
		     strcmp(fmt, "csv")))
		return cli_failf(c, ML_EINPUT, "--format html, md, json or csv is required");
	if (!cli_get(c, "out"))
		return cli_failf(c, ML_EINPUT, "--out PATH is required");
	if (table && strcmp(fmt, "csv"))
		return cli_failf(c, ML_EINPUT, "--table applies to --format csv");
	if (detail && strcmp(detail, "summary") && strcmp(detail, "all"))
		return cli_failf(c, ML_EINPUT, "--detail: \"%.40s\" is not summary or all",
				 detail);
	if (table && !ml_report_table(table))
		return cli_failf(c, ML_EINPUT, "--table: unknown table \"%.40s\" (see "
				 "reports/README.md)", table);
	if (spool && strcmp(spool, "auto") && strcmp(spool, "always") && strcmp(spool, "never"))
		return cli_failf(c, ML_EINPUT, "--spool: \"%.40s\" is not auto, always or never",
				 spool);
	return ML_OK;
}

/* --record needs --sign (the entry is signed by the report's signer) and an
 * --out whose last part can be the entry's subject. */
static int
check_record(struct cli *c)
{
	const char *name;

	if (!cli_has(c, "record"))
		return ML_OK;
	if (!cli_get(c, "sign"))
		return cli_failf(c, ML_EINPUT, "--record needs --sign KEY: the report entry is "
				 "signed by the report's signer");
	name = base_name(cli_get(c, "out"));
	if (!ml_report_name_ok(name))
		return cli_failf(c, ML_EINPUT, "--out %.200s: with --record its last part is the "
				 "report entry's subject, 1-128 of [A-Za-z0-9._-]", cli_get(c, "out"));
	return ML_OK;
}

/* --sign KEY: cli_load_key reads --key, so hand it a copy that has one. */
static int
load_signer(const struct cli *c, struct ml_seckey **k, struct ml_err *e)
{
	struct cli kc = *c;

	*k = NULL;
	if (!cli_get(c, "sign"))
		return ML_OK;
	if (kc.nopts == CLI_MAX_OPTS)
		return ml_err_set(e, ML_EINPUT, "too many options");
	kc.opts[kc.nopts].name = "key";
	kc.opts[kc.nopts++].value = cli_get(c, "sign");
	return cli_load_key(&kc, k, e);
}

/* --trust POLICY and --max-witness-age, read before anything is built
 * (*pol NULL without --trust; caller ml_trust_free).  Prints its errors. */
static int
read_trust(struct cli *c, struct ml_trust **pol, struct ml_trust_clock *clk)
{
	const char *trust = cli_get(c, "trust"), *age = cli_get(c, "max-witness-age");
	struct ml_err e;

	ml_err_clear(&e);
	*pol = NULL;
	clk->now = ml_now_us() / 1000000;
	clk->tolerance = ML_CLOCK_TOLERANCE_US / 1000000;
	clk->max_age = 0;
	if (age && (!trust || cli_duration(age, &clk->max_age) != 0))
		return cli_failf(c, ML_EINPUT, "--max-witness-age: expected a duration such as "
				 "30d, 12h, 90m or 45s, with --trust POLICY");
	if (!trust)
		return ML_OK;
	if (!cli_get(c, "checkpoint"))
		return cli_failf(c, ML_EINPUT, "--trust applies to checkpoints held outside: give "
				 "--checkpoint FILE");
	return cli_trust_load(trust, pol, &e) ? cli_fail(c, &e) : ML_OK;
}

/* Checks every --checkpoint against the ledger exactly as verify does
 * (ml_tlog_check_held), printing the evidence of a mismatch and what each
 * one showed; the first failure stops (its error in e, naming its path). */
static int
check_held(const struct cli *c, struct ml_ledger *l, const struct ml_trust *pol,
	   const struct ml_trust_clock *clk, struct ml_report_held *held, size_t *n,
	   struct ml_err *e)
{
	int i, rc = ML_OK;

	*n = 0;
	for (i = 0; i < c->nopts && rc == ML_OK; i++) {
		struct ml_buf report = {0};
		struct ml_report_held *h = &held[*n];
		const char *path = c->opts[i].value;
		char *note = NULL;
		size_t len;

		if (strcmp(c->opts[i].name, "checkpoint"))
			continue;
		if (*n == MAX_HELD)
			return ml_err_set(e, ML_EINPUT, "--checkpoint: at most %d", MAX_HELD);
		if ((rc = ml_read_file(path, ML_NOTE_MAX, &note, &len, e)) == ML_OK)
			rc = ml_tlog_check_held(l, note, len, pol, clk, &h->th, &report, e);
		if (report.len)
			fwrite(report.data, 1, report.len, stdout);
		ml_buf_free(&report);
		free(note);
		if (rc) {
			ml_err_prefix(e, rc, path);
			break;
		}
		h->path = path;
		printf("ok: %s (size %llu) is a prefix of the ledger", path,
		       (unsigned long long)h->th.cp.size);
		if (h->th.checked)
			printf("%s%s\n", h->th.witnesses[0] ? ", witnessed by " :
			       ", no witness (the trust policy's quorum is none)",
			       h->th.witnesses);
		else
			printf(" (witnesses not checked: no --trust)\n");
		(*n)++;
	}
	return rc;
}

/* The report's files, rendered and signed in memory before any is written
 * (so that a refused --record leaves nothing behind). */
struct rendered {
	int folder;                 /* a CSV folder: one file per table */
	size_t n;
	char names[ML_REPORT_FILES_MAX][80];
	struct ml_buf bufs[ML_REPORT_FILES_MAX];
	struct ml_report_file files[ML_REPORT_FILES_MAX];
	struct ml_buf sig;          /* the signature file; empty when unsigned */
	struct ml_afile af;         /* html: the file being written, not yet in place */
	int af_open;
};

static void
rendered_free(struct rendered *rd)
{
	size_t i;

	for (i = 0; i < rd->n; i++)
		ml_buf_free(&rd->bufs[i]);
	ml_buf_free(&rd->sig);
	if (rd->af_open)
		ml_afile_abort(&rd->af);
	rd->af_open = 0;
}

static int
afile_put(void *ctx, const void *bytes, size_t len)
{
	return ml_afile_write(ctx, bytes, len);
}

/* The HTML report, rendered straight into out's temporary file (util.h,
 * ml_afile: never held whole), mapped as rd->files[0] for signing and
 * --record; write_single puts it in place, rendered_free removes it. */
static int
render_html(const struct cli *c, const char *out, const json_t *model, struct rendered *rd,
	    struct ml_err *e)
{
	char *css = NULL;
	size_t csslen;
	int rc;

	if ((rc = read_css(c, &css, &csslen, e)))
		return rc;
	if ((rc = ml_afile_open(&rd->af, out, 0644, !cli_has(c, "force"), e))) {
		free(css);
		return rc;
	}
	rd->af_open = 1;
	rc = ml_report_html_to(model, css, csslen, detail_of(c), afile_put, &rd->af, e);
	free(css);
	if (rc == ML_EIO && rd->af.err)
		rc = ml_err_set(e, ML_EIO, "%s: write failed: %s", out, strerror(rd->af.err));
	if (rc == ML_OK)
		rc = ml_afile_map(&rd->af, &rd->files[0].bytes, &rd->files[0].len, e);
	return rc;
}

/* Renders the model into rd (a CSV folder: every table) and, with k, signs
 * the files with the report's scope (report_sig.h). */
static int
render_all(const struct cli *c, const char *fmt, const json_t *model,
	   const struct ml_seckey *k, struct rendered *rd, struct ml_err *e)
{
	const struct ml_report_table *t;
	size_t i, n;
	int rc = ML_OK;

	rd->folder = !strcmp(fmt, "csv") && !cli_get(c, "table");
	if (!rd->folder) {
		snprintf(rd->names[0], sizeof rd->names[0], "%.79s", base_name(cli_get(c, "out")));
		rd->n = 1;
		if (strcmp(fmt, "html"))
			rc = render(c, fmt, model, &rd->bufs[0], e);
		else
			rc = render_html(c, cli_get(c, "out"), model, rd, e);
	} else {
		t = ml_report_tables(&n);
		if (n > ML_REPORT_FILES_MAX)
			return ml_err_set(e, ML_EIO, "too many tables");
		for (i = 0; i < n && rc == ML_OK; i++, rd->n++) {
			snprintf(rd->names[i], sizeof rd->names[i], "%s.csv", t[i].name);
			rc = ml_report_csv(model, &t[i], &rd->bufs[i], e);
		}
	}
	for (i = 0; i < rd->n; i++) {
		rd->files[i].name = rd->names[i];
		if (rd->af_open) /* mapped by render_html */
			continue;
		rd->files[i].bytes = (const uint8_t *)rd->bufs[i].data;
		rd->files[i].len = rd->bufs[i].len;
	}
	if (rc == ML_OK && k)
		rc = ml_report_sign(k, rd->folder ? "csv-folder" : fmt, model, rd->files, rd->n,
				    &rd->sig, e);
	return rc;
}

/* Writes a single-file report (out) and its signature (out.sig.json). */
static int
write_single(const char *out, const char *fmt, struct rendered *rd, int force,
	     struct ml_err *e)
{
	char sp[4200];
	size_t len = rd->files[0].len;
	int rc;

	if (rd->af_open) {
		rd->af_open = 0;
		rc = ml_afile_commit(&rd->af, e);
	} else {
		rc = ml_write_file_atomic(out, rd->bufs[0].data, rd->bufs[0].len, 0644, !force, e);
	}
	if (rc)
		return rc;
	if (rd->sig.len) {
		snprintf(sp, sizeof sp, "%s.sig.json", out);
		if ((rc = ml_write_file_atomic(sp, rd->sig.data, rd->sig.len, 0644, !force, e)))
			return rc;
		printf("signed %s\n", sp);
	}
	printf("wrote %s (%s, %zu bytes)\n", out, fmt, len);
	return ML_OK;
}

/* One file per table in folder dir (made when absent), and when signed
 * the manifest of them all, ML_REPORT_MANIFEST (no per-table signatures:
 * a table is checked as part of its folder).  When this call made the
 * folder, a failure removes it with every file written so far. */
static int
write_folder(const char *dir, const struct rendered *rd, int force, struct ml_err *e)
{
	char path[4200];
	size_t i, j;
	int rc = ML_OK, made;

	made = mkdir(dir, 0755) == 0;
	if (!made && errno != EEXIST)
		return ml_err_set(e, ML_EIO, "%s: %s", dir, strerror(errno));
	for (i = 0; i < rd->n && rc == ML_OK; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, rd->names[i]);
		if ((rc = ml_write_file_atomic(path, rd->bufs[i].data, rd->bufs[i].len, 0644,
					       !force, e)) == ML_OK)
			printf("wrote %s (%zu bytes)\n", path, rd->bufs[i].len);
	}
	if (rc == ML_OK && rd->sig.len) {
		snprintf(path, sizeof path, "%s/%s", dir, ML_REPORT_MANIFEST);
		if ((rc = ml_write_file_atomic(path, rd->sig.data, rd->sig.len, 0644, !force,
					       e)) == ML_OK)
			printf("signed %s (%zu tables)\n", path, rd->n);
	}
	if (rc && made) {
		for (j = 0; j < i; j++) {
			snprintf(path, sizeof path, "%s/%s", dir, rd->names[j]);
			unlink(path);
		}
		rmdir(dir);
	}
	return rc;
}

/* The report entry's predicate (FORMAT.md §2, "Report entries") from the
 * model's scope; NULL when out of memory. */
static json_t *
report_predicate(const json_t *model, const char *format, const char *origin)
{
	json_t *pol = json_array(), *p, *pred;
	size_t i;

	json_array_foreach(ml_report_get(model, "scope.policies"), i, p)
		json_array_append_new(pol, json_pack("{s:O, s:O, s:O}", "id",
						     json_object_get(p, "id"), "version",
						     json_object_get(p, "version"), "sha256",
						     json_object_get(p, "sha256")));
	pred = json_pack("{s:O, s:s, s:O, s:O, s:O, s:o, s:s}", "time",
			 ml_report_get(model, "scope.generatedAt"), "format", format, "from",
			 ml_report_get(model, "scope.from"), "to", ml_report_get(model, "scope.to"),
			 "asOf", ml_report_get(model, "scope.asOf"), "policies", pol, ML_ORIGIN_MEMBER,
			 origin);
	return pred;
}

/* The entry --record appends, built and signed with k: subject the
 * report's file (folder) name, digest the SHA-256 of the report file (a
 * CSV folder: of its signed manifest).  env and st: the caller frees. */
static int
report_entry(const struct cli *c, struct ml_ledger *l, const struct ml_seckey *k,
	     const char *fmt, const json_t *model, const struct rendered *rd,
	     struct ml_buf *env, struct ml_statement *st, struct ml_err *e)
{
	struct ml_buf payload = {0};
	uint8_t digest[ML_SHA256_LEN];
	json_t *pred;
	int rc;

	if (rd->folder)
		ml_sha256(rd->sig.data, rd->sig.len, digest);
	else /* the bytes as written (html: mapped from its file) */
		ml_sha256(rd->files[0].bytes, rd->files[0].len, digest);
	if (!(pred = report_predicate(model, rd->folder ? "csv-folder" : fmt,
				      ml_ledger_origin(l))))
		return ml_err_set(e, ML_EIO, "out of memory");
	rc = ml_statement_encode_parsed(ML_KIND_REPORT, base_name(cli_get(c, "out")), digest,
					pred, &payload, st, e);
	if (rc == ML_OK)
		rc = ml_envelope_sign(k, payload.data, payload.len, env, e);
	ml_buf_free(&payload);
	return rc;
}

/* Appends text to e's message (cut at its size). */
static void
err_append(struct ml_err *e, const char *text)
{
	size_t n = strlen(e->msg);

	snprintf(e->msg + n, sizeof e->msg - n, "%s", text);
}

/* The sign-off section (report_signoff.h), added before any byte is
 * rendered: the signature is over bytes that hold it. */
static int
add_signoff(const struct cli *c, const char *fmt, json_t *model, const struct ml_seckey *k,
	    struct ml_err *e)
{
	const struct ml_pubkey *pk = k ? ml_seckey_public(k) : NULL;
	char keyid[ML_KEYID_MAX];
	struct ml_report_signer s;

	if (!pk)
		return ml_report_signoff(model, NULL, e);
	ml_pubkey_keyid(pk, keyid);
	s.keyid = keyid;
	s.key_name = pk->name;
	s.file = base_name(cli_get(c, "out"));
	s.format = !strcmp(fmt, "csv") && !cli_get(c, "table") ? "csv-folder" : fmt;
	s.record = cli_has(c, "record");
	return ml_report_signoff(model, &s, e);
}

/* Opens the ledger the report reads: with --record the one appends go to
 * (writable, or with --server the mirror brought up to date), else
 * read-only. */
static int
open_ledger(struct cli *c, struct ml_ledger **l, struct ml_err *e)
{
	return cli_has(c, "record") ? cli_open_append(c, l, e) : cli_open(c, 0, l, e);
}

/* The report's --policy IDs the ledger does not hold, as the installed
 * files (cli_policy_ids), read from a session at the report's as-of time
 * as the report's own policy loading does: ro->policies then points to
 * rpol (n entries), the found paths malloc'd in owned (caller frees).
 * Without such IDs the ledger is not read here. */
static int
policy_ids(struct ml_ledger *l, struct ml_report_opts *ro, const char **rpol, char **owned,
	   struct ml_err *e)
{
	struct ml_evidence *v = NULL;
	size_t i;
	int rc, any = 0;

	for (i = 0; i < ro->npolicies; i++) {
		rpol[i] = ro->policies[i];
		any |= !ml_gate_is_policy_file(rpol[i]) && !strchr(rpol[i], '@');
	}
	if (!any)
		return ML_OK;
	if ((rc = ml_evidence_open(l, ro->as_of_us, ML_EVIDENCE_HEAD, &v, e)) == ML_OK &&
	    (rc = cli_policy_ids(v, rpol, owned, ro->npolicies, 0, e)) == ML_OK)
		ro->policies = rpol;
	ml_evidence_close(v);
	return rc;
}

/* The model's arena: big blocks, for a model of up to gigabytes. */
#define MODEL_ARENA (4u << 20)

/* --spool auto: above this many entries the model's long tables go to a
 * spool.  In memory the model costs about 7 KB per entry (679 MB for the
 * bench's 100k ledger, the fastest way); spooled, under 1 GiB at 1M
 * entries but a third slower (docs/PERFORMANCE.md). */
#define SPOOL_AUTO_ENTRIES 120000

/* *out: the spool the model's long tables are stowed in (report.h), set as
 * this thread's, as --spool and the ledger's size (l) say; NULL when none
 * is wanted, or none could be made (the report is then built in memory,
 * with a warning).  Caller closes it (ml_spool_close).  ML_OK, or the
 * error of reading the ledger's size (ML_EIO). */
static int
open_spool(const struct cli *c, struct ml_ledger *l, struct ml_spool **out, struct ml_err *e)
{
	const char *how = cli_get(c, "spool");
	struct ml_err se;
	uint64_t size = 0;
	uint8_t last[ML_SHA256_LEN];
	int64_t t;
	int rc;

	*out = NULL;
	if (how && !strcmp(how, "never"))
		return ML_OK;
	if (!how || !strcmp(how, "auto")) {
		if ((rc = ml_store_head(ml_ledger_store(l), &size, last, &t, e)))
			return rc;
		if (size <= SPOOL_AUTO_ENTRIES)
			return ML_OK; /* small enough for memory */
	}
	if (ml_spool_open(NULL, out, &se) != ML_OK) {
		fprintf(stderr, "mlledger: report: warning: %s; the report is built in memory\n",
			se.msg);
		return ML_OK;
	}
	ml_report_spool_set(*out);
	return ML_OK;
}

static int
report_run(struct cli *c, const char *fmt, const struct ml_report_opts *o,
	   const struct ml_trust *pol, const struct ml_trust_clock *clk, struct ml_err *e)
{
	struct ml_seckey *k = NULL;
	struct ml_ledger *l = NULL;
	struct ml_report_opts ro = *o;
	struct ml_report_held held[MAX_HELD];
	struct rendered *rd = calloc(1, sizeof *rd);
	struct ml_buf env = {0};
	struct ml_statement st = {0};
	struct ml_append_item item = {0};
	struct ml_appended app;
	struct ml_err he;
	const char *out = cli_get(c, "out"), *rpol[MAX_POLICIES];
	char *owned[MAX_POLICIES] = {0};
	json_t *model = NULL;
	struct ml_spool *sp = NULL;
	int64_t held_seq = -1;
	size_t i;
	int rc, record = cli_has(c, "record");

	ml_err_clear(&he);
	if (!rd)
		return ml_err_set(e, ML_EIO, "out of memory");
	/* the model dies all at once at the end: made in an arena (report.h),
	 * it is dropped in a few frees instead of one per value */
	ro.arena = ml_arena_new(MODEL_ARENA);
	rc = load_signer(c, &k, e);
	if (rc == ML_OK && (rc = open_ledger(c, &l, e)) == ML_OK &&
	    (rc = open_spool(c, l, &sp, e)) == ML_OK) {
		/* a held checkpoint that fails fails the report as verify would */
		rc = check_held(c, l, pol, clk, held, &ro.nheld, &he);
		if (rc == ML_EINTEGRITY && o->allow_unverified)
			ro.held_err = &he;
		else if (rc)
			*e = he;
		ro.held = held;
		ro.held_trust = pol != NULL;
	}
	if ((rc == ML_OK || ro.held_err) &&
	    (rc = policy_ids(l, &ro, rpol, owned, e)) == ML_OK) {
		cli_no_fastbins(); /* for its policy sweep, as check */
		rc = ml_report_build(l, &ro, &model, e);
		cli_progress_done();
	}
	if (rc == ML_OK) { /* what it adds to the model is the model's */
		ml_jsonarena_set(ro.arena, 1);
		rc = add_signoff(c, fmt, model, k, e);
		ml_jsonarena_set(ro.arena, 0);
	}
	if (rc || (rc = render_all(c, fmt, model, k, rd, e)))
		goto out;
	/* --record: the entry is built and checked as the append will check it
	 * (signer enrolled, not revoked, allowed to sign report) before any
	 * file is written */
	if (record) {
		if ((rc = report_entry(c, l, k, fmt, model, rd, &env, &st, e)))
			goto out;
		item = (struct ml_append_item){env.data, env.len, ml_seckey_public(k), &st, 0};
		if ((rc = ml_ledger_check_held(l, &item, &held_seq, e))) {
			ml_err_prefix(e, rc, "--record: the report entry did not pass the "
				      "append's checks, so no file was written");
			if (rc == ML_EKEY) /* a ledger governed before the kind existed */
				err_append(e, " (the signer needs an active key with a role "
					   "that may sign report: auditor by default; see mlledger "
					   "governance show)");
			goto out;
		}
	}
	rc = rd->folder ? write_folder(out, rd, cli_has(c, "force"), e)
			: write_single(out, fmt, rd, cli_has(c, "force"), e);
	if (rc || !record)
		goto out;
	if ((rc = cli_append(c, l, &item, &app, e))) {
		ml_err_prefix(e, rc, "--record: the report was written and signed, but its entry "
			      "was NOT appended (run the same command again with --force to retry)");
		goto out;
	}
	printf("report: %s recorded at seq %llu%s\n", base_name(out),
	       (unsigned long long)app.seq, app.existing ? " (already recorded: the same "
	       "report by the same key)" : "");
out:
	if (model && !json_is_true(ml_report_get(model, "integrity.ok")))
		fprintf(stderr, "mlledger: report: warning: the ledger FAILED verification; the "
			"report says so at the top\n");
	ml_statement_free(&st);
	ml_buf_free(&env);
	rendered_free(rd);
	free(rd);
	if (!ro.arena)
		json_decref(model);
	ml_ledger_close(l);
	ml_seckey_free(k);
	for (i = 0; i < MAX_POLICIES; i++)
		free(owned[i]);
	/* last: whatever the build left referring to the arena is gone */
	ml_jsonarena_set(NULL, 0);
	ml_arena_free(ro.arena); /* the model, and the builder's values */
	ml_report_spool_set(NULL);
	ml_spool_close(sp); /* the rows the model stowed */
	return rc;
}

int
cmd_report(int argc, char **argv)
{
	struct cli c = {.cmd = "report"};
	struct ml_report_opts o;
	struct ml_timecheck_opts to;
	struct ml_err e;
	const char *fmt, *pol[MAX_POLICIES], *par[MAX_PARAMS];
	struct ml_trust *tp = NULL;
	struct ml_trust_clock clk;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse_format(&c, argc, argv,
				   "policy= param= phase= from= to= as-of= generated-at= out= "
				   "table= sign= passphrase-file= css= detail= spool= allow-unverified "
				   "max-gap-days= jobs= force time-tolerance= checkpoint= "
				   "trust= max-witness-age= record server= log-key= state= mirror=",
				   &fmt)))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(report_usage, stdout);
		return ML_OK;
	}
	if (c.nargs)
		return cli_failf(&c, ML_EINPUT, "unexpected argument \"%.40s\" (see --help)",
				 c.args[0]);
	if ((rc = check_format(&c, fmt)) || (rc = check_record(&c)) ||
	    (rc = report_opts(&c, &o, pol, par, &to)))
		return rc;
	if ((rc = check_outputs(&c, fmt, &e)))
		return cli_fail(&c, &e);
	if ((rc = read_trust(&c, &tp, &clk)))
		return rc;
	rc = report_run(&c, fmt, &o, tp, &clk, &e);
	ml_trust_free(tp);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

/* The SHA-256 (hex) of the file path, which must be a regular file (not
 * a symlink) of at most 2 GiB: ML_EINTEGRITY when it is not one, ML_EINPUT
 * when it does not exist. */
static int
file_sha256(const char *path, char hex[65], struct ml_err *e)
{
	uint8_t d[ML_SHA256_LEN];
	struct stat st;
	char *bytes = NULL;
	size_t len;
	int rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? ml_err_set(e, ML_EINPUT, "%.200s: no such file", path)
				       : ml_err_set(e, ML_EIO, "%.200s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ml_err_set(e, ML_EINTEGRITY, "%.200s is not a regular file (a symlink or "
				  "a folder is never part of a signed report)", path);
	if ((rc = ml_read_file(path, (size_t)1 << 31, &bytes, &len, e)))
		return rc;
	ml_sha256(bytes, len, d);
	ml_hex_encode(d, sizeof d, hex);
	free(bytes);
	return ML_OK;
}

/* A signed CSV folder: every listed table present with its signed bytes,
 * and nothing else in the folder but the manifest. */
static int
check_folder(const char *dir, const json_t *stmt, struct ml_err *e)
{
	const char *fmt = json_string_value(json_object_get(json_object_get(stmt, "predicate"),
							    "format"));
	char path[4200], hex[65];
	struct dirent *d;
	json_t *s;
	size_t i;
	DIR *dp;
	int rc = ML_OK;

	if (strcmp(fmt, "csv-folder"))
		return ml_err_set(e, ML_EINTEGRITY, "%s signs a %.20s report, not a CSV folder",
				  ML_REPORT_MANIFEST, fmt);
	json_array_foreach(json_object_get(stmt, "subject"), i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		snprintf(path, sizeof path, "%s/%s", dir, name);
		if ((rc = file_sha256(path, hex, e))) {
			if (rc == ML_EINPUT)
				return ml_err_set(e, ML_EINTEGRITY, "table %s is signed but missing "
						  "from the folder", name);
			return rc;
		}
		if (strcmp(hex, ml_report_subject_sha256(stmt, name)))
			return ml_err_set(e, ML_EINTEGRITY, "table %s is not the signed one (changed, "
					  "or from another report)", name);
	}
	if (!(dp = opendir(dir)))
		return ml_err_set(e, ML_EIO, "%.200s: %s", dir, strerror(errno));
	while ((d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
		    !strcmp(d->d_name, ML_REPORT_MANIFEST))
			continue;
		if (!ml_report_name_ok(d->d_name) || !ml_report_subject_sha256(stmt, d->d_name)) {
			rc = ml_err_set(e, ML_EINTEGRITY, "%.140s is in the folder but not in its "
					"signed manifest (a table or file from another report?)",
					d->d_name);
			break;
		}
	}
	closedir(dp);
	return rc;
}

/* A signed single-file report: the file has the one signed digest. */
static int
check_single(const char *path, const json_t *stmt, struct ml_err *e)
{
	const json_t *subj = json_object_get(stmt, "subject");
	const char *want, *fmt = json_string_value(json_object_get(json_object_get(stmt,
							"predicate"), "format"));
	char hex[65];
	int rc;

	if (json_array_size(subj) != 1 || !strcmp(fmt, "csv-folder"))
		return ml_err_set(e, ML_EINTEGRITY, "the signature is a CSV folder's manifest: "
				  "verify the folder (verify-report DIR)");
	want = json_string_value(json_object_get(json_object_get(json_array_get(subj, 0),
								 "digest"), "sha256"));
	if ((rc = file_sha256(path, hex, e)))
		return rc;
	if (strcmp(hex, want))
		return ml_err_set(e, ML_EINTEGRITY, "the report's bytes (sha256:%.12s…) are not the "
				  "signed ones (sha256:%.12s…)", hex, want);
	return ML_OK;
}

static const char *
str_or(const json_t *o, const char *k, const char *dflt)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : dflt;
}

/* What was signed: the auditor sees the scope they verified. */
static void
print_scope(const json_t *stmt)
{
	const json_t *p = json_object_get(stmt, "predicate"), *sc = json_object_get(p, "scope");
	const json_t *ck = json_object_get(sc, "checkpoint"), *x;
	size_t i;

	printf("format: %s\n", str_or(p, "format", "?"));
	printf("scope: ledger %s, checkpoint size %lld root %s\n", str_or(sc, "origin", "?"),
	       (long long)json_integer_value(json_object_get(ck, "size")),
	       str_or(ck, "root", "?"));
	printf("period: %s to %s (as of %s), generated %s\n", str_or(sc, "from", "?"),
	       str_or(sc, "to", "?"), str_or(sc, "asOf", "?"), str_or(p, "generatedAt", "?"));
	printf("ledger began: %s\n", str_or(sc, "ledgerStart", "unknown"));
	if (!json_array_size(json_object_get(sc, "policies")))
		printf("policies: none\n");
	json_array_foreach(json_object_get(sc, "policies"), i, x)
		printf("policy: %s@%s sha256:%s (%s)\n", str_or(x, "id", "?"),
		       str_or(x, "version", "?"), str_or(x, "sha256", "?"), str_or(x, "file", "?"));
	/* signatures made before held checkpoints were signed lack "held" */
	if (json_is_array(json_object_get(sc, "held")) &&
	    !json_array_size(json_object_get(sc, "held")))
		printf("held checkpoints: none (nothing outside the ledger was checked)\n");
	json_array_foreach(json_object_get(sc, "held"), i, x) {
		const json_t *w = json_object_get(x, "witnesses"), *n;
		size_t j;
		printf("held checkpoint: size %lld root %s", (long long)json_integer_value(
			       json_object_get(x, "size")), str_or(x, "root", "?"));
		if (json_is_true(json_object_get(x, "witnessesChecked")))
			printf(", witnessed by ");
		else if (json_array_size(w))
			printf(", cosignature lines (not checked) by ");
		json_array_foreach(w, j, n)
			printf("%s%s", j ? ", " : "", json_string_value(n) ? json_string_value(n) : "?");
		if (!json_array_size(w))
			printf(json_is_true(json_object_get(x, "witnessesChecked")) ? "nobody" : "");
		printf("\n");
	}
	json_array_foreach(json_object_get(stmt, "subject"), i, x)
		printf("file: %s sha256:%s\n", str_or(x, "name", "?"),
		       str_or(json_object_get(x, "digest"), "sha256", "?"));
}

/* --in-ledger: the report entries whose subject digest is want (hex). */
struct recorded {
	const char *want;   /* the report's digest: the file's, a folder's manifest's */
	const char *signer; /* the keyid that signed the report */
	int n;
	json_t *json;       /* --format json: the entries go here, not stdout */
};

static int
recorded_fn(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	    const struct ml_index_row *ix, int has_ix)
{
	struct recorded *r = ctx;
	struct ml_envelope env;
	struct ml_statement st;
	char hex[65], t[21];

	(void)leaf;
	(void)ix;
	(void)has_ix;
	if (ml_envelope_parse(en->envelope, en->envelope_len, &env, NULL) != ML_OK)
		return 0;
	if (ml_statement_parse(env.payload, env.payload_len, &st, NULL) == ML_OK) {
		ml_hex_encode(st.digest, ML_SHA256_LEN, hex);
		if (st.kind == ML_KIND_REPORT && !strcmp(hex, r->want)) {
			ml_time_format(en->time_us, t);
			if (r->json)
				json_array_append_new(r->json, json_pack(
					"{s:I, s:s, s:s, s:b, s:s, s:s, s:s, s:s}", "seq",
					(json_int_t)en->seq, "time", t, "keyid", env.keyid,
					"reportSigner", !strcmp(env.keyid, r->signer), "subject",
					st.subject, "format", str_or(st.predicate, "format", "?"),
					"from", str_or(st.predicate, "from", "?"), "to",
					str_or(st.predicate, "to", "?")));
			else
				printf("recorded: entry %llu, appended %s, by %s%s: %s, %s, %s to %s\n",
				       (unsigned long long)en->seq, t, env.keyid,
				       strcmp(env.keyid, r->signer) ? " (not the report's signer)" : "",
				       st.subject, str_or(st.predicate, "format", "?"),
				       str_or(st.predicate, "from", "?"), str_or(st.predicate, "to", "?"));
			r->n++;
		}
		ml_statement_free(&st);
	}
	ml_envelope_clear(&env);
	return 0;
}

/* Says whether the ledger (--ledger, MLLEDGER_LEDGER) holds report entries
 * for this report, and by whom: printed, or appended to out (a JSON array)
 * when out is not NULL.  ML_EDENY (exit 1) when it holds none. */
static int
in_ledger(const struct cli *c, const char *path, int dir, const json_t *stmt, const char *sig,
	  size_t slen, const char *keyid, json_t *out, struct ml_err *e)
{
	struct recorded r = {NULL, keyid, 0, out};
	struct ml_ledger *l = NULL;
	uint8_t d[ML_SHA256_LEN];
	char hex[65];
	int rc;

	if (dir) {
		ml_sha256(sig, slen, d);
		ml_hex_encode(d, sizeof d, hex);
		r.want = hex;
	} else {
		r.want = json_string_value(json_object_get(json_object_get(json_array_get(
				json_object_get(stmt, "subject"), 0), "digest"), "sha256"));
	}
	if ((rc = cli_open(c, 0, &l, e)) == ML_OK)
		rc = ml_store_query(ml_ledger_store(l), ml_kind_name(ML_KIND_REPORT), NULL, NULL,
				    -1, recorded_fn, &r, e);
	ml_ledger_close(l);
	if (rc == ML_OK && !r.n)
		rc = ml_err_set(e, ML_EDENY, "%.200s (sha256:%.12s…) is not recorded in this "
				"ledger: no report entry has its digest", path, r.want);
	return rc;
}

/* verify-report --format json: one object {"ok","report","signedBy",
 * "format","generatedAt","scope","files"[,"recorded"]}, the scope as the
 * signature signs it.  Printed also when --in-ledger finds nothing (exit
 * 1, "recorded": []). */
static int
verified_json(const struct cli *c, const char *path, const char *keyid, const json_t *stmt,
	      const char *sig, size_t slen, int dir, struct ml_err *e)
{
	const json_t *p = json_object_get(stmt, "predicate"), *x;
	json_t *files = json_array(), *rec = NULL, *o;
	size_t i;
	int rc = ML_OK, prc;

	json_array_foreach(json_object_get(stmt, "subject"), i, x)
		json_array_append_new(files, json_pack("{s:s, s:s}", "name", str_or(x, "name", "?"),
						       "sha256", str_or(json_object_get(x, "digest"),
									"sha256", "?")));
	o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:O, s:o}", "ok", 1, "report", path, "signedBy",
		      keyid, "format", str_or(p, "format", "?"), "generatedAt",
		      str_or(p, "generatedAt", "?"), "scope",
		      json_object_get(p, "scope") ? json_object_get(p, "scope") : json_null(),
		      "files", files);
	if (o && cli_has(c, "in-ledger")) {
		rec = json_array();
		rc = in_ledger(c, path, dir, stmt, sig, slen, keyid, rec, e);
		if (rc != ML_OK && rc != ML_EDENY) {
			json_decref(rec);
			json_decref(o);
			return rc;
		}
		json_object_set_new(o, "recorded", rec);
	}
	prc = cli_print_json(o, e);
	return prc ? prc : rc;
}

int
cmd_verify_report(int argc, char **argv)
{
	struct cli c = {.cmd = "verify-report"};
	struct ml_pubkey k;
	struct ml_err e;
	struct stat st;
	char sp[4200], *sig = NULL, keyid[ML_KEYID_MAX];
	const char *path;
	json_t *stmt = NULL;
	size_t slen;
	int rc, dir;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "key= sig= in-ledger")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger verify-report REPORT|DIR --key NAME.pub [--sig FILE] [--in-ledger]\n\n"
		     "Checks a report's signature with the verifier key NAME.pub and prints what\n"
		     "was signed: the ledger origin, checkpoint, period, as-of and generation\n"
		     "times, when the ledger began, the policies, the checkpoints held outside\n"
		     "it was checked against (with their witnesses) and every file's SHA-256.\n"
		     "REPORT: its signature REPORT.sig.json (or --sig FILE) must sign exactly\n"
		     "its bytes.  DIR (a CSV folder): DIR/" ML_REPORT_MANIFEST " (or --sig FILE)\n"
		     "must list every table in it with its bytes, and the folder must hold\n"
		     "nothing else (no extra table, no symlink).  Exit 0 when it holds; 4 when\n"
		     "a file was changed, added, removed or comes from another report, or the\n"
		     "signature is not by that key; 2 when a file is missing or not a report\n"
		     "signature (signatures of mlledger 0.2 and before, without a scope, are\n"
		     "refused as the old format).\n\n"
		     "--in-ledger  also says whether the ledger (--ledger, MLLEDGER_LEDGER) holds\n"
		     "             a report entry with this report's SHA-256 (a CSV folder: its\n"
		     "             manifest's; 'report --record'), naming each: seq, append\n"
		     "             time, signer.  Exit 1 when none does.  The ledger is read,\n"
		     "             not verified: run 'mlledger verify' for that.");
		return ML_OK;
	}
	if (c.nargs != 1 || !cli_get(&c, "key"))
		return cli_failf(&c, ML_EINPUT, "expected REPORT|DIR --key NAME.pub");
	path = c.args[0];
	dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	if (snprintf(sp, sizeof sp, dir ? "%s/" ML_REPORT_MANIFEST : "%s.sig.json", path) >=
	    (int)sizeof sp)
		return cli_failf(&c, ML_EINPUT, "%.200s...: path too long", path);
	if (cli_get(&c, "sig"))
		snprintf(sp, sizeof sp, "%s", cli_get(&c, "sig"));
	if (!(rc = ml_pubkey_load(cli_get(&c, "key"), &k, &e)) &&
	    !(rc = ml_read_file(sp, ML_REPORT_SIG_MAX, &sig, &slen, &e)) &&
	    !(rc = ml_report_open(&k, sig, slen, &stmt, &e)))
		rc = dir ? check_folder(path, stmt, &e) : check_single(path, stmt, &e);
	if (rc) {
		free(sig);
		json_decref(stmt);
		return cli_fail(&c, &e);
	}
	ml_pubkey_keyid(&k, keyid);
	if (c.json) {
		rc = verified_json(&c, path, keyid, stmt, sig, slen, dir, &e);
	} else {
		printf("ok: %s is signed by %s\n", path, keyid);
		print_scope(stmt);
		if (cli_has(&c, "in-ledger"))
			rc = in_ledger(&c, path, dir, stmt, sig, slen, keyid, NULL, &e);
	}
	free(sig);
	json_decref(stmt);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

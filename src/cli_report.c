/* cli_report — report and verify-report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "note.h"
#include "report.h"
#include "report_html.h"
#include "report_sig.h"
#include "report_text.h"

#define CSS_MAX (1024 * 1024)
#define MAX_POLICIES 64
#define MAX_PARAMS 64
#define MAX_HELD 32

static const char report_usage[] =
	"usage: mlledger report --from YYYY-MM-DD --to YYYY-MM-DD --format html|md|json|csv\n"
	"                       --out PATH [--policy ID|FILE]... [--param NAME=VALUE]...\n"
	"                       [--phase ID] [--table NAME] [--sign KEY] [--as-of DATE]\n"
	"                       [--generated-at TIME] [--max-gap-days N] [--css FILE]\n"
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
	"\n"
	"--format csv      one NAME.csv per table in the folder --out, or the one\n"
	"                  table --table NAME in the file --out\n"
	"--sign KEY        also writes PATH.sig.json (a CSV folder: PATH/MANIFEST.sig.json\n"
	"                  listing every table), a DSSE signature over the files'\n"
	"                  SHA-256 and the report's scope (ledger, checkpoint, period,\n"
	"                  policies); check it with verify-report\n"
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

/* Writes bytes to path, and path.sig.json when k is set (a signature over
 * the file and the report's scope, report_sig.h); existing files are
 * replaced only with force (check_outputs refused the rest already). */
static int
write_out(const char *path, const char *fmt, const json_t *model, const struct ml_buf *b,
	  const struct ml_seckey *k, int force, struct ml_err *e)
{
	struct ml_report_file f = {base_name(path), (const uint8_t *)b->data, b->len};
	struct ml_buf sig = {0};
	char sp[4200];
	int rc;

	if ((rc = ml_write_file_atomic(path, b->data, b->len, 0644, !force, e)) || !k)
		return rc;
	snprintf(sp, sizeof sp, "%s.sig.json", path);
	if ((rc = ml_report_sign(k, fmt, model, &f, 1, &sig, e)) == ML_OK)
		rc = ml_write_file_atomic(sp, sig.data, sig.len, 0644, !force, e);
	ml_buf_free(&sig);
	if (rc == ML_OK)
		printf("signed %s\n", sp);
	return rc;
}

static int
read_css(const struct cli *c, char **css, size_t *len, struct ml_err *e)
{
	const char *path = cli_get(c, "css");

	*css = NULL;
	*len = 0;
	return path ? ml_read_file(path, CSS_MAX, css, len, e) : ML_OK;
}

static int
afile_put(void *ctx, const void *bytes, size_t len)
{
	return ml_afile_write(ctx, bytes, len);
}

/* The HTML report, rendered straight into the file out (util.h, ml_afile:
 * never held whole), and out.sig.json when k is set, signed over the bytes
 * written before the file is put in place.  *len receives the size. */
static int
write_html(const struct cli *c, const char *path, const json_t *model,
	   const struct ml_seckey *k, int force, size_t *len, struct ml_err *e)
{
	struct ml_afile f;
	struct ml_buf sig = {0};
	struct ml_report_file rf = {base_name(path), NULL, 0};
	char *css = NULL, sp[4200];
	size_t csslen;
	int rc;

	if ((rc = read_css(c, &css, &csslen, e)))
		return rc;
	if ((rc = ml_afile_open(&f, path, 0644, !force, e))) {
		free(css);
		return rc;
	}
	rc = ml_report_html_to(model, css, csslen, afile_put, &f, e);
	free(css);
	if (rc == ML_EIO && f.err)
		rc = ml_err_set(e, ML_EIO, "%s: write failed: %s", path, strerror(f.err));
	*len = (size_t)f.len;
	if (rc == ML_OK && k && (rc = ml_afile_map(&f, &rf.bytes, &rf.len, e)) == ML_OK)
		rc = ml_report_sign(k, "html", model, &rf, 1, &sig, e);
	if (rc) {
		ml_afile_abort(&f);
		ml_buf_free(&sig);
		return rc;
	}
	if ((rc = ml_afile_commit(&f, e)) == ML_OK && k) {
		snprintf(sp, sizeof sp, "%s.sig.json", path);
		rc = ml_write_file_atomic(sp, sig.data, sig.len, 0644, !force, e);
		if (rc == ML_OK)
			printf("signed %s\n", sp);
	}
	ml_buf_free(&sig);
	return rc;
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

/* One file per table in folder dir (made when absent), and with k one
 * signed manifest of them all, ML_REPORT_MANIFEST (no per-table
 * signatures: a table is checked as part of its folder).  When this call
 * made the folder, a failure removes it with every file written so far. */
static int
write_csv_dir(const json_t *model, const char *dir, const struct ml_seckey *k, int force,
	      struct ml_err *e)
{
	const struct ml_report_table *t;
	struct ml_report_file files[ML_REPORT_FILES_MAX];
	struct ml_buf bufs[ML_REPORT_FILES_MAX], sig = {0};
	char names[ML_REPORT_FILES_MAX][80], path[4200];
	size_t i, j, n;
	int rc = ML_OK, made;

	t = ml_report_tables(&n);
	if (n > ML_REPORT_FILES_MAX)
		return ml_err_set(e, ML_EIO, "too many tables");
	memset(bufs, 0, sizeof bufs);
	made = mkdir(dir, 0755) == 0;
	if (!made && errno != EEXIST)
		return ml_err_set(e, ML_EIO, "%s: %s", dir, strerror(errno));
	for (i = 0; i < n && rc == ML_OK; i++) {
		snprintf(names[i], sizeof names[i], "%s.csv", t[i].name);
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if ((rc = ml_report_csv(model, &t[i], &bufs[i], e)) == ML_OK &&
		    (rc = ml_write_file_atomic(path, bufs[i].data, bufs[i].len, 0644, !force,
					       e)) == ML_OK)
			printf("wrote %s (%zu bytes)\n", path, bufs[i].len);
		files[i].name = names[i];
		files[i].bytes = (const uint8_t *)bufs[i].data;
		files[i].len = bufs[i].len;
	}
	if (rc == ML_OK && k) {
		snprintf(path, sizeof path, "%s/%s", dir, ML_REPORT_MANIFEST);
		if ((rc = ml_report_sign(k, "csv-folder", model, files, n, &sig, e)) == ML_OK &&
		    (rc = ml_write_file_atomic(path, sig.data, sig.len, 0644, !force, e)) == ML_OK)
			printf("signed %s (%zu tables)\n", path, n);
	}
	ml_buf_free(&sig);
	for (j = 0; j < n; j++)
		ml_buf_free(&bufs[j]);
	if (rc && made) {
		for (j = 0; j < i; j++) {
			snprintf(path, sizeof path, "%s/%s.csv", dir, t[j].name);
			unlink(path);
		}
		rmdir(dir);
	}
	return rc;
}

/* json, md or csv (one table) into b; html is streamed (write_html). */
static int
render(const struct cli *c, const char *fmt, const json_t *model, struct ml_buf *b,
       struct ml_err *e)
{
	if (!strcmp(fmt, "json"))
		return ml_report_json(model, b, e);
	if (!strcmp(fmt, "md"))
		return ml_report_markdown(model, b, e);
	return ml_report_csv(model, ml_report_table(cli_get(c, "table")), b, e);
}

static int
check_format(struct cli *c, const char *fmt)
{
	const char *table = cli_get(c, "table");

	if (!fmt || (strcmp(fmt, "html") && strcmp(fmt, "md") && strcmp(fmt, "json") &&
		     strcmp(fmt, "csv")))
		return cli_failf(c, ML_EINPUT, "--format html, md, json or csv is required");
	if (!cli_get(c, "out"))
		return cli_failf(c, ML_EINPUT, "--out PATH is required");
	if (table && strcmp(fmt, "csv"))
		return cli_failf(c, ML_EINPUT, "--table applies to --format csv");
	if (table && !ml_report_table(table))
		return cli_failf(c, ML_EINPUT, "--table: unknown table \"%.40s\" (see "
				 "reports/README.md)", table);
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
 * (*pol NULL without --trust; caller ml_policy_free).  Prints its errors. */
static int
read_trust(struct cli *c, struct ml_policy **pol, struct ml_policy_clock *clk)
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
check_held(const struct cli *c, struct ml_ledger *l, const struct ml_policy *pol,
	   const struct ml_policy_clock *clk, struct ml_report_held *held, size_t *n,
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

static int
report_run(struct cli *c, const char *fmt, const struct ml_report_opts *o,
	   const struct ml_policy *pol, const struct ml_policy_clock *clk, struct ml_err *e)
{
	struct ml_seckey *k = NULL;
	struct ml_ledger *l = NULL;
	struct ml_buf b = {0};
	struct ml_report_opts ro = *o;
	struct ml_report_held held[MAX_HELD];
	struct ml_err he;
	const char *out = cli_get(c, "out");
	json_t *model = NULL;
	int rc;

	ml_err_clear(&he);
	rc = load_signer(c, &k, e);
	if (rc == ML_OK && (rc = cli_open(c, 0, &l, e)) == ML_OK) {
		/* a held checkpoint that fails fails the report as verify would */
		rc = check_held(c, l, pol, clk, held, &ro.nheld, &he);
		if (rc == ML_EINTEGRITY && o->allow_unverified)
			ro.held_err = &he;
		else if (rc)
			*e = he;
		ro.held = held;
		ro.held_trust = pol != NULL;
	}
	if (rc == ML_OK || ro.held_err) {
		rc = ml_report_build(l, &ro, &model, e);
		cli_progress_done();
	}
	if (rc)
		goto out;
	if (!strcmp(fmt, "csv") && !cli_get(c, "table")) {
		rc = write_csv_dir(model, out, k, cli_has(c, "force"), e);
		goto out;
	}
	if (!strcmp(fmt, "html")) {
		size_t len = 0;
		if ((rc = write_html(c, out, model, k, cli_has(c, "force"), &len, e)) == ML_OK)
			printf("wrote %s (%s, %zu bytes)\n", out, fmt, len);
		goto out;
	}
	if ((rc = render(c, fmt, model, &b, e)) == ML_OK &&
	    (rc = write_out(out, fmt, model, &b, k, cli_has(c, "force"), e)) == ML_OK)
		printf("wrote %s (%s, %zu bytes)\n", out, fmt, b.len);
out:
	if (model && !json_is_true(ml_report_get(model, "integrity.ok")))
		fprintf(stderr, "mlledger: report: warning: the ledger FAILED verification; the "
			"report says so at the top\n");
	ml_buf_free(&b);
	json_decref(model);
	ml_ledger_close(l);
	ml_seckey_free(k);
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
	struct ml_policy *tp = NULL;
	struct ml_policy_clock clk;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse_format(&c, argc, argv,
				   "policy= param= phase= from= to= as-of= generated-at= out= "
				   "table= sign= passphrase-file= css= allow-unverified "
				   "max-gap-days= jobs= force time-tolerance= checkpoint= "
				   "trust= max-witness-age=", &fmt)))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(report_usage, stdout);
		return ML_OK;
	}
	if (c.nargs)
		return cli_failf(&c, ML_EINPUT, "unexpected argument \"%.40s\" (see --help)",
				 c.args[0]);
	if ((rc = check_format(&c, fmt)) || (rc = report_opts(&c, &o, pol, par, &to)))
		return rc;
	if ((rc = check_outputs(&c, fmt, &e)))
		return cli_fail(&c, &e);
	if ((rc = read_trust(&c, &tp, &clk)))
		return rc;
	rc = report_run(&c, fmt, &o, tp, &clk, &e);
	ml_policy_free(tp);
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
	if ((rc = cli_parse(&c, argc, argv, "key= sig=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger verify-report REPORT|DIR --key NAME.pub [--sig FILE]\n\n"
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
		     "refused as the old format).");
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
	free(sig);
	if (rc) {
		json_decref(stmt);
		return cli_fail(&c, &e);
	}
	ml_pubkey_keyid(&k, keyid);
	printf("ok: %s is signed by %s\n", path, keyid);
	print_scope(stmt);
	json_decref(stmt);
	return ML_OK;
}

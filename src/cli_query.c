/* cli_query — log, show and verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "chain.h"
#include "cli.h"
#include "gate.h"
#include "statement.h"
#include "store.h"
#include "note.h"
#include "tlog.h"
#include "verify.h"

struct log_ctx {
	int json;
	uint64_t n;
};

static int
print_log_row(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	      const struct ml_index_row *ix, int has_ix)
{
	struct log_ctx *lc = ctx;
	char t[21], hex[65], subject[300];

	ml_time_format(en->time_us, t);
	ml_hex_encode(leaf, ML_SHA256_LEN, hex);
	snprintf(subject, sizeof subject, "%s%s%s", ix->name, ix->version[0] ? "@" : "",
		 ix->version);
	if (lc->json) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s+}", "seq",
				      (json_int_t)en->seq, "time", t, "kind", ix->kind, "subject",
				      subject, "keyid", ix->keyid, "leafHash", "sha256:", hex);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		printf("%s%s", lc->n ? ",\n" : "[\n", s ? s : "null");
		free(s);
		json_decref(o);
	} else {
		printf("%-8llu %s  %-14s %-40s %s\n", (unsigned long long)en->seq, t, ix->kind,
		       subject, ix->keyid);
	}
	lc->n++;
	return 0;
}

int
cmd_log(int argc, char **argv)
{
	struct cli c = {.cmd = "log"};
	struct ml_ledger *l;
	struct log_ctx lc = {0, 0};
	struct ml_err e;
	char name[300] = "", *at;
	const char *kind, *subject, *since;
	int64_t since_us = -1;
	enum ml_kind k;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "kind= subject= since=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger log [--kind K] [--subject NAME[@VERSION]] [--since DATE]\n"
		     "                    [--format text|json]\n\n"
		     "Lists entries: seq, append time (UTC), kind, subject, signing key.");
		return ML_OK;
	}
	kind = cli_get(&c, "kind");
	subject = cli_get(&c, "subject");
	since = cli_get(&c, "since");
	if (kind && ml_kind_parse(kind, &k) != 0)
		return cli_failf(&c, ML_EINPUT, "--kind: unknown kind \"%.40s\"", kind);
	if (since && ml_time_parse(since, &since_us) != 0)
		return cli_failf(&c, ML_EINPUT, "--since: expected YYYY-MM-DD or "
				 "YYYY-MM-DDTHH:MM:SSZ");
	if (subject) {
		snprintf(name, sizeof name, "%s", subject);
		at = strchr(name, '@');
		if (at)
			*at++ = '\0';
		subject = at;
	}
	if ((rc = cli_open(&c, 0, &l, &e)))
		return cli_fail(&c, &e);
	lc.json = c.json;
	if (!c.json)
		printf("%-8s %-20s  %-14s %-40s %s\n", "SEQ", "TIME", "KIND", "SUBJECT", "KEY");
	rc = ml_store_query(ml_ledger_store(l), kind, name, subject, since_us, print_log_row,
			    &lc, &e);
	if (c.json && rc == ML_OK)
		printf("%s]\n", lc.n ? "\n" : "[");
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

static int
show_json(const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN])
{
	char t[21], hex[65], prev[65];
	struct ml_envelope env;
	json_t *o, *envj, *stj;
	char *s;

	ml_time_format(en->time_us, t);
	ml_hex_encode(leaf, ML_SHA256_LEN, hex);
	ml_hex_encode(en->prev, ML_SHA256_LEN, prev);
	envj = json_loadb((const char *)en->envelope, en->envelope_len, 0, NULL);
	stj = NULL;
	if (ml_envelope_parse(en->envelope, en->envelope_len, &env, NULL) == ML_OK) {
		stj = json_loadb((const char *)env.payload, env.payload_len, 0, NULL);
		ml_envelope_clear(&env);
	}
	o = json_pack("{s:I, s:s, s:I, s:s+, s:s+, s:o*, s:o*}", "seq", (json_int_t)en->seq,
		      "time", t, "timeMicros", (json_int_t)en->time_us, "prev", "sha256:", prev,
		      "leafHash", "sha256:", hex, "envelope", envj, "statement", stj);
	s = o ? json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) : NULL;
	if (s)
		puts(s);
	free(s);
	json_decref(o);
	return s ? ML_OK : ML_EIO;
}

static void
show_text(const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN])
{
	char t[21], hex[65], prev[65];
	struct ml_envelope env;
	struct ml_statement st;

	ml_time_format(en->time_us, t);
	ml_hex_encode(leaf, ML_SHA256_LEN, hex);
	ml_hex_encode(en->prev, ML_SHA256_LEN, prev);
	printf("seq        %llu\ntime       %s\nleaf hash  sha256:%s\nprev       sha256:%s\n",
	       (unsigned long long)en->seq, t, hex, prev);
	if (ml_envelope_parse(en->envelope, en->envelope_len, &env, NULL) != ML_OK)
		return;
	printf("signed by  %s\n", env.keyid);
	if (ml_statement_parse(env.payload, env.payload_len, &st, NULL) == ML_OK) {
		char d[65], *pred = json_dumps(st.predicate, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
		ml_hex_encode(st.digest, sizeof st.digest, d);
		printf("kind       %s\nsubject    %s\ndigest     sha256:%s\npredicate  %s\n",
		       ml_kind_name(st.kind), st.subject, d, pred ? pred : "");
		free(pred);
		ml_statement_free(&st);
	}
	ml_envelope_clear(&env);
}

int
cmd_show(int argc, char **argv)
{
	struct cli c = {.cmd = "show"};
	struct ml_ledger *l;
	struct ml_entry en;
	struct ml_err e;
	uint8_t *env = NULL, leaf[ML_SHA256_LEN];
	const char *fmt;
	char *end;
	unsigned long long seq;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger show SEQ [--format text|json|raw]\n\n"
		     "raw writes the exact leaf bytes (ledger/FORMAT.md) to standard output.");
		return ML_OK;
	}
	fmt = cli_get(&c, "format");
	if (fmt && strcmp(fmt, "text") && strcmp(fmt, "json") && strcmp(fmt, "raw"))
		return cli_failf(&c, ML_EINPUT, "--format: text, json or raw");
	if (c.nargs != 1 || !*c.args[0] || c.args[0][0] == '-')
		return cli_failf(&c, ML_EINPUT, "expected SEQ");
	seq = strtoull(c.args[0], &end, 10);
	if (*end)
		return cli_failf(&c, ML_EINPUT, "\"%.40s\" is not an entry number", c.args[0]);
	if ((rc = cli_open(&c, 0, &l, &e)))
		return cli_fail(&c, &e);
	rc = ml_store_entry_get(ml_ledger_store(l), seq, &en, &env, leaf, &e);
	if (rc == ML_OK) {
		if (fmt && !strcmp(fmt, "raw")) {
			struct ml_buf b = {0};
			ml_leaf_encode(&en, &b);
			if (b.oom || fwrite(b.data, 1, b.len, stdout) != b.len)
				rc = ml_err_set(&e, ML_EIO, "write failed");
			ml_buf_free(&b);
		} else if (c.json) {
			rc = show_json(&en, leaf);
		} else {
			show_text(&en, leaf);
		}
	}
	free(env);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads and checks one outside checkpoint note; prints the evidence of a
 * mismatch.  With a policy, the note must also satisfy it. */
static int
check_held(struct cli *c, struct ml_ledger *l, const char *path, struct ml_policy *pol,
	   struct ml_err *e)
{
	struct ml_buf report = {0};
	struct ml_checkpoint seen;
	char *note = NULL;
	size_t len;
	int rc;

	if ((rc = ml_read_file(path, ML_NOTE_MAX, &note, &len, e)))
		return rc;
	rc = ml_tlog_check(l, note, len, &seen, &report, e);
	if (rc == ML_OK && pol) {
		struct ml_note n;
		char why[256] = "";
		if ((rc = ml_note_parse(note, len, &n, e)) == ML_OK) {
			if (!ml_policy_check(pol, &n, why, sizeof why))
				rc = ml_err_set(e, ML_EINTEGRITY, "the trust policy is not met: %s",
						why);
			ml_note_clear(&n);
		}
	}
	if (report.len)
		fwrite(report.data, 1, report.len, stdout);
	if (rc)
		ml_err_prefix(e, rc, path);
	else if (!c->json)
		printf("ok: %s (size %llu) is a prefix of the ledger\n", path,
		       (unsigned long long)seen.size);
	ml_buf_free(&report);
	free(note);
	return rc;
}

/* --state FILE: the last checkpoint this verifier accepted.  A ledger that
 * does not extend it fails; on success it moves up to the ledger's latest. */
static int
check_state(struct cli *c, struct ml_ledger *l, const char *path, struct ml_err *e)
{
	struct ml_out_rules r;
	uint64_t size;
	char *latest = NULL;
	int rc;

	/* Replacing the state file is its use (force), but never the ledger,
	 * its files or a secret key. */
	if ((rc = cli_out_rules(c, &r, e)))
		return rc;
	r.force = 1;
	if ((rc = ml_out_check(&r, "--state", path, 0, e)))
		return rc;
	if (access(path, F_OK) == 0 && (rc = check_held(c, l, path, NULL, e)))
		return rc;
	if ((rc = ml_tlog_checkpoint(l, -1, &size, &latest, e)))
		return rc;
	rc = ml_write_file_atomic(path, latest, strlen(latest), 0644, 0, e);
	free(latest);
	return rc;
}

/* --bundle DIR: the copy in DIR, its log key and its checkpoint. */
static int
open_bundle(struct cli *c, const char *dir, struct ml_ledger **l, struct ml_err *e)
{
	char path[4200], *line = NULL;
	size_t len;
	int rc;

	snprintf(path, sizeof path, "%s/ledger.db", dir);
	if ((rc = ml_ledger_open(path, 0, l, e)))
		return rc;
	snprintf(path, sizeof path, "%s/log.pub", dir);
	if ((rc = ml_read_file(path, 4096, &line, &len, e)) == ML_OK) {
		while (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strcmp(line, ml_ledger_logkey(*l)) != 0)
			rc = ml_err_set(e, ML_EINTEGRITY, "%s differs from the ledger's log key",
					path);
	}
	free(line);
	if (rc) {
		ml_ledger_close(*l);
		*l = NULL;
	}
	return rc;
}

/* --bundle DIR: DIR/keys holds exactly the keys the verified entries
 * enrolled, byte for byte (ledger/FORMAT.md §10). */
static int
check_bundle_keys(struct cli *c, struct ml_ledger *l, const char *dir, struct ml_err *e)
{
	size_t n;
	int rc = ml_bundle_check_keys(l, dir, &n, e);

	if (rc == ML_OK && !c->json)
		printf("ok: %s/keys holds exactly the %zu keys the entries enrolled\n", dir, n);
	return rc;
}

/* The time warnings' members, after the result's own (timecheck.h). */
static void
print_time_json(json_t *tw)
{
	const char *k;
	json_t *v;
	char *s;

	json_object_foreach(tw, k, v) {
		if (!(s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)))
			continue;
		printf(",\"%s\":%s", k, s);
		free(s);
	}
}

static void
print_result(const struct cli *c, const struct ml_verify_result *res, double dt, int held,
	     json_t *tw)
{
	char hex[65];

	ml_hex_encode(res->head, sizeof res->head, hex);
	if (c->json) {
		printf("{\"ok\":true,\"entries\":%llu,\"keysEnrolled\":%llu,\"keysRevoked\":%llu,"
		       "\"checkpoints\":%llu,\"heldCheckpoints\":%d,\"head\":\"sha256:%s\","
		       "\"seconds\":%.3f",
		       (unsigned long long)res->entries, (unsigned long long)res->keys_enrolled,
		       (unsigned long long)res->keys_revoked, (unsigned long long)res->checkpoints,
		       held, hex, dt);
		print_time_json(tw);
		printf("}\n");
		return;
	}
	printf("ok: %llu entries intact, %llu keys enrolled, %llu revoked, %llu signed "
	       "checkpoints; head sha256:%s (%.2f s, %.0f entries/s)\n",
	       (unsigned long long)res->entries, (unsigned long long)res->keys_enrolled,
	       (unsigned long long)res->keys_revoked, (unsigned long long)res->checkpoints, hex,
	       dt, dt > 0 ? (double)res->entries / dt : 0.0);
	if (json_integer_value(json_object_get(tw, "timeWarningsTotal")) ||
	    json_integer_value(json_object_get(tw, "backfillsTotal")))
		printf("time warnings: %lld entries dated far from their append time, %lld "
		       "backfill bursts (verify --format json lists them; not failures)\n",
		       (long long)json_integer_value(json_object_get(tw, "timeWarningsTotal")),
		       (long long)json_integer_value(json_object_get(tw, "backfillsTotal")));
}

static void
print_failure(const struct cli *c, const struct ml_err *e)
{
	json_t *o;
	char *s;

	if (!c->json)
		return;
	o = json_pack("{s:b, s:I, s:s}", "ok", 0, "seq", (json_int_t)e->seq, "reason", e->msg);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s)
		puts(s);
	free(s);
	json_decref(o);
}

int
cmd_verify(int argc, char **argv)
{
	struct cli c = {.cmd = "verify"};
	struct ml_verify_opts opts = {0, cli_progress, "verify", NULL};
	struct ml_timecheck_opts to;
	json_t *tw = NULL;
	struct ml_verify_result res;
	struct ml_ledger *l = NULL;
	struct ml_policy *pol = NULL;
	struct ml_err e;
	const char *jobs, *bundle, *trust;
	char path[4200];
	double t0, dt;
	uint64_t replayed = 0;
	int rc, i, held = 0;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "jobs= checkpoint= state= bundle= trust= decisions "
				   "time-tolerance=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger verify [--jobs N] [--checkpoint FILE]... [--state FILE]\n"
		     "                       [--trust POLICY] [--format text|json]\n"
		     "       mlledger verify --bundle DIR [--trust POLICY]\n\n"
		     "Recomputes every leaf hash and link, checks every entry against the rules\n"
		     "at its place (author key enrolled by an admin and not revoked, no\n"
		     "duplicates, immutable versions, known references), verifies every\n"
		     "signature on N threads (default: all cores), the Merkle tree and every\n"
		     "signed checkpoint, and the stored projection tables and schema.\n\n"
		     "--checkpoint FILE  a checkpoint held outside (from 'checkpoint' or an\n"
		     "                   auditor): the ledger must extend it, else exit 4 with\n"
		     "                   both checkpoints (truncation, rollback, fork)\n"
		     "--state FILE       the last checkpoint this verifier accepted; checked like\n"
		     "                   --checkpoint, then moved up to the ledger's latest\n"
		     "                   (replaced in place; never the ledger, its -wal, -shm,\n"
		     "                   -journal or log key, nor a secret key: exit 2)\n"
		     "--trust POLICY     C2SP tlog-policy: held checkpoints must be signed by its\n"
		     "                   log and cosigned by its quorum of witnesses\n"
		     "--bundle DIR       verify an 'export' folder offline: its ledger, log.pub,\n"
		     "                   checkpoint, and keys/ (exactly the enrolled keys)\n"
		     "--decisions        also replay every recorded gate decision: rebuild its\n"
		     "                   evidence at its checkpoint and time, evaluate its\n"
		     "                   recorded policies with its recorded params, and require\n"
		     "                   the same verdict, findings and evidence digests\n"
		     "--time-tolerance H  author times more than H hours (default 24) before\n"
		     "                   their append time are listed as backdated\n\n"
		     "Time warnings (never failures): entries whose author time is more than\n"
		     "24 hours before or 5 minutes after their append time, and backfills (50\n"
		     "or more entries appended at most 1 s apart whose author times span more\n"
		     "than a day) are counted in a line, listed by --format json\n"
		     "(timeWarnings, backfills, ledgerStart; ledger/FORMAT.md §5).\n\n"
		     "Exit 0 when intact; 4 naming the first bad entry and why.");
		return ML_OK;
	}
	if ((jobs = cli_get(&c, "jobs"))) {
		opts.jobs = atoi(jobs);
		if (opts.jobs < 1 || opts.jobs > 64)
			return cli_failf(&c, ML_EINPUT, "--jobs: 1 to 64");
	}
	if ((trust = cli_get(&c, "trust"))) {
		char *text = NULL;
		size_t len;
		rc = ml_read_file(trust, ML_POLICY_MAX, &text, &len, &e);
		if (rc == ML_OK && (rc = ml_policy_parse(text, len, &pol, &e)))
			ml_err_prefix(&e, rc, trust);
		free(text);
		if (rc)
			return cli_fail(&c, &e);
	}
	if (cli_time_opts(&c, &to)) {
		ml_policy_free(pol);
		return ML_EINPUT;
	}
	bundle = cli_get(&c, "bundle");
	if (pol && !bundle && !cli_get(&c, "checkpoint")) {
		ml_policy_free(pol);
		return cli_failf(&c, ML_EINPUT, "--trust applies to checkpoints held outside: give "
				 "--checkpoint FILE or --bundle DIR");
	}
	if (!(opts.timecheck = ml_timecheck_new(&to)))
		rc = ml_err_set(&e, ML_EIO, "out of memory");
	else
		rc = bundle ? open_bundle(&c, bundle, &l, &e) : cli_open(&c, 0, &l, &e);
	if (rc)
		goto out;
	t0 = now_s();
	rc = ml_verify(l, &opts, &res, &e);
	dt = now_s() - t0;
	cli_progress_done();
	if (rc)
		goto out;
	if (bundle) {
		snprintf(path, sizeof path, "%s/checkpoint", bundle);
		if ((rc = check_held(&c, l, path, pol, &e)) ||
		    (rc = check_bundle_keys(&c, l, bundle, &e)))
			goto out;
		held++;
	}
	for (i = 0; i < c.nopts; i++) {
		if (strcmp(c.opts[i].name, "checkpoint"))
			continue;
		if ((rc = check_held(&c, l, c.opts[i].value, pol, &e)))
			goto out;
		held++;
	}
	if (cli_get(&c, "state") && (rc = check_state(&c, l, cli_get(&c, "state"), &e)))
		goto out;
	if (cli_has(&c, "decisions")) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		size_t rjobs = opts.jobs > 0 ? (size_t)opts.jobs : cores > 0 ? (size_t)cores : 1;
		rc = ml_gate_replay_all(l, res.entries, res.head, rjobs, cli_progress, "replay",
					&replayed, &e);
		cli_progress_done();
		if (rc)
			goto out;
	}
	if (!(tw = ml_timecheck_json(opts.timecheck))) {
		rc = ml_err_set(&e, ML_EIO, "out of memory");
		goto out;
	}
	print_result(&c, &res, dt, held, tw);
	if (cli_has(&c, "decisions") && !c.json)
		printf("ok: %llu gate decisions replayed to the same verdict and findings\n",
		       (unsigned long long)replayed);
out:
	json_decref(tw);
	ml_timecheck_free(opts.timecheck);
	ml_policy_free(pol);
	ml_ledger_close(l);
	if (rc) {
		print_failure(&c, &e);
		return cli_fail(&c, &e);
	}
	return ML_OK;
}

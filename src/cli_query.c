/* cli_query — log, show and verify. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "chain.h"
#include "cli.h"
#include "gate.h"
#include "remote.h"
#include "statement.h"
#include "store.h"
#include "note.h"
#include "note_trust.h"
#include "output.h"
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
	if ((rc = cli_parse(&c, argc, argv, "kind= subject= since="" server= log-key= trust= state= mirror=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger log [--kind K] [--subject NAME[@VERSION]] [--since DATE]\n"
		     "                    [--format text|json]\n\n"
		     "Lists entries: seq, append time (UTC), kind, subject, signing key.\n\n"
		     "With --server URL (or MLLEDGER_SERVER) and --log-key LOG.pub|--trust POLICY\n"
		     "[--state FILE] [--mirror FILE]: reads the mirror, first brought up to the\n"
		     "server's latest checkpoint ('mlledger mirror --help').");
		return ML_OK;
	}
	kind = cli_get(&c, "kind");
	subject = cli_get(&c, "subject");
	since = cli_get(&c, "since");
	if (kind && ml_kind_parse(kind, &k) != 0) {
		char list[400] = "";
		size_t n = 0;
		for (k = 0; k < ML_KIND_COUNT && n < sizeof list; k++)
			n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", k ? ", " : "",
					      ml_kind_name(k));
		return cli_failf(&c, ML_EINPUT, "--kind: unknown kind \"%.40s\"; must be one of %s",
				 kind, list);
	}
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
	if (cli_server(&c) && (rc = cli_use_mirror(&c, NULL, &e)))
		return cli_fail(&c, &e);
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
	for (size_t i = 0; i < env.nco; i++) /* countersignatures, in order */
		printf("and by     %s\n", env.co[i].keyid);
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
	if ((rc = cli_parse(&c, argc, argv, "server= log-key= trust= state= mirror=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger show SEQ [--format text|json|raw]\n\n"
		     "raw writes the exact leaf bytes (ledger/FORMAT.md) to standard output.\n\n"
		     "With --server URL (or MLLEDGER_SERVER) and --log-key LOG.pub|--trust POLICY\n"
		     "[--state FILE] [--mirror FILE]: reads the mirror, first brought up to the\n"
		     "server's latest checkpoint ('mlledger mirror --help').");
		return ML_OK;
	}
	fmt = cli_get(&c, "format");
	if (fmt && strcmp(fmt, "text") && strcmp(fmt, "json") && strcmp(fmt, "raw"))
		return cli_failf(&c, ML_EINPUT, "--format: must be one of text, json, raw");
	if (c.nargs != 1 || !*c.args[0] || c.args[0][0] == '-')
		return cli_failf(&c, ML_EINPUT, "expected SEQ");
	seq = strtoull(c.args[0], &end, 10);
	if (*end)
		return cli_failf(&c, ML_EINPUT, "\"%.40s\" is not an entry number", c.args[0]);
	if (cli_server(&c) && (rc = cli_use_mirror(&c, NULL, &e)))
		return cli_fail(&c, &e);
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

/* What verify learnt from the checkpoints held outside: the largest size
 * accepted (with a trust policy: witnessed by its quorum), and one JSON
 * object per checkpoint for --format json. */
struct held {
	const struct ml_trust *pol;
	const struct ml_trust_clock *clk;
	int n, nstate;          /* checkpoints accepted; of which the --state */
	uint64_t max_size;
	json_t *list;
};

/* "42 s", "3 min", "2 h", "5 d": an age for people. */
static void
age_show(int64_t s, char buf[32])
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, 32, "%lld s", (long long)s);
	else if (s < 7200)
		snprintf(buf, 32, "%lld min", (long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, 32, "%lld h", (long long)(s / 3600));
	else
		snprintf(buf, 32, "%lld d", (long long)(s / 86400));
}

/* Records and prints which witnesses cosigned a held checkpoint: with a
 * policy, those whose cosignatures it verified; without, the note's
 * cosignature-shaped lines by names other than the origin, unchecked. */
static void
held_note(struct cli *c, struct held *h, const char *path, const struct ml_tlog_held *th)
{
	json_t *o, *names = json_array();
	char t[21] = "", age[32] = "";
	const char *list = th->witnesses;
	size_t i;
	int64_t now = ml_now_us() / 1000000;

	for (i = 0; list[i];) {
		size_t w = strcspn(list + i, ",");
		json_array_append_new(names, json_stringn(list + i, w));
		i += w;
		while (list[i] == ',' || list[i] == ' ')
			i++;
	}
	if (th->newest) {
		ml_time_format((int64_t)th->newest * 1000000, t);
		age_show(now - (int64_t)th->newest, age);
	}
	o = json_pack("{s:s, s:I, s:o, s:b, s:s*}", "path", path, "size",
		      (json_int_t)th->cp.size, "witnesses", names, "witnessesChecked",
		      th->checked, "newestCosignature", th->newest ? t : NULL);
	if (o)
		json_array_append_new(h->list, o);
	if (c->json)
		return;
	if (th->checked && list[0])
		printf("    witnessed by %s (newest cosignature %s, %s old)\n", list, t, age);
	else if (th->checked)
		printf("    no witness cosignature (the trust policy's quorum is none)\n");
	else if (list[0])
		printf("    cosignature lines by %s (not checked: give --trust POLICY)\n", list);
}

/* Reads and checks one outside checkpoint note; prints the evidence of a
 * mismatch.  With a policy, the note must also satisfy it (at h->clk). */
static int
check_held(struct cli *c, struct ml_ledger *l, const char *path, struct held *h,
	   struct ml_err *e)
{
	struct ml_buf report = {0};
	struct ml_tlog_held th;
	char *note = NULL;
	size_t len;
	int rc;

	if ((rc = ml_read_file(path, ML_NOTE_MAX, &note, &len, e)))
		return rc;
	rc = ml_tlog_check_held(l, note, len, h->pol, h->clk, &th, &report, e);
	if (report.len)
		fwrite(report.data, 1, report.len, stdout);
	if (rc) {
		ml_err_prefix(e, rc, path);
	} else {
		if (!c->json)
			printf("ok: %s (size %llu) is a prefix of the ledger\n", path,
			       (unsigned long long)th.cp.size);
		held_note(c, h, path, &th);
		if (!h->n || th.cp.size > h->max_size)
			h->max_size = th.cp.size;
		h->n++;
	}
	ml_buf_free(&report);
	free(note);
	return rc;
}

/* --state FILE: the last checkpoint this verifier accepted.  A ledger that
 * does not extend it fails; on success it moves up to the checkpoint of the
 * size just verified (never down).  Locked (FILE.lock) from the read to the
 * atomic replace, so concurrent verifiers never move it backwards. */
static int
check_state(struct cli *c, struct ml_ledger *l, const char *path, uint64_t verified,
	    struct held *h, struct ml_err *e)
{
	struct ml_out_rules r;
	struct held mine = *h;
	uint64_t size, was = 0;
	char *latest = NULL;
	int rc, lockfd = -1, exists = 0;

	/* Replacing the state file is its use (force), but never the ledger,
	 * its files or a secret key.  The trust policy is for --checkpoint:
	 * the state holds the ledger's own checkpoint, without cosignatures. */
	if ((rc = cli_out_rules(c, &r, e)))
		return rc;
	r.force = 1;
	if ((rc = ml_out_check(&r, "--state", path, 0, e)) ||
	    (rc = ml_state_stat(path, &exists, e)) ||
	    (rc = ml_state_lock(path, 60, &lockfd, e)) ||
	    (rc = ml_state_stat(path, &exists, e)))
		goto out;
	mine.pol = NULL;
	mine.n = 0;
	mine.max_size = 0;
	if (exists) {
		if ((rc = check_held(c, l, path, &mine, e)))
			goto out;
		was = mine.max_size;
		h->list = mine.list;
		if (!h->n || was > h->max_size)
			h->max_size = was;
		h->n++;
		h->nstate++;
	}
	rc = ml_tlog_checkpoint(l, (int64_t)verified, &size, &latest, e);
	if (rc == ML_EINPUT) /* no checkpoint of exactly that size is stored */
		rc = ml_tlog_checkpoint(l, -1, &size, &latest, e);
	if (rc)
		goto out;
	if (!exists)
		fprintf(stderr, "mlledger: verify: first use: no earlier state in %s; trusting "
			"size %llu\n", path, (unsigned long long)size);
	if (exists && size <= was) {
		if (!c->json)
			printf("ok: state %s stays at size %llu\n", path, (unsigned long long)was);
		goto out;
	}
	if ((rc = ml_write_file_atomic(path, latest, strlen(latest), 0644, 0, e)))
		goto out;
	if (!c->json)
		printf("ok: state %s moved to size %llu (was %s%llu)\n", path,
		       (unsigned long long)size, exists ? "" : "absent, ",
		       (unsigned long long)was);
out:
	ml_state_unlock(lockfd);
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

/* --bundle DIR: an anchor (--log-key, --trust, --checkpoint) read from
 * inside DIR comes from whoever made the bundle, so it anchors nothing:
 * refused (exit 2), also through a symbolic link.  A path that does not
 * resolve is left for its own reader to report. */
static int
anchors_outside(const struct cli *c, const char *bundle, struct ml_err *e)
{
	char *dir = realpath(bundle, NULL), *p;
	size_t n;
	int i, rc = ML_OK;

	if (!dir)
		return ML_OK; /* the bundle's own checks name it */
	n = strlen(dir);
	for (i = 0; rc == ML_OK && i < c->nopts; i++) {
		const char *name = c->opts[i].name;
		if (strcmp(name, "log-key") && strcmp(name, "trust") && strcmp(name, "checkpoint"))
			continue;
		if (!(p = realpath(c->opts[i].value, NULL)))
			continue;
		if (!strncmp(p, dir, n) && (p[n] == '/' || (n == 1 && dir[0] == '/')))
			rc = ml_err_set(e, ML_EINPUT, "--%s %s is inside the bundle %s: an anchor "
					"must be held outside it (the bundle's own log.pub, "
					"checkpoint or trust.policy come from whoever made it)",
					name, c->opts[i].value, bundle);
		free(p);
	}
	free(dir);
	return rc;
}

/* --log-key FILE: the auditor's own copy of the log key must be the
 * ledger's (and so the bundle's log.pub, which open_bundle compared). */
static int
check_log_key(struct ml_ledger *l, const char *path, struct ml_err *e)
{
	struct ml_pubkey k;
	char line[ML_VKEY_MAX];
	int rc;

	if ((rc = ml_pubkey_load(path, &k, e)))
		return rc;
	ml_pubkey_format(&k, line);
	if (strcmp(line, ml_ledger_logkey(l)) != 0)
		return ml_err_set(e, ML_EINTEGRITY, "%s: the ledger's log key is %.200s, not "
				  "this key: the ledger was rebuilt under another log key, or "
				  "is another log", path, ml_ledger_logkey(l));
	return ML_OK;
}

/* --trust POLICY with --bundle: one of the policy's logs must be the
 * bundle's log key (name and key), else the bundle's own key would do. */
static int
check_policy_log(struct ml_ledger *l, const char *trust, const struct ml_trust *pol,
		 struct ml_err *e)
{
	struct ml_pubkey own;
	const struct ml_pubkey *p;
	size_t i;

	if (ml_pubkey_parse(ml_ledger_logkey(l), strlen(ml_ledger_logkey(l)), &own, e))
		return ml_err_set(e, ML_EINTEGRITY, "meta log_key is not a verifier key");
	for (i = 0; i < ml_trust_nlogs(pol); i++) {
		p = ml_trust_log(pol, i);
		if (!strcmp(p->name, own.name) && !memcmp(p->pk, own.pk, sizeof own.pk))
			return ML_OK;
	}
	return ml_err_set(e, ML_EINTEGRITY, "%s: no log of the trust policy is the ledger's "
			  "log key %.200s: the ledger was rebuilt under another log key, or is "
			  "another log", trust, ml_ledger_logkey(l));
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
print_result(const struct cli *c, const struct ml_verify_result *res, double dt,
	     const struct held *h, json_t *tw)
{
	char hex[65];
	int after = h->n > 0 && res->entries > h->max_size;

	ml_hex_encode(res->head, sizeof res->head, hex);
	if (c->json) {
		json_t *un = after ? json_pack("{s:I, s:I, s:I, s:b}", "from",
					       (json_int_t)h->max_size, "to",
					       (json_int_t)(res->entries - 1), "afterSize",
					       (json_int_t)h->max_size, "witnessChecked",
					       h->pol != NULL)
				   : json_null();
		char *hs = json_dumps(h->list, JSON_COMPACT);
		char *us = un ? json_dumps(un, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		printf("{\"ok\":true,\"entries\":%llu,\"keysEnrolled\":%llu,\"keysRevoked\":%llu,"
		       "\"checkpoints\":%llu,\"heldCheckpoints\":%d,\"head\":\"sha256:%s\","
		       "\"seconds\":%.3f,\"held\":%s,\"notWitnessed\":%s",
		       (unsigned long long)res->entries, (unsigned long long)res->keys_enrolled,
		       (unsigned long long)res->keys_revoked, (unsigned long long)res->checkpoints,
		       h->n - h->nstate, hex, dt, hs ? hs : "[]", us ? us : "null");
		print_time_json(tw);
		printf("}\n");
		free(hs);
		free(us);
		json_decref(un);
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
	if (!after)
		return;
	if (res->entries - 1 == h->max_size)
		printf("note: entry %llu is after the newest %s checkpoint (size %llu): not "
		       "witnessed\n", (unsigned long long)h->max_size,
		       h->pol ? "witnessed" : "held", (unsigned long long)h->max_size);
	else
		printf("note: entries %llu..%llu are after the newest %s checkpoint (size %llu): "
		       "not witnessed\n", (unsigned long long)h->max_size,
		       (unsigned long long)(res->entries - 1), h->pol ? "witnessed" : "held",
		       (unsigned long long)h->max_size);
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
	struct ml_trust *pol = NULL;
	struct ml_trust_clock clk = {ml_now_us() / 1000000, ML_CLOCK_TOLERANCE_US / 1000000, 0};
	struct held held = {NULL, &clk, 0, 0, 0, NULL};
	struct ml_err e;
	const char *bundle, *trust, *age, *logkey;
	char path[4200], exporter[ML_KEYID_MAX], *manifest = NULL;
	size_t mlen = 0;
	double t0, dt;
	uint64_t replayed = 0;
	int rc, i, anchors = 0;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "jobs= checkpoint= state= bundle= trust= log-key= "
			    "max-witness-age= decisions time-tolerance= server= mirror=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger verify [--jobs N] [--checkpoint FILE]... [--state FILE]\n"
		     "                       [--trust POLICY] [--log-key LOG.pub] [--format text|json]\n"
		     "       mlledger verify --bundle DIR --log-key LOG.pub | --checkpoint HELD |\n"
		     "                       --trust POLICY\n\n"
		     "Recomputes every leaf hash and link, checks every entry against the rules\n"
		     "at its place (author key enrolled by an admin and not revoked, no\n"
		     "duplicates, immutable versions, known references), verifies every\n"
		     "signature on N threads (default: all cores), the Merkle tree and every\n"
		     "signed checkpoint, and the stored projection tables and schema.\n\n"
		     "--checkpoint FILE  a checkpoint held outside (from 'checkpoint' or an\n"
		     "                   auditor): the ledger must extend it, else exit 4 with\n"
		     "                   both checkpoints (truncation, rollback, fork)\n"
		     "--state FILE       the last checkpoint this verifier accepted; checked like\n"
		     "                   --checkpoint, then moved up to the size just verified\n"
		     "                   (never down; locked with FILE.lock; replaced atomically;\n"
		     "                   never the ledger, its -wal, -shm, -journal or log key, a\n"
		     "                   secret key, a symbolic link or a non-regular file: exit\n"
		     "                   2).  No FILE yet: first use, accepted and said on stderr\n"
		     "--trust POLICY     C2SP tlog-policy: held checkpoints must be signed by its\n"
		     "                   log and cosigned by its quorum of witnesses, with no\n"
		     "                   cosignature dated in the future (beyond 5 minutes)\n"
		     "--max-witness-age DURATION  with --trust: cosignatures older than DURATION\n"
		     "                   (30d, 12h, 90m, 45s) do not count (default: no limit;\n"
		     "                   the newest cosignature's age is printed)\n"
		     "--log-key LOG.pub  the auditor's own copy of the log key: the ledger's must\n"
		     "                   be this one (else exit 4)\n"
		     "--bundle DIR       verify an 'export' folder offline: its signed MANIFEST\n"
		     "                   (every file's SHA-256, nothing else in DIR), ledger,\n"
		     "                   log.pub, checkpoint, keys/ (exactly the enrolled keys),\n"
		     "                   policies/ and consistency.proof.  Needs an anchor held\n"
		     "                   outside DIR: --log-key, --checkpoint or --trust (whose\n"
		     "                   log must be the bundle's); without one it still checks\n"
		     "                   everything, warns \"nothing outside the bundle was\n"
		     "                   checked\" and exits 8.  An anchor inside DIR (its own\n"
		     "                   log.pub, checkpoint, trust.policy) is refused: exit 2\n"
		     "--decisions        also replay every recorded gate decision: rebuild its\n"
		     "                   evidence at its checkpoint and time, evaluate its\n"
		     "                   recorded policies with its recorded params, and require\n"
		     "                   the same verdict, findings and evidence digests\n"
		     "--time-tolerance H  author times more than H hours (default 24) before\n"
		     "                   their append time are listed as backdated\n\n"
		     "A checkpoint of another log (another origin or log key: the log was\n"
		     "replaced) exits 4.  verify names each held checkpoint's witnesses and the\n"
		     "entries after the newest held (witnessed, with --trust) checkpoint.\n\n"
		     "Time warnings (never failures): entries whose author time is more than\n"
		     "24 hours before or 5 minutes after their append time, and backfills (50\n"
		     "or more entries appended at most 1 s apart whose author times span more\n"
		     "than a day) are counted in a line, listed by --format json\n"
		     "(timeWarnings, backfills, ledgerStart; ledger/FORMAT.md §5).\n\n"
		     "With --server URL (or MLLEDGER_SERVER) and --log-key LOG.pub: first\n"
		     "brings the mirror (--mirror FILE, default as 'mlledger mirror') up to the\n"
		     "server's latest checkpoint, every entry and proof checked ('mlledger\n"
		     "mirror --help'; --state FILE as there), then verifies the mirror in full\n"
		     "as above.\n\n"
		     "Exit 0 when intact; 4 naming the first bad entry and why; 8 for a bundle\n"
		     "that verified with nothing outside it checked.");
		return ML_OK;
	}
	if (cli_server(&c)) {
		struct ml_remote_mirrored m;
		if (cli_get(&c, "bundle") || cli_get(&c, "trust"))
			return cli_failf(&c, ML_EINPUT, "--%s: not with --server (pin the server's "
					 "log with --log-key)",
					 cli_get(&c, "trust") ? "trust" : "bundle");
		if ((rc = cli_use_mirror(&c, &m, &e)))
			return cli_fail(&c, &e);
		if (!c.json)
			printf("ok: mirror %s: %llu entries (%llu new) from %s\n", c.ledger,
			       (unsigned long long)m.after, (unsigned long long)(m.after - m.before),
			       cli_server(&c));
	}
	{
		long n;
		if ((rc = cli_opt_long(&c, "jobs", 1, 64, 0, &n)))
			return rc;
		opts.jobs = (int)n;
	}
	if ((trust = cli_get(&c, "trust")) && cli_trust_load(trust, &pol, &e))
		return cli_fail(&c, &e);
	if ((age = cli_get(&c, "max-witness-age"))) {
		if (!trust || cli_duration(age, &clk.max_age) != 0) {
			ml_trust_free(pol);
			return cli_failf(&c, ML_EINPUT, "--max-witness-age: expected a duration such "
					 "as 30d, 12h, 90m or 45s, with --trust POLICY");
		}
	}
	held.pol = pol;
	if (cli_time_opts(&c, &to)) {
		ml_trust_free(pol);
		return ML_EINPUT;
	}
	bundle = cli_get(&c, "bundle");
	if (pol && !bundle && !cli_get(&c, "checkpoint")) {
		ml_trust_free(pol);
		return cli_failf(&c, ML_EINPUT, "--trust applies to checkpoints held outside: give "
				 "--checkpoint FILE or --bundle DIR");
	}
	if (!(held.list = json_array()) || !(opts.timecheck = ml_timecheck_new(&to))) {
		rc = ml_err_set(&e, ML_EIO, "out of memory");
		goto out;
	}
	if (bundle && (rc = anchors_outside(&c, bundle, &e)))
		goto out;
	/* The bundle's files against its manifest before SQLite reads any. */
	if (bundle && (rc = ml_bundle_check_files(bundle, &manifest, &mlen, &e)))
		goto out;
	/* This thread alone uses the connection: the signature workers never
	 * touch SQLite (verify.h). */
	rc = bundle ? open_bundle(&c, bundle, &l, &e)
		    : cli_open(&c, ML_STORE_ONE_THREAD, &l, &e);
	if (rc)
		goto out;
	logkey = cli_get(&c, "log-key");
	if (logkey) {
		if ((rc = check_log_key(l, logkey, &e)))
			goto out;
		anchors++;
	}
	if (bundle && pol) {
		if ((rc = check_policy_log(l, trust, pol, &e)))
			goto out;
		anchors++;
	}
	t0 = now_s();
	rc = ml_verify(l, &opts, &res, &e);
	dt = now_s() - t0;
	cli_progress_done();
	if (rc)
		goto out;
	if (bundle) {
		/* With --trust, the quorum's cosignatures may be on the bundle's
		 * checkpoint or on a --checkpoint the auditor holds. */
		snprintf(path, sizeof path, "%s/checkpoint", bundle);
		{
			const struct ml_trust *keep = held.pol;
			if (cli_get(&c, "checkpoint"))
				held.pol = NULL;
			rc = check_held(&c, l, path, &held, &e);
			held.pol = keep;
		}
		if (rc || (rc = check_bundle_keys(&c, l, bundle, &e)) ||
		    (rc = ml_bundle_check_manifest(l, bundle, manifest, mlen, exporter, &e)))
			goto out;
		if (!c.json)
			printf("ok: %s/MANIFEST lists every file, signed by the exporter %s\n",
			       bundle, exporter);
	}
	for (i = 0; i < c.nopts; i++) {
		if (strcmp(c.opts[i].name, "checkpoint"))
			continue;
		/* Against a bundle, a held checkpoint of another log is the
		 * bundle's fault (a rebuilt log), not the auditor's input. */
		if ((rc = check_held(&c, l, c.opts[i].value, &held, &e))) {
			if (bundle && rc == ML_EINPUT)
				e.code = rc = ML_EINTEGRITY;
			goto out;
		}
		anchors++;
	}
	if (cli_get(&c, "state") &&
	    (rc = check_state(&c, l, cli_get(&c, "state"), res.entries, &held, &e)))
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
	print_result(&c, &res, dt, &held, tw);
	if (cli_has(&c, "decisions") && !c.json)
		printf("ok: %llu gate decisions replayed to the same verdict and findings\n",
		       (unsigned long long)replayed);
	if (bundle && !anchors) {
		fprintf(stderr, "mlledger: verify: warning: nothing outside the bundle was "
			"checked: its log key, checkpoint and keys all come from %s, so a bundle "
			"rebuilt under a new log key passes too; give --log-key LOG.pub, "
			"--checkpoint HELD or --trust POLICY (exit 8)\n", bundle);
		rc = ML_EUNANCHORED;
	}
out:
	free(manifest);
	json_decref(tw);
	ml_timecheck_free(opts.timecheck);
	ml_trust_free(pol);
	json_decref(held.list);
	ml_ledger_close(l);
	if (rc == ML_EUNANCHORED)
		return rc;
	if (rc) {
		print_failure(&c, &e);
		return cli_fail(&c, &e);
	}
	return ML_OK;
}

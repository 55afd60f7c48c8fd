/* cli_record — record, sign, submit and import. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "artifact.h"
#include "cli.h"
#include "remote.h"
#include "gate.h"
#include "request.h"
#include "statement.h"

#define RECORD_SPEC                                                                   \
	"key= passphrase-file= file= artifact= digest= uri= set= metric= dataset= "    \
	"parent= env= decision= comment= rule= expires= reason= ticket= severity= "    \
	"description= jobs= idempotency-key= server= log-key= trust= state= mirror="

/* Which options each kind takes, beyond --key and --format. */
static const struct {
	enum ml_kind kind;
	const char *opts;
} kind_opts[] = {
	{ML_KIND_DATASET, "file artifact digest uri set jobs"},
	{ML_KIND_MODEL, "artifact file digest dataset parent metric set jobs"},
	{ML_KIND_EVALUATION, "metric dataset set digest"},
	{ML_KIND_APPROVAL, "env decision comment digest"},
	{ML_KIND_DEPLOYMENT, "env set digest"},
	{ML_KIND_MONITORING, "env metric set digest"},
	{ML_KIND_WAIVER, "rule expires reason ticket digest"},
	{ML_KIND_RETIREMENT, "env reason digest"},
	{ML_KIND_INCIDENT, "severity description digest"},
};

static const char record_usage[] =
	"usage: mlledger record KIND NAME@VERSION [options] --key K.key [--format text|json]\n"
	"       mlledger sign KIND NAME@VERSION [options] --key K.key --out FILE [--force]\n"
	"                     [--origin ORIGIN]\n"
	"       mlledger sign --countersign ENVELOPE --key K.key --out FILE [--pub S.pub]...\n"
	"             [--force]\n"
	"\n"
	"  dataset     (--file PATH | --digest sha256:HEX) [--uri URI] [--set k=v]...\n"
	"  model       (--artifact PATH | --digest sha256:HEX) [--dataset N@V]... [--parent N@V]\n"
	"              [--metric k=v]... [--set k=v]...\n"
	"  evaluation  --metric k=v... [--dataset N@V] [--set k=v]...\n"
	"  approval    --env ENV --decision approve|reject [--comment TEXT]\n"
	"  deployment  --env ENV [--set k=v]...\n"
	"  monitoring  --env ENV --metric k=v... [--set k=v]...\n"
	"  waiver      --rule RULE-ID --expires YYYY-MM-DD --reason TEXT [--ticket ID]\n"
	"  retirement  --env ENV --reason TEXT\n"
	"  incident    --severity low|medium|high|critical --description TEXT\n"
	"\n"
	"--file/--artifact take a file or a folder (per-file SHA-256, sorted manifest, one\n"
	"root digest; --jobs N threads).  Kinds about a model carry the model's recorded\n"
	"digest (or --digest when signing offline).  Values of --set/--metric become JSON\n"
	"numbers when they parse as numbers, true/false booleans, otherwise strings;\n"
	"a value in double quotes is always a string (--set 'dpia=\"2024-17\"').\n"
	"record prints SEQ sha256:LEAFHASH.\n"
	"\n"
	"--idempotency-key K (1-128 of [A-Za-z0-9._:-]) names the request in the signed\n"
	"statement: a retry with the same K and the same content (the time aside)\n"
	"prints the entry already recorded (exit 0, \"already recorded at seq N\" on\n"
	"stderr); the same K with other content exits 7 (conflict), naming that seq.\n"
	"Without it, a fresh random key is used, so two records are two entries.\n"
	"Every statement names the ledger it is for (its origin): record takes it from\n"
	"the ledger; sign from --origin ORIGIN or, without it, from the ledger when one\n"
	"is reachable (--ledger, MLLEDGER_LEDGER); submit refuses another ledger's.\n"
	"sign writes the envelope to FILE (temporary name, then renamed); an existing\n"
	"FILE is replaced only with --force, and never the ledger, its -wal, -shm,\n"
	"-journal or log key, or a secret key (exit 2).\n"
	"sign --countersign adds a signature by --key to ENVELOPE (dual control: an entry\n"
	"kind the governance's dualControl lists needs K admins, FORMAT.md §5 rule 13)\n"
	"after verifying the signatures it holds, with their keys from the ledger when\n"
	"there is one, else from --pub files (exit 6 when one is missing or bad); it\n"
	"prints the statement on stderr.  Without a ledger, whether the signers are\n"
	"enrolled is left to 'submit'.  A key signs an envelope once (exit 2).\n"
	"With --server URL (or MLLEDGER_SERVER), --log-key LOG.pub [--state FILE]\n"
	"[--mirror FILE], record and sign look up digests and the origin in the\n"
	"mirror ('mlledger mirror --help'; brought up to the server's latest\n"
	"checkpoint first, every entry checked); record signs here (the key never\n"
	"leaves this host), posts the envelope (POST /add) and checks the proof.\n"
	"Exit codes: 0 ok, 2 bad input, 4 fork, rollback or a bad proof from the\n"
	"server, 5 storage or network error, 6 key error, 7 conflict.\n";

static int
opt_allowed(enum ml_kind kind, const char *name)
{
	static const char always[] =
		" key passphrase-file ledger format help out force idempotency-key origin "
		"server log-key trust state mirror ";
	char pad[80];
	size_t i;

	snprintf(pad, sizeof pad, " %s ", name);
	if (strstr(always, pad))
		return 1;
	for (i = 0; i < sizeof kind_opts / sizeof kind_opts[0]; i++) {
		if (kind_opts[i].kind == kind) {
			char list[128];
			snprintf(list, sizeof list, " %s ", kind_opts[i].opts);
			return strstr(list, pad) != NULL;
		}
	}
	return 0;
}

struct resolver {
	struct ml_ledger *l;
};

static int
resolve_ledger(void *ctx, const char *kind, const char *ref, uint8_t digest[ML_SHA256_LEN],
	       struct ml_err *e)
{
	struct resolver *r = ctx;
	int64_t seq;

	if (!r->l)
		return ml_err_set(e, ML_EINPUT, "%s %s: no ledger at hand to look up its digest "
				  "(give --digest or --ledger)", kind, ref);
	return ml_ledger_subject(r->l, kind, ref, digest, &seq, e);
}

/* Hashes --file/--artifact into req's digest and artifact members. */
static int
hash_artifact(const struct cli *c, const char *path, json_t *req, struct ml_err *e)
{
	struct ml_artifact *a = NULL;
	char hex[65], digest[72];
	const char *jobs = cli_get(c, "jobs");
	json_t *art, *files;
	size_t i;
	int rc;

	rc = ml_artifact_hash(path, jobs ? atoi(jobs) : 0, cli_progress, "hashing", &a, e);
	cli_progress_done();
	if (rc)
		return rc;
	ml_hex_encode(a->digest, sizeof a->digest, hex);
	snprintf(digest, sizeof digest, "sha256:%s", hex);
	art = json_pack("{s:s, s:I}", "type", a->is_dir ? "directory" : "file", "size",
			(json_int_t)a->total_bytes);
	if (a->is_dir) {
		files = json_array();
		for (i = 0; i < a->nfiles; i++) {
			ml_hex_encode(a->files[i].sha256, ML_SHA256_LEN, hex);
			json_array_append_new(files, json_pack("{s:s, s:s, s:I}", "path",
							       a->files[i].path, "sha256", hex, "size",
							       (json_int_t)a->files[i].size));
		}
		json_object_set_new(art, "files", files);
	}
	json_object_set_new(req, "digest", json_string(digest));
	json_object_set_new(req, "artifact", art);
	ml_artifact_free(a);
	return ML_OK;
}

static int
add_kvs(const struct cli *c, json_t *req, const char *opt, const char *member,
	struct ml_err *e)
{
	json_t *obj = NULL;
	char flag[32];
	int i, rc;

	snprintf(flag, sizeof flag, "--%s", opt); /* errors name the option */
	for (i = 0; i < c->nopts; i++) {
		if (strcmp(c->opts[i].name, opt))
			continue;
		if (!obj)
			obj = json_object();
		if ((rc = ml_request_add_kv(obj, c->opts[i].value, flag, e))) {
			json_decref(obj);
			return rc;
		}
	}
	if (obj)
		json_object_set_new(req, member, obj);
	return ML_OK;
}

/* --idempotency-key K, or a fresh random one (32 hex digits), so that two
 * honest records of the same content in the same second are two entries
 * and not a retry (FORMAT.md §2, "Retries"). */
static int
add_idempotency_key(const struct cli *c, json_t *req, struct ml_err *e)
{
	const char *k = cli_get(c, "idempotency-key");
	uint8_t rnd[16];
	char hex[33];

	if (k && !ml_idempotency_key_valid(k, strlen(k)))
		return ml_err_set(e, ML_EINPUT, "--idempotency-key: 1-%d of [A-Za-z0-9._:-]",
				  ML_IDEMPOTENCY_KEY_MAX);
	if (!k) {
		randombytes_buf(rnd, sizeof rnd);
		ml_hex_encode(rnd, sizeof rnd, hex);
		k = hex;
	}
	if (json_object_set_new(req, ML_IDEMPOTENCY_MEMBER, json_string(k)) != 0)
		return ml_err_set(e, ML_EIO, "out of memory");
	return ML_OK;
}

/* Turns the command line into a request object (README "Import format"). */
static int
request_from_cli(const struct cli *c, enum ml_kind kind, json_t **out, struct ml_err *e)
{
	json_t *req = json_pack("{s:s, s:s}", "kind", ml_kind_name(kind), "subject", c->args[1]);
	json_t *ds = NULL;
	const char *path = cli_get(c, "file") ? cli_get(c, "file") : cli_get(c, "artifact");
	size_t i;
	int k, rc;

	if (!req)
		return ml_err_set(e, ML_EINPUT, "NAME@VERSION: invalid UTF-8");
	for (k = 0; k < c->nopts; k++)
		if (!opt_allowed(kind, c->opts[k].name)) {
			json_decref(req);
			return ml_err_set(e, ML_EINPUT, "--%s is not an option of %s %s",
					  c->opts[k].name, c->cmd, ml_kind_name(kind));
		}
	for (i = 0; cli_members[i].opt; i++) {
		const char *v = cli_members[i].copy ? cli_get(c, cli_members[i].opt) : NULL;
		if (v && json_object_set_new(req, cli_members[i].member, json_string(v)) != 0) {
			json_decref(req);
			return ml_err_set(e, ML_EINPUT, "--%s: invalid UTF-8", cli_members[i].opt);
		}
	}
	for (k = 0; k < c->nopts; k++) {
		if (strcmp(c->opts[k].name, "dataset"))
			continue;
		if (!ds)
			ds = json_array();
		json_array_append_new(ds, json_string(c->opts[k].value));
	}
	if (ds && kind == ML_KIND_EVALUATION) {
		if (json_array_size(ds) != 1) {
			json_decref(ds);
			json_decref(req);
			return ml_err_set(e, ML_EINPUT, "evaluation takes one --dataset");
		}
		json_object_set(req, "dataset", json_array_get(ds, 0));
		json_decref(ds);
	} else if (ds) {
		json_object_set_new(req, "datasets", ds);
	}
	if ((path && cli_get(c, "digest")) ||
	    ((kind == ML_KIND_DATASET || kind == ML_KIND_MODEL) && !path && !cli_get(c, "digest"))) {
		json_decref(req);
		return ml_err_set(e, ML_EINPUT, "give exactly one of --%s PATH and --digest "
				  "sha256:HEX", kind == ML_KIND_MODEL ? "artifact" : "file");
	}
	if ((rc = add_idempotency_key(c, req, e)) ||
	    (rc = add_kvs(c, req, "set", "properties", e)) ||
	    (rc = add_kvs(c, req, "metric", "metrics", e)) ||
	    (path && (rc = hash_artifact(c, path, req, e)))) {
		json_decref(req);
		return rc;
	}
	*out = req;
	return ML_OK;
}

/* Builds and signs the statement the command line describes. */
static int
sign_from_cli(struct cli *c, struct ml_ledger *l, struct ml_seckey *k, struct ml_buf *env,
	      struct ml_err *e)
{
	struct resolver r = {l};
	struct ml_buf payload = {0};
	enum ml_kind kind;
	json_t *req = NULL;
	int rc;

	if (c->nargs != 2)
		return ml_err_set(e, ML_EINPUT, "expected KIND NAME@VERSION (see --help)");
	if (ml_kind_parse(c->args[0], &kind) != 0 || kind <= ML_KIND_KEY_REVOCATION ||
	    kind >= ML_KIND_GATE)
		return ml_err_set(e, ML_EINPUT, "unknown kind \"%.40s\" (dataset, model, "
				  "evaluation, approval, deployment, monitoring, waiver, "
				  "retirement, incident)", c->args[0]);
	{
		char n[129], v[65];
		if (ml_ref_split(c->args[1], n, v) != 0)
			return ml_err_set(e, ML_EINPUT, "\"%.100s\" is not NAME@VERSION (NAME: "
					  "[A-Za-z0-9._/-], VERSION: [A-Za-z0-9._+-])", c->args[1]);
	}
	if ((rc = request_from_cli(c, kind, &req, e)))
		return rc;
	/* the statement names the ledger it is for (FORMAT.md §2, "Origin") */
	if ((rc = ml_request_bind_origin(req, l ? ml_ledger_origin(l) : cli_get(c, "origin"),
					 NULL, e))) {
		json_decref(req);
		return rc;
	}
	if ((rc = ml_request_build(req, resolve_ledger, &r, ml_now_us(), &kind, &payload, e)))
		cli_flag_error(e);
	json_decref(req);
	if (rc == ML_OK)
		rc = ml_envelope_sign(k, payload.data, payload.len, env, e);
	ml_buf_free(&payload);
	return rc;
}

/* record --server: the statement is built against the mirror (digests of
 * recorded versions, the origin), signed here, posted (POST /add), its
 * proof and the state checked. */
static int
record_remote(struct cli *c, struct ml_err *e)
{
	struct ml_ledger *l = NULL;
	struct ml_seckey *k = NULL;
	struct ml_remote *r = NULL;
	struct ml_remote_added a;
	struct ml_appended out;
	struct ml_buf env = {0};
	int rc;

	memset(&a, 0, sizeof a);
	if ((rc = cli_load_key(c, &k, e)) || (rc = cli_use_mirror(c, NULL, e)) ||
	    (rc = cli_open(c, 0, &l, e)) || (rc = sign_from_cli(c, l, k, &env, e)) ||
	    (rc = cli_remote_open(c, &r, e)) ||
	    (rc = ml_remote_submit(r, env.data, env.len, ML_REMOTE_ATTEMPTS, &a, e)) ||
	    (rc = cli_remote_state(c, r, &a.ck, 0, e)))
		goto out;
	out.seq = a.seq;
	memcpy(out.leaf, a.leaf, sizeof out.leaf);
	out.time_us = a.time_us;
	out.existing = a.existing;
	cli_print_appended(c, &out, NULL);
out:
	ml_remote_added_free(&a);
	ml_remote_close(r);
	ml_ledger_close(l);
	ml_seckey_free(k);
	ml_buf_free(&env);
	return rc;
}

int
cmd_record(int argc, char **argv)
{
	struct cli c = {.cmd = "record"};
	struct ml_ledger *l = NULL;
	struct ml_seckey *k = NULL;
	struct ml_buf env = {0};
	struct ml_append_item item = {0};
	struct ml_appended out;
	struct ml_err e;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, RECORD_SPEC)))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(record_usage, stdout);
		return ML_OK;
	}
	if (cli_server(&c)) {
		rc = record_remote(&c, &e);
		goto out;
	}
	if ((rc = cli_open(&c, 1, &l, &e)) || (rc = cli_load_key(&c, &k, &e)) ||
	    (rc = sign_from_cli(&c, l, k, &env, &e)))
		goto out;
	item.envelope = env.data;
	item.len = env.len;
	item.signed_by = ml_seckey_public(k);
	item.statement = NULL;
	if ((rc = ml_ledger_append(l, &item, 1, &out, &e)) == ML_OK)
		cli_print_appended(&c, &out, NULL);
out:
	ml_seckey_free(k);
	ml_ledger_close(l);
	ml_buf_free(&env);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cmd_sign(int argc, char **argv)
{
	struct cli c = {.cmd = "sign"};
	struct ml_ledger *l = NULL;
	struct ml_seckey *k = NULL;
	struct ml_buf env = {0};
	struct ml_err e;
	struct stat st;
	const char *outp;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, RECORD_SPEC " out= force countersign= pub= origin=")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(record_usage, stdout);
		return ML_OK;
	}
	if (cli_get(&c, "countersign"))
		return cli_countersign(&c);
	if (!(outp = cli_get(&c, "out")))
		return cli_failf(&c, ML_EINPUT, "--out FILE is required");
	if ((rc = cli_out_check(&c, "--out", outp, 0, &e)))
		return cli_fail(&c, &e);
	if (cli_server(&c) && (rc = cli_use_mirror(&c, NULL, &e)))
		return cli_fail(&c, &e);
	/* The ledger is optional here: with one, digests are looked up and the
	 * envelope is checked as its append would be (governance, roles,
	 * references), so what `submit` would refuse is not signed. */
	if (stat(c.ledger, &st) == 0 && (rc = cli_open(&c, 0, &l, &e)))
		goto out;
	if (!l && !cli_get(&c, "origin")) {
		rc = ml_err_set(&e, ML_EINPUT, "the statement must name the ledger it is for: give "
				"--origin ORIGIN ('mlledger log-key' prints ORIGIN+...), or the "
				"ledger with --ledger");
		goto out;
	}
	if (l && cli_get(&c, "origin") && strcmp(cli_get(&c, "origin"), ml_ledger_origin(l))) {
		rc = ml_err_set(&e, ML_EINPUT, "--origin %.128s is not the origin of the ledger "
				"%s (%s)", cli_get(&c, "origin"), c.ledger, ml_ledger_origin(l));
		goto out;
	}
	if ((rc = cli_load_key(&c, &k, &e)) || (rc = sign_from_cli(&c, l, k, &env, &e)))
		goto out;
	/* checked as submit would, short signatures under dual control aside */
	rc = cli_envelope_out(&c, l, &env, NULL, NULL, &e);
out:
	ml_seckey_free(k);
	ml_ledger_close(l);
	ml_buf_free(&env);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

/* A gate decision is appended only when it replays (ledger/FORMAT.md §5
 * rule 12): computed on another host, it can never say what the ledger's
 * policies would not. */
static int
replay_gates(struct ml_ledger *l, const struct ml_append_item *items, int n, struct ml_err *e)
{
	struct ml_envelope env;
	struct ml_statement st;
	uint8_t last[ML_SHA256_LEN];
	uint64_t head, size;
	int64_t last_time;
	int i, rc;

	if ((rc = ml_store_head(ml_ledger_store(l), &head, last, &last_time, e)))
		return rc;
	for (i = 0; i < n && rc == ML_OK; i++) {
		if (ml_envelope_parse(items[i].envelope, items[i].len, &env, NULL) != ML_OK)
			continue; /* the append says why */
		if (ml_statement_parse(env.payload, env.payload_len, &st, NULL) == ML_OK) {
			size = (uint64_t)json_integer_value(json_object_get(
				json_object_get(st.predicate, "ledger"), "size"));
			/* one claiming more than came before it: rule 8 says so */
			if (st.kind == ML_KIND_GATE && size <= head + (uint64_t)i &&
			    (rc = ml_gate_replay(l, &st, e)))
				e->index = i;
			ml_statement_free(&st);
		}
		ml_envelope_clear(&env);
	}
	return rc;
}

/* submit --server: each file posted (POST /add) and its proof verified,
 * then the state.  Stops at the first refusal; those before stay
 * appended (each is its own entry on the server). */
static int
submit_remote(struct cli *c, struct ml_err *e)
{
	struct ml_remote *r = NULL;
	struct ml_remote_added a;
	struct ml_appended out;
	char *buf = NULL;
	size_t len;
	int i, rc;

	if ((rc = cli_remote_open(c, &r, e)))
		return rc;
	for (i = 0; i < c->nargs && rc == ML_OK; i++) {
		memset(&a, 0, sizeof a);
		if ((rc = ml_read_file(c->args[i], ML_MAX_ENVELOPE + 2, &buf, &len, e)))
			break;
		rc = ml_remote_submit(r, (const uint8_t *)buf, len, ML_REMOTE_ATTEMPTS, &a, e);
		free(buf);
		buf = NULL;
		if (rc == ML_OK)
			rc = cli_remote_state(c, r, &a.ck, 0, e);
		if (rc) {
			char msg[sizeof e->msg];
			snprintf(msg, sizeof msg, "%s", e->msg);
			ml_err_set(e, rc, "%s: %.300s", c->args[i], msg);
			ml_remote_added_free(&a);
			break;
		}
		out.seq = a.seq;
		memcpy(out.leaf, a.leaf, sizeof out.leaf);
		out.time_us = a.time_us;
		out.existing = a.existing;
		cli_print_appended(c, &out, c->args[i]);
		ml_remote_added_free(&a);
	}
	ml_remote_close(r);
	return rc;
}

int
cmd_submit(int argc, char **argv)
{
	struct cli c = {.cmd = "submit"};
	struct ml_append_item *items = NULL;
	struct ml_appended *out = NULL;
	struct ml_ledger *l = NULL;
	char **bufs = NULL;
	struct ml_err e;
	int i, rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "server= log-key= trust= state=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger submit FILE...\n"
		     "       mlledger submit --server URL --log-key LOG.pub [--state FILE] FILE...\n"
		     "\nAppends DSSE envelopes made by "
		     "'mlledger sign' (or any DSSE signer), all in one\ntransaction: every "
		     "file is checked as 'verify' would check it, or none is written.\n"
		     "An envelope the ledger already holds (the same statement by the same\n"
		     "key, or the same idempotencyKey and content) is not written again:\n"
		     "\"FILE: already recorded at seq N\" on stderr, exit 0.  An envelope may carry\n"
		     "countersignatures ('mlledger sign --countersign'): every one must verify,\n"
		     "and kinds under the governance's dualControl need K admins (persons).\n"
		     "Exit codes: 2 bad input, 5 storage error, 6 key error (a signature that\n"
		     "does not verify, too few admins), 7 conflict (an idempotencyKey already\n"
		     "names other content).\n\n"
		     "With --server URL (or MLLEDGER_SERVER), each FILE is posted to the\n"
		     "ledger server ('mlledger serve', POST /add) in turn, as its own entry:\n"
		     "the answer's inclusion proof is checked against a checkpoint signed by\n"
		     "LOG.pub for the leaf rebuilt from the envelope sent, and with --state FILE\n"
		     "that checkpoint must be consistent with the last one accepted (exit 4:\n"
		     "fork, rollback, a bad proof).  503 and lost connections are retried (the\n"
		     "server answers a retry with the entry it holds).  The first refusal stops\n"
		     "(the files before it stay appended); its line is the server's, exit code\n"
		     "as above (5 for a server or network error).");
		return ML_OK;
	}
	if (c.nargs == 0)
		return cli_failf(&c, ML_EINPUT, "expected one or more envelope files");
	if (cli_server(&c))
		return (rc = submit_remote(&c, &e)) ? cli_fail(&c, &e) : ML_OK;
	items = calloc((size_t)c.nargs, sizeof *items);
	out = calloc((size_t)c.nargs, sizeof *out);
	bufs = calloc((size_t)c.nargs, sizeof *bufs);
	if (!items || !out || !bufs) {
		rc = ml_err_set(&e, ML_EIO, "out of memory");
		goto done;
	}
	for (i = 0; i < c.nargs; i++) {
		size_t len;
		if ((rc = ml_read_file(c.args[i], ML_MAX_ENVELOPE + 2, &bufs[i], &len, &e)))
			goto done;
		while (len && (bufs[i][len - 1] == '\n' || bufs[i][len - 1] == '\r'))
			len--;
		items[i].envelope = (const uint8_t *)bufs[i];
		items[i].len = len;
	}
	if ((rc = cli_open(&c, 1, &l, &e)))
		goto done;
	if ((rc = replay_gates(l, items, c.nargs, &e)) ||
	    (rc = ml_ledger_append(l, items, (size_t)c.nargs, out, &e))) {
		char msg[sizeof e.msg];
		snprintf(msg, sizeof msg, "%s", e.msg);
		if (e.index >= 0 && e.index < c.nargs)
			ml_err_set(&e, rc, "%s: %s (nothing was written)", c.args[e.index], msg);
		else
			ml_err_set(&e, rc, "%s (nothing was written)", msg);
		e.index = -1;
		goto done;
	}
	for (i = 0; i < c.nargs; i++)
		cli_print_appended(&c, &out[i], c.args[i]);
done:
	for (i = 0; bufs && i < c.nargs; i++)
		free(bufs[i]);
	free(bufs);
	free(items);
	free(out);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

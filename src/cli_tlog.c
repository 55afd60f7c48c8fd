/* cli_tlog — checkpoint, log-key, prove, verify-proof, verify-consistency,
 * cosign, export. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bundle.h"
#include "cli.h"
#include "note.h"
#include "note_checkpoint.h"
#include "note_cosig.h"
#include "note_proof.h"
#include "note_trust.h"
#include "output.h"
#include "pgstore.h"
#include "remote.h"
#include "tlog.h"
#include "witness.h"

/* Parses a decimal size or seq; ML_OK, or ML_EINPUT. */
static enum ml_rc
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return ML_EINPUT;
	*out = strtoull(s, &end, 10);
	return *end ? ML_EINPUT : ML_OK;
}

static int
opt_size(struct cli *c, int64_t *n)
{
	const char *v = cli_get(c, "size");
	uint64_t u;

	*n = -1;
	if (!v)
		return ML_OK;
	if (parse_u64(v, &u) != 0 || u > INT64_MAX)
		return cli_failf(c, ML_EINPUT, "--size: expected a tree size");
	*n = (int64_t)u;
	return ML_OK;
}

int
cmd_checkpoint(int argc, char **argv)
{
	struct cli c = {.cmd = "checkpoint"};
	struct ml_ledger *l;
	struct ml_err e;
	uint64_t size;
	char *note = NULL;
	int64_t n;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "size= server= log-key= trust= state=")) ||
	    (rc = opt_size(&c, &n)))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger checkpoint [--size N]\n"
		     "       mlledger checkpoint --server URL --log-key LOG.pub [--state FILE]\n\n"
		     "Prints the latest signed checkpoint (a C2SP tlog-checkpoint in a signed\n"
		     "note, signed by the log key), or the stored one of tree size N.\n\n"
		     "With --server URL (or MLLEDGER_SERVER): the server's latest, checked\n"
		     "against the log key LOG.pub (exit 4 when it is of another log or not\n"
		     "signed by it); with --state FILE (the last checkpoint this client\n"
		     "accepted, per log) it must be consistent with the state (the server's\n"
		     "consistency proof is checked), and the state moves up to it.  A smaller\n"
		     "tree, another root at the same size or a bad proof: exit 4 (fork or\n"
		     "rollback), the state unchanged.");
		return ML_OK;
	}
	if (cli_server(&c)) {
		struct ml_remote *r = NULL;
		struct ml_remote_ckpt ck = {0};
		if (n >= 0)
			return cli_failf(&c, ML_EINPUT, "--size: not with --server");
		if ((rc = cli_remote_open(&c, &r, &e)) == ML_OK &&
		    (rc = cli_remote_latest(&c, r, &ck, &e)) == ML_OK)
			fputs(ck.note, stdout);
		ml_remote_ckpt_free(&ck);
		ml_remote_close(r);
		return rc ? cli_fail(&c, &e) : ML_OK;
	}
	if ((rc = cli_open(&c, 0, &l, &e)))
		return cli_fail(&c, &e);
	if ((rc = ml_tlog_checkpoint(l, n, &size, &note, &e)) == ML_OK)
		fputs(note, stdout);
	free(note);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cmd_log_key(int argc, char **argv)
{
	struct cli c = {.cmd = "log-key"};
	struct ml_ledger *l;
	struct ml_err e;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger log-key\n\nPrints the log's verifier key line (C2SP "
		     "signed-note), named by the origin.");
		return ML_OK;
	}
	if ((rc = cli_open(&c, 0, &l, &e)))
		return cli_fail(&c, &e);
	puts(ml_ledger_logkey(l));
	ml_ledger_close(l);
	return ML_OK;
}

int
cmd_prove(int argc, char **argv)
{
	struct cli c = {.cmd = "prove"};
	struct ml_ledger *l;
	struct ml_buf out = {0};
	struct ml_err e;
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
	const char *old;
	uint64_t seq = 0, m = 0, to;
	size_t len, i;
	int64_t n;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "size= consistency="" server= log-key= trust= state= mirror=")) || (rc = opt_size(&c, &n)))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger prove SEQ [--size N]\n"
		     "       mlledger prove --consistency OLD [--size NEW]\n\n"
		     "The first prints a c2sp.org/tlog-proof@v1 bundle: entry SEQ's inclusion\n"
		     "proof in the tree of the stored checkpoint of size N (default: the latest),\n"
		     "and that checkpoint.  'show SEQ --format raw' gives the leaf bytes it\n"
		     "proves.  The second prints the RFC 9162 consistency proof from tree size\n"
		     "OLD to NEW (default: the current size), one base64 hash a line.\n\n"
		     "With --server URL (or MLLEDGER_SERVER) and --log-key LOG.pub|--trust POLICY\n"
		     "[--state FILE] [--mirror FILE]: reads the mirror, first brought up to the\n"
		     "server's latest checkpoint ('mlledger mirror --help').");
		return ML_OK;
	}
	old = cli_get(&c, "consistency");
	if (old ? (c.nargs != 0 || parse_u64(old, &m) != 0)
		: (c.nargs != 1 || parse_u64(c.args[0], &seq) != 0))
		return cli_failf(&c, ML_EINPUT, "expected SEQ, or --consistency OLD (see --help)");
	if (cli_server(&c) && (rc = cli_use_mirror(&c, NULL, &e)))
		return cli_fail(&c, &e);
	if ((rc = cli_open(&c, 0, &l, &e)))
		return cli_fail(&c, &e);
	if (old) {
		rc = ml_tlog_consistency(l, m, n, &to, proof, &len, &e);
		for (i = 0; rc == ML_OK && i < len; i++) {
			char *b = ml_b64_encode(proof[i], ML_SHA256_LEN);
			puts(b ? b : "");
			free(b);
		}
	} else if ((rc = ml_tlog_prove(l, seq, n, &out, &e)) == ML_OK) {
		fwrite(out.data, 1, out.len, stdout);
	}
	ml_buf_free(&out);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cmd_verify_proof(int argc, char **argv)
{
	struct cli c = {.cmd = "verify-proof"};
	struct ml_pubkey k;
	struct ml_err e;
	char *bundle = NULL, *leaf = NULL;
	size_t blen, llen;
	uint64_t index;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "log-key=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger verify-proof --log-key LOG.pub PROOF LEAF\n\n"
		     "Offline, without the ledger: checks that PROOF (a c2sp.org/tlog-proof@v1\n"
		     "bundle from 'prove') proves LEAF (the bytes of 'show SEQ --format raw')\n"
		     "under a checkpoint signed by the log key.  Exit 0, or 4 when it does not.");
		return ML_OK;
	}
	if (c.nargs != 2 || !cli_get(&c, "log-key"))
		return cli_failf(&c, ML_EINPUT, "expected --log-key LOG.pub PROOF LEAF");
	if ((rc = ml_pubkey_load(cli_get(&c, "log-key"), &k, &e)) ||
	    (rc = ml_read_file(c.args[0], ML_TLOG_PROOF_MAX, &bundle, &blen, &e)) ||
	    (rc = ml_read_file(c.args[1], ML_MAX_ENVELOPE + 64, &leaf, &llen, &e)))
		goto out;
	if ((rc = ml_tlog_verify_proof(&k, bundle, blen, (const uint8_t *)leaf, llen, &index,
				       &e)) == ML_OK && c.json)
		rc = cli_print_json(json_pack("{s:b, s:I, s:s}", "ok", 1, "index",
					      (json_int_t)index, "origin", k.name),
				    &e);
	else if (rc == ML_OK)
		printf("ok: the leaf is entry %" PRIu64 " of the log %s\n", index, k.name);
out:
	free(bundle);
	free(leaf);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

/* Reads and parses a consistency proof file (one base64 hash a line). */
static int
read_proof(const char *path, uint8_t proof[][ML_SHA256_LEN], size_t *len, struct ml_err *e)
{
	char *text = NULL;
	size_t tlen;
	int rc;

	if ((rc = ml_read_file(path, (ML_PROOF_MAX + 1) * 46, &text, &tlen, e)))
		return rc;
	if ((rc = ml_tlog_hashes_parse(text, tlen, proof, len, e)))
		ml_err_prefix(e, rc, path);
	free(text);
	return rc;
}

/* Reads and checks one checkpoint note of the log; errors name the file. */
static int
read_checkpoint(const char *path, const struct ml_pubkey *logk, char **note, size_t *len,
		struct ml_checkpoint *cp, struct ml_err *e)
{
	int rc;

	if ((rc = ml_read_file(path, ML_NOTE_MAX, note, len, e)))
		return rc;
	if ((rc = ml_tlog_note_of(logk, *note, *len, cp, e))) {
		free(*note);
		*note = NULL;
		return ml_err_prefix(e, rc, path);
	}
	return ML_OK;
}

int
cmd_cosign(int argc, char **argv)
{
	struct cli c = {.cmd = "cosign"};
	struct ml_seckey *k = NULL;
	struct ml_buf out = {0};
	struct ml_out_rules r;
	struct ml_pubkey logk;
	struct ml_checkpoint next;
	struct ml_witness_state st = {.lockfd = -1};
	struct ml_err e;
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
	const char *state, *outp;
	char *note = NULL;
	size_t len, plen = 0;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv,
			    "key= passphrase-file= out= log-key= state= proof= init force")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger cosign --key WITNESS.key --log-key LOG.pub --state FILE\n"
		     "                       [--init] [--proof PROOF] CHECKPOINT [--out FILE [--force]]\n\n"
		     "Acts as a witness (C2SP tlog-witness, offline): checks that CHECKPOINT is\n"
		     "signed by the log key and consistent with the last checkpoint this witness\n"
		     "cosigned for that log, kept in the state FILE (one file per log), then\n"
		     "adds a C2SP tlog-cosignature (type 0x04, timestamped Ed25519) by the\n"
		     "witness key, records the note in FILE and prints it (or writes --out).\n\n"
		     "--state FILE  required: the witness's memory of this log (a signed note;\n"
		     "              locked with FILE.lock while read, checked and replaced)\n"
		     "--init        first use: FILE does not exist yet (said on stderr); refused\n"
		     "              when FILE exists\n"
		     "--proof PROOF the RFC 9162 consistency proof from the state's size to\n"
		     "              CHECKPOINT's ('mlledger prove --consistency OLD --size NEW'),\n"
		     "              needed when CHECKPOINT is larger than the state\n\n"
		     "Refused with exit 4 (one line naming both sizes and roots): a smaller size\n"
		     "than the state (rollback), the same size with another root (fork), a proof\n"
		     "that does not verify, a checkpoint of another log or not signed by it.  The\n"
		     "same checkpoint again is cosigned again.  Exit 2 for a missing --state,\n"
		     "--init or --proof.  'mlledger witness-key --key K' prints the witness's\n"
		     "verifier key for trust policies.\n"
		     "FILE and --out are written under a temporary name and renamed; an existing\n"
		     "--out is replaced only with --force (it may be the CHECKPOINT itself), never\n"
		     "the ledger, its -wal, -shm, -journal or log key, or a secret key (exit 2).");
		return ML_OK;
	}
	state = cli_get(&c, "state");
	outp = cli_get(&c, "out");
	if (c.nargs != 1 || !cli_get(&c, "log-key"))
		return cli_failf(&c, ML_EINPUT, "expected --key WITNESS.key --log-key LOG.pub "
				 "--state FILE CHECKPOINT");
	if (!state)
		return cli_failf(&c, ML_EINPUT, "--state FILE is required: a witness must remember "
				 "what it cosigned (add --init for its first checkpoint of a log)");
	if (outp && (rc = cli_out_check(&c, "--out", outp, 0, &e)))
		return cli_fail(&c, &e);
	/* Replacing the state file is its use (force), but never the ledger,
	 * its files or a secret key. */
	if ((rc = cli_out_rules(&c, &r, &e)))
		return cli_fail(&c, &e);
	r.force = 1;
	if ((rc = ml_out_check(&r, "--state", state, 0, &e)))
		return cli_fail(&c, &e);
	if ((rc = ml_pubkey_load(cli_get(&c, "log-key"), &logk, &e)) ||
	    (rc = read_checkpoint(c.args[0], &logk, &note, &len, &next, &e)))
		goto out;
	if (cli_get(&c, "proof") && (rc = read_proof(cli_get(&c, "proof"), proof, &plen, &e)))
		goto out;
	/* The passphrase is asked before the lock is taken. */
	if ((rc = cli_load_key(&c, &k, &e)))
		goto out;
	if ((rc = ml_witness_state_open(state, &logk, 60, &st, &e)))
		goto out;
	if (!st.exists && !cli_has(&c, "init")) {
		rc = ml_err_set(&e, ML_EINPUT, "--state %s: no such file; for the first "
				"checkpoint this witness cosigns of %s, add --init", state,
				logk.name);
		goto out;
	}
	if (st.exists && cli_has(&c, "init")) {
		rc = ml_err_set(&e, ML_EINPUT, "--init: the state %s exists (the witness has "
				"cosigned this log before); drop --init", state);
		goto out;
	}
	if (!st.exists)
		fprintf(stderr, "mlledger: cosign: first use: no earlier state for %s; trusting "
			"size %llu\n", logk.name, (unsigned long long)next.size);
	if ((rc = ml_tlog_witness_step(st.exists ? &st.held : NULL, &next,
				       cli_get(&c, "proof") != NULL,
				       (const uint8_t(*)[ML_SHA256_LEN])proof, plen, &e)))
		goto out;
	/* The state is written before the cosignature is given out. */
	if ((rc = ml_witness_state_commit(&st, state, k, note, len,
					  (uint64_t)(ml_now_us() / 1000000), &out, &e)))
		goto out;
	if (outp)
		rc = ml_write_file_atomic(outp, out.data, out.len, 0644, !cli_has(&c, "force"), &e);
	else
		fwrite(out.data, 1, out.len, stdout);
out:
	ml_witness_state_close(&st);
	free(note);
	ml_buf_free(&out);
	ml_seckey_free(k);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cmd_verify_consistency(int argc, char **argv)
{
	struct cli c = {.cmd = "verify-consistency"};
	struct ml_pubkey k;
	struct ml_checkpoint o, n;
	struct ml_err e;
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
	char *old = NULL, *new = NULL;
	size_t olen, nlen, plen;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "log-key=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger verify-consistency --log-key LOG.pub OLD.ckpt NEW.ckpt PROOF\n\n"
		     "Offline, without the ledger: checks that both checkpoints are signed by\n"
		     "the log key and of its log (origin = the key's name), that OLD's size is\n"
		     "at most NEW's, and that PROOF (one base64 hash a line, from 'mlledger\n"
		     "prove --consistency OLD --size NEW') proves OLD's tree a prefix of NEW's\n"
		     "(RFC 9162 §2.1.4.2).  Exit 0; 4 when it does not (fork, rollback, a proof\n"
		     "of other trees, another log); 2 for malformed input.");
		return ML_OK;
	}
	if (c.nargs != 3 || !cli_get(&c, "log-key"))
		return cli_failf(&c, ML_EINPUT, "expected --log-key LOG.pub OLD.ckpt NEW.ckpt PROOF");
	if ((rc = ml_pubkey_load(cli_get(&c, "log-key"), &k, &e)) ||
	    (rc = ml_read_file(c.args[0], ML_NOTE_MAX, &old, &olen, &e)) ||
	    (rc = ml_read_file(c.args[1], ML_NOTE_MAX, &new, &nlen, &e)) ||
	    (rc = read_proof(c.args[2], proof, &plen, &e)))
		goto out;
	if ((rc = ml_tlog_verify_consistency(&k, old, olen, new, nlen,
					     (const uint8_t(*)[ML_SHA256_LEN])proof, plen, &o, &n,
					     &e)) == ML_OK && c.json)
		rc = cli_print_json(json_pack("{s:b, s:s, s:I, s:I}", "ok", 1, "origin", k.name,
					      "oldSize", (json_int_t)o.size, "newSize",
					      (json_int_t)n.size),
				    &e);
	else if (rc == ML_OK)
		printf("ok: size %llu of %s is a prefix of size %llu\n",
		       (unsigned long long)o.size, k.name, (unsigned long long)n.size);
out:
	free(old);
	free(new);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cmd_witness_key(int argc, char **argv)
{
	struct cli c = {.cmd = "witness-key"};
	struct ml_seckey *k = NULL;
	struct ml_cosig_key w;
	struct ml_err e;
	char line[ML_VKEY_MAX];
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "key= passphrase-file=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger witness-key --key WITNESS.key\n\n"
		     "Prints the witness's cosignature verifier key (type 0x04) for the\n"
		     "'witness' lines of a trust policy.");
		return ML_OK;
	}
	if ((rc = cli_load_key(&c, &k, &e)))
		return cli_fail(&c, &e);
	ml_cosig_key_of(k, &w);
	ml_cosig_vkey_format(&w, line);
	puts(line);
	ml_seckey_free(k);
	return ML_OK;
}

/* export --format json: {"out","files","signedBy"}, files as the text
 * line names them (folders with a trailing '/'). */
static int
export_json(const struct cli *c, int since, const char *kid, struct ml_err *e)
{
	static const char *const base[] = {"ledger.db", "log.pub", "checkpoint", "keys/",
					   "policies/", "FORMAT.md", "README.txt"};
	json_t *files = json_array();
	size_t i;

	for (i = 0; i < sizeof base / sizeof base[0]; i++)
		json_array_append_new(files, json_string(base[i]));
	if (since) {
		json_array_append_new(files, json_string("since.checkpoint"));
		json_array_append_new(files, json_string("consistency.proof"));
	}
	json_array_append_new(files, json_string("MANIFEST"));
	json_array_append_new(files, json_string("MANIFEST.sig"));
	return cli_print_json(json_pack("{s:s, s:o, s:s}", "out", cli_get(c, "out"), "files",
					files, "signedBy", kid),
			      e);
}

int
cmd_export(int argc, char **argv)
{
	struct cli c = {.cmd = "export"};
	struct ml_bundle_opts o = {0};
	struct ml_seckey *k = NULL;
	struct ml_ledger *l = NULL;
	struct ml_err e;
	char *since = NULL, *trust = NULL, kid[ML_KEYID_MAX] = "";
	char tmpdir[PATH_MAX] = "", tmpdb[PATH_MAX + 16] = "";
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "out= key= passphrase-file= since= trust= jobs= "
			    "server= log-key= state= mirror= store=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger export --out DIR --key EXPORTER.key [--since HELD.ckpt]\n"
		     "                       [--trust POLICY] [--jobs N]\n\n"
		     "Writes what an auditor needs into DIR (new): a consistent copy of the\n"
		     "ledger (taken while writers may append), verified in full before anything\n"
		     "else is written (exit 4, nothing written, when it does not verify); then,\n"
		     "from that verified copy only: every key its entries enrolled\n"
		     "(keys/KEYID.pub, revoked keys too), every recorded policy\n"
		     "(policies/ID@VERSION.xml), the log key, the latest checkpoint, FORMAT.md,\n"
		     "a README with the commands, and MANIFEST (SHA-256 and size of every file,\n"
		     "and the scope) with MANIFEST.sig, signed by EXPORTER.key: a key enrolled\n"
		     "in the ledger and not revoked (exit 6 otherwise).\n\n"
		     "--since HELD.ckpt  a checkpoint the auditor held: the ledger must extend it\n"
		     "                   (exit 4, nothing written); the bundle then holds it as\n"
		     "                   since.checkpoint with consistency.proof (for\n"
		     "                   'mlledger verify-consistency')\n"
		     "--trust POLICY     copy this trust policy into the bundle (trust.policy)\n\n"
		     "Check it with 'mlledger verify --bundle DIR --log-key LOG.pub' (or\n"
		     "--checkpoint HELD, or --trust POLICY: an anchor held outside the bundle;\n"
		     "ledger/FORMAT.md §10).\n\n"
		     "DIR must be absent or an empty folder (exit 2 otherwise; there is no\n"
		     "--force), and is never the ledger or its files.  The bundle is built in a\n"
		     "temporary folder beside DIR and renamed to DIR at the end: a failure\n"
		     "(a full disk) leaves nothing behind.\n\n"
		     "With --server URL (or MLLEDGER_SERVER) and --log-key LOG.pub [--state FILE]\n"
		     "[--mirror FILE]: the mirror ('mlledger mirror --help') is first brought\n"
		     "up to the server's latest checkpoint, every entry checked, and exported.\n\n"
		     "With --store postgresql://...: the PostgreSQL store of record is first\n"
		     "copied into a temporary replica (as 'mlledger migrate --from URL'), every\n"
		     "row checked, up to its latest signed checkpoint; that copy is exported and\n"
		     "removed.  The bundle is the same as from a ledger file.");
		return ML_OK;
	}
	if (!cli_get(&c, "out") || c.nargs)
		return cli_failf(&c, ML_EINPUT, "expected --out DIR --key EXPORTER.key");
	if (cli_get(&c, "store") && (cli_server(&c) || cli_ledger_given(&c)))
		return cli_failf(&c, ML_EINPUT, "--store: not with --server or --ledger");
	if (cli_get(&c, "store") && !ml_pg_is_url(cli_get(&c, "store")))
		return cli_failf(&c, ML_EINPUT, "--store: a postgresql:// URL");
	if (cli_server(&c)) {
		if (cli_get(&c, "trust"))
			return cli_failf(&c, ML_EINPUT, "--trust: not with --server (pin the "
					 "server's log with --log-key)");
		if ((rc = cli_use_mirror(&c, NULL, &e)))
			return cli_fail(&c, &e);
	}
	{
		long n;
		if ((rc = cli_opt_long(&c, "jobs", 1, 64, 0, &n)))
			return rc;
		o.jobs = (int)n;
	}
	if ((rc = cli_out_check(&c, "--out", cli_get(&c, "out"), 1, &e)))
		return cli_fail(&c, &e);
	if (!cli_get(&c, "key"))
		return cli_failf(&c, ML_EKEY, "--key EXPORTER.key is required: the exporter signs "
				 "the bundle's MANIFEST with a key enrolled in the ledger");
	if (cli_get(&c, "since") &&
	    (rc = ml_read_file(cli_get(&c, "since"), ML_NOTE_MAX, &since, &o.since_len, &e)))
		goto out;
	if (cli_get(&c, "trust")) {
		struct ml_trust *pol = NULL;
		if ((rc = ml_read_file(cli_get(&c, "trust"), ML_TRUST_MAX, &trust, &o.trust_len,
				       &e)))
			goto out;
		if ((rc = ml_trust_parse(trust, o.trust_len, &pol, &e))) {
			ml_err_prefix(&e, rc, cli_get(&c, "trust"));
			goto out;
		}
		ml_trust_free(pol);
	}
	o.since = since;
	o.trust = trust;
	if ((rc = cli_load_key(&c, &k, &e)))
		goto out;
	o.exporter = k;
	ml_pubkey_keyid(ml_seckey_public(k), kid);
	if (cli_get(&c, "store")) {
		if ((rc = cli_store_replica(cli_get(&c, "store"), tmpdir, sizeof tmpdir, tmpdb,
					    sizeof tmpdb, &e)))
			goto out;
		c.ledger = tmpdb;
	}
	if ((rc = cli_open(&c, 0, &l, &e)))
		goto out;
	rc = ml_bundle_export(l, cli_get(&c, "out"), &o, &e);
out:
	ml_ledger_close(l);
	if (*tmpdir)
		cli_store_replica_remove(tmpdir, tmpdb);
	ml_seckey_free(k);
	free(since);
	free(trust);
	if (rc == ML_OK && c.json)
		rc = export_json(&c, o.since != NULL, kid, &e);
	if (rc)
		return cli_fail(&c, &e);
	if (c.json)
		return ML_OK;
	printf("%s: ledger.db, log.pub, checkpoint, keys/, policies/, FORMAT.md, README.txt, "
	       "%sMANIFEST signed by %s\n", cli_get(&c, "out"),
	       o.since ? "since.checkpoint, consistency.proof, " : "", kid);
	return ML_OK;
}

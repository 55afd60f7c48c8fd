/* cli_tlog — checkpoint, log-key, prove, verify-proof, cosign, export. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "cli.h"
#include "note.h"
#include "tlog.h"

/* Parses a decimal size or seq; -1 on error. */
static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	*out = strtoull(s, &end, 10);
	return *end ? -1 : 0;
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
	if ((rc = cli_parse(&c, argc, argv, "size=")) || (rc = opt_size(&c, &n)))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger checkpoint [--size N]\n\n"
		     "Prints the latest signed checkpoint (a C2SP tlog-checkpoint in a signed\n"
		     "note, signed by the log key), or the stored one of tree size N.");
		return ML_OK;
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
	uint64_t seq, m, to;
	size_t len, i;
	int64_t n;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "size= consistency=")) || (rc = opt_size(&c, &n)))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger prove SEQ [--size N]\n"
		     "       mlledger prove --consistency OLD [--size NEW]\n\n"
		     "The first prints a c2sp.org/tlog-proof@v1 bundle: entry SEQ's inclusion\n"
		     "proof in the tree of the stored checkpoint of size N (default: the latest),\n"
		     "and that checkpoint.  'show SEQ --format raw' gives the leaf bytes it\n"
		     "proves.  The second prints the RFC 9162 consistency proof from tree size\n"
		     "OLD to NEW (default: the current size), one base64 hash a line.");
		return ML_OK;
	}
	old = cli_get(&c, "consistency");
	if (old ? (c.nargs != 0 || parse_u64(old, &m) != 0)
		: (c.nargs != 1 || parse_u64(c.args[0], &seq) != 0))
		return cli_failf(&c, ML_EINPUT, "expected SEQ, or --consistency OLD (see --help)");
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
				       &e)) == ML_OK)
		printf("ok: the leaf is entry %" PRIu64 " of the log %s\n", index, k.name);
out:
	free(bundle);
	free(leaf);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cmd_cosign(int argc, char **argv)
{
	struct cli c = {.cmd = "cosign"};
	struct ml_seckey *k = NULL;
	struct ml_buf out = {0};
	struct ml_err e;
	char *note = NULL;
	size_t len;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "key= passphrase-file= out= log-key= force")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger cosign --key WITNESS.key --log-key LOG.pub CHECKPOINT "
		     "[--out FILE [--force]]\n\n"
		     "Checks the checkpoint's signature by the log key, then adds a C2SP\n"
		     "tlog-cosignature (type 0x04, timestamped Ed25519) by the witness key and\n"
		     "prints the note (or writes FILE).  'mlledger witness-key --key K' prints\n"
		     "the witness's verifier key for trust policies.\n"
		     "FILE is written under a temporary name and renamed; an existing FILE is\n"
		     "replaced only with --force (it may be the CHECKPOINT itself), never the\n"
		     "ledger, its -wal, -shm, -journal or log key, or a secret key (exit 2).\n"
		     "A witness should also check that each checkpoint it cosigns extends the\n"
		     "last one it cosigned ('verify --checkpoint' against the ledger).");
		return ML_OK;
	}
	if (c.nargs != 1 || !cli_get(&c, "log-key"))
		return cli_failf(&c, ML_EINPUT, "expected --key WITNESS.key --log-key LOG.pub "
				 "CHECKPOINT");
	if (cli_get(&c, "out") && (rc = cli_out_check(&c, "--out", cli_get(&c, "out"), 0, &e)))
		return cli_fail(&c, &e);
	{
		struct ml_pubkey logk;
		struct ml_note n;
		if ((rc = ml_pubkey_load(cli_get(&c, "log-key"), &logk, &e)) ||
		    (rc = ml_read_file(c.args[0], ML_NOTE_MAX, &note, &len, &e)))
			goto out;
		if ((rc = ml_note_parse(note, len, &n, &e)))
			goto out;
		rc = ml_note_verify(&n, &logk) ? ML_OK
		     : ml_err_set(&e, ML_EINTEGRITY, "%s: not signed by the log key %s",
				  c.args[0], logk.name);
		ml_note_clear(&n);
		if (rc)
			goto out;
	}
	if ((rc = cli_load_key(&c, &k, &e)) ||
	    (rc = ml_cosign(k, note, len, (uint64_t)(ml_now_us() / 1000000), &out, &e)))
		goto out;
	if (cli_get(&c, "out"))
		rc = ml_write_file_atomic(cli_get(&c, "out"), out.data, out.len, 0644,
					  !cli_has(&c, "force"), &e);
	else
		fwrite(out.data, 1, out.len, stdout);
out:
	free(note);
	ml_buf_free(&out);
	ml_seckey_free(k);
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

int
cmd_export(int argc, char **argv)
{
	struct cli c = {.cmd = "export"};
	struct ml_bundle_opts o = {0};
	struct ml_seckey *k = NULL;
	struct ml_ledger *l = NULL;
	struct ml_err e;
	char *since = NULL, *trust = NULL, kid[ML_KEYID_MAX] = "";
	const char *jobs;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "out= key= passphrase-file= since= trust= jobs=")))
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
		     "(a full disk) leaves nothing behind.");
		return ML_OK;
	}
	if (!cli_get(&c, "out") || c.nargs)
		return cli_failf(&c, ML_EINPUT, "expected --out DIR --key EXPORTER.key");
	if ((jobs = cli_get(&c, "jobs"))) {
		o.jobs = atoi(jobs);
		if (o.jobs < 1 || o.jobs > 64)
			return cli_failf(&c, ML_EINPUT, "--jobs: 1 to 64");
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
		struct ml_policy *pol = NULL;
		if ((rc = ml_read_file(cli_get(&c, "trust"), ML_POLICY_MAX, &trust, &o.trust_len,
				       &e)))
			goto out;
		if ((rc = ml_policy_parse(trust, o.trust_len, &pol, &e))) {
			ml_err_prefix(&e, rc, cli_get(&c, "trust"));
			goto out;
		}
		ml_policy_free(pol);
	}
	o.since = since;
	o.trust = trust;
	if ((rc = cli_load_key(&c, &k, &e)))
		goto out;
	o.exporter = k;
	ml_pubkey_keyid(ml_seckey_public(k), kid);
	if ((rc = cli_open(&c, 0, &l, &e)))
		goto out;
	rc = ml_bundle_export(l, cli_get(&c, "out"), &o, &e);
out:
	ml_ledger_close(l);
	ml_seckey_free(k);
	free(since);
	free(trust);
	if (rc)
		return cli_fail(&c, &e);
	printf("%s: ledger.db, log.pub, checkpoint, keys/, policies/, FORMAT.md, README.txt, "
	       "%sMANIFEST signed by %s\n", cli_get(&c, "out"),
	       o.since ? "since.checkpoint, consistency.proof, " : "", kid);
	return ML_OK;
}

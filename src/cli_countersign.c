/* cli_countersign — envelopes that collect signatures offline (dual
 * control, FORMAT.md §3 and §5 rule 13): `sign --countersign`, and the
 * --out FILE of `key enroll`, `key revoke` and `governance set`, which
 * write the signed envelope for a second admin instead of appending it. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "statement.h"
#include "store.h"

int
cli_envelope_out(struct cli *c, struct ml_ledger *l, struct ml_buf *env,
		 const struct ml_pubkey *signed_by, const struct ml_statement *st,
		 struct ml_err *e)
{
	struct ml_append_item item = {.envelope = env->data, .len = env->len,
				      .signed_by = signed_by, .statement = st};
	const char *outp = cli_get(c, "out");
	char note[384];
	int rc;

	if ((rc = cli_out_check(c, "--out", outp, 0, e)))
		return rc;
	/* what submit would refuse is not written, short signatures aside */
	if (l && (rc = ml_ledger_check_partial(l, &item, note, e)))
		return rc;
	ml_buf_append(env, "\n", 1);
	if (env->oom)
		return ml_err_set(e, ML_EIO, "out of memory");
	if ((rc = ml_write_file_atomic(outp, env->data, env->len, 0644, !cli_has(c, "force"),
				       e)))
		return rc;
	if ((rc = cli_print_written(c, outp, e)))
		return rc;
	if (l && note[0])
		fprintf(stderr, "mlledger: %s: note: %s: countersign it ('mlledger sign "
			"--countersign %s --key K.key --out FILE'), then 'mlledger submit'\n",
			c->cmd, note, outp);
	return ML_OK;
}

/* The key of a signature: from a --pub file naming it, else from the
 * ledger's keys (enrolled at any time).  ML_OK with *got (false: no such
 * key), or the code of a --pub file that cannot be read (e set). */
static enum ml_rc
signer_key(const struct cli *c, struct ml_ledger *l, const char *keyid, struct ml_pubkey *out,
	   bool *got, struct ml_err *e)
{
	char have[ML_KEYID_MAX];
	struct ml_key_row row;
	struct ml_err ignore;
	int i, found = 0, rc;

	*got = false;
	for (i = 0; i < c->nopts; i++) {
		if (strcmp(c->opts[i].name, "pub"))
			continue;
		if ((rc = ml_pubkey_load(c->opts[i].value, out, e)))
			return rc;
		ml_pubkey_keyid(out, have);
		if (!strcmp(have, keyid)) {
			*got = true;
			return ML_OK;
		}
	}
	if (l && ml_store_key_get(ml_ledger_store(l), ML_DB_MAIN, keyid, &row, &found,
				  &ignore) == ML_OK && found &&
	    ml_pubkey_parse_recorded(row.vkey, strlen(row.vkey), out, &ignore) == ML_OK)
		*got = true;
	return ML_OK;
}

/* Prints what is being countersigned: kind, subject, signers, and the
 * statement itself, on stderr (stdout names the file written). */
static void
show(const struct ml_envelope *env, const struct ml_statement *st)
{
	char hex[65], *text;
	size_t i;

	ml_hex_encode(st->digest, ML_SHA256_LEN, hex);
	fprintf(stderr, "countersigning: %s %s sha256:%s\nsigned by:      %s", ml_kind_name(st->kind),
		st->subject, hex, env->keyid);
	for (i = 0; i < env->nco; i++)
		fprintf(stderr, ", %s", env->co[i].keyid);
	fputc('\n', stderr);
	if ((text = json_dumps(st->root, JSON_INDENT(2) | JSON_REAL_PRECISION(15)))) {
		fprintf(stderr, "%s\n", text);
		free(text);
	}
}

int
cli_countersign(struct cli *c)
{
	struct ml_pubkey keys[ML_ENVELOPE_MAX_SIGS];
	struct ml_envelope env = {0};
	struct ml_statement st = {0};
	struct ml_ledger *l = NULL;
	struct ml_seckey *k = NULL;
	struct ml_buf out = {0};
	struct ml_err e;
	struct stat sb;
	const char *inp = cli_get(c, "countersign"), *bad = NULL;
	char *bytes = NULL;
	size_t len, i;
	int rc, parsed = 0;

	ml_err_clear(&e);
	for (i = 0; i < (size_t)c->nopts; i++)
		if (strcmp(c->opts[i].name, "countersign") && strcmp(c->opts[i].name, "key") &&
		    strcmp(c->opts[i].name, "passphrase-file") && strcmp(c->opts[i].name, "out") &&
		    strcmp(c->opts[i].name, "force") && strcmp(c->opts[i].name, "pub") &&
		    strcmp(c->opts[i].name, "ledger") && strcmp(c->opts[i].name, "format"))
			return cli_failf(c, ML_EINPUT, "--%s is not an option of sign "
					 "--countersign", c->opts[i].name);
	if (c->nargs)
		return cli_failf(c, ML_EINPUT, "expected --countersign ENVELOPE --key K.key --out "
				 "FILE, not \"%s\"", c->args[0]);
	if (!cli_get(c, "out"))
		return cli_failf(c, ML_EINPUT, "--out FILE is required");
	if ((rc = ml_read_file(inp, ML_MAX_ENVELOPE + 2, &bytes, &len, &e)))
		goto out;
	while (len && (bytes[len - 1] == '\n' || bytes[len - 1] == '\r'))
		len--;
	if ((rc = ml_envelope_parse((const uint8_t *)bytes, len, &env, &e)) ||
	    (rc = ml_statement_parse(env.payload, env.payload_len, &st, &e))) {
		ml_err_prefix(&e, rc, inp);
		goto out;
	}
	parsed = 1;
	/* With a ledger at hand, keys come from it too, and the result is
	 * checked as submit would check it. */
	if (stat(c->ledger, &sb) == 0 && (rc = cli_open(c, 0, &l, &e)))
		goto out;
	for (i = 0; i <= env.nco; i++) {
		const char *keyid = i ? env.co[i - 1].keyid : env.keyid;
		bool got;
		if ((rc = signer_key(c, l, keyid, &keys[i], &got, &e)) != ML_OK)
			goto out;
		if (!got) {
			rc = ml_err_set(&e, ML_EKEY, "%s: cannot check the signature by %s: give its "
					"verifier key (--pub %s.pub), or run where the ledger is",
					inp, keyid, keyid);
			goto out;
		}
	}
	if (!ml_envelope_verify_all(&env, &keys[0], keys + 1, &bad)) {
		rc = ml_err_set(&e, ML_EKEY, "%s: the signature by %s does not verify; not "
				"countersigning it", inp, bad);
		goto out;
	}
	show(&env, &st);
	if ((rc = cli_load_key(c, &k, &e)) || (rc = ml_envelope_countersign(&env, k, &out, &e)))
		goto out;
	if (!l)
		fprintf(stderr, "mlledger: sign: note: no ledger here, so whether the signers are "
			"enrolled and hold the roles needed is checked by 'submit', not now\n");
	rc = cli_envelope_out(c, l, &out, NULL, &st, &e);
out:
	free(bytes);
	if (parsed)
		ml_statement_free(&st);
	ml_envelope_clear(&env);
	ml_seckey_free(k);
	ml_ledger_close(l);
	ml_buf_free(&out);
	return rc ? cli_fail(c, &e) : ML_OK;
}

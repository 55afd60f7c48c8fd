/* cli_clock — clock-correct: an admin repairs a ledger whose entries were
 * dated ahead by a machine with a wrong clock (ledger/FORMAT.md §2, "Clock
 * corrections"), without rewriting any entry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "evidence.h"
#include "statement.h"
#include "store.h"

static const char clock_usage[] =
	"usage: mlledger clock-correct --reason TEXT --key ADMIN.key [--from SEQ]\n"
	"                              [--passphrase-file F]\n\n"
	"Appends a clock-correction signed by an admin key and dated by this\n"
	"machine's clock: entries SEQ up to it then have the correction's time as\n"
	"their effective time (ledger/FORMAT.md, clock corrections).  No entry is\n"
	"changed.  Use it when a machine whose clock ran ahead recorded entries:\n"
	"until then record refuses to append (exit 5) and gate and check fail\n"
	"closed (exit 3), naming the first entry dated ahead.\n\n"
	"--from SEQ names the first entry dated wrongly; by default the first entry\n"
	"dated more than 5 minutes after this machine's clock (exit 2 when there is\n"
	"none).  Verify checks that the correction is dated between entries SEQ-1\n"
	"and SEQ.  Prints SEQ sha256:LEAFHASH as record does.  Exit codes: 2 bad\n"
	"input, 4 integrity failure, 5 storage error, 6 key error (also: a key\n"
	"without role admin).\n";

/* --from SEQ, or the first entry dated ahead of now. */
static int
pick_from(struct cli *c, struct ml_ledger *l, int64_t now, uint64_t *from, struct ml_err *e)
{
	const char *v = cli_get(c, "from");
	struct ml_evidence *ev;
	char *end, t[21];
	int64_t at;
	int rc;

	if (v) {
		unsigned long long n;
		errno = 0;
		n = strtoull(v, &end, 10);
		if (!*v || *v == '-' || *end || errno || n < 1)
			return ml_err_set(e, ML_EINPUT, "--from: an entry seq, 1 or more");
		*from = n;
		return ML_OK;
	}
	if ((rc = ml_evidence_open(l, now, ML_EVIDENCE_HEAD, &ev, e)))
		return rc;
	rc = ml_evidence_ahead(ev, now, from, &at, e);
	ml_evidence_close(ev);
	if (rc == ML_EPOLICY) {
		ml_err_clear(e);
		return ML_OK;
	}
	if (rc)
		return rc;
	ml_time_format(now, t);
	return ml_err_set(e, ML_EINPUT, "no entry is dated more than 5 minutes after this "
			  "machine's clock (%s): nothing to correct (name one with --from SEQ)", t);
}

/* Builds, signs and appends the correction of entries from.. (at_clock). */
static int
append_fix(struct cli *c, struct ml_ledger *l, const struct ml_seckey *k, uint64_t from,
	   int64_t now, struct ml_err *e)
{
	struct ml_buf payload = {0}, env = {0};
	struct ml_statement st = {0};
	struct ml_append_item item = {0};
	struct ml_appended out;
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	char t[21];
	json_t *pred;
	int rc;

	rc = ml_store_entry_get(ml_ledger_store(l), from, &en, &bytes, leaf, e);
	free(bytes);
	if (rc == ML_EINPUT)
		return ml_err_set(e, ML_EINPUT, "--from: there is no entry %llu",
				  (unsigned long long)from);
	if (rc)
		return rc;
	ml_time_format(now, t);
	if (!(pred = json_pack("{s:s, s:I, s:s, s:s}", "time", t, "from", (json_int_t)from,
			       "reason", cli_get(c, "reason"), ML_ORIGIN_MEMBER,
			       ml_ledger_origin(l))))
		return ml_err_set(e, ML_EINPUT, "--reason: invalid UTF-8");
	if ((rc = ml_statement_encode_parsed(ML_KIND_CLOCK_CORRECTION, ml_ledger_origin(l), leaf,
					     pred, &payload, &st, e)))
		cli_flag_error(e); /* reason: from --reason */
	if (rc == ML_OK)
		rc = ml_envelope_sign(k, payload.data, payload.len, &env, e);
	if (rc == ML_OK) {
		item = (struct ml_append_item){env.data, env.len, ml_seckey_public(k), &st, 1};
		rc = ml_ledger_append(l, &item, 1, &out, e);
	}
	if (rc == ML_OK)
		cli_print_appended(c, &out, NULL);
	ml_statement_free(&st);
	ml_buf_free(&payload);
	ml_buf_free(&env);
	return rc;
}

int
cmd_clock_correct(int argc, char **argv)
{
	struct cli c = {.cmd = "clock-correct"};
	struct ml_ledger *l = NULL;
	struct ml_seckey *k = NULL;
	struct ml_err e;
	uint64_t from = 0;
	int64_t now;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "reason= key= passphrase-file= from=")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(clock_usage, stdout);
		return ML_OK;
	}
	if (c.nargs != 0 || !cli_get(&c, "reason") || !cli_get(&c, "key"))
		return cli_failf(&c, ML_EINPUT, "expected --reason TEXT --key ADMIN.key (see --help)");
	now = ml_now_us();
	if ((rc = cli_open(&c, 1, &l, &e)) || (rc = pick_from(&c, l, now, &from, &e)) ||
	    (rc = cli_load_key(&c, &k, &e)) || (rc = append_fix(&c, l, k, from, now, &e)))
		rc = cli_fail(&c, &e);
	ml_seckey_free(k);
	ml_ledger_close(l);
	return rc;
}

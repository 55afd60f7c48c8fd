/* cli_governance — governance set and show: the ledger's declared roles,
 * environments, metrics and properties (ledger/FORMAT.md §2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "governance.h"
#include "rules.h"
#include "statement.h"

static const char gov_usage[] =
	"usage: mlledger governance set FILE --key ADMIN.key [--out FILE [--force]]\n"
	"       mlledger governance show [--format text|json] [--default]\n"
	"\n"
	"A governance document (JSON, at most 64 KiB; ledger/FORMAT.md §2 and\n"
	"ledger/governance.schema.json) declares the roles and the entry kinds each\n"
	"may sign, the environments, the metrics with their direction (higher or\n"
	"lower is better) and the typed properties.  'set' appends it, signed by an\n"
	"admin key; it governs every entry after it.  'show' prints the document in\n"
	"force (--default: the documented default, which governs ledgers that\n"
	"declare none).  A ledger can also start with one: init --governance FILE.\n"
	"dualControl {\"kinds\":[...],\"signers\":K} makes entries of those kinds need K\n"
	"persons holding admin (or \"role\") among their signers, and separation\n"
	"[[\"admin\",\"approver\"]] keeps one person from holding both roles.  A document\n"
	"is judged by the one in force before it: under dual control, set --out FILE\n"
	"writes the entry for a second admin's 'mlledger sign --countersign', then\n"
	"'mlledger submit'.  A document the enrolled persons cannot meet (K admins not\n"
	"enrolled, or a person already holding both roles of a pair) is refused\n"
	"(exit 2), so dual control never locks a ledger.\n"
	"governance set with --server URL (or MLLEDGER_SERVER) and --log-key\n"
	"LOG.pub|--trust POLICY [--state FILE] [--mirror FILE]: looked up in the\n"
	"mirror ('mlledger mirror --help'), signed here (keys never leave this\n"
	"host) and posted (POST /add), the proof checked.\n";

/* Reads and checks a governance file: *text is malloc'd (caller frees). */
int
cli_governance_file(const char *path, char **text, struct ml_err *e)
{
	struct ml_governance *g;
	size_t len;
	int rc;

	if ((rc = ml_read_file(path, ML_GOVERNANCE_MAX, text, &len, e)))
		return rc;
	if ((rc = ml_governance_parse(*text, len, &g, e))) {
		free(*text);
		*text = NULL;
		return ml_err_prefix(e, rc, path);
	}
	ml_governance_free(g);
	return ML_OK;
}

/* Builds, signs and appends the governance entry; prints SEQ sha256:LEAF. */
static int
append_document(struct cli *c, struct ml_ledger *l, const char *text, struct ml_err *e)
{
	struct ml_seckey *k = NULL;
	struct ml_buf payload = {0}, env = {0};
	struct ml_statement st = {0};
	struct ml_append_item item = {0};
	struct ml_appended out;
	uint8_t digest[ML_SHA256_LEN];
	char now[21];
	json_t *pred;
	int rc;

	ml_time_format(ml_now_us(), now);
	ml_sha256(text, strlen(text), digest);
	if (!(pred = json_pack("{s:s, s:s, s:s}", "time", now, "document", text,
			       ML_ORIGIN_MEMBER, ml_ledger_origin(l))))
		return ml_err_set(e, ML_EINPUT, "the document is not valid UTF-8");
	if ((rc = cli_load_key(c, &k, e)) ||
	    (rc = ml_statement_encode_parsed(ML_KIND_GOVERNANCE, ml_ledger_origin(l), digest,
					     json_incref(pred), &payload, &st, e)) ||
	    (rc = ml_envelope_sign(k, payload.data, payload.len, &env, e)))
		goto out;
	if (cli_get(c, "out")) { /* for a countersignature (dual control) */
		rc = cli_envelope_out(c, l, &env, ml_seckey_public(k), &st, e);
		goto out;
	}
	item.envelope = env.data;
	item.len = env.len;
	item.signed_by = ml_seckey_public(k);
	item.statement = &st;
	if ((rc = cli_append(c, l, &item, &out, e)) == ML_OK)
		cli_print_appended(c, &out, NULL);
out:
	json_decref(pred);
	ml_statement_free(&st);
	ml_seckey_free(k);
	ml_buf_free(&payload);
	ml_buf_free(&env);
	return rc;
}

static int
gov_set(int argc, char **argv)
{
	struct cli c = {.cmd = "governance set"};
	struct ml_ledger *l = NULL;
	struct ml_err e;
	char *text = NULL;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "key= passphrase-file= out= force server= log-key= trust= state= mirror=")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(gov_usage, stdout);
		return ML_OK;
	}
	if (c.nargs != 1 || !cli_get(&c, "key"))
		return cli_failf(&c, ML_EINPUT, "expected FILE --key ADMIN.key");
	if ((rc = cli_governance_file(c.args[0], &text, &e)) == ML_OK &&
	    (rc = cli_open_append(&c, &l, &e)) == ML_OK)
		rc = append_document(&c, l, text, &e);
	free(text);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

static int
gov_show(int argc, char **argv)
{
	struct cli c = {.cmd = "governance show"};
	struct ml_rules_state r = {0};
	struct ml_ledger *l = NULL;
	struct ml_err e;
	char *doc;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "default")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(gov_usage, stdout);
		return ML_OK;
	}
	if (c.nargs)
		return cli_failf(&c, ML_EINPUT, "unexpected argument \"%s\"", c.args[0]);
	if (cli_has(&c, "default"))
		rc = ml_rules_state_init(&r, &e);
	else if ((rc = cli_open(&c, 0, &l, &e)) == ML_OK)
		rc = ml_rules_state_load(&r, ml_ledger_store(l), &e);
	if (rc == ML_OK && l && !r.governed)
		fprintf(stderr, "mlledger: governance show: %s declares no governance (it was "
			"written before governance existed), so its entries are not checked "
			"against one; shown: the default, which 'governance set' would adopt\n",
			c.ledger);
	if (rc == ML_OK && !c.json) {
		fputs(ml_governance_text(r.gov), stdout);
	} else if (rc == ML_OK) {
		json_t *o = json_pack("{s:o, s:b, s:O, s:s}", "seq",
				      r.gov_seq >= 0 ? json_integer(r.gov_seq) : json_null(),
				      "governed", l ? r.governed : 0, "document",
				      ml_governance_json(r.gov), "text", ml_governance_text(r.gov));
		doc = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		if (doc)
			puts(doc);
		else
			rc = ml_err_set(&e, ML_EIO, "out of memory");
		free(doc);
		json_decref(o);
	}
	ml_rules_state_free(&r);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cmd_governance(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "set"))
		return gov_set(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return gov_show(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		fputs(gov_usage, stdout);
		return ML_OK;
	}
	fputs(gov_usage, stderr);
	return ML_EINPUT;
}

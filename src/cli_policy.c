/* cli_policy — evidence (and, with the policy engine, gate, check and
 * policy lint/test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "cli.h"
#include "evidence.h"

/* --as-of DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ), default now. */
static int
opt_as_of(struct cli *c, int64_t *us)
{
	const char *v = cli_get(c, "as-of");

	*us = ml_now_us();
	if (v && ml_time_parse(v, us) != 0)
		return cli_failf(c, ML_EINPUT, "--as-of: expected YYYY-MM-DD or "
				 "YYYY-MM-DDTHH:MM:SSZ");
	return ML_OK;
}

int
cmd_evidence(int argc, char **argv)
{
	struct cli c = {.cmd = "evidence"};
	struct ml_ledger *l;
	struct ml_err e;
	xmlDocPtr doc = NULL;
	xmlChar *text = NULL;
	int64_t as_of;
	int rc, len = 0;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "env= as-of=")) || (rc = opt_as_of(&c, &as_of)))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger evidence NAME@VERSION [--env ENV] [--as-of DATE]\n\n"
		     "Prints the XML document policy rules read for this model version\n"
		     "(policies/EVIDENCE.md): every entry about any version of the model and\n"
		     "the datasets they name, each verified on the way in (leaf hash, author\n"
		     "signature and enrolment, inclusion in the latest signed checkpoint).");
		return ML_OK;
	}
	if (c.nargs != 1)
		return cli_failf(&c, ML_EINPUT, "expected NAME@VERSION");
	if ((rc = cli_open(&c, 0, &l, &e)))
		return cli_fail(&c, &e);
	rc = ml_evidence_build(l, c.args[0], cli_get(&c, "env"), as_of, &doc, &e);
	ml_ledger_close(l);
	if (rc)
		return cli_fail(&c, &e);
	xmlDocDumpFormatMemoryEnc(doc, &text, &len, "UTF-8", 1);
	if (text)
		fwrite(text, 1, (size_t)len, stdout);
	xmlFree(text);
	xmlFreeDoc(doc);
	return text ? ML_OK : cli_failf(&c, ML_EIO, "out of memory");
}

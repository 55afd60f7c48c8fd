/* report_signoff — the report's sign-off section: who signs, what the
 * signature covers, and how to check it.
 *
 * `mlledger report` knows its signer before it renders a byte (the
 * signature is over bytes that hold this section), so the section is added
 * to the model (member "signOff", last; reports/report.schema.json) between
 * ml_report_build and the writers.  The signer is the person the key's
 * enrolment names, read from the model's people.keys (the key table of the
 * ledger the report read); a key this ledger does not hold is named by its
 * key id and said to be "not enrolled in this ledger".  Everything written
 * is a function of the model and the signer, so output stays
 * byte-reproducible: file names, never paths.
 *
 * May call report (ml_report_get), report_sig (the manifest's name), util,
 * jansson.  No I/O.
 */
#ifndef ML_REPORT_SIGNOFF_H
#define ML_REPORT_SIGNOFF_H

#include <jansson.h>

#include "util.h"

/* The signature the report will carry. */
struct ml_report_signer {
	const char *keyid;    /* NAME+hhhhhhhh of the signing key */
	const char *key_name; /* NAME: its verifier key file is NAME.pub */
	const char *file;     /* the report's file (a CSV folder: the folder) name,
			       * as verify-report takes it: no folder part */
	const char *format;   /* html, md, json, csv (one table) or csv-folder */
	int record;           /* also recorded as a report entry (--record) */
};

/* Sets model's member "signOff" (replacing one there): {signed, statement,
 * signer (or null), covers, signatureFile, verify, recorded, ledger,
 * rows}, rows being [{item, text}] for the sign-off table.  s NULL: the
 * report is unsigned, and the section says so.  ML_EIO when out of
 * memory (the model is then unchanged). */
int ml_report_signoff(json_t *model, const struct ml_report_signer *s, struct ml_err *e);

#endif

/* report_sig — signatures over a report's files and its scope.
 *
 * A report signature (REPORT.sig.json beside a file, MANIFEST.sig.json in a
 * CSV folder; reports/README.md, "Signatures") is a DSSE envelope (with its
 * payload) over an in-toto Statement v1: one subject per signed file (name
 * and SHA-256), predicateType ML_REPORT_SIG_TYPE, and a predicate holding
 * the report's format, generation time, tool and scope: the ledger origin,
 * the checkpoint (size and root) it was built on, the period, the as-of
 * time, when the ledger began, and the policies (id, version, SHA-256,
 * file or recorded seq), and the checkpoints held outside it was checked
 * against (held: size, root, witness names, whether a trust policy checked
 * them; empty when none).  Ed25519 over PAE("application/vnd.in-toto+json",
 * payload) with an author key (keys).  So a table from another report, a
 * report signed for another period or ledger, or a changed byte fails, and
 * the verifier shows what was signed.
 *
 * Signatures of mlledger 0.2 and before (payloadType
 * application/vnd.mlledger.report.v1, one file, no scope) are refused as
 * the old format.  May call report (ml_report_get), statement (PAE), keys,
 * util, jansson.
 */
#ifndef ML_REPORT_SIG_H
#define ML_REPORT_SIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "keys.h"
#include "util.h"

#define ML_REPORT_SIG_TYPE "https://mlledger.dev/report-signature/v1"
#define ML_REPORT_OLD_PAYLOAD_TYPE "application/vnd.mlledger.report.v1"
#define ML_REPORT_SIG_MAX (256 * 1024)
#define ML_REPORT_MANIFEST "MANIFEST.sig.json" /* in a signed CSV folder */
#define ML_REPORT_FILES_MAX 64

struct ml_report_file {
	const char *name; /* a plain file name: [A-Za-z0-9._-]{1,128}, not "." or ".." */
	const uint8_t *bytes;
	size_t len;
};

/* Appends the signature file for files[0..n) to out.  format: "html",
 * "md", "json", "csv" (one table) or "csv-folder"; model: the report model
 * (report.h), whose scope (and time.ledgerStart) is copied into the signed
 * predicate.  ML_EINPUT for a bad file name or count; ML_EIO when out of
 * memory. */
int ml_report_sign(const struct ml_seckey *k, const char *format, const json_t *model,
		   const struct ml_report_file *files, size_t n, struct ml_buf *out,
		   struct ml_err *e);

/* Checks the signature file sig with key k and returns its statement in
 * *stmt (caller json_decref; set only on success): subjects well formed
 * (plain names, unique, SHA-256 hex), a predicate with its format and
 * scope.  ML_EINTEGRITY when the signature is not by k or does not verify;
 * ML_EINPUT when sig is not a report signature (an old-format one says
 * so). */
int ml_report_open(const struct ml_pubkey *k, const char *sig, size_t siglen, json_t **stmt,
		   struct ml_err *e);

/* The SHA-256 (hex) a verified statement signs for the file named name, or
 * NULL when it names no such file. */
const char *ml_report_subject_sha256(const json_t *stmt, const char *name);

/* True when name is a plain file name a signature may list. */
bool ml_report_name_ok(const char *name);

#endif

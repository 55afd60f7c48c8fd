/* report_sig — detached DSSE signatures over the exact bytes of a report.
 *
 * The signature is Ed25519 over the DSSE pre-authentication encoding
 * PAE(ML_REPORT_PAYLOAD_TYPE, report bytes), made with an author key
 * (keys).  The signature file (REPORT.sig.json, reports/README.md) is a DSSE
 * envelope without its payload: the report file is the payload.
 *
 *   {"payloadType": "application/vnd.mlledger.report.v1",
 *    "payloadSha256": HEX, "payloadSize": N, "payloadName": "2026Q4.html",
 *    "signatures": [{"keyid": "NAME+hhhhhhhh", "sig": BASE64}]}
 *
 * payloadSha256, payloadSize and payloadName are hints for people (the
 * check compares the SHA-256 first, for a clearer message); only the
 * signature decides.  May call statement (PAE), keys, util, jansson.
 */
#ifndef ML_REPORT_SIG_H
#define ML_REPORT_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "util.h"

#define ML_REPORT_PAYLOAD_TYPE "application/vnd.mlledger.report.v1"
#define ML_REPORT_SIG_MAX (64 * 1024)

/* Appends the signature file for bytes (name: the report's file name, a
 * hint) to out.  ML_EIO when out of memory. */
int ml_report_sign(const struct ml_seckey *k, const char *name, const uint8_t *bytes,
		   size_t len, struct ml_buf *out, struct ml_err *e);
/* Checks a signature file against the report bytes and the key.  ML_OK
 * when k signed exactly these bytes; ML_EINTEGRITY when the bytes differ
 * from the signed ones, the signature is not by k, or it does not verify;
 * ML_EINPUT when sig is not a signature file of this type. */
int ml_report_verify(const struct ml_pubkey *k, const char *sig, size_t siglen,
		     const uint8_t *bytes, size_t len, struct ml_err *e);

#endif

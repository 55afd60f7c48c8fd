/* report_sig — see report_sig.h. */
#include "report_sig.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "statement.h"

/* Ed25519 over PAE(type, bytes). */
static int
pae_of(const uint8_t *bytes, size_t len, struct ml_buf *pae, struct ml_err *e)
{
	ml_dsse_pae(ML_REPORT_PAYLOAD_TYPE, bytes, len, pae);
	if (pae->oom) {
		ml_buf_free(pae);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	return ML_OK;
}

int
ml_report_sign(const struct ml_seckey *k, const char *name, const uint8_t *bytes,
	       size_t len, struct ml_buf *out, struct ml_err *e)
{
	struct ml_buf pae = {0};
	uint8_t sig[ML_SIG_LEN], d[ML_SHA256_LEN];
	char keyid[ML_KEYID_MAX], hex[65], *b64 = NULL, *s = NULL;
	json_t *o;
	int rc;

	if ((rc = pae_of(bytes, len, &pae, e)))
		return rc;
	ml_seckey_sign(k, pae.data, pae.len, sig);
	ml_buf_free(&pae);
	ml_pubkey_keyid(ml_seckey_public(k), keyid);
	ml_sha256(bytes, len, d);
	ml_hex_encode(d, sizeof d, hex);
	b64 = ml_b64_encode(sig, sizeof sig);
	o = json_pack("{s:s, s:s, s:I, s:s?, s:[{s:s, s:s?}]}", "payloadType",
		      ML_REPORT_PAYLOAD_TYPE, "payloadSha256", hex, "payloadSize", (json_int_t)len,
		      "payloadName", name, "signatures", "keyid", keyid, "sig", b64);
	if (o && b64 && (s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		ml_buf_puts(out, s);
		ml_buf_puts(out, "\n");
	}
	rc = s && !out->oom ? ML_OK : ml_err_set(e, ML_EIO, "out of memory");
	free(s);
	free(b64);
	json_decref(o);
	return rc;
}

/* Reads the one signature of a signature file. */
static int
parse_sig(const char *sig, size_t siglen, const char **keyid, uint8_t raw[ML_SIG_LEN],
	  const char **hex, json_t **root, struct ml_err *e)
{
	json_t *o = json_loadb(sig, siglen, JSON_REJECT_DUPLICATES, NULL), *s;
	const char *b64, *type;

	s = json_array_get(json_object_get(o, "signatures"), 0);
	type = json_string_value(json_object_get(o, "payloadType"));
	*keyid = json_string_value(json_object_get(s, "keyid"));
	b64 = json_string_value(json_object_get(s, "sig"));
	*hex = json_string_value(json_object_get(o, "payloadSha256"));
	if (!o || !type || strcmp(type, ML_REPORT_PAYLOAD_TYPE) || !*keyid || !b64 ||
	    json_array_size(json_object_get(o, "signatures")) != 1 ||
	    ml_b64_decode_exact(b64, strlen(b64), raw, ML_SIG_LEN)) {
		json_decref(o);
		return ml_err_set(e, ML_EINPUT, "not a report signature (payloadType %s with "
				  "one signature expected)", ML_REPORT_PAYLOAD_TYPE);
	}
	*root = o;
	return ML_OK;
}

int
ml_report_verify(const struct ml_pubkey *k, const char *sig, size_t siglen,
		 const uint8_t *bytes, size_t len, struct ml_err *e)
{
	struct ml_buf pae = {0};
	uint8_t raw[ML_SIG_LEN], d[ML_SHA256_LEN];
	char keyid[ML_KEYID_MAX], hex[65];
	const char *sid, *shex;
	json_t *root = NULL;
	int rc;

	if ((rc = parse_sig(sig, siglen, &sid, raw, &shex, &root, e)))
		return rc;
	ml_pubkey_keyid(k, keyid);
	ml_sha256(bytes, len, d);
	ml_hex_encode(d, sizeof d, hex);
	if (strcmp(sid, keyid))
		rc = ml_err_set(e, ML_EINTEGRITY, "signed by %.140s, not by %s", sid, keyid);
	else if (shex && strcmp(shex, hex))
		rc = ml_err_set(e, ML_EINTEGRITY, "the report's bytes (sha256:%.12s…) are not the "
				"signed ones (sha256:%.12s…)", hex, shex);
	else if ((rc = pae_of(bytes, len, &pae, e)) == ML_OK) {
		if (!ml_pubkey_verify(k, pae.data, pae.len, raw))
			rc = ml_err_set(e, ML_EINTEGRITY, "the signature does not verify");
		ml_buf_free(&pae);
	}
	json_decref(root);
	return rc;
}

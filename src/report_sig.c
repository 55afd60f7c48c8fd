/* report_sig — see report_sig.h. */
#include "report_sig.h"

#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "statement.h"

static json_t *
member(const json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return v ? json_incref(v) : json_null();
}

/* The signed scope: what the report covers, copied from the model. */
static json_t *
scope_of(const json_t *model)
{
	const json_t *sc = json_object_get(model, "scope");
	json_t *ck = json_object_get(sc, "checkpoint"), *pols = json_array(), *p, *o;
	json_t *held = json_array();
	size_t i;

	json_array_foreach(json_object_get(sc, "policies"), i, p)
		json_array_append_new(pols, json_pack("{s:o, s:o, s:o, s:o}", "id",
						      member(p, "id", NULL), "version",
						      member(p, "version", NULL), "sha256",
						      member(p, "sha256", NULL), "file",
						      member(p, "file", NULL)));
	/* the checkpoints held outside that the report was checked against */
	json_array_foreach(ml_report_get(model, "integrity.held"), i, p)
		json_array_append_new(held, json_pack("{s:o, s:o, s:o, s:o}", "size",
						      member(p, "size", NULL), "root",
						      member(p, "root", NULL), "witnesses",
						      member(p, "witnesses", NULL),
						      "witnessesChecked",
						      member(p, "witnessesChecked", NULL)));
	o = json_pack("{s:o, s:{s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:o}", "origin",
		      member(sc, "ledger", "origin"), "checkpoint", "size",
		      member(ck, "size", NULL), "root", member(ck, "root", NULL), "from",
		      member(sc, "from", NULL), "to", member(sc, "to", NULL), "asOf",
		      member(sc, "asOf", NULL), "ledgerStart", member(sc, "ledgerStart", NULL),
		      "policies", pols, "held", held);
	return o;
}

bool
ml_report_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 128 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int
oom(struct ml_err *e)
{
	return ml_err_set(e, ML_EIO, "out of memory");
}

int
ml_report_sign(const struct ml_seckey *k, const char *format, const json_t *model,
	       const struct ml_report_file *files, size_t n, struct ml_buf *out,
	       struct ml_err *e)
{
	const json_t *sc = json_object_get(model, "scope");
	struct ml_buf pae = {0};
	uint8_t sig[ML_SIG_LEN], d[ML_SHA256_LEN];
	char keyid[ML_KEYID_MAX], hex[65], *payload = NULL, *b64p = NULL, *b64s = NULL,
	     *s = NULL;
	json_t *subj = json_array(), *st = NULL, *env = NULL;
	size_t i;
	int rc = ML_OK;

	if (n == 0 || n > ML_REPORT_FILES_MAX) {
		json_decref(subj);
		return ml_err_set(e, ML_EINPUT, "a report signature lists 1 to %d files",
				  ML_REPORT_FILES_MAX);
	}
	for (i = 0; i < n && subj; i++) {
		if (!ml_report_name_ok(files[i].name)) {
			json_decref(subj);
			return ml_err_set(e, ML_EINPUT, "%.140s: not a plain file name", files[i].name);
		}
		ml_sha256(files[i].bytes, files[i].len, d);
		ml_hex_encode(d, sizeof d, hex);
		json_array_append_new(subj, json_pack("{s:s, s:{s:s}}", "name", files[i].name,
						      "digest", "sha256", hex));
	}
	st = json_pack("{s:s, s:o, s:s, s:{s:s, s:o, s:o, s:o}}", "_type", ML_STATEMENT_TYPE,
		       "subject", subj, "predicateType", ML_REPORT_SIG_TYPE, "predicate",
		       "format", format, "generatedAt", member(sc, "generatedAt", NULL), "tool",
		       member(sc, "tool", NULL), "scope", scope_of(model));
	if (!st || !(payload = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		rc = oom(e);
		goto out;
	}
	ml_dsse_pae(ML_PAYLOAD_TYPE, (const uint8_t *)payload, strlen(payload), &pae);
	if (pae.oom) {
		rc = oom(e);
		goto out;
	}
	ml_seckey_sign(k, pae.data, pae.len, sig);
	ml_pubkey_keyid(ml_seckey_public(k), keyid);
	b64p = ml_b64_encode((const uint8_t *)payload, strlen(payload));
	b64s = ml_b64_encode(sig, sizeof sig);
	if (b64p && b64s)
		env = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payloadType", ML_PAYLOAD_TYPE,
				"payload", b64p, "signatures", "keyid", keyid, "sig", b64s);
	if (!env || !(s = json_dumps(env, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		rc = oom(e);
		goto out;
	}
	ml_buf_puts(out, s);
	ml_buf_puts(out, "\n");
	if (out->oom)
		rc = oom(e);
out:
	ml_buf_free(&pae);
	free(payload);
	free(b64p);
	free(b64s);
	free(s);
	json_decref(st);
	json_decref(env);
	return rc;
}

/* The statement's shape, once its signature holds. */
static int
check_statement(const json_t *st, struct ml_err *e)
{
	const json_t *subj = json_object_get(st, "subject"), *p = json_object_get(st, "predicate");
	const char *type = json_string_value(json_object_get(st, "_type"));
	const char *pt = json_string_value(json_object_get(st, "predicateType"));
	size_t i, j, n = json_array_size(subj);
	uint8_t d[ML_SHA256_LEN];
	json_t *s;

	if (!type || strcmp(type, ML_STATEMENT_TYPE) || !pt || strcmp(pt, ML_REPORT_SIG_TYPE) ||
	    !json_is_object(p) || !json_string_value(json_object_get(p, "format")) ||
	    !json_is_object(json_object_get(p, "scope")))
		return ml_err_set(e, ML_EINPUT, "not a report signature: the signed statement "
				  "is not a %s statement", ML_REPORT_SIG_TYPE);
	if (n == 0 || n > ML_REPORT_FILES_MAX)
		return ml_err_set(e, ML_EINPUT, "not a report signature: it lists %zu files", n);
	json_array_foreach(subj, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *hex = json_string_value(json_object_get(json_object_get(s, "digest"),
								    "sha256"));
		if (!ml_report_name_ok(name) || !hex || strlen(hex) != 64 ||
		    ml_hex_decode(hex, 64, d, sizeof d))
			return ml_err_set(e, ML_EINPUT, "not a report signature: subject %zu is not "
					  "a plain file name with a SHA-256", i);
		for (j = 0; j < i; j++)
			if (!strcmp(name, json_string_value(json_object_get(
						  json_array_get(subj, j), "name"))))
				return ml_err_set(e, ML_EINPUT, "not a report signature: %s is "
						  "listed twice", name);
	}
	return ML_OK;
}

int
ml_report_open(const struct ml_pubkey *k, const char *sig, size_t siglen, json_t **stmt,
	       struct ml_err *e)
{
	json_t *o = json_loadb(sig, siglen, JSON_REJECT_DUPLICATES, NULL), *s, *st = NULL;
	const char *type, *b64p, *b64s, *sid;
	struct ml_buf pae = {0};
	uint8_t raw[ML_SIG_LEN], *payload = NULL;
	char keyid[ML_KEYID_MAX];
	size_t plen = 0;
	int rc;

	type = json_string_value(json_object_get(o, "payloadType"));
	s = json_array_get(json_object_get(o, "signatures"), 0);
	sid = json_string_value(json_object_get(s, "keyid"));
	b64s = json_string_value(json_object_get(s, "sig"));
	b64p = json_string_value(json_object_get(o, "payload"));
	if (type && !strcmp(type, ML_REPORT_OLD_PAYLOAD_TYPE)) {
		rc = ml_err_set(e, ML_EINPUT, "an old-format report signature (%s: one file, no "
				"scope) no longer suffices; sign the report again with mlledger "
				"report --sign", ML_REPORT_OLD_PAYLOAD_TYPE);
		goto out;
	}
	if (!o || !type || strcmp(type, ML_PAYLOAD_TYPE) || !sid || !b64s || !b64p ||
	    json_array_size(json_object_get(o, "signatures")) != 1 ||
	    ml_b64_decode_exact(b64s, strlen(b64s), raw, ML_SIG_LEN) ||
	    ml_b64_decode(b64p, strlen(b64p), &payload, &plen)) {
		rc = ml_err_set(e, ML_EINPUT, "not a report signature (a DSSE envelope of type %s "
				"with one signature expected)", ML_PAYLOAD_TYPE);
		goto out;
	}
	ml_pubkey_keyid(k, keyid);
	if (strcmp(sid, keyid)) {
		rc = ml_err_set(e, ML_EINTEGRITY, "signed by %.140s, not by %s", sid, keyid);
		goto out;
	}
	ml_dsse_pae(ML_PAYLOAD_TYPE, payload, plen, &pae);
	if (pae.oom) {
		rc = oom(e);
		goto out;
	}
	if (!ml_pubkey_verify(k, pae.data, pae.len, raw)) {
		rc = ml_err_set(e, ML_EINTEGRITY, "the signature does not verify");
		goto out;
	}
	st = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, NULL);
	if ((rc = check_statement(st, e)) == ML_OK) {
		*stmt = st;
		st = NULL;
	}
out:
	ml_buf_free(&pae);
	free(payload);
	json_decref(st);
	json_decref(o);
	return rc;
}

const char *
ml_report_subject_sha256(const json_t *stmt, const char *name)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(stmt, "subject"), i, s)
		if (!strcmp(json_string_value(json_object_get(s, "name")), name))
			return json_string_value(json_object_get(json_object_get(s, "digest"),
								 "sha256"));
	return NULL;
}

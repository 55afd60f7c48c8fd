/* report_signoff — see report_signoff.h. */
#include "report_signoff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_sig.h"

/* The people.keys row of keyid in model, or NULL (borrowed). */
static json_t *
key_row(const json_t *model, const char *keyid)
{
	json_t *k;
	size_t i;

	json_array_foreach(ml_report_get(model, "people.keys"), i, k)
		if (!strcmp(json_string_value(json_object_get(k, "keyid")) ?: "", keyid))
			return k;
	return NULL;
}

static const char *
sv(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The signer object and the sentence naming them. */
static json_t *
signer_of(const json_t *model, const struct ml_report_signer *s, struct ml_buf *who)
{
	json_t *row = key_row(model, s->keyid), *rv;
	const char *person = sv(row, "person"), *name = sv(row, "personName");

	if (!row) {
		ml_buf_printf(who, "Signed with key %s, which is not enrolled in this ledger: the "
			      "signature shows that the holder of that key issued the report, not a "
			      "person this ledger knows.", s->keyid);
		return json_pack("{s:s, s:s, s:n, s:n, s:b, s:n, s:n, s:n}", "keyid", s->keyid,
				 "keyName", s->key_name, "person", "personName", "enrolled", 0,
				 "roles", "enrolledSeq", "revokedSeq");
	}
	if (name && person)
		ml_buf_printf(who, "Signed by %s (%s) with key %s", name, person, s->keyid);
	else
		ml_buf_printf(who, "Signed by %s with key %s", person ? person : s->key_name,
			      s->keyid);
	ml_buf_printf(who, ", enrolled at entry %lld with roles %s.",
		      (long long)json_integer_value(json_object_get(row, "enrolledSeq")),
		      sv(row, "roles") ?: "?");
	rv = json_object_get(row, "revokedSeq");
	if (json_is_integer(rv))
		ml_buf_printf(who, " The key was revoked at entry %lld: this ledger no longer "
			      "accepts its signatures.", (long long)json_integer_value(rv));
	return json_pack("{s:s, s:s, s:O, s:O, s:b, s:O, s:O, s:O}", "keyid", s->keyid,
			 "keyName", s->key_name, "person", json_object_get(row, "person"),
			 "personName", json_object_get(row, "personName"), "enrolled", 1,
			 "roles", json_object_get(row, "roles"), "enrolledSeq",
			 json_object_get(row, "enrolledSeq"), "revokedSeq", rv ? rv : json_null());
}

static void
row(json_t *rows, const char *item, const char *text)
{
	json_array_append_new(rows, json_pack("{s:s, s:s}", "item", item, "text", text));
}

/* The section of a signed report. */
static json_t *
signed_section(const json_t *model, const struct ml_report_signer *s)
{
	struct ml_buf who = {0}, covers = {0}, sigf = {0}, verify = {0}, ledger = {0};
	int folder = !strcmp(s->format, "csv-folder");
	json_t *signer = signer_of(model, s, &who), *rows = json_array(), *out = NULL;

	if (folder)
		ml_buf_printf(&covers, "Every table of the folder %s: the signed manifest %s lists "
			      "each table file with its SHA-256, so a table changed, added, removed or "
			      "taken from another report fails; and the report's scope (ledger "
			      "origin, checkpoint, period, as-of time, policies).", s->file,
			      ML_REPORT_MANIFEST);
	else
		ml_buf_printf(&covers, "The exact bytes of this file, %s (its SHA-256), this "
			      "section included; and the report's scope (ledger origin, checkpoint, "
			      "period, as-of time, policies).", s->file);
	ml_buf_printf(&sigf, folder ? "%s/" ML_REPORT_MANIFEST : "%s.sig.json", s->file);
	ml_buf_printf(&verify, "mlledger verify-report %s --key %s.pub", s->file, s->key_name);
	if (s->record)
		ml_buf_printf(&ledger, "Recorded in the ledger as a report entry signed by the same "
			      "key, subject %s, digest the SHA-256 of %s%s (compare sha256sum). "
			      "mlledger verify-report %s --key %s.pub --in-ledger finds it; so "
			      "does mlledger log --kind report --subject %s, and mlledger prove "
			      "SEQ proves its inclusion.", s->file, folder ? s->file : "this file",
			      folder ? "/" ML_REPORT_MANIFEST : "", s->file, s->key_name, s->file);
	else
		ml_buf_puts(&ledger, "Not recorded in the ledger (mlledger report --sign KEY "
			    "--record records it).");
	if (who.oom || covers.oom || sigf.oom || verify.oom || ledger.oom || !signer || !rows)
		goto out;
	row(rows, "Signed by", (const char *)who.data);
	row(rows, "The signature covers", (const char *)covers.data);
	row(rows, "Signature file", (const char *)sigf.data);
	row(rows, "Verify with", (const char *)verify.data);
	row(rows, "In the ledger", (const char *)ledger.data);
	out = json_pack("{s:b, s:s, s:O, s:s, s:s, s:s, s:b, s:s, s:O}", "signed", 1,
			"statement", (const char *)who.data, "signer", signer, "covers",
			(const char *)covers.data, "signatureFile", (const char *)sigf.data,
			"verify", (const char *)verify.data, "recorded", s->record, "ledger",
			(const char *)ledger.data, "rows", rows);
out:
	json_decref(signer);
	json_decref(rows);
	ml_buf_free(&who);
	ml_buf_free(&covers);
	ml_buf_free(&sigf);
	ml_buf_free(&verify);
	ml_buf_free(&ledger);
	return out;
}

static json_t *
unsigned_section(void)
{
	static const char stmt[] = "This report is not signed: nothing vouches for these bytes "
				   "but the copy you hold. mlledger report --sign KEY signs it, "
				   "and --record also records it in the ledger.";
	json_t *rows = json_array();

	if (!rows)
		return NULL;
	row(rows, "Signed by", "nobody (unsigned)");
	return json_pack("{s:b, s:s, s:n, s:n, s:n, s:n, s:b, s:n, s:o}", "signed", 0,
			 "statement", stmt, "signer", "covers", "signatureFile", "verify",
			 "recorded", 0, "ledger", "rows", rows);
}

int
ml_report_signoff(json_t *model, const struct ml_report_signer *s, struct ml_err *e)
{
	json_t *sec = s ? signed_section(model, s) : unsigned_section();

	if (!sec || json_object_set_new(model, "signOff", sec))
		return ml_err_set(e, ML_EIO, "out of memory");
	return ML_OK;
}

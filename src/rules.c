/* rules — see rules.h. */
#include "rules.h"

#include <stdio.h>
#include <string.h>

int
ml_roles_has(const char *roles, const char *role)
{
	size_t n = strlen(role);
	const char *p = roles;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, role, n) == 0)
			return 1;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

static const char *
pred_str(const struct ml_statement *st, const char *field)
{
	return json_string_value(json_object_get(st->predicate, field));
}

/* The signer at seq 0 is the admin key the genesis statement enrols. */
static int
genesis_signer(struct ml_checked *c, struct ml_err *e)
{
	const char *admin = pred_str(&c->st, "admin");

	if (c->st.kind != ML_KIND_GENESIS)
		return ml_err_set(e, ML_EINPUT, "entry 0 must be the genesis entry");
	if (ml_pubkey_parse(admin, strlen(admin), &c->signer, e))
		return e->code;
	snprintf(c->roles, sizeof c->roles, "admin");
	return ML_OK;
}

static int
enrolled_signer(struct ml_store *s, enum ml_db db, struct ml_checked *c,
		struct ml_err *e)
{
	struct ml_key_row row;
	int found;

	if (c->st.kind == ML_KIND_GENESIS)
		return ml_err_set(e, ML_EINPUT, "a genesis statement is only valid as entry 0");
	if (ml_store_key_get(s, db, c->env.keyid, &row, &found, e))
		return e->code;
	if (!found)
		return ml_err_set(e, ML_EKEY, "key %s is not enrolled in this ledger",
				  c->env.keyid);
	if (row.revoked_seq >= 0)
		return ml_err_set(e, ML_EKEY, "key %s was revoked at entry %lld",
				  c->env.keyid, (long long)row.revoked_seq);
	if (ml_pubkey_parse_recorded(row.vkey, strlen(row.vkey), &c->signer, e))
		return ml_err_set(e, ML_EINTEGRITY, "stored key %s is corrupt", row.keyid);
	snprintf(c->roles, sizeof c->roles, "%s", row.roles);
	return ML_OK;
}

static int
check_enrollment(struct ml_store *s, enum ml_db db, struct ml_checked *c,
		 struct ml_err *e)
{
	struct ml_pubkey k;
	struct ml_key_row row;
	char keyid[ML_KEYID_MAX];
	const char *vkey = pred_str(&c->st, "key");
	int found;

	ml_pubkey_parse(vkey, strlen(vkey), &k, NULL);
	ml_pubkey_keyid(&k, keyid);
	if (ml_store_key_get(s, db, keyid, &row, &found, e))
		return e->code;
	if (!found && ml_store_key_by_pubkey(s, db, vkey, &row, &found, e))
		return e->code;
	if (found)
		return ml_err_set(e, ML_EINPUT, "this public key was already enrolled as %s at "
				  "entry %lld%s; a key is enrolled once", row.keyid,
				  (long long)row.enrolled_seq,
				  row.revoked_seq >= 0 ? " and has been revoked" : "");
	if (ml_store_key_active_by_name(s, db, k.name, &row, &found, e))
		return e->code;
	if (found)
		return ml_err_set(e, ML_EINPUT, "an active key named \"%s\" exists (%s); "
				  "revoke it first", k.name, row.keyid);
	return ML_OK;
}

static int
check_revocation(struct ml_store *s, enum ml_db db, struct ml_checked *c,
		 struct ml_err *e)
{
	struct ml_pubkey k;
	struct ml_key_row row;
	char keyid[ML_KEYID_MAX];
	const char *vkey = pred_str(&c->st, "key");
	int64_t admins;
	int found;

	ml_pubkey_parse(vkey, strlen(vkey), &k, NULL);
	ml_pubkey_keyid(&k, keyid);
	if (ml_store_key_get(s, db, keyid, &row, &found, e))
		return e->code;
	if (!found || row.revoked_seq >= 0)
		return ml_err_set(e, ML_EINPUT, "key %s is not an active enrolled key", keyid);
	if (ml_roles_has(row.roles, "admin")) {
		if (ml_store_admin_count(s, db, &admins, e))
			return e->code;
		if (admins <= 1)
			return ml_err_set(e, ML_EINPUT, "key %s is the last active admin key; "
					  "enrol another admin first", keyid);
	}
	return ML_OK;
}

/* A reference {"name": REF, "digest": {"sha256": HEX}} must name a
 * recorded version of kind with that digest. */
static int
check_ref(struct ml_store *s, enum ml_db db, const char *kind, json_t *ref,
	  struct ml_err *e)
{
	const char *name = json_string_value(json_object_get(ref, "name"));
	const char *hex = json_string_value(
		json_object_get(json_object_get(ref, "digest"), "sha256"));
	uint8_t want[ML_SHA256_LEN], have[ML_SHA256_LEN];
	int64_t seq;
	int found;

	ml_hex_decode(hex, strlen(hex), want, sizeof want);
	if (ml_store_subject_get(s, db, kind, name, have, &seq, &found, e))
		return e->code;
	if (!found)
		return ml_err_set(e, ML_EINPUT, "unknown %s %s (record it first)", kind, name);
	if (memcmp(want, have, ML_SHA256_LEN) != 0)
		return ml_err_set(e, ML_EINPUT, "%s %s: digest differs from entry %lld", kind,
				  name, (long long)seq);
	return ML_OK;
}

static int
check_versioned(struct ml_store *s, enum ml_db db, struct ml_checked *c,
		struct ml_err *e)
{
	const char *kind = ml_kind_name(c->st.kind);
	uint8_t have[ML_SHA256_LEN];
	json_t *refs, *r;
	int64_t seq;
	size_t i;
	int found;

	if (ml_store_subject_get(s, db, kind, c->st.subject, have, &seq, &found, e))
		return e->code;
	if (found && memcmp(have, c->st.digest, ML_SHA256_LEN) != 0)
		return ml_err_set(e, ML_EINPUT, "%s %s was recorded at entry %lld with another "
				  "digest; versions are immutable (record a new version)",
				  kind, c->st.subject, (long long)seq);
	if (c->st.kind != ML_KIND_MODEL)
		return ML_OK;
	refs = json_object_get(c->st.predicate, "datasets");
	json_array_foreach(refs, i, r)
		if (check_ref(s, db, "dataset", r, e))
			return e->code;
	r = json_object_get(c->st.predicate, "parent");
	if (r && check_ref(s, db, "model", r, e))
		return e->code;
	return ML_OK;
}

static int
check_about_model(struct ml_store *s, enum ml_db db, struct ml_checked *c,
		  struct ml_err *e)
{
	uint8_t have[ML_SHA256_LEN];
	int64_t seq;
	int found;
	json_t *ds;

	if (ml_store_subject_get(s, db, "model", c->st.subject, have, &seq, &found, e))
		return e->code;
	if (!found)
		return ml_err_set(e, ML_EINPUT, "unknown model %s (record it first)",
				  c->st.subject);
	if (memcmp(have, c->st.digest, ML_SHA256_LEN) != 0)
		return ml_err_set(e, ML_EINPUT, "%s for %s names another artifact digest than "
				  "entry %lld", ml_kind_name(c->st.kind), c->st.subject,
				  (long long)seq);
	ds = json_object_get(c->st.predicate, "dataset");
	if (ds && check_ref(s, db, "dataset", ds, e))
		return e->code;
	return ML_OK;
}

static int
check_kind(struct ml_store *s, enum ml_db db, struct ml_checked *c, struct ml_err *e)
{
	switch (c->st.kind) {
	case ML_KIND_GENESIS:
		return ML_OK;
	case ML_KIND_KEY_ENROLLMENT:
	case ML_KIND_KEY_REVOCATION:
		if (!ml_roles_has(c->roles, "admin"))
			return ml_err_set(e, ML_EKEY, "key %s does not hold role admin, which %s "
					  "needs", c->env.keyid, ml_kind_name(c->st.kind));
		return c->st.kind == ML_KIND_KEY_ENROLLMENT ? check_enrollment(s, db, c, e)
							    : check_revocation(s, db, c, e);
	case ML_KIND_DATASET:
	case ML_KIND_MODEL:
		return check_versioned(s, db, c, e);
	case ML_KIND_GATE: {
		/* a decision can only have evaluated the ledger before it */
		json_t *size = json_object_get(json_object_get(c->st.predicate, "ledger"), "size");
		if ((uint64_t)json_integer_value(size) > c->seq)
			return ml_err_set(e, ML_EINPUT, "gate decision for %s claims a ledger of "
					  "%lld entries, more than came before it", c->st.subject,
					  (long long)json_integer_value(size));
		return check_about_model(s, db, c, e);
	}
	default:
		return check_about_model(s, db, c, e);
	}
}

static void
fill_index(struct ml_checked *c)
{
	struct ml_index_row *ix = &c->ix;
	char name[129], version[65];

	memset(ix, 0, sizeof *ix);
	ix->seq = (int64_t)c->seq;
	snprintf(ix->kind, sizeof ix->kind, "%s", ml_kind_name(c->st.kind));
	if (ml_ref_split(c->st.subject, name, version) == 0 &&
	    c->st.kind != ML_KIND_GENESIS && c->st.kind != ML_KIND_KEY_ENROLLMENT &&
	    c->st.kind != ML_KIND_KEY_REVOCATION) {
		snprintf(ix->name, sizeof ix->name, "%s", name);
		snprintf(ix->version, sizeof ix->version, "%s", version);
	} else {
		snprintf(ix->name, sizeof ix->name, "%s", c->st.subject);
	}
	memcpy(ix->keyid, c->env.keyid, sizeof ix->keyid);
	memcpy(ix->stmt_hash, c->stmt_hash, ML_SHA256_LEN);
}

int
ml_rules_check(struct ml_store *s, enum ml_db db, uint64_t seq,
	       const uint8_t *envelope, size_t len, int check_sig,
	       const struct ml_statement *hint, struct ml_checked *out, struct ml_err *e)
{
	struct ml_checked c;
	char keyid[ML_KEYID_MAX];
	int64_t dup;
	int found, rc;

	memset(&c, 0, sizeof c);
	c.seq = seq;
	if ((rc = ml_envelope_parse(envelope, len, &c.env, e)) != ML_OK)
		return rc;
	ml_sha256(c.env.payload, c.env.payload_len, c.stmt_hash);
	if (hint && memcmp(hint->source_sha256, c.stmt_hash, ML_SHA256_LEN) == 0) {
		c.st = *hint; /* the same bytes: the same parse */
		json_incref(c.st.root);
	} else if ((rc = ml_statement_parse(c.env.payload, c.env.payload_len, &c.st, e)) !=
		   ML_OK) {
		goto fail;
	}
	rc = seq == 0 ? genesis_signer(&c, e) : enrolled_signer(s, db, &c, e);
	if (rc)
		goto fail;
	ml_pubkey_keyid(&c.signer, keyid);
	if (strcmp(keyid, c.env.keyid) != 0) {
		rc = ml_err_set(e, ML_EKEY, "entry 0 must be signed by the admin key it enrols");
		goto fail;
	}
	if (check_sig && !ml_envelope_verify(&c.env, &c.signer)) {
		rc = ml_err_set(e, ML_EKEY, "signature by %s does not verify", c.env.keyid);
		goto fail;
	}
	if ((rc = ml_store_index_find(s, db, c.env.keyid, c.stmt_hash, &dup, &found, e)))
		goto fail;
	if (found) {
		rc = ml_err_set(e, ML_EINPUT, "duplicate: the same statement signed by %s is "
				"entry %lld", c.env.keyid, (long long)dup);
		goto fail;
	}
	if ((rc = check_kind(s, db, &c, e)) != ML_OK)
		goto fail;
	fill_index(&c);
	*out = c;
	return ML_OK;
fail:
	ml_checked_free(&c);
	return rc;
}

int
ml_rules_apply(struct ml_store *s, enum ml_db db, const struct ml_checked *c,
	       struct ml_err *e)
{
	const struct ml_statement *st = &c->st;
	struct ml_key_row row;
	struct ml_pubkey k;
	int64_t seq;
	uint8_t have[ML_SHA256_LEN];
	int found;
	const char *vkey;

	if (ml_store_index_insert(s, db, &c->ix, e))
		return e->code;
	switch (st->kind) {
	case ML_KIND_GENESIS:
	case ML_KIND_KEY_ENROLLMENT:
		vkey = pred_str(st, st->kind == ML_KIND_GENESIS ? "admin" : "key");
		ml_pubkey_parse(vkey, strlen(vkey), &k, NULL);
		memset(&row, 0, sizeof row);
		ml_pubkey_keyid(&k, row.keyid);
		snprintf(row.name, sizeof row.name, "%s", k.name);
		snprintf(row.vkey, sizeof row.vkey, "%s", vkey);
		if (st->kind == ML_KIND_GENESIS) {
			snprintf(row.roles, sizeof row.roles, "admin");
		} else {
			json_t *r;
			size_t i;
			json_array_foreach(json_object_get(st->predicate, "roles"), i, r) {
				size_t n = strlen(row.roles);
				snprintf(row.roles + n, sizeof row.roles - n, "%s%s", i ? "," : "",
					 json_string_value(r));
			}
		}
		row.enrolled_seq = (int64_t)c->seq;
		return ml_store_key_insert(s, db, &row, e);
	case ML_KIND_KEY_REVOCATION:
		vkey = pred_str(st, "key");
		ml_pubkey_parse(vkey, strlen(vkey), &k, NULL);
		ml_pubkey_keyid(&k, row.keyid);
		return ml_store_key_revoke(s, db, row.keyid, (int64_t)c->seq, e);
	case ML_KIND_DATASET:
	case ML_KIND_MODEL:
		if (ml_store_subject_get(s, db, ml_kind_name(st->kind), st->subject, have, &seq,
					 &found, e))
			return e->code;
		if (found)
			return ML_OK; /* same digest again: the first entry stays the record */
		return ml_store_subject_insert(s, db, ml_kind_name(st->kind), st->subject,
					       st->digest, (int64_t)c->seq, e);
	default:
		return ML_OK;
	}
}

void
ml_checked_free(struct ml_checked *c)
{
	if (!c)
		return;
	ml_envelope_clear(&c->env);
	ml_statement_free(&c->st);
}

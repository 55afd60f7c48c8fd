/* retry — see retry.h. */
#include "retry.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chain.h"

/* An entry read back to confirm a projection hit.  Owns what it holds. */
struct held {
	struct ml_entry en;
	uint8_t *bytes;              /* the stored envelope (en.envelope) */
	uint8_t leaf[ML_SHA256_LEN];
	struct ml_envelope env;
	uint8_t stmt_hash[ML_SHA256_LEN];
};

static void
held_free(struct held *h)
{
	ml_envelope_clear(&h->env);
	free(h->bytes);
}

/* Reads and parses entry seq.  ML_OK with *held true when it reads and
 * parses, or false when it does not (missing or malformed: the projection
 * row is wrong, so no answer); ML_EIO (the store's code) when it cannot
 * tell. */
static enum ml_rc
held_read(struct ml_store *s, int64_t seq, struct held *h, bool *held, struct ml_err *e)
{
	struct ml_err ignore;
	int rc;

	memset(h, 0, sizeof *h);
	*held = false;
	if (seq < 0)
		return ML_OK;
	rc = ml_store_entry_get(s, (uint64_t)seq, &h->en, &h->bytes, h->leaf, e);
	if (rc == ML_EINPUT)
		return ML_OK;
	if (rc)
		return rc;
	if (ml_envelope_parse(h->en.envelope, h->en.envelope_len, &h->env, &ignore) != ML_OK) {
		free(h->bytes);
		h->bytes = NULL;
		return ML_OK;
	}
	ml_sha256(h->env.payload, h->env.payload_len, h->stmt_hash);
	*held = true;
	return ML_OK;
}

/* True when every countersignature of env verifies with the enrolled key
 * of its keyid (as the author's, revoked or not), so that a held statement
 * under a forged countersignature is answered as a forgery, not a retry. */
static int
cosignatures_ok(struct ml_store *s, const struct ml_envelope *env,
		const struct ml_pubkey *author, int *ok, struct ml_err *e)
{
	struct ml_pubkey co[ML_ENVELOPE_MAX_SIGS - 1];
	struct ml_key_row row;
	struct ml_err ignore;
	size_t i;
	int found, rc;

	*ok = 0;
	for (i = 0; i < env->nco; i++) {
		if ((rc = ml_store_key_get(s, ML_DB_MAIN, env->co[i].keyid, &row, &found, e)))
			return rc;
		if (!found ||
		    ml_pubkey_parse_recorded(row.vkey, strlen(row.vkey), &co[i], &ignore) != ML_OK)
			return ML_OK;
	}
	*ok = ml_envelope_verify_all(env, author, co, NULL);
	return ML_OK;
}

/* True when env's signature verifies with the enrolled key of its keyid
 * (revoked or not: the entry it repeats was appended while it was valid).
 * signed_by short-cuts the check when it is that key. */
static int
signature_ok(struct ml_store *s, const struct ml_envelope *env,
	     const struct ml_pubkey *signed_by, int *ok, struct ml_err *e)
{
	struct ml_key_row row;
	struct ml_pubkey k;
	struct ml_err ignore;
	int found, rc;

	*ok = 0;
	if ((rc = ml_store_key_get(s, ML_DB_MAIN, env->keyid, &row, &found, e)))
		return rc;
	if (!found || ml_pubkey_parse_recorded(row.vkey, strlen(row.vkey), &k, &ignore) != ML_OK)
		return ML_OK;
	if (signed_by && memcmp(signed_by->pk, k.pk, ML_PUBKEY_LEN) == 0 &&
	    strcmp(signed_by->name, k.name) == 0)
		*ok = 1;
	else
		*ok = ml_envelope_verify(env, &k);
	if (*ok && env->nco)
		return cosignatures_ok(s, env, &k, ok, e);
	return ML_OK;
}

/* A copy of a statement's JSON without predicate.time (new reference). */
static json_t *
without_time(json_t *root)
{
	json_t *copy = json_deep_copy(root);
	json_t *pred = copy ? json_object_get(copy, "predicate") : NULL;

	if (pred)
		json_object_del(pred, "time");
	return copy;
}

enum ml_rc
ml_retry_same_content(json_t *a, json_t *b, bool *same)
{
	json_t *x = without_time(a), *y = without_time(b);
	enum ml_rc rc = x && y ? ML_OK : ML_EIO;

	if (rc == ML_OK)
		*same = json_equal(x, y) == 1;
	json_decref(x);
	json_decref(y);
	return rc;
}

/* The same keyid and statement bytes: entry_index, confirmed. */
static int
find_same_bytes(struct ml_store *s, const uint8_t *envelope, size_t len,
		const struct ml_envelope *env, const uint8_t hash[ML_SHA256_LEN],
		const struct ml_pubkey *signed_by, struct ml_retry_hit *hit, int *found,
		struct ml_err *e)
{
	struct held h;
	int64_t seq;
	int any, ok, rc;
	bool held;

	if ((rc = ml_store_index_find(s, ML_DB_MAIN, env->keyid, hash, &seq, &any, e)))
		return rc;
	if (!any)
		return ML_OK;
	if ((rc = held_read(s, seq, &h, &held, e)) != ML_OK || !held)
		return rc;
	if (strcmp(h.env.keyid, env->keyid) != 0 ||
	    memcmp(h.stmt_hash, hash, ML_SHA256_LEN) != 0)
		goto out; /* a wrong index row: no answer */
	/* The stored bytes verified when they were appended. */
	ok = h.en.envelope_len == len && memcmp(h.en.envelope, envelope, len) == 0;
	if (!ok && (rc = signature_ok(s, env, signed_by, &ok, e)))
		goto out;
	if (ok) {
		*found = 1;
		hit->seq = (uint64_t)seq;
		hit->time_us = h.en.time_us;
		hit->by_key = 0;
		memcpy(hit->leaf, h.leaf, ML_SHA256_LEN);
	} else {
		/* a held statement under a signature that does not verify: a
		 * forgery, not a retry (and not merely a duplicate) */
		rc = ml_err_set(e, ML_EKEY, "signature by %s does not verify", env->keyid);
	}
out:
	held_free(&h);
	return rc;
}

/* The same keyid and idempotencyKey: idempotency_keys, confirmed. */
static int
find_same_key(struct ml_store *s, const struct ml_envelope *env, const struct ml_statement *st,
	      const char *key, const struct ml_pubkey *signed_by, struct ml_retry_hit *hit,
	      int *found, struct ml_err *e)
{
	struct ml_statement old;
	struct ml_err ignore;
	struct held h;
	const char *k2;
	int64_t seq;
	int any, ok, rc;
	bool held, same;

	if ((rc = ml_store_idem_find(s, ML_DB_MAIN, env->keyid, key, &seq, &any, e)))
		return rc;
	if (!any)
		return ML_OK;
	if ((rc = held_read(s, seq, &h, &held, e)) != ML_OK || !held)
		return rc;
	memset(&old, 0, sizeof old);
	if (strcmp(h.env.keyid, env->keyid) != 0 ||
	    ml_statement_parse(h.env.payload, h.env.payload_len, &old, &ignore) != ML_OK)
		goto out; /* a wrong row: no answer */
	k2 = json_string_value(json_object_get(old.predicate, ML_IDEMPOTENCY_MEMBER));
	if (!k2 || strcmp(k2, key) != 0)
		goto out;
	if ((rc = signature_ok(s, env, signed_by, &ok, e)) || !ok)
		goto out;
	if (ml_retry_same_content(st->root, old.root, &same) != ML_OK) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
	} else if (same) {
		*found = 1;
		hit->seq = (uint64_t)seq;
		hit->time_us = h.en.time_us;
		hit->by_key = 1;
		memcpy(hit->leaf, h.leaf, ML_SHA256_LEN);
	} else {
		rc = ml_err_set(e, ML_ECONFLICT, "conflict: idempotency key \"%s\" of %s is "
				"already recorded at seq %lld with other content (a new request "
				"needs a new key)", key, env->keyid, (long long)seq);
		if (e)
			e->seq = (long long)seq; /* the entry the conflict names */
	}
out:
	ml_statement_free(&old);
	held_free(&h);
	return rc;
}

int
ml_retry_find(struct ml_store *s, const uint8_t *envelope, size_t len,
	      const struct ml_pubkey *signed_by, const struct ml_statement *hint,
	      struct ml_retry_hit *hit, int *found, struct ml_err *e)
{
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_err ignore;
	uint8_t hash[ML_SHA256_LEN];
	const char *key;
	int rc;

	*found = 0;
	memset(&env, 0, sizeof env);
	memset(&st, 0, sizeof st);
	if (hint && signed_by && !json_object_get(hint->predicate, ML_IDEMPOTENCY_MEMBER)) {
		/* The caller signed hint's bytes just now (an import): look up its
		 * keyid and statement hash without parsing the envelope back.  Only
		 * a hit needs the envelope; a wrong hint can only miss a retry, and
		 * the rules then refuse the duplicate. */
		char keyid[ML_KEYID_MAX];
		int64_t seq;
		int any;
		ml_pubkey_keyid(signed_by, keyid);
		if ((rc = ml_store_index_find(s, ML_DB_MAIN, keyid, hint->source_sha256, &seq, &any,
					      e)) || !any)
			return rc;
	}
	if (len > ML_MAX_ENVELOPE || ml_envelope_parse(envelope, len, &env, &ignore) != ML_OK)
		return ML_OK; /* the rules say what is wrong with it */
	ml_sha256(env.payload, env.payload_len, hash);
	if ((rc = find_same_bytes(s, envelope, len, &env, hash, signed_by, hit, found, e)) ||
	    *found)
		goto out;
	if (hint && memcmp(hint->source_sha256, hash, ML_SHA256_LEN) == 0) {
		st = *hint;
		json_incref(st.root);
	} else if (ml_statement_parse(env.payload, env.payload_len, &st, &ignore) != ML_OK) {
		goto out;
	}
	key = json_string_value(json_object_get(st.predicate, ML_IDEMPOTENCY_MEMBER));
	if (key)
		rc = find_same_key(s, &env, &st, key, signed_by, hit, found, e);
out:
	ml_statement_free(&st);
	ml_envelope_clear(&env);
	return rc;
}

struct backfill {
	struct ml_store *s;
	struct ml_err *e;
	int rc;
};

static int
backfill_one(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	     const struct ml_index_row *ix, int has_ix)
{
	struct backfill *b = ctx;
	struct ml_envelope env;
	struct ml_statement st;
	const char *key;

	(void)leaf;
	(void)ix;
	(void)has_ix;
	memset(&env, 0, sizeof env);
	memset(&st, 0, sizeof st);
	if (ml_envelope_parse(en->envelope, en->envelope_len, &env, b->e) != ML_OK ||
	    ml_statement_parse(env.payload, env.payload_len, &st, b->e) != ML_OK) {
		ml_envelope_clear(&env);
		b->rc = ML_EINTEGRITY;
		b->e->code = ML_EINTEGRITY;
		b->e->seq = (long long)en->seq;
		return 1;
	}
	key = json_string_value(json_object_get(st.predicate, ML_IDEMPOTENCY_MEMBER));
	if (key)
		b->rc = ml_store_idem_insert(b->s, ML_DB_MAIN, env.keyid, key, (int64_t)en->seq,
					     b->e);
	ml_statement_free(&st);
	ml_envelope_clear(&env);
	return b->rc ? 1 : 0;
}

int
ml_retry_prepare(struct ml_store *s, struct ml_err *e)
{
	struct backfill b = {s, e, ML_OK};
	int present, rc;

	if ((rc = ml_store_idem_present(s, &present, e)) || present)
		return rc;
	if ((rc = ml_store_idem_create(s, e)))
		return rc;
	rc = ml_store_scan(s, 0, backfill_one, &b, e);
	return b.rc ? b.rc : rc;
}

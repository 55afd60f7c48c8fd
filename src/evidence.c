/* evidence — see evidence.h. */
#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "note.h"
#include "rules.h"
#include "statement.h"
#include "store.h"
#include "tlog.h"

#define MAX_KEYS 4096

/* What the builder keeps while it works. */
struct ev {
	struct ml_ledger *l;
	struct ml_store *s;
	struct ml_err *e;
	uint64_t size;                 /* of the latest checkpoint */
	uint8_t root[ML_SHA256_LEN];
	struct ml_key_row *keys;       /* every enrolled key */
	unsigned char *key_ok;         /* 1: its enrolment was verified */
	size_t nkeys;
	xmlDocPtr doc;
	xmlNsPtr ns;
	int64_t as_of_us;
};

static int
bad(struct ev *v, uint64_t seq, const char *why)
{
	char reason[256];

	snprintf(reason, sizeof reason, "%s", why);
	ml_err_set(v->e, ML_EINTEGRITY, "evidence entry %llu: %s", (unsigned long long)seq,
		   reason);
	v->e->seq = (long long)seq;
	return ML_EINTEGRITY;
}

/* The latest checkpoint, its signature by the log key. */
static int
load_checkpoint(struct ev *v)
{
	struct ml_pubkey logk;
	struct ml_checkpoint c;
	struct ml_note n;
	char *note = NULL;
	uint64_t size;
	int rc, ok;

	if ((rc = ml_store_checkpoint_get(v->s, -1, &size, &note, v->e)))
		return rc;
	rc = ml_pubkey_parse(ml_ledger_logkey(v->l), strlen(ml_ledger_logkey(v->l)), &logk, v->e);
	if (rc == ML_OK)
		rc = ml_note_parse(note, strlen(note), &n, v->e);
	free(note);
	if (rc)
		return ml_err_set(v->e, ML_EINTEGRITY, "the latest checkpoint is malformed");
	ok = ml_note_verify(&n, &logk) &&
	     ml_checkpoint_parse(n.text, n.text_len, &c, NULL) == ML_OK && c.size == size &&
	     strcmp(c.origin, ml_ledger_origin(v->l)) == 0;
	ml_note_clear(&n);
	if (!ok)
		return ml_err_set(v->e, ML_EINTEGRITY, "the latest checkpoint is not signed by the "
				  "log key");
	v->size = c.size;
	memcpy(v->root, c.root, ML_SHA256_LEN);
	return ML_OK;
}

static int
collect_key(void *ctx, const struct ml_key_row *row)
{
	struct ev *v = ctx;

	if (v->nkeys == MAX_KEYS)
		return ml_err_set(v->e, ML_EIO, "more than %d keys", MAX_KEYS);
	v->keys[v->nkeys++] = *row;
	return 0;
}

static struct ml_key_row *
find_key(struct ev *v, const char *keyid, size_t *idx)
{
	size_t i;

	for (i = 0; i < v->nkeys; i++)
		if (!strcmp(v->keys[i].keyid, keyid)) {
			*idx = i;
			return &v->keys[i];
		}
	return NULL;
}

/* Reads entry seq and checks its leaf hash and its inclusion under the
 * checkpoint.  *env (malloc'd) and *en hold it. */
static int
read_checked(struct ev *v, uint64_t seq, struct ml_entry *en, uint8_t **env)
{
	uint8_t leaf[ML_SHA256_LEN], want[ML_SHA256_LEN];
	int rc;

	if (seq >= v->size)
		return bad(v, seq, "not covered by the latest checkpoint");
	if ((rc = ml_store_entry_get(v->s, seq, en, env, leaf, v->e)))
		return rc == ML_EINPUT ? bad(v, seq, "missing") : rc;
	ml_leaf_hash(en, want);
	if (memcmp(want, leaf, ML_SHA256_LEN) != 0)
		rc = bad(v, seq, "leaf hash mismatch");
	else if ((rc = ml_tlog_included(v->l, seq, v->size, want, v->root, v->e)))
		rc = rc == ML_EINTEGRITY ? bad(v, seq, "not included in the latest signed "
					       "checkpoint") : rc;
	if (rc) {
		free(*env);
		*env = NULL;
	}
	return rc;
}

static int verify_author(struct ev *v, uint64_t seq, const struct ml_envelope *env,
			 const struct ml_statement *st, struct ml_key_row **who);

/* Verifies the enrolment entry of key i (and, recursively, its author). */
static int
verify_enrolment(struct ev *v, size_t i)
{
	struct ml_key_row *k = &v->keys[i];
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_entry en;
	struct ml_key_row *who;
	uint8_t *bytes = NULL;
	const char *field;
	int rc;

	if (v->key_ok[i])
		return ML_OK;
	v->key_ok[i] = 2; /* in progress: an enrolment cycle is a forgery */
	if ((rc = read_checked(v, (uint64_t)k->enrolled_seq, &en, &bytes)))
		return rc;
	rc = ml_envelope_parse(en.envelope, en.envelope_len, &env, v->e);
	if (rc == ML_OK && (rc = ml_statement_parse(env.payload, env.payload_len, &st, v->e))) {
		ml_envelope_clear(&env);
	}
	free(bytes);
	if (rc)
		return bad(v, (uint64_t)k->enrolled_seq, "the enrolment is not a valid statement");
	field = st.kind == ML_KIND_GENESIS ? "admin" : "key";
	if ((st.kind != ML_KIND_GENESIS && st.kind != ML_KIND_KEY_ENROLLMENT) ||
	    strcmp(json_string_value(json_object_get(st.predicate, field)), k->vkey) != 0)
		rc = bad(v, (uint64_t)k->enrolled_seq, "does not enrol the key it is said to");
	else if (st.kind == ML_KIND_GENESIS) {
		struct ml_pubkey pk;
		rc = ml_pubkey_parse(k->vkey, strlen(k->vkey), &pk, v->e) ||
				     !ml_envelope_verify(&env, &pk)
			     ? bad(v, 0, "the genesis signature does not verify")
			     : ML_OK;
	} else {
		rc = verify_author(v, (uint64_t)k->enrolled_seq, &env, &st, &who);
		if (rc == ML_OK && !ml_roles_has(who->roles, "admin"))
			rc = bad(v, (uint64_t)k->enrolled_seq, "enrolled by a key without role admin");
	}
	ml_statement_free(&st);
	ml_envelope_clear(&env);
	if (rc == ML_OK)
		v->key_ok[i] = 1;
	return rc;
}

/* The entry's author: enrolled before seq, not revoked before it, its own
 * enrolment verified, and the signature valid. */
static int
verify_author(struct ev *v, uint64_t seq, const struct ml_envelope *env,
	      const struct ml_statement *st, struct ml_key_row **who)
{
	struct ml_pubkey pk;
	struct ml_key_row *k;
	size_t i;
	int rc;

	(void)st;
	if (!(k = find_key(v, env->keyid, &i)))
		return bad(v, seq, "signed by a key that was never enrolled");
	if ((uint64_t)k->enrolled_seq >= seq && seq != 0)
		return bad(v, seq, "signed by a key enrolled later");
	if (k->revoked_seq >= 0 && (uint64_t)k->revoked_seq < seq)
		return bad(v, seq, "signed by a revoked key");
	if (v->key_ok[i] == 2)
		return bad(v, seq, "key enrolment loop");
	if ((rc = verify_enrolment(v, i)))
		return rc;
	if (ml_pubkey_parse_recorded(k->vkey, strlen(k->vkey), &pk, v->e) ||
	    !ml_envelope_verify(env, &pk))
		return bad(v, seq, "bad signature");
	*who = k;
	return ML_OK;
}

/* ---- XML --------------------------------------------------------------- */

static void
prop(xmlNodePtr n, const char *name, const char *value)
{
	xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value);
}

static void
prop_i64(xmlNodePtr n, const char *name, long long value)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%lld", value);
	prop(n, name, buf);
}

static void
prop_time(xmlNodePtr n, const char *name, const char *epoch_name, int64_t us)
{
	char t[21];

	ml_time_format(us, t);
	prop(n, name, t);
	prop_i64(n, epoch_name, us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000));
}

static void
prop_digest(xmlNodePtr n, const char *name, const uint8_t d[ML_SHA256_LEN])
{
	char hex[2 * ML_SHA256_LEN + 8];

	memcpy(hex, "sha256:", 7);
	ml_hex_encode(d, ML_SHA256_LEN, hex + 7);
	prop(n, name, hex);
}

static void
scalar_text(json_t *v, char *buf, size_t cap)
{
	if (json_is_string(v))
		snprintf(buf, cap, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, cap, "%.15g", json_real_value(v));
	else
		snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
}

static void
add_named(struct ev *v, xmlNodePtr parent, const char *elem, json_t *obj)
{
	const char *k;
	json_t *x;

	json_object_foreach(obj, k, x) {
		char buf[ML_MAX_FIELD + 1];
		xmlNodePtr c = xmlNewChild(parent, v->ns, (const xmlChar *)elem, NULL);
		scalar_text(x, buf, sizeof buf);
		prop(c, "name", k);
		prop(c, "value", buf);
	}
}

static void
add_ref(struct ev *v, xmlNodePtr parent, const char *elem, json_t *ref)
{
	xmlNodePtr c = xmlNewChild(parent, v->ns, (const xmlChar *)elem, NULL);
	const char *hex = json_string_value(json_object_get(json_object_get(ref, "digest"),
							    "sha256"));
	char d[80];

	prop(c, "ref", json_string_value(json_object_get(ref, "name")));
	snprintf(d, sizeof d, "sha256:%s", hex ? hex : "");
	prop(c, "digest", d);
}

static void
add_predicate(struct ev *v, xmlNodePtr n, const struct ml_statement *st)
{
	static const char *const plain[] = {"environment", "decision", "comment", "rule",
					    "reason", "ticket", "severity", "description",
					    "uri", NULL};
	json_t *p = st->predicate, *x;
	size_t i;

	for (i = 0; plain[i]; i++)
		if (json_is_string(x = json_object_get(p, plain[i])))
			prop(n, plain[i], json_string_value(x));
	if (json_is_string(x = json_object_get(p, "expires"))) {
		int64_t us;
		prop(n, "expires", json_string_value(x));
		if (ml_time_parse(json_string_value(x), &us) == 0)
			prop_i64(n, "expires-epoch", us / 1000000 + 86399);
	}
	json_array_foreach(json_object_get(p, "datasets"), i, x)
		add_ref(v, n, "dataset", x);
	if ((x = json_object_get(p, "dataset")))
		add_ref(v, n, "dataset", x);
	if ((x = json_object_get(p, "parent")))
		add_ref(v, n, "parent", x);
	if ((x = json_object_get(p, "metrics")))
		add_named(v, n, "metric", x);
	if ((x = json_object_get(p, "properties")))
		add_named(v, n, "property", x);
	if ((x = json_object_get(p, "artifact"))) {
		xmlNodePtr a = xmlNewChild(n, v->ns, (const xmlChar *)"artifact", NULL);
		prop(a, "type", json_string_value(json_object_get(x, "type")));
		prop_i64(a, "size", (long long)json_integer_value(json_object_get(x, "size")));
		prop_i64(a, "files", (long long)json_array_size(json_object_get(x, "files")));
	}
}

/* Verifies entry seq and appends its ev:entry.  Dataset references of model
 * entries are added to *refs (a JSON array of names) for the caller. */
static int
add_entry(struct ev *v, uint64_t seq, json_t *refs)
{
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_entry en;
	struct ml_key_row *who = NULL;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	char name[129], version[65], *at;
	xmlNodePtr n;
	json_t *x;
	size_t i;
	int rc;

	if ((rc = read_checked(v, seq, &en, &bytes)))
		return rc;
	if (en.time_us > v->as_of_us) {
		free(bytes); /* recorded after the time of the decision */
		return ML_OK;
	}
	ml_leaf_hash(&en, leaf);
	if ((rc = ml_envelope_parse(en.envelope, en.envelope_len, &env, v->e))) {
		free(bytes);
		return bad(v, seq, "not a DSSE envelope");
	}
	if ((rc = ml_statement_parse(env.payload, env.payload_len, &st, v->e))) {
		ml_envelope_clear(&env);
		free(bytes);
		return bad(v, seq, "not a valid statement");
	}
	rc = verify_author(v, seq, &env, &st, &who);
	if (rc == ML_OK) {
		n = xmlNewChild(xmlDocGetRootElement(v->doc), v->ns, (const xmlChar *)"entry", NULL);
		prop_i64(n, "seq", (long long)seq);
		prop(n, "kind", ml_kind_name(st.kind));
		prop(n, "ref", st.subject);
		snprintf(name, sizeof name, "%s", st.subject);
		at = strchr(name, '@');
		snprintf(version, sizeof version, "%s", at ? at + 1 : "");
		if (at)
			*at = '\0';
		prop(n, "name", name);
		prop(n, "version", version);
		prop_digest(n, "digest", st.digest);
		prop_digest(n, "leaf", leaf);
		prop_time(n, "time", "epoch", en.time_us);
		if (json_is_string(x = json_object_get(st.predicate, "time"))) {
			int64_t us = 0;
			ml_time_parse(json_string_value(x), &us);
			prop_time(n, "signed-at", "signed-epoch", us);
		}
		prop(n, "author", who->name);
		prop(n, "keyid", who->keyid);
		prop(n, "roles", who->roles);
		add_predicate(v, n, &st);
		if (st.kind == ML_KIND_MODEL)
			json_array_foreach(json_object_get(st.predicate, "datasets"), i, x)
				json_array_append(refs, json_object_get(x, "name"));
	}
	ml_statement_free(&st);
	ml_envelope_clear(&env);
	free(bytes);
	return rc;
}

struct seqs {
	uint64_t *v;
	size_t n, cap;
};

static int
seqs_add(struct seqs *s, uint64_t seq)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *p = realloc(s->v, cap * sizeof *p);
		if (!p)
			return -1;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = seq;
	return 0;
}

static int
collect_seq(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	    const struct ml_index_row *ix, int has_ix)
{
	(void)leaf;
	(void)ix;
	(void)has_ix;
	return seqs_add(ctx, en->seq) ? ML_EIO : 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
add_keys(struct ev *v)
{
	size_t i;

	for (i = 0; i < v->nkeys; i++) {
		xmlNodePtr k = xmlNewChild(xmlDocGetRootElement(v->doc), v->ns,
					   (const xmlChar *)"key", NULL);
		prop(k, "name", v->keys[i].name);
		prop(k, "keyid", v->keys[i].keyid);
		prop(k, "roles", v->keys[i].roles);
		prop_i64(k, "enrolled-seq", v->keys[i].enrolled_seq);
		if (v->keys[i].revoked_seq >= 0)
			prop_i64(k, "revoked-seq", v->keys[i].revoked_seq);
	}
}

static int
build(struct ev *v, const char *ref, const char *env, int64_t as_of_us)
{
	char name[129], version[65], b64[64];
	uint8_t digest[ML_SHA256_LEN];
	struct seqs seqs = {0};
	int64_t mseq;
	xmlNodePtr root, c;
	json_t *refs = json_array();
	size_t i;
	int rc;

	if ((rc = load_checkpoint(v)) ||
	    (rc = ml_store_key_each(v->s, collect_key, v, v->e)) ||
	    (rc = ml_ledger_subject(v->l, "model", ref, digest, &mseq, v->e)))
		goto out;
	ml_ref_split(ref, name, version);
	v->doc = xmlNewDoc((const xmlChar *)"1.0");
	root = xmlNewNode(NULL, (const xmlChar *)"evidence");
	xmlDocSetRootElement(v->doc, root);
	v->ns = xmlNewNs(root, (const xmlChar *)ML_EVIDENCE_NS, (const xmlChar *)"ev");
	xmlSetNs(root, v->ns);
	prop(root, "origin", ml_ledger_origin(v->l));
	prop_i64(root, "size", (long long)v->size);
	{
		char *r = ml_b64_encode(v->root, ML_SHA256_LEN);
		snprintf(b64, sizeof b64, "%s", r ? r : "");
		free(r);
	}
	prop(root, "root", b64);
	prop_time(root, "as-of", "as-of-epoch", as_of_us);
	prop(root, "subject", ref);
	prop(root, "name", name);
	prop(root, "version", version);
	if (env)
		prop(root, "env", env);
	c = xmlNewChild(root, v->ns, (const xmlChar *)"candidate", NULL);
	prop(c, "ref", ref);
	prop(c, "name", name);
	prop(c, "version", version);
	prop_digest(c, "digest", digest);
	prop_i64(c, "seq", mseq);
	if (env)
		prop(c, "env", env);
	add_keys(v);
	/* every entry about any version of the model, then the datasets */
	if ((rc = ml_store_query(v->s, NULL, name, NULL, -1, collect_seq, &seqs, v->e)))
		goto out;
	qsort(seqs.v, seqs.n, sizeof *seqs.v, cmp_u64);
	for (i = 0; i < seqs.n && rc == ML_OK; i++)
		rc = add_entry(v, seqs.v[i], refs);
	if (rc)
		goto out;
	seqs.n = 0;
	{
		json_t *x;
		json_array_foreach(refs, i, x) {
			uint8_t d[ML_SHA256_LEN];
			int64_t dseq;
			if (ml_ledger_subject(v->l, "dataset", json_string_value(x), d, &dseq, v->e))
				continue;
			if (seqs_add(&seqs, (uint64_t)dseq))
				break;
		}
	}
	qsort(seqs.v, seqs.n, sizeof *seqs.v, cmp_u64);
	for (i = 0; i < seqs.n && rc == ML_OK; i++)
		if (i == 0 || seqs.v[i] != seqs.v[i - 1])
			rc = add_entry(v, seqs.v[i], refs);
out:
	json_decref(refs);
	free(seqs.v);
	return rc;
}

int
ml_evidence_build(struct ml_ledger *l, const char *ref, const char *env, int64_t as_of_us,
		  xmlDocPtr *out, struct ml_err *e)
{
	struct ev v;
	int rc;

	memset(&v, 0, sizeof v);
	v.l = l;
	v.s = ml_ledger_store(l);
	v.e = e;
	v.as_of_us = as_of_us;
	v.keys = calloc(MAX_KEYS, sizeof *v.keys);
	v.key_ok = calloc(MAX_KEYS, 1);
	if (!v.keys || !v.key_ok) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	if ((rc = ml_store_begin(v.s, 0, e)))
		goto out;
	rc = build(&v, ref, env, as_of_us);
	ml_store_rollback(v.s);
	if (rc == ML_OK) {
		*out = v.doc;
		v.doc = NULL;
	}
out:
	xmlFreeDoc(v.doc);
	free(v.keys);
	free(v.key_ok);
	return rc;
}

/* evidence — see evidence.h. */
#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "governance.h"
#include "merkle.h"
#include "note.h"
#include "note_checkpoint.h"
#include "rules.h"
#include "statement.h"
#include "store.h"
#include "tlog.h"

#define MAX_KEYS 4096

/* Who holds a key (FORMAT.md §2, "Persons"). */
struct person {
	char id[ML_KEY_NAME_MAX + 1];
	char name[129];                /* display name, "" when none */
};

/* A verified entry, as the document needs it. */
struct fact {
	uint64_t seq;
	int used;                      /* the hash slot holds a fact */
	int excluded;                  /* effective time after as-of: not evidence */
	enum ml_kind kind;
	json_t *stmt;                  /* the statement (owned); NULL when excluded */
	int64_t time_us;               /* effective (FORMAT.md §2, clock corrections) */
	uint8_t leaf[ML_SHA256_LEN];
	size_t key;                    /* its author, an index into keys */
	xmlNodePtr node;               /* its ev:entry in v->view (ml_evidence_view), built
					* once; owned here while unlinked, NULL until built */
	uint64_t seen;                 /* the v->view_gen that last linked node */
};

struct seqs;

struct ml_evidence {
	struct ml_ledger *l;
	struct ml_store *s;
	struct ml_err *e;
	int64_t as_of_us;
	char origin[160];              /* as the genesis says */
	unsigned flags;                /* ML_EVIDENCE_* */
	struct ml_clock_fix *fixes;    /* the verified clock corrections, in seq order */
	size_t nfixes, fixcap;
	uint64_t size;                 /* of the latest checkpoint */
	uint8_t root[ML_SHA256_LEN];
	uint8_t (*leaves)[ML_SHA256_LEN]; /* ML_EVIDENCE_WHOLE: every leaf, root-checked */
	struct ml_key_row *keys;       /* every enrolled key: roles and revocations as
					* the verified entries say, not the table */
	struct person *persons;        /* the person of keys[i], from its enrolment */
	unsigned char *key_ok;         /* 1: its enrolment was verified; 2: in progress */
	struct ml_pubkey **pub;        /* keys[i] parsed (key_pub), NULL until needed */
	struct ml_governance *gov;     /* in force at the session's cutoff */
	size_t nkeys;
	struct fact *facts;            /* open addressing by seq */
	size_t cap, nfacts;
	char family[129];              /* the model name the cache serves */
	uint64_t trusted;              /* entries below this were verified in full */
	xmlDictPtr dict;               /* names, shared by the session's documents */
	xmlDocPtr view;                /* ml_evidence_view's document, reused */
	xmlNsPtr view_ns;              /* on its root */
	xmlNodePtr *key_nodes;         /* its ev:key elements, built once (nkeys) */
	/* selections that do not depend on the environment, kept while the
	 * cache serves the model name: the entries of model version sel_version
	 * and its lineage (as picked), and the name's incidents, retirements
	 * and deployments (newest first, as the index lists them) */
	struct seqs *sel_ver, *sel_inc, *sel_ret, *sel_dep;
	char sel_version[65];
	int have_ver, have_fam;
	char view_ref[300];            /* the subject it was last built for */
	uint64_t view_gen;             /* counts the subjects (NAME@VERSION) it served */
	int view_const;                /* its root holds the session's attributes */
	uint64_t *built;               /* the seqs of the facts whose node is built */
	size_t nbuilt, builtcap;
	int in_tx;
};

/* Seqs in a growing array (the owner frees v).  collect_seq, an
 * ml_store_query_seqs callback, sets e (ML_EIO) when out of memory. */
struct seqs {
	uint64_t *v;
	size_t n, cap;
	struct ml_err *e;
};

static int
collect_seq(void *ctx, uint64_t seq)
{
	struct seqs *s = ctx;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *p = realloc(s->v, cap * sizeof *p);
		if (!p)
			return ml_err_set(s->e, ML_EIO, "out of memory");
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = seq;
	return 0;
}

static void
seqs_free(struct seqs *s)
{
	if (s)
		free(s->v);
	free(s);
}

/* *s (allocated on first use, the session's) emptied; ML_EIO when out of
 * memory. */
static int
seqs_reset(struct ml_evidence *v, struct seqs **s)
{
	if (!*s && !(*s = calloc(1, sizeof **s)))
		return ml_err_set(v->e, ML_EIO, "out of memory");
	(*s)->n = 0;
	(*s)->e = v->e;
	return ML_OK;
}

/* What one document is being built from. */
struct build {
	struct ml_evidence *v;
	xmlDocPtr doc;
	xmlNsPtr ns;
	struct seqs sel;               /* the selected entries */
	const char *env;
	char name[129], version[65];
	char live[65];                 /* the version live in env, "" when none */
	int have_live;
	size_t retire_from, retire_to; /* sel.v[retire_from..retire_to): the retirements */
};

static int
bad(struct ml_evidence *v, uint64_t seq, const char *why)
{
	ml_err_set(v->e, ML_EINTEGRITY, "evidence entry %llu: %s", (unsigned long long)seq, why);
	v->e->seq = (long long)seq;
	return ML_EINTEGRITY;
}

/* ---- the session ------------------------------------------------------- */

static int parse_entry(struct ml_evidence *v, uint64_t seq, const struct ml_entry *en,
		       struct ml_envelope *env, struct ml_statement *st, unsigned flags);

/* The log key and origin as the genesis entry says (table meta is only a
 * projection of it).  Entry 0's inclusion is checked with the admin key's
 * enrolment (load_keys). */
static int
genesis_log(struct ml_evidence *v, char logkey[ML_VKEY_MAX], char origin[160])
{
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN], stored[ML_SHA256_LEN];
	int rc;

	if ((rc = ml_store_entry_get(v->s, 0, &en, &bytes, stored, v->e)))
		return rc == ML_EINPUT ? bad(v, 0, "the genesis entry is missing") : rc;
	ml_leaf_hash(&en, leaf);
	rc = memcmp(leaf, stored, ML_SHA256_LEN)
		     ? bad(v, 0, "leaf hash mismatch")
		     : parse_entry(v, 0, &en, &env, &st, ML_STATEMENT_NO_SOURCE_HASH);
	free(bytes);
	if (rc)
		return rc;
	if (st.kind != ML_KIND_GENESIS) {
		rc = bad(v, 0, "not the genesis entry");
	} else {
		snprintf(logkey, ML_VKEY_MAX, "%s",
			 json_string_value(json_object_get(st.predicate, "logKey")));
		snprintf(origin, 160, "%s", st.subject);
	}
	ml_statement_free(&st);
	ml_envelope_clear(&env);
	return rc;
}

/* The checkpoint of size want (0: the latest), its signature by the log
 * key. */
static int
load_checkpoint(struct ml_evidence *v, uint64_t want)
{
	struct ml_pubkey logk;
	struct ml_checkpoint c;
	struct ml_note n;
	char *note = NULL, logkey[ML_VKEY_MAX], origin[160];
	uint64_t size;
	int rc, ok;

	if ((rc = genesis_log(v, logkey, origin)) ||
	    (rc = ml_store_checkpoint_get(v->s, want ? (int64_t)want : -1, &size, &note, v->e)))
		return rc == ML_EINPUT && want ? ml_err_set(v->e, ML_EINTEGRITY, "no signed "
							     "checkpoint of size %llu is stored",
							     (unsigned long long)want)
					       : rc;
	rc = ml_pubkey_parse(logkey, strlen(logkey), &logk, v->e);
	if (rc == ML_OK)
		rc = ml_note_parse(note, strlen(note), &n, v->e);
	free(note);
	if (rc)
		return ml_err_set(v->e, ML_EINTEGRITY, "the latest checkpoint is malformed");
	ok = ml_note_verify(&n, &logk) &&
	     ml_checkpoint_parse(n.text, n.text_len, &c, NULL) == ML_OK && c.size == size &&
	     strcmp(c.origin, origin) == 0;
	ml_note_clear(&n);
	if (!ok)
		return ml_err_set(v->e, ML_EINTEGRITY, "the checkpoint of size %llu is not signed "
				  "by the log key", (unsigned long long)size);
	v->size = c.size;
	memcpy(v->root, c.root, ML_SHA256_LEN);
	snprintf(v->origin, sizeof v->origin, "%s", origin);
	return ML_OK;
}

/* ML_EVIDENCE_WHOLE: every stored leaf hash, and their root against the
 * checkpoint's, so that inclusion is then a lookup. */
static int
load_leaves(struct ml_evidence *v)
{
	struct ml_merkle_edge m;
	uint8_t root[ML_SHA256_LEN];
	uint64_t i;
	int rc;

	if (!(v->leaves = malloc(v->size * sizeof *v->leaves)))
		return ml_err_set(v->e, ML_EIO, "out of memory");
	if ((rc = ml_store_leaves(v->s, v->size, v->leaves, v->e)))
		return rc;
	ml_merkle_edge_init(&m);
	for (i = 0; i < v->size; i++)
		ml_merkle_edge_add(&m, v->leaves[i], NULL, NULL);
	ml_merkle_edge_root(&m, root);
	if (memcmp(root, v->root, ML_SHA256_LEN) != 0)
		return ml_err_set(v->e, ML_EINTEGRITY, "the stored leaf hashes do not hash to the "
				  "root of the latest signed checkpoint (size %llu)",
				  (unsigned long long)v->size);
	return ML_OK;
}

static int
collect_key(void *ctx, const struct ml_key_row *row)
{
	struct ml_evidence *v = ctx;

	if (row->enrolled_seq < 0 || (uint64_t)row->enrolled_seq >= v->size)
		return 0; /* not enrolled in the checkpoint's ledger */
	if (v->nkeys == MAX_KEYS)
		return ml_err_set(v->e, ML_EIO, "more than %d keys", MAX_KEYS);
	v->keys[v->nkeys++] = *row;
	return 0;
}

static void view_detach(struct ml_evidence *v);

static void
cache_clear(struct ml_evidence *v)
{
	size_t i;

	view_detach(v); /* the cached nodes are unlinked before they are freed */
	for (i = 0; i < v->cap; i++) {
		json_decref(v->facts[i].stmt);
		xmlFreeNode(v->facts[i].node);
	}
	memset(v->facts, 0, v->cap * sizeof *v->facts);
	v->nfacts = 0;
	v->have_ver = v->have_fam = 0;
	v->nbuilt = 0;
}

void
ml_evidence_close(struct ml_evidence *v)
{
	if (!v)
		return;
	cache_clear(v);
	if (v->in_tx)
		ml_store_rollback(v->s);
	free(v->facts);
	free(v->fixes);
	free(v->leaves);
	if (v->key_nodes)
		for (size_t i = 0; i < v->nkeys; i++)
			xmlFreeNode(v->key_nodes[i]); /* unlinked by cache_clear */
	free(v->key_nodes);
	xmlFreeDoc(v->view);
	free(v->built);
	seqs_free(v->sel_ver);
	seqs_free(v->sel_inc);
	seqs_free(v->sel_ret);
	seqs_free(v->sel_dep);
	if (v->dict)
		xmlDictFree(v->dict);
	free(v->keys);
	free(v->persons);
	free(v->key_ok);
	for (size_t i = 0; v->pub && i < v->nkeys; i++)
		free(v->pub[i]);
	free(v->pub);
	ml_governance_free(v->gov);
	free(v);
}

static int load_keys(struct ml_evidence *v);
static int load_fixes(struct ml_evidence *v);
static int load_governance(struct ml_evidence *v);

int
ml_evidence_open(struct ml_ledger *l, int64_t as_of_us, unsigned flags,
		 struct ml_evidence **out, struct ml_err *e)
{
	return ml_evidence_open_at(l, 0, as_of_us, flags, out, e);
}

int
ml_evidence_open_at(struct ml_ledger *l, uint64_t size, int64_t as_of_us, unsigned flags,
		    struct ml_evidence **out, struct ml_err *e)
{
	struct ml_evidence *v = calloc(1, sizeof *v);
	int rc;

	if (!v)
		return ml_err_set(e, ML_EIO, "out of memory");
	v->l = l;
	v->s = ml_ledger_store(l);
	v->e = e;
	v->as_of_us = as_of_us;
	v->flags = flags;
	v->cap = 1024;
	v->keys = calloc(MAX_KEYS, sizeof *v->keys);
	v->persons = calloc(MAX_KEYS, sizeof *v->persons);
	v->key_ok = calloc(MAX_KEYS, 1);
	v->pub = calloc(MAX_KEYS, sizeof *v->pub);
	v->facts = calloc(v->cap, sizeof *v->facts);
	v->dict = xmlDictCreate();
	if (!v->keys || !v->persons || !v->key_ok || !v->pub || !v->facts || !v->dict) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto fail;
	}
	if ((rc = ml_store_begin(v->s, 0, e)))
		goto fail;
	v->in_tx = 1;
	if ((rc = load_checkpoint(v, size)) || (rc = ml_store_key_each(v->s, collect_key, v, e)) ||
	    ((flags & ML_EVIDENCE_WHOLE) && (rc = load_leaves(v))) || (rc = load_keys(v)) ||
	    (rc = load_fixes(v)) || (rc = load_governance(v)))
		goto fail;
	*out = v;
	return ML_OK;
fail:
	ml_evidence_close(v);
	return rc;
}

bool
ml_evidence_trust(struct ml_evidence *v, uint64_t size, const uint8_t head[ML_SHA256_LEN])
{
	v->trusted = 0;
	if (v->leaves && size && size == v->size &&
	    memcmp(v->leaves[size - 1], head, ML_SHA256_LEN) == 0)
		v->trusted = size;
	return v->trusted != 0;
}

bool
ml_evidence_trust_prefix(struct ml_evidence *v, uint64_t n, const uint8_t head[ML_SHA256_LEN])
{
	struct ml_entry en;
	uint8_t *bytes = NULL, stored[ML_SHA256_LEN];

	v->trusted = 0;
	if (!n || ml_store_entry_get(v->s, n - 1, &en, &bytes, stored, v->e) != ML_OK)
		return false;
	free(bytes);
	if (memcmp(stored, head, ML_SHA256_LEN) == 0)
		v->trusted = n < v->size ? n : v->size;
	return v->trusted != 0;
}

/* ---- verifying entries ------------------------------------------------- */

static struct ml_key_row *
find_key(struct ml_evidence *v, const char *keyid, size_t *idx)
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
read_checked(struct ml_evidence *v, uint64_t seq, struct ml_entry *en, uint8_t **env,
	     uint8_t leaf[ML_SHA256_LEN])
{
	uint8_t stored[ML_SHA256_LEN];
	int rc;

	if (seq >= v->size)
		return bad(v, seq, "not covered by the latest checkpoint");
	if ((rc = ml_store_entry_get(v->s, seq, en, env, stored, v->e)))
		return rc == ML_EINPUT ? bad(v, seq, "missing") : rc;
	ml_leaf_hash(en, leaf);
	if (memcmp(leaf, stored, ML_SHA256_LEN) != 0)
		rc = bad(v, seq, "leaf hash mismatch");
	else if (seq < v->trusted)
		rc = ML_OK; /* its stored leaf hash is one the caller verified */
	else if (v->leaves)
		rc = memcmp(leaf, v->leaves[seq], ML_SHA256_LEN)
			     ? bad(v, seq, "not included in the latest signed checkpoint") : ML_OK;
	else if ((rc = ml_tlog_included(v->l, seq, v->size, leaf, v->root, v->e)))
		rc = rc == ML_EINTEGRITY ? bad(v, seq, "not included in the latest signed "
					       "checkpoint") : rc;
	if (rc) {
		free(*env);
		*env = NULL;
	}
	return rc;
}

/* Parses a checked entry's envelope and statement (flags are
 * ml_statement_parse_ex's: the session's own reads pass
 * ML_STATEMENT_NO_SOURCE_HASH, since nothing here reads source_sha256). */
static int
parse_entry(struct ml_evidence *v, uint64_t seq, const struct ml_entry *en,
	    struct ml_envelope *env, struct ml_statement *st, unsigned flags)
{
	if (ml_envelope_parse(en->envelope, en->envelope_len, env, v->e))
		return bad(v, seq, "not a DSSE envelope");
	if (ml_statement_parse_ex(env->payload, env->payload_len, flags, st, v->e)) {
		ml_envelope_clear(env);
		return bad(v, seq, "not a valid statement");
	}
	return ML_OK;
}

static int verify_author(struct ml_evidence *v, uint64_t seq, const struct ml_envelope *env,
			 size_t *who);

/* Roles and person of key i, from its verified enrolment statement. */
static void
take_identity(struct ml_evidence *v, size_t i, const struct ml_statement *st,
	      const struct ml_pubkey *pk)
{
	struct ml_key_row *k = &v->keys[i];
	struct person *p = &v->persons[i];
	json_t *who = json_object_get(st->predicate, "person"), *r;
	size_t j;

	snprintf(k->name, sizeof k->name, "%s", pk->name);
	k->roles[0] = '\0';
	if (st->kind == ML_KIND_GENESIS)
		snprintf(k->roles, sizeof k->roles, "admin");
	json_array_foreach(json_object_get(st->predicate, "roles"), j, r) {
		size_t n = strlen(k->roles);
		snprintf(k->roles + n, sizeof k->roles - n, "%s%s", j ? "," : "",
			 json_string_value(r));
	}
	snprintf(p->id, sizeof p->id, "%s",
		 who ? json_string_value(json_object_get(who, "id")) : pk->name);
	snprintf(p->name, sizeof p->name, "%s",
		 json_string_value(json_object_get(who, "name")) ?: "");
}

/* The first verified key-revocation of key i, if any: its seq into
 * revoked_seq (the table's column is not trusted). */
static int
find_revocation(struct ml_evidence *v, size_t i);

/* Verifies the enrolment entry of key i (and, recursively, its author),
 * and takes the key's name, roles, person and revocation from the entries. */
static int
verify_enrolment(struct ml_evidence *v, size_t i)
{
	struct ml_key_row *k = &v->keys[i];
	uint64_t at = (uint64_t)k->enrolled_seq;
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_pubkey pk;
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	char keyid[ML_KEYID_MAX];
	const char *field;
	size_t who;
	int rc;

	if (v->key_ok[i] == 1)
		return ML_OK;
	v->key_ok[i] = 2; /* in progress: an enrolment cycle is a forgery */
	if ((rc = read_checked(v, at, &en, &bytes, leaf)))
		return rc;
	rc = parse_entry(v, at, &en, &env, &st, ML_STATEMENT_NO_SOURCE_HASH);
	free(bytes);
	if (rc)
		return rc;
	field = st.kind == ML_KIND_GENESIS ? "admin" : "key";
	if ((st.kind != ML_KIND_GENESIS && st.kind != ML_KIND_KEY_ENROLLMENT) ||
	    strcmp(json_string_value(json_object_get(st.predicate, field)), k->vkey) != 0 ||
	    ml_pubkey_parse(k->vkey, strlen(k->vkey), &pk, v->e) != ML_OK) {
		rc = bad(v, at, "does not enrol the key it is said to");
		goto out;
	}
	ml_pubkey_keyid(&pk, keyid);
	if (strcmp(keyid, k->keyid) != 0) {
		rc = bad(v, at, "the keys table names another keyid for this key");
		goto out;
	}
	take_identity(v, i, &st, &pk);
	if ((rc = find_revocation(v, i)))
		goto out;
	if (st.kind == ML_KIND_GENESIS) {
		rc = at != 0 || !ml_envelope_verify(&env, &pk)
			     ? bad(v, 0, "the genesis signature does not verify")
			     : ML_OK;
	} else if ((rc = verify_author(v, at, &env, &who)) == ML_OK &&
		   !ml_roles_has(v->keys[who].roles, "admin")) {
		rc = bad(v, at, "enrolled by a key without role admin");
	}
out:
	ml_statement_free(&st);
	ml_envelope_clear(&env);
	if (rc == ML_OK)
		v->key_ok[i] = 1;
	return rc;
}

/* The entry's author: enrolled before seq, not revoked before it, its own
 * enrolment verified, and the signature valid.  *who: its index. */
static int verify_cosigners(struct ml_evidence *v, uint64_t seq,
			    const struct ml_envelope *env, const struct ml_pubkey *author);

/* *out: key i's public key, parsed from its recorded text once per session
 * (owned by v).  ML_EIO when out of memory; ML_EINPUT (in v->e) when the
 * text does not parse, which the callers report as a bad signature. */
static int
key_pub(struct ml_evidence *v, size_t i, const struct ml_pubkey **out)
{
	const char *text = v->keys[i].vkey;
	struct ml_pubkey *p;

	if (!v->pub[i]) {
		if (!(p = malloc(sizeof *p)))
			return ml_err_set(v->e, ML_EIO, "out of memory");
		if (ml_pubkey_parse_recorded(text, strlen(text), p, v->e) != ML_OK) {
			free(p);
			return ML_EINPUT;
		}
		v->pub[i] = p;
	}
	*out = v->pub[i];
	return ML_OK;
}

static int
verify_author(struct ml_evidence *v, uint64_t seq, const struct ml_envelope *env, size_t *who)
{
	const struct ml_pubkey *pk = NULL;
	struct ml_key_row *k;
	size_t i;
	int rc;

	if (!(k = find_key(v, env->keyid, &i)))
		return bad(v, seq, "signed by a key that was never enrolled");
	if (seq < v->trusted && v->key_ok[i] == 1) { /* verified in full by the caller */
		*who = i;
		return ML_OK;
	}
	if (v->key_ok[i] == 2)
		return bad(v, seq, "key enrolment loop");
	if ((rc = verify_enrolment(v, i))) /* also finds its revocation */
		return rc;
	if ((uint64_t)k->enrolled_seq >= seq && seq != 0)
		return bad(v, seq, "signed by a key enrolled later");
	if (k->revoked_seq >= 0 && (uint64_t)k->revoked_seq < seq)
		return bad(v, seq, "signed by a revoked key");
	if (seq >= v->trusted) {
		if ((rc = key_pub(v, i, &pk)) == ML_EIO)
			return rc;
		if (rc || !ml_envelope_verify(env, pk))
			return bad(v, seq, "bad signature");
		if (env->nco && (rc = verify_cosigners(v, seq, env, pk)))
			return rc;
	}
	*who = i;
	return ML_OK;
}

/* Every countersignature by a key enrolled before seq and not revoked
 * before it, and valid (FORMAT.md §5 rule 4). */
static int
verify_cosigners(struct ml_evidence *v, uint64_t seq, const struct ml_envelope *env,
		 const struct ml_pubkey *author)
{
	struct ml_pubkey co[ML_ENVELOPE_MAX_SIGS - 1];
	struct ml_key_row *k;
	size_t i, j;
	int rc;

	for (i = 0; i < env->nco; i++) {
		if (!(k = find_key(v, env->co[i].keyid, &j)))
			return bad(v, seq, "countersigned by a key that was never enrolled");
		if (v->key_ok[j] == 2)
			return bad(v, seq, "key enrolment loop");
		if ((rc = verify_enrolment(v, j))) /* as the author's: from its entry */
			return rc;
		if ((uint64_t)k->enrolled_seq >= seq ||
		    (k->revoked_seq >= 0 && (uint64_t)k->revoked_seq < seq) ||
		    ml_pubkey_parse_recorded(k->vkey, strlen(k->vkey), &co[i], v->e))
			return bad(v, seq, "countersigned by a key not active at its place");
	}
	if (!ml_envelope_verify_all(env, author, co, NULL))
		return bad(v, seq, "bad countersignature");
	return ML_OK;
}

static int
find_revocation(struct ml_evidence *v, size_t i)
{
	struct ml_key_row *k = &v->keys[i];
	struct seqs r = {.e = v->e};
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	size_t j;
	int rc, match;

	k->revoked_seq = -1;
	if ((rc = ml_store_query_seqs(v->s, "key-revocation", k->name, "", 0, collect_seq, &r,
				      v->e)))
		goto out;
	for (j = 0; j < r.n && k->revoked_seq < 0; j++) {
		if (r.v[j] >= v->size)
			break; /* not covered by the checkpoint: not evidence */
		if ((rc = read_checked(v, r.v[j], &en, &bytes, leaf)))
			goto out;
		rc = parse_entry(v, r.v[j], &en, &env, &st, ML_STATEMENT_NO_SOURCE_HASH);
		free(bytes);
		if (rc)
			goto out;
		match = st.kind == ML_KIND_KEY_REVOCATION &&
			strcmp(json_string_value(json_object_get(st.predicate, "key")), k->vkey) == 0;
		ml_statement_free(&st);
		ml_envelope_clear(&env);
		if (match)
			k->revoked_seq = (int64_t)r.v[j];
	}
out:
	free(r.v);
	return rc;
}

/* Every key's enrolment and revocation, from the verified entries, and the
 * authors of the revocations. */
static int
load_keys(struct ml_evidence *v)
{
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	size_t i, who;
	int rc;

	for (i = 0; i < v->nkeys; i++)
		if ((rc = verify_enrolment(v, i)))
			return rc;
	for (i = 0; i < v->nkeys; i++) {
		uint64_t at = (uint64_t)v->keys[i].revoked_seq;
		if (v->keys[i].revoked_seq < 0)
			continue;
		if ((rc = read_checked(v, at, &en, &bytes, leaf)))
			return rc;
		rc = parse_entry(v, at, &en, &env, &st, ML_STATEMENT_NO_SOURCE_HASH);
		free(bytes);
		if (rc)
			return rc;
		if ((rc = verify_author(v, at, &env, &who)) == ML_OK &&
		    !ml_roles_has(v->keys[who].roles, "admin"))
			rc = bad(v, at, "revoked by a key without role admin");
		ml_statement_free(&st);
		ml_envelope_clear(&env);
		if (rc)
			return rc;
	}
	return ML_OK;
}

/* The cache slot of seq (free or holding it); grows the table first. */
static struct fact *
slot(struct ml_evidence *v, uint64_t seq)
{
	size_t i;

	if ((v->nfacts + 1) * 2 > v->cap) {
		struct fact *old = v->facts, *nf;
		size_t ocap = v->cap, j;
		if (!(nf = calloc(ocap * 2, sizeof *nf)))
			return NULL;
		v->facts = nf;
		v->cap = ocap * 2;
		for (j = 0; j < ocap; j++)
			if (old[j].used) {
				for (i = (size_t)(old[j].seq * 0x9e3779b97f4a7c15ULL >> 7) % v->cap;
				     nf[i].used; i = (i + 1) % v->cap)
					;
				nf[i] = old[j];
			}
		free(old);
	}
	for (i = (size_t)(seq * 0x9e3779b97f4a7c15ULL >> 7) % v->cap;
	     v->facts[i].used && v->facts[i].seq != seq; i = (i + 1) % v->cap)
		;
	return &v->facts[i];
}

/* The cached fact of seq, or NULL (no insertion, no growth). */
static struct fact *
cached(struct ml_evidence *v, uint64_t seq)
{
	size_t i;

	for (i = (size_t)(seq * 0x9e3779b97f4a7c15ULL >> 7) % v->cap; v->facts[i].used;
	     i = (i + 1) % v->cap)
		if (v->facts[i].seq == seq)
			return &v->facts[i];
	return NULL;
}

/* The verified fact of entry seq, from the cache or checked now: its
 * cache slot (valid until the next lookup). */
static int
fact_get(struct ml_evidence *v, uint64_t seq, struct fact **out)
{
	struct fact *f = slot(v, seq), nf = {.seq = seq, .used = 1};
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_entry en;
	uint8_t *bytes = NULL;
	int rc;

	if (!f)
		return ml_err_set(v->e, ML_EIO, "out of memory");
	if (f->used) {
		*out = f;
		return ML_OK;
	}
	if ((rc = read_checked(v, seq, &en, &bytes, nf.leaf)))
		return rc;
	nf.time_us = ml_clock_effective(v->fixes, v->nfixes, seq, en.time_us);
	/* recorded after the decision */
	nf.excluded = !(v->flags & ML_EVIDENCE_HEAD) && nf.time_us > v->as_of_us;
	if (!nf.excluded && (rc = parse_entry(v, seq, &en, &env, &st,
					      ML_STATEMENT_NO_SOURCE_HASH)) == ML_OK) {
		if ((rc = verify_author(v, seq, &env, &nf.key)) == ML_OK) {
			nf.kind = st.kind;
			nf.stmt = json_incref(st.root);
		}
		ml_statement_free(&st);
		ml_envelope_clear(&env);
	}
	free(bytes);
	if (rc)
		return rc;
	*f = nf;
	v->nfacts++;
	*out = f;
	return ML_OK;
}

/* fact_get, read-only. */
static int
fact_of(struct ml_evidence *v, uint64_t seq, const struct fact **out)
{
	struct fact *f;
	int rc = fact_get(v, seq, &f);

	if (rc == ML_OK)
		*out = f;
	return rc;
}

/* ---- time: clock corrections and future-dated entries ----------------- */

int64_t
ml_clock_effective(const struct ml_clock_fix *fixes, size_t n, uint64_t seq, int64_t time_us)
{
	size_t lo = 0, hi = n;

	/* the first correction after seq: only it can cover seq */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fixes[mid].seq > seq)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < n && fixes[lo].from <= seq ? fixes[lo].time_us : time_us;
}

/* The append time of entry seq, its leaf hash and inclusion checked. */
static int
checked_time(struct ml_evidence *v, uint64_t seq, int64_t *time_us, uint8_t leaf[ML_SHA256_LEN])
{
	struct ml_entry en;
	uint8_t *bytes = NULL;
	int rc;

	if ((rc = read_checked(v, seq, &en, &bytes, leaf)))
		return rc;
	*time_us = en.time_us;
	free(bytes);
	return ML_OK;
}

/* Verifies clock correction c as verify would (FORMAT.md §5 rules 1, 4,
 * and admin-only) and appends it to v->fixes. */
static int
load_fix(struct ml_evidence *v, uint64_t c)
{
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN], lfrom[ML_SHA256_LEN];
	int64_t before, first;
	json_int_t from;
	size_t who;
	int rc;

	if ((rc = read_checked(v, c, &en, &bytes, leaf)))
		return rc;
	rc = parse_entry(v, c, &en, &env, &st, ML_STATEMENT_NO_SOURCE_HASH);
	free(bytes);
	if (rc)
		return rc;
	from = json_integer_value(json_object_get(st.predicate, "from"));
	if (st.kind != ML_KIND_CLOCK_CORRECTION)
		rc = bad(v, c, "indexed as a clock correction but is not one");
	else if ((rc = verify_author(v, c, &env, &who)))
		;
	else if (!ml_roles_has(v->keys[who].roles, "admin"))
		rc = bad(v, c, "clock correction signed by a key without role admin");
	else if (from < 1 || (uint64_t)from >= c ||
		 (v->nfixes && (uint64_t)from <= v->fixes[v->nfixes - 1].seq))
		rc = bad(v, c, "clock correction names an entry it may not correct");
	else if ((rc = checked_time(v, (uint64_t)from - 1, &before, lfrom)) ||
		 (rc = checked_time(v, (uint64_t)from, &first, lfrom)))
		;
	else if (memcmp(lfrom, st.digest, ML_SHA256_LEN) != 0)
		rc = bad(v, c, "clock correction does not name the leaf hash of its entry from");
	else if (en.time_us < before || en.time_us >= first)
		rc = bad(v, c, "clock correction dated outside the times of entries from-1 and from");
	ml_statement_free(&st);
	ml_envelope_clear(&env);
	if (rc)
		return rc;
	if (v->nfixes == v->fixcap) {
		size_t cap = v->fixcap ? v->fixcap * 2 : 8;
		struct ml_clock_fix *p = realloc(v->fixes, cap * sizeof *p);
		if (!p)
			return ml_err_set(v->e, ML_EIO, "out of memory");
		v->fixes = p;
		v->fixcap = cap;
	}
	v->fixes[v->nfixes++] = (struct ml_clock_fix){(uint64_t)from, c, en.time_us};
	return ML_OK;
}

/* The clock corrections of the ledger (entry_index kind clock-correction,
 * name the origin), each verified, those under the checkpoint only. */
static int
load_fixes(struct ml_evidence *v)
{
	struct seqs s = {.e = v->e};
	size_t i;
	int rc;

	rc = ml_store_query_seqs(v->s, "clock-correction", v->origin, NULL, 0, collect_seq, &s,
				 v->e);
	for (i = 0; rc == ML_OK && i < s.n && s.v[i] < v->size; i++)
		rc = load_fix(v, s.v[i]);
	free(s.v);
	return rc;
}

/* The effective time of entry seq. */
static int
effective_time(struct ml_evidence *v, uint64_t seq, int64_t *t)
{
	uint8_t leaf[ML_SHA256_LEN];
	int rc = checked_time(v, seq, t, leaf);

	if (rc == ML_OK)
		*t = ml_clock_effective(v->fixes, v->nfixes, seq, *t);
	return rc;
}

int
ml_evidence_ahead(struct ml_evidence *v, int64_t now_us, uint64_t *seq, int64_t *time_us,
		  struct ml_err *e)
{
	int64_t limit = now_us + ML_CLOCK_TOLERANCE_US, t;
	uint64_t lo = 0, hi;
	char at[21], now[21];
	int rc;

	v->e = e;
	if (v->size == 0)
		return ML_OK;
	/* effective times never decrease: the head decides, a search names */
	hi = v->size - 1;
	if ((rc = effective_time(v, hi, &t)) || t <= limit)
		return rc;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if ((rc = effective_time(v, mid, &t)))
			return rc;
		if (t > limit)
			hi = mid;
		else
			lo = mid + 1;
	}
	if ((rc = effective_time(v, hi, &t)))
		return rc;
	ml_time_format(t, at);
	ml_time_format(now_us, now);
	*seq = hi;
	*time_us = t;
	ml_err_set(e, ML_EPOLICY, "entry %llu is dated %s, more than 5 minutes after this "
		   "machine's clock (%s): entries dated in the future would hide what is "
		   "recorded after them; fix the clock, or have an admin correct the ledger's "
		   "(mlledger clock-correct)", (unsigned long long)hi, at, now);
	e->seq = (long long)hi;
	return ML_EPOLICY;
}

/* A predicate string member of a (non-excluded) fact, or "". */
static const char *
fact_str(const struct fact *f, const char *member)
{
	const char *s = json_string_value(
		json_object_get(json_object_get(f->stmt, "predicate"), member));

	return s ? s : "";
}

/* The subject's VERSION part. */
static const char *
fact_version(const struct fact *f)
{
	const char *s = json_string_value(json_object_get(
		json_array_get(json_object_get(f->stmt, "subject"), 0), "name"));
	const char *at = s ? strchr(s, '@') : NULL;

	return at ? at + 1 : "";
}

/* The governance document in force at the session's cutoff: the newest
 * verified governance entry appended by then, else the genesis document,
 * else the default.  Its metric directions go into the documents. */
static int
load_governance(struct ml_evidence *v)
{
	struct seqs list = {.e = v->e}; /* newest first */
	const struct fact *f;
	const char *text = NULL;
	size_t i;
	int rc;

	rc = ml_store_query_seqs(v->s, "governance", v->origin, "", 1, collect_seq, &list, v->e);
	for (i = 0; rc == ML_OK && i < list.n && !text; i++) {
		if (list.v[i] >= v->size)
			continue;
		if ((rc = fact_of(v, list.v[i], &f)) == ML_OK && !f->excluded &&
		    f->kind == ML_KIND_GOVERNANCE)
			text = fact_str(f, "document");
	}
	free(list.v);
	if (rc)
		return rc;
	if (!text) {
		if ((rc = fact_of(v, 0, &f)))
			return rc;
		text = f->excluded ? "" : fact_str(f, "governance");
	}
	if (!*text) {
		if (!(v->gov = ml_governance_default()))
			return ml_err_set(v->e, ML_EIO, "out of memory");
		return ML_OK;
	}
	if (ml_governance_parse(text, strlen(text), &v->gov, v->e) == ML_OK)
		return ML_OK;
	return ml_err_set(v->e, ML_EINTEGRITY, "the ledger's governance document does not "
			  "parse: %s", v->e->msg);
}

/* ---- XML --------------------------------------------------------------- */

static void
prop(xmlNodePtr n, const char *name, const char *value)
{
	xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value);
}

/* a then b into buf (cap bytes), cut as snprintf(buf, cap, "%s%s", a, b)
 * would cut them. */
static void
cat2(char *buf, size_t cap, const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na >= cap)
		na = cap - 1;
	memcpy(buf, a, na);
	if (nb > cap - 1 - na)
		nb = cap - 1 - na;
	memcpy(buf + na, b, nb);
	buf[na + nb] = '\0';
}

static void
prop_i64(xmlNodePtr n, const char *name, long long value)
{
	char buf[24];

	prop(n, name, ml_i64_text(value, buf));
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

/* The text of a scalar, cut to cap - 1 bytes: the string itself when it
 * fits, else written into buf (cap >= 24). */
static const char *
scalar_text(json_t *v, char *buf, size_t cap)
{
	if (json_is_string(v)) {
		if (strlen(json_string_value(v)) < cap)
			return json_string_value(v);
		cat2(buf, cap, json_string_value(v), "");
	} else if (json_is_integer(v)) {
		return ml_i64_text((long long)json_integer_value(v), buf);
	} else if (json_is_real(v)) {
		snprintf(buf, cap, "%.15g", json_real_value(v));
	} else {
		return json_is_true(v) ? "true" : "false";
	}
	return buf;
}

/* ev:metric or ev:property children; metrics (gov not NULL) carry their
 * declared direction and unit. */
static void
add_named(xmlNsPtr ns, xmlNodePtr parent, const char *elem, json_t *obj,
	  const struct ml_governance *gov)
{
	const char *k, *unit;
	json_t *x;

	json_object_foreach(obj, k, x) {
		char buf[ML_MAX_FIELD + 1];
		xmlNodePtr c = xmlNewChild(parent, ns, (const xmlChar *)elem, NULL);
		enum ml_direction d = gov ? ml_governance_direction(gov, k) : ML_DIR_NONE;
		prop(c, "name", k);
		prop(c, "value", scalar_text(x, buf, sizeof buf));
		if (d != ML_DIR_NONE)
			prop(c, "direction", d == ML_DIR_HIGHER ? "higher" : "lower");
		if (gov && (unit = ml_governance_unit(gov, k)))
			prop(c, "unit", unit);
	}
}

static void
add_ref(xmlNsPtr ns, xmlNodePtr parent, const char *elem, json_t *ref)
{
	xmlNodePtr c = xmlNewChild(parent, ns, (const xmlChar *)elem, NULL);
	const char *hex = json_string_value(json_object_get(json_object_get(ref, "digest"),
							    "sha256"));
	char d[80];

	prop(c, "ref", json_string_value(json_object_get(ref, "name")));
	cat2(d, sizeof d, "sha256:", hex ? hex : "");
	prop(c, "digest", d);
}

static void
add_predicate(xmlNsPtr ns, xmlNodePtr n, json_t *p, const struct ml_governance *gov)
{
	static const char *const plain[] = {"environment", "decision", "comment", "rule",
					    "reason", "ticket", "severity", "description",
					    "uri", NULL};
	json_t *x;
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
		add_ref(ns, n, "dataset", x);
	if ((x = json_object_get(p, "dataset")))
		add_ref(ns, n, "dataset", x);
	if ((x = json_object_get(p, "parent")))
		add_ref(ns, n, "parent", x);
	if ((x = json_object_get(p, "metrics")))
		add_named(ns, n, "metric", x, gov);
	if ((x = json_object_get(p, "properties")))
		add_named(ns, n, "property", x, NULL);
	if (json_is_string(x = json_object_get(p, "verificationResult"))) {
		prop(n, "result", json_string_value(x)); /* a gate decision */
		prop(n, "replayable", ml_gate_replayable_shape(p) ? "true" : "false");
		if (json_is_string(x = json_object_get(p, "phase")))
			prop(n, "phase", json_string_value(x));
	}
	if ((x = json_object_get(json_object_get(p, "ledger"), "size")))
		prop_i64(n, "ledger-size", (long long)json_integer_value(x));
	json_array_foreach(json_object_get(p, "policies"), i, x)
		add_ref(ns, n, "policy", x);
	if ((x = json_object_get(p, "artifact"))) {
		xmlNodePtr a = xmlNewChild(n, ns, (const xmlChar *)"artifact", NULL);
		prop(a, "type", json_string_value(json_object_get(x, "type")));
		prop_i64(a, "size", (long long)json_integer_value(json_object_get(x, "size")));
		prop_i64(a, "files", (long long)json_array_size(json_object_get(x, "files")));
	}
}

static void
add_person(xmlNodePtr n, const struct person *p)
{
	prop(n, "person", p->id);
	if (*p->name)
		prop(n, "person-name", p->name);
}

/* The ev:entry of a verified fact, made in doc (not linked; NULL when out
 * of memory). */
static xmlNodePtr
fact_node(struct ml_evidence *v, xmlDocPtr doc, xmlNsPtr ns, const struct fact *f)
{
	struct ml_key_row *who = &v->keys[f->key];
	json_t *p = json_object_get(f->stmt, "predicate"), *x;
	json_t *s0 = json_array_get(json_object_get(f->stmt, "subject"), 0);
	const char *subject = json_string_value(json_object_get(s0, "name"));
	const char *hex = json_string_value(json_object_get(json_object_get(s0, "digest"),
							    "sha256"));
	char name[129], d[80];
	xmlNodePtr n = xmlNewDocNode(doc, ns, (const xmlChar *)"entry", NULL);
	char *at;

	if (!n)
		return NULL;

	prop_i64(n, "seq", (long long)f->seq);
	prop(n, "kind", ml_kind_name(f->kind));
	prop(n, "ref", subject);
	cat2(name, sizeof name, subject ? subject : "(null)", "");
	if ((at = strchr(name, '@')))
		*at = '\0';
	prop(n, "name", name);
	prop(n, "version", fact_version(f));
	cat2(d, sizeof d, "sha256:", hex ? hex : "");
	prop(n, "digest", d);
	prop_digest(n, "leaf", f->leaf);
	prop_time(n, "time", "epoch", f->time_us);
	if (json_is_string(x = json_object_get(p, "time")) ||
	    json_is_string(x = json_object_get(p, "timeVerified"))) {
		int64_t us = 0;
		ml_time_parse(json_string_value(x), &us);
		prop_time(n, "signed-at", "signed-epoch", us);
	}
	prop(n, "author", who->name);
	prop(n, "keyid", who->keyid);
	prop(n, "roles", who->roles);
	add_person(n, &v->persons[f->key]);
	add_predicate(ns, n, p, v->gov);
	return n;
}

/* Appends the ev:entry of a verified fact. */
static void
add_fact(struct build *b, const struct fact *f)
{
	xmlNodePtr n = fact_node(b->v, b->doc, b->ns, f);

	if (n)
		xmlAddChild(xmlDocGetRootElement(b->doc), n);
}

int
ml_evidence_statement(struct ml_evidence *v, uint64_t seq, struct ml_statement *st,
		      int64_t *time_us)
{
	return ml_evidence_signed(v, seq, st, time_us, NULL);
}

int
ml_evidence_signed(struct ml_evidence *v, uint64_t seq, struct ml_statement *st,
		   int64_t *time_us, struct ml_evidence_signer *by)
{
	struct ml_envelope env;
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	size_t who;
	int rc;

	if ((rc = read_checked(v, seq, &en, &bytes, leaf)))
		return rc;
	rc = parse_entry(v, seq, &en, &env, st, 0); /* the caller's: whole */
	free(bytes);
	if (rc)
		return rc;
	if ((rc = verify_author(v, seq, &env, &who)) == ML_OK && time_us)
		rc = effective_time(v, seq, time_us);
	if (rc == ML_OK && by) {
		snprintf(by->keyid, sizeof by->keyid, "%s", v->keys[who].keyid);
		snprintf(by->person, sizeof by->person, "%s", v->persons[who].id);
		snprintf(by->person_name, sizeof by->person_name, "%s", v->persons[who].name);
		by->append_us = en.time_us;
	}
	ml_envelope_clear(&env);
	if (rc)
		ml_statement_free(st);
	return rc;
}

/* ml_store_query_seqs callback: the first seq below the session's size. */
struct newest {
	uint64_t below, seq;
	int found;
};

static int
take_newest(void *ctx, uint64_t seq)
{
	struct newest *n = ctx;

	if (seq >= n->below)
		return 0;
	n->seq = seq;
	n->found = 1;
	return 1;
}

int
ml_evidence_newest(struct ml_evidence *v, const char *kind, const char *name,
		   const char *version, uint64_t *seq, int *found)
{
	struct newest n = {.below = v->size};
	int rc = ml_store_query_seqs(v->s, kind, name, version, 1, take_newest, &n, v->e);

	*found = n.found;
	*seq = n.seq;
	return rc == 1 ? ML_OK : rc;
}

int
ml_evidence_set_as_of(struct ml_evidence *v, int64_t as_of_us)
{
	if (!(v->flags & ML_EVIDENCE_HEAD))
		return ml_err_set(v->e, ML_EINPUT, "evidence: the as-of of a session with a "
				  "cutoff is fixed");
	v->as_of_us = as_of_us;
	v->view_const = 0; /* the view's as-of attributes change */
	return ML_OK;
}

uint64_t
ml_evidence_size(const struct ml_evidence *v)
{
	return v->size;
}

const char *
ml_evidence_origin(const struct ml_evidence *v)
{
	return v->origin;
}

/* ---- selecting entries ------------------------------------------------- */

static int
pick(void *ctx, uint64_t seq)
{
	struct build *b = ctx;

	if (seq >= b->v->size)
		return 0; /* after the checkpoint: not evidence */
	return collect_seq(&b->sel, seq);
}

/* Picks the entries of kind (NULL: any) about name[@version]. */
static int
pick_query(struct build *b, const char *kind, const char *name, const char *version)
{
	return ml_store_query_seqs(b->v->s, kind, name, version, 0, pick, b, b->v->e);
}

/* Picks a recorded subject's defining entry; unknown ones are left out
 * (rules report the missing dataset), but a failed read is an error: the
 * evidence must never lose an entry silently. */
static int
pick_subject(struct build *b, const char *kind, const char *ref)
{
	uint8_t d[ML_SHA256_LEN];
	int64_t seq;
	int found, rc;

	if (!ref)
		return ML_OK;
	rc = ml_store_subject_get(b->v->s, ML_DB_MAIN, kind, ref, d, &seq, &found, b->v->e);
	if (rc || !found)
		return rc;
	return pick(b, (uint64_t)seq);
}

/* The model and evaluation entries of another version of the model. */
static int
pick_version(struct build *b, const char *name, const char *version)
{
	int rc = pick_query(b, "model", name, version);

	return rc ? rc : pick_query(b, "evaluation", name, version);
}

/* The candidate's model entry: its datasets and its parent version. */
static int
pick_lineage(struct build *b, uint64_t mseq)
{
	const struct fact *f;
	json_t *p, *x;
	char pn[129], pv[65];
	size_t i;
	int rc;

	if ((rc = fact_of(b->v, mseq, &f)) || f->excluded)
		return rc;
	p = json_object_get(f->stmt, "predicate");
	json_array_foreach(json_object_get(p, "datasets"), i, x)
		if ((rc = pick_subject(b, "dataset", json_string_value(json_object_get(x, "name")))))
			return rc;
	x = json_object_get(json_object_get(p, "parent"), "name");
	if (x && ml_ref_split(json_string_value(x), pn, pv) == 0)
		return pick_version(b, pn, pv);
	return ML_OK;
}

/* Is version retired in env by a (verified) retirement after seq?  Reads
 * the model's retirements (picked before the walk). */
static int
retired_after(struct build *b, const char *version, uint64_t seq, int *yes)
{
	size_t i;
	int rc;

	*yes = 0;
	for (i = b->retire_from; i < b->retire_to && !*yes; i++) {
		const struct fact *r;
		if (b->sel.v[i] <= seq)
			continue;
		if ((rc = fact_of(b->v, b->sel.v[i], &r)))
			return rc;
		*yes = !r->excluded && r->kind == ML_KIND_RETIREMENT &&
		       !strcmp(fact_version(r), version) && !strcmp(fact_str(r, "environment"), b->env);
	}
	return ML_OK;
}

/* One step of the walk over the model's deployments, newest first: picks
 * seq; when it is in env (appended by as-of) and its version was not
 * retired there afterwards, that version is live (b->have_live set: the
 * walk stops).  ML_OK, or the code of a failed read. */
static enum ml_rc
walk_deployment(struct build *b, uint64_t seq)
{
	const struct fact *f;
	int rc, retired;

	if (seq >= b->v->size)
		return ML_OK; /* after the checkpoint: not evidence */
	if ((rc = pick(b, seq)) || (rc = fact_of(b->v, seq, &f)))
		return rc;
	if (f->excluded || strcmp(fact_str(f, "environment"), b->env))
		return ML_OK;
	/* fact_of may move the cache: keep the version, not the fact */
	snprintf(b->live, sizeof b->live, "%s", fact_version(f));
	if ((rc = retired_after(b, b->live, seq, &retired)) || retired) {
		b->live[0] = '\0';
		return rc;
	}
	b->have_live = 1;
	return ML_OK;
}

static int
pick_live(struct build *b)
{
	size_t i;
	int rc;

	if (!b->env)
		return ML_OK;
	/* the name's deployments newest first, as the index lists them */
	b->have_live = 0;
	for (i = 0, rc = ML_OK; i < b->v->sel_dep->n && rc == ML_OK && !b->have_live; i++)
		rc = walk_deployment(b, b->v->sel_dep->v[i]);
	if (rc != ML_OK)
		return rc;
	if (b->have_live && strcmp(b->live, b->version))
		return pick_version(b, b->name, b->live);
	return ML_OK;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- the document ------------------------------------------------------ */

/* ev:key i, made in b->doc (not linked). */
static xmlNodePtr
key_node(struct build *b, size_t i)
{
	const struct ml_key_row *k = &b->v->keys[i];
	xmlNodePtr n = xmlNewDocNode(b->doc, b->ns, (const xmlChar *)"key", NULL);

	if (!n)
		return NULL;
	prop(n, "name", k->name);
	prop(n, "keyid", k->keyid);
	prop(n, "roles", k->roles);
	add_person(n, &b->v->persons[i]);
	prop_i64(n, "enrolled-seq", k->enrolled_seq);
	if (k->revoked_seq >= 0)
		prop_i64(n, "revoked-seq", k->revoked_seq);
	return n;
}

/* The root element's first ROOT_CONST attributes: the session's. */
#define ROOT_CONST 5
static void
root_const(struct ml_evidence *v, xmlNodePtr root)
{
	char *r;

	prop(root, "origin", v->origin);
	prop_i64(root, "size", (long long)v->size);
	r = ml_b64_encode(v->root, ML_SHA256_LEN);
	prop(root, "root", r ? r : "");
	free(r);
	prop_time(root, "as-of", "as-of-epoch", v->as_of_us);
}

/* The root element's attributes after those: the subject's. */
static void
root_subject(struct build *b, xmlNodePtr root, const char *ref)
{
	prop(root, "subject", ref);
	prop(root, "name", b->name);
	prop(root, "version", b->version);
	if (b->env)
		prop(root, "env", b->env);
}

/* ev:candidate, made in b->doc (not linked). */
static xmlNodePtr
candidate_node(struct build *b, const char *ref, const uint8_t digest[ML_SHA256_LEN],
	       int64_t mseq)
{
	xmlNodePtr c = xmlNewDocNode(b->doc, b->ns, (const xmlChar *)"candidate", NULL);

	if (!c)
		return NULL;
	prop(c, "ref", ref);
	prop(c, "name", b->name);
	prop(c, "version", b->version);
	prop_digest(c, "digest", digest);
	prop_i64(c, "seq", mseq);
	if (b->env)
		prop(c, "env", b->env);
	return c;
}

/* A new document with the evidence root (its namespace into b->ns), its
 * names from the session's dictionary; NULL when out of memory. */
static xmlDocPtr
new_doc(struct build *b)
{
	struct ml_evidence *v = b->v;
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr root;

	if (!doc)
		return NULL;
	/* element and attribute names interned once per session (each document
	 * holds a reference), not allocated per node */
	if (v->dict && xmlDictReference(v->dict) == 0)
		doc->dict = v->dict;
	if (!(root = xmlNewDocNode(doc, NULL, (const xmlChar *)"evidence", NULL))) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlDocSetRootElement(doc, root);
	if (!(b->ns = xmlNewNs(root, (const xmlChar *)ML_EVIDENCE_NS, (const xmlChar *)"ev"))) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlSetNs(root, b->ns);
	return doc;
}

/* The root element, ev:candidate and the keys. */
static void
skeleton(struct build *b, const char *ref, const uint8_t digest[ML_SHA256_LEN], int64_t mseq)
{
	xmlNodePtr root, c;
	size_t i;

	if (!(b->doc = new_doc(b)))
		return; /* ml_evidence_for reports it */
	root = xmlDocGetRootElement(b->doc);
	root_const(b->v, root);
	root_subject(b, root, ref);
	if ((c = candidate_node(b, ref, digest, mseq)))
		xmlAddChild(root, c);
	for (i = 0; i < b->v->nkeys; i++)
		if ((c = key_node(b, i)))
			xmlAddChild(root, c);
}

/* ---- the reused document (ml_evidence_view) --------------------------- */

/* Cached nodes (a fact's ev:entry, an ev:key) carry the session in
 * _private: they are unlinked, not freed, when the view is reset. */
static void
view_detach(struct ml_evidence *v)
{
	xmlNodePtr root = v->view ? xmlDocGetRootElement(v->view) : NULL, c, next;

	for (c = root ? root->children : NULL; c; c = next) {
		next = c->next;
		xmlUnlinkNode(c);
		if (c->_private != v)
			xmlFreeNode(c);
	}
}

/* Frees the cached elements not linked for this subject (generation gen)
 * or the one before: most entries serve one model version (its documents
 * follow each other), the rest its next version, so the cache holds about
 * two versions' elements, not the model name's. */
static void
view_evict(struct ml_evidence *v, uint64_t gen)
{
	size_t i, j = 0;

	for (i = 0; i < v->nbuilt; i++) {
		struct fact *f = cached(v, v->built[i]);
		if (!f || !f->node)
			continue;
		if (f->seen + 1 < gen) {
			xmlFreeNode(f->node); /* unlinked by view_detach */
			f->node = NULL;
		} else {
			v->built[j++] = v->built[i];
		}
	}
	v->nbuilt = j;
}

/* Keeps the view root's session attributes (made anew after
 * ml_evidence_set_as_of) and frees the subject's. */
static void
view_root_attrs(struct ml_evidence *v, xmlNodePtr root)
{
	xmlAttrPtr a = root->properties, rest;
	int i;

	for (i = 1; a && i < ROOT_CONST; i++)
		a = a->next;
	if (!v->view_const || !a) {
		xmlFreePropList(root->properties);
		root->properties = NULL;
		root_const(v, root);
		v->view_const = 1;
		return;
	}
	if ((rest = a->next)) {
		a->next = NULL;
		rest->prev = NULL;
		xmlFreePropList(rest);
	}
}

/* Resets the view for a new subject: its root's attributes and the
 * candidate anew, the cached keys relinked. */
static int
view_skeleton(struct build *b, const char *ref, const uint8_t digest[ML_SHA256_LEN],
	      int64_t mseq)
{
	struct ml_evidence *v = b->v;
	xmlNodePtr root, c;
	size_t i;

	if (!v->view) {
		if (!(v->view = new_doc(b)))
			return ml_err_set(v->e, ML_EIO, "out of memory");
		v->view_ns = b->ns;
	}
	b->doc = v->view;
	b->ns = v->view_ns;
	if (v->nkeys && !v->key_nodes) { /* all of them, or none (tried again next time) */
		xmlNodePtr *k = calloc(v->nkeys, sizeof *k);
		for (i = 0; k && i < v->nkeys; i++) {
			if (!(k[i] = key_node(b, i)))
				break;
			k[i]->_private = v;
		}
		if (!k || i < v->nkeys) {
			while (k && i-- > 0)
				xmlFreeNode(k[i]);
			free(k);
			return ml_err_set(v->e, ML_EIO, "out of memory");
		}
		v->key_nodes = k;
	}
	view_detach(v);
	if (strcmp(v->view_ref, ref)) {
		snprintf(v->view_ref, sizeof v->view_ref, "%s", ref);
		view_evict(v, ++v->view_gen);
	}
	b->doc = v->view;
	b->ns = v->view_ns;
	root = xmlDocGetRootElement(v->view);
	view_root_attrs(v, root);
	root_subject(b, root, ref);
	if (!(c = candidate_node(b, ref, digest, mseq)))
		return ml_err_set(v->e, ML_EIO, "out of memory");
	xmlAddChild(root, c);
	for (i = 0; i < v->nkeys; i++)
		xmlAddChild(root, v->key_nodes[i]);
	return ML_OK;
}

/* Links fact f's cached ev:entry (built now if need be) into the view. */
static int
view_add(struct build *b, struct fact *f)
{
	struct ml_evidence *v = b->v;

	if (!f->node) {
		if (v->nbuilt == v->builtcap) {
			size_t cap = v->builtcap ? v->builtcap * 2 : 256;
			uint64_t *p = realloc(v->built, cap * sizeof *p);
			if (!p)
				return ml_err_set(v->e, ML_EIO, "out of memory");
			v->built = p;
			v->builtcap = cap;
		}
		if (!(f->node = fact_node(v, b->doc, b->ns, f)))
			return ml_err_set(v->e, ML_EIO, "out of memory");
		f->node->_private = v;
		v->built[v->nbuilt++] = f->seq;
	}
	f->seen = b->v->view_gen;
	xmlAddChild(xmlDocGetRootElement(b->doc), f->node);
	return ML_OK;
}

/* The model name's incidents, retirements and deployments, read once while
 * the cache serves it. */
static int
family_lists(struct build *b)
{
	struct ml_evidence *v = b->v;
	int rc;

	if (v->have_fam)
		return ML_OK;
	if ((rc = seqs_reset(v, &v->sel_inc)) || (rc = seqs_reset(v, &v->sel_ret)) ||
	    (rc = seqs_reset(v, &v->sel_dep)) ||
	    (rc = ml_store_query_seqs(v->s, "incident", b->name, NULL, 0, collect_seq, v->sel_inc,
				      v->e)) ||
	    (rc = ml_store_query_seqs(v->s, "retirement", b->name, NULL, 0, collect_seq,
				      v->sel_ret, v->e)) ||
	    (rc = ml_store_query_seqs(v->s, "deployment", b->name, NULL, 1, collect_seq,
				      v->sel_dep, v->e)))
		return rc;
	v->have_fam = 1;
	return ML_OK;
}

/* Picks each of list's seqs, as pick_query would have. */
static int
pick_list(struct build *b, const struct seqs *list)
{
	size_t i;
	int rc;

	for (i = 0; i < list->n; i++)
		if ((rc = pick(b, list->v[i])))
			return rc;
	return ML_OK;
}

/* The entries about the candidate's version and its lineage, picked now or
 * (the same version as the last document's, in another environment) as
 * they were then. */
static int
pick_candidate(struct build *b, uint64_t mseq)
{
	struct ml_evidence *v = b->v;
	int rc;

	if (v->have_ver && !strcmp(v->sel_version, b->version))
		return pick_list(b, v->sel_ver);
	v->have_ver = 0;
	if ((rc = pick_query(b, NULL, b->name, b->version)) || (rc = pick_lineage(b, mseq)) ||
	    (rc = seqs_reset(v, &v->sel_ver)))
		return rc;
	if (b->sel.n) {
		uint64_t *p = realloc(v->sel_ver->v, b->sel.n * sizeof *p);
		if (!p)
			return ml_err_set(v->e, ML_EIO, "out of memory");
		memcpy(p, b->sel.v, b->sel.n * sizeof *p);
		v->sel_ver->v = p;
		v->sel_ver->n = v->sel_ver->cap = b->sel.n;
	}
	snprintf(v->sel_version, sizeof v->sel_version, "%s", b->version);
	v->have_ver = 1;
	return ML_OK;
}

static int
select_entries(struct build *b, uint64_t mseq)
{
	int rc;

	if ((rc = family_lists(b)) || (rc = pick_candidate(b, mseq)) ||
	    (rc = pick_list(b, b->v->sel_inc)))
		return rc;
	b->retire_from = b->sel.n;
	if ((rc = pick_list(b, b->v->sel_ret)))
		return rc;
	b->retire_to = b->sel.n;
	return pick_live(b);
}

/* Adds the selected entries, in seq order, once each: new nodes, or (view)
 * the cached ones. */
static int
add_selected(struct build *b, int view)
{
	struct fact *f;
	size_t i;
	int rc;

	qsort(b->sel.v, b->sel.n, sizeof *b->sel.v, cmp_u64);
	for (i = 0; i < b->sel.n; i++) {
		if (i && b->sel.v[i] == b->sel.v[i - 1])
			continue;
		if ((rc = fact_get(b->v, b->sel.v[i], &f)))
			return rc;
		if (f->excluded)
			continue;
		if (!view)
			add_fact(b, f);
		else if ((rc = view_add(b, f)))
			return rc;
	}
	return ML_OK;
}

/* ml_evidence_for and ml_evidence_view. */
static int
evidence_doc(struct ml_evidence *v, const char *ref, const char *env, int view,
	     xmlDocPtr *out, struct ml_err *e)
{
	struct build b = {.v = v, .env = env, .sel = {.e = e}};
	uint8_t digest[ML_SHA256_LEN];
	int64_t mseq;
	int rc;

	v->e = e;
	if (ml_ref_split(ref, b.name, b.version) != 0)
		return ml_err_set(e, ML_EINPUT, "\"%.100s\" is not NAME@VERSION", ref);
	if ((rc = ml_ledger_subject(v->l, "model", ref, digest, &mseq, e)))
		return rc;
	if (strcmp(v->family, b.name)) {
		cache_clear(v);
		snprintf(v->family, sizeof v->family, "%s", b.name);
	}
	if (view) {
		if ((rc = view_skeleton(&b, ref, digest, mseq)))
			return rc;
	} else {
		skeleton(&b, ref, digest, mseq);
		if (!b.doc)
			return ml_err_set(e, ML_EIO, "out of memory");
	}
	if ((rc = select_entries(&b, (uint64_t)mseq)) == ML_OK)
		rc = add_selected(&b, view);
	free(b.sel.v);
	if (rc) {
		if (!view)
			xmlFreeDoc(b.doc);
		return rc;
	}
	*out = b.doc;
	return ML_OK;
}

int
ml_evidence_for(struct ml_evidence *v, const char *ref, const char *env, xmlDocPtr *out,
		struct ml_err *e)
{
	return evidence_doc(v, ref, env, 0, out, e);
}

int
ml_evidence_view(struct ml_evidence *v, const char *ref, const char *env, xmlDocPtr *out,
		 struct ml_err *e)
{
	return evidence_doc(v, ref, env, 1, out, e);
}

int
ml_evidence_build(struct ml_ledger *l, const char *ref, const char *env, int64_t as_of_us,
		  unsigned flags, xmlDocPtr *out, struct ml_err *e)
{
	struct ml_evidence *v;
	int rc;

	if ((rc = ml_evidence_open(l, as_of_us, flags, &v, e)))
		return rc;
	rc = ml_evidence_for(v, ref, env, out, e);
	ml_evidence_close(v);
	return rc;
}

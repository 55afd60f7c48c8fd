/* rules — see rules.h. */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"

/* Kinds only role admin may sign, whatever the governance says. */
static int
admin_only(enum ml_kind k)
{
	return k == ML_KIND_KEY_ENROLLMENT || k == ML_KIND_KEY_REVOCATION ||
	       k == ML_KIND_GOVERNANCE || k == ML_KIND_CLOCK_CORRECTION;
}

bool
ml_roles_has(const char *roles, const char *role)
{
	size_t n = strlen(role);
	const char *p = roles;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, role, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* snprintf(dst, cap, "%s", src) without the format machinery (cap >= 1):
 * per entry on verify's walk. */
static void
copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *
pred_str(const struct ml_statement *st, const char *field)
{
	return json_string_value(json_object_get(st->predicate, field));
}

/* ---- the state ---------------------------------------------------------- */

int
ml_rules_state_init(struct ml_rules_state *r, struct ml_err *e)
{
	r->gov_seq = -1;
	r->last_correction = -1;
	r->governed = 0;
	r->dual_short = NULL;
	r->format = 0;
	r->origin[0] = '\0';
	r->keys = NULL;
	if (!(r->gov = ml_governance_default()))
		return ml_err_set(e, ML_EIO, "out of memory");
	return ML_OK;
}

void
ml_rules_state_free(struct ml_rules_state *r)
{
	if (r) {
		ml_governance_free(r->gov);
		r->gov = NULL;
		free(r->keys);
		r->keys = NULL;
	}
}

/* ---- key rows ----------------------------------------------------------- */

/* The replay's keys table changes only through ml_rules_apply, which
 * empties this cache on every enrolment and revocation (before writing the
 * row), so a cached row is always the row the table holds.  Only rows
 * found are cached; a slot is keyed by the whole keyid (collisions
 * evict). */
#define KEYCACHE_SLOTS 64

struct ml_rules_keycache {
	struct keyslot {
		int used;
		int key_rc;           /* ml_pubkey_parse_recorded of row.vkey */
		struct ml_key_row row;
		struct ml_pubkey key; /* when key_rc == ML_OK */
	} slot[KEYCACHE_SLOTS];
};

static struct keyslot *
keyslot_of(struct ml_rules_keycache *kc, const char *keyid)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *keyid; keyid++)
		h = (h ^ (unsigned char)*keyid) * 16777619u;
	return &kc->slot[h % KEYCACHE_SLOTS];
}

/* ml_store_key_get of keyid in db, and, when key is not NULL and the row is
 * found, its verifier key parsed into *key (*key_rc: ML_OK, or the error of
 * ml_pubkey_parse_recorded).  From r's cache for ML_DB_REPLAY.  Errors as
 * ml_store_key_get. */
static int
known_key(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
	  const char *keyid, struct ml_key_row *row, struct ml_pubkey *key, int *key_rc,
	  int *found, struct ml_err *e)
{
	struct keyslot *k = NULL;
	struct ml_err ignored;

	if (db == ML_DB_REPLAY && r->keys) {
		k = keyslot_of(r->keys, keyid);
		if (k->used && strcmp(k->row.keyid, keyid) == 0) {
			*row = k->row;
			*found = 1;
			if (key && (*key_rc = k->key_rc) == ML_OK)
				*key = k->key;
			return ML_OK;
		}
	}
	if (ml_store_key_get(s, db, keyid, row, found, e))
		return e->code;
	if (!*found || (!key && !k))
		return ML_OK;
	if (!k) {
		*key_rc = ml_pubkey_parse_recorded(row->vkey, strlen(row->vkey), key, &ignored);
		return ML_OK;
	}
	k->used = 1;
	k->row = *row;
	k->key_rc = ml_pubkey_parse_recorded(row->vkey, strlen(row->vkey), &k->key, &ignored);
	if (key && (*key_rc = k->key_rc) == ML_OK)
		*key = k->key;
	return ML_OK;
}

/* Called before a key row is written: no cached row may outlive it. */
static int
keys_changed(struct ml_rules_state *r, enum ml_db db, struct ml_err *e)
{
	if (db != ML_DB_REPLAY)
		return ML_OK;
	if (!r->keys) {
		if (!(r->keys = malloc(sizeof *r->keys)))
			return ml_err_set(e, ML_EIO, "out of memory");
	}
	memset(r->keys, 0, sizeof *r->keys);
	return ML_OK;
}

/* Replaces r's governance with the document text of entry seq. */
static int
set_governance(struct ml_rules_state *r, const char *text, int64_t seq, struct ml_err *e)
{
	struct ml_governance *g;
	int rc;

	if ((rc = ml_governance_parse(text, strlen(text), &g, e)))
		return rc;
	ml_governance_free(r->gov);
	r->gov = g;
	r->gov_seq = seq;
	r->governed = 1;
	return ML_OK;
}

static int
newest(void *ctx, uint64_t seq)
{
	*(int64_t *)ctx = (int64_t)seq;
	return 1; /* stop at the first, newest */
}

/* The seq of the newest entry of kind about the ledger (-1: none). */
static int
newest_of(struct ml_store *s, const char *origin, const char *kind, int64_t *seq,
	  struct ml_err *e)
{
	int rc;

	*seq = -1;
	rc = ml_store_query_seqs(s, kind, origin, "", 1, newest, seq, e);
	return rc == 1 ? ML_OK : rc;
}

/* The format and origin the genesis entry declares (an empty ledger: none). */
static int
load_genesis(struct ml_rules_state *r, struct ml_store *s, struct ml_err *e)
{
	struct ml_statement st;
	struct ml_envelope env;
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	int rc;

	if ((rc = ml_store_entry_get(s, 0, &en, &bytes, leaf, e)))
		return rc == ML_EINPUT ? ML_OK : rc;
	rc = ml_envelope_parse(en.envelope, en.envelope_len, &env, NULL);
	free(bytes);
	if (rc)
		return ml_err_set(e, ML_EINTEGRITY, "entry 0 is not an envelope");
	rc = ml_statement_parse(env.payload, env.payload_len, &st, NULL);
	ml_envelope_clear(&env);
	if (rc || st.kind != ML_KIND_GENESIS) {
		if (!rc)
			ml_statement_free(&st);
		return ml_err_set(e, ML_EINTEGRITY, "entry 0 is not a genesis statement");
	}
	r->format = (int)json_integer_value(json_object_get(st.predicate, "format"));
	snprintf(r->origin, sizeof r->origin, "%s", pred_str(&st, "origin"));
	ml_statement_free(&st);
	return ML_OK;
}

int
ml_rules_state_load(struct ml_rules_state *r, struct ml_store *s, struct ml_err *e)
{
	char origin[160];
	struct ml_statement st;
	struct ml_envelope env;
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	int64_t seq;
	const char *text;
	int rc;

	if ((rc = ml_rules_state_init(r, e)) ||
	    (rc = load_genesis(r, s, e)) ||
	    (rc = ml_store_meta_get(s, "origin", origin, sizeof origin, e)) ||
	    (rc = newest_of(s, origin, "clock-correction", &r->last_correction, e)) ||
	    (rc = newest_of(s, origin, "governance", &seq, e)))
		return rc;
	if ((rc = ml_store_entry_get(s, seq < 0 ? 0 : (uint64_t)seq, &en, &bytes, leaf, e)))
		return rc == ML_EINPUT ? ML_OK : rc; /* an empty ledger */
	rc = ml_envelope_parse(en.envelope, en.envelope_len, &env, e);
	free(bytes);
	if (rc)
		return ml_err_set(e, ML_EINTEGRITY, "entry %lld is not an envelope",
				  (long long)(seq < 0 ? 0 : seq));
	rc = ml_statement_parse(env.payload, env.payload_len, &st, e);
	ml_envelope_clear(&env);
	if (rc)
		return ml_err_set(e, ML_EINTEGRITY, "entry %lld is not a valid statement",
				  (long long)(seq < 0 ? 0 : seq));
	text = pred_str(&st, seq < 0 ? "governance" : "document");
	rc = text ? set_governance(r, text, seq < 0 ? 0 : seq, e) : ML_OK;
	ml_statement_free(&st);
	return rc == ML_EINPUT ? ml_err_set(e, ML_EINTEGRITY, "the stored governance does "
					    "not parse: %s", e->msg) : rc;
}

/* ---- signers ------------------------------------------------------------ */

/* The signer at seq 0 is the admin key the genesis statement enrols. */
static int
genesis_signer(struct ml_checked *c, struct ml_err *e)
{
	const char *admin = pred_str(&c->st, "admin");
	json_t *format = json_object_get(c->st.predicate, "format");

	if (c->st.kind != ML_KIND_GENESIS)
		return ml_err_set(e, ML_EINPUT, "entry 0 must be the genesis entry");
	if (json_integer_value(format) != 1 && json_integer_value(format) != 2)
		return ml_err_set(e, ML_EINPUT, "genesis: format %lld is not 1 or 2, the formats "
				  "this version reads", (long long)json_integer_value(format));
	if (ml_pubkey_parse(admin, strlen(admin), &c->signer, e))
		return e->code;
	snprintf(c->roles, sizeof c->roles, "admin");
	return ML_OK;
}

static int
enrolled_signer(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
		struct ml_checked *c, struct ml_err *e)
{
	struct ml_key_row row;
	int found, key_rc = ML_OK;

	if (c->st.kind == ML_KIND_GENESIS)
		return ml_err_set(e, ML_EINPUT, "a genesis statement is only valid as entry 0");
	if (known_key(s, db, r, c->env.keyid, &row, &c->signer, &key_rc, &found, e))
		return e->code;
	if (!found)
		return ml_err_set(e, ML_EKEY, "key %s is not enrolled in this ledger",
				  c->env.keyid);
	if (row.revoked_seq >= 0)
		return ml_err_set(e, ML_EKEY, "key %s was revoked at entry %lld",
				  c->env.keyid, (long long)row.revoked_seq);
	if (key_rc)
		return ml_err_set(e, ML_EINTEGRITY, "stored key %s is corrupt", row.keyid);
	copy_str(c->roles, sizeof c->roles, row.roles);
	return ML_OK;
}

static int
check_enrollment(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
		 struct ml_checked *c, struct ml_err *e)
{
	struct ml_pubkey k;
	struct ml_key_row row;
	char keyid[ML_KEYID_MAX];
	const char *vkey = pred_str(&c->st, "key");
	int found;

	if (r->governed &&
	    ml_governance_check_roles(r->gov, json_object_get(c->st.predicate, "roles"), e))
		return e->code;
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

static int check_revoke_dual(struct ml_store *s, enum ml_db db,
			     const struct ml_rules_state *r, const char *keyid, struct ml_err *e);

static int
check_revocation(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
		 struct ml_checked *c, struct ml_err *e)
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
	return check_revoke_dual(s, db, r, keyid, e);
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


/* The environment, metrics and properties the predicate names are the
 * declared ones. */
static int
check_declared(const struct ml_rules_state *r, struct ml_checked *c, struct ml_err *e)
{
	json_t *p = c->st.predicate, *x;
	const char *env = pred_str(&c->st, "environment");

	if (env && ml_governance_check_env(r->gov, env, e))
		return e->code;
	if (ml_governance_metrics_closed(r->gov) && (x = json_object_get(p, "metrics")) &&
	    ml_governance_check_metrics(r->gov, x, e))
		return e->code;
	if ((x = json_object_get(p, "properties")) &&
	    ml_governance_check_properties(r->gov, x, e))
		return e->code;
	return ML_OK;
}

/* A waiver holds to the end of its expiry date (UTC): not already past. */
static int
check_waiver(struct ml_checked *c, int64_t time_us, struct ml_err *e)
{
	const char *exp = pred_str(&c->st, "expires");
	int64_t us;
	char now[21];

	if (ml_time_parse(exp, &us) != 0)
		return ml_err_set(e, ML_EINPUT, "waiver: bad expiry date");
	if (us + 86400LL * 1000000 <= time_us) {
		ml_time_format(time_us, now);
		return ml_err_set(e, ML_EINPUT, "waiver for %s of rule %s expires %s, before its "
				  "time %s: a waiver must not be expired when recorded",
				  c->st.subject, pred_str(&c->st, "rule"), exp, now);
	}
	return ML_OK;
}

void
ml_live_step(struct ml_live_mark *m, enum ml_kind k, uint64_t seq)
{
	if (k == ML_KIND_DEPLOYMENT)
		m->deployed = (int64_t)seq;
	else if (k == ML_KIND_RETIREMENT)
		m->retired = (int64_t)seq;
}

bool
ml_live_is(const struct ml_live_mark *m)
{
	return m->deployed >= 0 && m->deployed > m->retired;
}

bool
ml_live_pick(struct ml_live_mark *best, const struct ml_live_mark *m)
{
	if (!ml_live_is(m) || m->deployed <= best->deployed)
		return false;
	*best = *m;
	return true;
}

/* Whether the version was deployed in env and not retired there since. */
struct live {
	uint64_t before;
	const char *env;
	struct ml_live_mark m;
	struct ml_err *e;
};

static int
live_visit(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	   const struct ml_index_row *ix, int has_ix)
{
	struct live *lv = ctx;
	struct ml_envelope env;
	struct ml_statement st;
	const char *where;

	if (en->seq >= lv->before)
		return 1; /* seq order: the rest come later */
	if (ml_envelope_parse(en->envelope, en->envelope_len, &env, lv->e))
		return ML_EINTEGRITY;
	if (ml_statement_parse(env.payload, env.payload_len, &st, lv->e)) {
		ml_envelope_clear(&env);
		return ML_EINTEGRITY;
	}
	where = json_string_value(json_object_get(st.predicate, "environment"));
	if (where && strcmp(where, lv->env) == 0)
		ml_live_step(&lv->m, st.kind, en->seq);
	ml_statement_free(&st);
	ml_envelope_clear(&env);
	return 0;
}

static int
check_retirement(struct ml_store *s, struct ml_checked *c, struct ml_err *e)
{
	struct live lv = {.before = c->seq, .env = pred_str(&c->st, "environment"),
			  .m = ML_LIVE_MARK_INIT, .e = e};
	char name[129], version[65];
	int rc;

	if (ml_ref_split(c->st.subject, name, version) != 0)
		return ml_err_set(e, ML_EINPUT, "retirement: bad subject");
	rc = ml_store_query(s, "deployment", name, version, -1, live_visit, &lv, e);
	if (rc == ML_OK || rc == 1)
		rc = ml_store_query(s, "retirement", name, version, -1, live_visit, &lv, e);
	if (rc != ML_OK && rc != 1)
		return rc;
	if (lv.m.deployed < 0)
		return ml_err_set(e, ML_EINPUT, "retirement: %s was never deployed in %s; only a "
				  "live version can be retired", c->st.subject, lv.env);
	if (!ml_live_is(&lv.m))
		return ml_err_set(e, ML_EINPUT, "retirement: %s was already retired from %s at "
				  "entry %lld", c->st.subject, lv.env, (long long)lv.m.retired);
	return ML_OK;
}

/* A clock correction names from, the first of the entries dated ahead: its
 * own time lies between entry from-1's and entry from's (FORMAT.md §5
 * rule 1), and its subject digest is entry from's leaf hash. */
static int
check_clock(struct ml_store *s, const struct ml_rules_state *r, struct ml_checked *c,
	    int64_t time_us, struct ml_err *e)
{
	json_int_t from = json_integer_value(json_object_get(c->st.predicate, "from"));
	struct ml_entry before, first;
	uint8_t *b1 = NULL, *b2 = NULL, l1[ML_SHA256_LEN], l2[ML_SHA256_LEN];
	int rc;

	if (from < 1 || (uint64_t)from >= c->seq)
		return ml_err_set(e, ML_EINPUT, "clock-correction: from (%lld) must name an "
				  "earlier entry, 1 to %llu", (long long)from,
				  (unsigned long long)c->seq - 1);
	if ((int64_t)from <= r->last_correction)
		return ml_err_set(e, ML_EINPUT, "clock-correction: from (%lld) must come after "
				  "the previous clock correction, entry %lld", (long long)from,
				  (long long)r->last_correction);
	if ((rc = ml_store_entry_get(s, (uint64_t)from - 1, &before, &b1, l1, e)) ||
	    (rc = ml_store_entry_get(s, (uint64_t)from, &first, &b2, l2, e))) {
		free(b1);
		return rc;
	}
	free(b1);
	free(b2);
	if (memcmp(l2, c->st.digest, ML_SHA256_LEN) != 0)
		return ml_err_set(e, ML_EINPUT, "clock-correction: subject digest must be the leaf "
				  "hash of entry %lld", (long long)from);
	if (time_us < before.time_us || time_us >= first.time_us)
		return ml_err_set(e, ML_EINPUT, "clock-correction: its time must lie between the "
				  "times of entries %lld and %lld", (long long)from - 1,
				  (long long)from);
	return ML_OK;
}

/* Entries about the ledger name its origin. */
static int
check_origin(struct ml_store *s, struct ml_checked *c, struct ml_err *e)
{
	char origin[160];
	int rc;

	if ((rc = ml_store_meta_get(s, "origin", origin, sizeof origin, e)))
		return rc;
	if (strcmp(origin, c->st.subject) != 0)
		return ml_err_set(e, ML_EINPUT, "%s: subject must be this ledger's origin %s",
				  ml_kind_name(c->st.kind), origin);
	return ML_OK;
}

/* ---- gate decisions and the deployments that need them ------------------ */

/* A decision names this ledger's origin and its tree: ledger.root is the
 * root of this ledger's first ledger.size entries (FORMAT.md §5 rule 8).
 * The tree nodes below the decision's own seq are the checked ones (verify
 * checks each complete subtree as it forms), so a decision evaluated on
 * another ledger, or on a root made up, is refused. */
static int
check_gate_tree(struct ml_store *s, struct ml_checked *c, uint64_t size, struct ml_err *e)
{
	json_t *led = json_object_get(c->st.predicate, "ledger");
	const char *b64 = json_string_value(json_object_get(led, "root"));
	const char *origin = json_string_value(json_object_get(led, "origin"));
	struct ml_store_nodes n = {s, e};
	uint8_t want[ML_SHA256_LEN], have[ML_SHA256_LEN];
	char mine[160];
	int rc;

	if ((rc = ml_store_meta_get(s, "origin", mine, sizeof mine, e)))
		return rc;
	if (!origin || strcmp(origin, mine))
		return ml_err_set(e, ML_EINPUT, "gate decision for %s names the ledger %.80s, "
				  "not this one (%.80s)", c->st.subject, origin ? origin : "?",
				  mine);
	if (!b64 || ml_b64_decode_exact(b64, strlen(b64), have, sizeof have))
		return ml_err_set(e, ML_EINPUT, "gate decision for %s: ledger.root is not a "
				  "base64 SHA-256", c->st.subject);
	if (size == 0 || ml_merkle_root(ml_store_node_read, &n, size, want) != 0)
		return e->code == ML_EIO ? ML_EIO
					 : ml_err_set(e, ML_EINPUT, "gate decision for %s: no "
						      "tree of size %llu", c->st.subject,
						      (unsigned long long)size);
	if (memcmp(want, have, sizeof want))
		return ml_err_set(e, ML_EINPUT, "gate decision for %s: its ledger root at size "
				  "%llu is not this ledger's (evaluated on another ledger or "
				  "another tree)", c->st.subject, (unsigned long long)size);
	return ML_OK;
}

/* A decision (one that records its parameters: replayable, FORMAT.md §2) is
 * made at its append time, within the tolerance, on a checkpoint that was
 * the latest one then: the first entry it does not cover was appended no
 * earlier than the tolerance before it. */
static int
check_gate(struct ml_store *s, struct ml_checked *c, int64_t time_us, struct ml_err *e)
{
	json_t *p = c->st.predicate;
	uint64_t size = (uint64_t)json_integer_value(json_object_get(json_object_get(p, "ledger"),
								     "size"));
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	int64_t tv;
	int rc;

	if (size > c->seq)
		return ml_err_set(e, ML_EINPUT, "gate decision for %s claims a ledger of %llu "
				  "entries, more than came before it", c->st.subject,
				  (unsigned long long)size);
	if ((rc = check_gate_tree(s, c, size, e)))
		return rc;
	if (!json_object_get(p, "parameters"))
		return ML_OK; /* made before decisions were replayable: rule 8 only */
	ml_time_parse(json_string_value(json_object_get(p, "timeVerified")), &tv);
	if (tv > time_us + ML_CLOCK_TOLERANCE_US || tv < time_us - ML_CLOCK_TOLERANCE_US)
		return ml_err_set(e, ML_EINPUT, "gate decision for %s: made at %s, more than 5 "
				  "minutes from its append time (a recorded decision is made now)",
				  c->st.subject, json_string_value(json_object_get(p, "timeVerified")));
	if (size == c->seq)
		return ML_OK;
	if ((rc = ml_store_entry_get(s, size, &en, &bytes, leaf, e)))
		return rc;
	free(bytes);
	if (en.time_us < tv - ML_CLOCK_TOLERANCE_US)
		return ml_err_set(e, ML_EINPUT, "gate decision for %s: its checkpoint (size %llu) "
				  "was stale when it was made: entry %llu had been appended before",
				  c->st.subject, (unsigned long long)size, (unsigned long long)size);
	return ML_OK;
}

/* Reads entry seq and parses its statement into *st (then *parsed is true;
 * false when it is not one: the ledger's rules were checked when it was
 * appended).  ML_OK, or the store's code (*parsed false). */
static enum ml_rc
statement_at(struct ml_store *s, uint64_t seq, struct ml_statement *st, int64_t *time_us,
	     bool *parsed, struct ml_err *e)
{
	struct ml_entry en;
	struct ml_envelope ev;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	int rc;

	*parsed = false;
	if ((rc = ml_store_entry_get(s, seq, &en, &bytes, leaf, e)))
		return rc;
	if (time_us)
		*time_us = en.time_us;
	if (ml_envelope_parse(en.envelope, en.envelope_len, &ev, NULL) == ML_OK) {
		*parsed = ml_statement_parse(ev.payload, ev.payload_len, st, NULL) == ML_OK;
		ml_envelope_clear(&ev);
	}
	free(bytes);
	return ML_OK;
}

/* ---- persons: dual control and separation of duties ------------------- */

#define PERSON_MAX (ML_KEY_NAME_MAX + 1)

/* The person of an enrolled key (FORMAT.md §2, "Persons"): the person.id
 * of the entry that enrolled it (the genesis' person for the genesis admin),
 * else the key's name.  ML_EIO; anything unreadable falls back to the name
 * (the entry was checked when it was appended). */
static int
key_person(struct ml_store *s, const struct ml_key_row *row, char out[PERSON_MAX],
	   struct ml_err *e)
{
	struct ml_statement st;
	json_t *id;
	bool parsed;
	int rc;

	snprintf(out, PERSON_MAX, "%s", row->name);
	rc = statement_at(s, (uint64_t)row->enrolled_seq, &st, NULL, &parsed, e);
	if (rc == ML_EIO)
		return rc;
	if (rc != ML_OK || !parsed)
		return ML_OK;
	id = json_object_get(json_object_get(st.predicate, "person"), "id");
	if (json_is_string(id) && json_string_length(id) < PERSON_MAX)
		snprintf(out, PERSON_MAX, "%s", json_string_value(id));
	ml_statement_free(&st);
	return ML_OK;
}

/* The active keys of a projection, with their persons. */
struct holder {
	char keyid[ML_KEYID_MAX];
	char person[PERSON_MAX];
	char roles[256];
	int64_t enrolled_seq;
};

struct holders {
	struct holder *v;
	size_t n, cap;
	int oom;
};

static int
take_active(void *ctx, const struct ml_key_row *row)
{
	struct holders *h = ctx;

	if (row->revoked_seq >= 0)
		return 0;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct holder *v = realloc(h->v, cap * sizeof *v);
		if (!v) {
			h->oom = 1;
			return 1;
		}
		h->v = v;
		h->cap = cap;
	}
	memset(&h->v[h->n], 0, sizeof h->v[h->n]);
	memcpy(h->v[h->n].keyid, row->keyid, ML_KEYID_MAX);
	snprintf(h->v[h->n].person, PERSON_MAX, "%s", row->name);
	snprintf(h->v[h->n].roles, sizeof h->v[h->n].roles, "%s", row->roles);
	h->v[h->n++].enrolled_seq = row->enrolled_seq;
	return 0;
}

/* Every active key of db with its person; h->v is the caller's to free. */
static int
active_holders(struct ml_store *s, enum ml_db db, struct holders *h, struct ml_err *e)
{
	struct ml_key_row row;
	size_t i;
	int rc;

	memset(h, 0, sizeof *h);
	rc = ml_store_key_each_in(s, db, take_active, h, e);
	if (h->oom)
		return ml_err_set(e, ML_EIO, "out of memory");
	if (rc)
		return rc;
	for (i = 0; i < h->n; i++) {
		memset(&row, 0, sizeof row);
		snprintf(row.name, sizeof row.name, "%s", h->v[i].person);
		row.enrolled_seq = h->v[i].enrolled_seq;
		if ((rc = key_person(s, &row, h->v[i].person, e)))
			return rc;
	}
	return ML_OK;
}

/* Distinct persons among h's keys holding role (except keyid skip, may be
 * NULL), joined by ", " into list; their number. */
static size_t
persons_holding(const struct holders *h, const char *role, const char *skip, char *list,
		size_t cap)
{
	size_t i, j, n = 0;

	list[0] = '\0';
	for (i = 0; i < h->n; i++) {
		if (!ml_roles_has(h->v[i].roles, role) || (skip && !strcmp(skip, h->v[i].keyid)))
			continue;
		for (j = 0; j < i; j++)
			if (!strcmp(h->v[j].person, h->v[i].person) &&
			    ml_roles_has(h->v[j].roles, role) &&
			    !(skip && !strcmp(skip, h->v[j].keyid)))
				break;
		if (j < i)
			continue;
		n++;
		snprintf(list + strlen(list), cap - strlen(list), "%s%s", n > 1 ? ", " : "",
			 h->v[i].person);
	}
	return n;
}

/* Whether person holds role through one of h's keys, or through extra
 * (roles being enrolled, may be NULL). */
static int
person_holds(const struct holders *h, const char *person, const char *role, const char *extra)
{
	size_t i;

	if (extra && ml_roles_has(extra, role))
		return 1;
	for (i = 0; i < h->n; i++)
		if (!strcmp(h->v[i].person, person) && ml_roles_has(h->v[i].roles, role))
			return 1;
	return 0;
}

/* Rule 14: under g's separation, no person holds both roles of a pair;
 * person (may be NULL) is about to get the comma-separated roles extra. */
static int
check_separated(const struct ml_governance *g, const struct holders *h, const char *person,
		const char *extra, const char *what, struct ml_err *e)
{
	const char *a, *b;
	size_t i, k;

	for (i = 0; ml_governance_separation(g, i, &a, &b); i++) {
		if (person && person_holds(h, person, a, extra) && person_holds(h, person, b, extra))
			return ml_err_set(e, ML_EINPUT, "%s: person %s would hold both %s and %s, "
					  "which the governance separates (separation)", what,
					  person, a, b);
		for (k = 0; !person && k < h->n; k++)
			if (person_holds(h, h->v[k].person, a, NULL) &&
			    person_holds(h, h->v[k].person, b, NULL))
				return ml_err_set(e, ML_EINPUT, "%s: person %s holds both %s and %s, "
						  "which it would separate (separation); revoke one "
						  "first", what, h->v[k].person, a, b);
	}
	return ML_OK;
}

/* A key-enrollment under a document with separation (rule 14). */
static int
check_enrol_separation(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
		       struct ml_checked *c, struct ml_err *e)
{
	const char *a, *b, *vkey = pred_str(&c->st, "key");
	json_t *id = json_object_get(json_object_get(c->st.predicate, "person"), "id"), *role;
	char person[PERSON_MAX], roles[256] = "";
	struct holders h;
	struct ml_pubkey k;
	size_t i;
	int rc;

	if (!r->governed || !ml_governance_separation(r->gov, 0, &a, &b))
		return ML_OK;
	if (json_is_string(id) && json_string_length(id) < PERSON_MAX) {
		snprintf(person, sizeof person, "%s", json_string_value(id));
	} else {
		ml_pubkey_parse(vkey, strlen(vkey), &k, NULL);
		snprintf(person, sizeof person, "%s", k.name);
	}
	json_array_foreach(json_object_get(c->st.predicate, "roles"), i, role)
		snprintf(roles + strlen(roles), sizeof roles - strlen(roles), "%s%s",
			 i ? "," : "", json_string_value(role));
	if ((rc = active_holders(s, db, &h, e)) == ML_OK)
		rc = check_separated(r->gov, &h, person, roles, "key-enrollment", e);
	free(h.v);
	return rc;
}

/* A governance document g, about to be in force, can be met by the keys
 * active now: dualControl has enough persons holding its role, and no
 * person holds both roles of a separation pair.  Otherwise nobody could
 * ever enrol the persons it needs (a deadlock), so it is refused. */
static int
check_doc_meetable(struct ml_store *s, enum ml_db db, const struct ml_governance *g,
		   struct ml_err *e)
{
	const char *role;
	char list[512];
	struct holders h;
	size_t have;
	int k, rc;

	if (!ml_governance_dual(g, ML_KIND_COUNT, &k, &role) &&
	    !ml_governance_separation(g, 0, &role, &role))
		return ML_OK; /* nothing to meet: no keys read */
	if ((rc = active_holders(s, db, &h, e)))
		goto out;
	if (ml_governance_dual(g, ML_KIND_COUNT, &k, &role) &&
	    (have = persons_holding(&h, role, NULL, list, sizeof list)) < (size_t)k) {
		rc = ml_err_set(e, ML_EINPUT, "governance: dualControl needs %d persons holding "
				"%s, and %zu %s enrolled%s%s%s: enrol more first, or nobody could "
				"sign what it covers", k, role, have, have == 1 ? "is" : "are",
				have ? " (" : "", list, have ? ")" : "");
		goto out;
	}
	rc = check_separated(g, &h, NULL, NULL, "governance", e);
out:
	free(h.v);
	return rc;
}

/* A revocation may not leave the dualControl in force without enough
 * persons holding its role (rule 13): nobody could then enrol more. */
static int
check_revoke_dual(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
		  const char *keyid, struct ml_err *e)
{
	const char *role;
	char list[512];
	struct holders h;
	size_t have;
	int k, rc;

	if (!r->governed || !ml_governance_dual(r->gov, ML_KIND_COUNT, &k, &role))
		return ML_OK;
	if ((rc = active_holders(s, db, &h, e)) == ML_OK &&
	    (have = persons_holding(&h, role, keyid, list, sizeof list)) < (size_t)k)
		rc = ml_err_set(e, ML_EINPUT, "revoking %s would leave %zu %s holding %s (%s), "
				"fewer than dualControl's %d signers; enrol another first", keyid,
				have, have == 1 ? "person" : "persons", role, list, k);
	free(h.v);
	return rc;
}

/* Rule 13: an entry of a kind under the dualControl in force is signed by
 * at least K distinct persons holding its role (author and countersigners). */
static int
check_dual(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
	   struct ml_checked *c, struct ml_err *e)
{
	char persons[ML_ENVELOPE_MAX_SIGS][PERSON_MAX], list[512] = "", others[512] = "";
	const char *role, *keyid;
	struct ml_key_row row;
	size_t i, j, n = 0;
	int k, found, rc;

	if (!r->governed || c->st.kind == ML_KIND_GENESIS ||
	    !ml_governance_dual(r->gov, c->st.kind, &k, &role))
		return ML_OK;
	for (i = 0; i <= c->env.nco; i++) {
		char who[PERSON_MAX];
		keyid = i ? c->env.co[i - 1].keyid : c->env.keyid;
		if ((rc = known_key(s, db, r, keyid, &row, NULL, NULL, &found, e)))
			return rc;
		if (!found)
			continue; /* rule 4 refused it already */
		if ((rc = key_person(s, &row, who, e)))
			return rc;
		if (!ml_roles_has(row.roles, role)) {
			snprintf(others + strlen(others), sizeof others - strlen(others),
				 "; %s does not hold %s", keyid, role);
			continue;
		}
		for (j = 0; j < n && strcmp(persons[j], who); j++)
			;
		if (j < n) {
			snprintf(others + strlen(others), sizeof others - strlen(others),
				 "; %s is %s's again", keyid, who);
			continue;
		}
		memcpy(persons[n++], who, PERSON_MAX);
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", n > 1 ? ", " : "",
			 who);
	}
	if (n >= (size_t)k)
		return ML_OK;
	if (r->dual_short) {
		snprintf(r->dual_short, 384, "%s needs %d %.32ss (persons), has %zu: %.150s%.120s",
			 ml_kind_name(c->st.kind), k, role, n, n ? list : "none", others);
		return ML_OK;
	}
	return ml_err_set(e, ML_EKEY, "%s needs %d %ss (persons), has %zu: %s%s; countersign "
			  "with 'mlledger sign --countersign' (sign with --out FILE first)",
			  ml_kind_name(c->st.kind), k, role, n, n ? list : "none", others);
}

/* Descriptor d names, by a mlledger:seq/N uri below size, a `policy` entry
 * with its name and digest; the policy's id into id (FORMAT.md §2,
 * replayable). */
static int
recorded_policy(struct ml_store *s, json_t *d, uint64_t size, char id[129], struct ml_err *e)
{
	const char *name = json_string_value(json_object_get(d, "name"));
	const char *hex = json_string_value(json_object_get(json_object_get(d, "digest"),
							    "sha256"));
	struct ml_statement st;
	char version[65], want[65];
	uint64_t seq;
	bool parsed;
	int ok;

	if (!name || !hex || ml_policy_uri_seq(json_string_value(json_object_get(d, "uri")), &seq) ||
	    seq >= size || ml_ref_split(name, id, version) != 0 ||
	    statement_at(s, seq, &st, NULL, &parsed, e) != ML_OK || !parsed)
		return 0;
	ml_hex_encode(st.digest, ML_SHA256_LEN, want);
	ok = st.kind == ML_KIND_POLICY && !strcmp(st.subject, name) && !strcmp(want, hex);
	ml_statement_free(&st);
	return ok;
}

/* A decision that may admit a deployment under req (FORMAT.md §5 rule 12):
 * PASSED, replayable, naming every required policy id. */
static int
admits(struct ml_store *s, const struct ml_statement *g, const struct ml_gate_req *req,
       struct ml_err *e)
{
	json_t *p = g->predicate, *d;
	uint64_t size = (uint64_t)json_integer_value(json_object_get(json_object_get(p, "ledger"),
								     "size"));
	char id[129];
	size_t i, j, found = 0;
	int named[16] = {0};

	if (strcmp(json_string_value(json_object_get(p, "verificationResult")), "PASSED") ||
	    !ml_gate_replayable_shape(p))
		return 0;
	json_array_foreach(json_object_get(p, "policies"), i, d) {
		if (!recorded_policy(s, d, size, id, e))
			return 0;
		for (j = 0; j < req->n; j++)
			if (!named[j] && !strcmp(id, req->policies[j])) {
				named[j] = 1;
				found++;
			}
	}
	return found == req->n;
}

/* A decision for this deployment's subject, digest and environment that
 * names every required policy id: the newest one decides. */
static int
relevant(const struct ml_statement *g, const struct ml_checked *c, const char *env,
	 const struct ml_gate_req *req)
{
	json_t *p = g->predicate, *d;
	size_t i, j, n;
	int named;

	if (g->kind != ML_KIND_GATE || strcmp(g->subject, c->st.subject) ||
	    memcmp(g->digest, c->st.digest, ML_SHA256_LEN) ||
	    strcmp(json_string_value(json_object_get(p, "environment")), env))
		return 0;
	for (j = 0; j < req->n; j++) {
		n = strlen(req->policies[j]);
		named = 0;
		json_array_foreach(json_object_get(p, "policies"), i, d) {
			const char *name = json_string_value(json_object_get(d, "name"));
			if (name && !strncmp(name, req->policies[j], n) && name[n] == '@')
				named = 1;
		}
		if (!named)
			return 0;
	}
	return 1;
}

struct recent {
	uint64_t below, v[64];
	size_t n;
};

static int
take_recent(void *ctx, uint64_t seq)
{
	struct recent *r = ctx;

	if (seq >= r->below)
		return 0;
	r->v[r->n++] = seq;
	return r->n == sizeof r->v / sizeof r->v[0];
}

/* A deployment to an environment the governance gates needs a decision
 * (FORMAT.md §5 rule 12): the newest decision for its subject, digest and
 * environment under the required policies, appended at most maxAge before
 * it, admits it.  ML_EDENY naming what is missing. */
static int
check_deployment_gate(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
		      struct ml_checked *c, int64_t time_us, struct ml_err *e)
{
	const char *env = pred_str(&c->st, "environment");
	struct ml_gate_req req;
	struct recent rec = {.below = c->seq};
	char name[129], version[65], list[256] = "", hex[65];
	int64_t at;
	int64_t decided = -1;
	size_t i;
	int rc, ok = 0;

	if (!r->governed || !ml_governance_gate(r->gov, env, &req))
		return ML_OK;
	if (ml_ref_split(c->st.subject, name, version) != 0)
		return ml_err_set(e, ML_EINPUT, "deployment: bad subject");
	rc = ml_store_index_seqs(s, db, "gate", name, version, take_recent, &rec, e);
	if (rc != ML_OK && rc != 1)
		return rc;
	for (i = 0; i < rec.n && decided < 0; i++) {
		struct ml_statement g;
		bool parsed;
		if ((rc = statement_at(s, rec.v[i], &g, &at, &parsed, e)) != ML_OK)
			return rc;
		if (!parsed)
			continue;
		if (at < time_us - req.max_age_us) {
			ml_statement_free(&g);
			break; /* newest first: every other one is older still */
		}
		if (relevant(&g, c, env, &req)) {
			decided = (int64_t)rec.v[i];
			ok = admits(s, &g, &req, e);
		}
		ml_statement_free(&g);
	}
	if (ok)
		return ML_OK;
	for (i = 0; i < req.n; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
			 req.policies[i]);
	ml_hex_encode(c->st.digest, ML_SHA256_LEN, hex);
	if (decided >= 0)
		return ml_err_set(e, ML_EDENY, "deployment of %s to %s: the latest gate decision "
				  "under %s for it (entry %lld) does not admit it (FAILED, or not "
				  "replayable); gate again (mlledger gate --policy ID %s --env %s "
				  "--key KEY)", c->st.subject, env, list, (long long)decided,
				  c->st.subject, env);
	return ml_err_set(e, ML_EDENY, "deployment of %s to %s needs a passing gate decision "
			  "under %s for digest sha256:%.12s, recorded in the last %lld hours "
			  "(mlledger gate --policy ID %s --env %s --key KEY)", c->st.subject, env,
			  list, hex, (long long)(req.max_age_us / 3600000000LL), c->st.subject, env);
}

/* A statement names the ledger it is for (FORMAT.md §5 rule 15): the
 * origin it names is this ledger's; in a format-2 ledger every statement
 * names one, and every enrolment carries its key's proof of possession,
 * which verifies (in format 1, when present). */
static int
check_binding(const struct ml_rules_state *r, struct ml_checked *c, struct ml_err *e)
{
	const char *origin = ml_statement_origin(&c->st);

	if (c->st.kind == ML_KIND_GENESIS)
		return ML_OK;
	if (origin && strcmp(origin, r->origin) != 0)
		return ml_err_set(e, ML_EINPUT, "%s: the statement is for ledger \"%.128s\", not "
				  "this one (%s): a statement signed for one ledger is not "
				  "valid in another", ml_kind_name(c->st.kind), origin, r->origin);
	if (!origin && r->format >= 2)
		return ml_err_set(e, ML_EINPUT, "%s: the statement names no ledger origin, which "
				  "every statement of this ledger must (sign it with --origin %s)",
				  ml_kind_name(c->st.kind), r->origin);
	return ML_OK;
}

/* After the enrolment's other rules (so that a key enrolled twice is named
 * as such): its proof of possession. */
static int
check_possession(const struct ml_rules_state *r, struct ml_checked *c, struct ml_err *e)
{
	const char *pop;

	if (c->st.kind != ML_KIND_KEY_ENROLLMENT)
		return ML_OK;
	pop = pred_str(&c->st, "possession");
	if (!pop && r->format >= 2)
		return ml_err_set(e, ML_EINPUT, "key-enrollment of %s: no proof of possession "
				  "(the key's holder signs one: mlledger key possess)",
				  c->st.subject);
	if (pop && ml_possession_verify(r->origin, pred_str(&c->st, "key"),
					json_object_get(c->st.predicate, "person"), pop, e))
		return ml_err_prefix(e, e->code, "key-enrollment");
	return ML_OK;
}

static int
check_kind(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
	   struct ml_checked *c, int64_t time_us, struct ml_err *e)
{
	if (admin_only(c->st.kind) && !ml_roles_has(c->roles, "admin"))
		return ml_err_set(e, ML_EKEY, "key %s does not hold role admin, which %s needs",
				  c->env.keyid, ml_kind_name(c->st.kind));
	if (r->governed && c->st.kind != ML_KIND_GENESIS &&
	    ml_governance_check_signer(r->gov, c->env.keyid, c->roles, c->st.kind, e))
		return e->code;
	if (r->governed && check_declared(r, c, e))
		return e->code;
	switch (c->st.kind) {
	case ML_KIND_GENESIS: {
		struct ml_governance *g;
		const char *doc = pred_str(&c->st, "governance"), *role;
		int k;
		if (doc && ml_governance_parse(doc, strlen(doc), &g, e))
			return e->code;
		if (!doc)
			return ML_OK;
		/* only the genesis admin is enrolled, holding admin */
		if (ml_governance_dual(g, ML_KIND_COUNT, &k, &role) &&
		    (strcmp(role, "admin") ? 0 : 1) < k) {
			ml_governance_free(g);
			return ml_err_set(e, ML_EINPUT, "genesis: the governance's dualControl "
					  "needs %d persons holding %s, and a new ledger has one "
					  "admin; start without it, enrol the others, then 'mlledger "
					  "governance set'", k, role);
		}
		ml_governance_free(g);
		return ML_OK;
	}
	case ML_KIND_GOVERNANCE: {
		struct ml_governance *g;
		const char *doc = pred_str(&c->st, "document");
		int rc;
		if (check_origin(s, c, e) || ml_governance_parse(doc, strlen(doc), &g, e))
			return e->code;
		rc = check_doc_meetable(s, db, g, e);
		ml_governance_free(g);
		return rc;
	}
	case ML_KIND_CLOCK_CORRECTION:
		return check_origin(s, c, e) ? e->code : check_clock(s, r, c, time_us, e);
	case ML_KIND_WAIVER:
		if (r->governed && check_waiver(c, time_us, e))
			return e->code;
		return check_about_model(s, db, c, e);
	case ML_KIND_RETIREMENT:
		if (check_about_model(s, db, c, e))
			return e->code;
		return r->governed ? check_retirement(s, c, e) : ML_OK;
	case ML_KIND_KEY_ENROLLMENT:
		if (check_enrollment(s, db, r, c, e))
			return e->code;
		return check_enrol_separation(s, db, r, c, e);
	case ML_KIND_KEY_REVOCATION:
		return c->st.kind == ML_KIND_KEY_ENROLLMENT ? check_enrollment(s, db, r, c, e)
							    : check_revocation(s, db, r, c, e);
	case ML_KIND_DATASET:
	case ML_KIND_MODEL:
		return check_versioned(s, db, c, e);
	case ML_KIND_GATE:
		if (check_gate(s, c, time_us, e))
			return e->code;
		return check_about_model(s, db, c, e);
	case ML_KIND_DEPLOYMENT:
		if (check_about_model(s, db, c, e))
			return e->code;
		return check_deployment_gate(s, db, r, c, time_us, e);
	case ML_KIND_POLICY:
		return check_versioned(s, db, c, e);
	case ML_KIND_REPORT:
		return ML_OK; /* about a file outside the ledger: the statement's checks */
	default:
		return check_about_model(s, db, c, e);
	}
}

/* Rule 4 for countersignatures: each keyid names a key enrolled before the
 * entry and not revoked (none at entry 0: the genesis has one signer). */
static int
co_signers(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
	   struct ml_checked *c, struct ml_err *e)
{
	struct ml_key_row row;
	size_t i;
	int found, key_rc = ML_OK;

	if (c->env.nco && c->seq == 0)
		return ml_err_set(e, ML_EKEY, "entry 0 is signed by its admin key alone");
	for (i = 0; i < c->env.nco; i++) {
		const char *keyid = c->env.co[i].keyid;
		if (known_key(s, db, r, keyid, &row, &c->co[i], &key_rc, &found, e))
			return e->code;
		if (!found)
			return ml_err_set(e, ML_EKEY, "countersignature by %s: the key is not "
					  "enrolled in this ledger", keyid);
		if (row.revoked_seq >= 0)
			return ml_err_set(e, ML_EKEY, "countersignature by %s: the key was revoked "
					  "at entry %lld", keyid, (long long)row.revoked_seq);
		if (key_rc)
			return ml_err_set(e, ML_EINTEGRITY, "stored key %s is corrupt", row.keyid);
	}
	return ML_OK;
}

static void
fill_index(struct ml_checked *c)
{
	struct ml_index_row *ix = &c->ix;
	char name[129], version[65];

	memset(ix, 0, sizeof *ix);
	ix->seq = (int64_t)c->seq;
	copy_str(ix->kind, sizeof ix->kind, ml_kind_name(c->st.kind));
	if (ml_ref_split(c->st.subject, name, version) == 0 &&
	    !ml_kind_about_ledger(c->st.kind) && c->st.kind != ML_KIND_KEY_ENROLLMENT &&
	    c->st.kind != ML_KIND_KEY_REVOCATION) {
		copy_str(ix->name, sizeof ix->name, name);
		copy_str(ix->version, sizeof ix->version, version);
	} else {
		copy_str(ix->name, sizeof ix->name, c->st.subject);
	}
	memcpy(ix->keyid, c->env.keyid, sizeof ix->keyid);
	memcpy(ix->stmt_hash, c->stmt_hash, ML_SHA256_LEN);
}

/* *to: a copy of from that owns its payload and countersignatures. */
static enum ml_rc
envelope_copy(struct ml_envelope *to, const struct ml_envelope *from, struct ml_err *e)
{
	*to = *from;
	to->payload = malloc(from->payload_len ? from->payload_len : 1);
	to->co = NULL;
	if (to->payload && from->nco)
		to->co = malloc(from->nco * sizeof *to->co);
	if (!to->payload || (from->nco && !to->co)) {
		free(to->payload);
		memset(to, 0, sizeof *to);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	memcpy(to->payload, from->payload, from->payload_len);
	if (from->nco)
		memcpy(to->co, from->co, from->nco * sizeof *to->co);
	return ML_OK;
}

/* c->env and c->stmt_hash from the envelope's bytes, or from env_hint when
 * it describes exactly those bytes (rules.h). */
static int
envelope_of(struct ml_checked *c, const uint8_t *envelope, size_t len,
	    const struct ml_envelope_hint *env_hint, struct ml_err *e)
{
	int rc;

	if (env_hint && env_hint->env && env_hint->len == len && len <= ML_MAX_ENVELOPE &&
	    memcmp(env_hint->bytes, envelope, len) == 0) {
		if ((rc = envelope_copy(&c->env, env_hint->env, e)))
			return rc;
		memcpy(c->stmt_hash, env_hint->payload_sha256, ML_SHA256_LEN);
		return ML_OK;
	}
	if ((rc = ml_envelope_parse(envelope, len, &c->env, e)) != ML_OK)
		return rc;
	ml_sha256(c->env.payload, c->env.payload_len, c->stmt_hash);
	return ML_OK;
}

int
ml_rules_check(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
	       uint64_t seq, int64_t time_us, const uint8_t *envelope, size_t len,
	       int check_sig,
	       const struct ml_statement *hint, struct ml_checked *out, struct ml_err *e)
{
	return ml_rules_check_hinted(s, db, r, seq, time_us, envelope, len, check_sig, hint,
				     NULL, out, e);
}

int
ml_rules_check_hinted(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
		      uint64_t seq, int64_t time_us, const uint8_t *envelope, size_t len,
		      int check_sig, const struct ml_statement *hint,
		      const struct ml_envelope_hint *env_hint, struct ml_checked *out,
		      struct ml_err *e)
{
	struct ml_checked c;
	char keyid[ML_KEYID_MAX];
	const char *bad = "";
	int64_t dup;
	int found, rc;

	memset(&c, 0, sizeof c);
	c.seq = seq;
	if ((rc = envelope_of(&c, envelope, len, env_hint, e)) != ML_OK)
		return rc;
	if (hint && memcmp(hint->source_sha256, c.stmt_hash, ML_SHA256_LEN) == 0) {
		c.st = *hint; /* the same bytes: the same parse */
		json_incref(c.st.root);
	} else if ((rc = ml_statement_parse_ex(c.env.payload, c.env.payload_len,
					      env_hint ? 0 : ML_STATEMENT_NO_SOURCE_HASH, &c.st,
					      e)) != ML_OK) {
		goto fail;
	} else if (!env_hint) {
		/* the source hash is the payload's, which envelope_of just
		 * computed from the same bytes (not a hint's claim) */
		memcpy(c.st.source_sha256, c.stmt_hash, ML_SHA256_LEN);
	}
	rc = seq == 0 ? genesis_signer(&c, e) : enrolled_signer(s, db, r, &c, e);
	if (rc)
		goto fail;
	ml_pubkey_keyid(&c.signer, keyid);
	if (strcmp(keyid, c.env.keyid) != 0) {
		rc = ml_err_set(e, ML_EKEY, "entry 0 must be signed by the admin key it enrols");
		goto fail;
	}
	if ((rc = co_signers(s, db, r, &c, e)))
		goto fail;
	if (check_sig && !ml_envelope_verify_all(&c.env, &c.signer, c.co, &bad)) {
		rc = ml_err_set(e, ML_EKEY, "signature by %s does not verify", bad);
		goto fail;
	}
	if ((rc = ml_store_index_find(s, db, c.env.keyid, c.stmt_hash, &dup, &found, e)))
		goto fail;
	if (found) {
		rc = ml_err_set(e, ML_EINPUT, "duplicate: the same statement signed by %s is "
				"entry %lld", c.env.keyid, (long long)dup);
		goto fail;
	}
	if ((rc = check_binding(r, &c, e)) != ML_OK ||
	    (rc = check_kind(s, db, r, &c, time_us, e)) != ML_OK ||
	    (rc = check_possession(r, &c, e)) != ML_OK ||
	    (rc = check_dual(s, db, r, &c, e)) != ML_OK)
		goto fail;
	fill_index(&c);
	*out = c;
	return ML_OK;
fail:
	ml_checked_free(&c);
	return rc;
}

int
ml_rules_apply(struct ml_store *s, enum ml_db db, struct ml_rules_state *r,
	       const struct ml_checked *c, struct ml_err *e)
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
	if (pred_str(st, ML_IDEMPOTENCY_MEMBER) &&
	    ml_store_idem_insert(s, db, c->env.keyid, pred_str(st, ML_IDEMPOTENCY_MEMBER),
				 (int64_t)c->seq, e))
		return e->code;
	if (st->kind == ML_KIND_CLOCK_CORRECTION)
		r->last_correction = (int64_t)c->seq;
	if (st->kind == ML_KIND_GENESIS) {
		r->format = (int)json_integer_value(json_object_get(st->predicate, "format"));
		snprintf(r->origin, sizeof r->origin, "%s", pred_str(st, "origin"));
	}
	if (st->kind == ML_KIND_GOVERNANCE ||
	    (st->kind == ML_KIND_GENESIS && pred_str(st, "governance"))) {
		int rc = set_governance(r, pred_str(st, st->kind == ML_KIND_GENESIS ? "governance"
									  : "document"),
					(int64_t)c->seq, e);
		if (rc)
			return rc;
	}
	if ((st->kind == ML_KIND_GENESIS || st->kind == ML_KIND_KEY_ENROLLMENT ||
	     st->kind == ML_KIND_KEY_REVOCATION) && keys_changed(r, db, e))
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
			json_t *role;
			size_t i;
			json_array_foreach(json_object_get(st->predicate, "roles"), i, role) {
				size_t n = strlen(row.roles);
				snprintf(row.roles + n, sizeof row.roles - n, "%s%s", i ? "," : "",
					 json_string_value(role));
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
	case ML_KIND_POLICY:
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

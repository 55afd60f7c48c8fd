/* ledger — see ledger.h. */
#include "ledger.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "chain.h"
#include "merkle.h"
#include "note_checkpoint.h"
#include "retry.h"
#include "rules.h"
#include "statement.h"

struct ml_ledger {
	struct ml_store *s;
	char origin[ML_ORIGIN_MAX + 1];
	char logkey[ML_VKEY_MAX];
	char logkey_path[4200];
	/* The rules state after the last batch this handle committed, for the
	 * next batch when the ledger's head is still what that batch left (a
	 * server commits a batch every few ms; loading the state parses the
	 * genesis and governance entries).  Owned; rules_valid says it is set. */
	struct ml_rules_state rules;
	uint64_t rules_size;
	uint8_t rules_last[ML_SHA256_LEN];
	int rules_valid;
	/* The log key, loaded by the first batch and checked against logkey,
	 * kept until close (loading decodes it into locked memory: a few
	 * system calls a batch).  Owned; NULL until then. */
	struct ml_seckey *logk;
};

void
ml_ledger_logkey_path(const char *path, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s.log.key", path);
}

int
ml_ledger_default_origin(const char *path, char *buf, size_t cap, struct ml_err *e)
{
	char host[256] = "localhost", abs[PATH_MAX], dir[PATH_MAX], full[PATH_MAX + 300];
	const char *slash = strrchr(path, '/');
	size_t i;

	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	/* The file may not exist yet: resolve its folder. */
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
	if (slash == path)
		snprintf(dir, sizeof dir, "/");
	if (!realpath(dir, abs))
		return ml_err_set(e, ML_EINPUT, "%s: %s", dir, strerror(errno));
	snprintf(full, sizeof full, "%s%s%s/%s", host, abs[1] ? "" : "", abs,
		 slash ? slash + 1 : path);
	for (i = 0; full[i]; i++) {
		char c = full[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '/' || c == '-'))
			full[i] = '-';
	}
	snprintf(buf, cap, "%.*s", ML_ORIGIN_MAX, full);
	return ML_OK;
}

static int
origin_valid(const char *o)
{
	size_t n = strlen(o), i;

	if (n == 0 || n > ML_ORIGIN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = o[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '/' || c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

/* Builds and signs the genesis statement. */
static int
genesis_envelope(const char *origin, const struct ml_seckey *logk,
		 const struct ml_seckey *admin, const char *governance, struct ml_buf *env,
		 struct ml_err *e)
{
	char logline[ML_VKEY_MAX], adminline[ML_VKEY_MAX], now[21];
	uint8_t digest[ML_SHA256_LEN];
	struct ml_buf payload = {0};
	json_t *pred;
	int rc;

	ml_pubkey_format(ml_seckey_public(logk), logline);
	ml_pubkey_format(ml_seckey_public(admin), adminline);
	ml_time_format(ml_now_us(), now);
	ml_sha256(logline, strlen(logline), digest);
	pred = json_pack("{s:s, s:i, s:s, s:s, s:s}", "time", now, "format",
			 ML_STATEMENT_FORMAT, "origin", origin, "logKey", logline, "admin",
			 adminline);
	if (!pred || (governance && json_object_set_new(pred, "governance",
							 json_string(governance)) != 0)) {
		json_decref(pred);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	rc = ml_statement_encode(ML_KIND_GENESIS, origin, digest, pred, &payload, e);
	if (rc == ML_OK)
		rc = ml_envelope_sign(admin, payload.data, payload.len, env, e);
	ml_buf_free(&payload);
	return rc;
}

static int
mkdir_parent(const char *path, struct ml_err *e)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return ML_OK;
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return ml_err_set(e, ML_EIO, "%s: %s", dir, strerror(errno));
	return ML_OK;
}

/* The log key is named by the origin, which may hold '/' and so is not a
 * name ml_seckey_generate accepts. */
static int
logkey_generate(const char *origin, struct ml_seckey **out, struct ml_err *e)
{
	uint8_t *seed = sodium_malloc(32);
	int rc;

	if (!seed)
		return ml_err_set(e, ML_EIO, "out of memory");
	randombytes_buf(seed, 32);
	rc = ml_seckey_from_seed(origin, seed, out, e);
	sodium_free(seed);
	return rc;
}

int
ml_ledger_init(const char *path, const char *origin, const struct ml_seckey *admin,
	       struct ml_appended *genesis, struct ml_err *e)
{
	return ml_ledger_init_governed(path, origin, admin, NULL, genesis, e);
}

int
ml_ledger_init_governed(const char *path, const char *origin,
			const struct ml_seckey *admin, const char *governance,
			struct ml_appended *genesis, struct ml_err *e)
{
	char org[ML_ORIGIN_MAX + 1], keypath[PATH_MAX], logline[ML_VKEY_MAX];
	struct ml_seckey *logk = NULL;
	struct ml_store *s = NULL;
	struct ml_ledger *l = NULL;
	struct ml_buf env = {0};
	struct ml_append_item item = {0};
	char *keytext = NULL;
	struct stat st;
	int rc, made_key = 0, made_db = 0;

	if (!governance)
		governance = ml_governance_default_text(); /* declared, so it governs */
	{
		struct ml_governance *g;
		if ((rc = ml_governance_parse(governance, strlen(governance), &g, e)))
			return rc;
		ml_governance_free(g);
	}

	if (stat(path, &st) == 0)
		return ml_err_set(e, ML_EINPUT, "%s: already exists; refusing to overwrite a "
				  "ledger", path);
	if ((rc = mkdir_parent(path, e)))
		return rc;
	if (origin) {
		if (!origin_valid(origin))
			return ml_err_set(e, ML_EINPUT, "--origin: 1-%d bytes of "
					  "[A-Za-z0-9._/:-]", ML_ORIGIN_MAX);
		snprintf(org, sizeof org, "%s", origin);
	} else if ((rc = ml_ledger_default_origin(path, org, sizeof org, e))) {
		return rc;
	}
	ml_ledger_logkey_path(path, keypath, sizeof keypath);
	if ((rc = logkey_generate(org, &logk, e)) ||
	    (rc = ml_seckey_encode(logk, NULL, &keytext, e)))
		goto out;
	if ((rc = ml_write_file_atomic(keypath, keytext, strlen(keytext), 0600, 1, e)))
		goto out;
	made_key = 1;
	if ((rc = ml_store_create(path, &s, e)))
		goto out;
	made_db = 1;
	ml_pubkey_format(ml_seckey_public(logk), logline);
	if ((rc = ml_store_begin(s, 1, e)) ||
	    /* meta.format is the genesis format (FORMAT.md §7) */
	    (rc = ml_store_meta_set(s, "format", "2" /* ML_STATEMENT_FORMAT */, e)) ||
	    (rc = ml_store_meta_set(s, "origin", org, e)) ||
	    (rc = ml_store_meta_set(s, "log_key", logline, e)) ||
	    (rc = ml_store_commit(s, e)))
		goto out;
	ml_store_close(s);
	s = NULL;
	if ((rc = genesis_envelope(org, logk, admin, governance, &env, e)) ||
	    (rc = ml_ledger_open(path, 1, &l, e)))
		goto out;
	item.envelope = env.data;
	item.len = env.len;
	item.signed_by = NULL;
	item.statement = NULL;
	rc = ml_ledger_append(l, &item, 1, genesis, e);
out:
	ml_ledger_close(l);
	ml_store_close(s);
	ml_buf_free(&env);
	if (keytext)
		sodium_free(keytext);
	ml_seckey_free(logk);
	if (rc != ML_OK) {
		char aux[PATH_MAX + 8];
		if (made_db) {
			unlink(path);
			snprintf(aux, sizeof aux, "%s-wal", path);
			unlink(aux);
			snprintf(aux, sizeof aux, "%s-shm", path);
			unlink(aux);
		}
		if (made_key)
			unlink(keypath);
	}
	return rc;
}

int
ml_ledger_open(const char *path, int writable, struct ml_ledger **out, struct ml_err *e)
{
	struct ml_ledger *l = calloc(1, sizeof *l);
	int rc;

	if (!l)
		return ml_err_set(e, ML_EIO, "out of memory");
	ml_ledger_logkey_path(path, l->logkey_path, sizeof l->logkey_path);
	if ((rc = ml_store_open(path, writable, &l->s, e)) ||
	    (rc = ml_store_meta_get(l->s, "origin", l->origin, sizeof l->origin, e)) ||
	    (rc = ml_store_meta_get(l->s, "log_key", l->logkey, sizeof l->logkey, e))) {
		ml_ledger_close(l);
		return rc;
	}
	*out = l;
	return ML_OK;
}

void
ml_ledger_close(struct ml_ledger *l)
{
	if (!l)
		return;
	ml_store_close(l->s);
	ml_rules_state_free(&l->rules);
	ml_seckey_free(l->logk);
	free(l);
}

int
ml_ledger_use_logkey(struct ml_ledger *l, const char *path, struct ml_err *e)
{
	if (strlen(path) >= sizeof l->logkey_path)
		return ml_err_set(e, ML_EINPUT, "--log-key: path too long");
	snprintf(l->logkey_path, sizeof l->logkey_path, "%s", path);
	return ML_OK;
}

struct ml_store *
ml_ledger_store(struct ml_ledger *l)
{
	return l->s;
}

const char *
ml_ledger_origin(const struct ml_ledger *l)
{
	return l->origin;
}

const char *
ml_ledger_logkey(const struct ml_ledger *l)
{
	return l->logkey;
}

/* Checks and writes one item as entry en->seq.  en->prev and time are set. */
static int
append_one(struct ml_ledger *l, struct ml_rules_state *r, const struct ml_append_item *it,
	   const struct ml_envelope_hint *env_hint, struct ml_entry *en,
	   uint8_t leaf[ML_SHA256_LEN], struct ml_err *e)
{
	struct ml_checked c;
	const char *bad = "";
	int rc, trusted;

	if (it->len > ML_MAX_ENVELOPE)
		return ml_err_set(e, ML_EINPUT, "envelope larger than %d bytes", ML_MAX_ENVELOPE);
	rc = ml_rules_check_hinted(l->s, ML_DB_MAIN, r, en->seq, en->time_us, it->envelope,
				   it->len, 0, it->statement, env_hint, &c, e);
	if (rc)
		return rc;
	trusted = it->signed_by &&
		  memcmp(it->signed_by->pk, c.signer.pk, ML_PUBKEY_LEN) == 0 &&
		  strcmp(it->signed_by->name, c.signer.name) == 0;
	if (!trusted && !ml_envelope_verify(&c.env, &c.signer)) {
		rc = ml_err_set(e, ML_EKEY, "signature by %s does not verify", c.env.keyid);
		goto out;
	}
	/* countersignatures come from elsewhere: always checked */
	if (c.env.nco && !ml_envelope_verify_all(&c.env, &c.signer, c.co, &bad)) {
		rc = ml_err_set(e, ML_EKEY, "signature by %s does not verify", bad);
		goto out;
	}
	en->envelope = it->envelope;
	en->envelope_len = it->len;
	ml_leaf_hash(en, leaf);
	if ((rc = ml_store_entry_insert(l->s, en, leaf, e)) ||
	    (rc = ml_rules_apply(l->s, ML_DB_MAIN, r, &c, e)))
		goto out;
out:
	ml_checked_free(&c);
	return rc;
}

struct ml_batch {
	struct ml_ledger *l;
	uint64_t next;                /* seq of the next item */
	uint8_t last[ML_SHA256_LEN];  /* leaf hash of the entry before it */
	int64_t last_time, now;
	struct ml_merkle_edge edge;   /* the tree's right edge */
	const struct ml_seckey *logk; /* signs the batch's checkpoint (the handle's) */
	struct ml_rules_state rules;  /* the governance in force, clock corrections */
	struct ml_err *e;             /* for store_node, the edge's callback */
	uint64_t added;               /* new entries (retries of held ones aside) */
};

/* Loads the right edge of the tree of size n: one complete subtree per set
 * bit of n, largest first. */
static int
load_edge(struct ml_store *s, uint64_t n, struct ml_merkle_edge *m, struct ml_err *e)
{
	uint64_t start = 0;
	int k, rc;

	ml_merkle_edge_init(m);
	m->size = n;
	for (k = 63; k >= 0; k--) {
		if (!(n >> k & 1))
			continue;
		if ((rc = ml_store_node_get(s, (unsigned)k, start >> k, m->nodes[k], e)))
			return rc;
		start += (uint64_t)1 << k;
	}
	return ML_OK;
}

static int
store_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[ML_SHA256_LEN])
{
	struct ml_batch *b = ctx;

	return ml_store_node_put(b->l->s, level, index, hash, b->e);
}

/* Signs and stores the checkpoint of the batch's tree. */
static int
store_checkpoint(struct ml_batch *b, struct ml_err *e)
{
	struct ml_checkpoint c;
	struct ml_buf note = {0};
	int rc;

	memset(&c, 0, sizeof c);
	snprintf(c.origin, sizeof c.origin, "%s", b->l->origin);
	c.size = b->edge.size;
	ml_merkle_edge_root(&b->edge, c.root);
	rc = ml_checkpoint_sign(b->logk, &c, &note, e);
	if (rc == ML_OK)
		rc = ml_store_checkpoint_put(b->l->s, c.size, (const char *)note.data, e);
	ml_buf_free(&note);
	return rc;
}

/* The batch's rules state: the one l kept from its last commit when the
 * head (size and last leaf) is still the one it left, else loaded. */
static int
rules_take(struct ml_ledger *l, struct ml_batch *b, struct ml_err *e)
{
	int keep = l->rules_valid && l->rules_size == b->next &&
		   memcmp(l->rules_last, b->last, ML_SHA256_LEN) == 0;

	l->rules_valid = 0;
	if (keep) {
		b->rules = l->rules;
		memset(&l->rules, 0, sizeof l->rules);
		return ML_OK;
	}
	ml_rules_state_free(&l->rules);
	return ml_rules_state_load(&b->rules, l->s, e);
}

/* Loads the log key into l->logk unless a batch of this handle already
 * did, and checks that it is the ledger's. */
static int
logkey_take(struct ml_ledger *l, struct ml_err *e)
{
	char line[ML_VKEY_MAX];
	struct ml_seckey *k;

	if (l->logk)
		return ML_OK;
	if (ml_seckey_load(l->logkey_path, NULL, NULL, &k, e))
		return ml_err_prefix(e, ML_EKEY, "the log key (it signs checkpoints)");
	ml_pubkey_format(ml_seckey_public(k), line);
	if (strcmp(line, l->logkey) != 0) {
		ml_seckey_free(k);
		return ml_err_set(e, ML_EKEY, "%s is not this ledger's log key (%s)",
				  l->logkey_path, l->logkey);
	}
	l->logk = k;
	return ML_OK;
}

int
ml_batch_begin(struct ml_ledger *l, struct ml_batch **out, struct ml_err *e)
{
	struct ml_batch *b = calloc(1, sizeof *b);
	int rc;

	if (!b)
		return ml_err_set(e, ML_EIO, "out of memory");
	b->l = l;
	if ((rc = logkey_take(l, e))) {
		free(b);
		return rc;
	}
	b->logk = l->logk;
	if ((rc = ml_store_begin(l->s, 1, e))) {
		free(b);
		return rc;
	}
	if ((rc = ml_store_head(l->s, &b->next, b->last, &b->last_time, e)) ||
	    (rc = ml_retry_prepare(l->s, e)) ||
	    (rc = load_edge(l->s, b->next, &b->edge, e)) ||
	    (rc = rules_take(l, b, e))) {
		ml_batch_abort(b);
		return rc;
	}
	b->now = ml_now_us();
	*out = b;
	return ML_OK;
}

int
ml_batch_add(struct ml_batch *b, const struct ml_append_item *item,
	     struct ml_appended *out, struct ml_err *e)
{
	return ml_batch_add_hinted(b, item, NULL, out, e);
}

int
ml_batch_add_hinted(struct ml_batch *b, const struct ml_append_item *item,
		    const struct ml_envelope_hint *env_hint, struct ml_appended *out,
		    struct ml_err *e)
{
	struct ml_entry en;
	struct ml_retry_hit hit;
	int rc, held;

	/* A retry of what the ledger holds (this batch included) writes
	 * nothing and answers with that entry. */
	if ((rc = ml_retry_find(b->l->s, item->envelope, item->len, item->signed_by,
				item->statement, &hit, &held, e)))
		return rc;
	if (held) {
		out->seq = hit.seq;
		out->time_us = hit.time_us;
		memcpy(out->leaf, hit.leaf, ML_SHA256_LEN);
		out->existing = 1;
		return ML_OK;
	}
	memset(&en, 0, sizeof en);
	en.seq = b->next;
	memcpy(en.prev, b->last, ML_SHA256_LEN);
	if (!item->at_clock && b->last_time > b->now + ML_CLOCK_TOLERANCE_US) {
		char last[21], now[21];
		ml_time_format(b->last_time, last);
		ml_time_format(b->now, now);
		return ml_err_set(e, ML_EIO, "entry %llu is dated %s, more than 5 minutes ahead of "
				  "this machine's clock (%s): fix the clock, or have an admin "
				  "correct the ledger's (mlledger clock-correct)",
				  (unsigned long long)b->next - 1, last, now);
	}
	/* Append times never go backwards, whatever the clock does (a clock
	 * correction aside: rules bound its time). */
	en.time_us = b->now > b->last_time || item->at_clock ? b->now : b->last_time;
	if ((rc = append_one(b->l, &b->rules, item, env_hint, &en, b->last, e)))
		return rc;
	b->e = e;
	if ((rc = ml_merkle_edge_add(&b->edge, b->last, store_node, b)))
		return rc;
	b->last_time = en.time_us;
	b->next++;
	b->added++;
	out->existing = 0;
	out->seq = en.seq;
	out->time_us = en.time_us;
	memcpy(out->leaf, b->last, ML_SHA256_LEN);
	return ML_OK;
}

int
ml_batch_commit(struct ml_batch *b, struct ml_err *e)
{
	/* Only retries: no new tree, no new checkpoint (the table
	 * ml_retry_prepare may have added is still committed). */
	int rc = b->added ? store_checkpoint(b, e) : ML_OK;

	if (rc == ML_OK)
		rc = ml_store_commit(b->l->s, e);
	else
		ml_store_rollback(b->l->s);
	if (rc == ML_OK) {
		/* kept for the next batch of this handle (rules_take) */
		ml_rules_state_free(&b->l->rules);
		b->l->rules = b->rules;
		b->l->rules_size = b->next;
		memcpy(b->l->rules_last, b->last, ML_SHA256_LEN);
		b->l->rules_valid = 1;
	} else {
		ml_rules_state_free(&b->rules);
	}
	free(b);
	return rc;
}

void
ml_batch_abort(struct ml_batch *b)
{
	if (!b)
		return;
	ml_store_rollback(b->l->s);
	ml_rules_state_free(&b->rules);
	free(b);
}

bool
ml_batch_refusal(int rc)
{
	return rc == ML_EINPUT || rc == ML_EKEY || rc == ML_ECONFLICT;
}

uint64_t
ml_batch_size(const struct ml_batch *b)
{
	return b->next;
}

/* What ml_batch_try restores after a refusal.  The governance document is
 * not copied: ml_rules_apply replaces it only after every check passed,
 * when nothing but a storage error can follow. */
struct batch_mark {
	uint64_t next, added;
	uint8_t last[ML_SHA256_LEN];
	int64_t last_time;
	struct ml_merkle_edge edge;
	struct ml_governance *gov;
	int64_t gov_seq, last_correction;
	int governed, format;
	char origin[sizeof ((struct ml_rules_state *)0)->origin];
};

static void
batch_mark(const struct ml_batch *b, struct batch_mark *m)
{
	m->next = b->next;
	m->added = b->added;
	memcpy(m->last, b->last, ML_SHA256_LEN);
	m->last_time = b->last_time;
	m->edge = b->edge;
	m->gov = b->rules.gov;
	m->gov_seq = b->rules.gov_seq;
	m->last_correction = b->rules.last_correction;
	m->governed = b->rules.governed;
	m->format = b->rules.format;
	memcpy(m->origin, b->rules.origin, sizeof m->origin);
}

static void
batch_restore(struct ml_batch *b, const struct batch_mark *m)
{
	b->next = m->next;
	b->added = m->added;
	memcpy(b->last, m->last, ML_SHA256_LEN);
	b->last_time = m->last_time;
	b->edge = m->edge;
	b->rules.gov_seq = m->gov_seq;
	b->rules.last_correction = m->last_correction;
	b->rules.governed = m->governed;
	b->rules.format = m->format;
	memcpy(b->rules.origin, m->origin, sizeof m->origin);
}

int
ml_batch_try(struct ml_batch *b, const struct ml_append_item *item,
	     struct ml_appended *out, struct ml_err *e)
{
	struct batch_mark *m = malloc(sizeof *m);
	struct ml_err e2;
	int rc;

	if (!m)
		return ml_err_set(e, ML_EIO, "out of memory");
	batch_mark(b, m);
	if ((rc = ml_store_savepoint(b->l->s, e))) {
		free(m);
		return rc;
	}
	rc = ml_batch_add(b, item, out, e);
	if (rc == ML_OK) {
		rc = ml_store_savepoint_release(b->l->s, e);
	} else if (ml_batch_refusal(rc)) {
		if (b->rules.gov != m->gov) {
			snprintf(e2.msg, sizeof e2.msg, "%s", e->msg);
			rc = ml_err_set(e, ML_EIO, "refused after the governance changed: %s",
					e2.msg);
		}
		else if (ml_store_savepoint_undo(b->l->s, &e2))
			rc = ml_err_set(e, ML_EIO, "%s", e2.msg);
		else
			batch_restore(b, m);
	}
	free(m);
	return rc;
}

int
ml_ledger_append(struct ml_ledger *l, const struct ml_append_item *items, size_t n,
		 struct ml_appended *out, struct ml_err *e)
{
	struct ml_batch *b;
	size_t i;
	int rc;

	if (e)
		e->seq = e->index = -1;
	if ((rc = ml_batch_begin(l, &b, e)))
		return rc;
	for (i = 0; i < n; i++) {
		if ((rc = ml_batch_add(b, &items[i], &out[i], e))) {
			e->index = (long long)i;
			ml_batch_abort(b);
			return rc;
		}
	}
	return ml_batch_commit(b, e);
}

int
ml_ledger_check(struct ml_ledger *l, const struct ml_append_item *item, struct ml_err *e)
{
	return ml_ledger_check_partial(l, item, NULL, e);
}

int
ml_ledger_check_held(struct ml_ledger *l, const struct ml_append_item *item, int64_t *held,
		     struct ml_err *e)
{
	char keyid[ML_KEYID_MAX];
	int64_t seq = -1;
	int found = 0, rc;

	*held = -1;
	if (item->statement && item->signed_by) {
		ml_pubkey_keyid(item->signed_by, keyid);
		if ((rc = ml_store_begin(l->s, 0, e)))
			return rc;
		rc = ml_store_index_find(l->s, ML_DB_MAIN, keyid, item->statement->source_sha256,
					 &seq, &found, e);
		ml_store_rollback(l->s);
		if (rc)
			return rc;
		if (found) {
			*held = seq;
			return ML_OK;
		}
	}
	return ml_ledger_check(l, item, e);
}

int
ml_ledger_check_partial(struct ml_ledger *l, const struct ml_append_item *item,
			char note[384], struct ml_err *e)
{
	struct ml_rules_state r = {0};
	struct ml_checked c;
	uint8_t last[ML_SHA256_LEN];
	uint64_t size;
	int64_t last_time, now = ml_now_us();
	int rc;

	if ((rc = ml_store_begin(l->s, 0, e)))
		return rc;
	if (note)
		note[0] = '\0';
	if ((rc = ml_store_head(l->s, &size, last, &last_time, e)) ||
	    (rc = ml_rules_state_load(&r, l->s, e)))
		goto out;
	r.dual_short = note; /* rule 13 a note, not an error, when given */
	if ((rc = ml_rules_check(l->s, ML_DB_MAIN, &r, size, now > last_time ? now : last_time,
				 item->envelope, item->len, 1, item->statement, &c, e)) == ML_OK)
		ml_checked_free(&c);
out:
	ml_rules_state_free(&r);
	ml_store_rollback(l->s);
	return rc;
}

int
ml_ledger_subject(struct ml_ledger *l, const char *kind, const char *ref,
		  uint8_t digest[ML_SHA256_LEN], int64_t *seq, struct ml_err *e)
{
	int found, rc;

	rc = ml_store_subject_get(l->s, ML_DB_MAIN, kind, ref, digest, seq, &found, e);
	if (rc)
		return rc;
	if (!found)
		return ml_err_set(e, ML_EINPUT, "unknown %s %s (record it first)", kind, ref);
	return ML_OK;
}

/* ---- replicas ------------------------------------------------------------ */

int
ml_ledger_create_replica(const char *path, const char *origin, const char *logkey,
			 struct ml_err *e)
{
	struct ml_store *s = NULL;
	struct ml_pubkey k;
	int rc;

	if (!origin_valid(origin))
		return ml_err_set(e, ML_EINTEGRITY, "the log's origin \"%.130s\" is not one a "
				  "ledger can have", origin);
	if ((rc = ml_pubkey_parse(logkey, strlen(logkey), &k, e)))
		return rc;
	if ((rc = mkdir_parent(path, e)) || (rc = ml_store_create(path, &s, e)))
		return rc;
	if ((rc = ml_store_begin(s, 1, e)) ||
	    (rc = ml_store_meta_set(s, "format", "2", e)) ||
	    (rc = ml_store_meta_set(s, "origin", origin, e)) ||
	    (rc = ml_store_meta_set(s, "log_key", logkey, e)) ||
	    (rc = ml_store_commit(s, e))) {
		ml_store_close(s);
		ml_store_unlink(path);
		return rc;
	}
	ml_store_close(s);
	return ML_OK;
}

struct ml_replica {
	struct ml_ledger *l;
	uint64_t next;
	uint8_t last[ML_SHA256_LEN];
	int64_t last_time;
	struct ml_merkle_edge edge;
	struct ml_rules_state rules;
	struct ml_err *e;       /* for replica_node, the edge's callback */
	int genesis_format;     /* the format the genesis copied here declares; 0: none */
	/* sizes of past checkpoints that gate decisions copied name, for
	 * ml_replica_wanted; at most one per entry copied */
	uint64_t *want;
	size_t nwant, capwant;
};

/* Notes that a gate decision copied (c, entry seq) names the checkpoint of
 * its ledger.size: replaying it needs that note (FORMAT.md §2 "Gate
 * decisions").  Decisions that are not replayable, of another origin or
 * beyond the copy name none it needs or can check. */
static int
replica_want(struct ml_replica *r, const struct ml_checked *c, struct ml_err *e)
{
	json_t *led = json_object_get(c->st.predicate, "ledger");
	const char *o = json_string_value(json_object_get(led, "origin"));
	json_int_t n = json_integer_value(json_object_get(led, "size"));
	uint64_t *w;

	if (!ml_gate_replayable_shape(c->st.predicate) || !o || strcmp(o, r->l->origin) != 0 ||
	    n < 1 || (uint64_t)n > c->seq)
		return ML_OK;
	if (r->nwant && r->want[r->nwant - 1] == (uint64_t)n)
		return ML_OK;
	if (r->nwant == r->capwant) {
		size_t cap = r->capwant ? r->capwant * 2 : 16;
		if (!(w = realloc(r->want, cap * sizeof *w)))
			return ml_err_set(e, ML_EIO, "out of memory");
		r->want = w;
		r->capwant = cap;
	}
	r->want[r->nwant++] = (uint64_t)n;
	return ML_OK;
}

static int
replica_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[ML_SHA256_LEN])
{
	struct ml_replica *r = ctx;

	return ml_store_node_put(r->l->s, level, index, hash, r->e);
}

int
ml_replica_begin(struct ml_ledger *l, struct ml_replica **out, struct ml_err *e)
{
	struct ml_replica *r = calloc(1, sizeof *r);
	int rc;

	if (!r)
		return ml_err_set(e, ML_EIO, "out of memory");
	r->l = l;
	if ((rc = ml_store_begin(l->s, 1, e))) {
		free(r);
		return rc;
	}
	if ((rc = ml_store_head(l->s, &r->next, r->last, &r->last_time, e)) ||
	    (rc = load_edge(l->s, r->next, &r->edge, e)) ||
	    (rc = ml_rules_state_load(&r->rules, l->s, e))) {
		ml_replica_abort(r);
		return rc;
	}
	*out = r;
	return ML_OK;
}

uint64_t
ml_replica_next(const struct ml_replica *r)
{
	return r->next;
}

static int
replica_bad(struct ml_err *e, uint64_t seq, const char *what)
{
	ml_err_set(e, ML_EINTEGRITY, "%s", what); /* the CLI prints "entry N: " */
	e->seq = (long long)seq;
	return ML_EINTEGRITY;
}

/* The genesis copied must name this replica's origin and log key. */
static int
replica_genesis(struct ml_replica *r, const struct ml_checked *c, struct ml_err *e)
{
	const char *o = json_string_value(json_object_get(c->st.predicate, "origin"));
	const char *k = json_string_value(json_object_get(c->st.predicate, "logKey"));

	if (!o || !k || strcmp(o, r->l->origin) != 0 || strcmp(k, r->l->logkey) != 0)
		return replica_bad(e, c->seq, "the genesis names another origin or log key than "
				   "the pinned one");
	r->genesis_format = (int)json_integer_value(json_object_get(c->st.predicate, "format"));
	return ML_OK;
}

/* Checks en, an entry written elsewhere, as the entry after (next, last,
 * last_time) of the ledger whose rules state is rules: seq, prev link,
 * size, every rule with every signature, non-decreasing time.  On ML_OK
 * c holds the check (the caller frees it). */
static int
copied_check(struct ml_ledger *l, const struct ml_rules_state *rules, uint64_t next,
	     const uint8_t last[ML_SHA256_LEN], int64_t last_time, const struct ml_entry *en,
	     struct ml_checked *c, struct ml_err *e)
{
	int rc;

	if (en->seq != next)
		return replica_bad(e, en->seq, "not the next entry of the copy");
	if (memcmp(en->prev, last, ML_SHA256_LEN) != 0)
		return replica_bad(e, en->seq, "broken link: prev is not the leaf hash of the "
				   "entry before");
	if (en->envelope_len > ML_MAX_ENVELOPE)
		return replica_bad(e, en->seq, "envelope too large");
	rc = ml_rules_check(l->s, ML_DB_MAIN, rules, en->seq, en->time_us, en->envelope,
			    en->envelope_len, 1, NULL, c, e);
	if (rc == ML_EIO)
		return rc;
	if (rc) {
		char why[sizeof e->msg];
		snprintf(why, sizeof why, "%.360s", e->msg);
		ml_err_set(e, ML_EINTEGRITY, "invalid entry: %s", why);
		e->seq = (long long)en->seq;
		return ML_EINTEGRITY;
	}
	/* ml_rules_check verified the signature and every countersignature */
	if (c->st.kind != ML_KIND_CLOCK_CORRECTION && en->time_us < last_time) {
		ml_checked_free(c);
		return replica_bad(e, en->seq, "append time goes backwards");
	}
	return ML_OK;
}

/* Writes a checked copied entry and what it implies; leaf receives its
 * leaf hash. */
static int
copied_write(struct ml_ledger *l, struct ml_rules_state *rules, const struct ml_checked *c,
	     const struct ml_entry *en, uint8_t leaf[ML_SHA256_LEN], struct ml_err *e)
{
	int rc;

	ml_leaf_hash(en, leaf);
	if ((rc = ml_store_entry_insert(l->s, en, leaf, e)) == ML_OK)
		rc = ml_rules_apply(l->s, ML_DB_MAIN, rules, c, e);
	return rc;
}

int
ml_replica_add(struct ml_replica *r, const struct ml_entry *en, uint8_t leaf[ML_SHA256_LEN],
	       struct ml_err *e)
{
	struct ml_checked c;
	int rc;

	if ((rc = copied_check(r->l, &r->rules, r->next, r->last, r->last_time, en, &c, e)))
		return rc;
	if (c.st.kind == ML_KIND_GENESIS)
		rc = replica_genesis(r, &c, e);
	else if (c.st.kind == ML_KIND_GATE)
		rc = replica_want(r, &c, e);
	if (rc == ML_OK)
		rc = copied_write(r->l, &r->rules, &c, en, leaf, e);
	ml_checked_free(&c);
	if (rc)
		return rc;
	r->e = e;
	if ((rc = ml_merkle_edge_add(&r->edge, leaf, replica_node, r)))
		return rc;
	memcpy(r->last, leaf, ML_SHA256_LEN);
	r->last_time = en->time_us;
	r->next++;
	return ML_OK;
}

int
ml_batch_adopt(struct ml_batch *b, const struct ml_entry *en, uint8_t leaf[ML_SHA256_LEN],
	       struct ml_err *e)
{
	struct ml_checked c;
	int rc;

	if ((rc = copied_check(b->l, &b->rules, b->next, b->last, b->last_time, en, &c, e)))
		return rc;
	/* a genesis is copied only into a new replica (ml_replica_add) */
	if (c.st.kind == ML_KIND_GENESIS)
		rc = replica_bad(e, en->seq, "a second genesis");
	else
		rc = copied_write(b->l, &b->rules, &c, en, leaf, e);
	ml_checked_free(&c);
	if (rc)
		return rc;
	b->e = e;
	if ((rc = ml_merkle_edge_add(&b->edge, leaf, store_node, b)))
		return rc;
	memcpy(b->last, leaf, ML_SHA256_LEN);
	b->last_time = en->time_us;
	b->next++;
	b->added++;
	return ML_OK;
}

/* note is a checkpoint of the replica's log, of size and root. */
static int
replica_note_ok(struct ml_replica *r, const char *note, size_t len, uint64_t size,
		const uint8_t root[ML_SHA256_LEN], struct ml_err *e)
{
	struct ml_checkpoint cp;
	struct ml_pubkey k;
	int rc;

	if ((rc = ml_pubkey_parse(r->l->logkey, strlen(r->l->logkey), &k, e)))
		return rc;
	/* Checks the origin is the log key's name, and the signature. */
	if ((rc = ml_checkpoint_open(&k, note, len, &cp, e))) {
		e->code = ML_EINTEGRITY;
		return ML_EINTEGRITY;
	}
	if (strcmp(cp.origin, r->l->origin) != 0 || cp.size != size ||
	    memcmp(cp.root, root, ML_SHA256_LEN) != 0) {
		char want[ML_SHA256_LEN * 2 + 1], got[ML_SHA256_LEN * 2 + 1];
		ml_hex_encode(cp.root, ML_SHA256_LEN, want);
		ml_hex_encode(root, ML_SHA256_LEN, got);
		return ml_err_set(e, ML_EINTEGRITY, "the checkpoint (size %llu, root %.16s...) is "
				  "not the tree of the entries copied (size %llu, root %.16s...)",
				  (unsigned long long)cp.size, want, (unsigned long long)size,
				  got);
	}
	return ML_OK;
}

/* Stores note as the checkpoint of size unless one of that size is. */
static int
replica_note_put(struct ml_replica *r, uint64_t size, const char *note, struct ml_err *e)
{
	char *held = NULL;
	uint64_t got;
	int rc;

	rc = ml_store_checkpoint_get(r->l->s, (int64_t)size, &got, &held, e);
	free(held);
	if (rc == ML_EINPUT)
		rc = ml_store_checkpoint_put(r->l->s, size, note, e);
	return rc;
}

int
ml_replica_wanted(struct ml_replica *r, uint64_t *size, struct ml_err *e)
{
	char *held;
	uint64_t got;
	int rc;

	*size = 0;
	while (r->nwant) {
		uint64_t n = r->want[--r->nwant];
		held = NULL;
		rc = ml_store_checkpoint_get(r->l->s, (int64_t)n, &got, &held, e);
		free(held);
		if (rc == ML_EINPUT) {
			*size = n;
			return ML_OK;
		}
		if (rc)
			return rc;
	}
	return ML_OK;
}

int
ml_replica_checkpoint(struct ml_replica *r, uint64_t size, const char *note, size_t len,
		      struct ml_err *e)
{
	struct ml_store_nodes ctx = {r->l->s, e};
	uint8_t root[ML_SHA256_LEN];
	int rc;

	if (size < 1 || size > r->next)
		return ml_err_set(e, ML_EINTEGRITY, "a checkpoint of size %llu, beyond the %llu "
				  "entries copied", (unsigned long long)size,
				  (unsigned long long)r->next);
	if (ml_merkle_root(ml_store_node_read, &ctx, size, root) != 0)
		return e->code ? e->code : ML_EIO;
	if ((rc = replica_note_ok(r, note, len, size, root, e)))
		return rc;
	return replica_note_put(r, size, note, e);
}

int
ml_replica_commit(struct ml_replica *r, const char *note, size_t len, struct ml_err *e)
{
	uint8_t root[ML_SHA256_LEN];
	char fmt[4];
	int rc;

	ml_merkle_edge_root(&r->edge, root);
	if ((rc = replica_note_ok(r, note, len, r->next, root, e)))
		goto out;
	rc = replica_note_put(r, r->next, note, e);
	if (rc == ML_OK && r->genesis_format) {
		snprintf(fmt, sizeof fmt, "%d", r->genesis_format);
		rc = ml_store_meta_set(r->l->s, "format", fmt, e);
	}
	if (rc == ML_OK) {
		rc = ml_store_commit(r->l->s, e);
		r->l = NULL; /* committed: nothing to roll back */
	}
out:
	ml_replica_abort(r);
	return rc;
}

void
ml_replica_abort(struct ml_replica *r)
{
	if (!r)
		return;
	if (r->l)
		ml_store_rollback(r->l->s);
	ml_rules_state_free(&r->rules);
	free(r->want);
	free(r);
}

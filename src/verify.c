/* verify — see verify.h.
 *
 * The calling thread walks the entries in order (links, leaf hashes, rules
 * replay); signatures are queued in batches to worker threads.  The first
 * bad seq is the smallest seq either side found bad. */
#include "verify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "chain.h"
#include "jsonarena.h"
#include "merkle.h"
#include "note.h"
#include "note_checkpoint.h"
#include "rules.h"
#include "statement.h"

#define BATCH 256
#define MAX_INFLIGHT 16 /* batches queued or being checked */
#define TREE_ARENA (32 * 1024) /* more than one statement's tree takes */

/* An entry's envelope signature, or (text != NULL) a checkpoint's. */
struct sigjob {
	uint64_t seq;           /* entry seq, or checkpoint tree size */
	struct ml_pubkey key;
	struct ml_envelope env; /* entries: owns payload and countersignatures */
	struct ml_pubkey *co;   /* the countersigners' keys (env.nco), owned; NULL */
	char *text;             /* checkpoints: the signed note text, owned */
	size_t text_len;
	uint8_t sig[ML_SIG_LEN];
};

struct batch {
	struct sigjob jobs[BATCH];
	int n;
	struct batch *next;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work, room;
	struct batch *head, *tail;
	int inflight, done;
	int64_t bad_seq; /* smallest seq whose signature failed, or -1 */
	char bad_keyid[ML_KEYID_MAX];
	int64_t bad_ckpt; /* smallest checkpoint size whose signature failed */
};

static void
batch_free(struct batch *b)
{
	int i;

	for (i = 0; i < b->n; i++) {
		ml_envelope_clear(&b->jobs[i].env);
		free(b->jobs[i].co);
		free(b->jobs[i].text);
	}
	free(b);
}

static void *
worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct batch *b;
		int i;

		pthread_mutex_lock(&p->mu);
		while (!p->head && !p->done)
			pthread_cond_wait(&p->work, &p->mu);
		if (!p->head) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		b = p->head;
		p->head = b->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		for (i = 0; i < b->n; i++) {
			struct sigjob *j = &b->jobs[i];
			if (j->text) {
				if (!ml_pubkey_verify(&j->key, (const uint8_t *)j->text,
						      j->text_len, j->sig)) {
					pthread_mutex_lock(&p->mu);
					if (p->bad_ckpt < 0 || (int64_t)j->seq < p->bad_ckpt)
						p->bad_ckpt = (int64_t)j->seq;
					pthread_mutex_unlock(&p->mu);
				}
				continue;
			}
			/* one signature (the common case) as before; else every one */
			const char *badk = j->env.keyid;
			if (j->env.nco ? !ml_envelope_verify_all(&j->env, &j->key, j->co, &badk)
				       : !ml_envelope_verify(&j->env, &j->key)) {
				pthread_mutex_lock(&p->mu);
				if (p->bad_seq < 0 || (int64_t)j->seq < p->bad_seq) {
					p->bad_seq = (int64_t)j->seq;
					memcpy(p->bad_keyid, badk, ML_KEYID_MAX);
				}
				pthread_mutex_unlock(&p->mu);
				break; /* later jobs of this batch cannot be first */
			}
		}
		batch_free(b);
		pthread_mutex_lock(&p->mu);
		p->inflight--;
		pthread_cond_signal(&p->room);
		pthread_mutex_unlock(&p->mu);
	}
}

static void
pool_submit(struct pool *p, struct batch *b)
{
	pthread_mutex_lock(&p->mu);
	while (p->inflight >= MAX_INFLIGHT)
		pthread_cond_wait(&p->room, &p->mu);
	p->inflight++;
	b->next = NULL;
	if (p->tail)
		p->tail->next = b;
	else
		p->head = b;
	p->tail = b;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

struct walk {
	struct ml_ledger *l;
	struct pool *pool;
	struct batch *cur;
	struct ml_merkle_edge edge;  /* the tree recomputed from the leaves */
	struct ml_store_node_reader *nodes; /* the stored tree, level by level */
	uint64_t *ckpt_sizes;        /* stored checkpoint sizes, ascending */
	uint8_t (*ckpt_roots)[ML_SHA256_LEN]; /* the roots at those sizes */
	size_t nckpt, ckpt_cap, next_ckpt;
	struct ml_pubkey logkey;
	uint64_t expect;
	uint8_t prev[ML_SHA256_LEN];
	int64_t prev_time;
	struct ml_rules_state rules;  /* the replay's governance in force */
	struct ml_arena *trees;       /* the entry's statement tree (jsonarena.h) */
	uint64_t total;
	const struct ml_verify_opts *opts;
	struct ml_verify_result *res;
	struct ml_err *e;
};

/* Records an integrity failure at seq and stops the walk. */
static int
bad(struct walk *w, uint64_t seq, const char *what, const char *why)
{
	char head[sizeof w->e->msg], reason[sizeof w->e->msg];

	/* what or why may be w->e->msg itself. */
	snprintf(head, sizeof head, "%s", what);
	snprintf(reason, sizeof reason, "%s", why ? why : "");
	ml_err_set(w->e, ML_EINTEGRITY, "%s%s%s", head, why ? ": " : "", reason);
	w->e->seq = (long long)seq;
	return ML_EINTEGRITY;
}

static int
index_matches(const struct ml_index_row *want, const struct ml_index_row *have)
{
	return strcmp(want->kind, have->kind) == 0 && strcmp(want->name, have->name) == 0 &&
	       strcmp(want->version, have->version) == 0 &&
	       strcmp(want->keyid, have->keyid) == 0 &&
	       memcmp(want->stmt_hash, have->stmt_hash, ML_SHA256_LEN) == 0;
}

static struct sigjob *
next_job(struct walk *w)
{
	if (!w->cur && !(w->cur = calloc(1, sizeof *w->cur))) {
		ml_err_set(w->e, ML_EIO, "out of memory");
		return NULL;
	}
	return &w->cur->jobs[w->cur->n++];
}

static void
job_done(struct walk *w)
{
	if (w->cur->n == BATCH) {
		pool_submit(w->pool, w->cur);
		w->cur = NULL;
	}
}

/* Each complete subtree the recomputed tree forms must be the stored one.
 * They form at each level in index order 0, 1, 2, ..., so each level's
 * stored rows are read in order beside them: the next row must be this
 * node.  A row of a smaller index is one the tree does not have; a larger
 * one, or none, means this node is missing; extra rows past the last node
 * are caught by the count (check_tree_and_checkpoints). */
static int
check_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[ML_SHA256_LEN])
{
	struct walk *w = ctx;
	uint8_t have[ML_SHA256_LEN];
	int64_t idx = 0;
	int has = 0, rc;
	char what[128];

	rc = ml_store_node_next(w->nodes, level, &has, &idx, have, w->e);
	if (rc == ML_EIO)
		return rc;
	if (rc == ML_OK && has && (uint64_t)idx == index && idx >= 0 &&
	    memcmp(have, hash, ML_SHA256_LEN) == 0)
		return ML_OK;
	if (rc)
		snprintf(what, sizeof what, "tree node (level %u, index %lld) is malformed "
			 "(not a 32-byte hash)", level, (long long)idx);
	else if (has && (idx < 0 || (uint64_t)idx < index))
		snprintf(what, sizeof what, "tree node (level %u, index %lld) is not a node of "
			 "the tree of the leaves", level, (long long)idx);
	else
		snprintf(what, sizeof what, "tree node (level %u, index %llu) %s", level,
			 (unsigned long long)index,
			 has && (uint64_t)idx == index ? "differs from the leaves" : "is missing");
	return bad(w, w->expect, what, NULL);
}

static int
queue_signature(struct walk *w, struct ml_checked *c)
{
	struct sigjob *j = next_job(w);

	if (!j)
		return ML_EIO;
	j->seq = c->seq;
	j->key = c->signer;
	j->co = NULL;
	if (c->env.nco) {
		if (!(j->co = malloc(c->env.nco * sizeof *j->co))) {
			w->cur->n--;
			return ml_err_set(w->e, ML_EIO, "out of memory");
		}
		memcpy(j->co, c->co, c->env.nco * sizeof *j->co);
	}
	j->env = c->env; /* moves the payload and countersignatures */
	memset(&c->env.payload, 0, sizeof c->env.payload);
	c->env.payload_len = 0;
	c->env.co = NULL;
	c->env.nco = 0;
	job_done(w);
	return ML_OK;
}

/* The entry's author time against its append time (timecheck.h), from
 * the statement the rules already parsed. */
static int
time_of(struct walk *w, const struct ml_entry *en, const struct ml_checked *c)
{
	const char *v = json_string_value(json_object_get(c->st.predicate,
			c->st.kind == ML_KIND_GATE ? "timeVerified" : "time"));
	int64_t author = 0;
	int has = v && ml_time_parse(v, &author) == 0;

	if (ml_timecheck_add(w->opts->timecheck, en->seq, ml_kind_name(c->st.kind), en->time_us,
			     has, author))
		return ml_err_set(w->e, ML_EIO, "out of memory");
	return ML_OK;
}

/* Frees c but its statement tree, which lives in w->trees: forgotten, not
 * decref'd, and dropped with the arena's next reset (jsonarena.h). */
static void
checked_drop(struct ml_checked *c)
{
	c->st.root = c->st.predicate = NULL;
	c->st.subject = NULL;
	ml_checked_free(c);
}

static int
visit(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
      const struct ml_index_row *ix, int has_ix)
{
	struct walk *w = ctx;
	struct ml_store *s = ml_ledger_store(w->l);
	uint8_t want[ML_SHA256_LEN];
	struct ml_jsonarena was;
	struct ml_checked c;
	int rc;

	if (en->seq != w->expect)
		return bad(w, w->expect, "entry missing", "the entries skip this seq");
	if (memcmp(en->prev, w->prev, ML_SHA256_LEN) != 0)
		return bad(w, en->seq, "broken link", "prev is not the leaf hash of the entry before");
	ml_leaf_hash(en, want);
	if (memcmp(want, leaf, ML_SHA256_LEN) != 0)
		return bad(w, en->seq, "leaf hash mismatch", "a stored field of this entry changed");
	/* The statement tree is built in w->trees, reset after each entry.
	 * Only the check runs with it in use: ml_rules_apply and time_of keep
	 * trees of their own (a governance document, timecheck's warnings),
	 * which must come from malloc. */
	ml_arena_reset(w->trees);
	was = ml_jsonarena_set(w->trees, 1);
	rc = ml_rules_check(s, ML_DB_REPLAY, &w->rules, en->seq, en->time_us, en->envelope,
			    en->envelope_len, 0, NULL, &c, w->e);
	ml_jsonarena_restore(was);
	if (rc == ML_EIO)
		return rc;
	if (rc)
		return bad(w, en->seq, "invalid entry", w->e->msg);
	/* a clock correction's own bounds are a rule (FORMAT.md §5 rule 1) */
	if (en->time_us < w->prev_time && c.st.kind != ML_KIND_CLOCK_CORRECTION) {
		checked_drop(&c);
		return bad(w, en->seq, "append time goes backwards", NULL);
	}
	if (!has_ix || !index_matches(&c.ix, ix)) {
		checked_drop(&c);
		return bad(w, en->seq, "entry_index row differs from the entry", NULL);
	}
	rc = ml_rules_apply(s, ML_DB_REPLAY, &w->rules, &c, w->e);
	if (rc == ML_OK && w->opts->timecheck)
		rc = time_of(w, en, &c);
	if (rc == ML_OK)
		rc = queue_signature(w, &c);
	if (c.st.kind == ML_KIND_KEY_ENROLLMENT)
		w->res->keys_enrolled++;
	else if (c.st.kind == ML_KIND_KEY_REVOCATION)
		w->res->keys_revoked++;
	checked_drop(&c);
	if (rc)
		return rc;
	memcpy(w->prev, leaf, ML_SHA256_LEN);
	w->prev_time = en->time_us;
	if ((rc = ml_merkle_edge_add(&w->edge, leaf, check_node, w)))
		return rc;
	w->expect++;
	while (w->next_ckpt < w->nckpt && w->ckpt_sizes[w->next_ckpt] == w->expect)
		ml_merkle_edge_root(&w->edge, w->ckpt_roots[w->next_ckpt++]);
	if (w->opts->progress && (w->expect & 4095) == 0)
		w->opts->progress(w->opts->ctx, w->expect, w->total);
	return ML_OK;
}

/* The meta table must say what the genesis entry says. */
static int
check_meta(struct walk *w)
{
	struct ml_store *s = ml_ledger_store(w->l);
	struct ml_statement st;
	struct ml_envelope env;
	struct ml_entry en;
	uint8_t *buf = NULL, leaf[ML_SHA256_LEN];
	char fmt[16];
	int rc, ok;

	int64_t nmeta;

	if ((rc = ml_store_meta_get(s, "format", fmt, sizeof fmt, w->e)))
		return rc == ML_EINTEGRITY ? bad(w, 0, w->e->msg, NULL) : rc;
	if ((rc = ml_store_meta_count(s, &nmeta, w->e)))
		return rc;
	if (nmeta != 3) {
		ml_err_set(w->e, ML_EINTEGRITY, "table meta holds %lld rows, not the 3 of the "
			   "format (format, origin, log_key)", (long long)nmeta);
		w->e->seq = -1;
		return ML_EINTEGRITY;
	}
	if ((rc = ml_store_entry_get(s, 0, &en, &buf, leaf, w->e)))
		return rc == ML_EINPUT ? bad(w, 0, "the genesis entry is missing", NULL) : rc;
	if (ml_envelope_parse(en.envelope, en.envelope_len, &env, NULL)) {
		free(buf);
		return ML_OK; /* the walk reports entry 0 */
	}
	rc = ml_statement_parse(env.payload, env.payload_len, &st, NULL);
	ml_envelope_clear(&env);
	free(buf);
	if (rc || st.kind != ML_KIND_GENESIS) {
		if (!rc)
			ml_statement_free(&st);
		return ML_OK;
	}
	ok = json_is_integer(json_object_get(st.predicate, "format")) &&
	     strtoll(fmt, NULL, 10) == json_integer_value(json_object_get(st.predicate, "format")) &&
	     strlen(fmt) == 1 &&
	     strcmp(ml_ledger_origin(w->l),
		    json_string_value(json_object_get(st.predicate, "origin"))) == 0 &&
	     strcmp(ml_ledger_logkey(w->l),
		    json_string_value(json_object_get(st.predicate, "logKey"))) == 0;
	ml_statement_free(&st);
	if (!ok) {
		ml_err_set(w->e, ML_EINTEGRITY, "table meta differs from the genesis entry "
			   "(format, origin or log key)");
		w->e->seq = -1;
		return ML_EINTEGRITY;
	}
	return ML_OK;
}

static int
collect_size(void *ctx, uint64_t size, const char *note, size_t len)
{
	struct walk *w = ctx;

	(void)note;
	(void)len;
	if (w->nckpt == w->ckpt_cap) {
		size_t cap = w->ckpt_cap ? w->ckpt_cap * 2 : 1024;
		uint64_t *s = realloc(w->ckpt_sizes, cap * sizeof *s);
		if (!s)
			return ml_err_set(w->e, ML_EIO, "out of memory");
		w->ckpt_sizes = s;
		w->ckpt_cap = cap;
	}
	w->ckpt_sizes[w->nckpt++] = size;
	return ML_OK;
}

static int
bad_checkpoint(struct walk *w, uint64_t size, const char *why)
{
	char reason[sizeof w->e->msg];

	snprintf(reason, sizeof reason, "%s", why);
	ml_err_set(w->e, ML_EINTEGRITY, "checkpoint of size %llu: %s", (unsigned long long)size,
		   reason);
	w->e->seq = -1;
	return ML_EINTEGRITY;
}

/* Each stored checkpoint must be a note of this log's origin, at its size,
 * with the recomputed root, signed by the log key (checked on the pool). */
static int
check_checkpoint(void *ctx, uint64_t size, const char *note, size_t len)
{
	struct walk *w = ctx;
	size_t i = w->next_ckpt++;
	struct ml_checkpoint c;
	struct ml_note n;
	struct sigjob *j;
	size_t k;

	if (i >= w->nckpt || w->ckpt_sizes[i] != size || size == 0 || size > w->expect)
		return bad_checkpoint(w, size, "no such tree size");
	if (ml_note_parse(note, len, &n, w->e))
		return bad_checkpoint(w, size, w->e->msg);
	if (ml_checkpoint_parse(n.text, n.text_len, &c, w->e)) {
		ml_note_clear(&n);
		return bad_checkpoint(w, size, w->e->msg);
	}
	if (strcmp(c.origin, ml_ledger_origin(w->l)) != 0 || c.size != size ||
	    memcmp(c.root, w->ckpt_roots[i], ML_SHA256_LEN) != 0) {
		ml_note_clear(&n);
		return bad_checkpoint(w, size, "origin, size or root differs from the ledger");
	}
	/* Stored exactly as the log writes it: three lines and its one
	 * signature (cosignatures belong to copies held outside). */
	if (c.next != 0 || n.nsigs != 1) {
		ml_note_clear(&n);
		return bad_checkpoint(w, size, "not in the form the log writes (extension lines "
				      "or more than one signature)");
	}
	/* The key hash covers the signature type, so a match is an Ed25519
	 * signature line of the log key. */
	for (k = 0; k < n.nsigs; k++)
		if (n.sigs[k].hash == w->logkey.hash && n.sigs[k].sig_len == ML_SIG_LEN &&
		    !strcmp(n.sigs[k].name, w->logkey.name))
			break;
	if (k == n.nsigs) {
		ml_note_clear(&n);
		return bad_checkpoint(w, size, "no signature by the log key");
	}
	if (!(j = next_job(w))) {
		ml_note_clear(&n);
		return ML_EIO;
	}
	j->seq = size;
	j->key = w->logkey;
	memcpy(j->sig, n.sigs[k].sig, ML_SIG_LEN);
	j->text_len = n.text_len;
	if ((j->text = malloc(n.text_len + 1)))
		memcpy(j->text, n.text, n.text_len);
	ml_note_clear(&n);
	if (!j->text)
		return ml_err_set(w->e, ML_EIO, "out of memory");
	job_done(w);
	return ML_OK;
}

/* After the entries: the stored tree has exactly the recomputed nodes, the
 * newest checkpoint is at the ledger's size, and every checkpoint holds. */
static int
check_tree_and_checkpoints(struct walk *w)
{
	struct ml_store *s = ml_ledger_store(w->l);
	int64_t nodes;
	uint64_t n = w->expect, pop = 0, x;
	int rc;

	for (x = n; x; x &= x - 1)
		pop++;
	if ((rc = ml_store_node_count(s, &nodes, w->e)))
		return rc;
	if ((uint64_t)nodes != n - pop) {
		ml_err_set(w->e, ML_EINTEGRITY, "table tree holds %lld nodes; a tree of %llu "
			   "leaves has %llu", (long long)nodes, (unsigned long long)n,
			   (unsigned long long)(n - pop));
		w->e->seq = -1;
		return ML_EINTEGRITY;
	}
	if (w->nckpt && w->ckpt_sizes[w->nckpt - 1] > n)
		return bad_checkpoint(w, w->ckpt_sizes[w->nckpt - 1], "beyond the ledger's "
				      "entries (truncated?)");
	if (w->nckpt == 0 || w->ckpt_sizes[w->nckpt - 1] != n)
		return bad_checkpoint(w, n, "missing: every append stores the checkpoint of "
				      "its tree");
	w->next_ckpt = 0;
	return ml_store_checkpoint_each(s, check_checkpoint, w, w->e);
}

static int
run_walk(struct walk *w)
{
	struct ml_store *s = ml_ledger_store(w->l);
	uint8_t last[ML_SHA256_LEN];
	int64_t t;
	int rc;

	if ((rc = ml_store_head(s, &w->total, last, &t, w->e)))
		return rc;
	if (w->total == 0)
		return bad(w, 0, "the ledger has no entries", NULL);
	if ((rc = ml_store_schema_check(s, w->e))) {
		w->e->seq = -1;
		return rc;
	}
	if ((rc = check_meta(w)))
		return rc;
	if (ml_pubkey_parse(ml_ledger_logkey(w->l), strlen(ml_ledger_logkey(w->l)), &w->logkey,
			    w->e)) {
		ml_err_set(w->e, ML_EINTEGRITY, "meta log_key is not a verifier key");
		w->e->seq = -1;
		return ML_EINTEGRITY;
	}
	if ((rc = ml_store_checkpoint_each(s, collect_size, w, w->e)))
		return rc;
	if (w->nckpt && !(w->ckpt_roots = malloc(w->nckpt * sizeof *w->ckpt_roots)))
		return ml_err_set(w->e, ML_EIO, "out of memory");
	ml_merkle_edge_init(&w->edge);
	if ((rc = ml_store_node_reader_open(s, &w->nodes, w->e)))
		return rc;
	rc = ml_store_scan(s, 0, visit, w, w->e);
	ml_store_node_reader_close(w->nodes);
	w->nodes = NULL;
	if (rc == ML_OK && w->expect != w->total)
		rc = bad(w, w->expect, "entry missing", "the entries end early");
	if (rc == ML_OK)
		rc = check_tree_and_checkpoints(w);
	/* Even after a fault: the queued signatures all precede it, and one of
	 * them may be the first fault. */
	if (w->cur) {
		pool_submit(w->pool, w->cur);
		w->cur = NULL;
	}
	if (rc == ML_OK && (rc = ml_store_replay_diff(s, w->e)) == ML_EINTEGRITY)
		w->e->seq = -1;
	return rc;
}

int
ml_verify(struct ml_ledger *l, const struct ml_verify_opts *opts,
	  struct ml_verify_result *res, struct ml_err *e)
{
	struct pool p;
	struct walk w;
	pthread_t th[64];
	int jobs = opts->jobs > 0 ? opts->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	int i, started = 0, rc;

	if (jobs < 1)
		jobs = 1;
	if (jobs > 64)
		jobs = 64;
	memset(res, 0, sizeof *res);
	memset(&p, 0, sizeof p);
	p.bad_seq = -1;
	p.bad_ckpt = -1;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.work, NULL);
	pthread_cond_init(&p.room, NULL);
	memset(&w, 0, sizeof w);
	w.l = l;
	w.pool = &p;
	w.opts = opts;
	w.res = res;
	w.e = e;
	if ((rc = ml_rules_state_init(&w.rules, e)))
		goto out;
	if (!(w.trees = ml_arena_new(TREE_ARENA))) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	for (i = 0; i < jobs; i++)
		if (pthread_create(&th[started], NULL, worker, &p) == 0)
			started++;
	if (!started) {
		rc = ml_err_set(e, ML_EIO, "cannot start threads");
		goto out;
	}
	/* ATTACH and its pragmas cannot run inside the read transaction. */
	if ((rc = ml_store_replay_attach(ml_ledger_store(l), e)) == ML_OK &&
	    (rc = ml_store_begin(ml_ledger_store(l), 0, e)) == ML_OK) {
		rc = run_walk(&w);
		ml_store_rollback(ml_ledger_store(l));
	}
	if (w.cur)
		batch_free(w.cur);
	pthread_mutex_lock(&p.mu);
	p.done = 1;
	pthread_cond_broadcast(&p.work);
	pthread_mutex_unlock(&p.mu);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	/* A bad signature earlier than any other fault is the first fault. */
	if (p.bad_seq >= 0 && (rc == ML_OK || (rc == ML_EINTEGRITY &&
					       (e->seq < 0 || p.bad_seq < e->seq)))) {
		rc = ml_err_set(e, ML_EINTEGRITY, "bad signature: the signature by %s does "
				"not verify", p.bad_keyid);
		e->seq = p.bad_seq;
	}
	if (rc == ML_OK && p.bad_ckpt >= 0) {
		rc = ml_err_set(e, ML_EINTEGRITY, "checkpoint of size %lld: the log key's "
				"signature does not verify", (long long)p.bad_ckpt);
		e->seq = -1;
	}
	free(w.ckpt_sizes);
	free(w.ckpt_roots);
	if (rc == ML_OK) {
		res->entries = w.expect;
		res->checkpoints = w.nckpt;
		memcpy(res->head, w.prev, ML_SHA256_LEN);
		if (opts->progress)
			opts->progress(opts->ctx, w.expect, w.total);
	}
out:
	ml_rules_state_free(&w.rules);
	ml_arena_free(w.trees);
	while (p.head) {
		struct batch *b = p.head;
		p.head = b->next;
		batch_free(b);
	}
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.work);
	pthread_cond_destroy(&p.room);
	return rc;
}
